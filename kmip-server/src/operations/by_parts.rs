//! Encrypt and Decrypt by parts (KMIP 1.3+): reads a request's
//! Correlation Value, Init Indicator and Final Indicator and either hands
//! back the whole message to run at once or keeps the part in the
//! [`crate::streams::StreamTable`].
//!
//! | request | what happens |
//! |---|---|
//! | no indicators, no Correlation Value | a single-part request, run as is |
//! | Init and Final | a single-part request |
//! | Init only | a stream opens (key, Cryptographic Parameters, IV and Authenticated Encryption Additional Data are fixed now); the answer is the Unique Identifier and a Correlation Value |
//! | Correlation Value | a part is added; it may repeat the opening request's Unique Identifier, parameters and IV, not change them |
//! | Correlation Value and Final | the last part (a Decrypt's Authenticated Encryption Tag comes with it); the whole message is run and answered as a single-part request would be |
//!
//! Streams are for the AES modes (GCM, CBC, ECB, CTR); an RSA key is
//! refused at Init. Lifecycle, usage mask and audit apply once, when the
//! whole message runs.

use std::borrow::Cow;

use super::cipher_plan::{self, Direction, Plan};
use super::{Context, response, uid};
use crate::message::{OpResult, OperationError};
use crate::streams::{Owner, StreamOp, StreamTable};
use crate::ttlv::{Tag, Ttlv};

/// What a request amounts to.
pub enum Part<'p> {
    /// A whole message to run now.
    Whole(Cow<'p, Ttlv>),
    /// A part kept for later: answer with this payload.
    Kept(Ttlv),
}

/// Fields that only describe the stream, never the message.
const STREAM_FIELDS: [Tag; 3] = [
    Tag::CORRELATION_VALUE,
    Tag::INIT_INDICATOR,
    Tag::FINAL_INDICATOR,
];

/// Fields a later part may repeat, unchanged, from the opening request.
const FIXED_AT_INIT: [Tag; 3] = [
    Tag::UNIQUE_IDENTIFIER,
    Tag::CRYPTOGRAPHIC_PARAMETERS,
    Tag::IV_COUNTER_NONCE,
];

/// Sorts `payload` (an Encrypt or Decrypt request) into a whole message or
/// a kept part.
pub async fn step<'p>(
    ctx: &Context<'_>,
    payload: &'p Ttlv,
    direction: Direction,
) -> OpResult<Part<'p>> {
    for tag in STREAM_FIELDS {
        ctx.since(payload, tag, 3)?;
    }
    let flag = |tag| {
        payload
            .child(tag)
            .map(Ttlv::as_bool)
            .transpose()
            .map(Option::unwrap_or_default)
    };
    let (init, last) = (flag(Tag::INIT_INDICATOR)?, flag(Tag::FINAL_INDICATOR)?);
    let correlation = payload
        .child(Tag::CORRELATION_VALUE)
        .map(Ttlv::as_bytes)
        .transpose()?;
    match (correlation, init, last) {
        (None, false, false) if !has_stream_fields(payload) => {
            Ok(Part::Whole(Cow::Borrowed(payload)))
        }
        (None, false, false) | (None, true, true) => {
            Ok(Part::Whole(Cow::Owned(without(payload, &STREAM_FIELDS))))
        }
        (None, true, false) => open(ctx, payload, direction).await,
        (None, false, true) => Err(OperationError::InvalidField(
            "a Final Indicator without a Correlation Value names no stream".into(),
        )),
        (Some(_), true, _) => Err(OperationError::InvalidField(
            "an Init Indicator opens a stream; it cannot come with a Correlation Value".into(),
        )),
        (Some(c), false, last) => continue_stream(ctx, payload, direction, c, last),
    }
}

fn has_stream_fields(payload: &Ttlv) -> bool {
    STREAM_FIELDS.iter().any(|t| payload.child(*t).is_some())
}

fn table<'c>(ctx: &Context<'c>) -> OpResult<&'c StreamTable> {
    ctx.streams.ok_or_else(|| {
        OperationError::FeatureNotSupported("streaming operations are not enabled".into())
    })
}

fn owner(ctx: &Context<'_>) -> Owner {
    Owner {
        project: ctx.project(),
        client: ctx.client.name.clone(),
    }
}

