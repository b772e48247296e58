//! The documents issued from the pages (a collection's for its donor, a WEEE batch's
//! slip for the recycler, a beneficiary's training attestation): issued by a form with
//! the same service as the API, then opened; and any issued document downloaded again
//! as it was issued.

use crate::config::WebSettings;
use crate::db::Db;
use crate::routes::{Subject, file_name, issue, pdf_response, public_base, read};
use crate::service::documents::issued;
use crate::signed_in;
use crate::web::{Fields, check_csrf, error_page, parsed, see_other};
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use filiere_shared::documents::IssuedDocument;
use filiere_shared::names::Named;
use filiere_shared::*;

/// An issued document as a page lists it.
pub struct IssuedLine {
    pub id: String,
    pub kind: String,
    pub date: String,
    pub by: String,
}

pub fn lines(docs: &[IssuedDocument], settings: &WebSettings, lang: Lang) -> Vec<IssuedLine> {
    docs.iter()
        .map(|d| IssuedLine {
            id: d.id.clone(),
            kind: d.kind.name(lang).to_owned(),
            date: settings.clock.short(d.issued_at),
            by: d.issued_by.clone(),
        })
        .collect()
}

/// What a document form sends: its kind, checked with its token.
fn kind_of(
    req: &HttpRequest,
    v: &crate::web::Visitor,
    body: &Bytes,
) -> Result<DocumentKind, Box<HttpResponse>> {
    let fields = Fields::parse(body);
    check_csrf(req, v, &fields)?;
    parsed(
        &v.actor,
        &fields,
        "kind",
        "choisissez le document",
        "choose the document",
    )
    .map_err(|e| Box::new(error_page(req, Some(v), &e)))
}

/// Issues a document with the same service as the API, then opens it.
async fn issue_and_open(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    body: Bytes,
    subject: Subject,
) -> HttpResponse {
    let v = signed_in!(req);
    let kind = match kind_of(&req, &v, &body) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let base = public_base(&req, &settings);
    match issue(&db, &v.actor, subject, kind, base, &settings).await {
        Ok(doc) => see_other(&format!("/documents/{}/pdf", doc.id)),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

/// A collection's document for its donor.
pub async fn for_collection(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let subject = Subject::Collection(CollectionId(id.into_inner()));
    issue_and_open(req, db, settings, body, subject).await
}

/// A WEEE batch's slip.
pub async fn for_batch(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let subject = Subject::Batch(WeeeBatchId(id.into_inner()));
    issue_and_open(req, db, settings, body, subject).await
}

/// A booking's training attestation.
pub async fn for_booking(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let subject = Subject::Booking(BookingId(id.into_inner()));
    issue_and_open(req, db, settings, body, subject).await
}

/// A device's own erasure certificate.
pub async fn for_device(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let subject = Subject::Device(ItemId(id.into_inner()));
    issue_and_open(req, db, settings, body, subject).await
}

/// An issued document's file, as it was issued.
pub async fn pdf(req: HttpRequest, db: Data<Db>, id: Path<String>) -> HttpResponse {
    let v = signed_in!(req);
    let actor = v.actor.clone();
    match read(&db, move |c| issued::pdf(c, &actor, &id)).await {
        Ok((doc, bytes)) => pdf_response(bytes, &file_name(&doc)),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}
