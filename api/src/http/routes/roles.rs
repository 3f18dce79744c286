//! A project's roles: the three built-in ones (read-only) and custom roles
//! made of permissions.
//!
//! * `GET|POST /api/v1/projects/{projectId}/roles` — `roles:read|create`;
//! * `GET|PATCH|DELETE /api/v1/projects/{projectId}/roles/{roleSlug}` —
//!   `roles:read|edit|delete`.
//!
//! A role can carry only permissions its author holds. A role still held by
//! a membership cannot be deleted (409): deleting it and creating another
//! under the same slug would silently re-grant.

use axum::extract::State;
use kms_core::ids::ProjectId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::auth::permissions::{self, Permission, Permissions};
use crate::http::auth::records::{self, CustomRole, Membership, Records, now};
use crate::http::auth::{Action, Caller, Resource};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// 1–64 of `a-z 0-9 -`; not a built-in role's.
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub permissions: Vec<Permission>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateRoleRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<Vec<Permission>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub built_in: bool,
    pub permissions: Vec<Permission>,
}

#[derive(Serialize, ToSchema)]
pub struct RoleResponse {
    pub role: RoleView,
}

#[derive(Serialize, ToSchema)]
pub struct RolesResponse {
    pub roles: Vec<RoleView>,
}

fn built_in_view(slug: &str) -> Option<RoleView> {
    let permissions = permissions::built_in(slug)?;
    let mut name = slug.to_owned();
    if let Some(first) = name.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    Some(RoleView {
        slug: slug.to_owned(),
        name,
        description: "built-in role".into(),
        built_in: true,
        permissions: permissions.into_iter().collect(),
    })
}

fn custom_view(r: &CustomRole) -> RoleView {
    RoleView {
        slug: r.slug.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        built_in: false,
        permissions: r.permissions.clone(),
    }
}

fn check_slug(slug: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(ApiError::invalid(
            "a role slug is 1 to 64 of a-z, 0-9 and -",
        ));
    }
    if permissions::BUILT_IN.contains(&slug) {
        return Err(ApiError::conflict("built-in roles cannot be redefined"));
    }
    Ok(())
}

/// Deduplicated; refused if it grants more than the caller holds.
async fn checked(
    state: &AppState,
    caller: &Caller,
    project: ProjectId,
    list: Vec<Permission>,
) -> Result<Vec<Permission>, ApiError> {
    let set: Permissions = list.into_iter().collect();
    if !set.is_subset(&caller.permissions(state, project).await?) {
        return Err(ApiError::forbidden(
            "a role cannot carry permissions you do not hold",
        ));
    }
    Ok(set.into_iter().collect())
}

/// The project's roles, built-in first.
#[utoipa::path(get, path = "/api/v1/projects/{projectId}/roles", tag = "roles",
    params(("projectId" = Uuid, Path)),
    responses((status = 200, body = RolesResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project_id): ApiPath<Uuid>,
) -> Result<ApiJson<RolesResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Roles, Action::Read),
        )
        .await?;
    let mut roles: Vec<RoleView> = permissions::BUILT_IN
        .iter()
        .filter_map(|s| built_in_view(s))
        .collect();
    for (r, _) in Records::of(&state.kms, project)
        .list::<CustomRole>(records::ROLE)
        .await?
    {
        roles.push(custom_view(&r));
    }
    Ok(ApiJson(RolesResponse { roles }))
}

/// Creates a custom role.
#[utoipa::path(post, path = "/api/v1/projects/{projectId}/roles", tag = "roles",
    params(("projectId" = Uuid, Path)), request_body = CreateRoleRequest,
    responses((status = 200, body = RoleResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateRoleRequest>,
) -> Result<ApiJson<RoleResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Roles, Action::Create),
        )
        .await?;
    check_slug(&body.slug)?;
    crate::http::auth::provision::check_name(&body.name)?;
    if body.description.len() > 1024 {
        return Err(ApiError::invalid("a description is at most 1024 bytes"));
    }
    let at = now();
    let role = CustomRole {
        permissions: checked(&state, &caller, project, body.permissions).await?,
        slug: body.slug,
        name: body.name,
        description: body.description,
        created_at: at,
        updated_at: at,
    };
    Records::of(&state.kms, project)
        .put(&caller.actor(), records::ROLE, &role.slug, &role, None)
        .await
        .map_err(|e| {
            if e.code == "conflict" {
                ApiError::conflict("a role with this slug exists")
            } else {
                e
            }
        })?;
    Ok(ApiJson(RoleResponse {
        role: custom_view(&role),
    }))
}

