//! The admin API (DESIGN §6): who the caller is, what they may touch, and the routing of each
//! request to the handler of its resource.
//!
//! Transport-independent: the Unix-socket and bearer front ends both resolve a [`Caller`] and
//! call [`handle`]. Every state-changing action is chained (`kind: admin`) before it takes effect,
//! so an action that could not be audited is not performed. Answers and request bodies are the
//! wire types of [`intentgate_proto::api`], shared with igctl.
//!
//! One module per resource: [`tokens`] (mint, list, revoke, revocations), [`stops`],
//! [`tenants`] (tenants, agents), [`audit`] (list, export), [`verify`] (verify, checkpoints,
//! key announcement, re-baseline) and [`retention`] (erase, prune, the `_unauthenticated` quota).
//! [`operators`] (accounts, whoami), [`totp`] (enrollment and `step_up`, which every
//! step-up-gated handler calls after its role check and before it chains anything) and
//! [`elevations`] (JIT admin, approved by another admin), [`notify`] (notification channels).
//! They use this module's caller, error and scope helpers and, from the rest of igd, the
//! gateway, store and audit writer. Nothing calls into them but the server's routing, and
//! `lib.rs`'s quota task (`retention::enforce_unauthenticated_quota`).

mod approvals;
mod audit;
mod elevations;
pub mod identity;
mod integrations;
mod notify;
mod operators;
mod policies;
pub mod retention;
mod stops;
mod tenants;
mod tokens;
pub(crate) mod totp;
mod verify;

use crate::audit::{Actor, AuditError};
use crate::clock::parse_rfc3339;
use crate::gateway::Gateway;
use crate::http::{json_response, Body};
use bytes::Bytes;
use hyper::{Method, Response};
use intentgate_proto::api::{ErrorBody, ErrorCode, StopRequest};
use intentgate_proto::ids::valid_tenant;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;

/// How a caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A Unix-socket peer (its uid).
    Socket,
    /// An mTLS client certificate on the admin listener.
    Certificate,
    /// A per-operator API token.
    OperatorToken,
    /// The break-glass superadmin bearer (`INTENTGATE_ADMIN_TOKEN`).
    AdminToken,
    /// A tenant admin bearer (`INTENTGATE_TENANT_ADMINS`).
    TenantAdmin,
}

impl Via {
    pub const fn as_str(self) -> &'static str {
        match self {
            Via::Socket => "socket",
            Via::Certificate => "certificate",
            Via::OperatorToken => "operator-token",
            Via::AdminToken => "admin-token",
            Via::TenantAdmin => "tenant-admin",
        }
    }

    /// Break-glass identities cannot pass step-up (DESIGN §6).
    pub const fn break_glass(self) -> bool {
        matches!(self, Via::AdminToken | Via::TenantAdmin)
    }
}

/// Who is calling the admin API, resolved per request ([`identity::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    identity: String,
    role: Option<Role>,
    tenant: Option<String>,
    via: Via,
    /// The JIT elevation this caller acts under (its role is then admin).
    elevation: Option<String>,
    /// The step-up code presented with this request (`X-IntentGate-TOTP`, or `totp` in a
    /// decide body).
    totp: Option<String>,
}

