//! The approvals queue (DESIGN §4 approval): escalated calls wait here for a person.
//!
//! A row is bound to (tenant, root jti, leaf jti, tool, args hash). The pipeline opens one (or
//! re-attaches to the live one of the same binding) and waits; an operator approves or rejects
//! it through the admin API; a sweep times out what nobody decided. Every change is a
//! compare-and-set in the store, so across replicas and restarts each row is decided once and
//! an approval is used once. The approve/reject/timeout entry (`kind: approval`) is chained
//! before the change takes effect.
//!
//! Changes made here are broadcast at once (to waiting calls and to the admin stream); changes
//! made by another replica are picked up by a poll of the store every second.

use crate::audit::{AuditError, AuditWriter, Record};
use crate::clock::now_us;
use crate::config::ArgPersistence;
use crate::pipeline::scalars_only;
use crate::store::{ApprovalQuery, ApprovalRecord, DynStore, StoreError};
use intentgate_proto::audit::{Entry, Kind};
use intentgate_proto::token::Claims;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::sync::broadcast;

/// Statuses of a row.
pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const REJECTED: &str = "rejected";
pub const TIMEOUT: &str = "timeout";
pub const FORWARDED: &str = "forwarded";
pub const LAPSED: &str = "lapsed";

/// How often waiting calls re-read their row and the sweep runs (changes made on another
/// replica are seen within this).
const POLL: Duration = Duration::from_secs(1);

/// Longest note kept with a decision.
pub const MAX_NOTE_CHARS: usize = 1000;

/// What a waiting call learns.
#[derive(Debug)]
pub enum Waited {
    Approved(ApprovalRecord),
    Rejected(ApprovalRecord),
    TimedOut(ApprovalRecord),
    /// The row is gone or in a state nobody waits for (used by another call).
    Gone(String),
    /// The store could not be read.
    Unavailable(String),
}

/// Why a decision was not taken.
#[derive(Debug)]
// Returned once per decision request: boxing the row would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum DecideError {
    NotFound,
    /// Already decided (or used): the row as it is now.
    Conflict(ApprovalRecord),
    Store(StoreError),
    Audit(AuditError),
}

/// The queue.
#[derive(Debug)]
pub struct Approvals {
    store: DynStore,
    audit: AuditWriter,
    timeout_us: i64,
    persist_args: ArgPersistence,
    changes: broadcast::Sender<ApprovalRecord>,
    /// Pending rows seen (id → expiry, µs), kept from every change this igd sees (its own at
    /// once, other replicas' within a second): the `pending_approvals` metric, read without a
    /// database round trip. A row whose change was missed drops out at its expiry.
    pending: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

/// `sha256:<hex>` over the method and the arguments exactly as igd forwards them: what an
/// approval is bound to.
///
/// Not RFC 8785: its numbers are IEEE doubles, so two integers past 2^53 (account numbers,
/// ids) would hash alike and an approval given for one would forward the other. serde_json's
/// own text keeps every integer exact and (without `preserve_order`) sorts object keys; it is
/// also the text igd re-serializes and sends upstream.
pub fn args_hash(method: &str, args: &Value) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    h.update(serde_json::to_vec(args).unwrap_or_default());
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// Most pending approvals one root token may have open at once, and one tenant: beyond, an
/// escalation is refused (an agent cannot bury real approvals or pin every connection).
pub const MAX_PENDING_PER_TOKEN: usize = 20;
pub const MAX_PENDING_PER_TENANT: usize = 1000;

/// What the queue holds for a call's binding.
#[derive(Debug)]
pub struct Live {
    /// The live (pending, or approved and unused) row of the binding.
    pub row: Option<ApprovalRecord>,
    /// Why a new row may not be opened (too many pending), if so.
    pub full: Option<String>,
}

impl Approvals {
    pub fn new(
        store: DynStore,
        audit: AuditWriter,
        timeout_secs: u64,
        persist_args: ArgPersistence,
    ) -> Approvals {
        let (changes, _) = broadcast::channel(1024);
        Approvals {
            store,
            audit,
            timeout_us: i64::try_from(timeout_secs)
                .unwrap_or(i64::MAX / 2_000_000)
                .saturating_mul(1_000_000),
            persist_args,
            changes,
            pending: std::sync::Mutex::default(),
        }
    }

    /// Every change seen by this igd (its own at once, other replicas' within a second).
    pub fn subscribe(&self) -> broadcast::Receiver<ApprovalRecord> {
        self.changes.subscribe()
    }

