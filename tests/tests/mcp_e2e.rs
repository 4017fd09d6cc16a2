//! End-to-end: real MCP clients (Python `mcp`, TypeScript SDK) through igd to real upstreams
//! (Python MCPServer, server-everything). The matrix runs every case for each of the 4 pairs.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_proto::keys::MasterKey;
use intentgate_proto::token::{mint, RootClaims};
use intentgate_tests::*;
use serde_json::{json, Value};

const MASTER: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

struct Tools {
    /// Tools the token lists, in sorted order, that upstream also has.
    listed: &'static [&'static str],
    /// Token tools as minted (may include one upstream lacks).
    minted: &'static str,
    /// An allowed call and the text upstream answers.
    allowed: (&'static str, Value, &'static str),
    /// A tool upstream has that the token does not list.
    out_of_scope: &'static str,
    /// A tool in scope that the policy denies, and its reason.
    denied: (&'static str, &'static str),
}

const PY_TOOLS: Tools = Tools {
    listed: &["delete_records", "echo", "read_invoice"],
    minted: "echo,read_invoice,delete_records,not_in_policy",
    allowed: ("read_invoice", Value::Null, "invoice 7: 42.00 EUR"),
    out_of_scope: "fail_tool",
    denied: ("not_in_policy", "tool is not covered by the policy"),
};

const EV_TOOLS: Tools = Tools {
    listed: &["echo", "get-env", "get-sum"],
    minted: "echo,get-sum,get-env",
    allowed: ("get-sum", Value::Null, "The sum of 1 and 2 is 3."),
    out_of_scope: "get-tiny-image",
    denied: ("get-env", "tool is not covered by the policy"),
};

fn allowed_args(tool: &str) -> Value {
    match tool {
        "read_invoice" => json!({"invoice_id": "7"}),
        "get-sum" => json!({"a": 1, "b": 2}),
        _ => json!({}),
    }
}

fn start_igd(upstream: &Upstream) -> Igd {
    let policy = workspace().join("policies/example.rego");
    Igd::start(&[
        ("INTENTGATE_UPSTREAM_URL", &upstream.url),
        (
            "INTENTGATE_POLICY_FILE",
            policy.to_str().unwrap_or_default(),
        ),
        ("INTENTGATE_MASTER_KEY", MASTER),
        // Escalations are refused at once here; the queue itself is tested in approvals.rs.
        ("INTENTGATE_APPROVAL_QUEUE", "off"),
    ])
}

fn expect_refusal(step: &Value, code: i64, reason_part: &str) {
    assert_eq!(step["ok"], false, "{step}");
    assert_eq!(step["code"], code, "{step}");
    let reason = step["data"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(reason_part),
        "reason {reason:?} lacks {reason_part:?}: {step}"
    );
    assert!(
        step["data"]["decision_id"]
            .as_str()
            .is_some_and(|d| d.len() == 32),
        "{step}"
    );
}

