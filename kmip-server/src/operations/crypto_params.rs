//! Reading the Cryptographic Parameters of a cryptographic operation and
//! choosing what kms-core does with them.

use kms_core::crypto::hmac::HmacAlgorithm;
use kms_core::crypto::signature::SignatureScheme;
use kms_core::object::{
    CryptographicAlgorithm as Alg, CryptographicParameters, HashingAlgorithm, PaddingMethod,
};
use kms_core::service::KeyProfile;

use crate::message::attributes::parse;
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::DigitalSignatureAlgorithm as Dsa;
use crate::ttlv::{Tag, Ttlv};

/// The request's Cryptographic Parameters, or the object's own.
pub fn effective(payload: &Ttlv, key: &KeyProfile) -> OpResult<CryptographicParameters> {
    match payload.child(Tag::CRYPTOGRAPHIC_PARAMETERS) {
        Some(p) => Ok(parse::cryptographic_parameters(
            &without_signature_algorithm(p),
        )?),
        None => Ok(key.parameters.clone().unwrap_or_default()),
    }
}

/// The Digital Signature Algorithm is read by [`signature_scheme`]; the
/// rest go through the common parser.
fn without_signature_algorithm(p: &Ttlv) -> Ttlv {
    Ttlv::structure(
        p.tag,
        p.items()
            .iter()
            .filter(|c| c.tag != Tag::DIGITAL_SIGNATURE_ALGORITHM)
            .cloned()
            .collect(),
    )
}

/// The signature scheme for a key and the request's parameters.
pub fn signature_scheme(payload: &Ttlv, key: &KeyProfile) -> OpResult<SignatureScheme> {
    use SignatureScheme as S;
    let params = effective(payload, key)?;
    let dsa = payload
        .child(Tag::CRYPTOGRAPHIC_PARAMETERS)
        .and_then(|p| p.child(Tag::DIGITAL_SIGNATURE_ALGORITHM))
        .map(|d| d.as_enum().map(Dsa))
        .transpose()?;
    let hash = params.hashing_algorithm;
    let unsupported = || {
        OperationError::FeatureNotSupported(
            "that signature algorithm is not supported for this key".into(),
        )
    };
    let sha = |h: Option<HashingAlgorithm>, default: HashingAlgorithm| match h.unwrap_or(default) {
        HashingAlgorithm::Sha256 => Ok(0),
        HashingAlgorithm::Sha384 => Ok(1),
        HashingAlgorithm::Sha512 => Ok(2),
        _ => Err(unsupported()),
    };
    let pick = |i: usize, of: [S; 3]| of.get(i).copied().ok_or_else(unsupported);
    match key.algorithm {
        Some(Alg::Rsa) => {
            let (pss, hash) = match dsa {
                Some(Dsa::SHA_256_WITH_RSA_ENCRYPTION) => (false, Some(HashingAlgorithm::Sha256)),
                Some(Dsa::SHA_384_WITH_RSA_ENCRYPTION) => (false, Some(HashingAlgorithm::Sha384)),
                Some(Dsa::SHA_512_WITH_RSA_ENCRYPTION) => (false, Some(HashingAlgorithm::Sha512)),
                Some(Dsa::RSASSA_PSS) => (true, hash),
                Some(_) => return Err(unsupported()),
                None => (params.padding_method == Some(PaddingMethod::Pss), hash),
            };
            let i = sha(hash, HashingAlgorithm::Sha256)?;
            if pss {
                // aws-lc-rs's PSS uses MGF1 over the message hash and a salt
                // as long as the hash; other choices are refused, never
                // silently replaced.
                let hash_len = [32u32, 48, 64].get(i).copied().ok_or_else(unsupported)?;
                if params.salt_length.is_some_and(|s| s != hash_len) {
                    return Err(OperationError::FeatureNotSupported(format!(
                        "RSA-PSS salts are as long as the hash ({hash_len} bytes)"
                    )));
                }
                if params
                    .mask_generator_hashing_algorithm
                    .is_some_and(|m| Some(m) != hash.or(Some(HashingAlgorithm::Sha256)))
                {
                    return Err(OperationError::FeatureNotSupported(
                        "RSA-PSS uses MGF1 over the message hash".into(),
                    ));
                }
                pick(i, [S::RsaPssSha256, S::RsaPssSha384, S::RsaPssSha512])
            } else {
                pick(i, [S::RsaPkcs1Sha256, S::RsaPkcs1Sha384, S::RsaPkcs1Sha512])
            }
        }
        Some(Alg::Ecdsa | Alg::Ec) => {
            let hash = match dsa {
                Some(Dsa::ECDSA_WITH_SHA256) => Some(HashingAlgorithm::Sha256),
                Some(Dsa::ECDSA_WITH_SHA384) => Some(HashingAlgorithm::Sha384),
                Some(Dsa::ECDSA_WITH_SHA512) => Some(HashingAlgorithm::Sha512),
                Some(_) => return Err(unsupported()),
                None => hash,
            };
            let default = match key.length {
                Some(384) => HashingAlgorithm::Sha384,
                Some(521) => HashingAlgorithm::Sha512,
                _ => HashingAlgorithm::Sha256,
            };
            pick(
                sha(hash, default)?,
                [S::EcdsaSha256, S::EcdsaSha384, S::EcdsaSha512],
            )
        }
        Some(Alg::Ed25519) => Ok(S::Ed25519),
        _ => Err(OperationError::IllegalOperation(
            "the key is not a signature key".into(),
        )),
    }
}

/// The request's Cryptographic Parameters alone (the default when absent).
pub fn requested(payload: &Ttlv) -> OpResult<CryptographicParameters> {
    payload
        .child(Tag::CRYPTOGRAPHIC_PARAMETERS)
        .map(|p| parse::cryptographic_parameters(&without_signature_algorithm(p)))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// Streaming (Correlation Value, Init and Final Indicators, KMIP 1.3) is
/// not offered: every call is one whole message.
pub fn refuse_streaming(payload: &Ttlv) -> OpResult<()> {
    for tag in [
        Tag::CORRELATION_VALUE,
        Tag::INIT_INDICATOR,
        Tag::FINAL_INDICATOR,
    ] {
        if payload.child(tag).is_some() {
            return Err(OperationError::FeatureNotSupported(format!(
                "{tag}: streaming operations are not supported"
            )));
        }
    }
    Ok(())
}

/// The HMAC to compute with a key that is not itself an HMAC key but
/// whose Cryptographic Parameters (the request's, else its own) name one:
/// KMIP lets an AES key be registered for HMAC-SHA256, say. `None` means
/// the key's own algorithm decides.
pub async fn hmac_override(
    ctx: &super::Context<'_>,
    payload: &Ttlv,
    id: kms_core::ids::ObjectId,
) -> OpResult<Option<HmacAlgorithm>> {
    let key = ctx.kms.key_profile(ctx.project(), id).await?;
    if matches!(
        key.algorithm,
        Some(Alg::HmacSha256 | Alg::HmacSha384 | Alg::HmacSha512)
    ) {
        return Ok(None);
    }
    let params = effective(payload, &key)?;
    Ok(match params.cryptographic_algorithm {
        Some(Alg::HmacSha256) => Some(HmacAlgorithm::Sha256),
        Some(Alg::HmacSha384) => Some(HmacAlgorithm::Sha384),
        Some(Alg::HmacSha512) => Some(HmacAlgorithm::Sha512),
        _ => None,
    })
}
