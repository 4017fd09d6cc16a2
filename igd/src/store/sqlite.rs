//! The embedded SQLite store: one file (`igd.db`) in the data dir, WAL mode, migrations applied
//! at open. `synchronous=NORMAL` survives a process crash; `FULL` also survives power loss.

use super::*;
use crate::config::AuditSync;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// The write thread: it owns the store's one writing connection, so every write (the audit
/// group commits on the hot path, checkpoints, retention cuts) costs one hand-off each way
/// instead of an async round trip per statement, and no two writers ever contend for SQLite's
/// write lock.
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

impl WriteThread {
    fn start(path: &Path, sync: AuditSync) -> StoreResult<WriteThread> {
        let conn = rusqlite::Connection::open(path).map_err(sqlite_err)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(sqlite_err)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -16384;",
            match sync {
                AuditSync::Normal => "NORMAL",
                AuditSync::Full => "FULL",
            }
        ))
        .map_err(sqlite_err)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<WriteJob>(64);
        std::thread::Builder::new()
            .name("igd-store-writer".into())
            .spawn(move || {
                let mut conn = conn;
                while let Ok(job) = rx.recv() {
                    job(&mut conn);
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

/// One group commit in one transaction, with cached prepared statements.
fn write_batch(conn: &mut rusqlite::Connection, batch: &CommitBatch) -> StoreResult<()> {
    use rusqlite::params;
    let tx = conn.transaction().map_err(sqlite_err)?;
    {
        let mut ins = tx
            .prepare_cached("INSERT INTO audit_entries (tenant, seq, kind, event_id, ts, subject, tool, decision, ref_event_id, prev_hash, hash, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .map_err(sqlite_err)?;
        for e in &batch.entries {
            let body = serde_json::to_string(e)
                .map_err(|err| StoreError::Corrupt(format!("cannot encode entry: {err}")))?;
            ins.execute(params![
                e.tenant,
                i64_of(e.seq),
                e.kind,
                e.event_id,
                e.ts,
                e.subject,
                e.tool,
                e.decision,
                e.ref_event_id,
                e.prev_hash,
                e.hash,
                body
            ])
            .map_err(sqlite_err)?;
        }
        let mut side = tx
            .prepare_cached("INSERT INTO audit_side (event_id, tenant, subject, ts, salt, args, policy_input) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .map_err(sqlite_err)?;
        for s in &batch.side {
            side.execute(params![
                s.event_id,
                s.tenant,
                s.subject,
                s.ts,
                s.salt,
                s.args,
                s.policy_input
            ])
            .map_err(sqlite_err)?;
        }
        let mut charge = tx
            .prepare_cached("INSERT INTO budget_usage (tenant, root_jti, jti, used) VALUES (?, ?, ?, 1) ON CONFLICT (tenant, root_jti, jti) DO UPDATE SET used = used + 1")
            .map_err(sqlite_err)?;
        for c in &batch.charges {
            charge
                .execute(params![c.tenant, c.root_jti, c.jti])
                .map_err(sqlite_err)?;
        }
        let mut count = tx
            .prepare_cached("INSERT INTO call_counts (tenant, subject, tool, hour, calls) VALUES (?, ?, ?, ?, 1) ON CONFLICT (tenant, subject, tool, hour) DO UPDATE SET calls = calls + 1")
            .map_err(sqlite_err)?;
        for c in &batch.calls {
            count
                .execute(params![c.tenant, c.subject, c.tool, c.hour])
                .map_err(sqlite_err)?;
        }
    }
    tx.commit().map_err(sqlite_err)
}

/// Migrations in order; each runs once, inside a transaction.
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../../../migrations/sqlite/0001_init.sql"))];

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Readers and admin-state writes.
    pool: SqlitePool,
    /// Audit-chain writes: group commits, checkpoints, retention cuts.
    writer: WriteThread,
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

fn entry_of(body: &str) -> StoreResult<Entry> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("audit entry body: {e}")))
}

impl SqliteStore {
    /// Open (creating if needed) `path` and apply pending migrations.
    pub async fn open(path: &Path, sync: AuditSync) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match sync {
                AuditSync::Normal => SqliteSynchronous::Normal,
                AuditSync::Full => SqliteSynchronous::Full,
            })
            .busy_timeout(Duration::from_secs(5))
            // Checkpoints run from the maintenance task (PASSIVE), not inside a commit.
            .pragma("wal_autocheckpoint", "0")
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let writer = WriteThread::start(path, sync)?;
        let store = SqliteStore { pool, writer };
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
        row.map(|r| token_of(&r)).transpose()
    }

    async fn tokens(&self) -> StoreResult<Vec<TokenRecord>> {
        let rows = sqlx::query("SELECT jti, tenant, subject, tools, max_calls, issued_at, expires_at, minted_by FROM tokens ORDER BY issued_at, jti")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(token_of).collect()
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
        revocation_of(&row)
    }

    async fn revocations(&self) -> StoreResult<Vec<RevocationRecord>> {
        let rows = sqlx::query("SELECT tenant, jti, reason, revoked_at, revoked_by, prune_after FROM revocations ORDER BY revoked_at, tenant, jti")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(revocation_of).collect()
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
        stop_of(&row)
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
        rows.iter().map(stop_of).collect()
    }

    async fn chain_heads(&self) -> StoreResult<Vec<ChainHead>> {
        let rows = sqlx::query(
            "SELECT a.tenant, a.seq, a.hash FROM audit_entries a JOIN (SELECT tenant, MAX(seq) AS seq FROM audit_entries GROUP BY tenant) m ON a.tenant = m.tenant AND a.seq = m.seq",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(ChainHead {
                    tenant: r.try_get("tenant").map_err(db_err)?,
                    seq: u64_of(r.try_get("seq").map_err(db_err)?),
                    hash: r.try_get("hash").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn commit(&self, batch: CommitBatch) -> StoreResult<()> {
        self.writer.run(move |conn| write_batch(conn, &batch)).await
    }

    async fn chain_range(
        &self,
        tenant: &str,
        from_seq: u64,
        to_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<Entry>> {
        let rows = sqlx::query("SELECT body FROM audit_entries WHERE tenant = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?")
            .bind(tenant)
            .bind(i64_of(from_seq))
            .bind(i64_of(to_seq))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| entry_of(&r.try_get::<String, _>(0).map_err(db_err)?))
            .collect()
    }

    async fn query_entries(&self, q: &AuditQuery) -> StoreResult<Vec<Entry>> {
        let Some((mut sql, mut binds)) = where_clause(q, "SELECT body FROM audit_entries") else {
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
        rows.iter()
            .map(|r| entry_of(&r.try_get::<String, _>(0).map_err(db_err)?))
            .collect()
    }

    async fn count_entries(&self, q: &AuditQuery) -> StoreResult<u64> {
        let Some((sql, binds)) = where_clause(q, "SELECT COUNT(*) FROM audit_entries") else {
            return Ok(0);
        };
        let row = bind_all(sqlx::query(&sql), binds)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(u64_of(row.try_get::<i64, _>(0).map_err(db_err)?))
    }

    async fn entries_referring(&self, ids: &[String]) -> StoreResult<Vec<Entry>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT body FROM audit_entries WHERE ref_event_id IN ({}) ORDER BY tenant, seq",
            vec!["?"; ids.len()].join(",")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| entry_of(&r.try_get::<String, _>(0).map_err(db_err)?))
            .collect()
    }

    async fn insert_checkpoint(&self, cp: &CheckpointRecord) -> StoreResult<()> {
        let cp = cp.clone();
        self.writer
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO checkpoints (tenant, size, hash, note, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, size) DO NOTHING",
                    rusqlite::params![cp.tenant, i64_of(cp.size), cp.hash, cp.note, cp.created_at],
                )
                .map_err(sqlite_err)?;
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
        rows.iter()
            .map(|r| {
                Ok(CheckpointRecord {
                    tenant: r.try_get("tenant").map_err(db_err)?,
                    size: u64_of(r.try_get("size").map_err(db_err)?),
                    hash: r.try_get("hash").map_err(db_err)?,
                    note: r.try_get("note").map_err(db_err)?,
                    created_at: r.try_get("created_at").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn agents(&self) -> StoreResult<Vec<AgentActivity>> {
        let rows = sqlx::query(
            "SELECT tenant, subject, MIN(ts) AS first_seen, MAX(ts) AS last_seen, COUNT(*) AS decisions, \
             SUM(decision = 'allow') AS allowed, SUM(decision <> 'allow') AS refused \
             FROM audit_entries WHERE kind = 'decision' AND subject IS NOT NULL GROUP BY tenant, subject ORDER BY tenant, subject",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(AgentActivity {
                    tenant: r.try_get("tenant").map_err(db_err)?,
                    subject: r.try_get("subject").map_err(db_err)?,
                    first_seen: r.try_get("first_seen").map_err(db_err)?,
                    last_seen: r.try_get("last_seen").map_err(db_err)?,
                    decisions: u64_of(r.try_get("decisions").map_err(db_err)?),
                    allowed: u64_of(r.try_get("allowed").map_err(db_err)?),
                    refused: u64_of(r.try_get("refused").map_err(db_err)?),
                })
            })
            .collect()
    }

    async fn last_entry_before(&self, tenant: &str, ts: i64) -> StoreResult<Option<Entry>> {
        let row = sqlx::query(
            "SELECT body FROM audit_entries WHERE tenant = ? AND ts < ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(ts)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| entry_of(&r.try_get::<String, _>(0).map_err(db_err)?))
            .transpose()
    }

    async fn delete_through(&self, tenant: &str, cut_seq: u64) -> StoreResult<u64> {
        let tenant = tenant.to_string();
        self.writer
            .run(move |conn| {
                let tx = conn.transaction().map_err(sqlite_err)?;
                tx.execute(
                    "DELETE FROM audit_side WHERE event_id IN (SELECT event_id FROM audit_entries WHERE tenant = ? AND seq <= ?)",
                    rusqlite::params![tenant, i64_of(cut_seq)],
                )
                .map_err(sqlite_err)?;
                let deleted = tx
                    .execute(
                        "DELETE FROM audit_entries WHERE tenant = ? AND seq <= ?",
                        rusqlite::params![tenant, i64_of(cut_seq)],
                    )
                    .map_err(sqlite_err)?;
                tx.commit().map_err(sqlite_err)?;
                Ok(deleted as u64)
            })
            .await
    }

    async fn erase_side(&self, tenant: &str, subject: &str, before: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE audit_side SET args = NULL, salt = NULL WHERE tenant = ? AND subject = ? AND ts < ? AND (args IS NOT NULL OR salt IS NOT NULL)",
        )
        .bind(tenant)
        .bind(subject)
        .bind(before)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn side_records(&self, event_ids: &[String]) -> StoreResult<Vec<SideRecord>> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT event_id, tenant, subject, ts, salt, args, policy_input FROM audit_side WHERE event_id IN ({})",
            vec!["?"; event_ids.len()].join(",")
        );
        let mut query = sqlx::query(&sql);
        for id in event_ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(SideRecord {
                    event_id: r.try_get("event_id").map_err(db_err)?,
                    tenant: r.try_get("tenant").map_err(db_err)?,
                    subject: r.try_get("subject").map_err(db_err)?,
                    ts: r.try_get("ts").map_err(db_err)?,
                    salt: r.try_get("salt").map_err(db_err)?,
                    args: r.try_get("args").map_err(db_err)?,
                    policy_input: r.try_get("policy_input").map_err(db_err)?,
                })
            })
            .collect()
    }

    /// Copy the WAL back into the database without blocking writers (autocheckpoint is off, so
    /// no commit ever pays for a checkpoint's fsync).
    async fn maintain(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO deleted_sessions (id_hash, expires_at) VALUES (?, ?) ON CONFLICT (id_hash) DO NOTHING")
            .bind(id_hash)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM deleted_sessions WHERE expires_at < ?")
            .bind(crate::clock::now_us())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn deleted_sessions(&self, now: i64) -> StoreResult<Vec<String>> {
        sqlx::query_scalar("SELECT id_hash FROM deleted_sessions WHERE expires_at >= ?")
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn budget_usage(&self) -> StoreResult<Vec<(BudgetCharge, u64)>> {
        let rows = sqlx::query("SELECT tenant, root_jti, jti, used FROM budget_usage")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    BudgetCharge {
                        tenant: r.try_get("tenant").map_err(db_err)?,
                        root_jti: r.try_get("root_jti").map_err(db_err)?,
                        jti: r.try_get("jti").map_err(db_err)?,
                    },
                    u64_of(r.try_get("used").map_err(db_err)?),
                ))
            })
            .collect()
    }

    async fn call_counts(&self, since_hour: i64) -> StoreResult<Vec<(CallCount, u64)>> {
        let rows = sqlx::query(
            "SELECT tenant, subject, tool, hour, calls FROM call_counts WHERE hour >= ?",
        )
        .bind(since_hour)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    CallCount {
                        tenant: r.try_get("tenant").map_err(db_err)?,
                        subject: r.try_get("subject").map_err(db_err)?,
                        tool: r.try_get("tool").map_err(db_err)?,
                        hour: r.try_get("hour").map_err(db_err)?,
                    },
                    u64_of(r.try_get("calls").map_err(db_err)?),
                ))
            })
            .collect()
    }
}

