//! Several server processes on one PostgreSQL database, behind nginx on loopback.
//!
//! ```sh
//! cargo build --workspace
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres target/debug/filiere-cluster
//! ```
//!
//! Three `filiere serve` processes (each with its metrics on an address of its own),
//! nginx in front of them (`proxy_pass` to the three, `X-Forwarded-For` set, loopback
//! trusted as the proxy). It checks, in this order:
//!
//! 1. the sweeps run once, not once per process: holds that have run out and
//!    beneficiaries kept long enough, made due before the three start at once, are
//!    released and anonymised once each (the events, and the three processes' metrics
//!    summed);
//! 2. the reservation race across processes has one winner;
//! 3. the clients' load spread over the three through nginx, one process killed with
//!    SIGKILL in the middle and started again: every acknowledged step in the
//!    database exactly once, as `filiere-crash` checks;
//! 4. a logout, and a revoked bench, apply in the other processes within the session
//!    cache's 10 s;
//! 5. the login throttle holds behind the proxy: counted per client address (from
//!    `X-Forwarded-For`), one client's failures do not lock out another, and a client
//!    writing its own `X-Forwarded-For` does not escape it.

use clap::Parser;
use filiere_server::db;
use filiere_tests::crash::{self, Log, start, wait_up};
use filiere_tests::open_db;
use serde_json::{Value, json};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Concurrent clients through nginx.
    #[arg(long, default_value_t = 48)]
    clients: usize,
    /// Seconds of load; one process is killed in the middle.
    #[arg(long, default_value_t = 12)]
    seconds: u64,
    /// The `filiere` binary (default: beside this one).
    #[arg(long)]
    server: Option<std::path::PathBuf>,
    #[arg(long, default_value = "nginx")]
    nginx: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn count(url: &str, sql: &str) -> i64 {
    let mut conn = db::connect(url).expect("connect");
    filiere_tests::TestApp::number(&mut conn, sql)
}

