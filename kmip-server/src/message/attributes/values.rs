//! An object's attributes as KMIP values: one list of values per name, in
//! instance order.

use kms_core::object::{
    AlternativeName, ApplicationSpecificInformation, Attributes, CryptographicParameters,
    CustomValue, Digest, Link, Name, RevocationReason, UsageLimits,
};
use time::OffsetDateTime;

use crate::message::version::ProtocolVersion;
use crate::ttlv::{Tag, Ttlv, Value};

use super::attribute;

/// The value item of an attribute (tag Attribute Value; [`attribute`]
/// retags it anyway).
fn v(value: Value) -> Ttlv {
    Ttlv::new(Tag::ATTRIBUTE_VALUE, value)
}

fn date(d: OffsetDateTime) -> Ttlv {
    v(Value::DateTime(d.unix_timestamp()))
}

fn text(s: &str) -> Ttlv {
    v(Value::TextString(s.to_owned()))
}

fn enumeration(e: u32) -> Ttlv {
    v(Value::Enumeration(e))
}

fn name(n: &Name) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE_VALUE,
        vec![
            Ttlv::text(Tag::NAME_VALUE, n.value.clone()),
            Ttlv::enumeration(Tag::NAME_TYPE, n.name_type.to_kmip()),
        ],
    )
}

fn link(l: &Link) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE_VALUE,
        vec![
            Ttlv::enumeration(Tag::LINK_TYPE, l.link_type.to_kmip()),
            Ttlv::text(Tag::LINKED_OBJECT_IDENTIFIER, l.linked_object_id.clone()),
        ],
    )
}

fn digest(d: &Digest, version: ProtocolVersion) -> Ttlv {
    let mut children = vec![
        Ttlv::enumeration(Tag::HASHING_ALGORITHM, d.hashing_algorithm.to_kmip()),
        Ttlv::bytes(Tag::DIGEST_VALUE, d.digest_value.clone()),
    ];
    // Key Format Type joined the Digest structure in KMIP 1.1.
    if let (Some(kft), true) = (d.key_format_type, version >= ProtocolVersion::V1_1) {
        children.push(Ttlv::enumeration(Tag::KEY_FORMAT_TYPE, kft.to_kmip()));
    }
    Ttlv::structure(Tag::ATTRIBUTE_VALUE, children)
}

/// Cryptographic Parameters as a structure with `tag`, fields in the order
/// of KMIP 1.4 Table 65.
pub fn cryptographic_parameters(p: &CryptographicParameters, tag: Tag) -> Ttlv {
    let mut children = Vec::new();
    if let Some(m) = p.block_cipher_mode {
        children.push(Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, m.to_kmip()));
    }
    if let Some(m) = p.padding_method {
        children.push(Ttlv::enumeration(Tag::PADDING_METHOD, m.to_kmip()));
    }
    if let Some(h) = p.hashing_algorithm {
        children.push(Ttlv::enumeration(Tag::HASHING_ALGORITHM, h.to_kmip()));
    }
    if let Some(a) = p.cryptographic_algorithm {
        children.push(Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, a.to_kmip()));
    }
    if let Some(r) = p.random_iv {
        children.push(Ttlv::boolean(Tag::RANDOM_IV, r));
    }
    if let Some(t) = p.tag_length {
        children.push(Ttlv::integer(
            Tag::TAG_LENGTH,
            i32::try_from(t).unwrap_or(i32::MAX),
        ));
    }
    if let Some(s) = p.salt_length {
        children.push(Ttlv::integer(
            Tag::SALT_LENGTH,
            i32::try_from(s).unwrap_or(i32::MAX),
        ));
    }
    if let Some(h) = p.mask_generator_hashing_algorithm {
        children.push(Ttlv::enumeration(Tag::MASK_GENERATOR, 1u32));
        children.push(Ttlv::enumeration(
            Tag::MASK_GENERATOR_HASHING_ALGORITHM,
            h.to_kmip(),
        ));
    }
    if let Some(b) = &p.p_source {
        children.push(Ttlv::bytes(Tag::P_SOURCE, b.clone()));
    }
    Ttlv::structure(tag, children)
}

fn revocation_reason(r: &RevocationReason) -> Ttlv {
    let mut children = vec![Ttlv::enumeration(
        Tag::REVOCATION_REASON_CODE,
        r.code.to_kmip(),
    )];
    if let Some(m) = &r.message {
        children.push(Ttlv::text(Tag::REVOCATION_MESSAGE, m.clone()));
    }
    Ttlv::structure(Tag::ATTRIBUTE_VALUE, children)
}

fn usage_limits(l: &UsageLimits) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE_VALUE,
        vec![
            Ttlv::long_integer(Tag::USAGE_LIMITS_TOTAL, l.total),
            Ttlv::long_integer(Tag::USAGE_LIMITS_COUNT, l.count),
            Ttlv::enumeration(Tag::USAGE_LIMITS_UNIT, l.unit.to_kmip()),
        ],
    )
}

fn alternative_name(n: &AlternativeName) -> Ttlv {
    Ttlv::structure(
        Tag::ATTRIBUTE_VALUE,
        vec![
            Ttlv::text(Tag::ALTERNATIVE_NAME_VALUE, n.value.clone()),
            Ttlv::enumeration(Tag::ALTERNATIVE_NAME_TYPE, n.name_type.to_kmip()),
        ],
    )
}

