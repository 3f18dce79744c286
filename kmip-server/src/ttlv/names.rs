//! Tables of named values (enumerations and masks) and the macros that the
//! generated `kmip_1_4.rs` uses to declare them.

use super::Tag;
use super::kmip_1_4::{enums, masks};

/// One named value of an enumeration or one bit of a mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamedValue {
    pub value: u32,
    /// As written in the KMIP specification ("Symmetric Key").
    pub kmip_name: &'static str,
    /// Normalised for the XML and JSON encodings ("SymmetricKey").
    pub xml_name: &'static str,
}

fn by_value(values: &'static [NamedValue], value: u32) -> Option<&'static NamedValue> {
    values.iter().find(|v| v.value == value)
}

fn by_xml_name(values: &'static [NamedValue], name: &str) -> Option<&'static NamedValue> {
    values.iter().find(|v| v.xml_name == name)
}

/// A KMIP enumeration: its names, the tags whose values it defines, and its
/// values.
#[derive(Debug)]
pub struct EnumDef {
    pub kmip_name: &'static str,
    pub xml_name: &'static str,
    pub tags: &'static [Tag],
    pub values: &'static [NamedValue],
}

impl EnumDef {
    /// The enumeration that defines the values of items tagged `tag`.
    pub fn for_tag(tag: Tag) -> Option<&'static EnumDef> {
        enums::ALL.iter().copied().find(|e| e.tags.contains(&tag))
    }

    pub fn by_value(&self, value: u32) -> Option<&'static NamedValue> {
        by_value(self.values, value)
    }

    pub fn by_xml_name(&self, name: &str) -> Option<&'static NamedValue> {
        by_xml_name(self.values, name)
    }
}

/// A KMIP bit mask (an Integer whose bits have names).
#[derive(Debug)]
pub struct MaskDef {
    pub kmip_name: &'static str,
    pub xml_name: &'static str,
    pub tags: &'static [Tag],
    pub bits: &'static [NamedValue],
}

impl MaskDef {
    /// The mask that names the bits of items tagged `tag`.
    pub fn for_tag(tag: Tag) -> Option<&'static MaskDef> {
        masks::ALL.iter().copied().find(|m| m.tags.contains(&tag))
    }

    pub fn by_value(&self, bit: u32) -> Option<&'static NamedValue> {
        by_value(self.bits, bit)
    }

    pub fn by_xml_name(&self, name: &str) -> Option<&'static NamedValue> {
        by_xml_name(self.bits, name)
    }
}

/// Declares an enumeration newtype with a constant per value, usable in
/// `match` patterns.
macro_rules! kmip_enum {
    ($(#[$doc:meta])* $ty:ident, $kmip:literal, $xml:literal, [$($tag:ident),*],
     { $($konst:ident = $val:literal, $vk:literal, $vx:literal;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $ty(pub u32);

        impl $ty {
            $(#[doc = $vk] pub const $konst: Self = Self($val);)*

            /// The enumeration's names and values.
            pub const DEF: &'static EnumDef = &EnumDef {
                kmip_name: $kmip,
                xml_name: $xml,
                tags: &[$(Tag::$tag),*],
                values: &[$(NamedValue { value: $val, kmip_name: $vk, xml_name: $vx }),*],
            };

            /// The value's name in the KMIP specification, if it is defined.
            pub fn kmip_name(self) -> Option<&'static str> {
                Self::DEF.by_value(self.0).map(|v| v.kmip_name)
            }
        }

        impl From<$ty> for u32 {
            fn from(v: $ty) -> u32 {
                v.0
            }
        }
    };
}

/// Declares a mask newtype with a constant per bit.
macro_rules! kmip_mask {
    ($(#[$doc:meta])* $ty:ident, $kmip:literal, $xml:literal, [$($tag:ident),*],
     { $($konst:ident = $val:literal, $vk:literal, $vx:literal;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
        pub struct $ty(pub u32);

        impl $ty {
            $(#[doc = $vk] pub const $konst: Self = Self($val);)*

            /// The mask's names and bits.
            pub const DEF: &'static MaskDef = &MaskDef {
                kmip_name: $kmip,
                xml_name: $xml,
                tags: &[$(Tag::$tag),*],
                bits: &[$(NamedValue { value: $val, kmip_name: $vk, xml_name: $vx }),*],
            };

            /// Whether every bit of `other` is set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }
        }

        impl std::ops::BitOr for $ty {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                Self(self.0 | rhs.0)
            }
        }

        impl From<$ty> for i32 {
            fn from(v: $ty) -> i32 {
                i32::from_be_bytes(v.0.to_be_bytes())
            }
        }
    };
}

pub(crate) use {kmip_enum, kmip_mask};
