//! The life of one gated call (DESIGN §4), read top to bottom: capability → intent → policy →
//! approval → budget → decision commit → forward → outcome.
//!
//! [`run`] owns a call from its first check to its outcome entry: every decision becomes an
//! audit entry, committed before the call is forwarded or refused; the first failing check
//! short-circuits; the budget is reserved once and committed with the decision; the caller's
//! `forward` gets an [`Owed`], the outcome entry it must settle with upstream's status (and
//! settles by itself with 499 if the forward is abandoned). Nothing here knows about HTTP or
//! SQL: the pipeline gets narrow [`Handles`], not the gateway.

use crate::approvals::{self, Approvals, Waited};
use crate::audit::{AuditWriter, Record};
use crate::budget::{Budgets, Counters, Refused, Reservation};
use crate::clock::{now_us, rfc3339};
use crate::config::ArgPersistence;
use crate::intent::{self, Extractor};
use crate::jsonrpc::*;
use crate::metrics::{self, Decision, Stage};
use crate::policy::PolicySnapshot;
use crate::revocations::Revocations;
use crate::store::SideRecord;
use crate::telemetry::{self, check_span};
use arc_swap::ArcSwap;
pub use intentgate_proto::audit::Check;
use intentgate_proto::audit::{Entry, Kind, Verdict};
use intentgate_proto::token::Claims;
use rand::RngCore;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// What the pipeline needs of the gateway, and nothing more.
#[derive(Debug, Clone, Copy)]
pub struct Handles<'a> {
    pub revocations: &'a Revocations,
    pub policy: &'a ArcSwap<PolicySnapshot>,
    pub budgets: &'a Arc<Budgets>,
    /// The intent classifier (`INTENTGATE_EXTRACTOR`).
    pub intent: &'a Extractor,
    pub audit: &'a AuditWriter,
    /// `INTENTGATE_AUDIT_PERSIST_ARG_VALUES`.
    pub persist_args: ArgPersistence,
    /// The approvals queue; `None` when `INTENTGATE_APPROVAL_QUEUE=off`.
    pub approvals: Option<&'a Approvals>,
}

/// The JSON-RPC error code a refusal at `check` answers with.
pub fn refusal_code(check: Check) -> i64 {
    match check {
        Check::Request => INVALID_REQUEST,
        Check::Capability => REFUSED_CAPABILITY,
        Check::Policy => REFUSED_POLICY,
        Check::Approval => REFUSED_APPROVAL,
        Check::Budget => REFUSED_BUDGET,
        Check::Audit => REFUSED_AUDIT,
        Check::Upstream => REFUSED_UPSTREAM,
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
            refusal_code(self.check),
            &self.reason,
            Some(json!({
                "check": self.check.as_str(),
                "reason": self.reason,
                "decision_id": self.decision_id,
            })),
        )
    }
}

/// One call as the pipeline sees it.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub claims: &'a Claims,
    pub method: &'a str,
    pub tool: &'a str,
    pub args: &'a Value,
    pub remote_addr: &'a str,
    pub protocol_version: &'a str,
    /// The agent's own account of what it is doing (`params._meta["io.intentgate/prompt"]`),
    /// read by the intent classifier only.
    pub prompt: Option<&'a str>,
    /// Called once when the call starts waiting for a person (the transport then switches a
    /// streaming client to keep-alives).
    pub on_hold: Option<OnHold<'a>>,
}

/// What to call when a call starts waiting for a person.
#[derive(Clone, Copy)]
pub struct OnHold<'a>(pub &'a (dyn Fn() + Send + Sync));

impl std::fmt::Debug for OnHold<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnHold")
    }
}

/// Decide `call`; when it is allowed (its decision durable, its budget charged) hand it to
/// `forward` with the outcome entry it owes. `Err` is the refusal, already chained.
pub async fn run<T, F, Fut>(h: Handles<'_>, call: &Call<'_>, forward: F) -> Result<T, Refusal>
where
    F: FnOnce(Owed) -> Fut,
    Fut: Future<Output = T>,
{
    let owed = decide(h, call).await?;
    Ok(forward(owed).await)
}

