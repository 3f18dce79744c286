//! KMIP 1.x attributes on the wire: `Attribute {Attribute Name, Attribute
//! Index, Attribute Value}`, and their conversion to kms-core's typed
//! [`Attributes`](kms_core::object::Attributes).
//!
//! - [`names`]: which attribute names each protocol version defines; a
//!   name the request's version does not define is refused (Invalid Field,
//!   KMIP 1.4 §11.1), as is one this server does not keep.
//! - [`template`]: Template-Attribute structures (Create, Create Key Pair,
//!   Register) to a kms-core `Template` plus algorithm and length.
//! - [`values`]: an object's attributes as KMIP Attribute structures
//!   (Get Attributes, Get Attribute List, Locate filters).
//! - [`edit`]: Add, Modify and Delete Attribute on one instance.

pub mod edit;
pub mod names;
pub mod parse;
pub mod template;
pub mod values;

use crate::ttlv::{Tag, Ttlv};

use super::error::{OpResult, OperationError};
use super::version::ProtocolVersion;

/// One `Attribute` structure as the client sent it.
#[derive(Clone, Debug)]
pub struct WireAttribute {
    pub name: String,
    pub index: Option<u32>,
    /// The Attribute Value item (absent in a Get Attributes–style request
    /// or a Delete Attribute).
    pub value: Option<Ttlv>,
}

impl WireAttribute {
    /// Reads an `Attribute` structure, refusing names `version` does not
    /// define.
    pub fn from_ttlv(item: &Ttlv, version: ProtocolVersion) -> OpResult<Self> {
        let name = item.required(Tag::ATTRIBUTE_NAME)?.as_text()?.to_owned();
        names::check_defined(&name, version)?;
        let index = match item.child(Tag::ATTRIBUTE_INDEX) {
            Some(i) => Some(u32::try_from(i.as_i32()?).map_err(|_| {
                OperationError::InvalidField(format!("Attribute Index of {name} is negative"))
            })?),
            None => None,
        };
        Ok(Self {
            name,
            index,
            value: item.child(Tag::ATTRIBUTE_VALUE).cloned(),
        })
    }

    /// The value, required.
    pub fn value(&self) -> OpResult<&Ttlv> {
        self.value.as_ref().ok_or_else(|| {
            OperationError::InvalidMessage(format!(
                "attribute {} has no Attribute Value",
                self.name
            ))
        })
    }
}

/// An `Attribute` structure for a response.
pub fn attribute(name: &str, index: Option<u32>, value: Ttlv) -> Ttlv {
    let mut children = vec![Ttlv::text(Tag::ATTRIBUTE_NAME, name)];
    if let Some(i) = index {
        children.push(Ttlv::integer(
            Tag::ATTRIBUTE_INDEX,
            i32::try_from(i).unwrap_or(i32::MAX),
        ));
    }
    children.push(Ttlv {
        tag: Tag::ATTRIBUTE_VALUE,
        value: value.value,
    });
    Ttlv::structure(Tag::ATTRIBUTE, children)
}
