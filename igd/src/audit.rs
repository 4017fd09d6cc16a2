//! The audit writer: a single task per store that seals entries onto their tenant's chain and
//! commits them in groups (many requests share one transaction). A caller gets its sealed entry
//! back only after the transaction committed, so "forward only after the decision is durable"
//! is simply: await [`AuditWriter::append`] before forwarding.

use crate::clock;
use crate::store::{
    AppendEntry, BudgetCharge, CallCount, CommitBatch, DynStore, SideRecord, StoreError,
};
use intentgate_proto::audit::{Check, Entry, Kind, Verdict, GENESIS_HASH};
use intentgate_proto::ids::new_id;
use intentgate_proto::token::Claims;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most records one group commit carries.
const MAX_BATCH: usize = 512;
/// How long a batch of background entries waits for a foreground one to share its commit.
pub const BACKGROUND_DELAY: std::time::Duration = std::time::Duration::from_millis(2);

/// Why an entry could not be committed. The call it belongs to must fail closed (−31005).
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditError {
    #[error("audit storage unavailable: {0}")]
    Unavailable(String),
    #[error("audit writer stopped")]
    Stopped,
}

/// An entry to append (its seq, prev_hash and hash are filled in by the writer) with what rides
/// the same transaction.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub entry: Entry,
    /// The seq of the entry `entry.ref_event_id` names (same tenant), when there is one.
    pub ref_seq: Option<u64>,
    pub side: Option<SideRecord>,
    pub charges: Vec<BudgetCharge>,
    pub calls: Vec<CallCount>,
}

impl Record {
    /// An entry with nothing riding along.
    pub fn of(entry: Entry) -> Record {
        Record {
            entry,
            ..Record::default()
        }
    }
}

struct Job {
    record: Record,
    /// Nobody waits for it (outcome entries): it may wait briefly to ride a later commit.
    background: bool,
    reply: oneshot::Sender<Result<Entry, AuditError>>,
    /// Retained after a failed commit: the seq its tenant's chain had reached before that
    /// commit. The commit may have landed after all (a connection lost at COMMIT), so before
    /// the entry goes again the store is asked whether it holds it past that seq.
    retried_after: Option<u64>,
    /// When it was handed to the writer (`None` while metrics are off).
    enqueued: Option<std::time::Instant>,
}

/// Who performed an admin action: the authenticated identity, and the JIT elevation it acted
/// under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub identity: String,
    pub elevation_id: Option<String>,
}

impl Actor {
    /// igd itself (timeouts, retention, re-baselines it performs on its own).
    pub fn system() -> Actor {
        Actor {
            identity: "igd".into(),
            elevation_id: None,
        }
    }

    /// Write `actor` and `elevation_id` into an entry.
    pub fn stamp(&self, entry: &mut Entry) {
        entry.actor = Some(self.identity.clone());
        entry.elevation_id = self.elevation_id.clone();
    }
}

