//! The admin API (DESIGN §6): who the caller is, what they may touch, and the handlers.
//!
//! Transport-independent: the Unix-socket and bearer front ends both resolve a [`Caller`] and
//! call [`handle`]. Every state-changing action is chained (`kind: admin`) before it takes effect,
//! so an action that could not be audited is not performed.

use crate::audit::AuditError;
use crate::clock::{now_us, rfc3339};
use crate::gateway::Gateway;
use crate::http::{json_response, Body};
use crate::store::{RevocationRecord, StopRecord, TokenRecord};
use bytes::Bytes;
use hyper::{Method, Response};
use intentgate_proto::api::*;
use intentgate_proto::ids::{is_hex_id, new_id, valid_tenant};
use intentgate_proto::token::{self, RootClaims};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Who is calling the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A Unix-socket peer whose uid is an admin (igd's own uid, root, or `INTENTGATE_ADMIN_UIDS`).
    AdminUid(u32),
    /// A Unix-socket peer with no admin rights.
    OtherUid(u32),
    /// The break-glass superadmin bearer (`INTENTGATE_ADMIN_TOKEN`).
    AdminToken,
    /// A tenant admin bearer (`INTENTGATE_TENANT_ADMINS`): an operator of one tenant.
    TenantAdmin(String),
}

/// Roles, ordered by power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Operator,
    Admin,
}

impl Caller {
    /// The identity written into audit entries.
    pub fn identity(&self) -> String {
        match self {
            Caller::AdminUid(uid) | Caller::OtherUid(uid) => format!("uid:{uid}"),
            Caller::AdminToken => "admin-token".to_string(),
            Caller::TenantAdmin(t) => format!("tenant-admin:{t}"),
        }
    }

    fn role(&self) -> Option<Role> {
        match self {
            Caller::AdminUid(_) | Caller::AdminToken => Some(Role::Admin),
            Caller::TenantAdmin(_) => Some(Role::Operator),
            Caller::OtherUid(_) => None,
        }
    }

    /// The tenants this caller is confined to; `None` = all.
    pub fn tenant_scope(&self) -> Option<&str> {
        match self {
            Caller::TenantAdmin(t) => Some(t),
            _ => None,
        }
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
    let Some(_role) = caller.role() else {
        return Err(ApiError::forbidden(format!(
            "{} is not an admin; add it to INTENTGATE_ADMIN_UIDS",
            caller.identity()
        )));
    };
    let params = query_params(query);
    match (method, path) {
        (&Method::POST, "/v1/admin/mint") => mint(gw, caller, parse_body(&body)?).await,
        (&Method::GET, "/v1/admin/tokens") => tokens(gw, caller, &params).await,
        (&Method::POST, "/v1/admin/revoke") => revoke(gw, caller, parse_body(&body)?).await,
        (&Method::GET, "/v1/admin/revocations") => revocations(gw, caller).await,
        (&Method::GET, "/v1/admin/stops") => stops(gw, caller).await,
        (&Method::POST, "/v1/admin/stops") => put_stop(gw, caller, parse_body(&body)?).await,
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
            lift_stop(gw, caller, req).await
        }
        (&Method::GET, "/v1/admin/tenants") => tenants(gw, caller).await,
        (&Method::GET, "/v1/admin/agents") => agents(gw, caller).await,
        (_, p) if p.starts_with("/v1/admin/audit") => {
            crate::audit_api::handle(gw, caller, method, path, &params, &body).await
        }
        (_, p) if KNOWN_PATHS.contains(&p) => Err(ApiError::bad(format!(
            "method {method} is not allowed on {p}"
        ))),
        _ => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no admin endpoint {method} {path}"),
        )),
    }
}

const KNOWN_PATHS: &[&str] = &[
    "/v1/admin/mint",
    "/v1/admin/tokens",
    "/v1/admin/revoke",
    "/v1/admin/revocations",
    "/v1/admin/stops",
    "/v1/admin/tenants",
    "/v1/admin/agents",
];

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

