//! Listeners: the agent listener (TCP, TLS when configured: MCP, health, optional bearer admin)
//! and the admin Unix socket (peer uid is the identity). Both are bounded by
//! [`crate::connections`]: connection caps at accept, time-outs on every connection, a deadline
//! on every request body. Connections drain gracefully on shutdown.

use crate::admin::identity::{self, Peer};
use crate::admin::{self, ApiError, Caller};
use crate::connections::{Activity, ConnLimiter, Expiry, Timeouts, Watched};
use crate::gateway::Gateway;
use crate::http::{json_response, read_body, Body, BodyError, Holding, RequestBody};
use crate::tls::{AdminTls, AgentTls};
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
use tokio::io::{AsyncRead, AsyncWrite};
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
    let timeouts = Timeouts::from_settings(&gw.settings);
    // Its own cap: a flood on the agent listener never locks operators out.
    let limiter = ConnLimiter::new(gw.settings.max_connections, usize::MAX, Vec::new());
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
        let Ok(permit) = limiter.admit(None) else {
            continue;
        };
        let uid = match stream.peer_cred() {
            Ok(cred) => cred.uid(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read admin socket peer credentials; closing");
                continue;
            }
        };
        let peer = Peer::Uid(uid);
        let gw = gw.clone();
        let guard = tracker.enter();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let _permit = permit;
            let activity = Activity::new();
            let stream = Watched::new(stream, activity.clone());
            let svc = watched_service(&activity, timeouts.body, move |req| {
                let gw = gw.clone();
                let peer = peer.clone();
                async move { admin_request(&gw, &peer, req).await }
            });
            drive(stream, svc, &activity, &timeouts, shutdown).await;
        });
    }
}

/// Serve the mTLS admin listener (`INTENTGATE_ADMIN_LISTEN`) until `shutdown` flips. The
/// handshake requires a client certificate that chains to the admin client CA; its subject
/// (RFC 4514 text, [`crate::tls::certificate_subject`]) is the peer of every request on the
/// connection, resolved to an operator account per request. Bounded like the admin socket (its
/// own connection cap, per address too), with the agent listener's time-outs; drains on
/// shutdown. No plain-TCP fallback: a connection that does not complete the handshake is closed.
pub async fn serve_admin_tls(
    gw: Arc<Gateway>,
    listener: TcpListener,
    tls: Arc<AdminTls>,
    mut shutdown: watch::Receiver<bool>,
    tracker: Arc<ConnTracker>,
) {
    let timeouts = Timeouts::from_settings(&gw.settings);
    // Its own cap: a flood on the agent listener never locks operators out.
    let limiter = ConnLimiter::new(
        gw.settings.max_connections,
        gw.settings.max_connections_per_address,
        Vec::new(),
    );
    loop {
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "admin listener accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Ok(permit) = limiter.admit(Some(remote.ip())) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let gw = gw.clone();
        let guard = tracker.enter();
        let shutdown = shutdown.clone();
        let acceptor = tls.acceptor();
        tokio::spawn(async move {
            let _guard = guard;
            let _permit = permit;
            let activity = Activity::new();
            let stream = Watched::new(stream, activity.clone());
            let Some(tls_stream) =
                handshake(&acceptor, stream, &activity, &timeouts, remote, "admin").await
            else {
                return;
            };
            // The verifier required a certificate; without one (or one that does not parse)
            // there is nobody to serve.
            let subject = tls_stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|leaf| crate::tls::certificate_subject(leaf));
            let Some(subject) = subject else {
                tracing::warn!(remote = %remote.ip(), "admin client certificate has no readable subject; closing");
                return;
            };
            tracing::debug!(remote = %remote.ip(), %subject, "admin client certificate accepted");
            let peer = Peer::Certificate(subject);
            let svc = watched_service(&activity, timeouts.body, move |req| {
                let gw = gw.clone();
                let peer = peer.clone();
                async move { admin_request(&gw, &peer, req).await }
            });
            drive(tls_stream, svc, &activity, &timeouts, shutdown).await;
        });
    }
}

