//! The SQLite backend: Strongroom's embedded default.
//!
//! # Opening
//!
//! `sqlite:/var/lib/strongroom/strongroom.db` (or `sqlite://relative/path.db`,
//! `sqlite:///absolute/path.db`). The file is created if it is missing; its
//! directory is not. Before touching anything the store checks the
//! directory, so an operator gets [`StoreError::Unreachable`] ("data
//! directory … does not exist") or [`StoreError::ReadOnly`] naming the path,
//! rather than an SQLite error code. In-memory databases are refused: the
//! writer and the readers are separate connections and would each see their
//! own empty database.
//!
//! With [`StoreOptions::read_only`](super::StoreOptions::read_only) the file
//! is opened read-only, must exist, no migration runs, and every commit
//! fails with [`StoreError::ReadOnly`].
//!
//! # Durability and concurrency
//!
//! Every connection runs with `journal_mode=WAL`, `synchronous=FULL` (the
//! WAL is fsynced at every commit, so an acknowledged commit survives power
//! loss), `foreign_keys=ON` and a busy timeout
//! ([`StoreOptions::busy_timeout`](super::StoreOptions::busy_timeout)).
//! New databases get 4 KiB pages (see [`PAGE_SIZE`] for why) and check-point
//! the WAL every 4 MiB.
//!
//! * **One writer connection**, owned by the group-commit writer task (see
//!   [`group_commit`](super::group_commit)). Each batch is one
//!   `BEGIN IMMEDIATE … COMMIT`: the write lock is taken up front, so the
//!   batch can never fail half-way on a lock upgrade, and another process
//!   writing the same file waits (up to the busy timeout) instead of
//!   interleaving with the audit chain.
//! * **A pool of read connections**
//!   ([`StoreOptions::pool_size`](super::StoreOptions::pool_size), default 4)
//!   with `query_only=ON`. In WAL mode readers never block the writer and
//!   see the last committed state.
//!
//! # Keeping the commit path short
//!
//! sqlx runs each SQLite connection on its own worker thread, and every call
//! to it is a round trip between threads that costs tens of microseconds —
//! as much as the SQL itself. The writer therefore makes few calls:
//!
//! * `BEGIN IMMEDIATE` and the head read go as one call;
//! * a caller's object write and its audit record go as one call (for the
//!   shapes of nearly every commit: one `InsertObject` or `UpdateObject`
//!   plus one event);
//! * the head update and `COMMIT` go as one call;
//! * a batch holding a single such create or update, when the writer knows
//!   the head it committed last, goes as **one** call: begin, a guard
//!   statement that fails unless the head is still exactly that one (another
//!   process may have written), the writes, the new head, commit. Any failure
//!   — a moved head, a conflict, a duplicate — stops before `COMMIT`; the
//!   writer rolls back and redoes the batch the regular way, which reports
//!   the failure precisely.
//!
//! `find_objects` and `count_objects` treat a `limit` of 0 as "no
//! preference" and return at most [`MAX_LIMIT`](super::MAX_LIMIT) rows;
//! `audit_records` does the same.
//!
//! # Schema
//!
//! `migrations/sqlite/` applied with `sqlx::migrate!` at open (versioned; the
//! `_sqlx_migrations` table records what ran). Identifiers are 16-byte
//! BLOBs; numbers are INTEGERs.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Executor, QueryBuilder, Sqlite};

use super::audit_names::AuditNames;
use super::group_commit::{
    BatchConnection, ChainPosition, GroupCommit, RELEASE_SAVEPOINT, ROLLBACK, SAVEPOINT, apply_each,
};
use super::rows::{
    self, AUDIT_COLUMNS, OBJECT_COLUMNS, RECORD_COLUMNS, backend_error, write_error,
};
use super::{
    AuditQuery, ObjectQuery, ObjectRecord, OrganizationRecord, ProjectKeyRecord, ProjectRecord,
    RecordRow, Refused, Store, StoreError, StoreOptions, Transaction, Write,
};
use crate::audit::{AuditChain, AuditEvent, AuditRecord, ChainHead, LinkedEvent};
use crate::ids::{ObjectId, OrganizationId, ProjectId};

