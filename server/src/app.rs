//! The actix application: the route table, and the JSON refusals of what no route
//! answers (an unknown path, a method a path does not take, a bad query or path).

use crate::auth::request_lang;
use crate::db::Db;
use crate::error::ApiError;
use crate::openapi::openapi_json;
use crate::routes::*;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, web};
use filiere_shared::ErrorCode;
use serde_json::json;

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound).in_lang(request_lang(&req)))
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

/// Every route: its path, then each method with its handler, the scan and the bench's
/// step first (the router tries each resource in turn, the ones with an `{id}` by a
/// regular expression). One table serves the router, the `Allow` header of a method a
/// path does not take, and the test that holds the OpenAPI document to the routes.
macro_rules! route_table {
    ($($path:literal => [$($method:ident $handler:path),+ $(,)?]),+ $(,)?) => {
        /// Each path with the methods it answers (in lower case).
        pub const ROUTES: &[(&str, &[&str])] = &[$(($path, &[$(stringify!($method)),+])),+];

        fn register_routes(cfg: &mut web::ServiceConfig) {
            $(
                let allow = [$(stringify!($method)),+].map(str::to_ascii_uppercase).join(", ");
                cfg.service(
                    web::resource($path)
                        .app_data(crate::RouteName($path))
                        $(.route(web::$method().to($handler)))+
                        .default_service(web::to(move |req: HttpRequest| {
                            method_not_allowed(req, allow.clone())
                        })),
                );
            )+
        }
    };
}

