//! The PostgreSQL backend: for installs that outgrow one machine.
//!
//! # Opening
//!
//! `postgres://user:password@host:port/database` (or `postgresql://…`), with
//! any libpq-style parameters sqlx understands (`sslmode=…`,
//! `options[search_path]=…`, …). Connecting is bounded by
//! [`StoreOptions::connect_timeout`](super::StoreOptions::connect_timeout)
//! (default 5 s): a server that is down, refuses, or accepts and never
//! answers gives [`StoreError::Unreachable`] naming `host:port/database`
//! (never the password) within that time.
//!
//! The schema is `migrations/postgres/`, applied with `sqlx::migrate!` at
//! open. sqlx holds a PostgreSQL advisory lock while migrating, so several
//! nodes starting at once migrate once. With
//! [`StoreOptions::read_only`](super::StoreOptions::read_only) nothing is
//! migrated, sessions run with `default_transaction_read_only=on`, and every
//! commit fails with [`StoreError::ReadOnly`].
//!
//! # Durability and concurrency
//!
//! A commit is acknowledged when PostgreSQL's `COMMIT` returns, which with
//! the server's defaults (`fsync=on`, `synchronous_commit=on`) means the WAL
//! is flushed. Writes go through one dedicated connection owned by the
//! group-commit writer (see [`group_commit`](super::group_commit)); reads
//! use a pool of [`StoreOptions::pool_size`](super::StoreOptions::pool_size)
//! connections (default 8).
//!
//! Each batch starts with `BEGIN; SELECT … FROM audit_head … FOR UPDATE` (one
//! round trip). The row lock is held until `COMMIT`, so the writers of
//! several Strongroom nodes sharing one database take turns, and each batch
//! links its audit records onto the head the previous batch — from any
//! node — committed. The chain stays one gap-free sequence.
//!
//! Round trips are the cost to watch: a sequential create is three (the
//! `BEGIN`/head lock; the object insert and its audit record, fused into one
//! statement with a data-modifying CTE; the head update with `COMMIT`, sent
//! as one simple query). Statements are prepared once per connection and
//! cached by sqlx.
//!
//! `find_objects` and `count_objects` treat a `limit` of 0 as "no
//! preference" and return at most [`MAX_LIMIT`](super::MAX_LIMIT) rows;
//! `audit_records` does the same.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, Executor, Postgres, QueryBuilder};

use super::group_commit::{BatchConnection, ChainPosition, GroupCommit, apply_each};
use super::rows::{
    self, AUDIT_COLUMNS, OBJECT_COLUMNS, RECORD_COLUMNS, backend_error, write_error,
};
use super::{
    AuditQuery, ObjectQuery, ObjectRecord, OrganizationRecord, ProjectKeyRecord, ProjectRecord,
    RecordRow, Refused, Store, StoreError, StoreOptions, Transaction, Write,
};
use crate::audit::{AuditChain, AuditEvent, AuditRecord, ChainHead, LinkedEvent};
use crate::ids::{ObjectId, OrganizationId, ProjectId};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// The PostgreSQL [`Store`]. Open it with [`super::open`] or
/// [`PostgresStore::open`].
pub struct PostgresStore {
    target: String,
    readers: PgPool,
    writer: Option<GroupCommit>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("read_only", &self.writer.is_none())
            .finish()
    }
}

/// `host:port/database`, for messages (no credentials).
fn describe_target(o: &PgConnectOptions) -> String {
    let host = match o.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => o.get_host().to_string(),
    };
    format!(
        "{host}:{}/{}",
        o.get_port(),
        o.get_database().unwrap_or(o.get_username())
    )
}

fn connect_error(target: &str, e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code();
            match code.as_deref() {
                // invalid_password, invalid_authorization_specification
                Some("28P01") | Some("28000") => StoreError::Unreachable(format!(
                    "PostgreSQL at {target} refused the credentials: {}",
                    db.message()
                )),
                // invalid_catalog_name
                Some("3D000") => {
                    StoreError::Unreachable(format!("PostgreSQL at {target}: {}", db.message()))
                }
                _ => StoreError::Unreachable(format!(
                    "cannot connect to PostgreSQL at {target}: {}",
                    db.message()
                )),
            }
        }
        _ => StoreError::Unreachable(format!("cannot connect to PostgreSQL at {target}: {e}")),
    }
}

