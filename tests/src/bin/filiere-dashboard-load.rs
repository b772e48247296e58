//! The dashboards at the scale of a national network, on loopback: seeds `--items`
//! devices (a million by default) over `--regions` regions with realistic histories
//! (about ten events each over the last year: reception, triage, erasure, tests
//! that fail and pass, ready, reopened and made ready again, holds that expire,
//! reservation, sale to a household, or teardown, or recycling; parts in stock; an
//! invoice and a beneficiary per sale), folds the counters, then measures
//! every dashboard route and page and the open data: each alone from one client,
//! then `--clients` coordinators at once.
//!
//! ```sh
//! cargo run --release --bin filiere-dashboard-load                      # SQLite
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release --bin filiere-dashboard-load                  # PostgreSQL
//! ```
//!
//! The rows are written straight to the database, many to a statement (the server's
//! triggers keep the counters as they do for every write); each item's history is
//! built with the lifecycle rules' own `evolve`, so that its stored lifecycle, state
//! and what it waits for are those the server would have written.

use chrono::{DateTime, Duration as Span, NaiveDateTime, Utc};
use clap::Parser;
use diesel::prelude::*;
use filiere_server::db::DbConnection;
use filiere_server::models::{NewEventRow, NewItemRow};
use filiere_server::schema::{
    beneficiaries, item_events, items, organisations, sales, users, weee_batches,
};
use filiere_shared::api::*;
use filiere_shared::lifecycle::{
    self, DriveSpec, ErasureData, EventPayload, Lifecycle, QaData, QaLine,
};
use filiere_shared::*;
use filiere_tests::TestApp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Devices in the data set (parts come on top: a tenth as many).
    #[arg(long, default_value_t = 1_000_000)]
    items: usize,
    #[arg(long, default_value_t = 13)]
    regions: usize,
    /// Workshops per region.
    #[arg(long, default_value_t = 4)]
    sites: usize,
    /// Coordinators reading at once in the concurrent run.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds of the concurrent run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds between the folds that change the counters during the concurrent run,
    /// one run for each (the sweep folds every 5 s at most; 1 s is five times as often).
    #[arg(long, value_delimiter = ',', default_value = "5,1")]
    fold_every: Vec<u64>,
    /// Requests per route in the one-client run.
    #[arg(long, default_value_t = 30)]
    samples: usize,
    /// Requests per route each right after a fold that changed the counters.
    #[arg(long, default_value_t = 5)]
    after_fold: usize,
    /// An existing database (SQLite file URL or PostgreSQL database URL), kept after
    /// the run: seeded if it holds no item, else measured as it is (its coordinators
    /// signed in again), so that a change is measured again without seeding again.
    #[arg(long)]
    database: Option<String>,
}

struct Site {
    id: i64,
    region: i64,
}

struct World {
    admin: String,
    admin_id: i64,
    coordinators: Vec<(String, String)>,
    sites: Vec<Site>,
    operator: i64,
    social: i64,
    social_worker: i64,
    batches: std::collections::HashMap<i64, i64>,
}

