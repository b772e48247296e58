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
        .select(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        >("CAST(SUM(weight_g) AS BIGINT)"))
        .first(conn)?;
    let estimated: i64 = items::table
        .filter(items::collection_id.eq(c.id))
        .filter(items::origin_id.is_null())
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
        created_at: utc(c.created_at),
    })
}

fn staff(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    c: &NewCollection,
) -> ApiResult<CollectionView> {
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
    let row = collections::table.find(id).first(conn)?;
    view(conn, row)
}

pub fn get(conn: &mut DbConnection, actor: &Actor, id: CollectionId) -> ApiResult<CollectionView> {
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
    view(conn, row)
}

pub fn list(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<CollectionView>> {
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
    let rows: Vec<CollectionRow> = q.load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}
