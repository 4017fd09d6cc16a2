//! The audit fan-out engine (DESIGN §8): the audit chains are the outbox, and each sink reads
//! them behind a cursor of its own.
//!
//! **Cursors.** A sink keeps, in the store, the last seq it delivered (or skipped as not
//! wanted) on each tenant chain. A sink seen for the first time starts at the chain heads of
//! that moment: what was chained before is `igctl audit export`'s job, not the fan-out's. A
//! chain that begins later is delivered from its start. A tenant-scoped sink (notification
//! channels) reads its tenant's chain only.
//!
//! **Delivery.** One task per sink reads what lies past its cursors (`Store::chain_range`,
//! against the chain heads), moves past the entries it does not want, hands up to
//! `max_batch()` wanted entries of one chain to [`Sink::deliver`], and only then advances the
//! cursor by compare-and-set (old seq → new seq, by the lease holder only). So nothing is
//! dropped or skipped, and an entry is sent again only when igd stopped (or lost its lease)
//! between a delivery and its cursor update: receivers deduplicate by `event_id`. Progress over
//! unwanted entries alone is written at most once a second (re-reading them after a crash is
//! harmless). One reader reads `Store::chain_heads` for the whole fan-out when the audit
//! writer commits (at most every 100 ms) and every second, and publishes them; a task uses the
//! store only when a chain it reads has moved past its cursor, its lease is due for renewal,
//! or it retries, so an idle sink (a quiet tenant's notification channel) costs nothing per
//! commit. Nothing here is on the decision path.
//!
//! **Failures** wait with exponential backoff and jitter from 1 s to 5 min, at least the
//! receiver's `Retry-After`; a refused request (a 4xx other than 408/429, e.g. 410 Gone) waits
//! the longest at once, for an operator to fix the sink. Each chain waits on its own: the
//! other tenants' chains of the sink go on being delivered meanwhile. Entries a retention cut deleted
//! before they were delivered are reported (status and a warning), and delivery continues with
//! the first entry that exists.
//!
//! **Replicas** (PostgreSQL): a sink's lease (holder = the instance id, renewed every second,
//! expiring after 10 s by the database's clock) lets one replica deliver it; the others show
//! `standby`. A stale holder's cursor update fails. On the embedded store the lease is
//! trivially held, and never asked for.
//!
//! **Status** ([`Outbox::status`]) is kept in memory by the tasks, for the admin API and the
//! metrics scrape.

use super::http::HttpClient;
use super::{Sink, SinkError};
use crate::clock::{now_us, rfc3339};
use crate::store::{ChainHead, DynStore, StoreError};
use intentgate_proto::api::{IntegrationCursor, IntegrationStatus};
use intentgate_proto::audit::Entry;
use rand::Rng as _;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How often every task looks at the chains (and renews its lease) without a commit.
pub const TICK: Duration = Duration::from_secs(1);
/// A held lease is renewed when this old (on the tick; a commit does not renew it sooner).
const RENEW: Duration = Duration::from_millis(900);
/// How long a replica's lease on a sink lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(10);
/// The first wait after a failed delivery.
pub const MIN_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait, and the wait after a refused request.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Runtime-managed sinks ([`Outbox::reconcile_dynamic`]) are named `notify:<channel id>`.
pub const DYNAMIC_PREFIX: &str = "notify:";
/// Most entries read from one chain at a time.
const READ_LIMIT: u32 = 500;
/// Commits coming in a burst wake a task once per this.
const COMMIT_SPACING: Duration = Duration::from_millis(100);
/// Progress over unwanted entries alone is written at most this often.
const SKIP_PERSIST_EVERY: Duration = Duration::from_secs(1);
/// How long a removed or replaced sink's in-flight delivery may take before its successor
/// starts anyway (an HTTP delivery times out after 15 s).
const RETIRE_WAIT: Duration = Duration::from_secs(20);

/// What a sink is doing, as the admin API shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Starting,
    Ok,
    Retrying,
    Refused,
    Standby,
}

impl State {
    const fn as_str(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Ok => "ok",
            State::Retrying => "retrying",
            State::Refused => "refused",
            State::Standby => "standby",
        }
    }
}

/// A sink's position on one chain, as its task last saw it.
#[derive(Debug, Clone, Copy, Default)]
struct ChainView {
    cursor: u64,
    head: u64,
    /// Time (µs) of the oldest entry waiting past the cursor, when the task read it.
    oldest: Option<i64>,
}

/// A sink's status, written by its task and read at scrape time.
#[derive(Debug, Default)]
struct Live {
    state: State,
    holder: Option<String>,
    chains: BTreeMap<String, ChainView>,
    delivered: u64,
    failed: u64,
    last_error: Option<(String, i64)>,
    last_delivery: Option<i64>,
    next_attempt: Option<i64>,
    /// Rounds that used the store (an idle sink's stay put), for the tests.
    store_rounds: u64,
}

type Shared<T> = Arc<Mutex<T>>;

/// The chain heads as the fan-out's reader last read them.
type Heads = Arc<Vec<ChainHead>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A sink and its task.
struct Running {
    sink: Arc<dyn Sink>,
    dynamic: bool,
    live: Shared<Live>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    fn new(sink: Arc<dyn Sink>, dynamic: bool, live: Option<Shared<Live>>) -> Running {
        Running {
            sink,
            dynamic,
            live: live.unwrap_or_default(),
            stop: watch::Sender::new(false),
            task: None,
        }
    }

