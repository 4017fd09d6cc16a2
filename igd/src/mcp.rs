//! `POST /v1/mcp` (DESIGN §2): both MCP protocol eras on one endpoint.
//!
//! Order of checks: Origin → authentication → content type and Accept → body limit → JSON →
//! JSON-RPC shape → protocol version → header/body agreement → session → method. `tools/call`
//! goes through [`crate::pipeline`]; igd forwards the message it checked, re-serialized, never
//! the raw bytes, and never the agent's token.

use crate::clock::now_secs;
use crate::gateway::Gateway;
use crate::http::{full, json_response, read_body, Body, BodyError, RequestBody};
use crate::jsonrpc::{self, classify, parse_strict, Message};
use crate::pipeline::{self, Call, Check, Refusal};
use crate::relay;
use crate::sessions::{id_hash, RateRefusal, SessionState};
use crate::unauth::Refused;
use crate::upstream::{stub_answer, Route, Upstream, MODERN_VERSION};
use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use intentgate_proto::token::{self, Claims, TokenError};
use serde_json::{json, Map, Value};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Protocol versions served, oldest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"];
/// The version assumed when the header is absent.
const DEFAULT_VERSION: &str = "2025-03-26";

/// Everything known about a request once it is authenticated and parsed.
struct Ctx {
    gw: Arc<Gateway>,
    claims: Claims,
    version: String,
    modern: bool,
    session: Option<SessionState>,
    /// Hash of the 2025-era session id (keys the requests upstream sent to this client).
    session_hash: Option<String>,
    remote_addr: String,
    /// `Mcp-Param-*` headers, forwarded unchanged to a 2026-era upstream.
    param_headers: Vec<(String, String)>,
}

fn http_json(status: u16, value: &Value) -> Response<Body> {
    json_response(status, value)
}

fn rpc_error(
    status: u16,
    id: &Value,
    code: i64,
    message: &str,
    data: Option<Value>,
) -> Response<Body> {
    http_json(status, &jsonrpc::error(id, code, message, data))
}

/// Entry point for `/v1/mcp`.
pub async fn handle(
    gw: Arc<Gateway>,
    req: Request<RequestBody>,
    remote: SocketAddr,
) -> Response<Body> {
    if !gw.is_ready() {
        return rpc_error(
            503,
            &Value::Null,
            jsonrpc::REFUSED_AUDIT,
            "igd is not ready",
            None,
        );
    }
    // 1. Origin (DNS-rebinding defence): a browser-sent Origin must be allowed explicitly.
    if let Some(origin) = req.headers().get("origin") {
        let ok = origin
            .to_str()
            .is_ok_and(|o| gw.settings.allowed_origins.iter().any(|a| a == o));
        if !ok {
            return rpc_error(
                403,
                &Value::Null,
                jsonrpc::INVALID_REQUEST,
                "Origin not allowed",
                None,
            );
        }
    }
    match *req.method() {
        Method::POST => post(gw, req, remote).await,
        Method::DELETE => delete(gw, req, remote).await,
        _ => not_offered(gw, req, remote).await,
    }
}

/// GET and the rest: authenticated first like every request (DESIGN §2), then 405 — igd offers
/// no standalone server→client stream, which the spec allows.
async fn not_offered(
    gw: Arc<Gateway>,
    req: Request<RequestBody>,
    peer: SocketAddr,
) -> Response<Body> {
    let on = format!(
        "{} /v1/mcp",
        jsonrpc::printable_prefix(req.method().as_str(), 32)
    );
    let claims = match authenticate(&gw, req.headers()) {
        Ok(c) => c,
        Err(fail) => {
            let client = client_ip(&gw, req.headers(), peer);
            return refuse_at_authentication(&gw, fail, client, None, None, Some(&on)).await;
        }
    };
    let reason = "use POST (GET streams are not offered)";
    let mut resp = refuse_request(&gw, &claims, 405, jsonrpc::INVALID_REQUEST, reason, &on).await;
    resp.headers_mut()
        .insert("allow", HeaderValue::from_static("POST, DELETE"));
    resp
}

