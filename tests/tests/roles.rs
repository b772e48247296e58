//! The role table, tested from the route table itself: every route of the API, as
//! every role and as nobody, on the demo data set, with a body its schema accepts. A
//! route that is not in the table below fails the test, and so does a route that
//! lets in a role the table does not name, or refuses one it names.
//!
//! "Refused" is a 401 `unauthenticated` or a 403 `forbidden`; anything else (an
//! answer, a 404 out of scope, a 422 rule) means the role got past the door.

use filiere_server::app::ROUTES;
use filiere_tests::schema::{document, example, example_body, example_query};
use filiere_tests::*;
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;

/// Who may call each route: `*` anyone (no login), or the roles that may, as
/// letters: `A` admin, `C` coordinator, `T` technician, `S` social worker.
const RULES: &[(&str, &str, &str)] = &[
    ("get", "/api/openapi.json", "*"),
    ("post", "/api/v1/after-sales/{id}/hand-back", "CT"),
    ("post", "/api/v1/after-sales/{id}/settle", "CT"),
    ("get", "/api/v1/asset-imports/{id}", "ACT"),
    ("post", "/api/v1/auth/badge", "*"),
    ("post", "/api/v1/auth/login", "*"),
    ("post", "/api/v1/auth/logout", "ACTS"),
    ("post", "/api/v1/auth/set-password", "*"),
    ("get", "/api/v1/benches", "A"),
    ("post", "/api/v1/benches", "A"),
    ("delete", "/api/v1/benches/{id}", "A"),
    ("get", "/api/v1/beneficiaries", "S"),
    ("post", "/api/v1/beneficiaries", "S"),
    ("get", "/api/v1/beneficiaries/{id}", "S"),
    ("patch", "/api/v1/beneficiaries/{id}", "S"),
    ("post", "/api/v1/beneficiaries/{id}/erase", "S"),
    ("get", "/api/v1/beneficiaries/{id}/export", "S"),
    ("get", "/api/v1/beneficiary-counts", "C"),
    ("post", "/api/v1/bookings", "S"),
    ("delete", "/api/v1/bookings/{id}", "CS"),
    ("get", "/api/v1/bookings/{id}/documents", "CS"),
    ("post", "/api/v1/bookings/{id}/documents", "CS"),
    ("get", "/api/v1/catalogue", "ACS"),
    ("get", "/api/v1/catalogue/{id}", "ACS"),
    ("get", "/api/v1/collections", "ACT"),
    ("post", "/api/v1/collections", "AC"),
    ("get", "/api/v1/collections/{id}", "ACT"),
    ("post", "/api/v1/collections/{id}/asset-list", "ACT"),
    ("post", "/api/v1/collections/{id}/close", "AC"),
    ("get", "/api/v1/collections/{id}/documents", "ACT"),
    ("post", "/api/v1/collections/{id}/documents", "ACT"),
    ("get", "/api/v1/dashboards/aging", "ACT"),
    ("get", "/api/v1/dashboards/collections", "ACT"),
    ("get", "/api/v1/dashboards/demand", "ACT"),
    ("get", "/api/v1/dashboards/flows", "ACT"),
    ("get", "/api/v1/dashboards/impact", "ACT"),
    ("get", "/api/v1/dashboards/impact.pdf", "ACT"),
    ("get", "/api/v1/dashboards/settings", "ACT"),
    ("patch", "/api/v1/dashboards/settings", "A"),
    ("get", "/api/v1/dashboards/stock", "ACT"),
    ("get", "/api/v1/documents/{id}/pdf", "ACTS"),
    ("post", "/api/v1/erasure-reports", "ACT"),
    ("post", "/api/v1/events/batch", "ACT"),
    ("get", "/api/v1/items", "ACTS"),
    ("post", "/api/v1/items", "ACT"),
    ("get", "/api/v1/items/{id}", "ACTS"),
    ("get", "/api/v1/items/{id}/documents", "ACT"),
    ("post", "/api/v1/items/{id}/documents", "CT"),
    ("post", "/api/v1/items/{id}/events", "ACT"),
    ("get", "/api/v1/items/{id}/history", "ACTS"),
    ("get", "/api/v1/label-batches", "ACT"),
    ("post", "/api/v1/label-batches", "ACT"),
    ("get", "/api/v1/label-templates", "ACT"),
    ("post", "/api/v1/label-templates", "AC"),
    ("post", "/api/v1/labels/print", "ACT"),
    ("post", "/api/v1/labels/render", "ACT"),
    ("get", "/api/v1/me", "ACTS"),
    ("post", "/api/v1/me/password", "ACTS"),
    ("get", "/api/v1/need-counts", "C"),
    ("get", "/api/v1/needs", "S"),
    ("post", "/api/v1/needs", "S"),
    ("delete", "/api/v1/needs/{id}", "S"),
    ("get", "/api/v1/offers", "AC"),
    ("get", "/api/v1/offers/{id}", "AC"),
    ("post", "/api/v1/offers/{id}/accept", "AC"),
    ("post", "/api/v1/offers/{id}/decline", "AC"),
    ("get", "/api/v1/organisations", "ACTS"),
    ("post", "/api/v1/organisations", "AC"),
    ("get", "/api/v1/organisations/{id}", "ACTS"),
    ("patch", "/api/v1/organisations/{id}", "A"),
    ("put", "/api/v1/price-caps/{category}", "A"),
    ("post", "/api/v1/price-rules", "AC"),
    ("delete", "/api/v1/price-rules/{id}", "AC"),
    ("get", "/api/v1/prices", "ACS"),
    ("get", "/api/v1/printers", "ACT"),
    ("post", "/api/v1/printers", "AC"),
    ("get", "/api/v1/proof-types", "ACTS"),
    ("get", "/api/v1/regions", "ACTS"),
    ("post", "/api/v1/regions", "A"),
    ("patch", "/api/v1/regions/{id}", "AC"),
    ("get", "/api/v1/registers/incoming.csv", "ACT"),
    ("get", "/api/v1/registers/outgoing.csv", "ACT"),
    ("get", "/api/v1/reservations", "CS"),
    ("post", "/api/v1/reservations", "S"),
    ("get", "/api/v1/reservations/{id}", "CS"),
    ("post", "/api/v1/reservations/{id}/cancel", "CS"),
    ("post", "/api/v1/reservations/{id}/training-refusal", "S"),
    ("get", "/api/v1/reservations/{id}/voucher.pdf", "CS"),
    ("get", "/api/v1/resolve", "ACTS"),
    ("get", "/api/v1/sales", "CTS"),
    ("post", "/api/v1/sales", "CT"),
    ("get", "/api/v1/sales/{id}", "CTS"),
    ("get", "/api/v1/sales/{id}/invoice.pdf", "CTS"),
    ("post", "/api/v1/sales/{id}/returns", "CT"),
    ("get", "/api/v1/sites", "ACTS"),
    ("post", "/api/v1/sites", "A"),
    ("patch", "/api/v1/sites/{id}", "A"),
    ("get", "/api/v1/sites/{id}/counter", "CT"),
    ("get", "/api/v1/training-sessions", "ACS"),
    ("post", "/api/v1/training-sessions", "AC"),
    ("get", "/api/v1/training-sessions/{id}", "ACS"),
    ("post", "/api/v1/training-sessions/{id}/attendance", "AC"),
    (
        "get",
        "/api/v1/training-sessions/{id}/attendance-sheet.pdf",
        "AC",
    ),
    ("get", "/api/v1/training-topics", "ACTS"),
    ("get", "/api/v1/users", "A"),
    ("post", "/api/v1/users", "A"),
    ("patch", "/api/v1/users/{id}", "A"),
    ("post", "/api/v1/users/{id}/setup-link", "A"),
    ("get", "/api/v1/verify/{id}", "*"),
    ("post", "/api/v1/verify/{id}", "*"),
    ("get", "/api/v1/weee-batches", "ACT"),
    ("post", "/api/v1/weee-batches", "ACT"),
    ("get", "/api/v1/weee-batches/{id}", "ACT"),
    ("post", "/api/v1/weee-batches/{id}/close", "ACT"),
    ("get", "/api/v1/weee-batches/{id}/documents", "ACT"),
    ("post", "/api/v1/weee-batches/{id}/documents", "ACT"),
    ("post", "/api/v1/weee-batches/{id}/handover", "ACT"),
    ("get", "/health", "*"),
];