async fn connect_one(
    options: &PgConnectOptions,
    target: &str,
    timeout: Duration,
) -> Result<PgConnection, StoreError> {
    match tokio::time::timeout(timeout, options.connect()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(connect_error(target, e)),
        Err(_) => Err(StoreError::Unreachable(format!(
            "cannot connect to PostgreSQL at {target}: no answer within {:.1} s",
            timeout.as_secs_f64()
        ))),
    }
}

impl PostgresStore {
    /// Connects, migrates (unless read-only) and starts the writer.
    pub async fn open(
        url: &str,
        chain: Arc<AuditChain>,
        options: &StoreOptions,
    ) -> Result<Self, StoreError> {
        let mut base = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unreachable(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("strongroom");
        if options.read_only {
            base = base.options([("default_transaction_read_only", "on")]);
        }
        let target = describe_target(&base);
        let timeout = options.connect_timeout;

        let writer = if options.read_only {
            None
        } else {
            let mut conn = connect_one(&base, &target, timeout).await?;
            MIGRATOR
                .run(&mut conn)
                .await
                .map_err(|e| StoreError::Migration(format!("PostgreSQL at {target}: {e}")))?;
            Some(GroupCommit::start(
                PgWriter {
                    options: base.clone(),
                    target: target.clone(),
                    timeout,
                    conn: Some(conn),
                },
                chain,
                options.max_batch,
                options.queue_depth,
            ))
        };

        let readers = match tokio::time::timeout(
            timeout,
            PgPoolOptions::new()
                .max_connections(options.pool_size.max(1))
                .min_connections(0)
                .acquire_timeout(timeout)
                .connect_with(base),
        )
        .await
        {
            Ok(Ok(pool)) => pool,
            Ok(Err(e)) => {
                if let Some(w) = &writer {
                    w.close().await;
                }
                return Err(connect_error(&target, e));
            }
            Err(_) => {
                if let Some(w) = &writer {
                    w.close().await;
                }
                return Err(StoreError::Unreachable(format!(
                    "cannot connect to PostgreSQL at {target}: no answer within {:.1} s",
                    timeout.as_secs_f64()
                )));
            }
        };
        Ok(Self {
            target,
            readers,
            writer,
        })
    }

    async fn fetch_all(&self, q: PgQuery<'_>) -> Result<Vec<PgRow>, StoreError> {
        q.fetch_all(&self.readers).await.map_err(backend_error)
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn commit_or_return(&self, tx: Transaction) -> Result<(), Refused> {
        match &self.writer {
            Some(w) => w.commit(tx).await,
            None => Err((
                StoreError::ReadOnly(format!(
                    "PostgreSQL at {} was opened read-only",
                    self.target
                )),
                Some(tx),
            )),
        }
    }

    async fn organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<OrganizationRecord>, StoreError> {
        let q = sqlx::query("SELECT id, name, created_at FROM organizations WHERE id = $1")
            .bind(id.as_bytes().as_slice());
        self.fetch_all(q)
            .await?
            .first()
            .map(rows::organization)
            .transpose()
    }

    async fn project(&self, id: ProjectId) -> Result<Option<ProjectRecord>, StoreError> {
        let q =
            sqlx::query("SELECT id, organization, name, created_at FROM projects WHERE id = $1")
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
             WHERE project = $1 ORDER BY version",
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
             WHERE root_term = $1 ORDER BY project, version",
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
        let sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE id = $1 AND project = $2");
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
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {OBJECT_COLUMNS} FROM objects"));
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
        let mut qb = QueryBuilder::<Postgres>::new("SELECT COUNT(*) AS n FROM objects");
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
            "SELECT {RECORD_COLUMNS} FROM records WHERE project = $1 AND kind = $2 AND key = $3"
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
            "SELECT {RECORD_COLUMNS} FROM records WHERE project = $1 AND kind = $2 \
             AND key COLLATE \"C\" > $3 ORDER BY key COLLATE \"C\" LIMIT $4"
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
            format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
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
        let mut qb =
            QueryBuilder::<Postgres>::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_log"));
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
        let mut qb = QueryBuilder::<Postgres>::new("SELECT COUNT(*) AS n FROM audit_log");
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
struct PgWriter {
    options: PgConnectOptions,
    target: String,
    timeout: Duration,
    conn: Option<PgConnection>,
}

impl PgWriter {
    fn conn(&mut self) -> Result<&mut PgConnection, StoreError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::Backend("the writer has no connection".into()))
    }
}

const BEGIN_AND_LOCK_HEAD: &str =
    "BEGIN; SELECT seq, hash, mac FROM audit_head WHERE id = 1 FOR UPDATE";
const INSERT_RECORD: &str = "INSERT INTO records \
     (project, kind, key, revision, value, kek_version, mac) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
const UPDATE_RECORD: &str = "UPDATE records SET revision = $4, value = $5, \
     kek_version = $6, mac = $7 \
     WHERE project = $1 AND kind = $2 AND key = $3 AND revision = $8";
const DELETE_RECORD: &str = "DELETE FROM records \
     WHERE project = $1 AND kind = $2 AND key = $3 AND revision = $4";

/// Binds the 7 columns of a record row, in [`RECORD_COLUMNS`] order.
fn bind_record<'q>(q: PgQuery<'q>, r: &'q RecordRow) -> PgQuery<'q> {
    q.bind(r.project.as_bytes().as_slice())
        .bind(r.kind.as_str())
        .bind(r.key.as_str())
        .bind(r.revision)
        .bind(r.value.as_slice())
        .bind(i64::from(r.kek_version))
        .bind(r.mac.as_slice())
}

const INSERT_ORGANIZATION: &str =
    "INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)";
const INSERT_PROJECT: &str =
    "INSERT INTO projects (id, organization, name, created_at) VALUES ($1, $2, $3, $4)";
const INSERT_PROJECT_KEY: &str = "INSERT INTO project_keys \
     (project, version, root_term, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)";
const REWRAP_PROJECT_KEY: &str =
    "UPDATE project_keys SET wrapped = $1, root_term = $2 WHERE project = $3 AND version = $4";
const INSERT_OBJECT: &str = "INSERT INTO objects (id, project, revision, object_type, name, \
     algorithm, state, initial_date, activation_date, deactivation_date, destroy_date, \
     last_change_date, attributes, material, kek_version, mac) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
const UPDATE_OBJECT: &str = "UPDATE objects SET revision = $3, object_type = $4, name = $5, \
     algorithm = $6, state = $7, initial_date = $8, activation_date = $9, \
     deactivation_date = $10, destroy_date = $11, last_change_date = $12, attributes = $13, \
     material = $14, kek_version = $15, mac = $16 \
     WHERE id = $1 AND project = $2 AND revision = $17";
const INSERT_AUDIT: &str = "INSERT INTO audit_entries \
     (seq, time_us, actor, action, object, project, result, source, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Many audit records in one statement, one array per column.
const INSERT_AUDIT_ARRAYS: &str = "INSERT INTO audit_entries \
     (seq, time_us, actor, action, object, project, result, source, hash) \
     SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
     $6::text[], $7::text[], $8::text[], $9::bytea[])";

/// An object insert and its audit record, in one statement.
const INSERT_OBJECT_AUDITED: &str = "WITH inserted AS (INSERT INTO objects (id, project, \
     revision, object_type, name, algorithm, state, initial_date, activation_date, \
     deactivation_date, destroy_date, last_change_date, attributes, material, kek_version, mac) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)) \
     INSERT INTO audit_entries \
     (seq, time_us, actor, action, object, project, result, source, hash) \
     VALUES ($17, $18, $19, $20, $21, $22, $23, $24, $25)";
/// A conditional object update and its audit record, in one statement. The
/// record is inserted only if the update changed a row, so 0 rows means a
/// conflict.
const UPDATE_OBJECT_AUDITED: &str = "WITH updated AS (UPDATE objects SET revision = $3, \
     object_type = $4, name = $5, algorithm = $6, state = $7, initial_date = $8, \
     activation_date = $9, deactivation_date = $10, destroy_date = $11, \
     last_change_date = $12, attributes = $13, material = $14, kek_version = $15, mac = $16 \
     WHERE id = $1 AND project = $2 AND revision = $17 RETURNING 1) \
     INSERT INTO audit_entries \
     (seq, time_us, actor, action, object, project, result, source, hash) \
     SELECT $18, $19, $20, $21, $22, $23, $24, $25, $26 \
     WHERE EXISTS (SELECT 1 FROM updated)";

/// Binds the 9 stored columns of an audit record: [`AUDIT_COLUMNS`] but
/// `prev_hash`, which `audit_log` derives (migration 0004).
fn bind_audit<'q>(q: PgQuery<'q>, r: &'q LinkedEvent<'q>) -> PgQuery<'q> {
    q.bind(r.seq)
        .bind(r.event.time_us)
        .bind(r.event.actor.as_str())
        .bind(r.event.action.as_str())
        .bind(r.event.object.as_deref())
        .bind(r.event.project.as_deref())
        .bind(r.event.result.as_str())
        .bind(r.event.source.as_deref())
        .bind(r.hash.as_slice())
}

