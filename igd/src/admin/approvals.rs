//! The approvals queue over the admin API (DESIGN §6): list, decide, and a server-sent stream
//! of queue changes for the approvals TUI.
//!
//! Viewers read; operators (within their tenants) and admins decide. Approving a call the
//! policy marked `requires_step_up` needs a fresh TOTP code (`totp` in the body). The decision
//! is recorded with `decided_by` = the authenticated identity, never a name from the body.

use super::{check_tenant, ok, scope, ApiError, ApiResult, Caller};
use crate::approvals::{Approvals, DecideError, MAX_NOTE_CHARS};
use crate::clock::rfc3339;
use crate::gateway::Gateway;
use crate::http::{channel_body, Body};
use crate::store::{ApprovalQuery, ApprovalRecord};
use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::Response;
use intentgate_proto::api::{Approval, ApprovalEvent, ApprovalList, DecideRequest, ErrorCode};
use intentgate_proto::ids::SYSTEM_TENANT;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Between keep-alive comments on the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

const STATUSES: &[&str] = &[
    "pending",
    "approved",
    "rejected",
    "timeout",
    "forwarded",
    "lapsed",
];

fn queue(gw: &Gateway) -> ApiResult<&Arc<Approvals>> {
    gw.approvals.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unavailable,
            "the approvals queue is not enabled (INTENTGATE_APPROVAL_QUEUE=off): escalations are refused",
        )
    })
}

/// The wire form of a row.
pub(crate) fn wire(row: &ApprovalRecord) -> Approval {
    let json = |text: Option<&str>| {
        text.and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null)
    };
    Approval {
        id: row.id.clone(),
        tenant: row.tenant.clone(),
        subject: row.subject.clone(),
        delegated_subject: row.delegated_subject.clone(),
        tool: row.tool.clone(),
        args: json(row.args.as_deref()),
        intent: json(row.intent.as_deref()),
        reason: row.reason.clone(),
        requires_step_up: row.requires_step_up,
        args_hash: row.args_hash.clone(),
        created_at: rfc3339(row.created_at),
        expires_at: rfc3339(row.expires_at),
        status: row.status.clone(),
        decided_by: row.decided_by.clone(),
        decided_at: row.decided_at.map(rfc3339),
        note: row.note.clone(),
    }
}

/// `GET /v1/admin/approvals?status=…&tenant=…&limit=…`.
pub(super) async fn list(
    gw: &Gateway,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> ApiResult<Response<Body>> {
    let queue = queue(gw)?;
    let status = match params.get("status").map(String::as_str) {
        None | Some("") => Some("pending".to_string()),
        Some("all") => None,
        Some(s) if STATUSES.contains(&s) => Some(s.to_string()),
        Some(s) => {
            return Err(ApiError::bad(format!(
                "status {s:?} is not one of all, {}",
                STATUSES.join(", ")
            )))
        }
    };
    let limit = match params.get("limit") {
        None => 1000,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| ApiError::bad("limit must be 1..10000"))?,
    };
    let rows = queue
        .list(&ApprovalQuery {
            status,
            tenants: scope(caller, params.get("tenant"))?,
            changed_since: None,
            limit,
        })
        .await?;
    ok(&ApprovalList {
        approvals: rows.iter().map(wire).collect(),
    })
}

