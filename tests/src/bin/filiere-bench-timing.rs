//! Bench app timings against the real server on loopback (SQLite, durable settings):
//! from a scan's Enter to the item on screen, when the bench knows the item and when it
//! must ask the server; writing actions to the journal; the journal's replay to
//! the server (10,000 actions); and opening the journal at the bench's start, new and
//! after a year of work (`--journal-only` for that part alone).
//!
//! ```sh
//! cargo run --release --bin filiere-bench-timing
//! ```

use clap::Parser;
use eframe::egui::{Event, Key};
use egui_kittest::Harness;
use filiere_shared::api::*;
use filiere_tests::*;
use filiere_workstation::app::BenchApp;
use filiere_workstation::bench::Focus;
use filiere_workstation::journal::Journal;
use filiere_workstation::settings::{Settings, Station};
use filiere_workstation::sync::Sender;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Items scanned for the scan-to-screen timings.
    #[arg(long, default_value_t = 200)]
    scans: usize,
    /// Machines in the replayed journal (five actions each).
    #[arg(long, default_value_t = 2000)]
    machines: usize,
    /// Actions a bench journals in a year (300 a working day).
    #[arg(long, default_value_t = 75_000)]
    year_actions: usize,
    /// Only time the journal's opening at start (no server).
    #[arg(long)]
    journal_only: bool,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn row(name: &str, mut v: Vec<Duration>, extra: &str) {
    v.sort();
    println!(
        "| {name} | {} | {:.3} | {:.3} | {:.3} | {extra} |",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.99),
        percentile(&v, 1.0)
    );
}

fn op(v: Value) -> BatchOp {
    serde_json::from_value(v).expect("a batch op")
}

