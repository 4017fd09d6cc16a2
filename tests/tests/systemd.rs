//! igd as a systemd service (DESIGN §9): the shipped unit passes `systemd-analyze verify`, the
//! sysusers file creates the account, `Type=notify` readiness is sent only when igd answers as
//! ready (on a path and on an abstract socket), SIGHUP reloads the policy file, and a SIGTERM
//! under load drains: every answered call has its decision and outcome entries afterwards.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ECHO_ONLY: &str = "package intentgate.policy\n\ndecision := {\"allow\": input.tool == \"echo\", \"reason\": \"echo only\"}\n";
const DENY_ALL: &str =
    "package intentgate.policy\n\ndecision := {\"allow\": false, \"reason\": \"closed for the night\"}\n";

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The system calls of a `systemd-analyze syscall-filter` group, nested groups expanded.
fn syscall_group(group: &str) -> BTreeSet<String> {
    let out = Command::new("systemd-analyze")
        .args(["syscall-filter", group])
        .output()
        .expect("systemd-analyze (Debian package systemd) must be installed");
    assert!(out.status.success(), "{}", text(&out));
    let mut calls = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
        let item = line.trim();
        if item.is_empty() || item.starts_with('#') {
            continue;
        }
        if item.starts_with('@') {
            calls.extend(syscall_group(item));
        } else {
            calls.insert(item.to_string());
        }
    }
    calls
}

/// Whether the unit's `SystemCallFilter=` lines, applied in order as systemd does (a first allow
/// list starts from nothing, later lines add to it, `~` lines take away), allow `call`. A call
/// the filter denies kills igd with SIGSYS (the unit sets no `SystemCallErrorNumber=`).
fn unit_allows(unit: &str, call: &str) -> bool {
    let mut allowed = BTreeSet::new();
    for line in unit.lines() {
        let Some(value) = line.trim().strip_prefix("SystemCallFilter=") else {
            continue;
        };
        let (deny, items) = match value.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        for item in items.split_whitespace() {
            let calls = if item.starts_with('@') {
                syscall_group(item)
            } else {
                BTreeSet::from([item.to_string()])
            };
            for c in calls {
                if deny {
                    allowed.remove(&c);
                } else {
                    allowed.insert(c);
                }
            }
        }
    }
    allowed.contains(call)
}

/// Every system call igd makes outside `@system-service`'s usual set is allowed by the unit's
/// filter: a denied one kills igd at start (`sched_setscheduler`, asked by the store's threads,
/// is in `@resources`, which the unit takes away), and the unit's own sandbox stays (a call it
/// should never make is still denied).
#[test]
fn the_unit_filter_allows_what_igd_calls() {
    let unit = std::fs::read_to_string(workspace().join("igd/dist/igd.service")).unwrap();
    for call in ["sched_setscheduler", "sched_getscheduler", "prctl", "fsync"] {
        assert!(unit_allows(&unit, call), "the unit denies {call}");
    }
    for call in ["setpriority", "sched_setattr", "mount", "reboot"] {
        assert!(!unit_allows(&unit, call), "the unit allows {call}");
    }
    assert!(unit.contains("RestrictRealtime=yes"));
}

#[test]
fn the_unit_passes_systemd_analyze_verify() {
    let unit = std::fs::read_to_string(workspace().join("igd/dist/igd.service")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The man page the unit's Documentation= names, where man(1) finds it.
    let man8 = dir.path().join("man/man8");
    std::fs::create_dir_all(&man8).unwrap();
    let page = Command::new(igd_bin()).arg("man").output().unwrap();
    assert!(page.status.success() && !page.stdout.is_empty());
    std::fs::write(man8.join("igd.8"), &page.stdout).unwrap();
    // The unit as shipped, with the binary where this build put it instead of /usr/bin/igd
    // (verify checks that every Exec path is executable); nothing else changes.
    let bin = igd_bin();
    assert_eq!(
        unit.matches("/usr/bin/igd").count(),
        2,
        "ExecStartPre and ExecStart"
    );
    let local = unit.replace("/usr/bin/igd", bin.to_str().unwrap());
    let path = dir.path().join("igd.service");
    std::fs::write(&path, &local).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .env("MANPATH", dir.path().join("man"))
        .output()
        .expect("systemd-analyze (Debian package systemd) must be installed");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).trim().is_empty(),
        "warnings from verify: {}",
        text(&out)
    );
    // The check is real: a unit with a misspelt directive fails it.
    let broken = local.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes");
    std::fs::write(&path, broken).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .env("MANPATH", dir.path().join("man"))
        .output()
        .unwrap();
    assert!(
        text(&out).contains("NoNewPrivilege"),
        "verify did not notice an unknown directive: {}",
        text(&out)
    );
    // What the unit promises about its process: notify readiness, reload by SIGHUP, drain by
    // SIGTERM within the stop timeout, secrets from credentials.
    for line in [
        "Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillSignal=SIGTERM",
        "LoadCredential=master_key:",
        "StateDirectory=intentgate",
        "RuntimeDirectory=intentgate",
        "RuntimeDirectoryMode=0750",
        "Group=intentgate",
    ] {
        assert!(unit.contains(line), "the unit lacks {line}");
    }
}

