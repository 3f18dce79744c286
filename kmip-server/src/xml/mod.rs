//! # The KMIP XML encoding (KMIP Additional Message Encodings 1.0, §6)
//!
//! The same item tree as TTLV, written as XML elements:
//!
//! ```xml
//! <RequestMessage>
//!   <BatchItem>
//!     <Operation type="Enumeration" value="Create"/>
//!     <RequestPayload>
//!       <ObjectType type="Enumeration" value="SymmetricKey"/>
//!       <Attribute>
//!         <AttributeName type="TextString" value="Cryptographic Usage Mask"/>
//!         <AttributeValue type="Integer" value="Encrypt Decrypt"/>
//! ```
//!
//! - An element's name is the tag's normalised KMIP name
//!   ([`normalize_name`]), `x` and six hex digits, or `TTLV` with a
//!   `tag="0x540001"` attribute (written for tags KMIP 1.4 does not name).
//! - `type` names the item type (absent means Structure); `value` holds a
//!   primitive's value: decimal or `0x` hex integers, Cryptographic Usage
//!   and Storage Status masks as space-separated bit names or hex,
//!   enumerations by normalised name or `0x` hex, `true`/`false`, text,
//!   hex byte strings and big integers, `xsd:dateTime` date-times (written
//!   as `2001-01-01T10:00:00+00:00`), decimal intervals.
//! - An Attribute Value's enumeration or mask is that of the attribute its
//!   sibling Attribute Name names, so `AES` under "Cryptographic Algorithm"
//!   reads as the Cryptographic Algorithm enumeration.
//!
//! Two entry points read XML. [`parse_message`] reads one message for the
//! XML message profile: every value is literal. [`parse_test_case`] reads
//! an OASIS test-vector file (a root element holding a sequence of
//! RequestMessage / ResponseMessage elements) and keeps the vectors'
//! `$…` values as [`Placeholder`]s in an [`XmlItem`] tree, for the
//! conformance runner to bind ([`XmlItem::resolve`]) or to match against a
//! response; [`replay`] does both for a whole file, for any transport.
//! [`to_xml`] and [`XmlItem::to_xml`] write the layout the
//! vectors use. Parsing refuses DTDs (no entity expansion) and is bounded
//! by the same [`Limits`] as TTLV.

mod error;
mod names;
mod parse;
mod placeholder;
pub mod replay;
mod values;
mod write;

pub use error::{Position, XmlError};
pub use names::normalize_name;
pub use placeholder::Placeholder;
pub use replay::{Replay, ReplayError};

use crate::ttlv::{ItemType, Limits, Tag, Ttlv, Value};

/// An item read from a test vector: like [`Ttlv`], but a primitive may be
/// a placeholder still to be bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XmlItem {
    pub tag: Tag,
    pub value: XmlValue,
}

/// The value of an [`XmlItem`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XmlValue {
    Structure(Vec<XmlItem>),
    /// A primitive value (never [`Value::Structure`]).
    Scalar(Value),
    Placeholder {
        item_type: ItemType,
        placeholder: Placeholder,
    },
}

impl XmlItem {
    /// The same tree without placeholders.
    pub fn from_ttlv(item: &Ttlv) -> XmlItem {
        let value = match &item.value {
            Value::Structure(children) => {
                XmlValue::Structure(children.iter().map(XmlItem::from_ttlv).collect())
            }
            other => XmlValue::Scalar(other.clone()),
        };
        XmlItem {
            tag: item.tag,
            value,
        }
    }

    /// The item's type, placeholders included.
    pub fn item_type(&self) -> ItemType {
        match &self.value {
            XmlValue::Structure(_) => ItemType::Structure,
            XmlValue::Scalar(v) => v.item_type(),
            XmlValue::Placeholder { item_type, .. } => *item_type,
        }
    }

    /// The children of a structure; empty for any other item.
    pub fn items(&self) -> &[XmlItem] {
        match &self.value {
            XmlValue::Structure(children) => children,
            _ => &[],
        }
    }

    /// The TTLV tree, if no placeholder remains.
    pub fn to_ttlv(&self) -> Result<Ttlv, XmlError> {
        self.resolve(&mut |_, _, _| Err(String::new()))
            .map_err(|e| match e {
                XmlError::Resolve {
                    tag, placeholder, ..
                } => XmlError::Unresolved { tag, placeholder },
                other => other,
            })
    }

    /// The TTLV tree with each placeholder replaced by what `resolver`
    /// returns for it (given the item's tag and declared type). The value
    /// must have the declared type.
    pub fn resolve(
        &self,
        resolver: &mut dyn FnMut(Tag, ItemType, Placeholder) -> Result<Value, String>,
    ) -> Result<Ttlv, XmlError> {
        let value = match &self.value {
            XmlValue::Structure(children) => Value::Structure(
                children
                    .iter()
                    .map(|c| c.resolve(resolver))
                    .collect::<Result<_, _>>()?,
            ),
            XmlValue::Scalar(v) => v.clone(),
            XmlValue::Placeholder {
                item_type,
                placeholder,
            } => {
                let value = resolver(self.tag, *item_type, *placeholder).map_err(|reason| {
                    XmlError::Resolve {
                        tag: self.tag,
                        placeholder: *placeholder,
                        reason,
                    }
                })?;
                if value.item_type() != *item_type {
                    return Err(XmlError::ResolvedType {
                        tag: self.tag,
                        placeholder: *placeholder,
                        expected: *item_type,
                        found: value.item_type(),
                    });
                }
                value
            }
        };
        Ok(Ttlv::new(self.tag, value))
    }

    /// The element and its children as XML, placeholders as `$…`.
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        write::item(self, 0, None, &mut out);
        out
    }
}

/// Reads one message (or any single item) in the XML message encoding.
/// Values are literal: `$…` is text, not a placeholder.
pub fn parse_message(xml: &str, limits: &Limits) -> Result<Ttlv, XmlError> {
    let doc = parse::document(xml, limits)?;
    let mut walker = parse::Walker {
        doc: &doc,
        limits,
        placeholders: false,
        items: 0,
    };
    walker.item(doc.root_element(), 1, None)?.to_ttlv()
}

/// Reads an OASIS test-vector file: the messages inside its root element,
/// in order, with `$…` values kept as placeholders.
pub fn parse_test_case(xml: &str, limits: &Limits) -> Result<Vec<XmlItem>, XmlError> {
    let doc = parse::document(xml, limits)?;
    parse::Walker {
        doc: &doc,
        limits,
        placeholders: true,
        items: 0,
    }
    .root_children()
}

/// Writes `item` in the XML encoding.
pub fn to_xml(item: &Ttlv) -> String {
    XmlItem::from_ttlv(item).to_xml()
}
