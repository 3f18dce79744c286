//! Universal Auth, at Infisical's paths and in Infisical's shapes:
//!
//! * `POST /api/v1/auth/universal-auth/login` `{clientId, clientSecret}` →
//!   `{accessToken, expiresIn, accessTokenMaxTTL, tokenType: "Bearer"}`;
//!   rate-limited per client IP address;
//! * `POST /api/v1/auth/token/renew` `{accessToken}` → the same shape;
//! * `POST /api/v1/auth/token/revoke` `{accessToken}` → `{message}`;
//! * `POST|GET|PATCH /api/v1/auth/universal-auth/identities/{identityId}`:
//!   attach, read, change an identity's settings (organization admins);
//! * `POST|GET …/{identityId}/client-secrets`, `POST
//!   …/client-secrets/{clientSecretId}/revoke`.

use axum::extract::State;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::auth::Caller;
use crate::http::auth::caller::Peer;
use crate::http::auth::provision::{self, SecretLimits};
use crate::http::auth::records::{self, ClientSecret, Identity, Records, UniversalAuth, now};
use crate::http::auth::service::Issued;
use crate::http::auth::trusted_ips::{self, TrustedIp};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

fn expose<S: Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose_secret())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    pub client_id: String,
    #[schema(value_type = String)]
    pub client_secret: SecretString,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(value_type = String)]
    pub access_token: SecretString,
}

/// An access token and how long it lives.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub access_token: SecretString,
    /// Seconds until it expires (unless renewed).
    pub expires_in: u64,
    /// Seconds from issue past which no renewal extends it.
    #[serde(rename = "accessTokenMaxTTL")]
    pub access_token_max_ttl: u64,
    /// Always `Bearer`.
    pub token_type: String,
}

