//! The stock dashboard: devices ready per site at a glance (a chart and its table),
//! devices by site, category and state, ready ones by grade, parts in stock by key
//! spec; each figure links to the items behind it; every table as CSV.

use super::{Filter, ScopeBar, Tab, filter, int, read, scope_bar, site_name, tabs};
use crate::db::Db;
use crate::service::dashboards;
use crate::web::{Chrome, charts, csv, html};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::dashboards::*;
use filiere_shared::names::Named;
use filiere_shared::*;
use std::collections::BTreeMap;

/// A figure and the list behind it.
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

impl Cell {
    fn of(n: i64, lang: Lang, href: String) -> Cell {
        Cell {
            text: if n == 0 { "·".into() } else { int(n, lang) },
            href: (n != 0).then_some(href),
        }
    }
}

pub struct Row {
    /// The site's name on the first row of its site.
    pub group: Option<String>,
    pub site: String,
    pub category: String,
    pub cells: Vec<Cell>,
    pub total: Cell,
}

pub struct PartRow {
    pub site: String,
    pub category: String,
    pub spec: String,
    /// To test, tested good, faulty.
    pub cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "dashboards/stock.html")]
pub struct StockPage {
    pub chrome: Chrome,
    pub tabs: Vec<Tab>,
    pub bar: ScopeBar,
    pub query: String,
    pub chart: String,
    pub ready_heads: Vec<String>,
    pub ready: Vec<Row>,
    pub states: Vec<String>,
    pub rows: Vec<Row>,
    pub grade_heads: Vec<String>,
    pub grades: Vec<Row>,
    pub parts: Vec<PartRow>,
}

/// States a device is counted in on this page, in the chain's order.
const STATES: &[ItemState] = &[
    ItemState::Collected,
    ItemState::Received,
    ItemState::Refurbishing,
    ItemState::Ready,
    ItemState::Reserved,
    ItemState::Returned,
    ItemState::Harvesting,
    ItemState::ToRecycle,
];

fn items_href(site: SiteId, category: Category, state: ItemState, grade: Option<&str>) -> String {
    let mut h = format!("/dashboards/items?site={site}&category={category}&state={state}");
    if let Some(g) = grade {
        h.push_str(&format!("&grade={g}"));
    }
    h
}

/// Marks the first row of each site, which the table heads with the site's name.
fn grouped(mut rows: Vec<Row>) -> Vec<Row> {
    let mut last: Option<String> = None;
    for r in &mut rows {
        if last.as_deref() != Some(&r.site) {
            r.group = Some(r.site.clone());
            last = Some(r.site.clone());
        }
    }
    rows
}

