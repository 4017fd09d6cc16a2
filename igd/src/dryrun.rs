//! Policy dry-run (DESIGN §6, `POST /v1/admin/policies/dry-run`; `igctl policy dry-run|diff`):
//! replay a candidate policy over the decisions recorded in a window, on the policy inputs as
//! they were recorded (the entry plus its stored [`PolicyContext`]: counters, capability,
//! intent and request as they stood then, never re-derived from today's state), and count how
//! its verdicts differ from what was decided — or, given a baseline, from the baseline's
//! verdicts on the same inputs.
//!
//! What "before" is:
//! - with a baseline: the baseline's verdict on the recorded input;
//! - otherwise the policy's own recorded verdict (`PolicyContext::v`). Entries recorded before
//!   that was kept carry only the final decision, so the policy's verdict is inferred from it:
//!   `allow` → allow, `escalate` → escalate, `block` by the policy check → block, `block` by
//!   the approval check → escalate, `block` by a later check (budget, audit) → allow. The last
//!   is a best guess: a budget refusal of an escalated call reads as allow.
//!
//! What is replayed: decision entries with a policy context. Decisions refused before the
//! policy was asked (capability) have none and are counted as `skipped`; the
//! `_unauthenticated` chain never reached a policy and is not read at all. Argument values are
//! replayed as kept (`INTENTGATE_AUDIT_PERSIST_ARG_VALUES`): `null` when none were
//! (`args_unavailable`), strings replaced by their lengths in `scalars` mode (`args_partial`; a
//! stored value is known to be the exact arguments when it matches the entry's
//! `args_commitment`). Rules that inspect arguments therefore replay approximately, and the
//! report says for how many decisions.
//!
//! How: chains are read one tenant at a time (tenants in byte order), by keyset on
//! `(tenant, seq)` in bounded pages (`tenant = ? AND seq >= ?`, the chain's own index), so
//! memory stays bounded whatever the window. Each tenant's scan starts at the last entry
//! recorded before `from − 15 min` ([`crate::store::Store::last_entry_before`]), not at its
//! genesis, so a window over a long history reads the window, not the history; entries are
//! filtered on their exact `ts`. An entry's `ts` is when it was decided and its seq when it was committed,
//! so within a chain they agree to within a commit's latency (or the clock skew between
//! replicas): only a decision sealed more than 15 minutes out of time order (a clock stepped
//! back further than that) right at the window's start could be missed.
//!
//! Reading and replaying overlap: while one page is replayed on every core, off the async
//! workers (`spawn_blocking` + scoped threads, one engine clone per evaluation), the next
//! page's side records and the one after's entries are read, and the window's `total` is
//! counted. At most four pages of 2,048 entries are held at once.

use crate::clock::{now_us, rfc3339};
use crate::pipeline::{replay_input, PolicyContext};
use crate::policy::PolicySnapshot;
use crate::store::{AuditQuery, DynStore, SideRecord, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use intentgate_proto::audit::{Entry, Kind, Verdict};
use intentgate_proto::ids::UNAUTHENTICATED_TENANT;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

pub use intentgate_proto::api::{DryRunReport, DryRunSample};

/// Samples shown when the caller does not say.
pub const DEFAULT_SAMPLES: usize = 20;
/// Most samples one answer carries (a larger request is cut to this).
pub const MAX_SAMPLES: usize = 1000;
/// The window when `from` is not given: the 24 hours before `to`.
pub const DEFAULT_WINDOW_US: i64 = 24 * HOUR_US;
/// The longest window one dry-run covers: a longer period is replayed one window at a time.
pub const MAX_WINDOW_US: i64 = 31 * 24 * HOUR_US;
/// How far before `from` a chain's scan starts (see the module documentation).
pub const CLOCK_SLACK_US: i64 = 15 * 60 * 1_000_000;

const HOUR_US: i64 = 3600 * 1_000_000;
/// Entries fetched per store round trip. At most four pages are held: one being replayed, one
/// queued, one whose side records are being read, one whose entries are being read.
const PAGE: usize = 2048;
/// Below this many decisions per thread, a page is not split further.
const MIN_CHUNK: usize = 64;

/// What to replay. Times are µs since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRunRequest {
    /// Start of the window (inclusive); default `to` − 24 h.
    pub from: Option<i64>,
    /// End of the window (exclusive); default now.
    pub to: Option<i64>,
    /// Most divergent calls to return (cut to [`MAX_SAMPLES`]).
    pub samples: usize,
    /// Where to continue: a previous answer's `next_cursor`. It carries the window, so later
    /// pages need not (and if they do, must) repeat `from`/`to`.
    pub cursor: Option<String>,
    /// Most decision entries (replayed or skipped) to read in this call; the answer then
    /// carries `next_cursor` if the window holds more.
    pub limit: Option<usize>,
}

