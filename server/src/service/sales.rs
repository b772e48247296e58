//! The sale at a site's counter: the reserved device (and what goes with it) handed
//! over to the beneficiary at the region's solidarity price, or a coordinator's sale to
//! a partner organisation; the legal caps on public bodies' devices; invoices and credit
//! notes numbered without gaps per selling organisation and year, even under
//! concurrent sales (the number is taken by one update of a counter row inside the
//! sale's transaction: a sale refused or rolled back gives its number back).

use super::items::stored_grade;
use super::{check, check_rule, parse_stored};
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{
    after_sales, beneficiaries, collections, document_counters, items, organisations, payments,
    price_caps, price_rules, reservations, sale_lines, sales, sites, training_bookings,
};
use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use filiere_shared::lifecycle::EventPayload;
use filiere_shared::sales::*;
use filiere_shared::validate::{self, FieldError};
use filiere_shared::*;
use std::collections::{HashMap, HashSet};

/// Today, in the association's time zone (the guarantee counts in its days).
pub fn today(clock: Clock) -> NaiveDate {
    clock.date(Utc::now())
}

// ---------------------------------------------------------------- prices

pub fn cap_view(row: (String, i64, String)) -> ApiResult<PriceCapView> {
    Ok(PriceCapView {
        category: parse_stored(&row.0)?,
        max_cents: row.1,
        legal_reference: row.2,
    })
}

/// The legal caps, in the décret's order.
pub fn caps(conn: &mut DbConnection) -> ApiResult<Vec<PriceCapView>> {
    let rows: Vec<(String, i64, String)> = price_caps::table
        .order(price_caps::position)
        .select((
            price_caps::category,
            price_caps::max_cents,
            price_caps::legal_reference,
        ))
        .load(conn)?;
    rows.into_iter().map(cap_view).collect()
}

pub fn cap_pairs(caps: &[PriceCapView]) -> Vec<(CapCategory, i64)> {
    caps.iter().map(|c| (c.category, c.max_cents)).collect()
}

fn rule_view(r: PriceRuleRow) -> ApiResult<PriceRuleView> {
    Ok(PriceRuleView {
        id: PriceRuleId(r.id),
        region: RegionId(r.region_id),
        category: parse_stored(&r.category)?,
        grade: if r.grade.is_empty() {
            None
        } else {
            Some(parse_stored(&r.grade)?)
        },
        price_cents: r.price_cents,
        public_body_price_cents: r.public_body_price_cents,
        updated_at: utc(r.updated_at),
    })
}

/// A region's solidarity prices, by category then grade.
pub fn rules_of(conn: &mut DbConnection, region: RegionId) -> ApiResult<Vec<PriceRuleView>> {
    let rows: Vec<PriceRuleRow> = price_rules::table
        .filter(price_rules::region_id.eq(region.0))
        .order((price_rules::category, price_rules::grade))
        .select(PriceRuleRow::as_select())
        .load(conn)?;
    rows.into_iter().map(rule_view).collect()
}

/// Whose region's prices the caller reads: their own (an admin names one).
fn price_region(actor: &Actor, asked: Option<RegionId>) -> ApiResult<RegionId> {
    match actor.role {
        Role::Admin => asked.ok_or_else(|| {
            ApiError::rule(
                FieldError::new("region", "région requise", "region required"),
                actor.lang,
            )
        }),
        _ => {
            let own = actor.region.ok_or_else(|| actor.out_of_scope())?;
            match asked {
                Some(r) if r != own => Err(actor.out_of_scope()),
                _ => Ok(own),
            }
        }
    }
}

/// The prices of a region and the legal caps: coordinators and social workers read
/// their own region's (the catalogue shows them); an admin any region's.
pub fn price_list(conn: &mut DbConnection, actor: &Actor, q: &PriceQuery) -> ApiResult<PriceList> {
    actor.require(&[Role::Coordinator, Role::SocialWorker, Role::Admin])?;
    let region = price_region(actor, q.region)?;
    Ok(PriceList {
        rules: rules_of(conn, region)?,
        caps: caps(conn)?,
    })
}

pub fn cap_refusal(actor: &Actor, b: CapBreach) -> ApiError {
    actor
        .err(ErrorCode::OverPriceCap)
        .with_details(serde_json::json!({
            "cap": b.cap, "max_cents": b.max_cents, "price_cents": b.price_cents,
        }))
}

