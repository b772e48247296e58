//! Load benchmark on loopback: code lookups and lifecycle transitions against the real
//! server on a data set of `--items` items, at full speed with `--clients` concurrent
//! clients, then at a fixed request rate for latency percentiles.
//!
//! ```sh
//! cargo run --release --bin filiere-load                       # SQLite (a temp file)
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release --bin filiere-load                   # PostgreSQL
//! ```
//! Durable settings only: SQLite in WAL with `synchronous = FULL`, PostgreSQL with its
//! defaults (`fsync = on`, `synchronous_commit = on`).

use clap::Parser;
use filiere_server::auth::Actor;
use filiere_server::db::Backend;
use filiere_server::service;
use filiere_shared::api::*;
use filiere_shared::*;
use filiere_tests::TestApp;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Items in the data set.
    #[arg(long, default_value_t = 100_000)]
    items: usize,
    /// Concurrent clients for the throughput runs.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Requests per second for the latency runs.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Seed, then serve for an outside load tool (wrk) instead of running the built-in
    /// client: prints the address, a technician's token, the item ids and the
    /// database's URL, writes the codes to this file, and serves until interrupted.
    #[arg(long)]
    serve: Option<std::path::PathBuf>,
    /// Writes each fixed-rate request's scheduled time and latency (µs) to
    /// `<prefix>-lookup.tsv` and `<prefix>-transition.tsv`, to see when the slow ones
    /// happened.
    #[arg(long)]
    trace: Option<String>,
}

struct Item {
    id: ItemId,
    code: String,
    version: i64,
}

#[derive(Default)]
struct Stats {
    ok: usize,
    errors: usize,
    latencies_us: Vec<u64>,
    /// Fixed-rate runs: (scheduled offset, latency) of each answered request, in µs.
    timeline: Vec<(u64, u64)>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        self.timeline.extend(other.timeline);
    }

    fn write_timeline(&self, path: &str) {
        let mut out = String::from("scheduled_us\tlatency_us\n");
        for (at, us) in &self.timeline {
            out.push_str(&format!("{at}\t{us}\n"));
        }
        if let Err(e) = std::fs::write(path, out) {
            eprintln!("cannot write {path}: {e}");
        }
    }

    fn percentile(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

#[derive(Clone, Copy)]
enum Op {
    Lookup,
    Transition,
}

struct Target {
    base: String,
    token: String,
    client: reqwest::Client,
    items: Vec<Item>,
    /// Next item for a transition (each is triaged once).
    next: AtomicUsize,
    /// Items the closed loop leaves for the fixed-rate run after it.
    reserved: AtomicUsize,
}

impl Target {
    /// One request; `Ok` when the server answered 200.
    async fn call(&self, op: Op, n: usize) -> Result<(), String> {
        let resp = match op {
            Op::Lookup => {
                let item = &self.items[n % self.items.len()];
                self.client
                    .get(format!("{}/api/v1/resolve?q={}", self.base, item.code))
                    .bearer_auth(&self.token)
                    .send()
                    .await
            }
            Op::Transition => {
                let i = self.next.fetch_add(1, Ordering::Relaxed);
                let usable = self.items.len() - self.reserved.load(Ordering::Relaxed);
                let Some(item) = self.items[..usable].get(i) else {
                    return Err("out of items".into());
                };
                self.client
                    .post(format!("{}/api/v1/items/{}/events", self.base, item.id))
                    .bearer_auth(&self.token)
                    .json(&json!({
                        "idempotency_key": format!("load-{}", item.id),
                        "expected_version": item.version,
                        "command": {"type": "triage", "route": "refurbish"},
                    }))
                    .send()
                    .await
            }
        };
        let resp = resp.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
        }
    }
}

