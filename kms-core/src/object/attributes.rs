//! The attributes of a managed object, as KMIP 1.4 section 3 defines them.
//!
//! Attributes are typed: a date is an [`OffsetDateTime`], a usage mask is a
//! bit set, a link names its type. The database keeps the indexed ones in
//! columns and the whole set as JSON; both are covered by the row's MAC, so an
//! edit made outside Strongroom is detected when the row is read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::enums::*;
use crate::error::{Error, Result};
use crate::ids::{ObjectId, ProjectId};
use crate::lifecycle::{Operation, State};

bitflags::bitflags! {
    /// KMIP Cryptographic Usage Mask (section 3.19).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct UsageMask: u32 {
        const SIGN = 0x1;
        const VERIFY = 0x2;
        const ENCRYPT = 0x4;
        const DECRYPT = 0x8;
        const WRAP_KEY = 0x10;
        const UNWRAP_KEY = 0x20;
        const EXPORT = 0x40;
        const MAC_GENERATE = 0x80;
        const MAC_VERIFY = 0x100;
        const DERIVE_KEY = 0x200;
        const CONTENT_COMMITMENT = 0x400;
        const KEY_AGREEMENT = 0x800;
        const CERTIFICATE_SIGN = 0x1000;
        const CRL_SIGN = 0x2000;
        const GENERATE_CRYPTOGRAM = 0x4000;
        const VALIDATE_CRYPTOGRAM = 0x8000;
        const TRANSLATE_ENCRYPT = 0x10000;
        const TRANSLATE_DECRYPT = 0x20000;
        const TRANSLATE_WRAP = 0x40000;
        const TRANSLATE_UNWRAP = 0x80000;
    }
}

/// KMIP Name: a value and its type. An object may have several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name {
    pub value: String,
    pub name_type: NameType,
}

impl Name {
    /// A plain text name.
    pub fn text(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            name_type: NameType::UninterpretedTextString,
        }
    }
}

/// KMIP Link: a typed reference to another object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub link_type: LinkType,
    pub linked_object_id: String,
}

/// KMIP Digest of the object's key material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub hashing_algorithm: HashingAlgorithm,
    #[serde(with = "hex_bytes")]
    pub digest_value: Vec<u8>,
    pub key_format_type: Option<KeyFormatType>,
}

/// KMIP Revocation Reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationReason {
    pub code: RevocationReasonCode,
    pub message: Option<String>,
}

/// KMIP Cryptographic Parameters (the fields this server acts on).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CryptographicParameters {
    pub block_cipher_mode: Option<BlockCipherMode>,
    pub padding_method: Option<PaddingMethod>,
    pub hashing_algorithm: Option<HashingAlgorithm>,
    pub recommended_curve: Option<RecommendedCurve>,
    pub tag_length: Option<u32>,
    // The fields below were added for KMIP's cryptographic operations; a row
    // written before them reads back with `None`.
    /// The algorithm the parameters are for (KMIP lets an AES key carry
    /// HMAC parameters, say).
    pub cryptographic_algorithm: Option<CryptographicAlgorithm>,
    /// The server draws the IV.
    pub random_iv: Option<bool>,
    /// PSS salt length in bytes.
    pub salt_length: Option<u32>,
    /// MGF1's hash (OAEP, PSS); KMIP's default is SHA-1.
    pub mask_generator_hashing_algorithm: Option<HashingAlgorithm>,
    /// OAEP's encoding parameter P (the label).
    pub p_source: Option<Vec<u8>>,
}

/// KMIP Usage Limits (§3.21): how much protection a key may still apply.
/// `count` is what is left of `total`; every protecting use (and every Get
/// Usage Allocation) takes its cost from it in the same database
/// transaction that records the new count, so concurrent uses never spend
/// one unit twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageLimits {
    pub total: i64,
    pub count: i64,
    pub unit: UsageLimitsUnit,
}

impl UsageLimits {
    /// Limits as a client sets them: the count starts at the total (§3.21:
    /// the server ignores a count given when the object is made).
    pub fn new(total: i64, unit: UsageLimitsUnit) -> Self {
        Self {
            total,
            count: total,
            unit,
        }
    }