/// The page size of a new database: SQLite's default. A commit writes one
/// WAL frame per page it touches, so smaller pages make a lone create's
/// commit smaller; but the key-use audit log appends hundreds of rows per
/// commit, and with 1 KiB pages every four rows split a table page and
/// every dozen an index page. Measured here: 4 KiB pages cut the audit
/// writer's CPU per record by a fifth, and KMIP Create (16 connections) did
/// not change (6,836/s at 1 KiB, 6,996/s at 4 KiB). Existing databases keep
/// the page size they were created with.
pub const PAGE_SIZE: u32 = 4096;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite [`Store`]. Open it with [`super::open`] or [`SqliteStore::open`].
pub struct SqliteStore {
    path: PathBuf,
    readers: SqlitePool,
    writer: Option<GroupCommit>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("read_only", &self.writer.is_none())
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed, unless read-only) and migrates the database
    /// at `url`, then starts the writer.
    pub async fn open(
        url: &str,
        chain: Arc<AuditChain>,
        options: &StoreOptions,
    ) -> Result<Self, StoreError> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unreachable(format!("invalid SQLite URL: {e}")))?;
        let path = base.get_filename().to_path_buf();
        let in_memory = path.to_string_lossy().starts_with("file:sqlx-in-memory-")
            || url
                .split_once('?')
                .is_some_and(|(_, q)| q.contains("mode=memory"));
        if path.as_os_str().is_empty() || in_memory {
            return Err(StoreError::Unreachable(
                "in-memory SQLite databases are not supported: give the store a file path".into(),
            ));
        }
        check_location(&path, options.read_only)?;

        let base = base
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            .thread_name(|i| format!("sqlite-{i}"));

        if options.read_only {
            let readers = read_pool(base.read_only(true), options, &path).await?;
            return Ok(Self {
                path,
                readers,
                writer: None,
            });
        }

        let base = base
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .page_size(PAGE_SIZE)
            // SQLite's default: checkpoint after 1,000 pages (4 MiB).
            .pragma("wal_autocheckpoint", "1000");
        let writer_options = base.clone().create_if_missing(true);
        let mut conn = writer_options
            .connect()
            .await
            .map_err(|e| open_error(e, &path))?;
        restrict_to_owner(&path);
        MIGRATOR.run(&mut conn).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => open_error(e, &path),
            other => StoreError::Migration(format!("{}: {other}", path.display())),
        })?;

        let readers = read_pool(base.pragma("query_only", "ON"), options, &path).await?;
        let writer = GroupCommit::start(
            SqliteWriter {
                options: writer_options,
                conn: Some(conn),
                committed_head: None,
                batch_start_head: None,
                names: AuditNames::default(),
            },
            chain,
            options.max_batch,
            options.queue_depth,
        );
        Ok(Self {
            path,
            readers,
            writer: Some(writer),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn fetch_all<'q>(
        &self,
        q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    ) -> Result<Vec<SqliteRow>, StoreError> {
        q.fetch_all(&self.readers).await.map_err(backend_error)
    }
}

/// The database holds only wrapped key material and authenticated rows, but
/// still nobody else has any business reading it: SQLite creates its files
/// with the umask (usually 0644), so narrow them to the owner.
fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = std::path::PathBuf::from(file);
            if let Ok(meta) = std::fs::metadata(&file)
                && meta.permissions().mode() & 0o077 != 0
                && let Err(e) =
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
            {
                tracing::warn!(file = %file.display(), error = %e, "could not restrict database file to its owner");
            }
        }
    }
}

