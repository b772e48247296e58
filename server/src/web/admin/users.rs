//! User accounts: role, scope (a technician's site, a coordinator's region, a social
//! worker's organisation) and language. A new account gets a one-time link to set its
//! own password, shown here for the admin to pass on (no mail server is assumed).

use crate::config::WebSettings;
use crate::db::Db;
use crate::routes::{public_base, write};
use crate::service::admin;
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::coordination::Choice;
use crate::web::{
    Chrome, Fields, check_csrf, error_page, form_submit, html, parsed_opt, query_param,
};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::*;
use filiere_shared::names::Named;
use filiere_shared::*;

pub struct UserLine {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub role: String,
    pub scope: String,
    pub active: bool,
    pub has_password: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub users: Vec<UserLine>,
    pub roles: Vec<Choice>,
    pub sites: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub partners: Vec<Choice>,
}

/// What a page names a user's scope with.
struct Names {
    sites: Vec<SiteView>,
    regions: Vec<RegionView>,
    orgs: Vec<OrganisationView>,
}

impl Names {
    fn read(
        c: &mut crate::db::DbConnection,
        a: &crate::auth::Actor,
    ) -> crate::error::ApiResult<Names> {
        Ok(Names {
            sites: admin::list_sites(c, a)?,
            regions: admin::list_regions(c, a)?,
            orgs: admin::list_organisations(c, a)?,
        })
    }

    fn scope(&self, u: &UserView) -> String {
        match u.role {
            Role::Technician => u
                .site
                .and_then(|s| self.sites.iter().find(|x| x.id == s))
                .map(|s| s.name.clone()),
            Role::Coordinator => u
                .region
                .and_then(|r| self.regions.iter().find(|x| x.id == r))
                .map(|r| r.name.clone()),
            Role::SocialWorker => u
                .organisation
                .and_then(|o| self.orgs.iter().find(|x| x.id == o))
                .map(|o| o.name.clone()),
            Role::Admin => None,
        }
        .unwrap_or_default()
    }
}

