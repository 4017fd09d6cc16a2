//! Refusals at authentication, rate-limited so a flood cannot fill the disk.
//!
//! - Tokens that do not verify: chained under `_unauthenticated` (never under a tenant named by
//!   an unverified token); beyond `INTENTGATE_AUDIT_UNAUTH_RPS` overall or 10/s per address.
//! - Tokens whose MAC verifies but that are dead (expired, revoked, stopped): chained under the
//!   token's own tenant; beyond `INTENTGATE_AUDIT_UNAUTH_RPS` per tenant or 10/s per root token
//!   (keyed by the root jti: anyone holding a token can append child blocks, so leaf jtis are
//!   free to mint).
//!
//! Refusals beyond a limit are summarized per chain and second: the first suppressed refusal
//! chains an opening summary entry, and every suppressed refusal of that second is answered with
//! its id only once it is committed (a decision id handed to a client always names a durable
//! entry, even if igd is killed the next moment); when the second is over, a closing entry
//! referring to the opening one (`ref_event_id`) records how many there were. Every field
//! taken from the request is bounded ([`recordable_name`], [`MAX_REASON_BYTES`]), so an
//! `_unauthenticated` entry never exceeds [`UNAUTH_ENTRY_MAX_BYTES`].

use crate::audit::{AuditWriter, Record};
use crate::jsonrpc::{printable_prefix, recordable_name};
use intentgate_proto::audit::{Check, Kind, Verdict};
use intentgate_proto::ids::UNAUTHENTICATED_TENANT;
use intentgate_proto::token::Claims;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Chained refusals per second from one address (anonymous) or one root token (dead tokens).
const PER_SOURCE_RPS: u32 = 10;
/// Longest reason kept in a refusal entry.
pub const MAX_REASON_BYTES: usize = 1024;
/// Upper bound of one `_unauthenticated` entry's stored JSON: method and tool at most 256 bytes
/// each (JSON escaping at most doubles them), the reason at most [`MAX_REASON_BYTES`], and fixed
/// fields. `INTENTGATE_AUDIT_UNAUTH_MAX_BYTES` is enforced as rows at this size.
pub const UNAUTH_ENTRY_MAX_BYTES: u64 = 4096;

/// The opening summary entry of a second's suppressed refusals: its id once chained (`None`
/// when it could not be).
type Opening = Arc<OnceCell<Option<String>>>;

#[derive(Debug, Default)]
struct Window {
    second: i64,
    total: u32,
    per_source: HashMap<String, u32>,
    suppressed: u64,
    opening: Opening,
}

/// The limiter: one window per chain (`_unauthenticated`, or a tenant for dead tokens), and the
/// audit log it writes to.
#[derive(Debug)]
pub struct UnauthenticatedLog {
    audit: AuditWriter,
    /// `INTENTGATE_AUDIT_UNAUTH_RPS`: chained refusals per second and chain.
    limit: u32,
    windows: Windows,
}

/// The current second's window of every chain.
#[derive(Debug, Default)]
struct Windows(Mutex<HashMap<String, Window>>);

/// The closing summary of a second's suppressed refusals, to write.
#[derive(Debug)]
struct Summary {
    tenant: String,
    opening: Opening,
    count: u64,
    second: i64,
}

/// Who was refused, for the entry.
#[derive(Debug)]
pub enum Refused<'a> {
    /// A token that did not verify (or none), from this address.
    Anonymous(IpAddr),
    /// A token whose MAC verified but that is expired, revoked or stopped.
    Dead(&'a Claims),
}

impl UnauthenticatedLog {
    pub fn new(audit: AuditWriter, limit: u32) -> Self {
        UnauthenticatedLog {
            audit,
            limit,
            windows: Windows::default(),
        }
    }
}

