//! Emergency stops: place, list and lift a stop on a tenant or one of its subjects. Lifting a
//! stop needs at least the role of whoever placed it.

use super::{check_tenant, ok, ApiError, ApiResult, Caller, Role};
use crate::clock::{now_us, rfc3339};
use crate::gateway::Gateway;
use crate::http::Body;
use crate::store::StopRecord;
use hyper::Response;
use intentgate_proto::api::{ErrorCode, Stop, StopList, StopRequest};
use intentgate_proto::token;

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

pub(super) async fn list(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
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

pub(super) async fn put(
    gw: &Gateway,
    caller: &Caller,
    req: StopRequest,
) -> ApiResult<Response<Body>> {
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
    gw.audit
        .admin(
            &req.tenant,
            &caller.actor(),
            "stop",
            &stop_target(&req.tenant, req.subject.as_deref()),
            Some(&req.reason),
        )
        .await?;
    let stored = gw.store.put_stop(&record).await?;
    gw.revocations
        .set_stop(&req.tenant, req.subject.as_deref(), true);
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

pub(super) async fn lift(
    gw: &Gateway,
    caller: &Caller,
    req: StopRequest,
) -> ApiResult<Response<Body>> {
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
    super::totp::step_up(gw, caller, "unstop").await?;
    gw.audit
        .admin(
            &req.tenant,
            &caller.actor(),
            "unstop",
            &stop_target(&req.tenant, req.subject.as_deref()),
            Some(&req.reason),
        )
        .await?;
    gw.store
        .delete_stop(&req.tenant, req.subject.as_deref())
        .await?;
    gw.revocations
        .set_stop(&req.tenant, req.subject.as_deref(), false);
    tracing::warn!(actor = %caller.identity(), tenant = %req.tenant, subject = ?req.subject, "emergency stop lifted");
    ok(&stop_wire(existing))
}
