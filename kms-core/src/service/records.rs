//! Front-end records, and the system project that holds install-wide ones.
//!
//! The front ends keep a little state of their own next to the keys: the
//! KMIP client registry, the KMIP CA's certificates and revocations, later
//! the HTTPS API's identities. A *record* is one such JSON document, stored
//! in a project under `(kind, key)`:
//!
//! * **Integrity.** Each row is MACed with the project's key-encryption key
//!   (the row-MAC key that also authenticates object rows, under a separate
//!   domain) over every column, so a row edited in the database, moved to
//!   another project or key, or relabelled fails authentication
//!   ([`Error::Integrity`]) before its value is used.
//! * **Concurrency.** Every write names the revision it expects (`None` to
//!   create); a record changed meanwhile gives
//!   [`StoreError::RecordConflict`](crate::store::StoreError::RecordConflict),
//!   so two writers never silently overwrite each other.
//! * **Audit.** Each put and delete is committed with its audit record
//!   (`record.put` / `record.delete`, object `kind/key`) in one transaction.
//! * **Not for secrets.** Values are stored in clear (authenticated, not
//!   encrypted). Keys belong in managed objects.
//!
//! ## The system project
//!
//! Install-wide records live in the *system project*, whose id is derived
//! from the install id ([`system_project_id`]) so no lookup table is needed,
//! in the *system organization* (likewise derived). [`Kms::init`] creates
//! both; [`Kms::open`] creates them when an install made before they existed
//! is opened writable.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Actor, Kms};
use crate::crypto::digest::{DigestAlgorithm, digest};
use crate::error::{Error, Result};
use crate::ids::{InstallId, OrganizationId, ProjectId};
use crate::store::{RecordKey, RecordRow, Transaction, Write};

/// Longest record kind and key, in bytes.
pub const MAX_RECORD_NAME: usize = 128;

/// Largest record value (JSON), in bytes. Records are small by design.
pub const MAX_RECORD_VALUE: usize = 256 * 1024;

/// Records read per store query by [`Kms::records`].
const RECORD_PAGE: u64 = 1000;

/// The name the system project and organization are created with.
pub const SYSTEM_NAME: &str = "system";

/// A record read back and authenticated.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub kind: String,
    pub key: String,
    pub revision: i64,
    pub value: serde_json::Value,
}

impl Record {
    /// The value as a typed document.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(self.value.clone()).map_err(|e| Error::Integrity {
            what: format!("record {}/{}", self.kind, self.key),
            reason: leak_reason(&e),
        })
    }
}

/// `Error::Integrity` takes a static reason; a record that authenticates
/// but does not decode was written by another version of the front end.
fn leak_reason(_e: &serde_json::Error) -> &'static str {
    "authenticates but does not have the shape this version expects"
}