async fn custom(
    state: &AppState,
    project: ProjectId,
    slug: &str,
) -> Result<(CustomRole, i64), ApiError> {
    if slug.is_empty() || slug.len() > 64 {
        return Err(ApiError::not_found("no such role"));
    }
    Records::of(&state.kms, project)
        .get::<CustomRole>(records::ROLE, slug)
        .await?
        .ok_or_else(|| ApiError::not_found("no such role"))
}

/// One role.
#[utoipa::path(get, path = "/api/v1/projects/{projectId}/roles/{roleSlug}", tag = "roles",
    params(("projectId" = Uuid, Path), ("roleSlug" = String, Path)),
    responses((status = 200, body = RoleResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project_id, slug)): ApiPath<(Uuid, String)>,
) -> Result<ApiJson<RoleResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Roles, Action::Read),
        )
        .await?;
    if let Some(role) = built_in_view(&slug) {
        return Ok(ApiJson(RoleResponse { role }));
    }
    let (role, _) = custom(&state, project, &slug).await?;
    Ok(ApiJson(RoleResponse {
        role: custom_view(&role),
    }))
}

/// Changes a custom role.
#[utoipa::path(patch, path = "/api/v1/projects/{projectId}/roles/{roleSlug}", tag = "roles",
    params(("projectId" = Uuid, Path), ("roleSlug" = String, Path)), request_body = UpdateRoleRequest,
    responses((status = 200, body = RoleResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project_id, slug)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<UpdateRoleRequest>,
) -> Result<ApiJson<RoleResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Roles, Action::Edit),
        )
        .await?;
    let (mut role, revision) = custom(&state, project, &slug).await?;
    if let Some(name) = body.name {
        crate::http::auth::provision::check_name(&name)?;
        role.name = name;
    }
    if let Some(description) = body.description {
        if description.len() > 1024 {
            return Err(ApiError::invalid("a description is at most 1024 bytes"));
        }
        role.description = description;
    }
    if let Some(list) = body.permissions {
        role.permissions = checked(&state, &caller, project, list).await?;
    }
    role.updated_at = now();
    Records::of(&state.kms, project)
        .put(
            &caller.actor(),
            records::ROLE,
            &role.slug,
            &role,
            Some(revision),
        )
        .await?;
    state.auth.invalidate();
    Ok(ApiJson(RoleResponse {
        role: custom_view(&role),
    }))
}

/// Deletes a custom role no membership holds.
#[utoipa::path(delete, path = "/api/v1/projects/{projectId}/roles/{roleSlug}", tag = "roles",
    params(("projectId" = Uuid, Path), ("roleSlug" = String, Path)),
    responses((status = 200, body = RoleResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project_id, slug)): ApiPath<(Uuid, String)>,
) -> Result<ApiJson<RoleResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Roles, Action::Delete),
        )
        .await?;
    let (role, revision) = custom(&state, project, &slug).await?;
    let records_of = Records::of(&state.kms, project);
    let held = records_of
        .list::<Membership>(records::MEMBERSHIP)
        .await?
        .iter()
        .any(|(m, _)| m.roles.contains(&role.slug));
    if held {
        return Err(ApiError::conflict(
            "memberships still hold this role; change them first",
        ));
    }
    records_of
        .delete(&caller.actor(), records::ROLE, &role.slug, revision)
        .await?;
    state.auth.invalidate();
    Ok(ApiJson(RoleResponse {
        role: custom_view(&role),
    }))
}
