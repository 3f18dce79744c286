//! The API's resources, one module each, and the one list of routes the
//! router and the OpenAPI document are both built from.

pub mod audit;
pub mod identities;
pub mod kmip_clients;
pub mod kms_keys;
pub mod memberships;
pub mod organizations;
pub mod projects;
pub mod roles;
pub mod universal_auth;
pub mod whoami;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, health, metrics, openapi};

/// Every route, with its OpenAPI description.
pub fn all() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(openapi::document))
        .routes(routes!(universal_auth::login))
        .routes(routes!(universal_auth::renew))
        .routes(routes!(universal_auth::revoke))
        .routes(routes!(whoami::whoami))
        .routes(routes!(
            universal_auth::attach,
            universal_auth::read,
            universal_auth::update
        ))
        .routes(routes!(
            universal_auth::create_secret,
            universal_auth::list_secrets
        ))
        .routes(routes!(universal_auth::revoke_secret))
        .routes(routes!(organizations::create, organizations::list))
        .routes(routes!(organizations::get))
        .routes(routes!(identities::create, identities::list))
        .routes(routes!(identities::get, identities::delete))
        .routes(routes!(projects::create, projects::list))
        .routes(routes!(projects::get, projects::delete))
        .routes(routes!(memberships::list))
        .routes(routes!(
            memberships::create,
            memberships::get,
            memberships::update,
            memberships::delete
        ))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::get, roles::update, roles::delete))
        .routes(routes!(kmip_clients::list, kmip_clients::create))
        .routes(routes!(kmip_clients::issue))
        .routes(routes!(kmip_clients::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(audit::export))
        .routes(routes!(audit::verify))
        .merge(kms_keys::routes())
}
