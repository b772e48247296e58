//! WEEE (DEEE) batches: open at a site for a recycler, fill with items waiting for
//! recycling, close with the weighed total, hand over with the waste-tracking form.

use super::items::{lifecycle_of, load_item};
use super::{check, parse_stored, site_region};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{item_events, items, organisations, weee_batches};
use diesel::dsl::count_star;
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::lifecycle::{self, Context, EventPayload};
use filiere_shared::validate;
use filiere_shared::*;

fn staff(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])
}

fn view(conn: &mut DbConnection, b: WeeeBatchRow) -> ApiResult<WeeeBatchView> {
    let recycler_name: String = organisations::table
        .find(b.recycler_id)
        .select(organisations::name)
        .first(conn)?;
    let weights: Vec<Option<i64>> = items::table
        .filter(items::weee_batch_id.eq(b.id))
        .select(items::weight_g)
        .load(conn)?;
    Ok(WeeeBatchView {
        id: WeeeBatchId(b.id),
        site: SiteId(b.site_id),
        recycler: OrgId(b.recycler_id),
        recycler_name,
        status: parse_stored(&b.status)?,
        item_count: weights.len() as i64,
        items_weight_g: weights.iter().flatten().sum(),
        weight_g: b.weight_g,
        waste_form_ref: b.waste_form_ref,
        notes: b.notes,
        opened_at: utc(b.opened_at),
        closed_at: b.closed_at.map(utc),
        handed_over_at: b.handed_over_at.map(utc),
    })
}

fn load(conn: &mut DbConnection, actor: &Actor, id: WeeeBatchId) -> ApiResult<WeeeBatchRow> {
    let row: WeeeBatchRow = weee_batches::table
        .find(id.0)
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::WeeeBatchNotFound))?;
    let region = site_region(conn, SiteId(row.site_id), actor)?;
    if !actor.covers_site(SiteId(row.site_id), region) {
        return Err(actor.err(ErrorCode::WeeeBatchNotFound));
    }
    Ok(row)
}

pub fn open(conn: &mut DbConnection, actor: &Actor, b: &NewWeeeBatch) -> ApiResult<WeeeBatchView> {
    staff(actor)?;
    let region = site_region(conn, b.site, actor)?;
    actor.require_site(b.site, region)?;
    check(actor, validate::opt_text("notes", b.notes.as_deref(), 2000))?;
    let kind: Option<String> = organisations::table
        .find(b.recycler.0)
        .select(organisations::kind)
        .first(conn)
        .optional()?;
    match kind {
        None => return Err(actor.err(ErrorCode::OrganisationNotFound)),
        Some(k) if k != OrgKind::Recycler.as_str() => {
            return Err(actor.err(ErrorCode::InvalidRecipient));
        }
        Some(_) => {}
    }
    let id: i64 = diesel::insert_into(weee_batches::table)
        .values(NewWeeeBatchRow {
            site_id: b.site.0,
            recycler_id: b.recycler.0,
            status: WeeeBatchStatus::Open.as_str(),
            notes: b.notes.as_deref(),
            opened_by: actor.user.0,
            opened_at: now(),
        })
        .returning(weee_batches::id)
        .get_result(conn)?;
    let row = weee_batches::table.find(id).first(conn)?;
    view(conn, row)
}

pub fn get(conn: &mut DbConnection, actor: &Actor, id: WeeeBatchId) -> ApiResult<WeeeBatchView> {
    staff(actor)?;
    let row = load(conn, actor, id)?;
    view(conn, row)
}

/// The items in a batch: code, category, weight.
pub fn items(conn: &mut DbConnection, actor: &Actor, id: WeeeBatchId) -> ApiResult<Vec<WeeeItem>> {
    let b = load(conn, actor, id)?;
    let rows: Vec<(String, String, Option<i64>)> = items::table
        .filter(items::weee_batch_id.eq(b.id))
        .select((items::code, items::category, items::weight_g))
        .order(items::id)
        .load(conn)?;
    rows.into_iter()
        .map(|(code, category, weight_g)| {
            Ok(WeeeItem {
                code: LabelCode::parse(&code).map_err(ApiError::internal)?,
                category: parse_stored(&category)?,
                weight_g,
            })
        })
        .collect()
}

/// An item of a WEEE batch, as the batch's page lists it.
pub struct WeeeItem {
    pub code: LabelCode,
    pub category: Category,
    pub weight_g: Option<i64>,
}

