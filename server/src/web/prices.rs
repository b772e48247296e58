//! The solidarity prices of a region and the legal caps: the region's coordinator sets
//! the prices (per category, and grade), an admin the caps when the law changes;
//! social workers read them (the catalogue shows each device's price).

use crate::db::Db;
use crate::service::sales as service;
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, form_action, html};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::names::Named;
use filiere_shared::sales::*;
use filiere_shared::*;

pub struct RuleLine {
    pub id: i64,
    pub category: String,
    pub grade: String,
    pub price: String,
    pub public_body_price: String,
}

pub struct CapLine {
    pub key: &'static str,
    pub name: String,
    pub max: String,
    pub max_plain: String,
    pub reference: String,
}

#[derive(Template)]
#[template(path = "prices.html")]
pub struct PricesPage {
    pub chrome: Chrome,
    pub rules: Vec<RuleLine>,
    pub caps: Vec<CapLine>,
    pub region: i64,
    pub regions: Vec<(i64, String, bool)>,
    pub may_set: bool,
    pub admin: bool,
    pub categories: Vec<(&'static str, &'static str)>,
    pub grades: Vec<&'static str>,
}

fn plain(cents: i64) -> String {
    format!("{},{:02}", cents / 100, cents % 100)
}

pub async fn page(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let asked: Option<i64> = crate::web::query_param(&req, "region").and_then(|r| r.parse().ok());
    let found = page_read(&req, &v, &db, move |c, a| {
        let regions = crate::service::admin::list_regions(c, a)?;
        let region = match a.role {
            Role::Admin => asked.or(regions.first().map(|r| r.id.0)),
            _ => None,
        };
        let list = service::price_list(
            c,
            a,
            &PriceQuery {
                region: region.map(RegionId),
            },
        )?;
        Ok((list, regions, region))
    })
    .await;
    let (list, regions, region) = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let region = region.or(v.actor.region.map(|r| r.0)).unwrap_or(0);
    let admin = v.actor.role == Role::Admin;
    let page = PricesPage {
        chrome: Chrome::for_visitor(
            &v,
            lang.pick("Prix solidaires", "Solidarity prices"),
            "/prices",
        )
        .with_error_code(crate::web::query_param(&req, "error").as_deref())
        .with_notice(
            crate::web::query_param(&req, "done")
                .map(|_| lang.pick("Enregistré.", "Saved.").to_owned()),
        ),
        rules: list
            .rules
            .iter()
            .map(|r| RuleLine {
                id: r.id.0,
                category: r.category.name(lang).to_owned(),
                grade: r
                    .grade
                    .map(|g| g.name(lang).to_owned())
                    .unwrap_or_else(|| lang.pick("toutes", "all").to_owned()),
                price: format_euros(r.price_cents, lang),
                public_body_price: r
                    .public_body_price_cents
                    .map(|p| format_euros(p, lang))
                    .unwrap_or_else(|| lang.pick("le même", "the same").to_owned()),
            })
            .collect(),
        caps: list
            .caps
            .iter()
            .map(|c| CapLine {
                key: c.category.as_str(),
                name: c.category.name(lang).to_owned(),
                max: format_euros(c.max_cents, lang),
                max_plain: plain(c.max_cents),
                reference: c.legal_reference.clone(),
            })
            .collect(),
        region,
        regions: regions
            .into_iter()
            .map(|r| (r.id.0, r.name, r.id.0 == region))
            .collect(),
        may_set: matches!(v.actor.role, Role::Coordinator | Role::Admin),
        admin,
        categories: Category::ALL
            .iter()
            .filter(|c| c.kind() == ItemKind::Device)
            .map(|c| (c.as_str(), c.name(lang)))
            .collect(),
        grades: Grade::ALL.iter().map(|g| g.as_str()).collect(),
    };
    html(StatusCode::OK, page.render())
}

fn euros_field(a: &crate::auth::Actor, field: &str, value: &str) -> crate::error::ApiResult<u32> {
    parse_euros(value).ok_or_else(|| {
        crate::error::ApiError::field(
            filiere_shared::validate::FieldError::new(
                field,
                "un montant en euros, par exemple 45 ou 45,50",
                "an amount in euros, such as 45 or 45.50",
            ),
            a.lang,
        )
    })
}

/// The price form's target.
pub async fn set_rule(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    form_action(req, db, body, None, |c, a, f| {
        let region: i64 = f.get("region").parse().unwrap_or(0);
        let category: Category = f
            .get("category")
            .parse()
            .map_err(|_| a.err(ErrorCode::InvalidInput))?;
        let grade = match f.get("grade") {
            "" => None,
            g => Some(
                g.parse::<Grade>()
                    .map_err(|_| a.err(ErrorCode::InvalidInput))?,
            ),
        };
        let price_cents = euros_field(a, "price", f.get("price"))?;
        let public_body_price_cents = match f.get("public_body_price") {
            "" => None,
            p => Some(euros_field(a, "public_body_price", p)?),
        };
        service::set_rule(
            c,
            a,
            &NewPriceRule {
                region: RegionId(region),
                category,
                grade,
                price_cents,
                public_body_price_cents,
            },
        )?;
        Ok(format!("/prices?region={region}&done=1"))
    })
    .await
}

pub async fn delete_rule(
    req: HttpRequest,
    db: Data<Db>,
    id: Path<i64>,
    body: Bytes,
) -> HttpResponse {
    let id = PriceRuleId(id.into_inner());
    form_action(req, db, body, None, move |c, a, f| {
        service::delete_rule(c, a, id)?;
        Ok(format!("/prices?region={}&done=1", f.get("region")))
    })
    .await
}

/// An admin's change of a legal cap.
pub async fn set_cap(
    req: HttpRequest,
    db: Data<Db>,
    key: Path<String>,
    body: Bytes,
) -> HttpResponse {
    let key = key.into_inner();
    form_action(req, db, body, Some("/prices".into()), move |c, a, f| {
        let category: CapCategory = key.parse().map_err(|_| a.err(ErrorCode::NotFound))?;
        let max_cents = euros_field(a, "max", f.get("max"))?;
        service::set_cap(
            c,
            a,
            category,
            &UpdatePriceCap {
                max_cents,
                legal_reference: f.get("legal_reference").to_owned(),
            },
        )?;
        Ok("/prices?done=1".to_owned())
    })
    .await
}