async fn mint(gw: &Gateway, caller: &Caller, req: MintRequest) -> ApiResult<Response<Body>> {
    check_tenant(caller, &req.tenant)?;
    if req.ttl_seconds == 0 {
        return Err(ApiError::bad("ttl_seconds must be positive"));
    }
    if req.ttl_seconds > gw.settings.max_token_ttl {
        return Err(ApiError::bad(format!(
            "ttl_seconds {} exceeds INTENTGATE_MAX_TOKEN_TTL ({} s)",
            req.ttl_seconds, gw.settings.max_token_ttl
        )));
    }
    let tools = if req.all_tools {
        if !(req.tools.is_empty() || req.tools == ["*"]) {
            return Err(ApiError::bad(
                "all_tools mints [\"*\"]; do not list tools with it",
            ));
        }
        vec!["*".to_string()]
    } else {
        if req.tools.is_empty() {
            return Err(ApiError::bad(
                "tools must list at least one tool (or set all_tools)",
            ));
        }
        if req.tools.iter().any(|t| t == "*") {
            return Err(ApiError::bad("\"*\" needs all_tools: true"));
        }
        if let Some((t, problem)) = req
            .tools
            .iter()
            .find_map(|t| crate::jsonrpc::name_problem(t).map(|p| (t, p)))
        {
            return Err(ApiError::bad(format!(
                "tool name {:?} refused: {problem} (names are at most 256 bytes of printable UTF-8)",
                crate::jsonrpc::printable_prefix(t, 64)
            )));
        }
        req.tools.clone()
    };
    let iat = crate::clock::now_secs();
    let claims = RootClaims {
        kid: String::new(),
        jti: new_id(),
        tenant: req.tenant.clone(),
        sub: req.subject.clone(),
        tools: tools.clone(),
        max_calls: req.max_calls,
        iat,
        exp: iat.saturating_add(req.ttl_seconds),
        all_tools: req.all_tools,
    };
    // Validate before auditing so that a refused request leaves no entry.
    let text = token::mint(gw.keys.ring.current(), claims.clone())
        .map_err(|e| ApiError::bad(e.to_string()))?;
    let actor = caller.identity();
    gw.record_admin(&req.tenant, &actor, "mint", &claims.jti, None)
        .await?;
    let issued_at = i64::try_from(iat).unwrap_or(0) * 1_000_000;
    let expires_at = i64::try_from(claims.exp).unwrap_or(i64::MAX / 1_000_000) * 1_000_000;
    gw.store
        .insert_token(&TokenRecord {
            jti: claims.jti.clone(),
            tenant: req.tenant.clone(),
            subject: req.subject.clone(),
            tools,
            max_calls: req.max_calls,
            issued_at,
            expires_at,
            minted_by: actor.clone(),
        })
        .await?;
    tracing::info!(actor = %actor, tenant = %req.tenant, subject = %req.subject, jti = %claims.jti, "minted token");
    ok(&MintResponse {
        token: text,
        jti: claims.jti,
        subject: req.subject,
        tenant: req.tenant,
        expires_at: rfc3339(expires_at),
    })
}

