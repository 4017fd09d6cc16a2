//! The policy store's admin API (DESIGN §6 `/v1/admin/policies/…`): drafts, the active pointer
//! (promote, clear, rollback) and dry-run. Policies are global, so everything here but reading
//! what is in force needs an admin; tenant admins cannot touch policies. Each change is chained
//! in `_system` before it takes effect, by the authenticated caller.
//!
//! Promote and rollback are step-up actions (DESIGN §6); until TOTP enrollment exists they are
//! gated by role alone, and the code travels as `X-IntentGate-TOTP` once it does.

use super::{admin_only, ok, time_param, ApiError, ApiResult, Caller};
use crate::clock::{now_us, rfc3339};
use crate::dryrun::{self, DryRunError, DryRunRequest};
use crate::gateway::Gateway;
use crate::http::Body;
use crate::policies::{InForce, Layer};
use crate::policy::PolicySnapshot;
use crate::store::{PolicyDraftRecord, PolicyHistoryRecord, StoreError};
use hyper::Response;
use intentgate_proto::api::{
    ActivePolicy, Draft, DraftList, DraftRequest, DryRunBody, ErrorCode, PolicyChange,
    PolicyModule, PromoteRequest,
};
use rand::RngCore;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The `_system` chain holds policy changes: policies are not any one tenant's.
const SYSTEM: &str = intentgate_proto::ids::SYSTEM_TENANT;
/// Most history rows `active` shows.
const HISTORY_SHOWN: u32 = 20;
/// A draft's name: what an operator types and reads back.
const MAX_NAME_LEN: usize = 128;
/// Most drafts the store keeps (each up to 1 MiB of source and of tests).
const MAX_DRAFTS: usize = 1000;

fn store_enabled(gw: &Gateway) -> ApiResult<()> {
    if gw.policies.store_enabled() {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Conflict,
            "the policy store is off (INTENTGATE_POLICY_STORE=off): the policy file decides; unset the setting to use drafts, promote and rollback",
        ))
    }
}

fn check_name(what: &str, name: &str) -> ApiResult<()> {
    if name.trim().is_empty()
        || name.chars().count() > MAX_NAME_LEN
        || name
            .chars()
            .any(intentgate_proto::text::is_unsafe_for_terminal)
    {
        return Err(ApiError::bad(format!(
            "{what} must be 1..={MAX_NAME_LEN} printable characters"
        )));
    }
    Ok(())
}

fn check_source(what: &str, source: &str) -> ApiResult<()> {
    if source.trim().is_empty() {
        return Err(ApiError::bad(format!("{what} is empty")));
    }
    // PostgreSQL text cannot hold NUL, and no Rego needs one.
    if source.contains('\0') {
        return Err(ApiError::bad(format!("{what} contains a NUL character")));
    }
    Ok(())
}

/// Prepare a draft's policy and run its tests: what must hold before it is stored and again
/// before it is promoted. Returns the prepared policy and the names of the tests that passed.
/// Runs on the blocking pool (a big policy's parse, and the tests, take their time).
async fn prepare_draft(
    gw: &Gateway,
    source: &str,
    tests: &[(String, String)],
    origin: &str,
) -> ApiResult<(PolicySnapshot, Vec<String>)> {
    let snapshot = gw
        .policies
        .prepare_off_workers(source.to_string(), origin.to_string())
        .await
        .map_err(|e| ApiError::bad(format!("the policy does not compile: {e}")))?;
    let sources = [(
        crate::policies::STORE_MODULE.to_string(),
        source.to_string(),
    )];
    let tests = tests.to_vec();
    let timeout = std::time::Duration::from_millis(gw.settings.policy_timeout_ms);
    let passed = tokio::task::spawn_blocking(move || {
        crate::policy::run_draft_tests(&sources, &tests, timeout)
    })
    .await
    .unwrap_or_else(|e| Err(format!("running the tests failed: {e}")))
    .map_err(|e| ApiError::bad(format!("the draft's tests do not pass: {e}")))?;
    Ok((snapshot, passed))
}

fn draft_wire(d: PolicyDraftRecord, with_source: bool) -> Draft {
    Draft {
        id: d.id,
        name: d.name,
        revision: d.revision,
        author: d.author,
        created_at: rfc3339(d.created_at),
        source: with_source.then_some(d.source),
        tests: if with_source {
            d.tests
                .into_iter()
                .map(|(name, source)| PolicyModule { name, source })
                .collect()
        } else {
            Vec::new()
        },
        tests_passed: Vec::new(),
    }
}

fn change_wire(h: &PolicyHistoryRecord) -> PolicyChange {
    PolicyChange {
        seq: h.seq,
        action: h.action.clone(),
        draft_id: h.draft_id.clone(),
        name: h.name.clone(),
        revision: h.revision.clone(),
        actor: h.actor.clone(),
        at: rfc3339(h.at),
    }
}