/// Why a request did not authenticate.
struct AuthFailure {
    reason: String,
    /// Claims of a token whose MAC verified (expired, revoked, stopped): chained to its tenant.
    verified: Option<Box<Claims>>,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn authenticate(gw: &Gateway, headers: &HeaderMap) -> Result<Claims, AuthFailure> {
    let Some(text) = bearer(headers) else {
        return Err(AuthFailure {
            reason: "missing bearer capability token".into(),
            verified: None,
        });
    };
    let claims = token::verify_signature(&gw.keys.ring, text).map_err(|e| AuthFailure {
        reason: match e {
            TokenError::BadSignature | TokenError::UnknownKid(_) => e.to_string(),
            other => format!("invalid token: {other}"),
        },
        verified: None,
    })?;
    if claims.check_expiry(now_secs()).is_err() {
        return Err(AuthFailure {
            reason: "token expired".into(),
            verified: Some(Box::new(claims)),
        });
    }
    if let Some(jti) = gw.revoked_in_chain(&claims.root.tenant, claims.chain()) {
        let reason = format!("token revoked (jti {jti})");
        return Err(AuthFailure {
            reason,
            verified: Some(Box::new(claims)),
        });
    }
    if gw.stopped(&claims.root.tenant, &claims.root.sub) {
        return Err(AuthFailure {
            reason: "an emergency stop is in force for this agent".into(),
            verified: Some(Box::new(claims)),
        });
    }
    Ok(claims)
}

fn unauthorized(reason: &str, decision_id: Option<String>) -> Response<Body> {
    let mut resp = rpc_error(
        401,
        &Value::Null,
        jsonrpc::REFUSED_CAPABILITY,
        reason,
        Some(json!({"check": "capability", "reason": reason, "decision_id": decision_id})),
    );
    resp.headers_mut().insert(
        hyper::header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"intentgate\""),
    );
    resp
}

/// Record a refusal at authentication (rate-limited: `_unauthenticated` for tokens that do not
/// verify, the token's tenant for dead ones) and answer 401. `on` names a request that is not a
/// POST (`GET /v1/mcp`), for the record.
async fn refuse_at_authentication(
    gw: &Gateway,
    fail: AuthFailure,
    client: IpAddr,
    method: Option<&str>,
    tool: Option<&str>,
    on: Option<&str>,
) -> Response<Body> {
    let recorded = match on {
        Some(on) => format!("{} ({on})", fail.reason),
        None => fail.reason.clone(),
    };
    let who = match &fail.verified {
        Some(claims) => Refused::Dead(claims),
        None => Refused::Anonymous(client),
    };
    let decision_id = gw
        .unauthenticated
        .refuse(gw, who, &recorded, method, tool)
        .await;
    unauthorized(&fail.reason, decision_id)
}

/// The client address, honouring `X-Forwarded-For` only from trusted proxies.
fn client_ip(gw: &Gateway, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    crate::http::client_ip(&gw.settings.trusted_proxies, headers, peer.ip())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn accepts(headers: &HeaderMap) -> bool {
    let accept = header(headers, "accept").unwrap_or("");
    let any = accept.contains("*/*");
    any || (accept.contains("application/json") && accept.contains("text/event-stream"))
}

/// Decode a Base64 header sentinel `=?base64?…?=`.
fn decode_sentinel(v: &str) -> Option<String> {
    use base64::Engine as _;
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(v.to_string()),
    }
}

/// The name a gated method acts on (DESIGN §2 `input.tool`): a tool or prompt name, a resource
/// URI, for `completion/complete` the field of `params.ref` its `type` names, and for methods
/// acting on no single name (`resources/list`, `prompts/list`…) the method's own name — never a
/// field the method does not define (an agent could put an allowed name there and act on
/// another). `Err` when the method's name is missing or not a string.
fn decided_name(method: &str, params: Option<&Value>) -> Result<String, String> {
    let field = |v: Option<&Value>, what: &str| {
        v.and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| format!("{method} needs {what} as a string"))
    };
    match method {
        "tools/call" | "prompts/get" => field(params.and_then(|p| p.get("name")), "params.name"),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
            field(params.and_then(|p| p.get("uri")), "params.uri")
        }
        "completion/complete" => {
            let r = params.and_then(|p| p.get("ref"));
            match r.and_then(|r| r.get("type")).and_then(Value::as_str) {
                Some("ref/prompt") => field(r.and_then(|r| r.get("name")), "params.ref.name"),
                Some("ref/resource") => field(r.and_then(|r| r.get("uri")), "params.ref.uri"),
                _ => Err(format!(
                    "{method} needs params.ref.type \"ref/prompt\" or \"ref/resource\""
                )),
            }
        }
        m => Ok(m.to_string()),
    }
}