enum Bind {
    Text(String),
    Int(i64),
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
        ("event_id", &q.event_id),
    ] {
        if let Some(v) = val {
            sql.push_str(&format!(" AND {col} = ?"));
            binds.push(Bind::Text(v.clone()));
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
        };
    }
    query
}

fn token_of(r: &sqlx::sqlite::SqliteRow) -> StoreResult<TokenRecord> {
    let tools: String = r.try_get("tools").map_err(db_err)?;
    Ok(TokenRecord {
        jti: r.try_get("jti").map_err(db_err)?,
        tenant: r.try_get("tenant").map_err(db_err)?,
        subject: r.try_get("subject").map_err(db_err)?,
        tools: serde_json::from_str(&tools)
            .map_err(|e| StoreError::Corrupt(format!("tokens.tools: {e}")))?,
        max_calls: u64_of(r.try_get("max_calls").map_err(db_err)?),
        issued_at: r.try_get("issued_at").map_err(db_err)?,
        expires_at: r.try_get("expires_at").map_err(db_err)?,
        minted_by: r.try_get("minted_by").map_err(db_err)?,
    })
}

fn revocation_of(r: &sqlx::sqlite::SqliteRow) -> StoreResult<RevocationRecord> {
    Ok(RevocationRecord {
        tenant: r.try_get("tenant").map_err(db_err)?,
        jti: r.try_get("jti").map_err(db_err)?,
        reason: r.try_get("reason").map_err(db_err)?,
        revoked_at: r.try_get("revoked_at").map_err(db_err)?,
        revoked_by: r.try_get("revoked_by").map_err(db_err)?,
        prune_after: r.try_get("prune_after").map_err(db_err)?,
    })
}

fn stop_of(r: &sqlx::sqlite::SqliteRow) -> StoreResult<StopRecord> {
    let subject: String = r.try_get("subject").map_err(db_err)?;
    Ok(StopRecord {
        tenant: r.try_get("tenant").map_err(db_err)?,
        subject: (!subject.is_empty()).then_some(subject),
        reason: r.try_get("reason").map_err(db_err)?,
        created_at: r.try_get("created_at").map_err(db_err)?,
        created_by: r.try_get("created_by").map_err(db_err)?,
    })
}
