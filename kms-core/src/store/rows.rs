//! Row decoding and query pieces shared by the SQL backends.
//!
//! Both schemas store the same columns with the same meaning (16-byte
//! identifiers, 64-bit integers, byte strings), so one decoder serves both.
//! Decoding never trusts a row: a column of the wrong type, a NULL where a
//! value belongs, an identifier that is not 16 bytes, a negative or oversized
//! number for a `u32` field, a hash that is not 32 bytes — each becomes
//! [`StoreError::Corrupt`] naming the table, the row and the column.

use sqlx::Row;

use crate::audit::{AuditChain, AuditEvent, AuditRecord, ChainHead, GENESIS};
use crate::ids::{ObjectId, OrganizationId, ProjectId};
use crate::store::group_commit::ChainPosition;
use crate::store::{
    ObjectRecord, OrganizationRecord, ProjectKeyRecord, ProjectRecord, RecordRow, StoreError,
};

/// The most rows one query returns; a larger or zero `limit` means this many.
pub const MAX_LIMIT: u64 = 10_000;

/// The effective row limit for a requested `limit`: `0` (no preference) and
/// anything above [`MAX_LIMIT`] become [`MAX_LIMIT`].
pub fn effective_limit(limit: u64) -> i64 {
    let limit = if limit == 0 {
        MAX_LIMIT
    } else {
        limit.min(MAX_LIMIT)
    };
    // At most 10,000: always fits.
    limit as i64
}

