//! Sign, verify, the signing algorithms of a key and its public key, for
//! `sign-verify` keys.
//!
//! Signatures are the bare algorithm output (RSA: modulus-sized; ECDSA:
//! DER `ECDSA-Sig-Value`; Ed25519: 64 bytes), as Infisical returns them, so
//! `openssl dgst -verify` checks them with the exported public key. A
//! signature does not name its version; [`Transit::verify`] is told the
//! version, or tries every readable version from the newest down.
//!
//! `is_digest` (Infisical's `isDigest`) signs a hash the caller computed:
//! RSA and ECDSA sign it as they would have signed the message's hash (the
//! digest must be as long as the algorithm's hash); Ed25519 has no such
//! form (aws-lc-rs offers no Ed25519ph) and refuses it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::Transit;
use super::algorithm::{KeyAlgorithm, KeyUsage, SigningAlgorithm};
use super::encrypt::{MAX_PAYLOAD, check_usable, version_error};
use super::error::{TransitError, TransitResult};
use super::model::{KeyDocument, StoredVersion};
use crate::crypto::signature::VerifyingKey;
use crate::ids::{KeyId, ProjectId};
use crate::lifecycle::Operation;
use crate::object::UsageMask;
use crate::service::Actor;
use crate::service::keys::{Prepared, UsableKey, sign_in_turn};

/// A signature and the version that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    pub signature: Vec<u8>,
    pub version: u32,
    pub algorithm: SigningAlgorithm,
}

/// A version's public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// X.509 `SubjectPublicKeyInfo`, DER.
    pub spki_der: Vec<u8>,
    pub version: u32,
}

impl PublicKey {
    /// The SPKI as PEM (`-----BEGIN PUBLIC KEY-----`), what `openssl`
    /// reads.
    pub fn pem(&self) -> String {
        let body = B64.encode(&self.spki_der);
        let mut pem = String::with_capacity(body.len() + body.len() / 64 + 64);
        pem.push_str("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            // Base64 output is ASCII, so every chunk is valid UTF-8.
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }
}

/// Refuses an algorithm the key cannot use, and `is_digest` for Ed25519.
fn check_algorithm(
    doc: &KeyDocument,
    algorithm: SigningAlgorithm,
    is_digest: bool,
) -> TransitResult<()> {
    if !doc.algorithm.signing_algorithms().contains(&algorithm) {
        return Err(TransitError::AlgorithmMismatch {
            signing: algorithm,
            key: doc.algorithm,
        });
    }
    if is_digest && algorithm == SigningAlgorithm::Ed25519 {
        return Err(TransitError::Invalid(
            "ED25519 signs the message itself: isDigest is not available for it".into(),
        ));
    }
    Ok(())
}

fn check_data(data: &[u8]) -> TransitResult<()> {
    if data.len() > MAX_PAYLOAD {
        return Err(TransitError::TooLarge {
            what: "the data (bytes)",
            limit: MAX_PAYLOAD,
        });
    }
    Ok(())
}

/// The public half of a prepared signing key.
fn verifying(key: &UsableKey) -> TransitResult<&VerifyingKey> {
    match &key.prepared {
        Prepared::Signing(_, v) | Prepared::ResidentSigning(_, v) => Ok(v),
        _ => Err(TransitError::Invalid(
            "the key version is not a signing key".into(),
        )),
    }
}

impl Transit {
    async fn sign_inner(
        &self,
        project: ProjectId,
        id: KeyId,
        algorithm: SigningAlgorithm,
        data: &[u8],
        is_digest: bool,
    ) -> TransitResult<Signed> {
        check_data(data)?;
        let stored = self.stored(project, id).await?;
        check_usable(&stored.doc, KeyUsage::SignVerify, "sign")?;
        check_algorithm(&stored.doc, algorithm, is_digest)?;
        let current = stored.doc.current()?;
        let key = self.version_key(project, &stored.doc, current).await?;
        key.check(Operation::Protect, UsageMask::SIGN, "Sign")
            .map_err(|e| version_error(e, id, current.version))?;
        let scheme = algorithm.scheme();
        let signature = match &key.prepared {
            Prepared::Signing(k, _) => sign_in_turn(k, scheme, data, is_digest).await?,
            Prepared::ResidentSigning(r, v) => {
                self.kms
                    .resident_sign(r, v.key_type(), scheme, data, is_digest)
                    .await?
            }
            _ => {
                return Err(TransitError::Invalid(
                    "the key version is not a signing key".into(),
                ));
            }
        };
        Ok(Signed {
            signature,
            version: current.version,
            algorithm,
        })
    }