    fn status(&self, now: i64) -> IntegrationStatus {
        let live = lock(&self.live);
        let pending = live.chains.values().filter(|c| c.head > c.cursor);
        let oldest = pending.clone().filter_map(|c| c.oldest).min();
        IntegrationStatus {
            name: self.sink.name().to_string(),
            kind: self.sink.kind().to_string(),
            tenant: self.sink.tenant().map(String::from),
            state: live.state.as_str().to_string(),
            holder: live.holder.clone(),
            cursors: live
                .chains
                .iter()
                .map(|(tenant, c)| IntegrationCursor {
                    tenant: tenant.clone(),
                    seq: c.cursor,
                    head: c.head,
                })
                .collect(),
            lag_entries: pending.map(|c| c.head - c.cursor).sum(),
            oldest_pending_seconds: oldest
                .map(|ts| u64::try_from(now.saturating_sub(ts) / 1_000_000).unwrap_or(0)),
            delivered: live.delivered,
            failed: live.failed,
            last_error: live.last_error.as_ref().map(|(m, _)| m.clone()),
            last_error_at: live.last_error.as_ref().map(|(_, at)| rfc3339(*at)),
            last_delivery_at: live.last_delivery.map(rfc3339),
            next_attempt_at: live.next_attempt.map(rfc3339),
        }
    }
}

#[derive(Default)]
struct Registry {
    started: bool,
    stopping: bool,
    sinks: BTreeMap<String, Running>,
}

/// The fan-out: every sink, its task and its status.
pub struct Outbox {
    store: DynStore,
    instance: String,
    commits: watch::Receiver<u64>,
    client: HttpClient,
    registry: Mutex<Registry>,
    /// The published heads each task reads; the sender goes to the reader at start.
    heads: watch::Receiver<Heads>,
    heads_feed: Mutex<Option<watch::Sender<Heads>>>,
    /// Stops the reader (dropped with the outbox, it stops too).
    reader_stop: watch::Sender<bool>,
    /// `chain_heads` reads by the fan-out.
    reads: Arc<AtomicU64>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = lock(&self.registry).sinks.keys().cloned().collect();
        f.debug_struct("Outbox").field("sinks", &names).finish()
    }
}

impl Outbox {
    /// The fan-out of `sinks` (configured at start). `commits` changes after each audit group
    /// commit ([`crate::audit::AuditWriter::commits`]); `instance` holds the leases.
    pub fn new(
        store: DynStore,
        instance: &str,
        commits: watch::Receiver<u64>,
        client: HttpClient,
        sinks: Vec<Arc<dyn Sink>>,
    ) -> Outbox {
        let mut registry = Registry::default();
        for sink in sinks {
            let name = sink.name().to_string();
            if registry.sinks.contains_key(&name) {
                tracing::error!(sink = %name, "two sinks share a name; the second is not started");
                continue;
            }
            registry.sinks.insert(name, Running::new(sink, false, None));
        }
        let (feed, heads) = watch::channel(Heads::default());
        Outbox {
            store,
            instance: instance.to_string(),
            commits,
            client,
            registry: Mutex::new(registry),
            heads,
            heads_feed: Mutex::new(Some(feed)),
            reader_stop: watch::Sender::new(false),
            reads: Arc::default(),
        }
    }

    /// The HTTP client the sinks share (for runtime-managed sinks built elsewhere).
    pub fn http_client(&self) -> &HttpClient {
        &self.client
    }

