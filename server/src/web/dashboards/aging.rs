//! The aging dashboard: items waiting in their state longer than its threshold, by
//! site, state and what blocks them, and listed oldest first; narrowed to one reason
//! (a drive not yet erased…) or a number of days.

use super::{Filter, ScopeBar, Tab, filter, int, named, number, read, scope_bar, site_name, tabs};
use crate::db::Db;
use crate::service::dashboards;
use crate::web::coordination::Choice;
use crate::web::{Chrome, html};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::dashboards::*;
use filiere_shared::names::Named;
use filiere_shared::*;

pub struct CountRow {
    pub site: String,
    pub state: String,
    pub blocker: String,
    pub count: String,
    pub href: String,
}

pub struct ItemRow {
    pub code: String,
    pub category: String,
    pub site: String,
    pub state: String,
    pub blocker: String,
    pub since: String,
    pub days: i64,
}

pub struct ThresholdRow {
    pub state: String,
    pub days: i32,
}

#[derive(Template)]
#[template(path = "dashboards/aging.html")]
pub struct AgingPage {
    pub chrome: Chrome,
    pub tabs: Vec<Tab>,
    pub bar: ScopeBar,
    pub query: String,
    pub blockers: Vec<Choice>,
    pub min_days: String,
    pub thresholds: Vec<ThresholdRow>,
    /// An admin may change the thresholds.
    pub can_edit: bool,
    pub counts: Vec<CountRow>,
    pub items: Vec<ItemRow>,
    pub csv: String,
}

/// The page's choice of region or site, reason and number of days.
fn aging_query(
    req: &HttpRequest,
    lang: Lang,
) -> crate::error::ApiResult<(Filter, Option<WaitingFor>, Option<u32>)> {
    Ok((
        filter(req, lang)?,
        named::<WaitingFor>(req, lang, "waiting_for")?,
        number::<u32>(req, lang, "min_days")?,
    ))
}

pub async fn show(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let now = chrono::Utc::now();
    let found = read(
        &req,
        &db,
        aging_query,
        move |c, a, (f, blocker, min_days)| {
            let q = AgingQuery {
                region: f.region,
                site: f.site,
                state: None,
                waiting_for: blocker,
                min_days,
                limit: Some(50),
            };
            let d = dashboards::aging(c, a, &q, now)?;
            let bar = scope_bar(c, a, &f, &d.sites)?;
            Ok((d, bar))
        },
    )
    .await;
    let (v, (f, blocker, min_days), (d, bar)) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let query = f.query();
    let threshold = |s: ItemState| {
        d.thresholds
            .iter()
            .find(|t| t.state == s)
            .map_or(0, |t| t.days)
    };
    let mut counts: Vec<&AgingCount> = d.counts.iter().collect();
    counts.sort_by_key(|c| (site_name(&d.sites, c.site), c.state, c.waiting_for));
    let mut params: Vec<String> = Vec::new();
    if !query.is_empty() {
        params.push(query.clone());
    }
    if let Some(b) = blocker {
        params.push(format!("waiting_for={b}"));
    }
    if let Some(m) = min_days {
        params.push(format!("min_days={m}"));
    }
    let csv = format!("/dashboards/aging.csv?{}", params.join("&"));
    let page = AgingPage {
        chrome: Chrome::for_visitor(&v, lang.pick("En attente", "Waiting"), "/dashboards"),
        tabs: tabs(lang, "/dashboards/aging", &query),
        bar,
        blockers: WaitingFor::ALL
            .iter()
            .map(|b| Choice::new(b.as_str(), b.name(lang), Some(*b) == blocker))
            .collect(),
        min_days: min_days.map(|d| d.to_string()).unwrap_or_default(),
        can_edit: v.actor.role == filiere_shared::Role::Admin,
        thresholds: d
            .thresholds
            .iter()
            .map(|t| ThresholdRow {
                state: t.state.name(lang).to_owned(),
                days: t.days,
            })
            .collect(),
        counts: counts
            .iter()
            .map(|c| CountRow {
                site: site_name(&d.sites, c.site),
                state: c.state.name(lang).to_owned(),
                blocker: c.waiting_for.name(lang).to_owned(),
                count: int(c.count, lang),
                href: format!(
                    "/dashboards/items?site={}&state={}&waiting_for={}&min_days={}",
                    c.site,
                    c.state,
                    c.waiting_for,
                    min_days.unwrap_or(threshold(c.state) as u32)
                ),
            })
            .collect(),
        items: d
            .items
            .iter()
            .map(|i| ItemRow {
                code: filiere_shared::code::LabelCode::readable(&i.code),
                category: i.category.name(lang).to_owned(),
                site: site_name(&d.sites, i.site),
                state: i.state.name(lang).to_owned(),
                blocker: i.waiting_for.name(lang).to_owned(),
                since: i.since.format("%d/%m/%Y").to_string(),
                days: i.days,
            })
            .collect(),
        query,
        csv,
    };
    html(StatusCode::OK, page.render())
}

