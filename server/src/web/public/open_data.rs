//! `/open-data/`: the network's anonymous aggregates per region and month, for
//! anyone, without login, under the Licence Ouverte 2.0; as CSV and JSON, with a page
//! that describes each column.

use crate::db::Db;
use crate::routes::read;
use crate::service::open_data;
use crate::web::{Chrome, csv, error_page, guest_lang, html};
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

pub struct Column {
    pub name: String,
    pub meaning: &'static str,
}

#[derive(Template)]
#[template(path = "public/open_data.html")]
pub struct OpenDataPage {
    pub chrome: Chrome,
    pub columns: Vec<Column>,
    pub first: String,
    pub last: String,
    pub regions: usize,
}

async fn data(db: &Data<Db>) -> crate::error::ApiResult<open_data::OpenData> {
    let today = chrono::Utc::now().date_naive();
    read(db, move |c| open_data::build(c, today)).await
}

pub async fn page(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let lang = guest_lang(&req);
    let d = match data(&db).await {
        Ok(d) => d,
        Err(e) => return error_page(&req, None, &e),
    };
    let page = OpenDataPage {
        chrome: Chrome::guest(
            lang,
            lang.pick("Données ouvertes", "Open data"),
            String::new(),
        ),
        columns: open_data::columns()
            .into_iter()
            .map(|(name, fr, en)| Column {
                name,
                meaning: lang.pick(fr, en),
            })
            .collect(),
        first: d.first_month.clone(),
        last: d.last_month.clone(),
        regions: d
            .rows
            .iter()
            .filter(|r| r.region != "FR" && r.month == "total")
            .count(),
    };
    html(StatusCode::OK, page.render())
}

pub async fn csv(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    match data(&db).await {
        Ok(d) => {
            let (head, rows) = open_data::csv_rows(&d);
            csv::table("filiere-regions-mois.csv", &head, &rows)
        }
        Err(e) => error_page(&req, None, &e),
    }
}

pub async fn json(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    match data(&db).await {
        Ok(d) => HttpResponse::Ok()
            .insert_header((
                "Content-Disposition",
                "inline; filename=\"filiere-regions-mois.json\"",
            ))
            .json(d),
        Err(e) => {
            use actix_web::ResponseError;
            let _ = guest_lang(&req);
            e.error_response()
        }
    }
}
