//! The verification page printed on every issued document (`/v/{id}`, its QR code):
//! what was issued under the identifier, by which organisation and when, nothing
//! personal; and a PDF file dropped on it checked against the SHA-256 kept at issue.
//! The file is read in memory and never kept. No account, no script.

use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::routes::{FILE_LIMIT, read};
use crate::service::documents::issued;
use crate::web::{Chrome, guest_lang, html, query_param, see_other};
use actix_multipart::form::MultipartForm;
use actix_multipart::form::bytes::Bytes as FilePart;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::documents::*;
use filiere_shared::names::Named;
use filiere_shared::{ErrorCode, Lang};

#[derive(Template)]
#[template(path = "public/verify.html")]
pub struct VerifyPage {
    pub chrome: Chrome,
    pub doc: Option<DocumentCheck>,
    pub kind: String,
    pub issued_at: String,
    pub file_name: String,
    /// An identifier was asked that matches nothing.
    pub unknown: bool,
    pub typed: String,
}

/// The form's one field: the file to check.
#[derive(MultipartForm)]
pub struct Upload {
    #[multipart(limit = "20MB")]
    pub file: FilePart,
}

/// The multipart reader's settings for this page: the file is held in memory.
pub fn upload_config() -> actix_multipart::form::MultipartFormConfig {
    actix_multipart::form::MultipartFormConfig::default()
        .total_limit(FILE_LIMIT + 64 * 1024)
        .memory_limit(FILE_LIMIT + 64 * 1024)
}

fn page(
    lang: Lang,
    settings: &WebSettings,
    doc: Option<DocumentCheck>,
    typed: &str,
    file_name: String,
) -> HttpResponse {
    let status = match (&doc, typed.is_empty()) {
        (None, false) => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    let page = VerifyPage {
        chrome: Chrome::guest(
            lang,
            lang.pick("Vérifier un document", "Verify a document"),
            String::new(),
        ),
        kind: doc
            .as_ref()
            .map(|d| d.kind.name(lang).to_owned())
            .unwrap_or_default(),
        issued_at: doc
            .as_ref()
            .map(|d| settings.clock.long(d.issued_at, lang))
            .unwrap_or_default(),
        unknown: doc.is_none() && !typed.is_empty(),
        typed: typed.to_owned(),
        file_name,
        doc,
    };
    html(status, page.render())
}

/// `/v`: a form to type the identifier; `/v?id=…` goes to its page.
pub async fn lookup(req: HttpRequest, settings: Data<WebSettings>) -> HttpResponse {
    let lang = guest_lang(&req);
    let typed = query_param(&req, "id").unwrap_or_default();
    match parse_document_id(&typed) {
        Some(id) => see_other(&issued::verify_path(&id)),
        None => page(lang, &settings, None, &typed, String::new()),
    }
}

async fn check(
    req: &HttpRequest,
    db: &Data<Db>,
    settings: &WebSettings,
    typed: String,
    file: Option<FilePart>,
) -> HttpResponse {
    let lang = guest_lang(req);
    let name = file
        .as_ref()
        .and_then(|f| f.file_name.clone())
        .unwrap_or_default();
    let shown = typed.clone();
    let found = read(db, move |c| {
        issued::check(c, &typed, file.as_ref().map(|f| &f.data[..]), lang)
    })
    .await;
    match found {
        Ok(d) => page(lang, settings, Some(d), &shown, name),
        Err(e) if e.code == ErrorCode::DocumentNotFound => {
            page(lang, settings, None, &shown, String::new())
        }
        Err(e) => crate::web::error_page(req, None, &e),
    }
}

/// `/v/{id}`: what was issued under the identifier.
pub async fn show(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<String>,
) -> HttpResponse {
    check(&req, &db, &settings, id.into_inner(), None).await
}

/// The form's target: the file checked against the document issued.
pub async fn check_file(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<String>,
    form: Result<MultipartForm<Upload>, actix_web::Error>,
) -> HttpResponse {
    match form {
        Ok(MultipartForm(upload)) => {
            check(&req, &db, &settings, id.into_inner(), Some(upload.file)).await
        }
        Err(e) => {
            let too_large = e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE;
            let code = if too_large {
                ErrorCode::PayloadTooLarge
            } else {
                ErrorCode::InvalidInput
            };
            crate::web::error_page(&req, None, &ApiError::new(code).in_lang(guest_lang(&req)))
        }
    }
}
