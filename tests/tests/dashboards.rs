//! The dashboards through the real server: a random workload (steps, corrections,
//! reservations, cancellations, sales, harvests, recycling) after which every figure
//! the counters hold equals a full recount from the items and their events, folded
//! or not; the dashboard routes answer with those figures; and each role sees only
//! its own scope.
use chrono::{Datelike, Duration, NaiveDate, Utc};
use filiere_server::aggregates::{self, Sites};
use filiere_shared::api::*;
use filiere_shared::dashboards::*;
use filiere_shared::sales::*;
use filiere_shared::social::*;
use filiere_shared::*;
use filiere_tests::*;
use serde_json::{Value, json};

/// A small deterministic generator, so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Every counter and pending delta, read as the dashboards read them.
fn stored(app: &TestApp) -> aggregates::Tallies {
    let mut c = app.conn();
    aggregates::snapshot(&mut c, |c| {
        aggregates::read(
            c,
            &Sites::All,
            &aggregates::Want::all(NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date")),
        )
    })
    .expect("read the counters")
}

fn recounted(app: &TestApp) -> aggregates::Tallies {
    let mut c = app.conn();
    aggregates::snapshot(&mut c, aggregates::recount).expect("recount")
}

/// Folds some of the pending deltas, as a server process does every few seconds.
fn fold(app: &TestApp) -> usize {
    use diesel::Connection;
    let mut c = app.conn();
    c.transaction(aggregates::fold).expect("fold")
}

fn assert_exact(app: &TestApp, when: &str) {
    let s = stored(app);
    let r = recounted(app);
    assert_eq!(s.stock, r.stock, "{when}: stock");
    assert_eq!(s.collections, r.collections, "{when}: collections");
    assert_eq!(s.weeks, r.weeks, "{when}: weeks");
    assert_eq!(s.months, r.months, "{when}: months");
    assert_eq!(s.ready, r.ready, "{when}: reception to ready");
    assert_eq!(s.aging_days, r.aging_days, "{when}: waiting by day");
    assert_eq!(s.aging_months, r.aging_months, "{when}: waiting by month");
    assert_waiting(app, when);
}

/// What waits, by state, site and reason, counted from the items themselves.
type Waiting = std::collections::BTreeMap<(ItemState, i64, String), i64>;

/// An item's id, state, site, what it waits for and since when.
type WaitingItem = (
    i64,
    String,
    i64,
    Option<String>,
    Option<chrono::NaiveDateTime>,
);

/// The aging dashboard's counts for a cutoff equal the items that wait since before
/// it, to the second: at every item's own time and a second either side, at the day's
/// and the month's start, for every state, for all sites, one site, one reason.
fn assert_waiting(app: &TestApp, when: &str) {
    use diesel::prelude::*;
    use filiere_server::schema::items;
    let mut c = app.conn();
    let rows: Vec<WaitingItem> = items::table
        .select((
            items::id,
            items::state,
            items::site_id,
            items::blocker,
            items::state_since,
        ))
        .load(&mut c)
        .expect("items");
    let ids: Vec<(i64, String, chrono::NaiveDateTime)> = rows
        .iter()
        .filter_map(|(id, st, _, b, since)| {
            b.as_ref().filter(|b| !b.is_empty())?;
            Some((*id, st.clone(), (*since)?))
        })
        .collect();
    let waiting: Vec<(String, i64, String, chrono::NaiveDateTime)> = rows
        .into_iter()
        .filter_map(|(_, st, site, b, since)| {
            Some((st, site, b.filter(|b| !b.is_empty())?, since?))
        })
        .collect();
    let mut cutoffs = vec![Utc::now().naive_utc()];
    for (_, _, _, since) in &waiting {
        let day = since.date().and_time(chrono::NaiveTime::MIN);
        let month = since
            .date()
            .with_day(1)
            .expect("a first day")
            .and_time(chrono::NaiveTime::MIN);
        for at in [
            *since,
            *since + Duration::seconds(1),
            *since - Duration::seconds(1),
        ] {
            cutoffs.push(at);
        }
        cutoffs.extend([day, day + Duration::days(1), month]);
    }
    cutoffs.sort();
    cutoffs.dedup();
    // At most 120 of them, spread over the whole range.
    let step = cutoffs.len().div_ceil(120).max(1);
    let cutoffs: Vec<_> = cutoffs.into_iter().step_by(step).collect();
    // The states something waits in, and one nothing does.
    let mut states: Vec<ItemState> = ItemState::ALL
        .iter()
        .copied()
        .filter(|s| waiting.iter().any(|w| w.0 == s.as_str()))
        .collect();
    states.extend(
        ItemState::ALL
            .iter()
            .copied()
            .find(|s| waiting.iter().all(|w| w.0 != s.as_str())),
    );
    let first_site = waiting.first().map(|w| w.1);
    let first_reason: Option<WaitingFor> = waiting.first().map(|w| w.2.parse().expect("a reason"));
    let expected = |cutoffs: &[(ItemState, chrono::NaiveDateTime)],
                    site: Option<i64>,
                    reason: Option<&str>|
     -> Waiting {
        let mut out = Waiting::new();
        for (state, at) in cutoffs {
            for (st, s, b, since) in &waiting {
                if st == state.as_str()
                    && since < at
                    && site.is_none_or(|x| x == *s)
                    && reason.is_none_or(|r| r == b)
                {
                    *out.entry((*state, *s, b.clone())).or_insert(0) += 1;
                }
            }
        }
        out
    };
    aggregates::snapshot(&mut c, |c| {
        let pending = aggregates::pending_items(c)?;
        for (i, at) in cutoffs.iter().enumerate() {
            // Every state at this time, then each state at a time of its own, as the
            // dashboard asks them (one threshold per state).
            let same: Vec<_> = states.iter().map(|s| (*s, *at)).collect();
            let own: Vec<_> = states
                .iter()
                .enumerate()
                .map(|(j, s)| (*s, cutoffs[(i + 7 * j) % cutoffs.len()]))
                .collect();
            for asked in [&same, &own] {
                let got = aggregates::waiting(c, &Sites::All, asked, None, &pending)?;
                assert_eq!(got, expected(asked, None, None), "{when}: {asked:?}");
                // The oldest five, as the aging list shows them.
                let listed: Vec<i64> = aggregates::oldest(c, &Sites::All, asked, None, &got, 5)?
                    .iter()
                    .map(|o| o.id)
                    .collect();
                let mut longest: Vec<(chrono::NaiveDateTime, i64)> = ids
                    .iter()
                    .filter(|(_, st, since)| {
                        asked.iter().any(|(s, at)| s.as_str() == st && since < at)
                    })
                    .map(|(id, _, since)| (*since, *id))
                    .collect();
                longest.sort();
                let longest: Vec<i64> = longest.iter().take(5).map(|(_, id)| *id).collect();
                assert_eq!(listed, longest, "{when}: the oldest before {asked:?}");
                if let Some(site) = first_site {
                    let got = aggregates::waiting(
                        c,
                        &Sites::Only(vec![site]),
                        asked,
                        first_reason,
                        &pending,
                    )?;
                    let want = expected(asked, Some(site), first_reason.map(|r| r.as_str()));
                    assert_eq!(got, want, "{when}: {asked:?}, one site, one reason");
                }
            }
        }
        Ok(())
    })
    .expect("waiting counts");
}

/// Dates back some waiting items' time in their state, over the last months (as a
/// bench that was offline for long, or an administrator's fix, would): the counters
/// follow such a change too.
fn back_date(app: &TestApp, rng: &mut Rng) {
    use diesel::prelude::*;
    use filiere_server::schema::items;
    let mut c = app.conn();
    let ids: Vec<i64> = items::table
        .filter(items::blocker.ne(""))
        .select(items::id)
        .load(&mut c)
        .expect("items");
    for id in ids {
        if rng.chance(30) {
            let at = Utc::now().naive_utc()
                - Duration::seconds(rng.below(200 * 86_400) as i64)
                - Duration::microseconds(rng.below(1_000_000) as i64);
            diesel::update(items::table.find(id))
                .set(items::state_since.eq(at))
                .execute(&mut c)
                .expect("back-date an item");
        }
    }
}

struct Setup {
    w: World,
    venue: OrgId,
    collection: CollectionId,
}

async fn setup(app: &TestApp) -> Setup {
    let SellingWorld { w, venue, .. } = app.selling_world().await;
    let c: CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &json!({"donor": w.donor_public, "site": w.site_a1, "pickup_date": "2026-11-02",
                "declared_count": 200, "legal_status": "reuse"}),
        )
        .await;
    Setup {
        w,
        venue,
        collection: c.id,
    }
}

