//! Operators, TOTP step-up and JIT elevation (DESIGN §6) through igctl and the admin API of
//! real igd processes: accounts and their roles, enrollment and step-up, the lock-out after
//! five wrong codes, one use per code under 100 concurrent requests, recovery codes,
//! break-glass bearers, and an elevation approved by a different admin with its id carried
//! into the audit log.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::process::Output;
use std::sync::{Arc, Barrier};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(out)))
}

/// `igctl … -o json` over the socket (as igd's own uid, an admin); must exit `code`.
fn socket_json(igd: &Igd, args: &[&str], code: i32) -> Value {
    let mut full = args.to_vec();
    full.extend(["-o", "json"]);
    let out = igd.igctl(&full);
    assert_eq!(
        out.status.code(),
        Some(code),
        "igctl {args:?}: {}",
        text(&out)
    );
    json_of(&out)
}

/// `igctl … -o json` as the holder of an operator API token (the bearer on the loopback agent
/// listener); must exit `code`.
fn as_token(igd: &Igd, token: &str, args: &[&str], code: i32) -> Value {
    let mut full: Vec<String> = vec![
        "--url".into(),
        format!("http://{}", igd.addr),
        "--token".into(),
        token.into(),
    ];
    full.extend(args.iter().map(|s| s.to_string()));
    full.extend(["-o".into(), "json".into()]);
    let out = igctl(&full, &[]);
    assert_eq!(
        out.status.code(),
        Some(code),
        "igctl {args:?}: {}",
        text(&out)
    );
    json_of(&out)
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn error_message(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or("").to_string()
}

/// Add an account with an API token through the admin socket (step-up by the harness).
fn add_with_token(igd: &Igd, name: &str, role: &str, tenant: Option<&str>) -> String {
    let mut args = vec!["operator", "add", name, "--role", role, "--issue-token"];
    if let Some(t) = tenant {
        args.extend(["--tenant", t]);
    }
    args.extend(["-o", "json"]);
    let out = igd.igctl_totp(&args);
    assert!(out.status.success(), "operator add {name}: {}", text(&out));
    let v = json_of(&out);
    assert_eq!(v["name"], name);
    assert_eq!(v["role"], role);
    let token = v["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("igo_") && token.len() >= 40, "{token}");
    token
}

/// `_system` audit entries, oldest first.
fn system_entries(igd: &Igd) -> Vec<Value> {
    let v = socket_json(
        igd,
        &["audit", "list", "--tenant", "_system", "--limit", "1000"],
        0,
    );
    let mut entries = v["entries"].as_array().unwrap().clone();
    entries.sort_by_key(|e| e["seq"].as_u64().unwrap_or(0));
    entries
}

fn now_step() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

/// Enroll an operator through its token (`totp enroll` then `totp confirm` with the code of
/// the current step); returns its secret.
fn enroll_as(igd: &Igd, token: &str) -> Vec<u8> {
    let e = as_token(igd, token, &["totp", "enroll"], 0);
    let secret = totp_secret_bytes(e["secret"].as_str().unwrap());
    assert!(e["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/IntentGate:"));
    let c = as_token(
        igd,
        token,
        &["totp", "confirm", "--code", &totp_at(&secret, now_step())],
        0,
    );
    assert_eq!(c["recovery_codes"].as_array().unwrap().len(), 10, "{c}");
    secret
}

#[test]
fn operator_accounts_roles_and_step_up() {
    let igd = Igd::start(&[("INTENTGATE_UPSTREAM_URL", "stub")]);

    // Before enrolling, a step-up action says how to enroll; without a code, how to pass one.
    let e = socket_json(
        &igd,
        &["operator", "add", "v1", "--role", "viewer", "--issue-token"],
        4,
    );
    assert_eq!(error_code(&e), "step_up_required");
    assert!(error_message(&e).contains("igctl totp enroll"), "{e}");
    igd.enroll_totp();
    let me = socket_json(&igd, &["whoami"], 0);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["via"], "socket");
    assert_eq!(me["totp_enrolled"], true);
    let e = socket_json(
        &igd,
        &["operator", "add", "v1", "--role", "viewer", "--issue-token"],
        4,
    );
    assert_eq!(error_code(&e), "step_up_required");
    assert!(error_message(&e).contains("--totp"), "{e}");

    // Accounts: a viewer and an operator of tenant acme, each with an API token.
    let viewer = add_with_token(&igd, "v1", "viewer", None);
    let operator = add_with_token(&igd, "op1", "operator", Some("acme"));
    // Invalid accounts are refused before any code is asked for.
    for (args, why) in [
        (
            vec![
                "operator", "add", "Bad Name", "--role", "viewer", "--uid", "4242",
            ],
            "must match",
        ),
        (
            vec![
                "operator", "add", "a1", "--role", "admin", "--tenant", "acme", "--uid", "4242",
            ],
            "tenant",
        ),
        (
            vec!["operator", "add", "a2", "--role", "viewer"],
            "a way to authenticate",
        ),
        (
            vec![
                "operator",
                "add",
                "admin-token",
                "--role",
                "viewer",
                "--uid",
                "4243",
            ],
            "reserved",
        ),
        (
            vec!["operator", "add", "v1", "--role", "viewer", "--uid", "4244"],
            "exists",
        ),
    ] {
        let e = socket_json(&igd, &[args.as_slice(), &["--totp", "000000"]].concat(), 1);
        assert!(
            ["invalid_request", "conflict"].contains(&error_code(&e)),
            "{args:?}: {e}"
        );
        assert!(error_message(&e).contains(why), "{args:?}: {e}");
    }
    let list = socket_json(&igd, &["operator", "list"], 0);
    let names: Vec<&str> = list["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["op1", "v1"], "{list}");
    assert!(list["operators"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["has_token"] == true && o.get("token").is_none()));

    // The viewer reads but changes nothing.
    let me = as_token(&igd, &viewer, &["whoami"], 0);
    assert_eq!(me["identity"], "v1");
    assert_eq!(me["role"], "viewer");
    assert_eq!(me["via"], "operator-token");
    as_token(&igd, &viewer, &["tokens", "list"], 0);
    let e = as_token(
        &igd,
        &viewer,
        &["stop", "--tenant", "acme", "--reason", "x"],
        4,
    );
    assert_eq!(error_code(&e), "forbidden");
    let e = as_token(
        &igd,
        &viewer,
        &["elevate", "request", "--reason", "x", "--duration", "5m"],
        4,
    );
    assert_eq!(error_code(&e), "forbidden");

    // The operator mints in its tenant, not in others, and cannot promote a policy.
    let m = as_token(
        &igd,
        &operator,
        &[
            "mint",
            "--tenant",
            "acme",
            "--subject",
            "bot",
            "--tools",
            "echo",
            "--max-calls",
            "5",
        ],
        0,
    );
    assert!(m["token"].as_str().unwrap().len() > 20);
    let e = as_token(
        &igd,
        &operator,
        &[
            "mint",
            "--tenant",
            "other",
            "--subject",
            "bot",
            "--tools",
            "echo",
            "--max-calls",
            "5",
        ],
        4,
    );
    assert_eq!(error_code(&e), "forbidden");
    let e = as_token(
        &igd,
        &operator,
        &[
            "policy",
            "promote",
            "d-0011223344556677",
            "--totp",
            "123456",
        ],
        4,
    );
    assert_eq!(error_code(&e), "forbidden");
    let e = as_token(&igd, &operator, &["operator", "remove", "v1"], 4);
    assert_eq!(error_code(&e), "forbidden");
    // A tenant-scoped operator sees its tenant's accounts only.
    let scoped = as_token(&igd, &operator, &["operator", "list"], 0);
    assert_eq!(scoped["operators"].as_array().unwrap().len(), 1, "{scoped}");
    assert_eq!(scoped["operators"][0]["name"], "op1");

    // Removing an account ends its token at once.
    let out = igd.igctl_totp(&["operator", "remove", "v1", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let e = as_token(&igd, &viewer, &["whoami"], 4);
    assert_eq!(error_code(&e), "unauthenticated");

    // Every change is chained in _system by its actor; so are the refused step-ups.
    let sys = system_entries(&igd);
    let actions: Vec<(&str, &str, &str)> = sys
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or(""),
                e["target"].as_str().unwrap_or(""),
                e["actor"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let uid_actor = me_identity(&igd);
    for (action, target) in [
        ("step-up-refused", "operator-add"),
        ("totp-enroll", uid_actor.as_str()),
        ("totp-confirm", uid_actor.as_str()),
        ("operator-add", "v1"),
        ("operator-add", "op1"),
        ("operator-remove", "v1"),
    ] {
        assert!(
            actions
                .iter()
                .any(|(a, t, actor)| *a == action && *t == target && *actor == uid_actor),
            "{action} {target} missing from {actions:?}"
        );
    }
    assert_eq!(
        actions
            .iter()
            .filter(|(a, _, _)| *a == "step-up-refused")
            .count(),
        2,
        "{actions:?}"
    );
    assert_eq!(igd.igctl(&["audit", "verify"]).status.code(), Some(0));
}

fn me_identity(igd: &Igd) -> String {
    socket_json(igd, &["whoami"], 0)["identity"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A code that is none of the three igd accepts now.
fn wrong_code(secret: &[u8]) -> String {
    let step = now_step();
    let valid: Vec<String> = (step - 1..=step + 2).map(|s| totp_at(secret, s)).collect();
    (0..)
        .map(|i| format!("{:06}", 100_000 + i * 7919))
        .find(|c| !valid.contains(c))
        .unwrap()
}

#[test]
fn five_wrong_codes_lock_step_up_out() {
    let igd = Igd::start(&[]);
    let secret = totp_secret_bytes(&igd.enroll_totp());
    let add = |code: &str| {
        socket_json(
            &igd,
            &[
                "operator", "add", "x1", "--role", "viewer", "--uid", "4242", "--totp", code,
            ],
            4,
        )
    };
    for i in 1..=4 {
        let e = add(&wrong_code(&secret));
        assert_eq!(error_code(&e), "step_up_required");
        assert!(error_message(&e).contains("wrong TOTP code"), "{i}: {e}");
    }
    let e = add(&wrong_code(&secret));
    assert!(
        error_message(&e).contains("locked") && error_message(&e).contains("try again in"),
        "{e}"
    );
    // While locked even the right code is refused, with the seconds left.
    let e = add(&igd.totp_code());
    assert_eq!(error_code(&e), "step_up_required");
    let msg = error_message(&e);
    let seconds: u64 = msg
        .split("try again in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no countdown in {msg:?}"));
    assert!((1..=30).contains(&seconds), "{msg}");
    assert!(msg.contains("locked"), "{msg}");
    // Every attempt is on the record.
    let refused = system_entries(&igd)
        .iter()
        .filter(|e| e["action"] == "step-up-refused" && e["target"] == "operator-add")
        .count();
    assert_eq!(refused, 6);
}

#[test]
fn a_code_passes_once_under_100_concurrent_requests_and_recovery_codes_once() {
    let igd = Arc::new(Igd::start(&[]));
    let secret = totp_secret_bytes(&igd.enroll_totp());
    // The harness used the current step to confirm; the next one is fresh.
    let code = totp_at(&secret, now_step() + 1);
    let barrier = Arc::new(Barrier::new(100));
    let threads: Vec<_> = (0..100)
        .map(|i| {
            let igd = igd.clone();
            let barrier = barrier.clone();
            let code = code.clone();
            std::thread::spawn(move || {
                let body = json!({"name": format!("p{i}"), "role": "viewer", "uid": 20_000 + i});
                barrier.wait();
                igd.admin_http(
                    "POST",
                    "/v1/admin/operators",
                    &[
                        ("X-IntentGate-TOTP", code.as_str()),
                        ("Content-Type", "application/json"),
                    ],
                    body.to_string().as_bytes(),
                )
            })
        })
        .collect();
    let answers: Vec<HttpResponse> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let passed = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        passed,
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_eq!(r.status, 403, "{}", r.text());
        let v = r.json();
        assert_eq!(error_code(&v), "step_up_required");
        assert!(error_message(&v).contains("already used"), "{v}");
    }
    let list = socket_json(&igd, &["operator", "list"], 0);
    assert_eq!(list["operators"].as_array().unwrap().len(), 1);

    // A recovery code passes instead of a code, once.
    let recovery = igd.take_recovery_code().unwrap();
    assert_eq!(recovery.len(), 11, "{recovery}");
    let add = |name: &str, uid: &str| {
        igd.igctl(&[
            "operator", "add", name, "--role", "viewer", "--uid", uid, "--totp", &recovery, "-o",
            "json",
        ])
    };
    let out = add("r1", "30001");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = add("r2", "30002");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert_eq!(error_code(&json_of(&out)), "step_up_required");
}

#[test]
fn break_glass_bearers_cannot_step_up_unless_allowed() {
    let admin = "a".repeat(40);
    let url = |igd: &Igd| format!("http://{}", igd.addr);
    let run = |igd: &Igd, args: &[&str]| {
        let mut full: Vec<String> = vec!["--url".into(), url(igd), "--token".into(), admin.clone()];
        full.extend(args.iter().map(|s| s.to_string()));
        full.extend(["-o".into(), "json".into()]);
        igctl(&full, &[])
    };
    let add = ["operator", "add", "u1", "--role", "viewer", "--uid", "4242"];
    let igd = Igd::start(&[("INTENTGATE_ADMIN_TOKEN", &admin)]);
    let out = run(&igd, &add);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let e = json_of(&out);
    assert_eq!(error_code(&e), "step_up_required");
    assert!(
        error_message(&e).contains("INTENTGATE_ADMIN_TOKEN_STEP_UP"),
        "{e}"
    );
    // Nor can they enroll.
    let out = run(&igd, &["totp", "enroll"]);
    assert_eq!(error_code(&json_of(&out)), "forbidden", "{}", text(&out));
    drop(igd);

    let igd = Igd::start(&[
        ("INTENTGATE_ADMIN_TOKEN", &admin),
        ("INTENTGATE_ADMIN_TOKEN_STEP_UP", "off"),
    ]);
    let out = run(&igd, &add);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The bypass is chained right before the action it let through.
    let sys = system_entries(&igd);
    let i = sys
        .iter()
        .position(|e| e["action"] == "step-up-bypassed")
        .unwrap_or_else(|| panic!("{sys:?}"));
    assert_eq!(sys[i]["actor"], "admin-token");
    assert_eq!(sys[i]["target"], "operator-add");
    assert_eq!(sys[i + 1]["action"], "operator-add");
    assert!(igd.logs().contains("INTENTGATE_ADMIN_TOKEN_STEP_UP=off"));
}

#[test]
fn an_elevation_is_approved_by_another_admin_and_marks_what_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let igd = Igd::start(&[("INTENTGATE_UPSTREAM_URL", "stub")]);
    let oncall = add_with_token(&igd, "oncall", "operator", None);
    let boss = add_with_token(&igd, "boss", "admin", None);

    let me = as_token(&igd, &oncall, &["whoami"], 0);
    assert_eq!(me["role"], "operator");
    let e = as_token(
        &igd,
        &oncall,
        &["elevate", "request", "--reason", "x", "--duration", "10m"],
        2,
    );
    assert_eq!(error_code(&e), "usage");
    let req = as_token(
        &igd,
        &oncall,
        &[
            "elevate",
            "request",
            "--reason",
            "incident 42",
            "--duration",
            "15m",
        ],
        0,
    );
    let id = req["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("elv_"), "{req}");
    assert_eq!(req["status"], "pending");
    assert_eq!(req["duration_seconds"], 900);
    // One at a time.
    let e = as_token(
        &igd,
        &oncall,
        &[
            "elevate",
            "request",
            "--reason",
            "again",
            "--duration",
            "5m",
        ],
        1,
    );
    assert_eq!(error_code(&e), "conflict");

    // Self-approval is refused, and the attempt is on the record.
    let e = as_token(
        &igd,
        &oncall,
        &["elevate", "approve", &id, "--totp", "123456"],
        4,
    );
    assert_eq!(error_code(&e), "forbidden");
    assert!(error_message(&e).contains("self-approval"), "{e}");
    assert!(system_entries(&igd)
        .iter()
        .any(|e| e["action"] == "elevation-approve-refused"
            && e["actor"] == "oncall"
            && e["target"] == id.as_str()));

    // Another admin approves with step-up (its own TOTP).
    let e = as_token(&igd, &boss, &["elevate", "approve", &id], 4);
    assert_eq!(error_code(&e), "step_up_required");
    let boss_secret = enroll_as(&igd, &boss);
    let approved = as_token(
        &igd,
        &boss,
        &[
            "elevate",
            "approve",
            &id,
            "--totp",
            &totp_at(&boss_secret, now_step() + 1),
        ],
        0,
    );
    assert_eq!(approved["status"], "active", "{approved}");
    assert_eq!(approved["approved_by"], "boss");
    assert!(approved["expires_at"].as_str().is_some());

    // Under it the operator is admin, and what it does carries the elevation's id.
    let me = as_token(&igd, &oncall, &["whoami"], 0);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["elevation_id"], id.as_str());
    let policy = dir.path().join("p.rego");
    std::fs::write(
        &policy,
        "package intentgate.policy\n\ndecision := {\"allow\": true, \"reason\": \"ok\"}\n",
    )
    .unwrap();
    as_token(
        &igd,
        &oncall,
        &[
            "policy",
            "draft",
            "create",
            "--name",
            "p",
            policy.to_str().unwrap(),
        ],
        0,
    );
    let sys = system_entries(&igd);
    let draft = sys
        .iter()
        .find(|e| e["action"] == "policy-draft-create")
        .unwrap_or_else(|| panic!("{sys:?}"));
    assert_eq!(draft["actor"], "oncall");
    assert_eq!(draft["elevation_id"], id.as_str());
    let approval = sys
        .iter()
        .find(|e| e["action"] == "elevation-approve")
        .unwrap();
    assert_eq!(approval["actor"], "boss");
    // Acting as admin, it still cannot approve its own elevation.
    let e = as_token(
        &igd,
        &oncall,
        &["elevate", "approve", &id, "--totp", "123456"],
        4,
    );
    assert_eq!(error_code(&e), "forbidden");
    let list = as_token(&igd, &oncall, &["elevate", "list"], 0);
    assert_eq!(list["elevations"][0]["status"], "active");

    // An admin disables another's TOTP with its own step-up.
    let out = igd.igctl_totp(&["totp", "disable", "--identity", "boss", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        as_token(&igd, &boss, &["whoami"], 0)["totp_enrolled"],
        false
    );
    assert_eq!(igd.igctl(&["audit", "verify"]).status.code(), Some(0));
}

/// On PostgreSQL the one-use guard holds across replicas: the same code sent 50 times to each
/// of two replicas at once passes once (and a secret sealed by one replica opens on the other).
#[test]
fn a_code_passes_once_across_two_replicas() {
    let db = intentgate_tests::pg::TestDb::create_blocking();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit.pem");
    write_audit_key(&key);
    let master = "cd".repeat(32);
    let env = [
        ("INTENTGATE_POSTGRES_URL", db.url.as_str()),
        ("INTENTGATE_MASTER_KEY", master.as_str()),
        ("INTENTGATE_AUDIT_SIGNING_KEY", key.to_str().unwrap()),
    ];
    let a = Arc::new(Igd::start(&env));
    let b = Arc::new(Igd::start(&env));
    let secret = totp_secret_bytes(&a.enroll_totp());
    let code = totp_at(&secret, now_step() + 1);
    let barrier = Arc::new(Barrier::new(100));
    let threads: Vec<_> = (0..100)
        .map(|i| {
            let igd = if i % 2 == 0 { a.clone() } else { b.clone() };
            let barrier = barrier.clone();
            let code = code.clone();
            std::thread::spawn(move || {
                let body = json!({"name": format!("q{i}"), "role": "viewer", "uid": 40_000 + i});
                barrier.wait();
                igd.admin_http(
                    "POST",
                    "/v1/admin/operators",
                    &[
                        ("X-IntentGate-TOTP", code.as_str()),
                        ("Content-Type", "application/json"),
                    ],
                    body.to_string().as_bytes(),
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 403].contains(s)),
        "{statuses:?}"
    );
    // Replayed later on the other replica: still spent.
    let out = b.igctl(&[
        "operator", "add", "late", "--role", "viewer", "--uid", "40999", "--totp", &code, "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(error_message(&json_of(&out)).contains("already used"));
}

/// `INTENTGATE_TOTP_ENCRYPTION_KEY` is what seals the secrets: restarted with another key, igd
/// cannot open the enrollment (step-up fails); back on the first key, it can again.
#[test]
fn the_totp_encryption_key_is_the_one_that_seals_the_secrets() {
    let key_a = "a1".repeat(32);
    let key_b = "b2".repeat(32);
    let mut igd = Igd::start(&[("INTENTGATE_TOTP_ENCRYPTION_KEY", &key_a)]);
    igd.enroll_totp();
    let mint = |igd: &Igd, code: &str| {
        igd.igctl(&[
            "mint",
            "--tenant",
            "acme",
            "--subject",
            "s",
            "--all-tools",
            "--ttl",
            "1h",
            "--max-calls",
            "5",
            "--totp",
            code,
        ])
    };
    let ok = mint(&igd, &igd.totp_code());
    assert!(ok.status.success(), "{}", text(&ok));
    igd.set_env("INTENTGATE_TOTP_ENCRYPTION_KEY", &key_b);
    igd.kill_and_restart();
    // A step code: a recovery code (hashed, not sealed) would pass under any key.
    let refused = mint(&igd, &igd.totp_step_code());
    assert!(
        !refused.status.success(),
        "another key opened the secret: {}",
        text(&refused)
    );
    igd.set_env("INTENTGATE_TOTP_ENCRYPTION_KEY", &key_a);
    igd.kill_and_restart();
    let again = mint(&igd, &igd.totp_code());
    assert!(again.status.success(), "{}", text(&again));
}
