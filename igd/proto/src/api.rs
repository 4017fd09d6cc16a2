//! Admin-API wire types and error codes (DESIGN §6), shared by igd and igctl.
//!
//! Request types reject unknown fields so that a misspelt option is an error, never ignored.
//!
//! The fixed-shape audit answers declare their fields in alphabetical order: the order igd sent
//! them in while it built them as untyped JSON, so their bytes did not change. The answers that
//! flatten an entry or a verdict into their own fields ([`ListedEntry`], [`AuditVerifyReport`])
//! carry the same fields and values in declaration order.

use crate::audit::{AnchorStatus, BrokenAt, Entry, MarkerSeen};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
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

/// One agent's activity, as `GET /v1/admin/agents` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub allowed: u64,
    /// Decisions taken on its calls.
    pub calls: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub refused: u64,
    pub subject: String,
    pub tenant: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentList {
    pub agents: Vec<AgentInfo>,
}

/// `GET /v1/admin/audit`: one page; `next_cursor` is set when the page is full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<ListedEntry>,
    pub next_cursor: Option<String>,
}

/// An entry as listed: its chain fields, a readable `time`, the argument values kept beside the
/// chain (`INTENTGATE_AUDIT_PERSIST_ARG_VALUES`) and, under their kind (`outcome`), the entries
/// that refer to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedEntry {
    #[serde(flatten)]
    pub entry: Entry,
    pub time: String,
    /// Open-ended: the call's arguments as the agent sent them.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present_value"
    )]
    pub args: Option<Value>,
    #[serde(flatten)]
    pub related: BTreeMap<String, TimedEntry>,
}

/// An entry with its readable `time` (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedEntry {
    #[serde(flatten)]
    pub entry: Entry,
    pub time: String,
}

/// A present `args` is kept even when it is JSON `null`.
fn present_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// `GET /v1/admin/audit/verify`: igd's verdict on every chain in the caller's scope. When one
/// tenant was asked for, its verdict's fields are repeated at the top level (`tenant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerifyReport {
    pub ok: bool,
    pub tenants: Vec<ChainVerdict>,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<ChainVerdictDetail>,
}

/// One chain's verification by igd: [`crate::audit::ChainReport`] with readable times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainVerdict {
    pub ok: bool,
    #[serde(flatten)]
    pub detail: ChainVerdictDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainVerdictDetail {
    pub broken_at: Option<BrokenAt>,
    /// Seconds since the newest entry was written; `None` for an empty chain.
    pub chain_last_advanced_seconds: Option<i64>,
    pub checkpoint: AnchorStatus,
    pub head: VerdictHead,
    #[serde(default)]
    pub markers: Vec<MarkerSeen>,
    pub tenant: String,
    pub unanchored: u64,
    pub verified: u64,
}

/// The newest entry verified, its time in RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictHead {
    pub hash: String,
    pub seq: u64,
    pub ts: Option<String>,
}

/// `GET /v1/admin/audit/checkpoints`: signed checkpoints, newest first, with igd's current
/// verifier key and every key it trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointList {
    #[serde(default)]
    pub checkpoints: Vec<CheckpointInfo>,
    /// Empty when a daemon sent none: a client then has no key to pin (unverifiable, exit 6),
    /// rather than an answer it cannot read.
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    pub created_at: String,
    pub hash: String,
    /// The C2SP signed note.
    pub note: String,
    pub size: u64,
    pub tenant: String,
}

/// `POST /v1/admin/audit/erase`: drop a subject's stored argument values before a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    pub tenant: String,
    pub subject: String,
    /// RFC 3339.
    pub before: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraseResponse {
    pub before: String,
    /// Entries whose stored argument values were dropped.
    pub erased: u64,
    pub subject: String,
    pub tenant: String,
}

