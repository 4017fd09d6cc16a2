//! `policy …`: Rego policies. `check`, `test` and `eval` run here, offline, with the policy
//! implementation igd uses (`intentgate_proto::policy`): what passes here loads and decides
//! the same way in the gateway; the daemon is never asked. The policy store's commands (draft,
//! dry-run, diff, promote, rollback, active) talk to igd through [`super::policy_store`].

use super::policy_store::{self, PolicyRef};
use super::{emit, wants_json};
use crate::cli::{Cli, PolicyCommand, PolicyDraftCommand, PolicyEvalArgs, PolicyWindowArgs};
use crate::error::CliError;
use crate::output::fields;
use intentgate_proto::api::ErrorCode;
use intentgate_proto::policy::{
    Diagnostic, PolicyError, PreparedPolicy, SourceSet, TestOutcome, TestResult, TestSuite,
    DEFAULT_TIME_LIMIT,
};
use serde::Serialize;
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub async fn run(cli: &Cli, command: &PolicyCommand) -> Result<(), CliError> {
    let json = wants_json(cli);
    match command {
        PolicyCommand::Check { files } => check(json, files),
        PolicyCommand::Test { dirs } => test(json, dirs),
        PolicyCommand::Eval(args) => eval(json, args),
        PolicyCommand::Draft { command } => match command {
            PolicyDraftCommand::Create { name, files } => {
                policy_store::draft_create(cli, name.as_deref(), files).await
            }
            PolicyDraftCommand::List => policy_store::draft_list(cli).await,
            PolicyDraftCommand::Show { id } => policy_store::draft_show(cli, id).await,
            PolicyDraftCommand::Delete { id } => policy_store::draft_delete(cli, id).await,
        },
        PolicyCommand::DryRun { candidate, window } => {
            policy_store::dry_run(cli, PolicyRef::parse(candidate), &window_of(window)).await
        }
        PolicyCommand::Diff { a, b, window } => {
            let (a, b) = (PolicyRef::parse(a), PolicyRef::parse(b));
            policy_store::diff(cli, a, b, &window_of(window)).await
        }
        PolicyCommand::Promote { draft_id, totp } => {
            policy_store::promote(cli, draft_id, totp.clone()).await
        }
        PolicyCommand::Rollback { totp } => policy_store::rollback(cli, totp.clone()).await,
        PolicyCommand::Active { clear, totp } => {
            policy_store::active(cli, *clear, totp.clone()).await
        }
    }
}

fn window_of(w: &PolicyWindowArgs) -> policy_store::Window {
    policy_store::Window {
        from: w.from.clone(),
        to: w.to.clone(),
        samples: Some(w.samples),
    }
}

fn invalid(message: impl Into<String>) -> CliError {
    CliError::new(ErrorCode::InvalidRequest, message)
}

// ------------------------------------------------------------------------------------------
// Which policies the command line names

/// One policy named on the command line: a directory holding `.rego` files, or the files
/// named together.
struct Named {
    /// The directory, or the files joined with `, `.
    label: String,
    sources: Result<SourceSet, PolicyError>,
}

/// Directories are searched recursively (hidden ones and symbolic links skipped): each one
/// holding `.rego` files is a policy. The files named form one more.
fn named_policies(paths: &[PathBuf]) -> Result<Vec<Named>, CliError> {
    let mut named = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut dirs = Vec::new();
            policy_dirs(path, &mut dirs)?;
            if dirs.is_empty() {
                return Err(invalid(format!("no .rego files under {}", path.display())));
            }
            named.extend(dirs.into_iter().map(|dir| Named {
                label: dir.display().to_string(),
                sources: SourceSet::read(&dir),
            }));
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(invalid(format!(
                "{}: no such file or directory",
                path.display()
            )));
        }
    }
    if !files.is_empty() {
        named.push(Named {
            label: files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            sources: SourceSet::read_all(&files),
        });
    }
    Ok(named)
}

fn policy_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)
        .map_err(|e| invalid(format!("cannot read {}: {e}", dir.display())))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    let holds_rego = entries.iter().any(|e| {
        e.file_type().is_ok_and(|t| t.is_file())
            && e.path().extension().is_some_and(|x| x == "rego")
    });
    if holds_rego {
        out.push(dir.to_path_buf());
    }
    for e in entries {
        let hidden = e.file_name().to_string_lossy().starts_with('.');
        if !hidden && e.file_type().is_ok_and(|t| t.is_dir()) {
            policy_dirs(&e.path(), out)?;
        }
    }
    Ok(())
}

