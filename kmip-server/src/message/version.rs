//! Protocol versions: which ones this server speaks, and what each allows.

use std::fmt;

use crate::ttlv::{Tag, Ttlv};

use super::error::{OpResult, OperationError};

/// A KMIP protocol version (KMIP 1.4 §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtocolVersion {
    pub major: i32,
    pub minor: i32,
}

impl ProtocolVersion {
    pub const V1_0: Self = Self::new(1, 0);
    pub const V1_1: Self = Self::new(1, 1);
    pub const V1_2: Self = Self::new(1, 2);
    pub const V1_3: Self = Self::new(1, 3);
    pub const V1_4: Self = Self::new(1, 4);

    /// Every version this server speaks, most preferred first (the order
    /// Discover Versions answers with).
    pub const SUPPORTED: [Self; 5] = [Self::V1_4, Self::V1_3, Self::V1_2, Self::V1_1, Self::V1_0];

    pub const fn new(major: i32, minor: i32) -> Self {
        Self { major, minor }
    }

    pub fn is_supported(self) -> bool {
        Self::SUPPORTED.contains(&self)
    }

    /// Reads a Protocol Version structure.
    pub fn from_ttlv(item: &Ttlv) -> OpResult<Self> {
        Ok(Self {
            major: item.required(Tag::PROTOCOL_VERSION_MAJOR)?.as_i32()?,
            minor: item.required(Tag::PROTOCOL_VERSION_MINOR)?.as_i32()?,
        })
    }

    pub fn to_ttlv(self) -> Ttlv {
        Ttlv::structure(
            Tag::PROTOCOL_VERSION,
            vec![
                Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, self.major),
                Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, self.minor),
            ],
        )
    }

    /// The version a request is processed and answered at. KMIP 1.4 §11.1:
    /// another major version is an Invalid Message; a later minor version of
    /// 1 is processed as 1.4, the newest we know, with whatever it adds
    /// refused as unknown.
    pub fn negotiate(requested: Self) -> OpResult<Self> {
        match requested {
            v if v.is_supported() => Ok(v),
            v if v.major == 1 && v.minor > 4 => Ok(Self::V1_4),
            v => Err(OperationError::InvalidMessage(format!(
                "protocol version {v} is not supported; this server speaks 1.0 to 1.4"
            ))),
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}
