//! Obtain Lease (KMIP 1.4 §4.17) and Get Usage Allocation (§4.18).
//!
//! This server sets no lease policy: a lease is granted for any object in
//! a state that can still be used (not Destroyed, not Compromised) with a
//! Lease Time of zero, which §4.17 defines as "no lease interval is
//! effective", with the object's Last Change Date. It keeps no Usage
//! Limits attribute, and §4.18 says an allocation for an object without
//! one is an error: Illegal Operation, once the object is found.

use kms_core::lifecycle::State;

use super::{Context, fields, response, uid};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv};

pub async fn obtain_lease(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::UNIQUE_IDENTIFIER])?;
    let id = ctx.object_id(payload)?;
    let attrs = ctx.kms.attributes(ctx.project(), id).await?;
    if matches!(
        attrs.state,
        State::Destroyed | State::Compromised | State::DestroyedCompromised
    ) {
        return Err(OperationError::PermissionDenied(format!(
            "no lease for an object in state {}",
            attrs.state
        )));
    }
    Ok(response(vec![
        uid(id),
        Ttlv::interval(Tag::LEASE_TIME, 0),
        Ttlv::date_time(
            Tag::LAST_CHANGE_DATE,
            attrs.last_change_date.unix_timestamp(),
        ),
    ]))
}

pub async fn get_usage_allocation(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    fields(payload, &[Tag::UNIQUE_IDENTIFIER, Tag::USAGE_LIMITS_COUNT])?;
    let id = ctx.object_id(payload)?;
    payload.required(Tag::USAGE_LIMITS_COUNT)?.as_i64()?;
    ctx.kms.attributes(ctx.project(), id).await?;
    Err(OperationError::IllegalOperation(
        "the object has no Usage Limits attribute (this server keeps none)".into(),
    ))
}