/// Sends a step; on success returns the item after it (and the event's id).
async fn try_step(
    app: &TestApp,
    token: &str,
    item: &ItemView,
    key: &str,
    command: Value,
) -> Option<(ItemView, EventId)> {
    let (st, v) = app.step(token, item, key, command).await;
    if !st.is_success() {
        return None;
    }
    let r: EventResponse = serde_json::from_value(v).expect("event response");
    Some((r.item, r.event.id))
}

async fn fresh(app: &TestApp, token: &str, id: ItemId) -> ItemView {
    app.get_ok(&format!("/api/v1/items/{id}"), token).await
}

#[actix_web::test]
async fn every_dashboard_figure_equals_a_full_recount_under_a_random_workload() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let w = &s.w;
    let seed = std::env::var("FILIERE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261127u64);
    eprintln!("seed {seed} (FILIERE_SEED to replay)");
    let mut rng = Rng(seed);
    let items: usize = 40;
    let codes = app.codes(&w.tech_a1, w.site_a1, (items * 3) as i32).await;
    let mut spare = codes[items..].iter().cloned();
    let session: TrainingSessionView = app
        .post_ok(
            "/api/v1/training-sessions",
            &w.coord_a,
            &json!({"venue": s.venue, "trainer": "Awa", "duration_minutes": 120, "capacity": 40,
                "starts_at": (Utc::now() + Duration::days(5)).to_rfc3339(),
                "topics": ["getting_started"]}),
        )
        .await;
    let t = &w.tech_a1;
    let mut folded = 0;
    let mut refunds = 0;
    let mut sold = 0;
    for (i, code) in codes[..items].iter().enumerate() {
        let k = |step: &str| format!("w{i}-{step}");
        let at_workshop = rng.chance(40);
        let category = ["laptop", "laptop", "laptop", "desktop", "monitor"][rng.below(5) as usize];
        let serial = format!("DRV-{i}");
        let mut body = json!({"idempotency_key": k("reg"), "code": code, "category": category,
            "brand": "Dell", "model": "Latitude 5490", "at_workshop": at_workshop,
            "drives": [{"serial": serial, "size_gb": 256, "bus": "sata", "media": "ssd"}]});
        match rng.below(3) {
            0 => body["weight_g"] = json!(1500 + rng.below(1000)),
            1 => {
                body["weight_g"] = json!(2000);
                body["weight_estimated"] = json!(true);
            }
            _ => {}
        }
        if !at_workshop {
            body["collection"] = json!(s.collection);
        }
        let r: EventResponse = app.post_ok("/api/v1/items", t, &body).await;
        let mut item = r.item;
        // The path this item takes, and how far.
        let route = ["refurbish", "refurbish", "harvest", "recycle"][rng.below(4) as usize];
        let mut plan: Vec<(&str, Value)> = Vec::new();
        if !at_workshop {
            plan.push(("rcv", json!({"type": "receive"})));
        }
        plan.push(("tri", json!({"type": "triage", "route": route})));
        match route {
            "refurbish" => {
                plan.push(("era", erase(&serial)));
                plan.push(("qa", qa_pass()));
                plan.push(("rdy", json!({"type": "mark_ready"})));
            }
            "harvest" => {
                plan.push(("era", erase(&serial)));
                plan.push((
                    "ram",
                    json!({"type": "harvest_part", "code": "", "category": "ram",
                    "specs": {"part_spec": "8 GB DDR4", "ram_gb": 8}}),
                ));
                plan.push(("td", json!({"type": "finish_teardown"})));
            }
            _ => {
                plan.push((
                    "des",
                    json!({"type": "destroy_drive", "serial": serial, "method": "broyage"}),
                ));
            }
        }
        let stop = 1 + rng.below(plan.len() as u64 + 1) as usize;
        for (n, (name, command)) in plan.into_iter().take(stop).enumerate() {
            let mut command = command;
            if name == "ram" {
                command["code"] = json!(spare.next().expect("a spare code"));
            }
            let Some((after, event)) = try_step(&app, t, &item, &k(name), command.clone()).await
            else {
                panic!("item {i}: step {name} refused");
            };
            item = after;
            let correctable = !matches!(name, "ram");
            if correctable && rng.chance(25) {
                // Undone, then done again.
                let (undone, _) = try_step(
                    &app,
                    t,
                    &item,
                    &k(&format!("c{n}")),
                    json!({"type": "correct_last", "event": event, "reason": "erreur de saisie"}),
                )
                .await
                .unwrap_or_else(|| panic!("item {i}: correction of {name} refused"));
                item = undone;
                if rng.chance(70) {
                    let mut again = command;
                    if name == "era" {
                        again = erase(&serial);
                    }
                    let (redone, _) = try_step(&app, t, &item, &k(&format!("{name}2")), again)
                        .await
                        .unwrap_or_else(|| panic!("item {i}: {name} again refused"));
                    item = redone;
                } else {
                    break;
                }
            }
        }
        // Ready devices: reserved, then sold or let go, now and then.
        if item.state == ItemState::Ready && item.category == Category::Laptop {
            let b: BeneficiaryView = app
                .post_ok(
                    "/api/v1/beneficiaries",
                    &w.social_worker_a,
                    &json!({"reference": format!("B-{i}"), "household_size": 2, "proof_type": "caf",
                        "proof_date": (Utc::now().date_naive() - Duration::days(10)).to_string(),
                        "consent": true}),
                )
                .await;
            let r: ReservationView = app
                .post_ok(
                    "/api/v1/reservations",
                    &w.social_worker_a,
                    &json!({"item": item.id, "beneficiary": b.id, "session": session.id,
                        "pickup_at": (Utc::now() + Duration::hours(3)).to_rfc3339()}),
                )
                .await;
            if rng.chance(30) {
                let (st, v) = app
                    .post(
                        &format!("/api/v1/reservations/{}/cancel", r.id),
                        &w.social_worker_a,
                        &json!({"reason": "le foyer a renoncé"}),
                    )
                    .await;
                assert!(st.is_success(), "cancel: {v}");
            } else {
                let (st, v) = app
                    .post(
                        "/api/v1/sales",
                        t,
                        &json!({"reservation": r.id, "items": [{"item": item.id}],
                            "payments": [{"method": "cash", "amount_cents": 9000}]}),
                    )
                    .await;
                assert!(st.is_success(), "sale: {v}");
                // Every other sale brought back and refunded: no longer reused.
                sold += 1;
                if sold % 2 == 1 {
                    let sale: SaleView = serde_json::from_value(v).expect("sale");
                    let back: SaleView = app
                        .post_ok(
                            &format!("/api/v1/sales/{}/returns", sale.id),
                            t,
                            &json!({"item": item.id, "reason": "ne démarre plus"}),
                        )
                        .await;
                    let _: SaleView = app
                        .post_ok(
                            &format!("/api/v1/after-sales/{}/settle", back.after_sales[0].id),
                            t,
                            &json!({"outcome": "refund", "reason": "carte mère", "refund_method": "cash"}),
                        )
                        .await;
                    refunds += 1;
                }
            }
        }
        // Recycling: into a batch now and then, handed over at the end.
        let item = fresh(&app, t, item.id).await;
        if item.state == ItemState::Refurbishing && rng.chance(30) {
            let _ = try_step(
                &app,
                t,
                &item,
                &k("mfr"),
                json!({"type": "mark_for_recycling"}),
            )
            .await;
        }
        if rng.chance(20) {
            back_date(&app, &mut rng);
        }
        if rng.chance(30) {
            folded += fold(&app);
            assert_exact(&app, &format!("after item {i}, some deltas folded"));
        }
    }
    // Whatever is waiting for recycling leaves in one batch.
    let batch: Value = app
        .post_ok(
            "/api/v1/weee-batches",
            t,
            &json!({"site": w.site_a1, "recycler": w.recycler}),
        )
        .await;
    let batch_id = batch["id"].as_i64().expect("batch id");
    let listing: Value = app
        .get_ok(
            &format!(
                "/api/v1/items?state=to_recycle&site={}&limit=500",
                w.site_a1
            ),
            t,
        )
        .await;
    let mut added = 0;
    for it in listing["items"].as_array().expect("items") {
        let id = ItemId(it["id"].as_i64().expect("id"));
        let mut item = fresh(&app, t, id).await;
        for d in item.drives.clone() {
            if d.status == DriveStatus::Pending {
                let (st, v) = app
                    .step(
                        t,
                        &item,
                        &format!("des-{id}"),
                        json!({"type": "destroy_drive", "serial": d.serial, "method": "broyage"}),
                    )
                    .await;
                assert!(st.is_success(), "destroy the drive of {id}: {v}");
                item = fresh(&app, t, id).await;
            }
        }
        let (st, v) = app
            .step(
                t,
                &item,
                &format!("weee-{id}"),
                json!({"type": "add_to_weee_batch", "batch": batch_id}),
            )
            .await;
        assert!(st.is_success(), "add {id} to the batch: {v}");
        added += 1;
    }
    if added > 0 {
        let _: Value = app
            .post_ok(
                &format!("/api/v1/weee-batches/{batch_id}/close"),
                t,
                &json!({"weight_g": 12000}),
            )
            .await;
        let _: Value = app
            .post_ok(
                &format!("/api/v1/weee-batches/{batch_id}/handover"),
                t,
                &json!({"waste_form_ref": "BSD-2026-0001"}),
            )
            .await;
    }
    assert_exact(&app, "at the end, before the last fold");
    while fold(&app) > 0 {}
    assert_eq!(
        TestApp::number(&mut app.conn(), "SELECT COUNT(*) AS n FROM item_deltas"),
        0
    );
    assert_eq!(
        TestApp::number(&mut app.conn(), "SELECT COUNT(*) AS n FROM flow_deltas"),
        0
    );
    assert_exact(&app, "every delta folded");
    // The sweep's vacuum of the folds' dead rows leaves every figure as it was.
    aggregates::vacuum(&mut app.conn()).expect("vacuum");
    assert_exact(&app, "after the vacuum");
    eprintln!("{folded} deltas folded on the way, {added} items recycled, {refunds} refunded");
    let r = recounted(&app);
    assert!(
        r.weeks.keys().any(|k| k.2 == "sold"),
        "the workload sold something"
    );
    assert!(refunds > 0 && r.weeks.keys().any(|k| k.2 == "taken_back"));
    assert!(r.weeks.keys().any(|k| k.2 == "recycled") || added == 0);
    assert!(!r.ready.is_empty(), "the workload made devices ready");
    assert!(
        r.months.keys().any(|k| k.2 == "equipped"),
        "households equipped"
    );
    let impact: ImpactView = app.get_ok("/api/v1/dashboards/impact", &w.coord_a).await;
    let n = |sql: &str| TestApp::number(&mut app.conn(), sql);
    assert_eq!(
        impact.households,
        n(
            "SELECT COUNT(DISTINCT beneficiary_id) AS n FROM sales WHERE kind = 'invoice' AND beneficiary_id IS NOT NULL"
        )
    );
    assert_eq!(
        impact.reused,
        n("SELECT COUNT(*) AS n FROM item_events WHERE event_type = 'sold'")
            - n("SELECT COUNT(*) AS n FROM item_events WHERE event_type = 'taken_back'")
    );
    let laptop = impact
        .lines
        .iter()
        .find(|l| l.category == Category::Laptop)
        .expect("laptops reused");
    assert_eq!(laptop.avoided_g_per_year, Some(27_000));
    assert_eq!(
        laptop.co2e_avoided_g,
        laptop.reused * 27_000 * impact.extra_years
    );

    // A collection's balance: every device registered on it, in one line or
    // another, its grams as the items'.
    let cols: CollectionsDashboard = app
        .get_ok("/api/v1/dashboards/collections", &w.coord_a)
        .await;
    let k = cols
        .collections
        .iter()
        .find(|k| k.id == s.collection)
        .expect("the collection");
    let on = |what: &str| {
        TestApp::number(
            &mut app.conn(),
            &format!(
                "SELECT {what} AS n FROM items WHERE collection_id = {} AND kind = 'device'",
                s.collection
            ),
        )
    };
    assert_eq!(k.registered.devices, on("COUNT(*)"));
    assert_eq!(
        k.lines.iter().map(|l| l.mass.devices).sum::<i64>(),
        k.registered.devices
    );
    assert_eq!(
        k.registered.weighed_g,
        on("CAST(COALESCE(SUM(CASE WHEN NOT weight_estimated THEN weight_g END), 0) AS BIGINT)")
    );
    assert_eq!(
        k.registered.estimated_g,
        on("CAST(COALESCE(SUM(CASE WHEN weight_estimated THEN weight_g END), 0) AS BIGINT)")
    );
    assert_eq!(k.registered.unweighed, on("COUNT(*) - COUNT(weight_g)"));
    let reused = k
        .lines
        .iter()
        .find(|l| l.line == BalanceLine::Reused)
        .expect("the reused line");
    assert_eq!(
        reused.mass.devices,
        on("COUNT(CASE WHEN state = 'sold' THEN 1 END)")
    );

    let demand: DemandDashboard = app.get_ok("/api/v1/dashboards/demand", &w.coord_a).await;
    if let Some(l) = demand.lines.iter().find(|l| l.category == Category::Laptop) {
        assert_eq!(
            l.ready,
            TestApp::number(
                &mut app.conn(),
                "SELECT COUNT(*) AS n FROM items WHERE category = 'laptop' AND state = 'ready'"
            )
        );
        assert_eq!(
            l.active_reservations,
            TestApp::number(
                &mut app.conn(),
                "SELECT COUNT(*) AS n FROM reservations WHERE status = 'active'"
            )
        );
    }
    assert_eq!(demand.sessions.len(), 1);
    assert!(demand.sessions[0].booked > 0, "the workload booked seats");

    // The stock route shows the same figures as the items themselves.
    let stock: StockDashboard = app.get_ok("/api/v1/dashboards/stock", &w.coord_a).await;
    let ready_laptops: i64 = stock
        .devices
        .iter()
        .filter(|c| c.category == Category::Laptop && c.state == ItemState::Ready)
        .map(|c| c.count)
        .sum();
    assert_eq!(
        ready_laptops,
        TestApp::number(
            &mut app.conn(),
            "SELECT COUNT(*) AS n FROM items WHERE category = 'laptop' AND state = 'ready'"
        )
    );
    let ram: i64 = stock
        .parts
        .iter()
        .filter(|p| p.category == Category::Ram && p.spec == "DDR4/8")
        .map(|p| p.untested)
        .sum();
    assert_eq!(
        ram,
        TestApp::number(
            &mut app.conn(),
            "SELECT COUNT(*) AS n FROM items WHERE category = 'ram' AND state = 'in_stock'"
        )
    );
    let flows: FlowDashboard = app.get_ok("/api/v1/dashboards/flows", &w.coord_a).await;
    let sold_idx = flows
        .flows
        .iter()
        .position(|f| *f == Flow::Sold)
        .expect("sold is charted");
    let sold: i64 = flows.weeks.iter().map(|w| w.counts[sold_idx]).sum();
    assert_eq!(
        sold,
        TestApp::number(
            &mut app.conn(),
            "SELECT COUNT(*) AS n FROM item_events WHERE event_type = 'sold'"
        )
    );
}

