//! igd on PostgreSQL: two replicas on one database (one chain per tenant that both append to and
//! sign, revocations that reach the other replica, exact budgets), a database outage that only
//! ever refuses (−31005) and heals by itself, and tampering with the database, detected.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use intentgate_tests::pg::{CuttableProxy, TestDb};
use intentgate_tests::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const POLICY: &str = "package intentgate.policy\n\ndecision := {\"allow\": input.tool == \"echo\", \"reason\": \"echo only\"}\n";
const MASTER: &str = "4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b";

/// What every replica of one deployment shares: the database URL, the master key, the audit
/// signing key and the policy.
struct Deployment {
    dir: tempfile::TempDir,
    url: String,
}

impl Deployment {
    fn new(url: &str) -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.rego"), POLICY).unwrap();
        write_audit_key(&dir.path().join("audit.pem"));
        Deployment {
            dir,
            url: url.to_string(),
        }
    }

    fn replica(&self, extra: &[(&str, &str)]) -> Igd {
        self.replica_with_args(extra, &[])
    }

    fn replica_with_args(&self, extra: &[(&str, &str)], args: &[&str]) -> Igd {
        let policy = self.dir.path().join("p.rego");
        let key = self.dir.path().join("audit.pem");
        let mut env = vec![
            ("INTENTGATE_POSTGRES_URL", self.url.as_str()),
            ("INTENTGATE_MASTER_KEY", MASTER),
            ("INTENTGATE_AUDIT_SIGNING_KEY", key.to_str().unwrap()),
            ("INTENTGATE_UPSTREAM_URL", "stub"),
            ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
            ("INTENTGATE_AUDIT_PERSIST_ARG_VALUES", "raw"),
        ];
        env.extend_from_slice(extra);
        Igd::start_with_args(&env, args)
    }
}

/// The key igctl pinned on its first verification against `igd`, copied to `dir/audit.pub` (what
/// an auditor keeps).
fn copy_pinned_key(igd: &Igd, dir: &std::path::Path) -> std::path::PathBuf {
    let pubkey = dir.join("audit.pub");
    std::fs::copy(
        igd.data_dir
            .with_file_name("igctl-config")
            .join("intentgate/audit-keys"),
        &pubkey,
    )
    .unwrap();
    pubkey
}

