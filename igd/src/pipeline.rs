//! The pipeline on every `tools/call` (DESIGN §4), read top to bottom as the checks in order:
//! capability → intent → policy → approval → budget → (audit commit) → forward.
//!
//! Every decision becomes an audit entry, committed before the call is forwarded or refused.
//! The first failing check short-circuits. Nothing here knows about HTTP or SQL.

use crate::audit::Record;
use crate::budget::Reservation;
use crate::clock::{now_us, rfc3339};
use crate::config::ArgPersistence;
use crate::gateway::Gateway;
use crate::jsonrpc::*;
use crate::store::SideRecord;
use intentgate_proto::audit::Entry;
use intentgate_proto::token::Claims;
use rand::RngCore;
use serde_json::{json, Value};

/// Which check refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Capability,
    Policy,
    Approval,
    Budget,
    Audit,
    Upstream,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Capability => "capability",
            Check::Policy => "policy",
            Check::Approval => "approval",
            Check::Budget => "budget",
            Check::Audit => "audit",
            Check::Upstream => "upstream",
        }
    }

    pub fn code(self) -> i64 {
        match self {
            Check::Capability => REFUSED_CAPABILITY,
            Check::Policy => REFUSED_POLICY,
            Check::Approval => REFUSED_APPROVAL,
            Check::Budget => REFUSED_BUDGET,
            Check::Audit => REFUSED_AUDIT,
            Check::Upstream => REFUSED_UPSTREAM,
        }
    }
}

/// A call that may not proceed.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub check: Check,
    pub reason: String,
    /// The decision entry's event id; `None` when nothing could be committed.
    pub decision_id: Option<String>,
}

impl Refusal {
    /// The JSON-RPC error object for this refusal.
    pub fn to_jsonrpc(&self, id: &Value) -> Value {
        error(
            id,
            self.check.code(),
            &self.reason,
            Some(json!({
                "check": self.check.as_str(),
                "reason": self.reason,
                "decision_id": self.decision_id,
            })),
        )
    }
}

/// A call cleared to go upstream: its decision is durable and its budget charged.
#[derive(Debug)]
pub struct Cleared {
    pub decision: Entry,
    pub reservation: Reservation,
}

/// One call as the pipeline sees it.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub claims: &'a Claims,
    pub method: &'a str,
    pub tool: &'a str,
    pub args: &'a Value,
    pub remote_addr: String,
    pub protocol_version: &'a str,
}

