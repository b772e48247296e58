//! Sites: workshops, warehouses and shops, with their address and opening hours (shown
//! to social workers and on vouchers), the association that sells at their counter,
//! and their label printers.

use crate::db::Db;
use crate::service::{admin, labels};
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::coordination::Choice;
use crate::web::{Chrome, form_submit, html, parsed, parsed_opt, query_param};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::*;
use filiere_shared::label::SheetKind;
use filiere_shared::names::Named;
use filiere_shared::social::UpdateSite;
use filiere_shared::*;

pub struct SiteLine {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub region: String,
    pub address: String,
    pub seller: String,
}

#[derive(Template)]
#[template(path = "admin/sites.html")]
pub struct SitesPage {
    pub chrome: Chrome,
    pub sites: Vec<SiteLine>,
    pub regions: Vec<Choice>,
    pub kinds: Vec<Choice>,
    pub operators: Vec<Choice>,
}

fn operators(orgs: &[OrganisationView], selected: Option<OrgId>) -> Vec<Choice> {
    orgs.iter()
        .filter(|o| o.kind == OrgKind::Operator)
        .map(|o| Choice::new(o.id.0, o.name.clone(), Some(o.id) == selected))
        .collect()
}

pub async fn list(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, |c, a| {
        a.require(&[Role::Admin])?;
        Ok((
            admin::list_sites(c, a)?,
            admin::list_regions(c, a)?,
            admin::list_organisations(c, a)?,
        ))
    })
    .await;
    let (sites, regions, orgs) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let region_name = |id: RegionId| {
        regions
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    let org_name = |id: Option<OrgId>| {
        id.and_then(|id| orgs.iter().find(|o| o.id == id))
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let page = SitesPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Sites", "Sites"), "/admin"),
        sites: sites
            .iter()
            .map(|s| SiteLine {
                id: s.id.0,
                name: s.name.clone(),
                kind: s.kind.name(lang).to_owned(),
                region: region_name(s.region),
                address: s.address.clone().unwrap_or_default(),
                seller: org_name(s.organisation),
            })
            .collect(),
        regions: regions
            .iter()
            .map(|r| Choice::new(r.id.0, r.name.clone(), false))
            .collect(),
        kinds: SiteKind::ALL
            .iter()
            .map(|k| Choice::new(k.as_str(), k.name(lang), false))
            .collect(),
        operators: operators(&orgs, None),
    };
    html(StatusCode::OK, page.render())
}

pub async fn create(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    form_submit(req, db, body, |c, a, f| {
        let site = admin::create_site(
            c,
            a,
            &NewSite {
                region: RegionId(parsed(
                    a,
                    f,
                    "region",
                    "choisissez la région",
                    "choose the region",
                )?),
                name: f.get("name").to_owned(),
                kind: parsed(a, f, "kind", "choisissez le type", "choose the kind")?,
                address: f.opt("address"),
                opening_hours: f.opt("opening_hours"),
                organisation: parsed_opt(a, f, "organisation", "association", "association")?
                    .map(OrgId),
            },
        )?;
        Ok(format!("/admin/sites/{}", site.id))
    })
    .await
}

pub struct PrinterLine {
    pub name: String,
    pub kind: &'static str,
    pub address: String,
    pub media: String,
    pub bench: String,
}

#[derive(Template)]
#[template(path = "admin/site.html")]
pub struct SitePage {
    pub chrome: Chrome,
    pub site: SiteView,
    pub kind: String,
    pub operators: Vec<Choice>,
    pub printers: Vec<PrinterLine>,
    pub benches: Vec<Choice>,
    pub sheets: Vec<&'static str>,
}

pub async fn show(req: HttpRequest, db: Data<Db>, id: Path<i64>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let id = SiteId(id.into_inner());
    let found = page_read(&req, &v, &db, move |c, a| {
        a.require(&[Role::Admin])?;
        let site = admin::list_sites(c, a)?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| a.err(ErrorCode::SiteNotFound))?;
        let benches: Vec<BenchView> = admin::list_benches(c, a)?
            .into_iter()
            .filter(|b| b.site == id && b.active)
            .collect();
        Ok((
            site,
            admin::list_organisations(c, a)?,
            labels::list_printers(c, a, Some(id))?,
            benches,
        ))
    })
    .await;
    let (site, orgs, printers, benches) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let bench_name = |b: Option<BenchId>| {
        b.and_then(|b| benches.iter().find(|x| x.id == b))
            .map(|x| x.name.clone())
            .unwrap_or_default()
    };
    let page = SitePage {
        chrome: Chrome::for_visitor(&v, &site.name, "/admin").with_notice(
            query_param(&req, "done").map(|_| lang.pick("Enregistré.", "Saved.").to_owned()),
        ),
        kind: site.kind.name(lang).to_owned(),
        operators: operators(&orgs, site.organisation),
        printers: printers
            .iter()
            .map(|p| PrinterLine {
                name: p.name.clone(),
                kind: p.kind.as_str(),
                address: p.address.clone(),
                media: p.media.clone(),
                bench: bench_name(p.bench),
            })
            .collect(),
        benches: benches
            .iter()
            .map(|b| Choice::new(b.id.0, b.name.clone(), false))
            .collect(),
        sheets: SheetKind::ALL.iter().map(|s| s.as_str()).collect(),
        site,
    };
    html(StatusCode::OK, page.render())
}

pub async fn update(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let id = SiteId(id.into_inner());
    form_submit(req, db, body, move |c, a, f| {
        admin::update_site(
            c,
            a,
            id,
            &UpdateSite {
                address: Some(f.get("address").to_owned()),
                opening_hours: Some(f.get("opening_hours").to_owned()),
                organisation: parsed_opt(a, f, "organisation", "association", "association")?
                    .map(OrgId),
            },
        )?;
        Ok(format!("/admin/sites/{id}?done=1"))
    })
    .await
}

pub async fn add_printer(
    req: HttpRequest,
    db: Data<Db>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let id = SiteId(id.into_inner());
    form_submit(req, db, body, move |c, a, f| {
        let kind = match f.get("kind") {
            "zpl" => PrinterKind::Zpl,
            "cups" => PrinterKind::Cups,
            _ => {
                return Err(crate::error::ApiError::field(
                    filiere_shared::validate::FieldError::new(
                        "kind",
                        "choisissez le type",
                        "choose the kind",
                    ),
                    a.lang,
                ));
            }
        };
        let media = match kind {
            PrinterKind::Zpl => f.get("roll").to_owned(),
            PrinterKind::Cups => f.get("sheet").to_owned(),
        };
        labels::create_printer(
            c,
            a,
            &NewPrinter {
                site: id,
                bench: parsed_opt(a, f, "bench", "poste", "bench")?.map(BenchId),
                name: f.get("name").to_owned(),
                kind,
                address: f.get("address").to_owned(),
                dpi: match kind {
                    PrinterKind::Zpl => parsed_opt(a, f, "dpi", "203 ou 300", "203 or 300")?,
                    PrinterKind::Cups => None,
                },
                media,
            },
        )?;
        Ok(format!("/admin/sites/{id}?done=1"))
    })
    .await
}