/// Decide several calls that travel as one message (`subscriptions/listen` subscribing to
/// several resources), each with its own decision. When at least one is allowed, `forward`
/// gets the indexes of the allowed calls and the outcomes they owe; when none is, the first
/// refusal.
pub async fn run_each<T, F, Fut>(
    h: Handles<'_>,
    calls: &[Call<'_>],
    forward: F,
) -> Result<T, Refusal>
where
    F: FnOnce(Vec<usize>, Owed) -> Fut,
    Fut: Future<Output = T>,
{
    let mut allowed = Vec::new();
    // Owed from the first commit: an agent gone mid-loop still gets its outcomes recorded.
    let mut owed = Owed::new(h.audit, Vec::new());
    let mut first_refusal = None;
    for (i, call) in calls.iter().enumerate() {
        match decide(h, call).await {
            Ok(mut one) => {
                allowed.push(i);
                owed.decisions.append(&mut one.decisions);
            }
            Err(refusal) => {
                first_refusal.get_or_insert(refusal);
            }
        }
    }
    match first_refusal {
        Some(refusal) if allowed.is_empty() => Err(refusal),
        _ => {
            // Upstream's latency, not the decisions'.
            owed.started = Instant::now();
            Ok(forward(allowed, owed).await)
        }
    }
}

/// Every check of one call, in order; on `Ok` the decision entry is durable, the budget
/// reservation committed with it, and the call owes its outcome.
async fn decide(h: Handles<'_>, call: &Call<'_>) -> Result<Owed, Refusal> {
    let now = now_us();
    let claims = call.claims;
    let tenant = claims.root.tenant.as_str();
    let subject = claims.root.sub.as_str();
    let refusal = Decided {
        h,
        call,
        now,
        started: Instant::now(),
        ctx: None,
        approval: None,
    };

    // 1. Capability: the token is live (the transport checked it for its 401, but a call may be
    //    decided later, after an approval) and the name is in its scope. In memory, no
    //    allocation on the way through.
    let span = check_span!("check.capability");
    let started = metrics::start();
    if let Err(reason) = h
        .revocations
        .check(claims, u64::try_from(now / 1_000_000).unwrap_or(0))
    {
        telemetry::end(span, "block");
        metrics::timed(Stage::Capability, started);
        return Err(refusal.refuse(Check::Capability, reason).await);
    }
    if !claims.rights.tools.contains(call.tool) {
        telemetry::end(span, "block");
        metrics::timed(Stage::Capability, started);
        let reason = format!("tool {:?} is outside the token's scope", call.tool);
        return Err(refusal.refuse(Check::Capability, reason).await);
    }
    telemetry::end(span, "allow");
    metrics::checked(Stage::Capability, Decision::Allow, started);

    // 2. Intent: the classifier's reading of the call, or why there is none; either way the
    //    policy decides (a failure is `intent: null` plus `intent_error`, never an allow by
    //    itself). Off: `null` at once, nothing allocated.
    let asked = intent::Request {
        tool: call.tool,
        args: call.args,
        prompt: call.prompt,
        tenant,
        subject,
        method: call.method,
    };
    let span = check_span!("check.intent");
    let started = metrics::start();
    let (intent, intent_error) = match h.intent.classify(&asked).await {
        Ok(intent) => (intent, None),
        Err(why) => (Value::Null, Some(why)),
    };
    telemetry::end(
        span,
        if intent_error.is_some() {
            "error"
        } else {
            "ok"
        },
    );
    metrics::timed(Stage::Intent, started);

    // 3. Policy, on the budget's counters as they stand.
    let span = check_span!("check.policy");
    let started = metrics::start();
    let levels: Vec<(&str, u64)> = claims.call_limits().collect();
    let quote = h
        .budgets
        .quote(tenant, subject, &claims.root.jti, &levels, call.tool, now);
    let input = policy_input(
        call,
        &quote.counters,
        quote.remaining,
        (&intent, intent_error.as_deref()),
        now,
    );
    let policy = h.policy.load_full();
    let verdict = policy.decide(input).await;
    telemetry::end(span, verdict.verdict().as_str());
    // A block is counted where it is chained (`Decided::record`), like every refusal.
    match (verdict.escalate, verdict.allow) {
        (true, _) => metrics::checked(Stage::Policy, Decision::Escalate, started),
        (false, true) => metrics::checked(Stage::Policy, Decision::Allow, started),
        (false, false) => metrics::timed(Stage::Policy, started),
    }
    let refusal = Decided {
        ctx: Some(Context {
            policy: policy.clone(),
            stored: PolicyContext {
                v: Some(verdict.verdict().as_str().to_string()),
                e: intent_error,
                ..PolicyContext::of(call, &quote.counters, quote.remaining, intent)
            },
            step_up: verdict.requires_step_up,
        }),
        ..refusal
    };

    // 4. Approval: check (not charge) the budget first, so nobody is asked to approve a call
    //    that would then be refused; then wait for a person (or refuse: no queue).
    if verdict.escalate {
        let span = check_span!("check.budget");
        let started = metrics::start();
        if let Err(over) =
            h.budgets
                .check(tenant, subject, &claims.root.jti, &levels, call.tool, now)
        {
            telemetry::end(span, "block");
            metrics::timed(Stage::Budget, started);
            return Err(refusal.refuse(Check::Budget, over.0).await);
        }
        telemetry::end(span, "allow");
        metrics::checked(Stage::Budget, Decision::Allow, started);
        let span = check_span!("check.approval");
        let Some(queue) = h.approvals else {
            telemetry::end(span, "block");
            let reason = format!(
                "approvals queue not enabled (policy asked for approval: {})",
                verdict.reason
            );
            return Err(refusal
                .record(Verdict::Escalate, Check::Approval, reason)
                .await);
        };
        // Boxed: the wait for a person holds several kilobytes of state that every other
        // call's future would otherwise carry (and move) too.
        let decided = Box::pin(escalate(
            refusal,
            queue,
            verdict.reason,
            verdict.requires_step_up,
            &levels,
        ))
        .await;
        telemetry::end(span, if decided.is_ok() { "allow" } else { "block" });
        return decided;
    }
    if !verdict.allow {
        return Err(refusal.refuse(Check::Policy, verdict.reason).await);
    }

    // 5. Budget: reserve every chain level and ceiling at once.
    let span = check_span!("check.budget");
    let started = metrics::start();
    let reserved = h
        .budgets
        .reserve(tenant, subject, &claims.root.jti, &levels, call.tool, now)
        .await;
    metrics::timed(Stage::Budget, started);
    let reservation = match reserved {
        Ok(r) => {
            metrics::decided(Stage::Budget, Decision::Allow);
            r
        }
        Err(Refused::Over(over)) => {
            telemetry::end(span, "block");
            return Err(refusal.refuse(Check::Budget, over.0).await);
        }
        // The shared store could not lease more: refused like any storage failure (−31005).
        Err(Refused::Unavailable(e)) => {
            span.record("error", e.as_str());
            telemetry::end(span, "block");
            return Err(refusal.refuse(Check::Audit, e).await);
        }
    };
    telemetry::end(span, "allow");

    // 6. The decision, with the reservation, is durable before anything is forwarded.
    refusal.allow(verdict.reason, reservation).await
}

/// An escalated call: open (or re-attach to) its approval, wait for a person, and once
/// approved use the approval — once — and decide the call again at that moment: capability
/// (revocation, stop, expiry) and budget are checked anew, the budget charged, and the allow
/// decision (naming the approval and who approved it) made durable before forwarding.
async fn escalate(
    decided: Decided<'_, '_>,
    queue: &Approvals,
    reason: String,
    requires_step_up: bool,
    levels: &[(&str, u64)],
) -> Result<Owed, Refusal> {
    let call = decided.call;
    let claims = call.claims;
    let hash = approvals::args_hash(call.method, call.args);
    let live = match queue.live(claims, call.tool, &hash, decided.now).await {
        Ok(live) => live,
        Err(e) => {
            let why = format!("approvals queue unavailable, call refused: {e}");
            return Err(decided.refuse(Check::Audit, why).await);
        }
    };
    let row = match live.row {
        // Approved while the agent was away: this identical call is the one forwarded.
        Some(row) if row.status == approvals::APPROVED => row,
        // The policy now asks for step-up and the waiting row does not: not the same request
        // to a person; refused rather than approved on easier terms.
        Some(row) if requires_step_up && !row.requires_step_up => {
            let why = format!(
                "approval {} was opened without step-up, which the policy now requires; wait for it to be decided or to time out",
                row.id
            );
            return Err(decided.refuse(Check::Approval, why).await);
        }
        Some(row) => {
            let why = format!("awaiting approval {} (re-attached): {reason}", row.id);
            decided
                .append(Verdict::Escalate, Check::Approval, why, Some(&row.id))
                .await?;
            row
        }
        None if live.full.is_some() => {
            let why = live.full.unwrap_or_default();
            return Err(decided.refuse(Check::Approval, why).await);
        }
        None => {
            let id = format!("apr_{}", intentgate_proto::ids::new_id());
            let why = format!("awaiting approval {id}: {reason}");
            let entry = decided
                .append(Verdict::Escalate, Check::Approval, why, Some(&id))
                .await?;
            let intent = decided
                .ctx
                .as_ref()
                .map_or(Value::Null, |c| c.stored.i.clone());
            let opened = queue
                .open(
                    id,
                    claims,
                    call.tool,
                    call.args,
                    hash,
                    &intent,
                    &reason,
                    requires_step_up,
                    &entry,
                )
                .await;
            match opened {
                Ok(row) => row,
                Err(e) => {
                    metrics::refused(Check::Audit);
                    return Err(Refusal {
                        check: Check::Audit,
                        reason: format!("approvals queue unavailable, call refused: {e}"),
                        decision_id: Some(entry.event_id),
                    });
                }
            }
        }
    };
    let decision_id = Some(row.decision_event.clone());
    let refused = |check: Check, reason: String| {
        metrics::refused(check);
        Refusal {
            check,
            reason,
            decision_id: decision_id.clone(),
        }
    };
    let row = if row.status == approvals::PENDING {
        if let Some(OnHold(hold)) = call.on_hold {
            hold();
        }
        match queue.wait(&row).await {
            Waited::Approved(r) => r,
            Waited::Rejected(r) => {
                let by = r.decided_by.as_deref().unwrap_or("an operator");
                let why = match r.note.as_deref().filter(|n| !n.is_empty()) {
                    Some(note) => format!("escalation rejected by {by}: {note}"),
                    None => format!("escalation rejected by {by}"),
                };
                return Err(refused(Check::Approval, why));
            }
            Waited::TimedOut(_) => {
                return Err(refused(Check::Approval, "escalation timed out".into()))
            }
            Waited::Gone(why) => return Err(refused(Check::Approval, why)),
            Waited::Unavailable(e) => {
                let why = format!("approvals queue unavailable, call refused: {e}");
                return Err(refused(Check::Audit, why));
            }
        }
    } else {
        row
    };
    match queue.consume(&row).await {
        Ok(true) => metrics::decided(Stage::Approval, Decision::Allow),
        Ok(false) => {
            let why = format!(
                "approval {} was already used by another call, or has expired",
                row.id
            );
            return Err(refused(Check::Approval, why));
        }
        Err(e) => {
            let why = format!("approvals queue unavailable, call refused: {e}");
            return Err(refused(Check::Audit, why));
        }
    }

    // Decided again, now, with the approval named in every entry from here on.
    let now = now_us();
    let by = row.decided_by.clone().unwrap_or_default();
    let decided = Decided {
        now,
        approval: Some((row.id.clone(), by.clone())),
        ..decided
    };
    let (tenant, subject) = (claims.root.tenant.as_str(), claims.root.sub.as_str());
    let started = metrics::start();
    let live = decided
        .h
        .revocations
        .check(claims, u64::try_from(now / 1_000_000).unwrap_or(0));
    metrics::timed(Stage::Capability, started);
    if let Err(why) = live {
        return Err(decided.refuse(Check::Capability, why).await);
    }
    metrics::decided(Stage::Capability, Decision::Allow);
    let started = metrics::start();
    let reserved = decided
        .h
        .budgets
        .reserve(tenant, subject, &claims.root.jti, levels, call.tool, now)
        .await;
    metrics::timed(Stage::Budget, started);
    let reservation = match reserved {
        Ok(r) => {
            metrics::decided(Stage::Budget, Decision::Allow);
            r
        }
        Err(Refused::Over(over)) => return Err(decided.refuse(Check::Budget, over.0).await),
        Err(Refused::Unavailable(e)) => return Err(decided.refuse(Check::Audit, e).await),
    };
    let why = format!("approved by {by} ({}): {reason}", row.id);
    decided.allow(why, reservation).await
}

/// A call being decided: what its decision entry is made of.
struct Decided<'h, 'c> {
    h: Handles<'h>,
    call: &'c Call<'c>,
    now: i64,
    /// When the call's checks began (`latency_us` of its `policy.decision` log event).
    started: Instant,
    /// Set once the policy was asked.
    ctx: Option<Context>,
    /// The approval a held call was decided under, and who approved it.
    approval: Option<(String, String)>,
}

impl Decided<'_, '_> {
    /// The decision entry with its side record (which sets `args_commitment`).
    fn entry(&self, verdict: Verdict, check: Option<Check>, reason: &str) -> Record {
        let (call, c) = (self.call, self.call.claims);
        let mut e = self.h.audit.token_entry(c, Kind::Decision);
        e.ts = self.now;
        e.method = Some(call.method.to_string());
        e.tool = Some(call.tool.to_string());
        e.decision = Some(verdict.as_str().to_string());
        e.check = check.map(|c| c.as_str().to_string());
        e.reason = Some(reason.to_string());
        if let Some(ctx) = &self.ctx {
            e.policy_revision = Some(ctx.policy.revision.clone());
            if ctx.step_up {
                e.requires_step_up = Some(true);
            }
        }
        if let Some((id, by)) = &self.approval {
            e.approval_id = Some(id.clone());
            e.decided_by = Some(by.clone());
        }
        let stored = self.ctx.as_ref().map(|c| &c.stored);
        let side = side_record(self.h.persist_args, call.args, &mut e, stored);
        Record {
            side: Some(side),
            ..Record::of(e)
        }
    }

    /// Chain a decision naming `approval_id`; `Err` (the refusal to answer with) when it could
    /// not be chained.
    async fn append(
        &self,
        verdict: Verdict,
        check: Check,
        reason: String,
        approval_id: Option<&str>,
    ) -> Result<Entry, Refusal> {
        let mut record = self.entry(verdict, Some(check), &reason);
        record.entry.approval_id = approval_id.map(String::from);
        let appended = self.h.audit.append(record).await;
        match &appended {
            Ok(_) => self.log_decision(verdict, check),
            Err(_) => {
                metrics::refused(Check::Audit);
                self.log_decision(Verdict::Block, Check::Audit);
            }
        }
        appended.map_err(|e| Refusal {
            check: Check::Audit,
            reason: format!("audit storage unavailable, call refused ({reason}): {e}"),
            decision_id: None,
        })
    }

    /// The `policy.decision` log event (debug): what was decided, where, under which policy
    /// and how long it took. Never the arguments, the token or the agent-chosen names.
    fn log_decision(&self, verdict: Verdict, check: Check) {
        self.log_decision_as(verdict.as_str(), check.as_str());
    }

    fn log_decision_as(&self, decision: &str, check: &str) {
        tracing::debug!(
            tenant = %self.call.claims.root.tenant,
            method = self.call.method,
            decision,
            check,
            policy_revision = self.ctx.as_ref().map_or("", |c| c.policy.revision.as_str()),
            latency_us = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "policy.decision"
        );
    }

    async fn refuse(&self, check: Check, reason: String) -> Refusal {
        self.record(Verdict::Block, check, reason).await
    }

    /// Chain a refusal and return it (with `decision_id: None` if it could not be chained).
    /// Counted as a `block` of `check` (the check that refused, even when the refusal could
    /// not be chained).
    async fn record(&self, verdict: Verdict, check: Check, reason: String) -> Refusal {
        metrics::refused(check);
        let c = self.call.claims;
        tracing::info!(tenant = %c.root.tenant, subject = %c.root.sub, method = %self.call.method, tool = %self.call.tool, check = check.as_str(), "call refused");
        let record = self.entry(verdict, Some(check), &reason);
        match self.h.audit.append(record).await {
            Ok(e) => {
                self.log_decision(verdict, check);
                Refusal {
                    check,
                    reason,
                    decision_id: Some(e.event_id),
                }
            }
            Err(e) => {
                self.log_decision(Verdict::Block, Check::Audit);
                Refusal {
                    check: Check::Audit,
                    reason: format!("audit storage unavailable, call refused ({reason}): {e}"),
                    decision_id: None,
                }
            }
        }
    }

    /// Commit the allow decision with the budget it charges. The commit runs in its own task,
    /// which also settles the reservation on the real result (committed: kept; failed:
    /// released) and hands back the call's [`Owed`]: if the agent went away meanwhile, that
    /// `Owed` is dropped unreceived and records 499 (never forwarded).
    async fn allow(self, reason: String, reservation: Reservation) -> Result<Owed, Refusal> {
        let mut record = self.entry(Verdict::Allow, None, &reason);
        (record.charges, record.calls) = reservation.persisted();
        let audit = self.h.audit.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = metrics::start();
        tokio::spawn(async move {
            let committed = match audit.append(record).await {
                Ok(decision) => {
                    reservation.commit();
                    Ok(Owed::new(&audit, vec![decision]))
                }
                Err(e) => {
                    reservation.release();
                    Err(e)
                }
            };
            let _ = tx.send(committed);
        });
        // A task that ended without answering (a panic) kept its reservation: fail safe.
        let committed = rx.await.unwrap_or(Err(crate::audit::AuditError::Stopped));
        metrics::timed(Stage::Audit, started);
        match &committed {
            Ok(_) => {
                metrics::decided(Stage::Audit, Decision::Allow);
                self.log_decision_as(Verdict::Allow.as_str(), "none");
            }
            Err(_) => {
                metrics::refused(Check::Audit);
                self.log_decision(Verdict::Block, Check::Audit);
            }
        }
        match committed {
            Ok(owed) => Ok(owed),
            Err(e) => Err(Refusal {
                check: Check::Audit,
                reason: format!("audit storage unavailable, call refused: {e}"),
                decision_id: None,
            }),
        }
    }
}

/// The outcome entries a forwarded call owes: one per decision that cleared it (none for a
/// lifecycle method). Settled once with [`Owed::settle`]; dropped unsettled (the agent went
/// away while igd awaited upstream), it settles itself as 499 in the background.
#[derive(Debug)]
pub struct Owed {
    audit: Option<AuditWriter>,
    decisions: Vec<Entry>,
    started: Instant,
}

impl Owed {
    fn new(audit: &AuditWriter, decisions: Vec<Entry>) -> Owed {
        Owed {
            audit: Some(audit.clone()),
            decisions,
            started: Instant::now(),
        }
    }

    /// Nothing owed: a lifecycle method forwarded without a decision.
    pub fn nothing() -> Owed {
        Owed {
            audit: None,
            decisions: Vec::new(),
            started: Instant::now(),
        }
    }

    /// The first decision's event id (for `error.data.decision_id`).
    pub fn decision_id(&self) -> Option<String> {
        self.decisions.first().map(|d| d.event_id.clone())
    }

    /// Record what upstream did: the HTTP status of an answer relayed to the agent, 0 when the
    /// agent got −31006 for a transport or protocol failure, 499 when the agent went away.
    /// Nobody waits for the outcome: it is handed to a task of its own (so nothing the caller
    /// does afterwards can cancel it) and rides the next group commit (failures are logged).
    pub fn settle(mut self, upstream_status: i64) {
        self.hand_off(upstream_status);
    }

    fn hand_off(&mut self, upstream_status: i64) {
        let Some(audit) = self.audit.take() else {
            return;
        };
        let records = self.records(&audit, upstream_status);
        if records.is_empty() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    for record in records {
                        audit.append_background(record).await;
                    }
                });
            }
            Err(_) => tracing::error!(
                count = records.len(),
                "outcome entries abandoned outside the runtime"
            ),
        }
    }

    fn records(&self, audit: &AuditWriter, upstream_status: i64) -> Vec<Record> {
        let latency = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let outcome = |d: &Entry| {
            let mut e = audit.entry(&d.tenant, Kind::Outcome);
            e.ref_event_id = Some(d.event_id.clone());
            e.subject = d.subject.clone();
            e.jti = d.jti.clone();
            e.root_jti = d.root_jti.clone();
            e.method = d.method.clone();
            e.tool = d.tool.clone();
            e.upstream_status = Some(upstream_status);
            e.upstream_latency_ms = Some(latency);
            Record {
                ref_seq: Some(d.seq),
                ..Record::of(e)
            }
        };
        self.decisions.iter().map(outcome).collect()
    }
}

