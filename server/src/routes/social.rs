//! `/api/v1` handlers of the social side: beneficiaries, the catalogue, reservations,
//! training sessions and needs. The web pages call the same service functions.

use super::{localise, read, write};
use crate::auth::Actor;
use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::service::{admin, beneficiaries, catalogue, documents, needs, reservations, training};
use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path, Query};
use filiere_shared::api::{RegionView, SiteView};
use filiere_shared::error::ErrorBody;
use filiere_shared::social::*;
use filiere_shared::*;

// ---------------------------------------------------------------- reference data

#[utoipa::path(get, path = "/api/v1/proof-types", tag = "beneficiaries", security(("bearer" = [])),
    responses((status = 200, body = ProofTypes)))]
pub async fn list_proof_types(actor: Actor, db: Data<Db>) -> ApiResult<Json<ProofTypes>> {
    read_handler!(actor, db, |c, a| beneficiaries::proof_types(c, &a))
}

#[utoipa::path(get, path = "/api/v1/training-topics", tag = "training", security(("bearer" = [])),
    responses((status = 200, body = Vec<TopicView>)))]
pub async fn list_topics(actor: Actor, db: Data<Db>) -> ApiResult<Json<Vec<TopicView>>> {
    read_handler!(actor, db, |c, a| training::topics(c, a.lang))
}

// ---------------------------------------------------------------- beneficiaries

#[utoipa::path(get, path = "/api/v1/beneficiaries", tag = "beneficiaries", security(("bearer" = [])),
    responses((status = 200, body = Vec<BeneficiaryView>, description = "The caller's organisation's beneficiaries (social workers only)")))]
pub async fn list_beneficiaries(
    actor: Actor,
    db: Data<Db>,
) -> ApiResult<Json<Vec<BeneficiaryView>>> {
    read_handler!(actor, db, |c, a| beneficiaries::list(c, &a))
}

#[utoipa::path(post, path = "/api/v1/beneficiaries", tag = "beneficiaries", security(("bearer" = [])),
    request_body(content = NewBeneficiary, example = json!({
        "household_size": 3, "proof_type": "caf", "proof_date": "2026-11-02", "consent": true,
        "contact": "06 12 34 56 78"})),
    responses((status = 200, body = BeneficiaryView), (status = 409, body = ErrorBody)))]
pub async fn create_beneficiary(
    actor: Actor,
    db: Data<Db>,
    body: JsonBody<NewBeneficiary>,
) -> ApiResult<Json<BeneficiaryView>> {
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| beneficiaries::create(c, &a, &body))
}

#[utoipa::path(get, path = "/api/v1/beneficiaries/{id}", tag = "beneficiaries", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = BeneficiaryView)))]
pub async fn get_beneficiary(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<BeneficiaryView>> {
    let id = BeneficiaryId(id.into_inner());
    read_handler!(actor, db, |c, a| beneficiaries::get(c, &a, id))
}

#[utoipa::path(patch, path = "/api/v1/beneficiaries/{id}", tag = "beneficiaries", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UpdateBeneficiary,
    responses((status = 200, body = BeneficiaryView)))]
pub async fn update_beneficiary(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<UpdateBeneficiary>,
) -> ApiResult<Json<BeneficiaryView>> {
    let id = BeneficiaryId(id.into_inner());
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| beneficiaries::update(c, &a, id, &body))
}

#[utoipa::path(get, path = "/api/v1/beneficiaries/{id}/export", tag = "beneficiaries", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BeneficiaryExport, description = "Everything held on the beneficiary (a GDPR access request)")))]
pub async fn export_beneficiary(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = BeneficiaryId(id.into_inner());
    let a = actor.clone();
    let export = localise(
        &actor,
        read(&db, move |c| beneficiaries::export(c, &a, id)).await,
    )?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"beneficiaire-{}.json\"",
                export.beneficiary.reference
            ),
        ))
        .json(export))
}

#[utoipa::path(post, path = "/api/v1/beneficiaries/{id}/erase", tag = "beneficiaries", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BeneficiaryView, description = "Erased: only the reference and what a sale requires are kept")))]
pub async fn erase_beneficiary(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<BeneficiaryView>> {
    let id = BeneficiaryId(id.into_inner());
    write_handler!(actor, db, |c, a| beneficiaries::erase(c, &a, id))
}

#[utoipa::path(get, path = "/api/v1/beneficiary-counts", tag = "beneficiaries", security(("bearer" = [])),
    responses((status = 200, body = Vec<BeneficiaryCount>, description = "Coordinators: counts per organisation of the region, no identity")))]
pub async fn beneficiary_counts(
    actor: Actor,
    db: Data<Db>,
) -> ApiResult<Json<Vec<BeneficiaryCount>>> {
    read_handler!(actor, db, |c, a| beneficiaries::counts(c, &a))
}

// ---------------------------------------------------------------- catalogue

#[utoipa::path(get, path = "/api/v1/catalogue", tag = "catalogue", security(("bearer" = [])),
    params(CatalogueQuery), responses((status = 200, body = CataloguePage)))]
