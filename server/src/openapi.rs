//! The OpenAPI document: generated from the routes' annotations and the shared types
//! by utoipa, then brought to what the server really does (the refusals each kind of
//! operation can meet, closed objects, one schema per variant of a tagged enum), and
//! served at `/api/openapi.json`. Request bodies are held to it
//! ([`crate::extract::JsonBody`]); the tests hold every answer to it.

use crate::routes::*;
use actix_web::HttpResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

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
        health, openapi_json, login, badge_login, logout, me,
        list_regions, create_region, list_sites, create_site,
        list_organisations, create_organisation, list_users, create_user, update_user,
        list_benches, create_bench, revoke_bench,
        list_collections, create_collection, get_collection,
        allocate_labels, list_labels, render_labels, print_labels,
        list_printers, create_printer, list_templates, create_template,
        resolve, list_items, get_item, item_history, register_item, post_event, post_batch,
        list_weee, open_weee, get_weee, close_weee, hand_over_weee,
        update_region, update_site,
        list_proof_types, list_topics,
        list_beneficiaries, create_beneficiary, get_beneficiary, update_beneficiary,
        export_beneficiary, erase_beneficiary, beneficiary_counts,
        search_catalogue, catalogue_device,
        list_reservations, create_reservation, get_reservation, cancel_reservation,
        refuse_training, reservation_voucher,
        list_sessions, create_session, get_session, record_attendance, attendance_sheet,
        create_booking, cancel_booking,
        list_needs, create_need, close_need, need_counts,
        list_prices, set_price_rule, delete_price_rule, set_price_cap, site_counter,
        list_sales, create_sale, get_sale, sale_invoice, create_return,
        settle_after_sales, hand_back,
        close_collection, list_offers, get_offer, accept_offer, decline_offer,
        get_organisation, update_organisation, setup_link, set_password, change_password,
        dashboard_stock, dashboard_flows, dashboard_aging, dashboard_impact,
        dashboard_collections, dashboard_demand, dashboard_impact_pdf, dashboard_settings,
        update_dashboard_settings,
        collection_documents, issue_collection_document, document_pdf, verify_document,
        verify_file, weee_documents, issue_weee_document, booking_documents,
        issue_booking_document, outgoing_register, incoming_register, import_asset_list,
        get_asset_import, import_erasure_report, item_documents, issue_item_document,
    ),
    components(schemas(
        filiere_shared::api::SaleItemView,
        filiere_shared::api::SaleItemPage,
        // Named only by a query parameter of the catalogue.
        filiere_shared::domain::CatalogueSort,
    )),
    modifiers(&BearerAuth, &StandardResponses)
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

/// The refusals any operation of a kind can meet, declared on each: 400, 408, 414 and 431
/// on all (a request the HTTP layer cannot read), 401 and 403 on the
/// secured ones, 400, 413 and 415 where a JSON body is read, 400 where a query is
/// read, 404 where the path, the body or the query names a record, 503 wherever the
/// database is asked.
struct StandardResponses;

impl utoipa::Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (false, &mut item.get),
                (true, &mut item.post),
                (true, &mut item.put),
                (true, &mut item.patch),
                (true, &mut item.delete),
            ];
            for (writes, op) in operations {
                let Some(op) = op else { continue };
                let mut add = |status: &str, why: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error_response(why));
                };
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let reads_query = op.parameters.iter().flatten().any(|p| {
                    matches!(p, utoipa::openapi::RefOr::T(p) if p.parameter_in == ParameterIn::Query)
                });
                if secured {
                    add("401", "Not logged in, or the session has ended");
                    add("403", "The caller's role or scope does not allow it");
                }
                if op.request_body.is_some() {
                    add(
                        "400",
                        "The body is not valid JSON or breaks a rule of its schema",
                    );
                    add("413", "The body is too large");
                    add("415", "The body is not `application/json`");
                    add(
                        "422",
                        "A value of the right shape refused by a rule: a check symbol, a combination of fields, the state of a record",
                    );
                }
                if reads_query {
                    add("400", "A query parameter is not valid");
                }
                if path.contains('{') || op.request_body.is_some() || reads_query {
                    add(
                        "404",
                        "A record named by the path, the body or the query does not exist, or the caller may not see it",
                    );
                }
                // Refused by the HTTP layer before the operation is known.
                add("400", "The request is not well-formed HTTP");
                add("408", "The request head did not arrive within 5 seconds");
                add("414", "The request target is too long");
                add("431", "The request head is too large");
                if path != "/api/openapi.json" {
                    add("503", "The database cannot be reached; try again");
                }
                if writes {
                    add("507", "The server's disk is full: nothing was saved");
                }
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// The document, worked out once.
pub fn openapi() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        merge_flattened(&mut doc);
        close_variants(&mut doc);
        name_tagged_variants(&mut doc);
        describe_responses(&mut doc);
        expand_patterns(&mut doc);
        add_links(&mut doc);
        doc
    })
}

