//! Training sessions: the coming ones with their free seats (and, for coordinators,
//! the past ones with attendance and a form to plan a new one); a session's page, to
//! book a seat or record who came.

use super::catalogue::Choice;
use crate::config::WebSettings;
use crate::db::Db;
use crate::routes::write;
use crate::service::{admin, beneficiaries, training};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, Fields, check_csrf, html, see_other};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::names::Named;
use filiere_shared::social::*;
use filiere_shared::*;

pub struct SessionLine {
    pub id: i64,
    pub when: String,
    pub venue: String,
    pub trainer: String,
    pub topics: String,
    pub seats: String,
    pub full: bool,
}

pub fn session_line(s: &TrainingSessionView, settings: &WebSettings, lang: Lang) -> SessionLine {
    SessionLine {
        id: s.id.0,
        when: settings.clock.long(s.starts_at, lang),
        venue: s.venue_name.clone(),
        trainer: s.trainer.clone(),
        topics: s
            .topics
            .iter()
            .map(|t| t.label.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        seats: if s.starts_at > chrono::Utc::now() {
            format!(
                "{} / {} {} · {} {}",
                s.booked,
                s.capacity,
                lang.pick("places prises", "seats taken"),
                s.waiting,
                lang.pick("en attente", "waiting")
            )
        } else {
            format!(
                "{} {} · {} {}",
                s.attended,
                lang.pick("présents", "attended"),
                s.no_show,
                lang.pick("absents", "no-show")
            )
        },
        full: s.free_seats == 0,
    }
}

#[derive(Template)]
#[template(path = "social/sessions.html")]
pub struct SessionsPage {
    pub chrome: Chrome,
    pub coming: Vec<SessionLine>,
    pub past: Vec<SessionLine>,
    pub coordinator: bool,
    pub venues: Vec<Choice>,
    pub topics: Vec<Choice>,
}

pub async fn list(req: HttpRequest, db: Data<Db>, settings: Data<WebSettings>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let coordinator = matches!(v.actor.role, Role::Coordinator | Role::Admin);
    let found = page_read(&req, &v, &db, move |c, a| {
        let coming = training::list(c, a, &SessionQuery { past: Some(false) })?;
        let past = training::list(c, a, &SessionQuery { past: Some(true) })?;
        let venues = if coordinator {
            admin::list_organisations(c, a)?
        } else {
            Vec::new()
        };
        let topics = training::topics(c, a.lang)?;
        Ok((coming, past, venues, topics))
    })
    .await;
    let (coming, past, venues, topics) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let region = v.actor.region;
    let page = SessionsPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Formations", "Training"), "/training")
            .with_error_code(crate::web::query_param(&req, "error").as_deref()),
        coming: coming
            .iter()
            .map(|s| session_line(s, &settings, lang))
            .collect(),
        past: past
            .iter()
            .take(30)
            .map(|s| session_line(s, &settings, lang))
            .collect(),
        coordinator,
        venues: venues
            .iter()
            .filter(|o| {
                o.kind == OrgKind::TrainingVenue && (region.is_none() || o.region == region)
            })
            .map(|o| Choice {
                value: o.id.to_string(),
                label: o.name.clone(),
                selected: false,
            })
            .collect(),
        topics: topics
            .into_iter()
            .map(|t| Choice {
                value: t.key,
                label: t.label,
                selected: false,
            })
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

pub struct BookingRow {
    pub id: i64,
    pub reference: String,
    pub status: String,
    pub booked: bool,
    pub attendance: String,
    pub attended: bool,
    pub no_show: bool,
    pub reservation: Option<i64>,
}

#[derive(Template)]
#[template(path = "social/session.html")]
pub struct SessionPage {
    pub chrome: Chrome,
    pub session: SessionLine,
    pub address: String,
    pub duration: u32,
    pub started: bool,
    pub bookings: Vec<BookingRow>,
    pub beneficiaries: Vec<Choice>,
    pub social: bool,
    pub coordinator: bool,
}

pub async fn show(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let id = TrainingSessionId(id.into_inner());
    let social = v.actor.role == Role::SocialWorker;
    let found = page_read(&req, &v, &db, move |c, a| {
        let d = training::get(c, a, id)?;
        let bens = if social {
            beneficiaries::list(c, a)?
        } else {
            Vec::new()
        };
        Ok((d, bens))
    })
    .await;
    let (d, bens) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let notice = match crate::web::query_param(&req, "done").as_deref() {
        Some("booked") => Some(
            lang.pick("Inscription enregistrée.", "Booking recorded.")
                .to_owned(),
        ),
        Some("cancelled") => Some(
            lang.pick("Inscription annulée.", "Booking cancelled.")
                .to_owned(),
        ),
        Some("attendance") => Some(
            lang.pick("Présences enregistrées.", "Attendance recorded.")
                .to_owned(),
        ),
        _ => None,
    };
    let page = SessionPage {
        chrome: Chrome::for_visitor(
            &v,
            lang.pick("Session de formation", "Training session"),
            "/training",
        )
        .with_error_code(crate::web::query_param(&req, "error").as_deref())
        .with_notice(notice),
        address: d.session.venue_address.clone().unwrap_or_default(),
        duration: d.session.duration_minutes,
        started: d.session.starts_at <= chrono::Utc::now(),
        session: session_line(&d.session, &settings, lang),
        bookings: d
            .bookings
            .iter()
            .map(|b| BookingRow {
                id: b.id.0,
                reference: b.reference.clone(),
                status: match b.waiting_position {
                    Some(p) => format!("{} ({p})", b.status.name(lang)),
                    None => b.status.name(lang).to_owned(),
                },
                booked: b.status == BookingStatus::Booked,
                attendance: b
                    .attendance
                    .map(|x| x.name(lang).to_owned())
                    .unwrap_or_default(),
                attended: b.attendance == Some(Attendance::Attended),
                no_show: b.attendance == Some(Attendance::NoShow),
                reservation: b.reservation.map(|r| r.0),
            })
            .collect(),
        beneficiaries: bens
            .iter()
            .filter(|b| b.erased_at.is_none())
            .map(|b| Choice {
                value: b.id.to_string(),
                label: b.reference.clone(),
                selected: false,
            })
            .collect(),
        social,
        coordinator: matches!(v.actor.role, Role::Coordinator | Role::Admin),
    };
    html(StatusCode::OK, page.render())
}

/// Books a seat (or a waiting place) for a beneficiary; back to where it came from.
pub async fn book(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let session: Option<i64> = f.get("session").parse().ok();
    let beneficiary: Option<i64> = f.get("beneficiary").parse().ok();
    let reservation: Option<i64> = f.get("reservation").parse().ok();
    let back = match reservation {
        Some(r) => format!("/reservations/{r}"),
        None => format!("/training/{}", session.unwrap_or(0)),
    };
    let (Some(session), Some(beneficiary)) = (session, beneficiary) else {
        return see_other(&format!(
            "{back}?error={}",
            ErrorCode::InvalidInput.as_str()
        ));
    };
    let actor = v.actor.clone();
    let n = NewBooking {
        session: TrainingSessionId(session),
        beneficiary: BeneficiaryId(beneficiary),
        reservation: reservation.map(ReservationId),
    };
    match write(&db, move |c| training::book(c, &actor, &n)).await {
        Ok(_) => see_other(&format!("{back}?done=booked")),
        Err(e) => see_other(&format!("{back}?error={}", e.code.as_str())),
    }
}

pub async fn cancel_booking(
    req: HttpRequest,
    db: Data<Db>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let id = BookingId(id.into_inner());
    let actor = v.actor.clone();
    let back = crate::web::safe_next(f.get("back")).to_owned();
    match write(&db, move |c| training::cancel_booking(c, &actor, id)).await {
        Ok(b) => see_other(&if back == "/" {
            format!("/training/{}?done=cancelled", b.session)
        } else {
            back
        }),
        Err(e) => see_other(&format!("/?error={}", e.code.as_str())),
    }
}
