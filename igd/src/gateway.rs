//! The shared state of a running igd: settings, keys, store, audit writer, and the in-memory
//! revocation and stop sets that every call is checked against without touching the database.

use crate::audit::{AuditError, AuditWriter, Record};
use crate::budget::Budgets;
use crate::checkpoints::Signer;
use crate::clock;
use crate::config::Settings;
use crate::policy::PolicySnapshot;
use crate::secrets::Keys;
use crate::sessions::SessionSealer;
use crate::store::{DynStore, StoreError};
use crate::unauth::UnauthenticatedLog;
use crate::upstream::Upstream;
use arc_swap::ArcSwap;
use intentgate_proto::audit::Entry;
use intentgate_proto::ids::new_id;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Everything a request handler needs.
#[derive(Debug)]
pub struct Gateway {
    pub settings: Settings,
    pub keys: Keys,
    pub store: DynStore,
    pub audit: AuditWriter,
    pub instance: String,
    pub deployment_id: String,
    pub policy: ArcSwap<PolicySnapshot>,
    pub budgets: Arc<Budgets>,
    pub sessions: SessionSealer,
    pub upstream: Upstream,
    pub unauthenticated: UnauthenticatedLog,
    pub signer: Signer,
    deleted_sessions: Mutex<HashSet<String>>,
    session_seen: Mutex<HashMap<String, u64>>,
    revoked: ArcSwap<HashSet<(String, String)>>,
    stops: ArcSwap<HashSet<(String, Option<String>)>>,
    ready: AtomicBool,
}

impl std::fmt::Debug for dyn crate::store::Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// What a [`Gateway`] is built from.
#[derive(Debug)]
pub struct Parts {
    pub settings: Settings,
    pub keys: Keys,
    pub store: DynStore,
    pub audit: AuditWriter,
    pub instance: String,
    pub deployment_id: String,
    pub policy: PolicySnapshot,
    pub budgets: Arc<Budgets>,
    pub upstream: Upstream,
    pub signer: Signer,
}

impl Gateway {
    pub fn new(p: Parts) -> Self {
        let sessions =
            SessionSealer::new(p.keys.master.derive(intentgate_proto::keys::INFO_SESSION));
        Gateway {
            settings: p.settings,
            keys: p.keys,
            store: p.store,
            audit: p.audit,
            instance: p.instance,
            deployment_id: p.deployment_id,
            policy: ArcSwap::from_pointee(p.policy),
            budgets: p.budgets,
            sessions,
            upstream: p.upstream,
            unauthenticated: UnauthenticatedLog::default(),
            signer: p.signer,
            deleted_sessions: Mutex::new(HashSet::new()),
            session_seen: Mutex::new(HashMap::new()),
            revoked: ArcSwap::from_pointee(HashSet::new()),
            stops: ArcSwap::from_pointee(HashSet::new()),
            ready: AtomicBool::new(false),
        }
    }

    /// Load deleted session ids from the store.
    pub async fn reload_deleted_sessions(&self) -> Result<(), StoreError> {
        let ids = self.store.deleted_sessions(clock::now_us()).await?;
        let mut set = self
            .deleted_sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        set.extend(ids);
        Ok(())
    }

    pub fn session_deleted(&self, hash: &str) -> bool {
        self.deleted_sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(hash)
    }

    pub fn mark_session_deleted(&self, hash: String) {
        self.deleted_sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(hash);
    }

    /// Record use of a session now; returns the previous activity time (or its issue time).
    pub fn session_touch(&self, hash: &str, issued: u64, now: u64) -> u64 {
        let mut seen = self.session_seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            let idle = self.settings.session_idle_timeout;
            seen.retain(|_, t| now.saturating_sub(*t) <= idle);
        }
        let last = seen.get(hash).copied().unwrap_or(issued).max(issued);
        if now.saturating_sub(last) <= self.settings.session_idle_timeout {
            seen.insert(hash.to_string(), now);
        }
        last
    }

    /// Load revocations and stops from the store into memory.
    pub async fn reload_revocations_and_stops(&self) -> Result<(), StoreError> {
        let revoked: HashSet<(String, String)> = self
            .store
            .revocations()
            .await?
            .into_iter()
            .map(|r| (r.tenant, r.jti))
            .collect();
        let stops: HashSet<(String, Option<String>)> = self
            .store
            .stops()
            .await?
            .into_iter()
            .map(|s| (s.tenant, s.subject))
            .collect();
        self.revoked.store(Arc::new(revoked));
        self.stops.store(Arc::new(stops));
        Ok(())
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// True once revocations and stops are loaded and the store answered.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The first jti of `chain` that is revoked in `tenant`, if any.
    pub fn revoked_in_chain<'a>(
        &self,
        tenant: &str,
        chain: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        let set = self.revoked.load();
        chain
            .into_iter()
            .find(|jti| set.contains(&(tenant.to_string(), (*jti).to_string())))
    }

    /// Whether a stop covers this tenant or (tenant, subject).
    pub fn stopped(&self, tenant: &str, subject: &str) -> bool {
        let set = self.stops.load();
        set.contains(&(tenant.to_string(), None))
            || set.contains(&(tenant.to_string(), Some(subject.to_string())))
    }

    pub fn add_revocation(&self, tenant: &str, jti: &str) {
        self.revoked.rcu(|set| {
            let mut next = HashSet::clone(set);
            next.insert((tenant.to_string(), jti.to_string()));
            next
        });
    }

    pub fn set_stop(&self, tenant: &str, subject: Option<&str>, on: bool) {
        self.stops.rcu(|set| {
            let mut next = HashSet::clone(set);
            let key = (tenant.to_string(), subject.map(String::from));
            if on {
                next.insert(key);
            } else {
                next.remove(&key);
            }
            next
        });
    }

    /// A new unsealed entry of `kind` in `tenant` stamped with time, id and instance.
    pub fn new_entry(&self, tenant: &str, kind: &str) -> Entry {
        Entry {
            tenant: tenant.to_string(),
            kind: kind.to_string(),
            event_id: new_id(),
            ts: clock::now_us(),
            instance: self.instance.clone(),
            ..Entry::default()
        }
    }

    /// Chain a state-changing admin action and wait until it is durable.
    pub async fn record_admin(
        &self,
        tenant: &str,
        actor: &str,
        action: &str,
        target: &str,
        reason: Option<&str>,
    ) -> Result<Entry, AuditError> {
        let mut entry = self.new_entry(tenant, "admin");
        entry.actor = Some(actor.to_string());
        entry.action = Some(action.to_string());
        entry.target = Some(target.to_string());
        entry.reason = reason.filter(|r| !r.is_empty()).map(String::from);
        self.audit
            .append(Record {
                entry,
                ..Record::default()
            })
            .await
    }
}