#[test]
fn the_sysusers_file_creates_the_account() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let out = Command::new("systemd-sysusers")
        .arg(format!("--root={}", root.path().display()))
        .arg(workspace().join("igd/dist/intentgate.sysusers"))
        .output()
        .expect("systemd-sysusers must be installed");
    assert!(out.status.success(), "{}", text(&out));
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).unwrap();
    let group = std::fs::read_to_string(root.path().join("etc/group")).unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with("intentgate:"))
        .unwrap_or_else(|| panic!("no intentgate user in {passwd}"));
    assert!(line.contains("/var/lib/intentgate"), "{line}");
    assert!(
        line.ends_with("nologin") || line.ends_with("/bin/false"),
        "a service account has no login shell: {line}"
    );
    assert!(
        group.lines().any(|l| l.starts_with("intentgate:")),
        "{group}"
    );
}

/// Receive datagrams on `sock` until `want` arrives (at most `within`); every message seen.
fn receive_until(sock: &UnixDatagram, want: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).to_string();
            let done = msg.lines().any(|l| l == want);
            seen.push(msg);
            if done {
                return seen;
            }
        }
    }
    panic!("no {want} within {within:?}; saw {seen:?}");
}

/// READY=1 is sent once igd answers ready, then STOPPING=1 on SIGTERM, on `notify_socket`.
fn readiness_on(sock: UnixDatagram, notify_socket: &str) {
    // Built before the clock starts.
    igd_bin();
    let sock = Arc::new(sock);
    let port = free_port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // When READY=1 arrives, ask igd at once whether it is ready.
    let watcher = {
        let sock = sock.clone();
        std::thread::spawn(move || {
            let seen = receive_until(&sock, "READY=1", Duration::from_secs(60));
            let health = http(addr, "GET", "/healthz", &[], b"").map(|r| r.status);
            (seen, health)
        })
    };
    let mut igd = Igd::start_on_port(&[("NOTIFY_SOCKET", notify_socket)], port);
    assert_eq!(igd.addr, addr);
    let (seen, health) = watcher.join().unwrap();
    assert_eq!(
        health.ok(),
        Some(200),
        "READY=1 came before igd answered ready ({seen:?})"
    );
    assert_eq!(
        seen.iter()
            .filter(|m| m.lines().any(|l| l == "READY=1"))
            .count(),
        1
    );
    assert_eq!(igd.terminate(), Some(0), "{}", igd.logs());
    receive_until(&sock, "STOPPING=1", Duration::from_secs(30));
}

#[test]
fn ready_is_sent_only_when_igd_is_ready() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    readiness_on(sock, path.to_str().unwrap());
}

#[test]
fn ready_reaches_an_abstract_notify_socket() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!(
        "intentgate-test-notify-{}-{}",
        std::process::id(),
        free_port()
    );
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let sock = UnixDatagram::bind_addr(&addr).unwrap();
    readiness_on(sock, &format!("@{name}"));
}