/// A requested offset as a bound parameter (offsets past `i64::MAX` match
/// nothing anyway).
pub fn offset_param(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

/// The columns of `objects`, in the order every object query selects them.
pub const OBJECT_COLUMNS: &str = "id, project, revision, object_type, name, algorithm, state, \
     initial_date, activation_date, deactivation_date, destroy_date, last_change_date, \
     attributes, material, kek_version, mac";

/// The columns of `audit_log`, in the order every audit query selects them.
pub const AUDIT_COLUMNS: &str =
    "seq, time_us, actor, action, object, project, result, source, prev_hash, hash";

/// Typed access to a row's columns by name, with errors as plain text.
pub trait Columns {
    fn int(&self, col: &str) -> Result<i64, String>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, String>;
    fn bytes(&self, col: &str) -> Result<Vec<u8>, String>;
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, String>;
    fn text(&self, col: &str) -> Result<String, String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, String>;
}

macro_rules! impl_columns {
    ($row:ty) => {
        impl Columns for $row {
            fn int(&self, col: &str) -> Result<i64, String> {
                self.try_get::<i64, _>(col).map_err(|e| describe(col, e))
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, String> {
                self.try_get::<Option<i64>, _>(col)
                    .map_err(|e| describe(col, e))
            }
            fn bytes(&self, col: &str) -> Result<Vec<u8>, String> {
                self.try_get::<Vec<u8>, _>(col)
                    .map_err(|e| describe(col, e))
            }
            fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, String> {
                self.try_get::<Option<Vec<u8>>, _>(col)
                    .map_err(|e| describe(col, e))
            }
            fn text(&self, col: &str) -> Result<String, String> {
                self.try_get::<String, _>(col).map_err(|e| describe(col, e))
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, String> {
                self.try_get::<Option<String>, _>(col)
                    .map_err(|e| describe(col, e))
            }
        }
    };
}

impl_columns!(sqlx::sqlite::SqliteRow);
impl_columns!(sqlx::postgres::PgRow);

fn describe(col: &str, e: sqlx::Error) -> String {
    match e {
        sqlx::Error::ColumnDecode { source, .. } => format!("column {col}: {source}"),
        other => format!("column {col}: {other}"),
    }
}

fn u32_of(col: &str, v: i64) -> Result<u32, String> {
    u32::try_from(v).map_err(|_| format!("column {col}: {v} is not a valid unsigned 32-bit value"))
}

fn opt_u32_of(col: &str, v: Option<i64>) -> Result<Option<u32>, String> {
    v.map(|v| u32_of(col, v)).transpose()
}

fn uuid_of(col: &str, bytes: &[u8]) -> Result<uuid::Uuid, String> {
    uuid::Uuid::from_slice(bytes).map_err(|_| {
        format!(
            "column {col}: an identifier is 16 bytes, found {}",
            bytes.len()
        )
    })
}

fn hash_of(col: &str, bytes: &[u8]) -> Result<[u8; 32], String> {
    <[u8; 32]>::try_from(bytes)
        .map_err(|_| format!("column {col}: a hash is 32 bytes, found {}", bytes.len()))
}

/// How a row is named in a corruption report: its id as a UUID when it is
/// one, as hex otherwise.
fn row_name<R: Columns>(row: &R, col: &str) -> String {
    match row.bytes(col) {
        Ok(b) => match uuid::Uuid::from_slice(&b) {
            Ok(u) => u.to_string(),
            Err(_) => hex::encode(b),
        },
        Err(_) => "<unreadable id>".into(),
    }
}

fn corrupt<R: Columns>(table: &str, row: &R, key: &str, what: String) -> StoreError {
    StoreError::Corrupt(format!("{table} row {}: {what}", row_name(row, key)))
}

pub fn organization<R: Columns>(row: &R) -> Result<OrganizationRecord, StoreError> {
    (|| {
        Ok::<_, String>(OrganizationRecord {
            id: OrganizationId::from_uuid(uuid_of("id", &row.bytes("id")?)?),
            name: row.text("name")?,
            created_at: row.int("created_at")?,
        })
    })()
    .map_err(|what| corrupt("organizations", row, "id", what))
}

pub fn project<R: Columns>(row: &R) -> Result<ProjectRecord, StoreError> {
    (|| {
        Ok::<_, String>(ProjectRecord {
            id: ProjectId::from_uuid(uuid_of("id", &row.bytes("id")?)?),
            organization: OrganizationId::from_uuid(uuid_of(
                "organization",
                &row.bytes("organization")?,
            )?),
            name: row.text("name")?,
            created_at: row.int("created_at")?,
        })
    })()
    .map_err(|what| corrupt("projects", row, "id", what))
}

pub fn project_key<R: Columns>(row: &R) -> Result<ProjectKeyRecord, StoreError> {
    (|| {
        Ok::<_, String>(ProjectKeyRecord {
            project: ProjectId::from_uuid(uuid_of("project", &row.bytes("project")?)?),
            version: u32_of("version", row.int("version")?)?,
            root_term: u32_of("root_term", row.int("root_term")?)?,
            wrapped: row.bytes("wrapped")?,
            created_at: row.int("created_at")?,
        })
    })()
    .map_err(|what| {
        let version = row
            .int("version")
            .map_or_else(|_| "?".to_string(), |v| v.to_string());
        StoreError::Corrupt(format!(
            "project_keys row {} version {version}: {what}",
            row_name(row, "project")
        ))
    })
}

pub fn object<R: Columns>(row: &R) -> Result<ObjectRecord, StoreError> {
    (|| {
        Ok::<_, String>(ObjectRecord {
            id: ObjectId::from_uuid(uuid_of("id", &row.bytes("id")?)?),
            project: ProjectId::from_uuid(uuid_of("project", &row.bytes("project")?)?),
            revision: row.int("revision")?,
            object_type: u32_of("object_type", row.int("object_type")?)?,
            name: row.opt_text("name")?,
            algorithm: opt_u32_of("algorithm", row.opt_int("algorithm")?)?,
            state: u32_of("state", row.int("state")?)?,
            initial_date: row.int("initial_date")?,
            activation_date: row.opt_int("activation_date")?,
            deactivation_date: row.opt_int("deactivation_date")?,
            destroy_date: row.opt_int("destroy_date")?,
            last_change_date: row.int("last_change_date")?,
            attributes: row.bytes("attributes")?,
            material: row.opt_bytes("material")?,
            kek_version: u32_of("kek_version", row.int("kek_version")?)?,
            mac: row.bytes("mac")?,
        })
    })()
    .map_err(|what| corrupt("objects", row, "id", what))
}

/// The columns of `records`, in the order every record query selects them.
pub const RECORD_COLUMNS: &str = "project, kind, key, revision, value, kek_version, mac";

pub fn record<R: Columns>(row: &R) -> Result<RecordRow, StoreError> {
    (|| {
        Ok::<_, String>(RecordRow {
            project: ProjectId::from_uuid(uuid_of("project", &row.bytes("project")?)?),
            kind: row.text("kind")?,
            key: row.text("key")?,
            revision: row.int("revision")?,
            value: row.bytes("value")?,
            kek_version: u32_of("kek_version", row.int("kek_version")?)?,
            mac: row.bytes("mac")?,
        })
    })()
    .map_err(|what| {
        let kind = row.text("kind").unwrap_or_else(|_| "?".into());
        let key = row.text("key").unwrap_or_else(|_| "?".into());
        StoreError::Corrupt(format!(
            "records row {kind}/{key} in project {}: {what}",
            row_name(row, "project")
        ))
    })
}

pub fn audit_record<R: Columns>(row: &R) -> Result<AuditRecord, StoreError> {
    (|| {
        Ok::<_, String>(AuditRecord {
            seq: row.int("seq")?,
            event: AuditEvent {
                time_us: row.int("time_us")?,
                actor: row.text("actor")?,
                action: row.text("action")?,
                object: row.opt_text("object")?,
                project: row.opt_text("project")?,
                result: row.text("result")?,
                source: row.opt_text("source")?,
            },
            prev_hash: hash_of("prev_hash", &row.bytes("prev_hash")?)?,
            hash: hash_of("hash", &row.bytes("hash")?)?,
        })
    })()
    .map_err(|what| {
        let seq = row
            .int("seq")
            .map_or_else(|_| "?".to_string(), |v| v.to_string());
        StoreError::Corrupt(format!("audit_log row {seq}: {what}"))
    })
}

/// Decodes the `audit_head` row; seq 0 is the "no record yet" placeholder.
pub fn audit_head<R: Columns>(row: &R) -> Result<Option<ChainHead>, StoreError> {
    let head = (|| {
        Ok::<_, String>(ChainHead {
            seq: row.int("seq")?,
            hash: hash_of("hash", &row.bytes("hash")?)?,
            mac: row.bytes("mac")?,
        })
    })()
    .map_err(|what| StoreError::Corrupt(format!("audit_head row: {what}")))?;
    match head.seq {
        0 if head.hash == GENESIS => Ok(None),
        0 => Err(StoreError::Corrupt(
            "audit_head row: seq 0 with a hash other than the genesis hash".into(),
        )),
        s if s < 0 => Err(StoreError::Corrupt(format!(
            "audit_head row: negative seq {s}"
        ))),
        _ => Ok(Some(head)),
    }
}

/// The chain position a writer continues from, refusing a head that this
/// chain's key did not seal: extending it would authenticate whatever was
/// done to the log.
pub fn writable_position<R: Columns>(
    row: &R,
    chain: &AuditChain,
) -> Result<ChainPosition, StoreError> {
    match audit_head(row)? {
        None => Ok((0, GENESIS)),
        Some(head) if chain.head_is_authentic(&head) => Ok((head.seq, head.hash)),
        Some(head) => Err(StoreError::Corrupt(format!(
            "audit_head row: the head at seq {} is not authentic (forged, or sealed with another \
             audit key); refusing to extend the chain",
            head.seq
        ))),
    }
}

/// Appends the `WHERE` clause for the set fields of an [`ObjectQuery`]
/// (`crate::store::ObjectQuery`) to a [`sqlx::QueryBuilder`], every value as a
/// bound parameter.
macro_rules! push_object_filters {
    ($qb:expr, $q:expr) => {{
        let qb = $qb;
        let q = $q;
        qb.push(" WHERE 1=1");
        if let Some(p) = &q.project {
            qb.push(" AND project = ").push_bind(p.as_bytes().to_vec());
        }
        if let Some(name) = &q.name {
            qb.push(" AND name = ").push_bind(name.clone());
        }
        if let Some(t) = q.object_type {
            qb.push(" AND object_type = ").push_bind(i64::from(t));
        }
        if let Some(a) = q.algorithm {
            qb.push(" AND algorithm = ").push_bind(i64::from(a));
        }
        if let Some(s) = q.state {
            qb.push(" AND state = ").push_bind(i64::from(s));
        }
        if let Some((from, to)) = q.initial_date_range {
            qb.push(" AND initial_date >= ")
                .push_bind(from)
                .push(" AND initial_date <= ")
                .push_bind(to);
        }
        if let Some(by) = q.activation_due_by {
            qb.push(" AND activation_date <= ").push_bind(by);
        }
        if let Some(by) = q.deactivation_due_by {
            qb.push(" AND deactivation_date <= ").push_bind(by);
        }
    }};
}
pub(crate) use push_object_filters;

/// Appends the `WHERE` clause of an [`AuditQuery`](crate::store::AuditQuery)
/// to a [`sqlx::QueryBuilder`], every value as a bound parameter. A prefix
/// is compared with `substr`, not `LIKE`: SQLite's `LIKE` ignores ASCII case
/// and both treat `%` and `_` in the value as wildcards.
macro_rules! push_audit_filters {
    ($qb:expr, $q:expr) => {{
        let qb = $qb;
        let q: &$crate::store::AuditQuery = $q;
        qb.push(" WHERE project = ")
            .push_bind(q.project.to_string());
        if let Some(actor) = &q.actor {
            qb.push(" AND actor = ").push_bind(actor.clone());
        }
        match &q.action {
            Some($crate::store::ActionFilter::Exact(a)) => {
                qb.push(" AND action = ").push_bind(a.clone());
            }
            Some($crate::store::ActionFilter::Prefix(a)) => {
                // Both backends count characters in `substr` and
                // `length`, so the prefix is compared whole.
                qb.push(" AND substr(action, 1, length(")
                    .push_bind(a.clone())
                    .push(")) = ")
                    .push_bind(a.clone());
            }
            None => {}
        }
        if let Some(object) = &q.object {
            qb.push(" AND object = ").push_bind(object.clone());
        }
        if let Some(from) = q.from_us {
            qb.push(" AND time_us >= ").push_bind(from);
        }
        if let Some(to) = q.to_us {
            qb.push(" AND time_us < ").push_bind(to);
        }
        if let Some(after) = q.after_seq {
            qb.push(" AND seq > ").push_bind(after);
        }
    }};
}
pub(crate) use push_audit_filters;

/// Appends the order and page of an audit query (after
/// [`push_audit_filters`]).
macro_rules! push_audit_page {
    ($qb:expr, $q:expr) => {{
        let q: &$crate::store::AuditQuery = $q;
        $qb.push(if q.newest_first {
            " ORDER BY seq DESC LIMIT "
        } else {
            " ORDER BY seq LIMIT "
        })
        .push_bind($crate::store::rows::effective_limit(q.limit))
        .push(" OFFSET ")
        .push_bind($crate::store::rows::offset_param(q.offset));
    }};
}
pub(crate) use push_audit_page;

/// The `n` of a `SELECT COUNT(*) AS n` row.
pub fn count<R: Columns>(row: &R) -> Result<u64, StoreError> {
    let n = row.int("n").map_err(StoreError::Corrupt)?;
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("COUNT(*) returned {n}")))
}

/// Maps the error of a row write to what the caller must be told, given what
/// the write was about.
pub fn write_error(e: sqlx::Error, what: &str, parent: Option<&str>) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::AlreadyExists(what.to_string());
        }
        if db.is_foreign_key_violation() {
            if let Some(parent) = parent {
                return StoreError::NotFound(parent.to_string());
            }
        }
    }
    backend_error(e)
}

