//! Attribute values from the wire into kms-core types.

use kms_core::object::attributes::limits::MAX_TEXT;
use kms_core::object::{
    AlternativeName, AlternativeNameType, ApplicationSpecificInformation, BlockCipherMode,
    CryptographicAlgorithm, CryptographicParameters, CustomValue, HashingAlgorithm, Link, LinkType,
    Name, NameType, PaddingMethod, UsageLimits, UsageLimitsUnit, UsageMask,
};
use time::OffsetDateTime;

use crate::message::error::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv, Value};

fn invalid(what: impl Into<String>) -> OperationError {
    OperationError::InvalidField(what.into())
}

/// A KMIP enumeration value that kms-core knows, or Invalid Field.
pub fn known<T>(item: &Ttlv, from: impl Fn(u32) -> Option<T>) -> OpResult<T> {
    let raw = item.as_enum()?;
    from(raw).ok_or_else(|| invalid(format!("{} value {raw:#x} is not supported", item.tag)))
}

pub fn text(item: &Ttlv) -> OpResult<String> {
    let s = item.as_text()?;
    if s.is_empty() || s.len() > MAX_TEXT {
        return Err(invalid(format!(
            "{} must be 1 to {MAX_TEXT} bytes",
            item.tag
        )));
    }
    Ok(s.to_owned())
}

pub fn date(item: &Ttlv) -> OpResult<OffsetDateTime> {
    let secs = item.as_date_time()?;
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| invalid(format!("{} is out of range", item.tag)))
}

pub fn mask(item: &Ttlv) -> OpResult<UsageMask> {
    let bits = u32::from_be_bytes(item.as_i32()?.to_be_bytes());
    UsageMask::from_bits(bits).ok_or_else(|| {
        invalid(format!(
            "Cryptographic Usage Mask {bits:#x} has undefined bits"
        ))
    })
}

pub fn name(item: &Ttlv) -> OpResult<Name> {
    Ok(Name {
        value: text(item.required(Tag::NAME_VALUE)?)?,
        name_type: known(item.required(Tag::NAME_TYPE)?, NameType::from_kmip)?,
    })
}

pub fn link(item: &Ttlv) -> OpResult<Link> {
    Ok(Link {
        link_type: known(item.required(Tag::LINK_TYPE)?, LinkType::from_kmip)?,
        linked_object_id: text(item.required(Tag::LINKED_OBJECT_IDENTIFIER)?)?,
    })
}

/// Refuses a field of structure `item` other than `allowed`.
fn only(item: &Ttlv, allowed: &[Tag]) -> OpResult<()> {
    match item
        .as_structure()?
        .iter()
        .find(|c| !allowed.contains(&c.tag))
    {
        Some(c) => Err(invalid(format!("{} does not contain {}", item.tag, c.tag))),
        None => Ok(()),
    }
}

/// Usage Limits (§3.21). A Usage Limits Count from the client is ignored
/// as §3.21 says for new objects: the count starts at the total, and only
/// the server changes it afterwards.
pub fn usage_limits(item: &Ttlv) -> OpResult<UsageLimits> {
    only(
        item,
        &[
            Tag::USAGE_LIMITS_TOTAL,
            Tag::USAGE_LIMITS_COUNT,
            Tag::USAGE_LIMITS_UNIT,
        ],
    )?;
    let total = item.required(Tag::USAGE_LIMITS_TOTAL)?.as_i64()?;
    if total < 0 {
        return Err(invalid("Usage Limits Total is negative"));
    }
    if let Some(count) = item.child(Tag::USAGE_LIMITS_COUNT) {
        count.as_i64()?;
    }
    let unit = known(
        item.required(Tag::USAGE_LIMITS_UNIT)?,
        UsageLimitsUnit::from_kmip,
    )?;
    Ok(UsageLimits::new(total, unit))
}

/// Alternative Name (§3.40).
pub fn alternative_name(item: &Ttlv) -> OpResult<AlternativeName> {
    only(
        item,
        &[Tag::ALTERNATIVE_NAME_VALUE, Tag::ALTERNATIVE_NAME_TYPE],
    )?;
    Ok(AlternativeName {
        value: text(item.required(Tag::ALTERNATIVE_NAME_VALUE)?)?,
        name_type: known(
            item.required(Tag::ALTERNATIVE_NAME_TYPE)?,
            AlternativeNameType::from_kmip,
        )?,
    })
}

