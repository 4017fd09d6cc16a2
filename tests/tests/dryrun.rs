//! Policy dry-run through its library surface (`igd::dryrun::dry_run`) over a store as igd
//! writes it: decision entries with their policy context and argument values in every
//! persistence mode, outcome entries between them, refusals without a context, an
//! `_unauthenticated` chain, timestamps spread over 30 hours and slightly out of order. Every
//! answer is checked against a brute-force recomputation of the same rules in plain Rust over
//! the seeded data (never by asking the policy engine).

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use igd::clock::{now_us, parse_rfc3339};
use igd::config::AuditSync;
use igd::dryrun::{dry_run, DryRunError, DryRunReport, DryRunRequest, MAX_SAMPLES};
use igd::pipeline::{scalars_only, PolicyContext};
use igd::policy::PolicySnapshot;
use igd::store::postgres::{PgSettings, PostgresStore};
use igd::store::sqlite::SqliteStore;
use igd::store::{AppendEntry, CommitBatch, DynStore, SideRecord};
use intentgate_proto::audit::{args_commitment, Entry, GENESIS_HASH};
use intentgate_proto::ids::{new_id, UNAUTHENTICATED_TENANT};
use intentgate_tests::pg::TestDb;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HOUR: i64 = 3600 * 1_000_000;

/// The candidate: depends on the tool, the tenant, the counters, the subject and the arguments
/// (a string argument, so `scalars` persistence changes its answer, and a number).
const CANDIDATE: &str = r#"package intentgate.policy

import rego.v1

decision := {"allow": false, "reason": "repository deletion is off"} if {
	input.tool == "delete_repo"
} else := {"allow": false, "reason": "globex transfers are frozen"} if {
	input.tenant == "globex"
	input.tool == "transfer_funds"
} else := {"allow": false, "reason": "transfers in EUR only"} if {
	input.tool == "transfer_funds"
	input.args.currency != "EUR"
} else := {"allow": true, "escalate": true, "reason": "a large transfer needs approval"} if {
	input.tool == "transfer_funds"
	input.args.amount > 5000
} else := {"allow": false, "reason": "hourly cap"} if {
	input.agent.calls_this_hour >= 50
} else := {"allow": true, "escalate": true, "reason": "bots send email with approval"} if {
	input.tool == "send_email"
	startswith(input.agent.subject, "bot-")
} else := {"allow": true, "reason": "within the rules"} if {
	input.agent.calls_today_for_tool < 120
} else := {"allow": false, "reason": "daily cap for this tool"}
"#;

/// [`CANDIDATE`] in plain Rust, rule for rule (hence the repeated branches).
#[allow(clippy::if_same_then_else)]
fn candidate_rules(d: &Replayed) -> &'static str {
    let arg = |k: &str| d.args.get(k);
    if d.tool == "delete_repo" {
        "block"
    } else if d.tenant == "globex" && d.tool == "transfer_funds" {
        "block"
    } else if d.tool == "transfer_funds" && arg("currency").is_some_and(|c| c != "EUR") {
        "block"
    } else if d.tool == "transfer_funds"
        && arg("amount")
            .and_then(Value::as_f64)
            .is_some_and(|a| a > 5000.0)
    {
        "escalate"
    } else if d.counters[2] >= 50 {
        "block"
    } else if d.tool == "send_email" && d.subject.starts_with("bot-") {
        "escalate"
    } else if d.counters[1] < 120 {
        "allow"
    } else {
        "block"
    }
}

/// A baseline for `igctl policy diff`.
const BASELINE: &str = r#"package intentgate.policy

import rego.v1

decision := {"allow": false, "reason": "no deletes"} if {
	input.tool == "delete_repo"
} else := {"allow": true, "escalate": true, "reason": "big transfer"} if {
	input.args.amount > 8000
} else := {"allow": input.agent.calls_this_hour < 55, "reason": "hourly"}
"#;

/// [`BASELINE`] in plain Rust.
fn baseline_rules(d: &Replayed) -> &'static str {
    if d.tool == "delete_repo" {
        "block"
    } else if d
        .args
        .get("amount")
        .and_then(Value::as_f64)
        .is_some_and(|a| a > 8000.0)
    {
        "escalate"
    } else if d.counters[2] < 55 {
        "allow"
    } else {
        "block"
    }
}

