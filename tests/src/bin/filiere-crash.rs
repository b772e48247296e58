//! Crash under load: `--clients` clients post steps and reservations to a real
//! `filiere serve` process while it is killed with SIGKILL at random moments
//! (`--kills` times) and started again each time. Then every step a client saw
//! acknowledged must be in the database exactly once, no refused one at all, and each
//! item's version must match its events; every acknowledged reservation must be
//! there, and no device held by two.
//!
//! ```sh
//! cargo build --workspace --release
//! target/release/filiere-crash                                  # SQLite (a temp file)
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     target/release/filiere-crash                              # PostgreSQL
//! ```
//!
//! Technicians' clients register laptops and erase their drive, each request with its
//! idempotency key: when the server goes away mid-request, the client sends the same
//! request again until it gets an answer, as the bench's journal does. Social workers'
//! clients reserve ready devices and cancel them; a reservation carries no key, so one
//! whose answer was lost is not sent again (it is counted "unknown").

use clap::Parser;
use filiere_server::db::{self, Backend};
use filiere_tests::crash::{start, wait_up};
use filiere_tests::open_db;
use rand::Rng;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Concurrent clients: three in four are technicians, the rest social workers.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// How many times the server is killed.
    #[arg(long, default_value_t = 10)]
    kills: usize,
    /// Shortest and longest time the server runs between two kills (ms).
    #[arg(long, default_value_t = 300)]
    min_up_ms: u64,
    #[arg(long, default_value_t = 2500)]
    max_up_ms: u64,
    /// The `filiere` binary (default: beside this one).
    #[arg(long)]
    server: Option<std::path::PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let server = filiere_tests::crash::server_binary(args.server.clone());
    let (url, cleanup) = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            use diesel::connection::SimpleConnection;
            let name = format!("filiere_crash_{}", std::process::id());
            let mut c = db::connect(&admin).expect("connect");
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .expect("drop");
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            (format!("{base}/{name}"), Some((admin, name)))
        }
        _ => {
            let path =
                std::env::temp_dir().join(format!("filiere-crash-{}.sqlite", std::process::id()));
            (format!("sqlite://{}", path.display()), None)
        }
    };
    let backend = Backend::of_url(&url);
    {
        let db = open_db(&url, 1);
        let mut conn = db.write.get().expect("connection");
        filiere_server::demo::load(&mut conn, &filiere_server::demo::fixtures_dir())
            .expect("demo data");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let base = format!("http://{addr}");
    let server_log = std::env::temp_dir().join(format!("filiere-crash-{}.log", std::process::id()));
    println!(
        "{} clients, {} kills, on {}; the server's log: {}",
        args.clients,
        args.kills,
        backend.name(),
        server_log.display()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let result = rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(args.clients)
            .build()
            .expect("client");
        let mut child = start(&server, &url, &addr, &server_log, &[]);
        wait_up(&client, &base).await;
        let stop = Arc::new(AtomicBool::new(false));
        let tasks =
            filiere_tests::crash::signed_in_clients(args.clients, &client, &base, &stop).await;
        let started = Instant::now();
        let mut downtime = Vec::new();
        for k in 0..args.kills {
            let up = rand::rng().random_range(args.min_up_ms..=args.max_up_ms);
            tokio::time::sleep(Duration::from_millis(up)).await;
            child.kill().expect("SIGKILL");
            let _ = child.wait();
            child = start(&server, &url, &addr, &server_log, &[]);
            let back = wait_up(&client, &base).await;
            downtime.push(back);
            println!("kill {}: back in {:.2} s", k + 1, back.as_secs_f64());
        }
        // A last stretch of load on the server left running, then the clients stop.
        tokio::time::sleep(Duration::from_millis(args.min_up_ms)).await;
        stop.store(true, Ordering::Relaxed);
        let mut logs = Vec::new();
        for t in tasks {
            logs.push(t.await.expect("client"));
        }
        let _ = child.kill();
        let _ = child.wait();
        (logs, started.elapsed(), downtime)
    });
    let (logs, elapsed, downtime) = result;

    let r = filiere_tests::crash::check(&url, &logs);
    let mean_down =
        downtime.iter().map(Duration::as_secs_f64).sum::<f64>() / downtime.len().max(1) as f64;
    println!(
        "{:.1} s, {} kills (back in {:.2} s on average); steps: {} acknowledged, {} refused; \
         reservations: {} acknowledged, {} refused, {} unanswered, {} cancellations; \
         {} requests sent again",
        elapsed.as_secs_f64(),
        downtime.len(),
        mean_down,
        r.acked,
        r.refused,
        r.reserved,
        r.reservation_refused,
        r.unknown,
        r.cancels,
        r.retries
    );
    if let Some((admin, name)) = cleanup {
        use diesel::connection::SimpleConnection;
        if let Ok(mut c) = db::connect(&admin) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    } else {
        let path = url.trim_start_matches("sqlite://");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    if r.problems.is_empty() && r.acked > 0 {
        println!("nothing lost, nothing doubled, nothing refused written");
        std::process::ExitCode::SUCCESS
    } else {
        for p in r.problems.iter().take(50) {
            eprintln!("{p}");
        }
        eprintln!("{} problems (or no step acknowledged)", r.problems.len());
        std::process::ExitCode::FAILURE
    }
}
