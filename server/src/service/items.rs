//! Reading items: views, scope checks, resolving a scan, lists, history.

use super::{normalise, parse_stored, site_region};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::{EventRow, ItemRow, utc};
use crate::on_backend;
use crate::schema::{drives, item_events, items, label_batches, label_codes, sites, users};
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::code::{self, LabelCode, Scan};
use filiere_shared::lifecycle::{EventPayload, Lifecycle};
use filiere_shared::*;
use std::collections::HashMap;

pub fn lifecycle_of(row: &ItemRow) -> ApiResult<Lifecycle> {
    serde_json::from_str(&row.lifecycle).map_err(ApiError::internal)
}

pub fn load_item(conn: &mut DbConnection, id: ItemId, actor: &Actor) -> ApiResult<ItemRow> {
    items::table
        .find(id.0)
        .first::<ItemRow>(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::ItemNotFound))
}

/// What a caller may do with an item they look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Everything (technician of its site, coordinator of its region, admin).
    Full,
    /// A social worker's view of a `ready` device of their region.
    Sale,
}

/// Checks that the caller may see the item; social workers see `ready` devices of
/// their region only, and only their sale fields.
pub fn access(conn: &mut DbConnection, row: &ItemRow, actor: &Actor) -> ApiResult<Access> {
    let region = site_region(conn, SiteId(row.site_id), actor)?;
    match access_in(row, region, actor) {
        // A device reserved for, or sold to, a beneficiary of the social worker's own
        // organisation: its sale fields too.
        Err(e) if actor.role == Role::SocialWorker && row.kind == ItemKind::Device.as_str() => {
            use crate::schema::reservations;
            let org = actor.org.map(|o| o.0).unwrap_or(-1);
            let own: i64 = reservations::table
                .filter(reservations::item_id.eq(row.id))
                .filter(reservations::organisation_id.eq(org))
                .filter(reservations::status.eq_any([
                    ReservationStatus::Active.as_str(),
                    ReservationStatus::Fulfilled.as_str(),
                ]))
                .count()
                .get_result(conn)?;
            if own > 0 { Ok(Access::Sale) } else { Err(e) }
        }
        other => other,
    }
}

/// [`access`], the item's region being known.
pub fn access_in(row: &ItemRow, region: RegionId, actor: &Actor) -> ApiResult<Access> {
    let site = SiteId(row.site_id);
    if actor.covers_site(site, region) {
        return Ok(Access::Full);
    }
    if actor.role == Role::SocialWorker
        && actor.region == Some(region)
        && row.state == ItemState::Ready.as_str()
        && row.kind == ItemKind::Device.as_str()
    {
        return Ok(Access::Sale);
    }
    // Do not reveal that an item exists outside the caller's scope.
    Err(actor.err(ErrorCode::ItemNotFound))
}

pub fn previous_codes(
    conn: &mut DbConnection,
    ids: &[i64],
) -> ApiResult<HashMap<i64, Vec<LabelCode>>> {
    let base = label_codes::table
        .inner_join(items::table.on(label_codes::item_id.eq(items::id.nullable())))
        .filter(label_codes::code.ne(items::code))
        .select((label_codes::code, label_codes::item_id))
        .order(label_codes::claimed_at.asc());
    // One item (the common case) by equality: PostgreSQL's generic plan for `= ANY($1)`
    // may scan the whole table.
    let rows: Vec<(String, Option<i64>)> = match ids {
        [id] => on_backend!(conn, c => base.filter(label_codes::item_id.eq(Some(*id))).load(c))?,
        _ => base
            .filter(label_codes::item_id.eq_any(ids.iter().map(|i| Some(*i))))
            .load(conn)?,
    };
    let mut out: HashMap<i64, Vec<LabelCode>> = HashMap::new();
    for (c, item) in rows {
        if let (Some(item), Ok(code)) = (item, LabelCode::parse(&c)) {
            out.entry(item).or_default().push(code);
        }
    }
    Ok(out)
}

