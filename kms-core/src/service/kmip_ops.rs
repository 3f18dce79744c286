//! Key uses the KMIP profiles need beyond the cached fast path of
//! [`super::use_ops`]: AES in CBC, ECB and CTR, AES-GCM with a
//! client-chosen IV, RSA encryption (OAEP, PKCS#1 v1.5), HMAC under a
//! key registered as AES but whose Cryptographic Parameters name an HMAC,
//! and wrapping a key value for a wrapped Get (AES-KW, AES-KWP, RSA).
//!
//! These need the raw key bytes (or the whole private key), which the cache
//! does not keep: each call loads and authenticates the object row, unwraps
//! its material for the length of the call (zeroized on drop), checks the
//! lifecycle and the Cryptographic Usage Mask exactly as the fast path does,
//! and audits the use with the same action names (`key.encrypt`,
//! `key.decrypt`, `key.mac`).

use time::OffsetDateTime;

use super::codec;
use super::objects::failure_code;
use super::{Actor, Kms};
use crate::crypto::aead::{self, AeadAlgorithm, AeadKey};
use crate::crypto::cipher::{self, BlockMode, Padding};
use crate::crypto::gcm_any_iv;
use crate::crypto::hmac::{HmacAlgorithm, HmacKey};
use crate::crypto::keywrap;
use crate::crypto::rsa_oaep::{RsaDecryptingKey, RsaEncryptingKey, RsaEncryptionScheme};
use crate::crypto::{CryptoError, SecretBytes};
use crate::error::{Error, Result};
use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::{self, Operation};
use crate::object::{Attributes, CryptographicAlgorithm, KeyMaterial, UsageMask};

/// How to encrypt or decrypt with a symmetric key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymmetricMode {
    /// AES-GCM, a tag of `tag_len` bytes (12 to 16). The IV is 96 bits
    /// unless the caller gives one of another length (1 to 128 bytes).
    Gcm { tag_len: usize },
    /// An unauthenticated AES mode.
    Block(BlockMode, Padding),
}

/// The output of [`Kms::encrypt_symmetric`].
pub struct SymmetricCiphertext {
    pub ciphertext: Vec<u8>,
    /// The IV or counter block used (the caller's, or the one drawn).
    pub iv: Option<Vec<u8>>,
    /// The GCM tag.
    pub tag: Option<Vec<u8>>,
}

/// How [`Kms::wrap_key_value`] wraps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WrapScheme {
    /// AES Key Wrap, RFC 3394 (KMIP's NIST Key Wrap).
    AesKeyWrap,
    /// AES Key Wrap with Padding, RFC 5649.
    AesKeyWrapPadded,
    /// RSA encryption with this scheme and OAEP label.
    Rsa(RsaEncryptionScheme, Vec<u8>),
}

/// Why a caller-chosen GCM IV is refused; see [`aead::is_server_nonce`].
const RESERVED_IV: &str = "AES-GCM IVs whose first bit is set are reserved for IVs the server draws; choose one with the first bit clear, or let the server choose";

impl Kms {
    /// Encrypts with an AES key in `mode`. `iv` is the caller's IV (GCM:
    /// 12 bytes with the first bit clear, or 1 to 128 bytes of another
    /// length; CBC/CTR: 16 bytes); without one the
    /// server draws it. `aad` is for GCM only.
    #[allow(clippy::too_many_arguments)]
    pub async fn encrypt_symmetric(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        mode: SymmetricMode,
        iv: Option<&[u8]>,
        aad: &[u8],
        data: &[u8],
    ) -> Result<SymmetricCiphertext> {
        let check =
            Check::new(Operation::Protect, UsageMask::ENCRYPT, "Encrypt").spending(data.len());
        self.with_material(
            actor,
            project,
            id,
            "key.encrypt",
            check,
            |attrs, material| {
                let key = aes_key(attrs, material)?;
                match mode {
                    SymmetricMode::Gcm { tag_len } => gcm_seal(key, iv, aad, data, tag_len),
                    SymmetricMode::Block(block, padding) => {
                        let out = cipher::encrypt(key, block, padding, iv, data)?;
                        Ok(SymmetricCiphertext {
                            ciphertext: out.ciphertext,
                            iv: out.iv.map(|iv| iv.to_vec()),
                            tag: None,
                        })
                    }
                }
            },
        )
        .await
    }

