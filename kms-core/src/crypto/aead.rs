//! AES-GCM (128, 192 and 256) with 96-bit nonces and 128-bit tags.
//!
//! AES-GCM is Strongroom's workhorse: every secret it persists is sealed with
//! it (see `hierarchy::blob`), bound to its owner through the associated data.
//!
//! [`AeadKey`] holds the expanded key schedule, so a cached key encrypts
//! without re-deriving anything.
//!
//! # Two ways to use it
//!
//! * [`AeadKey::seal`] / [`AeadKey::open`]: the nonce is drawn from the RNG and
//!   travels with the ciphertext. The wire form is `nonce ‖ ciphertext ‖ tag`
//!   (12 + n + 16 bytes). Use this unless a protocol says otherwise.
//! * [`AeadKey::seal_with_nonce`] / [`AeadKey::open_parts`]: nonce, ciphertext
//!   and tag are separate, for protocols that carry them separately (KMIP's
//!   `IV/Counter/Nonce` and `Authenticated Encryption Tag`) and for test
//!   vectors. With `seal_with_nonce` **the caller guarantees the nonce is never
//!   reused under the same key**; a repeated nonce reveals the XOR of the two
//!   plaintexts and lets an attacker forge tags.
//!
//! # Limits
//!
//! * Nonces are 96 bits. Other sizes are valid GCM but are not offered by
//!   aws-lc-rs; they are rejected with [`CryptoError::Unsupported`].
//! * Tags are 128 bits; truncated tags are rejected with
//!   [`CryptoError::Unsupported`].
//! * With random nonces, NIST SP 800-38D limits a key to 2^32 messages.

use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use super::{CryptoError, SecretBytes, rng};

/// Length of the nonce (96 bits; [`super::gcm_any_iv`] serves other IVs).
pub const NONCE_LEN: usize = aws_lc_rs::aead::NONCE_LEN;
/// Length of the authentication tag.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed message adds to its plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// Which AES-GCM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AeadAlgorithm {
    Aes128Gcm,
    /// For KMIP clients that create AES-192 keys; Strongroom's own keys are
    /// AES-256.
    Aes192Gcm,
    Aes256Gcm,
}

impl AeadAlgorithm {
    pub fn key_len(self) -> usize {
        match self {
            AeadAlgorithm::Aes128Gcm => 16,
            AeadAlgorithm::Aes192Gcm => 24,
            AeadAlgorithm::Aes256Gcm => 32,
        }
    }

    /// The algorithm for a raw AES key of `len` bytes.
    pub fn for_key_len(len: usize) -> Result<Self, CryptoError> {
        match len {
            16 => Ok(AeadAlgorithm::Aes128Gcm),
            24 => Ok(AeadAlgorithm::Aes192Gcm),
            32 => Ok(AeadAlgorithm::Aes256Gcm),
            _ => Err(CryptoError::InvalidKey(
                "AES-GCM keys are 16, 24 or 32 bytes",
            )),
        }
    }
}

/// An AES-GCM key, ready to use.
pub struct AeadKey {
    algorithm: AeadAlgorithm,
    key: LessSafeKey,
}

impl AeadKey {
    pub fn new(algorithm: AeadAlgorithm, key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != algorithm.key_len() {
            return Err(CryptoError::InvalidKey("wrong AES-GCM key length"));
        }
        let alg = match algorithm {
            AeadAlgorithm::Aes128Gcm => &AES_128_GCM,
            AeadAlgorithm::Aes192Gcm => &AES_192_GCM,
            AeadAlgorithm::Aes256Gcm => &AES_256_GCM,
        };
        let unbound = UnboundKey::new(alg, key).map_err(|_| CryptoError::InvalidKey("AES-GCM"))?;
        Ok(Self {
            algorithm,
            key: LessSafeKey::new(unbound),
        })
    }

    pub fn algorithm(&self) -> AeadAlgorithm {
        self.algorithm
    }

