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

/// The scheduling policy (field 41 of `stat`) of a thread of this process, if it still runs.
fn policy_of(task: &std::path::Path) -> Option<u32> {
    let stat = std::fs::read_to_string(task.join("stat")).ok()?;
    // Fields after the command's closing parenthesis start at field 3 (state).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    rest.split(' ').nth(41 - 3)?.parse().ok()
}

/// The scheduling policies of this process's threads whose name starts with `name`.
fn thread_policies(name: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task")
        .expect("tasks")
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end().starts_with(name) {
            out.extend(policy_of(&task.path()));
        }
    }
    out
}

/// The write and checkpoint threads run under SCHED_BATCH (3), so a commit they are woken for
/// waits for the runtime worker's slice instead of preempting it on a shared core; the runtime's
/// threads keep the default policy (0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_threads_do_not_preempt_the_calls() {
    // A process started under SCHED_BATCH would pass the test below without the feature.
    assert_eq!(
        policy_of(std::path::Path::new("/proc/thread-self")),
        Some(0),
        "this test needs to run under the default scheduling policy"
    );
    let (store, _dir) = sqlite_store().await;
    commit_one(&store).await;
    // Thread names are cut to 15 bytes when set (`igd-store-writer`, `igd-store-checkpoint`).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    for name in ["igd-store-write", "igd-store-check"] {
        let policies = loop {
            let policies = thread_policies(name);
            if (!policies.is_empty() && policies.iter().all(|p| *p == 3))
                || std::time::Instant::now() > deadline
            {
                break policies;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert!(!policies.is_empty(), "no thread named {name}");
        assert!(
            policies.iter().all(|p| *p == 3),
            "{name}: scheduling policies {policies:?}, expected SCHED_BATCH (3)"
        );
    }
    // tokio names its threads `tokio-rt-worker` (older versions: `tokio-runtime-worker`).
    let runtime = thread_policies("tokio-r");
    assert!(!runtime.is_empty(), "no runtime threads");
    assert!(
        runtime.iter().all(|p| *p == 0),
        "the runtime's threads changed policy: {runtime:?}"
    );
}
