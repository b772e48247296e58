//! Beneficiaries: the organisation's list, a new one (with the consent to show them),
//! a beneficiary's page (proof, contact, reservations, training, needs), the GDPR
//! export and erasure.

use super::catalogue::Choice;
use super::home::need_summary;
use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::routes::{read, write};
use crate::service::{beneficiaries, needs, reservations, training};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{
    Chrome, Fields, Problem, Visitor, check_csrf, error_page, form_action, html, see_other,
};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use filiere_shared::names::Named;
use filiere_shared::social::*;
use filiere_shared::validate::FieldError;
use filiere_shared::*;

pub struct BeneficiaryLine {
    pub id: i64,
    pub reference: String,
    pub household: String,
    pub proof: String,
    pub proof_ok: bool,
    pub erased: bool,
}

#[derive(Template)]
#[template(path = "social/beneficiaries.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub lines: Vec<BeneficiaryLine>,
}

fn line(b: &BeneficiaryView, lang: Lang) -> BeneficiaryLine {
    BeneficiaryLine {
        id: b.id.0,
        reference: b.reference.clone(),
        household: b
            .household_size
            .map(|h| format!("{h} {}", lang.pick("pers.", "pers.")))
            .unwrap_or_default(),
        proof: match (&b.proof_label, b.proof_valid_until) {
            (Some(l), Some(u)) => format!(
                "{l} — {} {}",
                if b.proof_valid {
                    lang.pick("valable jusqu'au", "valid until")
                } else {
                    lang.pick("expiré le", "lapsed on")
                },
                u.format("%d/%m/%Y")
            ),
            _ => lang.pick("données effacées", "data erased").to_owned(),
        },
        proof_ok: b.proof_valid,
        erased: b.erased_at.is_some(),
    }
}

pub async fn list(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, beneficiaries::list).await;
    let bens = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = ListPage {
        chrome: Chrome::for_visitor(
            &v,
            lang.pick("Bénéficiaires", "Beneficiaries"),
            "/beneficiaries",
        ),
        lines: bens.iter().map(|b| line(b, lang)).collect(),
    };
    html(StatusCode::OK, page.render())
}

#[derive(Template)]
#[template(path = "social/beneficiary_new.html")]
pub struct NewPage {
    pub chrome: Chrome,
    pub proof_types: Vec<Choice>,
    pub consent_text: String,
    pub reference: String,
    pub household_size: String,
    pub proof_date: String,
    pub contact: String,
    pub notes: String,
    pub today: String,
}

async fn new_page(
    req: &HttpRequest,
    db: &Data<Db>,
    v: &Visitor,
    f: Option<&Fields>,
    error: Option<&ApiError>,
) -> HttpResponse {
    let lang = v.lang();
    let found = page_read(req, v, db, beneficiaries::proof_types).await;
    let types = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let get = |name: &str| f.map(|f| f.get(name).to_owned()).unwrap_or_default();
    let chosen = get("proof_type");
    let mut chrome = Chrome::for_visitor(
        v,
        lang.pick("Nouveau bénéficiaire", "New beneficiary"),
        "/beneficiaries",
    );
    chrome.problem = error.map(Problem::from);
    let page = NewPage {
        chrome,
        proof_types: types
            .proof_types
            .iter()
            .map(|p| Choice {
                value: p.key.clone(),
                label: format!(
                    "{} ({} {})",
                    p.label,
                    p.valid_days,
                    lang.pick("jours", "days")
                ),
                selected: p.key == chosen,
            })
            .collect(),
        consent_text: types.consent_text,
        reference: get("reference"),
        household_size: f
            .map(|f| f.get("household_size").to_owned())
            .unwrap_or_else(|| "1".into()),
        proof_date: get("proof_date"),
        contact: get("contact"),
        notes: get("notes"),
        today: chrono::Utc::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string(),
    };
    let status = error
        .map(|e| StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST))
        .unwrap_or(StatusCode::OK);
    html(status, page.render())
}

pub async fn new_form(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    // Only those who may register a beneficiary see the form.
    if let Err(e) = beneficiaries::own_org(&v.actor) {
        return crate::web::error_page(&req, Some(&v), &e);
    }
    new_page(&req, &db, &v, None, None).await
}

fn field_error(lang: Lang, field: &str, fr: &str, en: &str) -> ApiError {
    ApiError::field(FieldError::new(field, fr, en), lang)
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s.trim(), "%d/%m/%Y"))
        .ok()
}

