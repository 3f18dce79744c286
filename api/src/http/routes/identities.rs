//! Machine identities: `POST /api/v1/identities`, `GET /api/v1/identities`
//! (the caller's organization; all of them for the super admin), `GET|DELETE
//! /api/v1/identities/{identityId}`. Organization admins manage them; any
//! identity may read itself.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::universal_auth::administered_identity;
use crate::http::auth::Caller;
use crate::http::auth::provision;
use crate::http::auth::records::{self, ClientSecret, Identity, OrgRole, Records};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateIdentityRequest {
    pub name: String,
    /// Defaults to the caller's organization.
    pub organization_id: Option<Uuid>,
    /// `member` (default) or `admin` of the organization.
    pub role: Option<OrgRole>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityView {
    pub id: Uuid,
    pub name: String,
    pub organization_id: Uuid,
    pub role: OrgRole,
    pub auth_methods: Vec<String>,
    pub created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct IdentityResponse {
    pub identity: IdentityView,
}

#[derive(Serialize, ToSchema)]
pub struct IdentitiesResponse {
    pub identities: Vec<IdentityView>,
}

pub fn view(i: &Identity) -> IdentityView {
    IdentityView {
        id: i.id,
        name: i.name.clone(),
        organization_id: i.organization_id,
        role: i.org_role,
        auth_methods: if i.universal_auth_client_id.is_some() {
            vec!["universal-auth".to_owned()]
        } else {
            Vec::new()
        },
        created_at: i.created_at,
    }
}

/// Creates a machine identity in an organization.
#[utoipa::path(post, path = "/api/v1/identities", tag = "identities",
    request_body = CreateIdentityRequest,
    responses((status = 200, body = IdentityResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateIdentityRequest>,
) -> Result<ApiJson<IdentityResponse>, ApiError> {
    let organization = body
        .organization_id
        .unwrap_or(caller.identity().organization_id);
    caller.require_org_admin(organization)?;
    super::organizations::existing(&state, organization).await?;
    let identity = provision::create_identity(
        &state.kms,
        &caller.actor(),
        &body.name,
        organization,
        body.role.unwrap_or(OrgRole::Member),
        false,
    )
    .await?;
    Ok(ApiJson(IdentityResponse {
        identity: view(&identity),
    }))
}

/// Identities of the caller's organization.
#[utoipa::path(get, path = "/api/v1/identities", tag = "identities",
    responses((status = 200, body = IdentitiesResponse), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<IdentitiesResponse>, ApiError> {
    caller.require_org_admin(caller.identity().organization_id)?;
    let all = Records::system(&state.kms)
        .list::<Identity>(records::IDENTITY)
        .await?;
    let identities = all
        .iter()
        .filter(|(i, _)| {
            caller.is_super_admin() || i.organization_id == caller.identity().organization_id
        })
        .map(|(i, _)| view(i))
        .collect();
    Ok(ApiJson(IdentitiesResponse { identities }))
}

/// One identity: itself, or one its organization admin manages.
#[utoipa::path(get, path = "/api/v1/identities/{identityId}", tag = "identities",
    params(("identityId" = Uuid, Path)),
    responses((status = 200, body = IdentityResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(identity_id): ApiPath<Uuid>,
) -> Result<ApiJson<IdentityResponse>, ApiError> {
    if identity_id == caller.id() {
        return Ok(ApiJson(IdentityResponse {
            identity: view(caller.identity()),
        }));
    }
    let (identity, _) = administered_identity(&state, &caller, identity_id).await?;
    Ok(ApiJson(IdentityResponse {
        identity: view(&identity),
    }))
}

/// Deletes an identity, its Universal Auth settings and client secrets; its
/// tokens stop working at once on this node (within the session cache TTL
/// elsewhere).
#[utoipa::path(delete, path = "/api/v1/identities/{identityId}", tag = "identities",
    params(("identityId" = Uuid, Path)),
    responses((status = 200, body = IdentityResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(identity_id): ApiPath<Uuid>,
) -> Result<ApiJson<IdentityResponse>, ApiError> {
    let (identity, revision) = administered_identity(&state, &caller, identity_id).await?;
    if identity.super_admin {
        return Err(ApiError::forbidden(
            "the super admin identity cannot be deleted",
        ));
    }
    let actor = caller.actor();
    let system = Records::system(&state.kms);
    // The identity first: once it is gone no token or secret of it works,
    // whatever happens to the rest.
    system
        .delete(
            &actor,
            records::IDENTITY,
            &identity.id.to_string(),
            revision,
        )
        .await?;
    state.auth.invalidate();
    for (secret, rev) in system.list::<ClientSecret>(records::CLIENT_SECRET).await? {
        if secret.identity_id == identity.id {
            system
                .delete(&actor, records::CLIENT_SECRET, &secret.id.to_string(), rev)
                .await?;
        }
    }
    if let Some(client) = identity.universal_auth_client_id
        && let Some((_, rev)) = system
            .get::<serde_json::Value>(records::UNIVERSAL_AUTH, &client.to_string())
            .await?
    {
        system
            .delete(&actor, records::UNIVERSAL_AUTH, &client.to_string(), rev)
            .await?;
    }
    Ok(ApiJson(IdentityResponse {
        identity: view(&identity),
    }))
}
