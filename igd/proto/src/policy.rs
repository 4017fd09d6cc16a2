//! Rego policies (DESIGN §4.3), the one implementation igd and igctl share: igd decides calls
//! with it, `igctl policy check|test|eval` run it offline, so a policy that passes its tests
//! on an operator's laptop decides the same way in the gateway.
//!
//! A policy is the `.rego` files of package `intentgate.policy` that define the rule
//! `decision`. [`PreparedPolicy::prepare`] loads it once — size limits, safety scan, parse,
//! entrypoint check, time limit, warm-up — and [`PreparedPolicy::evaluate`] clones it per call;
//! every error, an undefined decision or the time limit blocks the call with the reason
//! recorded. [`TestSuite`] runs the `test_*` rules of a policy and its `*_test.rego` files
//! like `opa test`.
//!
//! Decisions must be reproducible (dry-run replays recorded inputs against a draft), so a
//! policy may not reach the network nor read the clock or randomness: calls to
//! [`FORBIDDEN_BUILTINS`] are refused when the policy is loaded, with their `file:line:column`,
//! and the ones this build of regorus provides are also overridden to fail if called anyway.
//! Policies read the time from `input.request.time`.

use regorus::utils::limits::{ExecutionTimerConfig, LimitError};
use regorus::PolicyLengthConfig;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::audit::Verdict;

mod scan;
mod testing;

use scan::forbidden_calls;

pub use testing::{TestCase, TestOutcome, TestResult, TestSuite};

/// The package every policy's entrypoint lives in.
pub const PACKAGE: &str = "intentgate.policy";
/// The rule igd evaluates for every call.
pub const DECISION_RULE: &str = "data.intentgate.policy.decision";
const DECISION_NAME: &str = "decision";

/// Most bytes a policy's sources may hold in all (and so any one file); the same again for its
/// test files.
pub const MAX_POLICY_BYTES: usize = 1 << 20;
/// Most lines in one file, and most columns in one line.
const MAX_LINES: usize = 20_000;
const MAX_COLUMNS: u32 = 4096;
/// igd's default evaluation time limit (`INTENTGATE_POLICY_TIMEOUT_MS`).
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_millis(50);
/// The time limit of one test rule (a test may evaluate the decision many times).
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(5);

/// Builtins a policy may not call, with their arity: they reach the network, or answer
/// differently from one evaluation to the next, so a recorded decision could not be replayed.
pub const FORBIDDEN_BUILTINS: &[(&str, u8)] = &[
    ("http.send", 1),
    ("net.lookup_ip_addr", 1),
    ("opa.runtime", 0),
    ("rand.intn", 2),
    ("time.now_ns", 0),
    ("uuid.rfc4122", 1),
];

fn why_forbidden(name: &str) -> &'static str {
    match name {
        "http.send" | "net.lookup_ip_addr" => "policies may not reach the network",
        "time.now_ns" => "decisions must be reproducible: read the time from input.request.time",
        "opa.runtime" => "decisions must be reproducible: the runtime environment is not an input",
        _ => "decisions must be reproducible: randomness is not allowed",
    }
}

/// Embedded default used when no policy is configured: deny everything.
pub const EMBEDDED_DEFAULT: &str = r#"package intentgate.policy

# The embedded default policy: no policy has been configured, so every call is denied.
decision := {"allow": false, "reason": "no policy is configured (the embedded default denies every call); set INTENTGATE_POLICY_FILE"}
"#;

// ------------------------------------------------------------------------------------------
// Sources

/// True for a file of tests (`*_test.rego`): loaded by `igctl policy test`, never by igd.
pub fn is_test_file(path: &str) -> bool {
    path.ends_with("_test.rego")
}

/// A policy's files, `(name, text)`, split into the policy and its tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSet {
    pub policy: Vec<(String, String)>,
    pub tests: Vec<(String, String)>,
}

impl SourceSet {
    /// Read one `.rego` file, or every `.rego` file directly in a directory (sorted by name;
    /// subdirectories are other policies). Names are the paths as given.
    pub fn read(path: &Path) -> Result<Self, PolicyError> {
        Self::read_all(&[path.to_path_buf()])
    }