/// `POST /v1/admin/audit/prune` and `POST /v1/admin/audit/rebaseline`: a cut marked in a chain.
/// One body for both, as igd has always read it: prune needs `before` (RFC 3339), and only a
/// re-baseline uses `accept`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkerRequest {
    pub tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    pub reason: String,
    /// Re-baseline only: trust-bearing entries (markers, key announcements) past the fork point
    /// that igd did not write and the operator has checked and accepts, as `SEQ:HASH`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneResponse {
    pub cut_hash: String,
    /// The last entry deleted.
    pub cut_seq: u64,
    pub deleted: u64,
    pub marker_seq: u64,
    pub tenant: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebaselineResponse {
    pub cut_hash: String,
    /// Where the chain leaves the signed history.
    pub cut_seq: u64,
    pub marker_seq: u64,
    pub tenant: String,
}

/// `POST /v1/admin/audit/keys`: announce the next audit signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnounceKeyRequest {
    /// Raw Ed25519 public key, base64.
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnounceKeyResponse {
    /// The announced verifier key, encoded.
    pub key: String,
    /// The `_system` entry that announces it.
    pub seq: u64,
}

/// A Rego module by name: a draft's tests travel this way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyModule {
    pub name: String,
    pub source: String,
}

/// `POST /v1/admin/policies/drafts`: a policy module (package `intentgate.policy`) and the test
/// modules that must pass before it can be promoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    pub name: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<PolicyModule>,
}

/// A stored draft. Listed without its sources; shown (`drafts/{id}`) with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub id: String,
    pub name: String,
    pub revision: String,
    pub author: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<PolicyModule>,
    /// Names of the draft's tests (`data.<package>.test_…`) that passed when it was created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests_passed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftList {
    pub drafts: Vec<Draft>,
}

/// `POST /v1/admin/policies/active`: promote a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    pub draft_id: String,
}

/// One change of the active policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyChange {
    pub seq: i64,
    /// `promote`, `rollback` or `clear`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Absent after `clear` (or a rollback to before the first promotion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    pub actor: String,
    pub at: String,
}

/// `GET /v1/admin/policies/active` (and the answer to promote, rollback and clear): what decides
/// now, and the store's recent changes, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivePolicy {
    /// `store`, `file` or `embedded`.
    pub layer: String,
    pub revision: String,
    pub origin: String,
    /// The store change in force (store layer only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<PolicyChange>,
    /// Why the store's active policy could not be loaded (every call is then denied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the policy store is enabled (`INTENTGATE_POLICY_STORE`).
    pub store_enabled: bool,
    #[serde(default)]
    pub history: Vec<PolicyChange>,
}

/// `POST /v1/admin/policies/dry-run`: replay a candidate (a draft or inline source) over the
/// recorded decisions of a window, compared with what was decided then, or with a baseline
/// policy on the same recorded inputs (`igctl policy diff`). `cursor` and `limit` page through a
/// long window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryRunBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_draft_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_source: Option<String>,
    /// RFC 3339; default: 24 hours before `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339; default: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Most divergent calls to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Most decisions to replay in this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// One recorded call whose verdict the candidate changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunSample {
    pub event_id: String,
    pub tenant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// When it was decided (RFC 3339).
    pub ts: String,
    /// `allow`, `block` or `escalate`: what was decided then (or the baseline's verdict).
    pub before: String,
    /// What the candidate decides on the same input.
    pub after: String,
    /// The candidate's reason.
    pub reason: String,
}