/// What the "old" policy recorded, on the real arguments.
fn recorded_rules(tenant: &str, tool: &str, args: &Value) -> &'static str {
    if tool == "delete_repo" || (tenant == "initech" && tool == "send_email") {
        "block"
    } else if args
        .get("amount")
        .and_then(Value::as_f64)
        .is_some_and(|a| a > 8000.0)
    {
        "escalate"
    } else {
        "allow"
    }
}

fn policy(name: &str, source: &str) -> Arc<PolicySnapshot> {
    Arc::new(
        PolicySnapshot::prepare(
            &[(format!("{name}.rego"), source.to_string())],
            name,
            Duration::from_millis(500),
        )
        .unwrap(),
    )
}

/// splitmix64: a deterministic generator without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    Exact,
    Partial,
    Unavailable,
}

/// A decision with a policy context, as the replay must see it.
#[derive(Debug, Clone)]
struct Replayed {
    tenant: String,
    tool: String,
    subject: String,
    /// The argument values as kept (`null` when none were).
    args: Value,
    kept: Kept,
    counters: [u64; 3],
    /// The policy's recorded verdict (`None`: an entry from before it was kept).
    v: Option<&'static str>,
    decision: &'static str,
    check: Option<&'static str>,
}

/// One seeded decision entry.
#[derive(Debug, Clone)]
struct Seeded {
    tenant: String,
    seq: u64,
    ts: i64,
    event_id: String,
    /// `None`: refused before the policy (no context).
    replay: Option<Replayed>,
}

impl Replayed {
    /// "before" without a baseline: the recorded verdict, or the documented inference.
    fn before(&self) -> &'static str {
        self.v.unwrap_or(match (self.decision, self.check) {
            ("allow", _) => "allow",
            ("escalate", _) => "escalate",
            ("block", Some("policy")) => "block",
            ("block", Some("approval")) => "escalate",
            _ => "allow",
        })
    }
}

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];
const TOOLS: [&str; 5] = [
    "read_file",
    "search",
    "send_email",
    "transfer_funds",
    "delete_repo",
];

fn args_for(tool: &str, rng: &mut Rng) -> Value {
    match tool {
        "read_file" => json!({"path": format!("/srv/doc-{}.txt", rng.below(500))}),
        "search" => json!({"q": format!("invoices {}", rng.below(90)), "limit": rng.below(50)}),
        "send_email" => {
            json!({"to": format!("p{}@example.com", rng.below(40)), "urgent": rng.chance(20)})
        }
        "transfer_funds" => {
            let amount = rng.below(10_000);
            match rng.below(10) {
                // No string at all: `scalars` keeps these exactly.
                0 => json!({"amount": amount}),
                1 | 2 => json!({"amount": amount, "currency": "USD"}),
                _ => json!({"amount": amount, "currency": "EUR"}),
            }
        }
        _ => json!({"repo": format!("team/{}", rng.below(30))}),
    }
}

