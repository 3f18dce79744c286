//! Item tags: three bytes, big-endian on the wire.

use std::fmt;

use super::kmip_1_4::TAGS;

/// A TTLV item tag. Only the low 24 bits are meaningful; the decoder only
/// produces tags whose first byte is `0x42` (KMIP) or `0x54` (extensions).
///
/// Every KMIP 1.4 tag has a named constant (`Tag::UNIQUE_IDENTIFIER`),
/// generated from `shared/kmip/kmip_1_4.json`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub u32);

impl Tag {
    /// The first byte of every tag defined by the KMIP specification.
    pub const KMIP_PREFIX: u8 = 0x42;
    /// The first byte of every extension tag.
    pub const EXTENSION_PREFIX: u8 = 0x54;

    /// The tag's value (24 bits).
    pub const fn value(self) -> u32 {
        self.0
    }

    /// Whether the first byte is one the specification allows (0x42 or 0x54).
    pub const fn is_valid(self) -> bool {
        let prefix = self.0 >> 16;
        self.0 <= 0x00ff_ffff
            && (prefix == Self::KMIP_PREFIX as u32 || prefix == Self::EXTENSION_PREFIX as u32)
    }

    /// The tag's name in the KMIP specification ("Unique Identifier"), if it
    /// is a KMIP 1.4 tag.
    pub fn kmip_name(self) -> Option<&'static str> {
        self.entry().map(|(_, kmip, _)| *kmip)
    }

    /// The tag's normalised name used by the XML and JSON encodings
    /// ("UniqueIdentifier"), if it is a KMIP 1.4 tag.
    pub fn xml_name(self) -> Option<&'static str> {
        self.entry().map(|(_, _, xml)| *xml)
    }

    /// The tag whose KMIP name is `name` ("Cryptographic Algorithm").
    pub fn from_kmip_name(name: &str) -> Option<Tag> {
        TAGS.iter()
            .find(|(_, kmip, _)| *kmip == name)
            .map(|(v, _, _)| Tag(*v))
    }

    /// The tag whose normalised XML name is `name` ("CryptographicAlgorithm").
    pub fn from_xml_name(name: &str) -> Option<Tag> {
        TAGS.iter()
            .find(|(_, _, xml)| *xml == name)
            .map(|(v, _, _)| Tag(*v))
    }

    fn entry(self) -> Option<&'static (u32, &'static str, &'static str)> {
        // TAGS is sorted by value (the drift test checks it).
        TAGS.binary_search_by_key(&self.0, |(v, _, _)| *v)
            .ok()
            .and_then(|i| TAGS.get(i))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.xml_name() {
            Some(name) => write!(f, "{name} (0x{:06X})", self.0),
            None => write!(f, "0x{:06X}", self.0),
        }
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