/// Checks the data directory before SQLite gets a chance to report
/// `unable to open database file`.
fn check_location(path: &Path, read_only: bool) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(StoreError::Unreachable(format!(
                "{} is not a directory (database {})",
                dir.display(),
                path.display()
            )));
        }
        Err(e) => {
            return Err(StoreError::Unreachable(format!(
                "data directory {} does not exist or cannot be read ({e}); create it before \
                 starting Strongroom (database {})",
                dir.display(),
                path.display()
            )));
        }
    }
    if read_only {
        if !path.exists() {
            return Err(StoreError::Unreachable(format!(
                "database {} does not exist (opened read-only, so it is not created)",
                path.display()
            )));
        }
        return Ok(());
    }
    // WAL mode creates `-wal` and `-shm` files next to the database, so the
    // directory itself must be writable, not only the file. The mode bits
    // are checked explicitly because root passes every permission check.
    let dir_read_only = std::fs::metadata(&dir)
        .map(|m| m.permissions().readonly())
        .unwrap_or(false);
    if dir_read_only {
        return Err(StoreError::ReadOnly(format!(
            "data directory {} is not writable (database {})",
            dir.display(),
            path.display()
        )));
    }
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().readonly() {
            return Err(StoreError::ReadOnly(format!(
                "database file {} is not writable",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Maps an error while opening: a read-only file system or permission
/// problem names the path.
fn open_error(e: sqlx::Error, path: &Path) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        let primary = db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff);
        match primary {
            // SQLITE_READONLY, SQLITE_PERM
            Some(8) | Some(3) => {
                return StoreError::ReadOnly(format!("{}: {}", path.display(), db.message()));
            }
            // SQLITE_CANTOPEN
            Some(14) => {
                return StoreError::Unreachable(format!(
                    "cannot open database {}: {}",
                    path.display(),
                    db.message()
                ));
            }
            _ => {}
        }
    }
    match backend_error(e) {
        StoreError::Backend(m) => StoreError::Backend(format!("{}: {m}", path.display())),
        StoreError::Unreachable(m) => StoreError::Unreachable(format!("{}: {m}", path.display())),
        other => other,
    }
}

async fn read_pool(
    options: SqliteConnectOptions,
    store: &StoreOptions,
    path: &Path,
) -> Result<SqlitePool, StoreError> {
    SqlitePoolOptions::new()
        .max_connections(store.pool_size.max(1))
        .min_connections(1)
        .acquire_timeout(store.busy_timeout.max(store.connect_timeout))
        .connect_with(options)
        .await
        .map_err(|e| open_error(e, path))
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn commit_or_return(&self, tx: Transaction) -> Result<(), Refused> {
        match &self.writer {
            Some(w) => w.commit(tx).await,
            None => Err((
                StoreError::ReadOnly(format!("{} was opened read-only", self.path.display())),
                Some(tx),
            )),
        }
    }

    async fn organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        let q = sqlx::query("SELECT id, name, created_at FROM organizations WHERE id = ?1")
            .bind(id.as_bytes().as_slice());
        self.fetch_all(q)
            .await?
            .first()
            .map(rows::organization)
            .transpose()
    }

    async fn project(&self, id: ProjectId) -> Result<Option<ProjectRecord>, StoreError> {
        let q =
            sqlx::query("SELECT id, organization, name, created_at FROM projects WHERE id = ?1")
                .bind(id.as_bytes().as_slice());
        self.fetch_all(q)
            .await?
            .first()
            .map(rows::project)
            .transpose()
    }

    async fn projects(&self) -> Result<Vec<ProjectRecord>, StoreError> {
        let q = sqlx::query(
            "SELECT id, organization, name, created_at FROM projects ORDER BY created_at, id",
        );
        self.fetch_all(q).await?.iter().map(rows::project).collect()
    }

    async fn project_keys(&self, project: ProjectId) -> Result<Vec<ProjectKeyRecord>, StoreError> {
        let q = sqlx::query(
            "SELECT project, version, root_term, wrapped, created_at FROM project_keys \
             WHERE project = ?1 ORDER BY version",
        )
        .bind(project.as_bytes().as_slice());
        self.fetch_all(q)
            .await?
            .iter()
            .map(rows::project_key)
            .collect()
    }

    async fn project_keys_under_root_term(
        &self,
        root_term: u32,
    ) -> Result<Vec<ProjectKeyRecord>, StoreError> {
        let q = sqlx::query(
            "SELECT project, version, root_term, wrapped, created_at FROM project_keys \
             WHERE root_term = ?1 ORDER BY project, version",
        )
        .bind(i64::from(root_term));
        self.fetch_all(q)
            .await?
            .iter()
            .map(rows::project_key)
            .collect()
    }

    async fn object(
        &self,
        project: ProjectId,
        id: ObjectId,
    ) -> Result<Option<ObjectRecord>, StoreError> {
        let sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE id = ?1 AND project = ?2");
        let q = sqlx::query(&sql)
            .bind(id.as_bytes().as_slice())
            .bind(project.as_bytes().as_slice());
        self.fetch_all(q)
            .await?
            .first()
            .map(rows::object)
            .transpose()
    }

    async fn find_objects(&self, query: &ObjectQuery) -> Result<Vec<ObjectRecord>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {OBJECT_COLUMNS} FROM objects"));
        rows::push_object_filters!(&mut qb, query);
        qb.push(" ORDER BY initial_date, id LIMIT ")
            .push_bind(rows::effective_limit(query.limit))
            .push(" OFFSET ")
            .push_bind(rows::offset_param(query.offset));
        let found = qb
            .build()
            .fetch_all(&self.readers)
            .await
            .map_err(backend_error)?;
        found.iter().map(rows::object).collect()
    }

    async fn count_objects(&self, query: &ObjectQuery) -> Result<u64, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) AS n FROM objects");
        rows::push_object_filters!(&mut qb, query);
        let row = qb
            .build()
            .fetch_one(&self.readers)
            .await
            .map_err(backend_error)?;
        rows::count(&row)
    }

    async fn record(
        &self,
        project: ProjectId,
        kind: &str,
        key: &str,
    ) -> Result<Option<RecordRow>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE project = ?1 AND kind = ?2 AND key = ?3"
        );
        let q = sqlx::query(&sql)
            .bind(project.as_bytes().as_slice())
            .bind(kind)
            .bind(key);
        self.fetch_all(q)
            .await?
            .first()
            .map(rows::record)
            .transpose()
    }

    async fn records(
        &self,
        project: ProjectId,
        kind: &str,
        after: &str,
        limit: u64,
    ) -> Result<Vec<RecordRow>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE project = ?1 AND kind = ?2 \
             AND key > ?3 ORDER BY key LIMIT ?4"
        );
        let q = sqlx::query(&sql)
            .bind(project.as_bytes().as_slice())
            .bind(kind)
            .bind(after)
            .bind(rows::effective_limit(limit));
        self.fetch_all(q).await?.iter().map(rows::record).collect()
    }

    async fn audit_records(&self, after: i64, limit: u64) -> Result<Vec<AuditRecord>, StoreError> {
        let sql =
            format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2");
        let q = sqlx::query(&sql)
            .bind(after)
            .bind(rows::effective_limit(limit));
        self.fetch_all(q)
            .await?
            .iter()
            .map(rows::audit_record)
            .collect()
    }

    async fn find_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_log"));
        rows::push_audit_filters!(&mut qb, query);
        rows::push_audit_page!(&mut qb, query);
        let found = qb
            .build()
            .fetch_all(&self.readers)
            .await
            .map_err(backend_error)?;
        found.iter().map(rows::audit_record).collect()
    }

    async fn count_audit(&self, query: &AuditQuery) -> Result<u64, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) AS n FROM audit_log");
        rows::push_audit_filters!(&mut qb, query);
        let row = qb
            .build()
            .fetch_one(&self.readers)
            .await
            .map_err(backend_error)?;
        rows::count(&row)
    }

    async fn audit_head(&self) -> Result<Option<ChainHead>, StoreError> {
        let q = sqlx::query("SELECT seq, hash, mac FROM audit_head WHERE id = 1");
        match self.fetch_all(q).await?.first() {
            Some(row) => rows::audit_head(row),
            None => Err(StoreError::Corrupt("audit_head: the row is missing".into())),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.readers)
            .await
            .map(|_| ())
            .map_err(backend_error)
    }

    async fn close(&self) {
        if let Some(w) = &self.writer {
            w.close().await;
        }
        self.readers.close().await;
    }
}

