//! What the API keeps about organizations, identities, credentials, tokens,
//! memberships and roles: kms-core records (MACed, revisioned, audited).
//!
//! In the system project:
//!
//! | kind | key | value |
//! |---|---|---|
//! | `api-organization` | organization id | [`OrganizationDoc`] |
//! | `api-identity` | identity id | [`Identity`] |
//! | `api-universal-auth` | client id | [`UniversalAuth`]: the identity's Universal Auth settings |
//! | `api-client-secret` | client secret id | [`ClientSecret`]: its Argon2id hash, TTL, uses |
//! | `api-token` | hex SHA-256 of the access token | [`AccessToken`] |
//! | `api-project-deleted` | project id | [`Tombstone`] |
//!
//! In each project (so the project's own key authenticates them):
//!
//! | kind | key | value |
//! |---|---|---|
//! | `api-membership` | identity id | [`Membership`] |
//! | `api-role` | role slug | [`CustomRole`] |
//!
//! No record holds a secret: client secrets and tokens are stored as
//! hashes only.

use ipnet::IpNet;
use kms_core::ids::ProjectId;
use kms_core::service::{Actor, Kms, Record};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::permissions::Permission;
use crate::http::ApiError;

pub const ORGANIZATION: &str = "api-organization";
pub const IDENTITY: &str = "api-identity";
pub const UNIVERSAL_AUTH: &str = "api-universal-auth";
pub const CLIENT_SECRET: &str = "api-client-secret";
pub const TOKEN: &str = "api-token";
pub const PROJECT_DELETED: &str = "api-project-deleted";
pub const MEMBERSHIP: &str = "api-membership";
pub const ROLE: &str = "api-role";

/// An organization the API knows by name.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationDoc {
    pub id: Uuid,
    pub name: String,
    pub created_at: i64,
}

/// An identity's standing in its organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OrgRole {
    /// Administers the organization: every project in it, its identities.
    Admin,
    /// Acts only where a project membership lets it.
    Member,
}

/// A machine identity.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub id: Uuid,
    pub name: String,
    pub organization_id: Uuid,
    pub org_role: OrgRole,
    /// The install's first identity: may do anything anywhere, including
    /// creating organizations.
    #[serde(default)]
    pub super_admin: bool,
    /// Its Universal Auth client id, once configured.
    pub universal_auth_client_id: Option<Uuid>,
    pub created_at: i64,
}

/// Universal Auth settings of one identity (Infisical's names).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UniversalAuth {
    pub client_id: Uuid,
    pub identity_id: Uuid,
    /// Seconds; a token lives this long unless renewed.
    pub access_token_ttl: u64,
    /// Seconds; no renewal extends a token past issue + this.
    pub access_token_max_ttl: u64,
    /// Where a client secret may be used from.
    pub client_secret_trusted_ips: Vec<IpNet>,
    /// Where an access token may be used from.
    pub access_token_trusted_ips: Vec<IpNet>,
    pub lockout_enabled: bool,
    /// Failed logins within `lockout_counter_reset_seconds` that lock.
    pub lockout_threshold: u32,
    pub lockout_duration_seconds: u64,
    pub lockout_counter_reset_seconds: u64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A client secret: only its Argon2id hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecret {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub description: String,
    /// The first characters of the secret, to tell secrets apart.
    pub client_secret_prefix: String,
    /// PHC string: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
    pub hash: String,
    /// Seconds after creation it stops working; 0: never.
    pub ttl: u64,
    /// 0: unlimited.
    pub num_uses_limit: u64,
    pub num_uses: u64,
    pub is_revoked: bool,
    pub created_at: i64,
}

/// An issued access token, under the hash of its value.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    pub identity_id: Uuid,
    pub client_secret_id: Uuid,
    /// The login time rounded up to a whole second ([`now_rounded_up`]):
    /// the second the token's TTLs are counted from.
    pub issued_at: i64,
    pub expires_at: i64,
    /// `issued_at + accessTokenMaxTTL`: renewals stop here.
    pub max_expires_at: i64,
    pub ttl: u64,
}

/// Marks a deleted project: it is gone for the API.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    pub deleted_at: i64,
    pub deleted_by: Uuid,
}

/// An identity's membership of a project.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub identity_id: Uuid,
    /// Role slugs: built-in or custom.
    pub roles: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A project's custom role.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomRole {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The time in whole seconds, rounded down: what an expiry is checked
/// against (`now() >= expires_at` means expired).
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The time in whole seconds, rounded up: what an expiry is counted from.
///
/// Expiries are whole seconds and checked against [`now`]. Counted from
/// [`now`] too, a token given `ttl` seconds at 10.9 s would expire at 11 s,
/// a tenth of a second later, and a one-second token could be refused on
/// its first use. Counted from here, it lives at least `ttl` seconds and
/// less than one second more.
pub fn now_rounded_up() -> i64 {
    let t = time::OffsetDateTime::now_utc();
    t.unix_timestamp() + i64::from(t.nanosecond() > 0)
}

/// Typed access to the records of one project (the system project, or a
/// customer project for memberships and roles).
#[derive(Clone)]
pub struct Records {
    kms: Kms,
    project: ProjectId,
}

impl Records {
    pub fn system(kms: &Kms) -> Self {
        Self::of(kms, kms.system_project())
    }

    pub fn of(kms: &Kms, project: ProjectId) -> Self {
        Self {
            kms: kms.clone(),
            project,
        }
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        key: &str,
    ) -> Result<Option<(T, i64)>, ApiError> {
        match self.kms.record(self.project, kind, key).await? {
            Some(r) => Ok(Some((decode(&r)?, r.revision))),
            None => Ok(None),
        }
    }

    pub async fn list<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<(T, i64)>, ApiError> {
        self.kms
            .records(self.project, kind)
            .await?
            .iter()
            .map(|r| Ok((decode(r)?, r.revision)))
            .collect()
    }

    /// Creates (`expected: None`) or replaces the record at `expected`.
    pub async fn put<T: Serialize>(
        &self,
        actor: &Actor,
        kind: &str,
        key: &str,
        value: &T,
        expected: Option<i64>,
    ) -> Result<i64, ApiError> {
        Ok(self
            .kms
            .put_record(actor, self.project, kind, key, value, expected)
            .await?)
    }

    pub async fn delete(
        &self,
        actor: &Actor,
        kind: &str,
        key: &str,
        expected: i64,
    ) -> Result<(), ApiError> {
        Ok(self
            .kms
            .delete_record(actor, self.project, kind, key, expected)
            .await?)
    }
}

fn decode<T: DeserializeOwned>(record: &Record) -> Result<T, ApiError> {
    record
        .decode()
        .map_err(|e| ApiError::internal("a stored record does not decode", &e))
}
