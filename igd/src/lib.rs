//! igd, the IntentGate daemon. All logic lives in this library; `main.rs` only parses the command
//! line and calls [`run`]. Tests call the same function.
//!
//! Code map: [`config`] settings · [`secrets`] keys · [`store`] persistence · [`audit`] the chain
//! writer · [`gateway`] shared state · [`admin`] admin API · [`mcp`] agent traffic ·
//! [`server`] listeners · [`tls`] the agent listener's certificate · [`connections`] caps and
//! time-outs on every connection.

pub mod admin;
pub mod approvals;
pub mod audit;
pub mod budget;
pub mod checkpoints;
pub mod clock;
pub mod config;
pub mod connections;
pub mod dryrun;
pub mod gateway;
pub mod http;
pub mod intent;
pub mod jsonrpc;
pub mod mcp;
pub mod metrics;
pub mod ops_settings;
pub mod pipeline;
pub mod policies;
pub mod policy;
pub mod relay;
pub mod revocations;
pub mod secrets;
pub mod server;
pub mod server_requests;
pub mod sessions;
pub mod sinks;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod totp;
pub mod unauth;
pub mod upstream;

use crate::config::{ConfigError, Settings};
use crate::gateway::Gateway;
use crate::server::ConnTracker;
use crate::store::sqlite::SqliteStore;
use crate::store::DynStore;
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

/// Why igd stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("storage: {0}")]
    Store(#[from] store::StoreError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl RunError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Config(_) => config::EXIT_CONFIG,
            _ => 1,
        }
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

/// Validate settings and key material without starting anything (`igd check-config`).
pub fn check_config(settings: &Settings) -> Result<(), RunError> {
    if settings.master_key.is_some() || settings.postgres_url.is_some() {
        secrets::load_keys(settings)?;
    }
    // With PostgreSQL the audit signing key must be given (replicas sign with one key); on the
    // embedded default a missing one is generated at start, so nothing to check here.
    if settings.postgres_url.is_some() {
        checkpoints::load_key(
            settings,
            std::env::var_os("CREDENTIALS_DIRECTORY").map(Into::into),
        )?;
    }
    load_policy(settings)?;
    intent::Extractor::from_settings(settings)?;
    upstream::Upstream::from_settings(settings).map_err(|m| ConfigError::new("upstream_url", m))?;
    tls::AgentTls::from_settings(settings)?;
    tls::AdminTls::from_settings(settings)?;
    Ok(())
}

/// The store: PostgreSQL when `INTENTGATE_POSTGRES_URL` is set, else `igd.db` in the data dir.
async fn open_store(settings: &Settings) -> Result<DynStore, RunError> {
    if let Some(url) = &settings.postgres_url {
        let pg = store::postgres::PgSettings {
            pool_size: settings.postgres_pool_size,
            statement_timeout_ms: settings.postgres_statement_timeout_ms,
            durable: settings.audit_sync == config::AuditSync::Full,
        };
        let store = store::postgres::PostgresStore::connect(url.expose(), pg).await?;
        return Ok(Arc::new(store));
    }
    let db_path = settings.data_dir.join("igd.db");
    private_db_files(&db_path).map_err(io_err(format!(
        "cannot make {} private (0600)",
        db_path.display()
    )))?;
    Ok(Arc::new(
        SqliteStore::open(&db_path, settings.audit_sync).await?,
    ))
}

/// The policy igd starts with: `INTENTGATE_POLICY_FILE`, else the embedded deny-all.
pub fn load_policy(settings: &Settings) -> Result<policy::PolicySnapshot, ConfigError> {
    let timeout = Duration::from_millis(settings.policy_timeout_ms);
    match &settings.policy_file {
        Some(path) => {
            let snap = policy::PolicySnapshot::load_path(path, timeout)
                .map_err(|m| ConfigError::new("policy_file", m))?;
            tracing::info!(path = %path.display(), revision = %snap.revision, "policy loaded");
            Ok(snap)
        }
        None => {
            tracing::warn!(
                "no INTENTGATE_POLICY_FILE: the embedded default policy denies every tools/call"
            );
            Ok(policy::PolicySnapshot::embedded(timeout))
        }
    }
}

/// Reload the policy file (SIGHUP). A policy that fails to load leaves the current one in force;
/// one that loads takes effect unless the policy store's active pointer decides.
pub fn reload_policy(gw: &Gateway) {
    match load_policy(&gw.settings) {
        Ok(snap) => {
            tracing::info!(revision = %snap.revision, "policy file reloaded");
            gw.policies
                .replace_below(snap, gw.settings.policy_file.is_some(), &gw.policy);
        }
        Err(e) => tracing::error!(error = %e, "policy reload failed; keeping the current policy"),
    }
}

