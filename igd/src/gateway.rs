//! The shared state of a running igd: settings, keys, store, audit writer, and the in-memory
//! revocation and stop sets that every call is checked against without touching the database.

use crate::audit::{AuditError, AuditWriter, Record};
use crate::budget::Budgets;
use crate::checkpoints::Signer;
use crate::clock;
use crate::config::Settings;
use crate::policy::PolicySnapshot;
use crate::secrets::Keys;
use crate::server_requests::ServerRequests;
use crate::sessions::Sessions;
use crate::store::{DynStore, StoreError};
use crate::unauth::UnauthenticatedLog;
use crate::upstream::Upstream;
use arc_swap::ArcSwap;
use intentgate_proto::audit::Entry;
use intentgate_proto::ids::new_id;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// tenant → a set of names (jtis, subjects).
type TenantSets = HashMap<String, HashSet<String>>;

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
    pub sessions: Sessions,
    pub upstream: Upstream,
    pub unauthenticated: UnauthenticatedLog,
    /// Requests upstream sent to 2025-era client sessions, awaiting the client's response.
    pub server_requests: ServerRequests,
    pub signer: Arc<Signer>,
    /// tenant → revoked jtis; looked up by `&str` on every call, no allocation.
    revoked: ArcSwap<TenantSets>,
    /// tenant → stopped subjects, `""` meaning the whole tenant.
    stops: ArcSwap<TenantSets>,
    ready: AtomicBool,
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
    pub signer: Arc<Signer>,
}

impl Gateway {
    pub fn new(p: Parts) -> Self {
        let sessions = Sessions::new(
            p.keys.master.derive(intentgate_proto::keys::INFO_SESSION),
            p.settings.session_idle_timeout,
            p.settings.session_ops_per_minute,
        );
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
            server_requests: ServerRequests::default(),
            signer: p.signer,
            revoked: ArcSwap::from_pointee(TenantSets::new()),
            stops: ArcSwap::from_pointee(TenantSets::new()),
            ready: AtomicBool::new(false),
        }
    }

    /// Load revocations and stops from the store into memory.
    pub async fn reload_revocations_and_stops(&self) -> Result<(), StoreError> {
        let mut revoked = TenantSets::new();
        for r in self.store.revocations().await? {
            revoked.entry(r.tenant).or_default().insert(r.jti);
        }
        let mut stops = TenantSets::new();
        for s in self.store.stops().await? {
            stops
                .entry(s.tenant)
                .or_default()
                .insert(s.subject.unwrap_or_default());
        }
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
        let sets = self.revoked.load();
        let revoked = sets.get(tenant)?;
        chain.into_iter().find(|jti| revoked.contains(*jti))
    }

    /// Whether a stop covers this tenant or (tenant, subject).
    pub fn stopped(&self, tenant: &str, subject: &str) -> bool {
        self.stops
            .load()
            .get(tenant)
            .is_some_and(|s| s.contains("") || s.contains(subject))
    }

    pub fn add_revocation(&self, tenant: &str, jti: &str) {
        self.revoked.rcu(|sets| {
            let mut next = TenantSets::clone(sets);
            next.entry(tenant.to_string())
                .or_default()
                .insert(jti.to_string());
            next
        });
    }

    pub fn set_stop(&self, tenant: &str, subject: Option<&str>, on: bool) {
        self.stops.rcu(|sets| {
            let mut next = TenantSets::clone(sets);
            let subjects = next.entry(tenant.to_string()).or_default();
            if on {
                subjects.insert(subject.unwrap_or_default().to_string());
            } else {
                subjects.remove(subject.unwrap_or_default());
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
