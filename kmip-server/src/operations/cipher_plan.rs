//! What Encrypt and Decrypt do for a request: which algorithm, mode,
//! padding and IV, from the request's Cryptographic Parameters or, when it
//! has none, the key's Cryptographic Parameters attribute (KMIP 1.4 §4.29).
//!
//! | parameters | plan |
//! |---|---|
//! | Padding Method OAEP | RSA-OAEP; Hashing Algorithm and Mask Generator Hashing Algorithm default to SHA-1 (Table 65) and must be equal (SHA-1/256/384/512); P Source is the label |
//! | Padding Method PKCS1 v1.5 | RSAES-PKCS1-v1_5 |
//! | an RSA key, no padding named | RSA-OAEP with the defaults above |
//! | Block Cipher Mode GCM, or none | AES-GCM, 96-bit IV, a Tag Length of 12 to 16 bytes (16 by default) |
//! | CBC, ECB | AES, Padding Method PKCS5 or None (the default) |
//! | CTR | AES, the IV is the initial counter block |
//!
//! IVs: a client may supply one (IV/Counter/Nonce) unless Random IV is
//! True; without one the server draws it and returns it. For GCM a client
//! IV must have its first bit clear: the other half of the IV space is the
//! server's (`kms_core::crypto::aead::is_server_nonce`), so a client can
//! never repeat an IV the server drew under the same key. KMIP lets the
//! client supply GCM IVs (it is their SP 800-38D §8 duty to keep them
//! unique); this split keeps that duty from reaching ciphertexts the server
//! made for anyone else.

use kms_core::crypto::aead::{MIN_TAG_LEN, TAG_LEN};
use kms_core::crypto::cipher::{BlockMode, Padding};
use kms_core::crypto::rsa_oaep::RsaEncryptionScheme;
use kms_core::object::{
    BlockCipherMode, CryptographicAlgorithm as Alg, CryptographicParameters, HashingAlgorithm,
    PaddingMethod,
};
use kms_core::service::SymmetricMode;

use super::{Context, crypto_params};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

/// How one Encrypt or Decrypt runs.
pub enum Plan {
    /// AES-GCM through the cached key (server-drawn IV on Encrypt).
    CachedGcm,
    /// AES through the key's raw bytes: GCM with a client IV, CBC, ECB, CTR.
    Symmetric(SymmetricMode),
    /// RSA encryption with this scheme and OAEP label.
    Rsa(RsaEncryptionScheme, Vec<u8>),
}

/// Which of the two operations is planned.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Encrypt,
    Decrypt,
}

/// The request's parameters, or the key's when the request has none, and
/// the plan they make. `client_iv` says whether the request carries an IV.
pub async fn plan(
    ctx: &Context<'_>,
    payload: &Ttlv,
    id: kms_core::ids::ObjectId,
    direction: Direction,
    client_iv: bool,
) -> OpResult<Plan> {
    let (params, key_alg) = match payload.child(Tag::CRYPTOGRAPHIC_PARAMETERS) {
        Some(_) => (crypto_params::requested(payload)?, None),
        None => {
            // From the key cache: no database read per request.
            let key = ctx.kms.key_profile(ctx.project(), id).await?;
            (key.parameters.unwrap_or_default(), key.algorithm)
        }
    };
    // Random IV is about who chooses the IV when encrypting; Decrypt is
    // always given the IV that was used.
    if direction == Direction::Encrypt && client_iv && params.random_iv == Some(true) {
        return Err(OperationError::InvalidField(
            "Random IV asks the server to choose the IV; the request must not carry one".into(),
        ));
    }
    choose(
        &params,
        params.cryptographic_algorithm.or(key_alg),
        client_iv,
    )
}

/// GCM defines tags of 4 to 16 bytes (NIST SP 800-38D). A length outside
/// that is not a GCM request at all, which the OASIS vectors (CS-BC-M-GCM-1)
/// answer with General Failure; a defined length shorter than 12 bytes is a
/// GCM feature this server declines, because short tags make forgery cheap.
fn gcm_tag_length(requested: u32) -> Result<usize, OperationError> {
    match usize::try_from(requested) {
        Ok(t) if (MIN_TAG_LEN..=TAG_LEN).contains(&t) => Ok(t),
        Ok(t) if (4..MIN_TAG_LEN).contains(&t) => Err(unsupported(format!(
            "a {t}-byte GCM tag: this server uses tags of 12 to 16 bytes"
        ))),
        _ => Err(OperationError::GeneralFailure(format!(
            "invalid GCM tag length {requested}: GCM tags are 4 to 16 bytes"
        ))),
    }
}

fn unsupported(what: impl Into<String>) -> OperationError {
    OperationError::FeatureNotSupported(what.into())
}