/// The chain already says an action was taken: say, in the chain too, that it did not land.
async fn chain_failure(gw: &Gateway, caller: &Caller, action: &str, target: &str, why: &str) {
    if let Err(e2) = gw
        .audit
        .admin(SYSTEM, &caller.actor(), action, target, Some(why))
        .await
    {
        tracing::error!(error = %e2, action, "cannot chain that a policy action did not take effect");
    }
}

/// A stored draft, or 404.
async fn stored_draft(gw: &Gateway, id: &str) -> ApiResult<PolicyDraftRecord> {
    gw.store
        .policy_draft(id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no policy draft {id}"))
}

pub(super) async fn create_draft(
    gw: &Gateway,
    caller: &Caller,
    req: DraftRequest,
) -> ApiResult<Response<Body>> {
    admin_only(caller, "managing policies")?;
    store_enabled(gw)?;
    check_name("name", &req.name)?;
    check_source("source", &req.source)?;
    for t in &req.tests {
        check_name("a test's name", &t.name)?;
        check_source(&format!("test {}", t.name), &t.source)?;
    }
    let tests: Vec<(String, String)> = req
        .tests
        .iter()
        .map(|t| (t.name.clone(), t.source.clone()))
        .collect();
    if gw.store.policy_drafts().await?.len() >= MAX_DRAFTS {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("the policy store holds {MAX_DRAFTS} drafts, its limit: delete old ones (igctl policy draft delete)"),
        ));
    }
    let (snapshot, passed) = prepare_draft(gw, &req.source, &tests, "draft").await?;
    let mut raw = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut raw);
    let record = PolicyDraftRecord {
        id: format!("d-{}", hex::encode(raw)),
        name: req.name,
        source: req.source,
        tests,
        revision: snapshot.revision.clone(),
        author: caller.identity(),
        created_at: now_us(),
    };
    gw.audit
        .admin(
            SYSTEM,
            &caller.actor(),
            "policy-draft-create",
            &format!("{} {} {}", record.id, record.revision, record.name),
            None,
        )
        .await?;
    if let Err(e) = gw.store.insert_policy_draft(&record).await {
        chain_failure(
            gw,
            caller,
            "policy-draft-create-failed",
            &record.id,
            &e.to_string(),
        )
        .await;
        return Err(e.into());
    }
    tracing::info!(actor = %record.author, draft = %record.id, revision = %record.revision, "policy draft created");
    let mut wire = draft_wire(record, false);
    wire.tests_passed = passed;
    ok(&wire)
}

pub(super) async fn list_drafts(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    admin_only(caller, "reading policy drafts")?;
    store_enabled(gw)?;
    let drafts = gw
        .store
        .policy_drafts()
        .await?
        .into_iter()
        .map(|d| draft_wire(d, false))
        .collect();
    ok(&DraftList { drafts })
}

pub(super) async fn show_draft(
    gw: &Gateway,
    caller: &Caller,
    id: &str,
) -> ApiResult<Response<Body>> {
    admin_only(caller, "reading policy drafts")?;
    store_enabled(gw)?;
    let draft = stored_draft(gw, id).await?;
    ok(&draft_wire(draft, true))
}

pub(super) async fn delete_draft(
    gw: &Gateway,
    caller: &Caller,
    id: &str,
) -> ApiResult<Response<Body>> {
    admin_only(caller, "managing policies")?;
    store_enabled(gw)?;
    let draft = stored_draft(gw, id).await?;
    gw.audit
        .admin(
            SYSTEM,
            &caller.actor(),
            "policy-draft-delete",
            &format!("{} {} {}", draft.id, draft.revision, draft.name),
            None,
        )
        .await?;
    // The history keeps its own copy of what it activated: deleting a draft never changes
    // what is in force, nor what a rollback returns to.
    if let Err(e) = gw.store.delete_policy_draft(id).await {
        chain_failure(gw, caller, "policy-draft-delete-failed", id, &e.to_string()).await;
        return Err(e.into());
    }
    ok(&draft_wire(draft, false))
}

/// What is in force on this replica, without the store's history.
fn in_force_only(gw: &Gateway) -> ActivePolicy {
    let InForce {
        layer,
        snapshot,
        row,
        error,
    } = gw.policies.in_force();
    ActivePolicy {
        layer: layer.as_str().to_string(),
        revision: snapshot.revision.clone(),
        origin: snapshot.origin.clone(),
        change: row.as_ref().map(change_wire),
        error,
        store_enabled: gw.policies.store_enabled(),
        history: Vec::new(),
    }
}

async fn active_wire(gw: &Gateway) -> ApiResult<ActivePolicy> {
    let mut answer = in_force_only(gw);
    if gw.policies.store_enabled() {
        answer.history = gw
            .store
            .policy_history(HISTORY_SHOWN)
            .await?
            .iter()
            .map(change_wire)
            .collect();
    }
    Ok(answer)
}

