//! A beneficiary's identity stays with the organisation that refers them. The demo's
//! beneficiaries are given a contact and notes (where a name or a telephone number
//! would be); then every API route that reads and every page is asked, for the first
//! records of each kind, as nobody, as a technician, a coordinator, an admin and the
//! social workers of each organisation, and a reservation and a change are tried on
//! each beneficiary by everyone. No answer to anyone outside a beneficiary's
//! organisation (JSON, page, CSV, or the text of a PDF), no error message, and no log
//! line of the whole run at any level may hold that contact or those notes; no log
//! line may hold a beneficiary's reference either.

use filiere_server::app::ROUTES;
use filiere_server::web::PAGES;
use filiere_tests::*;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// Every log line of this test process, at every level.
fn log_lines() -> &'static Mutex<Vec<u8>> {
    static LINES: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LINES.get_or_init(|| Mutex::new(Vec::new()))
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut lines) = log_lines().lock() {
            lines.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The concrete paths of a template for the first `n` records.
fn paths(template: &str, n: i64) -> Vec<String> {
    let fill = |id: i64| {
        template
            .split('/')
            .map(|s| match s {
                "{id}" => id.to_string(),
                "{which}" => "outgoing.csv".to_owned(),
                "{category}" | "{key}" => "laptop".to_owned(),
                s if s.starts_with('{') => "X".to_owned(),
                s => s.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    if template.contains('{') {
        (1..=n).map(fill).collect()
    } else {
        vec![fill(0)]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_beneficiary_identity_reaches_anyone_outside_their_organisation() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(|| Capture)
        .try_init();
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    filiere_server::demo::load(&mut conn, &filiere_server::demo::fixtures_dir())
        .expect("demo data");
    {
        use diesel::connection::SimpleConnection;
        conn.batch_execute(
            "UPDATE beneficiaries SET contact = 'Joignable ' || reference, \
             notes = 'Suivi ' || reference",
        )
        .expect("identities");
    }
    #[derive(diesel::QueryableByName)]
    struct Person {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        reference: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        organisation_id: i64,
    }
    use diesel::RunQueryDsl;
    let people: Vec<Person> =
        diesel::sql_query("SELECT id, reference, organisation_id FROM beneficiaries")
            .load(&mut conn)
            .expect("beneficiaries");
    assert!(people.len() >= 10);
    let org_of = |user: &str| -> Option<i64> {
        let n = TestApp::number(
            &mut app.conn(),
            &format!(
                "SELECT COALESCE(organisation_id, 0) AS n FROM users WHERE username = '{user}'"
            ),
        );
        (n > 0).then_some(n)
    };
    let max_id = people.iter().map(|p| p.id).max().unwrap_or(1);

    let browser = reqwest::Client::new();
    let callers: [Option<&str>; 7] = [
        None,
        Some("tom"),
        Some("claire"),
        Some("admin"),
        Some("sophie"),
        Some("paul"),
        Some("nadia"),
    ];
    // Who was answered what: (caller, method and path, text of the answer).
    let mut answers: Vec<(String, Option<i64>, String, String)> = Vec::new();
    for caller in callers {
        let token = match caller {
            Some(u) => Some(app.login_with(u, filiere_server::demo::DEMO_PASSWORD).await),
            None => None,
        };
        let org = caller.and_then(org_of);
        let name = caller.unwrap_or("nobody").to_owned();
        let mut requests: Vec<(reqwest::Method, String, Option<serde_json::Value>, bool)> =
            Vec::new();
        for (template, methods) in ROUTES {
            if methods.contains(&"get") && !template.contains("logout") {
                for p in paths(template, max_id.min(12)) {
                    requests.push((reqwest::Method::GET, p, None, false));
                }
            }
        }
        for (template, methods) in PAGES {
            if methods.contains(&"get") {
                for p in paths(template, max_id.min(12)) {
                    requests.push((reqwest::Method::GET, p, None, true));
                }
            }
        }
        // Refusals that name a beneficiary: a reservation, a change.
        for p in &people {
            requests.push((
                reqwest::Method::POST,
                "/api/v1/reservations".into(),
                Some(serde_json::json!({"item": 1, "beneficiary": p.id,
                    "pickup_at": "2026-12-01T10:00:00Z"})),
                false,
            ));
            requests.push((
                reqwest::Method::PATCH,
                format!("/api/v1/beneficiaries/{}", p.id),
                Some(serde_json::json!({"household_size": 0})),
                false,
            ));
        }
        for (method, path, body, page) in requests {
            let mut rb = browser.request(method.clone(), format!("{}{path}", app.base));
            if let Some(t) = &token {
                rb = if page {
                    rb.header("cookie", format!("filiere_session={t}"))
                } else {
                    rb.bearer_auth(t)
                };
            }
            if let Some(b) = &body {
                rb = rb.json(b);
            }
            let Ok(resp) = rb.send().await else { continue };
            let pdf = resp
                .headers()
                .get("content-type")
                .is_some_and(|t| t.as_bytes().starts_with(b"application/pdf"));
            let bytes = resp.bytes().await.unwrap_or_default();
            let text = if pdf {
                pdf_text(&bytes).unwrap_or_default()
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            answers.push((name.clone(), org, format!("{method} {path}"), text));
        }
    }
    drop(app);

    let mut leaks = Vec::new();
    let mut seen_by_own = 0;
    for (caller, org, what, text) in &answers {
        for p in &people {
            let contact = format!("Joignable {}", p.reference);
            let notes = format!("Suivi {}", p.reference);
            if text.contains(&contact) || text.contains(&notes) {
                if *org == Some(p.organisation_id) {
                    seen_by_own += 1;
                } else {
                    leaks.push(format!("{caller}: {what} shows {}'s identity", p.reference));
                }
            }
        }
    }
    // The test would pass on a server that showed nobody anything: the organisation's
    // own social worker does see them.
    assert!(
        seen_by_own > 0,
        "no answer showed any identity, even to its organisation"
    );
    let logs = String::from_utf8_lossy(&log_lines().lock().expect("logs")).into_owned();
    assert!(
        logs.lines().count() > 1000,
        "the log was captured: {} lines",
        logs.lines().count()
    );
    let mut in_logs: HashMap<String, String> = HashMap::new();
    for line in logs.lines() {
        for p in &people {
            if line.contains(&p.reference) {
                in_logs
                    .entry(p.reference.clone())
                    .or_insert_with(|| line.to_owned());
            }
        }
    }
    for (r, line) in &in_logs {
        leaks.push(format!("log line with {r}: {line}"));
    }
    assert!(
        leaks.is_empty(),
        "{} leaks (of {} answers checked):\n{}",
        leaks.len(),
        answers.len(),
        leaks
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!(
        "{} answers and {} log lines checked; the organisations' own saw {seen_by_own} identities",
        answers.len(),
        logs.lines().count()
    );
}
