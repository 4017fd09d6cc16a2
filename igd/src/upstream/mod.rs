//! The upstream MCP server (`INTENTGATE_UPSTREAM_URL`): igd speaks to it in whichever era it
//! supports. A 2025-era client session maps to its own upstream session; 2026-era requests use
//! the modern era directly when upstream has it, else a shared pooled upstream session.
//!
//! igd's own credentials (`INTENTGATE_UPSTREAM_HEADERS`) go upstream; the agent's token never does.

pub mod reply;
pub mod sse;
pub mod stub;

use crate::config::Settings;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use tracing::Instrument;

pub use reply::{check_response, UpstreamResponse};
pub use sse::{SseError, SseEvent, SseParser};

/// The version igd uses when it opens legacy sessions of its own.
pub const LEGACY_VERSION: &str = "2025-11-25";
/// The stateless era.
pub const MODERN_VERSION: &str = "2026-07-28";
/// The version a 2025-era client means when it names none (no `MCP-Protocol-Version` header,
/// no `protocolVersion` in `initialize`).
pub const DEFAULT_VERSION: &str = "2025-03-26";

/// Why upstream could not be used (refused with −31006).
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    #[error("no upstream configured (set INTENTGATE_UPSTREAM_URL)")]
    NotConfigured,
    #[error("upstream unreachable: {0}")]
    Connect(String),
    #[error("upstream timed out after {0} ms")]
    Timeout(u64),
    #[error("upstream answered HTTP {0}")]
    Status(u16),
    #[error("upstream sent an invalid answer: {0}")]
    Protocol(String),
    #[error("upstream answer exceeds {0} bytes (INTENTGATE_MAX_UPSTREAM_RESPONSE_BYTES)")]
    TooLarge(usize),
}

impl UpstreamError {
    /// The status recorded in the outcome entry (0 for a transport failure).
    pub fn status(&self) -> i64 {
        match self {
            UpstreamError::Status(s) => i64::from(*s),
            _ => 0,
        }
    }
}

/// Which era the upstream speaks for igd's shared traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Modern,
    Legacy,
}

/// How a message is routed upstream.
#[derive(Debug, Clone)]
pub enum Route {
    /// Inside a 2025-era client's own upstream session.
    Session {
        upstream_session: Option<String>,
        version: String,
    },
    /// 2026-era traffic: modern requests, or the shared pooled session.
    Shared,
}

/// An upstream SSE response read event by event. The gap between events is bounded by the
/// upstream timeout (keep-alive comments do not extend it), and the whole stream by the
/// response cap.
#[derive(Debug)]
pub struct SseStream {
    body: Incoming,
    parser: SseParser,
    timeout: Duration,
    /// When the next event must have arrived.
    deadline: tokio::time::Instant,
    /// Bytes read so far, and the most the stream may carry.
    read: usize,
    limit: usize,
    done: bool,
}

impl SseStream {
    fn new(body: Incoming, timeout: Duration, limit: usize) -> Self {
        SseStream {
            body,
            parser: SseParser::new(limit),
            timeout,
            deadline: tokio::time::Instant::now() + timeout,
            read: 0,
            limit,
            done: false,
        }
    }

    /// The next event; `Ok(None)` at the end of the stream.
    pub async fn next_event(&mut self) -> Result<Option<SseEvent>, UpstreamError> {
        loop {
            if let Some(ev) = self.parser.next_event() {
                self.deadline = tokio::time::Instant::now() + self.timeout;
                return Ok(Some(ev));
            }
            if self.done {
                return Ok(None);
            }
            let frame = tokio::time::timeout_at(self.deadline, self.body.frame())
                .await
                .map_err(|_| UpstreamError::Timeout(millis(self.timeout)))?;
            match frame {
                None => self.done = true,
                Some(Err(e)) => return Err(UpstreamError::Connect(e.to_string())),
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        self.read = self.read.saturating_add(data.len());
                        if self.read > self.limit {
                            return Err(UpstreamError::TooLarge(self.limit));
                        }
                        self.parser.feed(&data).map_err(|e| match e {
                            SseError::EventTooLarge(n) => UpstreamError::TooLarge(n),
                            SseError::InvalidUtf8 => UpstreamError::Protocol(e.to_string()),
                        })?;
                    }
                }
            }
        }
    }

    /// Read until the JSON-RPC response with `id`; other events are skipped.
    pub async fn response_for(&mut self, id: &Value) -> Result<UpstreamResponse, UpstreamError> {
        while let Some(ev) = self.next_event().await? {
            if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                if reply::answers(&v, id) {
                    return check_response(v, id).map_err(UpstreamError::Protocol);
                }
            }
        }
        Err(UpstreamError::Protocol(
            "stream ended without a response".into(),
        ))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What upstream answered.
