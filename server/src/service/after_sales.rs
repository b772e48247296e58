//! After-sales, within the legal guarantee: a device brought back (`returned`), then
//! repaired for the same buyer (back to the bench, handed back with the guarantee
//! extended by six months), exchanged for another device (a credit note, a new invoice
//! paid by it, a new guarantee) or refunded (a credit note). Each step is an event of
//! the device with its reason.

use super::sales::{
    Counter, NewSaleParts, cap_pairs, cap_refusal, caps, from_public_bodies, insert_line,
    insert_payment, insert_sale, load_visible, today, view,
};
use super::{check, parse_stored};
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{after_sales, items, organisations, sale_lines, sites};
use diesel::prelude::*;
use filiere_shared::lifecycle::EventPayload;
use filiere_shared::sales::*;
use filiere_shared::validate::{self, FieldError};
use filiere_shared::*;

/// Technicians of the sale's site and the region's coordinator handle after-sales;
/// social workers only see it.
fn staff(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::Technician, Role::Coordinator])
}

fn line_of(conn: &mut DbConnection, sale: i64, item: i64) -> ApiResult<Option<SaleLineRow>> {
    Ok(sale_lines::table
        .filter(sale_lines::sale_id.eq(sale))
        .filter(sale_lines::item_id.eq(item))
        .select(SaleLineRow::as_select())
        .first(conn)
        .optional()?)
}

fn step(conn: &mut DbConnection, actor: &Actor, item: i64, payload: EventPayload) -> ApiResult<()> {
    let row: ItemRow = items::table.find(item).first(conn)?;
    match super::events::system_step(conn, Some(actor), &row, payload, actor.lang)? {
        Some(_) => Ok(()),
        None => Err(actor.err(ErrorCode::VersionConflict)),
    }
}

fn set_line(
    conn: &mut DbConnection,
    line: i64,
    status: SaleLineStatus,
    until: Option<chrono::NaiveDate>,
) -> ApiResult<()> {
    let q = diesel::update(sale_lines::table.find(line));
    match until {
        Some(u) => q
            .set((
                sale_lines::status.eq(status.as_str()),
                sale_lines::guarantee_until.eq(Some(u)),
            ))
            .execute(conn)?,
        None => q
            .set(sale_lines::status.eq(status.as_str()))
            .execute(conn)?,
    };
    Ok(())
}

/// A device of the sale brought back within its guarantee, and why.
pub fn open_return(
    conn: &mut DbConnection,
    actor: &Actor,
    sale: SaleId,
    req: &NewReturn,
    clock: Clock,
) -> ApiResult<SaleView> {
    staff(actor)?;
    check(actor, validate::text("reason", &req.reason, 500))?;
    let s = load_visible(conn, actor, sale)?;
    if s.kind != SaleKind::Invoice.as_str() {
        return Err(actor.err(ErrorCode::SaleNotFound));
    }
    let line =
        line_of(conn, s.id, req.item.0)?.ok_or_else(|| actor.err(ErrorCode::ItemNotFound))?;
    match parse_stored::<SaleLineStatus>(&line.status)? {
        SaleLineStatus::Sold => {}
        SaleLineStatus::Returned | SaleLineStatus::Repairing => {
            return Err(actor.err(ErrorCode::AfterSalesPending));
        }
        SaleLineStatus::Exchanged | SaleLineStatus::Refunded => {
            return Err(actor.err(ErrorCode::AfterSalesClosed));
        }
    }
    match line.guarantee_until {
        Some(end) if under_guarantee(end, today(clock)) => {}
        end => {
            return Err(actor
                .err(ErrorCode::GuaranteeOver)
                .with_details(serde_json::json!({"guarantee_until": end})));
        }
    }
    step(
        conn,
        actor,
        line.item_id,
        EventPayload::Returned {
            sale,
            reason: req.reason.trim().to_owned(),
        },
    )?;
    set_line(conn, line.id, SaleLineStatus::Returned, None)?;
    diesel::insert_into(after_sales::table)
        .values((
            after_sales::sale_id.eq(s.id),
            after_sales::line_id.eq(line.id),
            after_sales::item_id.eq(line.item_id),
            after_sales::reason.eq(req.reason.trim()),
            after_sales::opened_by.eq(actor.user.0),
            after_sales::opened_at.eq(now()),
        ))
        .execute(conn)?;
    view(conn, s)
}