impl Default for DryRunRequest {
    fn default() -> Self {
        DryRunRequest {
            from: None,
            to: None,
            samples: DEFAULT_SAMPLES,
            cursor: None,
            limit: None,
        }
    }
}

/// Why a dry-run could not run.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    /// Reading the audit log failed (503/500 like any storage error).
    #[error("reading the recorded decisions: {0}")]
    Store(#[from] StoreError),
    /// The cursor is not one this dry-run handed out (400).
    #[error("invalid cursor: {0}; start again without a cursor")]
    BadCursor(String),
    /// `from`/`to` make no window igd replays (400).
    #[error("invalid window: {0}")]
    BadWindow(String),
    /// `limit` is 0 (400).
    #[error("limit must be at least 1")]
    BadLimit,
    /// A replay thread failed: a bug, not the caller's doing (500).
    #[error("replaying decisions failed: {0}")]
    Internal(String),
}

/// Replay `candidate` over the recorded decisions of `req`'s window (see the module
/// documentation), comparing with the recorded verdicts or with `baseline`'s.
pub async fn dry_run(
    store: &DynStore,
    candidate: Arc<PolicySnapshot>,
    baseline: Option<Arc<PolicySnapshot>>,
    req: &DryRunRequest,
) -> Result<DryRunReport, DryRunError> {
    let started = Instant::now();
    if req.limit == Some(0) {
        return Err(DryRunError::BadLimit);
    }
    let samples = req.samples.min(MAX_SAMPLES);
    let baseline_revision = baseline.as_ref().map(|b| b.revision.clone());
    let (window, resume) = match &req.cursor {
        Some(text) => {
            let c = Cursor::decode(text)?;
            c.check(req, &candidate.revision, baseline_revision.as_deref())?;
            (Window { from: c.f, to: c.u }, Some((c.t, c.s)))
        }
        None => (Window::of(req, now_us())?, None),
    };

    let plan = plan(store, window, resume.as_ref()).await?;
    // The first page also says how many decisions the window holds (for a progress bar).
    let counting = async {
        match resume {
            Some(_) => Ok(None),
            None => count(store, window, &plan).await.map(Some),
        }
    };

    // Read pages while the previous one is replayed; at most one page waits in the channel.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Recorded>>(1);
    let fetch = fetch(store, window, plan.clone(), req.limit, tx);
    let replay = async move {
        let mut tally = Tally::new(samples);
        while let Some(page) = rx.recv().await {
            let (candidate, baseline) = (candidate.clone(), baseline.clone());
            let page_tally = tokio::task::spawn_blocking(move || {
                replay_page(page, &candidate, baseline.as_deref(), samples)
            })
            .await
            .map_err(|e| DryRunError::Internal(e.to_string()))??;
            tally.merge(page_tally);
        }
        Ok::<_, DryRunError>((tally, candidate.revision.clone()))
    };
    let (last, replayed, total) = tokio::join!(fetch, replay, counting);
    let (tally, revision) = replayed?;
    let next = last?;
    let total = total?;

    let next_cursor = next.map(|(t, s)| {
        Cursor {
            v: 1,
            t,
            s,
            f: window.from,
            u: window.to,
            r: revision.clone(),
            b: baseline_revision.clone(),
        }
        .encode()
    });
    tracing::info!(
        decisions = tally.replayed(),
        skipped = tally.skipped,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        more = next_cursor.is_some(),
        "policy dry-run"
    );
    Ok(tally.report(
        samples,
        revision,
        baseline_revision,
        window,
        next_cursor,
        total,
    ))
}

/// The replayed time range, µs: `from <= ts < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    from: i64,
    to: i64,
}