/// `clients` closed loops for `seconds`: the maximum throughput.
async fn closed_loop(target: &Arc<Target>, op: Op, clients: usize, seconds: u64) -> (Stats, f64) {
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let counter = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let target = target.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            while Instant::now() < end {
                let n = counter.fetch_add(7919, Ordering::Relaxed);
                let t = Instant::now();
                match target.call(op, n).await {
                    Ok(()) => {
                        stats.ok += 1;
                        stats.latencies_us.push(t.elapsed().as_micros() as u64);
                    }
                    Err(e) if e == "out of items" => break,
                    Err(e) => {
                        if stats.errors == 0 {
                            eprintln!("error: {e}");
                        }
                        stats.errors += 1;
                    }
                }
            }
            stats
        }));
    }
    let mut total = Stats::default();
    for t in tasks {
        if let Ok(s) = t.await {
            total.merge(s);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    (total, elapsed)
}

/// An open loop at `rate` requests per second; latency counts from the scheduled
/// start, so a stalled server is not hidden by clients that wait for it. The schedule
/// is kept by an OS thread that sleeps to each send time (tokio's timer has a
/// granularity of one millisecond, which would show up in every percentile).
async fn open_loop(target: &Arc<Target>, op: Op, rate: u64, seconds: u64) -> Stats {
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let total = rate * seconds;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = tokio::runtime::Handle::current();
    let scheduler = {
        let target = target.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            for i in 0..total {
                let scheduled = start + interval * (i as u32);
                let now = Instant::now();
                if scheduled > now {
                    std::thread::sleep(scheduled - now);
                }
                let target = target.clone();
                let offset = (scheduled - start).as_micros() as u64;
                let task = handle.spawn(async move {
                    let r = target.call(op, (i as usize).wrapping_mul(104_729)).await;
                    (r, offset, scheduled.elapsed().as_micros() as u64)
                });
                if tx.send(task).is_err() {
                    break;
                }
            }
        })
    };
    let mut stats = Stats::default();
    while let Some(task) = rx.recv().await {
        match task.await {
            Ok((Ok(()), at, us)) => {
                stats.ok += 1;
                stats.latencies_us.push(us);
                stats.timeline.push((at, us));
            }
            Ok((Err(e), _, _)) => {
                if stats.errors == 0 {
                    eprintln!("error: {e}");
                }
                stats.errors += 1;
            }
            Err(_) => stats.errors += 1,
        }
    }
    let _ = scheduler.join();
    stats
}

