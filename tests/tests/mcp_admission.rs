//! Admission on the MCP endpoint (DESIGN §2): no message reaches upstream without passing the
//! checks, every refusal of an authenticated request is chained, names are bounded before
//! anything is stored, and refusals at authentication are rate-limited.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use sha2::Digest as _;
use std::time::{Duration, Instant};

const POLICY: &str = "package intentgate.policy\n\ndefault decision := {\"allow\": false, \"reason\": \"not allowed here\"}\n\ndecision := {\"allow\": true, \"reason\": \"fine\"} if {\n\tinput.tool in {\"echo\", \"confirm\"}\n}\n";

struct Env {
    igd: Igd,
    token: String,
    _dir: tempfile::TempDir,
}

fn start(extra: &[(&str, &str)]) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.rego");
    std::fs::write(&policy, POLICY).unwrap();
    let mut env: Vec<(&str, &str)> = vec![("INTENTGATE_POLICY_FILE", policy.to_str().unwrap())];
    if !extra.iter().any(|(k, _)| *k == "INTENTGATE_UPSTREAM_URL") {
        env.push(("INTENTGATE_UPSTREAM_URL", "stub"));
    }
    env.extend_from_slice(extra);
    let igd = Igd::start(&env);
    let (token, _) = igd.mint("acme", "agent-a", "echo,read_invoice,confirm", 100);
    Env {
        igd,
        token,
        _dir: dir,
    }
}

const META: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

/// A 2026-era message: `id` absent when `None`, else its value (which may be `null`).
fn modern(method: &str, params: &Value, id: Option<Value>) -> String {
    let mut p = params.clone();
    p["_meta"] = serde_json::from_str(META).unwrap();
    let mut m = json!({"jsonrpc": "2.0", "method": method, "params": p});
    if let Some(id) = id {
        m["id"] = id;
    }
    m.to_string()
}

fn modern_headers(token: &str, method: &str, name: Option<&str>) -> Vec<(String, String)> {
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

fn without(h: &[(String, String)], name: &str) -> Vec<(String, String)> {
    h.iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
        .cloned()
        .collect()
}

fn send(igd: &Igd, method: &str, headers: &[(String, String)], body: &str) -> HttpResponse {
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    http(igd.addr, method, "/v1/mcp", &h, body.as_bytes()).expect("http")
}

/// Open a 2025-era session (initialize + initialized); returns its id.
fn open_session(igd: &Igd, token: &str) -> String {
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"t","version":"1"}}}"#;
    let r = send(igd, "POST", &legacy_headers(token, None), init);
    assert_eq!(r.status, 200, "{}", r.text());
    let sid = r.header("mcp-session-id").expect("session id").to_string();
    let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let r = send(igd, "POST", &legacy_headers(token, Some(&sid)), note);
    assert_eq!(r.status, 202, "{}", r.text());
    sid
}

/// Every entry of a tenant's chain (newest first).
fn entries(igd: &Igd, tenant: &str) -> Vec<Value> {
    let out = igd.igctl(&[
        "audit", "list", "--tenant", tenant, "--limit", "1000", "-o", "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["entries"].as_array().cloned().unwrap_or_default()
}

fn entry(igd: &Igd, tenant: &str, event_id: &str) -> Value {
    entries(igd, tenant)
        .into_iter()
        .find(|e| e["event_id"] == event_id)
        .unwrap_or_else(|| panic!("no entry {event_id} in {tenant}"))
}

/// A refusal with −32600 at HTTP 400 whose decision entry is chained in `acme`.
fn assert_refused_and_chained(igd: &Igd, r: &HttpResponse, method: &str, what: &str) -> Value {
    assert_eq!(r.status, 400, "{what}: {}", r.text());
    let v = r.json();
    assert_eq!(v["error"]["code"], -32600, "{what}: {v}");
    let id = v["error"]["data"]["decision_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no decision_id: {v}"))
        .to_string();
    let e = entry(igd, "acme", &id);
    assert_eq!(e["decision"], "block", "{what}: {e}");
    assert_eq!(e["subject"], "agent-a", "{what}: {e}");
    if method.is_empty() {
        assert!(e["method"].is_null(), "{what}: {e}");
    } else {
        assert_eq!(e["method"], method, "{what}: {e}");
    }
    e
}

/// The gated families, with the name they act on (checked against `Mcp-Name` where mirrored).
fn families() -> Vec<(&'static str, Value, Option<&'static str>)> {
    vec![
        (
            "tools/call",
            json!({"name": "echo", "arguments": {"m": 1}}),
            Some("echo"),
        ),
        (
            "resources/read",
            json!({"uri": "file:///etc/passwd"}),
            Some("file:///etc/passwd"),
        ),
        ("prompts/get", json!({"name": "greet"}), Some("greet")),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "a", "value": "b"}}),
            None,
        ),
        ("tools/list", json!({}), None),
    ]
}