/// Binds the 16 columns of an object row, in [`OBJECT_COLUMNS`] order.
fn bind_object<'q>(q: PgQuery<'q>, r: &'q ObjectRecord) -> PgQuery<'q> {
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
impl BatchConnection for PgWriter {
    async fn begin(&mut self, chain: &AuditChain) -> Result<ChainPosition, StoreError> {
        if self.conn.is_none() {
            let conn = connect_one(&self.options, &self.target, self.timeout).await?;
            self.conn = Some(conn);
        }
        let conn = self.conn()?;
        // One round trip: a query without arguments goes over the
        // simple-query protocol, which runs both statements.
        let found = conn
            .fetch_all(BEGIN_AND_LOCK_HEAD)
            .await
            .map_err(backend_error)?;
        let row = found
            .first()
            .ok_or_else(|| StoreError::Corrupt("audit_head: the row is missing".into()))?;
        rows::writable_position(row, chain)
    }

    async fn control(&mut self, sql: &'static str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(sql).await.map(|_| ()).map_err(backend_error)
    }

    async fn apply(
        &mut self,
        writes: &[Write],
        records: &[LinkedEvent<'_>],
    ) -> Result<(), StoreError> {
        // The two shapes of nearly every commit (create, and a lifecycle
        // change) take one round trip, not two: the object write runs in a
        // data-modifying CTE of the audit insert.
        match (writes, records) {
            // Audit-only transactions (the key-use audit queue): one
            // statement for all records, as arrays.
            ([], records) if records.len() > 1 => {
                let conn = self.conn()?;
                let first = records.first().map_or(0, |r| r.seq);
                let text = |f: fn(&AuditEvent) -> &str| {
                    records.iter().map(|r| f(r.event)).collect::<Vec<&str>>()
                };
                let optional = |f: fn(&AuditEvent) -> Option<&str>| {
                    records
                        .iter()
                        .map(|r| f(r.event))
                        .collect::<Vec<Option<&str>>>()
                };
                let hashes: Vec<&[u8]> = records.iter().map(|r| r.hash.as_slice()).collect();
                sqlx::query(INSERT_AUDIT_ARRAYS)
                    .bind(records.iter().map(|r| r.seq).collect::<Vec<_>>())
                    .bind(records.iter().map(|r| r.event.time_us).collect::<Vec<_>>())
                    .bind(text(|e| &e.actor))
                    .bind(text(|e| &e.action))
                    .bind(optional(|e| e.object.as_deref()))
                    .bind(optional(|e| e.project.as_deref()))
                    .bind(text(|e| &e.result))
                    .bind(optional(|e| e.source.as_deref()))
                    .bind(hashes)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| rows::audit_error(e, first))
            }
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
        let sql = match head {
            // One round trip for both statements: the simple-query protocol
            // takes no parameters, so the values are written into the text.
            // They are an integer and two hex strings this process computed,
            // nothing a caller supplied.
            Some(head) => format!(
                "UPDATE audit_head SET seq = {}, hash = decode('{}', 'hex'), \
                 mac = decode('{}', 'hex') WHERE id = 1; COMMIT",
                head.seq,
                hex::encode(head.hash),
                hex::encode(&head.mac)
            ),
            None => "COMMIT".to_string(),
        };
        conn.execute(sql.as_str())
            .await
            .map(|_| ())
            .map_err(backend_error)
    }

    async fn reset(&mut self) {
        if let Some(conn) = self.conn.take() {
            // The server rolls back the open transaction when the session
            // ends. A server that stopped answering must not hang the writer.
            let _ = tokio::time::timeout(self.timeout, conn.close()).await;
        }
    }

    async fn close(&mut self) {
        self.reset().await;
    }
}
