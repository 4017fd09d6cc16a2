//! Which policy decides (DESIGN §4.3): the policy store's active pointer, else
//! `INTENTGATE_POLICY_FILE`, else the embedded deny-all. This module owns that choice and
//! publishes the prepared [`PolicySnapshot`] into the gateway's `ArcSwap` in one atomic store, so
//! a call sees either the old policy or the new one, never a half-loaded one.
//!
//! The store layer is read at start, after every local promote/rollback/clear, and by the
//! replica resync loop (a notification or every 0.5 s) on a shared store, so other replicas
//! follow a change within a second. The history's newest row is the pointer; a replica only
//! re-prepares when that row's seq changed.

use crate::policy::PolicySnapshot;
use crate::store::{DynStore, PolicyHistoryRecord, StoreResult};
use arc_swap::ArcSwap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The module name a store policy is prepared under (its revision covers name and text).
pub const STORE_MODULE: &str = "policy.rego";

/// Which layer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Store,
    File,
    Embedded,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Store => "store",
            Layer::File => "file",
            Layer::Embedded => "embedded",
        }
    }
}

/// What is in force, as the admin API reports it.
#[derive(Debug, Clone)]
pub struct InForce {
    pub layer: Layer,
    pub snapshot: Arc<PolicySnapshot>,
    /// The store history row in force (store layer only).
    pub row: Option<PolicyHistoryRecord>,
    /// Why the store's active policy could not be loaded (igd then denies every call).
    pub error: Option<String>,
}

#[derive(Debug)]
struct State {
    /// The history head last applied (`None`: none seen yet, or the store is off).
    applied: Option<i64>,
    /// The prepared policy file (or the embedded default), the layer below the store.
    below: Arc<PolicySnapshot>,
    below_layer: Layer,
    in_force: InForce,
}

/// The policy layers and the choice between them.
#[derive(Debug)]
pub struct PolicyLayers {
    store_enabled: bool,
    timeout: Duration,
    state: Mutex<State>,
}

impl PolicyLayers {
    /// Start with `below` (the policy file's snapshot, or the embedded default) in force until
    /// the store is read.
    pub fn new(
        below: PolicySnapshot,
        from_file: bool,
        store_enabled: bool,
        timeout: Duration,
    ) -> Self {
        let below = Arc::new(below);
        PolicyLayers {
            store_enabled,
            timeout,
            state: Mutex::new(State {
                applied: None,
                below: below.clone(),
                below_layer: below_layer(from_file),
                in_force: InForce {
                    layer: below_layer(from_file),
                    snapshot: below,
                    row: None,
                    error: None,
                },
            }),
        }
    }

    pub fn store_enabled(&self) -> bool {
        self.store_enabled
    }

    /// Prepare a store policy's source.
    pub fn prepare(&self, source: &str, origin: &str) -> Result<PolicySnapshot, String> {
        PolicySnapshot::prepare(
            &[(STORE_MODULE.to_string(), source.to_string())],
            origin,
            self.timeout,
        )
    }

    /// What is in force now.
    pub fn in_force(&self) -> InForce {
        self.lock().in_force.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written (every write is
        // one assignment), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follow the store's active pointer: when its head changed since the last look, prepare
    /// the policy it names (or fall back to the layer below) and publish it into `target`.
    /// Returns whether anything changed.
    pub async fn sync(
        &self,
        store: &DynStore,
        target: &ArcSwap<PolicySnapshot>,
    ) -> StoreResult<bool> {
        if !self.store_enabled {
            return Ok(false);
        }
        let head = store.policy_head_seq().await?;
        if head.is_some() && self.lock().applied == head {
            return Ok(false);
        }
        let row = match head {
            Some(seq) => store.policy_history_row(seq).await?,
            None => None,
        };
        let next = match row {
            Some(row) => match (&row.revision, &row.source) {
                (Some(_), Some(source)) => {
                    let origin = format!(
                        "policy store: {} (draft {}, change {})",
                        row.name.as_deref().unwrap_or("?"),
                        row.draft_id.as_deref().unwrap_or("?"),
                        row.seq
                    );
                    match self.prepare(source, &origin) {
                        Ok(snapshot) => Some((Layer::Store, Arc::new(snapshot), Some(row), None)),
                        Err(e) => {
                            // Fail closed: a store policy that cannot be loaded (a database
                            // edited by hand, an igd that cannot read what an older one wrote)
                            // must not hand the decision to a policy file nobody promoted.
                            tracing::error!(seq = row.seq, error = %e, "the active policy in the policy store cannot be loaded; denying every call until it is fixed (promote, roll back or clear it)");
                            let deny = Arc::new(PolicySnapshot::embedded(self.timeout));
                            Some((Layer::Embedded, deny, Some(row), Some(e)))
                        }
                    }
                }
                _ => None,
            },
            None => None,
        };
        let mut state = self.lock();
        let in_force = match next {
            Some((layer, snapshot, row, error)) => InForce {
                layer,
                snapshot,
                row,
                error,
            },
            None => InForce {
                layer: state.below_layer,
                snapshot: state.below.clone(),
                row: None,
                error: None,
            },
        };
        let changed = in_force.snapshot.revision != state.in_force.snapshot.revision
            || in_force.layer != state.in_force.layer;
        if changed {
            tracing::info!(layer = in_force.layer.as_str(), revision = %in_force.snapshot.revision, origin = %in_force.snapshot.origin, "policy in force");
        }
        target.store(in_force.snapshot.clone());
        state.in_force = in_force;
        state.applied = head;
        Ok(changed)
    }

    /// A new policy file (SIGHUP): it takes effect at once unless the store layer decides.
    pub fn replace_below(
        &self,
        below: PolicySnapshot,
        from_file: bool,
        target: &ArcSwap<PolicySnapshot>,
    ) {
        let below = Arc::new(below);
        let mut state = self.lock();
        state.below = below.clone();
        state.below_layer = below_layer(from_file);
        if state.in_force.layer != Layer::Store && state.in_force.error.is_none() {
            state.in_force = InForce {
                layer: below_layer(from_file),
                snapshot: below.clone(),
                row: None,
                error: None,
            };
            target.store(below);
        }
    }
}

fn below_layer(from_file: bool) -> Layer {
    if from_file {
        Layer::File
    } else {
        Layer::Embedded
    }
}
