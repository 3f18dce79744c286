//! The CSPRNG: aws-lc-rs's system random (AWS-LC's DRBG seeded from the OS).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use super::{CryptoError, SecretBytes};

/// Fills `out` with random bytes.
pub fn fill(out: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new().fill(out).map_err(|_| CryptoError::Rng)
}

/// `len` random bytes in a zeroizing buffer, for keys.
pub fn random_secret(len: usize) -> Result<SecretBytes, CryptoError> {
    let mut out = SecretBytes::zeroed(len);
    fill(out.expose_mut())?;
    Ok(out)
}

/// `len` random bytes that are not secret (nonces, salts, public random).
pub fn random_bytes(len: usize) -> Result<Vec<u8>, CryptoError> {
    let mut out = vec![0u8; len];
    fill(&mut out)?;
    Ok(out)
}
