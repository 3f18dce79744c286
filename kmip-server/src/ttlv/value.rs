//! Item types and values.

use std::fmt;

use zeroize::Zeroizing;

use super::Ttlv;

/// The item type byte of a TTLV item (KMIP 1.4 §9.1.1.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ItemType {
    Structure,
    Integer,
    LongInteger,
    BigInteger,
    Enumeration,
    Boolean,
    TextString,
    ByteString,
    DateTime,
    Interval,
}

impl ItemType {
    /// Every item type, in the order of their type bytes.
    pub const ALL: [ItemType; 10] = [
        ItemType::Structure,
        ItemType::Integer,
        ItemType::LongInteger,
        ItemType::BigInteger,
        ItemType::Enumeration,
        ItemType::Boolean,
        ItemType::TextString,
        ItemType::ByteString,
        ItemType::DateTime,
        ItemType::Interval,
    ];

    /// The type byte on the wire.
    pub const fn byte(self) -> u8 {
        match self {
            ItemType::Structure => 0x01,
            ItemType::Integer => 0x02,
            ItemType::LongInteger => 0x03,
            ItemType::BigInteger => 0x04,
            ItemType::Enumeration => 0x05,
            ItemType::Boolean => 0x06,
            ItemType::TextString => 0x07,
            ItemType::ByteString => 0x08,
            ItemType::DateTime => 0x09,
            ItemType::Interval => 0x0A,
        }
    }

    /// The item type for a type byte, if the byte names one.
    pub fn from_byte(byte: u8) -> Option<ItemType> {
        Self::ALL.into_iter().find(|t| t.byte() == byte)
    }

    /// The normalised name used by the XML encoding's `type` attribute.
    pub const fn xml_name(self) -> &'static str {
        match self {
            ItemType::Structure => "Structure",
            ItemType::Integer => "Integer",
            ItemType::LongInteger => "LongInteger",
            ItemType::BigInteger => "BigInteger",
            ItemType::Enumeration => "Enumeration",
            ItemType::Boolean => "Boolean",
            ItemType::TextString => "TextString",
            ItemType::ByteString => "ByteString",
            ItemType::DateTime => "DateTime",
            ItemType::Interval => "Interval",
        }
    }

    /// The item type named `name` in the XML encoding.
    pub fn from_xml_name(name: &str) -> Option<ItemType> {
        Self::ALL.into_iter().find(|t| t.xml_name() == name)
    }

    /// The length a value of this type must declare, for fixed-size types.
    pub const fn fixed_len(self) -> Option<u32> {
        match self {
            ItemType::Integer | ItemType::Enumeration | ItemType::Interval => Some(4),
            ItemType::LongInteger | ItemType::Boolean | ItemType::DateTime => Some(8),
            _ => None,
        }
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.xml_name())
    }
}

/// A Big Integer: two's complement, big-endian, sign-extended on the left to
/// the shortest multiple of eight bytes (KMIP 1.4 §9.1.1.4). The constructor
/// enforces that form, so every `BigInteger` encodes to valid TTLV.
///
/// Big integers carry private key components (transparent RSA keys), so the
/// bytes are zeroized on drop and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct BigInteger(Zeroizing<Vec<u8>>);

impl BigInteger {
    /// The canonical form of the two's complement big-endian number `bytes`
    /// (any length; an empty slice is zero).
    pub fn from_twos_complement(bytes: &[u8]) -> Self {
        let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
        let fill = if negative { 0xff } else { 0x00 };
        // Drop redundant sign bytes: a byte equal to `fill` whose successor
        // carries the same sign bit adds nothing.
        let start = bytes
            .windows(2)
            .take_while(|pair| match pair {
                [b, next] => *b == fill && (next & 0x80 != 0) == negative,
                _ => false,
            })
            .count();
        let significant = bytes.get(start..).unwrap_or_default();
        let len = significant.len().max(1).div_ceil(8) * 8;
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        out.resize(len - significant.len(), fill);
        out.extend_from_slice(significant);
        BigInteger(out)
    }

