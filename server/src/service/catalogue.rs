//! The catalogue social workers reserve from: the `ready` devices of their region, with
//! the specs they filter on kept in a table of their own (indexed, so that a filter
//! over a million items stays fast), in step with every step that makes a device
//! ready or takes it out of `ready`.

use super::items::{lifecycle_of, sale_view, stored_grade};
use super::parse_stored;
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::{CatalogueRow, ItemRow, SiteRow, utc};
use crate::schema::{catalogue, erasure_records, items, qa_reports, reservations, sites};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use filiere_shared::api::Specs;
use filiere_shared::social::*;
use filiere_shared::*;

/// Keeps item `id`'s catalogue row in step with its row: present while it is a
/// `ready` device, with its current site, specs and grades.
pub fn sync(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> ApiResult<()> {
    diesel::delete(catalogue::table.find(id)).execute(conn)?;
    let found: Option<(ItemRow, i64)> = items::table
        .inner_join(sites::table)
        .filter(items::id.eq(id))
        .select((items::all_columns, sites::region_id))
        .first(conn)
        .optional()?;
    let Some((row, region)) = found else {
        return Ok(());
    };
    if row.state != ItemState::Ready.as_str() || row.kind != ItemKind::Device.as_str() {
        return Ok(());
    }
    let specs: Specs = serde_json::from_str(&row.specs).map_err(ApiError::internal)?;
    diesel::insert_into(catalogue::table)
        .values(CatalogueRow {
            item_id: row.id,
            region_id: region,
            site_id: row.site_id,
            category: row.category.clone(),
            screen_tenths: specs.screen_inches.map(tenths).unwrap_or(0),
            ram_gb: specs.ram_gb.map(|r| r as i32).unwrap_or(0),
            storage_type: specs
                .storage_type
                .as_deref()
                .map(|s| s.trim().to_ascii_lowercase()),
            storage_gb: specs.storage_gb.map(|s| s as i32).unwrap_or(0),
            functional_grade: row.functional_grade.clone(),
            cosmetic_grade: row.cosmetic_grade.clone(),
            ready_at: at,
        })
        .execute(conn)?;
    Ok(())
}

/// Inches as whole tenths, as the catalogue stores and compares them.
pub fn tenths(inches: f32) -> i32 {
    (inches * 10.0).round() as i32
}

/// The catalogue query's bounds, as the document states them.
pub const MIN_SCREEN: f64 = 1.0;
pub const MAX_SCREEN: f64 = 120.0;
pub const MAX_RAM_GB: u32 = 4096;
pub const MAX_STORAGE_GB: u32 = 1_000_000;

/// Matches counted exactly up to this many.
pub const COUNT_CAP: i64 = 1000;

fn region_of(actor: &Actor) -> ApiResult<RegionId> {
    actor.region.ok_or_else(|| actor.out_of_scope())
}

/// Who may browse: social workers (their region), coordinators (their region), admins
/// (every region, or `site`'s).
fn browse_scope(actor: &Actor) -> ApiResult<Option<RegionId>> {
    match actor.role {
        Role::SocialWorker | Role::Coordinator => region_of(actor).map(Some),
        Role::Admin => Ok(None),
        Role::Technician => Err(actor.err(ErrorCode::Forbidden)),
    }
}

fn bad_query(actor: &Actor, fr: &str, en: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery)
        .with_message(actor.lang.pick(fr, en))
        .in_lang(actor.lang)
}