impl Windows {
    fn admit(
        &self,
        tenant: &str,
        source: &str,
        limit: u32,
        now_us: i64,
    ) -> (Result<(), (Opening, i64)>, Option<Summary>) {
        let mut windows = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let second = now_us.div_euclid(1_000_000);
        let w = windows.entry(tenant.to_string()).or_default();
        let mut flushed = None;
        if w.second != second {
            if w.suppressed > 0 {
                flushed = Some(Summary {
                    tenant: tenant.to_string(),
                    opening: w.opening.clone(),
                    count: w.suppressed,
                    second: w.second,
                });
            }
            *w = Window {
                second,
                ..Window::default()
            };
        }
        let from_source = w.per_source.get(source).copied().unwrap_or(0);
        if w.total >= limit || from_source >= PER_SOURCE_RPS {
            w.suppressed += 1;
            return (Err((w.opening.clone(), second)), flushed);
        }
        w.per_source.insert(source.to_string(), from_source + 1);
        w.total += 1;
        (Ok(()), flushed)
    }
}

impl UnauthenticatedLog {
    /// Flush finished windows' summaries and forget idle windows (called every second by the
    /// maintenance task).
    pub async fn flush(&self) {
        let now = crate::clock::now_us().div_euclid(1_000_000);
        let pending: Vec<Summary> = {
            let mut windows = self.windows.0.lock().unwrap_or_else(|p| p.into_inner());
            let mut out = Vec::new();
            for (tenant, w) in windows.iter_mut() {
                if w.second < now && w.suppressed > 0 {
                    out.push(Summary {
                        tenant: tenant.clone(),
                        opening: w.opening.clone(),
                        count: w.suppressed,
                        second: w.second,
                    });
                    w.suppressed = 0;
                }
            }
            windows.retain(|_, w| w.second >= now - 1 || w.suppressed > 0);
            out
        };
        for s in pending {
            write_summary(&self.audit, s).await;
        }
    }

    /// Record one refusal at authentication; returns the id of the entry that accounts for it
    /// (the summary's when rate-limited, `None` when nothing could be chained).
    pub async fn refuse(
        &self,
        who: Refused<'_>,
        reason: &str,
        method: Option<&str>,
        tool: Option<&str>,
    ) -> Option<String> {
        let (tenant, source) = match &who {
            Refused::Anonymous(ip) => (UNAUTHENTICATED_TENANT, ip.to_string()),
            Refused::Dead(c) => (c.root.tenant.as_str(), c.root.jti.clone()),
        };
        let now = crate::clock::now_us();
        let (admitted, flushed) = self.windows.admit(tenant, &source, self.limit, now);
        if let Some(s) = flushed {
            write_summary(&self.audit, s).await;
        }
        if let Err((opening, second)) = admitted {
            return opening
                .get_or_init(|| open_summary(&self.audit, tenant, second))
                .await
                .clone();
        }
        let mut e = self.audit.entry(tenant, Kind::Decision);
        let mut notes = Vec::new();
        for (name, slot, what) in [
            (method, &mut e.method, "method"),
            (tool, &mut e.tool, "tool"),
        ] {
            if let Some(n) = name {
                let (kept, note) = recordable_name(n);
                *slot = Some(kept);
                if let Some(note) = note {
                    notes.push(format!("{what} name truncated ({note})"));
                }
            }
        }
        let mut reason = printable_prefix(reason, MAX_REASON_BYTES / 2);
        match &who {
            Refused::Anonymous(ip) => reason.push_str(&format!(" (from {ip})")),
            Refused::Dead(c) => {
                e.subject = Some(c.root.sub.clone());
                e.delegated_subject = c.delegated_subject().map(String::from);
                e.jti = Some(c.leaf_jti().to_string());
                e.root_jti = Some(c.root.jti.clone());
                e.jti_chain = Some(c.chain().map(String::from).collect());
            }
        }
        for n in notes {
            reason.push_str("; ");
            reason.push_str(&n);
        }
        e.decision = Some(Verdict::Block.as_str().into());
        e.check = Some(Check::Capability.as_str().into());
        e.reason = Some(printable_prefix(&reason, MAX_REASON_BYTES));
        match self.audit.append(Record::of(e)).await {
            Ok(e) => Some(e.event_id),
            Err(err) => {
                tracing::error!(error = %err, "refusal at authentication could not be chained");
                None
            }
        }
    }
}

fn refusals_of(tenant: &str) -> &'static str {
    if tenant == UNAUTHENTICATED_TENANT {
        "unauthenticated refusals"
    } else {
        "refusals of expired, revoked or stopped tokens"
    }
}

