//! The web pages: server-rendered HTML (askama templates in `server/templates/`), French
//! first, English per user, every form working without JavaScript (post, then
//! redirect). Pages sign in with the API's accounts and sessions (a cookie instead of
//! a bearer token), carry a CSRF token on every form, and call the same service
//! functions as the JSON routes.

pub mod account;
pub mod admin;
pub mod charts;
pub mod coordination;
pub mod coordinator;
pub mod counter;
pub mod csv;
pub mod dashboards;
pub mod prices;
pub mod public;
pub mod social;
pub mod staff;

use crate::auth::{Actor, session_actor};
use crate::error::ApiError;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use filiere_shared::{ErrorCode, Lang, Role};
use sha2::{Digest, Sha256};

/// The session cookie of the pages.
pub const SESSION_COOKIE: &str = "filiere_session";
/// Before login: the token the login form must send back (double submit).
pub const LOGIN_CSRF_COOKIE: &str = "filiere_login_csrf";
/// Before login: the language chosen on the login page.
pub const LANG_COOKIE: &str = "filiere_lang";

pub const STYLE: &str = include_str!("../../static/style.css");

/// Every page route; registered by [`configure`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/style.css", web::get().to(style))
        .route("/", web::get().to(account::home))
        .route("/login", web::get().to(account::login_page))
        .route("/login", web::post().to(account::login_submit))
        .route("/logout", web::post().to(account::logout))
        .route("/language", web::post().to(account::language))
        .route("/lookup", web::get().to(staff::lookup))
        .route("/i/{code}", web::get().to(staff::item_by_code))
        .route("/I/{code}", web::get().to(staff::item_by_code))
        .route("/r/{id}", web::get().to(social::reservations::by_voucher))
        .route("/R/{id}", web::get().to(social::reservations::by_voucher))
        .route("/catalogue", web::get().to(social::catalogue::list))
        .route("/catalogue/{id}", web::get().to(social::catalogue::device))
        .route("/beneficiaries", web::get().to(social::beneficiaries::list))
        .route(
            "/beneficiaries",
            web::post().to(social::beneficiaries::create),
        )
        .route(
            "/beneficiaries/new",
            web::get().to(social::beneficiaries::new_form),
        )
        .route(
            "/beneficiaries/{id}",
            web::get().to(social::beneficiaries::show),
        )
        .route(
            "/beneficiaries/{id}",
            web::post().to(social::beneficiaries::update),
        )
        .route(
            "/beneficiaries/{id}/erase",
            web::post().to(social::beneficiaries::erase),
        )
        .route(
            "/beneficiaries/{id}/export",
            web::get().to(social::beneficiaries::export),
        )
        .route("/needs", web::post().to(social::beneficiaries::add_need))
        .route(
            "/needs/{id}/close",
            web::post().to(social::beneficiaries::close_need),
        )
        .route(
            "/reservations",
            web::post().to(social::reservations::create),
        )
        .route(
            "/reservations/{id}",
            web::get().to(social::reservations::show),
        )
        .route(
            "/reservations/{id}/cancel",
            web::post().to(social::reservations::cancel),
        )
        .route(
            "/reservations/{id}/training-refusal",
            web::post().to(social::reservations::refuse_training),
        )
        .route(
            "/reservations/{id}/voucher.pdf",
            web::get().to(social::reservations::voucher),
        )
        .route("/training", web::get().to(social::training::list))
        .route("/training", web::post().to(coordinator::create_session))
        .route("/training/{id}", web::get().to(social::training::show))
        .route(
            "/training/{id}/attendance",
            web::post().to(coordinator::attendance),
        )
        .route(
            "/training/{id}/attendance-sheet.pdf",
            web::get().to(coordinator::attendance_sheet),
        )
        .route("/counter", web::get().to(counter::home))
        .route("/counter/scan", web::get().to(counter::scan))
        .route(
            "/counter/reservations/{id}",
            web::get().to(counter::handover),
        )
        .route("/counter/sales", web::post().to(counter::sell))
        .route("/counter/partner", web::get().to(counter::partner_form))
        .route(
            "/counter/partner-sales",
            web::post().to(counter::partner_sell),
        )
        .route("/sales", web::get().to(counter::sales::list))
        .route("/sales/{id}", web::get().to(counter::sales::show))
        .route(
            "/sales/{id}/invoice.pdf",
            web::get().to(counter::sales::invoice),
        )
        .route(
            "/sales/{id}/returns",
            web::post().to(counter::sales::open_return),
        )
        .route(
            "/after-sales/{id}/settle",
            web::post().to(counter::sales::settle),
        )
        .route(
            "/after-sales/{id}/hand-back",
            web::post().to(counter::sales::hand_back),
        )
        .route("/prices", web::get().to(prices::page))
        .route("/prices", web::post().to(prices::set_rule))
        .route("/prices/{id}/delete", web::post().to(prices::delete_rule))
        .route("/price-caps/{key}", web::post().to(prices::set_cap))
        .route("/offer", web::get().to(public::offers::offer_form))
        .route("/offer", web::post().to(public::offers::offer_submit))
        .route("/setup/{token}", web::get().to(account::setup_form))
        .route("/setup/{token}", web::post().to(account::setup_submit))
        .route("/account/password", web::get().to(account::password_form))
        .route(
            "/account/password",
            web::post().to(account::password_submit),
        )
        .route(
            "/organisations",
            web::get().to(coordination::organisations::list),
        )
        .route(
            "/organisations",
            web::post().to(coordination::organisations::create),
        )
        .route(
            "/organisations/{id}",
            web::get().to(coordination::organisations::show),
        )
        .route(
            "/organisations/{id}",
            web::post().to(coordination::organisations::update),
        )
        .route(
            "/collections",
            web::get().to(coordination::collections::list),
        )
        .route(
            "/collections",
            web::post().to(coordination::collections::create),
        )
        .route(
            "/collections/{id}",
            web::get().to(coordination::collections::show),
        )
        .route(
            "/collections/{id}/close",
            web::post().to(coordination::collections::close),
        )
        .service(
            web::resource("/collections/{id}/asset-list")
                .app_data(coordination::asset_list::upload_config())
                .route(web::post().to(coordination::asset_list::preview)),
        )
        .service(
            web::resource("/collections/{id}/asset-list/import")
                .app_data(coordination::asset_list::confirm_config())
                .route(web::post().to(coordination::asset_list::import)),
        )
        .service(
            web::resource("/collections/{id}/erasure-report")
                .app_data(coordination::asset_list::upload_config())
                .route(web::post().to(coordination::erasure_report::upload)),
        )
        .route(
            "/asset-imports/{id}",
            web::get().to(coordination::asset_list::progress),
        )
        .route(
            "/collections/{id}/documents",
            web::post().to(coordination::documents::for_collection),
        )
        .route(
            "/documents/{id}/pdf",
            web::get().to(coordination::documents::pdf),
        )
        .route("/offers", web::get().to(coordination::offers::list))
        .route("/offers/{id}", web::get().to(coordination::offers::show))
        .route(
            "/offers/{id}/accept",
            web::post().to(coordination::offers::accept),
        )
        .route(
            "/offers/{id}/decline",
            web::post().to(coordination::offers::decline),
        )
        .route("/labels", web::get().to(coordination::labels::list))
        .route("/labels", web::post().to(coordination::labels::allocate))
        .route("/labels/{id}", web::get().to(coordination::labels::show))
        .route(
            "/labels/{id}/sheet",
            web::post().to(coordination::labels::sheet),
        )
        .route(
            "/labels/{id}/print",
            web::post().to(coordination::labels::print),
        )
        .route("/weee", web::get().to(coordination::weee::list))
        .route("/weee", web::post().to(coordination::weee::open))
        .route("/weee/{id}", web::get().to(coordination::weee::show))
        .route(
            "/weee/{id}/close",
            web::post().to(coordination::weee::close),
        )
        .route(
            "/weee/{id}/hand-over",
            web::post().to(coordination::weee::hand_over),
        )
        .route(
            "/registers/{which}",
            web::get().to(coordination::weee::register),
        )
        .route(
            "/weee/{id}/documents",
            web::post().to(coordination::documents::for_batch),
        )
        .route(
            "/items/{id}/documents",
            web::post().to(coordination::documents::for_device),
        )
        .route(
            "/bookings/{id}/documents",
            web::post().to(coordination::documents::for_booking),
        )
        .route("/open-data", web::get().to(public::open_data::page))
        .route("/open-data/", web::get().to(public::open_data::page))
        .route(
            "/open-data/regions-months.csv",
            web::get().to(public::open_data::csv),
        )
        .route(
            "/open-data/regions-months.json",
            web::get().to(public::open_data::json),
        )
        .route("/v", web::get().to(public::verify::lookup))
        .service(
            web::resource("/v/{id}")
                .app_data(public::verify::upload_config())
                .route(web::get().to(public::verify::show))
                .route(web::post().to(public::verify::check_file)),
        )
        .route("/dashboards", web::get().to(dashboards::index))
        .route("/dashboards/stock", web::get().to(dashboards::stock::show))
        .route(
            "/dashboards/stock.csv",
            web::get().to(dashboards::stock::devices_csv),
        )
        .route(
            "/dashboards/parts.csv",
            web::get().to(dashboards::stock::parts_csv),
        )
        .route("/dashboards/flows", web::get().to(dashboards::flows::show))
        .route(
            "/dashboards/flows.csv",
            web::get().to(dashboards::flows::csv),
        )
        .route("/dashboards/aging", web::get().to(dashboards::aging::show))
        .route(
            "/dashboards/aging.csv",
            web::get().to(dashboards::aging::csv),
        )
        .route(
            "/dashboards/impact",
            web::get().to(dashboards::impact::show),
        )
        .route(
            "/dashboards/impact.csv",
            web::get().to(dashboards::impact::csv),
        )
        .route(
            "/dashboards/demand",
            web::get().to(dashboards::demand::show),
        )
        .route(
            "/dashboards/demand.csv",
            web::get().to(dashboards::demand::csv),
        )
        .route(
            "/dashboards/collections",
            web::get().to(dashboards::collections::show),
        )
        .route(
            "/dashboards/collections.csv",
            web::get().to(dashboards::collections::csv),
        )
        .route(
            "/dashboards/impact.pdf",
            web::get().to(dashboards::impact::pdf),
        )
        .route("/dashboards/items", web::get().to(dashboards::items::list))
        .route(
            "/dashboards/items.csv",
            web::get().to(dashboards::items::csv),
        )
        .route("/admin", web::get().to(admin::hub))
        .route("/admin/regions", web::get().to(admin::regions::list))
        .route("/admin/regions", web::post().to(admin::regions::create))
        .route("/admin/sites", web::get().to(admin::sites::list))
        .route("/admin/sites", web::post().to(admin::sites::create))
        .route("/admin/sites/{id}", web::get().to(admin::sites::show))
        .route("/admin/sites/{id}", web::post().to(admin::sites::update))
        .route(
            "/admin/sites/{id}/printers",
            web::post().to(admin::sites::add_printer),
        )
        .route("/admin/users", web::get().to(admin::users::list))
        .route("/admin/users", web::post().to(admin::users::create))
        .route("/admin/users/{id}", web::get().to(admin::users::show))
        .route("/admin/users/{id}", web::post().to(admin::users::update))
        .route(
            "/admin/users/{id}/setup-link",
            web::post().to(admin::users::new_link),
        )
        .route("/admin/dashboards", web::get().to(admin::dashboards::show))
        .route(
            "/admin/dashboards",
            web::post().to(admin::dashboards::update),
        )
        .route("/admin/benches", web::get().to(admin::benches::list))
        .route("/admin/benches", web::post().to(admin::benches::create))
        .route(
            "/admin/benches/{id}/revoke",
            web::post().to(admin::benches::revoke),
        )
        .route("/bookings", web::post().to(social::training::book))
        .route(
            "/bookings/{id}/cancel",
            web::post().to(social::training::cancel_booking),
        );
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLE)
}