/// The name a gated method acts on, as far as it can be read (for checks and the record);
/// `None` for methods acting on no single name.
fn target_name(method: &str, params: Option<&Value>) -> Option<String> {
    match method {
        "tools/call"
        | "prompts/get"
        | "resources/read"
        | "resources/subscribe"
        | "resources/unsubscribe"
        | "completion/complete" => decided_name(method, params).ok(),
        _ => None,
    }
}

/// The method and target of a message as far as they can be read (for the record).
fn names_of(value: &Value) -> (Option<&str>, Option<String>) {
    let method = value.get("method").and_then(Value::as_str);
    let tool = method.and_then(|m| target_name(m, value.get("params")));
    (method, tool)
}

async fn post(gw: Arc<Gateway>, req: Request<RequestBody>, peer: SocketAddr) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let client = client_ip(&gw, headers, peer);

    // 2. Authentication, from headers alone.
    let claims = match authenticate(&gw, headers) {
        Ok(c) => c,
        Err(fail) => {
            // Learn the method and tool for the audit entry (bounded, best effort).
            let peek = read_body(body, gw.settings.max_body_bytes).await.ok();
            let msg = peek.as_deref().and_then(|b| parse_strict(b).ok());
            let (method, tool) = msg.as_ref().map(names_of).unwrap_or((None, None));
            return refuse_at_authentication(&gw, fail, client, method, tool.as_deref(), None)
                .await;
        }
    };
    // 3.–5. Content type, Accept, body limit, JSON.
    let value = match read_json(&gw, &claims, headers, body).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    // From here on the body is known: every refusal is chained under the token's tenant.
    let parsed = Parsed {
        gw: &gw,
        claims: &claims,
        value: &value,
    };
    let admitted = match admit(&parsed, headers).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let param_headers = headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("mcp-param-"))
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let Admitted {
        message,
        version,
        modern,
        session,
    } = admitted;
    let (session, session_hash) = session.map_or((None, None), |(s, h)| (Some(s), Some(h)));
    let ctx = Ctx {
        gw: gw.clone(),
        claims,
        version,
        modern,
        session,
        session_hash,
        remote_addr: client.to_string(),
        param_headers,
    };
    // 10. Method.
    match message {
        Message::Notification { method, .. } => {
            forward_notification(&ctx, &value, &method).await;
            accepted()
        }
        Message::Response { id } => relay_response(&ctx, &value, &id).await,
        Message::Request { id, method, params } => {
            dispatch(&ctx, &value, id, &method, params.as_ref()).await
        }
    }
}

fn accepted() -> Response<Body> {
    let mut resp = Response::new(full(Bytes::new()));
    *resp.status_mut() = StatusCode::ACCEPTED;
    resp
}

/// Content type and Accept (415 / 406), body limit (413), JSON (−32700).
async fn read_json(
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
struct Parsed<'a> {
    gw: &'a Gateway,
    claims: &'a Claims,
    value: &'a Value,
}

impl Parsed<'_> {
    /// The id to answer with: the message's when it is a usable one.
    fn id(&self) -> Value {
        self.value
            .get("id")
            .filter(|i| i.is_string() || i.is_number())
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Chain the refusal, then answer with the JSON-RPC error; `extra` joins `error.data`.
    async fn refuse(
        &self,
        status: u16,
        code: i64,
        reason: &str,
        extra: Option<Value>,
    ) -> Response<Body> {
        let (method, tool) = names_of(self.value);
        let decision_id =
            record_request_refusal(self.gw, self.claims, reason, method, tool.as_deref()).await;
        let mut data = json!({"check": "request", "reason": reason, "decision_id": decision_id});
        if let (Some(d), Some(Value::Object(more))) = (data.as_object_mut(), extra) {
            d.extend(more);
        }
        rpc_error(status, &self.id(), code, reason, Some(data))
    }
}

/// What admission established about a message.
struct Admitted {
    message: Message,
    version: String,
    modern: bool,
    /// The 2025-era session and the hash of its id.
    session: Option<(SessionState, String)>,
}