/// The answer to a dry-run (one page of it when `limit` was given: sum the counts over pages).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunReport {
    /// Decisions replayed.
    pub decisions: u64,
    pub would_allow: u64,
    pub would_block: u64,
    pub would_escalate: u64,
    /// `before->after` → count, all nine pairs of allow/block/escalate.
    pub transitions: BTreeMap<String, u64>,
    pub samples: Vec<DryRunSample>,
    /// Decisions in the window refused before the policy was asked (capability): not replayed.
    pub skipped: u64,
    /// Replayed with `args: null`: the argument values were not kept
    /// (`INTENTGATE_AUDIT_PERSIST_ARG_VALUES=off`), so rules on arguments are approximate.
    pub args_unavailable: u64,
    /// Replayed with strings replaced by their lengths (`scalars`).
    pub args_partial: u64,
    /// Replays where the candidate gave no decision (an evaluation error, its time limit, an
    /// undefined or malformed decision): counted as blocks above, as igd would block them, and shown here so
    /// a broken candidate does not pass for a stricter one.
    #[serde(default)]
    pub errors: u64,
    /// The same for the baseline (`diff`).
    #[serde(default)]
    pub baseline_errors: u64,
    /// The candidate's revision.
    pub revision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_revision: Option<String>,
    pub from: String,
    pub to: String,
    /// Where the next page starts; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Decisions in the window (first page only), for a progress bar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
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

    #[test]
    fn listed_entries_keep_their_related_entries_and_null_args() {
        let entry = |kind: &str, seq: u64| Entry {
            v: 1,
            tenant: "acme".into(),
            seq,
            kind: kind.into(),
            event_id: format!("e{seq}"),
            ts: 1,
            instance: "i".into(),
            prev_hash: "p".into(),
            hash: "h".into(),
            ..Entry::default()
        };
        let row = ListedEntry {
            entry: entry("decision", 1),
            time: "t1".into(),
            args: Some(Value::Null),
            related: BTreeMap::from([(
                "outcome".to_string(),
                TimedEntry {
                    entry: entry("outcome", 2),
                    time: "t2".into(),
                },
            )]),
        };
        let wire = serde_json::to_value(&row).unwrap();
        assert_eq!(wire["time"], "t1");
        assert_eq!(wire["args"], Value::Null);
        assert_eq!(wire["outcome"]["seq"], 2);
        assert_eq!(wire["outcome"]["time"], "t2");
        let back: ListedEntry = serde_json::from_value(wire).unwrap();
        assert_eq!(back, row);
    }

    #[test]
    fn a_single_tenant_verdict_is_repeated_at_the_top_level() {
        let detail = ChainVerdictDetail {
            broken_at: None,
            chain_last_advanced_seconds: Some(3),
            checkpoint: AnchorStatus {
                size: 2,
                verified: true,
            },
            head: VerdictHead {
                hash: "h".into(),
                seq: 2,
                ts: Some("t".into()),
            },
            markers: vec![],
            tenant: "acme".into(),
            unanchored: 0,
            verified: 2,
        };
        let verdict = ChainVerdict {
            ok: true,
            detail: detail.clone(),
        };
        let one = AuditVerifyReport {
            ok: true,
            tenants: vec![verdict.clone()],
            tenant: Some(detail),
        };
        let wire = serde_json::to_value(&one).unwrap();
        assert_eq!(wire["tenant"], "acme");
        assert_eq!(wire["tenants"][0]["ok"], true);
        assert_eq!(wire["broken_at"], Value::Null);
        assert_eq!(
            serde_json::from_value::<AuditVerifyReport>(wire).unwrap(),
            one
        );
        let all = AuditVerifyReport {
            ok: true,
            tenants: vec![verdict],
            tenant: None,
        };
        let wire = serde_json::to_value(&all).unwrap();
        assert!(wire.get("tenant").is_none(), "{wire}");
        assert_eq!(
            serde_json::from_value::<AuditVerifyReport>(wire).unwrap(),
            all
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Approvals, operators, TOTP step-up and JIT elevation (DESIGN §4 approval, §6).

/// The header a step-up code travels in (the decide body carries it as `totp`).
pub const TOTP_HEADER: &str = "x-intentgate-totp";

/// One escalated call waiting for (or decided by) a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// `apr_<hex>`.
    pub id: String,
    pub tenant: String,
    /// The root token's subject (the agent).
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegated_subject: Option<String>,
    pub tool: String,
    /// The call's arguments: shown while pending; once decided, kept as
    /// `INTENTGATE_AUDIT_PERSIST_ARG_VALUES` says (`null` when not kept).
    pub args: serde_json::Value,
    /// The intent classifier's reading (`null` when off or failed).
    pub intent: serde_json::Value,
    /// The policy's reason for asking.
    pub reason: String,
    pub requires_step_up: bool,
    /// `sha256:<hex>` of the canonical arguments: what the approval is bound to.
    pub args_hash: String,
    pub created_at: String,
    pub expires_at: String,
    /// `pending`, `approved`, `rejected`, `timeout`, `forwarded` (approved and used) or `lapsed`
    /// (approved, but the agent never came back before it expired).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalList {
    pub approvals: Vec<Approval>,
}

/// `POST /v1/admin/approvals/{id}/decide`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// `approve` or `reject`.
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A fresh TOTP code (or a recovery code), needed to approve a `requires_step_up` call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
}

