//! JIT elevation (DESIGN §6): an operator asks for admin for 5 min…4 h with a reason; a
//! different admin approves it with step-up; it runs out by itself. While it is active the
//! operator's requests resolve to admin ([`super::identity`]) and every entry they chain carries
//! its id (`elevation_id`). Self-approval is refused, and the attempt chained, on every path
//! (an operator acting under an elevation is admin, so identities are compared, not roles).
//!
//! A request not approved within [`PENDING_SECS`] lapses (reads as `expired`).

use super::{admin_only, ok, ApiError, ApiResult, Caller, Role};
use crate::clock::{now_us, rfc3339};
use crate::gateway::Gateway;
use crate::http::Body;
use crate::store::ElevationRecord;
use hyper::Response;
use intentgate_proto::api::{Elevation, ElevationList, ElevationRequest, ErrorCode};
use intentgate_proto::ids::{new_id, SYSTEM_TENANT};

/// The durations an elevation may last, in seconds (5 min, 15 min, 30 min, 1 h, 4 h).
pub const DURATIONS: &[u64] = &[300, 900, 1800, 3600, 14400];
/// How long a request waits for an approval before it lapses.
pub const PENDING_SECS: i64 = 3600;
const MAX_REASON_CHARS: usize = 500;
const US: i64 = 1_000_000;

/// The status as of `now`: `pending`, `active` or `expired`.
fn status_at(e: &ElevationRecord, now: i64) -> &'static str {
    match e.status.as_str() {
        "active" if e.expires_at.is_some_and(|x| x > now) => "active",
        "pending" if e.requested_at + PENDING_SECS * US > now => "pending",
        _ => "expired",
    }
}

fn wire(e: &ElevationRecord, now: i64) -> Elevation {
    Elevation {
        id: e.id.clone(),
        identity: e.identity.clone(),
        reason: e.reason.clone(),
        duration_seconds: u64::try_from(e.duration_secs).unwrap_or(0),
        requested_at: rfc3339(e.requested_at),
        status: status_at(e, now).to_string(),
        approved_by: e.approved_by.clone(),
        approved_at: e.approved_at.map(rfc3339),
        expires_at: e.expires_at.map(rfc3339),
    }
}

/// `GET /v1/admin/elevations`: every elevation (a tenant-scoped caller: its own), newest first.
pub(super) async fn list(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let now = now_us();
    let elevations = gw
        .store
        .elevations()
        .await?
        .iter()
        .filter(|e| caller.tenant_scope().is_none() || e.identity == caller.id())
        .map(|e| wire(e, now))
        .collect();
    ok(&ElevationList { elevations })
}

/// `POST /v1/admin/elevations`: an operator asks for admin.
pub(super) async fn request(
    gw: &Gateway,
    caller: &Caller,
    req: ElevationRequest,
) -> ApiResult<Response<Body>> {
    if caller.via().break_glass() {
        return Err(ApiError::forbidden(format!(
            "{} is a break-glass identity; elevation is for operator accounts",
            caller.identity()
        )));
    }
    if let Some(id) = caller.elevation() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("{} already acts under elevation {id}", caller.identity()),
        ));
    }
    if let Some(t) = caller.tenant_scope() {
        // An elevation makes its holder admin of every tenant: not for an account confined to one.
        return Err(ApiError::forbidden(format!(
            "{} is confined to tenant {t}; elevation to admin is for operators of all tenants",
            caller.identity()
        )));
    }
    match caller.role() {
        Some(Role::Operator) => {}
        Some(Role::Admin) => {
            return Err(ApiError::bad(format!(
                "{} is an admin already",
                caller.identity()
            )))
        }
        _ => {
            return Err(ApiError::forbidden(
                "only an operator can ask for elevation",
            ))
        }
    }
    if !DURATIONS.contains(&req.duration_seconds) {
        return Err(ApiError::bad(
            "duration_seconds must be 300, 900, 1800, 3600 or 14400 (5m, 15m, 30m, 1h, 4h)",
        ));
    }
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad("an elevation needs a reason"));
    }
    if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        return Err(ApiError::bad(format!(
            "reason must be at most {MAX_REASON_CHARS} characters, without control characters"
        )));
    }
    let now = now_us();
    if let Some(open) = gw
        .store
        .elevations()
        .await?
        .iter()
        .find(|e| e.identity == caller.id() && status_at(e, now) != "expired")
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "{} already has elevation {} ({}); one at a time",
                caller.identity(),
                open.id,
                status_at(open, now)
            ),
        ));
    }
    let record = ElevationRecord {
        id: format!("elv_{}", new_id()),
        identity: caller.identity(),
        reason: reason.to_string(),
        duration_secs: i64::try_from(req.duration_seconds).unwrap_or(0),
        requested_at: now,
        status: "pending".into(),
        approved_by: None,
        approved_at: None,
        expires_at: None,
    };
    gw.audit
        .admin(
            SYSTEM_TENANT,
            &caller.actor(),
            "elevation-request",
            &record.id,
            Some(&format!("admin for {} s: {reason}", req.duration_seconds)),
        )
        .await?;
    gw.store.insert_elevation(&record).await?;
    tracing::warn!(actor = %caller.identity(), elevation = %record.id, duration = req.duration_seconds, "elevation requested");
    ok(&wire(&record, now))
}

