//! The audit log as an auditor uses it: export (CSV/NDJSON, formula escaping, cap and
//! continuation), agents, tamper detection by verify.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};

const POLICY: &str = "package intentgate.policy\n\ndecision := {\"allow\": input.tool == \"echo\", \"reason\": \"echo only\"}\n";

fn start(extra: &[(&str, &str)]) -> (Igd, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.rego");
    std::fs::write(&p, POLICY).unwrap();
    let mut env = vec![
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", p.to_str().unwrap()),
    ];
    env.extend_from_slice(extra);
    let igd = Igd::start(&env);
    (igd, dir)
}

fn call(igd: &Igd, token: &str, tool: &str, message: &str) -> Value {
    call_tool(igd.addr, token, tool, json!({"message": message}))
        .unwrap()
        .json()
}

#[test]
fn export_csv_escapes_formulas_and_continues_after_the_cap() {
    let (igd, _dir) = start(&[
        ("INTENTGATE_AUDIT_PERSIST_ARG_VALUES", "raw"),
        ("INTENTGATE_AUDIT_EXPORT_MAX_ROWS", "4"),
    ]);
    let (token, _) = igd.mint("acme", "agent-x", "echo,other", 50);
    // An agent controls the tool name: a refused "=HYPERLINK(…)" lands in the tool column.
    assert_eq!(
        call(&igd, &token, "=HYPERLINK(1)", "x")["error"]["code"],
        -31001
    );
    assert_eq!(call(&igd, &token, "other", "+1")["error"]["code"], -31002);
    assert!(call(&igd, &token, "echo", "plain, with comma")["result"].is_object());
    std::thread::sleep(std::time::Duration::from_millis(100));

    let out = igd.igctl_auto(&["audit", "export", "--tenant", "acme"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("v,tenant,seq,kind,event_id,ref_event_id,ts,instance,subject"));
    assert!(lines[0].ends_with("prev_hash,hash,args"));
    assert_eq!(
        lines.len(),
        1 + 4 + 1,
        "header, 4 rows (cap), truncated row: {text}"
    );
    assert!(
        text.contains(",'=HYPERLINK(1),"),
        "formula neutralized: {text}"
    );
    assert!(!text.contains(",=HYPERLINK"));
    assert!(
        text.contains(r#""{""message"":""plain, with comma""}""#),
        "quoted JSON cell: {text}"
    );
    let last = lines.last().unwrap();
    assert!(
        last.contains(",truncated,") && last.contains("from_seq=5"),
        "{last}"
    );

    // Continue where the cap stopped, as NDJSON.
    let out = igd.igctl_auto(&[
        "audit",
        "export",
        "--tenant",
        "acme",
        "--format",
        "ndjson",
        "--from-seq",
        "5",
    ]);
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["seq"], 5);
    assert_eq!(rows[0]["kind"], "outcome");
    assert!(rows.iter().all(|r| r["kind"] != "truncated"), "{rows:?}");

    // Raw export is scoped: a tenant admin could not read another tenant (checked in
    // foundation tests); here an unknown format is refused.
    let out = igd.igctl_auto(&[
        "-o", "json", "audit", "export", "--tenant", "acme", "--format", "xml",
    ]);
    assert_eq!(out.status.code(), Some(2));

    let agents = igd.igctl_auto(&["agents", "-o", "json"]);
    let v: Value = serde_json::from_slice(&agents.stdout).unwrap();
    assert_eq!(v["agents"][0]["subject"], "agent-x");
    assert_eq!(v["agents"][0]["calls"], 3);
    assert_eq!(v["agents"][0]["refused"], 2);
}

#[test]
fn verify_detects_an_edited_entry_and_exits_3() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-y", "echo", 50);
    for i in 0..5 {
        assert!(call(&igd, &token, "echo", &format!("m{i}"))["result"].is_object());
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(igd.igctl_auto(&["audit", "verify"]).status.code(), Some(0));
    igd.kill();
    // Someone with write access to the database edits a decision's reason.
    let db = igd.data_dir.join("igd.db");
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE audit_log SET reason = 'nothing to see' WHERE tenant = 'acme' AND seq = 4 AND reason = 'echo only'; SELECT changes();")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1",
        "the edit hit a row"
    );
    igd.kill_and_restart();
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines = String::from_utf8(out.stdout).unwrap();
    let report: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    let report = report["tenants"][0].clone();
    assert_eq!(report["broken_at"]["seq"], 4, "{report}");
    assert!(report["broken_at"]["reason"]
        .as_str()
        .unwrap()
        .contains("edited"));
}

