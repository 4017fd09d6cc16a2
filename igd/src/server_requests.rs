//! Requests upstream sent to a 2025-era client session (relayed inside SSE responses, such as
//! sampling or elicitation). A client response (`result`/`error`, no `method`) is relayed
//! upstream only when it answers one of these, on the same session, once; anything else a
//! client dresses up as a response is refused (DESIGN §2).
//!
//! Kept in memory on the replica that relayed the request: a response arriving at another
//! replica, or after a restart, is refused (fail closed). Bounded per session and overall.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Requests awaiting an answer per session; the oldest is forgotten beyond this.
const PER_SESSION: usize = 64;
/// Sessions tracked at once; expired ones are dropped first, then arbitrary ones.
const MAX_SESSIONS: usize = 10_000;

/// (SHA-256 of a request id's JSON text, expiry in unix seconds).
type PendingId = ([u8; 32], u64);

#[derive(Debug, Default)]
pub struct ServerRequests {
    /// session id hash → (SHA-256 of the request id's JSON text, expiry in unix seconds),
    /// oldest first. The id is hashed so a hostile upstream's huge ids cost 32 bytes each.
    pending: Mutex<HashMap<String, Vec<PendingId>>>,
}

impl ServerRequests {
    /// Upstream sent request `id` on the session with id hash `session`; it may be answered
    /// until `expires` (unix seconds).
    pub fn note(&self, session: &str, id: &serde_json::Value, expires: u64, now: u64) {
        let key = id_key(id);
        let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        // Full: forget one arbitrary session (its answers are then refused, failing closed)
        // rather than sweep every session under the lock.
        if map.len() >= MAX_SESSIONS && !map.contains_key(session) {
            if let Some(victim) = map.keys().next().cloned() {
                map.remove(&victim);
            }
        }
        let ids = map.entry(session.to_string()).or_default();
        ids.retain(|(k, exp)| *exp > now && *k != key);
        if ids.len() >= PER_SESSION {
            ids.remove(0);
        }
        ids.push((key, expires));
    }

    /// Whether `id` answers a request upstream sent on `session` and that is still open; it is
    /// consumed (a second answer is refused).
    pub fn take(&self, session: &str, id: &serde_json::Value, now: u64) -> bool {
        let key = id_key(id);
        let mut map = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let Some(ids) = map.get_mut(session) else {
            return false;
        };
        let found = ids
            .iter()
            .position(|(k, exp)| *k == key && *exp > now)
            .map(|i| ids.remove(i))
            .is_some();
        ids.retain(|(_, exp)| *exp > now);
        if ids.is_empty() {
            map.remove(session);
        }
        found
    }
}

fn id_key(id: &serde_json::Value) -> [u8; 32] {
    Sha256::digest(id.to_string().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answered_once_on_its_session_only() {
        let r = ServerRequests::default();
        r.note("s1", &json!(7), 100, 10);
        assert!(!r.take("s2", &json!(7), 11), "another session");
        assert!(!r.take("s1", &json!("7"), 11), "a string is not the number");
        assert!(r.take("s1", &json!(7), 11));
        assert!(!r.take("s1", &json!(7), 11), "answered twice");
        r.note("s1", &json!("a"), 100, 10);
        assert!(!r.take("s1", &json!("a"), 100), "expired");
        for i in 0..(PER_SESSION as u64 + 5) {
            r.note("s3", &json!(i), 100, 10);
        }
        assert!(!r.take("s3", &json!(0), 11), "oldest forgotten");
        assert!(r.take("s3", &json!(PER_SESSION as u64 + 4), 11));
    }

    #[test]
    fn huge_ids_cost_a_fixed_size_and_sessions_stay_capped() {
        let r = ServerRequests::default();
        let huge = json!("x".repeat(1 << 20));
        r.note("s1", &huge, 100, 10);
        let held: usize = r
            .pending
            .lock()
            .map(|m| {
                m.values()
                    .map(|ids| ids.len() * std::mem::size_of::<PendingId>())
                    .sum()
            })
            .unwrap_or(usize::MAX);
        assert!(held <= 64, "a 1 MiB id is held in {held} bytes");
        assert!(
            r.take("s1", &huge, 11),
            "the huge id still matches its answer"
        );
        for i in 0..(MAX_SESSIONS + 50) {
            r.note(&format!("s{i}"), &json!(1), 100, 10);
        }
        let sessions = r.pending.lock().map(|m| m.len()).unwrap_or(usize::MAX);
        assert_eq!(sessions, MAX_SESSIONS);
    }
}
