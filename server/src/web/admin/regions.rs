//! Regions: each has its coordinators, sites, donors and partners.

use crate::db::Db;
use crate::service::admin;
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, form_submit, html};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::Role;
use filiere_shared::api::*;

#[derive(Template)]
#[template(path = "admin/regions.html")]
pub struct RegionsPage {
    pub chrome: Chrome,
    pub regions: Vec<RegionView>,
}

pub async fn list(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, |c, a| {
        a.require(&[Role::Admin])?;
        admin::list_regions(c, a)
    })
    .await;
    let regions = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = RegionsPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Régions", "Regions"), "/admin"),
        regions,
    };
    html(StatusCode::OK, page.render())
}

pub async fn create(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    form_submit(req, db, body, |c, a, f| {
        admin::create_region(
            c,
            a,
            &NewRegion {
                name: f.get("name").to_owned(),
                code: f.get("code").to_owned(),
            },
        )?;
        Ok("/admin/regions".to_owned())
    })
    .await
}
