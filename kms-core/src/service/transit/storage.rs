//! Where named keys are kept: two kinds of front-end record per project,
//! read through the metadata cache.
//!
//! * `transit.key/<key id>` — the [`KeyDocument`];
//! * `transit.name/<name>` — `{ "id": <key id> }`, the unique-name index.
//!
//! Records give each row a MAC under the project key and an optimistic
//! revision; every change here writes the document, the name rows it
//! touches and its audit record in one transaction, so a name and its key
//! never disagree and two writers never overwrite each other.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Transit;
use super::error::{TransitError, TransitResult};
use super::model::KeyDocument;
use crate::error::Error;
use crate::ids::{KeyId, ObjectId, ProjectId};
use crate::store::{RecordKey, StoreError, Transaction, Write};

pub(super) const KIND_KEY: &str = "transit.key";
pub(super) const KIND_NAME: &str = "transit.name";

/// A key document as read, with the revision a write must name.
#[derive(Debug)]
pub(crate) struct Stored {
    pub doc: KeyDocument,
    pub revision: i64,
}

#[derive(Serialize, Deserialize)]
struct NameEntry {
    id: KeyId,
}

/// The metadata cache is keyed like the object cache; a key id is a UUID
/// as an object id is, and the two caches are separate.
fn cache_key(id: KeyId) -> ObjectId {
    ObjectId::from_uuid(*id.as_uuid())
}

impl Transit {
    /// Key `id` of `project`, from the metadata cache or read and cached.
    pub(super) async fn stored(&self, project: ProjectId, id: KeyId) -> TransitResult<Arc<Stored>> {
        let cache = &self.kms.inner.transit.keys;
        if let Some(hit) = cache.get(project, cache_key(id)) {
            return Ok(hit);
        }
        let stored = Arc::new(self.fresh(project, id).await?);
        cache.insert(project, cache_key(id), Arc::clone(&stored));
        Ok(stored)
    }

    /// Key `id` of `project`, read from the database (for writes, which must
    /// name the revision they change).
    pub(super) async fn fresh(&self, project: ProjectId, id: KeyId) -> TransitResult<Stored> {
        let record = self
            .kms
            .record(project, KIND_KEY, &id.to_string())
            .await?
            .ok_or_else(|| TransitError::KeyNotFound(id.to_string()))?;
        let doc: KeyDocument = record.decode()?;
        if doc.id != id {
            return Err(Error::Integrity {
                what: format!("key {id}"),
                reason: "its document names another key",
            }
            .into());
        }
        Ok(Stored {
            doc,
            revision: record.revision,
        })
    }

    /// The key named `name` in `project` and the revision of its name row.
    pub(super) async fn named(
        &self,
        project: ProjectId,
        name: &str,
    ) -> TransitResult<Option<(KeyId, i64)>> {
        if name.is_empty() || name.len() > super::model::MAX_NAME_LEN {
            return Ok(None);
        }
        let Some(record) = self.kms.record(project, KIND_NAME, name).await? else {
            return Ok(None);
        };
        let entry: NameEntry = record.decode()?;
        Ok(Some((entry.id, record.revision)))
    }

    /// Every key document of `project`.
    pub(super) async fn all(&self, project: ProjectId) -> TransitResult<Vec<KeyDocument>> {
        let records = self.kms.typed_records(project, KIND_KEY).await?;
        Ok(records.into_iter().map(|(_, doc)| doc).collect())
    }

    /// The write of `doc` at `revision` (1 creates it).
    pub(super) async fn doc_write(
        &self,
        project: ProjectId,
        doc: &KeyDocument,
        revision: i64,
    ) -> TransitResult<Write> {
        let row = self
            .kms
            .record_row(project, KIND_KEY, &doc.id.to_string(), doc, revision)
            .await?;
        Ok(Write::PutRecord(row))
    }

    /// The write that claims `name` for `id` (fails if the name is taken).
    pub(super) async fn name_write(
        &self,
        project: ProjectId,
        name: &str,
        id: KeyId,
    ) -> TransitResult<Write> {
        let row = self
            .kms
            .record_row(project, KIND_NAME, name, &NameEntry { id }, 1)
            .await?;
        Ok(Write::PutRecord(row))
    }

    /// The write that releases `name` (at its `revision`).
    pub(super) fn name_release(project: ProjectId, name: &str, revision: i64) -> Write {
        Write::DeleteRecord(RecordKey {
            project,
            kind: KIND_NAME.to_string(),
            key: name.to_string(),
            revision,
        })
    }

    /// The write that deletes key document `id` (at its `revision`).
    pub(super) fn doc_delete(project: ProjectId, id: KeyId, revision: i64) -> Write {
        Write::DeleteRecord(RecordKey {
            project,
            kind: KIND_KEY.to_string(),
            key: id.to_string(),
            revision,
        })
    }

    /// Commits `tx`, which leaves key `id` as `after` (`None`: deleted),
    /// drops the cached copy and updates the list index. A revision
    /// conflict becomes [`TransitError::Conflict`]; a name row that already
    /// exists, [`TransitError::NameTaken`] for `claimed_name`.
    pub(super) async fn commit(
        &self,
        project: ProjectId,
        id: KeyId,
        after: Option<&KeyDocument>,
        claimed_name: Option<&str>,
        tx: Transaction,
    ) -> TransitResult<()> {
        let result = self.kms.inner.store.commit(tx).await;
        self.forget(project, id);
        match &result {
            Ok(()) => self.index_written(project, id, after),
            Err(StoreError::RecordConflict(_)) => self.index_forget(project),
            Err(_) => {}
        }
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::AlreadyExists(_)) if claimed_name.is_some() => Err(
                TransitError::NameTaken(claimed_name.unwrap_or_default().to_string()),
            ),
            Err(StoreError::RecordConflict(_)) => Err(TransitError::Conflict(id)),
            Err(e) => Err(e.into()),
        }
    }

    /// Drops the cached copy of key `id`.
    pub(super) fn forget(&self, project: ProjectId, id: KeyId) {
        self.kms
            .inner
            .transit
            .keys
            .invalidate(project, cache_key(id));
    }
}