/// Sets a region's price for a category (and grade): its coordinator, or an admin.
/// Refused when what it asks for a public body's device exceeds the legal cap.
pub fn set_rule(
    conn: &mut DbConnection,
    actor: &Actor,
    req: &NewPriceRule,
) -> ApiResult<PriceRuleView> {
    actor.require(&[Role::Coordinator, Role::Admin])?;
    let region = price_region(actor, Some(req.region))?;
    if req.category.kind() != ItemKind::Device {
        return Err(ApiError::rule(
            FieldError::new("category", "une catégorie d'appareil", "a device category"),
            actor.lang,
        ));
    }
    check(
        actor,
        validate::range("price_cents", req.price_cents.into(), 0, 10_000_000),
    )?;
    let caps = caps(conn)?;
    check_rule_cap(
        req.category,
        i64::from(req.price_cents),
        req.public_body_price_cents.map(i64::from),
        &cap_pairs(&caps),
    )
    .map_err(|b| cap_refusal(actor, b))?;
    let grade = req.grade.map(|g| g.as_str().to_owned()).unwrap_or_default();
    let existing: Option<i64> = price_rules::table
        .filter(price_rules::region_id.eq(region.0))
        .filter(price_rules::category.eq(req.category.as_str()))
        .filter(price_rules::grade.eq(&grade))
        .select(price_rules::id)
        .first(conn)
        .optional()?;
    let at = now();
    let id = match existing {
        Some(id) => {
            diesel::update(price_rules::table.find(id))
                .set((
                    price_rules::price_cents.eq(i64::from(req.price_cents)),
                    price_rules::public_body_price_cents
                        .eq(req.public_body_price_cents.map(i64::from)),
                    price_rules::updated_by.eq(actor.user.0),
                    price_rules::updated_at.eq(at),
                ))
                .execute(conn)?;
            id
        }
        None => diesel::insert_into(price_rules::table)
            .values(NewPriceRuleRow {
                region_id: region.0,
                category: req.category.as_str().to_owned(),
                grade,
                price_cents: i64::from(req.price_cents),
                public_body_price_cents: req.public_body_price_cents.map(i64::from),
                updated_by: actor.user.0,
                updated_at: at,
            })
            .returning(price_rules::id)
            .get_result(conn)?,
    };
    rule_view(
        price_rules::table
            .find(id)
            .select(PriceRuleRow::as_select())
            .first(conn)?,
    )
}

pub fn delete_rule(conn: &mut DbConnection, actor: &Actor, id: PriceRuleId) -> ApiResult<()> {
    actor.require(&[Role::Coordinator, Role::Admin])?;
    let row: PriceRuleRow = price_rules::table
        .find(id.0)
        .select(PriceRuleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::PriceRuleNotFound))?;
    if actor.role == Role::Coordinator && actor.region != Some(RegionId(row.region_id)) {
        return Err(actor.err(ErrorCode::PriceRuleNotFound));
    }
    diesel::delete(price_rules::table.find(id.0)).execute(conn)?;
    Ok(())
}

/// An admin sets a legal cap when the law changes. Rules already above it stay (a sale
/// is still checked against the cap).
pub fn set_cap(
    conn: &mut DbConnection,
    actor: &Actor,
    category: CapCategory,
    req: &UpdatePriceCap,
) -> ApiResult<PriceCapView> {
    actor.require(&[Role::Admin])?;
    check(
        actor,
        validate::text("legal_reference", &req.legal_reference, 300),
    )?;
    check(
        actor,
        validate::range("max_cents", req.max_cents.into(), 0, 10_000_000),
    )?;
    diesel::update(price_caps::table.find(category.as_str()))
        .set((
            price_caps::max_cents.eq(i64::from(req.max_cents)),
            price_caps::legal_reference.eq(req.legal_reference.trim()),
        ))
        .execute(conn)?;
    caps(conn)?
        .into_iter()
        .find(|c| c.category == category)
        .ok_or_else(|| actor.err(ErrorCode::NotFound))
}

/// Of these items, those that came from a public body (their collection's donor is
/// one).
pub fn from_public_bodies(conn: &mut DbConnection, ids: &[i64]) -> ApiResult<HashSet<i64>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<i64> = items::table
        .inner_join(collections::table.inner_join(organisations::table))
        .filter(items::id.eq_any(ids))
        .filter(organisations::public_body.eq(true))
        .select(items::id)
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The solidarity price of each device (by its category, grade and origin), for the
/// catalogue and the device page: `None` where the region sets none.
pub fn prices_of(
    conn: &mut DbConnection,
    region: RegionId,
    devices: &[(i64, Category, Option<Grade>)],
) -> ApiResult<HashMap<i64, i64>> {
    let rules = rules_of(conn, region)?;
    if rules.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = devices.iter().map(|d| d.0).collect();
    let public = from_public_bodies(conn, &ids)?;
    Ok(devices
        .iter()
        .filter_map(|(id, c, g)| price_for(&rules, *c, *g, public.contains(id)).map(|p| (*id, p)))
        .collect())
}