/// Create the data dir (and missing parents) with mode 0700. An existing directory keeps the
/// mode its owner gave it; the secrets and the database inside are 0600 themselves.
fn create_data_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// The database holds every decision and token's metadata: 0600, and its WAL and shared-memory
/// files too. SQLite gives those the mode of the database file, so creating the (empty) file
/// with 0600 before SQLite opens it is enough for a new store; an existing one is tightened.
fn private_db_files(db: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(db)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = std::path::PathBuf::from(name);
        match std::fs::metadata(&path) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Everything loaded before anything listens: settings checked into parts (policy, upstream,
/// TLS, keys, store, budgets, signer) and the gateway with its running audit writer.
struct Opened {
    gw: Arc<Gateway>,
    store: DynStore,
    audit_task: tokio::task::JoinHandle<()>,
    agent_tls: Option<Arc<tls::AgentTls>>,
    admin_tls: Option<Arc<tls::AdminTls>>,
}

async fn open_gateway(settings: &Settings) -> Result<Opened, RunError> {
    // Everything check_config validates is loaded below, once, before anything listens.
    let policy = load_policy(settings)?;
    let intent = intent::Extractor::from_settings(settings)?;
    intent.log_at_start();
    let upstream = upstream::Upstream::from_settings(settings)
        .map_err(|m| ConfigError::new("upstream_url", m))?;
    let agent_tls = tls::AgentTls::from_settings(settings)?.map(Arc::new);
    let admin_tls = tls::AdminTls::from_settings(settings)?.map(Arc::new);
    create_data_dir(&settings.data_dir).map_err(io_err(format!(
        "cannot create data dir {}",
        settings.data_dir.display()
    )))?;
    let keys = secrets::load_keys(settings)?;
    let instance =
        secrets::instance_id(&settings.data_dir).map_err(io_err("cannot keep instance.id"))?;
    // The signing key before the store: a missing one is a configuration error (exit 64) even
    // when the database cannot be reached.
    let (signing_key, state_path) = checkpoints::load_key(
        settings,
        std::env::var_os("CREDENTIALS_DIRECTORY").map(Into::into),
    )?;
    let store = open_store(settings).await?;
    let deployment_id = match &settings.deployment_id {
        Some(id) => id.clone(),
        None => {
            store
                .init_meta("deployment_id", &intentgate_proto::ids::new_id()[..16])
                .await?
        }
    };
    upstream.warn_at_start();
    let budgets = budget::Budgets::load(&store, settings).await?;
    let existing: Vec<String> = store
        .chain_heads()
        .await?
        .into_iter()
        .map(|h| h.tenant)
        .collect();
    let signer = Arc::new(checkpoints::Signer::new(
        signing_key,
        &deployment_id,
        state_path,
        existing,
    )?);
    if store.shared() {
        signer.share_through(store.clone());
    }
    let (audit, audit_task) = audit::AuditWriter::start(store.clone(), &instance).await?;
    // The audit fan-out (DESIGN §8): started once igd is ready, never on the decision path.
    let sink_client = sinks::http::HttpClient::new().map_err(|m| RunError::Io {
        what: "the audit sinks' HTTP client".into(),
        source: std::io::Error::other(m),
    })?;
    let outbox = Arc::new(sinks::outbox::Outbox::new(
        store.clone(),
        &instance,
        audit.commits(),
        sink_client.clone(),
        sinks::configured(settings, &sink_client),
    ));
    let gw = Arc::new(Gateway::new(gateway::Parts {
        settings: settings.clone(),
        keys,
        store: store.clone(),
        audit,
        instance,
        deployment_id,
        policy,
        budgets,
        upstream,
        signer,
        intent,
        outbox,
    }));
    Ok(Opened {
        gw,
        store,
        audit_task,
        agent_tls,
        admin_tls,
    })
}

/// Run igd until `shutdown` resolves, then drain and return.
pub async fn run(settings: Settings, shutdown: impl Future<Output = ()>) -> Result<(), RunError> {
    if settings.ops.metrics_enabled {
        metrics::enable();
    }
    // Everything check_config validates is loaded, once, before anything listens.
    let Opened {
        gw,
        store,
        audit_task,
        agent_tls,
        admin_tls,
    } = open_gateway(&settings).await?;

    let agent_listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(io_err(format!("cannot listen on {}", settings.listen)))?;
    let agent_addr = agent_listener
        .local_addr()
        .map_err(io_err("listener address"))?;
    let admin_listener =
        server::bind_admin_socket(&settings.admin_socket).map_err(io_err(format!(
            "cannot bind admin socket {}",
            settings.admin_socket.display()
        )))?;
    // The mTLS admin listener, when configured (never plain TCP).
    let admin_tcp = match (settings.admin_listen, &admin_tls) {
        (Some(addr), Some(_)) => Some(tokio::net::TcpListener::bind(addr).await.map_err(
            io_err(format!("cannot listen on {addr} (INTENTGATE_ADMIN_LISTEN)")),
        )?),
        _ => None,
    };
    let admin_tcp_addr = admin_tcp.as_ref().and_then(|l| l.local_addr().ok());
    // Bound before anything is served: an address in use stops igd at start.
    let metrics_listener = if settings.ops.metrics_enabled {
        let addr = settings.ops.metrics_listen;
        Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(io_err(format!(
                    "cannot listen on {addr} (INTENTGATE_METRICS_LISTEN)"
                )))?,
        )
    } else {
        None
    };

    gw.revocations.load(&gw.store).await?;
    // The store's active policy (if any) decides before the first call is served.
    gw.policies.sync(&gw.store, &gw.policy).await?;
    // Deleted session ids first: no request may use one before they are known.
    gw.sessions.maintain(&gw.store, false).await?;
    if let Err(e) = gw.signer.announce(&gw.store, &gw.audit).await {
        tracing::error!(error = %e, "cannot chain the audit signing key announcement");
    }
    // Notification channels join the fan-out before any call is served (a failed read is
    // retried by their follow task).
    if let Err(e) = sinks::notify::reconcile(&gw).await {
        tracing::error!(error = %e, "cannot read the notification channels; retrying");
    }
    // A sink seen for the first time starts at the chain heads: taken before any call is served.
    gw.outbox.register().await;
    // The reload handler is installed before igd says it is ready: systemd may send the first
    // `ExecReload=` SIGHUP at once, and one that came before a lazily installed handler would
    // terminate igd (the signal's default action) without its drain.
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    if let Err(e) = &hangup {
        tracing::error!(error = %e, "cannot install the SIGHUP handler: a reload would stop igd");
    }
    gw.set_ready(true);
    if settings.admin_token.is_some() && !settings.admin_token_step_up {
        tracing::warn!("INTENTGATE_ADMIN_TOKEN_STEP_UP=off: the admin bearer bypasses step-up (labs and CI only)");
    }
    tracing::info!(
        agent = %agent_addr,
        tls = agent_tls.is_some(),
        admin_socket = %settings.admin_socket.display(),
        admin_listen = %admin_tcp_addr.map(|a| a.to_string()).unwrap_or_else(|| "off".into()),
        data_dir = %settings.data_dir.display(),
        deployment_id = %gw.deployment_id,
        version = env!("CARGO_PKG_VERSION"),
        "igd ready"
    );
    notify_systemd("READY=1");
    gw.outbox.start();

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let tracker = Arc::new(ConnTracker::default());
    let agent_task = tokio::spawn(server::serve_agent(
        gw.clone(),
        agent_listener,
        agent_tls.clone(),
        stop_rx.clone(),
        tracker.clone(),
    ));
    let admin_task = tokio::spawn(server::serve_admin_socket(
        gw.clone(),
        admin_listener,
        stop_rx.clone(),
        tracker.clone(),
    ));
    let admin_tls_task = match (admin_tcp, &admin_tls) {
        (Some(listener), Some(tls)) => Some(tokio::spawn(server::serve_admin_tls(
            gw.clone(),
            listener,
            tls.clone(),
            stop_rx.clone(),
            tracker.clone(),
        ))),
        _ => None,
    };
    let maintenance = tokio::spawn(maintenance_loop(gw.clone(), stop_rx.clone()));
    let ticker = tokio::spawn(second_ticker(gw.clone(), stop_rx.clone()));
    let reloader = tokio::spawn(sighup_loop(
        hangup.ok(),
        gw.clone(),
        agent_tls,
        admin_tls,
        stop_rx.clone(),
    ));
    let session_upkeep = tokio::spawn(session_loop(gw.clone(), stop_rx.clone()));
    let resync = tokio::spawn(replica_resync_loop(gw.clone(), stop_rx.clone()));
    let policy_sync = tokio::spawn(policy_sync_loop(gw.clone(), stop_rx.clone()));
    let notify_channels = tokio::spawn(sinks::notify::follow(gw.clone(), stop_rx.clone()));
    let metrics_task = metrics_listener.map(|listener| {
        // Weak: a scrape still answering at shutdown never keeps the audit writer alive.
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(listen = %addr, "metrics listener: GET /metrics");
        }
        let gw = Arc::downgrade(&gw);
        let totals = std::sync::Mutex::new(metrics::SinkTotals::default());
        let live = move || {
            gw.upgrade()
                .map(|gw| metrics_live(&gw, &totals))
                .unwrap_or_default()
        };
        tokio::spawn(metrics::serve(listener, live, stop_rx.clone()))
    });
    let approvals = gw.approvals.clone().map(|queue| {
        let stop = stop_rx.clone();
        tokio::spawn(async move { queue.run(stop).await })
    });

    shutdown.await;
    tracing::info!("shutting down: draining connections");
    notify_systemd("STOPPING=1");
    gw.set_ready(false);
    let _ = stop_tx.send(true);
    // The fan-out finishes the deliveries in flight (bounded) while connections drain.
    let outbox_stop = {
        let outbox = gw.outbox.clone();
        tokio::spawn(async move { outbox.shutdown(OUTBOX_DRAIN).await })
    };
    let _ = agent_task.await;
    let _ = admin_task.await;
    if let Some(task) = admin_tls_task {
        let _ = task.await;
    }
    let _ = maintenance.await;
    let _ = ticker.await;
    let _ = reloader.await;
    let _ = session_upkeep.await;
    let _ = resync.await;
    let _ = policy_sync.await;
    let _ = notify_channels.await;
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    if let Some(task) = approvals {
        let _ = task.await;
    }
    tracker.drained(Duration::from_secs(10)).await;
    let _ = std::fs::remove_file(&settings.admin_socket);
    // The last second's summary of unauthenticated refusals is chained, not dropped.
    gw.unauthenticated.flush().await;
    let _ = outbox_stop.await;
    let signer = gw.signer.clone();
    drop(gw);
    // The writer ends once every handle is gone, after committing what it holds.
    let _ = tokio::time::timeout(Duration::from_secs(5), audit_task).await;
    // Sign the final heads: a stopped daemon's chains are anchored to their last entry.
    signer.sign_heads(&store).await;
    tracing::info!("igd stopped");
    Ok(())
}