/// Whether a failed statement failed on the `audit_log` table.
fn on_audit_log(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            // SQLite keeps records in `audit_entries` behind the
            // `audit_log` view (migration 0004).
            ["audit_log", "audit_entries"].iter().any(|table| {
                db.table() == Some(table)
                    || db.constraint().is_some_and(|c| c.starts_with(table))
                    || db.message().contains(&format!("{table}."))
            })
        }
        _ => false,
    }
}

/// Maps the error of a statement that wrote an object row and an audit
/// record together.
pub fn object_and_audit_error(e: sqlx::Error, record: &ObjectRecord, seq: i64) -> StoreError {
    if on_audit_log(&e) {
        return audit_error(e, seq);
    }
    write_error(
        e,
        &format!("object {}", record.id),
        Some(&format!("project {}", record.project)),
    )
}

/// Maps the error of an audit record insert. A duplicate sequence number
/// means something wrote the chain without holding the head lock.
pub fn audit_error(e: sqlx::Error, seq: i64) -> StoreError {
    match backend_error(e) {
        StoreError::Backend(m) => StoreError::Backend(format!(
            "appending audit record {seq}: {m} (did something write the audit log without \
             locking its head?)"
        )),
        other => other,
    }
}

/// Maps an error that is not about a particular row.
pub fn backend_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            // PostgreSQL: read_only_sql_transaction. SQLite: SQLITE_READONLY
            // and its extended codes (primary code 8).
            let sqlite_primary = code.parse::<i32>().ok().map(|c| c & 0xff);
            if code == "25006" || sqlite_primary == Some(8) {
                return StoreError::ReadOnly(db.message().to_string());
            }
            StoreError::Backend(db.message().to_string())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::Protocol(_) => StoreError::Unreachable(e.to_string()),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => StoreError::Closed,
        _ => StoreError::Backend(e.to_string()),
    }
}