/// A validator of `schema` inside the document, so that its `#/components/schemas/…`
/// references resolve; `formats` also checks the `format` of strings (dates…).
pub fn validator(
    schema: &serde_json::Value,
    formats: bool,
) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>> {
    let root = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": openapi()["components"],
        "allOf": [schema],
    });
    jsonschema::options()
        .should_validate_formats(formats)
        .build(&root)
}

/// The patterns the request types name by marker (`"$text"`), stated in full from
/// their one home ([`filiere_shared::validate::PATTERNS`]).
fn expand_patterns(doc: &mut serde_json::Value) {
    use serde_json::Value;
    match doc {
        Value::Object(map) => {
            if let Some(Value::String(p)) = map.get_mut("pattern")
                && let Some((_, full)) = filiere_shared::validate::PATTERNS
                    .iter()
                    .find(|(marker, _)| marker == p)
            {
                *p = (*full).to_owned();
            }
            map.values_mut().for_each(expand_patterns);
        }
        Value::Array(items) => items.iter_mut().for_each(expand_patterns),
        _ => {}
    }
}

/// Where the id that a creating operation answers with is used next: (the creating
/// operation, its success status, where the id is in its answer, the operations that
/// take it as their `id`). They become the answer's OpenAPI `links`, which API tools
/// follow to chain calls on a record that exists (schemathesis's stateful phase).
const LINKS: &[(&str, &str, &str, &[&str])] = &[
    (
        "register_item",
        "201",
        "/item/id",
        &[
            "get_item",
            "item_history",
            "post_event",
            "item_documents",
            "issue_item_document",
        ],
    ),
    (
        "create_collection",
        "201",
        "/id",
        &[
            "get_collection",
            "import_asset_list",
            "close_collection",
            "collection_documents",
            "issue_collection_document",
        ],
    ),
    ("import_asset_list", "202", "/id", &["get_asset_import"]),
    (
        "create_sale",
        "200",
        "/id",
        &["get_sale", "sale_invoice", "create_return"],
    ),
    (
        "open_weee",
        "201",
        "/id",
        &[
            "get_weee",
            "close_weee",
            "hand_over_weee",
            "weee_documents",
            "issue_weee_document",
        ],
    ),
];

fn add_links(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some((_, status, pointer, targets)) = LINKS
            .iter()
            .find(|(from, ..)| op["operationId"].as_str() == Some(from))
        else {
            continue;
        };
        let Some(response) = op["responses"].get_mut(*status) else {
            continue;
        };
        let links: serde_json::Map<String, Value> = targets
            .iter()
            .map(|target| {
                let link = json!({
                    "operationId": target,
                    "parameters": {"id": format!("$response.body#{pointer}")},
                });
                ((*target).to_owned(), link)
            })
            .collect();
        response["links"] = Value::Object(links);
    }
}

/// Every answer has a description (OpenAPI requires one): the routes describe the
/// unusual ones, the status says the rest.
fn describe_responses(doc: &mut serde_json::Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let Some(responses) = op["responses"].as_object_mut() else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                let missing = response["description"].as_str().is_none_or(str::is_empty);
                if missing {
                    let text = match status.as_str() {
                        "200" => "OK",
                        "201" => "Created",
                        "204" => "Done; nothing to answer",
                        "400" => "The request breaks its schema",
                        "401" => "Not logged in, or the session has ended",
                        "403" => "The caller's role or scope does not allow it",
                        "404" => "Not found, or out of the caller's scope",
                        "409" => "A conflict: a version moved on, a key or a record already taken",
                        "422" => "Refused by a rule, with its stable code",
                        "502" => "The printer did not take the job",
                        "503" => "The database cannot be reached; try again",
                        "507" => "The server's disk is full: nothing was saved",
                        _ => "See the error code",
                    };
                    response["description"] = serde_json::Value::from(text);
                }
            }
        }
    }
}

