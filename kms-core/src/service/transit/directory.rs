//! The key directory: which project a key id belongs to.
//!
//! Infisical's routes name a key by id alone (`/api/v1/kms/keys/{keyId}/…`),
//! while every operation of this layer takes the caller's project. The
//! directory answers "whose key is this?" so the front end can authorize
//! the caller for that project (and answer "not found" when the caller is
//! not a member, exactly as for a key that does not exist).
//!
//! One record per key in the **system project**, `transit.dir/<key id>` =
//! `{ "project": <project id> }`, written in the transaction that creates
//! the key and deleted in the one that deletes it, so the directory and the
//! keys never disagree. Entries never change while the key exists, so a
//! positive answer is cached without a time-to-live (bounded; dropped on a
//! local delete). A stale entry after a delete on another node only sends
//! the caller to the key's project, where the key is then not found. A key
//! id that names nothing is not cached: each such lookup reads the
//! database, which the per-identity rate limit bounds.

use serde::{Deserialize, Serialize};

use super::Transit;
use super::error::{TransitError, TransitResult};
use crate::ids::{KeyId, ProjectId};
use crate::store::{RecordKey, Write};

pub(super) const KIND_DIRECTORY: &str = "transit.dir";

#[derive(Serialize, Deserialize)]
struct DirectoryEntry {
    project: ProjectId,
}

impl Transit {
    /// The project key `id` belongs to; [`TransitError::KeyNotFound`] if no
    /// project has it. Served from memory after the first lookup.
    pub async fn project_of(&self, id: KeyId) -> TransitResult<ProjectId> {
        let cache = &self.kms.inner.transit.directory;
        if let Some(project) = cache.get(&id) {
            return Ok(project);
        }
        let record = self
            .kms
            .record(self.kms.system_project(), KIND_DIRECTORY, &id.to_string())
            .await?
            .ok_or_else(|| TransitError::KeyNotFound(id.to_string()))?;
        let entry: DirectoryEntry = record.decode()?;
        cache.insert(id, entry.project);
        Ok(entry.project)
    }

    /// The write that records key `id` as `project`'s (in its create
    /// transaction).
    pub(super) async fn directory_write(
        &self,
        project: ProjectId,
        id: KeyId,
    ) -> TransitResult<Write> {
        let row = self
            .kms
            .record_row(
                self.kms.system_project(),
                KIND_DIRECTORY,
                &id.to_string(),
                &DirectoryEntry { project },
                1,
            )
            .await?;
        Ok(Write::PutRecord(row))
    }

    /// The write that removes key `id` from the directory (in its delete
    /// transaction), if it is there and names `project`.
    pub(super) async fn directory_delete(
        &self,
        project: ProjectId,
        id: KeyId,
    ) -> TransitResult<Option<Write>> {
        let system = self.kms.system_project();
        let Some(record) = self
            .kms
            .record(system, KIND_DIRECTORY, &id.to_string())
            .await?
        else {
            return Ok(None);
        };
        let entry: DirectoryEntry = record.decode()?;
        if entry.project != project {
            return Ok(None);
        }
        Ok(Some(Write::DeleteRecord(RecordKey {
            project: system,
            kind: KIND_DIRECTORY.to_string(),
            key: id.to_string(),
            revision: record.revision,
        })))
    }

    /// Drops the cached directory entry of key `id`.
    pub(super) fn directory_forget(&self, id: KeyId) {
        self.kms.inner.transit.directory.remove(&id);
    }
}