    /// Register the sinks seen for the first time at the chain heads of now. Called before igd
    /// serves calls, so a configured sink never misses the first ones; a failure is logged and
    /// the sink's task registers it later.
    pub async fn register(&self) {
        let sinks: Vec<Arc<dyn Sink>> = lock(&self.registry)
            .sinks
            .values()
            .map(|r| r.sink.clone())
            .collect();
        if sinks.is_empty() {
            return;
        }
        self.reads.fetch_add(1, Ordering::Relaxed);
        let heads = match self.store.chain_heads().await {
            Ok(heads) => heads,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the chain heads to register the sinks; retried by each sink");
                return;
            }
        };
        for sink in sinks {
            let start: Vec<(String, u64)> = heads
                .iter()
                .filter(|h| sink.tenant().is_none_or(|t| t == h.tenant))
                .map(|h| (h.tenant.clone(), h.seq))
                .collect();
            match self
                .store
                .register_sink(sink.name(), &start, now_us())
                .await
            {
                Ok(true) => new_sink(sink.name(), start.len()),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(sink = %sink.name(), error = %e, "cannot register the sink; retried by its task")
                }
            }
        }
        if let Some(feed) = lock(&self.heads_feed).as_ref() {
            feed.send_replace(Arc::new(heads));
        }
    }

    /// Start a task per sink (after igd is ready). Sinks added later start at once.
    pub fn start(&self) {
        let mut reg = lock(&self.registry);
        if reg.started || reg.stopping {
            return;
        }
        reg.started = true;
        if let Some(feed) = lock(&self.heads_feed).take() {
            tokio::spawn(read_heads(
                self.store.clone(),
                self.commits.clone(),
                feed,
                self.reader_stop.subscribe(),
                self.reads.clone(),
            ));
        }
        for running in reg.sinks.values_mut() {
            self.spawn(running, None);
        }
        if !reg.sinks.is_empty() {
            let names: Vec<&String> = reg.sinks.keys().collect();
            tracing::info!(sinks = ?names, "audit fan-out started");
        }
    }

    fn spawn(&self, running: &mut Running, after: Option<JoinHandle<()>>) {
        let worker = Worker {
            sink: running.sink.clone(),
            store: self.store.clone(),
            instance: self.instance.clone(),
            shared: self.store.shared(),
            live: running.live.clone(),
            persisted: HashMap::new(),
            scanned: HashMap::new(),
            last_persist: Instant::now(),
            loaded: false,
            standby: false,
            renewed: None,
            backoff: HashMap::new(),
            reads: self.reads.clone(),
        };
        let heads = self.heads.clone();
        let stop = running.stop.subscribe();
        running.task = Some(tokio::spawn(async move {
            // A replaced sink's last delivery finishes before its successor reads the cursor.
            if let Some(previous) = after {
                let _ = tokio::time::timeout(RETIRE_WAIT, previous).await;
            }
            worker.run(heads, stop).await;
        }));
    }

    /// Replace the runtime-managed sinks (notification channels, named `notify:<id>`) with
    /// `sinks`: new ones start (a first-seen one at the chain heads), removed ones stop after
    /// their delivery in flight and their cursors are deleted, and one given anew under the
    /// same name (changed settings) continues from its cursors.
    pub fn reconcile_dynamic(&self, sinks: Vec<Arc<dyn Sink>>) {
        let mut wanted: BTreeMap<String, Arc<dyn Sink>> = BTreeMap::new();
        for sink in sinks {
            let name = sink.name().to_string();
            if !name.starts_with(DYNAMIC_PREFIX) {
                tracing::error!(sink = %name, "a runtime-managed sink must be named notify:<id>; not started");
                continue;
            }
            wanted.insert(name, sink);
        }
        let mut reg = lock(&self.registry);
        let gone: Vec<String> = reg
            .sinks
            .iter()
            .filter(|(name, r)| r.dynamic && !wanted.contains_key(*name))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            if let Some(running) = reg.sinks.remove(&name) {
                self.retire(running, true);
            }
        }
        for (name, sink) in wanted {
            let mut previous = None;
            let mut live = None;
            if let Some(r) = reg.sinks.get(&name) {
                if Arc::ptr_eq(&r.sink, &sink) {
                    continue;
                }
                if let Some(old) = reg.sinks.remove(&name) {
                    live = Some(old.live.clone());
                    previous = self.retire(old, false);
                }
            }
            let mut running = Running::new(sink, true, live);
            if reg.started && !reg.stopping {
                self.spawn(&mut running, previous);
            }
            reg.sinks.insert(name, running);
        }
    }

    /// Stop a sink's task after its delivery in flight; `forget`: then delete its cursors.
    /// Returns the task when it is not forgotten (a successor waits for it).
    fn retire(&self, mut running: Running, forget: bool) -> Option<JoinHandle<()>> {
        let _ = running.stop.send(true);
        let task = running.task.take();
        if !forget {
            return task;
        }
        let store = self.store.clone();
        let name = running.sink.name().to_string();
        tokio::spawn(async move {
            if let Some(task) = task {
                let _ = tokio::time::timeout(RETIRE_WAIT, task).await;
            }
            match store.delete_sink(&name).await {
                Ok(_) => tracing::info!(sink = %name, "sink removed; its cursors are deleted"),
                Err(e) => {
                    tracing::warn!(sink = %name, error = %e, "cannot delete a removed sink's cursors")
                }
            }
        });
        None
    }

    /// Every sink's status (in memory; cheap enough for every metrics scrape).
    pub fn status(&self) -> Vec<IntegrationStatus> {
        let now = now_us();
        lock(&self.registry)
            .sinks
            .values()
            .map(|r| r.status(now))
            .collect()
    }

    /// Stop every task: each finishes the delivery it has in flight (and records its
    /// progress), waiting at most `bound` in all; one still running then is abandoned and its
    /// batch is delivered again after the restart.
    pub async fn shutdown(&self, bound: Duration) {
        let tasks: Vec<(String, JoinHandle<()>)> = {
            let mut reg = lock(&self.registry);
            reg.stopping = true;
            let _ = self.reader_stop.send(true);
            reg.sinks
                .iter_mut()
                .filter_map(|(name, r)| {
                    let _ = r.stop.send(true);
                    r.task.take().map(|t| (name.clone(), t))
                })
                .collect()
        };
        let deadline = Instant::now() + bound;
        for (name, mut task) in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                tracing::warn!(sink = %name, "a delivery was still in flight at shutdown; it is sent again after the restart");
            }
        }
    }
}

fn new_sink(name: &str, chains: usize) {
    tracing::info!(sink = %name, chains, "new sink: it starts at the chain heads of now; earlier entries are not sent (igctl audit export has them)");
}

/// The wait before the next attempt after `failures` failed ones in a row, the last `err`.
pub fn backoff(failures: u32, err: &SinkError) -> Duration {
    let wait = if err.refused {
        MAX_BACKOFF
    } else {
        let doublings = failures.saturating_sub(1).min(16);
        let full = MIN_BACKOFF
            .saturating_mul(1u32 << doublings)
            .min(MAX_BACKOFF);
        // Equal jitter: half fixed, half random, so sinks and replicas do not retry in step.
        let half = full / 2;
        let spread = u64::try_from(half.as_millis()).unwrap_or(0);
        let jitter = Duration::from_millis(rand::thread_rng().gen_range(0..=spread));
        (half + jitter).max(MIN_BACKOFF)
    };
    err.retry_after.map_or(wait, |asked| wait.max(asked))
}

/// What one step on one chain came to.
enum Step {
    /// Caught up with the head read.
    Done,
    /// More lies past the cursor: go on without waiting.
    More,
    /// The delivery failed; the task waits (backoff).
    Failed,
    /// The cursor moved elsewhere (lease lost, sink removed): reload before going on.
    Lost,
}

/// A chain's failed deliveries in a row, and when it is tried again: each chain waits on its
/// own, so one tenant's refused entry does not hold back the others.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    refused: bool,
    at: Instant,
    /// `at` as wall time (µs), for the status.
    at_us: i64,
}

/// One sink's delivery task.
struct Worker {
    sink: Arc<dyn Sink>,
    store: DynStore,
    instance: String,
    shared: bool,
    live: Shared<Live>,
    /// Each chain's cursor as stored: the `from` of the next compare-and-set.
    persisted: HashMap<String, u64>,
    /// How far this task has read: ahead of `persisted` by unwanted entries not yet written.
    scanned: HashMap<String, u64>,
    last_persist: Instant,
    /// Cursors loaded from the store (while holding the lease on a shared store).
    loaded: bool,
    /// Another replica holds the lease.
    standby: bool,
    /// When the lease was last taken or renewed (shared store).
    renewed: Option<Instant>,
    /// The chains whose last delivery failed.
    backoff: HashMap<String, Backoff>,
    /// `chain_heads` reads by the fan-out, for its tests.
    reads: Arc<AtomicU64>,
}

