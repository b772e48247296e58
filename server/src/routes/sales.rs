//! `/api/v1` handlers of the sale and what follows it: prices and legal caps, the
//! counter's pickups, sales, invoices and credit notes, after-sales. The counter pages
//! call the same service functions.

use super::social::pdf_response;
use super::{localise, read, write};
use crate::auth::Actor;
use crate::config::WebSettings;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::service::{after_sales, documents, sales};
use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path, Query};
use filiere_shared::error::ErrorBody;
use filiere_shared::sales::*;
use filiere_shared::*;

// ---------------------------------------------------------------- prices

#[utoipa::path(get, path = "/api/v1/prices", tag = "sales", security(("bearer" = [])),
    params(PriceQuery),
    responses((status = 200, body = PriceList, description = "The region's solidarity prices and the legal caps"),
        (status = 422, body = ErrorBody, description = "An admin who names no region")))]
pub async fn list_prices(
    actor: Actor,
    db: Data<Db>,
    q: Query<PriceQuery>,
) -> ApiResult<Json<PriceList>> {
    let q = q.into_inner();
    read_handler!(actor, db, |c, a| sales::price_list(c, &a, &q))
}

/// Sets a region's solidarity price for a category (and grade): a second rule for the
/// same key replaces the first. Refused (`over_price_cap`) when what it asks for a
/// public body's device exceeds the legal cap.
#[utoipa::path(post, path = "/api/v1/price-rules", tag = "sales", security(("bearer" = [])),
    request_body(content = NewPriceRule, example = json!({
        "region": 1, "category": "laptop", "grade": "a", "price_cents": 9000})),
    responses((status = 200, body = PriceRuleView), (status = 422, body = ErrorBody)))]
pub async fn set_price_rule(
    actor: Actor,
    db: Data<Db>,
    body: JsonBody<NewPriceRule>,
) -> ApiResult<Json<PriceRuleView>> {
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| sales::set_rule(c, &a, &body))
}

#[utoipa::path(delete, path = "/api/v1/price-rules/{id}", tag = "sales", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204, description = "Deleted")))]
pub async fn delete_price_rule(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = PriceRuleId(id.into_inner());
    let a = actor.clone();
    localise(
        &actor,
        write(&db, move |c| sales::delete_rule(c, &a, id)).await,
    )?;
    Ok(HttpResponse::NoContent().finish())
}

/// An admin sets a legal cap when the law changes.
#[utoipa::path(put, path = "/api/v1/price-caps/{category}", tag = "sales", security(("bearer" = [])),
    params(("category" = CapCategory, Path)),
    request_body(content = UpdatePriceCap, example = json!({
        "max_cents": 18000, "legal_reference": "Décret du 7 novembre 2022"})),
    responses((status = 200, body = PriceCapView)))]
pub async fn set_price_cap(
    actor: Actor,
    db: Data<Db>,
    category: Path<String>,
    body: JsonBody<UpdatePriceCap>,
) -> ApiResult<Json<PriceCapView>> {
    let body = body.read(&actor)?;
    let category: CapCategory = category
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::NotFound).in_lang(actor.lang))?;
    write_handler!(actor, db, |c, a| sales::set_cap(c, &a, category, &body))
}

// ---------------------------------------------------------------- the counter

/// A site's counter: its seller, and the pickups of today and of the next seven days
/// (a technician of the site, the region's coordinator).
#[utoipa::path(get, path = "/api/v1/sites/{id}/counter", tag = "sales", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = CounterView)))]
pub async fn site_counter(
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> ApiResult<Json<CounterView>> {
    let site = SiteId(id.into_inner());
    let clock = settings.clock;
    read_handler!(actor, db, |c, a| sales::counter_view(c, &a, site, clock))
}

// ---------------------------------------------------------------- sales

#[utoipa::path(get, path = "/api/v1/sales", tag = "sales", security(("bearer" = [])),
    params(SaleQuery),
    responses((status = 200, body = Vec<SaleView>, description = "A technician's site's, a coordinator's region's, a social worker's organisation's beneficiaries' sales; newest first")))]
