//! The workshops' benches: each signs in with its own token, shown once when the bench
//! is created (to type into the bench app's settings), and revoked here when a bench
//! is lost or retired.

use crate::db::Db;
use crate::routes::write;
use crate::service::admin;
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::coordination::Choice;
use crate::web::{Chrome, Fields, check_csrf, error_page, form_submit, html, parsed};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::*;
use filiere_shared::*;

pub struct BenchLine {
    pub id: i64,
    pub name: String,
    pub site: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin/benches.html")]
pub struct BenchesPage {
    pub chrome: Chrome,
    pub benches: Vec<BenchLine>,
    pub sites: Vec<Choice>,
    pub created: Option<NewBenchResponse>,
}

async fn page(
    req: &HttpRequest,
    db: &Data<Db>,
    v: &crate::web::Visitor,
    created: Option<NewBenchResponse>,
) -> HttpResponse {
    let lang = v.lang();
    let found = page_read(req, v, db, |c, a| {
        Ok((admin::list_benches(c, a)?, admin::list_sites(c, a)?))
    })
    .await;
    let (benches, sites) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let site_name = |id: SiteId| {
        sites
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let status = if created.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let page = BenchesPage {
        chrome: Chrome::for_visitor(
            v,
            lang.pick("Postes des ateliers", "Workshop benches"),
            "/admin",
        ),
        benches: benches
            .iter()
            .map(|b| BenchLine {
                id: b.id.0,
                name: b.name.clone(),
                site: site_name(b.site),
                active: b.active,
            })
            .collect(),
        sites: sites
            .iter()
            .map(|s| Choice::new(s.id.0, s.name.clone(), false))
            .collect(),
        created,
    };
    html(status, page.render())
}

pub async fn list(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    page(&req, &db, &v, None).await
}

/// Creates the bench and shows its token, on this answer only.
pub async fn create(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let actor = v.actor.clone();
    let made = write(&db, move |c| {
        let a = &actor;
        admin::create_bench(
            c,
            a,
            &NewBench {
                site: SiteId(parsed(
                    a,
                    &f,
                    "site",
                    "choisissez le site",
                    "choose the site",
                )?),
                name: f.get("name").to_owned(),
            },
        )
    })
    .await;
    match made {
        Ok(created) => page(&req, &db, &v, Some(created)).await,
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

pub async fn revoke(
    req: HttpRequest,
    db: Data<Db>,
    sessions: Data<crate::auth::SessionCache>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let id = BenchId(id.into_inner());
    let answer = form_submit(req, db, body, move |c, a, _| {
        admin::revoke_bench(c, a, id)?;
        Ok("/admin/benches".to_owned())
    })
    .await;
    // The bench's sessions stop at once.
    sessions.clear();
    answer
}
