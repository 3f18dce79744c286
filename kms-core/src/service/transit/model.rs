//! What a named key is: the stored document, the view callers get, and the
//! requests that create, change and list keys.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::algorithm::{KeyAlgorithm, KeyUsage};
use super::error::{TransitError, TransitResult};
use crate::ids::{KeyId, ObjectId, OrganizationId, ProjectId};
use crate::service::KeyLocation;

/// Longest key name, in bytes (names are record keys, so they share the
/// records' bound).
pub const MAX_NAME_LEN: usize = crate::service::MAX_RECORD_NAME;

/// Longest description, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 1024;

/// Most versions a key keeps; rotating past it is refused. Bounds the
/// stored document (each version is about 150 bytes of JSON).
pub const MAX_VERSIONS: usize = 1000;

/// Shortest automatic rotation period (as Vault's transit engine).
pub const MIN_AUTO_ROTATE_PERIOD: Duration = Duration::from_secs(3600);

/// One version of a key: the managed object(s) that hold its material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredVersion {
    pub version: u32,
    /// The secret key (AES, HMAC) or the private key (signing keys).
    pub object: ObjectId,
    /// The public key object of a signing key.
    pub public: Option<ObjectId>,
    /// Unix microseconds.
    pub created_at: i64,
}

/// The durable metadata of a named key (record `transit.key/<id>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeyDocument {
    pub id: KeyId,
    pub organization: OrganizationId,
    pub name: String,
    pub description: String,
    pub disabled: bool,
    pub algorithm: KeyAlgorithm,
    pub hsm: bool,
    /// Ascending; version `n` is at index `n - 1`. Never empty.
    pub versions: Vec<StoredVersion>,
    pub min_decryption_version: u32,
    pub auto_rotate_period_secs: Option<u64>,
    /// Unix microseconds.
    pub created_at: i64,
    pub updated_at: i64,
    pub rotated_at: i64,
}

impl KeyDocument {
    /// The newest version.
    pub fn current(&self) -> TransitResult<&StoredVersion> {
        self.versions
            .last()
            .ok_or_else(|| TransitError::Invalid(format!("key {} has no versions", self.id)))
    }

    /// Version `n`, if the key has it.
    pub fn version(&self, n: u32) -> TransitResult<&StoredVersion> {
        let index = usize::try_from(n).ok().and_then(|n| n.checked_sub(1));
        index
            .and_then(|i| self.versions.get(i))
            .filter(|v| v.version == n)
            .ok_or(TransitError::UnknownVersion {
                key: self.id,
                version: n,
            })
    }

    /// Version `n` for decrypting or verifying: it must exist and not be
    /// below the minimum decryption version.
    pub fn readable_version(&self, n: u32) -> TransitResult<&StoredVersion> {
        let v = self.version(n)?;
        if n < self.min_decryption_version {
            return Err(TransitError::VersionTooOld {
                key: self.id,
                version: n,
                minimum: self.min_decryption_version,
            });
        }
        Ok(v)
    }

    /// Whether automatic rotation is due at `now` (Unix microseconds).
    pub fn rotation_due(&self, now: i64) -> bool {
        self.auto_rotate_period_secs.is_some_and(|secs| {
            let period = i64::try_from(secs)
                .unwrap_or(i64::MAX)
                .saturating_mul(1_000_000);
            self.rotated_at.saturating_add(period) <= now
        })
    }

    /// The view callers get.
    pub fn view(&self, project: ProjectId) -> TransitKey {
        TransitKey {
            id: self.id,
            name: self.name.clone(),
            description: self.description.clone(),
            is_disabled: self.disabled,
            organization: self.organization,
            project,
            version: self.versions.last().map_or(0, |v| v.version),
            usage: self.algorithm.usage(),
            algorithm: self.algorithm,
            location: if self.hsm {
                KeyLocation::Hsm
            } else {
                KeyLocation::Software
            },
            min_decryption_version: self.min_decryption_version,
            auto_rotate_period: self.auto_rotate_period_secs.map(Duration::from_secs),
            versions: self
                .versions
                .iter()
                .map(|v| VersionInfo {
                    version: v.version,
                    created_at: from_micros(v.created_at),
                })
                .collect(),
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
            rotated_at: from_micros(self.rotated_at),
        }
    }
}

