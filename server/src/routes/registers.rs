//! `/api/v1/registers`: the outgoing and incoming waste registers of the caller's
//! sites, as CSV in the national waste-tracking service's import layout. The WEEE
//! page offers the same files.

use super::{localise, read};
use crate::auth::Actor;
use crate::db::Db;
use crate::error::ApiResult;
use crate::service::registers::{self, Period};
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use chrono::{Datelike, NaiveDate};
use filiere_shared::error::ErrorBody;
use filiere_shared::registers::{INCOMING, OUTGOING, incoming_row, outgoing_row};
use filiere_shared::*;
use serde::Deserialize;

/// The period (this year so far when absent) and, optionally, one site.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegisterQuery {
    /// First day (`YYYY-MM-DD`), 1 January of this year by default.
    pub from: Option<NaiveDate>,
    /// Last day, today by default.
    pub to: Option<NaiveDate>,
    pub site: Option<i64>,
}

impl RegisterQuery {
    pub fn period(&self, today: NaiveDate) -> Period {
        Period {
            from: self
                .from
                .unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today)),
            to: self.to.unwrap_or(today),
            site: self.site.map(SiteId),
        }
    }
}

/// The register as a file to import: its name says which and when.
pub fn register_csv(outgoing: bool, p: Period, lines: RegisterLines) -> HttpResponse {
    let name = format!(
        "registre-dechets-{}-{}-{}.csv",
        if outgoing { "sortants" } else { "entrants" },
        p.from,
        p.to
    );
    match lines {
        RegisterLines::Outgoing(l) => crate::web::csv::import_file(
            &name,
            &OUTGOING,
            &l.iter().map(outgoing_row).collect::<Vec<_>>(),
        ),
        RegisterLines::Incoming(l) => crate::web::csv::import_file(
            &name,
            &INCOMING,
            &l.iter().map(incoming_row).collect::<Vec<_>>(),
        ),
    }
}

pub enum RegisterLines {
    Outgoing(Vec<filiere_shared::registers::Outgoing>),
    Incoming(Vec<filiere_shared::registers::Incoming>),
}

/// Reads one register for the caller.
pub async fn register_lines(
    db: &Data<Db>,
    actor: &Actor,
    outgoing: bool,
    p: Period,
    clock: crate::clock::Clock,
) -> ApiResult<RegisterLines> {
    let a = actor.clone();
    localise(
        actor,
        read(db, move |c| {
            Ok(if outgoing {
                RegisterLines::Outgoing(registers::outgoing(c, &a, p, &clock)?)
            } else {
                RegisterLines::Incoming(registers::incoming(c, &a, p)?)
            })
        })
        .await,
    )
}

/// The outgoing waste register: each WEEE batch handed over in the period, one line
/// per waste code, to import into Trackdéchets.
#[utoipa::path(get, path = "/api/v1/registers/outgoing.csv", tag = "registers", security(("bearer" = [])),
    params(RegisterQuery),
    responses((status = 200, description = "The register, `;`-separated, in the national service's import layout", content_type = "text/csv"),
        (status = 404, body = ErrorBody)))]
pub async fn outgoing_register(
    actor: Actor,
    db: Data<Db>,
    q: Query<RegisterQuery>,
    settings: Data<crate::config::WebSettings>,
) -> ApiResult<HttpResponse> {
    let p = q.period(settings.clock.date(chrono::Utc::now()));
    let lines = register_lines(&db, &actor, true, p, settings.clock).await?;
    Ok(register_csv(true, p, lines))
}

/// The incoming waste register: each collection received as waste in the period.
#[utoipa::path(get, path = "/api/v1/registers/incoming.csv", tag = "registers", security(("bearer" = [])),
    params(RegisterQuery),
    responses((status = 200, description = "The register, `;`-separated, in the national service's import layout", content_type = "text/csv"),
        (status = 404, body = ErrorBody)))]
pub async fn incoming_register(
    actor: Actor,
    db: Data<Db>,
    q: Query<RegisterQuery>,
    settings: Data<crate::config::WebSettings>,
) -> ApiResult<HttpResponse> {
    let p = q.period(settings.clock.date(chrono::Utc::now()));
    let lines = register_lines(&db, &actor, false, p, settings.clock).await?;
    Ok(register_csv(false, p, lines))
}
