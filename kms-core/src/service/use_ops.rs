//! Using keys: encrypt, decrypt, MAC, sign, verify. Each use is checked
//! against the lifecycle and the Cryptographic Usage Mask, runs on the
//! cached prepared key (or, for an HSM-resident key, in the HSM), and is
//! audited.

use std::sync::Arc;

use super::codec;
use super::keys::{KeyProfile, Prepared, UsableKey, sign_in_turn};
use super::objects::failure_code;
use super::{Actor, Kms};
use crate::crypto::signature::SignatureScheme;
use crate::error::{Error, Result};
use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::Operation;
use crate::object::UsageMask;

impl Kms {
    /// The prepared key of `id` in `project`, from the cache or unwrapped
    /// and cached now.
    pub async fn usable_key(&self, project: ProjectId, id: ObjectId) -> Result<Arc<UsableKey>> {
        if let Some(key) = self.inner.cache.get(project, id) {
            return Ok(key);
        }
        let generation = self.inner.cache.generation();
        let (record, kek, attributes) = self.load_online(project, id).await?;
        let material = codec::material_of(&record, &kek)?.ok_or(Error::WrongLifecycleState {
            state: attributes.state,
            operation: Operation::Process,
        })?;
        let key = Arc::new(UsableKey::prepare(&attributes, material)?);
        self.inner
            .cache
            .insert_since(project, id, Arc::clone(&key), generation);
        Ok(key)
    }

    /// The algorithm, length and Cryptographic Parameters of a usable key,
    /// from the key cache: protocols call it per request to choose a mode.
    pub async fn key_profile(&self, project: ProjectId, id: ObjectId) -> Result<KeyProfile> {
        Ok(self.usable_key(project, id).await?.profile().clone())
    }

    /// Runs `op` on the key and audits the outcome as `action`.
    async fn use_key<T>(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        action: &'static str,
        op: impl FnOnce(&UsableKey) -> Result<T>,
    ) -> Result<T> {
        let result = match self.usable_key(project, id).await {
            Ok(key) => op(&key),
            Err(e) => Err(e),
        };
        self.audited(actor, project, id, action, result).await
    }

    /// Audits the outcome of a use as `action` and returns it.
    async fn audited<T>(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        action: &'static str,
        result: Result<T>,
    ) -> Result<T> {
        let outcome = match &result {
            Ok(_) => "success",
            Err(e) => failure_code(e),
        };
        self.inner
            .audit
            .record(
                actor
                    .event(action)
                    .project(project)
                    .object(id)
                    .result(outcome),
            )
            .await?;
        result
    }

    /// AES-GCM encryption: `nonce ‖ ciphertext ‖ tag`, bound to `aad`.
    pub async fn encrypt(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let result = async {
            let key = self.usable_key(project, id).await?;
            key.check(Operation::Protect, UsageMask::ENCRYPT, "Encrypt")?;
            self.spend_if_limited(actor, &key, plaintext.len()).await?;
            match &key.prepared {
                Prepared::Aead(k) => Ok(k.seal(aad, plaintext)?),
                Prepared::ResidentAead(r) => self.resident_encrypt(r, aad, plaintext).await,
                _ => Err(Error::InvalidRequest("the key is not an AES key".into())),
            }
        }
        .await;
        self.audited(actor, project, id, "key.encrypt", result)
            .await
    }

    /// The inverse of [`Kms::encrypt`].
    pub async fn decrypt(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<crate::crypto::SecretBytes> {
        let result = async {
            let key = self.usable_key(project, id).await?;
            key.check(Operation::Process, UsageMask::DECRYPT, "Decrypt")?;
            match &key.prepared {
                Prepared::Aead(k) => Ok(k.open(aad, ciphertext)?),
                Prepared::ResidentAead(r) => self.resident_decrypt(r, aad, ciphertext).await,
                _ => Err(Error::InvalidRequest("the key is not an AES key".into())),
            }
        }
        .await;
        self.audited(actor, project, id, "key.decrypt", result)
            .await
    }

    /// HMAC of `data`.
    pub async fn mac(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let result = async {
            let key = self.usable_key(project, id).await?;
            key.check(Operation::Protect, UsageMask::MAC_GENERATE, "MAC Generate")?;
            self.spend_if_limited(actor, &key, data.len()).await?;
            match &key.prepared {
                Prepared::Hmac(k) => Ok(k.sign(data)),
                _ => Err(Error::InvalidRequest("the key is not an HMAC key".into())),
            }
        }
        .await;
        self.audited(actor, project, id, "key.mac", result).await
    }

    /// Checks an HMAC in constant time.
    pub async fn mac_verify(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        data: &[u8],
        tag: &[u8],
    ) -> Result<bool> {
        self.use_key(actor, project, id, "key.mac_verify", |key| {
            key.check(Operation::Process, UsageMask::MAC_VERIFY, "MAC Verify")?;
            match &key.prepared {
                Prepared::Hmac(k) => Ok(k.verify(data, tag)),
                _ => Err(Error::InvalidRequest("the key is not an HMAC key".into())),
            }
        })
        .await
    }

    /// Signs `data` (or, with `is_digest`, a precomputed digest) with a
    /// private key.
    pub async fn sign(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        scheme: SignatureScheme,
        data: &[u8],
        is_digest: bool,
    ) -> Result<Vec<u8>> {
        let result = async {
            let key = self.usable_key(project, id).await?;
            key.check(Operation::Protect, UsageMask::SIGN, "Sign")?;
            self.spend_if_limited(actor, &key, data.len()).await?;
            match &key.prepared {
                Prepared::Signing(k, _) => Ok(sign_in_turn(k, scheme, data, is_digest).await?),
                Prepared::ResidentSigning(r, v) => {
                    self.resident_sign(r, v.key_type(), scheme, data, is_digest)
                        .await
                }
                _ => Err(Error::InvalidRequest(
                    "the key is not a private signing key".into(),
                )),
            }
        }
        .await;
        self.audited(actor, project, id, "key.sign", result).await
    }

    /// Verifies a signature with a public key, or with the public half of a
    /// private key.
    #[allow(clippy::too_many_arguments)]
    pub async fn verify(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        scheme: SignatureScheme,
        data: &[u8],
        is_digest: bool,
        signature: &[u8],
    ) -> Result<bool> {
        self.use_key(actor, project, id, "key.verify", |key| {
            // A private key verifies its own signatures when it may sign.
            let needed = if matches!(
                key.prepared,
                Prepared::Signing(..) | Prepared::ResidentSigning(..)
            ) {
                UsageMask::SIGN
            } else {
                UsageMask::VERIFY
            };
            key.check(Operation::Process, needed, "Verify")?;
            let k = match &key.prepared {
                Prepared::Verifying(k)
                | Prepared::Signing(_, k)
                | Prepared::ResidentSigning(_, k) => k,
                _ => {
                    return Err(Error::InvalidRequest(
                        "the key cannot verify signatures".into(),
                    ));
                }
            };
            Ok(if is_digest {
                k.verify_digest(scheme, data, signature)?
            } else {
                k.verify(scheme, data, signature)?
            })
        })
        .await
    }
}
