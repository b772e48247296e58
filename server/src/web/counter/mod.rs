//! The workshop counter: a site's pickups of today and of the week, a scan field a
//! keyboard-wedge scanner types into (a pickup voucher's QR code, or a device's label),
//! the handover form that records the sale at the region's solidarity price, and a
//! coordinator's sale to a partner organisation. Technicians use it with their own
//! password; the sale's rules are the API's (`service::sales`).

pub mod sales;

use crate::clock::Clock;
use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::routes::{read, write};
use crate::service::sales::Handover;
use crate::service::{items, reservations, sales as service};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, Fields, Visitor, check_csrf, error_page, html, see_other};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::Resolved;
use filiere_shared::names::Named;
use filiere_shared::sales::*;
use filiere_shared::social::{ReservationView, parse_voucher_scan};
use filiere_shared::*;

/// Rows of extra devices and of payments the handover form offers (no script adds
/// more).
const EXTRA_ROWS: usize = 3;
const PAYMENT_ROWS: usize = 3;

pub struct Pickup {
    pub id: i64,
    pub when: String,
    pub reference: String,
    pub device: String,
    pub code: String,
    pub training: String,
}

fn pickup(r: &ReservationView, clock: Clock, lang: Lang) -> Pickup {
    Pickup {
        id: r.id.0,
        when: clock.short(r.pickup_at),
        reference: r.reference.clone(),
        device: super::social::DeviceCard::new(&r.item, &r.site.name, lang).title,
        code: r.item.code.hyphenated(),
        training: training_line(r, clock, lang),
    }
}

/// What the counter needs to know of the training: booked (when), declined, or
/// nothing yet (the sale will be refused).
fn training_line(r: &ReservationView, clock: Clock, lang: Lang) -> String {
    match (&r.booking, &r.training_refused) {
        (Some(b), _) if b.status == BookingStatus::Booked => format!(
            "{} {}",
            lang.pick("Formation réservée :", "Training booked:"),
            clock.long(b.session_starts_at, lang)
        ),
        (_, Some(reason)) => format!(
            "{} {reason}",
            lang.pick("Formation refusée :", "Training declined:")
        ),
        (Some(b), None) => format!(
            "{} ({})",
            lang.pick(
                "Formation en liste d'attente seulement",
                "Training: waiting list only"
            ),
            b.status.name(lang)
        ),
        (None, None) => lang
            .pick("Aucune formation réservée", "No training booked")
            .to_owned(),
    }
}

#[derive(Template)]
#[template(path = "counter/home.html")]
pub struct CounterPage {
    pub chrome: Chrome,
    pub site: i64,
    pub site_name: String,
    pub seller: Option<String>,
    pub sites: Vec<(i64, String, bool)>,
    pub today: Vec<Pickup>,
    pub week: Vec<Pickup>,
    pub coordinator: bool,
}

/// The site a counter page is for: the `site` asked (a coordinator's region's), else
/// the technician's own, else the coordinator's region's first.
fn site_of(req: &HttpRequest, v: &Visitor) -> Option<i64> {
    crate::web::query_param(req, "site")
        .and_then(|s| s.parse().ok())
        .or(v.actor.site.map(|s| s.0))
}

pub async fn home(req: HttpRequest, db: Data<Db>, settings: Data<WebSettings>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let asked = site_of(&req, &v);
    let clock = settings.clock;
    let found = page_read(&req, &v, &db, move |c, a| {
        a.require(&[Role::Technician, Role::Coordinator])?;
        let sites = service::counter_sites(c, a)?;
        let site = asked
            .or_else(|| sites.first().map(|s| s.0))
            .ok_or_else(|| a.err(ErrorCode::SiteNotFound))?;
        let view = service::counter_view(c, a, SiteId(site), clock)?;
        Ok((view, sites))
    })
    .await;
    let (view, sites) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let chrome = Chrome::for_visitor(&v, lang.pick("Comptoir", "Counter"), "/counter")
        .with_error_code(crate::web::query_param(&req, "error").as_deref());
    let page = CounterPage {
        chrome,
        site: view.site.0,
        site_name: view.site_name.clone(),
        seller: view.seller.clone(),
        sites: sites
            .into_iter()
            .map(|(id, name)| (id, name, id == view.site.0))
            .collect(),
        today: view.today.iter().map(|r| pickup(r, clock, lang)).collect(),
        week: view.week.iter().map(|r| pickup(r, clock, lang)).collect(),
        coordinator: v.actor.role == Role::Coordinator,
    };
    html(StatusCode::OK, page.render())
}

