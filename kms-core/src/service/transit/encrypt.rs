//! Encrypt, decrypt (single and batch), data keys and re-wrap, for
//! `encrypt-decrypt` keys.

use std::collections::HashMap;
use std::sync::Arc;

use zeroize::Zeroize;

use super::Transit;
use super::algorithm::KeyUsage;
use super::ciphertext::{self, Envelope};
use super::error::{TransitError, TransitResult};
use super::model::{KeyDocument, StoredVersion};
use super::storage::Stored;
use crate::crypto::SecretBytes;
use crate::crypto::rng;
use crate::error::Error;
use crate::ids::{KeyId, ProjectId};
use crate::lifecycle::Operation;
use crate::object::UsageMask;
use crate::service::Actor;
use crate::service::keys::{Prepared, UsableKey};

/// Largest plaintext (and data to MAC or sign), in bytes: 4 MiB.
pub const MAX_PAYLOAD: usize = 4 * 1024 * 1024;

/// Largest encryption context (associated data), in bytes.
pub const MAX_CONTEXT: usize = 64 * 1024;

/// Most items in one batch.
pub const MAX_BATCH: usize = 1000;

/// One item of a batch: the plaintext (or ciphertext, as UTF-8 bytes of the
/// envelope) and its encryption context. The input is wiped when the item
/// is dropped and never printed: it may be a plaintext.
#[derive(Clone, Default)]
pub struct BatchItem {
    pub input: Vec<u8>,
    pub context: Vec<u8>,
}

impl Drop for BatchItem {
    fn drop(&mut self) {
        self.input.zeroize();
    }
}

impl std::fmt::Debug for BatchItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchItem")
            .field("input_len", &self.input.len())
            .field("context_len", &self.context.len())
            .finish()
    }
}

/// The size of a data key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKeyKind {
    Aes128,
    Aes256,
}

impl DataKeyKind {
    fn len(self) -> usize {
        match self {
            DataKeyKind::Aes128 => 16,
            DataKeyKind::Aes256 => 32,
        }
    }
}

/// A data encryption key: wrapped under the named key, and in clear when
/// asked for.
pub struct DataKey {
    pub plaintext: Option<SecretBytes>,
    pub ciphertext: String,
    pub version: u32,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("plaintext", &self.plaintext.as_ref().map(|_| "<redacted>"))
            .field("version", &self.version)
            .finish()
    }
}

/// Refuses disabled keys and keys of another usage.
pub(super) fn check_usable(
    doc: &KeyDocument,
    usage: KeyUsage,
    operation: &'static str,
) -> TransitResult<()> {
    if doc.disabled {
        return Err(TransitError::Disabled(doc.id));
    }
    if doc.algorithm.usage() != usage {
        return Err(TransitError::WrongUsage {
            key: doc.id,
            usage: doc.algorithm.usage(),
            operation,
        });
    }
    Ok(())
}

fn check_len(what: &'static str, len: usize, limit: usize) -> TransitResult<()> {
    if len > limit {
        return Err(TransitError::TooLarge { what, limit });
    }
    Ok(())
}

/// Names the version in a lifecycle refusal, so the caller learns which
/// version of the key is no longer usable.
pub(super) fn version_error(e: Error, key: KeyId, version: u32) -> TransitError {
    match e {
        Error::WrongLifecycleState { state, operation } => TransitError::VersionUnusable {
            key,
            version,
            state,
            operation,
        },
        other => other.into(),
    }
}

impl Transit {
    /// The prepared key of a version, from the object cache.
    pub(super) async fn version_key(
        &self,
        project: ProjectId,
        doc: &KeyDocument,
        version: &StoredVersion,
    ) -> TransitResult<Arc<UsableKey>> {
        self.kms
            .usable_key(project, version.object)
            .await
            .map_err(|e| version_error(e, doc.id, version.version))
    }

