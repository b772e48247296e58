//! The impact page: units reused, kilograms kept out of waste, CO2e avoided,
//! households equipped and training given over a period, with each factor's source
//! and date and how each figure is computed; as CSV too.

use super::{Filter, ScopeBar, Tab, filter, int, mass, read, scope_bar, tabs};
use crate::config::WebSettings;
use crate::db::Db;
use crate::service::dashboards;
use crate::web::{Chrome, csv, html, query_param};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::Datelike;
use filiere_shared::dashboards::*;
use filiere_shared::names::Named;
use filiere_shared::*;

pub struct Line {
    pub category: String,
    pub reused: String,
    pub kept: String,
    pub estimated: String,
    pub factor: String,
    pub co2e: String,
    pub manufacturing: String,
    pub sources: String,
}

#[derive(Template)]
#[template(path = "dashboards/impact.html")]
pub struct ImpactPage {
    pub chrome: Chrome,
    pub tabs: Vec<Tab>,
    pub bar: ScopeBar,
    pub query: String,
    pub from: String,
    pub to: String,
    pub period: String,
    pub reused: String,
    pub kept: String,
    pub kept_estimated: String,
    pub co2e: String,
    pub years: i64,
    pub households: String,
    pub training: String,
    pub lines: Vec<Line>,
    pub csv: String,
    pub pdf: String,
    /// Periods one click away: (name, link, shown now).
    pub presets: Vec<(String, String, bool)>,
}

fn kg_co2e(grams: i64, lang: Lang) -> String {
    format!("{} {}", mass(grams, lang), lang.pick("CO₂e", "CO₂e"))
}

pub use filiere_shared::names::hours;

pub use crate::documents::funder::period_text;

/// The page's choice of region or site, and the period asked for.
fn impact_query(req: &HttpRequest, lang: Lang) -> crate::error::ApiResult<(Filter, ImpactQuery)> {
    let f = filter(req, lang)?;
    Ok((
        f,
        ImpactQuery {
            region: f.region,
            site: f.site,
            from: query_param(req, "from"),
            to: query_param(req, "to"),
        },
    ))
}

pub async fn show(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let today = chrono::Utc::now().date_naive();
    let found = read(&req, &db, impact_query, move |c, a, (f, q)| {
        let d = dashboards::impact(c, a, &q, today)?;
        let bar = scope_bar(c, a, &f, &d.sites)?;
        Ok((d, bar))
    })
    .await;
    let (v, (f, _), (d, bar)) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let query = f.query();
    let from = d.from.format("%Y-%m").to_string();
    let to = d.to.format("%Y-%m").to_string();
    let lines = d
        .lines
        .iter()
        .map(|l| {
            let kept = l.weighed_g + l.estimated_g + l.unweighed * l.estimated_weight_g;
            let estimated = l.estimated_g + l.unweighed * l.estimated_weight_g;
            let mut sources = Vec::new();
            if let Some(s) = &l.avoided_source {
                sources.push(s.clone());
            }
            if let Some(s) = &l.manufacturing_source {
                sources.push(s.clone());
            }
            if l.unweighed > 0 {
                sources.push(format!(
                    "{} {} : {}",
                    lang.pick("masse estimée", "estimated weight"),
                    mass(l.estimated_weight_g, lang),
                    l.weight_source
                ));
            }
            Line {
                category: l.category.name(lang).to_owned(),
                reused: int(l.reused, lang),
                kept: mass(kept, lang),
                estimated: if estimated == 0 {
                    "—".into()
                } else {
                    mass(estimated, lang)
                },
                factor: match l.avoided_g_per_year {
                    Some(g) => format!("{} / {}", kg_co2e(g, lang), lang.pick("an", "year")),
                    None => lang
                        .pick("pas de facteur publié", "no published factor")
                        .into(),
                },
                co2e: kg_co2e(l.co2e_avoided_g, lang),
                manufacturing: l
                    .manufacturing_g
                    .map(|g| kg_co2e(g, lang))
                    .unwrap_or_else(|| "—".into()),
                sources: format!(
                    "{} ({})",
                    sources.join(" ; "),
                    l.source_date.format("%d/%m/%Y")
                ),
            }
        })
        .collect();
    let this_month = chrono::Utc::now().date_naive().with_day(1);
    let presets = this_month
        .map(|m| {
            let last = m - chrono::Months::new(1);
            let january = m.with_month(1).unwrap_or(m);
            let ym = |d: chrono::NaiveDate| d.format("%Y-%m").to_string();
            [
                (
                    lang.pick("Le mois dernier", "Last month"),
                    ym(last),
                    ym(last),
                ),
                (lang.pick("Ce mois-ci", "This month"), ym(m), ym(m)),
                (
                    lang.pick("Depuis janvier", "Since January"),
                    ym(january),
                    ym(m),
                ),
                (
                    lang.pick("Les 12 derniers mois", "The last 12 months"),
                    ym(m - chrono::Months::new(11)),
                    ym(m),
                ),
            ]
            .into_iter()
            .map(|(name, f, t)| {
                let mut href = format!("/dashboards/impact?from={f}&to={t}");
                if !query.is_empty() {
                    href.push('&');
                    href.push_str(&query);
                }
                (name.to_owned(), href, f == from && t == to)
            })
            .collect()
        })
        .unwrap_or_default();
    let mut csv = format!("/dashboards/impact.csv?from={from}&to={to}");
    if !query.is_empty() {
        csv.push('&');
        csv.push_str(&query);
    }
    let page = ImpactPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Impact", "Impact"), "/dashboards"),
        tabs: tabs(lang, "/dashboards/impact", &query),
        bar,
        query,
        presets,
        period: period_text(&d, lang),
        from,
        to,
        reused: int(d.reused, lang),
        kept: mass(d.kept_g, lang),
        kept_estimated: mass(d.kept_estimated_g, lang),
        co2e: kg_co2e(d.co2e_avoided_g, lang),
        years: d.extra_years,
        households: int(d.households, lang),
        training: hours(d.training_minutes, lang),
        lines,
        pdf: csv.replacen("/dashboards/impact.csv", "/dashboards/impact.pdf", 1),
        csv,
    };
    html(StatusCode::OK, page.render())
}

