//! Writing events: registration by claiming a code, and every lifecycle step, with
//! idempotency keys and optimistic concurrency. Each call runs inside the caller's
//! transaction: a refusal rolls back and nothing is written.

use super::items::{full_view, lifecycle_of, load_item};
use super::{check, normalise, site_region};
use crate::auth::Actor;
use crate::db::{DbConnection, Kept};
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::on_backend;
use crate::schema::{
    collections, drives, erasure_records, item_events, items, label_codes, qa_reports, weee_batches,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::code::LabelCode;
use filiere_shared::lifecycle::{
    self, Context, DriveSpec, ErasureData, EventPayload, Lifecycle, QaData, WeeeBatchFacts,
};
use filiere_shared::validate;
use filiere_shared::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::str::FromStr;

/// Who wrote an event, where and when.
struct Stamp {
    actor: Option<i64>,
    bench: Option<i64>,
    occurred_at: chrono::NaiveDateTime,
    recorded_at: chrono::NaiveDateTime,
}

impl Stamp {
    fn new(actor: &Actor, occurred_at: Option<DateTime<Utc>>) -> Stamp {
        let recorded_at = now();
        Stamp {
            actor: Some(actor.user.0),
            bench: actor.bench.map(|b| b.0),
            occurred_at: occurred_at.map(truncate).unwrap_or(recorded_at),
            recorded_at,
        }
    }
}

/// The idempotency key of a request, with the hash of its body.
struct Key {
    owner: String,
    key: String,
    hash: String,
}

/// The stored key of a request whose bounds were checked ([`check_registration`],
/// [`check_event`]): the caller's own, with the hash of what it asked.
fn request_key<T: Serialize>(actor: &Actor, key: &str, scope: &str, body: &T) -> ApiResult<Key> {
    let json = serde_json::to_vec(body).map_err(ApiError::internal)?;
    let mut h = Sha256::new();
    h.update(scope.as_bytes());
    h.update([0]);
    h.update(&json);
    Ok(Key {
        owner: actor.key_owner(),
        key: key.to_owned(),
        hash: hex::encode(h.finalize()),
    })
}

/// The first answer to this key, if it was used before; a conflict if it was used for
/// another request.
fn replayed(conn: &mut DbConnection, key: &Key, actor: &Actor) -> ApiResult<Option<EventResponse>> {
    let found: Option<(i64, Option<String>, Option<String>)> = on_backend!(conn, c => item_events::table
        .filter(item_events::key_owner.eq(&key.owner))
        .filter(item_events::idempotency_key.eq(&key.key))
        .select((
            item_events::id,
            item_events::request_hash,
            item_events::response,
        ))
        .first(c)
        .optional())?;
    match found {
        None => Ok(None),
        Some((id, Some(hash), Some(response))) if hash == key.hash => {
            let mut answer: EventResponse =
                serde_json::from_str(&response).map_err(ApiError::internal)?;
            // The answer is stored with the event that carries the key, whose id it
            // could not know before the insert.
            answer.event.id = EventId(id);
            Ok(Some(answer))
        }
        Some(_) => Err(actor.err(ErrorCode::IdempotencyConflict)),
    }
}

/// Looks a key up again after a unique-key race (PostgreSQL: two requests with one key
/// at the same time; the loser answers with the winner's response).
pub fn replay_after_race<T: Serialize>(
    conn: &mut DbConnection,
    actor: &Actor,
    key: &str,
    scope: &str,
    body: &T,
) -> ApiResult<Option<EventResponse>> {
    let key = request_key(actor, key, scope, body)?;
    replayed(conn, &key, actor)
}

fn text_opt(actor: &Actor, field: &str, v: &Option<String>, max: usize) -> ApiResult<()> {
    check(actor, validate::opt_text(field, v.as_deref(), max))
}

fn validate_specs(actor: &Actor, s: &Specs) -> ApiResult<()> {
    text_opt(actor, "specs.cpu", &s.cpu, 100)?;
    text_opt(actor, "specs.storage_type", &s.storage_type, 50)?;
    text_opt(actor, "specs.gpu", &s.gpu, 100)?;
    text_opt(actor, "specs.part_spec", &s.part_spec, 100)?;
    if let Some(r) = s.ram_gb {
        check(actor, validate::range("specs.ram_gb", r.into(), 0, 4096))?;
    }
    if let Some(r) = s.storage_gb {
        check(
            actor,
            validate::range("specs.storage_gb", r.into(), 0, 1_000_000),
        )?;
    }
    if let Some(x) = s.screen_inches
        && !(x.is_finite() && (1.0..=120.0).contains(&x))
    {
        return Err(ApiError::field(
            validate::FieldError::new(
                "specs.screen_inches",
                "doit être entre 1 et 120",
                "must be between 1 and 120",
            ),
            actor.lang,
        ));
    }
    if let Some(y) = s.year {
        check(actor, validate::range("specs.year", y.into(), 1970, 2100))?;
    }
    Ok(())
}

fn validate_weight(actor: &Actor, w: Option<i64>) -> ApiResult<()> {
    match w {
        Some(g) => check(actor, validate::range("weight_g", g, 1, 500_000)),
        None => Ok(()),
    }
}

fn validate_drives(actor: &Actor, drives: &[DriveSpec]) -> ApiResult<()> {
    if drives.len() > 64 {
        return Err(ApiError::field(
            validate::FieldError::new("drives", "64 disques au plus", "at most 64 drives"),
            actor.lang,
        ));
    }
    for d in drives {
        check(actor, validate::text("drives.serial", &d.serial, 100))?;
        text_opt(actor, "drives.make", &d.make, 100)?;
        text_opt(actor, "drives.model", &d.model, 100)?;
        if let Some(s) = d.size_gb {
            check(
                actor,
                validate::range("drives.size_gb", s.into(), 1, 1_000_000),
            )?;
        }
    }
    Ok(())
}

fn validate_erasure(actor: &Actor, serial: &str, e: &ErasureData) -> ApiResult<()> {
    check(actor, validate::text("serial", serial, 100))?;
    check(actor, validate::text("tool", &e.tool, 100))?;
    text_opt(actor, "tool_version", &e.tool_version, 50)?;
    text_opt(actor, "method", &e.method, 100)?;
    text_opt(actor, "report", &e.report, 1_000_000)?;
    if let Some(p) = e.passes {
        check(actor, validate::range("passes", p.into(), 0, 100))?;
    }
    Ok(())
}

/// An erasure cannot end before it starts (a rule: 422).
fn check_erasure_times(actor: &Actor, e: &ErasureData) -> ApiResult<()> {
    if e.ended_at < e.started_at {
        return Err(ApiError::rule(
            validate::FieldError::new(
                "ended_at",
                "la fin précède le début",
                "the end is before the start",
            ),
            actor.lang,
        ));
    }
    Ok(())
}

fn validate_qa(actor: &Actor, r: &QaData) -> ApiResult<()> {
    if r.checks.is_empty() || r.checks.len() > 50 {
        return Err(ApiError::field(
            validate::FieldError::new(
                "checks",
                "de 1 à 50 lignes de contrôle",
                "1 to 50 checklist lines",
            ),
            actor.lang,
        ));
    }
    for l in &r.checks {
        text_opt(actor, "checks.note", &l.note, 500)?;
    }
    text_opt(actor, "os_installed", &r.os_installed, 100)?;
    text_opt(actor, "notes", &r.notes, 2000)?;
    Ok(())
}

/// Each line of the checklist once (a rule: 422).
fn check_qa_lines(actor: &Actor, r: &QaData) -> ApiResult<()> {
    let mut seen = Vec::new();
    for l in &r.checks {
        if seen.contains(&l.check) {
            return Err(ApiError::rule(
                validate::FieldError::new(
                    "checks",
                    format!("« {} » figure deux fois", l.check),
                    format!("\"{}\" appears twice", l.check),
                ),
                actor.lang,
            ));
        }
        seen.push(l.check);
    }
    Ok(())
}

/// The bounds of a registration that its schema states (400 when broken), checked
/// before anything else (the HTTP layer holds bodies to the schema already; the
/// command line and direct callers come through here).
fn check_registration(actor: &Actor, req: &RegisterItem) -> ApiResult<()> {
    check(actor, validate::idempotency_key(&req.idempotency_key))?;
    for (field, v, max) in [
        ("brand", &req.brand, 100),
        ("model", &req.model, 200),
        ("serial", &req.serial, 100),
        ("asset_tag", &req.asset_tag, 100),
    ] {
        text_opt(actor, field, v, max)?;
    }
    validate_specs(actor, &req.specs)?;
    validate_weight(actor, req.weight_g)?;
    validate_drives(actor, &req.drives)
}

/// The bounds of a step that its schema states (400 when broken), as
/// [`check_registration`].
fn check_event(actor: &Actor, req: &EventRequest) -> ApiResult<()> {
    check(actor, validate::idempotency_key(&req.idempotency_key))?;
    match &req.command {
        Command::DeclareDrives { drives } => {
            if drives.is_empty() {
                return Err(ApiError::field(
                    validate::FieldError::new(
                        "drives",
                        "au moins un disque (sinon « aucun disque »)",
                        "at least one drive (or \"no drive\")",
                    ),
                    actor.lang,
                ));
            }
            validate_drives(actor, drives)
        }
        Command::EraseDrive { serial, erasure } => validate_erasure(actor, serial, erasure),
        Command::DestroyDrive {
            serial,
            method,
            notes,
        } => {
            check(actor, validate::text("serial", serial, 100))?;
            check(actor, validate::text("method", method, 200))?;
            text_opt(actor, "notes", notes, 2000)
        }
        Command::HarvestPart {
            brand,
            model,
            serial,
            specs,
            weight_g,
            ..
        } => {
            for (field, v, max) in [
                ("brand", brand, 100),
                ("model", model, 200),
                ("serial", serial, 100),
            ] {
                text_opt(actor, field, v, max)?;
            }
            validate_specs(actor, specs)?;
            validate_weight(actor, *weight_g)
        }
        Command::TestPart { notes, .. } => text_opt(actor, "notes", notes, 2000),
        Command::QaTest { report } => validate_qa(actor, report),
        Command::Reopen { reason } | Command::CorrectLast { reason, .. } => {
            check(actor, validate::text("reason", reason, 500))
        }
        Command::Receive { .. }
        | Command::Triage { .. }
        | Command::DeclareNoDrive
        | Command::FinishTeardown
        | Command::FitPart { .. }
        | Command::RemovePart { .. }
        | Command::MarkReady
        | Command::Move { .. }
        | Command::Relabel { .. }
        | Command::MarkForRecycling
        | Command::AddToWeeeBatch { .. }
        | Command::RemoveFromWeeeBatch { .. } => Ok(()),
    }
}

/// Parses a label code sent by a client; a clear error when it is not one.
pub fn parse_code(actor: &Actor, input: &str) -> ApiResult<LabelCode> {
    filiere_shared::code::parse_label(input)
        .map(|p| p.value)
        .map_err(|e| {
            let code = if e == filiere_shared::code::CodeError::CheckMismatch {
                ErrorCode::CodeCheckFailed
            } else {
                ErrorCode::InvalidCode
            };
            let detail = match actor.lang {
                Lang::Fr => e.message_fr(),
                Lang::En => e.to_string(),
            };
            ApiError::new(code)
                .with_message(format!("{} ({detail})", code.message(actor.lang)))
                .in_lang(actor.lang)
        })
}

/// Claims an unclaimed code for an item, or refuses.
fn claim_code(
    conn: &mut DbConnection,
    actor: &Actor,
    code: &LabelCode,
    item: i64,
    at: chrono::NaiveDateTime,
) -> ApiResult<()> {
    let row: Option<LabelCodeRow> = label_codes::table
        .find(code.as_str())
        .first(conn)
        .optional()?;
    match row {
        None => Err(actor.err(ErrorCode::CodeUnknown)),
        Some(r) if r.item_id.is_some() => Err(actor.err(ErrorCode::CodeAlreadyClaimed)),
        Some(_) => {
            let n = diesel::update(
                label_codes::table
                    .filter(label_codes::code.eq(code.as_str()))
                    .filter(label_codes::item_id.is_null()),
            )
            .set((
                label_codes::item_id.eq(item),
                label_codes::claimed_at.eq(at),
            ))
            .execute(conn)?;
            if n == 1 {
                Ok(())
            } else {
                Err(actor.err(ErrorCode::CodeAlreadyClaimed))
            }
        }
    }
}

/// Checks an unclaimed code exists before anything is created with it.
fn require_unclaimed(conn: &mut DbConnection, actor: &Actor, code: &LabelCode) -> ApiResult<()> {
    let row: Option<Option<i64>> = label_codes::table
        .find(code.as_str())
        .select(label_codes::item_id)
        .first(conn)
        .optional()?;
    match row {
        None => Err(actor.err(ErrorCode::CodeUnknown)),
        Some(Some(_)) => Err(actor.err(ErrorCode::CodeAlreadyClaimed)),
        Some(None) => Ok(()),
    }
}

/// The row of a new event (its response, when known, stored with it).
fn event_row(
    item: i64,
    payload: &EventPayload,
    site: SiteId,
    version: i64,
    stamp: &Stamp,
    key: Option<&Key>,
) -> ApiResult<NewEventRow> {
    Ok(NewEventRow {
        item_id: item,
        event_type: payload.event_type().as_str().to_owned(),
        payload: serde_json::to_string(payload).map_err(ApiError::internal)?,
        actor_id: stamp.actor,
        bench_id: stamp.bench,
        site_id: site.0,
        occurred_at: stamp.occurred_at,
        recorded_at: stamp.recorded_at,
        version,
        key_owner: key.map(|k| k.owner.clone()),
        idempotency_key: key.map(|k| k.key.clone()),
        request_hash: key.map(|k| k.hash.clone()),
        response: None,
        flow: Some(flow_text(payload)),
    })
}

/// The dashboards' flow of an event, as stored ('' for none).
pub fn flow_text(payload: &EventPayload) -> String {
    payload
        .flow()
        .map(|f| f.as_str().to_owned())
        .unwrap_or_default()
}

/// What an item waits for, as stored ('' for nothing).
pub fn blocker_text(lc: &Lifecycle) -> String {
    lc.waiting_for()
        .map(|b| b.as_str().to_owned())
        .unwrap_or_default()
}

/// The key spec a part is counted by in the stock, as stored.
pub fn spec_key_of(category: Category, specs: &Specs) -> String {
    filiere_shared::dashboards::spec_key(
        category,
        specs.part_spec.as_deref(),
        specs.ram_gb,
        specs.storage_gb,
    )
}

/// The row as it reads back once inserted with `id`. Timestamps are set before the
/// insert, truncated to what both backends store, so the two are the same.
fn written(id: i64, row: NewEventRow) -> EventRow {
    EventRow {
        id,
        item_id: row.item_id,
        event_type: row.event_type,
        payload: row.payload,
        actor_id: row.actor_id,
        bench_id: row.bench_id,
        site_id: row.site_id,
        occurred_at: row.occurred_at,
        recorded_at: row.recorded_at,
        version: row.version,
        key_owner: row.key_owner,
        idempotency_key: row.idempotency_key,
        request_hash: row.request_hash,
        response: row.response,
        flow: row.flow,
    }
}

/// Writes an event; refused as `duplicate` when its key is taken.
fn insert_event_row(conn: &mut DbConnection, row: NewEventRow) -> ApiResult<EventRow> {
    let id = insert_event_unless_keyed(conn, &row)?
        .ok_or_else(|| ApiError::new(ErrorCode::Duplicate))?;
    Ok(written(id, row))
}

/// Writes an event and gives its id, unless an event with the same key is there
/// already: then `None`, and nothing is written. No statement of the step fails on the key, so
/// that a step sharing its transaction with others (the writer's group commit) cannot
/// spoil it: on PostgreSQL a failed statement ends the whole transaction.
fn insert_event_unless_keyed(
    conn: &mut DbConnection,
    row: &NewEventRow,
) -> diesel::QueryResult<Option<i64>> {
    on_backend!(conn, c => Kept(
        diesel::insert_into(item_events::table)
            .values(row)
            .on_conflict_do_nothing()
            .returning(item_events::id),
    )
    .get_result(c)
    .optional())
}

fn insert_event(
    conn: &mut DbConnection,
    item: i64,
    payload: &EventPayload,
    site: SiteId,
    version: i64,
    stamp: &Stamp,
    key: Option<&Key>,
) -> ApiResult<EventRow> {
    let row = event_row(item, payload, site, version, stamp, key)?;
    insert_event_row(conn, row)
}

/// The columns a step writes on its item, from the item's new lifecycle. A column
/// left at `None` is left as it is: an `UPDATE` that names fewer columns has fewer
/// indexes and foreign keys to maintain.
#[derive(AsChangeset, Clone)]
#[diesel(table_name = items)]
struct ItemChange {
    state: Option<String>,
    site_id: Option<i64>,
    parent_id: Option<Option<i64>>,
    weee_batch_id: Option<Option<i64>>,
    functional_grade: Option<Option<String>>,
    cosmetic_grade: Option<Option<String>>,
    blocker: Option<Option<String>>,
    /// When the item entered its state, when the step changes it: the step's own
    /// time (a bench's step done offline is dated when it was done). Left out, the
    /// database dates a change of state with `updated_at`.
    state_since: Option<Option<chrono::NaiveDateTime>>,
    lifecycle: String,
    version: i64,
    updated_at: chrono::NaiveDateTime,
}

impl ItemChange {
    /// Every column, from the lifecycle.
    fn new(lc: &Lifecycle, version: i64, at: chrono::NaiveDateTime) -> ApiResult<ItemChange> {
        let grade = |g: Option<Grade>| g.map(|g| g.as_str().to_owned());
        Ok(ItemChange {
            state: Some(lc.state.as_str().to_owned()),
            site_id: Some(lc.site.0),
            parent_id: Some(lc.parent.map(|p| p.0)),
            weee_batch_id: Some(lc.weee_batch.map(|b| b.0)),
            functional_grade: Some(grade(lc.qa.and_then(|q| q.functional_grade))),
            cosmetic_grade: Some(grade(lc.qa.and_then(|q| q.cosmetic_grade))),
            blocker: Some(Some(blocker_text(lc))),
            state_since: None,
            lifecycle: serde_json::to_string(lc).map_err(ApiError::internal)?,
            version,
            updated_at: at,
        })
    }

    /// Leaves out the columns whose value `row` already has (the row the update is
    /// checked against, by its version).
    fn against(mut self, row: &ItemRow) -> ItemChange {
        fn keep<T: PartialEq>(new: &mut Option<T>, old: &T) {
            if new.as_ref() == Some(old) {
                *new = None;
            }
        }
        keep(&mut self.state, &row.state);
        keep(&mut self.site_id, &row.site_id);
        keep(&mut self.parent_id, &row.parent_id);
        keep(&mut self.weee_batch_id, &row.weee_batch_id);
        keep(&mut self.functional_grade, &row.functional_grade);
        keep(&mut self.cosmetic_grade, &row.cosmetic_grade);
        keep(&mut self.blocker, &row.blocker);
        self
    }

    /// Dates the item's new state with the step's time, if the step changes it.
    fn dated(mut self, before: ItemState, at: chrono::NaiveDateTime) -> ItemChange {
        if self.state.as_deref().is_some_and(|s| s != before.as_str()) {
            self.state_since = Some(Some(at));
        }
        self
    }

    /// The row as the update leaves it.
    fn applied(self, row: ItemRow) -> ItemRow {
        ItemRow {
            state: self.state.unwrap_or(row.state),
            site_id: self.site_id.unwrap_or(row.site_id),
            parent_id: self.parent_id.unwrap_or(row.parent_id),
            weee_batch_id: self.weee_batch_id.unwrap_or(row.weee_batch_id),
            functional_grade: self.functional_grade.unwrap_or(row.functional_grade),
            cosmetic_grade: self.cosmetic_grade.unwrap_or(row.cosmetic_grade),
            blocker: self.blocker.unwrap_or(row.blocker),
            state_since: self.state_since.unwrap_or(row.state_since),
            lifecycle: self.lifecycle,
            version: self.version,
            updated_at: self.updated_at,
            ..row
        }
    }
}

/// Writes `change` on item `id` if its version is still `expected`: the rows updated
/// (0 when it has moved on).
fn update_item(
    conn: &mut DbConnection,
    id: i64,
    expected: i64,
    change: &ItemChange,
) -> diesel::QueryResult<usize> {
    on_backend!(conn, c => Kept(
        diesel::update(
            items::table
                .filter(items::id.eq(id))
                .filter(items::version.eq(expected)),
        )
        .set(change),
    )
    .execute(c))
}

/// Writes the item row from its new lifecycle, if its version is still `expected`.
fn save_item(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i64,
    expected: i64,
    lc: &Lifecycle,
    (before, stamp): (ItemState, &Stamp),
) -> ApiResult<ItemChange> {
    let change =
        ItemChange::new(lc, expected + 1, stamp.recorded_at)?.dated(before, stamp.occurred_at);
    let n = update_item(conn, id, expected, &change)?;
    if n != 1 {
        let current: i64 = items::table.find(id).select(items::version).first(conn)?;
        return Err(ApiError::version_conflict(current).in_lang(actor.lang));
    }
    Ok(change)
}

fn refuse(actor: &Actor) -> impl Fn(lifecycle::Refusal) -> ApiError + '_ {
    move |r| ApiError::refusal(&r, actor.lang)
}