fn sites_of_demand(d: &DemandDashboard) -> Vec<SiteId> {
    d.sites.iter().map(|s| s.id).collect()
}

#[actix_web::test]
async fn each_role_sees_its_own_scope_and_no_other() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 2).await;
    app.laptop(&w.tech_a1, &codes[0], "S-0").await;
    let codes_b = app.codes(&w.tech_b, w.site_b, 1).await;
    app.laptop(&w.tech_b, &codes_b[0], "S-1").await;

    let sites_of = |d: &StockDashboard| -> Vec<SiteId> { d.sites.iter().map(|s| s.id).collect() };
    let a: StockDashboard = app.get_ok("/api/v1/dashboards/stock", &w.coord_a).await;
    assert_eq!(sites_of(&a), vec![w.site_a1, w.site_a2]);
    assert!(a.devices.iter().all(|c| c.site != w.site_b));
    assert_eq!(a.devices.iter().map(|c| c.count).sum::<i64>(), 1);
    let t: StockDashboard = app.get_ok("/api/v1/dashboards/stock", &w.tech_a1).await;
    assert_eq!(sites_of(&t), vec![w.site_a1]);
    let all: StockDashboard = app.get_ok("/api/v1/dashboards/stock", &w.admin).await;
    assert_eq!(all.devices.iter().map(|c| c.count).sum::<i64>(), 2);
    let one: StockDashboard = app
        .get_ok(
            &format!("/api/v1/dashboards/stock?region={}", w.region_b),
            &w.admin,
        )
        .await;
    assert_eq!(sites_of(&one), vec![w.site_b]);

    for path in ["stock", "flows", "aging", "impact", "collections", "demand"] {
        for (token, query, status, code) in [
            (
                &w.coord_a,
                format!("region={}", w.region_b),
                403,
                "out_of_scope",
            ),
            (
                &w.coord_a,
                format!("site={}", w.site_b),
                403,
                "out_of_scope",
            ),
            (
                &w.tech_a1,
                format!("site={}", w.site_a2),
                403,
                "out_of_scope",
            ),
            (
                &w.tech_a1,
                format!("region={}", w.region_b),
                403,
                "out_of_scope",
            ),
            (&w.social_worker_a, String::new(), 403, "forbidden"),
            (&w.admin, "site=99999".to_owned(), 404, "site_not_found"),
        ] {
            let (st, v) = app
                .get(&format!("/api/v1/dashboards/{path}?{query}"), token)
                .await;
            assert_eq!(st.as_u16(), status, "{path}?{query}: {v}");
            assert_eq!(v["code"], code, "{path}?{query}");
        }
        let (st, _) = app.get(&format!("/api/v1/dashboards/{path}"), "").await;
        assert_eq!(st.as_u16(), 401, "{path} without a session");
    }
    let d: DemandDashboard = app.get_ok("/api/v1/dashboards/demand", &w.coord_a).await;
    assert_eq!(sites_of_demand(&d), vec![w.site_a1, w.site_a2]);
    let (st, v) = app
        .get("/api/v1/dashboards/impact?from=2026-13", &w.coord_a)
        .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (400, Some("invalid_query")),
        "{v}"
    );
}