/// Roles, ordered by power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl Caller {
    pub fn new(identity: String, role: Option<Role>, tenant: Option<String>, via: Via) -> Caller {
        Caller {
            identity,
            role,
            tenant,
            via,
            elevation: None,
            totp: None,
        }
    }

    /// A Unix-socket peer that is an admin by uid (igd's own, root, `INTENTGATE_ADMIN_UIDS`).
    pub fn admin_uid(uid: u32) -> Caller {
        Caller::new(format!("uid:{uid}"), Some(Role::Admin), None, Via::Socket)
    }

    /// A Unix-socket peer with no account: no role.
    pub fn other_uid(uid: u32) -> Caller {
        Caller::new(format!("uid:{uid}"), None, None, Via::Socket)
    }

    pub fn admin_token() -> Caller {
        Caller::new(
            "admin-token".into(),
            Some(Role::Admin),
            None,
            Via::AdminToken,
        )
    }

    pub fn tenant_admin(tenant: &str) -> Caller {
        Caller::new(
            format!("tenant-admin:{tenant}"),
            Some(Role::Operator),
            Some(tenant.to_string()),
            Via::TenantAdmin,
        )
    }

    /// Act as admin under an active elevation.
    pub fn elevated(mut self, elevation_id: String) -> Caller {
        self.role = Some(Role::Admin);
        self.tenant = None;
        self.elevation = Some(elevation_id);
        self
    }

    /// Attach the step-up code presented with this request.
    pub fn with_totp(mut self, code: Option<String>) -> Caller {
        self.totp = code.filter(|c| !c.is_empty());
        self
    }

    /// The identity written into audit entries.
    pub fn identity(&self) -> String {
        self.identity.clone()
    }

    pub fn id(&self) -> &str {
        &self.identity
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    pub fn via(&self) -> Via {
        self.via
    }

    pub fn elevation(&self) -> Option<&str> {
        self.elevation.as_deref()
    }

    pub fn totp(&self) -> Option<&str> {
        self.totp.as_deref()
    }

    /// The actor of the audit entries this caller's actions chain.
    pub fn actor(&self) -> Actor {
        Actor {
            identity: self.identity.clone(),
            elevation_id: self.elevation.clone(),
        }
    }

    /// The tenants this caller is confined to; `None` = all.
    pub fn tenant_scope(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    fn may_access(&self, tenant: &str) -> bool {
        self.tenant_scope().is_none_or(|t| t == tenant)
    }
}

/// An admin-API error: code plus a message that says what to do.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
    fn bad(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }
    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "admin request failed on storage");
        ApiError::new(
            ErrorCode::Unavailable,
            format!("storage is unavailable: {e}"),
        )
    }
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> Self {
        ApiError::new(
            ErrorCode::Unavailable,
            format!("the action was not performed because it could not be audited: {e}"),
        )
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The error as an HTTP response.
pub fn error_response(e: &ApiError) -> Response<Body> {
    json_response(
        e.code.http_status(),
        &ErrorBody::new(e.code, e.message.clone()),
    )
}

fn ok<T: Serialize>(value: &T) -> ApiResult<Response<Body>> {
    Ok(json_response(200, value))
}

pub(crate) fn parse_body<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("invalid JSON body: {e}")))
}

/// Query-string parameters, percent-decoded.
pub fn query_params(query: Option<&str>) -> BTreeMap<String, String> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Route one admin request. `path` excludes the query string.
pub async fn handle(
    gw: &Gateway,
    caller: &Caller,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: Bytes,
) -> Response<Body> {
    let result = route(gw, caller, method, path, query, body).await;
    match result {
        Ok(resp) => {
            // Every answered admin call is logged (state-changing ones are also chained).
            tracing::info!(
                actor = %caller.identity(),
                %method,
                %path,
                status = resp.status().as_u16(),
                "admin request"
            );
            resp
        }
        Err(e) => {
            tracing::info!(caller = %caller.identity(), %path, code = %e.code, "admin request refused");
            error_response(&e)
        }
    }
}

