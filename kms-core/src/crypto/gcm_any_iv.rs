//! AES-GCM with an IV of any length other than 96 bits (NIST SP 800-38D
//! §7.1), for protocols that let a client choose one (KMIP's
//! IV/Counter/Nonce; the OASIS vectors use 64-bit IVs).
//!
//! aws-lc-rs offers only 96-bit GCM nonces, so this is GCM assembled from
//! its parts: the AES block function from aws-lc-rs (ECB over counter
//! blocks) and GHASH from the RustCrypto `ghash` crate.
//!
//! * `H = AES_K(0¹²⁸)`
//! * `J0 = GHASH_H(IV ‖ 0ˢ⁺⁶⁴ ‖ [len(IV)]₆₄)`
//! * `C = P ⊕ AES_K(inc32(J0)), AES_K(inc32²(J0)), …` — `inc32` wraps the
//!   low 32 bits without carrying, which is why counter blocks are built
//!   here rather than left to a CTR mode that carries into the upper bits
//! * `T = MSB_t(AES_K(J0) ⊕ GHASH_H(A ‖ 0ᵛ ‖ C ‖ 0ᵘ ‖ [len(A)]₆₄ ‖ [len(C)]₆₄))`
//!
//! Decryption recomputes the tag over the ciphertext and compares it in
//! constant time before producing any plaintext.
//!
//! A 96-bit IV is refused here: [`super::aead`] handles those, and keeps
//! the server's half of that IV space to itself. A non-96-bit IV cannot
//! collide with a server-drawn one in any way a client can steer: its
//! counter block comes out of GHASH under the secret `H`.

use ghash::GHash;
use ghash::universal_hash::{KeyInit, UniversalHash};

use super::aead::{MIN_TAG_LEN, TAG_LEN};
use super::cipher::{self, BLOCK_LEN, BlockMode, Padding};
use super::{CryptoError, SecretBytes};

/// The longest IV accepted. SP 800-38D allows up to 2⁶⁴ − 1 bits; 128 bytes
/// is more than any protocol uses and keeps a hostile IV cheap to hash.
pub const MAX_IV_LEN: usize = 128;

/// The 96-bit IV length, which [`super::aead`] serves instead.
const STANDARD_IV_LEN: usize = 12;

/// Encrypts `plaintext` under the raw AES `key` with `iv` (1 to
/// [`MAX_IV_LEN`] bytes, not 12); returns the ciphertext and a tag of
/// `tag_len` bytes (12 to 16). The caller must never reuse an IV under a key.
pub fn seal(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    tag_len: usize,
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let gcm = Gcm::new(key, iv, tag_len)?;
    let keystream = gcm.keystream(plaintext.len())?;
    let ciphertext: Vec<u8> = plaintext
        .iter()
        .zip(keystream.expose())
        .map(|(p, k)| p ^ k)
        .collect();
    let tag = gcm.tag(aad, &ciphertext)?;
    Ok((ciphertext, tag))
}

/// Decrypts what [`seal`] produced; the tag (12 to 16 bytes) is checked
/// before anything is decrypted.
pub fn open(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let gcm = Gcm::new(key, iv, tag.len())?;
    let expected = gcm.tag(aad, ciphertext)?;
    if aws_lc_rs::constant_time::verify_slices_are_equal(&expected, tag).is_err() {
        return Err(CryptoError::AuthenticationFailed);
    }
    let keystream = gcm.keystream(ciphertext.len())?;
    let mut plaintext = SecretBytes::zeroed(ciphertext.len());
    for ((out, c), k) in plaintext
        .expose_mut()
        .iter_mut()
        .zip(ciphertext)
        .zip(keystream.expose())
    {
        *out = c ^ k;
    }
    Ok(plaintext)
}

/// One message's key, hash key and pre-counter block.
struct Gcm<'k> {
    key: &'k [u8],
    h: SecretBytes,
    j0: [u8; BLOCK_LEN],
    tag_len: usize,
}

impl<'k> Gcm<'k> {
    fn new(key: &'k [u8], iv: &[u8], tag_len: usize) -> Result<Self, CryptoError> {
        if iv.is_empty() || iv.len() > MAX_IV_LEN {
            return Err(CryptoError::InvalidInput(
                "AES-GCM IVs are 1 to 128 bytes long",
            ));
        }
        if iv.len() == STANDARD_IV_LEN {
            return Err(CryptoError::Internal(
                "96-bit GCM IVs belong to the aws-lc-rs path",
            ));
        }
        if !(MIN_TAG_LEN..=TAG_LEN).contains(&tag_len) {
            return Err(CryptoError::Unsupported(
                "AES-GCM tags shorter than 96 bits",
            ));
        }
        let h = aes_blocks(key, &[0u8; BLOCK_LEN])?;
        let mut ghash = ghash_for(&h)?;
        ghash.update_padded(iv);
        let bits = u64::try_from(iv.len())
            .map_err(|_| CryptoError::InvalidInput("IV length"))?
            .saturating_mul(8);
        let mut len_block = [0u8; BLOCK_LEN];
        len_block[8..].copy_from_slice(&bits.to_be_bytes());
        ghash.update_padded(&len_block);
        let j0: [u8; BLOCK_LEN] = ghash.finalize().into();
        Ok(Self {
            key,
            h,
            j0,
            tag_len,
        })
    }

