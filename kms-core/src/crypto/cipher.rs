//! AES in the unauthenticated block modes KMIP clients ask for: CBC and ECB
//! (with PKCS#7 padding or none) and CTR.
//!
//! These modes exist for interoperability (the OASIS KMIP profiles test
//! them, and HSM-era clients use them). None of them authenticates: an
//! altered ciphertext decrypts to altered plaintext, and CBC with padding is
//! a padding oracle if a caller can tell a padding failure from other
//! failures. Strongroom never protects its own secrets with them; prefer
//! [`super::aead`].
//!
//! # Inputs
//!
//! * Keys are 16, 24 or 32 raw bytes (AES-128/192/256).
//! * IVs are 16 bytes for CBC and CTR (for CTR, the initial counter block);
//!   ECB takes none. Without one, [`encrypt`] draws a random IV and returns
//!   it. A caller-chosen CTR counter block must never repeat under a key:
//!   that is the caller's promise.
//! * Without padding, CBC and ECB need whole 16-byte blocks; CTR takes any
//!   length.
//!
//! Decrypted plaintexts come back in [`SecretBytes`]. Every failure is a
//! [`CryptoError`] naming what was wrong with the input, never the key.

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, Algorithm, DecryptingKey, DecryptionContext, EncryptingKey,
    EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;

use super::{CryptoError, SecretBytes, rng};

/// The AES block and IV length.
pub const BLOCK_LEN: usize = 16;

/// An unauthenticated AES mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockMode {
    Cbc,
    Ecb,
    Ctr,
}

impl BlockMode {
    /// Whether the mode takes an IV (or initial counter block).
    pub fn takes_iv(self) -> bool {
        !matches!(self, BlockMode::Ecb)
    }
}

/// Padding for CBC and ECB. CTR is a stream mode and is never padded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// The data must be whole blocks.
    None,
    /// PKCS#7 (KMIP calls it PKCS5).
    Pkcs7,
}

/// What was produced by [`encrypt`]: the ciphertext and the IV used (none
/// for ECB).
pub struct Encrypted {
    pub ciphertext: Vec<u8>,
    pub iv: Option<[u8; BLOCK_LEN]>,
}

fn algorithm(key: &[u8]) -> Result<&'static Algorithm, CryptoError> {
    match key.len() {
        16 => Ok(&AES_128),
        24 => Ok(&AES_192),
        32 => Ok(&AES_256),
        _ => Err(CryptoError::InvalidKey("AES keys are 16, 24 or 32 bytes")),
    }
}

fn unbound(key: &[u8]) -> Result<UnboundCipherKey, CryptoError> {
    UnboundCipherKey::new(algorithm(key)?, key).map_err(|_| CryptoError::InvalidKey("AES"))
}

/// The IV for `mode`: the caller's (checked), a fresh random one, or none.
fn iv_for(mode: BlockMode, iv: Option<&[u8]>) -> Result<Option<[u8; BLOCK_LEN]>, CryptoError> {
    match (mode.takes_iv(), iv) {
        (false, None) => Ok(None),
        (false, Some(_)) => Err(CryptoError::InvalidInput("ECB takes no IV")),
        (true, Some(iv)) => iv
            .try_into()
            .map(Some)
            .map_err(|_| CryptoError::InvalidInput("the IV must be 16 bytes")),
        (true, None) => {
            let mut fresh = [0u8; BLOCK_LEN];
            rng::fill(&mut fresh)?;
            Ok(Some(fresh))
        }
    }
}

fn check_padding(mode: BlockMode, padding: Padding, len: usize) -> Result<(), CryptoError> {
    match (mode, padding) {
        (BlockMode::Ctr, Padding::Pkcs7) => Err(CryptoError::Unsupported("padding with CTR")),
        (BlockMode::Cbc | BlockMode::Ecb, Padding::None) if len % BLOCK_LEN != 0 => Err(
            CryptoError::InvalidInput("without padding the data must be whole 16-byte blocks"),
        ),
        _ => Ok(()),
    }
}

/// Encrypts `data` under `key`. `iv` is the caller's IV or counter block;
/// without one a random IV is drawn (CBC, CTR).
pub fn encrypt(
    key: &[u8],
    mode: BlockMode,
    padding: Padding,
    iv: Option<&[u8]>,
    data: &[u8],
) -> Result<Encrypted, CryptoError> {
    check_padding(mode, padding, data.len())?;
    let iv = iv_for(mode, iv)?;
    let context = match iv {
        Some(iv) => EncryptionContext::Iv128(FixedLength::from(iv)),
        None => EncryptionContext::None,
    };
    let failed = |_| CryptoError::InvalidInput("AES encryption failed");
    let mut buf = data.to_vec();
    let key = unbound(key)?;
    match padding {
        Padding::Pkcs7 => {
            let k = match mode {
                BlockMode::Ecb => PaddedBlockEncryptingKey::ecb_pkcs7(key),
                _ => PaddedBlockEncryptingKey::cbc_pkcs7(key),
            }
            .map_err(|_| CryptoError::InvalidKey("AES"))?;
            k.less_safe_encrypt(&mut buf, context).map_err(failed)?;
        }
        Padding::None => {
            let k = match mode {
                BlockMode::Cbc => EncryptingKey::cbc(key),
                BlockMode::Ecb => EncryptingKey::ecb(key),
                BlockMode::Ctr => EncryptingKey::ctr(key),
            }
            .map_err(|_| CryptoError::InvalidKey("AES"))?;
            k.less_safe_encrypt(&mut buf, context).map_err(failed)?;
        }
    }
    Ok(Encrypted {
        ciphertext: buf,
        iv,
    })
}

