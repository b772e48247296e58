//! The erasure certificates' data: the items of a collection or a device (the parts
//! harvested from them included), what keeps a certificate back, who may sign one,
//! and each drive with what was done to it; a device's own certificate. A
//! collection's certificate is prepared with the donor's other documents.

use super::issued;
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::documents::{Identity, Issued, erasure};
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{drives, erasure_records, item_events, items, organisations, users};
use crate::service::{collections, normalise, parse_stored};
use chrono::Utc;
use diesel::prelude::*;
use filiere_shared::api::ItemDetail;
use filiere_shared::documents::*;
use filiere_shared::lifecycle::{EventPayload, Lifecycle};
use filiere_shared::names::Named;
use filiere_shared::validate::FieldError;
use filiere_shared::*;
use serde_json::json;
use std::collections::HashMap;

/// A technician or coordinator holding the data-security right (read now, so that a
/// right taken back applies at once).
pub(super) fn may_sign(conn: &mut DbConnection, actor: &Actor) -> ApiResult<bool> {
    if !matches!(actor.role, Role::Technician | Role::Coordinator) {
        return Ok(false);
    }
    Ok(users::table
        .find(actor.user.0)
        .select(users::data_security)
        .first(conn)?)
}

/// One item of the collection as the documents read it.
pub(super) struct Held {
    pub(super) id: i64,
    pub(super) code: String,
    pub(super) kind: ItemKind,
    pub(super) category: Category,
    pub(super) brand: Option<String>,
    pub(super) model: Option<String>,
    pub(super) serial: Option<String>,
    pub(super) asset_tag: Option<String>,
    pub(super) origin: Option<i64>,
    pub(super) weight_g: Option<i64>,
    pub(super) estimated: bool,
    pub(super) lifecycle: Lifecycle,
}

impl Held {
    pub(super) fn model(&self) -> String {
        [self.brand.as_deref(), self.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub(super) fn device(&self) -> erasure::Device {
        erasure::Device {
            code: self.code.clone(),
            category: self.category,
            model: self.model(),
            serial: self.serial.clone(),
            asset_tag: self.asset_tag.clone(),
        }
    }
}

type HeldColumns = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    bool,
    String,
);

/// Whose items: a collection's, or one device's (with the parts taken from it).
#[derive(Debug, Clone, Copy)]
enum Of {
    Collection(CollectionId),
    Device(ItemId),
}

/// Every item of the collection, the parts harvested from its devices included, in
/// the order they were registered.
pub(super) fn held(conn: &mut DbConnection, id: CollectionId) -> ApiResult<Vec<Held>> {
    held_of(conn, Of::Collection(id))
}

fn held_of(conn: &mut DbConnection, of: Of) -> ApiResult<Vec<Held>> {
    let query = items::table.order(items::id).into_boxed();
    let query = match of {
        Of::Collection(id) => query.filter(items::collection_id.eq(id.0)),
        Of::Device(id) => query.filter(items::id.eq(id.0).or(items::origin_id.eq(id.0))),
    };
    let rows: Vec<HeldColumns> = query
        .select((
            items::id,
            items::code,
            items::kind,
            items::category,
            items::brand,
            items::model,
            items::serial,
            items::asset_tag,
            items::origin_id,
            items::weight_g,
            items::weight_estimated,
            items::lifecycle,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(Held {
                id: r.0,
                code: r.1,
                kind: parse_stored(&r.2)?,
                category: parse_stored(&r.3)?,
                brand: r.4,
                model: r.5,
                serial: r.6,
                asset_tag: r.7,
                origin: r.8,
                weight_g: r.9,
                estimated: r.10,
                lifecycle: serde_json::from_str(&r.11).map_err(ApiError::internal)?,
            })
        })
        .collect()
}

/// What keeps the erasure certificate back: each drive neither erased nor destroyed,
/// and each device (or loose drive) whose drives are not declared yet.
pub fn pending(conn: &mut DbConnection, id: CollectionId) -> ApiResult<Vec<PendingDrive>> {
    Ok(pending_of(&held(conn, id)?))
}

pub(super) fn pending_of(held: &[Held]) -> Vec<PendingDrive> {
    let mut out = Vec::new();
    for h in held.iter().filter(|h| !h.lifecycle.data_gone()) {
        let serials = h.lifecycle.unsanitised_drives();
        if serials.is_empty() {
            out.push(PendingDrive {
                item: ItemId(h.id),
                code: h.code.clone(),
                serial: None,
            });
        }
        for s in serials {
            out.push(PendingDrive {
                item: ItemId(h.id),
                code: h.code.clone(),
                serial: Some(s),
            });
        }
    }
    out
}

pub(super) fn refuse_pending(actor: &Actor, pending: &[PendingDrive]) -> ApiResult<()> {
    if pending.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(ErrorCode::DrivesPending)
        .with_details(json!({ "pending": pending }))
        .in_lang(actor.lang))
}

