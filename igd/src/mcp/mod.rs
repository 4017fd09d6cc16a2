//! `POST /v1/mcp` (DESIGN §2): both MCP protocol eras on one endpoint.
//!
//! Order of checks: Origin → authentication → content type and Accept → body limit → JSON →
//! JSON-RPC shape → protocol version → header/body agreement → session → method. `tools/call`
//! goes through [`crate::pipeline`]; igd forwards the message it checked, re-serialized, never
//! the raw bytes, and never the agent's token.
//!
//! The parts: [`wire`] (versions, answers, names), [`auth`], [`admission`], [`session`],
//! [`lifecycle`]; this module routes a request through them and hands every gated method to
//! [`crate::pipeline`], which owns the call from its first check to its outcome entry.

use crate::gateway::Gateway;
use crate::http::{read_body, Body, RequestBody};
use crate::jsonrpc::{self, parse_strict, Message};
use crate::pipeline::{self, Call, Owed};
use crate::relay;
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tracing::Instrument;

mod admission;
mod auth;
mod held;
mod lifecycle;
mod session;
mod wire;

use admission::*;
use auth::*;
use lifecycle::*;
use session::*;
use wire::*;

pub use session::record_rate_summary;
pub use wire::SUPPORTED_VERSIONS;

/// Entry point for `/v1/mcp`, in an `mcp.request` span (exported only with an OTLP endpoint;
/// its attributes never carry the token, the arguments or agent-chosen names).
pub async fn handle(
    gw: Arc<Gateway>,
    req: Request<RequestBody>,
    remote: SocketAddr,
) -> Response<Body> {
    let span = tracing::trace_span!(
        target: crate::telemetry::TARGET,
        "mcp.request",
        otel.kind = "server",
        mcp.method = tracing::field::Empty,
        mcp.era = tracing::field::Empty,
        decision = tracing::field::Empty,
        check = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    // Boxed: the request's future holds the whole call (several kilobytes); the futures around
    // it (hyper's, the connection's) are moved by value as they are built, and then move only
    // a pointer (memmove was ~9 % of igd's CPU at peak before).
    let resp = Box::pin(route(gw, req, remote))
        .instrument(span.clone())
        .await;
    span.record("http.response.status_code", resp.status().as_u16());
    resp
}

async fn route(gw: Arc<Gateway>, req: Request<RequestBody>, remote: SocketAddr) -> Response<Body> {
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
    let span = tracing::Span::current();
    if !span.is_disabled() {
        span.record("mcp.era", if modern { "modern" } else { "legacy" });
        if let Message::Request { method, .. } | Message::Notification { method, .. } = &message {
            span.record("mcp.method", method_label(method));
        }
    }
    let ctx = Ctx {
        gw: gw.clone(),
        claims,
        version,
        modern,
        session,
        session_hash,
        remote_addr: client.to_string(),
        param_headers,
        on_hold: None,
    };
    // 10. Method.
    match message {
        Message::Notification { method, .. } => {
            forward_notification(&ctx, &value, &method).await;
            accepted()
        }
        Message::Response { id } => relay_response(&ctx, &value, &id).await,
        Message::Request { id, method, params } => {
            // A call that may wait for a person is run in a task of its own, so a streaming
            // client can be answered with keep-alives while it waits (and the wait outlives
            // no agent: dropping the answer aborts the task).
            if method == "tools/call" && gw.approvals.is_some() && held::streams(headers) {
                return held::run(ctx, value, id, params).await;
            }
            dispatch(&ctx, &value, id, &method, params.as_ref()).await
        }
    }
}

/// MCP methods named as such in spans; any other (an agent can send any string) is `other`.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "subscriptions/listen",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
];

fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
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
        remote_addr: &ctx.remote_addr,
        protocol_version: &ctx.version,
        prompt: crate::intent::prompt_of(value.get("params")),
        on_hold: ctx.on_hold.as_deref().map(pipeline::OnHold),
    };
    // `Mcp-Name` mirrors a tool, prompt or resource name; completions have none.
    let name = (method != "completion/complete")
        .then(|| target_name(method, value.get("params")))
        .flatten();
    let forward = |owed| forward(ctx, value, id, method, name.as_deref(), owed);
    let decided = pipeline::run(ctx.gw.pipeline(), &call, forward).await;
    let span = tracing::Span::current();
    match decided {
        Ok(resp) => {
            span.record("decision", "allow");
            resp
        }
        Err(refusal) => {
            span.record("decision", "block");
            span.record("check", refusal.check.as_str());
            refusal_response(id, &refusal)
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
    owed: Owed,
) -> Response<Body> {
    relay::forward(&exchange(ctx), value, id, method, name, owed).await
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
        return forward(ctx, value, id, METHOD, None, Owed::nothing()).await;
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
    let args: Vec<Value> = uris.iter().map(|uri| json!({ "uri": uri })).collect();
    let prompt = crate::intent::prompt_of(params);
    let calls: Vec<Call> = uris
        .iter()
        .zip(&args)
        .map(|(uri, args)| Call {
            claims: &ctx.claims,
            method: "resources/subscribe",
            tool: uri,
            args,
            remote_addr: &ctx.remote_addr,
            protocol_version: &ctx.version,
            prompt,
            on_hold: None,
        })
        .collect();
    let forward = |allowed: Vec<usize>, owed| {
        let mut narrowed = value.clone();
        if let Some(list) = narrowed.pointer_mut("/params/notifications/resourceSubscriptions") {
            *list = allowed.iter().map(|&i| json!(uris[i])).collect();
        }
        async move { forward(ctx, &narrowed, id, METHOD, None, owed).await }
    };
    match pipeline::run_each(ctx.gw.pipeline(), &calls, forward).await {
        Ok(resp) => resp,
        Err(refusal) => refusal_response(id, &refusal),
    }
}
