//! Root key rotation: a new root key term, every project key re-wrapped under
//! it in the background, and the old terms retired once nothing refers to
//! them.
//!
//! The steps, and why each is safe to interrupt:
//!
//! 1. **Begin.** A fresh root key (term N+1) is sealed by the root of trust,
//!    unsealed again as a check, and added to `root.seal` as the current
//!    term, beside the old ones (atomic rename). From then on new project
//!    keys are wrapped under N+1 and new audit heads are sealed with N+1's
//!    audit key. A crash here leaves a file with both terms: the next start
//!    unseals both, and the audit head, sealed under N or N+1, authenticates.
//! 2. **Re-wrap.** Project key versions still wrapped under an older term
//!    are re-wrapped under N+1, a batch per transaction, each batch audited.
//!    Only the wrapping changes: the project keys themselves, and so every
//!    object below them, stay as they are, and requests keep being served.
//!    A crash leaves some rows under N and some under N+1; both terms are
//!    still in `root.seal`, so all of them open.
//! 3. **Retire.** When no row names an old term, `root.seal` is rewritten
//!    with the current term only, and the old keys are dropped from memory.
//!    The audit head has been sealed with N+1's key since step 1.
//!
//! Running the rotation again after a crash finishes the interrupted one
//! (it does not start another term while old ones remain).

use super::{Actor, Kms};
use crate::error::{Error, Result};
use crate::hierarchy::seal_file::{SealFile, SealedTerm};
use crate::hierarchy::{ProjectKek, RootError, RootKey, SealContext};
use crate::store::{ProjectKeyRecord, Transaction, Write};

/// How many project key versions one transaction re-wraps.
const BATCH: usize = 64;

/// Where a rotation is, reported after each re-wrapped batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationProgress {
    /// The new current term.
    pub term: u32,
    /// Project key versions re-wrapped so far.
    pub rewrapped: u64,
    /// Project key versions that were under an older term at the start.
    pub total: u64,
}

/// The outcome of a completed rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationReport {
    /// The current term now.
    pub term: u32,
    /// Whether this call finished a rotation an earlier one began.
    pub resumed: bool,
    /// Project key versions re-wrapped.
    pub rewrapped: u64,
    /// The terms removed from `root.seal`.
    pub retired: Vec<u32>,
}

impl Kms {
    /// Rotates the root key: begin, re-wrap, retire (see the module docs).
    /// `progress` is called after every batch. Rotations and root
    /// migrations in this process run one at a time.
    pub async fn rotate_root(
        &self,
        actor: &Actor,
        progress: &(dyn Fn(RotationProgress) + Send + Sync),
    ) -> Result<RotationReport> {
        let _exclusive = self.inner.seal_file.lock().await;
        let resumed = self.inner.ring.terms().len() > 1;
        let term = if resumed {
            self.inner.ring.current_term()
        } else {
            self.begin_rotation(actor).await?
        };
        tracing::info!(term, resumed, "root rotation: re-wrapping project keys");
        let rewrapped = self.rewrap_project_keys(actor, progress).await?;
        let retired = self.retire_old_terms(actor).await?;
        tracing::info!(term, rewrapped, ?retired, "root rotation complete");
        Ok(RotationReport {
            term,
            resumed,
            rewrapped,
            retired,
        })
    }

    /// The root key terms this process holds, oldest first; more than one
    /// while a rotation is under way.
    pub fn root_terms(&self) -> Vec<u32> {
        self.inner.ring.terms()
    }