fn cell(client: McpClient, upstream: Upstream, tools: &Tools) {
    let mut igd = start_igd(&upstream);
    let url = format!("http://{}/v1/mcp", igd.addr);
    let (token, jti) = igd.mint("acme", "agent-e2e", tools.minted, 100);
    let (allowed_tool, _, allowed_text) = &tools.allowed;

    let steps = json!([
        {"op": "list"},
        {"op": "call", "tool": allowed_tool, "args": allowed_args(allowed_tool)},
        {"op": "call", "tool": tools.out_of_scope},
        {"op": "call", "tool": tools.denied.0},
        {"op": "session"},
    ]);
    let out = run_client(client, &url, &token, &steps, None);
    assert_eq!(out.len(), 5, "{out:?}");
    // The listed tools are exactly the allowed subset.
    assert_eq!(out[0]["result"], json!(tools.listed), "{out:?}");
    // An allowed call returns upstream's result.
    assert_eq!(out[1]["result"]["text"][0], *allowed_text, "{out:?}");
    // Out of scope: refused, never reaches upstream.
    expect_refusal(&out[2], -31001, "outside the token's scope");
    // The policy's reason appears in the error.
    expect_refusal(&out[3], -31002, tools.denied.1);
    if upstream.call_log.is_some() {
        let calls = upstream.calls();
        assert!(calls.contains(&allowed_tool.to_string()), "{calls:?}");
        assert!(
            !calls.contains(&tools.out_of_scope.to_string()),
            "{calls:?}"
        );
        assert!(!calls.contains(&tools.denied.0.to_string()), "{calls:?}");
    }
    // An escalation is refused while the approvals queue does not exist.
    if tools.listed.contains(&"delete_records") {
        let out = run_client(
            client,
            &url,
            &token,
            &json!([{"op": "call", "tool": "delete_records", "args": {"table": "t"}}]),
            None,
        );
        expect_refusal(&out[0], -31004, "approvals queue not enabled");
        assert!(!upstream.calls().contains(&"delete_records".to_string()));
    }

    // max_calls exhausted → −31003.
    let (small, _) = igd.mint("acme", "agent-small", "echo", 2);
    let echo = json!({"op": "call", "tool": "echo", "args": {"message": "m"}});
    let out = run_client(client, &url, &small, &json!([echo, echo, echo]), None);
    assert_eq!(out[0]["ok"], true, "{out:?}");
    assert_eq!(out[1]["ok"], true, "{out:?}");
    expect_refusal(&out[2], -31003, "max_calls exhausted");

    // Token problems: the client cannot get through (401 with −31001).
    let garbage = run_client(client, &url, "ig1.garbage", &json!([{"op": "list"}]), None);
    assert_eq!(garbage[0]["ok"], false, "{garbage:?}");
    token_refusals(&igd, &token, &jti);

    // A 2025-era session id survives an igd restart.
    if client == McpClient::TypeScript {
        let sid = out_session(&run_client(
            client,
            &url,
            &token,
            &json!([{"op": "session"}]),
            None,
        ));
        igd.kill_and_restart();
        let again = run_client(
            client,
            &url,
            &token,
            &json!([{"op": "session"}, echo]),
            Some(&sid),
        );
        assert_eq!(again[0]["result"], sid.as_str(), "{again:?}");
        assert_eq!(again[1]["ok"], true, "call in a resumed session: {again:?}");
    } else {
        igd.kill_and_restart();
        let again = run_client(client, &url, &token, &json!([echo]), None);
        assert_eq!(again[0]["ok"], true, "{again:?}");
    }

    // The audit chain is intact after all of it.
    let out = igd.igctl(&["audit", "verify", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(report["ok"], true);
    let acme = report["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "acme")
        .cloned()
        .unwrap_or(Value::Null);
    assert!(acme["verified"].as_u64().unwrap_or(0) >= 8, "{acme}");
}

fn out_session(out: &[Value]) -> String {
    out[0]["result"].as_str().unwrap_or_default().to_string()
}

fn mcp_headers(auth: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Authorization", auth.to_string()),
        ("Content-Type", "application/json".into()),
        ("Accept", "application/json, text/event-stream".into()),
        ("MCP-Protocol-Version", "2026-07-28".into()),
        ("Mcp-Method", "tools/list".into()),
    ]
}

const MODERN_LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

fn post(igd: &Igd, headers: &[(&str, String)], body: &str) -> HttpResponse {
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    http(igd.addr, "POST", "/v1/mcp", &h, body.as_bytes()).expect("http")
}

fn assert_401(r: &HttpResponse, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text());
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"intentgate\""),
        "{what}"
    );
    assert_eq!(r.json()["error"]["code"], -31001, "{what}");
}

/// no / garbage / tampered / expired / revoked / stopped token → 401.
fn token_refusals(igd: &Igd, token: &str, jti: &str) {
    let ok = post(igd, &mcp_headers(&format!("Bearer {token}")), MODERN_LIST);
    assert_eq!(ok.status, 200, "{}", ok.text());
    let mut no_auth = mcp_headers("");
    no_auth.remove(0);
    assert_401(&post(igd, &no_auth, MODERN_LIST), "no token");
    assert_401(
        &post(igd, &mcp_headers("Bearer ig1.AAAA"), MODERN_LIST),
        "garbage",
    );
    let mut tampered = token.to_string().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    assert_401(
        &post(
            igd,
            &mcp_headers(&format!("Bearer {tampered}")),
            MODERN_LIST,
        ),
        "tampered",
    );
    let key = MasterKey::parse(MASTER).unwrap().token_key();
    let expired = mint(
        &key,
        RootClaims {
            kid: String::new(),
            jti: "0123456789abcdef0123456789abcdef".into(),
            tenant: "acme".into(),
            sub: "agent-old".into(),
            tools: vec!["echo".into()],
            max_calls: 5,
            iat: 1_000_000,
            exp: 2_000_000,
            all_tools: false,
        },
    )
    .unwrap();
    assert_401(
        &post(igd, &mcp_headers(&format!("Bearer {expired}")), MODERN_LIST),
        "expired",
    );

    let (victim, victim_jti) = igd.mint("acme", "agent-victim", "echo", 5);
    assert!(igd
        .igctl(&["revoke", &victim_jti, "--reason", "e2e"])
        .status
        .success());
    assert_401(
        &post(igd, &mcp_headers(&format!("Bearer {victim}")), MODERN_LIST),
        "revoked",
    );
    let (stopped, _) = igd.mint("acme", "agent-stopped", "echo", 5);
    assert!(igd
        .igctl(&[
            "stop",
            "--tenant",
            "acme",
            "--subject",
            "agent-stopped",
            "--reason",
            "e2e"
        ])
        .status
        .success());
    assert_401(
        &post(igd, &mcp_headers(&format!("Bearer {stopped}")), MODERN_LIST),
        "stopped",
    );
    // The main token is untouched by the others' refusals.
    assert_eq!(
        post(igd, &mcp_headers(&format!("Bearer {token}")), MODERN_LIST).status,
        200
    );
    let _ = jti;
}