fn exec(url: &str, sql: &str) {
    use diesel::connection::SimpleConnection;
    db::connect(url)
        .expect("connect")
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The sum over the processes of the metric line starting with `prefix`.
async fn metric_sum(client: &reqwest::Client, metrics: &[String], prefix: &str) -> f64 {
    let mut sum = 0.0;
    for m in metrics {
        let text = match client.get(format!("http://{m}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        sum += text
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    sum
}

fn nginx_conf(dir: &std::path::Path, listen: u16, upstreams: &[String]) -> std::path::PathBuf {
    let d = dir.display();
    let servers: String = upstreams
        .iter()
        .map(|u| format!("        server {u} max_fails=1 fail_timeout=2s;\n"))
        .collect();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\nevents {{ worker_connections 1024; }}\n\
         http {{\n    access_log off;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n\
             upstream filiere {{\n{servers}        keepalive 32;\n    }}\n\
             server {{\n        listen 127.0.0.1:{listen};\n        location / {{\n\
                     proxy_pass http://filiere;\n            proxy_http_version 1.1;\n\
                     proxy_set_header Connection \"\";\n            proxy_set_header Host $host;\n\
                     proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                     proxy_set_header X-Forwarded-Proto $scheme;\n\
                     proxy_next_upstream error timeout;\n        }}\n    }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).expect("nginx.conf");
    path
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut rb = client.post(url).json(&body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    match rb.send().await {
        Ok(r) => {
            let s = r.status().as_u16();
            (s, r.json().await.unwrap_or(Value::Null))
        }
        Err(e) => (0, json!({"code": e.to_string()})),
    }
}

async fn status(client: &reqwest::Client, url: String, token: &str) -> u16 {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// How long after `since` every process answers 401 to `token`.
async fn signed_out_everywhere(
    client: &reqwest::Client,
    processes: &[String],
    token: &str,
    since: Instant,
) -> Duration {
    loop {
        let mut all = true;
        for p in processes {
            if status(client, format!("http://{p}/api/v1/me"), token).await != 401 {
                all = false;
            }
        }
        if all {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "still signed in after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("several processes share one PostgreSQL database: set TEST_DATABASE_URL");
        return std::process::ExitCode::FAILURE;
    };
    let server = crash::server_binary(args.server.clone());
    let name = format!("filiere_cluster_{}", std::process::id());
    exec(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
    exec(&admin, &format!("CREATE DATABASE {name}"));
    let base_url = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    let url = format!("{base_url}/{name}");
    {
        let db = open_db(&url, 1);
        let mut conn = db.write.get().expect("connection");
        filiere_server::demo::load(&mut conn, &filiere_server::demo::fixtures_dir())
            .expect("demo data");
    }

    // 1. Made due before the processes start: every active hold, and the
    // beneficiaries with neither reservation nor sale, registered long ago.
    exec(
        &url,
        "UPDATE reservations SET hold_until = CURRENT_TIMESTAMP - INTERVAL '1 day' \
         WHERE status = 'active'",
    );
    exec(
        &url,
        "UPDATE beneficiaries SET created_at = CURRENT_TIMESTAMP - INTERVAL '800 days' \
         WHERE erased_at IS NULL \
         AND id NOT IN (SELECT beneficiary_id FROM reservations) \
         AND id NOT IN (SELECT beneficiary_id FROM sales WHERE beneficiary_id IS NOT NULL)",
    );
    let holds = count(
        &url,
        "SELECT COUNT(*) AS n FROM reservations WHERE status = 'active'",
    );
    let due = {
        let mut conn = db::connect(&url).expect("connect");
        filiere_server::service::beneficiaries::due_for_anonymisation(
            &mut conn,
            filiere_server::config::Settings::default()
                .web()
                .expect("settings")
                .retention,
            filiere_server::models::now(),
            10_000,
        )
        .expect("due")
        .len() as i64
    };
    let expired_before = count(
        &url,
        "SELECT COUNT(*) AS n FROM item_events WHERE event_type = 'reservation_expired'",
    );
    let erased_before = count(
        &url,
        "SELECT COUNT(*) AS n FROM beneficiaries WHERE erased_at IS NOT NULL",
    );

    let dir = std::env::temp_dir().join(format!("filiere-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("servers.log");
    let processes: Vec<String> = (0..3)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let metrics: Vec<String> = (0..3)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let env = |i: usize| {
        vec![
            ("FILIERE_METRICS_BIND", metrics[i].clone()),
            ("FILIERE_TRUSTED_PROXIES", "[\"127.0.0.1\"]".to_owned()),
        ]
    };
    let mut children: Vec<Child> = (0..3)
        .map(|i| start(&server, &url, &processes[i], &log, &env(i)))
        .collect();
    let front = free_port();
    let conf = nginx_conf(&dir, front, &processes);
    let mut nginx = Command::new(&args.nginx)
        .args([
            "-c",
            &conf.display().to_string(),
            "-p",
            &dir.display().to_string(),
        ])
        .spawn()
        .expect("start nginx");
    let base = format!("http://127.0.0.1:{front}");
    println!(
        "3 processes on {}, behind nginx at {base}; logs in {}",
        processes.join(", "),
        dir.display()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut problems: Vec<String> = Vec::new();
    let outcome = rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        for p in &processes {
            wait_up(&client, &format!("http://{p}")).await;
        }
        wait_up(&client, &base).await;

        // 1. Each process swept once at its start.
        let t = Instant::now();
        while metric_sum(&client, &metrics, "filiere_sweeps_total{sweep=\"anonymise\"}").await < 3.0
            || metric_sum(&client, &metrics, "filiere_sweeps_total{sweep=\"expire_holds\"}").await < 3.0
        {
            assert!(t.elapsed() < Duration::from_secs(60), "the sweeps did not run");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let released = metric_sum(&client, &metrics, "filiere_swept_rows_total{sweep=\"expire_holds\"}").await;
        let anonymised = metric_sum(&client, &metrics, "filiere_swept_rows_total{sweep=\"anonymise\"}").await;
        let expired = count(&url, "SELECT COUNT(*) AS n FROM item_events WHERE event_type = 'reservation_expired'") - expired_before;
        let erased = count(&url, "SELECT COUNT(*) AS n FROM beneficiaries WHERE erased_at IS NOT NULL") - erased_before;
        println!(
            "sweeps: {holds} holds due, {released} released by the 3 processes together, {expired} expiry events; \
             {due} beneficiaries due, {anonymised} anonymised together, {erased} erased"
        );
        if holds == 0 || due == 0 {
            problems.push("nothing was due: the sweeps were not put to the test".into());
        }
        if released as i64 != holds || expired != holds {
            problems.push(format!("holds: {holds} due, {released} released, {expired} events"));
        }
        if anonymised as i64 != due || erased != due {
            problems.push(format!("anonymisation: {due} due, {anonymised} counted, {erased} erased"));
        }

        // 2. The race for one device, from the three processes at once.
        let sophie = crash::login(&client, &base, "sophie").await;
        let catalogue: Value = client
            .get(format!("{base}/api/v1/catalogue"))
            .bearer_auth(&sophie)
            .send()
            .await
            .expect("catalogue")
            .json()
            .await
            .expect("JSON");
        let item = catalogue["items"][0]["item"]["id"].as_i64().expect("a ready device");
        // Twelve new households, each allowed a computer.
        let mut people = Vec::new();
        let today = chrono::Utc::now().date_naive().to_string();
        for _ in 0..12 {
            let (s, b) = post(
                &client,
                format!("{base}/api/v1/beneficiaries"),
                Some(&sophie),
                json!({"household_size": 1, "proof_type": "caf", "proof_date": today, "consent": true}),
            )
            .await;
            assert!(s < 300, "new beneficiary: {b}");
            people.push(b["id"].as_i64().expect("id"));
        }
        let pickup = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        let race = people.iter().take(12).enumerate().map(|(i, person)| {
            let url = format!("http://{}/api/v1/reservations", processes[i % 3]);
            let body = json!({"item": item, "beneficiary": person, "pickup_at": pickup});
            let (client, sophie) = (client.clone(), sophie.clone());
            async move { post(&client, url, Some(&sophie), body).await }
        });
        let answers = futures_join_all(race).await;
        let winners = answers.iter().filter(|(s, _)| (200..300).contains(s)).count();
        let mut codes: Vec<String> = answers.iter().filter(|(s, _)| *s >= 300).map(|(_, v)| crash::code_of(v)).collect();
        codes.sort();
        codes.dedup();
        println!("race: {} requests for device {item} over 3 processes, {winners} winner; the others: {codes:?}", answers.len());
        if winners != 1 {
            problems.push(format!("the race for device {item} had {winners} winners"));
        }

        // 3. The load through nginx; one process killed in the middle.
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = crash::signed_in_clients(args.clients, &client, &base, &stop).await;
        let half = Duration::from_secs(args.seconds) / 2;
        tokio::time::sleep(half).await;
        children[1].kill().expect("SIGKILL");
        let _ = children[1].wait();
        println!("process 2 killed at {:.1} s", half.as_secs_f64());
        tokio::time::sleep(Duration::from_secs(2)).await;
        children[1] = start(&server, &url, &processes[1], &log, &env(1));
        wait_up(&client, &format!("http://{}", processes[1])).await;
        tokio::time::sleep(half.saturating_sub(Duration::from_secs(2))).await;
        stop.store(true, Ordering::Relaxed);
        let mut logs: Vec<Log> = Vec::new();
        for t in tasks {
            logs.push(t.await.expect("client"));
        }
        let served = metric_sum(&client, &metrics, "filiere_http_requests_total{route=\"/api/v1/items/{id}/events\",method=\"POST\",status=\"200\"}").await;

        // 4. A logout, then a revoked bench, everywhere within 10 s.
        let claire = crash::login(&client, &base, "claire").await;
        for p in &processes {
            status(&client, format!("http://{p}/api/v1/me"), &claire).await;
        }
        let t = Instant::now();
        let (s, _) = post(&client, format!("http://{}/api/v1/auth/logout", processes[0]), Some(&claire), json!({})).await;
        assert!(s < 300, "logout: {s}");
        let logout = signed_out_everywhere(&client, &processes, &claire, t).await;
        let (s, bench) = post(
            &client,
            format!("{base}/api/v1/auth/badge"),
            None,
            json!({"bench_token": "flb_demo_lyon_1", "badge": "FB7MT00014"}),
        )
        .await;
        assert_eq!(s, 200, "badge login: {bench}");
        let at_bench = bench["token"].as_str().expect("token").to_owned();
        let bench_id = bench["bench"]["id"].as_i64().expect("bench id");
        for p in &processes {
            status(&client, format!("http://{p}/api/v1/me"), &at_bench).await;
        }
        let admin = crash::login(&client, &base, "admin").await;
        let t = Instant::now();
        let revoked = client
            .delete(format!("http://{}/api/v1/benches/{bench_id}", processes[0]))
            .bearer_auth(&admin)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        assert_eq!(revoked, 200, "revoke");
        let bench_out = signed_out_everywhere(&client, &processes, &at_bench, t).await;
        println!(
            "signed out in every process after {:.1} s (logout) and {:.1} s (revoked bench)",
            logout.as_secs_f64(),
            bench_out.as_secs_f64()
        );
        let promised = filiere_server::auth::SESSION_CACHE_TTL + Duration::from_millis(500);
        if logout > promised || bench_out > promised {
            problems.push(format!("signed out after {logout:?} / {bench_out:?}, over 10 s"));
        }

        // 5. The login throttle behind the proxy: two clients, 127.0.0.2 and
        // 127.0.0.3, as nginx tells them apart.
        let from = |ip: &str| {
            reqwest::Client::builder()
                .local_address(ip.parse::<std::net::IpAddr>().expect("address"))
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client")
        };
        let (two, three) = (from("127.0.0.2"), from("127.0.0.3"));
        let login_url = format!("{base}/api/v1/auth/login");
        let limit = filiere_server::auth::ADDRESS_FAILURES;
        let mut refused_at = None;
        for n in 0..(limit + 2) {
            // A new name each time: the account's own counter never trips.
            let (s, v) = post(&two, login_url.clone(), None, json!({"username": format!("nobody{n}"), "password": "x"})).await;
            if crash::code_of(&v) == "too_many_attempts" {
                refused_at = Some(n);
                break;
            }
            assert_eq!(s, 401, "{v}");
        }
        let (_, spoofed) = post(&two, login_url.clone(), None, json!({"username": "tom", "password": filiere_server::demo::DEMO_PASSWORD}))
            .await;
        let spoof = two
            .post(login_url.clone())
            .header("x-forwarded-for", "203.0.113.77")
            .json(&json!({"username": "tom", "password": filiere_server::demo::DEMO_PASSWORD}))
            .send()
            .await
            .expect("login")
            .json::<Value>()
            .await
            .unwrap_or(Value::Null);
        let (other, _) = post(&three, login_url.clone(), None, json!({"username": "tom", "password": filiere_server::demo::DEMO_PASSWORD})).await;
        println!(
            "throttle behind nginx: 127.0.0.2 refused after {refused_at:?} failures (limit {limit}); \
             then even the right password: {}; with its own X-Forwarded-For: {}; 127.0.0.3 signs in: {other}",
            crash::code_of(&spoofed),
            crash::code_of(&spoof)
        );
        if refused_at != Some(limit)
            || crash::code_of(&spoofed) != "too_many_attempts"
            || crash::code_of(&spoof) != "too_many_attempts"
            || other != 200
        {
            problems.push("the login throttle did not hold behind the proxy".into());
        }
        (logs, served)
    });
    let (logs, served) = outcome;
    let r = crash::check(&url, &logs);
    println!(
        "load through nginx: {} steps acknowledged, {} refused; {} reservations, {} refused, {} unanswered; \
         {} requests sent again; the processes counted {served} erasure steps answered 200 (their metrics summed; the killed one's since its restart)",
        r.acked, r.refused, r.reserved, r.reservation_refused, r.unknown, r.retries
    );
    problems.extend(r.problems);
    let _ = nginx.kill();
    let _ = nginx.wait();
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    exec(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    if problems.is_empty() && r.acked > 0 {
        println!("all held");
        std::process::ExitCode::SUCCESS
    } else {
        for p in problems.iter().take(50) {
            eprintln!("{p}");
        }
        std::process::ExitCode::FAILURE
    }
}

/// Runs every future at once and collects their answers in order.
async fn futures_join_all<
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
>(
    futures: impl Iterator<Item = F>,
) -> Vec<T> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
