//! Organizations: `POST /api/v1/organizations` (the super admin), `GET
//! /api/v1/organizations` (those the caller belongs to), `GET
//! /api/v1/organizations/{organizationId}`.
//!
//! kms-core keeps organizations (id, name); the API also keeps a record per
//! organization it knows, so it can list them without a store query
//! kms-core does not offer.

use axum::extract::State;
use kms_core::ids::OrganizationId;
use kms_core::service::{Actor, Kms};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::auth::Caller;
use crate::http::auth::provision::check_name;
use crate::http::auth::records::{self, OrganizationDoc, Records, now};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationView {
    pub id: Uuid,
    pub name: String,
    pub created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationResponse {
    pub organization: OrganizationView,
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationsResponse {
    pub organizations: Vec<OrganizationView>,
}

/// The organization, or 404.
pub async fn existing(state: &AppState, id: Uuid) -> Result<OrganizationView, ApiError> {
    let record = state
        .kms
        .store()
        .organization(OrganizationId::from_uuid(id))
        .await
        .map_err(kms_core::Error::from)?
        .ok_or_else(|| ApiError::not_found("no such organization"))?;
    Ok(OrganizationView {
        id,
        name: record.name,
        created_at: record.created_at,
    })
}

/// Creates an organization in kms-core and records it for listing.
pub async fn create_organization(kms: &Kms, actor: &Actor, name: &str) -> Result<Uuid, ApiError> {
    check_name(name)?;
    let id = *kms.create_organization(actor, name).await?.as_uuid();
    remember(kms, actor, id, name).await?;
    Ok(id)
}

/// Records an organization made elsewhere (the dev default) for listing.
pub async fn remember(kms: &Kms, actor: &Actor, id: Uuid, name: &str) -> Result<(), ApiError> {
    let system = Records::system(kms);
    if system
        .get::<OrganizationDoc>(records::ORGANIZATION, &id.to_string())
        .await?
        .is_none()
    {
        let doc = OrganizationDoc {
            id,
            name: name.to_owned(),
            created_at: now(),
        };
        system
            .put(actor, records::ORGANIZATION, &id.to_string(), &doc, None)
            .await?;
    }
    Ok(())
}

/// Creates an organization (super admin only).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations",
    request_body = CreateOrganizationRequest,
    responses((status = 200, body = OrganizationResponse), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateOrganizationRequest>,
) -> Result<ApiJson<OrganizationResponse>, ApiError> {
    if !caller.is_super_admin() {
        return Err(ApiError::forbidden(
            "only the super admin creates organizations",
        ));
    }
    let id = create_organization(&state.kms, &caller.actor(), &body.name).await?;
    Ok(ApiJson(OrganizationResponse {
        organization: existing(&state, id).await?,
    }))
}

/// The organizations the caller belongs to (all, for the super admin).
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations",
    responses((status = 200, body = OrganizationsResponse)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<OrganizationsResponse>, ApiError> {
    let organizations = if caller.is_super_admin() {
        Records::system(&state.kms)
            .list::<OrganizationDoc>(records::ORGANIZATION)
            .await?
            .into_iter()
            .map(|(o, _)| OrganizationView {
                id: o.id,
                name: o.name,
                created_at: o.created_at,
            })
            .collect()
    } else {
        vec![existing(&state, caller.identity().organization_id).await?]
    };
    Ok(ApiJson(OrganizationsResponse { organizations }))
}

/// One organization the caller belongs to.
#[utoipa::path(get, path = "/api/v1/organizations/{organizationId}", tag = "organizations",
    params(("organizationId" = Uuid, Path)),
    responses((status = 200, body = OrganizationResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<ApiJson<OrganizationResponse>, ApiError> {
    if !caller.is_super_admin() && caller.identity().organization_id != id {
        return Err(ApiError::not_found("no such organization"));
    }
    Ok(ApiJson(OrganizationResponse {
        organization: existing(&state, id).await?,
    }))
}
