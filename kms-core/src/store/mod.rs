//! Persistent storage: one trait, two backends.
//!
//! [`Store`] is what the rest of kms-core sees. It stores rows it does not
//! interpret: object rows carry their attributes as JSON, their key material
//! as a wrapped blob and a MAC the service computed, so a backend can neither
//! read secrets nor forge a row. Backends:
//!
//! * `sqlite` — the embedded default. WAL journal, `synchronous=FULL`, so a
//!   commit is on disk before it is acknowledged.
//! * `postgres` — for installs that outgrow one machine; several Strongroom
//!   nodes can share one database.
//!
//! Writes go through [`Store::commit`], which takes a [`Transaction`]: a set
//! of row writes plus the audit events that describe them. Both land in one
//! database transaction, or neither does. Backends group concurrent commits
//! into one database transaction (group commit), each caller's writes isolated
//! in a savepoint, so one caller's conflict never fails another's.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::audit::{AuditChain, AuditEvent, AuditRecord, ChainHead};
use crate::ids::{ObjectId, OrganizationId, ProjectId};

mod audit_names;
pub(crate) mod group_commit;
pub mod postgres;
mod rows;
pub mod sqlite;

pub use rows::MAX_LIMIT;

/// How a store is opened. `StoreOptions::default()` suits most installs.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Read connections: the SQLite or PostgreSQL read pool. `0` (the
    /// default) picks the backend's default: 4 for SQLite, 8 for PostgreSQL.
    /// Writes always use one dedicated connection.
    pub pool_size: u32,
    /// At most this many transactions share one database transaction in a
    /// group commit (default 256).
    pub max_batch: usize,
    /// At most this many transactions wait for the writer; further callers
    /// wait to enqueue (back-pressure). Default 4,096.
    pub queue_depth: usize,
    /// SQLite: how long a statement waits for a lock held by another
    /// connection or process before failing (default 5 s).
    pub busy_timeout: Duration,
    /// PostgreSQL: how long connecting may take before the store reports
    /// [`StoreError::Unreachable`] (default 5 s). Also bounds waiting for a
    /// pooled read connection.
    pub connect_timeout: Duration,
    /// Open for reading only: nothing is created or migrated, and
    /// [`Store::commit`] fails with [`StoreError::ReadOnly`].
    pub read_only: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_size: 0,
            max_batch: 256,
            queue_depth: 4096,
            busy_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            read_only: false,
        }
    }
}

/// Opens the store named by `url`:
///
/// * `sqlite:PATH` (`sqlite:/abs/path.db`, `sqlite://rel/path.db`,
///   `sqlite:///abs/path.db`) — see [`sqlite`];
/// * `postgres://…` or `postgresql://…` — see [`postgres`].
///
/// Creates (SQLite) and migrates the schema, then starts the group-commit
/// writer. `chain` links and seals the audit records of every commit.
///
/// `options.pool_size == 0` picks the backend's default (SQLite 4,
/// PostgreSQL 8).
pub async fn open(
    url: &str,
    chain: Arc<AuditChain>,
    options: StoreOptions,
) -> Result<Arc<dyn Store>, StoreError> {
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    match scheme.as_str() {
        "sqlite" => {
            let options = StoreOptions {
                pool_size: if options.pool_size == 0 {
                    4
                } else {
                    options.pool_size
                },
                ..options
            };
            Ok(Arc::new(
                sqlite::SqliteStore::open(url, chain, &options).await?,
            ))
        }
        "postgres" | "postgresql" => {
            let options = StoreOptions {
                pool_size: if options.pool_size == 0 {
                    8
                } else {
                    options.pool_size
                },
                ..options
            };
            Ok(Arc::new(
                postgres::PostgresStore::open(url, chain, &options).await?,
            ))
        }
        _ => Err(StoreError::Unreachable(format!(
            "unsupported database URL {:?}: use sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE",
            redact(url)
        ))),
    }
}

/// A URL with any password replaced, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A stored organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationRecord {
    pub id: OrganizationId,
    pub name: String,
    pub created_at: i64,
}

/// A stored project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectRecord {
    pub id: ProjectId,
    pub organization: OrganizationId,
    pub name: String,
    pub created_at: i64,
}

/// One version of a project's key-encryption key, wrapped under a root term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectKeyRecord {
    pub project: ProjectId,
    pub version: u32,
    /// The root key term that wrapped it.
    pub root_term: u32,
    /// The wrapped key (see `hierarchy::blob`).
    pub wrapped: Vec<u8>,
    pub created_at: i64,
}

