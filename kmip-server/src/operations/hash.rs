//! Hash (KMIP 1.4 §4.37): SHA-1, SHA-256, SHA-384 or SHA-512 of the Data.

use kms_core::crypto::digest::{DigestAlgorithm, digest};
use kms_core::object::HashingAlgorithm;

use super::{Context, crypto_params, fields, response};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(_ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(
        payload,
        &[
            Tag::CRYPTOGRAPHIC_PARAMETERS,
            Tag::DATA,
            Tag::CORRELATION_VALUE,
            Tag::INIT_INDICATOR,
            Tag::FINAL_INDICATOR,
        ],
    )?;
    crypto_params::refuse_streaming(payload)?;
    let params = crypto_params::requested(payload)?;
    let algorithm = match params.hashing_algorithm {
        Some(HashingAlgorithm::Sha1) => DigestAlgorithm::Sha1,
        Some(HashingAlgorithm::Sha256) => DigestAlgorithm::Sha256,
        Some(HashingAlgorithm::Sha384) => DigestAlgorithm::Sha384,
        Some(HashingAlgorithm::Sha512) => DigestAlgorithm::Sha512,
        Some(other) => {
            return Err(OperationError::FeatureNotSupported(format!(
                "hashing algorithm {other} is not supported"
            )));
        }
        None => {
            return Err(OperationError::InvalidField(
                "Hash needs a Hashing Algorithm in its Cryptographic Parameters".into(),
            ));
        }
    };
    let data = payload.required(Tag::DATA)?.as_bytes()?;
    Ok(response(vec![Ttlv::bytes(
        Tag::DATA,
        digest(algorithm, data),
    )]))
}