/// The impact per category as CSV, with the factors used.
pub async fn csv(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let today = chrono::Utc::now().date_naive();
    let (v, _, d) = match read(&req, &db, impact_query, move |c, a, (_, q)| {
        dashboards::impact(c, a, &q, today)
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let head = [
        lang.pick("Catégorie", "Category"),
        lang.pick("Réemployés", "Reused"),
        lang.pick("Masse pesée (g)", "Weighed mass (g)"),
        lang.pick(
            "Masse estimée par un technicien (g)",
            "Mass estimated by a technician (g)",
        ),
        lang.pick("Non pesés", "Not weighed"),
        lang.pick(
            "Masse estimée par catégorie (g)",
            "Estimated mass per category (g)",
        ),
        lang.pick(
            "CO2e évité par an d'usage (g)",
            "CO2e avoided per year of use (g)",
        ),
        lang.pick("Années d'usage en plus", "Extra years of use"),
        lang.pick("CO2e évité (g)", "CO2e avoided (g)"),
        lang.pick(
            "Fabrication d'un neuf (g CO2e, pour information)",
            "Making a new one (g CO2e, for context)",
        ),
        lang.pick("Sources", "Sources"),
        lang.pick("Date des facteurs", "Factors' date"),
    ];
    let rows: Vec<Vec<String>> = d
        .lines
        .iter()
        .map(|l| {
            vec![
                l.category.name(lang).to_owned(),
                l.reused.to_string(),
                l.weighed_g.to_string(),
                l.estimated_g.to_string(),
                l.unweighed.to_string(),
                l.estimated_weight_g.to_string(),
                l.avoided_g_per_year
                    .map(|g| g.to_string())
                    .unwrap_or_default(),
                d.extra_years.to_string(),
                l.co2e_avoided_g.to_string(),
                l.manufacturing_g.map(|g| g.to_string()).unwrap_or_default(),
                [
                    l.avoided_source.clone(),
                    l.manufacturing_source.clone(),
                    Some(l.weight_source.clone()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ; "),
                l.source_date.to_string(),
            ]
        })
        .collect();
    csv::table(
        &format!(
            "{}-{}-{}.csv",
            lang.pick("impact", "impact"),
            d.from.format("%Y-%m"),
            d.to.format("%Y-%m")
        ),
        &head,
        &rows,
    )
}

/// The funder's report: the period's impact as a PDF, in French.
pub async fn pdf(req: HttpRequest, db: Data<Db>, settings: Data<WebSettings>) -> HttpResponse {
    let today = chrono::Utc::now();
    let found = read(&req, &db, impact_query, move |c, a, (f, q)| {
        // The report is in French, whoever asks for it.
        let mut fr = a.clone();
        fr.lang = Lang::Fr;
        let d = dashboards::impact(c, &fr, &q, today.date_naive())?;
        let scope = dashboards::covers(c, &fr, f.region, f.site, &d.sites)?;
        Ok((d, scope))
    })
    .await;
    let (_, _, (d, scope)) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let pdf = crate::documents::funder::render(&crate::documents::funder::Report {
        impact: &d,
        scope: &scope,
        period: &period_text(&d, Lang::Fr),
        issued: &settings.clock.date_text(settings.clock.date(today)),
    });
    crate::routes::pdf_response(
        pdf,
        &format!(
            "rapport-impact-{}-{}.pdf",
            d.from.format("%Y-%m"),
            d.to.format("%Y-%m")
        ),
    )
}
