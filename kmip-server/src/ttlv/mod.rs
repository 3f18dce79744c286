//! # TTLV — the KMIP binary encoding (KMIP 1.4 §9.1)
//!
//! Every KMIP message is one item: a 3-byte **tag**, a 1-byte **type**, a
//! 4-byte big-endian **length** of the value, and the **value**, padded with
//! zeros to a multiple of 8 bytes. A Structure's value is the concatenation
//! of its children.
//!
//! This module is the server's own codec (the `kmip-protocol` crate only
//! serializes requests and parses responses, so it serves as the test
//! client). It has four parts:
//!
//! - the tree: [`Ttlv`] (a [`Tag`] and a [`Value`]) with accessors for the
//!   message layer ([`Ttlv::required`], [`Ttlv::as_text`], …) whose errors
//!   name the tag and what was expected;
//! - [`decode`]: strict and bounded by [`Limits`]. Lengths must match their
//!   type, padding must be present and zero, Booleans must be 0 or 1, Text
//!   Strings must be UTF-8, Big Integers minimal, structures exactly filled
//!   by their children, tags must start with 0x42 or 0x54, and nothing may
//!   follow the message. Depth, item count and message size are capped. The
//!   decoder never recurses, never indexes unchecked and never allocates
//!   more than the bytes it has already seen justify;
//! - [`encode`]: deterministic, minimal padding, one allocation;
//! - framing: [`read_message`] reads one message from a stream, refusing an
//!   oversized declared length before allocating; [`split_frame`] does the
//!   same check on a buffer for a streaming parser.
//!
//! Tag, enumeration and mask constants for KMIP 1.4 ([`Tag`]'s associated
//! constants, [`enums`], [`masks`]) are generated from
//! `shared/kmip/kmip_1_4.json` into `kmip_1_4.rs`; the test
//! `ttlv_generated` regenerates them and fails on any drift.
//!
//! Byte Strings and Big Integers can hold key material: they are zeroized
//! on drop and never printed by `Debug`; nor is a Password.

mod access;
mod decode;
mod encode;
mod error;
mod frame;
#[rustfmt::skip]
mod kmip_1_4;
mod limits;
mod names;
mod tag;
mod value;

use std::fmt;

pub use decode::decode;
pub use encode::{MAX_ENCODE_DEPTH, encode, encode_into, encoded_len};
pub use error::{AccessError, EncodeError, TtlvError};
pub use frame::{FrameError, HEADER_LEN, read_message, split_frame};
pub use kmip_1_4::{enums, masks};
pub use limits::Limits;
pub use names::{EnumDef, MaskDef, NamedValue};
pub use tag::Tag;
pub use value::{BigInteger, ItemType, Value};

/// One TTLV item: a tag and its value (a structure holds its children).
#[derive(Clone, PartialEq, Eq)]
pub struct Ttlv {
    pub tag: Tag,
    pub value: Value,
}

impl Ttlv {
    pub fn new(tag: Tag, value: Value) -> Self {
        Ttlv { tag, value }
    }

    pub fn structure(tag: Tag, children: Vec<Ttlv>) -> Self {
        Self::new(tag, Value::Structure(children))
    }

    pub fn integer(tag: Tag, v: i32) -> Self {
        Self::new(tag, Value::Integer(v))
    }

    pub fn long_integer(tag: Tag, v: i64) -> Self {
        Self::new(tag, Value::LongInteger(v))
    }

    pub fn enumeration(tag: Tag, v: impl Into<u32>) -> Self {
        Self::new(tag, Value::Enumeration(v.into()))
    }

    pub fn boolean(tag: Tag, v: bool) -> Self {
        Self::new(tag, Value::Boolean(v))
    }

    pub fn text(tag: Tag, v: impl Into<String>) -> Self {
        Self::new(tag, Value::TextString(v.into()))
    }

    pub fn bytes(tag: Tag, v: impl Into<Vec<u8>>) -> Self {
        Self::new(tag, Value::bytes(v))
    }

    pub fn date_time(tag: Tag, posix_seconds: i64) -> Self {
        Self::new(tag, Value::DateTime(posix_seconds))
    }

    pub fn interval(tag: Tag, seconds: u32) -> Self {
        Self::new(tag, Value::Interval(seconds))
    }

    /// The item type of the value.
    pub fn item_type(&self) -> ItemType {
        self.value.item_type()
    }
}

impl fmt::Debug for Ttlv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tag == Tag::PASSWORD {
            return write!(f, "{:?}: <redacted>", self.tag);
        }
        write!(f, "{:?}: {:?}", self.tag, self.value)
    }
}