pub async fn list(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, |c, a| {
        Ok((admin::list_users(c, a)?, Names::read(c, a)?))
    })
    .await;
    let (users, names) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = UsersPage {
        chrome: Chrome::for_visitor(&v, lang.pick("Comptes", "Accounts"), "/admin"),
        users: users
            .iter()
            .map(|u| UserLine {
                id: u.id.0,
                username: u.username.clone(),
                name: u.display_name.clone(),
                role: u.role.name(lang).to_owned(),
                scope: names.scope(u),
                active: u.active,
                has_password: u.has_password,
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .map(|r| Choice::new(r.as_str(), r.name(lang), *r == Role::Coordinator))
            .collect(),
        sites: names
            .sites
            .iter()
            .map(|s| Choice::new(s.id.0, s.name.clone(), false))
            .collect(),
        regions: names
            .regions
            .iter()
            .map(|r| Choice::new(r.id.0, r.name.clone(), false))
            .collect(),
        partners: names
            .orgs
            .iter()
            .filter(|o| o.kind == OrgKind::SocialPartner)
            .map(|o| Choice::new(o.id.0, o.name.clone(), false))
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

#[derive(Template)]
#[template(path = "admin/user_link.html")]
pub struct LinkPage {
    pub chrome: Chrome,
    pub user: UserView,
    pub link: SetupLink,
    pub expires: String,
}

fn link_page(
    v: &crate::web::Visitor,
    settings: &WebSettings,
    user: UserView,
    link: SetupLink,
) -> HttpResponse {
    let lang = v.lang();
    let page = LinkPage {
        chrome: Chrome::for_visitor(
            v,
            lang.pick(
                "Lien pour choisir son mot de passe",
                "Link to choose a password",
            ),
            "/admin",
        ),
        expires: settings.clock.long(link.expires_at, lang),
        user,
        link,
    };
    html(StatusCode::OK, page.render())
}

/// Creates the account, then shows its one-time link (on this answer only).
pub async fn create(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    body: Bytes,
) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let base = public_base(&req, &settings);
    let actor = v.actor.clone();
    let made = write(&db, move |c| {
        let a = &actor;
        let role: Role =
            crate::web::parsed(a, &f, "role", "choisissez le rôle", "choose the role")?;
        let (site, region, organisation) = match role {
            Role::Technician => (
                parsed_opt(a, &f, "site", "site", "site")?.map(SiteId),
                None,
                None,
            ),
            Role::Coordinator => (
                None,
                parsed_opt(a, &f, "region", "région", "region")?.map(RegionId),
                None,
            ),
            Role::SocialWorker => (
                None,
                None,
                parsed_opt(a, &f, "organisation", "organisation", "organisation")?.map(OrgId),
            ),
            Role::Admin => (None, None, None),
        };
        let user = admin::create_user(
            c,
            Some(a),
            &NewUser {
                username: f.get("username").to_owned(),
                display_name: f.get("display_name").to_owned(),
                role,
                password: None,
                badge: f.opt("badge"),
                site,
                region,
                organisation,
                language: Lang::parse(f.get("language")).unwrap_or_default(),
            },
        )?;
        let link = admin::issue_setup_link(c, a, user.id, &base)?;
        Ok((user, link))
    })
    .await;
    match made {
        Ok((user, link)) => link_page(&v, &settings, user, link),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub user: UserView,
    /// Whether the data-security right can be given (technicians, coordinators).
    pub may_sign: bool,
    pub role: String,
    pub scope: String,
}

pub async fn show(req: HttpRequest, db: Data<Db>, id: Path<i64>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let id = UserId(id.into_inner());
    let found = page_read(&req, &v, &db, move |c, a| {
        let user = admin::list_users(c, a)?
            .into_iter()
            .find(|u| u.id == id)
            .ok_or_else(|| a.err(ErrorCode::UserNotFound))?;
        Ok((user, Names::read(c, a)?))
    })
    .await;
    let (user, names) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = UserPage {
        chrome: Chrome::for_visitor(&v, &user.display_name, "/admin").with_notice(
            query_param(&req, "done").map(|_| lang.pick("Enregistré.", "Saved.").to_owned()),
        ),
        role: user.role.name(lang).to_owned(),
        scope: names.scope(&user),
        may_sign: matches!(user.role, Role::Technician | Role::Coordinator),
        user,
    };
    html(StatusCode::OK, page.render())
}

pub async fn update(
    req: HttpRequest,
    db: Data<Db>,
    sessions: Data<crate::auth::SessionCache>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let id = UserId(id.into_inner());
    let answer = form_submit(req, db, body, move |c, a, f| {
        admin::update_user(
            c,
            a,
            id,
            &UpdateUser {
                active: Some(f.get("active") == "on"),
                language: Lang::parse(f.get("language")),
                password: None,
                badge: f.opt("badge"),
                display_name: Some(f.get("display_name").to_owned()),
                // Only offered to technicians and coordinators.
                data_security: f
                    .opt("data_security_offered")
                    .map(|_| f.get("data_security") == "on"),
            },
        )?;
        Ok(format!("/admin/users/{id}?done=1"))
    })
    .await;
    // A deactivation or a language change applies to the user's next request.
    sessions.clear();
    answer
}

/// A new one-time link (the previous one stops working).
pub async fn new_link(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let v = signed_in!(req);
    let f = Fields::parse(&body);
    if let Err(r) = check_csrf(&req, &v, &f) {
        return *r;
    }
    let id = UserId(id.into_inner());
    let base = public_base(&req, &settings);
    let actor = v.actor.clone();
    let made = write(&db, move |c| {
        let link = admin::issue_setup_link(c, &actor, id, &base)?;
        let user = admin::list_users(c, &actor)?
            .into_iter()
            .find(|u| u.id == id)
            .ok_or_else(|| actor.err(ErrorCode::UserNotFound))?;
        Ok((user, link))
    })
    .await;
    match made {
        Ok((user, link)) => link_page(&v, &settings, user, link),
        Err(e) => error_page(&req, Some(&v), &e),
    }
}