async fn tokens(
    gw: &Gateway,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> ApiResult<Response<Body>> {
    let now = now_us();
    let include_all = params.get("all").is_some_and(|v| v == "true");
    let tenant_filter = params.get("tenant");
    let mut out = Vec::new();
    for t in gw.store.tokens().await? {
        if !caller.may_access(&t.tenant) || tenant_filter.is_some_and(|f| *f != t.tenant) {
            continue;
        }
        let revoked = gw.revoked_in_chain(&t.tenant, [t.jti.as_str()]).is_some();
        if !include_all && (revoked || t.expires_at <= now) {
            continue;
        }
        out.push(TokenInfo {
            jti: t.jti,
            tenant: t.tenant,
            subject: t.subject,
            tools: t.tools,
            max_calls: t.max_calls,
            issued_at: rfc3339(t.issued_at),
            expires_at: rfc3339(t.expires_at),
            minted_by: t.minted_by,
            revoked,
        });
    }
    ok(&TokenList { tokens: out })
}

fn revocation_wire(r: RevocationRecord) -> Revocation {
    Revocation {
        jti: r.jti,
        tenant: r.tenant,
        reason: r.reason,
        revoked_at: rfc3339(r.revoked_at),
        revoked_by: r.revoked_by,
    }
}

async fn revoke(gw: &Gateway, caller: &Caller, req: RevokeRequest) -> ApiResult<Response<Body>> {
    if !is_hex_id(&req.jti) {
        return Err(ApiError::bad("jti must be 32 lowercase hex characters"));
    }
    // A root minted in a tenant the caller cannot see is, to this caller, a jti igd does not
    // know: the answer must not tell a tenant admin that it exists elsewhere. Revoking it in
    // the caller's own tenant affects only that tenant's tokens.
    let known = gw
        .store
        .token(&req.jti)
        .await?
        .filter(|k| caller.may_access(&k.tenant));
    let tenant = match (&req.tenant, &known) {
        (Some(t), Some(k)) if *t != k.tenant => {
            return Err(ApiError::bad(format!(
                "jti {} was minted in tenant {}, not {t}",
                req.jti, k.tenant
            )))
        }
        (Some(t), _) => t.clone(),
        (None, Some(k)) => k.tenant.clone(),
        (None, None) => match caller.tenant_scope() {
            Some(t) => t.to_string(),
            None => {
                return Err(ApiError::bad(
                    "this jti was not minted by igd (a child token?): name its tenant",
                ))
            }
        },
    };
    check_tenant(caller, &tenant)?;
    let now = now_us();
    let prune_after = match &known {
        Some(k) => k.expires_at,
        None => child_revocation_kept_until(gw, &tenant, now).await?,
    };
    let record = RevocationRecord {
        tenant: tenant.clone(),
        jti: req.jti.clone(),
        reason: req.reason.clone(),
        revoked_at: now,
        revoked_by: caller.identity(),
        prune_after,
    };
    if gw.revoked_in_chain(&tenant, [req.jti.as_str()]).is_none() {
        gw.record_admin(
            &tenant,
            &record.revoked_by,
            "revoke",
            &req.jti,
            Some(&req.reason),
        )
        .await?;
    }
    let stored = gw.store.revoke(&record).await?;
    gw.add_revocation(&tenant, &req.jti);
    tracing::info!(actor = %record.revoked_by, %tenant, jti = %req.jti, "revoked");
    ok(&revocation_wire(stored))
}

/// How long the revocation of a jti igd did not mint (a child) must be kept. A child lives no
/// longer than its root, and its root is one of the tenant's roots, minted under whatever
/// `INTENTGATE_MAX_TOKEN_TTL` was in force then (possibly longer than today's): keep it until
/// the latest expiry of the tenant's roots, and at least `revoked_at` + today's TTL.
async fn child_revocation_kept_until(gw: &Gateway, tenant: &str, now: i64) -> ApiResult<i64> {
    let ttl_us = i64::try_from(gw.settings.max_token_ttl)
        .unwrap_or(i64::MAX / 1_000_000)
        .saturating_mul(1_000_000);
    let latest_root = gw
        .store
        .tokens()
        .await?
        .into_iter()
        .filter(|t| t.tenant == tenant)
        .map(|t| t.expires_at)
        .max()
        .unwrap_or(i64::MIN);
    Ok(now.saturating_add(ttl_us).max(latest_root))
}

async fn revocations(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let revocations = gw
        .store
        .revocations()
        .await?
        .into_iter()
        .filter(|r| caller.may_access(&r.tenant))
        .map(revocation_wire)
        .collect();
    ok(&RevocationList { revocations })
}

fn stop_wire(s: StopRecord) -> Stop {
    Stop {
        tenant: s.tenant,
        subject: s.subject,
        reason: s.reason,
        created_at: rfc3339(s.created_at),
        created_by: s.created_by,
    }
}

fn stop_target(tenant: &str, subject: Option<&str>) -> String {
    match subject {
        Some(s) => format!("{tenant}/{s}"),
        None => tenant.to_string(),
    }
}

async fn stops(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let stops = gw
        .store
        .stops()
        .await?
        .into_iter()
        .filter(|s| caller.may_access(&s.tenant))
        .map(stop_wire)
        .collect();
    ok(&StopList { stops })
}

fn check_subject(subject: Option<&str>) -> ApiResult<()> {
    if let Some(s) = subject {
        if s.is_empty() || s.len() > token::MAX_NAME_LEN || s.chars().any(char::is_control) {
            return Err(ApiError::bad(
                "subject must be 1..=256 printable characters",
            ));
        }
    }
    Ok(())
}

async fn put_stop(gw: &Gateway, caller: &Caller, req: StopRequest) -> ApiResult<Response<Body>> {
    check_tenant(caller, &req.tenant)?;
    check_subject(req.subject.as_deref())?;
    if req.reason.trim().is_empty() {
        return Err(ApiError::bad("a stop needs a reason"));
    }
    let existing = gw
        .store
        .stops()
        .await?
        .into_iter()
        .find(|s| s.tenant == req.tenant && s.subject == req.subject);
    if let Some(s) = existing {
        return ok(&stop_wire(s));
    }
    let record = StopRecord {
        tenant: req.tenant.clone(),
        subject: req.subject.clone(),
        reason: req.reason.clone(),
        created_at: now_us(),
        created_by: caller.identity(),
    };
    gw.record_admin(
        &req.tenant,
        &record.created_by,
        "stop",
        &stop_target(&req.tenant, req.subject.as_deref()),
        Some(&req.reason),
    )
    .await?;
    let stored = gw.store.put_stop(&record).await?;
    gw.set_stop(&req.tenant, req.subject.as_deref(), true);
    tracing::warn!(actor = %record.created_by, tenant = %req.tenant, subject = ?req.subject, "emergency stop placed");
    ok(&stop_wire(stored))
}

fn role_of_identity(identity: &str) -> Role {
    if identity.starts_with("tenant-admin:") {
        Role::Operator
    } else {
        Role::Admin
    }
}

async fn lift_stop(gw: &Gateway, caller: &Caller, req: StopRequest) -> ApiResult<Response<Body>> {
    check_tenant(caller, &req.tenant)?;
    check_subject(req.subject.as_deref())?;
    let existing = gw
        .store
        .stops()
        .await?
        .into_iter()
        .find(|s| s.tenant == req.tenant && s.subject == req.subject)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!(
                    "no stop on {}",
                    stop_target(&req.tenant, req.subject.as_deref())
                ),
            )
        })?;
    if caller.role() < Some(role_of_identity(&existing.created_by)) {
        return Err(ApiError::forbidden(format!(
            "this stop was placed by {}; lifting it needs at least that role",
            existing.created_by
        )));
    }
    gw.record_admin(
        &req.tenant,
        &caller.identity(),
        "unstop",
        &stop_target(&req.tenant, req.subject.as_deref()),
        Some(&req.reason),
    )
    .await?;
    gw.store
        .delete_stop(&req.tenant, req.subject.as_deref())
        .await?;
    gw.set_stop(&req.tenant, req.subject.as_deref(), false);
    tracing::warn!(actor = %caller.identity(), tenant = %req.tenant, subject = ?req.subject, "emergency stop lifted");
    ok(&stop_wire(existing))
}