/// The writer task's connection.
struct SqliteWriter {
    options: SqliteConnectOptions,
    conn: Option<SqliteConnection>,
    /// The head this writer last committed or saw at the start of a batch
    /// it committed; `None` when unknown (startup, after any failure). It
    /// lets [`BatchConnection::commit_one`] skip reading the head: the
    /// single call checks, before anything else, that the head is still
    /// exactly this, and fails (and falls back) if not.
    committed_head: Option<ChainHead>,
    /// The head read by the current batch's `begin`.
    batch_start_head: Option<ChainHead>,
    /// Ids of `audit_names` rows, for the bulk audit insert.
    names: AuditNames,
}

impl SqliteWriter {
    fn conn(&mut self) -> Result<&mut SqliteConnection, StoreError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::Backend("the writer has no connection".into()))
    }

    /// Inserts audit records into `audit_entries` in multi-row statements
    /// of the sizes [`chunk_rows`] picks, so every statement is one of a
    /// few, each prepared once and cached. Strings are bound as their
    /// `audit_names` ids.
    async fn append_many(&mut self, records: &[LinkedEvent<'_>]) -> Result<(), StoreError> {
        let mut ids = Vec::with_capacity(records.len());
        for r in records {
            ids.push(self.name_ids(r.event).await?);
        }
        let mut done = 0;
        while done < records.len() {
            let rows = chunk_rows(records.len() - done);
            let chunk = records.get(done..done + rows).unwrap_or_default();
            let chunk_ids = ids.get(done..done + rows).unwrap_or_default();
            done += rows;
            let mut q = sqlx::query(insert_audit_rows_sql(rows));
            for (r, ids) in chunk.iter().zip(chunk_ids) {
                q = bind_audit_entry(q, r, ids);
            }
            let conn = self.conn()?;
            let first = chunk.first().map_or(0, |r| r.seq);
            q.execute(&mut *conn)
                .await
                .map_err(|e| rows::audit_error(e, first))?;
        }
        Ok(())
    }

    /// The `audit_names` ids of an event's strings, in column order.
    async fn name_ids(&mut self, e: &AuditEvent) -> Result<NameIds, StoreError> {
        Ok(NameIds {
            actor: self.name_id(&e.actor).await?,
            action: self.name_id(&e.action).await?,
            object: self.optional_name_id(e.object.as_deref()).await?,
            project: self.optional_name_id(e.project.as_deref()).await?,
            result: self.name_id(&e.result).await?,
            source: self.optional_name_id(e.source.as_deref()).await?,
        })
    }

    async fn optional_name_id(&mut self, name: Option<&str>) -> Result<Option<i64>, StoreError> {
        match name {
            Some(name) => self.name_id(name).await.map(Some),
            None => Ok(None),
        }
    }

    /// The id of `name`, inserting it (in the batch's transaction) if new.
    async fn name_id(&mut self, name: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.names.get(name) {
            return Ok(id);
        }
        let conn = self.conn()?;
        let id: i64 = sqlx::query_scalar(UPSERT_AUDIT_NAME)
            .bind(name)
            .fetch_one(&mut *conn)
            .await
            .map_err(backend_error)?;
        self.names.add_pending(name, id);
        Ok(id)
    }
}

const INSERT_RECORD: &str = "INSERT INTO records \
     (project, kind, key, revision, value, kek_version, mac) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const UPDATE_RECORD: &str = "UPDATE records SET revision = ?4, value = ?5, \
     kek_version = ?6, mac = ?7 \
     WHERE project = ?1 AND kind = ?2 AND key = ?3 AND revision = ?8";
const DELETE_RECORD: &str = "DELETE FROM records \
     WHERE project = ?1 AND kind = ?2 AND key = ?3 AND revision = ?4";

/// Binds the 7 columns of a record row, in [`RECORD_COLUMNS`] order.
fn bind_record<'q>(
    q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    r: &'q RecordRow,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    q.bind(r.project.as_bytes().as_slice())
        .bind(r.kind.as_str())
        .bind(r.key.as_str())
        .bind(r.revision)
        .bind(r.value.as_slice())
        .bind(i64::from(r.kek_version))
        .bind(r.mac.as_slice())
}

const INSERT_ORGANIZATION: &str =
    "INSERT INTO organizations (id, name, created_at) VALUES (?1, ?2, ?3)";
const INSERT_PROJECT: &str =
    "INSERT INTO projects (id, organization, name, created_at) VALUES (?1, ?2, ?3, ?4)";
const INSERT_PROJECT_KEY: &str = "INSERT INTO project_keys \
     (project, version, root_term, wrapped, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
