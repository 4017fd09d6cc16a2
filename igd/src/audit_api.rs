//! Admin endpoints over the audit log: `GET /v1/admin/audit` (filters, keyset pagination,
//! outcomes joined to their decisions) and `GET /v1/admin/audit/verify` (recomputes every hash
//! and link of each chain in the caller's scope).

use crate::admin::{ApiError, ApiResult, Caller};
use crate::clock::{now_us, parse_rfc3339, rfc3339};
use crate::gateway::Gateway;
use crate::http::{json_response, Body};
use crate::store::AuditQuery;
use hyper::{Method, Response};
use intentgate_proto::api::{
    AnnounceKeyRequest, AnnounceKeyResponse, AuditPage, AuditVerifyReport, ChainVerdict,
    ChainVerdictDetail, CheckpointInfo, CheckpointList, EraseRequest, EraseResponse, ErrorCode,
    ListedEntry, MarkerRequest, PruneResponse, RebaselineResponse, TimedEntry, VerdictHead,
};
use intentgate_proto::audit::{Anchor, BrokenAt, ChainAudit, Entry};
use intentgate_proto::checkpoint::VerifierKey;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// Entries read per page while verifying.
const VERIFY_PAGE: u32 = 5000;

pub async fn handle(
    gw: &Gateway,
    caller: &Caller,
    method: &Method,
    path: &str,
    params: &BTreeMap<String, String>,
    body: &bytes::Bytes,
) -> ApiResult<Response<Body>> {
    match (method, path) {
        (&Method::POST, "/v1/admin/audit/erase") => erase(gw, caller, body).await,
        (&Method::POST, "/v1/admin/audit/prune") => prune(gw, caller, body).await,
        (&Method::POST, "/v1/admin/audit/keys") => announce_key(gw, caller, body).await,
        (&Method::POST, "/v1/admin/audit/rebaseline") => rebaseline(gw, caller, body).await,
        (&Method::GET, "/v1/admin/audit") => list(gw, caller, params).await,
        (&Method::GET, "/v1/admin/audit/verify") => verify(gw, caller, params).await,
        (&Method::GET, "/v1/admin/audit/export") => export(gw, caller, params).await,
        (&Method::GET, "/v1/admin/audit/checkpoints") => checkpoints(gw, caller, params).await,
        _ => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no admin endpoint {method} {path}"),
        )),
    }
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

/// An entry with its readable time.
fn timed(e: Entry) -> TimedEntry {
    TimedEntry {
        time: rfc3339(e.ts),
        entry: e,
    }
}

async fn list(
    gw: &Gateway,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> ApiResult<Response<Body>> {
    let limit: u32 = params
        .get("limit")
        .map(|l| l.parse().unwrap_or(0))
        .unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "limit must be 1..=1000",
        ));
    }
    let after = match params.get("cursor") {
        None => None,
        Some(c) => {
            let (t, s) = c
                .rsplit_once(':')
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "cursor is malformed"))?;
            Some((
                t.to_string(),
                s.parse()
                    .map_err(|_| ApiError::new(ErrorCode::InvalidRequest, "cursor is malformed"))?,
            ))
        }
    };
    let query = AuditQuery {
        tenants: scope(caller, params.get("tenant"))?,
        tenant: None,
        subject: params.get("subject").cloned(),
        tool: params.get("tool").cloned(),
        decision: params.get("decision").cloned(),
        kind: params.get("kind").cloned(),
        event_id: params.get("id").cloned(),
        from_ts: time_param(params, "from")?,
        to_ts: time_param(params, "to")?,
        from_seq: None,
        after,
        limit,
    };
    let entries = gw.store.query_entries(&query).await?;
    let keys: Vec<(String, u64)> = entries
        .iter()
        .filter(|e| e.kind == "decision")
        .map(|e| (e.tenant.clone(), e.seq))
        .collect();
    let mut related: HashMap<String, BTreeMap<String, TimedEntry>> = HashMap::new();
    for r in gw.store.entries_referring(&keys).await? {
        if let Some(id) = r.ref_event_id.clone() {
            // One per kind: a later entry of the same kind replaces an earlier one.
            related
                .entry(id)
                .or_default()
                .insert(r.kind.clone(), timed(r));
        }
    }
    // Argument values kept beside the chain (INTENTGATE_AUDIT_PERSIST_ARG_VALUES) are shown.
    let args: HashMap<(String, u64), Value> = gw
        .store
        .side_records(&keys)
        .await?
        .into_iter()
        .filter_map(|(k, s)| Some((k, serde_json::from_str(s.args.as_deref()?).ok()?)))
        .collect();
    let next_cursor = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| format!("{}:{}", e.tenant, e.seq)))
        .flatten();
    let entries = entries
        .into_iter()
        .map(|e| ListedEntry {
            args: args.get(&(e.tenant.clone(), e.seq)).cloned(),
            related: related.get(&e.event_id).cloned().unwrap_or_default(),
            time: rfc3339(e.ts),
            entry: e,
        })
        .collect();
    Ok(json_response(
        200,
        &AuditPage {
            entries,
            next_cursor,
        },
    ))
}

