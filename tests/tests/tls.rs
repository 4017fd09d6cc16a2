//! TLS on the agent listener (DESIGN §2, §9): certificates made here by a throw-away CA; igd
//! serves MCP and health over TLS, refuses plain HTTP on that port, validates the certificate
//! and key at start and in `check-config`, reloads them on SIGHUP without dropping connections;
//! igctl reaches it with `--url https://` and `--ca`.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::pki::{Issued, Pki};
use intentgate_tests::*;
use serde_json::{json, Value};
use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

const ADMIN_TOKEN: &str = "tls-test-admin-token-0123456789abcdef";
const POLICY: &str = "package intentgate.policy\n\ndefault decision := {\"allow\": false, \"reason\": \"not allowed here\"}\n\ndecision := {\"allow\": true, \"reason\": \"echo is fine\"} if {\n\tinput.tool == \"echo\"\n}\n";

fn start_tls(pki: &Pki, issued: &Issued, extra: &[(&str, &str)]) -> Igd {
    let policy = pki.path("policy.rego");
    std::fs::write(&policy, POLICY).unwrap();
    let mut env = vec![
        ("INTENTGATE_TLS_CERT", issued.cert.to_str().unwrap()),
        ("INTENTGATE_TLS_KEY", issued.key.to_str().unwrap()),
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
    ];
    env.extend_from_slice(extra);
    Igd::start_tls(&env, &pki.ca_pem())
}

fn tools_call(token: &str) -> (Vec<(String, String)>, String) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "echo", "arguments": {"text": "over tls"},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}})
    .to_string();
    let headers = vec![
        ("Authorization".to_string(), format!("Bearer {token}")),
        ("Content-Type".into(), "application/json".into()),
        (
            "Accept".into(),
            "application/json, text/event-stream".into(),
        ),
        ("MCP-Protocol-Version".into(), "2026-07-28".into()),
        ("Mcp-Method".into(), "tools/call".into()),
        ("Mcp-Name".into(), "echo".into()),
    ];
    (headers, body)
}

#[test]
fn serves_health_and_tools_call_over_tls_and_refuses_plain_http() {
    let pki = Pki::new("IntentGate test CA");
    let server = pki.issue("server");
    let igd = start_tls(&pki, &server, &[]);
    let ca = pki.ca_pem();

    let health = https(igd.addr, &ca, "GET", "/healthz", &[], b"").expect("https healthz");
    assert_eq!(health.status, 200, "{}", health.text());
    assert_eq!(health.json()["ok"], true);

    let (token, _) = igd.mint("acme", "agent-tls", "echo", 10);
    let (headers, body) = tools_call(&token);
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let resp = https(igd.addr, &ca, "POST", "/v1/mcp", &h, body.as_bytes()).expect("https call");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(
        resp.text().contains("over tls") && !resp.text().contains("\"error\""),
        "{}",
        resp.text()
    );

    // Plain HTTP on the TLS port gets no HTTP answer at all.
    let plain = http(igd.addr, "GET", "/healthz", &[], b"");
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    // A client that does not trust igd's CA fails the handshake.
    let other = Pki::new("Another CA");
    assert!(https(igd.addr, &other.ca_pem(), "GET", "/healthz", &[], b"").is_err());
}

