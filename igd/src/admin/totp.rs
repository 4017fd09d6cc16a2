//! TOTP enrollment of one's own identity, its confirmation and disabling, and [`step_up`]: the
//! check every step-up-gated admin action makes before it chains or changes anything.
//!
//! Every refused step-up is chained in `_system` (action `step-up-refused`, target the gated
//! action, reason why), so guessing and replay attempts are on the record. Every refusal is
//! `step_up_required` (403, igctl exit 4), a lock-out included: its message gives the seconds
//! left. A break-glass bearer (`admin-token`, `tenant-admin:*`) cannot pass step-up; with
//! `INTENTGATE_ADMIN_TOKEN_STEP_UP=off` it is let through and an entry `step-up-bypassed`
//! (target the action) is chained in `_system` right before the action's own entry.

use super::{admin_only, ok, ApiError, ApiResult, Caller};
use crate::clock::now_us;
use crate::gateway::Gateway;
use crate::http::Body;
use crate::totp::{Passed, Refusal};
use hyper::Response;
use intentgate_proto::api::{ErrorCode, TotpConfirm, TotpConfirmed, TotpDisable, TotpEnrollment};
use intentgate_proto::ids::SYSTEM_TENANT;

fn step_up_error(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::StepUpRequired, message)
}

/// Chain a refused step-up, then answer with the refusal.
async fn refuse(gw: &Gateway, caller: &Caller, action: &str, err: ApiError) -> ApiError {
    if let Err(e) = gw
        .audit
        .admin(
            SYSTEM_TENANT,
            &caller.actor(),
            "step-up-refused",
            action,
            Some(&err.message),
        )
        .await
    {
        // Still refused; the failure to record it is logged.
        tracing::error!(error = %e, actor = %caller.identity(), action, "cannot chain a refused step-up");
    }
    tracing::warn!(actor = %caller.identity(), action, reason = %err.message, "step-up refused");
    err
}

/// What a refusal says to the caller.
fn refusal_error(identity: &str, r: Refusal) -> ApiError {
    match r {
        Refusal::NotEnrolled => step_up_error(format!(
            "{identity} has no confirmed TOTP enrollment: this action needs step-up; enroll first \
             with `igctl totp enroll`"
        )),
        Refusal::AlreadyConfirmed => ApiError::new(
            ErrorCode::Conflict,
            format!("the TOTP enrollment of {identity} is already confirmed"),
        ),
        Refusal::Locked { seconds_left } => step_up_error(format!(
            "step-up is locked for {identity} after {} failed codes; try again in {seconds_left} s",
            crate::totp::MAX_FAILURES
        )),
        Refusal::Wrong {
            locked_for: Some(s),
        } => step_up_error(format!(
            "wrong TOTP code; after {} failures within {} s step-up is locked for {identity}; \
             try again in {s} s",
            crate::totp::MAX_FAILURES,
            crate::totp::FAILURE_WINDOW_SECS
        )),
        Refusal::Wrong { locked_for: None } => step_up_error(
            "wrong TOTP code (or recovery code); use the current code of your authenticator app",
        ),
        Refusal::Replayed => step_up_error(
            "this TOTP code was already used (each code is good once); wait for the next one",
        ),
        Refusal::Unreadable => ApiError::new(
            ErrorCode::Internal,
            format!(
                "the stored TOTP secret of {identity} cannot be decrypted \
                 (INTENTGATE_TOTP_ENCRYPTION_KEY or the master key changed?); an admin can \
                 disable it (igctl totp disable --identity {identity}) and it can enroll again"
            ),
        ),
        Refusal::Store(e) => e.into(),
    }
}

/// Require a fresh TOTP code (or a recovery code) from `caller` for `action`.
pub(crate) async fn step_up(gw: &Gateway, caller: &Caller, action: &str) -> ApiResult<()> {
    if caller.via().break_glass() {
        if gw.settings.admin_token_step_up {
            let err = step_up_error(format!(
                "{action} needs step-up, which the break-glass identity {} cannot pass: use an \
                 operator identity with TOTP (igctl totp enroll), or set \
                 INTENTGATE_ADMIN_TOKEN_STEP_UP=off (labs and CI only)",
                caller.identity()
            ));
            return Err(refuse(gw, caller, action, err).await);
        }
        gw.audit
            .admin(
                SYSTEM_TENANT,
                &caller.actor(),
                "step-up-bypassed",
                action,
                Some("INTENTGATE_ADMIN_TOKEN_STEP_UP=off: a break-glass bearer acted without step-up"),
            )
            .await?;
        tracing::warn!(actor = %caller.identity(), action, "step-up bypassed (INTENTGATE_ADMIN_TOKEN_STEP_UP=off)");
        return Ok(());
    }
    let Some(code) = caller.totp() else {
        // Without an enrollment, a code is not what is missing: say how to enroll.
        let err = if gw.totp.enrolled(caller.id()).await? {
            step_up_error(format!(
                "{action} needs step-up: pass a fresh TOTP code with --totp CODE (header \
                 X-IntentGate-TOTP)"
            ))
        } else {
            refusal_error(caller.id(), Refusal::NotEnrolled)
        };
        return Err(refuse(gw, caller, action, err).await);
    };
    match gw.totp.verify(caller.id(), code, now_us()).await {
        Ok(Passed::Code) => Ok(()),
        Ok(Passed::RecoveryCode) => {
            tracing::warn!(actor = %caller.identity(), action, "step-up passed with a recovery code");
            Ok(())
        }
        Err(Refusal::Store(e)) => Err(e.into()),
        Err(r) => {
            let err = refusal_error(caller.id(), r);
            Err(refuse(gw, caller, action, err).await)
        }
    }
}