/// Append `n` decisions spread evenly over `[end - span, end)` (each moved by up to ±400 ms, so
/// a chain's timestamps are slightly out of seq order, as with concurrent calls), outcome
/// entries after some allowed calls, and 300 refusals in `_unauthenticated`.
async fn seed(store: &DynStore, n: usize, span: i64, end: i64, salt: u64) -> Vec<Seeded> {
    let mut rng = Rng(salt);
    let instance = new_id();
    let mut heads: HashMap<String, (u64, String)> = HashMap::new();
    let mut seal = |e: &mut Entry| {
        let (seq, hash) = heads
            .get(&e.tenant)
            .cloned()
            .unwrap_or((0, GENESIS_HASH.to_string()));
        e.seal(seq, &hash);
        heads.insert(e.tenant.clone(), (e.seq, e.hash.clone()));
    };
    let subjects: Vec<(String, String)> = (0..8)
        .map(|i| {
            let name = if i < 2 {
                format!("bot-{i}")
            } else {
                format!("agent-{i}")
            };
            (name, new_id())
        })
        .collect();
    let step = span / i64::try_from(n).unwrap();
    let mut seeded = Vec::with_capacity(n);
    let mut batch: Vec<AppendEntry> = Vec::new();
    for i in 0..n {
        let tenant = TENANTS[usize::try_from(rng.below(3)).unwrap()];
        let tool = TOOLS[usize::try_from(rng.below(5)).unwrap()];
        let (subject, root) = &subjects[usize::try_from(rng.below(8)).unwrap()];
        let jitter = i64::try_from(rng.below(800_001)).unwrap() - 400_000;
        let ts = (end - span + i64::try_from(i).unwrap() * step + jitter).min(end - 1);
        let args = args_for(tool, &mut rng);
        let hour = rng.below(60);
        let today = hour + rng.below(100);
        let counters = [today, rng.below(today + 1).min(140), hour];
        let with_context = !rng.chance(5);
        let recorded = recorded_rules(tenant, tool, &args);
        // The final decision: some allowed and escalated calls are refused for budget after
        // the policy answered, and some escalations were rejected by an operator.
        let budget_refused = recorded != "block" && rng.chance(4);
        let rejected = rng.chance(30);
        let (decision, check) = match (recorded, budget_refused) {
            _ if !with_context => ("block", Some("capability")),
            (_, true) => ("block", Some("budget")),
            ("allow", false) => ("allow", None),
            ("escalate", false) if rejected => ("block", Some("approval")),
            ("escalate", false) => ("escalate", Some("approval")),
            _ => ("block", Some("policy")),
        };
        let legacy = rng.chance(10);
        let mode = rng.below(3);

        let mut e = Entry {
            tenant: tenant.into(),
            kind: "decision".into(),
            event_id: new_id(),
            ts,
            instance: instance.clone(),
            subject: Some(subject.clone()),
            jti: Some(root.clone()),
            root_jti: Some(root.clone()),
            jti_chain: Some(vec![root.clone()]),
            method: Some("tools/call".into()),
            tool: Some(tool.into()),
            decision: Some(decision.into()),
            check: check.map(Into::into),
            reason: Some(format!("recorded {recorded}")),
            policy_revision: Some(format!("sha256:{}{}", "ab".repeat(16), "cd".repeat(16))),
            ..Entry::default()
        };
        let salt_bytes: Vec<u8> = (0..16).map(|_| rng.next().to_le_bytes()[0]).collect();
        let (commitment, canonical) = args_commitment(&salt_bytes, &args);
        e.args_commitment = Some(commitment);
        let (kept_args, kept, side_args, side_salt) = match mode {
            0 => (
                args.clone(),
                Kept::Exact,
                Some(String::from_utf8(canonical).unwrap()),
                Some(hex::encode(&salt_bytes)),
            ),
            1 => {
                let s = scalars_only(&args);
                let kept = if s == args {
                    Kept::Exact
                } else {
                    Kept::Partial
                };
                (
                    s.clone(),
                    kept,
                    Some(s.to_string()),
                    Some(hex::encode(&salt_bytes)),
                )
            }
            _ => (Value::Null, Kept::Unavailable, None, None),
        };
        let v = (!legacy).then_some(recorded);
        let context = with_context.then(|| PolicyContext {
            c: counters,
            t: TOOLS.iter().map(|t| t.to_string()).collect(),
            m: 1000,
            r: 1000 - counters[0].min(1000),
            x: "2030-01-01T00:00:00Z".into(),
            i: Value::Null,
            a: "127.0.0.1".into(),
            p: "2025-11-25".into(),
            e: None,
            v: v.map(str::to_string),
        });
        let side = match (&context, mode) {
            // A refusal before the policy with nothing kept beside it at all.
            (None, 2) => None,
            _ => Some(SideRecord {
                salt: side_salt,
                args: side_args,
                policy_context: context.as_ref().map(|c| serde_json::to_string(c).unwrap()),
            }),
        };
        seal(&mut e);
        seeded.push(Seeded {
            tenant: tenant.into(),
            seq: e.seq,
            ts,
            event_id: e.event_id.clone(),
            replay: with_context.then(|| Replayed {
                tenant: tenant.into(),
                tool: tool.into(),
                subject: subject.clone(),
                args: kept_args,
                kept,
                counters,
                v,
                decision,
                check,
            }),
        });
        let outcome = (decision == "allow" && i % 5 == 0).then(|| {
            let mut o = Entry {
                tenant: tenant.into(),
                kind: "outcome".into(),
                event_id: new_id(),
                ref_event_id: Some(e.event_id.clone()),
                ts: ts + 1000,
                instance: instance.clone(),
                subject: e.subject.clone(),
                tool: e.tool.clone(),
                upstream_status: Some(200),
                upstream_latency_ms: Some(3),
                ..Entry::default()
            };
            let ref_seq = e.seq;
            seal(&mut o);
            AppendEntry {
                entry: o,
                ref_seq: Some(ref_seq),
                side: None,
            }
        });
        batch.push(AppendEntry {
            entry: e,
            ref_seq: None,
            side,
        });
        batch.extend(outcome);
        if batch.len() >= 10_000 {
            commit(store, std::mem::take(&mut batch)).await;
        }
    }
    // Authentication refusals: never replayed, never counted.
    for i in 0..300 {
        let mut e = Entry {
            tenant: UNAUTHENTICATED_TENANT.into(),
            kind: "decision".into(),
            event_id: new_id(),
            ts: end - span + i * (span / 300),
            instance: instance.clone(),
            method: Some("tools/call".into()),
            tool: Some("read_file".into()),
            decision: Some("block".into()),
            check: Some("capability".into()),
            reason: Some("token does not verify".into()),
            ..Entry::default()
        };
        seal(&mut e);
        batch.push(AppendEntry {
            entry: e,
            ref_seq: None,
            side: None,
        });
    }
    commit(store, batch).await;
    seeded
}