fn application_specific_information(i: &ApplicationSpecificInformation) -> Ttlv {
    let mut children = vec![Ttlv::text(Tag::APPLICATION_NAMESPACE, i.namespace.clone())];
    if let Some(d) = &i.data {
        children.push(Ttlv::text(Tag::APPLICATION_DATA, d.clone()));
    }
    Ttlv::structure(Tag::ATTRIBUTE_VALUE, children)
}

fn custom(c: &CustomValue) -> Ttlv {
    v(match c {
        CustomValue::Text(s) => Value::TextString(s.clone()),
        CustomValue::Integer(i) => Value::Integer(*i),
        CustomValue::LongInteger(i) => Value::LongInteger(*i),
        CustomValue::Boolean(b) => Value::Boolean(*b),
        CustomValue::Enumeration(e) => Value::Enumeration(*e),
        CustomValue::Interval(i) => Value::Interval(*i),
        CustomValue::DateTime(d) => Value::DateTime(d.unix_timestamp()),
        CustomValue::Bytes(b) => Value::bytes(b.clone()),
    })
}

/// The values of attribute `name` that the object holds (empty if none),
/// as `version` encodes them.
pub fn values_of(a: &Attributes, name: &str, version: ProtocolVersion) -> Vec<Ttlv> {
    let one = |t: Option<Ttlv>| t.into_iter().collect::<Vec<_>>();
    match name {
        "Unique Identifier" => vec![text(&a.unique_identifier.to_string())],
        "Object Type" => vec![enumeration(a.object_type.to_kmip())],
        "Name" => a.names.iter().map(name_fn).collect(),
        "Cryptographic Algorithm" => {
            one(a.cryptographic_algorithm.map(|x| enumeration(x.to_kmip())))
        }
        "Cryptographic Length" => one(a
            .cryptographic_length
            .map(|l| v(Value::Integer(i32::try_from(l).unwrap_or(i32::MAX))))),
        "Cryptographic Parameters" => one(a
            .cryptographic_parameters
            .as_ref()
            .map(|p| cryptographic_parameters(p, Tag::ATTRIBUTE_VALUE))),
        "Cryptographic Usage Mask" => vec![v(Value::Integer(i32::from_be_bytes(
            a.cryptographic_usage_mask.bits().to_be_bytes(),
        )))],
        "State" => vec![enumeration(a.state.to_kmip())],
        "Initial Date" => vec![date(a.initial_date)],
        "Activation Date" => one(a.activation_date.map(date)),
        "Deactivation Date" => one(a.deactivation_date.map(date)),
        "Destroy Date" => one(a.destroy_date.map(date)),
        "Compromise Occurrence Date" => one(a.compromise_occurrence_date.map(date)),
        "Compromise Date" => one(a.compromise_date.map(date)),
        "Revocation Reason" => one(a.revocation_reason.as_ref().map(revocation_reason)),
        "Last Change Date" => vec![date(a.last_change_date)],
        "Object Group" => a.object_groups.iter().map(|g| text(g)).collect(),
        "Link" => a.links.iter().map(link).collect(),
        "Contact Information" => one(a.contact_information.as_deref().map(text)),
        "Digest" => a.digests.iter().map(|d| digest(d, version)).collect(),
        "Process Start Date" => one(a.process_start_date.map(date)),
        "Protect Stop Date" => one(a.protect_stop_date.map(date)),
        "Archive Date" => one(a.archive_date.map(date)),
        "Usage Limits" => one(a.usage_limits.as_ref().map(usage_limits)),
        "Application Specific Information" => a
            .application_specific_information
            .iter()
            .map(application_specific_information)
            .collect(),
        // KMIP 1.2 added Alternative Name; earlier versions never see it.
        "Alternative Name" if version >= ProtocolVersion::V1_2 => {
            a.alternative_names.iter().map(alternative_name).collect()
        }
        "Alternative Name" => Vec::new(),
        other => one(a.custom.get(other).map(custom)),
    }
}

fn name_fn(n: &Name) -> Ttlv {
    name(n)
}

/// Names of the standard attributes this server keeps, in the order Get
/// Attributes lists them.
pub const KEPT: &[&str] = &[
    "Unique Identifier",
    "Object Type",
    "Name",
    "Cryptographic Algorithm",
    "Cryptographic Length",
    "Cryptographic Parameters",
    "Cryptographic Usage Mask",
    "State",
    "Initial Date",
    "Activation Date",
    "Deactivation Date",
    "Destroy Date",
    "Compromise Occurrence Date",
    "Compromise Date",
    "Revocation Reason",
    "Last Change Date",
    "Object Group",
    "Link",
    "Contact Information",
    "Digest",
    "Process Start Date",
    "Protect Stop Date",
    "Archive Date",
    "Usage Limits",
    "Application Specific Information",
    "Alternative Name",
];

/// The names of every attribute the object holds at least one value of.
pub fn held_names(a: &Attributes, version: ProtocolVersion) -> Vec<String> {
    KEPT.iter()
        .filter(|n| !values_of(a, n, version).is_empty())
        .map(|n| (*n).to_owned())
        .chain(a.custom.keys().cloned())
        .collect()
}

/// Every instance of attribute `name` as `Attribute` structures. The
/// Attribute Index is written for multi-instance attributes only.
pub fn attributes_named(a: &Attributes, name: &str, version: ProtocolVersion) -> Vec<Ttlv> {
    let values = values_of(a, name, version);
    let indexed = values.len() > 1
        || matches!(
            name,
            "Name"
                | "Object Group"
                | "Link"
                | "Digest"
                | "Alternative Name"
                | "Application Specific Information"
        );
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let index = indexed.then(|| u32::try_from(i).unwrap_or(u32::MAX));
            attribute(name, index, value)
        })
        .collect()
}
