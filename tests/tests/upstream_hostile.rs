//! A hostile upstream (DESIGN §2: igd never panics on input from either side; upstream answers
//! are capped; −31006 beyond, outcome recorded). A raw TCP/HTTP server written here answers
//! each forwarded request the way the test tells it to: non-object bodies, wrong and huge ids,
//! invalid UTF-8, truncated or trickling SSE, wrong content types, 5xx, a hang, oversized
//! bodies. Every call must get a JSON-RPC answer, igd must stay up, every forwarded call must
//! have its outcome entry, and the chain must verify.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CAP: usize = 65_536;

/// What the hostile upstream does; shared with its connection threads.
#[derive(Default)]
struct Script {
    /// How to answer the next forwarded request.
    scenario: Mutex<String>,
    /// Answer `server/discover` as a legacy server (igd then pools a 2025-era session).
    legacy: AtomicBool,
    /// Notifications received: (method, Mcp-Session-Id).
    notes: Mutex<Vec<(String, String)>>,
    /// Methods of the requests received, in order.
    seen: Mutex<Vec<String>>,
    /// SSE streams whose reader went away while upstream was still writing.
    closed_streams: AtomicUsize,
    stop: AtomicBool,
}

struct Hostile {
    url: String,
    script: Arc<Script>,
    port: u16,
}

impl Hostile {
    fn start() -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = Arc::new(Script::default());
        let s = script.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        Hostile {
            url: format!("http://127.0.0.1:{port}/mcp"),
            script,
            port,
        }
    }

    fn set(&self, scenario: &str) {
        *self.script.scenario.lock().unwrap() = scenario.to_string();
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.script.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Header names (lower-cased) and values.
type Headers = Vec<(String, String)>;

/// Read one HTTP request: (headers, body).
fn read_request(conn: &mut TcpStream) -> Option<(Headers, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 || buf.len() > 65_536 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let headers: Vec<(String, String)> = head
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0usize);
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).ok()?;
    Some((headers, body))
}

fn respond(conn: &mut TcpStream, status: u16, content_type: Option<&str>, body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str("Mcp-Session-Id: up-1\r\n\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
}

fn json_reply(conn: &mut TcpStream, v: &Value) {
    respond(
        conn,
        200,
        Some("application/json"),
        v.to_string().as_bytes(),
    );
}

/// Start an SSE answer (close-delimited body); the caller writes the events.
fn sse_head(conn: &mut TcpStream) {
    let _ = conn.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
    );
}

fn sse_event(v: &Value) -> Vec<u8> {
    format!("event: message\ndata: {v}\n\n").into_bytes()
}

fn serve(mut conn: TcpStream, s: &Script) {
    let _ = conn.set_nodelay(true);
    let Some((headers, body)) = read_request(&mut conn) else {
        return;
    };
    let msg: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = msg["method"].as_str().unwrap_or("").to_string();
    let id = msg["id"].clone();
    let session = headers
        .iter()
        .find(|(k, _)| k == "mcp-session-id")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let ok = |result: Value| json!({"jsonrpc": "2.0", "id": id, "result": result});
    s.seen.lock().unwrap().push(method.clone());
    let scenario = s.scenario.lock().unwrap().clone();
    match method.as_str() {
        "server/discover" if s.legacy.load(Ordering::Relaxed) => respond(
            &mut conn,
            400,
            Some("application/json"),
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no"}})
                .to_string()
                .as_bytes(),
        ),
        "server/discover" => {
            json_reply(&mut conn, &ok(json!({"supportedVersions": ["2026-07-28"]})))
        }
        m if m.starts_with("notifications/") => {
            s.notes.lock().unwrap().push((m.to_string(), session));
            respond(&mut conn, 202, None, b"");
        }
        "initialize" if !scenario.starts_with("init_") => json_reply(
            &mut conn,
            &ok(
                json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "hostile", "version": "1"}}),
            ),
        ),
        _ => misbehave(&mut conn, s, &scenario, &id),
    }
}