async fn route(
    gw: &Gateway,
    caller: &Caller,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: Bytes,
) -> ApiResult<Response<Body>> {
    let Some(role) = caller.role() else {
        return Err(ApiError::forbidden(format!(
            "{} has no operator account; an admin can add one (igctl operator add NAME --uid N \
             --role viewer|operator|admin) or list the uid in INTENTGATE_ADMIN_UIDS",
            caller.identity()
        )));
    };
    // Viewers read; every other method changes state. `whoami`, TOTP enrollment of one's own
    // account and asking for an elevation are open to every role (each checks for itself).
    if role < Role::Operator && method != Method::GET && !SELF_SERVICE.contains(&path) {
        return Err(ApiError::forbidden(format!(
            "{} is a viewer: it may read, not change anything",
            caller.identity()
        )));
    }
    let params = query_params(query);
    match (method, path) {
        (&Method::POST, "/v1/admin/mint") => tokens::mint(gw, caller, parse_body(&body)?).await,
        (&Method::GET, "/v1/admin/tokens") => tokens::list(gw, caller, &params).await,
        (&Method::POST, "/v1/admin/revoke") => tokens::revoke(gw, caller, parse_body(&body)?).await,
        (&Method::GET, "/v1/admin/revocations") => tokens::revocations(gw, caller).await,
        (&Method::GET, "/v1/admin/stops") => stops::list(gw, caller).await,
        (&Method::POST, "/v1/admin/stops") => stops::put(gw, caller, parse_body(&body)?).await,
        (&Method::DELETE, "/v1/admin/stops") => {
            let req: StopRequest = if body.is_empty() {
                StopRequest {
                    tenant: params.get("tenant").cloned().unwrap_or_default(),
                    subject: params.get("subject").cloned(),
                    reason: params.get("reason").cloned().unwrap_or_default(),
                }
            } else {
                parse_body(&body)?
            };
            stops::lift(gw, caller, req).await
        }
        (&Method::GET, "/v1/admin/tenants") => tenants::tenants(gw, caller).await,
        (&Method::GET, "/v1/admin/agents") => tenants::agents(gw, caller).await,
        (&Method::GET, "/v1/admin/audit") => audit::list(gw, caller, &params).await,
        (&Method::GET, "/v1/admin/audit/export") => audit::export(gw, caller, &params).await,
        (&Method::GET, "/v1/admin/audit/verify") => verify::verify(gw, caller, &params).await,
        (&Method::GET, "/v1/admin/audit/checkpoints") => {
            verify::checkpoints(gw, caller, &params).await
        }
        (&Method::POST, "/v1/admin/audit/keys") => {
            verify::announce_key(gw, caller, parse_body(&body)?).await
        }
        (&Method::POST, "/v1/admin/audit/rebaseline") => {
            verify::rebaseline(gw, caller, parse_body(&body)?).await
        }
        (&Method::POST, "/v1/admin/audit/erase") => {
            retention::erase(gw, caller, parse_body(&body)?).await
        }
        (&Method::POST, "/v1/admin/audit/prune") => {
            retention::prune(gw, caller, parse_body(&body)?).await
        }
        (&Method::GET, "/v1/admin/policies/drafts") => policies::list_drafts(gw, caller).await,
        (&Method::POST, "/v1/admin/policies/drafts") => {
            // The role first: a body is read only for who may send it.
            admin_only(caller, "managing policies")?;
            policies::create_draft(gw, caller, parse_body(&body)?).await
        }
        (&Method::GET, p) if draft_path(p).is_some() => {
            policies::show_draft(gw, caller, draft_path(p).unwrap_or_default()).await
        }
        (&Method::DELETE, p) if draft_path(p).is_some() => {
            policies::delete_draft(gw, caller, draft_path(p).unwrap_or_default()).await
        }
        (&Method::GET, "/v1/admin/policies/active") => policies::active(gw).await,
        (&Method::POST, "/v1/admin/policies/active") => {
            // The role first: a body is read only for who may send it.
            admin_only(caller, "promoting a policy")?;
            policies::promote(gw, caller, parse_body(&body)?).await
        }
        (&Method::DELETE, "/v1/admin/policies/active") => policies::clear(gw, caller).await,
        (&Method::POST, "/v1/admin/policies/rollback") => policies::rollback(gw, caller).await,
        (&Method::POST, "/v1/admin/policies/dry-run") => {
            // The role first: a body is read only for who may send it.
            admin_only(caller, "replaying policy decisions")?;
            policies::dry_run(gw, caller, parse_body(&body)?).await
        }
        (&Method::GET, "/v1/admin/whoami") => operators::whoami(gw, caller).await,
        (&Method::GET, "/v1/admin/approvals") => approvals::list(gw, caller, &params).await,
        (&Method::GET, "/v1/admin/approvals/stream") => approvals::stream(gw, caller).await,
        (&Method::POST, p) if id_action(p, "/v1/admin/approvals/", "decide").is_some() => {
            let id = id_action(p, "/v1/admin/approvals/", "decide").unwrap_or_default();
            approvals::decide(gw, caller, id, parse_body(&body)?).await
        }
        (&Method::GET, "/v1/admin/operators") => operators::list(gw, caller).await,
        (&Method::POST, "/v1/admin/operators") => {
            // The role first: a body is read only for who may send it.
            admin_only(caller, "managing operators")?;
            operators::add(gw, caller, parse_body(&body)?).await
        }
        (&Method::DELETE, p) if item_path(p, "/v1/admin/operators/").is_some() => {
            let name = item_path(p, "/v1/admin/operators/").unwrap_or_default();
            operators::remove(gw, caller, name).await
        }
        (&Method::POST, "/v1/admin/totp/enroll") => totp::enroll(gw, caller).await,
        (&Method::POST, "/v1/admin/totp/confirm") => {
            totp::confirm(gw, caller, parse_body(&body)?).await
        }
        (&Method::POST, "/v1/admin/totp/disable") => {
            let req = if body.is_empty() {
                intentgate_proto::api::TotpDisable::default()
            } else {
                parse_body(&body)?
            };
            totp::disable(gw, caller, req).await
        }
        (&Method::GET, "/v1/admin/elevations") => elevations::list(gw, caller).await,
        (&Method::GET, "/v1/admin/integrations") => integrations::list(gw, caller).await,
        (&Method::POST, "/v1/admin/elevations") => {
            elevations::request(gw, caller, parse_body(&body)?).await
        }
        (&Method::POST, p) if id_action(p, "/v1/admin/elevations/", "approve").is_some() => {
            let id = id_action(p, "/v1/admin/elevations/", "approve").unwrap_or_default();
            elevations::approve(gw, caller, id).await
        }
        (&Method::GET, "/v1/admin/notify") => notify::list(gw, caller, &params).await,
        (&Method::POST, "/v1/admin/notify") => notify::add(gw, caller, parse_body(&body)?).await,
        (&Method::DELETE, p) if item_path(p, "/v1/admin/notify/").is_some() => {
            let id = item_path(p, "/v1/admin/notify/").unwrap_or_default();
            notify::remove(gw, caller, id).await
        }
        (&Method::POST, p) if id_action(p, "/v1/admin/notify/", "test").is_some() => {
            let id = id_action(p, "/v1/admin/notify/", "test").unwrap_or_default();
            notify::test(gw, caller, id).await
        }
        (&Method::POST, p) if id_action(p, "/v1/admin/notify/", "preview").is_some() => {
            let id = id_action(p, "/v1/admin/notify/", "preview").unwrap_or_default();
            let req = if body.is_empty() {
                intentgate_proto::api::NotifyPreviewRequest::default()
            } else {
                parse_body(&body)?
            };
            notify::preview(gw, caller, id, req).await
        }
        (_, p) if KNOWN_PATHS.contains(&p) || draft_path(p).is_some() => Err(ApiError::bad(
            format!("method {method} is not allowed on {p}"),
        )),
        // Another method on an audit path is answered as an unknown endpoint, not as a
        // method not allowed: as igd always has.
        _ => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no admin endpoint {method} {path}"),
        )),
    }
}

