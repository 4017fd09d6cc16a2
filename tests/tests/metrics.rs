//! Prometheus metrics end to end (DESIGN §8): a real igd with `INTENTGATE_METRICS_ENABLED=true`
//! on a loopback port of its own. After allowed, blocked, escalated and dead-token calls every
//! counter holds exactly what happened; the text passes `promtool check metrics` (Debian's
//! `prometheus` package; CI installs it, and this test fails without it); 1,000 agents each
//! calling a tool of its own add no series; the listener is off unless enabled and serves
//! `GET /metrics` only; the Grafana dashboard asks only for metrics igd exports.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const P: &str = "intentgate_gateway_";

/// `echo` allowed, `delete_records` escalated, anything else blocked.
const POLICY: &str = r#"package intentgate.policy

default decision := {"allow": false, "reason": "not covered"}

decision := {"allow": true, "reason": "echo is fine"} if input.tool == "echo"

decision := {"allow": false, "escalate": true, "reason": "deleting needs a human"} if input.tool == "delete_records"
"#;

/// Allows every call (the cardinality test's agents each call a tool of their own).
const ALLOW_ALL: &str = r#"package intentgate.policy

default decision := {"allow": true, "reason": "open"}
"#;

struct Setup {
    igd: Igd,
    metrics: SocketAddr,
    _upstream: Option<Upstream>,
    _dir: tempfile::TempDir,
}

/// igd with metrics on a free loopback port, `policy`, and `upstream` (a URL or `stub`).
fn start(policy: &str, upstream: Option<Upstream>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let policy_path = dir.path().join("policy.rego");
    std::fs::write(&policy_path, policy).unwrap();
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let url = upstream
        .as_ref()
        .map_or("stub".to_string(), |u| u.url.clone());
    let igd = Igd::start(&[
        ("INTENTGATE_UPSTREAM_URL", &url),
        ("INTENTGATE_POLICY_FILE", policy_path.to_str().unwrap()),
        ("INTENTGATE_METRICS_ENABLED", "true"),
        ("INTENTGATE_METRICS_LISTEN", &metrics.to_string()),
    ]);
    Setup {
        igd,
        metrics,
        _upstream: upstream,
        _dir: dir,
    }
}

/// One scrape: the response (status, headers, text).
fn scrape(addr: SocketAddr) -> HttpResponse {
    let r = http(addr, "GET", "/metrics", &[], b"").expect("scrape /metrics");
    assert_eq!(r.status, 200, "{}", r.text());
    r
}

/// Every sample of a scrape: `name{labels}` → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (key, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {l:?}"));
            (key.to_string(), value)
        })
        .collect()
}

/// The value of `name{labels}` (`labels` as rendered, without braces; "" for none).
fn value(s: &BTreeMap<String, f64>, name: &str, labels: &str) -> f64 {
    let key = if labels.is_empty() {
        format!("{P}{name}")
    } else {
        format!("{P}{name}{{{labels}}}")
    };
    *s.get(&key)
        .unwrap_or_else(|| panic!("no sample {key} in {:#?}", s.keys()))
}

fn decisions(s: &BTreeMap<String, f64>, check: &str, decision: &str) -> f64 {
    value(
        s,
        "check_decisions_total",
        &format!("check=\"{check}\",decision=\"{decision}\""),
    )
}

fn latency_count(s: &BTreeMap<String, f64>, check: &str) -> f64 {
    value(
        s,
        "check_latency_seconds_count",
        &format!("check=\"{check}\""),
    )
}