pub async fn list_sales(
    actor: Actor,
    db: Data<Db>,
    q: Query<SaleQuery>,
) -> ApiResult<Json<Vec<SaleView>>> {
    let q = q.into_inner();
    read_handler!(actor, db, |c, a| sales::list(c, &a, &q))
}

/// Records a sale at a site's counter: the reserved device of a reservation (with
/// what goes with it, such as a desktop's screen), or a coordinator's sale to a partner
/// organisation. Refused, with nothing written, without an active reservation, without
/// a training seat booked or a refusal recorded, while the beneficiary's proof has
/// lapsed, over a legal cap, or when the payments do not add up to the total.
#[utoipa::path(post, path = "/api/v1/sales", tag = "sales", security(("bearer" = [])),
    request_body(content = NewSale, example = json!({
        "reservation": 12, "items": [{"item": 42}],
        "payments": [{"method": "voucher", "amount_cents": 5000, "reference": "CCAS-2026-118"},
                     {"method": "cash", "amount_cents": 4000}]})),
    responses((status = 200, body = SaleView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_sale(
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    body: JsonBody<NewSale>,
) -> ApiResult<Json<SaleView>> {
    let body = body.read(&actor)?;
    let clock = settings.clock;
    write_handler!(actor, db, |c, a| sales::sell(c, &a, &body, clock))
}

#[utoipa::path(get, path = "/api/v1/sales/{id}", tag = "sales", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = SaleView)))]
pub async fn get_sale(actor: Actor, db: Data<Db>, id: Path<i64>) -> ApiResult<Json<SaleView>> {
    let id = SaleId(id.into_inner());
    read_handler!(actor, db, |c, a| sales::get(c, &a, id))
}

#[utoipa::path(get, path = "/api/v1/sales/{id}/invoice.pdf", tag = "sales", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The invoice or credit note (French)", content(("application/pdf")))))]
pub async fn sale_invoice(
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = SaleId(id.into_inner());
    let clock = settings.clock;
    let a = actor.clone();
    let pdf = localise(
        &actor,
        read(&db, move |c| documents::invoice_pdf(c, &a, id, clock)).await,
    )?;
    Ok(pdf_response(pdf, &format!("facture-{id}.pdf")))
}

// ---------------------------------------------------------------- after-sales

/// A device of the sale brought back within its guarantee (`returned`).
#[utoipa::path(post, path = "/api/v1/sales/{id}/returns", tag = "sales", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body(content = NewReturn, example = json!({"item": 42, "reason": "L'écran clignote"})),
    responses((status = 200, body = SaleView), (status = 422, body = ErrorBody)))]
pub async fn create_return(
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: JsonBody<NewReturn>,
) -> ApiResult<Json<SaleView>> {
    let id = SaleId(id.into_inner());
    let body = body.read(&actor)?;
    let clock = settings.clock;
    write_handler!(actor, db, |c, a| after_sales::open_return(
        c, &a, id, &body, clock
    ))
}

/// After-sales' decision on a returned device: a repair (back to the bench), an
/// exchange (a credit note and a new invoice for the device given instead) or a refund
/// (a credit note).
#[utoipa::path(post, path = "/api/v1/after-sales/{id}/settle", tag = "sales", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body(content = SettleAfterSales, example = json!({"outcome": "repair", "reason": "Nappe d'écran remplacée"})),
    responses((status = 200, body = SaleView), (status = 422, body = ErrorBody)))]
pub async fn settle_after_sales(
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: JsonBody<SettleAfterSales>,
) -> ApiResult<Json<SaleView>> {
    let id = AfterSalesId(id.into_inner());
    let body = body.read(&actor)?;
    let clock = settings.clock;
    write_handler!(actor, db, |c, a| after_sales::settle(
        c, &a, id, &body, clock
    ))
}

/// The repaired device, tested again, handed back: the guarantee runs six months
/// longer.
#[utoipa::path(post, path = "/api/v1/after-sales/{id}/hand-back", tag = "sales", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SaleView), (status = 422, body = ErrorBody)))]
pub async fn hand_back(
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> ApiResult<Json<SaleView>> {
    let id = AfterSalesId(id.into_inner());
    let clock = settings.clock;
    write_handler!(actor, db, |c, a| after_sales::hand_back(c, &a, id, clock))
}
