//! Row decoding shared by the SQL backends: the admin-state tables have the same columns in
//! SQLite and PostgreSQL, so one generic decoder per record serves both.

use super::*;
use sqlx::{ColumnIndex, Decode, Row, Type};

/// A column's value; a missing or undecodable column means the stored data is not as written.
fn get<'r, R, T>(r: &'r R, column: &'r str) -> StoreResult<T>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    r.try_get(column)
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// A count or size column (never negative when igd wrote it).
fn count<'r, R>(r: &'r R, column: &'r str) -> StoreResult<u64>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let v: i64 = get(r, column)?;
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{column} is negative")))
}

macro_rules! decoder {
    ($(#[$doc:meta])* $name:ident -> $out:ty, |$r:ident| $body:expr) => {
        $(#[$doc])*
        pub(crate) fn $name<'r, R>($r: &'r R) -> StoreResult<$out>
        where
            R: Row,
            &'r str: ColumnIndex<R>,
            String: Decode<'r, R::Database> + Type<R::Database>,
            i64: Decode<'r, R::Database> + Type<R::Database>,
        {
            $body
        }
    };
}

decoder!(
    /// `tokens` (jti, tenant, subject, tools, max_calls, issued_at, expires_at, minted_by).
    token_of -> TokenRecord, |r| {
        let tools: String = get(r, "tools")?;
        Ok(TokenRecord {
            jti: get(r, "jti")?,
            tenant: get(r, "tenant")?,
            subject: get(r, "subject")?,
            tools: serde_json::from_str(&tools)
                .map_err(|e| StoreError::Corrupt(format!("tokens.tools: {e}")))?,
            max_calls: count(r, "max_calls")?,
            issued_at: get(r, "issued_at")?,
            expires_at: get(r, "expires_at")?,
            minted_by: get(r, "minted_by")?,
        })
    }
);

decoder!(
    /// `revocations`, every column.
    revocation_of -> RevocationRecord, |r| {
        Ok(RevocationRecord {
            tenant: get(r, "tenant")?,
            jti: get(r, "jti")?,
            reason: get(r, "reason")?,
            revoked_at: get(r, "revoked_at")?,
            revoked_by: get(r, "revoked_by")?,
            prune_after: get(r, "prune_after")?,
        })
    }
);

decoder!(
    /// `stops`, every column (subject `''` is the whole tenant).
    stop_of -> StopRecord, |r| {
        let subject: String = get(r, "subject")?;
        Ok(StopRecord {
            tenant: get(r, "tenant")?,
            subject: (!subject.is_empty()).then_some(subject),
            reason: get(r, "reason")?,
            created_at: get(r, "created_at")?,
            created_by: get(r, "created_by")?,
        })
    }
);

decoder!(
    /// `checkpoints`, every column.
    checkpoint_of -> CheckpointRecord, |r| {
        Ok(CheckpointRecord {
            tenant: get(r, "tenant")?,
            size: count(r, "size")?,
            hash: get(r, "hash")?,
            note: get(r, "note")?,
            created_at: get(r, "created_at")?,
        })
    }
);

decoder!(
    /// One agent's summary: tenant, subject, first_seen, last_seen, decisions, allowed, refused.
    agent_of -> AgentActivity, |r| {
        Ok(AgentActivity {
            tenant: get(r, "tenant")?,
            subject: get(r, "subject")?,
            first_seen: get(r, "first_seen")?,
            last_seen: get(r, "last_seen")?,
            decisions: count(r, "decisions")?,
            allowed: count(r, "allowed")?,
            refused: count(r, "refused")?,
        })
    }
);

decoder!(
    /// `budget_usage` (tenant, root_jti, jti, used).
    usage_of -> (BudgetCharge, u64), |r| {
        Ok((
            BudgetCharge {
                tenant: get(r, "tenant")?,
                root_jti: get(r, "root_jti")?,
                jti: get(r, "jti")?,
            },
            count(r, "used")?,
        ))
    }
);

decoder!(
    /// `call_counts` (tenant, subject, tool, hour, calls).
    call_count_of -> (CallCount, u64), |r| {
        Ok((
            CallCount {
                tenant: get(r, "tenant")?,
                subject: get(r, "subject")?,
                tool: get(r, "tool")?,
                hour: get(r, "hour")?,
            },
            count(r, "calls")?,
        ))
    }
);

decoder!(
    /// `policy_drafts`, every column.
    policy_draft_of -> PolicyDraftRecord, |r| {
        let tests: String = get(r, "tests")?;
        Ok(PolicyDraftRecord {
            id: get(r, "id")?,
            name: get(r, "name")?,
            source: get(r, "source")?,
            tests: serde_json::from_str(&tests)
                .map_err(|e| StoreError::Corrupt(format!("policy_drafts.tests: {e}")))?,
            revision: get(r, "revision")?,
            author: get(r, "author")?,
            created_at: get(r, "created_at")?,
        })
    }
);

decoder!(
    /// `policy_history`, every column.
    policy_history_of -> PolicyHistoryRecord, |r| {
        Ok(PolicyHistoryRecord {
            seq: get(r, "seq")?,
            action: get(r, "action")?,
            draft_id: get(r, "draft_id")?,
            name: get(r, "name")?,
            revision: get(r, "revision")?,
            source: get(r, "source")?,
            prev_seq: get(r, "prev_seq")?,
            actor: get(r, "actor")?,
            at: get(r, "at")?,
        })
    }
);

/// A boolean column (`INTEGER` 0/1 in SQLite, `BOOLEAN` in PostgreSQL).
fn flag<'r, R>(r: &'r R, column: &'r str) -> StoreResult<bool>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    get(r, column)
}

