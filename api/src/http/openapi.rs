//! The OpenAPI 3.1 document, generated from the route handlers' `utoipa`
//! annotations and served at `GET /api/openapi.json`.
//!
//! The router and the document come from one list ([`super::routes::all`]),
//! so a route cannot exist without being documented, nor be documented
//! without existing.

use std::sync::Arc;

use axum::Extension;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The document's fixed parts; paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Strongroom API",
        description = "Keys, identities and access control. Errors: `{statusCode, error, code, message, reqId}`; branch on `code`.",
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from /api/v1/auth/universal-auth/login",
                    ))
                    .build(),
            ),
        );
    }
}

/// The rendered document, shared by the handler.
#[derive(Clone)]
pub struct Document(pub Arc<String>);

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document")))]
pub async fn document(Extension(doc): Extension<Document>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}