impl Window {
    fn of(req: &DryRunRequest, now: i64) -> Result<Window, DryRunError> {
        let to = req.to.unwrap_or(now);
        let from = req
            .from
            .unwrap_or_else(|| to.saturating_sub(DEFAULT_WINDOW_US));
        if from > to {
            return Err(DryRunError::BadWindow(format!(
                "from ({}) is after to ({})",
                rfc3339(from),
                rfc3339(to)
            )));
        }
        if to.saturating_sub(from) > MAX_WINDOW_US {
            return Err(DryRunError::BadWindow(format!(
                "{} to {} is longer than 31 days; replay a longer period one window at a time",
                rfc3339(from),
                rfc3339(to)
            )));
        }
        Ok(Window { from, to })
    }
}

/// The keyset position handed back as `next_cursor`: the last (tenant, seq) read, with the
/// window and policies it belongs to, so later pages replay the same thing.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Cursor {
    v: u8,
    t: String,
    s: u64,
    f: i64,
    u: i64,
    r: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<String>,
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str) -> Result<Cursor, DryRunError> {
        let bad = || DryRunError::BadCursor("not a cursor from a previous dry-run".into());
        // A cursor is a few hundred bytes; refuse to decode anything much larger.
        if text.len() > 4096 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if c.v != 1 || c.f > c.u || c.u.saturating_sub(c.f) > MAX_WINDOW_US {
            return Err(bad());
        }
        Ok(c)
    }

    /// The cursor continues this request: same policies, and the same window if one is given.
    fn check(
        &self,
        req: &DryRunRequest,
        revision: &str,
        baseline: Option<&str>,
    ) -> Result<(), DryRunError> {
        if self.r != revision || self.b.as_deref() != baseline {
            return Err(DryRunError::BadCursor(
                "it belongs to a dry-run of another policy".into(),
            ));
        }
        if req.from.is_some_and(|f| f != self.f) || req.to.is_some_and(|t| t != self.u) {
            return Err(DryRunError::BadCursor(format!(
                "it belongs to the window {} to {}",
                rfc3339(self.f),
                rfc3339(self.u)
            )));
        }
        Ok(())
    }
}

/// Where to read one chain: from `start` (a seq) on.
#[derive(Debug, Clone)]
struct ChainScan {
    tenant: String,
    start: u64,
}

/// The chains to read, in byte order of tenant, from `resume` on (exclusive).
async fn plan(
    store: &DynStore,
    window: Window,
    resume: Option<&(String, u64)>,
) -> Result<Vec<ChainScan>, StoreError> {
    let mut tenants: Vec<String> = store
        .chain_heads()
        .await?
        .into_iter()
        .map(|h| h.tenant)
        .filter(|t| t != UNAUTHENTICATED_TENANT)
        .filter(|t| resume.is_none_or(|(after, _)| t >= after))
        .collect();
    tenants.sort();
    tenants.dedup();
    let mut plan = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        let before = store
            .last_entry_before(&tenant, window.from.saturating_sub(CLOCK_SLACK_US))
            .await?;
        let mut start = before.map_or(1, |e| e.seq.saturating_add(1));
        if let Some((after, seq)) = resume {
            if *after == tenant {
                start = start.max(seq.saturating_add(1));
            }
        }
        plan.push(ChainScan { tenant, start });
    }
    Ok(plan)
}

/// The decision entries of `scan`'s chain in the window, from `from_seq` on.
fn window_query(window: Window, tenant: &str, from_seq: u64, limit: usize) -> AuditQuery {
    AuditQuery {
        tenant: Some(tenant.to_string()),
        kind: Some(Kind::Decision.as_str().to_string()),
        from_ts: Some(window.from),
        to_ts: Some(window.to),
        from_seq: Some(from_seq),
        limit: u32::try_from(limit).unwrap_or(u32::MAX),
        ..AuditQuery::default()
    }
}

/// Decisions in the window over the planned chains: the same set the pages read.
async fn count(store: &DynStore, window: Window, plan: &[ChainScan]) -> Result<u64, StoreError> {
    let mut total = 0u64;
    for scan in plan {
        total += store
            .count_entries(&window_query(window, &scan.tenant, scan.start, 0))
            .await?;
    }
    Ok(total)
}

