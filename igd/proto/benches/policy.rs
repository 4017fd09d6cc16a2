//! Decision latency of a prepared policy, as igd pays it per call (clone the prepared engine,
//! set the input, evaluate `decision`, read the output): the baseline example policy and a
//! generated 200-rule policy. `cargo bench -p intentgate-proto --bench policy` prints p50, p99
//! and p99.9 of single evaluations first (criterion reports means), then criterion's runs.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use intentgate_proto::policy::{PreparedPolicy, DEFAULT_TIME_LIMIT};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Instant;

/// Evaluations timed one by one for the percentiles.
const SAMPLES: usize = 20_000;

fn baseline() -> PreparedPolicy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/baseline/baseline.rego");
    let text = std::fs::read_to_string(&path).unwrap();
    PreparedPolicy::prepare(&[("baseline.rego".into(), text)], DEFAULT_TIME_LIMIT).unwrap()
}

/// 200 tool rules, each with an argument and a counter condition, and a default: every call
/// is matched against all of them (regorus does not index rule heads).
fn generated(rules: usize) -> PreparedPolicy {
    let mut text = String::from(
        "package intentgate.policy\n\ndefault decision := {\"allow\": false, \"reason\": \"no rule matched\"}\n",
    );
    for i in 0..rules {
        text.push_str(&format!(
            "\ndecision := {{\"allow\": true, \"reason\": \"rule {i}\"}} if {{\n\tinput.tool == \"tool_{i}\"\n\tinput.args.amount < {limit}\n\tinput.agent.calls_today_for_tool < {i} + 10\n\tnot input.args.flagged\n}}\n",
            limit = (i + 1) * 100,
        ));
    }
    PreparedPolicy::prepare(&[("generated.rego".into(), text)], DEFAULT_TIME_LIMIT).unwrap()
}

fn input(tool: &str, sent_today: u64) -> Value {
    json!({
        "method": "tools/call", "tool": tool, "args": {"to": "bob@acme.example", "amount": 50},
        "tenant": "acme",
        "agent": {"subject": "agent-a", "delegated_subject": null,
                  "jti": "0000000000000000000000000000000b", "root_jti": "0000000000000000000000000000000a",
                  "chain": ["0000000000000000000000000000000a", "0000000000000000000000000000000b"],
                  "depth": 1, "calls_today": 12, "calls_today_for_tool": sent_today, "calls_this_hour": 2},
        "capability": {"tools": ["read_invoice", "send_email_internal"], "max_calls": 1000,
                       "remaining_calls": 988, "expires_at": "2026-12-01T00:00:00Z"},
        "intent": null,
        "request": {"time": "2026-11-25T10:00:00Z", "remote_addr": "10.0.0.7", "protocol_version": "2025-11-25"}
    })
}

/// p50, p99 and p99.9 of single evaluations, in µs.
fn print_percentiles(name: &str, policy: &PreparedPolicy, input: &Value) {
    for _ in 0..1_000 {
        black_box(policy.evaluate(input.clone()));
    }
    let mut took: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            black_box(policy.evaluate(black_box(input.clone())));
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    eprintln!(
        "{name}: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs ({SAMPLES} evaluations)",
        at(0.50),
        at(0.99),
        at(0.999)
    );
}

fn bench(c: &mut Criterion) {
    let cases = [
        (
            "baseline: send_email_internal within quota (allow)",
            baseline(),
            input("send_email_internal", 3),
        ),
        (
            "baseline: send_email_internal over quota (escalate)",
            baseline(),
            input("send_email_internal", 20),
        ),
        (
            "200 rules: last rule matches",
            generated(200),
            input("tool_199", 0),
        ),
        (
            "200 rules: no rule matches",
            generated(200),
            input("unknown", 0),
        ),
    ];
    for (name, policy, input) in &cases {
        let d = policy.evaluate(input.clone());
        assert!(!d.reason.contains("failed"), "{name}: {d:?}");
        print_percentiles(name, policy, input);
    }
    for (name, policy, input) in &cases {
        c.bench_function(name, |b| {
            b.iter(|| black_box(policy.evaluate(black_box(input.clone()))))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