/// The TLS handshake of a new connection on `listener` (`agent` or `admin`). It is part of the
/// request head: it gets the header time-out, counted from accept. `None`: refused or timed
/// out (logged), and the connection is dropped.
async fn handshake<S>(
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: S,
    activity: &Arc<Activity>,
    timeouts: &Timeouts,
    remote: SocketAddr,
    listener: &str,
) -> Option<tokio_rustls::server::TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    tokio::select! {
        r = acceptor.accept(stream) => match r {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::info!(remote = %remote.ip(), %listener, error = %e, "TLS handshake refused");
                None
            }
        },
        _ = activity.expired(timeouts) => {
            tracing::debug!(remote = %remote.ip(), %listener, "TLS handshake timed out");
            None
        }
    }
}

/// One connection's service: each request counts as in flight on `activity` until its response
/// body ends (the idle time-out and the drain wait for it), and its body is read under the body
/// deadline.
fn watched_service<F, Fut>(
    activity: &Arc<Activity>,
    body_timeout: std::time::Duration,
    handle: F,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<Response<Body>, Infallible>> + Send + 'static,
>
where
    F: Fn(Request<RequestBody>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Response<Body>> + Send + 'static,
{
    let activity = activity.clone();
    service_fn(move |req: Request<Incoming>| {
        let in_flight = activity.request_started();
        let resp = handle(req.map(|b| RequestBody::new(b, body_timeout)));
        async move { Ok::<_, Infallible>(Holding::attach(resp.await, in_flight)) }
    })
}

/// Serve HTTP/1.1 on one connection until it ends, a time-out expires, or shutdown drains it.
async fn drive<I, S>(
    io: I,
    svc: S,
    activity: &Activity,
    timeouts: &Timeouts,
    mut shutdown: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let mut draining = false;
    let mut closing: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            why = activity.expired(timeouts), if closing.is_none() => match why {
                Expiry::Idle => {
                    conn.as_mut().graceful_shutdown();
                    closing = Some(tokio::time::Instant::now() + timeouts.header);
                }
                Expiry::Header | Expiry::WriteStalled => {
                    tracing::debug!(reason = ?why, "connection closed: time-out");
                    return;
                }
            },
            _ = tokio::time::sleep_until(closing.unwrap_or_else(tokio::time::Instant::now)), if closing.is_some() => return,
            _ = shutdown.changed(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Serve one admin request from `peer`: who it is is resolved for each request, so a removed
/// account or an elevation that ran out counts from the next request of an open connection.
async fn admin_request(gw: &Gateway, peer: &Peer, req: Request<RequestBody>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    if parts.uri.path() == "/healthz" {
        return health(gw);
    }
    let caller = match identity::resolve(gw, peer).await {
        Ok(c) => c,
        Err(e) => return admin::error_response(&e),
    };
    admin_request_as(gw, caller, Request::from_parts(parts, body)).await
}

/// Serve one admin request from a resolved caller.
async fn admin_request_as(
    gw: &Gateway,
    caller: Caller,
    req: Request<RequestBody>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let totp = parts
        .headers
        .get(intentgate_proto::api::TOTP_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string());
    let caller = caller.with_totp(totp);
    let body = match read_body(body, ADMIN_BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    admin::handle(
        gw,
        &caller,
        &parts.method,
        parts.uri.path(),
        parts.uri.query(),
        body,
    )
    .await
}

fn body_error(e: BodyError) -> Response<Body> {
    let mut resp = admin::error_response(&ApiError::new(ErrorCode::InvalidRequest, e.to_string()));
    match e {
        BodyError::TooLarge(_) => *resp.status_mut() = hyper::StatusCode::PAYLOAD_TOO_LARGE,
        BodyError::TimedOut(_) => *resp.status_mut() = hyper::StatusCode::REQUEST_TIMEOUT,
        BodyError::Read(_) => {}
    }
    resp
}

/// Addresses whose failed bearer attempts are remembered at once. Beyond it, a sweep of expired
/// ones runs at most once per window; if the table is still full, unknown addresses are refused
/// (a spray from many addresses must neither grow memory nor cost an O(n) sweep per attempt).
const BEARER_THROTTLE_MAX_ADDRESSES: usize = 10_000;

/// Failed bearer attempts per remote address (IPv6 by /64, as one host can own the prefix).
#[derive(Debug, Default)]
pub struct BearerThrottle {
    inner: Mutex<ThrottleTable>,
}

#[derive(Debug, Default)]
struct ThrottleTable {
    failures: HashMap<IpAddr, (u32, Instant)>,
    last_sweep: Option<Instant>,
}

fn throttle_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(bits))
            }
        },
    }
}