/// Stores the response on the event that carries the key, for replays.
fn finish(conn: &mut DbConnection, event_id: i64, response: &EventResponse) -> ApiResult<()> {
    let json = serde_json::to_string(response).map_err(ApiError::internal)?;
    diesel::update(item_events::table.find(event_id))
        .set(item_events::response.eq(json))
        .execute(conn)?;
    Ok(())
}

fn insert_drive_rows(
    conn: &mut DbConnection,
    item: i64,
    event: i64,
    specs: &[DriveSpec],
    at: chrono::NaiveDateTime,
) -> ApiResult<()> {
    for d in specs {
        Kept(diesel::insert_into(drives::table).values(NewDriveRow {
            item_id: item,
            serial: d.serial.trim().to_owned(),
            serial_norm: normalise(&d.serial),
            make: d.make.clone(),
            model: d.model.clone(),
            size_gb: d.size_gb.map(|s| s as i32),
            bus: d.bus.map(|b| b.as_str().to_owned()),
            media: d.media.map(|m| m.as_str().to_owned()),
            event_id: event,
            created_at: at,
        }))
        .execute(conn)?;
    }
    Ok(())
}

fn trim_drives(drives: &[DriveSpec]) -> Vec<DriveSpec> {
    drives
        .iter()
        .map(|d| DriveSpec {
            serial: d.serial.trim().to_owned(),
            ..d.clone()
        })
        .collect()
}