    /// Whether `signature` verifies under one version.
    #[allow(clippy::too_many_arguments)]
    async fn verify_with(
        &self,
        project: ProjectId,
        doc: &KeyDocument,
        version: &StoredVersion,
        algorithm: SigningAlgorithm,
        data: &[u8],
        is_digest: bool,
        signature: &[u8],
    ) -> TransitResult<bool> {
        let key = self.version_key(project, doc, version).await?;
        // A private key verifies its own signatures when it may sign.
        key.check(Operation::Process, UsageMask::SIGN, "Verify")
            .map_err(|e| version_error(e, doc.id, version.version))?;
        let v = verifying(&key)?;
        let scheme = algorithm.scheme();
        Ok(if is_digest {
            v.verify_digest(scheme, data, signature)?
        } else {
            v.verify(scheme, data, signature)?
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn verify_inner(
        &self,
        project: ProjectId,
        id: KeyId,
        algorithm: SigningAlgorithm,
        data: &[u8],
        is_digest: bool,
        signature: &[u8],
        version: Option<u32>,
    ) -> TransitResult<bool> {
        check_data(data)?;
        let stored = self.stored(project, id).await?;
        let doc = &stored.doc;
        check_usable(doc, KeyUsage::SignVerify, "verify")?;
        check_algorithm(doc, algorithm, is_digest)?;
        if let Some(n) = version {
            let v = doc.readable_version(n)?;
            return self
                .verify_with(project, doc, v, algorithm, data, is_digest, signature)
                .await;
        }
        // Newest first: signatures are usually recent.
        for v in doc
            .versions
            .iter()
            .rev()
            .take_while(|v| v.version >= doc.min_decryption_version)
        {
            if self
                .verify_with(project, doc, v, algorithm, data, is_digest, signature)
                .await?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Signs `data` (or, with `is_digest`, a digest of it) with the current
    /// version.
    pub async fn sign(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        algorithm: SigningAlgorithm,
        data: &[u8],
        is_digest: bool,
    ) -> TransitResult<Signed> {
        let result = self
            .sign_inner(project, id, algorithm, data, is_digest)
            .await;
        self.audited(actor, project, id, "transit.sign", result)
            .await
    }

    /// Verifies `signature` with `version`, or with every readable version
    /// when `None`.
    #[allow(clippy::too_many_arguments)]
    pub async fn verify(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        algorithm: SigningAlgorithm,
        data: &[u8],
        is_digest: bool,
        signature: &[u8],
        version: Option<u32>,
    ) -> TransitResult<bool> {
        let result = self
            .verify_inner(project, id, algorithm, data, is_digest, signature, version)
            .await;
        self.audited(actor, project, id, "transit.verify", result)
            .await
    }

    /// The algorithm of key `id` (from the metadata cache).
    pub async fn algorithm(&self, project: ProjectId, id: KeyId) -> TransitResult<KeyAlgorithm> {
        Ok(self.stored(project, id).await?.doc.algorithm)
    }

    /// The signing algorithms key `id` accepts.
    pub async fn signing_algorithms(
        &self,
        project: ProjectId,
        id: KeyId,
    ) -> TransitResult<Vec<SigningAlgorithm>> {
        let stored = self.stored(project, id).await?;
        check_usable(&stored.doc, KeyUsage::SignVerify, "list signing algorithms")?;
        Ok(stored.doc.algorithm.signing_algorithms().to_vec())
    }

    /// The public key of `version` (the current one when `None`).
    pub async fn public_key(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: KeyId,
        version: Option<u32>,
    ) -> TransitResult<PublicKey> {
        let result = async {
            let stored = self.stored(project, id).await?;
            let doc = &stored.doc;
            if doc.algorithm.usage() != KeyUsage::SignVerify {
                return Err(TransitError::WrongUsage {
                    key: id,
                    usage: doc.algorithm.usage(),
                    operation: "export a public key",
                });
            }
            let v = match version {
                Some(n) => doc.version(n)?,
                None => doc.current()?,
            };
            let key = self.version_key(project, doc, v).await?;
            Ok::<_, TransitError>(PublicKey {
                spki_der: verifying(&key)?.spki_der().to_vec(),
                version: v.version,
            })
        }
        .await;
        self.audited(actor, project, id, "transit.public_key", result)
            .await
    }
}