async fn tenants(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let now = now_us();
    let mut live: BTreeMap<String, u64> = BTreeMap::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for t in gw.store.tokens().await? {
        names.insert(t.tenant.clone());
        if t.expires_at > now && gw.revoked_in_chain(&t.tenant, [t.jti.as_str()]).is_none() {
            *live.entry(t.tenant).or_default() += 1;
        }
    }
    names.extend(gw.store.stops().await?.into_iter().map(|s| s.tenant));
    names.extend(
        gw.store
            .chain_heads()
            .await?
            .into_iter()
            .map(|h| h.tenant)
            .filter(|t| !t.starts_with('_')),
    );
    let scoped: BTreeSet<&str> = gw
        .settings
        .tenant_admins
        .iter()
        .map(|(t, _)| t.as_str())
        .collect();
    names.extend(scoped.iter().map(|s| s.to_string()));
    let tenants = names
        .into_iter()
        .filter(|n| caller.may_access(n))
        .map(|name| TenantInfo {
            admin_scoped: scoped.contains(name.as_str()),
            tokens_live: live.get(&name).copied().unwrap_or(0),
            name,
        })
        .collect();
    ok(&TenantList { tenants })
}

async fn agents(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let agents = gw
        .store
        .agents()
        .await?
        .into_iter()
        .filter(|a| caller.may_access(&a.tenant))
        .map(|a| AgentInfo {
            allowed: a.allowed,
            calls: a.decisions,
            first_seen: rfc3339(a.first_seen),
            last_seen: rfc3339(a.last_seen),
            refused: a.refused,
            subject: a.subject,
            tenant: a.tenant,
        })
        .collect();
    ok(&AgentList { agents })
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
