//! Versions: making the managed objects of a version, retiring them, manual
//! rotation and the automatic rotation sweep.

use time::OffsetDateTime;

use super::Transit;
use super::algorithm::{KeyAlgorithm, KeyUsage};
use super::error::{TransitError, TransitResult};
use super::model::{KeyDocument, MAX_VERSIONS, StoredVersion, TransitKey, micros, now_micros};
use crate::error::Error;
use crate::ids::{KeyId, ObjectId, ProjectId};
use crate::lifecycle::State;
use crate::object::{RevocationReason, RevocationReasonCode, UsageMask};
use crate::service::{Actor, KeyLocation, Template};
use crate::store::Transaction;

/// How often a rotation that lost a race is tried again.
const ROTATE_ATTEMPTS: usize = 3;

/// What one run of [`Transit::rotate_due`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RotationSweep {
    /// Keys rotated by this run: project, key, new version.
    pub rotated: Vec<(ProjectId, KeyId, u32)>,
    /// Keys that were due but could not be rotated (logged with the reason).
    pub failed: Vec<(ProjectId, KeyId)>,
}

/// The template of a version's secret or private object.
fn template(key: KeyId, location: KeyLocation, usage: UsageMask) -> Template {
    Template {
        usage_mask: Some(usage),
        // Created Active: a version is usable as soon as it is current.
        activation_date: Some(OffsetDateTime::now_utc()),
        object_groups: vec![format!("transit:{key}")],
        location,
        ..Template::default()
    }
}

impl Transit {
    /// Generates the managed object(s) of `version` of key `key`.
    pub(super) async fn new_version(
        &self,
        actor: &Actor,
        project: ProjectId,
        key: KeyId,
        algorithm: KeyAlgorithm,
        location: KeyLocation,
        version: u32,
    ) -> TransitResult<StoredVersion> {
        let spec = algorithm.spec();
        let (object, public) = match algorithm.usage() {
            KeyUsage::EncryptDecrypt | KeyUsage::Mac => {
                let usage = if algorithm.usage() == KeyUsage::Mac {
                    UsageMask::MAC_GENERATE | UsageMask::MAC_VERIFY
                } else {
                    UsageMask::ENCRYPT | UsageMask::DECRYPT
                };
                let id = self
                    .kms
                    .create_key(actor, project, spec, template(key, location, usage))
                    .await?;
                (id, None)
            }
            KeyUsage::SignVerify => {
                let pair = self
                    .kms
                    .create_key_pair(
                        actor,
                        project,
                        spec,
                        template(key, location, UsageMask::SIGN),
                        template(key, KeyLocation::Software, UsageMask::VERIFY),
                    )
                    .await?;
                (pair.private_key, Some(pair.public_key))
            }
        };
        Ok(StoredVersion {
            version,
            object,
            public,
            created_at: now_micros(),
        })
    }

    /// Destroys the objects of a version (revoking them first if Active).
    /// Already destroyed or missing objects are skipped, so a delete that
    /// was interrupted can be run again.
    pub(super) async fn retire_version(
        &self,
        actor: &Actor,
        project: ProjectId,
        version: &StoredVersion,
    ) -> TransitResult<()> {
        for object in std::iter::once(version.object).chain(version.public) {
            self.retire_object(actor, project, object).await?;
        }
        Ok(())
    }

    async fn retire_object(
        &self,
        actor: &Actor,
        project: ProjectId,
        object: ObjectId,
    ) -> TransitResult<()> {
        let state = match self.kms.attributes(project, object).await {
            Ok(a) => a.state,
            Err(Error::ObjectNotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        match state {
            State::Destroyed | State::DestroyedCompromised => return Ok(()),
            State::Active => {
                let reason = RevocationReason {
                    code: RevocationReasonCode::CessationOfOperation,
                    message: Some("named key deleted".into()),
                };
                self.kms
                    .revoke(actor, project, object, reason, None)
                    .await?;
            }
            _ => {}
        }
        self.kms.destroy(actor, project, object).await?;
        Ok(())
    }

    /// Retires a version nobody will reference (its key's write failed).
    /// Best effort: the failure that made it an orphan is what the caller
    /// sees; an orphan left behind is only an unused object.
    pub(super) async fn discard_version(
        &self,
        actor: &Actor,
        project: ProjectId,
        version: &StoredVersion,
    ) {
        if let Err(e) = self.retire_version(actor, project, version).await {
            tracing::warn!(%project, object = %version.object, error = %e,
                "could not destroy the objects of an unused key version");
        }
    }

    /// Adds a version to key `id` and makes it current.
    pub async fn rotate(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
    ) -> TransitResult<TransitKey> {
        let result = self
            .rotate_when(actor, project, id, now_micros(), |_| true)
            .await;
        match result {
            Ok(Some(key)) => Ok(key),
            Ok(None) => Err(TransitError::Invalid("the key was not rotated".into())),
            Err(e) => {
                self.audit_failure(actor, project, id, "transit.key.rotate", &e)
                    .await;
                Err(e)
            }
        }
    }

    /// Rotates key `id` if `due` holds for its current document; retries a
    /// lost race with the document the winner wrote. `None`: not due. The
    /// rotation is recorded as made at `at` (Unix microseconds) or now,
    /// whichever is later, so a sweep run for time `at` never finds the key
    /// it rotated still due.
    async fn rotate_when(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        at: i64,
        due: impl Fn(&KeyDocument) -> bool,
    ) -> TransitResult<Option<TransitKey>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let stored = self.fresh(project, id).await?;
            if !due(&stored.doc) {
                return Ok(None);
            }
            let at = at.max(now_micros());
            match self
                .rotate_once(actor, project, stored.doc, stored.revision, at)
                .await
            {
                Err(TransitError::Conflict(_)) if attempt < ROTATE_ATTEMPTS => continue,
                other => return other.map(Some),
            }
        }
    }

