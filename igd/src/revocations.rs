//! Revocations and emergency stops, held in memory and checked on every call without touching
//! the database; the store is the truth, reloaded at start and every few seconds (other
//! replicas' changes) and updated at once by this replica's admin API.
//!
//! [`Revocations::check`] is the one liveness check of a capability token: the transport calls
//! it to answer 401, the pipeline calls it again before a decision (a call decided later, after
//! an approval, must still be live), with the same reasons.

use crate::store::{DynStore, StoreError};
use arc_swap::ArcSwap;
use intentgate_proto::token::Claims;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// tenant → a set of names (jtis, subjects).
type TenantSets = HashMap<String, HashSet<String>>;

/// The revoked jtis and stopped agents of every tenant.
#[derive(Debug, Default)]
pub struct Revocations {
    /// tenant → revoked jtis; looked up by `&str` on every call, no allocation.
    revoked: ArcSwap<TenantSets>,
    /// tenant → stopped subjects, `""` meaning the whole tenant.
    stops: ArcSwap<TenantSets>,
}

impl Revocations {
    /// Load revocations and stops from the store, replacing what is held.
    pub async fn load(&self, store: &DynStore) -> Result<(), StoreError> {
        let mut revoked = TenantSets::new();
        for r in store.revocations().await? {
            revoked.entry(r.tenant).or_default().insert(r.jti);
        }
        let mut stops = TenantSets::new();
        for s in store.stops().await? {
            stops
                .entry(s.tenant)
                .or_default()
                .insert(s.subject.unwrap_or_default());
        }
        self.revoked.store(Arc::new(revoked));
        self.stops.store(Arc::new(stops));
        Ok(())
    }

    /// Whether a token whose signature verified is still live at `now` (seconds): not expired,
    /// no jti of its chain revoked, no stop on its tenant or subject. `Err` is the reason.
    pub fn check(&self, claims: &Claims, now: u64) -> Result<(), String> {
        use crate::metrics::{lookup, Lookup};
        let tenant = claims.root.tenant.as_str();
        if claims.check_expiry(now).is_err() {
            lookup(Lookup::Expired);
            return Err("token expired".into());
        }
        if let Some(jti) = self.revoked_in_chain(tenant, claims.chain()) {
            lookup(Lookup::Revoked);
            return Err(format!("token revoked (jti {jti})"));
        }
        if self.stopped(tenant, &claims.root.sub) {
            lookup(Lookup::Stopped);
            return Err("an emergency stop is in force for this agent".into());
        }
        lookup(Lookup::NotRevoked);
        Ok(())
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

    pub fn revoke(&self, tenant: &str, jti: &str) {
        self.revoked.rcu(|sets| {
            let mut next = TenantSets::clone(sets);
            next.entry(tenant.to_string())
                .or_default()
                .insert(jti.to_string());
            next
        });
    }

    /// Put a stop on (`on`) or lift it from a tenant, or one subject in it.
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
}
