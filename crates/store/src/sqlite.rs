//! SQLite implementation of [`Store`]: one file `{data_dir}/portico.db`, one connection
//! behind a mutex, every call run on tokio's blocking pool.
//!
//! One connection is enough: the store serves the control planes and the startup reload,
//! never the data-plane hot path, and SQLite serialises writers anyway.

use crate::{BoxFuture, Document, NewDocument, Store, StoreError, StoreResult, Write};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// File name of the database inside the data directory.
pub const DB_FILE_NAME: &str = "portico.db";

/// Schema migrations, applied in order, each once. Never edit a released entry: append.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    // `seq` gives a stable creation order that a replace (UPDATE) keeps.
    "CREATE TABLE documents (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        partition TEXT NOT NULL,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        parent TEXT,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (partition, kind, id)
    );
    CREATE INDEX documents_by_parent ON documents (partition, parent, kind, seq);
    CREATE INDEX documents_by_kind ON documents (kind, seq);",
)];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 1;

const COLUMNS: &str = "partition, kind, id, parent, version, body, created_at, updated_at";

/// The SQLite [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) `{data_dir}/portico.db` and migrates it. Blocking: call it
    /// at startup or from `spawn_blocking`.
    pub fn open(data_dir: impl AsRef<Path>) -> StoreResult<Self> {
        let dir = data_dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| backend(format!("cannot create data dir {}: {e}", dir.display())))?;
        Self::open_file(dir.join(DB_FILE_NAME))
    }

    /// Opens (creating if needed) the database at `path` and migrates it. Blocking.
    pub fn open_file(path: impl Into<PathBuf>) -> StoreResult<Self> {
        let path = path.into();
        let mut conn = Connection::open(&path)
            .map_err(|e| backend(format!("cannot open {}: {e}", path.display())))?;
        // Durability: in WAL mode a commit appends the transaction's pages to `-wal`, and
        // with synchronous=FULL SQLite fsyncs the WAL before the commit returns. Our futures
        // resolve only after that commit, so a write the API acknowledged is on stable
        // storage: it survives kill -9 of this process (the bytes were already written to
        // the file) and also an OS crash or power cut (they were fsynced). NORMAL would only
        // guarantee the first.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(backend(format!("cannot enable WAL mode (got {mode})")));
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        // Another process (an admin tool, a second node on a shared disk) may hold the lock
        // briefly; wait rather than fail.
        conn.busy_timeout(Duration::from_secs(5)).map_err(backend)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version recorded in the database. Blocking.
    pub fn schema_version(&self) -> StoreResult<i64> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        current_schema_version(&conn)
    }

    /// Runs `f` with the connection on the blocking pool.
    fn run<R, F>(&self, f: F) -> BoxFuture<'static, StoreResult<R>>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<R> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                // A panic while holding the lock cannot leave a half-applied write: the
                // open Transaction rolls back when it is dropped during unwinding.
                let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut guard)
            })
            .await
            .map_err(|e| backend(format!("store worker failed: {e}")))?
        })
    }

    fn write(&self, writes: Vec<Write>) -> BoxFuture<'static, StoreResult<Vec<u64>>> {
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let now = now_millis();
            let mut out = Vec::with_capacity(writes.len());
            for w in &writes {
                out.push(apply(&tx, w, now)?);
            }
            tx.commit().map_err(backend)?;
            Ok(out)
        })
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn to_u64(v: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| backend(format!("negative {what} in database: {v}")))
}

fn to_i64(v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| backend(format!("version {v} out of range")))
}