/// One recorded decision with what is kept beside it.
type Recorded = (Entry, Option<SideRecord>);

/// Read the planned chains page by page into `pages`, at most `limit` entries in all. Returns
/// the last (tenant, seq) read when `limit` stopped the reading before the window's end.
///
/// A page's side records are read in a task of their own while the next page's entries are
/// read (another connection, another core): the keyset only needs the last seq of a page.
async fn fetch(
    store: &DynStore,
    window: Window,
    plan: Vec<ChainScan>,
    limit: Option<usize>,
    pages: tokio::sync::mpsc::Sender<Vec<Recorded>>,
) -> Result<Option<(String, u64)>, DryRunError> {
    let mut budget = limit.unwrap_or(usize::MAX);
    let mut last: Option<(String, u64)> = None;
    let mut in_flight: Option<SideTask> = None;
    for (i, scan) in plan.iter().enumerate() {
        let mut next_seq = scan.start;
        loop {
            if budget == 0 {
                let more = more_after(store, window, &plan[i..], next_seq).await?;
                deliver(in_flight.take(), &pages).await?;
                return Ok(if more { last } else { None });
            }
            let want = PAGE.min(budget);
            let entries = store
                .query_entries(&window_query(window, &scan.tenant, next_seq, want))
                .await?;
            let Some(end) = entries.last() else { break };
            let end_seq = end.seq;
            let full = entries.len() >= want;
            budget = budget.saturating_sub(entries.len());
            last = Some((scan.tenant.clone(), end_seq));
            next_seq = end_seq.saturating_add(1);
            let task = tokio::spawn(with_side_records(store.clone(), entries));
            if !deliver(in_flight.replace(task), &pages).await? {
                // The replay stopped (its error is what the caller gets).
                return Ok(None);
            }
            if !full {
                break;
            }
        }
    }
    deliver(in_flight, &pages).await?;
    Ok(None)
}

/// A page whose side records are being read.
type SideTask = tokio::task::JoinHandle<Result<Vec<Recorded>, StoreError>>;

/// Each entry with what is kept beside it.
async fn with_side_records(
    store: DynStore,
    entries: Vec<Entry>,
) -> Result<Vec<Recorded>, StoreError> {
    let keys: Vec<(String, u64)> = entries.iter().map(|e| (e.tenant.clone(), e.seq)).collect();
    let mut side: BTreeMap<(String, u64), SideRecord> =
        store.side_records(&keys).await?.into_iter().collect();
    Ok(entries
        .into_iter()
        .map(|e| {
            let s = side.remove(&(e.tenant.clone(), e.seq));
            (e, s)
        })
        .collect())
}

/// Hand a page, once read, to the replay. `false`: the replay is gone.
async fn deliver(
    task: Option<SideTask>,
    pages: &tokio::sync::mpsc::Sender<Vec<Recorded>>,
) -> Result<bool, DryRunError> {
    let Some(task) = task else { return Ok(true) };
    let page = task
        .await
        .map_err(|e| DryRunError::Internal(format!("reading side records: {e}")))??;
    Ok(pages.send(page).await.is_ok())
}