// ---------------------------------------------------------------- numbers

/// The next number of a seller's series for the year: one update of its counter row
/// (which holds the row until the sale commits), or the series' first number.
fn next_number(conn: &mut DbConnection, seller: i64, year: i32, kind: SaleKind) -> ApiResult<i64> {
    let bump = |c: &mut DbConnection| -> ApiResult<Option<i64>> {
        let n = diesel::update(
            document_counters::table
                .filter(document_counters::organisation_id.eq(seller))
                .filter(document_counters::year.eq(year))
                .filter(document_counters::kind.eq(kind.as_str())),
        )
        .set(document_counters::last_number.eq(document_counters::last_number + 1))
        .execute(c)?;
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(
            document_counters::table
                .filter(document_counters::organisation_id.eq(seller))
                .filter(document_counters::year.eq(year))
                .filter(document_counters::kind.eq(kind.as_str()))
                .select(document_counters::last_number)
                .first(c)?,
        ))
    };
    if let Some(n) = bump(conn)? {
        return Ok(n);
    }
    // The first of the year; a sale beside this one may start the series at the same
    // moment: the loser's insert fails inside its savepoint, and it bumps the winner's.
    let first = conn.transaction::<_, diesel::result::Error, _>(|c| {
        diesel::insert_into(document_counters::table)
            .values((
                document_counters::organisation_id.eq(seller),
                document_counters::year.eq(year),
                document_counters::kind.eq(kind.as_str()),
                document_counters::last_number.eq(1_i64),
            ))
            .execute(c)
    });
    match first {
        Ok(_) => Ok(1),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => bump(conn)?.ok_or_else(|| ApiError::internal("document counter vanished")),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- views

fn may_see(actor: &Actor, s: &SaleRow) -> bool {
    match actor.role {
        Role::Technician => actor.site == Some(SiteId(s.site_id)),
        Role::Coordinator => actor.region == Some(RegionId(s.region_id)),
        Role::SocialWorker => {
            s.organisation_id.is_some() && actor.org.map(|o| o.0) == s.organisation_id
        }
        Role::Admin => false,
    }
}

fn load_row(conn: &mut DbConnection, id: i64) -> ApiResult<Option<SaleRow>> {
    Ok(sales::table
        .find(id)
        .select(SaleRow::as_select())
        .first(conn)
        .optional()?)
}

/// A sale the caller may see; any other is `sale_not_found`.
pub fn load_visible(conn: &mut DbConnection, actor: &Actor, id: SaleId) -> ApiResult<SaleRow> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::SocialWorker])?;
    match load_row(conn, id.0)? {
        Some(s) if may_see(actor, &s) => Ok(s),
        _ => Err(actor.err(ErrorCode::SaleNotFound)),
    }
}

pub fn after_sales_view(r: AfterSalesRow, code: String) -> ApiResult<AfterSalesView> {
    Ok(AfterSalesView {
        id: AfterSalesId(r.id),
        sale: SaleId(r.sale_id),
        item: ItemId(r.item_id),
        code,
        reason: r.reason,
        opened_at: utc(r.opened_at),
        open: r.closed_at.is_none(),
        outcome: r.outcome.as_deref().map(parse_stored).transpose()?,
        outcome_reason: r.outcome_reason,
        settled_at: r.settled_at.map(utc),
        closed_at: r.closed_at.map(utc),
        credit_note: r.credit_note_id.map(SaleId),
        replacement_sale: r.replacement_sale_id.map(SaleId),
    })
}

