//! 2025-era MCP sessions (DESIGN §2): the idle time-out is judged from state every replica
//! sees, so an active session survives a restart; session churn (`initialize`, `DELETE`) is
//! rate-limited per token and every refusal is accounted for in the chain.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::Value;
use std::time::{Duration, Instant};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const LIST: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;

fn headers(token: &str, session: Option<&str>) -> Vec<(String, String)> {
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

fn send(igd: &Igd, method: &str, token: &str, session: Option<&str>, body: &str) -> HttpResponse {
    let h = headers(token, session);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    http(igd.addr, method, "/v1/mcp", &h, body.as_bytes()).expect("http")
}

fn start(extra: &[(&str, &str)]) -> Igd {
    let mut env = vec![("INTENTGATE_UPSTREAM_URL", "stub")];
    env.extend_from_slice(extra);
    Igd::start(&env)
}

/// A session kept active past the idle time-out is still accepted after igd is killed and
/// restarted: its last activity is judged from the store, not from the dead process's memory.
#[test]
fn an_active_session_outlives_the_idle_timeout_across_a_restart() {
    let mut igd = start(&[("INTENTGATE_SESSION_IDLE_TIMEOUT", "6")]);
    let (token, _) = igd.mint("acme", "agent-busy", "echo", 5);
    let r = send(&igd, "POST", &token, None, INIT);
    let sid = r.header("mcp-session-id").expect("session id").to_string();
    let opened = Instant::now();
    // Keep it busy until it is older than the idle time-out (6 s) by a margin.
    while opened.elapsed() < Duration::from_secs(9) {
        let r = send(&igd, "POST", &token, Some(&sid), LIST);
        assert_eq!(r.status, 200, "active session refused: {}", r.text());
        std::thread::sleep(Duration::from_millis(500));
    }
    igd.kill_and_restart();
    let r = send(&igd, "POST", &token, Some(&sid), LIST);
    assert_eq!(
        r.status,
        200,
        "an active session was refused after a restart: {}",
        r.text()
    );
}

fn decision_entries(igd: &Igd) -> Vec<Value> {
    let out = igd.igctl(&[
        "audit",
        "list",
        "--tenant",
        "acme",
        "--decision",
        "block",
        "--limit",
        "1000",
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["entries"].as_array().cloned().unwrap_or_default()
}

/// How many refusals the chain accounts for: one per recorded entry plus the counts that
/// entries and summaries carry.
fn refusals_accounted(entries: &[Value]) -> u64 {
    entries
        .iter()
        .filter(|e| e["check"] == "budget")
        .map(|e| {
            let reason = e["reason"].as_str().unwrap_or("");
            let number = |marker: &str| -> Option<u64> {
                let at = reason.find(marker)?;
                reason[..at]
                    .rsplit(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            };
            if let Some(n) = number(" further initialize/DELETE refusals") {
                n
            } else {
                1 + number(" earlier refusals").unwrap_or(0)
            }
        })
        .sum()
}

/// `initialize` and `DELETE` beyond the per-token rate are refused (−31003; DELETE with 429)
/// and every refusal is accounted for in the chain; other tokens are not affected.
#[test]
fn session_churn_is_rate_limited_per_token_and_recorded() {
    let igd = start(&[("INTENTGATE_SESSION_OPS_PER_MINUTE", "3")]);
    let (token, _) = igd.mint("acme", "agent-churn", "echo", 5);
    let (other, _) = igd.mint("acme", "agent-calm", "echo", 5);
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let r = send(&igd, "POST", &token, None, INIT);
        assert_eq!(r.status, 200, "{}", r.text());
        sessions.push(r.header("mcp-session-id").unwrap().to_string());
    }
    let mut refused = 0u64;
    for _ in 0..20 {
        let r = send(&igd, "POST", &token, None, INIT);
        assert!(
            r.header("mcp-session-id").is_none(),
            "a session beyond the rate"
        );
        let v = r.json();
        assert_eq!(v["error"]["code"], -31003, "{}", r.text());
        assert_eq!(v["error"]["data"]["check"], "budget");
        assert!(v["error"]["data"]["decision_id"].is_string(), "{v}");
        refused += 1;
    }
    let r = send(&igd, "DELETE", &token, Some(&sessions[0]), "");
    assert_eq!(r.status, 429, "{}", r.text());
    refused += 1;
    // The session was not deleted, and sessions still work (the limit is on churn only).
    assert_eq!(
        send(&igd, "POST", &token, Some(&sessions[0]), LIST).status,
        200
    );
    // Another token of the same tenant is not affected.
    assert_eq!(send(&igd, "POST", &other, None, INIT).status, 200);

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let accounted = refusals_accounted(&decision_entries(&igd));
        if accounted == refused {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{accounted} of {refused} refusals accounted for: {:#?}",
            decision_entries(&igd)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = igd.igctl(&["audit", "verify", "--tenant", "acme"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
