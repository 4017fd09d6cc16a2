//! Logs and traces as an operator's tools see them: OTLP/HTTP JSON spans posted to a collector
//! (a local receiver that checks the wire format), the structured `policy.decision` and
//! `audit.insert` log events, and the settings igd refuses.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const POLICY: &str = "package intentgate.policy\n\ndecision := {\"allow\": input.tool == \"echo\", \"reason\": \"echo only\"}\n";
/// Argument values that must never reach a log line or a span.
const ALLOWED_ARG: &str = "arg-value-7f3a91-allowed";
const BLOCKED_ARG: &str = "arg-value-c2e804-blocked";

/// One request the collector received.
#[derive(Debug, Clone)]
struct Posted {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    answered: u16,
}

impl Posted {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A collector on 127.0.0.1: keeps every request; `answer(n)` is the status of the n-th.
struct Collector {
    url: String,
    got: Arc<Mutex<Vec<Posted>>>,
}

impl Collector {
    fn start(answer: fn(usize) -> u16) -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let shared = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (got, count) = (shared.clone(), count.clone());
                std::thread::spawn(move || serve(stream, &got, &count, answer));
            }
        });
        Collector { url, got }
    }

    fn posted(&self) -> Vec<Posted> {
        self.got.lock().unwrap().clone()
    }

    /// Wait (at most 30 s) until `done` holds for what arrived.
    fn wait_until(&self, what: &str, done: impl Fn(&[Posted]) -> bool) -> Vec<Posted> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let posted = self.posted();
            if done(&posted) {
                return posted;
            }
            assert!(
                Instant::now() < deadline,
                "collector never saw {what}; got {posted:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// HTTP/1.1 requests with a `Content-Length` body, on a keep-alive connection.
fn serve(
    stream: TcpStream,
    got: &Mutex<Vec<Posted>>,
    count: &AtomicUsize,
    answer: fn(usize) -> u16,
) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some(ReceivedRequest {
        method,
        target: path,
        headers,
        body,
    }) = read_request(&mut reader)
    {
        let status = answer(count.fetch_add(1, Ordering::SeqCst));
        got.lock().unwrap().push(Posted {
            method,
            path,
            headers,
            body,
            answered: status,
        });
        let reply = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// A span as the test reads it back.
#[derive(Debug, Clone)]
struct Span {
    trace_id: String,
    span_id: String,
    parent: Option<String>,
    name: String,
    kind: u64,
    start: u128,
    end: u128,
    attributes: HashMap<String, Value>,
    status: Value,
}

impl Span {
    fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }

    fn string(&self, key: &str) -> Option<&str> {
        self.attr(key).and_then(|v| v["stringValue"].as_str())
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parse an `ExportTraceServiceRequest` (OTLP JSON mapping), checking its structure.
fn spans_of(posted: &Posted) -> Vec<Span> {
    assert_eq!(posted.method, "POST");
    assert_eq!(posted.path, "/v1/traces");
    assert_eq!(posted.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&posted.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&posted.body)));
    let resource_spans = body["resourceSpans"].as_array().expect("resourceSpans");
    assert!(!resource_spans.is_empty(), "{body}");
    let mut out = Vec::new();
    for rs in resource_spans {
        let resource: HashMap<&str, &Value> = rs["resource"]["attributes"]
            .as_array()
            .expect("resource.attributes")
            .iter()
            .map(|a| (a["key"].as_str().unwrap(), &a["value"]))
            .collect();
        assert_eq!(resource["service.name"]["stringValue"], "igd", "{body}");
        assert!(resource["service.version"]["stringValue"].is_string());
        assert!(!resource["service.instance.id"]["stringValue"]
            .as_str()
            .unwrap()
            .is_empty());
        for ss in rs["scopeSpans"].as_array().expect("scopeSpans") {
            assert_eq!(ss["scope"]["name"], "igd");
            for s in ss["spans"].as_array().expect("spans") {
                out.push(span_of(s));
            }
        }
    }
    out
}

fn span_of(s: &Value) -> Span {
    let text = |k: &str| s[k].as_str().unwrap_or_else(|| panic!("{k} missing: {s}"));
    let (trace_id, span_id) = (text("traceId"), text("spanId"));
    assert!(is_hex(trace_id, 32), "traceId {trace_id}");
    assert!(is_hex(span_id, 16), "spanId {span_id}");
    assert_ne!(trace_id, "0".repeat(32));
    let parent = s
        .get("parentSpanId")
        .and_then(Value::as_str)
        .map(String::from);
    if let Some(p) = &parent {
        assert!(is_hex(p, 16), "parentSpanId {p}");
    }
    // 64-bit integers are decimal strings in the JSON mapping.
    let start: u128 = text("startTimeUnixNano").parse().unwrap();
    let end: u128 = text("endTimeUnixNano").parse().unwrap();
    assert!(end >= start, "{s}");
    assert!(
        start > 1_600_000_000_000_000_000,
        "nanoseconds since 1970: {s}"
    );
    let kind = s["kind"].as_u64().unwrap_or_else(|| panic!("kind: {s}"));
    let mut attributes = HashMap::new();
    for a in s["attributes"].as_array().expect("attributes") {
        let value = &a["value"];
        let typed = ["stringValue", "intValue", "boolValue", "doubleValue"]
            .iter()
            .filter(|k| value.get(**k).is_some())
            .count();
        assert_eq!(typed, 1, "one typed value: {a}");
        if let Some(i) = value.get("intValue") {
            assert!(i.as_str().is_some_and(|t| t.parse::<i64>().is_ok()), "{a}");
        }
        attributes.insert(a["key"].as_str().unwrap().to_string(), value.clone());
    }
    assert!(s["status"].is_object(), "{s}");
    Span {
        trace_id: trace_id.to_string(),
        span_id: span_id.to_string(),
        parent,
        name: text("name").to_string(),
        kind,
        start,
        end,
        attributes,
        status: s["status"].clone(),
    }
}

fn start_igd(extra: &[(&str, &str)]) -> (Igd, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.rego");
    std::fs::write(&p, POLICY).unwrap();
    let mut env = vec![
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", p.to_str().unwrap()),
    ];
    env.extend_from_slice(extra);
    (Igd::start(&env), dir)
}

/// One allowed call (echo) and one the policy blocks (other); returns the token.
fn allowed_and_blocked(igd: &Igd) -> String {
    let (token, _) = igd.mint("acme", "agent-x", "echo,other", 50);
    let ok = call_tool(igd.addr, &token, "echo", json!({"message": ALLOWED_ARG})).unwrap();
    assert!(ok.json()["result"].is_object(), "{}", ok.text());
    let no = call_tool(igd.addr, &token, "other", json!({"message": BLOCKED_ARG})).unwrap();
    assert_eq!(no.json()["error"]["code"], -31002, "{}", no.text());
    token
}

/// The request spans (roots) that have `check.*` children, with those children.
fn calls(spans: &[Span]) -> Vec<(Span, Vec<Span>)> {
    spans
        .iter()
        .filter(|s| s.name == "mcp.request")
        .map(|root| {
            let children: Vec<Span> = spans
                .iter()
                .filter(|c| c.parent.as_deref() == Some(root.span_id.as_str()))
                .cloned()
                .collect();
            (root.clone(), children)
        })
        .filter(|(_, children)| children.iter().any(|c| c.name.starts_with("check.")))
        .collect()
}

#[test]
fn spans_reach_the_collector_as_otlp_json_with_the_checks_under_each_request() {
    // The first export is refused with 503: the batch must come again (retry with backoff).
    let collector = Collector::start(|n| if n == 0 { 503 } else { 200 });
    let (igd, _dir) = start_igd(&[("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url.as_str())]);
    let token = allowed_and_blocked(&igd);

    let posted = collector.wait_until("both calls' spans", |posted| {
        let spans: Vec<Span> = posted
            .iter()
            .filter(|p| p.answered == 200)
            .flat_map(spans_of)
            .collect();
        calls(&spans).len() >= 2
    });
    for p in &posted {
        let text = String::from_utf8_lossy(&p.body);
        for secret in [token.as_str(), ALLOWED_ARG, BLOCKED_ARG] {
            assert!(!text.contains(secret), "a span carries {secret:?}: {text}");
        }
    }
    // Retried: every span of the refused first request arrived again.
    let refused: HashSet<String> = spans_of(&posted[0])
        .into_iter()
        .map(|s| s.span_id)
        .collect();
    assert_eq!(posted[0].answered, 503);
    assert!(!refused.is_empty());
    let spans: Vec<Span> = posted
        .iter()
        .filter(|p| p.answered == 200)
        .flat_map(spans_of)
        .collect();
    let delivered: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    assert!(
        refused.iter().all(|id| delivered.contains(id.as_str())),
        "the refused batch was not sent again"
    );

    let calls = calls(&spans);
    assert_eq!(calls.len(), 2, "{calls:#?}");
    for (root, children) in &calls {
        assert!(root.parent.is_none(), "{root:?}");
        assert_eq!(root.kind, 2, "mcp.request is SERVER");
        assert_eq!(root.string("mcp.method"), Some("tools/call"));
        assert_eq!(root.string("mcp.era"), Some("modern"));
        assert_eq!(
            root.attr("http.response.status_code").unwrap()["intValue"],
            "200"
        );
        for c in children {
            assert_eq!(c.trace_id, root.trace_id, "{c:?}");
            assert!(
                c.start >= root.start && c.end <= root.end,
                "{c:?} outside {root:?}"
            );
            let kind = if c.name == "upstream.call" { 3 } else { 1 };
            assert_eq!(c.kind, kind, "{c:?}");
        }
    }
    assert_ne!(
        calls[0].0.trace_id, calls[1].0.trace_id,
        "one trace per request"
    );
    let named = |children: &[Span]| -> HashMap<String, Span> {
        children
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect()
    };
    let decision = |s: &Span| s.string("decision").map(String::from);

    let (allowed, children) = calls
        .iter()
        .find(|(r, _)| r.string("decision") == Some("allow"))
        .expect("the allowed call's request span");
    let children = named(children);
    let mut names: Vec<&str> = children.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "check.budget",
            "check.capability",
            "check.intent",
            "check.policy",
            "upstream.call"
        ],
        "{allowed:?}"
    );
    assert_eq!(
        decision(&children["check.capability"]).as_deref(),
        Some("allow")
    );
    assert_eq!(
        decision(&children["check.policy"]).as_deref(),
        Some("allow")
    );
    assert_eq!(
        decision(&children["check.budget"]).as_deref(),
        Some("allow")
    );
    let upstream = &children["upstream.call"];
    assert_eq!(
        upstream.attr("http.response.status_code").unwrap()["intValue"],
        "200"
    );
    assert_ne!(upstream.status["code"], 2, "{upstream:?}");

    let (blocked, children) = calls
        .iter()
        .find(|(r, _)| r.string("decision") == Some("block"))
        .expect("the blocked call's request span");
    assert_eq!(blocked.string("check"), Some("policy"));
    let children = named(children);
    let mut names: Vec<&str> = children.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["check.capability", "check.intent", "check.policy"],
        "{blocked:?}"
    );
    assert_eq!(
        decision(&children["check.policy"]).as_deref(),
        Some("block")
    );
}

#[test]
fn a_collector_that_refuses_costs_no_call_and_is_reported() {
    let collector = Collector::start(|_| 400);
    let (igd, _dir) = start_igd(&[("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url.as_str())]);
    allowed_and_blocked(&igd);
    igd.wait_for_log("trace export failed");
    // A 400 is not retried: the batch is dropped at the first refusal.
    let line = igd
        .logs()
        .lines()
        .find(|l| l.contains("trace export failed"))
        .map(String::from)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["level"], "WARN", "{line}");
    assert_eq!(v["fields"]["attempts"], 1, "{line}");
    assert!(
        v["fields"]["error"].as_str().unwrap().contains("400"),
        "{line}"
    );
    // igd keeps answering.
    let (token, _) = igd.mint("acme", "agent-y", "echo", 5);
    let ok = call_tool(igd.addr, &token, "echo", json!({"message": "again"})).unwrap();
    assert!(ok.json()["result"].is_object(), "{}", ok.text());
}

/// Every line of a JSON log, parsed; each must have the fields log shippers key on (a
/// library's event may have no message, e.g. `sqlx::query` at debug; igd's always do).
fn json_lines(logs: &str) -> Vec<Value> {
    logs.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(v["timestamp"].is_string(), "{l}");
            assert!(v["level"].is_string(), "{l}");
            let target = v["target"]
                .as_str()
                .unwrap_or_else(|| panic!("no target: {l}"));
            if target == "igd" || target.starts_with("igd::") {
                assert!(v["fields"]["message"].is_string(), "{l}");
            }
            v
        })
        .collect()
}

fn events<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|v| v["fields"]["message"] == name)
        .collect()
}