/// One event of `GET /v1/admin/approvals/stream` (server-sent events). The stream opens with
/// a `snapshot` event (every pending approval the caller may see), then sends an `approval`
/// event for each change, and a `: keep-alive` comment every 15 s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// One event at a time, sent and dropped: boxing the row would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum ApprovalEvent {
    Snapshot { approvals: Vec<Approval> },
    Approval { approval: Approval },
}

/// `POST /v1/admin/operators`: an operator account. Exactly how it authenticates: a Unix uid
/// on the admin socket, an mTLS client certificate subject, and/or an API token (`token: true`
/// returns one, once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorRequest {
    /// `[a-z0-9][a-z0-9._-]{0,62}`: the identity written into the audit log.
    pub name: String,
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    /// Confine the account to one tenant (viewer and operator only); absent = all tenants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// The client certificate subject, as RFC 4514 text (`CN=oncall-1,O=Example`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_subject: Option<String>,
    /// Issue a per-operator API token (shown once).
    #[serde(default)]
    pub token: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub name: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_subject: Option<String>,
    /// Whether the account has an API token (never the token itself).
    pub has_token: bool,
    pub totp_enrolled: bool,
    pub created_at: String,
    pub created_by: String,
    /// The API token, in the answer to the request that created it only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorList {
    pub operators: Vec<Operator>,
}

/// `GET /v1/admin/whoami`: the identity igd resolved for this connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub identity: String,
    /// `viewer`, `operator` or `admin` (the effective role, elevation included); absent when
    /// the caller has no role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// `socket`, `certificate`, `operator-token`, `admin-token` or `tenant-admin`.
    pub via: String,
    pub totp_enrolled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevation_id: Option<String>,
}

/// `POST /v1/admin/totp/enroll` → a new, unconfirmed secret for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrollment {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://totp/IntentGate:<identity>?secret=…&issuer=IntentGate&algorithm=SHA1&digits=6&period=30`
    pub otpauth_uri: String,
}

/// `POST /v1/admin/totp/confirm`: the first code from the authenticator app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    pub code: String,
}

/// The answer to a confirmation: ten one-time recovery codes, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpConfirmed {
    pub identity: String,
    pub recovery_codes: Vec<String>,
}

/// `POST /v1/admin/totp/disable`: disable the caller's own TOTP, or (admin, step-up) another's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpDisable {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

/// `POST /v1/admin/elevations`: ask for admin for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElevationRequest {
    pub reason: String,
    /// 300, 900, 1800, 3600 or 14400.
    pub duration_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Elevation {
    /// `elv_<hex>`.
    pub id: String,
    /// The requester's identity.
    pub identity: String,
    pub reason: String,
    pub duration_seconds: u64,
    pub requested_at: String,
    /// `pending`, `active`, `expired` (active, then ran out, or never approved in time).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElevationList {
    pub elevations: Vec<Elevation>,
}

// ---------------------------------------------------------------------------------------------
// Notification channels (DESIGN §8): Slack, Microsoft Teams and PagerDuty, one tenant each.

/// `POST /v1/admin/notify`: add a channel. Slack and Teams take the webhook `url`; PagerDuty
/// takes the integration's `routing_key` and, optionally, another Events API v2 `url` (default
/// `https://events.pagerduty.com/v2/enqueue`). Both are sealed at rest and never answered.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyChannelRequest {
    pub tenant: String,
    /// `slack`, `teams` or `pagerduty`.
    pub kind: String,
    /// `[a-z0-9][a-z0-9._-]{0,62}`, unique within the tenant.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<String>,
    /// Which findings it receives; default all four: `deny`, `escalate`, `requires_step_up`,
    /// `approval_timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
}