/// Handle to the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Job>,
    /// False since a commit failed on storage, until a commit or a store probe succeeds
    /// (`/healthz` answers 503 meanwhile).
    store_ok: Arc<AtomicBool>,
    /// This igd's instance id, stamped on every entry it writes.
    instance: Arc<str>,
    /// Bumped after each successful group commit: wakes the audit fan-out (`sinks::outbox`),
    /// once per commit, never per call.
    commits: Arc<tokio::sync::watch::Sender<u64>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl AuditWriter {
    /// Start the writer task. It ends when every handle is dropped, after draining.
    pub async fn start(
        store: DynStore,
        instance: &str,
    ) -> Result<(AuditWriter, tokio::task::JoinHandle<()>), StoreError> {
        let heads = load_heads(&store).await?;
        let (tx, rx) = mpsc::channel(8192);
        let commits = Arc::new(tokio::sync::watch::Sender::new(0u64));
        let task = tokio::spawn(writer_loop(store, heads, rx, commits.clone()));
        let store_ok = Arc::new(AtomicBool::new(true));
        let instance = Arc::from(instance);
        Ok((
            AuditWriter {
                tx,
                store_ok,
                instance,
                commits,
            },
            task,
        ))
    }

    /// A new unsealed entry of `kind` in `tenant`, stamped with time, id and instance.
    pub fn entry(&self, tenant: &str, kind: Kind) -> Entry {
        Entry {
            tenant: tenant.to_string(),
            kind: kind.as_str().to_string(),
            event_id: new_id(),
            ts: clock::now_us(),
            instance: self.instance.to_string(),
            ..Entry::default()
        }
    }

    /// A new entry about a token's call, in its tenant, naming its subject and chain.
    pub fn token_entry(&self, claims: &Claims, kind: Kind) -> Entry {
        let mut e = self.entry(&claims.root.tenant, kind);
        e.subject = Some(claims.root.sub.clone());
        e.delegated_subject = claims.delegated_subject().map(String::from);
        e.jti = Some(claims.leaf_jti().to_string());
        e.root_jti = Some(claims.root.jti.clone());
        e.jti_chain = Some(claims.chain().map(String::from).collect());
        e
    }

    /// A decision entry blocking a token's request at `check`.
    pub fn refusal(&self, claims: &Claims, check: Check, reason: String) -> Entry {
        let mut e = self.token_entry(claims, Kind::Decision);
        e.decision = Some(Verdict::Block.as_str().into());
        e.check = Some(check.as_str().into());
        e.reason = Some(reason);
        e
    }

    /// Chain a state-changing admin action and wait until it is durable.
    pub async fn admin(
        &self,
        tenant: &str,
        actor: &Actor,
        action: &str,
        target: &str,
        reason: Option<&str>,
    ) -> Result<Entry, AuditError> {
        let mut entry = self.entry(tenant, Kind::Admin);
        actor.stamp(&mut entry);
        entry.action = Some(action.to_string());
        entry.target = Some(target.to_string());
        entry.reason = reason.filter(|r| !r.is_empty()).map(String::from);
        self.append(Record::of(entry)).await
    }

    /// Changes after every successful group commit (what the audit fan-out waits on).
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// Whether the last commit (or store probe) succeeded.
    pub fn store_ok(&self) -> bool {
        self.store_ok.load(Ordering::Acquire)
    }

    /// Record the outcome of a store probe.
    pub fn set_store_ok(&self, ok: bool) {
        note_outcome(&self.store_ok, ok);
    }

    /// Append a record and wait until it is durable. Returns the sealed entry.
    pub async fn append(&self, record: Record) -> Result<Entry, AuditError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                record,
                reply,
                background: false,
                retried_after: None,
                enqueued: crate::metrics::start(),
            })
            .await
            .map_err(|_| AuditError::Stopped)?;
        let result = rx.await.map_err(|_| AuditError::Stopped)?;
        match &result {
            Ok(_) => note_outcome(&self.store_ok, true),
            Err(AuditError::Unavailable(_)) => note_outcome(&self.store_ok, false),
            Err(AuditError::Stopped) => {}
        }
        result
    }

    /// Append a record nobody waits on (an outcome). It is committed with the next group, at
    /// most [`BACKGROUND_DELAY`] later; a failure is logged, never dropped silently.
    pub async fn append_background(&self, record: Record) {
        let (reply, rx) = oneshot::channel();
        if self
            .tx
            .send(Job {
                record,
                reply,
                background: true,
                retried_after: None,
                enqueued: crate::metrics::start(),
            })
            .await
            .is_err()
        {
            tracing::error!("audit writer stopped; an outcome entry was not recorded");
            return;
        }
        let store_ok = self.store_ok.clone();
        tokio::spawn(async move {
            match rx.await {
                Ok(Err(e)) => {
                    if matches!(e, AuditError::Unavailable(_)) {
                        note_outcome(&store_ok, false);
                    }
                    tracing::error!(error = %e, "outcome entry could not be committed");
                }
                Ok(Ok(_)) => note_outcome(&store_ok, true),
                Err(_) => {}
            }
        });
    }
}

