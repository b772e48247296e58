//! The sales side of the demo: each region's solidarity prices, sales at the Lyon and
//! Montreuil counters (a public body's laptop at its capped price with split payments,
//! a desktop with its screen), a laptop brought back and repaired, one exchanged, a
//! coordinator's sale to a partner association, and a pickup due today at Lyon for the
//! counter page. All through the service functions, as the counter would.

use super::DemoError;
use crate::auth::Actor;
use crate::clock::Clock;
use crate::db::DbConnection;
use crate::schema::{collections, items, organisations, sites};
use crate::service::{after_sales, beneficiaries, events, reservations as res, sales, training};
use chrono::{Datelike, Duration, Months, Utc};
use diesel::prelude::*;
use filiere_shared::api::{Command, EventRequest};
use filiere_shared::lifecycle::{QaData, QaLine};
use filiere_shared::sales::*;
use filiere_shared::social::*;
use filiere_shared::*;

/// Ready devices of a site, of a category, from a public body's donation or not.
fn ready(
    conn: &mut DbConnection,
    site: SiteId,
    category: Category,
    public_body: Option<bool>,
) -> Result<Vec<ItemId>, DemoError> {
    let mut q = items::table
        .left_join(collections::table.left_join(organisations::table))
        .filter(items::site_id.eq(site.0))
        .filter(items::state.eq(ItemState::Ready.as_str()))
        .filter(items::category.eq(category.as_str()))
        .select((items::id, organisations::public_body.nullable()))
        .order(items::id)
        .into_boxed();
    if let Some(p) = public_body {
        q = q.filter(organisations::public_body.eq(p));
    }
    let rows: Vec<(i64, Option<bool>)> = q.load(conn)?;
    Ok(rows.into_iter().map(|r| ItemId(r.0)).collect())
}

fn price(
    region: RegionId,
    category: Category,
    euros: u32,
    public_body: Option<u32>,
) -> NewPriceRule {
    NewPriceRule {
        region,
        category,
        grade: None,
        price_cents: euros * 100,
        public_body_price_cents: public_body.map(|p| p * 100),
    }
}

fn beneficiary(
    conn: &mut DbConnection,
    sw: &Actor,
    reference: &str,
) -> Result<BeneficiaryView, DemoError> {
    Ok(beneficiaries::create(
        conn,
        sw,
        &NewBeneficiary {
            reference: Some(reference.into()),
            household_size: 2,
            proof_type: "caf".into(),
            proof_date: Utc::now().date_naive() - Duration::days(15),
            consent: true,
            contact: None,
            notes: None,
        },
    )?)
}

/// A reservation with a seat in `session` (or the training declined), picked up at
/// `pickup`.
fn reserve(
    conn: &mut DbConnection,
    sw: &Actor,
    item: ItemId,
    b: &BeneficiaryView,
    session: Option<TrainingSessionId>,
    pickup: chrono::DateTime<Utc>,
) -> Result<ReservationView, DemoError> {
    let r = res::reserve(
        conn,
        sw,
        &NewReservation {
            item,
            beneficiary: b.id,
            pickup_at: pickup,
            session,
            override_reason: None,
        },
        res::Rules::default(),
    )?;
    if session.is_none() {
        res::refuse_training(
            conn,
            sw,
            r.id,
            &RefuseTraining {
                reason: "Suit déjà les ateliers numériques de sa maison de quartier.".into(),
            },
        )?;
    }
    Ok(r)
}

fn cash(cents: i64) -> PaymentInput {
    PaymentInput {
        method: PaymentMethod::Cash,
        amount_cents: cents as u32,
        reference: None,
    }
}