    /// Read these files (a directory stands for its `.rego` files) as one set.
    pub fn read_all(paths: &[PathBuf]) -> Result<Self, PolicyError> {
        let mut set = SourceSet::default();
        for path in paths {
            if path.is_dir() {
                set.read_dir(path)?;
            } else {
                set.read_file(path)?;
            }
        }
        Ok(set)
    }

    fn read_dir(&mut self, dir: &Path) -> Result<(), PolicyError> {
        let entries = std::fs::read_dir(dir).map_err(|e| PolicyError::read(dir, e))?;
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "rego"))
            .collect();
        files.sort();
        for file in files {
            self.read_file(&file)?;
        }
        Ok(())
    }

    fn read_file(&mut self, path: &Path) -> Result<(), PolicyError> {
        let name = path.display().to_string();
        // Checked before reading: a huge file is refused without being loaded.
        let size = std::fs::metadata(path)
            .map_err(|e| PolicyError::read(path, e))?
            .len();
        if size > MAX_POLICY_BYTES as u64 {
            return Err(PolicyError::TooLarge {
                what: name,
                size,
                limit: MAX_POLICY_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::read(path, e))?;
        if is_test_file(&name) {
            self.tests.push((name, text));
        } else {
            self.policy.push((name, text));
        }
        Ok(())
    }
}

/// The revision of a policy: `sha256:<hex>` over each source's name and text, in order.
pub fn revision(sources: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (name, text) in sources {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

// ------------------------------------------------------------------------------------------
// Errors

/// One problem found in a policy, where it is (when known).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The source's name; `None` for a problem of the policy as a whole.
    pub file: Option<String>,
    /// 1-based; 0 when the problem has no position.
    pub line: u32,
    /// 1-based, a tab counting 4 (as regorus counts); 0 when the problem has no position.
    pub column: u32,
    pub message: String,
}

impl Diagnostic {
    fn at(file: &str, line: u32, column: u32, message: impl Into<String>) -> Self {
        Diagnostic {
            file: Some(file.to_string()),
            line,
            column,
            message: message.into(),
        }
    }

    /// A regorus error. Its message is `\n--> file:line:col\n<excerpt>\nerror: message` when
    /// it has a position; `file` names the source when it has not.
    fn from_regorus(err: &anyhow::Error, file: Option<&str>) -> Self {
        let text = format!("{err:#}");
        let mut lines = text.lines().map(str::trim_end);
        let located = lines.find_map(|l| l.trim_start().strip_prefix("--> "));
        let position = located.and_then(|loc| {
            let mut parts = loc.rsplitn(3, ':');
            let column = parts.next()?.parse().ok()?;
            let line = parts.next()?.parse().ok()?;
            Some((parts.next()?.to_string(), line, column))
        });
        let message = match position {
            // What follows the first `error: ` after the excerpt, on one line.
            Some(_) => {
                let rest: Vec<&str> = lines
                    .skip_while(|l| !l.starts_with("error: "))
                    .map(str::trim)
                    .collect();
                let joined = rest.join(" ");
                joined
                    .strip_prefix("error: ")
                    .unwrap_or(&joined)
                    .to_string()
            }
            None => String::new(),
        };
        let message = match message.is_empty() {
            true => text.split_whitespace().collect::<Vec<_>>().join(" "),
            false => message,
        };
        match position {
            Some((file, line, column)) => Diagnostic::at(&file, line, column, message),
            None => Diagnostic {
                file: file.map(str::to_string),
                line: 0,
                column: 0,
                message,
            },
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), 0) => write!(f, "{file}: {}", self.message),
            (Some(file), line) => write!(f, "{file}:{line}:{}: {}", self.column, self.message),
            (None, _) => f.write_str(&self.message),
        }
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("no policy files (the policy is the .rego files that are not *_test.rego)")]
    NoPolicy,
    #[error("{what} is {size} bytes; the limit is {limit}")]
    TooLarge {
        what: String,
        size: u64,
        limit: usize,
    },
    /// Parse, compile, safety or entrypoint problems, each with its location.
    #[error("{}", join_diagnostics(.0))]
    Invalid(Vec<Diagnostic>),
}

impl PolicyError {
    fn read(path: &Path, e: std::io::Error) -> Self {
        PolicyError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }

    /// Every problem as a diagnostic (the located ones of [`PolicyError::Invalid`], else one).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            PolicyError::Invalid(d) => d.clone(),
            other => vec![Diagnostic {
                file: None,
                line: 0,
                column: 0,
                message: other.to_string(),
            }],
        }
    }
}

fn join_diagnostics(d: &[Diagnostic]) -> String {
    d.iter()
        .map(Diagnostic::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

// ------------------------------------------------------------------------------------------
// The prepared policy

/// The policy's answer for one call (its output normalised: `escalate` wins over `allow`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDecision {
    pub allow: bool,
    pub escalate: bool,
    pub reason: String,
    pub requires_step_up: bool,
}

impl PolicyDecision {
    pub fn block(reason: impl Into<String>) -> Self {
        PolicyDecision {
            allow: false,
            escalate: false,
            reason: reason.into(),
            requires_step_up: false,
        }
    }

    pub fn verdict(&self) -> Verdict {
        if self.escalate {
            Verdict::Escalate
        } else if self.allow {
            Verdict::Allow
        } else {
            Verdict::Block
        }
    }
}

/// One evaluation shown whole (`igctl policy eval`): the decision igd would act on and the
/// rule's output as the policy produced it (`None` when undefined or failed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub decision: PolicyDecision,
    pub output: Option<Value>,
}

/// A policy loaded, checked and warmed up, ready to be cloned per call.
#[derive(Clone)]
pub struct PreparedPolicy {
    revision: String,
    time_limit: Duration,
    sources: Arc<[(String, String)]>,
    /// The package of each source, in order.
    packages: Arc<[String]>,
    warm_up_defined: bool,
    engine: regorus::Engine,
}

impl fmt::Debug for PreparedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedPolicy")
            .field("revision", &self.revision)
            .field("files", &self.sources.len())
            .finish()
    }
}

/// A sample input used to warm the engine up before it is published.
pub fn warm_up_input() -> Value {
    json!({
        "method": "tools/call", "tool": "warmup", "args": {}, "tenant": "warmup",
        "agent": {"subject": "warmup", "delegated_subject": null, "jti": "", "root_jti": "", "chain": [],
                  "depth": 0, "calls_today": 0, "calls_today_for_tool": 0, "calls_this_hour": 0},
        "capability": {"tools": [], "max_calls": 0, "remaining_calls": 0, "expires_at": ""},
        "intent": null,
        "request": {"time": "1970-01-01T00:00:00Z", "remote_addr": "127.0.0.1", "protocol_version": "2025-11-25"}
    })
}

/// An engine with IntentGate's limits and the forbidden builtins overridden.
fn set_time_limit(engine: &mut regorus::Engine, limit: Duration) {
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit,
        check_interval: NonZeroU32::new(16).unwrap_or(NonZeroU32::MIN),
    });
}

/// The warm-up evaluation's time limit: it proves the policy compiles and evaluates, and must not
/// fail a sound policy because the machine was busy at that moment (the per-call limit applies
/// from then on).
pub const WARM_UP_TIME_LIMIT: Duration = Duration::from_secs(5);

fn new_engine(time_limit: Duration) -> Result<regorus::Engine, PolicyError> {
    let mut engine = regorus::Engine::new();
    engine.set_policy_length_config(PolicyLengthConfig {
        max_col: NonZeroU32::new(MAX_COLUMNS).unwrap_or(NonZeroU32::MIN),
        max_file_bytes: NonZeroUsize::new(MAX_POLICY_BYTES).unwrap_or(NonZeroUsize::MIN),
        max_lines: NonZeroUsize::new(MAX_LINES).unwrap_or(NonZeroUsize::MIN),
    });
    set_time_limit(&mut engine, time_limit);
    // `print` output is gathered (and dropped), never written to igd's stderr: a policy must
    // not be a way to copy every call's arguments into the system journal.
    engine.set_gather_prints(true);
    // The backstop behind the scan: regorus looks extensions up before its builtins, so a call
    // the scan missed (or a builtin this build provides, like time.now_ns) fails instead of
    // making the decision depend on the moment it was made.
    for &(name, nargs) in FORBIDDEN_BUILTINS {
        let why = why_forbidden(name);
        engine
            .add_extension(
                name.to_string(),
                nargs,
                Box::new(move |_: Vec<regorus::Value>| {
                    anyhow::bail!("{name} is not allowed: {why}")
                }),
            )
            .map_err(|e| PolicyError::Invalid(vec![Diagnostic::from_regorus(&e, None)]))?;
    }
    Ok(engine)
}