/// Whether any decision of the window is left: in `rest[0]`'s chain from `next_seq`, or in the
/// chains after it.
async fn more_after(
    store: &DynStore,
    window: Window,
    rest: &[ChainScan],
    next_seq: u64,
) -> Result<bool, StoreError> {
    for (i, scan) in rest.iter().enumerate() {
        let from_seq = if i == 0 { next_seq } else { scan.start };
        let q = window_query(window, &scan.tenant, from_seq, 1);
        if !store.query_entries(&q).await?.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// allow, block, escalate: the matrix's row and column order.
const VERDICTS: [Verdict; 3] = [Verdict::Allow, Verdict::Block, Verdict::Escalate];

fn index(v: Verdict) -> usize {
    match v {
        Verdict::Allow => 0,
        Verdict::Block => 1,
        Verdict::Escalate => 2,
    }
}

/// The policy's verdict as recorded, or inferred from the final decision for entries recorded
/// before it was kept (see the module documentation). `None`: nothing to compare with.
fn recorded_verdict(entry: &Entry, ctx: &PolicyContext) -> Option<Verdict> {
    if let Some(v) = ctx.v.as_deref().and_then(Verdict::parse) {
        return Some(v);
    }
    match (entry.decision.as_deref()?, entry.check.as_deref()) {
        ("allow", _) => Some(Verdict::Allow),
        ("escalate", _) => Some(Verdict::Escalate),
        ("block", Some("policy")) => Some(Verdict::Block),
        ("block", Some("approval")) => Some(Verdict::Escalate),
        // Refused after the policy let it through (budget, audit).
        ("block", _) => Some(Verdict::Allow),
        _ => None,
    }
}

/// How much of a decision's arguments the replay saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArgsKept {
    /// The exact arguments.
    Exact,
    /// Strings replaced by their lengths (`scalars`).
    Partial,
    /// None: replayed as `null`.
    Unavailable,
}

/// The argument values to replay with, and how faithful they are. Stored values are the exact
/// arguments when they match the entry's commitment (`raw` keeps the very bytes committed to;
/// `scalars` of arguments without strings is the arguments themselves).
fn replay_args(entry: &Entry, side: &SideRecord) -> (Value, ArgsKept) {
    let Some(text) = side.args.as_deref() else {
        return (Value::Null, ArgsKept::Unavailable);
    };
    let Ok(args) = serde_json::from_str::<Value>(text) else {
        return (Value::Null, ArgsKept::Unavailable);
    };
    let salt = side.salt.as_deref().and_then(|s| hex::decode(s).ok());
    let exact = match (salt, entry.args_commitment.as_deref()) {
        (Some(salt), Some(commitment)) => {
            let mut h = Sha256::new();
            h.update(&salt);
            h.update(text.as_bytes());
            hex::encode(h.finalize()) == commitment
                || intentgate_proto::audit::args_commitment(&salt, &args).0 == commitment
        }
        _ => false,
    };
    let kept = if exact {
        ArgsKept::Exact
    } else {
        ArgsKept::Partial
    };
    (args, kept)
}

/// A divergent call, with its keyset position for ordering.
#[derive(Debug, Clone)]
struct Divergent {
    key: (String, u64),
    sample: DryRunSample,
}

/// Counts over the decisions replayed so far, and the first divergent calls of each kind.
#[derive(Debug)]
struct Tally {
    /// `[before][after]`, in [`VERDICTS`] order.
    matrix: [[u64; 3]; 3],
    skipped: u64,
    args_unavailable: u64,
    args_partial: u64,
    errors: u64,
    baseline_errors: u64,
    /// Up to `cap` divergent calls per `[before][after]`, in keyset order.
    divergent: [[Vec<Divergent>; 3]; 3],
    cap: usize,
}

impl Tally {
    fn new(cap: usize) -> Tally {
        Tally {
            matrix: [[0; 3]; 3],
            skipped: 0,
            args_unavailable: 0,
            args_partial: 0,
            errors: 0,
            baseline_errors: 0,
            divergent: Default::default(),
            cap,
        }
    }

    fn replayed(&self) -> u64 {
        self.matrix.iter().flatten().sum()
    }

    /// Add a later part of the keyset (its samples come after this one's).
    fn merge(&mut self, other: Tally) {
        for (b, row) in other.matrix.iter().enumerate() {
            for (a, n) in row.iter().enumerate() {
                self.matrix[b][a] += n;
            }
        }
        self.skipped += other.skipped;
        self.args_unavailable += other.args_unavailable;
        self.args_partial += other.args_partial;
        self.errors += other.errors;
        self.baseline_errors += other.baseline_errors;
        for (b, row) in other.divergent.into_iter().enumerate() {
            for (a, list) in row.into_iter().enumerate() {
                let mine = &mut self.divergent[b][a];
                let room = self.cap.saturating_sub(mine.len());
                mine.extend(list.into_iter().take(room));
            }
        }
    }

    /// Replay one recorded decision.
    fn add(
        &mut self,
        (entry, side): Recorded,
        candidate: &PolicySnapshot,
        baseline: Option<&PolicySnapshot>,
    ) {
        let Some((ctx, side)) = side.and_then(|s| {
            let ctx = serde_json::from_str::<PolicyContext>(s.policy_context.as_deref()?).ok()?;
            Some((ctx, s))
        }) else {
            self.skipped += 1;
            return;
        };
        let recorded = recorded_verdict(&entry, &ctx);
        if baseline.is_none() && recorded.is_none() {
            self.skipped += 1;
            return;
        }
        let (args, kept) = replay_args(&entry, &side);
        let input = replay_input(&entry, &ctx, args);
        let before = match (baseline, recorded) {
            (Some(b), _) => {
                let (decision, decided) = b.evaluate_checked(input.clone());
                if !decided {
                    self.baseline_errors += 1;
                }
                decision.verdict()
            }
            (None, Some(v)) => v,
            (None, None) => return,
        };
        let (decision, decided) = candidate.evaluate_checked(input);
        if !decided {
            self.errors += 1;
        }
        let after = decision.verdict();
        match kept {
            ArgsKept::Exact => {}
            ArgsKept::Partial => self.args_partial += 1,
            ArgsKept::Unavailable => self.args_unavailable += 1,
        }
        let (b, a) = (index(before), index(after));
        self.matrix[b][a] += 1;
        if b != a && self.divergent[b][a].len() < self.cap {
            let sample = DryRunSample {
                event_id: entry.event_id,
                tenant: entry.tenant.clone(),
                subject: entry.subject,
                tool: entry.tool,
                ts: rfc3339(entry.ts),
                before: before.as_str().to_string(),
                after: after.as_str().to_string(),
                reason: bounded_reason(decision.reason),
            };
            self.divergent[b][a].push(Divergent {
                key: (entry.tenant, entry.seq),
                sample,
            });
        }
    }

    /// Up to `n` samples taken in turn from each kind of change (so a rare kind is shown
    /// beside a common one), listed in keyset order.
    fn samples(self, n: usize) -> Vec<DryRunSample> {
        let mut queues: Vec<std::vec::IntoIter<Divergent>> = self
            .divergent
            .into_iter()
            .flatten()
            .map(Vec::into_iter)
            .collect();
        let mut picked: Vec<Divergent> = Vec::new();
        while picked.len() < n {
            let before = picked.len();
            for q in &mut queues {
                if picked.len() >= n {
                    break;
                }
                if let Some(d) = q.next() {
                    picked.push(d);
                }
            }
            if picked.len() == before {
                break;
            }
        }
        picked.sort_by(|x, y| x.key.cmp(&y.key));
        picked.into_iter().map(|d| d.sample).collect()
    }

    fn report(
        self,
        n: usize,
        revision: String,
        baseline_revision: Option<String>,
        window: Window,
        next_cursor: Option<String>,
        total: Option<u64>,
    ) -> DryRunReport {
        let column = |a: usize| self.matrix.iter().map(|row| row[a]).sum::<u64>();
        let mut transitions = BTreeMap::new();
        for (b, before) in VERDICTS.iter().enumerate() {
            for (a, after) in VERDICTS.iter().enumerate() {
                transitions.insert(
                    format!("{}->{}", before.as_str(), after.as_str()),
                    self.matrix[b][a],
                );
            }
        }
        DryRunReport {
            decisions: self.replayed(),
            would_allow: column(0),
            would_block: column(1),
            would_escalate: column(2),
            transitions,
            skipped: self.skipped,
            args_unavailable: self.args_unavailable,
            args_partial: self.args_partial,
            errors: self.errors,
            baseline_errors: self.baseline_errors,
            revision,
            baseline_revision,
            from: rfc3339(window.from),
            to: rfc3339(window.to),
            next_cursor,
            total,
            samples: self.samples(n),
        }
    }
}

/// Replay one page on every core: the page is cut into one contiguous chunk per thread, each
/// with its own engine clone (`PolicySnapshot::evaluate` clones the prepared engine per call),
/// and the chunks' tallies are merged in order.
fn replay_page(
    page: Vec<Recorded>,
    candidate: &PolicySnapshot,
    baseline: Option<&PolicySnapshot>,
    cap: usize,
) -> Result<Tally, DryRunError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(page.len() / MIN_CHUNK).max(1);
    let chunk_len = page.len().div_ceil(threads).max(1);
    let mut chunks: Vec<Vec<Recorded>> = Vec::with_capacity(threads);
    let mut rest = page.into_iter();
    loop {
        let chunk: Vec<Recorded> = rest.by_ref().take(chunk_len).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let replay_chunk = |chunk: Vec<Recorded>| {
        let mut tally = Tally::new(cap);
        for recorded in chunk {
            tally.add(recorded, candidate, baseline);
        }
        tally
    };
    let mut tally = Tally::new(cap);
    if chunks.len() <= 1 {
        for chunk in chunks {
            tally.merge(replay_chunk(chunk));
        }
        return Ok(tally);
    }
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let handle = std::thread::Builder::new()
                .name("igd-dry-run".into())
                .spawn_scoped(scope, || replay_chunk(chunk))
                .map_err(|e| DryRunError::Internal(format!("starting a replay thread: {e}")))?;
            handles.push(handle);
        }
        for handle in handles {
            let part = handle
                .join()
                .map_err(|_| DryRunError::Internal("a replay thread panicked".into()))?;
            tally.merge(part);
        }
        Ok(tally)
    })
}

