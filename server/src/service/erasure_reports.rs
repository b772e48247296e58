//! Erasure tools' reports received at the server: an nwipe log (read by the same code
//! as the bench) or a Blancco Drive Eraser report (XML). Each drive is matched by
//! serial to a drive of the items of a collection or of a site, and its erasure is
//! recorded as the bench records one, through the same step and the same rules. A
//! report none of whose drives matches writes nothing.

use super::{collections, events, site_region};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::schema::{item_events, items};
use chrono::Utc;
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::blancco::{self, ErasureReportImport, ReportedDrive};
use filiere_shared::lifecycle::{ErasureData, Lifecycle};
use filiere_shared::nwipe;
use filiere_shared::*;
use serde_json::json;

/// The largest report taken.
pub const FILE_LIMIT: usize = 5 * 1024 * 1024;

/// Where the drives are looked for.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Collection(CollectionId),
    Site(SiteId),
}

fn unreadable(actor: &Actor, why: String) -> ApiError {
    ApiError::new(ErrorCode::UnreadableReport)
        .with_details(json!({ "reason": why }))
        .in_lang(actor.lang)
}

/// The drives the file reports, with their erasure: (serial as reported, erasure).
fn read(actor: &Actor, file: &[u8]) -> ApiResult<(String, Vec<(String, ErasureData)>)> {
    let text = std::str::from_utf8(file).map_err(|_| unreadable(actor, "not UTF-8".into()))?;
    let now = Utc::now();
    if blancco::looks_like_xml(text) {
        let r = blancco::parse_report(text).map_err(|e| unreadable(actor, e.to_string()))?;
        let drives = r
            .erasures
            .iter()
            .map(|e| (e.serial.clone(), blancco::erasure(&r, e, now)))
            .collect();
        Ok(("Blancco Drive Eraser".into(), drives))
    } else {
        let r = nwipe::parse_log(text).map_err(|e| unreadable(actor, e.to_string()))?;
        let drives = r
            .drives
            .iter()
            .map(|d| (d.serial.clone(), nwipe::erasure(&r, d, text, now)))
            .collect();
        Ok(("nwipe".into(), drives))
    }
}

/// The item of the scope holding a drive of that serial: (id, code, the drive's
/// serial as declared, whether it is already erased or destroyed).
fn holder(
    conn: &mut DbConnection,
    scope: Scope,
    serial: &str,
) -> ApiResult<Option<(i64, String, String, bool)>> {
    let pattern = format!(
        "%{}%",
        serial
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut q = items::table
        .filter(items::lifecycle.like(pattern).escape('\\'))
        .select((items::id, items::code, items::lifecycle))
        .into_boxed();
    q = match scope {
        Scope::Collection(c) => q.filter(items::collection_id.eq(c.0)),
        Scope::Site(s) => q.filter(items::site_id.eq(s.0)),
    };
    let rows: Vec<(i64, String, String)> = q.order(items::id).limit(20).load(conn)?;
    for (id, code, lifecycle) in rows {
        let lc: Lifecycle = serde_json::from_str(&lifecycle).map_err(ApiError::internal)?;
        if let Some(d) = lc
            .drives
            .iter()
            .find(|d| nwipe::same_serial(&d.serial, serial))
        {
            return Ok(Some((id, code, d.serial.clone(), d.status.is_sanitised())));
        }
    }
    Ok(None)
}

/// Who may send an erasure report: the workshops' staff. Checked before anything
/// of the request is read.
pub fn may_import(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])
}

/// Records the erasures `file` reports for the drives of the scope's items.
pub fn import(
    conn: &mut DbConnection,
    actor: &Actor,
    scope: Scope,
    file: &[u8],
) -> ApiResult<ErasureReportImport> {
    may_import(actor)?;
    match scope {
        Scope::Collection(c) => {
            collections::get(conn, actor, c)?;
        }
        Scope::Site(s) => {
            let region = site_region(conn, s, actor)?;
            actor.require_site(s, region)?;
        }
    }
    let (tool, drives) = read(actor, file)?;
    let key = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(file)[..8]);
    let mut out = ErasureReportImport {
        tool,
        erased: Vec::new(),
        failed: Vec::new(),
        already: Vec::new(),
        unmatched: Vec::new(),
    };
    for (serial, erasure) in drives {
        let Some((id, code, declared, done)) = holder(conn, scope, &serial)? else {
            out.unmatched.push(serial);
            continue;
        };
        let drive = ReportedDrive {
            serial: declared.clone(),
            item: ItemId(id),
            code,
        };
        let key = format!("report-{key}-{declared}");
        // Erased or destroyed already, or this report's erasure (even failed) already
        // recorded for it: left as it is.
        let recorded: i64 = item_events::table
            .filter(item_events::item_id.eq(id))
            .filter(item_events::idempotency_key.eq(&key))
            .count()
            .get_result(conn)?;
        if done || recorded > 0 {
            out.already.push(drive);
            continue;
        }
        let version: i64 = items::table.find(id).select(items::version).first(conn)?;
        let result = erasure.result;
        events::apply(
            conn,
            actor,
            ItemId(id),
            &EventRequest {
                idempotency_key: key,
                expected_version: version,
                occurred_at: Some(erasure.ended_at),
                command: Command::EraseDrive {
                    serial: declared,
                    erasure,
                },
            },
        )?;
        if result == ErasureResult::Erased {
            out.erased.push(drive);
        } else {
            out.failed.push(drive);
        }
    }
    if out.erased.is_empty() && out.failed.is_empty() && out.already.is_empty() {
        return Err(ApiError::new(ErrorCode::ReportMatchesNothing)
            .with_details(json!({ "unmatched": out.unmatched }))
            .in_lang(actor.lang));
    }
    Ok(out)
}
