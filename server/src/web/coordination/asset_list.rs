//! A donor's asset list on the collection's page: the spreadsheet's CSV sent, every
//! line's problem shown with its number before anything is written, then the import
//! confirmed and followed with a progress bar (the page refreshes itself, no script)
//! until the intake labels can be printed.

use crate::config::WebSettings;
use crate::db::Db;
use crate::routes::{read, start};
use crate::service::asset_imports::{self, FILE_LIMIT};
use crate::signed_in;
use crate::web::{Chrome, Fields, check_csrf, error_page, html, see_other};
use actix_multipart::form::MultipartForm;
use actix_multipart::form::bytes::Bytes as FilePart;
use actix_multipart::form::text::Text;
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::assets::*;
use filiere_shared::*;

/// The upload form: its token and the file.
#[derive(MultipartForm)]
pub struct Upload {
    pub csrf: Text<String>,
    #[multipart(limit = "5MB")]
    pub file: FilePart,
}

/// The multipart reader's settings for the upload: the file is held in memory.
pub fn upload_config() -> actix_multipart::form::MultipartFormConfig {
    actix_multipart::form::MultipartFormConfig::default()
        .total_limit(FILE_LIMIT + 64 * 1024)
        .memory_limit(FILE_LIMIT + 64 * 1024)
}

/// The confirmation form carries the file back as text.
pub fn confirm_config() -> actix_web::web::PayloadConfig {
    actix_web::web::PayloadConfig::new(3 * FILE_LIMIT + 64 * 1024)
}

#[derive(Template)]
#[template(path = "coordination/asset_list.html")]
pub struct PreviewPage {
    pub chrome: Chrome,
    pub collection: i64,
    pub file_name: String,
    pub p: AssetPreview,
    pub csv: String,
}

#[derive(Template)]
#[template(path = "coordination/asset_import.html")]
pub struct ProgressPage {
    pub chrome: Chrome,
    pub i: AssetImportView,
    pub running: bool,
    pub percent: i32,
}

fn refused(req: &HttpRequest, v: &crate::web::Visitor, code: ErrorCode) -> HttpResponse {
    error_page(
        req,
        Some(v),
        &crate::error::ApiError::new(code).in_lang(v.lang()),
    )
}

/// The list sent: what importing it would do.
pub async fn preview(
    req: HttpRequest,
    db: Data<Db>,
    id: Path<i64>,
    form: Result<MultipartForm<Upload>, actix_web::Error>,
) -> HttpResponse {
    let v = signed_in!(req);
    let Ok(MultipartForm(upload)) = form else {
        return refused(&req, &v, ErrorCode::InvalidInput);
    };
    let fields = Fields::from_pairs(vec![("csrf".into(), upload.csrf.into_inner())]);
    if let Err(r) = check_csrf(&req, &v, &fields) {
        return *r;
    }
    let id = CollectionId(id.into_inner());
    let file = upload.file.data.to_vec();
    let file_name = upload.file.file_name.clone().unwrap_or_default();
    let csv = String::from_utf8_lossy(&file).into_owned();
    let actor = v.actor.clone();
    match read(&db, move |c| asset_imports::preview(c, &actor, id, &file)).await {
        Ok(p) => {
            let lang = v.lang();
            let page = PreviewPage {
                chrome: Chrome::for_visitor(
                    &v,
                    lang.pick("Liste d'inventaire du donateur", "The donor's asset list"),
                    "/collections",
                ),
                collection: id.0,
                file_name,
                // Only a list that can be imported is sent back with the confirmation.
                csv: if p.problems.is_empty() {
                    csv
                } else {
                    String::new()
                },
                p,
            };
            html(StatusCode::OK, page.render())
        }
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

/// The import confirmed: started, then followed.
pub async fn import(req: HttpRequest, db: Data<Db>, id: Path<i64>, body: Bytes) -> HttpResponse {
    let v = signed_in!(req);
    let fields = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &fields) {
        return *r;
    }
    let id = CollectionId(id.into_inner());
    let file = fields.raw("csv").as_bytes().to_vec();
    match start(&db, &v.actor, id, file).await {
        Ok(i) => see_other(&format!("/asset-imports/{}", i.id)),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

/// How far an import got.
pub async fn progress(
    req: HttpRequest,
    db: Data<Db>,
    _settings: Data<WebSettings>,
    id: Path<i64>,
) -> HttpResponse {
    let v = signed_in!(req);
    let id = id.into_inner();
    let actor = v.actor.clone();
    match read(&db, move |c| asset_imports::get(c, &actor, id)).await {
        Ok(i) => {
            let lang = v.lang();
            let page = ProgressPage {
                chrome: Chrome::for_visitor(
                    &v,
                    lang.pick("Import de la liste d'inventaire", "Asset list import"),
                    "/collections",
                ),
                running: i.status == ImportStatus::Running,
                percent: if i.total > 0 {
                    i.done * 100 / i.total
                } else {
                    100
                },
                i,
            };
            html(StatusCode::OK, page.render())
        }
        Err(e) => error_page(&req, Some(&v), &e),
    }
}
