//! A donor's asset list imported into an open collection: previewed (every line's
//! problem with its number, what is new, what is already there) before anything is
//! written; then, if no line is refused, a batch of codes allocated for the new items
//! and each one pre-registered as `collected`, a few lines per transaction so that a
//! page can follow a large file. An item already in the collection (same asset tag or
//! serial number) is left as it is: the same file imported twice changes nothing.

use super::{collections, events, labels, normalise, parse_stored};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{asset_imports, items};
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::assets::*;
use filiere_shared::lifecycle::DriveSpec;
use filiere_shared::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;

/// The largest list taken (10,000 lines of a wide spreadsheet fit).
pub const FILE_LIMIT: usize = 5 * 1024 * 1024;

/// Lines registered per transaction.
pub const CHUNK: usize = 50;

/// A line waiting to be registered, with the code allocated to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    code: String,
    line: AssetLine,
}

/// The asset tags and serial numbers already in the collection, normalised.
fn known(conn: &mut DbConnection, id: CollectionId) -> ApiResult<HashSet<String>> {
    let rows: Vec<(Option<String>, Option<String>)> = items::table
        .filter(items::collection_id.eq(id.0))
        .filter(items::origin_id.is_null())
        .select((items::asset_tag_norm, items::serial_norm))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .flat_map(|(t, s)| [t.map(|t| format!("t:{t}")), s.map(|s| format!("s:{s}"))])
        .flatten()
        .collect())
}

fn is_known(known: &HashSet<String>, l: &AssetLine) -> bool {
    match (&l.asset_tag, &l.serial) {
        (Some(t), _) => known.contains(&format!("t:{}", normalise(t))),
        (None, Some(s)) => known.contains(&format!("s:{}", normalise(s))),
        (None, None) => false,
    }
}

/// An open collection of the caller's scope (technicians of its site, the region's
/// coordinator, admins).
fn open_collection(
    conn: &mut DbConnection,
    actor: &Actor,
    id: CollectionId,
) -> ApiResult<CollectionView> {
    let c = collections::get(conn, actor, id)?;
    if c.status != CollectionStatus::Planned {
        return Err(actor.err(ErrorCode::CollectionClosed));
    }
    Ok(c)
}

/// A list refused, with every problem.
pub fn refused(problems: &[LineProblem], lang: Lang) -> ApiError {
    ApiError::new(ErrorCode::AssetListRefused)
        .with_details(json!({ "problems": problems }))
        .in_lang(lang)
}

/// What importing `file` would do; writes nothing.
pub fn preview(
    conn: &mut DbConnection,
    actor: &Actor,
    id: CollectionId,
    file: &[u8],
) -> ApiResult<AssetPreview> {
    open_collection(conn, actor, id)?;
    Ok(match parse(file, actor.lang) {
        Ok(lines) => {
            let known = known(conn, id)?;
            let already: Vec<usize> = lines
                .iter()
                .filter(|l| is_known(&known, l))
                .map(|l| l.line)
                .collect();
            AssetPreview {
                collection: id,
                lines: lines.len(),
                new: lines.len() - already.len(),
                already,
                problems: Vec::new(),
            }
        }
        Err(problems) => AssetPreview {
            collection: id,
            lines: 0,
            new: 0,
            already: Vec::new(),
            problems,
        },
    })
}

/// Starts the import: refused, with every problem, unless each line is right; else
/// the codes allocated and the lines kept to register. Nothing to add: done at once.
pub fn start(
    conn: &mut DbConnection,
    actor: &Actor,
    id: CollectionId,
    file: &[u8],
) -> ApiResult<AssetImportView> {
    let c = open_collection(conn, actor, id)?;
    let lines = parse(file, actor.lang).map_err(|problems| refused(&problems, actor.lang))?;
    let known = known(conn, id)?;
    let (already, new): (Vec<AssetLine>, Vec<AssetLine>) =
        lines.into_iter().partition(|l| is_known(&known, l));
    let batch = if new.is_empty() {
        None
    } else {
        Some(labels::allocate(
            conn,
            actor,
            &NewLabelBatch {
                site: c.site,
                count: new.len() as i32,
                bench: None,
            },
        )?)
    };
    let pending: Vec<Pending> = match &batch {
        Some(b) => new
            .into_iter()
            .zip(&b.codes)
            .map(|(line, code)| Pending {
                code: code.as_str().to_owned(),
                line,
            })
            .collect(),
        None => Vec::new(),
    };
    let status = if pending.is_empty() {
        ImportStatus::Done
    } else {
        ImportStatus::Running
    };
    let lines_json = serde_json::to_string(&pending).map_err(ApiError::internal)?;
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(file));
    let new_id: i64 = diesel::insert_into(asset_imports::table)
        .values(NewAssetImportRow {
            collection_id: id.0,
            created_by: actor.user.0,
            created_at: now(),
            file_sha256: &sha,
            total: pending.len() as i32,
            done: 0,
            already: already.len() as i32,
            status: status.as_str(),
            label_batch_id: batch.as_ref().map(|b| b.id.0),
            lines: &lines_json,
        })
        .returning(asset_imports::id)
        .get_result(conn)?;
    view(
        asset_imports::table
            .find(new_id)
            .select(AssetImportRow::as_select())
            .first(conn)?,
    )
}