async fn commit(store: &DynStore, entries: Vec<AppendEntry>) {
    let n = entries.len();
    let written = store
        .commit(CommitBatch {
            entries,
            reseal: false,
            ..CommitBatch::default()
        })
        .await
        .unwrap();
    assert_eq!(written.len(), n);
}

/// What a dry-run over `[from, to)` must answer, recomputed by brute force.
#[derive(Debug, Default)]
struct Expected {
    transitions: BTreeMap<String, u64>,
    decisions: u64,
    would: [u64; 3],
    skipped: u64,
    args_unavailable: u64,
    args_partial: u64,
    /// event id → (before, after, tenant, seq) of every divergent call.
    divergent: HashMap<String, (&'static str, &'static str, String, u64)>,
}

impl Expected {
    fn of(
        seeded: &[Seeded],
        from: i64,
        to: i64,
        baseline: Option<fn(&Replayed) -> &'static str>,
    ) -> Expected {
        let mut x = Expected::default();
        for b in ["allow", "block", "escalate"] {
            for a in ["allow", "block", "escalate"] {
                x.transitions.insert(format!("{b}->{a}"), 0);
            }
        }
        for s in seeded.iter().filter(|s| s.ts >= from && s.ts < to) {
            let Some(d) = &s.replay else {
                x.skipped += 1;
                continue;
            };
            let before = baseline.map_or_else(|| d.before(), |f| f(d));
            let after = candidate_rules(d);
            *x.transitions
                .get_mut(&format!("{before}->{after}"))
                .unwrap() += 1;
            x.decisions += 1;
            x.would[["allow", "block", "escalate"]
                .iter()
                .position(|v| *v == after)
                .unwrap()] += 1;
            match d.kept {
                Kept::Exact => {}
                Kept::Partial => x.args_partial += 1,
                Kept::Unavailable => x.args_unavailable += 1,
            }
            if before != after {
                x.divergent
                    .insert(s.event_id.clone(), (before, after, s.tenant.clone(), s.seq));
            }
        }
        x
    }

    fn kinds(&self) -> std::collections::BTreeSet<(&'static str, &'static str)> {
        self.divergent
            .values()
            .map(|(b, a, _, _)| (*b, *a))
            .collect()
    }

