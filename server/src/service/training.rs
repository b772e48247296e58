//! Training sessions: a coordinator plans them at the region's venues; a social worker
//! books a beneficiary's seat (with the reservation, or on its own); a full session
//! takes a waiting list, promoted in order when a seat frees; attendance is recorded
//! afterwards.

use super::beneficiaries::{load_own, own_org};
use super::{check, parse_stored};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{
    beneficiaries, organisations, reservations, training_bookings, training_sessions,
    training_topics,
};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use filiere_shared::social::*;
use filiere_shared::validate::{self, FieldError};
use filiere_shared::*;

/// Topics, in their order, in the caller's language.
pub fn topics(conn: &mut DbConnection, lang: Lang) -> ApiResult<Vec<TopicView>> {
    let rows: Vec<(String, String, String)> = training_topics::table
        .order(training_topics::position)
        .select((
            training_topics::key,
            training_topics::label_fr,
            training_topics::label_en,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(key, fr, en)| TopicView {
            key,
            label: lang.pick(&fr, &en).to_owned(),
        })
        .collect())
}

fn load(
    conn: &mut DbConnection,
    actor: &Actor,
    id: TrainingSessionId,
) -> ApiResult<TrainingSessionRow> {
    training_sessions::table
        .find(id.0)
        .select(TrainingSessionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::TrainingSessionNotFound))
}

/// Sessions are seen by the region's coordinator and social workers, and by admins.
fn load_visible(
    conn: &mut DbConnection,
    actor: &Actor,
    id: TrainingSessionId,
) -> ApiResult<TrainingSessionRow> {
    actor.require(&[Role::SocialWorker, Role::Coordinator, Role::Admin])?;
    let s = load(conn, actor, id)?;
    if actor.role != Role::Admin && actor.region != Some(RegionId(s.region_id)) {
        return Err(actor.err(ErrorCode::TrainingSessionNotFound));
    }
    Ok(s)
}

fn count_status(conn: &mut DbConnection, session: i64, status: BookingStatus) -> ApiResult<i64> {
    Ok(training_bookings::table
        .filter(training_bookings::session_id.eq(session))
        .filter(training_bookings::status.eq(status.as_str()))
        .count()
        .get_result(conn)?)
}

fn count_attendance(conn: &mut DbConnection, session: i64, a: Attendance) -> ApiResult<i64> {
    Ok(training_bookings::table
        .filter(training_bookings::session_id.eq(session))
        .filter(training_bookings::attendance.eq(a.as_str()))
        .count()
        .get_result(conn)?)
}

pub fn session_view(
    conn: &mut DbConnection,
    lang: Lang,
    s: TrainingSessionRow,
) -> ApiResult<TrainingSessionView> {
    let (venue_name, venue_address): (String, Option<String>) = organisations::table
        .find(s.venue_id)
        .select((organisations::name, organisations::address))
        .first(conn)?;
    let keys: Vec<String> = serde_json::from_str(&s.topics).map_err(ApiError::internal)?;
    let all = topics(conn, lang)?;
    let topics = keys
        .iter()
        .map(|k| {
            all.iter()
                .find(|t| &t.key == k)
                .cloned()
                .unwrap_or(TopicView {
                    key: k.clone(),
                    label: k.clone(),
                })
        })
        .collect();
    let booked = count_status(conn, s.id, BookingStatus::Booked)?;
    let waiting = count_status(conn, s.id, BookingStatus::Waiting)?;
    Ok(TrainingSessionView {
        id: TrainingSessionId(s.id),
        region: RegionId(s.region_id),
        venue: OrgId(s.venue_id),
        venue_name,
        venue_address,
        trainer: s.trainer,
        starts_at: utc(s.starts_at),
        duration_minutes: s.duration_minutes.max(0) as u32,
        capacity: s.capacity.max(0) as u32,
        topics,
        booked,
        waiting,
        free_seats: (i64::from(s.capacity) - booked).max(0),
        attended: count_attendance(conn, s.id, Attendance::Attended)?,
        no_show: count_attendance(conn, s.id, Attendance::NoShow)?,
    })
}

/// The region's sessions: coming ones (soonest first) or past ones (latest first).
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    q: &SessionQuery,
) -> ApiResult<Vec<TrainingSessionView>> {
    actor.require(&[Role::SocialWorker, Role::Coordinator, Role::Admin])?;
    let t = now();
    let mut query = training_sessions::table
        .select(TrainingSessionRow::as_select())
        .limit(200)
        .into_boxed();
    if actor.role != Role::Admin {
        let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
        query = query.filter(training_sessions::region_id.eq(region.0));
    }
    query = if q.past.unwrap_or(false) {
        query
            .filter(training_sessions::starts_at.le(t))
            .order(training_sessions::starts_at.desc())
    } else {
        query
            .filter(training_sessions::starts_at.gt(t))
            .order(training_sessions::starts_at.asc())
    };
    let rows: Vec<TrainingSessionRow> = query.load(conn)?;
    rows.into_iter()
        .map(|s| session_view(conn, actor.lang, s))
        .collect()
}