    fn publish(&self, row: &ApprovalRecord) {
        self.note_pending(row);
        // Nobody listening is fine.
        let _ = self.changes.send(row.clone());
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, i64>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note_pending(&self, row: &ApprovalRecord) {
        let mut pending = self.lock_pending();
        if row.status == PENDING {
            pending.insert(row.id.clone(), row.expires_at);
        } else {
            pending.remove(&row.id);
        }
    }

    /// Calls waiting for a person now (as this igd has seen the queue change).
    pub fn pending_count(&self) -> usize {
        let now = now_us();
        let mut pending = self.lock_pending();
        pending.retain(|_, expires_at| *expires_at > now);
        pending.len()
    }

    /// The live row of this call's binding, and whether a new one may be opened.
    pub async fn live(
        &self,
        claims: &Claims,
        tool: &str,
        args_hash: &str,
        now: i64,
    ) -> Result<Live, StoreError> {
        let tenant = claims.root.tenant.as_str();
        let matches = |r: &ApprovalRecord| {
            r.root_jti == claims.root.jti
                && r.leaf_jti == claims.leaf_jti()
                && r.tool == tool
                && r.args_hash == args_hash
                && r.expires_at > now
        };
        let approved = self
            .store
            .approvals(&ApprovalQuery {
                status: Some(APPROVED.to_string()),
                tenants: Some(vec![tenant.to_string()]),
                changed_since: None,
                limit: 10_000,
            })
            .await?;
        if let Some(row) = approved.into_iter().find(|r| matches(r)) {
            return Ok(Live {
                row: Some(row),
                full: None,
            });
        }
        let pending = self
            .store
            .approvals(&ApprovalQuery {
                status: Some(PENDING.to_string()),
                tenants: Some(vec![tenant.to_string()]),
                changed_since: None,
                limit: 10_000,
            })
            .await?;
        let open_now = |r: &&ApprovalRecord| r.expires_at > now;
        let of_token = pending
            .iter()
            .filter(open_now)
            .filter(|r| r.root_jti == claims.root.jti)
            .count();
        let in_tenant = pending.iter().filter(open_now).count();
        let full = if of_token >= MAX_PENDING_PER_TOKEN {
            Some(format!(
                "this token already has {of_token} calls waiting for approval (at most {MAX_PENDING_PER_TOKEN})"
            ))
        } else if in_tenant >= MAX_PENDING_PER_TENANT {
            Some(format!(
                "tenant {tenant} already has {in_tenant} calls waiting for approval (at most {MAX_PENDING_PER_TENANT})"
            ))
        } else {
            None
        };
        Ok(Live {
            row: pending.into_iter().find(|r| matches(r)),
            full,
        })
    }

    /// A new pending row for an escalated call whose decision entry `decision` is durable.
    /// Returns the row that is live for the binding: this one, or one another replica opened
    /// meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn open(
        &self,
        id: String,
        claims: &Claims,
        tool: &str,
        args: &Value,
        args_hash: String,
        intent: &Value,
        reason: &str,
        requires_step_up: bool,
        decision: &Entry,
    ) -> Result<ApprovalRecord, StoreError> {
        let now = now_us();
        let row = ApprovalRecord {
            id,
            tenant: claims.root.tenant.clone(),
            subject: claims.root.sub.clone(),
            delegated_subject: claims.delegated_subject().map(String::from),
            root_jti: claims.root.jti.clone(),
            leaf_jti: claims.leaf_jti().to_string(),
            tool: tool.to_string(),
            args_hash,
            // Operators must see what they approve: the arguments are kept while pending.
            args: Some(args.to_string()),
            intent: (!intent.is_null()).then(|| intent.to_string()),
            reason: reason.to_string(),
            requires_step_up,
            decision_event: decision.event_id.clone(),
            decision_seq: i64::try_from(decision.seq).unwrap_or(i64::MAX),
            created_at: now,
            expires_at: now.saturating_add(self.timeout_us),
            status: PENDING.to_string(),
            decided_by: None,
            decided_at: None,
            note: None,
        };
        // Time out what is due first, so a row of this binding that expired unswept is chained
        // as a time-out (the insert would otherwise retire it silently).
        if let Err(e) = self.sweep().await {
            return Err(StoreError::Unavailable(e));
        }
        let (row, created) = self.store.insert_approval(&row, now).await?;
        if created {
            tracing::info!(approval = %row.id, tenant = %row.tenant, tool = %row.tool, "approval pending");
            self.publish(&row);
        }
        Ok(row)
    }

