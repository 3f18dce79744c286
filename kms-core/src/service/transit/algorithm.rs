//! The algorithm and usage names of the HTTPS API, and what each maps to in
//! kms-core.
//!
//! Names are Infisical's where Infisical has one (`aes-256-gcm`, `RSA_2048`,
//! `ECC_NIST_P256`, `RSASSA_PSS_SHA_256`, …) so its SDKs work unchanged;
//! `ECC_NIST_P521`, `ED25519` and `hmac-sha256/384/512` are ours.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::TransitError;
use crate::crypto::keygen::KeySpec;
use crate::crypto::signature::SignatureScheme;

/// What a key is for. Fixed when the key is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyUsage {
    /// AES-GCM: encrypt, decrypt, data keys, re-wrap.
    #[serde(rename = "encrypt-decrypt")]
    EncryptDecrypt,
    /// RSA, ECDSA, Ed25519: sign, verify, public key.
    #[serde(rename = "sign-verify")]
    SignVerify,
    /// HMAC: generate and verify MACs.
    #[serde(rename = "generate-verify-mac")]
    Mac,
}

impl KeyUsage {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::EncryptDecrypt => "encrypt-decrypt",
            KeyUsage::SignVerify => "sign-verify",
            KeyUsage::Mac => "generate-verify-mac",
        }
    }
}

impl fmt::Display for KeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyUsage {
    type Err = TransitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            KeyUsage::EncryptDecrypt,
            KeyUsage::SignVerify,
            KeyUsage::Mac,
        ]
        .into_iter()
        .find(|u| u.as_str() == s)
        .ok_or_else(|| TransitError::UnknownName {
            what: "key usage",
            name: bounded(s),
        })
    }
}

/// The algorithm of a key (Infisical's `encryptionAlgorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyAlgorithm {
    #[serde(rename = "aes-256-gcm")]
    Aes256Gcm,
    #[serde(rename = "aes-128-gcm")]
    Aes128Gcm,
    #[serde(rename = "RSA_2048")]
    Rsa2048,
    #[serde(rename = "RSA_3072")]
    Rsa3072,
    #[serde(rename = "RSA_4096")]
    Rsa4096,
    #[serde(rename = "ECC_NIST_P256")]
    EccNistP256,
    #[serde(rename = "ECC_NIST_P384")]
    EccNistP384,
    #[serde(rename = "ECC_NIST_P521")]
    EccNistP521,
    #[serde(rename = "ED25519")]
    Ed25519,
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
    #[serde(rename = "hmac-sha384")]
    HmacSha384,
    #[serde(rename = "hmac-sha512")]
    HmacSha512,
}

impl KeyAlgorithm {
    /// Every algorithm, in the order the API documents them.
    pub const ALL: [KeyAlgorithm; 12] = [
        KeyAlgorithm::Aes256Gcm,
        KeyAlgorithm::Aes128Gcm,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::Rsa4096,
        KeyAlgorithm::EccNistP256,
        KeyAlgorithm::EccNistP384,
        KeyAlgorithm::EccNistP521,
        KeyAlgorithm::Ed25519,
        KeyAlgorithm::HmacSha256,
        KeyAlgorithm::HmacSha384,
        KeyAlgorithm::HmacSha512,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Aes256Gcm => "aes-256-gcm",
            KeyAlgorithm::Aes128Gcm => "aes-128-gcm",
            KeyAlgorithm::Rsa2048 => "RSA_2048",
            KeyAlgorithm::Rsa3072 => "RSA_3072",
            KeyAlgorithm::Rsa4096 => "RSA_4096",
            KeyAlgorithm::EccNistP256 => "ECC_NIST_P256",
            KeyAlgorithm::EccNistP384 => "ECC_NIST_P384",
            KeyAlgorithm::EccNistP521 => "ECC_NIST_P521",
            KeyAlgorithm::Ed25519 => "ED25519",
            KeyAlgorithm::HmacSha256 => "hmac-sha256",
            KeyAlgorithm::HmacSha384 => "hmac-sha384",
            KeyAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The usage this algorithm serves.
    pub fn usage(self) -> KeyUsage {
        use KeyAlgorithm as A;
        match self {
            A::Aes256Gcm | A::Aes128Gcm => KeyUsage::EncryptDecrypt,
            A::HmacSha256 | A::HmacSha384 | A::HmacSha512 => KeyUsage::Mac,
            _ => KeyUsage::SignVerify,
        }
    }

    /// The key spec each version is generated with.
    pub fn spec(self) -> KeySpec {
        use KeyAlgorithm as A;
        match self {
            A::Aes256Gcm => KeySpec::Aes256,
            A::Aes128Gcm => KeySpec::Aes128,
            A::Rsa2048 => KeySpec::Rsa2048,
            A::Rsa3072 => KeySpec::Rsa3072,
            A::Rsa4096 => KeySpec::Rsa4096,
            A::EccNistP256 => KeySpec::EcP256,
            A::EccNistP384 => KeySpec::EcP384,
            A::EccNistP521 => KeySpec::EcP521,
            A::Ed25519 => KeySpec::Ed25519,
            A::HmacSha256 => KeySpec::HmacSha256,
            A::HmacSha384 => KeySpec::HmacSha384,
            A::HmacSha512 => KeySpec::HmacSha512,
        }
    }

    /// The signing algorithms a key of this algorithm accepts (Infisical's
    /// table: every RSA scheme for RSA keys, every ECDSA hash for every
    /// curve, `ED25519` for Ed25519); empty for other keys.
    pub fn signing_algorithms(self) -> &'static [SigningAlgorithm] {
        use KeyAlgorithm as A;
        use SigningAlgorithm as S;
        match self {
            A::Rsa2048 | A::Rsa3072 | A::Rsa4096 => &[
                S::RsassaPssSha256,
                S::RsassaPssSha384,
                S::RsassaPssSha512,
                S::RsassaPkcs1V15Sha256,
                S::RsassaPkcs1V15Sha384,
                S::RsassaPkcs1V15Sha512,
            ],
            A::EccNistP256 | A::EccNistP384 | A::EccNistP521 => {
                &[S::EcdsaSha256, S::EcdsaSha384, S::EcdsaSha512]
            }
            A::Ed25519 => &[S::Ed25519],
            _ => &[],
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = TransitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| TransitError::UnknownName {
                what: "key algorithm",
                name: bounded(s),
            })
    }
}

