//! The storage behaviour suite against PostgreSQL, plus what only a shared database has: two
//! replicas appending to one chain at once. Every test gets its own database, dropped after.
//! The server is `INTENTGATE_TEST_POSTGRES_URL` (default the local one CI starts).

#![allow(clippy::unwrap_used)]

#[path = "../../igd/tests/store_suite/mod.rs"]
mod store_suite;

use intentgate_tests::pg::TestDb;

use igd::store::postgres::{PgSettings, PostgresStore};
use igd::store::{AppendEntry, CommitBatch, Store};
use intentgate_proto::audit::{ChainVerifier, Entry};

async fn pg_store() -> (PostgresStore, TestDb) {
    let db = TestDb::create().await;
    let store = PostgresStore::connect(&db.url, PgSettings::default())
        .await
        .expect("connect the store");
    (store, db)
}

store_suite!(pg_store);

/// Restarting against a migrated database, and two replicas starting at once, are no-ops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_under_concurrent_starts() {
    let db = TestDb::create().await;
    let (a, b) = tokio::join!(
        PostgresStore::connect(&db.url, PgSettings::default()),
        PostgresStore::connect(&db.url, PgSettings::default()),
    );
    let (a, _b) = (a.expect("replica a"), b.expect("replica b"));
    let again = PostgresStore::connect(&db.url, PgSettings::default())
        .await
        .expect("restart");
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY 1")
        .fetch_all(again.pool())
        .await
        .expect("versions");
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6]);
    a.init_meta("k", "v").await.expect("usable");
}

/// Two replicas, each with its own stale idea of the head, commit batches to one tenant at
/// the same time: every entry lands exactly once, the chain is gapless and verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_append_to_one_chain_without_forks() {
    let db = TestDb::create().await;
    let a = PostgresStore::connect(&db.url, PgSettings::default())
        .await
        .expect("replica a");
    let b = PostgresStore::connect(&db.url, PgSettings::default())
        .await
        .expect("replica b");
    async fn writer(store: PostgresStore, who: &'static str) -> Vec<Entry> {
        let mut chain = store_suite::Chain::new("acme");
        let mut out = Vec::new();
        for round in 0..40 {
            let batch: Vec<Entry> = (0..5)
                .map(|i| chain.decision(who, "echo", "allow", round * 10 + i))
                .collect();
            let committed = store
                .commit(CommitBatch {
                    entries: batch
                        .into_iter()
                        .map(|entry| AppendEntry {
                            entry,
                            ..AppendEntry::default()
                        })
                        .collect(),
                    reseal: true,
                    ..CommitBatch::default()
                })
                .await
                .expect("commit");
            // Go on from the head as committed (as the audit writer does).
            let last = committed.last().expect("entries");
            chain.head = (last.seq, last.hash.clone());
            out.extend(committed);
        }
        out
    }
    let (wa, wb) = tokio::join!(
        tokio::spawn(writer(a.clone(), "a")),
        tokio::spawn(writer(b.clone(), "b"))
    );
    let (wa, wb) = (wa.expect("a"), wb.expect("b"));
    let all = a
        .chain_range("acme", 1, 10_000, 10_000)
        .await
        .expect("read");
    assert_eq!(all.len(), 400);
    let mut v = ChainVerifier::new("acme");
    for e in &all {
        v.push(e)
            .unwrap_or_else(|x| panic!("broken at {}: {}", x.seq, x.reason));
    }
    // What each replica was told it committed is exactly what is stored.
    for e in wa.iter().chain(&wb) {
        assert_eq!(&all[(e.seq - 1) as usize], e);
    }
    let heads = b.chain_heads().await.expect("heads");
    assert_eq!(heads[0].seq, 400);
}

/// A revocation or stop written through one replica wakes every other replica's change feed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_announced_to_other_replicas() {
    let db = TestDb::create().await;
    let a = PostgresStore::connect(&db.url, PgSettings::default())
        .await
        .expect("replica a");
    let b = PostgresStore::connect(&db.url, PgSettings::default())
        .await
        .expect("replica b");
    let mut feed = b.change_feed().expect("postgres has a change feed");
    // Let b's listener subscribe.
    let subscribed = tokio::time::timeout(std::time::Duration::from_secs(10), feed.changed()).await;
    assert!(subscribed.is_ok(), "the listener never connected");
    feed.borrow_and_update();
    a.put_stop(&igd::store::StopRecord {
        tenant: "acme".into(),
        subject: None,
        reason: "incident".into(),
        created_at: 1,
        created_by: "ops".into(),
    })
    .await
    .expect("stop");
    tokio::time::timeout(std::time::Duration::from_secs(5), feed.changed())
        .await
        .expect("b is told within 5 s")
        .expect("feed open");
    assert_eq!(b.stops().await.expect("stops").len(), 1);
}

/// `INTENTGATE_AUDIT_SYNC=full` makes igd's commits wait for the WAL flush even where the
/// database's default says otherwise; `normal` keeps the database's setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_audit_sync_overrides_a_relaxed_server_default() {
    let db = TestDb::create().await;
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let setup = PostgresStore::connect(&db.url, PgSettings::default())
        .await
        .expect("connect");
    sqlx::query(&format!(
        "ALTER DATABASE {name} SET synchronous_commit = off"
    ))
    .execute(setup.pool())
    .await
    .expect("alter");
    for (durable, want) in [(false, "off"), (true, "on")] {
        let store = PostgresStore::connect(
            &db.url,
            PgSettings {
                durable,
                ..PgSettings::default()
            },
        )
        .await
        .expect("connect");
        let got: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(store.pool())
            .await
            .expect("show");
        assert_eq!(got, want, "durable {durable}");
    }
}
