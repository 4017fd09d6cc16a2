//! Retention: GDPR erasure of stored argument values, retention cuts (prune) behind a chained
//! `marker`, and the `_unauthenticated` chain's quota, which igd enforces by itself.

use super::{admin_only, ApiError, ApiResult, Caller};
use crate::audit::Actor;
use crate::clock::parse_rfc3339;
use crate::gateway::Gateway;
use crate::http::{json_response, Body};
use hyper::Response;
use intentgate_proto::api::{EraseRequest, EraseResponse, ErrorCode, MarkerRequest, PruneResponse};
use intentgate_proto::audit::Entry;

/// GDPR erasure: drop a subject's stored argument values and salts before a time. The chain
/// keeps its `args_commitment`s, so verification still passes; the erasure itself is chained.
pub(super) async fn erase(
    gw: &Gateway,
    caller: &Caller,
    req: EraseRequest,
) -> ApiResult<Response<Body>> {
    admin_only(caller, "erasure")?;
    if !intentgate_proto::ids::valid_tenant(&req.tenant) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "tenant name is invalid",
        ));
    }
    let before = parse_rfc3339(&req.before).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "before must be RFC 3339, e.g. 2026-01-31T00:00:00Z",
        )
    })?;
    let target = format!("{}/{} before {}", req.tenant, req.subject, req.before);
    super::totp::step_up(gw, caller, "erase").await?;
    gw.audit
        .admin(
            &req.tenant,
            &caller.actor(),
            "erase",
            &target,
            Some("argument values and salts erased"),
        )
        .await?;
    let erased = gw
        .store
        .erase_side(&req.tenant, &req.subject, before)
        .await?;
    tracing::warn!(actor = %caller.identity(), %target, erased, "audit argument values erased");
    Ok(json_response(
        200,
        &EraseResponse {
            before: req.before,
            erased,
            subject: req.subject,
            tenant: req.tenant,
        },
    ))
}

/// Append a `marker` entry to a tenant's chain.
pub(super) async fn append_marker(
    gw: &Gateway,
    actor: &Actor,
    tenant: &str,
    action: &str,
    cut: &Entry,
    reason: &str,
) -> ApiResult<Entry> {
    let mut m = gw
        .audit
        .entry(tenant, intentgate_proto::audit::Kind::Marker);
    actor.stamp(&mut m);
    m.action = Some(action.to_string());
    m.reason = Some(reason.to_string());
    m.cut_seq = Some(cut.seq);
    m.cut_hash = Some(cut.hash.clone());
    Ok(gw.signer.append_own(&gw.audit, m).await?)
}

/// Keep `_unauthenticated` under `INTENTGATE_AUDIT_UNAUTH_MAX_ROWS` and `_MAX_BYTES`: older refusals are pruned
/// behind a marker, so a flood of bad tokens cannot fill the disk for real tenants.
pub async fn enforce_unauthenticated_quota(gw: &Gateway) -> ApiResult<()> {
    use intentgate_proto::ids::UNAUTHENTICATED_TENANT as T;
    // Every `_unauthenticated` entry is bounded, so the byte quota is kept as rows at that bound.
    let max = gw
        .settings
        .audit_unauth_max_rows
        .min(gw.settings.audit_unauth_max_bytes / crate::unauth::UNAUTH_ENTRY_MAX_BYTES)
        .max(1);
    let Some(head) = gw
        .store
        .chain_heads()
        .await?
        .into_iter()
        .find(|h| h.tenant == T)
    else {
        return Ok(());
    };
    if head.seq <= max {
        return Ok(());
    }
    // Chains are gapless, so the first kept seq gives the row count without a scan.
    let first = gw
        .store
        .chain_range(T, 1, head.seq, 1)
        .await?
        .into_iter()
        .next()
        .map_or(1, |e| e.seq);
    if head.seq - first < max {
        return Ok(());
    }
    let cut_seq = head.seq.saturating_sub(max);
    let Some(cut) = gw
        .store
        .chain_range(T, cut_seq, cut_seq, 1)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    append_marker(
        gw,
        &Actor::system(),
        T,
        "prune",
        &cut,
        "INTENTGATE_AUDIT_UNAUTH_MAX_ROWS/_MAX_BYTES quota",
    )
    .await?;
    if !gw.signer.sign_tenant(&gw.store, T).await {
        tracing::warn!("the quota marker could not be checkpointed; nothing pruned this time");
        return Ok(());
    }
    let deleted = gw.store.delete_through(T, cut.seq).await?;
    tracing::warn!(
        deleted,
        cut_seq = cut.seq,
        "pruned unauthenticated refusals beyond their quota"
    );
    Ok(())
}

/// Retention: cut a chain before a time. A `marker` records the last entry before the cut; the
/// next checkpoint covers it and verification continues from there, reporting the cut.
pub(super) async fn prune(
    gw: &Gateway,
    caller: &Caller,
    req: MarkerRequest,
) -> ApiResult<Response<Body>> {
    admin_only(caller, "pruning")?;
    let before = req
        .before
        .as_deref()
        .and_then(parse_rfc3339)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "before must be RFC 3339, e.g. 2026-01-31T00:00:00Z",
            )
        })?;
    if req.reason.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "a retention cut needs a reason",
        ));
    }
    let cut = gw
        .store
        .last_entry_before(&req.tenant, before)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!(
                    "no entry of {} before {}",
                    req.tenant,
                    req.before.clone().unwrap_or_default()
                ),
            )
        })?;
    super::totp::step_up(gw, caller, "prune").await?;
    let marker =
        append_marker(gw, &caller.actor(), &req.tenant, "prune", &cut, &req.reason).await?;
    // Anchor the marker before deleting: the signer's last head then lies past the cut (it
    // must find it again to sign the next head), and verifiers see a covered marker.
    if !gw.signer.sign_tenant(&gw.store, &req.tenant).await {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "the retention marker could not be checkpointed, so nothing was deleted (see igd's log; retry)",
        ));
    }
    let deleted = gw.store.delete_through(&req.tenant, cut.seq).await?;
    tracing::warn!(actor = %caller.identity(), tenant = %req.tenant, cut_seq = cut.seq, deleted, "audit chain pruned");
    Ok(json_response(
        200,
        &PruneResponse {
            cut_hash: cut.hash,
            cut_seq: cut.seq,
            deleted,
            marker_seq: marker.seq,
            tenant: req.tenant,
        },
    ))
}
