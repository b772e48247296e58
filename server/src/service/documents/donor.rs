//! The documents a donor receives about a collection: the receipt, and the erasure
//! certificate once no data can be left on anything it gave. Each is prepared from
//! the records on a read connection, then kept in the register of issued documents.

use super::issued;
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::documents::{Identity, Issued, erasure, outcome, receipt};
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{
    drives, erasure_records, item_events, items, organisations, users, weee_batches,
};
use crate::service::{collections, normalise, parse_stored};
use chrono::Utc;
use diesel::prelude::*;
use filiere_shared::api::{CollectionView, ItemDetail};
use filiere_shared::documents::*;
use filiere_shared::lifecycle::{EventPayload, Lifecycle};
use filiere_shared::names::Named;
use filiere_shared::validate::FieldError;
use filiere_shared::*;
use serde_json::json;
use std::collections::HashMap;

/// The register's subject of a collection's documents.
pub fn subject(id: CollectionId) -> String {
    format!("collection:{id}")
}

/// A collection's documents, what keeps its certificate back, and whether the caller
/// may sign one.
pub fn overview(
    conn: &mut DbConnection,
    actor: &Actor,
    id: CollectionId,
) -> ApiResult<CollectionDocuments> {
    collections::get(conn, actor, id)?;
    Ok(CollectionDocuments {
        collection: id,
        issued: issued::list(conn, &subject(id))?,
        pending: pending(conn, id)?,
        may_sign: may_sign(conn, actor)?,
    })
}

/// A technician or coordinator holding the data-security right (read now, so that a
/// right taken back applies at once).
fn may_sign(conn: &mut DbConnection, actor: &Actor) -> ApiResult<bool> {
    if !matches!(actor.role, Role::Technician | Role::Coordinator) {
        return Ok(false);
    }
    Ok(users::table
        .find(actor.user.0)
        .select(users::data_security)
        .first(conn)?)
}

/// One item of the collection as the documents read it.
struct Held {
    id: i64,
    code: String,
    kind: ItemKind,
    category: Category,
    brand: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    asset_tag: Option<String>,
    origin: Option<i64>,
    weight_g: Option<i64>,
    estimated: bool,
    lifecycle: Lifecycle,
}