route_table! {
    "/api/v1/resolve" => [get resolve],
    "/api/v1/items/{id}/events" => [post post_event],
    "/health" => [get health],
    "/api/openapi.json" => [get openapi_json],
    "/api/v1/auth/login" => [post login],
    "/api/v1/auth/badge" => [post badge_login],
    "/api/v1/auth/logout" => [post logout],
    "/api/v1/me" => [get me],
    "/api/v1/regions" => [get list_regions, post create_region],
    "/api/v1/regions/{id}" => [patch update_region],
    "/api/v1/sites" => [get list_sites, post create_site],
    "/api/v1/sites/{id}" => [patch update_site],
    "/api/v1/organisations" => [get list_organisations, post create_organisation],
    "/api/v1/organisations/{id}" => [get get_organisation, patch update_organisation],
    "/api/v1/users" => [get list_users, post create_user],
    "/api/v1/users/{id}" => [patch update_user],
    "/api/v1/users/{id}/setup-link" => [post setup_link],
    "/api/v1/auth/set-password" => [post set_password],
    "/api/v1/me/password" => [post change_password],
    "/api/v1/benches" => [get list_benches, post create_bench],
    "/api/v1/benches/{id}" => [delete revoke_bench],
    "/api/v1/collections" => [get list_collections, post create_collection],
    "/api/v1/collections/{id}" => [get get_collection],
    "/api/v1/collections/{id}/close" => [post close_collection],
    "/api/v1/collections/{id}/documents" => [get collection_documents, post issue_collection_document],
    "/api/v1/collections/{id}/asset-list" => [post import_asset_list],
    "/api/v1/asset-imports/{id}" => [get get_asset_import],
    "/api/v1/erasure-reports" => [post import_erasure_report],
    "/api/v1/items/{id}/documents" => [get item_documents, post issue_item_document],
    "/api/v1/documents/{id}/pdf" => [get document_pdf],
    "/api/v1/verify/{id}" => [get verify_document, post verify_file],
    "/api/v1/offers" => [get list_offers],
    "/api/v1/offers/{id}" => [get get_offer],
    "/api/v1/offers/{id}/accept" => [post accept_offer],
    "/api/v1/offers/{id}/decline" => [post decline_offer],
    "/api/v1/label-batches" => [get list_labels, post allocate_labels],
    "/api/v1/labels/render" => [post render_labels],
    "/api/v1/labels/print" => [post print_labels],
    "/api/v1/printers" => [get list_printers, post create_printer],
    "/api/v1/label-templates" => [get list_templates, post create_template],
    "/api/v1/items" => [get list_items, post register_item],
    "/api/v1/items/{id}" => [get get_item],
    "/api/v1/items/{id}/history" => [get item_history],
    "/api/v1/events/batch" => [post post_batch],
    "/api/v1/weee-batches" => [get list_weee, post open_weee],
    "/api/v1/weee-batches/{id}" => [get get_weee],
    "/api/v1/weee-batches/{id}/close" => [post close_weee],
    "/api/v1/weee-batches/{id}/handover" => [post hand_over_weee],
    "/api/v1/weee-batches/{id}/documents" => [get weee_documents, post issue_weee_document],
    "/api/v1/registers/outgoing.csv" => [get outgoing_register],
    "/api/v1/registers/incoming.csv" => [get incoming_register],
    "/api/v1/proof-types" => [get list_proof_types],
    "/api/v1/training-topics" => [get list_topics],
    "/api/v1/beneficiaries" => [get list_beneficiaries, post create_beneficiary],
    "/api/v1/beneficiaries/{id}" => [get get_beneficiary, patch update_beneficiary],
    "/api/v1/beneficiaries/{id}/export" => [get export_beneficiary],
    "/api/v1/beneficiaries/{id}/erase" => [post erase_beneficiary],
    "/api/v1/beneficiary-counts" => [get beneficiary_counts],
    "/api/v1/catalogue" => [get search_catalogue],
    "/api/v1/catalogue/{id}" => [get catalogue_device],
    "/api/v1/reservations" => [get list_reservations, post create_reservation],
    "/api/v1/reservations/{id}" => [get get_reservation],
    "/api/v1/reservations/{id}/cancel" => [post cancel_reservation],
    "/api/v1/reservations/{id}/training-refusal" => [post refuse_training],
    "/api/v1/reservations/{id}/voucher.pdf" => [get reservation_voucher],
    "/api/v1/training-sessions" => [get list_sessions, post create_session],
    "/api/v1/training-sessions/{id}" => [get get_session],
    "/api/v1/training-sessions/{id}/attendance" => [post record_attendance],
    "/api/v1/training-sessions/{id}/attendance-sheet.pdf" => [get attendance_sheet],
    "/api/v1/bookings" => [post create_booking],
    "/api/v1/bookings/{id}" => [delete cancel_booking],
    "/api/v1/bookings/{id}/documents" => [get booking_documents, post issue_booking_document],
    "/api/v1/needs" => [get list_needs, post create_need],
    "/api/v1/needs/{id}" => [delete close_need],
    "/api/v1/need-counts" => [get need_counts],
    "/api/v1/prices" => [get list_prices],
    "/api/v1/price-rules" => [post set_price_rule],
    "/api/v1/price-rules/{id}" => [delete delete_price_rule],
    "/api/v1/price-caps/{category}" => [put set_price_cap],
    "/api/v1/sites/{id}/counter" => [get site_counter],
    "/api/v1/sales" => [get list_sales, post create_sale],
    "/api/v1/sales/{id}" => [get get_sale],
    "/api/v1/sales/{id}/invoice.pdf" => [get sale_invoice],
    "/api/v1/sales/{id}/returns" => [post create_return],
    "/api/v1/after-sales/{id}/settle" => [post settle_after_sales],
    "/api/v1/after-sales/{id}/hand-back" => [post hand_back],
    "/api/v1/dashboards/stock" => [get dashboard_stock],
    "/api/v1/dashboards/flows" => [get dashboard_flows],
    "/api/v1/dashboards/aging" => [get dashboard_aging],
    "/api/v1/dashboards/impact" => [get dashboard_impact],
    "/api/v1/dashboards/impact.pdf" => [get dashboard_impact_pdf],
    "/api/v1/dashboards/collections" => [get dashboard_collections],
    "/api/v1/dashboards/demand" => [get dashboard_demand],
    "/api/v1/dashboards/settings" => [get dashboard_settings, patch update_dashboard_settings],
}

/// A method the path does not take: 405, the methods it does take, the usual body.
async fn method_not_allowed(req: HttpRequest, allow: String) -> HttpResponse {
    use actix_web::ResponseError;
    let mut response = ApiError::new(ErrorCode::MethodNotAllowed)
        .in_lang(request_lang(&req))
        .error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

/// Registers every route; used by `serve` and by the tests.
pub fn configure(
    db: Db,
    labels: crate::printing::LabelSettings,
    settings: crate::config::WebSettings,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(db))
            .app_data(web::Data::new(labels))
            .app_data(web::Data::new(settings))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error));
        register_routes(cfg);
        crate::web::configure(cfg);
        cfg.default_service(web::to(not_found));
    }
}