/// The site of a collection that still takes items (a closed one refuses them).
fn collection_site(conn: &mut DbConnection, actor: &Actor, c: CollectionId) -> ApiResult<i64> {
    let (site, status): (i64, String) = collections::table
        .find(c.0)
        .select((collections::site_id, collections::status))
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::CollectionNotFound))?;
    if status != CollectionStatus::Planned.as_str() {
        return Err(actor.err(ErrorCode::CollectionClosed));
    }
    Ok(site)
}

/// Registers an item by claiming its label code.
pub fn register(
    conn: &mut DbConnection,
    actor: &Actor,
    req: &RegisterItem,
) -> ApiResult<EventResponse> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])?;
    check_registration(actor, req)?;
    let key = request_key(actor, &req.idempotency_key, "register", req)?;
    if let Some(previous) = replayed(conn, &key, actor)? {
        return Ok(previous);
    }
    let code = parse_code(actor, &req.code)?;
    if req.no_drive && !req.drives.is_empty() {
        return Err(ApiError::rule(
            validate::FieldError::new(
                "no_drive",
                "« aucun disque » et une liste de disques s'excluent",
                "\"no drive\" and a list of drives exclude each other",
            ),
            actor.lang,
        ));
    }
    let kind = req.category.kind();
    let site = match (req.site, req.collection, actor.site) {
        (Some(s), _, _) => s,
        (None, Some(c), _) => SiteId(collection_site(conn, actor, c)?),
        (None, None, Some(s)) => s,
        (None, None, None) => {
            return Err(ApiError::rule(
                validate::FieldError::new("site", "site requis", "site required"),
                actor.lang,
            ));
        }
    };
    let region = site_region(conn, site, actor)?;
    actor.require_site(site, region)?;
    if let Some(c) = req.collection {
        collection_site(conn, actor, c)?;
    }
    require_unclaimed(conn, actor, &code)?;

    let state = match (req.at_workshop, kind) {
        (false, _) => ItemState::Collected,
        (true, ItemKind::Device) => ItemState::Received,
        (true, ItemKind::Part) => ItemState::InStock,
    };
    let payload = EventPayload::Registered {
        code,
        kind,
        category: req.category,
        state,
        site,
        collection: req.collection,
        origin: None,
        drive: None,
    };
    let mut lc = lifecycle::register(&payload).map_err(refuse(actor))?;
    let mut extra = Vec::new();
    if !req.drives.is_empty() {
        extra.push(EventPayload::DrivesDeclared {
            drives: trim_drives(&req.drives),
        });
    }
    if req.no_drive {
        extra.push(EventPayload::NoDriveDeclared);
    }
    let mut states = Vec::new();
    for e in &extra {
        lc = lifecycle::apply(&lc, e, &Context::default()).map_err(refuse(actor))?;
        states.push(lc.clone());
    }
    let stamp = Stamp::new(actor, req.occurred_at);
    let start = lifecycle::register(&payload).map_err(refuse(actor))?;
    let row = NewItemRow {
        code: code.as_str().to_owned(),
        kind: kind.as_str().to_owned(),
        category: req.category.as_str().to_owned(),
        state: start.state.as_str().to_owned(),
        version: 1,
        site_id: site.0,
        parent_id: None,
        origin_id: None,
        collection_id: req.collection.map(|c| c.0),
        brand: req.brand.clone(),
        model: req.model.clone(),
        serial: req.serial.clone(),
        serial_norm: req.serial.as_deref().map(normalise),
        asset_tag: req.asset_tag.clone(),
        asset_tag_norm: req.asset_tag.as_deref().map(normalise),
        specs: serde_json::to_string(&req.specs).map_err(ApiError::internal)?,
        weight_g: req.weight_g,
        weight_estimated: req.weight_estimated,
        functional_grade: None,
        cosmetic_grade: None,
        weee_batch_id: None,
        lifecycle: serde_json::to_string(&start).map_err(ApiError::internal)?,
        created_at: stamp.recorded_at,
        updated_at: stamp.recorded_at,
        spec_key: Some(spec_key_of(req.category, &req.specs)),
        blocker: Some(blocker_text(&start)),
        state_since: Some(stamp.occurred_at),
    };
    let item_id: i64 = diesel::insert_into(items::table)
        .values(&row)
        .returning(items::id)
        .get_result(conn)?;
    claim_code(conn, actor, &code, item_id, stamp.recorded_at)?;
    let first = insert_event(conn, item_id, &payload, site, 1, &stamp, Some(&key))?;
    let mut version = 1;
    for (e, next) in extra.iter().zip(&states) {
        version = save_item(conn, actor, item_id, version, next, (next.state, &stamp))?.version;
        let ev = insert_event(conn, item_id, e, site, version, &stamp, None)?;
        if let EventPayload::DrivesDeclared { drives } = e {
            insert_drive_rows(conn, item_id, ev.id, drives, stamp.recorded_at)?;
        }
    }
    let item_row = load_item(conn, ItemId(item_id), actor)?;
    let response = EventResponse {
        event: super::items::event_view(&first, Some(actor.name.clone()))?,
        item: full_view(conn, &item_row, actor.lang)?,
        other: None,
    };
    finish(conn, first.id, &response)?;
    Ok(response)
}

