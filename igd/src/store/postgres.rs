//! The PostgreSQL store (`INTENTGATE_POSTGRES_URL`): what the SQLite store does, shared by any
//! number of igd replicas. Migrations run at start under an advisory lock. A group commit locks
//! its tenants' heads (`audit_heads`, `FOR UPDATE`, in tenant order), reseals what another
//! replica's appends overtook, inserts every entry with one statement and advances the heads, in
//! one transaction. Revocations and stops announce themselves with `NOTIFY`.

use super::*;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr as _;
use std::time::Duration;

/// `pg_advisory_lock` key serialising migrations across replicas ("igd-mig").
const MIGRATION_LOCK: i64 = 0x0069_6764_2d6d_6967;
/// The channel revocations and stops are announced on.
pub const CHANGE_CHANNEL: &str = "intentgate_changes";

/// Migrations in order; each runs once, inside a transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_budget_grants.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/postgres/0003_policies.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/postgres/0004_approvals_operators.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/postgres/0005_sink_cursors.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/postgres/0006_notify_channels.sql"),
    ),
];

/// Connection settings beyond the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgSettings {
    /// Most connections this replica holds.
    pub pool_size: u32,
    /// `statement_timeout` of every connection; also how long a call waits for a connection.
    pub statement_timeout_ms: u64,
    /// `INTENTGATE_AUDIT_SYNC=full`: every commit waits for the server's WAL flush
    /// (`synchronous_commit = on`) whatever the server's default; `normal` keeps the default.
    pub durable: bool,
}

impl Default for PgSettings {
    fn default() -> Self {
        PgSettings {
            pool_size: 16,
            statement_timeout_ms: 5000,
            durable: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    changes: tokio::sync::watch::Receiver<u64>,
    /// Dropping the last clone stops the listener task.
    _listener: std::sync::Arc<ListenerTask>,
}

#[derive(Debug)]
struct ListenerTask(tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d)
            if d.is_unique_violation() || d.code().as_deref() == Some("40P01") =>
        {
            StoreError::Conflict(d.to_string())
        }
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

/// A copy of a value for a filter column: PostgreSQL text cannot hold NUL.
fn col(s: &str) -> String {
    s.replace('\0', "\u{FFFD}")
}

fn opt_col(s: Option<&str>) -> Option<String> {
    s.map(col)
}

/// Refuse, with a clear error, admin-state text PostgreSQL cannot store.
fn no_nul(what: &str, s: &str) -> StoreResult<()> {
    if s.contains('\0') {
        return Err(StoreError::Conflict(format!(
            "{what} contains a NUL character"
        )));
    }
    Ok(())
}

/// SQL: an entry's kind as its body writes it (JSON-escaped, never decoded; an entry is a flat
/// object, so the first `"kind":"` is its key). Same expression as the generated column.
const BODY_KIND: &str = r#"substring(body from '"kind":"((?:[^"\\]|\\.)*)"')"#;

/// The columns an entry is read back from.
const ENTRY_COLS: &str = "tenant, seq, body";

fn entry_of(r: &sqlx::postgres::PgRow) -> StoreResult<Entry> {
    let tenant: String = r.try_get(0).map_err(db_err)?;
    let seq: i64 = r.try_get(1).map_err(db_err)?;
    let body: String = r.try_get(2).map_err(db_err)?;
    let e: Entry = serde_json::from_str(&body)
        .map_err(|err| StoreError::Corrupt(format!("audit_log {tenant}/{seq} body: {err}")))?;
    if col(&e.tenant) != tenant || i64_of(e.seq) != seq {
        return Err(StoreError::Corrupt(format!(
            "audit_log {tenant}/{seq}: the body says {}/{}",
            e.tenant, e.seq
        )));
    }
    Ok(e)
}

impl PostgresStore {
    /// Connect, apply pending migrations (under an advisory lock) and start listening for other
    /// replicas' changes.
    pub async fn connect(url: &str, settings: PgSettings) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("INTENTGATE_POSTGRES_URL: {e}")))?
            .application_name("igd")
            .options([
                (
                    "statement_timeout",
                    settings.statement_timeout_ms.to_string(),
                ),
                // A lock a commit waits on gives up before the statement does.
                (
                    "lock_timeout",
                    (settings.statement_timeout_ms * 4 / 5).max(50).to_string(),
                ),
                // A replica that vanished mid-transaction must not hold the chain heads' locks
                // for hours: the server ends such sessions and notices dead peers.
                (
                    "idle_in_transaction_session_timeout",
                    (settings.statement_timeout_ms * 2).to_string(),
                ),
                ("tcp_keepalives_idle", "10".to_string()),
                ("tcp_keepalives_interval", "5".to_string()),
                ("tcp_keepalives_count", "3".to_string()),
            ]);
        let options = if settings.durable {
            options.options([("synchronous_commit", "on")])
        } else {
            options
        };
        let wait = Duration::from_millis(settings.statement_timeout_ms.max(100));
        // One more than the setting: the change listener keeps a connection of its own.
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool_size.max(1) + 1)
            .min_connections(1)
            .acquire_timeout(wait)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        check_encoding(&pool).await?;
        migrate(&pool).await?;
        let (tx, changes) = tokio::sync::watch::channel(0u64);
        let task = tokio::spawn(listen(pool.clone(), tx));
        Ok(PostgresStore {
            pool,
            changes,
            _listener: std::sync::Arc::new(ListenerTask(task)),
        })
    }

    /// The pool (tests and tools that need raw SQL).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn notify(&self) {
        // Best effort: every replica also resyncs on a timer.
        if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANGE_CHANNEL)
            .execute(&self.pool)
            .await
        {
            tracing::warn!(error = %e, "could not announce a change to other replicas");
        }
    }
}