impl BearerThrottle {
    fn blocked(&self, ip: IpAddr) -> bool {
        let ip = throttle_key(ip);
        let table = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match table.failures.get(&ip) {
            Some((n, since)) => {
                *n >= BEARER_FAILURES_ALLOWED && since.elapsed() < BEARER_FAILURE_WINDOW
            }
            None => table.failures.len() >= BEARER_THROTTLE_MAX_ADDRESSES,
        }
    }

    fn fail(&self, ip: IpAddr) {
        let ip = throttle_key(ip);
        let mut table = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if table.failures.len() >= BEARER_THROTTLE_MAX_ADDRESSES
            && !table.failures.contains_key(&ip)
        {
            let due = table
                .last_sweep
                .is_none_or(|t| t.elapsed() >= BEARER_FAILURE_WINDOW);
            if due {
                table
                    .failures
                    .retain(|_, (_, since)| since.elapsed() < BEARER_FAILURE_WINDOW);
                table.last_sweep = Some(Instant::now());
            }
            if table.failures.len() >= BEARER_THROTTLE_MAX_ADDRESSES {
                return;
            }
        }
        let slot = table.failures.entry(ip).or_insert((0, Instant::now()));
        if slot.1.elapsed() >= BEARER_FAILURE_WINDOW {
            *slot = (0, Instant::now());
        }
        slot.0 += 1;
    }
}

/// Serve the agent listener until `shutdown` flips.
pub async fn serve_agent(
    gw: Arc<Gateway>,
    listener: TcpListener,
    tls: Option<Arc<AgentTls>>,
    mut shutdown: watch::Receiver<bool>,
    tracker: Arc<ConnTracker>,
) {
    let throttle = Arc::new(BearerThrottle::default());
    let timeouts = Timeouts::from_settings(&gw.settings);
    let limiter = ConnLimiter::new(
        gw.settings.max_connections,
        gw.settings.max_connections_per_address,
        gw.settings.trusted_proxies.clone(),
    );
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
        // Over a cap the connection is closed at once (dropped), before any TLS work.
        let Ok(permit) = limiter.admit(Some(remote.ip())) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let gw = gw.clone();
        let throttle = throttle.clone();
        let guard = tracker.enter();
        let shutdown = shutdown.clone();
        let acceptor = tls.as_ref().map(|t| t.acceptor());
        tokio::spawn(async move {
            let _guard = guard;
            let _permit = permit;
            let activity = Activity::new();
            let stream = Watched::new(stream, activity.clone());
            let svc = watched_service(&activity, timeouts.body, move |req| {
                let gw = gw.clone();
                let throttle = throttle.clone();
                async move { agent_request(gw, &throttle, req, remote).await }
            });
            let Some(acceptor) = acceptor else {
                drive(stream, svc, &activity, &timeouts, shutdown).await;
                return;
            };
            let Some(tls_stream) =
                handshake(&acceptor, stream, &activity, &timeouts, remote, "agent").await
            else {
                return;
            };
            drive(tls_stream, svc, &activity, &timeouts, shutdown).await;
        });
    }
}

