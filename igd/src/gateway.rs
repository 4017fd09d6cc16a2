//! The shared state of a running igd: settings, keys, store, audit writer, and the in-memory
//! revocation and stop sets that every call is checked against without touching the database.

use crate::audit::{AuditError, AuditWriter, Record};
use crate::clock;
use crate::config::Settings;
use crate::secrets::Keys;
use crate::store::{DynStore, StoreError};
use arc_swap::ArcSwap;
use intentgate_proto::audit::Entry;
use intentgate_proto::ids::new_id;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct Gateway {
    pub settings: Settings,
    pub keys: Keys,
    pub store: DynStore,
    pub audit: AuditWriter,
    pub instance: String,
    pub deployment_id: String,
    revoked: ArcSwap<HashSet<(String, String)>>,
    stops: ArcSwap<HashSet<(String, Option<String>)>>,
    ready: AtomicBool,
}

impl std::fmt::Debug for dyn crate::store::Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Gateway {
    pub fn new(
        settings: Settings,
        keys: Keys,
        store: DynStore,
        audit: AuditWriter,
        instance: String,
        deployment_id: String,
    ) -> Self {
        Gateway {
            settings,
            keys,
            store,
            audit,
            instance,
            deployment_id,
            revoked: ArcSwap::from_pointee(HashSet::new()),
            stops: ArcSwap::from_pointee(HashSet::new()),
            ready: AtomicBool::new(false),
        }
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
