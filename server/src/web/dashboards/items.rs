//! The items behind a dashboard figure: a page of them at a time, and all of them as
//! CSV, streamed (an export of a million lines keeps the server's memory flat).

use super::{named, number, read};
use crate::db::Db;
use crate::error::ApiResult;
use crate::service::dashboards::{self, ItemFilter, ItemLine};
use crate::web::{Chrome, csv, html, query_param};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::names::Named;
use filiere_shared::*;

/// A page of the list.
const PAGE: i64 = 100;

/// CSV lines read from the database at a time.
const CSV_PAGE: i64 = 2000;

pub fn item_filter(req: &HttpRequest, lang: Lang) -> ApiResult<ItemFilter> {
    let grade = match query_param(req, "grade").as_deref() {
        None => None,
        Some("none") => Some(None),
        Some(_) => Some(Some(named::<Grade>(req, lang, "grade")?.ok_or_else(
            || crate::error::ApiError::new(ErrorCode::InvalidQuery).in_lang(lang),
        )?)),
    };
    Ok(ItemFilter {
        region: number::<i64>(req, lang, "region")?.map(RegionId),
        site: number::<i64>(req, lang, "site")?.map(SiteId),
        category: named(req, lang, "category")?,
        kind: named(req, lang, "kind")?,
        state: named(req, lang, "state")?,
        grade,
        in_stock: query_param(req, "in_stock").is_some(),
        spec: query_param(req, "spec"),
        blocker: named(req, lang, "waiting_for")?,
        min_days: number(req, lang, "min_days")?,
    })
}

pub struct Line {
    pub code: String,
    pub what: String,
    pub state: String,
    pub grade: String,
    pub site: String,
    pub blocker: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "dashboards/items.html")]
pub struct ItemsPage {
    pub chrome: Chrome,
    pub described: String,
    pub lines: Vec<Line>,
    pub next: Option<String>,
    pub csv: String,
}

fn line(l: &ItemLine, names: &std::collections::HashMap<i64, String>, lang: Lang) -> Line {
    let what = [l.brand.as_deref(), l.model.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Line {
        code: filiere_shared::code::LabelCode::readable(&l.code),
        what: if what.is_empty() {
            l.category.name(lang).to_owned()
        } else {
            format!("{} — {what}", l.category.name(lang))
        },
        state: l.state.name(lang).to_owned(),
        grade: l
            .grade
            .map(|g| g.as_str().to_uppercase())
            .unwrap_or_default(),
        site: names.get(&l.site.0).cloned().unwrap_or_default(),
        blocker: l
            .blocker
            .map(|b| b.name(lang).to_owned())
            .unwrap_or_default(),
        since: l
            .since
            .map(|s| s.format("%d/%m/%Y").to_string())
            .unwrap_or_default(),
    }
}

fn describe(f: &ItemFilter, lang: Lang) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(c) = f.category {
        parts.push(c.name(lang).to_owned());
    }
    if let Some(s) = f.state {
        parts.push(s.name(lang).to_lowercase());
    }
    match f.grade {
        Some(Some(g)) => parts.push(format!(
            "{} {}",
            lang.pick("note", "grade"),
            g.as_str().to_uppercase()
        )),
        Some(None) => parts.push(lang.pick("sans note", "no grade").to_owned()),
        None => {}
    }
    if let (Some(spec), Some(c)) = (&f.spec, f.category) {
        parts.push(filiere_shared::dashboards::spec_label(c, spec, lang));
    }
    if let Some(b) = f.blocker {
        parts.push(b.name(lang).to_lowercase());
    }
    if let Some(d) = f.min_days {
        parts.push(format!(
            "{} {d} {}",
            lang.pick("depuis au moins", "for at least"),
            lang.pick("jours", "days")
        ));
    }
    if parts.is_empty() {
        lang.pick("Tous les objets", "Every item").to_owned()
    } else {
        parts.join(" · ")
    }
}

/// The query without its `after`, to page on or export.
fn query_without_after(req: &HttpRequest) -> String {
    let q = req.uri().query().unwrap_or("");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap_or_default();
    serde_urlencoded::to_string(
        pairs
            .into_iter()
            .filter(|(k, _)| k != "after")
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

/// The list's filter and where its page starts.
fn list_query(req: &HttpRequest, lang: Lang) -> ApiResult<(ItemFilter, Option<i64>)> {
    Ok((item_filter(req, lang)?, number::<i64>(req, lang, "after")?))
}

pub async fn list(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let now = chrono::Utc::now();
    let found = read(&req, &db, list_query, move |c, a, (filter, after)| {
        let page = dashboards::item_page(c, a, &filter, after, PAGE, now)?;
        let names = crate::web::coordination::site_names(&crate::web::coordination::sites(c, a)?);
        Ok((page, names))
    })
    .await;
    let (v, (f, _), ((items, next), names)) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let base = query_without_after(&req);
    let page = ItemsPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Objets", "Items"), "/dashboards"),
        described: describe(&f, lang),
        lines: items.iter().map(|l| line(l, &names, lang)).collect(),
        next: next.map(|n| {
            if base.is_empty() {
                format!("/dashboards/items?after={n}")
            } else {
                format!("/dashboards/items?{base}&after={n}")
            }
        }),
        csv: if base.is_empty() {
            "/dashboards/items.csv".to_owned()
        } else {
            format!("/dashboards/items.csv?{base}")
        },
    };
    html(StatusCode::OK, page.render())
}

/// Every item of the list as CSV, streamed page by page.
pub async fn csv(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    // Refused before the first line, with a page, rather than in the middle.
    let found = read(&req, &db, item_filter, |c, a, f: ItemFilter| {
        dashboards::scope(c, a, f.region, f.site)?;
        Ok(crate::web::coordination::site_names(
            &crate::web::coordination::sites(c, a)?,
        ))
    })
    .await;
    let (v, f, names) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let actor = v.actor.clone();
    let now = chrono::Utc::now();
    let head = vec![
        lang.pick("Code", "Code").to_owned(),
        lang.pick("Catégorie", "Category").to_owned(),
        lang.pick("Marque", "Brand").to_owned(),
        lang.pick("Modèle", "Model").to_owned(),
        lang.pick("État", "State").to_owned(),
        lang.pick("Note", "Grade").to_owned(),
        lang.pick("Site", "Site").to_owned(),
        lang.pick("En attente de", "Waiting for").to_owned(),
        lang.pick("Dans cet état depuis", "In this state since")
            .to_owned(),
    ];
    csv::stream(
        &db,
        &format!("{}.csv", lang.pick("objets", "items")),
        head,
        move |c, after: Option<&i64>| {
            let (items, next) =
                dashboards::item_page(c, &actor, &f, after.copied(), CSV_PAGE, now)?;
            let rows = items
                .iter()
                .map(|l| {
                    vec![
                        l.code.clone(),
                        l.category.name(lang).to_owned(),
                        l.brand.clone().unwrap_or_default(),
                        l.model.clone().unwrap_or_default(),
                        l.state.name(lang).to_owned(),
                        l.grade
                            .map(|g| g.as_str().to_uppercase())
                            .unwrap_or_default(),
                        names.get(&l.site.0).cloned().unwrap_or_default(),
                        l.blocker
                            .map(|b| b.name(lang).to_owned())
                            .unwrap_or_default(),
                        l.since
                            .map(|s| s.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            Ok((rows, next))
        },
    )
}
