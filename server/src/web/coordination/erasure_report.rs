//! An erasure tool's report sent from the collection's page (an nwipe log, a Blancco
//! report): each drive matched by serial to the collection's drives and its erasure
//! recorded, then what was done, drive by drive.

use crate::db::Db;
use crate::routes::erasure_report;
use crate::service::erasure_reports::Scope;
use crate::signed_in;
use crate::web::{Chrome, Fields, check_csrf, error_page, html};
use actix_multipart::form::MultipartForm;
use actix_multipart::form::bytes::Bytes as FilePart;
use actix_multipart::form::text::Text;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::blancco::ErasureReportImport;
use filiere_shared::*;

#[derive(MultipartForm)]
pub struct Upload {
    pub csrf: Text<String>,
    #[multipart(limit = "5MB")]
    pub file: FilePart,
}

#[derive(Template)]
#[template(path = "coordination/erasure_report.html")]
pub struct ResultPage {
    pub chrome: Chrome,
    pub collection: i64,
    pub file_name: String,
    pub r: ErasureReportImport,
}

pub async fn upload(
    req: HttpRequest,
    db: Data<Db>,
    id: Path<i64>,
    form: Result<MultipartForm<Upload>, actix_web::Error>,
) -> HttpResponse {
    let v = signed_in!(req);
    let Ok(MultipartForm(upload)) = form else {
        return error_page(
            &req,
            Some(&v),
            &crate::error::ApiError::new(ErrorCode::InvalidInput).in_lang(v.lang()),
        );
    };
    let fields = Fields::from_pairs(vec![("csrf".into(), upload.csrf.into_inner())]);
    if let Err(r) = check_csrf(&req, &v, &fields) {
        return *r;
    }
    let id = CollectionId(id.into_inner());
    let file_name = upload.file.file_name.clone().unwrap_or_default();
    match erasure_report(
        &db,
        &v.actor,
        Scope::Collection(id),
        upload.file.data.to_vec(),
    )
    .await
    {
        Ok(r) => {
            let lang = v.lang();
            let page = ResultPage {
                chrome: Chrome::for_visitor(
                    &v,
                    lang.pick("Rapport d'effacement", "Erasure report"),
                    "/collections",
                ),
                collection: id.0,
                file_name,
                r,
            };
            html(StatusCode::OK, page.render())
        }
        Err(e) => error_page(&req, Some(&v), &e),
    }
}