/// Sells a reservation's device at the region's price, paid in cash (or as given).
fn sell(
    conn: &mut DbConnection,
    counter: &Actor,
    r: &ReservationView,
    extra: &[(ItemId, u32)],
    payments: Option<Vec<PaymentInput>>,
) -> Result<SaleView, DemoError> {
    let mut lines = vec![SaleLineInput {
        item: r.item.id,
        price_cents: None,
    }];
    lines.extend(extra.iter().map(|(item, p)| SaleLineInput {
        item: *item,
        price_cents: Some(*p),
    }));
    let payments = match payments {
        Some(p) => p,
        None => {
            // The total at the region's prices: ask the rules as the counter would.
            let h = sales::handover(conn, counter, r.id)?;
            let extra_total: i64 = extra.iter().map(|(_, p)| i64::from(*p)).sum();
            vec![cash(h.price.unwrap_or(0) + extra_total)]
        }
    };
    Ok(sales::sell(
        conn,
        counter,
        &NewSale {
            reservation: Some(r.id),
            partner: None,
            reason: None,
            site: None,
            items: lines,
            payments,
        },
        Clock::default(),
    )?)
}

/// A QA test passed again at the bench, after a repair.
fn retest(conn: &mut DbConnection, tech: &Actor, item: ItemId, key: &str) -> Result<(), DemoError> {
    let version: i64 = items::table
        .find(item.0)
        .select(items::version)
        .first(conn)?;
    let check = |c: QaCheck| QaLine {
        check: c,
        outcome: QaOutcome::Pass,
        note: None,
    };
    events::apply(
        conn,
        tech,
        item,
        &EventRequest {
            idempotency_key: key.into(),
            expected_version: version,
            occurred_at: None,
            command: Command::QaTest {
                report: QaData {
                    checks: vec![
                        check(QaCheck::Boot),
                        check(QaCheck::Keyboard),
                        check(QaCheck::Screen),
                    ],
                    os_installed: Some("Emmabuntüs DE5".into()),
                    functional_grade: Some(Grade::A),
                    cosmetic_grade: Some(Grade::B),
                    notes: Some("Clavier remplacé sous garantie.".into()),
                },
            },
        },
    )?;
    Ok(())
}

pub struct Actors<'a> {
    pub claire: &'a Actor,
    pub yann: &'a Actor,
    pub sophie: &'a Actor,
    pub nadia: &'a Actor,
    pub paul: &'a Actor,
    pub tom: &'a Actor,
    pub malik: &'a Actor,
    pub epn: OrgId,
    pub entraide: OrgId,
}

/// The months before this one at Grenoble: laptops ready by the 25th bought by the
/// partner association that day, so that last month has its impact.
/// Sold before anything else, so that the invoices stay numbered in date order.
fn past_sales(conn: &mut DbConnection, a: &Actors, grenoble: SiteId) -> Result<usize, DemoError> {
    let clock = Clock::default();
    let today = clock.date(Utc::now());
    let this_month = today.with_day(1).unwrap_or(today);
    let mut issued = 0;
    for back in [2, 1] {
        let mid = this_month - Months::new(back) + Duration::days(24);
        let at = clock.day_start(mid) + Duration::hours(10);
        let ids: Vec<i64> = items::table
            .filter(items::site_id.eq(grenoble.0))
            .filter(items::state.eq(ItemState::Ready.as_str()))
            .filter(items::category.eq(Category::Laptop.as_str()))
            .filter(items::state_since.lt(at.naive_utc()))
            .order(items::id)
            .limit(3)
            .select(items::id)
            .load(conn)?;
        if ids.is_empty() {
            continue;
        }
        sales::sell_done(
            conn,
            a.claire,
            &NewSale {
                reservation: None,
                partner: Some(a.entraide),
                reason: Some("Postes de l'atelier numérique de l'association.".into()),
                site: Some(grenoble),
                items: ids
                    .iter()
                    .map(|id| SaleLineInput {
                        item: ItemId(*id),
                        price_cents: Some(6000),
                    })
                    .collect(),
                payments: vec![PaymentInput {
                    method: PaymentMethod::Cheque,
                    amount_cents: 6000 * ids.len() as u32,
                    reference: Some(format!("Chèque n° {:07}", 4400 + back)),
                }],
            },
            clock,
            Some(at.naive_utc()),
        )?;
        issued += 1;
    }
    Ok(issued)
}