/// `POST /v1/admin/totp/enroll`: a new secret for the caller's own identity.
pub(super) async fn enroll(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    if caller.via().break_glass() {
        return Err(ApiError::forbidden(format!(
            "{} is a break-glass identity and cannot enroll TOTP; use an operator identity \
             (a socket uid, a client certificate or an operator token)",
            caller.identity()
        )));
    }
    // Replacing a confirmed enrollment needs the code of the current one: whoever holds a
    // session must not swap in a secret of their own.
    if gw.totp.enrolled(caller.id()).await? {
        step_up(gw, caller, "totp-enroll").await?;
    }
    gw.audit
        .admin(
            SYSTEM_TENANT,
            &caller.actor(),
            "totp-enroll",
            caller.id(),
            None,
        )
        .await?;
    let secret = gw.totp.enroll(caller.id(), now_us()).await?;
    ok(&TotpEnrollment {
        secret: secret.base32.clone(),
        otpauth_uri: secret.otpauth_uri.clone(),
    })
}

/// `POST /v1/admin/totp/confirm`: the first code; answers the recovery codes, once.
pub(super) async fn confirm(
    gw: &Gateway,
    caller: &Caller,
    req: TotpConfirm,
) -> ApiResult<Response<Body>> {
    if caller.via().break_glass() {
        return Err(ApiError::forbidden(format!(
            "{} is a break-glass identity and cannot enroll TOTP",
            caller.identity()
        )));
    }
    let code = req.code.trim();
    if code.len() != crate::totp::DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad(
            "code must be the 6 digits your authenticator app shows",
        ));
    }
    let recovery_codes = match gw.totp.confirm(caller.id(), code, now_us()).await {
        Ok(codes) => codes,
        Err(Refusal::NotEnrolled) => {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!(
                    "{} has no pending TOTP enrollment; start one with `igctl totp enroll`",
                    caller.identity()
                ),
            ))
        }
        Err(Refusal::Store(e)) => return Err(e.into()),
        Err(r) => {
            let err = refusal_error(caller.id(), r);
            return Err(refuse(gw, caller, "totp-confirm", err).await);
        }
    };
    gw.audit
        .admin(
            SYSTEM_TENANT,
            &caller.actor(),
            "totp-confirm",
            caller.id(),
            None,
        )
        .await?;
    ok(&TotpConfirmed {
        identity: caller.identity(),
        recovery_codes,
    })
}

/// `POST /v1/admin/totp/disable`: one's own (with its code), or another's (admin, step-up).
pub(super) async fn disable(
    gw: &Gateway,
    caller: &Caller,
    req: TotpDisable,
) -> ApiResult<Response<Body>> {
    let target = req
        .identity
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(caller.id())
        .to_string();
    let own = target == caller.id();
    if own {
        if caller.via().break_glass() {
            return Err(ApiError::forbidden(format!(
                "{} is a break-glass identity and has no TOTP",
                caller.identity()
            )));
        }
    } else {
        admin_only(caller, "disabling another identity's TOTP")?;
    }
    let record = gw.store.totp(&target).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("{target} has no TOTP enrollment"),
        )
    })?;
    // Disabling one's own unconfirmed enrollment protects nothing and needs nothing.
    if !own || record.confirmed {
        step_up(gw, caller, "totp-disable").await?;
    }
    gw.audit
        .admin(
            SYSTEM_TENANT,
            &caller.actor(),
            "totp-disable",
            &target,
            None,
        )
        .await?;
    gw.store.delete_totp(&target).await?;
    tracing::warn!(actor = %caller.identity(), %target, "TOTP disabled");
    ok(&serde_json::json!({ "identity": target, "disabled": true }))
}
