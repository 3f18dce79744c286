//! Moving an install to another root of trust.

use std::sync::Arc;

use super::{Actor, Kms};
use crate::error::Result;
use crate::hierarchy::seal_file::{SealFile, SealedTerm};
use crate::hierarchy::{RootError, RootOfTrust, SealContext};
use crate::store::Transaction;

impl Kms {
    /// Re-seals every root key term under `to` (software → PKCS#11,
    /// PKCS#11 → AWS KMS, …). Nothing below the root changes: the root keys
    /// are the same, only what seals them.
    ///
    /// Atomic: `to` is self-tested and every term re-sealed and checked
    /// (unsealed again under `to`) before `root.seal` is replaced by a
    /// rename, so a crash or a failing provider leaves an install that
    /// starts with the old root or with the new one, never neither. The
    /// attempt and the outcome are audited. The running process keeps its
    /// unsealed keys and seals any later term with `to`; the next start
    /// must use `to`.
    pub async fn migrate_root(&self, actor: &Actor, to: Arc<dyn RootOfTrust>) -> Result<()> {
        let _exclusive = self.inner.seal_file.lock().await;
        let from = self.root_of_trust();
        let what = format!("{} -> {}", from.describe(), to.describe());
        let begin = actor.event("root.migrate.begin").object(&what);
        self.inner
            .store
            .commit(Transaction::new().audit(begin))
            .await?;
        let result = self.reseal(from.as_ref(), to.as_ref()).await;
        if result.is_ok() {
            // Later rotations in this process must seal under the new root.
            *self.inner.root.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&to);
        }
        let outcome = match &result {
            Ok(()) => "success".to_string(),
            Err(e) => format!("failed: {e}"),
        };
        let end = actor.event("root.migrate").object(&what).result(outcome);
        self.inner
            .store
            .commit(Transaction::new().audit(end))
            .await?;
        result
    }

    async fn reseal(&self, from: &dyn RootOfTrust, to: &dyn RootOfTrust) -> Result<()> {
        let install = self.inner.install;
        let path = SealFile::path(&self.inner.data_dir);
        let file = SealFile::load(&path)?;
        if file.install_id != install {
            return Err(RootError::WrongInstall {
                expected: install.to_string(),
                found: file.install_id.to_string(),
            }
            .into());
        }
        to.self_test(install).await?;
        let shown = path.display().to_string();
        let mut terms = Vec::with_capacity(file.terms.len());
        for term in &file.terms {
            let context = SealContext {
                install,
                term: term.term,
            };
            let sealed = term.sealed().map_err(|reason| RootError::SealFile {
                path: shown.clone(),
                reason,
            })?;
            let key = from.unseal(&sealed, &context).await?;
            let resealed = to.seal(&key, &context).await?;
            let check = to.unseal(&resealed, &context).await?;
            if check.expose_for_sealing() != key.expose_for_sealing() {
                return Err(RootError::Provider {
                    provider: "migrate",
                    reason: format!(
                        "term {} did not round-trip through the new root of trust",
                        term.term
                    ),
                }
                .into());
            }
            terms.push(SealedTerm::new(term.term, &resealed, term.created_at));
        }
        let migrated = SealFile {
            provider: to.kind(),
            provider_description: to.describe(),
            terms,
            ..file
        };
        migrated.store(&path, false)?;
        tracing::info!(install = %install, from = %from.describe(), to = %to.describe(), "migrated the root of trust");
        Ok(())
    }
}