/// A stored managed object. Dates are Unix seconds. The indexed columns are
/// copies of values inside `attributes`; `mac` covers all of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRecord {
    pub id: ObjectId,
    pub project: ProjectId,
    pub revision: i64,
    pub object_type: u32,
    pub name: Option<String>,
    pub algorithm: Option<u32>,
    pub state: u32,
    pub initial_date: i64,
    pub activation_date: Option<i64>,
    pub deactivation_date: Option<i64>,
    pub destroy_date: Option<i64>,
    pub last_change_date: i64,
    /// The full attribute set, JSON.
    pub attributes: Vec<u8>,
    /// The wrapped key material; `None` once destroyed.
    pub material: Option<Vec<u8>>,
    /// The project key version that wrapped `material` and keys `mac`.
    pub kek_version: u32,
    /// MAC over every other field, computed by the service.
    pub mac: Vec<u8>,
}

/// A front-end record: a small JSON document a front end keeps in a
/// project under `(kind, key)` (the KMIP client registry, the KMIP CA's
/// state, identities). Never a secret. `mac` covers every other field and
/// is keyed from the project key version `kek_version`; the service computes
/// and checks it (see `service::records`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRow {
    pub project: ProjectId,
    pub kind: String,
    pub key: String,
    /// 1 when created, one more at each update.
    pub revision: i64,
    pub value: Vec<u8>,
    pub kek_version: u32,
    pub mac: Vec<u8>,
}

/// Names one record and the revision a delete expects to find.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordKey {
    pub project: ProjectId,
    pub kind: String,
    pub key: String,
    pub revision: i64,
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "record {}/{} in project {}",
            self.kind, self.key, self.project
        )
    }
}

impl RecordRow {
    /// The name of this row, for messages.
    pub fn describe(&self) -> String {
        format!(
            "record {}/{} in project {}",
            self.kind, self.key, self.project
        )
    }
}

/// One row write.
#[derive(Clone, Debug)]
pub enum Write {
    InsertOrganization(OrganizationRecord),
    InsertProject(ProjectRecord),
    InsertProjectKey(ProjectKeyRecord),
    /// Replaces a project key version's wrapped blob (root rotation re-wraps).
    RewrapProjectKey(ProjectKeyRecord),
    /// Fails with [`StoreError::AlreadyExists`] if the id is taken.
    InsertObject(ObjectRecord),
    /// Fails with [`StoreError::Conflict`] unless the stored revision is
    /// `record.revision - 1`.
    UpdateObject(ObjectRecord),
    /// Revision 1 inserts (failing with [`StoreError::AlreadyExists`] if the
    /// record exists); a later revision replaces the stored row only if its
    /// revision is `record.revision - 1`, else [`StoreError::RecordConflict`].
    PutRecord(RecordRow),
    /// Deletes a record if its stored revision is the one named, else
    /// [`StoreError::RecordConflict`].
    DeleteRecord(RecordKey),
}

/// A commit that did not happen: why, and the transaction when it can be
/// retried.
pub type Refused = (StoreError, Option<Transaction>);

/// Writes and the audit events that describe them, committed atomically.
#[derive(Clone, Debug, Default)]
pub struct Transaction {
    pub writes: Vec<Write>,
    pub audit: Vec<AuditEvent>,
}

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn write(mut self, w: Write) -> Self {
        self.writes.push(w);
        self
    }

    pub fn audit(mut self, e: AuditEvent) -> Self {
        self.audit.push(e);
        self
    }
}

/// A filter for [`Store::find_objects`]. Every field that is set must match.
#[derive(Clone, Debug, Default)]
pub struct ObjectQuery {
    pub project: Option<ProjectId>,
    pub name: Option<String>,
    pub object_type: Option<u32>,
    pub algorithm: Option<u32>,
    pub state: Option<u32>,
    /// Objects whose initial date is in `[from, to]`.
    pub initial_date_range: Option<(i64, i64)>,
    /// Objects with an activation date at or before this time (for the
    /// date-driven lifecycle sweep).
    pub activation_due_by: Option<i64>,
    pub deactivation_due_by: Option<i64>,
    pub offset: u64,
    /// At most this many rows; the store caps it at 10,000.
    pub limit: u64,
}

/// How [`AuditQuery::action`] matches the `action` column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionFilter {
    /// `action = value`.
    Exact(String),
    /// `action` starts with `value` (case-sensitive; `transit.` matches
    /// `transit.encrypt`, `transit.key.create`, …).
    Prefix(String),
}