fn load_weee_facts(
    conn: &mut DbConnection,
    actor: &Actor,
    batch: WeeeBatchId,
) -> ApiResult<WeeeBatchFacts> {
    let (status, site): (String, i64) = weee_batches::table
        .find(batch.0)
        .select((weee_batches::status, weee_batches::site_id))
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::WeeeBatchNotFound))?;
    Ok(WeeeBatchFacts {
        id: batch,
        status: WeeeBatchStatus::from_str(&status).map_err(ApiError::internal)?,
        site: SiteId(site),
    })
}

/// Loads an item for writing: it must exist, be in the caller's scope (technician:
/// own site; coordinator: own region) and be at the expected version.
fn load_for_write(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ItemId,
    expected: i64,
) -> ApiResult<(ItemRow, Lifecycle, Vec<LabelCode>)> {
    // The item with its site's region and its earlier labels, in one query.
    let found =
        super::items::find_by_id(conn, id)?.ok_or_else(|| actor.err(ErrorCode::ItemNotFound))?;
    let row = found.row;
    if !actor.covers_site(SiteId(row.site_id), found.region) {
        return Err(actor.err(ErrorCode::ItemNotFound));
    }
    if row.version != expected {
        return Err(ApiError::version_conflict(row.version).in_lang(actor.lang));
    }
    let lc = lifecycle_of(&row)?;
    Ok((row, lc, found.earlier))
}

/// The steps that change their own item only (the others read or write more rows):
/// the event and the item's next lifecycle, or `None` for a step of the other kind.
fn own_step(
    conn: &mut DbConnection,
    actor: &Actor,
    item: ItemId,
    req: &EventRequest,
    lc: &Lifecycle,
) -> ApiResult<Option<(EventPayload, Lifecycle)>> {
    let ctx = Context {
        item: Some(item),
        ..Context::default()
    };
    let step = match &req.command {
        Command::Receive { site: to } => {
            let to = to.or(actor.site).unwrap_or(lc.site);
            let region = site_region(conn, to, actor)?;
            actor.require_site(to, region)?;
            let p = EventPayload::Received { site: to };
            let n = lifecycle::apply(lc, &p, &ctx).map_err(refuse(actor))?;
            (p, n)
        }
        Command::Triage { route } => {
            simple(lc, EventPayload::Triaged { route: *route }, &ctx, actor)?
        }
        Command::DeclareDrives { drives: d } => simple(
            lc,
            EventPayload::DrivesDeclared {
                drives: trim_drives(d),
            },
            &ctx,
            actor,
        )?,
        Command::DeclareNoDrive => simple(lc, EventPayload::NoDriveDeclared, &ctx, actor)?,
        Command::EraseDrive { serial, erasure } => {
            check_erasure_times(actor, erasure)?;
            simple(
                lc,
                EventPayload::DriveErased {
                    serial: serial.trim().to_owned(),
                    erasure: erasure.clone(),
                },
                &ctx,
                actor,
            )?
        }
        Command::DestroyDrive {
            serial,
            method,
            notes,
        } => simple(
            lc,
            EventPayload::DriveDestroyed {
                serial: serial.trim().to_owned(),
                method: method.clone(),
                notes: notes.clone(),
            },
            &ctx,
            actor,
        )?,
        Command::FinishTeardown => simple(lc, EventPayload::TeardownDone, &ctx, actor)?,
        Command::TestPart { result, notes } => simple(
            lc,
            EventPayload::PartTested {
                result: *result,
                notes: notes.clone(),
            },
            &ctx,
            actor,
        )?,
        Command::QaTest { report } => {
            check_qa_lines(actor, report)?;
            simple(
                lc,
                EventPayload::QaTested {
                    report: report.clone(),
                },
                &ctx,
                actor,
            )?
        }
        Command::MarkReady => simple(lc, EventPayload::MarkedReady, &ctx, actor)?,
        Command::Reopen { reason } => simple(
            lc,
            EventPayload::Reopened {
                reason: reason.clone(),
            },
            &ctx,
            actor,
        )?,
        Command::MarkForRecycling => simple(lc, EventPayload::MarkedForRecycling, &ctx, actor)?,
        Command::HarvestPart { .. }
        | Command::FitPart { .. }
        | Command::RemovePart { .. }
        | Command::Move { .. }
        | Command::Relabel { .. }
        | Command::AddToWeeeBatch { .. }
        | Command::RemoveFromWeeeBatch { .. }
        | Command::CorrectLast { .. } => return Ok(None),
    };
    Ok(Some(step))
}

