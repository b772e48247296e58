//! Load benchmark of the social side on loopback: the catalogue with filters, and a
//! reservation, against the real server on a data set of `--items` items (10⁶ by
//! default), of which `--ready-share` are ready devices in the catalogue.
//!
//! ```sh
//! cargo run --release --bin filiere-social-load                      # SQLite
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release --bin filiere-social-load                  # PostgreSQL
//! ```
//!
//! The data set is written with plain SQL (a million items through the API would take
//! most of an hour); the rows are what the operations write: item rows with their
//! lifecycle, the catalogue rows of the ready devices, beneficiaries. The requests
//! measured go through the real server.

use clap::Parser;
use diesel::RunQueryDsl;
use filiere_shared::lifecycle::{Lifecycle, QaSummary};
use filiere_shared::*;
use filiere_tests::TestApp;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    items: usize,
    /// Share of the items that are ready devices (in the catalogue).
    #[arg(long, default_value_t = 0.3)]
    ready_share: f64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

fn code(i: usize) -> Option<LabelCode> {
    let mut body = [0u8; 7];
    let mut n = i;
    for s in body.iter_mut().rev() {
        *s = (n % 32) as u8;
        n /= 32;
    }
    // A fixed first symbol keeps these apart from codes the server allocates.
    body[0] = 31;
    LabelCode::from_symbols(body)
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Writes the items in statements of 1,000 rows, in one transaction per 50,000.
fn seed(app: &TestApp, sites: &[(SiteId, RegionId)], n: usize, ready_share: f64) -> Vec<i64> {
    use diesel::Connection;
    let mut conn = app.conn();
    let at = "2026-11-01 09:00:00";
    let screens = [11.6f32, 13.3, 14.0, 15.6, 17.3];
    let rams = [4u32, 8, 8, 16, 32];
    let storage = [
        ("ssd", 256u32),
        ("ssd", 512),
        ("hdd", 500),
        ("nvme", 512),
        ("ssd", 128),
    ];
    let grades = ["a", "b", "c"];
    let categories = [
        Category::Laptop,
        Category::Laptop,
        Category::Desktop,
        Category::AllInOne,
        Category::Tablet,
    ];
    let every = (1.0 / ready_share.clamp(0.01, 1.0)).round() as usize;
    let mut ready_ids = Vec::new();
    let mut i = 0usize;
    let mut written = 0usize;
    let mut next_id: i64 = {
        #[derive(diesel::QueryableByName)]
        struct M {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            m: i64,
        }
        diesel::sql_query("SELECT COALESCE(MAX(id), 0) AS m FROM items")
            .get_result::<M>(&mut conn)
            .expect("max id")
            .m
            + 1
    };
    while written < n {
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            let mut in_tx = 0;
            while in_tx < 50_000 && written < n {
                let mut items = Vec::with_capacity(1000);
                let mut cat = Vec::new();
                while items.len() < 1000 && written < n {
                    i += 1;
                    let Some(code) = code(i) else { continue };
                    let id = next_id;
                    next_id += 1;
                    let (site, region) = sites[written % sites.len()];
                    let category = categories[written % categories.len()];
                    let ready = written.is_multiple_of(every);
                    let state = if ready { ItemState::Ready } else { [ItemState::Received, ItemState::Refurbishing, ItemState::Recycled][written % 3] };
                    let screen = screens[(written / 5) % screens.len()];
                    let ram = rams[(written / 7) % rams.len()];
                    let (stype, ssize) = storage[(written / 11) % storage.len()];
                    let fg = grades[(written / 3) % 3];
                    let cg = grades[(written / 13) % 3];
                    let specs = json!({"cpu": "Intel Core i5-8350U", "ram_gb": ram, "storage_gb": ssize,
                        "storage_type": stype, "screen_inches": screen});
                    let lc = Lifecycle {
                        kind: ItemKind::Device,
                        category,
                        state,
                        site,
                        parent: None,
                        drives_declared: true,
                        drives: Vec::new(),
                        parts: Vec::new(),
                        qa: ready.then_some(QaSummary {
                            passed: true,
                            functional_grade: Some(Grade::A),
                            cosmetic_grade: Some(Grade::B),
                        }),
                        route: None,
                        weee_batch: None,
                        hold: None,
                        sale: None,
                    };
                    let lc = serde_json::to_string(&lc).expect("lifecycle");
                    let grade = |g: &str| if ready { q(g) } else { "NULL".into() };
                    items.push(format!(
                        "({id}, {}, 'device', {}, {}, 1, {}, 'Dell', 'Latitude 5490', {}, {}, {}, false, {}, {}, {})",
                        q(code.as_str()),
                        q(category.as_str()),
                        q(state.as_str()),
                        site.0,
                        q(&specs.to_string()),
                        grade(fg),
                        grade(cg),
                        q(&lc),
                        q(at),
                        q(at)
                    ));
                    if ready {
                        ready_ids.push(id);
                        cat.push(format!(
                            "({id}, {}, {}, {}, {}, {ram}, {}, {ssize}, {}, {}, {})",
                            region.0,
                            site.0,
                            q(category.as_str()),
                            (screen * 10.0).round() as i32,
                            q(stype),
                            q(fg),
                            q(cg),
                            q(&format!("2026-11-01 09:{:02}:{:02}", (written / 60) % 60, written % 60))
                        ));
                    }
                    written += 1;
                    in_tx += 1;
                }
                diesel::sql_query(format!(
                    "INSERT INTO items (id, code, kind, category, state, version, site_id, brand, model, \
                     specs, functional_grade, cosmetic_grade, weight_estimated, lifecycle, created_at, \
                     updated_at) VALUES {}",
                    items.join(",")
                ))
                .execute(c)?;
                if !cat.is_empty() {
                    diesel::sql_query(format!(
                        "INSERT INTO catalogue (item_id, region_id, site_id, category, screen_tenths, ram_gb, \
                         storage_type, storage_gb, functional_grade, cosmetic_grade, ready_at) VALUES {}",
                        cat.join(",")
                    ))
                    .execute(c)?;
                }
            }
            Ok(())
        })
        .expect("seed");
    }
    if app.backend == filiere_server::db::Backend::Postgres {
        diesel::sql_query(
            "SELECT setval(pg_get_serial_sequence('items', 'id'), (SELECT MAX(id) FROM items))",
        )
        .execute(&mut conn)
        .expect("sequence");
    }
    // Measured in steady state: statistics fresh, the bulk load's dirty pages written
    // (a checkpoint or an autovacuum of a million fresh rows would otherwise land in
    // the middle of a run).
    let settle: &[&str] = match app.backend {
        filiere_server::db::Backend::Postgres => &["VACUUM ANALYZE", "CHECKPOINT"],
        filiere_server::db::Backend::Sqlite => &["ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"],
    };
    for sql in settle {
        diesel::sql_query(*sql).execute(&mut conn).expect(sql);
    }
    ready_ids
}

