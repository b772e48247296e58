//! Reservations: a `ready` device held for a beneficiary until a pickup, with the
//! training seat booked alongside. Race-safe: the device's step is a version-checked
//! update and at most one active reservation per device can be stored, so of many
//! social workers reserving one device at once exactly one gets it and the others are
//! told `already_reserved`. A hold that runs out is released by [`expire_due`], which
//! every server process runs; each hold is released by one conditional update, so
//! never twice.

use super::beneficiaries::{load_own, own_org, require_valid_proof};
use super::catalogue::place;
use super::items::sale_view;
use super::parse_stored;
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{beneficiaries, items, regions, reservations, sites, training_bookings};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use filiere_shared::lifecycle::EventPayload;
use filiere_shared::social::*;
use filiere_shared::validate;
use filiere_shared::*;

/// The rules' settings that are not per region.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// One computer per household in this many years (override with a reason).
    pub household_years: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            household_years: DEFAULT_HOUSEHOLD_YEARS,
        }
    }
}

fn load(conn: &mut DbConnection, actor: &Actor, id: ReservationId) -> ApiResult<ReservationRow> {
    reservations::table
        .find(id.0)
        .select(ReservationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::ReservationNotFound))
}

/// Social workers see their organisation's reservations; coordinators their region's
/// (references only); admins none (the role table gives them no reservations).
fn may_see(actor: &Actor, r: &ReservationRow) -> bool {
    match actor.role {
        Role::SocialWorker => actor.org == Some(OrgId(r.organisation_id)),
        Role::Coordinator => actor.region == Some(RegionId(r.region_id)),
        _ => false,
    }
}

fn load_visible(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ReservationId,
) -> ApiResult<ReservationRow> {
    actor.require(&[Role::SocialWorker, Role::Coordinator])?;
    let r = load(conn, actor, id)?;
    if !may_see(actor, &r) {
        return Err(actor.err(ErrorCode::ReservationNotFound));
    }
    Ok(r)
}

pub fn view(
    conn: &mut DbConnection,
    actor: &Actor,
    r: ReservationRow,
) -> ApiResult<ReservationView> {
    let item: ItemRow = items::table.find(r.item_id).first(conn)?;
    let site: SiteRow = sites::table.find(r.site_id).first(conn)?;
    let reference: String = beneficiaries::table
        .find(r.beneficiary_id)
        .select(beneficiaries::reference)
        .first(conn)?;
    let booking_id: Option<i64> = training_bookings::table
        .filter(training_bookings::reservation_id.eq(r.id))
        .filter(training_bookings::status.ne(BookingStatus::Cancelled.as_str()))
        .select(training_bookings::id)
        .order(training_bookings::id.desc())
        .first(conn)
        .optional()?;
    let booking = match booking_id {
        Some(b) => Some(super::training::booking_view(conn, actor, BookingId(b))?),
        None => None,
    };
    Ok(ReservationView {
        id: ReservationId(r.id),
        item: sale_view(&item)?,
        beneficiary: BeneficiaryId(r.beneficiary_id),
        reference,
        organisation: OrgId(r.organisation_id),
        social_worker: UserId(r.social_worker_id),
        site: place(site),
        status: parse_stored(&r.status)?,
        hold_until: utc(r.hold_until),
        pickup_at: utc(r.pickup_at),
        override_reason: r.override_reason,
        training_refused: r.training_refused,
        booking,
        created_at: utc(r.created_at),
        ended_at: r.ended_at.map(utc),
        end_reason: r.end_reason,
    })
}

pub fn get(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ReservationId,
) -> ApiResult<ReservationView> {
    let r = load_visible(conn, actor, id)?;
    view(conn, actor, r)
}

/// The caller's reservations: a social worker's organisation's, a coordinator's
/// region's; newest first.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    q: &ReservationQuery,
) -> ApiResult<Vec<ReservationView>> {
    actor.require(&[Role::SocialWorker, Role::Coordinator])?;
    let mut query = reservations::table
        .select(ReservationRow::as_select())
        .order(reservations::id.desc())
        .limit(500)
        .into_boxed();
    match actor.role {
        Role::SocialWorker => {
            let org = own_org(actor)?;
            query = query.filter(reservations::organisation_id.eq(org.0));
        }
        _ => {
            let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
            query = query.filter(reservations::region_id.eq(region.0));
        }
    }
    if let Some(s) = q.status {
        query = query.filter(reservations::status.eq(s.as_str()));
    }
    if let Some(b) = q.beneficiary {
        query = query.filter(reservations::beneficiary_id.eq(b.0));
    }
    let rows: Vec<ReservationRow> = query.load(conn)?;
    rows.into_iter().map(|r| view(conn, actor, r)).collect()
}

pub fn of_beneficiary(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BeneficiaryId,
) -> ApiResult<Vec<ReservationView>> {
    list(
        conn,
        actor,
        &ReservationQuery {
            beneficiary: Some(id),
            ..ReservationQuery::default()
        },
    )
}

