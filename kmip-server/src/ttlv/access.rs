//! Accessors for the message layer: find children, require them, and read
//! typed values, with errors that name the tag and the expected type.

use super::{AccessError, BigInteger, ItemType, Tag, Ttlv, Value};

impl Ttlv {
    /// The children of a structure; empty for any other item.
    pub fn items(&self) -> &[Ttlv] {
        match &self.value {
            Value::Structure(children) => children,
            _ => &[],
        }
    }

    /// The first child with `tag`, if this is a structure that has one.
    pub fn child(&self, tag: Tag) -> Option<&Ttlv> {
        self.items().iter().find(|c| c.tag == tag)
    }

    /// Every child with `tag`, in order (repeated fields such as Attribute).
    pub fn children(&self, tag: Tag) -> impl Iterator<Item = &Ttlv> {
        self.items().iter().filter(move |c| c.tag == tag)
    }

    /// The first child with `tag`, or an error naming this item and `tag`.
    pub fn required(&self, tag: Tag) -> Result<&Ttlv, AccessError> {
        self.child(tag).ok_or(AccessError::Missing {
            parent: self.tag,
            tag,
        })
    }

    fn wrong_type(&self, expected: ItemType) -> AccessError {
        AccessError::WrongType {
            tag: self.tag,
            expected,
            found: self.item_type(),
        }
    }

    /// The children, or an error if this is not a structure.
    pub fn as_structure(&self) -> Result<&[Ttlv], AccessError> {
        match &self.value {
            Value::Structure(children) => Ok(children),
            _ => Err(self.wrong_type(ItemType::Structure)),
        }
    }

    pub fn as_i32(&self) -> Result<i32, AccessError> {
        match self.value {
            Value::Integer(v) => Ok(v),
            _ => Err(self.wrong_type(ItemType::Integer)),
        }
    }

    pub fn as_i64(&self) -> Result<i64, AccessError> {
        match self.value {
            Value::LongInteger(v) => Ok(v),
            _ => Err(self.wrong_type(ItemType::LongInteger)),
        }
    }

    pub fn as_big_integer(&self) -> Result<&BigInteger, AccessError> {
        match &self.value {
            Value::BigInteger(v) => Ok(v),
            _ => Err(self.wrong_type(ItemType::BigInteger)),
        }
    }

    /// The raw enumeration value; wrap it in the generated type
    /// (`enums::ObjectType(v)`) to compare with named constants.
    pub fn as_enum(&self) -> Result<u32, AccessError> {
        match self.value {
            Value::Enumeration(v) => Ok(v),
            _ => Err(self.wrong_type(ItemType::Enumeration)),
        }
    }

    pub fn as_bool(&self) -> Result<bool, AccessError> {
        match self.value {
            Value::Boolean(v) => Ok(v),
            _ => Err(self.wrong_type(ItemType::Boolean)),
        }
    }

    pub fn as_text(&self) -> Result<&str, AccessError> {
        match &self.value {
            Value::TextString(v) => Ok(v),
            _ => Err(self.wrong_type(ItemType::TextString)),
        }
    }

    pub fn as_bytes(&self) -> Result<&[u8], AccessError> {
        match &self.value {
            Value::ByteString(v) => Ok(v),
            _ => Err(self.wrong_type(ItemType::ByteString)),
        }
    }

    /// Seconds since the POSIX epoch.
    pub fn as_date_time(&self) -> Result<i64, AccessError> {
        match self.value {
            Value::DateTime(v) => Ok(v),
            _ => Err(self.wrong_type(ItemType::DateTime)),
        }
    }

    /// Seconds.
    pub fn as_interval(&self) -> Result<u32, AccessError> {
        match self.value {
            Value::Interval(v) => Ok(v),
            _ => Err(self.wrong_type(ItemType::Interval)),
        }
    }
}
