//! Notification channels over the admin API (DESIGN §6 style, §8): list, add, remove, send a
//! test message, preview a body.
//!
//! Who: everyone reads the channels of their tenants; adding, removing and testing are for an
//! admin, or a tenant admin in its own tenant; previewing is for operators of the tenant. Each
//! change is chained (`kind: admin`) in the channel's tenant before it takes effect, and the
//! outbox is given the new set right after. The webhook URL or routing key goes into the store
//! sealed and never comes back out: answers, audit entries and logs show the receiver's host.
//!
//! A tenant-confined caller (a tenant admin bearer, an operator account confined to a tenant)
//! adds channels that reach public addresses only (see `sinks::http`), so a channel is no way
//! into igd's host or its network; testing a channel answers such a caller with the receiver's
//! status, never its words; and a channel is sent at most one test message per
//! [`notify::TEST_INTERVAL`].

use super::{check_tenant, ok, scope, ApiError, ApiResult, Caller, Role, Via};
use crate::clock::{now_us, rfc3339};
use crate::gateway::Gateway;
use crate::http::Body;
use crate::ops_settings::WebhookEvent;
use crate::sinks::notify::{self, ChannelInfo, ChannelKind, Message, Target};
use crate::store::{AuditQuery, NotifyChannelRecord, StoreError};
use hyper::Response;
use intentgate_proto::api::{
    ErrorCode, NotifyChannel, NotifyChannelList, NotifyChannelRequest, NotifyPreview,
    NotifyPreviewRequest, NotifyTestResult,
};
use intentgate_proto::ids::{is_hex_id, new_id, valid_name};
use std::collections::BTreeMap;

/// Most channels per tenant (each is a sink with its own cursor and deliveries).
const MAX_PER_TENANT: usize = 20;

fn valid_id(id: &str) -> bool {
    id.strip_prefix(notify::ID_PREFIX).is_some_and(is_hex_id)
}

/// How the list marks a channel that cannot be opened (its reason is in igd's log and among
/// the integrations).
const UNUSABLE: &str = " (unusable)";

fn wire(rec: &NotifyChannelRecord) -> NotifyChannel {
    NotifyChannel {
        id: rec.id.clone(),
        tenant: rec.tenant.clone(),
        kind: rec.kind.clone(),
        name: rec.name.clone(),
        events: rec.events.clone(),
        target: notify::redacted(&rec.target_host),
        created_at: rfc3339(rec.created_at),
        created_by: rec.created_by.clone(),
    }
}

/// Adding, removing and testing a channel: an admin, or a tenant admin in its own tenant.
fn may_manage(caller: &Caller, tenant: &str) -> ApiResult<()> {
    check_tenant(caller, tenant)?;
    if caller.role() == Some(Role::Admin) || caller.via() == Via::TenantAdmin {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "managing notification channels needs an admin or the tenant admin of {tenant}"
    )))
}

/// The channel `id`, if the caller may see it (another tenant's is not found, not forbidden:
/// its existence is not the caller's business).
async fn find(gw: &Gateway, caller: &Caller, id: &str) -> ApiResult<NotifyChannelRecord> {
    let missing = || ApiError::new(ErrorCode::NotFound, format!("no notification channel {id}"));
    if !valid_id(id) {
        return Err(missing());
    }
    match gw.store.notify_channel(id).await? {
        Some(rec) if caller.may_access(&rec.tenant) => Ok(rec),
        _ => Err(missing()),
    }
}

/// Hand the new set to the outbox. The change itself is stored: a failure here is logged and
/// the periodic resync (or the next start) applies it.
async fn apply(gw: &Gateway) {
    if let Err(e) = notify::reconcile(gw).await {
        tracing::error!(error = %e, "notification channels changed but the outbox was not updated; it will be at the next resync");
    }
}

