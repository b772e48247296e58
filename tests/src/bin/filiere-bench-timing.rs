//! Bench app timings against the real server on loopback (SQLite, durable settings):
//! from a scan's Enter to the item on screen, when the bench knows the item and when it
//! must ask the server; writing actions to the journal; and the journal's replay to
//! the server (10,000 actions).
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
    let _ = std::fs::remove_dir_all(&dir);
}
