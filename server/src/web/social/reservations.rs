//! A reservation's page (the voucher, cancelling, the training booked or declined),
//! and the reservation form's target.

use super::catalogue::{Entered, device_page};
use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::routes::{pdf_response, read, write};
use crate::service::{documents, reservations, training};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, Fields, check_csrf, error_page, form_action, html, see_other};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::names::Named;
use filiere_shared::social::*;
use filiere_shared::*;

fn bad_field(lang: Lang, field: &str, fr: &str, en: &str) -> ApiError {
    ApiError::field(
        filiere_shared::validate::FieldError::new(field, fr, en),
        lang,
    )
}

/// The reservation form, from a device's page.
pub async fn create(
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
    let item: Option<i64> = f.get("item").parse().ok();
    let Some(item) = item else {
        return error_page(&req, Some(&v), &ApiError::new(ErrorCode::ItemNotFound));
    };
    let entered = Entered {
        beneficiary: f.get("beneficiary").parse().ok(),
        session: f.get("session").parse().ok(),
        pickup: Some(f.get("pickup_at").to_owned()),
        override_reason: f.get("override_reason").to_owned(),
        show_override: !f.get("override_reason").is_empty(),
    };
    let refused = |e: ApiError, entered: Entered| {
        let req = req.clone();
        let db = db.clone();
        let settings = settings.clone();
        let v = v.clone();
        async move {
            // The device went to someone else: its page is no longer there to show.
            if matches!(
                e.code,
                ErrorCode::AlreadyReserved | ErrorCode::NotAvailable | ErrorCode::ItemNotFound
            ) {
                return crate::web::error_page_back(&req, Some(&v), &e, Some("/catalogue".into()));
            }
            let show_override = entered.show_override || e.code == ErrorCode::HouseholdLimit;
            device_page(
                &req,
                &db,
                &settings,
                &v,
                ItemId(item),
                Entered {
                    show_override,
                    ..entered
                },
                Some(&e),
                None,
            )
            .await
        }
    };
    let Some(beneficiary) = entered.beneficiary else {
        let e = bad_field(
            lang,
            "beneficiary",
            "choisissez un bénéficiaire",
            "choose a beneficiary",
        );
        return refused(e, entered).await;
    };
    let Some(pickup_at) = settings.clock.parse_input(f.get("pickup_at")) else {
        let e = bad_field(
            lang,
            "pickup_at",
            "date et heure de retrait attendues",
            "a pickup date and time is needed",
        );
        return refused(e, entered).await;
    };
    let request = NewReservation {
        item: ItemId(item),
        beneficiary: BeneficiaryId(beneficiary),
        pickup_at,
        session: entered.session.map(TrainingSessionId),
        override_reason: f.opt("override_reason"),
    };
    let actor = v.actor.clone();
    let rules = settings.rules;
    match write(&db, move |c| {
        reservations::reserve(c, &actor, &request, rules)
    })
    .await
    {
        Ok(r) => see_other(&format!("/reservations/{}?done=reserved", r.id)),
        Err(e) => refused(e.in_lang(lang), entered).await,
    }
}

pub struct BookingInfo {
    pub id: i64,
    pub session: i64,
    pub when: String,
    pub venue: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "social/reservation.html")]
