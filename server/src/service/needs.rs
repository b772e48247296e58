//! Needs: when nothing in the catalogue fits, a social worker records what the
//! beneficiary needs; a device that becomes ready and fits is pointed out to them.
//! Coordinators see the open needs per category, as counts.

use super::beneficiaries::{load_own, own_org};
use super::catalogue::{fitting, ready_counts, tenths};
use super::{check, check_rule, parse_stored};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::ApiResult;
use crate::models::*;
use crate::schema::{beneficiaries, needs};
use diesel::prelude::*;
use filiere_shared::social::*;
use filiere_shared::validate;
use filiere_shared::*;

/// How many fitting devices a need lists.
const FITTING_SHOWN: i64 = 5;

fn spec_of(row: &NeedRow) -> ApiResult<NeedSpec> {
    Ok(NeedSpec {
        category: parse_stored(&row.category)?,
        min_screen_inches: row.min_screen_tenths.map(|t| t as f32 / 10.0),
        min_ram_gb: row.min_ram_gb.map(|r| r.max(0) as u32),
        storage_type: row.storage_type.clone(),
        min_storage_gb: row.min_storage_gb.map(|s| s.max(0) as u32),
    })
}

fn view(conn: &mut DbConnection, row: NeedRow, with_fitting: bool) -> ApiResult<NeedView> {
    let spec = spec_of(&row)?;
    let reference: String = beneficiaries::table
        .find(row.beneficiary_id)
        .select(beneficiaries::reference)
        .first(conn)?;
    let fitting = if with_fitting && row.closed_at.is_none() {
        fitting(conn, row.region_id, &spec, FITTING_SHOWN)?
    } else {
        Vec::new()
    };
    Ok(NeedView {
        id: NeedId(row.id),
        beneficiary: BeneficiaryId(row.beneficiary_id),
        reference,
        spec,
        created_at: utc(row.created_at),
        closed_at: row.closed_at.map(utc),
        fitting,
    })
}

pub fn create(conn: &mut DbConnection, actor: &Actor, n: &NewNeed) -> ApiResult<NeedView> {
    let org = own_org(actor)?;
    let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
    let spec = n.spec();
    if let Some(s) = spec.min_screen_inches {
        check(
            actor,
            validate::range("min_screen_inches", tenths(s).into(), 70, 400),
        )?;
    }
    if let Some(r) = spec.min_ram_gb {
        check(actor, validate::range("min_ram_gb", r.into(), 1, 256))?;
    }
    if let Some(g) = spec.min_storage_gb {
        check(
            actor,
            validate::range("min_storage_gb", g.into(), 1, 100_000),
        )?;
    }
    check_rule(actor, spec.check())?;
    let b = load_own(conn, actor, n.beneficiary)?;
    if b.erased_at.is_some() {
        return Err(actor.err(ErrorCode::BeneficiaryErased));
    }
    let id: i64 = diesel::insert_into(needs::table)
        .values(NewNeedRow {
            beneficiary_id: b.id,
            organisation_id: org.0,
            region_id: region.0,
            category: spec.category.as_str().to_owned(),
            min_screen_tenths: spec.min_screen_inches.map(tenths),
            min_ram_gb: spec.min_ram_gb.map(|r| r as i32),
            storage_type: spec.storage_type.as_deref().map(|s| s.to_ascii_lowercase()),
            min_storage_gb: spec.min_storage_gb.map(|s| s as i32),
            created_at: now(),
        })
        .returning(needs::id)
        .get_result(conn)?;
    let row = needs::table
        .find(id)
        .select(NeedRow::as_select())
        .first(conn)?;
    view(conn, row, true)
}

/// The caller's organisation's open needs, each with the devices that fit it now.
pub fn list_open(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<NeedView>> {
    let org = own_org(actor)?;
    let rows: Vec<NeedRow> = needs::table
        .filter(needs::organisation_id.eq(org.0))
        .filter(needs::closed_at.is_null())
        .order(needs::id.desc())
        .select(NeedRow::as_select())
        .limit(500)
        .load(conn)?;
    rows.into_iter().map(|r| view(conn, r, true)).collect()
}

pub fn of_beneficiary(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BeneficiaryId,
    include_closed: bool,
) -> ApiResult<Vec<NeedView>> {
    let b = load_own(conn, actor, id)?;
    let mut query = needs::table
        .filter(needs::beneficiary_id.eq(b.id))
        .order(needs::id.desc())
        .select(NeedRow::as_select())
        .into_boxed();
    if !include_closed {
        query = query.filter(needs::closed_at.is_null());
    }
    let rows: Vec<NeedRow> = query.load(conn)?;
    rows.into_iter().map(|r| view(conn, r, true)).collect()
}

/// Closes a need (met, or no longer wanted).
pub fn close(conn: &mut DbConnection, actor: &Actor, id: NeedId) -> ApiResult<NeedView> {
    let org = own_org(actor)?;
    let row: NeedRow = needs::table
        .find(id.0)
        .filter(needs::organisation_id.eq(org.0))
        .select(NeedRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::NeedNotFound))?;
    if row.closed_at.is_none() {
        diesel::update(needs::table.find(row.id))
            .set(needs::closed_at.eq(Some(now())))
            .execute(conn)?;
    }
    let row = needs::table
        .find(id.0)
        .select(NeedRow::as_select())
        .first(conn)?;
    view(conn, row, false)
}

/// Coordinators: the region's open needs per category, beside its ready devices.
pub fn counts(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<NeedCount>> {
    actor.require(&[Role::Coordinator])?;
    let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
    let open: Vec<(String, i64)> = needs::table
        .filter(needs::region_id.eq(region.0))
        .filter(needs::closed_at.is_null())
        .group_by(needs::category)
        .select((needs::category, diesel::dsl::count_star()))
        .load(conn)?;
    let ready = ready_counts(conn, region.0)?;
    let mut out: Vec<NeedCount> = Vec::new();
    for c in Category::ALL
        .iter()
        .filter(|c| c.kind() == ItemKind::Device)
    {
        let needs = open
            .iter()
            .find(|(k, _)| k == c.as_str())
            .map(|(_, n)| *n)
            .unwrap_or(0);
        let ready_devices = ready
            .iter()
            .find(|(k, _)| k == c)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        if needs > 0 || ready_devices > 0 {
            out.push(NeedCount {
                category: *c,
                needs,
                ready_devices,
            });
        }
    }
    Ok(out)
}
