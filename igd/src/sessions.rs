//! MCP session ids (2025 era): minted by igd, carrying their own state sealed with a key derived
//! from the master key (ChaCha20-Poly1305), so any replica and a restarted igd accept them. A
//! session is never authentication: every request still presents its token, and the session
//! must belong to that token's (tenant, root subject).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock;
use crate::store::{DynStore, StoreError};

const PREFIX: &str = "igs1.";
/// Longest session id accepted (bounds work on garbage).
const MAX_ID_LEN: usize = 2048;

/// What a session id carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// Tenant of the token that opened the session.
    pub t: String,
    /// Root subject of that token.
    pub s: String,
    /// Issue time, unix seconds.
    pub i: u64,
    /// Negotiated protocol version.
    pub v: String,
    /// The upstream's own session id for this client session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<String>,
}

/// Seals and opens session ids.
pub struct SessionSealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SessionSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSealer(<key redacted>)")
    }
}

impl SessionSealer {
    pub fn new(key: [u8; 32]) -> Self {
        SessionSealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    pub fn seal(&self, state: &SessionState) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let plain = serde_json::to_vec(state).unwrap_or_default();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The state of a genuine id, or `None` for anything igd did not mint.
    pub fn open(&self, id: &str) -> Option<SessionState> {
        if id.len() > MAX_ID_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(id.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), sealed).ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

/// The stored form of a session id (deleted ids, last activity).
pub fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Shards of the in-memory session maps: a request locks one shard, never the whole set.
const SHARDS: usize = 64;

/// What this replica knows of one session id.
#[derive(Debug, Clone, Copy)]
struct Activity {
    /// Last request seen here (unix s).
    last: u64,
    /// Last activity written to the store (or the issue time, which the id itself carries).
    persisted: u64,
    /// Judged idle past the time-out: refused from now on, without asking the store again.
    expired: bool,
}

#[derive(Debug, Default)]
struct Shard {
    live: HashMap<[u8; 32], Activity>,
    /// Deleted ids and when they would have expired anyway (unix s).
    deleted: HashMap<[u8; 32], u64>,
}

/// What the local maps say about a session id.
enum Local {
    Deleted,
    Expired,
    /// Active within the idle time-out (and now touched).
    Fresh,
    /// Older than the time-out with no recent activity seen here: the store decides.
    Unknown,
}

/// Why an `initialize` or `DELETE` was refused by the per-token rate limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateRefusal {
    /// Chain a refusal entry; `earlier` refusals since the last one were only counted.
    Record { earlier: u64 },
    /// Already recorded this second: counted into the next entry (`decision_id` of the last).
    Counted { decision_id: Option<String> },
}

/// A token's budget of session changes (`initialize` and `DELETE`).
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    at: f64,
    /// The second of the last chained refusal, its id, and refusals counted since.
    recorded_second: u64,
    decision_id: Option<String>,
    counted: u64,
    /// Who, for a summary entry.
    subject: String,
}

/// Refusals counted but not yet chained, for the summary the maintenance task writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalSummary {
    pub tenant: String,
    pub root_jti: String,
    pub subject: String,
    pub count: u64,
}