impl Drop for Owed {
    fn drop(&mut self) {
        self.hand_off(499);
    }
}

/// Policy context recorded with a decision.
struct Context {
    /// The policy decided with (its revision goes into the entry).
    policy: Arc<PolicySnapshot>,
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
    /// `intent_error`: why the intent classifier gave no result (absent when it did, or when
    /// none is configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// The policy's own verdict (`allow`, `block`, `escalate`), before approval and budget:
    /// what dry-run compares a candidate with. Absent in entries recorded before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,
}

impl PolicyContext {
    fn of(call: &Call<'_>, counters: &Counters, remaining: u64, intent: Value) -> PolicyContext {
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
            a: call.remote_addr.to_string(),
            p: call.protocol_version.to_string(),
            e: None,
            v: None,
        }
    }
}

fn expires_at(c: &Claims) -> String {
    rfc3339(
        i64::try_from(c.rights.exp)
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000_000),
    )
}

/// The policy input a decision was made on, rebuilt from its entry and stored context, with
/// `args` as given (`null` when the values were not kept).
pub fn replay_input(decision: &Entry, ctx: &PolicyContext, args: Value) -> Value {
    let chain = decision.jti_chain.clone().unwrap_or_default();
    let mut input = json!({
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
    });
    if let Some(e) = &ctx.e {
        input["intent_error"] = json!(e);
    }
    input
}