impl Held {
    fn model(&self) -> String {
        [self.brand.as_deref(), self.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn device(&self) -> erasure::Device {
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

/// Every item of the collection, the parts harvested from its devices included, in
/// the order they were registered.
/// Whose items: a collection's, or one device's (with the parts taken from it).
#[derive(Debug, Clone, Copy)]
enum Of {
    Collection(CollectionId),
    Device(ItemId),
}

fn held(conn: &mut DbConnection, id: CollectionId) -> ApiResult<Vec<Held>> {
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

fn pending_of(held: &[Held]) -> Vec<PendingDrive> {
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

/// Prepares a document about a collection, its identifier printed in it; nothing is
/// kept until [`issue`]. The receipt: the collection's staff. The certificate: a
/// technician of the site or a coordinator of the region with the data-security
/// right, once nothing is pending.
pub fn prepare(
    conn: &mut DbConnection,
    actor: &Actor,
    id: CollectionId,
    kind: DocumentKind,
    base_url: &str,
    clock: Clock,
) -> ApiResult<issued::Draft> {
    let c = collections::get(conn, actor, id)?;
    let held = held(conn, id)?;
    let signed = match kind {
        DocumentKind::CollectionReceipt | DocumentKind::OutcomeReport => false,
        DocumentKind::WeeeSlip | DocumentKind::TrainingAttestation => {
            return Err(not_of_a_collection(actor));
        }
        DocumentKind::ErasureCertificate => {
            actor.require(&[Role::Technician, Role::Coordinator])?;
            if !may_sign(conn, actor)? {
                return Err(actor.err(ErrorCode::DataSecurityRequired));
            }
            if held.is_empty() {
                return Err(ApiError::rule(
                    FieldError::new(
                        "kind",
                        "aucun objet enregistré : rien à certifier",
                        "no item registered: nothing to certify",
                    ),
                    actor.lang,
                ));
            }
            refuse_pending(actor, &pending_of(&held))?;
            true
        }
    };
    let who = issued::issuer(conn, c.site)?;
    let (donor_siret, donor_address): (Option<String>, Option<String>) = organisations::table
        .find(c.donor.0)
        .select((organisations::siret, organisations::address))
        .first(conn)?;
    let doc_id = issued::new_id();
    let verify_url = format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        issued::verify_path(&doc_id)
    );
    let now = Utc::now();
    let identity = who.identity();
    let stamp = Issued {
        id: &doc_id,
        verify_url: &verify_url,
    };
    let donor = Identity {
        name: &c.donor_name,
        siret: donor_siret.as_deref(),
        address: donor_address.as_deref(),
    };
    let pdf = match kind {
        DocumentKind::CollectionReceipt => {
            let lines: Vec<receipt::Line> = held
                .iter()
                .filter(|h| h.origin.is_none())
                .map(|h| receipt::Line {
                    code: h.code.clone(),
                    category: h.category,
                    model: h.model(),
                    serial: h.serial.clone(),
                    asset_tag: h.asset_tag.clone(),
                    weight_g: h.weight_g,
                    estimated: h.estimated,
                    received: h.lifecycle.state != ItemState::Collected,
                })
                .collect();
            receipt::render(&receipt::Receipt {
                issuer: identity,
                issued: stamp,
                donor,
                collection: &c,
                site: &who.site_name,
                lines: &lines,
                issued_at: now,
                issued_by: &actor.name,
                clock,
            })
        }
        DocumentKind::ErasureCertificate => {
            let (drives, without_drive) = sanitised(conn, &held)?;
            erasure::render(&erasure::Certificate {
                issuer: identity,
                issued: stamp,
                donor: Some((donor, &c)),
                device: None,
                site: &who.site_name,
                drives: &drives,
                without_drive: &without_drive,
                issued_at: now,
                signer: &actor.name,
                signer_role: actor.role.name(Lang::Fr),
                clock,
            })
        }
        DocumentKind::WeeeSlip | DocumentKind::TrainingAttestation => {
            return Err(not_of_a_collection(actor));
        }
        DocumentKind::OutcomeReport => {
            let factors = crate::service::dashboards::factors(conn)?;
            let extra_years = crate::service::dashboards::extra_years(conn)?;
            let lines = outcomes(conn, &held, &factors, extra_years, clock)?;
            let mut sources: Vec<String> = lines
                .iter()
                .filter(|l| l.co2e_g > 0)
                .filter_map(|l| factors.get(&l.category)?.avoided_source.clone())
                .collect();
            sources.sort();
            sources.dedup();
            outcome::render(&outcome::Report {
                issuer: identity,
                issued: stamp,
                donor,
                public_body: c.donor_public_body,
                collection: &c,
                site: &who.site_name,
                lines: &lines,
                extra_years,
                sources: &sources,
                issued_at: now,
                issued_by: &actor.name,
                clock,
            })
        }
    }
    .map_err(ApiError::internal)?;
    Ok(issued::Draft {
        title: title(kind, &c, clock),
        id: doc_id,
        kind,
        subject: subject(id),
        issuer: who.org,
        issuer_name: who.name,
        site: Some(c.site),
        region: who.region,
        audience: None,
        issued_by: actor.user,
        signed,
        issued_at: now,
        pdf,
    })
}

fn not_of_a_collection(actor: &Actor) -> ApiError {
    ApiError::rule(
        FieldError::new(
            "kind",
            "une collecte a son reçu, son certificat d'effacement et son rapport de devenir",
            "a collection has its receipt, its erasure certificate and its outcome report",
        ),
        actor.lang,
    )
}

/// What the public page says a document is: its kind and the collection's date and
/// reference, never the donor's name.
fn title(kind: DocumentKind, c: &CollectionView, clock: Clock) -> String {
    let mut t = format!(
        "{}, collecte du {}",
        kind.name(Lang::Fr),
        clock.date_text(c.pickup_date)
    );
    if let Some(r) = &c.reference {
        t.push_str(&format!(" (réf. {r})"));
    }
    t
}

fn refuse_pending(actor: &Actor, pending: &[PendingDrive]) -> ApiResult<()> {
    if pending.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(ErrorCode::DrivesPending)
        .with_details(json!({ "pending": pending }))
        .in_lang(actor.lang))
}

/// Keeps a prepared document (a certificate only if, at this moment still, nothing
/// of its collection is pending).
pub fn issue(
    conn: &mut DbConnection,
    actor: &Actor,
    id: CollectionId,
    draft: &issued::Draft,
) -> ApiResult<IssuedDocument> {
    if draft.kind == DocumentKind::ErasureCertificate {
        refuse_pending(actor, &pending(conn, id)?)?;
    }
    issued::record(conn, draft)
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
fn sanitised(
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

/// What became of each item the donor gave, with where its parts and its WEEE batch
/// went.
fn outcomes(
    conn: &mut DbConnection,
    held: &[Held],
    factors: &std::collections::BTreeMap<Category, crate::service::dashboards::Factor>,
    extra_years: i64,
    clock: Clock,
) -> ApiResult<Vec<outcome::Line>> {
    // The WEEE batches of the items and parts, and the devices parts were fitted in.
    let batches: Vec<i64> = held
        .iter()
        .filter_map(|h| h.lifecycle.weee_batch.map(|b| b.0))
        .collect();
    type BatchColumns = (
        i64,
        String,
        Option<chrono::NaiveDateTime>,
        Option<String>,
        String,
    );
    let batch_rows: Vec<BatchColumns> = weee_batches::table
        .inner_join(organisations::table.on(organisations::id.eq(weee_batches::recycler_id)))
        .filter(weee_batches::id.eq_any(&batches))
        .select((
            weee_batches::id,
            weee_batches::status,
            weee_batches::handed_over_at,
            weee_batches::waste_form_ref,
            organisations::name,
        ))
        .load(conn)?;
    let batch_text = |id: Option<WeeeBatchId>| -> String {
        let Some(id) = id else {
            return "en attente d'un lot DEEE".to_owned();
        };
        match batch_rows.iter().find(|b| b.0 == id.0) {
            Some((_, status, at, form, recycler)) => {
                let mut t = format!("lot DEEE n° {} confié à {recycler}", id.0);
                match (status.as_str(), at) {
                    ("handed_over", Some(at)) => {
                        t.push_str(&format!(", remis le {}", clock.day(utc(*at))));
                        if let Some(f) = form {
                            t.push_str(&format!(", bordereau {f}"));
                        }
                    }
                    _ => t.push_str(", en préparation"),
                }
                t
            }
            None => format!("lot DEEE n° {}", id.0),
        }
    };
    let parents: Vec<i64> = held
        .iter()
        .filter_map(|h| h.lifecycle.parent.map(|p| p.0))
        .collect();
    let parent_codes: HashMap<i64, String> = items::table
        .filter(items::id.eq_any(&parents))
        .select((items::id, items::code))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let fate = |h: &Held| -> String {
        match h.lifecycle.state {
            ItemState::Fitted => match h.lifecycle.parent.and_then(|p| parent_codes.get(&p.0)) {
                Some(code) => format!("montée dans l'appareil {code}"),
                None => "montée dans un autre appareil".to_owned(),
            },
            ItemState::InStock | ItemState::TestedGood => "en stock, prête au réemploi".to_owned(),
            ItemState::Faulty => "défectueuse".to_owned(),
            ItemState::ToRecycle | ItemState::Recycled => {
                format!("recyclée ({})", batch_text(h.lifecycle.weee_batch))
            }
            ItemState::Destroyed => "détruite".to_owned(),
            other => other.name(Lang::Fr).to_lowercase(),
        }
    };
    let mut out = Vec::new();
    for h in held.iter().filter(|h| h.origin.is_none()) {
        let outcome = Outcome::of(h.lifecycle.state);
        let factor = factors.get(&h.category);
        let (weight_g, estimated) = match h.weight_g {
            Some(g) => (g, h.estimated),
            None => (factor.map_or(0, |f| f.estimated_weight_g), true),
        };
        let co2e_g = match outcome {
            Outcome::Reused | Outcome::ReadyForReuse if h.kind == ItemKind::Device => factor
                .and_then(|f| f.avoided_g_per_year)
                .map_or(0, |a| a * extra_years),
            _ => 0,
        };
        let detail = match outcome {
            Outcome::Parts => {
                let parts: Vec<String> = held
                    .iter()
                    .filter(|p| p.origin == Some(h.id))
                    .map(|p| format!("{} {} : {}", p.category.name(Lang::Fr), p.code, fate(p)))
                    .collect();
                Some(if parts.is_empty() {
                    "aucune pièce récupérée pour l'instant".to_owned()
                } else {
                    parts.join(" ; ")
                })
            }
            Outcome::Recycled | Outcome::AwaitingRecycling => {
                Some(batch_text(h.lifecycle.weee_batch))
            }
            _ if h.kind == ItemKind::Part => Some(fate(h)),
            _ => None,
        };
        out.push(outcome::Line {
            code: h.code.clone(),
            category: h.category,
            model: h.model(),
            asset_tag: h.asset_tag.clone(),
            outcome,
            weight_g,
            estimated,
            co2e_g,
            detail,
        });
    }
    Ok(out)
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
    let code = item.code.to_string();
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
