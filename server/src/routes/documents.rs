//! `/api/v1` handlers of the documents issued to donors: a collection's documents
//! (issue one, list them), an issued file downloaded again, and the public
//! verification of an identifier and of a file. The collection page and the public
//! verification page call the same service functions.

use super::{FileBody, localise, pdf_response, public_base, read, write};
use crate::auth::{Actor, request_lang};
use crate::config::WebSettings;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::service::documents::{attestation, certificates, donor, issued, weee};
use actix_web::web::{Data, Json, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use filiere_shared::documents::*;
use filiere_shared::error::ErrorBody;
use filiere_shared::*;

/// The largest file the verification takes: a document Filière issues is far smaller.
pub const FILE_LIMIT: usize = 20 * 1024 * 1024;

#[utoipa::path(get, path = "/api/v1/collections/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = CollectionDocuments), (status = 404, body = ErrorBody)))]
pub async fn collection_documents(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<CollectionDocuments>> {
    let id = CollectionId(id.into_inner());
    read_handler!(actor, db, |c, a| donor::overview(c, &a, id))
}

/// Issues the collection's receipt, or its erasure certificate (a technician of its
/// site or a coordinator of its region with the data-security right, once every drive
/// is erased or destroyed and every device's drives declared).
#[utoipa::path(post, path = "/api/v1/collections/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body(content = IssueDocument, example = json!({"kind": "erasure_certificate"})),
    responses((status = 200, body = IssuedDocument), (status = 404, body = ErrorBody),
        (status = 409, description = "Drives still pending (`drives_pending`, the list in `details.pending`)", body = ErrorBody)))]
pub async fn issue_collection_document(
    req: HttpRequest,
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: JsonBody<IssueDocument>,
) -> ApiResult<Json<IssuedDocument>> {
    let id = CollectionId(id.into_inner());
    let kind = body.read(&actor)?.kind;
    let issued = issue(
        &db,
        &actor,
        Subject::Collection(id),
        kind,
        public_base(&req, &settings),
        &settings,
    )
    .await?;
    Ok(Json(issued))
}

/// What a document is issued about.
#[derive(Debug, Clone, Copy)]
pub enum Subject {
    Collection(CollectionId),
    Device(ItemId),
    Batch(WeeeBatchId),
    Booking(BookingId),
}

/// Issues a document: prepared on a read connection (drawing the PDF there), then
/// kept in one write (a certificate checked again there).
pub async fn issue(
    db: &Data<Db>,
    actor: &Actor,
    subject: Subject,
    kind: DocumentKind,
    base: String,
    settings: &WebSettings,
) -> ApiResult<IssuedDocument> {
    let (a, clock) = (actor.clone(), settings.clock);
    let draft = localise(
        actor,
        read(db, move |c| match subject {
            Subject::Collection(id) => donor::prepare(c, &a, id, kind, &base, clock),
            Subject::Device(id) => certificates::prepare_device(c, &a, id, kind, &base, clock),
            Subject::Batch(id) => weee::prepare(c, &a, id, kind, &base, clock),
            Subject::Booking(id) => attestation::prepare(c, &a, id, kind, &base, clock),
        })
        .await,
    )?;
    let a = actor.clone();
    localise(
        actor,
        write(db, move |c| match subject {
            Subject::Collection(id) => donor::issue(c, &a, id, &draft),
            Subject::Device(id) => certificates::issue_device(c, &a, id, &draft),
            Subject::Batch(_) | Subject::Booking(_) => issued::record(c, &draft),
        })
        .await,
    )
}

#[utoipa::path(get, path = "/api/v1/items/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<IssuedDocument>), (status = 404, body = ErrorBody)))]
pub async fn item_documents(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<Vec<IssuedDocument>>> {
    let id = ItemId(id.into_inner());
    read_handler!(actor, db, |c, a| certificates::device_documents(c, &a, id))
}

/// Issues a device's own erasure certificate (a technician of its site or a
/// coordinator of its region with the data-security right, once each of its drives is
/// erased or destroyed).
#[utoipa::path(post, path = "/api/v1/items/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body(content = IssueDocument, example = json!({"kind": "erasure_certificate"})),
    responses((status = 200, body = IssuedDocument), (status = 404, body = ErrorBody),
        (status = 409, description = "Drives still pending (`drives_pending`)", body = ErrorBody)))]
pub async fn issue_item_document(
    req: HttpRequest,
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: JsonBody<IssueDocument>,
) -> ApiResult<Json<IssuedDocument>> {
    let id = ItemId(id.into_inner());
    let kind = body.read(&actor)?.kind;
    let base = public_base(&req, &settings);
    Ok(Json(
        issue(&db, &actor, Subject::Device(id), kind, base, &settings).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/bookings/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<IssuedDocument>), (status = 404, body = ErrorBody)))]
