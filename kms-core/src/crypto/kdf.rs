//! Key derivation for KMIP Derive Key: PBKDF2 (RFC 8018), HMAC over
//! derivation data, and a hash over the base key.
//!
//! | function | output | limit |
//! |---|---|---|
//! | [`pbkdf2`] | any length up to [`MAX_OUTPUT`] | 1 to [`MAX_ITERATIONS`] iterations |
//! | [`hmac`] | the first `len` bytes of HMAC(base, data) | `len` ≤ the hash's output |
//! | [`hash`] | the first `len` bytes of H(base) | `len` ≤ the hash's output |
//!
//! Hashes: SHA-1 (PBKDF2 and HMAC only, where its collision weakness does
//! not matter; it is KMIP's default for PBKDF2), SHA-256, SHA-384, SHA-512.
//! Outputs are [`SecretBytes`].

use std::num::NonZeroU32;

use aws_lc_rs::{digest as lc_digest, hmac as lc_hmac, pbkdf2 as lc_pbkdf2};

use super::{CryptoError, SecretBytes};

/// The longest output any function here produces, in bytes.
pub const MAX_OUTPUT: usize = 512;
/// The most PBKDF2 iterations one request may ask for: enough for password
/// hardening (OWASP asks 600,000 for SHA-256), bounded so one request cannot
/// hold a worker for long.
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// The hash under a derivation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KdfHash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl KdfHash {
    fn output_len(self) -> usize {
        match self {
            KdfHash::Sha1 => 20,
            KdfHash::Sha256 => 32,
            KdfHash::Sha384 => 48,
            KdfHash::Sha512 => 64,
        }
    }
}

fn check_len(len: usize, max: usize) -> Result<(), CryptoError> {
    if len == 0 || len > max {
        return Err(CryptoError::InvalidInput(
            "the derived length is zero or longer than the derivation produces",
        ));
    }
    Ok(())
}

/// PBKDF2 with HMAC-`hash` over `password` and `salt`.
pub fn pbkdf2(
    hash: KdfHash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    check_len(len, MAX_OUTPUT)?;
    let iterations = NonZeroU32::new(iterations)
        .filter(|i| i.get() <= MAX_ITERATIONS)
        .ok_or(CryptoError::InvalidInput(
            "PBKDF2 iterations must be 1 to 1,000,000",
        ))?;
    let alg = match hash {
        KdfHash::Sha1 => lc_pbkdf2::PBKDF2_HMAC_SHA1,
        KdfHash::Sha256 => lc_pbkdf2::PBKDF2_HMAC_SHA256,
        KdfHash::Sha384 => lc_pbkdf2::PBKDF2_HMAC_SHA384,
        KdfHash::Sha512 => lc_pbkdf2::PBKDF2_HMAC_SHA512,
    };
    let mut out = SecretBytes::zeroed(len);
    lc_pbkdf2::derive(alg, iterations, salt, password, out.expose_mut());
    Ok(out)
}

/// The first `len` bytes of HMAC-`hash`(`key`, `data`).
pub fn hmac(
    hash: KdfHash,
    key: &[u8],
    data: &[u8],
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    check_len(len, hash.output_len())?;
    let alg = match hash {
        KdfHash::Sha1 => lc_hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        KdfHash::Sha256 => lc_hmac::HMAC_SHA256,
        KdfHash::Sha384 => lc_hmac::HMAC_SHA384,
        KdfHash::Sha512 => lc_hmac::HMAC_SHA512,
    };
    let tag = lc_hmac::sign(&lc_hmac::Key::new(alg, key), data);
    Ok(SecretBytes::from_slice(
        tag.as_ref().get(..len).unwrap_or_default(),
    ))
}

/// The first `len` bytes of `hash`(`key`). SHA-1 is refused here.
pub fn hash(hash: KdfHash, key: &[u8], len: usize) -> Result<SecretBytes, CryptoError> {
    check_len(len, hash.output_len())?;
    let alg = match hash {
        KdfHash::Sha1 => return Err(CryptoError::Unsupported("deriving a key with SHA-1")),
        KdfHash::Sha256 => &lc_digest::SHA256,
        KdfHash::Sha384 => &lc_digest::SHA384,
        KdfHash::Sha512 => &lc_digest::SHA512,
    };
    let d = lc_digest::digest(alg, key);
    Ok(SecretBytes::from_slice(
        d.as_ref().get(..len).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6070 test 2 (PBKDF2-HMAC-SHA1, 2 iterations) and RFC 4231 test
    /// case 2 (HMAC-SHA-256).
    #[test]
    fn known_answers() {
        let k = pbkdf2(KdfHash::Sha1, b"password", b"salt", 2, 20).unwrap();
        assert_eq!(
            hex::encode(k.expose()),
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"
        );
        let m = hmac(
            KdfHash::Sha256,
            b"Jefe",
            b"what do ya want for nothing?",
            32,
        )
        .unwrap();
        assert_eq!(
            hex::encode(m.expose()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let h = hash(KdfHash::Sha256, b"abc", 16).unwrap();
        assert_eq!(hex::encode(h.expose()), "ba7816bf8f01cfea414140de5dae2223");
    }

    #[test]
    fn limits() {
        assert!(pbkdf2(KdfHash::Sha256, b"p", b"s", 0, 16).is_err());
        assert!(pbkdf2(KdfHash::Sha256, b"p", b"s", MAX_ITERATIONS + 1, 16).is_err());
        assert!(pbkdf2(KdfHash::Sha256, b"p", b"s", 1, MAX_OUTPUT + 1).is_err());
        assert!(hmac(KdfHash::Sha256, b"k", b"d", 33).is_err());
        assert!(hash(KdfHash::Sha1, b"k", 16).is_err());
        assert!(hash(KdfHash::Sha512, b"k", 0).is_err());
    }
}
