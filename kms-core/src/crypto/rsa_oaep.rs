//! RSA encryption: RSA-OAEP with SHA-256 and MGF1-SHA-256, and RSA PKCS#1 v1.5.
//!
//! RSA encryption is for small payloads, typically a symmetric key being
//! transported (key import with a wrapping key, KMIP `Encrypt` with an RSA key,
//! Infisical's asymmetric `encrypt`). Anything larger is encrypted with AES-GCM
//! under a fresh key, and that key with RSA.
//!
//! # Schemes
//!
//! * [`RsaEncryptionScheme::OaepSha256`]: RSAES-OAEP (RFC 8017 §7.1) with
//!   SHA-256 and MGF1-SHA-256. The default and the one to use. An optional
//!   *label* binds the ciphertext to a context, like AES-GCM's associated data
//!   ([`RsaEncryptingKey::encrypt_oaep_with_label`]); the scheme itself uses
//!   the empty label.
//! * `OaepSha1`, `OaepSha384`, `OaepSha512`: the same with another hash
//!   (and MGF1 over that hash), for KMIP clients that name one.
//! * [`RsaEncryptionScheme::Pkcs1v15`]: RSAES-PKCS1-v1_5 (RFC 8017 §7.2).
//!   **Legacy only** (KMIP clients that ask for it). Its decryption is a
//!   padding oracle (Bleichenbacher) whenever a caller can tell a padding
//!   failure from other failures, by error or by timing. Strongroom reports
//!   every failure of [`RsaDecryptingKey::decrypt`] as the same
//!   [`CryptoError::AuthenticationFailed`]; layers above must not add detail.
//!
//! # Formats
//!
//! * Public keys: DER `SubjectPublicKeyInfo` (`rsaEncryption`), 2048 to 8192
//!   bits. Private keys: PKCS#8 DER.
//! * Ciphertexts are exactly as long as the modulus (256 bytes for RSA-2048).
//! * The plaintext limit is [`RsaEncryptingKey::max_plaintext_len`]: modulus
//!   length − 66 bytes for OAEP-SHA-256 (2 × hash + 2 in general), − 11 for
//!   PKCS#1 v1.5.
//! * Decrypted plaintexts are returned in [`SecretBytes`].

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
    OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey,
    Pkcs1PublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};

use super::{CryptoError, SecretBytes};

/// An RSA encryption scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RsaEncryptionScheme {
    /// RSAES-OAEP, SHA-256, MGF1-SHA-256, empty label.
    OaepSha256,
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1: for KMIP clients that ask for
    /// it (OAEP's security does not rest on SHA-1's collision resistance).
    OaepSha1,
    /// RSAES-OAEP, SHA-384, MGF1-SHA-384.
    OaepSha384,
    /// RSAES-OAEP, SHA-512, MGF1-SHA-512.
    OaepSha512,
    /// RSAES-PKCS1-v1_5. Legacy; see the module docs.
    Pkcs1v15,
}

impl RsaEncryptionScheme {
    /// The aws-lc-rs OAEP parameters, or `None` for PKCS#1 v1.5.
    fn oaep(self) -> Option<&'static OaepAlgorithm> {
        match self {
            RsaEncryptionScheme::OaepSha1 => Some(&OAEP_SHA1_MGF1SHA1),
            RsaEncryptionScheme::OaepSha256 => Some(&OAEP_SHA256_MGF1SHA256),
            RsaEncryptionScheme::OaepSha384 => Some(&OAEP_SHA384_MGF1SHA384),
            RsaEncryptionScheme::OaepSha512 => Some(&OAEP_SHA512_MGF1SHA512),
            RsaEncryptionScheme::Pkcs1v15 => None,
        }
    }

    /// Bytes of the modulus the padding takes: `2 * hash + 2` for OAEP.
    fn overhead(self) -> usize {
        match self {
            RsaEncryptionScheme::OaepSha1 => 2 * 20 + 2,
            RsaEncryptionScheme::OaepSha256 => 2 * 32 + 2,
            RsaEncryptionScheme::OaepSha384 => 2 * 48 + 2,
            RsaEncryptionScheme::OaepSha512 => 2 * 64 + 2,
            RsaEncryptionScheme::Pkcs1v15 => PKCS1_OVERHEAD,
        }
    }
}