/// A signed-in person on the pages.
#[derive(Clone)]
pub struct Visitor {
    pub actor: Actor,
    token: String,
}

impl Visitor {
    /// The CSRF token of the session: derived from the session's secret, so that
    /// only pages served to this session can carry it.
    pub fn csrf(&self) -> String {
        csrf_of(&self.token)
    }

    pub fn lang(&self) -> Lang {
        self.actor.lang
    }
}

fn csrf_of(token: &str) -> String {
    hex::encode(&Sha256::digest(format!("filiere-csrf:{token}").as_bytes())[..16])
}

/// The signed-in visitor of a request, if any.
pub async fn visitor(req: &HttpRequest) -> Result<Option<Visitor>, ApiError> {
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let actor = session_actor(req, token.clone()).await?;
    Ok(actor.map(|actor| Visitor { actor, token }))
}

/// The language of a page for someone not signed in: the login page's choice, else
/// the browser's.
pub fn guest_lang(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_else(|| crate::auth::request_lang(req))
}

/// Where a page that needs a signed-in visitor sends everyone else: the login page,
/// which comes back here afterwards.
pub fn to_login(req: &HttpRequest) -> HttpResponse {
    let here = match req.uri().query() {
        Some(q) => format!("{}?{q}", req.path()),
        None => req.path().to_owned(),
    };
    see_other(&format!("/login?next={}", encode(&here)))
}