/// Finding 1: a request without an id, or with `"id": null`, is not a notification: refused
/// (400, −32600) and chained, in both eras and for every gated method family.
#[test]
fn idless_and_null_id_requests_are_refused_and_chained() {
    let env = start(&[(
        "INTENTGATE_FORWARD_METHODS",
        "resources/*,prompts/*,completion/*",
    )]);
    let igd = &env.igd;
    let sid = open_session(igd, &env.token);
    for (method, params, name) in families() {
        for id in [None, Some(Value::Null)] {
            let what = format!("2026 era {method} id {id:?}");
            let h = modern_headers(&env.token, method, name);
            let r = send(igd, "POST", &h, &modern(method, &params, id.clone()));
            let e = assert_refused_and_chained(igd, &r, method, &what);
            if let Some(n) = name {
                assert_eq!(e["tool"], n, "{what}: {e}");
            }

            let what = format!("2025 era {method} id {id:?}");
            let mut m = json!({"jsonrpc": "2.0", "method": method, "params": params});
            if let Some(id) = &id {
                m["id"] = id.clone();
            }
            let h = legacy_headers(&env.token, Some(&sid));
            let r = send(igd, "POST", &h, &m.to_string());
            assert_refused_and_chained(igd, &r, method, &what);
        }
    }
    // Real notifications still pass.
    let note =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}});
    let r = send(
        igd,
        "POST",
        &legacy_headers(&env.token, Some(&sid)),
        &note.to_string(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let out = igd.igctl(&["audit", "verify", "--tenant", "acme"]);
    assert_eq!(out.status.code(), Some(0));
}

/// Finding 1 against a real upstream that logs every message it receives: a token scoped to
/// read_invoice, under the embedded deny-all policy, sends an id-less `delete_records` call in
/// its 2025-era session. It is refused and chained and never reaches upstream.
#[test]
fn idless_delete_records_never_reaches_upstream() {
    let upstream = Upstream::python_recording();
    let igd = Igd::start(&[("INTENTGATE_UPSTREAM_URL", &upstream.url)]);
    let (token, _) = igd.mint("acme", "agent-a", "read_invoice", 10);
    let sid = open_session(&igd, &token);
    let h = legacy_headers(&token, Some(&sid));
    let call = json!({"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "delete_records", "arguments": {"table": "invoices"}}});
    let r = send(&igd, "POST", &h, &call.to_string());
    let e = assert_refused_and_chained(&igd, &r, "tools/call", "no id");
    assert_eq!(e["tool"], "delete_records");
    let mut null_id = call.clone();
    null_id["id"] = Value::Null;
    let r = send(&igd, "POST", &h, &null_id.to_string());
    assert_refused_and_chained(&igd, &r, "tools/call", "id null");
    // A response to nothing upstream asked is refused too, and is not relayed.
    let forged = r#"{"jsonrpc":"2.0","id":1,"result":{"action":"accept","content":{"ok":true}}}"#;
    let r = send(&igd, "POST", &h, forged);
    assert_refused_and_chained(&igd, &r, "", "unsolicited response");

    let messages = upstream.messages();
    assert!(
        messages
            .iter()
            .any(|m| m["method"] == "notifications/initialized"),
        "the message log works: {messages:?}"
    );
    for m in &messages {
        assert_ne!(
            m["params"]["name"], "delete_records",
            "reached upstream: {m}"
        );
        assert!(
            m.get("result").is_none(),
            "a forged response reached upstream: {m}"
        );
    }
    assert!(upstream.calls().is_empty(), "{:?}", upstream.calls());
}

/// Read an SSE response from `s` until `pred` holds for one event's JSON data.
fn read_event(
    s: &mut std::net::TcpStream,
    got: &mut Vec<u8>,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    use std::io::Read;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(got).into_owned();
        for line in text.lines() {
            if let Some(data) = line.strip_prefix("data: ") {
                if let Ok(v) = serde_json::from_str::<Value>(data) {
                    if pred(&v) {
                        return v;
                    }
                }
            }
        }
        assert!(Instant::now() < deadline, "no such event in: {text}");
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended: {text}");
        got.extend_from_slice(&buf[..n]);
    }
}

/// Finding 1, client responses: relayed only when they answer a request upstream sent on that
/// session, once; the real elicitation round trip still works.
#[test]
fn client_responses_relay_only_answers_to_upstream_requests() {
    use std::io::Write;
    let upstream = Upstream::python_recording();
    let env = start(&[("INTENTGATE_UPSTREAM_URL", &upstream.url)]);
    let igd = &env.igd;
    let sid = open_session(igd, &env.token);
    let h = legacy_headers(&env.token, Some(&sid));
    // Nothing asked yet: refused.
    let early = r#"{"jsonrpc":"2.0","id":0,"result":{"action":"accept","content":{"ok":true}}}"#;
    assert_refused_and_chained(igd, &send(igd, "POST", &h, early), "", "before any request");

    let call = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"confirm","arguments":{"question":"sure?"}}}"#;
    let mut s = std::net::TcpStream::connect(igd.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
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
    let ask = read_event(&mut s, &mut got, |v| v["method"] == "elicitation/create");
    let ask_id = ask["id"].clone();
    // Another session of the same agent cannot answer it.
    let other = open_session(igd, &env.token);
    let answer = json!({"jsonrpc": "2.0", "id": ask_id, "result": {"action": "accept", "content": {"ok": true}}}).to_string();
    let r = send(
        igd,
        "POST",
        &legacy_headers(&env.token, Some(&other)),
        &answer,
    );
    assert_refused_and_chained(igd, &r, "", "answer on another session");
    // The right session answers once.
    let r = send(igd, "POST", &h, &answer);
    assert_eq!(r.status, 202, "{}", r.text());
    let done = read_event(&mut s, &mut got, |v| v["id"] == 7);
    assert_eq!(
        done["result"]["content"][0]["text"], "confirmed: True",
        "{done}"
    );
    let r = send(igd, "POST", &h, &answer);
    assert_refused_and_chained(igd, &r, "", "answered twice");
    let relayed = upstream
        .messages()
        .iter()
        .filter(|m| m.get("result").is_some())
        .count();
    assert_eq!(relayed, 1, "{:?}", upstream.messages());
}

fn db_bytes(igd: &Igd) -> u64 {
    ["igd.db", "igd.db-wal"]
        .iter()
        .map(|f| {
            std::fs::metadata(igd.data_dir.join(f))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum()
}

/// Finding 4: method and tool names are at most 256 bytes of printable UTF-8. The reported
/// attack — 10 unauthenticated requests with ~1 MiB tool names — no longer grows the store by
/// the names; refusals record a truncated name and the SHA-256 of the original.
#[test]
fn long_and_unprintable_names_are_refused_before_anything_is_stored() {
    let env = start(&[("INTENTGATE_MAX_BODY_BYTES", "1100000")]);
    let igd = &env.igd;
    // Settle the store (first checkpoints, etc.) before measuring.
    assert_eq!(
        send(
            igd,
            "POST",
            &modern_headers("ig1.forged", "tools/list", None),
            &modern("tools/list", &json!({}), Some(json!(1)))
        )
        .status,
        401
    );
    std::thread::sleep(Duration::from_millis(1500));
    let before = db_bytes(igd);
    let name = "x".repeat(1_000_000);
    let digest = hex::encode(sha2::Sha256::digest(name.as_bytes()));
    let body = modern(
        "tools/call",
        &json!({"name": name, "arguments": {}}),
        Some(json!(1)),
    );
    let mut ids = Vec::new();
    for _ in 0..10 {
        let r = send(
            igd,
            "POST",
            &modern_headers("ig1.forged", "tools/call", Some("x")),
            &body,
        );
        assert_eq!(r.status, 401);
        ids.push(
            r.json()["error"]["data"]["decision_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let stored = entries(igd, "_unauthenticated");
    for id in &ids {
        let e = stored.iter().find(|e| e["event_id"] == *id).unwrap();
        let tool = e["tool"].as_str().unwrap();
        assert!(tool.len() <= 67 && tool.starts_with("xxxx"), "{tool}");
        assert!(e["reason"].as_str().unwrap().contains(&digest), "{e}");
    }
    // What the store holds for them, counted from the export: each entry stays under 4 KiB.
    let out = igd.igctl(&[
        "audit",
        "export",
        "--tenant",
        "_unauthenticated",
        "--format",
        "ndjson",
    ]);
    let exported: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| ids.iter().any(|id| l.contains(id.as_str())))
        .map(|l| l.len() as u64)
        .sum();
    assert!(
        exported > 0 && exported <= 10 * 4096,
        "{exported} bytes exported"
    );
    // And on disk: less than one of the names for all ten (WAL pages included).
    let grown = db_bytes(igd).saturating_sub(before);
    eprintln!("10 refusals with 1 MB names: {exported} bytes of entries, store grew {grown} bytes");
    assert!(grown < 1_000_000, "the store grew by {grown} bytes");

    // Authenticated: refused before the pipeline, in both eras, recorded truncated + hashed.
    let sid = open_session(igd, &env.token);
    let h = legacy_headers(&env.token, Some(&sid));
    for (what, tool) in [
        ("300 bytes", "y".repeat(300)),
        ("escape sequence", "echo\u{1b}]0;owned\u{7}".to_string()),
        ("bidi override", "echo\u{202e}".to_string()),
    ] {
        let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": tool, "arguments": {}}});
        let r = send(igd, "POST", &h, &call.to_string());
        let e = assert_refused_and_chained(igd, &r, "tools/call", what);
        let kept = e["tool"].as_str().unwrap();
        assert!(
            kept.len() <= 67 && !kept.contains('\u{1b}'),
            "{what}: {kept:?}"
        );
        let digest = hex::encode(sha2::Sha256::digest(tool.as_bytes()));
        assert!(
            e["reason"].as_str().unwrap().contains(&digest),
            "{what}: {e}"
        );
    }
    let long_method = format!("tools/{}", "z".repeat(300));
    let r = send(
        igd,
        "POST",
        &h,
        &json!({"jsonrpc": "2.0", "id": 4, "method": long_method}).to_string(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["error"]["data"]["decision_id"].is_string());
    let long = "w".repeat(300);
    let r = send(
        igd,
        "POST",
        &modern_headers(&env.token, "tools/call", Some(&long)),
        &modern(
            "tools/call",
            &json!({"name": long, "arguments": {}}),
            Some(json!(5)),
        ),
    );
    assert_refused_and_chained(igd, &r, "tools/call", "2026 era 300 bytes");
}

/// Finding 4: `INTENTGATE_AUDIT_UNAUTH_MAX_BYTES` bounds `_unauthenticated` besides its rows.
#[test]
fn unauthenticated_byte_quota() {
    let env = start(&[("INTENTGATE_AUDIT_UNAUTH_MAX_BYTES", "20480")]);
    for _ in 0..9 {
        let r = send(
            &env.igd,
            "POST",
            &modern_headers("ig1.forged", "tools/list", None),
            &modern("tools/list", &json!({}), Some(json!(1))),
        );
        assert_eq!(r.status, 401);
    }
    // 20480 bytes at 4 KiB per entry: 5 rows plus the marker.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let kept = entries(&env.igd, "_unauthenticated");
        if kept.len() <= 6 && kept.iter().any(|e| e["kind"] == "marker") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "quota not enforced: {} rows",
            kept.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = env
        .igd
        .igctl(&["audit", "verify", "--tenant", "_unauthenticated"]);
    assert_eq!(out.status.code(), Some(0));
}

/// Finding 4: a flood with one revoked token produces bounded entries: 10/s per root token,
/// beyond that one summary entry per second.
#[test]
fn dead_token_refusals_are_rate_limited() {
    let env = start(&[]);
    let igd = &env.igd;
    let (token, jti) = igd.mint("acme", "agent-revoked", "echo", 5);
    assert!(igd
        .igctl(&["revoke", &jti, "--reason", "leaked"])
        .status
        .success());
    let started = Instant::now();
    let addr = igd.addr;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let token = token.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..50 {
                    let body = modern(
                        "tools/call",
                        &json!({"name": "echo", "arguments": {}}),
                        Some(json!(i)),
                    );
                    let h = modern_headers(&token, "tools/call", Some("echo"));
                    let hv: Vec<(&str, &str)> =
                        h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let r = http(addr, "POST", "/v1/mcp", &hv, body.as_bytes()).unwrap();
                    assert_eq!(r.status, 401);
                    ids.push(r.json()["error"]["data"]["decision_id"].clone());
                }
                ids
            })
        })
        .collect();
    let ids: Vec<Value> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let seconds = started.elapsed().as_secs() + 2;
    // Every refusal is accounted for by an entry: its own, or its second's summary.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut chained;
    loop {
        let all = entries(igd, "acme");
        chained = all
            .iter()
            .filter(|e| e["root_jti"] == jti.as_str() && e["decision"] == "block")
            .count();
        let missing = ids
            .iter()
            .filter(|id| !all.iter().any(|e| e["event_id"] == **id))
            .count();
        // Suppressed refusals (fewer distinct ids than refusals) are answered with an opening
        // summary entry, and counted by a closing one per second once that second is over.
        let distinct: std::collections::BTreeSet<String> =
            ids.iter().map(|v| v.to_string()).collect();
        let suppressed = distinct.len() < ids.len();
        let summaries = all
            .iter()
            .filter(|e| e["reason"].as_str().unwrap_or("").contains("(summarized)"))
            .count() as u64;
        if missing == 0 && summaries >= u64::from(suppressed) {
            assert!(summaries <= seconds, "{summaries} summaries in {seconds} s");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} refusals unaccounted for"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        (chained as u64) <= 10 * seconds,
        "{chained} entries for 200 refusals in {seconds} s"
    );
}

/// Finding 12: GET authenticates first (401, recorded) and only then answers 405.
#[test]
fn get_authenticates_before_405() {
    let env = start(&[]);
    let igd = &env.igd;
    let h = without(
        &modern_headers(&env.token, "tools/list", None),
        "Authorization",
    );
    let r = send(igd, "GET", &h, "");
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"intentgate\"")
    );
    let id = r.json()["error"]["data"]["decision_id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = entry(igd, "_unauthenticated", &id);
    assert!(e["reason"].as_str().unwrap().contains("GET"), "{e}");
    let r = send(
        igd,
        "GET",
        &modern_headers(&env.token, "tools/list", None),
        "",
    );
    assert_eq!(r.status, 405);
}

/// Finding 12: DELETE refusals at authentication are recorded like POST's.
#[test]
fn delete_refusals_are_recorded() {
    let env = start(&[]);
    let igd = &env.igd;
    let sid = open_session(igd, &env.token);
    let h = legacy_headers("ig1.forged", Some(&sid));
    let r = send(igd, "DELETE", &h, "");
    assert_eq!(r.status, 401);
    let id = r.json()["error"]["data"]["decision_id"]
        .as_str()
        .unwrap_or_else(|| panic!("not recorded: {}", r.text()))
        .to_string();
    entry(igd, "_unauthenticated", &id);
    let (dead, jti) = igd.mint("acme", "agent-a", "echo", 5);
    assert!(igd
        .igctl(&["revoke", &jti, "--reason", "x"])
        .status
        .success());
    let r = send(igd, "DELETE", &legacy_headers(&dead, Some(&sid)), "");
    assert_eq!(r.status, 401);
    let id = r.json()["error"]["data"]["decision_id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = entry(igd, "acme", &id);
    assert_eq!(e["root_jti"], jti.as_str());
    // The session survived the refused DELETEs.
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    assert_eq!(
        send(igd, "POST", &legacy_headers(&env.token, Some(&sid)), list).status,
        200
    );
}

/// Finding 12: a missing MCP-Protocol-Version header means 2025-03-26, whatever `_meta` says.
#[test]
fn missing_version_header_means_2025_03_26() {
    let env = start(&[]);
    let igd = &env.igd;
    let sid = open_session(igd, &env.token);
    let h = without(
        &legacy_headers(&env.token, Some(&sid)),
        "MCP-Protocol-Version",
    );
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"1999-01-01"}}}"#;
    let r = send(igd, "POST", &h, list);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["result"]["tools"].is_array(), "{}", r.text());
    // A body claiming the stateless era without the header disagrees with it.
    let r = send(
        igd,
        "POST",
        &h,
        &modern("tools/list", &json!({}), Some(json!(3))),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32020);
}

