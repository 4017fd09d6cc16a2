//! Capability tokens: mint a root token, list the minted ones (metadata only, never the token),
//! revoke a jti and list revocations.

use super::{check_tenant, ok, ApiError, ApiResult, Caller};
use crate::clock::{now_us, rfc3339};
use crate::gateway::Gateway;
use crate::http::Body;
use crate::store::{RevocationRecord, TokenRecord};
use hyper::Response;
use intentgate_proto::api::{
    MintRequest, MintResponse, Revocation, RevocationList, RevokeRequest, TokenInfo, TokenList,
};
use intentgate_proto::ids::{is_hex_id, new_id};
use intentgate_proto::token::{self, RootClaims};
use std::collections::BTreeMap;

pub(super) async fn mint(
    gw: &Gateway,
    caller: &Caller,
    req: MintRequest,
) -> ApiResult<Response<Body>> {
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
    if req.all_tools {
        // A token for every tool, present and future, is a standing grant: step-up.
        super::totp::step_up(gw, caller, "mint-all-tools").await?;
    }
    let actor = caller.actor();
    gw.audit
        .admin(&req.tenant, &actor, "mint", &claims.jti, None)
        .await?;
    let issued_at = i64::try_from(iat).unwrap_or(0).saturating_mul(1_000_000);
    let expires_at = i64::try_from(claims.exp)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000);
    gw.store
        .insert_token(&TokenRecord {
            jti: claims.jti.clone(),
            tenant: req.tenant.clone(),
            subject: req.subject.clone(),
            tools,
            max_calls: req.max_calls,
            issued_at,
            expires_at,
            minted_by: actor.identity.clone(),
        })
        .await?;
    tracing::info!(actor = %actor.identity, tenant = %req.tenant, subject = %req.subject, jti = %claims.jti, "minted token");
    ok(&MintResponse {
        token: text,
        jti: claims.jti,
        subject: req.subject,
        tenant: req.tenant,
        expires_at: rfc3339(expires_at),
    })
}

/// Live root tokens in the caller's scope (`all=true`: revoked and expired ones too).
pub(super) async fn list(
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
        let revoked = gw
            .revocations
            .revoked_in_chain(&t.tenant, [t.jti.as_str()])
            .is_some();
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

pub(super) async fn revoke(
    gw: &Gateway,
    caller: &Caller,
    req: RevokeRequest,
) -> ApiResult<Response<Body>> {
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
    if gw
        .revocations
        .revoked_in_chain(&tenant, [req.jti.as_str()])
        .is_none()
    {
        gw.audit
            .admin(
                &tenant,
                &caller.actor(),
                "revoke",
                &req.jti,
                Some(&req.reason),
            )
            .await?;
    }
    let stored = gw.store.revoke(&record).await?;
    gw.revocations.revoke(&tenant, &req.jti);
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

pub(super) async fn revocations(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
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