/// Whether the agent listener serves `/v1/admin/` to a bearer: with a break-glass token
/// configured (refused at start on a non-loopback listener without TLS), or for operator API
/// tokens when the listener has TLS or listens on loopback only. Never on a non-loopback
/// plain-HTTP listener: a bearer would cross the network in clear text.
fn bearer_admin_served(settings: &crate::config::Settings) -> bool {
    settings.admin_token.is_some()
        || !settings.tenant_admins.is_empty()
        || settings.tls_cert.is_some()
        || settings.listen.ip().is_loopback()
}

async fn agent_request(
    gw: Arc<Gateway>,
    throttle: &BearerThrottle,
    req: Request<RequestBody>,
    remote: SocketAddr,
) -> Response<Body> {
    let path = req.uri().path();
    if path == "/healthz" {
        return health(&gw);
    }
    if path == "/v1/mcp" {
        return crate::mcp::handle(gw, req, remote).await;
    }
    if path.starts_with("/v1/admin/") && bearer_admin_served(&gw.settings) {
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
        let resolved = match presented {
            Some(p) => identity::resolve(&gw, &Peer::Bearer(p.to_string())).await,
            None => Err(ApiError::new(ErrorCode::Unauthenticated, "no bearer")),
        };
        let caller = match resolved {
            Ok(caller) => caller,
            // The store could not be asked: say so, and do not count it against the client.
            Err(e) if e.code == ErrorCode::Unavailable => return admin::error_response(&e),
            Err(_) => {
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
            }
        };
        return admin_request_as(&gw, caller, req).await;
    }
    admin::error_response(&ApiError::new(
        ErrorCode::NotFound,
        format!("no endpoint {}", req.uri().path()),
    ))
}

#[cfg(test)]
mod bearer_admin_tests {
    use super::bearer_admin_served;
    use crate::config::Settings;
    use std::collections::BTreeMap;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let env: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load(None, &env).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn operator_tokens_are_never_taken_in_clear_text_off_loopback() {
        assert!(bearer_admin_served(&settings(&[])));
        assert!(bearer_admin_served(&settings(&[(
            "INTENTGATE_LISTEN",
            "[::1]:8080"
        )])));
        assert!(!bearer_admin_served(&settings(&[(
            "INTENTGATE_LISTEN",
            "0.0.0.0:8080"
        )])));
        assert!(!bearer_admin_served(&settings(&[(
            "INTENTGATE_LISTEN",
            "192.0.2.7:8080"
        )])));
        assert!(bearer_admin_served(&settings(&[
            ("INTENTGATE_LISTEN", "0.0.0.0:8443"),
            ("INTENTGATE_TLS_CERT", "/c.pem"),
            ("INTENTGATE_TLS_KEY", "/k.pem"),
        ])));
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn a_spray_from_many_addresses_stays_bounded_and_fails_closed() {
        let t = BearerThrottle::default();
        for i in 0..(BEARER_THROTTLE_MAX_ADDRESSES as u32 + 500) {
            t.fail(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)));
        }
        let held = t
            .inner
            .lock()
            .map(|m| m.failures.len())
            .unwrap_or(usize::MAX);
        assert_eq!(held, BEARER_THROTTLE_MAX_ADDRESSES);
        assert!(
            t.blocked("192.0.2.1".parse().unwrap_or(IpAddr::V4(0.into()))),
            "a new address is refused while the table is full"
        );
    }

    #[test]
    fn ipv6_addresses_of_one_64_share_a_slot() {
        let t = BearerThrottle::default();
        for i in 0..u16::try_from(BEARER_FAILURES_ALLOWED).unwrap_or(10) {
            t.fail(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, i)));
        }
        assert!(t.blocked(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9))));
        assert!(!t.blocked(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1))));
    }
}
