//! Storage: one trait, one implementation per database (SQLite embedded default, PostgreSQL for
//! replicas). Domain code talks only to [`Store`]; SQL lives in the implementations.

pub mod postgres;
mod rows;
pub mod sqlite;

use async_trait::async_trait;
use intentgate_proto::audit::{Entry, GENESIS_HASH};
use std::collections::HashMap;
use std::sync::Arc;

/// A storage failure. igd fails closed on every one of them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be used right now (disk full, locked, down); retrying may work.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness constraint refused the write (a concurrent writer got there first).
    #[error("storage conflict: {0}")]
    Conflict(String),
    /// Stored data cannot be read back as written.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Metadata of a minted root token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub jti: String,
    pub tenant: String,
    pub subject: String,
    pub tools: Vec<String>,
    pub max_calls: u64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub minted_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRecord {
    pub tenant: String,
    pub jti: String,
    pub reason: String,
    pub revoked_at: i64,
    pub revoked_by: String,
    /// After this time (µs) the revoked token has expired and the row may be pruned.
    pub prune_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopRecord {
    pub tenant: String,
    pub subject: Option<String>,
    pub reason: String,
    pub created_at: i64,
    pub created_by: String,
}

/// The shared state of one MCP session id (by hash).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRecord {
    /// Last activity written by any replica (µs), coarse.
    pub last_active: Option<i64>,
    /// Deleted, and refused until this time (µs).
    pub deleted_until: Option<i64>,
}

/// The newest entry of one tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub tenant: String,
    pub seq: u64,
    pub hash: String,
}

/// Data kept beside a chain entry (erasable without breaking the chain; never hashed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideRecord {
    /// The args commitment's salt (hex); absent in `off` mode.
    pub salt: Option<String>,
    /// Argument values per `INTENTGATE_AUDIT_PERSIST_ARG_VALUES` (JSON).
    pub args: Option<String>,
    /// What policy dry-run needs beyond the entry itself (compact JSON, see
    /// `pipeline::PolicyContext`).
    pub policy_context: Option<String>,
}

/// An entry to append, with what is stored beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendEntry {
    pub entry: Entry,
    /// The seq (same tenant) of the entry `ref_event_id` names, so outcomes and approvals are
    /// found through (tenant, seq), never through a random-keyed index.
    pub ref_seq: Option<u64>,
    pub side: Option<SideRecord>,
}

/// One `max_calls` charge at one chain level.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetCharge {
    pub tenant: String,
    pub root_jti: String,
    pub jti: String,
}

/// One forwarded call counted for the policy counters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallCount {
    pub tenant: String,
    pub subject: String,
    pub tool: String,
    pub hour: i64,
}

/// Everything one group commit writes, in one transaction.
#[derive(Debug, Clone, Default)]
pub struct CommitBatch {
    /// Sealed entries in chain order (per tenant).
    pub entries: Vec<AppendEntry>,
    pub charges: Vec<BudgetCharge>,
    pub calls: Vec<CallCount>,
    /// Seal the entries onto each tenant's head as stored, inside the transaction, when they
    /// were sealed onto another (the writer's cached head is a guess: another replica, or
    /// another process on the same file, may have advanced the chain). Without it, an entry
    /// that does not extend its stored head is refused ([`StoreError::Conflict`]).
    pub reseal: bool,
}

/// How many of `want` units to grant when `granted` of `limit` are out (see [`Store::grant`]).
pub(crate) fn grant_size(granted: u64, limit: u64, want: u64) -> u64 {
    let left = limit.saturating_sub(granted);
    want.min(left).min((left / 4).max(1))
}

