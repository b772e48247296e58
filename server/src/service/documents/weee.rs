//! The recycler's slip of a WEEE batch: issued once the batch is closed with its
//! weighed mass (and again after the handover, with the tracking form's reference).

use super::issued;
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::documents::{Identity, Issued, weee_slip};
use crate::error::{ApiError, ApiResult};
use crate::schema::{collections, items, organisations, sites};
use crate::service::{parse_stored, weee};
use chrono::Utc;
use diesel::prelude::*;
use filiere_shared::documents::*;
use filiere_shared::names::Named;
use filiere_shared::validate::FieldError;
use filiere_shared::*;

/// The register's subject of a batch's documents.
pub fn subject(id: WeeeBatchId) -> String {
    format!("weee_batch:{id}")
}

/// A batch's documents (its staff: the site's technicians, the region's coordinator,
/// admins).
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    id: WeeeBatchId,
) -> ApiResult<Vec<IssuedDocument>> {
    weee::get(conn, actor, id)?;
    issued::list(conn, &subject(id))
}

type ItemColumns = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// Prepares the slip of a closed or handed-over batch; nothing is kept until
/// [`issued::record`].
pub fn prepare(
    conn: &mut DbConnection,
    actor: &Actor,
    id: WeeeBatchId,
    kind: DocumentKind,
    base_url: &str,
    clock: Clock,
) -> ApiResult<issued::Draft> {
    let batch = weee::get(conn, actor, id)?;
    if kind != DocumentKind::WeeeSlip {
        return Err(ApiError::rule(
            FieldError::new(
                "kind",
                "un lot DEEE n'a que son bon de remise (weee_slip)",
                "a WEEE batch only has its handover slip (weee_slip)",
            ),
            actor.lang,
        ));
    }
    if batch.status == WeeeBatchStatus::Open {
        return Err(actor.err(ErrorCode::WeeeBatchNotClosed));
    }
    let who = issued::issuer(conn, batch.site)?;
    let site_address: Option<String> = sites::table
        .find(batch.site.0)
        .select(sites::address)
        .first(conn)?;
    let (name, siret, address, status): (String, Option<String>, Option<String>, Option<String>) =
        organisations::table
            .find(batch.recycler.0)
            .select((
                organisations::name,
                organisations::siret,
                organisations::address,
                organisations::weee_status,
            ))
            .first(conn)?;
    let rows: Vec<ItemColumns> = items::table
        .left_join(collections::table)
        .filter(items::weee_batch_id.eq(id.0))
        .order(items::id)
        .select((
            items::code,
            items::category,
            items::brand,
            items::model,
            items::serial,
            items::weight_g,
            collections::waste_code.nullable(),
        ))
        .load(conn)?;
    let lines = rows
        .into_iter()
        .map(|(code, category, brand, model, serial, weight_g, lot)| {
            Ok(weee_slip::Line {
                code,
                category: parse_stored(&category)?,
                model: [brand, model]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                serial,
                waste_code: leaving_waste_code(lot.as_deref()).to_owned(),
                weight_g,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let doc_id = issued::new_id();
    let verify_url = format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        issued::verify_path(&doc_id)
    );
    let now = Utc::now();
    let pdf = weee_slip::render(&weee_slip::Slip {
        issuer: who.identity(),
        issued: Issued {
            id: &doc_id,
            verify_url: &verify_url,
        },
        recycler: Identity {
            name: &name,
            siret: siret.as_deref(),
            address: address.as_deref(),
        },
        recycler_status: status.as_deref(),
        batch: &batch,
        site: &who.site_name,
        site_address: site_address.as_deref(),
        lines: &lines,
        issued_at: now,
        issued_by: &actor.name,
        clock,
    })
    .map_err(ApiError::internal)?;
    Ok(issued::Draft {
        title: format!(
            "{} n° {} ({} objet(s))",
            kind.name(Lang::Fr),
            batch.id,
            batch.item_count
        ),
        id: doc_id,
        kind,
        subject: subject(id),
        issuer: who.org,
        issuer_name: who.name,
        site: Some(batch.site),
        region: who.region,
        audience: None,
        issued_by: actor.user,
        signed: false,
        issued_at: now,
        pdf,
    })
}