/// Paths with an endpoint, for telling a wrong method from an unknown path.
const KNOWN_PATHS: &[&str] = &[
    "/v1/admin/mint",
    "/v1/admin/tokens",
    "/v1/admin/revoke",
    "/v1/admin/revocations",
    "/v1/admin/stops",
    "/v1/admin/tenants",
    "/v1/admin/agents",
    "/v1/admin/policies/drafts",
    "/v1/admin/policies/active",
    "/v1/admin/policies/rollback",
    "/v1/admin/policies/dry-run",
    "/v1/admin/whoami",
    "/v1/admin/approvals",
    "/v1/admin/approvals/stream",
    "/v1/admin/operators",
    "/v1/admin/totp/enroll",
    "/v1/admin/totp/confirm",
    "/v1/admin/totp/disable",
    "/v1/admin/elevations",
    "/v1/admin/notify",
];

/// The `{id}` of `{prefix}{id}` (one path segment).
fn item_path<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    path.strip_prefix(prefix)
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// The `{id}` of `{prefix}{id}/{action}`.
fn id_action<'p>(path: &'p str, prefix: &str, action: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(prefix)?;
    let (id, act) = rest.split_once('/')?;
    (!id.is_empty() && act == action).then_some(id)
}

/// The draft id of `/v1/admin/policies/drafts/{id}`.
fn draft_path(path: &str) -> Option<&str> {
    path.strip_prefix("/v1/admin/policies/drafts/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

fn check_tenant(caller: &Caller, tenant: &str) -> ApiResult<()> {
    if !valid_tenant(tenant) {
        return Err(ApiError::bad(format!(
            "tenant {tenant:?} is not a valid name ([a-z0-9][a-z0-9-]{{0,62}})"
        )));
    }
    if !caller.may_access(tenant) {
        return Err(ApiError::forbidden(format!(
            "{} may not act in tenant {tenant}",
            caller.identity()
        )));
    }
    Ok(())
}

/// Paths every role may POST to: each handler checks what the caller may do there.
const SELF_SERVICE: &[&str] = &[
    "/v1/admin/totp/enroll",
    "/v1/admin/totp/confirm",
    "/v1/admin/totp/disable",
    "/v1/admin/elevations",
    "/v1/admin/integrations",
];

fn admin_only(caller: &Caller, what: &str) -> ApiResult<()> {
    if caller.role() < Some(Role::Admin) || caller.tenant_scope().is_some() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{what} needs an admin"),
        ));
    }
    Ok(())
}

fn time_param(params: &BTreeMap<String, String>, key: &str) -> ApiResult<Option<i64>> {
    match params.get(key) {
        None => Ok(None),
        Some(v) => parse_rfc3339(v).map(Some).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("{key} must be RFC 3339, e.g. 2026-01-31T00:00:00Z"),
            )
        }),
    }
}

/// The tenants a read covers: the caller's own, the one asked for, or (`None`) all.
fn scope(caller: &Caller, requested: Option<&String>) -> ApiResult<Option<Vec<String>>> {
    match (caller.tenant_scope(), requested) {
        (Some(own), Some(t)) if own != t => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{} may not read tenant {t}", caller.identity()),
        )),
        (Some(own), _) => Ok(Some(vec![own.to_string()])),
        (None, Some(t)) => Ok(Some(vec![t.clone()])),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let p = query_params(Some("tenant=acme&subject=a%20b&x"));
        assert_eq!(p["tenant"], "acme");
        assert_eq!(p["subject"], "a b");
        assert_eq!(p["x"], "");
        assert_eq!(query_params(Some("a=%zz"))["a"], "%zz");
        assert_eq!(query_params(Some("a=%4"))["a"], "%4");
    }
}