/// Answer a forwarded request according to the scenario.
fn misbehave(conn: &mut TcpStream, s: &Script, scenario: &str, id: &Value) {
    let ok = json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "fine"}], "tools": [{"name": "hostile"}]}});
    let raw = |conn: &mut TcpStream, ct: Option<&str>, body: &[u8]| respond(conn, 200, ct, body);
    let json_ct = Some("application/json");
    match scenario {
        "ok" => json_reply(conn, &ok),
        "array_body" | "init_array_body" => raw(conn, json_ct, b"[1,2,3]"),
        "string_body" => raw(conn, json_ct, b"\"hello\""),
        "number_body" => raw(conn, json_ct, b"42"),
        "null_body" => raw(conn, json_ct, b"null"),
        "result_string" | "init_result_string" => {
            json_reply(conn, &json!({"jsonrpc": "2.0", "id": id, "result": "x"}))
        }
        "result_array" => json_reply(conn, &json!({"jsonrpc": "2.0", "id": id, "result": [1]})),
        "wrong_id" => json_reply(
            conn,
            &json!({"jsonrpc": "2.0", "id": 987654, "result": {"content": []}}),
        ),
        "string_id" => json_reply(
            conn,
            &json!({"jsonrpc": "2.0", "id": id.to_string(), "result": {"content": []}}),
        ),
        "huge_id" => raw(
            conn,
            json_ct,
            br#"{"jsonrpc":"2.0","id":123456789012345678901234567890123456789,"result":{}}"#,
        ),
        "overflow_id" => raw(
            conn,
            json_ct,
            br#"{"jsonrpc":"2.0","id":1e400,"result":{}}"#,
        ),
        "invalid_utf8" => {
            let mut body = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"t":"a"#).into_bytes();
            body.push(0xff);
            body.extend_from_slice(br#""}}"#);
            raw(conn, json_ct, &body)
        }
        "error_bad_shape" => {
            json_reply(conn, &json!({"jsonrpc": "2.0", "id": id, "error": "boom"}))
        }
        "both" => json_reply(
            conn,
            &json!({"jsonrpc": "2.0", "id": id, "result": {}, "error": {"code": 1, "message": "m"}}),
        ),
        "error_relayed" => json_reply(
            conn,
            &json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32050, "message": "upstream says no"}}),
        ),
        "html" => raw(conn, Some("text/html"), ok.to_string().as_bytes()),
        "no_content_type" => raw(conn, None, ok.to_string().as_bytes()),
        "not_json" => raw(conn, json_ct, b"<html>oops</html>"),
        "empty_200" => raw(conn, json_ct, b""),
        "status_500" => respond(conn, 500, Some("text/plain"), b"boom"),
        "status_503_json" => respond(conn, 503, json_ct, ok.to_string().as_bytes()),
        "hang" => wait_for_stop(s, Duration::from_secs(10)),
        "oversize_json" => {
            let big = json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "x".repeat(CAP * 2)}]}});
            json_reply(conn, &big)
        }
        "truncated_json" => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"jsonrpc\":",
            );
        }
        _ => sse_misbehave(conn, s, scenario, id),
    }
}

