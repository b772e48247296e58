//! Donors' offers as the region's coordinator reviews them: accept one as a planned
//! collection at one of the region's workshops, or decline it.

use super::Choice;
use super::collections::legal;
use crate::config::WebSettings;
use crate::db::Db;
use crate::service::offers;
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, form_submit, html, kilograms, parsed};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::names::Named;
use filiere_shared::offers::*;
use filiere_shared::*;

pub struct OfferLine {
    pub id: i64,
    pub organisation: String,
    pub public_body: bool,
    pub total: i64,
    pub received: String,
    pub status: String,
    pub proposed: bool,
    pub collection: Option<i64>,
}

#[derive(Template)]
#[template(path = "coordination/offers.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub offers: Vec<OfferLine>,
}

pub async fn list(req: HttpRequest, db: Data<Db>, settings: Data<WebSettings>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, |c, a| offers::list(c, a, None)).await;
    let list = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = ListPage {
        chrome: Chrome::for_visitor(
            &v,
            lang.pick("Propositions de dons", "Donation offers"),
            "/collections",
        ),
        offers: list
            .iter()
            .map(|o| OfferLine {
                id: o.id.0,
                organisation: o.organisation_name.clone(),
                public_body: o.public_body,
                total: o.total,
                received: settings.clock.long(o.created_at, lang),
                status: o.status.name(lang).to_owned(),
                proposed: o.status == OfferStatus::Proposed,
                collection: o.collection.map(|c| c.0),
            })
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

#[derive(Template)]
#[template(path = "coordination/offer.html")]
pub struct ShowPage {
    pub chrome: Chrome,
    pub o: OfferView,
    pub status: String,
    pub received: String,
    pub sites: Vec<Choice>,
    pub proposed: bool,
    pub today: String,
}

pub async fn show(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let id = OfferId(id.into_inner());
    let found = page_read(&req, &v, &db, move |c, a| {
        let o = offers::get(c, a, id)?;
        let sites: Vec<Choice> = crate::service::admin::list_sites(c, a)?
            .into_iter()
            .filter(|s| s.region == o.region)
            .map(|s| Choice::new(s.id.0, s.name, false))
            .collect();
        Ok((o, sites))
    })
    .await;
    let (o, sites) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = ShowPage {
        chrome: Chrome::for_visitor(
            &v,
            &format!(
                "{} — {}",
                lang.pick("Proposition", "Offer"),
                o.organisation_name
            ),
            "/collections",
        ),
        status: o.status.name(lang).to_owned(),
        received: settings.clock.long(o.created_at, lang),
        proposed: o.status == OfferStatus::Proposed,
        sites,
        today: settings.clock.date(chrono::Utc::now()).to_string(),
        o,
    };
    html(StatusCode::OK, page.render())
}

pub async fn accept(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = OfferId(id.into_inner());
    form_submit(req, db, body, move |c, a, f| {
        let (legal_status, waste_code) = legal(a, f)?;
        let collection = offers::accept(
            c,
            a,
            id,
            &AcceptOffer {
                site: SiteId(parsed(
                    a,
                    f,
                    "site",
                    "choisissez l'atelier",
                    "choose the workshop",
                )?),
                pickup_date: parsed(a, f, "pickup_date", "date attendue", "a date is expected")?,
                legal_status,
                waste_code,
                declared_weight_g: kilograms(a, f, "declared_weight")?,
            },
        )?;
        Ok(format!("/collections/{}", collection.id))
    })
    .await
}

pub async fn decline(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = OfferId(id.into_inner());
    form_submit(req, db, body, move |c, a, f| {
        offers::decline(
            c,
            a,
            id,
            &DeclineOffer {
                reason: f.opt("reason"),
            },
        )?;
        Ok(format!("/offers/{id}"))
    })
    .await
}
