//! Keys that live outside the process: HSM-resident keys.
//!
//! A project may create a signing key (RSA 2048/3072/4096, ECDSA P-256/P-384)
//! or an AES key (128/256) **inside** a key store such as a PKCS#11 token,
//! marked non-extractable. The private or secret half never enters
//! Strongroom's memory; the token signs, encrypts and decrypts. What the
//! database keeps is a [`ResidentMaterial`]: the provider's name, an opaque
//! handle (for PKCS#11, the object's random `CKA_ID`) and, for a private
//! key, its public key as DER `SubjectPublicKeyInfo`. That record is wrapped
//! and MACed under the project key like every other material, so a row
//! moved to another object does not open; and a database copied without the
//! token holds nothing that signs.
//!
//! [`ResidentKeys`] is the interface a provider implements (the `hsm` crate
//! implements it over its PKCS#11 session pool). The service
//! ([`crate::service::Kms`]) is given one with
//! [`crate::service::Kms::set_resident_keys`] and routes `sign`, `encrypt`
//! and `decrypt` of resident objects to it; callers (the HTTPS API, KMIP,
//! the certificate authorities) do not know where a key lives.
//!
//! ## What a provider computes
//!
//! * Signing: only the private-key operation, on input prepared by
//!   [`crate::crypto::external_signature::prepare`] (digest, `DigestInfo`),
//!   returning RSA signatures modulus-sized and ECDSA as `r ‖ s`; the
//!   service encodes the result exactly as the software path does. Keeping
//!   hashing and encodings here means one implementation of them for every
//!   provider.
//! * AES-GCM: `nonce ‖ ciphertext ‖ tag` with a fresh random 96-bit nonce
//!   and a 128-bit tag, the format of [`crate::crypto::aead::AeadKey::seal`],
//!   bound to the caller's associated data.
//!
//! Verification never needs the provider: the public key is in the row.

use async_trait::async_trait;

use crate::crypto::SecretBytes;
use crate::crypto::external_signature::ExternalOperation;
use crate::crypto::keygen::KeySpec;

/// The key specs a provider must be able to generate.
pub const RESIDENT_SPECS: [KeySpec; 7] = [
    KeySpec::Aes128,
    KeySpec::Aes256,
    KeySpec::Rsa2048,
    KeySpec::Rsa3072,
    KeySpec::Rsa4096,
    KeySpec::EcP256,
    KeySpec::EcP384,
];

/// A key just generated in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResidentKey {
    /// The provider's opaque name for the key (not secret).
    pub handle: Vec<u8>,
    /// The public key as DER `SubjectPublicKeyInfo`; `None` for AES keys.
    pub public_spki: Option<Vec<u8>>,
}

/// What an object row records about a resident key, in place of material.
/// Encoded as `KeyMaterial::Resident` (tag 8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResidentMaterial {
    /// The provider that holds it ([`ResidentKeys::provider`]), e.g. `pkcs11`.
    pub provider: String,
    /// The provider's handle (at most [`MAX_HANDLE_LEN`] bytes).
    pub handle: Vec<u8>,
    /// The public key of a private key; `None` for a symmetric key.
    pub public_spki: Option<Vec<u8>>,
}

/// Longest handle a row may carry.
pub const MAX_HANDLE_LEN: usize = 255;

impl ResidentMaterial {
    /// `provider_len (1) ‖ provider ‖ handle_len (1) ‖ handle ‖ spki (rest,
    /// empty for a symmetric key)`.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        let provider = self.provider.as_bytes();
        let provider = provider.get(..provider.len().min(255)).unwrap_or_default();
        let handle = self
            .handle
            .get(..self.handle.len().min(MAX_HANDLE_LEN))
            .unwrap_or_default();
        out.push(provider.len() as u8);
        out.extend_from_slice(provider);
        out.push(handle.len() as u8);
        out.extend_from_slice(handle);
        if let Some(spki) = &self.public_spki {
            out.extend_from_slice(spki);
        }
    }

    /// The inverse of `encode_into`; `None` for anything malformed.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let (&plen, rest) = bytes.split_first()?;
        let provider = rest.get(..usize::from(plen))?;
        let rest = rest.get(usize::from(plen)..)?;
        let (&hlen, rest) = rest.split_first()?;
        let handle = rest.get(..usize::from(hlen))?;
        let spki = rest.get(usize::from(hlen)..)?;
        if provider.is_empty() || handle.is_empty() {
            return None;
        }
        Some(Self {
            provider: std::str::from_utf8(provider).ok()?.to_string(),
            handle: handle.to_vec(),
            public_spki: (!spki.is_empty()).then(|| spki.to_vec()),
        })
    }

    /// The handle as hex, for messages (it is not secret).
    pub fn handle_hex(&self) -> String {
        hex::encode(&self.handle)
    }
}