/// A step that changes its own item only, computed from a read of the item: what is
/// left is [`commit`], the version-checked write.
pub struct PreparedStep {
    item: ItemId,
    expected: i64,
    payload: EventPayload,
    stamp: Stamp,
    change: ItemChange,
    /// The item's row as the step leaves it.
    after: ItemRow,
    event: NewEventRow,
    /// The answer, stored with the event for replays (its event id is the row's).
    response: EventResponse,
}

impl PreparedStep {
    /// Once its event is written with `event_id` (and its item updated): the step's
    /// own rows (drives, erasure record, QA report), and its answer naming the event.
    fn once_written(
        self,
        conn: &mut DbConnection,
        actor: &Actor,
        event_id: i64,
    ) -> ApiResult<EventResponse> {
        let ev = written(event_id, self.event);
        let _ = actor;
        project(conn, self.item.0, &ev, &self.payload, &self.stamp)?;
        let mut response = self.response;
        response.event.id = EventId(event_id);
        Ok(response)
    }
}

pub enum Prepared {
    Step(Box<PreparedStep>),
    /// A step that reads or writes other rows too, or an item that changed since the
    /// caller read it or is out of reach: [`apply`] does it whole, in one transaction,
    /// and answers a retry with its first answer.
    Whole,
}

/// The start of every step: role, key, replay, and the item in scope at the expected
/// version.
enum Begun {
    Replayed(Box<EventResponse>),
    /// The key, the item's row, its lifecycle and its earlier labels.
    Loaded(Key, Box<(ItemRow, Lifecycle)>, Vec<LabelCode>),
}

fn begin(
    conn: &mut DbConnection,
    actor: &Actor,
    item: ItemId,
    req: &EventRequest,
) -> ApiResult<Begun> {
    let key = step_key(actor, item, req)?;
    if let Some(previous) = replayed(conn, &key, actor)? {
        return Ok(Begun::Replayed(Box::new(previous)));
    }
    let (row, lc, earlier) = load_for_write(conn, actor, item, req.expected_version)?;
    Ok(Begun::Loaded(key, Box::new((row, lc)), earlier))
}

/// Who may take a step, and the step's idempotency key.
fn step_key(actor: &Actor, item: ItemId, req: &EventRequest) -> ApiResult<Key> {
    check_event(actor, req)?;
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])?;
    request_key(actor, &req.idempotency_key, &format!("item:{item}"), req)
}

/// Everything of an own-item step but its write: the new row, the event and the
/// answer.
#[allow(clippy::too_many_arguments)]
fn prepare_step(
    actor: &Actor,
    item: ItemId,
    req: &EventRequest,
    key: &Key,
    row: ItemRow,
    earlier: Vec<LabelCode>,
    lc: &Lifecycle,
    (payload, next): (EventPayload, Lifecycle),
) -> ApiResult<PreparedStep> {
    let stamp = Stamp::new(actor, req.occurred_at);
    // Where the step was done: the technician's site, else the item's.
    let site = actor.site.unwrap_or(lc.site);
    let change = ItemChange::new(&next, req.expected_version + 1, stamp.recorded_at)?
        .against(&row)
        .dated(lc.state, stamp.occurred_at);
    let mut event = event_row(item.0, &payload, site, change.version, &stamp, Some(key))?;
    let item_row = change.clone().applied(row);
    // The event's id is known once it is written: 0 until then.
    let unwritten = written(0, event.clone());
    let response = EventResponse {
        event: super::items::event_view(&unwritten, Some(actor.name.clone()))?,
        // An own-item step leaves the labels as they were.
        item: super::items::view(&item_row, earlier, actor.lang)?,
        other: None,
    };
    event.response = Some(serde_json::to_string(&response).map_err(ApiError::internal)?);
    Ok(PreparedStep {
        item,
        expected: req.expected_version,
        payload,
        stamp,
        change,
        after: item_row,
        event,
        response,
    })
}

/// Prepares a step on a read connection, so that the writer is left with as little
/// as possible: the steps that change their own item only (the bench's daily work:
/// reception, triage, erasure, tests, QA, ready…) come back as a [`PreparedStep`].
/// Refusals are final: they are what the item's state at its expected version says.
///
/// The key is not looked up: a retry of a step already written finds its item moved
/// on (or, moved to another site, out of reach) and goes the whole way, which looks
/// the key up first and answers with the first answer; a key used meanwhile is found
/// by the write ([`commit`]).
pub fn prepare(
    conn: &mut DbConnection,
    actor: &Actor,
    item: ItemId,
    req: &EventRequest,
) -> ApiResult<Prepared> {
    let key = step_key(actor, item, req)?;
    let (row, lc, earlier) = match load_for_write(conn, actor, item, req.expected_version) {
        Ok(loaded) => loaded,
        Err(e) if matches!(e.code, ErrorCode::VersionConflict | ErrorCode::ItemNotFound) => {
            return Ok(Prepared::Whole);
        }
        Err(e) => return Err(e),
    };
    match own_step(conn, actor, item, req, &lc)? {
        Some(step) => Ok(Prepared::Step(Box::new(prepare_step(
            actor, item, req, &key, row, earlier, &lc, step,
        )?))),
        None => Ok(Prepared::Whole),
    }
}

/// Writes a prepared step if its item is still at the version it was prepared from;
/// `None` when it is not, or when its key was used meanwhile (nothing is left written:
/// the caller then runs [`apply`], which answers with the conflict, or with the first
/// answer when the same request got in meanwhile).
///
/// Its one expected refusal is made without an error, so that it can share a
/// transaction with other requests (the writer's group commit; on PostgreSQL a failed
/// statement ends the transaction): the event goes first, unless its key is taken,
/// then the version-checked update of the item, which takes the event back when the
/// item has moved on.
pub fn commit(
    conn: &mut DbConnection,
    actor: &Actor,
    step: PreparedStep,
) -> ApiResult<Option<EventResponse>> {
    let Some(id) = insert_event_unless_keyed(conn, &step.event)? else {
        return Ok(None);
    };
    let n = update_item(conn, step.item.0, step.expected, &step.change)?;
    if n != 1 {
        on_backend!(conn, c => Kept(diesel::delete(item_events::table.find(id))).execute(c))?;
        return Ok(None);
    }
    step.once_written(conn, actor, id).map(Some)
}