async fn append_summary(
    audit: &AuditWriter,
    tenant: &str,
    reason: String,
    opening: Option<String>,
) -> Option<String> {
    let mut e = audit.entry(tenant, Kind::Decision);
    e.decision = Some(Verdict::Block.as_str().into());
    e.check = Some(Check::Capability.as_str().into());
    e.ref_event_id = opening;
    e.reason = Some(reason);
    match audit.append(Record::of(e)).await {
        Ok(e) => Some(e.event_id),
        Err(err) => {
            tracing::error!(error = %err, "refusal summary could not be chained");
            None
        }
    }
}

/// Chain the entry that stands for a second's suppressed refusals, before any is answered.
async fn open_summary(audit: &AuditWriter, tenant: &str, second: i64) -> Option<String> {
    let what = refusals_of(tenant);
    let reason = format!(
        "{what} in second {second} beyond the rate limit are summarized: this entry stands for \
         them, and their count follows in an entry referring to it"
    );
    append_summary(audit, tenant, reason, None).await
}

/// Chain how many refusals a finished second suppressed, referring to its opening entry.
async fn write_summary(audit: &AuditWriter, s: Summary) {
    let opening = s
        .opening
        .get_or_init(|| open_summary(audit, &s.tenant, s.second))
        .await
        .clone();
    let reason = format!(
        "{} {} in second {} beyond the rate limit (summarized)",
        s.count,
        refusals_of(&s.tenant),
        s.second
    );
    append_summary(audit, &s.tenant, reason, opening).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use intentgate_proto::audit::Entry;
    use intentgate_proto::ids::new_id;

    /// The worst case an anonymous sender can produce stays under the per-entry bound the byte
    /// quota is enforced with.
    #[test]
    fn unauthenticated_entries_are_bounded() {
        let hostile = "\"\\".repeat(300_000);
        let (method, m_note) = recordable_name(&hostile);
        let (tool, t_note) = recordable_name(&hostile);
        let mut reason = printable_prefix(&hostile, MAX_REASON_BYTES / 2);
        reason.push_str(" (from ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff)");
        for n in [m_note, t_note].into_iter().flatten() {
            reason.push_str(&format!("; tool name truncated ({n})"));
        }
        let mut e = Entry {
            tenant: UNAUTHENTICATED_TENANT.into(),
            kind: "decision".into(),
            event_id: new_id(),
            ts: i64::MAX,
            instance: "f".repeat(64),
            method: Some(method),
            tool: Some(tool),
            decision: Some("block".into()),
            check: Some("capability".into()),
            reason: Some(printable_prefix(&reason, MAX_REASON_BYTES)),
            ..Entry::default()
        };
        e.seal(u64::MAX - 1, &"0".repeat(64));
        let bytes = serde_json::to_vec(&e).unwrap_or_default().len() as u64;
        assert!(bytes <= UNAUTH_ENTRY_MAX_BYTES, "{bytes}");
        assert!(bytes > 1000, "{bytes}");
    }

    #[test]
    fn limits_per_source_and_overall() {
        let log = Windows::default();
        let t = 5_000_000;
        for _ in 0..PER_SOURCE_RPS {
            assert!(log.admit("acme", "root-a", 100, t).0.is_ok());
        }
        let (over, _) = log.admit("acme", "root-a", 100, t);
        assert!(over.is_err());
        assert!(log.admit("acme", "root-b", 100, t).0.is_ok());
        // Another chain has its own window.
        assert!(log.admit("other", "root-a", 100, t).0.is_ok());
        // The next second flushes a summary of the one suppressed.
        let (ok, flushed) = log.admit("acme", "root-a", 100, t + 1_000_000);
        assert!(ok.is_ok());
        let s = flushed.unwrap();
        assert_eq!((s.tenant.as_str(), s.count, s.second), ("acme", 1, 5));
        // The overall limit.
        for i in 0..3 {
            assert!(log.admit("z", &i.to_string(), 3, t).0.is_ok());
        }
        assert!(log.admit("z", "9", 3, t).0.is_err());
    }
}