/// Refuse a database whose encoding cannot hold every string an agent may send (a LATIN1
/// database would fail whole group commits on one emoji in a tool name).
async fn check_encoding(pool: &PgPool) -> StoreResult<()> {
    let encoding: String = sqlx::query_scalar("SHOW server_encoding")
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    if encoding != "UTF8" {
        return Err(StoreError::Corrupt(format!(
            "the database's encoding is {encoding}: igd needs UTF8 (CREATE DATABASE … ENCODING 'UTF8')"
        )));
    }
    Ok(())
}

async fn migrate(pool: &PgPool) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    // Waiting for another replica's migration, and a migration itself, may take longer than a
    // statement on the hot path: no time limit on this connection (closed afterwards).
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    sqlx::query("SET lock_timeout = 0")
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let result = async {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        for (version, sql) in MIGRATIONS {
            let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(db_err)?;
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if done.is_none() {
                sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(db_err)?;
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
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
    .await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await;
    // Never back to the pool: it has no time limits (and may still hold the lock).
    drop(conn.detach());
    result
}

/// Bump `tx` on every notification, and once after every (re)connection (what was missed
/// while disconnected is caught up by the caller's resync).
async fn listen(pool: PgPool, tx: tokio::sync::watch::Sender<u64>) {
    let bump = || tx.send_modify(|n| *n = n.wrapping_add(1));
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %e, "change listener cannot connect; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANGE_CHANNEL).await {
            tracing::debug!(error = %e, "change listener cannot LISTEN; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        bump();
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => bump(),
                // The connection dropped (PgListener reconnects on the next call): resync.
                Ok(None) => bump(),
                Err(e) => {
                    tracing::debug!(error = %e, "change listener lost its connection");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

/// Sum equal keys: one row per key in each multi-row upsert.
fn tally<K: Ord>(keys: impl IntoIterator<Item = K>) -> BTreeMap<K, i64> {
    let mut out = BTreeMap::new();
    for k in keys {
        *out.entry(k).or_insert(0) += 1;
    }
    out
}

/// Column arrays of a batch's entries, for one `INSERT … SELECT FROM unnest(…)`.
#[derive(Default)]
struct EntryColumns {
    tenant: Vec<String>,
    seq: Vec<i64>,
    event_id: Vec<String>,
    ts: Vec<i64>,
    subject: Vec<Option<String>>,
    tool: Vec<Option<String>>,
    decision: Vec<Option<String>>,
    ref_seq: Vec<Option<i64>>,
    body: Vec<String>,
    salt: Vec<Option<String>>,
    args: Vec<Option<String>>,
    policy_context: Vec<Option<String>>,
}

impl EntryColumns {
    fn of(entries: &[AppendEntry]) -> StoreResult<Self> {
        let mut c = EntryColumns::default();
        for a in entries {
            let e = &a.entry;
            let side = a.side.as_ref();
            c.tenant.push(col(&e.tenant));
            c.seq.push(i64_of(e.seq));
            c.event_id.push(col(&e.event_id));
            c.ts.push(e.ts);
            c.subject.push(opt_col(e.subject.as_deref()));
            c.tool.push(opt_col(e.tool.as_deref()));
            c.decision.push(opt_col(e.decision.as_deref()));
            c.ref_seq.push(a.ref_seq.map(i64_of));
            c.body.push(
                serde_json::to_string(e)
                    .map_err(|err| StoreError::Corrupt(format!("audit entry: {err}")))?,
            );
            c.salt.push(opt_col(side.and_then(|s| s.salt.as_deref())));
            c.args.push(opt_col(side.and_then(|s| s.args.as_deref())));
            c.policy_context
                .push(opt_col(side.and_then(|s| s.policy_context.as_deref())));
        }
        Ok(c)
    }
}

async fn write_batch(
    tx: &mut sqlx::PgConnection,
    mut batch: CommitBatch,
) -> StoreResult<Vec<Entry>> {
    // Lock the heads of the batch's tenants, in tenant order (no two commits wait on each
    // other in a cycle), creating the rows of new chains first.
    let mut tenants: Vec<String> = batch
        .entries
        .iter()
        .map(|a| a.entry.tenant.clone())
        .collect();
    tenants.sort();
    tenants.dedup();
    if tenants.iter().any(|t| t.contains('\0')) {
        return Err(StoreError::Conflict(
            "a tenant name contains a NUL character".into(),
        ));
    }
    let mut heads: HashMap<String, (u64, String)> = HashMap::new();
    if !tenants.is_empty() {
        sqlx::query(
            "INSERT INTO audit_heads (tenant, seq, hash) SELECT t, 0, $2 FROM unnest($1::text[]) AS t \
             ON CONFLICT (tenant) DO NOTHING",
        )
        .bind(&tenants)
        .bind(intentgate_proto::audit::GENESIS_HASH)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT tenant, seq, hash FROM audit_heads WHERE tenant = ANY($1) ORDER BY tenant FOR UPDATE",
        )
        .bind(&tenants)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for r in rows {
            let seq: i64 = r.try_get(1).map_err(db_err)?;
            if seq > 0 {
                heads.insert(
                    r.try_get(0).map_err(db_err)?,
                    (u64_of(seq), r.try_get(2).map_err(db_err)?),
                );
            }
        }
    }
    link(&mut batch.entries, &mut heads, batch.reseal)?;
    if !batch.entries.is_empty() {
        let c = EntryColumns::of(&batch.entries)?;
        sqlx::query(
            "INSERT INTO audit_log (tenant, seq, event_id, ts, subject, tool, decision, ref_seq, body, salt, args, policy_context) \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], \
                                  $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[])",
        )
        .bind(&c.tenant)
        .bind(&c.seq)
        .bind(&c.event_id)
        .bind(&c.ts)
        .bind(&c.subject)
        .bind(&c.tool)
        .bind(&c.decision)
        .bind(&c.ref_seq)
        .bind(&c.body)
        .bind(&c.salt)
        .bind(&c.args)
        .bind(&c.policy_context)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let (names, (seqs, hashes)): (Vec<String>, (Vec<i64>, Vec<String>)) = heads
            .into_iter()
            .map(|(t, (s, h))| (t, (i64_of(s), h)))
            .unzip();
        sqlx::query(
            "UPDATE audit_heads h SET seq = n.seq, hash = n.hash \
             FROM unnest($1::text[], $2::bigint[], $3::text[]) AS n(tenant, seq, hash) WHERE h.tenant = n.tenant",
        )
        .bind(&names)
        .bind(&seqs)
        .bind(&hashes)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    upsert_charges(tx, &batch.charges).await?;
    upsert_calls(tx, &batch.calls).await?;
    Ok(batch.entries.into_iter().map(|a| a.entry).collect())
}

/// Add a batch's `max_calls` charges to the stored usage, one row per key.
async fn upsert_charges(tx: &mut sqlx::PgConnection, charges: &[BudgetCharge]) -> StoreResult<()> {
    let tallied = tally(
        charges
            .iter()
            .map(|c| (col(&c.tenant), col(&c.root_jti), col(&c.jti))),
    );
    if tallied.is_empty() {
        return Ok(());
    }
    let (mut tenants, mut roots, mut jtis, mut used) = (vec![], vec![], vec![], vec![]);
    for ((t, r, j), n) in tallied {
        tenants.push(t);
        roots.push(r);
        jtis.push(j);
        used.push(n);
    }
    sqlx::query(
        "INSERT INTO budget_usage (tenant, root_jti, jti, used) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) \
         ON CONFLICT (tenant, root_jti, jti) DO UPDATE SET used = budget_usage.used + excluded.used",
    )
    .bind(&tenants)
    .bind(&roots)
    .bind(&jtis)
    .bind(&used)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Add a batch's forwarded calls to the stored hourly counts, one row per key.
async fn upsert_calls(tx: &mut sqlx::PgConnection, calls: &[CallCount]) -> StoreResult<()> {
    let tallied = tally(
        calls
            .iter()
            .map(|c| (col(&c.tenant), col(&c.subject), col(&c.tool), c.hour)),
    );
    if tallied.is_empty() {
        return Ok(());
    }
    let (mut tenants, mut subjects, mut tools, mut hours, mut counts) =
        (vec![], vec![], vec![], vec![], vec![]);
    for ((t, s, tool, h), n) in tallied {
        tenants.push(t);
        subjects.push(s);
        tools.push(tool);
        hours.push(h);
        counts.push(n);
    }
    sqlx::query(
        "INSERT INTO call_counts (tenant, subject, tool, hour, calls) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) \
         ON CONFLICT (tenant, subject, tool, hour) DO UPDATE SET calls = call_counts.calls + excluded.calls",
    )
    .bind(&tenants)
    .bind(&subjects)
    .bind(&tools)
    .bind(&hours)
    .bind(&counts)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

enum Bind {
    Text(String),
    Int(i64),
    Texts(Vec<String>),
}

/// `select WHERE …` for a query's filters; `None` when the tenant scope is empty.
fn where_clause(q: &AuditQuery, select: &str) -> Option<(String, Vec<Bind>)> {
    let mut sql = format!("{select} WHERE TRUE");
    let mut binds: Vec<Bind> = Vec::new();
    let mut push = |sql: &mut String, clause: &str, b: Bind| {
        binds.push(b);
        sql.push_str(&clause.replace('#', &format!("${}", binds.len())));
    };
    if let Some(tenants) = &q.tenants {
        if tenants.is_empty() {
            return None;
        }
        push(
            &mut sql,
            " AND tenant = ANY(#)",
            Bind::Texts(tenants.iter().map(|t| col(t)).collect()),
        );
    }
    for (column, val) in [
        ("tenant", &q.tenant),
        ("subject", &q.subject),
        ("tool", &q.tool),
        ("decision", &q.decision),
        ("kind", &q.kind),
        ("event_id", &q.event_id),
    ] {
        if let Some(v) = val {
            push(&mut sql, &format!(" AND {column} = #"), Bind::Text(col(v)));
        }
    }
    if let Some(from) = q.from_ts {
        push(&mut sql, " AND ts >= #", Bind::Int(from));
    }
    if let Some(to) = q.to_ts {
        push(&mut sql, " AND ts < #", Bind::Int(to));
    }
    if let Some(seq) = q.from_seq {
        push(&mut sql, " AND seq >= #", Bind::Int(i64_of(seq)));
    }
    if let Some((tenant, seq)) = &q.after {
        push(&mut sql, " AND (tenant, seq) > (#", Bind::Text(col(tenant)));
        push(&mut sql, ", #)", Bind::Int(i64_of(*seq)));
    }
    Some((sql, binds))
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s),
            Bind::Int(i) => query.bind(i),
            Bind::Texts(v) => query.bind(v),
        };
    }
    query
}

/// (tenant, seq) keys as two arrays.
fn key_arrays(keys: &[(String, u64)]) -> (Vec<String>, Vec<i64>) {
    keys.iter().map(|(t, s)| (col(t), i64_of(*s))).unzip()
}

/// An approval row as PostgreSQL can store it (NUL in any text becomes U+FFFD).
fn approval_cols(r: &ApprovalRecord) -> ApprovalRecord {
    ApprovalRecord {
        id: col(&r.id),
        tenant: col(&r.tenant),
        subject: col(&r.subject),
        delegated_subject: opt_col(r.delegated_subject.as_deref()),
        root_jti: col(&r.root_jti),
        leaf_jti: col(&r.leaf_jti),
        tool: col(&r.tool),
        args_hash: col(&r.args_hash),
        args: opt_col(r.args.as_deref()),
        intent: opt_col(r.intent.as_deref()),
        reason: col(&r.reason),
        requires_step_up: r.requires_step_up,
        decision_event: col(&r.decision_event),
        decision_seq: r.decision_seq,
        created_at: r.created_at,
        expires_at: r.expires_at,
        status: col(&r.status),
        decided_by: opt_col(r.decided_by.as_deref()),
        decided_at: r.decided_at,
        note: opt_col(r.note.as_deref()),
    }
}

/// Forget an identity's used TOTP steps, failures and recovery codes.
async fn clear_totp_satellites(tx: &mut sqlx::PgConnection, identity: &str) -> StoreResult<()> {
    for table in ["totp_used_steps", "totp_failures", "totp_recovery"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE identity = $1"))
            .bind(identity)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

async fn insert_recovery_hashes(
    tx: &mut sqlx::PgConnection,
    identity: &str,
    hashes: &[String],
) -> StoreResult<()> {
    if hashes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO totp_recovery (identity, hash) SELECT $1, h FROM unnest($2::text[]) AS h \
         ON CONFLICT DO NOTHING",
    )
    .bind(identity)
    .bind(hashes)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        no_nul("meta key", key)?;
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn init_meta(&self, key: &str, value: &str) -> StoreResult<String> {
        no_nul("meta key", key)?;
        no_nul("meta value", value)?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
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
        sqlx::query_as("SELECT key, value FROM meta WHERE starts_with(key, $1) ORDER BY key")
            .bind(col(prefix))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn delete_meta(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM meta WHERE key = $1")
            .bind(col(key))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_token(&self, t: &TokenRecord) -> StoreResult<()> {
        for (what, v) in [
            ("jti", &t.jti),
            ("tenant", &t.tenant),
            ("subject", &t.subject),
            ("minted_by", &t.minted_by),
        ] {
            no_nul(what, v)?;
        }
        let tools = serde_json::to_string(&t.tools).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO tokens (jti, tenant, subject, tools, max_calls, issued_at, expires_at, minted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
        let row = sqlx::query("SELECT jti, tenant, subject, tools, max_calls, issued_at, expires_at, minted_by FROM tokens WHERE jti = $1")
            .bind(col(jti))
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
        // Checked before igd chains the action: free text with a NUL is stored with U+FFFD
        // (the chained entry keeps it exactly), never refused after the fact.
        let r = &RevocationRecord {
            reason: col(&r.reason),
            revoked_by: col(&r.revoked_by),
            tenant: col(&r.tenant),
            jti: col(&r.jti),
            ..r.clone()
        };
        sqlx::query(
            "INSERT INTO revocations (tenant, jti, reason, revoked_at, revoked_by, prune_after) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, jti) DO NOTHING",
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
        self.notify().await;
        let row = sqlx::query("SELECT tenant, jti, reason, revoked_at, revoked_by, prune_after FROM revocations WHERE tenant = $1 AND jti = $2")
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
        let done = sqlx::query("DELETE FROM revocations WHERE prune_after < $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn put_stop(&self, s: &StopRecord) -> StoreResult<StopRecord> {
        // As for revocations: text PostgreSQL cannot hold is stored with U+FFFD.
        let s = &StopRecord {
            tenant: col(&s.tenant),
            subject: s.subject.as_deref().map(col),
            reason: col(&s.reason),
            created_by: col(&s.created_by),
            ..s.clone()
        };
        sqlx::query("INSERT INTO stops (tenant, subject, reason, created_at, created_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, subject) DO NOTHING")
            .bind(&s.tenant)
            .bind(s.subject.as_deref().unwrap_or(""))
            .bind(&s.reason)
            .bind(s.created_at)
            .bind(&s.created_by)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        self.notify().await;
        let row = sqlx::query("SELECT tenant, subject, reason, created_at, created_by FROM stops WHERE tenant = $1 AND subject = $2")
            .bind(&s.tenant)
            .bind(s.subject.as_deref().unwrap_or(""))
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        rows::stop_of(&row)
    }

    async fn delete_stop(&self, tenant: &str, subject: Option<&str>) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM stops WHERE tenant = $1 AND subject = $2")
            .bind(col(tenant))
            .bind(col(subject.unwrap_or("")))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        self.notify().await;
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
        let rows =
            sqlx::query("SELECT tenant, seq, hash FROM audit_heads WHERE seq > 0 ORDER BY tenant")
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
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let entries = write_batch(&mut tx, batch).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(entries)
    }

    async fn chain_range(
        &self,
        tenant: &str,
        from_seq: u64,
        to_seq: u64,
        limit: u32,
    ) -> StoreResult<Vec<Entry>> {
        let rows = sqlx::query(&format!(
            "SELECT {ENTRY_COLS} FROM audit_log WHERE tenant = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4"
        ))
        .bind(col(tenant))
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
        // The kind as the body says it, extracted here rather than read from the generated
        // column (whose owner could drop its expression and rewrite it).
        let rows = sqlx::query(&format!(
            "SELECT seq FROM (SELECT seq, {BODY_KIND} AS k FROM audit_log \
               WHERE tenant = $1 AND seq >= $2 AND seq <= $3) AS r \
             WHERE k IS DISTINCT FROM 'decision' AND k IS DISTINCT FROM 'approval' \
               AND k IS DISTINCT FROM 'outcome' AND k IS DISTINCT FROM 'admin' \
             ORDER BY seq LIMIT $4"
        ))
        .bind(col(tenant))
        .bind(i64_of(from_seq))
        .bind(i64_of(to_seq))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>(0).map(u64_of).map_err(db_err))
            .collect()
    }

    async fn query_entries(&self, q: &AuditQuery) -> StoreResult<Vec<Entry>> {
        let select = format!("SELECT {ENTRY_COLS} FROM audit_log");
        let Some((mut sql, mut binds)) = where_clause(q, &select) else {
            return Ok(Vec::new());
        };
        binds.push(Bind::Int(i64::from(q.limit)));
        sql.push_str(&format!(" ORDER BY tenant, seq LIMIT ${}", binds.len()));
        let rows = bind_all(sqlx::query(&sql), binds)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(entry_of).collect()
    }

    async fn count_entries(&self, q: &AuditQuery) -> StoreResult<u64> {
        let q = AuditQuery {
            after: None,
            ..q.clone()
        };
        let Some((sql, binds)) = where_clause(&q, "SELECT COUNT(*) FROM audit_log") else {
            return Ok(0);
        };
        let row = bind_all(sqlx::query(&sql), binds)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(u64_of(row.try_get::<i64, _>(0).map_err(db_err)?))
    }

    async fn entries_referring(&self, keys: &[(String, u64)]) -> StoreResult<Vec<Entry>> {
        let (tenants, seqs) = key_arrays(keys);
        let rows = sqlx::query(
            "SELECT a.tenant, a.seq, a.body FROM audit_log a \
             JOIN unnest($1::text[], $2::bigint[]) AS k(tenant, seq) \
               ON a.tenant = k.tenant AND a.ref_seq = k.seq \
             ORDER BY a.tenant, a.seq",
        )
        .bind(&tenants)
        .bind(&seqs)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out: Vec<Entry> = rows.iter().map(entry_of).collect::<StoreResult<_>>()?;
        out.dedup_by(|a, b| a.tenant == b.tenant && a.seq == b.seq);
        Ok(out)
    }

    async fn insert_checkpoint(&self, cp: &CheckpointRecord) -> StoreResult<()> {
        no_nul("checkpoint tenant", &cp.tenant)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // A row already at this size with another hash (planted, or a lost timeline's after a
        // rebaseline) never stands in for the checkpoint just signed.
        let existing: Option<(String, String)> = sqlx::query_as(
            "SELECT hash, note FROM checkpoints WHERE tenant = $1 AND size = $2 FOR UPDATE",
        )
        .bind(&cp.tenant)
        .bind(i64_of(cp.size))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        match existing {
            Some((h, note)) if h == cp.hash && note == cp.note => {}
            Some(_) => {
                tracing::warn!(tenant = %cp.tenant, size = cp.size, "a stored checkpoint at this size differed from the one just signed; replaced");
                sqlx::query("UPDATE checkpoints SET hash = $1, note = $2, created_at = $3 WHERE tenant = $4 AND size = $5")
                    .bind(&cp.hash)
                    .bind(&cp.note)
                    .bind(cp.created_at)
                    .bind(&cp.tenant)
                    .bind(i64_of(cp.size))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            None => {
                sqlx::query("INSERT INTO checkpoints (tenant, size, hash, note, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, size) DO NOTHING")
                    .bind(&cp.tenant)
                    .bind(i64_of(cp.size))
                    .bind(&cp.hash)
                    .bind(&cp.note)
                    .bind(cp.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(db_err)
    }

    async fn checkpoints(
        &self,
        tenant: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CheckpointRecord>> {
        let rows = match tenant {
            Some(t) => sqlx::query("SELECT tenant, size, hash, note, created_at FROM checkpoints WHERE tenant = $1 ORDER BY size DESC LIMIT $2")
                .bind(col(t))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await,
            None => sqlx::query("SELECT tenant, size, hash, note, created_at FROM checkpoints ORDER BY created_at DESC, tenant, size DESC LIMIT $1")
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
             COUNT(*) FILTER (WHERE decision = 'allow') AS allowed, \
             COUNT(*) FILTER (WHERE decision IS DISTINCT FROM 'allow') AS refused \
             FROM audit_log WHERE kind = 'decision' AND subject IS NOT NULL GROUP BY tenant, subject ORDER BY tenant, subject",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::agent_of).collect()
    }

    async fn last_entry_before(&self, tenant: &str, ts: i64) -> StoreResult<Option<Entry>> {
        let row = sqlx::query(&format!(
            "SELECT {ENTRY_COLS} FROM audit_log WHERE tenant = $1 AND ts < $2 ORDER BY seq DESC LIMIT 1"
        ))
        .bind(col(tenant))
        .bind(ts)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(entry_of).transpose()
    }

    async fn delete_through(&self, tenant: &str, cut_seq: u64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM audit_log WHERE tenant = $1 AND seq <= $2")
            .bind(col(tenant))
            .bind(i64_of(cut_seq))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn erase_side(&self, tenant: &str, subject: &str, before: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE audit_log SET args = NULL, salt = NULL, policy_context = NULL WHERE tenant = $1 AND subject = $2 AND ts < $3 AND (args IS NOT NULL OR salt IS NOT NULL OR policy_context IS NOT NULL)",
        )
        .bind(col(tenant))
        .bind(col(subject))
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
        let (tenants, seqs) = key_arrays(keys);
        let rows = sqlx::query(
            "SELECT a.tenant, a.seq, a.salt, a.args, a.policy_context FROM audit_log a \
             JOIN unnest($1::text[], $2::bigint[]) AS k(tenant, seq) ON a.tenant = k.tenant AND a.seq = k.seq \
             WHERE a.salt IS NOT NULL OR a.args IS NOT NULL OR a.policy_context IS NOT NULL",
        )
        .bind(&tenants)
        .bind(&seqs)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    (
                        r.try_get(0).map_err(db_err)?,
                        u64_of(r.try_get(1).map_err(db_err)?),
                    ),
                    SideRecord {
                        salt: r.try_get(2).map_err(db_err)?,
                        args: r.try_get(3).map_err(db_err)?,
                        policy_context: r.try_get(4).map_err(db_err)?,
                    },
                ))
            })
            .collect()
    }

    fn shared(&self) -> bool {
        true
    }

    fn change_feed(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.changes.clone())
    }

    /// Nothing to do: PostgreSQL's autovacuum keeps the tables in shape.
    async fn maintain(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn probe_write(&self) -> StoreResult<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ('health_probe', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(crate::clock::now_us().to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_policy_draft(&self, d: &PolicyDraftRecord) -> StoreResult<()> {
        let tests = serde_json::to_string(&d.tests)
            .map_err(|e| StoreError::Corrupt(format!("policy draft tests: {e}")))?;
        sqlx::query("INSERT INTO policy_drafts (id, name, source, tests, revision, author, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
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
        let row = sqlx::query("SELECT * FROM policy_drafts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::policy_draft_of).transpose()
    }

    async fn delete_policy_draft(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM policy_drafts WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn policy_history(&self, limit: u32) -> StoreResult<Vec<PolicyHistoryRecord>> {
        let rows = sqlx::query("SELECT seq, action, draft_id, name, revision, NULL::text AS source, prev_seq, actor, at FROM policy_history ORDER BY seq DESC LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(rows::policy_history_of).collect()
    }

    async fn policy_history_row(&self, seq: i64) -> StoreResult<Option<PolicyHistoryRecord>> {
        let row = sqlx::query("SELECT * FROM policy_history WHERE seq = $1")
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
        sqlx::query("INSERT INTO policy_history (seq, action, draft_id, name, revision, source, prev_seq, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
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
        self.notify().await;
        Ok(())
    }

    async fn insert_approval(
        &self,
        row: &ApprovalRecord,
        now: i64,
    ) -> StoreResult<(ApprovalRecord, bool)> {
        // Free text PostgreSQL cannot hold is stored with U+FFFD (as for revocations).
        let row = &approval_cols(row);
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // A live row of the binding that expired no longer blocks a new one: it moves on as
        // `expire_approvals` would.
        sqlx::query(
            "UPDATE approvals SET \
                 status = CASE status WHEN 'pending' THEN 'timeout' ELSE 'lapsed' END, \
                 decided_at = CASE status WHEN 'pending' THEN $1 ELSE decided_at END \
             WHERE tenant = $2 AND root_jti = $3 AND leaf_jti = $4 AND tool = $5 AND args_hash = $6 \
             AND status IN ('pending', 'approved') AND expires_at <= $1",
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
        // The insert waits for a concurrent one of the same binding and then does nothing; the
        // select (a new snapshot) sees the row that won. Should that row stop being live in
        // between (decided at once), the insert is tried again.
        for _ in 0..3 {
            let inserted = sqlx::query(
                "INSERT INTO approvals (id, tenant, subject, delegated_subject, root_jti, leaf_jti, tool, \
                 args_hash, args, intent, reason, requires_step_up, decision_event, decision_seq, created_at, \
                 expires_at, status, decided_by, decided_at, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
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
            if let Some(r) = inserted {
                let out = rows::approval_of(&r)?;
                tx.commit().await.map_err(db_err)?;
                return Ok((out, true));
            }
            let live = sqlx::query(
                "SELECT * FROM approvals WHERE tenant = $1 AND root_jti = $2 AND leaf_jti = $3 \
                 AND tool = $4 AND args_hash = $5 AND status IN ('pending', 'approved')",
            )
            .bind(&row.tenant)
            .bind(&row.root_jti)
            .bind(&row.leaf_jti)
            .bind(&row.tool)
            .bind(&row.args_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if let Some(r) = live {
                let out = rows::approval_of(&r)?;
                tx.commit().await.map_err(db_err)?;
                return Ok((out, false));
            }
        }
        Err(StoreError::Conflict(format!(
            "approval {}: the live row of its binding keeps changing",
            row.id
        )))
    }

    async fn approval(&self, id: &str) -> StoreResult<Option<ApprovalRecord>> {
        let row = sqlx::query("SELECT * FROM approvals WHERE id = $1")
            .bind(col(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::approval_of).transpose()
    }

    async fn approvals(&self, q: &ApprovalQuery) -> StoreResult<Vec<ApprovalRecord>> {
        if q.tenants.as_ref().is_some_and(|t| t.is_empty()) {
            return Ok(Vec::new());
        }
        let tenants: Option<Vec<String>> = q
            .tenants
            .as_ref()
            .map(|t| t.iter().map(|t| col(t)).collect());
        let rows = sqlx::query(
            "SELECT * FROM approvals WHERE ($1::text IS NULL OR status = $1) \
             AND ($2::text[] IS NULL OR tenant = ANY($2)) \
             AND ($3::bigint IS NULL OR created_at >= $3 OR decided_at >= $3) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(opt_col(q.status.as_deref()))
        .bind(tenants)
        .bind(q.changed_since)
        .bind(rows::approval_limit(q.limit))
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
            "UPDATE approvals SET status = $1, decided_by = $2, decided_at = $3, note = $4, args = $5 \
             WHERE id = $6 AND status = $7 RETURNING *",
        )
        .bind(col(to))
        .bind(opt_col(decided_by))
        .bind(decided_at)
        .bind(opt_col(note))
        .bind(opt_col(args))
        .bind(col(id))
        .bind(col(from))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::approval_of).transpose()
    }

    async fn expire_approvals(&self, now: i64) -> StoreResult<Vec<ApprovalRecord>> {
        // Row locks make each row change once: a concurrent sweep re-checks the status after
        // the first one commits and skips it.
        let rows = sqlx::query(
            "UPDATE approvals SET \
                 status = CASE status WHEN 'pending' THEN 'timeout' ELSE 'lapsed' END, \
                 decided_at = CASE status WHEN 'pending' THEN $1 ELSE decided_at END \
             WHERE status IN ('pending', 'approved') AND expires_at <= $1 RETURNING *",
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
        for (what, v) in [
            ("operator name", Some(&op.name)),
            ("operator role", Some(&op.role)),
            ("operator tenant", op.tenant.as_ref()),
            ("operator certificate subject", op.cert_subject.as_ref()),
            ("operator token hash", op.token_hash.as_ref()),
            ("operator creator", Some(&op.created_by)),
        ] {
            if let Some(v) = v {
                no_nul(what, v)?;
            }
        }
        sqlx::query(
            "INSERT INTO operators (name, role, tenant, uid, cert_subject, token_hash, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
        let done = sqlx::query("DELETE FROM operators WHERE name = $1")
            .bind(col(name))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_totp(&self, rec: &TotpRecord) -> StoreResult<()> {
        let identity = col(&rec.identity);
        let hashes: Vec<String> = rec.recovery_hashes.iter().map(|h| col(h)).collect();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO totp (identity, secret_sealed, confirmed, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (identity) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
             confirmed = excluded.confirmed, created_at = excluded.created_at",
        )
        .bind(&identity)
        .bind(&rec.secret_sealed)
        .bind(rec.confirmed)
        .bind(rec.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        clear_totp_satellites(&mut tx, &identity).await?;
        insert_recovery_hashes(&mut tx, &identity, &hashes).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn totp(&self, identity: &str) -> StoreResult<Option<TotpRecord>> {
        let identity = col(identity);
        let Some(row) = sqlx::query("SELECT * FROM totp WHERE identity = $1")
            .bind(&identity)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let hashes: Vec<String> =
            sqlx::query_scalar("SELECT hash FROM totp_recovery WHERE identity = $1 ORDER BY hash")
                .bind(&identity)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows::totp_of(&row, hashes).map(Some)
    }

    async fn confirm_totp(&self, identity: &str, recovery_hashes: &[String]) -> StoreResult<bool> {
        let identity = col(identity);
        let hashes: Vec<String> = recovery_hashes.iter().map(|h| col(h)).collect();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE totp SET confirmed = TRUE WHERE identity = $1 AND confirmed = FALSE",
        )
        .bind(&identity)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM totp_recovery WHERE identity = $1")
            .bind(&identity)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_recovery_hashes(&mut tx, &identity, &hashes).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn delete_totp(&self, identity: &str) -> StoreResult<bool> {
        let identity = col(identity);
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query("DELETE FROM totp WHERE identity = $1")
            .bind(&identity)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        clear_totp_satellites(&mut tx, &identity).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn use_totp_step(&self, identity: &str, step: i64) -> StoreResult<bool> {
        let identity = col(identity);
        let done = sqlx::query(
            "INSERT INTO totp_used_steps (identity, step) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(&identity)
        .bind(step)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        let first = done.rows_affected() == 1;
        if first {
            // Steps that old can never be accepted again: forget them (a primary-key range).
            sqlx::query("DELETE FROM totp_used_steps WHERE identity = $1 AND step < $2")
                .bind(&identity)
                .bind(step.saturating_sub(rows::TOTP_STEPS_KEPT))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        }
        Ok(first)
    }

    async fn use_recovery_code(&self, identity: &str, hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM totp_recovery WHERE identity = $1 AND hash = $2")
            .bind(col(identity))
            .bind(col(hash))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_totp_failure(&self, identity: &str, at: i64) -> StoreResult<()> {
        let identity = col(identity);
        sqlx::query("INSERT INTO totp_failures (identity, at) VALUES ($1, $2)")
            .bind(&identity)
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM totp_failures WHERE identity = $1 AND at < $2")
            .bind(&identity)
            .bind(at.saturating_sub(rows::TOTP_FAILURES_KEPT_US))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn totp_failures(&self, identity: &str, since: i64) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT at FROM totp_failures WHERE identity = $1 AND at >= $2 ORDER BY at",
        )
        .bind(col(identity))
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn insert_elevation(&self, e: &ElevationRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO elevations (id, identity, reason, duration_secs, requested_at, status, \
             approved_by, approved_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(col(&e.id))
        .bind(col(&e.identity))
        .bind(col(&e.reason))
        .bind(e.duration_secs)
        .bind(e.requested_at)
        .bind(col(&e.status))
        .bind(opt_col(e.approved_by.as_deref()))
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
            "UPDATE elevations SET status = 'active', approved_by = $1, approved_at = $2, expires_at = $3 \
             WHERE id = $4 AND status = 'pending' RETURNING *",
        )
        .bind(col(approved_by))
        .bind(approved_at)
        .bind(expires_at)
        .bind(col(id))
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
        // A replica registering the same sink at the same moment waits here on the primary
        // key until this commits, then finds it taken: one set of starting cursors wins.
        let added = sqlx::query(
            "INSERT INTO sinks (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(col(sink))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            == 1;
        if added && !heads.is_empty() {
            let tenants: Vec<String> = heads.iter().map(|(t, _)| col(t)).collect();
            let seqs: Vec<i64> = heads.iter().map(|(_, s)| i64_of(*s)).collect();
            sqlx::query(
                "INSERT INTO sink_cursors (sink, tenant, seq, updated_at) \
                 SELECT $1, t, s, $4 FROM unnest($2::text[], $3::bigint[]) AS u(t, s)",
            )
            .bind(col(sink))
            .bind(tenants)
            .bind(seqs)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(added)
    }

    async fn sink_cursors(&self, sink: &str) -> StoreResult<Option<Vec<(String, u64)>>> {
        let known: Option<i32> = sqlx::query_scalar("SELECT 1 FROM sinks WHERE name = $1")
            .bind(col(sink))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        if known.is_none() {
            return Ok(None);
        }
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT tenant, seq FROM sink_cursors WHERE sink = $1 ORDER BY tenant")
                .bind(col(sink))
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
        now: i64,
        expires_at: i64,
    ) -> StoreResult<Option<String>> {
        // Compared and set with the database's clock, not this replica's: replicas whose
        // clocks disagree cannot both find the lease expired. The caller gives its length.
        let taken: Option<String> = sqlx::query_scalar(
            "UPDATE sinks SET holder = $2, \
             lease_expires = (extract(epoch from clock_timestamp()) * 1000000)::bigint + $3 \
             WHERE name = $1 AND (holder IS NULL OR holder = $2 OR lease_expires IS NULL \
             OR lease_expires <= (extract(epoch from clock_timestamp()) * 1000000)::bigint) \
             RETURNING holder",
        )
        .bind(col(sink))
        .bind(col(holder))
        .bind(expires_at.saturating_sub(now).max(0))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        if taken.is_some() {
            return Ok(taken);
        }
        let current: Option<Option<String>> =
            sqlx::query_scalar("SELECT holder FROM sinks WHERE name = $1")
                .bind(col(sink))
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        // Registered with nobody holding it cannot fail the update above; a row that vanished
        // in between reads as not registered.
        Ok(current.flatten())
    }

    async fn advance_sink_cursor(
        &self,
        sink: &str,
        tenant: &str,
        from: u64,
        to: u64,
        holder: &str,
        now: i64,
    ) -> StoreResult<bool> {
        // The lease is checked in the same statement: a replica whose lease another took over
        // cannot move the cursor, whatever it delivered meanwhile.
        let done = if from == 0 {
            // A chain without a cursor is at 0: the first advance creates it.
            sqlx::query(
                "INSERT INTO sink_cursors (sink, tenant, seq, updated_at) \
                 SELECT $1, $2, $4, $5 WHERE EXISTS \
                 (SELECT 1 FROM sinks WHERE name = $1 AND holder = $6) \
                 ON CONFLICT (sink, tenant) DO UPDATE SET seq = excluded.seq, \
                 updated_at = excluded.updated_at WHERE sink_cursors.seq = $3 \
                 AND EXISTS (SELECT 1 FROM sinks WHERE name = $1 AND holder = $6)",
            )
        } else {
            sqlx::query(
                "UPDATE sink_cursors SET seq = $4, updated_at = $5 \
                 WHERE sink = $1 AND tenant = $2 AND seq = $3 \
                 AND EXISTS (SELECT 1 FROM sinks WHERE name = $1 AND holder = $6)",
            )
        }
        .bind(col(sink))
        .bind(col(tenant))
        .bind(i64_of(from))
        .bind(i64_of(to))
        .bind(now)
        .bind(col(holder))
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(done == 1)
    }

    async fn delete_sink(&self, sink: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM sink_cursors WHERE sink = $1")
            .bind(col(sink))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let gone = sqlx::query("DELETE FROM sinks WHERE name = $1")
            .bind(col(sink))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        tx.commit().await.map_err(db_err)?;
        Ok(gone == 1)
    }

    async fn insert_notify_channel(&self, ch: &NotifyChannelRecord) -> StoreResult<()> {
        for (what, v) in [
            ("channel id", &ch.id),
            ("channel tenant", &ch.tenant),
            ("channel kind", &ch.kind),
            ("channel name", &ch.name),
            ("channel host", &ch.target_host),
            ("channel creator", &ch.created_by),
        ] {
            no_nul(what, v)?;
        }
        let events = serde_json::to_string(&ch.events)
            .map_err(|e| StoreError::Corrupt(format!("notify_channels.events: {e}")))?;
        sqlx::query(
            "INSERT INTO notify_channels (id, tenant, kind, name, events, target_sealed, target_host, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&ch.id)
        .bind(&ch.tenant)
        .bind(&ch.kind)
        .bind(&ch.name)
        .bind(col(&events))
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
        let row = sqlx::query("SELECT * FROM notify_channels WHERE id = $1")
            .bind(col(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(notify_channel_of).transpose()
    }

    async fn delete_notify_channel(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM notify_channels WHERE id = $1")
            .bind(col(id))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_session(&self, id_hash: &str, expires_at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO deleted_sessions (id_hash, expires_at) VALUES ($1, $2) ON CONFLICT (id_hash) DO NOTHING")
            .bind(col(id_hash))
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn deleted_sessions(&self, after: i64) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as("SELECT id_hash, expires_at FROM deleted_sessions WHERE expires_at > $1")
            .bind(after)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn touch_sessions(&self, activity: &[(String, i64)]) -> StoreResult<()> {
        if activity.is_empty() {
            return Ok(());
        }
        // One row per id (a later time wins), so the upsert touches each row once.
        let mut latest: BTreeMap<String, i64> = BTreeMap::new();
        for (id, at) in activity {
            let slot = latest.entry(col(id)).or_insert(*at);
            *slot = (*slot).max(*at);
        }
        let (ids, ats): (Vec<String>, Vec<i64>) = latest.into_iter().unzip();
        sqlx::query(
            "INSERT INTO session_activity (id_hash, last_active) SELECT * FROM unnest($1::text[], $2::bigint[]) \
             ON CONFLICT (id_hash) DO UPDATE SET last_active = GREATEST(session_activity.last_active, excluded.last_active)",
        )
        .bind(&ids)
        .bind(&ats)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn session_record(&self, id_hash: &str) -> StoreResult<SessionRecord> {
        let row = sqlx::query(
            "SELECT (SELECT last_active FROM session_activity WHERE id_hash = $1), \
                    (SELECT expires_at FROM deleted_sessions WHERE id_hash = $1)",
        )
        .bind(col(id_hash))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(SessionRecord {
            last_active: row.try_get(0).map_err(db_err)?,
            deleted_until: row.try_get(1).map_err(db_err)?,
        })
    }

    async fn prune_sessions(&self, now: i64, active_before: i64) -> StoreResult<u64> {
        let deleted = sqlx::query("DELETE FROM deleted_sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        let idle = sqlx::query("DELETE FROM session_activity WHERE last_active < $1")
            .bind(active_before)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected() + idle.rows_affected())
    }

    async fn grant(&self, key: &str, win: i64, limit: u64, want: u64) -> StoreResult<u64> {
        no_nul("budget key", key)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("INSERT INTO budget_grants (key, win, granted) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
            .bind(key)
            .bind(win)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let granted: i64 = sqlx::query_scalar(
            "SELECT granted FROM budget_grants WHERE key = $1 AND win = $2 FOR UPDATE",
        )
        .bind(key)
        .bind(win)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let n = grant_size(u64_of(granted), limit, want);
        if n > 0 {
            sqlx::query(
                "UPDATE budget_grants SET granted = granted + $3 WHERE key = $1 AND win = $2",
            )
            .bind(key)
            .bind(win)
            .bind(i64_of(n))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(n)
    }

    async fn give_back(&self, key: &str, win: i64, units: u64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE budget_grants SET granted = GREATEST(granted - $1, 0) WHERE key = $2 AND win = $3",
        )
        .bind(i64_of(units))
        .bind(col(key))
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
            "SELECT tenant, subject, tool, hour, calls FROM call_counts WHERE hour >= $1",
        )
        .bind(since_hour)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(rows::call_count_of).collect()
    }
}