/// A drive's make, model and size, as declared.
type DriveFacts = (Option<String>, Option<String>, Option<i32>);

type ErasureColumns = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i32>,
    bool,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
    String,
    Option<String>,
    Option<i64>,
);

/// Each drive of the collection with what was done to it, and the devices recorded
/// as holding none.
pub(super) fn sanitised(
    conn: &mut DbConnection,
    held: &[Held],
) -> ApiResult<(Vec<erasure::Drive>, Vec<erasure::Device>)> {
    let ids: Vec<i64> = held.iter().map(|h| h.id).collect();
    let by_id: HashMap<i64, &Held> = held.iter().map(|h| (h.id, h)).collect();
    // The erasures that count (not undone), the last one of each drive winning.
    let erasures: Vec<ErasureColumns> = erasure_records::table
        .filter(erasure_records::item_id.eq_any(&ids))
        .filter(erasure_records::voided_by.is_null())
        .filter(erasure_records::result.eq(ErasureResult::Erased.as_str()))
        .order(erasure_records::id)
        .select((
            erasure_records::item_id,
            erasure_records::drive_serial,
            erasure_records::level,
            erasure_records::technique,
            erasure_records::tool,
            erasure_records::tool_version,
            erasure_records::method,
            erasure_records::passes,
            erasure_records::verified,
            erasure_records::started_at,
            erasure_records::ended_at,
            erasure_records::result,
            erasure_records::report,
            erasure_records::operator_id,
        ))
        .load(conn)?;
    let erased: HashMap<String, ErasureColumns> =
        erasures.into_iter().map(|e| (e.1.clone(), e)).collect();
    let events: Vec<(i64, String, String, Option<i64>, chrono::NaiveDateTime)> = item_events::table
        .filter(item_events::item_id.eq_any(&ids))
        .filter(item_events::event_type.eq_any([
            EventType::DriveDestroyed.as_str(),
            EventType::NoDriveDeclared.as_str(),
        ]))
        .order(item_events::id)
        .select((
            item_events::item_id,
            item_events::event_type,
            item_events::payload,
            item_events::actor_id,
            item_events::occurred_at,
        ))
        .load(conn)?;
    let mut destroyed = HashMap::new();
    let mut no_drive = Vec::new();
    for (item, _, payload, actor, at) in events {
        match serde_json::from_str::<EventPayload>(&payload).map_err(ApiError::internal)? {
            EventPayload::DriveDestroyed {
                serial,
                method,
                notes,
            } => {
                destroyed.insert(serial, (method, notes, actor, at));
            }
            EventPayload::NoDriveDeclared => no_drive.push(item),
            _ => {}
        }
    }
    let drive_rows: Vec<(String, DriveFacts)> = drives::table
        .filter(drives::item_id.eq_any(&ids))
        .select((
            drives::serial_norm,
            (drives::make, drives::model, drives::size_gb),
        ))
        .load(conn)?;
    let drive_facts: HashMap<String, DriveFacts> = drive_rows.into_iter().collect();
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut name_of = |conn: &mut DbConnection, user: Option<i64>| -> ApiResult<String> {
        let Some(u) = user else {
            return Ok("—".to_owned());
        };
        if let Some(n) = names.get(&u) {
            return Ok(n.clone());
        }
        let n: String = users::table
            .find(u)
            .select(users::display_name)
            .first(conn)?;
        names.insert(u, n.clone());
        Ok(n)
    };
    let mut out = Vec::new();
    for h in held {
        for d in &h.lifecycle.drives {
            // A drive part shows the device it came from.
            let device = match h.origin.and_then(|o| by_id.get(&o)) {
                Some(origin) if h.kind == ItemKind::Part => origin.device(),
                _ => h.device(),
            };
            let (make, model, size_gb) = drive_facts
                .get(&normalise(&d.serial))
                .cloned()
                .unwrap_or((h.brand.clone(), h.model.clone(), None));
            let (done, by) = match d.status {
                DriveStatus::Erased => {
                    let Some(e) = erased.get(&d.serial) else {
                        return Err(ApiError::internal(format!(
                            "erased drive {} has no erasure record",
                            d.serial
                        )));
                    };
                    (
                        erasure::Sanitised::Erased {
                            level: parse_stored(&e.2)?,
                            technique: parse_stored(&e.3)?,
                            tool: e.4.clone(),
                            tool_version: e.5.clone(),
                            method: e.6.clone(),
                            passes: e.7,
                            verified: e.8,
                            started_at: utc(e.9),
                            ended_at: utc(e.10),
                            result: parse_stored(&e.11)?,
                            report: e.12.clone(),
                        },
                        name_of(conn, e.13)?,
                    )
                }
                DriveStatus::Destroyed => {
                    let Some((method, notes, actor, at)) = destroyed.get(&d.serial) else {
                        return Err(ApiError::internal(format!(
                            "destroyed drive {} has no destruction event",
                            d.serial
                        )));
                    };
                    (
                        erasure::Sanitised::Destroyed {
                            method: method.clone(),
                            notes: notes.clone(),
                            at: utc(*at),
                        },
                        name_of(conn, *actor)?,
                    )
                }
                // Refused before: nothing is pending when a certificate is drawn.
                _ => continue,
            };
            out.push(erasure::Drive {
                serial: d.serial.clone(),
                make,
                model,
                size_gb,
                device,
                done,
                by,
            });
        }
    }
    let without_drive = held
        .iter()
        .filter(|h| no_drive.contains(&h.id) && h.lifecycle.drives.is_empty())
        .map(Held::device)
        .collect();
    Ok((out, without_drive))
}

