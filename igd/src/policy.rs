//! Rego policy (DESIGN §4.3) as igd holds it: a [`PolicySnapshot`] is a prepared
//! [`intentgate_proto::policy::PreparedPolicy`] (the implementation igctl shares: limits, safety
//! rules, warm-up) with where it came from; it is published atomically and cloned per call.
//! Every error, an undefined result or the time limit blocks the call with the reason recorded.

use intentgate_proto::policy::{PolicyError, PreparedPolicy, SourceSet, TestOutcome, TestSuite};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use intentgate_proto::policy::{PolicyDecision, DECISION_RULE, EMBEDDED_DEFAULT};

/// A prepared policy revision.
#[derive(Debug, Clone)]
pub struct PolicySnapshot {
    pub revision: String,
    pub origin: String,
    policy: PreparedPolicy,
    /// Evaluations that overran [`INLINE_BUDGET`] lately, less those that did not (saturating);
    /// at [`OFFLOAD_AT`] this policy is evaluated on the blocking pool from then on.
    slow: Arc<AtomicU32>,
}

/// An evaluation longer than this holds an async worker (one of as many as there are cores)
/// longer than igd allows; a policy whose evaluations keep doing so is moved off the workers.
pub const INLINE_BUDGET: Duration = Duration::from_millis(1);
/// How many unforgiven slow evaluations move a policy off the workers: one hiccup of a busy
/// machine does not, a policy that is slow on real inputs does within a few calls.
const OFFLOAD_AT: u32 = 8;
/// Fast evaluations (on one thread) that forgive one slow one.
const FORGIVE_AFTER: u32 = 1000;