/// `intent` is the classifier's result and, when it failed, why (`intent_error`, absent
/// otherwise).
fn policy_input(
    call: &Call<'_>,
    counters: &Counters,
    remaining: u64,
    (intent, intent_error): (&Value, Option<&str>),
    now: i64,
) -> Value {
    let c = call.claims;
    let chain: Vec<&str> = c.chain().collect();
    let mut input = json!({
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
    });
    if let Some(why) = intent_error {
        input["intent_error"] = Value::from(why);
    }
    input
}

/// Salt, argument values per `INTENTGATE_AUDIT_PERSIST_ARG_VALUES`, and the policy context, kept
/// beside the chain; sets the entry's `args_commitment`.
fn side_record(
    mode: ArgPersistence,
    args: &Value,
    entry: &mut Entry,
    policy: Option<&PolicyContext>,
) -> SideRecord {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let (commitment, canonical) = intentgate_proto::audit::args_commitment(&salt, args);
    entry.args_commitment = Some(commitment);
    SideRecord {
        // In `off` mode no salt is kept, so the commitment cannot be brute-forced.
        salt: (mode != ArgPersistence::Off).then(|| hex::encode(salt)),
        args: match mode {
            ArgPersistence::Off => None,
            ArgPersistence::Scalars => Some(scalars_only(args).to_string()),
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