impl From<Issued> for TokenResponse {
    fn from(i: Issued) -> Self {
        Self {
            access_token: i.token,
            expires_in: i.expires_in,
            access_token_max_ttl: i.max_ttl,
            token_type: "Bearer".into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: String,
}

fn credential_len(s: &str) -> Result<(), ApiError> {
    if s.len() > crate::http::auth::secrets::MAX_CREDENTIAL_LEN {
        return Err(ApiError::invalid("credential too long"));
    }
    Ok(())
}

/// Logs in with a client id and secret.
#[utoipa::path(post, path = "/api/v1/auth/universal-auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<ApiJson<TokenResponse>, ApiError> {
    if let Some(ip) = peer {
        state.rate.logins.take(&ip)?;
    }
    credential_len(&body.client_id)?;
    credential_len(body.client_secret.expose_secret())?;
    let issued = state
        .auth
        .login(&body.client_id, &body.client_secret, peer)
        .await?;
    Ok(ApiJson(issued.into()))
}

/// Extends a token's life (never past its max TTL).
#[utoipa::path(post, path = "/api/v1/auth/token/renew", tag = "auth",
    request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn renew(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<ApiJson<TokenResponse>, ApiError> {
    credential_len(body.access_token.expose_secret())?;
    let issued = state.auth.renew(&body.access_token, peer).await?;
    Ok(ApiJson(issued.into()))
}

/// Revokes a token at once.
#[utoipa::path(post, path = "/api/v1/auth/token/revoke", tag = "auth",
    request_body = TokenRequest,
    responses((status = 200, body = MessageResponse), (status = 401, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<ApiJson<MessageResponse>, ApiError> {
    credential_len(body.access_token.expose_secret())?;
    state.auth.revoke(&body.access_token, peer).await?;
    Ok(ApiJson(MessageResponse {
        message: "Successfully revoked access token".into(),
    }))
}

/// Attach or change settings (every field optional; unknown fields refused).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UniversalAuthRequest {
    pub client_secret_trusted_ips: Option<Vec<TrustedIp>>,
    pub access_token_trusted_ips: Option<Vec<TrustedIp>>,
    #[serde(rename = "accessTokenTTL")]
    pub access_token_ttl: Option<u64>,
    #[serde(rename = "accessTokenMaxTTL")]
    pub access_token_max_ttl: Option<u64>,
    /// Only 0 (unlimited) is accepted: per-token use limits are not
    /// implemented, and a limit silently ignored would be worse.
    pub access_token_num_uses_limit: Option<u64>,
    pub lockout_enabled: Option<bool>,
    pub lockout_threshold: Option<u32>,
    pub lockout_duration_seconds: Option<u64>,
    pub lockout_counter_reset_seconds: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UniversalAuthView {
    pub id: Uuid,
    pub client_id: Uuid,
    pub identity_id: Uuid,
    #[serde(rename = "accessTokenTTL")]
    pub access_token_ttl: u64,
    #[serde(rename = "accessTokenMaxTTL")]
    pub access_token_max_ttl: u64,
    pub access_token_num_uses_limit: u64,
    pub client_secret_trusted_ips: Vec<TrustedIp>,
    pub access_token_trusted_ips: Vec<TrustedIp>,
    pub lockout_enabled: bool,
    pub lockout_threshold: u32,
    pub lockout_duration_seconds: u64,
    pub lockout_counter_reset_seconds: u64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UniversalAuthResponse {
    pub identity_universal_auth: UniversalAuthView,
}

fn view(c: &UniversalAuth) -> UniversalAuthResponse {
    UniversalAuthResponse {
        identity_universal_auth: UniversalAuthView {
            id: c.client_id,
            client_id: c.client_id,
            identity_id: c.identity_id,
            access_token_ttl: c.access_token_ttl,
            access_token_max_ttl: c.access_token_max_ttl,
            access_token_num_uses_limit: 0,
            client_secret_trusted_ips: trusted_ips::render(&c.client_secret_trusted_ips),
            access_token_trusted_ips: trusted_ips::render(&c.access_token_trusted_ips),
            lockout_enabled: c.lockout_enabled,
            lockout_threshold: c.lockout_threshold,
            lockout_duration_seconds: c.lockout_duration_seconds,
            lockout_counter_reset_seconds: c.lockout_counter_reset_seconds,
            created_at: c.created_at,
            updated_at: c.updated_at,
        },
    }
}

fn apply(config: &mut UniversalAuth, req: &UniversalAuthRequest) -> Result<(), ApiError> {
    if req.access_token_num_uses_limit.is_some_and(|n| n != 0) {
        return Err(ApiError::invalid(
            "accessTokenNumUsesLimit is not supported: only 0 (unlimited)",
        ));
    }
    config.client_secret_trusted_ips = provision::ranges_or(
        req.client_secret_trusted_ips.as_deref(),
        &config.client_secret_trusted_ips,
    )?;
    config.access_token_trusted_ips = provision::ranges_or(
        req.access_token_trusted_ips.as_deref(),
        &config.access_token_trusted_ips,
    )?;
    if let Some(v) = req.access_token_ttl {
        config.access_token_ttl = v;
    }
    if let Some(v) = req.access_token_max_ttl {
        config.access_token_max_ttl = v;
    }
    if let Some(v) = req.lockout_enabled {
        config.lockout_enabled = v;
    }
    if let Some(v) = req.lockout_threshold {
        config.lockout_threshold = v;
    }
    if let Some(v) = req.lockout_duration_seconds {
        config.lockout_duration_seconds = v;
    }
    if let Some(v) = req.lockout_counter_reset_seconds {
        config.lockout_counter_reset_seconds = v;
    }
    config.updated_at = now();
    provision::check_ttls(config)
}

/// An identity the caller administers: 404 if it cannot see it, 403 if it
/// can but is no admin there. Only the super admin manages the super
/// admin's credentials.
pub async fn administered_identity(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<(Identity, i64), ApiError> {
    let gone = || ApiError::not_found("no such identity");
    let (identity, revision) = Records::system(&state.kms)
        .get::<Identity>(records::IDENTITY, &id.to_string())
        .await?
        .ok_or_else(gone)?;
    if !caller.is_super_admin() && caller.identity().organization_id != identity.organization_id {
        return Err(gone());
    }
    caller.require_org_admin(identity.organization_id)?;
    if identity.super_admin && !caller.is_super_admin() {
        return Err(ApiError::forbidden(
            "only the super admin manages this identity",
        ));
    }
    Ok((identity, revision))
}

async fn config_of(
    state: &AppState,
    identity: &Identity,
) -> Result<(UniversalAuth, i64), ApiError> {
    let client = identity
        .universal_auth_client_id
        .ok_or_else(|| ApiError::not_found("this identity has no universal auth"))?;
    Records::system(&state.kms)
        .get::<UniversalAuth>(records::UNIVERSAL_AUTH, &client.to_string())
        .await?
        .ok_or_else(|| ApiError::not_found("this identity has no universal auth"))
}

/// Attaches Universal Auth to an identity.
#[utoipa::path(post, path = "/api/v1/auth/universal-auth/identities/{identityId}", tag = "universal-auth",
    params(("identityId" = Uuid, Path)), request_body = UniversalAuthRequest,
    responses((status = 200, body = UniversalAuthResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(identity_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UniversalAuthRequest>,
) -> Result<ApiJson<UniversalAuthResponse>, ApiError> {
    let (identity, revision) = administered_identity(&state, &caller, identity_id).await?;
    if identity.universal_auth_client_id.is_some() {
        return Err(ApiError::conflict(
            "this identity already has universal auth",
        ));
    }
    let mut config = provision::default_universal_auth(identity.id);
    apply(&mut config, &body)?;
    provision::attach_universal_auth(&state.kms, &caller.actor(), &identity, revision, &config)
        .await?;
    state.auth.invalidate();
    Ok(ApiJson(view(&config)))
}

/// An identity's Universal Auth settings.
#[utoipa::path(get, path = "/api/v1/auth/universal-auth/identities/{identityId}", tag = "universal-auth",
    params(("identityId" = Uuid, Path)),
    responses((status = 200, body = UniversalAuthResponse), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(identity_id): ApiPath<Uuid>,
) -> Result<ApiJson<UniversalAuthResponse>, ApiError> {
    let (identity, _) = administered_identity(&state, &caller, identity_id).await?;
    let (config, _) = config_of(&state, &identity).await?;
    Ok(ApiJson(view(&config)))
}

/// Changes an identity's Universal Auth settings.
#[utoipa::path(patch, path = "/api/v1/auth/universal-auth/identities/{identityId}", tag = "universal-auth",
    params(("identityId" = Uuid, Path)), request_body = UniversalAuthRequest,
    responses((status = 200, body = UniversalAuthResponse), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(identity_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UniversalAuthRequest>,
) -> Result<ApiJson<UniversalAuthResponse>, ApiError> {
    let (identity, _) = administered_identity(&state, &caller, identity_id).await?;
    let (mut config, revision) = config_of(&state, &identity).await?;
    apply(&mut config, &body)?;
    Records::system(&state.kms)
        .put(
            &caller.actor(),
            records::UNIVERSAL_AUTH,
            &config.client_id.to_string(),
            &config,
            Some(revision),
        )
        .await?;
    state.auth.invalidate();
    Ok(ApiJson(view(&config)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientSecretRequest {
    #[serde(default)]
    pub description: String,
    /// 0 or absent: unlimited.
    #[serde(default)]
    pub num_uses_limit: u64,
    /// Seconds; 0 or absent: never expires.
    #[serde(default)]
    pub ttl: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecretView {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub description: String,
    pub client_secret_prefix: String,
    pub client_secret_num_uses: u64,
    pub client_secret_num_uses_limit: u64,
    #[serde(rename = "clientSecretTTL")]
    pub client_secret_ttl: u64,
    pub is_client_secret_revoked: bool,
    pub created_at: i64,
}

fn secret_view(s: &ClientSecret) -> ClientSecretView {
    ClientSecretView {
        id: s.id,
        identity_id: s.identity_id,
        description: s.description.clone(),
        client_secret_prefix: s.client_secret_prefix.clone(),
        client_secret_num_uses: s.num_uses,
        client_secret_num_uses_limit: s.num_uses_limit,
        client_secret_ttl: s.ttl,
        is_client_secret_revoked: s.is_revoked,
        created_at: s.created_at,
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewClientSecretResponse {
    /// The secret: shown this once, stored only as a hash.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub client_secret: SecretString,
    pub client_secret_data: ClientSecretView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecretsResponse {
    pub client_secret_data: Vec<ClientSecretView>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecretResponse {
    pub client_secret_data: ClientSecretView,
}

/// Creates a client secret for an identity.
#[utoipa::path(post, path = "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets", tag = "universal-auth",
    params(("identityId" = Uuid, Path)), request_body = ClientSecretRequest,
    responses((status = 200, body = NewClientSecretResponse), (status = 404, body = ErrorBody)))]
pub async fn create_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(identity_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ClientSecretRequest>,
) -> Result<ApiJson<NewClientSecretResponse>, ApiError> {
    let (identity, _) = administered_identity(&state, &caller, identity_id).await?;
    config_of(&state, &identity).await?;
    let limits = SecretLimits {
        description: body.description,
        ttl: body.ttl,
        num_uses_limit: body.num_uses_limit,
    };
    let (record, secret) =
        provision::create_client_secret(&state.kms, &caller.actor(), identity.id, limits).await?;
    Ok(ApiJson(NewClientSecretResponse {
        client_secret: secret,
        client_secret_data: secret_view(&record),
    }))
}

/// An identity's client secrets (never the secrets themselves).
#[utoipa::path(get, path = "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets", tag = "universal-auth",
    params(("identityId" = Uuid, Path)),
    responses((status = 200, body = ClientSecretsResponse), (status = 404, body = ErrorBody)))]
pub async fn list_secrets(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(identity_id): ApiPath<Uuid>,
) -> Result<ApiJson<ClientSecretsResponse>, ApiError> {
    let (identity, _) = administered_identity(&state, &caller, identity_id).await?;
    let all = Records::system(&state.kms)
        .list::<ClientSecret>(records::CLIENT_SECRET)
        .await?;
    let client_secret_data = all
        .iter()
        .filter(|(s, _)| s.identity_id == identity.id)
        .map(|(s, _)| secret_view(s))
        .collect();
    Ok(ApiJson(ClientSecretsResponse { client_secret_data }))
}

/// Revokes a client secret: no further login with it.
#[utoipa::path(post, path = "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}/revoke", tag = "universal-auth",
    params(("identityId" = Uuid, Path), ("clientSecretId" = Uuid, Path)),
    responses((status = 200, body = ClientSecretResponse), (status = 404, body = ErrorBody)))]
pub async fn revoke_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((identity_id, secret_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<ApiJson<ClientSecretResponse>, ApiError> {
    let (identity, _) = administered_identity(&state, &caller, identity_id).await?;
    let system = Records::system(&state.kms);
    let (mut secret, revision) = system
        .get::<ClientSecret>(records::CLIENT_SECRET, &secret_id.to_string())
        .await?
        .filter(|(s, _)| s.identity_id == identity.id)
        .ok_or_else(|| ApiError::not_found("no such client secret"))?;
    secret.is_revoked = true;
    system
        .put(
            &caller.actor(),
            records::CLIENT_SECRET,
            &secret_id.to_string(),
            &secret,
            Some(revision),
        )
        .await?;
    Ok(ApiJson(ClientSecretResponse {
        client_secret_data: secret_view(&secret),
    }))
}