/// `GET /v1/admin/notify[?tenant=T]`.
pub(super) async fn list(
    gw: &Gateway,
    caller: &Caller,
    params: &BTreeMap<String, String>,
) -> ApiResult<Response<Body>> {
    let tenants = scope(caller, params.get("tenant"))?;
    let channels = gw
        .store
        .notify_channels()
        .await?
        .iter()
        .filter(|c| tenants.as_ref().is_none_or(|t| t.contains(&c.tenant)))
        .map(|c| {
            let mut ch = wire(c);
            if gw.notify.open(c).is_err() {
                ch.target.push_str(UNUSABLE);
            }
            ch
        })
        .collect();
    ok(&NotifyChannelList { channels })
}

fn parse_events(requested: Option<&Vec<String>>) -> ApiResult<Vec<String>> {
    let Some(list) = requested else {
        return Ok(WebhookEvent::ALL
            .iter()
            .map(|e| e.as_str().to_string())
            .collect());
    };
    let mut events: Vec<WebhookEvent> = Vec::new();
    for item in list {
        let e = WebhookEvent::parse(item.trim()).ok_or_else(|| {
            ApiError::bad(format!(
                "event {:?} is not deny, escalate, requires_step_up or approval_timeout",
                intentgate_proto::text::escape_controls(item)
            ))
        })?;
        if !events.contains(&e) {
            events.push(e);
        }
    }
    if events.is_empty() {
        return Err(ApiError::bad(
            "events names no event (leave it out for all four)",
        ));
    }
    // Stored in one order, whatever order they were given in.
    Ok(WebhookEvent::ALL
        .iter()
        .filter(|e| events.contains(e))
        .map(|e| e.as_str().to_string())
        .collect())
}

/// `POST /v1/admin/notify`.
pub(super) async fn add(
    gw: &Gateway,
    caller: &Caller,
    req: NotifyChannelRequest,
) -> ApiResult<Response<Body>> {
    may_manage(caller, &req.tenant)?;
    let kind = ChannelKind::parse(&req.kind).ok_or_else(|| {
        ApiError::bad(format!(
            "kind {:?} must be slack, teams or pagerduty",
            intentgate_proto::text::escape_controls(&req.kind)
        ))
    })?;
    if !valid_name(&req.name) {
        return Err(ApiError::bad(format!(
            "channel name {:?} must match [a-z0-9][a-z0-9._-]{{0,62}}",
            intentgate_proto::text::escape_controls(&req.name)
        )));
    }
    let events = parse_events(req.events.as_ref())?;
    let public_only = caller.tenant_scope().is_some();
    let target = Target::new(
        kind,
        req.url.as_deref(),
        req.routing_key.as_deref(),
        public_only,
    )
    .map_err(ApiError::bad)?;
    let existing = gw.store.notify_channels().await?;
    let mine: Vec<&NotifyChannelRecord> =
        existing.iter().filter(|c| c.tenant == req.tenant).collect();
    if mine.iter().any(|c| c.name == req.name) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "tenant {} already has a notification channel named {}",
                req.tenant, req.name
            ),
        ));
    }
    if mine.len() >= MAX_PER_TENANT {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "tenant {} has {MAX_PER_TENANT} notification channels, the most it may have; remove one first",
                req.tenant
            ),
        ));
    }
    let id = format!("{}{}", notify::ID_PREFIX, new_id());
    let record = NotifyChannelRecord {
        target_sealed: gw.notify.sealer().seal(&req.tenant, &id, &target),
        target_host: target.host(),
        id,
        tenant: req.tenant.clone(),
        kind: kind.as_str().to_string(),
        name: req.name.clone(),
        events,
        created_at: now_us(),
        created_by: caller.identity(),
    };
    let what = format!(
        "{} channel {} to {} for {}{}",
        record.kind,
        record.name,
        notify::redacted(&record.target_host),
        record.events.join(", "),
        if public_only {
            " (public addresses only)"
        } else {
            ""
        }
    );
    gw.audit
        .admin(
            &record.tenant,
            &caller.actor(),
            "notify-add",
            &record.id,
            Some(&what),
        )
        .await?;
    match gw.store.insert_notify_channel(&record).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "tenant {} already has a notification channel named {}",
                    record.tenant, record.name
                ),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    tracing::warn!(actor = %caller.identity(), tenant = %record.tenant, channel = %record.id,
        kind = %record.kind, host = %record.target_host, "notification channel added");
    apply(gw).await;
    ok(&wire(&record))
}

