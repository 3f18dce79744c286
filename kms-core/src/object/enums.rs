//! KMIP enumerations used by the attribute model.
//!
//! The discriminants are the KMIP 1.4 values (section 9.1.3.2), so the KMIP
//! codec converts without a lookup table and the database stores the same
//! numbers a KMIP trace shows.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! kmip_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $value:expr => $text:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[repr(u32)]
        pub enum $name {
            $(#[doc = $text] $variant = $value),+
        }

        impl $name {
            /// Every value this server knows.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The KMIP enumeration value.
            pub const fn to_kmip(self) -> u32 {
                self as u32
            }

            /// The variant for a KMIP enumeration value, if this server knows it.
            pub fn from_kmip(value: u32) -> Option<Self> {
                match value {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The name the KMIP specification uses.
            pub const fn kmip_name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.kmip_name())
            }
        }
    };
}

pub(crate) use kmip_enum;

kmip_enum!(
    /// KMIP Object Type. Split Key, Template and PGP Key are not stored by this
    /// server; the KMIP layer refuses them as the specification says.
    ObjectType {
        Certificate = 1 => "Certificate",
        SymmetricKey = 2 => "Symmetric Key",
        PublicKey = 3 => "Public Key",
        PrivateKey = 4 => "Private Key",
        SecretData = 7 => "Secret Data",
        OpaqueObject = 8 => "Opaque Object",
    }
);

kmip_enum!(
    /// KMIP Cryptographic Algorithm, limited to what Strongroom implements.
    /// Ed25519 has no value in KMIP 1.x; it uses the KMIP 2.0 value.
    CryptographicAlgorithm {
        // Kept and served for clients that encrypt with it themselves;
        // this server does not encrypt with 3DES (see `crypto`).
        TripleDes = 2 => "3DES",
        Aes = 3 => "AES",
        Rsa = 4 => "RSA",
        Ecdsa = 6 => "ECDSA",
        HmacSha256 = 9 => "HMAC-SHA256",
        HmacSha384 = 10 => "HMAC-SHA384",
        HmacSha512 = 11 => "HMAC-SHA512",
        Ec = 26 => "EC",
        Ed25519 = 56 => "Ed25519",
    }
);

kmip_enum!(
    /// KMIP Name Type.
    NameType {
        UninterpretedTextString = 1 => "Uninterpreted Text String",
        Uri = 2 => "URI",
    }
);

kmip_enum!(
    /// KMIP Link Type.
    LinkType {
        CertificateLink = 0x101 => "Certificate Link",
        PublicKeyLink = 0x102 => "Public Key Link",
        PrivateKeyLink = 0x103 => "Private Key Link",
        DerivationBaseObjectLink = 0x104 => "Derivation Base Object Link",
        DerivedKeyLink = 0x105 => "Derived Key Link",
        ReplacementObjectLink = 0x106 => "Replacement Object Link",
        ReplacedObjectLink = 0x107 => "Replaced Object Link",
        ParentLink = 0x108 => "Parent Link",
        ChildLink = 0x109 => "Child Link",
        PreviousLink = 0x10A => "Previous Link",
        NextLink = 0x10B => "Next Link",
    }
);

kmip_enum!(
    /// KMIP Revocation Reason Code.
    RevocationReasonCode {
        Unspecified = 1 => "Unspecified",
        KeyCompromise = 2 => "Key Compromise",
        CaCompromise = 3 => "CA Compromise",
        AffiliationChanged = 4 => "Affiliation Changed",
        Superseded = 5 => "Superseded",
        CessationOfOperation = 6 => "Cessation of Operation",
        PrivilegeWithdrawn = 7 => "Privilege Withdrawn",
    }
);

kmip_enum!(
    /// KMIP Hashing Algorithm (the ones this server computes).
    HashingAlgorithm {
        Sha1 = 4 => "SHA-1",
        Sha224 = 5 => "SHA-224",
        Sha256 = 6 => "SHA-256",
        Sha384 = 7 => "SHA-384",
        Sha512 = 8 => "SHA-512",
    }
);

kmip_enum!(
    /// KMIP Block Cipher Mode.
    BlockCipherMode {
        Cbc = 1 => "CBC",
        Ecb = 2 => "ECB",
        Ctr = 6 => "CTR",
        Gcm = 9 => "GCM",
        AesKeyWrapPadding = 12 => "AESKeyWrapPadding",
        NistKeyWrap = 13 => "NISTKeyWrap",
    }
);

kmip_enum!(
    /// KMIP Padding Method.
    PaddingMethod {
        None = 1 => "None",
        Oaep = 2 => "OAEP",
        Pkcs5 = 3 => "PKCS5",
        Pkcs1v15 = 8 => "PKCS1 v1.5",
        Pss = 10 => "PSS",
    }
);

kmip_enum!(
    /// KMIP Recommended Curve (the curves this server implements), with the
    /// KMIP 1.4 values (§9.1.3.2.5: P-256 is 7, P-384 0x0A, P-521 0x0D).
    /// Stored attributes name the variant, never the number, so correcting
    /// the numbers changed only the wire.
    RecommendedCurve {
        P256 = 0x07 => "P-256",
        P384 = 0x0A => "P-384",
        P521 = 0x0D => "P-521",
    }
);

kmip_enum!(
    /// KMIP Key Format Type recorded in a Digest attribute.
    KeyFormatType {
        Raw = 1 => "Raw",
        Opaque = 2 => "Opaque",
        Pkcs1 = 3 => "PKCS#1",
        Pkcs8 = 4 => "PKCS#8",
        X509 = 5 => "X.509",
        TransparentSymmetricKey = 7 => "Transparent Symmetric Key",
    }
);

kmip_enum!(
    /// KMIP Secret Data Type.
    SecretDataType {
        Password = 1 => "Password",
        Seed = 2 => "Seed",
    }
);

kmip_enum!(
    /// KMIP Usage Limits Unit (§9.1.3.2.31): what a Usage Limits count counts.
    UsageLimitsUnit {
        Byte = 1 => "Byte",
        Object = 2 => "Object",
    }
);

kmip_enum!(
    /// KMIP Alternative Name Type (§9.1.3.2.34, KMIP 1.2 and later).
    AlternativeNameType {
        UninterpretedTextString = 1 => "Uninterpreted Text String",
        Uri = 2 => "URI",
        ObjectSerialNumber = 3 => "Object Serial Number",
        EmailAddress = 4 => "Email Address",
        DnsName = 5 => "DNS Name",
        X500DistinguishedName = 6 => "X.500 Distinguished Name",
        IpAddress = 7 => "IP Address",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The KMIP 1.4 values (kmip_1_4.json), and the stored form, which is
    /// the variant's name and so did not change when the values were fixed.
    #[test]
    fn recommended_curve_values_are_kmip_1_4() {
        assert_eq!(RecommendedCurve::P256.to_kmip(), 0x07);
        assert_eq!(RecommendedCurve::P384.to_kmip(), 0x0A);
        assert_eq!(RecommendedCurve::P521.to_kmip(), 0x0D);
        assert_eq!(RecommendedCurve::from_kmip(3), None);
        assert_eq!(
            serde_json::to_string(&RecommendedCurve::P384).unwrap(),
            "\"P384\""
        );
    }
}
