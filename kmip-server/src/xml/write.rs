//! Item tree → XML text, in the layout of the OASIS test vectors: two-space
//! indentation, the specific element form for known tags, the general
//! `TTLV` form for others.

use std::fmt::Write as _;

use super::values::format_scalar;
use super::{XmlItem, XmlValue};
use crate::ttlv::{Tag, Value};

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Attribute values normalise raw whitespace; references survive.
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

fn open(tag: Tag, indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n("  ", indent));
    match tag.xml_name() {
        Some(name) => {
            out.push('<');
            out.push_str(name);
        }
        None => {
            let _ = write!(out, "<TTLV tag=\"0x{:06x}\"", tag.0);
        }
    }
}

fn close(tag: Tag, out: &mut String) {
    out.push_str("</");
    out.push_str(tag.xml_name().unwrap_or("TTLV"));
    out.push_str(">\n");
}

/// Appends `item` at `indent`; `semantic` as in `values`.
pub(crate) fn item(item: &XmlItem, indent: usize, semantic: Option<Tag>, out: &mut String) {
    open(item.tag, indent, out);
    let (item_type, text) = match &item.value {
        XmlValue::Structure(children) if children.is_empty() => {
            out.push_str("/>\n");
            return;
        }
        XmlValue::Structure(children) => {
            out.push_str(">\n");
            structure_children(children, indent + 1, out);
            out.extend(std::iter::repeat_n("  ", indent));
            close(item.tag, out);
            return;
        }
        XmlValue::Scalar(value) => (
            value.item_type(),
            format_scalar(value, semantic.unwrap_or(item.tag)).unwrap_or_default(),
        ),
        XmlValue::Placeholder {
            item_type,
            placeholder,
        } => (*item_type, placeholder.to_string()),
    };
    let _ = write!(out, " type=\"{item_type}\" value=\"");
    escape(&text, out);
    out.push_str("\"/>\n");
}

fn structure_children(children: &[XmlItem], indent: usize, out: &mut String) {
    let mut attribute: Option<Tag> = None;
    for child in children {
        let semantic = (child.tag == Tag::ATTRIBUTE_VALUE)
            .then_some(attribute)
            .flatten();
        item(child, indent, semantic, out);
        if child.tag == Tag::ATTRIBUTE_NAME {
            if let XmlValue::Scalar(Value::TextString(name)) = &child.value {
                attribute = Tag::from_kmip_name(name);
            }
        }
    }
}
