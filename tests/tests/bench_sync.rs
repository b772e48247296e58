//! The bench's journal against the real server: actions written while the server is
//! down arrive once it is back, in order, each once.

use filiere_shared::api::*;
use filiere_shared::*;
use filiere_tests::*;
use filiere_workstation::journal::Journal;
use filiere_workstation::sync::Sender;
use serde_json::{Value, json};
use std::time::Duration;

fn op(v: Value) -> BatchOp {
    serde_json::from_value(v).expect("a batch op")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_dependent_scans_made_while_the_server_is_down_all_arrive_in_order() {
    let mut app = TestApp::spawn().await;
    let w = app.world().await;
    let bench: SessionResponse = app
        .post_ok_anon(
            "/api/v1/auth/badge",
            &json!({"bench_token": w.bench_a1_token, "badge": w.badge_tech_a1}),
        )
        .await;
    let t = bench.token.clone();
    let codes = app.codes(&t, w.site_a1, 40).await;

    app.stop();
    let dir = std::env::temp_dir().join(format!(
        "filiere-sync-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("journal.jsonl");
    let mut journal = Journal::open(&path).expect("journal");
    // Register, triage, erase, test, ready: each step depends on the one before.
    for (i, c) in codes.iter().enumerate() {
        let drive = format!("SYNC-{i}");
        let ev = |k: &str, v: i64, cmd: Value| {
            op(
                json!({"op": "event", "item": c, "idempotency_key": format!("{c}-{k}"), "expected_version": v, "command": cmd}),
            )
        };
        journal
            .append(op(json!({"op": "register", "idempotency_key": format!("{c}-reg"), "code": c,
                "category": "laptop", "brand": "Dell", "model": "Latitude 5490", "drives": [{"serial": drive}]})))
            .expect("append");
        journal
            .append(ev(
                "triage",
                2,
                json!({"type": "triage", "route": "refurbish"}),
            ))
            .expect("append");
        journal
            .append(ev("erase", 3, erase(&drive)))
            .expect("append");
        journal.append(ev("qa", 4, qa_pass())).expect("append");
        journal
            .append(ev("ready", 5, json!({"type": "mark_ready"})))
            .expect("append");
    }
    assert_eq!(journal.waiting(), 200);

    // The server is down: the sender keeps trying, the journal keeps everything.
    let sender = Sender::new(&app.base, &t);
    let tried = tokio::time::timeout(Duration::from_millis(1500), sender.drain(&mut journal)).await;
    assert!(tried.is_err(), "still trying while the server is down");
    assert_eq!(journal.waiting(), 200);
    // The bench restarts too: the journal is read back from its file.
    drop(journal);
    let mut journal = Journal::open(&path).expect("journal after restart");
    assert_eq!(journal.waiting(), 200);

    app.restart();
    tokio::time::timeout(Duration::from_secs(120), sender.drain(&mut journal))
        .await
        .expect("sent within two minutes")
        .expect("sent");
    assert_eq!(journal.waiting(), 0);
    assert_eq!(journal.refused().count(), 0, "all accepted");

    // Every machine is ready, with its steps in the order they were made, each once.
    for c in &codes {
        let r: Resolved = app.get_ok(&format!("/api/v1/resolve?q={c}"), &t).await;
        let Resolved::Item { item, .. } = r else {
            panic!("{c} not registered: {r:?}");
        };
        assert_eq!(item.state, ItemState::Ready, "{c}");
        let h: HistoryView = app
            .get_ok(&format!("/api/v1/items/{}/history", item.id), &t)
            .await;
        assert_eq!(event_types(&h), REFURBISHED_PATH, "{c}");
    }
    // Sent again (the answer was lost): nothing new.
    let before = app.counts();
    let mut again = Journal::open(dir.join("again.jsonl")).expect("journal");
    let reg = op(
        json!({"op": "register", "idempotency_key": format!("{}-reg", codes[0]), "code": codes[0],
        "category": "laptop", "brand": "Dell", "model": "Latitude 5490", "drives": [{"serial": "SYNC-0"}]}),
    );
    again.append(reg).expect("append");
    sender.drain(&mut again).await.expect("sent");
    assert_eq!(app.counts(), before);
    let _ = std::fs::remove_dir_all(&dir);
}