/// 6.–9. JSON-RPC shape (with bounded names), protocol version, header/body agreement, session.
async fn admit(p: &Parsed<'_>, headers: &HeaderMap) -> Result<Admitted, Response<Body>> {
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
fn name_problems(message: &Message) -> Option<String> {
    let method = message.method()?;
    if let Some(problem) = jsonrpc::method_problem(method) {
        return Some(format!("method name refused: {problem}"));
    }
    let target = target_name(method, message.params())?;
    jsonrpc::name_problem(&target).map(|problem| format!("tool name refused: {problem}"))
}

/// A version refusal: JSON-RPC code, reason, and what joins `error.data`.
type VersionRefusal = (i64, String, Option<Value>);

/// The protocol version: the `MCP-Protocol-Version` header, and 2025-03-26 without one
/// (DESIGN §2; `_meta` does not stand in for the header). Returns it with `_meta`'s version.
fn negotiate_version(
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
fn check_mirrored_headers(
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
async fn client_session(
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
    match gw.open_session(sid, claims).await {
        Some(state) => Ok((state, id_hash(sid))),
        None => Err((404, "unknown or expired session; initialize again")),
    }
}

/// Client notifications go to the client's upstream session (2025 era). Only the ones a client
/// sends by the spec travel; others are accepted and dropped.
async fn forward_notification(ctx: &Ctx, value: &Value, method: &str) {
    const CLIENT_NOTIFICATIONS: &[&str] = &[
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
    ];
    if !CLIENT_NOTIFICATIONS.contains(&method) {
        tracing::debug!(%method, "client notification not forwarded");
        return;
    }
    forward_client_message(ctx, value, method).await;
}

/// A client response is relayed only when it answers a request upstream sent on this session
/// (and only once); anything else is refused and chained.
async fn relay_response(ctx: &Ctx, value: &Value, id: &Value) -> Response<Body> {
    let answers = ctx
        .session_hash
        .as_deref()
        .is_some_and(|h| ctx.gw.server_requests.take(h, id, now_secs()));
    if !answers {
        let p = Parsed {
            gw: &ctx.gw,
            claims: &ctx.claims,
            value,
        };
        return p
            .refuse(
                400,
                jsonrpc::INVALID_REQUEST,
                "a client response must answer a request upstream sent on this session",
                None,
            )
            .await;
    }
    forward_client_message(ctx, value, "").await;
    accepted()
}

/// Client notifications and responses go to the client's upstream session (2025 era).
async fn forward_client_message(ctx: &Ctx, value: &Value, method: &str) {
    if let (Upstream::Http(up), Some(state)) = (&ctx.gw.upstream, &ctx.session) {
        if state.u.is_some() {
            let route = Route::Session {
                upstream_session: state.u.clone(),
                version: state.v.clone(),
            };
            if let Err(e) = up.send(&route, value, method, None).await {
                tracing::debug!(error = %e, "forwarding a client message failed");
            }
        }
    }
}

fn json_ok(id: &Value, result: Value) -> Response<Body> {
    http_json(200, &jsonrpc::result(id, result))
}

fn is_forwarded_family(gw: &Gateway, method: &str) -> bool {
    gw.settings.forward_methods.iter().any(|m| {
        m == method
            || m.strip_suffix("/*")
                .is_some_and(|prefix| method.starts_with(&format!("{prefix}/")))
    })
}

async fn dispatch(
    ctx: &Ctx,
    value: &Value,
    id: Value,
    method: &str,
    params: Option<&Value>,
) -> Response<Body> {
    match method {
        "initialize" => initialize(ctx, &id, params).await,
        "server/discover" => json_ok(&id, discover_result()),
        "ping" => json_ok(&id, json!({})),
        "tools/list" => tools_list(ctx, value, &id).await,
        "tools/call" => {
            let tool = params
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if tool.is_empty() {
                return parsed(ctx, value)
                    .refuse(
                        200,
                        jsonrpc::INVALID_PARAMS,
                        "tools/call needs params.name",
                        None,
                    )
                    .await;
            }
            let args = params
                .and_then(|p| p.get("arguments"))
                .cloned()
                .unwrap_or(json!({}));
            gated_forward(ctx, value, &id, method, tool, &args).await
        }
        // A 2026-era method: in the 2025 era it is not served, like any other unknown method.
        "subscriptions/listen" if ctx.modern => listen(ctx, value, &id, params).await,
        m if (m.starts_with("resources/")
            || m.starts_with("prompts/")
            || m.starts_with("completion/"))
            && is_forwarded_family(&ctx.gw, m) =>
        {
            let target = match decided_name(m, params) {
                Ok(t) => t,
                Err(reason) => {
                    return parsed(ctx, value)
                        .refuse(200, jsonrpc::INVALID_PARAMS, &reason, None)
                        .await
                }
            };
            let args = params.cloned().unwrap_or(json!({}));
            gated_forward(ctx, value, &id, method, &target, &args).await
        }
        other => {
            parsed(ctx, value)
                .refuse(
                    if ctx.modern { 404 } else { 200 },
                    jsonrpc::METHOD_NOT_FOUND,
                    &format!("method {other:?} is not served by igd"),
                    None,
                )
                .await
        }
    }
}

fn parsed<'a>(ctx: &'a Ctx, value: &'a Value) -> Parsed<'a> {
    Parsed {
        gw: &ctx.gw,
        claims: &ctx.claims,
        value,
    }
}

fn discover_result() -> Value {
    json!({
        "supportedVersions": [MODERN_VERSION],
        "capabilities": {"tools": {"listChanged": false}},
        "resultType": "complete",
        "cacheScope": "private",
        "ttlMs": 0,
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "intentgate", "version": env!("CARGO_PKG_VERSION")}},
    })
}

fn object(v: Option<Value>) -> Map<String, Value> {
    match v {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Capabilities a client may see: igd serves tools; other families only when forwarded.
fn filter_capabilities(gw: &Gateway, result: &mut Map<String, Value>) {
    if let Some(caps) = result
        .get_mut("capabilities")
        .and_then(Value::as_object_mut)
    {
        // A capability stays advertised when any of its methods is forwarded.
        for (capability, method_prefix) in [
            ("resources", "resources/"),
            ("prompts", "prompts/"),
            ("completions", "completion/"),
        ] {
            if !gw
                .settings
                .forward_methods
                .iter()
                .any(|m| m.starts_with(method_prefix))
            {
                caps.remove(capability);
            }
        }
        caps.remove("tasks");
    }
}

async fn initialize(ctx: &Ctx, id: &Value, params: Option<&Value>) -> Response<Body> {
    let gw = &ctx.gw;
    if let Err(refusal) = session_rate(gw, &ctx.claims, "initialize").await {
        return refusal_response(id, &refusal);
    }
    let requested = params
        .and_then(|p| p.get("protocolVersion"))
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_VERSION);
    let (upstream_session, mut result) = match &gw.upstream {
        Upstream::Http(up) => match up.initialize(params.unwrap_or(&json!({}))).await {
            Ok(pair) => pair,
            Err(e) => return http_json(200, &relay::upstream_refusal(id, &e, None)),
        },
        Upstream::Stub => (None, object(stub_answer("initialize", params).ok())),
        Upstream::None => (
            None,
            object(Some(json!({
                "protocolVersion": requested,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {"name": "intentgate", "version": env!("CARGO_PKG_VERSION")},
            }))),
        ),
    };
    filter_capabilities(gw, &mut result);
    let negotiated = result
        .get("protocolVersion")
        .and_then(Value::as_str)
        .filter(|v| SUPPORTED_VERSIONS.contains(v) && *v != MODERN_VERSION)
        .unwrap_or("2025-11-25")
        .to_string();
    result.insert("protocolVersion".into(), json!(negotiated));
    let state = SessionState {
        t: ctx.claims.root.tenant.clone(),
        s: ctx.claims.root.sub.clone(),
        i: now_secs(),
        v: negotiated,
        u: upstream_session,
    };
    let sid = gw.sessions.seal(&state);
    tracing::info!(tenant = %state.t, subject = %state.s, "MCP session opened");
    let mut resp = json_ok(id, Value::Object(result));
    if let Ok(v) = HeaderValue::from_str(&sid) {
        resp.headers_mut().insert("mcp-session-id", v);
    }
    resp
}

fn exchange(ctx: &Ctx) -> relay::Exchange {
    let route = match &ctx.session {
        Some(s) => Route::Session {
            upstream_session: s.u.clone(),
            version: s.v.clone(),
        },
        None => Route::Shared,
    };
    relay::Exchange {
        gw: ctx.gw.clone(),
        route,
        modern: ctx.modern,
        param_headers: ctx.param_headers.clone(),
        session_hash: ctx.session_hash.clone(),
    }
}

async fn tools_list(ctx: &Ctx, value: &Value, id: &Value) -> Response<Body> {
    let mut answer = match relay::request(&exchange(ctx), value, "tools/list").await {
        Ok(a) => a,
        Err(e) => return http_json(200, &relay::upstream_refusal(id, &e, None)),
    };
    if let Some(result) = answer.result_mut() {
        if let Some(tools) = result.get_mut("tools").and_then(Value::as_array_mut) {
            let rights = &ctx.claims.rights.tools;
            tools.retain(|t| {
                t.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| rights.contains(n))
            });
        }
        // The list is per caller: never shared-cached.
        result.insert("cacheScope".into(), json!("private"));
    }
    tracing::info!(tenant = %ctx.claims.root.tenant, subject = %ctx.claims.root.sub, "tools/list answered");
    http_json(200, &answer.for_client(id, ctx.modern, "tools/list"))
}

fn refusal_response(id: &Value, refusal: &Refusal) -> Response<Body> {
    http_json(200, &refusal.to_jsonrpc(id))
}

/// Run the pipeline, then forward.
async fn gated_forward(
    ctx: &Ctx,
    value: &Value,
    id: &Value,
    method: &str,
    target: &str,
    args: &Value,
) -> Response<Body> {
    let call = Call {
        claims: &ctx.claims,
        method,
        tool: target,
        args,
        remote_addr: ctx.remote_addr.clone(),
        protocol_version: &ctx.version,
    };
    match pipeline::decide(&ctx.gw, &call).await {
        Err(refusal) => {
            tracing::info!(tenant = %ctx.claims.root.tenant, subject = %ctx.claims.root.sub, tool = %target, check = refusal.check.as_str(), "call refused");
            refusal_response(id, &refusal)
        }
        Ok(cleared) => {
            cleared.reservation.commit();
            // `Mcp-Name` mirrors a tool, prompt or resource name; completions have none.
            let name = (method != "completion/complete")
                .then(|| target_name(method, value.get("params")))
                .flatten();
            forward(
                ctx,
                value,
                id,
                method,
                name.as_deref(),
                vec![cleared.decision],
            )
            .await
        }
    }
}

/// Forward a request upstream and relay the answer; record the outcome of gated calls.
async fn forward(
    ctx: &Ctx,
    value: &Value,
    id: &Value,
    method: &str,
    name: Option<&str>,
    decisions: Vec<intentgate_proto::audit::Entry>,
) -> Response<Body> {
    relay::forward(&exchange(ctx), value, id, method, name, decisions).await
}

/// Most resources one `subscriptions/listen` may subscribe to (each is a decision).
const MAX_LISTEN_RESOURCES: usize = 64;

/// `subscriptions/listen` (2026 era). Its list-changed flags are lifecycle; each URI in
/// `notifications.resourceSubscriptions` replaces a `resources/subscribe` and is gated as one:
/// refused unless `resources/subscribe` is forwarded, and each URI passes capability, policy and
/// budget with its own decision (`input.method` = `resources/subscribe`, `input.args` =
/// `{"uri": …}`). Only allowed URIs reach upstream, whose acknowledgement tells the agent which
/// were honoured; when none is allowed the agent gets the first refusal.
async fn listen(ctx: &Ctx, value: &Value, id: &Value, params: Option<&Value>) -> Response<Body> {
    const METHOD: &str = "subscriptions/listen";
    let refuse = |reason: String| async move {
        parsed(ctx, value)
            .refuse(200, jsonrpc::INVALID_PARAMS, &reason, None)
            .await
    };
    let subs = params
        .and_then(|p| p.get("notifications"))
        .and_then(|n| n.get("resourceSubscriptions"));
    let uris: Vec<&str> = match subs {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => match items.iter().map(Value::as_str).collect() {
            Some(uris) => uris,
            None => return refuse("resourceSubscriptions must list URIs as strings".into()).await,
        },
        Some(_) => return refuse("resourceSubscriptions must be an array".into()).await,
    };
    if uris.is_empty() {
        return forward(ctx, value, id, METHOD, None, Vec::new()).await;
    }
    if uris.len() > MAX_LISTEN_RESOURCES {
        return refuse(format!(
            "resourceSubscriptions lists {} URIs; at most {MAX_LISTEN_RESOURCES} per stream",
            uris.len()
        ))
        .await;
    }
    if !is_forwarded_family(&ctx.gw, "resources/subscribe") {
        return refuse(
            "resourceSubscriptions subscribe to resources, and resources/subscribe is not \
             forwarded by this gateway"
                .into(),
        )
        .await;
    }
    if let Some(problem) = uris.iter().find_map(|u| jsonrpc::name_problem(u)) {
        return refuse(format!("resource name refused: {problem}")).await;
    }
    let mut allowed = Vec::new();
    let mut decisions = Vec::new();
    let mut first_refusal = None;
    for uri in uris {
        let args = json!({ "uri": uri });
        let call = Call {
            claims: &ctx.claims,
            method: "resources/subscribe",
            tool: uri,
            args: &args,
            remote_addr: ctx.remote_addr.clone(),
            protocol_version: &ctx.version,
        };
        match pipeline::decide(&ctx.gw, &call).await {
            Ok(cleared) => {
                cleared.reservation.commit();
                decisions.push(cleared.decision);
                allowed.push(Value::String(uri.to_string()));
            }
            Err(refusal) => {
                tracing::info!(tenant = %ctx.claims.root.tenant, subject = %ctx.claims.root.sub, tool = %uri, check = refusal.check.as_str(), "resource subscription refused");
                first_refusal.get_or_insert(refusal);
            }
        }
    }
    if let (true, Some(refusal)) = (allowed.is_empty(), &first_refusal) {
        return refusal_response(id, refusal);
    }
    let mut narrowed = value.clone();
    if let Some(list) = narrowed.pointer_mut("/params/notifications/resourceSubscriptions") {
        *list = Value::Array(allowed);
    }
    forward(ctx, &narrowed, id, METHOD, None, decisions).await
}

async fn delete(gw: Arc<Gateway>, req: Request<RequestBody>, peer: SocketAddr) -> Response<Body> {
    let claims = match authenticate(&gw, req.headers()) {
        Ok(c) => c,
        Err(fail) => {
            let client = client_ip(&gw, req.headers(), peer);
            let on = Some("DELETE /v1/mcp");
            return refuse_at_authentication(&gw, fail, client, None, None, on).await;
        }
    };
    let Some(sid) = header(req.headers(), "mcp-session-id").map(String::from) else {
        return refuse_request(
            &gw,
            &claims,
            400,
            jsonrpc::INVALID_REQUEST,
            "Mcp-Session-Id header is required",
            "DELETE /v1/mcp",
        )
        .await;
    };
    if let Err(refusal) = session_rate(&gw, &claims, "DELETE").await {
        let mut resp = http_json(429, &refusal.to_jsonrpc(&Value::Null));
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from_static("60"));
        return resp;
    }
    let Some(state) = gw.open_session(&sid, &claims).await else {
        return refuse_request(
            &gw,
            &claims,
            404,
            jsonrpc::INVALID_REQUEST,
            "unknown or expired session",
            "DELETE /v1/mcp",
        )
        .await;
    };
    if let Err(e) = gw.sessions.delete(&gw.store, &sid).await {
        return refuse_request(
            &gw,
            &claims,
            503,
            jsonrpc::REFUSED_AUDIT,
            &format!("cannot end the session: {e}"),
            "DELETE /v1/mcp",
        )
        .await;
    }
    if let (Upstream::Http(up), Some(u)) = (&gw.upstream, &state.u) {
        up.delete_session(u).await;
    }
    let mut resp = Response::new(full(Bytes::new()));
    *resp.status_mut() = StatusCode::OK;
    resp
}