/// Every item waiting past its threshold (or `min_days`), as CSV, streamed: state by
/// state, in the order of their ids.
pub async fn csv(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    use crate::service::dashboards::ItemFilter;
    let found = read(&req, &db, aging_query, |c, a, (f, _, _)| {
        dashboards::scope(c, a, f.region, f.site)?;
        let names = crate::web::coordination::site_names(&crate::web::coordination::sites(c, a)?);
        Ok((dashboards::thresholds(c)?, names))
    })
    .await;
    let (v, (f, blocker, min_days), (thresholds, names)) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let actor = v.actor.clone();
    let now = chrono::Utc::now();
    let head = vec![
        lang.pick("Code", "Code").to_owned(),
        lang.pick("Catégorie", "Category").to_owned(),
        lang.pick("Site", "Site").to_owned(),
        lang.pick("État", "State").to_owned(),
        lang.pick("En attente de", "Waiting for").to_owned(),
        lang.pick("Dans cet état depuis", "In this state since")
            .to_owned(),
        lang.pick("Jours", "Days").to_owned(),
    ];
    crate::web::csv::stream(
        &db,
        &format!("{}.csv", lang.pick("en-attente", "waiting")),
        head,
        move |c, at: Option<&(usize, Option<i64>)>| {
            let (mut i, mut after) = at.copied().unwrap_or((0, None));
            while let Some(t) = thresholds.get(i) {
                let filter = ItemFilter {
                    region: f.region,
                    site: f.site,
                    state: Some(t.state),
                    blocker,
                    min_days: Some(min_days.unwrap_or(t.days.max(0) as u32)),
                    ..ItemFilter::default()
                };
                let (items, next) = dashboards::item_page(c, &actor, &filter, after, 2000, now)?;
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .filter(|l| l.blocker.is_some())
                    .map(|l| {
                        vec![
                            l.code.clone(),
                            l.category.name(lang).to_owned(),
                            names.get(&l.site.0).cloned().unwrap_or_default(),
                            l.state.name(lang).to_owned(),
                            l.blocker
                                .map(|b| b.name(lang).to_owned())
                                .unwrap_or_default(),
                            l.since
                                .map(|s| s.format("%Y-%m-%d").to_string())
                                .unwrap_or_default(),
                            l.since
                                .map(|s| (now - s).num_days().to_string())
                                .unwrap_or_default(),
                        ]
                    })
                    .collect();
                match next {
                    Some(n) => return Ok((rows, Some((i, Some(n))))),
                    None => {
                        i += 1;
                        after = None;
                        if !rows.is_empty() {
                            return Ok((rows, thresholds.get(i).map(|_| (i, None))));
                        }
                    }
                }
            }
            Ok((Vec::new(), None))
        },
    )
}