/// A signing algorithm, by Infisical's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    #[serde(rename = "RSASSA_PSS_SHA_256")]
    RsassaPssSha256,
    #[serde(rename = "RSASSA_PSS_SHA_384")]
    RsassaPssSha384,
    #[serde(rename = "RSASSA_PSS_SHA_512")]
    RsassaPssSha512,
    #[serde(rename = "RSASSA_PKCS1_V1_5_SHA_256")]
    RsassaPkcs1V15Sha256,
    #[serde(rename = "RSASSA_PKCS1_V1_5_SHA_384")]
    RsassaPkcs1V15Sha384,
    #[serde(rename = "RSASSA_PKCS1_V1_5_SHA_512")]
    RsassaPkcs1V15Sha512,
    #[serde(rename = "ECDSA_SHA_256")]
    EcdsaSha256,
    #[serde(rename = "ECDSA_SHA_384")]
    EcdsaSha384,
    #[serde(rename = "ECDSA_SHA_512")]
    EcdsaSha512,
    #[serde(rename = "ED25519")]
    Ed25519,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 10] = [
        SigningAlgorithm::RsassaPssSha256,
        SigningAlgorithm::RsassaPssSha384,
        SigningAlgorithm::RsassaPssSha512,
        SigningAlgorithm::RsassaPkcs1V15Sha256,
        SigningAlgorithm::RsassaPkcs1V15Sha384,
        SigningAlgorithm::RsassaPkcs1V15Sha512,
        SigningAlgorithm::EcdsaSha256,
        SigningAlgorithm::EcdsaSha384,
        SigningAlgorithm::EcdsaSha512,
        SigningAlgorithm::Ed25519,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        use SigningAlgorithm as S;
        match self {
            S::RsassaPssSha256 => "RSASSA_PSS_SHA_256",
            S::RsassaPssSha384 => "RSASSA_PSS_SHA_384",
            S::RsassaPssSha512 => "RSASSA_PSS_SHA_512",
            S::RsassaPkcs1V15Sha256 => "RSASSA_PKCS1_V1_5_SHA_256",
            S::RsassaPkcs1V15Sha384 => "RSASSA_PKCS1_V1_5_SHA_384",
            S::RsassaPkcs1V15Sha512 => "RSASSA_PKCS1_V1_5_SHA_512",
            S::EcdsaSha256 => "ECDSA_SHA_256",
            S::EcdsaSha384 => "ECDSA_SHA_384",
            S::EcdsaSha512 => "ECDSA_SHA_512",
            S::Ed25519 => "ED25519",
        }
    }

    /// The kms-core scheme. ECDSA signatures are DER (`ECDSA-Sig-Value`),
    /// which is what Infisical returns and what `openssl dgst -verify` reads.
    pub fn scheme(self) -> SignatureScheme {
        use SignatureScheme as X;
        use SigningAlgorithm as S;
        match self {
            S::RsassaPssSha256 => X::RsaPssSha256,
            S::RsassaPssSha384 => X::RsaPssSha384,
            S::RsassaPssSha512 => X::RsaPssSha512,
            S::RsassaPkcs1V15Sha256 => X::RsaPkcs1Sha256,
            S::RsassaPkcs1V15Sha384 => X::RsaPkcs1Sha384,
            S::RsassaPkcs1V15Sha512 => X::RsaPkcs1Sha512,
            S::EcdsaSha256 => X::EcdsaSha256,
            S::EcdsaSha384 => X::EcdsaSha384,
            S::EcdsaSha512 => X::EcdsaSha512,
            S::Ed25519 => X::Ed25519,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlgorithm {
    type Err = TransitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SigningAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| TransitError::UnknownName {
                what: "signing algorithm",
                name: bounded(s),
            })
    }
}

/// A caller's unknown name, cut short so an error message stays small.
fn bounded(s: &str) -> String {
    s.chars().take(64).collect()
}
