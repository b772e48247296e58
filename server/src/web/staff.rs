//! The pages of the workshop's staff for now: a home with a lookup field, and the page
//! a phone opens from a label's QR code (`/I/CODE`, any case).

use super::account::page_read;
use super::{Chrome, Visitor, html, see_other};
use crate::db::Db;
use crate::service::items::{self, Access};
use crate::signed_in;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::api::{HistoryView, ItemView, Resolved};
use filiere_shared::names::Named;
use filiere_shared::{ErrorCode, Lang};

#[derive(Template)]
#[template(path = "staff/home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub role: String,
    pub query: String,
}

pub async fn home(req: &HttpRequest, v: Visitor) -> HttpResponse {
    let lang = v.lang();
    let chrome = Chrome::for_visitor(&v, lang.pick("Accueil", "Home"), "/")
        .with_error_code(super::query_param(req, "error").as_deref());
    let page = HomePage {
        chrome,
        role: role_name(v.actor.role, lang).to_owned(),
        query: super::query_param(req, "q").unwrap_or_default(),
    };
    html(StatusCode::OK, page.render())
}

fn role_name(role: filiere_shared::Role, lang: Lang) -> &'static str {
    use filiere_shared::Role::*;
    match role {
        Technician => lang.pick("Technicien·ne", "Technician"),
        Coordinator => lang.pick("Coordination régionale", "Regional coordinator"),
        SocialWorker => lang.pick("Travail social", "Social worker"),
        Admin => lang.pick("Administration", "Administrator"),
    }
}

/// One line of an item's history.
pub struct HistoryLine {
    pub at: String,
    pub what: String,
    pub who: String,
}

#[derive(Template)]
#[template(path = "staff/item.html")]
pub struct ItemPage {
    pub chrome: Chrome,
    pub code: String,
    pub title: String,
    pub state: String,
    pub facts: Vec<(String, String)>,
    pub blockers: Vec<String>,
    pub history: Vec<HistoryLine>,
    /// A device, shown to its workshop's staff: its own erasure certificate can be
    /// asked for.
    pub device: Option<i64>,
}

/// `HTTPS://HOST/I/CODE`: the item for whoever is signed in, as their role allows (the
/// whole item for the workshop's staff, the catalogue page of a ready device for a
/// social worker); the login page first for anyone else, then the item.
pub async fn item_by_code(req: HttpRequest, db: Data<Db>, code: Path<String>) -> HttpResponse {
    let v = signed_in!(req);
    let input = code.into_inner();
    let found = page_read(&req, &v, &db, move |c, a| {
        let resolved = items::resolve(c, &input, a)?;
        let id = match resolved {
            Resolved::Item { item, .. } => item.id,
            Resolved::SaleItem { item } => item.id,
            _ => return Err(a.err(ErrorCode::ItemNotFound)),
        };
        let row = items::load_item(c, id, a)?;
        match items::access(c, &row, a)? {
            Access::Sale => Ok(Err(id)),
            Access::Full => {
                let view = items::full_view(c, &row, a.lang)?;
                let history = items::history(c, id, a)?;
                Ok(Ok((Box::new(view), history)))
            }
        }
    })
    .await;
    match found {
        Err(r) => r,
        Ok(Err(id)) => see_other(&format!("/catalogue/{id}")),
        Ok(Ok((view, history))) => item_page(&v, &view, &history),
    }
}

fn item_page(v: &Visitor, item: &ItemView, history: &HistoryView) -> HttpResponse {
    let lang = v.lang();
    let clock = crate::clock::Clock::default();
    let mut facts = Vec::new();
    let t = |fr: &str, en: &str| lang.pick(fr, en).to_owned();
    if let Some(s) = &item.serial {
        facts.push((t("N° de série", "Serial"), s.clone()));
    }
    if let Some(a) = &item.asset_tag {
        facts.push((
            t("N° d'inventaire du donateur", "Donor's asset tag"),
            a.clone(),
        ));
    }
    if let Some(r) = item.specs.ram_gb {
        facts.push((t("Mémoire", "Memory"), format!("{r} {}", t("Go", "GB"))));
    }
    if let Some(s) = item.specs.storage_gb {
        facts.push((
            t("Stockage", "Storage"),
            format!(
                "{s} {} {}",
                t("Go", "GB"),
                filiere_shared::names::storage_type_text(
                    item.specs.storage_type.as_deref().unwrap_or("")
                )
            ),
        ));
    }
    if let Some(g) = item.functional_grade {
        facts.push((
            t("Grade fonctionnel", "Functional grade"),
            g.name(lang).to_owned(),
        ));
    }
    if let Some(h) = &item.hold {
        facts.push((
            t("Réservé pour", "Reserved for"),
            format!(
                "{} ({} {})",
                h.reference,
                t("jusqu'au", "until"),
                clock.short(h.until)
            ),
        ));
    }
    for d in &item.drives {
        facts.push((
            t("Disque", "Drive"),
            format!("{} — {}", d.serial, d.status.name(lang)),
        ));
    }
    let history = history
        .events
        .iter()
        .map(|e| HistoryLine {
            at: clock.short(e.occurred_at),
            what: e.payload.event_type().name(lang).to_owned(),
            who: e.actor_name.clone().unwrap_or_default(),
        })
        .collect();
    let page = ItemPage {
        chrome: Chrome::for_visitor(v, &item.code.hyphenated(), ""),
        code: item.code.hyphenated(),
        title: format!(
            "{} {} {}",
            item.category.name(lang),
            item.brand.as_deref().unwrap_or(""),
            item.model.as_deref().unwrap_or("")
        ),
        state: item.state.name(lang).to_owned(),
        facts,
        blockers: item.blockers.iter().map(|b| b.message.clone()).collect(),
        history,
        device: (item.kind == filiere_shared::ItemKind::Device
            && matches!(
                v.actor.role,
                filiere_shared::Role::Technician | filiere_shared::Role::Coordinator
            ))
        .then_some(item.id.0),
    };
    html(StatusCode::OK, page.render())
}

/// The home page's lookup field: to the item's page.
pub async fn lookup(req: HttpRequest) -> HttpResponse {
    let q = super::query_param(&req, "q").unwrap_or_default();
    let code = match filiere_shared::code::parse_scan(q.trim()) {
        Ok(parsed) => match parsed.value {
            filiere_shared::code::Scan::Label(c) => c.as_str().to_owned(),
            _ => {
                return see_other(&format!(
                    "/?error={}&q={}",
                    ErrorCode::InvalidCode.as_str(),
                    super::encode(&q)
                ));
            }
        },
        Err(_) => {
            return see_other(&format!(
                "/?error={}&q={}",
                ErrorCode::InvalidCode.as_str(),
                super::encode(&q)
            ));
        }
    };
    see_other(&format!("/i/{code}"))
}