/// Siblings of finding 1: other ways a message could slip past the checks.
#[test]
fn odd_messages_are_refused_and_chained() {
    let env = start(&[("INTENTGATE_FORWARD_METHODS", "resources/*")]);
    let igd = &env.igd;
    let sid = open_session(igd, &env.token);
    let h = legacy_headers(&env.token, Some(&sid));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "batch with a call",
            r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}]"#.into(),
            "",
        ),
        (
            "notification path trick",
            r#"{"jsonrpc":"2.0","method":"notifications/../tools/call","params":{"name":"echo","arguments":{}}}"#.into(),
            "notifications/../tools/call",
        ),
        (
            "trailing space",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call ","params":{"name":"echo","arguments":{}}}"#.into(),
            "tools/call ",
        ),
        (
            "dot segments into a forwarded family",
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/../tools/call","params":{"name":"echo","uri":"x"}}"#.into(),
            "resources/../tools/call",
        ),
        (
            "extra member",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}},"result":{}}"#.into(),
            "tools/call",
        ),
        (
            "unknown member",
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}},"name":"x"}"#.into(),
            "tools/call",
        ),
        (
            "boolean id",
            r#"{"jsonrpc":"2.0","id":true,"method":"tools/call","params":{"name":"echo"}}"#.into(),
            "tools/call",
        ),
        (
            "id beyond 64 bits",
            r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/call","params":{"name":"echo"}}"#.into(),
            "tools/call",
        ),
        (
            "response without an id",
            r#"{"jsonrpc":"2.0","result":{}}"#.into(),
            "",
        ),
    ];
    for (what, body, method) in &cases {
        let r = send(igd, "POST", &h, body);
        let e = assert_refused_and_chained(igd, &r, method, what);
        assert_eq!(e["check"], "request", "{what}: {e}");
    }
    // A client response in the stateless era has no session to answer in.
    let r = send(
        igd,
        "POST",
        &modern_headers(&env.token, "tools/list", None),
        r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
    );
    assert_refused_and_chained(igd, &r, "", "2026-era response");
    // Methods igd does not serve are refused and recorded too.
    let r = send(
        igd,
        "POST",
        &h,
        r#"{"jsonrpc":"2.0","id":1,"method":"Tools/Call","params":{"name":"echo"}}"#,
    );
    assert_eq!(r.json()["error"]["code"], -32601, "{}", r.text());
    let id = r.json()["error"]["data"]["decision_id"]
        .as_str()
        .unwrap_or_else(|| panic!("not recorded: {}", r.text()))
        .to_string();
    assert_eq!(entry(igd, "acme", &id)["method"], "Tools/Call");
    // Nothing of it reached the stub as a call.
    let calls = entries(igd, "acme")
        .into_iter()
        .filter(|e| e["decision"] == "allow")
        .count();
    assert_eq!(calls, 0);
}

