//! Adding, modifying and deleting one attribute instance on an object's
//! attributes (and, through [`super::template`], on a new object's).
//!
//! Only the attributes a client may set are accepted (KMIP 1.4 §3, "Modifiable
//! by client"); the server's own (Unique Identifier, State, dates it keeps,
//! Digest, …) are Permission Denied, names it does not keep Invalid Field.

use kms_core::lifecycle::State;
use kms_core::object::Attributes;
use kms_core::object::attributes::limits;

use crate::message::error::{OpResult, OperationError};

use super::names::is_custom;
use super::{WireAttribute, parse};

/// Attributes clients set and this server keeps.
const SETTABLE: &[&str] = &[
    "Name",
    "Cryptographic Usage Mask",
    "Cryptographic Parameters",
    "Activation Date",
    "Deactivation Date",
    "Object Group",
    "Link",
    "Contact Information",
    "Process Start Date",
    "Protect Stop Date",
    "Usage Limits",
    "Alternative Name",
    "Application Specific Information",
];

/// Attributes the server sets; a client may read, never write them.
const SERVER_OWNED: &[&str] = &[
    "Unique Identifier",
    "Object Type",
    "Cryptographic Algorithm",
    "Cryptographic Length",
    "State",
    "Initial Date",
    "Destroy Date",
    "Compromise Occurrence Date",
    "Compromise Date",
    "Revocation Reason",
    "Last Change Date",
    "Digest",
    "Archive Date",
];

fn multi_instance(name: &str) -> bool {
    matches!(
        name,
        "Name" | "Object Group" | "Link" | "Alternative Name" | "Application Specific Information"
    )
}

/// Refuses names a client may not write.
pub fn check_settable(name: &str) -> OpResult<()> {
    if name.starts_with("x-") || SETTABLE.contains(&name) {
        Ok(())
    } else if name.starts_with("y-") || SERVER_OWNED.contains(&name) {
        Err(OperationError::PermissionDenied(format!(
            "attribute {name} is set by the server"
        )))
    } else {
        Err(OperationError::InvalidField(format!(
            "attribute {name} is not supported by this server"
        )))
    }
}

fn too_many(name: &str, max: usize) -> OperationError {
    OperationError::IndexOutOfBounds(format!("at most {max} instances of {name}"))
}

/// Adds an instance; returns its Attribute Index.
pub fn add(a: &mut Attributes, attr: &WireAttribute) -> OpResult<u32> {
    check_settable(&attr.name)?;
    check_state(a, &attr.name)?;
    let value = attr.value()?;
    let index = |len: usize| u32::try_from(len).unwrap_or(u32::MAX);
    match attr.name.as_str() {
        "Name" if a.names.len() >= limits::MAX_NAMES => Err(too_many("Name", limits::MAX_NAMES)),
        "Name" => {
            a.names.push(parse::name(value)?);
            Ok(index(a.names.len() - 1))
        }
        "Object Group" if a.object_groups.len() >= limits::MAX_GROUPS => {
            Err(too_many("Object Group", limits::MAX_GROUPS))
        }
        "Object Group" => {
            a.object_groups.push(parse::text(value)?);
            Ok(index(a.object_groups.len() - 1))
        }
        "Link" if a.links.len() >= limits::MAX_LINKS => Err(too_many("Link", limits::MAX_LINKS)),
        "Link" => {
            a.links.push(parse::link(value)?);
            Ok(index(a.links.len() - 1))
        }
        "Alternative Name" if a.alternative_names.len() >= limits::MAX_NAMES => {
            Err(too_many("Alternative Name", limits::MAX_NAMES))
        }
        "Alternative Name" => {
            a.alternative_names.push(parse::alternative_name(value)?);
            Ok(index(a.alternative_names.len() - 1))
        }
        "Application Specific Information"
            if a.application_specific_information.len() >= limits::MAX_GROUPS =>
        {
            Err(too_many(
                "Application Specific Information",
                limits::MAX_GROUPS,
            ))
        }
        "Application Specific Information" => {
            let info = parse::application_specific_information(value)?;
            a.application_specific_information.push(info);
            Ok(index(a.application_specific_information.len() - 1))
        }
        name if has_value(a, name) => Err(OperationError::IllegalOperation(format!(
            "{name} has a single instance, which is already set; modify it instead"
        ))),
        name if is_custom(name) && a.custom.len() >= limits::MAX_CUSTOM => {
            Err(too_many("custom attributes", limits::MAX_CUSTOM))
        }
        _ => set_single(a, attr).map(|()| 0),
    }
}