/// The plan for `params` with a key of algorithm `alg` (when known).
pub fn choose(
    params: &CryptographicParameters,
    alg: Option<Alg>,
    client_iv: bool,
) -> OpResult<Plan> {
    let rsa = matches!(
        params.padding_method,
        Some(PaddingMethod::Oaep | PaddingMethod::Pkcs1v15)
    ) || alg == Some(Alg::Rsa);
    if rsa {
        return rsa_plan(params);
    }
    if alg.is_some_and(|a| a != Alg::Aes) {
        return Err(unsupported(format!(
            "Encrypt and Decrypt support AES and RSA keys, not {}",
            alg.map_or("this algorithm", |a| a.kmip_name())
        )));
    }
    let block = match params.block_cipher_mode {
        None | Some(BlockCipherMode::Gcm) => {
            let tag_len = match params.tag_length {
                None => TAG_LEN,
                Some(t) => gcm_tag_length(t)?,
            };
            return Ok(if client_iv || tag_len != TAG_LEN {
                Plan::Symmetric(SymmetricMode::Gcm { tag_len })
            } else {
                Plan::CachedGcm
            });
        }
        Some(BlockCipherMode::Cbc) => BlockMode::Cbc,
        Some(BlockCipherMode::Ecb) => BlockMode::Ecb,
        Some(BlockCipherMode::Ctr) => BlockMode::Ctr,
        Some(other) => {
            return Err(unsupported(format!(
                "Block Cipher Mode {other} is not supported for Encrypt and Decrypt"
            )));
        }
    };
    let padding = match (block, params.padding_method) {
        (_, None | Some(PaddingMethod::None)) => Padding::None,
        (BlockMode::Cbc | BlockMode::Ecb, Some(PaddingMethod::Pkcs5)) => Padding::Pkcs7,
        (_, Some(p)) => {
            return Err(unsupported(format!(
                "Padding Method {p} is not supported with {block:?}"
            )));
        }
    };
    Ok(Plan::Symmetric(SymmetricMode::Block(block, padding)))
}

fn rsa_plan(params: &CryptographicParameters) -> OpResult<Plan> {
    let label = params.p_source.clone().unwrap_or_default();
    match params.padding_method {
        Some(PaddingMethod::Pkcs1v15) => {
            if !label.is_empty() {
                return Err(OperationError::InvalidField(
                    "P Source applies to OAEP only".into(),
                ));
            }
            Ok(Plan::Rsa(RsaEncryptionScheme::Pkcs1v15, label))
        }
        None | Some(PaddingMethod::Oaep) => {
            let hash = params.hashing_algorithm.unwrap_or(HashingAlgorithm::Sha1);
            let mgf = params
                .mask_generator_hashing_algorithm
                .unwrap_or(HashingAlgorithm::Sha1);
            if hash != mgf {
                return Err(unsupported(format!(
                    "RSA-OAEP with {hash} and MGF1 over {mgf}: the two hashes must be equal"
                )));
            }
            let scheme = match hash {
                HashingAlgorithm::Sha1 => RsaEncryptionScheme::OaepSha1,
                HashingAlgorithm::Sha256 => RsaEncryptionScheme::OaepSha256,
                HashingAlgorithm::Sha384 => RsaEncryptionScheme::OaepSha384,
                HashingAlgorithm::Sha512 => RsaEncryptionScheme::OaepSha512,
                other => return Err(unsupported(format!("RSA-OAEP with {other}"))),
            };
            Ok(Plan::Rsa(scheme, label))
        }
        Some(p) => Err(unsupported(format!(
            "Padding Method {p} is not supported for RSA encryption"
        ))),
    }
}

/// An IV is needed to decrypt in every mode but ECB. KMIP answers a
/// missing one with Invalid Message (the OASIS vectors say so).
pub fn needs_iv(plan: &Plan) -> bool {
    match plan {
        Plan::CachedGcm | Plan::Symmetric(SymmetricMode::Gcm { .. }) => true,
        Plan::Symmetric(SymmetricMode::Block(mode, _)) => mode.takes_iv(),
        Plan::Rsa(..) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(f: impl FnOnce(&mut CryptographicParameters)) -> CryptographicParameters {
        let mut p = CryptographicParameters::default();
        f(&mut p);
        p
    }

    #[test]
    fn plans() {
        let none = CryptographicParameters::default();
        assert!(matches!(choose(&none, None, false), Ok(Plan::CachedGcm)));
        assert!(matches!(
            choose(&none, None, true),
            Ok(Plan::Symmetric(SymmetricMode::Gcm { tag_len: 16 }))
        ));
        assert!(matches!(
            choose(&none, Some(Alg::Rsa), false),
            Ok(Plan::Rsa(RsaEncryptionScheme::OaepSha1, _))
        ));
        let cbc = params(|p| {
            p.block_cipher_mode = Some(BlockCipherMode::Cbc);
            p.padding_method = Some(PaddingMethod::Pkcs5);
        });
        assert!(matches!(
            choose(&cbc, Some(Alg::Aes), true),
            Ok(Plan::Symmetric(SymmetricMode::Block(
                BlockMode::Cbc,
                Padding::Pkcs7
            )))
        ));
        let mixed = params(|p| {
            p.padding_method = Some(PaddingMethod::Oaep);
            p.hashing_algorithm = Some(HashingAlgorithm::Sha256);
        });
        assert!(matches!(
            choose(&mixed, None, false),
            Err(OperationError::FeatureNotSupported(_))
        ));
        let ctr_padded = params(|p| {
            p.block_cipher_mode = Some(BlockCipherMode::Ctr);
            p.padding_method = Some(PaddingMethod::Pkcs5);
        });
        assert!(choose(&ctr_padded, None, false).is_err());
    }
}
