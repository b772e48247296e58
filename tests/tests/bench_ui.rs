//! The bench app driven as a technician drives it (badge scan, label scans, keys),
//! against the real server started here, with the network cut in the middle.

use eframe::egui::{Event, Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use filiere_shared::api::*;
use filiere_shared::*;
use filiere_tests::*;
use filiere_workstation::app::{BenchApp, DIGITS};
use filiere_workstation::bench::{Focus, Intake};
use filiere_workstation::settings::{Settings, Station};
use serde_json::json;
use std::time::{Duration, Instant};

fn harness(dir: std::path::PathBuf) -> Harness<'static, BenchApp> {
    Harness::builder()
        .with_size((1280.0, 800.0))
        .with_max_steps(50)
        .build_eframe(move |cc| {
            let mut app = BenchApp::new(&cc.egui_ctx, dir);
            app.sound = false;
            app
        })
}

/// A fresh data directory for a bench at site A1, its settings saved.
fn bench_dir(app: &TestApp, w: &World, station: Station, lang: Lang) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "filiere-bench-ui-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    Settings {
        server: app.base.clone(),
        bench_token: w.bench_a1_token.clone(),
        station,
        printer: None,
        lang,
        usb_scanners: false,
        ..Settings::default()
    }
    .save(&dir)
    .expect("settings");
    dir
}

/// A scanner: the text in one burst, then Enter.
fn scan(h: &mut Harness<'static, BenchApp>, text: &str) {
    h.event(Event::Text(text.to_owned()));
    h.key_press(Key::Enter);
    h.run();
}

/// A key press. Keys that type text are held back a moment in case they start a
/// scanner burst: the frames after that moment see it.
fn key(h: &mut Harness<'static, BenchApp>, k: Key) {
    h.key_press(k);
    h.run();
    std::thread::sleep(Duration::from_millis(60));
    h.run();
}

fn station(h: &mut Harness<'static, BenchApp>, n: usize) {
    h.key_press_modifiers(Modifiers::ALT, DIGITS[n - 1]);
    h.run();
}

