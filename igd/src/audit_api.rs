//! Admin endpoints over the audit log: `GET /v1/admin/audit` (filters, keyset pagination,
//! outcomes joined to their decisions) and `GET /v1/admin/audit/verify` (recomputes every hash
//! and link of each chain in the caller's scope).

use crate::admin::{ApiError, ApiResult, Caller};
use crate::clock::{now_us, parse_rfc3339, rfc3339};
use crate::gateway::Gateway;
use crate::http::{json_response, Body};
use crate::store::AuditQuery;
use hyper::{Method, Response};
use intentgate_proto::api::ErrorCode;
use intentgate_proto::audit::{ChainVerifier, Entry};
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
) -> ApiResult<Response<Body>> {
    match (method, path) {
        (&Method::GET, "/v1/admin/audit") => list(gw, caller, params).await,
        (&Method::GET, "/v1/admin/audit/verify") => verify(gw, caller, params).await,
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

/// An entry as listed: the chain fields plus a readable time.
fn listed(e: &Entry) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    v["time"] = json!(rfc3339(e.ts));
    v
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
        after,
        limit,
    };
    let entries = gw.store.query_entries(&query).await?;
    let ids: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == "decision")
        .map(|e| e.event_id.clone())
        .collect();
    let mut related: HashMap<String, Vec<Entry>> = HashMap::new();
    for r in gw.store.entries_referring(&ids).await? {
        if let Some(id) = r.ref_event_id.clone() {
            related.entry(id).or_default().push(r);
        }
    }
    // Argument values kept beside the chain (INTENTGATE_AUDIT_PERSIST_ARG_VALUES) are shown.
    let args: HashMap<String, Value> = gw
        .store
        .side_records(&ids)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.event_id, serde_json::from_str(s.args.as_deref()?).ok()?)))
        .collect();
    let next_cursor = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| format!("{}:{}", e.tenant, e.seq)))
        .flatten();
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut v = listed(e);
            if let Some(a) = args.get(&e.event_id) {
                v["args"] = a.clone();
            }
            if let Some(rel) = related.get(&e.event_id) {
                for r in rel {
                    v[r.kind.as_str()] = listed(r);
                }
            }
            v
        })
        .collect();
    Ok(json_response(
        200,
        &json!({"entries": rows, "next_cursor": next_cursor}),
    ))
}

/// Verify one tenant's chain from genesis.
pub async fn verify_chain(gw: &Gateway, tenant: &str) -> ApiResult<Value> {
    let mut verifier = ChainVerifier::new(tenant);
    let mut broken = None;
    let mut last_ts = None;
    let mut from = 1u64;
    loop {
        let page = gw
            .store
            .chain_range(tenant, from, u64::MAX / 2, VERIFY_PAGE)
            .await?;
        let n = page.len();
        for e in &page {
            if let Err(b) = verifier.push(e) {
                broken = Some(b);
                break;
            }
            last_ts = Some(e.ts);
        }
        if broken.is_some() || n < VERIFY_PAGE as usize {
            break;
        }
        from = page.last().map_or(from, |e| e.seq + 1);
    }
    let (seq, hash) = verifier.head();
    let age = last_ts.map(|ts| (now_us() - ts) / 1_000_000);
    Ok(json!({
        "ok": broken.is_none(),
        "tenant": tenant,
        "verified": verifier.verified,
        "broken_at": broken,
        "head": {"seq": seq, "hash": hash, "ts": last_ts.map(rfc3339)},
        // Signed checkpoints are not part of this build: nothing is anchored yet.
        "checkpoint": {"size": 0, "verified": false},
        "unanchored": seq,
        "chain_last_advanced_seconds": age,
    }))
}

async fn verify(
    gw: &Gateway,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> ApiResult<Response<Body>> {
    let tenants: Vec<String> = match scope(caller, params.get("tenant"))? {
        Some(t) => t,
        None => gw
            .store
            .chain_heads()
            .await?
            .into_iter()
            .map(|h| h.tenant)
            .collect(),
    };
    let mut reports = Vec::new();
    for t in &tenants {
        reports.push(verify_chain(gw, t).await?);
    }
    let ok = reports.iter().all(|r| r["ok"] == json!(true));
    let mut out = json!({"ok": ok, "tenants": reports});
    if let (Some(_), [single]) = (params.get("tenant"), reports.as_slice()) {
        if let (Some(o), Some(s)) = (out.as_object_mut(), single.as_object()) {
            for (k, v) in s {
                if k != "ok" {
                    o.insert(k.clone(), v.clone());
                }
            }
        }
    }
    if !ok {
        tracing::error!("audit verification found a broken chain");
    }
    Ok(json_response(200, &out))
}
