//! The upstream MCP server (`INTENTGATE_UPSTREAM_URL`): igd speaks to it in whichever era it
//! supports. A 2025-era client session maps to its own upstream session; 2026-era requests use
//! the modern era directly when upstream has it, else a shared pooled upstream session.
//!
//! igd's own credentials (`INTENTGATE_UPSTREAM_HEADERS`) go upstream; the agent's token never does.

use crate::config::Settings;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

/// The version igd uses when it opens legacy sessions of its own.
pub const LEGACY_VERSION: &str = "2025-11-25";
/// The stateless era.
pub const MODERN_VERSION: &str = "2026-07-28";

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

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
    pub retry: Option<String>,
}

impl SseEvent {
    pub fn to_bytes(&self) -> Bytes {
        let mut out = String::new();
        if let Some(e) = &self.event {
            out.push_str(&format!("event: {e}\n"));
        }
        if let Some(id) = &self.id {
            out.push_str(&format!("id: {id}\n"));
        }
        if let Some(r) = &self.retry {
            out.push_str(&format!("retry: {r}\n"));
        }
        for line in self.data.split('\n') {
            out.push_str(&format!("data: {line}\n"));
        }
        out.push('\n');
        Bytes::from(out)
    }

    fn parse(block: &str) -> Option<SseEvent> {
        let mut ev = SseEvent::default();
        let mut data: Vec<&str> = Vec::new();
        let mut any = false;
        for line in block.lines() {
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            any = true;
            match field {
                "event" => ev.event = Some(value.to_string()),
                "id" => ev.id = Some(value.to_string()),
                "retry" => ev.retry = Some(value.to_string()),
                "data" => data.push(value),
                _ => {}
            }
        }
        ev.data = data.join("\n");
        any.then_some(ev)
    }
}

/// An upstream SSE response read event by event, each gap bounded by the upstream timeout.
#[derive(Debug)]
pub struct SseStream {
    body: Incoming,
    buf: Vec<u8>,
    timeout: Duration,
    done: bool,
}

impl SseStream {
    /// The next event; `Ok(None)` at the end of the stream.
    pub async fn next_event(&mut self) -> Result<Option<SseEvent>, UpstreamError> {
        loop {
            if let Some(pos) = find_event_end(&self.buf) {
                let (block, rest) = {
                    let block = String::from_utf8_lossy(&self.buf[..pos.0]).replace("\r\n", "\n");
                    (block, self.buf[pos.1..].to_vec())
                };
                self.buf = rest;
                if let Some(ev) = SseEvent::parse(&block) {
                    return Ok(Some(ev));
                }
                continue;
            }
            if self.done {
                return Ok(None);
            }
            let frame = tokio::time::timeout(self.timeout, self.body.frame())
                .await
                .map_err(|_| {
                    UpstreamError::Timeout(
                        u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
                    )
                })?;
            match frame {
                None => self.done = true,
                Some(Err(e)) => return Err(UpstreamError::Connect(e.to_string())),
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        self.buf.extend_from_slice(&data);
                        if self.buf.len() > 16 * 1024 * 1024 {
                            return Err(UpstreamError::Protocol(
                                "SSE event larger than 16 MiB".into(),
                            ));
                        }
                    }
                }
            }
        }
    }

    /// Read until the JSON-RPC response with `id`; other events are skipped.
    pub async fn response_for(&mut self, id: &Value) -> Result<Value, UpstreamError> {
        while let Some(ev) = self.next_event().await? {
            if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                if v.get("id") == Some(id)
                    && (v.get("result").is_some() || v.get("error").is_some())
                {
                    return Ok(v);
                }
            }
        }
        Err(UpstreamError::Protocol(
            "stream ended without a response".into(),
        ))
    }
}

fn find_event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| (p, p + 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, p + 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// What upstream answered.
#[derive(Debug)]
pub enum ReplyBody {
    Json(Value),
    Sse(SseStream),
    Empty,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub session_id: Option<String>,
    pub body: ReplyBody,
}

impl Reply {
    /// The JSON-RPC response with `id`, reading an SSE body to it if needed.
    pub async fn into_response(self, id: &Value) -> Result<Value, UpstreamError> {
        match self.body {
            ReplyBody::Json(v) => Ok(v),
            ReplyBody::Sse(mut s) => s.response_for(id).await,
            ReplyBody::Empty => Err(UpstreamError::Protocol(format!(
                "HTTP {} without a body",
                self.status
            ))),
        }
    }
}

/// The configured upstream.
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
}

