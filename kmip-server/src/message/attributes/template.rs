//! Template-Attribute structures (KMIP 1.x §2.1.8) into what kms-core
//! needs to create or register an object.

use kms_core::ids::ProjectId;
use kms_core::object::{Attributes, CryptographicAlgorithm, ObjectType};
use kms_core::service::Template;
use time::OffsetDateTime;

use crate::message::error::{OpResult, OperationError};
use crate::message::version::ProtocolVersion;
use crate::ttlv::{Tag, Ttlv};

use super::{WireAttribute, edit, parse};

/// A template's attributes, sorted into what kms-core takes.
#[derive(Debug, Default)]
pub struct TemplateParts {
    pub template: Template,
    pub object_type: Option<ObjectType>,
    pub algorithm: Option<CryptographicAlgorithm>,
    pub length: Option<u32>,
}

/// The Attributes of a Template-Attribute (or Common/Private/Public Key
/// Template-Attribute) structure. Named templates (a KMIP 1.x feature
/// deprecated in 1.3) do not exist on this server: Item Not Found, as §11.2
/// says for templates that do not exist.
pub fn read(item: Option<&Ttlv>, version: ProtocolVersion) -> OpResult<Vec<WireAttribute>> {
    let Some(item) = item else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for child in item.as_structure()? {
        match child.tag {
            Tag::ATTRIBUTE => out.push(WireAttribute::from_ttlv(child, version)?),
            Tag::NAME => {
                return Err(OperationError::ItemNotFound(
                    "this server has no named templates".into(),
                ));
            }
            other => {
                return Err(OperationError::InvalidField(format!(
                    "{} does not contain {other}",
                    item.tag
                )));
            }
        }
    }
    Ok(out)
}

/// Sorts `attrs` into a kms-core template. Algorithm, length and object
/// type choose what to make; everything else must be settable by a client.
pub fn parts(project: ProjectId, attrs: &[WireAttribute]) -> OpResult<TemplateParts> {
    let mut parts = TemplateParts::default();
    // Build on a scratch attribute set so template and Add Attribute share
    // one set of rules.
    let mut scratch = Attributes::new(project, ObjectType::OpaqueObject, OffsetDateTime::now_utc());
    let mut mask_set = false;
    for attr in attrs {
        let value = attr.value()?;
        match attr.name.as_str() {
            "Cryptographic Algorithm" => set_once(
                &mut parts.algorithm,
                attr,
                parse::known(value, CryptographicAlgorithm::from_kmip)?,
            )?,
            "Cryptographic Length" => {
                let len = u32::try_from(value.as_i32()?)
                    .ok()
                    .filter(|l| *l > 0)
                    .ok_or_else(|| {
                        OperationError::InvalidField("Cryptographic Length must be positive".into())
                    })?;
                set_once(&mut parts.length, attr, len)?
            }
            "Object Type" => set_once(
                &mut parts.object_type,
                attr,
                parse::known(value, ObjectType::from_kmip)?,
            )?,
            "Cryptographic Usage Mask" => {
                mask_set = true;
                edit::add(&mut scratch, attr)?;
            }
            _ => {
                edit::add(&mut scratch, attr)?;
            }
        }
    }
    parts.template = Template {
        names: scratch.names,
        usage_mask: mask_set.then_some(scratch.cryptographic_usage_mask),
        activation_date: scratch.activation_date,
        deactivation_date: scratch.deactivation_date,
        object_groups: scratch.object_groups,
        contact_information: scratch.contact_information,
        links: scratch.links,
        cryptographic_parameters: scratch.cryptographic_parameters,
        custom: scratch.custom,
        process_start_date: scratch.process_start_date,
        protect_stop_date: scratch.protect_stop_date,
        usage_limits: scratch.usage_limits,
        alternative_names: scratch.alternative_names,
        application_specific_information: scratch.application_specific_information,
        ..Template::default()
    };
    Ok(parts)
}

fn set_once<T>(slot: &mut Option<T>, attr: &WireAttribute, value: T) -> OpResult<()> {
    if slot.is_some() {
        return Err(OperationError::IllegalOperation(format!(
            "{} has a single instance but is given twice",
            attr.name
        )));
    }
    *slot = Some(value);
    Ok(())
}
