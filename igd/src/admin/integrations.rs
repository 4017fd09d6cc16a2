//! `GET /v1/admin/integrations`: the audit fan-out's sinks (DESIGN §8) — state, cursor per
//! chain, lag, last error — as this igd's outbox sees them.
//!
//! Operators and admins read it (a sink's errors can name receivers' hosts, more than a viewer
//! needs). A tenant-confined caller sees only the sinks of its tenant (notification channels):
//! a sink of every chain would show other tenants' names and activity.

use super::{ok, ApiError, ApiResult, Caller, Role};
use crate::gateway::Gateway;
use crate::http::Body;
use hyper::Response;
use intentgate_proto::api::{IntegrationList, IntegrationStatus};

/// Every sink the caller may see.
pub(super) fn visible(caller: &Caller, all: Vec<IntegrationStatus>) -> Vec<IntegrationStatus> {
    match caller.tenant_scope() {
        None => all,
        // What a receiver answered stays with unconfined operators: a tenant's view shows
        // the status or the kind of failure only (as `notify test` does), so a channel cannot
        // be used to read what an internal host says.
        Some(own) => all
            .into_iter()
            .filter(|s| s.tenant.as_deref() == Some(own))
            .map(|mut s| {
                s.last_error = s.last_error.map(|e| super::notify::without_answer(&e));
                s
            })
            .collect(),
    }
}

pub(super) async fn list(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    if caller.role() < Some(Role::Operator) {
        return Err(ApiError::forbidden(format!(
            "{} is a viewer: the integrations need an operator or an admin",
            caller.identity()
        )));
    }
    let mut all = gw.outbox.status();
    // Notification channels that cannot be opened never reach the outbox: shown `unusable`.
    all.extend(gw.notify.unusable());
    let integrations = visible(caller, all);
    ok(&IntegrationList { integrations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::Via;

    fn sink(name: &str, tenant: Option<&str>) -> IntegrationStatus {
        IntegrationStatus {
            name: name.into(),
            kind: "webhook".into(),
            tenant: tenant.map(String::from),
            state: "ok".into(),
            holder: None,
            cursors: Vec::new(),
            lag_entries: 0,
            oldest_pending_seconds: None,
            delivered: 0,
            failed: 0,
            last_error: None,
            last_error_at: None,
            last_delivery_at: None,
            next_attempt_at: None,
        }
    }

    #[test]
    fn tenant_confined_callers_see_their_tenants_sinks_only() {
        let all = || {
            vec![
                sink("webhook", None),
                sink("notify:a", Some("acme")),
                sink("notify:b", Some("globex")),
            ]
        };
        let names = |v: Vec<IntegrationStatus>| v.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(
            names(visible(&Caller::admin_token(), all())),
            ["webhook", "notify:a", "notify:b"]
        );
        assert_eq!(
            names(visible(&Caller::tenant_admin("acme"), all())),
            ["notify:a"]
        );
        let op = Caller::new(
            "op".into(),
            Some(Role::Operator),
            Some("globex".into()),
            Via::Socket,
        );
        assert_eq!(names(visible(&op, all())), ["notify:b"]);
    }

    #[test]
    fn a_tenant_sees_the_kind_of_failure_not_the_receivers_words() {
        let mut failing = sink("notify:a", Some("acme"));
        failing.last_error = Some("HTTP 404: internal-admin-panel v2.3 says no".into());
        let mine = visible(&Caller::tenant_admin("acme"), vec![failing.clone()]);
        assert_eq!(mine[0].last_error.as_deref(), Some("HTTP 404"));
        let all = visible(&Caller::admin_token(), vec![failing]);
        assert_eq!(
            all[0].last_error.as_deref(),
            Some("HTTP 404: internal-admin-panel v2.3 says no")
        );
    }
}