pub(super) async fn active(gw: &Gateway) -> ApiResult<Response<Body>> {
    ok(&active_wire(gw).await?)
}

/// Append the next history row after `head`, chained first; a concurrent change that took the
/// place first is a conflict the operator retries.
async fn change_active(
    gw: &Gateway,
    caller: &Caller,
    row: PolicyHistoryRecord,
    reason: Option<&str>,
) -> ApiResult<Response<Body>> {
    let target = format!(
        "change {}: {} {}",
        row.seq,
        row.draft_id.as_deref().unwrap_or("-"),
        row.revision
            .as_deref()
            .unwrap_or("(policy file or embedded default)")
    );
    gw.audit
        .admin(
            SYSTEM,
            &caller.actor(),
            &format!("policy-{}", row.action),
            &target,
            reason,
        )
        .await?;
    if let Err(e) = gw.store.append_policy_history(&row).await {
        // The chain already says this change was made: say, in the chain too, that it was not.
        let why = match &e {
            StoreError::Conflict(_) => "another policy change took its place first".to_string(),
            other => other.to_string(),
        };
        let action = format!("policy-{}-failed", row.action);
        chain_failure(gw, caller, &action, &target, &why).await;
        return Err(match e {
            StoreError::Conflict(_) => ApiError::new(
                ErrorCode::Conflict,
                "another policy change landed at the same moment; nothing was changed: check `igctl policy active` and retry",
            ),
            other => other.into(),
        });
    }
    tracing::warn!(actor = %row.actor, action = %row.action, seq = row.seq, revision = ?row.revision, "active policy changed");
    // Take effect here at once; other replicas follow within a second. The change has landed
    // whatever happens next: a failure to apply it here is retried by the resync, not reported
    // as a failed change (a retried rollback would go back twice).
    if let Err(e) = gw.policies.sync(&gw.store, &gw.policy).await {
        tracing::warn!(error = %e, "the policy change landed but is not applied here yet; the resync will");
    }
    let mut answer = active_wire(gw).await.unwrap_or_else(|e| ActivePolicy {
        error: Some(format!(
            "the change landed (change {}), but what is in force cannot be read now: {}",
            row.seq, e.message
        )),
        ..in_force_only(gw)
    });
    let applied = match &row.revision {
        Some(_) => answer.change.as_ref().is_some_and(|c| c.seq == row.seq),
        None => answer.layer != Layer::Store.as_str(),
    };
    if !applied && answer.error.is_none() {
        answer.error = Some(format!(
            "change {} landed; this replica has not applied it yet (it retries)",
            row.seq
        ));
    }
    ok(&answer)
}

pub(super) async fn promote(
    gw: &Gateway,
    caller: &Caller,
    req: PromoteRequest,
) -> ApiResult<Response<Body>> {
    admin_only(caller, "promoting a policy")?;
    store_enabled(gw)?;
    let draft = stored_draft(gw, &req.draft_id).await?;
    // Compiled and tested again: what passed at creation must still pass on this igd.
    let (snapshot, _) = prepare_draft(gw, &draft.source, &draft.tests, "draft").await?;
    super::totp::step_up(gw, caller, "promote").await?;
    let head = gw.store.policy_head_seq().await?;
    let row = PolicyHistoryRecord {
        seq: head.unwrap_or(0) + 1,
        action: "promote".into(),
        draft_id: Some(draft.id.clone()),
        name: Some(draft.name.clone()),
        revision: Some(snapshot.revision.clone()),
        source: Some(draft.source.clone()),
        prev_seq: head,
        actor: caller.identity(),
        at: now_us(),
    };
    change_active(gw, caller, row, None).await
}

pub(super) async fn clear(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    admin_only(caller, "changing the active policy")?;
    store_enabled(gw)?;
    let head = gw.store.policy_head_seq().await?;
    let current = match head {
        Some(seq) => gw.store.policy_history_row(seq).await?,
        None => None,
    };
    if current.as_ref().is_none_or(|r| r.revision.is_none()) {
        // Nothing from the store is active: nothing to clear.
        return ok(&active_wire(gw).await?);
    }
    // Clearing changes what decides every call, like a rollback.
    super::totp::step_up(gw, caller, "clear").await?;
    let row = PolicyHistoryRecord {
        seq: head.unwrap_or(0) + 1,
        action: "clear".into(),
        draft_id: None,
        name: None,
        revision: None,
        source: None,
        prev_seq: head,
        actor: caller.identity(),
        at: now_us(),
    };
    change_active(gw, caller, row, None).await
}

