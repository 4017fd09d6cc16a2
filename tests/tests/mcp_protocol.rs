//! The MCP endpoint's order of checks and its answers to bad input (DESIGN §2), on the built-in
//! stub upstream; upstream failures; audit storage failure and recovery.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};

const POLICY: &str = "package intentgate.policy\n\ndefault decision := {\"allow\": false, \"reason\": \"not allowed here\"}\n\ndecision := {\"allow\": true, \"reason\": \"echo is fine\"} if {\n\tinput.tool == \"echo\"\n}\n";

fn policy_file(dir: &std::path::Path) -> String {
    let p = dir.join("policy.rego");
    std::fs::write(&p, POLICY).unwrap();
    p.display().to_string()
}

struct Env {
    igd: Igd,
    token: String,
    _dir: tempfile::TempDir,
}

fn start(extra: &[(&str, &str)]) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(dir.path());
    let mut env: Vec<(&str, &str)> = vec![
        ("INTENTGATE_POLICY_FILE", &policy),
        ("INTENTGATE_MAX_BODY_BYTES", "4096"),
    ];
    let has_upstream = extra.iter().any(|(k, _)| *k == "INTENTGATE_UPSTREAM_URL");
    if !has_upstream {
        env.push(("INTENTGATE_UPSTREAM_URL", "stub"));
    }
    env.extend_from_slice(extra);
    let igd = Igd::start(&env);
    let (token, _) = igd.mint("acme", "agent-p", "echo,read_invoice", 100);
    Env {
        igd,
        token,
        _dir: dir,
    }
}

fn modern_body(method: &str, params: Value, id: u64) -> String {
    let mut p = params;
    p["_meta"] = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": p}).to_string()
}

fn headers(token: &str, method: &str, name: Option<&str>) -> Vec<(String, String)> {
    let mut h = vec![
        ("Authorization".to_string(), format!("Bearer {token}")),
        ("Content-Type".into(), "application/json".into()),
        (
            "Accept".into(),
            "application/json, text/event-stream".into(),
        ),
        ("MCP-Protocol-Version".into(), "2026-07-28".into()),
        ("Mcp-Method".into(), method.into()),
    ];
    if let Some(n) = name {
        h.push(("Mcp-Name".into(), n.into()));
    }
    h
}

fn send(igd: &Igd, method: &str, headers: &[(String, String)], body: &str) -> HttpResponse {
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    http(igd.addr, method, "/v1/mcp", &h, body.as_bytes()).expect("http")
}

fn without(h: &[(String, String)], name: &str) -> Vec<(String, String)> {
    h.iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
        .cloned()
        .collect()
}

fn with(h: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut out = without(h, name);
    out.push((name.to_string(), value.to_string()));
    out
}

fn call_echo(env: &Env, id: u64) -> HttpResponse {
    let body = modern_body(
        "tools/call",
        json!({"name": "echo", "arguments": {"m": 1}}),
        id,
    );
    send(
        &env.igd,
        "POST",
        &headers(&env.token, "tools/call", Some("echo")),
        &body,
    )
}

