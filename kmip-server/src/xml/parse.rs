//! XML text → item tree. roxmltree builds the element tree (no DTDs, so no
//! entity expansion; node count capped); this walk then checks every
//! element against the KMIP XML rules, bounded in depth and items.

use roxmltree::{Document, Node, ParsingOptions};

use super::values::parse_scalar;
use super::{Placeholder, Position, XmlError, XmlItem, XmlValue};
use crate::ttlv::{ItemType, Limits, MAX_ENCODE_DEPTH, Tag, Value};

/// Parses `xml` with options bounded by `limits`.
pub(crate) fn document<'i>(xml: &'i str, limits: &Limits) -> Result<Document<'i>, XmlError> {
    // Elements, attributes' text and whitespace between them are all nodes;
    // a few per item is generous for any real message.
    let nodes = limits.max_items.saturating_mul(4).saturating_add(64);
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::try_from(nodes).unwrap_or(u32::MAX),
        ..ParsingOptions::default()
    };
    Ok(Document::parse_with_options(xml, options)?)
}

pub(crate) struct Walker<'d, 'i> {
    pub doc: &'d Document<'i>,
    pub limits: &'d Limits,
    /// Whether `$…` values are test-vector placeholders or literal text.
    pub placeholders: bool,
    pub items: usize,
}

fn elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(Node::is_element)
}

fn hex_tag(digits: &str) -> Option<Tag> {
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16)
        .ok()
        .map(Tag)
        .filter(|t| t.is_valid())
}

fn position(doc: &Document, node: Node) -> Position {
    let pos = doc.text_pos_at(node.range().start);
    Position {
        line: pos.row,
        column: pos.col,
    }
}

impl Walker<'_, '_> {
    fn position(&self, node: Node) -> Position {
        position(self.doc, node)
    }

    fn tag(&self, node: Node) -> Result<Tag, XmlError> {
        let name = node.tag_name().name();
        let tag = if name == "TTLV" {
            node.attribute("tag")
                .and_then(|t| t.strip_prefix("0x"))
                .and_then(hex_tag)
        } else {
            Tag::from_xml_name(name).or_else(|| name.strip_prefix('x').and_then(hex_tag))
        };
        tag.ok_or_else(|| XmlError::UnknownTag {
            name: node.attribute("tag").unwrap_or(name).to_owned(),
            at: self.position(node),
        })
    }

    fn item_type(&self, node: Node, tag: Tag) -> Result<ItemType, XmlError> {
        match node.attribute("type") {
            None => Ok(ItemType::Structure),
            Some(name) => ItemType::from_xml_name(name).ok_or_else(|| XmlError::UnknownType {
                tag,
                type_name: name.to_owned(),
                at: self.position(node),
            }),
        }
    }

    /// Converts one element; `semantic` names the enumeration or mask of
    /// its value (see `values`).
    pub fn item(
        &mut self,
        node: Node,
        depth: usize,
        semantic: Option<Tag>,
    ) -> Result<XmlItem, XmlError> {
        // A position costs a scan of the text, so it is computed only for
        // an error.
        let doc = self.doc;
        let at = move || position(doc, node);
        let max = self.limits.max_depth.min(MAX_ENCODE_DEPTH);
        if depth > max {
            return Err(XmlError::TooDeep { max, at: at() });
        }
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(XmlError::TooManyItems {
                max: self.limits.max_items,
                at: at(),
            });
        }
        let tag = self.tag(node)?;
        let item_type = self.item_type(node, tag)?;
        let value = if item_type == ItemType::Structure {
            if node.attribute("value").is_some() {
                return Err(XmlError::ValueOnStructure { tag, at: at() });
            }
            XmlValue::Structure(self.children(node, depth)?)
        } else {
            if elements(node).next().is_some() {
                return Err(XmlError::ChildrenInPrimitive {
                    tag,
                    item_type,
                    at: at(),
                });
            }
            let text = node
                .attribute("value")
                .ok_or_else(|| XmlError::MissingValue {
                    tag,
                    item_type,
                    at: at(),
                })?;
            self.scalar(node, tag, item_type, text, semantic.unwrap_or(tag))?
        };
        Ok(XmlItem { tag, value })
    }

    /// The children of a structure. An Attribute Value's enumeration or
    /// mask is the one of the attribute named by the Attribute Name before
    /// it ("Cryptographic Algorithm" → AES).
    fn children(&mut self, node: Node, depth: usize) -> Result<Vec<XmlItem>, XmlError> {
        let mut out = Vec::new();
        let mut attribute: Option<Tag> = None;
        for child in elements(node) {
            let semantic = match self.tag(child)? {
                Tag::ATTRIBUTE_VALUE => attribute,
                _ => None,
            };
            let item = self.item(child, depth + 1, semantic)?;
            if item.tag == Tag::ATTRIBUTE_NAME {
                if let XmlValue::Scalar(Value::TextString(name)) = &item.value {
                    attribute = Tag::from_kmip_name(name);
                }
            }
            out.push(item);
        }
        Ok(out)
    }

    fn scalar(
        &self,
        node: Node,
        tag: Tag,
        item_type: ItemType,
        text: &str,
        semantic: Tag,
    ) -> Result<XmlValue, XmlError> {
        if self.placeholders && text.starts_with('$') {
            return match Placeholder::parse(text) {
                Some(placeholder) => Ok(XmlValue::Placeholder {
                    item_type,
                    placeholder,
                }),
                None => Err(XmlError::UnknownPlaceholder {
                    tag,
                    text: text.to_owned(),
                    at: self.position(node),
                }),
            };
        }
        parse_scalar(item_type, text, semantic)
            .map(XmlValue::Scalar)
            .map_err(|reason| XmlError::BadValue {
                tag,
                item_type,
                value: match item_type {
                    // Byte strings may be key material: describe, don't quote.
                    ItemType::ByteString | ItemType::BigInteger => {
                        format!("<{} characters>", text.len())
                    }
                    _ => text.to_owned(),
                },
                reason,
                at: self.position(node),
            })
    }

    /// The element children of the root, each a message.
    pub fn root_children(&mut self) -> Result<Vec<XmlItem>, XmlError> {
        let root = self.doc.root_element();
        let out = elements(root)
            .map(|node| self.item(node, 1, None))
            .collect::<Result<Vec<_>, _>>()?;
        if out.is_empty() {
            return Err(XmlError::NoMessages);
        }
        Ok(out)
    }
}