#[test]
fn python_client_python_upstream() {
    cell(McpClient::Python, Upstream::python(), &PY_TOOLS);
}

#[test]
fn python_client_everything_upstream() {
    cell(McpClient::Python, Upstream::everything(), &EV_TOOLS);
}

#[test]
fn typescript_client_python_upstream() {
    cell(McpClient::TypeScript, Upstream::python(), &PY_TOOLS);
}

#[test]
fn typescript_client_everything_upstream() {
    cell(McpClient::TypeScript, Upstream::everything(), &EV_TOOLS);
}

/// An agent that goes away mid-call gets its upstream request cancelled (2025 era:
/// `notifications/cancelled` on its upstream session) and the outcome records it (499).
#[test]
fn agent_disconnect_cancels_the_upstream_call() {
    use std::io::{Read, Write};
    let upstream = Upstream::everything();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.rego");
    std::fs::write(
        &policy,
        "package intentgate.policy\n\ndecision := {\"allow\": true, \"reason\": \"test\"}\n",
    )
    .unwrap();
    let igd = Igd::start(&[
        ("INTENTGATE_UPSTREAM_URL", &upstream.url),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
    ]);
    let (token, _) = igd.mint("acme", "agent-gone", "trigger-long-running-operation", 10);
    let auth = format!("Bearer {token}");
    let base = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
    ];
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let r = http(igd.addr, "POST", "/v1/mcp", &base, init.as_bytes()).unwrap();
    let sid = r.header("mcp-session-id").unwrap().to_string();
    let mut h: Vec<(&str, &str)> = base.to_vec();
    h.push(("Mcp-Session-Id", &sid));
    h.push(("MCP-Protocol-Version", "2025-06-18"));
    let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    assert_eq!(
        http(igd.addr, "POST", "/v1/mcp", &h, note.as_bytes())
            .unwrap()
            .status,
        202
    );

    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"trigger-long-running-operation","arguments":{"duration":3,"steps":3},"_meta":{"progressToken":"p1"}}}"#;
    let mut s = std::net::TcpStream::connect(igd.addr).unwrap();
    let mut req = format!(
        "POST /v1/mcp HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
        call.len()
    );
    for (k, v) in &h {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(call.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("data:") {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "stream ended early: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&got).contains("text/event-stream"));
    drop(s); // the agent goes away mid-call
    let mut status = Value::Null;
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let out = igd.igctl(&[
            "audit",
            "list",
            "--tenant",
            "acme",
            "--decision",
            "allow",
            "-o",
            "json",
        ]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        status = v["entries"][0]["outcome"]["upstream_status"].clone();
        if !status.is_null() {
            break;
        }
    }
    assert_eq!(status, 499, "outcome of an abandoned call");
    assert!(igd.logs().contains("upstream request cancelled"));
}

/// Real MCP clients reach igd over TLS (`https://…/v1/mcp`), trusting the test CA: Python's
/// httpx client through `SSL_CERT_FILE`, Node through `NODE_EXTRA_CA_CERTS`.
fn over_tls(client: McpClient, ca_env: &str) {
    let pki = intentgate_tests::pki::Pki::new("IntentGate e2e CA");
    let server = pki.issue("igd");
    let upstream = Upstream::python();
    let policy = workspace().join("policies/example.rego");
    let igd = Igd::start_tls(
        &[
            ("INTENTGATE_UPSTREAM_URL", &upstream.url),
            (
                "INTENTGATE_POLICY_FILE",
                policy.to_str().unwrap_or_default(),
            ),
            ("INTENTGATE_MASTER_KEY", MASTER),
            ("INTENTGATE_TLS_CERT", server.cert.to_str().unwrap()),
            ("INTENTGATE_TLS_KEY", server.key.to_str().unwrap()),
        ],
        &pki.ca_pem(),
    );
    let url = format!("https://127.0.0.1:{}/v1/mcp", igd.addr.port());
    let (token, _) = igd.mint("acme", "agent-tls", PY_TOOLS.minted, 10);
    let steps = json!([
        {"op": "list"},
        {"op": "call", "tool": "read_invoice", "args": allowed_args("read_invoice")},
    ]);
    let ca = pki.ca_file();
    let out = run_client_with_env(
        client,
        &url,
        &token,
        &steps,
        None,
        &[(ca_env, ca.to_str().unwrap())],
    );
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0]["result"], json!(PY_TOOLS.listed), "{out:?}");
    assert_eq!(out[1]["result"]["text"][0], PY_TOOLS.allowed.2, "{out:?}");
    assert!(upstream.calls().contains(&"read_invoice".to_string()));

    // Without the CA the client does not get through.
    let out = run_client(client, &url, &token, &json!([{"op": "list"}]), None);
    assert_ne!(out[0]["ok"], true, "{out:?}");
}

#[test]
fn python_client_over_tls() {
    over_tls(McpClient::Python, "SSL_CERT_FILE");
}

#[test]
fn typescript_client_over_tls() {
    over_tls(McpClient::TypeScript, "NODE_EXTRA_CA_CERTS");
}