#[test]
fn order_of_checks_and_bad_input() {
    let env = start(&[]);
    let igd = &env.igd;
    let h = headers(&env.token, "tools/list", None);
    let list = modern_body("tools/list", json!({}), 1);

    // Happy path: filtered list, private cache scope, resultType.
    let r = send(igd, "POST", &h, &list);
    assert_eq!(r.status, 200, "{}", r.text());
    let names: Vec<String> = r.json()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["echo", "read_invoice"]);
    assert_eq!(r.json()["result"]["cacheScope"], "private");
    assert_eq!(r.json()["result"]["resultType"], "complete");

    // Origin first: even without a token.
    let r = send(
        igd,
        "POST",
        &with(
            &without(&h, "Authorization"),
            "Origin",
            "http://evil.example",
        ),
        &list,
    );
    assert_eq!(r.status, 403);
    // Authentication before content checks.
    let r = send(
        igd,
        "POST",
        &with(&without(&h, "Authorization"), "Content-Type", "text/plain"),
        &list,
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], -31001);
    assert_eq!(
        send(igd, "POST", &with(&h, "Content-Type", "text/plain"), &list).status,
        415
    );
    assert_eq!(
        send(igd, "POST", &with(&h, "Accept", "text/html"), &list).status,
        406
    );
    let big = modern_body("tools/list", json!({"pad": "x".repeat(5000)}), 1);
    assert_eq!(send(igd, "POST", &h, &big).status, 413);
    let r = send(igd, "POST", &h, "{not json");
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32700))
    );
    let r = send(
        igd,
        "POST",
        &h,
        r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}"#,
    );
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32700)),
        "duplicate keys"
    );
    let r = send(igd, "POST", &h, &format!("[{list}]"));
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32600)),
        "batch"
    );
    let r = send(igd, "POST", &h, r#"{"id":1,"method":"tools/list"}"#);
    assert_eq!(r.json()["error"]["code"], -32600);
    let r = send(
        igd,
        "POST",
        &with(&h, "MCP-Protocol-Version", "1999-01-01"),
        &list,
    );
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32022))
    );
    assert!(r.json()["error"]["data"]["supported"]
        .as_array()
        .unwrap()
        .contains(&json!("2026-07-28")));
    // Header/body agreement (2026-07-28).
    let r = send(igd, "POST", &with(&h, "Mcp-Method", "tools/call"), &list);
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32020))
    );
    let call = modern_body("tools/call", json!({"name": "echo", "arguments": {}}), 2);
    let hc = headers(&env.token, "tools/call", Some("read_invoice"));
    let r = send(igd, "POST", &hc, &call);
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32020)),
        "Mcp-Name mismatch"
    );
    // A Base64 sentinel is decoded before the comparison.
    let r = send(
        igd,
        "POST",
        &with(&hc, "Mcp-Name", "=?base64?ZWNobw==?="),
        &call,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("stub echo"));
    // Unknown method (2026 era → 404), families not forwarded → −32601.
    let r = send(
        igd,
        "POST",
        &with(&h, "Mcp-Method", "resources/list"),
        &modern_body("resources/list", json!({}), 3),
    );
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (404, Some(-32601))
    );
    // Client notifications are accepted with 202.
    let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1, "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}}).to_string();
    assert_eq!(
        send(
            igd,
            "POST",
            &with(&h, "Mcp-Method", "notifications/cancelled"),
            &note
        )
        .status,
        202
    );
    // GET stream is not offered.
    assert_eq!(send(igd, "GET", &h, "").status, 405);
    // The refusal of a policy-denied tool is HTTP 200 with the JSON-RPC error.
    let r = send(
        igd,
        "POST",
        &headers(&env.token, "tools/call", Some("read_invoice")),
        &modern_body(
            "tools/call",
            json!({"name": "read_invoice", "arguments": {}}),
            4,
        ),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["error"]["code"], -31002);
    assert_eq!(r.json()["error"]["data"]["reason"], "not allowed here");
    assert_eq!(r.json()["error"]["data"]["check"], "policy");
}

fn legacy_headers(token: &str, session: Option<&str>) -> Vec<(String, String)> {
    let mut h = vec![
        ("Authorization".to_string(), format!("Bearer {token}")),
        ("Content-Type".into(), "application/json".into()),
        (
            "Accept".into(),
            "application/json, text/event-stream".into(),
        ),
        ("MCP-Protocol-Version".into(), "2025-06-18".into()),
    ];
    if let Some(s) = session {
        h.push(("Mcp-Session-Id".into(), s.into()));
    }
    h
}

#[test]
fn sessions_are_bound_deleted_and_survive_restarts() {
    let mut env = start(&[]);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let mut h = without(&legacy_headers(&env.token, None), "MCP-Protocol-Version");
    h.push(("X-Ignored".into(), "1".into()));
    let r = send(&env.igd, "POST", &h, init);
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = r.header("mcp-session-id").expect("session id").to_string();
    assert!(sid.starts_with("igs1."));
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    assert_eq!(
        send(
            &env.igd,
            "POST",
            &legacy_headers(&env.token, Some(&sid)),
            list
        )
        .status,
        200
    );
    // Missing session → 400; unknown → 404; another agent's session → 404.
    assert_eq!(
        send(&env.igd, "POST", &legacy_headers(&env.token, None), list).status,
        400
    );
    assert_eq!(
        send(
            &env.igd,
            "POST",
            &legacy_headers(&env.token, Some("igs1.bogus")),
            list
        )
        .status,
        404
    );
    let (other, _) = env.igd.mint("acme", "agent-other", "echo", 5);
    assert_eq!(
        send(&env.igd, "POST", &legacy_headers(&other, Some(&sid)), list).status,
        404
    );
    // A session is never authentication.
    assert_eq!(
        send(
            &env.igd,
            "POST",
            &without(&legacy_headers(&env.token, Some(&sid)), "Authorization"),
            list
        )
        .status,
        401
    );
    // Survives a restart.
    env.igd.kill_and_restart();
    assert_eq!(
        send(
            &env.igd,
            "POST",
            &legacy_headers(&env.token, Some(&sid)),
            list
        )
        .status,
        200
    );
    // DELETE ends it, also across a restart.
    assert_eq!(
        send(
            &env.igd,
            "DELETE",
            &legacy_headers(&env.token, Some(&sid)),
            ""
        )
        .status,
        200
    );
    assert_eq!(
        send(
            &env.igd,
            "POST",
            &legacy_headers(&env.token, Some(&sid)),
            list
        )
        .status,
        404
    );
    env.igd.kill_and_restart();
    assert_eq!(
        send(
            &env.igd,
            "POST",
            &legacy_headers(&env.token, Some(&sid)),
            list
        )
        .status,
        404
    );
}

