//! The admin's pages: regions, sites (with their printers), user accounts (each new
//! one with a one-time link to set a password), benches (their token shown once), and
//! the way to organisations and the legal price caps, the dashboards' settings. Each page calls the service
//! functions of the JSON routes and refuses bad input with the same messages.

pub mod benches;
pub mod dashboards;
pub mod regions;
pub mod sites;
pub mod users;

use crate::db::Db;
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, html};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::Role;

#[derive(Template)]
#[template(path = "admin/hub.html")]
pub struct HubPage {
    pub chrome: Chrome,
    pub regions: usize,
    pub sites: usize,
    pub organisations: usize,
    pub users: usize,
    pub benches: usize,
}

/// The admin's starting point: each part with how many there are, in the order a new
/// installation is set up.
pub async fn hub(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, |c, a| {
        a.require(&[Role::Admin])?;
        use crate::service::admin as s;
        Ok((
            s::list_regions(c, a)?.len(),
            s::list_sites(c, a)?.len(),
            s::list_organisations(c, a)?.len(),
            s::list_users(c, a)?.len(),
            s::list_benches(c, a)?.iter().filter(|b| b.active).count(),
        ))
    })
    .await;
    let (regions, sites, organisations, users, benches) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = HubPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Administration", "Administration"), "/admin"),
        regions,
        sites,
        organisations,
        users,
        benches,
    };
    html(StatusCode::OK, page.render())
}
