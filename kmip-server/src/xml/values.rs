//! Text forms of primitive values (§6.1.6.3–6.1.6.12).
//!
//! `semantic` is the tag whose enumeration or mask names the value: the
//! item's own tag, or for an Attribute Value the tag of the attribute its
//! Attribute Name names.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ttlv::{BigInteger, EnumDef, ItemType, MaskDef, Tag, Value};

/// Why a value's text was refused.
pub(crate) type Reason = &'static str;

fn hex_u64(text: &str, max_digits: usize) -> Option<u64> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if digits.is_empty() || digits.len() > max_digits {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

fn hex_u32(text: &str) -> Option<u32> {
    hex_u64(text, 8).and_then(|v| u32::try_from(v).ok())
}

fn parse_i32(text: &str) -> Option<i32> {
    match hex_u32(text) {
        Some(bits) => Some(i32::from_be_bytes(bits.to_be_bytes())),
        None => text.parse().ok(),
    }
}

fn parse_mask(text: &str, mask: &MaskDef) -> Option<i32> {
    let mut bits = 0u32;
    let mut any = false;
    for token in text.split_whitespace() {
        bits |= match mask.by_xml_name(token) {
            Some(named) => named.value,
            None => hex_u32(token)?,
        };
        any = true;
    }
    any.then(|| i32::from_be_bytes(bits.to_be_bytes()))
}

fn parse_bytes(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

fn parse_date_time(text: &str) -> Result<i64, Reason> {
    if let Some(v) = hex_u64(text, 16) {
        return Ok(i64::from_be_bytes(v.to_be_bytes()));
    }
    let dt = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| "expected an xsd:dateTime with offset, e.g. 2001-01-01T10:00:00+00:00")?;
    if dt.nanosecond() != 0 {
        return Err("TTLV date-times have whole seconds");
    }
    Ok(dt.unix_timestamp())
}

/// Parses the `value` attribute of a primitive item.
pub(crate) fn parse_scalar(
    item_type: ItemType,
    text: &str,
    semantic: Tag,
) -> Result<Value, Reason> {
    Ok(match item_type {
        ItemType::Integer => match parse_i32(text) {
            Some(v) => Value::Integer(v),
            None => {
                let mask =
                    MaskDef::for_tag(semantic).ok_or("expected a decimal or 0x hex xsd:int")?;
                Value::Integer(parse_mask(text, mask).ok_or("expected mask names or 0x hex")?)
            }
        },
        ItemType::LongInteger => Value::LongInteger(match hex_u64(text, 16) {
            Some(bits) => i64::from_be_bytes(bits.to_be_bytes()),
            None => text
                .parse()
                .map_err(|_| "expected a decimal or 0x hex xsd:long")?,
        }),
        ItemType::BigInteger => {
            let digits = text.strip_prefix("0x").unwrap_or(text);
            let bytes = parse_bytes(digits).ok_or("expected hex digits in pairs")?;
            Value::BigInteger(BigInteger::from_twos_complement(&bytes))
        }
        ItemType::Enumeration => Value::Enumeration(match hex_u32(text) {
            Some(v) => v,
            None => EnumDef::for_tag(semantic)
                .and_then(|def| def.by_xml_name(text))
                .map(|named| named.value)
                .ok_or("expected an enumeration name of this tag or 0x hex")?,
        }),
        ItemType::Boolean => Value::Boolean(match text {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err("expected true, false, 1 or 0"),
        }),
        ItemType::TextString => Value::TextString(text.to_owned()),
        ItemType::ByteString => {
            Value::bytes(parse_bytes(text).ok_or("expected hex digits in pairs")?)
        }
        ItemType::DateTime => Value::DateTime(parse_date_time(text)?),
        ItemType::Interval => Value::Interval(match hex_u32(text) {
            Some(v) => v,
            None => text
                .parse()
                .map_err(|_| "expected a decimal xsd:unsignedInt")?,
        }),
        ItemType::Structure => return Err("a Structure has no value"),
    })
}

fn format_mask(value: i32, mask: &MaskDef) -> String {
    let bits = u32::from_be_bytes(value.to_be_bytes());
    if bits == 0 {
        return "0".to_owned();
    }
    let mut rest = bits;
    let mut tokens: Vec<String> = Vec::new();
    for named in mask.bits {
        if named.value != 0 && bits & named.value == named.value {
            tokens.push(named.xml_name.to_owned());
            rest &= !named.value;
        }
    }
    if rest != 0 {
        tokens.push(format!("0x{rest:08x}"));
    }
    tokens.join(" ")
}

fn format_date_time(seconds: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(dt) if (0..=9999).contains(&dt.year()) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        ),
        // Outside what xsd:dateTime writes plainly: the raw value in hex,
        // which the parser accepts back.
        _ => format!("0x{seconds:016x}"),
    }
}

/// The `value` attribute of a primitive item (`None` for a Structure).
pub(crate) fn format_scalar(value: &Value, semantic: Tag) -> Option<String> {
    Some(match value {
        Value::Structure(_) => return None,
        Value::Integer(v) => match MaskDef::for_tag(semantic) {
            Some(mask) => format_mask(*v, mask),
            None => v.to_string(),
        },
        Value::LongInteger(v) => v.to_string(),
        Value::BigInteger(v) => hex::encode(v.as_bytes()),
        Value::Enumeration(v) => EnumDef::for_tag(semantic)
            .and_then(|def| def.by_value(*v))
            .map(|named| named.xml_name.to_owned())
            .unwrap_or_else(|| format!("0x{v:08x}")),
        Value::Boolean(v) => v.to_string(),
        Value::TextString(v) => v.clone(),
        Value::ByteString(v) => hex::encode(v.as_slice()),
        Value::DateTime(v) => format_date_time(*v),
        Value::Interval(v) => v.to_string(),
    })
}
