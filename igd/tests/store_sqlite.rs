//! The storage behaviour suite against the embedded SQLite store.

mod store_suite;

async fn sqlite_store() -> (igd::store::sqlite::SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = igd::store::sqlite::SqliteStore::open(
        &dir.path().join("igd.db"),
        igd::config::AuditSync::Normal,
    )
    .await
    .expect("open the store");
    (store, dir)
}

store_suite!(sqlite_store);

fn page_size(db: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row("PRAGMA page_size", [], |r| r.get(0))
        .expect("page_size")
}

/// One sealed entry at the head of a new chain, committed.
async fn commit_one(store: &igd::store::sqlite::SqliteStore) {
    use igd::store::{AppendEntry, CommitBatch, Store};
    let mut e = intentgate_proto::audit::Entry {
        tenant: "acme".into(),
        kind: "admin".into(),
        event_id: intentgate_proto::ids::new_id(),
        ts: 1,
        instance: "i".into(),
        ..Default::default()
    };
    e.seal(0, intentgate_proto::audit::GENESIS_HASH);
    store
        .commit(CommitBatch {
            entries: vec![AppendEntry {
                entry: e,
                ..AppendEntry::default()
            }],
            ..CommitBatch::default()
        })
        .await
        .expect("commit");
}

/// A new database gets 1 KiB pages (fewer bytes per WAL frame); an existing one keeps the page
/// size it was made with and goes on committing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_databases_get_small_pages_and_old_ones_keep_theirs() {
    let (store, dir) = sqlite_store().await;
    commit_one(&store).await;
    assert_eq!(page_size(&dir.path().join("igd.db")), 1024);

    let old = tempfile::tempdir().expect("temp dir");
    let db = old.path().join("igd.db");
    {
        let conn = rusqlite::Connection::open(&db).expect("create");
        conn.execute_batch(
            "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x);",
        )
        .expect("make a 4 KiB database");
    }
    let store = igd::store::sqlite::SqliteStore::open(&db, igd::config::AuditSync::Normal)
        .await
        .expect("open the existing store");
    commit_one(&store).await;
    assert_eq!(page_size(&db), 4096);
}