    async fn rotate_once(
        &self,
        actor: &Actor,
        project: ProjectId,
        mut doc: KeyDocument,
        revision: i64,
        at: i64,
    ) -> TransitResult<TransitKey> {
        if doc.versions.len() >= MAX_VERSIONS {
            return Err(TransitError::Invalid(format!(
                "key {} has {MAX_VERSIONS} versions, the most a key keeps",
                doc.id
            )));
        }
        let next = doc
            .current()?
            .version
            .checked_add(1)
            .ok_or_else(|| TransitError::Invalid("version overflow".into()))?;
        let location = if doc.hsm {
            KeyLocation::Hsm
        } else {
            KeyLocation::Software
        };
        let version = self
            .new_version(actor, project, doc.id, doc.algorithm, location, next)
            .await?;
        doc.versions.push(version.clone());
        doc.rotated_at = at;
        doc.updated_at = at;
        let write = match self.doc_write(project, &doc, revision + 1).await {
            Ok(w) => w,
            Err(e) => {
                self.discard_version(actor, project, &version).await;
                return Err(e);
            }
        };
        let tx = Transaction::new().write(write).audit(
            actor
                .event("transit.key.rotate")
                .project(project)
                .object(doc.id),
        );
        if let Err(e) = self.commit(project, doc.id, Some(&doc), None, tx).await {
            self.discard_version(actor, project, &version).await;
            return Err(e);
        }
        Ok(doc.view(project))
    }

    /// Rotates every enabled key, in every project, whose automatic rotation
    /// period has passed at `now`. Run it periodically from one or several
    /// nodes: a key rotated meanwhile by another node is found no longer
    /// due and left alone. A key that fails is logged and reported, and the
    /// others are still rotated.
    pub async fn rotate_due(&self, now: OffsetDateTime) -> TransitResult<RotationSweep> {
        let now = micros(now);
        let actor = Actor::system();
        let mut sweep = RotationSweep::default();
        for project in self.kms.inner.store.projects().await? {
            let project = project.id;
            let docs = match self.all(project).await {
                Ok(docs) => docs,
                Err(e) => {
                    tracing::error!(%project, error = %e, "could not read the keys to rotate");
                    continue;
                }
            };
            for doc in docs.iter().filter(|d| !d.disabled && d.rotation_due(now)) {
                let due = |d: &KeyDocument| !d.disabled && d.rotation_due(now);
                match self.rotate_when(&actor, project, doc.id, now, due).await {
                    Ok(Some(key)) => sweep.rotated.push((project, key.id, key.version)),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(%project, key = %doc.id, error = %e,
                            "automatic rotation failed");
                        self.audit_failure(&actor, project, doc.id, "transit.key.rotate", &e)
                            .await;
                        sweep.failed.push((project, doc.id));
                    }
                }
            }
        }
        Ok(sweep)
    }

    /// Audits a failed management operation (its success is audited in its
    /// own transaction). Best effort: the caller sees the failure anyway.
    pub(super) async fn audit_failure(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        action: &'static str,
        error: &TransitError,
    ) {
        let event = actor
            .event(action)
            .project(project)
            .object(id)
            .result(error.code());
        if let Err(e) = self.kms.inner.audit.record(event).await {
            tracing::error!(%project, key = %id, error = %e, "could not audit a failed key operation");
        }
    }
}
