//! `/api/v1` handlers of the files others produce: a donor's asset list (previewed,
//! then imported into an open collection in the background, its progress read at
//! `/api/v1/asset-imports/{id}`) and an erasure tool's report (nwipe, Blancco). The
//! collection's page offers the same.

use super::{localise, read, write};
use crate::auth::{Actor, request_lang};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::service::asset_imports::{self, CHUNK, FILE_LIMIT};
use crate::service::erasure_reports::{self, Scope};
use actix_web::web::{Data, Json, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use filiere_shared::assets::*;
use filiere_shared::blancco::ErasureReportImport;
use filiere_shared::error::ErrorBody;
use filiere_shared::*;
use serde::Deserialize;

/// A file sent as the request's body, as it is.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBody(pub Vec<u8>);

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AssetListQuery {
    /// `true`: say what the import would do (every line's problem), write nothing.
    #[serde(default)]
    pub preview: bool,
}

/// Reads a request's file, up to `limit` bytes.
pub async fn file_body(req: &HttpRequest, body: Payload, limit: usize) -> ApiResult<Vec<u8>> {
    let lang = request_lang(req);
    match body.to_bytes_limited(limit).await {
        Ok(Ok(b)) => Ok(b.to_vec()),
        Ok(Err(_)) => Err(ApiError::new(ErrorCode::MalformedRequest).in_lang(lang)),
        Err(_) => Err(ApiError::new(ErrorCode::PayloadTooLarge).in_lang(lang)),
    }
}

/// Registers the lines of a started import, a few per transaction, in the background.
pub fn run_import(db: Data<Db>, actor: Actor, id: i64) {
    actix_rt::spawn(async move {
        loop {
            let a = actor.clone();
            match db
                .write(move |c| asset_imports::step(c, &a, id, CHUNK))
                .await
            {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(import = id, error = ?e, "asset list import stopped");
                    if let Err(e) = db.write(move |c| asset_imports::fail(c, id, &e)).await {
                        tracing::error!(import = id, error = ?e, "import failure not recorded");
                    }
                    break;
                }
            }
        }
    });
}

/// Previews or starts the import of a donor's asset list into an open collection.
/// The body is the CSV as a spreadsheet saves it.
#[utoipa::path(post, path = "/api/v1/collections/{id}/asset-list", tag = "collections", security(("bearer" = [])),
    params(("id" = i64, Path), AssetListQuery),
    request_body(content = FileBody, content_type = "text/csv",
        description = "Columns recognised by name: asset tag (n° d'inventaire), serial (n° de série), brand, model, category (catégorie or type), drive serial"),
    responses((status = 200, description = "The preview of a list that can be imported (`?preview=true`)", body = AssetPreview),
        (status = 202, description = "The import started", body = AssetImportView),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, description = "A line is refused (`asset_list_refused`, every problem in `details.problems`)", body = ErrorBody)))]
pub async fn import_asset_list(
    req: HttpRequest,
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    q: Query<AssetListQuery>,
    body: Payload,
) -> ApiResult<HttpResponse> {
    let id = CollectionId(id.into_inner());
    let file = localise(&actor, file_body(&req, body, FILE_LIMIT).await)?;
    if q.preview {
        let a = actor.clone();
        let p = localise(
            &actor,
            read(&db, move |c| asset_imports::preview(c, &a, id, &file)).await,
        )?;
        // A list that cannot be imported is refused here as it would be on import.
        if !p.problems.is_empty() {
            return Err(asset_imports::refused(&p.problems, actor.lang));
        }
        return Ok(HttpResponse::Ok().json(p));
    }
    let view = start(&db, &actor, id, file).await?;
    Ok(HttpResponse::Accepted().json(view))
}

/// Starts an import and its background run.
pub async fn start(
    db: &Data<Db>,
    actor: &Actor,
    id: CollectionId,
    file: Vec<u8>,
) -> ApiResult<AssetImportView> {
    let a = actor.clone();
    let view = localise(
        actor,
        write(db, move |c| asset_imports::start(c, &a, id, &file)).await,
    )?;
    if view.status == ImportStatus::Running {
        run_import(db.clone(), actor.clone(), view.id);
    }
    Ok(view)
}

#[utoipa::path(get, path = "/api/v1/asset-imports/{id}", tag = "collections", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = AssetImportView), (status = 404, body = ErrorBody)))]
pub async fn get_asset_import(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<AssetImportView>> {
    let id = id.into_inner();
    read_handler!(actor, db, |c, a| asset_imports::get(c, &a, id))
}

/// Where a report's drives are looked for: one collection or one site.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    pub collection: Option<i64>,
    pub site: Option<i64>,
}

impl ReportQuery {
    pub fn scope(&self, actor: &Actor) -> ApiResult<Scope> {
        match (self.collection, self.site) {
            (Some(c), None) => Ok(Scope::Collection(CollectionId(c))),
            (None, Some(s)) => Ok(Scope::Site(SiteId(s))),
            _ => Err(ApiError::rule(
                filiere_shared::validate::FieldError::new(
                    "collection",
                    "une collecte ou un site, l'un des deux",
                    "a collection or a site, one of them",
                ),
                actor.lang,
            )),
        }
    }
}

/// Records the erasures of an nwipe log or a Blancco Drive Eraser report (XML), each
/// drive matched by serial to the drives of a collection's or a site's items, with
/// the same rules as an erasure recorded at the bench.
#[utoipa::path(post, path = "/api/v1/erasure-reports", tag = "items", security(("bearer" = [])),
    params(ReportQuery),
    request_body(content = FileBody, content_type = "text/plain", description = "The nwipe log, or the Blancco report's XML"),
    responses((status = 200, body = ErasureReportImport), (status = 404, body = ErrorBody),
        (status = 422, description = "Neither a collection nor a site, or both (`invalid_value`); unreadable (`unreadable_report`); no drive matched (`report_matches_nothing`); a step refused by the lifecycle rules", body = ErrorBody)))]
pub async fn import_erasure_report(
    req: HttpRequest,
    actor: Actor,
    db: Data<Db>,
    q: Query<ReportQuery>,
    body: Payload,
) -> ApiResult<Json<ErasureReportImport>> {
    erasure_reports::may_import(&actor)?;
    let scope = q.scope(&actor)?;
    let file = localise(
        &actor,
        file_body(&req, body, erasure_reports::FILE_LIMIT).await,
    )?;
    let report = erasure_report(&db, &actor, scope, file).await?;
    Ok(Json(report))
}

/// Records a report's erasures in one write.
pub async fn erasure_report(
    db: &Data<Db>,
    actor: &Actor,
    scope: Scope,
    file: Vec<u8>,
) -> ApiResult<ErasureReportImport> {
    let a = actor.clone();
    localise(
        actor,
        write(db, move |c| erasure_reports::import(c, &a, scope, &file)).await,
    )
}