/// Loads the sales; returns how many invoices and credit notes were issued.
pub fn load(conn: &mut DbConnection, a: &Actors) -> Result<usize, DemoError> {
    let ara = a
        .claire
        .region
        .ok_or(DemoError::Unknown("region of", "claire".into()))?;
    let idf = a
        .yann
        .region
        .ok_or(DemoError::Unknown("region of", "yann".into()))?;
    let lyon = a
        .tom
        .site
        .ok_or(DemoError::Unknown("site of", "tom".into()))?;
    let montreuil = a
        .malik
        .site
        .ok_or(DemoError::Unknown("site of", "malik".into()))?;
    // Prices: a public body's laptop at most 180 € by law; the regions ask less.
    for rule in [
        price(ara, Category::Laptop, 90, Some(80)),
        price(ara, Category::Desktop, 70, None),
        price(ara, Category::Monitor, 20, None),
        price(ara, Category::AllInOne, 110, None),
        price(ara, Category::Tablet, 50, None),
    ] {
        sales::set_rule(conn, a.claire, &rule)?;
    }
    sales::set_rule(
        conn,
        a.claire,
        &NewPriceRule {
            grade: Some(Grade::A),
            ..price(ara, Category::Laptop, 120, Some(110))
        },
    )?;
    for rule in [
        price(idf, Category::Laptop, 80, None),
        price(idf, Category::Desktop, 60, None),
        price(idf, Category::Monitor, 15, None),
    ] {
        sales::set_rule(conn, a.yann, &rule)?;
    }
    let session = training::create(
        conn,
        a.claire,
        &NewTrainingSession {
            venue: a.epn,
            trainer: "Awa Diallo".into(),
            starts_at: (Utc::now() + Duration::days(12))
                .date_naive()
                .and_hms_opt(9, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or_else(Utc::now),
            duration_minutes: 180,
            capacity: 10,
            topics: vec!["getting_started".into(), "online_procedures".into()],
        },
    )?;
    let grenoble: i64 = sites::table
        .filter(sites::region_id.eq(ara.0))
        .filter(sites::id.ne(lyon.0))
        .order(sites::id)
        .select(sites::id)
        .first(conn)?;
    let mut issued = past_sales(conn, a, SiteId(grenoble))?;
    // Picked up a quarter of an hour from now: today, at the counter.
    let soon = Utc::now() + Duration::minutes(15);
    let public_laptops = ready(conn, lyon, Category::Laptop, Some(true))?;
    let other_laptops = ready(conn, lyon, Category::Laptop, Some(false))?;
    let (due_today, public_laptops) = public_laptops.split_first().ok_or(DemoError::Unknown(
        "public body's ready laptop at",
        "lyon".into(),
    ))?;
    let due_today = *due_today;
    let mut laptops = public_laptops.iter().chain(other_laptops.iter()).copied();
    let mut next = || {
        laptops
            .next()
            .ok_or(DemoError::Unknown("ready laptop at", "lyon".into()))
    };

    // A public body's laptop, its price within the cap, paid by a partner's voucher
    // and the household.
    let b = beneficiary(conn, a.sophie, "CCAS-2026-0190")?;
    let r = reserve(conn, a.sophie, next()?, &b, Some(session.id), soon)?;
    let h = sales::handover(conn, a.tom, r.id)?;
    let total = h.price.unwrap_or(8000);
    sell(
        conn,
        a.tom,
        &r,
        &[],
        Some(vec![
            PaymentInput {
                method: PaymentMethod::Voucher,
                amount_cents: 4000,
                reference: Some("CCAS-BON-2026-031".into()),
            },
            cash(total - 4000),
        ]),
    )?;
    issued += 1;

    // A desktop and its screen: one set for the décret.
    let desktops = ready(conn, lyon, Category::Desktop, None)?;
    let monitors = ready(conn, lyon, Category::Monitor, None)?;
    if let (Some(d), Some(m)) = (desktops.first(), monitors.first()) {
        let b = beneficiary(conn, a.nadia, "EV-341")?;
        let r = reserve(conn, a.nadia, *d, &b, None, soon)?;
        sell(conn, a.tom, &r, &[(*m, 2000)], None)?;
        issued += 1;
    }

    // Brought back and repaired: the guarantee runs six months longer.
    let b = beneficiary(conn, a.sophie, "CCAS-2026-0194")?;
    let r = reserve(conn, a.sophie, next()?, &b, Some(session.id), soon)?;
    let sale = sell(conn, a.tom, &r, &[], None)?;
    issued += 1;
    let item = sale.lines[0].item;
    let back = after_sales::open_return(
        conn,
        a.tom,
        sale.id,
        &NewReturn {
            item,
            reason: "Plusieurs touches du clavier ne répondent plus.".into(),
        },
        Clock::default(),
    )?;
    let case = back.after_sales[0].id;
    after_sales::settle(
        conn,
        a.tom,
        case,
        &SettleAfterSales {
            outcome: AfterSalesOutcome::Repair,
            reason: "Clavier remplacé par un clavier de récupération testé.".into(),
            replacement: None,
            refund_method: None,
        },
        Clock::default(),
    )?;
    retest(conn, a.tom, item, "demo-after-sales-qa")?;
    after_sales::hand_back(conn, a.tom, case, Clock::default())?;

    // Brought back and exchanged: a credit note, a new invoice, a new guarantee.
    let b = beneficiary(conn, a.nadia, "EV-345")?;
    let r = reserve(conn, a.nadia, next()?, &b, Some(session.id), soon)?;
    let sale = sell(conn, a.tom, &r, &[], None)?;
    issued += 1;
    let back = after_sales::open_return(
        conn,
        a.tom,
        sale.id,
        &NewReturn {
            item: sale.lines[0].item,
            reason: "L'écran s'éteint au bout de quelques minutes.".into(),
        },
        Clock::default(),
    )?;
    after_sales::settle(
        conn,
        a.tom,
        back.after_sales[0].id,
        &SettleAfterSales {
            outcome: AfterSalesOutcome::Exchange,
            reason: "Dalle introuvable : échangé contre un portable équivalent.".into(),
            replacement: Some(next()?),
            refund_method: None,
        },
        Clock::default(),
    )?;
    issued += 2;

    // A coordinator's sale to a partner association.
    let one = next()?;
    let two = next()?;
    sales::sell(
        conn,
        a.claire,
        &NewSale {
            reservation: None,
            partner: Some(a.entraide),
            reason: Some(
                "Équipement de l'espace numérique en accès libre de l'association.".into(),
            ),
            site: Some(lyon),
            items: vec![
                SaleLineInput {
                    item: one,
                    price_cents: Some(6000),
                },
                SaleLineInput {
                    item: two,
                    price_cents: Some(6000),
                },
            ],
            payments: vec![PaymentInput {
                method: PaymentMethod::Cheque,
                amount_cents: 12000,
                reference: Some("Chèque n° 0004512".into()),
            }],
        },
        Clock::default(),
    )?;
    issued += 1;

    // At Montreuil.
    if let Some(item) = ready(conn, montreuil, Category::Laptop, None)?.first() {
        let b = beneficiary(conn, a.paul, "SSM-0931")?;
        let r = reserve(conn, a.paul, *item, &b, None, soon)?;
        sell(conn, a.malik, &r, &[], None)?;
        issued += 1;
    }

    // Due today at Lyon: the counter page's pickup, a public body's laptop.
    let b = beneficiary(conn, a.sophie, "CCAS-2026-0197")?;
    reserve(conn, a.sophie, due_today, &b, Some(session.id), soon)?;
    Ok(issued)
}
