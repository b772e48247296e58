//! The waste registers of the caller's sites over a period, as lines of the national
//! service's import layout (`filiere_shared::registers`): outgoing, each WEEE batch
//! handed over (one line per waste code); incoming, each collection received as waste.

use super::{admin, parse_stored};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::ApiResult;
use crate::schema::{collections, items, organisations, weee_batches};
use chrono::NaiveDate;
use diesel::prelude::*;
use filiere_shared::documents::leaving_waste_code;
use filiere_shared::registers::{Incoming, Outgoing, Party};
use filiere_shared::*;
use std::collections::{BTreeMap, HashMap};

/// The registers' period and, optionally, one site of the caller's scope.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub site: Option<SiteId>,
}

/// The sites the caller keeps registers for (technicians: their own; coordinators:
/// their region's; admins: all), as parties: each with its operator.
fn sites_of(
    conn: &mut DbConnection,
    actor: &Actor,
    only: Option<SiteId>,
) -> ApiResult<HashMap<i64, (Party, Party)>> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])?;
    let mut out = HashMap::new();
    for s in admin::list_sites(conn, actor)? {
        if only.is_some_and(|o| o != s.id) || !actor.covers_site(s.id, s.region) {
            continue;
        }
        let operator = match s.organisation {
            Some(o) => {
                let (name, siret, address) = organisations::table
                    .find(o.0)
                    .select((
                        organisations::name,
                        organisations::siret,
                        organisations::address,
                    ))
                    .first::<(String, Option<String>, Option<String>)>(conn)?;
                Party {
                    siret,
                    name,
                    address,
                }
            }
            None => Party {
                siret: None,
                name: s.name.clone(),
                address: s.address.clone(),
            },
        };
        let site = Party {
            siret: None,
            name: s.name.clone(),
            address: s.address.clone(),
        };
        out.insert(s.id.0, (operator, site));
    }
    Ok(out)
}

/// Keeps what the national service accepts in an identifier: letters, digits and
/// `-_./`, 36 characters at most.
fn identifier(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_./".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(36)
        .collect()
}

type BatchColumns = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<chrono::NaiveDateTime>,
    String,
    Option<String>,
    Option<String>,
);

/// The WEEE batches handed over in the period: one line per batch and waste code.
/// The period's days and the dispatch dates are the association's (`clock`): a batch
/// handed over at half past midnight in Paris is of that day, not of the day before in
/// UTC.
pub fn outgoing(
    conn: &mut DbConnection,
    actor: &Actor,
    p: Period,
    clock: &crate::clock::Clock,
) -> ApiResult<Vec<Outgoing>> {
    let sites = sites_of(conn, actor, p.site)?;
    let ids: Vec<i64> = sites.keys().copied().collect();
    let from = clock.day_start(p.from).naive_utc();
    let until = clock.day_start(p.to.succ_opt().unwrap_or(p.to)).naive_utc();
    let batches: Vec<BatchColumns> = weee_batches::table
        .inner_join(organisations::table.on(organisations::id.eq(weee_batches::recycler_id)))
        .filter(weee_batches::site_id.eq_any(&ids))
        .filter(weee_batches::status.eq(WeeeBatchStatus::HandedOver.as_str()))
        .filter(weee_batches::handed_over_at.ge(from))
        .filter(weee_batches::handed_over_at.lt(until))
        .order((weee_batches::handed_over_at, weee_batches::id))
        .select((
            weee_batches::id,
            weee_batches::site_id,
            weee_batches::weight_g,
            weee_batches::waste_form_ref,
            weee_batches::handed_over_at,
            organisations::name,
            organisations::siret,
            organisations::address,
        ))
        .load(conn)?;
    let mut out = Vec::new();
    for (id, site, weight, form, at, name, siret, address) in batches {
        let Some((holder, place)) = sites.get(&site) else {
            continue;
        };
        let contents: Vec<(Option<i64>, bool, Option<String>)> = items::table
            .left_join(collections::table)
            .filter(items::weee_batch_id.eq(id))
            .select((
                items::weight_g,
                items::weight_estimated,
                collections::waste_code.nullable(),
            ))
            .load(conn)?;
        // Per waste code: the items' weights, and whether any was estimated.
        let mut by_code: BTreeMap<String, (i64, bool)> = BTreeMap::new();
        for (g, estimated, lot) in &contents {
            let e = by_code
                .entry(leaving_waste_code(lot.as_deref()).to_owned())
                .or_default();
            e.0 += g.unwrap_or(0);
            e.1 |= *estimated || g.is_none();
        }
        let one_code = by_code.len() == 1;
        for (n, (code, (items_g, estimated))) in by_code.into_iter().enumerate() {
            let base = form
                .as_deref()
                .map_or_else(|| format!("DEEE-{id}"), identifier);
            out.push(Outgoing {
                id: if one_code {
                    identifier(&base)
                } else {
                    identifier(&format!(
                        "{}-{}",
                        base.chars().take(32).collect::<String>(),
                        n + 1
                    ))
                },
                holder: holder.clone(),
                site: place.clone(),
                description: format!("DEEE : équipements informatiques et écrans (lot n° {id})"),
                waste_code: code,
                dispatched: at.map(|t| clock.date(t.and_utc())).unwrap_or(p.to),
                // A batch of one code is weighed whole; otherwise its items' weights.
                weight_g: match (one_code, weight) {
                    (true, Some(w)) => w,
                    _ => items_g,
                },
                estimated: !one_code || (weight.is_none() && estimated),
                recycler: Party {
                    siret: siret.clone(),
                    name: name.clone(),
                    address: address.clone(),
                },
            });
        }
    }
    Ok(out)
}