/// Decrypts `data` under `key` with the IV it was encrypted with (none for
/// ECB). A bad padding is [`CryptoError::AuthenticationFailed`], like any
/// other failure to recover a plaintext.
pub fn decrypt(
    key: &[u8],
    mode: BlockMode,
    padding: Padding,
    iv: Option<&[u8]>,
    data: &[u8],
) -> Result<SecretBytes, CryptoError> {
    if mode.takes_iv() && iv.is_none() {
        return Err(CryptoError::InvalidInput("the IV is missing"));
    }
    check_padding(mode, padding, data.len())?;
    if padding == Padding::Pkcs7 && (data.is_empty() || data.len() % BLOCK_LEN != 0) {
        return Err(CryptoError::InvalidInput(
            "a padded ciphertext is whole 16-byte blocks",
        ));
    }
    let context = match iv_for(mode, iv)? {
        Some(iv) => DecryptionContext::Iv128(FixedLength::from(iv)),
        None => DecryptionContext::None,
    };
    let mut buf = SecretBytes::from_slice(data);
    let key = unbound(key)?;
    let len = match padding {
        Padding::Pkcs7 => {
            let k = match mode {
                BlockMode::Ecb => PaddedBlockDecryptingKey::ecb_pkcs7(key),
                _ => PaddedBlockDecryptingKey::cbc_pkcs7(key),
            }
            .map_err(|_| CryptoError::InvalidKey("AES"))?;
            k.decrypt(buf.expose_mut(), context)
                .map_err(|_| CryptoError::AuthenticationFailed)?
                .len()
        }
        Padding::None => {
            let k = match mode {
                BlockMode::Cbc => DecryptingKey::cbc(key),
                BlockMode::Ecb => DecryptingKey::ecb(key),
                BlockMode::Ctr => DecryptingKey::ctr(key),
            }
            .map_err(|_| CryptoError::InvalidKey("AES"))?;
            k.decrypt(buf.expose_mut(), context)
                .map_err(|_| CryptoError::InvalidInput("AES decryption failed"))?
                .len()
        }
    };
    Ok(SecretBytes::from_slice(
        buf.expose().get(..len).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    // NIST SP 800-38A F.2.1 (CBC-AES128), F.1.1 (ECB-AES128), F.5.1
    // (CTR-AES128) and F.2.3 (CBC-AES192): first block.
    const KEY128: &str = "2b7e151628aed2a6abf7158809cf4f3c";
    const KEY192: &str = "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b";
    const PLAIN: &str = "6bc1bee22e409f96e93d7e117393172a";

    #[test]
    fn sp800_38a_known_answers() {
        let cases = [
            (
                KEY128,
                BlockMode::Cbc,
                Some("000102030405060708090a0b0c0d0e0f"),
                "7649abac8119b246cee98e9b12e9197d",
            ),
            (
                KEY128,
                BlockMode::Ecb,
                None,
                "3ad77bb40d7a3660a89ecaf32466ef97",
            ),
            (
                KEY128,
                BlockMode::Ctr,
                Some("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
                "874d6191b620e3261bef6864990db6ce",
            ),
            (
                KEY192,
                BlockMode::Cbc,
                Some("000102030405060708090a0b0c0d0e0f"),
                "4f021db243bc633d7178183a9fa071e8",
            ),
        ];
        for (key, mode, iv, want) in cases {
            let iv = iv.map(unhex);
            let out = encrypt(
                &unhex(key),
                mode,
                Padding::None,
                iv.as_deref(),
                &unhex(PLAIN),
            )
            .unwrap();
            assert_eq!(hex::encode(&out.ciphertext), want, "{mode:?}");
            let back = decrypt(
                &unhex(key),
                mode,
                Padding::None,
                iv.as_deref(),
                &out.ciphertext,
            )
            .unwrap();
            assert_eq!(back.expose(), unhex(PLAIN).as_slice());
        }
    }

    #[test]
    fn pkcs7_pads_and_unpads() {
        let key = unhex(KEY128);
        for len in [0, 1, 15, 16, 33] {
            let data = vec![7u8; len];
            for mode in [BlockMode::Cbc, BlockMode::Ecb] {
                let out = encrypt(&key, mode, Padding::Pkcs7, None, &data).unwrap();
                assert_eq!(out.ciphertext.len(), (len / 16 + 1) * 16);
                let iv = out.iv.map(|iv| iv.to_vec());
                let back =
                    decrypt(&key, mode, Padding::Pkcs7, iv.as_deref(), &out.ciphertext).unwrap();
                assert_eq!(back.expose(), data.as_slice());
            }
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        let key = unhex(KEY128);
        assert!(encrypt(&key[..15], BlockMode::Ecb, Padding::None, None, &[0; 16]).is_err());
        assert!(encrypt(&key, BlockMode::Ecb, Padding::None, None, &[0; 15]).is_err());
        assert!(
            encrypt(
                &key,
                BlockMode::Ecb,
                Padding::None,
                Some(&[0; 16]),
                &[0; 16]
            )
            .is_err()
        );
        assert!(encrypt(&key, BlockMode::Cbc, Padding::None, Some(&[0; 8]), &[0; 16]).is_err());
        assert!(encrypt(&key, BlockMode::Ctr, Padding::Pkcs7, None, &[0; 3]).is_err());
        assert!(decrypt(&key, BlockMode::Cbc, Padding::None, None, &[0; 16]).is_err());
        assert!(
            decrypt(
                &key,
                BlockMode::Cbc,
                Padding::Pkcs7,
                Some(&[0; 16]),
                &[0; 15]
            )
            .is_err()
        );
        // A random block almost never ends in valid padding; a fixed one here does not.
        assert_eq!(
            decrypt(&key, BlockMode::Ecb, Padding::Pkcs7, None, &[0; 16]).unwrap_err(),
            CryptoError::AuthenticationFailed
        );
    }
}
