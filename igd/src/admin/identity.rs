//! Who a request comes from (DESIGN §6): the peer a front end saw (a socket uid, a client
//! certificate subject, a bearer) resolved, per request, to a [`Caller`]: an operator account
//! and its role and tenant scope, the built-in admin uids, or a break-glass bearer; then the
//! JIT elevation it acts under, if one is active.
//!
//! Resolved per request, not per connection: removing an account, or an elevation running
//! out, takes effect on the next request of an open connection.

use super::{ApiError, ApiResult, Caller, Role, Via};
use crate::clock::now_us;
use crate::gateway::Gateway;
use crate::store::OperatorRecord;
use intentgate_proto::api::ErrorCode;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a front end knows of the party at the other end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A Unix-socket peer's uid (`SO_PEERCRED`).
    Uid(u32),
    /// The subject (RFC 4514 text) of a client certificate that chained to the admin CA.
    Certificate(String),
    /// `Authorization: Bearer …` on the agent listener.
    Bearer(String),
}

/// The effective uid igd runs as.
pub fn current_uid() -> u32 {
    // std exposes no safe geteuid; the owner of /proc/self is the effective uid.
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

/// `sha256:<hex>` of an operator API token, as stored.
pub fn token_hash(token: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes())))
}

/// Resolve `peer` to a caller. `Err(unauthenticated)` for a bearer nobody holds;
/// `Err(forbidden)` for a certificate with no account. A socket peer with no account resolves
/// to a caller without a role (refused by the router with a message that says what to do).
pub async fn resolve(gw: &Gateway, peer: &Peer) -> ApiResult<Caller> {
    let caller = match peer {
        Peer::Uid(uid) => {
            if *uid == current_uid() || *uid == 0 || gw.settings.admin_uids.contains(uid) {
                Caller::admin_uid(*uid)
            } else {
                let accounts = gw.store.operators().await?;
                match accounts.iter().find(|o| o.uid == Some(*uid)) {
                    Some(op) => return elevate(gw, account(op, Via::Socket), op.created_at).await,
                    None => Caller::other_uid(*uid),
                }
            }
        }
        Peer::Certificate(subject) => {
            let accounts = gw.store.operators().await?;
            match accounts
                .iter()
                .find(|o| o.cert_subject.as_deref() == Some(subject.as_str()))
            {
                Some(op) => return elevate(gw, account(op, Via::Certificate), op.created_at).await,
                None => {
                    return Err(ApiError::forbidden(format!(
                        "the client certificate {subject:?} has no operator account; an admin \
                         can add one (igctl operator add NAME --cert-subject '{subject}' --role …)"
                    )))
                }
            }
        }
        Peer::Bearer(presented) => match break_glass(gw, presented) {
            Some(caller) => caller,
            None => {
                let hash = token_hash(presented);
                let accounts = gw.store.operators().await?;
                let mut found = None;
                for op in &accounts {
                    let Some(stored) = op.token_hash.as_deref() else {
                        continue;
                    };
                    if bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) && found.is_none() {
                        found = Some((account(op, Via::OperatorToken), op.created_at));
                    }
                }
                let (caller, since) = found.ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::Unauthenticated,
                        "missing or wrong admin bearer token",
                    )
                })?;
                return elevate(gw, caller, since).await;
            }
        },
    };
    // Built-in uids and break-glass bearers have no account, and are never elevated.
    Ok(caller)
}

/// The compatibility bearers (constant-time comparisons, all candidates tried).
fn break_glass(gw: &Gateway, presented: &str) -> Option<Caller> {
    let ct_eq = |a: &str, b: &str| bool::from(a.as_bytes().ct_eq(b.as_bytes()));
    let mut found = None;
    if let Some(t) = &gw.settings.admin_token {
        if ct_eq(t.expose(), presented) {
            found = Some(Caller::admin_token());
        }
    }
    for (tenant, t) in &gw.settings.tenant_admins {
        if ct_eq(t.expose(), presented) && found.is_none() {
            found = Some(Caller::tenant_admin(tenant));
        }
    }
    found
}

fn account(op: &OperatorRecord, via: Via) -> Caller {
    // A role the build does not know is no role (fail closed), never a guess.
    Caller::new(
        op.name.clone(),
        Role::parse(&op.role),
        op.tenant.clone(),
        via,
    )
}

/// An operator with an active elevation acts as admin under it. Only elevations asked for by
/// this account (since it was created: a removed and re-added name inherits nothing) count.
async fn elevate(gw: &Gateway, caller: Caller, account_since: i64) -> ApiResult<Caller> {
    if caller.via().break_glass() || caller.role() != Some(Role::Operator) {
        return Ok(caller);
    }
    let now = now_us();
    let active = gw.store.elevations().await?.into_iter().find(|e| {
        e.identity == caller.id()
            && e.status == "active"
            && e.requested_at >= account_since
            && e.expires_at.is_some_and(|x| x > now)
    });
    Ok(match active {
        Some(e) => caller.elevated(e.id),
        None => caller,
    })
}

/// Whether `caller`, resolved earlier, would still resolve the same way: its account still
/// exists with the same role and tenant, and the elevation it acts under is still active. A
/// long-lived answer (the approvals stream) asks this as it goes, so removing an account or an
/// elevation running out ends it. Built-in admin uids and break-glass bearers do not change
/// while igd runs. A storage failure counts as no (fail closed).
pub async fn still_valid(store: &crate::store::DynStore, caller: &Caller) -> bool {
    let now = now_us();
    if let Some(id) = caller.elevation() {
        let active = match store.elevations().await {
            Ok(all) => all.into_iter().any(|e| {
                e.id == id && e.status == "active" && e.expires_at.is_some_and(|x| x > now)
            }),
            Err(_) => false,
        };
        if !active {
            return false;
        }
    }
    let account_based = matches!(caller.via(), Via::Certificate | Via::OperatorToken)
        || (caller.via() == Via::Socket && !caller.id().starts_with("uid:"));
    if !account_based {
        return true;
    }
    match store.operators().await {
        Ok(all) => all.iter().any(|o| {
            o.name == caller.id()
                && (caller.elevation().is_some()
                    || (Role::parse(&o.role) == caller.role()
                        && o.tenant.as_deref() == caller.tenant_scope()))
        }),
        Err(_) => false,
    }
}
