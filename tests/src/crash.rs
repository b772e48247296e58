//! The clients and the checks of the crash and cluster runs (`filiere-crash`,
//! `filiere-cluster`): technicians' clients registering and erasing laptops, each
//! request with its idempotency key, sent again until answered; social workers'
//! clients reserving and cancelling; then the clients' logs held against the rows.

use rand::Rng;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a client learnt of one request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Answered 2xx: the item (or reservation) and its version.
    Acked { id: i64, version: i64 },
    /// Answered 4xx with this code: nothing of it may be written.
    Refused(String),
    /// No answer ever came (only for requests without a key).
    Unknown,
}

#[derive(Default)]
pub struct Log {
    /// Steps by (key owner's user name, idempotency key).
    pub steps: Vec<(String, String, Outcome)>,
    pub reservations: Vec<(i64, i64, Outcome)>,
    pub cancels: Vec<(i64, Outcome)>,
    pub tally: Tally,
}

/// Starts `filiere serve` on `addr` and the database `url`, its output appended to
/// `log`; `env` adds settings (`FILIERE_METRICS_BIND`, `FILIERE_TRUSTED_PROXIES`…).
pub fn start(
    server: &std::path::Path,
    url: &str,
    addr: &str,
    log: &std::path::Path,
    env: &[(&str, String)],
) -> Child {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("server log");
    Command::new(server)
        .args(["serve", "--bind", addr])
        .env("FILIERE_DATABASE_URL", url)
        .env("FILIERE_METRICS_BIND", "")
        .env("FILIERE_WORKERS", "2")
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::from(out.try_clone().expect("log")))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("start the server")
}