fn seed_beneficiaries(app: &TestApp, org: OrgId, worker: i64, n: usize) -> Vec<i64> {
    let mut conn = app.conn();
    let date = (chrono::Utc::now().date_naive() - chrono::Duration::days(10)).to_string();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "({}, {worker}, 'LOAD-{i}', 2, 'caf', '{date}', '2026-11-01 09:00:00', 'oui', '2026-11-01 09:00:00')",
                    org.0
                )
            })
            .collect();
        diesel::sql_query(format!(
            "INSERT INTO beneficiaries (organisation_id, social_worker_id, reference, household_size, proof_type, \
             proof_date, consent_at, consent_text, created_at) VALUES {}",
            rows.join(",")
        ))
        .execute(&mut conn)
        .expect("beneficiaries");
    }
    #[derive(diesel::QueryableByName)]
    struct I {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    diesel::sql_query(format!(
        "SELECT id FROM beneficiaries WHERE organisation_id = {} ORDER BY id",
        org.0
    ))
    .load::<I>(&mut conn)
    .expect("ids")
    .into_iter()
    .map(|r| r.id)
    .collect()
}

#[derive(Default)]
struct Stats {
    ok: usize,
    errors: usize,
    us: Vec<u64>,
}

impl Stats {
    fn pct(&mut self, p: f64) -> f64 {
        self.us.sort_unstable();
        if self.us.is_empty() {
            return 0.0;
        }
        let k = ((self.us.len() as f64 - 1.0) * p).round() as usize;
        self.us[k] as f64 / 1000.0
    }
}

async fn run<F, Fut>(clients: usize, seconds: u64, f: F) -> (Stats, f64)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let f = Arc::new(f);
    let counter = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (f, counter) = (f.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = Stats::default();
            while Instant::now() < end {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                match f(n).await {
                    Ok(()) => {
                        s.ok += 1;
                        s.us.push(t.elapsed().as_micros() as u64);
                    }
                    Err(e) if e == "done" => break,
                    Err(e) => {
                        if s.errors == 0 {
                            eprintln!("error: {e}");
                        }
                        s.errors += 1;
                    }
                }
            }
            s
        }));
    }
    let mut total = Stats::default();
    for t in tasks {
        if let Ok(s) = t.await {
            total.ok += s.ok;
            total.errors += s.errors;
            total.us.extend(s.us);
        }
    }
    (total, start.elapsed().as_secs_f64())
}