/// The callers, in the order they are tried: nobody, then the demo's people.
const CALLERS: [(char, Option<&str>); 5] = [
    ('-', None),
    ('S', Some("sophie")),
    ('T', Some("tom")),
    ('C', Some("claire")),
    ('A', Some("admin")),
];

/// A path of the route table with each parameter given a value of its schema.
fn concrete(method: &str, template: &str) -> String {
    let op = &document()["paths"][template][method];
    let mut path = template.to_owned();
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] == "path" {
            let value = match example(&p["schema"]) {
                Value::String(s) => s,
                other => other.to_string(),
            };
            path = path.replace(&format!("{{{}}}", p["name"].as_str().unwrap_or("")), &value);
        }
    }
    path + &example_query(method, template)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_lets_in_exactly_the_roles_of_the_table() {
    let app = TestApp::spawn().await;
    filiere_server::demo::load(&mut app.conn(), &filiere_server::demo::fixtures_dir())
        .expect("demo data");
    let rules: BTreeMap<(&str, &str), &str> =
        RULES.iter().map(|(m, p, who)| ((*m, *p), *who)).collect();
    let mut operations: Vec<(&str, &str)> = ROUTES
        .iter()
        .flat_map(|(path, methods)| methods.iter().map(move |m| (*m, *path)))
        .collect();
    // Logging out ends the session the other calls use: last.
    operations.sort_by_key(|(_, p)| *p == "/api/v1/auth/logout");

    let mut observed: BTreeMap<(&str, &str), String> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (letter, user) in CALLERS {
        let token = match user {
            Some(u) => Some(app.login_with(u, filiere_server::demo::DEMO_PASSWORD).await),
            None => None,
        };
        for &(method, template) in &operations {
            let path = concrete(method, template);
            let body = example_body(method, template);
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
            let (status, _, bytes) = app
                .raw(
                    m,
                    &path,
                    token.as_deref(),
                    body.as_ref().map(|(t, b)| (t.as_str(), b.clone())),
                )
                .await;
            // A 502 is a printer that does not answer: an answer, not a fault.
            assert!(
                status.as_u16() != 500,
                "{method} {path} as {letter}: {status} {}",
                String::from_utf8_lossy(&bytes)
            );
            let code = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            let refused = matches!(
                (status.as_u16(), code.as_str()),
                (401, "unauthenticated") | (403, "forbidden")
            );
            let entry = observed.entry((method, template)).or_default();
            if !refused {
                entry.push(letter);
            }
            if let Some(who) = rules.get(&(method, template)) {
                let expected = *who == "*" || who.contains(letter);
                if expected == refused {
                    wrong.push(format!(
                        "{method} {template} as {letter}: {status} {code} (table: {who})"
                    ));
                }
            }
        }
    }
    let missing: Vec<String> = observed
        .iter()
        .filter(|(k, _)| !rules.contains_key(*k))
        .map(|((m, p), who)| {
            let who = if who.contains('-') {
                "*".to_owned()
            } else {
                who.clone()
            };
            format!("    (\"{m}\", \"{p}\", \"{who}\"),")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a rule (as observed):\n{}",
        missing.join("\n")
    );
    let stale: Vec<_> = rules
        .keys()
        .filter(|k| !observed.contains_key(*k))
        .collect();
    assert!(stale.is_empty(), "rules of no route: {stale:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Who may open each page (`GET`), as [`RULES`]: `*` anyone, else the roles' letters.
/// A page's forms (`POST`) lead to the same operations as the API's routes, whose
/// rules are above; here every form is refused to nobody signed in.
const PAGE_RULES: &[(&str, &str)] = &[
    ("/", "ACTS"),
    ("/I/{code}", "ACTS"),
    ("/R/{id}", "CS"),
    ("/account/password", "ACTS"),
    ("/admin", "A"),
    ("/admin/benches", "A"),
    ("/admin/dashboards", "A"),
    ("/admin/regions", "A"),
    ("/admin/sites", "A"),
    ("/admin/sites/{id}", "A"),
    ("/admin/users", "A"),
    ("/admin/users/{id}", "A"),
    ("/asset-imports/{id}", "ACT"),
    ("/beneficiaries", "S"),
    ("/beneficiaries/new", "S"),
    ("/beneficiaries/{id}", "S"),
    ("/beneficiaries/{id}/export", "S"),
    ("/catalogue", "ACS"),
    ("/catalogue/{id}", "ACS"),
    ("/collections", "ACT"),
    ("/collections/{id}", "ACT"),
    ("/counter", "CT"),
    ("/counter/partner", "C"),
    ("/counter/reservations/{id}", "CT"),
    ("/counter/scan", "CT"),
    ("/dashboards", "ACT"),
    ("/dashboards/aging", "ACT"),
    ("/dashboards/aging.csv", "ACT"),
    ("/dashboards/collections", "ACT"),
    ("/dashboards/collections.csv", "ACT"),
    ("/dashboards/demand", "ACT"),
    ("/dashboards/demand.csv", "ACT"),
    ("/dashboards/flows", "ACT"),
    ("/dashboards/flows.csv", "ACT"),
    ("/dashboards/impact", "ACT"),
    ("/dashboards/impact.csv", "ACT"),
    ("/dashboards/impact.pdf", "ACT"),
    ("/dashboards/items", "ACT"),
    ("/dashboards/items.csv", "ACT"),
    ("/dashboards/parts.csv", "ACT"),
    ("/dashboards/stock", "ACT"),
    ("/dashboards/stock.csv", "ACT"),
    ("/documents/{id}/pdf", "ACTS"),
    ("/i/{code}", "ACTS"),
    ("/labels", "ACT"),
    ("/labels/{id}", "ACT"),
    ("/login", "*"),
    ("/lookup", "ACTS"),
    ("/offer", "*"),
    ("/offers", "AC"),
    ("/offers/{id}", "AC"),
    ("/open-data", "*"),
    ("/open-data/", "*"),
    ("/open-data/regions-months.csv", "*"),
    ("/open-data/regions-months.json", "*"),
    ("/organisations", "AC"),
    ("/organisations/{id}", "AC"),
    ("/prices", "ACS"),
    ("/r/{id}", "CS"),
    ("/registers/{which}", "ACT"),
    ("/reservations/{id}", "CS"),
    ("/reservations/{id}/voucher.pdf", "CS"),
    ("/sales", "CTS"),
    ("/sales/{id}", "CTS"),
    ("/sales/{id}/invoice.pdf", "CTS"),
    ("/setup/{token}", "*"),
    ("/static/style.css", "*"),
    ("/training", "ACS"),
    ("/training/{id}", "ACS"),
    ("/training/{id}/attendance-sheet.pdf", "AC"),
    ("/v", "*"),
    ("/v/{id}", "*"),
    ("/weee", "ACT"),
    ("/weee/{id}", "ACT"),
];

/// The headers every page carries (and what each must say): no script or style
/// from elsewhere nor inline, never framed, no sniffing, no referrer to other sites.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
];

/// A page path with each parameter given a value.
fn page_path(template: &str) -> String {
    template
        .split('/')
        .map(|s| match s {
            "{id}" => "1",
            "{which}" => "outgoing.csv",
            "{key}" => "laptop",
            s if s.starts_with('{') => "X",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_opens_for_exactly_the_roles_of_the_table() {
    use filiere_server::web::PAGES;
    let app = TestApp::spawn().await;
    filiere_server::demo::load(&mut app.conn(), &filiere_server::demo::fixtures_dir())
        .expect("demo data");
    // A page that only sends elsewhere (`/dashboards`, a voucher's `/r/…`) is judged
    // by where it leads; a form by its own answer.
    let browser = reqwest::Client::new();
    let poster = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let rules: BTreeMap<&str, &str> = PAGE_RULES.iter().copied().collect();
    let mut observed: BTreeMap<&str, String> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (letter, user) in CALLERS {
        let token = match user {
            Some(u) => Some(app.login_with(u, filiere_server::demo::DEMO_PASSWORD).await),
            None => None,
        };
        for (template, methods) in PAGES {
            for method in *methods {
                let path = page_path(template);
                let mut rb = match *method {
                    "get" => browser.get(format!("{}{path}", app.base)),
                    _ => poster
                        .post(format!("{}{path}", app.base))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body("x=1"),
                };
                if let Some(t) = &token {
                    rb = rb.header("cookie", format!("filiere_session={t}"));
                }
                let resp = rb.send().await.expect("request");
                let status = resp.status().as_u16();
                let to_login = (resp.url().path() == "/login" && *template != "/login")
                    || resp
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .is_some_and(|l| l.starts_with("/login"));
                assert!(status != 500, "{method} {path} as {letter}: 500");
                // Every answer, page, file or refusal, with the security headers.
                for (name, value) in SECURITY_HEADERS {
                    let got = resp.headers().get(name).and_then(|v| v.to_str().ok());
                    assert!(
                        got.is_some_and(|g| g.contains(value)),
                        "{method} {path} as {letter}: {name} is {got:?}"
                    );
                }
                let refused = to_login || status == 403;
                if *method != "get" {
                    // Nobody signed in: every form but the public ones leads to the
                    // login page.
                    let public = matches!(
                        *template,
                        "/login"
                            | "/logout"
                            | "/language"
                            | "/offer"
                            | "/setup/{token}"
                            | "/v/{id}"
                    );
                    if letter == '-' && !public && !to_login {
                        wrong.push(format!("POST {template} as nobody: {status}, not to login"));
                    }
                    continue;
                }
                let entry = observed.entry(template).or_default();
                if !refused {
                    entry.push(letter);
                }
                if let Some(who) = rules.get(template) {
                    let expected = *who == "*" || who.contains(letter);
                    if expected == refused {
                        wrong.push(format!(
                            "GET {template} as {letter}: {status} (table: {who})"
                        ));
                    }
                }
            }
        }
    }
    let missing: Vec<String> = observed
        .iter()
        .filter(|(k, _)| !rules.contains_key(*k))
        .map(|(p, who)| {
            let who = if who.contains('-') {
                "*".to_owned()
            } else {
                who.clone()
            };
            format!("    (\"{p}\", \"{who}\"),")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "pages without a rule (as observed):\n{}",
        missing.join("\n")
    );
    let stale: Vec<_> = rules
        .keys()
        .filter(|k| !observed.contains_key(*k))
        .collect();
    assert!(stale.is_empty(), "rules of no page: {stale:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