/// Export columns: exactly the entry field table, in its order (plus `args` when kept).
pub const EXPORT_COLUMNS: &[&str] = &[
    "v",
    "tenant",
    "seq",
    "kind",
    "event_id",
    "ref_event_id",
    "ts",
    "instance",
    "subject",
    "delegated_subject",
    "jti",
    "root_jti",
    "jti_chain",
    "method",
    "tool",
    "decision",
    "check",
    "reason",
    "policy_revision",
    "requires_step_up",
    "approval_id",
    "decided_by",
    "elevation_id",
    "actor",
    "action",
    "target",
    "upstream_status",
    "upstream_latency_ms",
    "args_commitment",
    "cut_seq",
    "cut_hash",
    "prev_hash",
    "hash",
    "args",
];

/// Rows fetched per page while streaming an export.
const EXPORT_PAGE: u32 = 2000;

/// One CSV field: quoted when needed; text that a spreadsheet would run as a formula is
/// neutralized with a leading `'` (CSV injection).
pub fn csv_field(v: &Value) -> String {
    let text = match v {
        Value::Null => return String::new(),
        Value::String(s) => {
            if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{s}")
            } else {
                s.clone()
            }
        }
        Value::Array(_) | Value::Object(_) => v.to_string(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn export_row(e: &Entry, args: Option<&Value>, csv: bool) -> String {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Some(a) = args {
        v["args"] = a.clone();
    }
    if csv {
        let mut line = EXPORT_COLUMNS
            .iter()
            .map(|c| csv_field(v.get(*c).unwrap_or(&Value::Null)))
            .collect::<Vec<_>>()
            .join(",");
        line.push_str("\r\n");
        line
    } else {
        let mut line = v.to_string();
        line.push('\n');
        line
    }
}

async fn export(
    gw: &Gateway,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> ApiResult<Response<Body>> {
    let csv = match params.get("format").map(String::as_str) {
        None | Some("csv") => true,
        Some("ndjson") => false,
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("format {other:?} must be csv or ndjson"),
            ))
        }
    };
    let Some(tenant) = params.get("tenant").cloned() else {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "name the tenant to export (tenant=…)",
        ));
    };
    let tenants = scope(caller, Some(&tenant))?;
    let from_seq =
        match params.get("from_seq") {
            None => None,
            Some(s) => Some(s.parse::<u64>().map_err(|_| {
                ApiError::new(ErrorCode::InvalidRequest, "from_seq must be a number")
            })?),
        };
    let base = AuditQuery {
        tenants,
        from_ts: time_param(params, "from")?,
        to_ts: time_param(params, "to")?,
        from_seq,
        limit: EXPORT_PAGE,
        ..AuditQuery::default()
    };
    // The cap is known before streaming, so the header can say so.
    let total = gw.store.count_entries(&base).await?;
    let cap = gw.settings.audit_export_max_rows;
    let truncated = total > cap;
    let (tx, body) = crate::http::channel_body();
    let store = gw.store.clone();
    tokio::spawn(async move {
        if csv {
            let mut header = EXPORT_COLUMNS.join(",");
            header.push_str("\r\n");
            if !tx.send(header.into()).await {
                return;
            }
        }
        let mut sent = 0u64;
        let mut query = base;
        let mut last_seq = 0u64;
        while sent < cap {
            query.limit =
                u32::try_from((cap - sent).min(u64::from(EXPORT_PAGE))).unwrap_or(EXPORT_PAGE);
            let page = match store.query_entries(&query).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "export aborted by a storage error");
                    tx.abort("export aborted by a storage error").await;
                    return;
                }
            };
            if page.is_empty() {
                break;
            }
            let keys: Vec<(String, u64)> = page.iter().map(|e| (e.tenant.clone(), e.seq)).collect();
            let side = match store.side_records(&keys).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "export aborted by a storage error");
                    tx.abort("export aborted by a storage error").await;
                    return;
                }
            };
            let args: HashMap<(String, u64), Value> = side
                .into_iter()
                .filter_map(|(k, s)| Some((k, serde_json::from_str(s.args.as_deref()?).ok()?)))
                .collect();
            let mut chunk = String::new();
            for e in &page {
                chunk.push_str(&export_row(e, args.get(&(e.tenant.clone(), e.seq)), csv));
            }
            if !tx.send(chunk.into()).await {
                return;
            }
            sent += page.len() as u64;
            if let Some(last) = page.last() {
                last_seq = last.seq;
                query.after = Some((last.tenant.clone(), last.seq));
            }
        }
        if truncated {
            let marker = json!({
                "tenant": query.tenant.clone().or_else(|| query.tenants.as_ref().and_then(|t| t.first().cloned())),
                "kind": "truncated",
                "reason": format!("export capped at {cap} rows (INTENTGATE_AUDIT_EXPORT_MAX_ROWS); continue with from_seq={}", last_seq + 1),
                "seq": last_seq + 1,
            });
            let line = if csv {
                let mut l = EXPORT_COLUMNS
                    .iter()
                    .map(|c| csv_field(marker.get(*c).unwrap_or(&Value::Null)))
                    .collect::<Vec<_>>()
                    .join(",");
                l.push_str("\r\n");
                l
            } else {
                format!("{marker}\n")
            };
            let _ = tx.send(line.into()).await;
        }
    });
    let mut resp = Response::new(body);
    let ct = if csv {
        "text/csv; charset=utf-8"
    } else {
        "application/x-ndjson"
    };
    resp.headers_mut()
        .insert("content-type", hyper::header::HeaderValue::from_static(ct));
    resp.headers_mut().insert(
        "x-intentgate-total-rows",
        hyper::header::HeaderValue::from(total.min(cap)),
    );
    if truncated {
        resp.headers_mut().insert(
            "x-intentgate-truncated",
            hyper::header::HeaderValue::from_static("true"),
        );
    }
    Ok(resp)
}