#[derive(Debug)]
pub enum ReplyBody {
    Json(Value),
    Sse(Box<SseStream>),
    Empty,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub session_id: Option<String>,
    pub body: ReplyBody,
}

impl Reply {
    /// The checked JSON-RPC response with `id`, reading an SSE body to it if needed.
    pub async fn into_response(self, id: &Value) -> Result<UpstreamResponse, UpstreamError> {
        match self.body {
            ReplyBody::Json(v) => check_response(v, id).map_err(UpstreamError::Protocol),
            ReplyBody::Sse(mut s) => s.response_for(id).await,
            ReplyBody::Empty => Err(UpstreamError::Protocol(format!(
                "HTTP {} without a body",
                self.status
            ))),
        }
    }
}

/// The configured upstream, the one interface the rest of igd forwards through: an MCP server
/// over HTTP, the development stub ([`stub`]), or none (every forward refused with −31006).
#[derive(Debug)]
pub enum Upstream {
    None,
    Stub,
    Http(Box<HttpUpstream>),
}

impl Upstream {
    pub fn from_settings(settings: &Settings) -> Result<Upstream, String> {
        match settings.upstream_url.as_deref() {
            None => Ok(Upstream::None),
            Some("stub") => Ok(Upstream::Stub),
            Some(url) => HttpUpstream::new(url, settings).map(|u| Upstream::Http(Box::new(u))),
        }
    }

    /// Say at start what a development or missing upstream means.
    pub fn warn_at_start(&self) {
        match self {
            Upstream::None => tracing::warn!("no upstream configured (INTENTGATE_UPSTREAM_URL): tools/call is refused with -31006"),
            Upstream::Stub => tracing::warn!("INTENTGATE_UPSTREAM_URL=stub: the built-in DEVELOPMENT echo server answers calls; never use this in production"),
            Upstream::Http(_) => {}
        }
    }

    /// A fresh id for a request igd sends upstream (the agent's id never travels).
    pub fn next_id(&self) -> Value {
        match self {
            Upstream::Http(up) => up.next_id(),
            Upstream::None | Upstream::Stub => json!(0),
        }
    }

    /// Send a request along `route` under `upstream_id` (from [`Upstream::next_id`]).
    /// `method`/`name` and `param_headers` (`Mcp-Param-*`) feed a 2026-era upstream's headers.
    /// Runs in an `upstream.call` span (until upstream's answer starts); a failure is logged as
    /// `upstream error`.
    pub async fn send(
        &self,
        route: &Route,
        message: &Value,
        upstream_id: &Value,
        method: &str,
        name: Option<&str>,
        param_headers: &[(String, String)],
    ) -> Result<Reply, UpstreamError> {
        let span = tracing::trace_span!(
            target: crate::telemetry::TARGET,
            "upstream.call",
            otel.kind = "client",
            http.response.status_code = tracing::field::Empty,
            error = tracing::field::Empty,
        );
        let sent = self
            .send_unobserved(route, message, upstream_id, method, name, param_headers)
            .instrument(span.clone())
            .await;
        match &sent {
            Ok(reply) => {
                span.record("http.response.status_code", reply.status);
            }
            // Said once at start; not worth a line per call.
            Err(UpstreamError::NotConfigured) => {
                span.record("error", "no upstream configured");
            }
            Err(e) => {
                span.record("error", tracing::field::display(e));
                tracing::warn!(error = %e, status = e.status(), "upstream error");
            }
        }
        sent
    }