/// An internally tagged enum (`#[serde(tag = "type")]`) is documented by utoipa as a
/// `oneOf` of inline objects. Each variant becomes a schema of its own, named after
/// the enum and its tag (`CommandEraseDrive`), and the `oneOf` gets the tag as its
/// `discriminator`: generated clients get one class per variant, and generators pick
/// the variant from the tag instead of trying each.
fn name_tagged_variants(doc: &mut serde_json::Value) {
    use serde_json::{Map, Value, json};
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else {
        return;
    };
    let mut added = Map::new();
    for (name, schema) in schemas.iter_mut() {
        let Some(variants) = schema["oneOf"].as_array() else {
            continue;
        };
        // The tag: a property every variant requires, each with its one value.
        let tag_of = |v: &Value, tag: &str| -> Option<String> {
            let values = v["properties"][tag]["enum"].as_array()?;
            let required = v["required"].as_array()?.iter().any(|r| r == tag);
            match (values.as_slice(), required) {
                ([Value::String(s)], true) => Some(s.clone()),
                _ => None,
            }
        };
        let Some(tag) = ["type", "op", "kind"]
            .into_iter()
            .find(|t| variants.iter().all(|v| tag_of(v, t).is_some()))
        else {
            continue;
        };
        let mut refs = Vec::new();
        let mut mapping = Map::new();
        for v in variants {
            let value = tag_of(v, tag).unwrap_or_default();
            let camel: String = value
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect();
            let variant = format!("{name}{camel}");
            let reference = format!("#/components/schemas/{variant}");
            added.insert(variant, v.clone());
            refs.push(json!({ "$ref": reference }));
            mapping.insert(value, Value::String(reference));
        }
        schema["oneOf"] = Value::Array(refs);
        schema["discriminator"] = json!({ "propertyName": tag, "mapping": mapping });
    }
    schemas.extend(added);
}

/// The objects of a `oneOf` are the variants of a Rust enum: each has exactly the
/// fields it lists (serde refuses others: a tag with `deny_unknown_fields`, or a
/// single-key object for an externally tagged enum), so each is closed.
fn close_variants(doc: &mut serde_json::Value) {
    use serde_json::Value;
    match doc {
        Value::Object(map) => {
            if let Some(Value::Array(variants)) = map.get_mut("oneOf") {
                for v in variants.iter_mut() {
                    if let Value::Object(o) = v
                        && o.get("type").and_then(Value::as_str) == Some("object")
                        && o.contains_key("properties")
                        && !o.contains_key("additionalProperties")
                    {
                        o.insert("additionalProperties".into(), Value::Bool(false));
                    }
                }
            }
            map.values_mut().for_each(close_variants);
        }
        Value::Array(items) => items.iter_mut().for_each(close_variants),
        _ => {}
    }
}

/// A struct flattened into another (`#[serde(flatten)]`, an internally tagged newtype)
/// is documented by utoipa as `allOf` of its schema and the other fields. Since each
/// part refuses unknown fields, no object could satisfy all of them at once: each such
/// `allOf` becomes the one object it stands for, with every part's properties and
/// required fields, closed if any part is.
fn merge_flattened(doc: &mut serde_json::Value) {
    use serde_json::{Map, Value};
    let schemas = doc["components"]["schemas"].clone();
    fn part<'a>(v: &'a Value, schemas: &'a Value) -> &'a Value {
        match v["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            Some(name) => &schemas[name],
            None => v,
        }
    }
    fn walk(v: &mut Value, schemas: &Value) {
        match v {
            Value::Object(map) => {
                let merged = map
                    .get("allOf")
                    .and_then(Value::as_array)
                    .and_then(|parts| {
                        let parts: Vec<&Value> = parts.iter().map(|p| part(p, schemas)).collect();
                        if !parts
                            .iter()
                            .all(|p| p["type"] == "object" && p.get("allOf").is_none())
                        {
                            return None;
                        }
                        let mut properties = Map::new();
                        let mut required: Vec<Value> = Vec::new();
                        let mut closed = false;
                        for p in parts {
                            if let Some(props) = p["properties"].as_object() {
                                properties.extend(props.clone());
                            }
                            for r in p["required"].as_array().into_iter().flatten() {
                                if !required.contains(r) {
                                    required.push(r.clone());
                                }
                            }
                            closed |= p["additionalProperties"] == Value::Bool(false);
                        }
                        let mut object = Map::new();
                        object.insert("type".into(), "object".into());
                        if let Some(d) = map.get("description") {
                            object.insert("description".into(), d.clone());
                        }
                        object.insert("required".into(), Value::Array(required));
                        object.insert("properties".into(), Value::Object(properties));
                        if closed {
                            object.insert("additionalProperties".into(), Value::Bool(false));
                        }
                        Some(object)
                    });
                if let Some(object) = merged {
                    *map = object;
                }
                for child in map.values_mut() {
                    walk(child, schemas);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|c| walk(c, schemas)),
            _ => {}
        }
    }
    walk(doc, &schemas);
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI document of this API", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(openapi())
}