/// Sibling: a forwarded `completion/complete` is decided on the `ref` it completes, not on a
/// top-level `name` the method does not define.
#[test]
fn completion_is_decided_on_its_ref() {
    let env = start(&[("INTENTGATE_FORWARD_METHODS", "completion/*,prompts/*")]);
    let igd = &env.igd;
    let sid = open_session(igd, &env.token);
    let h = legacy_headers(&env.token, Some(&sid));
    for (method, params) in [
        (
            "completion/complete",
            json!({"name": "echo", "ref": {"type": "ref/prompt", "name": "secret"}, "argument": {"name": "a", "value": "b"}}),
        ),
        ("prompts/list", json!({"name": "echo"})),
    ] {
        let body = json!({"jsonrpc": "2.0", "id": 9, "method": method, "params": params});
        let r = send(igd, "POST", &h, &body.to_string());
        let v = r.json();
        assert_eq!(v["error"]["code"], -31001, "{method}: {v}");
        let id = v["error"]["data"]["decision_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_ne!(entry(igd, "acme", &id)["tool"], "echo", "{method}");
    }
}

/// Sibling of finding 4: names are bounded everywhere, minting included.
#[test]
fn mint_refuses_unbounded_tool_names() {
    let env = start(&[]);
    for tools in ["x".repeat(300), "echo,a\u{1b}[31m".to_string()] {
        let out = env.igd.igctl(&[
            "mint",
            "--tenant",
            "acme",
            "--subject",
            "s",
            "--tools",
            &tools,
            "--ttl",
            "1h",
            "--max-calls",
            "5",
        ]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("256 bytes"));
    }
}

/// Sibling: anonymous refusals are attributed (and rate-limited per address) by the client
/// address a trusted proxy forwards, not by the proxy's own; an untrusted X-Forwarded-For is
/// ignored.
#[test]
fn unauthenticated_refusals_name_the_client_behind_a_trusted_proxy() {
    for (trusted, expected) in [(true, "from 203.0.113.7"), (false, "from 127.0.0.1")] {
        let env = if trusted {
            start(&[("INTENTGATE_TRUSTED_PROXIES", "127.0.0.1")])
        } else {
            start(&[])
        };
        let mut h = modern_headers("ig1.forged", "tools/list", None);
        h.push(("X-Forwarded-For".into(), "203.0.113.7".into()));
        let r = send(
            &env.igd,
            "POST",
            &h,
            &modern("tools/list", &json!({}), Some(json!(1))),
        );
        assert_eq!(r.status, 401);
        let id = r.json()["error"]["data"]["decision_id"]
            .as_str()
            .unwrap()
            .to_string();
        let e = entry(&env.igd, "_unauthenticated", &id);
        assert!(
            e["reason"].as_str().unwrap().contains(expected),
            "trusted {trusted}: {e}"
        );
    }
}

/// Review item 1: forwarded methods are decided on the name the method defines — the `ref`'s
/// field for its type, the method's own name for list methods — and a missing or non-string
/// name is refused (−32602) and chained, never forwarded.
#[test]
fn forwarded_methods_are_decided_on_the_name_they_define() {
    let env = start(&[(
        "INTENTGATE_FORWARD_METHODS",
        "completion/*,prompts/*,resources/*",
    )]);
    let igd = &env.igd;
    let (token, _) = igd.mint("acme", "agent-a", "echo", 100);
    let sid = open_session(igd, &token);
    let h = legacy_headers(&token, Some(&sid));
    let call = |method: &str, params: Value| {
        let body = json!({"jsonrpc": "2.0", "id": 9, "method": method, "params": params});
        send(igd, "POST", &h, &body.to_string()).json()
    };
    // Decided on what the method acts on, not on an allowed name the agent put elsewhere.
    for (method, params, decided_on) in [
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "secret_prompt", "uri": "echo"}, "argument": {"name": "a", "value": "b"}}),
            "secret_prompt",
        ),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "uri": "file:///secret", "name": "echo"}, "argument": {"name": "a", "value": "b"}}),
            "file:///secret",
        ),
        ("resources/list", json!({"uri": "echo"}), "resources/list"),
        (
            "resources/templates/list",
            json!({"uri": "echo"}),
            "resources/templates/list",
        ),
        ("prompts/list", json!({"name": "echo"}), "prompts/list"),
    ] {
        let v = call(method, params);
        assert_eq!(v["error"]["code"], -31001, "{method}: {v}");
        let id = v["error"]["data"]["decision_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{method}: not recorded: {v}"))
            .to_string();
        assert_eq!(entry(igd, "acme", &id)["tool"], decided_on, "{method}");
    }
    // No usable name: invalid params, chained.
    for (method, params) in [
        (
            "completion/complete",
            json!({"ref": {"name": "echo"}, "argument": {"name": "a", "value": "b"}}),
        ),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/other", "name": "echo"}, "argument": {"name": "a", "value": "b"}}),
        ),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "uri": "echo"}, "argument": {"name": "a", "value": "b"}}),
        ),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "name": "echo"}, "argument": {"name": "a", "value": "b"}}),
        ),
        ("completion/complete", json!({"name": "echo"})),
        ("resources/read", json!({"uri": 5})),
        ("resources/read", json!({"name": "echo"})),
        ("resources/subscribe", json!({"uri": ["echo"]})),
        ("prompts/get", json!({"name": {"n": "echo"}})),
    ] {
        let v = call(method, params.clone());
        assert_eq!(v["error"]["code"], -32602, "{method} {params}: {v}");
        let id = v["error"]["data"]["decision_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{method}: not recorded: {v}"))
            .to_string();
        assert_eq!(entry(igd, "acme", &id)["method"], method);
    }
    // None of it reached upstream.
    let allowed = entries(igd, "acme")
        .into_iter()
        .filter(|e| e["decision"] == "allow")
        .count();
    assert_eq!(allowed, 0);
}