fn sqlite(db: &std::path::Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn verify_report(igd: &Igd) -> (Option<i32>, Value) {
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme", "-o", "json"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(text.lines().next().unwrap_or("null")).unwrap();
    let report = if v["tenants"].is_array() {
        v["tenants"][0].clone()
    } else {
        v
    };
    (out.status.code(), report)
}

/// Wait (bounded) until `cond` holds; panics with `what` and the last state otherwise.
fn wait_until(what: &str, mut cond: impl FnMut() -> Result<(), String>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match cond() {
            Ok(()) => return,
            Err(state) if std::time::Instant::now() >= deadline => {
                panic!("{what} did not happen in 20 s: {state}")
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
}

/// Wait until igd logs `needle`.
fn wait_for_log(igd: &Igd, needle: &str) {
    wait_until(&format!("the log line {needle:?}"), || {
        let logs = igd.logs();
        if logs.contains(needle) {
            Ok(())
        } else {
            Err(logs)
        }
    });
}

/// Wait until igd's newest checkpoint of `tenant` covers its head (igd's own verdict).
fn wait_checkpointed(igd: &Igd, tenant: &str) {
    wait_until(&format!("a checkpoint of {tenant}'s head"), || {
        let out = igd.igctl_auto(&[
            "audit", "verify", "--server", "--tenant", tenant, "-o", "json",
        ]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let r = &v["tenants"][0];
        if r["checkpoint"]["verified"] == true && r["unanchored"] == 0 {
            Ok(())
        } else {
            Err(v.to_string())
        }
    });
}

fn anchored(igd: &Igd, token: &str, calls: usize) {
    for i in 0..calls {
        assert!(call(igd, token, "echo", &format!("m{i}"))["result"].is_object());
    }
    // Checkpoints are signed about once a second.
    let mut last = Value::Null;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme", "-o", "json"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let v: Value =
            serde_json::from_str(text.lines().next().unwrap_or("null")).unwrap_or(Value::Null);
        let r = if v["tenants"].is_array() {
            v["tenants"][0].clone()
        } else {
            v
        };
        if r["checkpoint"]["verified"] == true && r["unanchored"] == 0 {
            return;
        }
        last = json!({"report": r, "stdout": text, "stderr": String::from_utf8_lossy(&out.stderr)});
    }
    panic!("the head was never checkpointed: {last}");
}

#[test]
fn checkpoints_catch_truncation_rollback_and_recomputed_chains() {
    // An operator-provided key from openssl-compatible PEM (igctl gen-key --audit).
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("audit.pem");
    let pem = igctl(&["gen-key".into(), "--audit".into()], &[]);
    std::fs::write(&key, &pem.stdout).unwrap();
    let (mut igd, _dir) = start(&[("INTENTGATE_AUDIT_SIGNING_KEY", key.to_str().unwrap())]);
    let (token, _) = igd.mint("acme", "agent-c", "echo", 100);
    anchored(&igd, &token, 4);
    let (code, r) = verify_report(&igd);
    assert_eq!(code, Some(0), "{r}");
    let size = r["checkpoint"]["size"].as_u64().unwrap();
    assert!(size >= 9, "{r}");

    // The note is served, signed by the announced key.
    let cps = igd.igctl_auto(&["audit", "list", "--tenant", "_system", "-o", "json"]);
    let v: Value = serde_json::from_slice(&cps.stdout).unwrap();
    assert_eq!(v["entries"][0]["kind"], "checkpoint-key", "{v}");
    let raw = http(igd.addr, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(raw.status, 200);

    // Truncation / rollback: drop the newest entries (as a restored backup would).
    let db = igd.data_dir.join("igd.db");
    igd.kill();
    let backup = sqlite(
        &db,
        &format!(
            "SELECT seq, hex(hash) FROM audit_log WHERE tenant = 'acme' AND seq >= {} ORDER BY seq",
            size - 1
        ),
    );
    sqlite(
        &db,
        &format!(
            "DELETE FROM audit_log WHERE tenant = 'acme' AND seq >= {}",
            size - 1
        ),
    );
    igd.kill_and_restart();
    let (code, r) = verify_report(&igd);
    assert_eq!(code, Some(3), "{r}");
    assert!(
        r["broken_at"]["reason"]
            .as_str()
            .unwrap()
            .contains("truncated or rolled back"),
        "{r}"
    );
    // The signer refuses to re-anchor the regressed chain.
    let _ = call(&igd, &token, "echo", "after-restore");
    wait_for_log(&igd, "refusing to sign");
    let _ = backup;

    // Recomputed suffix: rewrite an old entry and recompute every hash after it with the public
    // hash function — internally consistent, but not what was signed.
    let (mut igd2, _dir2) = start(&[]);
    let (token2, _) = igd2.mint("acme", "agent-r", "echo", 100);
    anchored(&igd2, &token2, 3);
    let db2 = igd2.data_dir.join("igd.db");
    let export = igd2.igctl_auto(&["audit", "export", "--tenant", "acme", "--format", "ndjson"]);
    assert!(export.status.success());
    igd2.kill();
    let mut entries: Vec<intentgate_proto::audit::Entry> = String::from_utf8(export.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    entries[1].reason = Some("rewritten history".into());
    let mut sql = String::from("BEGIN;");
    for i in 1..entries.len() {
        let (prev_seq, prev_hash) = (entries[i - 1].seq, entries[i - 1].hash.clone());
        entries[i].seal(prev_seq, &prev_hash);
        let reason = entries[i].reason.as_ref().map_or("NULL".to_string(), |r| {
            format!("'{}'", r.replace('\'', "''"))
        });
        sql.push_str(&format!("UPDATE audit_log SET reason = {reason}, hash = x'{}', prev_hash = x'{}' WHERE tenant = 'acme' AND seq = {};", entries[i].hash, entries[i].prev_hash, entries[i].seq));
    }
    sql.push_str("COMMIT;");
    sqlite(&db2, &sql);
    igd2.kill_and_restart();
    let (code, r) = verify_report(&igd2);
    assert_eq!(code, Some(3), "{r}");
    assert!(
        r["broken_at"]["reason"]
            .as_str()
            .unwrap()
            .contains("recomputed or rewritten"),
        "{r}"
    );
}

#[test]
fn local_verify_pins_keys_and_checkpoints() {
    let (mut igd, dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-p", "echo", 100);
    anchored(&igd, &token, 3);
    let pin = dir.path().join("pins.json");
    let pin_arg = pin.to_str().unwrap();
    // First run pins the key (trust on first use) and the newest checkpoint.
    let out = igd.igctl_auto(&[
        "audit", "verify", "--tenant", "acme", "--pin", pin_arg, "-o", "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["trust"].as_str().unwrap().contains("first use"));
    assert!(std::fs::read_to_string(&pin)
        .unwrap()
        .contains("intentgate/"));
    // A key that did not sign the checkpoints: unverifiable (6).
    let other = dir.path().join("other.pub");
    std::fs::write(
        &other,
        "intentgate/zz+00000000+AXt0x0Rv1uYoJ2V+S0h3Y2V0S2tLZjU0cjFWcFhXMWxKUUZ4NnM=\n",
    )
    .unwrap();
    let out = igd.igctl_auto(&[
        "audit",
        "verify",
        "--tenant",
        "acme",
        "--pubkey",
        other.to_str().unwrap(),
    ]);
    assert!(
        matches!(out.status.code(), Some(6)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // New, not yet anchored entries: fine, unless --require-anchor.
    assert!(call(&igd, &token, "echo", "tail")["result"].is_object());
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme", "--require-anchor"]);
    if out.status.code() != Some(0) {
        assert_eq!(out.status.code(), Some(6), "{:?}", code_and_text(&out));
    }
    anchored(&igd, &token, 1);
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme", "--pin", pin_arg]);
    assert_eq!(out.status.code(), Some(0));
    // Root on the host rolls the database back AND deletes the newer checkpoints: the pinned
    // checkpoint that left the host still catches it.
    let db = igd.data_dir.join("igd.db");
    igd.kill();
    sqlite(&db, "DELETE FROM audit_log WHERE tenant = 'acme' AND seq > 3; DELETE FROM checkpoints WHERE tenant = 'acme' AND size > 3;");
    let _ = std::fs::remove_file(igd.data_dir.join("audit-signing.state"));
    igd.kill_and_restart();
    let out = igd.igctl_auto(&[
        "audit", "verify", "--tenant", "acme", "--pin", pin_arg, "-o", "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let first = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert!(
        v["tenants"][0]["broken_at"]["reason"]
            .as_str()
            .unwrap()
            .contains("truncated or rolled back"),
        "{v}"
    );
}

#[test]
fn evidence_pack_reverifies_offline_and_any_byte_change_fails() {
    let (igd, dir) = start(&[("INTENTGATE_AUDIT_EXPORT_MAX_ROWS", "7")]);
    let (token, _) = igd.mint("acme", "agent-e", "echo", 100);
    anchored(&igd, &token, 6);
    // Pin the key (trust on first use) and keep it as the auditor's out-of-band copy.
    assert_eq!(
        igd.igctl_auto(&["audit", "verify", "--tenant", "acme"])
            .status
            .code(),
        Some(0)
    );
    let pinned = igd
        .data_dir
        .with_file_name("igctl-config")
        .join("intentgate/audit-keys");
    let pubkey = dir.path().join("audit.pub");
    std::fs::copy(&pinned, &pubkey).unwrap();
    let pack = dir.path().join("pack.tar.gz");
    let out = igd.igctl_auto(&[
        "audit",
        "evidence",
        "--tenant",
        "acme",
        "--out",
        pack.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["entries"].as_u64().unwrap() > 7,
        "paginated past the export cap: {v}"
    );
    drop(igd);

    // Offline: no daemon runs any more.
    let verify = |p: &std::path::Path| {
        igctl(
            &[
                "audit".into(),
                "verify-pack".into(),
                p.display().to_string(),
                "--pubkey".into(),
                pubkey.display().to_string(),
            ],
            &[],
        )
    };
    let ok = verify(&pack);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );

    // Unpack, change one byte of one file, repack: verify-pack must fail every time.
    let work = dir.path().join("unpacked");
    std::fs::create_dir_all(&work).unwrap();
    assert!(std::process::Command::new("tar")
        .arg("xzf")
        .arg(&pack)
        .arg("-C")
        .arg(&work)
        .status()
        .unwrap()
        .success());
    let names = [
        "entries.ndjson",
        "checkpoints.json",
        "public-keys.txt",
        "verify-report.json",
        "CONTROLS.md",
        "manifest.json",
    ];
    let mut tried = 0;
    for name in names {
        let path = work.join(name);
        let original = std::fs::read(&path).unwrap();
        let positions: Vec<usize> = (0..12)
            .map(|k| k * original.len() / 12)
            .chain([original.len() - 1])
            .collect();
        for pos in positions {
            let mut changed = original.clone();
            changed[pos] = if changed[pos] == b'0' { b'1' } else { b'0' };
            std::fs::write(&path, &changed).unwrap();
            let repacked = dir.path().join("changed.tar.gz");
            assert!(std::process::Command::new("tar")
                .arg("czf")
                .arg(&repacked)
                .arg("-C")
                .arg(&work)
                .args(names)
                .status()
                .unwrap()
                .success());
            let r = verify(&repacked);
            assert_ne!(
                r.status.code(),
                Some(0),
                "a changed byte at {pos} of {name} went unnoticed"
            );
            tried += 1;
        }
        std::fs::write(&path, &original).unwrap();
    }
    assert!(tried >= 70);
    // Evidence is never trusted on first use: --pubkey is required.
    let r = igctl(
        &[
            "audit".into(),
            "verify-pack".into(),
            pack.display().to_string(),
        ],
        &[],
    );
    assert_eq!(r.status.code(), Some(2));
}

#[test]
fn erase_removes_stored_arguments_and_verification_still_passes() {
    let (igd, _dir) = start(&[("INTENTGATE_AUDIT_PERSIST_ARG_VALUES", "raw")]);
    let (token, _) = igd.mint("acme", "data-subject", "echo", 100);
    assert!(call(&igd, &token, "echo", "alice@example.com")["result"].is_object());
    std::thread::sleep(std::time::Duration::from_millis(50));
    let list = |igd: &Igd| -> Value {
        serde_json::from_slice(
            &igd.igctl_auto(&[
                "audit",
                "list",
                "--tenant",
                "acme",
                "--decision",
                "allow",
                "-o",
                "json",
            ])
            .stdout,
        )
        .unwrap()
    };
    assert_eq!(
        list(&igd)["entries"][0]["args"]["message"],
        "alice@example.com"
    );
    let out = igd.igctl_auto(&[
        "audit",
        "erase",
        "--tenant",
        "acme",
        "--subject",
        "data-subject",
        "--before",
        "2999-01-01T00:00:00Z",
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["erased"], 1);
    let after = list(&igd);
    assert!(after["entries"][0]["args"].is_null(), "{after}");
    assert!(after["entries"][0]["args_commitment"].is_string());
    let export = String::from_utf8(
        igd.igctl_auto(&["audit", "export", "--tenant", "acme"])
            .stdout,
    )
    .unwrap();
    assert!(!export.contains("alice@example.com"));
    assert!(
        export.contains(",erase,acme/data-subject before"),
        "the erasure is chained: {export}"
    );
    assert_eq!(
        igd.igctl_auto(&["audit", "verify", "--tenant", "acme"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn prune_and_rebaseline_write_markers_and_verification_continues() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-m", "echo", 100);
    anchored(&igd, &token, 4);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let cut_time = time_now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    anchored(&igd, &token, 3);
    // Retention: cut everything before cut_time.
    let out = igd.igctl_auto(&[
        "audit",
        "prune",
        "--tenant",
        "acme",
        "--before",
        &cut_time,
        "--reason",
        "retention 90 days",
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["deleted"].as_u64().unwrap() >= 9, "{v}");
    anchored(&igd, &token, 1);
    let (code, r) = verify_report(&igd);
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["markers"][0]["action"], "prune", "{r}");
    assert_eq!(r["markers"][0]["cut_seq"], v["cut_seq"]);
    // Deleting more of the prefix than the marker says is caught.
    let db = igd.data_dir.join("igd.db");
    igd.kill();
    sqlite(
        &db,
        &format!(
            "DELETE FROM audit_log WHERE tenant = 'acme' AND seq = {}",
            v["cut_seq"].as_u64().unwrap() + 1
        ),
    );
    igd.kill_and_restart();
    let (code, r) = verify_report(&igd);
    assert_eq!(code, Some(3), "{r}");

    // Re-baseline after a restore: the signer anchors the restored chain again.
    let (mut igd2, _dir2) = start(&[]);
    let (token2, _) = igd2.mint("acme", "agent-n", "echo", 100);
    anchored(&igd2, &token2, 3);
    let db2 = igd2.data_dir.join("igd.db");
    igd2.kill();
    // "Restore" an older copy: the last entries and checkpoints are gone.
    sqlite(&db2, "DELETE FROM audit_log WHERE tenant = 'acme' AND seq > 4; DELETE FROM checkpoints WHERE tenant = 'acme' AND size > 4;");
    igd2.kill_and_restart();
    let _ = call(&igd2, &token2, "echo", "after restore");
    wait_for_log(&igd2, "refusing to sign");
    let out = igd2.igctl_auto(&[
        "audit",
        "rebaseline",
        "--tenant",
        "acme",
        "--reason",
        "restored from backup",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    anchored(&igd2, &token2, 1);
    let (code, r) = verify_report(&igd2);
    assert_eq!(code, Some(0), "{r}");
    assert!(
        r["markers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["action"] == "rebaseline"),
        "{r}"
    );
}

fn time_now() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%S.%6NZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn rotated_key_is_trusted_only_through_a_covered_announcement() {
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("audit.pem");
    write_audit_key(&key);
    let (mut igd, _dir) = start(&[("INTENTGATE_AUDIT_SIGNING_KEY", key.to_str().unwrap())]);
    let (token, _) = igd.mint("acme", "agent-k", "echo", 100);
    anchored(&igd, &token, 2); // pins the first key (trust on first use)

    // Planned rotation: announce the next key while the current one signs, let a checkpoint of
    // _system cover the announcement, then install the new key.
    let out = igd.igctl_auto(&["gen-key", "--audit", "--announce"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let next_pem = out.stdout;
    wait_checkpointed(&igd, "_system");
    std::fs::write(&key, &next_pem).unwrap();
    igd.kill_and_restart();
    anchored(&igd, &token, 2);
    let (code, r) = verify_report(&igd);
    assert_eq!(
        code,
        Some(0),
        "the announced key is trusted through the old key's checkpoint: {r}"
    );

    // An unannounced key is not trusted: it vouches only for itself.
    write_audit_key(&key);
    igd.kill_and_restart();
    let _ = call(&igd, &token, "echo", "x");
    wait_checkpointed(&igd, "acme");
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme"]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SQL that inserts `e` as a chain row (what someone with write access to the database can do);
/// the fields forged entries carry here (markers, key announcements).
fn insert_row(e: &intentgate_proto::audit::Entry) -> String {
    let text = |v: &Option<String>| {
        v.as_ref().map_or("NULL".to_string(), |t| {
            format!("'{}'", t.replace('\'', "''"))
        })
    };
    let blob = |v: &str| format!("x'{v}'");
    format!(
        "INSERT INTO audit_log (tenant, seq, v, kind, event_id, ts, instance, actor, action, target, reason, cut_seq, cut_hash, prev_hash, hash) VALUES ('{}', {}, {}, '{}', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {});",
        e.tenant,
        e.seq,
        e.v,
        e.kind,
        blob(&e.event_id),
        e.ts,
        blob(&e.instance),
        text(&e.actor),
        text(&e.action),
        text(&e.target),
        text(&e.reason),
        e.cut_seq.map_or("NULL".to_string(), |c| c.to_string()),
        e.cut_hash.as_deref().map_or("NULL".to_string(), blob),
        blob(&e.prev_hash),
        blob(&e.hash)
    )
}

/// A tenant's chain as exported (read while igd runs).
fn entries_of(igd: &Igd, tenant: &str) -> Vec<intentgate_proto::audit::Entry> {
    let out = igd.igctl_auto(&["audit", "export", "--tenant", tenant, "--format", "ndjson"]);
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("args");
            serde_json::from_value(v).unwrap()
        })
        .collect()
}

/// A deployment's log name (from a stored acme checkpoint) and a key that is not its own:
/// what someone who can write the database but holds no trusted key signs with.
fn forger_of(
    db: &std::path::Path,
) -> (
    String,
    ed25519_dalek::SigningKey,
    intentgate_proto::checkpoint::VerifierKey,
) {
    let note = sqlite(
        db,
        "SELECT note FROM checkpoints WHERE tenant = 'acme' LIMIT 1",
    );
    let name = note
        .lines()
        .next()
        .unwrap()
        .strip_suffix("/acme")
        .unwrap()
        .to_string();
    let (pem, _) = intentgate_proto::checkpoint::generate_signing_key_pem();
    let forger = intentgate_proto::checkpoint::signing_key_from_pem(&pem).unwrap();
    let key = intentgate_proto::checkpoint::VerifierKey::new(&name, forger.verifying_key());
    (name, forger, key)
}

/// SQL replacing acme's checkpoints with one of `head` signed by `forger`, ending the transaction.
fn forged_checkpoint_sql(
    name: &str,
    forger: &ed25519_dalek::SigningKey,
    head: &intentgate_proto::audit::Entry,
) -> String {
    let cp = intentgate_proto::checkpoint::Checkpoint {
        origin: format!("{name}/acme"),
        size: head.seq,
        hash: head.hash.clone(),
    };
    let note = cp.sign(name, forger).unwrap().replace('\'', "''");
    format!(
        "DELETE FROM checkpoints WHERE tenant = 'acme'; INSERT INTO checkpoints (tenant, size, hash, note, created_at) VALUES ('acme', {}, '{}', '{note}', 9000000000000000); COMMIT;",
        head.seq, head.hash
    )
}

fn code_and_text(out: &std::process::Output) -> (Option<i32>, String) {
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The repack of an unpacked evidence pack after `entries.ndjson` changed, with a manifest that
/// matches (what a forger who can write files does).
fn repack(work: &std::path::Path, out: &std::path::Path) {
    let names = [
        "entries.ndjson",
        "checkpoints.json",
        "public-keys.txt",
        "verify-report.json",
        "CONTROLS.md",
    ];
    let mut sha = serde_json::Map::new();
    for n in names {
        let bytes = std::fs::read(work.join(n)).unwrap();
        let digest = std::process::Command::new("sha256sum")
            .arg(work.join(n))
            .output()
            .unwrap();
        let hex = String::from_utf8(digest.stdout).unwrap()[..64].to_string();
        assert_eq!(hex.len(), 64, "{}", bytes.len());
        sha.insert(n.to_string(), json!(hex));
    }
    let manifest = json!({"format": "intentgate-evidence-v1", "sha256": sha});
    std::fs::write(
        work.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    assert!(std::process::Command::new("tar")
        .arg("czf")
        .arg(out)
        .arg("-C")
        .arg(work)
        .args(names)
        .arg("manifest.json")
        .status()
        .unwrap()
        .success());
}

#[test]
fn a_dropped_tail_behind_a_forged_marker_fails_every_verifier() {
    let (mut igd, dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-f", "echo", 100);
    anchored(&igd, &token, 4);
    let pin = dir.path().join("pins.json");
    let pin_arg = pin.to_str().unwrap();
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme", "--pin", pin_arg]);
    assert_eq!(out.status.code(), Some(0));
    let pubkey = dir.path().join("audit.pub");
    std::fs::copy(
        igd.data_dir
            .with_file_name("igctl-config")
            .join("intentgate/audit-keys"),
        &pubkey,
    )
    .unwrap();
    let pack = dir.path().join("pack.tar.gz");
    let out = igd.igctl_auto(&[
        "audit",
        "evidence",
        "--tenant",
        "acme",
        "--out",
        pack.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", code_and_text(&out));

    // The reported attack on a pack: drop the tail, append one hand-made marker.
    let work = dir.path().join("unpacked");
    std::fs::create_dir_all(&work).unwrap();
    assert!(std::process::Command::new("tar")
        .arg("xzf")
        .arg(&pack)
        .arg("-C")
        .arg(&work)
        .status()
        .unwrap()
        .success());
    let rows: Vec<String> = std::fs::read_to_string(work.join("entries.ndjson"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert!(rows.len() >= 9, "{}", rows.len());
    let keep = rows.len() - 3;
    let mut last: Value = serde_json::from_str(&rows[keep - 1]).unwrap();
    last.as_object_mut().unwrap().remove("args");
    let last: intentgate_proto::audit::Entry = serde_json::from_value(last).unwrap();
    let mut forged: String = rows[..keep].iter().map(|r| format!("{r}\n")).collect();
    forged.push_str(&format!(
        "{}\n",
        serde_json::to_string(&forged_marker(&last, 1_000_000)).unwrap()
    ));
    std::fs::write(work.join("entries.ndjson"), forged).unwrap();
    let forged_pack = dir.path().join("forged.tar.gz");
    repack(&work, &forged_pack);
    let out = igctl(
        &[
            "audit".into(),
            "verify-pack".into(),
            forged_pack.display().to_string(),
            "--pubkey".into(),
            pubkey.display().to_string(),
        ],
        &[],
    );
    let (code, text) = code_and_text(&out);
    assert_eq!(code, Some(3), "verify-pack: {text}");

    // The same in the database: igd's own verify and the auditor's (with and without a pin).
    let db = igd.data_dir.join("igd.db");
    let entries = entries_of(&igd, "acme");
    igd.kill();
    let keep = entries.len() - 3;
    let marker = forged_marker(&entries[keep - 1], 1_000_000);
    sqlite(
        &db,
        &format!(
            "BEGIN; DELETE FROM audit_log WHERE tenant = 'acme' AND seq > {keep}; {} COMMIT;",
            insert_row(&marker)
        ),
    );
    igd.kill_and_restart();
    for args in [
        vec!["audit", "verify", "--tenant", "acme", "--pin", pin_arg],
        vec!["audit", "verify", "--tenant", "acme"],
        vec![
            "audit",
            "verify",
            "--tenant",
            "acme",
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
        vec!["audit", "verify", "--server", "--tenant", "acme"],
    ] {
        let (code, text) = code_and_text(&igd.igctl_auto(&args));
        assert_eq!(code, Some(3), "{args:?}: {text}");
        assert!(text.contains("forged"), "{args:?}: {text}");
    }
}

#[test]
fn a_key_announced_behind_a_forged_marker_is_not_trusted() {
    let (mut igd, dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-g", "echo", 100);
    anchored(&igd, &token, 2);
    // Three planned announcements make _system long enough to forge inside its signed part
    // and still end before its newest checkpoint.
    for _ in 0..3 {
        let out = igd.igctl_auto(&["gen-key", "--audit", "--announce"]);
        assert_eq!(out.status.code(), Some(0), "{:?}", code_and_text(&out));
    }
    wait_checkpointed(&igd, "_system");
    wait_checkpointed(&igd, "acme");
    let pubkey = dir.path().join("audit.pub");
    std::fs::copy(
        igd.data_dir
            .with_file_name("igctl-config")
            .join("intentgate/audit-keys"),
        &pubkey,
    )
    .unwrap();
    let pubkey_arg = pubkey.to_str().unwrap();
    let verify = |igd: &Igd| {
        code_and_text(&igd.igctl_auto(&[
            "audit", "verify", "--tenant", "acme", "--pubkey", pubkey_arg,
        ]))
    };
    assert_eq!(verify(&igd).0, Some(0));

    // Someone who can write the database but holds no trusted key: announce their own key in
    // _system behind a marker that claims a huge cut, rewrite acme, and sign it with that key.
    let db = igd.data_dir.join("igd.db");
    let system = entries_of(&igd, "_system");
    let mut acme = entries_of(&igd, "acme");
    igd.kill();
    let (name, forger, forger_key) = forger_of(&db);
    assert!(system.len() >= 4, "{}", system.len());
    let mut announce = system[1].clone();
    announce.target = Some(forger_key.encode());
    announce.seal(system[0].seq, &system[0].hash);
    let marker = forged_marker(&announce, 1_000_000);
    let mut sql = format!(
        "BEGIN; DELETE FROM audit_log WHERE tenant = '_system' AND seq >= 2; {} {}",
        insert_row(&announce),
        insert_row(&marker)
    );
    acme[1].reason = Some("rewritten history".into());
    for i in 1..acme.len() {
        let (seq, hash) = (acme[i - 1].seq, acme[i - 1].hash.clone());
        acme[i].seal(seq, &hash);
        let reason = acme[i].reason.as_ref().map_or("NULL".to_string(), |r| {
            format!("'{}'", r.replace('\'', "''"))
        });
        sql.push_str(&format!("UPDATE audit_log SET reason = {reason}, hash = x'{}', prev_hash = x'{}' WHERE tenant = 'acme' AND seq = {};", acme[i].hash, acme[i].prev_hash, acme[i].seq));
    }
    sql.push_str(&forged_checkpoint_sql(&name, &forger, acme.last().unwrap()));
    sqlite(&db, &sql);
    igd.kill_and_restart();
    // The forged key is not trusted, so nothing vouches for the rewritten chain.
    let (code, text) = verify(&igd);
    assert_eq!(code, Some(6), "igctl audit verify: {text}");
}

#[test]
fn prune_at_or_past_the_last_checkpoint_keeps_the_signer_signing() {
    let (igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-q", "echo", 100);
    for round in 0..2 {
        anchored(&igd, &token, 3);
        let (_, r) = verify_report(&igd);
        let signed = r["checkpoint"]["size"].as_u64().unwrap();
        if round == 1 {
            // Past the last checkpoint: entries no checkpoint covers yet.
            for i in 0..3 {
                assert!(call(&igd, &token, "echo", &format!("p{i}"))["result"].is_object());
            }
        }
        let cut_time = time_now();
        let out = igd.igctl_auto(&[
            "audit",
            "prune",
            "--tenant",
            "acme",
            "--before",
            &cut_time,
            "--reason",
            "retention",
            "-o",
            "json",
        ]);
        let (code, text) = code_and_text(&out);
        assert_eq!(code, Some(0), "{text}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["cut_seq"].as_u64().unwrap() >= signed, "{v} vs {signed}");
        // More calls, and checkpoints keep being signed.
        anchored(&igd, &token, 2);
        let (code, r) = verify_report(&igd);
        assert_eq!(code, Some(0), "{r}");
        assert!(!igd.logs().contains("refusing to sign"), "{}", igd.logs());
    }
}

#[test]
fn sigterm_anchors_the_chain_to_its_last_entry() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-t", "echo", 100);
    for i in 0..20 {
        assert!(call(&igd, &token, "echo", &format!("t{i}"))["result"].is_object());
    }
    assert_eq!(igd.terminate(), Some(0));
    // Read the stopped daemon's database: the newest checkpoint is the last entry.
    let db = igd.data_dir.join("igd.db");
    let head = sqlite(&db, "SELECT max(seq) FROM audit_log WHERE tenant = 'acme'");
    let signed = sqlite(
        &db,
        "SELECT max(size) FROM checkpoints WHERE tenant = 'acme'",
    );
    assert_eq!(signed.trim(), head.trim(), "{}", igd.logs());
    igd.kill_and_restart();
    let (code, text) = code_and_text(&igd.igctl_auto(&[
        "audit",
        "verify",
        "--tenant",
        "acme",
        "--require-anchor",
    ]));
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn verify_pack_refuses_a_decompression_bomb() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("bomb");
    std::fs::create_dir_all(&work).unwrap();
    for n in [
        "checkpoints.json",
        "public-keys.txt",
        "verify-report.json",
        "CONTROLS.md",
        "manifest.json",
    ] {
        std::fs::write(work.join(n), b"{}").unwrap();
    }
    // 300 MiB of zeros: a few hundred KiB once compressed.
    let big = std::fs::File::create(work.join("entries.ndjson")).unwrap();
    big.set_len(300 << 20).unwrap();
    drop(big);
    let pack = dir.path().join("bomb.tar.gz");
    assert!(std::process::Command::new("tar")
        .arg("czf")
        .arg(&pack)
        .arg("-C")
        .arg(&work)
        .args(["entries.ndjson", "manifest.json"])
        .status()
        .unwrap()
        .success());
    std::fs::remove_file(work.join("entries.ndjson")).unwrap();
    let key = dir.path().join("k.pub");
    let (_, vk) = intentgate_proto::checkpoint::generate_signing_key_pem();
    std::fs::write(
        &key,
        intentgate_proto::checkpoint::VerifierKey::new("intentgate/x", vk).encode(),
    )
    .unwrap();
    let out = igctl(
        &[
            "audit".into(),
            "verify-pack".into(),
            pack.display().to_string(),
            "--pubkey".into(),
            key.display().to_string(),
        ],
        &[],
    );
    let (code, text) = code_and_text(&out);
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("over the limit"), "{text}");
}

/// Rewrite every acme entry after the first (a reason edited, the rest resealed) in `db` while
/// igd is stopped: what someone with write access to the database and no key can do.
fn rewrite_acme_sql(acme: &mut [intentgate_proto::audit::Entry]) -> String {
    acme[1].reason = Some("rewritten history".into());
    let mut sql = String::from("BEGIN;");
    for i in 1..acme.len() {
        let (seq, hash) = (acme[i - 1].seq, acme[i - 1].hash.clone());
        acme[i].seal(seq, &hash);
        let reason = acme[i].reason.as_ref().map_or("NULL".to_string(), |r| {
            format!("'{}'", r.replace('\'', "''"))
        });
        sql.push_str(&format!("UPDATE audit_log SET reason = {reason}, hash = x'{}', prev_hash = x'{}' WHERE tenant = 'acme' AND seq = {};", acme[i].hash, acme[i].prev_hash, acme[i].seq));
    }
    sql
}

/// Stop igd and rewrite acme as [`rewrite_acme_sql`] does, then run `extra` SQL in the same
/// transaction; returns the rewritten entries. igd stays stopped.
fn rewrite_acme_offline(igd: &mut Igd, extra: &str) -> Vec<intentgate_proto::audit::Entry> {
    let db = igd.data_dir.join("igd.db");
    let mut acme = entries_of(igd, "acme");
    igd.kill();
    let mut sql = rewrite_acme_sql(&mut acme);
    sql.push_str(extra);
    sql.push_str("COMMIT;");
    sqlite(&db, &sql);
    acme
}

/// igd's own verification (`audit verify --server`) trusts only its key and keys the rotation
/// path vouches for: a key announced by a `checkpoint-key` entry written into `_system` by hand
/// (the `_system` tail recomputed around it) does not make a rewritten chain verify.
#[test]
fn server_verify_does_not_trust_a_hand_written_key_announcement() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-s", "echo", 100);
    anchored(&igd, &token, 3);
    wait_checkpointed(&igd, "_system");
    let server_verify = |igd: &Igd| {
        let out = igd.igctl_auto(&[
            "audit", "verify", "--server", "--tenant", "acme", "-o", "json",
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let v: Value = serde_json::from_str(text.lines().next().unwrap_or("")).unwrap_or_else(
            |_| json!({"stdout": text, "stderr": String::from_utf8_lossy(&out.stderr)}),
        );
        (out.status.code(), v)
    };
    assert_eq!(server_verify(&igd).0, Some(0));

    let db = igd.data_dir.join("igd.db");
    let system = entries_of(&igd, "_system");
    let mut acme = entries_of(&igd, "acme");
    igd.kill();
    let (name, forger, forger_key) = forger_of(&db);
    // The forger's key replaces the one the first `checkpoint-key` entry announces, and the
    // rest of `_system` is resealed onto it.
    let mut system = system;
    let at = system
        .iter()
        .position(|e| e.kind == "checkpoint-key")
        .expect("a key announcement in _system");
    system[at].target = Some(forger_key.encode());
    let mut sql = rewrite_acme_sql(&mut acme);
    for i in at..system.len() {
        let (seq, hash) = match i {
            0 => (0, "0".repeat(64)),
            _ => (system[i - 1].seq, system[i - 1].hash.clone()),
        };
        system[i].seal(seq, &hash);
        sql.push_str(&format!(
            "UPDATE audit_log SET target = {}, hash = x'{}', prev_hash = x'{}' WHERE tenant = '_system' AND seq = {};",
            system[i].target.as_ref().map_or("NULL".to_string(), |t| format!("'{t}'")),
            system[i].hash,
            system[i].prev_hash,
            system[i].seq
        ));
    }
    sql.push_str(&forged_checkpoint_sql(&name, &forger, acme.last().unwrap()));
    sqlite(&db, &sql);
    // The signer state (the head igd last signed) goes too, so only the keys decide.
    std::fs::remove_file(igd.data_dir.join("audit-signing.state")).unwrap();
    igd.kill_and_restart();
    let (code, v) = server_verify(&igd);
    assert_ne!(
        code,
        Some(0),
        "a hand-written key vouched for a rewritten chain: {v}"
    );
    assert_eq!(v["tenants"][0]["ok"], false, "{v}");
    assert!(
        v["tenants"][0]["broken_at"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("trusted key"),
        "{v}"
    );
}

/// A lost signer state file does not let the signer anchor a chain rewritten while igd was
/// down: it continues from the newest trusted checkpoint in the store and refuses.
#[test]
fn a_lost_signer_state_does_not_anchor_a_rewritten_chain() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-l", "echo", 100);
    anchored(&igd, &token, 3);
    let db = igd.data_dir.join("igd.db");
    let acme = rewrite_acme_offline(&mut igd, "");
    std::fs::remove_file(igd.data_dir.join("audit-signing.state")).unwrap();
    igd.kill_and_restart();
    wait_for_log(&igd, "refusing to sign");
    let head = acme.last().unwrap();
    let signed_rewrite = sqlite(
        &db,
        &format!(
            "SELECT count(*) FROM checkpoints WHERE tenant = 'acme' AND hash = '{}'",
            head.hash
        ),
    );
    assert_eq!(signed_rewrite.trim(), "0", "the rewritten head was signed");
}

/// Count of stored checkpoints of `tenant` at or past `size`.
fn checkpoints_from(db: &std::path::Path, tenant: &str, size: u64) -> u64 {
    sqlite(
        db,
        &format!("SELECT count(*) FROM checkpoints WHERE tenant = '{tenant}' AND size >= {size}"),
    )
    .trim()
    .parse()
    .unwrap()
}

/// The signer anchors trust-bearing entries (markers, key announcements) only when igd wrote
/// them: ones appended to the database by hand, sealed onto the real heads, are never covered
/// by a genuine checkpoint, so they excuse and vouch for nothing.
#[test]
fn the_signer_does_not_anchor_hand_written_markers_or_key_announcements() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-m", "echo", 100);
    anchored(&igd, &token, 3);
    wait_checkpointed(&igd, "_system");
    let db = igd.data_dir.join("igd.db");
    let system = entries_of(&igd, "_system");
    let acme = entries_of(&igd, "acme");
    igd.kill();
    let (pem, _) = intentgate_proto::checkpoint::generate_signing_key_pem();
    let forger = intentgate_proto::checkpoint::signing_key_from_pem(&pem).unwrap();
    let name = system
        .iter()
        .find(|e| e.kind == "checkpoint-key")
        .and_then(|e| e.target.clone())
        .unwrap()
        .split('+')
        .next()
        .unwrap()
        .to_string();
    let key = intentgate_proto::checkpoint::VerifierKey::new(&name, forger.verifying_key());
    let head = system.last().unwrap();
    let mut announce = head.clone();
    announce.kind = "checkpoint-key".into();
    announce.event_id = "ab".repeat(16);
    announce.actor = Some("igd".into());
    announce.action = Some("checkpoint-key".into());
    announce.target = Some(key.encode());
    announce.reason = Some("audit signing key rotated".into());
    announce.seal(head.seq, &head.hash);
    let marker = forged_marker(acme.last().unwrap(), 2);
    sqlite(
        &db,
        &format!(
            "BEGIN; {} {} COMMIT;",
            insert_row(&announce),
            insert_row(&marker)
        ),
    );
    igd.kill_and_restart();
    // The ticker keeps refusing, pass after pass (both chains, at least twice each).
    let (token, _) = igd.mint("acme", "agent-m", "echo", 100);
    let _ = call(&igd, &token, "echo", "after");
    wait_until("repeated refusals", || {
        let logs = igd.logs();
        let n = logs
            .matches("a trust-bearing entry this igd did not write")
            .count();
        if n >= 4 {
            Ok(())
        } else {
            Err(logs)
        }
    });
    assert_eq!(
        checkpoints_from(&db, "_system", announce.seq),
        0,
        "the forged key was anchored"
    );
    assert_eq!(
        checkpoints_from(&db, "acme", marker.seq),
        0,
        "the forged marker was anchored"
    );
}

/// igd's own verification anchors on the head its signer last signed (kept outside the
/// database), so a truncation that also deletes the newer checkpoint rows is caught.
#[test]
fn server_verify_catches_a_truncation_that_deleted_the_newer_checkpoints() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-t", "echo", 100);
    anchored(&igd, &token, 2);
    anchored(&igd, &token, 3);
    let db = igd.data_dir.join("igd.db");
    let head: u64 = sqlite(&db, "SELECT max(seq) FROM audit_log WHERE tenant = 'acme'")
        .trim()
        .parse()
        .unwrap();
    assert!(head > 4, "{head}");
    igd.kill();
    sqlite(&db, "DELETE FROM audit_log WHERE tenant = 'acme' AND seq > 3; DELETE FROM checkpoints WHERE tenant = 'acme' AND size > 3;");
    igd.kill_and_restart();
    let out = igd.igctl_auto(&[
        "audit", "verify", "--server", "--tenant", "acme", "-o", "json",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("truncated or rolled back"), "{text}");
}

/// A chain deleted whole (its rows, checkpoints and tokens) is reported by igd's verification
/// of every tenant, not skipped.
#[test]
fn server_verify_reports_a_chain_deleted_whole() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-a", "echo", 100);
    anchored(&igd, &token, 1);
    let (beta, _) = igd.mint("beta", "agent-b", "echo", 100);
    let _ = call(&igd, &beta, "echo", "b");
    wait_checkpointed(&igd, "beta");
    let pins = igd.data_dir.with_file_name("pins.json");
    let pin_arg = pins.to_str().unwrap();
    let out = igd.igctl_auto(&["audit", "verify", "--pin", pin_arg]);
    assert_eq!(out.status.code(), Some(0), "{:?}", code_and_text(&out));
    let db = igd.data_dir.join("igd.db");
    igd.kill();
    sqlite(&db, "DELETE FROM audit_log WHERE tenant = 'beta'; DELETE FROM checkpoints WHERE tenant = 'beta'; DELETE FROM tokens WHERE tenant = 'beta';");
    igd.kill_and_restart();
    // The auditor's pins name beta: its disappearance fails local verification.
    let out = igd.igctl_auto(&["audit", "verify", "--pin", pin_arg]);
    let (code, text) = code_and_text(&out);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("beta"), "{text}");
    let out = igd.igctl_auto(&["audit", "verify", "--server", "-o", "json"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_ne!(out.status.code(), Some(0), "{text}");
    let v: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let beta = v["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "beta")
        .unwrap_or_else(|| panic!("beta not reported: {v}"));
    assert_eq!(beta["ok"], false, "{beta}");
}

/// Without its state file and without any trusted checkpoint left in the store, the signer
/// does not anchor chains that predate it until an operator re-baselines them.
#[test]
fn a_lost_state_and_deleted_checkpoints_wait_for_a_rebaseline() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-r", "echo", 100);
    anchored(&igd, &token, 2);
    let db = igd.data_dir.join("igd.db");
    rewrite_acme_offline(&mut igd, "DELETE FROM checkpoints WHERE tenant = 'acme';");
    std::fs::remove_file(igd.data_dir.join("audit-signing.state")).unwrap();
    igd.kill_and_restart();
    wait_for_log(&igd, "the chain predates this signer state");
    assert_eq!(checkpoints_from(&db, "acme", 1), 0);
    let out = igd.igctl_auto(&[
        "audit",
        "rebaseline",
        "--tenant",
        "acme",
        "--reason",
        "checked after a disk loss",
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", code_and_text(&out));
    assert!(checkpoints_from(&db, "acme", 1) > 0);
    let out = igd.igctl_auto(&["audit", "verify", "--server", "--tenant", "acme"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", code_and_text(&out));
}

/// A storage error in the middle of an export cuts the transfer instead of ending it cleanly:
/// igctl's export and verify fail rather than take a short answer for the whole chain.
#[test]
fn an_export_cut_by_a_storage_error_is_not_taken_for_complete() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-x", "echo", 100);
    anchored(&igd, &token, 4);
    let db = igd.data_dir.join("igd.db");
    igd.kill();
    // A row the store cannot decode (what a corrupted page or a bad edit leaves).
    sqlite(
        &db,
        "UPDATE audit_log SET cut_seq = -1 WHERE tenant = 'acme' AND seq = 3;",
    );
    igd.kill_and_restart();
    let out = igd.igctl_auto(&["audit", "export", "--tenant", "acme", "--format", "ndjson"]);
    assert_ne!(out.status.code(), Some(0), "{:?}", code_and_text(&out));
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme"]);
    assert_ne!(out.status.code(), Some(0), "{:?}", code_and_text(&out));
}

/// Round-two review: a trust-bearing entry hidden from SQL filters (its `kind` stored as a
/// blob, behind an ordinary entry) is still read, checked and refused by the signer; so is an
/// own marker whose action was edited after igd recorded it.
#[test]
fn the_signer_reads_every_entry_it_signs() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-b", "echo", 100);
    anchored(&igd, &token, 3);
    let db = igd.data_dir.join("igd.db");
    let acme = entries_of(&igd, "acme");
    igd.kill();
    let head = acme.last().unwrap();
    let mut filler = intentgate_proto::audit::Entry {
        tenant: "acme".into(),
        kind: "admin".into(),
        event_id: "cd".repeat(16),
        ts: head.ts + 1,
        instance: head.instance.clone(),
        actor: Some("uid:0".into()),
        action: Some("note".into()),
        reason: Some("filler".into()),
        ..Default::default()
    };
    filler.seal(head.seq, &head.hash);
    let marker = forged_marker(&filler, 2);
    let sql = format!(
        "BEGIN; {} {} UPDATE audit_log SET kind = CAST('marker' AS BLOB) WHERE tenant = 'acme' AND seq = {}; COMMIT;",
        insert_row(&filler),
        insert_row(&marker),
        marker.seq
    );
    sqlite(&db, &sql);
    igd.kill_and_restart();
    wait_for_log(&igd, "the entries to sign cannot be read");
    assert_eq!(
        checkpoints_from(&db, "acme", filler.seq),
        0,
        "signed over a hidden marker"
    );
}

/// A rebaseline does not anchor a marker or key announcement igd did not write unless the
/// operator names it (`--accept SEQ`), and the marker says so.
#[test]
fn a_rebaseline_refuses_hand_written_trust_entries_unless_accepted() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-c", "echo", 100);
    anchored(&igd, &token, 2);
    let db = igd.data_dir.join("igd.db");
    let acme = entries_of(&igd, "acme");
    igd.kill();
    let marker = forged_marker(acme.last().unwrap(), 1);
    sqlite(&db, &format!("BEGIN; {} COMMIT;", insert_row(&marker)));
    igd.kill_and_restart();
    wait_for_log(&igd, "did not write");
    let out = igd.igctl_auto(&[
        "audit",
        "rebaseline",
        "--tenant",
        "acme",
        "--reason",
        "unstick",
    ]);
    let (code, text) = code_and_text(&out);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains(&format!("entry {}", marker.seq)), "{text}");
    assert_eq!(checkpoints_from(&db, "acme", marker.seq), 0);
    // By seq alone, or with another hash: refused.
    let seq = marker.seq.to_string();
    let wrong = format!("{seq}:{}", "0".repeat(64));
    for accept in [seq.as_str(), wrong.as_str()] {
        let out = igd.igctl_auto(&[
            "audit",
            "rebaseline",
            "--tenant",
            "acme",
            "--reason",
            "checked",
            "--accept",
            accept,
        ]);
        assert_ne!(
            out.status.code(),
            Some(0),
            "{accept}: {:?}",
            code_and_text(&out)
        );
    }
    assert_eq!(checkpoints_from(&db, "acme", marker.seq), 0);
    let accept = format!("{seq}:{}", marker.hash);
    assert!(
        text.contains(&accept),
        "the refusal names what to accept: {text}"
    );
    let out = igd.igctl_auto(&[
        "audit",
        "rebaseline",
        "--tenant",
        "acme",
        "--reason",
        "checked by hand",
        "--accept",
        &accept,
    ]);
    assert_eq!(out.status.code(), Some(0), "{:?}", code_and_text(&out));
    let last = entries_of(&igd, "acme").pop().unwrap();
    assert_eq!(last.action.as_deref(), Some("rebaseline"));
    assert!(
        last.reason.as_deref().unwrap_or("").contains(&accept),
        "{:?}",
        last.reason
    );
}

/// An emptied state file (`{}`) counts as lost: chains it holds no head for continue from a
/// trusted checkpoint, never from whatever the database says.
#[test]
fn an_emptied_signer_state_counts_as_lost() {
    let (mut igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-e", "echo", 100);
    anchored(&igd, &token, 2);
    let db = igd.data_dir.join("igd.db");
    rewrite_acme_offline(&mut igd, "DELETE FROM checkpoints WHERE tenant = 'acme';");
    std::fs::write(igd.data_dir.join("audit-signing.state"), "{}").unwrap();
    igd.kill_and_restart();
    wait_for_log(&igd, "the chain predates this signer state");
    assert_eq!(checkpoints_from(&db, "acme", 1), 0);
}

/// Round-two review: a rotated key installed as a new file beside the old one keeps the signer
/// state (it lives in the key's directory under a fixed name), so signing continues from the
/// last signed heads instead of waiting for rebaselines.
#[test]
fn a_rotated_key_in_a_new_file_keeps_the_signer_state() {
    let keydir = tempfile::tempdir().unwrap();
    let first = keydir.path().join("audit-1.pem");
    write_audit_key(&first);
    let (mut igd, _dir) = start(&[("INTENTGATE_AUDIT_SIGNING_KEY", first.to_str().unwrap())]);
    let (token, _) = igd.mint("acme", "agent-k", "echo", 100);
    anchored(&igd, &token, 2);
    assert!(keydir.path().join("audit-signing.state").exists());
    let out = igd.igctl_auto(&["gen-key", "--audit", "--announce"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", code_and_text(&out));
    wait_checkpointed(&igd, "_system");
    let second = keydir.path().join("audit-2.pem");
    std::fs::write(&second, out.stdout).unwrap();
    igd.set_env("INTENTGATE_AUDIT_SIGNING_KEY", second.to_str().unwrap());
    igd.kill_and_restart();
    anchored(&igd, &token, 2);
    assert!(!igd.logs().contains("holds no head"), "{}", igd.logs());
    let (code, r) = verify_report(&igd);
    assert_eq!(code, Some(0), "{r}");
}

/// Round-four review: while the signer state cannot be saved, nothing new is signed or
/// published (a head published before the signer remembers it could be rewritten and signed
/// again after a restart).
#[test]
fn nothing_is_published_while_the_signer_state_cannot_be_saved() {
    let (igd, _dir) = start(&[]);
    let (token, _) = igd.mint("acme", "agent-s", "echo", 100);
    anchored(&igd, &token, 2);
    let db = igd.data_dir.join("igd.db");
    let signed: u64 = sqlite(
        &db,
        "SELECT max(size) FROM checkpoints WHERE tenant = 'acme'",
    )
    .trim()
    .parse()
    .unwrap();
    // A directory where the state's temporary file goes: every save fails, even as root.
    let blocker = igd.data_dir.join("audit-signing.state.tmp");
    std::fs::create_dir(&blocker).unwrap();
    for i in 0..3 {
        assert!(call(&igd, &token, "echo", &format!("blocked {i}"))["result"].is_object());
    }
    wait_for_log(&igd, "cannot save signer state; nothing signed");
    assert_eq!(
        checkpoints_from(&db, "acme", signed + 1),
        0,
        "published unsaved"
    );
    // Once the state can be saved again, signing resumes.
    std::fs::remove_dir(&blocker).unwrap();
    wait_checkpointed(&igd, "acme");
}