/// Replaces the instance at the Attribute Index (0 when absent); returns
/// that index.
pub fn modify(a: &mut Attributes, attr: &WireAttribute) -> OpResult<u32> {
    check_settable(&attr.name)?;
    check_state(a, &attr.name)?;
    let value = attr.value()?;
    let i = attr.index.unwrap_or(0);
    let slot = usize::try_from(i).unwrap_or(usize::MAX);
    let missing =
        || OperationError::ItemNotFound(format!("the object has no {} with index {i}", attr.name));
    match attr.name.as_str() {
        "Name" => *a.names.get_mut(slot).ok_or_else(missing)? = parse::name(value)?,
        "Object Group" => *a.object_groups.get_mut(slot).ok_or_else(missing)? = parse::text(value)?,
        "Link" => *a.links.get_mut(slot).ok_or_else(missing)? = parse::link(value)?,
        "Alternative Name" => {
            *a.alternative_names.get_mut(slot).ok_or_else(missing)? =
                parse::alternative_name(value)?
        }
        "Application Specific Information" => {
            *a.application_specific_information
                .get_mut(slot)
                .ok_or_else(missing)? = parse::application_specific_information(value)?
        }
        name if i != 0 || !has_value(a, name) => return Err(missing()),
        _ => set_single(a, attr)?,
    }
    Ok(i)
}

/// Deletes the instance at `index` (0 when absent).
pub fn delete(a: &mut Attributes, name: &str, index: Option<u32>) -> OpResult<()> {
    check_settable(name)?;
    check_state(a, name)?;
    // §3.25 and §3.26: Process Start and Protect Stop Dates are not
    // deletable by a client.
    if matches!(
        name,
        "Cryptographic Usage Mask" | "Activation Date" | "Process Start Date" | "Protect Stop Date"
    ) {
        return Err(OperationError::PermissionDenied(format!(
            "attribute {name} cannot be deleted"
        )));
    }
    let i = index.unwrap_or(0);
    let slot = usize::try_from(i).unwrap_or(usize::MAX);
    let missing =
        || OperationError::ItemNotFound(format!("the object has no {name} with index {i}"));
    fn remove<T>(v: &mut Vec<T>, slot: usize) -> Option<()> {
        (slot < v.len()).then(|| {
            v.remove(slot);
        })
    }
    let removed = match name {
        "Name" => remove(&mut a.names, slot),
        "Object Group" => remove(&mut a.object_groups, slot),
        "Link" => remove(&mut a.links, slot),
        "Alternative Name" => remove(&mut a.alternative_names, slot),
        "Application Specific Information" => remove(&mut a.application_specific_information, slot),
        _ if i != 0 => None,
        "Usage Limits" => a.usage_limits.take().map(drop),
        "Cryptographic Parameters" => a.cryptographic_parameters.take().map(drop),
        "Deactivation Date" => a.deactivation_date.take().map(drop),
        "Contact Information" => a.contact_information.take().map(drop),
        custom => a.custom.remove(custom).map(drop),
    };
    removed.ok_or_else(missing)
}

/// KMIP 1.4 §3.24 and §3.27: the Activation Date may change only while
/// Pre-Active, the Deactivation Date only while Pre-Active or Active.
fn check_state(a: &Attributes, name: &str) -> OpResult<()> {
    let allowed = match name {
        "Activation Date" => a.state == State::PreActive,
        "Deactivation Date" | "Process Start Date" | "Protect Stop Date" => {
            matches!(a.state, State::PreActive | State::Active)
        }
        _ => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(OperationError::PermissionDenied(format!(
            "{name} cannot change in state {}",
            a.state
        )))
    }
}

fn has_value(a: &Attributes, name: &str) -> bool {
    match name {
        "Cryptographic Usage Mask" => !a.cryptographic_usage_mask.is_empty(),
        "Cryptographic Parameters" => a.cryptographic_parameters.is_some(),
        "Activation Date" => a.activation_date.is_some(),
        "Deactivation Date" => a.deactivation_date.is_some(),
        "Contact Information" => a.contact_information.is_some(),
        "Process Start Date" => a.process_start_date.is_some(),
        "Protect Stop Date" => a.protect_stop_date.is_some(),
        "Usage Limits" => a.usage_limits.is_some(),
        _ if multi_instance(name) => false,
        custom => a.custom.contains_key(custom),
    }
}

fn set_single(a: &mut Attributes, attr: &WireAttribute) -> OpResult<()> {
    let value = attr.value()?;
    match attr.name.as_str() {
        "Cryptographic Usage Mask" => a.cryptographic_usage_mask = parse::mask(value)?,
        "Cryptographic Parameters" => {
            a.cryptographic_parameters = Some(parse::cryptographic_parameters(value)?)
        }
        "Activation Date" => a.activation_date = Some(parse::date(value)?),
        "Deactivation Date" => a.deactivation_date = Some(parse::date(value)?),
        "Contact Information" => a.contact_information = Some(parse::text(value)?),
        "Process Start Date" => a.process_start_date = Some(parse::date(value)?),
        "Protect Stop Date" => a.protect_stop_date = Some(parse::date(value)?),
        "Usage Limits" => a.usage_limits = Some(parse::usage_limits(value)?),
        custom => {
            a.custom.insert(custom.to_owned(), parse::custom(value)?);
        }
    }
    Ok(())
}