    /// A non-negative number from its unsigned big-endian magnitude (how RSA
    /// moduli and exponents are usually held).
    pub fn from_unsigned(magnitude: &[u8]) -> Self {
        let mut signed = Zeroizing::new(Vec::with_capacity(magnitude.len() + 1));
        signed.push(0);
        signed.extend_from_slice(magnitude);
        Self::from_twos_complement(&signed)
    }

    /// Whether `bytes` is already in canonical form: a non-zero multiple of
    /// eight bytes whose first eight bytes are not all redundant sign bytes.
    pub fn is_canonical(bytes: &[u8]) -> bool {
        if bytes.is_empty() || bytes.len() % 8 != 0 {
            return false;
        }
        match (bytes.get(..8), bytes.get(8)) {
            (Some(head), Some(next)) => {
                let fill = if next & 0x80 != 0 { 0xff } else { 0x00 };
                !head.iter().all(|b| *b == fill)
            }
            _ => true,
        }
    }

    /// The encoded bytes (two's complement, big-endian, multiple of 8).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The number as an unsigned big-endian magnitude without leading zeros,
    /// or `None` if it is negative.
    pub fn to_unsigned(&self) -> Option<Zeroizing<Vec<u8>>> {
        if self.0.first().is_some_and(|b| b & 0x80 != 0) {
            return None;
        }
        let start = self.0.iter().position(|b| *b != 0).unwrap_or(self.0.len());
        Some(Zeroizing::new(
            self.0.get(start..).unwrap_or_default().to_vec(),
        ))
    }
}

impl fmt::Debug for BigInteger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigInteger(<{} bytes>)", self.0.len())
    }
}

/// The value of a TTLV item.
///
/// Byte Strings and Big Integers may be key material: they are zeroized on
/// drop and `Debug` prints only their length.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Structure(Vec<Ttlv>),
    Integer(i32),
    LongInteger(i64),
    BigInteger(BigInteger),
    Enumeration(u32),
    Boolean(bool),
    TextString(String),
    ByteString(Zeroizing<Vec<u8>>),
    /// Seconds since the POSIX epoch.
    DateTime(i64),
    /// Seconds.
    Interval(u32),
}

impl Value {
    /// The item type of this value.
    pub fn item_type(&self) -> ItemType {
        match self {
            Value::Structure(_) => ItemType::Structure,
            Value::Integer(_) => ItemType::Integer,
            Value::LongInteger(_) => ItemType::LongInteger,
            Value::BigInteger(_) => ItemType::BigInteger,
            Value::Enumeration(_) => ItemType::Enumeration,
            Value::Boolean(_) => ItemType::Boolean,
            Value::TextString(_) => ItemType::TextString,
            Value::ByteString(_) => ItemType::ByteString,
            Value::DateTime(_) => ItemType::DateTime,
            Value::Interval(_) => ItemType::Interval,
        }
    }

    /// A Byte String value holding `bytes`.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Value {
        Value::ByteString(Zeroizing::new(bytes.into()))
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Structure(children) => f.debug_list().entries(children).finish(),
            Value::Integer(v) => write!(f, "Integer({v})"),
            Value::LongInteger(v) => write!(f, "LongInteger({v})"),
            Value::BigInteger(v) => fmt::Debug::fmt(v, f),
            Value::Enumeration(v) => write!(f, "Enumeration(0x{v:08X})"),
            Value::Boolean(v) => write!(f, "Boolean({v})"),
            Value::TextString(v) => write!(f, "TextString({v:?})"),
            Value::ByteString(v) => write!(f, "ByteString(<{} bytes>)", v.len()),
            Value::DateTime(v) => write!(f, "DateTime({v})"),
            Value::Interval(v) => write!(f, "Interval({v})"),
        }
    }
}