    /// The units one use of `bytes` bytes costs.
    pub fn cost(&self, bytes: usize) -> i64 {
        match self.unit {
            UsageLimitsUnit::Byte => i64::try_from(bytes).unwrap_or(i64::MAX),
            UsageLimitsUnit::Object => 1,
        }
    }

    /// Whether any unit has been spent: from then on §3.21 freezes the
    /// total and forbids deleting the attribute.
    pub fn started(&self) -> bool {
        self.count != self.total
    }
}

/// KMIP Alternative Name (§3.40, KMIP 1.2 and later). An object may have several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlternativeName {
    pub value: String,
    pub name_type: AlternativeNameType,
}

/// KMIP Application Specific Information (§3.36): a namespace and the
/// application's data in it. An object may have several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSpecificInformation {
    pub namespace: String,
    pub data: Option<String>,
}

/// When a key may apply and process protection (KMIP §3.25 Process Start
/// Date, §3.26 Protect Stop Date), on top of what its state allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsePeriod {
    pub process_start: Option<OffsetDateTime>,
    pub protect_stop: Option<OffsetDateTime>,
}

impl UsePeriod {
    /// Refuses protection once the Protect Stop Date is reached and
    /// processing before the Process Start Date.
    pub fn check(&self, id: ObjectId, operation: Operation, now: OffsetDateTime) -> Result<()> {
        let refused = match operation {
            Operation::Protect if self.protect_stop.is_some_and(|d| d <= now) => {
                Some("its Protect Stop Date has passed")
            }
            Operation::Process if self.process_start.is_some_and(|d| d > now) => {
                Some("its Process Start Date has not been reached")
            }
            _ => None,
        };
        match refused {
            Some(reason) => Err(Error::OutsideUsePeriod { id, reason }),
            None => Ok(()),
        }
    }
}

/// The value of a custom attribute (KMIP "x-" attributes), typed as KMIP types it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value")]
pub enum CustomValue {
    Text(String),
    Integer(i32),
    LongInteger(i64),
    Boolean(bool),
    Enumeration(u32),
    Interval(u32),
    #[serde(with = "time::serde::timestamp")]
    DateTime(OffsetDateTime),
    #[serde(with = "hex_bytes")]
    Bytes(Vec<u8>),
}

/// Bounds on client-supplied attribute values; the network layers enforce
/// their own message limits, these keep a single object's row small.
pub mod limits {
    pub const MAX_NAMES: usize = 32;
    pub const MAX_TEXT: usize = 1024;
    pub const MAX_CUSTOM: usize = 64;
    pub const MAX_LINKS: usize = 64;
    pub const MAX_GROUPS: usize = 32;
}

/// The attributes of one managed object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    pub unique_identifier: ObjectId,
    pub project: ProjectId,
    pub object_type: ObjectType,
    pub names: Vec<Name>,
    pub cryptographic_algorithm: Option<CryptographicAlgorithm>,
    pub cryptographic_length: Option<u32>,
    pub cryptographic_parameters: Option<CryptographicParameters>,
    pub cryptographic_usage_mask: UsageMask,
    pub state: State,
    #[serde(with = "time::serde::timestamp")]
    pub initial_date: OffsetDateTime,
    #[serde(with = "time::serde::timestamp::option", default)]
    pub activation_date: Option<OffsetDateTime>,
    #[serde(with = "time::serde::timestamp::option", default)]
    pub deactivation_date: Option<OffsetDateTime>,
    #[serde(with = "time::serde::timestamp::option", default)]
    pub destroy_date: Option<OffsetDateTime>,
    #[serde(with = "time::serde::timestamp::option", default)]
    pub compromise_occurrence_date: Option<OffsetDateTime>,
    #[serde(with = "time::serde::timestamp::option", default)]
    pub compromise_date: Option<OffsetDateTime>,
    #[serde(with = "time::serde::timestamp")]
    pub last_change_date: OffsetDateTime,
    pub object_groups: Vec<String>,
    pub links: Vec<Link>,
    pub contact_information: Option<String>,
    pub digests: Vec<Digest>,
    pub revocation_reason: Option<RevocationReason>,
    pub custom: BTreeMap<String, CustomValue>,
    /// KMIP 1.4 §3.25; keys only. Fixed once reached.
    #[serde(with = "time::serde::timestamp::option", default)]
    pub process_start_date: Option<OffsetDateTime>,
    /// KMIP 1.4 §3.26; keys only. Fixed once reached.
    #[serde(with = "time::serde::timestamp::option", default)]
    pub protect_stop_date: Option<OffsetDateTime>,
    /// KMIP 1.4 §3.32: set by Archive, removed by Recover. An object with
    /// an Archive Date is off-line: only Recover, Locate with the archival
    /// Storage Status Mask bit and the date-driven sweep reach it.
    #[serde(with = "time::serde::timestamp::option", default)]
    pub archive_date: Option<OffsetDateTime>,
    /// KMIP 1.4 §3.21; keys only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limits: Option<UsageLimits>,
    /// KMIP 1.4 §3.40 (KMIP 1.2 and later).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternative_names: Vec<AlternativeName>,
    /// KMIP 1.4 §3.36.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub application_specific_information: Vec<ApplicationSpecificInformation>,
    /// Set by the server on an HSM-resident key: the provider that holds it
    /// (`pkcs11`). Such a key is sensitive and not extractable (KMIP 1.4
    /// Sensitive = true, Extractable = false); its material is never served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_in: Option<String>,
}