fn view(r: AssetImportRow) -> ApiResult<AssetImportView> {
    Ok(AssetImportView {
        id: r.id,
        collection: CollectionId(r.collection_id),
        status: parse_stored(&r.status)?,
        total: r.total,
        done: r.done,
        already: r.already,
        label_batch: r.label_batch_id.map(LabelBatchId),
        error: r.error,
    })
}

/// An import, for the staff of its collection.
pub fn get(conn: &mut DbConnection, actor: &Actor, id: i64) -> ApiResult<AssetImportView> {
    collections::staff(actor)?;
    let row: AssetImportRow = asset_imports::table
        .find(id)
        .select(AssetImportRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::ImportNotFound))?;
    collections::get(conn, actor, CollectionId(row.collection_id))
        .map_err(|_| actor.err(ErrorCode::ImportNotFound))?;
    view(row)
}

/// Registers the next lines of a running import, as the one who started it; `true`
/// while lines are left. A line whose asset tag or serial came into the collection in
/// the meantime is left aside.
pub fn step(conn: &mut DbConnection, actor: &Actor, id: i64, chunk: usize) -> ApiResult<bool> {
    let row: AssetImportRow = asset_imports::table
        .find(id)
        .select(AssetImportRow::as_select())
        .first(conn)?;
    if row.status != ImportStatus::Running.as_str() {
        return Ok(false);
    }
    let pending: Vec<Pending> = serde_json::from_str(&row.lines).map_err(ApiError::internal)?;
    let from = row.done.max(0) as usize;
    let to = (from + chunk).min(pending.len());
    let collection = CollectionId(row.collection_id);
    let mut known = known(conn, collection)?;
    for p in &pending[from..to] {
        if is_known(&known, &p.line) {
            continue;
        }
        let l = &p.line;
        events::register(
            conn,
            actor,
            &RegisterItem {
                idempotency_key: format!("asset-import-{id}-{}", l.line),
                code: p.code.clone(),
                category: l.category,
                site: None,
                collection: Some(collection),
                at_workshop: false,
                brand: l.brand.clone(),
                model: l.model.clone(),
                serial: l.serial.clone(),
                asset_tag: l.asset_tag.clone(),
                specs: Specs::default(),
                weight_g: None,
                weight_estimated: false,
                drives: l
                    .drive_serial
                    .iter()
                    .map(|s| DriveSpec {
                        serial: s.clone(),
                        make: None,
                        model: None,
                        size_gb: None,
                        bus: None,
                        media: None,
                    })
                    .collect(),
                no_drive: false,
                occurred_at: None,
            },
        )?;
        if let Some(t) = &l.asset_tag {
            known.insert(format!("t:{}", normalise(t)));
        }
        if let Some(s) = &l.serial {
            known.insert(format!("s:{}", normalise(s)));
        }
    }
    let done = to == pending.len();
    diesel::update(asset_imports::table.find(id))
        .set((
            asset_imports::done.eq(to as i32),
            asset_imports::status.eq(if done {
                ImportStatus::Done.as_str()
            } else {
                ImportStatus::Running.as_str()
            }),
        ))
        .execute(conn)?;
    Ok(!done)
}

/// Records why an import stopped; what was registered stays (importing the file again
/// adds the rest).
pub fn fail(conn: &mut DbConnection, id: i64, error: &ApiError) -> ApiResult<()> {
    diesel::update(asset_imports::table.find(id))
        .set((
            asset_imports::status.eq(ImportStatus::Failed.as_str()),
            asset_imports::error.eq(Some(format!(
                "{}: {}",
                error.code.as_str(),
                error
                    .message
                    .clone()
                    .unwrap_or_else(|| error.code.message(Lang::Fr).to_owned())
            ))),
        ))
        .execute(conn)?;
    Ok(())
}