#[test]
fn igctl_reaches_igd_over_https_with_its_ca() {
    let pki = Pki::new("IntentGate test CA");
    let server = pki.issue("server");
    let igd = start_tls(&pki, &server, &[("INTENTGATE_ADMIN_TOKEN", ADMIN_TOKEN)]);
    let url = format!("https://127.0.0.1:{}", igd.addr.port());
    let ca = pki.ca_file();
    let run = |extra: &[&str]| {
        let mut args: Vec<String> = vec![
            "--url".into(),
            url.clone(),
            "--token".into(),
            ADMIN_TOKEN.into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        igctl(&args, &[])
    };

    let out = run(&["--ca", ca.to_str().unwrap(), "health", "-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    let out = run(&[
        "--ca",
        ca.to_str().unwrap(),
        "mint",
        "--tenant",
        "acme",
        "--subject",
        "a",
        "--tools",
        "echo",
        "--max-calls",
        "3",
        "-o",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The wrong CA: refused with a clear error, exit 5 (unreachable).
    let other = Pki::new("Another CA");
    let out = run(&["--ca", other.ca_file().to_str().unwrap(), "health"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("TLS handshake") && stderr.contains("UnknownIssuer"),
        "{stderr}"
    );
    // The system roots do not know the test CA either.
    let out = run(&["health"]);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // IGCTL_CA works like --ca.
    let out = igctl(
        &[
            "--url".into(),
            url.clone(),
            "--token".into(),
            ADMIN_TOKEN.into(),
            "health".into(),
        ],
        &[("IGCTL_CA", ca.to_str().unwrap())],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_config(env: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(igd_bin());
    cmd.arg("check-config")
        .env_clear()
        .env("INTENTGATE_DATA_DIR", dir.path().join("data"))
        .env("INTENTGATE_MASTER_KEY", "7".repeat(64));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn check_config_and_start_refuse_bad_certificates_and_keys() {
    let pki = Pki::new("IntentGate test CA");
    let good = pki.issue("good");
    let other = pki.issue("other");
    let garbage = pki.path("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate\n").unwrap();
    let bad_base64 = pki.path("bad-base64.pem");
    std::fs::write(
        &bad_base64,
        "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let bad_der = pki.path("bad-der.pem");
    std::fs::write(
        &bad_der,
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = pki.path("missing.pem");
    let expired = pki.issue_with("expired", |params| {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let early = pki.issue_with("early", |params| {
        params.not_before = rcgen::date_time_ymd(2090, 1, 1);
        params.not_after = rcgen::date_time_ymd(2091, 1, 1);
    });
    let p = |x: &std::path::Path| x.to_str().unwrap().to_string();

    let (code, out) = check_config(&[
        ("INTENTGATE_TLS_CERT", &p(&good.cert)),
        ("INTENTGATE_TLS_KEY", &p(&good.key)),
    ]);
    assert_eq!(code, 0, "{out}");

    let cases: &[(&str, String, String, &str)] = &[
        (
            "unreadable cert",
            p(&missing),
            p(&good.key),
            "INTENTGATE_TLS_CERT",
        ),
        (
            "garbage cert",
            p(&garbage),
            p(&good.key),
            "INTENTGATE_TLS_CERT",
        ),
        (
            "bad base64 cert",
            p(&bad_base64),
            p(&good.key),
            "INTENTGATE_TLS_CERT",
        ),
        (
            "cert that does not parse",
            p(&bad_der),
            p(&good.key),
            "INTENTGATE_TLS_CERT",
        ),
        (
            "expired cert",
            p(&expired.cert),
            p(&expired.key),
            "INTENTGATE_TLS_CERT",
        ),
        (
            "cert not valid yet",
            p(&early.cert),
            p(&early.key),
            "INTENTGATE_TLS_CERT",
        ),
        (
            "the CA certificate first",
            p(&pki.ca_file()),
            p(&good.key),
            "INTENTGATE_TLS_CERT",
        ),
        (
            "unreadable key",
            p(&good.cert),
            p(&missing),
            "INTENTGATE_TLS_KEY",
        ),
        (
            "garbage key",
            p(&good.cert),
            p(&garbage),
            "INTENTGATE_TLS_KEY",
        ),
        (
            "key of another certificate",
            p(&good.cert),
            p(&other.key),
            "INTENTGATE_TLS_KEY",
        ),
    ];
    for (what, cert, key, variable) in cases {
        let (code, out) =
            check_config(&[("INTENTGATE_TLS_CERT", cert), ("INTENTGATE_TLS_KEY", key)]);
        assert_eq!(code, 64, "{what}: {out}");
        assert!(out.contains(variable), "{what}: {out}");
    }

    // igd run refuses the same at start, before listening.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(igd_bin())
        .env_clear()
        .env("INTENTGATE_DATA_DIR", dir.path().join("data"))
        .env("INTENTGATE_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("INTENTGATE_TLS_CERT", p(&good.cert))
        .env("INTENTGATE_TLS_KEY", p(&other.key))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(64), "{text}");
    assert!(text.contains("INTENTGATE_TLS_KEY"), "{text}");
}

/// The leaf certificate a new handshake sees.
fn served_leaf(igd: &Igd, ca: &[u8]) -> Vec<u8> {
    let stream = tls_connect(igd.addr, ca).expect("handshake");
    stream
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .unwrap_or_default()
}

#[test]
fn sighup_reloads_the_certificate_without_dropping_connections() {
    let pki = Pki::new("IntentGate test CA");
    let first = pki.issue("first");
    let second = pki.issue("second");
    // igd reads the paths it was given: the test swaps the files behind them.
    let cert = pki.path("live.crt");
    let key = pki.path("live.key");
    std::fs::copy(&first.cert, &cert).unwrap();
    std::fs::copy(&first.key, &key).unwrap();
    let live = Issued {
        cert: cert.clone(),
        key: key.clone(),
        der: first.der.clone(),
    };
    let igd = start_tls(&pki, &live, &[]);
    let ca = pki.ca_pem();
    assert_eq!(served_leaf(&igd, &ca), first.der);

    // A keep-alive connection opened before the reload.
    let mut kept = tls_connect(igd.addr, &ca).unwrap();
    let get = format!(
        "GET /healthz HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
        igd.addr
    );
    kept.write_all(get.as_bytes()).unwrap();
    assert_eq!(read_one_response(&mut kept).unwrap().status, 200);

    std::fs::copy(&second.cert, &cert).unwrap();
    std::fs::copy(&second.key, &key).unwrap();
    igd.hup();
    let deadline = Instant::now() + Duration::from_secs(30);
    while served_leaf(&igd, &ca) != second.der {
        assert!(
            Instant::now() < deadline,
            "new handshakes never saw the new certificate; logs:\n{}",
            igd.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The connection from before the reload still works, with the certificate it started with.
    kept.write_all(get.as_bytes()).unwrap();
    assert_eq!(read_one_response(&mut kept).unwrap().status, 200);
    assert_eq!(
        kept.conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.to_vec()),
        Some(first.der.clone())
    );

    // A broken pair on reload leaves the current certificate in force.
    std::fs::write(&key, "garbage").unwrap();
    igd.hup();
    igd.wait_for_log("TLS certificate reload failed");
    assert_eq!(served_leaf(&igd, &ca), second.der);
    kept.write_all(get.as_bytes()).unwrap();
    assert_eq!(read_one_response(&mut kept).unwrap().status, 200);
}

#[test]
fn bearer_off_loopback_needs_tls_and_is_accepted_with_it() {
    let pki = Pki::new("IntentGate test CA");
    let server = pki.issue("server");
    let base = [
        ("INTENTGATE_LISTEN", "0.0.0.0:0"),
        ("INTENTGATE_ADMIN_TOKEN", ADMIN_TOKEN),
    ];
    let (code, out) = check_config(&base);
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("TLS"), "{out}");
    let mut with_tls = base.to_vec();
    with_tls.push(("INTENTGATE_TLS_CERT", server.cert.to_str().unwrap()));
    with_tls.push(("INTENTGATE_TLS_KEY", server.key.to_str().unwrap()));
    let (code, out) = check_config(&with_tls);
    assert_eq!(code, 0, "{out}");
    // TLS named but not loadable does not pass the rule.
    let missing = pki.path("missing.crt");
    with_tls[2] = ("INTENTGATE_TLS_CERT", missing.to_str().unwrap());
    let (code, out) = check_config(&with_tls);
    assert_eq!(code, 64, "{out}");
}
