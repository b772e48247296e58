//! The actix application: routes, body limits, JSON error mapping, OpenAPI.

use crate::auth::request_lang;
use crate::db::Db;
use crate::error::ApiError;
use crate::routes::*;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, web};
use filiere_shared::ErrorCode;
use serde_json::json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Largest accepted JSON body: an imported erasure report fits, a flood does not.
pub const JSON_LIMIT: usize = 2 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Filière API",
        description = "Traçabilité du réemploi informatique — computer reuse tracking. \
            Errors are `{code, message, details?}` with a stable `code`; messages follow \
            the user's language (fr, en).",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        health, login, badge_login, logout, me,
        list_regions, create_region, list_sites, create_site,
        list_organisations, create_organisation, list_users, create_user, update_user,
        list_benches, create_bench, revoke_bench,
        list_collections, create_collection, get_collection,
        allocate_labels, list_labels, render_labels, print_labels,
        list_printers, create_printer, list_templates, create_template,
        resolve, list_items, get_item, item_history, register_item, post_event, post_batch,
        list_weee, open_weee, get_weee, close_weee, hand_over_weee,
    ),
    components(schemas(filiere_shared::api::SaleItemView, filiere_shared::api::SaleItemPage)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound).in_lang(request_lang(&req)))
}

fn json_error(err: JsonPayloadError, req: &HttpRequest) -> actix_web::Error {
    let lang = request_lang(req);
    let e = match &err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge)
        }
        JsonPayloadError::ContentType => ApiError::new(ErrorCode::UnsupportedMediaType),
        JsonPayloadError::Deserialize(de) => {
            let msg = de.to_string();
            let code = if msg.contains("unknown field") || msg.contains("unknown variant") {
                ErrorCode::UnknownField
            } else if de.is_syntax() || de.is_eof() {
                ErrorCode::InvalidJson
            } else {
                ErrorCode::InvalidInput
            };
            let code = if msg.contains("unknown variant") {
                ErrorCode::InvalidInput
            } else {
                code
            };
            ApiError::new(code)
                .with_details(json!({"line": de.line(), "column": de.column(), "reason": msg}))
        }
        _ => ApiError::new(ErrorCode::InvalidJson),
    };
    e.in_lang(lang).into()
}

fn query_error(err: QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidQuery)
        .with_details(json!({"reason": err.to_string()}))
        .in_lang(request_lang(req))
        .into()
}

fn path_error(err: PathError, req: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::NotFound)
        .with_details(json!({"reason": err.to_string()}))
        .in_lang(request_lang(req))
        .into()
}

/// Registers every route; used by `serve` and by the tests.
pub fn configure(
    db: Db,
    labels: crate::printing::LabelSettings,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(db))
            .app_data(web::Data::new(labels))
            .app_data(
                web::JsonConfig::default()
                    .limit(JSON_LIMIT)
                    .error_handler(json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .route("/health", web::get().to(health))
            .route("/api/openapi.json", web::get().to(openapi_json))
            .service(
                web::scope("/api/v1")
                    // A scan and a bench's step first: the router tries each resource
                    // in turn, the ones with an `{id}` by a regular expression.
                    .route("/resolve", web::get().to(resolve))
                    .service(web::resource("/items/{id}/events").post(post_event))
                    .route("/auth/login", web::post().to(login))
                    .route("/auth/badge", web::post().to(badge_login))
                    .route("/auth/logout", web::post().to(logout))
                    .route("/me", web::get().to(me))
                    .service(
                        web::resource("/regions")
                            .get(list_regions)
                            .post(create_region),
                    )
                    .service(web::resource("/sites").get(list_sites).post(create_site))
                    .service(
                        web::resource("/organisations")
                            .get(list_organisations)
                            .post(create_organisation),
                    )
                    .service(web::resource("/users").get(list_users).post(create_user))
                    .service(web::resource("/users/{id}").patch(update_user))
                    .service(
                        web::resource("/benches")
                            .get(list_benches)
                            .post(create_bench),
                    )
                    .service(web::resource("/benches/{id}").delete(revoke_bench))
                    .service(
                        web::resource("/collections")
                            .get(list_collections)
                            .post(create_collection),
                    )
                    .service(web::resource("/collections/{id}").get(get_collection))
                    .service(
                        web::resource("/label-batches")
                            .get(list_labels)
                            .post(allocate_labels),
                    )
                    .route("/labels/render", web::post().to(render_labels))
                    .route("/labels/print", web::post().to(print_labels))
                    .service(
                        web::resource("/printers")
                            .get(list_printers)
                            .post(create_printer),
                    )
                    .service(
                        web::resource("/label-templates")
                            .get(list_templates)
                            .post(create_template),
                    )
                    .service(web::resource("/items").get(list_items).post(register_item))
                    .service(web::resource("/items/{id}").get(get_item))
                    .service(web::resource("/items/{id}/history").get(item_history))
                    .service(web::resource("/events/batch").post(post_batch))
                    .service(
                        web::resource("/weee-batches")
                            .get(list_weee)
                            .post(open_weee),
                    )
                    .service(web::resource("/weee-batches/{id}").get(get_weee))
                    .service(web::resource("/weee-batches/{id}/close").post(close_weee))
                    .service(web::resource("/weee-batches/{id}/handover").post(hand_over_weee)),
            )
            .default_service(web::to(not_found));
    }
}