/// Send `calls` echo calls with `token`, from 4 clients spread over `addrs`; returns how many
/// were answered, and the refusal reasons seen.
fn spread_load(addrs: &[std::net::SocketAddr], token: &str, calls: usize) -> (usize, Vec<String>) {
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (next, ok, reasons) = (next.clone(), ok.clone(), reasons.clone());
            let (addrs, token) = (addrs.to_vec(), token.to_string());
            std::thread::spawn(move || loop {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                if n >= calls {
                    return;
                }
                let m = format!("c{n}");
                let (_, v) = echo(addrs[(n + w) % addrs.len()], &token, &m);
                if answered(&v, &m) {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    reasons
                        .lock()
                        .unwrap()
                        .push(v["error"]["message"].to_string());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let reasons = reasons.lock().unwrap().clone();
    (ok.load(Ordering::Relaxed) as usize, reasons)
}

/// A tools/call of echo with message `m`: the HTTP status and the JSON-RPC answer (status 0
/// and null when the connection failed).
fn echo(addr: std::net::SocketAddr, token: &str, m: &str) -> (u16, Value) {
    match call_tool(addr, token, "echo", json!({"message": m})) {
        Ok(r) => {
            let status = r.status;
            (
                status,
                serde_json::from_slice(&r.body).unwrap_or(Value::Null),
            )
        }
        Err(_) => (0, Value::Null),
    }
}

/// Whether upstream (the stub, echoing the arguments) answered the call carrying `m`.
fn answered(v: &Value, m: &str) -> bool {
    v["result"]["isError"] == false
        && v["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains(&format!("\"message\":\"{m}\"")))
}

fn verify_on(igd: &Igd) {
    let out = igd.igctl_auto(&["audit", "verify", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each tenant's chain, as stored (one snapshot): gapless from 1, its head where audit_heads
/// says. Returns its length.
fn assert_gapless(db: &TestDb, tenant: &str) -> u64 {
    let stats = db.query(&format!(
        "SELECT count(*)::text || ' ' || coalesce(min(seq), 0)::text || ' ' || coalesce(max(seq), 0)::text \
         || ' ' || (SELECT seq FROM audit_heads WHERE tenant = '{tenant}')::text \
         FROM audit_log WHERE tenant = '{tenant}'"
    ));
    let parts: Vec<u64> = stats[0].split(' ').map(|p| p.parse().unwrap()).collect();
    assert_eq!(parts[1], 1, "{tenant}: chain starts at {}", parts[1]);
    assert_eq!(
        parts[0], parts[2],
        "{tenant}: {} entries up to seq {}",
        parts[0], parts[2]
    );
    assert_eq!(
        parts[3], parts[2],
        "{tenant}: head {} but entries up to {}",
        parts[3], parts[2]
    );
    parts[0]
}

/// Messages of a tenant's allow decisions, as stored.
fn allowed_messages(db: &TestDb, tenant: &str) -> std::collections::BTreeSet<String> {
    db.query(&format!(
        "SELECT args::json ->> 'message' FROM audit_log WHERE tenant = '{tenant}' AND kind = 'decision' AND decision = 'allow'"
    ))
    .into_iter()
    .collect()
}

/// Messages of a tenant's allow decisions that have their outcome entry.
fn outcome_messages(db: &TestDb, tenant: &str) -> std::collections::BTreeSet<String> {
    db.query(&format!(
        "SELECT d.args::json ->> 'message' FROM audit_log d JOIN audit_log o \
         ON o.tenant = d.tenant AND o.ref_seq = d.seq AND o.kind = 'outcome' \
         WHERE d.tenant = '{tenant}' AND d.kind = 'decision' AND d.decision = 'allow'"
    ))
    .into_iter()
    .collect()
}

/// Every answered call of `tenant` has its outcome entry (outcomes commit in the background:
/// wait for them a while).
fn assert_outcomes(db: &TestDb, tenant: &str, answered: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let have = outcome_messages(db, tenant);
        let missing: Vec<_> = answered.iter().filter(|m| !have.contains(*m)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} answered calls have no outcome entry: {:?}",
            missing.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_replicas_append_one_chain_per_tenant() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let a = dep.replica(&[]);
    let b = dep.replica(&[]);
    let tokens: Vec<(String, String)> = ["acme", "globex"]
        .iter()
        .map(|t| (t.to_string(), a.mint(t, "agent", "echo", 1_000_000).0))
        .collect();
    let ok = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (addrs, tokens, ok) = ([a.addr, b.addr], tokens.clone(), ok.clone());
            std::thread::spawn(move || {
                for i in 0..60 {
                    let (tenant, token) = &tokens[(w + i) % 2];
                    let m = format!("w{w}-{i}");
                    let (_, v) = echo(addrs[i % 2], token, &m);
                    if answered(&v, &m) {
                        ok.lock().unwrap().push((tenant.clone(), m));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let ok = ok.lock().unwrap().clone();
    assert_eq!(ok.len(), 240, "every call answered");
    for tenant in ["acme", "globex"] {
        assert_gapless(&db, tenant);
        let stored = allowed_messages(&db, tenant);
        let mine: Vec<String> = ok
            .iter()
            .filter(|(t, _)| t == tenant)
            .map(|(_, m)| m.clone())
            .collect();
        for m in &mine {
            assert!(stored.contains(m), "{m} answered without a decision entry");
        }
        assert_outcomes(&db, tenant, &mine);
    }
    // Both replicas' entries are in each chain, and either replica verifies the whole of it.
    let instances = db.query("SELECT DISTINCT body::json ->> 'instance' FROM audit_log WHERE tenant = 'acme' AND kind = 'decision'");
    assert_eq!(instances.len(), 2, "{instances:?}");
    verify_on(&a);
    verify_on(&b);
}

#[test]
fn a_revocation_on_one_replica_is_enforced_by_the_other() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let a = dep.replica(&[]);
    let b = dep.replica(&[]);
    let (token, jti) = a.mint("acme", "agent", "echo", 1000);
    assert!(answered(&echo(b.addr, &token, "before").1, "before"));
    let out = a.igctl_auto(&["revoke", &jti, "--reason", "leaked"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let revoked_at = Instant::now();
    let deadline = revoked_at + Duration::from_secs(10);
    loop {
        let (status, v) = echo(b.addr, &token, "after");
        // Refused at authentication (401), or, when b learned of the revocation between its
        // authentication and its decision, by the pipeline's own liveness check (−31001).
        let refused_in_pipeline = v["error"]["code"] == -31001
            && v["error"]["data"]["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("token revoked"));
        if status == 401 || refused_in_pipeline {
            break;
        }
        assert!(
            answered(&v, "after"),
            "neither answered nor refused: {status} {v}"
        );
        assert!(
            Instant::now() < deadline,
            "replica b still accepts the token after 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!(
        "revocation on replica a enforced on replica b after {} ms",
        revoked_at.elapsed().as_millis()
    );
}

#[test]
fn a_database_outage_only_refuses_and_heals_without_a_restart() {
    let db = TestDb::create_blocking();
    let proxy = CuttableProxy::start(&intentgate_tests::pg::server_addr());
    outage_under_load(
        &proxy.url_for(&db.url),
        &db,
        || proxy.cut(),
        || proxy.restore(),
    );
}

/// The server itself stopped (fast shutdown: every connection ends) and started again under
/// load: a private cluster, so no other test sees it.
#[test]
fn a_postgres_restart_under_load_only_refuses_and_heals() {
    let cluster = intentgate_tests::pg::PrivateCluster::start();
    let db = TestDb::create_on_blocking(&cluster.url());
    outage_under_load(&db.url, &db, || cluster.stop(), || cluster.start_again());
}

/// Load on one replica at `url`; `cut` takes the database away, `restore` brings it back: only
/// −31005 refusals meanwhile, /healthz 503 then 200, recovery without a restart, nothing lost
/// or written twice.
fn outage_under_load(url: &str, db: &TestDb, cut: impl Fn(), restore: impl Fn()) {
    let dep = Deployment::new(url);
    let igd = dep.replica(&[("INTENTGATE_POSTGRES_STATEMENT_TIMEOUT_MS", "1000")]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1_000_000);
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(Mutex::new(Vec::<String>::new()));
    let other = Arc::new(Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (stop, next, ok, other, refused, token, addr) = (
                stop.clone(),
                next.clone(),
                ok.clone(),
                other.clone(),
                refused.clone(),
                token.clone(),
                igd.addr,
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let m = format!("m{}", next.fetch_add(1, Ordering::Relaxed));
                    let (status, v) = echo(addr, &token, &m);
                    if answered(&v, &m) {
                        ok.lock().unwrap().push(m);
                    } else if v["error"]["code"] == -31005 {
                        refused.fetch_add(1, Ordering::Relaxed);
                    } else {
                        other.lock().unwrap().push(format!("{status} {v}"));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let before = ok.lock().unwrap().len();
    cut();
    // During the outage: refusals, and /healthz says so.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let h = http(igd.addr, "GET", "/healthz", &[], b"").unwrap();
        if h.status == 503 {
            break;
        }
        assert!(Instant::now() < deadline, "/healthz never turned 503");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    let during = ok.lock().unwrap().len();
    restore();
    let restored = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = http(igd.addr, "GET", "/healthz", &[], b"").unwrap();
        if h.status == 200 && ok.lock().unwrap().len() > during + 20 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "igd did not recover within 30 s (healthz {}, {} answered, others {:?}):\n{}",
            h.status,
            ok.lock().unwrap().len(),
            other.lock().unwrap().iter().take(3).collect::<Vec<_>>(),
            igd.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let other = other.lock().unwrap().clone();
    assert!(
        other.is_empty(),
        "answers other than success or -31005: {other:?}"
    );
    assert!(
        refused.load(Ordering::Relaxed) > 0,
        "the outage refused nothing"
    );
    assert!(before > 10, "too little load before the outage: {before}");
    let ok = ok.lock().unwrap().clone();
    assert_gapless(db, "acme");
    let stored = allowed_messages(db, "acme");
    let missing: Vec<_> = ok.iter().filter(|m| !stored.contains(*m)).collect();
    assert!(
        missing.is_empty(),
        "answered without a decision entry: {missing:?}"
    );
    // Outcomes whose commit the outage failed were retained and written once it healed.
    assert_outcomes(db, "acme", &ok);
    assert_gapless(db, "acme");
    verify_on(&igd);
    eprintln!(
        "recovered {} ms after the database came back",
        restored.elapsed().as_millis()
    );
    eprintln!(
        "outage: {} answered ({} before, {} during the cut), {} refused with -31005",
        ok.len(),
        before,
        during.saturating_sub(before),
        refused.load(Ordering::Relaxed)
    );
}

#[test]
fn max_calls_is_exact_across_replicas() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let a = dep.replica(&[]);
    let b = dep.replica(&[]);
    let (token, _) = a.mint("acme", "agent", "echo", 100);
    let (ok, refused) = spread_load(&[a.addr, b.addr], &token, 160);
    assert_eq!(
        ok,
        100,
        "answered across both replicas; refusals: {:?}",
        &refused[..3.min(refused.len())]
    );
    assert_eq!(refused.len(), 60);
    assert!(
        refused.iter().all(|r| r.contains("max_calls")),
        "{refused:?}"
    );
    // The charges both replicas committed add up to exactly the limit.
    let used =
        db.query("SELECT sum(used) FROM budget_usage WHERE tenant = 'acme' AND root_jti = jti");
    assert_eq!(used, vec!["100".to_string()]);
}

#[test]
fn a_ceiling_is_exact_across_replicas() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let config = dep.dir.path().join("igd.toml");
    std::fs::write(
        &config,
        "[[budget]]\ntenant = \"acme\"\nsubject = \"*\"\ncalls_per_hour = 100\n",
    )
    .unwrap();
    let args = ["--config", config.to_str().unwrap()];
    let a = dep.replica_with_args(&[], &args);
    let b = dep.replica_with_args(&[], &args);
    let (token, _) = a.mint("acme", "agent", "echo", 1_000_000);
    let (ok, refused) = spread_load(&[a.addr, b.addr], &token, 101);
    assert_eq!(ok, 100, "refusals: {refused:?}");
    assert_eq!(refused.len(), 1);
    assert!(refused[0].contains("calls_per_hour"), "{refused:?}");
    // Another agent of the tenant has a ceiling of its own.
    let (other, _) = b.mint("acme", "other-agent", "echo", 10);
    assert!(answered(&echo(a.addr, &other, "x").1, "x"));
}

/// The highest checkpoint stored for a tenant, and its chain's head.
fn signed_and_head(db: &TestDb, tenant: &str) -> (u64, u64) {
    let row = db.query(&format!(
        "SELECT coalesce((SELECT max(size) FROM checkpoints WHERE tenant = '{tenant}'), 0)::text \
         || ' ' || coalesce((SELECT seq FROM audit_heads WHERE tenant = '{tenant}'), 0)::text"
    ));
    let v: Vec<u64> = row[0].split(' ').map(|p| p.parse().unwrap()).collect();
    (v[0], v[1])
}

/// Wait until the tenant's head is covered by a checkpoint.
fn wait_signed(db: &TestDb, tenant: &str, replicas: &[&Igd]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (signed, head) = signed_and_head(db, tenant);
        if head > 0 && signed == head {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{tenant}: signed up to {signed}, head {head}; logs:\n{}",
            replicas
                .iter()
                .map(|r| r.logs())
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn replicas_sign_each_others_entries_and_go_on_after_a_prune() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let mut a = dep.replica(&[]);
    let b = dep.replica(&[]);
    let (token, _) = a.mint("acme", "agent", "echo", 1_000_000);
    let (ok, _) = spread_load(&[a.addr, b.addr], &token, 40);
    assert_eq!(ok, 40);
    // Replica b alone signs for a while (its own state then holds the heads it signed).
    a.kill();
    let (ok, _) = spread_load(&[b.addr], &token, 10);
    assert_eq!(ok, 10);
    wait_signed(&db, "acme", &[&b]);
    // Replica a comes back, prunes (a marker only a wrote) and dies before signing it.
    a.kill_and_restart();
    std::thread::sleep(Duration::from_millis(20));
    let before = time_now_rfc3339();
    let out = a.igctl_auto(&[
        "audit",
        "prune",
        "--tenant",
        "acme",
        "--before",
        &before,
        "--reason",
        "retention",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    a.kill();
    // Replica b anchors a's marker (shared, signed with the deployment key) and goes on.
    let (ok, _) = spread_load(&[b.addr], &token, 10);
    assert_eq!(ok, 10);
    wait_signed(&db, "acme", &[&b]);
    wait_signed(&db, "_system", &[&b]);
    assert!(
        !b.logs().contains("refusing to sign"),
        "replica b refused to sign:\n{}",
        b.logs()
    );
    a.kill_and_restart();
    let (ok, _) = spread_load(&[a.addr, b.addr], &token, 10);
    assert_eq!(ok, 10);
    wait_signed(&db, "acme", &[&a, &b]);
    verify_on(&a);
    verify_on(&b);
}

fn time_now_rfc3339() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%S.%NZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `igctl audit verify --tenant acme -o json`: exit code and the tenant's report.
fn verify_acme(igd: &Igd) -> (Option<i32>, Value) {
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme", "-o", "json"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(text.lines().next().unwrap_or("null")).unwrap();
    (out.status.code(), v["tenants"][0].clone())
}

/// SQL appending `e` to its chain as someone with write access to the database would.
fn append_sql(e: &intentgate_proto::audit::Entry) -> String {
    let body = serde_json::to_string(e).unwrap().replace('\'', "''");
    format!(
        "INSERT INTO audit_log (tenant, seq, event_id, ts, body) VALUES ('{}', {}, '{}', {}, '{body}'); \
         UPDATE audit_heads SET seq = {}, hash = '{}' WHERE tenant = '{}';",
        e.tenant, e.seq, e.event_id, e.ts, e.seq, e.hash, e.tenant
    )
}

#[test]
fn tampering_with_the_database_is_detected() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    let (ok, _) = spread_load(&[igd.addr], &token, 8);
    assert_eq!(ok, 8);
    wait_signed(&db, "acme", &[&igd]);
    assert_eq!(verify_acme(&igd).0, Some(0));

    // A forged marker excusing a cut, with a forged "own entry" record beside it (no valid
    // signature): the signer refuses to anchor it, pass after pass.
    let head: u64 = db.query("SELECT seq FROM audit_heads WHERE tenant = 'acme'")[0]
        .parse()
        .unwrap();
    let last: intentgate_proto::audit::Entry = serde_json::from_str(
        &db.query(&format!(
            "SELECT body FROM audit_log WHERE tenant = 'acme' AND seq = {head}"
        ))[0],
    )
    .unwrap();
    let marker = forged_marker(&last, 2);
    db.execute(&format!(
        "BEGIN; {} INSERT INTO meta (key, value) VALUES ('signer-own' || chr(31) || 'acme' || chr(31) || '{}', '{} {}'); COMMIT;",
        append_sql(&marker),
        marker.event_id,
        "ab".repeat(32),
        "cd".repeat(64)
    ));
    let (ok, _) = spread_load(&[igd.addr], &token, 2);
    assert_eq!(ok, 2);
    let deadline = Instant::now() + Duration::from_secs(15);
    while igd
        .logs()
        .matches("a trust-bearing entry this igd did not write")
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "no refusal:\n{}", igd.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
    let covered = db.query(&format!(
        "SELECT count(*) FROM checkpoints WHERE tenant = 'acme' AND size >= {}",
        marker.seq
    ));
    assert_eq!(
        covered,
        vec!["0".to_string()],
        "the forged marker was anchored"
    );

    // An edited entry: its body changed in place.
    db.execute(
        "UPDATE audit_log SET body = replace(body, '\"reason\":\"echo only\"', '\"reason\":\"nothing to see\"') \
         WHERE tenant = 'acme' AND seq = 3",
    );
    let (code, r) = verify_acme(&igd);
    assert_eq!(code, Some(3), "{r}");
    assert_eq!(r["broken_at"]["seq"], 3, "{r}");
}

#[test]
fn a_truncated_chain_is_detected_and_not_re_anchored() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    let (ok, _) = spread_load(&[igd.addr], &token, 10);
    assert_eq!(ok, 10);
    wait_signed(&db, "acme", &[&igd]);
    let (signed, _) = signed_and_head(&db, "acme");
    // Drop the newest entries, heads included (as a restored backup would).
    let keep = signed - 3;
    let hash = db.query(&format!(
        "SELECT body::json ->> 'hash' FROM audit_log WHERE tenant = 'acme' AND seq = {keep}"
    ));
    db.execute(&format!(
        "DELETE FROM audit_log WHERE tenant = 'acme' AND seq > {keep}; \
         UPDATE audit_heads SET seq = {keep}, hash = '{}' WHERE tenant = 'acme';",
        hash[0]
    ));
    let (code, r) = verify_acme(&igd);
    assert_eq!(code, Some(3), "{r}");
    assert!(
        r["broken_at"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("truncated or rolled back"),
        "{r}"
    );
    // New calls go on the truncated chain; the signer refuses to anchor the regressed chain.
    let _ = spread_load(&[igd.addr], &token, 1);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !igd.logs().contains("refusing to sign") {
        assert!(Instant::now() < deadline, "no refusal:\n{}", igd.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `igctl audit verify --server [--tenant T] -o json`: exit code and stdout.
fn server_verify(igd: &Igd, tenant: Option<&str>) -> (Option<i32>, String) {
    let mut args = vec!["audit", "verify", "--server", "-o", "json"];
    if let Some(t) = tenant {
        args.extend(["--tenant", t]);
    }
    let out = igd.igctl_auto(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A truncation that also deletes the newer checkpoint rows (and rewinds the heads) is still
/// caught: igd anchors on the head its signer last signed, kept outside the database.
#[test]
fn a_truncation_that_deleted_the_newer_checkpoints_is_caught() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    assert_eq!(spread_load(&[igd.addr], &token, 6).0, 6);
    wait_signed(&db, "acme", &[&igd]);
    let hash =
        db.query("SELECT body::json ->> 'hash' FROM audit_log WHERE tenant = 'acme' AND seq = 3");
    db.execute(&format!(
        "DELETE FROM audit_log WHERE tenant = 'acme' AND seq > 3; \
         DELETE FROM checkpoints WHERE tenant = 'acme' AND size > 3; \
         UPDATE audit_heads SET seq = 3, hash = '{}' WHERE tenant = 'acme';",
        hash[0]
    ));
    let (code, text) = server_verify(&igd, Some("acme"));
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("truncated or rolled back"), "{text}");
}

/// A chain deleted whole (rows, head, checkpoints, tokens) is reported, not skipped.
#[test]
fn a_chain_deleted_whole_is_reported() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    let (beta, _) = igd.mint("beta", "agent", "echo", 1000);
    assert_eq!(spread_load(&[igd.addr], &token, 2).0, 2);
    assert_eq!(spread_load(&[igd.addr], &beta, 2).0, 2);
    wait_signed(&db, "beta", &[&igd]);
    db.execute(
        "DELETE FROM audit_log WHERE tenant = 'beta'; DELETE FROM audit_heads WHERE tenant = 'beta'; \
         DELETE FROM checkpoints WHERE tenant = 'beta'; DELETE FROM tokens WHERE tenant = 'beta';",
    );
    let (code, text) = server_verify(&igd, None);
    assert_ne!(code, Some(0), "{text}");
    let v: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let beta = v["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "beta")
        .unwrap_or_else(|| panic!("beta not reported: {v}"));
    assert_eq!(beta["ok"], false, "{beta}");
}

/// An old entry rewritten and every hash after it recomputed with the public hash function:
/// internally consistent, but not what was signed.
#[test]
fn a_recomputed_chain_is_caught() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    assert_eq!(spread_load(&[igd.addr], &token, 4).0, 4);
    wait_signed(&db, "acme", &[&igd]);
    rewrite_acme(&db, "");
    let (code, r) = verify_acme(&igd);
    assert_eq!(code, Some(3), "{r}");
    assert!(
        r["broken_at"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("recomputed or rewritten"),
        "{r}"
    );
}

/// Rewrite acme's second entry and recompute every hash after it (heads included), then run
/// `extra` SQL in the same transaction; returns the new head's hash.
fn rewrite_acme(db: &TestDb, extra: &str) -> String {
    let mut entries: Vec<intentgate_proto::audit::Entry> = db
        .query("SELECT body FROM audit_log WHERE tenant = 'acme' ORDER BY seq")
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    entries[1].reason = Some("rewritten history".into());
    let mut sql = String::from("BEGIN;");
    for i in 1..entries.len() {
        let (prev_seq, prev_hash) = (entries[i - 1].seq, entries[i - 1].hash.clone());
        entries[i].seal(prev_seq, &prev_hash);
        let body = serde_json::to_string(&entries[i])
            .unwrap()
            .replace('\'', "''");
        sql.push_str(&format!(
            "UPDATE audit_log SET body = '{body}' WHERE tenant = 'acme' AND seq = {};",
            entries[i].seq
        ));
    }
    let head = entries.last().unwrap().hash.clone();
    sql.push_str(&format!(
        "UPDATE audit_heads SET hash = '{head}' WHERE tenant = 'acme'; {extra} COMMIT;"
    ));
    db.execute(&sql);
    head
}

/// Without its state file the signer continues from the newest checkpoint in the database, so
/// a chain rewritten meanwhile is refused, not anchored.
#[test]
fn a_lost_signer_state_does_not_anchor_a_rewritten_chain() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let mut igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    assert_eq!(spread_load(&[igd.addr], &token, 3).0, 3);
    wait_signed(&db, "acme", &[&igd]);
    igd.kill();
    let head = rewrite_acme(&db, "");
    std::fs::remove_file(igd.data_dir.join("audit-signing.state")).unwrap();
    igd.kill_and_restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !igd.logs().contains("refusing to sign") {
        assert!(Instant::now() < deadline, "no refusal:\n{}", igd.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
    let signed = db.query(&format!(
        "SELECT count(*) FROM checkpoints WHERE tenant = 'acme' AND hash = '{head}'"
    ));
    assert_eq!(
        signed,
        vec!["0".to_string()],
        "the rewritten head was signed"
    );
}

/// Without its state file and without any checkpoint left, the signer waits for an operator's
/// rebaseline; after it, the chain is anchored and verifies.
#[test]
fn a_lost_state_and_deleted_checkpoints_wait_for_a_rebaseline() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let mut igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    assert_eq!(spread_load(&[igd.addr], &token, 2).0, 2);
    wait_signed(&db, "acme", &[&igd]);
    igd.kill();
    rewrite_acme(&db, "DELETE FROM checkpoints WHERE tenant = 'acme';");
    std::fs::remove_file(igd.data_dir.join("audit-signing.state")).unwrap();
    igd.kill_and_restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !igd.logs().contains("the chain predates this signer state") {
        assert!(Instant::now() < deadline, "no refusal:\n{}", igd.logs());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(signed_and_head(&db, "acme").0, 0);
    let out = igd.igctl_auto(&[
        "audit",
        "rebaseline",
        "--tenant",
        "acme",
        "--reason",
        "checked after a disk loss",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(signed_and_head(&db, "acme").0 > 0);
    let (code, text) = server_verify(&igd, Some("acme"));
    assert_eq!(code, Some(0), "{text}");
}

/// The reported attack, in the database: drop a chain's tail and append one hand-made marker
/// excusing it. Every verifier refuses it: igd's own, the auditor's with a pin, without one, and
/// with the public key given. (An evidence pack exported from PostgreSQL verifies before.)
#[test]
fn a_dropped_tail_behind_a_forged_marker_fails_every_verifier() {
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    assert_eq!(spread_load(&[igd.addr], &token, 5).0, 5);
    wait_signed(&db, "acme", &[&igd]);
    let pin = dep.dir.path().join("pins.json");
    let pin_arg = pin.to_str().unwrap();
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme", "--pin", pin_arg]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let pubkey = copy_pinned_key(&igd, dep.dir.path());
    let pack = dep.dir.path().join("pack.tar.gz");
    let out = igd.igctl_auto(&[
        "audit",
        "evidence",
        "--tenant",
        "acme",
        "--out",
        pack.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = igctl(
        &[
            "audit".into(),
            "verify-pack".into(),
            pack.display().to_string(),
            "--pubkey".into(),
            pubkey.display().to_string(),
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let head: u64 = db.query("SELECT seq FROM audit_heads WHERE tenant = 'acme'")[0]
        .parse()
        .unwrap();
    let keep = head - 3;
    let last: intentgate_proto::audit::Entry = serde_json::from_str(
        &db.query(&format!(
            "SELECT body FROM audit_log WHERE tenant = 'acme' AND seq = {keep}"
        ))[0],
    )
    .unwrap();
    let marker = forged_marker(&last, 1_000_000);
    db.execute(&format!(
        "BEGIN; DELETE FROM audit_log WHERE tenant = 'acme' AND seq > {keep}; {} COMMIT;",
        append_sql(&marker)
    ));
    for args in [
        vec!["audit", "verify", "--tenant", "acme", "--pin", pin_arg],
        vec!["audit", "verify", "--tenant", "acme"],
        vec![
            "audit",
            "verify",
            "--tenant",
            "acme",
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
        vec!["audit", "verify", "--server", "--tenant", "acme"],
    ] {
        let out = igd.igctl_auto(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(3), "{args:?}: {text}");
        assert!(text.contains("forged"), "{args:?}: {text}");
    }
}

/// igd's own verification trusts only its key and keys the rotation path vouches for: a key
/// announcement rewritten in `_system` (its tail resealed around it), with a rewritten acme
/// signed by that key and the signer state gone, does not make acme verify.
#[test]
fn a_hand_written_key_announcement_is_not_trusted() {
    use intentgate_proto::audit::Entry;
    use intentgate_proto::checkpoint::{generate_signing_key_pem, signing_key_from_pem};
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let mut igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    assert_eq!(spread_load(&[igd.addr], &token, 3).0, 3);
    wait_signed(&db, "acme", &[&igd]);
    wait_signed(&db, "_system", &[&igd]);
    assert_eq!(server_verify(&igd, Some("acme")).0, Some(0));
    igd.kill();

    // A key of the forger's, under the deployment's log name.
    let note = db.query("SELECT note FROM checkpoints WHERE tenant = 'acme' LIMIT 1");
    let name = note[0]
        .lines()
        .next()
        .unwrap()
        .strip_suffix("/acme")
        .unwrap()
        .to_string();
    let (pem, _) = generate_signing_key_pem();
    let forger = signing_key_from_pem(&pem).unwrap();
    let forger_key = intentgate_proto::checkpoint::VerifierKey::new(&name, forger.verifying_key());
    let head_hash = rewrite_acme(&db, "");
    let head: u64 = db.query("SELECT seq FROM audit_heads WHERE tenant = 'acme'")[0]
        .parse()
        .unwrap();
    let mut system: Vec<Entry> = db
        .query("SELECT body FROM audit_log WHERE tenant = '_system' ORDER BY seq")
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    let at = system
        .iter()
        .position(|e| e.kind == "checkpoint-key")
        .expect("a key announcement in _system");
    system[at].target = Some(forger_key.encode());
    let mut sql = String::from("BEGIN;");
    for i in at..system.len() {
        let (seq, hash) = match i {
            0 => (0, intentgate_proto::audit::GENESIS_HASH.to_string()),
            _ => (system[i - 1].seq, system[i - 1].hash.clone()),
        };
        system[i].seal(seq, &hash);
        let body = serde_json::to_string(&system[i])
            .unwrap()
            .replace('\'', "''");
        sql.push_str(&format!(
            "UPDATE audit_log SET body = '{body}' WHERE tenant = '_system' AND seq = {};",
            system[i].seq
        ));
    }
    let cp = intentgate_proto::checkpoint::Checkpoint {
        origin: format!("{name}/acme"),
        size: head,
        hash: head_hash.clone(),
    };
    let forged_note = cp.sign(&name, &forger).unwrap().replace('\'', "''");
    sql.push_str(&format!(
        "UPDATE audit_heads SET hash = '{}' WHERE tenant = '_system'; \
         DELETE FROM checkpoints WHERE tenant = 'acme'; \
         INSERT INTO checkpoints (tenant, size, hash, note, created_at) VALUES ('acme', {head}, '{head_hash}', '{forged_note}', 9000000000000000); COMMIT;",
        system.last().unwrap().hash
    ));
    db.execute(&sql);
    // The signer state (the head igd last signed) goes too, so only the keys decide.
    std::fs::remove_file(igd.data_dir.join("audit-signing.state")).unwrap();
    igd.kill_and_restart();
    let (code, text) = server_verify(&igd, Some("acme"));
    assert_ne!(
        code,
        Some(0),
        "a hand-written key vouched for a rewritten chain: {text}"
    );
    let v: Value = serde_json::from_str(text.lines().next().unwrap_or("null")).unwrap();
    assert_eq!(v["tenants"][0]["ok"], false, "{v}");
    assert!(
        v["tenants"][0]["broken_at"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("trusted key"),
        "{v}"
    );
}

/// Someone who can write the database but holds no trusted key announces their own key in
/// `_system` behind a marker claiming a huge cut, rewrites acme and signs it with that key: the
/// auditor's verification (with the deployment's public key) trusts none of it.
#[test]
fn a_key_announced_behind_a_forged_marker_is_not_trusted() {
    use intentgate_proto::audit::Entry;
    use intentgate_proto::checkpoint::{generate_signing_key_pem, signing_key_from_pem};
    let db = TestDb::create_blocking();
    let dep = Deployment::new(&db.url);
    let mut igd = dep.replica(&[]);
    let (token, _) = igd.mint("acme", "agent", "echo", 1000);
    assert_eq!(spread_load(&[igd.addr], &token, 2).0, 2);
    for _ in 0..3 {
        let out = igd.igctl_auto(&["gen-key", "--audit", "--announce"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    wait_signed(&db, "_system", &[&igd]);
    wait_signed(&db, "acme", &[&igd]);
    // A first verification pins the deployment's key (what an auditor keeps).
    let out = igd.igctl_auto(&["audit", "verify", "--tenant", "acme"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let pubkey = copy_pinned_key(&igd, dep.dir.path());
    let pubkey_arg = pubkey.to_str().unwrap().to_string();
    let verify = |igd: &Igd| {
        igd.igctl_auto(&[
            "audit",
            "verify",
            "--tenant",
            "acme",
            "--pubkey",
            &pubkey_arg,
        ])
        .status
        .code()
    };
    assert_eq!(verify(&igd), Some(0));
    igd.kill();

    let note = db.query("SELECT note FROM checkpoints WHERE tenant = 'acme' LIMIT 1");
    let name = note[0]
        .lines()
        .next()
        .unwrap()
        .strip_suffix("/acme")
        .unwrap()
        .to_string();
    let (pem, _) = generate_signing_key_pem();
    let forger = signing_key_from_pem(&pem).unwrap();
    let forger_key = intentgate_proto::checkpoint::VerifierKey::new(&name, forger.verifying_key());
    let system: Vec<Entry> = db
        .query("SELECT body FROM audit_log WHERE tenant = '_system' ORDER BY seq")
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert!(system.len() >= 4, "{}", system.len());
    let mut announce = system[1].clone();
    announce.target = Some(forger_key.encode());
    announce.seal(system[0].seq, &system[0].hash);
    let marker = forged_marker(&announce, 1_000_000);
    db.execute(&format!(
        "BEGIN; DELETE FROM audit_log WHERE tenant = '_system' AND seq >= 2; {} {} COMMIT;",
        append_sql(&announce),
        append_sql(&marker)
    ));
    let head_hash = rewrite_acme(&db, "");
    let head: u64 = db.query("SELECT seq FROM audit_heads WHERE tenant = 'acme'")[0]
        .parse()
        .unwrap();
    let cp = intentgate_proto::checkpoint::Checkpoint {
        origin: format!("{name}/acme"),
        size: head,
        hash: head_hash.clone(),
    };
    let forged_note = cp.sign(&name, &forger).unwrap().replace('\'', "''");
    db.execute(&format!(
        "DELETE FROM checkpoints WHERE tenant = 'acme'; \
         INSERT INTO checkpoints (tenant, size, hash, note, created_at) VALUES ('acme', {head}, '{head_hash}', '{forged_note}', 9000000000000000);"
    ));
    igd.kill_and_restart();
    // The forged key is not trusted, so nothing vouches for the rewritten chain (exit 6).
    assert_eq!(verify(&igd), Some(6));
}

/// With PostgreSQL every replica must use the same keys: a missing master key or audit signing
/// key exits 64 naming it, at start and in `igd check-config`; a bad pool setting too.
#[test]
fn postgres_requires_the_shared_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit.pem");
    write_audit_key(&key);
    let url = "postgres://postgres@127.0.0.1:5432/never_used";
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(igd_bin());
        cmd.args(args)
            .env_clear()
            .env("INTENTGATE_DATA_DIR", dir.path())
            .env("INTENTGATE_POSTGRES_URL", url);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    for args in [&["check-config"][..], &[][..]] {
        let (code, text) = run(
            args,
            &[("INTENTGATE_AUDIT_SIGNING_KEY", key.to_str().unwrap())],
        );
        assert_eq!(code, Some(64), "{args:?}: {text}");
        assert!(text.contains("INTENTGATE_MASTER_KEY"), "{args:?}: {text}");
        let (code, text) = run(args, &[("INTENTGATE_MASTER_KEY", MASTER)]);
        assert_eq!(code, Some(64), "{args:?}: {text}");
        assert!(
            text.contains("INTENTGATE_AUDIT_SIGNING_KEY"),
            "{args:?}: {text}"
        );
    }
    let (code, text) = run(
        &["check-config"],
        &[
            ("INTENTGATE_MASTER_KEY", MASTER),
            ("INTENTGATE_AUDIT_SIGNING_KEY", key.to_str().unwrap()),
            ("INTENTGATE_POSTGRES_POOL_SIZE", "0"),
        ],
    );
    assert_eq!(code, Some(64), "{text}");
    assert!(text.contains("INTENTGATE_POSTGRES_POOL_SIZE"), "{text}");
}