const REWRAP_PROJECT_KEY: &str =
    "UPDATE project_keys SET wrapped = ?1, root_term = ?2 WHERE project = ?3 AND version = ?4";
const INSERT_OBJECT: &str = "INSERT INTO objects (id, project, revision, object_type, name, \
     algorithm, state, initial_date, activation_date, deactivation_date, destroy_date, \
     last_change_date, attributes, material, kek_version, mac) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
const UPDATE_OBJECT: &str = "UPDATE objects SET revision = ?3, object_type = ?4, name = ?5, \
     algorithm = ?6, state = ?7, initial_date = ?8, activation_date = ?9, \
     deactivation_date = ?10, destroy_date = ?11, last_change_date = ?12, attributes = ?13, \
     material = ?14, kek_version = ?15, mac = ?16 \
     WHERE id = ?1 AND project = ?2 AND revision = ?17";
const INSERT_AUDIT: &str = "INSERT INTO audit_log \
     (seq, time_us, actor, action, object, project, result, source, prev_hash, hash) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
// Statements that run several SQL statements in one call number their
// parameters `$N`, not `?N`: sqlx binds `$N` by name in every statement,
// while a `?17` leaves slots 1–16 of its statement unnamed, which sqlx fills
// positionally from the arguments left over by earlier statements.

/// Two statements, one call: the head update and the commit. If the update
/// fails the commit does not run, and the writer rolls back.
const SET_HEAD_AND_COMMIT: &str =
    "UPDATE audit_head SET seq = $1, hash = $2, mac = $3 WHERE id = 1; COMMIT";
/// `BEGIN IMMEDIATE` takes the write lock now, not at the first write.
const BEGIN_AND_READ_HEAD: &str =
    "BEGIN IMMEDIATE; SELECT seq, hash, mac FROM audit_head WHERE id = 1";

/// The head before the first record.
fn genesis_head() -> ChainHead {
    ChainHead {
        seq: 0,
        hash: crate::audit::GENESIS,
        mac: Vec::new(),
    }
}

/// Fails (a duplicate `audit_head` row) unless the head is exactly the one
/// bound as the three given parameters.
macro_rules! head_guard {
    ($seq:literal, $hash:literal, $mac:literal) => {
        concat!(
            "INSERT INTO audit_head (id, seq, hash, mac) SELECT 1, 0, X'', X'' \
             WHERE NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND seq = $",
            $seq,
            " AND hash = $",
            $hash,
            " AND mac = $",
            $mac,
            ")"
        )
    };
}

/// A whole create — object, audit record, head — as one call to the
/// worker thread, from a known head: begin, check the head is the one this
/// writer committed last (fails otherwise), insert, append, move the head,
/// commit. Any failure stops before `COMMIT`.
const CREATE_IN_ONE_CALL: &str = concat!(
    "BEGIN IMMEDIATE; ",
    head_guard!("27", "28", "29"),
    "; INSERT INTO objects (id, project, revision, object_type, name, algorithm, state, \
     initial_date, activation_date, deactivation_date, destroy_date, last_change_date, \
     attributes, material, kek_version, mac) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16); \
     INSERT INTO audit_log \
     (seq, time_us, actor, action, object, project, result, source, prev_hash, hash) \
     VALUES ($17, $18, $19, $20, $21, $22, $23, $24, $25, $26); \
     UPDATE audit_head SET seq = $30, hash = $31, mac = $32 WHERE id = 1; \
     COMMIT"
);

/// A whole conditional update the same way. An update that changes no row
/// (a conflict) makes the statement after it fail (a duplicate
/// `audit_head` row), so nothing is committed and the regular path reports
/// the conflict.
const UPDATE_IN_ONE_CALL: &str = concat!(
    "BEGIN IMMEDIATE; ",
    head_guard!("28", "29", "30"),
    "; UPDATE objects SET revision = $3, object_type = $4, name = $5, algorithm = $6, \
     state = $7, initial_date = $8, activation_date = $9, deactivation_date = $10, \
     destroy_date = $11, last_change_date = $12, attributes = $13, material = $14, \
     kek_version = $15, mac = $16 \
     WHERE id = $1 AND project = $2 AND revision = $17; \
     INSERT INTO audit_head (id, seq, hash, mac) SELECT 1, 0, X'', X'' WHERE changes() = 0; \
     INSERT INTO audit_log \
     (seq, time_us, actor, action, object, project, result, source, prev_hash, hash) \
     VALUES ($18, $19, $20, $21, $22, $23, $24, $25, $26, $27); \
     UPDATE audit_head SET seq = $31, hash = $32, mac = $33 WHERE id = 1; \
     COMMIT"
);

/// An object insert and its audit record, in one call.
const INSERT_OBJECT_AUDITED: &str = "INSERT INTO objects (id, project, revision, object_type, \
     name, algorithm, state, initial_date, activation_date, deactivation_date, destroy_date, \
     last_change_date, attributes, material, kek_version, mac) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16); \
     INSERT INTO audit_log \
     (seq, time_us, actor, action, object, project, result, source, prev_hash, hash) \
     VALUES ($17, $18, $19, $20, $21, $22, $23, $24, $25, $26)";