    /// `len` bytes of `AES_K(inc32(J0)) ‖ AES_K(inc32²(J0)) ‖ …`.
    fn keystream(&self, len: usize) -> Result<SecretBytes, CryptoError> {
        let blocks = len.div_ceil(BLOCK_LEN);
        // GCM caps a message at 2³² − 2 blocks.
        if !u64::try_from(blocks).is_ok_and(|b| b < u64::from(u32::MAX)) {
            return Err(CryptoError::InvalidInput("plaintext too long for AES-GCM"));
        }
        let (prefix, low) = self.j0.split_at(12);
        let mut counter = u32::from_be_bytes(low.try_into().unwrap_or_default());
        let mut counters = Vec::with_capacity(blocks * BLOCK_LEN);
        for _ in 0..blocks {
            counter = counter.wrapping_add(1);
            counters.extend_from_slice(prefix);
            counters.extend_from_slice(&counter.to_be_bytes());
        }
        let stream = aes_blocks(self.key, &counters)?;
        Ok(SecretBytes::from_slice(
            stream.expose().get(..len).unwrap_or_default(),
        ))
    }

    /// The tag over `aad` and `ciphertext`, cut to `tag_len` bytes.
    fn tag(&self, aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut ghash = ghash_for(&self.h)?;
        ghash.update_padded(aad);
        ghash.update_padded(ciphertext);
        let bits = |n: usize| {
            u64::try_from(n)
                .map(|n| n.saturating_mul(8))
                .map_err(|_| CryptoError::InvalidInput("input length"))
        };
        let mut lengths = [0u8; BLOCK_LEN];
        lengths[..8].copy_from_slice(&bits(aad.len())?.to_be_bytes());
        lengths[8..].copy_from_slice(&bits(ciphertext.len())?.to_be_bytes());
        ghash.update_padded(&lengths);
        let s = ghash.finalize();
        let mask = aes_blocks(self.key, &self.j0)?;
        Ok(mask
            .expose()
            .iter()
            .zip(s.iter())
            .take(self.tag_len)
            .map(|(m, s)| m ^ s)
            .collect())
    }
}

fn ghash_for(h: &SecretBytes) -> Result<GHash, CryptoError> {
    GHash::new_from_slice(h.expose()).map_err(|_| CryptoError::Internal("GHASH key length"))
}

/// AES under `key` applied to each 16-byte block of `blocks` (ECB, which is
/// exactly the block function when the input is counter blocks).
fn aes_blocks(key: &[u8], blocks: &[u8]) -> Result<SecretBytes, CryptoError> {
    let out = cipher::encrypt(key, BlockMode::Ecb, Padding::None, None, blocks)?;
    Ok(SecretBytes::from_vec(out.ciphertext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// McGrew–Viega test case 5 (64-bit IV; the OASIS CS-BC-M-GCM-3
    /// vector) and 6 (480-bit IV).
    #[test]
    fn known_answers() {
        let key = h("feffe9928665731c6d6a8f9467308308");
        let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let pt = h(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let cases = [
            (
                "cafebabefacedbad",
                "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c742373806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
                "3612d2e79e3b0785561be14aaca2fccb",
            ),
            (
                "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
                "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca701e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
                "619cc5aefffe0bfa462af43c1699d050",
            ),
        ];
        for (iv, ct, tag) in cases {
            let (iv, ct, tag) = (h(iv), h(ct), h(tag));
            let (c, t) = seal(&key, &iv, &aad, &pt, 16).unwrap();
            assert_eq!(
                (c.as_slice(), t.as_slice()),
                (ct.as_slice(), tag.as_slice())
            );
            assert_eq!(open(&key, &iv, &aad, &ct, &tag).unwrap().expose(), pt);
            assert_eq!(open(&key, &iv, &aad, &ct, &tag[..12]).unwrap().expose(), pt);
            let mut bad = tag.clone();
            bad[15] ^= 1;
            assert_eq!(
                open(&key, &iv, &aad, &ct, &bad).unwrap_err(),
                CryptoError::AuthenticationFailed
            );
            assert!(open(&key, &iv, b"other", &ct, &tag).is_err());
        }
    }

    #[test]
    fn inc32_wraps_without_carry() {
        // A counter block whose low word is all ones must wrap to zero and
        // leave the upper 96 bits alone.
        let key = [7u8; 16];
        let gcm = Gcm {
            key: &key,
            h: SecretBytes::zeroed(16),
            j0: [
                0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe,
            ],
            tag_len: 16,
        };
        let stream = gcm.keystream(32).unwrap();
        let mut expect = vec![
            0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
        ];
        expect.extend_from_slice(&[0xab, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(stream.expose(), aes_blocks(&key, &expect).unwrap().expose());
    }

    #[test]
    fn refuses_bad_lengths() {
        let key = [0u8; 16];
        assert!(seal(&key, &[], b"", b"x", 16).is_err());
        assert!(seal(&key, &[0; 12], b"", b"x", 16).is_err());
        assert!(seal(&key, &[0; 129], b"", b"x", 16).is_err());
        assert!(seal(&key, &[0; 8], b"", b"x", 8).is_err());
        assert!(open(&key, &[0; 8], b"", b"x", &[0; 4]).is_err());
        assert!(seal(&[0; 15], &[0; 8], b"", b"x", 16).is_err());
    }
}
