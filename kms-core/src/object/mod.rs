//! Managed objects, modelled on KMIP 1.4 section 2.2.
//!
//! A [`ManagedObject`] is its [`Attributes`] plus, until it is destroyed, its
//! [`KeyMaterial`]. Key material lives only in zeroizing buffers and never
//! appears in `Debug` output.

pub mod attributes;
pub mod enums;

pub use attributes::{
    AlternativeName, ApplicationSpecificInformation, Attributes, CryptographicParameters,
    CustomValue, Digest, Link, Name, RevocationReason, UsageLimits, UsageMask, UsePeriod,
};
pub use enums::*;

use crate::crypto::SecretBytes;
use crate::resident::ResidentMaterial;

/// The value of a managed object, in the one canonical format this server
/// keeps for each object type. Other formats (KMIP Transparent, PKCS#1, …)
/// are converted on the way out by the protocol layers.
#[derive(Clone)]
pub enum KeyMaterial {
    /// Raw symmetric key bytes (AES, HMAC).
    Symmetric(SecretBytes),
    /// A private key as PKCS#8 DER (RSA, EC, Ed25519).
    PrivateKeyPkcs8(SecretBytes),
    /// A public key as SubjectPublicKeyInfo DER.
    PublicKeySpki(Vec<u8>),
    /// An X.509 certificate, DER.
    Certificate(Vec<u8>),
    /// KMIP Secret Data (a password or a seed).
    SecretData {
        kind: SecretDataType,
        value: SecretBytes,
    },
    /// KMIP Opaque Object: bytes the server does not interpret.
    Opaque(SecretBytes),
    /// A key that lives in an HSM ([`crate::resident`]): the row records
    /// where, never the key. A private key (with its public key) when
    /// `public_spki` is set, a symmetric key otherwise.
    Resident(ResidentMaterial),
}

impl KeyMaterial {
    /// The object type this material belongs to.
    pub fn object_type(&self) -> ObjectType {
        match self {
            KeyMaterial::Symmetric(_) => ObjectType::SymmetricKey,
            KeyMaterial::PrivateKeyPkcs8(_) => ObjectType::PrivateKey,
            KeyMaterial::PublicKeySpki(_) => ObjectType::PublicKey,
            KeyMaterial::Certificate(_) => ObjectType::Certificate,
            KeyMaterial::SecretData { .. } => ObjectType::SecretData,
            KeyMaterial::Opaque(_) => ObjectType::OpaqueObject,
            KeyMaterial::Resident(r) if r.public_spki.is_some() => ObjectType::PrivateKey,
            KeyMaterial::Resident(_) => ObjectType::SymmetricKey,
        }
    }

    /// Serialises the material for wrapping: a one-byte tag, then the bytes.
    /// The result is zeroized on drop because it holds secrets.
    pub fn encode(&self) -> SecretBytes {
        if let KeyMaterial::Resident(r) = self {
            let mut bytes = vec![8u8];
            r.encode_into(&mut bytes);
            return SecretBytes::from_vec(bytes);
        }
        let (tag, bytes): (u8, &[u8]) = match self {
            KeyMaterial::Symmetric(b) => (1, b.expose()),
            KeyMaterial::PrivateKeyPkcs8(b) => (2, b.expose()),
            KeyMaterial::PublicKeySpki(b) => (3, b),
            KeyMaterial::Certificate(b) => (4, b),
            KeyMaterial::SecretData {
                kind: SecretDataType::Password,
                value,
            } => (5, value.expose()),
            KeyMaterial::SecretData {
                kind: SecretDataType::Seed,
                value,
            } => (6, value.expose()),
            KeyMaterial::Opaque(b) => (7, b.expose()),
            KeyMaterial::Resident(_) => return SecretBytes::from_vec(Vec::new()),
        };
        let mut out = SecretBytes::with_capacity(bytes.len() + 1);
        out.extend_from_slice(&[tag]);
        out.extend_from_slice(bytes);
        out
    }

    /// The inverse of [`KeyMaterial::encode`].
    pub fn decode(encoded: &[u8]) -> Option<Self> {
        let (&tag, bytes) = encoded.split_first()?;
        let secret = || SecretBytes::from_slice(bytes);
        Some(match tag {
            1 => KeyMaterial::Symmetric(secret()),
            2 => KeyMaterial::PrivateKeyPkcs8(secret()),
            3 => KeyMaterial::PublicKeySpki(bytes.to_vec()),
            4 => KeyMaterial::Certificate(bytes.to_vec()),
            5 => KeyMaterial::SecretData {
                kind: SecretDataType::Password,
                value: secret(),
            },
            6 => KeyMaterial::SecretData {
                kind: SecretDataType::Seed,
                value: secret(),
            },
            7 => KeyMaterial::Opaque(secret()),
            8 => KeyMaterial::Resident(ResidentMaterial::decode(bytes)?),
            _ => return None,
        })
    }
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyMaterial::{:?}(..)", self.object_type())
    }
}

/// A managed object: attributes and, until destroyed, material.
#[derive(Clone, Debug)]
pub struct ManagedObject {
    pub attributes: Attributes,
    /// `None` once the object is destroyed: KMIP keeps the attributes of a
    /// destroyed object but not its value.
    pub material: Option<KeyMaterial>,
    /// Incremented on every stored change; updates are conditional on it so
    /// two writers cannot silently overwrite each other.
    pub revision: i64,
}