/// Application Specific Information (§3.36); the Application Data may be
/// absent (KMIP 1.3 lets the server choose it; this server leaves it out).
pub fn application_specific_information(item: &Ttlv) -> OpResult<ApplicationSpecificInformation> {
    only(item, &[Tag::APPLICATION_NAMESPACE, Tag::APPLICATION_DATA])?;
    let data = match item.child(Tag::APPLICATION_DATA) {
        Some(d) if d.as_text()?.len() > MAX_TEXT => {
            return Err(invalid(format!(
                "Application Data is over {MAX_TEXT} bytes"
            )));
        }
        Some(d) => Some(d.as_text()?.to_owned()),
        None => None,
    };
    Ok(ApplicationSpecificInformation {
        namespace: text(item.required(Tag::APPLICATION_NAMESPACE)?)?,
        data,
    })
}

/// Cryptographic Parameters: the fields this server acts on are kept;
/// the others (Key Role Type, IV Length, …) mean nothing to it and are
/// refused rather than silently dropped.
pub fn cryptographic_parameters(item: &Ttlv) -> OpResult<CryptographicParameters> {
    let mut p = CryptographicParameters::default();
    for child in item.as_structure()? {
        match child.tag {
            Tag::BLOCK_CIPHER_MODE => {
                p.block_cipher_mode = Some(known(child, BlockCipherMode::from_kmip)?)
            }
            Tag::PADDING_METHOD => p.padding_method = Some(known(child, PaddingMethod::from_kmip)?),
            Tag::HASHING_ALGORITHM => {
                p.hashing_algorithm = Some(known(child, HashingAlgorithm::from_kmip)?)
            }
            Tag::TAG_LENGTH => {
                p.tag_length = Some(
                    u32::try_from(child.as_i32()?)
                        .map_err(|_| invalid("Tag Length is negative"))?,
                )
            }
            // An algorithm this server does not know cannot be used with
            // this key anyway; the parameters are kept without it.
            Tag::CRYPTOGRAPHIC_ALGORITHM => {
                p.cryptographic_algorithm = CryptographicAlgorithm::from_kmip(child.as_enum()?)
            }
            Tag::RANDOM_IV => p.random_iv = Some(child.as_bool()?),
            Tag::SALT_LENGTH => {
                p.salt_length = Some(
                    u32::try_from(child.as_i32()?)
                        .map_err(|_| invalid("Salt Length is negative"))?,
                )
            }
            // MGF1 (1) is the only mask generation function KMIP 1.4 defines.
            Tag::MASK_GENERATOR if child.as_enum()? == 1 => {}
            Tag::MASK_GENERATOR_HASHING_ALGORITHM => {
                p.mask_generator_hashing_algorithm =
                    Some(known(child, HashingAlgorithm::from_kmip)?)
            }
            Tag::P_SOURCE => {
                let b = child.as_bytes()?;
                if b.len() > MAX_TEXT {
                    return Err(invalid(format!("P Source is over {MAX_TEXT} bytes")));
                }
                p.p_source = Some(b.to_vec());
            }
            other => {
                return Err(OperationError::FeatureNotSupported(format!(
                    "Cryptographic Parameters field {other} is not supported"
                )));
            }
        }
    }
    Ok(p)
}

pub fn custom(item: &Ttlv) -> OpResult<CustomValue> {
    Ok(match &item.value {
        Value::TextString(_) => CustomValue::Text(text(item)?),
        Value::Integer(i) => CustomValue::Integer(*i),
        Value::LongInteger(i) => CustomValue::LongInteger(*i),
        Value::Boolean(b) => CustomValue::Boolean(*b),
        Value::Enumeration(e) => CustomValue::Enumeration(*e),
        Value::Interval(i) => CustomValue::Interval(*i),
        Value::DateTime(_) => CustomValue::DateTime(date(item)?),
        Value::ByteString(b) if b.len() <= MAX_TEXT => CustomValue::Bytes(b.to_vec()),
        _ => {
            return Err(invalid(
                "a custom attribute must be a primitive value of at most 1024 bytes",
            ));
        }
    })
}
