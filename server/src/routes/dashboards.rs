//! `/api/v1/dashboards/*`: the figures of the dashboard pages as JSON, for whom they
//! may be shown (a technician their site, a coordinator their region, an admin every
//! region). The pages call the same service functions.

use super::{localise, read, write};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::service::dashboards;
use actix_web::web::{Data, Json, Query};
use filiere_shared::dashboards::*;
use filiere_shared::error::ErrorBody;

#[utoipa::path(get, path = "/api/v1/dashboards/stock", tag = "dashboards", security(("bearer" = [])),
    params(DashboardQuery),
    responses((status = 200, body = StockDashboard, description = "Devices by site, category, state and grade; parts in stock by key spec"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn dashboard_stock(
    actor: Actor,
    db: Data<Db>,
    q: Query<DashboardQuery>,
) -> ApiResult<Json<StockDashboard>> {
    let q = q.into_inner();
    read_handler!(actor, db, |c, a| dashboards::stock(c, &a, &q))
}

#[utoipa::path(get, path = "/api/v1/dashboards/flows", tag = "dashboards", security(("bearer" = [])),
    params(DashboardQuery),
    responses((status = 200, body = FlowDashboard, description = "Flows per week over the last year; days from reception to ready per site"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn dashboard_flows(
    actor: Actor,
    db: Data<Db>,
    q: Query<DashboardQuery>,
) -> ApiResult<Json<FlowDashboard>> {
    let q = q.into_inner();
    let today = chrono::Utc::now().date_naive();
    read_handler!(actor, db, |c, a| dashboards::flows(c, &a, &q, today))
}

#[utoipa::path(get, path = "/api/v1/dashboards/aging", tag = "dashboards", security(("bearer" = [])),
    params(AgingQuery),
    responses((status = 200, body = AgingDashboard, description = "Items waiting past their threshold, by site, state and what blocks them, oldest first"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn dashboard_aging(
    actor: Actor,
    db: Data<Db>,
    q: Query<AgingQuery>,
) -> ApiResult<Json<AgingDashboard>> {
    let q = q.into_inner();
    let now = chrono::Utc::now();
    read_handler!(actor, db, |c, a| dashboards::aging(c, &a, &q, now))
}

#[utoipa::path(get, path = "/api/v1/dashboards/impact", tag = "dashboards", security(("bearer" = [])),
    params(ImpactQuery),
    responses((status = 200, body = ImpactView, description = "Units reused, kilograms kept out of waste, CO2e avoided, households equipped, training given, with the factors used"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A period of over ten years, or ending before it starts")))]
pub async fn dashboard_impact(
    actor: Actor,
    db: Data<Db>,
    q: Query<ImpactQuery>,
) -> ApiResult<Json<ImpactView>> {
    let q = q.into_inner();
    let today = chrono::Utc::now().date_naive();
    read_handler!(actor, db, |c, a| dashboards::impact(c, &a, &q, today))
}

#[utoipa::path(get, path = "/api/v1/dashboards/collections", tag = "dashboards", security(("bearer" = [])),
    params(DashboardQuery),
    responses((status = 200, body = CollectionsDashboard, description = "The latest 200 collections, each with its weight balance"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn dashboard_collections(
    actor: Actor,
    db: Data<Db>,
    q: Query<DashboardQuery>,
) -> ApiResult<Json<CollectionsDashboard>> {
    let q = q.into_inner();
    read_handler!(actor, db, |c, a| dashboards::collections(c, &a, &q, 200))
}

#[utoipa::path(get, path = "/api/v1/dashboards/demand", tag = "dashboards", security(("bearer" = [])),
    params(DashboardQuery),
    responses((status = 200, body = DemandDashboard, description = "Open needs and active reservations per category against the ready stock; training sessions with their seats"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn dashboard_demand(
    actor: Actor,
    db: Data<Db>,
    q: Query<DashboardQuery>,
) -> ApiResult<Json<DemandDashboard>> {
    let q = q.into_inner();
    let now = chrono::Utc::now();
    read_handler!(actor, db, |c, a| dashboards::demand(c, &a, &q, now))
}

#[utoipa::path(get, path = "/api/v1/dashboards/impact.pdf", tag = "dashboards", security(("bearer" = [])),
    params(ImpactQuery),
    responses((status = 200, content_type = "application/pdf", description = "The funder's report for the period, in French"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A period of over ten years, or ending before it starts")))]
pub async fn dashboard_impact_pdf(
    actor: Actor,
    db: Data<Db>,
    settings: Data<crate::config::WebSettings>,
    q: Query<ImpactQuery>,
) -> ApiResult<actix_web::HttpResponse> {
    let q = q.into_inner();
    let now = chrono::Utc::now();
    let mut a = actor.clone();
    a.lang = filiere_shared::Lang::Fr;
    let (d, scope) = localise(
        &actor,
        read(&db, move |c| {
            let d = dashboards::impact(c, &a, &q, now.date_naive())?;
            let scope = dashboards::covers(c, &a, q.region, q.site, &d.sites)?;
            Ok((d, scope))
        })
        .await,
    )?;
    let pdf = crate::documents::funder::render(&crate::documents::funder::Report {
        impact: &d,
        scope: &scope,
        period: &crate::documents::funder::period_text(&d, filiere_shared::Lang::Fr),
        issued: &settings.clock.date_text(settings.clock.date(now)),
    });
    Ok(crate::routes::pdf_response(
        pdf,
        &format!(
            "rapport-impact-{}-{}.pdf",
            d.from.format("%Y-%m"),
            d.to.format("%Y-%m")
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/dashboards/settings", tag = "dashboards", security(("bearer" = [])),
    responses((status = 200, body = DashboardSettings, description = "The extra years of use counted for a reused device, and how long an item may wait in each state"),
        (status = 403, body = ErrorBody)))]
pub async fn dashboard_settings(actor: Actor, db: Data<Db>) -> ApiResult<Json<DashboardSettings>> {
    read_handler!(actor, db, |c, a| dashboards::settings_view(c, &a))
}

#[utoipa::path(patch, path = "/api/v1/dashboards/settings", tag = "dashboards", security(("bearer" = [])),
    request_body = UpdateDashboardSettings,
    responses((status = 200, body = DashboardSettings, description = "The settings as they now are (an admin only)"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A state nothing waits in, or one given twice")))]
pub async fn update_dashboard_settings(
    actor: Actor,
    db: Data<Db>,
    body: JsonBody<UpdateDashboardSettings>,
) -> ApiResult<Json<DashboardSettings>> {
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| dashboards::update_settings(c, &a, &body))
}