/// `POST /v1/admin/elevations/{id}/approve`: a different admin, with step-up. The requester
/// is checked before the role, so that an operator trying its own request is on the record.
pub(super) async fn approve(gw: &Gateway, caller: &Caller, id: &str) -> ApiResult<Response<Body>> {
    let record = gw
        .store
        .elevations()
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no elevation {id}")))?;
    if record.identity == caller.id() {
        let why = "self-approval refused: a different admin must approve an elevation";
        gw.audit
            .admin(
                SYSTEM_TENANT,
                &caller.actor(),
                "elevation-approve-refused",
                id,
                Some(why),
            )
            .await?;
        tracing::warn!(actor = %caller.identity(), elevation = %id, "elevation self-approval refused");
        return Err(ApiError::forbidden(why));
    }
    admin_only(caller, "approving an elevation")?;
    not_elevated(caller, "approve an elevation")?;
    let now = now_us();
    let status = status_at(&record, now);
    if status != "pending" {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("elevation {id} is {status}, not pending"),
        ));
    }
    super::totp::step_up(gw, caller, "elevation-approve").await?;
    let now = now_us();
    let expires_at = now + record.duration_secs * US;
    gw.audit
        .admin(
            SYSTEM_TENANT,
            &caller.actor(),
            "elevation-approve",
            id,
            Some(&format!(
                "{} admin for {} s until {}",
                record.identity,
                record.duration_secs,
                rfc3339(expires_at)
            )),
        )
        .await?;
    match gw
        .store
        .approve_elevation(id, caller.id(), now, expires_at)
        .await?
    {
        Some(approved) => {
            tracing::warn!(actor = %caller.identity(), elevation = %id, requester = %approved.identity, "elevation approved");
            ok(&wire(&approved, now))
        }
        None => {
            let why = format!("elevation {id} was decided by someone else first");
            gw.audit
                .admin(
                    SYSTEM_TENANT,
                    &caller.actor(),
                    "elevation-approve-refused",
                    id,
                    Some(&why),
                )
                .await?;
            Err(ApiError::new(ErrorCode::Conflict, why))
        }
    }
}

/// Admin power borrowed through an elevation does not mint more of it: an elevated identity
/// may not approve elevations or manage operator accounts (two operators could otherwise keep
/// elevating each other, or add a permanent admin, with no standing admin involved).
pub(super) fn not_elevated(caller: &Caller, what: &str) -> ApiResult<()> {
    match caller.elevation() {
        Some(id) => Err(ApiError::forbidden(format!(
            "{} acts under elevation {id}, which may not {what}; a standing admin must",
            caller.identity()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(status: &str, requested_at: i64, expires_at: Option<i64>) -> ElevationRecord {
        ElevationRecord {
            id: "elv_x".into(),
            identity: "alice".into(),
            reason: "r".into(),
            duration_secs: 300,
            requested_at,
            status: status.into(),
            approved_by: None,
            approved_at: None,
            expires_at,
        }
    }

    #[test]
    fn status_runs_out() {
        let now = 10_000 * US;
        assert_eq!(status_at(&rec("pending", now - US, None), now), "pending");
        assert_eq!(
            status_at(&rec("pending", now - PENDING_SECS * US, None), now),
            "expired"
        );
        assert_eq!(status_at(&rec("active", 0, Some(now + 1)), now), "active");
        assert_eq!(status_at(&rec("active", 0, Some(now)), now), "expired");
    }
}
