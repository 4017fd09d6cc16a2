//! The embedded SQLite store: one file (`igd.db`) in the data dir, WAL mode, migrations applied
//! at open. `synchronous=NORMAL` survives a process crash; `FULL` also survives power loss.

use super::*;
use crate::config::AuditSync;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::OptionalExtension as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// WAL bounds. The log is copied back into the database by a checkpoint thread off the commit
/// path. It can only start again from its beginning when a commit begins on a log copied to its
/// end, which under steady load a concurrent checkpoint never quite reaches (the writer appends
/// while it copies): so once the log holds more than [`WAL_CATCH_UP_BYTES`], the write thread
/// finishes the checkpoint itself between two commits (copying only what came since the
/// checkpoint thread's pass) and the next commit restarts the log, in the file it already has.
/// Cutting the file takes the write lock and, on a file system mounted with `discard`, waits for
/// the device, so under load it is left alone: a file past [`WAL_SIZE_LIMIT`]
/// (`journal_size_limit`; only after a restart was held up, by a slow reader say) is cut back to
/// it by the commit that restarts the log, and a file past [`WAL_IDLE_LIMIT`] is cut to nothing
/// by the checkpoint thread once no commit came for a tick (a smaller one stays, and is reused).
pub const WAL_SIZE_LIMIT: u64 = 32 << 20;
/// See [`WAL_SIZE_LIMIT`].
pub const WAL_CATCH_UP_BYTES: u64 = 16 << 20;
/// See [`WAL_SIZE_LIMIT`].
pub const WAL_IDLE_LIMIT: u64 = 4 << 20;
/// How often the checkpoint thread copies the WAL into the database: often, so that each pass
/// is short. A pass competes for the core with the calls; at 2,000 calls/s passes every second
/// raised the p99 from ~3.7 to ~4.5 ms, and passes every 50 ms lowered it to ~3.1–3.3 (against
/// 200 ms), at ~2 % more bytes written per call.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(50);

/// The write thread: it owns the store's one writing connection for the audit chain, so every
/// chain write (the group commits on the hot path, checkpoints, retention cuts) costs one
/// hand-off each way instead of an async round trip per statement, and no two chain writers
/// ever contend for SQLite's write lock.
#[derive(Debug, Clone)]
struct WriteThread {
    tx: std::sync::mpsc::SyncSender<WriteJob>,
}

type WriteJob = Box<dyn FnOnce(&mut rusqlite::Connection) + Send>;

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// Page size of a new database (see [`SqliteStore::open`]).
const PAGE_SIZE: u32 = 1024;

fn connection_pragmas(sync: AuditSync) -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA wal_autocheckpoint = 0; \
         PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};",
        match sync {
            AuditSync::Normal => "NORMAL",
            AuditSync::Full => "FULL",
        }
    )
}

/// Run the calling thread under `SCHED_BATCH` when it runs under the default policy: woken, it
/// waits for the running thread's slice (at most about one scheduler tick on a busy core) instead
/// of preempting it. Woken for each commit, the write thread would otherwise interrupt the
/// runtime worker mid-call (on one core: a context switch there and back, and a commit of the one
/// entry that woke it) where it can finish its turn and hand over more entries at once. The
/// thread keeps its fair share of the CPU. A policy the operator chose (real-time, idle) is left
/// as it is; a refusal (a seccomp filter that returns an error) only costs the gain, but a
/// filter that kills on a denied call kills igd here: the shipped unit allows the call back from
/// `@resources` (a unit or profile copied from before it must do the same).
#[allow(unsafe_code)]
fn yield_to_calls() {
    // SAFETY: pid 0 is the calling thread; sched_getscheduler touches no memory of ours.
    if unsafe { libc::sched_getscheduler(0) } != libc::SCHED_OTHER {
        return;
    }
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid sched_param that outlives the call (the kernel copies it).
    let refused = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) } != 0;
    if refused {
        let error = std::io::Error::last_os_error();
        tracing::info!(%error, thread = ?std::thread::current().name(), "SCHED_BATCH refused: a commit may preempt calls in progress");
    }
}

impl WriteThread {
    fn start(path: &Path, sync: AuditSync, catch_up: Arc<AtomicBool>) -> StoreResult<WriteThread> {
        let conn = rusqlite::Connection::open(path).map_err(sqlite_err)?;
        conn.busy_handler(Some(writer_busy)).map_err(sqlite_err)?;
        conn.execute_batch(&format!(
            // 4 MiB: the writer only appends, so its working set is the right-hand edge of each
            // tree; a larger cache only holds old leaves (16 MiB cost ~20 MiB of RSS).
            "{} PRAGMA cache_size = -4096;",
            connection_pragmas(sync)
        ))
        .map_err(sqlite_err)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<WriteJob>(64);
        std::thread::Builder::new()
            .name("igd-store-writer".into())
            .spawn(move || {
                yield_to_calls();
                let mut conn = conn;
                while let Ok(job) = rx.recv() {
                    job(&mut conn);
                    if catch_up.swap(false, Ordering::AcqRel) {
                        finish_checkpoint(&conn);
                    }
                }
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the write thread: {e}")))?;
        Ok(WriteThread { tx })
    }

    /// Run `f` on the write thread and wait for its result.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let stopped = || StoreError::Unavailable("the store's write thread stopped".into());
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Box::new(move |conn| {
                let _ = reply.send(f(conn));
            }))
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

/// The write thread's wait for a lock another connection holds (an admin write, the idle WAL
/// cut): waits of 50, 100, 150 … µs, then 2 ms each, for at most about 5 s. SQLite's own
/// busy timeout sleeps 1, 2, 5, 10… ms, so a lock held for 100 µs cost a commit (and every call
/// in it) 8 ms or more.
fn writer_busy(attempt: i32) -> bool {
    const MAX_SLEEP_US: u64 = 2_000;
    let attempt = u64::try_from(attempt).unwrap_or(0);
    // 40 ramping waits (~41 ms), then 2 ms each: ~5 s in all.
    if attempt >= 2_520 {
        return false;
    }
    std::thread::sleep(Duration::from_micros(
        (50 * (attempt + 1)).min(MAX_SLEEP_US),
    ));
    true
}

/// `PRAGMA wal_checkpoint(mode)`: (busy, frames in the log, frames copied).
fn wal_checkpoint(conn: &rusqlite::Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

/// On the write thread, between two commits: no frame can be appended meanwhile, so a passive
/// checkpoint copies the whole log (the checkpoint thread has copied most of it already) unless
/// a reader still needs an old frame; the next commit then restarts the log.
fn finish_checkpoint(conn: &rusqlite::Connection) {
    let started = std::time::Instant::now();
    match wal_checkpoint(conn, "PASSIVE") {
        Ok((_, log, done)) => tracing::debug!(
            log,
            done,
            micros = started.elapsed().as_micros() as u64,
            "WAL checkpoint finished by the writer"
        ),
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint on the write thread failed"),
    }
}

/// The checkpoint thread: copies the WAL into the database every [`CHECKPOINT_INTERVAL`]
/// (PASSIVE: never waits for, nor blocks, the writer or readers), asks the writer to finish a
/// log that grew past [`WAL_CATCH_UP_BYTES`] (so that the log restarts), and truncates a file
/// larger than [`WAL_IDLE_LIMIT`] once everything is copied and no commit came since the
/// previous tick (truncating takes the write lock). Ends when the store is dropped.
fn start_checkpointer(
    path: &Path,
    sync: AuditSync,
    catch_up: Arc<AtomicBool>,
) -> StoreResult<std::sync::mpsc::Sender<()>> {
    let conn = rusqlite::Connection::open(path).map_err(sqlite_err)?;
    conn.execute_batch(&connection_pragmas(sync))
        .map_err(sqlite_err)?;
    // Never wait for a lock here: a busy checkpoint is simply retried at the next tick.
    conn.busy_timeout(Duration::ZERO).map_err(sqlite_err)?;
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .map_err(sqlite_err)?;
    let wal_path = wal_path(path);
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("igd-store-checkpoint".into())
        .spawn(move || {
            yield_to_calls();
            // Frames in the log at the previous tick: the same count again means no commit came
            // in between (a restarted log that happens to match only cuts the file early).
            let mut last_log = -1;
            loop {
                match stopped.recv_timeout(CHECKPOINT_INTERVAL) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                let (log, done) = match wal_checkpoint(&conn, "PASSIVE") {
                    Ok((_, log, done)) => (log, done),
                    Err(e) => {
                        tracing::debug!(error = %e, "WAL checkpoint skipped");
                        continue;
                    }
                };
                let idle = log == last_log;
                last_log = log;
                if log > 0 && done >= log && idle {
                    if std::fs::metadata(&wal_path).map_or(0, |m| m.len()) > WAL_IDLE_LIMIT {
                        if let Err(e) = wal_checkpoint(&conn, "TRUNCATE") {
                            tracing::debug!(error = %e, "WAL truncation skipped");
                        }
                    }
                } else if u64::try_from(log.saturating_mul(page_size + 24)).unwrap_or(0)
                    > WAL_CATCH_UP_BYTES
                {
                    catch_up.store(true, Ordering::Release);
                }
            }
        })
        .map_err(|e| StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(stop)
}

fn wal_path(db: &Path) -> std::path::PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-wal");
    p.into()
}

/// A hex-valued field: stored as bytes when it is lowercase hex (igd only writes that form),
/// else as the text itself, so every value reads back exactly.
struct Hex<'a>(&'a str);

fn lower_hex_bytes(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2)
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    hex::decode(s).ok()
}

impl rusqlite::ToSql for Hex<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match lower_hex_bytes(self.0) {
            Some(b) => ToSqlOutput::Owned(SqlValue::Blob(b)),
            None => ToSqlOutput::Borrowed(ValueRef::Text(self.0.as_bytes())),
        })
    }
}