/// `approvals`, every column.
pub(crate) fn approval_of<'r, R>(r: &'r R) -> StoreResult<ApprovalRecord>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(ApprovalRecord {
        id: get(r, "id")?,
        tenant: get(r, "tenant")?,
        subject: get(r, "subject")?,
        delegated_subject: get(r, "delegated_subject")?,
        root_jti: get(r, "root_jti")?,
        leaf_jti: get(r, "leaf_jti")?,
        tool: get(r, "tool")?,
        args_hash: get(r, "args_hash")?,
        args: get(r, "args")?,
        intent: get(r, "intent")?,
        reason: get(r, "reason")?,
        requires_step_up: flag(r, "requires_step_up")?,
        decision_event: get(r, "decision_event")?,
        decision_seq: get(r, "decision_seq")?,
        created_at: get(r, "created_at")?,
        expires_at: get(r, "expires_at")?,
        status: get(r, "status")?,
        decided_by: get(r, "decided_by")?,
        decided_at: get(r, "decided_at")?,
        note: get(r, "note")?,
    })
}

decoder!(
    /// `operators`, every column.
    operator_of -> OperatorRecord, |r| {
        let uid: Option<i64> = get(r, "uid")?;
        Ok(OperatorRecord {
            name: get(r, "name")?,
            role: get(r, "role")?,
            tenant: get(r, "tenant")?,
            uid: uid
                .map(|u| u32::try_from(u).map_err(|_| StoreError::Corrupt(format!("operators.uid {u}"))))
                .transpose()?,
            cert_subject: get(r, "cert_subject")?,
            token_hash: get(r, "token_hash")?,
            created_at: get(r, "created_at")?,
            created_by: get(r, "created_by")?,
        })
    }
);

/// `totp`, every column, with the identity's unused recovery code hashes.
pub(crate) fn totp_of<'r, R>(r: &'r R, recovery_hashes: Vec<String>) -> StoreResult<TotpRecord>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(TotpRecord {
        identity: get(r, "identity")?,
        secret_sealed: get(r, "secret_sealed")?,
        confirmed: flag(r, "confirmed")?,
        recovery_hashes,
        created_at: get(r, "created_at")?,
    })
}

decoder!(
    /// `elevations`, every column.
    elevation_of -> ElevationRecord, |r| {
        Ok(ElevationRecord {
            id: get(r, "id")?,
            identity: get(r, "identity")?,
            reason: get(r, "reason")?,
            duration_secs: get(r, "duration_secs")?,
            requested_at: get(r, "requested_at")?,
            status: get(r, "status")?,
            approved_by: get(r, "approved_by")?,
            approved_at: get(r, "approved_at")?,
            expires_at: get(r, "expires_at")?,
        })
    }
);

/// The row cap of an approval listing: 0 means the default, 1000; never more than 10 000.
pub(crate) fn approval_limit(limit: u32) -> i64 {
    match limit {
        0 => 1000,
        n => i64::from(n.min(10_000)),
    }
}

/// How far back (in time steps) used TOTP steps are kept: a day of 30-second steps, far beyond
/// any acceptance window.
pub(crate) const TOTP_STEPS_KEPT: i64 = 2880;

/// How long (µs) failed step-ups are kept.
pub(crate) const TOTP_FAILURES_KEPT_US: i64 = 86_400_000_000;