/// What the scanner typed: a voucher opens its handover; a device's label opens the
/// handover of its active reservation, or the sale it was sold under.
pub async fn scan(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let input = crate::web::query_param(&req, "code").unwrap_or_default();
    let site = site_of(&req, &v);
    let back = match site {
        Some(s) => format!("/counter?site={s}"),
        None => "/counter".to_owned(),
    };
    if let Some(r) = parse_voucher_scan(&input) {
        return see_other(&format!("/counter/reservations/{r}"));
    }
    let actor = v.actor.clone();
    let found = read(&db, move |c| {
        let item = match items::resolve(c, &input, &actor)? {
            Resolved::Item { item, .. } => item.id,
            _ => return Err(actor.err(ErrorCode::ItemNotFound)),
        };
        if let Some(r) = reservations::active_for_item(c, item)? {
            return Ok(format!("/counter/reservations/{r}"));
        }
        match service::last_sale_of(c, &actor, item)? {
            Some(s) => Ok(format!("/sales/{s}")),
            None => Err(actor.err(ErrorCode::ReservationNotFound)),
        }
    })
    .await;
    match found {
        Ok(to) => see_other(&to),
        Err(e) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            see_other(&format!("{back}{sep}error={}", e.code.as_str()))
        }
    }
}

/// What the handover form was sent with, to show it again after a refusal.
#[derive(Default, Clone)]
pub struct Entered {
    pub price: String,
    pub extras: Vec<(String, String)>,
    pub payments: Vec<(String, String, String)>,
}

impl Entered {
    fn read(f: &Fields) -> Entered {
        Entered {
            price: f.get("price").to_owned(),
            extras: (1..=EXTRA_ROWS)
                .map(|i| {
                    (
                        f.get(&format!("extra_code_{i}")).to_owned(),
                        f.get(&format!("extra_price_{i}")).to_owned(),
                    )
                })
                .collect(),
            payments: (1..=PAYMENT_ROWS)
                .map(|i| {
                    (
                        f.get(&format!("method_{i}")).to_owned(),
                        f.get(&format!("amount_{i}")).to_owned(),
                        f.get(&format!("reference_{i}")).to_owned(),
                    )
                })
                .collect(),
        }
    }

    fn padded(mut self) -> Entered {
        self.extras.resize(EXTRA_ROWS, Default::default());
        self.payments.resize(PAYMENT_ROWS, Default::default());
        self
    }
}

pub struct Method {
    pub value: &'static str,
    pub label: &'static str,
}