/// Post, then redirect: 303 to `to`.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Only a path of this site may follow a login (never another host).
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// A form's fields, as sent (`application/x-www-form-urlencoded`).
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Fields read another way (a multipart form's text fields).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Fields {
        Fields(pairs)
    }

    pub fn parse(body: &[u8]) -> Fields {
        Fields(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// The field's value, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// The field's value as sent, not trimmed (a file carried back as text).
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The field's value, or `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .collect()
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// The common part of every page: language, who is signed in, navigation, the CSRF
/// token of the forms, a message to show.
pub struct Chrome {
    pub lang: Lang,
    pub title: String,
    pub user: Option<String>,
    pub csrf: String,
    pub nav: Vec<(String, &'static str, bool)>,
    pub notice: Option<String>,
    pub problem: Option<Problem>,
}

/// An error shown on a page: its stable code and its message.
pub struct Problem {
    pub code: String,
    pub message: String,
}

impl From<&ApiError> for Problem {
    fn from(e: &ApiError) -> Problem {
        let body = e.body();
        Problem {
            code: body.code.as_str().to_owned(),
            message: body.message,
        }
    }
}

impl Chrome {
    pub fn for_visitor(v: &Visitor, title: &str, here: &'static str) -> Chrome {
        let lang = v.lang();
        let t = |fr: &'static str, en: &'static str| lang.pick(fr, en).to_owned();
        let mut nav: Vec<(String, &'static str)> = vec![(t("Accueil", "Home"), "/")];
        match v.actor.role {
            Role::SocialWorker => {
                nav.push((t("Catalogue", "Catalogue"), "/catalogue"));
                nav.push((t("Bénéficiaires", "Beneficiaries"), "/beneficiaries"));
                nav.push((t("Formations", "Training"), "/training"));
                nav.push((t("Ventes", "Sales"), "/sales"));
            }
            Role::Coordinator => {
                nav.push((t("Collectes", "Collections"), "/collections"));
                nav.push((t("Tableaux de bord", "Dashboards"), "/dashboards"));
                nav.push((t("Étiquettes", "Labels"), "/labels"));
                nav.push((t("DEEE", "WEEE"), "/weee"));
                nav.push((t("Organisations", "Organisations"), "/organisations"));
                nav.push((t("Catalogue", "Catalogue"), "/catalogue"));
                nav.push((t("Formations", "Training"), "/training"));
                nav.push((t("Comptoir", "Counter"), "/counter"));
                nav.push((t("Ventes", "Sales"), "/sales"));
                nav.push((t("Prix", "Prices"), "/prices"));
            }
            Role::Admin => {
                nav.push((t("Administration", "Administration"), "/admin"));
                nav.push((t("Tableaux de bord", "Dashboards"), "/dashboards"));
                nav.push((t("Collectes", "Collections"), "/collections"));
                nav.push((t("Étiquettes", "Labels"), "/labels"));
                nav.push((t("DEEE", "WEEE"), "/weee"));
                nav.push((t("Catalogue", "Catalogue"), "/catalogue"));
                nav.push((t("Formations", "Training"), "/training"));
                nav.push((t("Prix", "Prices"), "/prices"));
            }
            Role::Technician => {
                nav.push((t("Collectes", "Collections"), "/collections"));
                nav.push((t("Tableaux de bord", "Dashboards"), "/dashboards"));
                nav.push((t("Étiquettes", "Labels"), "/labels"));
                nav.push((t("DEEE", "WEEE"), "/weee"));
                nav.push((t("Comptoir", "Counter"), "/counter"));
                nav.push((t("Ventes", "Sales"), "/sales"));
            }
        }
        Chrome {
            lang,
            title: title.to_owned(),
            user: Some(v.actor.name.clone()),
            csrf: v.csrf(),
            nav: nav
                .into_iter()
                .map(|(label, href)| (label, href, href == here))
                .collect(),
            notice: None,
            problem: None,
        }
    }

    pub fn guest(lang: Lang, title: &str, csrf: String) -> Chrome {
        Chrome {
            lang,
            title: title.to_owned(),
            user: None,
            csrf,
            nav: Vec::new(),
            notice: None,
            problem: None,
        }
    }

    /// French or English, as the page is read.
    pub fn t<'a>(&self, fr: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(fr, en)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.as_str()
    }

    /// The other language, for the switch.
    pub fn other_lang(&self) -> (&'static str, &'static str) {
        match self.lang {
            Lang::Fr => ("en", "English"),
            Lang::En => ("fr", "Français"),
        }
    }

    /// Shows a problem passed in a redirect's query (`?error=code`), in this
    /// page's language.
    pub fn with_error_code(mut self, code: Option<&str>) -> Chrome {
        if let Some(code) = code
            && let Ok(code) =
                serde_json::from_value::<ErrorCode>(serde_json::Value::String(code.to_owned()))
        {
            self.problem = Some(Problem {
                code: code.as_str().to_owned(),
                message: code.message(self.lang).to_owned(),
            });
        }
        self
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Chrome {
        self.notice = notice;
        self
    }
}

/// An HTML answer, never cached (pages show people's data).
pub fn html(status: StatusCode, body: Result<String, askama::Error>) -> HttpResponse {
    match body {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Erreur interne / Internal error")
        }
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub back: Option<String>,
}

/// An error as a page: its code and message, in the visitor's language, with the
/// status the API would answer.
pub fn error_page(req: &HttpRequest, visitor: Option<&Visitor>, e: &ApiError) -> HttpResponse {
    let back = req
        .headers()
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .map(str::to_owned);
    error_page_back(req, visitor, e, back)
}

/// [`error_page`] with where "go back" leads.
pub fn error_page_back(
    req: &HttpRequest,
    visitor: Option<&Visitor>,
    e: &ApiError,
    back: Option<String>,
) -> HttpResponse {
    use askama::Template;
    let lang = visitor
        .map(Visitor::lang)
        .unwrap_or_else(|| guest_lang(req));
    let e = ApiError {
        code: e.code,
        message: e.message.clone(),
        messages: e.messages.clone(),
        details: e.details.clone(),
        cause: e.cause.clone(),
        lang,
    };
    if e.code.http_status() >= 500 {
        tracing::error!(code = %e.code, cause = ?e.cause, "page failed");
    }
    let title = lang.pick("Impossible d'afficher la page", "Cannot show this page");
    let mut chrome = match visitor {
        Some(v) => Chrome::for_visitor(v, title, ""),
        None => Chrome::guest(lang, title, String::new()),
    };
    chrome.problem = Some(Problem::from(&e));
    let page = ErrorPage { chrome, back };
    html(
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        page.render(),
    )
}

/// Refuses a form whose CSRF token is not this session's.
pub fn check_csrf(req: &HttpRequest, v: &Visitor, f: &Fields) -> Result<(), Box<HttpResponse>> {
    let sent = f.get("csrf");
    if !sent.is_empty() && constant_time_eq(sent.as_bytes(), v.csrf().as_bytes()) {
        Ok(())
    } else {
        Err(Box::new(error_page(
            req,
            Some(v),
            &ApiError::new(ErrorCode::CsrfRejected),
        )))
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session cookie: HttpOnly, SameSite=Lax (a link from an e-mail still opens the
/// page signed in; a form from another site never posts with it), Secure when the
/// public host is HTTPS, for the session's lifetime.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::hours(
            crate::auth::SESSION_HOURS,
        ))
        .finish()
}

/// Runs a page's handler with the signed-in visitor, or sends to the login page.
#[macro_export]
macro_rules! signed_in {
    ($req:expr) => {
        match $crate::web::visitor(&$req).await {
            Ok(Some(v)) => v,
            Ok(None) => return $crate::web::to_login(&$req),
            Err(e) => return $crate::web::error_page(&$req, None, &e),
        }
    };
}

/// Where a refused form leads.
enum OnRefusal {
    /// Back to this page (else the form's own `back` field) with the refusal's code.
    Back(Option<String>),
    /// A page with the refusal's whole message.
    Page,
}

/// A form's target: signed in, its CSRF token checked, `f` run in one write
/// transaction; then to the page `f` names, or, refused, as `on_refusal` says.
async fn run_form<F>(
    req: HttpRequest,
    db: web::Data<crate::db::Db>,
    body: web::Bytes,
    on_refusal: OnRefusal,
    f: F,
) -> HttpResponse
where
    F: FnOnce(&mut crate::db::DbConnection, &Actor, &Fields) -> crate::error::ApiResult<String>
        + Send
        + 'static,
{
    let v = signed_in!(req);
    let fields = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &fields) {
        return *r;
    }
    let back = match on_refusal {
        OnRefusal::Back(back) => {
            Some(back.unwrap_or_else(|| safe_next(fields.get("back")).to_owned()))
        }
        OnRefusal::Page => None,
    };
    let actor = v.actor.clone();
    match crate::routes::write(&db, move |c| f(c, &actor, &fields)).await {
        Ok(to) => see_other(&to),
        Err(e) => match back {
            Some(back) => {
                let sep = if back.contains('?') { '&' } else { '?' };
                see_other(&format!("{back}{sep}error={}", e.code.as_str()))
            }
            None => error_page(&req, Some(&v), &e),
        },
    }
}

/// A small form's target ([`run_form`]): refused, back to `back` (else the form's own
/// `back` field) with the refusal's code.
pub async fn form_action<F>(
    req: HttpRequest,
    db: web::Data<crate::db::Db>,
    body: web::Bytes,
    back: Option<String>,
    f: F,
) -> HttpResponse
where
    F: FnOnce(&mut crate::db::DbConnection, &Actor, &Fields) -> crate::error::ApiResult<String>
        + Send
        + 'static,
{
    run_form(req, db, body, OnRefusal::Back(back), f).await
}

/// A form's target ([`run_form`]) whose refusal is a page with the refusal's whole
/// message (which field, what it expects), as the API says it; the browser's back
/// button keeps what was typed.
pub async fn form_submit<F>(
    req: HttpRequest,
    db: web::Data<crate::db::Db>,
    body: web::Bytes,
    f: F,
) -> HttpResponse
where
    F: FnOnce(&mut crate::db::DbConnection, &Actor, &Fields) -> crate::error::ApiResult<String>
        + Send
        + 'static,
{
    run_form(req, db, body, OnRefusal::Page, f).await
}

/// A form field that must parse (a number, a choice): else `invalid_input` naming it.
pub fn parsed<T: std::str::FromStr>(
    a: &Actor,
    f: &Fields,
    name: &str,
    fr: &str,
    en: &str,
) -> crate::error::ApiResult<T> {
    f.get(name).parse().map_err(|_| {
        ApiError::field(
            filiere_shared::validate::FieldError::new(name, fr, en),
            a.lang,
        )
    })
}

/// [`parsed`], or `None` when the field is blank.
pub fn parsed_opt<T: std::str::FromStr>(
    a: &Actor,
    f: &Fields,
    name: &str,
    fr: &str,
    en: &str,
) -> crate::error::ApiResult<Option<T>> {
    if f.get(name).is_empty() {
        Ok(None)
    } else {
        parsed(a, f, name, fr, en).map(Some)
    }
}

/// Kilograms as typed (`12`, `12,5`, `12.5`), in grams; `None` when blank.
pub fn kilograms(a: &Actor, f: &Fields, name: &str) -> crate::error::ApiResult<Option<i64>> {
    let v = f.get(name).replace(',', ".");
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<f64>() {
        Ok(kg) if kg.is_finite() && (0.0..=100_000.0).contains(&kg) => {
            Ok(Some((kg * 1000.0).round() as i64))
        }
        _ => Err(ApiError::field(
            filiere_shared::validate::FieldError::new(
                name,
                "un poids en kilogrammes, par exemple 12,5",
                "a weight in kilograms, such as 12.5",
            ),
            a.lang,
        )),
    }
}

pub use filiere_shared::names::kg_text;

/// The value of a query parameter of the request.
pub fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    let q = req.uri().query()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}
