//! Obtain Lease (KMIP 1.4 §4.17) and Get Usage Allocation (§4.18).
//!
//! This server sets no lease policy: a lease is granted for any object in
//! a state that can still be used (not Destroyed, not Compromised) with a
//! Lease Time of zero, which §4.17 defines as "no lease interval is
//! effective", with the object's Last Change Date.
//!
//! Get Usage Allocation takes the requested units from the object's Usage
//! Limits Count, durably, for a client that protects data itself
//! (`Kms::allocate_usage`). An object without Usage Limits is Illegal
//! Operation (§4.18 says it is an error); one that may not protect now, or
//! has fewer units left, Permission Denied.

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
    let units = payload.required(Tag::USAGE_LIMITS_COUNT)?.as_i64()?;
    ctx.kms
        .allocate_usage(ctx.actor, ctx.project(), id, units)
        .await?;
    Ok(response(vec![uid(id)]))
}