/// `POST /v1/admin/approvals/{id}/decide`.
pub(super) async fn decide(
    gw: &Gateway,
    caller: &Caller,
    id: &str,
    req: DecideRequest,
) -> ApiResult<Response<Body>> {
    let queue = queue(gw)?;
    let approve = match req.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(ApiError::bad(format!(
                "decision {other:?} must be approve or reject"
            )))
        }
    };
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        if n.chars().count() > MAX_NOTE_CHARS || n.chars().any(char::is_control) {
            return Err(ApiError::bad(format!(
                "note must be at most {MAX_NOTE_CHARS} characters, without control characters"
            )));
        }
    }
    let row = gw
        .store
        .approval(id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no approval {id}")))?;
    check_tenant(caller, &row.tenant)?;
    let action = if approve { "approve" } else { "reject" };
    if approve && row.requires_step_up {
        // The body's code, else the header's.
        let code = req.totp.clone().or_else(|| caller.totp().map(String::from));
        let presented = caller.clone().with_totp(code);
        super::totp::step_up(gw, &presented, "approve").await?;
    }
    match queue
        .decide(id, approve, caller.id(), caller.elevation(), note)
        .await
    {
        Ok(row) => ok(&wire(&row)),
        Err(DecideError::NotFound) => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no approval {id}"),
        )),
        Err(DecideError::Conflict(now)) => {
            // A replayed or late decision is refused, and the attempt is on the record.
            let why = if now.status == crate::approvals::PENDING {
                format!("approval {id} has expired (it times out within a second)")
            } else {
                format!("approval {id} is already {}", now.status)
            };
            gw.audit
                .admin(
                    &now.tenant,
                    &caller.actor(),
                    &format!("{action}-refused"),
                    id,
                    Some(&why),
                )
                .await?;
            Err(ApiError::new(ErrorCode::Conflict, why))
        }
        Err(DecideError::Store(e)) => Err(e.into()),
        Err(DecideError::Audit(e)) => Err(e.into()),
    }
}

/// `GET /v1/admin/approvals/stream`: a `snapshot` event with the pending rows the caller may
/// see, then an `approval` event per change, and a keep-alive comment every 15 s.
pub(super) async fn stream(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let queue = queue(gw)?.clone();
    // Subscribe before the snapshot: a change made meanwhile is sent after it, never lost.
    let mut changes = queue.subscribe();
    let tenants = scope(caller, None)?;
    let pending = queue
        .list(&ApprovalQuery {
            status: Some("pending".into()),
            tenants: tenants.clone(),
            changed_since: None,
            limit: 10_000,
        })
        .await?;
    let visible = move |row: &ApprovalRecord| {
        tenants.as_ref().is_none_or(|ts| ts.contains(&row.tenant)) && row.tenant != SYSTEM_TENANT
    };
    let (tx, body) = channel_body();
    let store = gw.store.clone();
    let who = caller.clone();
    let snapshot = ApprovalEvent::Snapshot {
        approvals: pending.iter().map(wire).collect(),
    };
    tokio::spawn(async move {
        if !tx.send(event(&snapshot)).await {
            return;
        }
        let mut tick = tokio::time::interval(KEEP_ALIVE);
        tick.tick().await;
        loop {
            let chunk = tokio::select! {
                r = changes.recv() => match r {
                    Ok(row) if visible(&row) => event(&ApprovalEvent::Approval { approval: wire(&row) }),
                    Ok(_) => continue,
                    // Fell behind: the client re-reads everything from a fresh snapshot.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let rows = queue.list(&ApprovalQuery {
                            status: Some("pending".into()),
                            tenants: None,
                            changed_since: None,
                            limit: 10_000,
                        }).await.unwrap_or_default();
                        event(&ApprovalEvent::Snapshot {
                            approvals: rows.iter().filter(|r| visible(r)).map(wire).collect(),
                        })
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick() => Bytes::from_static(b": keep-alive\n\n"),
            };
            // Who opened the stream is checked again before everything it sends: a removed
            // account or an elapsed elevation ends it; the client reconnects as who it is now.
            if !super::identity::still_valid(&store, &who).await {
                tracing::info!(caller = %who.id(), "approvals stream closed: the caller's account or elevation changed");
                return;
            }
            if !tx.send(chunk).await {
                return;
            }
        }
    });
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    Ok(resp)
}

fn event(e: &ApprovalEvent) -> Bytes {
    let data = serde_json::to_string(e).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!("event: approval\ndata: {data}\n\n"))
}