/// GDPR erasure: drop a subject's stored argument values and salts before a time. The chain
/// keeps its `args_commitment`s, so verification still passes; the erasure itself is chained.
async fn erase(gw: &Gateway, caller: &Caller, body: &bytes::Bytes) -> ApiResult<Response<Body>> {
    let req: EraseRequest = crate::admin::parse_body(body)?;
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
    gw.record_admin(
        &req.tenant,
        &caller.identity(),
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

fn admin_only(caller: &Caller, what: &str) -> ApiResult<()> {
    if caller.tenant_scope().is_some() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{what} needs an admin"),
        ));
    }
    Ok(())
}

/// Append a `marker` entry to a tenant's chain.
pub(crate) async fn append_marker(
    gw: &Gateway,
    actor: &str,
    tenant: &str,
    action: &str,
    cut: &Entry,
    reason: &str,
) -> ApiResult<Entry> {
    let mut m = gw.new_entry(tenant, "marker");
    m.actor = Some(actor.to_string());
    m.action = Some(action.to_string());
    m.reason = Some(reason.to_string());
    m.cut_seq = Some(cut.seq);
    m.cut_hash = Some(cut.hash.clone());
    Ok(crate::checkpoints::append_own(gw, m).await?)
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
        "igd",
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
async fn prune(gw: &Gateway, caller: &Caller, body: &bytes::Bytes) -> ApiResult<Response<Body>> {
    let req: MarkerRequest = crate::admin::parse_body(body)?;
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
    let marker = append_marker(
        gw,
        &caller.identity(),
        &req.tenant,
        "prune",
        &cut,
        &req.reason,
    )
    .await?;
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

/// After a restore: record where the chain now stands and let the signer anchor it again.
async fn rebaseline(
    gw: &Gateway,
    caller: &Caller,
    body: &bytes::Bytes,
) -> ApiResult<Response<Body>> {
    let req: MarkerRequest = crate::admin::parse_body(body)?;
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
    let (seq, hash) = gw.signer.fork_point(gw, &req.tenant).await?;
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
    let head = Entry {
        seq,
        hash: hash.clone(),
        ..Entry::default()
    };
    let marker = append_marker(
        gw,
        &caller.identity(),
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

/// Planned key rotation: chain a `checkpoint-key` entry for the next signing key while the
/// current key still signs, so the current key's next checkpoint covers the announcement and
/// verifiers can trust the new key without pinning it.
async fn announce_key(
    gw: &Gateway,
    caller: &Caller,
    body: &bytes::Bytes,
) -> ApiResult<Response<Body>> {
    use base64::Engine as _;
    let req: AnnounceKeyRequest = crate::admin::parse_body(body)?;
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
    let mut e = gw.new_entry(intentgate_proto::ids::SYSTEM_TENANT, "checkpoint-key");
    e.actor = Some(caller.identity());
    e.action = Some("checkpoint-key".into());
    e.target = Some(key.encode());
    e.reason = Some("next audit signing key announced".into());
    let entry = crate::checkpoints::append_own(gw, e).await?;
    Ok(json_response(
        200,
        &AnnounceKeyResponse {
            key: key.encode(),
            seq: entry.seq,
        },
    ))
}

async fn checkpoints(
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
    let keys: Vec<String> = crate::checkpoints::trusted_keys(gw)
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

/// Verify one tenant's chain from genesis, and its newest signed checkpoint against it.
pub async fn verify_chain(
    gw: &Gateway,
    tenant: &str,
    keys: &[VerifierKey],
) -> ApiResult<ChainVerdict> {
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

async fn verify(
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
    let keys = crate::checkpoints::trusted_keys(gw).await;
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