/// A session with its bookings: all of them for the region's coordinator (and admins),
/// the caller's organisation's for a social worker.
pub fn get(
    conn: &mut DbConnection,
    actor: &Actor,
    id: TrainingSessionId,
) -> ApiResult<TrainingSessionDetail> {
    let s = load_visible(conn, actor, id)?;
    let mut query = training_bookings::table
        .filter(training_bookings::session_id.eq(s.id))
        .filter(training_bookings::status.ne(BookingStatus::Cancelled.as_str()))
        .order((training_bookings::status.asc(), training_bookings::id.asc()))
        .select(training_bookings::id)
        .into_boxed();
    if actor.role == Role::SocialWorker {
        let org = own_org(actor)?;
        query = query.filter(training_bookings::organisation_id.eq(org.0));
    }
    let ids: Vec<i64> = query.load(conn)?;
    let bookings = ids
        .into_iter()
        .map(|b| booking_view(conn, actor, BookingId(b)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(TrainingSessionDetail {
        session: session_view(conn, actor.lang, s)?,
        bookings,
    })
}

/// A coordinator plans a session at a training venue of their region.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    n: &NewTrainingSession,
) -> ApiResult<TrainingSessionView> {
    actor.require(&[Role::Coordinator, Role::Admin])?;
    check(actor, validate::text("trainer", &n.trainer, 100))?;
    check(
        actor,
        validate::range("duration_minutes", n.duration_minutes.into(), 15, 600),
    )?;
    check(
        actor,
        validate::range("capacity", n.capacity.into(), 1, 200),
    )?;
    check(
        actor,
        validate::range("topics", n.topics.len() as i64, 1, 20),
    )?;
    let venue: Option<(String, Option<i64>)> = organisations::table
        .find(n.venue.0)
        .select((organisations::kind, organisations::region_id))
        .first(conn)
        .optional()?;
    let (kind, venue_region) = venue.ok_or_else(|| actor.err(ErrorCode::OrganisationNotFound))?;
    if kind != OrgKind::TrainingVenue.as_str() {
        return Err(ApiError::rule(
            FieldError::new(
                "venue",
                "doit être un lieu de formation",
                "must be a training venue",
            ),
            actor.lang,
        ));
    }
    let region = match actor.role {
        Role::Admin => venue_region.ok_or_else(|| actor.out_of_scope())?,
        _ => {
            let own = actor.region.ok_or_else(|| actor.out_of_scope())?;
            if venue_region != Some(own.0) {
                return Err(actor.out_of_scope());
            }
            own.0
        }
    };
    let known: Vec<String> = training_topics::table
        .select(training_topics::key)
        .load(conn)?;
    let mut keys: Vec<String> = Vec::new();
    for (i, k) in n.topics.iter().enumerate() {
        let k = k.trim().to_owned();
        if !known.contains(&k) {
            return Err(ApiError::rule(
                FieldError::new(format!("topics.{i}"), "thème inconnu", "unknown topic"),
                actor.lang,
            ));
        }
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    if n.starts_at <= Utc::now() {
        return Err(actor
            .err(ErrorCode::SessionPast)
            .with_details(serde_json::json!({"field": "starts_at"})));
    }
    let id: i64 = diesel::insert_into(training_sessions::table)
        .values(NewTrainingSessionRow {
            region_id: region,
            venue_id: n.venue.0,
            trainer: n.trainer.trim().to_owned(),
            starts_at: truncate(n.starts_at),
            duration_minutes: n.duration_minutes as i32,
            capacity: n.capacity as i32,
            topics: serde_json::to_string(&keys).map_err(ApiError::internal)?,
            created_by: actor.user.0,
            created_at: now(),
        })
        .returning(training_sessions::id)
        .get_result(conn)?;
    let row = load(conn, actor, TrainingSessionId(id))?;
    session_view(conn, actor.lang, row)
}

/// A session the caller may book `beneficiary` on: of their region, not started, not
/// already booked for them.
pub fn bookable(
    conn: &mut DbConnection,
    actor: &Actor,
    id: TrainingSessionId,
    beneficiary: i64,
) -> ApiResult<TrainingSessionRow> {
    let s = load_visible(conn, actor, id)?;
    if s.starts_at <= now() {
        return Err(actor.err(ErrorCode::SessionPast));
    }
    let already: i64 = training_bookings::table
        .filter(training_bookings::session_id.eq(s.id))
        .filter(training_bookings::beneficiary_id.eq(beneficiary))
        .filter(training_bookings::status.ne(BookingStatus::Cancelled.as_str()))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Err(actor.err(ErrorCode::AlreadyBooked));
    }
    Ok(s)
}

/// Books a seat, or a place on the waiting list when the session is full.
pub fn book_seat(
    conn: &mut DbConnection,
    session: TrainingSessionRow,
    beneficiary: &BeneficiaryRow,
    reservation: Option<i64>,
    at: NaiveDateTime,
) -> ApiResult<i64> {
    let booked = count_status(conn, session.id, BookingStatus::Booked)?;
    let status = if booked < i64::from(session.capacity) {
        BookingStatus::Booked
    } else {
        BookingStatus::Waiting
    };
    let id = diesel::insert_into(training_bookings::table)
        .values(NewBookingRow {
            session_id: session.id,
            beneficiary_id: beneficiary.id,
            organisation_id: beneficiary.organisation_id,
            reservation_id: reservation,
            status: status.as_str().to_owned(),
            created_at: at,
            updated_at: at,
        })
        .returning(training_bookings::id)
        .get_result(conn)?;
    Ok(id)
}

/// A social worker books a seat for a beneficiary of their organisation.
pub fn book(conn: &mut DbConnection, actor: &Actor, n: &NewBooking) -> ApiResult<BookingView> {
    let beneficiary = load_own(conn, actor, n.beneficiary)?;
    if beneficiary.erased_at.is_some() {
        return Err(actor.err(ErrorCode::BeneficiaryErased));
    }
    if let Some(r) = n.reservation {
        let owner: Option<(i64, String)> = reservations::table
            .find(r.0)
            .select((reservations::beneficiary_id, reservations::status))
            .first(conn)
            .optional()?;
        match owner {
            Some((b, status)) if b == beneficiary.id => {
                if status != ReservationStatus::Active.as_str() {
                    return Err(actor.err(ErrorCode::ReservationNotActive));
                }
            }
            _ => return Err(actor.err(ErrorCode::ReservationNotFound)),
        }
    }
    let session = bookable(conn, actor, n.session, beneficiary.id)?;
    let id = book_seat(
        conn,
        session,
        &beneficiary,
        n.reservation.map(|r| r.0),
        now(),
    )
    .map_err(|e| {
        if e.code == ErrorCode::Duplicate {
            actor.err(ErrorCode::AlreadyBooked)
        } else {
            e
        }
    })?;
    booking_view(conn, actor, BookingId(id))
}

/// Gives a booking's seat (or waiting place) back; the first on the waiting list takes
/// a freed seat.
pub fn release(conn: &mut DbConnection, id: BookingId, at: NaiveDateTime) -> ApiResult<()> {
    let found: Option<(i64, String)> = training_bookings::table
        .find(id.0)
        .select((training_bookings::session_id, training_bookings::status))
        .first(conn)
        .optional()?;
    let Some((session, status)) = found else {
        return Ok(());
    };
    diesel::update(training_bookings::table.find(id.0))
        .set((
            training_bookings::status.eq(BookingStatus::Cancelled.as_str()),
            training_bookings::updated_at.eq(at),
        ))
        .execute(conn)?;
    if status == BookingStatus::Booked.as_str() {
        promote(conn, session, at)?;
    }
    Ok(())
}

/// Fills free seats from the waiting list, first come first served.
fn promote(conn: &mut DbConnection, session: i64, at: NaiveDateTime) -> ApiResult<()> {
    let capacity: i32 = training_sessions::table
        .find(session)
        .select(training_sessions::capacity)
        .first(conn)?;
    let booked = count_status(conn, session, BookingStatus::Booked)?;
    let free = i64::from(capacity) - booked;
    if free <= 0 {
        return Ok(());
    }
    let next: Vec<i64> = training_bookings::table
        .filter(training_bookings::session_id.eq(session))
        .filter(training_bookings::status.eq(BookingStatus::Waiting.as_str()))
        .order(training_bookings::id.asc())
        .select(training_bookings::id)
        .limit(free)
        .load(conn)?;
    for b in next {
        diesel::update(training_bookings::table.find(b))
            .set((
                training_bookings::status.eq(BookingStatus::Booked.as_str()),
                training_bookings::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn load_booking(conn: &mut DbConnection, actor: &Actor, id: BookingId) -> ApiResult<BookingRow> {
    let b: BookingRow = training_bookings::table
        .find(id.0)
        .select(BookingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::BookingNotFound))?;
    let region: i64 = training_sessions::table
        .find(b.session_id)
        .select(training_sessions::region_id)
        .first(conn)?;
    let visible = match actor.role {
        Role::SocialWorker => actor.org == Some(OrgId(b.organisation_id)),
        Role::Coordinator => actor.region == Some(RegionId(region)),
        Role::Admin => true,
        // The counter of the reservation's site sees the seat booked with it.
        Role::Technician => match b.reservation_id {
            Some(r) => {
                let site: i64 = crate::schema::reservations::table
                    .find(r)
                    .select(crate::schema::reservations::site_id)
                    .first(conn)?;
                actor.site == Some(SiteId(site))
            }
            None => false,
        },
    };
    if !visible {
        return Err(actor.err(ErrorCode::BookingNotFound));
    }
    Ok(b)
}

pub fn booking_view(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BookingId,
) -> ApiResult<BookingView> {
    let b = load_booking(conn, actor, id)?;
    let (starts_at, venue): (NaiveDateTime, i64) = training_sessions::table
        .find(b.session_id)
        .select((training_sessions::starts_at, training_sessions::venue_id))
        .first(conn)?;
    let venue_name: String = organisations::table
        .find(venue)
        .select(organisations::name)
        .first(conn)?;
    let reference: String = beneficiaries::table
        .find(b.beneficiary_id)
        .select(beneficiaries::reference)
        .first(conn)?;
    let status: BookingStatus = parse_stored(&b.status)?;
    let waiting_position = if status == BookingStatus::Waiting {
        let ahead: i64 = training_bookings::table
            .filter(training_bookings::session_id.eq(b.session_id))
            .filter(training_bookings::status.eq(BookingStatus::Waiting.as_str()))
            .filter(training_bookings::id.lt(b.id))
            .count()
            .get_result(conn)?;
        Some(ahead + 1)
    } else {
        None
    };
    Ok(BookingView {
        id: BookingId(b.id),
        session: TrainingSessionId(b.session_id),
        session_starts_at: utc(starts_at),
        venue_name,
        beneficiary: BeneficiaryId(b.beneficiary_id),
        reference,
        reservation: b.reservation_id.map(ReservationId),
        status,
        waiting_position,
        attendance: b.attendance.as_deref().map(parse_stored).transpose()?,
        created_at: utc(b.created_at),
    })
}

pub fn bookings_of_beneficiary(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BeneficiaryId,
) -> ApiResult<Vec<BookingView>> {
    let b = load_own(conn, actor, id)?;
    let ids: Vec<i64> = training_bookings::table
        .filter(training_bookings::beneficiary_id.eq(b.id))
        .order(training_bookings::id.desc())
        .select(training_bookings::id)
        .load(conn)?;
    ids.into_iter()
        .map(|i| booking_view(conn, actor, BookingId(i)))
        .collect()
}

/// The caller's organisation's bookings in sessions still to come.
pub fn upcoming_bookings(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<BookingView>> {
    let org = own_org(actor)?;
    let ids: Vec<i64> = training_bookings::table
        .inner_join(training_sessions::table)
        .filter(training_bookings::organisation_id.eq(org.0))
        .filter(training_bookings::status.ne(BookingStatus::Cancelled.as_str()))
        .filter(training_sessions::starts_at.gt(now()))
        .order(training_sessions::starts_at.asc())
        .select(training_bookings::id)
        .limit(200)
        .load(conn)?;
    ids.into_iter()
        .map(|i| booking_view(conn, actor, BookingId(i)))
        .collect()
}

/// A social worker cancels their organisation's booking (or a coordinator of the
/// region does).
pub fn cancel_booking(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BookingId,
) -> ApiResult<BookingView> {
    actor.require(&[Role::SocialWorker, Role::Coordinator])?;
    let b = load_booking(conn, actor, id)?;
    if b.status != BookingStatus::Cancelled.as_str() {
        release(conn, id, now())?;
    }
    booking_view(conn, actor, id)
}

/// The region's coordinator records who came, once the session has started.
pub fn record_attendance(
    conn: &mut DbConnection,
    actor: &Actor,
    id: TrainingSessionId,
    req: &RecordAttendance,
) -> ApiResult<TrainingSessionDetail> {
    actor.require(&[Role::Coordinator, Role::Admin])?;
    check(
        actor,
        validate::range("lines", req.lines.len() as i64, 1, 200),
    )?;
    let s = load_visible(conn, actor, id)?;
    if s.starts_at > now() {
        return Err(actor.err(ErrorCode::SessionNotPast));
    }
    let at = now();
    for (i, line) in req.lines.iter().enumerate() {
        let n = diesel::update(
            training_bookings::table
                .filter(training_bookings::id.eq(line.booking.0))
                .filter(training_bookings::session_id.eq(s.id))
                .filter(training_bookings::status.eq(BookingStatus::Booked.as_str())),
        )
        .set((
            training_bookings::attendance.eq(Some(line.attendance.as_str())),
            training_bookings::updated_at.eq(at),
        ))
        .execute(conn)?;
        if n != 1 {
            return Err(actor
                .err(ErrorCode::BookingNotFound)
                .with_details(serde_json::json!({"field": format!("lines.{i}.booking")})));
        }
    }
    get(conn, actor, id)
}