/// What `/metrics` reads at scrape time from the services that own it.
fn metrics_live(gw: &Gateway, totals: &std::sync::Mutex<metrics::SinkTotals>) -> metrics::Live {
    metrics::Live {
        ready: gw.is_ready() && gw.audit.store_ok(),
        pending_approvals: gw.approvals.as_ref().map(|q| q.pending_count() as u64),
        checkpoint_age_seconds: Some(gw.signer.checkpoint_age_seconds()),
        sinks: totals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .rows(&gw.outbox.status()),
    }
}

/// How long a stopping igd waits for the audit fan-out's deliveries in flight (one HTTP
/// delivery times out after 15 s).
const OUTBOX_DRAIN: Duration = Duration::from_secs(16);

/// Periodic housekeeping: prune revocations of expired tokens and resync in-memory sets.
async fn maintenance_loop(gw: Arc<Gateway>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        match gw.store.prune_revocations(clock::now_us()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "pruned revocations of expired tokens"),
            Err(e) => tracing::warn!(error = %e, "revocation prune failed"),
        }
        if let Err(e) = gw.revocations.load(&gw.store).await {
            tracing::warn!(error = %e, "revocation resync failed; keeping the in-memory sets");
        }
    }
}

/// How often a replica rereads revocations and stops from a shared store even without a
/// notification (one can be lost while the listening connection is down).
const REPLICA_RESYNC: Duration = Duration::from_millis(500);

