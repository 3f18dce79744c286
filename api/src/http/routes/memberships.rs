//! Identity memberships of a project, with their roles (Infisical's v2
//! shapes: `{roles: [{role: "viewer"}]}`):
//!
//! * `GET /api/v1/projects/{projectId}/identity-memberships` — `memberships:read`;
//! * `POST|GET|PATCH|DELETE /api/v1/projects/{projectId}/identity-memberships/{identityId}`
//!   — `memberships:create|read|edit|delete`.
//!
//! The identity must belong to the project's organization (else 404). No
//! one grants more than they hold: the roles given must carry only
//! permissions the caller has in the project.

use axum::extract::State;
use kms_core::ids::ProjectId;
use kms_core::store::ProjectRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::auth::caller::role_permissions;
use crate::http::auth::permissions;
use crate::http::auth::records::{self, CustomRole, Identity, Membership, Records, now};
use crate::http::auth::{Action, Caller, Permission, Resource};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RoleRef {
    /// A role slug: `admin`, `developer`, `viewer` or a custom role's.
    pub role: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MembershipRequest {
    pub roles: Option<Vec<RoleRef>>,
    /// One role (Infisical's older form).
    pub role: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IdentityRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipView {
    pub identity_id: Uuid,
    pub project_id: Uuid,
    pub identity: IdentityRef,
    pub roles: Vec<RoleRef>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipResponse {
    pub identity_membership: MembershipView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipsResponse {
    pub identity_memberships: Vec<MembershipView>,
}

fn view(project: ProjectId, m: &Membership, identity: &Identity) -> MembershipView {
    MembershipView {
        identity_id: m.identity_id,
        project_id: *project.as_uuid(),
        identity: IdentityRef {
            id: identity.id,
            name: identity.name.clone(),
        },
        roles: m
            .roles
            .iter()
            .map(|r| RoleRef { role: r.clone() })
            .collect(),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// An identity of the project's organization, or 404.
async fn org_identity(
    state: &AppState,
    project: &ProjectRecord,
    id: Uuid,
) -> Result<Identity, ApiError> {
    Records::system(&state.kms)
        .get::<Identity>(records::IDENTITY, &id.to_string())
        .await?
        .map(|(i, _)| i)
        .filter(|i| i.organization_id == *project.organization.as_uuid())
        .ok_or_else(|| ApiError::not_found("no such identity"))
}

/// The requested role slugs, checked: they exist, and grant nothing the
/// caller lacks.
async fn checked_roles(
    state: &AppState,
    caller: &Caller,
    project: ProjectId,
    body: &MembershipRequest,
) -> Result<Vec<String>, ApiError> {
    let mut roles: Vec<String> = body
        .roles
        .iter()
        .flatten()
        .map(|r| r.role.clone())
        .collect();
    roles.extend(body.role.iter().cloned());
    roles.sort();
    roles.dedup();
    if roles.is_empty() || roles.len() > 16 {
        return Err(ApiError::invalid("give 1 to 16 roles"));
    }
    let members = Records::of(&state.kms, project);
    for slug in &roles {
        let known = permissions::built_in(slug).is_some()
            || members
                .get::<CustomRole>(records::ROLE, slug)
                .await?
                .is_some();
        if !known {
            return Err(ApiError::invalid(format!(
                "no role {slug:?} in this project"
            )));
        }
    }
    let granted = role_permissions(&members, &roles).await?;
    let held = caller.permissions(state, project).await?;
    if !granted.is_subset(&held) {
        return Err(ApiError::forbidden(
            "you cannot grant permissions you do not hold",
        ));
    }
    Ok(roles)
}

/// The project's identity memberships.
#[utoipa::path(get, path = "/api/v1/projects/{projectId}/identity-memberships", tag = "memberships",
    params(("projectId" = Uuid, Path)),
    responses((status = 200, body = MembershipsResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project_id): ApiPath<Uuid>,
) -> Result<ApiJson<MembershipsResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Memberships, Action::Read),
        )
        .await?;
    let system = Records::system(&state.kms);
    let mut identity_memberships = Vec::new();
    for (m, _) in Records::of(&state.kms, project)
        .list::<Membership>(records::MEMBERSHIP)
        .await?
    {
        if let Some((identity, _)) = system
            .get::<Identity>(records::IDENTITY, &m.identity_id.to_string())
            .await?
        {
            identity_memberships.push(view(project, &m, &identity));
        }
    }
    Ok(ApiJson(MembershipsResponse {
        identity_memberships,
    }))
}

/// Adds an identity to the project with roles.
#[utoipa::path(post, path = "/api/v1/projects/{projectId}/identity-memberships/{identityId}", tag = "memberships",
    params(("projectId" = Uuid, Path), ("identityId" = Uuid, Path)), request_body = MembershipRequest,
    responses((status = 200, body = MembershipResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project_id, identity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<MembershipRequest>,
) -> Result<ApiJson<MembershipResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    let record = caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Memberships, Action::Create),
        )
        .await?;
    let identity = org_identity(&state, &record, identity_id).await?;
    let roles = checked_roles(&state, &caller, project, &body).await?;
    let at = now();
    let membership = Membership {
        identity_id,
        roles,
        created_at: at,
        updated_at: at,
    };
    Records::of(&state.kms, project)
        .put(
            &caller.actor(),
            records::MEMBERSHIP,
            &identity_id.to_string(),
            &membership,
            None,
        )
        .await
        .map_err(|e| {
            if e.code == "conflict" {
                ApiError::conflict("this identity is already a member")
            } else {
                e
            }
        })?;
    state.auth.invalidate();
    Ok(ApiJson(MembershipResponse {
        identity_membership: view(project, &membership, &identity),
    }))
}

async fn existing(
    state: &AppState,
    project: ProjectId,
    identity_id: Uuid,
) -> Result<(Membership, i64), ApiError> {
    Records::of(&state.kms, project)
        .get::<Membership>(records::MEMBERSHIP, &identity_id.to_string())
        .await?
        .ok_or_else(|| ApiError::not_found("no such membership"))
}

/// One identity's membership.
#[utoipa::path(get, path = "/api/v1/projects/{projectId}/identity-memberships/{identityId}", tag = "memberships",
    params(("projectId" = Uuid, Path), ("identityId" = Uuid, Path)),
    responses((status = 200, body = MembershipResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project_id, identity_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<ApiJson<MembershipResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    let record = caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Memberships, Action::Read),
        )
        .await?;
    let identity = org_identity(&state, &record, identity_id).await?;
    let (membership, _) = existing(&state, project, identity_id).await?;
    Ok(ApiJson(MembershipResponse {
        identity_membership: view(project, &membership, &identity),
    }))
}

