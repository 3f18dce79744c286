//! The wrapped-blob format: how every persisted secret is stored.
//!
//! ```text
//!   offset  size  field
//!   0       4     magic "SRB1"
//!   4       1     wrapping key kind (1 = root key, 2 = project key)
//!   5       4     wrapping key term or version, big-endian
//!   9       12    AES-256-GCM nonce
//!   21      n     ciphertext
//!   21+n    16    tag
//! ```
//!
//! The associated data is `"strongroom/blob/v1" ‖ purpose ‖ owner id ‖ owner
//! version ‖ header`. A blob therefore opens only for the purpose, owner and
//! version it was made for, under the key its header names: copy it into
//! another row and it fails authentication.

use crate::crypto::aead::{AeadKey, OVERHEAD};
use crate::crypto::{CryptoError, SecretBytes};

const MAGIC: &[u8; 4] = b"SRB1";
const HEADER_LEN: usize = 9;

/// What a blob holds; part of its associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// A project key-encryption key, wrapped under a root term.
    ProjectKek = 1,
    /// An object's key material, wrapped under a project key version.
    ObjectMaterial = 2,
}

/// Which key wrapped a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrappedBy {
    RootTerm(u32),
    ProjectKeyVersion(u32),
}

impl WrappedBy {
    fn encode(self) -> [u8; 5] {
        let (kind, n) = match self {
            WrappedBy::RootTerm(t) => (1u8, t),
            WrappedBy::ProjectKeyVersion(v) => (2u8, v),
        };
        let mut out = [0u8; 5];
        out[0] = kind;
        out[1..].copy_from_slice(&n.to_be_bytes());
        out
    }
}

/// The owner a blob is bound to.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    pub purpose: Purpose,
    pub owner: &'a [u8; 16],
    pub owner_version: u64,
}

/// Why a blob could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlobError {
    #[error("blob is truncated or not a Strongroom blob")]
    Malformed,
    #[error("blob was wrapped by {found:?}, not {expected:?}")]
    WrongKey {
        expected: WrappedBy,
        found: WrappedBy,
    },
    #[error("blob failed authentication: altered, or moved from another row")]
    NotAuthentic,
}

/// Reads which key wrapped `blob` without opening it.
pub fn wrapped_by(blob: &[u8]) -> Result<WrappedBy, BlobError> {
    if blob.len() < HEADER_LEN + OVERHEAD || &blob[..4] != MAGIC {
        return Err(BlobError::Malformed);
    }
    let n = u32::from_be_bytes([blob[5], blob[6], blob[7], blob[8]]);
    match blob[4] {
        1 => Ok(WrappedBy::RootTerm(n)),
        2 => Ok(WrappedBy::ProjectKeyVersion(n)),
        _ => Err(BlobError::Malformed),
    }
}

fn aad(binding: &Binding<'_>, header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(b"strongroom/blob/v1");
    aad.push(binding.purpose as u8);
    aad.extend_from_slice(binding.owner);
    aad.extend_from_slice(&binding.owner_version.to_be_bytes());
    aad.extend_from_slice(header);
    aad
}

/// Wraps `secret` under `key` (which is the key `by` names).
pub fn seal(
    key: &AeadKey,
    by: WrappedBy,
    binding: &Binding<'_>,
    secret: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(HEADER_LEN + secret.len() + OVERHEAD);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&by.encode());
    let aad = aad(binding, &out);
    key.seal_append(&aad, secret, &mut out)?;
    Ok(out)
}

/// Opens `blob`, which must have been wrapped by `by` for `binding`.
pub fn open(
    key: &AeadKey,
    by: WrappedBy,
    binding: &Binding<'_>,
    blob: &[u8],
) -> Result<SecretBytes, BlobError> {
    let found = wrapped_by(blob)?;
    if found != by {
        return Err(BlobError::WrongKey {
            expected: by,
            found,
        });
    }
    let (header, sealed) = blob.split_at(HEADER_LEN);
    key.open(&aad(binding, header), sealed)
        .map_err(|_| BlobError::NotAuthentic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::aead::AeadAlgorithm;

    fn key() -> AeadKey {
        AeadKey::new(AeadAlgorithm::Aes256Gcm, &[7u8; 32]).unwrap()
    }

    #[test]
    fn round_trip_and_binding() {
        let k = key();
        let a = [1u8; 16];
        let b = [2u8; 16];
        let bind_a = Binding {
            purpose: Purpose::ObjectMaterial,
            owner: &a,
            owner_version: 1,
        };
        let blob = seal(&k, WrappedBy::ProjectKeyVersion(3), &bind_a, b"secret").unwrap();
        let opened = open(&k, WrappedBy::ProjectKeyVersion(3), &bind_a, &blob).unwrap();
        assert!(opened.ct_eq(b"secret"));

        // Another owner, version, purpose or wrapping key: refused.
        let bind_b = Binding {
            owner: &b,
            ..bind_a
        };
        assert_eq!(
            open(&k, WrappedBy::ProjectKeyVersion(3), &bind_b, &blob).unwrap_err(),
            BlobError::NotAuthentic
        );
        let bind_v = Binding {
            owner_version: 2,
            ..bind_a
        };
        assert_eq!(
            open(&k, WrappedBy::ProjectKeyVersion(3), &bind_v, &blob).unwrap_err(),
            BlobError::NotAuthentic
        );
        let bind_p = Binding {
            purpose: Purpose::ProjectKek,
            ..bind_a
        };
        assert_eq!(
            open(&k, WrappedBy::ProjectKeyVersion(3), &bind_p, &blob).unwrap_err(),
            BlobError::NotAuthentic
        );
        assert!(matches!(
            open(&k, WrappedBy::ProjectKeyVersion(4), &bind_a, &blob),
            Err(BlobError::WrongKey { .. })
        ));

        // A forged header naming another version no longer authenticates.
        let mut forged = blob.clone();
        forged[8] = 4;
        assert_eq!(
            open(&k, WrappedBy::ProjectKeyVersion(4), &bind_a, &forged).unwrap_err(),
            BlobError::NotAuthentic
        );
    }

    #[test]
    fn truncated_and_flipped_blobs_fail() {
        let k = key();
        let o = [1u8; 16];
        let bind = Binding {
            purpose: Purpose::ObjectMaterial,
            owner: &o,
            owner_version: 1,
        };
        let blob = seal(&k, WrappedBy::RootTerm(1), &bind, b"secret").unwrap();
        for len in 0..blob.len() {
            assert!(open(&k, WrappedBy::RootTerm(1), &bind, &blob[..len]).is_err());
        }
        for i in 0..blob.len() {
            let mut b = blob.clone();
            b[i] ^= 0x80;
            assert!(
                open(&k, WrappedBy::RootTerm(1), &bind, &b).is_err(),
                "flip at {i}"
            );
        }
    }
}