fn current_code(h: &Harness<'static, BenchApp>) -> Option<String> {
    let b = h.state().bench()?;
    match b.focus {
        Focus::Item(_) => b.current().map(|k| k.view.code.as_str().to_owned()),
        _ => None,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    if args.journal_only {
        println!("| what | n | p50 ms | p99 ms | max ms | |");
        println!("|---|---|---|---|---|---|");
        journal_start(args.year_actions);
        return;
    }
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let session = app.bench_session(&w).await;
    let t = session.token.clone();
    let dir = std::env::temp_dir().join(format!("filiere-bench-timing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // ---------------------------------------------------------------- scan to screen
    let codes = app.codes(&t, w.site_a1, args.scans as i32).await;
    for (i, c) in codes.iter().enumerate() {
        app.laptop(&t, c, &format!("TIMING-{i}")).await;
    }
    Settings {
        server: app.base.clone(),
        bench_token: w.bench_a1_token.clone(),
        station: Station::Triage,
        printer: None,
        lang: filiere_shared::Lang::Fr,
        usb_scanners: false,
        ..Settings::default()
    }
    .save(&dir.join("bench"))
    .expect("settings");
    let bench_dir = dir.join("bench");
    let mut h: Harness<'static, BenchApp> = Harness::builder()
        .with_size((1280.0, 800.0))
        .with_max_steps(50)
        .build_eframe(move |cc| {
            let mut a = BenchApp::new(&cc.egui_ctx, bench_dir);
            a.sound = false;
            a
        });
    h.event(Event::Text(w.badge_tech_a1.clone()));
    h.key_press(Key::Enter);
    h.run();
    let start = Instant::now();
    while h.state().bench().is_none_or(|b| b.session.is_none()) {
        assert!(start.elapsed() < Duration::from_secs(10), "no sign-in");
        std::thread::sleep(Duration::from_millis(5));
        h.run();
    }

    let mut fetched = Vec::new();
    let mut cached = Vec::new();
    let mut same_frame = 0;
    for pass in 0..2 {
        for c in &codes {
            h.event(Event::Text(c.clone()));
            h.key_press(Key::Enter);
            // One frame per event: the text, then the Enter.
            h.step();
            if pass == 1 {
                if current_code(&h).as_deref() == Some(c.as_str()) {
                    same_frame += 1;
                }
            } else {
                let start = Instant::now();
                while current_code(&h).as_deref() != Some(c.as_str()) {
                    assert!(start.elapsed() < Duration::from_secs(10), "{c} never shown");
                    std::thread::sleep(Duration::from_micros(100));
                    h.step();
                }
            }
            let Some((d, _)) = h.state().bench().and_then(|b| b.last_scan_to_screen) else {
                continue;
            };
            if pass == 0 { &mut fetched } else { &mut cached }.push(d);
            // Let the background refresh of a known item land before the next scan.
            h.run();
        }
    }

    println!("| measure | n | p50 ms | p99 ms | max ms | |");
    println!("|---|---|---|---|---|---|");
    row(
        "scan to screen, item fetched from the server",
        fetched,
        "one `GET /resolve` on loopback",
    );
    row(
        "scan to screen, item known to the bench",
        cached,
        &format!(
            "{same_frame} of {} shown in the frame of the Enter",
            codes.len()
        ),
    );

    // ---------------------------------------------------------------- the journal
    let jdir = dir.join("replay");
    std::fs::create_dir_all(&jdir).expect("dir");
    let codes = app.codes(&t, w.site_a1, args.machines as i32).await;
    let mut journal = Journal::open(jdir.join("journal.jsonl")).expect("journal");
    let mut appends = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        let drive = format!("REPLAY-{i}");
        let ev = |k: &str, v: i64, cmd: Value| {
            op(
                json!({"op": "event", "item": c, "idempotency_key": format!("{c}-{k}"),
                "expected_version": v, "command": cmd}),
            )
        };
        let ops = [
            op(
                json!({"op": "register", "idempotency_key": format!("{c}-reg"), "code": c,
                "category": "laptop", "brand": "Dell", "model": "Latitude 5490",
                "drives": [{"serial": drive}]}),
            ),
            ev("triage", 2, json!({"type": "triage", "route": "refurbish"})),
            ev("erase", 3, erase(&drive)),
            ev("qa", 4, qa_pass()),
            ev("ready", 5, json!({"type": "mark_ready"})),
        ];
        for o in ops {
            let s = Instant::now();
            journal.append(o).expect("append");
            appends.push(s.elapsed());
        }
    }
    let actions = journal.waiting();
    let sender = Sender::new(&app.base, &t);
    let start = Instant::now();
    sender.drain(&mut journal).await.expect("replayed");
    let replay = start.elapsed();
    let refused = journal.refused().count();
    row(
        "journal: one action written and synced to disk",
        appends,
        "before the screen confirms it",
    );
    println!(
        "| journal replay: {actions} actions to the server | 1 | {:.0} | | | {:.0} actions/s, {refused} refused |",
        replay.as_secs_f64() * 1000.0,
        actions as f64 / replay.as_secs_f64()
    );
    journal_start(args.year_actions);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Opening the journal when the bench starts: a new bench, a bench with a year of
/// accepted actions kept (the journal before archiving existed), the start that
/// archives them, and the starts after it.
fn journal_start(year_actions: usize) {
    use filiere_workstation::settings::JOURNAL_KEEP_DAYS;
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("filiere-journal-start-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let now = chrono::Utc::now();
    let limit = || Some(chrono::Utc::now() - chrono::Duration::days(JOURNAL_KEEP_DAYS.into()));
    let times = |path: &std::path::Path, n: usize, archive: bool| -> Vec<Duration> {
        (0..n)
            .map(|_| {
                let s = Instant::now();
                let opened = Journal::open_archiving(path, if archive { limit() } else { None });
                let took = s.elapsed();
                let _ = opened.expect("journal");
                took
            })
            .collect()
    };

    let new = dir.join("new.jsonl");
    row(
        "bench start: a new bench's journal opened",
        times(&new, 50, true),
        "",
    );

    // A year of work: every action accepted, the last ones still waiting.
    let year = dir.join("year.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&year).expect("file"));
    let step = chrono::Duration::seconds(365 * 24 * 3600 / year_actions.max(1) as i64);
    for i in 0..year_actions {
        let seq = i + 1;
        let at = now - step * (year_actions - i) as i32;
        let code = format!("{:08}", i % 99_999_999);
        let action = json!({"t": "action", "v": 1, "seq": seq, "at": at,
            "op": {"op": "event", "item": code, "idempotency_key": format!("bench-{seq}"),
                "expected_version": 3, "command": {"type": "triage", "route": "refurbish"}}});
        writeln!(f, "{action}").expect("write");
        if i + 20 < year_actions {
            let done = json!({"t": "done", "v": 1, "seq": seq, "outcome": {"result": "accepted"}});
            writeln!(f, "{done}").expect("write");
        }
    }
    drop(f);
    let bytes = std::fs::metadata(&year).map(|m| m.len()).unwrap_or(0);
    row(
        &format!("bench start: a year's journal ({year_actions} actions) opened whole"),
        times(&year, 5, false),
        &format!("{:.1} MB, as before archiving", bytes as f64 / 1e6),
    );
    let first = times(&year, 1, true);
    let kept = std::fs::metadata(&year).map(|m| m.len()).unwrap_or(0);
    row(
        "bench start: the start that archives it",
        first,
        &format!(
            "{JOURNAL_KEEP_DAYS} days kept: {:.2} MB left",
            kept as f64 / 1e6
        ),
    );
    row(
        "bench start: the starts after it",
        times(&year, 50, true),
        "",
    );
    let _ = std::fs::remove_dir_all(&dir);
}