    /// The report's counts and samples are these (samples: at most `n`, every one divergent
    /// as recomputed, in keyset order, every kind of change shown when `n` allows).
    fn check(&self, r: &DryRunReport, n: usize) {
        assert_eq!(r.transitions, self.transitions, "transition matrix");
        assert_eq!(r.transitions.len(), 9);
        assert_eq!(r.decisions, self.decisions, "decisions replayed");
        assert_eq!(
            [r.would_allow, r.would_block, r.would_escalate],
            self.would,
            "would_allow/block/escalate"
        );
        assert_eq!(r.skipped, self.skipped, "skipped");
        assert_eq!(
            r.args_unavailable, self.args_unavailable,
            "args_unavailable"
        );
        assert_eq!(r.args_partial, self.args_partial, "args_partial");
        assert!(r.samples.len() <= n);
        assert_eq!(r.samples.len(), n.min(self.divergent.len()));
        let mut keys = Vec::new();
        for s in &r.samples {
            let (before, after, tenant, seq) = self
                .divergent
                .get(&s.event_id)
                .unwrap_or_else(|| panic!("sample {s:?} is not a divergent call"));
            assert_eq!((s.before.as_str(), s.after.as_str()), (*before, *after));
            assert_eq!(&s.tenant, tenant);
            assert!(!s.reason.is_empty() && s.tool.is_some() && s.subject.is_some());
            assert!(parse_rfc3339(&s.ts).is_some(), "{}", s.ts);
            keys.push((tenant.clone(), *seq));
        }
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "samples in keyset order"
        );
        if n >= 6 {
            let shown: std::collections::BTreeSet<(String, String)> = r
                .samples
                .iter()
                .map(|s| (s.before.clone(), s.after.clone()))
                .collect();
            let want: std::collections::BTreeSet<(String, String)> = self
                .kinds()
                .into_iter()
                .map(|(b, a)| (b.to_string(), a.to_string()))
                .collect();
            assert_eq!(shown, want, "every kind of change is sampled");
        }
    }
}

fn window_of(r: &DryRunReport) -> (i64, i64) {
    (
        parse_rfc3339(&r.from).unwrap(),
        parse_rfc3339(&r.to).unwrap(),
    )
}

async fn sqlite_store(dir: &tempfile::TempDir) -> DynStore {
    Arc::new(
        SqliteStore::open(&dir.path().join("igd.db"), AuditSync::Normal)
            .await
            .unwrap(),
    )
}

/// The acceptance check: ≥ 100,000 recorded decisions in the default (24 h) window of a 30-hour
/// history, replayed in one call, give exactly the brute-force matrix and counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_over_100k_decisions_matches_a_brute_force_recomputation() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let end = now_us();
    let t = Instant::now();
    let seeded = seed(&store, 140_000, 30 * HOUR, end, 1).await;
    eprintln!("seeded {} decisions in {:.1?}", seeded.len(), t.elapsed());

    let samples = 50;
    let cpu0 = cpu_secs();
    let t = Instant::now();
    let r = dry_run(
        &store,
        policy("candidate", CANDIDATE),
        None,
        &DryRunRequest {
            samples,
            ..DryRunRequest::default()
        },
    )
    .await
    .unwrap();
    let elapsed = t.elapsed();
    eprintln!(
        "dry-run: {} decisions replayed ({} skipped) in {elapsed:.2?} on {} cores ({:.2} s of process CPU)",
        r.decisions,
        r.skipped,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_secs() - cpu0,
    );

    let (from, to) = window_of(&r);
    assert_eq!(
        to - from,
        24 * HOUR,
        "the default window is the last 24 hours"
    );
    assert!(to >= end);
    let older = seeded.iter().filter(|s| s.ts < from).count();
    assert!(older > 20_000, "the history reaches before the window");
    let x = Expected::of(&seeded, from, to, None);
    assert!(x.decisions >= 100_000, "{} decisions", x.decisions);
    x.check(&r, samples);
    assert_eq!(r.total, Some(x.decisions + x.skipped));
    assert_eq!(r.next_cursor, None);
    assert_eq!(r.revision, policy("candidate", CANDIDATE).revision);
    assert_eq!(r.baseline_revision, None);
    // The replay saw each kind of argument persistence and the legacy entries.
    assert!(x.args_partial > 1000 && x.args_unavailable > 1000 && x.skipped > 1000);
    assert!(x.kinds().len() >= 5, "{:?}", x.kinds());
}

/// A smaller history for the other properties.
async fn small_history(store: &DynStore, end: i64) -> Vec<Seeded> {
    seed(store, 3_000, 30 * HOUR, end, 7).await
}