#[test]
fn upstream_unavailable_is_31006_and_charged() {
    let closed = format!("http://127.0.0.1:{}/mcp", free_port());
    let env = start(&[
        ("INTENTGATE_UPSTREAM_URL", &closed),
        ("INTENTGATE_UPSTREAM_TIMEOUT_MS", "500"),
    ]);
    let (one, _) = env.igd.mint("acme", "agent-one", "echo", 1);
    let body = modern_body("tools/call", json!({"name": "echo", "arguments": {}}), 1);
    let h = headers(&one, "tools/call", Some("echo"));
    let r = send(&env.igd, "POST", &h, &body);
    assert_eq!(r.json()["error"]["code"], -31006, "{}", r.text());
    assert_eq!(r.json()["error"]["data"]["check"], "upstream");
    assert!(r.json()["error"]["data"]["decision_id"].is_string());
    // It counted as forwarded: the only call of the budget is gone.
    let r = send(&env.igd, "POST", &h, &body);
    assert_eq!(r.json()["error"]["code"], -31003, "{}", r.text());
    // The outcome entry records a transport failure (status 0). Outcomes are written in the
    // background, so it may land a moment after the answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let decision = loop {
        let out = env
            .igd
            .igctl(&["audit", "list", "--tenant", "acme", "-o", "json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let decision = v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["decision"] == "allow")
            .cloned()
            .unwrap();
        if !decision["outcome"].is_null() || std::time::Instant::now() > deadline {
            break decision;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(decision["outcome"]["upstream_status"], 0, "{decision}");
}

/// Without an upstream igd answers `initialize` itself: the version asked for when it is a
/// supported 2025-era one, else 2025-11-25; a missing or non-string one means 2025-03-26
/// (the version a client means when it names none).
#[test]
fn initialize_without_upstream_negotiates_from_the_version_asked() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(dir.path());
    let igd = Igd::start(&[("INTENTGATE_POLICY_FILE", &policy)]);
    let (token, _) = igd.mint("acme", "agent-i", "echo", 3);
    for (asked, negotiated) in [
        (json!("2025-06-18"), "2025-06-18"),
        (json!("1999-01-01"), "2025-11-25"),
        (Value::Null, "2025-03-26"),
        (json!(5), "2025-03-26"),
        (json!({"v": 1}), "2025-03-26"),
    ] {
        let mut params = json!({"capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
        if !asked.is_null() {
            params["protocolVersion"] = asked.clone();
        }
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params});
        let r = send(
            &igd,
            "POST",
            &legacy_headers(&token, None),
            &body.to_string(),
        );
        assert_eq!(
            r.json()["result"]["protocolVersion"],
            negotiated,
            "asked {asked}: {}",
            r.text()
        );
    }
}

#[test]
fn no_upstream_configured_is_31006() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(dir.path());
    let igd = Igd::start(&[("INTENTGATE_POLICY_FILE", &policy)]);
    let (token, _) = igd.mint("acme", "agent-n", "echo", 3);
    let r = send(
        &igd,
        "POST",
        &headers(&token, "tools/call", Some("echo")),
        &modern_body("tools/call", json!({"name": "echo", "arguments": {}}), 1),
    );
    assert_eq!(r.json()["error"]["code"], -31006);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no upstream configured"));
    assert!(igd.logs().contains("no upstream configured"));
}

#[test]
fn embedded_default_policy_denies_everything() {
    let igd = Igd::start(&[("INTENTGATE_UPSTREAM_URL", "stub")]);
    let (token, _) = igd.mint("acme", "agent-d", "echo", 3);
    let r = send(
        &igd,
        "POST",
        &headers(&token, "tools/call", Some("echo")),
        &modern_body("tools/call", json!({"name": "echo", "arguments": {}}), 1),
    );
    assert_eq!(r.json()["error"]["code"], -31002);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("embedded default"));
}

