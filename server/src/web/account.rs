//! Signing in and out, the language switch, and each role's home page.

use super::{
    Chrome, Fields, LANG_COOKIE, LOGIN_CSRF_COOKIE, Problem, SESSION_COOKIE, check_csrf,
    constant_time_eq, error_page, guest_lang, html, safe_next, see_other, session_cookie,
};
use crate::auth;
use crate::config::WebSettings;
use crate::db::Db;
use crate::routes::{read, write};
use crate::signed_in;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::LoginRequest;
use filiere_shared::{Lang, Role};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub next: String,
    pub username: String,
}

fn login_form(
    req: &HttpRequest,
    lang: Lang,
    next: &str,
    username: &str,
    problem: Option<Problem>,
    status: StatusCode,
) -> HttpResponse {
    // A fresh token for each form shown; the form sends it back, the cookie too.
    let token = auth::new_token("flc");
    let mut chrome = Chrome::guest(lang, lang.pick("Connexion", "Log in"), token.clone());
    chrome.problem = problem;
    let page = LoginPage {
        chrome,
        next: safe_next(next).to_owned(),
        username: username.to_owned(),
    };
    let secure = req
        .app_data::<Data<WebSettings>>()
        .is_some_and(|s| s.secure_cookies());
    let mut response = html(status, page.render());
    let _ = response.add_cookie(
        &Cookie::build(LOGIN_CSRF_COOKIE, token)
            .path("/login")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .finish(),
    );
    response
}

pub async fn login_page(req: HttpRequest) -> HttpResponse {
    let mut lang = guest_lang(&req);
    let mut set_lang = None;
    if let Some(l) = super::query_param(&req, "lang").and_then(|l| Lang::parse(&l)) {
        lang = l;
        set_lang = Some(l);
    }
    let next = super::query_param(&req, "next").unwrap_or_else(|| "/".into());
    if let Ok(Some(_)) = super::visitor(&req).await {
        return see_other(safe_next(&next));
    }
    let mut response = login_form(&req, lang, &next, "", None, StatusCode::OK);
    if let Some(l) = set_lang {
        let _ = response.add_cookie(
            &Cookie::build(LANG_COOKIE, l.as_str())
                .path("/")
                .same_site(SameSite::Lax)
                .max_age(actix_web::cookie::time::Duration::days(365))
                .finish(),
        );
    }
    response
}

/// Same accounts and throttle as the API's login; a new session id at each login.
pub async fn login_submit(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    body: Bytes,
) -> HttpResponse {
    let lang = guest_lang(&req);
    let f = Fields::parse(&body);
    let next = f.get("next").to_owned();
    let username = f.get("username").to_owned();
    let cookie = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned());
    let csrf_ok = cookie
        .as_deref()
        .is_some_and(|c| !c.is_empty() && constant_time_eq(c.as_bytes(), f.get("csrf").as_bytes()));
    if !csrf_ok {
        let e = crate::error::ApiError::new(filiere_shared::ErrorCode::CsrfRejected).in_lang(lang);
        return login_form(
            &req,
            lang,
            &next,
            &username,
            Some(Problem::from(&e)),
            StatusCode::FORBIDDEN,
        );
    }
    if username.is_empty() || f.get("password").is_empty() || username.chars().count() > 100 {
        let e = crate::error::ApiError::new(filiere_shared::ErrorCode::InvalidCredentials)
            .in_lang(lang);
        return login_form(
            &req,
            lang,
            &next,
            &username,
            Some(Problem::from(&e)),
            StatusCode::UNAUTHORIZED,
        );
    }
    let login = LoginRequest {
        username: username.clone(),
        password: f.get("password").to_owned(),
    };
    let client = auth::client_address(&req, &settings.trusted_proxies);
    let outcome = write(&db, move |c| auth::login(c, &login, lang, client)).await;
    match outcome {
        Ok(Ok((session, _user))) => {
            let mut response = see_other(safe_next(&next));
            let _ = response.add_cookie(&session_cookie(session.token, settings.secure_cookies()));
            let mut gone = Cookie::build(LOGIN_CSRF_COOKIE, "").path("/login").finish();
            gone.make_removal();
            let _ = response.add_cookie(&gone);
            response
        }
        Ok(Err(refused)) => {
            let status = StatusCode::from_u16(refused.code.http_status())
                .unwrap_or(StatusCode::UNAUTHORIZED);
            login_form(
                &req,
                lang,
                &next,
                &username,
                Some(Problem::from(&refused)),
                status,
            )
        }
        Err(e) => error_page(&req, None, &e),
    }
}

pub async fn logout(
    req: HttpRequest,
    db: Data<Db>,
    sessions: Data<auth::SessionCache>,
    body: Bytes,
) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let actor = v.actor.clone();
    if let Err(e) = write(&db, move |c| auth::logout(c, &actor)).await {
        return error_page(&req, Some(&v), &e);
    }
    sessions.clear();
    let mut response = see_other("/login");
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    let _ = response.add_cookie(&gone);
    response
}

