//! Admission of an authenticated request (DESIGN §2 steps 3–9): content type, Accept, body
//! limit, JSON, JSON-RPC shape with bounded names, protocol version, header/body agreement and
//! the 2025-era session. Every refusal is chained under the token's tenant before it is
//! answered. [`Ctx`] is what admission established about a message.

use super::wire::*;
use crate::audit::Record;
use crate::gateway::Gateway;
use crate::http::{read_body, Body, BodyError, RequestBody};
use crate::jsonrpc::{self, classify, parse_strict, Message};
use crate::pipeline::Check;
use crate::relay;
use crate::sessions::{id_hash, SessionState};
use crate::upstream::{Route, MODERN_VERSION};
use hyper::header::HeaderMap;
use hyper::Response;
use intentgate_proto::token::Claims;
use serde_json::{json, Value};
use std::sync::Arc;

/// Everything known about a request once it is authenticated and parsed.
pub(super) struct Ctx {
    pub(super) gw: Arc<Gateway>,
    pub(super) claims: Claims,
    pub(super) version: String,
    pub(super) modern: bool,
    pub(super) session: Option<SessionState>,
    /// Hash of the 2025-era session id (keys the requests upstream sent to this client).
    pub(super) session_hash: Option<String>,
    pub(super) remote_addr: String,
    /// `Mcp-Param-*` headers, forwarded unchanged to a 2026-era upstream.
    pub(super) param_headers: Vec<(String, String)>,
    /// Fired when a call starts waiting for an approval (see [`super::held`]).
    pub(super) on_hold: Option<Box<dyn Fn() + Send + Sync>>,
}

/// Content type and Accept (415 / 406), body limit (413), JSON (−32700).
pub(super) async fn read_json(
    gw: &Gateway,
    claims: &Claims,
    headers: &HeaderMap,
    body: RequestBody,
) -> Result<Value, Response<Body>> {
    let ct_ok = header(headers, "content-type")
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
    if !ct_ok {
        return Err(refuse_request(
            gw,
            claims,
            415,
            jsonrpc::INVALID_REQUEST,
            "Content-Type must be application/json",
            "POST /v1/mcp",
        )
        .await);
    }
    if !accepts(headers) {
        return Err(refuse_request(
            gw,
            claims,
            406,
            jsonrpc::INVALID_REQUEST,
            "Accept must list application/json and text/event-stream",
            "POST /v1/mcp",
        )
        .await);
    }
    let bytes = match read_body(body, gw.settings.max_body_bytes).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(n)) => {
            return Err(refuse_request(
                gw,
                claims,
                413,
                jsonrpc::INVALID_REQUEST,
                &format!("request body exceeds {n} bytes"),
                "POST /v1/mcp",
            )
            .await)
        }
        Err(e @ BodyError::TimedOut(_)) => {
            return Err(refuse_request(
                gw,
                claims,
                408,
                jsonrpc::INVALID_REQUEST,
                &e.to_string(),
                "POST /v1/mcp",
            )
            .await)
        }
        Err(e) => {
            return Err(refuse_request(
                gw,
                claims,
                400,
                jsonrpc::PARSE_ERROR,
                &e.to_string(),
                "POST /v1/mcp",
            )
            .await)
        }
    };
    match parse_strict(&bytes) {
        Ok(v) => Ok(v),
        Err(e) => {
            let reason = format!("parse error: {e}");
            Err(refuse_request(
                gw,
                claims,
                400,
                jsonrpc::PARSE_ERROR,
                &reason,
                "POST /v1/mcp",
            )
            .await)
        }
    }
}

/// A parsed message of an authenticated agent: its refusals are chained under the token's
/// tenant with the method and target as far as they can be read (bounded: see
/// [`jsonrpc::recordable_name`]).
pub(super) struct Parsed<'a> {
    pub(super) gw: &'a Gateway,
    pub(super) claims: &'a Claims,
    pub(super) value: &'a Value,
}

impl Parsed<'_> {
    /// The id to answer with: the message's when it is a usable one.
    pub(super) fn id(&self) -> Value {
        self.value
            .get("id")
            .filter(|i| i.is_string() || i.is_number())
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Chain the refusal, then answer with the JSON-RPC error; `extra` joins `error.data`.
    pub(super) async fn refuse(
        &self,
        status: u16,
        code: i64,
        reason: &str,
        extra: Option<Value>,
    ) -> Response<Body> {
        let (method, tool) = names_of(self.value);
        let decision_id =
            record_request_refusal(self.gw, self.claims, reason, method, tool.as_deref()).await;
        let mut data =
            json!({"check": Check::Request.as_str(), "reason": reason, "decision_id": decision_id});
        if let (Some(d), Some(Value::Object(more))) = (data.as_object_mut(), extra) {
            d.extend(more);
        }
        rpc_error(status, &self.id(), code, reason, Some(data))
    }
}