pub async fn create(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let lang = v.lang();
    let Ok(household_size) = f.get("household_size").parse::<u32>() else {
        let e = field_error(
            lang,
            "household_size",
            "un nombre de personnes est attendu",
            "a number of people is expected",
        );
        return new_page(&req, &db, &v, Some(&f), Some(&e)).await;
    };
    let Some(proof_date) = parse_date(f.get("proof_date")) else {
        let e = field_error(
            lang,
            "proof_date",
            "date du justificatif attendue",
            "the proof's date is expected",
        );
        return new_page(&req, &db, &v, Some(&f), Some(&e)).await;
    };
    let n = NewBeneficiary {
        reference: f.opt("reference"),
        household_size,
        proof_type: f.get("proof_type").to_owned(),
        proof_date,
        consent: f.get("consent") == "yes",
        contact: f.opt("contact"),
        notes: f.opt("notes"),
    };
    let actor = v.actor.clone();
    match write(&db, move |c| beneficiaries::create(c, &actor, &n)).await {
        Ok(b) => see_other(&format!("/beneficiaries/{}?done=created", b.id)),
        Err(e) => new_page(&req, &db, &v, Some(&f), Some(&e)).await,
    }
}

pub struct ReservationLine {
    pub id: i64,
    pub device: String,
    pub status: String,
    pub when: String,
}

pub struct NeedLine {
    pub id: i64,
    pub wanted: String,
    pub fitting: Vec<super::DeviceCard>,
}

pub struct BookingLine {
    pub id: i64,
    pub session: i64,
    pub when: String,
    pub venue: String,
    pub status: String,
    pub attendance: String,
    pub cancellable: bool,
    /// Attended: its training attestation can be issued.
    pub attested: bool,
}

#[derive(Template)]
#[template(path = "social/beneficiary.html")]
pub struct ShowPage {
    pub chrome: Chrome,
    pub b: BeneficiaryLine,
    pub view: BeneficiaryView,
    pub proof_types: Vec<Choice>,
    pub reservations: Vec<ReservationLine>,
    pub bookings: Vec<BookingLine>,
    pub needs: Vec<NeedLine>,
    pub categories: Vec<Choice>,
    pub created: String,
    pub consent: String,
    pub household: String,
    pub proof_date: String,
    pub contact: String,
    pub notes: String,
}

pub async fn show(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let id = BeneficiaryId(id.into_inner());
    let found = page_read(&req, &v, &db, move |c, a| {
        let b = beneficiaries::get(c, a, id)?;
        let types = beneficiaries::proof_types(c, a)?;
        let res = reservations::of_beneficiary(c, a, id)?;
        let bookings = training::bookings_of_beneficiary(c, a, id)?;
        let needs = needs::of_beneficiary(c, a, id, false)?;
        Ok((b, types, res, bookings, needs))
    })
    .await;
    let (b, types, res, bookings, open_needs) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let notice = match crate::web::query_param(&req, "done").as_deref() {
        Some("created") => Some(lang.pick(
            "Bénéficiaire enregistré. Trouvez-lui un ordinateur dans le catalogue.",
            "Beneficiary recorded. Find them a computer in the catalogue.",
        )),
        Some("updated") => Some(lang.pick("Modifications enregistrées.", "Changes saved.")),
        Some("erased") => Some(lang.pick(
            "Données effacées : seule la référence reste, avec ce que la loi demande pour une vente.",
            "Data erased: only the reference is kept, with what the law requires for a sale.",
        )),
        Some("need") => Some(lang.pick("Besoin enregistré.", "Need recorded.")),
        Some("need_closed") => Some(lang.pick("Besoin clos.", "Need closed.")),
        _ => None,
    };
    let page = ShowPage {
        chrome: Chrome::for_visitor(&v, &b.reference, "/beneficiaries")
            .with_error_code(crate::web::query_param(&req, "error").as_deref())
            .with_notice(notice.map(str::to_owned)),
        b: line(&b, lang),
        proof_types: types
            .proof_types
            .iter()
            .map(|p| Choice {
                value: p.key.clone(),
                label: p.label.clone(),
                selected: b.proof_type.as_deref() == Some(p.key.as_str()),
            })
            .collect(),
        reservations: res
            .iter()
            .map(|r| ReservationLine {
                id: r.id.0,
                device: super::DeviceCard::new(&r.item, &r.site.name, lang).title,
                status: r.status.name(lang).to_owned(),
                when: settings.clock.long(r.pickup_at, lang),
            })
            .collect(),
        bookings: bookings
            .iter()
            .map(|x| BookingLine {
                id: x.id.0,
                session: x.session.0,
                when: settings.clock.long(x.session_starts_at, lang),
                venue: x.venue_name.clone(),
                status: x.status.name(lang).to_owned(),
                attendance: x
                    .attendance
                    .map(|a| a.name(lang).to_owned())
                    .unwrap_or_default(),
                attested: x.attendance == Some(Attendance::Attended),
                cancellable: x.status != BookingStatus::Cancelled
                    && x.attendance.is_none()
                    && x.session_starts_at > chrono::Utc::now(),
            })
            .collect(),
        needs: open_needs
            .iter()
            .map(|n| NeedLine {
                id: n.id.0,
                wanted: need_summary(&n.spec, lang),
                fitting: n
                    .fitting
                    .iter()
                    .map(|e| super::DeviceCard::new(&e.item, &e.site_name, lang))
                    .collect(),
            })
            .collect(),
        categories: Category::ALL
            .iter()
            .filter(|c| counts_for_household(**c) || **c == Category::Monitor)
            .map(|c| Choice {
                value: c.to_string(),
                label: c.name(lang).to_owned(),
                selected: *c == Category::Laptop,
            })
            .collect(),
        created: settings.clock.day(b.created_at),
        consent: b
            .consent_at
            .map(|at| settings.clock.long(at, lang))
            .unwrap_or_default(),
        household: b.household_size.map(|h| h.to_string()).unwrap_or_default(),
        proof_date: b
            .proof_date
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        contact: b.contact.clone().unwrap_or_default(),
        notes: b.notes.clone().unwrap_or_default(),
        view: b,
    };
    html(StatusCode::OK, page.render())
}