pub fn view(row: &ItemRow, previous: Vec<LabelCode>, lang: Lang) -> ApiResult<ItemView> {
    let lc = lifecycle_of(row)?;
    let blockers = if lc.state == ItemState::Refurbishing {
        lc.blockers_for_ready()
            .iter()
            .map(|r| Blocker {
                code: r.code(),
                message: r.message(lang),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ItemView {
        id: ItemId(row.id),
        code: LabelCode::parse(&row.code).map_err(ApiError::internal)?,
        previous_codes: previous,
        kind: parse_stored(&row.kind)?,
        category: parse_stored(&row.category)?,
        state: parse_stored(&row.state)?,
        version: row.version,
        site: SiteId(row.site_id),
        parent: row.parent_id.map(ItemId),
        origin: row.origin_id.map(ItemId),
        collection: row.collection_id.map(CollectionId),
        brand: row.brand.clone(),
        model: row.model.clone(),
        serial: row.serial.clone(),
        asset_tag: row.asset_tag.clone(),
        specs: serde_json::from_str(&row.specs).map_err(ApiError::internal)?,
        weight_g: row.weight_g,
        weight_estimated: row.weight_estimated,
        route: lc.route,
        drives_declared: lc.drives_declared,
        drives: lc.drives.clone(),
        parts: lc.parts.clone(),
        qa: lc.qa,
        functional_grade: stored_grade(row.functional_grade.as_deref())?,
        cosmetic_grade: stored_grade(row.cosmetic_grade.as_deref())?,
        weee_batch: row.weee_batch_id.map(WeeeBatchId),
        hold: lc.hold.as_deref().cloned(),
        sale: lc.sale.as_deref().cloned(),
        blockers,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    })
}

pub fn stored_grade(grade: Option<&str>) -> ApiResult<Option<Grade>> {
    grade.map(parse_stored).transpose()
}

pub fn sale_view(row: &ItemRow) -> ApiResult<SaleItemView> {
    Ok(SaleItemView {
        id: ItemId(row.id),
        code: LabelCode::parse(&row.code).map_err(ApiError::internal)?,
        category: parse_stored(&row.category)?,
        state: parse_stored(&row.state)?,
        site: SiteId(row.site_id),
        brand: row.brand.clone(),
        model: row.model.clone(),
        specs: serde_json::from_str(&row.specs).map_err(ApiError::internal)?,
        functional_grade: stored_grade(row.functional_grade.as_deref())?,
        cosmetic_grade: stored_grade(row.cosmetic_grade.as_deref())?,
    })
}

/// The full view of one row, with its earlier codes.
pub fn full_view(conn: &mut DbConnection, row: &ItemRow, lang: Lang) -> ApiResult<ItemView> {
    let mut prev = previous_codes(conn, &[row.id])?;
    view(row, prev.remove(&row.id).unwrap_or_default(), lang)
}

pub fn get(conn: &mut DbConnection, id: ItemId, actor: &Actor) -> ApiResult<ItemDetail> {
    let row = load_item(conn, id, actor)?;
    match access(conn, &row, actor)? {
        Access::Full => Ok(ItemDetail::Full(Box::new(full_view(
            conn, &row, actor.lang,
        )?))),
        Access::Sale => Ok(ItemDetail::Sale(Box::new(sale_view(&row)?))),
    }
}

diesel::alias!(label_codes as earlier_labels: EarlierLabels);

/// An item as the hot paths read it in one query: its row, its site's region, and
/// the labels it wore before its current one (oldest first).
pub struct Found {
    pub row: ItemRow,
    pub region: RegionId,
    pub earlier: Vec<LabelCode>,
}

impl Found {
    /// Folds the rows of a query joined with [`earlier_labels`] (one row per earlier
    /// label, or one row with none).
    fn gather(rows: Vec<(ItemRow, i64, Option<String>)>) -> Option<Found> {
        let mut rows = rows.into_iter();
        let (row, region, first) = rows.next()?;
        let earlier = std::iter::once(first)
            .chain(rows.map(|(_, _, code)| code))
            .flatten()
            .filter_map(|c| LabelCode::parse(&c).ok())
            .collect();
        Some(Found {
            row,
            region: RegionId(region),
            earlier,
        })
    }

    /// The item's full view.
    pub fn view(self, lang: Lang) -> ApiResult<ItemView> {
        view(&self.row, self.earlier, lang)
    }
}

type EarlierField<F> = diesel::query_source::AliasedField<EarlierLabels, F>;
/// An earlier label's join condition: the item's, not its current one.
type EarlierOfItem = diesel::dsl::And<
    diesel::dsl::Eq<EarlierField<label_codes::item_id>, diesel::dsl::Nullable<items::id>>,
    diesel::dsl::NotEq<EarlierField<label_codes::code>, items::code>,
>;

/// The labels an item holds but its current one, joined to the item: to be left-joined
/// to a query on `items`.
fn earlier_labels_of_item()
-> diesel::dsl::On<diesel::query_source::Alias<EarlierLabels>, EarlierOfItem> {
    earlier_labels.on(earlier_labels
        .field(label_codes::item_id)
        .eq(items::id.nullable())
        .and(earlier_labels.field(label_codes::code).ne(items::code)))
}

/// What [`Found::gather`] reads: the item, its site's region, an earlier label.
fn found_columns() -> (
    <items::table as diesel::Table>::AllColumns,
    sites::region_id,
    diesel::dsl::Nullable<EarlierField<label_codes::code>>,
) {
    (
        items::all_columns,
        sites::region_id,
        earlier_labels.field(label_codes::code).nullable(),
    )
}

/// The item a label code names (current or replaced label), with its site's region
/// and its earlier labels, in one query; `true` when the code is a replaced label.
pub fn find_by_code(conn: &mut DbConnection, code: &LabelCode) -> ApiResult<Option<(Found, bool)>> {
    let rows: Vec<(ItemRow, i64, Option<String>)> = on_backend!(conn, c => label_codes::table
        .inner_join(items::table.on(label_codes::item_id.eq(items::id.nullable())))
        .inner_join(sites::table.on(sites::id.eq(items::site_id)))
        .left_join(earlier_labels_of_item())
        .filter(label_codes::code.eq(code.as_str()))
        .select(found_columns())
        .order(earlier_labels.field(label_codes::claimed_at).asc())
        .load(c))?;
    Ok(Found::gather(rows).map(|found| {
        let replaced = found.row.code != code.as_str();
        (found, replaced)
    }))
}

/// The item of that id, with its site's region and its earlier labels, in one query.
pub fn find_by_id(conn: &mut DbConnection, id: ItemId) -> ApiResult<Option<Found>> {
    let rows: Vec<(ItemRow, i64, Option<String>)> = on_backend!(conn, c => items::table
        .inner_join(sites::table)
        .left_join(earlier_labels_of_item())
        .filter(items::id.eq(id.0))
        .select(found_columns())
        .order(earlier_labels.field(label_codes::claimed_at).asc())
        .load(c))?;
    Ok(Found::gather(rows))
}

/// Resolves anything scanned or typed: a label code or its URL (with AZERTY
/// recovery), else a manufacturer serial, a donor asset tag or a drive serial.
pub fn resolve(conn: &mut DbConnection, input: &str, actor: &Actor) -> ApiResult<Resolved> {
    let trimmed = input.trim();
    if trimmed.is_empty() || input.chars().count() > 200 {
        return Err(actor.err(ErrorCode::InvalidQuery));
    }
    match code::parse_scan(trimmed) {
        Ok(parsed) => {
            let Scan::Label(code) = parsed.value else {
                return Err(actor.err(ErrorCode::InvalidCode));
            };
            if let Some((found, replaced)) = find_by_code(conn, &code)? {
                return Ok(match access_in(&found.row, found.region, actor)? {
                    Access::Full => Resolved::Item {
                        item: Box::new(found.view(actor.lang)?),
                        replaced,
                        azerty_recovered: parsed.azerty_recovered,
                    },
                    Access::Sale => Resolved::SaleItem {
                        item: Box::new(sale_view(&found.row)?),
                    },
                });
            }
            if actor.role == Role::SocialWorker {
                return Err(actor.err(ErrorCode::ItemNotFound));
            }
            let found: Option<(i64, i32, i64, i64)> = label_codes::table
                .inner_join(label_batches::table)
                .inner_join(sites::table.on(sites::id.eq(label_batches::site_id)))
                .filter(label_codes::code.eq(code.as_str()))
                .select((
                    label_codes::batch_id,
                    label_codes::print_count,
                    label_batches::site_id,
                    sites::region_id,
                ))
                .first(conn)
                .optional()?;
            match found {
                None => Err(actor.err(ErrorCode::CodeUnknown)),
                Some((batch, print_count, site, region)) => {
                    actor.require_site(SiteId(site), RegionId(region))?;
                    Ok(Resolved::UnclaimedCode {
                        code,
                        batch: LabelBatchId(batch),
                        site: SiteId(site),
                        print_count,
                        azerty_recovered: parsed.azerty_recovered,
                    })
                }
            }
        }
        Err(err) => {
            // Not a code: perhaps a serial or asset tag. A string that looks like a
            // mistyped code (8 symbols, wrong check) still gets a clear answer.
            let norm = normalise(trimmed);
            let mut found = if norm.is_empty() {
                Vec::new()
            } else {
                search_identifiers(conn, &norm, actor)?
            };
            if found.is_empty() {
                return Err(match err {
                    code::CodeError::CheckMismatch => actor.err(ErrorCode::CodeCheckFailed),
                    _ if looks_like_code(trimmed) => actor.err(ErrorCode::InvalidCode),
                    _ => actor.err(ErrorCode::NothingFound),
                });
            }
            found.sort_by_key(|v| v.id);
            Ok(Resolved::Matches { items: found })
        }
    }
}

fn looks_like_code(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| *c != '-' && *c != ' ').collect();
    compact.len() == 8 && compact.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Items whose manufacturer serial, asset tag or drive serial is `norm`, within scope.
fn search_identifiers(
    conn: &mut DbConnection,
    norm: &str,
    actor: &Actor,
) -> ApiResult<Vec<ItemView>> {
    if actor.role == Role::SocialWorker {
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = items::table
        .filter(
            items::serial_norm
                .eq(norm)
                .or(items::asset_tag_norm.eq(norm)),
        )
        .select(items::id)
        .limit(50)
        .load(conn)?;
    let by_drive: Vec<i64> = drives::table
        .filter(drives::serial_norm.eq(norm))
        .select(drives::item_id)
        .limit(50)
        .load(conn)?;
    ids.extend(by_drive);
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<ItemRow> = items::table.filter(items::id.eq_any(&ids)).load(conn)?;
    let mut out = Vec::new();
    let mut prev = previous_codes(conn, &ids)?;
    for row in rows {
        if access(conn, &row, actor).ok() == Some(Access::Full) {
            let p = prev.remove(&row.id).unwrap_or_default();
            out.push(view(&row, p, actor.lang)?);
        }
    }
    Ok(out)
}

/// Items with filters and keyset pagination, within the caller's scope.
pub fn list(conn: &mut DbConnection, q: &ItemQuery, actor: &Actor) -> ApiResult<ItemListing> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidQuery)
            .with_message(
                actor
                    .lang
                    .pick("limit : entre 1 et 500", "limit: between 1 and 500"),
            )
            .in_lang(actor.lang));
    }
    let mut query = items::table
        .inner_join(sites::table)
        .select(items::all_columns)
        .order(items::id.asc())
        .limit(limit + 1)
        .into_boxed();
    match actor.role {
        Role::Admin => {}
        Role::Technician => {
            let site = actor.site.ok_or_else(|| actor.out_of_scope())?;
            query = query.filter(items::site_id.eq(site.0));
        }
        Role::Coordinator => {
            let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
            query = query.filter(sites::region_id.eq(region.0));
        }
        Role::SocialWorker => {
            let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
            if q.state.is_some_and(|s| s != ItemState::Ready)
                || q.kind == Some(ItemKind::Part)
                || q.collection.is_some()
            {
                return Err(actor.out_of_scope());
            }
            query = query
                .filter(sites::region_id.eq(region.0))
                .filter(items::state.eq(ItemState::Ready.as_str()))
                .filter(items::kind.eq(ItemKind::Device.as_str()));
        }
    }
    if let Some(s) = q.state {
        query = query.filter(items::state.eq(s.as_str()));
    }
    if let Some(s) = q.site {
        query = query.filter(items::site_id.eq(s.0));
    }
    if let Some(r) = q.region {
        query = query.filter(sites::region_id.eq(r.0));
    }
    if let Some(k) = q.kind {
        query = query.filter(items::kind.eq(k.as_str()));
    }
    if let Some(c) = q.category {
        query = query.filter(items::category.eq(c.as_str()));
    }
    if let Some(g) = q.grade {
        query = query.filter(items::functional_grade.eq(g.as_str()));
    }
    if let Some(c) = q.collection {
        query = query.filter(items::collection_id.eq(c.0));
    }
    if let Some(a) = q.after {
        query = query.filter(items::id.gt(a.0));
    }
    let mut rows: Vec<ItemRow> = query.load(conn)?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| ItemId(r.id))
    } else {
        None
    };
    if actor.role == Role::SocialWorker {
        let items = rows.iter().map(sale_view).collect::<ApiResult<Vec<_>>>()?;
        return Ok(ItemListing::Sale(SaleItemPage { items, next_cursor }));
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut prev = previous_codes(conn, &ids)?;
    let items = rows
        .iter()
        .map(|r| view(r, prev.remove(&r.id).unwrap_or_default(), actor.lang))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ItemListing::Full(ItemPage { items, next_cursor }))
}

