//! Projects: `POST|GET /api/v1/projects`, `GET|DELETE
//! /api/v1/projects/{projectId}` (Infisical's v2 `workspace` shapes:
//! `{projectName}` in, `{project: {id, name, orgId, …}}` out).
//!
//! Organization admins create projects. A project is visible to its
//! members and its organization's admins; to anyone else it does not
//! exist (404). Deleting needs `project:delete` (the admin role): the
//! project is marked deleted, so the API treats it as gone, while its keys
//! stay wrapped in the database (kms-core has no project deletion; an
//! operator can still export them with the root of trust).

use axum::extract::State;
use kms_core::ids::{OrganizationId, ProjectId};
use kms_core::store::ProjectRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::auth::caller::live_project;
use crate::http::auth::provision::check_name;
use crate::http::auth::records::{self, Records, Tombstone, now};
use crate::http::auth::{Action, Caller, Permission, Resource};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProjectRequest {
    pub project_name: String,
    /// Defaults to the caller's organization.
    pub organization_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectView {
    pub id: Uuid,
    pub name: String,
    pub org_id: Uuid,
    pub created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectResponse {
    pub project: ProjectView,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectsResponse {
    pub projects: Vec<ProjectView>,
}

pub fn view(p: &ProjectRecord) -> ProjectView {
    ProjectView {
        id: *p.id.as_uuid(),
        name: p.name.clone(),
        org_id: *p.organization.as_uuid(),
        created_at: p.created_at,
    }
}

/// Creates a project (organization admins).
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects",
    request_body = CreateProjectRequest,
    responses((status = 200, body = ProjectResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateProjectRequest>,
) -> Result<ApiJson<ProjectResponse>, ApiError> {
    let organization = body
        .organization_id
        .unwrap_or(caller.identity().organization_id);
    caller.require_org_admin(organization)?;
    check_name(&body.project_name)?;
    super::organizations::existing(&state, organization).await?;
    let id = state
        .kms
        .create_project(
            &caller.actor(),
            OrganizationId::from_uuid(organization),
            &body.project_name,
        )
        .await?;
    let record = live_project(&state, id).await?;
    Ok(ApiJson(ProjectResponse {
        project: view(&record),
    }))
}

/// The projects the caller can see.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    responses((status = 200, body = ProjectsResponse)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<ProjectsResponse>, ApiError> {
    let all = state
        .kms
        .store()
        .projects()
        .await
        .map_err(kms_core::Error::from)?;
    let mut projects = Vec::new();
    for p in all {
        if p.id == state.kms.system_project() {
            continue;
        }
        if !caller.is_super_admin()
            && *p.organization.as_uuid() != caller.identity().organization_id
        {
            continue;
        }
        // Same rule as any project route: visible iff `member_of` passes.
        match caller.member_of(&state, p.id).await {
            Ok(record) => projects.push(view(&record)),
            Err(e) if e.code == "not_found" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ApiJson(ProjectsResponse { projects }))
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{projectId}", tag = "projects",
    params(("projectId" = Uuid, Path)),
    responses((status = 200, body = ProjectResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<ApiJson<ProjectResponse>, ApiError> {
    let record = caller.member_of(&state, ProjectId::from_uuid(id)).await?;
    Ok(ApiJson(ProjectResponse {
        project: view(&record),
    }))
}

/// Deletes a project (for the API: see the module docs).
#[utoipa::path(delete, path = "/api/v1/projects/{projectId}", tag = "projects",
    params(("projectId" = Uuid, Path)),
    responses((status = 200, body = ProjectResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<ApiJson<ProjectResponse>, ApiError> {
    let project = ProjectId::from_uuid(id);
    let record = caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::Project, Action::Delete),
        )
        .await?;
    let tombstone = Tombstone {
        deleted_at: now(),
        deleted_by: caller.id(),
    };
    Records::system(&state.kms)
        .put(
            &caller.actor(),
            records::PROJECT_DELETED,
            &id.to_string(),
            &tombstone,
            None,
        )
        .await?;
    state.auth.invalidate();
    Ok(ApiJson(ProjectResponse {
        project: view(&record),
    }))
}