    /// Seals under a prepared version key.
    async fn seal(
        &self,
        doc: &KeyDocument,
        version: u32,
        key: &UsableKey,
        plaintext: &[u8],
        context: &[u8],
    ) -> TransitResult<String> {
        check_len("the plaintext (bytes)", plaintext.len(), MAX_PAYLOAD)?;
        check_len("the encryption context (bytes)", context.len(), MAX_CONTEXT)?;
        key.check(Operation::Protect, UsageMask::ENCRYPT, "Encrypt")
            .map_err(|e| version_error(e, doc.id, version))?;
        let aad = ciphertext::aad(doc.id, version, context);
        let sealed = match &key.prepared {
            Prepared::Aead(k) => k.seal(&aad, plaintext)?,
            Prepared::ResidentAead(r) => self.kms.resident_encrypt(r, &aad, plaintext).await?,
            _ => {
                return Err(TransitError::Invalid(
                    "the key version is not an AES key".into(),
                ));
            }
        };
        Ok(ciphertext::encode(doc.id, version, &sealed))
    }

    /// Checks that an envelope belongs to this key and names a readable
    /// version.
    fn readable<'d>(doc: &'d KeyDocument, envelope: &Envelope) -> TransitResult<&'d StoredVersion> {
        if envelope.key != doc.id {
            return Err(TransitError::ForeignCiphertext(doc.id));
        }
        doc.readable_version(envelope.version)
    }

    /// Opens a ciphertext envelope under its version's prepared key.
    async fn open(
        &self,
        doc: &KeyDocument,
        key: &UsableKey,
        envelope: &Envelope,
        context: &[u8],
    ) -> TransitResult<SecretBytes> {
        check_len("the encryption context (bytes)", context.len(), MAX_CONTEXT)?;
        key.check(Operation::Process, UsageMask::DECRYPT, "Decrypt")
            .map_err(|e| version_error(e, doc.id, envelope.version))?;
        let aad = ciphertext::aad(doc.id, envelope.version, context);
        Ok(match &key.prepared {
            Prepared::Aead(k) => k.open(&aad, &envelope.body)?,
            Prepared::ResidentAead(r) => self.kms.resident_decrypt(r, &aad, &envelope.body).await?,
            _ => {
                return Err(TransitError::Invalid(
                    "the key version is not an AES key".into(),
                ));
            }
        })
    }

    /// The key's document, checked for use as `operation`.
    async fn encryption_key(
        &self,
        project: ProjectId,
        id: KeyId,
        operation: &'static str,
    ) -> TransitResult<Arc<Stored>> {
        let stored = self.stored(project, id).await?;
        check_usable(&stored.doc, KeyUsage::EncryptDecrypt, operation)?;
        Ok(stored)
    }

    async fn encrypt_inner(
        &self,
        project: ProjectId,
        id: KeyId,
        plaintext: &[u8],
        context: &[u8],
    ) -> TransitResult<String> {
        let stored = self.encryption_key(project, id, "encrypt").await?;
        let current = stored.doc.current()?;
        let key = self.version_key(project, &stored.doc, current).await?;
        self.seal(&stored.doc, current.version, &key, plaintext, context)
            .await
    }

    async fn decrypt_inner(
        &self,
        project: ProjectId,
        id: KeyId,
        text: &str,
        context: &[u8],
    ) -> TransitResult<SecretBytes> {
        let stored = self.encryption_key(project, id, "decrypt").await?;
        let envelope = ciphertext::parse(text)?;
        let version = Self::readable(&stored.doc, &envelope)?;
        let key = self.version_key(project, &stored.doc, version).await?;
        self.open(&stored.doc, &key, &envelope, context).await
    }

    /// Encrypts `plaintext` with the current version, bound to `context`
    /// (empty for none). Returns the ciphertext envelope.
    pub async fn encrypt(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        plaintext: &[u8],
        context: &[u8],
    ) -> TransitResult<String> {
        let result = self.encrypt_inner(project, id, plaintext, context).await;
        self.audited(actor, project, id, "transit.encrypt", result)
            .await
    }

    /// Decrypts a ciphertext envelope made by any readable version of key
    /// `id` with the same `context`.
    pub async fn decrypt(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        ciphertext: &str,
        context: &[u8],
    ) -> TransitResult<SecretBytes> {
        let result = self.decrypt_inner(project, id, ciphertext, context).await;
        self.audited(actor, project, id, "transit.decrypt", result)
            .await
    }

    /// Encrypts each item with the current version. The key is looked up
    /// once; a key-level failure (not found, disabled, wrong usage) fails
    /// the call, an item's own failure (too large) only that item.
    pub async fn encrypt_batch(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        items: &[BatchItem],
    ) -> TransitResult<Vec<TransitResult<String>>> {
        let prepared = async {
            check_len("the batch (items)", items.len(), MAX_BATCH)?;
            let stored = self.encryption_key(project, id, "encrypt").await?;
            let current = stored.doc.current()?.clone();
            let key = self.version_key(project, &stored.doc, &current).await?;
            Ok::<_, TransitError>((stored, current, key))
        }
        .await;
        let (stored, current, key) = self
            .audited(actor, project, id, "transit.encrypt_batch", prepared)
            .await?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let result = self
                .seal(
                    &stored.doc,
                    current.version,
                    &key,
                    &item.input,
                    &item.context,
                )
                .await;
            out.push(
                self.audited(actor, project, id, "transit.encrypt", result)
                    .await,
            );
        }
        Ok(out)
    }

    /// Decrypts each item (an envelope as UTF-8 bytes, and its context).
    /// The key is looked up once, each version's prepared key once.
    pub async fn decrypt_batch(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        items: &[BatchItem],
    ) -> TransitResult<Vec<TransitResult<SecretBytes>>> {
        let prepared = async {
            check_len("the batch (items)", items.len(), MAX_BATCH)?;
            self.encryption_key(project, id, "decrypt").await
        }
        .await;
        let stored = self
            .audited(actor, project, id, "transit.decrypt_batch", prepared)
            .await?;
        let mut keys: HashMap<u32, Arc<UsableKey>> = HashMap::new();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let result = self
                .decrypt_item(project, &stored.doc, &mut keys, item)
                .await;
            out.push(
                self.audited(actor, project, id, "transit.decrypt", result)
                    .await,
            );
        }
        Ok(out)
    }

    async fn decrypt_item(
        &self,
        project: ProjectId,
        doc: &KeyDocument,
        keys: &mut HashMap<u32, Arc<UsableKey>>,
        item: &BatchItem,
    ) -> TransitResult<SecretBytes> {
        let text = std::str::from_utf8(&item.input)
            .map_err(|_| TransitError::MalformedCiphertext("not UTF-8"))?;
        let envelope = ciphertext::parse(text)?;
        let version = Self::readable(doc, &envelope)?;
        let key = match keys.get(&version.version) {
            Some(k) => Arc::clone(k),
            None => {
                let k = self.version_key(project, doc, version).await?;
                keys.insert(version.version, Arc::clone(&k));
                k
            }
        };
        self.open(doc, &key, &envelope, &item.context).await
    }

    /// Generates a random AES data key and wraps it under the current
    /// version (bound to `context`); returns it in clear too when
    /// `with_plaintext`. Unwrap it later with [`Transit::decrypt`].
    pub async fn generate_data_key(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        kind: DataKeyKind,
        context: &[u8],
        with_plaintext: bool,
    ) -> TransitResult<DataKey> {
        let result = async {
            let stored = self
                .encryption_key(project, id, "generate data keys")
                .await?;
            let current = stored.doc.current()?;
            let key = self.version_key(project, &stored.doc, current).await?;
            let dek = rng::random_secret(kind.len())?;
            let ciphertext = self
                .seal(&stored.doc, current.version, &key, dek.expose(), context)
                .await?;
            Ok::<_, TransitError>(DataKey {
                plaintext: with_plaintext.then_some(dek),
                ciphertext,
                version: current.version,
            })
        }
        .await;
        self.audited(actor, project, id, "transit.generate_data_key", result)
            .await
    }

    /// Re-encrypts a ciphertext under the current version, with the same
    /// context, without returning the plaintext.
    pub async fn rewrap(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        ciphertext: &str,
        context: &[u8],
    ) -> TransitResult<String> {
        let result = async {
            let plaintext = self.decrypt_inner(project, id, ciphertext, context).await?;
            self.encrypt_inner(project, id, plaintext.expose(), context)
                .await
        }
        .await;
        self.audited(actor, project, id, "transit.rewrap", result)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::BatchItem;

    #[test]
    fn a_batch_item_prints_no_input() {
        let item = BatchItem {
            input: b"attack at dawn".to_vec(),
            context: b"ctx".to_vec(),
        };
        let shown = format!("{item:?}");
        assert!(!shown.contains("97"), "{shown}");
        assert!(shown.contains("input_len: 14"), "{shown}");
    }
}