pub async fn search_catalogue(
    actor: Actor,
    db: Data<Db>,
    q: Query<CatalogueQuery>,
) -> ApiResult<Json<CataloguePage>> {
    let q = q.into_inner();
    read_handler!(actor, db, |c, a| catalogue::search(c, &q, &a))
}

#[utoipa::path(get, path = "/api/v1/catalogue/{id}", tag = "catalogue", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = CatalogueDevice)))]
pub async fn catalogue_device(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<CatalogueDevice>> {
    let id = ItemId(id.into_inner());
    read_handler!(actor, db, |c, a| catalogue::device(c, id, &a))
}

// ---------------------------------------------------------------- reservations

#[utoipa::path(get, path = "/api/v1/reservations", tag = "reservations", security(("bearer" = [])),
    params(ReservationQuery), responses((status = 200, body = Vec<ReservationView>)))]
pub async fn list_reservations(
    actor: Actor,
    db: Data<Db>,
    q: Query<ReservationQuery>,
) -> ApiResult<Json<Vec<ReservationView>>> {
    let q = q.into_inner();
    read_handler!(actor, db, |c, a| reservations::list(c, &a, &q))
}

/// Reserves a `ready` device for a beneficiary. Of concurrent reservations of one
/// device exactly one succeeds; the others get `already_reserved` (409).
#[utoipa::path(post, path = "/api/v1/reservations", tag = "reservations", security(("bearer" = [])),
    request_body(content = NewReservation, example = json!({
        "item": 42, "beneficiary": 7, "pickup_at": "2026-12-01T14:00:00Z", "session": 3})),
    responses((status = 200, body = ReservationView), (status = 409, body = ErrorBody)))]
pub async fn create_reservation(
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    body: JsonBody<NewReservation>,
) -> ApiResult<Json<ReservationView>> {
    let body = body.read(&actor)?;
    let rules = settings.rules;
    write_handler!(actor, db, |c, a| reservations::reserve(c, &a, &body, rules))
}

#[utoipa::path(get, path = "/api/v1/reservations/{id}", tag = "reservations", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = ReservationView)))]
pub async fn get_reservation(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<ReservationView>> {
    let id = ReservationId(id.into_inner());
    read_handler!(actor, db, |c, a| reservations::get(c, &a, id))
}

#[utoipa::path(post, path = "/api/v1/reservations/{id}/cancel", tag = "reservations", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CancelReservation,
    responses((status = 200, body = ReservationView)))]
pub async fn cancel_reservation(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<CancelReservation>,
) -> ApiResult<Json<ReservationView>> {
    let id = ReservationId(id.into_inner());
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| reservations::cancel(c, &a, id, &body))
}

#[utoipa::path(post, path = "/api/v1/reservations/{id}/training-refusal", tag = "reservations", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RefuseTraining,
    responses((status = 200, body = ReservationView)))]
pub async fn refuse_training(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<RefuseTraining>,
) -> ApiResult<Json<ReservationView>> {
    let id = ReservationId(id.into_inner());
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| reservations::refuse_training(
        c, &a, id, &body
    ))
}

#[utoipa::path(get, path = "/api/v1/reservations/{id}/voucher.pdf", tag = "reservations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The pickup voucher", content(("application/pdf")))))]
pub async fn reservation_voucher(
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = ReservationId(id.into_inner());
    let (host, clock) = (settings.public_host.clone(), settings.clock);
    let a = actor.clone();
    let pdf = localise(
        &actor,
        read(&db, move |c| {
            documents::voucher_pdf(c, &a, id, host.as_deref(), clock)
        })
        .await,
    )?;
    Ok(pdf_response(pdf, &format!("bon-de-retrait-{id}.pdf")))
}

pub fn pdf_response(pdf: Vec<u8>, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{name}\""),
        ))
        .body(pdf)
}

// ---------------------------------------------------------------- training

#[utoipa::path(get, path = "/api/v1/training-sessions", tag = "training", security(("bearer" = [])),
    params(SessionQuery), responses((status = 200, body = Vec<TrainingSessionView>)))]
pub async fn list_sessions(
    actor: Actor,
    db: Data<Db>,
    q: Query<SessionQuery>,
) -> ApiResult<Json<Vec<TrainingSessionView>>> {
    let q = q.into_inner();
    read_handler!(actor, db, |c, a| training::list(c, &a, &q))
}

#[utoipa::path(post, path = "/api/v1/training-sessions", tag = "training", security(("bearer" = [])),
    request_body(content = NewTrainingSession, example = json!({
        "venue": 9, "trainer": "Awa Diallo", "starts_at": "2026-12-04T13:30:00Z",
        "duration_minutes": 150, "capacity": 8, "topics": ["getting_started", "email"]})),
    responses((status = 200, body = TrainingSessionView)))]