pub async fn update(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = BeneficiaryId(id.into_inner());
    form_action(req, db, body, None, move |c, a, f| {
        let household_size = match f.get("household_size") {
            "" => None,
            h => Some(h.parse::<u32>().map_err(|_| {
                field_error(
                    a.lang,
                    "household_size",
                    "un nombre est attendu",
                    "a number is expected",
                )
            })?),
        };
        let proof_date = match f.get("proof_date") {
            "" => None,
            d => Some(parse_date(d).ok_or_else(|| {
                field_error(a.lang, "proof_date", "date attendue", "a date is expected")
            })?),
        };
        let u = UpdateBeneficiary {
            household_size,
            proof_type: f.opt("proof_type"),
            proof_date,
            contact: Some(f.get("contact").to_owned()),
            notes: Some(f.get("notes").to_owned()),
        };
        beneficiaries::update(c, a, id, &u).map(|b| format!("/beneficiaries/{}?done=updated", b.id))
    })
    .await
}

pub async fn erase(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = BeneficiaryId(id.into_inner());
    form_action(req, db, body, None, move |c, a, f| {
        if f.get("confirm") != "yes" {
            return Err(field_error(
                a.lang,
                "confirm",
                "cochez la case pour confirmer",
                "tick the box to confirm",
            ));
        }
        beneficiaries::erase(c, a, id).map(|b| format!("/beneficiaries/{}?done=erased", b.id))
    })
    .await
}

/// The GDPR access export: everything held on the beneficiary, as a JSON download.
pub async fn export(req: HttpRequest, db: Data<Db>, id: Path<i64>) -> HttpResponse {
    let v = signed_in!(req);
    let id = BeneficiaryId(id.into_inner());
    let actor = v.actor.clone();
    match read(&db, move |c| beneficiaries::export(c, &actor, id)).await {
        Ok(export) => HttpResponse::Ok()
            .insert_header((
                "Content-Disposition",
                format!(
                    "attachment; filename=\"beneficiaire-{}.json\"",
                    export.beneficiary.id
                ),
            ))
            .json(export),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

pub async fn add_need(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    form_action(req, db, body, None, move |c, a, f| {
        let num = |name: &'static str| -> crate::error::ApiResult<Option<u32>> {
            match f.get(name) {
                "" => Ok(None),
                v => v.parse().map(Some).map_err(|_| {
                    field_error(
                        a.lang,
                        name,
                        "un nombre est attendu",
                        "a number is expected",
                    )
                }),
            }
        };
        let beneficiary = f
            .get("beneficiary")
            .parse()
            .map(BeneficiaryId)
            .map_err(|_| a.err(ErrorCode::BeneficiaryNotFound))?;
        let category = f.get("category").parse().map_err(|_| {
            field_error(
                a.lang,
                "category",
                "choisissez un type d'appareil",
                "choose a kind of device",
            )
        })?;
        let min_screen_inches = match f.get("min_screen_inches") {
            "" => None,
            s => Some(s.replace(',', ".").parse::<f32>().map_err(|_| {
                field_error(
                    a.lang,
                    "min_screen_inches",
                    "un nombre est attendu",
                    "a number is expected",
                )
            })?),
        };
        let n = NewNeed {
            beneficiary,
            category,
            min_screen_inches,
            min_ram_gb: num("min_ram_gb")?,
            storage_type: f.opt("storage_type"),
            min_storage_gb: num("min_storage_gb")?,
        };
        needs::create(c, a, &n).map(|n| format!("/beneficiaries/{}?done=need", n.beneficiary))
    })
    .await
}

pub async fn close_need(
    req: HttpRequest,
    db: Data<Db>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let id = NeedId(id.into_inner());
    form_action(req, db, body, None, move |c, a, _| {
        needs::close(c, a, id).map(|n| format!("/beneficiaries/{}?done=need_closed", n.beneficiary))
    })
    .await
}
