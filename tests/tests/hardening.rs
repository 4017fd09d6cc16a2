//! Hardening through the public surface (issue 7): settings this build does not implement are
//! refused; operators' terminals never get raw control characters from igctl; the admin API
//! does not reveal other tenants' tokens, logs its reads, throttles the real client behind
//! proxies; the database is private; revocations outlive a lowered TTL; `/healthz` follows the
//! store; `[[budget]]` ceilings and `[tool_costs]` weights hold.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_proto::text::is_unsafe_for_terminal;
use intentgate_tests::*;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const ALLOW_ALL: &str =
    "package intentgate.policy\n\ndefault decision := {\"allow\": true, \"reason\": \"fine\"}\n";

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("not JSON: {}", text(out)))
}

/// Wait (bounded) until `cond` holds; panics with `what` otherwise.
fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn check_config(env: &[(&str, &str)], args: &[&str], data_dir: &Path) -> Output {
    Command::new(igd_bin())
        .args(args)
        .arg("check-config")
        .env_clear()
        .env("INTENTGATE_DATA_DIR", data_dir)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn settings_this_build_does_not_implement_exit_64_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "s".repeat(40)).unwrap();
    let secret_path = secret_file.to_str().unwrap();
    let short_secret_file = dir.path().join("short-secret");
    std::fs::write(&short_secret_file, "s".repeat(20)).unwrap();
    let short_secret_path = short_secret_file.to_str().unwrap();
    // (variable set, value, the name the error must carry)
    let cases: &[(&str, &str, &str)] = &[
        // Implemented now: what they cannot do is still refused, never ignored.
        (
            "INTENTGATE_EXTRACTOR",
            "https://127.0.0.1:9/classify",
            "INTENTGATE_EXTRACTOR",
        ),
        (
            "INTENTGATE_EXTRACTOR",
            "rules:/etc/intentgate/rules.toml",
            "INTENTGATE_EXTRACTOR",
        ),
        (
            "INTENTGATE_APPROVAL_QUEUE",
            "on",
            "INTENTGATE_APPROVAL_QUEUE",
        ),
        // Implemented: out of range is refused.
        (
            "INTENTGATE_APPROVAL_TIMEOUT",
            "0",
            "INTENTGATE_APPROVAL_TIMEOUT",
        ),
        (
            "INTENTGATE_POLICY_STORE",
            "redis",
            "INTENTGATE_POLICY_STORE",
        ),
        // Implemented (DESIGN §8): a value that is not a boolean, a listener without the
        // switch, a sink half configured, a key sent in clear text off loopback.
        (
            "INTENTGATE_METRICS_ENABLED",
            "sometimes",
            "INTENTGATE_METRICS_ENABLED",
        ),
        (
            "INTENTGATE_METRICS_LISTEN",
            "127.0.0.1:9090",
            "INTENTGATE_METRICS_LISTEN",
        ),
        (
            "INTENTGATE_WEBHOOK_URL",
            "https://hooks.invalid/x",
            "INTENTGATE_WEBHOOK_URL",
        ),
        (
            "INTENTGATE_WEBHOOK_SECRET",
            "whsec_0123456789abcdef",
            "INTENTGATE_WEBHOOK_SECRET",
        ),
        (
            "INTENTGATE_WEBHOOK_SECRET_FILE",
            secret_path,
            "INTENTGATE_WEBHOOK_SECRET",
        ),
        (
            "INTENTGATE_WEBHOOK_EVENTS",
            "deny",
            "INTENTGATE_WEBHOOK_EVENTS",
        ),
        // Implemented: the mTLS admin listener needs all four (the message names the listener).
        (
            "INTENTGATE_ADMIN_LISTEN",
            "127.0.0.1:8443",
            "INTENTGATE_ADMIN_LISTEN",
        ),
        (
            "INTENTGATE_ADMIN_TLS_CERT",
            "/etc/intentgate/admin.pem",
            "INTENTGATE_ADMIN_TLS_CERT",
        ),
        (
            "INTENTGATE_ADMIN_TLS_KEY",
            "/etc/intentgate/admin.key",
            "INTENTGATE_ADMIN_TLS_KEY",
        ),
        (
            "INTENTGATE_ADMIN_CLIENT_CA",
            "/etc/intentgate/ca.pem",
            "INTENTGATE_ADMIN_CLIENT_CA",
        ),
        // Implemented: a key too short to seal TOTP secrets is refused, from either form.
        (
            "INTENTGATE_TOTP_ENCRYPTION_KEY",
            "ab0123456789",
            "INTENTGATE_TOTP_ENCRYPTION_KEY",
        ),
        (
            "INTENTGATE_TOTP_ENCRYPTION_KEY_FILE",
            short_secret_path,
            "INTENTGATE_TOTP_ENCRYPTION_KEY",
        ),
        (
            "INTENTGATE_SIEM_SPLUNK_URL",
            "https://splunk.invalid",
            "INTENTGATE_SIEM_SPLUNK_URL",
        ),
        (
            "INTENTGATE_SIEM_SPLUNK_TOKEN_FILE",
            secret_path,
            "INTENTGATE_SIEM_SPLUNK_TOKEN",
        ),
        (
            "INTENTGATE_SIEM_DATADOG_URL",
            "http://datadog.invalid/api/v2/logs",
            "INTENTGATE_SIEM_DATADOG",
        ),
        (
            "INTENTGATE_SIEM_SPLUNK_HOST",
            "splunk.invalid",
            "INTENTGATE_SIEM_SPLUNK_HOST",
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://collector.invalid:4318",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "grpc",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        // A misspelt variable would be ignored too.
        (
            "INTENTGATE_UPSTREAM_TIMOUT_MS",
            "100",
            "INTENTGATE_UPSTREAM_TIMOUT_MS",
        ),
        (
            "INTENTGATE_LISTEN_FILE",
            secret_path,
            "INTENTGATE_LISTEN_FILE",
        ),
        ("LOG_LEVEL", "loud=extremely", "LOG_LEVEL"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT"),
    ];
    for (var, value, named) in cases {
        let out = check_config(&[(var, value)], &[], dir.path());
        assert_eq!(out.status.code(), Some(64), "{var}={value}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(named),
            "{var}: stderr {stderr:?} does not name {named}"
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(named),
            "{var}: the log does not name {named}"
        );
        if var.contains("SECRET") || var.contains("KEY") {
            assert!(!text(&out).contains("whsec_0123") && !text(&out).contains(&"ab".repeat(32)));
        }
    }

    // The same from a systemd credential and from igd.toml.
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(creds.path().join("webhook_secret"), "s".repeat(40)).unwrap();
    let out = check_config(
        &[("CREDENTIALS_DIRECTORY", creds.path().to_str().unwrap())],
        &[],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("INTENTGATE_WEBHOOK_SECRET"));
    for line in [
        "extractor = \"https://127.0.0.1:9/x\"",
        "approval_queue = \"redis\"",
        "policy_store = \"postgres\"",
        "metrics_enabled = \"sometimes\"",
        "metrics_listen = \"127.0.0.1:9090\"",
        "webhook_url = \"https://hooks.invalid/x\"",
        "admin_listen = \"127.0.0.1:8443\"",
        "totp_encryption_key = \"xxxxxxxxxxxx\"",
        "approval_timeout = 0",
        "siem_splunk_url = \"https://splunk.invalid\"",
        "log_level = \"loud=extremely\"",
    ] {
        let file = dir.path().join("igd.toml");
        std::fs::write(&file, format!("{line}\n")).unwrap();
        let out = check_config(&[], &["--config", file.to_str().unwrap()], dir.path());
        assert_eq!(out.status.code(), Some(64), "{line}: {}", text(&out));
        let key = line.split(' ').next().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(key)
                || stderr.contains(&format!("INTENTGATE_{}", key.to_uppercase()))
                || stderr.contains(&key.to_uppercase()),
            "{line}: {stderr}"
        );
    }

    // The values that mean "not used" are fine, from either source.
    let off = [
        ("INTENTGATE_EXTRACTOR", "off"),
        ("INTENTGATE_APPROVAL_QUEUE", "off"),
        ("INTENTGATE_POLICY_STORE", "off"),
        ("INTENTGATE_METRICS_ENABLED", "false"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        ("LOG_FORMAT", "json"),
    ];
    let out = check_config(&off, &[], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let file = dir.path().join("igd.toml");
    std::fs::write(
        &file,
        "extractor = \"off\"\napproval_queue = \"OFF\"\npolicy_store = \"off\"\nmetrics_enabled = false\n",
    )
    .unwrap();
    let out = check_config(&[], &["--config", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // `igd run` refuses them the same way, before listening.
    let out = Command::new(igd_bin())
        .env_clear()
        .env("INTENTGATE_DATA_DIR", dir.path().join("run"))
        .env("INTENTGATE_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("INTENTGATE_EXTRACTOR", "https://127.0.0.1:9/classify")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(text(&out).contains("INTENTGATE_EXTRACTOR"));
}

#[test]
fn log_level_and_format_from_settings_apply() {
    let dir = tempfile::tempdir().unwrap();
    // LOG_LEVEL from igd.toml used to be ignored (the logger read only the environment).
    let file = dir.path().join("igd.toml");
    std::fs::write(&file, "log_level = \"warn\"\n").unwrap();
    let out = check_config(&[], &["--config", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("configuration is valid"),
        "an info line was logged at level warn: {}",
        text(&out)
    );
    let out = check_config(&[], &[], dir.path());
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration is valid"));
    // LOG_FORMAT=pretty writes text lines, json (the default off a terminal) JSON lines.
    let out = check_config(&[("LOG_FORMAT", "pretty")], &[], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("configuration is valid"))
        .unwrap();
    assert!(serde_json::from_str::<Value>(line).is_err(), "{line}");
    let out = check_config(&[], &[], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("configuration is valid"))
        .unwrap();
    assert!(serde_json::from_str::<Value>(line).is_ok(), "{line}");
}

/// Text for people must not carry a control character other than igctl's own line breaks.
fn assert_terminal_safe(what: &str, s: &str) {
    let bad: Vec<char> = s
        .chars()
        .filter(|c| *c != '\n' && is_unsafe_for_terminal(*c))
        .collect();
    assert!(bad.is_empty(), "{what} printed raw {bad:?}: {s:?}");
}

const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[31mred\u{202e}gpj.exe\u{9b}2J\u{7f}\nFAKE ROW";
const HOSTILE_SHOWN: &str =
    "\\u{1b}]0;pwned\\u{7}\\u{1b}[31mred\\u{202e}gpj.exe\\u{9b}2J\\u{7f}\\nFAKE ROW";

#[test]
fn igctl_escapes_control_characters_in_text_and_keeps_json_exact() {
    let igd = Igd::start(&[("INTENTGATE_UPSTREAM_URL", "stub")]);
    // Hostile text reaches igd through fields that accept it: a revocation reason, a stop
    // reason, a subject with a bidi override (not a control character, so mint accepts it).
    let sneaky_subject = "agent\u{202e}gpj.exe";
    let (_, jti) = igd.mint("acme", sneaky_subject, "echo", 5);
    let out = igd.igctl(&["revoke", &jti, "--reason", HOSTILE]);
    assert!(out.status.success(), "{}", text(&out));
    assert_terminal_safe("revoke", &text(&out));
    let out = igd.igctl(&[
        "stop",
        "--tenant",
        "acme",
        "--subject",
        sneaky_subject,
        "--reason",
        HOSTILE,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_terminal_safe("stop", &text(&out));

    for args in [
        &["revocations"][..],
        &["tokens", "list", "--all"],
        &["audit", "list", "--tenant", "acme"],
        &["agents"],
        &["tenants"],
    ] {
        let out = igd.igctl(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        let shown = text(&out);
        assert_terminal_safe(&format!("{args:?}"), &shown);
        if args[0] == "revocations" || args[0] == "audit" {
            assert!(shown.contains(HOSTILE_SHOWN), "{args:?}: {shown}");
            // The newline inside the value did not start a row of its own.
            assert!(!shown.lines().any(|l| l.starts_with("FAKE ROW")), "{shown}");
        }
        if args[0] == "tokens" {
            assert!(shown.contains("agent\\u{202e}gpj.exe"), "{shown}");
        }
    }
    // JSON stays exact.
    let v = json_of(&igd.igctl(&["revocations", "-o", "json"]));
    assert_eq!(v["revocations"][0]["reason"], HOSTILE);
    let v = json_of(&igd.igctl(&["audit", "list", "--tenant", "acme", "-o", "json"]));
    assert!(
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == HOSTILE),
        "{v}"
    );

    // Error messages that echo text back are escaped too (table mode on stderr).
    let out = igd.igctl(&[
        "audit",
        "rebaseline",
        "--tenant",
        "\u{1b}[2Jx\u{7}",
        "--reason",
        "r",
    ]);
    assert!(!out.status.success());
    assert_terminal_safe("rebaseline error", &text(&out));
    assert!(text(&out).contains("\\u{1b}[2Jx\\u{7}"), "{}", text(&out));
    let out = igd.igctl(&[
        "audit",
        "rebaseline",
        "--tenant",
        "\u{1b}[2Jx\u{7}",
        "--reason",
        "r",
        "-o",
        "json",
    ]);
    assert!(json_of(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\u{1b}[2Jx\u{7}"));

    // Offline token inspection prints claims the holder wrote.
    let (token, _) = igd.mint("acme", "agent-ok", "echo", 5);
    let out = igd.igctl(&[
        "token",
        "attenuate",
        &token,
        "--sub",
        "helper\u{202e}x",
        "-o",
        "json",
    ]);
    let child = json_of(&out)["token"].as_str().unwrap().to_string();
    let out = igd.igctl(&["token", "inspect", &child]);
    assert!(out.status.success(), "{}", text(&out));
    assert_terminal_safe("token inspect", &text(&out));
    assert!(text(&out).contains("helper\\u{202e}x"));
}

#[test]
fn anonymous_token_text_reaches_the_log_escaped() {
    // A forged token's kid and unknown field names come from an anonymous sender and end up in
    // the refusal reason chained under _unauthenticated: they are escaped by igd itself.
    let igd = Igd::start(&[("INTENTGATE_UPSTREAM_URL", "stub")]);
    let key = intentgate_proto::keys::MasterKey::parse(&"42".repeat(32))
        .unwrap()
        .token_key();
    let block = format!(
        r#"{{"kid":"\u001b]0;pwn\u0007\u001b[31m","jti":"{}","tenant":"acme","sub":"a","tools":["echo"],"max_calls":1,"iat":1,"exp":4000000000}}"#,
        "1".repeat(32)
    );
    let forged = intentgate_proto::token::seal_blocks(&key, &[block.into_bytes()]).unwrap();
    let r = call_tool(igd.addr, &forged, "echo", json!({})).unwrap();
    assert_eq!(r.status, 401);
    let out = igd.igctl(&[
        "audit",
        "list",
        "--tenant",
        "_unauthenticated",
        "-o",
        "json",
    ]);
    let v = json_of(&out);
    let reasons: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("unknown key")), "{v}");
    for r in &reasons {
        assert!(
            !r.chars().any(is_unsafe_for_terminal),
            "raw control characters chained: {r:?}"
        );
    }
    let out = igd.igctl(&["audit", "list", "--tenant", "_unauthenticated"]);
    assert_terminal_safe("audit list _unauthenticated", &text(&out));
}

fn admin_post(addr: std::net::SocketAddr, bearer: &str, path: &str, body: &Value) -> HttpResponse {
    http(
        addr,
        "POST",
        path,
        &[
            ("Authorization", &format!("Bearer {bearer}")),
            ("Content-Type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
    .unwrap()
}

#[test]
fn revoke_does_not_reveal_another_tenants_jti() {
    let beta_admin = "b".repeat(40);
    let tenant_admins = format!("beta:{beta_admin}");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.rego");
    std::fs::write(&policy, ALLOW_ALL).unwrap();
    let igd = Igd::start(&[
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
        ("INTENTGATE_TENANT_ADMINS", &tenant_admins),
    ]);
    let (acme_token, acme_jti) = igd.mint("acme", "agent-a", "echo", 50);
    let unknown = "f".repeat(32);
    let shape = |r: &HttpResponse| {
        let v = r.json();
        (
            r.status,
            v["tenant"].clone(),
            v["reason"].clone(),
            v["error"]["code"].clone(),
        )
    };
    for with_tenant in [false, true] {
        let body = |jti: &str| {
            if with_tenant {
                json!({"jti": jti, "tenant": "beta", "reason": "probe"})
            } else {
                json!({"jti": jti, "reason": "probe"})
            }
        };
        let existing = admin_post(igd.addr, &beta_admin, "/v1/admin/revoke", &body(&acme_jti));
        let missing = admin_post(igd.addr, &beta_admin, "/v1/admin/revoke", &body(&unknown));
        assert_eq!(
            shape(&existing),
            shape(&missing),
            "with_tenant={with_tenant}: {} vs {}",
            existing.text(),
            missing.text()
        );
        assert!(!existing.text().contains("acme"), "{}", existing.text());
    }
    // acme's token was not touched by beta's revocations.
    let r = call_tool(igd.addr, &acme_token, "echo", json!({})).unwrap();
    assert_eq!(r.json()["result"]["isError"], false, "{}", r.text());
}

#[test]
fn database_files_are_private() {
    let mut igd = Igd::start(&[]);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&igd.data_dir), 0o700, "data dir igd created");
    let db = igd.data_dir.join("igd.db");
    let files = [
        db.clone(),
        igd.data_dir.join("igd.db-wal"),
        igd.data_dir.join("igd.db-shm"),
    ];
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    // A store left readable by an older version is tightened at start.
    igd.kill();
    for f in &files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    igd.kill_and_restart();
    for f in &files {
        assert_eq!(mode(f), 0o600, "{} after restart", f.display());
    }
}

#[test]
fn an_existing_data_dir_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o750)).unwrap();
    let igd = Igd::start(&[("INTENTGATE_DATA_DIR", data.to_str().unwrap())]);
    let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o750);
    let db_mode = std::fs::metadata(igd.data_dir.join("igd.db"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(db_mode, 0o600);
}

#[test]
fn behind_a_trusted_proxy_the_client_is_throttled_and_recorded_not_the_proxy() {
    let admin = "a".repeat(40);
    let igd = Igd::start(&[
        ("INTENTGATE_ADMIN_TOKEN", &admin),
        ("INTENTGATE_TRUSTED_PROXIES", "127.0.0.1"),
        ("INTENTGATE_UPSTREAM_URL", "stub"),
    ]);
    let get = |bearer: &str, xff: &str| {
        http(
            igd.addr,
            "GET",
            "/v1/admin/tenants",
            &[
                ("Authorization", &format!("Bearer {bearer}")),
                ("X-Forwarded-For", xff),
            ],
            b"",
        )
        .unwrap()
        .status
    };
    // One client behind the proxy guesses until it is throttled.
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(get("wrong-token-wrong-token-wrong-token", "203.0.113.7"));
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    // A client-written hop to the left does not let it escape: the proxy's hop is used.
    assert_eq!(get(&admin, "198.51.100.1, 203.0.113.7"), 429);
    // Another client behind the same proxy is not locked out.
    assert_eq!(get(&admin, "198.51.100.9"), 200);

    // Anonymous refusals are chained with the client the proxy names.
    let r = http(
        igd.addr,
        "POST",
        "/v1/mcp",
        &[
            ("Authorization", "Bearer ig1.garbage"),
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", "192.0.2.44"),
        ],
        b"{}",
    )
    .unwrap();
    assert_eq!(r.status, 401);
    let v = json_of(&igd.igctl(&[
        "audit",
        "list",
        "--tenant",
        "_unauthenticated",
        "-o",
        "json",
    ]));
    let reasons: Vec<String> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str().map(String::from))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("(from 192.0.2.44)")),
        "{reasons:?}"
    );
}

#[test]
fn without_trusted_proxies_forwarded_for_is_ignored_by_the_throttle() {
    let admin = "a".repeat(40);
    let igd = Igd::start(&[("INTENTGATE_ADMIN_TOKEN", &admin)]);
    let get = |bearer: &str, xff: &str| {
        http(
            igd.addr,
            "GET",
            "/v1/admin/tenants",
            &[
                ("Authorization", &format!("Bearer {bearer}")),
                ("X-Forwarded-For", xff),
            ],
            b"",
        )
        .unwrap()
        .status
    };
    for i in 0..10 {
        assert_eq!(
            get(
                "wrong-token-wrong-token-wrong-token",
                &format!("203.0.113.{i}")
            ),
            401
        );
    }
    // Rotating the header does not reset the count of this peer.
    assert_eq!(get(&admin, "198.51.100.9"), 429);
}

fn sqlite_value(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 CLI");
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_child_revocation_is_kept_while_its_root_lives_after_the_ttl_is_lowered() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap().to_string();
    let mut igd = Igd::start(&[
        ("INTENTGATE_DATA_DIR", &data_s),
        ("INTENTGATE_MAX_TOKEN_TTL", "86400"),
    ]);
    let out = igd.igctl(&[
        "mint",
        "--tenant",
        "acme",
        "--subject",
        "agent-a",
        "--tools",
        "echo",
        "--ttl",
        "20h",
        "--max-calls",
        "5",
        "-o",
        "json",
    ]);
    let minted = json_of(&out);
    let token = minted["token"].as_str().unwrap().to_string();
    let out = igd.igctl(&[
        "token",
        "attenuate",
        &token,
        "--max-calls",
        "2",
        "-o",
        "json",
    ]);
    let child_jti = json_of(&out)["jti"].as_str().unwrap().to_string();
    // The operator lowers the TTL to one hour; the 20-hour root and its child stay valid.
    igd.terminate();
    let mut igd = Igd::start(&[
        ("INTENTGATE_DATA_DIR", &data_s),
        ("INTENTGATE_MAX_TOKEN_TTL", "3600"),
    ]);
    let out = igd.igctl(&[
        "revoke", &child_jti, "--tenant", "acme", "--reason", "leaked", "-o", "json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let db = igd.data_dir.join("igd.db");
    let prune_after: i64 = sqlite_value(
        &db,
        &format!("SELECT prune_after FROM revocations WHERE jti = '{child_jti}'"),
    )
    .parse()
    .unwrap();
    let root_exp: i64 = sqlite_value(
        &db,
        &format!(
            "SELECT expires_at FROM tokens WHERE jti = '{}'",
            minted["jti"].as_str().unwrap()
        ),
    )
    .parse()
    .unwrap();
    assert!(
        prune_after >= root_exp,
        "the child's revocation may be pruned at {prune_after}, before its root expires at {root_exp}"
    );
    igd.terminate();
}

#[test]
fn read_only_admin_calls_are_logged() {
    let igd = Igd::start(&[]);
    let out = igd.igctl(&["tokens", "list"]);
    assert!(out.status.success());
    let out = igd.igctl(&["revocations"]);
    assert!(out.status.success());
    let logged = |path: &str| {
        igd.logs().lines().any(|l| {
            serde_json::from_str::<Value>(l).is_ok_and(|v| {
                let f = &v["fields"];
                f["message"] == "admin request"
                    && f["path"] == path
                    && f["method"] == "GET"
                    && f["status"] == 200
                    && f["actor"].as_str().is_some_and(|a| a.starts_with("uid:"))
            })
        })
    };
    wait_until(
        "the read-only admin calls in the log",
        Duration::from_secs(10),
        || logged("/v1/admin/tokens") && logged("/v1/admin/revocations"),
    );
}

#[test]
fn healthz_follows_the_store() {
    let mount = tempfile::tempdir().unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(mount.path())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "this test mounts a tmpfs and must run as root");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.path().to_path_buf());
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.rego");
    std::fs::write(&policy, ALLOW_ALL).unwrap();
    let data = mount.path().join("data");
    let igd = Igd::start(&[
        ("INTENTGATE_DATA_DIR", data.to_str().unwrap()),
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
    ]);
    let (token, _) = igd.mint("acme", "agent-h", "echo", 10_000);
    let health = || http(igd.addr, "GET", "/healthz", &[], b"").unwrap().status;
    assert_eq!(health(), 200);
    let filler = mount.path().join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "count=100"])
        .arg(format!("of={}", filler.display()))
        .output();
    // Calls fail closed while the disk is full, and /healthz says so.
    let mut refused = false;
    for _ in 0..50 {
        let r = call_tool(igd.addr, &token, "echo", json!({"pad": "x".repeat(2000)})).unwrap();
        if r.json()["error"]["code"] == -31005 {
            refused = true;
            break;
        }
    }
    assert!(refused, "no call was refused with -31005 on a full disk");
    wait_until(
        "/healthz 503 on a full store",
        Duration::from_secs(10),
        || health() == 503,
    );
    // igctl says so in one JSON document (it used to print the health and then the error).
    let out = igd.igctl(&["health", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["error"]["code"], "unavailable");
    // Space returns: health recovers by itself, without any traffic.
    std::fs::remove_file(&filler).unwrap();
    wait_until(
        "/healthz 200 after space returned",
        Duration::from_secs(15),
        || health() == 200,
    );
    let r = call_tool(igd.addr, &token, "echo", json!({})).unwrap();
    assert_eq!(r.json()["result"]["isError"], false, "{}", r.text());
}

// ---- [[budget]] ceilings and [tool_costs] weights (DESIGN §4.5) ----

fn budget_igd(dir: &Path) -> Igd {
    let policy = dir.join("p.rego");
    std::fs::write(&policy, ALLOW_ALL).unwrap();
    let config = dir.join("igd.toml");
    std::fs::write(
        &config,
        format!(
            "policy_file = \"{}\"\nupstream_url = \"stub\"\n\n\
             [[budget]]\ntenant = \"hourly\"\nsubject = \"*\"\ncalls_per_hour = 3\n\n\
             [[budget]]\ntenant = \"daily\"\nsubject = \"agent-d\"\ncalls_per_day = 4\n\n\
             [[budget]]\ntenant = \"costly\"\nsubject = \"*\"\ncost_per_day = 10\n\n\
             [tool_costs]\nheavy = 4\n",
            policy.display()
        ),
    )
    .unwrap();
    Igd::start_with_args(&[], &["--config", config.to_str().unwrap()])
}

/// `Ok(true)` allowed, `Ok(false)` refused for budget (with the ceiling named), else the answer.
fn budget_call(igd: &Igd, token: &str, tool: &str) -> Result<bool, String> {
    let r = call_tool(igd.addr, token, tool, json!({})).unwrap();
    let v = r.json();
    if v["result"]["isError"] == false {
        return Ok(true);
    }
    if v["error"]["code"] == -31003 && v["error"]["data"]["check"] == "budget" {
        return Ok(false);
    }
    Err(r.text())
}

fn utc_hour() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 3600
}

/// Run `scenario` with fresh subjects; if a UTC hour boundary fell inside it (the counters
/// reset there), run it once more.
fn within_one_hour(mut scenario: impl FnMut(&str) -> Result<(), String>) {
    for attempt in 0..2 {
        let hour = utc_hour();
        let result = scenario(&format!("r{attempt}"));
        if utc_hour() == hour {
            if let Err(e) = result {
                panic!("{e}");
            }
            return;
        }
    }
    panic!("two attempts straddled an hour boundary");
}

#[test]
fn budget_ceilings_and_tool_costs_hold_per_subject_and_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut igd = budget_igd(dir.path());
    within_one_hour(|run| {
        // calls_per_hour = 3 for each subject of "hourly" (subject "*"): the 4th is refused.
        let (a, _) = igd.mint("hourly", &format!("agent-a-{run}"), "echo", 100);
        let (b, _) = igd.mint("hourly", &format!("agent-b-{run}"), "echo", 100);
        let seen: Vec<bool> = (0..4)
            .map(|_| budget_call(&igd, &a, "echo"))
            .collect::<Result<_, _>>()?;
        if seen != [true, true, true, false] {
            return Err(format!("calls_per_hour 3 gave {seen:?}"));
        }
        // "*" means each subject, not all of them together.
        let seen: Vec<bool> = (0..4)
            .map(|_| budget_call(&igd, &b, "echo"))
            .collect::<Result<_, _>>()?;
        if seen != [true, true, true, false] {
            return Err(format!("second subject gave {seen:?}"));
        }
        // A tenant without ceilings is not limited by another tenant's.
        let (free, _) = igd.mint("other", &format!("agent-a-{run}"), "echo", 100);
        for _ in 0..5 {
            if !budget_call(&igd, &free, "echo")? {
                return Err("a tenant without ceilings was refused".into());
            }
        }
        // Refusals do not count; a restart does not reset the count.
        igd.kill_and_restart();
        if budget_call(&igd, &a, "echo")? {
            return Err("calls_per_hour reset by a restart".into());
        }
        Ok(())
    });
}

#[test]
fn calls_per_day_ceiling_applies_to_its_subject_only() {
    let dir = tempfile::tempdir().unwrap();
    let igd = budget_igd(dir.path());
    within_one_hour(|run| {
        // The rule names agent-d; a run suffix would change the subject, so tokens are fresh but
        // the subject is the same in both attempts: only the first attempt can be clean.
        let (d, _) = igd.mint("daily", "agent-d", "echo", 100);
        let (e, _) = igd.mint("daily", &format!("agent-e-{run}"), "echo", 100);
        if run == "r0" {
            let seen: Vec<bool> = (0..5)
                .map(|_| budget_call(&igd, &d, "echo"))
                .collect::<Result<_, _>>()?;
            if seen != [true, true, true, true, false] {
                return Err(format!("calls_per_day 4 gave {seen:?}"));
            }
        }
        for _ in 0..6 {
            if !budget_call(&igd, &e, "echo")? {
                return Err("a subject the rule does not name was refused".into());
            }
        }
        Ok(())
    });
}

#[test]
fn cost_per_day_weighs_tools_by_their_cost() {
    let dir = tempfile::tempdir().unwrap();
    let igd = budget_igd(dir.path());
    within_one_hour(|run| {
        let (c, _) = igd.mint("costly", &format!("agent-c-{run}"), "echo,heavy", 100);
        // cost_per_day = 10, heavy weighs 4, echo 1 (the default).
        let mut seen = Vec::new();
        for tool in ["heavy", "heavy", "heavy", "echo", "echo", "echo"] {
            seen.push((tool, budget_call(&igd, &c, tool)?));
        }
        // 4, 8, (12 > 10 refused), 9, 10, (11 > 10 refused)
        let want = [
            ("heavy", true),
            ("heavy", true),
            ("heavy", false),
            ("echo", true),
            ("echo", true),
            ("echo", false),
        ];
        if seen != want {
            return Err(format!("cost_per_day 10 gave {seen:?}"));
        }
        Ok(())
    });
}

/// Siblings of the TLS finding: an empty TLS setting is not "no TLS", and igd's own upstream
/// credentials are never sent in clear text off loopback.
#[test]
fn empty_tls_settings_and_clear_text_upstream_credentials_exit_64() {
    let dir = tempfile::tempdir().unwrap();
    let creds = r#"{"Authorization":"Bearer sekrit"}"#;
    for (env, names) in [
        (
            vec![("INTENTGATE_TLS_CERT", ""), ("INTENTGATE_TLS_KEY", "")],
            "INTENTGATE_TLS_CERT",
        ),
        (
            vec![
                ("INTENTGATE_UPSTREAM_URL", "http://upstream.example.com/mcp"),
                ("INTENTGATE_UPSTREAM_HEADERS", creds),
            ],
            "INTENTGATE_UPSTREAM_URL",
        ),
        (
            vec![
                ("INTENTGATE_UPSTREAM_URL", "http://10.0.0.7:8080/mcp"),
                ("INTENTGATE_UPSTREAM_HEADERS", creds),
            ],
            "INTENTGATE_UPSTREAM_URL",
        ),
    ] {
        let out = check_config(&env, &[], dir.path());
        assert_eq!(out.status.code(), Some(64), "{env:?}: {}", text(&out));
        assert!(text(&out).contains(names), "{env:?}: {}", text(&out));
    }
    // Loopback, or no credentials: fine.
    for env in [
        vec![
            ("INTENTGATE_UPSTREAM_URL", "http://127.0.0.1:9/mcp"),
            ("INTENTGATE_UPSTREAM_HEADERS", creds),
        ],
        vec![
            ("INTENTGATE_UPSTREAM_URL", "http://[::1]:9/mcp"),
            ("INTENTGATE_UPSTREAM_HEADERS", creds),
        ],
        vec![("INTENTGATE_UPSTREAM_URL", "http://upstream.example.com/mcp")],
    ] {
        let out = check_config(&env, &[], dir.path());
        assert_eq!(out.status.code(), Some(0), "{env:?}: {}", text(&out));
    }
}

/// Round-three review: igd refuses to start when its signer state cannot be written (a signer
/// that never saves it would, after a restart, continue from whatever the database says).
#[test]
fn an_unwritable_signer_state_exits_64() {
    let dir = tempfile::tempdir().unwrap();
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("audit.pem");
    write_audit_key(&key);
    // A directory where the state file goes: no rename can replace it, even as root.
    std::fs::create_dir(keydir.path().join("audit-signing.state")).unwrap();
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(igd_bin())
        .env_clear()
        .env("INTENTGATE_DATA_DIR", dir.path())
        .env("INTENTGATE_LISTEN", &listen)
        .env("INTENTGATE_AUDIT_SIGNING_KEY", &key)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("igd started with an unwritable signer state");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(64), "{err}");
    assert!(err.contains("signer state"), "{err}");
}