/// Writes prepared steps that the writer commits together, each as [`commit`] would:
/// the answers in the steps' order, `None` for a step to be done whole. An error
/// leaves some of them written: the caller's transaction must be rolled back.
///
/// On PostgreSQL the steps' events and item updates are written by one statement for
/// all of them (`STEPS_TOGETHER`) instead of two round trips for each; the n-th
/// step on an item goes in the n-th such statement, so that each sees the ones
/// before. On SQLite, where a statement costs no round trip, they are written one by
/// one.
pub fn commit_together(
    conn: &mut DbConnection,
    steps: Vec<(Actor, PreparedStep)>,
) -> ApiResult<Vec<Option<EventResponse>>> {
    if let DbConnection::Sqlite(_) = conn {
        return steps
            .into_iter()
            .map(|(actor, step)| commit(conn, &actor, step))
            .collect();
    }
    let mut answers: Vec<Option<EventResponse>> = steps.iter().map(|_| None).collect();
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut on_item: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for (i, (_, step)) in steps.iter().enumerate() {
        let round = on_item.entry(step.item.0).or_insert(0);
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(i);
        *round += 1;
    }
    let mut steps: Vec<Option<(Actor, PreparedStep)>> = steps.into_iter().map(Some).collect();
    for round in rounds {
        let round: Vec<(usize, Actor, PreparedStep)> = round
            .into_iter()
            .filter_map(|i| steps[i].take().map(|(actor, step)| (i, actor, step)))
            .collect();
        let rows = write_steps_together(conn, &round)?;
        let mut taken_back = Vec::new();
        for (i, actor, step) in round {
            // No row: its key was taken.
            let Some(w) = rows.iter().find(|w| w.item_id == step.item.0) else {
                continue;
            };
            if !w.updated {
                // The item moved on.
                taken_back.push(w.event_id);
                continue;
            }
            answers[i] = Some(step.once_written(conn, &actor, w.event_id)?);
        }
        if !taken_back.is_empty() {
            on_backend!(conn, c => diesel::delete(
                item_events::table.filter(item_events::id.eq_any(&taken_back))
            )
            .execute(c))?;
        }
    }
    Ok(answers)
}

/// PostgreSQL: the events of steps on distinct items, each unless its key is taken,
/// and the version-checked update of each item whose event was written; one row per
/// event written, telling whether its item was updated. The step's arrays are bound
/// whole (`unnest`), so that the statement's text, prepared once, is the same for any
/// number of steps. An item's update sets every column a step may change: a column
/// set to the value it has costs PostgreSQL nothing more, which rewrites the indexes
/// and checks the foreign keys from the values that change, not from the columns
/// named.
const STEPS_TOGETHER: &str = "\
WITH v AS (
    SELECT * FROM unnest(
        $1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
        $7::bigint[], $8::timestamp[], $9::timestamp[], $10::bigint[], $11::text[],
        $12::text[], $13::text[], $14::text[], $15::text[], $16::bigint[], $17::bigint[],
        $18::bigint[], $19::text[], $20::text[], $21::text[], $22::timestamp[],
        $23::text[], $24::text[], $25::timestamp[]
    ) WITH ORDINALITY AS v(item_id, expected, event_type, payload, actor_id, bench_id,
        site_id, occurred_at, recorded_at, version, key_owner, idempotency_key,
        request_hash, response, state, item_site_id, parent_id, weee_batch_id,
        functional_grade, cosmetic_grade, lifecycle, updated_at, flow, blocker,
        state_since, n)
), ev AS (
    INSERT INTO item_events (item_id, event_type, payload, actor_id, bench_id, site_id,
        occurred_at, recorded_at, version, key_owner, idempotency_key, request_hash,
        response, flow)
    SELECT item_id, event_type, payload, actor_id, bench_id, site_id, occurred_at,
        recorded_at, version, key_owner, idempotency_key, request_hash, response, flow
    FROM v ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING id, item_id
), up AS (
    UPDATE items AS i SET state = v.state, site_id = v.item_site_id,
        parent_id = v.parent_id, weee_batch_id = v.weee_batch_id,
        functional_grade = v.functional_grade, cosmetic_grade = v.cosmetic_grade,
        blocker = v.blocker, state_since = COALESCE(v.state_since, i.state_since),
        lifecycle = v.lifecycle, version = v.version, updated_at = v.updated_at
    FROM v JOIN ev ON ev.item_id = v.item_id
    WHERE i.id = v.item_id AND i.version = v.expected
    RETURNING i.id
)
SELECT ev.id AS event_id, ev.item_id, up.id IS NOT NULL AS updated
FROM ev LEFT JOIN up ON up.id = ev.item_id";

#[derive(QueryableByName)]
struct WrittenTogether {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    event_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    item_id: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    updated: bool,
}

fn write_steps_together(
    conn: &mut DbConnection,
    steps: &[(usize, Actor, PreparedStep)],
) -> diesel::QueryResult<Vec<WrittenTogether>> {
    use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
    let DbConnection::Pg(pg) = conn else {
        return Err(diesel::result::Error::QueryBuilderError(
            "steps are written together on PostgreSQL only".into(),
        ));
    };
    let col = |f: &dyn Fn(&PreparedStep) -> i64| -> Vec<i64> {
        steps.iter().map(|(_, _, s)| f(s)).collect()
    };
    let opt = |f: &dyn Fn(&PreparedStep) -> Option<i64>| -> Vec<Option<i64>> {
        steps.iter().map(|(_, _, s)| f(s)).collect()
    };
    let text = |f: &dyn Fn(&PreparedStep) -> &str| -> Vec<String> {
        steps.iter().map(|(_, _, s)| f(s).to_owned()).collect()
    };
    let opt_text = |f: &dyn Fn(&PreparedStep) -> Option<&String>| -> Vec<Option<String>> {
        steps.iter().map(|(_, _, s)| f(s).cloned()).collect()
    };
    let time = |f: &dyn Fn(&PreparedStep) -> chrono::NaiveDateTime| -> Vec<chrono::NaiveDateTime> {
        steps.iter().map(|(_, _, s)| f(s)).collect()
    };
    Kept(
        diesel::sql_query(STEPS_TOGETHER)
            .bind::<Array<BigInt>, _>(col(&|s| s.item.0))
            .bind::<Array<BigInt>, _>(col(&|s| s.expected))
            .bind::<Array<Text>, _>(text(&|s| &s.event.event_type))
            .bind::<Array<Text>, _>(text(&|s| &s.event.payload))
            .bind::<Array<Nullable<BigInt>>, _>(opt(&|s| s.event.actor_id))
            .bind::<Array<Nullable<BigInt>>, _>(opt(&|s| s.event.bench_id))
            .bind::<Array<BigInt>, _>(col(&|s| s.event.site_id))
            .bind::<Array<Timestamp>, _>(time(&|s| s.event.occurred_at))
            .bind::<Array<Timestamp>, _>(time(&|s| s.event.recorded_at))
            .bind::<Array<BigInt>, _>(col(&|s| s.event.version))
            .bind::<Array<Nullable<Text>>, _>(opt_text(&|s| s.event.key_owner.as_ref()))
            .bind::<Array<Nullable<Text>>, _>(opt_text(&|s| s.event.idempotency_key.as_ref()))
            .bind::<Array<Nullable<Text>>, _>(opt_text(&|s| s.event.request_hash.as_ref()))
            .bind::<Array<Nullable<Text>>, _>(opt_text(&|s| s.event.response.as_ref()))
            .bind::<Array<Text>, _>(text(&|s| &s.after.state))
            .bind::<Array<BigInt>, _>(col(&|s| s.after.site_id))
            .bind::<Array<Nullable<BigInt>>, _>(opt(&|s| s.after.parent_id))
            .bind::<Array<Nullable<BigInt>>, _>(opt(&|s| s.after.weee_batch_id))
            .bind::<Array<Nullable<Text>>, _>(opt_text(&|s| s.after.functional_grade.as_ref()))
            .bind::<Array<Nullable<Text>>, _>(opt_text(&|s| s.after.cosmetic_grade.as_ref()))
            .bind::<Array<Text>, _>(text(&|s| &s.after.lifecycle))
            .bind::<Array<Timestamp>, _>(time(&|s| s.after.updated_at))
            .bind::<Array<Nullable<Text>>, _>(opt_text(&|s| s.event.flow.as_ref()))
            .bind::<Array<Nullable<Text>>, _>(opt_text(&|s| s.after.blocker.as_ref()))
            .bind::<Array<Nullable<Timestamp>>, _>(
                steps
                    .iter()
                    .map(|(_, _, s)| s.change.state_since.flatten())
                    .collect::<Vec<_>>(),
            ),
    )
    .load(pg)
}

