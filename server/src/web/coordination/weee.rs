//! WEEE batches on a page: open one at a site for a recycler, follow what goes in and
//! its weight, close it with the weighed mass, hand it over with the waste-tracking
//! form's reference.

use super::{Choice, site_choices, site_names, sites};
use crate::config::WebSettings;
use crate::db::Db;
use crate::service::{admin, weee};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, form_submit, html, kg_text, kilograms, parsed};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::*;
use filiere_shared::names::Named;
use filiere_shared::*;

pub struct BatchLine {
    pub id: i64,
    pub site: String,
    pub recycler: String,
    pub status: String,
    pub items: i64,
    pub items_weight: String,
    pub weighed: String,
}

fn line(
    b: &WeeeBatchView,
    names: &std::collections::HashMap<i64, String>,
    lang: Lang,
) -> BatchLine {
    BatchLine {
        id: b.id.0,
        site: names.get(&b.site.0).cloned().unwrap_or_default(),
        recycler: b.recycler_name.clone(),
        status: b.status.name(lang).to_owned(),
        items: b.item_count,
        items_weight: kg_text(b.items_weight_g, lang),
        weighed: b
            .weight_g
            .map(|g| kg_text(g, lang))
            .unwrap_or_else(|| "—".into()),
    }
}

#[derive(Template)]
#[template(path = "coordination/weee.html")]
pub struct ListPage {
    /// The registers' default period: this year so far.
    pub year_start: String,
    pub today: String,
    pub chrome: Chrome,
    pub batches: Vec<BatchLine>,
    pub sites: Vec<Choice>,
    pub recyclers: Vec<Choice>,
}

pub async fn list(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, |c, a| {
        let batches = weee::list(c, a)?;
        let recyclers: Vec<OrganisationView> = admin::list_organisations(c, a)?
            .into_iter()
            .filter(|o| o.kind == OrgKind::Recycler)
            .collect();
        let all_sites = sites(c, a)?;
        Ok((
            batches,
            recyclers,
            site_choices(&all_sites, a, None),
            site_names(&all_sites),
        ))
    })
    .await;
    let (batches, recyclers, sites, names) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let today = crate::clock::Clock::default().date(chrono::Utc::now());
    let page = ListPage {
        year_start: today.format("%Y-01-01").to_string(),
        today: today.to_string(),
        chrome: Chrome::for_visitor(&v, lang.pick("Lots DEEE", "WEEE batches"), "/weee"),
        batches: batches.iter().map(|b| line(b, &names, lang)).collect(),
        sites,
        recyclers: recyclers
            .into_iter()
            .map(|o| Choice::new(o.id.0, o.name, false))
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

pub async fn open(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    form_submit(req, db, body, |c, a, f| {
        let b = weee::open(
            c,
            a,
            &NewWeeeBatch {
                site: SiteId(parsed(
                    a,
                    f,
                    "site",
                    "choisissez le site",
                    "choose the site",
                )?),
                recycler: OrgId(parsed(
                    a,
                    f,
                    "recycler",
                    "choisissez le recycleur",
                    "choose the recycler",
                )?),
                notes: f.opt("notes"),
            },
        )?;
        Ok(format!("/weee/{}", b.id))
    })
    .await
}

pub struct ItemLine {
    pub code: String,
    pub category: String,
    pub weight: String,
}

#[derive(Template)]
#[template(path = "coordination/weee_batch.html")]
pub struct BatchPage {
    pub chrome: Chrome,
    pub b: BatchLine,
    pub open: bool,
    pub closed: bool,
    pub form_ref: String,
    pub opened: String,
    pub items: Vec<ItemLine>,
    /// The recycler's slips issued.
    pub issued: Vec<super::documents::IssuedLine>,
}

pub async fn show(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let id = WeeeBatchId(id.into_inner());
    let found = page_read(&req, &v, &db, move |c, a| {
        let b = weee::get(c, a, id)?;
        let items = weee::items(c, a, id)?;
        let issued = crate::service::documents::weee::list(c, a, id)?;
        Ok((b, items, site_names(&sites(c, a)?), issued))
    })
    .await;
    let (b, list, names, issued) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = BatchPage {
        chrome: Chrome::for_visitor(
            &v,
            &format!("{} {}", lang.pick("Lot DEEE", "WEEE batch"), b.id),
            "/weee",
        ),
        open: b.status == WeeeBatchStatus::Open,
        closed: b.status == WeeeBatchStatus::Closed,
        form_ref: b.waste_form_ref.clone().unwrap_or_default(),
        opened: settings.clock.long(b.opened_at, lang),
        items: list
            .iter()
            .map(|i| ItemLine {
                code: i.code.hyphenated(),
                category: i.category.name(lang).to_owned(),
                weight: i
                    .weight_g
                    .map(|g| kg_text(g, lang))
                    .unwrap_or_else(|| "—".into()),
            })
            .collect(),
        b: line(&b, &names, lang),
        issued: super::documents::lines(&issued, &settings, lang),
    };
    html(StatusCode::OK, page.render())
}

pub async fn close(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = WeeeBatchId(id.into_inner());
    form_submit(req, db, body, move |c, a, f| {
        let weight_g = kilograms(a, f, "weight")?.ok_or_else(|| {
            crate::error::ApiError::field(
                filiere_shared::validate::FieldError::new(
                    "weight",
                    "la masse pesée est nécessaire",
                    "the weighed mass is needed",
                ),
                a.lang,
            )
        })?;
        weee::close(c, a, id, &CloseWeeeBatch { weight_g })?;
        Ok(format!("/weee/{id}"))
    })
    .await
}

pub async fn hand_over(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = WeeeBatchId(id.into_inner());
    form_submit(req, db, body, move |c, a, f| {
        weee::hand_over(
            c,
            a,
            id,
            &HandOverWeeeBatch {
                waste_form_ref: f.get("waste_form_ref").to_owned(),
                handed_over_at: None,
            },
        )?;
        Ok(format!("/weee/{id}"))
    })
    .await
}

/// A waste register of the visitor's sites, for the national service (the same
/// service as the API's).
pub async fn register(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<crate::config::WebSettings>,
    which: Path<String>,
) -> HttpResponse {
    let v = signed_in!(req);
    let outgoing = match which.as_str() {
        "outgoing.csv" => true,
        "incoming.csv" => false,
        _ => {
            return crate::web::error_page(
                &req,
                Some(&v),
                &crate::error::ApiError::new(ErrorCode::NotFound).in_lang(v.lang()),
            );
        }
    };
    let q: crate::routes::RegisterQuery =
        match serde_urlencoded::from_str(req.uri().query().unwrap_or("")) {
            Ok(q) => q,
            Err(_) => {
                return crate::web::error_page(
                    &req,
                    Some(&v),
                    &crate::error::ApiError::new(ErrorCode::InvalidQuery).in_lang(v.lang()),
                );
            }
        };
    let p = q.period(settings.clock.date(chrono::Utc::now()));
    match crate::routes::register_lines(&db, &v.actor, outgoing, p, settings.clock).await {
        Ok(lines) => crate::routes::register_csv(outgoing, p, lines),
        Err(e) => crate::web::error_page(&req, Some(&v), &e),
    }
}
