//! Collections: lots picked up at a donor's, with declared vs received counts and
//! weights.

use super::{check, check_rule, parse_stored, site_region};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{collections, items, organisations, sites};
use diesel::dsl::count_star;
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::validate::{self, FieldError};
use filiere_shared::*;

fn view(conn: &mut DbConnection, c: CollectionRow) -> ApiResult<CollectionView> {
    let (donor_name, public_body): (String, bool) = organisations::table
        .find(c.donor_id)
        .select((organisations::name, organisations::public_body))
        .first(conn)?;
    let registered: i64 = items::table
        .filter(items::collection_id.eq(c.id))
        .filter(items::origin_id.is_null())
        .select(count_star())
        .first(conn)?;
    let received: i64 = items::table
        .filter(items::collection_id.eq(c.id))
        .filter(items::origin_id.is_null())
        .filter(items::state.ne(ItemState::Collected.as_str()))
        .select(count_star())
        .first(conn)?;
    // PostgreSQL sums BIGINT as NUMERIC: cast back so both backends give an i64.
    let weight: Option<i64> = items::table
        .filter(items::collection_id.eq(c.id))
        .filter(items::origin_id.is_null())
        .filter(items::state.ne(ItemState::Collected.as_str()))
        .select(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        >("CAST(SUM(weight_g) AS BIGINT)"))
        .first(conn)?;
    let estimated: i64 = items::table
        .filter(items::collection_id.eq(c.id))
        .filter(items::origin_id.is_null())
        .filter(items::state.ne(ItemState::Collected.as_str()))
        .filter(items::weight_estimated.eq(true))
        .select(count_star())
        .first(conn)?;
    Ok(CollectionView {
        id: CollectionId(c.id),
        donor: OrgId(c.donor_id),
        donor_name,
        donor_public_body: public_body,
        site: SiteId(c.site_id),
        pickup_date: c.pickup_date,
        pickup_address: c.pickup_address,
        legal_status: parse_stored(&c.legal_status)?,
        waste_code: c.waste_code,
        reference: c.reference,
        notes: c.notes,
        declared_count: c.declared_count,
        declared_weight_g: c.declared_weight_g,
        registered_count: registered,
        received_count: received,
        received_weight_g: weight.unwrap_or(0),
        estimated_weight_count: estimated,
        status: parse_stored(&c.status)?,
        missing_count: c.missing_count,
        missing_weight_g: c.missing_weight_g,
        closed_at: c.closed_at.map(utc),
        created_at: utc(c.created_at),
    })
}

/// Who may see collections (and what comes with them: imports, documents).
pub fn staff(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    c: &NewCollection,
) -> ApiResult<CollectionView> {
    let id = insert(conn, actor, c)?;
    let row = collections::table.find(id).first(conn)?;
    view(conn, row)
}

/// Checks and writes a planned collection; its id.
pub(super) fn insert(conn: &mut DbConnection, actor: &Actor, c: &NewCollection) -> ApiResult<i64> {
    actor.require(&[Role::Coordinator, Role::Admin])?;
    let region = site_region(conn, c.site, actor)?;
    actor.require_site(c.site, region)?;
    check(
        actor,
        validate::range("declared_count", c.declared_count.into(), 0, 100_000),
    )?;
    if let Some(w) = c.declared_weight_g {
        check(
            actor,
            validate::range("declared_weight_g", w, 0, 100_000_000),
        )?;
    }
    for (f, v, m) in [
        ("pickup_address", &c.pickup_address, 300),
        ("reference", &c.reference, 100),
        ("notes", &c.notes, 2000),
    ] {
        check(actor, validate::opt_text(f, v.as_deref(), m))?;
    }
    let waste_code = match (c.legal_status, &c.waste_code) {
        (LegalStatus::Waste, Some(w)) => {
            check_rule(actor, validate::waste_code("waste_code", w))?;
            Some(w.trim().to_owned())
        }
        (LegalStatus::Waste, None) => {
            return Err(ApiError::rule(
                FieldError::new(
                    "waste_code",
                    "un lot de déchets a un code déchet (16 02 14, 20 01 36…)",
                    "a waste lot has a waste code (16 02 14, 20 01 36…)",
                ),
                actor.lang,
            ));
        }
        (LegalStatus::Reuse, Some(_)) => {
            return Err(ApiError::rule(
                FieldError::new(
                    "waste_code",
                    "un lot pour réemploi n'est pas un déchet : pas de code déchet",
                    "a lot for reuse is not waste: no waste code",
                ),
                actor.lang,
            ));
        }
        (LegalStatus::Reuse, None) => None,
    };
    let kind: Option<String> = organisations::table
        .find(c.donor.0)
        .select(organisations::kind)
        .first(conn)
        .optional()?;
    match kind {
        None => return Err(actor.err(ErrorCode::OrganisationNotFound)),
        Some(k) if k != OrgKind::Donor.as_str() => {
            return Err(actor.err(ErrorCode::InvalidRecipient));
        }
        Some(_) => {}
    }
    let id: i64 = diesel::insert_into(collections::table)
        .values(NewCollectionRow {
            donor_id: c.donor.0,
            site_id: c.site.0,
            pickup_date: c.pickup_date,
            pickup_address: c.pickup_address.as_deref(),
            declared_count: c.declared_count,
            declared_weight_g: c.declared_weight_g,
            legal_status: c.legal_status.as_str(),
            waste_code,
            reference: c.reference.as_deref(),
            notes: c.notes.as_deref(),
            created_by: actor.user.0,
            created_at: now(),
        })
        .returning(collections::id)
        .get_result(conn)?;
    Ok(id)
}