/// Chain the refusal of an authenticated request that has no parsed message (body stage,
/// DELETE, other HTTP methods) under the token's tenant, then answer with the JSON-RPC error.
async fn refuse_request(
    gw: &Gateway,
    claims: &Claims,
    status: u16,
    code: i64,
    reason: &str,
    on: &str,
) -> Response<Body> {
    let recorded = format!("{reason} ({on})");
    let decision_id = record_request_refusal(gw, claims, &recorded, None, None).await;
    let data = json!({"check": "request", "reason": reason, "decision_id": decision_id});
    rpc_error(status, &Value::Null, code, reason, Some(data))
}

/// Chain the refusal of a live token's request (malformed, unnamed, unserved, no session…)
/// under its own tenant. Names are bounded: a refused name is kept truncated, with its size and
/// SHA-256 in the reason.
async fn record_request_refusal(
    gw: &Gateway,
    claims: &Claims,
    reason: &str,
    method: Option<&str>,
    tool: Option<&str>,
) -> Option<String> {
    let mut e = gw.new_entry(&claims.root.tenant, "decision");
    e.subject = Some(claims.root.sub.clone());
    e.delegated_subject = claims.delegated_subject().map(String::from);
    e.jti = Some(claims.leaf_jti().to_string());
    e.root_jti = Some(claims.root.jti.clone());
    e.jti_chain = Some(claims.chain().map(String::from).collect());
    let mut reason = jsonrpc::printable_prefix(reason, crate::unauth::MAX_REASON_BYTES / 2);
    for (name, slot, what) in [
        (method, &mut e.method, "method"),
        (tool, &mut e.tool, "tool"),
    ] {
        if let Some(n) = name {
            let (kept, note) = jsonrpc::recordable_name(n);
            *slot = Some(kept);
            if let Some(note) = note {
                reason.push_str(&format!("; {what} name truncated ({note})"));
            }
        }
    }
    e.decision = Some("block".into());
    e.check = Some("request".into());
    e.reason = Some(reason);
    match gw
        .audit
        .append(crate::audit::Record {
            entry: e,
            ..Default::default()
        })
        .await
    {
        Ok(e) => Some(e.event_id),
        Err(err) => {
            tracing::error!(error = %err, "refusal could not be chained");
            None
        }
    }
}