pub fn view(conn: &mut DbConnection, s: SaleRow) -> ApiResult<SaleView> {
    let lines: Vec<SaleLineRow> = sale_lines::table
        .filter(sale_lines::sale_id.eq(s.id))
        .order(sale_lines::position)
        .select(SaleLineRow::as_select())
        .load(conn)?;
    let pays: Vec<PaymentRow> = payments::table
        .filter(payments::sale_id.eq(s.id))
        .order(payments::id)
        .select(PaymentRow::as_select())
        .load(conn)?;
    let cases: Vec<AfterSalesRow> = after_sales::table
        .filter(after_sales::sale_id.eq(s.id))
        .order(after_sales::id)
        .select(AfterSalesRow::as_select())
        .load(conn)?;
    let seller_name: String = organisations::table
        .find(s.seller_id)
        .select(organisations::name)
        .first(conn)?;
    let site_name: String = sites::table
        .find(s.site_id)
        .select(sites::name)
        .first(conn)?;
    let codes: HashMap<i64, String> = lines.iter().map(|l| (l.item_id, l.code.clone())).collect();
    Ok(SaleView {
        id: SaleId(s.id),
        kind: parse_stored(&s.kind)?,
        number: s.number,
        seller: OrgId(s.seller_id),
        seller_name,
        site: SiteId(s.site_id),
        site_name,
        region: RegionId(s.region_id),
        reservation: s.reservation_id.map(ReservationId),
        beneficiary: s.beneficiary_id.map(BeneficiaryId),
        buyer: s.buyer,
        partner: s.partner_id.map(OrgId),
        reason: s.reason,
        credits: s.credits_id.map(SaleId),
        lines: lines
            .into_iter()
            .map(|l| {
                Ok(SaleLineView {
                    item: ItemId(l.item_id),
                    code: l.code,
                    category: parse_stored(&l.category)?,
                    brand: l.brand,
                    model: l.model,
                    price_cents: l.price_cents,
                    public_body: l.public_body,
                    guarantee_until: l.guarantee_until,
                    status: parse_stored(&l.status)?,
                })
            })
            .collect::<ApiResult<_>>()?,
        payments: pays
            .into_iter()
            .map(|p| {
                Ok(PaymentView {
                    method: parse_stored(&p.method)?,
                    amount_cents: p.amount_cents,
                    reference: p.reference,
                })
            })
            .collect::<ApiResult<_>>()?,
        total_cents: s.total_cents,
        vat_scheme: parse_stored(&s.vat_scheme)?,
        sold_at: utc(s.sold_at),
        sold_by: UserId(s.sold_by),
        after_sales: cases
            .into_iter()
            .map(|c| {
                let code = codes.get(&c.item_id).cloned().unwrap_or_default();
                after_sales_view(c, code)
            })
            .collect::<ApiResult<_>>()?,
    })
}

pub fn get(conn: &mut DbConnection, actor: &Actor, id: SaleId) -> ApiResult<SaleView> {
    let s = load_visible(conn, actor, id)?;
    view(conn, s)
}

/// The sales the caller may see, newest first (at most 200): a technician's site's, a
/// coordinator's region's, a social worker's organisation's beneficiaries'.
pub fn list(conn: &mut DbConnection, actor: &Actor, q: &SaleQuery) -> ApiResult<Vec<SaleView>> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::SocialWorker])?;
    let mut query = sales::table
        .select(SaleRow::as_select())
        .order(sales::id.desc())
        .limit(200)
        .into_boxed();
    match actor.role {
        Role::Technician => {
            let site = actor.site.ok_or_else(|| actor.out_of_scope())?;
            query = query.filter(sales::site_id.eq(site.0));
        }
        Role::Coordinator => {
            let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
            query = query.filter(sales::region_id.eq(region.0));
        }
        _ => {
            let org = actor.org.ok_or_else(|| actor.out_of_scope())?;
            query = query.filter(sales::organisation_id.eq(org.0));
        }
    }
    if let Some(site) = q.site {
        query = query.filter(sales::site_id.eq(site.0));
    }
    if let Some(b) = q.beneficiary {
        query = query.filter(sales::beneficiary_id.eq(b.0));
    }
    if let Some(k) = q.kind {
        query = query.filter(sales::kind.eq(k.as_str()));
    }
    if let Some(y) = q.year {
        check(actor, validate::range("year", y.into(), 2000, 2100))?;
        query = query.filter(sales::year.eq(y));
    }
    let rows: Vec<SaleRow> = query.load(conn)?;
    rows.into_iter().map(|s| view(conn, s)).collect()
}

// ---------------------------------------------------------------- the sale

/// Where a sale happens and who sells: the site, its region, its organisation and
/// that organisation's VAT rule.
pub struct Counter {
    pub site: SiteRow,
    pub seller: OrganisationRow,
}

/// The counter of a site, for the caller: a technician's own site, a coordinator's
/// region's sites.
pub fn counter(conn: &mut DbConnection, actor: &Actor, site: SiteId) -> ApiResult<Counter> {
    actor.require(&[Role::Technician, Role::Coordinator])?;
    let row: SiteRow = sites::table
        .find(site.0)
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::SiteNotFound))?;
    if !actor.covers_site(site, RegionId(row.region_id)) {
        return Err(actor.out_of_scope());
    }
    let seller_id = row
        .organisation_id
        .ok_or_else(|| actor.err(ErrorCode::NoSeller))?;
    let seller: OrganisationRow = organisations::table.find(seller_id).first(conn)?;
    Ok(Counter { site: row, seller })
}

/// One device of a sale, read and checked.
struct Line {
    item: ItemRow,
    category: Category,
    public_body: bool,
    price_cents: i64,
}

