//! The social side of the demo: beneficiaries of three organisations, training sessions
//! past (with attendance) and to come (with free seats, and one full with a waiting
//! list), reservations active, cancelled and expired, and needs, one of which a ready
//! device now fits. All through the service functions; only the clock is moved (a
//! session or a hold put in the past), the way time would have.

use super::DemoError;
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::models::truncate;
use crate::schema::{reservations, training_sessions};
use crate::service::{beneficiaries, catalogue, needs, reservations as res, training};
use chrono::{Datelike, Duration, Months, NaiveDate, Utc};
use diesel::prelude::*;
use filiere_shared::social::*;
use filiere_shared::*;
use std::collections::HashMap;

pub struct Counts {
    pub reservations: usize,
    pub sessions: usize,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn beneficiary(
    conn: &mut DbConnection,
    sw: &Actor,
    reference: &str,
    household: u32,
    proof: &str,
    proof_age_days: i64,
) -> Result<BeneficiaryView, DemoError> {
    Ok(beneficiaries::create(
        conn,
        sw,
        &NewBeneficiary {
            reference: Some(reference.into()),
            household_size: household,
            proof_type: proof.into(),
            proof_date: today() - Duration::days(proof_age_days),
            consent: true,
            contact: None,
            notes: None,
        },
    )?)
}

/// A session starting `in_days` from now, 14:00 UTC.
fn session(
    conn: &mut DbConnection,
    coord: &Actor,
    venue: OrgId,
    trainer: &str,
    in_days: i64,
    capacity: u32,
    topics: &[&str],
) -> Result<TrainingSessionView, DemoError> {
    let day = (Utc::now() + Duration::days(in_days.max(1))).date_naive();
    let starts_at = day
        .and_hms_opt(13, 30, 0)
        .map(|t| t.and_utc())
        .unwrap_or_else(Utc::now);
    Ok(training::create(
        conn,
        coord,
        &NewTrainingSession {
            venue,
            trainer: trainer.into(),
            starts_at,
            duration_minutes: 150,
            capacity,
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        },
    )?)
}

/// Moves a session into the past (it took place `days_ago`, in the afternoon).
fn took_place(
    conn: &mut DbConnection,
    s: TrainingSessionId,
    days_ago: i64,
) -> Result<(), DemoError> {
    let day = (Utc::now() - Duration::days(days_ago)).date_naive();
    let at = day.and_hms_opt(13, 30, 0).unwrap_or_default();
    diesel::update(training_sessions::table.find(s.0))
        .set(training_sessions::starts_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// A ready laptop of the social worker's region with at least a 14" screen and 8 GB,
/// the `skip`-th one.
fn a_laptop(conn: &mut DbConnection, sw: &Actor, skip: usize) -> Result<Option<ItemId>, DemoError> {
    let page = catalogue::search(
        conn,
        &CatalogueQuery {
            category: Some(Category::Laptop),
            min_screen: Some(14.0),
            min_ram_gb: Some(8),
            per_page: Some(20),
            ..CatalogueQuery::default()
        },
        sw,
    )?;
    Ok(page.items.get(skip).map(|e| e.item.id))
}

/// 14:00 in Paris (13:00 UTC in winter) on the next working day after tomorrow.
fn next_working_afternoon() -> chrono::DateTime<Utc> {
    use chrono::Datelike;
    let mut day = (Utc::now() + Duration::days(2)).date_naive();
    while matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
        day += Duration::days(1);
    }
    day.and_hms_opt(13, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_else(|| Utc::now() + Duration::days(2))
}

fn reserve(
    conn: &mut DbConnection,
    sw: &Actor,
    item: ItemId,
    b: &BeneficiaryView,
    session: Option<TrainingSessionId>,
) -> Result<ReservationView, DemoError> {
    Ok(res::reserve(
        conn,
        sw,
        &NewReservation {
            item,
            beneficiary: b.id,
            pickup_at: next_working_afternoon(),
            session,
            override_reason: None,
        },
        res::Rules::default(),
    )?)
}

pub fn load(
    conn: &mut DbConnection,
    social_workers: &HashMap<String, Actor>,
    coordinators: &HashMap<RegionId, Actor>,
    venues: &HashMap<String, OrgId>,
) -> Result<Counts, DemoError> {
    let sw = |name: &str| {
        social_workers
            .get(name)
            .cloned()
            .ok_or(DemoError::Unknown("social worker", name.into()))
    };
    let venue = |key: &str| {
        venues
            .get(key)
            .copied()
            .ok_or(DemoError::Unknown("training venue", key.into()))
    };
    let sophie = sw("sophie")?;
    let nadia = sw("nadia")?;
    let paul = sw("paul")?;
    let region_of = |a: &Actor| {
        a.region
            .ok_or(DemoError::Unknown("region of", a.name.clone()))
    };
    let claire = coordinators
        .get(&region_of(&sophie)?)
        .cloned()
        .ok_or(DemoError::Unknown("coordinator of", sophie.name.clone()))?;
    let yann = coordinators
        .get(&region_of(&paul)?)
        .cloned()
        .ok_or(DemoError::Unknown("coordinator of", paul.name.clone()))?;

    // Beneficiaries: references are the organisations' own file numbers.
    let s1 = beneficiary(conn, &sophie, "CCAS-2026-0141", 3, "caf", 20)?;
    let s2 = beneficiary(conn, &sophie, "CCAS-2026-0152", 1, "rsa", 45)?;
    let s3 = beneficiary(conn, &sophie, "CCAS-2026-0163", 4, "css", 100)?;
    let s4 = beneficiary(conn, &sophie, "CCAS-2026-0170", 2, "caf", 80)?;
    let s5 = beneficiary(conn, &sophie, "CCAS-2026-0178", 5, "tax_notice", 30)?;
    let s6 = beneficiary(conn, &sophie, "CCAS-2026-0181", 2, "france_travail", 10)?;
    let n1 = beneficiary(conn, &nadia, "EV-318", 2, "referral", 15)?;
    let n2 = beneficiary(conn, &nadia, "EV-322", 6, "caf", 60)?;
    let n3 = beneficiary(conn, &nadia, "EV-327", 1, "css", 200)?;
    let p1 = beneficiary(conn, &paul, "SSM-0912", 3, "caf", 12)?;
    let p2 = beneficiary(conn, &paul, "SSM-0915", 2, "rsa", 40)?;
    // A proof that lapsed since: the reservation will be refused until it is updated.
    let lapsed = beneficiary(conn, &sophie, "CCAS-2026-0099", 2, "caf", 60)?;
    diesel::update(crate::schema::beneficiaries::table.find(lapsed.id.0))
        .set(crate::schema::beneficiaries::proof_date.eq(Some(today() - Duration::days(120))))
        .execute(conn)?;

    // Training: a past session with attendance, coming ones with free seats, one full.
    let epn = venue("epn")?;
    let media = venue("mediatheque")?;
    let past = session(
        conn,
        &claire,
        epn,
        "Awa Diallo",
        1,
        8,
        &["getting_started", "email", "online_safety"],
    )?;
    let soon = session(
        conn,
        &claire,
        epn,
        "Awa Diallo",
        4,
        8,
        &["getting_started", "email"],
    )?;
    let full = session(
        conn,
        &claire,
        media,
        "Julien Morel",
        9,
        2,
        &["online_procedures", "online_safety"],
    )?;
    let later = session(
        conn,
        &claire,
        media,
        "Julien Morel",
        16,
        10,
        &["getting_started", "office_software"],
    )?;
    let idf = session(
        conn,
        &yann,
        venue("epn_montreuil")?,
        "Léa Martin",
        6,
        6,
        &["getting_started", "job_search"],
    )?;
    let past_bookings: Vec<BookingView> = [&s5, &s6, &n3]
        .iter()
        .map(|b| {
            let actor = if b.organisation == sophie.org.unwrap_or(OrgId(0)) {
                &sophie
            } else {
                &nadia
            };
            training::book(
                conn,
                actor,
                &NewBooking {
                    session: past.id,
                    beneficiary: b.id,
                    reservation: None,
                },
            )
        })
        .collect::<Result<_, _>>()?;
    took_place(conn, past.id, 10)?;
    training::record_attendance(
        conn,
        &claire,
        past.id,
        &RecordAttendance {
            lines: past_bookings
                .iter()
                .enumerate()
                .map(|(i, b)| AttendanceLine {
                    booking: b.id,
                    attendance: if i == 1 {
                        Attendance::NoShow
                    } else {
                        Attendance::Attended
                    },
                })
                .collect(),
        },
    )?;
    // Last month's session (on the 18th), so that last month's impact has its
    // training hours.
    let last_month = session(
        conn,
        &claire,
        media,
        "Julien Morel",
        2,
        8,
        &["getting_started", "online_procedures"],
    )?;
    let last_bookings: Vec<BookingView> = [(&sophie, &s6), (&nadia, &n3)]
        .iter()
        .map(|(actor, b)| {
            training::book(
                conn,
                actor,
                &NewBooking {
                    session: last_month.id,
                    beneficiary: b.id,
                    reservation: None,
                },
            )
        })
        .collect::<Result<_, _>>()?;
    let this_month = today().with_day(1).unwrap_or_else(today);
    let eighteenth = this_month - Months::new(1) + Duration::days(17);
    took_place(conn, last_month.id, (today() - eighteenth).num_days())?;
    training::record_attendance(
        conn,
        &claire,
        last_month.id,
        &RecordAttendance {
            lines: last_bookings
                .iter()
                .map(|b| AttendanceLine {
                    booking: b.id,
                    attendance: Attendance::Attended,
                })
                .collect(),
        },
    )?;
    // The full session: two seats taken, one beneficiary waiting.
    training::book(
        conn,
        &nadia,
        &NewBooking {
            session: full.id,
            beneficiary: n1.id,
            reservation: None,
        },
    )?;
    training::book(
        conn,
        &sophie,
        &NewBooking {
            session: full.id,
            beneficiary: s5.id,
            reservation: None,
        },
    )?;
    training::book(
        conn,
        &sophie,
        &NewBooking {
            session: full.id,
            beneficiary: s6.id,
            reservation: None,
        },
    )?;
    let _ = later;

    // Reservations: active ones (with a seat), one cancelled, one expired.
    let mut count_r = 0;
    if let Some(item) = a_laptop(conn, &sophie, 0)? {
        reserve(conn, &sophie, item, &s1, Some(soon.id))?;
        count_r += 1;
    }
    if let Some(item) = a_laptop(conn, &nadia, 0)? {
        reserve(conn, &nadia, item, &n2, Some(soon.id))?;
        count_r += 1;
    }
    if let Some(item) = a_laptop(conn, &sophie, 0)? {
        let r = reserve(conn, &sophie, item, &s2, None)?;
        res::cancel(
            conn,
            &sophie,
            r.id,
            &CancelReservation {
                reason: Some("Le bénéficiaire a trouvé un ordinateur par sa famille.".into()),
            },
        )?;
        count_r += 1;
    }
    if let Some(item) = a_laptop(conn, &sophie, 1)? {
        let r = reserve(conn, &sophie, item, &s4, Some(later.id))?;
        // Nobody came: the hold ran out, and the sweep released it.
        diesel::update(reservations::table.find(r.id.0))
            .set(reservations::hold_until.eq(truncate(Utc::now() - Duration::hours(2))))
            .execute(conn)?;
        res::end(conn, None, r.id, true, None, Lang::Fr)?;
        count_r += 1;
    }
    if let Some(item) = a_laptop(conn, &paul, 0)? {
        reserve(conn, &paul, item, &p1, Some(idf.id))?;
        count_r += 1;
    }
    // Needs: one nothing fits, one a ready device fits now.
    needs::create(
        conn,
        &sophie,
        &NewNeed {
            beneficiary: s3.id,
            category: Category::Desktop,
            min_screen_inches: None,
            min_ram_gb: Some(64),
            storage_type: None,
            min_storage_gb: None,
        },
    )?;
    needs::create(
        conn,
        &sophie,
        &NewNeed {
            beneficiary: s6.id,
            category: Category::Laptop,
            min_screen_inches: Some(14.0),
            min_ram_gb: Some(8),
            storage_type: None,
            min_storage_gb: None,
        },
    )?;
    needs::create(
        conn,
        &paul,
        &NewNeed {
            beneficiary: p2.id,
            category: Category::Laptop,
            min_screen_inches: None,
            min_ram_gb: Some(4),
            storage_type: Some("ssd".into()),
            min_storage_gb: None,
        },
    )?;
    Ok(Counts {
        reservations: count_r,
        sessions: 6,
    })
}
