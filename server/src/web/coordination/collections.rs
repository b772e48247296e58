//! Collections: plan a pickup at a donor's, follow its reception live (the page
//! refreshes itself while the collection is open: no script), close it (what never
//! arrived recorded as missing).

use super::{Choice, site_choices, site_names, sites};
use crate::config::WebSettings;
use crate::db::Db;
use crate::service::documents::donor;
use crate::service::{admin, collections, items, offers};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, form_submit, html, kg_text, kilograms, parsed};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::*;
use filiere_shared::documents::CollectionDocuments;
use filiere_shared::names::Named;
use filiere_shared::*;

pub struct CollectionLine {
    pub id: i64,
    pub reference: String,
    pub donor: String,
    pub public_body: bool,
    pub site: String,
    pub date: String,
    pub received: i64,
    pub declared: i32,
    pub missing: Option<i32>,
}

#[derive(Template)]
#[template(path = "coordination/collections.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub proposed: usize,
    pub open: Vec<CollectionLine>,
    pub closed: Vec<CollectionLine>,
    pub donors: Vec<Choice>,
    pub sites: Vec<Choice>,
    pub may_plan: bool,
    pub today: String,
}

pub fn line(
    c: &CollectionView,
    sites: &std::collections::HashMap<i64, String>,
    settings: &WebSettings,
) -> CollectionLine {
    CollectionLine {
        id: c.id.0,
        reference: c.reference.clone().unwrap_or_else(|| format!("#{}", c.id)),
        donor: c.donor_name.clone(),
        public_body: c.donor_public_body,
        site: sites.get(&c.site.0).cloned().unwrap_or_default(),
        date: settings.clock.date_text(c.pickup_date),
        received: c.received_count,
        declared: c.declared_count,
        missing: c.missing_count,
    }
}

pub async fn list(req: HttpRequest, db: Data<Db>, settings: Data<WebSettings>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, |c, a| {
        let open = collections::list_filtered(c, a, Some(CollectionStatus::Planned))?;
        let closed = collections::list_filtered(c, a, Some(CollectionStatus::Closed))?;
        let proposed = match a.role {
            Role::Coordinator | Role::Admin => {
                offers::list(c, a, Some(OfferStatus::Proposed))?.len()
            }
            _ => 0,
        };
        let donors = match a.role {
            Role::Coordinator | Role::Admin => admin::list_organisations(c, a)?
                .into_iter()
                .filter(|o| o.kind == OrgKind::Donor)
                .collect(),
            _ => Vec::new(),
        };
        let all_sites = sites(c, a)?;
        Ok((
            open,
            closed,
            proposed,
            donors,
            site_choices(&all_sites, a, None),
            site_names(&all_sites),
        ))
    })
    .await;
    let (open, closed, proposed, donors, sites, names) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = ListPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Collectes", "Collections"), "/collections"),
        proposed,
        open: open.iter().map(|c| line(c, &names, &settings)).collect(),
        closed: closed
            .iter()
            .take(30)
            .map(|c| line(c, &names, &settings))
            .collect(),
        donors: donors
            .into_iter()
            .map(|o| {
                let label = if o.public_body {
                    format!(
                        "{} ({})",
                        o.name,
                        lang.pick("organisme public", "public body")
                    )
                } else {
                    o.name
                };
                Choice::new(o.id.0, label, false)
            })
            .collect(),
        sites,
        may_plan: matches!(v.actor.role, Role::Coordinator | Role::Admin),
        today: settings.clock.date(chrono::Utc::now()).to_string(),
    };
    html(StatusCode::OK, page.render())
}

/// The legal status and waste code fields, shared with the offer's acceptance.
pub fn legal(
    a: &crate::auth::Actor,
    f: &crate::web::Fields,
) -> crate::error::ApiResult<(LegalStatus, Option<String>)> {
    let status: LegalStatus = parsed(a, f, "legal_status", "statut juridique", "legal status")?;
    Ok((status, f.opt("waste_code")))
}