    async fn send_unobserved(
        &self,
        route: &Route,
        message: &Value,
        upstream_id: &Value,
        method: &str,
        name: Option<&str>,
        param_headers: &[(String, String)],
    ) -> Result<Reply, UpstreamError> {
        match self {
            Upstream::None => Err(UpstreamError::NotConfigured),
            Upstream::Stub => Ok(stub::reply(message, upstream_id)),
            Upstream::Http(up) => {
                let message = with_id(message, upstream_id);
                up.send_with(route, &message, method, name, param_headers)
                    .await
            }
        }
    }

    /// Send a request and wait for its whole answer (an SSE body read to the response).
    pub async fn request(
        &self,
        route: &Route,
        message: &Value,
        method: &str,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let upstream_id = self.next_id();
        let reply = self
            .send(route, message, &upstream_id, method, None, &[])
            .await?;
        reply.into_response(&upstream_id).await
    }

    /// Open an upstream session for a 2025-era client with its `initialize` params; returns
    /// (upstream session id, result). Without an upstream, igd answers for itself.
    pub async fn initialize(
        &self,
        params: Option<&Value>,
    ) -> Result<(Option<String>, Map<String, Value>), UpstreamError> {
        let object = |v: Option<Value>| match v {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        match self {
            Upstream::Http(up) => up.initialize(params.unwrap_or(&json!({}))).await,
            Upstream::Stub => Ok((None, object(stub::answer("initialize", params).ok()))),
            Upstream::None => {
                let requested = params
                    .and_then(|p| p.get("protocolVersion"))
                    .and_then(Value::as_str)
                    .unwrap_or(DEFAULT_VERSION);
                Ok((
                    None,
                    object(Some(json!({
                        "protocolVersion": requested,
                        "capabilities": {"tools": {"listChanged": false}},
                        "serverInfo": {"name": "intentgate", "version": env!("CARGO_PKG_VERSION")},
                    }))),
                ))
            }
        }
    }

    /// Pass a client notification or response to its upstream session, best effort (no
    /// answer is awaited; the stub and no upstream take nothing).
    pub async fn pass(&self, route: &Route, message: &Value, method: &str) {
        if let Upstream::Http(up) = self {
            if let Err(e) = up.send(route, message, method, None).await {
                tracing::debug!(error = %e, "passing a client message upstream failed");
            }
        }
    }

    /// End an upstream session (best effort).
    pub async fn end_session(&self, session: &str) {
        if let Upstream::Http(up) = self {
            up.delete_session(session).await;
        }
    }

    /// Tell upstream to stop working on a request: `notifications/cancelled` on the session it
    /// runs in (the agent's own, or the pooled one a 2026-era request shares with a legacy
    /// upstream). A 2026-era upstream learns it from its response stream being closed.
    /// Returns whether a cancellation was sent.
    pub async fn cancel(&self, route: &Route, upstream_id: &Value) -> bool {
        let Upstream::Http(up) = self else {
            return false;
        };
        if matches!(route, Route::Shared) && up.known_era() != Some(Era::Legacy) {
            return false;
        }
        let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": upstream_id, "reason": "the gateway stopped waiting (the client went away or upstream timed out)"}});
        match route {
            Route::Session { .. } => {
                self.pass(route, &note, "notifications/cancelled").await;
                true
            }
            // Only on the pooled session already open: a request that never reached upstream
            // is not worth opening (or re-opening) one for.
            Route::Shared => up.post_to_pool(&note).await,
        }
    }
}

/// `message` with `id` in place of the agent's id (messages igd forwards are objects).
fn with_id(message: &Value, id: &Value) -> Value {
    let mut msg = message.clone();
    if let Some(obj) = msg.as_object_mut() {
        obj.insert("id".into(), id.clone());
    }
    msg
}

/// An MCP server over Streamable HTTP.
#[derive(Debug)]
pub struct HttpUpstream {
    url: Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    /// The most bytes one answer may carry (`INTENTGATE_MAX_UPSTREAM_RESPONSE_BYTES`).
    max_response: usize,
    /// Probed once, then read without a lock on every forward.
    era: tokio::sync::OnceCell<Era>,
    /// The shared legacy session (read without a lock); `pooled_open` serializes opening one.
    pooled_session: arc_swap::ArcSwapOption<String>,
    pooled_open: Mutex<()>,
    next_id: AtomicU64,
}

impl HttpUpstream {
    fn new(url: &str, settings: &Settings) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("INTENTGATE_UPSTREAM_URL: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err("INTENTGATE_UPSTREAM_URL: only http:// upstreams are supported in this build (terminate TLS on a local sidecar)".into());
        }
        // igd's own upstream credentials never cross a network in clear text.
        let loopback = match uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        {
            Some("localhost") => true,
            Some(h) => h
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
            None => false,
        };
        if !settings.upstream_headers.is_empty() && !loopback {
            return Err("INTENTGATE_UPSTREAM_URL: a plain http:// upstream off loopback would receive INTENTGATE_UPSTREAM_HEADERS in clear text; reach it through a local TLS sidecar on 127.0.0.1".into());
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_millis(settings.upstream_timeout_ms)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(connector);
        let mut headers = Vec::new();
        for (name, value) in &settings.upstream_headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("INTENTGATE_UPSTREAM_HEADERS: {e}"))?;
            let mut v = HeaderValue::from_str(value.expose())
                .map_err(|e| format!("INTENTGATE_UPSTREAM_HEADERS: {e}"))?;
            v.set_sensitive(true);
            headers.push((n, v));
        }
        Ok(HttpUpstream {
            url: uri,
            client,
            headers,
            timeout: Duration::from_millis(settings.upstream_timeout_ms),
            max_response: settings.max_upstream_response_bytes,
            era: tokio::sync::OnceCell::new(),
            pooled_session: arc_swap::ArcSwapOption::empty(),
            pooled_open: Mutex::new(()),
            next_id: AtomicU64::new(1),
        })
    }

    /// A fresh id for a message igd sends upstream (client ids are mapped back on the way out).
    pub fn next_id(&self) -> Value {
        json!(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn timeout_ms(&self) -> u64 {
        millis(self.timeout)
    }

    /// POST one message (every HTTP exchange with upstream goes through here, and is counted
    /// in the upstream metrics).
    pub async fn post(
        &self,
        message: &Value,
        headers: &[(&str, String)],
    ) -> Result<Reply, UpstreamError> {
        let started = crate::metrics::start();
        let result = self.exchange(message, headers).await;
        if started.is_some() {
            let status = match &result {
                Ok(reply) => Some(reply.status),
                Err(UpstreamError::Status(s)) => Some(*s),
                Err(_) => None,
            };
            crate::metrics::upstream(started, status);
        }
        result
    }

    async fn exchange(
        &self,
        message: &Value,
        headers: &[(&str, String)],
    ) -> Result<Reply, UpstreamError> {
        let body =
            serde_json::to_vec(message).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        let mut req = Request::post(self.url.clone())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let mut req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        for (k, v) in &self.headers {
            req.headers_mut().insert(k.clone(), v.clone());
        }
        let resp = tokio::time::timeout(self.timeout, self.client.request(req))
            .await
            .map_err(|_| UpstreamError::Timeout(self.timeout_ms()))?
            .map_err(|e| UpstreamError::Connect(e.to_string()))?;
        let status = resp.status().as_u16();
        if status >= 500 {
            return Err(UpstreamError::Status(status));
        }
        let session_id = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|ct| ct.to_ascii_lowercase());
        let body = self
            .read_body(status, content_type.as_deref(), resp.into_body())
            .await?;
        Ok(Reply {
            status,
            session_id,
            body,
        })
    }

    /// An answer's body: an SSE stream to read on, a JSON value read whole (at most
    /// `max_response` bytes within the timeout), or nothing. Any other content type is refused.
    async fn read_body(
        &self,
        status: u16,
        content_type: Option<&str>,
        body: Incoming,
    ) -> Result<ReplyBody, UpstreamError> {
        if status == 202 {
            return Ok(ReplyBody::Empty);
        }
        let media = content_type.map(|ct| ct.split(';').next().unwrap_or("").trim());
        if media == Some("text/event-stream") {
            return Ok(ReplyBody::Sse(Box::new(SseStream::new(
                body,
                self.timeout,
                self.max_response,
            ))));
        }
        let limited = http_body_util::Limited::new(body, self.max_response);
        let bytes = match tokio::time::timeout(self.timeout, limited.collect()).await {
            Err(_) => return Err(UpstreamError::Timeout(self.timeout_ms())),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(UpstreamError::TooLarge(self.max_response))
            }
            Ok(Err(e)) => return Err(UpstreamError::Connect(e.to_string())),
            Ok(Ok(collected)) => collected.to_bytes(),
        };
        if bytes.is_empty() {
            return Ok(ReplyBody::Empty);
        }
        if media != Some("application/json") {
            return Err(UpstreamError::Protocol(format!(
                "HTTP {status} answer has content type {:?}, not application/json or text/event-stream",
                content_type.unwrap_or("")
            )));
        }
        serde_json::from_slice(&bytes)
            .map(ReplyBody::Json)
            .map_err(|e| UpstreamError::Protocol(format!("HTTP {status} body is not JSON: {e}")))
    }

    /// DELETE an upstream session (best effort).
    pub async fn delete_session(&self, session: &str) {
        let Ok(mut req) = Request::delete(self.url.clone())
            .header("mcp-session-id", session)
            .body(Full::new(Bytes::new()))
        else {
            return;
        };
        for (k, v) in &self.headers {
            req.headers_mut().insert(k.clone(), v.clone());
        }
        let _ = tokio::time::timeout(self.timeout, self.client.request(req)).await;
    }

    /// Open a legacy upstream session with these `initialize` params; returns (session id, result).
    pub async fn initialize(
        &self,
        params: &Value,
    ) -> Result<(Option<String>, Map<String, Value>), UpstreamError> {
        let id = self.next_id();
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": params});
        let reply = self.post(&msg, &[]).await?;
        let session = reply.session_id.clone();
        let status = reply.status;
        let resp = reply.into_response(&id).await?;
        match resp.into_result() {
            Some(result) if status < 400 => Ok((session, result)),
            _ => Err(UpstreamError::Protocol(format!(
                "initialize refused (HTTP {status})"
            ))),
        }
    }

    /// The era, if it has been probed already (never waits).
    pub fn known_era(&self) -> Option<Era> {
        self.era.get().copied()
    }

    /// Which era the upstream speaks (probed once with `server/discover`; a failed probe is
    /// retried by the next caller).
    pub async fn era(&self) -> Result<Era, UpstreamError> {
        self.era.get_or_try_init(|| self.probe_era()).await.copied()
    }

    async fn probe_era(&self) -> Result<Era, UpstreamError> {
        let id = self.next_id();
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": "server/discover", "params": {"_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "intentgate", "version": env!("CARGO_PKG_VERSION")},
        }}});
        let headers = [
            ("mcp-protocol-version", MODERN_VERSION.to_string()),
            ("mcp-method", "server/discover".to_string()),
        ];
        let detected = match self.post(&msg, &headers).await {
            Ok(reply) if reply.status == 200 => match reply.into_response(&id).await {
                Ok(v)
                    if v.result().is_some_and(|r| {
                        r.get("supportedVersions")
                            .and_then(Value::as_array)
                            .is_some_and(|a| a.iter().any(|x| x == MODERN_VERSION))
                    }) =>
                {
                    Era::Modern
                }
                _ => Era::Legacy,
            },
            Ok(_) => Era::Legacy,
            Err(
                e @ (UpstreamError::Connect(_)
                | UpstreamError::Timeout(_)
                | UpstreamError::Status(_)),
            ) => return Err(e),
            Err(_) => Era::Legacy,
        };
        tracing::info!(era = ?detected, "upstream era detected");
        Ok(detected)
    }

    /// The shared legacy session for 2026-era traffic to a legacy upstream, opened on demand;
    /// `failed` is one upstream refused, replaced once however many callers saw it fail.
    async fn pooled(&self, failed: Option<&str>) -> Result<String, UpstreamError> {
        let usable = |s: &Option<std::sync::Arc<String>>| {
            s.as_ref()
                .filter(|s| Some(s.as_str()) != failed)
                .map(|s| s.as_ref().clone())
        };
        if let Some(s) = usable(&self.pooled_session.load_full()) {
            return Ok(s);
        }
        let _opening = self.pooled_open.lock().await;
        if let Some(s) = usable(&self.pooled_session.load_full()) {
            return Ok(s);
        }
        let params = json!({"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": {"name": "intentgate", "version": env!("CARGO_PKG_VERSION")}});
        let (session, _) = self.initialize(&params).await?;
        let session = session.unwrap_or_default();
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let mut headers = vec![("mcp-protocol-version", LEGACY_VERSION.to_string())];
        if !session.is_empty() {
            headers.push(("mcp-session-id", session.clone()));
        }
        let _ = self.post(&note, &headers).await?;
        self.pooled_session
            .store(Some(std::sync::Arc::new(session.clone())));
        Ok(session)
    }

    /// POST a notification on the pooled legacy session if one is open (best effort);
    /// whether there was one.
    async fn post_to_pool(&self, message: &Value) -> bool {
        let Some(session) = self.pooled_session.load_full() else {
            return false;
        };
        let mut headers = vec![("mcp-protocol-version", LEGACY_VERSION.to_string())];
        if !session.is_empty() {
            headers.push(("mcp-session-id", session.as_ref().clone()));
        }
        if let Err(e) = self.post(message, &headers).await {
            tracing::debug!(error = %e, "passing a notification to the pooled session failed");
        }
        true
    }

    /// Send a message along a route. `method`/`name` feed the 2026-era headers.
    pub async fn send(
        &self,
        route: &Route,
        message: &Value,
        method: &str,
        name: Option<&str>,
    ) -> Result<Reply, UpstreamError> {
        self.send_with(route, message, method, name, &[]).await
    }

    /// [`send`](Self::send) plus `Mcp-Param-*` headers, forwarded as received to a 2026-era
    /// upstream (an intermediary must forward mirrored parameters it does not recognize).
    pub async fn send_with(
        &self,
        route: &Route,
        message: &Value,
        method: &str,
        name: Option<&str>,
        params: &[(String, String)],
    ) -> Result<Reply, UpstreamError> {
        match route {
            Route::Session {
                upstream_session,
                version,
            } => {
                let mut headers = vec![("mcp-protocol-version", version.clone())];
                if let Some(s) = upstream_session {
                    headers.push(("mcp-session-id", s.clone()));
                }
                self.post(message, &headers).await
            }
            Route::Shared => match self.era().await? {
                Era::Modern => {
                    let mut headers = vec![
                        ("mcp-protocol-version", MODERN_VERSION.to_string()),
                        ("mcp-method", method.to_string()),
                    ];
                    if let Some(n) = name {
                        headers.push(("mcp-name", encode_header_value(n)));
                    }
                    for (k, v) in params {
                        headers.push((k.as_str(), v.clone()));
                    }
                    self.post(message, &headers).await
                }
                Era::Legacy => {
                    let mut msg = message.clone();
                    strip_modern_meta(&mut msg);
                    let mut failed: Option<String> = None;
                    for attempt in 0..2 {
                        let session = self.pooled(failed.as_deref()).await?;
                        let mut headers =
                            vec![("mcp-protocol-version", LEGACY_VERSION.to_string())];
                        if !session.is_empty() {
                            headers.push(("mcp-session-id", session.clone()));
                        }
                        let reply = self.post(&msg, &headers).await?;
                        // The pooled session expired upstream: open another once.
                        if reply.status == 404 && attempt == 0 {
                            failed = Some(session);
                            continue;
                        }
                        return Ok(reply);
                    }
                    Err(UpstreamError::Protocol(
                        "pooled session refused twice".into(),
                    ))
                }
            },
        }
    }
}

/// Drop the 2026-era `_meta` keys a legacy server does not know.
fn strip_modern_meta(msg: &mut Value) {
    if let Some(meta) = msg
        .pointer_mut("/params/_meta")
        .and_then(Value::as_object_mut)
    {
        meta.retain(|k, _| !k.starts_with("io.modelcontextprotocol/"));
        if meta.is_empty() {
            if let Some(p) = msg.get_mut("params").and_then(Value::as_object_mut) {
                p.remove("_meta");
            }
        }
    }
}

/// Header values that are not visible ASCII travel as the Base64 sentinel `=?base64?…?=`.
pub fn encode_header_value(v: &str) -> String {
    if v.bytes().all(|b| (0x20..0x7f).contains(&b)) && !v.starts_with("=?base64?") {
        v.to_string()
    } else {
        use base64::Engine as _;
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(v)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sentinel() {
        assert_eq!(encode_header_value("echo"), "echo");
        assert_eq!(encode_header_value("café"), "=?base64?Y2Fmw6k=?=");
    }
}