/// Waits for `/health` to answer; how long it took.
pub async fn wait_up(client: &reqwest::Client, base: &str) -> Duration {
    let t = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await
            && r.status().is_success()
        {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the server did not come back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The answers that were no answer: how many requests were sent again, and each
/// fault seen ("503 unavailable", "no answer"…) with how often.
#[derive(Default, Debug, Clone)]
pub struct Tally {
    pub retries: usize,
    pub faults: std::collections::BTreeMap<String, usize>,
}

/// Sends a request until it gets an answer (the server may be down or killed under
/// it, or its database); `retry` false: one try, `None` when no answer came.
pub async fn send(
    client: &reqwest::Client,
    req: impl Fn() -> reqwest::RequestBuilder,
    retry: bool,
    tally: &mut Tally,
    stop: &AtomicBool,
) -> Option<(u16, Value)> {
    loop {
        let fault = match req().send().await {
            // 500 and 503: the database went away, or the server with it; 502 and 504:
            // a proxy in front lost the server mid-request; 507: the disk is full.
            // Either way the request may or may not have been done: only its key makes
            // sending it again safe.
            Ok(r) if !matches!(r.status().as_u16(), 500 | 502 | 503 | 504 | 507) => {
                let status = r.status().as_u16();
                let body = r.json::<Value>().await.unwrap_or(Value::Null);
                return Some((status, body));
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.json::<Value>().await.unwrap_or(Value::Null);
                format!("{status} {}", code_of(&body))
            }
            Err(_) => "no answer".to_owned(),
        };
        *tally.faults.entry(fault).or_default() += 1;
        if !retry {
            return None;
        }
        // The run is over: what was not answered stays unknown.
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        tally.retries += 1;
        let _ = client;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What a step's answer says: acknowledged (the item and its version after it) or
/// refused with its code.
fn step_outcome(status: u16, v: &Value) -> Outcome {
    if status < 300 {
        Outcome::Acked {
            id: v["item"]["id"].as_i64().expect("item id"),
            version: v["item"]["version"].as_i64().expect("version"),
        }
    } else {
        Outcome::Refused(code_of(v))
    }
}

pub fn code_of(v: &Value) -> String {
    v["code"].as_str().unwrap_or("?").to_owned()
}

pub async fn login(client: &reqwest::Client, base: &str, user: &str) -> String {
    let stop = AtomicBool::new(false);
    let mut n = Tally::default();
    let (s, v) = send(
        client,
        || {
            client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": user, "password": filiere_server::demo::DEMO_PASSWORD}))
        },
        true,
        &mut n,
        &stop,
    )
    .await
    .expect("login");
    assert_eq!(s, 200, "login {user}: {v}");
    v["token"].as_str().expect("token").to_owned()
}

/// A technician's client: registers laptops and erases their drive until `stop`.
pub async fn technician(
    client: reqwest::Client,
    base: String,
    user: &'static str,
    me: usize,
    stop: Arc<AtomicBool>,
    ready: Arc<std::sync::atomic::AtomicUsize>,
) -> Log {
    let mut log = Log::default();
    let token = login(&client, &base, user).await;
    ready.fetch_add(1, Ordering::SeqCst);
    let auth = |rb: reqwest::RequestBuilder| rb.bearer_auth(&token);
    let (_, who) = send(
        &client,
        || auth(client.get(format!("{base}/api/v1/me"))),
        true,
        &mut log.tally,
        &stop,
    )
    .await
    .expect("me");
    let site = who["user"]["site"]
        .as_i64()
        .or(who["site"].as_i64())
        .expect("site");
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        // Ten codes at a time; a batch is no step, and a lost answer only wastes codes.
        let Some((200 | 201, batch)) = send(
            &client,
            || {
                auth(client.post(format!("{base}/api/v1/label-batches")))
                    .json(&json!({"site": site, "count": 10}))
            },
            true,
            &mut log.tally,
            &stop,
        )
        .await
        else {
            continue;
        };
        let codes: Vec<String> = batch["codes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        for code in codes {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let key = format!("crash-reg-{me}-{n}");
            let serial = format!("CR{me}X{n}");
            let body = json!({
                "idempotency_key": key,
                "code": code,
                "category": "laptop",
                "brand": "Dell",
                "model": "Latitude 5490",
                "serial": format!("PF-{code}"),
                "weight_g": 1700,
                "drives": [{"serial": serial, "size_gb": 256, "bus": "sata", "media": "ssd"}],
            });
            let Some((status, v)) = send(
                &client,
                || auth(client.post(format!("{base}/api/v1/items"))).json(&body),
                true,
                &mut log.tally,
                &stop,
            )
            .await
            else {
                break;
            };
            let outcome = step_outcome(status, &v);
            log.steps.push((user.to_owned(), key, outcome.clone()));
            n += 1;
            let Outcome::Acked { id, version } = outcome else {
                continue;
            };
            if n.is_multiple_of(10) {
                // Now and then a step on a version already gone: refused, never written.
                let key = format!("crash-stale-{me}-{n}");
                let body = json!({
                    "idempotency_key": key,
                    "expected_version": version - 1,
                    "command": crate::erase(&serial),
                });
                if let Some((status, v)) = send(
                    &client,
                    || auth(client.post(format!("{base}/api/v1/items/{id}/events"))).json(&body),
                    true,
                    &mut log.tally,
                    &stop,
                )
                .await
                {
                    log.steps
                        .push((user.to_owned(), key, step_outcome(status, &v)));
                }
            }
            let key = format!("crash-erase-{me}-{n}");
            let body = json!({
                "idempotency_key": key,
                "expected_version": version,
                "command": crate::erase(&serial),
            });
            let Some((status, v)) = send(
                &client,
                || auth(client.post(format!("{base}/api/v1/items/{id}/events"))).json(&body),
                true,
                &mut log.tally,
                &stop,
            )
            .await
            else {
                break;
            };
            let outcome = step_outcome(status, &v);
            log.steps.push((user.to_owned(), key, outcome));
        }
    }
    log
}

/// A social worker's client: reserves ready devices and cancels them until `stop`.
pub async fn social_worker(
    client: reqwest::Client,
    base: String,
    user: &'static str,
    stop: Arc<AtomicBool>,
    ready: Arc<std::sync::atomic::AtomicUsize>,
) -> Log {
    let mut log = Log::default();
    let token = login(&client, &base, user).await;
    ready.fetch_add(1, Ordering::SeqCst);
    let auth = |rb: reqwest::RequestBuilder| rb.bearer_auth(&token);
    let Some((200, list)) = send(
        &client,
        || auth(client.get(format!("{base}/api/v1/beneficiaries"))),
        true,
        &mut log.tally,
        &stop,
    )
    .await
    else {
        return log;
    };
    let people: Vec<i64> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["id"].as_i64())
        .collect();
    while !stop.load(Ordering::Relaxed) && !people.is_empty() {
        let Some((200, page)) = send(
            &client,
            || auth(client.get(format!("{base}/api/v1/catalogue"))),
            true,
            &mut log.tally,
            &stop,
        )
        .await
        else {
            continue;
        };
        let ready: Vec<i64> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["item"]["id"].as_i64())
            .collect();
        if ready.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let (item, person) = {
            let mut rng = rand::rng();
            (
                ready[rng.random_range(0..ready.len())],
                people[rng.random_range(0..people.len())],
            )
        };
        let pickup = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        let body = json!({"item": item, "beneficiary": person, "pickup_at": pickup});
        let answer = send(
            &client,
            || auth(client.post(format!("{base}/api/v1/reservations"))).json(&body),
            false,
            &mut log.tally,
            &stop,
        )
        .await;
        let outcome = match answer {
            Some((s, v)) if s < 300 => Outcome::Acked {
                id: v["id"].as_i64().expect("reservation id"),
                version: 0,
            },
            Some((_, v)) => Outcome::Refused(code_of(&v)),
            None => Outcome::Unknown,
        };
        log.reservations.push((item, person, outcome.clone()));
        if let Outcome::Acked { id, .. } = outcome {
            // Cancelling is safe to send again: a second time is refused, not doubled.
            let answer = send(
                &client,
                || {
                    auth(client.post(format!("{base}/api/v1/reservations/{id}/cancel")))
                        .json(&json!({"reason": "essai"}))
                },
                true,
                &mut log.tally,
                &stop,
            )
            .await;
            let outcome = match answer {
                Some((s, _)) if s < 300 => Outcome::Acked { id, version: 0 },
                Some((_, v)) => Outcome::Refused(code_of(&v)),
                None => Outcome::Unknown,
            };
            log.cancels.push((id, outcome));
        }
    }
    log
}

#[derive(diesel::QueryableByName)]
pub struct KeyRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    item_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    version: i64,
}