pub(super) async fn rollback(gw: &Gateway, caller: &Caller) -> ApiResult<Response<Body>> {
    admin_only(caller, "rolling back the policy")?;
    store_enabled(gw)?;
    let nothing = || {
        ApiError::new(
            ErrorCode::Conflict,
            "there is no earlier policy to roll back to",
        )
    };
    let head = gw.store.policy_head_seq().await?.ok_or_else(nothing)?;
    let current = gw
        .store
        .policy_history_row(head)
        .await?
        .ok_or_else(nothing)?;
    let target = match current.prev_seq {
        Some(back_to) => gw.store.policy_history_row(back_to).await?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                format!("the policy history names change {back_to}, which is missing"),
            )
        })?,
        // Before the first promotion no store policy was active: the layer below decides.
        None if current.revision.is_some() => PolicyHistoryRecord {
            seq: 0,
            action: "none".into(),
            draft_id: None,
            name: None,
            revision: None,
            source: None,
            prev_seq: None,
            actor: String::new(),
            at: 0,
        },
        None => return Err(nothing()),
    };
    let back_to = target.seq;
    // What is rolled back to must still load on this igd before it is made active.
    if let Some(source) = &target.source {
        gw.policies
            .prepare_off_workers(source.clone(), "rollback".to_string())
            .await
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::Conflict,
                    format!("the policy of change {back_to} no longer compiles: {e}"),
                )
            })?;
    }
    super::totp::step_up(gw, caller, "rollback").await?;
    let row = PolicyHistoryRecord {
        seq: head + 1,
        action: "rollback".into(),
        draft_id: target.draft_id.clone(),
        name: target.name.clone(),
        revision: target.revision.clone(),
        source: target.source.clone(),
        // A second rollback goes one further back, like popping a stack.
        prev_seq: target.prev_seq,
        actor: caller.identity(),
        at: now_us(),
    };
    let reason = if back_to == 0 {
        "back to before the first promotion (the policy file or the embedded default)".to_string()
    } else {
        format!("back to change {back_to}")
    };
    change_active(gw, caller, row, Some(&reason)).await
}

/// Resolve a draft id or an inline source into a prepared policy.
async fn candidate(
    gw: &Gateway,
    draft_id: Option<&str>,
    source: Option<&str>,
    what: &str,
) -> ApiResult<Option<Arc<PolicySnapshot>>> {
    match (draft_id, source) {
        (Some(_), Some(_)) => Err(ApiError::bad(format!(
            "give the {what} as a draft id or as source, not both"
        ))),
        (Some(id), None) => {
            store_enabled(gw)?;
            let draft = stored_draft(gw, id).await?;
            let snap = gw
                .policies
                .prepare_off_workers(draft.source, format!("draft {id}"))
                .await
                .map_err(|e| ApiError::bad(format!("draft {id} does not compile: {e}")))?;
            Ok(Some(Arc::new(snap)))
        }
        (None, Some(src)) => {
            check_source(what, src)?;
            let snap = gw
                .policies
                .prepare_off_workers(src.to_string(), "inline source".to_string())
                .await
                .map_err(|e| ApiError::bad(format!("the {what} does not compile: {e}")))?;
            Ok(Some(Arc::new(snap)))
        }
        (None, None) => Ok(None),
    }
}

/// One dry-run at a time: each uses every core, beside the agents' calls.
static DRY_RUN: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

pub(super) async fn dry_run(
    gw: &Gateway,
    caller: &Caller,
    body: DryRunBody,
) -> ApiResult<Response<Body>> {
    admin_only(caller, "replaying policy decisions")?;
    let _turn = DRY_RUN.try_acquire().map_err(|_| {
        ApiError::new(
            ErrorCode::Conflict,
            "another dry-run is running on this igd; retry when it ends",
        )
    })?;
    let candidate_policy = candidate(
        gw,
        body.draft_id.as_deref(),
        body.source.as_deref(),
        "candidate",
    )
    .await?
    .ok_or_else(|| ApiError::bad("name the candidate policy: draft_id or source"))?;
    let baseline = candidate(
        gw,
        body.baseline_draft_id.as_deref(),
        body.baseline_source.as_deref(),
        "baseline",
    )
    .await?;
    let times: BTreeMap<String, String> = [("from", &body.from), ("to", &body.to)]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
        .collect();
    let req = DryRunRequest {
        from: time_param(&times, "from")?,
        to: time_param(&times, "to")?,
        samples: body.samples.unwrap_or(dryrun::DEFAULT_SAMPLES),
        cursor: body.cursor.clone(),
        limit: body.limit,
    };
    let report = dryrun::dry_run(&gw.store, candidate_policy, baseline, &req)
        .await
        .map_err(|e| match e {
            DryRunError::Store(e) => ApiError::from(e),
            e @ DryRunError::Internal(_) => ApiError::new(ErrorCode::Internal, e.to_string()),
            other => ApiError::bad(other.to_string()),
        })?;
    ok(&report)
}