/// Pages through a window with `limit`: their sum is the one-shot answer.
async fn check_pages(store: &DynStore, one_shot: &DryRunReport, from: i64, to: i64, limit: usize) {
    let candidate = policy("candidate", CANDIDATE);
    let mut cursor = None;
    let mut sum = BTreeMap::<String, u64>::new();
    let (mut decisions, mut skipped, mut unavailable, mut partial) = (0, 0, 0, 0);
    let mut would = [0u64; 3];
    let mut samples = Vec::new();
    let mut pages = 0;
    loop {
        let r = dry_run(
            store,
            candidate.clone(),
            None,
            &DryRunRequest {
                from: Some(from),
                to: Some(to),
                samples: MAX_SAMPLES,
                cursor: cursor.clone(),
                limit: Some(limit),
            },
        )
        .await
        .unwrap();
        pages += 1;
        assert_eq!(
            r.total.is_some(),
            pages == 1,
            "total on the first page only"
        );
        assert!(r.decisions + r.skipped <= limit as u64);
        for (k, v) in &r.transitions {
            *sum.entry(k.clone()).or_default() += v;
        }
        decisions += r.decisions;
        skipped += r.skipped;
        unavailable += r.args_unavailable;
        partial += r.args_partial;
        would[0] += r.would_allow;
        would[1] += r.would_block;
        would[2] += r.would_escalate;
        samples.extend(r.samples.iter().map(|s| s.event_id.clone()));
        assert_eq!(window_of(&r), (from, to));
        match r.next_cursor {
            Some(c) => {
                // Every page but the last is full.
                assert_eq!(r.decisions + r.skipped, limit as u64);
                cursor = Some(c);
            }
            None => break,
        }
    }
    let read = one_shot.decisions + one_shot.skipped;
    assert_eq!(pages as u64, read.div_ceil(limit as u64).max(1));
    assert_eq!(sum, one_shot.transitions);
    assert_eq!(
        (decisions, skipped, unavailable, partial),
        (
            one_shot.decisions,
            one_shot.skipped,
            one_shot.args_unavailable,
            one_shot.args_partial
        )
    );
    assert_eq!(
        would,
        [
            one_shot.would_allow,
            one_shot.would_block,
            one_shot.would_escalate
        ]
    );
    // With room for every divergent call, the pages show exactly the one-shot's samples.
    if one_shot.samples.len() < MAX_SAMPLES {
        let one: Vec<String> = one_shot
            .samples
            .iter()
            .map(|s| s.event_id.clone())
            .collect();
        assert_eq!(samples, one);
    }
}