    /// The inverse of [`Kms::encrypt_symmetric`]; `tag` is GCM's.
    #[allow(clippy::too_many_arguments)]
    pub async fn decrypt_symmetric(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        mode: SymmetricMode,
        iv: Option<&[u8]>,
        aad: &[u8],
        data: &[u8],
        tag: &[u8],
    ) -> Result<SecretBytes> {
        let check = Check::new(Operation::Process, UsageMask::DECRYPT, "Decrypt");
        self.with_material(
            actor,
            project,
            id,
            "key.decrypt",
            check,
            |attrs, material| {
                let key = aes_key(attrs, material)?;
                match mode {
                    SymmetricMode::Gcm { tag_len } => {
                        let iv = iv.ok_or(CryptoError::InvalidInput("the IV is missing"))?;
                        if tag.len() != tag_len {
                            return Err(Error::InvalidRequest(format!(
                                "the tag is {} bytes, the Tag Length says {tag_len}",
                                tag.len()
                            )));
                        }
                        if iv.len() == aead::NONCE_LEN {
                            Ok(aead::open_short_tag(key, iv, aad, data, tag)?)
                        } else {
                            Ok(gcm_any_iv::open(key, iv, aad, data, tag)?)
                        }
                    }
                    SymmetricMode::Block(block, padding) => {
                        Ok(cipher::decrypt(key, block, padding, iv, data)?)
                    }
                }
            },
        )
        .await
    }

    /// Encrypts with an RSA public key, or with the public half of an RSA
    /// private key.
    pub async fn encrypt_rsa(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        scheme: RsaEncryptionScheme,
        label: &[u8],
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let check =
            Check::new(Operation::Protect, UsageMask::ENCRYPT, "Encrypt").spending(data.len());
        self.with_material(actor, project, id, "key.encrypt", check, |_, material| {
            let key = match material {
                KeyMaterial::PublicKeySpki(der) => RsaEncryptingKey::from_spki_der(der)?,
                KeyMaterial::PrivateKeyPkcs8(der) => {
                    RsaDecryptingKey::from_pkcs8(der.expose())?.public_key()?
                }
                _ => return Err(not("an RSA key")),
            };
            Ok(key.encrypt_with_label(scheme, label, data)?)
        })
        .await
    }

    /// Decrypts with an RSA private key. Every failure to recover a
    /// plaintext is the same error (see [`crate::crypto::rsa_oaep`]).
    pub async fn decrypt_rsa(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        scheme: RsaEncryptionScheme,
        label: &[u8],
        data: &[u8],
    ) -> Result<SecretBytes> {
        let check = Check::new(Operation::Process, UsageMask::DECRYPT, "Decrypt");
        self.with_material(actor, project, id, "key.decrypt", check, |_, material| {
            let KeyMaterial::PrivateKeyPkcs8(der) = material else {
                return Err(not("an RSA private key"));
            };
            Ok(RsaDecryptingKey::from_pkcs8(der.expose())?
                .decrypt_with_label(scheme, label, data)?)
        })
        .await
    }

    /// HMAC of `data` under the raw bytes of a symmetric key with `hash`:
    /// for keys whose Cryptographic Parameters name an HMAC although the
    /// key itself is registered under another algorithm.
    pub async fn mac_with(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        hash: HmacAlgorithm,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let check = Check::new(Operation::Protect, UsageMask::MAC_GENERATE, "MAC Generate")
            .spending(data.len());
        self.with_material(actor, project, id, "key.mac", check, |_, material| {
            let KeyMaterial::Symmetric(k) = material else {
                return Err(not("a symmetric key"));
            };
            Ok(HmacKey::new(hash, k.expose())?.sign(data))
        })
        .await
    }

    /// Checks, in constant time, an HMAC made as [`Kms::mac_with`] makes it.
    pub async fn mac_verify_with(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        hash: HmacAlgorithm,
        data: &[u8],
        tag: &[u8],
    ) -> Result<bool> {
        let check = Check::new(Operation::Process, UsageMask::MAC_VERIFY, "MAC Verify");
        self.with_material(
            actor,
            project,
            id,
            "key.mac_verify",
            check,
            |_, material| {
                let KeyMaterial::Symmetric(k) = material else {
                    return Err(not("a symmetric key"));
                };
                Ok(HmacKey::new(hash, k.expose())?.verify(data, tag))
            },
        )
        .await
    }

    /// Wraps `key_value` (an object's key value, already encoded) under the
    /// wrapping key `id` for a wrapped Get. The wrapping key must allow
    /// Wrap Key; the use is audited as `key.wrap`.
    pub async fn wrap_key_value(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        scheme: &WrapScheme,
        key_value: &[u8],
    ) -> Result<Vec<u8>> {
        let check = Check::new(Operation::Protect, UsageMask::WRAP_KEY, "Wrap Key")
            .spending(key_value.len());
        self.with_material(
            actor,
            project,
            id,
            "key.wrap",
            check,
            |attrs, material| match scheme {
                WrapScheme::AesKeyWrap => Ok(keywrap::wrap(aes_key(attrs, material)?, key_value)?),
                WrapScheme::AesKeyWrapPadded => Ok(keywrap::wrap_with_padding(
                    aes_key(attrs, material)?,
                    key_value,
                )?),
                WrapScheme::Rsa(scheme, label) => {
                    let key = match material {
                        KeyMaterial::PublicKeySpki(der) => RsaEncryptingKey::from_spki_der(der)?,
                        KeyMaterial::PrivateKeyPkcs8(der) => {
                            RsaDecryptingKey::from_pkcs8(der.expose())?.public_key()?
                        }
                        _ => return Err(not("an RSA key")),
                    };
                    Ok(key.encrypt_with_label(*scheme, label, key_value)?)
                }
            },
        )
        .await
    }