pub struct ReservationPage {
    pub chrome: Chrome,
    pub id: i64,
    pub reference: String,
    pub beneficiary: i64,
    pub device: super::DeviceCard,
    pub status: String,
    pub active: bool,
    pub pickup: String,
    pub until: String,
    pub site: SitePlace,
    pub booking: Option<BookingInfo>,
    pub training_refused: Option<String>,
    pub sessions: Vec<super::catalogue::Choice>,
    pub social: bool,
    pub end_reason: Option<String>,
    pub override_reason: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let id = ReservationId(id.into_inner());
    let found = page_read(&req, &v, &db, move |c, a| {
        let r = reservations::get(c, a, id)?;
        let sessions = if a.role == Role::SocialWorker {
            training::list(c, a, &SessionQuery::default())?
        } else {
            Vec::new()
        };
        Ok((r, sessions))
    })
    .await;
    let (r, sessions) = match found {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let notice = match crate::web::query_param(&req, "done").as_deref() {
        Some("reserved") => Some(lang.pick(
            "Réservé. Imprimez le bon de retrait ou envoyez-le au bénéficiaire.",
            "Reserved. Print the pickup voucher or send it to the beneficiary.",
        )),
        Some("cancelled") => Some(lang.pick("Réservation annulée.", "Reservation cancelled.")),
        Some("booked") => Some(lang.pick("Formation réservée.", "Training booked.")),
        Some("refused") => {
            Some(lang.pick("Refus de formation noté.", "Training refusal recorded."))
        }
        _ => None,
    };
    let page = ReservationPage {
        chrome: Chrome::for_visitor(
            &v,
            &format!("{} {}", lang.pick("Réservation", "Reservation"), r.id),
            "",
        )
        .with_error_code(crate::web::query_param(&req, "error").as_deref())
        .with_notice(notice.map(str::to_owned)),
        id: r.id.0,
        reference: r.reference.clone(),
        beneficiary: r.beneficiary.0,
        device: super::DeviceCard::new(&r.item, &r.site.name, lang),
        status: r.status.name(lang).to_owned(),
        active: r.status == ReservationStatus::Active,
        pickup: settings.clock.long(r.pickup_at, lang),
        until: settings.clock.long(r.hold_until, lang),
        site: r.site.clone(),
        booking: r.booking.as_ref().map(|b| BookingInfo {
            id: b.id.0,
            session: b.session.0,
            when: settings.clock.long(b.session_starts_at, lang),
            venue: b.venue_name.clone(),
            status: match b.waiting_position {
                Some(p) => format!(
                    "{} ({} {p})",
                    b.status.name(lang),
                    lang.pick("rang", "place")
                ),
                None => b.status.name(lang).to_owned(),
            },
        }),
        training_refused: r.training_refused.clone(),
        sessions: sessions
            .iter()
            .map(|s| super::catalogue::Choice {
                value: s.id.to_string(),
                label: format!(
                    "{} — {} ({} {})",
                    settings.clock.long(s.starts_at, lang),
                    s.venue_name,
                    s.free_seats,
                    lang.pick("place(s) libre(s)", "free seat(s)")
                ),
                selected: false,
            })
            .collect(),
        social: v.actor.role == Role::SocialWorker,
        end_reason: r.end_reason.clone(),
        override_reason: r.override_reason.clone(),
    };
    html(StatusCode::OK, page.render())
}

pub async fn cancel(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = id.into_inner();
    form_action(
        req,
        db,
        body,
        Some(format!("/reservations/{id}")),
        move |c, a, f| {
            reservations::cancel(
                c,
                a,
                ReservationId(id),
                &CancelReservation {
                    reason: f.opt("reason"),
                },
            )
            .map(|_| format!("/reservations/{id}?done=cancelled"))
        },
    )
    .await
}

pub async fn refuse_training(
    req: HttpRequest,
    db: Data<Db>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let id = id.into_inner();
    form_action(
        req,
        db,
        body,
        Some(format!("/reservations/{id}")),
        move |c, a, f| {
            let reason = f.get("reason").to_owned();
            if reason.is_empty() {
                return Err(ApiError::field(
                    filiere_shared::validate::FieldError::new(
                        "reason",
                        "indiquez la raison",
                        "give the reason",
                    ),
                    a.lang,
                ));
            }
            reservations::refuse_training(c, a, ReservationId(id), &RefuseTraining { reason })
                .map(|_| format!("/reservations/{id}?done=refused"))
        },
    )
    .await
}

pub async fn voucher(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let id = ReservationId(id.into_inner());
    let (host, clock) = (settings.public_host.clone(), settings.clock);
    let actor = v.actor.clone();
    match read(&db, move |c| {
        documents::voucher_pdf(c, &actor, id, host.as_deref(), clock)
    })
    .await
    {
        Ok(pdf) => pdf_response(pdf, &format!("bon-de-retrait-{id}.pdf")),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

/// A voucher's QR code opened on a phone: the reservation's page.
pub async fn by_voucher(id: Path<String>) -> HttpResponse {
    match id.into_inner().parse::<i64>() {
        Ok(id) => see_other(&format!("/reservations/{id}")),
        Err(_) => see_other("/"),
    }
}
