//! Creating, reading, listing, changing and deleting named keys.

use super::Transit;
use super::error::{TransitError, TransitResult};
use super::model::{
    KeyDocument, KeyPage, KeyUpdate, ListQuery, MAX_LIST_LIMIT, NewKey, TransitKey,
    check_description, check_name, check_period, now_micros,
};
use crate::error::Error;
use crate::ids::{KeyId, ProjectId};
use crate::service::{Actor, KeyLocation};
use crate::store::Transaction;

/// How often an update that lost a race is tried again.
const UPDATE_ATTEMPTS: usize = 3;

impl Transit {
    /// Creates key `new.name` in `project` with its first version.
    pub async fn create(
        &self,
        actor: &Actor,
        project: ProjectId,
        new: NewKey,
    ) -> TransitResult<TransitKey> {
        check_name(&new.name)?;
        check_description(&new.description)?;
        let period = check_period(new.auto_rotate_period)?;
        if let Some(usage) = new.usage
            && usage != new.algorithm.usage()
        {
            return Err(TransitError::Invalid(format!(
                "a {} key is a {} key, not a {usage} key",
                new.algorithm,
                new.algorithm.usage()
            )));
        }
        let organization = self
            .kms
            .inner
            .store
            .project(project)
            .await?
            .ok_or(Error::ProjectNotFound(project))?
            .organization;
        if self.named(project, &new.name).await?.is_some() {
            return Err(TransitError::NameTaken(new.name));
        }
        let id = KeyId::generate();
        let first = self
            .new_version(actor, project, id, new.algorithm, new.location, 1)
            .await?;
        let now = now_micros();
        let doc = KeyDocument {
            id,
            organization,
            name: new.name,
            description: new.description,
            disabled: false,
            algorithm: new.algorithm,
            hsm: new.location == KeyLocation::Hsm,
            versions: vec![first.clone()],
            min_decryption_version: 1,
            auto_rotate_period_secs: period,
            created_at: now,
            updated_at: now,
            rotated_at: now,
        };
        let committed = async {
            let tx = Transaction::new()
                .write(self.doc_write(project, &doc, 1).await?)
                .write(self.name_write(project, &doc.name, id).await?)
                .write(self.directory_write(project, id).await?)
                .audit(
                    actor
                        .event("transit.key.create")
                        .project(project)
                        .object(id),
                );
            self.commit(project, id, Some(&doc), Some(&doc.name), tx)
                .await
        }
        .await;
        if let Err(e) = committed {
            self.discard_version(actor, project, &first).await;
            self.audit_failure(actor, project, id, "transit.key.create", &e)
                .await;
            return Err(e);
        }
        Ok(doc.view(project))
    }

    /// Key `id` of `project`.
    pub async fn get(&self, project: ProjectId, id: KeyId) -> TransitResult<TransitKey> {
        Ok(self.stored(project, id).await?.doc.view(project))
    }

    /// The key named `name` in `project`.
    pub async fn get_by_name(&self, project: ProjectId, name: &str) -> TransitResult<TransitKey> {
        let (id, _) = self
            .named(project, name)
            .await?
            .ok_or_else(|| TransitError::KeyNotFound(format!("named {name:?}")))?;
        self.get(project, id).await
    }

