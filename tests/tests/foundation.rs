//! The foundation through its public surface: igd's start, the admin socket and bearer API,
//! igctl's commands, persistence across restarts, and secret hygiene in logs.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "not JSON: stdout={} stderr={}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn quickstart_flow_mint_inspect_attenuate_revoke() {
    let igd = Igd::start(&[]);
    // The embedded default generated a master key with mode 0600.
    let key_mode = std::fs::metadata(igd.data_dir.join("master.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(key_mode, 0o600);
    let sock_mode = std::fs::metadata(&igd.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(sock_mode, 0o660);

    let out = igd.igctl(&[
        "mint",
        "--subject",
        "agent-trade-bot",
        "--tenant",
        "default",
        "--tools",
        "read_invoice",
        "--ttl",
        "1h",
        "--max-calls",
        "10",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let token = text
        .lines()
        .find_map(|l| l.strip_prefix("token:"))
        .map(str::trim)
        .expect("token line")
        .to_string();
    assert!(token.starts_with("ig1."));
    assert_eq!(text.matches("ig1.").count(), 1, "the token is printed once");

    let out = igd.igctl(&["token", "inspect", &token, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["root"]["sub"], "agent-trade-bot");
    assert_eq!(v["root"]["tenant"], "default");
    assert_eq!(v["effective"]["tools"], serde_json::json!(["read_invoice"]));
    assert_eq!(v["effective"]["max_calls"], 10);
    let jti = v["root"]["jti"].as_str().unwrap().to_string();
    // Inspect never shows the tag: nothing but the claims' own text is printed.
    let tag_b64 = &token[token.len() - 20..];
    assert!(!String::from_utf8_lossy(&out.stdout).contains(tag_b64));

    let out = igd.igctl(&[
        "token",
        "attenuate",
        &token,
        "--max-calls",
        "3",
        "--sub",
        "helper",
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = json(&out)["token"].as_str().unwrap().to_string();
    let v = json(&igd.igctl(&["token", "inspect", &child, "-o", "json"]));
    assert_eq!(v["effective"]["max_calls"], 3);
    assert_eq!(v["effective"]["subject"], "agent-trade-bot");
    assert_eq!(v["effective"]["delegated_subject"], "helper");
    assert_eq!(v["depth"], 1);

    let out = igd.igctl(&["token", "attenuate", &token, "--tools", "delete_everything"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("widens"));

    let out = igd.igctl(&["revoke", &jti, "--reason", "leaked in a log"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&igd.igctl(&["revocations", "-o", "json"]));
    let revs = v["revocations"].as_array().unwrap();
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0]["jti"], jti.as_str());
    assert_eq!(revs[0]["tenant"], "default");
    assert_eq!(revs[0]["reason"], "leaked in a log");
    // Idempotent.
    let again = json(&igd.igctl(&["revoke", &jti, "-o", "json"]));
    assert_eq!(again["revoked_at"], revs[0]["revoked_at"]);
    // No longer live.
    let live = json(&igd.igctl(&["tokens", "list", "-o", "json"]));
    assert_eq!(live["tokens"].as_array().unwrap().len(), 0);
    let all = json(&igd.igctl(&["tokens", "list", "--all", "-o", "json"]));
    assert_eq!(all["tokens"][0]["revoked"], true);
}

#[test]
fn revocations_stops_and_tokens_survive_restart() {
    let mut igd = Igd::start(&[]);
    let (_, jti) = igd.mint("acme", "bot", "a", 5);
    assert!(igd.igctl(&["revoke", &jti]).status.success());
    assert!(igd
        .igctl(&[
            "stop",
            "--tenant",
            "acme",
            "--subject",
            "bot",
            "--reason",
            "incident"
        ])
        .status
        .success());
    igd.kill_and_restart();
    let revs = json(&igd.igctl(&["revocations", "-o", "json"]));
    assert_eq!(revs["revocations"][0]["jti"], jti.as_str());
    let stops = json(&igd.igctl(&[
        "-o",
        "json",
        "stop",
        "--tenant",
        "acme",
        "--subject",
        "bot",
        "--reason",
        "again",
    ]));
    assert_eq!(stops["reason"], "incident", "existing stop kept");
    let tenants = json(&igd.igctl(&["tenants", "-o", "json"]));
    assert_eq!(tenants["tenants"][0]["name"], "acme");
    // Lifting a stop is step-up gated: a fresh TOTP code of the (enrolled) admin uid.
    let out = igd.igctl_totp(&["unstop", "--tenant", "acme", "--subject", "bot"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = igd.igctl_totp(&["unstop", "--tenant", "acme", "--subject", "bot"]);
    assert_eq!(out.status.code(), Some(1), "no stop left: not_found");
}

#[test]
fn admin_bearer_on_agent_listener() {
    let super_token = "s".repeat(40);
    let tenant_token = "t".repeat(40);
    let admins = format!("acme:{tenant_token}");
    let igd = Igd::start(&[
        ("INTENTGATE_ADMIN_TOKEN", &super_token),
        ("INTENTGATE_TENANT_ADMINS", &admins),
    ]);
    let url = format!("http://{}", igd.addr);
    let run = |token: &str, args: &[&str]| {
        let mut full: Vec<String> =
            vec!["--url".into(), url.clone(), "--token".into(), token.into()];
        full.extend(args.iter().map(|s| s.to_string()));
        igctl(&full, &[])
    };
    // Wrong bearer: 401 → exit 4.
    let out = run(&"x".repeat(40), &["tokens", "list", "-o", "json"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(json(&out)["error"]["code"], "unauthenticated");
    let raw = http(
        igd.addr,
        "GET",
        "/v1/admin/tokens",
        &[("Authorization", "Bearer nope")],
        b"",
    )
    .unwrap();
    assert_eq!(raw.status, 401);
    // The superadmin mints anywhere.
    let out = run(
        &super_token,
        &[
            "mint",
            "--tenant",
            "other",
            "--subject",
            "s",
            "--tools",
            "a",
            "--max-calls",
            "1",
            "-o",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The tenant admin is confined to its tenant.
    let out = run(
        &tenant_token,
        &[
            "mint",
            "--tenant",
            "other",
            "--subject",
            "s",
            "--tools",
            "a",
            "--max-calls",
            "1",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(json(&out)["error"]["code"], "forbidden");
    let out = run(
        &tenant_token,
        &[
            "mint",
            "--tenant",
            "acme",
            "--subject",
            "s",
            "--tools",
            "a",
            "--max-calls",
            "1",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let listed = json(&run(&tenant_token, &["tokens", "list", "-o", "json"]));
    let tenants: Vec<&str> = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(tenants, vec!["acme"]);
    // A stop placed by the superadmin cannot be lifted by the tenant admin.
    assert!(
        run(&super_token, &["stop", "--tenant", "acme", "--reason", "x"])
            .status
            .success()
    );
    let out = run(&tenant_token, &["unstop", "--tenant", "acme", "-o", "json"]);
    assert_eq!(json(&out)["error"]["code"], "forbidden");
    // Failed attempts are throttled per address.
    let mut last = 0;
    for _ in 0..12 {
        last = http(
            igd.addr,
            "GET",
            "/v1/admin/tokens",
            &[("Authorization", "Bearer wrong")],
            b"",
        )
        .unwrap()
        .status;
    }
    assert_eq!(last, 429);
}

#[test]
fn admin_api_errors_are_clear() {
    let igd = Igd::start(&[]);
    let out = igd.igctl(&[
        "-o",
        "json",
        "mint",
        "--tenant",
        "Bad_Tenant",
        "--subject",
        "s",
        "--tools",
        "a",
        "--max-calls",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["error"]["code"], "invalid_request");
    assert!(v["error"]["message"].as_str().unwrap().contains("tenant"));
    let out = igd.igctl(&[
        "-o",
        "json",
        "mint",
        "--tenant",
        "a",
        "--subject",
        "s",
        "--tools",
        "a",
        "--max-calls",
        "1",
        "--ttl",
        "400d",
    ]);
    assert!(json(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("INTENTGATE_MAX_TOKEN_TTL"));
    let out = igd.igctl(&["-o", "json", "revoke", "00000000000000000000000000000abc"]);
    assert!(json(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("name its tenant"));
}

#[test]
fn secrets_never_reach_the_logs() {
    let master = "ab".repeat(32);
    let admin = "q".repeat(40);
    let igd = Igd::start(&[
        ("INTENTGATE_MASTER_KEY", &master),
        ("INTENTGATE_ADMIN_TOKEN", &admin),
        ("LOG_LEVEL", "trace"),
    ]);
    let (token, _) = igd.mint("acme", "bot", "read", 5);
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read","arguments":{}}}"#;
    let auth = format!("Bearer {token}");
    let _ = http(
        igd.addr,
        "POST",
        "/v1/mcp",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        body,
    );
    let _ = http(
        igd.addr,
        "GET",
        "/v1/admin/tokens",
        &[("Authorization", &format!("Bearer {admin}"))],
        b"",
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let logs = igd.logs();
    assert!(logs.contains("minted token"), "logs were captured: {logs}");
    let payload = &token[4..];
    assert!(!logs.contains(payload), "token in logs");
    assert!(
        !logs.contains(&payload[payload.len() - 43..]),
        "tag in logs"
    );
    assert!(!logs.contains(&master), "master key in logs");
    assert!(!logs.contains(&admin), "admin token in logs");
}

#[test]
fn configuration_errors_exit_64_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("INTENTGATE_MASTER_KEY", "too-short"),
        ("INTENTGATE_LISTEN", "not-an-address"),
        ("INTENTGATE_ADMIN_TOKEN", "short"),
        ("INTENTGATE_AUDIT_SYNC", "sometimes"),
    ] {
        let out = std::process::Command::new(igd_bin())
            .arg("check-config")
            .env_clear()
            .env("INTENTGATE_DATA_DIR", dir.path())
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{var}");
        let logs = String::from_utf8_lossy(&out.stdout);
        assert!(logs.contains(var), "{var} named in {logs}");
        if var.contains("KEY") || var.contains("TOKEN") {
            assert!(!logs.contains(value), "secret value of {var} echoed");
        }
    }
    let ok = std::process::Command::new(igd_bin())
        .arg("check-config")
        .env_clear()
        .env("INTENTGATE_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn logs_are_json_when_piped_and_human_readable_on_a_terminal_or_asked() {
    let dir = tempfile::tempdir().unwrap();
    let run = |format: Option<&str>| {
        let mut cmd = std::process::Command::new(igd_bin());
        cmd.arg("check-config")
            .env_clear()
            .env("INTENTGATE_DATA_DIR", dir.path());
        if let Some(f) = format {
            cmd.env("LOG_FORMAT", f);
        }
        cmd.output().unwrap()
    };
    let is_json = |out: &str| {
        let line = out.lines().next().unwrap_or_default();
        serde_json::from_str::<Value>(line).is_ok_and(|v| v["fields"]["message"].is_string())
    };
    // Piped (as under systemd or a log shipper): JSON, by default and when asked.
    for format in [None, Some("json")] {
        let out = run(format);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(is_json(&text), "{format:?}: {text}");
    }
    let out = run(Some("pretty"));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !is_json(&text) && text.contains("configuration is valid"),
        "{text}"
    );
    // An unknown format is refused, naming the variable.
    let out = run(Some("xml"));
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stdout).contains("LOG_FORMAT"));
    // On an interactive terminal (a pty from script(1)): human-readable by default.
    let out = std::process::Command::new("script")
        .args(["-qec"])
        .arg(format!("{} check-config", igd_bin().display()))
        .arg("/dev/null")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("INTENTGATE_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("configuration is valid") && !text.contains("\"fields\""),
        "{text}"
    );
}

#[test]
fn healthz_and_graceful_sigterm() {
    let mut igd = Igd::start(&[]);
    let r = http(igd.addr, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ok"], true);
    let out = igd.igctl(&["health", "-o", "json"]);
    assert_eq!(json(&out)["ok"], true);
    assert_eq!(igd.terminate(), Some(0));
    assert!(!igd.socket.exists(), "socket removed on shutdown");
}
