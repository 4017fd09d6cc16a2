//! Tests of policies (`igctl policy test`, and igd before a draft is stored or promoted), like
//! `opa test`: every rule named `test_*` in the policy or its `*_test.rego` files, evaluated as
//! `data.<package>.<rule>`, passes when it is `true`; `todo_test_*` rules are skipped.

use super::scan::test_rules;
use super::{
    check_total_size, load_sources, warm_up_input, Diagnostic, PolicyError, PreparedPolicy,
    DECISION_RULE, TEST_TIME_LIMIT,
};
use regorus::utils::limits::ExecutionTimerConfig;
use serde::Serialize;
use std::fmt;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// One test rule: `data.<package>.<rule>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestCase {
    pub file: String,
    /// The rule's full path, e.g. `data.intentgate.policy_test.test_read_allowed`.
    pub name: String,
    /// `todo_test_*` rules are reported, not run (the outcome says so).
    #[serde(skip_serializing)]
    pub skip: bool,
}

/// How a test ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum TestOutcome {
    /// The rule is `true`.
    Pass,
    /// The rule is `false`, undefined or another value (shown).
    Fail {
        got: String,
    },
    /// The rule could not be evaluated.
    Error {
        message: String,
    },
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    #[serde(flatten)]
    pub case: TestCase,
    #[serde(flatten)]
    pub outcome: TestOutcome,
    #[serde(rename = "duration_us", serialize_with = "micros")]
    pub duration: Duration,
}

fn micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// A policy with its tests loaded, ready to run them.
#[derive(Clone)]
pub struct TestSuite {
    cases: Vec<TestCase>,
    engine: regorus::Engine,
}

impl fmt::Debug for TestSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestSuite")
            .field("cases", &self.cases)
            .finish()
    }
}

