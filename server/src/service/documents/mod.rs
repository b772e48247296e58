//! Documents as PDF, each from the same reads as its JSON view: here the social
//! side's and the counter's (voucher, attendance sheet, invoice); in the modules,
//! the register of issued documents and the documents issued under it.

pub mod attestation;
pub mod certificates;
pub mod donor;
pub mod issued;
pub mod weee;

use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::documents::{attendance, voucher};
use crate::error::{ApiError, ApiResult};
use crate::schema::organisations;
use crate::service::reservations;
use diesel::prelude::*;
use filiere_shared::*;

/// The pickup voucher of a reservation (its organisation's social workers, the
/// region's coordinator).
pub fn voucher_pdf(
    conn: &mut DbConnection,
    actor: &Actor,
    id: ReservationId,
    public_host: Option<&str>,
    clock: Clock,
) -> ApiResult<Vec<u8>> {
    let r = reservations::get(conn, actor, id)?;
    let organisation: String = organisations::table
        .find(r.organisation.0)
        .select(organisations::name)
        .first(conn)?;
    let training = match &r.booking {
        Some(b) if b.status == BookingStatus::Booked => Some(format!(
            "{} — {}",
            clock.long(b.session_starts_at, actor.lang),
            b.venue_name
        )),
        Some(b) => Some(format!(
            "{} — {} ({} {})",
            clock.long(b.session_starts_at, actor.lang),
            b.venue_name,
            actor
                .lang
                .pick("liste d'attente, rang", "waiting list, place"),
            b.waiting_position.unwrap_or(0)
        )),
        None => None,
    };
    voucher::render(&voucher::Voucher {
        reservation: &r,
        organisation: &organisation,
        training,
        public_host,
        lang: actor.lang,
        clock,
    })
    .map_err(ApiError::internal)
}

/// A session's attendance sheet (the region's coordinator, admins).
pub fn attendance_pdf(
    conn: &mut DbConnection,
    actor: &Actor,
    id: TrainingSessionId,
    clock: Clock,
) -> ApiResult<Vec<u8>> {
    actor.require(&[Role::Coordinator, Role::Admin])?;
    let detail = crate::service::training::get(conn, actor, id)?;
    Ok(attendance::render(&detail, actor.lang, clock))
}

/// The invoice (or credit note) of a sale, as a PDF in French: whoever may see the
/// sale.
pub fn invoice_pdf(
    conn: &mut DbConnection,
    actor: &Actor,
    id: SaleId,
    clock: Clock,
) -> ApiResult<Vec<u8>> {
    use crate::documents::invoice;
    use crate::schema::{sales, sites};
    let sale = crate::service::sales::get(conn, actor, id)?;
    let (name, siret, address): (String, Option<String>, Option<String>) = organisations::table
        .find(sale.seller.0)
        .select((
            organisations::name,
            organisations::siret,
            organisations::address,
        ))
        .first(conn)?;
    let site_address: Option<String> = sites::table
        .find(sale.site.0)
        .select(sites::address)
        .first(conn)?;
    let credited: Option<String> = match sale.credits {
        Some(c) => Some(sales::table.find(c.0).select(sales::number).first(conn)?),
        None => None,
    };
    Ok(invoice::render(&invoice::Invoice {
        sale: &sale,
        seller: invoice::Seller {
            name: &name,
            siret: siret.as_deref(),
            address: address.as_deref(),
        },
        site_address: site_address.as_deref(),
        credited: credited.as_deref(),
        clock,
    }))
}