#[test]
fn unauthenticated_refusals_are_chained_apart() {
    let env = start(&[]);
    for _ in 0..3 {
        let r = send(
            &env.igd,
            "POST",
            &headers("ig1.forged", "tools/list", None),
            &modern_body("tools/list", json!({}), 1),
        );
        assert_eq!(r.status, 401);
        assert!(r.json()["error"]["data"]["decision_id"].is_string());
    }
    let out = env.igd.igctl(&[
        "audit",
        "list",
        "--tenant",
        "_unauthenticated",
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 3, "{v}");
    // No tenant chain was created by a token that did not verify.
    let tenants = env.igd.igctl(&["audit", "verify", "-o", "json"]);
    let t: Value = serde_json::from_slice(&tenants.stdout).unwrap();
    assert_eq!(t["ok"], true);
}

/// Fail closed when the disk is full (a size-limited tmpfs holds the data dir; root ignores file
/// modes, so a read-only file would prove nothing), and recover by itself when space returns.
#[test]
fn audit_storage_full_fails_closed_and_recovers() {
    let mount = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(mount.path())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "this test mounts a tmpfs and must run as root");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(mount.path().to_path_buf());
    let data = mount.path().join("data");
    let env = start(&[("INTENTGATE_DATA_DIR", data.to_str().unwrap())]);
    assert_eq!(call_echo(&env, 1).json()["result"]["isError"], false);
    // Fill the file system.
    let filler = mount.path().join("filler");
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "count=100"])
        .arg(format!("of={}", filler.display()))
        .output();
    let mut refused = 0;
    for i in 0..50 {
        let r = call_echo(&env, 10 + i);
        let v = r.json();
        if v["error"]["code"] == -31005 {
            assert_eq!(v["error"]["data"]["check"], "audit");
            assert!(v["error"]["data"]["decision_id"].is_null());
            refused += 1;
            break;
        }
    }
    assert!(
        refused > 0,
        "no call was refused with −31005 while the disk was full"
    );
    std::fs::remove_file(&filler).unwrap();
    let mut recovered = false;
    for i in 0..20 {
        if call_echo(&env, 100 + i).json()["result"]["isError"] == false {
            recovered = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(recovered, "igd did not recover after space was freed");
    let out = env.igd.igctl(&["audit", "verify", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// max_calls is exact under concurrency and survives a restart.
#[test]
fn budget_exact_under_concurrency_and_after_restart() {
    let mut env = start(&[]);
    let (token, _) = env.igd.mint("acme", "agent-budget", "echo", 25);
    let addr = env.igd.addr;
    let ok = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let over = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (token, ok, over) = (token.clone(), ok.clone(), over.clone());
            std::thread::spawn(move || {
                for i in 0..5u64 {
                    let body = modern_body(
                        "tools/call",
                        json!({"name": "echo", "arguments": {"t": t, "i": i}}),
                        i,
                    );
                    let h = headers(&token, "tools/call", Some("echo"));
                    let hv: Vec<(&str, &str)> =
                        h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let r = http(addr, "POST", "/v1/mcp", &hv, body.as_bytes())
                        .unwrap()
                        .json();
                    if r["result"].is_object() {
                        ok.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    } else if r["error"]["code"] == -31003 {
                        over.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        ok.load(std::sync::atomic::Ordering::SeqCst),
        25,
        "exactly max_calls calls pass"
    );
    assert_eq!(over.load(std::sync::atomic::Ordering::SeqCst), 15);
    // After a restart the budget is still spent; an attenuated child has its own lower limit.
    let (fresh, _) = env.igd.mint("acme", "agent-budget2", "echo", 3);
    let child_out = env.igd.igctl(&[
        "token",
        "attenuate",
        &fresh,
        "--max-calls",
        "1",
        "-o",
        "json",
    ]);
    let child: Value = serde_json::from_slice(&child_out.stdout).unwrap();
    let child = child["token"].as_str().unwrap().to_string();
    let call = |igd: &Igd, tok: &str| {
        let body = modern_body("tools/call", json!({"name": "echo", "arguments": {}}), 1);
        send(
            igd,
            "POST",
            &headers(tok, "tools/call", Some("echo")),
            &body,
        )
        .json()
    };
    assert!(call(&env.igd, &child)["result"].is_object());
    env.igd.kill_and_restart();
    let call = |tok: &str| call(&env.igd, tok);
    assert_eq!(call(&token)["error"]["code"], -31003);
    assert_eq!(
        call(&child)["error"]["code"],
        -31003,
        "child level charged and persisted"
    );
    // The parent was charged once (by the child's call): two left.
    assert!(call(&fresh)["result"].is_object());
    assert!(call(&fresh)["result"].is_object());
    assert_eq!(call(&fresh)["error"]["code"], -31003);
}

#[test]
fn revoking_an_ancestor_revokes_its_children_and_idle_sessions_expire() {
    let env = start(&[("INTENTGATE_SESSION_IDLE_TIMEOUT", "1")]);
    let (root, root_jti) = env.igd.mint("acme", "agent-tree", "echo", 10);
    let child_out = env.igd.igctl(&[
        "token",
        "attenuate",
        &root,
        "--max-calls",
        "5",
        "-o",
        "json",
    ]);
    let child: Value = serde_json::from_slice(&child_out.stdout).unwrap();
    let child_token = child["token"].as_str().unwrap().to_string();
    let child_jti = child["jti"].as_str().unwrap().to_string();
    let body = modern_body("tools/call", json!({"name": "echo", "arguments": {}}), 1);
    let call = |tok: &str| {
        send(
            &env.igd,
            "POST",
            &headers(tok, "tools/call", Some("echo")),
            &body,
        )
    };
    assert_eq!(call(&child_token).status, 200);
    // Revoking a child (a jti igd never minted) needs its tenant; it leaves the root alone.
    let out = env.igd.igctl(&[
        "revoke",
        &child_jti,
        "--tenant",
        "acme",
        "--reason",
        "child leaked",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(call(&child_token).status, 401);
    assert_eq!(call(&root).status, 200);
    // A fresh child of the root dies with its ancestor.
    let other = env
        .igd
        .igctl(&["token", "attenuate", &root, "--sub", "helper", "-o", "json"]);
    let other: Value = serde_json::from_slice(&other.stdout).unwrap();
    let other = other["token"].as_str().unwrap().to_string();
    assert_eq!(call(&other).status, 200);
    assert!(env
        .igd
        .igctl(&["revoke", &root_jti, "--reason", "root leaked"])
        .status
        .success());
    assert_eq!(call(&other).status, 401);
    assert_eq!(call(&root).status, 401);

    // Sessions expire after INTENTGATE_SESSION_IDLE_TIMEOUT.
    let (token, _) = env.igd.mint("acme", "agent-idle", "echo", 5);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let r = send(
        &env.igd,
        "POST",
        &without(&legacy_headers(&token, None), "MCP-Protocol-Version"),
        init,
    );
    let sid = r.header("mcp-session-id").unwrap().to_string();
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    assert_eq!(
        send(&env.igd, "POST", &legacy_headers(&token, Some(&sid)), list).status,
        200
    );
    std::thread::sleep(std::time::Duration::from_millis(2200));
    assert_eq!(
        send(&env.igd, "POST", &legacy_headers(&token, Some(&sid)), list).status,
        404
    );
}

#[test]
fn unauthenticated_refusals_stay_within_their_quota() {
    let env = start(&[("INTENTGATE_AUDIT_UNAUTH_MAX_ROWS", "5")]);
    for _ in 0..9 {
        let r = send(
            &env.igd,
            "POST",
            &headers("ig1.forged", "tools/list", None),
            &modern_body("tools/list", json!({}), 1),
        );
        assert_eq!(r.status, 401);
    }
    let mut kept = usize::MAX;
    for _ in 0..30 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let out = env.igd.igctl(&[
            "audit",
            "list",
            "--tenant",
            "_unauthenticated",
            "--limit",
            "1000",
            "-o",
            "json",
        ]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        kept = v["entries"].as_array().unwrap().len();
        if kept <= 6 {
            assert!(
                v["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["kind"] == "marker"),
                "{v}"
            );
            break;
        }
    }
    assert!(kept <= 6, "quota not enforced: {kept} rows kept");
    let out = env
        .igd
        .igctl(&["audit", "verify", "--tenant", "_unauthenticated"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
