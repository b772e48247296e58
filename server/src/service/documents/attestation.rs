//! A beneficiary's training attestation: issued by their social worker or the
//! region's coordinator once their attendance at the session is recorded; kept in the
//! register for the organisation that follows them and the region.

use super::issued;
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::documents::{Identity, Issued, training_attestation};
use crate::error::{ApiError, ApiResult};
use crate::schema::{organisations, sites, training_sessions};
use crate::service::training;
use chrono::Utc;
use diesel::prelude::*;
use filiere_shared::documents::*;
use filiere_shared::names::Named;
use filiere_shared::validate::FieldError;
use filiere_shared::*;

/// The register's subject of a booking's documents.
pub fn subject(id: BookingId) -> String {
    format!("booking:{id}")
}

fn staff(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::SocialWorker, Role::Coordinator])
}

/// A booking's attestations (its organisation's social workers, the region's
/// coordinator).
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BookingId,
) -> ApiResult<Vec<IssuedDocument>> {
    staff(actor)?;
    training::booking_view(conn, actor, id)?;
    issued::list(conn, &subject(id))
}

/// An organisation as a document's header names it: its id, name, SIRET, address.
type Named4 = (Option<OrgId>, String, Option<String>, Option<String>);

/// Who issues in a region: the organisation that runs its workshops (the first site
/// with one), else the region itself.
fn region_issuer(conn: &mut DbConnection, region: RegionId) -> ApiResult<Named4> {
    let org: Option<i64> = sites::table
        .filter(sites::region_id.eq(region.0))
        .filter(sites::organisation_id.is_not_null())
        .order(sites::id)
        .select(sites::organisation_id)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten();
    match org {
        Some(o) => {
            let (name, siret, address) = organisations::table
                .find(o)
                .select((
                    organisations::name,
                    organisations::siret,
                    organisations::address,
                ))
                .first::<(String, Option<String>, Option<String>)>(conn)?;
            Ok((Some(OrgId(o)), name, siret, address))
        }
        None => {
            let name: String = crate::schema::regions::table
                .find(region.0)
                .select(crate::schema::regions::name)
                .first(conn)?;
            Ok((None, name, None, None))
        }
    }
}

/// Prepares the attestation of an attended booking; nothing is kept until
/// [`issued::record`].
pub fn prepare(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BookingId,
    kind: DocumentKind,
    base_url: &str,
    clock: Clock,
) -> ApiResult<issued::Draft> {
    staff(actor)?;
    let booking = training::booking_view(conn, actor, id)?;
    if kind != DocumentKind::TrainingAttestation {
        return Err(ApiError::rule(
            FieldError::new(
                "kind",
                "une inscription n'a que son attestation de formation (training_attestation)",
                "a booking only has its training attestation (training_attestation)",
            ),
            actor.lang,
        ));
    }
    if booking.attendance != Some(Attendance::Attended) {
        return Err(actor.err(ErrorCode::NotAttended));
    }
    let detail = training::get(conn, actor, booking.session)?;
    let session = detail.session;
    let region: i64 = training_sessions::table
        .find(booking.session.0)
        .select(training_sessions::region_id)
        .first(conn)?;
    let (org, name, siret, address) = region_issuer(conn, RegionId(region))?;
    let audience: i64 = crate::schema::training_bookings::table
        .find(id.0)
        .select(crate::schema::training_bookings::organisation_id)
        .first(conn)?;
    let follows: String = organisations::table
        .find(audience)
        .select(organisations::name)
        .first(conn)?;
    let doc_id = issued::new_id();
    let verify_url = format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        issued::verify_path(&doc_id)
    );
    let now = Utc::now();
    let pdf = training_attestation::render(&training_attestation::Attestation {
        issuer: Identity {
            name: &name,
            siret: siret.as_deref(),
            address: address.as_deref(),
        },
        issued: Issued {
            id: &doc_id,
            verify_url: &verify_url,
        },
        session: &session,
        reference: &booking.reference,
        organisation: &follows,
        issued_at: now,
        issued_by: &actor.name,
        clock,
    })
    .map_err(ApiError::internal)?;
    Ok(issued::Draft {
        title: format!(
            "{}, session du {} ({})",
            kind.name(Lang::Fr),
            clock.day(session.starts_at),
            filiere_shared::names::hours(i64::from(session.duration_minutes), Lang::Fr)
        ),
        id: doc_id,
        kind,
        subject: subject(id),
        issuer: org,
        issuer_name: name,
        site: None,
        region: RegionId(region),
        audience: Some(OrgId(audience)),
        issued_by: actor.user,
        signed: false,
        issued_at: now,
        pdf,
    })
}