fn page(v: &crate::web::Visitor, f: &Filter, d: &StockDashboard, bar: ScopeBar) -> StockPage {
    let lang = v.lang();
    let query = f.query();
    // Ready devices per site and category.
    let mut ready: BTreeMap<(String, SiteId), BTreeMap<Category, i64>> = BTreeMap::new();
    let mut cats: Vec<Category> = Vec::new();
    for s in &d.sites {
        ready.entry((s.name.clone(), s.id)).or_default();
    }
    for c in d.devices.iter().filter(|c| c.state == ItemState::Ready) {
        *ready
            .entry((site_name(&d.sites, c.site), c.site))
            .or_default()
            .entry(c.category)
            .or_insert(0) += c.count;
        if !cats.contains(&c.category) {
            cats.push(c.category);
        }
    }
    cats.sort();
    let ready_rows: Vec<Row> = ready
        .iter()
        .map(|((name, site), by)| {
            let total: i64 = by.values().sum();
            Row {
                group: None,
                site: name.clone(),
                category: String::new(),
                cells: cats
                    .iter()
                    .map(|c| {
                        Cell::of(
                            by.get(c).copied().unwrap_or(0),
                            lang,
                            items_href(*site, *c, ItemState::Ready, None),
                        )
                    })
                    .collect(),
                total: Cell::of(
                    total,
                    lang,
                    format!("/dashboards/items?site={site}&state=ready&kind=device"),
                ),
            }
        })
        .collect();
    let laptops = Category::Laptop;
    let chart_bars: Vec<(String, i64)> = ready
        .iter()
        .map(|((name, _), by)| (name.clone(), by.get(&laptops).copied().unwrap_or(0)))
        .collect();
    let chart = charts::bars(
        lang.pick("Portables prêts par site", "Laptops ready per site"),
        &chart_bars,
    );
    // Devices by site, category and state.
    let mut matrix: BTreeMap<(String, SiteId, Category), BTreeMap<ItemState, i64>> =
        BTreeMap::new();
    let mut grades: BTreeMap<(String, SiteId, Category), BTreeMap<Option<Grade>, i64>> =
        BTreeMap::new();
    for c in &d.devices {
        let key = (site_name(&d.sites, c.site), c.site, c.category);
        *matrix
            .entry(key.clone())
            .or_default()
            .entry(c.state)
            .or_insert(0) += c.count;
        if c.state == ItemState::Ready {
            *grades.entry(key).or_default().entry(c.grade).or_insert(0) += c.count;
        }
    }
    let rows = matrix
        .iter()
        .map(|((name, site, cat), by)| Row {
            group: None,
            site: name.clone(),
            category: cat.name(lang).to_owned(),
            cells: STATES
                .iter()
                .map(|s| {
                    Cell::of(
                        by.get(s).copied().unwrap_or(0),
                        lang,
                        items_href(*site, *cat, *s, None),
                    )
                })
                .collect(),
            total: Cell::of(
                by.values().sum(),
                lang,
                format!("/dashboards/items?site={site}&category={cat}&in_stock=1"),
            ),
        })
        .collect();
    let grade_list: [Option<Grade>; 4] = [Some(Grade::A), Some(Grade::B), Some(Grade::C), None];
    let grade_rows = grades
        .iter()
        .map(|((name, site, cat), by)| Row {
            group: None,
            site: name.clone(),
            category: cat.name(lang).to_owned(),
            cells: grade_list
                .iter()
                .map(|g| {
                    Cell::of(
                        by.get(g).copied().unwrap_or(0),
                        lang,
                        items_href(
                            *site,
                            *cat,
                            ItemState::Ready,
                            Some(g.map_or("none", |g| g.as_str())),
                        ),
                    )
                })
                .collect(),
            total: Cell::of(
                by.values().sum(),
                lang,
                items_href(*site, *cat, ItemState::Ready, None),
            ),
        })
        .collect();
    let parts = d
        .parts
        .iter()
        .map(|p| {
            let href = |state: ItemState| {
                format!(
                    "/dashboards/items?site={}&category={}&state={state}&spec={}",
                    p.site,
                    p.category,
                    crate::web::encode(&p.spec)
                )
            };
            PartRow {
                site: site_name(&d.sites, p.site),
                category: p.category.name(lang).to_owned(),
                spec: spec_label(p.category, &p.spec, lang),
                cells: vec![
                    Cell::of(p.untested, lang, href(ItemState::InStock)),
                    Cell::of(p.tested_good, lang, href(ItemState::TestedGood)),
                    Cell::of(p.faulty, lang, href(ItemState::Faulty)),
                ],
            }
        })
        .collect();
    StockPage {
        chrome: Chrome::for_visitor(v, lang.pick("Stock", "Stock"), "/dashboards"),
        tabs: tabs(lang, "/dashboards/stock", &query),
        bar,
        query,
        chart,
        ready_heads: cats.iter().map(|c| c.name(lang).to_owned()).collect(),
        ready: ready_rows,
        states: STATES.iter().map(|s| s.name(lang).to_owned()).collect(),
        rows: grouped(rows),
        grade_heads: grade_list
            .iter()
            .map(|g| match g {
                Some(g) => format!(
                    "{} {}",
                    lang.pick("Note", "Grade"),
                    g.as_str().to_uppercase()
                ),
                None => lang.pick("Sans note", "No grade").to_owned(),
            })
            .collect(),
        grades: grouped(grade_rows),
        parts,
    }
}

pub async fn show(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let found = read(&req, &db, filter, |c, a, f: Filter| {
        let d = dashboards::stock(c, a, &f.dashboard())?;
        let bar = scope_bar(c, a, &f, &d.sites)?;
        Ok((d, bar))
    })
    .await;
    match found {
        Ok((v, f, (d, bar))) => html(StatusCode::OK, page(&v, &f, &d, bar).render()),
        Err(r) => r,
    }
}

/// The devices table as CSV: one line per site, category, state and grade.
pub async fn devices_csv(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let (v, _, d) = match read(&req, &db, filter, |c, a, f: Filter| {
        dashboards::stock(c, a, &f.dashboard())
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let head = [
        lang.pick("Site", "Site"),
        lang.pick("Catégorie", "Category"),
        lang.pick("État", "State"),
        lang.pick("Note", "Grade"),
        lang.pick("Nombre", "Count"),
    ];
    let rows: Vec<Vec<String>> = d
        .devices
        .iter()
        .map(|c| {
            vec![
                site_name(&d.sites, c.site),
                c.category.name(lang).to_owned(),
                c.state.name(lang).to_owned(),
                c.grade
                    .map(|g| g.as_str().to_uppercase())
                    .unwrap_or_default(),
                c.count.to_string(),
            ]
        })
        .collect();
    csv::table(
        &format!("{}.csv", lang.pick("stock-appareils", "stock-devices")),
        &head,
        &rows,
    )
}

/// The parts table as CSV.
pub async fn parts_csv(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let (v, _, d) = match read(&req, &db, filter, |c, a, f: Filter| {
        dashboards::stock(c, a, &f.dashboard())
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let head = [
        lang.pick("Site", "Site"),
        lang.pick("Catégorie", "Category"),
        lang.pick("Caractéristique", "Key spec"),
        lang.pick("À tester", "To test"),
        lang.pick("Testées bonnes", "Tested good"),
        lang.pick("Défectueuses", "Faulty"),
    ];
    let rows: Vec<Vec<String>> = d
        .parts
        .iter()
        .map(|p| {
            vec![
                site_name(&d.sites, p.site),
                p.category.name(lang).to_owned(),
                spec_label(p.category, &p.spec, lang),
                p.untested.to_string(),
                p.tested_good.to_string(),
                p.faulty.to_string(),
            ]
        })
        .collect();
    csv::table(
        &format!("{}.csv", lang.pick("stock-pieces", "stock-parts")),
        &head,
        &rows,
    )
}