/// `DELETE /v1/admin/notify/{id}`.
pub(super) async fn remove(gw: &Gateway, caller: &Caller, id: &str) -> ApiResult<Response<Body>> {
    let record = find(gw, caller, id).await?;
    may_manage(caller, &record.tenant)?;
    gw.audit
        .admin(
            &record.tenant,
            &caller.actor(),
            "notify-remove",
            &record.id,
            Some(&format!("{} channel {}", record.kind, record.name)),
        )
        .await?;
    gw.store.delete_notify_channel(&record.id).await?;
    tracing::warn!(actor = %caller.identity(), tenant = %record.tenant, channel = %record.id, "notification channel removed");
    apply(gw).await;
    ok(&wire(&record))
}

fn unusable(why: String) -> ApiError {
    ApiError::new(ErrorCode::Conflict, why)
}

/// `POST /v1/admin/notify/{id}/test`: one synthetic, marked message, now (at most one per
/// channel every [`notify::TEST_INTERVAL`]). The receiver's refusal is the answer
/// (`delivered: false`), not an error of this call; a tenant-confined caller is told its
/// status only, never what it said.
pub(super) async fn test(gw: &Gateway, caller: &Caller, id: &str) -> ApiResult<Response<Body>> {
    let record = find(gw, caller, id).await?;
    may_manage(caller, &record.tenant)?;
    let sink = gw.notify.open(&record).map_err(unusable)?;
    if let Err(wait) = gw.notify.take_test(&record.id) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "channel {} was sent a test message less than {} s ago; try again in {} s",
                record.id,
                notify::TEST_INTERVAL.as_secs(),
                wait.as_secs().max(1)
            ),
        ));
    }
    gw.audit
        .admin(
            &record.tenant,
            &caller.actor(),
            "notify-test",
            &record.id,
            None,
        )
        .await?;
    let message = Message::test(sink.info(), &caller.identity());
    let answer = match sink.send(&message).await {
        Ok(a) => NotifyTestResult {
            channel: record.id.clone(),
            kind: record.kind.clone(),
            delivered: true,
            status: Some(a.status),
            message: format!(
                "{} accepted the test message",
                notify::redacted(&record.target_host)
            ),
        },
        Err(e) => NotifyTestResult {
            channel: record.id.clone(),
            kind: record.kind.clone(),
            delivered: false,
            status: http_status(&e.message),
            message: format!(
                "{} did not accept the test message: {}",
                notify::redacted(&record.target_host),
                if caller.tenant_scope().is_some() {
                    without_answer(&e.message)
                } else {
                    e.message.clone()
                }
            ),
        },
    };
    tracing::info!(actor = %caller.identity(), channel = %record.id, delivered = answer.delivered, "notification channel tested");
    ok(&answer)
}

/// A sink error as a tenant-confined caller is told it: the receiver's status (`HTTP 404`) or
/// what kind of transport failure it was, never the receiver's words or a network detail
/// (which would tell the state of ports and hosts igd can reach) — but for the public-address
/// rule, which is igd's own.
pub(super) fn without_answer(message: &str) -> String {
    if let Some(status) = http_status(message) {
        return format!("HTTP {status}");
    }
    if message.contains(crate::sinks::http::NOT_PUBLIC) {
        return crate::sinks::http::NOT_PUBLIC.to_string();
    }
    let kind = message.split(':').next().unwrap_or_default();
    match kind {
        "timed out" | "cannot connect" => kind.to_string(),
        _ => "request failed".to_string(),
    }
}