/// Applies one step to one item, whole, in the caller's transaction.
pub fn apply(
    conn: &mut DbConnection,
    actor: &Actor,
    item: ItemId,
    req: &EventRequest,
) -> ApiResult<EventResponse> {
    let (key, row, lc, earlier) = match begin(conn, actor, item, req)? {
        Begun::Replayed(answer) => return Ok(*answer),
        Begun::Loaded(key, loaded, earlier) => {
            let (row, lc) = *loaded;
            (key, row, lc, earlier)
        }
    };
    if let Some(step) = own_step(conn, actor, item, req, &lc)? {
        let prepared = prepare_step(actor, item, req, &key, row, earlier, &lc, step)?;
        // `None`: a transaction running beside this one (on PostgreSQL) got in first,
        // with this very key or with a step on the item. Refused as `duplicate`,
        // the request is run again (`routes::write_idempotent`), once that one has committed:
        // it then answers with the first answer, or with the conflict.
        return commit(conn, actor, prepared)?.ok_or_else(|| actor.err(ErrorCode::Duplicate));
    }
    let stamp = Stamp::new(actor, req.occurred_at);
    let at = stamp.recorded_at;
    // Where the step was done: the technician's site, else the item's.
    let site = actor.site.unwrap_or(lc.site);
    let ctx = Context {
        item: Some(item),
        ..Context::default()
    };
    // The other item of a two-item step, written after this one.
    let mut other: Option<ItemRow> = None;

    let (payload, next) = match &req.command {
        Command::HarvestPart {
            code,
            category,
            brand,
            model,
            serial,
            specs,
            weight_g,
            drive_serial,
        } => {
            let code = parse_code(actor, code)?;
            let drive_serial = drive_serial.as_ref().map(|s| s.trim().to_owned());
            // Check the device's side first, with a placeholder for the new part.
            let probe = EventPayload::PartHarvested {
                part: ItemId(0),
                category: *category,
                drive_serial: drive_serial.clone(),
            };
            lifecycle::check(&lc, &probe, &ctx).map_err(refuse(actor))?;
            require_unclaimed(conn, actor, &code)?;
            let drive = drive_serial
                .as_ref()
                .and_then(|s| lc.drives.iter().find(|d| &d.serial == s).cloned());
            let reg = EventPayload::Registered {
                code,
                kind: ItemKind::Part,
                category: *category,
                state: ItemState::InStock,
                site: lc.site,
                collection: row.collection_id.map(CollectionId),
                origin: Some(item),
                drive: drive.clone(),
            };
            let part_lc = lifecycle::register(&reg).map_err(refuse(actor))?;
            let part_row = NewItemRow {
                code: code.as_str().to_owned(),
                kind: ItemKind::Part.as_str().to_owned(),
                category: category.as_str().to_owned(),
                state: part_lc.state.as_str().to_owned(),
                version: 1,
                site_id: lc.site.0,
                parent_id: None,
                origin_id: Some(item.0),
                collection_id: row.collection_id,
                brand: brand.clone(),
                model: model.clone(),
                serial: serial.clone().or_else(|| drive_serial.clone()),
                serial_norm: serial.as_deref().or(drive_serial.as_deref()).map(normalise),
                asset_tag: None,
                asset_tag_norm: None,
                specs: serde_json::to_string(specs).map_err(ApiError::internal)?,
                weight_g: *weight_g,
                weight_estimated: weight_g.is_none(),
                functional_grade: None,
                cosmetic_grade: None,
                weee_batch_id: None,
                lifecycle: serde_json::to_string(&part_lc).map_err(ApiError::internal)?,
                created_at: at,
                updated_at: at,
                spec_key: Some(spec_key_of(*category, specs)),
                blocker: Some(blocker_text(&part_lc)),
                state_since: Some(stamp.occurred_at),
            };
            let part_id: i64 = diesel::insert_into(items::table)
                .values(&part_row)
                .returning(items::id)
                .get_result(conn)?;
            claim_code(conn, actor, &code, part_id, at)?;
            let ev = insert_event(conn, part_id, &reg, lc.site, 1, &stamp, None)?;
            if let Some(serial) = &drive_serial {
                let spec = DriveSpec {
                    serial: serial.clone(),
                    make: brand.clone(),
                    model: model.clone(),
                    size_gb: specs.storage_gb,
                    bus: None,
                    media: None,
                };
                insert_drive_rows(conn, part_id, ev.id, &[spec], at)?;
            }
            other = Some(load_item(conn, ItemId(part_id), actor)?);
            simple(
                &lc,
                EventPayload::PartHarvested {
                    part: ItemId(part_id),
                    category: *category,
                    drive_serial,
                },
                &ctx,
                actor,
            )?
        }
        Command::FitPart {
            part,
            part_expected_version,
        }
        | Command::RemovePart {
            part,
            part_expected_version,
        } => {
            let (part_row, part_lc, _) =
                load_for_write(conn, actor, *part, *part_expected_version)?;
            let step = if matches!(req.command, Command::FitPart { .. }) {
                lifecycle::fit(item, &lc, *part, &part_lc)
            } else {
                lifecycle::remove(item, &lc, *part, &part_lc)
            }
            .map_err(refuse(actor))?;
            let v = save_item(
                conn,
                actor,
                part.0,
                part_row.version,
                &step.part,
                (part_lc.state, &stamp),
            )?
            .version;
            insert_event(
                conn,
                part.0,
                &step.part_event,
                step.part.site,
                v,
                &stamp,
                None,
            )?;
            other = Some(load_item(conn, *part, actor)?);
            (step.device_event, step.device)
        }
        Command::Move { site: to } => {
            site_region(conn, *to, actor)?;
            let p = EventPayload::Moved {
                from: lc.site,
                to: *to,
                with_parent: false,
            };
            let n = lifecycle::apply(&lc, &p, &ctx).map_err(refuse(actor))?;
            // Fitted parts travel with their device.
            for part in &lc.parts {
                let prow = load_item(conn, *part, actor)?;
                let plc = lifecycle_of(&prow)?;
                let pp = EventPayload::Moved {
                    from: plc.site,
                    to: *to,
                    with_parent: true,
                };
                let pn = lifecycle::apply(&plc, &pp, &Context::default()).map_err(refuse(actor))?;
                let v =
                    save_item(conn, actor, part.0, prow.version, &pn, (plc.state, &stamp))?.version;
                insert_event(conn, part.0, &pp, *to, v, &stamp, None)?;
            }
            (p, n)
        }
        Command::Relabel { new_code } => {
            let new = parse_code(actor, new_code)?;
            let old = LabelCode::parse(&row.code).map_err(ApiError::internal)?;
            let p = EventPayload::Relabelled { old, new };
            let n = lifecycle::apply(&lc, &p, &ctx).map_err(refuse(actor))?;
            claim_code(conn, actor, &new, item.0, at)?;
            diesel::update(items::table.find(item.0))
                .set(items::code.eq(new.as_str()))
                .execute(conn)?;
            (p, n)
        }
        Command::AddToWeeeBatch { batch } | Command::RemoveFromWeeeBatch { batch } => {
            let facts = load_weee_facts(conn, actor, *batch)?;
            let p = if matches!(req.command, Command::AddToWeeeBatch { .. }) {
                EventPayload::WeeeAdded { batch: *batch }
            } else {
                EventPayload::WeeeRemoved { batch: *batch }
            };
            let n = lifecycle::apply(
                &lc,
                &p,
                &Context {
                    weee_batch: Some(facts),
                    ..ctx
                },
            )
            .map_err(refuse(actor))?;
            (p, n)
        }
        Command::CorrectLast { event, reason } => correct(conn, actor, item, *event, reason)?,
        Command::Receive { .. }
        | Command::Triage { .. }
        | Command::DeclareDrives { .. }
        | Command::DeclareNoDrive
        | Command::EraseDrive { .. }
        | Command::DestroyDrive { .. }
        | Command::FinishTeardown
        | Command::TestPart { .. }
        | Command::QaTest { .. }
        | Command::MarkReady
        | Command::Reopen { .. }
        | Command::MarkForRecycling => {
            return Err(ApiError::internal(
                "an own-item step reached the whole path",
            ));
        }
    };

    let change = save_item(
        conn,
        actor,
        item.0,
        req.expected_version,
        &next,
        (lc.state, &stamp),
    )?;
    let ev = insert_event(
        conn,
        item.0,
        &payload,
        site,
        change.version,
        &stamp,
        Some(&key),
    )?;
    project(conn, item.0, &ev, &payload, &stamp)?;
    // The update above is the only change to the item's row, but for a new label.
    let item_row = match req.command {
        Command::Relabel { .. } => load_item(conn, item, actor)?,
        _ => change.applied(row),
    };
    let other_view = match other {
        Some(o) => {
            let row = load_item(conn, ItemId(o.id), actor)?;
            Some(full_view(conn, &row, actor.lang)?)
        }
        None => None,
    };
    let response = EventResponse {
        event: super::items::event_view(&ev, Some(actor.name.clone()))?,
        item: full_view(conn, &item_row, actor.lang)?,
        other: other_view,
    };
    finish(conn, ev.id, &response)?;
    Ok(response)
}

