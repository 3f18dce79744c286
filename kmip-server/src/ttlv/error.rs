//! Errors of the codec. Each says what was wrong and where: the byte offset
//! of the item's header in the message and the item's tag when known.

use thiserror::Error;

use super::{ItemType, Tag};

/// Why a byte sequence is not one valid TTLV message.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TtlvError {
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    MessageTooLarge { len: usize, max: usize },
    #[error("empty input: a TTLV item needs at least an 8-byte header")]
    Empty,
    #[error("truncated at byte {offset}: the header of an item needs 8 bytes, {available} remain")]
    TruncatedHeader { offset: usize, available: usize },
    #[error(
        "item {tag} at byte {offset} declares {needed} value bytes (with padding) but only {available} remain in its {container}"
    )]
    Overrun {
        offset: usize,
        tag: Tag,
        needed: u64,
        available: usize,
        container: &'static str,
    },
    #[error("item at byte {offset} has tag 0x{tag:06X}, whose first byte is neither 0x42 nor 0x54")]
    InvalidTag { offset: usize, tag: u32 },
    #[error("item {tag} at byte {offset} has unknown item type 0x{byte:02X}")]
    UnknownItemType { offset: usize, tag: Tag, byte: u8 },
    #[error("item {tag} at byte {offset}: a {item_type} cannot have length {len} ({rule})")]
    BadLength {
        offset: usize,
        tag: Tag,
        item_type: ItemType,
        len: u32,
        rule: &'static str,
    },
    #[error("item {tag} at byte {offset}: padding after the value is not all zero")]
    NonZeroPadding { offset: usize, tag: Tag },
    #[error("item {tag} at byte {offset}: a Boolean must be 0 or 1, found 0x{value:016X}")]
    BadBoolean { offset: usize, tag: Tag, value: u64 },
    #[error("item {tag} at byte {offset}: a Text String is not valid UTF-8")]
    InvalidUtf8 { offset: usize, tag: Tag },
    #[error(
        "item {tag} at byte {offset}: a Big Integer must be sign-extended to the shortest multiple of 8 bytes"
    )]
    NonCanonicalBigInteger { offset: usize, tag: Tag },
    #[error("item {tag} at byte {offset} nests deeper than the limit of {max} levels")]
    TooDeep { offset: usize, tag: Tag, max: usize },
    #[error("item at byte {offset} exceeds the limit of {max} items in one message")]
    TooManyItems { offset: usize, max: usize },
    #[error("{count} bytes follow the message, which ends at byte {offset}")]
    TrailingBytes { offset: usize, count: usize },
}

/// Why a tree cannot be encoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EncodeError {
    #[error("tag 0x{tag:06X} is not a TTLV tag (three bytes, the first 0x42 or 0x54)")]
    InvalidTag { tag: u32 },
    #[error("item {tag} is longer than the 4 GiB a TTLV length can express")]
    TooLong { tag: Tag },
    #[error("item {tag} nests deeper than {max} levels")]
    TooDeep { tag: Tag, max: usize },
}

/// Why an item is not what the message layer asked for.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AccessError {
    #[error("{parent} has no required {tag}")]
    Missing { parent: Tag, tag: Tag },
    #[error("{tag} is a {found}, expected a {expected}")]
    WrongType {
        tag: Tag,
        expected: ItemType,
        found: ItemType,
    },
}