/// `policy_revision`: the 32 digest bytes of `sha256:<64 hex>`, else the text.
struct Revision<'a>(&'a str);

impl rusqlite::ToSql for Revision<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let digest = self
            .0
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64)
            .and_then(lower_hex_bytes);
        Ok(match digest {
            Some(b) => ToSqlOutput::Owned(SqlValue::Blob(b)),
            None => ToSqlOutput::Borrowed(ValueRef::Text(self.0.as_bytes())),
        })
    }
}

/// `jti_chain`: the concatenated 16-byte jtis when every one is a 32-hex id, else JSON text.
struct JtiChain<'a>(&'a [String]);

impl rusqlite::ToSql for JtiChain<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        if self.0.iter().all(|j| intentgate_proto::ids::is_hex_id(j)) {
            let mut bytes = Vec::with_capacity(16 * self.0.len());
            for j in self.0 {
                bytes.extend(lower_hex_bytes(j).unwrap_or_default());
            }
            return Ok(ToSqlOutput::Owned(SqlValue::Blob(bytes)));
        }
        let text = serde_json::to_string(self.0)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(ToSqlOutput::Owned(SqlValue::Text(text)))
    }
}

const INSERT_ENTRY: &str = "INSERT INTO audit_log (tenant, seq, v, kind, event_id, ref_event_id, \
    ts, instance, subject, delegated_subject, jti, root_jti, jti_chain, method, tool, decision, \
    check_name, reason, policy_revision, requires_step_up, approval_id, decided_by, elevation_id, \
    actor, action, target, upstream_status, upstream_latency_ms, args_commitment, cut_seq, \
    cut_hash, prev_hash, hash, ref_seq, salt, args, policy_context) VALUES (?, ?, ?, ?, ?, ?, ?, \
    ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// One group commit in one transaction, with cached prepared statements.