/// The devices that match `q`, a page of them, with how many match in all.
pub fn search(
    conn: &mut DbConnection,
    q: &CatalogueQuery,
    actor: &Actor,
) -> ApiResult<CataloguePage> {
    let region = browse_scope(actor)?;
    let per_page = q.per_page.unwrap_or(20);
    if !(1..=100).contains(&per_page) {
        return Err(bad_query(
            actor,
            "per_page : entre 1 et 100",
            "per_page: between 1 and 100",
        ));
    }
    let page = q.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(bad_query(actor, "page : à partir de 1", "page: from 1"));
    }
    // The bounds the document states for each parameter.
    if q.min_screen
        .is_some_and(|s| !(MIN_SCREEN..=MAX_SCREEN).contains(&s))
    {
        return Err(bad_query(
            actor,
            "min_screen : entre 1 et 120",
            "min_screen: between 1 and 120",
        ));
    }
    if q.min_ram_gb.is_some_and(|r| r > MAX_RAM_GB) {
        return Err(bad_query(
            actor,
            "min_ram_gb : 4096 au plus",
            "min_ram_gb: at most 4096",
        ));
    }
    if q.min_storage_gb.is_some_and(|s| s > MAX_STORAGE_GB) {
        return Err(bad_query(
            actor,
            "min_storage_gb : 1 000 000 au plus",
            "min_storage_gb: at most 1,000,000",
        ));
    }
    if q.storage_type
        .as_deref()
        .is_some_and(|s| s.chars().count() > 50)
    {
        return Err(bad_query(
            actor,
            "storage_type : 50 caractères au plus",
            "storage_type: at most 50 characters",
        ));
    }
    macro_rules! filtered {
        () => {{
            let mut query = catalogue::table.into_boxed();
            if let Some(r) = region {
                query = query.filter(catalogue::region_id.eq(r.0));
            }
            if let Some(c) = q.category {
                query = query.filter(catalogue::category.eq(c.as_str()));
            }
            if let Some(s) = q.min_screen {
                query = query.filter(catalogue::screen_tenths.ge(tenths(s as f32)));
            }
            if let Some(r) = q.min_ram_gb {
                query = query.filter(catalogue::ram_gb.ge(r as i32));
            }
            if let Some(t) = q
                .storage_type
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
            {
                query = query.filter(catalogue::storage_type.eq(t.to_ascii_lowercase()));
            }
            if let Some(s) = q.min_storage_gb {
                query = query.filter(catalogue::storage_gb.ge(s as i32));
            }
            // Grades are `a` (best) to `c`: "this grade or better" is "at most".
            if let Some(g) = q.grade {
                query = query.filter(catalogue::functional_grade.le(g.as_str()));
            }
            if let Some(g) = q.cosmetic_grade {
                query = query.filter(catalogue::cosmetic_grade.le(g.as_str()));
            }
            if let Some(s) = q.site {
                query = query.filter(catalogue::site_id.eq(s.0));
            }
            query
        }};
    }
    // Counted up to a cap: past it, "more than 1,000" says enough, and the count
    // stays as fast as a page however large the region's stock.
    let counted: Vec<i64> = filtered!()
        .select(catalogue::item_id)
        .limit(COUNT_CAP + 1)
        .load(conn)?;
    let more = counted.len() as i64 > COUNT_CAP;
    let total = (counted.len() as i64).min(COUNT_CAP);
    let mut query = filtered!().select(catalogue::item_id);
    query = match q.sort.unwrap_or(CatalogueSort::Recent) {
        CatalogueSort::Recent => {
            query.order((catalogue::ready_at.desc(), catalogue::item_id.desc()))
        }
        CatalogueSort::Ram => query.order((catalogue::ram_gb.desc(), catalogue::item_id.desc())),
        CatalogueSort::Screen => {
            query.order((catalogue::screen_tenths.desc(), catalogue::item_id.desc()))
        }
        CatalogueSort::Storage => {
            query.order((catalogue::storage_gb.desc(), catalogue::item_id.desc()))
        }
    };
    let ids: Vec<i64> = query
        .limit(i64::from(per_page))
        .offset(i64::from(page - 1) * i64::from(per_page))
        .load(conn)?;
    let items = entries(conn, &ids)?;
    Ok(CataloguePage {
        items,
        total,
        more,
        page,
        per_page,
    })
}

/// The catalogue entries of `ids`, in that order, with their region's price.
pub fn entries(conn: &mut DbConnection, ids: &[i64]) -> ApiResult<Vec<CatalogueEntry>> {
    let rows: Vec<(ItemRow, String, i64)> = items::table
        .inner_join(sites::table)
        .filter(items::id.eq_any(ids))
        .select((items::all_columns, sites::name, sites::region_id))
        .load(conn)?;
    let mut prices = std::collections::HashMap::new();
    let mut regions: Vec<i64> = rows.iter().map(|r| r.2).collect();
    regions.sort_unstable();
    regions.dedup();
    for region in regions {
        let devices = rows
            .iter()
            .filter(|r| r.2 == region)
            .map(|(r, _, _)| {
                Ok((
                    r.id,
                    parse_stored(&r.category)?,
                    stored_grade(r.cosmetic_grade.as_deref())?,
                ))
            })
            .collect::<ApiResult<Vec<_>>>()?;
        prices.extend(super::sales::prices_of(conn, RegionId(region), &devices)?);
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some((row, site_name, _)) = rows.iter().find(|(r, _, _)| r.id == *id) {
            out.push(CatalogueEntry {
                item: sale_view(row)?,
                site_name: site_name.clone(),
                price_cents: prices.get(id).copied(),
            });
        }
    }
    Ok(out)
}

