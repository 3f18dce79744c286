//! RNG Seed (KMIP 1.4 §4.36): accepted and ignored.
//!
//! The server's random numbers come from AWS-LC's DRBG, which seeds and
//! reseeds itself from the operating system and takes no outside entropy.
//! The specification lets a server ignore the seed and say so by returning
//! a Data Length of zero, and tells clients not to treat that as an error;
//! that is the answer here, so no client can influence the generator.

use super::{Context, fields, response};
use crate::message::OpResult;
use crate::ttlv::{Tag, Ttlv};

pub async fn handle(_ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::DATA])?;
    payload.required(Tag::DATA)?.as_bytes()?;
    Ok(response(vec![Ttlv::integer(Tag::DATA_LENGTH, 0)]))
}
