//! The dashboards' settings: the extra years of use counted for a reused device (the
//! impact's CO2e), and how long an item may wait in each state before the aging
//! dashboard lists it.

use crate::db::Db;
use crate::service::dashboards;
use crate::signed_in;
use crate::web::account::page_read;
use crate::web::{Chrome, form_submit, html, parsed};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::dashboards::{AgingThreshold, UpdateDashboardSettings};
use filiere_shared::names::Named;
use filiere_shared::{ItemState, Role};

pub struct ThresholdField {
    pub name: String,
    pub state: String,
    pub days: i32,
}

#[derive(Template)]
#[template(path = "admin/dashboards.html")]
pub struct SettingsPage {
    pub chrome: Chrome,
    pub extra_years: i64,
    pub thresholds: Vec<ThresholdField>,
}

pub async fn show(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    let v = signed_in!(req);
    let lang = v.lang();
    let found = page_read(&req, &v, &db, |c, a| {
        a.require(&[Role::Admin])?;
        dashboards::settings_view(c, a)
    })
    .await;
    let settings = match found {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = SettingsPage {
        chrome: Chrome::for_visitor(
            &v,
            lang.pick("Réglages des tableaux de bord", "Dashboard settings"),
            "/admin",
        )
        .with_notice(crate::web::query_param(&req, "saved").map(|_| {
            lang.pick("Réglages enregistrés.", "Settings saved.")
                .to_owned()
        })),
        extra_years: settings.extra_years,
        thresholds: settings
            .thresholds
            .iter()
            .map(|t| ThresholdField {
                name: format!("days_{}", t.state.as_str()),
                state: t.state.name(lang).to_owned(),
                days: t.days,
            })
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

pub async fn update(req: HttpRequest, db: Data<Db>, body: Bytes) -> HttpResponse {
    form_submit(req, db, body, |c, a, f| {
        let extra_years = parsed(
            a,
            f,
            "extra_years",
            "un nombre d'années",
            "a number of years",
        )?;
        let mut thresholds = Vec::new();
        for state in ItemState::ALL {
            let name = format!("days_{}", state.as_str());
            if f.get(&name).is_empty() {
                continue;
            }
            thresholds.push(AgingThreshold {
                state: *state,
                days: parsed(a, f, &name, "un nombre de jours", "a number of days")?,
            });
        }
        dashboards::update_settings(
            c,
            a,
            &UpdateDashboardSettings {
                extra_years: Some(extra_years),
                thresholds,
            },
        )?;
        Ok("/admin/dashboards?saved=1".to_owned())
    })
    .await
}