/// What admission established about a message.
pub(super) struct Admitted {
    pub(super) message: Message,
    pub(super) version: String,
    pub(super) modern: bool,
    /// The 2025-era session and the hash of its id.
    pub(super) session: Option<(SessionState, String)>,
}

/// 6.–9. JSON-RPC shape (with bounded names), protocol version, header/body agreement, session.
pub(super) async fn admit(p: &Parsed<'_>, headers: &HeaderMap) -> Result<Admitted, Response<Body>> {
    let message = match classify(p.value) {
        Ok(m) => m,
        Err(e) => return Err(p.refuse(400, jsonrpc::INVALID_REQUEST, &e, None).await),
    };
    if let Some(problem) = name_problems(&message) {
        return Err(p
            .refuse(400, jsonrpc::INVALID_REQUEST, &problem, None)
            .await);
    }
    let (version, meta_version) = match negotiate_version(headers, &message) {
        Ok(v) => v,
        Err((code, reason, extra)) => return Err(p.refuse(400, code, &reason, extra).await),
    };
    let modern = version == MODERN_VERSION;
    if modern {
        if let Err(reason) = check_mirrored_headers(headers, &message, meta_version.as_deref()) {
            return Err(p.refuse(400, jsonrpc::HEADER_MISMATCH, &reason, None).await);
        }
    }
    let session = if modern || message.method() == Some("initialize") {
        None
    } else {
        match client_session(p.gw, p.claims, headers).await {
            Ok(s) => Some(s),
            Err((status, reason)) => {
                return Err(p
                    .refuse(status, jsonrpc::INVALID_REQUEST, reason, None)
                    .await)
            }
        }
    };
    Ok(Admitted {
        message,
        version,
        modern,
        session,
    })
}

/// Method and target names are at most 256 bytes of printable UTF-8; methods are `/`-separated
/// segments (DESIGN §2). Checked before anything is forwarded or stored.
pub(super) fn name_problems(message: &Message) -> Option<String> {
    let method = message.method()?;
    if let Some(problem) = jsonrpc::method_problem(method) {
        return Some(format!("method name refused: {problem}"));
    }
    let target = target_name(method, message.params())?;
    jsonrpc::name_problem(&target).map(|problem| format!("tool name refused: {problem}"))
}

/// A version refusal: JSON-RPC code, reason, and what joins `error.data`.
pub(super) type VersionRefusal = (i64, String, Option<Value>);

/// The protocol version: the `MCP-Protocol-Version` header, and 2025-03-26 without one
/// (DESIGN §2; `_meta` does not stand in for the header). Returns it with `_meta`'s version.
pub(super) fn negotiate_version(
    headers: &HeaderMap,
    message: &Message,
) -> Result<(String, Option<String>), VersionRefusal> {
    let header_version = header(headers, "mcp-protocol-version").map(str::to_string);
    let meta_version = message
        .params()
        .and_then(|p| p.pointer("/_meta/io.modelcontextprotocol~1protocolVersion"))
        .and_then(Value::as_str)
        .map(String::from);
    let version = header_version
        .clone()
        .unwrap_or_else(|| DEFAULT_VERSION.to_string());
    if !SUPPORTED_VERSIONS.contains(&version.as_str()) {
        let shown = jsonrpc::printable_prefix(&version, 64);
        return Err((
            jsonrpc::UNSUPPORTED_VERSION,
            format!("unsupported protocol version {shown:?}"),
            Some(json!({"supported": SUPPORTED_VERSIONS, "requested": shown})),
        ));
    }
    if header_version.is_none() && meta_version.as_deref() == Some(MODERN_VERSION) {
        return Err((
            jsonrpc::HEADER_MISMATCH,
            "MCP-Protocol-Version header is required for 2026-07-28".into(),
            None,
        ));
    }
    Ok((version, meta_version))
}