/// With a store other replicas write (PostgreSQL): reload revocations and stops whenever one
/// announces a change, and every [`REPLICA_RESYNC`] regardless, so a revocation made on any
/// replica is enforced here within a second; merge the budget counters other replicas
/// committed. Nothing to do on the embedded store.
async fn replica_resync_loop(gw: Arc<Gateway>, mut stop: tokio::sync::watch::Receiver<bool>) {
    if !gw.store.shared() {
        return;
    }
    let mut feed = gw.store.change_feed();
    let mut tick = tokio::time::interval(REPLICA_RESYNC);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let changed = async {
            match feed.as_mut() {
                Some(f) => f.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tick.tick() => {}
            ok = changed => {
                if !ok {
                    feed = None;
                }
            }
            _ = stop.changed() => {
                // Units this replica will not spend go back for the others.
                gw.budgets.give_back_idle(true).await;
                return;
            }
        }
        if let Err(e) = gw.revocations.load(&gw.store).await {
            tracing::warn!(error = %e, "revocation resync failed; keeping the in-memory sets");
        }
        if let Err(e) = gw.budgets.refresh(&gw.store).await {
            tracing::warn!(error = %e, "budget counter resync failed; keeping this replica's view");
        }
        gw.budgets.give_back_idle(false).await;
    }
}