#[actix_web::test]
async fn aging_lists_what_waits_since_the_step_was_done_oldest_first() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 3).await;
    // Triaged 20 and 3 days ago (a bench's steps sent late), drives not erased.
    let mut ids = Vec::new();
    for (i, days) in [(0usize, 20i64), (1, 3), (2, 16)] {
        let item = app.laptop(t, &codes[i], &format!("AG-{i}")).await;
        let (st, v) = app
            .post(
                &format!("/api/v1/items/{}/events", item.id),
                t,
                &json!({"idempotency_key": format!("ag-{i}"), "expected_version": item.version,
                    "occurred_at": (Utc::now() - Duration::days(days)).to_rfc3339(),
                    "command": {"type": "triage", "route": "refurbish"}}),
            )
            .await;
        assert!(st.is_success(), "{v}");
        ids.push(item.id);
    }
    let d: AgingDashboard = app
        .get_ok(
            "/api/v1/dashboards/aging?waiting_for=drives_not_erased",
            &w.coord_a,
        )
        .await;
    // The refurbishing threshold is 14 days: the item of 3 days is not listed.
    let listed: Vec<ItemId> = d.items.iter().map(|i| i.id).collect();
    assert_eq!(listed, vec![ids[0], ids[2]], "oldest first");
    assert!(d.items[0].days >= 20 && d.items[1].days >= 16);
    assert_eq!(
        d.counts
            .iter()
            .map(|c| (c.site, c.state, c.waiting_for, c.count))
            .collect::<Vec<_>>(),
        vec![(
            w.site_a1,
            ItemState::Refurbishing,
            WaitingFor::DrivesNotErased,
            2
        )]
    );
    let d: AgingDashboard = app
        .get_ok("/api/v1/dashboards/aging?min_days=2", &w.coord_a)
        .await;
    assert_eq!(d.items.len(), 3);
    let d: AgingDashboard = app.get_ok("/api/v1/dashboards/aging", &w.tech_b).await;
    assert!(
        d.items.is_empty(),
        "another region's technician sees none of them"
    );
    let (st, v) = app
        .get("/api/v1/dashboards/aging?limit=0", &w.coord_a)
        .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (st, v) = app
        .get("/api/v1/dashboards/aging?waiting_for=nothing", &w.coord_a)
        .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (400, Some("invalid_query"))
    );

    // An admin lowers the refurbishing threshold to 2 days: the item of 3 days is
    // listed too. Nobody else may change it, and a refused change writes nothing.
    let patch = |token: &str, body: Value| {
        let app = &app;
        let token = token.to_owned();
        async move {
            app.request(
                reqwest::Method::PATCH,
                "/api/v1/dashboards/settings",
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    for who in [&w.coord_a, &w.tech_a1, &w.social_worker_a] {
        let (st, v) = patch(who, json!({"extra_years": 5})).await;
        assert_eq!(
            (st.as_u16(), v["code"].as_str()),
            (403, Some("forbidden")),
            "{v}"
        );
    }
    for (body, status, code) in [
        (json!({"extra_years": 0}), 400, "invalid_input"),
        (
            json!({"extra_years": 5, "thresholds": [{"state": "refurbishing", "days": 0}]}),
            400,
            "invalid_input",
        ),
        (
            json!({"extra_years": 5, "thresholds": [{"state": "sold", "days": 3}]}),
            422,
            "invalid_value",
        ),
        (
            json!({"extra_years": 5, "thresholds": [{"state": "refurbishing", "days": 3},
            {"state": "refurbishing", "days": 4}]}),
            422,
            "invalid_value",
        ),
        (
            json!({"extra_years": 5, "colour": "blue"}),
            400,
            "unknown_field",
        ),
    ] {
        let (st, v) = patch(&w.admin, body.clone()).await;
        assert_eq!(
            (st.as_u16(), v["code"].as_str()),
            (status, Some(code)),
            "{body}: {v}"
        );
    }
    let kept: DashboardSettings = app.get_ok("/api/v1/dashboards/settings", &w.coord_a).await;
    assert_eq!(kept.extra_years, 2, "nothing written by a refused change");
    let (st, v) = patch(
        &w.admin,
        json!({"extra_years": 3, "thresholds": [{"state": "refurbishing", "days": 2}]}),
    )
    .await;
    assert_eq!(st.as_u16(), 200, "{v}");
    let set: DashboardSettings = serde_json::from_value(v).expect("settings");
    assert_eq!(set.extra_years, 3);
    assert!(
        set.thresholds
            .iter()
            .any(|t| t.state == ItemState::Refurbishing && t.days == 2)
    );
    let d: AgingDashboard = app
        .get_ok(
            "/api/v1/dashboards/aging?waiting_for=drives_not_erased",
            &w.coord_a,
        )
        .await;
    let listed: Vec<ItemId> = d.items.iter().map(|i| i.id).collect();
    assert_eq!(listed, vec![ids[0], ids[2], ids[1]]);
    let impact: ImpactView = app.get_ok("/api/v1/dashboards/impact", &w.coord_a).await;
    assert_eq!(impact.extra_years, 3);
}

#[actix_web::test]
async fn the_funders_report_is_a_pdf_of_the_impact_figures() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let impact: ImpactView = app.get_ok("/api/v1/dashboards/impact", &w.coord_a).await;
    let resp = app
        .client
        .get(format!("{}/api/v1/dashboards/impact.pdf", app.base))
        .bearer_auth(&w.coord_a)
        .send()
        .await
        .expect("the report");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let bytes = resp.bytes().await.expect("PDF");
    assert!(bytes.starts_with(b"%PDF"));
    if let Some(text) = pdf_text(&bytes) {
        assert!(text.contains("Rapport d'impact"), "{text}");
        assert!(text.contains("Région AAA"), "{text}");
        assert!(
            text.contains(&format!("Appareils réemployés {}", impact.reused))
                || text.contains("Appareils réemployés"),
            "{text}"
        );
        assert!(
            text.contains("Comment ces chiffres sont calculés"),
            "{text}"
        );
    }
    for (token, status) in [(&w.social_worker_a, 403), (&w.tech_a1, 200)] {
        let (st, _) = app.get("/api/v1/dashboards/impact.pdf", token).await;
        assert_eq!(st.as_u16(), status);
    }
    let (st, _) = app
        .get(
            &format!("/api/v1/dashboards/impact.pdf?region={}", w.region_b),
            &w.coord_a,
        )
        .await;
    assert_eq!(st.as_u16(), 403);
}

#[actix_web::test]
async fn a_query_outside_its_schema_is_refused_and_a_too_long_period_is_a_rule() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    for (path, status, code) in [
        (
            "/api/v1/dashboards/aging?min_days=3651",
            400,
            "invalid_query",
        ),
        (
            "/api/v1/dashboards/impact?from=0000-01",
            400,
            "invalid_query",
        ),
        ("/api/v1/dashboards/impact?to=2026-00", 400, "invalid_query"),
        (
            "/api/v1/dashboards/impact?from=1990-01",
            422,
            "invalid_value",
        ),
        (
            "/api/v1/dashboards/impact?from=2026-05&to=2026-04",
            422,
            "invalid_value",
        ),
    ] {
        let (st, v) = app.get(path, &w.coord_a).await;
        assert_eq!(
            (st.as_u16(), v["code"].as_str()),
            (status, Some(code)),
            "{path}: {v}"
        );
    }
}