async fn world(app: &TestApp, args: &Args) -> World {
    {
        let mut c = app.conn();
        filiere_server::service::admin::create_user(
            &mut c,
            None,
            &NewUser {
                username: "admin".into(),
                display_name: "Admin".into(),
                role: Role::Admin,
                password: Some(filiere_tests::PASSWORD.into()),
                badge: None,
                site: None,
                region: None,
                organisation: None,
                language: Lang::Fr,
            },
        )
        .expect("admin");
    }
    let admin = app.login("admin").await;
    let mut sites = Vec::new();
    let mut coordinators = Vec::new();
    for r in 0..args.regions {
        let region: RegionView = app
            .post_ok(
                "/api/v1/regions",
                &admin,
                &json!({"name": format!("Région {r}"), "code": format!("R{r:02}")}),
            )
            .await;
        for s in 0..args.sites {
            let site: SiteView = app
                .post_ok(
                    "/api/v1/sites",
                    &admin,
                    &json!({"region": region.id, "name": format!("Atelier {r}-{s}"), "kind": "workshop"}),
                )
                .await;
            sites.push(Site {
                id: site.id.0,
                region: region.id.0,
            });
        }
        let name = format!("coord{r}");
        let _: UserView = app
            .post_ok(
                "/api/v1/users",
                &admin,
                &json!({"username": name, "display_name": name, "role": "coordinator",
                    "password": filiere_tests::PASSWORD, "region": region.id}),
            )
            .await;
        coordinators.push((name.clone(), app.login(&name).await));
    }
    let org =
        |name: &str, kind: &str| json!({"name": name, "kind": kind, "region": sites[0].region});
    let operator: OrganisationView = app
        .post_ok("/api/v1/organisations", &admin, &org("Réseau", "operator"))
        .await;
    let social: OrganisationView = app
        .post_ok(
            "/api/v1/organisations",
            &admin,
            &org("CCAS", "social_partner"),
        )
        .await;
    let recycler: OrganisationView = app
        .post_ok(
            "/api/v1/organisations",
            &admin,
            &org("Recycleur", "recycler"),
        )
        .await;
    let sw: UserView = app
        .post_ok(
            "/api/v1/users",
            &admin,
            &json!({"username": "social", "display_name": "social", "role": "social_worker",
                "password": filiere_tests::PASSWORD, "organisation": social.id}),
        )
        .await;
    let mut conn = app.conn();
    let admin_id: i64 = users::table
        .filter(users::username.eq("admin"))
        .select(users::id)
        .first(&mut conn)
        .expect("admin id");
    let mut batches = std::collections::HashMap::new();
    for s in &sites {
        let id: i64 = diesel::insert_into(weee_batches::table)
            .values((
                weee_batches::site_id.eq(s.id),
                weee_batches::recycler_id.eq(recycler.id.0),
                weee_batches::status.eq("handed_over"),
                weee_batches::opened_by.eq(admin_id),
                weee_batches::opened_at.eq(Utc::now().naive_utc() - Span::days(400)),
            ))
            .returning(weee_batches::id)
            .get_result(&mut conn)
            .expect("a WEEE batch");
        batches.insert(s.id, id);
    }
    let _ = organisations::table.count().get_result::<i64>(&mut conn);
    World {
        admin,
        admin_id,
        coordinators,
        sites,
        operator: operator.id.0,
        social: social.id.0,
        social_worker: sw.id.0,
        batches,
    }
}

/// Valid label codes, each once: the bodies in turn, those whose check symbol exists.
struct Codes(u64);