#[derive(diesel::QueryableByName)]
pub struct Res {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    item_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    beneficiary_id: i64,
}

/// What the check found: the counts, and every broken promise.
pub struct Report {
    pub problems: Vec<String>,
    pub acked: usize,
    pub refused: usize,
    pub reserved: usize,
    pub reservation_refused: usize,
    pub unknown: usize,
    pub cancels: usize,
    pub retries: usize,
    /// Every fault the clients saw, summed.
    pub faults: std::collections::BTreeMap<String, usize>,
}

/// Holds the clients' logs against the rows of the database at `url`.
pub fn check(url: &str, logs: &[Log]) -> Report {
    // The clients' logs against the rows.
    use diesel::RunQueryDsl;
    let mut conn = filiere_server::db::connect(url).expect("connect");
    let rows: Vec<KeyRow> = diesel::sql_query(
        "SELECT idempotency_key AS key, item_id, version FROM item_events \
         WHERE idempotency_key LIKE 'crash-%'",
    )
    .load(&mut conn)
    .expect("events");
    let mut by_key: HashMap<String, Vec<&KeyRow>> = HashMap::new();
    for r in &rows {
        by_key.entry(r.key.clone()).or_default().push(r);
    }
    let mut problems = Vec::new();
    let (mut acked, mut refused) = (0, 0);
    for log in logs {
        for (_, key, outcome) in &log.steps {
            let found = by_key.get(key).map(Vec::as_slice).unwrap_or(&[]);
            match outcome {
                Outcome::Acked { id, version } => {
                    acked += 1;
                    if found.len() != 1 {
                        problems.push(format!("{key}: acknowledged, {} rows", found.len()));
                    } else if found[0].item_id != *id || found[0].version > *version {
                        problems.push(format!(
                            "{key}: acknowledged on item {id} v{version}, stored on {} v{}",
                            found[0].item_id, found[0].version
                        ));
                    }
                }
                Outcome::Refused(code) => {
                    refused += 1;
                    if !found.is_empty() {
                        problems.push(format!("{key}: refused ({code}) yet written"));
                    }
                }
                Outcome::Unknown => {}
            }
        }
    }
    let torn = crate::TestApp::number(
        &mut conn,
        "SELECT COUNT(*) AS n FROM items i WHERE i.version <> \
         (SELECT COUNT(*) FROM item_events e WHERE e.item_id = i.id) \
         OR i.version <> (SELECT MAX(e.version) FROM item_events e WHERE e.item_id = i.id)",
    );
    if torn > 0 {
        problems.push(format!("{torn} items whose version is not their events'"));
    }
    let reservations: Vec<Res> =
        diesel::sql_query("SELECT id, item_id, beneficiary_id FROM reservations")
            .load(&mut conn)
            .expect("reservations");
    let stored: HashMap<i64, &Res> = reservations.iter().map(|r| (r.id, r)).collect();
    let (mut reserved, mut reservation_refused, mut unknown) = (0, 0, 0);
    for log in logs {
        for (item, person, outcome) in &log.reservations {
            match outcome {
                Outcome::Acked { id, .. } => {
                    reserved += 1;
                    match stored.get(id) {
                        Some(r) if r.item_id == *item && r.beneficiary_id == *person => {}
                        Some(_) => {
                            problems.push(format!("reservation {id}: another item or person"))
                        }
                        None => {
                            problems.push(format!("reservation {id}: acknowledged, not stored"))
                        }
                    }
                }
                Outcome::Refused(_) => reservation_refused += 1,
                Outcome::Unknown => unknown += 1,
            }
        }
    }
    let double = crate::TestApp::number(
        &mut conn,
        "SELECT COUNT(*) AS n FROM (SELECT item_id FROM reservations \
         WHERE status = 'active' GROUP BY item_id HAVING COUNT(*) > 1) d",
    );
    if double > 0 {
        problems.push(format!("{double} devices held by two reservations at once"));
    }
    let mut codes: HashMap<&str, usize> = HashMap::new();
    for log in logs {
        for (_, _, o) in &log.reservations {
            if let Outcome::Refused(c) = o {
                *codes.entry(c.as_str()).or_default() += 1;
            }
        }
    }
    let mut codes: Vec<_> = codes.into_iter().collect();
    codes.sort_by_key(|c| std::cmp::Reverse(c.1));
    println!("reservations refused by code: {codes:?}");
    let retries: usize = logs.iter().map(|l| l.tally.retries).sum();
    let mut faults = std::collections::BTreeMap::new();
    for log in logs {
        for (f, n) in &log.tally.faults {
            *faults.entry(f.clone()).or_default() += n;
        }
    }
    let cancels = logs.iter().map(|l| l.cancels.len()).sum::<usize>();
    Report {
        problems,
        acked,
        refused,
        reserved,
        reservation_refused,
        unknown,
        cancels,
        retries,
        faults,
    }
}

