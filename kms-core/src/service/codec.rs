//! Managed objects to rows and back.
//!
//! Writing: attributes become JSON plus indexed columns, the material is
//! wrapped under the project key, and the row gets a MAC under the same
//! project key version. Reading: the MAC is checked *first*, then the
//! columns are checked against the JSON, and only then is anything used.

use time::OffsetDateTime;

use super::projects::blob_reason;
use crate::error::{Error, Result};
use crate::hierarchy::ProjectKek;
use crate::object::{Attributes, KeyMaterial};
use crate::store::ObjectRecord;

/// The version each object's material is bound to. Key versions within one
/// object (the HTTPS API's rotation) get their own numbers from 2 up.
pub(super) const MATERIAL_VERSION: u64 = 1;

/// Where a row's wrapped material comes from.
pub(super) enum Material<'a> {
    /// Wrap this material now.
    Wrap(&'a KeyMaterial),
    /// Keep the already wrapped blob (attribute-only change).
    Keep(Option<Vec<u8>>),
}

fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// Builds the row for `attributes` at `revision`, wrapped and MACed by `kek`.
pub(super) fn to_record(
    attributes: &Attributes,
    revision: i64,
    material: Material<'_>,
    kek: &ProjectKek,
) -> Result<ObjectRecord> {
    let a = attributes;
    let json =
        serde_json::to_vec(a).map_err(|e| Error::InvalidRequest(format!("attributes: {e}")))?;
    let material = match material {
        Material::Wrap(m) => {
            Some(kek.wrap_material(&a.unique_identifier, MATERIAL_VERSION, m.encode().expose())?)
        }
        Material::Keep(blob) => blob,
    };
    let mut record = ObjectRecord {
        id: a.unique_identifier,
        project: a.project,
        revision,
        object_type: a.object_type.to_kmip(),
        name: a.primary_name().map(str::to_string),
        algorithm: a.cryptographic_algorithm.map(|x| x.to_kmip()),
        state: a.state.to_kmip(),
        initial_date: ts(a.initial_date),
        activation_date: a.activation_date.map(ts),
        deactivation_date: a.deactivation_date.map(ts),
        destroy_date: a.destroy_date.map(ts),
        last_change_date: ts(a.last_change_date),
        attributes: json,
        material,
        kek_version: kek.version(),
        mac: Vec::new(),
    };
    record.mac = kek.row_mac(&record);
    Ok(record)
}

/// Authenticates a row and decodes its attributes.
pub(super) fn attributes_of(record: &ObjectRecord, kek: &ProjectKek) -> Result<Attributes> {
    let what = || format!("object {}", record.id);
    if !kek.row_is_authentic(record) {
        return Err(Error::Integrity {
            what: what(),
            reason: "row MAC does not match: the row was altered, truncated or moved",
        });
    }
    let a: Attributes =
        serde_json::from_slice(&record.attributes).map_err(|_| Error::Integrity {
            what: what(),
            reason: "attributes are not valid JSON",
        })?;
    let consistent = a.unique_identifier == record.id
        && a.project == record.project
        && a.object_type.to_kmip() == record.object_type
        && a.state.to_kmip() == record.state
        && a.activation_date.map(ts) == record.activation_date
        && a.deactivation_date.map(ts) == record.deactivation_date;
    if !consistent {
        return Err(Error::Integrity {
            what: what(),
            reason: "indexed columns disagree with the attributes",
        });
    }
    Ok(a)
}

/// Opens a row's wrapped material. The row must already be authenticated.
pub(super) fn material_of(record: &ObjectRecord, kek: &ProjectKek) -> Result<Option<KeyMaterial>> {
    let Some(blob) = &record.material else {
        return Ok(None);
    };
    let what = || format!("object {} key material", record.id);
    let encoded = kek
        .unwrap_material(&record.id, MATERIAL_VERSION, blob)
        .map_err(|e| Error::Integrity {
            what: what(),
            reason: blob_reason(&e),
        })?;
    KeyMaterial::decode(encoded.expose())
        .map(Some)
        .ok_or_else(|| Error::Integrity {
            what: what(),
            reason: "unknown material encoding",
        })
}
