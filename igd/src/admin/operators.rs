//! Operator accounts (DESIGN §6): who the caller is (`whoami`), and the accounts that give
//! uids, client certificates and API tokens a role. Adding and removing accounts is for admins
//! with step-up; every change is chained in `_system`.

use super::identity::{current_uid, token_hash};
use super::{admin_only, ok, ApiError, ApiResult, Caller, Role};
use crate::clock::{now_us, rfc3339};
use crate::gateway::Gateway;
use crate::http::Body;
use crate::store::{OperatorRecord, StoreError};
use base64::Engine as _;
use hyper::Response;
use intentgate_proto::api::{ErrorCode, Operator, OperatorList, OperatorRequest, WhoAmI};
use intentgate_proto::ids::{valid_name, valid_tenant, SYSTEM_TENANT};
use rand::RngCore;

/// Identities igd itself writes into the audit log: no account may take one of them.
const RESERVED_NAMES: &[&str] = &["admin-token", "igd", "system", "root"];
/// Longest certificate subject accepted.
const MAX_SUBJECT_LEN: usize = 1024;

async fn wire(gw: &Gateway, op: OperatorRecord) -> ApiResult<Operator> {
    let totp_enrolled = gw.totp.enrolled(&op.name).await?;
    Ok(Operator {
        has_token: op.token_hash.is_some(),
        totp_enrolled,
        created_at: rfc3339(op.created_at),
        name: op.name,
        role: op.role,
        tenant: op.tenant,
        uid: op.uid,
        cert_subject: op.cert_subject,
        created_by: op.created_by,
        token: None,
    })
}

/// `GET /v1/admin/whoami`.
pub(super) async fn whoami(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let totp_enrolled = if caller.via().break_glass() {
        false
    } else {
        gw.totp.enrolled(caller.id()).await?
    };
    ok(&WhoAmI {
        identity: caller.identity(),
        role: caller.role().map(|r| r.as_str().to_string()),
        tenant: caller.tenant_scope().map(String::from),
        via: caller.via().as_str().to_string(),
        totp_enrolled,
        elevation_id: caller.elevation().map(String::from),
    })
}

/// `GET /v1/admin/operators`: every account, or a tenant-scoped caller's tenant's.
pub(super) async fn list(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    let mut operators = Vec::new();
    for op in gw.store.operators().await? {
        if let Some(scope) = caller.tenant_scope() {
            if op.tenant.as_deref() != Some(scope) {
                continue;
            }
        }
        operators.push(wire(gw, op).await?);
    }
    operators.sort_by(|a, b| a.name.cmp(&b.name));
    ok(&OperatorList { operators })
}

fn validate(gw: &Gateway, req: &OperatorRequest) -> ApiResult<Role> {
    if !valid_name(&req.name) {
        return Err(ApiError::bad(format!(
            "operator name {:?} must match [a-z0-9][a-z0-9._-]{{0,62}}",
            req.name
        )));
    }
    if RESERVED_NAMES.contains(&req.name.as_str()) {
        return Err(ApiError::bad(format!(
            "operator name {:?} is reserved",
            req.name
        )));
    }
    let role = Role::parse(&req.role).ok_or_else(|| {
        ApiError::bad(format!(
            "role {:?} must be viewer, operator or admin",
            req.role
        ))
    })?;
    if let Some(t) = &req.tenant {
        if role == Role::Admin {
            return Err(ApiError::bad(
                "an admin acts in every tenant; --tenant is for viewer and operator accounts",
            ));
        }
        if !valid_tenant(t) {
            return Err(ApiError::bad(format!(
                "tenant {t:?} is not a valid name ([a-z0-9][a-z0-9-]{{0,62}})"
            )));
        }
    }
    if req.uid.is_none() && req.cert_subject.is_none() && !req.token {
        return Err(ApiError::bad(
            "an account needs a way to authenticate: a uid, a certificate subject and/or a token",
        ));
    }
    if let Some(uid) = req.uid {
        if uid == current_uid() || uid == 0 || gw.settings.admin_uids.contains(&uid) {
            return Err(ApiError::bad(format!(
                "uid {uid} is already an admin (igd's own uid, root or INTENTGATE_ADMIN_UIDS); \
                 an account would never be used"
            )));
        }
    }
    if let Some(s) = &req.cert_subject {
        if s.trim().is_empty() || s.len() > MAX_SUBJECT_LEN || s.chars().any(char::is_control) {
            return Err(ApiError::bad(format!(
                "cert_subject must be 1..={MAX_SUBJECT_LEN} printable characters (RFC 4514 \
                 text, e.g. CN=oncall-1,O=Example)"
            )));
        }
    }
    Ok(role)
}