/// PKCS#1 v1.5 encryption spends at least 11 bytes on padding.
const PKCS1_OVERHEAD: usize = 11;

/// An RSA public key for encryption.
#[derive(Clone)]
pub struct RsaEncryptingKey {
    key: PublicEncryptingKey,
    spki: Vec<u8>,
}

impl RsaEncryptingKey {
    /// Parses a DER `SubjectPublicKeyInfo` RSA public key (2048 to 8192 bits).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let key = PublicEncryptingKey::from_der(der).map_err(|_| {
            CryptoError::InvalidKey("not an RSA (2048-8192 bits) SubjectPublicKeyInfo")
        })?;
        // AWS-LC parses id-RSASSA-PSS keys but cannot write them back.
        let spki = spki_of(&key).map_err(|_| super::signature::RSA_PSS_OID)?;
        if spki != der {
            return Err(CryptoError::InvalidKey(
                "the public key is not a DER SubjectPublicKeyInfo in canonical form",
            ));
        }
        Ok(Self { key, spki })
    }

    fn from_key(key: PublicEncryptingKey) -> Result<Self, CryptoError> {
        let spki = spki_of(&key)?;
        Ok(Self { key, spki })
    }

    pub fn key_size_bits(&self) -> usize {
        self.key.key_size_bits()
    }

    /// Length of every ciphertext: the modulus length in bytes.
    pub fn ciphertext_len(&self) -> usize {
        self.key.key_size_bytes()
    }

    /// The longest plaintext `scheme` can encrypt under this key.
    pub fn max_plaintext_len(&self, scheme: RsaEncryptionScheme) -> usize {
        let overhead = scheme.overhead();
        self.ciphertext_len().saturating_sub(overhead)
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// Encrypts `plaintext` with `scheme`.
    pub fn encrypt(
        &self,
        scheme: RsaEncryptionScheme,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.encrypt_with_label(scheme, &[], plaintext)
    }

    /// Encrypts `plaintext` with RSA-OAEP-SHA-256 and the given `label`
    /// (empty label = [`RsaEncryptionScheme::OaepSha256`]).
    pub fn encrypt_oaep_with_label(
        &self,
        plaintext: &[u8],
        label: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.encrypt_with_label(RsaEncryptionScheme::OaepSha256, label, plaintext)
    }

    /// Encrypts `plaintext` with `scheme`; an OAEP scheme binds `label`
    /// (KMIP's P Source), PKCS#1 v1.5 refuses a non-empty one.
    pub fn encrypt_with_label(
        &self,
        scheme: RsaEncryptionScheme,
        label: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_plaintext_len(scheme, plaintext)?;
        let Some(oaep) = scheme.oaep() else {
            if !label.is_empty() {
                return Err(CryptoError::Unsupported("a label with PKCS#1 v1.5"));
            }
            let key = Pkcs1PublicEncryptingKey::new(self.key.clone())
                .map_err(|_| CryptoError::Internal("RSA PKCS#1 v1.5 key"))?;
            let mut out = vec![0u8; key.ciphertext_size()];
            let len = key
                .encrypt(plaintext, &mut out)
                .map_err(|_| CryptoError::Internal("RSA PKCS#1 v1.5 encryption"))?
                .len();
            out.truncate(len);
            return Ok(out);
        };
        let key = OaepPublicEncryptingKey::new(self.key.clone())
            .map_err(|_| CryptoError::Internal("RSA-OAEP key"))?;
        let mut out = vec![0u8; key.ciphertext_size()];
        let len = key
            .encrypt(oaep, plaintext, &mut out, Some(label))
            .map_err(|_| CryptoError::Internal("RSA-OAEP encryption"))?
            .len();
        out.truncate(len);
        Ok(out)
    }

    fn check_plaintext_len(
        &self,
        scheme: RsaEncryptionScheme,
        plaintext: &[u8],
    ) -> Result<(), CryptoError> {
        if plaintext.len() > self.max_plaintext_len(scheme) {
            return Err(CryptoError::InvalidInput(
                "plaintext too long for this RSA key",
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for RsaEncryptingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaEncryptingKey({} bits)", self.key_size_bits())
    }
}

/// An RSA private key for decryption, parsed once.
#[derive(Clone)]
pub struct RsaDecryptingKey {
    key: PrivateDecryptingKey,
}

impl RsaDecryptingKey {
    /// Parses an unencrypted PKCS#8 RSA private key (2048 to 8192 bits).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        let key = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| {
            CryptoError::InvalidKey("not a PKCS#8 RSA (2048-8192 bits) private key")
        })?;
        Ok(Self { key })
    }

    pub fn key_size_bits(&self) -> usize {
        self.key.key_size_bits()
    }

    /// The matching public key.
    pub fn public_key(&self) -> Result<RsaEncryptingKey, CryptoError> {
        RsaEncryptingKey::from_key(self.key.public_key())
    }

    /// Decrypts `ciphertext` with `scheme`. Every failure after the length
    /// check is [`CryptoError::AuthenticationFailed`], whatever its cause.
    pub fn decrypt(
        &self,
        scheme: RsaEncryptionScheme,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        self.decrypt_with_label(scheme, &[], ciphertext)
    }

    /// Decrypts an RSA-OAEP-SHA-256 `ciphertext` made with `label`.
    pub fn decrypt_oaep_with_label(
        &self,
        ciphertext: &[u8],
        label: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        self.decrypt_with_label(RsaEncryptionScheme::OaepSha256, label, ciphertext)
    }

    /// Decrypts `ciphertext` made with `scheme` and `label` (OAEP only).
    pub fn decrypt_with_label(
        &self,
        scheme: RsaEncryptionScheme,
        label: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        self.check_ciphertext_len(ciphertext)?;
        let Some(oaep) = scheme.oaep() else {
            if !label.is_empty() {
                return Err(CryptoError::Unsupported("a label with PKCS#1 v1.5"));
            }
            let key = Pkcs1PrivateDecryptingKey::new(self.key.clone())
                .map_err(|_| CryptoError::Internal("RSA PKCS#1 v1.5 key"))?;
            let mut out = SecretBytes::zeroed(key.min_output_size());
            let plaintext = key
                .decrypt(ciphertext, out.expose_mut())
                .map_err(|_| CryptoError::AuthenticationFailed)?;
            return Ok(SecretBytes::from_slice(plaintext));
        };
        let key = OaepPrivateDecryptingKey::new(self.key.clone())
            .map_err(|_| CryptoError::Internal("RSA-OAEP key"))?;
        let mut out = SecretBytes::zeroed(key.min_output_size());
        let plaintext = key
            .decrypt(oaep, ciphertext, out.expose_mut(), Some(label))
            .map_err(|_| CryptoError::AuthenticationFailed)?;
        Ok(SecretBytes::from_slice(plaintext))
    }

    fn check_ciphertext_len(&self, ciphertext: &[u8]) -> Result<(), CryptoError> {
        if ciphertext.len() != self.key.key_size_bytes() {
            return Err(CryptoError::InvalidInput(
                "RSA ciphertexts are exactly as long as the modulus",
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for RsaDecryptingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaDecryptingKey({} bits, ..)", self.key_size_bits())
    }
}

fn spki_of(key: &PublicEncryptingKey) -> Result<Vec<u8>, CryptoError> {
    key.as_der()
        .map(|der| der.as_ref().to_vec())
        .map_err(|_| CryptoError::Internal("encoding a public key"))
}
