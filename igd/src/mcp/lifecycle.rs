//! Lifecycle methods, answered without a decision: `initialize` (opens the 2025-era session),
//! `server/discover`, `tools/list` filtered to the token's tools, and the client notifications
//! and responses passed to the client's upstream session.

use super::admission::*;
use super::session::*;
use super::wire::*;
use crate::clock::now_secs;
use crate::gateway::Gateway;
use crate::http::Body;
use crate::jsonrpc;
use crate::relay;
use crate::sessions::SessionState;
use crate::upstream::MODERN_VERSION;
use hyper::header::HeaderValue;
use hyper::Response;
use serde_json::{json, Map, Value};

/// Client notifications go to the client's upstream session (2025 era). Only the ones a client
/// sends by the spec travel; others are accepted and dropped.
pub(super) async fn forward_notification(ctx: &Ctx, value: &Value, method: &str) {
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
pub(super) async fn relay_response(ctx: &Ctx, value: &Value, id: &Value) -> Response<Body> {
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
pub(super) async fn forward_client_message(ctx: &Ctx, value: &Value, method: &str) {
    if ctx.session.as_ref().is_some_and(|s| s.u.is_some()) {
        ctx.gw.upstream.pass(&route(ctx), value, method).await;
    }
}

pub(super) fn discover_result() -> Value {
    json!({
        "supportedVersions": [MODERN_VERSION],
        "capabilities": {"tools": {"listChanged": false}},
        "resultType": "complete",
        "cacheScope": "private",
        "ttlMs": 0,
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "intentgate", "version": env!("CARGO_PKG_VERSION")}},
    })
}

/// Capabilities a client may see: igd serves tools; other families only when forwarded.
pub(super) fn filter_capabilities(gw: &Gateway, result: &mut Map<String, Value>) {
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

pub(super) async fn initialize(ctx: &Ctx, id: &Value, params: Option<&Value>) -> Response<Body> {
    let gw = &ctx.gw;
    if let Err(refusal) = session_rate(gw, &ctx.claims, "initialize").await {
        return refusal_response(id, &refusal);
    }
    let (upstream_session, mut result) = match gw.upstream.initialize(params).await {
        Ok(pair) => pair,
        Err(e) => return http_json(200, &relay::upstream_refusal(id, &e, None)),
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

pub(super) async fn tools_list(ctx: &Ctx, value: &Value, id: &Value) -> Response<Body> {
    let route = route(ctx);
    let request = ctx.gw.upstream.request(&route, value, "tools/list");
    let mut answer = match request.await {
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
