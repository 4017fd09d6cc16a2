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
