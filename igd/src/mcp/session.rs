//! 2025-era sessions on the transport: `DELETE /v1/mcp`, and the per-token rate of
//! `initialize`/`DELETE` with its chained refusals and summaries. Sealing, expiry and the
//! store are [`crate::sessions`].

use super::admission::*;
use super::auth::*;
use super::wire::*;
use crate::audit::Record;
use crate::gateway::Gateway;
use crate::http::{full, Body, RequestBody};
use crate::jsonrpc;
use crate::pipeline::{Check, Refusal};
use crate::sessions::RateRefusal;
use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::{Request, Response, StatusCode};
use intentgate_proto::audit::{Kind, Verdict};
use intentgate_proto::token::Claims;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

pub(super) async fn delete(
    gw: Arc<Gateway>,
    req: Request<RequestBody>,
    peer: SocketAddr,
) -> Response<Body> {
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
    let Some(state) = open_session(&gw, &sid, &claims).await else {
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
    if let Some(u) = &state.u {
        gw.upstream.end_session(u).await;
    }
    let mut resp = Response::new(full(Bytes::new()));
    *resp.status_mut() = StatusCode::OK;
    resp
}

/// The per-token limit on `initialize` and `DELETE` (session churn costs upstream sessions
/// and store rows). Refusals are chained, one entry per token per second; the rest are
/// counted into the next entry or a summary. `Err` carries the refusal's decision id.
pub(super) async fn session_rate(
    gw: &Gateway,
    claims: &Claims,
    method: &str,
) -> Result<(), Refusal> {
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
    let mut e = gw.audit.entry(&s.tenant, Kind::Decision);
    e.subject = Some(s.subject.clone());
    e.root_jti = Some(s.root_jti.clone());
    e.decision = Some(Verdict::Block.as_str().into());
    e.check = Some(Check::Budget.as_str().into());
    e.reason = Some(format!(
        "{} further initialize/DELETE refusals for this token beyond the session rate limit (summarized)",
        s.count
    ));
    if let Err(err) = gw.audit.append(Record::of(e)).await {
        tracing::error!(error = %err, "session rate summary could not be chained");
    }
}

pub(super) async fn record_session_refusal(
    gw: &Gateway,
    claims: &Claims,
    method: &str,
    reason: &str,
) -> Option<String> {
    let mut e = gw.audit.refusal(claims, Check::Budget, reason.to_string());
    e.method = Some(method.to_string());
    match gw.audit.append(Record::of(e)).await {
        Ok(e) => Some(e.event_id),
        Err(err) => {
            tracing::error!(error = %err, "session rate refusal could not be chained");
            None
        }
    }
}
