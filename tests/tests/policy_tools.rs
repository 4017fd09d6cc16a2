//! The offline policy toolchain through the real igctl binary: `policy test` on the committed
//! examples (and on a copy broken on purpose), `policy check` locating syntax errors and
//! refusing unsafe builtins, `policy eval` answering like igd would.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::{igctl, igctl_bin, workspace};
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    igctl(&args, &[("NO_COLOR", "1")])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn policies() -> String {
    workspace().join("policies").display().to_string()
}

#[test]
fn the_example_policies_pass_their_tests() {
    let out = run(&["policy", "test", &policies()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for name in ["baseline", "tenant", "arguments"] {
        let dir = workspace().join("policies").join(name);
        assert!(
            stdout.contains(&format!("{} (revision sha256:", dir.display())),
            "{name} not tested:\n{stdout}"
        );
    }
    for test in [
        // One per example, and per path: allow, block, escalate.
        "test_read_invoice_is_allowed",
        "test_email_over_quota_is_escalated_with_step_up",
        "test_other_tools_are_denied_with_their_name",
        "test_same_tool_differs_by_tenant",
        "test_globex_email_needs_approval",
        "test_delete_from_users_is_blocked",
        "test_external_recipient_is_blocked",
        "test_domain_is_compared_without_case",
        "test_destructive_tools_are_escalated_with_step_up",
    ] {
        let line = format!("  PASS  data.intentgate.policy_test.{test} (");
        assert!(stdout.contains(&line), "no {line:?} in:\n{stdout}");
    }
    let passed = stdout.lines().filter(|l| l.starts_with("  PASS  ")).count();
    assert!(passed >= 40, "{passed} tests passed:\n{stdout}");
    assert!(
        !stdout.contains("FAIL") && !stdout.contains("ERROR"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("PASS: {passed}/{passed}\n")),
        "{stdout}"
    );

    let json = run(&["-o", "json", "policy", "test", &policies()]);
    assert_eq!(json.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["summary"]["pass"], passed);
    assert_eq!(report["summary"]["fail"], 0);
    assert_eq!(report["policies"].as_array().unwrap().len(), 4, "{report}");
}

#[test]
fn a_broken_policy_fails_its_tests() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("policies");
    copy_dir(&workspace().join("policies"), &copy);
    // The operator "simplifies" the baseline: read_invoice is no longer allowed.
    let baseline = copy.join("baseline/baseline.rego");
    let source = std::fs::read_to_string(&baseline).unwrap();
    let broken = source.replace(
        r#"read_tools := {"read_invoice"}"#,
        r#"read_tools := {"read_invoices"}"#,
    );
    assert_ne!(source, broken);
    std::fs::write(&baseline, broken).unwrap();

    let out = run(&["policy", "test", &copy.display().to_string()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("  FAIL  data.intentgate.policy_test.test_read_invoice_is_allowed ("),
        "{stdout}"
    );
    // The other policies still ran and passed.
    assert!(
        stdout.contains("  PASS  data.intentgate.policy_test.test_delete_from_users_is_blocked ("),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("policy tests failed: "),
        "{}",
        text(&out.stderr)
    );

    // A policy that no longer compiles is reported with its location, and fails the run.
    std::fs::write(
        copy.join("tenant/tenant.rego"),
        "package intentgate.policy\n\ndecision := {\"allow\": true\n",
    )
    .unwrap();
    let out = run(&["policy", "test", &copy.display().to_string()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let tenant = copy.join("tenant/tenant.rego");
    assert!(
        stdout.contains(&format!("  {}:", tenant.display())),
        "{stdout}"
    );
    assert!(stdout.contains("did not load"), "{stdout}");
}

#[test]
fn check_locates_syntax_errors_and_refuses_unsafe_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.rego");
    std::fs::write(
        &bad,
        "package intentgate.policy\n\ndecision := {\"allow\": true\n\tfoo bar\n",
    )
    .unwrap();
    let out = run(&["policy", "check", &bad.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("{}:4:5: ", bad.display())),
        "{stdout}"
    );

    for (call, line, column) in [
        ("time.now_ns()", 4, 10),
        (
            "http.send({\"method\": \"get\", \"url\": \"https://example.com\"})",
            4,
            10,
        ),
    ] {
        let unsafe_policy = dir.path().join("unsafe.rego");
        std::fs::write(
            &unsafe_policy,
            format!(
                "package intentgate.policy\n\ndecision := {{\"allow\": true, \"x\": x}} if {{\n\tx := {call}\n}}\n"
            ),
        )
        .unwrap();
        let out = run(&[
            "-o",
            "json",
            "policy",
            "check",
            &unsafe_policy.display().to_string(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{call}");
        let stdout = text(&out.stdout);
        let report: serde_json::Value =
            serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
        let problem = &report["policies"][0]["problems"][0];
        assert_eq!(
            problem["file"],
            unsafe_policy.display().to_string(),
            "{report}"
        );
        assert_eq!(
            (problem["line"].as_u64(), problem["column"].as_u64()),
            (Some(line), Some(column)),
            "{report}"
        );
        let name = call.split('(').next().unwrap();
        assert!(
            problem["message"]
                .as_str()
                .unwrap()
                .contains(&format!("call to {name} is not allowed")),
            "{report}"
        );
        // --output json errors too: the envelope follows the report.
        let envelope: serde_json::Value =
            serde_json::from_str(stdout.lines().nth(1).unwrap()).unwrap();
        assert_eq!(envelope["error"]["code"], "invalid_request");
    }

    let out = run(&["policy", "check", &policies()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("OK    ")).count(),
        4,
        "{stdout}"
    );
}

#[test]
fn eval_prints_the_decision() {
    let baseline = workspace().join("policies/baseline").display().to_string();
    let input = |tool: &str, sent: u64| {
        serde_json::json!({
            "tool": tool, "args": {}, "tenant": "acme",
            "agent": {"subject": "a", "calls_today_for_tool": sent},
            "request": {"time": "2026-11-25T10:00:00Z"}
        })
        .to_string()
    };

    let out = run(&[
        "-o",
        "json",
        "policy",
        "eval",
        &baseline,
        "--input",
        &input("send_email_internal", 20),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["verdict"], "escalate");
    assert_eq!(answer["allow"], false);
    assert_eq!(answer["requires_step_up"], true);
    assert!(answer["revision"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(answer["output"]["escalate"], true);

    // A deny is an answer, not an error; input from a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.json");
    std::fs::write(&file, input("delete_records", 0)).unwrap();
    let out = run(&[
        "policy",
        "eval",
        &baseline,
        "--input",
        &format!("@{}", file.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("verdict:          block\n"), "{stdout}");
    assert!(
        stdout.contains("reason:           delete_records is not allowed by the baseline policy\n"),
        "{stdout}"
    );

    // Input from standard input.
    let mut child = std::process::Command::new(igctl_bin())
        .args(["-o", "json", "policy", "eval", &baseline, "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input("read_invoice", 0).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["verdict"], "allow", "{answer}");

    // An input that is not JSON is a usage error.
    let out = run(&["policy", "eval", &baseline, "--input", "{not json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--input is not JSON"),
        "{}",
        text(&out.stderr)
    );
}