thread_local! {
    static FAST_CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl PolicySnapshot {
    /// Prepare a policy from sources `(name, text)`. Fails if it breaks a limit or safety rule,
    /// does not parse, lacks the decision rule, or errors on a warm-up input.
    pub fn prepare(
        sources: &[(String, String)],
        origin: &str,
        timeout: Duration,
    ) -> Result<Self, String> {
        let policy = PreparedPolicy::prepare(sources, timeout).map_err(|e| e.to_string())?;
        if !policy.warm_up_defined() {
            tracing::warn!(origin, "policy decision is undefined for the warm-up input");
        }
        // A policy already slow on the warm-up input starts off the workers.
        let started = Instant::now();
        policy.evaluate(intentgate_proto::policy::warm_up_input());
        let slow = if started.elapsed() > INLINE_BUDGET {
            tracing::warn!(
                origin,
                micros = started.elapsed().as_micros(),
                "policy evaluation is slow: evaluating it off the async workers"
            );
            OFFLOAD_AT
        } else {
            0
        };
        Ok(PolicySnapshot {
            revision: policy.revision().to_string(),
            origin: origin.to_string(),
            policy,
            slow: Arc::new(AtomicU32::new(slow)),
        })
    }

    /// The embedded deny-all policy.
    pub fn embedded(timeout: Duration) -> Self {
        let policy = PreparedPolicy::embedded(timeout);
        PolicySnapshot {
            revision: policy.revision().to_string(),
            origin: "embedded default".into(),
            policy,
            slow: Arc::new(AtomicU32::new(0)),
        }
    }

    /// Load a policy file (or every `.rego` file of a directory, tests excluded).
    pub fn load_path(path: &Path, timeout: Duration) -> Result<Self, String> {
        let sources = SourceSet::read(path).map_err(|e| e.to_string())?;
        if sources.policy.is_empty() {
            return Err(format!("{}: {}", path.display(), PolicyError::NoPolicy));
        }
        Self::prepare(&sources.policy, &path.display().to_string(), timeout)
    }

    /// Evaluate the decision for one input. Never fails: every problem blocks.
    pub fn evaluate(&self, input: Value) -> PolicyDecision {
        self.policy.evaluate(input)
    }

    /// Evaluate, and say whether the rule gave a decision at all (`false`: an evaluation error,
    /// the time limit, an undefined or malformed decision — each of which blocks).
    pub fn evaluate_checked(&self, input: Value) -> (PolicyDecision, bool) {
        let e = self.policy.evaluate_verbose(input);
        // A decision igd can act on: an object whose `allow` is a boolean, and whose flags are
        // booleans when present. Anything else (a typo like `allowed`, a string) blocks too.
        let well_formed = e.output.as_ref().is_some_and(|o| {
            o.get("allow").is_some_and(Value::is_boolean)
                && ["escalate", "requires_step_up"]
                    .iter()
                    .all(|k| o.get(k).is_none_or(Value::is_boolean))
        });
        (e.decision, well_formed)
    }

    /// Whether evaluations of this policy run on the blocking pool (it proved slow).
    pub fn offloaded(&self) -> bool {
        self.slow.load(Ordering::Relaxed) >= OFFLOAD_AT
    }

    /// Decide one call from async code. A fast policy (tens of µs) is evaluated in place: a
    /// hop to another thread would cost more than it. One that keeps overrunning
    /// [`INLINE_BUDGET`] (many rules, large inputs) would stall every connection on its worker
    /// for up to `INTENTGATE_POLICY_TIMEOUT_MS` per call, so from then on it is evaluated on the
    /// blocking pool.
    pub async fn decide(self: &Arc<Self>, input: Value) -> PolicyDecision {
        if self.offloaded() {
            // Only a policy sent to the blocking pool costs a reference count.
            let policy = Arc::clone(self);
            return tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                let decision = policy.evaluate(input);
                // Still timed off the workers: a policy that was only unlucky (a busy moment
                // counted as slowness) comes back in place after enough fast evaluations.
                if started.elapsed() < INLINE_BUDGET / 4 {
                    let _ = policy
                        .slow
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                            Some(n.saturating_sub(1))
                        });
                }
                decision
            })
            .await
            .unwrap_or_else(|e| PolicyDecision::block(format!("policy evaluation failed: {e}")));
        }
        let started = Instant::now();
        let decision = self.evaluate(input);
        let overran = started.elapsed() > INLINE_BUDGET;
        if !overran {
            // A slow evaluation is forgiven only after many fast ones (a busy machine's hiccup
            // is, a policy an agent can make slow with its arguments one call in a few hundred
            // is not); counted per thread, so the usual call only reads the shared counter.
            let forgive = FAST_CALLS.with(|n| {
                let next = n.get().wrapping_add(1) % FORGIVE_AFTER;
                n.set(next);
                next == 0
            });
            if !forgive || self.slow.load(Ordering::Relaxed) == 0 {
                return decision;
            }
        }
        let before = self
            .slow
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(if overran {
                    n.saturating_add(1)
                } else {
                    n.saturating_sub(1)
                })
            })
            .unwrap_or(0);
        if overran && before + 1 == OFFLOAD_AT {
            tracing::warn!(origin = %self.origin, revision = %self.revision, "policy evaluations keep overrunning 1 ms: evaluating them off the async workers");
        }
        decision
    }
}

/// Most tests a draft may carry, and the time igd spends on them in all.
pub const MAX_DRAFT_TESTS: usize = 1000;
pub const DRAFT_TEST_BUDGET: Duration = Duration::from_secs(30);

