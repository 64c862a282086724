//! The [`Store`] trait: a repository of small, versioned JSON documents for the control
//! planes (REST APIs, resources, stages, deployments, functions, ...), and [`SqliteStore`],
//! its durable SQLite implementation.
//!
//! A document is addressed by `(partition, kind, id)`, where the partition is
//! `"{account}/{region}"`. It may name a parent id (a resource belongs to a REST API) so that
//! children can be listed and deleted together. Every write bumps a `u64` version, which
//! gives optimistic concurrency through [`Store::put_if_version`] and [`Write::Put`].
//!
//! This crate is not: a cache, a query engine, or a blob store. Function code zips stay as
//! files in the data directory; only their metadata documents live here. The data plane
//! never reads the store on a request: it serves immutable deployment snapshots.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod sqlite;

pub use sqlite::SqliteStore;

use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// A boxed, `Send` future, so that [`Store`] stays dyn-compatible (`Arc<dyn Store>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Result of every store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// A stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// `"{account}/{region}"`.
    pub partition: String,
    /// Document kind, e.g. `"restapi"`, `"resource"`, `"function"`.
    pub kind: String,
    /// Id, unique within `(partition, kind)`.
    pub id: String,
    /// Parent id, e.g. the REST API id of a resource.
    pub parent: Option<String>,
    /// 1 after the first write, +1 on every later write.
    pub version: u64,
    /// The document itself.
    pub body: Value,
    /// Milliseconds since the Unix epoch of the first write.
    pub created_at: u64,
    /// Milliseconds since the Unix epoch of the latest write.
    pub updated_at: u64,
}

/// The content of a write: where a document goes and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    /// `"{account}/{region}"`.
    pub partition: String,
    /// Document kind.
    pub kind: String,
    /// Id, unique within `(partition, kind)`.
    pub id: String,
    /// Parent id; replacing a document also replaces its parent.
    pub parent: Option<String>,
    /// The document itself.
    pub body: Value,
}

impl NewDocument {
    /// A document without a parent.
    pub fn new(
        partition: impl Into<String>,
        kind: impl Into<String>,
        id: impl Into<String>,
        body: Value,
    ) -> Self {
        Self {
            partition: partition.into(),
            kind: kind.into(),
            id: id.into(),
            parent: None,
            body,
        }
    }

    /// Sets the parent id.
    pub fn with_parent(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }
}

/// One write inside [`Store::transaction`].
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Insert or replace. `expected_version`: `None` writes unconditionally, `Some(0)` only
    /// if the document does not exist yet, `Some(v)` only if its current version is `v`.
    Put {
        /// The document.
        doc: NewDocument,
        /// Optimistic-concurrency precondition.
        expected_version: Option<u64>,
    },
    /// Delete one document; it must exist (and have `expected_version` if given).
    Delete {
        /// Partition of the document.
        partition: String,
        /// Kind of the document.
        kind: String,
        /// Id of the document.
        id: String,
        /// Optimistic-concurrency precondition.
        expected_version: Option<u64>,
    },
    /// Delete every document in `partition` whose parent is `parent` (any kind; one level).
    DeleteChildren {
        /// Partition of the children.
        partition: String,
        /// Their parent id.
        parent: String,
    },
}

/// Store failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The addressed document does not exist.
    #[error("document not found: {partition} {kind} {id}")]
    NotFound {
        /// Partition looked in.
        partition: String,
        /// Kind looked for.
        kind: String,
        /// Id looked for.
        id: String,
    },
    /// The document's version is not the expected one (0 means "did not exist").
    #[error("version conflict on {kind} {id}: expected {expected}, found {actual}")]
    VersionConflict {
        /// Kind of the document.
        kind: String,
        /// Id of the document.
        id: String,
        /// The precondition.
        expected: u64,
        /// The version found (0 if the document does not exist).
        actual: u64,
    },
    /// The backend failed (I/O, corruption, a dead worker).
    #[error("store backend error: {0}")]
    Backend(String),
}

/// A repository of versioned JSON documents, shared as `Arc<dyn Store>`.
///
/// Every method resolves only after the backend has made the effect durable.
pub trait Store: Send + Sync {
    /// The document at `(partition, kind, id)`, if any.
    fn get<'a>(
        &'a self,
        partition: &'a str,
        kind: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, StoreResult<Option<Document>>>;

    /// Documents of `kind` in `partition`, oldest first (creation order, which a replace
    /// does not change). With `parent`, only that parent's children; without, all of them.
    fn list<'a>(
        &'a self,
        partition: &'a str,
        kind: &'a str,
        parent: Option<&'a str>,
    ) -> BoxFuture<'a, StoreResult<Vec<Document>>>;

    /// Documents of `kind` in every partition, oldest first (startup reload).
    fn list_all<'a>(&'a self, kind: &'a str) -> BoxFuture<'a, StoreResult<Vec<Document>>>;

    /// Inserts or replaces; returns the new version.
    fn put(&self, doc: NewDocument) -> BoxFuture<'_, StoreResult<u64>>;

    /// Writes only if the current version is `expected` (0: only if absent); returns the new
    /// version. A mismatch is [`StoreError::VersionConflict`], except that a missing
    /// document with `expected > 0` is [`StoreError::NotFound`].
    fn put_if_version(&self, doc: NewDocument, expected: u64) -> BoxFuture<'_, StoreResult<u64>>;

    /// Deletes one document; [`StoreError::NotFound`] if absent.
    fn delete<'a>(
        &'a self,
        partition: &'a str,
        kind: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Deletes every document in `partition` whose parent is `parent`, of any kind, one
    /// level deep; returns how many went. Deeper cascades are the caller's to spell out.
    fn delete_children<'a>(
        &'a self,
        partition: &'a str,
        parent: &'a str,
    ) -> BoxFuture<'a, StoreResult<u64>>;

    /// Applies `writes` in order, all or nothing. Returns one number per write: the new
    /// version for a put, 1 for a delete, the count for a delete-children.
    fn transaction(&self, writes: Vec<Write>) -> BoxFuture<'_, StoreResult<Vec<u64>>>;
}