fn check_lines(actor: &Actor, req: &NewSale) -> ApiResult<()> {
    let field =
        |f: &str, fr: &str, en: &str| ApiError::field(FieldError::new(f, fr, en), actor.lang);
    if req.items.is_empty() || req.items.len() > MAX_LINES {
        return Err(field("items", "1 à 10 appareils", "1 to 10 devices"));
    }
    let mut seen = HashSet::new();
    if !req.items.iter().all(|l| seen.insert(l.item)) {
        return Err(ApiError::rule(
            FieldError::new("items", "un appareil une seule fois", "each device once"),
            actor.lang,
        ));
    }
    if req.payments.len() > MAX_PAYMENTS {
        return Err(field(
            "payments",
            "5 paiements au plus",
            "at most 5 payments",
        ));
    }
    for p in &req.payments {
        check(
            actor,
            validate::opt_text("payments.reference", p.reference.as_deref(), 100),
        )?;
        if p.method == PaymentMethod::CreditNote {
            return Err(ApiError::rule(
                FieldError::new(
                    "payments.method",
                    "un avoir ne sert qu'aux échanges",
                    "a credit note only settles an exchange",
                ),
                actor.lang,
            ));
        }
    }
    for l in &req.items {
        if let Some(p) = l.price_cents {
            check(
                actor,
                validate::range("items.price_cents", p.into(), 0, 10_000_000),
            )?;
        }
    }
    Ok(())
}

/// Whether the beneficiary has a training seat (booked, or attended) or declined the
/// training with a recorded reason.
fn training_settled(conn: &mut DbConnection, r: &ReservationRow) -> ApiResult<bool> {
    if r.training_refused.is_some() {
        return Ok(true);
    }
    let seat: Option<i64> = training_bookings::table
        .filter(training_bookings::beneficiary_id.eq(r.beneficiary_id))
        .filter(training_bookings::status.eq(BookingStatus::Booked.as_str()))
        .filter(
            training_bookings::attendance
                .is_null()
                .or(training_bookings::attendance.eq(Attendance::Attended.as_str())),
        )
        .select(training_bookings::id)
        .first(conn)
        .optional()?;
    Ok(seat.is_some())
}

/// Records a sale: see [`NewSale`]. Everything is checked before anything is written,
/// and the whole sale is one transaction: refused, nothing stays.
pub fn sell(
    conn: &mut DbConnection,
    actor: &Actor,
    req: &NewSale,
    clock: Clock,
) -> ApiResult<SaleView> {
    sell_done(conn, actor, req, clock, None)
}

