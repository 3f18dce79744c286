//! Creating identities, Universal Auth settings and client secrets.

use ipnet::IpNet;
use kms_core::service::{Actor, Kms};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::records::{self, ClientSecret, Identity, OrgRole, Records, UniversalAuth, now};
use super::{secrets, trusted_ips};
use crate::http::ApiError;

/// Infisical's defaults: 30 days, lockout after 3 failures within 30 s for
/// 5 minutes.
pub const DEFAULT_TOKEN_TTL: u64 = 2_592_000;
pub const DEFAULT_LOCKOUT_THRESHOLD: u32 = 3;
pub const DEFAULT_LOCKOUT_DURATION: u64 = 300;
pub const DEFAULT_LOCKOUT_RESET: u64 = 30;
/// Longest TTL anything accepts: ten years.
pub const MAX_TTL: u64 = 315_360_000;

pub fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid("names are 1 to 255 printable characters"));
    }
    Ok(())
}

pub async fn create_identity(
    kms: &Kms,
    actor: &Actor,
    name: &str,
    organization: Uuid,
    org_role: OrgRole,
    super_admin: bool,
) -> Result<Identity, ApiError> {
    check_name(name)?;
    let identity = Identity {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        organization_id: organization,
        org_role,
        super_admin,
        universal_auth_client_id: None,
        created_at: now(),
    };
    Records::system(kms)
        .put(
            actor,
            records::IDENTITY,
            &identity.id.to_string(),
            &identity,
            None,
        )
        .await?;
    Ok(identity)
}

/// Universal Auth settings before the caller's changes.
pub fn default_universal_auth(identity: Uuid) -> UniversalAuth {
    let at = now();
    UniversalAuth {
        client_id: Uuid::new_v4(),
        identity_id: identity,
        access_token_ttl: DEFAULT_TOKEN_TTL,
        access_token_max_ttl: DEFAULT_TOKEN_TTL,
        client_secret_trusted_ips: trusted_ips::everywhere(),
        access_token_trusted_ips: trusted_ips::everywhere(),
        lockout_enabled: true,
        lockout_threshold: DEFAULT_LOCKOUT_THRESHOLD,
        lockout_duration_seconds: DEFAULT_LOCKOUT_DURATION,
        lockout_counter_reset_seconds: DEFAULT_LOCKOUT_RESET,
        created_at: at,
        updated_at: at,
    }
}

/// Checks TTLs: both within bounds, the TTL not above the max TTL.
pub fn check_ttls(config: &UniversalAuth) -> Result<(), ApiError> {
    if config.access_token_ttl == 0 || config.access_token_max_ttl == 0 {
        return Err(ApiError::invalid(
            "accessTokenTTL and accessTokenMaxTTL must be positive",
        ));
    }
    if config.access_token_ttl > MAX_TTL || config.access_token_max_ttl > MAX_TTL {
        return Err(ApiError::invalid(format!(
            "TTLs are at most {MAX_TTL} seconds"
        )));
    }
    if config.access_token_ttl > config.access_token_max_ttl {
        return Err(ApiError::invalid(
            "accessTokenTTL cannot be greater than accessTokenMaxTTL",
        ));
    }
    if config.lockout_threshold == 0
        || config.lockout_duration_seconds > MAX_TTL
        || config.lockout_counter_reset_seconds > MAX_TTL
    {
        return Err(ApiError::invalid(
            "lockoutThreshold must be positive and lockout durations reasonable",
        ));
    }
    Ok(())
}

/// Attaches Universal Auth to an identity that has none.
pub async fn attach_universal_auth(
    kms: &Kms,
    actor: &Actor,
    identity: &Identity,
    revision: i64,
    config: &UniversalAuth,
) -> Result<(), ApiError> {
    check_ttls(config)?;
    let system = Records::system(kms);
    system
        .put(
            actor,
            records::UNIVERSAL_AUTH,
            &config.client_id.to_string(),
            config,
            None,
        )
        .await?;
    let mut updated = identity.clone();
    updated.universal_auth_client_id = Some(config.client_id);
    system
        .put(
            actor,
            records::IDENTITY,
            &identity.id.to_string(),
            &updated,
            Some(revision),
        )
        .await?;
    Ok(())
}

/// Limits of a new client secret.
pub struct SecretLimits {
    pub description: String,
    pub ttl: u64,
    pub num_uses_limit: u64,
}

/// A new client secret: the record (hash only) and the secret, once.
pub async fn create_client_secret(
    kms: &Kms,
    actor: &Actor,
    identity: Uuid,
    limits: SecretLimits,
) -> Result<(ClientSecret, SecretString), ApiError> {
    if limits.ttl > MAX_TTL || limits.description.len() > 1024 {
        return Err(ApiError::invalid(format!(
            "ttl is at most {MAX_TTL} seconds and description 1024 bytes"
        )));
    }
    let id = Uuid::new_v4();
    let secret = secrets::new_client_secret(id)?;
    let record = ClientSecret {
        id,
        identity_id: identity,
        description: limits.description,
        client_secret_prefix: secrets::display_prefix(secret.expose_secret()),
        hash: secrets::hash(&secret).await?,
        ttl: limits.ttl,
        num_uses_limit: limits.num_uses_limit,
        num_uses: 0,
        is_revoked: false,
        created_at: now(),
    };
    Records::system(kms)
        .put(
            actor,
            records::CLIENT_SECRET,
            &id.to_string(),
            &record,
            None,
        )
        .await?;
    Ok((record, secret))
}

/// Parsed trusted ranges, or the current ones when the request gave none.
pub fn ranges_or(
    given: Option<&[trusted_ips::TrustedIp]>,
    current: &[IpNet],
) -> Result<Vec<IpNet>, ApiError> {
    match given {
        Some(list) => trusted_ips::parse(list),
        None => Ok(current.to_vec()),
    }
}
