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