/// A reservation as the counter sees it: a technician of its site, or the region's
/// coordinator.
pub fn counter_view(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ReservationId,
) -> ApiResult<ReservationView> {
    actor.require(&[Role::Technician, Role::Coordinator])?;
    let r = load(conn, actor, id)?;
    if !actor.covers_site(SiteId(r.site_id), RegionId(r.region_id)) {
        return Err(actor.err(ErrorCode::ReservationNotFound));
    }
    view(conn, actor, r)
}

/// The active reservation of a device, if any.
pub fn active_for_item(conn: &mut DbConnection, item: ItemId) -> ApiResult<Option<ReservationId>> {
    Ok(reservations::table
        .filter(reservations::item_id.eq(item.0))
        .filter(reservations::status.eq(ReservationStatus::Active.as_str()))
        .select(reservations::id)
        .first::<i64>(conn)
        .optional()?
        .map(ReservationId))
}

/// Whether the household had or holds a computer within the limit's period.
fn within_household_limit(
    conn: &mut DbConnection,
    beneficiary: i64,
    since: DateTime<Utc>,
) -> ApiResult<Option<ReservationId>> {
    let computing: Vec<&str> = Category::ALL
        .iter()
        .filter(|c| counts_for_household(**c))
        .map(|c| c.as_str())
        .collect();
    let found: Option<i64> = reservations::table
        .filter(reservations::beneficiary_id.eq(beneficiary))
        .filter(reservations::category.eq_any(computing))
        .filter(
            reservations::status
                .eq(ReservationStatus::Active.as_str())
                .or(reservations::status
                    .eq(ReservationStatus::Fulfilled.as_str())
                    .and(reservations::created_at.ge(truncate(since)))),
        )
        .select(reservations::id)
        .first(conn)
        .optional()?;
    Ok(found.map(ReservationId))
}

/// Reserves a device for a beneficiary of the caller's organisation.
pub fn reserve(
    conn: &mut DbConnection,
    actor: &Actor,
    req: &NewReservation,
    rules: Rules,
) -> ApiResult<ReservationView> {
    let org = own_org(actor)?;
    let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
    if let Some(reason) = &req.override_reason {
        super::check(actor, validate::text("override_reason", reason, 500))?;
    }
    let beneficiary = load_own(conn, actor, req.beneficiary)?;
    require_valid_proof(conn, actor, &beneficiary)?;
    let found: Option<(ItemRow, i64)> = items::table
        .inner_join(sites::table)
        .filter(items::id.eq(req.item.0))
        .select((items::all_columns, sites::region_id))
        .first(conn)
        .optional()?;
    let (item, item_region) = match found {
        Some((i, r)) if r == region.0 && i.kind == ItemKind::Device.as_str() => (i, r),
        _ => return Err(actor.err(ErrorCode::ItemNotFound)),
    };
    match parse_stored::<ItemState>(&item.state)? {
        ItemState::Ready => {}
        ItemState::Reserved => return Err(actor.err(ErrorCode::AlreadyReserved)),
        _ => return Err(actor.err(ErrorCode::NotAvailable)),
    }
    let category: Category = parse_stored(&item.category)?;
    let t = Utc::now();
    if counts_for_household(category) {
        let since = household_limit_since(t, rules.household_years);
        if let Some(previous) = within_household_limit(conn, beneficiary.id, since)?
            && req.override_reason.is_none()
        {
            return Err(actor.err(ErrorCode::HouseholdLimit).with_details(
                serde_json::json!({"reservation": previous, "years": rules.household_years}),
            ));
        }
    }
    let hold_days: i32 = regions::table
        .find(item_region)
        .select(regions::hold_days)
        .first(conn)?;
    let until = hold_until(t, hold_days.max(1) as u32);
    if !check_pickup(req.pickup_at, t, until) {
        return Err(actor
            .err(ErrorCode::PickupOutsideHold)
            .with_details(serde_json::json!({"field": "pickup_at", "hold_until": until})));
    }
    let session = match req.session {
        Some(s) => Some(super::training::bookable(conn, actor, s, beneficiary.id)?),
        None => None,
    };
    let at = now();
    // The unique index on active reservations refuses a second one for the device,
    // even from a transaction running beside this one.
    let id: i64 = diesel::insert_into(reservations::table)
        .values(NewReservationRow {
            item_id: item.id,
            beneficiary_id: beneficiary.id,
            organisation_id: org.0,
            social_worker_id: actor.user.0,
            region_id: item_region,
            site_id: item.site_id,
            category: item.category.clone(),
            status: ReservationStatus::Active.as_str().to_owned(),
            hold_until: truncate(until),
            pickup_at: truncate(req.pickup_at),
            override_reason: req.override_reason.as_deref().map(|s| s.trim().to_owned()),
            created_at: at,
        })
        .returning(reservations::id)
        .get_result(conn)
        .map_err(|e| match ApiError::from(e) {
            e if e.code == ErrorCode::Duplicate => actor.err(ErrorCode::AlreadyReserved),
            e => e,
        })?;
    let payload = EventPayload::Reserved {
        reservation: ReservationId(id),
        reference: beneficiary.reference.clone(),
        until: utc(truncate(until)),
    };
    if super::events::system_step(conn, Some(actor), &item, payload, actor.lang)?.is_none() {
        // The device moved on since it was read: another reservation (or a step at
        // the bench) got there first.
        return Err(actor.err(ErrorCode::AlreadyReserved));
    }
    if let Some(session) = session {
        super::training::book_seat(conn, session, &beneficiary, Some(id), at)?;
    }
    get(conn, actor, ReservationId(id))
}