/// Chain `entries` (in order) onto `heads` (tenant → (seq, hash) as stored; a tenant absent
/// has no chain yet): an entry that does not extend its tenant's head is resealed onto it when
/// `reseal`, else refused. `heads` ends at the batch's new heads.
pub(crate) fn link(
    entries: &mut [AppendEntry],
    heads: &mut HashMap<String, (u64, String)>,
    reseal: bool,
) -> StoreResult<()> {
    for a in entries {
        let e = &mut a.entry;
        let (seq, hash) = heads
            .get(&e.tenant)
            .map(|(s, h)| (*s, h.as_str()))
            .unwrap_or((0, GENESIS_HASH));
        if e.seq != seq.saturating_add(1) || e.prev_hash != hash {
            if !reseal {
                return Err(StoreError::Conflict(format!(
                    "audit entry {} of {} does not extend the stored head {seq}",
                    e.seq, e.tenant
                )));
            }
            let hash = hash.to_string();
            e.seal(seq, &hash);
        }
        heads.insert(e.tenant.clone(), (e.seq, e.hash.clone()));
    }
    Ok(())
}

/// What the audit log knows of one agent (tenant, root subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentActivity {
    pub tenant: String,
    pub subject: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub decisions: u64,
    pub allowed: u64,
    pub refused: u64,
}

/// A stored signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub tenant: String,
    pub size: u64,
    pub hash: String,
    pub note: String,
    pub created_at: i64,
}

/// A policy draft in the policy store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDraftRecord {
    pub id: String,
    pub name: String,
    /// The policy module (package `intentgate.policy`).
    pub source: String,
    /// Test modules `(name, source)`, run before a promotion; never loaded to decide.
    pub tests: Vec<(String, String)>,
    /// `sha256:<hex>` of the policy as it would be prepared.
    pub revision: String,
    /// The authenticated operator who created it.
    pub author: String,
    pub created_at: i64,
}

/// One change of the active policy. The newest row is the active pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyHistoryRecord {
    /// Position in the history, from 1; unique, so concurrent changes cannot both land.
    pub seq: i64,
    /// `promote`, `rollback` or `clear`.
    pub action: String,
    pub draft_id: Option<String>,
    pub name: Option<String>,
    /// `None`: no store policy is active (the policy file or the embedded default decides).
    pub revision: Option<String>,
    pub source: Option<String>,
    /// The row that was active before this one: what a rollback returns to.
    pub prev_seq: Option<i64>,
    pub actor: String,
    pub at: i64,
}

/// An escalated call's approval row (DESIGN §4 approval). Bound to (tenant, root jti, leaf jti,
/// tool, args hash): at most one row per binding is `pending` or `approved` at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    /// `apr_<hex>`.
    pub id: String,
    pub tenant: String,
    /// The root subject.
    pub subject: String,
    pub delegated_subject: Option<String>,
    pub root_jti: String,
    pub leaf_jti: String,
    pub tool: String,
    /// `sha256:<hex>` of the canonical arguments.
    pub args_hash: String,
    /// The arguments as JSON text: kept while pending, then as the persistence setting says.
    pub args: Option<String>,
    /// The intent classifier's reading as JSON text (`None` = null).
    pub intent: Option<String>,
    pub reason: String,
    pub requires_step_up: bool,
    /// The event id of the escalate decision that created the row.
    pub decision_event: String,
    /// That decision's seq in the tenant's chain (the approval entry's `ref_seq`).
    pub decision_seq: i64,
    pub created_at: i64,
    pub expires_at: i64,
    /// `pending`, `approved`, `rejected`, `timeout`, `forwarded`, `lapsed`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub note: Option<String>,
}

/// An operator account (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    pub name: String,
    /// `viewer`, `operator`, `admin`.
    pub role: String,
    pub tenant: Option<String>,
    pub uid: Option<u32>,
    pub cert_subject: Option<String>,
    /// `sha256:<hex>` of the operator's API token.
    pub token_hash: Option<String>,
    pub created_at: i64,
    pub created_by: String,
}