/// 2026-07-28: the body is the truth; the mirrored headers must agree with it.
pub(super) fn check_mirrored_headers(
    headers: &HeaderMap,
    message: &Message,
    meta_version: Option<&str>,
) -> Result<(), String> {
    if meta_version != Some(MODERN_VERSION) && !matches!(message, Message::Response { .. }) {
        return Err("MCP-Protocol-Version header does not match _meta protocolVersion".into());
    }
    let Some(m) = message.method() else {
        return Ok(());
    };
    match header(headers, "mcp-method").and_then(decode_sentinel) {
        Some(h) if h == m => {}
        Some(h) => {
            return Err(format!(
                "Mcp-Method {:?} does not match the body method {m:?}",
                jsonrpc::printable_prefix(&h, 64)
            ))
        }
        None => return Err("Mcp-Method header is required".into()),
    }
    if matches!(m, "tools/call" | "resources/read" | "prompts/get") {
        let body_name = target_name(m, message.params());
        let header_name = header(headers, "mcp-name").and_then(decode_sentinel);
        if header_name != body_name {
            return Err("Mcp-Name header does not match the body".into());
        }
    }
    Ok(())
}

/// The 2025-era session every request but `initialize` carries: (state, id hash), or the
/// status and reason to refuse with (400 missing, 404 unknown).
pub(super) async fn client_session(
    gw: &Gateway,
    claims: &Claims,
    headers: &HeaderMap,
) -> Result<(SessionState, String), (u16, &'static str)> {
    let Some(sid) = header(headers, "mcp-session-id") else {
        return Err((
            400,
            "Mcp-Session-Id header is required (send initialize first)",
        ));
    };
    match open_session(gw, sid, claims).await {
        Some(state) => Ok((state, id_hash(sid))),
        None => Err((404, "unknown or expired session; initialize again")),
    }
}

pub(super) fn parsed<'a>(ctx: &'a Ctx, value: &'a Value) -> Parsed<'a> {
    Parsed {
        gw: &ctx.gw,
        claims: &ctx.claims,
        value,
    }
}

/// The way to upstream: the client's own upstream session (2025 era), else the shared one.
pub(super) fn route(ctx: &Ctx) -> Route {
    match &ctx.session {
        Some(s) => Route::Session {
            upstream_session: s.u.clone(),
            version: s.v.clone(),
        },
        None => Route::Shared,
    }
}

pub(super) fn exchange(ctx: &Ctx) -> relay::Exchange {
    relay::Exchange {
        gw: ctx.gw.clone(),
        route: route(ctx),
        modern: ctx.modern,
        param_headers: ctx.param_headers.clone(),
        session_hash: ctx.session_hash.clone(),
    }
}

/// Chain the refusal of an authenticated request that has no parsed message (body stage,
/// DELETE, other HTTP methods) under the token's tenant, then answer with the JSON-RPC error.
pub(super) async fn refuse_request(
    gw: &Gateway,
    claims: &Claims,
    status: u16,
    code: i64,
    reason: &str,
    on: &str,
) -> Response<Body> {
    let recorded = format!("{reason} ({on})");
    let decision_id = record_request_refusal(gw, claims, &recorded, None, None).await;
    let data =
        json!({"check": Check::Request.as_str(), "reason": reason, "decision_id": decision_id});
    rpc_error(status, &Value::Null, code, reason, Some(data))
}

/// Chain the refusal of a live token's request (malformed, unnamed, unserved, no session…)
/// under its own tenant. Names are bounded: a refused name is kept truncated, with its size and
/// SHA-256 in the reason.
pub(super) async fn record_request_refusal(
    gw: &Gateway,
    claims: &Claims,
    reason: &str,
    method: Option<&str>,
    tool: Option<&str>,
) -> Option<String> {
    let mut reason = jsonrpc::printable_prefix(reason, crate::unauth::MAX_REASON_BYTES / 2);
    let mut kept = [None, None];
    for ((name, slot), what) in [method, tool]
        .into_iter()
        .zip(&mut kept)
        .zip(["method", "tool"])
    {
        if let Some(n) = name {
            let (name, note) = jsonrpc::recordable_name(n);
            *slot = Some(name);
            if let Some(note) = note {
                reason.push_str(&format!("; {what} name truncated ({note})"));
            }
        }
    }
    let mut e = gw.audit.refusal(claims, Check::Request, reason);
    [e.method, e.tool] = kept;
    match gw.audit.append(Record::of(e)).await {
        Ok(e) => Some(e.event_id),
        Err(err) => {
            tracing::error!(error = %err, "refusal could not be chained");
            None
        }
    }
}

/// Open a session id for this token: genuine, not deleted, not idle too long, and bound to the
/// token's (tenant, root subject).
pub(super) async fn open_session(gw: &Gateway, sid: &str, claims: &Claims) -> Option<SessionState> {
    gw.sessions
        .open(&gw.store, sid, &claims.root.tenant, &claims.root.sub)
        .await
}