/// Load sources into `engine`: each is scanned and parsed; returns the package of each source,
/// or every problem found.
fn load_sources(
    engine: &mut regorus::Engine,
    sources: &[(String, String)],
) -> Result<Vec<String>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut packages = Vec::with_capacity(sources.len());
    for (i, (name, text)) in sources.iter().enumerate() {
        if sources[..i].iter().any(|(n, _)| n == name) {
            problems.push(Diagnostic::at(name, 0, 0, "the same file is loaded twice"));
            continue;
        }
        problems.extend(forbidden_calls(name, text));
        match engine.add_policy(name.clone(), text.clone()) {
            Ok(package) => packages.push(package),
            Err(e) => problems.push(Diagnostic::from_regorus(&e, Some(name))),
        }
    }
    if problems.is_empty() {
        Ok(packages)
    } else {
        Err(problems)
    }
}

fn check_total_size(sources: &[(String, String)], what: &str) -> Result<(), PolicyError> {
    let total: usize = sources.iter().map(|(_, t)| t.len()).sum();
    if total > MAX_POLICY_BYTES {
        return Err(PolicyError::TooLarge {
            what: what.to_string(),
            size: total as u64,
            limit: MAX_POLICY_BYTES,
        });
    }
    Ok(())
}

impl PreparedPolicy {
    /// Prepare a policy from its sources `(name, text)`: within the size limits, free of
    /// forbidden builtins, parsed, declaring `decision` in package `intentgate.policy`, and
    /// evaluating on a warm-up input without error. Evaluations stop at `time_limit`.
    pub fn prepare(
        sources: &[(String, String)],
        time_limit: Duration,
    ) -> Result<Self, PolicyError> {
        if sources.is_empty() {
            return Err(PolicyError::NoPolicy);
        }
        check_total_size(sources, "the policy")?;
        let mut engine = new_engine(time_limit.max(WARM_UP_TIME_LIMIT))?;
        let packages = load_sources(&mut engine, sources).map_err(PolicyError::Invalid)?;
        let entry_package = format!("data.{PACKAGE}");
        let declares_decision = sources.iter().zip(&packages).any(|((name, _), package)| {
            *package == entry_package
                && engine
                    .has_declared_rule_rooted_at(name, DECISION_NAME)
                    .unwrap_or(false)
        });
        if !declares_decision {
            return Err(PolicyError::Invalid(vec![Diagnostic {
                file: None,
                line: 0,
                column: 0,
                message: format!(
                    "no rule `{DECISION_NAME}` in package `{PACKAGE}`: igd evaluates {DECISION_RULE}"
                ),
            }]));
        }
        // Warm-up evaluation on the engine that will be cloned per call: it prepares regorus'
        // internal structures (regorus issue #721) and surfaces compile errors now.
        engine.set_input(regorus::Value::from(warm_up_input()));
        let warm_up_defined = match engine.eval_rule(DECISION_RULE.to_string()) {
            Ok(regorus::Value::Undefined) => false,
            Ok(_) => true,
            Err(e) => {
                return Err(PolicyError::Invalid(vec![Diagnostic::from_regorus(
                    &e, None,
                )]))
            }
        };
        set_time_limit(&mut engine, time_limit);
        let _ = engine.take_prints();
        Ok(PreparedPolicy {
            revision: revision(sources),
            time_limit,
            sources: sources.into(),
            packages: packages.into(),
            warm_up_defined,
            engine,
        })
    }

    /// The embedded deny-all policy.
    pub fn embedded(time_limit: Duration) -> Self {
        match Self::prepare(
            &[("default.rego".into(), EMBEDDED_DEFAULT.into())],
            time_limit,
        ) {
            Ok(p) => p,
            Err(e) => unreachable!("the embedded policy is valid: {e}"),
        }
    }

