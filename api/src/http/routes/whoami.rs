//! `GET /api/v1/auth/whoami`: who the bearer token belongs to.
//!
//! The authenticated no-op: the token check, the trusted-IP check and the
//! per-identity rate limit every route pays (the `Caller` extractor), then
//! an answer built from the cached session alone — no database read, no
//! audit record. It is what a client calls to test its credentials, and
//! the baseline `api_load` measures every other route against, so keep it
//! that cheap.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::auth::Caller;
use crate::http::auth::records::{OrgRole, now};
use crate::http::error::ErrorBody;
use crate::http::json::ApiJson;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhoamiResponse {
    pub identity_id: Uuid,
    pub identity_name: String,
    pub org_id: Uuid,
    pub org_role: OrgRole,
    /// The install's super admin (its first identity).
    pub super_admin: bool,
    /// Always `universal-auth`.
    pub auth_method: &'static str,
    /// The identity's Universal Auth client id.
    pub client_id: Option<Uuid>,
    /// When the token expires, Unix seconds (a renewal moves it; another
    /// node may report the old expiry for up to 30 s, its session cache).
    pub token_expires_at: i64,
    /// Seconds until then.
    pub token_expires_in: i64,
}

/// The caller's identity and token expiry.
#[utoipa::path(get, path = "/api/v1/auth/whoami", tag = "auth",
    responses((status = 200, body = WhoamiResponse), (status = 401, body = ErrorBody)))]
pub async fn whoami(caller: Caller) -> ApiJson<WhoamiResponse> {
    let i = caller.identity();
    let expires_at = caller.session.expires_at;
    ApiJson(WhoamiResponse {
        identity_id: i.id,
        identity_name: i.name.clone(),
        org_id: i.organization_id,
        org_role: i.org_role,
        super_admin: i.super_admin,
        auth_method: "universal-auth",
        client_id: i.universal_auth_client_id,
        token_expires_at: expires_at,
        token_expires_in: expires_at.saturating_sub(now()).max(0),
    })
}