fn row(name: &str, s: &mut Stats, secs: f64) -> String {
    let (p50, p99, p999) = (s.pct(0.5), s.pct(0.99), s.pct(0.999));
    format!(
        "| {name} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} |",
        s.ok,
        s.errors,
        s.ok as f64 / secs,
        p50,
        p99,
        p999
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t0 = Instant::now();
    let sites = [
        (w.site_a1, w.region_a),
        (w.site_a2, w.region_a),
        (w.site_b, w.region_b),
    ];
    let ready = {
        let app = &app;
        tokio::task::block_in_place(|| seed(app, &sites, args.items, args.ready_share))
    };
    let worker: i64 = {
        use diesel::prelude::*;
        use filiere_server::schema::users;
        users::table
            .filter(users::username.eq("social_a"))
            .select(users::id)
            .first(&mut app.conn())
            .expect("social worker")
    };
    // Ready devices of region A (sites A1 and A2), for the reservations.
    let region_a: Vec<i64> = ready
        .iter()
        .enumerate()
        .filter(|(k, _)| k % 3 != 2)
        .map(|(_, id)| *id)
        .collect();
    let beneficiaries = seed_beneficiaries(&app, w.social_a, worker, region_a.len().min(50_000));
    eprintln!(
        "{} items ({} ready) and {} beneficiaries seeded in {:.1} s on {}",
        args.items,
        ready.len(),
        beneficiaries.len(),
        t0.elapsed().as_secs_f64(),
        app.backend.name()
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()
        .expect("client");
    let base = app.base.clone();
    let token = w.social_worker_a.clone();
    let queries = [
        "category=laptop&min_screen=14&min_ram_gb=8",
        "category=laptop&min_screen=14&min_ram_gb=8&storage_type=ssd&grade=b&sort=ram",
        "min_ram_gb=16&sort=storage",
        "category=desktop&min_storage_gb=500&page=3",
        "category=tablet&cosmetic_grade=a",
        "",
    ];
    println!(
        "backend: {}, {} items, {} ready in the catalogue, {} clients, {} s per run",
        app.backend.name(),
        args.items,
        ready.len(),
        args.clients,
        args.seconds
    );
    println!();
    println!("| run | ok | errors | req/s | p50 ms | p99 ms | p99.9 ms |");
    println!("|---|---|---|---|---|---|---|");
    // Warm-up.
    let _ = client
        .get(format!("{base}/api/v1/catalogue"))
        .bearer_auth(&token)
        .send()
        .await;
    for (k, query) in queries.iter().enumerate() {
        let (c, b, t, query) = (
            client.clone(),
            base.clone(),
            token.clone(),
            (*query).to_owned(),
        );
        let (mut s, secs) = run(args.clients, args.seconds.div_ceil(2), move |_| {
            let (c, b, t, query) = (c.clone(), b.clone(), t.clone(), query.clone());
            async move {
                let r = c
                    .get(format!("{b}/api/v1/catalogue?{query}"))
                    .bearer_auth(&t)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let ok = r.status().is_success();
                let body = r.text().await.map_err(|e| e.to_string())?;
                if ok { Ok(()) } else { Err(body) }
            }
        })
        .await;
        let name = if query_label(k).is_empty() {
            "catalogue".to_owned()
        } else {
            format!("catalogue {}", query_label(k))
        };
        println!("{}", row(&name, &mut s, secs));
    }
    let pairs: Arc<Vec<(i64, i64)>> = Arc::new(
        region_a
            .iter()
            .copied()
            .zip(beneficiaries.iter().copied())
            .collect(),
    );
    let pickup = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let (c, b, t) = (client.clone(), base.clone(), token.clone());
    let (mut s, secs) = run(args.clients, args.seconds, move |n| {
        let (c, b, t, pairs, pickup) = (
            c.clone(),
            b.clone(),
            t.clone(),
            pairs.clone(),
            pickup.clone(),
        );
        async move {
            let Some((item, ben)) = pairs.get(n).copied() else {
                return Err("done".into());
            };
            let r = c
                .post(format!("{b}/api/v1/reservations"))
                .bearer_auth(&t)
                .json(&json!({"item": item, "beneficiary": ben, "pickup_at": pickup}))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let ok = r.status().is_success();
            let body = r.text().await.map_err(|e| e.to_string())?;
            if ok { Ok(()) } else { Err(body) }
        }
    })
    .await;
    println!("{}", row("reservation", &mut s, secs));
}

fn query_label(k: usize) -> &'static str {
    [
        "laptop ≥ 14\", ≥ 8 GB",
        "laptop ≥ 14\", ≥ 8 GB, SSD, grade ≥ B, by RAM",
        "≥ 16 GB, by storage",
        "desktop ≥ 500 GB, page 3",
        "tablet, looks A",
        "",
    ][k]
}