/// An MCP server over Streamable HTTP.
#[derive(Debug)]
pub struct HttpUpstream {
    url: Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    era: Mutex<Option<Era>>,
    pooled_session: Mutex<Option<String>>,
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
            era: Mutex::new(None),
            pooled_session: Mutex::new(None),
            next_id: AtomicU64::new(1),
        })
    }

    /// A fresh id for a message igd sends upstream (client ids are mapped back on the way out).
    pub fn next_id(&self) -> Value {
        json!(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn timeout_ms(&self) -> u64 {
        u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX)
    }

    /// POST one message.
    pub async fn post(
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
        let is_sse = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        let body = resp.into_body();
        let body = if status == 202 {
            ReplyBody::Empty
        } else if is_sse {
            ReplyBody::Sse(SseStream {
                body,
                buf: Vec::new(),
                timeout: self.timeout,
                done: false,
            })
        } else {
            let bytes = tokio::time::timeout(self.timeout, body.collect())
                .await
                .map_err(|_| UpstreamError::Timeout(self.timeout_ms()))?
                .map_err(|e| UpstreamError::Connect(e.to_string()))?
                .to_bytes();
            if bytes.is_empty() {
                ReplyBody::Empty
            } else {
                ReplyBody::Json(serde_json::from_slice(&bytes).map_err(|e| {
                    UpstreamError::Protocol(format!("HTTP {status} body is not JSON: {e}"))
                })?)
            }
        };
        Ok(Reply {
            status,
            session_id,
            body,
        })
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
    ) -> Result<(Option<String>, Value), UpstreamError> {
        let id = self.next_id();
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": params});
        let reply = self.post(&msg, &[]).await?;
        let session = reply.session_id.clone();
        let status = reply.status;
        let resp = reply.into_response(&id).await?;
        if status >= 400 || resp.get("error").is_some() {
            return Err(UpstreamError::Protocol(format!(
                "initialize refused: {}",
                resp.get("error").cloned().unwrap_or(Value::Null)
            )));
        }
        Ok((session, resp.get("result").cloned().unwrap_or(Value::Null)))
    }

    /// Which era the upstream speaks (probed once with `server/discover`).
    pub async fn era(&self) -> Result<Era, UpstreamError> {
        let mut era = self.era.lock().await;
        if let Some(e) = *era {
            return Ok(e);
        }
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
                    if v["result"]["supportedVersions"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == MODERN_VERSION)) =>
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
        *era = Some(detected);
        Ok(detected)
    }

    /// The shared legacy session for 2026-era traffic to a legacy upstream, opened on demand.
    async fn pooled(&self, renew: bool) -> Result<String, UpstreamError> {
        let mut slot = self.pooled_session.lock().await;
        if let (Some(s), false) = (slot.as_ref(), renew) {
            return Ok(s.clone());
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
        *slot = Some(session.clone());
        Ok(session)
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
                    for attempt in 0..2 {
                        let session = self.pooled(attempt > 0).await?;
                        let mut headers =
                            vec![("mcp-protocol-version", LEGACY_VERSION.to_string())];
                        if !session.is_empty() {
                            headers.push(("mcp-session-id", session));
                        }
                        let reply = self.post(&msg, &headers).await?;
                        // The pooled session expired upstream: open another once.
                        if reply.status == 404 && attempt == 0 {
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

/// The built-in development echo server (`INTENTGATE_UPSTREAM_URL=stub`).
pub fn stub_answer(method: &str, params: Option<&Value>) -> Result<Value, (i64, String)> {
    let tool = |name: &str, description: &str| json!({"name": name, "description": description, "inputSchema": {"type": "object", "additionalProperties": true}});
    match method {
        "initialize" => Ok(json!({
            "protocolVersion": params.and_then(|p| p.get("protocolVersion")).cloned().unwrap_or(json!(LEGACY_VERSION)),
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {"name": "intentgate-stub", "version": env!("CARGO_PKG_VERSION")},
        })),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": [
            tool("echo", "Echo the arguments back (development stub)."),
            tool("read_invoice", "Pretend to read an invoice (development stub)."),
            tool("send_email_internal", "Pretend to send an email (development stub)."),
        ]})),
        "tools/call" => {
            let name = params
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let args = params
                .and_then(|p| p.get("arguments"))
                .cloned()
                .unwrap_or(json!({}));
            Ok(
                json!({"content": [{"type": "text", "text": format!("stub {name}: {args}")}], "isError": false}),
            )
        }
        other => Err((
            crate::jsonrpc::METHOD_NOT_FOUND,
            format!("the stub upstream does not implement {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_parse_and_serialize() {
        let ev = SseEvent::parse("event: message\nid: 7\ndata: {\"a\":1}\n: comment").unwrap();
        assert_eq!(ev.event.as_deref(), Some("message"));
        assert_eq!(ev.id.as_deref(), Some("7"));
        assert_eq!(ev.data, "{\"a\":1}");
        assert_eq!(
            SseEvent::parse(&String::from_utf8_lossy(&ev.to_bytes()).replace("\n\n", "")).unwrap(),
            ev
        );
        assert_eq!(find_event_end(b"data: x\r\n\r\nrest"), Some((7, 11)));
        assert!(SseEvent::parse(": keepalive").is_none());
    }

    #[test]
    fn header_sentinel() {
        assert_eq!(encode_header_value("echo"), "echo");
        assert_eq!(encode_header_value("café"), "=?base64?Y2Fmw6k=?=");
    }
}