/// Waits until `n` clients have signed in (each login is an Argon2 check, slow in a
/// debug build), so that the faults fall on work, not on logins.
pub async fn all_signed_in(ready: &std::sync::atomic::AtomicUsize, n: usize) {
    let t = Instant::now();
    while ready.load(Ordering::SeqCst) < n && t.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `n` clients on `base` until `stop`, three in four technicians, the rest social
/// workers; answered once every one has signed in.
pub async fn signed_in_clients(
    n: usize,
    client: &reqwest::Client,
    base: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Log>> {
    const TECHNICIANS: [&str; 3] = ["tom", "ines", "malik"];
    const SOCIAL: [&str; 3] = ["sophie", "paul", "nadia"];
    let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let social = (n / 4).max(1);
    let tasks = (0..n)
        .map(|c| {
            let (client, base, stop) = (client.clone(), base.to_owned(), stop.clone());
            let ready = ready.clone();
            if c < social {
                tokio::spawn(social_worker(client, base, SOCIAL[c % 3], stop, ready))
            } else {
                tokio::spawn(technician(client, base, TECHNICIANS[c % 3], c, stop, ready))
            }
        })
        .collect::<Vec<_>>();
    all_signed_in(&ready, n).await;
    tasks
}

/// The `filiere` binary: the one given, else the one beside this program.
pub fn server_binary(given: Option<std::path::PathBuf>) -> std::path::PathBuf {
    given.unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("filiere")))
            .unwrap_or_else(|| "filiere".into())
    })
}