    /// Loads `id`, checks it may be used, runs `op` on its attributes and
    /// material, and audits the outcome as `action`.
    async fn with_material<T>(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        action: &'static str,
        check: Check,
        op: impl FnOnce(&Attributes, &KeyMaterial) -> Result<T>,
    ) -> Result<T> {
        let result = self.use_material(actor, project, id, check, op).await;
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

    async fn use_material<T>(
        &self,
        actor: &Actor,
        project: ProjectId,
        id: ObjectId,
        check: Check,
        op: impl FnOnce(&Attributes, &KeyMaterial) -> Result<T>,
    ) -> Result<T> {
        let (record, kek, attrs) = self.load_online(project, id).await?;
        let now = OffsetDateTime::now_utc();
        let state = lifecycle::effective_state(
            attrs.state,
            attrs.activation_date,
            attrs.deactivation_date,
            now,
        )
        .0;
        lifecycle::require(state, check.operation)?;
        attrs.use_period().check(id, check.operation, now)?;
        if !attrs.cryptographic_usage_mask.contains(check.usage) {
            return Err(Error::UsageNotPermitted(id, check.name));
        }
        if let (Some(bytes), Some(_)) = (check.spends, attrs.usage_limits) {
            self.spend_usage(actor, project, id, bytes).await?;
        }
        let material = codec::material_of(&record, &kek)?.ok_or(Error::WrongLifecycleState {
            state,
            operation: check.operation,
        })?;
        op(&attrs, &material)
    }
}

/// What a use requires of the key's state and usage mask.
struct Check {
    operation: Operation,
    usage: UsageMask,
    name: &'static str,
    /// A protecting use over this many bytes, spent from the key's Usage
    /// Limits if it has them.
    spends: Option<usize>,
}

impl Check {
    fn new(operation: Operation, usage: UsageMask, name: &'static str) -> Self {
        Self {
            operation,
            usage,
            name,
            spends: None,
        }
    }

    fn spending(self, bytes: usize) -> Self {
        Self {
            spends: Some(bytes),
            ..self
        }
    }
}

fn not(what: &str) -> Error {
    Error::InvalidRequest(format!("the key is not {what}"))
}

fn aes_key<'a>(attrs: &Attributes, material: &'a KeyMaterial) -> Result<&'a [u8]> {
    match (material, attrs.cryptographic_algorithm) {
        (KeyMaterial::Symmetric(k), Some(CryptographicAlgorithm::Aes)) => Ok(k.expose()),
        _ => Err(not("an AES key")),
    }
}

/// GCM under the caller's IV (refused in the server's half of the IV
/// space) or a fresh one the server draws; the tag cut to `tag_len`.
fn gcm_seal(
    key: &[u8],
    iv: Option<&[u8]>,
    aad: &[u8],
    data: &[u8],
    tag_len: usize,
) -> Result<SymmetricCiphertext> {
    if !(aead::MIN_TAG_LEN..=aead::TAG_LEN).contains(&tag_len) {
        return Err(CryptoError::Unsupported("AES-GCM tags shorter than 96 bits").into());
    }
    let k = AeadKey::new(AeadAlgorithm::for_key_len(key.len())?, key)?;
    match iv {
        Some(iv) if iv.len() != aead::NONCE_LEN => {
            let (ciphertext, tag) = gcm_any_iv::seal(key, iv, aad, data, tag_len)?;
            Ok(SymmetricCiphertext {
                ciphertext,
                iv: Some(iv.to_vec()),
                tag: Some(tag),
            })
        }
        Some(iv) if aead::is_server_nonce(iv) => Err(Error::InvalidRequest(RESERVED_IV.into())),
        Some(iv) => {
            let (ciphertext, tag) = k.seal_with_nonce(iv, aad, data)?;
            Ok(SymmetricCiphertext {
                ciphertext,
                iv: Some(iv.to_vec()),
                tag: tag.get(..tag_len).map(<[u8]>::to_vec),
            })
        }
        None => {
            let sealed = k.seal(aad, data)?;
            let (nonce, rest) = sealed
                .split_at_checked(aead::OVERHEAD - aead::TAG_LEN)
                .ok_or(CryptoError::Internal("AES-GCM output"))?;
            let (ciphertext, tag) = rest
                .split_at_checked(rest.len().saturating_sub(aead::TAG_LEN))
                .ok_or(CryptoError::Internal("AES-GCM output"))?;
            Ok(SymmetricCiphertext {
                ciphertext: ciphertext.to_vec(),
                iv: Some(nonce.to_vec()),
                tag: tag.get(..tag_len).map(<[u8]>::to_vec),
            })
        }
    }
}