/// [`sell`], the sale made at `done` when given: the demo's past months, sold in
/// their order before anything else, so that the invoices stay numbered in the order
/// of their dates.
pub(crate) fn sell_done(
    conn: &mut DbConnection,
    actor: &Actor,
    req: &NewSale,
    clock: Clock,
    done: Option<chrono::NaiveDateTime>,
) -> ApiResult<SaleView> {
    actor.require(&[Role::Technician, Role::Coordinator])?;
    check_lines(actor, req)?;
    // Who buys, and where.
    let (counter, reservation, beneficiary, partner) = match (req.reservation, req.partner) {
        (Some(rid), None) => {
            let r: ReservationRow = reservations::table
                .find(rid.0)
                .select(ReservationRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| actor.err(ErrorCode::ReservationNotFound))?;
            if !actor.covers_site(SiteId(r.site_id), RegionId(r.region_id)) {
                return Err(actor.err(ErrorCode::ReservationNotFound));
            }
            if r.status != ReservationStatus::Active.as_str() {
                return Err(actor.err(ErrorCode::ReservationNotActive));
            }
            let b: BeneficiaryRow = beneficiaries::table
                .find(r.beneficiary_id)
                .select(BeneficiaryRow::as_select())
                .first(conn)?;
            super::beneficiaries::require_valid_proof(conn, actor, &b)?;
            if !training_settled(conn, &r)? {
                return Err(actor.err(ErrorCode::TrainingMissing));
            }
            if !req.items.iter().any(|l| l.item.0 == r.item_id) {
                return Err(actor
                    .err(ErrorCode::NotForSale)
                    .with_details(serde_json::json!({"reserved_item": ItemId(r.item_id)})));
            }
            let counter = counter(conn, actor, SiteId(r.site_id))?;
            (counter, Some(r), Some(b), None)
        }
        (None, Some(pid)) => {
            actor.require(&[Role::Coordinator])?;
            let reason = req.reason.as_deref().unwrap_or("");
            check_rule(actor, validate::text("reason", reason, 500))?;
            let site = req.site.ok_or_else(|| {
                ApiError::rule(
                    FieldError::new(
                        "site",
                        "site de la vente requis",
                        "the sale's site is required",
                    ),
                    actor.lang,
                )
            })?;
            let p: OrganisationRow = organisations::table
                .find(pid.0)
                .first(conn)
                .optional()?
                .ok_or_else(|| actor.err(ErrorCode::OrganisationNotFound))?;
            if p.region_id != actor.region.map(|r| r.0) {
                return Err(actor.err(ErrorCode::OrganisationNotFound));
            }
            // Public bodies' devices go to people in precarity or to the associations
            // serving them: a partner sale is to a social partner.
            if p.kind != OrgKind::SocialPartner.as_str() {
                return Err(actor.err(ErrorCode::InvalidRecipient));
            }
            let counter = counter(conn, actor, site)?;
            (counter, None, None, Some(p))
        }
        _ => {
            return Err(ApiError::rule(
                FieldError::new(
                    "reservation",
                    "une réservation, ou un partenaire (pas les deux)",
                    "a reservation, or a partner (not both)",
                ),
                actor.lang,
            ));
        }
    };
    let site = &counter.site;
    let region = RegionId(site.region_id);
    // The devices.
    let ids: Vec<i64> = req.items.iter().map(|l| l.item.0).collect();
    let public = from_public_bodies(conn, &ids)?;
    let rules = rules_of(conn, region)?;
    let mut lines = Vec::with_capacity(req.items.len());
    for l in &req.items {
        let item: ItemRow = items::table
            .find(l.item.0)
            .first(conn)
            .optional()?
            .ok_or_else(|| actor.err(ErrorCode::ItemNotFound))?;
        let state: ItemState = parse_stored(&item.state)?;
        let reserved_here = reservation.as_ref().is_some_and(|r| r.item_id == item.id);
        let sellable = match state {
            ItemState::Reserved => reserved_here,
            ItemState::Ready => !reserved_here,
            _ => false,
        };
        if item.kind != ItemKind::Device.as_str() || item.site_id != site.id || !sellable {
            return Err(actor
                .err(ErrorCode::NotForSale)
                .with_details(serde_json::json!({"item": ItemId(item.id), "state": state})));
        }
        let category: Category = parse_stored(&item.category)?;
        let grade = stored_grade(item.cosmetic_grade.as_deref())?;
        let public_body = public.contains(&item.id);
        let price_cents = match l.price_cents {
            Some(p) => i64::from(p),
            None => price_for(&rules, category, grade, public_body).ok_or_else(|| {
                actor.err(ErrorCode::PriceMissing).with_details(
                    serde_json::json!({"item": ItemId(item.id), "category": category}),
                )
            })?,
        };
        lines.push(Line {
            item,
            category,
            public_body,
            price_cents,
        });
    }
    let caps = caps(conn)?;
    let cap_lines: Vec<CapLine> = lines
        .iter()
        .map(|l| CapLine {
            category: l.category,
            public_body: l.public_body,
            price_cents: l.price_cents,
        })
        .collect();
    check_caps(&cap_lines, &cap_pairs(&caps)).map_err(|b| cap_refusal(actor, b))?;
    let total: i64 = lines.iter().map(|l| l.price_cents).sum();
    if !payments_balance(total, &req.payments) {
        let paid: i64 = req.payments.iter().map(|p| i64::from(p.amount_cents)).sum();
        return Err(actor
            .err(ErrorCode::PaymentsMismatch)
            .with_details(serde_json::json!({"total_cents": total, "paid_cents": paid})));
    }
    // Write: the number, the sale, its lines and payments, each device's step.
    let buyer = match (&beneficiary, &partner) {
        (Some(b), _) => b.reference.clone(),
        (None, Some(p)) => p.name.clone(),
        (None, None) => String::new(),
    };
    let sale = insert_sale(
        conn,
        actor,
        &counter,
        SaleKind::Invoice,
        NewSaleParts {
            reservation: reservation.as_ref().map(|r| r.id),
            beneficiary: beneficiary.as_ref().map(|b| b.id),
            organisation: beneficiary.as_ref().map(|b| b.organisation_id),
            partner: partner.as_ref().map(|p| p.id),
            buyer: buyer.clone(),
            reason: req
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            credits: None,
            total_cents: total,
        },
        clock,
        done,
    )?;
    let until = guarantee_end(done.map_or_else(|| today(clock), |d| clock.date(utc(d))));
    for (i, l) in lines.iter().enumerate() {
        insert_line(
            conn,
            sale,
            i,
            &l.item,
            l.category,
            l.price_cents,
            l.public_body,
            Some(until),
            SaleLineStatus::Sold,
        )?;
        let payload = EventPayload::Sold {
            sale: SaleId(sale),
            buyer: buyer.clone(),
            guarantee_until: until,
        };
        let stepped =
            super::events::system_step_done(conn, Some(actor), &l.item, payload, actor.lang, done)?;
        if stepped.is_none() {
            return Err(actor.err(ErrorCode::VersionConflict));
        }
    }
    for p in &req.payments {
        insert_payment(
            conn,
            sale,
            p.method,
            i64::from(p.amount_cents),
            p.reference.as_deref(),
        )?;
    }
    if let Some(r) = &reservation {
        let n = diesel::update(
            reservations::table
                .filter(reservations::id.eq(r.id))
                .filter(reservations::status.eq(ReservationStatus::Active.as_str())),
        )
        .set((
            reservations::status.eq(ReservationStatus::Fulfilled.as_str()),
            reservations::ended_at.eq(Some(now())),
        ))
        .execute(conn)?;
        if n != 1 {
            return Err(actor.err(ErrorCode::ReservationNotActive));
        }
    }
    let row = load_row(conn, sale)?.ok_or_else(|| ApiError::internal("sale vanished"))?;
    view(conn, row)
}

