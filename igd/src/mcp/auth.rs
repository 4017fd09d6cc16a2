//! Authentication of every `/v1/mcp` request, from its headers alone: the bearer capability
//! token verifies and is live; refusals are chained (rate-limited) and answered 401.

use super::wire::*;
use crate::clock::now_secs;
use crate::gateway::Gateway;
use crate::http::Body;
use crate::jsonrpc;
use crate::pipeline::Check;
use crate::unauth::Refused;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::Response;
use intentgate_proto::token::{self, Claims, TokenError};
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};

/// Why a request did not authenticate.
pub(super) struct AuthFailure {
    pub(super) reason: String,
    /// Claims of a token whose MAC verified (expired, revoked, stopped): chained to its tenant.
    pub(super) verified: Option<Box<Claims>>,
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub(super) fn authenticate(gw: &Gateway, headers: &HeaderMap) -> Result<Claims, AuthFailure> {
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
    if let Err(reason) = gw.revocations.check(&claims, now_secs()) {
        return Err(AuthFailure {
            reason,
            verified: Some(Box::new(claims)),
        });
    }
    Ok(claims)
}

pub(super) fn unauthorized(reason: &str, decision_id: Option<String>) -> Response<Body> {
    let mut resp = rpc_error(
        401,
        &Value::Null,
        jsonrpc::REFUSED_CAPABILITY,
        reason,
        Some(
            json!({"check": Check::Capability.as_str(), "reason": reason, "decision_id": decision_id}),
        ),
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
pub(super) async fn refuse_at_authentication(
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
        .refuse(who, &recorded, method, tool)
        .await;
    unauthorized(&fail.reason, decision_id)
}

/// The client address, honouring `X-Forwarded-For` only from trusted proxies.
pub(super) fn client_ip(gw: &Gateway, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    crate::http::client_ip(&gw.settings.trusted_proxies, headers, peer.ip())
}