fn load_case(
    conn: &mut DbConnection,
    actor: &Actor,
    id: AfterSalesId,
) -> ApiResult<(AfterSalesRow, SaleRow)> {
    staff(actor)?;
    let case: AfterSalesRow = after_sales::table
        .find(id.0)
        .select(AfterSalesRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::AfterSalesNotFound))?;
    let sale = load_visible(conn, actor, SaleId(case.sale_id))
        .map_err(|_| actor.err(ErrorCode::AfterSalesNotFound))?;
    Ok((case, sale))
}

/// The counter a sale was made at, with the organisation that sold.
fn counter_of(conn: &mut DbConnection, s: &SaleRow) -> ApiResult<Counter> {
    let site: SiteRow = sites::table.find(s.site_id).first(conn)?;
    let seller: OrganisationRow = organisations::table.find(s.seller_id).first(conn)?;
    Ok(Counter { site, seller })
}

fn parts_of(s: &SaleRow, reason: String, credits: Option<i64>, total: i64) -> NewSaleParts {
    NewSaleParts {
        reservation: None,
        beneficiary: s.beneficiary_id,
        organisation: s.organisation_id,
        partner: s.partner_id,
        buyer: s.buyer.clone(),
        reason: Some(reason),
        credits,
        total_cents: total,
    }
}

/// Takes a returned device back for good (exchanged or refunded): its step, its line's
/// status, and the credit note of its price. Returns the sale's counter and the note.
#[allow(clippy::too_many_arguments)]
fn take_back(
    conn: &mut DbConnection,
    actor: &Actor,
    sale: &SaleRow,
    line: &SaleLineRow,
    outcome: AfterSalesOutcome,
    reason: &str,
    clock: Clock,
) -> ApiResult<(Counter, i64)> {
    let status = match outcome {
        AfterSalesOutcome::Refund => SaleLineStatus::Refunded,
        _ => SaleLineStatus::Exchanged,
    };
    step(
        conn,
        actor,
        line.item_id,
        EventPayload::TakenBack {
            sale: SaleId(sale.id),
            outcome,
            reason: reason.to_owned(),
        },
    )?;
    set_line(conn, line.id, status, None)?;
    let counter = counter_of(conn, sale)?;
    let returned: ItemRow = items::table.find(line.item_id).first(conn)?;
    let note = insert_sale(
        conn,
        actor,
        &counter,
        SaleKind::CreditNote,
        parts_of(sale, reason.to_owned(), Some(sale.id), line.price_cents),
        clock,
        None,
    )?;
    insert_line(
        conn,
        note,
        0,
        &returned,
        parse_stored(&line.category)?,
        line.price_cents,
        line.public_body,
        None,
        status,
    )?;
    Ok((counter, note))
}