/// Ends an active reservation: the device goes back to `ready`, its training seat is
/// given back (and the waiting list moves up). `None` when it had already ended (a
/// sweep of another process got there first): nothing is written.
pub fn end(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    id: ReservationId,
    expired: bool,
    reason: Option<&str>,
    lang: Lang,
) -> ApiResult<Option<()>> {
    let at = now();
    let status = if expired {
        ReservationStatus::Expired
    } else {
        ReservationStatus::Cancelled
    };
    // One conditional update: the reservation still active (and, for an expiry,
    // past its hold). Two processes cannot both pass it.
    let mut update = diesel::update(
        reservations::table
            .filter(reservations::id.eq(id.0))
            .filter(reservations::status.eq(ReservationStatus::Active.as_str())),
    )
    .into_boxed();
    if expired {
        update = update.filter(reservations::hold_until.lt(at));
    }
    let n = update
        .set((
            reservations::status.eq(status.as_str()),
            reservations::ended_at.eq(Some(at)),
            reservations::end_reason.eq(reason.map(str::to_owned)),
        ))
        .execute(conn)?;
    if n != 1 {
        return Ok(None);
    }
    let item_id: i64 = reservations::table
        .find(id.0)
        .select(reservations::item_id)
        .first(conn)?;
    let item: ItemRow = items::table.find(item_id).first(conn)?;
    let payload = EventPayload::ReservationEnded {
        reservation: id,
        expired,
    };
    if super::events::system_step(conn, actor, &item, payload, lang)?.is_none() {
        return Err(ApiError::new(ErrorCode::VersionConflict).in_lang(lang));
    }
    let seats: Vec<i64> = training_bookings::table
        .filter(training_bookings::reservation_id.eq(id.0))
        .filter(training_bookings::status.ne(BookingStatus::Cancelled.as_str()))
        .filter(training_bookings::attendance.is_null())
        .select(training_bookings::id)
        .load(conn)?;
    for b in seats {
        super::training::release(conn, BookingId(b), at)?;
    }
    Ok(Some(()))
}

/// A social worker of the reservation's organisation, or the region's coordinator,
/// cancels it.
pub fn cancel(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ReservationId,
    req: &CancelReservation,
) -> ApiResult<ReservationView> {
    super::check(
        actor,
        validate::opt_text("reason", req.reason.as_deref(), 500),
    )?;
    let r = load_visible(conn, actor, id)?;
    if r.status != ReservationStatus::Active.as_str() {
        return Err(actor.err(ErrorCode::ReservationNotActive));
    }
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if end(conn, Some(actor), id, false, reason, actor.lang)?.is_none() {
        return Err(actor.err(ErrorCode::ReservationNotActive));
    }
    get(conn, actor, id)
}

/// The beneficiary declines the training: recorded with the reason, and any seat of
/// the reservation given back.
pub fn refuse_training(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ReservationId,
    req: &RefuseTraining,
) -> ApiResult<ReservationView> {
    own_org(actor)?;
    super::check(actor, validate::text("reason", &req.reason, 500))?;
    let r = load_visible(conn, actor, id)?;
    if r.status != ReservationStatus::Active.as_str() {
        return Err(actor.err(ErrorCode::ReservationNotActive));
    }
    let at = now();
    diesel::update(reservations::table.find(r.id))
        .set(reservations::training_refused.eq(Some(req.reason.trim().to_owned())))
        .execute(conn)?;
    let seats: Vec<i64> = training_bookings::table
        .filter(training_bookings::reservation_id.eq(r.id))
        .filter(training_bookings::status.ne(BookingStatus::Cancelled.as_str()))
        .select(training_bookings::id)
        .load(conn)?;
    for b in seats {
        super::training::release(conn, BookingId(b), at)?;
    }
    get(conn, actor, id)
}

/// Reservations whose hold has run out, oldest first (at most `limit`).
pub fn due(conn: &mut DbConnection, limit: i64) -> ApiResult<Vec<ReservationId>> {
    let rows: Vec<i64> = reservations::table
        .filter(reservations::status.eq(ReservationStatus::Active.as_str()))
        .filter(reservations::hold_until.lt(now()))
        .order(reservations::hold_until.asc())
        .select(reservations::id)
        .limit(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(ReservationId).collect())
}
