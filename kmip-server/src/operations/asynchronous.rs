//! Poll (KMIP 1.4 §4.28) and Cancel (§4.27) for a server that runs every
//! operation synchronously (see [`crate::processor`]): there is never an
//! outstanding asynchronous operation. Poll for any correlation value is
//! Item Not Found; Cancel answers Cancellation Result Unavailable ("the
//! specified correlation value did not match any recently pending or
//! completed asynchronous operations"), as §4.27 defines.

use super::{Context, fields, response};
use crate::message::{OpResult, OperationError};
use crate::ttlv::enums::CancellationResult;
use crate::ttlv::{Tag, Ttlv};

pub async fn poll(_ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::ASYNCHRONOUS_CORRELATION_VALUE])?;
    payload
        .required(Tag::ASYNCHRONOUS_CORRELATION_VALUE)?
        .as_bytes()?;
    Err(OperationError::ItemNotFound(
        "no asynchronous operation has that correlation value: this server runs every operation synchronously"
            .into(),
    ))
}

pub async fn cancel(_ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::ASYNCHRONOUS_CORRELATION_VALUE])?;
    let value = payload
        .required(Tag::ASYNCHRONOUS_CORRELATION_VALUE)?
        .as_bytes()?;
    Ok(response(vec![
        Ttlv::bytes(Tag::ASYNCHRONOUS_CORRELATION_VALUE, value.to_vec()),
        Ttlv::enumeration(Tag::CANCELLATION_RESULT, CancellationResult::UNAVAILABLE),
    ]))
}