impl TestSuite {
    /// Load test files (`(name, text)`, held to the policy's own rules) beside `policy`, and
    /// find every `test_*` rule in them and in the policy.
    pub fn load(policy: &PreparedPolicy, tests: &[(String, String)]) -> Result<Self, PolicyError> {
        check_total_size(tests, "the test files")?;
        let mut engine = policy.engine.clone();
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: TEST_TIME_LIMIT,
            check_interval: NonZeroU32::new(16).unwrap_or(NonZeroU32::MIN),
        });
        let clash: Vec<Diagnostic> = tests
            .iter()
            .filter(|(name, _)| policy.sources.iter().any(|(n, _)| n == name))
            .map(|(name, _)| Diagnostic::at(name, 0, 0, "the same file is loaded twice"))
            .collect();
        if !clash.is_empty() {
            return Err(PolicyError::Invalid(clash));
        }
        let test_packages = load_sources(&mut engine, tests).map_err(PolicyError::Invalid)?;
        let mut cases = Vec::new();
        let all = policy.sources.iter().zip(policy.packages.iter());
        for ((name, text), package) in all.chain(tests.iter().zip(&test_packages)) {
            for rule in test_rules(text) {
                // The scan proposes; regorus' parse of the module confirms.
                if engine
                    .has_declared_rule_rooted_at(name, &rule)
                    .unwrap_or(false)
                {
                    cases.push(TestCase {
                        file: name.clone(),
                        name: format!("{package}.{rule}"),
                        skip: rule.starts_with("todo_"),
                    });
                }
            }
        }
        // Compile the test modules now, so their errors are reported once, with their
        // location, instead of as the error of every test.
        engine.set_input(regorus::Value::from(warm_up_input()));
        engine
            .eval_rule(DECISION_RULE.to_string())
            .map_err(|e| PolicyError::Invalid(vec![Diagnostic::from_regorus(&e, None)]))?;
        Ok(TestSuite { cases, engine })
    }

    pub fn cases(&self) -> &[TestCase] {
        &self.cases
    }

    /// Run every test, each on a fresh copy of the engine (no input unless the test gives one
    /// `with input as …`). A test passes when its rule is `true`.
    pub fn run(&self) -> Vec<TestResult> {
        self.cases.iter().map(|case| self.run_one(case)).collect()
    }

    /// Like [`TestSuite::run`], but stop once `budget` is spent (a daemon running an operator's
    /// tests must not be kept busy for as long as they please): `Err` names how many tests ran.
    pub fn run_within(&self, budget: Duration) -> Result<Vec<TestResult>, usize> {
        let started = Instant::now();
        let mut results = Vec::with_capacity(self.cases.len());
        for case in &self.cases {
            if started.elapsed() > budget {
                return Err(results.len());
            }
            results.push(self.run_one(case));
        }
        Ok(results)
    }

    fn run_one(&self, case: &TestCase) -> TestResult {
        let start = Instant::now();
        let outcome = if case.skip {
            TestOutcome::Skip
        } else {
            let mut engine = self.engine.clone();
            engine.set_input(regorus::Value::Undefined);
            match engine.eval_rule(case.name.clone()) {
                Ok(regorus::Value::Bool(true)) => TestOutcome::Pass,
                Ok(regorus::Value::Undefined) => TestOutcome::Fail {
                    got: "undefined".into(),
                },
                Ok(other) => TestOutcome::Fail {
                    got: serde_json::to_string(&other).unwrap_or_else(|_| "?".into()),
                },
                Err(e) => TestOutcome::Error {
                    message: Diagnostic::from_regorus(&e, Some(&case.file)).to_string(),
                },
            }
        };
        TestResult {
            case: case.clone(),
            outcome,
            duration: start.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DEFAULT_TIME_LIMIT;

    const POLICY: &str = "package intentgate.policy\n\ndefault decision := {\"allow\": false, \"reason\": \"no\"}\n\ndecision := {\"allow\": true, \"reason\": \"read\"} if input.tool == \"read\"\n\ntest_inline if decision.allow with input as {\"tool\": \"read\"}\n";
    const TESTS: &str = "package intentgate.policy_test\n\nimport data.intentgate.policy\n\ntest_read_allowed if {\n\tpolicy.decision.allow with input as {\"tool\": \"read\"}\n}\n\ntest_write_allowed if {  # fails\n\tpolicy.decision.allow with input as {\"tool\": \"write\"}\n}\n\nconflict := x if {\n\tsome x in [1, 2]\n}\n\ntest_errors if {\n\tconflict == 1\n}\n\ntodo_test_later if false\n\nhelper := `\ntest_not_a_rule if true\n`\n\ntest_fn(x) := x\n\ntest_undefined if {\n\tinput.never\n}\n";

    #[test]
    fn test_runner_reports_each_test() {
        let p = PreparedPolicy::prepare(&[("p.rego".into(), POLICY.into())], DEFAULT_TIME_LIMIT)
            .unwrap();
        let suite = TestSuite::load(&p, &[("p_test.rego".into(), TESTS.into())]).unwrap();
        let results = suite.run();
        let got: Vec<(&str, &str)> = results
            .iter()
            .map(|r| {
                let outcome = match &r.outcome {
                    TestOutcome::Pass => "pass",
                    TestOutcome::Fail { .. } => "fail",
                    TestOutcome::Error { .. } => "error",
                    TestOutcome::Skip => "skip",
                };
                (r.case.name.as_str(), outcome)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("data.intentgate.policy.test_inline", "pass"),
                ("data.intentgate.policy_test.test_read_allowed", "pass"),
                ("data.intentgate.policy_test.test_write_allowed", "fail"),
                ("data.intentgate.policy_test.test_errors", "error"),
                ("data.intentgate.policy_test.todo_test_later", "skip"),
                ("data.intentgate.policy_test.test_undefined", "fail"),
            ],
            "{results:#?}"
        );
        let json = serde_json::to_value(&results[2]).unwrap();
        assert_eq!(json["result"], "fail");
        assert_eq!(json["got"], "undefined");
        assert_eq!(json["file"], "p_test.rego");
        assert!(json["duration_us"].is_u64());
    }

    #[test]
    fn test_files_are_held_to_the_same_rules() {
        let p = PreparedPolicy::prepare(&[("p.rego".into(), POLICY.into())], DEFAULT_TIME_LIMIT)
            .unwrap();
        let bad = "package t\n\ntest_x if {\n\tprint(time.now_ns())\n}\n";
        let err = TestSuite::load(&p, &[("t_test.rego".into(), bad.into())]).unwrap_err();
        assert_eq!(err.diagnostics()[0].line, 4, "{err:?}");
        let broken = "package t\n\ntest_x if {\n";
        let err = TestSuite::load(&p, &[("t_test.rego".into(), broken.into())]).unwrap_err();
        assert_eq!(
            err.diagnostics()[0].file.as_deref(),
            Some("t_test.rego"),
            "{err:?}"
        );
        let err = TestSuite::load(&p, &[("p.rego".into(), "package t\n".into())]).unwrap_err();
        assert!(err.to_string().contains("loaded twice"), "{err}");
    }
}