/// A new operator API token: `igo_` + 32 random bytes, base64url.
fn new_token() -> String {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rand::thread_rng().fill_bytes(bytes.as_mut());
    format!(
        "igo_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref())
    )
}

/// `POST /v1/admin/operators` (admin, step-up). The token, if asked for, is answered once.
pub(super) async fn add(
    gw: &Gateway,
    caller: &Caller,
    req: OperatorRequest,
) -> ApiResult<Response<Body>> {
    admin_only(caller, "managing operators")?;
    super::elevations::not_elevated(caller, "manage operator accounts")?;
    let role = validate(gw, &req)?;
    let existing = gw.store.operators().await?;
    let clash = existing.iter().find_map(|o| {
        if o.name == req.name {
            Some(format!("an operator named {} exists", o.name))
        } else if req.uid.is_some() && o.uid == req.uid {
            Some(format!(
                "uid {} belongs to operator {}",
                o.uid.unwrap_or_default(),
                o.name
            ))
        } else if req.cert_subject.is_some() && o.cert_subject == req.cert_subject {
            Some(format!(
                "that certificate subject belongs to operator {}",
                o.name
            ))
        } else {
            None
        }
    });
    if let Some(why) = clash {
        return Err(ApiError::new(ErrorCode::Conflict, why));
    }
    super::totp::step_up(gw, caller, "operator-add").await?;
    let token = req.token.then(new_token);
    let record = OperatorRecord {
        name: req.name.clone(),
        role: role.as_str().to_string(),
        tenant: req.tenant.clone(),
        uid: req.uid,
        cert_subject: req.cert_subject.clone(),
        token_hash: token.as_deref().map(token_hash),
        created_at: now_us(),
        created_by: caller.identity(),
    };
    let mut how = vec![format!("role {}", record.role)];
    if let Some(t) = &record.tenant {
        how.push(format!("tenant {t}"));
    }
    if let Some(u) = record.uid {
        how.push(format!("uid {u}"));
    }
    if let Some(s) = &record.cert_subject {
        how.push(format!("certificate {s}"));
    }
    if token.is_some() {
        how.push("API token".into());
    }
    gw.audit
        .admin(
            SYSTEM_TENANT,
            &caller.actor(),
            "operator-add",
            &record.name,
            Some(&how.join(", ")),
        )
        .await?;
    match gw.store.insert_operator(&record).await {
        Ok(()) => {}
        Err(StoreError::Conflict(e)) => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "operator {} conflicts with an existing account: {e}",
                    record.name
                ),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    tracing::warn!(actor = %caller.identity(), operator = %record.name, role = %record.role, "operator added");
    let mut answer = wire(gw, record).await?;
    answer.token = token;
    ok(&answer)
}

/// `DELETE /v1/admin/operators/{name}` (admin, step-up); its TOTP enrollment goes with it.
pub(super) async fn remove(gw: &Gateway, caller: &Caller, name: &str) -> ApiResult<Response<Body>> {
    admin_only(caller, "managing operators")?;
    super::elevations::not_elevated(caller, "manage operator accounts")?;
    let record = gw
        .store
        .operators()
        .await?
        .into_iter()
        .find(|o| o.name == name)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no operator named {name}")))?;
    super::totp::step_up(gw, caller, "operator-remove").await?;
    gw.audit
        .admin(
            SYSTEM_TENANT,
            &caller.actor(),
            "operator-remove",
            name,
            None,
        )
        .await?;
    let answer = wire(gw, record).await?;
    gw.store.delete_operator(name).await?;
    gw.store.delete_totp(name).await?;
    tracing::warn!(actor = %caller.identity(), operator = %name, "operator removed");
    ok(&answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("alice"));
        assert!(valid_name("on-call.1_a"));
        assert!(valid_name(&"a".repeat(63)));
        assert!(!valid_name(&"a".repeat(64)));
        assert!(!valid_name(""));
        assert!(!valid_name("-x"));
        assert!(!valid_name("Alice"));
        assert!(!valid_name("uid:1"));
    }

    #[test]
    fn tokens_are_prefixed_and_long() {
        let t = new_token();
        assert!(t.starts_with("igo_"));
        assert_eq!(t.len(), 4 + 43);
        assert_ne!(t, new_token());
    }
}