/// The register's subject of a device's own documents.
pub fn device_subject(id: ItemId) -> String {
    format!("item:{id}")
}

/// A device's documents (the staff of its site and region).
pub fn device_documents(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ItemId,
) -> ApiResult<Vec<IssuedDocument>> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])?;
    crate::service::items::get(conn, id, actor)?;
    issued::list(conn, &device_subject(id))
}

/// A device's own erasure certificate, for a donor who wants one per machine: every
/// drive found in it (those harvested from it too) erased or destroyed, or it recorded
/// as having none; signed as a collection's by a holder of the data-security right.
pub fn prepare_device(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ItemId,
    kind: DocumentKind,
    base_url: &str,
    clock: Clock,
) -> ApiResult<issued::Draft> {
    actor.require(&[Role::Technician, Role::Coordinator])?;
    let detail = crate::service::items::get(conn, id, actor)?;
    let ItemDetail::Full(item) = detail else {
        return Err(actor.err(ErrorCode::ItemNotFound));
    };
    if kind != DocumentKind::ErasureCertificate || item.kind != ItemKind::Device {
        return Err(ApiError::rule(
            FieldError::new(
                "kind",
                "un appareil a son certificat d'effacement (erasure_certificate)",
                "a device has its erasure certificate (erasure_certificate)",
            ),
            actor.lang,
        ));
    }
    if !may_sign(conn, actor)? {
        return Err(actor.err(ErrorCode::DataSecurityRequired));
    }
    let held = held_of(conn, Of::Device(id))?;
    refuse_pending(actor, &pending_of(&held))?;
    let who = issued::issuer(conn, item.site)?;
    let collection = match item.collection {
        Some(c) => Some(collections::get(conn, actor, c)?),
        None => None,
    };
    let donor_facts: Option<(Option<String>, Option<String>)> = match &collection {
        Some(c) => Some(
            organisations::table
                .find(c.donor.0)
                .select((organisations::siret, organisations::address))
                .first(conn)?,
        ),
        None => None,
    };
    let doc_id = issued::new_id();
    let verify_url = format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        issued::verify_path(&doc_id)
    );
    let now = Utc::now();
    let (drives, without_drive) = sanitised(conn, &held)?;
    let code = item.code.hyphenated();
    let donor = match (&collection, &donor_facts) {
        (Some(c), Some((siret, address))) => Some((
            Identity {
                name: &c.donor_name,
                siret: siret.as_deref(),
                address: address.as_deref(),
            },
            c,
        )),
        _ => None,
    };
    let pdf = erasure::render(&erasure::Certificate {
        issuer: who.identity(),
        issued: Issued {
            id: &doc_id,
            verify_url: &verify_url,
        },
        donor,
        device: Some(&code),
        site: &who.site_name,
        drives: &drives,
        without_drive: &without_drive,
        issued_at: now,
        signer: &actor.name,
        signer_role: actor.role.name(Lang::Fr),
        clock,
    })
    .map_err(ApiError::internal)?;
    Ok(issued::Draft {
        title: format!("{}, appareil {code}", kind.name(Lang::Fr)),
        id: doc_id,
        kind,
        subject: device_subject(id),
        issuer: who.org,
        issuer_name: who.name.clone(),
        site: Some(item.site),
        region: who.region,
        audience: None,
        issued_by: actor.user,
        signed: true,
        issued_at: now,
        pdf,
    })
}

/// Keeps a device's certificate if, at this moment still, nothing of it is pending.
pub fn issue_device(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ItemId,
    draft: &issued::Draft,
) -> ApiResult<IssuedDocument> {
    refuse_pending(actor, &pending_of(&held_of(conn, Of::Device(id))?))?;
    issued::record(conn, draft)
}