/// What an invoice or a credit note says beyond its counter and kind.
pub struct NewSaleParts {
    pub reservation: Option<i64>,
    pub beneficiary: Option<i64>,
    pub organisation: Option<i64>,
    pub partner: Option<i64>,
    pub buyer: String,
    pub reason: Option<String>,
    pub credits: Option<i64>,
    pub total_cents: i64,
}

/// Numbers and writes an invoice or a credit note (its lines and payments come next).
pub fn insert_sale(
    conn: &mut DbConnection,
    actor: &Actor,
    counter: &Counter,
    kind: SaleKind,
    parts: NewSaleParts,
    clock: Clock,
    done: Option<chrono::NaiveDateTime>,
) -> ApiResult<i64> {
    let at = done.unwrap_or_else(now);
    let year = clock.date(utc(at)).year();
    let seq = next_number(conn, counter.seller.id, year, kind)?;
    Ok(diesel::insert_into(sales::table)
        .values(NewSaleRow {
            kind: kind.as_str().to_owned(),
            number: document_number(kind, year, seq),
            year,
            seq,
            seller_id: counter.seller.id,
            site_id: counter.site.id,
            region_id: counter.site.region_id,
            reservation_id: parts.reservation,
            beneficiary_id: parts.beneficiary,
            organisation_id: parts.organisation,
            partner_id: parts.partner,
            buyer: parts.buyer,
            reason: parts.reason,
            credits_id: parts.credits,
            total_cents: parts.total_cents,
            vat_scheme: counter.seller.vat_scheme.clone(),
            sold_by: actor.user.0,
            sold_at: at,
        })
        .returning(sales::id)
        .get_result(conn)?)
}

#[allow(clippy::too_many_arguments)]
pub fn insert_line(
    conn: &mut DbConnection,
    sale: i64,
    position: usize,
    item: &ItemRow,
    category: Category,
    price_cents: i64,
    public_body: bool,
    guarantee_until: Option<NaiveDate>,
    status: SaleLineStatus,
) -> ApiResult<i64> {
    Ok(diesel::insert_into(sale_lines::table)
        .values(NewSaleLineRow {
            sale_id: sale,
            position: position as i32,
            item_id: item.id,
            code: item.code.clone(),
            category: category.as_str().to_owned(),
            brand: item.brand.clone(),
            model: item.model.clone(),
            price_cents,
            public_body,
            guarantee_until,
            status: status.as_str().to_owned(),
        })
        .returning(sale_lines::id)
        .get_result(conn)?)
}

pub fn insert_payment(
    conn: &mut DbConnection,
    sale: i64,
    method: PaymentMethod,
    amount_cents: i64,
    reference: Option<&str>,
) -> ApiResult<()> {
    diesel::insert_into(payments::table)
        .values(PaymentRow {
            id: 0,
            sale_id: sale,
            method: method.as_str().to_owned(),
            amount_cents,
            reference: reference
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        })
        .execute(conn)?;
    Ok(())
}

/// A site's counter: its seller, and its pickups today and in the next seven days (the
/// association's days).
pub fn counter_view(
    conn: &mut DbConnection,
    actor: &Actor,
    site: SiteId,
    clock: crate::clock::Clock,
) -> ApiResult<CounterView> {
    counter_scope(conn, actor, site)?;
    let row: SiteRow = sites::table.find(site.0).first(conn)?;
    let seller: Option<String> = match row.organisation_id {
        Some(o) => Some(
            organisations::table
                .find(o)
                .select(organisations::name)
                .first(conn)?,
        ),
        None => None,
    };
    let day = clock.date(Utc::now());
    let start = clock.day_start(day);
    let tomorrow = clock.day_start(day + chrono::Duration::days(1));
    let week_end = clock.day_start(day + chrono::Duration::days(8));
    Ok(CounterView {
        site,
        site_name: row.name,
        seller,
        today: pickups(conn, actor, site, start, tomorrow)?,
        week: pickups(conn, actor, site, tomorrow, week_end)?,
    })
}

