//! Trust in the audit log: `GET /v1/admin/audit/verify` (recomputes every hash and link of each
//! chain in the caller's scope against its signed checkpoints), the checkpoints themselves, the
//! announcement of the next signing key, and the re-baseline after a restore.

use super::retention::append_marker;
use super::{admin_only, scope, ApiError, ApiResult, Caller};
use crate::clock::{now_us, rfc3339};
use crate::gateway::Gateway;
use crate::http::{json_response, Body};
use hyper::Response;
use intentgate_proto::api::{
    AnnounceKeyRequest, AnnounceKeyResponse, AuditVerifyReport, ChainVerdict, ChainVerdictDetail,
    CheckpointInfo, CheckpointList, ErrorCode, MarkerRequest, RebaselineResponse, VerdictHead,
};
use intentgate_proto::audit::{Anchor, BrokenAt, ChainAudit, Entry};
use intentgate_proto::checkpoint::VerifierKey;
use std::collections::BTreeMap;

/// Entries read per page while verifying.
const VERIFY_PAGE: u32 = 5000;

pub(super) async fn verify(
    gw: &Gateway,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> ApiResult<Response<Body>> {
    let tenants: Vec<String> = match scope(caller, params.get("tenant"))? {
        Some(t) => t,
        None => {
            // Every chain in the store, and every tenant ever signed: a chain deleted whole
            // is reported, not skipped.
            let mut all: std::collections::BTreeSet<String> = gw
                .store
                .chain_heads()
                .await?
                .into_iter()
                .map(|h| h.tenant)
                .collect();
            all.extend(gw.signer.signed_tenants());
            all.into_iter().collect()
        }
    };
    let keys = gw.signer.trusted_keys(&gw.store).await;
    let mut reports = Vec::new();
    for t in &tenants {
        reports.push(verify_chain(gw, t, &keys).await?);
    }
    let ok = reports.iter().all(|r| r.ok);
    // One tenant asked for: its verdict is also the answer's top level.
    let tenant = match (params.get("tenant"), reports.as_slice()) {
        (Some(_), [single]) => Some(single.detail.clone()),
        _ => None,
    };
    if !ok {
        tracing::error!("audit verification found a broken chain");
    }
    Ok(json_response(
        200,
        &AuditVerifyReport {
            ok,
            tenants: reports,
            tenant,
        },
    ))
}

/// Verify one tenant's chain from genesis, and its newest signed checkpoint against it.
async fn verify_chain(gw: &Gateway, tenant: &str, keys: &[VerifierKey]) -> ApiResult<ChainVerdict> {
    let newest = gw
        .store
        .checkpoints(Some(tenant), 1)
        .await?
        .into_iter()
        .next();
    let mut anchors = Vec::new();
    let mut bad_note = None;
    if let Some(c) = &newest {
        match intentgate_proto::checkpoint::Checkpoint::open(&c.note, keys) {
            Ok(cp) if cp.origin == format!("intentgate/{}/{tenant}", gw.deployment_id) => anchors
                .push(Anchor {
                    size: cp.size,
                    hash: cp.hash,
                }),
            Ok(cp) => {
                bad_note = Some(format!(
                    "checkpoint of another log ({}) stored for {tenant}",
                    cp.origin
                ))
            }
            Err(e) => bad_note = Some(format!("checkpoint at size {}: {e}", c.size)),
        }
    }
    // The head this igd last signed, from its state file outside the database: a truncation
    // that also deleted the newer checkpoint rows still falls short of it.
    if let Some((size, hash)) = gw.signer.last_head(tenant) {
        anchors.push(Anchor { size, hash });
    }
    let mut audit = ChainAudit::new(tenant, anchors);
    let mut from = 1u64;
    loop {
        let page = gw
            .store
            .chain_range(tenant, from, u64::MAX / 2, VERIFY_PAGE)
            .await?;
        let n = page.len();
        let mut going = true;
        for e in &page {
            if !audit.push(e) {
                going = false;
                break;
            }
        }
        if !going || n < VERIFY_PAGE as usize {
            break;
        }
        from = page.last().map_or(from, |e| e.seq + 1);
    }
    let mut report = audit.finish();
    if let (Some(reason), true) = (bad_note, report.ok) {
        report.ok = false;
        report.broken_at = Some(BrokenAt {
            seq: 0,
            ts: 0,
            reason,
            stored_hash: String::new(),
            expected_hash: String::new(),
        });
    }
    Ok(ChainVerdict {
        ok: report.ok,
        detail: ChainVerdictDetail {
            broken_at: report.broken_at,
            chain_last_advanced_seconds: report.head.ts.map(|ts| (now_us() - ts) / 1_000_000),
            checkpoint: report.checkpoint,
            head: VerdictHead {
                hash: report.head.hash,
                seq: report.head.seq,
                ts: report.head.ts.map(rfc3339),
            },
            markers: report.markers,
            tenant: report.tenant,
            unanchored: report.unanchored,
            verified: report.verified,
        },
    })
}

pub(super) async fn checkpoints(
    gw: &Gateway,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> ApiResult<Response<Body>> {
    let limit: u32 = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 10_000);
    let tenant = match scope(caller, params.get("tenant"))? {
        Some(t) if t.len() == 1 => t.into_iter().next(),
        Some(_) | None => None,
    };
    if tenant.is_none() && caller.tenant_scope().is_some() {
        return Err(ApiError::new(ErrorCode::Forbidden, "name your tenant"));
    }
    let rows = gw.store.checkpoints(tenant.as_deref(), limit).await?;
    let keys: Vec<String> = gw
        .signer
        .trusted_keys(&gw.store)
        .await
        .iter()
        .map(|k| k.encode())
        .collect();
    let current = gw.signer.verifier_key().encode();
    let checkpoints = rows
        .into_iter()
        .map(|c| CheckpointInfo {
            created_at: rfc3339(c.created_at),
            hash: c.hash,
            note: c.note,
            size: c.size,
            tenant: c.tenant,
        })
        .collect();
    Ok(json_response(
        200,
        &CheckpointList {
            checkpoints,
            key: current,
            keys,
        },
    ))
}

/// Planned key rotation: chain a `checkpoint-key` entry for the next signing key while the
/// current key still signs, so the current key's next checkpoint covers the announcement and
/// verifiers can trust the new key without pinning it.
pub(super) async fn announce_key(
    gw: &Gateway,
    caller: &Caller,
    req: AnnounceKeyRequest,
) -> ApiResult<Response<Body>> {
    use base64::Engine as _;
    admin_only(caller, "announcing an audit key")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(req.public_key.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "public_key must be base64 of a 32-byte Ed25519 key",
            )
        })?;
    let key = intentgate_proto::checkpoint::VerifierKey::new(&gw.signer.verifier_key().name, raw);
    super::totp::step_up(gw, caller, "checkpoint-key").await?;
    let mut e = gw.audit.entry(
        intentgate_proto::ids::SYSTEM_TENANT,
        intentgate_proto::audit::Kind::CheckpointKey,
    );
    caller.actor().stamp(&mut e);
    e.action = Some("checkpoint-key".into());
    e.target = Some(key.encode());
    e.reason = Some("next audit signing key announced".into());
    let entry = gw.signer.append_own(&gw.audit, e).await?;
    Ok(json_response(
        200,
        &AnnounceKeyResponse {
            key: key.encode(),
            seq: entry.seq,
        },
    ))
}