async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn lease_until(now: i64) -> i64 {
    now.saturating_add(i64::try_from(LEASE.as_micros()).unwrap_or(i64::MAX))
}

/// The fan-out's one reader of the chain heads: after a commit (at most every
/// [`COMMIT_SPACING`]) and every [`TICK`], it reads them once and publishes them to every sink
/// task, which then touches the store only when a chain it reads has something past its cursor.
async fn read_heads(
    store: DynStore,
    mut commits: watch::Receiver<u64>,
    feed: watch::Sender<Heads>,
    mut stop: watch::Receiver<bool>,
    reads: Arc<AtomicU64>,
) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut feed_open = true;
    while !*stop.borrow() {
        tokio::select! {
            _ = tick.tick() => {}
            changed = commits.changed(), if feed_open => {
                if changed.is_err() {
                    feed_open = false;
                } else {
                    tokio::time::sleep(COMMIT_SPACING).await;
                }
            }
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
        // The outbox keeps one receiver: more means a sink task is listening.
        if *stop.borrow() || feed.receiver_count() <= 1 {
            continue;
        }
        reads.fetch_add(1, Ordering::Relaxed);
        match store.chain_heads().await {
            Ok(heads) => {
                feed.send_if_modified(|now| {
                    let changed = **now != heads;
                    if changed {
                        *now = Arc::new(heads);
                    }
                    changed
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "the audit fan-out cannot read the chain heads; retrying")
            }
        }
    }
}

impl Worker {
    fn name(&self) -> &str {
        self.sink.name()
    }

    async fn run(mut self, mut heads: watch::Receiver<Heads>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut feed_open = true;
        let mut more = false;
        while !*stop.borrow() {
            if !more {
                tokio::select! {
                    _ = tick.tick() => {}
                    // On standby, the tick is enough to follow the lag.
                    changed = heads.changed(), if feed_open && !self.standby => {
                        feed_open = changed.is_ok();
                    }
                    _ = until(self.next_retry()) => {}
                    changed = stop.changed() => {
                        // The outbox is gone without a word: stop as well.
                        if changed.is_err() {
                            break;
                        }
                    }
                }
                if *stop.borrow() {
                    break;
                }
            }
            let snapshot = heads.borrow_and_update().clone();
            more = self.round(&snapshot, &stop).await;
        }
        if self.loaded {
            if let Err(e) = self.persist_skips(true).await {
                tracing::warn!(sink = %self.name(), error = %e, "cannot record the sink's progress at shutdown");
            }
        }
        if self.shared && !self.standby {
            // Hand the lease back (expiring now): another replica takes over at once instead
            // of after its expiry.
            let now = now_us();
            let _ = self
                .store
                .sink_lease(self.name(), &self.instance, now, now)
                .await;
        }
    }

    /// The next retry still ahead, if a chain waits for one.
    fn next_retry(&self) -> Option<Instant> {
        let now = Instant::now();
        self.backoff
            .values()
            .map(|b| b.at)
            .filter(|at| *at > now)
            .min()
    }

    /// Whether `tenant`'s chain waits out a backoff.
    fn waiting(&self, tenant: &str) -> bool {
        self.backoff
            .get(tenant)
            .is_some_and(|b| b.at > Instant::now())
    }

    /// The chains this sink reads, with their heads as last published.
    fn covered(&self, heads: &[ChainHead]) -> Vec<ChainHead> {
        heads
            .iter()
            .filter(|h| self.sink.tenant().is_none_or(|t| t == h.tenant))
            .cloned()
            .collect()
    }

    /// Whether this round needs the store: the sink is not loaded yet (or on standby), its
    /// lease is due for renewal, a chain it reads moved away from its cursor (and does not wait
    /// out a backoff), or skipped progress is due to be written. An idle sink costs nothing.
    fn needs_store(&self, heads: &[ChainHead]) -> bool {
        if !self.loaded || (self.shared && self.renewed.is_none_or(|at| at.elapsed() >= RENEW)) {
            return true;
        }
        let moved = heads.iter().any(|h| {
            h.seq != self.scanned.get(&h.tenant).copied().unwrap_or(0) && !self.waiting(&h.tenant)
        });
        let unsaved = self
            .scanned
            .iter()
            .any(|(t, s)| *s > self.persisted.get(t).copied().unwrap_or(0));
        moved || (unsaved && self.last_persist.elapsed() >= SKIP_PERSIST_EVERY)
    }

    /// One look at every chain: at most one batch per chain. True when more is waiting.
    async fn round(&mut self, snapshot: &[ChainHead], stop: &watch::Receiver<bool>) -> bool {
        let heads = self.covered(snapshot);
        self.show_heads(&heads);
        if !self.needs_store(&heads) {
            return false;
        }
        lock(&self.live).store_rounds += 1;
        match self.prepare(&heads).await {
            Ok(true) => {}
            Ok(false) => return false,
            Err(e) => {
                self.store_failed(&e);
                return false;
            }
        }
        let mut more = false;
        for head in &heads {
            if *stop.borrow() {
                return false;
            }
            if self.waiting(&head.tenant) {
                continue;
            }
            // A long round keeps its lease: renewed between chains (a no-op within RENEW), and
            // a replica that lost it stops before sending anything more.
            if self.shared {
                match self.prepare(&heads).await {
                    Ok(true) => {}
                    Ok(false) => return false,
                    Err(e) => {
                        self.store_failed(&e);
                        return false;
                    }
                }
            }
            match self.step(&head.tenant, head.seq).await {
                Ok(Step::Done) => self.recovered(&head.tenant),
                Ok(Step::More) => {
                    self.recovered(&head.tenant);
                    more = true;
                }
                // This chain waits out its backoff; the others go on.
                Ok(Step::Failed) => {}
                Ok(Step::Lost) => {
                    self.loaded = false;
                    return false;
                }
                // One chain that cannot be read (a row this build cannot decode) waits out
                // a backoff of its own; the other chains go on.
                Err(e) => {
                    self.store_failed(&e);
                    self.failed(&head.tenant, SinkError::transient(format!("storage: {e}")));
                }
            }
        }
        if let Err(e) = self.persist_skips(false).await {
            self.store_failed(&e);
        }
        let mut live = lock(&self.live);
        if live.state == State::Starting {
            live.state = State::Ok;
        }
        more
    }

    /// Register the sink (at the chain heads of now) when it is not registered yet.
    async fn register(&self) -> Result<(), StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let start: Vec<(String, u64)> = self
            .covered(&self.store.chain_heads().await?)
            .into_iter()
            .map(|h| (h.tenant, h.seq))
            .collect();
        let name = self.name();
        if self.store.register_sink(name, &start, now_us()).await? {
            new_sink(name, start.len());
        }
        Ok(())
    }

    /// Make sure this replica delivers the sink: registered, its cursors loaded, and on a
    /// shared store its lease taken (or renewed, about once a [`TICK`]). False on standby (or when
    /// the sink vanished meanwhile).
    async fn prepare(&mut self, heads: &[ChainHead]) -> Result<bool, StoreError> {
        if !self.shared {
            // One process owns the embedded store: the lease is trivially this one's.
            if !self.loaded {
                self.load_cursors().await?;
                if !self.loaded {
                    self.register().await?;
                    self.load_cursors().await?;
                }
            }
            return Ok(self.loaded);
        }
        if self.loaded && !self.standby && self.renewed.is_some_and(|at| at.elapsed() < RENEW) {
            return Ok(true);
        }
        let now = now_us();
        let name = self.sink.name().to_string();
        let mut holder = self
            .store
            .sink_lease(&name, &self.instance, now, lease_until(now))
            .await?;
        if holder.is_none() {
            self.register().await?;
            self.loaded = false;
            holder = self
                .store
                .sink_lease(&name, &self.instance, now, lease_until(now))
                .await?;
        }
        self.renewed = Some(Instant::now());
        self.standby = holder.as_deref() != Some(self.instance.as_str());
        if !self.standby {
            if !self.loaded {
                self.load_cursors().await?;
            }
            self.show_holder(None);
            return Ok(self.loaded);
        }
        // Another replica delivers: show where it is.
        self.loaded = false;
        self.backoff.clear();
        let cursors = self.store.sink_cursors(&name).await?.unwrap_or_default();
        self.scanned = cursors.into_iter().collect();
        self.persisted = self.scanned.clone();
        self.show_heads(heads);
        self.show_holder(Some(holder));
        Ok(false)
    }

    async fn load_cursors(&mut self) -> Result<(), StoreError> {
        // `None`: not registered (yet, or removed in between by another replica).
        if let Some(cursors) = self.store.sink_cursors(self.sink.name()).await? {
            self.persisted = cursors.into_iter().collect();
            self.scanned = self.persisted.clone();
            self.last_persist = Instant::now();
            self.loaded = true;
        }
        Ok(())
    }

    /// Record the heads published (in memory only).
    fn show_heads(&self, heads: &[ChainHead]) {
        let mut live = lock(&self.live);
        for h in heads {
            let cursor = self.scanned.get(&h.tenant).copied().unwrap_or(0);
            let view = live.chains.entry(h.tenant.clone()).or_default();
            view.cursor = cursor;
            view.head = h.seq;
            if h.seq <= cursor {
                view.oldest = None;
            }
        }
    }

    /// `standby`: another replica (the holder) delivers.
    fn show_holder(&self, standby: Option<Option<String>>) {
        let mut live = lock(&self.live);
        match standby {
            Some(holder) => {
                live.state = State::Standby;
                live.holder = holder;
                live.next_attempt = None;
            }
            None => {
                live.holder = None;
                if live.state == State::Standby {
                    live.state = State::Starting;
                }
            }
        }
    }

    fn show_chain(&self, tenant: &str, cursor: u64, oldest: Option<i64>) {
        let mut live = lock(&self.live);
        let view = live.chains.entry(tenant.to_string()).or_default();
        view.cursor = cursor;
        view.oldest = oldest;
    }

    /// Deliver (or skip) what lies past the cursor of one chain: one batch at most.
    async fn step(&mut self, tenant: &str, mut head: u64) -> Result<Step, StoreError> {
        let cursor = self.scanned.get(tenant).copied().unwrap_or(0);
        if head < cursor {
            // The published heads may predate this cursor (the sink registered, or another
            // replica delivered, since): only a head read now that is behind it is a regression.
            self.reads.fetch_add(1, Ordering::Relaxed);
            let heads = self.store.chain_heads().await?;
            let Some(now) = heads.into_iter().find(|h| h.tenant == tenant) else {
                return Ok(Step::Done);
            };
            if now.seq < cursor {
                return self.regressed(tenant, now.seq).await;
            }
            head = now.seq;
        }
        if head == cursor {
            return Ok(Step::Done);
        }
        let entries = self
            .store
            .chain_range(tenant, cursor + 1, head, READ_LIMIT)
            .await?;
        let first = entries.first().map_or(head + 1, |e| e.seq);
        if first > cursor + 1 {
            self.gap(tenant, cursor, first.min(head + 1));
        }
        let oldest = entries
            .iter()
            .find(|e| self.sink.wants(e))
            .or(entries.first())
            .map(|e| e.ts);
        let (batch, through) = self.select(entries, cursor, head);
        if batch.is_empty() {
            self.scanned.insert(tenant.to_string(), through);
            self.show_chain(tenant, through, None);
            return Ok(if through < head {
                Step::More
            } else {
                Step::Done
            });
        }
        self.show_chain(tenant, cursor, oldest);
        self.deliver(tenant, &batch, through, head).await
    }

    /// The wanted entries of one batch, and the seq the cursor moves to once it is delivered
    /// (past the unwanted entries read with it). Nothing read: the head (deleted entries).
    fn select(&self, entries: Vec<Entry>, cursor: u64, head: u64) -> (Vec<Entry>, u64) {
        if entries.is_empty() {
            return (Vec::new(), head);
        }
        let max = self.sink.max_batch().max(1);
        let mut batch = Vec::new();
        let mut through = cursor;
        for e in entries {
            if self.sink.wants(&e) {
                if batch.len() >= max {
                    break;
                }
                through = e.seq;
                batch.push(e);
            } else {
                through = e.seq;
            }
        }
        (batch, through)
    }

    /// Deliver one batch of `tenant`'s chain; on success move the cursor to `through`.
    async fn deliver(
        &mut self,
        tenant: &str,
        batch: &[Entry],
        through: u64,
        head: u64,
    ) -> Result<Step, StoreError> {
        if let Err(e) = self.deliver_renewing(batch).await {
            self.failed(tenant, e);
            return Ok(Step::Failed);
        }
        let from = self.persisted.get(tenant).copied().unwrap_or(0);
        let now = now_us();
        let name = self.sink.name().to_string();
        let moved = self
            .store
            .advance_sink_cursor(&name, tenant, from, through, &self.instance, now)
            .await?;
        if !moved {
            tracing::warn!(sink = %name, tenant, "the sink's cursor moved elsewhere (its lease was taken over, or the sink removed); reloading");
            return Ok(Step::Lost);
        }
        self.persisted.insert(tenant.to_string(), through);
        self.scanned.insert(tenant.to_string(), through);
        {
            let mut live = lock(&self.live);
            live.delivered += u64::try_from(batch.len()).unwrap_or(0);
            live.last_delivery = Some(now);
        }
        self.recovered(tenant);
        self.show_chain(tenant, through, None);
        Ok(if through < head {
            Step::More
        } else {
            Step::Done
        })
    }

    /// Deliver, renewing the lease meanwhile on a shared store (a slow receiver must not let
    /// another replica take the sink over mid-delivery).
    async fn deliver_renewing(&self, batch: &[Entry]) -> Result<(), SinkError> {
        let delivery = self.sink.deliver(batch);
        if !self.shared {
            return delivery.await;
        }
        tokio::pin!(delivery);
        let mut renew = tokio::time::interval_at(Instant::now() + TICK, TICK);
        loop {
            tokio::select! {
                result = &mut delivery => return result,
                _ = renew.tick() => {
                    let now = now_us();
                    match self.store.sink_lease(self.name(), &self.instance, now, lease_until(now)).await {
                        Ok(holder) if holder.as_deref() == Some(self.instance.as_str()) => {}
                        // Another replica took the lease meanwhile: this delivery may still
                        // land (receivers deduplicate by event id), but the cursor update
                        // that follows fails and the task reloads.
                        Ok(holder) => tracing::warn!(sink = %self.name(), holder = ?holder, "the sink's lease passed to another replica during a delivery"),
                        Err(e) => tracing::warn!(sink = %self.name(), error = %e, "cannot renew the sink's lease"),
                    }
                }
            }
        }
    }

    fn failed(&mut self, tenant: &str, e: SinkError) {
        let failures = self
            .backoff
            .get(tenant)
            .map_or(0, |b| b.failures)
            .saturating_add(1);
        let wait = backoff(failures, &e);
        let now = now_us();
        let wait_us = i64::try_from(wait.as_micros()).unwrap_or(i64::MAX);
        self.backoff.insert(
            tenant.to_string(),
            Backoff {
                failures,
                refused: e.refused,
                at: Instant::now() + wait,
                at_us: now.saturating_add(wait_us),
            },
        );
        {
            let mut live = lock(&self.live);
            live.failed += 1;
            live.last_error = Some((e.message.clone(), now));
        }
        self.show_backoff();
        let retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let sink = self.name();
        // Stable messages (README, "Logs and traces"): the entries wait, nothing is dropped.
        if self.sink.kind() == "webhook" {
            tracing::warn!(sink, tenant, error = %e.message, refused = e.refused, failures, retry_in_ms, "webhook send failed");
        } else {
            tracing::warn!(sink, tenant, error = %e.message, refused = e.refused, failures, retry_in_ms, "sink send failed");
        }
    }

    /// `tenant`'s chain is delivered (or has nothing to deliver): its backoff ends.
    fn recovered(&mut self, tenant: &str) {
        if self.backoff.remove(tenant).is_some() || lock(&self.live).next_attempt.is_some() {
            self.show_backoff();
        }
    }

    /// The sink's state from its chains' backoffs: refused or retrying while one waits (the
    /// next attempt the soonest), ok otherwise.
    fn show_backoff(&self) {
        let mut live = lock(&self.live);
        live.next_attempt = self.backoff.values().map(|b| b.at_us).min();
        live.state = if self.backoff.values().any(|b| b.refused) {
            State::Refused
        } else if !self.backoff.is_empty() {
            State::Retrying
        } else {
            State::Ok
        };
    }

    fn store_failed(&self, e: &StoreError) {
        tracing::warn!(sink = %self.name(), error = %e, "the audit fan-out cannot read or record its progress; retrying");
        lock(&self.live).last_error = Some((format!("storage: {e}"), now_us()));
    }

    /// Entries `cursor+1 .. first-1` of `tenant` are gone (a retention cut) before this sink
    /// delivered them: said, and delivery goes on from `first`.
    fn gap(&self, tenant: &str, cursor: u64, first: u64) {
        let message = format!(
            "entries {}..{} of tenant {tenant} were deleted (retention) before this sink delivered them; continuing from {first}",
            cursor + 1,
            first - 1
        );
        tracing::warn!(sink = %self.name(), tenant, "{message}");
        lock(&self.live).last_error = Some((message, now_us()));
    }

    /// The chain's head is behind the cursor (a restored database, a chain started anew): the
    /// entries chained from now on would fall under the cursor and never be sent, so the
    /// cursor goes back to the head.
    async fn regressed(&mut self, tenant: &str, head: u64) -> Result<Step, StoreError> {
        let from = self.persisted.get(tenant).copied().unwrap_or(0);
        let name = self.sink.name().to_string();
        let moved = self
            .store
            .advance_sink_cursor(&name, tenant, from, head, &self.instance, now_us())
            .await?;
        if !moved {
            return Ok(Step::Lost);
        }
        let message = format!(
            "the chain of tenant {tenant} is back at {head}, behind this sink's cursor {from} (restored database?); the cursor follows it"
        );
        tracing::warn!(sink = %name, tenant, "{message}");
        lock(&self.live).last_error = Some((message, now_us()));
        self.persisted.insert(tenant.to_string(), head);
        self.scanned.insert(tenant.to_string(), head);
        self.show_chain(tenant, head, None);
        Ok(Step::Done)
    }

    /// Write progress over unwanted entries (at most once a second unless `force`).
    async fn persist_skips(&mut self, force: bool) -> Result<(), StoreError> {
        if !force && self.last_persist.elapsed() < SKIP_PERSIST_EVERY {
            return Ok(());
        }
        let ahead: Vec<(String, u64, u64)> = self
            .scanned
            .iter()
            .filter_map(|(t, s)| {
                let from = self.persisted.get(t).copied().unwrap_or(0);
                (*s > from).then(|| (t.clone(), from, *s))
            })
            .collect();
        self.last_persist = Instant::now();
        let name = self.sink.name().to_string();
        for (tenant, from, to) in ahead {
            if self
                .store
                .advance_sink_cursor(&name, &tenant, from, to, &self.instance, now_us())
                .await?
            {
                self.persisted.insert(tenant, to);
            } else {
                self.loaded = false;
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(refused: bool, retry_after: Option<u64>) -> SinkError {
        SinkError {
            message: "x".into(),
            retry_after: retry_after.map(Duration::from_secs),
            refused,
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_bounded() {
        for failures in 1..40 {
            let wait = backoff(failures, &err(false, None));
            let full = MIN_BACKOFF
                .saturating_mul(1u32 << (failures - 1).min(16))
                .min(MAX_BACKOFF);
            assert!(
                wait >= MIN_BACKOFF && wait >= full / 2 && wait <= full,
                "{failures}: {wait:?}"
            );
        }
        assert_eq!(backoff(1, &err(true, None)), MAX_BACKOFF);
        assert!(backoff(1, &err(false, Some(7))) >= Duration::from_secs(7));
        assert_eq!(backoff(1, &err(true, Some(900))), Duration::from_secs(900));
    }
}

#[cfg(test)]
mod fanout_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::config::AuditSync;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{AppendEntry, CommitBatch};
    use async_trait::async_trait;
    use intentgate_proto::audit::GENESIS_HASH;
    use intentgate_proto::ids::new_id;

    /// Wants denials; refuses any batch of `refuse`'s chain.
    #[derive(Debug)]
    struct Probe {
        name: String,
        tenant: Option<String>,
        refuse: Option<String>,
        got: Mutex<Vec<(String, u64)>>,
    }

    #[async_trait]
    impl Sink for Probe {
        fn name(&self) -> &str {
            &self.name
        }
        fn kind(&self) -> &'static str {
            "splunk"
        }
        fn tenant(&self) -> Option<&str> {
            self.tenant.as_deref()
        }
        fn wants(&self, entry: &Entry) -> bool {
            entry.decision.as_deref() == Some("deny")
        }
        async fn deliver(&self, entries: &[Entry]) -> Result<(), SinkError> {
            if entries
                .iter()
                .any(|e| Some(&e.tenant) == self.refuse.as_ref())
            {
                return Err(SinkError {
                    message: "410 Gone".into(),
                    retry_after: None,
                    refused: true,
                });
            }
            let mut got = lock(&self.got);
            got.extend(entries.iter().map(|e| (e.tenant.clone(), e.seq)));
            Ok(())
        }
    }

    fn probe(name: &str, tenant: Option<&str>, refuse: Option<&str>) -> Arc<Probe> {
        Arc::new(Probe {
            name: name.into(),
            tenant: tenant.map(String::from),
            refuse: refuse.map(String::from),
            got: Mutex::default(),
        })
    }

    fn delivered(p: &Probe, tenant: &str) -> Vec<u64> {
        let got = lock(&p.got);
        got.iter()
            .filter(|(t, _)| t == tenant)
            .map(|(_, s)| *s)
            .collect()
    }

    /// Chain one entry with `decision` to each of `tenants`; returns their seqs.
    async fn commit(store: &DynStore, tenants: &[&str], decision: &str) -> Vec<u64> {
        let mut heads: HashMap<String, (u64, String)> = store
            .chain_heads()
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.tenant, (h.seq, h.hash)))
            .collect();
        let mut entries = Vec::new();
        for tenant in tenants {
            let (seq, hash) = heads
                .get(*tenant)
                .cloned()
                .unwrap_or((0, GENESIS_HASH.to_string()));
            let mut e = Entry {
                v: 1,
                tenant: (*tenant).into(),
                kind: "decision".into(),
                event_id: new_id(),
                ts: now_us(),
                instance: "test".into(),
                decision: Some(decision.into()),
                ..Entry::default()
            };
            e.seal(seq, &hash);
            heads.insert(e.tenant.clone(), (e.seq, e.hash.clone()));
            entries.push(AppendEntry {
                entry: e,
                ref_seq: None,
                side: None,
            });
        }
        let batch = CommitBatch {
            entries,
            charges: Vec::new(),
            calls: Vec::new(),
            reseal: false,
        };
        store
            .commit(batch)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect()
    }

    async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..300 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    fn rounds(outbox: &Outbox) -> BTreeMap<String, u64> {
        lock(&outbox.registry)
            .sinks
            .iter()
            .map(|(n, r)| (n.clone(), lock(&r.live).store_rounds))
            .collect()
    }

    fn state(outbox: &Outbox, name: &str) -> IntegrationStatus {
        outbox
            .status()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap()
    }

    async fn sqlite(dir: &tempfile::TempDir) -> DynStore {
        let path = dir.path().join("igd.db");
        Arc::new(SqliteStore::open(&path, AuditSync::Normal).await.unwrap())
    }

    /// 180 channels of quiet tenants and 20 of a busy one: a commit of the busy tenant costs
    /// one heads read for the whole fan-out, and the quiet channels no store work at all.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn outbox_idle_sinks_cost_nothing_per_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite(&dir).await;
        let quiet: Vec<String> = (0..180).map(|i| format!("q{i}")).collect();
        let quiet_refs: Vec<&str> = quiet.iter().map(String::as_str).collect();
        commit(&store, &quiet_refs, "deny").await;
        let mut probes = Vec::new();
        for (i, tenant) in quiet.iter().enumerate() {
            probes.push(probe(&format!("notify:q{i}"), Some(tenant), None));
        }
        for i in 0..20 {
            probes.push(probe(&format!("notify:busy{i}"), Some("busy"), None));
        }
        let (commits, feed) = watch::channel(0u64);
        let sinks: Vec<Arc<dyn Sink>> = probes.iter().map(|p| p.clone() as Arc<dyn Sink>).collect();
        let outbox = Outbox::new(store.clone(), "i1", feed, HttpClient::new().unwrap(), sinks);
        outbox.register().await;
        outbox.start();
        wait_for("every sink to start", || {
            outbox.status().iter().all(|s| s.state == "ok")
        })
        .await;
        let before = rounds(&outbox);
        let reads = outbox.reads.load(Ordering::Relaxed);
        let started = Instant::now();
        let mut owed = Vec::new();
        for n in 1..=5u64 {
            let seqs = commit(&store, &["busy", "busy"], "allow").await;
            owed.extend(commit(&store, &["busy"], "deny").await);
            assert_eq!(seqs.len(), 2);
            commits.send_replace(n);
            wait_for("the busy channels to deliver", || {
                probes[180..].iter().all(|p| delivered(p, "busy") == owed)
            })
            .await;
        }
        let after = rounds(&outbox);
        for name in quiet
            .iter()
            .enumerate()
            .map(|(i, _)| format!("notify:q{i}"))
        {
            assert_eq!(
                before[&name], after[&name],
                "{name} used the store while idle"
            );
        }
        assert!(probes[..180].iter().all(|p| lock(&p.got).is_empty()));
        let busy: u64 = (0..20)
            .map(|i| format!("notify:busy{i}"))
            .map(|n| after[&n] - before[&n])
            .sum();
        assert!(
            busy >= 20,
            "the busy channels delivered without the store: {busy}"
        );
        // One read per commit wake-up and per tick, however many sinks (one each would be
        // at least 200 per commit).
        let read = outbox.reads.load(Ordering::Relaxed) - reads;
        let bound = 5 + started.elapsed().as_secs() + 2;
        assert!(
            (1..=bound).contains(&read),
            "{read} heads reads, bound {bound}"
        );
        outbox.shutdown(Duration::from_secs(5)).await;
    }

    /// One tenant's refused entry waits out its backoff alone: the sink's other chains go on
    /// being delivered, then and in later rounds, and the refused chain's cursor stays put.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn outbox_a_refused_chain_does_not_hold_back_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite(&dir).await;
        let sink = probe("splunk", None, Some("bad"));
        let (commits, feed) = watch::channel(0u64);
        let outbox = Outbox::new(
            store.clone(),
            "i1",
            feed,
            HttpClient::new().unwrap(),
            vec![sink.clone() as Arc<dyn Sink>],
        );
        outbox.register().await;
        outbox.start();
        wait_for("the sink to start", || {
            state(&outbox, "splunk").state == "ok"
        })
        .await;
        // "bad" sorts before "good": the refused chain comes first in each round.
        let mut owed = commit(&store, &["bad", "good"], "deny").await;
        owed.remove(0);
        commits.send_replace(1);
        wait_for("the good chain", || delivered(&sink, "good") == owed).await;
        wait_for("the refusal", || {
            state(&outbox, "splunk").state == "refused"
        })
        .await;
        owed.extend(commit(&store, &["good"], "deny").await);
        commits.send_replace(2);
        wait_for("the good chain again", || delivered(&sink, "good") == owed).await;
        assert!(delivered(&sink, "bad").is_empty());
        let status = state(&outbox, "splunk");
        assert_eq!(status.state, "refused");
        assert!(status.next_attempt_at.is_some());
        let bad = status.cursors.iter().find(|c| c.tenant == "bad").unwrap();
        assert_eq!((bad.seq, bad.head), (0, 1));
        outbox.shutdown(Duration::from_secs(5)).await;
        assert_eq!(
            store.sink_cursors("splunk").await.unwrap().unwrap(),
            vec![("good".to_string(), 2)]
        );
    }
}
