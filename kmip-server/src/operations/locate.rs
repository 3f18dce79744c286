//! Locate (KMIP 1.4 §4.9): identifiers of the client's project's objects
//! that match every attribute given. Two values of a date attribute are a
//! range; any other attribute matches when the object holds that value.
//! Maximum Items and (1.3+) Offset Items page the result; Located Items
//! (1.3+) counts every match. Storage Status Mask (§9.1.3.3.2): On-line
//! (1) finds objects without an Archive Date, Archival (2) archived ones;
//! without a mask only on-line objects are searched.
//! Object Group Member: Default is an ordinary search; Fresh (objects never
//! served) is Feature Not Supported, as nothing records what was served.
//!
//! Name, Object Type, Cryptographic Algorithm and State narrow the query
//! in the store; the other attributes are compared here. The store returns
//! at most 10,000 rows per query, so that bounds what one Locate searches.

use std::collections::BTreeMap;

use kms_core::lifecycle::State;
use kms_core::object::{Attributes, CryptographicAlgorithm, ObjectType};
use kms_core::store::ObjectQuery;

use super::{Context, response, uid};
use crate::message::attributes::{WireAttribute, parse, values};
use crate::message::{OpResult, OperationError};
use crate::ttlv::{Tag, Ttlv, Value};

const SEARCH_LIMIT: u64 = 10_000;

/// Storage Status Mask bits On-line and Archival Storage (KMIP 1.4 §9.1.3.3.2).
const STORAGE_ONLINE: i32 = 0x1;
const STORAGE_ARCHIVAL: i32 = 0x2;
/// Object Group Member Group Member Fresh (KMIP 1.4 §9.1.3.2.33).
const GROUP_MEMBER_FRESH: u32 = 1;

const DATES: &[&str] = &[
    "Initial Date",
    "Process Start Date",
    "Protect Stop Date",
    "Archive Date",
    "Activation Date",
    "Deactivation Date",
    "Destroy Date",
    "Compromise Occurrence Date",
    "Compromise Date",
    "Last Change Date",
];

pub async fn handle(ctx: &Context<'_>, payload: &Ttlv) -> OpResult<Ttlv> {
    let mut max_items = None;
    let mut offset = 0usize;
    let mut filters: BTreeMap<String, Vec<Ttlv>> = BTreeMap::new();
    let mut storage = STORAGE_ONLINE;
    for item in payload.as_structure()? {
        match item.tag {
            Tag::MAXIMUM_ITEMS => max_items = Some(non_negative(item)?),
            Tag::OFFSET_ITEMS if ctx.version.minor >= 3 => offset = non_negative(item)?,
            Tag::STORAGE_STATUS_MASK => storage = item.as_i32()?,
            Tag::OBJECT_GROUP_MEMBER if ctx.version.minor >= 1 => {
                if item.as_enum()? == GROUP_MEMBER_FRESH {
                    return Err(OperationError::FeatureNotSupported(
                        "Group Member Fresh: this server does not track which objects were served"
                            .into(),
                    ));
                }
            }
            Tag::ATTRIBUTE => {
                let attr = WireAttribute::from_ttlv(item, ctx.version)?;
                let value = attr.value()?;
                let value = Ttlv::new(Tag::ATTRIBUTE_VALUE, value.value.clone());
                filters.entry(attr.name).or_default().push(value);
            }
            other => {
                return Err(OperationError::InvalidField(format!(
                    "Locate in KMIP {} does not take {other}",
                    ctx.version
                )));
            }
        }
    }
    let query = store_query(&filters)?;
    let found = if storage & (STORAGE_ONLINE | STORAGE_ARCHIVAL) != 0 {
        ctx.kms.locate(ctx.project(), query).await?
    } else {
        Vec::new()
    };
    let matching: Vec<&Attributes> = found
        .iter()
        .filter(|a| in_storage(a, storage))
        .filter(|a| {
            filters
                .iter()
                .all(|(name, wanted)| matches(a, name, wanted, ctx))
        })
        .collect();
    // The first match becomes the ID Placeholder for the next batch item.
    if let Some(first) = matching.first() {
        ctx.set_placeholder(first.unique_identifier);
    }
    let mut out = Vec::new();
    if ctx.version.minor >= 3 {
        out.push(Ttlv::integer(
            Tag::LOCATED_ITEMS,
            i32::try_from(matching.len()).unwrap_or(i32::MAX),
        ));
    }
    out.extend(
        matching
            .iter()
            .skip(offset)
            .take(max_items.unwrap_or(usize::MAX))
            .map(|a| uid(a.unique_identifier)),
    );
    Ok(response(out))
}

/// Whether the object is in a storage the mask selects.
fn in_storage(a: &Attributes, mask: i32) -> bool {
    let bit = if a.is_archived() {
        STORAGE_ARCHIVAL
    } else {
        STORAGE_ONLINE
    };
    mask & bit != 0
}

fn non_negative(item: &Ttlv) -> OpResult<usize> {
    usize::try_from(item.as_i32()?)
        .map_err(|_| OperationError::InvalidField(format!("{} is negative", item.tag)))
}

/// The filters the store can apply itself.
fn store_query(filters: &BTreeMap<String, Vec<Ttlv>>) -> OpResult<ObjectQuery> {
    let first = |name: &str| filters.get(name).and_then(|v| v.first());
    let mut q = ObjectQuery {
        limit: SEARCH_LIMIT,
        ..ObjectQuery::default()
    };
    if let Some(v) = first("Object Type") {
        q.object_type = Some(parse::known(v, ObjectType::from_kmip)?.to_kmip());
    }
    if let Some(v) = first("Cryptographic Algorithm") {
        q.algorithm = Some(parse::known(v, CryptographicAlgorithm::from_kmip)?.to_kmip());
    }
    if let Some(v) = first("State") {
        q.state = Some(parse::known(v, State::from_kmip)?.to_kmip());
    }
    if let Some(v) = first("Name") {
        q.name = Some(parse::name(v)?.value);
    }
    Ok(q)
}

fn matches(a: &Attributes, name: &str, wanted: &[Ttlv], ctx: &Context<'_>) -> bool {
    let held = values::values_of(a, name, ctx.version);
    if let ([low, high], true) = (wanted, DATES.contains(&name)) {
        return match (&low.value, &high.value) {
            (Value::DateTime(lo), Value::DateTime(hi)) => held
                .iter()
                .any(|h| matches!(h.value, Value::DateTime(d) if (*lo..=*hi).contains(&d))),
            _ => false,
        };
    }
    wanted.iter().all(|w| held.iter().any(|h| same(h, w)))
}

/// Equal values; a Name matches on its value and type alike.
fn same(held: &Ttlv, wanted: &Ttlv) -> bool {
    held.value == wanted.value
}