/// What a resident key store can report. No variant carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResidentError {
    /// The key named by the row is no longer in the store.
    #[error(
        "the HSM-resident key {handle} is not in {provider}: it was deleted from the token, or this is another token"
    )]
    KeyMissing { provider: String, handle: String },
    /// AES-GCM authentication failed in the store.
    #[error("decryption failed: the ciphertext or its associated data is not authentic")]
    AuthenticationFailed,
    /// The store cannot make or use this kind of key.
    #[error("HSM-resident keys: {0}")]
    Unsupported(String),
    /// Anything else the store reported, with its own explanation.
    #[error("HSM-resident key store {provider} failed: {reason}")]
    Provider {
        provider: &'static str,
        reason: String,
    },
}

/// A key store outside the process. See the module docs.
#[async_trait]
pub trait ResidentKeys: Send + Sync {
    /// The provider's name, recorded in every row it made (`pkcs11`).
    fn provider(&self) -> &'static str;

    /// A one-line description for logs (no secrets).
    fn describe(&self) -> String;

    /// Generates a non-extractable key of `spec` (one of
    /// [`RESIDENT_SPECS`]) labelled `label`.
    async fn generate(&self, spec: KeySpec, label: &str) -> Result<ResidentKey, ResidentError>;

    /// Runs `operation` with the private key `handle` on `input` (see
    /// [`crate::crypto::external_signature`]).
    async fn sign(
        &self,
        handle: &[u8],
        operation: ExternalOperation,
        input: &[u8],
    ) -> Result<Vec<u8>, ResidentError>;

    /// AES-GCM with the secret key `handle`: `nonce ‖ ciphertext ‖ tag`.
    async fn encrypt(
        &self,
        handle: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ResidentError>;

    /// The inverse of [`ResidentKeys::encrypt`];
    /// [`ResidentError::AuthenticationFailed`] when the tag does not verify.
    async fn decrypt(
        &self,
        handle: &[u8],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, ResidentError>;

    /// Deletes the key from the store. Deleting a key that is already gone
    /// is not an error.
    async fn destroy(&self, handle: &[u8]) -> Result<(), ResidentError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn material_round_trips_and_rejects_garbage() {
        let m = ResidentMaterial {
            provider: "pkcs11".into(),
            handle: vec![1, 2, 3],
            public_spki: Some(vec![0x30, 0x00]),
        };
        let mut out = Vec::new();
        m.encode_into(&mut out);
        assert_eq!(ResidentMaterial::decode(&out), Some(m.clone()));
        let sym = ResidentMaterial {
            public_spki: None,
            ..m
        };
        let mut out = Vec::new();
        sym.encode_into(&mut out);
        assert_eq!(ResidentMaterial::decode(&out), Some(sym));
        for bad in [
            &[][..],
            &[0],
            &[6, b'p'],
            &[1, b'p', 0],
            &[1, b'p', 4, 1, 2],
        ] {
            assert_eq!(ResidentMaterial::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn key_material_tag_8_names_the_object_type() {
        use crate::object::{KeyMaterial, ObjectType};
        for (spki, object_type) in [
            (Some(vec![0x30, 0x00]), ObjectType::PrivateKey),
            (None, ObjectType::SymmetricKey),
        ] {
            let m = KeyMaterial::Resident(ResidentMaterial {
                provider: "pkcs11".into(),
                handle: vec![9; 16],
                public_spki: spki,
            });
            let encoded = m.encode();
            assert_eq!(encoded.expose()[0], 8);
            let back = KeyMaterial::decode(encoded.expose()).unwrap();
            assert_eq!(back.object_type(), object_type);
            assert!(matches!(back, KeyMaterial::Resident(r) if r.handle == vec![9; 16]));
        }
    }
}