/// Run the `test_*` rules of a policy and its test modules (`(name, text)` each); every test
/// must pass (`todo_test_*` ones are skipped). Returns the names of the tests that passed, or
/// which did not and why.
pub fn run_draft_tests(
    sources: &[(String, String)],
    tests: &[(String, String)],
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let policy = PreparedPolicy::prepare(sources, timeout).map_err(|e| e.to_string())?;
    let suite = TestSuite::load(&policy, tests).map_err(|e| e.to_string())?;
    if suite.cases().len() > MAX_DRAFT_TESTS {
        return Err(format!(
            "{} tests; a draft may have at most {MAX_DRAFT_TESTS} (run the rest with igctl policy test)",
            suite.cases().len()
        ));
    }
    let results = suite.run_within(DRAFT_TEST_BUDGET).map_err(|ran| {
        format!(
            "the tests took longer than {} s in all (stopped after {ran} of {}); igd runs a draft's tests within that budget",
            DRAFT_TEST_BUDGET.as_secs(),
            suite.cases().len()
        )
    })?;
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            TestOutcome::Fail { got } => Some(format!("{} (got {got})", r.case.name)),
            TestOutcome::Error { message } => Some(format!("{} ({message})", r.case.name)),
            TestOutcome::Pass | TestOutcome::Skip => None,
        })
        .collect();
    if !failed.is_empty() {
        return Err(format!(
            "{} of {} tests failed: {}",
            failed.len(),
            results.len(),
            failed.join("; ")
        ));
    }
    Ok(results
        .into_iter()
        .filter(|r| r.outcome == TestOutcome::Pass)
        .map(|r| r.case.name)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use intentgate_proto::policy::warm_up_input;

    #[test]
    fn embedded_default_denies() {
        let snap = PolicySnapshot::embedded(Duration::from_millis(50));
        assert!(snap.revision.starts_with("sha256:"));
        let d = snap.evaluate(warm_up_input());
        assert!(!d.allow);
        assert!(d.reason.contains("no policy"));
    }

    /// A policy far over the inline budget on every input is evaluated on the blocking pool,
    /// and still decides. (Only the slow direction is asserted: a busy machine can make a fast
    /// policy look slow, never a slow one fast.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_policy_is_moved_off_the_workers() {
        let slow = PolicySnapshot::prepare(
            &[(
                "p.rego".into(),
                "package intentgate.policy\nn := count([x | some x in numbers.range(1, 300000); x % 7 == 0])\ndecision := {\"allow\": n > 0, \"reason\": \"counted\"}\n".into(),
            )],
            "t",
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(slow.offloaded());
        let d = Arc::new(slow).decide(warm_up_input()).await;
        assert!(d.allow, "{d:?}");
        assert_eq!(d.reason, "counted");
    }

    /// A fast policy counted slow (a busy moment) comes back in place after fast evaluations
    /// on the blocking pool. (200 tries for 8 fast ones: robust on a loaded machine.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unlucky_fast_policy_comes_back_in_place() {
        let fast = Arc::new(
            PolicySnapshot::prepare(
                &[(
                    "p.rego".into(),
                    "package intentgate.policy\ndecision := {\"allow\": true, \"reason\": \"ok\"}\n".into(),
                )],
                "t",
                Duration::from_millis(50),
            )
            .unwrap(),
        );
        fast.slow.store(OFFLOAD_AT, Ordering::Relaxed);
        assert!(fast.offloaded());
        for _ in 0..200 {
            assert!(fast.decide(warm_up_input()).await.allow);
            if !fast.offloaded() {
                return;
            }
        }
        panic!("a fast policy stayed off the workers");
    }

    #[test]
    fn bad_policy_is_refused_at_prepare() {
        let err = PolicySnapshot::prepare(
            &[("p.rego".into(), "package x\nthis is not rego".into())],
            "t",
            Duration::from_millis(50),
        )
        .unwrap_err();
        assert!(err.starts_with("p.rego:2:"), "{err}");
    }

    #[test]
    fn draft_tests_must_all_pass() {
        let policy = [(
            "policy.rego".to_string(),
            "package intentgate.policy\ndecision := {\"allow\": input.tool == \"read\"}\n"
                .to_string(),
        )];
        let test = |body: &str| {
            vec![(
                "policy_test.rego".to_string(),
                format!("package intentgate.policy_test\nimport data.intentgate.policy\ntest_read if {{ {body} }}\n"),
            )]
        };
        let timeout = Duration::from_millis(50);
        let passed = run_draft_tests(
            &policy,
            &test(r#"policy.decision.allow with input as {"tool": "read"}"#),
            timeout,
        )
        .unwrap();
        assert_eq!(passed, vec!["data.intentgate.policy_test.test_read"]);
        let err = run_draft_tests(
            &policy,
            &test(r#"policy.decision.allow with input as {"tool": "write"}"#),
            timeout,
        )
        .unwrap_err();
        assert!(err.contains("1 of 1 tests failed"), "{err}");
    }
}
