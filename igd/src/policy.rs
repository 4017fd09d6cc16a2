//! Rego policy (DESIGN §4.3): package `intentgate.policy`, rule `decision`. A policy is prepared
//! once (parsed, warmed up) into a [`PolicySnapshot`], published atomically, and cloned per call.
//! Every error, an undefined result or the time limit blocks the call with the reason recorded.

use regorus::utils::limits::ExecutionTimerConfig;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

/// The rule every policy must define.
pub const DECISION_RULE: &str = "data.intentgate.policy.decision";

/// Used when no policy is configured: deny everything.
pub const EMBEDDED_DEFAULT: &str = r#"package intentgate.policy

# The embedded default policy: no policy has been configured, so every call is denied.
decision := {"allow": false, "reason": "no policy is configured (the embedded default denies every call); set INTENTGATE_POLICY_FILE"}
"#;

/// The policy's answer for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDecision {
    pub allow: bool,
    pub escalate: bool,
    pub reason: String,
    pub requires_step_up: bool,
}

impl PolicyDecision {
    fn block(reason: impl Into<String>) -> Self {
        PolicyDecision {
            allow: false,
            escalate: false,
            reason: reason.into(),
            requires_step_up: false,
        }
    }
}

/// A prepared policy revision.
#[derive(Clone)]
pub struct PolicySnapshot {
    pub revision: String,
    pub origin: String,
    engine: regorus::Engine,
}

impl std::fmt::Debug for PolicySnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySnapshot")
            .field("revision", &self.revision)
            .field("origin", &self.origin)
            .finish()
    }
}

/// A sample input used to warm the engine up before it is published.
fn warmup_input() -> Value {
    json!({
        "method": "tools/call", "tool": "warmup", "args": {}, "tenant": "warmup",
        "agent": {"subject": "warmup", "delegated_subject": null, "jti": "", "root_jti": "", "chain": [],
                  "depth": 0, "calls_today": 0, "calls_today_for_tool": 0, "calls_this_hour": 0},
        "capability": {"tools": [], "max_calls": 0, "remaining_calls": 0, "expires_at": ""},
        "intent": null,
        "request": {"time": "1970-01-01T00:00:00Z", "remote_addr": "127.0.0.1", "protocol_version": "2025-11-25"}
    })
}