async fn pagination_and_windows(store: &DynStore) {
    let end = now_us();
    let seeded = small_history(store, end).await;
    let candidate = policy("candidate", CANDIDATE);

    // An explicit window in the middle of the history: older and newer decisions stay out,
    // to the microsecond (timestamps near the edges are out of seq order).
    let (from, to) = (end - 20 * HOUR + 123, end - 8 * HOUR);
    let one_shot = dry_run(
        store,
        candidate.clone(),
        None,
        &DryRunRequest {
            from: Some(from),
            to: Some(to),
            samples: MAX_SAMPLES,
            ..DryRunRequest::default()
        },
    )
    .await
    .unwrap();
    let x = Expected::of(&seeded, from, to, None);
    assert!(seeded.iter().any(|s| s.ts < from) && seeded.iter().any(|s| s.ts >= to));
    x.check(&one_shot, MAX_SAMPLES);
    assert_eq!(one_shot.total, Some(x.decisions + x.skipped));
    assert!(
        one_shot.samples.len() < MAX_SAMPLES,
        "every divergent call fits"
    );

    // Pages of 97 and of 600 (boundaries inside and across chains) add up to it.
    check_pages(store, &one_shot, from, to, 97).await;
    check_pages(store, &one_shot, from, to, 600).await;

    // A page that ends exactly at the window's end hands out no cursor.
    let exact = usize::try_from(one_shot.decisions + one_shot.skipped).unwrap();
    let r = dry_run(
        store,
        candidate.clone(),
        None,
        &DryRunRequest {
            from: Some(from),
            to: Some(to),
            limit: Some(exact),
            ..DryRunRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(r.next_cursor, None);
    assert_eq!(r.decisions, one_shot.decisions);

    // A cursor carries its window: the next page needs neither from nor to; it cannot be
    // replayed with another window or another policy, and a forged one is refused.
    let first = dry_run(
        store,
        candidate.clone(),
        None,
        &DryRunRequest {
            from: Some(from),
            to: Some(to),
            limit: Some(100),
            ..DryRunRequest::default()
        },
    )
    .await
    .unwrap();
    let cursor = first.next_cursor.clone().unwrap();
    let second = dry_run(
        store,
        candidate.clone(),
        None,
        &DryRunRequest {
            cursor: Some(cursor.clone()),
            limit: Some(100),
            ..DryRunRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(window_of(&second), (from, to));
    assert_eq!(second.total, None);
    let refused = |r: Result<DryRunReport, DryRunError>| match r {
        Err(
            e @ (DryRunError::BadCursor(_) | DryRunError::BadWindow(_) | DryRunError::BadLimit),
        ) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let with = |req: DryRunRequest, p: Arc<PolicySnapshot>| {
        let store = store.clone();
        async move { dry_run(&store, p, None, &req).await }
    };
    let msg = refused(
        with(
            DryRunRequest {
                cursor: Some(cursor.clone()),
                from: Some(from - 1),
                ..DryRunRequest::default()
            },
            candidate.clone(),
        )
        .await,
    );
    assert!(msg.contains("window"), "{msg}");
    let msg = refused(
        with(
            DryRunRequest {
                cursor: Some(cursor.clone()),
                ..DryRunRequest::default()
            },
            policy("baseline", BASELINE),
        )
        .await,
    );
    assert!(msg.contains("another policy"), "{msg}");
    for forged in ["", "not a cursor", &format!("{cursor}x"), &"A".repeat(5000)] {
        refused(
            with(
                DryRunRequest {
                    cursor: Some(forged.to_string()),
                    ..DryRunRequest::default()
                },
                candidate.clone(),
            )
            .await,
        );
    }
    let msg = refused(
        with(
            DryRunRequest {
                from: Some(to),
                to: Some(from),
                ..DryRunRequest::default()
            },
            candidate.clone(),
        )
        .await,
    );
    assert!(msg.contains("after"), "{msg}");
    refused(
        with(
            DryRunRequest {
                from: Some(end - 40 * 24 * HOUR),
                to: Some(end),
                ..DryRunRequest::default()
            },
            candidate.clone(),
        )
        .await,
    );
    refused(
        with(
            DryRunRequest {
                limit: Some(0),
                ..DryRunRequest::default()
            },
            candidate.clone(),
        )
        .await,
    );

    // An empty window replays nothing.
    let empty = dry_run(
        store,
        candidate.clone(),
        None,
        &DryRunRequest {
            from: Some(end + HOUR),
            to: Some(end + 2 * HOUR),
            ..DryRunRequest::default()
        },
    )
    .await
    .unwrap();
    assert_eq!((empty.decisions, empty.total), (0, Some(0)));
    assert!(empty.samples.is_empty() && empty.next_cursor.is_none());

    // Baseline mode (`igctl policy diff`): "before" is the baseline on the same inputs.
    let baseline = policy("baseline", BASELINE);
    let diff = dry_run(
        store,
        candidate.clone(),
        Some(baseline.clone()),
        &DryRunRequest {
            from: Some(from),
            to: Some(to),
            samples: 30,
            ..DryRunRequest::default()
        },
    )
    .await
    .unwrap();
    let x = Expected::of(&seeded, from, to, Some(baseline_rules));
    x.check(&diff, 30);
    assert_eq!(diff.baseline_revision, Some(baseline.revision.clone()));
    assert_ne!(diff.transitions, one_shot.transitions);
    // A policy against itself changes nothing.
    let same = dry_run(
        store,
        candidate.clone(),
        Some(candidate.clone()),
        &DryRunRequest {
            from: Some(from),
            to: Some(to),
            ..DryRunRequest::default()
        },
    )
    .await
    .unwrap();
    assert!(same.samples.is_empty());
    let diagonal: u64 = ["allow", "block", "escalate"]
        .iter()
        .map(|v| same.transitions[&format!("{v}->{v}")])
        .sum();
    assert_eq!(diagonal, same.decisions);
    assert_eq!(same.decisions, one_shot.decisions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_windows_cursors_and_baselines_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    pagination_and_windows(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_windows_cursors_and_baselines_on_postgres() {
    let db = TestDb::create().await;
    let store: DynStore = Arc::new(
        PostgresStore::connect(&db.url, PgSettings::default())
            .await
            .unwrap(),
    );
    pagination_and_windows(&store).await;
}

/// CPU time this process has used (user + system), from /proc: the elapsed time alone says
/// little on a machine shared with other work.
fn cpu_secs() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = s.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}