    /// `sha256:<hex>` of the sources (see [`revision`]).
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The sources `(name, text)` the policy was prepared from.
    pub fn sources(&self) -> &[(String, String)] {
        &self.sources
    }

    /// False when the decision was undefined for the warm-up input (every call like it would
    /// be blocked); worth a warning.
    pub fn warm_up_defined(&self) -> bool {
        self.warm_up_defined
    }

    /// Evaluate the decision for one input. Never fails: every problem blocks.
    pub fn evaluate(&self, input: Value) -> PolicyDecision {
        match self.output(input) {
            Ok(value) => decision_from(&value),
            Err(reason) => PolicyDecision::block(reason),
        }
    }

    /// Evaluate and keep the rule's output beside the decision.
    pub fn evaluate_verbose(&self, input: Value) -> Evaluation {
        match self.output(input) {
            Ok(value) => Evaluation {
                decision: decision_from(&value),
                output: serde_json::to_value(&value)
                    .ok()
                    .filter(|_| value != regorus::Value::Undefined),
            },
            Err(reason) => Evaluation {
                decision: PolicyDecision::block(reason),
                output: None,
            },
        }
    }

    /// The decision rule's value, or why it could not be had (as a block reason).
    fn output(&self, input: Value) -> Result<regorus::Value, String> {
        let mut engine = self.engine.clone();
        engine.set_input(regorus::Value::from(input));
        engine.eval_rule(DECISION_RULE.to_string()).map_err(|e| {
            let timed_out = e.chain().any(|cause| {
                matches!(
                    cause.downcast_ref(),
                    Some(LimitError::TimeLimitExceeded { .. })
                )
            });
            if timed_out {
                return format!(
                    "policy evaluation exceeded its time limit ({} ms)",
                    self.time_limit.as_millis()
                );
            }
            format!(
                "policy evaluation failed: {}",
                Diagnostic::from_regorus(&e, None)
            )
        })
    }
}