/// What is refused, the HTTP method, headers, body and expected status.
type Stage = (
    &'static str,
    &'static str,
    Vec<(String, String)>,
    String,
    u16,
);

/// Review item 2: every refusal of an authenticated request is chained under the token's tenant
/// (DESIGN §5) — the body stage, DELETE's and other HTTP methods' refusals included.
#[test]
fn authenticated_refusals_at_every_stage_are_chained() {
    let env = start(&[("INTENTGATE_MAX_BODY_BYTES", "1024")]);
    let igd = &env.igd;
    let sid = open_session(igd, &env.token);
    let h = legacy_headers(&env.token, Some(&sid));
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{{"x":"{}"}}}}"#,
        "a".repeat(2000)
    );
    let cases: Vec<Stage> = vec![
        (
            "content type",
            "POST",
            {
                let mut v = without(&h, "Content-Type");
                v.push(("Content-Type".into(), "text/plain".into()));
                v
            },
            list.into(),
            415,
        ),
        (
            "accept",
            "POST",
            {
                let mut v = without(&h, "Accept");
                v.push(("Accept".into(), "text/html".into()));
                v
            },
            list.into(),
            406,
        ),
        ("body limit", "POST", h.clone(), big, 413),
        ("parse error", "POST", h.clone(), "{not json".into(), 400),
        (
            "delete without a session",
            "DELETE",
            without(&h, "Mcp-Session-Id"),
            String::new(),
            400,
        ),
        (
            "delete of an unknown session",
            "DELETE",
            {
                let mut v = without(&h, "Mcp-Session-Id");
                v.push(("Mcp-Session-Id".into(), "no-such-session".into()));
                v
            },
            String::new(),
            404,
        ),
        ("get", "GET", h.clone(), String::new(), 405),
    ];
    for (what, verb, headers, body, status) in &cases {
        let r = send(igd, verb, headers, body);
        assert_eq!(r.status, *status, "{what}: {}", r.text());
        let id = r.json()["error"]["data"]["decision_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: not recorded: {}", r.text()))
            .to_string();
        let e = entry(igd, "acme", &id);
        assert_eq!(e["check"], "request", "{what}: {e}");
        assert_eq!(e["decision"], "block", "{what}: {e}");
        assert_eq!(e["subject"], "agent-a", "{what}: {e}");
    }
}

