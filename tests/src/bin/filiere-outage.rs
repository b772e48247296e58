//! The database goes away under load, and the server does not go with it.
//!
//! ```sh
//! cargo build --workspace
//! target/debug/filiere-outage                 # both; as root for the SQLite part
//! ```
//!
//! - **PostgreSQL stopped and started**: a cluster of its own (initdb in a temporary
//!   folder, on a free port; the machine's own PostgreSQL is left alone) is stopped
//!   with `pg_ctl -m immediate` (as a crash would) while `--clients` clients work,
//!   kept down a few seconds, and started again, `--outages` times. The server is not
//!   touched: while the database is away every request that needs it is answered 503
//!   `unavailable` (never a 500), and the server serves again by itself once it is
//!   back. Then the clients' logs are held against the rows as `filiere-crash` does.
//! - **SQLite's disk full**: the database on a small tmpfs (mounted for the run; it
//!   needs root), the rest of the space taken by a filler file. Writes are refused
//!   507 `storage_full`, reads still answer; the filler removed, writes succeed again
//!   without a restart; nothing acknowledged is lost, nothing is torn.

use clap::Parser;
use filiere_tests::crash::{self, Report, start, wait_up};
use filiere_tests::open_db;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Times PostgreSQL is stopped and started.
    #[arg(long, default_value_t = 3)]
    outages: usize,
    /// Seconds PostgreSQL stays down each time.
    #[arg(long, default_value_t = 3)]
    down: u64,
    #[arg(long)]
    skip_postgres: bool,
    #[arg(long)]
    skip_sqlite: bool,
    /// The `filiere` binary (default: beside this one).
    #[arg(long)]
    server: Option<std::path::PathBuf>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool: as the `postgres` user when this runs as root (initdb
/// refuses root).
fn pg_tool(bin: &std::path::Path, tool: &str, args: &[String]) -> bool {
    let program = bin.join(tool);
    let status = if is_root() {
        let line = std::iter::once(program.display().to_string())
            .chain(args.iter().map(|a| format!("'{a}'")))
            .collect::<Vec<_>>()
            .join(" ");
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", &line])
            .status()
    } else {
        Command::new(&program).args(args).status()
    };
    status.map(|s| s.success()).unwrap_or(false)
}

fn pg_bin() -> Option<std::path::PathBuf> {
    let mut versions: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// How long until a write through the server succeeds again (a label batch).
async fn until_writes(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    limit: Duration,
) -> Option<Duration> {
    let t = Instant::now();
    while t.elapsed() < limit {
        let ok = client
            .post(format!("{base}/api/v1/label-batches"))
            .bearer_auth(token)
            .json(&serde_json::json!({"site": 1, "count": 1}))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            return Some(t.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

fn summary(what: &str, r: &Report) {
    println!(
        "{what}: {} steps acknowledged, {} refused; {} reservations; {} requests sent again; \
         what the clients were answered meanwhile: {:?}",
        r.acked, r.refused, r.reserved, r.retries, r.faults
    );
}

fn postgres(args: &Args, server: &std::path::Path, problems: &mut Vec<String>) {
    let Some(bin) = pg_bin() else {
        problems.push("no PostgreSQL server binaries in /usr/lib/postgresql".into());
        return;
    };
    let dir = std::env::temp_dir().join(format!("filiere-outage-pg-{}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).expect("dir");
    if is_root() {
        let _ = Command::new("chown")
            .args(["-R", "postgres", &dir.display().to_string()])
            .status();
    }
    let port = free_port();
    let d = |p: &std::path::Path| p.display().to_string();
    assert!(
        pg_tool(
            &bin,
            "initdb",
            &[
                "-D".into(),
                d(&data),
                "-A".into(),
                "trust".into(),
                "-U".into(),
                "postgres".into(),
                "--no-sync".into()
            ]
        ),
        "initdb"
    );
    let pg_start = || {
        pg_tool(
            &bin,
            "pg_ctl",
            &[
                "-D".into(),
                d(&data),
                "-o".into(),
                format!("-p {port} -k {} -c listen_addresses=127.0.0.1", d(&dir)),
                "-l".into(),
                d(&dir.join("postgres.log")),
                "-w".into(),
                "start".into(),
            ],
        )
    };
    let pg_stop = || {
        pg_tool(
            &bin,
            "pg_ctl",
            &[
                "-D".into(),
                d(&data),
                "-m".into(),
                "immediate".into(),
                "-w".into(),
                "stop".into(),
            ],
        )
    };
    assert!(pg_start(), "pg_ctl start");
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    {
        let db = open_db(&url, 1);
        let mut conn = db.write.get().expect("connection");
        filiere_server::demo::load(&mut conn, &filiere_server::demo::fixtures_dir())
            .expect("demo data");
    }
    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let log = std::env::temp_dir().join(format!("filiere-outage-pg-{}.log", std::process::id()));
    println!("the server's log: {}", log.display());
    let mut child: Child = start(server, &url, &addr, &log, &[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let logs = rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .expect("client");
        wait_up(&client, &base).await;
        let probe = crash::login(&client, &base, "tom").await;
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = crash::signed_in_clients(args.clients, &client, &base, &stop).await;
        for k in 0..args.outages {
            tokio::time::sleep(Duration::from_secs(2)).await;
            assert!(pg_stop(), "pg_ctl stop");
            let down = Instant::now();
            // While it is down: a clear 503, from a reading route as from a write.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let seen = client
                .get(format!("{base}/api/v1/items"))
                .bearer_auth(&probe)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_secs(args.down).saturating_sub(down.elapsed())).await;
            let down_for = down.elapsed();
            assert!(pg_start(), "pg_ctl start");
            let back = until_writes(&client, &base, &probe, Duration::from_secs(60)).await;
            println!(
                "outage {}: PostgreSQL down {:.1} s; a read meanwhile answered {seen}; writes again {:.1} s after it was back",
                k + 1,
                down_for.as_secs_f64(),
                back.map(|b| b.as_secs_f64()).unwrap_or(f64::NAN)
            );
            if seen != 503 {
                problems.push(format!("outage {}: a read answered {seen}, not 503", k + 1));
            }
            if back.is_none() {
                problems.push(format!("outage {}: the server did not write again within 60 s", k + 1));
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, Ordering::Relaxed);
        let mut logs = Vec::new();
        for t in tasks {
            logs.push(t.await.expect("client"));
        }
        logs
    });
    let _ = child.kill();
    let _ = child.wait();
    let r = crash::check(&url, &logs);
    summary("PostgreSQL stopped and started", &r);
    for (fault, n) in &r.faults {
        if !(fault.starts_with("503 unavailable") || fault == "no answer") {
            problems.push(format!(
                "{n} answers {fault} while PostgreSQL was away (a 503 expected)"
            ));
        }
    }
    if !r.faults.keys().any(|f| f.starts_with("503")) {
        problems.push("no client saw the outage".into());
    }
    problems.extend(r.problems);
    let _ = pg_stop();
    let _ = std::fs::remove_dir_all(&dir);
}

fn sqlite(args: &Args, server: &std::path::Path, problems: &mut Vec<String>) {
    let dir = std::env::temp_dir().join(format!("filiere-outage-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=24m",
            "tmpfs",
            &dir.display().to_string(),
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        println!("SQLite disk full: skipped (a tmpfs cannot be mounted here; run as root)");
        let _ = std::fs::remove_dir(&dir);
        return;
    }
    let url = format!("sqlite://{}", dir.join("filiere.sqlite").display());
    {
        let db = open_db(&url, 1);
        let mut conn = db.write.get().expect("connection");
        filiere_server::demo::load(&mut conn, &filiere_server::demo::fixtures_dir())
            .expect("demo data");
    }
    // The rest of the disk taken, but for about a megabyte.
    let free = {
        let out = Command::new("df")
            .args(["--output=avail", "-B1", &dir.display().to_string()])
            .output()
            .expect("df");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let filler = dir.join("filler");
    std::fs::write(&filler, vec![0u8; free.saturating_sub(1 << 20) as usize]).expect("filler");
    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let log = std::env::temp_dir().join(format!("filiere-outage-disk-{}.log", std::process::id()));
    let mut child: Child = start(server, &url, &addr, &log, &[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let logs = rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .expect("client");
        wait_up(&client, &base).await;
        let probe = crash::login(&client, &base, "tom").await;
        let sophie = crash::login(&client, &base, "sophie").await;
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = crash::signed_in_clients(args.clients, &client, &base, &stop).await;
        // Until the disk is full: a write refused 507.
        let t = Instant::now();
        let mut full = None;
        while t.elapsed() < Duration::from_secs(120) {
            let r = client
                .post(format!("{base}/api/v1/label-batches"))
                .bearer_auth(&probe)
                .json(&serde_json::json!({"site": 1, "count": 50}))
                .send()
                .await;
            if let Ok(r) = r {
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                if status == 507 {
                    full = Some((
                        t.elapsed(),
                        crash::code_of(&body),
                        body["message"].as_str().unwrap_or("").to_owned(),
                    ));
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let read = client
            .get(format!("{base}/api/v1/catalogue"))
            .bearer_auth(&sophie)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        match &full {
            Some((after, code, message)) => println!(
                "disk full after {:.1} s: {code} « {message} »; a read meanwhile: {read}",
                after.as_secs_f64()
            ),
            None => problems.push("the disk never filled".into()),
        }
        if read != 200 {
            problems.push(format!("a read answered {read} while the disk was full"));
        }
        // The clients stop while it is full (writing on, they would fill again
        // whatever space comes back); then the space comes back.
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, Ordering::Relaxed);
        let mut logs = Vec::new();
        for t in tasks {
            logs.push(t.await.expect("client"));
        }
        let _ = std::fs::remove_file(&filler);
        let back = until_writes(&client, &base, &probe, Duration::from_secs(60)).await;
        let mut again = 0;
        for _ in 0..20 {
            let ok = client
                .post(format!("{base}/api/v1/label-batches"))
                .bearer_auth(&probe)
                .json(&serde_json::json!({"site": 1, "count": 5}))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            again += usize::from(ok);
        }
        println!(
            "space freed: a write succeeds {:.1} s later, without a restart; then {again} of 20 more",
            back.map(|b| b.as_secs_f64()).unwrap_or(f64::NAN)
        );
        if back.is_none() || again != 20 {
            problems.push("writes did not succeed again after the space came back".into());
        }
        logs
    });
    let _ = child.kill();
    let _ = child.wait();
    let r = crash::check(&url, &logs);
    summary("SQLite's disk full", &r);
    for (fault, n) in &r.faults {
        if !(fault.starts_with("507 storage_full") || fault.starts_with("503 unavailable")) {
            problems.push(format!("{n} answers {fault} while the disk was full"));
        }
    }
    problems.extend(r.problems);
    let _ = Command::new("umount").arg(&dir).status();
    let _ = std::fs::remove_dir(&dir);
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let server = crash::server_binary(args.server.clone());
    let mut problems = Vec::new();
    if !args.skip_postgres {
        postgres(&args, &server, &mut problems);
    }
    if !args.skip_sqlite {
        sqlite(&args, &server, &mut problems);
    }
    if problems.is_empty() {
        println!("all held");
        std::process::ExitCode::SUCCESS
    } else {
        for p in problems.iter().take(50) {
            eprintln!("{p}");
        }
        std::process::ExitCode::FAILURE
    }
}
