//! `/api/v1` handlers of the coordinators' and admins' work beyond the bench: closing
//! a collection, donors' offers (accept as a collection, decline), organisations read
//! and changed one at a time, users' one-time password links and passwords. The
//! coordinator's and admin's pages call the same service functions.

use super::{localise, read, write};
use crate::auth::{self, Actor, request_lang};
use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::service::{admin, collections, offers};
use actix_web::HttpRequest;
use actix_web::web::{Data, Json, Path, Query};
use filiere_shared::api::*;
use filiere_shared::error::ErrorBody;
use filiere_shared::offers::*;
use filiere_shared::*;
use serde::Deserialize;

/// The server's public address, for links given out: the configured public host,
/// else the address this request came to.
pub fn public_base(req: &HttpRequest, settings: &WebSettings) -> String {
    match settings.public_host.as_deref().map(str::trim) {
        Some(h) if h.starts_with("http://") || h.starts_with("https://") => {
            h.trim_end_matches('/').to_owned()
        }
        Some(h) if !h.is_empty() => format!("https://{}", h.trim_end_matches('/')),
        _ => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

#[utoipa::path(post, path = "/api/v1/collections/{id}/close", tag = "collections", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CloseCollection,
    responses((status = 200, body = CollectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn close_collection(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<CloseCollection>,
) -> ApiResult<Json<CollectionView>> {
    let (id, body) = (CollectionId(id.into_inner()), body.read(&actor)?);
    write_handler!(actor, db, |c, a| collections::close(c, &a, id, &body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfferFilter {
    pub status: Option<OfferStatus>,
}

#[utoipa::path(get, path = "/api/v1/offers", tag = "collections", security(("bearer" = [])),
    params(OfferFilter),
    responses((status = 200, body = Vec<OfferView>, description = "Donors' offers of the caller's region, newest first")))]
pub async fn list_offers(
    actor: Actor,
    db: Data<Db>,
    q: Query<OfferFilter>,
) -> ApiResult<Json<Vec<OfferView>>> {
    let status = q.status;
    read_handler!(actor, db, |c, a| offers::list(c, &a, status))
}

#[utoipa::path(get, path = "/api/v1/offers/{id}", tag = "collections", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = OfferView), (status = 404, body = ErrorBody)))]
pub async fn get_offer(actor: Actor, db: Data<Db>, id: Path<i64>) -> ApiResult<Json<OfferView>> {
    let id = OfferId(id.into_inner());
    read_handler!(actor, db, |c, a| offers::get(c, &a, id))
}

/// Accepts a donor's offer as a planned collection at one of the region's sites.
#[utoipa::path(post, path = "/api/v1/offers/{id}/accept", tag = "collections", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AcceptOffer,
    responses((status = 200, body = CollectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_offer(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<AcceptOffer>,
) -> ApiResult<Json<CollectionView>> {
    let (id, body) = (OfferId(id.into_inner()), body.read(&actor)?);
    write_handler!(actor, db, |c, a| offers::accept(c, &a, id, &body))
}

#[utoipa::path(post, path = "/api/v1/offers/{id}/decline", tag = "collections", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = DeclineOffer,
    responses((status = 200, body = OfferView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decline_offer(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<DeclineOffer>,
) -> ApiResult<Json<OfferView>> {
    let (id, body) = (OfferId(id.into_inner()), body.read(&actor)?);
    write_handler!(actor, db, |c, a| offers::decline(c, &a, id, &body))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = OrganisationView), (status = 404, body = ErrorBody)))]
pub async fn get_organisation(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
) -> ApiResult<Json<OrganisationView>> {
    let id = OrgId(id.into_inner());
    read_handler!(actor, db, |c, a| admin::get_organisation(c, &a, id))
}

/// Changes an organisation: admins any, a coordinator their region's donors and
/// social partners.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UpdateOrganisation,
    responses((status = 200, body = OrganisationView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_organisation(
    actor: Actor,
    db: Data<Db>,
    id: Path<i64>,
    body: JsonBody<UpdateOrganisation>,
) -> ApiResult<Json<OrganisationView>> {
    let (id, body) = (OrgId(id.into_inner()), body.read(&actor)?);
    write_handler!(actor, db, |c, a| admin::update_organisation(
        c, &a, id, &body
    ))
}

/// A one-time link (valid 7 days) for the user to set their own password; the admin
/// passes it on. A new link replaces the previous one.
#[utoipa::path(post, path = "/api/v1/users/{id}/setup-link", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SetupLink), (status = 404, body = ErrorBody)))]
pub async fn setup_link(
    req: HttpRequest,
    actor: Actor,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
) -> ApiResult<Json<SetupLink>> {
    let id = UserId(id.into_inner());
    let base = public_base(&req, &settings);
    write_handler!(actor, db, |c, a| admin::issue_setup_link(c, &a, id, &base))
}

/// Sets a password from a one-time link's token (no login); the link is then spent.
#[utoipa::path(post, path = "/api/v1/auth/set-password", tag = "auth", request_body = SetPassword,
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn set_password(
    req: HttpRequest,
    db: Data<Db>,
    body: JsonBody<SetPassword>,
) -> ApiResult<Json<UserView>> {
    let lang = request_lang(&req);
    let body = body.read_anonymous()?;
    write(&db, move |c| admin::set_password(c, &body, lang))
        .await
        .map(Json)
}

/// Changes one's own password with the current one; one's other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePassword,
    responses((status = 200, body = UserView)))]
pub async fn change_password(
    actor: Actor,
    db: Data<Db>,
    sessions: Data<auth::SessionCache>,
    body: JsonBody<ChangePassword>,
) -> ApiResult<Json<UserView>> {
    let body = body.read(&actor)?;
    let a = actor.clone();
    let user = localise(
        &actor,
        write(&db, move |c| admin::change_password(c, &a, &body)).await,
    )?;
    sessions.clear();
    Ok(Json(user))
}