/// The decision igd acts on, from the rule's value.
fn decision_from(value: &regorus::Value) -> PolicyDecision {
    if *value == regorus::Value::Undefined {
        return PolicyDecision::block("policy decision is undefined");
    }
    let out = match serde_json::to_value(value) {
        Ok(v) => v,
        Err(e) => return PolicyDecision::block(format!("policy output is not JSON: {e}")),
    };
    let Some(obj) = out.as_object() else {
        return PolicyDecision::block("policy decision is not an object");
    };
    let flag = |k: &str| -> Result<bool, String> {
        match obj.get(k) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(format!("policy decision field {k:?} must be a boolean")),
        }
    };
    let (allow, escalate, step_up) =
        match (flag("allow"), flag("escalate"), flag("requires_step_up")) {
            (Ok(a), Ok(e), Ok(s)) => (a, e, s),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return PolicyDecision::block(e),
        };
    if !obj.contains_key("allow") {
        return PolicyDecision::block("policy decision has no \"allow\"");
    }
    let reason = obj
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    PolicyDecision {
        allow: allow && !escalate,
        escalate,
        reason: match (reason.is_empty(), allow) {
            (false, _) => reason,
            (true, true) => "allowed by policy".into(),
            (true, false) => "denied by policy".into(),
        },
        requires_step_up: step_up,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn prepare(src: &str) -> Result<PreparedPolicy, PolicyError> {
        PreparedPolicy::prepare(&[("p.rego".into(), src.into())], DEFAULT_TIME_LIMIT)
    }

    fn policy(src: &str) -> PreparedPolicy {
        prepare(src).unwrap()
    }

    fn invalid(src: &str) -> Vec<Diagnostic> {
        match prepare(src) {
            Err(PolicyError::Invalid(d)) => d,
            other => panic!("expected an invalid policy, got {other:?}"),
        }
    }

    #[test]
    fn embedded_default_denies() {
        let d = PreparedPolicy::embedded(DEFAULT_TIME_LIMIT).evaluate(warm_up_input());
        assert!(!d.allow);
        assert!(d.reason.contains("no policy"));
        assert_eq!(d.verdict(), Verdict::Block);
    }

    #[test]
    fn allow_escalate_and_errors_block() {
        let p = policy("package intentgate.policy\ndecision := {\"allow\": input.tool == \"read\", \"reason\": \"r\"}\n");
        let mut input = warm_up_input();
        input["tool"] = json!("read");
        assert!(p.evaluate(input.clone()).allow);
        input["tool"] = json!("write");
        assert!(!p.evaluate(input.clone()).allow);

        let esc = policy("package intentgate.policy\ndecision := {\"allow\": true, \"escalate\": true, \"reason\": \"ask\"}\n");
        let d = esc.evaluate(input.clone());
        assert!(!d.allow && d.escalate);
        assert_eq!(d.verdict(), Verdict::Escalate);

        let undefined = policy(
            "package intentgate.policy\ndecision := {\"allow\": true} if { input.tool == \"never\" }\n",
        );
        assert!(!undefined.warm_up_defined());
        assert!(undefined
            .evaluate(input.clone())
            .reason
            .contains("undefined"));
        assert_eq!(undefined.evaluate_verbose(input.clone()).output, None);

        // A complete rule with two values is an evaluation error → block, on one line.
        let conflict = policy("package intentgate.policy\ndecision := {\"allow\": true} if { input.tool == \"write\" }\ndecision := {\"allow\": false} if { input.tool == \"write\" }\n");
        let d = conflict.evaluate(input.clone());
        assert!(!d.allow, "{d:?}");
        assert!(d.reason.starts_with("policy evaluation failed: "), "{d:?}");
        assert!(!d.reason.contains('\n'), "{d:?}");

        let not_bool = policy("package intentgate.policy\ndecision := {\"allow\": \"yes\"}\n");
        assert!(!not_bool.evaluate(input.clone()).allow);

        let verbose = p.evaluate_verbose(json!({"tool": "read"}));
        assert_eq!(verbose.output, Some(json!({"allow": true, "reason": "r"})));
    }

    #[test]
    fn revision_covers_names_and_texts() {
        let a = revision(&[("a.rego".into(), "x".into())]);
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64);
        assert_ne!(a, revision(&[("b.rego".into(), "x".into())]));
        assert_ne!(a, revision(&[("a.rego".into(), "y".into())]));
        assert_eq!(
            policy(EMBEDDED_DEFAULT).revision(),
            revision(&[("p.rego".into(), EMBEDDED_DEFAULT.into())])
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let d = invalid("package intentgate.policy\n\ndecision := {\"allow\": true\n\tfoo bar\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].file.as_deref(), Some("p.rego"));
        assert!(d[0].line >= 3, "{d:?}");
        assert!(d[0].column >= 1, "{d:?}");
        assert!(!d[0].message.contains('\n'), "{d:?}");
        assert!(d[0]
            .to_string()
            .starts_with(&format!("p.rego:{}:{}: ", d[0].line, d[0].column)));
    }

    #[test]
    fn entrypoint_is_required() {
        let d = invalid("package intentgate.policy\nallow := true\n");
        assert!(d[0].message.contains("no rule `decision`"), "{d:?}");
        let d = invalid("package other\ndecision := {\"allow\": true}\n");
        assert!(
            d[0].message.contains("package `intentgate.policy`"),
            "{d:?}"
        );
        // Declared in a second file of the same package is fine.
        PreparedPolicy::prepare(
            &[
                (
                    "a.rego".into(),
                    "package intentgate.policy\nread := {\"read_invoice\"}\n".into(),
                ),
                (
                    "b.rego".into(),
                    "package intentgate.policy\ndefault decision := {\"allow\": false}\n".into(),
                ),
            ],
            DEFAULT_TIME_LIMIT,
        )
        .unwrap();
    }

    #[test]
    fn forbidden_builtins_are_refused_with_their_location() {
        let src = "package intentgate.policy\n\n# time.now_ns() in a comment is fine\nnote := \"http.send({}) in a string is fine\"\nraw := `rand.intn(\"x\", 3)`\n\ndecision := {\"allow\": true, \"t\": t} if {\n\tt := time.now_ns()\n\tr := http.send({\"method\": \"get\", \"url\": \"http://x\"})\n}\n";
        let d = invalid(src);
        let found: Vec<(u32, u32, &str)> = d
            .iter()
            .map(|d| (d.line, d.column, d.message.split(' ').nth(2).unwrap()))
            .collect();
        assert_eq!(
            found,
            vec![(8, 10, "time.now_ns"), (9, 10, "http.send")],
            "{d:?}"
        );
        assert!(d[0].message.contains("input.request.time"), "{d:?}");
        for (name, _) in FORBIDDEN_BUILTINS {
            let src = format!("package intentgate.policy\ndecision := {{\"allow\": true}} if {{ x := {name}(1) }}\n");
            let d = invalid(&src);
            assert!(
                d.iter().any(|d| d.message.contains(name) && d.line == 2),
                "{name}: {d:?}"
            );
        }
        // Names that only look alike are not refused.
        policy("package intentgate.policy\nmy_time := {\"now_ns\": 1}\ndecision := {\"allow\": my_time.now_ns == 1}\n");
    }

    #[test]
    fn forbidden_builtins_fail_at_run_time_too() {
        // The backstop: loaded straight into the engine (no scan), the calls still fail.
        let mut engine = new_engine(DEFAULT_TIME_LIMIT).unwrap();
        engine
            .add_policy(
                "p.rego".into(),
                "package t\nx := time.now_ns()\ny := rand.intn(\"a\", 10)\n".into(),
            )
            .unwrap();
        for rule in ["data.t.x", "data.t.y"] {
            let err = engine.eval_rule(rule.into()).unwrap_err();
            assert!(format!("{err:#}").contains("is not allowed"), "{err:#}");
        }
    }

    #[test]
    fn size_limits() {
        let big = format!(
            "package intentgate.policy\ndecision := {{\"allow\": false}}\n{}",
            "# padding\n".repeat(MAX_POLICY_BYTES / 10)
        );
        assert!(matches!(prepare(&big), Err(PolicyError::TooLarge { .. })));
        // In all, across files.
        let half = format!(
            "package intentgate.policy\n{}",
            "# padding\n".repeat(MAX_POLICY_BYTES / 20 + 10)
        );
        let two = PreparedPolicy::prepare(
            &[
                ("a.rego".into(), half.clone()),
                ("b.rego".into(), half + "decision := {\"allow\": false}\n"),
            ],
            DEFAULT_TIME_LIMIT,
        );
        assert!(matches!(two, Err(PolicyError::TooLarge { .. })), "{two:?}");
        let wide = format!(
            "package intentgate.policy\ndecision := {{\"allow\": false, \"reason\": \"{}\"}}\n",
            "x".repeat(MAX_COLUMNS as usize)
        );
        let d = invalid(&wide);
        assert_eq!(d[0].line, 2, "{d:?}");
        assert!(matches!(
            PreparedPolicy::prepare(&[], DEFAULT_TIME_LIMIT),
            Err(PolicyError::NoPolicy)
        ));
    }

    #[test]
    fn time_limit_blocks() {
        let slow = PreparedPolicy::prepare(
            &[("p.rego".into(), "package intentgate.policy\ndecision := {\"allow\": count([x | some x in numbers.range(1, input.n)]) > 0}\n".into())],
            Duration::from_millis(5),
        )
        .unwrap();
        let d = slow.evaluate(json!({"n": 50_000_000}));
        assert!(!d.allow);
        assert!(d.reason.contains("time limit"), "{d:?}");
    }

    #[test]
    fn sources_split_tests_and_refuse_huge_files() {
        let dir = std::env::temp_dir().join(format!("ig-policy-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("b.rego"), "package intentgate.policy\n").unwrap();
        std::fs::write(dir.join("a_test.rego"), "package t\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        std::fs::write(dir.join("sub/c.rego"), "package c\n").unwrap();
        let set = SourceSet::read(&dir).unwrap();
        assert_eq!(set.policy.len(), 1);
        assert!(set.policy[0].0.ends_with("b.rego"));
        assert_eq!(set.tests.len(), 1);
        std::fs::write(dir.join("huge.rego"), vec![b'#'; MAX_POLICY_BYTES + 1]).unwrap();
        assert!(matches!(
            SourceSet::read(&dir),
            Err(PolicyError::TooLarge { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
