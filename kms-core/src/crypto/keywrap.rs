//! AES key wrap: AES-KW (RFC 3394) and AES-KWP, key wrap with padding (RFC 5649).
//!
//! Both are the NIST SP 800-38F modes for wrapping *keys* under a
//! key-encryption key (KEK). They are deterministic and authenticated by an
//! integrity check value; they take no nonce and no associated data. Strongroom
//! uses AES-GCM ([`super::aead`]) for its own storage; key wrap is here for
//! interoperability: KMIP's key wrapping specification, PKCS#11 `CKM_AES_KEY_WRAP`
//! and `CKM_AES_KEY_WRAP_PAD`, and the import/export formats of cloud KMSs.
//!
//! # Which one
//!
//! * [`wrap`] / [`unwrap`] (KW, RFC 3394): the key must be a multiple of 8
//!   bytes and at least 16 bytes (AES keys, HMAC keys of suitable length).
//!   Output is 8 bytes longer than the input.
//! * [`wrap_with_padding`] / [`unwrap_with_padding`] (KWP, RFC 5649): any
//!   non-empty key (e.g. a PKCS#8 private key). Output is the input rounded up
//!   to a multiple of 8, plus 8 bytes.
//!
//! # Keys and errors
//!
//! The KEK is a raw AES key of 16 or 32 bytes (AES-192 is not offered by
//! aws-lc-rs; [`CryptoError::InvalidKey`]). A wrong length of wrapped data is
//! [`CryptoError::InvalidInput`]; a wrapped key that fails its integrity check
//! (wrong KEK, altered bytes, wrong mode) is [`CryptoError::AuthenticationFailed`].
//! Unwrapped keys are returned in [`SecretBytes`].

use aws_lc_rs::key_wrap::{AES_128, AES_256, AesKek, KeyWrap, KeyWrapPadded};

use super::{CryptoError, SecretBytes};

/// Bytes that key wrap adds (the 64-bit integrity check value).
pub const OVERHEAD: usize = 8;
/// The smallest key AES-KW wraps (two 64-bit semiblocks).
pub const KW_MIN_INPUT: usize = 16;

/// Wraps `key` under `kek` with AES-KW (RFC 3394).
///
/// `key.len()` must be a multiple of 8 and at least 16.
pub fn wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if key.len() < KW_MIN_INPUT || key.len() % 8 != 0 {
        return Err(CryptoError::InvalidInput(
            "AES-KW wraps keys of at least 16 bytes, in multiples of 8 (use AES-KWP otherwise)",
        ));
    }
    let kek = new_kek(kek)?;
    let mut out = vec![0u8; key.len() + OVERHEAD];
    let len = kek
        .wrap(key, &mut out)
        .map_err(|_| CryptoError::InvalidInput("key too long for AES-KW"))?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Unwraps an AES-KW (RFC 3394) `wrapped` key under `kek`.
pub fn unwrap(kek: &[u8], wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
    if wrapped.len() < KW_MIN_INPUT + OVERHEAD || wrapped.len() % 8 != 0 {
        return Err(CryptoError::InvalidInput(
            "AES-KW wrapped keys are at least 24 bytes, in multiples of 8",
        ));
    }
    let kek = new_kek(kek)?;
    let mut out = SecretBytes::zeroed(wrapped.len() - OVERHEAD);
    let key = kek
        .unwrap(wrapped, out.expose_mut())
        .map_err(|_| CryptoError::AuthenticationFailed)?;
    Ok(SecretBytes::from_slice(key))
}

/// Wraps `key` (any non-empty length) under `kek` with AES-KWP (RFC 5649).
pub fn wrap_with_padding(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if key.is_empty() {
        return Err(CryptoError::InvalidInput(
            "AES-KWP cannot wrap an empty key",
        ));
    }
    let kek = new_kek(kek)?;
    let padded = key
        .len()
        .checked_next_multiple_of(8)
        .and_then(|n| n.checked_add(OVERHEAD))
        .ok_or(CryptoError::InvalidInput("key too long for AES-KWP"))?;
    let mut out = vec![0u8; padded];
    let len = kek
        .wrap_with_padding(key, &mut out)
        .map_err(|_| CryptoError::InvalidInput("key too long for AES-KWP"))?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Unwraps an AES-KWP (RFC 5649) `wrapped` key under `kek`.
pub fn unwrap_with_padding(kek: &[u8], wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
    if wrapped.len() < 2 * OVERHEAD || wrapped.len() % 8 != 0 {
        return Err(CryptoError::InvalidInput(
            "AES-KWP wrapped keys are at least 16 bytes, in multiples of 8",
        ));
    }
    let kek = new_kek(kek)?;
    let mut out = SecretBytes::zeroed(wrapped.len());
    let key = kek
        .unwrap_with_padding(wrapped, out.expose_mut())
        .map_err(|_| CryptoError::AuthenticationFailed)?;
    Ok(SecretBytes::from_slice(key))
}

/// An aws-lc-rs KEK (it zeroizes its copy of the key on drop).
fn new_kek(kek: &[u8]) -> Result<AesKek, CryptoError> {
    let cipher = match kek.len() {
        16 => &AES_128,
        32 => &AES_256,
        _ => {
            return Err(CryptoError::InvalidKey(
                "AES key-encryption keys are 16 or 32 bytes",
            ));
        }
    };
    AesKek::new(cipher, kek).map_err(|_| CryptoError::InvalidKey("AES key-encryption key"))
}