/// After a restore: record where the chain now stands and let the signer anchor it again.
pub(super) async fn rebaseline(
    gw: &Gateway,
    caller: &Caller,
    req: MarkerRequest,
) -> ApiResult<Response<Body>> {
    admin_only(caller, "re-baselining")?;
    if req.reason.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "a re-baseline needs a reason",
        ));
    }
    if gw
        .store
        .last_entry_before(&req.tenant, i64::MAX)
        .await?
        .is_none()
    {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("tenant {} has no chain", req.tenant),
        ));
    }
    // The cut is where the chain leaves what was signed: only checkpoints past it are excused.
    let mut accept = Vec::new();
    for a in &req.accept {
        let parsed = a
            .split_once(':')
            .filter(|(seq, _)| seq.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|(seq, hash)| Some((seq.parse::<u64>().ok()?, hash.to_ascii_lowercase())))
            .filter(|(_, hash)| hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
        accept.push(parsed.ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "accept entries as SEQ:HASH (the entry's seq and its 64-hex hash, as the refusal names them)",
            )
        })?);
    }
    accept.sort();
    accept.dedup();
    let (seq, hash) = gw.signer.fork_point(&gw.store, &req.tenant).await?;
    let cut = (seq, hash.as_str());
    let refused =
        |reason: String| ApiError::new(ErrorCode::Conflict, format!("not re-baselined: {reason}"));
    gw.signer
        .rebaseline_check(&gw.store, &req.tenant, cut, &accept)
        .await
        .map_err(refused)?;
    let mut reason = req.reason.clone();
    if !req.accept.is_empty() {
        reason.push_str(&format!(
            " (accepting entries not written by igd: {})",
            accept
                .iter()
                .map(|(seq, hash)| format!("{seq}:{hash}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    super::totp::step_up(gw, caller, "rebaseline").await?;
    let head = Entry {
        seq,
        hash: hash.clone(),
        ..Entry::default()
    };
    let marker = append_marker(
        gw,
        &caller.actor(),
        &req.tenant,
        "rebaseline",
        &head,
        &reason,
    )
    .await?;
    // Anchor the chain as it now stands, marker included: the one signing that need not
    // continue the last signed head.
    gw.signer
        .rebaseline(&gw.store, &req.tenant, cut, &accept)
        .await
        .map_err(|r| {
            ApiError::new(
                ErrorCode::Unavailable,
                format!("the re-baseline marker is chained but the chain was not checkpointed: {r}; run the re-baseline again"),
            )
        })?;
    tracing::warn!(actor = %caller.identity(), tenant = %req.tenant, cut_seq = head.seq, "audit chain re-baselined");
    Ok(json_response(
        200,
        &RebaselineResponse {
            cut_hash: head.hash,
            cut_seq: head.seq,
            marker_seq: marker.seq,
            tenant: req.tenant,
        },
    ))
}