/// A conditional object update and its audit record, in one call. The
/// record is inserted only if the update changed a row (`changes()` is the
/// previous statement's count), so 0 rows in all means a conflict.
const UPDATE_OBJECT_AUDITED: &str = "UPDATE objects SET revision = $3, object_type = $4, \
     name = $5, algorithm = $6, state = $7, initial_date = $8, activation_date = $9, \
     deactivation_date = $10, destroy_date = $11, last_change_date = $12, attributes = $13, \
     material = $14, kek_version = $15, mac = $16 \
     WHERE id = $1 AND project = $2 AND revision = $17; \
     INSERT INTO audit_log \
     (seq, time_us, actor, action, object, project, result, source, prev_hash, hash) \
     SELECT $18, $19, $20, $21, $22, $23, $24, $25, $26, $27 WHERE changes() = 1";

/// Most rows per multi-row audit insert: 9 parameters each, far below
/// SQLite's 32,766-parameter limit.
const AUDIT_CHUNK: usize = 128;

/// Rows per step below [`AUDIT_CHUNK`]: the rest of a batch goes as one
/// statement of a multiple of this, then one of what is left.
const AUDIT_STEP: usize = 16;

/// The rows of the next chunk of a `left`-record insert: [`AUDIT_CHUNK`],
/// else the largest multiple of [`AUDIT_STEP`] that fits, else all that is
/// left. So a batch takes at most two statements past its full chunks
/// (each one a round trip to SQLite's worker thread, and a wake-up of it),
/// and there are only 24 statement shapes, each prepared once and cached,
/// instead of one odd-sized statement compiled per batch.
fn chunk_rows(left: usize) -> usize {
    if left >= AUDIT_CHUNK {
        AUDIT_CHUNK
    } else if left >= AUDIT_STEP {
        left - left % AUDIT_STEP
    } else {
        left.max(1)
    }
}

/// `INSERT INTO audit_entries … VALUES (…), (…), …` for `rows` rows (a
/// size [`chunk_rows`] returns).
fn insert_audit_rows_sql(rows: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    let all = SQL.get_or_init(|| {
        (0..=AUDIT_CHUNK)
            .map(|n| {
                if n == 0 || (n > AUDIT_STEP && n % AUDIT_STEP != 0) {
                    return String::new();
                }
                let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; n].join(", ");
                format!(
                    "INSERT INTO audit_entries (seq, time_us, actor, action, object, project, \
                     result, source, hash) VALUES {values}"
                )
            })
            .collect()
    });
    all.get(rows)
        .filter(|sql| !sql.is_empty())
        .map_or(INSERT_AUDIT_ENTRY, String::as_str)
}

const INSERT_AUDIT_ENTRY: &str = "INSERT INTO audit_entries \
     (seq, time_us, actor, action, object, project, result, source, hash) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Inserts a name if new and returns its id either way (the no-op update
/// makes `RETURNING` answer for an existing row too).
const UPSERT_AUDIT_NAME: &str = "INSERT INTO audit_names (name) VALUES (?1) \
     ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id";

/// An event's strings as `audit_names` ids.
struct NameIds {
    actor: i64,
    action: i64,
    object: Option<i64>,
    project: Option<i64>,
    result: i64,
    source: Option<i64>,
}

/// Binds an `audit_entries` row: the record's numbers and hash (the
/// previous hash is not stored, see migration 0005), its strings as ids.
fn bind_audit_entry<'q>(
    q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    r: &'q LinkedEvent<'q>,
    ids: &NameIds,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    q.bind(r.seq)
        .bind(r.event.time_us)
        .bind(ids.actor)
        .bind(ids.action)
        .bind(ids.object)
        .bind(ids.project)
        .bind(ids.result)
        .bind(ids.source)
        .bind(r.hash.as_slice())
}

/// Binds the 10 columns of an audit record, in [`AUDIT_COLUMNS`] order.
fn bind_audit<'q>(
    q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    r: &'q LinkedEvent<'q>,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    q.bind(r.seq)
        .bind(r.event.time_us)
        .bind(r.event.actor.as_str())
        .bind(r.event.action.as_str())
        .bind(r.event.object.as_deref())
        .bind(r.event.project.as_deref())
        .bind(r.event.result.as_str())
        .bind(r.event.source.as_deref())
        .bind(r.prev_hash.as_slice())
        .bind(r.hash.as_slice())
}

/// Binds the 16 columns of an object row, in [`OBJECT_COLUMNS`] order.
fn bind_object<'q>(
    q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    r: &'q ObjectRecord,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    q.bind(r.id.as_bytes().as_slice())
        .bind(r.project.as_bytes().as_slice())
        .bind(r.revision)
        .bind(i64::from(r.object_type))
        .bind(r.name.as_deref())
        .bind(r.algorithm.map(i64::from))
        .bind(i64::from(r.state))
        .bind(r.initial_date)
        .bind(r.activation_date)
        .bind(r.deactivation_date)
        .bind(r.destroy_date)
        .bind(r.last_change_date)
        .bind(r.attributes.as_slice())
        .bind(r.material.as_deref())
        .bind(i64::from(r.kek_version))
        .bind(r.mac.as_slice())
}

