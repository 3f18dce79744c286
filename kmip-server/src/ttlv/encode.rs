//! The encoder: deterministic, minimal zero padding, and one allocation of
//! exactly the right size (so a buffer holding key material is never
//! reallocated, leaving copies behind).

use zeroize::Zeroizing;

use super::{EncodeError, Tag, Ttlv, Value};

/// Trees deeper than this are refused rather than risk the call stack; the
/// decoder's default limit is far below it.
pub const MAX_ENCODE_DEPTH: usize = 64;

/// Encodes `item` into a new zeroizing buffer.
pub fn encode(item: &Ttlv) -> Result<Zeroizing<Vec<u8>>, EncodeError> {
    let mut out = Zeroizing::new(Vec::new());
    encode_into(item, &mut out)?;
    Ok(out)
}

/// Appends the encoding of `item` to `out`, reserving the exact space first.
pub fn encode_into(item: &Ttlv, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let len = encoded_len(item)?;
    out.reserve_exact(len);
    write(item, out);
    Ok(())
}

/// The number of bytes `item` encodes to, header and padding included.
pub fn encoded_len(item: &Ttlv) -> Result<usize, EncodeError> {
    item_len(item, 1)
}

fn padded(len: usize) -> usize {
    len.div_ceil(8) * 8
}

fn item_len(item: &Ttlv, depth: usize) -> Result<usize, EncodeError> {
    if depth > MAX_ENCODE_DEPTH {
        return Err(EncodeError::TooDeep {
            tag: item.tag,
            max: MAX_ENCODE_DEPTH,
        });
    }
    if !item.tag.is_valid() {
        return Err(EncodeError::InvalidTag { tag: item.tag.0 });
    }
    let value_len = match &item.value {
        Value::Structure(children) => children.iter().try_fold(0usize, |sum, child| {
            item_len(child, depth + 1).map(|len| sum.saturating_add(len))
        })?,
        other => padded(declared_len(other)),
    };
    check_u32(item.tag, value_len)?;
    Ok(8 + value_len)
}

/// The length field of a primitive (without padding).
fn declared_len(value: &Value) -> usize {
    match value {
        Value::Integer(_) | Value::Enumeration(_) | Value::Interval(_) => 4,
        Value::LongInteger(_) | Value::Boolean(_) | Value::DateTime(_) => 8,
        Value::BigInteger(v) => v.as_bytes().len(),
        Value::TextString(v) => v.len(),
        Value::ByteString(v) => v.len(),
        Value::Structure(_) => 0,
    }
}

fn check_u32(tag: Tag, len: usize) -> Result<u32, EncodeError> {
    u32::try_from(len).map_err(|_| EncodeError::TooLong { tag })
}

/// Writes an item whose lengths `item_len` has already validated.
fn write(item: &Ttlv, out: &mut Vec<u8>) {
    let [_, t0, t1, t2] = item.tag.0.to_be_bytes();
    out.extend_from_slice(&[t0, t1, t2, item.value.item_type().byte()]);
    let len_at = out.len();
    out.extend_from_slice(&[0; 4]);
    let value_start = out.len();
    match &item.value {
        Value::Structure(children) => children.iter().for_each(|c| write(c, out)),
        Value::Integer(v) => out.extend_from_slice(&v.to_be_bytes()),
        Value::LongInteger(v) | Value::DateTime(v) => out.extend_from_slice(&v.to_be_bytes()),
        Value::Enumeration(v) | Value::Interval(v) => out.extend_from_slice(&v.to_be_bytes()),
        Value::Boolean(v) => out.extend_from_slice(&u64::from(*v).to_be_bytes()),
        Value::BigInteger(v) => out.extend_from_slice(v.as_bytes()),
        Value::TextString(v) => out.extend_from_slice(v.as_bytes()),
        Value::ByteString(v) => out.extend_from_slice(v),
    }
    let declared = out.len() - value_start;
    out.resize(value_start + padded(declared), 0);
    // Lengths were checked to fit in u32 by item_len.
    let declared = u32::try_from(declared).unwrap_or(u32::MAX);
    if let Some(field) = out.get_mut(len_at..len_at + 4) {
        field.copy_from_slice(&declared.to_be_bytes());
    }
}