/// A sibling of finding 1: `subscriptions/listen` replaces `resources/subscribe` in the 2026
/// era (`notifications.resourceSubscriptions`), so it must not carry resource subscriptions past
/// the gate. Each URI is decided as a `resources/subscribe`; only allowed ones reach upstream;
/// without `resources/subscribe` forwarded, any URI is refused; in the 2025 era the method is
/// not served at all.
#[test]
fn subscriptions_listen_gates_each_resource() {
    use std::io::Write;
    let upstream = Upstream::python_recording();
    let env = start(&[
        ("INTENTGATE_UPSTREAM_URL", &upstream.url),
        ("INTENTGATE_FORWARD_METHODS", "resources/*"),
    ]);
    let igd = &env.igd;
    let listen = |uris: Value| {
        modern(
            "subscriptions/listen",
            &json!({"notifications": {"toolsListChanged": true, "resourceSubscriptions": uris}}),
            Some(json!(5)),
        )
    };
    let h = modern_headers(&env.token, "subscriptions/listen", None);
    let listens = || {
        upstream
            .messages()
            .into_iter()
            .filter(|m| m["method"] == "subscriptions/listen")
            .collect::<Vec<_>>()
    };

    // Only forbidden URIs: the first refusal is answered, each is chained, nothing is forwarded.
    let r = send(
        igd,
        "POST",
        &h,
        &listen(json!(["file:///etc/shadow", "db://payroll"])),
    );
    let v = r.json();
    assert_eq!(v["error"]["code"], -31001, "{v}");
    let id = v["error"]["data"]["decision_id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = entry(igd, "acme", &id);
    assert_eq!(
        (
            e["method"].as_str(),
            e["tool"].as_str(),
            e["decision"].as_str()
        ),
        (
            Some("resources/subscribe"),
            Some("file:///etc/shadow"),
            Some("block")
        ),
        "{e}"
    );
    assert!(entries(igd, "acme")
        .iter()
        .any(|e| e["tool"] == "db://payroll" && e["decision"] == "block"));

    // Malformed lists are refused and chained.
    for bad in [json!("echo"), json!([1]), json!(vec!["echo"; 65])] {
        let v = send(igd, "POST", &h, &listen(bad.clone())).json();
        assert_eq!(v["error"]["code"], -32602, "{bad}: {v}");
        assert!(v["error"]["data"]["decision_id"].is_string(), "{v}");
    }

    // One allowed and one forbidden: only the allowed URI reaches upstream.
    let body = listen(json!(["echo", "file:///etc/shadow"]));
    let mut s = std::net::TcpStream::connect(igd.addr).unwrap();
    let mut req = format!(
        "POST /v1/mcp HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in &h {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while listens().is_empty() {
        assert!(
            Instant::now() < deadline,
            "never forwarded: {:?}",
            upstream.messages()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = listens();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0]["params"]["notifications"]["resourceSubscriptions"],
        json!(["echo"]),
        "{sent:?}"
    );
    assert_eq!(sent[0]["params"]["notifications"]["toolsListChanged"], true);
    drop(s);
    let all = entries(igd, "acme");
    let allowed: Vec<&Value> = all.iter().filter(|e| e["decision"] == "allow").collect();
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    assert_eq!(
        (allowed[0]["method"].as_str(), allowed[0]["tool"].as_str()),
        (Some("resources/subscribe"), Some("echo"))
    );

    // The 2025 era has no such method.
    let sid = open_session(igd, &env.token);
    let m = json!({"jsonrpc": "2.0", "id": 6, "method": "subscriptions/listen", "params": {"notifications": {"resourceSubscriptions": ["file:///etc/shadow"]}}});
    let v = send(
        igd,
        "POST",
        &legacy_headers(&env.token, Some(&sid)),
        &m.to_string(),
    )
    .json();
    assert_eq!(v["error"]["code"], -32601, "{v}");
    assert_eq!(listens().len(), 1, "{:?}", listens());
}

/// Without `resources/subscribe` forwarded, a listen that names resources is refused; one that
/// only asks for list changes is a lifecycle request and passes.
#[test]
fn subscriptions_listen_without_forwarded_resources() {
    let env = start(&[]);
    let igd = &env.igd;
    let h = modern_headers(&env.token, "subscriptions/listen", None);
    let body = modern(
        "subscriptions/listen",
        &json!({"notifications": {"resourceSubscriptions": ["echo"]}}),
        Some(json!(1)),
    );
    let v = send(igd, "POST", &h, &body).json();
    assert_eq!(v["error"]["code"], -32602, "{v}");
    let id = v["error"]["data"]["decision_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(entry(igd, "acme", &id)["method"], "subscriptions/listen");
    // Lifecycle only: relayed to the stub, which does not implement it.
    let body = modern(
        "subscriptions/listen",
        &json!({"notifications": {"toolsListChanged": true}}),
        Some(json!(2)),
    );
    let v = send(igd, "POST", &h, &body).json();
    assert_eq!(v["error"]["code"], -32601, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("stub"),
        "{v}"
    );
}

/// A decision id handed out for a rate-limited refusal names an entry that is already durable:
/// killed right after a flood, igd loses none of the ids it answered with.
#[test]
fn summary_ids_are_durable_before_they_are_answered() {
    let mut env = start(&[]);
    let mut ids = Vec::new();
    for i in 0..40 {
        let r = send(
            &env.igd,
            "POST",
            &modern_headers("ig1.forged", "tools/list", None),
            &modern("tools/list", &json!({}), Some(json!(i))),
        );
        assert_eq!(r.status, 401);
        ids.push(r.json()["error"]["data"]["decision_id"].clone());
    }
    env.igd.kill_and_restart();
    let all = entries(&env.igd, "_unauthenticated");
    let distinct: std::collections::BTreeSet<String> = ids
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(
        distinct.len() < ids.len(),
        "nothing was rate-limited: {ids:?}"
    );
    for id in &distinct {
        assert!(
            all.iter().any(|e| e["event_id"] == id.as_str()),
            "decision id {id} was answered but is not in the chain"
        );
    }
}