/// The language switch: the visitor's account language from now on.
pub async fn language(
    req: HttpRequest,
    db: Data<Db>,
    sessions: Data<auth::SessionCache>,
    body: Bytes,
) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let Some(lang) = Lang::parse(f.get("lang")) else {
        return error_page(
            &req,
            Some(&v),
            &crate::error::ApiError::new(filiere_shared::ErrorCode::InvalidInput),
        );
    };
    let actor = v.actor.clone();
    if let Err(e) = write(&db, move |c| auth::set_language(c, &actor, lang)).await {
        return error_page(&req, Some(&v), &e);
    }
    sessions.clear();
    let back = f.get("back");
    see_other(safe_next(if back.is_empty() { "/" } else { back }))
}

/// Each role's home page.
pub async fn home(req: HttpRequest, db: Data<Db>, settings: Data<WebSettings>) -> HttpResponse {
    let v = signed_in!(req);
    match v.actor.role {
        Role::SocialWorker => super::social::home::page(&req, &db, &settings, v).await,
        Role::Coordinator => super::coordinator::home(&req, &db, &settings, v).await,
        Role::Admin => super::admin::hub(req, db).await,
        Role::Technician => super::staff::home(&req, v).await,
    }
}

/// Reads for a page, with the error shown as a page.
pub async fn page_read<T, F>(
    req: &HttpRequest,
    v: &super::Visitor,
    db: &Data<Db>,
    f: F,
) -> Result<T, HttpResponse>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConnection, &crate::auth::Actor) -> crate::error::ApiResult<T>
        + Send
        + 'static,
{
    let actor = v.actor.clone();
    read(db, move |c| f(c, &actor))
        .await
        .map_err(|e| error_page(req, Some(v), &e))
}

#[derive(Template)]
#[template(path = "account/setup.html")]
pub struct SetupPage {
    pub chrome: Chrome,
    pub token: String,
    pub username: String,
    pub display_name: String,
    pub done: bool,
}

fn mismatch(lang: Lang) -> crate::error::ApiError {
    crate::error::ApiError::field(
        filiere_shared::validate::FieldError::new(
            "confirm",
            "les deux mots de passe ne sont pas les mêmes",
            "the two passwords are not the same",
        ),
        lang,
    )
}

/// The page a one-time link opens: choose one's password (no login).
pub async fn setup_form(
    req: HttpRequest,
    db: Data<Db>,
    token: actix_web::web::Path<String>,
) -> HttpResponse {
    let lang = guest_lang(&req);
    let token = token.into_inner();
    let t = token.clone();
    match read(&db, move |c| {
        crate::service::admin::setup_link_user(c, &t, lang)
    })
    .await
    {
        Ok(user) => {
            let page = SetupPage {
                chrome: Chrome::guest(
                    user.language,
                    user.language
                        .pick("Choisir votre mot de passe", "Choose your password"),
                    String::new(),
                ),
                token,
                username: user.username,
                display_name: user.display_name,
                done: false,
            };
            html(StatusCode::OK, page.render())
        }
        Err(e) => error_page(&req, None, &e),
    }
}

pub async fn setup_submit(
    req: HttpRequest,
    db: Data<Db>,
    token: actix_web::web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    let lang = guest_lang(&req);
    let f = Fields::parse(&body);
    let token = token.into_inner();
    let (password, confirm) = (f.get("password").to_owned(), f.get("confirm").to_owned());
    if password != confirm {
        return error_page(&req, None, &mismatch(lang));
    }
    let body = filiere_shared::api::SetPassword { token, password };
    match write(&db, move |c| {
        crate::service::admin::set_password(c, &body, lang)
    })
    .await
    {
        Ok(user) => {
            let page = SetupPage {
                chrome: Chrome::guest(
                    user.language,
                    user.language
                        .pick("Mot de passe enregistré", "Password saved"),
                    String::new(),
                ),
                token: String::new(),
                username: user.username,
                display_name: user.display_name,
                done: true,
            };
            html(StatusCode::OK, page.render())
        }
        Err(e) => error_page(&req, None, &e),
    }
}

#[derive(Template)]
#[template(path = "account/password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
}

pub async fn password_form(req: HttpRequest) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let page = PasswordPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Mon mot de passe", "My password"), "")
            .with_notice(super::query_param(&req, "done").map(|_| {
                lang.pick("Mot de passe changé.", "Password changed.")
                    .to_owned()
            })),
    };
    html(StatusCode::OK, page.render())
}

pub async fn password_submit(
    req: HttpRequest,
    db: Data<Db>,
    sessions: Data<auth::SessionCache>,
    body: Bytes,
) -> HttpResponse {
    let answer = super::form_submit(req, db, body, |c, a, f| {
        if f.get("new") != f.get("confirm") {
            return Err(mismatch(a.lang));
        }
        crate::service::admin::change_password(
            c,
            a,
            &filiere_shared::api::ChangePassword {
                current: f.get("current").to_owned(),
                new: f.get("new").to_owned(),
            },
        )?;
        Ok("/account/password?done=1".to_owned())
    })
    .await;
    // The other sessions, ended, are forgotten at once.
    sessions.clear();
    answer
}