/// Decide one call. On `Ok` the caller must forward it and then record its outcome.
pub async fn decide(gw: &Gateway, call: &Call<'_>) -> Result<Cleared, Refusal> {
    let now = now_us();
    let claims = call.claims;
    let tenant = claims.root.tenant.as_str();
    let subject = claims.root.sub.as_str();

    // 1. Capability: revocation of any jti in the chain, stops, expiry, tool scope. The transport
    //    already answered 401 for the first three; they are re-checked here so this module is
    //    complete on its own (a call decided later, e.g. after an approval, must pass them again).
    //    The lookups are in-memory and allocation-free.
    if let Some(jti) = gw.revoked_in_chain(tenant, claims.chain()) {
        return Err(refuse(
            gw,
            call,
            Check::Capability,
            format!("token revoked (jti {jti})"),
            None,
            now,
        )
        .await);
    }
    if gw.stopped(tenant, subject) {
        return Err(refuse(
            gw,
            call,
            Check::Capability,
            "an emergency stop is in force for this agent".into(),
            None,
            now,
        )
        .await);
    }
    if claims
        .check_expiry(u64::try_from(now / 1_000_000).unwrap_or(0))
        .is_err()
    {
        return Err(refuse(
            gw,
            call,
            Check::Capability,
            "token expired".into(),
            None,
            now,
        )
        .await);
    }
    if !claims.rights.tools.contains(call.tool) {
        return Err(refuse(
            gw,
            call,
            Check::Capability,
            format!("tool {:?} is outside the token's scope", call.tool),
            None,
            now,
        )
        .await);
    }

    // 2. Intent: no classifier is configured in this build; the policy sees `intent: null`.
    let intent = Value::Null;

    // 3. Policy.
    let levels: Vec<(&str, u64)> = claims.call_limits().collect();
    let counters = gw.budgets.counters(tenant, subject, call.tool, now);
    let remaining = gw.budgets.remaining(tenant, &claims.root.jti, &levels);
    let input = policy_input(call, &counters, remaining, &intent, now);
    let policy = gw.policy.load();
    let verdict = policy.evaluate(input);
    let context = Context {
        revision: &policy.revision,
        stored: PolicyContext::of(call, &counters, remaining, intent),
        step_up: verdict.requires_step_up,
    };

    // 4. Approval: check (not charge) the budget first, so nobody is asked to approve a call
    //    that would then be refused; the queue itself is not part of this build.
    if verdict.escalate {
        if let Err(over) =
            gw.budgets
                .check(tenant, subject, &claims.root.jti, &levels, call.tool, now)
        {
            return Err(refuse(gw, call, Check::Budget, over.0, Some(&context), now).await);
        }
        return Err(refuse_as(
            gw,
            call,
            Check::Approval,
            "escalate",
            format!(
                "approvals queue not enabled (policy asked for approval: {})",
                verdict.reason
            ),
            Some(&context),
            now,
        )
        .await);
    }
    if !verdict.allow {
        return Err(refuse(gw, call, Check::Policy, verdict.reason, Some(&context), now).await);
    }

    // 5. Budget: charge every chain level and ceiling; persisted with the decision entry.
    let reservation =
        match gw
            .budgets
            .reserve(tenant, subject, &claims.root.jti, &levels, call.tool, now)
        {
            Ok(r) => r,
            Err(over) => {
                return Err(refuse(gw, call, Check::Budget, over.0, Some(&context), now).await)
            }
        };

    // 6. The decision is durable before anything is forwarded.
    let mut entry = decision_entry(
        gw,
        call,
        "allow",
        None,
        &verdict.reason,
        Some(&context),
        now,
    );
    let side = side_record(gw, call, &mut entry, Some(&context.stored));
    let (charges, calls) = reservation.persisted();
    match gw
        .audit
        .append(Record {
            entry,
            ref_seq: None,
            side: Some(side),
            charges,
            calls,
        })
        .await
    {
        Ok(decision) => Ok(Cleared {
            decision,
            reservation,
        }),
        Err(e) => {
            reservation.release();
            Err(Refusal {
                check: Check::Audit,
                reason: format!("audit storage unavailable, call refused: {e}"),
                decision_id: None,
            })
        }
    }
}

/// Policy context recorded with a decision.
struct Context<'a> {
    revision: &'a str,
    stored: PolicyContext,
    step_up: bool,
}

/// What policy dry-run needs, beyond the decision entry itself, to rebuild the policy input
/// (argument values aside, which follow `INTENTGATE_AUDIT_PERSIST_ARG_VALUES`). Kept beside the
/// entry as compact JSON; [`replay_input`] rebuilds the input from the entry and this.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PolicyContext {
    /// `calls_today`, `calls_today_for_tool`, `calls_this_hour`.
    pub c: [u64; 3],
    /// `capability.tools`.
    pub t: Vec<String>,
    /// `capability.max_calls`.
    pub m: u64,
    /// `capability.remaining_calls`.
    pub r: u64,
    /// `capability.expires_at`.
    pub x: String,
    /// `intent`.
    pub i: Value,
    /// `request.remote_addr`.
    pub a: String,
    /// `request.protocol_version`.
    pub p: String,
}