/// Follow the policy store's active pointer: another replica's change, a retry of a policy
/// that failed to load, a change whose local apply failed. A task of its own: preparing a large
/// policy takes time that the revocation resync and the checkpoint signer must not wait for.
async fn policy_sync_loop(gw: Arc<Gateway>, mut stop: tokio::sync::watch::Receiver<bool>) {
    if !gw.policies.store_enabled() {
        return;
    }
    let mut tick = tokio::time::interval(policies::SYNC_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // On PostgreSQL a change also NOTIFYs: follow it at once, the tick being the fallback.
    let mut feed = gw.store.change_feed();
    loop {
        let changed = async {
            match feed.as_mut() {
                Some(f) => f.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tick.tick() => {}
            ok = changed => {
                if !ok {
                    feed = None;
                }
            }
            _ = stop.changed() => return,
        }
        if let Err(e) = gw.policies.sync(&gw.store, &gw.policy).await {
            tracing::warn!(error = %e, "policy store check failed; keeping the policy in force");
        }
    }
}

/// Once a second: flush the unauthenticated-refusal summary, sign checkpoints of advanced
/// chains, and checkpoint the store's WAL.
async fn second_ticker(gw: Arc<Gateway>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                gw.unauthenticated.flush().await;
                gw.signer.sign_heads(&gw.store).await;
                if let Err(e) = admin::retention::enforce_unauthenticated_quota(&gw).await {
                    tracing::warn!(error = %e.message, "unauthenticated quota enforcement failed");
                }
                if let Err(e) = gw.store.maintain().await {
                    tracing::warn!(error = %e, "store maintenance failed");
                }

                probe_store(&gw).await;
            }
            _ = stop.changed() => return,
        }
    }
}

/// Keep `/healthz` honest about storage: while healthy, a cheap read each second (a failing
/// commit flips it too); after a failure, a tiny write each second until one succeeds.
async fn probe_store(gw: &Gateway) {
    if gw.audit.store_ok() {
        if let Err(e) = gw.store.meta("deployment_id").await {
            tracing::error!(error = %e, "store probe failed");
            gw.audit.set_store_ok(false);
        }
    } else if gw.store.probe_write().await.is_ok() {
        gw.audit.set_store_ok(true);
    }
}

/// Once a second: session activity to the store, deletions from other replicas, summaries of
/// counted session-rate refusals; once a minute, expired session state pruned. A last flush on
/// shutdown keeps the activity of a clean stop.
async fn session_loop(gw: Arc<Gateway>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut ticks: u64 = 0;
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        ticks += 1;
        let prune = ticks.is_multiple_of(60) && !stopping;
        if let Err(e) = gw.sessions.maintain(&gw.store, prune).await {
            tracing::warn!(error = %e, "session upkeep failed");
        }
        let now = clock::now_us() as f64 / 1e6;
        for s in gw.sessions.take_refusal_summaries(now) {
            mcp::record_rate_summary(&gw, &s).await;
        }
        if stopping {
            return;
        }
    }
}

/// SIGHUP reloads the policy file, the intent rules file, the agent listener's TLS
/// certificate and key, and the admin listener's certificate, key and client CA.
async fn sighup_loop(
    hup: Option<tokio::signal::unix::Signal>,
    gw: Arc<Gateway>,
    agent_tls: Option<Arc<tls::AgentTls>>,
    admin_tls: Option<Arc<tls::AdminTls>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Some(mut hup) = hup else {
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => {
                reload_policy(&gw);
                gw.intent.reload();
                if let Some(t) = &agent_tls {
                    t.reload();
                }
                if let Some(t) = &admin_tls {
                    t.reload();
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Tell systemd about a state change when run with `Type=notify`.
fn notify_systemd(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sock = match std::os::unix::net::UnixDatagram::unbound() {
        Ok(s) => s,
        Err(_) => return,
    };
    // `@name` is a socket in the abstract namespace (systemd in containers, systemd-run).
    let sent = match path.as_encoded_bytes().strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name)
                .and_then(|addr| sock.send_to_addr(state.as_bytes(), &addr))
        }
        None => sock.send_to(state.as_bytes(), &path),
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, "sd_notify failed");
    }
}