/// A named key as callers see it (Infisical's key object, plus versions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitKey {
    pub id: KeyId,
    pub name: String,
    pub description: String,
    pub is_disabled: bool,
    pub organization: OrganizationId,
    pub project: ProjectId,
    /// The current (newest) version.
    pub version: u32,
    pub usage: KeyUsage,
    pub algorithm: KeyAlgorithm,
    pub location: KeyLocation,
    pub min_decryption_version: u32,
    pub auto_rotate_period: Option<Duration>,
    pub versions: Vec<VersionInfo>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// When the current version was made.
    pub rotated_at: OffsetDateTime,
}

/// One version, as callers see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    pub version: u32,
    pub created_at: OffsetDateTime,
}

/// A key to create.
#[derive(Clone, Debug)]
pub struct NewKey {
    pub name: String,
    pub description: String,
    pub algorithm: KeyAlgorithm,
    /// If given, must be the algorithm's usage (Infisical sends both).
    pub usage: Option<KeyUsage>,
    /// [`KeyLocation::Hsm`] keeps every version in the configured HSM.
    pub location: KeyLocation,
    pub auto_rotate_period: Option<Duration>,
}

impl NewKey {
    /// A software key with no description and no automatic rotation.
    pub fn new(name: impl Into<String>, algorithm: KeyAlgorithm) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            algorithm,
            usage: None,
            location: KeyLocation::Software,
            auto_rotate_period: None,
        }
    }
}

/// Changes to a key; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct KeyUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_disabled: Option<bool>,
    /// Must be between 1 and the current version.
    pub min_decryption_version: Option<u32>,
    /// `Some(None)` turns automatic rotation off.
    pub auto_rotate_period: Option<Option<Duration>>,
}

/// The field a listing is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrderBy {
    #[default]
    Name,
    CreatedAt,
    UpdatedAt,
}

/// The direction of a listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrderDirection {
    #[default]
    Ascending,
    Descending,
}

/// Largest page a listing returns.
pub const MAX_LIST_LIMIT: u64 = 1000;

/// A page of a project's keys.
#[derive(Clone, Debug)]
pub struct ListQuery {
    pub offset: u64,
    /// At most [`MAX_LIST_LIMIT`].
    pub limit: u64,
    pub order_by: OrderBy,
    pub direction: OrderDirection,
    /// Keys whose name contains this, ignoring ASCII case.
    pub search: Option<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: 100,
            order_by: OrderBy::Name,
            direction: OrderDirection::Ascending,
            search: None,
        }
    }
}

/// One page, and how many keys match in all.
#[derive(Clone, Debug)]
pub struct KeyPage {
    pub keys: Vec<TransitKey>,
    pub total_count: u64,
}

/// Now, in Unix microseconds.
pub(super) fn now_micros() -> i64 {
    micros(OffsetDateTime::now_utc())
}

/// A time in Unix microseconds (saturating far outside the supported range).
pub(super) fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn from_micros(us: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Checks a key name: 1 to [`MAX_NAME_LEN`] bytes, no control characters,
/// no leading or trailing space.
pub(super) fn check_name(name: &str) -> TransitResult<()> {
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || name.chars().any(char::is_control)
        || name.trim() != name
    {
        return Err(TransitError::Invalid(format!(
            "a key name is 1 to {MAX_NAME_LEN} bytes of printable characters, without leading or trailing spaces"
        )));
    }
    Ok(())
}

pub(super) fn check_description(description: &str) -> TransitResult<()> {
    if description.len() > MAX_DESCRIPTION_LEN {
        return Err(TransitError::TooLarge {
            what: "the description (bytes)",
            limit: MAX_DESCRIPTION_LEN,
        });
    }
    Ok(())
}

/// A rotation period in seconds, at least [`MIN_AUTO_ROTATE_PERIOD`].
pub(super) fn check_period(period: Option<Duration>) -> TransitResult<Option<u64>> {
    match period {
        None => Ok(None),
        Some(p) if p < MIN_AUTO_ROTATE_PERIOD => Err(TransitError::Invalid(format!(
            "the automatic rotation period is at least {} seconds",
            MIN_AUTO_ROTATE_PERIOD.as_secs()
        ))),
        Some(p) => Ok(Some(p.as_secs())),
    }
}