    /// Encrypts `plaintext` bound to `aad`; returns `nonce ‖ ciphertext ‖ tag`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        self.seal_append(aad, plaintext, &mut out)?;
        Ok(out)
    }

    /// Like [`AeadKey::seal`], appending to `out` (which may already hold a header).
    pub fn seal_append(
        &self,
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let nonce = server_nonce()?;
        out.reserve(plaintext.len() + OVERHEAD);
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[start..],
            )
            .map_err(|_| CryptoError::InvalidInput("plaintext too long for AES-GCM"))?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Encrypts `plaintext` bound to `aad` under a caller-chosen 96-bit `nonce`;
    /// returns `(ciphertext, tag)`. The ciphertext is as long as the plaintext.
    ///
    /// The caller must never use the same nonce twice with the same key (see the
    /// module documentation). Prefer [`AeadKey::seal`].
    pub fn seal_with_nonce(
        &self,
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, [u8; TAG_LEN]), CryptoError> {
        let nonce = check_nonce(nonce)?;
        let mut out = plaintext.to_vec();
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut out)
            .map_err(|_| CryptoError::InvalidInput("plaintext too long for AES-GCM"))?;
        let tag: [u8; TAG_LEN] = tag
            .as_ref()
            .try_into()
            .map_err(|_| CryptoError::Internal("AES-GCM tag length"))?;
        Ok((out, tag))
    }

    /// Decrypts a ciphertext whose nonce and tag travel separately.
    ///
    /// `nonce` must be 96 bits and `tag` 128 bits, else
    /// [`CryptoError::Unsupported`]; an altered input or the wrong key or `aad`
    /// gives [`CryptoError::AuthenticationFailed`].
    pub fn open_parts(
        &self,
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let nonce = check_nonce(nonce)?;
        if tag.len() != TAG_LEN {
            return Err(CryptoError::Unsupported("AES-GCM tags other than 128 bits"));
        }
        let mut buf = SecretBytes::with_capacity(ciphertext.len() + TAG_LEN);
        buf.extend_from_slice(ciphertext);
        buf.extend_from_slice(tag);
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(aad), buf.expose_mut())
            .map_err(|_| CryptoError::AuthenticationFailed)?;
        Ok(SecretBytes::from_slice(plaintext))
    }

    /// Decrypts `nonce ‖ ciphertext ‖ tag` bound to `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
        if sealed.len() < OVERHEAD {
            return Err(CryptoError::InvalidInput(
                "ciphertext shorter than nonce and tag",
            ));
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| CryptoError::InvalidInput("nonce"))?;
        let mut buf = SecretBytes::from_slice(rest);
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(aad), buf.expose_mut())
            .map_err(|_| CryptoError::AuthenticationFailed)?;
        Ok(SecretBytes::from_slice(plaintext))
    }
}

/// A fresh random nonce with its high bit set.
///
/// Every nonce this module draws has the high bit of its first byte set, and
/// [`is_server_nonce`] tells such nonces apart: a protocol that lets a client
/// choose its own nonce (KMIP Encrypt with an IV/Counter/Nonce) refuses
/// those, so a client can never make the server reuse a nonce it drew, and
/// so can never learn the keystream or the GHASH key of a ciphertext sealed
/// for someone else. 95 random bits keep the chance of a collision among
/// 2^32 messages (SP 800-38D's limit for random nonces) below 2^-31.
fn server_nonce() -> Result<[u8; NONCE_LEN], CryptoError> {
    let mut nonce = NONCES.with(|pool| pool.borrow_mut().next())?;
    nonce[0] |= SERVER_NONCE_BIT;
    Ok(nonce)
}

/// Nonces drawn per refill of a thread's pool.
const POOLED_NONCES: usize = 256;

/// Random nonces drawn from the CSPRNG [`POOLED_NONCES`] at a time. Each
/// draw from aws-lc's DRBG costs a `getrandom` call for its additional
/// input, about as much as the AES-GCM of a short message; drawing 3 KiB at
/// once spreads that over 256 seals. A nonce is not secret (it is sent with
/// the ciphertext), so holding some in memory reveals nothing; each is
/// handed out once and the pool is per thread. The process never forks
/// without exec, so no child can hand out the same ones.
struct NoncePool {
    bytes: [u8; NONCE_LEN * POOLED_NONCES],
    next: usize,
}

impl NoncePool {
    fn next(&mut self) -> Result<[u8; NONCE_LEN], CryptoError> {
        if self.next >= POOLED_NONCES {
            rng::fill(&mut self.bytes)?;
            self.next = 0;
        }
        let start = self.next * NONCE_LEN;
        self.next += 1;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(
            self.bytes
                .get(start..start + NONCE_LEN)
                .ok_or(CryptoError::Internal("nonce pool index"))?,
        );
        Ok(nonce)
    }
}

thread_local! {
    static NONCES: std::cell::RefCell<NoncePool> = const {
        std::cell::RefCell::new(NoncePool {
            bytes: [0u8; NONCE_LEN * POOLED_NONCES],
            // Empty: the first draw fills it.
            next: POOLED_NONCES,
        })
    };
}

const SERVER_NONCE_BIT: u8 = 0x80;

