//! The SQLite write-ahead log stays bounded under sustained load and shrinks back when the load
//! stops (a WAL that only grows fills the disk and then fails every tenant closed).

use igd::config::AuditSync;
use igd::store::sqlite::SqliteStore;
use igd::store::{AppendEntry, CommitBatch, SideRecord, Store};
use intentgate_proto::audit::{Entry, GENESIS_HASH};
use intentgate_proto::ids::new_id;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

fn wal_size(dir: &std::path::Path) -> u64 {
    std::fs::metadata(dir.join("igd.db-wal")).map_or(0, |m| m.len())
}

/// A decision entry as igd writes one, sealed after `prev`.
fn decision(tenant: &str, prev: (u64, &str), n: u64) -> Entry {
    let mut e = Entry {
        v: 1,
        tenant: tenant.into(),
        kind: "decision".into(),
        event_id: new_id(),
        ts: 1_760_000_000_000_000 + i64::try_from(n).unwrap_or(0),
        instance: new_id(),
        subject: Some("load".into()),
        jti: Some(new_id()),
        root_jti: Some(new_id()),
        jti_chain: Some(vec![new_id()]),
        method: Some("tools/call".into()),
        tool: Some("echo".into()),
        decision: Some("allow".into()),
        reason: Some("echo is allowed".into()),
        policy_revision: Some(format!("sha256:{}{}", new_id(), new_id())),
        args_commitment: Some(format!("{}{}", new_id(), new_id())),
        ..Entry::default()
    };
    e.seal(prev.0, prev.1);
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_stays_bounded_under_load_and_shrinks_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(
        SqliteStore::open(&dir.path().join("igd.db"), AuditSync::Normal)
            .await
            .unwrap(),
    );
    // A reader paging through the chain the whole time, as export and verify do.
    let reading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let reader = {
        let (store, reading) = (store.clone(), reading.clone());
        tokio::spawn(async move {
            let mut from = 1;
            while reading.load(std::sync::atomic::Ordering::Relaxed) {
                let page = store
                    .chain_range("acme", from, u64::MAX / 2, 500)
                    .await
                    .unwrap();
                from = page.last().map_or(1, |e| e.seq + 1);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    // 4,000 group commits of 25 entries (100,000 entries): far more WAL traffic than the bound.
    let mut head = (0u64, GENESIS_HASH.to_string());
    let mut peak = 0u64;
    let mut last_maintain = Instant::now();
    for commit in 0..4000u64 {
        let mut entries = Vec::with_capacity(25);
        for i in 0..25 {
            let e = decision("acme", (head.0, &head.1), commit * 25 + i);
            head = (e.seq, e.hash.clone());
            entries.push(AppendEntry {
                entry: e,
                ref_seq: None,
                side: Some(SideRecord {
                    salt: None,
                    args: None,
                    policy_context: Some(
                        r#"{"c":[1,2,3],"t":["echo"],"m":1000000000,"r":999999,"x":"2026-12-04T00:00:00Z","i":null,"a":"127.0.0.1","p":"2026-07-28"}"#.into(),
                    ),
                }),
            });
        }
        store
            .commit(CommitBatch {
                entries,
                ..CommitBatch::default()
            })
            .await
            .unwrap();
        // igd calls maintain() about once a second.
        if last_maintain.elapsed() >= Duration::from_secs(1) {
            store.maintain().await.unwrap();
            last_maintain = Instant::now();
        }
        peak = peak.max(wal_size(dir.path()));
    }
    reading.store(false, std::sync::atomic::Ordering::Relaxed);
    reader.await.unwrap();
    assert!(
        peak <= 32 * MIB,
        "the WAL grew to {} MiB under load",
        peak / MIB
    );
    // Idle: the log is copied back and the file cut down, without any further write.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let size = wal_size(dir.path());
        if size <= 4 * MIB {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the WAL stayed at {} MiB after the load stopped",
            size / MIB
        );
        store.maintain().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing was lost on the way.
    let heads = store.chain_heads().await.unwrap();
    assert_eq!(heads[0].seq, 100_000);
    assert_eq!(heads[0].hash, head.1);
}
