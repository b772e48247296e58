//! The social worker's home: what needs doing first (a hold about to end, a proof
//! about to lapse), then reservations, pickups this week, training seats, and the
//! needs with the devices that now fit them.

use super::DeviceCard;
use crate::config::WebSettings;
use crate::db::Db;
use crate::service::{beneficiaries, needs, reservations, training};
use crate::web::account::page_read;
use crate::web::{Chrome, Visitor, html};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Duration, Utc};
use filiere_shared::names::Named;
use filiere_shared::social::*;
use filiere_shared::*;

pub struct ReservationLine {
    pub id: i64,
    pub reference: String,
    pub device: String,
    pub status: String,
    pub active: bool,
    pub pickup: String,
    pub until: String,
    pub site: String,
}

pub struct BookingLine {
    pub session: i64,
    pub reference: String,
    pub when: String,
    pub venue: String,
    pub status: String,
}

pub struct NeedLine {
    pub beneficiary: i64,
    pub reference: String,
    pub wanted: String,
    pub fitting: Vec<DeviceCard>,
}

#[derive(Template)]
#[template(path = "social/home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub todo: Vec<(String, String)>,
    pub reservations: Vec<ReservationLine>,
    pub pickups_this_week: Vec<ReservationLine>,
    pub bookings: Vec<BookingLine>,
    pub needs: Vec<NeedLine>,
    pub beneficiaries: usize,
}

pub fn need_summary(spec: &NeedSpec, lang: Lang) -> String {
    let mut parts = vec![spec.category.name(lang).to_owned()];
    if let Some(s) = spec.min_screen_inches {
        parts.push(format!("≥ {}", filiere_shared::names::inches_text(s, lang)));
    }
    if let Some(r) = spec.min_ram_gb {
        parts.push(format!("≥ {r} {} RAM", lang.pick("Go", "GB")));
    }
    if let Some(t) = &spec.storage_type {
        parts.push(filiere_shared::names::storage_type_text(t));
    }
    if let Some(g) = spec.min_storage_gb {
        parts.push(format!("≥ {g} {}", lang.pick("Go", "GB")));
    }
    parts.join(" · ")
}

pub fn reservation_line(
    r: &ReservationView,
    settings: &WebSettings,
    lang: Lang,
) -> ReservationLine {
    ReservationLine {
        id: r.id.0,
        reference: r.reference.clone(),
        device: super::DeviceCard::new(&r.item, &r.site.name, lang).title,
        status: r.status.name(lang).to_owned(),
        active: r.status == ReservationStatus::Active,
        pickup: settings.clock.long(r.pickup_at, lang),
        until: settings.clock.short(r.hold_until),
        site: r.site.name.clone(),
    }
}

pub async fn page(
    req: &HttpRequest,
    db: &Data<Db>,
    settings: &WebSettings,
    v: Visitor,
) -> HttpResponse {
    let lang = v.lang();
    let data = page_read(req, &v, db, |c, a| {
        let bens = beneficiaries::list(c, a)?;
        let res = reservations::list(c, a, &ReservationQuery::default())?;
        let bookings = training::upcoming_bookings(c, a)?;
        let needs = needs::list_open(c, a)?;
        Ok((bens, res, bookings, needs))
    })
    .await;
    let (bens, res, bookings, open_needs) = match data {
        Ok(d) => d,
        Err(r) => return r,
    };
    let now = Utc::now();
    let mut todo = Vec::new();
    for r in res.iter().filter(|r| r.status == ReservationStatus::Active) {
        if r.hold_until - now < Duration::hours(48) {
            todo.push((
                format!(
                    "{} {} — {} {}",
                    lang.pick("La réservation de", "The hold for"),
                    r.reference,
                    lang.pick("se termine le", "ends on"),
                    settings.clock.long(r.hold_until, lang)
                ),
                format!("/reservations/{}", r.id),
            ));
        }
        if r.booking.is_none() && r.training_refused.is_none() {
            todo.push((
                format!(
                    "{} {}",
                    r.reference,
                    lang.pick(
                        ": aucune formation réservée ni refus noté",
                        ": no training booked and no refusal recorded"
                    )
                ),
                format!("/reservations/{}", r.id),
            ));
        }
    }
    let today = now.date_naive();
    for b in bens.iter().filter(|b| b.erased_at.is_none()) {
        if let Some(until) = b.proof_valid_until {
            if until < today {
                todo.push((
                    format!(
                        "{} — {}",
                        b.reference,
                        lang.pick("justificatif expiré", "proof lapsed")
                    ),
                    format!("/beneficiaries/{}", b.id),
                ));
            } else if until - today <= Duration::days(14) {
                todo.push((
                    format!(
                        "{} — {} {}",
                        b.reference,
                        lang.pick("justificatif valable jusqu'au", "proof valid until"),
                        until.format("%d/%m/%Y")
                    ),
                    format!("/beneficiaries/{}", b.id),
                ));
            }
        }
    }
    let week_end = now + Duration::days(7);
    let lines: Vec<ReservationLine> = res
        .iter()
        .filter(|r| {
            r.status == ReservationStatus::Active || r.status == ReservationStatus::Fulfilled
        })
        .take(50)
        .map(|r| reservation_line(r, settings, lang))
        .collect();
    let pickups_this_week = res
        .iter()
        .filter(|r| r.status == ReservationStatus::Active && r.pickup_at <= week_end)
        .map(|r| reservation_line(r, settings, lang))
        .collect();
    let page = HomePage {
        chrome: Chrome::for_visitor(&v, lang.pick("Accueil", "Home"), "/")
            .with_error_code(crate::web::query_param(req, "error").as_deref()),
        todo,
        reservations: lines,
        pickups_this_week,
        bookings: bookings
            .iter()
            .map(|b| BookingLine {
                session: b.session.0,
                reference: b.reference.clone(),
                when: settings.clock.long(b.session_starts_at, lang),
                venue: b.venue_name.clone(),
                status: match b.waiting_position {
                    Some(p) => format!("{} ({p})", b.status.name(lang)),
                    None => b.status.name(lang).to_owned(),
                },
            })
            .collect(),
        needs: open_needs
            .iter()
            .map(|n| NeedLine {
                beneficiary: n.beneficiary.0,
                reference: n.reference.clone(),
                wanted: need_summary(&n.spec, lang),
                fitting: n
                    .fitting
                    .iter()
                    .map(|e| DeviceCard::new(&e.item, &e.site_name, lang))
                    .collect(),
            })
            .collect(),
        beneficiaries: bens.iter().filter(|b| b.erased_at.is_none()).count(),
    };
    html(StatusCode::OK, page.render())
}