/// Whether `nonce` lies in the half of the nonce space [`AeadKey::seal`]
/// draws from (see [`server_nonce`]).
pub fn is_server_nonce(nonce: &[u8]) -> bool {
    nonce.first().is_some_and(|b| b & SERVER_NONCE_BIT != 0)
}

/// A 96-bit nonce, or `Unsupported` for any other size.
fn check_nonce(nonce: &[u8]) -> Result<Nonce, CryptoError> {
    if nonce.len() != NONCE_LEN {
        return Err(CryptoError::Unsupported(
            "AES-GCM nonces other than 96 bits",
        ));
    }
    Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::InvalidInput("nonce"))
}

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AeadKey({:?}, ..)", self.algorithm)
    }
}

/// The shortest tag [`open_short_tag`] accepts: SP 800-38D §5.2.1.2 allows
/// 96 to 128 bits for general use (32 and 64 only under extra limits).
pub const MIN_TAG_LEN: usize = 12;

/// AES-GCM decryption with a tag of [`MIN_TAG_LEN`] to 16 bytes, for
/// protocols that let a client truncate the tag (KMIP's Tag Length).
///
/// aws-lc-rs checks full tags only, so the plaintext is recovered with
/// AES-CTR from GCM's first counter block (IV ‖ 2), sealed again under the
/// same key, IV and `aad`, and the recomputed tag's first `tag.len()` bytes
/// compared with `tag` in constant time. Nothing is returned unless they
/// match. `key` is the raw AES key.
pub fn open_short_tag(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<SecretBytes, CryptoError> {
    if !(MIN_TAG_LEN..=TAG_LEN).contains(&tag.len()) {
        return Err(CryptoError::Unsupported(
            "AES-GCM tags shorter than 96 bits",
        ));
    }
    check_nonce(nonce)?;
    let mut counter = [0u8; 16];
    counter[..NONCE_LEN].copy_from_slice(nonce);
    counter[15] = 2;
    let plaintext = super::cipher::decrypt(
        key,
        super::cipher::BlockMode::Ctr,
        super::cipher::Padding::None,
        Some(&counter),
        ciphertext,
    )?;
    let aead = AeadKey::new(AeadAlgorithm::for_key_len(key.len())?, key)?;
    let (again, full) = aead.seal_with_nonce(nonce, aad, plaintext.expose())?;
    let same_ciphertext = again.as_slice() == ciphertext;
    let tag_ok = aws_lc_rs::constant_time::verify_slices_are_equal(
        full.get(..tag.len()).unwrap_or_default(),
        tag,
    )
    .is_ok();
    if !(same_ciphertext && tag_ok) {
        return Err(CryptoError::AuthenticationFailed);
    }
    Ok(plaintext)
}

#[cfg(test)]
mod short_tag_tests {
    use super::*;

    /// McGrew–Viega test case 2 (the OASIS CS-BC-M-GCM-1 vector).
    #[test]
    fn truncated_tags_verify() {
        let key = [0u8; 16];
        let nonce = [0u8; 12];
        let ct = hex::decode("0388dace60b6a392f328c2b971b2fe78").unwrap();
        let tag = hex::decode("ab6e47d42cec13bdf53a67b21257bddf").unwrap();
        for len in [12, 13, 16] {
            let p = open_short_tag(&key, &nonce, b"", &ct, &tag[..len]).unwrap();
            assert_eq!(p.expose(), &[0u8; 16]);
        }
        let mut bad = tag[..12].to_vec();
        bad[11] ^= 1;
        assert_eq!(
            open_short_tag(&key, &nonce, b"", &ct, &bad).unwrap_err(),
            CryptoError::AuthenticationFailed
        );
        assert!(open_short_tag(&key, &nonce, b"x", &ct, &tag[..12]).is_err());
        assert!(open_short_tag(&key, &nonce, b"", &ct, &tag[..8]).is_err());
    }
}

#[cfg(test)]
mod nonce_pool_tests {
    use super::*;

    #[test]
    fn pooled_nonces_are_distinct_server_nonces_across_refills() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..(3 * POOLED_NONCES + 7) {
            let n = server_nonce().unwrap();
            assert!(is_server_nonce(&n));
            assert!(seen.insert(n), "a nonce came out twice");
        }
        // Another thread draws from its own pool, never the same nonces.
        let other: Vec<_> = std::thread::spawn(|| {
            (0..POOLED_NONCES)
                .map(|_| server_nonce().unwrap())
                .collect()
        })
        .join()
        .unwrap();
        assert!(other.iter().all(|n| !seen.contains(n)));
    }
}