impl Gateway {
    /// Open a session id for this token: genuine, not deleted, not idle too long, and bound to
    /// the token's (tenant, root subject).
    async fn open_session(&self, sid: &str, claims: &Claims) -> Option<SessionState> {
        self.sessions
            .open(&self.store, sid, &claims.root.tenant, &claims.root.sub)
            .await
    }
}

/// The per-token limit on `initialize` and `DELETE` (session churn costs upstream sessions
/// and store rows). Refusals are chained, one entry per token per second; the rest are
/// counted into the next entry or a summary. `Err` carries the refusal's decision id.
async fn session_rate(gw: &Gateway, claims: &Claims, method: &str) -> Result<(), Refusal> {
    let now = crate::clock::now_us() as f64 / 1e6;
    let (tenant, root_jti) = (&claims.root.tenant, &claims.root.jti);
    let reason = format!(
        "too many session changes: at most {} initialize/DELETE per minute per token",
        gw.settings.session_ops_per_minute
    );
    let decision_id = match gw.sessions.admit(tenant, root_jti, &claims.root.sub, now) {
        Ok(()) => return Ok(()),
        Err(RateRefusal::Counted { decision_id }) => decision_id,
        Err(RateRefusal::Record { earlier }) => {
            let full = if earlier > 0 {
                format!("{reason} ({earlier} earlier refusals counted into this entry)")
            } else {
                reason.clone()
            };
            let id = record_session_refusal(gw, claims, method, &full).await;
            gw.sessions.recorded(tenant, root_jti, id.clone());
            id
        }
    };
    Err(Refusal {
        check: Check::Budget,
        reason,
        decision_id,
    })
}

