//! The coordinator's pages for now: a home with the region's training sessions and
//! attendance and its reservations (references only, never an identity), and the
//! session forms (plan one, record who came, print the attendance sheet).

use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::routes::{pdf_response, read, write};
use crate::service::{beneficiaries, documents, needs, reservations, training};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::social::home::{ReservationLine, reservation_line};
use crate::web::social::training::{SessionLine, session_line};
use crate::web::{Chrome, Fields, Visitor, check_csrf, error_page, html, see_other};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::names::Named;
use filiere_shared::social::*;
use filiere_shared::*;

pub struct CountLine {
    pub name: String,
    pub beneficiaries: i64,
    pub reservations: i64,
    pub needs: i64,
}

pub struct NeedCountLine {
    pub category: String,
    pub needs: i64,
    pub ready: i64,
}

#[derive(Template)]
#[template(path = "coordinator/home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub coming: Vec<SessionLine>,
    pub past: Vec<SessionLine>,
    pub reservations: Vec<ReservationLine>,
    pub counts: Vec<CountLine>,
    pub needs: Vec<NeedCountLine>,
    /// Donors' offers waiting for a decision.
    pub offers: usize,
    pub collections: Vec<crate::web::coordination::collections::CollectionLine>,
}

pub async fn home(
    req: &HttpRequest,
    db: &Data<Db>,
    settings: &WebSettings,
    v: Visitor,
) -> HttpResponse {
    let lang = v.lang();
    let found = page_read(req, &v, db, |c, a| {
        let coming = training::list(c, a, &SessionQuery { past: Some(false) })?;
        let past = training::list(c, a, &SessionQuery { past: Some(true) })?;
        let res = reservations::list(
            c,
            a,
            &ReservationQuery {
                status: Some(ReservationStatus::Active),
                beneficiary: None,
            },
        )?;
        let counts = beneficiaries::counts(c, a)?;
        let needs = needs::counts(c, a)?;
        let offers = crate::service::offers::list(c, a, Some(OfferStatus::Proposed))?.len();
        let open =
            crate::service::collections::list_filtered(c, a, Some(CollectionStatus::Planned))?;
        let sites = crate::web::coordination::site_names(&crate::web::coordination::sites(c, a)?);
        Ok((coming, past, res, counts, needs, offers, open, sites))
    })
    .await;
    let (coming, past, res, counts, need_counts, offers, open, sites) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = HomePage {
        chrome: Chrome::for_visitor(&v, lang.pick("Accueil", "Home"), "/"),
        coming: coming
            .iter()
            .map(|s| session_line(s, settings, lang))
            .collect(),
        past: past
            .iter()
            .take(10)
            .map(|s| session_line(s, settings, lang))
            .collect(),
        reservations: res
            .iter()
            .map(|r| reservation_line(r, settings, lang))
            .collect(),
        counts: counts
            .into_iter()
            .map(|c| CountLine {
                name: c.organisation_name,
                beneficiaries: c.beneficiaries,
                reservations: c.active_reservations,
                needs: c.open_needs,
            })
            .collect(),
        needs: need_counts
            .into_iter()
            .map(|n| NeedCountLine {
                category: n.category.name(lang).to_owned(),
                needs: n.needs,
                ready: n.ready_devices,
            })
            .collect(),
        offers,
        collections: open
            .iter()
            .map(|c| crate::web::coordination::collections::line(c, &sites, settings))
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

/// Plans a session (the form on the training page).
pub async fn create_session(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    body: Bytes,
) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let lang = v.lang();
    let field = |name: &str, fr: &str, en: &str| {
        ApiError::field(
            filiere_shared::validate::FieldError::new(name, fr, en),
            lang,
        )
    };
    let parsed = (|| {
        let venue = f
            .get("venue")
            .parse()
            .map(OrgId)
            .map_err(|_| field("venue", "choisissez un lieu", "choose a venue"))?;
        let starts_at = settings
            .clock
            .parse_input(f.get("starts_at"))
            .ok_or_else(|| {
                field(
                    "starts_at",
                    "date et heure attendues",
                    "a date and time are expected",
                )
            })?;
        let duration_minutes = f.get("duration_minutes").parse().map_err(|_| {
            field(
                "duration_minutes",
                "durée en minutes attendue",
                "a duration in minutes is expected",
            )
        })?;
        let capacity = f.get("capacity").parse().map_err(|_| {
            field(
                "capacity",
                "nombre de places attendu",
                "a number of seats is expected",
            )
        })?;
        Ok::<_, ApiError>(NewTrainingSession {
            venue,
            trainer: f.get("trainer").to_owned(),
            starts_at,
            duration_minutes,
            capacity,
            topics: f.all("topics").into_iter().map(str::to_owned).collect(),
        })
    })();
    let n = match parsed {
        Ok(n) => n,
        Err(e) => return error_page(&req, Some(&v), &e),
    };
    let actor = v.actor.clone();
    match write(&db, move |c| training::create(c, &actor, &n)).await {
        Ok(s) => see_other(&format!("/training/{}", s.id)),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

/// Records who came: one choice per booked seat.
pub async fn attendance(
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
    let id = id.into_inner();
    let mut lines = Vec::new();
    for (k, val) in f.pairs() {
        let Some(booking) = k.strip_prefix("attendance_").and_then(|b| b.parse().ok()) else {
            continue;
        };
        let attendance = match val.as_str() {
            "attended" => Attendance::Attended,
            "no_show" => Attendance::NoShow,
            _ => continue,
        };
        lines.push(AttendanceLine {
            booking: BookingId(booking),
            attendance,
        });
    }
    let actor = v.actor.clone();
    let req_body = RecordAttendance { lines };
    match write(&db, move |c| {
        training::record_attendance(c, &actor, TrainingSessionId(id), &req_body)
    })
    .await
    {
        Ok(_) => see_other(&format!("/training/{id}?done=attendance")),
        Err(e) => see_other(&format!("/training/{id}?error={}", e.code.as_str())),
    }
}

pub async fn attendance_sheet(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let id = TrainingSessionId(id.into_inner());
    let clock = settings.clock;
    let actor = v.actor.clone();
    match read(&db, move |c| {
        documents::attendance_pdf(c, &actor, id, clock)
    })
    .await
    {
        Ok(pdf) => pdf_response(pdf, &format!("emargement-session-{id}.pdf")),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}