pub async fn create_session(
    actor: Actor,
    db: Data<Db>,
    body: JsonBody<NewTrainingSession>,
) -> ApiResult<Json<TrainingSessionView>> {
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| training::create(c, &a, &body))
}

#[utoipa::path(get, path = "/api/v1/training-sessions/{id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = TrainingSessionDetail)))]
pub async fn get_session(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<TrainingSessionDetail>> {
    let id = TrainingSessionId(id.into_inner());
    read_handler!(actor, db, |c, a| training::get(c, &a, id))
}

#[utoipa::path(post, path = "/api/v1/training-sessions/{id}/attendance", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RecordAttendance,
    responses((status = 200, body = TrainingSessionDetail)))]
pub async fn record_attendance(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<RecordAttendance>,
) -> ApiResult<Json<TrainingSessionDetail>> {
    let id = TrainingSessionId(id.into_inner());
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| training::record_attendance(
        c, &a, id, &body
    ))
}

#[utoipa::path(get, path = "/api/v1/training-sessions/{id}/attendance-sheet.pdf", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The attendance sheet, for the funders", content(("application/pdf")))))]
pub async fn attendance_sheet(
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = TrainingSessionId(id.into_inner());
    let clock = settings.clock;
    let a = actor.clone();
    let pdf = localise(
        &actor,
        read(&db, move |c| documents::attendance_pdf(c, &a, id, clock)).await,
    )?;
    Ok(pdf_response(pdf, &format!("emargement-session-{id}.pdf")))
}

#[utoipa::path(post, path = "/api/v1/bookings", tag = "training", security(("bearer" = [])),
    request_body = NewBooking,
    responses((status = 200, body = BookingView, description = "A seat, or a place on the waiting list when the session is full"), (status = 409, body = ErrorBody)))]
pub async fn create_booking(
    actor: Actor,
    db: Data<Db>,
    body: JsonBody<NewBooking>,
) -> ApiResult<Json<BookingView>> {
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| training::book(c, &a, &body))
}

#[utoipa::path(delete, path = "/api/v1/bookings/{id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BookingView, description = "Cancelled; the waiting list moves up")))]
pub async fn cancel_booking(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<BookingView>> {
    let id = BookingId(id.into_inner());
    write_handler!(actor, db, |c, a| training::cancel_booking(c, &a, id))
}

// ---------------------------------------------------------------- needs

#[utoipa::path(get, path = "/api/v1/needs", tag = "needs", security(("bearer" = [])),
    responses((status = 200, body = Vec<NeedView>, description = "The organisation's open needs, each with the ready devices that fit it")))]
pub async fn list_needs(actor: Actor, db: Data<Db>) -> ApiResult<Json<Vec<NeedView>>> {
    read_handler!(actor, db, |c, a| needs::list_open(c, &a))
}

#[utoipa::path(post, path = "/api/v1/needs", tag = "needs", security(("bearer" = [])),
    request_body(content = NewNeed, example = json!({
        "beneficiary": 7, "category": "laptop", "min_screen_inches": 14, "min_ram_gb": 8})),
    responses((status = 200, body = NeedView)))]
pub async fn create_need(
    actor: Actor,
    db: Data<Db>,
    body: JsonBody<NewNeed>,
) -> ApiResult<Json<NeedView>> {
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| needs::create(c, &a, &body))
}

#[utoipa::path(delete, path = "/api/v1/needs/{id}", tag = "needs", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = NeedView, description = "Closed")))]
pub async fn close_need(actor: Actor, db: Data<Db>, id: Path<i64>) -> ApiResult<Json<NeedView>> {
    let id = NeedId(id.into_inner());
    write_handler!(actor, db, |c, a| needs::close(c, &a, id))
}

#[utoipa::path(get, path = "/api/v1/need-counts", tag = "needs", security(("bearer" = [])),
    responses((status = 200, body = Vec<NeedCount>, description = "Coordinators: open needs per category, beside ready devices")))]
pub async fn need_counts(actor: Actor, db: Data<Db>) -> ApiResult<Json<Vec<NeedCount>>> {
    read_handler!(actor, db, |c, a| needs::counts(c, &a))
}

// ---------------------------------------------------------------- sites and regions

#[utoipa::path(patch, path = "/api/v1/sites/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body(content = UpdateSite, example = json!({
        "address": "12 rue du Repos, 69007 Lyon",
        "opening_hours": "Du lundi au vendredi, 9 h – 17 h"})),
    responses((status = 200, body = SiteView)))]
pub async fn update_site(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<UpdateSite>,
) -> ApiResult<Json<SiteView>> {
    let id = SiteId(id.into_inner());
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| admin::update_site(c, &a, id, &body))
}

#[utoipa::path(patch, path = "/api/v1/regions/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UpdateRegion,
    responses((status = 200, body = RegionView)))]
pub async fn update_region(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<UpdateRegion>,
) -> ApiResult<Json<RegionView>> {
    let id = RegionId(id.into_inner());
    let body = body.read(&actor)?;
    write_handler!(actor, db, |c, a| admin::update_region(c, &a, id, &body))
}