pub fn event_view(row: &EventRow, actor_name: Option<String>) -> ApiResult<EventView> {
    Ok(EventView {
        id: EventId(row.id),
        item: ItemId(row.item_id),
        payload: serde_json::from_str(&row.payload).map_err(ApiError::internal)?,
        actor: row.actor_id.map(UserId),
        actor_name,
        bench: row.bench_id.map(BenchId),
        site: SiteId(row.site_id),
        occurred_at: utc(row.occurred_at),
        recorded_at: utc(row.recorded_at),
        version: row.version,
    })
}

/// An item's whole history, oldest first, with its parts' comings and goings.
pub fn history(conn: &mut DbConnection, id: ItemId, actor: &Actor) -> ApiResult<HistoryView> {
    let row = load_item(conn, id, actor)?;
    if access(conn, &row, actor)? != Access::Full {
        return Err(actor.err(ErrorCode::ItemNotFound));
    }
    let rows: Vec<(EventRow, Option<String>)> = item_events::table
        .left_join(users::table)
        .filter(item_events::item_id.eq(id.0))
        .order(item_events::id.asc())
        .select((item_events::all_columns, users::display_name.nullable()))
        .load(conn)?;
    let events = rows
        .into_iter()
        .map(|(r, name)| event_view(&r, name))
        .collect::<ApiResult<Vec<_>>>()?;
    let mut links = Vec::new();
    for e in &events {
        let link = match &e.payload {
            EventPayload::PartHarvested { part, .. } => Some((GenealogyRelation::Harvested, *part)),
            EventPayload::PartFitted { part, .. } => Some((GenealogyRelation::Fitted, *part)),
            EventPayload::PartRemoved { part } => Some((GenealogyRelation::Removed, *part)),
            EventPayload::Registered {
                origin: Some(o), ..
            } => Some((GenealogyRelation::HarvestedFrom, *o)),
            EventPayload::FittedInto { device } => Some((GenealogyRelation::FittedInto, *device)),
            EventPayload::RemovedFrom { device, .. } => {
                Some((GenealogyRelation::RemovedFrom, *device))
            }
            _ => None,
        };
        if let Some((relation, other)) = link {
            links.push((e, relation, other));
        }
    }
    let other_ids: Vec<i64> = links.iter().map(|(_, _, o)| o.0).collect();
    let others: HashMap<i64, (String, String)> = items::table
        .filter(items::id.eq_any(&other_ids))
        .select((items::id, items::code, items::category))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(i, c, k)| (i, (c, k)))
        .collect();
    let mut genealogy = Vec::new();
    for (e, relation, other) in links {
        if let Some((c, k)) = others.get(&other.0) {
            genealogy.push(GenealogyEntry {
                event: e.id,
                relation,
                other,
                other_code: LabelCode::parse(c).map_err(ApiError::internal)?,
                other_category: parse_stored(k)?,
                at: e.occurred_at,
                actor_name: e.actor_name.clone(),
            });
        }
    }
    Ok(HistoryView {
        item: id,
        events,
        genealogy,
    })
}