    /// A page of `project`'s keys, filtered, sorted and counted, from the
    /// project's list index (see `index`); the page's documents come from
    /// the metadata cache.
    pub async fn list(&self, project: ProjectId, query: &ListQuery) -> TransitResult<KeyPage> {
        if query.limit > MAX_LIST_LIMIT {
            return Err(TransitError::Invalid(format!(
                "a page holds at most {MAX_LIST_LIMIT} keys"
            )));
        }
        let (ids, total_count) = self.page_ids(project, query).await?;
        let mut keys = Vec::with_capacity(ids.len());
        for id in ids {
            match self.stored(project, id).await {
                Ok(stored) => keys.push(stored.doc.view(project)),
                // Deleted by another node since the index was built.
                Err(TransitError::KeyNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(KeyPage { keys, total_count })
    }

    /// Changes name, description, enabled flag, minimum decryption version
    /// or rotation period of key `id`.
    pub async fn update(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        change: KeyUpdate,
    ) -> TransitResult<TransitKey> {
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            match self.update_once(actor, project, id, &change).await {
                Err(TransitError::Conflict(_)) if attempt < UPDATE_ATTEMPTS => continue,
                other => break other,
            }
        };
        if let Err(e) = &result {
            self.audit_failure(actor, project, id, "transit.key.update", e)
                .await;
        }
        result
    }

    async fn update_once(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        change: &KeyUpdate,
    ) -> TransitResult<TransitKey> {
        let stored = self.fresh(project, id).await?;
        let mut doc = stored.doc;
        let old_name = doc.name.clone();
        apply(&mut doc, change)?;
        doc.updated_at = now_micros();
        let mut tx =
            Transaction::new().write(self.doc_write(project, &doc, stored.revision + 1).await?);
        let renamed = doc.name != old_name;
        if renamed {
            let (owner, name_revision) = self
                .named(project, &old_name)
                .await?
                .ok_or_else(|| name_index_broken(id))?;
            if owner != id {
                return Err(name_index_broken(id));
            }
            tx = tx
                .write(self.name_write(project, &doc.name, id).await?)
                .write(Self::name_release(project, &old_name, name_revision));
        }
        tx = tx.audit(
            actor
                .event("transit.key.update")
                .project(project)
                .object(id),
        );
        let claimed = renamed.then_some(doc.name.as_str());
        self.commit(project, id, Some(&doc), claimed, tx).await?;
        Ok(doc.view(project))
    }

    /// Deletes key `id`: destroys every version's objects (so its
    /// ciphertexts can never be decrypted again), then removes the key and
    /// its name. Returns the key as it was.
    pub async fn delete(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
    ) -> TransitResult<TransitKey> {
        let result = self.delete_inner(actor, project, id).await;
        if let Err(e) = &result {
            self.audit_failure(actor, project, id, "transit.key.delete", e)
                .await;
        }
        result
    }

    async fn delete_inner(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
    ) -> TransitResult<TransitKey> {
        let stored = self.fresh(project, id).await?;
        // Destroy first: if this stops half-way, the key still lists and
        // the delete can be run again (retired versions are skipped).
        for version in &stored.doc.versions {
            self.retire_version(actor, project, version).await?;
        }
        let mut tx = Transaction::new().write(Self::doc_delete(project, id, stored.revision));
        if let Some((owner, name_revision)) = self.named(project, &stored.doc.name).await?
            && owner == id
        {
            tx = tx.write(Self::name_release(project, &stored.doc.name, name_revision));
        }
        if let Some(write) = self.directory_delete(project, id).await? {
            tx = tx.write(write);
        }
        tx = tx.audit(
            actor
                .event("transit.key.delete")
                .project(project)
                .object(id),
        );
        self.commit(project, id, None, None, tx).await?;
        self.directory_forget(id);
        Ok(stored.doc.view(project))
    }
}

/// Applies a caller's changes to a document, checking each.
fn apply(doc: &mut KeyDocument, change: &KeyUpdate) -> TransitResult<()> {
    if let Some(name) = &change.name {
        check_name(name)?;
        doc.name.clone_from(name);
    }
    if let Some(description) = &change.description {
        check_description(description)?;
        doc.description.clone_from(description);
    }
    if let Some(disabled) = change.is_disabled {
        doc.disabled = disabled;
    }
    if let Some(min) = change.min_decryption_version {
        let current = doc.current()?.version;
        if min == 0 || min > current {
            return Err(TransitError::Invalid(format!(
                "the minimum decryption version must be between 1 and the current version {current}"
            )));
        }
        doc.min_decryption_version = min;
    }
    if let Some(period) = change.auto_rotate_period {
        doc.auto_rotate_period_secs = check_period(period)?;
    }
    Ok(())
}

fn name_index_broken(id: KeyId) -> TransitError {
    Error::Integrity {
        what: format!("name of key {id}"),
        reason: "the name index does not point at this key",
    }
    .into()
}
