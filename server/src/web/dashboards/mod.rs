//! The dashboards' pages: stock, flows, aging, impact, and the list of items behind
//! each figure; a technician sees their site, a coordinator their region (or one of
//! its sites), an admin every region (or one). Each page calls the service function
//! of its JSON route (`/api/v1/dashboards/*`) and exports its tables as CSV.

pub mod aging;
pub mod collections;
pub mod demand;
pub mod flows;
pub mod impact;
pub mod items;
pub mod stock;

use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::service::admin;
use crate::web::coordination::Choice;
use crate::web::query_param;
use actix_web::HttpRequest;
use filiere_shared::dashboards::SiteRef;
use filiere_shared::*;

pub async fn index() -> actix_web::HttpResponse {
    crate::web::see_other("/dashboards/stock")
}

/// The tabs over every dashboard page.
pub struct Tab {
    pub label: &'static str,
    pub href: String,
    pub here: bool,
}

pub fn tabs(lang: Lang, here: &str, query: &str) -> Vec<Tab> {
    [
        ("Stock", "Stock", "/dashboards/stock"),
        ("Flux", "Flows", "/dashboards/flows"),
        ("En attente", "Waiting", "/dashboards/aging"),
        ("Besoins", "Needs", "/dashboards/demand"),
        ("Collectes", "Collections", "/dashboards/collections"),
        ("Impact", "Impact", "/dashboards/impact"),
    ]
    .into_iter()
    .map(|(fr, en, href)| Tab {
        label: lang.pick(fr, en),
        href: if query.is_empty() {
            href.to_owned()
        } else {
            format!("{href}?{query}")
        },
        here: href == here,
    })
    .collect()
}

/// Whose figures a page shows, from its query.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub region: Option<RegionId>,
    pub site: Option<SiteId>,
}

impl Filter {
    /// The query that keeps this choice from page to page.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = self.region {
            parts.push(format!("region={r}"));
        }
        if let Some(s) = self.site {
            parts.push(format!("site={s}"));
        }
        parts.join("&")
    }
}

/// A number from the query, or `invalid_query` naming the parameter.
pub fn number<T: std::str::FromStr>(
    req: &HttpRequest,
    lang: Lang,
    name: &str,
) -> ApiResult<Option<T>> {
    match query_param(req, name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ApiError::new(ErrorCode::InvalidQuery)
                .with_message(format!(
                    "{name} : {}",
                    lang.pick("valeur incorrecte", "incorrect value")
                ))
                .in_lang(lang)
        }),
    }
}

/// An enum from the query (its stored name), or `invalid_query`.
pub fn named<T: std::str::FromStr>(
    req: &HttpRequest,
    lang: Lang,
    name: &str,
) -> ApiResult<Option<T>> {
    number(req, lang, name)
}

pub fn filter(req: &HttpRequest, lang: Lang) -> ApiResult<Filter> {
    Ok(Filter {
        region: number::<i64>(req, lang, "region")?.map(RegionId),
        site: number::<i64>(req, lang, "site")?.map(SiteId),
    })
}

/// The form that narrows a page to a region or a site.
pub struct ScopeBar {
    /// For an admin.
    pub regions: Vec<Choice>,
    /// For a coordinator or an admin.
    pub sites: Vec<Choice>,
    /// What the page covers, in words.
    pub covers: String,
}

pub fn scope_bar(
    conn: &mut DbConnection,
    actor: &Actor,
    f: &Filter,
    shown: &[SiteRef],
) -> ApiResult<ScopeBar> {
    let regions = if actor.role == Role::Admin {
        admin::list_regions(conn, actor)?
            .into_iter()
            .map(|r| Choice::new(r.id.0, r.name, Some(r.id) == f.region))
            .collect()
    } else {
        Vec::new()
    };
    let readable = admin::list_sites(conn, actor)?;
    let sites = if actor.role == Role::Technician {
        Vec::new()
    } else {
        readable
            .iter()
            .filter(|s| f.region.is_none_or(|r| s.region == r))
            .map(|s| Choice::new(s.id.0, s.name.clone(), Some(s.id) == f.site))
            .collect()
    };
    let covers = crate::service::dashboards::covers(conn, actor, f.region, f.site, shown)?;
    Ok(ScopeBar {
        regions,
        sites,
        covers,
    })
}

pub use filiere_shared::names::{int, mass};

/// A site's name among those shown.
pub fn site_name(sites: &[SiteRef], id: SiteId) -> String {
    sites
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| format!("#{id}"))
}

impl Filter {
    /// The dashboards' query of this choice.
    pub fn dashboard(&self) -> filiere_shared::dashboards::DashboardQuery {
        filiere_shared::dashboards::DashboardQuery {
            region: self.region,
            site: self.site,
        }
    }
}

/// The start every dashboard page and export shares: signed in, its query read by
/// `parse` (a bad one refused with a page), then `f` run on a read connection as the
/// caller with what was read.
pub async fn read<P, T, F>(
    req: &HttpRequest,
    db: &actix_web::web::Data<crate::db::Db>,
    parse: impl FnOnce(&HttpRequest, Lang) -> ApiResult<P>,
    f: F,
) -> Result<(crate::web::Visitor, P, T), actix_web::HttpResponse>
where
    P: Clone + Send + 'static,
    T: Send + 'static,
    F: FnOnce(&mut DbConnection, &Actor, P) -> ApiResult<T> + Send + 'static,
{
    let v = match crate::web::visitor(req).await {
        Ok(Some(v)) => v,
        Ok(None) => return Err(crate::web::to_login(req)),
        Err(e) => return Err(crate::web::error_page(req, None, &e)),
    };
    let p = parse(req, v.lang()).map_err(|e| crate::web::error_page(req, Some(&v), &e))?;
    let given = p.clone();
    let out = crate::web::account::page_read(req, &v, db, move |c, a| f(c, a, given)).await?;
    Ok((v, p, out))
}
