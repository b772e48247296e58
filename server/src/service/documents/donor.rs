//! The documents a donor receives about a collection: the receipt, the erasure
//! certificate once no data can be left on anything it gave (its data read in
//! `certificates`), and the outcome report. Each is prepared from
//! the records on a read connection, then kept in the register of issued documents.

use super::certificates::{Held, held, may_sign, pending, pending_of, refuse_pending, sanitised};
use super::issued;
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::documents::{Identity, Issued, erasure, outcome, receipt};
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{items, organisations, weee_batches};
use crate::service::collections;
use chrono::Utc;
use diesel::prelude::*;
use filiere_shared::api::CollectionView;
use filiere_shared::documents::*;
use filiere_shared::names::Named;
use filiere_shared::validate::FieldError;
use filiere_shared::*;
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
                Some(code) => format!("montée dans l'appareil {}", code::LabelCode::readable(code)),
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
                    .map(|p| {
                        format!(
                            "{} {} : {}",
                            p.category.name(Lang::Fr),
                            code::LabelCode::readable(&p.code),
                            fate(p)
                        )
                    })
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