/// A sample's reason is whatever the candidate returned: kept to 1 KiB.
fn bounded_reason(reason: String) -> String {
    intentgate_proto::text::truncated(reason, 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(decision: &str, check: Option<&str>) -> Entry {
        Entry {
            decision: Some(decision.into()),
            check: check.map(Into::into),
            ..Entry::default()
        }
    }

    fn ctx(v: Option<&str>) -> PolicyContext {
        serde_json::from_value(serde_json::json!({
            "c": [0, 0, 0], "t": [], "m": 0, "r": 0, "x": "", "i": null, "a": "", "p": "",
            "v": v,
        }))
        .unwrap_or_else(|e| panic!("policy context: {e}"))
    }

    #[test]
    fn the_recorded_verdict_wins_and_old_entries_are_inferred() {
        let e = entry("block", Some("budget"));
        assert_eq!(
            recorded_verdict(&e, &ctx(Some("escalate"))),
            Some(Verdict::Escalate)
        );
        assert_eq!(recorded_verdict(&e, &ctx(None)), Some(Verdict::Allow));
        let cases = [
            ("allow", None, Verdict::Allow),
            ("escalate", Some("approval"), Verdict::Escalate),
            ("block", Some("policy"), Verdict::Block),
            ("block", Some("approval"), Verdict::Escalate),
            ("block", Some("audit"), Verdict::Allow),
        ];
        for (decision, check, want) in cases {
            assert_eq!(
                recorded_verdict(&entry(decision, check), &ctx(None)),
                Some(want),
                "{decision}/{check:?}"
            );
        }
    }

    #[test]
    fn a_window_is_checked_and_defaults_to_the_last_24_hours() {
        let now = 1_780_000_000_000_000;
        let w = Window::of(&DryRunRequest::default(), now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((w.from, w.to), (now - DEFAULT_WINDOW_US, now));
        let backwards = DryRunRequest {
            from: Some(now),
            to: Some(now - 1),
            ..DryRunRequest::default()
        };
        assert!(matches!(
            Window::of(&backwards, now),
            Err(DryRunError::BadWindow(_))
        ));
        let long = DryRunRequest {
            from: Some(now - MAX_WINDOW_US - 1),
            ..DryRunRequest::default()
        };
        assert!(matches!(
            Window::of(&long, now),
            Err(DryRunError::BadWindow(_))
        ));
    }

    #[test]
    fn samples_take_every_kind_of_change_in_turn() {
        let mut t = Tally::new(10);
        let d = |tenant: &str, seq: u64| Divergent {
            key: (tenant.into(), seq),
            sample: DryRunSample {
                event_id: format!("{tenant}{seq}"),
                tenant: tenant.into(),
                subject: None,
                tool: None,
                ts: String::new(),
                before: String::new(),
                after: String::new(),
                reason: String::new(),
            },
        };
        t.divergent[0][1] = (1..=8).map(|s| d("a", s)).collect();
        t.divergent[1][0] = vec![d("b", 1)];
        let picked: Vec<String> = t.samples(3).into_iter().map(|s| s.event_id).collect();
        assert_eq!(picked, ["a1", "a2", "b1"]);
    }
}