/// Chain the session-rate refusals of a token that were counted but not yet recorded.
pub async fn record_rate_summary(gw: &Gateway, s: &crate::sessions::RefusalSummary) {
    let mut e = gw.new_entry(&s.tenant, "decision");
    e.subject = Some(s.subject.clone());
    e.root_jti = Some(s.root_jti.clone());
    e.decision = Some("block".into());
    e.check = Some("budget".into());
    e.reason = Some(format!(
        "{} further initialize/DELETE refusals for this token beyond the session rate limit (summarized)",
        s.count
    ));
    let record = crate::audit::Record {
        entry: e,
        ..Default::default()
    };
    if let Err(err) = gw.audit.append(record).await {
        tracing::error!(error = %err, "session rate summary could not be chained");
    }
}

async fn record_session_refusal(
    gw: &Gateway,
    claims: &Claims,
    method: &str,
    reason: &str,
) -> Option<String> {
    let mut e = gw.new_entry(&claims.root.tenant, "decision");
    e.subject = Some(claims.root.sub.clone());
    e.delegated_subject = claims.delegated_subject().map(String::from);
    e.jti = Some(claims.leaf_jti().to_string());
    e.root_jti = Some(claims.root.jti.clone());
    e.jti_chain = Some(claims.chain().map(String::from).collect());
    e.method = Some(method.to_string());
    e.decision = Some("block".into());
    e.check = Some("budget".into());
    e.reason = Some(reason.to_string());
    let record = crate::audit::Record {
        entry: e,
        ..Default::default()
    };
    match gw.audit.append(record).await {
        Ok(e) => Some(e.event_id),
        Err(err) => {
            tracing::error!(error = %err, "session rate refusal could not be chained");
            None
        }
    }
}