/// The status in a sink error's `HTTP 404: …` message.
fn http_status(message: &str) -> Option<u16> {
    message
        .strip_prefix("HTTP ")?
        .split(':')
        .next()?
        .parse()
        .ok()
}

/// `POST /v1/admin/notify/{id}/preview`: the body for an audit entry of the channel's tenant
/// (`event_id`) or a sample; nothing is sent. PagerDuty's routing key is shown redacted.
pub(super) async fn preview(
    gw: &Gateway,
    caller: &Caller,
    id: &str,
    req: NotifyPreviewRequest,
) -> ApiResult<Response<Body>> {
    let record = find(gw, caller, id).await?;
    if caller.role() < Some(Role::Operator) {
        return Err(ApiError::forbidden(
            "previewing a channel needs an operator",
        ));
    }
    let info = ChannelInfo::of(&record).ok_or_else(|| {
        unusable(format!(
            "channel {} names a kind or event this igd does not know",
            record.id
        ))
    })?;
    let (entry, sample) = match &req.event_id {
        None => (notify::sample_entry(&record.tenant), true),
        Some(event_id) => {
            if !is_hex_id(event_id) {
                return Err(ApiError::bad(
                    "event_id must be 32 lowercase hex characters",
                ));
            }
            let query = AuditQuery {
                tenant: Some(record.tenant.clone()),
                event_id: Some(event_id.clone()),
                limit: 1,
                ..AuditQuery::default()
            };
            let entry = gw.store.query_entries(&query).await?.into_iter().next();
            let entry = entry.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("no audit entry {event_id} in tenant {}", record.tenant),
                )
            })?;
            (entry, false)
        }
    };
    let message = Message::of_entry(&entry);
    let redacted_key = "<redacted>";
    let body = notify::body(info.kind, &message, gw.notify.deployment_id(), redacted_key);
    let redacted = match info.kind {
        ChannelKind::PagerDuty => vec!["routing_key".to_string()],
        _ => Vec::new(),
    };
    ok(&NotifyPreview {
        channel: record.id.clone(),
        kind: record.kind.clone(),
        event_id: (!sample).then(|| entry.event_id.clone()),
        sample,
        would_send: info.wants(&entry),
        redacted,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert!(valid_name("oncall"));
        assert!(valid_name("sec-alerts.eu_1"));
        assert!(!valid_name("On-call"));
        assert!(!valid_name(""));
        assert!(!valid_name("<!channel>"));
        assert!(valid_id(&format!("ntf_{}", new_id())));
        assert!(!valid_id(&new_id()));
        assert!(!valid_id("ntf_../x"));
    }

    #[test]
    fn events_default_to_all_and_are_checked() {
        assert_eq!(parse_events(None).unwrap().len(), 4);
        let some = parse_events(Some(&vec!["escalate".into(), "deny".into(), "deny".into()]));
        assert_eq!(some.unwrap(), vec!["deny", "escalate"]);
        assert!(parse_events(Some(&vec!["allow".into()])).is_err());
        assert!(parse_events(Some(&vec![])).is_err());
    }

    #[test]
    fn statuses_are_read_from_sink_errors() {
        assert_eq!(http_status("HTTP 404: no_service"), Some(404));
        assert_eq!(http_status("cannot connect"), None);
    }

    #[test]
    fn tenant_callers_are_not_told_the_answer() {
        assert_eq!(without_answer("HTTP 404: no_service"), "HTTP 404");
        assert_eq!(without_answer("HTTP 500:"), "HTTP 500");
        assert_eq!(
            without_answer("cannot connect: Connection refused (os error 111)"),
            "cannot connect"
        );
        assert_eq!(without_answer("timed out: deadline"), "timed out");
        assert_eq!(
            without_answer(&format!(
                "cannot connect: {}",
                crate::sinks::http::NOT_PUBLIC
            )),
            crate::sinks::http::NOT_PUBLIC
        );
        assert_eq!(
            without_answer("tls: bad certificate for 10.0.0.1"),
            "request failed"
        );
    }
}