/// Poll scrapes (at most 30 s) until `done` holds for one; returns it.
fn scrape_until(
    addr: SocketAddr,
    what: &str,
    done: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = samples(&scrape(addr).text());
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "never saw {what}: {s:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `promtool check metrics` on `text` (lint included); panics when promtool is missing.
fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is required (Debian package `prometheus`; .ci/run installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- scraped text ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "igctl failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A JSON-RPC answer's error code, if it is an error (a held call's answer comes as the last
/// event of an SSE stream).
fn error_code(r: &HttpResponse) -> Option<i64> {
    let text = r.text();
    let answer: Value = match text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .next_back()
    {
        Some(data) => serde_json::from_str(data.trim()).unwrap_or(Value::Null),
        None => r.json(),
    };
    assert!(
        answer["jsonrpc"] == "2.0",
        "not a JSON-RPC answer: {} {text}",
        r.status
    );
    answer["error"]["code"].as_i64()
}

#[test]
fn counters_are_exact_after_allowed_blocked_and_escalated_calls() {
    let s = start(POLICY, Some(Upstream::python()));
    let igd = &s.igd;
    let (token, _) = igd.mint("acme", "bot", "echo,read_invoice,delete_records", 100);

    // Nothing decided yet, and every family is there from the first scrape.
    let first = scrape(s.metrics);
    assert!(
        first
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        first.headers
    );
    let before = samples(&first.text());
    assert_eq!(value(&before, "up", ""), 1.0);
    assert_eq!(value(&before, "ready", ""), 1.0);
    let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
    assert_eq!(value(&before, "build_info", &version), 1.0);
    assert_eq!(decisions(&before, "policy", "allow"), 0.0);
    assert_eq!(value(&before, "pending_approvals", ""), 0.0);

    // One allowed call first: it also probes upstream's era (an exchange of its own).
    let r = call_tool(igd.addr, &token, "echo", json!({"message": "warm-up"})).unwrap();
    assert_eq!(error_code(&r), None, "{}", r.text());
    let warm = samples(&scrape(s.metrics).text());
    let upstream_2xx = value(&warm, "upstream_status_total", "status=\"2xx\"");
    let upstream_count = value(&warm, "upstream_latency_seconds_count", "");
    assert!(upstream_2xx >= 1.0, "the forwarded call reached upstream");

    // Two more allowed, two blocked by policy, one outside the token's scope.
    for i in 0..2 {
        let r = call_tool(
            igd.addr,
            &token,
            "echo",
            json!({"message": format!("m{i}")}),
        )
        .unwrap();
        assert_eq!(error_code(&r), None, "{}", r.text());
    }
    for _ in 0..2 {
        let r = call_tool(igd.addr, &token, "read_invoice", json!({"invoice_id": "1"})).unwrap();
        assert_eq!(error_code(&r), Some(-31002), "{}", r.text());
    }
    let r = call_tool(igd.addr, &token, "send_email_internal", json!({})).unwrap();
    assert_eq!(error_code(&r), Some(-31001), "{}", r.text());

    // One escalated call, pending until an operator rejects it.
    let addr = igd.addr;
    let held_token = token.clone();
    let held = std::thread::spawn(move || {
        call_tool(addr, &held_token, "delete_records", json!({"table": "t"})).unwrap()
    });
    let waiting = scrape_until(s.metrics, "one pending approval", |m| {
        value(m, "pending_approvals", "") == 1.0
    });
    assert_eq!(decisions(&waiting, "policy", "escalate"), 1.0);
    let list = json_of(&igd.igctl(&["approvals", "list", "-o", "json"]));
    let id = list["approvals"][0]["id"].as_str().unwrap().to_string();
    json_of(&igd.igctl(&["approvals", "decide", &id, "reject", "-o", "json"]));
    let answer = held.join().unwrap();
    assert_eq!(error_code(&answer), Some(-31004), "{}", answer.text());

    // A revoked token and a stopped agent are refused at authentication (401).
    let (revoked, jti) = igd.mint("acme", "leaky", "echo", 5);
    assert!(igd.igctl(&["revoke", &jti]).status.success());
    let r = call_tool(igd.addr, &revoked, "echo", json!({"message": "x"})).unwrap();
    assert_eq!(r.status, 401);
    let (stopped, _) = igd.mint("acme", "rogue", "echo", 5);
    let stop = igd.igctl(&[
        "stop",
        "--tenant",
        "acme",
        "--subject",
        "rogue",
        "--reason",
        "test",
    ]);
    assert!(stop.status.success());
    let r = call_tool(igd.addr, &stopped, "echo", json!({"message": "x"})).unwrap();
    assert_eq!(r.status, 401);

    let m = scrape_until(s.metrics, "no pending approval", |m| {
        value(m, "pending_approvals", "") == 0.0
    });
    // capability: 3 allowed + 2 policy-blocked + 1 escalated pass; 1 out of scope.
    assert_eq!(decisions(&m, "capability", "allow"), 6.0);
    assert_eq!(decisions(&m, "capability", "block"), 1.0);
    assert_eq!(decisions(&m, "policy", "allow"), 3.0);
    assert_eq!(decisions(&m, "policy", "block"), 2.0);
    assert_eq!(decisions(&m, "policy", "escalate"), 1.0);
    // The escalated call's budget is checked before anyone is asked; the rejection ends it.
    assert_eq!(decisions(&m, "budget", "allow"), 4.0);
    assert_eq!(decisions(&m, "budget", "block"), 0.0);
    assert_eq!(decisions(&m, "approval", "allow"), 0.0);
    assert_eq!(decisions(&m, "approval", "block"), 1.0);
    assert_eq!(decisions(&m, "audit", "allow"), 3.0);
    assert_eq!(decisions(&m, "audit", "block"), 0.0);
    // Every run of a check is timed (approval, a person's time, is not).
    assert_eq!(latency_count(&m, "capability"), 7.0);
    assert_eq!(latency_count(&m, "intent"), 6.0);
    assert_eq!(latency_count(&m, "policy"), 6.0);
    assert_eq!(latency_count(&m, "budget"), 4.0);
    assert_eq!(latency_count(&m, "audit"), 3.0);
    assert!(!m.contains_key(&format!(
        "{P}check_latency_seconds_count{{check=\"approval\"}}"
    )));
    // Liveness: each of the 7 gated calls at authentication and again before its decision;
    // the dead tokens only at authentication.
    let lookups = |r: &str| value(&m, "revocation_lookups_total", &format!("result=\"{r}\""));
    assert_eq!(lookups("not_revoked"), 14.0);
    assert_eq!(lookups("revoked"), 1.0);
    assert_eq!(lookups("stopped"), 1.0);
    assert_eq!(lookups("expired"), 0.0);
    // Upstream: the two later allowed calls, one exchange each, nothing else.
    assert_eq!(
        value(&m, "upstream_status_total", "status=\"2xx\""),
        upstream_2xx + 2.0
    );
    assert_eq!(
        value(&m, "upstream_latency_seconds_count", ""),
        upstream_count + 2.0
    );
    for class in ["3xx", "4xx", "5xx", "error"] {
        let labels = format!("status=\"{class}\"");
        assert_eq!(value(&m, "upstream_status_total", &labels), 0.0, "{class}");
    }
    let statuses: f64 = ["2xx", "3xx", "4xx", "5xx", "error"]
        .iter()
        .map(|c| value(&m, "upstream_status_total", &format!("status=\"{c}\"")))
        .sum();
    assert_eq!(value(&m, "upstream_latency_seconds_count", ""), statuses);

    // Audit: what the writer made durable is exactly what the store holds (outcome entries
    // ride later commits: wait for them), and every entry's commit wait is observed once.
    let db = igd.data_dir.join("igd.db");
    let deadline = Instant::now() + Duration::from_secs(30);
    let m = loop {
        let m = samples(&scrape(s.metrics).text());
        let rows: f64 = sqlite3(&db, "SELECT count(*) FROM audit_log;")
            .trim()
            .parse()
            .unwrap();
        let inserts = value(&m, "audit_chain_inserts_total", "");
        if inserts == rows && rows > 0.0 {
            break m;
        }
        assert!(
            Instant::now() < deadline,
            "inserts {inserts} never matched the {rows} stored entries"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        value(&m, "audit_chain_lock_wait_seconds_count", ""),
        value(&m, "audit_chain_inserts_total", "")
    );
    assert_eq!(value(&m, "checkpoint_signer_refusals_total", ""), 0.0);
    // The signer covers every head within a pass or two (it runs every second).
    scrape_until(s.metrics, "a fresh checkpoint", |m| {
        value(m, "checkpoint_age_seconds", "") < 5.0
    });

    promtool_check(&scrape(s.metrics).text());
}

/// Lines of a scrape that are samples (not comments).
fn series(addr: SocketAddr) -> usize {
    scrape(addr)
        .text()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .count()
}

#[test]
fn a_thousand_agents_with_a_thousand_tools_add_no_series() {
    let s = start(ALLOW_ALL, None);
    let igd = &s.igd;
    let mint = |i: usize| {
        let body = json!({"subject": format!("agent-{i}"), "tenant": "acme", "ttl_seconds": 3600,
            "tools": [format!("tool_{i}")], "max_calls": 10});
        let r = igd.admin_http(
            "POST",
            "/v1/admin/mint",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["token"].as_str().unwrap().to_string()
    };
    let mut after_ten = 0;
    for i in 0..1000 {
        let token = mint(i);
        let tool = format!("tool_{i}");
        let r = call_tool(igd.addr, &token, &tool, json!({})).unwrap();
        assert_eq!(error_code(&r), None, "{}", r.text());
        // Every tenth call is out of scope: blocks count too.
        if i % 10 == 0 {
            let r = call_tool(igd.addr, &token, &format!("other_{i}"), json!({})).unwrap();
            assert_eq!(error_code(&r), Some(-31001), "{}", r.text());
        }
        if i == 9 {
            after_ten = series(s.metrics);
        }
    }
    let m = samples(&scrape(s.metrics).text());
    assert_eq!(decisions(&m, "audit", "allow"), 1000.0);
    assert_eq!(decisions(&m, "capability", "block"), 100.0);
    let text = scrape(s.metrics).text();
    assert!(
        !text.contains("agent-") && !text.contains("tool_") && !text.contains("acme"),
        "agent, tool or tenant names leaked into labels"
    );
    assert_eq!(series(s.metrics), after_ten, "series grew with agents");
}

/// The TCP ports the igd process serving `data_dir` listens on (from /proc).
fn listening_ports(data_dir: &std::path::Path) -> BTreeSet<u16> {
    let needle = format!("INTENTGATE_DATA_DIR={}", data_dir.display());
    let pid = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .find(|e| {
            std::fs::read(e.path().join("environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes()))
                && std::fs::read_link(e.path().join("exe"))
                    .is_ok_and(|p| p.file_name().is_some_and(|n| n == "igd"))
        })
        .map(|e| e.path())
        .expect("the igd process");
    let inodes: BTreeSet<String> = std::fs::read_dir(pid.join("fd"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            l.strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .map(String::from)
        })
        .collect();
    let mut ports = BTreeSet::new();
    for table in ["net/tcp", "net/tcp6"] {
        let text = std::fs::read_to_string(pid.join(table)).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address, state 0A = LISTEN, inode.
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                let port = f[1].rsplit(':').next().unwrap();
                ports.insert(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports
}

#[test]
fn the_listener_is_off_unless_enabled_and_serves_get_metrics_only() {
    // Off by default: the agent port is igd's only TCP listener.
    let off = Igd::start(&[]);
    assert_eq!(
        listening_ports(&off.data_dir),
        BTreeSet::from([off.addr.port()])
    );
    drop(off);

    // A listen address without ENABLED=true is a configuration error, not silently ignored.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(igd_bin())
        .arg("check-config")
        .env_clear()
        .env("INTENTGATE_DATA_DIR", dir.path())
        .env("INTENTGATE_METRICS_LISTEN", "127.0.0.1:9999")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stdout).contains("INTENTGATE_METRICS_LISTEN"));

    // On: its own port, beside the agent's.
    let s = start(ALLOW_ALL, None);
    assert_eq!(
        listening_ports(&s.igd.data_dir),
        BTreeSet::from([s.igd.addr.port(), s.metrics.port()])
    );
    for path in ["/", "/metrics/", "/healthz", "/v1/mcp", "/metricsx"] {
        let r = http(s.metrics, "GET", path, &[], b"").unwrap();
        assert_eq!(r.status, 404, "{path}");
    }
    let r = http(s.metrics, "POST", "/metrics", &[], b"{}").unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET"));
    // The agent port does not serve metrics.
    let r = http(s.igd.addr, "GET", "/metrics", &[], b"").unwrap();
    assert_ne!(r.status, 200);
    // A scrape with a query string is still a scrape.
    let r = http(s.metrics, "GET", "/metrics?x=1", &[], b"").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text().contains(&format!("{P}up 1")));
    // Connections beyond the cap (8) are closed at accept, while those holding the slots are
    // still open (each would otherwise be closed only at its 10-s deadline). The last scrape's
    // connection task lets go of its slot just after answering, so a round where a held
    // connection was the one refused is tried again (bounded).
    let deadline = Instant::now() + Duration::from_secs(30);
    let held = loop {
        let held: Vec<std::net::TcpStream> = (0..8)
            .map(|_| std::net::TcpStream::connect(s.metrics).unwrap())
            .collect();
        let mut extra = std::net::TcpStream::connect(s.metrics).unwrap();
        extra
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut buf = [0u8; 1];
        use std::io::Read;
        let extra_closed = matches!(extra.read(&mut buf), Ok(0) | Err(_));
        assert!(extra_closed, "the ninth connection is closed");
        let all_open = held.iter().all(|mut c| {
            c.set_nonblocking(true).unwrap();
            matches!(c.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        });
        if all_open {
            break held;
        }
        assert!(
            Instant::now() < deadline,
            "a connection within the cap was closed in every round"
        );
        drop(held);
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match http(s.metrics, "GET", "/metrics", &[], b"") {
            Ok(r) if r.status == 200 => break,
            other => assert!(
                Instant::now() < deadline,
                "no scrape after the burst: {other:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every metric name a scrape shows (samples, and the families its comments declare with the
/// names their samples take).
fn exported_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
                continue;
            };
            names.insert(name.to_string());
            if kind == "histogram" {
                for suffix in ["_bucket", "_sum", "_count"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
        } else if !line.starts_with('#') {
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// The `intentgate_gateway_*` names in a PromQL expression.
fn names_in(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find(P) {
        let name: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[i + name.len()..];
        out.push(name);
    }
    out
}

#[test]
fn the_grafana_dashboard_asks_only_for_exported_metrics() {
    let path = workspace().join("igd/dist/grafana-dashboard.json");
    let dash: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("the dashboard is valid JSON");
    let s = start(ALLOW_ALL, None);
    let exported = exported_names(&scrape(s.metrics).text());

    let vars = dash["templating"]["list"].as_array().unwrap();
    assert!(
        vars.iter()
            .any(|v| v["type"] == "datasource" && v["query"] == "prometheus"),
        "a Prometheus data source variable"
    );
    let panels = dash["panels"].as_array().unwrap();
    assert!(panels.len() >= 10, "{} panels", panels.len());
    let mut used = BTreeSet::new();
    let mut exprs = Vec::new();
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or_default();
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "panel {title:?} uses the data source variable"
        );
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "panel {title:?} has no query");
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            let names = names_in(expr);
            assert!(
                !names.is_empty(),
                "panel {title:?}: {expr} names no igd metric"
            );
            for n in names {
                assert!(
                    exported.contains(&n),
                    "panel {title:?} asks for {n}, which igd does not export"
                );
                used.insert(n);
            }
            exprs.push(expr.to_string());
        }
    }
    // The families the dashboard must show.
    for family in [
        "check_decisions_total",
        "check_latency_seconds_bucket",
        "upstream_latency_seconds_bucket",
        "upstream_status_total",
        "audit_chain_inserts_total",
        "audit_chain_lock_wait_seconds_bucket",
        "pending_approvals",
        "checkpoint_age_seconds",
        "sink_lag_entries",
        "sink_failures_total",
    ] {
        assert!(
            used.contains(&format!("{P}{family}")),
            "no panel shows {family}"
        );
    }
    // Every query parses as PromQL (Grafana's variables replaced by values).
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("dashboard-rules.yml");
    let mut text = String::from("groups:\n- name: dashboard\n  rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        let e = e
            .replace("$__rate_interval", "5m")
            .replace("$instance", ".*");
        text.push_str(&format!(
            "  - record: dashboard:expr{i}\n    expr: {}\n",
            serde_json::to_string(&e).unwrap()
        ));
    }
    std::fs::write(&rules, text).unwrap();
    let out = Command::new("promtool")
        .arg("check")
        .arg("rules")
        .arg(&rules)
        .output()
        .expect("promtool is required (Debian package `prometheus`; .ci/run installs it)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
