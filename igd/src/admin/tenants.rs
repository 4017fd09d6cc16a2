//! Tenants (every name igd knows, with its live tokens) and agents (each subject's activity).

use super::{ok, ApiResult, Caller};
use crate::clock::{now_us, rfc3339};
use crate::gateway::Gateway;
use crate::http::Body;
use hyper::Response;
use intentgate_proto::api::{AgentInfo, AgentList, TenantInfo, TenantList};
use std::collections::{BTreeMap, BTreeSet};

pub(super) async fn tenants(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let now = now_us();
    let mut live: BTreeMap<String, u64> = BTreeMap::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for t in gw.store.tokens().await? {
        names.insert(t.tenant.clone());
        if t.expires_at > now
            && gw
                .revocations
                .revoked_in_chain(&t.tenant, [t.jti.as_str()])
                .is_none()
        {
            *live.entry(t.tenant).or_default() += 1;
        }
    }
    names.extend(gw.store.stops().await?.into_iter().map(|s| s.tenant));
    names.extend(
        gw.store
            .chain_heads()
            .await?
            .into_iter()
            .map(|h| h.tenant)
            .filter(|t| !t.starts_with('_')),
    );
    let scoped: BTreeSet<&str> = gw
        .settings
        .tenant_admins
        .iter()
        .map(|(t, _)| t.as_str())
        .collect();
    names.extend(scoped.iter().map(|s| s.to_string()));
    let tenants = names
        .into_iter()
        .filter(|n| caller.may_access(n))
        .map(|name| TenantInfo {
            admin_scoped: scoped.contains(name.as_str()),
            tokens_live: live.get(&name).copied().unwrap_or(0),
            name,
        })
        .collect();
    ok(&TenantList { tenants })
}

pub(super) async fn agents(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let agents = gw
        .store
        .agents()
        .await?
        .into_iter()
        .filter(|a| caller.may_access(&a.tenant))
        .map(|a| AgentInfo {
            allowed: a.allowed,
            calls: a.decisions,
            first_seen: rfc3339(a.first_seen),
            last_seen: rfc3339(a.last_seen),
            refused: a.refused,
            subject: a.subject,
            tenant: a.tenant,
        })
        .collect();
    ok(&AgentList { agents })
}