/// Fills the database with `n` received laptops at site A1: blocks of 10,000 codes,
/// each registered in one transaction, then fresh planner statistics. On PostgreSQL a
/// block is shared by `SEED_THREADS` connections (each registration is about twenty
/// round trips); SQLite has one writer.
fn seed(app: &TestApp, site: SiteId, n: usize) -> Vec<Item> {
    use diesel::prelude::*;
    use filiere_server::schema::users;
    const SEED_THREADS: usize = 4;
    let mut conn = app.conn();
    let admin: i64 = users::table
        .filter(users::username.eq("admin"))
        .select(users::id)
        .first(&mut conn)
        .expect("admin user");
    let actor = Actor {
        user: UserId(admin),
        name: "admin".into(),
        role: Role::Admin,
        site: None,
        region: None,
        org: None,
        bench: None,
        lang: Lang::Fr,
        session: 0,
    };
    let register = |c: &mut filiere_server::db::DbConnection, i: usize, code: &str| {
        let r = service::events::register(
            c,
            &actor,
            &serde_json::from_value::<RegisterItem>(json!({
                "idempotency_key": format!("seed-{i}"),
                "code": code,
                "category": if i.is_multiple_of(3) { "desktop" } else { "laptop" },
                "site": site,
                "brand": "Lenovo",
                "model": format!("ThinkPad T{}", 440 + (i % 7) * 10),
                "serial": format!("PF{i:08}"),
                "asset_tag": format!("INV-{i:06}"),
                "weight_g": 1800,
                "drives": [{"serial": format!("WD{i:08}"), "size_gb": 256}],
            }))
            .expect("register request"),
        )?;
        Ok::<_, filiere_server::error::ApiError>(Item {
            id: r.item.id,
            code: r.item.code.as_str().to_owned(),
            version: r.item.version,
        })
    };
    let threads = match app.backend {
        Backend::Postgres => SEED_THREADS,
        Backend::Sqlite => 1,
    };
    let mut items = Vec::with_capacity(n);
    while items.len() < n {
        let count = (n - items.len()).min(10_000);
        let batch = conn
            .transaction::<_, filiere_server::error::ApiError, _>(|c| {
                service::labels::allocate(
                    c,
                    &actor,
                    &NewLabelBatch {
                        site,
                        count: count as i32,
                        bench: None,
                    },
                )
            })
            .expect("allocate codes");
        let codes: Vec<(usize, &str)> = batch
            .codes
            .iter()
            .enumerate()
            .map(|(k, code)| (items.len() + k, code.as_str()))
            .collect();
        let chunk = codes.len().div_ceil(threads);
        let blocks: Vec<Vec<Item>> = std::thread::scope(|s| {
            let handles: Vec<_> = codes
                .chunks(chunk)
                .map(|part| {
                    let register = &register;
                    s.spawn(move || {
                        let mut c = app.conn();
                        // SQLite refuses a block as busy (VersionConflict) when the
                        // server wrote between the block's first read and its first
                        // write (seeding 10⁶ items met it): the block is done again.
                        let mut attempts = 0;
                        loop {
                            attempts += 1;
                            match c.transaction::<_, filiere_server::error::ApiError, _>(|c| {
                                part.iter().map(|(i, code)| register(c, *i, code)).collect()
                            }) {
                                Err(e) if e.code == ErrorCode::VersionConflict && attempts < 20 => {
                                    eprintln!("a seeding block was refused as busy: again");
                                    std::thread::sleep(Duration::from_millis(500 * attempts));
                                }
                                done => break done.expect("seed"),
                            }
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("seed thread"))
                .collect()
        });
        items.extend(blocks.into_iter().flatten());
        diesel::sql_query("ANALYZE")
            .execute(&mut conn)
            .expect("analyze");
    }
    items
}

fn row(name: &str, stats: &mut Stats, secs: f64) -> String {
    let (p50, p99, p999) = (
        stats.percentile(0.50),
        stats.percentile(0.99),
        stats.percentile(0.999),
    );
    format!(
        "| {name} | {} | {} | {:.0} | {p50:.2} | {p99:.2} | {p999:.2} |",
        stats.ok,
        stats.errors,
        stats.ok as f64 / secs,
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t0 = Instant::now();
    let items = {
        let app = &app;
        tokio::task::block_in_place(|| seed(app, w.site_a1, args.items))
    };
    eprintln!(
        "{} items seeded in {:.1} s on {}",
        items.len(),
        t0.elapsed().as_secs_f64(),
        app.backend.name()
    );
    if let Some(codes_file) = &args.serve {
        let codes: Vec<&str> = items.iter().map(|i| i.code.as_str()).collect();
        std::fs::write(codes_file, codes.join("\n") + "\n").expect("write codes");
        // The ids run without a gap from the first to the last, but PostgreSQL's
        // seeding connections took them in turns: not in the list's order.
        let first = items.iter().map(|i| i.id.0).min().unwrap_or(0);
        let last = items.iter().map(|i| i.id.0).max().unwrap_or(0);
        let version = items.first().map(|i| i.version).unwrap_or(0);
        assert!(
            items.iter().all(|i| i.version == version),
            "seeded items differ in version"
        );
        println!(
            "BASE={} TOKEN={} FIRST_ID={first} LAST_ID={last} VERSION={version} CODES={} DATABASE_URL={}",
            app.base,
            w.tech_a1,
            codes_file.display(),
            app.url
        );
        let _ = tokio::signal::ctrl_c().await;
        return;
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()
        .expect("client");
    let target = Arc::new(Target {
        base: app.base.clone(),
        token: w.tech_a1.clone(),
        client,
        items,
        next: AtomicUsize::new(0),
        reserved: AtomicUsize::new(0),
    });
    // Warm up connections and caches.
    let _ = closed_loop(&target, Op::Lookup, args.clients, 1).await;

    println!(
        "backend: {}, {} items, {} clients, {} s per run, fixed rate {} req/s",
        app.backend.name(),
        target.items.len(),
        args.clients,
        args.seconds,
        args.rate
    );
    println!();
    println!("| run | ok | errors | req/s | p50 ms | p99 ms | p99.9 ms |");
    println!("|---|---|---|---|---|---|---|");
    // Lookups at a fixed rate first, on the freshly seeded data set (as a bench
    // scanning through the day), then the saturation runs.
    let mut s = open_loop(&target, Op::Lookup, args.rate, args.seconds).await;
    if let Some(prefix) = &args.trace {
        s.write_timeline(&format!("{prefix}-lookup.tsv"));
    }
    println!(
        "{}",
        row(
            &format!("lookup at {} req/s", args.rate),
            &mut s,
            args.seconds as f64
        )
    );
    let (mut s, secs) = closed_loop(&target, Op::Lookup, args.clients, args.seconds).await;
    println!(
        "{}",
        row(&format!("lookup, {} clients", args.clients), &mut s, secs)
    );
    // A fast run would leave no item for the fixed rate: it stops short of them.
    let fixed = ((args.rate * args.seconds) as usize).min(target.items.len());
    target.reserved.store(fixed, Ordering::Relaxed);
    let (mut s, secs) = closed_loop(&target, Op::Transition, args.clients, args.seconds).await;
    target.reserved.store(0, Ordering::Relaxed);
    // Clients leaving a run that ran out each took one number more.
    let usable = target.items.len() - fixed;
    if target.next.load(Ordering::Relaxed) > usable {
        target.next.store(usable, Ordering::Relaxed);
    }
    println!(
        "{}",
        row(
            &format!("transition, {} clients", args.clients),
            &mut s,
            secs
        )
    );
    let mut s = open_loop(&target, Op::Transition, args.rate, args.seconds).await;
    if let Some(prefix) = &args.trace {
        s.write_timeline(&format!("{prefix}-transition.tsv"));
    }
    println!(
        "{}",
        row(
            &format!("transition at {} req/s", args.rate),
            &mut s,
            args.seconds as f64
        )
    );
}