/// Flip the health flag only when it changes (no shared-cache-line write per call).
fn note_outcome(flag: &AtomicBool, ok: bool) {
    if flag.load(Ordering::Relaxed) != ok
        && flag
            .compare_exchange(!ok, ok, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        if ok {
            tracing::info!("audit storage is writable again");
        } else {
            tracing::error!("audit storage failed: /healthz answers 503 until it recovers");
        }
    }
}

async fn load_heads(store: &DynStore) -> Result<HashMap<String, (u64, String)>, StoreError> {
    Ok(store
        .chain_heads()
        .await?
        .into_iter()
        .map(|h| (h.tenant, (h.seq, h.hash)))
        .collect())
}

/// Background entries (outcomes) a failed commit carried wait here and go again with the next
/// commit, so a storage outage delays them instead of losing them. Beyond this many the oldest
/// is given up, loudly.
const MAX_RETAINED: usize = 100_000;
/// How often retained entries are retried while no new entry arrives.
const RETRY_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The next jobs to commit: retained ones first, then what arrives (waiting at most
/// [`RETRY_EVERY`] while some are retained). `None` once the channel is closed and nothing is
/// retained.
async fn next_jobs(
    rx: &mut mpsc::Receiver<Job>,
    retained: &mut std::collections::VecDeque<Job>,
    closed: &mut bool,
) -> Option<Vec<Job>> {
    let first = if *closed {
        None
    } else if retained.is_empty() {
        rx.recv().await
    } else {
        tokio::time::timeout(RETRY_EVERY, rx.recv())
            .await
            .unwrap_or(None)
    };
    if first.is_none() && rx.is_closed() && rx.is_empty() {
        *closed = true;
    }
    let take = retained.len().min(MAX_BATCH);
    let mut jobs: Vec<Job> = retained.drain(..take).collect();
    jobs.extend(first);
    if jobs.is_empty() {
        return None;
    }
    while jobs.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
    // Only background entries so far: give a waiting caller's entry a moment to join, so
    // outcomes ride decision commits instead of costing commits of their own.
    if jobs.iter().all(|j| j.background) && !*closed {
        let deadline = tokio::time::Instant::now() + BACKGROUND_DELAY;
        while jobs.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(job)) => {
                    let foreground = !job.background;
                    jobs.push(job);
                    if foreground {
                        break;
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
    Some(jobs)
}

/// A commit failed: callers waiting on their entries are refused (their calls fail closed);
/// background entries are retained for the next commit when the failure may pass (storage
/// unavailable), unless igd is stopping, when everything retained is given up at once.
fn fail(
    jobs: Vec<Job>,
    err: &AuditError,
    retry: bool,
    retained: &mut std::collections::VecDeque<Job>,
    closed: bool,
) {
    for job in jobs {
        if job.background && retry && !closed {
            retained.push_back(job);
        } else {
            let _ = job.reply.send(Err(err.clone()));
        }
    }
    if closed {
        for job in retained.drain(..) {
            let _ = job.reply.send(Err(err.clone()));
        }
    }
    while retained.len() > MAX_RETAINED {
        if let Some(oldest) = retained.pop_front() {
            let _ = oldest.reply.send(Err(err.clone()));
        }
    }
}

/// Retried entries the store already holds (their failed commit landed after all) are
/// answered with the stored entry instead of being written twice. Only retried jobs are
/// looked up (rare: after a storage failure).
async fn drop_landed(store: &DynStore, jobs: Vec<Job>) -> Vec<Job> {
    if jobs.iter().all(|j| j.retried_after.is_none()) {
        return jobs;
    }
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        let Some(after) = job.retried_after else {
            out.push(job);
            continue;
        };
        let query = crate::store::AuditQuery {
            tenant: Some(job.record.entry.tenant.clone()),
            event_id: Some(job.record.entry.event_id.clone()),
            from_seq: Some(after + 1),
            limit: 1,
            ..crate::store::AuditQuery::default()
        };
        match store.query_entries(&query).await {
            Ok(mut found) if !found.is_empty() => {
                let _ = job.reply.send(Ok(found.remove(0)));
            }
            // Not there (or the store cannot tell yet): it goes again.
            _ => out.push(job),
        }
    }
    out
}

async fn writer_loop(
    store: DynStore,
    mut heads: HashMap<String, (u64, String)>,
    mut rx: mpsc::Receiver<Job>,
    commits: Arc<tokio::sync::watch::Sender<u64>>,
) {
    let mut stale_heads = false;
    let mut retained = std::collections::VecDeque::new();
    let mut closed = false;
    while let Some(jobs) = next_jobs(&mut rx, &mut retained, &mut closed).await {
        if stale_heads {
            match load_heads(&store).await {
                Ok(h) => {
                    heads = h;
                    stale_heads = false;
                }
                Err(e) => {
                    let retry = matches!(e, StoreError::Unavailable(_));
                    let err = AuditError::Unavailable(e.to_string());
                    fail(jobs, &err, retry, &mut retained, closed);
                    continue;
                }
            }
        }
        // Seal against the cached heads; the store reseals onto its stored heads inside the
        // transaction where they moved on (another replica appended). Background records are
        // kept until the commit succeeds, to go again if it fails.
        let mut next_heads: HashMap<String, (u64, String)> = HashMap::new();
        let mut batch = CommitBatch {
            reseal: true,
            ..CommitBatch::default()
        };
        let jobs = drop_landed(&store, jobs).await;
        let mut sent = Vec::with_capacity(jobs.len());
        for job in jobs {
            let Job {
                mut record,
                reply,
                background,
                enqueued,
                ..
            } = job;
            let kept = background.then(|| record.clone());
            let tenant = record.entry.tenant.clone();
            let before = heads.get(&tenant).map_or(0, |h| h.0);
            let (seq, hash) = next_heads
                .get(&tenant)
                .or_else(|| heads.get(&tenant))
                .cloned()
                .unwrap_or_else(|| (0, GENESIS_HASH.to_string()));
            record.entry.seal(seq, &hash);
            next_heads.insert(tenant, (record.entry.seq, record.entry.hash.clone()));
            batch.entries.push(AppendEntry {
                entry: record.entry,
                ref_seq: record.ref_seq,
                side: record.side,
            });
            batch.charges.append(&mut record.charges);
            batch.calls.append(&mut record.calls);
            sent.push((reply, kept, before, enqueued));
        }
        let started = std::time::Instant::now();
        let entries = batch.entries.len();
        let result = store.commit(batch).await;
        // `audit.insert`: one line per group commit (debug), its size and how long it took.
        tracing::debug!(
            entries,
            commit_ms = started.elapsed().as_secs_f64() * 1000.0,
            ok = result.is_ok(),
            "audit.insert"
        );
        match result {
            Ok(committed) => {
                crate::metrics::audit_inserted(committed.len());
                for e in &committed {
                    heads.insert(e.tenant.clone(), (e.seq, e.hash.clone()));
                }
                for ((reply, _, _, enqueued), e) in sent.into_iter().zip(committed) {
                    crate::metrics::audit_waited(enqueued);
                    let _ = reply.send(Ok(e));
                }
                commits.send_modify(|n| *n = n.wrapping_add(1));
            }
            Err(e) => {
                // Only a failure that may pass is worth retrying: a conflict or corrupt data
                // would fail every later commit the retained entries ride.
                let retry = matches!(e, StoreError::Unavailable(_));
                let held = sent.iter().filter(|(_, k, _, _)| k.is_some()).count();
                tracing::error!(error = %e, entries, retained = if retry { held } else { 0 }, "audit commit failed; refusing the calls it carried");
                stale_heads = true;
                let jobs = sent
                    .into_iter()
                    .map(|(reply, kept, before, enqueued)| Job {
                        background: kept.is_some(),
                        record: kept.unwrap_or_default(),
                        reply,
                        retried_after: Some(before),
                        enqueued,
                    })
                    .collect();
                let err = AuditError::Unavailable(e.to_string());
                fail(jobs, &err, retry, &mut retained, closed);
            }
        }
    }
}