    /// Wait until `row` is decided or expires. Dropping the future (the agent went away) leaves
    /// the row as it is: an identical call re-attaches.
    pub async fn wait(&self, row: &ApprovalRecord) -> Waited {
        let mut changes = self.subscribe();
        loop {
            // Read the row first: a change made before we subscribed is seen here.
            let current = match self.store.approval(&row.id).await {
                Ok(Some(r)) => r,
                Ok(None) => return Waited::Gone(format!("approval {} no longer exists", row.id)),
                Err(e) => return Waited::Unavailable(e.to_string()),
            };
            match current.status.as_str() {
                APPROVED => return Waited::Approved(current),
                REJECTED => return Waited::Rejected(current),
                TIMEOUT => return Waited::TimedOut(current),
                PENDING => {}
                other => {
                    return Waited::Gone(format!("approval {} is {other}", current.id));
                }
            }
            let now = now_us();
            if now >= current.expires_at {
                // Whoever gets there first chains the time-out; everybody re-reads.
                if let Err(e) = self.sweep().await {
                    return Waited::Unavailable(e);
                }
                continue;
            }
            let until = Duration::from_micros(u64::try_from(current.expires_at - now).unwrap_or(0));
            let nap = until.min(POLL);
            // Woken by a change to this row, or after the poll interval (another replica).
            let _ = tokio::time::timeout(nap, async {
                loop {
                    match changes.recv().await {
                        Ok(r) if r.id == row.id => return,
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => return,
                        Err(broadcast::error::RecvError::Closed) => {
                            std::future::pending::<()>().await;
                        }
                    }
                }
            })
            .await;
        }
    }

    /// Use an approval: `approved` → `forwarded`, once. False when another call used it.
    pub async fn consume(&self, row: &ApprovalRecord) -> Result<bool, StoreError> {
        if row.expires_at <= now_us() {
            // Past its time an approval lapses (the sweep records it), unused.
            return Ok(false);
        }
        let used = self
            .store
            .transition_approval(
                &row.id,
                APPROVED,
                FORWARDED,
                row.decided_by.as_deref(),
                row.decided_at,
                row.note.as_deref(),
                row.args.as_deref(),
            )
            .await?;
        if let Some(r) = &used {
            self.publish(r);
        }
        Ok(used.is_some())
    }

    /// What may be kept of the arguments once a row is decided.
    fn kept_args(&self, row: &ApprovalRecord) -> Option<String> {
        let args = row.args.as_deref()?;
        match self.persist_args {
            ArgPersistence::Off => None,
            ArgPersistence::Scalars => serde_json::from_str::<Value>(args)
                .ok()
                .map(|v| scalars_only(&v).to_string()),
            ArgPersistence::Raw => Some(args.to_string()),
        }
    }

    /// The `approval` entry of a decision on `row`.
    fn entry(&self, row: &ApprovalRecord, action: &str, by: &str, note: Option<&str>) -> Record {
        let mut e = self.audit.entry(&row.tenant, Kind::Approval);
        e.ref_event_id = Some(row.decision_event.clone());
        e.subject = Some(row.subject.clone());
        e.delegated_subject = row.delegated_subject.clone();
        e.jti = Some(row.leaf_jti.clone());
        e.root_jti = Some(row.root_jti.clone());
        e.method = Some("tools/call".into());
        e.tool = Some(row.tool.clone());
        e.approval_id = Some(row.id.clone());
        e.decided_by = Some(by.to_string());
        e.action = Some(action.to_string());
        e.reason = note.filter(|n| !n.is_empty()).map(String::from);
        if row.requires_step_up {
            e.requires_step_up = Some(true);
        }
        Record {
            ref_seq: u64::try_from(row.decision_seq).ok(),
            ..Record::of(e)
        }
    }

    /// An operator's decision (`approve` → approved, else rejected) on a pending row, by
    /// `by` (the authenticated identity), chained before it takes effect.
    pub async fn decide(
        &self,
        id: &str,
        approve: bool,
        by: &str,
        elevation_id: Option<&str>,
        note: Option<&str>,
    ) -> Result<ApprovalRecord, DecideError> {
        let row = match self.store.approval(id).await {
            Ok(Some(r)) => r,
            Ok(None) => return Err(DecideError::NotFound),
            Err(e) => return Err(DecideError::Store(e)),
        };
        let now = now_us();
        if row.status != PENDING || row.expires_at <= now {
            return Err(DecideError::Conflict(row));
        }
        let (action, to) = if approve {
            ("approve", APPROVED)
        } else {
            ("reject", REJECTED)
        };
        let mut record = self.entry(&row, action, by, note);
        record.entry.elevation_id = elevation_id.map(String::from);
        self.audit
            .append(record)
            .await
            .map_err(DecideError::Audit)?;
        let args = self.kept_args(&row);
        let changed = self
            .store
            .transition_approval(id, PENDING, to, Some(by), Some(now), note, args.as_deref())
            .await
            .map_err(DecideError::Store)?;
        match changed {
            Some(r) => {
                tracing::info!(approval = %r.id, decided_by = %by, status = %r.status, "approval decided");
                self.publish(&r);
                Ok(r)
            }
            None => {
                // Decided elsewhere between our read and our write: our entry is chained but did
                // not take effect; say so in the chain too.
                let mut failed = self.entry(&row, &format!("{action}-failed"), by, Some("decided concurrently by another request; this decision did not take effect"));
                failed.entry.elevation_id = elevation_id.map(String::from);
                if let Err(e) = self.audit.append(failed).await {
                    tracing::error!(error = %e, approval = %id, "could not chain a failed decision");
                }
                match self.store.approval(id).await {
                    Ok(Some(r)) => Err(DecideError::Conflict(r)),
                    Ok(None) => Err(DecideError::NotFound),
                    Err(e) => Err(DecideError::Store(e)),
                }
            }
        }
    }