/// A filter over one project's audit records, for
/// [`Store::find_audit`] and [`Store::count_audit`]. Every field that is set
/// must match. Records are those whose `project` column names `project`
/// (events without a project, such as organization creation, are never
/// returned: they belong to no project).
#[derive(Clone, Debug)]
pub struct AuditQuery {
    pub project: ProjectId,
    /// The `actor` column, exactly (`identity:<uuid>`, `kmip:<client>`, `system`).
    pub actor: Option<String>,
    pub action: Option<ActionFilter>,
    /// The `object` column, exactly (an object id, a named key id,
    /// `kind/key` of a record).
    pub object: Option<String>,
    /// Records stamped at or after this time (Unix microseconds).
    pub from_us: Option<i64>,
    /// Records stamped before this time (Unix microseconds, exclusive).
    pub to_us: Option<i64>,
    /// Only records with `seq` greater than this (keyset paging, oldest first).
    pub after_seq: Option<i64>,
    /// Newest first (the default) or oldest first.
    pub newest_first: bool,
    pub offset: u64,
    /// At most this many rows; 0 or more than [`MAX_LIMIT`] means [`MAX_LIMIT`].
    pub limit: u64,
}

impl AuditQuery {
    /// Every record of `project`, newest first, the first [`MAX_LIMIT`].
    pub fn project(project: ProjectId) -> Self {
        Self {
            project,
            actor: None,
            action: None,
            object: None,
            from_us: None,
            to_us: None,
            after_seq: None,
            newest_first: true,
            offset: 0,
            limit: 0,
        }
    }
}

/// The storage failures an operator must be told apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database unreachable: {0}")]
    Unreachable(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("object {0} was changed by another writer; retry")]
    Conflict(ObjectId),
    #[error("{0} was changed by another writer (or does not exist); re-read it and retry")]
    RecordConflict(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("the data directory or database is read-only: {0}")]
    ReadOnly(String),
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("the store is shutting down")]
    Closed,
}

/// Persistent storage of organizations, projects, project keys, objects and
/// the audit chain.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A short name for logs: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Commits `tx` durably: returns only after the database says the
    /// transaction is on disk.
    async fn commit(&self, tx: Transaction) -> Result<(), StoreError> {
        self.commit_or_return(tx).await.map_err(|(e, _)| e)
    }

    /// [`commit`](Self::commit), handing `tx` back when it was not
    /// committed, so a caller that retries needs no copy made in advance.
    /// `None` means the outcome is unknown (the writer stopped before
    /// answering) and the transaction is gone.
    async fn commit_or_return(&self, tx: Transaction) -> Result<(), Refused>;

    async fn organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<OrganizationRecord>, StoreError>;
    async fn project(&self, id: ProjectId) -> Result<Option<ProjectRecord>, StoreError>;
    async fn projects(&self) -> Result<Vec<ProjectRecord>, StoreError>;

    /// Every version of a project's key, oldest first.
    async fn project_keys(&self, project: ProjectId) -> Result<Vec<ProjectKeyRecord>, StoreError>;
    /// Project key versions wrapped under `root_term` (for root rotation).
    async fn project_keys_under_root_term(
        &self,
        root_term: u32,
    ) -> Result<Vec<ProjectKeyRecord>, StoreError>;

    /// The object, if it exists in `project`.
    async fn object(
        &self,
        project: ProjectId,
        id: ObjectId,
    ) -> Result<Option<ObjectRecord>, StoreError>;
    async fn find_objects(&self, query: &ObjectQuery) -> Result<Vec<ObjectRecord>, StoreError>;
    async fn count_objects(&self, query: &ObjectQuery) -> Result<u64, StoreError>;

    /// The record `(kind, key)` of `project`, if it exists.
    async fn record(
        &self,
        project: ProjectId,
        kind: &str,
        key: &str,
    ) -> Result<Option<RecordRow>, StoreError>;

    /// The records of one kind in `project` whose key sorts after `after`
    /// (`""` for the first page), by key, at most `limit` (capped at
    /// [`MAX_LIMIT`]; 0 means [`MAX_LIMIT`]).
    async fn records(
        &self,
        project: ProjectId,
        kind: &str,
        after: &str,
        limit: u64,
    ) -> Result<Vec<RecordRow>, StoreError>;

    /// Audit records with `seq > after`, in order, at most `limit`.
    async fn audit_records(&self, after: i64, limit: u64) -> Result<Vec<AuditRecord>, StoreError>;
    async fn audit_head(&self) -> Result<Option<ChainHead>, StoreError>;

    /// One project's audit records matching `query`, in the order it asks
    /// for, after `query.offset`, at most `query.limit` (capped at
    /// [`MAX_LIMIT`]). Served by the `(project, seq)` and
    /// `(project, object, seq)` indexes.
    async fn find_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
    /// How many records match `query` (offset, limit and order ignored).
    async fn count_audit(&self, query: &AuditQuery) -> Result<u64, StoreError>;

    /// Is the database reachable now?
    async fn ping(&self) -> Result<(), StoreError>;

    /// Flushes pending group commits and closes connections.
    async fn close(&self);
}
