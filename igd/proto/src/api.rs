//! Admin-API wire types and error codes (DESIGN §6), shared by igd and igctl.
//!
//! Request types reject unknown fields so that a misspelt option is an error, never ignored.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Error codes of the admin API plus the ones igctl adds locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    Unauthenticated,
    Forbidden,
    StepUpRequired,
    NotFound,
    Conflict,
    RateLimited,
    Unavailable,
    Internal,
    /// igctl only: bad command line.
    Usage,
    /// igctl only: the daemon could not be reached.
    Unreachable,
    /// igctl only: audit verification found tampering.
    Tampered,
    /// igctl only: nothing trusted to verify against.
    Unverifiable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::StepUpRequired => "step_up_required",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::Usage => "usage",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::Tampered => "tampered",
            ErrorCode::Unverifiable => "unverifiable",
        }
    }

    /// The HTTP status igd answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest | ErrorCode::Usage => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden | ErrorCode::StepUpRequired => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable | ErrorCode::Unreachable => 503,
            ErrorCode::Internal | ErrorCode::Tampered | ErrorCode::Unverifiable => 500,
        }
    }

    /// igctl's exit code for this error (DESIGN §7).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::Unauthenticated | ErrorCode::Forbidden | ErrorCode::StepUpRequired => 4,
            ErrorCode::Unreachable => 5,
            ErrorCode::Tampered => 3,
            ErrorCode::Unverifiable => 6,
            ErrorCode::Usage => 2,
            _ => 1,
        }
    }

    /// The code for an HTTP status when the body carried none.
    pub fn from_status(status: u16) -> ErrorCode {
        match status {
            400 => ErrorCode::InvalidRequest,
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            429 => ErrorCode::RateLimited,
            503 => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"error":{"code","message"}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub ok: bool,
    pub version: String,
}

/// POST /v1/admin/mint
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    pub subject: String,
    pub tenant: String,
    pub ttl_seconds: u64,
    pub tools: Vec<String>,
    pub max_calls: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_tools: bool,
}

/// The token is shown once, here, and never stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintResponse {
    pub token: String,
    pub jti: String,
    pub subject: String,
    pub tenant: String,
    pub expires_at: String,
}

impl fmt::Debug for MintResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintResponse")
            .field("token", &"<redacted>")
            .field("jti", &self.jti)
            .field("subject", &self.subject)
            .field("tenant", &self.tenant)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Metadata of a minted root token (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub jti: String,
    pub tenant: String,
    pub subject: String,
    pub tools: Vec<String>,
    pub max_calls: u64,
    pub issued_at: String,
    pub expires_at: String,
    pub minted_by: String,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

/// POST /v1/admin/revoke
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub jti: String,
    pub tenant: String,
    pub reason: String,
    pub revoked_at: String,
    pub revoked_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationList {
    pub revocations: Vec<Revocation>,
}

/// POST and DELETE /v1/admin/stops
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopRequest {
    pub tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    pub tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub reason: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopList {
    pub stops: Vec<Stop>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantInfo {
    pub name: String,
    pub admin_scoped: bool,
    pub tokens_live: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantList {
    pub tenants: Vec<TenantInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_table() {
        assert_eq!(ErrorCode::Unauthenticated.exit_code(), 4);
        assert_eq!(ErrorCode::Forbidden.exit_code(), 4);
        assert_eq!(ErrorCode::StepUpRequired.exit_code(), 4);
        assert_eq!(ErrorCode::Unreachable.exit_code(), 5);
        assert_eq!(ErrorCode::Tampered.exit_code(), 3);
        assert_eq!(ErrorCode::Unverifiable.exit_code(), 6);
        assert_eq!(ErrorCode::Usage.exit_code(), 2);
        assert_eq!(ErrorCode::NotFound.exit_code(), 1);
        let json = serde_json::to_string(&ErrorBody::new(ErrorCode::StepUpRequired, "x")).unwrap();
        assert_eq!(
            json,
            r#"{"error":{"code":"step_up_required","message":"x"}}"#
        );
    }

    #[test]
    fn requests_reject_unknown_fields() {
        let err = serde_json::from_str::<RevokeRequest>(r#"{"jti":"a","reason":"r","extra":1}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `extra`"));
    }
}