impl PolicyContext {
    fn of(
        call: &Call<'_>,
        counters: &crate::budget::Counters,
        remaining: u64,
        intent: Value,
    ) -> PolicyContext {
        let c = call.claims;
        PolicyContext {
            c: [
                counters.calls_today,
                counters.calls_today_for_tool,
                counters.calls_this_hour,
            ],
            t: c.rights.tools.to_list(),
            m: c.rights.max_calls,
            r: remaining,
            x: expires_at(c),
            i: intent,
            a: call.remote_addr.clone(),
            p: call.protocol_version.to_string(),
        }
    }
}

fn expires_at(c: &Claims) -> String {
    rfc3339(i64::try_from(c.rights.exp).unwrap_or(i64::MAX / 1_000_000) * 1_000_000)
}

/// The policy input a decision was made on, rebuilt from its entry and stored context, with
/// `args` as given (`null` when the values were not kept).
pub fn replay_input(decision: &Entry, ctx: &PolicyContext, args: Value) -> Value {
    let chain = decision.jti_chain.clone().unwrap_or_default();
    json!({
        "method": decision.method,
        "tool": decision.tool,
        "args": args,
        "tenant": decision.tenant,
        "agent": {
            "subject": decision.subject,
            "delegated_subject": decision.delegated_subject,
            "jti": decision.jti,
            "root_jti": decision.root_jti,
            "depth": chain.len().saturating_sub(1),
            "chain": chain,
            "calls_today": ctx.c[0],
            "calls_today_for_tool": ctx.c[1],
            "calls_this_hour": ctx.c[2],
        },
        "capability": {
            "tools": ctx.t,
            "max_calls": ctx.m,
            "remaining_calls": ctx.r,
            "expires_at": ctx.x,
        },
        "intent": ctx.i,
        "request": {
            "time": rfc3339(decision.ts),
            "remote_addr": ctx.a,
            "protocol_version": ctx.p,
        },
    })
}

fn policy_input(
    call: &Call<'_>,
    counters: &crate::budget::Counters,
    remaining: u64,
    intent: &Value,
    now: i64,
) -> Value {
    let c = call.claims;
    let chain: Vec<&str> = c.chain().collect();
    json!({
        "method": call.method,
        "tool": call.tool,
        "args": call.args,
        "tenant": c.root.tenant,
        "agent": {
            "subject": c.root.sub,
            "delegated_subject": c.delegated_subject(),
            "jti": c.leaf_jti(),
            "root_jti": c.root.jti,
            "chain": chain,
            "depth": c.depth(),
            "calls_today": counters.calls_today,
            "calls_today_for_tool": counters.calls_today_for_tool,
            "calls_this_hour": counters.calls_this_hour,
        },
        "capability": {
            "tools": c.rights.tools.to_list(),
            "max_calls": c.rights.max_calls,
            "remaining_calls": remaining,
            "expires_at": expires_at(c),
        },
        "intent": intent,
        "request": {
            "time": rfc3339(now),
            "remote_addr": call.remote_addr,
            "protocol_version": call.protocol_version,
        },
    })
}

fn decision_entry(
    gw: &Gateway,
    call: &Call<'_>,
    decision: &str,
    check: Option<Check>,
    reason: &str,
    ctx: Option<&Context<'_>>,
    now: i64,
) -> Entry {
    let c = call.claims;
    let mut e = gw.new_entry(&c.root.tenant, "decision");
    e.ts = now;
    e.subject = Some(c.root.sub.clone());
    e.delegated_subject = c.delegated_subject().map(String::from);
    e.jti = Some(c.leaf_jti().to_string());
    e.root_jti = Some(c.root.jti.clone());
    e.jti_chain = Some(c.chain().map(String::from).collect());
    e.method = Some(call.method.to_string());
    e.tool = Some(call.tool.to_string());
    e.decision = Some(decision.to_string());
    e.check = check.map(|c| c.as_str().to_string());
    e.reason = Some(reason.to_string());
    if let Some(ctx) = ctx {
        e.policy_revision = Some(ctx.revision.to_string());
        if ctx.step_up {
            e.requires_step_up = Some(true);
        }
    }
    e
}