/// Runs frames until `cond` holds (the network answers on its own thread).
fn wait(h: &mut Harness<'static, BenchApp>, what: &str, cond: impl Fn(&BenchApp) -> bool) {
    let start = Instant::now();
    loop {
        h.run();
        if cond(h.state()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}; flash: {:?}",
            h.state().bench().and_then(|b| b.flash.clone())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn waiting(app: &BenchApp) -> usize {
    app.bench().map(|b| b.waiting).unwrap_or(usize::MAX)
}

fn flash_error(app: &BenchApp) -> Option<String> {
    app.bench()
        .and_then(|b| b.flash.clone())
        .filter(|f| f.error)
        .map(|f| f.text)
}

async fn item(app: &TestApp, token: &str, code: &str) -> ItemView {
    let r: Resolved = app
        .get_ok(&format!("/api/v1/resolve?q={code}"), token)
        .await;
    match r {
        Resolved::Item { item, .. } => *item,
        other => panic!("{code} is not an item: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_goes_from_reception_to_ready_by_scans_and_keys_with_the_network_cut() {
    let mut app = TestApp::spawn().await;
    let w = app.world().await;
    let bench = app.bench_session(&w).await;
    let t = bench.token.clone();
    let codes = app.codes(&t, w.site_a1, 2).await;
    let dir = bench_dir(&app, &w, Station::Reception, Lang::Fr);

    let mut h = harness(dir.clone());
    h.run();
    h.get_by_label("Scannez votre badge pour commencer");

    // A label before any badge: refused, nothing sent.
    scan(&mut h, &codes[0]);
    assert!(flash_error(h.state()).is_some_and(|e| e.contains("badge")));

    // Signing in by badge.
    scan(&mut h, &w.badge_tech_a1);
    wait(&mut h, "the sign-in", |a| {
        a.bench().is_some_and(|b| b.session.is_some())
    });

    // Reception: a fresh label opens the intake form.
    scan(
        &mut h,
        &format!("https://filiere.test/i/{}", codes[0].to_lowercase()),
    );
    wait(&mut h, "the intake form", |a| {
        a.bench()
            .is_some_and(|b| matches!(b.focus, Focus::Intake(_)))
    });
    // A form with no drive declared is refused on the bench, nothing journaled.
    // F1: laptop (every field of the form is reachable by keyboard).
    key(&mut h, Key::F1);
    h.get_by_label("F1 Portable");
    key(&mut h, Key::Enter);
    assert!(flash_error(h.state()).is_some_and(|e| e.contains("disques")));
    assert_eq!(waiting(h.state()), 0);
    h.state_mut().forms.intake = Intake {
        brand: "Dell".into(),
        model: "Latitude 5490".into(),
        serial: "5CG7301XYZ".into(),
        drives: "UI-DRIVE-1".into(),
        weight_kg: "2,1".into(),
        ..h.state().forms.intake.clone()
    };
    key(&mut h, Key::Enter);
    wait(&mut h, "the registration to be sent", |a| waiting(a) == 0);
    let v = item(&app, &t, &codes[0]).await;
    assert_eq!(v.state, ItemState::Received);
    assert_eq!(v.model.as_deref(), Some("Latitude 5490"));
    assert_eq!(v.weight_g, Some(2100));
    assert_eq!(v.drives.len(), 1);

    // Triage: 1 = refurbish.
    station(&mut h, 2);
    scan(&mut h, &codes[0]);
    wait(&mut h, "the item on screen", |a| {
        a.bench().and_then(|b| b.current()).is_some()
    });
    // Its weight as French writes it.
    h.get_by_label("2,1 kg");
    key(&mut h, Key::Num1);
    wait(&mut h, "the triage to be sent", |a| waiting(a) == 0);
    assert_eq!(
        item(&app, &t, &codes[0]).await.state,
        ItemState::Refurbishing
    );

    // The QA bench cannot make it ready with its drive not erased: refused on the
    // bench by the shared rules, before any request.
    station(&mut h, 6);
    scan(&mut h, &codes[0]);
    key(&mut h, Key::F1);
    key(&mut h, Key::F5);
    key(&mut h, Key::Enter);
    assert!(
        flash_error(h.state()).is_some_and(|e| e.contains("UI-DRIVE-1")),
        "ready refused on the bench: {:?}",
        flash_error(h.state())
    );
    wait(&mut h, "the QA report to be sent", |a| waiting(a) == 0);
    let v = item(&app, &t, &codes[0]).await;
    assert_eq!(
        v.state,
        ItemState::Refurbishing,
        "not ready: drive not erased"
    );
    let hist: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", v.id), &t)
        .await;
    assert_eq!(
        event_types(&hist).last().copied(),
        Some("qa_tested"),
        "the QA report was sent, the ready step was not"
    );

    // The network goes down.
    app.stop();

    // Erasure, offline: E records the first pending drive as erased.
    station(&mut h, 3);
    scan(&mut h, &codes[0]);
    h.state_mut().forms.erasure_passes = 3;
    h.get_by_label("Purger (sanitize)").click();
    h.run();
    key(&mut h, Key::E);
    assert_eq!(waiting(h.state()), 1);
    let k = h
        .state()
        .bench()
        .and_then(|b| b.current().cloned())
        .expect("item on screen");
    assert!(k.view.drives.iter().all(|d| d.status.is_sanitised()));

    // QA again, offline: passed, so the device is marked ready (predicted on screen).
    station(&mut h, 6);
    scan(&mut h, &codes[0]);
    key(&mut h, Key::F1);
    key(&mut h, Key::F5);
    key(&mut h, Key::Enter);
    assert_eq!(waiting(h.state()), 3);
    wait(&mut h, "the bench to notice it is offline", |a| {
        a.bench().is_some_and(|b| b.online == Some(false))
    });
    h.get_by_label("HORS LIGNE");
    let k = h
        .state()
        .bench()
        .and_then(|b| b.current().cloned())
        .expect("item on screen");
    assert_eq!(k.view.state, ItemState::Ready);
    assert_eq!(k.pending, 3);

    // The network comes back: everything arrives, in order, and is accepted.
    app.restart();
    wait(&mut h, "the journal to drain", |a| waiting(a) == 0);
    assert!(
        h.state().bench().is_some_and(|b| b.refusals().is_empty()),
        "nothing refused"
    );
    let v = item(&app, &t, &codes[0]).await;
    assert_eq!(v.state, ItemState::Ready);
    let hist: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", v.id), &t)
        .await;
    let erased = hist.events.iter().find_map(|e| match &e.payload {
        filiere_shared::lifecycle::EventPayload::DriveErased { erasure, .. } => Some(erasure),
        _ => None,
    });
    assert!(
        erased.is_some_and(|e| e.passes == Some(3)
            && e.level == NistLevel::Purge
            && e.technique == ErasureTechnique::FirmwareSanitize
            && e.verified),
        "{erased:?}"
    );
    assert_eq!(
        event_types(&hist),
        [
            "registered",
            "drives_declared",
            "triaged",
            "qa_tested",
            "drive_erased",
            "qa_tested",
            "marked_ready"
        ]
    );

    // A ready device cannot be triaged again: the bench refuses it, nothing journaled.
    station(&mut h, 2);
    scan(&mut h, &codes[0]);
    key(&mut h, Key::Num3);
    assert!(flash_error(h.state()).is_some());
    assert_eq!(waiting(h.state()), 0);

    // Undo: Ctrl+Z sends a compensating event for the bench's last action.
    station(&mut h, 1);
    scan(&mut h, &codes[1]);
    wait(&mut h, "the intake form", |a| {
        a.bench()
            .is_some_and(|b| matches!(b.focus, Focus::Intake(_)))
    });
    h.state_mut().forms.intake = Intake {
        category: Some(Category::Desktop),
        no_drive: true,
        ..Intake::default()
    };
    key(&mut h, Key::Enter);
    wait(&mut h, "the registration", |a| waiting(a) == 0);
    station(&mut h, 2);
    scan(&mut h, &codes[1]);
    key(&mut h, Key::Num3);
    wait(&mut h, "the triage", |a| {
        waiting(a) == 0
            && a.bench()
                .and_then(|b| b.undo.clone())
                .is_some_and(|u| u.event.is_some())
    });
    assert_eq!(item(&app, &t, &codes[1]).await.state, ItemState::ToRecycle);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    wait(&mut h, "the correction", |a| waiting(a) == 0);
    assert_eq!(item(&app, &t, &codes[1]).await.state, ItemState::Received);

    // English on F12.
    key(&mut h, Key::F12);
    h.get_by_label("Alt+1 Reception");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_harvested_at_teardown_is_labelled_tested_and_fitted_into_another_machine() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let bench = app.bench_session(&w).await;
    let t = bench.token.clone();
    let codes = app.codes(&t, w.site_a1, 2).await;
    // A donor machine for parts, a machine to repair.
    let donor = app.laptop(&t, &codes[0], "DONOR-DRIVE").await;
    let donor = app
        .step_ok(
            &t,
            &donor,
            "t1",
            json!({"type": "triage", "route": "harvest"}),
        )
        .await
        .item;
    let target = app.laptop(&t, &codes[1], "TARGET-DRIVE").await;
    app.step_ok(
        &t,
        &target,
        "t2",
        json!({"type": "triage", "route": "refurbish"}),
    )
    .await;

    let dir = bench_dir(&app, &w, Station::Teardown, Lang::Fr);
    let mut h = harness(dir.clone());
    scan(&mut h, &w.badge_tech_a1);
    wait(&mut h, "the sign-in and the bench's own codes", |a| {
        a.bench()
            .is_some_and(|b| b.session.is_some() && !b.own_codes.is_empty())
    });
    let block = h.state().bench().map(|b| b.own_codes.len()).unwrap_or(0);
    assert_eq!(block, 50);

    // Teardown: F1 takes out a memory module, labelled with the bench's next code.
    scan(&mut h, &codes[0]);
    wait(&mut h, "the donor on screen", |a| {
        a.bench()
            .and_then(|b| b.current())
            .is_some_and(|k| k.view.state == ItemState::Harvesting)
    });
    h.state_mut().forms.spec = "8 Go DDR4".into();
    key(&mut h, Key::F1);
    let part_code = h
        .state()
        .bench()
        .and_then(|b| b.harvested.first().map(|p| p.code))
        .expect("a part harvested");
    assert_eq!(
        h.state().bench().map(|b| b.own_codes.len()),
        Some(block - 1),
        "the code came from the bench's block"
    );
    wait(&mut h, "the harvest to be sent", |a| waiting(a) == 0);
    let part = item(&app, &t, part_code.as_str()).await;
    assert_eq!(part.origin, Some(donor.id));
    assert_eq!(part.category, Category::Ram);
    assert_eq!(part.specs.part_spec.as_deref(), Some("8 Go DDR4"));

    // The printed label scanned: confirmed on the part; G: tested good.
    scan(&mut h, part_code.as_str());
    wait(&mut h, "the part on screen", |a| {
        a.bench()
            .and_then(|b| b.current())
            .is_some_and(|k| k.view.code == part_code)
    });
    assert!(
        h.state()
            .bench()
            .is_some_and(|b| b.harvested.iter().all(|p| p.confirmed))
    );
    key(&mut h, Key::G);
    wait(&mut h, "the test to be sent", |a| waiting(a) == 0);
    assert_eq!(
        item(&app, &t, part_code.as_str()).await.state,
        ItemState::TestedGood
    );

    // Repair: the machine, then the part, Enter fits it.
    station(&mut h, 5);
    scan(&mut h, &codes[1]);
    wait(&mut h, "the target on screen", |a| {
        a.bench()
            .and_then(|b| b.current())
            .is_some_and(|k| k.view.state == ItemState::Refurbishing)
    });
    scan(&mut h, part_code.as_str());
    key(&mut h, Key::Enter);
    wait(&mut h, "the fit to be sent", |a| waiting(a) == 0);
    let fitted = item(&app, &t, part_code.as_str()).await;
    assert_eq!(fitted.state, ItemState::Fitted);
    assert_eq!(fitted.parent, Some(target.id));
    let target_now = item(&app, &t, &codes[1]).await;
    assert_eq!(target_now.parts, vec![fitted.id]);
    let hist: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", target.id), &t)
        .await;
    assert!(
        hist.genealogy
            .iter()
            .any(|g| g.relation == GenealogyRelation::Fitted && g.other == fitted.id)
    );

    // A part cannot go into a machine that is not being repaired: the donor is being
    // torn down; the bench refuses before sending anything, and the server still has
    // the part in the machine it was fitted into.
    scan(&mut h, &codes[0]);
    scan(&mut h, part_code.as_str());
    key(&mut h, Key::Enter);
    assert_eq!(waiting(h.state()), 0, "nothing journaled");
    assert_eq!(
        item(&app, &t, part_code.as_str()).await.parent,
        Some(target.id)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_nwipe_log_records_each_drive_by_serial_and_a_failed_drive_is_destroyed() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let bench = app.bench_session(&w).await;
    let t = bench.token.clone();
    let codes = app.codes(&t, w.site_a1, 1).await;
    let r: EventResponse = app
        .post_ok(
            "/api/v1/items",
            &t,
            &json!({"idempotency_key": "reg-nwipe", "code": codes[0], "category": "desktop",
                "drives": [{"serial": "s3z9nb0k123456"}, {"serial": "Z3TA1234"}, {"serial": "NOT-IN-LOG"}]}),
        )
        .await;
    app.step_ok(
        &t,
        &r.item,
        "tri",
        json!({"type": "triage", "route": "refurbish"}),
    )
    .await;

    let dir = bench_dir(&app, &w, Station::Erasure, Lang::En);
    let mut h = harness(dir.clone());
    scan(&mut h, &w.badge_tech_a1);
    wait(&mut h, "the sign-in", |a| {
        a.bench().is_some_and(|b| b.session.is_some())
    });
    scan(&mut h, &codes[0]);
    wait(&mut h, "the machine on screen", |a| {
        a.bench().and_then(|b| b.current()).is_some()
    });
    // Not a log: refused, nothing journaled.
    h.state_mut().forms.nwipe_path = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").into();
    key(&mut h, Key::F4);
    assert!(flash_error(h.state()).is_some_and(|e| e.contains("nwipe")));
    assert_eq!(waiting(h.state()), 0);

    h.state_mut().forms.nwipe_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/nwipe/nwipe-two-drives.log"
    )
    .into();
    key(&mut h, Key::F4);
    wait(&mut h, "the erasures to be sent", |a| waiting(a) == 0);
    let v = item(&app, &t, &codes[0]).await;
    let status = |s: &str| {
        v.drives
            .iter()
            .find(|d| d.serial.eq_ignore_ascii_case(s))
            .map(|d| d.status)
    };
    assert_eq!(status("S3Z9NB0K123456"), Some(DriveStatus::Erased));
    assert_eq!(status("Z3TA1234"), Some(DriveStatus::Destroyed));
    assert_eq!(status("NOT-IN-LOG"), Some(DriveStatus::Pending));
    let hist: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", v.id), &t)
        .await;
    let erasures: Vec<_> = hist
        .events
        .iter()
        .filter_map(|e| match &e.payload {
            filiere_shared::lifecycle::EventPayload::DriveErased { serial, erasure } => {
                Some((serial.clone(), erasure.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(erasures.len(), 2);
    let (_, ok) = &erasures[0];
    assert_eq!(ok.tool, "nwipe");
    assert_eq!(ok.tool_version.as_deref(), Some("0.35"));
    assert_eq!(ok.method.as_deref(), Some("PRNG Stream"));
    assert_eq!(ok.passes, Some(1));
    assert!(ok.verified);
    assert!(ok.report.as_deref().is_some_and(|r| r.contains("/dev/sda")));
    assert_eq!(erasures[1].1.result, ErasureResult::Failed);
    assert_eq!(
        event_types(&hist).last().copied(),
        Some("drive_destroyed"),
        "the failed drive is destroyed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_found_by_serial_number_gets_a_new_label_for_its_lost_one() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let bench = app.bench_session(&w).await;
    let t = bench.token.clone();
    let codes = app.codes(&t, w.site_a1, 3).await;
    let laptop = app.laptop(&t, &codes[0], "RELABEL-DRIVE").await;
    let other = app.laptop(&t, &codes[2], "OTHER-DRIVE").await;
    let dir = bench_dir(&app, &w, Station::Triage, Lang::Fr);
    let mut h = harness(dir.clone());
    scan(&mut h, &w.badge_tech_a1);
    wait(&mut h, "the sign-in", |a| {
        a.bench().is_some_and(|b| b.session.is_some())
    });

    // Another machine, scanned earlier at this bench.
    scan(&mut h, &codes[2]);
    wait(&mut h, "the other machine known", |a| {
        a.bench().is_some_and(|b| b.by_code(other.code).is_some())
    });

    // The label is gone: found by its serial number, typed in the search field.
    h.get_by_label("Chercher (code, n° de série, n° d'inventaire) :")
        .click();
    h.run();
    h.get_by_label("Chercher (code, n° de série, n° d'inventaire) :")
        .type_text(&format!("pf-{}", codes[0].to_lowercase()));
    h.run();
    key(&mut h, Key::Enter);
    wait(&mut h, "the machine found by serial", |a| {
        a.bench()
            .and_then(|b| b.current())
            .is_some_and(|k| k.view.id == laptop.id)
    });

    // Ctrl+R, then a label already on another item: refused on the bench.
    h.key_press_modifiers(Modifiers::COMMAND, Key::R);
    h.run();
    scan(&mut h, &codes[2]);
    assert!(flash_error(h.state()).is_some_and(|e| e.contains("déjà")));
    assert_eq!(waiting(h.state()), 0);
    // Ctrl+R, then a blank label.
    h.key_press_modifiers(Modifiers::COMMAND, Key::R);
    h.run();
    scan(&mut h, &codes[1]);
    wait(&mut h, "the new label to be sent", |a| waiting(a) == 0);
    let r: Resolved = app
        .get_ok(&format!("/api/v1/resolve?q={}", codes[1]), &t)
        .await;
    let Resolved::Item { item, replaced, .. } = r else {
        panic!("new label not on the item: {r:?}");
    };
    assert_eq!((item.id, replaced), (laptop.id, false));
    let r: Resolved = app
        .get_ok(&format!("/api/v1/resolve?q={}", codes[0]), &t)
        .await;
    assert!(
        matches!(r, Resolved::Item { ref item, replaced: true, .. } if item.id == laptop.id),
        "the old label still finds it, marked replaced: {r:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_are_scanned_into_the_open_weee_batch_and_a_server_refusal_shows_on_the_item() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let bench = app.bench_session(&w).await;
    let t = bench.token.clone();
    let batch: WeeeBatchView = app
        .post_ok(
            "/api/v1/weee-batches",
            &t,
            &json!({"site": w.site_a1, "recycler": w.recycler}),
        )
        .await;
    let codes = app.codes(&t, w.site_a1, 3).await;
    let mut monitors = Vec::new();
    for (c, grams) in codes.iter().zip([4200, 3000, 2500]) {
        let r: EventResponse = app
            .post_ok(
                "/api/v1/items",
                &t,
                &json!({"idempotency_key": format!("reg-{c}"), "code": c, "category": "monitor",
                    "no_drive": true, "weight_g": grams}),
            )
            .await;
        monitors.push(r.item);
    }
    // The first and third were triaged for recycling already; the second not yet.
    for m in [&monitors[0], &monitors[2]] {
        app.step_ok(
            &t,
            m,
            &format!("tri-{}", m.id),
            json!({"type": "triage", "route": "recycle"}),
        )
        .await;
    }

    let dir = bench_dir(&app, &w, Station::Recycling, Lang::Fr);
    let mut h = harness(dir.clone());
    scan(&mut h, &w.badge_tech_a1);
    wait(&mut h, "the sign-in and the open batch", |a| {
        a.bench().is_some_and(|b| b.weee_batch == Some(batch.id))
    });
    for c in &codes[..2] {
        scan(&mut h, c);
        wait(&mut h, "the monitor on screen", |a| {
            a.bench()
                .and_then(|b| b.current())
                .is_some_and(|k| k.view.code.as_str() == c.as_str())
        });
        key(&mut h, Key::Enter);
    }
    wait(&mut h, "the batch additions to be sent", |a| {
        waiting(a) == 0
    });
    assert_eq!(
        h.state()
            .bench()
            .and_then(|b| b.weee_running().map(|(_, g)| g)),
        Some(7200),
        "running weight on screen"
    );
    let b: WeeeBatchView = app
        .get_ok(&format!("/api/v1/weee-batches/{}", batch.id), &t)
        .await;
    assert_eq!(
        (b.item_count, b.items_weight_g),
        (2, 7200),
        "refused: {:?}",
        h.state().bench().map(|b| b.refusals())
    );

    // Meanwhile the batch is weighed and closed elsewhere; the bench, not knowing,
    // adds a third monitor: the server refuses, and the refusal is shown on the item.
    let _: WeeeBatchView = app
        .post_ok(
            &format!("/api/v1/weee-batches/{}/close", batch.id),
            &t,
            &json!({"weight_g": 7300}),
        )
        .await;
    scan(&mut h, &codes[2]);
    wait(&mut h, "the third monitor on screen", |a| {
        a.bench()
            .and_then(|b| b.current())
            .is_some_and(|k| k.view.code.as_str() == codes[2].as_str())
    });
    key(&mut h, Key::Enter);
    wait(&mut h, "the refusal", |a| {
        a.bench()
            .and_then(|b| b.current())
            .is_some_and(|k| k.refused.is_some())
    });
    assert!(flash_error(h.state()).is_some());
    assert_eq!(
        h.state().bench().map(|b| b.refusals().len()),
        Some(1),
        "kept in the journal as refused"
    );
    assert_eq!(item(&app, &t, &codes[2]).await.weee_batch, None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_bench_prints_the_part_label_itself_on_its_zpl_printer() {
    use std::io::Read;
    let mut app = TestApp::spawn().await;
    let w = app.world().await;
    let bench = app.bench_session(&w).await;
    let t = bench.token.clone();
    // A stand-in Zebra on loopback: every job it receives goes to the channel.
    let zebra = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = zebra.local_addr().expect("addr").port();
    let (jobs_tx, jobs) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for conn in zebra.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut job = String::new();
            let _ = c.read_to_string(&mut job);
            let _ = jobs_tx.send(job);
        }
    });
    let bench_id = bench.bench.as_ref().map(|b| b.id).expect("a bench session");
    let _: PrinterView = app
        .post_ok(
            "/api/v1/printers",
            &w.coord_a,
            &json!({"site": w.site_a1, "bench": bench_id, "name": "Zebra du poste", "kind": "zpl",
                "address": format!("127.0.0.1:{port}"), "dpi": 203, "media": "38x25"}),
        )
        .await;
    let codes = app.codes(&t, w.site_a1, 1).await;
    let donor = app.laptop(&t, &codes[0], "OFF-DRIVE").await;
    app.step_ok(
        &t,
        &donor,
        "h",
        json!({"type": "triage", "route": "harvest"}),
    )
    .await;

    let dir = bench_dir(&app, &w, Station::Teardown, Lang::Fr);
    let mut h = harness(dir.clone());
    scan(&mut h, &w.badge_tech_a1);
    wait(&mut h, "the sign-in, the printer and the codes", |a| {
        a.bench().is_some_and(|b| {
            b.settings.printer.is_some() && !b.own_codes.is_empty() && !b.printers.is_empty()
        })
    });
    scan(&mut h, &codes[0]);
    wait(&mut h, "the donor on screen", |a| {
        a.bench()
            .and_then(|b| b.current())
            .is_some_and(|k| k.view.state == ItemState::Harvesting)
    });

    // The server goes away; the bench notices at its next request.
    app.stop();
    scan(&mut h, &codes[0]);
    wait(&mut h, "offline", |a| {
        a.bench().is_some_and(|b| b.online == Some(false))
    });
    key(&mut h, Key::F2); // an SSD
    let part = h
        .state()
        .bench()
        .and_then(|b| b.harvested.first().map(|p| p.code))
        .expect("a part harvested");
    let job = jobs
        .recv_timeout(Duration::from_secs(10))
        .expect("the label printed while offline");
    assert!(
        job.starts_with("^XA") && job.trim_end().ends_with("^XZ"),
        "{job}"
    );
    assert!(
        job.contains(&format!("^FDQA,{}", part.as_str())),
        "the part's code in the QR: {job}"
    );

    // Back online: the harvest arrives; the label is not printed a second time.
    app.restart();
    wait(&mut h, "the harvest to be sent", |a| waiting(a) == 0);
    assert_eq!(item(&app, &t, part.as_str()).await.category, Category::Ssd);
    assert!(
        jobs.recv_timeout(Duration::from_millis(1500)).is_err(),
        "printed once"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sold_device_shows_its_buyers_reference_and_guarantee_at_the_bench() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let bench = app.bench_session(&w).await;
    let t = bench.token.clone();
    let code = app.codes(&t, w.site_a1, 1).await.remove(0);
    let mut laptop = app.laptop(&t, &code, "SOLD-DRIVE").await;
    for (k, step) in [
        ("t", json!({"type": "triage", "route": "refurbish"})),
        ("e", erase("SOLD-DRIVE")),
        ("q", qa_pass()),
        ("r", json!({"type": "mark_ready"})),
    ] {
        laptop = app
            .step_ok(&t, &laptop, &format!("sold-{k}"), step)
            .await
            .item;
    }
    // The site's seller, a beneficiary who declines the training, the sale.
    let op: OrganisationView = app
        .post_ok(
            "/api/v1/organisations",
            &w.admin,
            &json!({"name": "Atelier A", "kind": "operator", "region": w.region_a}),
        )
        .await;
    let (st, _) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/sites/{}", w.site_a1),
            Some(&w.admin),
            Some(&json!({"organisation": op.id})),
        )
        .await;
    assert_eq!(st.as_u16(), 200);
    let b: filiere_shared::social::BeneficiaryView = app
        .post_ok(
            "/api/v1/beneficiaries",
            &w.social_worker_a,
            &json!({"reference": "B-SOLD", "household_size": 1, "proof_type": "caf",
                "proof_date": chrono::Utc::now().date_naive().to_string(), "consent": true}),
        )
        .await;
    let r: filiere_shared::social::ReservationView = app
        .post_ok(
            "/api/v1/reservations",
            &w.social_worker_a,
            &json!({"item": laptop.id, "beneficiary": b.id,
                "pickup_at": (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339()}),
        )
        .await;
    let _: filiere_shared::social::ReservationView = app
        .post_ok(
            &format!("/api/v1/reservations/{}/training-refusal", r.id),
            &w.social_worker_a,
            &json!({"reason": "déjà formé"}),
        )
        .await;
    let _: filiere_shared::sales::SaleView = app
        .post_ok(
            "/api/v1/sales",
            &w.tech_a1,
            &json!({"reservation": r.id, "items": [{"item": laptop.id, "price_cents": 5000}],
                "payments": [{"method": "cash", "amount_cents": 5000}]}),
        )
        .await;

    let dir = bench_dir(&app, &w, Station::Qa, Lang::Fr);
    let mut h = harness(dir.clone());
    scan(&mut h, &w.badge_tech_a1);
    wait(&mut h, "the sign-in", |a| {
        a.bench().is_some_and(|b| b.session.is_some())
    });
    scan(&mut h, &code);
    wait(&mut h, "the sold laptop", |a| {
        a.bench()
            .and_then(|b| b.current())
            .is_some_and(|k| k.view.id == laptop.id && k.view.state == ItemState::Sold)
    });
    let until = filiere_shared::sales::guarantee_end(
        filiere_server::clock::Clock::default().date(chrono::Utc::now()),
    );
    h.get_by_label(&format!(
        "Vendu à B-SOLD — garanti jusqu'au {}",
        until.format("%d/%m/%Y")
    ));
    assert_eq!(waiting(h.state()), 0, "scanning it sends nothing");
    let _ = std::fs::remove_dir_all(&dir);
}

/// At reception the bench names the collection being unloaded, its pickup day written
/// as the pages and documents write it (day/month/year).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reception_names_the_collection_being_unloaded_with_its_pickup_day() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let c: CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &json!({"donor": w.donor_public, "site": w.site_a1, "pickup_date": "2026-11-20",
                "declared_count": 4, "legal_status": "reuse", "reference": "MAIRIE-2026-07"}),
        )
        .await;
    let dir = bench_dir(&app, &w, Station::Reception, Lang::Fr);
    let mut h = harness(dir.clone());
    scan(&mut h, &w.badge_tech_a1);
    wait(&mut h, "the collection chosen", |a| {
        a.bench().is_some_and(|b| b.collection == Some(c.id))
    });
    h.get_by_label(&format!("{} — 20/11/2026 (MAIRIE-2026-07)", c.donor_name));
    let _ = std::fs::remove_dir_all(&dir);
}
