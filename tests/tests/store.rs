//! The embedded store as an operator meets it: a data dir written by an earlier igd (schema
//! version 1) keeps working and verifying after an upgrade, and the chain goes on from it.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_proto::audit::{Entry, GENESIS_HASH};
use intentgate_proto::ids::new_id;
use intentgate_tests::*;
use serde_json::{json, Value};

const POLICY: &str = "package intentgate.policy\n\ndecision := {\"allow\": input.tool == \"echo\", \"reason\": \"echo only\"}\n";

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn sql_opt(s: Option<&str>) -> String {
    s.map_or("NULL".into(), sql_text)
}

/// One row of version 1's `audit_entries`, written the way that version's writer wrote it.
fn v1_entry_row(e: &Entry) -> String {
    format!(
        "INSERT INTO audit_entries (tenant, seq, kind, event_id, ts, subject, tool, decision, ref_event_id, prev_hash, hash, body) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {});\n",
        sql_text(&e.tenant),
        e.seq,
        sql_text(&e.kind),
        sql_text(&e.event_id),
        e.ts,
        sql_opt(e.subject.as_deref()),
        sql_opt(e.tool.as_deref()),
        sql_opt(e.decision.as_deref()),
        sql_opt(e.ref_event_id.as_deref()),
        sql_text(&e.prev_hash),
        sql_text(&e.hash),
        sql_text(&serde_json::to_string(e).unwrap()),
    )
}

#[test]
fn a_version_1_data_dir_keeps_working_and_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let policy = dir.path().join("p.rego");
    std::fs::write(&policy, POLICY).unwrap();

    // A version 1 database: schema 0001, a decision with its side record (salt, raw args, the
    // full policy input), its outcome, and an admin entry, sealed into one chain.
    let instance = new_id();
    let mut head = (0u64, GENESIS_HASH.to_string());
    let mut seal = |mut e: Entry| {
        e.seal(head.0, &head.1);
        head = (e.seq, e.hash.clone());
        e
    };
    let base = |kind: &str, ts: i64| Entry {
        v: 1,
        tenant: "acme".into(),
        kind: kind.into(),
        event_id: new_id(),
        ts,
        instance: instance.clone(),
        ..Entry::default()
    };
    let root = new_id();
    let now = 1_780_000_000_000_000i64;
    let mut d = base("decision", now);
    d.subject = Some("agent-old".into());
    d.jti = Some(root.clone());
    d.root_jti = Some(root.clone());
    d.jti_chain = Some(vec![root.clone()]);
    d.method = Some("tools/call".into());
    d.tool = Some("echo".into());
    d.decision = Some("allow".into());
    d.reason = Some("echo only".into());
    d.policy_revision = Some(format!("sha256:{}{}", new_id(), new_id()));
    d.args_commitment = Some(format!("{}{}", new_id(), new_id()));
    let d = seal(d);
    let mut o = base("outcome", now + 1000);
    o.ref_event_id = Some(d.event_id.clone());
    o.subject = d.subject.clone();
    o.jti = d.jti.clone();
    o.root_jti = d.root_jti.clone();
    o.method = d.method.clone();
    o.tool = d.tool.clone();
    o.upstream_status = Some(200);
    o.upstream_latency_ms = Some(3);
    let o = seal(o);
    let mut a = base("admin", now + 2000);
    a.actor = Some("uid:0".into());
    a.action = Some("stop".into());
    a.target = Some("acme/agent-old".into());
    let a = seal(a);
    let input = json!({"method": "tools/call", "tool": "echo", "args": null, "tenant": "acme",
        "agent": {"subject": "agent-old", "delegated_subject": null, "jti": root, "root_jti": root,
                  "chain": [root], "depth": 0, "calls_today": 4, "calls_today_for_tool": 2, "calls_this_hour": 1},
        "capability": {"tools": ["echo"], "max_calls": 50, "remaining_calls": 46, "expires_at": "2026-12-31T00:00:00Z"},
        "intent": null, "request": {"time": "2026-05-28T00:00:00Z", "remote_addr": "127.0.0.1", "protocol_version": "2026-07-28"}});
    let mut sql = String::from("PRAGMA journal_mode = WAL;\nBEGIN;\n");
    sql.push_str(
        &std::fs::read_to_string(workspace().join("migrations/sqlite/0001_init.sql")).unwrap(),
    );
    sql.push_str("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);\n");
    sql.push_str("INSERT INTO schema_migrations VALUES (1, 0);\n");
    for e in [&d, &o, &a] {
        sql.push_str(&v1_entry_row(e));
    }
    sql.push_str(&format!(
        "INSERT INTO audit_side (event_id, tenant, subject, ts, salt, args, policy_input) VALUES ({}, 'acme', 'agent-old', {now}, {}, {}, {});\n",
        sql_text(&d.event_id),
        sql_text(&new_id()),
        sql_text(r#"{"message":"from version 1"}"#),
        sql_text(&input.to_string()),
    ));
    sql.push_str(&format!(
        "INSERT INTO budget_usage VALUES ('acme', {}, {}, 4);\n",
        sql_text(&root),
        sql_text(&root)
    ));
    sql.push_str("COMMIT;\n");
    sqlite3(&data.join("igd.db"), &sql);

    let igd = Igd::start(&[
        ("INTENTGATE_DATA_DIR", data.to_str().unwrap()),
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
        ("INTENTGATE_AUDIT_PERSIST_ARG_VALUES", "raw"),
    ]);
    // The old chain verifies, entry for entry.
    let verify = |igd: &Igd| -> Value {
        let out = igd.igctl(&[
            "audit", "verify", "--tenant", "acme", "--server", "-o", "json",
        ]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{v} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        v
    };
    let v = verify(&igd);
    assert_eq!(v["verified"], 3, "{v}");
    assert_eq!(v["head"]["seq"], 3, "{v}");
    // Exactly what version 1 stored reads back: fields, the outcome joined to its decision
    // (found through the migrated reference), and the argument values kept beside it.
    let out = igd.igctl(&["audit", "list", "--tenant", "acme", "-o", "json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &listed["entries"][0];
    let want = serde_json::to_value(&d).unwrap();
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&first[k], v, "field {k}: {first}");
    }
    assert_eq!(first["outcome"]["event_id"], o.event_id, "{first}");
    assert_eq!(
        first["args"],
        json!({"message": "from version 1"}),
        "{first}"
    );

    // The chain goes on from the migrated head, and the whole of it still verifies.
    let (token, _) = igd.mint("acme", "agent-new", "echo", 10);
    let r = call_tool(
        igd.addr,
        &token,
        "echo",
        json!({"message": "after upgrade"}),
    )
    .unwrap()
    .json();
    assert!(r["result"].is_object(), "{r}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let v = verify(&igd);
        // the new decision and its outcome (and the mint, when chained)
        if v["head"]["seq"].as_u64().unwrap_or(0) >= 5 {
            assert_eq!(v["verified"], v["head"]["seq"], "{v}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{v}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