/// Replaces a membership's roles.
#[utoipa::path(patch, path = "/api/v1/projects/{projectId}/identity-memberships/{identityId}", tag = "memberships",
    params(("projectId" = Uuid, Path), ("identityId" = Uuid, Path)), request_body = MembershipRequest,
    responses((status = 200, body = MembershipResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project_id, identity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<MembershipRequest>,
) -> Result<ApiJson<MembershipResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    let record = caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Memberships, Action::Edit),
        )
        .await?;
    let identity = org_identity(&state, &record, identity_id).await?;
    let (mut membership, revision) = existing(&state, project, identity_id).await?;
    membership.roles = checked_roles(&state, &caller, project, &body).await?;
    membership.updated_at = now();
    Records::of(&state.kms, project)
        .put(
            &caller.actor(),
            records::MEMBERSHIP,
            &identity_id.to_string(),
            &membership,
            Some(revision),
        )
        .await?;
    state.auth.invalidate();
    Ok(ApiJson(MembershipResponse {
        identity_membership: view(project, &membership, &identity),
    }))
}

/// Removes an identity from the project.
#[utoipa::path(delete, path = "/api/v1/projects/{projectId}/identity-memberships/{identityId}", tag = "memberships",
    params(("projectId" = Uuid, Path), ("identityId" = Uuid, Path)),
    responses((status = 200, body = MembershipResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project_id, identity_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<ApiJson<MembershipResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    let record = caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Memberships, Action::Delete),
        )
        .await?;
    let identity = org_identity(&state, &record, identity_id).await?;
    let (membership, revision) = existing(&state, project, identity_id).await?;
    Records::of(&state.kms, project)
        .delete(
            &caller.actor(),
            records::MEMBERSHIP,
            &identity_id.to_string(),
            revision,
        )
        .await?;
    state.auth.invalidate();
    Ok(ApiJson(MembershipResponse {
        identity_membership: view(project, &membership, &identity),
    }))
}