pub async fn create(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    form_submit(req, db, body, |c, a, f| {
        let (legal_status, waste_code) = legal(a, f)?;
        let view = collections::create(
            c,
            a,
            &NewCollection {
                donor: OrgId(parsed(
                    a,
                    f,
                    "donor",
                    "choisissez le donateur",
                    "choose the donor",
                )?),
                site: SiteId(parsed(
                    a,
                    f,
                    "site",
                    "choisissez l'atelier",
                    "choose the workshop",
                )?),
                pickup_date: parsed(a, f, "pickup_date", "date attendue", "a date is expected")?,
                pickup_address: f.opt("pickup_address"),
                declared_count: parsed(
                    a,
                    f,
                    "declared_count",
                    "nombre d'appareils attendu",
                    "a number of devices is expected",
                )?,
                declared_weight_g: kilograms(a, f, "declared_weight")?,
                legal_status,
                waste_code,
                reference: f.opt("reference"),
                notes: f.opt("notes"),
            },
        )?;
        Ok(format!("/collections/{}", view.id))
    })
    .await
}

pub struct ItemLine {
    pub code: String,
    pub category: String,
    pub state: String,
    pub received: bool,
    pub model: String,
    pub weight: String,
}

#[derive(Template)]
#[template(path = "coordination/collection.html")]
pub struct ShowPage {
    pub chrome: Chrome,
    pub c: CollectionView,
    pub site: String,
    pub date: String,
    pub legal: String,
    pub open: bool,
    pub percent: i64,
    pub received_weight: String,
    pub declared_weight: String,
    pub missing_weight: String,
    pub at_donor: i64,
    pub items: Vec<ItemLine>,
    pub may_close: bool,
    pub to_label: i64,
    pub documents: CollectionDocuments,
    /// Each issued document's kind and date, as shown.
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
    let id = CollectionId(id.into_inner());
    let found = page_read(&req, &v, &db, move |c, a| {
        let view = collections::get(c, a, id)?;
        let listing = items::list(
            c,
            &ItemQuery {
                collection: Some(id),
                limit: Some(500),
                ..Default::default()
            },
            a,
        )?;
        let items = match listing {
            ItemListing::Full(p) => p.items,
            ItemListing::Sale(_) => Vec::new(),
        };
        let documents = donor::overview(c, a, id)?;
        Ok((view, items, site_names(&sites(c, a)?), documents))
    })
    .await;
    let (view, item_list, names, documents) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let open = view.status == CollectionStatus::Planned;
    let percent = if view.declared_count > 0 {
        (view.received_count * 100 / i64::from(view.declared_count)).min(100)
    } else {
        0
    };
    let dash = || "—".to_owned();
    let page = ShowPage {
        chrome: Chrome::for_visitor(
            &v,
            &format!(
                "{} — {}",
                lang.pick("Collecte", "Collection"),
                view.donor_name
            ),
            "/collections",
        ),
        site: names.get(&view.site.0).cloned().unwrap_or_default(),
        date: settings.clock.date_text(view.pickup_date),
        legal: match &view.waste_code {
            Some(w) => format!("{} — {w}", view.legal_status.name(lang)),
            None => view.legal_status.name(lang).to_owned(),
        },
        open,
        percent,
        received_weight: kg_text(view.received_weight_g, lang),
        declared_weight: view
            .declared_weight_g
            .map(|g| kg_text(g, lang))
            .unwrap_or_else(dash),
        missing_weight: view
            .missing_weight_g
            .map(|g| kg_text(g, lang))
            .unwrap_or_else(dash),
        at_donor: view.registered_count - view.received_count,
        items: item_list
            .iter()
            .filter(|i| i.origin.is_none())
            .map(|i| ItemLine {
                code: i.code.hyphenated(),
                category: i.category.name(lang).to_owned(),
                state: i.state.name(lang).to_owned(),
                received: i.state != ItemState::Collected,
                model: [i.brand.as_deref(), i.model.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                weight: i.weight_g.map(|g| kg_text(g, lang)).unwrap_or_else(dash),
            })
            .collect(),
        may_close: open && matches!(v.actor.role, Role::Coordinator | Role::Admin),
        to_label: (i64::from(view.declared_count) - view.registered_count).max(0),
        c: view,
        issued: super::documents::lines(&documents.issued, &settings, lang),
        documents,
    };
    html(StatusCode::OK, page.render())
}

pub async fn close(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = CollectionId(id.into_inner());
    form_submit(req, db, body, move |c, a, f| {
        collections::close(
            c,
            a,
            id,
            &CloseCollection {
                notes: f.opt("notes"),
            },
        )?;
        Ok(format!("/collections/{id}"))
    })
    .await
}
