//! Donors and partners: a coordinator keeps their region's donor organisations and
//! partner associations; an admin every organisation (recyclers, training venues, the
//! associations that run the workshops). SIRET checked by its key, no online lookup.

use super::Choice;
use crate::db::Db;
use crate::service::admin::{self, COORDINATOR_KINDS};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, Fields, form_submit, html, query_param};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::*;
use filiere_shared::names::Named;
use filiere_shared::*;

pub struct OrgLine {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub siret: String,
    pub public_body: bool,
    pub region: String,
    pub contact: String,
}

#[derive(Template)]
#[template(path = "coordination/organisations.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub orgs: Vec<OrgLine>,
    pub kinds: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub admin: bool,
    pub may_create: bool,
}

pub async fn list(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, |c, a| {
        a.require(&[Role::Coordinator, Role::Admin])?;
        Ok((admin::list_organisations(c, a)?, admin::list_regions(c, a)?))
    })
    .await;
    let (orgs, regions) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let admin = v.actor.role == Role::Admin;
    let region_name = |id: Option<RegionId>| {
        id.and_then(|id| regions.iter().find(|r| r.id == id))
            .map(|r| r.name.clone())
            .unwrap_or_else(|| lang.pick("nationale", "national").to_owned())
    };
    let kinds: Vec<OrgKind> = if admin {
        OrgKind::ALL.to_vec()
    } else {
        COORDINATOR_KINDS.to_vec()
    };
    let page = ListPage {
        chrome: Chrome::for_visitor(
            &v,
            lang.pick("Organisations", "Organisations"),
            "/organisations",
        )
        .with_notice(
            query_param(&req, "done").map(|_| lang.pick("Enregistré.", "Saved.").to_owned()),
        ),
        orgs: orgs
            .iter()
            .map(|o| OrgLine {
                id: o.id.0,
                name: o.name.clone(),
                kind: o.kind.name(lang).to_owned(),
                siret: o.siret.clone().unwrap_or_default(),
                public_body: o.public_body,
                region: region_name(o.region),
                contact: o.contact.clone().unwrap_or_default(),
            })
            .collect(),
        kinds: kinds
            .iter()
            .map(|k| Choice::new(k.as_str(), k.name(lang), *k == OrgKind::Donor))
            .collect(),
        regions: regions
            .iter()
            .filter(|r| admin || Some(r.id) == v.actor.region)
            .map(|r| Choice::new(r.id.0, r.name.clone(), Some(r.id) == v.actor.region))
            .collect(),
        admin,
        may_create: true,
    };
    html(StatusCode::OK, page.render())
}

fn opt(f: &Fields, name: &str) -> Option<String> {
    f.opt(name)
}

pub async fn create(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    form_submit(req, db, body, |c, a, f| {
        let kind: OrgKind =
            crate::web::parsed(a, f, "kind", "choisissez un type", "choose a kind")?;
        let region = match f.get("region") {
            "" => None,
            _ => Some(RegionId(crate::web::parsed(
                a,
                f,
                "region",
                "choisissez une région",
                "choose a region",
            )?)),
        };
        let org = admin::create_organisation(
            c,
            a,
            &NewOrganisation {
                name: f.get("name").to_owned(),
                kind,
                siret: opt(f, "siret"),
                public_body: f.get("public_body") == "on",
                region,
                address: opt(f, "address"),
                weee_status: opt(f, "weee_status"),
                contact: opt(f, "contact"),
                vat_scheme: crate::web::parsed_opt(
                    a,
                    f,
                    "vat_scheme",
                    "régime de TVA",
                    "VAT scheme",
                )?,
            },
        )?;
        Ok(format!("/organisations/{}?done=1", org.id))
    })
    .await
}

#[derive(Template)]
#[template(path = "coordination/organisation.html")]
pub struct ShowPage {
    pub chrome: Chrome,
    pub org: OrganisationView,
    pub kind: String,
    pub region: String,
    pub may_edit: bool,
}

pub async fn show(req: HttpRequest, db: Data<Db>, id: Path<i64>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let id = OrgId(id.into_inner());
    let found = page_read(&req, &v, &db, move |c, a| {
        a.require(&[Role::Coordinator, Role::Admin])?;
        let org = admin::get_organisation(c, a, id)?;
        let region = match org.region {
            Some(r) => admin::list_regions(c, a)?
                .into_iter()
                .find(|x| x.id == r)
                .map(|x| x.name),
            None => None,
        };
        Ok((org, region))
    })
    .await;
    let (org, region) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let may_edit = v.actor.role == Role::Admin
        || (COORDINATOR_KINDS.contains(&org.kind)
            && org.region.is_some()
            && org.region == v.actor.region);
    let page = ShowPage {
        chrome: Chrome::for_visitor(&v, &org.name, "/organisations").with_notice(
            query_param(&req, "done").map(|_| lang.pick("Enregistré.", "Saved.").to_owned()),
        ),
        kind: org.kind.name(lang).to_owned(),
        region: region.unwrap_or_else(|| lang.pick("nationale", "national").to_owned()),
        org,
        may_edit,
    };
    html(StatusCode::OK, page.render())
}

pub async fn update(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = OrgId(id.into_inner());
    form_submit(req, db, body, move |c, a, f| {
        admin::update_organisation(
            c,
            a,
            id,
            &UpdateOrganisation {
                name: Some(f.get("name").to_owned()),
                siret: Some(f.get("siret").to_owned()),
                public_body: Some(f.get("public_body") == "on"),
                address: Some(f.get("address").to_owned()),
                contact: Some(f.get("contact").to_owned()),
                weee_status: Some(f.get("weee_status").to_owned()),
            },
        )?;
        Ok(format!("/organisations/{id}?done=1"))
    })
    .await
}