pub fn list(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<WeeeBatchView>> {
    staff(actor)?;
    let rows: Vec<WeeeBatchRow> = weee_batches::table
        .order(weee_batches::id.desc())
        .limit(500)
        .load(conn)?;
    let mut out = Vec::new();
    for r in rows {
        let region = site_region(conn, SiteId(r.site_id), actor)?;
        if actor.covers_site(SiteId(r.site_id), region) {
            out.push(view(conn, r)?);
        }
    }
    Ok(out)
}

pub fn close(
    conn: &mut DbConnection,
    actor: &Actor,
    id: WeeeBatchId,
    c: &CloseWeeeBatch,
) -> ApiResult<WeeeBatchView> {
    staff(actor)?;
    check(
        actor,
        validate::range("weight_g", c.weight_g, 1, 100_000_000),
    )?;
    let row = load(conn, actor, id)?;
    if row.status != WeeeBatchStatus::Open.as_str() {
        return Err(ApiError::refusal(
            &lifecycle::Refusal::WeeeBatchNotOpen {
                batch: id,
                status: parse_stored(&row.status)?,
            },
            actor.lang,
        ));
    }
    let n: i64 = items::table
        .filter(items::weee_batch_id.eq(id.0))
        .select(count_star())
        .first(conn)?;
    if n == 0 {
        return Err(actor.err(ErrorCode::WeeeBatchEmpty));
    }
    diesel::update(weee_batches::table.find(id.0))
        .set((
            weee_batches::status.eq(WeeeBatchStatus::Closed.as_str()),
            weee_batches::weight_g.eq(c.weight_g),
            weee_batches::closed_at.eq(now()),
        ))
        .execute(conn)?;
    let row = weee_batches::table.find(id.0).first(conn)?;
    view(conn, row)
}

/// Hands a closed batch over to the recycler: every item in it becomes `recycled`,
/// with an event each (and each part fitted in them).
pub fn hand_over(
    conn: &mut DbConnection,
    actor: &Actor,
    id: WeeeBatchId,
    h: &HandOverWeeeBatch,
) -> ApiResult<WeeeBatchView> {
    staff(actor)?;
    check(
        actor,
        validate::text("waste_form_ref", &h.waste_form_ref, 100),
    )?;
    let row = load(conn, actor, id)?;
    if row.status != WeeeBatchStatus::Closed.as_str() {
        return Err(actor.err(ErrorCode::WeeeBatchNotClosed));
    }
    let at = now();
    let when = h.handed_over_at.map(truncate).unwrap_or(at);
    let ids: Vec<i64> = items::table
        .filter(items::weee_batch_id.eq(id.0))
        .select(items::id)
        .order(items::id)
        .load(conn)?;
    for item in ids {
        let r = load_item(conn, ItemId(item), actor)?;
        let lc = lifecycle_of(&r)?;
        let mut targets = vec![(r, lc, false)];
        let parts = targets[0].1.parts.clone();
        for p in parts {
            let pr = load_item(conn, p, actor)?;
            let plc = lifecycle_of(&pr)?;
            targets.push((pr, plc, true));
        }
        for (r, lc, with_parent) in targets {
            let payload = EventPayload::Recycled {
                batch: id,
                with_parent,
            };
            let next = lifecycle::apply(&lc, &payload, &Context::default())
                .map_err(|e| ApiError::refusal(&e, actor.lang))?;
            let json = serde_json::to_string(&next).map_err(ApiError::internal)?;
            diesel::update(
                items::table
                    .filter(items::id.eq(r.id))
                    .filter(items::version.eq(r.version)),
            )
            .set((
                items::state.eq(next.state.as_str()),
                items::blocker.eq(super::events::blocker_text(&next)),
                items::lifecycle.eq(json),
                items::version.eq(r.version + 1),
                items::updated_at.eq(at),
            ))
            .execute(conn)?;
            diesel::insert_into(item_events::table)
                .values(NewEventRow {
                    item_id: r.id,
                    event_type: payload.event_type().as_str().to_owned(),
                    payload: serde_json::to_string(&payload).map_err(ApiError::internal)?,
                    actor_id: Some(actor.user.0),
                    bench_id: actor.bench.map(|b| b.0),
                    site_id: r.site_id,
                    occurred_at: when,
                    recorded_at: at,
                    version: r.version + 1,
                    key_owner: None,
                    idempotency_key: None,
                    request_hash: None,
                    response: None,
                    flow: Some(super::events::flow_text(&payload)),
                })
                .execute(conn)?;
        }
    }
    diesel::update(weee_batches::table.find(id.0))
        .set((
            weee_batches::status.eq(WeeeBatchStatus::HandedOver.as_str()),
            weee_batches::waste_form_ref.eq(h.waste_form_ref.trim()),
            weee_batches::handed_over_at.eq(when),
        ))
        .execute(conn)?;
    let row = weee_batches::table.find(id.0).first(conn)?;
    view(conn, row)
}
