//! SIGKILL igd under load, 20 times: every call that got a successful answer or reached
//! upstream has its committed decision entry, and the chain verifies after every restart. On
//! the embedded SQLite store and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const POLICY: &str = "package intentgate.policy\n\ndecision := {\"allow\": input.tool == \"echo\", \"reason\": \"echo only\"}\n";
const ROUNDS: usize = 20;
const CLIENTS: usize = 4;

fn call(addr: std::net::SocketAddr, token: &str, n: u64) -> Option<bool> {
    let v = call_tool(addr, token, "echo", json!({"message": format!("m{n}")}))
        .ok()?
        .json();
    Some(
        v["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t == format!("echo: m{n}")),
    )
}

fn decided_messages(igd: &Igd) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec![
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
        ];
        let c;
        if let Some(cur) = &cursor {
            c = cur.clone();
            args.push("--cursor");
            args.push(&c);
        }
        let out_json = igd.igctl(&args);
        assert!(
            out_json.status.success(),
            "{}",
            String::from_utf8_lossy(&out_json.stderr)
        );
        let v: Value = serde_json::from_slice(&out_json.stdout).unwrap();
        for e in v["entries"].as_array().unwrap() {
            if let Some(m) = e["args"]["message"].as_str() {
                out.insert(m.to_string());
            }
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[test]
fn sigkill_under_load_loses_no_decision() {
    sigkill_under_load(&[]);
}

#[test]
fn sigkill_under_load_loses_no_decision_on_postgres() {
    let db = intentgate_tests::pg::TestDb::create_blocking();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit.pem");
    write_audit_key(&key);
    sigkill_under_load(&[
        ("INTENTGATE_POSTGRES_URL", &db.url),
        ("INTENTGATE_MASTER_KEY", &"6".repeat(64)),
        ("INTENTGATE_AUDIT_SIGNING_KEY", key.to_str().unwrap()),
    ]);
}

/// SIGKILL igd under load `ROUNDS` times, with `store` settings (none: the embedded SQLite).
fn sigkill_under_load(store: &[(&str, &str)]) {
    let upstream = Upstream::python();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.rego");
    std::fs::write(&policy, POLICY).unwrap();
    let mut env = vec![
        ("INTENTGATE_UPSTREAM_URL", upstream.url.as_str()),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
        ("INTENTGATE_AUDIT_PERSIST_ARG_VALUES", "raw"),
    ];
    env.extend_from_slice(store);
    let mut igd = Igd::start(&env);
    let (token, _) = igd.mint("acme", "agent-crash", "echo", 1_000_000);
    let answered = Arc::new(Mutex::new(BTreeSet::new()));
    let next = Arc::new(AtomicU64::new(1));
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (stop, next, answered, token, addr) = (
                    stop.clone(),
                    next.clone(),
                    answered.clone(),
                    token.clone(),
                    igd.addr,
                );
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if call(addr, &token, n) == Some(true) {
                            answered.lock().unwrap().insert(format!("m{n}"));
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + (round as u64 * 37) % 250));
        igd.kill();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            let _ = w.join();
        }
        igd.kill_and_restart();
        let out = igd.igctl(&["audit", "verify", "-o", "json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let decided = decided_messages(&igd);
    let answered = answered.lock().unwrap().clone();
    let reached: BTreeSet<String> = std::fs::read_to_string(upstream.call_log.as_ref().unwrap())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["args"]["message"].as_str().map(String::from))
        .collect();
    assert!(
        answered.len() > 100,
        "too little load to mean anything: {}",
        answered.len()
    );
    let missing_answered: Vec<_> = answered.difference(&decided).collect();
    let missing_reached: Vec<_> = reached.difference(&decided).collect();
    assert!(
        missing_answered.is_empty(),
        "answered without a decision entry: {missing_answered:?}"
    );
    assert!(
        missing_reached.is_empty(),
        "reached upstream without a decision entry: {missing_reached:?}"
    );
    eprintln!(
        "{} calls answered, {} reached upstream, {} decisions, {ROUNDS} SIGKILLs",
        answered.len(),
        reached.len(),
        decided.len()
    );
}
