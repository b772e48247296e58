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

/// Every page route: its path (with, for a file upload, the size it takes), then its
/// method and handler, in the order the router tries them. One table serves the router
/// and the test that holds every page to the role table.
macro_rules! page_table {
    ($($path:literal $(with $config:expr)? => [$($method:ident $handler:path),+ $(,)?]),+ $(,)?) => {
        /// Each page path with the methods it answers (in lower case); a path may
        /// come twice, once per method.
        pub const PAGES: &[(&str, &[&str])] = &[$(($path, &[$(stringify!($method)),+])),+];

        /// Registers every page route.
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(page_table!(@one cfg, $path, [$($config)?], [$($method $handler),+]);)+
        }
    };
    (@one $cfg:ident, $path:literal, [], [$($method:ident $handler:path),+]) => {
        $($cfg.route($path, web::$method().to($handler));)+
    };
    (@one $cfg:ident, $path:literal, [$config:expr], [$($method:ident $handler:path),+]) => {
        $cfg.service(web::resource($path).app_data($config)$(.route(web::$method().to($handler)))+);
    };
}

page_table! {
    "/static/style.css" => [get style],
    "/" => [get account::home],
    "/login" => [get account::login_page],
    "/login" => [post account::login_submit],
    "/logout" => [post account::logout],
    "/language" => [post account::language],
    "/lookup" => [get staff::lookup],
    "/i/{code}" => [get staff::item_by_code],
    "/I/{code}" => [get staff::item_by_code],
    "/r/{id}" => [get social::reservations::by_voucher],
    "/R/{id}" => [get social::reservations::by_voucher],
    "/catalogue" => [get social::catalogue::list],
    "/catalogue/{id}" => [get social::catalogue::device],
    "/beneficiaries" => [get social::beneficiaries::list],
    "/beneficiaries" => [post social::beneficiaries::create],
    "/beneficiaries/new" => [get social::beneficiaries::new_form],
    "/beneficiaries/{id}" => [get social::beneficiaries::show],
    "/beneficiaries/{id}" => [post social::beneficiaries::update],
    "/beneficiaries/{id}/erase" => [post social::beneficiaries::erase],
    "/beneficiaries/{id}/export" => [get social::beneficiaries::export],
    "/needs" => [post social::beneficiaries::add_need],
    "/needs/{id}/close" => [post social::beneficiaries::close_need],
    "/reservations" => [post social::reservations::create],
    "/reservations/{id}" => [get social::reservations::show],
    "/reservations/{id}/cancel" => [post social::reservations::cancel],
    "/reservations/{id}/training-refusal" => [post social::reservations::refuse_training],
    "/reservations/{id}/voucher.pdf" => [get social::reservations::voucher],
    "/training" => [get social::training::list],
    "/training" => [post coordinator::create_session],
    "/training/{id}" => [get social::training::show],
    "/training/{id}/attendance" => [post coordinator::attendance],
    "/training/{id}/attendance-sheet.pdf" => [get coordinator::attendance_sheet],
    "/counter" => [get counter::home],
    "/counter/scan" => [get counter::scan],
    "/counter/reservations/{id}" => [get counter::handover],
    "/counter/sales" => [post counter::sell],
    "/counter/partner" => [get counter::partner_form],
    "/counter/partner-sales" => [post counter::partner_sell],
    "/sales" => [get counter::sales::list],
    "/sales/{id}" => [get counter::sales::show],
    "/sales/{id}/invoice.pdf" => [get counter::sales::invoice],
    "/sales/{id}/returns" => [post counter::sales::open_return],
    "/after-sales/{id}/settle" => [post counter::sales::settle],
    "/after-sales/{id}/hand-back" => [post counter::sales::hand_back],
    "/prices" => [get prices::page],
    "/prices" => [post prices::set_rule],
    "/prices/{id}/delete" => [post prices::delete_rule],
    "/price-caps/{key}" => [post prices::set_cap],
    "/offer" => [get public::offers::offer_form],
    "/offer" => [post public::offers::offer_submit],
    "/setup/{token}" => [get account::setup_form],
    "/setup/{token}" => [post account::setup_submit],
    "/account/password" => [get account::password_form],
    "/account/password" => [post account::password_submit],
    "/organisations" => [get coordination::organisations::list],
    "/organisations" => [post coordination::organisations::create],
    "/organisations/{id}" => [get coordination::organisations::show],
    "/organisations/{id}" => [post coordination::organisations::update],
    "/collections" => [get coordination::collections::list],
    "/collections" => [post coordination::collections::create],
    "/collections/{id}" => [get coordination::collections::show],
    "/collections/{id}/close" => [post coordination::collections::close],
    "/collections/{id}/asset-list" with coordination::asset_list::upload_config() => [post coordination::asset_list::preview],
    "/collections/{id}/asset-list/import" with coordination::asset_list::confirm_config() => [post coordination::asset_list::import],
    "/collections/{id}/erasure-report" with coordination::asset_list::upload_config() => [post coordination::erasure_report::upload],
    "/asset-imports/{id}" => [get coordination::asset_list::progress],
    "/collections/{id}/documents" => [post coordination::documents::for_collection],
    "/documents/{id}/pdf" => [get coordination::documents::pdf],
    "/offers" => [get coordination::offers::list],
    "/offers/{id}" => [get coordination::offers::show],
    "/offers/{id}/accept" => [post coordination::offers::accept],
    "/offers/{id}/decline" => [post coordination::offers::decline],
    "/labels" => [get coordination::labels::list],
    "/labels" => [post coordination::labels::allocate],
    "/labels/{id}" => [get coordination::labels::show],
    "/labels/{id}/sheet" => [post coordination::labels::sheet],
    "/labels/{id}/print" => [post coordination::labels::print],
    "/weee" => [get coordination::weee::list],
    "/weee" => [post coordination::weee::open],
    "/weee/{id}" => [get coordination::weee::show],
    "/weee/{id}/close" => [post coordination::weee::close],
    "/weee/{id}/hand-over" => [post coordination::weee::hand_over],
    "/registers/{which}" => [get coordination::weee::register],
    "/weee/{id}/documents" => [post coordination::documents::for_batch],
    "/items/{id}/documents" => [post coordination::documents::for_device],
    "/bookings/{id}/documents" => [post coordination::documents::for_booking],
    "/open-data" => [get public::open_data::page],
    "/open-data/" => [get public::open_data::page],
    "/open-data/regions-months.csv" => [get public::open_data::csv],
    "/open-data/regions-months.json" => [get public::open_data::json],
    "/v" => [get public::verify::lookup],
    "/v/{id}" with public::verify::upload_config() => [get public::verify::show, post public::verify::check_file],
    "/dashboards" => [get dashboards::index],
    "/dashboards/stock" => [get dashboards::stock::show],
    "/dashboards/stock.csv" => [get dashboards::stock::devices_csv],
    "/dashboards/parts.csv" => [get dashboards::stock::parts_csv],
    "/dashboards/flows" => [get dashboards::flows::show],
    "/dashboards/flows.csv" => [get dashboards::flows::csv],
    "/dashboards/aging" => [get dashboards::aging::show],
    "/dashboards/aging.csv" => [get dashboards::aging::csv],
    "/dashboards/impact" => [get dashboards::impact::show],
    "/dashboards/impact.csv" => [get dashboards::impact::csv],
    "/dashboards/demand" => [get dashboards::demand::show],
    "/dashboards/demand.csv" => [get dashboards::demand::csv],
    "/dashboards/collections" => [get dashboards::collections::show],
    "/dashboards/collections.csv" => [get dashboards::collections::csv],
    "/dashboards/impact.pdf" => [get dashboards::impact::pdf],
    "/dashboards/items" => [get dashboards::items::list],
    "/dashboards/items.csv" => [get dashboards::items::csv],
    "/admin" => [get admin::hub],
    "/admin/regions" => [get admin::regions::list],
    "/admin/regions" => [post admin::regions::create],
    "/admin/sites" => [get admin::sites::list],
    "/admin/sites" => [post admin::sites::create],
    "/admin/sites/{id}" => [get admin::sites::show],
    "/admin/sites/{id}" => [post admin::sites::update],
    "/admin/sites/{id}/printers" => [post admin::sites::add_printer],
    "/admin/users" => [get admin::users::list],
    "/admin/users" => [post admin::users::create],
    "/admin/users/{id}" => [get admin::users::show],
    "/admin/users/{id}" => [post admin::users::update],
    "/admin/users/{id}/setup-link" => [post admin::users::new_link],
    "/admin/dashboards" => [get admin::dashboards::show],
    "/admin/dashboards" => [post admin::dashboards::update],
    "/admin/benches" => [get admin::benches::list],
    "/admin/benches" => [post admin::benches::create],
    "/admin/benches/{id}/revoke" => [post admin::benches::revoke],
    "/bookings" => [post social::training::book],
    "/bookings/{id}/cancel" => [post social::training::cancel_booking],
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
