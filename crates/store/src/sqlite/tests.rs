//! SQLite-specific tests, plus the shared conformance suite run against SQLite.

use super::*;
use crate::conformance;

#[tokio::test]
async fn conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_owned();
    conformance::run_all(move || {
        let path = path.clone();
        async move {
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                .await
                .expect("open task")
                .expect("open store");
            Arc::new(store) as Arc<dyn Store>
        }
    })
    .await;
}

#[test]
fn file_location_pragmas_and_schema_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("nested")).expect("open");
    assert_eq!(store.path(), dir.path().join("nested").join("portico.db"));
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
    let conn = store.conn.lock().expect("lock");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    // 2 = FULL.
    let sync: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .expect("synchronous");
    assert_eq!(sync, 2);
    drop(conn);
    drop(store);
    // Reopening does not re-run migrations.
    let store = SqliteStore::open(dir.path().join("nested")).expect("reopen");
    let conn = store.conn.lock().expect("lock");
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows, 1);
}

const KILL9_DIR_ENV: &str = "PORTICO_STORE_KILL9_DIR";

/// Child half of `acknowledged_writes_survive_kill_9`: does nothing unless the parent
/// set the env var; then writes, says "ready", and waits to be killed.
#[test]
fn kill9_child() {
    let Some(dir) = std::env::var_os(KILL9_DIR_ENV) else {
        return;
    };
    let store = SqliteStore::open(&dir).expect("open");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for i in 0..20 {
            let d = NewDocument::new("acct/kill", "fn", format!("f{i}"), serde_json::json!(i));
            store.put(d).await.expect("put");
        }
        store
            .transaction(vec![Write::Delete {
                partition: "acct/kill".into(),
                kind: "fn".into(),
                id: "f0".into(),
                expected_version: None,
            }])
            .await
            .expect("txn");
    });
    println!("\nPORTICO-KILL9-READY");
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("current_exe");
    let mut child = std::process::Command::new(exe)
        .args([
            "--exact",
            "sqlite::tests::kill9_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILL9_DIR_ENV, dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let ready = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("PORTICO-KILL9-READY"));
    // Child::kill sends SIGKILL: no destructors, no WAL checkpoint, no close.
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(ready, "child never acknowledged its writes");

    let store = SqliteStore::open(dir.path()).expect("reopen");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let docs = rt
        .block_on(store.list("acct/kill", "fn", None))
        .expect("list");
    let got: Vec<(String, serde_json::Value)> = docs.into_iter().map(|d| (d.id, d.body)).collect();
    let want: Vec<(String, serde_json::Value)> = (1..20)
        .map(|i| (format!("f{i}"), serde_json::json!(i)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store
        .conn
        .lock()
        .expect("lock")
        .execute("INSERT INTO schema_migrations VALUES (99, 0)", [])
        .expect("insert");
    drop(store);
    let err = SqliteStore::open(dir.path()).expect_err("newer schema");
    assert_eq!(
        err,
        StoreError::Backend(
            "database schema version 99 is newer than this build supports (1)".to_owned()
        )
    );
}

#[test]
fn corrupt_body_is_a_backend_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store
        .conn
        .lock()
        .expect("lock")
        .execute(
            "INSERT INTO documents (partition, kind, id, parent, version, body, created_at, updated_at)
             VALUES ('p', 'k', 'x', NULL, 1, '{not json', 0, 0)",
            [],
        )
        .expect("insert");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let err = rt.block_on(store.get("p", "k", "x")).expect_err("corrupt");
    assert!(
        matches!(&err, StoreError::Backend(m) if m.starts_with("corrupt body for k x: ")),
        "{err:?}"
    );
}