impl PolicySnapshot {
    /// Prepare a policy from sources `(name, text)`. Fails if it does not parse or its decision
    /// rule errors on a warm-up input.
    pub fn prepare(
        sources: &[(String, String)],
        origin: &str,
        timeout: Duration,
    ) -> Result<Self, String> {
        let mut engine = regorus::Engine::new();
        let mut hasher = Sha256::new();
        for (name, text) in sources {
            engine
                .add_policy(name.clone(), text.clone())
                .map_err(|e| format!("{name}: {e}"))?;
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            hasher.update([0]);
        }
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: timeout,
            check_interval: NonZeroU32::new(16).unwrap_or(NonZeroU32::MIN),
        });
        let revision = format!("sha256:{}", hex::encode(hasher.finalize()));
        // Warm-up evaluation on the engine that will be cloned per call: it prepares regorus'
        // internal structures (regorus issue #721) and proves the decision rule evaluates.
        engine.set_input(regorus::Value::from(warmup_input()));
        match engine.eval_rule(DECISION_RULE.to_string()) {
            Ok(regorus::Value::Undefined) => {
                tracing::warn!(origin, "policy decision is undefined for the warm-up input");
            }
            Ok(_) => {}
            Err(e) => return Err(format!("evaluating {DECISION_RULE}: {e}")),
        }
        Ok(PolicySnapshot {
            revision,
            origin: origin.to_string(),
            engine,
        })
    }

    /// The embedded deny-all policy.
    pub fn embedded(timeout: Duration) -> Self {
        match Self::prepare(
            &[("default.rego".into(), EMBEDDED_DEFAULT.into())],
            "embedded default",
            timeout,
        ) {
            Ok(s) => s,
            Err(e) => unreachable!("the embedded policy is valid: {e}"),
        }
    }

    /// Load a policy file (or every `.rego` file of a directory, tests excluded).
    pub fn load_path(path: &Path, timeout: Duration) -> Result<Self, String> {
        let mut sources = Vec::new();
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "rego")
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().ends_with("_test.rego"))
                })
                .collect();
            entries.sort();
            for p in entries {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                sources.push((p.display().to_string(), text));
            }
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            sources.push((path.display().to_string(), text));
        }
        if sources.is_empty() {
            return Err(format!("{} holds no .rego files", path.display()));
        }
        Self::prepare(&sources, &path.display().to_string(), timeout)
    }

    /// Evaluate the decision for one input. Never fails: every problem blocks.
    pub fn evaluate(&self, input: Value) -> PolicyDecision {
        let mut engine = self.engine.clone();
        engine.set_input(regorus::Value::from(input));
        let value = match engine.eval_rule(DECISION_RULE.to_string()) {
            Ok(v) => v,
            Err(e) => return PolicyDecision::block(format!("policy evaluation failed: {e}")),
        };
        if value == regorus::Value::Undefined {
            return PolicyDecision::block("policy decision is undefined");
        }
        let out = match serde_json::to_value(&value) {
            Ok(v) => v,
            Err(e) => return PolicyDecision::block(format!("policy output is not JSON: {e}")),
        };
        let Some(obj) = out.as_object() else {
            return PolicyDecision::block("policy decision is not an object");
        };
        let reason = obj
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
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
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                    return PolicyDecision::block(e)
                }
            };
        if !obj.contains_key("allow") {
            return PolicyDecision::block("policy decision has no \"allow\"");
        }
        PolicyDecision {
            allow: allow && !escalate,
            escalate,
            reason: if reason.is_empty() {
                if allow {
                    "allowed by policy".into()
                } else {
                    "denied by policy".into()
                }
            } else {
                reason
            },
            requires_step_up: step_up,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(src: &str) -> PolicySnapshot {
        PolicySnapshot::prepare(
            &[("p.rego".into(), src.into())],
            "test",
            Duration::from_millis(50),
        )
        .unwrap()
    }

    #[test]
    fn embedded_default_denies() {
        let d = PolicySnapshot::embedded(Duration::from_millis(50)).evaluate(warmup_input());
        assert!(!d.allow);
        assert!(d.reason.contains("no policy"));
    }

    #[test]
    fn allow_escalate_and_errors() {
        let p = snap("package intentgate.policy\ndecision := {\"allow\": input.tool == \"read\", \"reason\": \"r\"}\n");
        let mut input = warmup_input();
        input["tool"] = json!("read");
        assert!(p.evaluate(input.clone()).allow);
        input["tool"] = json!("write");
        assert!(!p.evaluate(input.clone()).allow);

        let esc = snap("package intentgate.policy\ndecision := {\"allow\": true, \"escalate\": true, \"reason\": \"ask\"}\n");
        let d = esc.evaluate(input.clone());
        assert!(!d.allow && d.escalate);

        let undefined = snap("package intentgate.policy\ndecision := {\"allow\": true} if { input.tool == \"never\" }\n");
        assert!(undefined
            .evaluate(input.clone())
            .reason
            .contains("undefined"));

        // A complete rule with two values is an evaluation error → block.
        let conflict = snap("package intentgate.policy\ndecision := {\"allow\": true} if { input.tool == \"write\" }\ndecision := {\"allow\": false} if { input.tool == \"write\" }\n");
        let d = conflict.evaluate(input.clone());
        assert!(!d.allow, "{d:?}");

        let not_bool = snap("package intentgate.policy\ndecision := {\"allow\": \"yes\"}\n");
        assert!(!not_bool.evaluate(input).allow);
    }

    #[test]
    fn bad_policy_is_refused_at_prepare() {
        assert!(PolicySnapshot::prepare(
            &[("p.rego".into(), "package x\nthis is not rego".into())],
            "t",
            Duration::from_millis(50)
        )
        .is_err());
    }
}