fn simple(
    lc: &Lifecycle,
    payload: EventPayload,
    ctx: &Context,
    actor: &Actor,
) -> ApiResult<(EventPayload, Lifecycle)> {
    let next = lifecycle::apply(lc, &payload, ctx).map_err(refuse(actor))?;
    Ok((payload, next))
}

/// A compensating event: the item's lifecycle is replayed without the corrected step.
fn correct(
    conn: &mut DbConnection,
    actor: &Actor,
    item: ItemId,
    target: EventId,
    reason: &str,
) -> ApiResult<(EventPayload, Lifecycle)> {
    let rows: Vec<(i64, String)> = item_events::table
        .filter(item_events::item_id.eq(item.0))
        .order(item_events::id.asc())
        .select((item_events::id, item_events::payload))
        .load(conn)?;
    let mut history = Vec::with_capacity(rows.len() + 1);
    for (id, json) in &rows {
        let p: EventPayload = serde_json::from_str(json).map_err(ApiError::internal)?;
        history.push((EventId(*id), p));
    }
    let payload = EventPayload::Corrected {
        event: target,
        reason: reason.to_owned(),
    };
    history.push((EventId(i64::MAX), payload.clone()));
    let next = lifecycle::replay(history.iter().map(|(id, p)| (*id, p))).map_err(|e| match e {
        lifecycle::ReplayError::Refused(r) => ApiError::refusal(&r, actor.lang),
        other => ApiError::internal(other),
    })?;
    Ok((payload, next))
}

/// Keeps the query tables (drives, erasure records, QA reports) in step with an event.
fn project(
    conn: &mut DbConnection,
    item: i64,
    ev: &EventRow,
    payload: &EventPayload,
    stamp: &Stamp,
) -> ApiResult<()> {
    if touches_catalogue(payload) {
        super::catalogue::sync(conn, item, stamp.recorded_at)?;
    }
    match payload {
        EventPayload::DrivesDeclared { drives } => {
            insert_drive_rows(conn, item, ev.id, drives, stamp.recorded_at)?;
        }
        EventPayload::DriveErased { serial, erasure } => {
            Kept(
                diesel::insert_into(erasure_records::table).values(NewErasureRow {
                    event_id: ev.id,
                    item_id: item,
                    drive_serial: serial.clone(),
                    level: erasure.level.as_str().to_owned(),
                    technique: erasure.technique.as_str().to_owned(),
                    tool: erasure.tool.clone(),
                    tool_version: erasure.tool_version.clone(),
                    method: erasure.method.clone(),
                    passes: erasure.passes.map(|p| p as i32),
                    verified: erasure.verified,
                    started_at: truncate(erasure.started_at),
                    ended_at: truncate(erasure.ended_at),
                    result: erasure.result.as_str().to_owned(),
                    report: erasure.report.clone(),
                    operator_id: stamp.actor,
                    bench_id: stamp.bench,
                    created_at: stamp.recorded_at,
                }),
            )
            .execute(conn)?;
        }
        EventPayload::QaTested { report } => {
            Kept(
                diesel::insert_into(qa_reports::table).values(NewQaReportRow {
                    event_id: ev.id,
                    item_id: item,
                    passed: report.passed(),
                    functional_grade: report.functional_grade.map(|g| g.as_str().to_owned()),
                    cosmetic_grade: report.cosmetic_grade.map(|g| g.as_str().to_owned()),
                    os_installed: report.os_installed.clone(),
                    checks: serde_json::to_string(&report.checks).map_err(ApiError::internal)?,
                    notes: report.notes.clone(),
                    tester_id: stamp.actor,
                    bench_id: stamp.bench,
                    created_at: stamp.recorded_at,
                }),
            )
            .execute(conn)?;
        }
        EventPayload::Corrected { event, .. } => {
            // The projections of the undone step no longer count.
            diesel::update(erasure_records::table.filter(erasure_records::event_id.eq(event.0)))
                .set(erasure_records::voided_by.eq(ev.id))
                .execute(conn)?;
            diesel::update(qa_reports::table.filter(qa_reports::event_id.eq(event.0)))
                .set(qa_reports::voided_by.eq(ev.id))
                .execute(conn)?;
            diesel::delete(drives::table.filter(drives::event_id.eq(event.0))).execute(conn)?;
        }
        _ => {}
    }
    Ok(())
}

/// Steps after which a device may have entered or left `ready`, or changed site.
fn touches_catalogue(payload: &EventPayload) -> bool {
    matches!(
        payload,
        EventPayload::MarkedReady
            | EventPayload::Reopened { .. }
            | EventPayload::Moved { .. }
            | EventPayload::Corrected { .. }
            | EventPayload::Reserved { .. }
            | EventPayload::ReservationEnded { .. }
            | EventPayload::Sold { .. }
    )
}

/// A step the server takes on an item of its own accord or for a social worker (a
/// reservation's hold, its end): checked by the lifecycle rules like any other, and
/// written only if the item is still at the version `row` was read at. `None` when it
/// has moved on (another request, or another server process, got there first):
/// nothing is written. `actor` is absent for the server's own sweeps.
pub fn system_step(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    row: &ItemRow,
    payload: EventPayload,
    lang: Lang,
) -> ApiResult<Option<ItemRow>> {
    system_step_done(conn, actor, row, payload, lang, None)
}

/// [`system_step`], done at `done` when given (recorded now, dated then).
pub fn system_step_done(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    row: &ItemRow,
    payload: EventPayload,
    lang: Lang,
    done: Option<chrono::NaiveDateTime>,
) -> ApiResult<Option<ItemRow>> {
    let lc = lifecycle_of(row)?;
    let ctx = Context {
        item: Some(ItemId(row.id)),
        ..Context::default()
    };
    let next = lifecycle::apply(&lc, &payload, &ctx).map_err(|r| ApiError::refusal(&r, lang))?;
    let at = now();
    let stamp = Stamp {
        actor: actor.map(|a| a.user.0),
        bench: None,
        occurred_at: done.unwrap_or(at),
        recorded_at: at,
    };
    let mut change = ItemChange::new(&next, row.version + 1, at)?.against(row);
    if let Some(done) = done {
        change = change.dated(lc.state, done);
    }
    if update_item(conn, row.id, row.version, &change)? != 1 {
        return Ok(None);
    }
    let ev = insert_event(
        conn,
        row.id,
        &payload,
        SiteId(row.site_id),
        change.version,
        &stamp,
        None,
    )?;
    project(conn, row.id, &ev, &payload, &stamp)?;
    Ok(Some(change.applied(row.clone())))
}