/// A UUIDv8 derived from the install id and a label (SHA-256, first 16
/// bytes), so install-wide rows have ids every node computes alike.
fn derived_uuid(install: InstallId, label: &[u8]) -> uuid::Uuid {
    let mut input = Vec::with_capacity(64);
    input.extend_from_slice(b"strongroom/derived-id/v1/");
    input.extend_from_slice(label);
    input.push(0);
    input.extend_from_slice(install.as_bytes());
    let hash = digest(DigestAlgorithm::Sha256, &input);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The system project of `install`.
pub fn system_project_id(install: InstallId) -> ProjectId {
    ProjectId::from_uuid(derived_uuid(install, b"system-project"))
}

/// The system organization of `install`.
pub fn system_organization_id(install: InstallId) -> OrganizationId {
    OrganizationId::from_uuid(derived_uuid(install, b"system-organization"))
}

fn check_names(kind: &str, key: &str) -> Result<()> {
    for (what, v) in [("kind", kind), ("key", key)] {
        if v.is_empty() || v.len() > MAX_RECORD_NAME || v.chars().any(char::is_control) {
            return Err(Error::InvalidRequest(format!(
                "a record {what} is 1 to {MAX_RECORD_NAME} printable characters"
            )));
        }
    }
    Ok(())
}

impl Kms {
    /// This install's system project (see the module docs).
    pub fn system_project(&self) -> ProjectId {
        system_project_id(self.inner.install)
    }

    /// Creates the system organization and project if they are missing.
    pub(super) async fn ensure_system_project(&self) -> Result<()> {
        let install = self.inner.install;
        let project = system_project_id(install);
        if self.inner.store.project(project).await?.is_some() {
            return Ok(());
        }
        let organization = system_organization_id(install);
        let actor = Actor::system();
        if self.inner.store.organization(organization).await?.is_none() {
            self.insert_organization(&actor, organization, SYSTEM_NAME)
                .await?;
        }
        self.insert_project(&actor, organization, project, SYSTEM_NAME)
            .await?;
        tracing::info!(%project, "created the system project");
        Ok(())
    }

    /// Stores `value` as record `(kind, key)` of `project`. `expected` is
    /// the revision the caller read (`None`: the record must not exist yet).
    /// Returns the new revision.
    pub async fn put_record<T: Serialize + ?Sized>(
        &self,
        actor: &Actor,
        project: ProjectId,
        kind: &str,
        key: &str,
        value: &T,
        expected: Option<i64>,
    ) -> Result<i64> {
        let revision = match expected {
            None => 1,
            Some(r) => r
                .checked_add(1)
                .ok_or_else(|| Error::InvalidRequest("record revision overflow".into()))?,
        };
        let row = self.record_row(project, kind, key, value, revision).await?;
        let event = actor
            .event("record.put")
            .project(project)
            .object(format!("{kind}/{key}"))
            .result("success");
        self.inner
            .store
            .commit(Transaction::new().write(Write::PutRecord(row)).audit(event))
            .await?;
        Ok(revision)
    }

    /// Row `(kind, key)` of `project` holding `value` at `revision`, MACed
    /// under the project's current key: what [`Kms::put_record`] writes, for
    /// callers in the service that commit several records (and their own
    /// audit records) in one transaction.
    pub(super) async fn record_row<T: Serialize + ?Sized>(
        &self,
        project: ProjectId,
        kind: &str,
        key: &str,
        value: &T,
        revision: i64,
    ) -> Result<RecordRow> {
        check_names(kind, key)?;
        let value = serde_json::to_vec(value)
            .map_err(|e| Error::InvalidRequest(format!("record value: {e}")))?;
        if value.len() > MAX_RECORD_VALUE {
            return Err(Error::InvalidRequest(format!(
                "a record value is at most {MAX_RECORD_VALUE} bytes"
            )));
        }
        let kek = self.current_project_kek(project).await?;
        let mut row = RecordRow {
            project,
            kind: kind.to_string(),
            key: key.to_string(),
            revision,
            value,
            kek_version: kek.version(),
            mac: Vec::new(),
        };
        row.mac = kek.record_mac(&row);
        Ok(row)
    }

    /// Record `(kind, key)` of `project`, authenticated.
    pub async fn record(
        &self,
        project: ProjectId,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>> {
        check_names(kind, key)?;
        match self.inner.store.record(project, kind, key).await? {
            Some(row) => Ok(Some(self.authenticated(project, row).await?)),
            None => Ok(None),
        }
    }

    /// Every record of `kind` in `project`, by key, authenticated. Read in
    /// pages, so none is left out however many there are (a registry that
    /// silently lost its revocations past some count would be a hole).
    pub async fn records(&self, project: ProjectId, kind: &str) -> Result<Vec<Record>> {
        check_names(kind, "-")?;
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let rows = self
                .inner
                .store
                .records(project, kind, &after, RECORD_PAGE)
                .await?;
            let full = rows.len() as u64 >= RECORD_PAGE;
            for row in rows {
                after.clone_from(&row.key);
                out.push(self.authenticated(project, row).await?);
            }
            if !full {
                return Ok(out);
            }
        }
    }

    /// Deletes record `(kind, key)` of `project` if it is still at
    /// `expected` revision.
    pub async fn delete_record(
        &self,
        actor: &Actor,
        project: ProjectId,
        kind: &str,
        key: &str,
        expected: i64,
    ) -> Result<()> {
        check_names(kind, key)?;
        let event = actor
            .event("record.delete")
            .project(project)
            .object(format!("{kind}/{key}"))
            .result("success");
        let target = RecordKey {
            project,
            kind: kind.to_string(),
            key: key.to_string(),
            revision: expected,
        };
        self.inner
            .store
            .commit(
                Transaction::new()
                    .write(Write::DeleteRecord(target))
                    .audit(event),
            )
            .await?;
        Ok(())
    }

    /// Checks a row's project and MAC, then decodes its value.
    async fn authenticated(&self, project: ProjectId, row: RecordRow) -> Result<Record> {
        self.check_row(project, &row).await?;
        let value = serde_json::from_slice(&row.value).map_err(|_| Error::Integrity {
            what: row.describe(),
            reason: "authenticates but its value is not JSON",
        })?;
        Ok(Record {
            kind: row.kind,
            key: row.key,
            revision: row.revision,
            value,
        })
    }

    /// Checks that a row belongs to `project` and that its MAC verifies.
    async fn check_row(&self, project: ProjectId, row: &RecordRow) -> Result<()> {
        if row.project != project {
            return Err(Error::Integrity {
                what: row.describe(),
                reason: "was returned for another project",
            });
        }
        let kek = self.project_kek(project, row.kek_version).await?;
        if !kek.record_is_authentic(row) {
            return Err(Error::Integrity {
                what: row.describe(),
                reason: "row MAC does not verify: the row was edited, moved or relabelled",
            });
        }
        Ok(())
    }

    /// Every record of `kind` in `project`, authenticated and decoded
    /// straight into `T` (no intermediate JSON tree), with its revision:
    /// [`Kms::records`] for callers in the service that scan many.
    pub(super) async fn typed_records<T: DeserializeOwned>(
        &self,
        project: ProjectId,
        kind: &str,
    ) -> Result<Vec<(i64, T)>> {
        check_names(kind, "-")?;
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let rows = self
                .inner
                .store
                .records(project, kind, &after, RECORD_PAGE)
                .await?;
            let full = rows.len() as u64 >= RECORD_PAGE;
            for row in rows {
                self.check_row(project, &row).await?;
                let value = serde_json::from_slice(&row.value).map_err(|_| Error::Integrity {
                    what: row.describe(),
                    reason: "authenticates but does not have the shape this version expects",
                })?;
                out.push((row.revision, value));
                after = row.key;
            }
            if !full {
                return Ok(out);
            }
        }
    }
}