#[test]
fn debug_json_logs_have_one_policy_decision_per_call_without_arguments() {
    let (mut igd, _dir) = start_igd(&[("LOG_FORMAT", "json"), ("LOG_LEVEL", "debug")]);
    let token = allowed_and_blocked(&igd);
    igd.terminate();
    igd.wait_for_log("igd stopped");
    let logs = igd.logs();
    for secret in [token.as_str(), ALLOWED_ARG, BLOCKED_ARG] {
        assert!(!logs.contains(secret), "the log carries {secret:?}");
    }
    let lines = json_lines(&logs);
    let decisions = events(&lines, "policy.decision");
    assert_eq!(decisions.len(), 2, "{decisions:#?}");
    let mut seen = Vec::new();
    for d in &decisions {
        assert_eq!(d["level"], "DEBUG");
        let f = &d["fields"];
        assert_eq!(f["tenant"], "acme", "{d}");
        assert_eq!(f["method"], "tools/call", "{d}");
        assert!(f["latency_us"].is_u64(), "{d}");
        assert!(
            f["policy_revision"].as_str().is_some_and(|r| !r.is_empty()),
            "{d}"
        );
        seen.push((
            f["decision"].as_str().unwrap().to_string(),
            f["check"].as_str().unwrap().to_string(),
        ));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("allow".to_string(), "none".to_string()),
            ("block".into(), "policy".into())
        ]
    );
    let inserts = events(&lines, "audit.insert");
    assert!(!inserts.is_empty(), "no audit.insert");
    for i in inserts {
        assert!(
            i["fields"]["entries"].as_u64().is_some_and(|n| n >= 1),
            "{i}"
        );
        assert!(i["fields"]["commit_ms"].is_number(), "{i}");
    }
    for name in [
        "igd ready",
        "shutting down: draining connections",
        "igd stopped",
    ] {
        assert_eq!(events(&lines, name).len(), 1, "{name}");
    }
}

#[test]
fn info_json_logs_have_no_line_per_decision() {
    let (mut igd, _dir) = start_igd(&[("LOG_FORMAT", "json"), ("LOG_LEVEL", "info")]);
    allowed_and_blocked(&igd);
    igd.terminate();
    igd.wait_for_log("igd stopped");
    let lines = json_lines(&igd.logs());
    assert!(events(&lines, "policy.decision").is_empty());
    assert!(events(&lines, "audit.insert").is_empty());
    assert_eq!(events(&lines, "igd ready").len(), 1);
}

#[test]
fn only_otlp_over_http_json_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let check = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(igd_bin());
        cmd.arg("check-config")
            .env_clear()
            .env("INTENTGATE_DATA_DIR", dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = check(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ]);
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL"), "{stderr}");
    let out = check(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