/// The sessions service: seals ids, judges them (binding, deletion, idle time-out) and keeps
/// the state every replica must agree on in the store: deleted ids, and the last activity of
/// live sessions, written in batches with a coarse granularity by [`Sessions::maintain`] (never
/// on the request path). A session active on one replica, or before a restart, is therefore
/// still accepted elsewhere: a replica that has not seen it recently asks the store once.
pub struct Sessions {
    sealer: SessionSealer,
    /// `INTENTGATE_SESSION_IDLE_TIMEOUT`, seconds.
    idle: u64,
    /// Activity is persisted at most once per `granularity` seconds per session.
    granularity: u64,
    shards: Vec<Mutex<Shard>>,
    /// `INTENTGATE_SESSION_OPS_PER_MINUTE` per (tenant, root jti).
    per_minute: u32,
    buckets: Vec<Mutex<HashMap<(String, String), Bucket>>>,
    /// Deleted ids seen in the store up to this expiry (µs): the next sync reads only newer.
    synced_deletions: Mutex<i64>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

fn shard_of(key: &[u8; 32]) -> usize {
    usize::from(key[0]) % SHARDS
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn secs_to_us(s: u64) -> i64 {
    i64::try_from(s)
        .unwrap_or(i64::MAX / 1_000_000)
        .saturating_mul(1_000_000)
}

fn us_to_secs(us: i64) -> u64 {
    u64::try_from(us.div_euclid(1_000_000)).unwrap_or(0)
}

impl Sessions {
    pub fn new(key: [u8; 32], idle_timeout: u64, per_minute: u32) -> Self {
        Sessions {
            sealer: SessionSealer::new(key),
            idle: idle_timeout,
            granularity: (idle_timeout / 10).clamp(1, 60),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_minute,
            buckets: (0..SHARDS).map(|_| Mutex::default()).collect(),
            synced_deletions: Mutex::new(clock::now_us()),
        }
    }

    /// How late the store's view of an activity may be: the write granularity plus the
    /// maintenance tick. State is kept that much longer than the time-out before pruning.
    fn slack(&self) -> u64 {
        self.granularity + 2
    }

    pub fn seal(&self, state: &SessionState) -> String {
        self.sealer.seal(state)
    }

    /// The state of a session id this token may use: genuine, bound to the token's (tenant,
    /// root subject), not deleted, not idle past the time-out.
    pub async fn open(
        &self,
        store: &DynStore,
        sid: &str,
        tenant: &str,
        subject: &str,
    ) -> Option<SessionState> {
        let state = self.sealer.open(sid)?;
        if state.t != tenant || state.s != subject {
            return None;
        }
        let key = digest(sid);
        let now = clock::now_secs();
        match self.check_local(&key, state.i, now) {
            Local::Fresh => Some(state),
            Local::Deleted | Local::Expired => None,
            Local::Unknown => self
                .check_store(store, &key, state.i, now)
                .await
                .then_some(state),
        }
    }

    fn check_local(&self, key: &[u8; 32], issued: u64, now: u64) -> Local {
        let mut shard = lock(&self.shards[shard_of(key)]);
        if shard.deleted.contains_key(key) {
            return Local::Deleted;
        }
        let seen = shard.live.get(key).copied();
        if seen.is_some_and(|a| a.expired) {
            return Local::Expired;
        }
        let last = seen.map_or(issued, |a| a.last.max(issued));
        if now.saturating_sub(last) > self.idle {
            return Local::Unknown;
        }
        let persisted = seen.map_or(issued, |a| a.persisted);
        shard.live.insert(
            *key,
            Activity {
                last: now.max(last),
                persisted,
                expired: false,
            },
        );
        Local::Fresh
    }

    /// Ask the store about a session this replica has not seen recently (after a restart, or
    /// active on another replica). The answer is cached, so this happens once per replica.
    async fn check_store(&self, store: &DynStore, key: &[u8; 32], issued: u64, now: u64) -> bool {
        let record = match store.session_record(&hex::encode(key)).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read session state; refusing the session");
                return false;
            }
        };
        let mut shard = lock(&self.shards[shard_of(key)]);
        if let Some(until) = record.deleted_until {
            shard.deleted.insert(*key, us_to_secs(until));
            return false;
        }
        // Activity within `granularity` of the issue time is not written: the id carries it.
        let last = record.last_active.map_or(issued, us_to_secs).max(issued);
        // Strict: the store's view lags another replica's by at most `slack`, so a session
        // resumed elsewhere after nearly the whole time-out may be refused here (fail closed).
        let alive = now.saturating_sub(last) <= self.idle;
        shard.live.insert(
            *key,
            Activity {
                last: if alive { now } else { last },
                persisted: last,
                expired: !alive,
            },
        );
        alive
    }

    /// End a session: recorded in the store (so every replica refuses it) until it would have
    /// expired anyway.
    pub async fn delete(&self, store: &DynStore, sid: &str) -> Result<(), StoreError> {
        let key = digest(sid);
        let until = clock::now_secs().saturating_add(self.idle + self.slack());
        store
            .delete_session(&hex::encode(key), secs_to_us(until))
            .await?;
        let mut shard = lock(&self.shards[shard_of(&key)]);
        shard.live.remove(&key);
        shard.deleted.insert(key, until);
        Ok(())
    }

