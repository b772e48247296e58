//! Label batches: blocks of fresh codes allocated to a site or a bench.

use super::{check, site_region};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{benches, label_batches, label_codes, sites};
use diesel::dsl::count_star;
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::validate;
use filiere_shared::*;
use rand::Rng;

/// Draws a fresh code: 7 random symbols, drawn again while the check symbol would fall
/// outside the alphabet or the code has no digit (so that an AZERTY mix-up always shows).
pub fn draw_code(rng: &mut impl Rng) -> LabelCode {
    loop {
        let mut body = [0u8; 7];
        for s in &mut body {
            *s = rng.random_range(0..32);
        }
        if let Some(code) = LabelCode::from_symbols(body)
            && code.is_scanner_safe()
        {
            return code;
        }
    }
}

fn staff(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])
}

pub fn allocate(
    conn: &mut DbConnection,
    actor: &Actor,
    b: &NewLabelBatch,
) -> ApiResult<LabelBatchView> {
    staff(actor)?;
    check(actor, validate::range("count", b.count.into(), 1, 10_000))?;
    let region = site_region(conn, b.site, actor)?;
    actor.require_site(b.site, region)?;
    if let Some(bench) = b.bench {
        let site: Option<i64> = benches::table
            .find(bench.0)
            .select(benches::site_id)
            .first(conn)
            .optional()?;
        match site {
            None => return Err(actor.err(ErrorCode::BenchNotFound)),
            Some(s) if s != b.site.0 => return Err(actor.out_of_scope()),
            Some(_) => {}
        }
    }
    let at = now();
    let id: i64 = diesel::insert_into(label_batches::table)
        .values(NewLabelBatchRow {
            site_id: b.site.0,
            bench_id: b.bench.map(|x| x.0),
            count: b.count,
            created_by: actor.user.0,
            created_at: at,
        })
        .returning(label_batches::id)
        .get_result(conn)?;
    let mut rng = rand::rng();
    let mut codes = Vec::with_capacity(b.count as usize);
    while codes.len() < b.count as usize {
        let code = draw_code(&mut rng);
        let taken: Option<String> = label_codes::table
            .find(code.as_str())
            .select(label_codes::code)
            .first(conn)
            .optional()?;
        if taken.is_some() || codes.contains(&code) {
            continue;
        }
        diesel::insert_into(label_codes::table)
            .values(NewLabelCodeRow {
                code: code.as_str().to_owned(),
                batch_id: id,
                item_id: None,
                claimed_at: None,
                print_count: 0,
            })
            .execute(conn)?;
        codes.push(code);
    }
    Ok(LabelBatchView {
        id: LabelBatchId(id),
        site: b.site,
        bench: b.bench,
        count: b.count,
        unclaimed: b.count.into(),
        created_at: utc(at),
        codes,
    })
}

/// Label batches of the caller's scope, each with its unclaimed codes.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    site: Option<SiteId>,
) -> ApiResult<Vec<LabelBatchView>> {
    staff(actor)?;
    let mut q = label_batches::table
        .inner_join(sites::table)
        .select(label_batches::all_columns)
        .order(label_batches::id.desc())
        .limit(200)
        .into_boxed();
    match actor.role {
        Role::Technician => {
            q = q.filter(label_batches::site_id.eq(actor.site.map(|s| s.0).unwrap_or(-1)))
        }
        Role::Coordinator => {
            q = q.filter(sites::region_id.eq(actor.region.map(|r| r.0).unwrap_or(-1)))
        }
        _ => {}
    }
    if let Some(s) = site {
        q = q.filter(label_batches::site_id.eq(s.0));
    }
    let rows: Vec<LabelBatchRow> = q.load(conn)?;
    let mut out = Vec::new();
    for r in rows {
        let codes: Vec<String> = label_codes::table
            .filter(label_codes::batch_id.eq(r.id))
            .filter(label_codes::item_id.is_null())
            .select(label_codes::code)
            .order(label_codes::code)
            .load(conn)?;
        let unclaimed: i64 = label_codes::table
            .filter(label_codes::batch_id.eq(r.id))
            .filter(label_codes::item_id.is_null())
            .select(count_star())
            .first(conn)?;
        out.push(LabelBatchView {
            id: LabelBatchId(r.id),
            site: SiteId(r.site_id),
            bench: r.bench_id.map(BenchId),
            count: r.count,
            unclaimed,
            created_at: utc(r.created_at),
            codes: codes
                .iter()
                .map(|c| LabelCode::parse(c).map_err(ApiError::internal))
                .collect::<ApiResult<_>>()?,
        });
    }
    Ok(out)
}