pub fn place(s: SiteRow) -> SitePlace {
    SitePlace {
        id: SiteId(s.id),
        name: s.name,
        address: s.address,
        opening_hours: s.opening_hours,
    }
}

/// A device's catalogue page: a `ready` device of the caller's region, or one
/// reserved for or sold to their organisation's beneficiary.
pub fn device(conn: &mut DbConnection, id: ItemId, actor: &Actor) -> ApiResult<CatalogueDevice> {
    let region = browse_scope(actor)?;
    let found: Option<(ItemRow, SiteRow)> = items::table
        .inner_join(sites::table)
        .filter(items::id.eq(id.0))
        .select((items::all_columns, sites::all_columns))
        .first(conn)
        .optional()?;
    let not_found = || actor.err(ErrorCode::ItemNotFound);
    let (row, site) = found.ok_or_else(not_found)?;
    if region.is_some_and(|r| r.0 != site.region_id) || row.kind != ItemKind::Device.as_str() {
        return Err(not_found());
    }
    let state: ItemState = parse_stored(&row.state)?;
    let own_reservation: Option<i64> = match actor.org {
        Some(org) => reservations::table
            .filter(reservations::item_id.eq(row.id))
            .filter(reservations::organisation_id.eq(org.0))
            .filter(reservations::status.eq_any([
                ReservationStatus::Active.as_str(),
                ReservationStatus::Fulfilled.as_str(),
            ]))
            .select(reservations::id)
            .order(reservations::id.desc())
            .first(conn)
            .optional()?,
        None => None,
    };
    let visible = state == ItemState::Ready
        || own_reservation.is_some()
        || (actor.role != Role::SocialWorker && state == ItemState::Reserved);
    if !visible {
        return Err(not_found());
    }
    let lc = lifecycle_of(&row)?;
    let os_installed: Option<String> = qa_reports::table
        .filter(qa_reports::item_id.eq(row.id))
        .filter(qa_reports::voided_by.is_null())
        .order(qa_reports::id.desc())
        .select(qa_reports::os_installed)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    let erased_at: Option<NaiveDateTime> = if lc.drives.is_empty() {
        None
    } else {
        erasure_records::table
            .filter(erasure_records::item_id.eq(row.id))
            .filter(erasure_records::voided_by.is_null())
            .select(diesel::dsl::max(erasure_records::ended_at))
            .first(conn)?
    };
    let price = super::sales::prices_of(
        conn,
        RegionId(site.region_id),
        &[(
            row.id,
            parse_stored(&row.category)?,
            stored_grade(row.cosmetic_grade.as_deref())?,
        )],
    )?
    .get(&row.id)
    .copied();
    Ok(CatalogueDevice {
        price_cents: price,
        item: sale_view(&row)?,
        os_installed,
        erased_at: erased_at.map(utc),
        site: place(site),
        reservation: own_reservation.map(ReservationId),
    })
}

/// The ready devices of `region` that fit `need`, newest first (at most `limit`).
pub fn fitting(
    conn: &mut DbConnection,
    region: i64,
    need: &NeedSpec,
    limit: i64,
) -> ApiResult<Vec<CatalogueEntry>> {
    let mut query = catalogue::table
        .filter(catalogue::region_id.eq(region))
        .filter(catalogue::category.eq(need.category.as_str()))
        .select(catalogue::item_id)
        .order((catalogue::ready_at.desc(), catalogue::item_id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(s) = need.min_screen_inches {
        query = query.filter(catalogue::screen_tenths.ge(tenths(s)));
    }
    if let Some(r) = need.min_ram_gb {
        query = query.filter(catalogue::ram_gb.ge(r as i32));
    }
    if let Some(t) = &need.storage_type {
        query = query.filter(catalogue::storage_type.eq(t.trim().to_ascii_lowercase()));
    }
    if let Some(s) = need.min_storage_gb {
        query = query.filter(catalogue::storage_gb.ge(s as i32));
    }
    let ids: Vec<i64> = query.load(conn)?;
    entries(conn, &ids)
}

/// How many ready devices of `region` there are per category.
pub fn ready_counts(conn: &mut DbConnection, region: i64) -> ApiResult<Vec<(Category, i64)>> {
    let rows: Vec<(String, i64)> = catalogue::table
        .filter(catalogue::region_id.eq(region))
        .group_by(catalogue::category)
        .select((catalogue::category, diesel::dsl::count_star()))
        .load(conn)?;
    rows.into_iter()
        .map(|(c, n)| Ok((parse_stored(&c)?, n)))
        .collect()
}