fn current_schema_version(conn: &Connection) -> StoreResult<i64> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
    .map_err(backend)
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_at INTEGER NOT NULL
        )",
    )
    .map_err(backend)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let current = current_schema_version(&tx)?;
    if current > SCHEMA_VERSION {
        return Err(backend(format!(
            "database schema version {current} is newer than this build supports ({SCHEMA_VERSION})"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.execute_batch(sql)
            .map_err(|e| backend(format!("migration {version} failed: {e}")))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![version, now_millis()],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

/// A row as SQLite stores it, before the checked conversion to a [`Document`].
struct RawDoc {
    partition: String,
    kind: String,
    id: String,
    parent: Option<String>,
    version: i64,
    body: String,
    created_at: i64,
    updated_at: i64,
}

fn read_doc(row: &Row<'_>) -> rusqlite::Result<RawDoc> {
    Ok(RawDoc {
        partition: row.get(0)?,
        kind: row.get(1)?,
        id: row.get(2)?,
        parent: row.get(3)?,
        version: row.get(4)?,
        body: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

/// Converts a row, reporting a damaged one as a backend error rather than panicking.
fn finish_doc(raw: RawDoc) -> StoreResult<Document> {
    let body = serde_json::from_str(&raw.body)
        .map_err(|e| backend(format!("corrupt body for {} {}: {e}", raw.kind, raw.id)))?;
    Ok(Document {
        version: to_u64(raw.version, "version")?,
        created_at: to_u64(raw.created_at, "created_at")?,
        updated_at: to_u64(raw.updated_at, "updated_at")?,
        partition: raw.partition,
        kind: raw.kind,
        id: raw.id,
        parent: raw.parent,
        body,
    })
}

fn query_docs(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> StoreResult<Vec<Document>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map(args, read_doc).map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(finish_doc))
        .collect()
}

fn current_version(
    tx: &Transaction<'_>,
    partition: &str,
    kind: &str,
    id: &str,
) -> StoreResult<Option<u64>> {
    tx.query_row(
        "SELECT version FROM documents WHERE partition = ?1 AND kind = ?2 AND id = ?3",
        params![partition, kind, id],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map_err(backend)?
    .map(|v| to_u64(v, "version"))
    .transpose()
}

/// Checks an optimistic-concurrency precondition against the current version.
fn check_expected(
    partition: &str,
    kind: &str,
    id: &str,
    expected: Option<u64>,
    current: Option<u64>,
) -> StoreResult<()> {
    match (expected, current) {
        (Some(e), None) if e > 0 => Err(StoreError::NotFound {
            partition: partition.to_owned(),
            kind: kind.to_owned(),
            id: id.to_owned(),
        }),
        (Some(e), Some(c)) if e != c => Err(StoreError::VersionConflict {
            kind: kind.to_owned(),
            id: id.to_owned(),
            expected: e,
            actual: c,
        }),
        _ => Ok(()),
    }
}

fn apply(tx: &Transaction<'_>, write: &Write, now: i64) -> StoreResult<u64> {
    match write {
        Write::Put {
            doc,
            expected_version,
        } => {
            let NewDocument {
                partition,
                kind,
                id,
                parent,
                body,
            } = doc;
            let current = current_version(tx, partition, kind, id)?;
            check_expected(partition, kind, id, *expected_version, current)?;
            let body = serde_json::to_string(body).map_err(backend)?;
            match current {
                None => {
                    tx.execute(
                        "INSERT INTO documents (partition, kind, id, parent, version, body, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?6)",
                        params![partition, kind, id, parent, body, now],
                    )
                    .map_err(backend)?;
                    Ok(1)
                }
                Some(c) => {
                    let next = c
                        .checked_add(1)
                        .ok_or_else(|| backend("version overflow"))?;
                    tx.execute(
                        "UPDATE documents SET parent = ?4, version = ?5, body = ?6, updated_at = ?7
                         WHERE partition = ?1 AND kind = ?2 AND id = ?3",
                        params![partition, kind, id, parent, to_i64(next)?, body, now],
                    )
                    .map_err(backend)?;
                    Ok(next)
                }
            }
        }
        Write::Delete {
            partition,
            kind,
            id,
            expected_version,
        } => {
            let current = current_version(tx, partition, kind, id)?;
            if current.is_none() {
                return Err(StoreError::NotFound {
                    partition: partition.clone(),
                    kind: kind.clone(),
                    id: id.clone(),
                });
            }
            check_expected(partition, kind, id, *expected_version, current)?;
            tx.execute(
                "DELETE FROM documents WHERE partition = ?1 AND kind = ?2 AND id = ?3",
                params![partition, kind, id],
            )
            .map_err(backend)?;
            Ok(1)
        }
        Write::DeleteChildren { partition, parent } => {
            let n = tx
                .execute(
                    "DELETE FROM documents WHERE partition = ?1 AND parent = ?2",
                    params![partition, parent],
                )
                .map_err(backend)?;
            u64::try_from(n).map_err(backend)
        }
    }
}

impl Store for SqliteStore {
    fn get<'a>(
        &'a self,
        partition: &'a str,
        kind: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, StoreResult<Option<Document>>> {
        let (p, k, i) = (partition.to_owned(), kind.to_owned(), id.to_owned());
        self.run(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM documents WHERE partition = ?1 AND kind = ?2 AND id = ?3"
            );
            Ok(query_docs(conn, &sql, &[&p, &k, &i])?.into_iter().next())
        })
    }

    fn list<'a>(
        &'a self,
        partition: &'a str,
        kind: &'a str,
        parent: Option<&'a str>,
    ) -> BoxFuture<'a, StoreResult<Vec<Document>>> {
        let (p, k, parent) = (
            partition.to_owned(),
            kind.to_owned(),
            parent.map(str::to_owned),
        );
        self.run(move |conn| match parent {
            Some(parent) => query_docs(
                conn,
                &format!(
                    "SELECT {COLUMNS} FROM documents
                     WHERE partition = ?1 AND parent = ?2 AND kind = ?3 ORDER BY seq"
                ),
                &[&p, &parent, &k],
            ),
            None => query_docs(
                conn,
                &format!(
                    "SELECT {COLUMNS} FROM documents WHERE partition = ?1 AND kind = ?2 ORDER BY seq"
                ),
                &[&p, &k],
            ),
        })
    }

    fn list_all<'a>(&'a self, kind: &'a str) -> BoxFuture<'a, StoreResult<Vec<Document>>> {
        let k = kind.to_owned();
        self.run(move |conn| {
            query_docs(
                conn,
                &format!("SELECT {COLUMNS} FROM documents WHERE kind = ?1 ORDER BY seq"),
                &[&k],
            )
        })
    }

    fn put(&self, doc: NewDocument) -> BoxFuture<'_, StoreResult<u64>> {
        let fut = self.write(vec![Write::Put {
            doc,
            expected_version: None,
        }]);
        Box::pin(async move { single(fut.await?) })
    }

    fn put_if_version(&self, doc: NewDocument, expected: u64) -> BoxFuture<'_, StoreResult<u64>> {
        let fut = self.write(vec![Write::Put {
            doc,
            expected_version: Some(expected),
        }]);
        Box::pin(async move { single(fut.await?) })
    }

    fn delete<'a>(
        &'a self,
        partition: &'a str,
        kind: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, StoreResult<()>> {
        let fut = self.write(vec![Write::Delete {
            partition: partition.to_owned(),
            kind: kind.to_owned(),
            id: id.to_owned(),
            expected_version: None,
        }]);
        Box::pin(async move { single(fut.await?).map(|_| ()) })
    }

    fn delete_children<'a>(
        &'a self,
        partition: &'a str,
        parent: &'a str,
    ) -> BoxFuture<'a, StoreResult<u64>> {
        let fut = self.write(vec![Write::DeleteChildren {
            partition: partition.to_owned(),
            parent: parent.to_owned(),
        }]);
        Box::pin(async move { single(fut.await?) })
    }

    fn transaction(&self, writes: Vec<Write>) -> BoxFuture<'_, StoreResult<Vec<u64>>> {
        self.write(writes)
    }
}

fn single(results: Vec<u64>) -> StoreResult<u64> {
    results
        .first()
        .copied()
        .ok_or_else(|| backend("write produced no result"))
}

#[cfg(test)]
mod tests;