/// After-sales' decision on a returned device: repair, exchange or refund.
pub fn settle(
    conn: &mut DbConnection,
    actor: &Actor,
    id: AfterSalesId,
    req: &SettleAfterSales,
    clock: Clock,
) -> ApiResult<SaleView> {
    check(actor, validate::text("reason", &req.reason, 500))?;
    let (case, sale) = load_case(conn, actor, id)?;
    if case.outcome.is_some() || case.closed_at.is_some() {
        return Err(actor.err(ErrorCode::AfterSalesClosed));
    }
    let line: SaleLineRow = sale_lines::table
        .find(case.line_id)
        .select(SaleLineRow::as_select())
        .first(conn)?;
    let reason = req.reason.trim().to_owned();
    let sale_id = SaleId(sale.id);
    let at = now();
    let mut credit_note = None;
    let mut replacement_sale = None;
    let mut closed = None;
    match req.outcome {
        AfterSalesOutcome::Repair => {
            step(
                conn,
                actor,
                line.item_id,
                EventPayload::RepairStarted {
                    sale: sale_id,
                    reason: reason.clone(),
                },
            )?;
            set_line(conn, line.id, SaleLineStatus::Repairing, None)?;
        }
        AfterSalesOutcome::Exchange => {
            let replacement = req.replacement.ok_or_else(|| {
                ApiError::rule(
                    FieldError::new(
                        "replacement",
                        "l'appareil donné en échange",
                        "the device given instead",
                    ),
                    actor.lang,
                )
            })?;
            let item: ItemRow = items::table
                .find(replacement.0)
                .first(conn)
                .optional()?
                .ok_or_else(|| actor.err(ErrorCode::ItemNotFound))?;
            if item.kind != ItemKind::Device.as_str()
                || item.state != ItemState::Ready.as_str()
                || item.site_id != sale.site_id
            {
                return Err(actor
                    .err(ErrorCode::NotForSale)
                    .with_details(serde_json::json!({"item": replacement})));
            }
            let category: Category = parse_stored(&item.category)?;
            let public_body = from_public_bodies(conn, &[item.id])?.contains(&item.id);
            let cap_line = CapLine {
                category,
                public_body,
                price_cents: line.price_cents,
            };
            check_caps(&[cap_line], &cap_pairs(&caps(conn)?)).map_err(|b| cap_refusal(actor, b))?;
            let (counter, note) = take_back(
                conn,
                actor,
                &sale,
                &line,
                AfterSalesOutcome::Exchange,
                &reason,
                clock,
            )?;
            let note_number: String = crate::schema::sales::table
                .find(note)
                .select(crate::schema::sales::number)
                .first(conn)?;
            let invoice = insert_sale(
                conn,
                actor,
                &counter,
                SaleKind::Invoice,
                parts_of(&sale, reason.clone(), None, line.price_cents),
                clock,
                None,
            )?;
            let until = guarantee_end(today(clock));
            insert_line(
                conn,
                invoice,
                0,
                &item,
                category,
                line.price_cents,
                public_body,
                Some(until),
                SaleLineStatus::Sold,
            )?;
            insert_payment(
                conn,
                invoice,
                PaymentMethod::CreditNote,
                line.price_cents,
                Some(&note_number),
            )?;
            let invoice_number: String = crate::schema::sales::table
                .find(invoice)
                .select(crate::schema::sales::number)
                .first(conn)?;
            // The credit note is settled against the new invoice.
            insert_payment(
                conn,
                note,
                PaymentMethod::CreditNote,
                line.price_cents,
                Some(&invoice_number),
            )?;
            let payload = EventPayload::Sold {
                sale: SaleId(invoice),
                buyer: sale.buyer.clone(),
                guarantee_until: until,
            };
            if super::events::system_step(conn, Some(actor), &item, payload, actor.lang)?.is_none()
            {
                return Err(actor.err(ErrorCode::VersionConflict));
            }
            credit_note = Some(note);
            replacement_sale = Some(invoice);
            closed = Some(at);
        }
        AfterSalesOutcome::Refund => {
            let method = match req.refund_method {
                Some(m) if m != PaymentMethod::CreditNote => m,
                _ => {
                    return Err(ApiError::rule(
                        FieldError::new(
                            "refund_method",
                            "le moyen de remboursement (espèces, carte, chèque…)",
                            "how the money is given back (cash, card, cheque…)",
                        ),
                        actor.lang,
                    ));
                }
            };
            let (_, note) = take_back(
                conn,
                actor,
                &sale,
                &line,
                AfterSalesOutcome::Refund,
                &reason,
                clock,
            )?;
            insert_payment(conn, note, method, line.price_cents, None)?;
            credit_note = Some(note);
            closed = Some(at);
        }
    }
    diesel::update(after_sales::table.find(case.id))
        .set((
            after_sales::outcome.eq(Some(req.outcome.as_str())),
            after_sales::outcome_reason.eq(Some(reason)),
            after_sales::settled_by.eq(Some(actor.user.0)),
            after_sales::settled_at.eq(Some(at)),
            after_sales::closed_at.eq(closed),
            after_sales::credit_note_id.eq(credit_note),
            after_sales::replacement_sale_id.eq(replacement_sale),
        ))
        .execute(conn)?;
    view(conn, sale)
}

/// The repair is done (and the device passed a new QA test): handed back to the same
/// buyer, the guarantee extended by six months.
pub fn hand_back(
    conn: &mut DbConnection,
    actor: &Actor,
    id: AfterSalesId,
    clock: Clock,
) -> ApiResult<SaleView> {
    let (case, sale) = load_case(conn, actor, id)?;
    if case.outcome.as_deref() != Some(AfterSalesOutcome::Repair.as_str())
        || case.closed_at.is_some()
    {
        return Err(actor.err(ErrorCode::AfterSalesClosed));
    }
    let line: SaleLineRow = sale_lines::table
        .find(case.line_id)
        .select(SaleLineRow::as_select())
        .first(conn)?;
    let end = extended_by_repair(
        line.guarantee_until
            .unwrap_or_else(|| guarantee_end(today(clock))),
    );
    step(
        conn,
        actor,
        line.item_id,
        EventPayload::HandedBack {
            sale: SaleId(sale.id),
            guarantee_until: end,
        },
    )?;
    set_line(conn, line.id, SaleLineStatus::Sold, Some(end))?;
    diesel::update(after_sales::table.find(case.id))
        .set(after_sales::closed_at.eq(Some(now())))
        .execute(conn)?;
    view(conn, sale)
}
