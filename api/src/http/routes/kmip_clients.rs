//! A project's KMIP clients, over the API (the same [`KmipAdmin`] the
//! `strongroom kmip client …` commands drive, so the listener's directory
//! and CRL follow at once):
//!
//! * `GET|POST /api/v1/projects/{projectId}/kmip/clients` — `kmip-clients:read|create`;
//! * `POST …/kmip/clients/{clientName}/certificates` `{csr, ttlDays}` — a
//!   certificate from the KMIP CA for the CSR's key (`kmip-clients:create`;
//!   the private key never reaches the server);
//! * `POST …/kmip/clients/{clientName}/revoke` — disables the client and
//!   puts its certificates on the CRL (`kmip-clients:delete`).
//!
//! Client names are unique in the install; another project's client is
//! "not found" here.
//!
//! [`KmipAdmin`]: crate::kmip::service::KmipAdmin

use std::sync::Arc;

use axum::extract::State;
use kms_core::ids::ProjectId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::auth::{Action, Caller, Permission, Resource};
use crate::http::error::ErrorBody;
use crate::http::json::{ApiJson, ApiPath};
use crate::http::{ApiError, AppState};
use crate::kmip::service::{ClientSummary, KmipAdmin};

/// Longest certificate lifetime the API issues.
pub const MAX_TTL_DAYS: u32 = 825;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateClientRequest {
    pub name: String,
    /// KMIP operation names (`create`, `get`, `Create Key Pair`, …) or `all`.
    pub operations: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateRequest {
    /// A PKCS#10 request (PEM), signed by the client's key.
    pub csr: String,
    /// Default 90, at most 825.
    pub ttl_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    pub name: String,
    pub project_id: Uuid,
    pub operations: Vec<String>,
    pub enabled: bool,
    pub live_certificates: usize,
}

#[derive(Serialize, ToSchema)]
pub struct ClientResponse {
    pub client: ClientView,
}

#[derive(Serialize, ToSchema)]
pub struct ClientsResponse {
    pub clients: Vec<ClientView>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateResponse {
    pub certificate: String,
    pub ca_certificate: String,
    pub serial: String,
    pub not_after: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokeResponse {
    pub client: String,
    pub revoked_certificates: usize,
}

fn view(c: &ClientSummary) -> ClientView {
    ClientView {
        name: c.name.clone(),
        project_id: *c.project.as_uuid(),
        operations: c.operations.clone(),
        enabled: c.enabled,
        live_certificates: c.live_certificates,
    }
}

fn admin(state: &AppState) -> Result<&Arc<KmipAdmin>, ApiError> {
    state.kmip.as_ref().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "kmip_unavailable",
            "this server runs no KMIP front end",
        )
    })
}

/// KMIP administration errors are operator-facing sentences without secrets.
fn refused(e: anyhow::Error) -> ApiError {
    ApiError::invalid(format!("{e:#}"))
}

async fn client_of(
    state: &AppState,
    project: ProjectId,
    name: &str,
) -> Result<ClientSummary, ApiError> {
    admin(state)?
        .list_clients()
        .await
        .map_err(|e| ApiError::internal("listing KMIP clients", &e))?
        .into_iter()
        .find(|c| c.project == project && c.name == name)
        .ok_or_else(|| ApiError::not_found("no such KMIP client"))
}

/// The project's KMIP clients.
#[utoipa::path(get, path = "/api/v1/projects/{projectId}/kmip/clients", tag = "kmip",
    params(("projectId" = Uuid, Path)),
    responses((status = 200, body = ClientsResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project_id): ApiPath<Uuid>,
) -> Result<ApiJson<ClientsResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::KmipClients, Action::Read),
        )
        .await?;
    let clients = admin(&state)?
        .list_clients()
        .await
        .map_err(|e| ApiError::internal("listing KMIP clients", &e))?
        .iter()
        .filter(|c| c.project == project)
        .map(view)
        .collect();
    Ok(ApiJson(ClientsResponse { clients }))
}

/// Creates a KMIP client in the project.
#[utoipa::path(post, path = "/api/v1/projects/{projectId}/kmip/clients", tag = "kmip",
    params(("projectId" = Uuid, Path)), request_body = CreateClientRequest,
    responses((status = 200, body = ClientResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateClientRequest>,
) -> Result<ApiJson<ClientResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::KmipClients, Action::Create),
        )
        .await?;
    if body.operations.len() > 64 || body.operations.iter().any(|o| o.len() > 64) {
        return Err(ApiError::invalid("at most 64 operation names"));
    }
    let summary = admin(&state)?
        .create_client(
            &caller.actor(),
            &body.name,
            project,
            &body.operations.join(","),
        )
        .await
        .map_err(refused)?;
    Ok(ApiJson(ClientResponse {
        client: view(&summary),
    }))
}

/// Issues a client certificate for a CSR.
#[utoipa::path(post, path = "/api/v1/projects/{projectId}/kmip/clients/{clientName}/certificates", tag = "kmip",
    params(("projectId" = Uuid, Path), ("clientName" = String, Path)), request_body = CertificateRequest,
    responses((status = 200, body = CertificateResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project_id, name)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<CertificateRequest>,
) -> Result<ApiJson<CertificateResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::KmipClients, Action::Create),
        )
        .await?;
    client_of(&state, project, &name).await?;
    let days = body.ttl_days.unwrap_or(90);
    if days == 0 || days > MAX_TTL_DAYS {
        return Err(ApiError::invalid(format!("ttlDays is 1 to {MAX_TTL_DAYS}")));
    }
    let csr = ::pki::x509::parse_csr(body.csr.as_bytes())
        .map_err(|e| ApiError::invalid(format!("the CSR: {e}")))?;
    let public_key = der::Encode::to_der(csr.public_key())
        .map_err(|e| ApiError::internal("re-encoding a CSR key", &e))?;
    let issued = admin(&state)?
        .issue_certificate(
            &caller.actor(),
            &name,
            &public_key,
            time::Duration::days(i64::from(days)),
        )
        .await
        .map_err(refused)?;
    Ok(ApiJson(CertificateResponse {
        certificate: issued.certificate_pem,
        ca_certificate: issued.ca_pem,
        serial: issued.serial,
        not_after: issued.not_after,
    }))
}

/// Revokes a client and its certificates.
#[utoipa::path(post, path = "/api/v1/projects/{projectId}/kmip/clients/{clientName}/revoke", tag = "kmip",
    params(("projectId" = Uuid, Path), ("clientName" = String, Path)),
    responses((status = 200, body = RevokeResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project_id, name)): ApiPath<(Uuid, String)>,
) -> Result<ApiJson<RevokeResponse>, ApiError> {
    let project = ProjectId::from_uuid(project_id);
    caller
        .authorize(
            &state,
            project,
            Permission::new(Resource::KmipClients, Action::Delete),
        )
        .await?;
    client_of(&state, project, &name).await?;
    let revoked_certificates = admin(&state)?
        .revoke_client(&caller.actor(), &name)
        .await
        .map_err(refused)?;
    Ok(ApiJson(RevokeResponse {
        client: name,
        revoked_certificates,
    }))
}