/// A policy and its tests, loaded; or every problem found.
fn load(
    sources: Result<SourceSet, PolicyError>,
) -> Result<(PreparedPolicy, TestSuite), Vec<Diagnostic>> {
    let sources = sources.map_err(|e| e.diagnostics())?;
    let policy = PreparedPolicy::prepare(&sources.policy, DEFAULT_TIME_LIMIT)
        .map_err(|e| e.diagnostics())?;
    let suite = TestSuite::load(&policy, &sources.tests).map_err(|e| e.diagnostics())?;
    Ok((policy, suite))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

// ------------------------------------------------------------------------------------------
// check

#[derive(Serialize)]
struct CheckReport {
    path: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<String>,
    files: Vec<String>,
    tests: usize,
    problems: Vec<Diagnostic>,
}

fn check(json: bool, paths: &[PathBuf]) -> Result<(), CliError> {
    let mut reports = Vec::new();
    for named in named_policies(paths)? {
        let files: Vec<String> = match &named.sources {
            Ok(s) => s
                .policy
                .iter()
                .chain(&s.tests)
                .map(|(n, _)| n.clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        let report = match load(named.sources) {
            Ok((policy, suite)) => CheckReport {
                path: named.label,
                ok: true,
                revision: Some(policy.revision().to_string()),
                files,
                tests: suite.cases().len(),
                problems: Vec::new(),
            },
            Err(problems) => CheckReport {
                path: named.label,
                ok: false,
                revision: None,
                files,
                tests: 0,
                problems,
            },
        };
        reports.push(report);
    }
    emit(json, &json!({ "policies": reports }), || {
        let mut out = String::new();
        for r in &reports {
            if r.ok {
                out.push_str(&format!(
                    "OK    {} ({}, {}; revision {})\n",
                    r.path,
                    plural(r.files.len(), "file", "files"),
                    plural(r.tests, "test", "tests"),
                    r.revision.as_deref().unwrap_or("-"),
                ));
            } else {
                for p in &r.problems {
                    out.push_str(&format!("{p}\n"));
                }
                out.push_str(&format!(
                    "FAIL  {} ({})\n",
                    r.path,
                    plural(r.problems.len(), "problem", "problems")
                ));
            }
        }
        out
    });
    let failed = reports.iter().filter(|r| !r.ok).count();
    if failed > 0 {
        return Err(invalid(format!(
            "policy check failed: {} of {} policies have problems",
            failed,
            reports.len()
        )));
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// test

#[derive(Serialize)]
struct TestReport {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<String>,
    /// Why the policy or its tests did not load (then nothing ran).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<Diagnostic>,
    tests: Vec<TestResult>,
}

#[derive(Serialize, Default)]
struct Summary {
    total: usize,
    pass: usize,
    fail: usize,
    error: usize,
    skip: usize,
    /// Policies that did not load.
    not_loaded: usize,
}

fn test(json: bool, paths: &[PathBuf]) -> Result<(), CliError> {
    let mut reports = Vec::new();
    let mut summary = Summary::default();
    for named in named_policies(paths)? {
        let report = match load(named.sources) {
            Ok((policy, suite)) => TestReport {
                path: named.label,
                revision: Some(policy.revision().to_string()),
                problems: Vec::new(),
                tests: suite.run(),
            },
            Err(problems) => {
                summary.not_loaded += 1;
                TestReport {
                    path: named.label,
                    revision: None,
                    problems,
                    tests: Vec::new(),
                }
            }
        };
        for t in &report.tests {
            summary.total += 1;
            match t.outcome {
                TestOutcome::Pass => summary.pass += 1,
                TestOutcome::Fail { .. } => summary.fail += 1,
                TestOutcome::Error { .. } => summary.error += 1,
                TestOutcome::Skip => summary.skip += 1,
            }
        }
        reports.push(report);
    }
    emit(
        json,
        &json!({ "policies": reports, "summary": summary }),
        || human_test_report(&reports, &summary),
    );
    if summary.fail + summary.error + summary.not_loaded > 0 {
        let mut what = Vec::new();
        if summary.fail + summary.error > 0 {
            what.push(format!(
                "{} of {} failed",
                summary.fail + summary.error,
                plural(summary.total, "test", "tests")
            ));
        }
        if summary.not_loaded > 0 {
            what.push(format!(
                "{} did not load",
                plural(summary.not_loaded, "policy", "policies")
            ));
        }
        return Err(invalid(format!("policy tests failed: {}", what.join(", "))));
    }
    if summary.total == 0 {
        return Err(invalid(
            "no tests found (rules named test_* in the policies or their *_test.rego files)",
        ));
    }
    Ok(())
}

fn human_test_report(reports: &[TestReport], summary: &Summary) -> String {
    let mut out = String::new();
    for r in reports {
        match &r.revision {
            Some(revision) => out.push_str(&format!("{} (revision {revision})\n", r.path)),
            None => {
                out.push_str(&format!("{}\n", r.path));
                for p in &r.problems {
                    out.push_str(&format!("  {p}\n"));
                }
                out.push_str("  ERROR the policy or its tests did not load; no test ran\n");
            }
        }
        if r.revision.is_some() && r.tests.is_empty() {
            out.push_str("  (no tests)\n");
        }
        for t in &r.tests {
            let took = duration_text(t.duration);
            let line = match &t.outcome {
                TestOutcome::Pass => format!("  PASS  {} ({took})\n", t.case.name),
                TestOutcome::Fail { got } => {
                    format!("  FAIL  {} ({took}): got {got}\n", t.case.name)
                }
                TestOutcome::Error { message } => {
                    format!("  ERROR {} ({took}): {message}\n", t.case.name)
                }
                TestOutcome::Skip => format!("  SKIP  {}\n", t.case.name),
            };
            out.push_str(&line);
        }
    }
    out.push_str(&"-".repeat(72));
    out.push('\n');
    let mut counts = vec![format!("PASS: {}/{}", summary.pass, summary.total)];
    for (label, n) in [
        ("FAIL", summary.fail),
        ("ERROR", summary.error),
        ("SKIP", summary.skip),
    ] {
        if n > 0 {
            counts.push(format!("{label}: {n}/{}", summary.total));
        }
    }
    if summary.not_loaded > 0 {
        counts.push(format!(
            "{} did not load",
            plural(summary.not_loaded, "policy", "policies")
        ));
    }
    out.push_str(&counts.join("  "));
    out.push('\n');
    out
}

fn duration_text(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{}µs", d.as_micros())
    } else {
        format!("{:.2}ms", d.as_secs_f64() * 1000.0)
    }
}

// ------------------------------------------------------------------------------------------
// eval

fn eval(json: bool, args: &PolicyEvalArgs) -> Result<(), CliError> {
    let input = read_input(&args.input)?;
    let sources = SourceSet::read_all(&args.files).map_err(|e| invalid(e.to_string()))?;
    let time_limit = Duration::from_millis(args.timeout_ms.max(1));
    let policy = PreparedPolicy::prepare(&sources.policy, time_limit).map_err(|e| {
        let problems: Vec<String> = e.diagnostics().iter().map(|d| d.to_string()).collect();
        invalid(format!("the policy does not load: {}", problems.join("; ")))
    })?;
    let evaluation = policy.evaluate_verbose(input);
    let d = &evaluation.decision;
    let verdict = d.verdict().as_str();
    let answer = json!({
        "verdict": verdict,
        "allow": d.allow,
        "escalate": d.escalate,
        "requires_step_up": d.requires_step_up,
        "reason": d.reason,
        "revision": policy.revision(),
        "output": evaluation.output,
    });
    emit(json, &answer, || {
        fields(&[
            ("verdict", verdict.to_string()),
            ("reason", d.reason.clone()),
            ("requires_step_up", d.requires_step_up.to_string()),
            ("revision", policy.revision().to_string()),
            (
                "output",
                evaluation
                    .output
                    .as_ref()
                    .map_or("undefined".into(), Value::to_string),
            ),
        ])
    });
    Ok(())
}

/// `--input`: JSON text, `@FILE`, or `-` for standard input.
fn read_input(arg: &str) -> Result<Value, CliError> {
    let (text, from) = if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::usage(format!("cannot read the input from stdin: {e}")))?;
        (text, "standard input".to_string())
    } else if let Some(path) = arg.strip_prefix('@') {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read the input {path}: {e}")))?;
        (text, path.to_string())
    } else {
        (arg.to_string(), "--input".to_string())
    };
    serde_json::from_str(&text).map_err(|e| CliError::usage(format!("{from} is not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration_text(Duration::from_micros(250)), "250µs");
        assert_eq!(duration_text(Duration::from_micros(1500)), "1.50ms");
    }

    #[test]
    fn input_forms() {
        assert_eq!(read_input(r#"{"tool":"x"}"#).unwrap(), json!({"tool": "x"}));
        let err = read_input("{nope").unwrap_err();
        assert_eq!(err.code, ErrorCode::Usage);
        assert!(
            err.message.starts_with("--input is not JSON"),
            "{}",
            err.message
        );
        assert_eq!(
            read_input("@/nonexistent/x.json").unwrap_err().code,
            ErrorCode::Usage
        );
    }
}