fn wait_for_stop(s: &Script, at_most: Duration) {
    let deadline = Instant::now() + at_most;
    while Instant::now() < deadline && !s.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sse_misbehave(conn: &mut TcpStream, s: &Script, scenario: &str, id: &Value) {
    let answer = json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "streamed"}]}});
    let progress = |i: usize| json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "p", "progress": i}});
    sse_head(conn);
    match scenario {
        "sse_many_frames" => {
            // Each event in two writes, so frames do not line up with events (500 events fit the cap).
            for i in 0..500 {
                let ev = sse_event(&progress(i));
                let (a, b) = ev.split_at(ev.len() / 2);
                let _ = conn.write_all(a);
                let _ = conn.write_all(b);
            }
            let _ = conn.write_all(&sse_event(&answer));
        }
        "sse_truncated" => {
            let _ = conn.write_all(&sse_event(&progress(1)));
            let _ = conn.write_all(b"data: {\"jsonrpc\":\"2.0\",\"id\":");
        }
        "sse_non_object" => {
            let _ = conn.write_all(b"data: [1,2]\n\ndata: \"s\"\n\ndata: not json\n\n");
        }
        "sse_result_string" => {
            let _ = conn.write_all(&sse_event(
                &json!({"jsonrpc": "2.0", "id": id, "result": "x"}),
            ));
        }
        "sse_invalid_utf8" => {
            let _ = conn.write_all(b"data: {\"a\":\"\xff\xfe\"}\n\n");
        }
        "sse_oversize_event" => {
            let _ = conn.write_all(format!("data: \"{}", "y".repeat(CAP * 2)).as_bytes());
        }
        "sse_oversize_total" => {
            // Small events, but more of them than one answer may carry in total.
            let filler = progress(0).to_string() + &" ".repeat(1000);
            for _ in 0..(CAP / 1000 + 10) {
                let _ = conn.write_all(format!("data: {filler}\n\n").as_bytes());
            }
            let _ = conn.write_all(&sse_event(&answer));
        }
        "sse_trickle" => {
            // A keep-alive comment every 200 ms and never an event: the gap between events is
            // bounded by the upstream timeout, whatever trickles in meanwhile.
            let deadline = Instant::now() + Duration::from_secs(8);
            while Instant::now() < deadline && conn.write_all(b": keep-alive\n").is_ok() {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        "sse_forever" => {
            // Progress every 100 ms until the reader goes away (bounded to 20 s).
            for i in 0..200 {
                if conn.write_all(&sse_event(&progress(i))).is_err() {
                    s.closed_streams.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        other => {
            let _ = conn.write_all(format!("data: unknown scenario {other}\n\n").as_bytes());
        }
    }
}

const POLICY: &str =
    "package intentgate.policy\n\ndecision := {\"allow\": true, \"reason\": \"test\"}\n";

fn start_igd(upstream: &Hostile, dir: &tempfile::TempDir) -> Igd {
    let policy = dir.path().join("p.rego");
    std::fs::write(&policy, POLICY).unwrap();
    Igd::start(&[
        ("INTENTGATE_UPSTREAM_URL", &upstream.url),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
        ("INTENTGATE_UPSTREAM_TIMEOUT_MS", "1000"),
        ("INTENTGATE_MAX_UPSTREAM_RESPONSE_BYTES", &CAP.to_string()),
    ])
}

/// The JSON-RPC message an answer carries: the JSON body, or an SSE stream's last message.
fn last_message(r: &HttpResponse) -> Value {
    if r.header("content-type")
        .is_some_and(|ct| ct.starts_with("text/event-stream"))
    {
        r.text()
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .rev()
            .find_map(|d| serde_json::from_str::<Value>(d).ok())
            .unwrap_or(Value::Null)
    } else {
        r.json()
    }
}

fn outcomes(igd: &Igd) -> Vec<Value> {
    let out = igd.igctl(&[
        "audit",
        "list",
        "--tenant",
        "acme",
        "--decision",
        "allow",
        "--limit",
        "1000",
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["entries"].as_array().cloned().unwrap_or_default()
}

/// Wait (bounded) until every allowed call has its outcome entry; returns the entries.
fn wait_for_outcomes(igd: &Igd, calls: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let entries = outcomes(igd);
        let done = entries.len() == calls && entries.iter().all(|e| !e["outcome"].is_null());
        if done || Instant::now() > deadline {
            return entries;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn hostile_upstream_answers_become_jsonrpc_errors_and_outcomes() {
    let upstream = Hostile::start();
    let dir = tempfile::tempdir().unwrap();
    let igd = start_igd(&upstream, &dir);
    let (token, _) = igd.mint("acme", "agent-h", "hostile", 1000);
    let cases: &[(&str, i64)] = &[
        ("array_body", -31006),
        ("string_body", -31006),
        ("number_body", -31006),
        ("null_body", -31006),
        ("result_string", -31006),
        ("result_array", -31006),
        ("wrong_id", -31006),
        ("string_id", -31006),
        ("huge_id", -31006),
        ("overflow_id", -31006),
        ("invalid_utf8", -31006),
        ("error_bad_shape", -31006),
        ("both", -31006),
        ("error_relayed", -32050),
        ("html", -31006),
        ("no_content_type", -31006),
        ("not_json", -31006),
        ("empty_200", -31006),
        ("status_500", -31006),
        ("status_503_json", -31006),
        ("hang", -31006),
        ("oversize_json", -31006),
        ("truncated_json", -31006),
        ("sse_truncated", -31006),
        ("sse_non_object", -31006),
        ("sse_result_string", -31006),
        ("sse_invalid_utf8", -31006),
        ("sse_oversize_event", -31006),
        ("sse_oversize_total", -31006),
        ("sse_trickle", -31006),
    ];
    let mut failures = Vec::new();
    for (i, (scenario, code)) in cases.iter().enumerate() {
        upstream.set(scenario);
        let r = match call_tool(igd.addr, &token, "hostile", json!({"i": i})) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{scenario}: no HTTP answer ({e})"));
                continue;
            }
        };
        let msg = last_message(&r);
        if r.status != 200 || msg["error"]["code"] != *code || msg["id"] != 1 {
            let text: String = r.text().chars().take(200).collect();
            failures.push(format!("{scenario}: HTTP {} {text}", r.status));
        }
        if *code == -31006 && msg["error"]["data"]["check"] != "upstream" {
            failures.push(format!("{scenario}: not an upstream refusal: {msg}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // A well-behaved answer still works, and many small frames are relayed in order.
    upstream.set("ok");
    let r = call_tool(igd.addr, &token, "hostile", json!({})).unwrap();
    assert_eq!(
        r.json()["result"]["content"][0]["text"],
        "fine",
        "{}",
        r.text()
    );
    upstream.set("sse_many_frames");
    let r = call_tool(igd.addr, &token, "hostile", json!({})).unwrap();
    let progress: Vec<Value> = r
        .text()
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 500);
    assert!(progress
        .iter()
        .enumerate()
        .all(|(i, m)| m["params"]["progress"] == i));
    assert_eq!(last_message(&r)["result"]["content"][0]["text"], "streamed");

    // igd is up, every forwarded call has its outcome, and the chain verifies.
    assert_eq!(
        http(igd.addr, "GET", "/healthz", &[], b"").unwrap().status,
        200
    );
    let calls = cases.len() + 2;
    let entries = wait_for_outcomes(&igd, calls);
    assert_eq!(entries.len(), calls);
    let missing: Vec<&Value> = entries.iter().filter(|e| e["outcome"].is_null()).collect();
    assert!(missing.is_empty(), "calls without an outcome: {missing:#?}");
    let out = igd.igctl(&["audit", "verify", "--tenant", "acme"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!igd.logs().contains("panicked"), "{}", igd.logs());
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

fn post(igd: &Igd, headers: &[(String, String)], body: &str) -> std::io::Result<HttpResponse> {
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    http(igd.addr, "POST", "/v1/mcp", &h, body.as_bytes())
}

/// The 2025 era: `initialize` and `tools/list` answers are handled with the same care.
#[test]
fn hostile_upstream_in_the_session_era() {
    let upstream = Hostile::start();
    let dir = tempfile::tempdir().unwrap();
    let igd = start_igd(&upstream, &dir);
    let (token, _) = igd.mint("acme", "agent-s", "hostile", 100);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    for scenario in ["init_result_string", "init_array_body"] {
        upstream.set(scenario);
        let r = post(&igd, &legacy_headers(&token, None), init)
            .unwrap_or_else(|e| panic!("{scenario}: no HTTP answer ({e})"));
        assert_eq!(
            r.json()["error"]["code"],
            -31006,
            "{scenario}: {}",
            r.text()
        );
    }
    upstream.set("ok");
    let r = post(&igd, &legacy_headers(&token, None), init).unwrap();
    let sid = r.header("mcp-session-id").unwrap().to_string();
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    for scenario in [
        "array_body",
        "string_body",
        "result_string",
        "wrong_id",
        "sse_truncated",
    ] {
        upstream.set(scenario);
        let r = post(&igd, &legacy_headers(&token, Some(&sid)), list)
            .unwrap_or_else(|e| panic!("{scenario}: no HTTP answer ({e})"));
        assert_eq!(
            last_message(&r)["error"]["code"],
            -31006,
            "{scenario}: {}",
            r.text()
        );
        assert_eq!(last_message(&r)["id"], 2);
    }
    upstream.set("ok");
    let r = post(&igd, &legacy_headers(&token, Some(&sid)), list).unwrap();
    assert_eq!(
        r.json()["result"]["tools"][0]["name"],
        "hostile",
        "{}",
        r.text()
    );
    assert!(!igd.logs().contains("panicked"), "{}", igd.logs());
}

/// Send a 2026-era `tools/call` of `hostile` on a raw connection, without reading the answer.
fn send_call(igd: &Igd, token: &str) -> TcpStream {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "hostile", "arguments": {},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}})
    .to_string();
    let mut s = TcpStream::connect(igd.addr).unwrap();
    let req = format!(
        "POST /v1/mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: hostile\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    s
}

/// Open a 2026-era `tools/call` whose answer streams, read its first event, and go away.
fn call_and_disconnect(igd: &Igd, token: &str) {
    let mut s = send_call(igd, token);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
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
    drop(s);
}

/// Wait for `notifications/cancelled` on the pooled legacy session igd opened (`up-1`).
fn wait_cancelled_on_pool(upstream: &Hostile) {
    wait_until("notifications/cancelled on the pooled session", || {
        upstream
            .script
            .notes
            .lock()
            .unwrap()
            .iter()
            .any(|(m, s)| m == "notifications/cancelled" && s == "up-1")
    });
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A 2026-era agent that goes away mid-stream: a 2026-era upstream sees its stream closed; a
/// legacy upstream (reached through igd's pooled session) gets `notifications/cancelled` on
/// that session. Both outcomes record 499.
#[test]
fn modern_agent_disconnect_cancels_upstream_in_both_eras() {
    for legacy in [false, true] {
        let upstream = Hostile::start();
        upstream.script.legacy.store(legacy, Ordering::Relaxed);
        let dir = tempfile::tempdir().unwrap();
        let igd = start_igd(&upstream, &dir);
        let (token, _) = igd.mint("acme", "agent-gone", "hostile", 10);
        upstream.set("sse_forever");
        call_and_disconnect(&igd, &token);
        wait_until("the outcome entry", || {
            outcomes(&igd)
                .first()
                .is_some_and(|e| e["outcome"]["upstream_status"] == 499)
        });
        if legacy {
            wait_cancelled_on_pool(&upstream);
        } else {
            wait_until("the upstream stream to be closed", || {
                upstream.script.closed_streams.load(Ordering::SeqCst) >= 1
            });
        }
    }
}

/// An agent that goes away while igd still awaits a JSON answer: the request is dropped
/// mid-forward; the call's outcome is still recorded (499), not lost with the request, and
/// upstream is told to stop (a legacy upstream, reached through igd's pooled session, gets
/// `notifications/cancelled` on it).
#[test]
fn agent_gone_while_awaiting_a_json_answer_records_its_outcome_and_cancels() {
    for legacy in [false, true] {
        let upstream = Hostile::start();
        upstream.script.legacy.store(legacy, Ordering::Relaxed);
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("p.rego");
        std::fs::write(&policy, POLICY).unwrap();
        let igd = Igd::start(&[
            ("INTENTGATE_UPSTREAM_URL", &upstream.url),
            ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
            ("INTENTGATE_UPSTREAM_TIMEOUT_MS", "30000"),
        ]);
        let (token, _) = igd.mint("acme", "agent-gone", "hostile", 10);
        upstream.set("hang");
        let s = send_call(&igd, &token);
        // The decision is committed and upstream holds the call before the agent goes away
        // (gone earlier, nothing reached upstream and there is nothing to cancel).
        wait_until("the allow decision", || !outcomes(&igd).is_empty());
        wait_until("the call upstream", || {
            upstream
                .script
                .seen
                .lock()
                .unwrap()
                .iter()
                .any(|m| m == "tools/call")
        });
        drop(s);
        wait_until("the outcome entry", || {
            outcomes(&igd)
                .first()
                .is_some_and(|e| e["outcome"]["upstream_status"] == 499)
        });
        if legacy {
            wait_cancelled_on_pool(&upstream);
        }
    }
}

/// A JSON answer that never comes: the agent gets −31006 when igd's upstream time-out ends, the
/// outcome records it (0), and upstream is told to stop the request it may still be running
/// (a legacy upstream: `notifications/cancelled` on igd's pooled session).
#[test]
fn an_upstream_timeout_cancels_the_request_upstream() {
    let upstream = Hostile::start();
    upstream.script.legacy.store(true, Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    let igd = start_igd(&upstream, &dir);
    let (token, _) = igd.mint("acme", "agent-slow", "hostile", 10);
    upstream.set("hang");
    let mut s = send_call(&igd, &token);
    let r = read_one_response(&mut s).unwrap();
    assert_eq!(last_message(&r)["error"]["code"], -31006, "{}", r.text());
    wait_until("the outcome entry", || {
        outcomes(&igd)
            .first()
            .is_some_and(|e| e["outcome"]["upstream_status"] == 0)
    });
    wait_cancelled_on_pool(&upstream);
}