pub fn get(conn: &mut DbConnection, actor: &Actor, id: CollectionId) -> ApiResult<CollectionView> {
    let row = load(conn, actor, id)?;
    view(conn, row)
}

/// A collection of the caller's scope (any other answers as if it did not exist).
fn load(conn: &mut DbConnection, actor: &Actor, id: CollectionId) -> ApiResult<CollectionRow> {
    staff(actor)?;
    let row: CollectionRow = collections::table
        .find(id.0)
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::CollectionNotFound))?;
    let region = site_region(conn, SiteId(row.site_id), actor)?;
    if !actor.covers_site(SiteId(row.site_id), region) {
        return Err(actor.err(ErrorCode::CollectionNotFound));
    }
    Ok(row)
}

/// Closes a collection (its region's coordinator, admins): what was declared and
/// never received is recorded as missing, count and weight, so that declared =
/// received + missing; nothing more is registered on it afterwards.
pub fn close(
    conn: &mut DbConnection,
    actor: &Actor,
    id: CollectionId,
    c: &CloseCollection,
) -> ApiResult<CollectionView> {
    let row = load(conn, actor, id)?;
    actor.require(&[Role::Coordinator, Role::Admin])?;
    check(actor, validate::opt_text("notes", c.notes.as_deref(), 2000))?;
    if row.status != CollectionStatus::Planned.as_str() {
        return Err(actor.err(ErrorCode::CollectionClosed));
    }
    let before = view(conn, row.clone())?;
    let missing_count = (i64::from(before.declared_count) - before.received_count).max(0);
    let missing_weight = before
        .declared_weight_g
        .map(|w| (w - before.received_weight_g).max(0));
    let notes = match (&row.notes, c.notes.as_deref().map(str::trim)) {
        (_, None | Some("")) => row.notes.clone(),
        (None, Some(n)) => Some(n.to_owned()),
        (Some(old), Some(n)) => Some(format!("{old}\n{n}")),
    };
    let n = diesel::update(
        collections::table
            .find(row.id)
            .filter(collections::status.eq(CollectionStatus::Planned.as_str())),
    )
    .set((
        collections::status.eq(CollectionStatus::Closed.as_str()),
        collections::closed_at.eq(Some(now())),
        collections::closed_by.eq(Some(actor.user.0)),
        collections::missing_count.eq(Some(i32::try_from(missing_count).unwrap_or(i32::MAX))),
        collections::missing_weight_g.eq(missing_weight),
        collections::notes.eq(notes),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(actor.err(ErrorCode::CollectionClosed));
    }
    get(conn, actor, id)
}

/// The collections of the caller's scope (a technician's site, a coordinator's
/// region), newest first, of one status or both.
pub fn list_filtered(
    conn: &mut DbConnection,
    actor: &Actor,
    status: Option<CollectionStatus>,
) -> ApiResult<Vec<CollectionView>> {
    staff(actor)?;
    let mut q = collections::table
        .inner_join(sites::table)
        .select(collections::all_columns)
        .order(collections::id.desc())
        .limit(500)
        .into_boxed();
    match actor.role {
        Role::Technician => {
            q = q.filter(collections::site_id.eq(actor.site.map(|s| s.0).unwrap_or(-1)))
        }
        Role::Coordinator => {
            q = q.filter(sites::region_id.eq(actor.region.map(|r| r.0).unwrap_or(-1)))
        }
        _ => {}
    }
    if let Some(s) = status {
        q = q.filter(collections::status.eq(s.as_str()));
    }
    let rows: Vec<CollectionRow> = q.load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}