impl Attributes {
    /// Attributes for a new object of `object_type` in `project`, created now.
    /// The KMIP dates are whole seconds, so `now` is truncated to a second.
    pub fn new(project: ProjectId, object_type: ObjectType, now: OffsetDateTime) -> Self {
        let now = truncate_to_second(now);
        Self {
            unique_identifier: ObjectId::generate(),
            project,
            object_type,
            names: Vec::new(),
            cryptographic_algorithm: None,
            cryptographic_length: None,
            cryptographic_parameters: None,
            cryptographic_usage_mask: UsageMask::empty(),
            state: State::PreActive,
            initial_date: now,
            activation_date: None,
            deactivation_date: None,
            destroy_date: None,
            compromise_occurrence_date: None,
            compromise_date: None,
            last_change_date: now,
            object_groups: Vec::new(),
            links: Vec::new(),
            contact_information: None,
            digests: Vec::new(),
            revocation_reason: None,
            custom: BTreeMap::new(),
            process_start_date: None,
            protect_stop_date: None,
            archive_date: None,
            usage_limits: None,
            alternative_names: Vec::new(),
            application_specific_information: Vec::new(),
            resident_in: None,
        }
    }

    /// The first name, which the API shows as the object's name.
    pub fn primary_name(&self) -> Option<&str> {
        self.names.first().map(|n| n.value.as_str())
    }

    /// Whether the object is in archival storage (off-line).
    pub fn is_archived(&self) -> bool {
        self.archive_date.is_some()
    }

    /// Refuses every use of an archived object: it must be recovered first.
    pub fn require_online(&self) -> Result<()> {
        match self.is_archived() {
            true => Err(Error::ObjectArchived(self.unique_identifier)),
            false => Ok(()),
        }
    }

    /// Its Process Start and Protect Stop Dates.
    pub fn use_period(&self) -> UsePeriod {
        UsePeriod {
            process_start: self.process_start_date,
            protect_stop: self.protect_stop_date,
        }
    }

    /// Whether the object is a key, the only objects Usage Limits, Process
    /// Start Date and Protect Stop Date apply to.
    fn is_key(&self) -> bool {
        matches!(
            self.object_type,
            ObjectType::SymmetricKey | ObjectType::PrivateKey | ObjectType::PublicKey
        )
    }

