//! Listeners: the agent listener (TCP: MCP, health, optional bearer admin) and the admin Unix
//! socket (peer uid is the identity). Connections drain gracefully on shutdown.

use crate::admin::{self, ApiError, Caller};
use crate::gateway::Gateway;
use crate::http::{json_response, read_body, Body, BodyError};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use intentgate_proto::api::{ErrorCode, Health};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{watch, Notify};

/// Largest admin request body.
const ADMIN_BODY_LIMIT: usize = 1024 * 1024;
/// Failed bearer attempts allowed per remote address per window.
const BEARER_FAILURES_ALLOWED: u32 = 10;
const BEARER_FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Counts live connections so shutdown can wait for them.
#[derive(Debug, Default)]
pub struct ConnTracker {
    live: AtomicUsize,
    idle: Notify,
}

impl ConnTracker {
    fn enter(self: &Arc<Self>) -> ConnGuard {
        self.live.fetch_add(1, Ordering::AcqRel);
        ConnGuard(self.clone())
    }

    /// Wait until every connection closed, at most `limit`.
    pub async fn drained(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.live.load(Ordering::Acquire) > 0 {
            if tokio::time::timeout_at(deadline, self.idle.notified())
                .await
                .is_err()
            {
                tracing::warn!(
                    connections = self.live.load(Ordering::Acquire),
                    "shutdown drain timed out"
                );
                return;
            }
        }
    }
}

struct ConnGuard(Arc<ConnTracker>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Bind the admin socket: refuse if another igd answers on it, replace a stale file, mode 0660.
pub fn bind_admin_socket(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("{} is in use by a running igd", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

fn health(gw: &Gateway) -> Response<Body> {
    let ready = gw.is_ready() && gw.audit.store_ok();
    json_response(
        if ready { 200 } else { 503 },
        &Health {
            ok: ready,
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
    )
}

/// Serve the admin socket until `shutdown` flips.
pub async fn serve_admin_socket(
    gw: Arc<Gateway>,
    listener: UnixListener,
    mut shutdown: watch::Receiver<bool>,
    tracker: Arc<ConnTracker>,
) {
    let own_uid = current_uid();
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "admin socket accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let uid = match stream.peer_cred() {
            Ok(cred) => cred.uid(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read admin socket peer credentials; closing");
                continue;
            }
        };
        let caller = if uid == own_uid || uid == 0 || gw.settings.admin_uids.contains(&uid) {
            Caller::AdminUid(uid)
        } else {
            Caller::OtherUid(uid)
        };
        let gw = gw.clone();
        let guard = tracker.enter();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let svc = service_fn(move |req: Request<Incoming>| {
                let gw = gw.clone();
                let caller = caller.clone();
                async move { Ok::<_, Infallible>(admin_request(&gw, &caller, req).await) }
            });
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

fn current_uid() -> u32 {
    // std exposes no safe geteuid; the owner of /proc/self is the effective uid.
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

async fn admin_request(gw: &Gateway, caller: &Caller, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    if parts.uri.path() == "/healthz" {
        return health(gw);
    }
    let body = match read_body(body, ADMIN_BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    admin::handle(
        gw,
        caller,
        &parts.method,
        parts.uri.path(),
        parts.uri.query(),
        body,
    )
    .await
}

fn body_error(e: BodyError) -> Response<Body> {
    let mut resp = admin::error_response(&ApiError::new(ErrorCode::InvalidRequest, e.to_string()));
    if matches!(e, BodyError::TooLarge(_)) {
        *resp.status_mut() = hyper::StatusCode::PAYLOAD_TOO_LARGE;
    }
    resp
}

/// Failed bearer attempts per remote address.
#[derive(Debug, Default)]
pub struct BearerThrottle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl BearerThrottle {
    fn blocked(&self, ip: IpAddr) -> bool {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&ip).is_some_and(|(n, since)| {
            *n >= BEARER_FAILURES_ALLOWED && since.elapsed() < BEARER_FAILURE_WINDOW
        })
    }

    fn fail(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| since.elapsed() < BEARER_FAILURE_WINDOW);
        }
        let slot = map.entry(ip).or_insert((0, Instant::now()));
        if slot.1.elapsed() >= BEARER_FAILURE_WINDOW {
            *slot = (0, Instant::now());
        }
        slot.0 += 1;
    }
}

fn ct_eq(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Resolve a compatibility bearer to a caller (constant-time comparisons, all candidates tried).
fn bearer_caller(gw: &Gateway, presented: &str) -> Option<Caller> {
    let mut found = None;
    if let Some(t) = &gw.settings.admin_token {
        if ct_eq(t.expose(), presented) {
            found = Some(Caller::AdminToken);
        }
    }
    for (tenant, t) in &gw.settings.tenant_admins {
        if ct_eq(t.expose(), presented) && found.is_none() {
            found = Some(Caller::TenantAdmin(tenant.clone()));
        }
    }
    found
}

/// Serve the agent listener until `shutdown` flips.
pub async fn serve_agent(
    gw: Arc<Gateway>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    tracker: Arc<ConnTracker>,
) {
    let throttle = Arc::new(BearerThrottle::default());
    loop {
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "agent accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let gw = gw.clone();
        let throttle = throttle.clone();
        let guard = tracker.enter();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let svc = service_fn(move |req: Request<Incoming>| {
                let gw = gw.clone();
                let throttle = throttle.clone();
                async move { Ok::<_, Infallible>(agent_request(gw, &throttle, req, remote).await) }
            });
            let conn = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

async fn agent_request(
    gw: Arc<Gateway>,
    throttle: &BearerThrottle,
    req: Request<Incoming>,
    remote: SocketAddr,
) -> Response<Body> {
    let path = req.uri().path();
    if path == "/healthz" {
        return health(&gw);
    }
    if path == "/v1/mcp" {
        return crate::mcp::handle(gw, req, remote).await;
    }
    if path.starts_with("/v1/admin/")
        && (gw.settings.admin_token.is_some() || !gw.settings.tenant_admins.is_empty())
    {
        // Behind trusted proxies every client arrives from the proxy's address: throttle the
        // client the proxy names, as the agent path does, not the proxy.
        let client =
            crate::http::client_ip(&gw.settings.trusted_proxies, req.headers(), remote.ip());
        if throttle.blocked(client) {
            return admin::error_response(&ApiError::new(
                ErrorCode::RateLimited,
                "too many failed admin authentications from this address; wait a minute",
            ));
        }
        let presented = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(caller) = presented.and_then(|p| bearer_caller(&gw, p)) else {
            throttle.fail(client);
            tracing::warn!(remote = %client, "admin bearer refused");
            let mut resp = admin::error_response(&ApiError::new(
                ErrorCode::Unauthenticated,
                "missing or wrong admin bearer token",
            ));
            resp.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Bearer realm=\"intentgate-admin\""),
            );
            return resp;
        };
        return admin_request(&gw, &caller, req).await;
    }
    admin::error_response(&ApiError::new(
        ErrorCode::NotFound,
        format!("no endpoint {}", req.uri().path()),
    ))
}