#[async_trait]
impl BatchConnection for SqliteWriter {
    async fn begin(&mut self, chain: &AuditChain) -> Result<ChainPosition, StoreError> {
        if self.conn.is_none() {
            let conn = self.options.connect().await.map_err(backend_error)?;
            self.conn = Some(conn);
        }
        let conn = self.conn()?;
        // Both statements in one call to the connection's worker thread.
        let found = conn
            .fetch_all(BEGIN_AND_READ_HEAD)
            .await
            .map_err(backend_error)?;
        let row = found
            .first()
            .ok_or_else(|| StoreError::Corrupt("audit_head: the row is missing".into()))?;
        self.committed_head = None;
        let position = rows::writable_position(row, chain)?;
        self.batch_start_head = Some(match rows::audit_head(row)? {
            Some(head) => head,
            None => genesis_head(),
        });
        Ok(position)
    }

    async fn control(&mut self, sql: &'static str) -> Result<(), StoreError> {
        if sql != SAVEPOINT && sql != RELEASE_SAVEPOINT {
            // A rollback, whole or to a savepoint: names written since may
            // be gone.
            self.names.forget_pending();
        }
        let conn = self.conn()?;
        sqlx::query(sql)
            .execute(&mut *conn)
            .await
            .map(|_| ())
            .map_err(backend_error)
    }