/// Salt, argument values per `INTENTGATE_AUDIT_PERSIST_ARG_VALUES`, and the policy context, kept
/// beside the chain; sets the entry's `args_commitment`.
fn side_record(
    gw: &Gateway,
    call: &Call<'_>,
    entry: &mut Entry,
    policy: Option<&PolicyContext>,
) -> SideRecord {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let (commitment, canonical) = intentgate_proto::audit::args_commitment(&salt, call.args);
    entry.args_commitment = Some(commitment);
    let mode = gw.settings.audit_persist_arg_values;
    SideRecord {
        // In `off` mode no salt is kept, so the commitment cannot be brute-forced.
        salt: (mode != ArgPersistence::Off).then(|| hex::encode(salt)),
        args: match mode {
            ArgPersistence::Off => None,
            ArgPersistence::Scalars => Some(scalars_only(call.args).to_string()),
            // The bytes just hashed are the raw form: no second serialization.
            ArgPersistence::Raw => String::from_utf8(canonical).ok(),
        },
        policy_context: policy.and_then(|p| serde_json::to_string(p).ok()),
    }
}

/// Numbers and booleans kept, strings replaced by their length.
pub fn scalars_only(v: &Value) -> Value {
    match v {
        Value::String(s) => json!(s.chars().count()),
        Value::Array(a) => Value::Array(a.iter().map(scalars_only).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), scalars_only(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn refuse(
    gw: &Gateway,
    call: &Call<'_>,
    check: Check,
    reason: String,
    ctx: Option<&Context<'_>>,
    now: i64,
) -> Refusal {
    refuse_as(gw, call, check, "block", reason, ctx, now).await
}

/// Chain a refusal and return it (with `decision_id: None` if it could not be chained).
async fn refuse_as(
    gw: &Gateway,
    call: &Call<'_>,
    check: Check,
    decision: &str,
    reason: String,
    ctx: Option<&Context<'_>>,
    now: i64,
) -> Refusal {
    let mut entry = decision_entry(gw, call, decision, Some(check), &reason, ctx, now);
    let side = side_record(gw, call, &mut entry, ctx.map(|c| &c.stored));
    match gw
        .audit
        .append(Record {
            entry,
            side: Some(side),
            ..Record::default()
        })
        .await
    {
        Ok(e) => Refusal {
            check,
            reason,
            decision_id: Some(e.event_id),
        },
        Err(e) => Refusal {
            check: Check::Audit,
            reason: format!("audit storage unavailable, call refused ({reason}): {e}"),
            decision_id: None,
        },
    }
}

/// Record what upstream did with a forwarded call. Runs after the answer; a crash may lose it
/// (the decision then reads as "outcome unknown").
pub async fn record_outcome(gw: &Gateway, decision: &Entry, upstream_status: i64, latency_ms: i64) {
    let mut e = gw.new_entry(&decision.tenant, "outcome");
    e.ref_event_id = Some(decision.event_id.clone());
    e.subject = decision.subject.clone();
    e.jti = decision.jti.clone();
    e.root_jti = decision.root_jti.clone();
    e.method = decision.method.clone();
    e.tool = decision.tool.clone();
    e.upstream_status = Some(upstream_status);
    e.upstream_latency_ms = Some(latency_ms);
    // Nobody waits for the outcome: it rides the next group commit (failures are logged).
    gw.audit
        .append_background(Record {
            entry: e,
            ref_seq: Some(decision.seq),
            ..Record::default()
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_mode_keeps_numbers_and_bools_only() {
        let v = json!({"to": "alice@example.com", "n": 3, "ok": true, "list": ["ab", 1.5]});
        assert_eq!(
            scalars_only(&v),
            json!({"to": 17, "n": 3, "ok": true, "list": [2, 1.5]})
        );
    }
}