    /// Step 1: a new term, sealed, checked, written and made current.
    async fn begin_rotation(&self, actor: &Actor) -> Result<u32> {
        let install = self.inner.install;
        let path = SealFile::path(&self.inner.data_dir);
        let mut file = SealFile::load(&path)?;
        if file.install_id != install {
            return Err(RootError::WrongInstall {
                expected: install.to_string(),
                found: file.install_id.to_string(),
            }
            .into());
        }
        let term = file
            .terms
            .iter()
            .map(|t| t.term)
            .max()
            .unwrap_or(0)
            .checked_add(1)
            .ok_or(Error::InvalidRequest("no root key term is left".into()))?;
        let root = self.root_of_trust();
        let key = RootKey::generate(term)?;
        let context = SealContext { install, term };
        let sealed = root.seal(&key, &context).await?;
        let check = root.unseal(&sealed, &context).await?;
        if check.expose_for_sealing() != key.expose_for_sealing() {
            return Err(RootError::Provider {
                provider: "rotate",
                reason: format!("term {term} did not round-trip through the root of trust"),
            }
            .into());
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        file.terms.push(SealedTerm::new(term, &sealed, now));
        file.current_term = term;
        file.store(&path, false)?;
        self.inner.ring.add_current(&key)?;
        self.inner.ring.update_chain(&self.inner.chain);
        let event = actor
            .event("root.rotate.begin")
            .object(format!("root term {term}"));
        self.inner
            .store
            .commit(Transaction::new().audit(event))
            .await?;
        tracing::info!(install = %install, term, root = %root.describe(), "root rotation: new term sealed");
        Ok(term)
    }

    /// Step 2: every project key version under an older term, re-wrapped
    /// under the current one.
    async fn rewrap_project_keys(
        &self,
        actor: &Actor,
        progress: &(dyn Fn(RotationProgress) + Send + Sync),
    ) -> Result<u64> {
        let ring = &self.inner.ring;
        let term = ring.current_term();
        let mut pending = Vec::new();
        for old in ring.terms().into_iter().filter(|t| *t != term) {
            pending.extend(self.inner.store.project_keys_under_root_term(old).await?);
        }
        let total = pending.len() as u64;
        let mut rewrapped = 0u64;
        progress(RotationProgress {
            term,
            rewrapped,
            total,
        });
        let mut last_log = std::time::Instant::now();
        for batch in pending.chunks(BATCH) {
            let mut tx = Transaction::new();
            for record in batch {
                tx = tx.write(Write::RewrapProjectKey(self.rewrapped(record, term)?));
            }
            let event = actor.event("root.rotate.rewrap").object(format!(
                "{} project key versions to root term {term}",
                batch.len()
            ));
            self.inner.store.commit(tx.audit(event)).await?;
            rewrapped += batch.len() as u64;
            progress(RotationProgress {
                term,
                rewrapped,
                total,
            });
            if last_log.elapsed() >= std::time::Duration::from_secs(2) {
                tracing::info!(term, rewrapped, total, "root rotation: re-wrapping");
                last_log = std::time::Instant::now();
            }
            // Leave room for requests between batches.
            tokio::task::yield_now().await;
        }
        Ok(rewrapped)
    }

    fn rewrapped(&self, record: &ProjectKeyRecord, term: u32) -> Result<ProjectKeyRecord> {
        let ring = &self.inner.ring;
        let from = ring.wrapping_key(record.root_term)?;
        let to = ring.wrapping_key(term)?;
        let wrapped = ProjectKek::rewrap(
            record.project,
            record.version,
            (record.root_term, &from),
            (term, &to),
            &record.wrapped,
        )
        .map_err(|e| Error::Integrity {
            what: format!("project {} key version {}", record.project, record.version),
            reason: super::projects::blob_reason(&e),
        })?;
        Ok(ProjectKeyRecord {
            root_term: term,
            wrapped,
            ..record.clone()
        })
    }

    /// Step 3: the old terms leave `root.seal` and memory, once no project
    /// key refers to them.
    async fn retire_old_terms(&self, actor: &Actor) -> Result<Vec<u32>> {
        let ring = &self.inner.ring;
        let term = ring.current_term();
        let old: Vec<u32> = ring.terms().into_iter().filter(|t| *t != term).collect();
        for t in &old {
            let left = self.inner.store.project_keys_under_root_term(*t).await?;
            if !left.is_empty() {
                return Err(Error::InvalidRequest(format!(
                    "root term {t} still wraps {} project key versions; it cannot be retired",
                    left.len()
                )));
            }
        }
        if old.is_empty() {
            return Ok(old);
        }
        let path = SealFile::path(&self.inner.data_dir);
        let mut file = SealFile::load(&path)?;
        file.terms.retain(|t| t.term == term);
        if file.current_term != term || file.terms.len() != 1 {
            return Err(RootError::SealFile {
                path: path.display().to_string(),
                reason: format!(
                    "changed by someone else during rotation (current term {} there, {term} here)",
                    file.current_term
                ),
            }
            .into());
        }
        file.store(&path, false)?;
        ring.retire_old_terms();
        ring.update_chain(&self.inner.chain);
        let event = actor
            .event("root.rotate")
            .object(format!("root term {term}; retired {old:?}"))
            .result("success");
        self.inner
            .store
            .commit(Transaction::new().audit(event))
            .await?;
        Ok(old)
    }
}