    async fn apply(
        &mut self,
        writes: &[Write],
        records: &[LinkedEvent<'_>],
    ) -> Result<(), StoreError> {
        // The two shapes of nearly every commit (create, and a lifecycle
        // change) go to the worker thread as one call, not two.
        match (writes, records) {
            ([Write::InsertObject(r)], [a]) => {
                let conn = self.conn()?;
                bind_audit(bind_object(sqlx::query(INSERT_OBJECT_AUDITED), r), a)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| rows::object_and_audit_error(e, r, a.seq))
            }
            ([Write::UpdateObject(r)], [a]) => {
                let Some(expected) = r.revision.checked_sub(1) else {
                    return Err(StoreError::Conflict(r.id));
                };
                let conn = self.conn()?;
                let done = bind_audit(
                    bind_object(sqlx::query(UPDATE_OBJECT_AUDITED), r).bind(expected),
                    a,
                )
                .execute(&mut *conn)
                .await
                .map_err(|e| rows::object_and_audit_error(e, r, a.seq))?;
                // The record is inserted only if the update changed the row.
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(r.id));
                }
                Ok(())
            }
            // Audit-only transactions (the key-use audit queue sends
            // thousands of records at once): multi-row inserts, one call to
            // the worker thread per chunk instead of one per record.
            ([], records) if records.len() > 1 => self.append_many(records).await,
            _ => apply_each(self, writes, records).await,
        }
    }

    async fn write(&mut self, write: &Write) -> Result<(), StoreError> {
        let conn = self.conn()?;
        match write {
            Write::InsertOrganization(r) => sqlx::query(INSERT_ORGANIZATION)
                .bind(r.id.as_bytes().as_slice())
                .bind(r.name.as_str())
                .bind(r.created_at)
                .execute(&mut *conn)
                .await
                .map(|_| ())
                .map_err(|e| write_error(e, &format!("organization {}", r.id), None)),
            Write::InsertProject(r) => sqlx::query(INSERT_PROJECT)
                .bind(r.id.as_bytes().as_slice())
                .bind(r.organization.as_bytes().as_slice())
                .bind(r.name.as_str())
                .bind(r.created_at)
                .execute(&mut *conn)
                .await
                .map(|_| ())
                .map_err(|e| {
                    write_error(
                        e,
                        &format!("project {}", r.id),
                        Some(&format!("organization {}", r.organization)),
                    )
                }),
            Write::InsertProjectKey(r) => sqlx::query(INSERT_PROJECT_KEY)
                .bind(r.project.as_bytes().as_slice())
                .bind(i64::from(r.version))
                .bind(i64::from(r.root_term))
                .bind(r.wrapped.as_slice())
                .bind(r.created_at)
                .execute(&mut *conn)
                .await
                .map(|_| ())
                .map_err(|e| {
                    write_error(
                        e,
                        &format!("project key {} version {}", r.project, r.version),
                        Some(&format!("project {}", r.project)),
                    )
                }),
            Write::RewrapProjectKey(r) => {
                let done = sqlx::query(REWRAP_PROJECT_KEY)
                    .bind(r.wrapped.as_slice())
                    .bind(i64::from(r.root_term))
                    .bind(r.project.as_bytes().as_slice())
                    .bind(i64::from(r.version))
                    .execute(&mut *conn)
                    .await
                    .map_err(backend_error)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!(
                        "project key {} version {}",
                        r.project, r.version
                    )));
                }
                Ok(())
            }
            Write::InsertObject(r) => bind_object(sqlx::query(INSERT_OBJECT), r)
                .execute(&mut *conn)
                .await
                .map(|_| ())
                .map_err(|e| {
                    write_error(
                        e,
                        &format!("object {}", r.id),
                        Some(&format!("project {}", r.project)),
                    )
                }),
            Write::UpdateObject(r) => {
                let Some(expected) = r.revision.checked_sub(1) else {
                    return Err(StoreError::Conflict(r.id));
                };
                let done = bind_object(sqlx::query(UPDATE_OBJECT), r)
                    .bind(expected)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend_error)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(r.id));
                }
                Ok(())
            }
            Write::PutRecord(r) if r.revision == 1 => bind_record(sqlx::query(INSERT_RECORD), r)
                .execute(&mut *conn)
                .await
                .map(|_| ())
                .map_err(|e| {
                    write_error(e, &r.describe(), Some(&format!("project {}", r.project)))
                }),
            Write::PutRecord(r) => {
                let Some(expected) = r.revision.checked_sub(1).filter(|e| *e >= 1) else {
                    return Err(StoreError::RecordConflict(r.describe()));
                };
                let done = bind_record(sqlx::query(UPDATE_RECORD), r)
                    .bind(expected)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend_error)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::RecordConflict(r.describe()));
                }
                Ok(())
            }
            Write::DeleteRecord(k) => {
                let done = sqlx::query(DELETE_RECORD)
                    .bind(k.project.as_bytes().as_slice())
                    .bind(k.kind.as_str())
                    .bind(k.key.as_str())
                    .bind(k.revision)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend_error)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::RecordConflict(k.to_string()));
                }
                Ok(())
            }
        }
    }

    async fn append(&mut self, r: &LinkedEvent<'_>) -> Result<(), StoreError> {
        let conn = self.conn()?;
        bind_audit(sqlx::query(INSERT_AUDIT), r)
            .execute(&mut *conn)
            .await
            .map(|_| ())
            .map_err(|e| rows::audit_error(e, r.seq))
    }

    async fn finish(&mut self, head: Option<&ChainHead>) -> Result<(), StoreError> {
        let conn = self.conn()?;
        let done = match head {
            Some(head) => {
                sqlx::query(SET_HEAD_AND_COMMIT)
                    .bind(head.seq)
                    .bind(head.hash.as_slice())
                    .bind(head.mac.as_slice())
                    .execute(&mut *conn)
                    .await
            }
            None => sqlx::query("COMMIT").execute(&mut *conn).await,
        };
        let start = self.batch_start_head.take();
        match done {
            Ok(_) => {
                self.committed_head = head.cloned().or(start);
                self.names.commit();
                Ok(())
            }
            Err(e) => {
                self.committed_head = None;
                self.names.forget_pending();
                Err(backend_error(e))
            }
        }
    }

    async fn commit_one(
        &mut self,
        chain: &AuditChain,
        tx: &Transaction,
    ) -> Option<Result<(), StoreError>> {
        let (sql, write, event) = match (&tx.writes[..], &tx.audit[..]) {
            ([w @ Write::InsertObject(_)], [e]) => (CREATE_IN_ONE_CALL, w, e),
            ([w @ Write::UpdateObject(_)], [e]) => (UPDATE_IN_ONE_CALL, w, e),
            _ => return None,
        };
        let prev = self.committed_head.take()?;
        let record = chain.link_ref(prev.seq, prev.hash, event);
        let head = chain.seal_head(record.seq, &record.hash);
        let conn = self.conn.as_mut()?;
        let q = match write {
            Write::InsertObject(r) => bind_audit(bind_object(sqlx::query(sql), r), &record),
            Write::UpdateObject(r) => {
                let expected = r.revision.checked_sub(1)?;
                bind_audit(bind_object(sqlx::query(sql), r).bind(expected), &record)
            }
            _ => return None,
        };
        let done = q
            .bind(prev.seq)
            .bind(prev.hash.as_slice())
            .bind(prev.mac.as_slice())
            .bind(head.seq)
            .bind(head.hash.as_slice())
            .bind(head.mac.as_slice())
            .execute(&mut *conn)
            .await;
        match done {
            Ok(_) => {
                self.committed_head = Some(head);
                Some(Ok(()))
            }
            Err(e) => {
                tracing::trace!(error = %e, "single-call commit fell back to the regular path");
                // Whatever failed (a conflict, a duplicate, a moved head),
                // nothing was committed: the statements stop at the first
                // error, before COMMIT. The regular path redoes the work
                // and reports precisely. "No transaction is active" is the
                // expected answer when BEGIN itself failed.
                let _ = sqlx::query(ROLLBACK).execute(&mut *conn).await;
                None
            }
        }
    }

    async fn reset(&mut self) {
        self.committed_head = None;
        self.batch_start_head = None;
        self.names.forget_pending();
        if let Some(conn) = self.conn.take() {
            // Closing rolls back whatever transaction was open.
            let _ = conn.close().await;
        }
    }

    async fn close(&mut self) {
        self.reset().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every batch size splits into prepared shapes: full chunks, then at
    /// most two statements, each with a placeholder row per record.
    #[test]
    fn audit_batches_split_into_few_prepared_shapes() {
        for n in 1..=600usize {
            let (mut left, mut statements) = (n, 0);
            while left > 0 {
                let rows = chunk_rows(left);
                assert!(rows <= left, "{n}: {rows} > {left}");
                let sql = insert_audit_rows_sql(rows);
                assert_eq!(sql.matches("(?, ?").count(), rows, "{n}: {rows} rows");
                left -= rows;
                statements += 1;
            }
            assert!(statements <= n / AUDIT_CHUNK + 2, "{n}: {statements}");
        }
    }
}
