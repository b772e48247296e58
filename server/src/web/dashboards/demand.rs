//! Supply and demand: social workers' open needs and active reservations per category
//! against the ready stock, and the training sessions with their free seats, waiting
//! lists and attendance; as CSV too.

use super::{Filter, ScopeBar, Tab, filter, int, read, scope_bar, tabs};
use crate::config::WebSettings;
use crate::db::Db;
use crate::service::dashboards;
use crate::web::{Chrome, csv, html};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::names::Named;

pub struct Line {
    pub category: String,
    pub needs: String,
    pub reservations: String,
    pub ready: String,
    pub ready_href: String,
    pub short: i64,
}

pub struct Session {
    pub id: i64,
    pub when: String,
    pub capacity: i32,
    pub booked: i64,
    pub free: i64,
    pub waiting: i64,
    pub attended: i64,
}

#[derive(Template)]
#[template(path = "dashboards/demand.html")]
pub struct DemandPage {
    pub chrome: Chrome,
    pub tabs: Vec<Tab>,
    pub bar: ScopeBar,
    pub query: String,
    pub lines: Vec<Line>,
    pub sessions: Vec<Session>,
}

pub async fn show(req: HttpRequest, db: Data<Db>, settings: Data<WebSettings>) -> HttpResponse {
    let now = chrono::Utc::now();
    let found = read(&req, &db, filter, move |c, a, f: Filter| {
        let d = dashboards::demand(c, a, &f.dashboard(), now)?;
        let bar = scope_bar(c, a, &f, &d.sites)?;
        Ok((d, bar))
    })
    .await;
    let (v, f, (d, bar)) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let query = f.query();
    let page = DemandPage {
        chrome: Chrome::for_visitor(
            &v,
            lang.pick("Besoins et stock", "Needs and stock"),
            "/dashboards",
        ),
        tabs: tabs(lang, "/dashboards/demand", &query),
        bar,
        lines: d
            .lines
            .iter()
            .map(|l| Line {
                category: l.category.name(lang).to_owned(),
                needs: int(l.open_needs, lang),
                reservations: int(l.active_reservations, lang),
                ready: int(l.ready, lang),
                ready_href: format!(
                    "/dashboards/items?state=ready&category={}{}",
                    l.category,
                    if query.is_empty() {
                        String::new()
                    } else {
                        format!("&{query}")
                    }
                ),
                short: (l.open_needs - l.ready).max(0),
            })
            .collect(),
        sessions: d
            .sessions
            .iter()
            .map(|s| Session {
                id: s.id.0,
                when: settings.clock.long(s.starts_at, lang),
                capacity: s.capacity,
                booked: s.booked,
                free: s.free,
                waiting: s.waiting,
                attended: s.attended,
            })
            .collect(),
        query,
    };
    html(StatusCode::OK, page.render())
}

pub async fn csv(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let now = chrono::Utc::now();
    let (v, _, d) = match read(&req, &db, filter, move |c, a, f: Filter| {
        dashboards::demand(c, a, &f.dashboard(), now)
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let head = [
        lang.pick("Catégorie", "Category"),
        lang.pick("Besoins ouverts", "Open needs"),
        lang.pick("Réservations en cours", "Active reservations"),
        lang.pick("Prêts", "Ready"),
    ];
    let rows: Vec<Vec<String>> = d
        .lines
        .iter()
        .map(|l| {
            vec![
                l.category.name(lang).to_owned(),
                l.open_needs.to_string(),
                l.active_reservations.to_string(),
                l.ready.to_string(),
            ]
        })
        .collect();
    csv::table(
        &format!("{}.csv", lang.pick("besoins", "needs")),
        &head,
        &rows,
    )
}