/// The counter's pickups: active reservations at the site whose pickup falls in
/// `[from, to)`, soonest first.
pub fn pickups(
    conn: &mut DbConnection,
    actor: &Actor,
    site: SiteId,
    from: chrono::DateTime<Utc>,
    to: chrono::DateTime<Utc>,
) -> ApiResult<Vec<filiere_shared::social::ReservationView>> {
    let c = counter_scope(conn, actor, site)?;
    let ids: Vec<i64> = reservations::table
        .filter(reservations::site_id.eq(c))
        .filter(reservations::status.eq(ReservationStatus::Active.as_str()))
        .filter(reservations::pickup_at.ge(truncate(from)))
        .filter(reservations::pickup_at.lt(truncate(to)))
        .order(reservations::pickup_at.asc())
        .select(reservations::id)
        .limit(200)
        .load(conn)?;
    ids.into_iter()
        .map(|id| super::reservations::counter_view(conn, actor, ReservationId(id)))
        .collect()
}

/// The site a counter page reads, checked against the caller's scope (a site without
/// a selling organisation still shows its pickups).
fn counter_scope(conn: &mut DbConnection, actor: &Actor, site: SiteId) -> ApiResult<i64> {
    actor.require(&[Role::Technician, Role::Coordinator])?;
    let region: i64 = sites::table
        .find(site.0)
        .select(sites::region_id)
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::SiteNotFound))?;
    if !actor.covers_site(site, RegionId(region)) {
        return Err(actor.out_of_scope());
    }
    Ok(site.0)
}

/// The sites whose counter the caller keeps: a technician's own, a coordinator's
/// region's; by name.
pub fn counter_sites(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<(i64, String)>> {
    actor.require(&[Role::Technician, Role::Coordinator])?;
    let mut q = sites::table
        .select((sites::id, sites::name))
        .order(sites::name)
        .into_boxed();
    match actor.role {
        Role::Technician => {
            let site = actor.site.ok_or_else(|| actor.out_of_scope())?;
            q = q.filter(sites::id.eq(site.0));
        }
        _ => {
            let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
            q = q.filter(sites::region_id.eq(region.0));
        }
    }
    Ok(q.load(conn)?)
}

/// The social partners a coordinator may sell to: their region's, by name.
pub fn partners(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<(i64, String)>> {
    actor.require(&[Role::Coordinator])?;
    let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
    Ok(organisations::table
        .filter(organisations::region_id.eq(region.0))
        .filter(organisations::kind.eq(OrgKind::SocialPartner.as_str()))
        .select((organisations::id, organisations::name))
        .order(organisations::name)
        .load(conn)?)
}

/// The last invoice a device was sold under, if the caller may see it.
pub fn last_sale_of(
    conn: &mut DbConnection,
    actor: &Actor,
    item: ItemId,
) -> ApiResult<Option<SaleId>> {
    let found: Option<i64> = sale_lines::table
        .inner_join(sales::table)
        .filter(sale_lines::item_id.eq(item.0))
        .filter(sales::kind.eq(SaleKind::Invoice.as_str()))
        .order(sales::id.desc())
        .select(sales::id)
        .first(conn)
        .optional()?;
    match found {
        Some(id) => Ok(load_visible(conn, actor, SaleId(id))
            .ok()
            .map(|s| SaleId(s.id))),
        None => Ok(None),
    }
}

/// What the handover page shows beside the reservation: the device's price by the
/// region's rules, whether it came from a public body, and then its legal cap.
pub struct Handover {
    pub r: filiere_shared::social::ReservationView,
    pub price: Option<i64>,
    pub public_body: bool,
    pub cap: Option<i64>,
}

pub fn handover(conn: &mut DbConnection, actor: &Actor, id: ReservationId) -> ApiResult<Handover> {
    let r = super::reservations::counter_view(conn, actor, id)?;
    let region: i64 = sites::table
        .find(r.site.id.0)
        .select(sites::region_id)
        .first(conn)?;
    let item = r.item.id.0;
    let price = prices_of(
        conn,
        RegionId(region),
        &[(item, r.item.category, r.item.cosmetic_grade)],
    )?
    .get(&item)
    .copied();
    let public_body = from_public_bodies(conn, &[item])?.contains(&item);
    let cap = match cap_category(r.item.category) {
        Some(cat) if public_body => caps(conn)?
            .into_iter()
            .find(|k| k.category == cat)
            .map(|k| k.max_cents),
        _ => None,
    };
    Ok(Handover {
        r,
        price,
        public_body,
        cap,
    })
}