impl fmt::Debug for NotifyChannelRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifyChannelRequest")
            .field("tenant", &self.tenant)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("url", &self.url.as_ref().map(|_| "<redacted>"))
            .field(
                "routing_key",
                &self.routing_key.as_ref().map(|_| "<redacted>"),
            )
            .field("events", &self.events)
            .finish()
    }
}

/// A channel as the admin API shows it: the receiver's host only, never its URL or key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyChannel {
    /// `ntf_<hex>`; its sink is `notify:<id>`.
    pub id: String,
    pub tenant: String,
    pub kind: String,
    pub name: String,
    pub events: Vec<String>,
    /// The receiver, redacted: `hooks.slack.com/…`.
    pub target: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyChannelList {
    pub channels: Vec<NotifyChannel>,
}

/// The answer to `POST /v1/admin/notify/{id}/test`: what the receiver said to one synthetic,
/// clearly marked test message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyTestResult {
    pub channel: String,
    pub kind: String,
    /// The receiver accepted it (a 2xx answer).
    pub delivered: bool,
    /// The receiver's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What happened, for people (the receiver's error, never its URL).
    pub message: String,
}

/// `POST /v1/admin/notify/{id}/preview`: the body a channel would be sent for an audit entry
/// of its tenant (`event_id`), or for a sample finding; nothing is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyPreviewRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotifyPreview {
    pub channel: String,
    pub kind: String,
    /// The entry previewed; `None` for the sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub sample: bool,
    /// Whether the channel's events select this entry (else it would be skipped).
    pub would_send: bool,
    /// Fields of `body` replaced by `<redacted>` (the PagerDuty `routing_key`).
    pub redacted: Vec<String>,
    /// The exact JSON body, but for `redacted`.
    pub body: Value,
}

// ---------------------------------------------------------------------------------------------
// The audit fan-out (DESIGN §8): `GET /v1/admin/integrations`.

/// `GET /v1/admin/integrations`: every sink the audit fan-out runs, as this igd sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationList {
    pub integrations: Vec<IntegrationStatus>,
}

/// One sink: where its cursors are, how far behind the chains it is, how its deliveries go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationStatus {
    /// Unique: `webhook`, `splunk`, `datadog`, `sentinel`, `notify:<channel id>`.
    pub name: String,
    /// `webhook`, `splunk`, `datadog`, `sentinel`, `slack`, `teams`, `pagerduty`.
    pub kind: String,
    /// The one tenant whose chain it reads (notification channels); absent: every chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// `starting` (no round yet), `ok`, `retrying` (the last delivery failed; retried with
    /// backoff), `refused` (the receiver refused the request itself, e.g. 401, 404, 410:
    /// retried at the longest wait until someone fixes it), `standby` (another replica holds
    /// the sink's lease and delivers).
    pub state: String,
    /// The replica delivering, when this one is on `standby`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Per tenant chain: the last seq delivered or skipped as not wanted, and the chain's head
    /// when last read.
    pub cursors: Vec<IntegrationCursor>,
    /// Entries past the cursors (every chain together).
    pub lag_entries: u64,
    /// Age of the oldest entry waiting to be delivered (the oldest wanted one when known);
    /// absent when nothing waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_pending_seconds: Option<u64>,
    /// Entries delivered since igd started.
    pub delivered: u64,
    /// Failed delivery attempts since igd started.
    pub failed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery_at: Option<String>,
    /// When a failed delivery is tried again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
}

/// A sink's position on one tenant chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationCursor {
    pub tenant: String,
    /// The last seq delivered (or skipped as not wanted).
    pub seq: u64,
    /// The chain's head when the sink last read it.
    pub head: u64,
}
