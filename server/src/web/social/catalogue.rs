//! The catalogue: the region's ready devices with filters (a form sent by GET, so a
//! filtered list can be bookmarked), and a device's page with the reservation form.

use super::DeviceCard;
use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::service::{admin, beneficiaries, catalogue, training};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, Fields, Problem, html};
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Duration, Timelike, Utc};
use filiere_shared::names::Named;
use filiere_shared::social::*;
use filiere_shared::*;
use std::str::FromStr;

/// A choice of a `<select>`: value, label, selected.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices<T: Named + Copy + ToString + PartialEq>(
    all: &[T],
    current: Option<T>,
    lang: Lang,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: v.to_string(),
            label: v.name(lang).to_owned(),
            selected: current == Some(*v),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "social/catalogue.html")]
pub struct CataloguePage {
    pub chrome: Chrome,
    pub categories: Vec<Choice>,
    pub grades: Vec<Choice>,
    pub cosmetic_grades: Vec<Choice>,
    pub sorts: Vec<Choice>,
    pub sites: Vec<Choice>,
    pub min_screen: String,
    pub min_ram: String,
    pub storage_type: String,
    pub min_storage: String,
    pub devices: Vec<DeviceCard>,
    pub total: String,
    pub page: u32,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// Reads the filter form: blank fields are no filter; a value that does not parse is
/// reported and left out.
fn read_query(f: &Fields, lang: Lang) -> (CatalogueQuery, Option<Problem>) {
    let mut bad: Vec<&str> = Vec::new();
    fn parsed<T: FromStr>(
        f: &Fields,
        name: &'static str,
        bad: &mut Vec<&'static str>,
    ) -> Option<T> {
        let v = f.get(name);
        if v.is_empty() {
            return None;
        }
        let out = v.replace(',', ".").parse().ok();
        if out.is_none() {
            bad.push(name);
        }
        out
    }
    use crate::service::catalogue::{MAX_RAM_GB, MAX_SCREEN, MAX_STORAGE_GB, MIN_SCREEN};
    /// A value out of the query's bounds is reported and left out, as one that does
    /// not parse.
    fn within<T: PartialOrd>(
        v: Option<T>,
        (lo, hi): (T, T),
        name: &'static str,
        bad: &mut Vec<&'static str>,
    ) -> Option<T> {
        match v {
            Some(x) if x >= lo && x <= hi => Some(x),
            Some(_) => {
                bad.push(name);
                None
            }
            None => None,
        }
    }
    let min_screen = parsed::<f64>(f, "min_screen", &mut bad);
    let min_ram = parsed::<u32>(f, "min_ram_gb", &mut bad);
    let min_storage = parsed::<u32>(f, "min_storage_gb", &mut bad);
    let q = CatalogueQuery {
        category: parsed(f, "category", &mut bad),
        min_screen: within(min_screen, (MIN_SCREEN, MAX_SCREEN), "min_screen", &mut bad),
        min_ram_gb: within(min_ram, (0, MAX_RAM_GB), "min_ram_gb", &mut bad),
        storage_type: f.opt("storage_type").filter(|s| s.chars().count() <= 50),
        min_storage_gb: within(min_storage, (0, MAX_STORAGE_GB), "min_storage_gb", &mut bad),
        grade: parsed(f, "grade", &mut bad),
        cosmetic_grade: parsed(f, "cosmetic_grade", &mut bad),
        site: parsed::<i64>(f, "site", &mut bad).map(SiteId),
        sort: parsed(f, "sort", &mut bad),
        page: parsed::<u32>(f, "page", &mut bad).filter(|p| (1..=100_000).contains(p)),
        per_page: Some(12),
    };
    let problem = (!bad.is_empty()).then(|| Problem {
        code: ErrorCode::InvalidQuery.as_str().to_owned(),
        message: format!(
            "{} {}",
            ErrorCode::InvalidQuery.message(lang),
            bad.join(", ")
        ),
    });
    (q, problem)
}

pub async fn list(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let f = Fields::parse(req.uri().query().unwrap_or("").as_bytes());
    let (q, problem) = read_query(&f, lang);
    let query = q.clone();
    let found = page_read(&req, &v, &db, move |c, a| {
        let page = catalogue::search(c, &query, a)?;
        let sites = admin::list_sites(c, a)?;
        Ok((page, sites))
    })
    .await;
    let (found, sites) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let region = v.actor.region;
    let mut chrome = Chrome::for_visitor(&v, lang.pick("Catalogue", "Catalogue"), "/catalogue");
    chrome.problem = problem;
    let pages = (found.total + i64::from(found.per_page) - 1) / i64::from(found.per_page);
    let link = |page: u32| {
        let mut pairs: Vec<(String, String)> = f
            .pairs()
            .iter()
            .filter(|(k, v)| k != "page" && !v.trim().is_empty())
            .cloned()
            .collect();
        pairs.push(("page".into(), page.to_string()));
        format!(
            "/catalogue?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let page = CataloguePage {
        chrome,
        categories: choices(
            &Category::ALL
                .iter()
                .copied()
                .filter(|c| c.kind() == ItemKind::Device)
                .collect::<Vec<_>>(),
            q.category,
            lang,
        ),
        grades: choices(Grade::ALL, q.grade, lang),
        cosmetic_grades: choices(Grade::ALL, q.cosmetic_grade, lang),
        sorts: choices(CatalogueSort::ALL, q.sort, lang),
        sites: sites
            .iter()
            .filter(|s| region.is_none_or(|r| s.region == r))
            .map(|s| Choice {
                value: s.id.to_string(),
                label: s.name.clone(),
                selected: q.site == Some(s.id),
            })
            .collect(),
        min_screen: f.get("min_screen").to_owned(),
        min_ram: f.get("min_ram_gb").to_owned(),
        storage_type: f.get("storage_type").to_owned(),
        min_storage: f.get("min_storage_gb").to_owned(),
        devices: found
            .items
            .iter()
            .map(|e| DeviceCard::new(&e.item, &e.site_name, lang).with_price(e.price_cents, lang))
            .collect(),
        total: if found.more {
            lang.pick("plus de 1 000", "more than 1,000").to_owned()
        } else {
            found.total.to_string()
        },
        page: found.page,
        pages,
        prev: (found.page > 1).then(|| link(found.page - 1)),
        next: (i64::from(found.page) < pages).then(|| link(found.page + 1)),
    };
    html(StatusCode::OK, page.render())
}

#[derive(Template)]
#[template(path = "social/device.html")]
pub struct DevicePage {
    pub chrome: Chrome,
    pub card: DeviceCard,
    pub state: String,
    pub ready: bool,
    pub facts: Vec<(String, String)>,
    pub site: SitePlace,
    pub reservation: Option<i64>,
    pub can_reserve: bool,
    pub beneficiaries: Vec<Choice>,
    pub sessions: Vec<Choice>,
    pub pickup: String,
    pub pickup_min: String,
    pub override_reason: String,
    pub show_override: bool,
}

/// The reservation form's values when it comes back with an error.
#[derive(Default)]
pub struct Entered {
    pub beneficiary: Option<i64>,
    pub session: Option<i64>,
    pub pickup: Option<String>,
    pub override_reason: String,
    pub show_override: bool,
}

pub async fn device(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let preset = Entered {
        beneficiary: crate::web::query_param(&req, "beneficiary").and_then(|b| b.parse().ok()),
        ..Entered::default()
    };
    let problem = crate::web::query_param(&req, "error");
    device_page(
        &req,
        &db,
        &settings,
        &v,
        ItemId(id.into_inner()),
        preset,
        None,
        problem.as_deref(),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn device_page(
    req: &HttpRequest,
    db: &Data<Db>,
    settings: &WebSettings,
    v: &crate::web::Visitor,
    id: ItemId,
    entered: Entered,
    error: Option<&ApiError>,
    error_code: Option<&str>,
) -> HttpResponse {
    let lang = v.lang();
    let social = v.actor.role == Role::SocialWorker;
    let found = page_read(req, v, db, move |c, a| {
        let d = catalogue::device(c, id, a)?;
        let (bens, sessions) = if a.role == Role::SocialWorker {
            (
                beneficiaries::list(c, a)?,
                training::list(c, a, &SessionQuery::default())?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Ok((d, bens, sessions))
    })
    .await;
    let (d, bens, sessions) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let card = DeviceCard::new(&d.item, &d.site.name, lang).with_price(d.price_cents, lang);
    let t = |fr: &str, en: &str| lang.pick(fr, en).to_owned();
    let mut facts = vec![
        (
            t("Prix solidaire", "Solidarity price"),
            card.price
                .clone()
                .unwrap_or_else(|| t("fixé à l'atelier", "set at the workshop")),
        ),
        (t("Étiquette", "Label"), card.code.clone()),
        (t("Caractéristiques", "Specifications"), card.specs.clone()),
        (t("Grades", "Grades"), card.grades.clone()),
    ];
    if let Some(gpu) = &d.item.specs.gpu {
        facts.push((t("Carte graphique", "Graphics"), gpu.clone()));
    }
    if let Some(y) = d.item.specs.year {
        facts.push((t("Année", "Year"), y.to_string()));
    }
    facts.push((
        t("Système installé", "Operating system"),
        d.os_installed
            .clone()
            .unwrap_or_else(|| t("non précisé", "not stated")),
    ));
    facts.push((
        t("Données effacées le", "Data erased on"),
        match d.erased_at {
            Some(at) => settings.clock.day(at),
            None => t("appareil sans disque", "device without a drive"),
        },
    ));
    let default_pickup = {
        let t = Utc::now() + Duration::days(1);
        let local = t.with_timezone(&settings.clock.tz);
        let at_two = local
            .with_hour(14)
            .and_then(|l| l.with_minute(0))
            .map(|l| l.with_timezone(&Utc));
        at_two.unwrap_or(t)
    };
    let mut chrome = Chrome::for_visitor(v, &card.title, "/catalogue").with_error_code(error_code);
    if let Some(e) = error {
        chrome.problem = Some(Problem::from(e));
    }
    let page = DevicePage {
        chrome,
        state: d.item.state.name(lang).to_owned(),
        ready: d.item.state == ItemState::Ready,
        facts,
        site: d.site.clone(),
        reservation: d.reservation.map(|r| r.0),
        can_reserve: social && d.item.state == ItemState::Ready,
        beneficiaries: bens
            .iter()
            .filter(|b| b.erased_at.is_none())
            .map(|b| Choice {
                value: b.id.to_string(),
                label: if b.proof_valid {
                    b.reference.clone()
                } else {
                    format!(
                        "{} ({})",
                        b.reference,
                        lang.pick("justificatif expiré", "proof lapsed")
                    )
                },
                selected: entered.beneficiary == Some(b.id.0),
            })
            .collect(),
        sessions: sessions
            .iter()
            .map(|s| Choice {
                value: s.id.to_string(),
                label: format!(
                    "{} — {} ({})",
                    settings.clock.long(s.starts_at, lang),
                    s.venue_name,
                    if s.free_seats > 0 {
                        format!(
                            "{} {}",
                            s.free_seats,
                            lang.pick("place(s) libre(s)", "free seat(s)")
                        )
                    } else {
                        lang.pick("complète : liste d'attente", "full: waiting list")
                            .to_owned()
                    }
                ),
                selected: entered.session == Some(s.id.0),
            })
            .collect(),
        pickup: entered
            .pickup
            .unwrap_or_else(|| settings.clock.input(default_pickup)),
        pickup_min: settings.clock.input(Utc::now()),
        override_reason: entered.override_reason,
        show_override: entered.show_override,
        card,
    };
    let status = error
        .map(|e| StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST))
        .unwrap_or(StatusCode::OK);
    html(status, page.render())
}