pub async fn booking_documents(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<Vec<IssuedDocument>>> {
    let id = BookingId(id.into_inner());
    read_handler!(actor, db, |c, a| attestation::list(c, &a, id))
}

/// Issues the training attestation of a booking whose attendance is recorded (its
/// organisation's social workers, the region's coordinator).
#[utoipa::path(post, path = "/api/v1/bookings/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body(content = IssueDocument, example = json!({"kind": "training_attestation"})),
    responses((status = 200, body = IssuedDocument), (status = 404, body = ErrorBody),
        (status = 422, description = "No attendance recorded (`not_attended`), or another kind", body = ErrorBody)))]
pub async fn issue_booking_document(
    req: HttpRequest,
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: JsonBody<IssueDocument>,
) -> ApiResult<Json<IssuedDocument>> {
    let id = BookingId(id.into_inner());
    let kind = body.read(&actor)?.kind;
    let base = public_base(&req, &settings);
    Ok(Json(
        issue(&db, &actor, Subject::Booking(id), kind, base, &settings).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/weee-batches/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<IssuedDocument>), (status = 404, body = ErrorBody)))]
pub async fn weee_documents(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<Vec<IssuedDocument>>> {
    let id = WeeeBatchId(id.into_inner());
    read_handler!(actor, db, |c, a| weee::list(c, &a, id))
}

/// Issues the recycler's slip of a closed (or handed-over) batch.
#[utoipa::path(post, path = "/api/v1/weee-batches/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body(content = IssueDocument, example = json!({"kind": "weee_slip"})),
    responses((status = 200, body = IssuedDocument), (status = 404, body = ErrorBody),
        (status = 422, description = "The batch is still open (`weee_batch_not_closed`), or another kind", body = ErrorBody)))]
pub async fn issue_weee_document(
    req: HttpRequest,
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: JsonBody<IssueDocument>,
) -> ApiResult<Json<IssuedDocument>> {
    let id = WeeeBatchId(id.into_inner());
    let kind = body.read(&actor)?.kind;
    let issued = issue(
        &db,
        &actor,
        Subject::Batch(id),
        kind,
        public_base(&req, &settings),
        &settings,
    )
    .await?;
    Ok(Json(issued))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/pdf", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path, description = "The identifier printed on the document")),
    responses((status = 200, description = "The file as issued", content(("application/pdf"))),
        (status = 404, body = ErrorBody)))]
pub async fn document_pdf(actor: Actor, db: Data<Db>, id: Path<String>) -> ApiResult<HttpResponse> {
    let a = actor.clone();
    let (doc, bytes) = localise(&actor, read(&db, move |c| issued::pdf(c, &a, &id)).await)?;
    Ok(pdf_response(bytes, &file_name(&doc)))
}

/// "recu-de-collecte-K7M2-9QX8-T4WZ.pdf".
pub fn file_name(doc: &IssuedDocument) -> String {
    let kind = match doc.kind {
        DocumentKind::CollectionReceipt => "recu-de-collecte",
        DocumentKind::ErasureCertificate => "certificat-effacement",
        DocumentKind::OutcomeReport => "rapport-de-devenir",
        DocumentKind::WeeeSlip => "bon-de-remise-deee",
        DocumentKind::TrainingAttestation => "attestation-formation",
    };
    format!("{kind}-{}.pdf", doc.id)
}

/// What was issued under an identifier: kind, title, issuer, date. No login.
#[utoipa::path(get, path = "/api/v1/verify/{id}", tag = "documents",
    params(("id" = String, Path, description = "The identifier printed on the document")),
    responses((status = 200, body = DocumentCheck), (status = 404, body = ErrorBody)))]
pub async fn verify_document(
    req: HttpRequest,
    db: Data<Db>,
    id: Path<String>,
) -> ApiResult<Json<DocumentCheck>> {
    let lang = request_lang(&req);
    let check = read(&db, move |c| issued::check(c, &id, None, lang)).await?;
    Ok(Json(check))
}

/// Whether a file is the document issued under an identifier: the PDF as the body.
/// No login.
#[utoipa::path(post, path = "/api/v1/verify/{id}", tag = "documents",
    params(("id" = String, Path, description = "The identifier printed on the document")),
    request_body(content = FileBody, content_type = "application/octet-stream", description = "The file to check, as it was received (a PDF)"),
    responses((status = 200, description = "`matches` says whether the file is the document issued", body = DocumentCheck),
        (status = 404, body = ErrorBody)))]
pub async fn verify_file(
    req: HttpRequest,
    db: Data<Db>,
    id: Path<String>,
    body: Payload,
) -> ApiResult<Json<DocumentCheck>> {
    let lang = request_lang(&req);
    let bytes = match body.to_bytes_limited(FILE_LIMIT).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return Err(ApiError::new(ErrorCode::MalformedRequest).in_lang(lang)),
        Err(_) => return Err(ApiError::new(ErrorCode::PayloadTooLarge).in_lang(lang)),
    };
    let check = read(&db, move |c| issued::check(c, &id, Some(&bytes), lang)).await?;
    Ok(Json(check))
}
