//! The flows dashboard: per week over the last year, collected, received, ready,
//! reserved, sold, harvested, recycled (a chart and its table), and the days a
//! device takes from reception to ready at each site (median and 90th percentile).

use super::{Filter, ScopeBar, Tab, filter, int, read, scope_bar, site_name, tabs};
use crate::db::Db;
use crate::service::dashboards;
use crate::web::{Chrome, charts, csv, html};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::names::Named;
use filiere_shared::*;

pub struct WeekRow {
    pub week: String,
    pub counts: Vec<String>,
}

pub struct ReadyRow {
    pub site: String,
    pub devices: String,
    pub median: String,
    pub p90: String,
}

#[derive(Template)]
#[template(path = "dashboards/flows.html")]
pub struct FlowsPage {
    pub chrome: Chrome,
    pub tabs: Vec<Tab>,
    pub bar: ScopeBar,
    pub query: String,
    pub chart: String,
    pub flows: Vec<String>,
    pub weeks: Vec<WeekRow>,
    pub totals: Vec<String>,
    pub ready: Vec<ReadyRow>,
}

fn days(d: Option<i64>, lang: Lang) -> String {
    match d {
        None => "—".into(),
        Some(0) => lang.pick("moins d'un jour", "under a day").into(),
        Some(1) => lang.pick("1 jour", "1 day").into(),
        Some(n) => format!("{} {}", int(n, lang), lang.pick("jours", "days")),
    }
}

pub async fn show(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let today = chrono::Utc::now().date_naive();
    let found = read(&req, &db, filter, move |c, a, f: Filter| {
        let d = dashboards::flows(c, a, &f.dashboard(), today)?;
        let bar = scope_bar(c, a, &f, &d.sites)?;
        Ok((d, bar))
    })
    .await;
    let (v, f, (d, bar)) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let week_label = |w: &chrono::NaiveDate| w.format("%d/%m/%y").to_string();
    let series: Vec<(String, Vec<i64>)> = d
        .flows
        .iter()
        .enumerate()
        .map(|(i, flow)| {
            (
                flow.name(lang).to_owned(),
                d.weeks.iter().map(|w| w.counts[i]).collect(),
            )
        })
        .collect();
    let chart = charts::lines(
        lang.pick(
            "Flux par semaine sur les douze derniers mois",
            "Flows per week over the last twelve months",
        ),
        &d.weeks
            .iter()
            .map(|w| week_label(&w.week))
            .collect::<Vec<_>>(),
        &series,
    );
    let query = f.query();
    let page = FlowsPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Flux", "Flows"), "/dashboards"),
        tabs: tabs(lang, "/dashboards/flows", &query),
        bar,
        query,
        chart,
        flows: d.flows.iter().map(|f| f.name(lang).to_owned()).collect(),
        totals: series
            .iter()
            .map(|(_, v)| int(v.iter().sum(), lang))
            .collect(),
        weeks: d
            .weeks
            .iter()
            .rev()
            .map(|w| WeekRow {
                week: format!(
                    "{} {}",
                    lang.pick("semaine du", "week of"),
                    w.week.format("%d/%m/%Y")
                ),
                counts: w.counts.iter().map(|n| int(*n, lang)).collect(),
            })
            .collect(),
        ready: d
            .ready_times
            .iter()
            .map(|r| ReadyRow {
                site: site_name(&d.sites, r.site),
                devices: int(r.devices, lang),
                median: days(r.median_days, lang),
                p90: days(r.p90_days, lang),
            })
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

/// The weeks' table as CSV.
pub async fn csv(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let today = chrono::Utc::now().date_naive();
    let (v, _, d) = match read(&req, &db, filter, move |c, a, f: Filter| {
        dashboards::flows(c, a, &f.dashboard(), today)
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let mut head = vec![lang.pick("Semaine (lundi)", "Week (Monday)").to_owned()];
    head.extend(d.flows.iter().map(|f| f.name(lang).to_owned()));
    let rows: Vec<Vec<String>> = d
        .weeks
        .iter()
        .map(|w| {
            let mut r = vec![w.week.to_string()];
            r.extend(w.counts.iter().map(|n| n.to_string()));
            r
        })
        .collect();
    csv::table(&format!("{}.csv", lang.pick("flux", "flows")), &head, &rows)
}