    /// Checks the bounds and the rules a client cannot be trusted to keep.
    pub fn validate(&self) -> Result<()> {
        if self.names.len() > limits::MAX_NAMES {
            return Err(bad("Name", format!("at most {} names", limits::MAX_NAMES)));
        }
        for name in &self.names {
            if name.value.is_empty() || name.value.len() > limits::MAX_TEXT {
                return Err(bad("Name", "must be 1 to 1024 bytes"));
            }
        }
        if self.object_groups.len() > limits::MAX_GROUPS
            || self
                .object_groups
                .iter()
                .any(|g| g.is_empty() || g.len() > limits::MAX_TEXT)
        {
            return Err(bad("Object Group", "at most 32 groups of 1 to 1024 bytes"));
        }
        if self.links.len() > limits::MAX_LINKS {
            return Err(bad("Link", format!("at most {} links", limits::MAX_LINKS)));
        }
        if self
            .contact_information
            .as_ref()
            .is_some_and(|c| c.len() > limits::MAX_TEXT)
        {
            return Err(bad("Contact Information", "at most 1024 bytes"));
        }
        if self.custom.len() > limits::MAX_CUSTOM {
            return Err(bad(
                "Custom Attribute",
                format!("at most {}", limits::MAX_CUSTOM),
            ));
        }
        for (key, value) in &self.custom {
            validate_custom_name(key)?;
            let len = match value {
                CustomValue::Text(s) => s.len(),
                CustomValue::Bytes(b) => b.len(),
                _ => 0,
            };
            if len > limits::MAX_TEXT * 4 {
                return Err(bad("Custom Attribute", "value larger than 4 KiB"));
            }
        }
        if let (Some(a), Some(d)) = (self.activation_date, self.deactivation_date)
            && d < a
        {
            return Err(bad("Deactivation Date", "earlier than the Activation Date"));
        }
        self.validate_key_attributes()?;
        self.validate_lists()
    }

    /// Process Start Date, Protect Stop Date and Usage Limits: keys only,
    /// within the lifetime KMIP §3.21, §3.25 and §3.26 allow.
    fn validate_key_attributes(&self) -> Result<()> {
        let keyed = [
            ("Process Start Date", self.process_start_date.is_some()),
            ("Protect Stop Date", self.protect_stop_date.is_some()),
            ("Usage Limits", self.usage_limits.is_some()),
        ];
        for (name, set) in keyed {
            if set && !self.is_key() {
                return Err(bad(
                    name,
                    format!("does not apply to a {}", self.object_type),
                ));
            }
        }
        if let (Some(a), Some(p)) = (self.activation_date, self.process_start_date)
            && p < a
        {
            return Err(bad(
                "Process Start Date",
                "earlier than the Activation Date",
            ));
        }
        if let (Some(d), Some(p)) = (self.deactivation_date, self.protect_stop_date)
            && p > d
        {
            return Err(bad("Protect Stop Date", "later than the Deactivation Date"));
        }
        if let Some(l) = self.usage_limits
            && (l.total < 0 || l.count < 0 || l.count > l.total)
        {
            return Err(bad(
                "Usage Limits",
                "the total must not be negative and the count must be between 0 and the total",
            ));
        }
        Ok(())
    }

    /// Alternative Names and Application Specific Information: bounded
    /// like Names.
    fn validate_lists(&self) -> Result<()> {
        let text_ok = |t: &str| !t.is_empty() && t.len() <= limits::MAX_TEXT;
        if self.alternative_names.len() > limits::MAX_NAMES
            || !self.alternative_names.iter().all(|n| text_ok(&n.value))
        {
            return Err(bad(
                "Alternative Name",
                format!("at most {} names of 1 to 1024 bytes", limits::MAX_NAMES),
            ));
        }
        if self.application_specific_information.len() > limits::MAX_GROUPS
            || !self.application_specific_information.iter().all(|i| {
                text_ok(&i.namespace)
                    && i.data
                        .as_deref()
                        .is_none_or(|d| d.len() <= limits::MAX_TEXT)
            })
        {
            return Err(bad(
                "Application Specific Information",
                format!(
                    "at most {} entries, namespaces of 1 to 1024 bytes and data of at most 1024",
                    limits::MAX_GROUPS
                ),
            ));
        }
        Ok(())
    }
}

fn bad(name: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidAttribute {
        name,
        reason: reason.into(),
    }
}

/// A custom attribute name must start with `x-` (client-defined) or `y-`
/// (server-defined), as KMIP 1.4 section 3.41 requires.
pub fn validate_custom_name(name: &str) -> Result<()> {
    let ok = (name.starts_with("x-") || name.starts_with("y-"))
        && name.len() > 2
        && name.len() <= 255
        && name.chars().all(|c| !c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidAttribute {
            name: "Custom Attribute",
            reason: "name must start with \"x-\" or \"y-\" and be at most 255 bytes".into(),
        })
    }
}

/// KMIP dates have a resolution of one second.
pub fn truncate_to_second(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}
