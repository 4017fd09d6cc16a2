//! Reading the audit log: `GET /v1/admin/audit` (filters, keyset pagination, outcomes joined
//! to their decisions) and `GET /v1/admin/audit/export` (CSV or NDJSON, streamed, capped by
//! `INTENTGATE_AUDIT_EXPORT_MAX_ROWS` with a row that says where to continue).

use super::{scope, time_param, ApiError, ApiResult, Caller};
use crate::clock::rfc3339;
use crate::gateway::Gateway;
use crate::http::{json_response, Body, BodySender};
use crate::store::{AuditQuery, DynStore};
use hyper::Response;
use intentgate_proto::api::{AuditPage, ErrorCode, ListedEntry, TimedEntry};
use intentgate_proto::audit::Entry;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// An entry with its readable time.
fn timed(e: Entry) -> TimedEntry {
    TimedEntry {
        time: rfc3339(e.ts),
        entry: e,
    }
}

pub(super) async fn list(
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
        .filter(|e| e.is(intentgate_proto::audit::Kind::Decision))
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
const EXPORT_COLUMNS: &[&str] = &[
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
fn csv_field(v: &Value) -> String {
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

pub(super) async fn export(
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
    tokio::spawn(stream_export(
        gw.store.clone(),
        base,
        cap,
        truncated,
        csv,
        tx,
    ));
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

/// Send an export's rows page by page, then (when capped) the row that says where to continue.
/// A storage error aborts the body, so the client sees a broken download, not a short one.
async fn stream_export(
    store: DynStore,
    base: AuditQuery,
    cap: u64,
    truncated: bool,
    csv: bool,
    tx: BodySender,
) {
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
        let _ = tx
            .send(truncated_row(&query, cap, last_seq, csv).into())
            .await;
    }
}

/// The last row of a capped export: where to continue (`from_seq`).
fn truncated_row(query: &AuditQuery, cap: u64, last_seq: u64, csv: bool) -> String {
    let marker = json!({
        "tenant": query.tenant.clone().or_else(|| query.tenants.as_ref().and_then(|t| t.first().cloned())),
        "kind": "truncated",
        "reason": format!("export capped at {cap} rows (INTENTGATE_AUDIT_EXPORT_MAX_ROWS); continue with from_seq={}", last_seq + 1),
        "seq": last_seq + 1,
    });
    if csv {
        let mut l = EXPORT_COLUMNS
            .iter()
            .map(|c| csv_field(marker.get(*c).unwrap_or(&Value::Null)))
            .collect::<Vec<_>>()
            .join(",");
        l.push_str("\r\n");
        l
    } else {
        format!("{marker}\n")
    }
}