type CollectionColumns = (
    i64,
    i64,
    NaiveDate,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// The collections received as waste in the period (by their pickup date): the
/// weight of what reached the workshop.
pub fn incoming(conn: &mut DbConnection, actor: &Actor, p: Period) -> ApiResult<Vec<Incoming>> {
    let sites = sites_of(conn, actor, p.site)?;
    let ids: Vec<i64> = sites.keys().copied().collect();
    let rows: Vec<CollectionColumns> = collections::table
        .inner_join(organisations::table)
        .filter(collections::site_id.eq_any(&ids))
        .filter(collections::legal_status.eq(LegalStatus::Waste.as_str()))
        .filter(collections::pickup_date.ge(p.from))
        .filter(collections::pickup_date.le(p.to))
        .order((collections::pickup_date, collections::id))
        .select((
            collections::id,
            collections::site_id,
            collections::pickup_date,
            collections::pickup_address,
            collections::reference,
            collections::waste_code,
            organisations::name,
            organisations::siret,
            organisations::address,
        ))
        .load(conn)?;
    let mut out = Vec::new();
    for (id, site, date, pickup, reference, code, name, siret, address) in rows {
        let Some((receiver, _)) = sites.get(&site) else {
            continue;
        };
        let received: Vec<(Option<i64>, bool, String)> = items::table
            .filter(items::collection_id.eq(id))
            .filter(items::origin_id.is_null())
            .select((items::weight_g, items::weight_estimated, items::state))
            .load(conn)?;
        let received: Vec<(Option<i64>, bool)> = received
            .into_iter()
            .filter(|(_, _, state)| {
                parse_stored::<ItemState>(state).is_ok_and(|s| s != ItemState::Collected)
            })
            .map(|(g, e, _)| (g, e))
            .collect();
        if received.is_empty() {
            continue;
        }
        out.push(Incoming {
            id: identifier(
                &reference
                    .clone()
                    .unwrap_or_else(|| format!("COLLECTE-{id}")),
            ),
            receiver: receiver.clone(),
            description: format!(
                "DEEE : équipements informatiques et écrans ({} objet(s))",
                received.len()
            ),
            waste_code: leaving_waste_code(code.as_deref()).to_owned(),
            received: date,
            weight_g: received.iter().map(|(g, _)| g.unwrap_or(0)).sum(),
            estimated: received.iter().any(|(g, e)| *e || g.is_none()),
            sender: Party {
                siret,
                name,
                address,
            },
            pickup_reference: reference,
            pickup_address: pickup,
        });
    }
    Ok(out)
}
