//! RNG Retrieve (KMIP 1.4 §4.35): bytes from kms-core's CSPRNG.

use kms_core::crypto::rng;

use super::{Context, fields, response};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

/// The most bytes one request may ask for.
pub const MAX_RANDOM: usize = 64 * 1024;

pub async fn handle(_ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::DATA_LENGTH])?;
    let len = usize::try_from(payload.required(Tag::DATA_LENGTH)?.as_i32()?)
        .ok()
        .filter(|l| (1..=MAX_RANDOM).contains(l))
        .ok_or_else(|| {
            OperationError::InvalidField(format!("Data Length must be 1 to {MAX_RANDOM}"))
        })?;
    let bytes =
        rng::random_bytes(len).map_err(|e| OperationError::CryptographicFailure(e.to_string()))?;
    Ok(response(vec![Ttlv::bytes(Tag::DATA, bytes)]))
}