impl Codes {
    fn next(&mut self) -> LabelCode {
        loop {
            let v = self.0;
            self.0 += 1;
            let mut body = [0u8; 7];
            for (i, b) in body.iter_mut().enumerate() {
                *b = ((v >> (5 * (6 - i))) & 31) as u8;
            }
            if let Some(c) = LabelCode::from_symbols(body) {
                return c;
            }
        }
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// One device's history: its events (payload, time) and its lifecycle after each.
struct History {
    events: Vec<(EventPayload, NaiveDateTime)>,
    last: Lifecycle,
    state_since: NaiveDateTime,
    sold: Option<NaiveDateTime>,
}

fn history(
    rng: &mut StdRng,
    w: &World,
    site: &Site,
    category: Category,
    (n, code): (u64, LabelCode),
    now: NaiveDateTime,
) -> History {
    let mut at = now - Span::minutes(rng.random_range(0..365 * 24 * 60));
    let serial = format!("S{n:09}");
    let mut events: Vec<(EventPayload, NaiveDateTime)> = Vec::new();
    let collected = rng.random_bool(0.5);
    events.push((
        EventPayload::Registered {
            code,
            kind: ItemKind::Device,
            category,
            state: if collected {
                ItemState::Collected
            } else {
                ItemState::Received
            },
            site: SiteId(site.id),
            collection: None,
            origin: None,
            drive: None,
        },
        at,
    ));
    // Where this device ends, with the weights of a national network's stock: most
    // of it gone (sold, torn down, recycled), the rest at every stage.
    let end = rng.random_range(0..100);
    let mut step = |events: &mut Vec<(EventPayload, NaiveDateTime)>,
                    p: EventPayload,
                    days: i64,
                    rng: &mut StdRng| {
        at += Span::hours(rng.random_range(1..24 * days.max(1)));
        if at > now {
            at = now - Span::minutes(rng.random_range(1..600));
        }
        events.push((p, at));
    };
    if collected {
        if end < 2 {
            return finish(events);
        }
        step(
            &mut events,
            EventPayload::Received {
                site: SiteId(site.id),
            },
            7,
            rng,
        );
    }
    if end < 5 {
        return finish(events);
    }
    let route = match end {
        5..=74 => Route::Refurbish,
        75..=86 => Route::Harvest,
        _ => Route::Recycle,
    };
    step(&mut events, EventPayload::Triaged { route }, 3, rng);
    let has_drive = !matches!(category, Category::Monitor);
    if has_drive {
        step(
            &mut events,
            EventPayload::DrivesDeclared {
                drives: vec![DriveSpec {
                    serial: serial.clone(),
                    make: Some("Samsung".into()),
                    model: None,
                    size_gb: Some(256),
                    bus: Some(DriveBus::Sata),
                    media: Some(DriveMedia::Ssd),
                }],
            },
            1,
            rng,
        );
    } else {
        step(&mut events, EventPayload::NoDriveDeclared, 1, rng);
    }
    // Some wait with their drive not yet erased.
    if (end == 5 || end == 6 || end == 75) && has_drive {
        return finish(events);
    }
    if has_drive {
        if route == Route::Recycle {
            step(
                &mut events,
                EventPayload::DriveDestroyed {
                    serial: serial.clone(),
                    method: "broyage".into(),
                    notes: None,
                },
                5,
                rng,
            );
        } else {
            let started = utc(events.last().map_or(now, |e| e.1) + Span::hours(1));
            step(
                &mut events,
                EventPayload::DriveErased {
                    serial: serial.clone(),
                    erasure: ErasureData {
                        level: NistLevel::Purge,
                        technique: ErasureTechnique::FirmwareSanitize,
                        tool: "nwipe".into(),
                        tool_version: Some("0.35".into()),
                        method: Some("PRNG stream".into()),
                        passes: Some(1),
                        verified: true,
                        started_at: started,
                        ended_at: started + Span::minutes(40),
                        result: ErasureResult::Erased,
                        report: None,
                    },
                },
                10,
                rng,
            );
        }
    }
    match route {
        Route::Refurbish => {
            if end < 10 {
                return finish(events);
            }
            let grade = [Grade::A, Grade::B, Grade::B, Grade::C][rng.random_range(0..4)];
            let failed = || EventPayload::QaTested {
                report: QaData {
                    checks: vec![QaLine {
                        check: QaCheck::Boot,
                        outcome: QaOutcome::Fail,
                        note: Some("écran à changer".into()),
                    }],
                    os_installed: None,
                    functional_grade: None,
                    cosmetic_grade: None,
                    notes: None,
                },
            };
            let passed = || EventPayload::QaTested {
                report: QaData {
                    checks: vec![QaLine {
                        check: QaCheck::Boot,
                        outcome: QaOutcome::Pass,
                        note: None,
                    }],
                    os_installed: Some("Emmabuntüs DE5".into()),
                    functional_grade: Some(grade),
                    cosmetic_grade: Some(grade),
                    notes: None,
                },
            };
            // Tests that fail, each followed by a repair and a test again.
            while rng.random_bool(0.55) {
                step(&mut events, failed(), 5, rng);
            }
            step(&mut events, passed(), 7, rng);
            if end < 12 {
                return finish(events);
            }
            step(&mut events, EventPayload::MarkedReady, 2, rng);
            // Found wanting once ready (a customer's return at the counter, a fault
            // seen on the shelf): reopened, tested and made ready again.
            while rng.random_bool(0.45) {
                let reason = EventPayload::Reopened {
                    reason: "batterie faible".into(),
                };
                step(&mut events, reason, 10, rng);
                step(&mut events, passed(), 3, rng);
                step(&mut events, EventPayload::MarkedReady, 1, rng);
            }
            if end < 20 {
                return finish(events);
            }
            // Holds that expired or were cancelled before the one that ends in a sale.
            let mut holds = 0;
            loop {
                let until = utc(events.last().map_or(now, |e| e.1) + Span::days(7));
                holds += 1;
                let reservation = ReservationId(n as i64 * 100 + holds);
                step(
                    &mut events,
                    EventPayload::Reserved {
                        reservation,
                        reference: format!("REF-{n}-{holds}"),
                        until,
                    },
                    20,
                    rng,
                );
                if !rng.random_bool(0.55) {
                    break;
                }
                let expired = rng.random_bool(0.5);
                step(
                    &mut events,
                    EventPayload::ReservationEnded {
                        reservation,
                        expired,
                    },
                    7,
                    rng,
                );
            }
            if end < 22 {
                return finish(events);
            }
            let guarantee_until = (events.last().map_or(now, |e| e.1) + Span::days(730)).date();
            step(
                &mut events,
                EventPayload::Sold {
                    sale: SaleId(n as i64),
                    buyer: format!("REF-{n}-{holds}"),
                    guarantee_until,
                },
                3,
                rng,
            );
            let mut h = finish(events);
            h.sold = Some(h.events.last().map(|e| e.1).unwrap_or(now));
            h
        }
        Route::Harvest => {
            if end < 78 {
                return finish(events);
            }
            step(&mut events, EventPayload::TeardownDone, 5, rng);
            finish(events)
        }
        Route::Recycle => {
            let batch = WeeeBatchId(w.batches[&site.id]);
            if end < 90 {
                return finish(events);
            }
            step(&mut events, EventPayload::WeeeAdded { batch }, 20, rng);
            if end < 92 {
                return finish(events);
            }
            step(
                &mut events,
                EventPayload::Recycled {
                    batch,
                    with_parent: false,
                },
                30,
                rng,
            );
            finish(events)
        }
    }
}

fn finish(events: Vec<(EventPayload, NaiveDateTime)>) -> History {
    let mut lc = lifecycle::register(&events[0].0).expect("a registration");
    let mut since = events[0].1;
    for (p, at) in &events[1..] {
        let next = lifecycle::evolve(&lc, p);
        if next.state != lc.state {
            since = *at;
        }
        lc = next;
    }
    History {
        events,
        last: lc,
        state_since: since,
        sold: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn item_row(
    lc: &Lifecycle,
    code: String,
    category: Category,
    version: i64,
    created: NaiveDateTime,
    updated: NaiveDateTime,
    since: NaiveDateTime,
    specs: &Specs,
    weight: Option<i64>,
) -> NewItemRow {
    let grade = |g: Option<Grade>| g.map(|g| g.as_str().to_owned());
    NewItemRow {
        code,
        kind: category.kind().as_str().to_owned(),
        category: category.as_str().to_owned(),
        state: lc.state.as_str().to_owned(),
        version,
        site_id: lc.site.0,
        parent_id: None,
        origin_id: None,
        collection_id: None,
        brand: Some("Dell".into()),
        model: Some("Latitude 5490".into()),
        serial: None,
        serial_norm: None,
        asset_tag: None,
        asset_tag_norm: None,
        specs: serde_json::to_string(specs).expect("specs"),
        weight_g: weight,
        weight_estimated: false,
        functional_grade: grade(lc.qa.and_then(|q| q.functional_grade)),
        cosmetic_grade: grade(lc.qa.and_then(|q| q.cosmetic_grade)),
        weee_batch_id: lc.weee_batch.map(|b| b.0),
        lifecycle: serde_json::to_string(lc).expect("lifecycle"),
        created_at: created,
        updated_at: updated,
        spec_key: Some(filiere_shared::dashboards::spec_key(
            category,
            specs.part_spec.as_deref(),
            specs.ram_gb,
            specs.storage_gb,
        )),
        blocker: Some(
            lc.waiting_for()
                .map(|b| b.as_str().to_owned())
                .unwrap_or_default(),
        ),
        state_since: Some(since),
    }
}

/// Writes `n` devices (and a tenth as many parts) with their histories, sales and
/// beneficiaries, a block of devices per transaction; the events written.
fn seed(app: &TestApp, w: &World, n: usize) -> usize {
    let mut conn = app.conn();
    if let DbConnection::Sqlite(_) = conn {
        // The server's sweep folds the counters meanwhile, holding the write lock for
        // seconds at a time on a busy machine: a block waits for it.
        diesel::sql_query("PRAGMA busy_timeout = 300000")
            .execute(&mut conn)
            .expect("busy timeout");
    }
    let now = Utc::now().naive_utc();
    let mut rng = StdRng::seed_from_u64(1127);
    let categories = [
        (Category::Laptop, 50),
        (Category::Desktop, 20),
        (Category::Monitor, 15),
        (Category::AllInOne, 5),
        (Category::Tablet, 5),
        (Category::Phone, 5),
    ];
    let mut written = 0;
    let mut seq = 0i64;
    let mut codes = Codes(1 << 20);
    const BLOCK: usize = 5000;
    let mut made = 0;
    while made < n {
        let count = BLOCK.min(n - made);
        let mut histories = Vec::with_capacity(count);
        for k in 0..count {
            let i = (made + k) as u64;
            let site = &w.sites[rng.random_range(0..w.sites.len())];
            let mut pick = rng.random_range(0..100);
            let category = categories
                .iter()
                .find(|(_, p)| {
                    if pick < *p {
                        true
                    } else {
                        pick -= p;
                        false
                    }
                })
                .map(|(c, _)| *c)
                .unwrap_or(Category::Laptop);
            let code = codes.next();
            let h = history(&mut rng, w, site, category, (i, code), now);
            histories.push((h, category, site.region, i, code));
        }
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            let rows: Vec<NewItemRow> = histories
                .iter()
                .map(|(h, category, _, _, code)| {
                    let weight = rng
                        .random_bool(0.7)
                        .then(|| 1500 + rng.random_range(0..1500));
                    item_row(
                        &h.last,
                        code.as_str().to_owned(),
                        *category,
                        h.events.len() as i64,
                        h.events[0].1,
                        h.events.last().map(|e| e.1).unwrap_or(now),
                        h.state_since,
                        &Specs::default(),
                        weight,
                    )
                })
                .collect();
            let mut ids: Vec<i64> = Vec::with_capacity(rows.len());
            for chunk in rows.chunks(1000) {
                ids.extend(insert_items(c, chunk)?);
            }
            let mut events: Vec<NewEventRow> = Vec::new();
            for ((h, _, _, _, _), id) in histories.iter().zip(&ids) {
                for (v, (p, at)) in h.events.iter().enumerate() {
                    events.push(NewEventRow {
                        item_id: *id,
                        event_type: p.event_type().as_str().to_owned(),
                        payload: serde_json::to_string(p).expect("payload"),
                        actor_id: Some(w.admin_id),
                        bench_id: None,
                        site_id: h.last.site.0,
                        occurred_at: *at,
                        recorded_at: *at,
                        version: v as i64 + 1,
                        key_owner: None,
                        idempotency_key: None,
                        request_hash: None,
                        response: None,
                        flow: Some(p.flow().map(|f| f.as_str().to_owned()).unwrap_or_default()),
                    });
                }
            }
            for chunk in events.chunks(2000) {
                insert_events(c, chunk)?;
            }
            written += events.len();
            // An invoice and a beneficiary per device sold.
            for (h, _, region, i, _) in &histories {
                let Some(at) = h.sold else { continue };
                let b: i64 = diesel::insert_into(beneficiaries::table)
                    .values((
                        beneficiaries::organisation_id.eq(w.social),
                        beneficiaries::social_worker_id.eq(w.social_worker),
                        beneficiaries::reference.eq(format!("REF-{i}")),
                        beneficiaries::created_at.eq(at),
                    ))
                    .returning(beneficiaries::id)
                    .get_result(c)?;
                seq += 1;
                diesel::insert_into(sales::table)
                    .values((
                        sales::kind.eq("invoice"),
                        sales::number.eq(format!("F-{seq:08}")),
                        sales::year.eq(2026),
                        sales::seq.eq(seq),
                        sales::seller_id.eq(w.operator),
                        sales::site_id.eq(h.last.site.0),
                        sales::region_id.eq(*region),
                        sales::beneficiary_id.eq(b),
                        sales::organisation_id.eq(w.social),
                        sales::buyer.eq(format!("REF-{i}")),
                        sales::total_cents.eq(9000),
                        sales::vat_scheme.eq("franchise"),
                        sales::sold_by.eq(w.admin_id),
                        sales::sold_at.eq(at),
                    ))
                    .execute(c)?;
            }
            // Parts in stock: a tenth as many, memory and drives of common sizes.
            let parts: Vec<NewItemRow> = (0..count / 10)
                .map(|k| {
                    let _ = k;
                    let code = codes.next();
                    let site = &w.sites[rng.random_range(0..w.sites.len())];
                    let (category, specs) = match rng.random_range(0..4) {
                        0 => (
                            Category::Ram,
                            Specs {
                                part_spec: Some("8 GB DDR4".into()),
                                ram_gb: Some(8),
                                ..Specs::default()
                            },
                        ),
                        1 => (
                            Category::Ram,
                            Specs {
                                part_spec: Some("4 GB DDR3".into()),
                                ram_gb: Some(4),
                                ..Specs::default()
                            },
                        ),
                        2 => (
                            Category::Ssd,
                            Specs {
                                storage_gb: Some(256),
                                ..Specs::default()
                            },
                        ),
                        _ => (
                            Category::Hdd,
                            Specs {
                                storage_gb: Some(500),
                                ..Specs::default()
                            },
                        ),
                    };
                    let at = now - Span::days(rng.random_range(0..365));
                    let reg = EventPayload::Registered {
                        code,
                        kind: ItemKind::Part,
                        category,
                        state: ItemState::InStock,
                        site: SiteId(site.id),
                        collection: None,
                        origin: None,
                        drive: None,
                    };
                    let mut lc = lifecycle::register(&reg).expect("a part");
                    if rng.random_bool(0.6) {
                        lc = lifecycle::evolve(
                            &lc,
                            &EventPayload::PartTested {
                                result: if rng.random_bool(0.9) {
                                    PartTestResult::Good
                                } else {
                                    PartTestResult::Faulty
                                },
                                notes: None,
                            },
                        );
                    }
                    item_row(
                        &lc,
                        code.as_str().to_owned(),
                        category,
                        1,
                        at,
                        at,
                        at,
                        &specs,
                        None,
                    )
                })
                .collect();
            for chunk in parts.chunks(1000) {
                insert_items(c, chunk)?;
            }
            Ok(())
        })
        .expect("a block of the data set");
        made += count;
        if made % 100_000 == 0 || made == n {
            eprintln!("  {made} devices, {written} events");
        }
    }
    written
}

fn insert_items(c: &mut DbConnection, rows: &[NewItemRow]) -> diesel::QueryResult<Vec<i64>> {
    match c {
        DbConnection::Pg(pg) => diesel::insert_into(items::table)
            .values(rows)
            .returning(items::id)
            .get_results(pg),
        DbConnection::Sqlite(s) => diesel::insert_into(items::table)
            .values(rows)
            .returning(items::id)
            .get_results(s),
    }
}

fn insert_events(c: &mut DbConnection, rows: &[NewEventRow]) -> diesel::QueryResult<usize> {
    match c {
        DbConnection::Pg(pg) => diesel::insert_into(item_events::table)
            .values(rows)
            .execute(pg),
        DbConnection::Sqlite(s) => diesel::insert_into(item_events::table)
            .values(rows)
            .execute(s),
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Signs a user in on the pages: the session cookie.
async fn page_cookie(_: &reqwest::Client, base: &str, user: &str) -> String {
    // The session cookie comes with the redirect after the login: not followed.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page");
    let cookies: Vec<String> = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .collect();
    let body = login.text().await.expect("login body");
    let at = body.find("name=\"csrf\" value=\"").expect("a token") + "name=\"csrf\" value=\"".len();
    let token = &body[at..at + body[at..].find('"').expect("token end")];
    let form = format!(
        "csrf={}&username={}&password={}",
        filiere_tests::form_encode(token),
        filiere_tests::form_encode(user),
        filiere_tests::form_encode(filiere_tests::PASSWORD)
    );
    let done = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookies.join("; "))
        .body(form)
        .send()
        .await
        .expect("login");
    done.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .find(|c| c.starts_with("filiere_session="))
        .expect("a session cookie")
}

#[derive(Clone)]
enum Auth {
    Bearer(String),
    Cookie(String),
    None,
}

async fn get(client: &reqwest::Client, url: &str, auth: &Auth) -> (u16, usize) {
    let rb = client.get(url);
    let rb = match auth {
        Auth::Bearer(t) => rb.bearer_auth(t),
        Auth::Cookie(c) => rb.header("cookie", c),
        Auth::None => rb,
    };
    match rb.send().await {
        Ok(r) => {
            let s = r.status().as_u16();
            (s, r.bytes().await.map(|b| b.len()).unwrap_or(0))
        }
        Err(_) => (0, 0),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let app = match &args.database {
        Some(url) => TestApp::spawn_kept(url).await,
        None => TestApp::spawn().await,
    };
    let backend = app.backend.name();
    let held = TestApp::number(&mut app.conn(), "SELECT COUNT(*) AS n FROM items");
    if held > 0 {
        let admin = app.login("admin").await;
        let mut coordinators = Vec::new();
        for r in 0..args.regions {
            let name = format!("coord{r}");
            coordinators.push((name.clone(), app.login(&name).await));
        }
        let folded = tokio::task::block_in_place(|| settle(&app));
        println!(
            "{held} items already in the database on {backend}: {folded} deltas folded, \
             measured as they are"
        );
        measure(&app, &args, &admin, &coordinators).await;
        return;
    }
    let w = world(&app, &args).await;
    let started = Instant::now();
    let events = tokio::task::block_in_place(|| seed(&app, &w, args.items));
    let seeded = started.elapsed();
    let started = Instant::now();
    let folded = tokio::task::block_in_place(|| settle(&app));
    println!(
        "{} devices, {} items, {} events seeded in {:.0} s on {backend}; {} deltas folded (and vacuumed) in {:.0} s",
        args.items,
        TestApp::number(&mut app.conn(), "SELECT COUNT(*) AS n FROM items"),
        events,
        seeded.as_secs_f64(),
        folded,
        started.elapsed().as_secs_f64()
    );
    measure(&app, &args, &w.admin, &w.coordinators).await;
}

/// Folds every pending delta; on PostgreSQL then vacuums and analyzes. The deltas
/// folded.
fn settle(app: &TestApp) -> usize {
    let mut conn = app.conn();
    let mut total = 0;
    loop {
        let n = conn
            .transaction(filiere_server::aggregates::fold)
            .expect("fold");
        total += n;
        if n == 0 {
            // The dead rows of the folds cleared as the server's sweep does, then every
            // table vacuumed (the visibility map that lets a read answer from an index
            // alone) and the planner's statistics brought up to date after the bulk
            // load, as autovacuum would (this machine's PostgreSQL runs without it).
            filiere_server::aggregates::vacuum(&mut conn).expect("vacuum");
            if let DbConnection::Pg(_) = conn {
                // The seeding folds a year of steps in minutes, each counter row
                // updated hundreds of times between two vacuums: on PostgreSQL that
                // leaves the counters' tables and indexes tens of times their size,
                // which a year of folds at a network's pace (a few updates of a row a
                // minute, vacuumed every minute) would not. They are written again
                // compact, as they would stand.
                diesel::sql_query(
                    "VACUUM FULL stock_counts, collection_counts, flow_weeks, flow_months, \
                     ready_times, aging_days, aging_months",
                )
                .execute(&mut conn)
                .expect("compact the counters");
                diesel::sql_query("VACUUM ANALYZE")
                    .execute(&mut conn)
                    .expect("analyze");
            }
            return total;
        }
    }
}

/// One more generation of the counters, as a fold that changed them counts: the
/// readings the server keeps in memory no longer hold.
fn bump(conn: &mut DbConnection) {
    diesel::sql_query("UPDATE counter_folds SET generation = generation + 1")
        .execute(conn)
        .expect("a new generation of the counters");
}

/// Each route from one client, then the coordinators at once.
async fn measure(app: &TestApp, args: &Args, admin: &str, coordinators: &[(String, String)]) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let (coord_name, coord_token) = coordinators[0].clone();
    let coord_cookie = page_cookie(&client, &app.base, &coord_name).await;
    let admin_cookie = page_cookie(&client, &app.base, "admin").await;
    let routes: Vec<(&str, String, Auth)> = vec![
        (
            "API stock (coordinator)",
            "/api/v1/dashboards/stock".into(),
            Auth::Bearer(coord_token.clone()),
        ),
        (
            "API flows (coordinator)",
            "/api/v1/dashboards/flows".into(),
            Auth::Bearer(coord_token.clone()),
        ),
        (
            "API aging (coordinator)",
            "/api/v1/dashboards/aging".into(),
            Auth::Bearer(coord_token.clone()),
        ),
        (
            "API impact (coordinator)",
            "/api/v1/dashboards/impact".into(),
            Auth::Bearer(coord_token.clone()),
        ),
        (
            "API stock (admin, national)",
            "/api/v1/dashboards/stock".into(),
            Auth::Bearer(admin.to_owned()),
        ),
        (
            "API flows (admin, national)",
            "/api/v1/dashboards/flows".into(),
            Auth::Bearer(admin.to_owned()),
        ),
        (
            "API aging (admin, national)",
            "/api/v1/dashboards/aging".into(),
            Auth::Bearer(admin.to_owned()),
        ),
        (
            "API impact (admin, national)",
            "/api/v1/dashboards/impact".into(),
            Auth::Bearer(admin.to_owned()),
        ),
        (
            "page stock (coordinator)",
            "/dashboards/stock".into(),
            Auth::Cookie(coord_cookie.clone()),
        ),
        (
            "page flows (coordinator)",
            "/dashboards/flows".into(),
            Auth::Cookie(coord_cookie.clone()),
        ),
        (
            "page aging (coordinator)",
            "/dashboards/aging".into(),
            Auth::Cookie(coord_cookie.clone()),
        ),
        (
            "page aging, drive not erased",
            "/dashboards/aging?waiting_for=drives_not_erased".into(),
            Auth::Cookie(coord_cookie.clone()),
        ),
        (
            "page impact (coordinator)",
            "/dashboards/impact".into(),
            Auth::Cookie(coord_cookie.clone()),
        ),
        (
            "page stock (admin, national)",
            "/dashboards/stock".into(),
            Auth::Cookie(admin_cookie.clone()),
        ),
        (
            "page flows (admin, national)",
            "/dashboards/flows".into(),
            Auth::Cookie(admin_cookie.clone()),
        ),
        (
            "page impact (admin, national)",
            "/dashboards/impact".into(),
            Auth::Cookie(admin_cookie.clone()),
        ),
        (
            "items behind a figure (page 1)",
            "/dashboards/items?state=ready&category=laptop".into(),
            Auth::Cookie(coord_cookie.clone()),
        ),
        (
            "open data CSV",
            "/open-data/regions-months.csv".into(),
            Auth::None,
        ),
        (
            "open data JSON",
            "/open-data/regions-months.json".into(),
            Auth::None,
        ),
    ];
    println!(
        "\n| route | p50 ms | p99 ms | max ms | after a fold: p50 ms | max ms | bytes |\n\
         |---|---|---|---|---|---|---|"
    );
    for (name, path, auth) in &routes {
        let url = format!("{}{path}", app.base);
        let mut times = Vec::new();
        let mut size = 0;
        // One warm-up.
        let _ = get(&client, &url, auth).await;
        for _ in 0..args.samples {
            let t = Instant::now();
            let (status, bytes) = get(&client, &url, auth).await;
            assert_eq!(status, 200, "{name}: {status}");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            size = bytes;
        }
        times.sort_by(f64::total_cmp);
        // The first reading after a fold that changed the counters: from the tables.
        let mut cold = Vec::new();
        for _ in 0..args.after_fold {
            tokio::task::block_in_place(|| bump(&mut app.conn()));
            let t = Instant::now();
            let (status, _) = get(&client, &url, auth).await;
            assert_eq!(status, 200, "{name}: {status}");
            cold.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        cold.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {size} |",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or(0.0),
            percentile(&cold, 0.5),
            cold.last().copied().unwrap_or(0.0)
        );
    }
    // The coordinators at once, each on their own region's pages and routes.
    let mut cookies = Vec::new();
    for (name, token) in coordinators.iter().cycle().take(args.clients) {
        cookies.push((token.clone(), page_cookie(&client, &app.base, name).await));
    }
    for every in &args.fold_every {
        at_once(app, &client, args, &cookies, *every).await;
    }
}

/// The coordinators at once for `args.seconds`, while a fold changes the counters every
/// `every` seconds; the figures of all requests, then of each route.
async fn at_once(
    app: &TestApp,
    client: &reqwest::Client,
    args: &Args,
    cookies: &[(String, String)],
    every: u64,
) {
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    // Technicians at work: a fold changes the counters every `every` seconds (the
    // sweep folds every five), and every reading kept in memory is read again from
    // the tables.
    let folds = {
        let url = app.url.clone();
        std::thread::spawn(move || {
            let mut conn = filiere_server::db::connect(&url).expect("connect");
            filiere_server::db::apply_pragmas(&mut conn).expect("pragmas");
            let mut n = 0;
            loop {
                std::thread::sleep(Duration::from_secs(every.max(1)));
                if Instant::now() >= deadline {
                    return n;
                }
                bump(&mut conn);
                n += 1;
            }
        })
    };
    let mut tasks = Vec::new();
    for (k, (token, cookie)) in cookies.iter().cloned().enumerate() {
        let client = client.clone();
        let base = app.base.clone();
        tasks.push(tokio::spawn(async move {
            let mix: Vec<(&str, Auth)> = vec![
                ("/dashboards/stock", Auth::Cookie(cookie.clone())),
                ("/dashboards/flows", Auth::Cookie(cookie.clone())),
                ("/dashboards/aging", Auth::Cookie(cookie.clone())),
                ("/dashboards/impact", Auth::Cookie(cookie.clone())),
                ("/api/v1/dashboards/stock", Auth::Bearer(token.clone())),
                ("/open-data/regions-months.csv", Auth::None),
            ];
            let mut times: Vec<(&str, f64)> = Vec::new();
            let mut errors = 0;
            let mut i = k;
            while Instant::now() < deadline {
                let (path, auth) = &mix[i % mix.len()];
                i += 1;
                let t = Instant::now();
                let (status, _) = get(&client, &format!("{base}{path}"), auth).await;
                if status == 200 {
                    times.push((path, t.elapsed().as_secs_f64() * 1000.0));
                } else {
                    errors += 1;
                    eprintln!("  {path}: {status}");
                }
            }
            (times, errors)
        }));
    }
    let mut all = Vec::new();
    let mut by_route: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut errors = 0;
    for t in tasks {
        let (times, e) = t.await.expect("a client");
        for (path, ms) in times {
            all.push(ms);
            by_route.entry(path).or_default().push(ms);
        }
        errors += e;
    }
    let folds = folds.join().expect("the folds");
    all.sort_by(f64::total_cmp);
    println!(
        "\n{} coordinators at once for {} s, a fold every {every} s ({folds} {} changing the counters): {} requests ({:.0}/s), {errors} errors, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n",
        args.clients,
        args.seconds,
        if folds == 1 { "fold" } else { "folds" },
        all.len(),
        all.len() as f64 / args.seconds as f64,
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(0.0)
    );
    println!("| route | requests | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|");
    for (path, mut times) in by_route {
        times.sort_by(f64::total_cmp);
        println!(
            "| `{path}` | {} | {:.1} | {:.1} | {:.1} |",
            times.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or(0.0)
        );
    }
}