fn op(direction: Direction) -> StreamOp {
    match direction {
        Direction::Encrypt => StreamOp::Encrypt,
        Direction::Decrypt => StreamOp::Decrypt,
    }
}

async fn open<'p>(
    ctx: &Context<'_>,
    payload: &'p Ttlv,
    direction: Direction,
) -> OpResult<Part<'p>> {
    let table = table(ctx)?;
    if payload.child(Tag::AUTHENTICATED_ENCRYPTION_TAG).is_some() {
        return Err(OperationError::InvalidField(
            "the Authenticated Encryption Tag comes with the final part".into(),
        ));
    }
    let id = ctx.object_id(payload)?;
    // The key must exist and be usable now; the final run checks again.
    ctx.kms.key_profile(ctx.project(), id).await?;
    let iv = payload.child(Tag::IV_COUNTER_NONCE).is_some();
    if let Plan::Rsa(..) = cipher_plan::plan(ctx, payload, id, direction, iv).await? {
        return Err(OperationError::FeatureNotSupported(
            "multi-part operations are for AES keys; RSA encrypts one block".into(),
        ));
    }
    let data = match payload.child(Tag::DATA) {
        Some(d) => d.as_bytes()?,
        None => &[],
    };
    let mut template = without(
        payload,
        &[
            Tag::DATA,
            Tag::INIT_INDICATOR,
            Tag::FINAL_INDICATOR,
            Tag::UNIQUE_IDENTIFIER,
        ],
    );
    // The placeholder is resolved now: later parts may come in other messages.
    if let crate::ttlv::Value::Structure(children) = &mut template.value {
        children.insert(0, uid(id));
    }
    let correlation = table.open(owner(ctx), op(direction), template, data)?;
    Ok(Part::Kept(response(vec![
        uid(id),
        Ttlv::bytes(Tag::CORRELATION_VALUE, correlation.to_vec()),
    ])))
}

fn continue_stream<'p>(
    ctx: &Context<'_>,
    payload: &'p Ttlv,
    direction: Direction,
    correlation: &[u8],
    last: bool,
) -> OpResult<Part<'p>> {
    let table = table(ctx)?;
    let data = match payload.child(Tag::DATA) {
        Some(d) => d.as_bytes()?,
        None => &[],
    };
    let tag = payload.child(Tag::AUTHENTICATED_ENCRYPTION_TAG);
    let mut id = None;
    let check = |template: &Ttlv| -> OpResult<()> {
        if payload
            .child(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA)
            .is_some()
        {
            return Err(OperationError::InvalidField(
                "Authenticated Encryption Additional Data goes with the first part".into(),
            ));
        }
        if tag.is_some() && !last {
            return Err(OperationError::InvalidField(
                "the Authenticated Encryption Tag comes with the final part".into(),
            ));
        }
        for field in FIXED_AT_INIT {
            if let Some(given) = payload.child(field) {
                if template.child(field) != Some(given) {
                    return Err(OperationError::InvalidField(format!(
                        "{field} differs from the one the stream was opened with"
                    )));
                }
            }
        }
        id = template.child(Tag::UNIQUE_IDENTIFIER).cloned();
        Ok(())
    };
    let finished = table.part(&owner(ctx), op(direction), correlation, data, last, check)?;
    match finished {
        None => {
            let id =
                id.ok_or_else(|| OperationError::GeneralFailure("stream without key".into()))?;
            Ok(Part::Kept(response(vec![
                id,
                Ttlv::bytes(Tag::CORRELATION_VALUE, correlation.to_vec()),
            ])))
        }
        Some(mut done) => {
            let mut whole = done.template;
            if let crate::ttlv::Value::Structure(children) = &mut whole.value {
                // Moved, not copied: the buffer is zeroized where it ends up.
                children.push(Ttlv::bytes(Tag::DATA, std::mem::take(&mut *done.data)));
                if let Some(tag) = tag {
                    children.push(tag.clone());
                }
            }
            Ok(Part::Whole(Cow::Owned(whole)))
        }
    }
}

/// `payload` without the fields tagged `drop`.
fn without(payload: &Ttlv, drop: &[Tag]) -> Ttlv {
    Ttlv::structure(
        payload.tag,
        payload
            .items()
            .iter()
            .filter(|c| !drop.contains(&c.tag))
            .cloned()
            .collect(),
    )
}