fn write_batch(conn: &mut rusqlite::Connection, mut batch: CommitBatch) -> StoreResult<Vec<Entry>> {
    use rusqlite::params;
    // IMMEDIATE: the write lock from the start (waiting in `writer_busy`), so the heads read
    // below are still the heads when the entries go in. A deferred transaction that reads
    // first fails at once (SQLITE_BUSY) if another connection wrote since its read began.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sqlite_err)?;
    {
        // The stored heads of the batch's tenants, read inside the write transaction.
        let mut heads = HashMap::new();
        let mut head = tx
            .prepare_cached(&format!(
                "SELECT seq, {} FROM audit_log WHERE tenant = ? ORDER BY seq DESC LIMIT 1",
                hex_col("hash")
            ))
            .map_err(sqlite_err)?;
        for a in &batch.entries {
            if heads.contains_key(&a.entry.tenant) {
                continue;
            }
            let stored: Option<(i64, String)> = head
                .query_row(params![a.entry.tenant], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(sqlite_err)?;
            if let Some((seq, hash)) = stored {
                heads.insert(a.entry.tenant.clone(), (u64_of(seq), hash));
            }
        }
        // Tenants without a stored chain start from genesis (absent from `heads`).
        link(&mut batch.entries, &mut heads, batch.reseal)?;
        let mut ins = tx.prepare_cached(INSERT_ENTRY).map_err(sqlite_err)?;
        for a in &batch.entries {
            let e = &a.entry;
            let side = a.side.as_ref();
            ins.execute(params![
                e.tenant,
                i64_of(e.seq),
                e.v,
                e.kind,
                Hex(&e.event_id),
                e.ref_event_id.as_deref().map(Hex),
                e.ts,
                Hex(&e.instance),
                e.subject,
                e.delegated_subject,
                e.jti.as_deref().map(Hex),
                e.root_jti.as_deref().map(Hex),
                e.jti_chain.as_deref().map(JtiChain),
                e.method,
                e.tool,
                e.decision,
                e.check,
                e.reason,
                e.policy_revision.as_deref().map(Revision),
                e.requires_step_up,
                e.approval_id.as_deref().map(Hex),
                e.decided_by,
                e.elevation_id.as_deref().map(Hex),
                e.actor,
                e.action,
                e.target,
                e.upstream_status,
                e.upstream_latency_ms,
                e.args_commitment.as_deref().map(Hex),
                e.cut_seq.map(i64_of),
                e.cut_hash.as_deref().map(Hex),
                Hex(&e.prev_hash),
                Hex(&e.hash),
                a.ref_seq.map(i64_of),
                side.and_then(|s| s.salt.as_deref()).map(Hex),
                side.and_then(|s| s.args.as_deref()),
                side.and_then(|s| s.policy_context.as_deref()),
            ])
            .map_err(sqlite_err)?;
        }
        // One statement per key with the batch's count (a busy batch is mostly one token's
        // calls): the same totals as one upsert per call, for a fraction of the B-tree work.
        let mut charged: HashMap<&BudgetCharge, i64> = HashMap::new();
        for c in &batch.charges {
            *charged.entry(c).or_default() += 1;
        }
        let mut charge = tx
            .prepare_cached("INSERT INTO budget_usage (tenant, root_jti, jti, used) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, root_jti, jti) DO UPDATE SET used = used + excluded.used")
            .map_err(sqlite_err)?;
        for (c, n) in charged {
            charge
                .execute(params![c.tenant, c.root_jti, c.jti, n])
                .map_err(sqlite_err)?;
        }
        let mut counted: HashMap<&CallCount, i64> = HashMap::new();
        for c in &batch.calls {
            *counted.entry(c).or_default() += 1;
        }
        let mut count = tx
            .prepare_cached("INSERT INTO call_counts (tenant, subject, tool, hour, calls) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, subject, tool, hour) DO UPDATE SET calls = calls + excluded.calls")
            .map_err(sqlite_err)?;
        for (c, n) in counted {
            count
                .execute(params![c.tenant, c.subject, c.tool, c.hour, n])
                .map_err(sqlite_err)?;
        }
    }
    tx.commit().map_err(sqlite_err)?;
    Ok(batch.entries.into_iter().map(|a| a.entry).collect())
}

/// SQL reading a hex-valued column back to its text form.
fn hex_col(c: &str) -> String {
    format!("CASE typeof({c}) WHEN 'blob' THEN lower(hex({c})) ELSE {c} END")
}

/// The select list [`entry_of`] decodes, in its order.
static ENTRY_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    [
        "tenant".to_string(),
        "seq".into(),
        "v".into(),
        "kind".into(),
        hex_col("event_id"),
        hex_col("ref_event_id"),
        "ts".into(),
        hex_col("instance"),
        "subject".into(),
        "delegated_subject".into(),
        hex_col("jti"),
        hex_col("root_jti"),
        "typeof(jti_chain)".into(),
        hex_col("jti_chain"),
        "method".into(),
        "tool".into(),
        "decision".into(),
        "check_name".into(),
        "reason".into(),
        "CASE typeof(policy_revision) WHEN 'blob' THEN 'sha256:' || lower(hex(policy_revision)) ELSE policy_revision END".into(),
        "requires_step_up".into(),
        hex_col("approval_id"),
        "decided_by".into(),
        hex_col("elevation_id"),
        "actor".into(),
        "action".into(),
        "target".into(),
        "upstream_status".into(),
        "upstream_latency_ms".into(),
        hex_col("args_commitment"),
        "cut_seq".into(),
        hex_col("cut_hash"),
        hex_col("prev_hash"),
        hex_col("hash"),
    ]
    .join(", ")
});

fn entry_of(r: &sqlx::sqlite::SqliteRow) -> StoreResult<Entry> {
    let chain_type: Option<String> = r.try_get(12).map_err(db_err)?;
    let chain: Option<String> = r.try_get(13).map_err(db_err)?;
    let jti_chain = match (chain_type.as_deref(), chain) {
        (_, None) => None,
        (Some("blob"), Some(h)) => {
            if h.len() % 32 != 0 {
                return Err(StoreError::Corrupt("audit_log.jti_chain length".into()));
            }
            Some(
                h.as_bytes()
                    .chunks(32)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect(),
            )
        }
        (_, Some(text)) => Some(
            serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("audit_log.jti_chain: {e}")))?,
        ),
    };
    let u64_col = |i: usize| -> StoreResult<Option<u64>> {
        let v: Option<i64> = r.try_get(i).map_err(db_err)?;
        v.map(|v| u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {i} < 0"))))
            .transpose()
    };
    let seq = u64_col(1)?.unwrap_or(0);
    let v: i64 = r.try_get(2).map_err(db_err)?;
    Ok(Entry {
        v: u32::try_from(v).map_err(|_| StoreError::Corrupt("audit_log.v".into()))?,
        tenant: r.try_get(0).map_err(db_err)?,
        seq,
        kind: r.try_get(3).map_err(db_err)?,
        event_id: r.try_get(4).map_err(db_err)?,
        ref_event_id: r.try_get(5).map_err(db_err)?,
        ts: r.try_get(6).map_err(db_err)?,
        instance: r.try_get(7).map_err(db_err)?,
        subject: r.try_get(8).map_err(db_err)?,
        delegated_subject: r.try_get(9).map_err(db_err)?,
        jti: r.try_get(10).map_err(db_err)?,
        root_jti: r.try_get(11).map_err(db_err)?,
        jti_chain,
        method: r.try_get(14).map_err(db_err)?,
        tool: r.try_get(15).map_err(db_err)?,
        decision: r.try_get(16).map_err(db_err)?,
        check: r.try_get(17).map_err(db_err)?,
        reason: r.try_get(18).map_err(db_err)?,
        policy_revision: r.try_get(19).map_err(db_err)?,
        requires_step_up: r.try_get(20).map_err(db_err)?,
        approval_id: r.try_get(21).map_err(db_err)?,
        decided_by: r.try_get(22).map_err(db_err)?,
        elevation_id: r.try_get(23).map_err(db_err)?,
        actor: r.try_get(24).map_err(db_err)?,
        action: r.try_get(25).map_err(db_err)?,
        target: r.try_get(26).map_err(db_err)?,
        upstream_status: r.try_get(27).map_err(db_err)?,
        upstream_latency_ms: r.try_get(28).map_err(db_err)?,
        args_commitment: r.try_get(29).map_err(db_err)?,
        cut_seq: u64_col(30)?,
        cut_hash: r.try_get(31).map_err(db_err)?,
        prev_hash: r.try_get(32).map_err(db_err)?,
        hash: r.try_get(33).map_err(db_err)?,
    })
}

/// Migrations in order; each runs once, inside a transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../../migrations/sqlite/0002_append_log.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/sqlite/0003_sessions.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/sqlite/0004_budget_grants.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/sqlite/0005_policies.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/sqlite/0006_approvals_operators.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/sqlite/0007_sink_cursors.sql"),
    ),
    (
        8,
        include_str!("../../../migrations/sqlite/0008_notify_channels.sql"),
    ),
];

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Readers and admin-state writes.
    pool: SqlitePool,
    /// Audit-chain writes: group commits, checkpoints, retention cuts.
    writer: WriteThread,
    /// Dropping the last clone stops the checkpoint thread.
    _checkpointer: Arc<std::sync::mpsc::Sender<()>>,
}

fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(d.to_string()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Open (creating if needed) `path` and apply pending migrations.
    pub async fn open(path: &Path, sync: AuditSync) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // A new database only (an existing one keeps its page size): every page a commit
            // dirties is one WAL frame, so smaller pages mean fewer bytes written per commit.
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match sync {
                AuditSync::Normal => SqliteSynchronous::Normal,
                AuditSync::Full => SqliteSynchronous::Full,
            })
            .busy_timeout(Duration::from_secs(5))
            // Checkpoints run on the checkpoint thread, never inside a commit.
            .pragma("wal_autocheckpoint", "0")
            .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let catch_up = Arc::new(AtomicBool::new(false));
        let writer = WriteThread::start(path, sync, catch_up.clone())?;
        let checkpointer = start_checkpointer(path, sync, catch_up)?;
        let store = SqliteStore {
            pool,
            writer,
            _checkpointer: Arc::new(checkpointer),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        )
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        for (version, sql) in MIGRATIONS {
            let mut tx = self.pool.begin().await.map_err(db_err)?;
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if done.is_none() {
                sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(db_err)?;
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
                    .bind(version)
                    .bind(crate::clock::now_us())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn init_meta(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        self.meta(key)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("meta {key} vanished")))
    }

    async fn meta_prefixed(&self, prefix: &str) -> StoreResult<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
        )
        .bind(prefix)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn delete_meta(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM meta WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_token(&self, t: &TokenRecord) -> StoreResult<()> {
        let tools = serde_json::to_string(&t.tools).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO tokens (jti, tenant, subject, tools, max_calls, issued_at, expires_at, minted_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&t.jti)
        .bind(&t.tenant)
        .bind(&t.subject)
        .bind(tools)
        .bind(i64_of(t.max_calls))
        .bind(t.issued_at)
        .bind(t.expires_at)
        .bind(&t.minted_by)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn token(&self, jti: &str) -> StoreResult<Option<TokenRecord>> {
        let row = sqlx::query("SELECT jti, tenant, subject, tools, max_calls, issued_at, expires_at, minted_by FROM tokens WHERE jti = ?")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(|r| rows::token_of(&r)).transpose()
    }

    async fn tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        let rows = sqlx::query("SELECT jti, tenant, subject, tools, max_calls, issued_at, expires_at, minted_by FROM tokens ORDER BY issued_at, jti")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::token_of).collect()
    }

    async fn revoke(&self, r: &RevocationRecord) -> StoreResult<RevocationRecord> {
        sqlx::query(
            "INSERT INTO revocations (tenant, jti, reason, revoked_at, revoked_by, prune_after) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, jti) DO NOTHING",
        )
        .bind(&r.tenant)
        .bind(&r.jti)
        .bind(&r.reason)
        .bind(r.revoked_at)
        .bind(&r.revoked_by)
        .bind(r.prune_after)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        let row = sqlx::query("SELECT tenant, jti, reason, revoked_at, revoked_by, prune_after FROM revocations WHERE tenant = ? AND jti = ?")
            .bind(&r.tenant)
            .bind(&r.jti)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        rows::revocation_of(&row)
    }

    async fn revocations(&self) -> StoreResult<Vec<RevocationRecord>> {
        let rows = sqlx::query("SELECT tenant, jti, reason, revoked_at, revoked_by, prune_after FROM revocations ORDER BY revoked_at, tenant, jti")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::revocation_of).collect()
    }

    async fn prune_revocations(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM revocations WHERE prune_after < ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn put_stop(&self, s: &StopRecord) -> StoreResult<StopRecord> {
        sqlx::query("INSERT INTO stops (tenant, subject, reason, created_at, created_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, subject) DO NOTHING")
            .bind(&s.tenant)
            .bind(s.subject.as_deref().unwrap_or(""))
            .bind(&s.reason)
            .bind(s.created_at)
            .bind(&s.created_by)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        let row = sqlx::query("SELECT tenant, subject, reason, created_at, created_by FROM stops WHERE tenant = ? AND subject = ?")
            .bind(&s.tenant)
            .bind(s.subject.as_deref().unwrap_or(""))
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        rows::stop_of(&row)
    }

    async fn delete_stop(&self, tenant: &str, subject: Option<&str>) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM stops WHERE tenant = ? AND subject = ?")
            .bind(tenant)
            .bind(subject.unwrap_or(""))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn stops(&self) -> StoreResult<Vec<StopRecord>> {
        let rows = sqlx::query(
            "SELECT tenant, subject, reason, created_at, created_by FROM stops ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::stop_of).collect()
    }

    async fn chain_heads(&self) -> StoreResult<Vec<ChainHead>> {
        // A skip scan over the (tenant, seq) index: one probe per tenant, not one per entry.
        let rows = sqlx::query(&format!(
            "WITH RECURSIVE t(tenant) AS ( \
                 SELECT (SELECT MIN(tenant) FROM audit_log) \
                 UNION ALL \
                 SELECT (SELECT MIN(tenant) FROM audit_log WHERE tenant > t.tenant) FROM t WHERE t.tenant IS NOT NULL) \
             SELECT a.tenant, a.seq, {} FROM t JOIN audit_log a ON a.tenant = t.tenant \
             AND a.seq = (SELECT MAX(seq) FROM audit_log WHERE tenant = t.tenant)",
            hex_col("a.hash")
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(ChainHead {
                    tenant: r.try_get(0).map_err(db_err)?,
                    seq: u64_of(r.try_get(1).map_err(db_err)?),
                    hash: r.try_get(2).map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn commit(&self, batch: CommitBatch) -> StoreResult<Vec<Entry>> {
        self.writer.run(move |conn| write_batch(conn, batch)).await
    }

    async fn chain_range(
        &self,
        tenant: &str,
        from_seq: u64,
        to_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<Entry>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM audit_log WHERE tenant = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?",
            *ENTRY_SELECT
        ))
        .bind(tenant)
        .bind(i64_of(from_seq))
        .bind(i64_of(to_seq))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(entry_of).collect()
    }

    async fn unusual_entries(
        &self,
        tenant: &str,
        from_seq: u64,
        to_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<u64>> {
        let rows = sqlx::query(
            "SELECT seq FROM audit_log WHERE tenant = ? AND seq >= ? AND seq <= ? \
             AND NOT (typeof(kind) = 'text' AND kind IN ('decision', 'approval', 'outcome', 'admin')) \
             ORDER BY seq LIMIT ?",
        )
        .bind(tenant)
        .bind(i64_of(from_seq))
        .bind(i64_of(to_seq))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>("seq").map(u64_of).map_err(db_err))
            .collect()
    }

    async fn query_entries(&self, q: &AuditQuery) -> StoreResult<Vec<Entry>> {
        let select = format!("SELECT {} FROM audit_log", *ENTRY_SELECT);
        let Some((mut sql, mut binds)) = where_clause(q, &select) else {
            return Ok(Vec::new());
        };
        if let Some((tenant, seq)) = &q.after {
            sql.push_str(" AND (tenant > ? OR (tenant = ? AND seq > ?))");
            binds.push(Bind::Text(tenant.clone()));
            binds.push(Bind::Text(tenant.clone()));
            binds.push(Bind::Int(i64_of(*seq)));
        }
        sql.push_str(" ORDER BY tenant, seq LIMIT ?");
        binds.push(Bind::Int(i64::from(q.limit)));
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(entry_of).collect()
    }

    async fn count_entries(&self, q: &AuditQuery) -> StoreResult<u64> {
        let Some((sql, binds)) = where_clause(q, "SELECT COUNT(*) FROM audit_log") else {
            return Ok(0);
        };
        let row = bind_all(sqlx::query(&sql), binds)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(u64_of(row.try_get::<i64, _>(0).map_err(db_err)?))
    }

    async fn entries_referring(&self, keys: &[(String, u64)]) -> StoreResult<Vec<Entry>> {
        let mut out = Vec::new();
        // Bounded statements (SQLite caps bound parameters).
        for chunk in keys.chunks(400) {
            let sql = format!(
                "SELECT {} FROM audit_log WHERE ref_seq IS NOT NULL AND ({}) ORDER BY tenant, seq",
                *ENTRY_SELECT,
                vec!["(tenant = ? AND ref_seq = ?)"; chunk.len()].join(" OR ")
            );
            let mut query = sqlx::query(&sql);
            for (tenant, seq) in chunk {
                query = query.bind(tenant).bind(i64_of(*seq));
            }
            let rows = query.fetch_all(&self.pool).await.map_err(db_err)?;
            for r in &rows {
                out.push(entry_of(r)?);
            }
        }
        out.sort_by(|a, b| (&a.tenant, a.seq).cmp(&(&b.tenant, b.seq)));
        Ok(out)
    }

    async fn insert_checkpoint(&self, cp: &CheckpointRecord) -> StoreResult<()> {
        let cp = cp.clone();
        self.writer
            .run(move |conn| {
                // A row already at this size with another hash (planted, or a lost timeline's
                // after a rebaseline) never stands in for the checkpoint just signed.
                let existing: Option<(String, String)> = conn
                    .query_row(
                        "SELECT hash, note FROM checkpoints WHERE tenant = ? AND size = ?",
                        rusqlite::params![cp.tenant, i64_of(cp.size)],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(sqlite_err)?;
                match existing {
                    Some((h, note)) if h == cp.hash && note == cp.note => {}
                    Some(_) => {
                        tracing::warn!(tenant = %cp.tenant, size = cp.size, "a stored checkpoint at this size differed from the one just signed; replaced");
                        conn.execute(
                            "UPDATE checkpoints SET hash = ?, note = ?, created_at = ? WHERE tenant = ? AND size = ?",
                            rusqlite::params![cp.hash, cp.note, cp.created_at, cp.tenant, i64_of(cp.size)],
                        )
                        .map_err(sqlite_err)?;
                    }
                    None => {
                        conn.execute(
                            "INSERT INTO checkpoints (tenant, size, hash, note, created_at) VALUES (?, ?, ?, ?, ?)",
                            rusqlite::params![cp.tenant, i64_of(cp.size), cp.hash, cp.note, cp.created_at],
                        )
                        .map_err(sqlite_err)?;
                    }
                }
                Ok(())
            })
            .await
    }

    async fn checkpoints(
        &self,
        tenant: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CheckpointRecord>> {
        let rows = match tenant {
            Some(t) => sqlx::query("SELECT tenant, size, hash, note, created_at FROM checkpoints WHERE tenant = ? ORDER BY size DESC LIMIT ?")
                .bind(t)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await,
            None => sqlx::query("SELECT tenant, size, hash, note, created_at FROM checkpoints ORDER BY created_at DESC LIMIT ?")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await,
        }
        .map_err(db_err)?;
        rows.iter().map(rows::checkpoint_of).collect()
    }

    async fn agents(&self) -> StoreResult<Vec<AgentActivity>> {
        let rows = sqlx::query(
            "SELECT tenant, subject, MIN(ts) AS first_seen, MAX(ts) AS last_seen, COUNT(*) AS decisions, \
             SUM(decision = 'allow') AS allowed, SUM(decision <> 'allow') AS refused \
             FROM audit_log WHERE kind = 'decision' AND subject IS NOT NULL GROUP BY tenant, subject ORDER BY tenant, subject",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::agent_of).collect()
    }

    async fn last_entry_before(&self, tenant: &str, ts: i64) -> StoreResult<Option<Entry>> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM audit_log WHERE tenant = ? AND ts < ? ORDER BY seq DESC LIMIT 1",
            *ENTRY_SELECT
        ))
        .bind(tenant)
        .bind(ts)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(entry_of).transpose()
    }

    async fn delete_through(&self, tenant: &str, cut_seq: u64) -> StoreResult<u64> {
        let tenant = tenant.to_string();
        self.writer
            .run(move |conn| {
                // What is kept beside an entry lives in its row and goes with it.
                let deleted = conn
                    .execute(
                        "DELETE FROM audit_log WHERE tenant = ? AND seq <= ?",
                        rusqlite::params![tenant, i64_of(cut_seq)],
                    )
                    .map_err(sqlite_err)?;
                Ok(deleted as u64)
            })
            .await
    }

    async fn erase_side(&self, tenant: &str, subject: &str, before: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE audit_log SET args = NULL, salt = NULL, policy_context = NULL WHERE tenant = ? AND subject = ? AND ts < ? AND (args IS NOT NULL OR salt IS NOT NULL OR policy_context IS NOT NULL)",
        )
        .bind(tenant)
        .bind(subject)
        .bind(before)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn side_records(
        &self,
        keys: &[(String, u64)],
    ) -> StoreResult<Vec<((String, u64), SideRecord)>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(400) {
            let sql = format!(
                "SELECT tenant, seq, {}, args, policy_context FROM audit_log \
                 WHERE (salt IS NOT NULL OR args IS NOT NULL OR policy_context IS NOT NULL) AND ({})",
                hex_col("salt"),
                vec!["(tenant = ? AND seq = ?)"; chunk.len()].join(" OR ")
            );
            let mut query = sqlx::query(&sql);
            for (tenant, seq) in chunk {
                query = query.bind(tenant).bind(i64_of(*seq));
            }
            for r in query.fetch_all(&self.pool).await.map_err(db_err)? {
                out.push((
                    (
                        r.try_get(0).map_err(db_err)?,
                        u64_of(r.try_get(1).map_err(db_err)?),
                    ),
                    SideRecord {
                        salt: r.try_get(2).map_err(db_err)?,
                        args: r.try_get(3).map_err(db_err)?,
                        policy_context: r.try_get(4).map_err(db_err)?,
                    },
                ));
            }
        }
        Ok(out)
    }

    /// Nothing to do: the checkpoint thread keeps the WAL bounded.
    async fn maintain(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn probe_write(&self) -> StoreResult<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ('health_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(crate::clock::now_us().to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_policy_draft(&self, d: &PolicyDraftRecord) -> StoreResult<()> {
        let tests = serde_json::to_string(&d.tests)
            .map_err(|e| StoreError::Corrupt(format!("policy draft tests: {e}")))?;
        sqlx::query("INSERT INTO policy_drafts (id, name, source, tests, revision, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(&d.id)
            .bind(&d.name)
            .bind(&d.source)
            .bind(tests)
            .bind(&d.revision)
            .bind(&d.author)
            .bind(d.created_at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn policy_drafts(&self) -> StoreResult<Vec<PolicyDraftRecord>> {
        // Without the sources: a list is names and revisions, and drafts can be large.
        let rows = sqlx::query("SELECT id, name, '' AS source, '[]' AS tests, revision, author, created_at FROM policy_drafts ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::policy_draft_of).collect()
    }

    async fn policy_draft(&self, id: &str) -> StoreResult<Option<PolicyDraftRecord>> {
        let row = sqlx::query("SELECT * FROM policy_drafts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::policy_draft_of).transpose()
    }

    async fn delete_policy_draft(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM policy_drafts WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn policy_history(&self, limit: u32) -> StoreResult<Vec<PolicyHistoryRecord>> {
        let rows = sqlx::query("SELECT seq, action, draft_id, name, revision, NULL AS source, prev_seq, actor, at FROM policy_history ORDER BY seq DESC LIMIT ?")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::policy_history_of).collect()
    }

    async fn policy_history_row(&self, seq: i64) -> StoreResult<Option<PolicyHistoryRecord>> {
        let row = sqlx::query("SELECT * FROM policy_history WHERE seq = ?")
            .bind(seq)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::policy_history_of).transpose()
    }

    async fn policy_head_seq(&self) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT MAX(seq) FROM policy_history")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn append_policy_history(&self, h: &PolicyHistoryRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO policy_history (seq, action, draft_id, name, revision, source, prev_seq, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(h.seq)
            .bind(&h.action)
            .bind(&h.draft_id)
            .bind(&h.name)
            .bind(&h.revision)
            .bind(&h.source)
            .bind(h.prev_seq)
            .bind(&h.actor)
            .bind(h.at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_approval(
        &self,
        row: &ApprovalRecord,
        now: i64,
    ) -> StoreResult<(ApprovalRecord, bool)> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // A write first: the transaction takes the write lock here (waiting on busy_timeout),
        // so nothing changes under the reads below until it ends. A live row of the binding
        // that expired no longer blocks a new one: it moves on as `expire_approvals` would.
        sqlx::query(
            "UPDATE approvals SET \
                 status = CASE status WHEN 'pending' THEN 'timeout' ELSE 'lapsed' END, \
                 decided_at = CASE status WHEN 'pending' THEN ?1 ELSE decided_at END \
             WHERE tenant = ?2 AND root_jti = ?3 AND leaf_jti = ?4 AND tool = ?5 AND args_hash = ?6 \
             AND status IN ('pending', 'approved') AND expires_at <= ?1",
        )
        .bind(now)
        .bind(&row.tenant)
        .bind(&row.root_jti)
        .bind(&row.leaf_jti)
        .bind(&row.tool)
        .bind(&row.args_hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let inserted = sqlx::query(
            "INSERT INTO approvals (id, tenant, subject, delegated_subject, root_jti, leaf_jti, tool, \
             args_hash, args, intent, reason, requires_step_up, decision_event, decision_seq, created_at, \
             expires_at, status, decided_by, decided_at, note) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant, root_jti, leaf_jti, tool, args_hash) \
             WHERE status IN ('pending', 'approved') DO NOTHING RETURNING *",
        )
        .bind(&row.id)
        .bind(&row.tenant)
        .bind(&row.subject)
        .bind(&row.delegated_subject)
        .bind(&row.root_jti)
        .bind(&row.leaf_jti)
        .bind(&row.tool)
        .bind(&row.args_hash)
        .bind(&row.args)
        .bind(&row.intent)
        .bind(&row.reason)
        .bind(row.requires_step_up)
        .bind(&row.decision_event)
        .bind(row.decision_seq)
        .bind(row.created_at)
        .bind(row.expires_at)
        .bind(&row.status)
        .bind(&row.decided_by)
        .bind(row.decided_at)
        .bind(&row.note)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let out = match inserted {
            Some(r) => (rows::approval_of(&r)?, true),
            None => {
                let live = sqlx::query(
                    "SELECT * FROM approvals WHERE tenant = ? AND root_jti = ? AND leaf_jti = ? \
                     AND tool = ? AND args_hash = ? AND status IN ('pending', 'approved')",
                )
                .bind(&row.tenant)
                .bind(&row.root_jti)
                .bind(&row.leaf_jti)
                .bind(&row.tool)
                .bind(&row.args_hash)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "approval {}: a live row of its binding refused it, then vanished",
                        row.id
                    ))
                })?;
                (rows::approval_of(&live)?, false)
            }
        };
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn approval(&self, id: &str) -> StoreResult<Option<ApprovalRecord>> {
        let row = sqlx::query("SELECT * FROM approvals WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::approval_of).transpose()
    }

    async fn approvals(&self, q: &ApprovalQuery) -> StoreResult<Vec<ApprovalRecord>> {
        let mut sql = String::from("SELECT * FROM approvals WHERE 1=1");
        let mut binds = Vec::new();
        if let Some(status) = &q.status {
            sql.push_str(" AND status = ?");
            binds.push(Bind::Text(status.clone()));
        }
        if let Some(tenants) = &q.tenants {
            if tenants.is_empty() {
                return Ok(Vec::new());
            }
            sql.push_str(" AND tenant IN (");
            sql.push_str(&vec!["?"; tenants.len()].join(","));
            sql.push(')');
            binds.extend(tenants.iter().cloned().map(Bind::Text));
        }
        if let Some(since) = q.changed_since {
            sql.push_str(" AND (created_at >= ? OR decided_at >= ?)");
            binds.push(Bind::Int(since));
            binds.push(Bind::Int(since));
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
        binds.push(Bind::Int(rows::approval_limit(q.limit)));
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::approval_of).collect()
    }

    async fn transition_approval(
        &self,
        id: &str,
        from: &str,
        to: &str,
        decided_by: Option<&str>,
        decided_at: Option<i64>,
        note: Option<&str>,
        args: Option<&str>,
    ) -> StoreResult<Option<ApprovalRecord>> {
        let row = sqlx::query(
            "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, note = ?, args = ? \
             WHERE id = ? AND status = ? RETURNING *",
        )
        .bind(to)
        .bind(decided_by)
        .bind(decided_at)
        .bind(note)
        .bind(args)
        .bind(id)
        .bind(from)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::approval_of).transpose()
    }

    async fn expire_approvals(&self, now: i64) -> StoreResult<Vec<ApprovalRecord>> {
        let rows = sqlx::query(
            "UPDATE approvals SET \
                 status = CASE status WHEN 'pending' THEN 'timeout' ELSE 'lapsed' END, \
                 decided_at = CASE status WHEN 'pending' THEN ?1 ELSE decided_at END \
             WHERE status IN ('pending', 'approved') AND expires_at <= ?1 RETURNING *",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = rows
            .iter()
            .map(rows::approval_of)
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by(|a, b| (a.expires_at, &a.id).cmp(&(b.expires_at, &b.id)));
        Ok(out)
    }

    async fn insert_operator(&self, op: &OperatorRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO operators (name, role, tenant, uid, cert_subject, token_hash, created_at, created_by) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&op.name)
        .bind(&op.role)
        .bind(&op.tenant)
        .bind(op.uid.map(i64::from))
        .bind(&op.cert_subject)
        .bind(&op.token_hash)
        .bind(op.created_at)
        .bind(&op.created_by)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn operators(&self) -> StoreResult<Vec<OperatorRecord>> {
        let rows = sqlx::query("SELECT * FROM operators ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::operator_of).collect()
    }

    async fn delete_operator(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM operators WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_totp(&self, rec: &TotpRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO totp (identity, secret_sealed, confirmed, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (identity) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
             confirmed = excluded.confirmed, created_at = excluded.created_at",
        )
        .bind(&rec.identity)
        .bind(&rec.secret_sealed)
        .bind(rec.confirmed)
        .bind(rec.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        for table in ["totp_used_steps", "totp_failures", "totp_recovery"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE identity = ?"))
                .bind(&rec.identity)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for hash in &rec.recovery_hashes {
            sqlx::query(
                "INSERT INTO totp_recovery (identity, hash) VALUES (?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(&rec.identity)
            .bind(hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn totp(&self, identity: &str) -> StoreResult<Option<TotpRecord>> {
        // One read transaction: the enrollment and its codes as of one moment.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let Some(row) = sqlx::query("SELECT * FROM totp WHERE identity = ?")
            .bind(identity)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let hashes: Vec<String> =
            sqlx::query_scalar("SELECT hash FROM totp_recovery WHERE identity = ? ORDER BY hash")
                .bind(identity)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        rows::totp_of(&row, hashes).map(Some)
    }

    async fn confirm_totp(&self, identity: &str, recovery_hashes: &[String]) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done =
            sqlx::query("UPDATE totp SET confirmed = 1 WHERE identity = ? AND confirmed = 0")
                .bind(identity)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM totp_recovery WHERE identity = ?")
            .bind(identity)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for hash in recovery_hashes {
            sqlx::query(
                "INSERT INTO totp_recovery (identity, hash) VALUES (?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(identity)
            .bind(hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn delete_totp(&self, identity: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query("DELETE FROM totp WHERE identity = ?")
            .bind(identity)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for table in ["totp_used_steps", "totp_failures", "totp_recovery"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE identity = ?"))
                .bind(identity)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn use_totp_step(&self, identity: &str, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO totp_used_steps (identity, step) VALUES (?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(identity)
        .bind(step)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        let first = done.rows_affected() == 1;
        if first {
            // Steps that old can never be accepted again: forget them (a primary-key range).
            sqlx::query("DELETE FROM totp_used_steps WHERE identity = ? AND step < ?")
                .bind(identity)
                .bind(step.saturating_sub(rows::TOTP_STEPS_KEPT))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        }
        Ok(first)
    }

    async fn use_recovery_code(&self, identity: &str, hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM totp_recovery WHERE identity = ? AND hash = ?")
            .bind(identity)
            .bind(hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_totp_failure(&self, identity: &str, at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO totp_failures (identity, at) VALUES (?, ?)")
            .bind(identity)
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM totp_failures WHERE identity = ? AND at < ?")
            .bind(identity)
            .bind(at.saturating_sub(rows::TOTP_FAILURES_KEPT_US))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn totp_failures(&self, identity: &str, since: i64) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT at FROM totp_failures WHERE identity = ? AND at >= ? ORDER BY at",
        )
        .bind(identity)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn insert_elevation(&self, e: &ElevationRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO elevations (id, identity, reason, duration_secs, requested_at, status, \
             approved_by, approved_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&e.id)
        .bind(&e.identity)
        .bind(&e.reason)
        .bind(e.duration_secs)
        .bind(e.requested_at)
        .bind(&e.status)
        .bind(&e.approved_by)
        .bind(e.approved_at)
        .bind(e.expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn elevations(&self) -> StoreResult<Vec<ElevationRecord>> {
        let rows = sqlx::query("SELECT * FROM elevations ORDER BY requested_at DESC, id DESC")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::elevation_of).collect()
    }

    async fn approve_elevation(
        &self,
        id: &str,
        approved_by: &str,
        approved_at: i64,
        expires_at: i64,
    ) -> StoreResult<Option<ElevationRecord>> {
        let row = sqlx::query(
            "UPDATE elevations SET status = 'active', approved_by = ?, approved_at = ?, expires_at = ? \
             WHERE id = ? AND status = 'pending' RETURNING *",
        )
        .bind(approved_by)
        .bind(approved_at)
        .bind(expires_at)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::elevation_of).transpose()
    }

    async fn register_sink(
        &self,
        sink: &str,
        heads: &[(String, u64)],
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let added = sqlx::query(
            "INSERT INTO sinks (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(sink)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            == 1;
        if added {
            for (tenant, seq) in heads {
                sqlx::query(
                    "INSERT INTO sink_cursors (sink, tenant, seq, updated_at) VALUES (?, ?, ?, ?)",
                )
                .bind(sink)
                .bind(tenant)
                .bind(i64_of(*seq))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(added)
    }

    async fn sink_cursors(&self, sink: &str) -> StoreResult<Option<Vec<(String, u64)>>> {
        let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM sinks WHERE name = ?")
            .bind(sink)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        if known.is_none() {
            return Ok(None);
        }
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT tenant, seq FROM sink_cursors WHERE sink = ? ORDER BY tenant")
                .bind(sink)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(Some(
            rows.into_iter().map(|(t, s)| (t, u64_of(s))).collect(),
        ))
    }

    async fn sink_lease(
        &self,
        sink: &str,
        holder: &str,
        _now: i64,
        _expires_at: i64,
    ) -> StoreResult<Option<String>> {
        // One process owns the file: the lease is the caller's, and costs no write.
        let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM sinks WHERE name = ?")
            .bind(sink)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(known.map(|_| holder.to_string()))
    }

    async fn advance_sink_cursor(
        &self,
        sink: &str,
        tenant: &str,
        from: u64,
        to: u64,
        _holder: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let done = if from == 0 {
            // A chain without a cursor is at 0: the first advance creates it.
            sqlx::query(
                "INSERT INTO sink_cursors (sink, tenant, seq, updated_at) \
                 SELECT ?1, ?2, ?4, ?5 WHERE EXISTS (SELECT 1 FROM sinks WHERE name = ?1) \
                 ON CONFLICT (sink, tenant) DO UPDATE SET seq = excluded.seq, \
                 updated_at = excluded.updated_at WHERE sink_cursors.seq = ?3",
            )
        } else {
            sqlx::query(
                "UPDATE sink_cursors SET seq = ?4, updated_at = ?5 \
                 WHERE sink = ?1 AND tenant = ?2 AND seq = ?3",
            )
        }
        .bind(sink)
        .bind(tenant)
        .bind(i64_of(from))
        .bind(i64_of(to))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(done == 1)
    }

    async fn delete_sink(&self, sink: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM sink_cursors WHERE sink = ?")
            .bind(sink)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let gone = sqlx::query("DELETE FROM sinks WHERE name = ?")
            .bind(sink)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        tx.commit().await.map_err(db_err)?;
        Ok(gone == 1)
    }

    async fn insert_notify_channel(&self, ch: &NotifyChannelRecord) -> StoreResult<()> {
        let events = serde_json::to_string(&ch.events)
            .map_err(|e| StoreError::Corrupt(format!("notify_channels.events: {e}")))?;
        sqlx::query(
            "INSERT INTO notify_channels (id, tenant, kind, name, events, target_sealed, target_host, created_at, created_by) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&ch.id)
        .bind(&ch.tenant)
        .bind(&ch.kind)
        .bind(&ch.name)
        .bind(events)
        .bind(&ch.target_sealed)
        .bind(&ch.target_host)
        .bind(ch.created_at)
        .bind(&ch.created_by)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn notify_channels(&self) -> StoreResult<Vec<NotifyChannelRecord>> {
        let rows = sqlx::query("SELECT * FROM notify_channels ORDER BY tenant, name")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(notify_channel_of).collect()
    }

    async fn notify_channel(&self, id: &str) -> StoreResult<Option<NotifyChannelRecord>> {
        let row = sqlx::query("SELECT * FROM notify_channels WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(notify_channel_of).transpose()
    }

    async fn delete_notify_channel(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM notify_channels WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_session(&self, id_hash: &str, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO deleted_sessions (id_hash, expires_at) VALUES (?, ?) ON CONFLICT (id_hash) DO NOTHING")
            .bind(id_hash)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn deleted_sessions(&self, after: i64) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as("SELECT id_hash, expires_at FROM deleted_sessions WHERE expires_at > ?")
            .bind(after)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn touch_sessions(&self, activity: &[(String, i64)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for (id_hash, at) in activity {
            sqlx::query(
                "INSERT INTO session_activity (id_hash, last_active) VALUES (?, ?) \
                 ON CONFLICT (id_hash) DO UPDATE SET last_active = MAX(last_active, excluded.last_active)",
            )
            .bind(id_hash)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn session_record(&self, id_hash: &str) -> StoreResult<SessionRecord> {
        let last_active =
            sqlx::query_scalar("SELECT last_active FROM session_activity WHERE id_hash = ?")
                .bind(id_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        let deleted_until =
            sqlx::query_scalar("SELECT expires_at FROM deleted_sessions WHERE id_hash = ?")
                .bind(id_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(SessionRecord {
            last_active,
            deleted_until,
        })
    }

    async fn prune_sessions(&self, now: i64, active_before: i64) -> StoreResult<u64> {
        let deleted = sqlx::query("DELETE FROM deleted_sessions WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        let idle = sqlx::query("DELETE FROM session_activity WHERE last_active < ?")
            .bind(active_before)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected() + idle.rows_affected())
    }

    async fn grant(&self, key: &str, win: i64, limit: u64, want: u64) -> StoreResult<u64> {
        let key = key.to_string();
        self.writer
            .run(move |conn| {
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(sqlite_err)?;
                let granted: i64 = tx
                    .query_row(
                        "SELECT granted FROM budget_grants WHERE key = ? AND win = ?",
                        rusqlite::params![key, win],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sqlite_err)?
                    .unwrap_or(0);
                let n = grant_size(u64_of(granted), limit, want);
                if n > 0 {
                    tx.execute(
                        "INSERT INTO budget_grants (key, win, granted) VALUES (?, ?, ?) \
                         ON CONFLICT (key, win) DO UPDATE SET granted = granted + excluded.granted",
                        rusqlite::params![key, win, i64_of(n)],
                    )
                    .map_err(sqlite_err)?;
                }
                tx.commit().map_err(sqlite_err)?;
                Ok(n)
            })
            .await
    }

    async fn give_back(&self, key: &str, win: i64, units: u64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE budget_grants SET granted = max(granted - ?, 0) WHERE key = ? AND win = ?",
        )
        .bind(i64_of(units))
        .bind(key)
        .bind(win)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn budget_usage(&self) -> StoreResult<Vec<(BudgetCharge, u64)>> {
        let rows = sqlx::query("SELECT tenant, root_jti, jti, used FROM budget_usage")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::usage_of).collect()
    }

    async fn call_counts(&self, since_hour: i64) -> StoreResult<Vec<(CallCount, u64)>> {
        let rows = sqlx::query(
            "SELECT tenant, subject, tool, hour, calls FROM call_counts WHERE hour >= ?",
        )
        .bind(since_hour)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::call_count_of).collect()
    }
}

enum Bind {
    Text(String),
    Int(i64),
    Blob(Vec<u8>),
}

/// `select WHERE …` for a query's filters; `None` when the tenant scope is empty.
fn where_clause(q: &AuditQuery, select: &str) -> Option<(String, Vec<Bind>)> {
    let mut sql = format!("{select} WHERE 1=1");
    let mut binds: Vec<Bind> = Vec::new();
    if let Some(tenants) = &q.tenants {
        if tenants.is_empty() {
            return None;
        }
        sql.push_str(" AND tenant IN (");
        sql.push_str(&vec!["?"; tenants.len()].join(","));
        sql.push(')');
        binds.extend(tenants.iter().cloned().map(Bind::Text));
    }
    for (col, val) in [
        ("tenant", &q.tenant),
        ("subject", &q.subject),
        ("tool", &q.tool),
        ("decision", &q.decision),
        ("kind", &q.kind),
    ] {
        if let Some(v) = val {
            sql.push_str(&format!(" AND {col} = ?"));
            binds.push(Bind::Text(v.clone()));
        }
    }
    // Event ids are random: there is deliberately no index on them (it would cost a random
    // page per entry on the hot path); this filter scans the tenants in scope.
    if let Some(id) = &q.event_id {
        match lower_hex_bytes(id) {
            Some(bytes) => {
                sql.push_str(" AND event_id = ?");
                binds.push(Bind::Blob(bytes));
            }
            None => {
                sql.push_str(" AND event_id = ?");
                binds.push(Bind::Text(id.clone()));
            }
        }
    }
    if let Some(from) = q.from_ts {
        sql.push_str(" AND ts >= ?");
        binds.push(Bind::Int(from));
    }
    if let Some(to) = q.to_ts {
        sql.push_str(" AND ts < ?");
        binds.push(Bind::Int(to));
    }
    if let Some(seq) = q.from_seq {
        sql.push_str(" AND seq >= ?");
        binds.push(Bind::Int(i64_of(seq)));
    }
    Some((sql, binds))
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s),
            Bind::Int(i) => query.bind(i),
            Bind::Blob(b) => query.bind(b),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Session upkeep (sync of deletions, pruning) reads by expiry and activity time: both go
    /// through an index, never a scan of every session ever deleted.
    #[tokio::test]
    async fn session_queries_use_their_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("igd.db"), AuditSync::Normal)
            .await
            .unwrap();
        // A realistic table, with statistics: the planner's choice on an empty one means little.
        let batch: Vec<(String, i64)> = (0..2000).map(|i| (format!("{i:064x}"), i)).collect();
        store.touch_sessions(&batch).await.unwrap();
        for (h, at) in &batch {
            store.delete_session(h, 1_000_000 + at).await.unwrap();
        }
        sqlx::query("ANALYZE").execute(&store.pool).await.unwrap();
        let indexes: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index'")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        assert!(
            indexes.iter().any(|i| i == "deleted_sessions_expires"),
            "{indexes:?}"
        );
        for sql in [
            "DELETE FROM deleted_sessions WHERE expires_at < 1",
            // A bound that selects a few rows: when nearly every row matches, a scan is the
            // planner's right answer (and what it picks with STAT4 statistics).
            "SELECT id_hash, expires_at FROM deleted_sessions WHERE expires_at > 1001990",
            "DELETE FROM session_activity WHERE last_active < 1",
        ] {
            let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(&store.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("detail"))
                .collect();
            assert!(
                plan.iter()
                    .any(|d| d.contains("USING INDEX") || d.contains("USING COVERING INDEX")),
                "{sql}: {plan:?}"
            );
        }
    }
}
