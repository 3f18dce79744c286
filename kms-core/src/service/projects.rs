//! Organizations, projects and their key-encryption keys.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::{Actor, Kms};
use crate::error::{Error, Result};
use crate::hierarchy::ProjectKek;
use crate::ids::{OrganizationId, ProjectId};
use crate::store::{OrganizationRecord, ProjectKeyRecord, ProjectRecord, Transaction, Write};

/// Unwrapped project keys, by project and version. Small (one entry per
/// project key version), so it is not bounded like the object key cache.
#[derive(Default)]
pub(super) struct ProjectKeys {
    keys: RwLock<HashMap<(ProjectId, u32), Arc<ProjectKek>>>,
    current: RwLock<HashMap<ProjectId, u32>>,
}

impl ProjectKeys {
    fn get(&self, project: ProjectId, version: u32) -> Option<Arc<ProjectKek>> {
        self.keys.read().ok()?.get(&(project, version)).cloned()
    }

    fn current_version(&self, project: ProjectId) -> Option<u32> {
        self.current.read().ok()?.get(&project).copied()
    }

    fn insert(&self, kek: Arc<ProjectKek>, is_current: bool) {
        let (project, version) = (kek.project(), kek.version());
        if let Ok(mut keys) = self.keys.write() {
            keys.insert((project, version), kek);
        }
        if is_current && let Ok(mut current) = self.current.write() {
            let entry = current.entry(project).or_insert(version);
            *entry = (*entry).max(version);
        }
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(
            "names are 1 to 255 printable characters".into(),
        ));
    }
    Ok(())
}

impl Kms {
    /// Creates an organization.
    pub async fn create_organization(&self, actor: &Actor, name: &str) -> Result<OrganizationId> {
        check_name(name)?;
        let id = OrganizationId::generate();
        self.insert_organization(actor, id, name).await?;
        Ok(id)
    }

    /// Stores organization `id` (generated, or derived for the system one).
    pub(super) async fn insert_organization(
        &self,
        actor: &Actor,
        id: OrganizationId,
        name: &str,
    ) -> Result<()> {
        let record = OrganizationRecord {
            id,
            name: name.to_string(),
            created_at: now(),
        };
        let event = actor.event("organization.create").object(id);
        self.inner
            .store
            .commit(
                Transaction::new()
                    .write(Write::InsertOrganization(record))
                    .audit(event),
            )
            .await?;
        Ok(())
    }

    /// Creates a project in `organization` with a fresh key-encryption key
    /// wrapped under the current root term.
    pub async fn create_project(
        &self,
        actor: &Actor,
        organization: OrganizationId,
        name: &str,
    ) -> Result<ProjectId> {
        check_name(name)?;
        if self.inner.store.organization(organization).await?.is_none() {
            return Err(Error::InvalidRequest(format!(
                "organization {organization} not found"
            )));
        }
        let id = ProjectId::generate();
        self.insert_project(actor, organization, id, name).await?;
        Ok(id)
    }

    /// Stores project `id` with a fresh key-encryption key wrapped under the
    /// current root term.
    pub(super) async fn insert_project(
        &self,
        actor: &Actor,
        organization: OrganizationId,
        id: ProjectId,
        name: &str,
    ) -> Result<()> {
        let term = self.inner.ring.current_term();
        let wrap = self.inner.ring.wrapping_key(term)?;
        let (kek, wrapped) = ProjectKek::generate(id, 1, term, &wrap)?;
        let created_at = now();
        let tx = Transaction::new()
            .write(Write::InsertProject(ProjectRecord {
                id,
                organization,
                name: name.to_string(),
                created_at,
            }))
            .write(Write::InsertProjectKey(ProjectKeyRecord {
                project: id,
                version: 1,
                root_term: term,
                wrapped,
                created_at,
            }))
            .audit(actor.event("project.create").project(id).object(id));
        self.inner.store.commit(tx).await?;
        self.inner.projects.insert(Arc::new(kek), true);
        Ok(())
    }

    /// Adds a new version of a project's key-encryption key. New objects are
    /// wrapped under it; existing objects keep naming the version that
    /// wrapped them, so nothing has to be re-encrypted at once.
    pub async fn rotate_project_key(&self, actor: &Actor, project: ProjectId) -> Result<u32> {
        let current = self.current_project_kek(project).await?;
        let version = current.version() + 1;
        let term = self.inner.ring.current_term();
        let wrap = self.inner.ring.wrapping_key(term)?;
        let (kek, wrapped) = ProjectKek::generate(project, version, term, &wrap)?;
        let record = ProjectKeyRecord {
            project,
            version,
            root_term: term,
            wrapped,
            created_at: now(),
        };
        let tx = Transaction::new()
            .write(Write::InsertProjectKey(record))
            .audit(
                actor
                    .event("project.key.rotate")
                    .project(project)
                    .object(project),
            );
        self.inner.store.commit(tx).await?;
        self.inner.projects.insert(Arc::new(kek), true);
        self.forget_project(project);
        Ok(version)
    }

    /// The project key version new objects are wrapped under.
    pub(super) async fn current_project_kek(&self, project: ProjectId) -> Result<Arc<ProjectKek>> {
        if let Some(v) = self.inner.projects.current_version(project)
            && let Some(k) = self.inner.projects.get(project, v)
        {
            return Ok(k);
        }
        self.load_project_keys(project).await?;
        let v = self
            .inner
            .projects
            .current_version(project)
            .ok_or(Error::ProjectNotFound(project))?;
        self.inner
            .projects
            .get(project, v)
            .ok_or(Error::ProjectNotFound(project))
    }

    /// A given version of a project key.
    pub(super) async fn project_kek(
        &self,
        project: ProjectId,
        version: u32,
    ) -> Result<Arc<ProjectKek>> {
        if let Some(k) = self.inner.projects.get(project, version) {
            return Ok(k);
        }
        self.load_project_keys(project).await?;
        self.inner
            .projects
            .get(project, version)
            .ok_or_else(|| Error::Integrity {
                what: format!("project {project} key version {version}"),
                reason: "is referenced by an object but does not exist",
            })
    }

    async fn load_project_keys(&self, project: ProjectId) -> Result<()> {
        let records = self.inner.store.project_keys(project).await?;
        if records.is_empty() {
            return Err(Error::ProjectNotFound(project));
        }
        let newest = records.iter().map(|r| r.version).max().unwrap_or(1);
        for r in records {
            let wrap = self.inner.ring.wrapping_key(r.root_term)?;
            let kek = ProjectKek::unwrap(project, r.version, r.root_term, &wrap, &r.wrapped)
                .map_err(|e| Error::Integrity {
                    what: format!("project {project} key version {}", r.version),
                    reason: blob_reason(&e),
                })?;
            self.inner
                .projects
                .insert(Arc::new(kek), r.version == newest);
        }
        Ok(())
    }
}

pub(super) fn blob_reason(e: &crate::hierarchy::blob::BlobError) -> &'static str {
    use crate::hierarchy::blob::BlobError;
    match e {
        BlobError::Malformed => "wrapped blob is truncated or malformed",
        BlobError::WrongKey { .. } => "wrapped blob names a different wrapping key than its row",
        BlobError::NotAuthentic => {
            "wrapped blob does not authenticate: altered, or moved from another row"
        }
    }
}
