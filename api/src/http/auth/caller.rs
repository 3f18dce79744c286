//! The authenticated caller, and authorization — in one place.
//!
//! Every route that needs a caller takes a [`Caller`] argument: the
//! extractor reads `Authorization: Bearer <token>`, checks the token (see
//! [`super::service`]), the peer address against the identity's trusted
//! ranges, and the identity's rate limit. Then one call decides:
//!
//! ```ignore
//! let project = caller.authorize(&state, project_id, Permission::new(Resource::Keys, Action::Use)).await?;
//! ```
//!
//! The rule:
//!
//! 1. A project that does not exist, was deleted, or is the install's
//!    system project: **404** `not_found`.
//! 2. The install's super admin, or an admin of the project's organization:
//!    allowed.
//! 3. No membership of the project: **404** `not_found` — a request for
//!    another project's resource looks exactly like a request for one that
//!    does not exist.
//! 4. A membership whose roles lack the permission: **403** `forbidden`.
//!
//! Organization-level routes (identities, projects of an organization) use
//! [`Caller::require_org_admin`] with the same 404/403 split.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use kms_core::ids::ProjectId;
use kms_core::service::Actor;
use kms_core::store::ProjectRecord;
use uuid::Uuid;

use super::permissions::{self, Permission, Permissions};
use super::records::{self, CustomRole, Identity, Membership, OrgRole, Records, Tombstone};
use super::service::{Access, Session};
use crate::http::{ApiError, AppState};

/// An authenticated identity making this request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub session: Arc<Session>,
    pub peer: Option<PeerAddress>,
}

/// A connection's peer, as the listener puts it in each of the
/// connection's requests. Audit records carry the address as text, which
/// is formatted here once per connection rather than once per request.
#[derive(Clone, Debug)]
pub struct PeerAddress {
    pub ip: IpAddr,
    pub text: Arc<str>,
}

impl PeerAddress {
    pub fn new(address: SocketAddr) -> Self {
        Self {
            ip: address.ip(),
            text: Arc::from(address.ip().to_string()),
        }
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <access token>"))?;
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = text
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <access token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.len() > super::secrets::MAX_CREDENTIAL_LEN {
        return Err(ApiError::unauthorized(
            "send Authorization: Bearer <access token>",
        ));
    }
    Ok(token.trim())
}

/// The connection's peer (the listener puts it in every request).
fn peer(parts: &Parts) -> Option<&PeerAddress> {
    parts.extensions.get::<PeerAddress>()
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = peer(parts).cloned();
        let token = bearer(parts)?;
        let session = state
            .auth
            .session(token, peer.as_ref().map(|p| p.ip))
            .await?;
        state.rate.identities.take(&session.identity.id)?;
        Ok(Self { session, peer })
    }
}

impl Caller {
    pub fn identity(&self) -> &Identity {
        &self.session.identity
    }

    pub fn id(&self) -> Uuid {
        self.session.identity.id
    }

    /// The audit actor: `identity:<id>`, from the peer address.
    pub fn actor(&self) -> Actor {
        Actor::named(
            Arc::clone(&self.session.actor_name),
            self.peer.as_ref().map(|p| Arc::clone(&p.text)),
        )
    }

    pub fn is_super_admin(&self) -> bool {
        self.identity().super_admin
    }

    /// Super admin, or admin of `organization`.
    pub fn is_org_admin(&self, organization: Uuid) -> bool {
        let i = self.identity();
        i.super_admin || (i.organization_id == organization && i.org_role == OrgRole::Admin)
    }

    /// For organization-level routes: 404 outside the caller's
    /// organization, 403 inside it without the admin role.
    pub fn require_org_admin(&self, organization: Uuid) -> Result<(), ApiError> {
        if self.is_org_admin(organization) {
            Ok(())
        } else if self.identity().organization_id == organization {
            Err(ApiError::forbidden("this needs an organization admin"))
        } else {
            Err(ApiError::not_found("no such organization"))
        }
    }

    /// THE authorization check (see the module docs). Returns the project.
    pub async fn authorize(
        &self,
        state: &AppState,
        project: ProjectId,
        permission: Permission,
    ) -> Result<ProjectRecord, ApiError> {
        let (record, access) = self.access(state, project).await?;
        match access {
            Access::Admin => Ok(record),
            Access::Member(p) if p.contains(&permission) => Ok(record),
            Access::Member(_) => Err(ApiError::forbidden(format!(
                "your roles in this project do not allow {} on {}",
                serde_json::to_value(permission.action)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                serde_json::to_value(permission.resource)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            ))),
        }
    }

    /// Whether the caller may see the project at all (any membership).
    pub async fn member_of(
        &self,
        state: &AppState,
        project: ProjectId,
    ) -> Result<ProjectRecord, ApiError> {
        self.access(state, project).await.map(|(r, _)| r)
    }

    /// The caller's permissions in a project (all of them for admins).
    pub async fn permissions(
        &self,
        state: &AppState,
        project: ProjectId,
    ) -> Result<Permissions, ApiError> {
        Ok(match self.access(state, project).await?.1 {
            Access::Admin => permissions::built_in(permissions::ADMIN).unwrap_or_default(),
            Access::Member(p) => p,
        })
    }

    async fn access(
        &self,
        state: &AppState,
        project: ProjectId,
    ) -> Result<(ProjectRecord, Access), ApiError> {
        if let Some(hit) = state.auth.cached_access(self.id(), project) {
            return Ok(hit);
        }
        let record = live_project(state, project).await?;
        let access = if self.is_org_admin(*record.organization.as_uuid()) {
            Access::Admin
        } else {
            let members = Records::of(&state.kms, project);
            let Some((membership, _)) = members
                .get::<Membership>(records::MEMBERSHIP, &self.id().to_string())
                .await?
            else {
                return Err(ApiError::not_found("no such project"));
            };
            Access::Member(role_permissions(&members, &membership.roles).await?)
        };
        state
            .auth
            .remember_access(self.id(), project, record.clone(), access.clone());
        Ok((record, access))
    }
}

/// The union of the permissions of `roles` in a project.
pub async fn role_permissions(
    members: &Records,
    roles: &[String],
) -> Result<Permissions, ApiError> {
    let mut out = Permissions::new();
    for slug in roles {
        match permissions::built_in(slug) {
            Some(p) => out.extend(p),
            None => {
                if let Some((role, _)) = members.get::<CustomRole>(records::ROLE, slug).await? {
                    out.extend(role.permissions);
                }
            }
        }
    }
    Ok(out)
}

/// A project the API serves: exists, not deleted, not the system project.
pub async fn live_project(state: &AppState, project: ProjectId) -> Result<ProjectRecord, ApiError> {
    let gone = || ApiError::not_found("no such project");
    if project == state.kms.system_project() {
        return Err(gone());
    }
    let record = state
        .kms
        .store()
        .project(project)
        .await
        .map_err(kms_core::Error::from)?
        .ok_or_else(gone)?;
    let deleted = Records::system(&state.kms)
        .get::<Tombstone>(records::PROJECT_DELETED, &project.to_string())
        .await?;
    if deleted.is_some() {
        return Err(gone());
    }
    Ok(record)
}

/// The peer's address, for routes without a caller (login).
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(peer(parts).map(|p| p.ip)))
    }
}