    /// Time out pending rows (and lapse approved ones) whose time is up, chaining a `timeout`
    /// entry for each row this igd changed.
    pub async fn sweep(&self) -> Result<usize, String> {
        let now = now_us();
        let changed = self
            .store
            .expire_approvals(now)
            .await
            .map_err(|e| e.to_string())?;
        for row in &changed {
            let action = if row.status == TIMEOUT {
                "timeout"
            } else {
                "lapse"
            };
            let record = self.entry(row, action, "igd", Some("escalation timed out"));
            if let Err(e) = self.audit.append(record).await {
                // The row is decided; the entry could not be chained. Logged loudly: the
                // agent is refused either way.
                tracing::error!(error = %e, approval = %row.id, "could not chain an approval time-out");
            }
            if row.args.is_some() {
                let kept = self.kept_args(row);
                if kept != row.args {
                    let _ = self
                        .store
                        .transition_approval(
                            &row.id,
                            &row.status,
                            &row.status,
                            row.decided_by.as_deref(),
                            row.decided_at,
                            row.note.as_deref(),
                            kept.as_deref(),
                        )
                        .await;
                }
            }
            self.publish(row);
        }
        Ok(changed.len())
    }

    /// Rows for the admin API.
    pub async fn list(&self, query: &ApprovalQuery) -> Result<Vec<ApprovalRecord>, StoreError> {
        self.store.approvals(query).await
    }

    /// The background task: sweep, and pick up other replicas' changes, every second.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut since = now_us();
        // Rows left pending by an earlier run (or another replica) count from the start.
        match self
            .store
            .approvals(&ApprovalQuery {
                status: Some(PENDING.to_string()),
                limit: 10_000,
                ..ApprovalQuery::default()
            })
            .await
        {
            Ok(rows) => rows.iter().for_each(|r| self.note_pending(r)),
            Err(e) => tracing::warn!(error = %e, "reading pending approvals failed"),
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => return,
            }
            if let Err(e) = self.sweep().await {
                tracing::warn!(error = %e, "approvals sweep failed; retrying");
                continue;
            }
            if !self.store.shared() {
                continue;
            }
            // Another replica's changes: re-published here (listeners treat them as upserts).
            let mark = now_us();
            match self
                .store
                .approvals(&ApprovalQuery {
                    changed_since: Some(since.saturating_sub(2 * 1_000_000)),
                    limit: 10_000,
                    ..ApprovalQuery::default()
                })
                .await
            {
                Ok(rows) => {
                    for r in rows {
                        self.publish(&r);
                    }
                    since = mark;
                }
                Err(e) => tracing::warn!(error = %e, "reading approvals changed elsewhere failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_binding_tells_apart_what_rfc_8785_would_not() {
        // Past 2^53 RFC 8785's doubles make these equal; the binding must not.
        let a = json!({"to_account": 12_345_678_901_234_567_000_u64});
        let b = json!({"to_account": 12_345_678_901_234_567_890_u64});
        assert_ne!(args_hash("tools/call", &a), args_hash("tools/call", &b));
        // The method is part of the binding.
        let x = json!({"name": "greet"});
        assert_ne!(args_hash("tools/call", &x), args_hash("prompts/get", &x));
        // Key order does not matter; the same call binds the same.
        let p: Value = serde_json::from_str(r#"{"b":1,"a":[1,2]}"#).unwrap_or_default();
        let q: Value = serde_json::from_str(r#"{"a":[1,2],"b":1}"#).unwrap_or_default();
        assert_eq!(args_hash("tools/call", &p), args_hash("tools/call", &q));
    }
}
