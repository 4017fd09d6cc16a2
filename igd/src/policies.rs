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
use std::time::{Duration, Instant};

/// How long after a failed load of the store's active policy igd tries again (doubling up to
/// the second).
const RETRY_FAILED_LOAD: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(300);
/// How often igd looks at the store's active pointer (a change reaches every replica within
/// this plus the time to prepare the policy).
pub const SYNC_EVERY: Duration = Duration::from_millis(500);

/// What decides while the store's active policy cannot be loaded: nothing is allowed, and the
/// reason says where to look.
const FAIL_CLOSED: &str = r#"package intentgate.policy

decision := {"allow": false, "reason": "the policy store's active policy cannot be loaded, so every call is denied (igctl policy active shows why; promote, roll back or clear to repair)"}
"#;

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
    /// When to try again to load a store policy that failed to load.
    retry_at: Option<Instant>,
    retry_delay: Duration,
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
    /// Held across one whole `sync` (read, prepare, publish).
    syncing: tokio::sync::Mutex<()>,
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
            syncing: tokio::sync::Mutex::new(()),
            state: Mutex::new(State {
                applied: None,
                retry_at: None,
                retry_delay: Duration::ZERO,
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

    /// What is in force now.
    pub fn in_force(&self) -> InForce {
        self.lock().in_force.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written (every write is
        // one assignment), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Prepare a store policy on the blocking pool: a large policy's parse and warm-up must not
    /// hold an async worker that serves agent calls.
    pub async fn prepare_off_workers(
        &self,
        source: String,
        origin: String,
    ) -> Result<PolicySnapshot, String> {
        let timeout = self.timeout;
        tokio::task::spawn_blocking(move || {
            PolicySnapshot::prepare(&[(STORE_MODULE.to_string(), source)], &origin, timeout)
        })
        .await
        .unwrap_or_else(|e| Err(format!("preparing the policy failed: {e}")))
    }

    /// Follow the store's active pointer: when its head changed since the last look, prepare
    /// the policy it names (or fall back to the layer below) and publish it into `target`.
    /// Returns whether anything changed. One sync runs at a time, and the head applied never
    /// goes back, so a slow sync cannot publish an older policy over a newer one.
    pub async fn sync(
        &self,
        store: &DynStore,
        target: &ArcSwap<PolicySnapshot>,
    ) -> StoreResult<bool> {
        if !self.store_enabled {
            return Ok(false);
        }
        let _turn = self.syncing.lock().await;
        let head = store.policy_head_seq().await?;
        {
            let state = self.lock();
            let retry_due = state.retry_at.is_some_and(|t| Instant::now() >= t);
            if head.is_some() && state.applied == head && !retry_due {
                return Ok(false);
            }
            if let (Some(h), Some(a)) = (head, state.applied) {
                // Syncs run one at a time, so a head behind the one applied means the database
                // went back (a restore): follow it, as every replica will.
                if h < a {
                    tracing::warn!(
                        head = h,
                        applied = a,
                        "the policy history went back (a database restore?); following it"
                    );
                }
            }
        }
        let row = match head {
            Some(seq) => match store.policy_history_row(seq).await? {
                Some(row) => Some(row),
                None => {
                    let e = format!("the policy history's head {seq} has no row");
                    Some(PolicyHistoryRecord {
                        seq,
                        action: "missing".into(),
                        draft_id: None,
                        name: None,
                        revision: Some(e.clone()),
                        source: None,
                        prev_seq: None,
                        actor: String::new(),
                        at: 0,
                    })
                }
            },
            None => None,
        };
        let mut failed = false;
        let next = match row {
            None => None,
            Some(row) => match (row.revision.clone(), row.source.clone()) {
                // A clear, or a rollback to before the first promotion: the layer below.
                (None, None) => None,
                (Some(revision), Some(source)) => {
                    let origin = format!(
                        "policy store: {} (draft {}, change {})",
                        row.name.as_deref().unwrap_or("?"),
                        row.draft_id.as_deref().unwrap_or("?"),
                        row.seq
                    );
                    let prepared = match self.prepare_off_workers(source, origin).await {
                        Ok(s) if s.revision == revision => Ok(s),
                        Ok(s) => Err(format!(
                            "its source has revision {} but the history names {revision}: the database was changed outside igd",
                            s.revision
                        )),
                        Err(e) => Err(e),
                    };
                    match prepared {
                        Ok(snapshot) => Some((Layer::Store, Arc::new(snapshot), Some(row), None)),
                        Err(e) => {
                            failed = true;
                            Some(self.fail_closed(row, e))
                        }
                    }
                }
                _ => {
                    failed = true;
                    let e = "the history row names a policy without its source, or a source without its revision".to_string();
                    Some(self.fail_closed(row, e))
                }
            },
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
        // A failure is tried again (a busy moment, a database being repaired), backing off to
        // every few minutes for one that keeps failing the same way.
        if failed {
            state.retry_delay = (state.retry_delay * 2).clamp(RETRY_FAILED_LOAD, RETRY_MAX);
            state.retry_at = Some(Instant::now() + state.retry_delay);
        } else {
            state.retry_delay = Duration::ZERO;
            state.retry_at = None;
        }
        Ok(changed)
    }

    /// Fail closed: a store policy that cannot be loaded (a database edited by hand, an igd
    /// that cannot read what a newer one wrote) must not hand the decision to a policy file
    /// nobody promoted.
    fn fail_closed(
        &self,
        row: PolicyHistoryRecord,
        error: String,
    ) -> (
        Layer,
        Arc<PolicySnapshot>,
        Option<PolicyHistoryRecord>,
        Option<String>,
    ) {
        tracing::error!(seq = row.seq, error = %error, "the active policy in the policy store cannot be loaded; denying every call until it is fixed (promote, roll back or clear it)");
        let deny = PolicySnapshot::prepare(
            &[("fail-closed.rego".to_string(), FAIL_CLOSED.to_string())],
            "fail closed: the store's active policy cannot be loaded",
            self.timeout,
        )
        .unwrap_or_else(|_| PolicySnapshot::embedded(self.timeout));
        (Layer::Embedded, Arc::new(deny), Some(row), Some(error))
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