/// A TOTP enrollment, keyed by the identity it belongs to (`uid:0`, an operator name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    pub identity: String,
    /// The secret, AES-256-GCM sealed (nonce ‖ ciphertext ‖ tag).
    pub secret_sealed: Vec<u8>,
    /// Whether a first code confirmed it; only a confirmed enrollment passes step-up.
    pub confirmed: bool,
    /// `sha256:<hex>` of each unused recovery code.
    pub recovery_hashes: Vec<String>,
    pub created_at: i64,
}

/// A JIT elevation (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElevationRecord {
    /// `elv_<hex>`.
    pub id: String,
    pub identity: String,
    pub reason: String,
    pub duration_secs: i64,
    pub requested_at: i64,
    /// `pending`, `active`.
    pub status: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    /// Set on approval: `approved_at + duration`.
    pub expires_at: Option<i64>,
}

/// A notification channel (DESIGN §8): Slack, Teams or PagerDuty, scoped to one tenant.
#[derive(Clone, PartialEq, Eq)]
pub struct NotifyChannelRecord {
    /// `ntf_<hex>`.
    pub id: String,
    pub tenant: String,
    /// `slack`, `teams`, `pagerduty`.
    pub kind: String,
    pub name: String,
    /// Which findings it receives (`deny`, `escalate`, `requires_step_up`, `approval_timeout`).
    pub events: Vec<String>,
    /// The webhook URL or PagerDuty routing key (and events URL), AES-256-GCM sealed with the
    /// channel id and tenant as associated data (nonce ‖ ciphertext ‖ tag).
    pub target_sealed: Vec<u8>,
    /// The receiver's host, for people (`hooks.slack.com`); never the secret part.
    pub target_host: String,
    pub created_at: i64,
    pub created_by: String,
}

impl std::fmt::Debug for NotifyChannelRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyChannelRecord")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("events", &self.events)
            .field("target_host", &self.target_host)
            .finish_non_exhaustive()
    }
}

/// A `notify_channels` row (the same columns in SQLite and PostgreSQL).
pub(crate) fn notify_channel_of<'r, R>(r: &'r R) -> StoreResult<NotifyChannelRecord>
where
    R: sqlx::Row,
    &'r str: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn get<'r, R, T>(r: &'r R, column: &'r str) -> StoreResult<T>
    where
        R: sqlx::Row,
        &'r str: sqlx::ColumnIndex<R>,
        T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        r.try_get(column)
            .map_err(|e| StoreError::Corrupt(format!("notify_channels.{column}: {e}")))
    }
    let events: String = get(r, "events")?;
    Ok(NotifyChannelRecord {
        id: get(r, "id")?,
        tenant: get(r, "tenant")?,
        kind: get(r, "kind")?,
        name: get(r, "name")?,
        events: serde_json::from_str(&events)
            .map_err(|e| StoreError::Corrupt(format!("notify_channels.events: {e}")))?,
        target_sealed: get(r, "target_sealed")?,
        target_host: get(r, "target_host")?,
        created_at: get(r, "created_at")?,
        created_by: get(r, "created_by")?,
    })
}

/// Filters for listing approvals.
#[derive(Debug, Clone, Default)]
pub struct ApprovalQuery {
    /// `None`: every status.
    pub status: Option<String>,
    /// `None`: every tenant.
    pub tenants: Option<Vec<String>>,
    /// Only rows created or decided at or after this time (µs).
    pub changed_since: Option<i64>,
    pub limit: u32,
}

/// Filters for reading the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub tenants: Option<Vec<String>>,
    pub tenant: Option<String>,
    pub subject: Option<String>,
    pub tool: Option<String>,
    pub decision: Option<String>,
    pub kind: Option<String>,
    pub event_id: Option<String>,
    pub from_ts: Option<i64>,
    pub to_ts: Option<i64>,
    /// Only entries with `seq >= from_seq`.
    pub from_seq: Option<u64>,
    /// Keyset cursor: entries strictly after (tenant, seq).
    pub after: Option<(String, u64)>,
    pub limit: u32,
}