fn methods(lang: Lang) -> Vec<Method> {
    PaymentMethod::ALL
        .iter()
        .filter(|m| **m != PaymentMethod::CreditNote)
        .map(|m| Method {
            value: m.as_str(),
            label: m.name(lang),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "counter/handover.html")]
pub struct HandoverPage {
    pub chrome: Chrome,
    pub reservation: i64,
    pub site: i64,
    pub reference: String,
    pub device: super::social::DeviceCard,
    pub pickup: String,
    pub training: String,
    pub training_ok: bool,
    pub price: Option<String>,
    pub public_body: bool,
    pub cap: Option<String>,
    pub active: bool,
    pub status: String,
    pub entered: Entered,
    pub methods: Vec<Method>,
}

fn read_handover(
    c: &mut crate::db::DbConnection,
    a: &crate::auth::Actor,
    id: ReservationId,
) -> crate::error::ApiResult<Handover> {
    service::handover(c, a, id)
}

fn handover_page(
    v: &Visitor,
    h: &Handover,
    clock: Clock,
    entered: Option<Entered>,
    problem: Option<&ApiError>,
) -> HttpResponse {
    let lang = v.lang();
    let r = &h.r;
    let euros = |c: i64| format_euros(c, lang);
    let plain = |c: i64| format!("{},{:02}", c / 100, c % 100);
    let entered = entered.unwrap_or_else(|| Entered {
        price: h.price.map(plain).unwrap_or_default(),
        extras: Vec::new(),
        payments: vec![(
            "cash".into(),
            h.price.map(plain).unwrap_or_default(),
            String::new(),
        )],
    });
    let mut chrome = Chrome::for_visitor(
        v,
        &format!("{} — {}", lang.pick("Remise", "Handover"), r.reference),
        "/counter",
    );
    if let Some(e) = problem {
        chrome.problem = Some(crate::web::Problem::from(e));
    }
    let training_ok = r.training_refused.is_some()
        || r.booking
            .as_ref()
            .is_some_and(|b| b.status == BookingStatus::Booked);
    let page = HandoverPage {
        chrome,
        reservation: r.id.0,
        site: r.site.id.0,
        reference: r.reference.clone(),
        device: super::social::DeviceCard::new(&r.item, &r.site.name, lang),
        pickup: clock.long(r.pickup_at, lang),
        training: training_line(r, clock, lang),
        training_ok,
        price: h.price.map(euros),
        public_body: h.public_body,
        cap: h.cap.map(euros),
        active: r.status == ReservationStatus::Active,
        status: r.status.name(lang).to_owned(),
        entered: entered.padded(),
        methods: methods(lang),
    };
    let status = match problem {
        Some(e) => StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
        None => StatusCode::OK,
    };
    html(status, page.render())
}

pub async fn handover(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let id = ReservationId(id.into_inner());
    match page_read(&req, &v, &db, move |c, a| read_handover(c, a, id)).await {
        Ok(h) => handover_page(&v, &h, settings.clock, None, None),
        Err(r) => r,
    }
}

fn field_error(lang: Lang, field: &str, fr: &str, en: &str) -> ApiError {
    ApiError::field(
        filiere_shared::validate::FieldError::new(field, fr, en),
        lang,
    )
}

/// An amount typed in euros; an error naming the field otherwise.
fn amount(lang: Lang, field: &str, value: &str) -> Result<u32, ApiError> {
    parse_euros(value).ok_or_else(|| {
        field_error(
            lang,
            field,
            "un montant en euros, par exemple 45 ou 45,50",
            "an amount in euros, such as 45 or 45.50",
        )
    })
}

/// The payments typed in the form's rows (blank rows skipped).
fn read_payments(lang: Lang, f: &Fields) -> Result<Vec<PaymentInput>, ApiError> {
    let mut out = Vec::new();
    for i in 1..=PAYMENT_ROWS {
        let raw = f.get(&format!("amount_{i}"));
        if raw.is_empty() {
            continue;
        }
        let method: PaymentMethod = f.get(&format!("method_{i}")).parse().map_err(|_| {
            field_error(
                lang,
                "method",
                "moyen de paiement inconnu",
                "unknown payment method",
            )
        })?;
        out.push(PaymentInput {
            method,
            amount_cents: amount(lang, "amount", raw)?,
            reference: f.opt(&format!("reference_{i}")),
        });
    }
    Ok(out)
}

/// The extra devices typed or scanned in the form's rows, resolved to items.
fn read_extras(
    c: &mut crate::db::DbConnection,
    a: &crate::auth::Actor,
    f: &Fields,
) -> crate::error::ApiResult<Vec<SaleLineInput>> {
    let mut out = Vec::new();
    for i in 1..=EXTRA_ROWS {
        let code = f.get(&format!("extra_code_{i}"));
        if code.is_empty() {
            continue;
        }
        let item = match items::resolve(c, code, a)? {
            Resolved::Item { item, .. } => item.id,
            _ => return Err(a.err(ErrorCode::ItemNotFound)),
        };
        let price = f.get(&format!("extra_price_{i}"));
        out.push(SaleLineInput {
            item,
            price_cents: if price.is_empty() {
                None
            } else {
                Some(amount(a.lang, "extra_price", price)?)
            },
        });
    }
    Ok(out)
}

/// The handover form's target: the sale, then its page (with the invoice).
pub async fn sell(
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
    let Ok(id) = f.get("reservation").parse::<i64>() else {
        return error_page(
            &req,
            Some(&v),
            &ApiError::new(ErrorCode::ReservationNotFound),
        );
    };
    let id = ReservationId(id);
    let entered = Entered::read(&f);
    let actor = v.actor.clone();
    let clock = settings.clock;
    let outcome = write(&db, move |c| {
        let r = reservations::counter_view(c, &actor, id)?;
        let price = f.get("price");
        let mut lines = vec![SaleLineInput {
            item: r.item.id,
            price_cents: if price.is_empty() {
                None
            } else {
                Some(amount(actor.lang, "price", price)?)
            },
        }];
        lines.extend(read_extras(c, &actor, &f)?);
        let payments = read_payments(actor.lang, &f)?;
        service::sell(
            c,
            &actor,
            &NewSale {
                reservation: Some(id),
                partner: None,
                reason: None,
                site: None,
                items: lines,
                payments,
            },
            clock,
        )
    })
    .await;
    match outcome {
        Ok(sale) => see_other(&format!("/sales/{}?done=sold", sale.id)),
        Err(e) => {
            let e = e.in_lang(lang);
            match page_read(&req, &v, &db, move |c, a| read_handover(c, a, id)).await {
                Ok(h) => handover_page(&v, &h, settings.clock, Some(entered), Some(&e)),
                Err(_) => error_page(&req, Some(&v), &e),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "counter/partner.html")]
pub struct PartnerPage {
    pub chrome: Chrome,
    pub site: i64,
    pub sites: Vec<(i64, String, bool)>,
    pub partners: Vec<(i64, String, bool)>,
    pub partner: i64,
    pub reason: String,
    pub entered: Entered,
    pub methods: Vec<Method>,
}

/// What the partner sale form was sent with.
pub struct PartnerForm {
    pub site: i64,
    pub partner: i64,
    pub reason: String,
    pub entered: Entered,
}

fn partner_page(
    v: &Visitor,
    (sites, partners): Choices,
    form: PartnerForm,
    problem: Option<&ApiError>,
) -> HttpResponse {
    let lang = v.lang();
    let mut chrome = Chrome::for_visitor(
        v,
        lang.pick(
            "Vente à une association partenaire",
            "Sale to a partner association",
        ),
        "/counter",
    );
    if let Some(e) = problem {
        chrome.problem = Some(crate::web::Problem::from(e));
    }
    let page = PartnerPage {
        chrome,
        site: form.site,
        sites: sites
            .into_iter()
            .map(|(id, n)| (id, n, id == form.site))
            .collect(),
        partners: partners
            .into_iter()
            .map(|(id, n)| (id, n, id == form.partner))
            .collect(),
        partner: form.partner,
        reason: form.reason,
        entered: form.entered.padded(),
        methods: methods(lang),
    };
    let status = match problem {
        Some(e) => StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
        None => StatusCode::OK,
    };
    html(status, page.render())
}

type Choices = (Vec<(i64, String)>, Vec<(i64, String)>);

fn partner_choices(
    c: &mut crate::db::DbConnection,
    a: &crate::auth::Actor,
) -> crate::error::ApiResult<Choices> {
    a.require(&[Role::Coordinator])?;
    let sites = service::counter_sites(c, a)?;
    let partners = service::partners(c, a)?;
    Ok((sites, partners))
}

/// A coordinator's sale to a partner organisation: the form.
pub async fn partner_form(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let asked = site_of(&req, &v);
    match page_read(&req, &v, &db, partner_choices).await {
        Ok((sites, partners)) => {
            let site = asked.or(sites.first().map(|s| s.0)).unwrap_or(0);
            let form = PartnerForm {
                site,
                partner: 0,
                reason: String::new(),
                entered: Entered::default(),
            };
            partner_page(&v, (sites, partners), form, None)
        }
        Err(r) => r,
    }
}

/// The partner sale's target.
pub async fn partner_sell(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    body: Bytes,
) -> HttpResponse {
    let clock = settings.clock;
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let lang = v.lang();
    let site: i64 = f.get("site").parse().unwrap_or(0);
    let partner: i64 = f.get("partner").parse().unwrap_or(0);
    let reason = f.get("reason").to_owned();
    let entered = Entered::read(&f);
    let actor = v.actor.clone();
    let why = reason.clone();
    let outcome = write(&db, move |c| {
        let lines = read_extras(c, &actor, &f)?;
        if lines.is_empty() {
            return Err(field_error(
                actor.lang,
                "items",
                "scannez au moins un appareil",
                "scan at least one device",
            ));
        }
        let payments = read_payments(actor.lang, &f)?;
        service::sell(
            c,
            &actor,
            &NewSale {
                reservation: None,
                partner: Some(OrgId(partner)),
                reason: Some(why),
                site: Some(SiteId(site)),
                items: lines,
                payments,
            },
            clock,
        )
    })
    .await;
    match outcome {
        Ok(sale) => see_other(&format!("/sales/{}?done=sold", sale.id)),
        Err(e) => {
            let e = e.in_lang(lang);
            match page_read(&req, &v, &db, partner_choices).await {
                Ok(choices) => partner_page(
                    &v,
                    choices,
                    PartnerForm {
                        site,
                        partner,
                        reason,
                        entered,
                    },
                    Some(&e),
                ),
                Err(r) => r,
            }
        }
    }
}