    /// Charge one `initialize` or `DELETE` to a token (its tenant and root jti).
    pub fn admit(
        &self,
        tenant: &str,
        root_jti: &str,
        subject: &str,
        now: f64,
    ) -> Result<(), RateRefusal> {
        let key = (tenant.to_string(), root_jti.to_string());
        let shard = usize::from(digest(root_jti)[0]) % SHARDS;
        let mut buckets = lock(&self.buckets[shard]);
        let capacity = f64::from(self.per_minute.max(1));
        let b = buckets.entry(key).or_insert_with(|| Bucket {
            tokens: capacity,
            at: now,
            recorded_second: 0,
            decision_id: None,
            counted: 0,
            subject: subject.to_string(),
        });
        b.tokens = (b.tokens + (now - b.at).max(0.0) * capacity / 60.0).min(capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        // One chained refusal per token per second; the others are counted into the next.
        let second = now as u64;
        if b.recorded_second == second {
            b.counted += 1;
            return Err(RateRefusal::Counted {
                decision_id: b.decision_id.clone(),
            });
        }
        b.recorded_second = second;
        let earlier = std::mem::take(&mut b.counted);
        Err(RateRefusal::Record { earlier })
    }

    /// Remember the entry that recorded a token's latest refusal (its id answers the counted).
    pub fn recorded(&self, tenant: &str, root_jti: &str, decision_id: Option<String>) {
        let shard = usize::from(digest(root_jti)[0]) % SHARDS;
        let mut buckets = lock(&self.buckets[shard]);
        if let Some(b) = buckets.get_mut(&(tenant.to_string(), root_jti.to_string())) {
            b.decision_id = decision_id;
        }
    }

    /// Refusals counted in seconds that are over, to chain as summaries; drops buckets that
    /// have refilled (nothing left to remember).
    pub fn take_refusal_summaries(&self, now: f64) -> Vec<RefusalSummary> {
        let capacity = f64::from(self.per_minute.max(1));
        let mut out = Vec::new();
        for shard in &self.buckets {
            let mut buckets = lock(shard);
            for ((tenant, root_jti), b) in buckets.iter_mut() {
                if b.counted > 0 && (b.recorded_second as f64) < now.floor() {
                    out.push(RefusalSummary {
                        tenant: tenant.clone(),
                        root_jti: root_jti.clone(),
                        subject: b.subject.clone(),
                        count: std::mem::take(&mut b.counted),
                    });
                }
            }
            buckets.retain(|_, b| {
                b.counted > 0 || b.tokens + (now - b.at) * capacity / 60.0 < capacity
            });
        }
        out
    }

    /// Background upkeep, about once a second: write recent activity to the store in one batch,
    /// learn deletions made by other replicas, and (when `prune`) forget what has expired, here
    /// and in the store.
    pub async fn maintain(&self, store: &DynStore, prune: bool) -> Result<(), StoreError> {
        let now = clock::now_secs();
        let batch = self.unpersisted();
        if !batch.is_empty() {
            store.touch_sessions(&batch).await?;
        }
        self.sync_deletions(store).await?;
        if prune {
            self.prune(now);
            let active_before = secs_to_us(now.saturating_sub(self.idle + self.slack()));
            store.prune_sessions(clock::now_us(), active_before).await?;
        }
        Ok(())
    }

    /// Activity not yet in the store (at most one write per session per `granularity`).
    fn unpersisted(&self) -> Vec<(String, i64)> {
        let mut batch = Vec::new();
        for shard in &self.shards {
            let mut shard = lock(shard);
            for (key, a) in shard.live.iter_mut() {
                if !a.expired && a.last >= a.persisted.saturating_add(self.granularity) {
                    a.persisted = a.last;
                    batch.push((hex::encode(key), secs_to_us(a.last)));
                }
            }
        }
        batch
    }

    async fn sync_deletions(&self, store: &DynStore) -> Result<(), StoreError> {
        // Re-read a few seconds back: replicas' clocks differ a little, so expiries written
        // elsewhere do not arrive strictly in order.
        let after = lock(&self.synced_deletions).saturating_sub(10_000_000);
        let rows = store.deleted_sessions(after).await?;
        let mut newest = after;
        for (hash, until) in rows {
            newest = newest.max(until);
            let mut key = [0u8; 32];
            if hex::decode_to_slice(&hash, &mut key).is_err() {
                continue;
            }
            let mut shard = lock(&self.shards[shard_of(&key)]);
            shard.live.remove(&key);
            shard.deleted.insert(key, us_to_secs(until));
        }
        *lock(&self.synced_deletions) = newest;
        Ok(())
    }

    fn prune(&self, now: u64) {
        let horizon = self.idle + self.slack();
        for shard in &self.shards {
            let mut shard = lock(shard);
            shard
                .live
                .retain(|_, a| now.saturating_sub(a.last) <= horizon);
            shard.deleted.retain(|_, until| *until >= now);
        }
    }

    /// Ids tracked in memory (live and deleted), for tests and metrics.
    pub fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = lock(s);
                s.live.len() + s.deleted.len()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(i: u64) -> SessionState {
        SessionState {
            t: "acme".into(),
            s: "bot".into(),
            i,
            v: "2025-11-25".into(),
            u: None,
        }
    }

    async fn store(dir: &std::path::Path) -> DynStore {
        let store = crate::store::sqlite::SqliteStore::open(
            &dir.join("igd.db"),
            crate::config::AuditSync::Normal,
        )
        .await
        .unwrap();
        std::sync::Arc::new(store)
    }

    /// Deleted ids and idle activity are forgotten once expired — in memory and in the store —
    /// by the background upkeep; a request never sweeps.
    #[tokio::test]
    async fn expired_session_state_is_pruned_in_memory_and_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path()).await;
        let sessions = Sessions::new([3; 32], 1, 60);
        let now = clock::now_secs();
        let ids: Vec<String> = (0..400).map(|_| sessions.seal(&state(now))).collect();
        for id in &ids {
            assert!(sessions.open(&store, id, "acme", "bot").await.is_some());
        }
        for id in &ids[..200] {
            sessions.delete(&store, id).await.unwrap();
            assert!(sessions.open(&store, id, "acme", "bot").await.is_none());
        }
        assert_eq!(sessions.tracked(), 400);
        // Another replica learns the deletions from the store.
        let other = Sessions::new([3; 32], 1, 60);
        other.maintain(&store, false).await.unwrap();
        assert!(other.open(&store, &ids[0], "acme", "bot").await.is_none());
        assert!(other.open(&store, &ids[300], "acme", "bot").await.is_some());

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            sessions.maintain(&store, true).await.unwrap();
            let record = store.session_record(&id_hash(&ids[0])).await.unwrap();
            if sessions.tracked() == 0 && record.deleted_until.is_none() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} still tracked",
                sessions.tracked()
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(store.deleted_sessions(0).await.unwrap().is_empty());
    }

    #[test]
    fn the_session_rate_is_per_token_and_refusals_are_counted() {
        let sessions = Sessions::new([3; 32], 60, 2);
        let t = 1000.0;
        assert_eq!(sessions.admit("acme", "j1", "bot", t), Ok(()));
        assert_eq!(sessions.admit("acme", "j1", "bot", t), Ok(()));
        assert_eq!(
            sessions.admit("acme", "j1", "bot", t),
            Err(RateRefusal::Record { earlier: 0 })
        );
        sessions.recorded("acme", "j1", Some("e1".into()));
        assert_eq!(
            sessions.admit("acme", "j1", "bot", t + 0.5),
            Err(RateRefusal::Counted {
                decision_id: Some("e1".into())
            })
        );
        assert_eq!(sessions.admit("acme", "j2", "bot", t), Ok(()));
        assert_eq!(
            sessions.take_refusal_summaries(t + 1.0),
            vec![RefusalSummary {
                tenant: "acme".into(),
                root_jti: "j1".into(),
                subject: "bot".into(),
                count: 1
            }]
        );
        // Two per minute: one more after 30 s.
        assert_eq!(sessions.admit("acme", "j1", "bot", t + 31.0), Ok(()));
        assert!(sessions.take_refusal_summaries(t + 200.0).is_empty());
        assert_eq!(
            sessions
                .buckets
                .iter()
                .map(|b| lock(b).len())
                .sum::<usize>(),
            0
        );
    }

    #[test]
    fn seal_open_and_tamper() {
        let s = SessionSealer::new([7; 32]);
        let state = SessionState {
            t: "acme".into(),
            s: "bot".into(),
            i: 5,
            v: "2025-11-25".into(),
            u: Some("up".into()),
        };
        let id = s.seal(&state);
        assert!(id.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        assert_eq!(s.open(&id), Some(state));
        let mut bad = id.clone().into_bytes();
        let n = bad.len() - 3;
        bad[n] = if bad[n] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.open(&String::from_utf8(bad).unwrap()), None);
        assert_eq!(SessionSealer::new([8; 32]).open(&id), None);
        assert_eq!(s.open("igs1.!!"), None);
    }
}