/// The storage operations igd needs. Implementations must make `commit` atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Read a metadata value.
    async fn meta(&self, key: &str) -> StoreResult<Option<String>>;
    /// Store `value` under `key` unless one is there; return what is stored.
    async fn init_meta(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Every metadata (key, value) whose key starts with `prefix`, by key.
    async fn meta_prefixed(&self, prefix: &str) -> StoreResult<Vec<(String, String)>>;
    /// Remove a metadata value (absent: nothing to do).
    async fn delete_meta(&self, key: &str) -> StoreResult<()>;

    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()>;
    async fn token(&self, jti: &str) -> StoreResult<Option<TokenRecord>>;
    async fn tokens(&self) -> StoreResult<Vec<TokenRecord>>;

    /// Insert a revocation; if (tenant, jti) is already revoked, return the existing row.
    async fn revoke(&self, revocation: &RevocationRecord) -> StoreResult<RevocationRecord>;
    async fn revocations(&self) -> StoreResult<Vec<RevocationRecord>>;
    /// Delete revocations whose token expired before `now`; returns how many.
    async fn prune_revocations(&self, now: i64) -> StoreResult<u64>;

    /// Insert or keep a stop; returns the stored row.
    async fn put_stop(&self, stop: &StopRecord) -> StoreResult<StopRecord>;
    /// Remove a stop; returns whether one existed.
    async fn delete_stop(&self, tenant: &str, subject: Option<&str>) -> StoreResult<bool>;
    async fn stops(&self) -> StoreResult<Vec<StopRecord>>;

    /// The head of every chain.
    async fn chain_heads(&self) -> StoreResult<Vec<ChainHead>>;
    /// Write one group commit atomically; returns its entries as committed (resealed onto the
    /// stored heads where `batch.reseal` asked for it).
    async fn commit(&self, batch: CommitBatch) -> StoreResult<Vec<Entry>>;
    /// Entries of one chain with `from_seq <= seq <= to_seq`, in seq order.
    async fn chain_range(
        &self,
        tenant: &str,
        from_seq: u64,
        to_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<Entry>>;
    /// Seqs of one chain's entries with `from_seq <= seq <= to_seq` that are not plainly an
    /// ordinary kind (`decision`, `approval`, `outcome`, `admin` stored as text): trust-bearing
    /// ones, and any whose kind is stored oddly. The signer reads these back in full before it
    /// anchors a range, without decoding every entry. At most `limit`, in seq order.
    async fn unusual_entries(
        &self,
        tenant: &str,
        from_seq: u64,
        to_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<u64>>;
    /// Entries matching a query, ordered by (tenant, seq).
    async fn query_entries(&self, query: &AuditQuery) -> StoreResult<Vec<Entry>>;
    /// How many entries match a query (its `limit` and `after` ignored).
    async fn count_entries(&self, query: &AuditQuery) -> StoreResult<u64>;
    /// Entries referring to the entries at these (tenant, seq) (approvals and outcomes of
    /// decisions), in (tenant, seq) order.
    async fn entries_referring(&self, keys: &[(String, u64)]) -> StoreResult<Vec<Entry>>;

    /// Store a signed checkpoint (idempotent per (tenant, size)).
    async fn insert_checkpoint(&self, cp: &CheckpointRecord) -> StoreResult<()>;
    /// Checkpoints of a tenant (or all), newest first.
    async fn checkpoints(
        &self,
        tenant: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CheckpointRecord>>;

    /// Distinct (tenant, subject) of decision entries with first/last seen and counts.
    async fn agents(&self) -> StoreResult<Vec<AgentActivity>>;

    /// The newest entry of a chain recorded before `ts`.
    async fn last_entry_before(&self, tenant: &str, ts: i64) -> StoreResult<Option<Entry>>;
    /// Delete a chain's entries with `seq <= cut_seq` and what is kept beside them (retention).
    async fn delete_through(&self, tenant: &str, cut_seq: u64) -> StoreResult<u64>;

    /// Remove argument values and salts kept beside the chain for a subject's entries before a
    /// time (GDPR erasure); returns how many rows were erased. The chain itself is untouched.
    async fn erase_side(&self, tenant: &str, subject: &str, before: i64) -> StoreResult<u64>;

    /// Data kept beside the chain for the entries at these (tenant, seq); entries without any
    /// are left out.
    async fn side_records(
        &self,
        keys: &[(String, u64)],
    ) -> StoreResult<Vec<((String, u64), SideRecord)>>;

    /// Store a new policy draft ([`StoreError::Conflict`] if its id is taken).
    async fn insert_policy_draft(&self, draft: &PolicyDraftRecord) -> StoreResult<()>;
    /// Every draft, oldest first, without its sources (`source` empty, no `tests`).
    async fn policy_drafts(&self) -> StoreResult<Vec<PolicyDraftRecord>>;
    async fn policy_draft(&self, id: &str) -> StoreResult<Option<PolicyDraftRecord>>;
    /// Remove a draft; returns whether it existed. History rows keep their own copy.
    async fn delete_policy_draft(&self, id: &str) -> StoreResult<bool>;
    /// The active policy's history, newest first, at most `limit` rows, without sources
    /// (`source` is `None`; [`Store::policy_history_row`] has it).
    async fn policy_history(&self, limit: u32) -> StoreResult<Vec<PolicyHistoryRecord>>;
    /// One history row.
    async fn policy_history_row(&self, seq: i64) -> StoreResult<Option<PolicyHistoryRecord>>;
    /// The newest history row's seq (cheap: what replicas poll to notice a change).
    async fn policy_head_seq(&self) -> StoreResult<Option<i64>>;
    /// Append a history row ([`StoreError::Conflict`] if another change took its seq first).
    async fn append_policy_history(&self, row: &PolicyHistoryRecord) -> StoreResult<()>;

    // --- Approvals (DESIGN §4 approval). -----------------------------------------------------

    /// Insert a pending approval, unless a `pending` or `approved` row with the same binding
    /// (tenant, root jti, leaf jti, tool, args hash) and `expires_at > now` exists: then that
    /// row is returned instead and the flag is false. Atomic across replicas. A live row of the
    /// binding whose `expires_at <= now` is first moved on as [`Store::expire_approvals`] would
    /// (so no later sweep returns it).
    async fn insert_approval(
        &self,
        row: &ApprovalRecord,
        now: i64,
    ) -> StoreResult<(ApprovalRecord, bool)>;
    async fn approval(&self, id: &str) -> StoreResult<Option<ApprovalRecord>>;
    /// Newest first (`created_at`, then `id`, descending); `limit` 0 means 1000, at most
    /// 10 000; an empty `tenants` list matches nothing.
    async fn approvals(&self, query: &ApprovalQuery) -> StoreResult<Vec<ApprovalRecord>>;
    /// Move a row from status `from` to `to` (compare-and-set), setting the decision fields
    /// and `args` as given (pass the stored value to keep it). `None` when the row was not in
    /// `from` (someone decided first) or is missing.
    #[allow(clippy::too_many_arguments)]
    async fn transition_approval(
        &self,
        id: &str,
        from: &str,
        to: &str,
        decided_by: Option<&str>,
        decided_at: Option<i64>,
        note: Option<&str>,
        args: Option<&str>,
    ) -> StoreResult<Option<ApprovalRecord>>;
    /// `pending` rows with `expires_at <= now` become `timeout`, `approved` ones `lapsed`;
    /// returns the rows changed (each by exactly one caller across replicas), by expiry. A
    /// timed-out row gets `decided_at = now` (`decided_by` stays empty); a lapsed one keeps
    /// its approval's decision fields.
    async fn expire_approvals(&self, now: i64) -> StoreResult<Vec<ApprovalRecord>>;

    // --- Operators, TOTP, elevations (DESIGN §6). --------------------------------------------

    /// `Conflict` when the name, uid, certificate subject or token hash is taken.
    async fn insert_operator(&self, op: &OperatorRecord) -> StoreResult<()>;
    async fn operators(&self) -> StoreResult<Vec<OperatorRecord>>;
    async fn delete_operator(&self, name: &str) -> StoreResult<bool>;
    /// Insert or replace the enrollment of `rec.identity` (a new secret also clears used steps,
    /// failures and recovery codes; `rec.recovery_hashes` are stored as the new codes).
    async fn put_totp(&self, rec: &TotpRecord) -> StoreResult<()>;
    async fn totp(&self, identity: &str) -> StoreResult<Option<TotpRecord>>;
    /// Mark an unconfirmed enrollment confirmed with its recovery code hashes; false when there
    /// is none or it is already confirmed.
    async fn confirm_totp(&self, identity: &str, recovery_hashes: &[String]) -> StoreResult<bool>;
    async fn delete_totp(&self, identity: &str) -> StoreResult<bool>;
    /// Use time step `step` of `identity`: true for the first caller on any replica, false for
    /// every later one.
    async fn use_totp_step(&self, identity: &str, step: i64) -> StoreResult<bool>;
    /// Spend a recovery code by its hash: true once, false after (or for an unknown hash).
    async fn use_recovery_code(&self, identity: &str, hash: &str) -> StoreResult<bool>;
    /// Record a failed step-up at `at` (µs). Failures of `identity` more than a day before `at`
    /// are forgotten (as are, in [`Store::use_totp_step`], its steps 2880 or more older).
    async fn record_totp_failure(&self, identity: &str, at: i64) -> StoreResult<()>;
    /// Times (µs, ascending) of the failed step-ups of `identity` at or after `since`.
    async fn totp_failures(&self, identity: &str, since: i64) -> StoreResult<Vec<i64>>;
    async fn insert_elevation(&self, rec: &ElevationRecord) -> StoreResult<()>;
    /// Newest first.
    async fn elevations(&self) -> StoreResult<Vec<ElevationRecord>>;
    /// `pending` → `active` (compare-and-set); `None` when not pending or missing.
    async fn approve_elevation(
        &self,
        id: &str,
        approved_by: &str,
        approved_at: i64,
        expires_at: i64,
    ) -> StoreResult<Option<ElevationRecord>>;

    // --- Sinks (DESIGN §8): the audit fan-out's cursors and leases. ------------------------

    /// Register a sink the first time it is seen, with a cursor at each of `heads` (tenant,
    /// seq): what was chained before is `igctl audit export`'s job, not the sink's. A chain
    /// without a cursor is at 0 (it began later and is delivered from its start). Returns
    /// false, changing nothing, when the sink is registered already; atomic across replicas.
    async fn register_sink(
        &self,
        sink: &str,
        heads: &[(String, u64)],
        now: i64,
    ) -> StoreResult<bool>;
    /// A registered sink's cursors (tenant, last seq delivered or skipped), by tenant; `None`
    /// when the sink is not registered.
    async fn sink_cursors(&self, sink: &str) -> StoreResult<Option<Vec<(String, u64)>>>;
    /// Take or renew a registered sink's lease for `holder` until `expires_at` (µs), unless
    /// another holder's lease is live at `now`. Returns the holder after the attempt (`None`:
    /// the sink is not registered). The embedded store is one process: its lease is trivially
    /// held by the caller and nothing is written. A shared store measures the lease with its
    /// own clock (its length being `expires_at - now`; 0 hands it back), so replicas' clock
    /// skew cannot let two hold it.
    async fn sink_lease(
        &self,
        sink: &str,
        holder: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<Option<String>>;
    /// Move a sink's cursor on `tenant` from `from` to `to` (compare-and-set; a chain without a
    /// cursor is at 0), only while `holder` holds the sink's lease. False, changing nothing,
    /// when the cursor is not at `from`, the lease is another's, or the sink is not registered.
    async fn advance_sink_cursor(
        &self,
        sink: &str,
        tenant: &str,
        from: u64,
        to: u64,
        holder: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Forget a sink: its registration, lease and cursors. Returns whether it was registered.
    async fn delete_sink(&self, sink: &str) -> StoreResult<bool>;

    // --- Notification channels (DESIGN §8). -------------------------------------------------

    /// `Conflict` when the id, or the name within the tenant, is taken.
    async fn insert_notify_channel(&self, channel: &NotifyChannelRecord) -> StoreResult<()>;
    /// Every channel of every tenant, by (tenant, name).
    async fn notify_channels(&self) -> StoreResult<Vec<NotifyChannelRecord>>;
    async fn notify_channel(&self, id: &str) -> StoreResult<Option<NotifyChannelRecord>>;
    /// Remove a channel; returns whether it existed.
    async fn delete_notify_channel(&self, id: &str) -> StoreResult<bool>;

    /// Whether other igd processes may write the same chains, budgets and state (PostgreSQL):
    /// then what one replica holds in memory is refreshed from the store.
    fn shared(&self) -> bool {
        false
    }
    /// Wakes when another replica may have changed revocations or stops (PostgreSQL
    /// LISTEN/NOTIFY); `None` where the store has no such channel. A wake-up can be lost (a
    /// broken connection): callers also resync on a timer.
    fn change_feed(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }

    /// Periodic upkeep, called about once a second (SQLite checkpoints its WAL on its own
    /// thread and needs nothing here).
    async fn maintain(&self) -> StoreResult<()>;
    /// Prove that the store takes writes again after a failure (`/healthz` stays 503 until it
    /// does). The default only reads; a backend overrides it with a tiny real write.
    async fn probe_write(&self) -> StoreResult<()> {
        self.meta("health_probe").await.map(|_| ())
    }

    /// Remember a DELETEd MCP session id (by hash) until it would have expired (µs).
    async fn delete_session(&self, id_hash: &str, expires_at: i64) -> StoreResult<()>;
    /// Deleted session ids expiring after `after` (µs), with their expiry.
    async fn deleted_sessions(&self, after: i64) -> StoreResult<Vec<(String, i64)>>;
    /// Record the last activity (µs) of live sessions in one batch; a later time wins.
    async fn touch_sessions(&self, activity: &[(String, i64)]) -> StoreResult<()>;
    /// What is known of one session id: its last recorded activity, its deletion.
    async fn session_record(&self, id_hash: &str) -> StoreResult<SessionRecord>;
    /// Forget deleted ids expired by `now` and activity older than `active_before` (µs).
    async fn prune_sessions(&self, now: i64, active_before: i64) -> StoreResult<u64>;

    /// Hand out up to `want` units of a shared budget dimension `key` in window `win` whose
    /// ceiling is `limit`, atomically across replicas: never more than `limit - granted`, and
    /// no more than a quarter of what is left (at least 1), so the last units go out one at a
    /// time. Returns the units granted; 0 means the ceiling is reached.
    async fn grant(&self, key: &str, win: i64, limit: u64, want: u64) -> StoreResult<u64>;

    /// Return `units` of a dimension a replica leased and will not spend.
    async fn give_back(&self, key: &str, win: i64, units: u64) -> StoreResult<()>;

    /// Charges so far per (tenant, root_jti, jti).
    async fn budget_usage(&self) -> StoreResult<Vec<(BudgetCharge, u64)>>;
    /// Forwarded calls per (tenant, subject, tool, hour) since `since_hour`.
    async fn call_counts(&self, since_hour: i64) -> StoreResult<Vec<(CallCount, u64)>>;
}

pub type DynStore = Arc<dyn Store>;

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}
