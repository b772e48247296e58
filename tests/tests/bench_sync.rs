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
    let bench = app.bench_session(&w).await;
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

/// Runs the bench agent; returns the child and a reader of its output lines.
fn agent(
    dir: &std::path::Path,
    base: &str,
    token: &str,
    ops: Option<&std::path::Path>,
    failpoint: Option<&str>,
    until_drained: bool,
) -> (
    std::process::Child,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_filiere-bench-agent"));
    cmd.arg("--dir")
        .arg(dir)
        .args(["--server", base, "--token", token])
        .stdout(std::process::Stdio::piped());
    if let Some(o) = ops {
        cmd.arg("--ops").arg(o);
    }
    if until_drained {
        cmd.arg("--until-drained");
    }
    match failpoint {
        Some(f) => cmd.env("FILIERE_FAILPOINT", f),
        None => cmd.env_remove("FILIERE_FAILPOINT"),
    };
    let mut child = cmd.spawn().expect("bench agent");
    let lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    (child, lines)
}

/// Reads lines until one equals `want` (the process must get there).
fn until(lines: &mut std::io::Lines<std::io::BufReader<std::process::ChildStdout>>, want: &str) {
    for l in lines.by_ref() {
        if l.expect("line") == want {
            return;
        }
    }
    panic!("the bench agent ended before {want:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bench_killed_between_journal_and_server_sends_every_action_exactly_once() {
    let mut app = TestApp::spawn().await;
    let w = app.world().await;
    let bench = app.bench_session(&w).await;
    let t = bench.token.clone();
    let codes = app.codes(&t, w.site_a1, 20).await;
    let mut ops = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        let drive = format!("KILL-{i}");
        let ev = |k: &str, v: i64, cmd: Value| {
            json!({"op": "event", "item": c, "idempotency_key": format!("{c}-{k}"),
                "expected_version": v, "command": cmd})
        };
        ops.push(
            json!({"op": "register", "idempotency_key": format!("{c}-reg"), "code": c,
            "category": "laptop", "drives": [{"serial": drive}]}),
        );
        ops.push(ev(
            "triage",
            2,
            json!({"type": "triage", "route": "refurbish"}),
        ));
        ops.push(ev("erase", 3, erase(&drive)));
        ops.push(ev("qa", 4, qa_pass()));
        ops.push(ev("ready", 5, json!({"type": "mark_ready"})));
    }
    let dir = std::env::temp_dir().join(format!(
        "filiere-kill-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let ops_file = dir.join("ops.json");
    std::fs::write(&ops_file, serde_json::to_vec(&ops).expect("json")).expect("ops");
    let bench_dir = dir.join("bench");

    // 1. The network is down: 100 actions journaled, none sent; SIGKILL.
    app.stop();
    let (mut child, mut lines) = agent(&bench_dir, &app.base, &t, Some(&ops_file), None, false);
    until(&mut lines, "journaled 100");
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let before = app.counts();

    // 2. The network is back; the first batch reaches the server, and the bench is
    //    killed after the server applied it, before the journal records the answers.
    app.restart();
    let (mut child, mut lines) = agent(&bench_dir, &app.base, &t, None, Some("after_send"), false);
    until(&mut lines, "failpoint after_send");
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_ne!(app.counts(), before, "the first batch was applied");

    // 3. Restarted normally: it sends everything again from its journal.
    let (mut child, mut lines) = agent(&bench_dir, &app.base, &t, None, None, true);
    let mut last = String::new();
    for l in lines.by_ref() {
        let l = l.expect("line");
        if l == "drained" {
            break;
        }
        last = l;
    }
    assert!(child.wait().expect("exit").success());
    assert_eq!(last, "settled 100 0", "every action accepted, none refused");

    // Exactly once, in order.
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
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_that_breaks_its_schema_is_refused_alone_and_the_others_arrive() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let bench = app.bench_session(&w).await;
    let t = bench.token.clone();
    let codes = app.codes(&t, w.site_a1, 3).await;
    let dir = std::env::temp_dir().join(format!(
        "filiere-sync-schema-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut journal = Journal::open(dir.join("journal.jsonl")).expect("journal");
    for (i, c) in codes.iter().enumerate() {
        // The second machine's model, pasted from a spreadsheet, is far too long.
        let model = if i == 1 {
            "X".repeat(300)
        } else {
            "Latitude 5490".to_owned()
        };
        journal
            .append(op(
                json!({"op": "register", "idempotency_key": format!("{c}-reg"), "code": c,
                "category": "laptop", "model": model, "no_drive": true}),
            ))
            .expect("append");
    }
    let sender = Sender::new(&app.base, &t);
    tokio::time::timeout(Duration::from_secs(30), sender.drain(&mut journal))
        .await
        .expect("not stuck on the refused action")
        .expect("sent");
    assert_eq!(journal.waiting(), 0);
    let refused: Vec<_> = journal.refused().collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    let (entry, error) = refused[0];
    assert_eq!(entry.op.idempotency_key(), format!("{}-reg", codes[1]));
    assert_eq!(error.code, ErrorCode::InvalidInput, "{error:?}");
    for (i, c) in codes.iter().enumerate() {
        let (status, found) = app.get(&format!("/api/v1/resolve?q={c}"), &t).await;
        assert_eq!(status, 200);
        let kind = if i == 1 { "unclaimed_code" } else { "item" };
        assert_eq!(found["kind"], kind, "{c}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
