//! The policy lifecycle as an operator drives it with igctl: drafts that must compile and pass
//! their tests, promote, rollback and clear with the precedence store > file > embedded, a
//! promotion under load that no call sees half-done, dry-run and diff over recorded decisions,
//! and a promotion reaching the other replica on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use intentgate_tests::pg::TestDb;
use intentgate_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The policy file: echo allowed.
const FILE_POLICY: &str = "package intentgate.policy\n\ndecision := {\"allow\": input.tool == \"echo\", \"reason\": \"file allows echo\"}\n";

/// Blocks echo, allows other-tool; with a test that passes.
const BLOCKING: &str = "package intentgate.policy\n\ndefault decision := {\"allow\": false, \"reason\": \"blocked by the draft\"}\n\ndecision := {\"allow\": true, \"reason\": \"draft allows other\"} if {\n\tinput.tool == \"other\"\n}\n";
const BLOCKING_TEST: &str = "package intentgate.policy_test\n\nimport data.intentgate.policy\n\ntest_echo_blocked if {\n\tnot policy.decision.allow with input as {\"tool\": \"echo\"}\n}\n\ntest_other_allowed if {\n\tpolicy.decision.allow with input as {\"tool\": \"other\"}\n}\n";

/// Allows echo with its own reason.
const ALLOWING: &str = "package intentgate.policy\n\ndecision := {\"allow\": input.tool == \"echo\", \"reason\": \"draft allows echo\"}\n";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn start(dir: &Path, extra: &[(&str, &str)]) -> Igd {
    let file = write(dir, "file/p.rego", FILE_POLICY);
    let mut env = vec![
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", file.as_str()),
        ("INTENTGATE_AUDIT_PERSIST_ARG_VALUES", "raw"),
    ];
    env.extend_from_slice(extra);
    Igd::start(&env)
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn ok_json(igd: &Igd, args: &[&str]) -> Value {
    let mut full = args.to_vec();
    full.extend(["-o", "json"]);
    // Promote, rollback and clear are step-up gated: a fresh TOTP code goes with them.
    let out = igd.igctl_auto(&full);
    assert!(
        out.status.success(),
        "igctl {args:?} failed: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out)
}

fn err_json(igd: &Igd, args: &[&str], code: i32) -> Value {
    let mut full = args.to_vec();
    full.extend(["-o", "json"]);
    // Promote, rollback and clear are step-up gated: a fresh TOTP code goes with them.
    let out = igd.igctl_auto(&full);
    assert_eq!(
        out.status.code(),
        Some(code),
        "igctl {args:?}: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out)
}

/// The reason a call was refused with, or "allowed".
fn verdict(igd: &Igd, token: &str, tool: &str) -> String {
    let v = call_tool(igd.addr, token, tool, json!({"message": "hi"}))
        .unwrap()
        .json();
    match v.get("error") {
        Some(e) => e["data"]["reason"].as_str().unwrap_or("?").to_string(),
        None => "allowed".to_string(),
    }
}

/// Decision entries of a tenant: (decision, policy_revision, reason).
fn decisions(igd: &Igd, tenant: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec!["audit", "list", "--tenant", tenant, "--limit", "1000"];
        if let Some(c) = &cursor {
            args.extend(["--cursor", c.as_str()]);
        }
        let v = ok_json(igd, &args);
        out.extend(
            v["entries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "decision")
                .map(|e| {
                    (
                        e["decision"].as_str().unwrap_or("").to_string(),
                        e["policy_revision"].as_str().unwrap_or("").to_string(),
                        e["reason"].as_str().unwrap_or("").to_string(),
                    )
                }),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[test]
fn drafts_promote_rollback_and_clear_follow_the_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let igd = start(dir.path(), &[]);
    let (token, _) = igd.mint("acme", "bot", "echo,other", 1000);

    let active = ok_json(&igd, &["policy", "active"]);
    assert_eq!(active["layer"], "file");
    let file_rev = active["revision"].as_str().unwrap().to_string();
    assert_eq!(verdict(&igd, &token, "echo"), "allowed");

    // A draft is a policy module and its tests; it compiles and its tests pass, or it is refused.
    write(dir.path(), "blocking/policy.rego", BLOCKING);
    write(dir.path(), "blocking/policy_test.rego", BLOCKING_TEST);
    let d = ok_json(
        &igd,
        &[
            "policy",
            "draft",
            "create",
            "--name",
            "blocking",
            dir.path().join("blocking").to_str().unwrap(),
        ],
    );
    let blocking_id = d["id"].as_str().unwrap().to_string();
    let blocking_rev = d["revision"].as_str().unwrap().to_string();
    assert_eq!(d["author"], format!("uid:{}", unsafe_uid()));
    assert_eq!(d["tests_passed"].as_array().unwrap().len(), 2, "{d}");
    assert!(blocking_rev.starts_with("sha256:") && blocking_rev != file_rev);

    let broken = write(
        dir.path(),
        "broken/policy.rego",
        "package intentgate.policy\n\ndecision := {\"allow\": true\n",
    );
    let e = err_json(&igd, &["policy", "draft", "create", &broken], 1);
    assert_eq!(e["error"]["code"], "invalid_request", "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("does not compile") && msg.contains(":4:"),
        "{msg}"
    );

    write(dir.path(), "failing/policy.rego", ALLOWING);
    write(dir.path(), "failing/policy_test.rego", BLOCKING_TEST);
    let e = err_json(
        &igd,
        &[
            "policy",
            "draft",
            "create",
            dir.path().join("failing").to_str().unwrap(),
        ],
        1,
    );
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("tests do not pass") && msg.contains("test_echo_blocked"),
        "{msg}"
    );

    let no_entry = write(
        dir.path(),
        "noentry/policy.rego",
        "package intentgate.policy\n\nallow := true\n",
    );
    err_json(&igd, &["policy", "draft", "create", &no_entry], 1);

    let list = ok_json(&igd, &["policy", "draft", "list"]);
    assert_eq!(list["drafts"].as_array().unwrap().len(), 1, "{list}");
    let shown = ok_json(&igd, &["policy", "draft", "show", &blocking_id]);
    assert_eq!(shown["source"], BLOCKING);
    assert_eq!(shown["tests"].as_array().unwrap().len(), 1);

    // Nothing promoted yet: nothing to roll back to.
    let e = err_json(&igd, &["policy", "rollback"], 1);
    assert_eq!(e["error"]["code"], "conflict");

    // Promote: the store decides, at once.
    let a = ok_json(&igd, &["policy", "promote", &blocking_id]);
    assert_eq!(a["layer"], "store");
    assert_eq!(a["revision"], blocking_rev.as_str());
    assert_eq!(verdict(&igd, &token, "echo"), "blocked by the draft");
    assert_eq!(verdict(&igd, &token, "other"), "allowed");

    // A second draft, promoted over the first; rollback returns to the first, then to the file.
    let allowing = write(dir.path(), "allowing/policy.rego", ALLOWING);
    let d2 = ok_json(&igd, &["policy", "draft", "create", &allowing]);
    let allowing_id = d2["id"].as_str().unwrap().to_string();
    ok_json(&igd, &["policy", "promote", &allowing_id]);
    assert_eq!(verdict(&igd, &token, "other"), "draft allows echo");
    // Deleting the active draft changes nothing: the history keeps its own copy.
    ok_json(&igd, &["policy", "draft", "delete", &allowing_id]);
    assert_eq!(verdict(&igd, &token, "echo"), "allowed");
    let back = ok_json(&igd, &["policy", "rollback"]);
    assert_eq!(back["revision"], blocking_rev.as_str());
    assert_eq!(verdict(&igd, &token, "echo"), "blocked by the draft");
    let back = ok_json(&igd, &["policy", "rollback"]);
    assert_eq!(back["layer"], "file");
    assert_eq!(back["revision"], file_rev.as_str());
    assert_eq!(verdict(&igd, &token, "echo"), "allowed");
    err_json(&igd, &["policy", "rollback"], 1);

    // Clear: back to the file from a promoted draft.
    ok_json(&igd, &["policy", "promote", &blocking_id]);
    let cleared = ok_json(&igd, &["policy", "active", "--clear"]);
    assert_eq!(cleared["layer"], "file");
    assert_eq!(verdict(&igd, &token, "echo"), "allowed");
    let history = cleared["history"].as_array().unwrap();
    let actions: Vec<&str> = history
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["clear", "promote", "rollback", "rollback", "promote", "promote"]
    );

    // Every decision records the revision that made it, and agrees with it.
    let allowing_rev = d2["revision"].as_str().unwrap();
    for (_, revision, reason) in decisions(&igd, "acme") {
        let expected: &[&str] = if revision == file_rev {
            &["file allows echo", "allowed by policy"]
        } else if revision == blocking_rev {
            &["blocked by the draft", "draft allows other"]
        } else {
            assert_eq!(revision, allowing_rev);
            &["draft allows echo"]
        };
        assert!(expected.contains(&reason.as_str()), "{revision} {reason}");
    }

    // Each change is chained in _system by the operator who made it.
    let sys = ok_json(
        &igd,
        &["audit", "list", "--tenant", "_system", "--limit", "1000"],
    );
    let acts: Vec<String> = sys["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str().map(String::from))
        .filter(|a| a.starts_with("policy-"))
        .collect();
    assert!(acts.contains(&"policy-promote".to_string()), "{acts:?}");
    assert!(acts.contains(&"policy-rollback".to_string()));
    assert!(acts.contains(&"policy-clear".to_string()));
    assert!(acts.contains(&"policy-draft-create".to_string()));
    assert!(acts.contains(&"policy-draft-delete".to_string()));
    assert_eq!(igd.igctl(&["audit", "verify"]).status.code(), Some(0));
}

/// Store the blocking policy as a draft and promote it.
fn promote_blocking(igd: &Igd, dir: &Path) {
    let blocking = write(dir, "b.rego", BLOCKING);
    let id = ok_json(igd, &["policy", "draft", "create", &blocking])["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok_json(igd, &["policy", "promote", &id]);
}

/// The uid igctl runs as (an admin of the igd it started).
fn unsafe_uid() -> u32 {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn the_store_survives_a_restart_and_sighup_only_reloads_the_layer_below() {
    let dir = tempfile::tempdir().unwrap();
    let mut igd = start(dir.path(), &[]);
    let (token, _) = igd.mint("acme", "bot", "echo,other", 1000);
    promote_blocking(&igd, dir.path());
    igd.kill_and_restart();
    assert_eq!(ok_json(&igd, &["policy", "active"])["layer"], "store");
    assert_eq!(verdict(&igd, &token, "echo"), "blocked by the draft");

    // A new policy file and SIGHUP: the store still decides.
    write(
        dir.path(),
        "file/p.rego",
        &FILE_POLICY.replace("file allows echo", "new file allows echo"),
    );
    igd.hup();
    igd.wait_for_log("policy file reloaded");
    assert_eq!(verdict(&igd, &token, "echo"), "blocked by the draft");
    // Cleared: the reloaded file decides.
    ok_json(&igd, &["policy", "active", "--clear"]);
    assert_eq!(verdict(&igd, &token, "echo"), "allowed");
    let d = decisions(&igd, "acme");
    assert_eq!(d.last().unwrap().2, "new file allows echo", "{d:?}");
}

#[test]
fn only_admins_manage_policies_and_the_store_can_be_off() {
    let dir = tempfile::tempdir().unwrap();
    let tenant_token = "t".repeat(40);
    let admins = format!("acme:{tenant_token}");
    let igd = start(dir.path(), &[("INTENTGATE_TENANT_ADMINS", admins.as_str())]);
    let url = format!("http://{}", igd.addr);
    let blocking = write(dir.path(), "b.rego", BLOCKING);
    for args in [
        vec!["policy", "draft", "create", blocking.as_str()],
        vec!["policy", "draft", "list"],
        vec!["policy", "rollback"],
        vec!["policy", "promote", "d-0011223344556677"],
        vec!["policy", "dry-run", blocking.as_str()],
    ] {
        let mut full: Vec<String> = vec![
            "--url".into(),
            url.clone(),
            "--token".into(),
            tenant_token.clone(),
        ];
        full.extend(args.iter().map(|s| s.to_string()));
        full.extend(["-o".into(), "json".into()]);
        let out = igctl(&full, &[]);
        assert_eq!(
            out.status.code(),
            Some(4),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(json_of(&out)["error"]["code"], "forbidden");
    }
    // What is in force can be read by a tenant admin.
    let out = igctl(
        &[
            "--url".into(),
            url.clone(),
            "--token".into(),
            tenant_token.clone(),
            "policy".into(),
            "active".into(),
            "-o".into(),
            "json".into(),
        ],
        &[],
    );
    assert!(out.status.success());
    // Refused for the role before the body is even read.
    let r = http(
        igd.addr,
        "POST",
        "/v1/admin/policies/drafts",
        &[("Authorization", &format!("Bearer {tenant_token}"))],
        b"{}",
    )
    .unwrap();
    assert_eq!(r.status, 403, "{}", r.text());
    drop(igd);

    let off = start(
        tempfile::tempdir().unwrap().path(),
        &[("INTENTGATE_POLICY_STORE", "off")],
    );
    let e = err_json(&off, &["policy", "draft", "list"], 1);
    assert_eq!(e["error"]["code"], "conflict");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("INTENTGATE_POLICY_STORE=off"));
    let active = ok_json(&off, &["policy", "active"]);
    assert_eq!(active["store_enabled"], false);
    // Dry-run of inline source still works with the store off.
    ok_json(&off, &["policy", "dry-run", blocking.as_str()]);

    let out = std::process::Command::new(igd_bin())
        .arg("check-config")
        .env_clear()
        .env("INTENTGATE_POLICY_STORE", "redis")
        .env("INTENTGATE_DATA_DIR", dir.path().join("d2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("INTENTGATE_POLICY_STORE"));
}

/// Calls from 4 clients while a draft is promoted: every decision was made by exactly the old
/// or the new revision (as recorded in audit), and none failed.
#[test]
fn a_promotion_under_load_is_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let igd = start(dir.path(), &[]);
    let (token, _) = igd.mint("acme", "bot", "echo,other", 100_000);
    let file_rev = ok_json(&igd, &["policy", "active"])["revision"]
        .as_str()
        .unwrap()
        .to_string();
    let blocking = write(dir.path(), "b.rego", BLOCKING);
    let d = ok_json(&igd, &["policy", "draft", "create", &blocking]);
    let (id, new_rev) = (
        d["id"].as_str().unwrap().to_string(),
        d["revision"].as_str().unwrap().to_string(),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let addr = igd.addr;
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, token) = (stop.clone(), token.clone());
            std::thread::spawn(move || {
                let mut seen: BTreeMap<String, u64> = BTreeMap::new();
                for _ in 0..2000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let v = call_tool(addr, &token, "echo", json!({})).unwrap().json();
                    let key = match v.get("error") {
                        None => "allowed".to_string(),
                        Some(e) => format!(
                            "{} {}",
                            e["code"],
                            e["data"]["reason"].as_str().unwrap_or("")
                        ),
                    };
                    *seen.entry(key).or_default() += 1;
                }
                seen
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    ok_json(&igd, &["policy", "promote", &id]);
    std::thread::sleep(Duration::from_millis(700));
    stop.store(true, Ordering::Relaxed);
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for c in clients {
        for (k, n) in c.join().unwrap() {
            *seen.entry(k).or_default() += n;
        }
    }
    eprintln!("answers: {seen:?}");
    // Only the two policies' answers: no −31005, no transport failure.
    let keys: Vec<&String> = seen.keys().collect();
    assert_eq!(keys, ["-31002 blocked by the draft", "allowed"], "{seen:?}");
    let d = decisions(&igd, "acme");
    assert_eq!(d.len() as u64, seen.values().sum::<u64>());
    for (decision, revision, _) in &d {
        assert!(revision == &file_rev || revision == &new_rev, "{revision}");
        assert_eq!(
            decision == "allow",
            revision == &file_rev,
            "{decision} {revision}"
        );
    }
    // The promotion landed mid-load: both revisions decided calls. (Their order in the chain
    // is not asserted: a call that took the old policy may commit after one that took the new.)
    assert!(d.iter().any(|x| x.1 == file_rev) && d.iter().any(|x| x.1 == new_rev));
}

#[test]
fn dry_run_and_diff_over_recorded_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let igd = start(dir.path(), &[]);
    let (token, _) = igd.mint("acme", "bot", "echo,other", 1000);
    for _ in 0..5 {
        assert_eq!(verdict(&igd, &token, "echo"), "allowed");
    }
    for _ in 0..3 {
        assert_eq!(verdict(&igd, &token, "other"), "file allows echo");
    }
    // Refused at capability: never reached the policy, not replayed.
    assert!(verdict(&igd, &token, "outside").contains("outside"));

    let blocking = write(dir.path(), "b.rego", BLOCKING);
    let r = ok_json(&igd, &["policy", "dry-run", &blocking, "--samples", "4"]);
    assert_eq!(r["decisions"], 8, "{r}");
    assert_eq!(r["skipped"], 1, "{r}");
    assert_eq!(r["transitions"]["allow->block"], 5);
    assert_eq!(r["transitions"]["block->allow"], 3);
    assert_eq!(r["transitions"]["allow->allow"], 0);
    assert_eq!(r["would_allow"], 3);
    assert_eq!(r["would_block"], 5);
    assert_eq!(r["samples"].as_array().unwrap().len(), 4);
    assert_eq!(r["samples"][0]["tool"], "echo");

    assert_eq!(r["errors"], 0);
    // A candidate that cannot decide (a complete rule with two values for echo) is not taken
    // for a stricter one: its failures are counted apart.
    let broken = write(
        dir.path(),
        "broken.rego",
        "package intentgate.policy\n\ndecision := {\"allow\": true, \"reason\": \"x\"} if input.tool != \"nothing\"\n\ndecision := {\"allow\": false, \"reason\": \"y\"} if input.tool == \"echo\"\n",
    );
    let rb = ok_json(&igd, &["policy", "dry-run", &broken]);
    assert_eq!(rb["errors"], 5, "{rb}");
    assert_eq!(rb["transitions"]["allow->block"], 5, "{rb}");
    let text =
        String::from_utf8_lossy(&igd.igctl(&["policy", "dry-run", &broken]).stdout).to_string();
    assert!(text.contains("gave no decision for 5 call(s)"), "{text}");

    // A stored draft by id, and a window that ends before the calls: nothing to replay.
    let id = ok_json(&igd, &["policy", "draft", "create", &blocking])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r2 = ok_json(&igd, &["policy", "dry-run", &id]);
    assert_eq!(r2["transitions"], r["transitions"]);
    let r3 = ok_json(
        &igd,
        &[
            "policy",
            "dry-run",
            &id,
            "--to",
            "2020-01-01T00:00:00Z",
            "--from",
            "2019-12-31T00:00:00Z",
        ],
    );
    assert_eq!(r3["decisions"], 0);

    // The table for people.
    let out = igd.igctl(&["policy", "dry-run", &blocking]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("BEFORE") && text.contains("ESCALATE") && text.contains("allow →"),
        "{text}"
    );

    // diff: the source lines, and B against A on the same inputs.
    let allowing = write(dir.path(), "a.rego", ALLOWING);
    let out = igd.igctl(&["policy", "diff", &allowing, &blocking, "-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    let lines: Vec<&str> = v["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("+default decision")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("-decision := {\"allow\": input.tool == \"echo\"")),
        "{lines:?}"
    );
    assert_eq!(v["dry_run"]["transitions"]["allow->block"], 5);
    assert_eq!(v["dry_run"]["transitions"]["block->allow"], 3);
    assert!(v["dry_run"]["baseline_revision"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
}

/// A promotion on one replica reaches the other (the bound is 1 s; printed, not asserted).
#[test]
fn a_promotion_reaches_the_other_replica() {
    let db = TestDb::create_blocking();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "p.rego", FILE_POLICY);
    let key = dir.path().join("audit.pem");
    write_audit_key(&key);
    let master = "4b".repeat(32);
    let env = [
        ("INTENTGATE_POSTGRES_URL", db.url.as_str()),
        ("INTENTGATE_MASTER_KEY", master.as_str()),
        ("INTENTGATE_AUDIT_SIGNING_KEY", key.to_str().unwrap()),
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", file.as_str()),
    ];
    let a = Igd::start(&env);
    let b = Igd::start(&env);
    let (token, _) = a.mint("acme", "bot", "echo,other", 1000);
    assert_eq!(verdict(&b, &token, "echo"), "allowed");
    let blocking = write(dir.path(), "b.rego", BLOCKING);
    let d = ok_json(&a, &["policy", "draft", "create", &blocking]);
    // The draft is visible on the other replica too.
    assert_eq!(
        ok_json(&b, &["policy", "draft", "list"])["drafts"][0]["id"],
        d["id"]
    );
    let promoted = Instant::now();
    ok_json(&a, &["policy", "promote", d["id"].as_str().unwrap()]);
    loop {
        if ok_json(&b, &["policy", "active"])["revision"] == d["revision"] {
            break;
        }
        assert!(
            promoted.elapsed() < Duration::from_secs(10),
            "replica b never followed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "replica b followed the promotion after {:?}",
        promoted.elapsed()
    );
    assert_eq!(verdict(&b, &token, "echo"), "blocked by the draft");
    ok_json(&a, &["policy", "rollback"]);
    loop {
        if ok_json(&b, &["policy", "active"])["layer"] == "file" {
            break;
        }
        assert!(
            promoted.elapsed() < Duration::from_secs(20),
            "replica b never followed the rollback"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(verdict(&b, &token, "echo"), "allowed");
}

/// A store policy edited in the database behind igd's back no longer hashes to its recorded
/// revision: igd denies every call (never falling back to the file) and says why, until an
/// operator rolls back; the edited text never decides.
#[test]
fn a_store_policy_edited_in_the_database_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut igd = start(dir.path(), &[]);
    let (token, _) = igd.mint("acme", "bot", "echo,other", 1000);
    promote_blocking(&igd, dir.path());
    igd.kill();
    // Someone with write access to the database makes the promoted policy allow everything.
    let db = igd.data_dir.join("igd.db");
    let edited =
        "package intentgate.policy\n\ndecision := {\"allow\": true, \"reason\": \"edited\"}\n";
    sqlite3(
        &db,
        &format!(
            "UPDATE policy_history SET source = '{}' WHERE seq = 1;",
            edited.replace('\'', "''")
        ),
    );
    igd.kill_and_restart();
    let active = ok_json(&igd, &["policy", "active"]);
    assert_eq!(active["layer"], "embedded", "{active}");
    assert!(
        active["error"]
            .as_str()
            .unwrap()
            .contains("changed outside igd"),
        "{active}"
    );
    // Neither the edited text nor the policy file decides: every call is denied.
    let reason = verdict(&igd, &token, "other");
    assert!(
        reason.contains("active policy cannot be loaded"),
        "{reason}"
    );
    assert_eq!(verdict(&igd, &token, "echo"), reason);
    // An operator's rollback (to before the first promotion) repairs it: the file decides.
    let back = ok_json(&igd, &["policy", "rollback"]);
    assert_eq!(back["layer"], "file", "{back}");
    assert_eq!(verdict(&igd, &token, "echo"), "allowed");
}