#[test]
fn sighup_reloads_the_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.rego");
    std::fs::write(&policy, ECHO_ONLY).unwrap();
    let igd = Igd::start(&[
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
        ("INTENTGATE_POLICY_STORE", "off"),
        ("INTENTGATE_UPSTREAM_URL", "stub"),
    ]);
    let (token, _) = igd.mint("acme", "agent-hup", "echo", 100);
    let allowed = |igd: &Igd| {
        let v = call_tool(igd.addr, &token, "echo", json!({"message": "hi"}))
            .unwrap()
            .json();
        match (v.get("result"), v.get("error")) {
            (Some(_), None) => true,
            (None, Some(_)) => false,
            _ => panic!("neither an answer nor a refusal: {v}"),
        }
    };
    assert!(allowed(&igd));
    std::fs::write(&policy, DENY_ALL).unwrap();
    // Not before the signal: the file alone changes nothing.
    assert!(allowed(&igd));
    igd.hup();
    let deadline = Instant::now() + Duration::from_secs(30);
    while allowed(&igd) {
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload the policy"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let v = call_tool(igd.addr, &token, "echo", json!({"message": "hi"}))
        .unwrap()
        .json();
    assert!(
        v.to_string().contains("closed for the night"),
        "the reloaded policy's reason: {v}"
    );
    // A broken file on the next SIGHUP leaves the last good policy in force.
    std::fs::write(&policy, "package intentgate.policy\n\ndecision := {").unwrap();
    igd.hup();
    igd.wait_for_log("policy reload failed");
    std::thread::sleep(Duration::from_millis(300));
    let v = call_tool(igd.addr, &token, "echo", json!({"message": "hi"}))
        .unwrap()
        .json();
    assert!(v.to_string().contains("closed for the night"), "{v}");
}

/// Every `allow` decision of tenant acme: its message → its event id.
fn allow_decisions(igd: &Igd) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in entries(igd, "decision") {
        if e["decision"] == "allow" {
            if let (Some(m), Some(id)) = (e["args"]["message"].as_str(), e["event_id"].as_str()) {
                out.insert(m.to_string(), id.to_string());
            }
        }
    }
    out
}

fn entries(igd: &Igd, kind: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/admin/audit?tenant=acme&kind={kind}&limit=1000");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = igd.admin_http("GET", &path, &[], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        all.extend(v["entries"].as_array().unwrap().iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return all,
        }
    }
}

#[test]
fn sigterm_under_load_loses_no_answered_call() {
    let upstream = Upstream::python();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.rego");
    std::fs::write(&policy, ECHO_ONLY).unwrap();
    let notify = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&notify).unwrap();
    let env = [
        ("INTENTGATE_UPSTREAM_URL", upstream.url.as_str()),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
        ("INTENTGATE_AUDIT_PERSIST_ARG_VALUES", "raw"),
        ("NOTIFY_SOCKET", notify.to_str().unwrap()),
    ];
    let mut igd = Igd::start(&env);
    receive_until(&sock, "READY=1", Duration::from_secs(30));
    let (token, _) = igd.mint("acme", "agent-term", "echo", 1_000_000);
    let answered = Arc::new(Mutex::new(BTreeSet::new()));
    let next = Arc::new(AtomicU64::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
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
                    let Ok(r) =
                        call_tool(addr, &token, "echo", json!({"message": format!("m{n}")}))
                    else {
                        // Refused: igd has closed its listener.
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let v = r.json();
                    if v["result"]["content"][0]["text"].as_str() == Some(&format!("echo: m{n}")) {
                        answered.lock().unwrap().insert(format!("m{n}"));
                    }
                }
            })
        })
        .collect();
    // Load first, then SIGTERM in the middle of it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.lock().unwrap().len() < 200 {
        assert!(Instant::now() < deadline, "no load reached igd");
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = igd.terminate();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    assert_eq!(
        code,
        Some(0),
        "a drained igd exits 0; logs:\n{}",
        igd.logs()
    );
    receive_until(&sock, "STOPPING=1", Duration::from_secs(5));
    assert!(igd.logs().contains("igd stopped"), "{}", igd.logs());

    igd.kill_and_restart();
    let out = igd.igctl(&["audit", "verify", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let decisions = allow_decisions(&igd);
    let outcomes: BTreeSet<String> = entries(&igd, "outcome")
        .iter()
        .filter_map(|e| e["ref_event_id"].as_str().map(String::from))
        .collect();
    let answered = answered.lock().unwrap().clone();
    let mut missing_decision = Vec::new();
    let mut missing_outcome = Vec::new();
    for m in &answered {
        match decisions.get(m) {
            None => missing_decision.push(m.clone()),
            Some(id) if !outcomes.contains(id) => missing_outcome.push(m.clone()),
            Some(_) => {}
        }
    }
    assert!(
        missing_decision.is_empty(),
        "answered without a decision entry: {missing_decision:?}"
    );
    assert!(
        missing_outcome.is_empty(),
        "answered without an outcome entry: {missing_outcome:?}"
    );
    eprintln!(
        "{} calls answered before and during the drain, {} allow decisions, {} outcomes",
        answered.len(),
        decisions.len(),
        outcomes.len()
    );
}
