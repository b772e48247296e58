//! The collections' weight balance: for each pickup, what the donor announced against
//! where its devices are now and what never arrived, to the gram, the estimated
//! masses flagged; as CSV too.

use super::{Filter, ScopeBar, Tab, filter, int, mass, read, scope_bar, tabs};
use crate::db::Db;
use crate::service::dashboards;
use crate::web::{Chrome, csv, html};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::dashboards::*;
use filiere_shared::names::Named;
use filiere_shared::*;

/// Collections shown, newest pickup first.
const SHOWN: i64 = 50;

pub struct LineView {
    pub name: &'static str,
    pub devices: String,
    pub mass: String,
    pub estimated: String,
}

pub struct CollectionView {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub declared: String,
    pub declared_mass: String,
    pub lines: Vec<LineView>,
    pub missing: String,
    pub missing_mass: String,
    pub registered: String,
    pub registered_mass: String,
    pub registered_estimated: String,
}

#[derive(Template)]
#[template(path = "dashboards/collections.html")]
pub struct CollectionsPage {
    pub chrome: Chrome,
    pub tabs: Vec<Tab>,
    pub bar: ScopeBar,
    pub query: String,
    pub collections: Vec<CollectionView>,
}

fn grams(m: &Mass) -> i64 {
    m.weighed_g + m.estimated_g + m.category_estimated_g
}

fn estimated(m: &Mass) -> i64 {
    m.estimated_g + m.category_estimated_g
}

fn view(k: &CollectionBalance, lang: Lang) -> CollectionView {
    let opt_mass = |g: Option<i64>| g.map(|g| mass(g, lang)).unwrap_or_else(|| "—".into());
    CollectionView {
        id: k.id.0,
        title: format!(
            "{} — {} {}{}",
            k.donor,
            lang.pick("enlèvement du", "pickup on"),
            k.pickup_date.format("%d/%m/%Y"),
            k.reference
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        status: k.status.name(lang).to_owned(),
        declared: int(i64::from(k.declared_count), lang),
        declared_mass: opt_mass(k.declared_weight_g),
        lines: k
            .lines
            .iter()
            .map(|l| {
                let (fr, en) = l.line.names();
                LineView {
                    name: lang.pick(fr, en),
                    devices: int(l.mass.devices, lang),
                    mass: mass(grams(&l.mass), lang),
                    estimated: if estimated(&l.mass) == 0 {
                        "·".into()
                    } else {
                        mass(estimated(&l.mass), lang)
                    },
                }
            })
            .collect(),
        missing: k
            .missing_count
            .map(|n| int(i64::from(n), lang))
            .unwrap_or_else(|| lang.pick("collecte ouverte", "still open").into()),
        missing_mass: opt_mass(k.missing_weight_g),
        registered: int(k.registered.devices, lang),
        registered_mass: mass(grams(&k.registered), lang),
        registered_estimated: mass(estimated(&k.registered), lang),
    }
}

pub async fn show(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let found = read(&req, &db, filter, |c, a, f: Filter| {
        let d = dashboards::collections(c, a, &f.dashboard(), SHOWN)?;
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
    let page = CollectionsPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Collectes", "Collections"), "/dashboards"),
        tabs: tabs(lang, "/dashboards/collections", &query),
        bar,
        query,
        collections: d.collections.iter().map(|k| view(k, lang)).collect(),
    };
    html(StatusCode::OK, page.render())
}

/// Every collection's balance as CSV, one line per collection and place, in grams.
pub async fn csv(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let (v, _, d) = match read(&req, &db, filter, |c, a, f: Filter| {
        dashboards::collections(c, a, &f.dashboard(), 10_000)
    })
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = v.lang();
    let head = [
        lang.pick("Collecte", "Collection"),
        lang.pick("Référence", "Reference"),
        lang.pick("Donateur", "Donor"),
        lang.pick("Date d'enlèvement", "Pickup date"),
        lang.pick("Où", "Where"),
        lang.pick("Appareils", "Devices"),
        lang.pick("Masse pesée (g)", "Weighed mass (g)"),
        lang.pick(
            "Masse estimée par un technicien (g)",
            "Mass estimated by a technician (g)",
        ),
        lang.pick(
            "Masse estimée par catégorie (g)",
            "Mass estimated by category (g)",
        ),
    ];
    let mut rows = Vec::new();
    for k in &d.collections {
        let base = || {
            vec![
                k.id.to_string(),
                k.reference.clone().unwrap_or_default(),
                k.donor.clone(),
                k.pickup_date.to_string(),
            ]
        };
        let mut declared = base();
        declared.extend([
            lang.pick("Annoncé", "Announced").to_owned(),
            k.declared_count.to_string(),
            k.declared_weight_g
                .map(|g| g.to_string())
                .unwrap_or_default(),
            String::new(),
            String::new(),
        ]);
        rows.push(declared);
        for l in &k.lines {
            let mut r = base();
            let (fr, en) = l.line.names();
            r.extend([
                lang.pick(fr, en).to_owned(),
                l.mass.devices.to_string(),
                l.mass.weighed_g.to_string(),
                l.mass.estimated_g.to_string(),
                l.mass.category_estimated_g.to_string(),
            ]);
            rows.push(r);
        }
        let mut missing = base();
        missing.extend([
            lang.pick("Manquant", "Missing").to_owned(),
            k.missing_count.map(|n| n.to_string()).unwrap_or_default(),
            k.missing_weight_g
                .map(|g| g.to_string())
                .unwrap_or_default(),
            String::new(),
            String::new(),
        ]);
        rows.push(missing);
    }
    csv::table(
        &format!("{}.csv", lang.pick("collectes", "collections")),
        &head,
        &rows,
    )
}
