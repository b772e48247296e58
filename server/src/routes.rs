//! HTTP handlers of `/api/v1`, each a thin layer over `service`: extract, run on the
//! blocking pool inside a transaction, answer JSON.

use crate::auth::{self, Actor, request_lang};
use crate::db::{Db, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::printing::LabelSettings;
use crate::service::{admin, collections, events, items, labels, weee};
use actix_web::{HttpRequest, HttpResponse, web};
use filiere_shared::api::*;
use filiere_shared::error::ErrorBody;
use filiere_shared::*;
use serde::Deserialize;
use web::{Data, Json, Path, Query};

/// A read handler's body: `f` on a read connection, errors in the caller's language,
/// the answer as JSON.
macro_rules! read_handler {
    ($actor:ident, $db:ident, |$c:ident, $a:ident| $body:expr) => {{
        let $a = $actor.clone();
        localise(&$actor, read(&$db, move |$c| $body).await).map(Json)
    }};
}

/// [`read_handler`] in one write transaction.
macro_rules! write_handler {
    ($actor:ident, $db:ident, |$c:ident, $a:ident| $body:expr) => {{
        let $a = $actor.clone();
        localise(&$actor, write(&$db, move |$c| $body).await).map(Json)
    }};
}

mod coordination;
mod dashboards;
mod documents;
mod imports;
mod registers;
mod sales;
mod social;
pub use coordination::*;
pub use dashboards::*;
pub use documents::*;
pub use imports::*;
pub use registers::*;
pub use sales::*;
pub use social::*;

/// Runs `f` on a read connection, off the async workers.
pub async fn read<T, F>(db: &Data<Db>, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
{
    let db = db.clone();
    web::block(move || {
        let mut conn = db.read.get()?;
        f(&mut conn)
    })
    .await?
}

/// Runs `f` in one write transaction: any error rolls everything back.
pub async fn write<T, F>(db: &Data<Db>, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
{
    db.write(f).await
}

/// Write with one retry after a unique-key race (two requests with one idempotency key
/// at once): the retry finds the winner's answer.
async fn write_idempotent<T, F>(db: &Data<Db>, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: Fn(&mut DbConnection) -> ApiResult<T> + Send + Clone + 'static,
{
    match write(db, f.clone()).await {
        Err(e) if e.code == ErrorCode::Duplicate => write(db, f).await,
        other => other,
    }
}

fn localise<T>(actor: &Actor, r: ApiResult<T>) -> ApiResult<T> {
    r.map_err(|e| e.in_lang(actor.lang))
}

// ---------------------------------------------------------------- health

#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn health(db: Data<Db>) -> ApiResult<Json<Health>> {
    let backend = db.backend;
    read(&db, |c| {
        use diesel::connection::SimpleConnection;
        c.batch_execute("SELECT 1")
            .map_err(|e| ApiError::new(ErrorCode::Unavailable).with_message(e.to_string()))
    })
    .await?;
    Ok(Json(Health {
        status: "ok".into(),
        database: backend.name().into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

// ---------------------------------------------------------------- auth

/// Password login. After 5 failures for one account within 15 minutes, or 20 from
/// one address, one try a minute (`too_many_attempts`, 429).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<crate::config::WebSettings>,
    body: JsonBody<LoginRequest>,
) -> ApiResult<Json<SessionResponse>> {
    let lang = request_lang(&req);
    let body = body.read_anonymous()?;
    let client = auth::client_address(&req, &settings.trusted_proxies);
    write(&db, move |c| auth::login(c, &body, lang, client))
        .await?
        .map(|(session, _)| Json(session))
}

#[utoipa::path(post, path = "/api/v1/auth/badge", tag = "auth", request_body = BadgeLoginRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn badge_login(
    req: HttpRequest,
    db: Data<Db>,
    body: JsonBody<BadgeLoginRequest>,
) -> ApiResult<Json<SessionResponse>> {
    let lang = request_lang(&req);
    let body = body.read_anonymous()?;
    write(&db, move |c| auth::badge_login(c, &body, lang))
        .await
        .map(Json)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    actor: Actor,
    db: Data<Db>,
    sessions: Data<auth::SessionCache>,
) -> ApiResult<HttpResponse> {
    write(&db, move |c| auth::logout(c, &actor)).await?;
    sessions.clear();
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(actor: Actor, db: Data<Db>) -> ApiResult<Json<UserView>> {
    read(&db, move |c| {
        use crate::schema::users;
        use diesel::prelude::*;
        let row: crate::models::UserRow = users::table.find(actor.user.0).first(c)?;
        admin::user_view(&row)
    })
    .await
    .map(Json)
}

// ---------------------------------------------------------------- admin

macro_rules! list_handler {
    ($name:ident, $path:literal, $tag:literal, $view:ty, $f:path) => {
        #[utoipa::path(get, path = $path, tag = $tag, security(("bearer" = [])),
            responses((status = 200, body = Vec<$view>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
        pub async fn $name(actor: Actor, db: Data<Db>) -> ApiResult<Json<Vec<$view>>> {
            let a = actor.clone();
            localise(&actor, read(&db, move |c| $f(c, &a)).await).map(Json)
        }
    };
}

macro_rules! create_handler {
    ($name:ident, $path:literal, $tag:literal, $req:ty, $view:ty, $f:expr) => {
        #[utoipa::path(post, path = $path, tag = $tag, security(("bearer" = [])), request_body = $req,
            responses((status = 201, body = $view), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
        pub async fn $name(actor: Actor, db: Data<Db>, body: JsonBody<$req>) -> ApiResult<HttpResponse> {
            let a = actor.clone();
            let body = body.read(&actor)?;
            let v: $view = localise(&actor, write(&db, move |c| ($f)(c, &a, &body)).await)?;
            Ok(HttpResponse::Created().json(v))
        }
    };
}

list_handler!(
    list_regions,
    "/api/v1/regions",
    "admin",
    RegionView,
    admin::list_regions
);
create_handler!(
    create_region,
    "/api/v1/regions",
    "admin",
    NewRegion,
    RegionView,
    admin::create_region
);
list_handler!(
    list_sites,
    "/api/v1/sites",
    "admin",
    SiteView,
    admin::list_sites
);
create_handler!(
    create_site,
    "/api/v1/sites",
    "admin",
    NewSite,
    SiteView,
    admin::create_site
);
list_handler!(
    list_organisations,
    "/api/v1/organisations",
    "admin",
    OrganisationView,
    admin::list_organisations
);
create_handler!(
    create_organisation,
    "/api/v1/organisations",
    "admin",
    NewOrganisation,
    OrganisationView,
    admin::create_organisation
);
list_handler!(
    list_users,
    "/api/v1/users",
    "admin",
    UserView,
    admin::list_users
);
create_handler!(
    create_user,
    "/api/v1/users",
    "admin",
    NewUser,
    UserView,
    |c: &mut DbConnection, a: &Actor, b: &NewUser| admin::create_user(c, Some(a), b)
);
list_handler!(
    list_benches,
    "/api/v1/benches",
    "admin",
    BenchView,
    admin::list_benches
);
create_handler!(
    create_bench,
    "/api/v1/benches",
    "admin",
    NewBench,
    NewBenchResponse,
    admin::create_bench
);
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CollectionFilter {
    /// `planned` (under way) or `closed`; both when absent.
    pub status: Option<CollectionStatus>,
}

/// The collections of the caller's scope, newest first (500 at most).
#[utoipa::path(get, path = "/api/v1/collections", tag = "collections", security(("bearer" = [])),
    params(CollectionFilter),
    responses((status = 200, body = Vec<CollectionView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_collections(
    actor: Actor,
    db: Data<Db>,
    q: Query<CollectionFilter>,
) -> ApiResult<Json<Vec<CollectionView>>> {
    let status = q.status;
    read_handler!(actor, db, |c, a| collections::list_filtered(c, &a, status))
}
create_handler!(
    create_collection,
    "/api/v1/collections",
    "collections",
    NewCollection,
    CollectionView,
    collections::create
);
create_handler!(
    allocate_labels,
    "/api/v1/label-batches",
    "labels",
    NewLabelBatch,
    LabelBatchView,
    labels::allocate
);
list_handler!(
    list_weee,
    "/api/v1/weee-batches",
    "weee",
    WeeeBatchView,
    weee::list
);
create_handler!(
    open_weee,
    "/api/v1/weee-batches",
    "weee",
    NewWeeeBatch,
    WeeeBatchView,
    weee::open
);

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "admin", security(("bearer" = [])), request_body = UpdateUser,
    params(("id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_user(
    actor: Actor,
    db: Data<Db>,
    sessions: Data<auth::SessionCache>,
    id: Path<i64>,
    body: JsonBody<UpdateUser>,
) -> ApiResult<Json<UserView>> {
    let a = actor.clone();
    let (id, body) = (UserId(id.into_inner()), body.read(&actor)?);
    let user = localise(
        &actor,
        write(&db, move |c| admin::update_user(c, &a, id, &body)).await,
    )?;
    // A role, scope, language or deactivation change applies to the next request.
    sessions.clear();
    Ok(Json(user))
}

#[utoipa::path(delete, path = "/api/v1/benches/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BenchView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_bench(
    actor: Actor,
    db: Data<Db>,
    sessions: Data<auth::SessionCache>,
    id: Path<i64>,
) -> ApiResult<Json<BenchView>> {
    let a = actor.clone();
    let id = BenchId(id.into_inner());
    let bench = localise(
        &actor,
        write(&db, move |c| admin::revoke_bench(c, &a, id)).await,
    )?;
    sessions.clear();
    Ok(Json(bench))
}

// ---------------------------------------------------------------- collections

#[utoipa::path(get, path = "/api/v1/collections/{id}", tag = "collections", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = CollectionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_collection(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<CollectionView>> {
    let a = actor.clone();
    let id = CollectionId(id.into_inner());
    localise(
        &actor,
        read(&db, move |c| collections::get(c, &a, id)).await,
    )
    .map(Json)
}

// ---------------------------------------------------------------- labels

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SiteFilter {
    pub site: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/label-batches", tag = "labels", security(("bearer" = [])),
    params(SiteFilter),
    responses((status = 200, body = Vec<LabelBatchView>, description = "Batches with their unclaimed codes"), (status = 403, body = ErrorBody)))]
pub async fn list_labels(
    actor: Actor,
    db: Data<Db>,
    q: Query<SiteFilter>,
) -> ApiResult<Json<Vec<LabelBatchView>>> {
    let a = actor.clone();
    let site = q.site.map(SiteId);
    localise(&actor, read(&db, move |c| labels::list(c, &a, site)).await).map(Json)
}

/// Most reprinted codes listed in the `X-Filiere-Reprinted` header.
const REPRINTED_IN_HEADER: usize = 200;

/// Renders labels and answers the file; counts them as printed unless `preview`.
/// Blank codes printed before are listed in the `X-Filiere-Reprinted` header.
#[utoipa::path(post, path = "/api/v1/labels/render", tag = "labels", security(("bearer" = [])), request_body = LabelRequest,
    responses((status = 200, description = "The labels, in the format asked for",
            content(("application/pdf"), ("image/svg+xml"), ("image/png"), ("application/vnd.zebra.zpl"))),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn render_labels(
    actor: Actor,
    db: Data<Db>,
    settings: Data<LabelSettings>,
    body: JsonBody<LabelRequest>,
) -> ApiResult<HttpResponse> {
    let a = actor.clone();
    let req = body.read(&actor)?;
    let preview = req.preview;
    let settings = settings.into_inner();
    let rendered = localise(
        &actor,
        read(&db, move |c| labels::render(c, &a, &req, &settings)).await,
    )?;
    if !preview {
        let codes = rendered.codes.clone();
        localise(
            &actor,
            write(&db, move |c| labels::record_prints(c, &codes)).await,
        )?;
    }
    let mut response = HttpResponse::Ok();
    response.content_type(rendered.content_type());
    response.insert_header((
        "Content-Disposition",
        format!("inline; filename=\"labels.{}\"", rendered.extension()),
    ));
    response.insert_header(("X-Filiere-Labels", rendered.codes.len().to_string()));
    if !rendered.reprinted.is_empty() {
        // The count always; the codes themselves up to a header of a sane size.
        let list: Vec<&str> = rendered
            .reprinted
            .iter()
            .take(REPRINTED_IN_HEADER)
            .map(|c| c.as_str())
            .collect();
        response.insert_header((
            "X-Filiere-Reprinted-Count",
            rendered.reprinted.len().to_string(),
        ));
        response.insert_header(("X-Filiere-Reprinted", list.join(",")));
    }
    Ok(response.body(rendered.bytes))
}

/// Prints labels on a configured printer. Counted only once the printer took them;
/// an unreachable printer is retried, then reported (`printer_unreachable`), and
/// nothing is counted, so the request can simply be sent again.
#[utoipa::path(post, path = "/api/v1/labels/print", tag = "labels", security(("bearer" = [])), request_body = PrintRequest,
    responses((status = 200, body = PrintResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn print_labels(
    actor: Actor,
    db: Data<Db>,
    settings: Data<LabelSettings>,
    body: JsonBody<PrintRequest>,
) -> ApiResult<Json<PrintResult>> {
    let req = body.read(&actor)?;
    print_on(&db, settings.into_inner(), &actor, req)
        .await
        .map(Json)
}

/// Renders labels for a configured printer, sends them, and counts them as printed
/// once the printer took them (the API's print and the labels page).
pub async fn print_on(
    db: &Data<Db>,
    settings: std::sync::Arc<LabelSettings>,
    actor: &Actor,
    req: PrintRequest,
) -> ApiResult<PrintResult> {
    let a = actor.clone();
    let s = settings.clone();
    let (printer, rendered) = localise(
        actor,
        read(db, move |c| {
            let printer = labels::usable_printer(c, &a, req.printer)?;
            let rendered = labels::render(c, &a, &labels::print_request(&printer, &req), &s)?;
            Ok((printer, rendered))
        })
        .await,
    )?;
    let lang = actor.lang;
    let bytes = rendered.bytes;
    let target = printer.clone();
    let sent = web::block(move || {
        crate::printing::send(target.kind, &target.address, &bytes, &settings)
            .map(|job| (job, bytes.len()))
    })
    .await?;
    let (job, len) = sent.map_err(|e| {
        let code = match e {
            crate::printing::PrintError::Unreachable { .. } => ErrorCode::PrinterUnreachable,
            crate::printing::PrintError::Failed(_) => ErrorCode::PrintFailed,
        };
        tracing::warn!(printer = printer.id.0, error = %e, "print failed");
        ApiError::new(code)
            .with_details(serde_json::json!({
                "printer": printer.id,
                "address": printer.address,
                "cause": e.to_string(),
            }))
            .in_lang(lang)
    })?;
    let codes = rendered.codes.clone();
    localise(
        actor,
        write(db, move |c| labels::record_prints(c, &codes)).await,
    )?;
    Ok(PrintResult {
        printer: printer.id,
        labels: rendered.codes.len() as u32,
        bytes: len as u64,
        reprinted: rendered.reprinted,
        job,
    })
}

#[utoipa::path(get, path = "/api/v1/printers", tag = "labels", security(("bearer" = [])),
    params(SiteFilter),
    responses((status = 200, body = Vec<PrinterView>), (status = 403, body = ErrorBody)))]
pub async fn list_printers(
    actor: Actor,
    db: Data<Db>,
    q: Query<SiteFilter>,
) -> ApiResult<Json<Vec<PrinterView>>> {
    let a = actor.clone();
    let site = q.site.map(SiteId);
    localise(
        &actor,
        read(&db, move |c| labels::list_printers(c, &a, site)).await,
    )
    .map(Json)
}

create_handler!(
    create_printer,
    "/api/v1/printers",
    "labels",
    NewPrinter,
    PrinterView,
    labels::create_printer
);

#[utoipa::path(get, path = "/api/v1/label-templates", tag = "labels", security(("bearer" = [])),
    params(SiteFilter),
    responses((status = 200, body = Vec<LabelTemplateView>), (status = 403, body = ErrorBody)))]
pub async fn list_templates(
    actor: Actor,
    db: Data<Db>,
    q: Query<SiteFilter>,
) -> ApiResult<Json<Vec<LabelTemplateView>>> {
    let a = actor.clone();
    let site = q.site.map(SiteId);
    localise(
        &actor,
        read(&db, move |c| labels::list_templates(c, &a, site)).await,
    )
    .map(Json)
}

#[utoipa::path(post, path = "/api/v1/label-templates", tag = "labels", security(("bearer" = [])), request_body = NewLabelTemplate,
    responses((status = 201, body = LabelTemplateView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_template(
    actor: Actor,
    db: Data<Db>,
    settings: Data<LabelSettings>,
    body: JsonBody<NewLabelTemplate>,
) -> ApiResult<HttpResponse> {
    let a = actor.clone();
    let body = body.read(&actor)?;
    let settings = settings.into_inner();
    let v = localise(
        &actor,
        write(&db, move |c| {
            labels::create_template(c, &a, &body, &settings)
        })
        .await,
    )?;
    Ok(HttpResponse::Created().json(v))
}

// ---------------------------------------------------------------- items

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// Whatever was scanned or typed: a code, a label URL, a serial, an asset tag
    /// (200 characters at most, not only blanks).
    #[param(min_length = 1, max_length = 200, pattern = "$not-blank")]
    pub q: String,
}

#[utoipa::path(get, path = "/api/v1/resolve", tag = "items", security(("bearer" = [])),
    params(ResolveQuery),
    responses((status = 200, body = Resolved), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn resolve(
    actor: Actor,
    db: Data<Db>,
    q: Query<ResolveQuery>,
) -> ApiResult<Json<Resolved>> {
    let a = actor.clone();
    let input = q.into_inner().q;
    localise(
        &actor,
        read(&db, move |c| items::resolve(c, &input, &a)).await,
    )
    .map(Json)
}

#[utoipa::path(get, path = "/api/v1/items", tag = "items", security(("bearer" = [])),
    params(ItemQuery),
    responses((status = 200, body = ItemListing, description = "Full items; for a social worker, the sale fields only")))]
pub async fn list_items(
    actor: Actor,
    db: Data<Db>,
    q: Query<ItemQuery>,
) -> ApiResult<Json<ItemListing>> {
    let a = actor.clone();
    let q = q.into_inner();
    localise(&actor, read(&db, move |c| items::list(c, &q, &a)).await).map(Json)
}

#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ItemDetail, description = "The item; for a social worker, the sale fields only")))]
pub async fn get_item(actor: Actor, db: Data<Db>, id: Path<i64>) -> ApiResult<Json<ItemDetail>> {
    let a = actor.clone();
    let id = ItemId(id.into_inner());
    localise(&actor, read(&db, move |c| items::get(c, id, &a)).await).map(Json)
}

#[utoipa::path(get, path = "/api/v1/items/{id}/history", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = HistoryView), (status = 404, body = ErrorBody)))]
pub async fn item_history(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<HistoryView>> {
    let a = actor.clone();
    let id = ItemId(id.into_inner());
    localise(&actor, read(&db, move |c| items::history(c, id, &a)).await).map(Json)
}

#[utoipa::path(post, path = "/api/v1/items", tag = "items", security(("bearer" = [])),
    request_body(content = RegisterItem, example = json!({
        "idempotency_key": "bench-3:000041", "code": "7K3M-9QX8", "category": "laptop",
        "brand": "Lenovo", "model": "ThinkPad T480", "serial": "PF1ABCDE", "weight_g": 1600,
        "drives": [{"serial": "S3Z9NB0K123456", "size_gb": 256, "bus": "sata", "media": "ssd"}]})),
    responses((status = 201, body = EventResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register_item(
    actor: Actor,
    db: Data<Db>,
    body: JsonBody<RegisterItem>,
) -> ApiResult<HttpResponse> {
    let a = actor.clone();
    let body = body.read(&actor)?;
    let r = localise(
        &actor,
        write_idempotent(&db, move |c| events::register(c, &a, &body)).await,
    )?;
    Ok(HttpResponse::Created().json(r))
}

#[utoipa::path(post, path = "/api/v1/items/{id}/events", tag = "items", security(("bearer" = [])),
    request_body(content = EventRequest, example = json!({
        "idempotency_key": "bench-3:000042", "expected_version": 3,
        "command": {"type": "triage", "route": "refurbish"}})),
    params(("id" = i64, Path)),
    responses((status = 200, body = EventResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_event(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<EventRequest>,
) -> ApiResult<Json<EventResponse>> {
    let id = ItemId(id.into_inner());
    let body = std::sync::Arc::new(body.read(&actor)?);
    // The step is worked out on a read connection, in a blocking thread that hands it
    // to the writer, which only checks the item's version and writes, in its next
    // group commit. The answer comes from whichever of the two ends it.
    let (reply, answer) = tokio::sync::oneshot::channel();
    let (a, b, d) = (actor.clone(), body.clone(), db.clone());
    actix_web::rt::task::spawn_blocking(move || prepare_then_commit(&d, &a, id, &b, reply));
    match answer.await {
        Ok(Ok(Some(answer))) => return Ok(Json(answer)),
        // The item changed, or the key was used, since the read; a step that touches
        // other rows; or the writer's batch did not commit: done whole below.
        Ok(Ok(None)) => {}
        Ok(Err(e)) => return Err(e.in_lang(actor.lang)),
        Err(_) => return Err(ApiError::internal("a step was dropped before its answer")),
    }
    let a = actor.clone();
    localise(
        &actor,
        write_idempotent(&db, move |c| events::apply(c, &a, id, &body)).await,
    )
    .map(Json)
}

/// [`post_event`]'s blocking part: an answer (a replay, a refusal, the written
/// step's), or `None` for a step to be done whole.
fn prepare_then_commit(
    db: &Db,
    actor: &Actor,
    id: ItemId,
    req: &EventRequest,
    reply: tokio::sync::oneshot::Sender<ApiResult<Option<EventResponse>>>,
) {
    let prepared = db
        .read
        .get()
        .map_err(ApiError::from)
        .and_then(|mut c| events::prepare(&mut c, actor, id, req));
    let answer = match prepared {
        Ok(events::Prepared::Step(step)) => {
            db.submit_step(actor.clone(), *step, reply);
            return;
        }
        Ok(events::Prepared::Whole) => Ok(None),
        Err(e) => Err(e),
    };
    let _ = reply.send(answer);
}

fn resolve_ref(c: &mut DbConnection, a: &Actor, r: &ItemRef) -> ApiResult<ItemId> {
    match r {
        ItemRef::Id(id) => Ok(*id),
        ItemRef::Code(s) => {
            let code = events::parse_code(a, s)?;
            items::find_by_code(c, &code)?
                .map(|(found, _)| ItemId(found.row.id))
                .ok_or_else(|| a.err(ErrorCode::ItemNotFound))
        }
    }
}

#[utoipa::path(post, path = "/api/v1/events/batch", tag = "items", security(("bearer" = [])),
    request_body(content = BatchRequest, example = json!({"ops": [
        {"op": "event", "item": "7K3M-9QX8", "idempotency_key": "bench-3:000043",
            "expected_version": 4, "command": {"type": "declare_no_drive"}}]})),
    responses((status = 200, body = BatchResponse, description = "One result per op, in order"), (status = 400, body = ErrorBody)))]
pub async fn post_batch(
    actor: Actor,
    db: Data<Db>,
    body: JsonBody<BatchRequest>,
) -> ApiResult<Json<BatchResponse>> {
    // Lifecycle steps are the workshop's: refused whole to anyone else.
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])?;
    let ops = body.read(&actor)?.ops;
    if ops.len() > 1000 {
        return Err(actor.err(ErrorCode::PayloadTooLarge));
    }
    // One durable commit for the whole batch: each op in its own savepoint, so that a
    // refused op leaves the others applied (a bench catching up sends thousands).
    let a = actor.clone();
    let results = write(&db, move |c| {
        use diesel::Connection;
        let mut results = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            let key = op.idempotency_key().to_owned();
            let run = |c: &mut DbConnection| {
                c.transaction::<_, ApiError, _>(|c| match op {
                    BatchOp::Register(r) => events::register(c, &a, r),
                    BatchOp::Event { item, request } => {
                        let id = resolve_ref(c, &a, item)?;
                        events::apply(c, &a, id, request)
                    }
                })
            };
            // A unique-key race (the same key sent twice at once): the second try
            // answers with the first one's response.
            let r = match run(c) {
                Err(e) if e.code == ErrorCode::Duplicate => run(c),
                other => other,
            }
            .map_err(|e| e.in_lang(a.lang));
            results.push(match r {
                Ok(ok) => BatchResult {
                    index,
                    idempotency_key: key,
                    status: 200,
                    ok: Some(ok),
                    error: None,
                },
                Err(e) => {
                    if e.code.http_status() >= 500 {
                        tracing::error!(error = %e, "batch op failed");
                    }
                    BatchResult {
                        index,
                        idempotency_key: key,
                        status: e.code.http_status(),
                        ok: None,
                        error: Some(e.body()),
                    }
                }
            });
        }
        Ok(results)
    })
    .await
    .map_err(|e| e.in_lang(actor.lang))?;
    Ok(Json(BatchResponse { results }))
}

// ---------------------------------------------------------------- WEEE

#[utoipa::path(get, path = "/api/v1/weee-batches/{id}", tag = "weee", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = WeeeBatchView), (status = 404, body = ErrorBody)))]
pub async fn get_weee(actor: Actor, db: Data<Db>, id: Path<i64>) -> ApiResult<Json<WeeeBatchView>> {
    let a = actor.clone();
    let id = WeeeBatchId(id.into_inner());
    localise(&actor, read(&db, move |c| weee::get(c, &a, id)).await).map(Json)
}

#[utoipa::path(post, path = "/api/v1/weee-batches/{id}/close", tag = "weee", security(("bearer" = [])), request_body = CloseWeeeBatch,
    params(("id" = i64, Path)),
    responses((status = 200, body = WeeeBatchView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn close_weee(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<CloseWeeeBatch>,
) -> ApiResult<Json<WeeeBatchView>> {
    let a = actor.clone();
    let (id, body) = (WeeeBatchId(id.into_inner()), body.read(&actor)?);
    localise(
        &actor,
        write(&db, move |c| weee::close(c, &a, id, &body)).await,
    )
    .map(Json)
}

#[utoipa::path(post, path = "/api/v1/weee-batches/{id}/handover", tag = "weee", security(("bearer" = [])), request_body = HandOverWeeeBatch,
    params(("id" = i64, Path)),
    responses((status = 200, body = WeeeBatchView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn hand_over_weee(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<HandOverWeeeBatch>,
) -> ApiResult<Json<WeeeBatchView>> {
    let a = actor.clone();
    let (id, body) = (WeeeBatchId(id.into_inner()), body.read(&actor)?);
    localise(
        &actor,
        write(&db, move |c| weee::hand_over(c, &a, id, &body)).await,
    )
    .map(Json)
}
