//! The web pages over plain HTTP (the browser tests drive the same pages in Chromium):
//! sign-in and its CSRF token, where a page sends someone not signed in, bad input on
//! the forms (a clear message with its code, nothing written), the security headers,
//! the language switch; the coordination and admin pages' refusals, a label batch's
//! sheets, a WEEE batch from opening to handover.

use filiere_shared::api::{EventResponse, WeeeBatchView};
use filiere_shared::code::LabelCode;
use filiere_shared::dashboards::DashboardSettings;
use filiere_shared::{ItemState, WeeeBatchStatus};
use filiere_tests::*;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use std::collections::BTreeMap;

/// A browser's part that matters here: cookies, and not following redirects.
struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
    bytes: Vec<u8>,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: app.base.clone(),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, rb: reqwest::RequestBuilder) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let rb = if cookie.is_empty() {
            rb
        } else {
            rb.header(COOKIE, cookie)
        };
        let resp = rb.send().await.expect("request");
        let body;
        for c in resp.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap_or("");
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        Page {
            status: resp.status(),
            location: resp
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned),
            headers: resp.headers().clone(),
            bytes: {
                let bytes = resp.bytes().await.expect("body").to_vec();
                body = String::from_utf8_lossy(&bytes).into_owned();
                bytes
            },
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let rb = self.client.get(format!("{}{path}", self.base));
        self.send(rb).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let rb = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(rb).await
    }

    /// A form with one file (`multipart/form-data`), as a browser sends it, and its
    /// text fields.
    async fn post_file(&mut self, path: &str, field: &str, name: &str, file: &[u8]) -> Page {
        self.post_form_file(path, &[], field, name, file).await
    }

    async fn post_form_file(
        &mut self,
        path: &str,
        texts: &[(&str, &str)],
        field: &str,
        name: &str,
        file: &[u8],
    ) -> Page {
        let boundary = "----filiere-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in texts {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let rb = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(rb).await
    }

    /// The CSRF token of the last page's forms.
    fn csrf(page: &Page) -> String {
        let at = page
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a token");
        let rest = &page.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').expect("end of token")].to_owned()
    }

    async fn log_in(&mut self, user: &str) -> String {
        let page = self.get("/login").await;
        let token = Browser::csrf(&page);
        let done = self
            .post(
                "/login",
                &[
                    ("csrf", &token),
                    ("next", "/"),
                    ("username", user),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let home = self.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        Browser::csrf(&home)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_on_the_pages() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut b = Browser::new(&app);
    // Not signed in: the login page, which comes back here afterwards.
    let page = b.get("/catalogue?category=laptop").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/login?next=/catalogue%3Fcategory%3Dlaptop")
    );
    let login = b.get("/login?next=/catalogue").await;
    assert!(login.body.contains("<html lang=\"fr\">"));
    let csp = login
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(
        login
            .headers
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
    let token = Browser::csrf(&login);
    // Without the form's token: refused, nobody signed in.
    let refused = b
        .post(
            "/login",
            &[
                ("csrf", "forged"),
                ("username", "social_a"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("csrf_rejected"));
    assert!(!b.cookies.contains_key("filiere_session"));
    // A wrong password and an unknown account read the same.
    let token = {
        let _ = token;
        Browser::csrf(&b.get("/login").await)
    };
    let wrong = b
        .post(
            "/login",
            &[
                ("csrf", &token),
                ("username", "social_a"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Identifiant ou mot de passe incorrect"));
    let token = Browser::csrf(&wrong);
    let unknown = b
        .post(
            "/login",
            &[
                ("csrf", &token),
                ("username", "personne"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(
        unknown
            .body
            .contains("Identifiant ou mot de passe incorrect")
    );
    // Signed in: the cookie is HttpOnly and SameSite, a new session each time.
    let token = Browser::csrf(&unknown);
    let ok = b
        .post(
            "/login",
            &[
                ("csrf", &token),
                ("next", "/catalogue"),
                ("username", "social_a"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (ok.status, ok.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/catalogue"))
    );
    let set = ok
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("filiere_session="))
        .expect("session cookie")
        .to_owned();
    // The test server's public host is HTTPS (`filiere.test`): the cookie is Secure.
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Secure"),
        "{set}"
    );
    let first = b.cookies.get("filiere_session").cloned();
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    // Another login: another session; a login page never sends to another site.
    let mut other = Browser::new(&app);
    other.log_in("social_a").await;
    assert_ne!(
        other.cookies.get("filiere_session"),
        first.as_ref(),
        "a new session id"
    );
    // A session id planted before the login (a link from someone else) is never the
    // one signed in: the login always makes a new one.
    let mut planted = Browser::new(&app);
    planted.cookies.insert(
        "filiere_session".into(),
        "fls_planted_by_someone_else".into(),
    );
    planted.log_in("social_a").await;
    assert_ne!(
        planted.cookies.get("filiere_session").map(String::as_str),
        Some("fls_planted_by_someone_else")
    );
    let page = other.get("/login?next=//evil.example/").await;
    assert_eq!(
        page.location.as_deref(),
        Some("/"),
        "signed in already: home, not elsewhere"
    );
    // Logging out ends the session.
    let token = Browser::csrf(&b.get("/").await);
    let out = b.post("/logout", &[("csrf", &token)]).await;
    assert_eq!(out.location.as_deref(), Some("/login"));
    assert_eq!(b.get("/").await.status, StatusCode::SEE_OTHER);
    let _ = w;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_the_forms_gets_a_clear_message_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 1).await;
    let item = app.laptop(&w.tech_a1, &codes[0], "W1").await;
    let item = app
        .step_ok(
            &w.tech_a1,
            &item,
            "t",
            serde_json::json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    let item = app.step_ok(&w.tech_a1, &item, "e", erase("W1")).await.item;
    let item = app.step_ok(&w.tech_a1, &item, "q", qa_pass()).await.item;
    let item = app
        .step_ok(
            &w.tech_a1,
            &item,
            "r",
            serde_json::json!({"type": "mark_ready"}),
        )
        .await
        .item;
    let mut b = Browser::new(&app);
    let csrf = b.log_in("social_a").await;
    let today = chrono::Utc::now().date_naive().to_string();
    let before = app.counts();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/beneficiaries",
            vec![
                ("household_size", "2"),
                ("proof_type", "caf"),
                ("proof_date", &today),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "consent_required",
        ),
        (
            "/beneficiaries",
            vec![
                ("household_size", "deux"),
                ("proof_type", "caf"),
                ("proof_date", &today),
                ("consent", "yes"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "/beneficiaries",
            vec![
                ("household_size", "99"),
                ("proof_type", "caf"),
                ("proof_date", &today),
                ("consent", "yes"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "/beneficiaries",
            vec![
                ("household_size", "2"),
                ("proof_type", "caf"),
                ("proof_date", "hier"),
                ("consent", "yes"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "/beneficiaries",
            vec![
                ("household_size", "2"),
                ("proof_type", "passeport"),
                ("proof_date", &today),
                ("consent", "yes"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
        ),
        (
            "/beneficiaries",
            vec![
                ("household_size", "2"),
                ("proof_type", "caf"),
                ("proof_date", "2020-01-01"),
                ("consent", "yes"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "proof_lapsed",
        ),
    ];
    for (path, fields, status, code) in cases {
        let mut form = fields.clone();
        form.push(("csrf", &csrf));
        let page = b.post(path, &form).await;
        assert_eq!(page.status, status, "{path} {fields:?}: {}", page.body);
        assert!(page.body.contains(code), "{path} {fields:?} shows {code}");
        assert!(
            page.body.contains("role=\"alert\""),
            "the message is announced"
        );
        // What was typed is kept in the form.
        assert!(page.body.contains("name=\"household_size\""));
    }
    // The reservation form: a pickup slot that is not a date, then no beneficiary.
    let id = item.id.to_string();
    let page = b
        .post(
            "/reservations",
            &[
                ("csrf", &csrf),
                ("item", &id),
                ("beneficiary", ""),
                ("pickup_at", "2026-12-01T14:00"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("choisissez un bénéficiaire"));
    let page = b
        .post(
            "/reservations",
            &[
                ("csrf", &csrf),
                ("item", &id),
                ("beneficiary", "1"),
                ("pickup_at", "demain"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("pickup_at") || page.body.contains("date et heure"));
    // A need for a part, not a device: back to the page, saying why.
    let page = b
        .post(
            "/needs",
            &[
                ("csrf", &csrf),
                ("beneficiary", "1"),
                ("category", "ram"),
                ("back", "/"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location.as_deref().unwrap_or("").contains("error="),
        "{:?}",
        page.location
    );
    // Every form without its token.
    for path in [
        "/beneficiaries",
        "/reservations",
        "/needs",
        "/bookings",
        "/training",
        "/language",
    ] {
        let page = b.post(path, &[("household_size", "2")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("csrf_rejected"), "{path}");
    }
    assert_eq!(app.counts(), before, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_and_the_roles_pages() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut b = Browser::new(&app);
    let csrf = b.log_in("social_a").await;
    let page = b.get("/").await;
    assert!(
        page.body.contains("<html lang=\"fr\">") && page.body.contains("Trouver un ordinateur")
    );
    let switched = b
        .post(
            "/language",
            &[("csrf", &csrf), ("lang", "en"), ("back", "/")],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let page = b.get("/").await;
    assert!(
        page.body.contains("<html lang=\"en\">") && page.body.contains("Find a computer"),
        "{}",
        page.body
    );
    // The API answers this user in English too, from now on.
    let (_, v) = app
        .get("/api/v1/beneficiaries/999", &w.social_worker_a)
        .await;
    assert_eq!(v["message"], "Beneficiary not found.");
    // A technician's home is the lookup; a coordinator's the region's work.
    let mut t = Browser::new(&app);
    t.log_in("tech_a1").await;
    assert!(t.get("/").await.body.contains("name=\"q\""));
    let mut c = Browser::new(&app);
    c.log_in("coord_a").await;
    let home = c.get("/").await.body;
    assert!(home.contains("effectifs seulement") || home.contains("counts only"));
    // A social worker's pages are refused to a technician, with the reason.
    let page = t.get("/beneficiaries").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("forbidden"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counter_sales_and_prices_pages_keep_to_their_roles() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a1 = w.site_a1.0.to_string();
    let mut tech = Browser::new(&app);
    tech.log_in("tech_a1").await;
    let mut other = Browser::new(&app);
    other.log_in("tech_b").await;
    let mut social = Browser::new(&app);
    let social_csrf = social.log_in("social_a").await;
    let mut coord = Browser::new(&app);
    coord.log_in("coord_a").await;
    let mut admin = Browser::new(&app);
    admin.log_in("admin").await;

    // The counter is the site's technicians' and the region's coordinator's.
    let page = tech.get("/counter").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("aucune organisation vendeuse"),
        "site A1 has no seller yet: {}",
        page.body
    );
    assert!(page.body.contains("name=\"code\""));
    for (who, path, status, code) in [
        ("other", format!("/counter?site={a1}"), 403, "out_of_scope"),
        ("social", "/counter".to_owned(), 403, "forbidden"),
        ("admin", "/counter".to_owned(), 403, "forbidden"),
        ("tech", "/counter/partner".to_owned(), 403, "forbidden"),
        ("tech", "/prices".to_owned(), 403, "forbidden"),
        ("admin", "/sales".to_owned(), 403, "forbidden"),
        ("coord", "/sales/999".to_owned(), 404, "sale_not_found"),
        (
            "tech",
            "/counter/reservations/999".to_owned(),
            404,
            "reservation_not_found",
        ),
    ] {
        let b = match who {
            "other" => &mut other,
            "social" => &mut social,
            "admin" => &mut admin,
            "coord" => &mut coord,
            _ => &mut tech,
        };
        let page = b.get(&path).await;
        assert_eq!(page.status.as_u16(), status, "{path}: {}", page.body);
        assert!(page.body.contains(code), "{path}: {code}");
    }
    for path in [
        format!("/counter?site={a1}"),
        "/counter/partner".to_owned(),
        "/prices".to_owned(),
        "/sales".to_owned(),
    ] {
        assert_eq!(coord.get(&path).await.status, StatusCode::OK, "{path}");
    }
    // Social workers read the prices, and only their beneficiaries' sales.
    assert_eq!(social.get("/prices").await.status, StatusCode::OK);
    assert_eq!(social.get("/sales").await.status, StatusCode::OK);
    // …but set no price: refused, and nothing written.
    let refused = social
        .post(
            "/prices",
            &[
                ("csrf", &social_csrf),
                ("region", &w.region_a.0.to_string()),
                ("category", "laptop"),
                ("price", "50"),
                ("back", "/prices"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(
        refused
            .location
            .as_deref()
            .is_some_and(|l| l.contains("error=forbidden")),
        "{:?}",
        refused.location
    );
    // A sale posted without the session's CSRF token is refused.
    let forged = tech
        .post(
            "/counter/sales",
            &[
                ("reservation", "1"),
                ("price", "10"),
                ("amount_1", "10"),
                ("method_1", "cash"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("csrf_rejected"));
    // A scan of something that is no label goes back to the counter with the reason.
    let scanned = tech.get("/counter/scan?code=NOT-A-CODE").await;
    assert_eq!(scanned.status, StatusCode::SEE_OTHER);
    assert!(
        scanned
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/counter") && l.contains("error=")),
        "{:?}",
        scanned.location
    );
    assert_eq!(
        TestApp::number(&mut app.conn(), "SELECT COUNT(*) AS n FROM price_rules"),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordination_and_admin_pages_keep_to_their_roles() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut coord = Browser::new(&app);
    let coord_csrf = coord.log_in("coord_a").await;
    let mut other = Browser::new(&app);
    other.log_in("coord_b").await;
    let mut tech = Browser::new(&app);
    tech.log_in("tech_a1").await;
    let mut social = Browser::new(&app);
    social.log_in("social_a").await;
    let mut admin = Browser::new(&app);
    let admin_csrf = admin.log_in("admin").await;

    // A coordinator prepares a batch and downloads its sheets: counted as printed.
    let a1 = w.site_a1.0.to_string();
    let made = coord
        .post(
            "/labels",
            &[("csrf", &coord_csrf), ("site", &a1), ("count", "3")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let batch = made.location.clone().expect("the batch's page");
    for _ in 0..2 {
        let pdf = coord
            .post(
                &format!("{batch}/sheet"),
                &[("csrf", &coord_csrf), ("sheet", "L7160")],
            )
            .await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(
            pdf.headers.get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/pdf"[..])
        );
    }
    let page = coord.get(&batch).await;
    assert!(
        page.body.contains("<span class=\"badge bad\">3</span>"),
        "three free codes printed twice: {}",
        page.body
    );
    let sheet_without_token = coord
        .post(&format!("{batch}/sheet"), &[("sheet", "L7160")])
        .await;
    assert_eq!(sheet_without_token.status, StatusCode::FORBIDDEN);

    // Who reaches what.
    for (who, path, status, code) in [
        ("other", batch.clone(), 404, "label_batch_not_found"),
        ("coord", "/admin/users".to_owned(), 403, "forbidden"),
        ("coord", "/admin".to_owned(), 403, "forbidden"),
        ("tech", "/offers".to_owned(), 403, "forbidden"),
        ("tech", "/organisations".to_owned(), 403, "forbidden"),
        ("tech", "/admin/benches".to_owned(), 403, "forbidden"),
        ("social", "/collections".to_owned(), 403, "forbidden"),
        ("social", "/weee".to_owned(), 403, "forbidden"),
        ("social", "/labels".to_owned(), 403, "forbidden"),
        ("other", "/offers/999".to_owned(), 404, "offer_not_found"),
    ] {
        let b = match who {
            "other" => &mut other,
            "coord" => &mut coord,
            "tech" => &mut tech,
            _ => &mut social,
        };
        let page = b.get(&path).await;
        assert_eq!(page.status.as_u16(), status, "{who} {path}: {}", page.body);
        assert!(page.body.contains(code), "{who} {path}: {code}");
    }
    for (path, status) in [
        ("/admin", 200),
        ("/admin/sites", 200),
        ("/admin/users", 200),
        ("/admin/benches", 200),
        ("/organisations", 200),
    ] {
        assert_eq!(admin.get(path).await.status.as_u16(), status, "{path}");
    }
    assert_eq!(coord.get("/collections").await.status, StatusCode::OK);
    assert_eq!(tech.get("/collections").await.status, StatusCode::OK);
    let guest = Browser::new(&app).get("/admin").await;
    assert_eq!(guest.status, StatusCode::SEE_OTHER);

    // Refusals write nothing, with the API's messages.
    let before = app.counts();
    let forged = admin
        .post("/admin/regions", &[("name", "Bretagne"), ("code", "BRE")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("csrf_rejected"));
    let coord_region = coord
        .post(
            "/admin/regions",
            &[("csrf", &coord_csrf), ("name", "Bretagne"), ("code", "BRE")],
        )
        .await;
    assert_eq!(coord_region.status, StatusCode::FORBIDDEN);
    let bad_user = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &admin_csrf),
                ("username", "jean dupont"),
                ("display_name", "Jean"),
                ("role", "admin"),
                ("language", "fr"),
            ],
        )
        .await;
    assert_eq!(bad_user.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_user.body.contains("lettres, chiffres"),
        "{}",
        bad_user.body
    );
    let bad_scope = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &admin_csrf),
                ("username", "jean"),
                ("display_name", "Jean"),
                ("role", "coordinator"),
                ("language", "fr"),
            ],
        )
        .await;
    assert_eq!(bad_scope.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_scope.body.contains("un coordinateur a une région"),
        "{}",
        bad_scope.body
    );
    let bad_siret = coord
        .post(
            "/organisations",
            &[
                ("csrf", &coord_csrf),
                ("name", "X"),
                ("kind", "donor"),
                ("siret", "12345678901234"),
                ("region", &w.region_a.0.to_string()),
            ],
        )
        .await;
    assert_eq!(bad_siret.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_siret.body.contains("SIRET compte 14 chiffres"));
    assert_eq!(app.counts(), before);

    // Own password, changed on a page: a wrong current one is refused.
    let page = coord.get("/account/password").await;
    assert_eq!(page.status, StatusCode::OK);
    let wrong = coord
        .post(
            "/account/password",
            &[
                ("csrf", &coord_csrf),
                ("current", "not it at all"),
                ("new", "a brand new one"),
                ("confirm", "a brand new one"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("wrong_password"));
    let done = coord
        .post(
            "/account/password",
            &[
                ("csrf", &coord_csrf),
                ("current", PASSWORD),
                ("new", "a brand new one"),
                ("confirm", "a brand new one"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    app.login_with("coord_a", "a brand new one").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weee_batch_is_opened_weighed_and_handed_over_on_pages() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut tech = Browser::new(&app);
    let csrf = tech.log_in("tech_a1").await;
    let opened = tech
        .post(
            "/weee",
            &[
                ("csrf", &csrf),
                ("site", &w.site_a1.0.to_string()),
                ("recycler", &w.recycler.0.to_string()),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let batch = opened.location.clone().expect("the batch's page");
    let id: i64 = batch.trim_start_matches("/weee/").parse().expect("id");

    // A broken monitor goes in from the bench.
    let code = app.codes(&w.tech_a1, w.site_a1, 1).await.remove(0);
    let r: EventResponse = app
        .post_ok(
            "/api/v1/items",
            &w.tech_a1,
            &json!({"idempotency_key": "m1", "code": code, "category": "monitor", "weight_g": 4200, "no_drive": true}),
        )
        .await;
    let item = app
        .step_ok(
            &w.tech_a1,
            &r.item,
            "t1",
            json!({"type": "triage", "route": "recycle"}),
        )
        .await
        .item;
    app.step_ok(
        &w.tech_a1,
        &item,
        "t2",
        json!({"type": "add_to_weee_batch", "batch": id}),
    )
    .await;
    let page = tech.get(&batch).await;
    // The item's code as its label reads.
    assert!(
        page.body.contains(&LabelCode::readable(&code)) && page.body.contains("4,2 kg"),
        "{}",
        page.body
    );

    // A handover before the weighing, and a blank form reference: refused, nothing written.
    let before = app.counts();
    let early = tech
        .post(
            &format!("{batch}/hand-over"),
            &[("csrf", &csrf), ("waste_form_ref", "BSD-1")],
        )
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.body.contains("weee_batch_not_closed"));
    let unweighed = tech
        .post(
            &format!("{batch}/close"),
            &[("csrf", &csrf), ("weight", "")],
        )
        .await;
    assert_eq!(unweighed.status, StatusCode::BAD_REQUEST);
    assert!(unweighed.body.contains("la masse pesée est nécessaire"));
    assert_eq!(app.counts(), before);

    let closed = tech
        .post(
            &format!("{batch}/close"),
            &[("csrf", &csrf), ("weight", "4,5")],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let page = tech.get(&batch).await;
    assert!(page.body.contains("4,5 kg") && page.body.contains("Fermé et pesé"));
    let blank = tech
        .post(
            &format!("{batch}/hand-over"),
            &[("csrf", &csrf), ("waste_form_ref", " ")],
        )
        .await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST, "{}", blank.body);
    let done = tech
        .post(
            &format!("{batch}/hand-over"),
            &[("csrf", &csrf), ("waste_form_ref", "BSD-20261127-4XK2")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = tech.get(&batch).await;
    assert!(page.body.contains("Remis au recycleur") && page.body.contains("BSD-20261127-4XK2"));
    // The recycler's slip, issued from the batch's page, listed there afterwards.
    assert!(page.body.contains("value=\"weee_slip\""), "{}", page.body);
    let slip = tech
        .post(
            &format!("{batch}/documents"),
            &[("csrf", &csrf), ("kind", "weee_slip")],
        )
        .await;
    assert_eq!(slip.status, StatusCode::SEE_OTHER, "{}", slip.body);
    let pdf = tech.get(&slip.location.clone().expect("the slip")).await;
    assert!(pdf.bytes.starts_with(b"%PDF"));
    if let Some(text) = pdf_text(&pdf.bytes) {
        assert!(
            text.contains("BSD-20261127-4XK2") && text.contains(&LabelCode::readable(&code)),
            "{text}"
        );
    }
    let id_printed = slip
        .location
        .expect("slip")
        .replace("/documents/", "")
        .replace("/pdf", "");
    assert!(tech.get(&batch).await.body.contains(&id_printed));
    let view: WeeeBatchView = app
        .get_ok(&format!("/api/v1/weee-batches/{id}"), &w.coord_a)
        .await;
    assert_eq!(
        (view.status, view.weight_g),
        (WeeeBatchStatus::HandedOver, Some(4_500))
    );

    // Another site's technician does not reach it.
    let mut other = Browser::new(&app);
    other.log_in("tech_b").await;
    let page = other.get(&batch).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_pages_keep_to_their_roles_and_the_open_data_to_nobody() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let (a2, b, rb) = (
        w.site_a2.0.to_string(),
        w.site_b.0.to_string(),
        w.region_b.0.to_string(),
    );
    let mut tech = Browser::new(&app);
    tech.log_in("tech_a1").await;
    let mut social = Browser::new(&app);
    social.log_in("social_a").await;
    let mut coord = Browser::new(&app);
    coord.log_in("coord_a").await;
    let mut admin = Browser::new(&app);
    admin.log_in("admin").await;
    for page in [
        "stock",
        "flows",
        "aging",
        "demand",
        "collections",
        "impact",
        "items",
    ] {
        let path = format!("/dashboards/{page}");
        for (who, query, status, code) in [
            ("social", String::new(), 403, "forbidden"),
            ("coord", format!("region={rb}"), 403, "out_of_scope"),
            ("coord", format!("site={b}"), 403, "out_of_scope"),
            ("tech", format!("site={a2}"), 403, "out_of_scope"),
            ("admin", "site=nope".to_owned(), 400, "invalid_query"),
        ] {
            let br = match who {
                "social" => &mut social,
                "coord" => &mut coord,
                "admin" => &mut admin,
                _ => &mut tech,
            };
            let got = br.get(&format!("{path}?{query}")).await;
            assert_eq!(
                got.status.as_u16(),
                status,
                "{who} {path}?{query}: {}",
                got.body
            );
            assert!(got.body.contains(code), "{who} {path}?{query}: {code}");
        }
        for br in [&mut tech, &mut coord, &mut admin] {
            let got = br.get(&path).await;
            assert_eq!(got.status, StatusCode::OK, "{path}: {}", got.body);
        }
    }
    // The CSV exports keep to the same roles, and need a session.
    for path in [
        "/dashboards/stock.csv",
        "/dashboards/parts.csv",
        "/dashboards/flows.csv",
        "/dashboards/aging.csv",
        "/dashboards/demand.csv",
        "/dashboards/collections.csv",
        "/dashboards/impact.csv",
        "/dashboards/items.csv",
        "/dashboards/impact.pdf",
    ] {
        assert_eq!(
            social.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        let got = coord.get(path).await;
        assert_eq!(got.status, StatusCode::OK, "{path}: {}", got.body);
        let mut nobody = Browser::new(&app);
        let anon = nobody.get(path).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            anon.location.as_deref().unwrap_or("").starts_with("/login"),
            "{path}"
        );
    }
    // The dashboards' settings are the admin's: others are refused, a refused value
    // changes nothing, a saved one shows.
    for br in [&mut tech, &mut coord, &mut social] {
        let got = br.get("/admin/dashboards").await;
        assert_eq!(got.status, StatusCode::FORBIDDEN, "{}", got.body);
    }
    let form = admin.get("/admin/dashboards").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"days_received\""));
    let csrf = Browser::csrf(&form);
    let coord_page = coord.get("/dashboards/stock").await;
    let coord_csrf = Browser::csrf(&coord_page);
    let refused = coord
        .post(
            "/admin/dashboards",
            &[
                ("csrf", &coord_csrf),
                ("extra_years", "4"),
                ("days_received", "9"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let refused = admin
        .post(
            "/admin/dashboards",
            &[
                ("csrf", &csrf),
                ("extra_years", "4"),
                ("days_received", "0"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("days"), "{}", refused.body);
    let kept: DashboardSettings = app.get_ok("/api/v1/dashboards/settings", &w.admin).await;
    assert_eq!(kept.extra_years, 2);
    let saved = admin
        .post(
            "/admin/dashboards",
            &[
                ("csrf", &csrf),
                ("extra_years", "4"),
                ("days_received", "9"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let shown = admin.get("/admin/dashboards?saved=1").await;
    assert!(
        shown.body.contains("Réglages enregistrés"),
        "{}",
        shown.body
    );
    assert!(
        shown
            .body
            .contains("id=\"extra_years\" name=\"extra_years\" min=\"1\" max=\"10\" value=\"4\"")
    );
    let now: DashboardSettings = app.get_ok("/api/v1/dashboards/settings", &w.coord_a).await;
    assert_eq!(now.extra_years, 4);
    assert!(
        now.thresholds
            .iter()
            .any(|t| t.state == ItemState::Received && t.days == 9)
    );
    // The open data is anyone's.
    let mut nobody = Browser::new(&app);
    for path in [
        "/open-data/",
        "/open-data/regions-months.csv",
        "/open-data/regions-months.json",
    ] {
        assert_eq!(nobody.get(path).await.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_donor_document_is_issued_on_the_collection_page_and_verified_by_anyone() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let c: filiere_shared::api::CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &json!({"donor": w.donor_public, "site": w.site_a1, "pickup_date": "2026-11-20",
                "declared_count": 1, "legal_status": "reuse"}),
        )
        .await;
    let code = &app.codes(&w.tech_a1, w.site_a1, 1).await[0];
    let item: EventResponse = app
        .post_ok(
            "/api/v1/items",
            &w.tech_a1,
            &json!({"idempotency_key": "r1", "code": code, "category": "laptop",
                "collection": c.id, "drives": [{"serial": "D-1", "size_gb": 128}]}),
        )
        .await;
    let mut coord = Browser::new(&app);
    let csrf = coord.log_in("coord_a").await;
    let page_path = format!("/collections/{}", c.id);
    let page = coord.get(&page_path).await;
    assert!(
        page.body.contains("Documents pour le donateur"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("disque D-1"),
        "the drive still to erase: {}",
        page.body
    );
    assert!(!page.body.contains("value=\"erasure_certificate\""));

    // The receipt: issued by the form, then opened.
    let docs = format!("/collections/{}/documents", c.id);
    let issued = coord
        .post(&docs, &[("csrf", &csrf), ("kind", "collection_receipt")])
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    let pdf_path = issued.location.clone().expect("the document");
    let pdf = coord.get(&pdf_path).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.bytes.starts_with(b"%PDF"));
    let id = pdf_path
        .trim_start_matches("/documents/")
        .trim_end_matches("/pdf")
        .to_owned();
    assert!(
        coord
            .get(&page_path)
            .await
            .body
            .contains(&format!("/v/{id}"))
    );
    // Without a token, or by someone out of scope: nothing issued, nothing shown.
    let forged = coord.post(&docs, &[("kind", "collection_receipt")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let mut other = Browser::new(&app);
    let other_csrf = other.log_in("coord_b").await;
    let refused = other
        .post(
            &docs,
            &[("csrf", &other_csrf), ("kind", "collection_receipt")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(other.get(&pdf_path).await.status, StatusCode::NOT_FOUND);
    // The certificate while the drive is pending: refused with its reason.
    let refused = coord
        .post(&docs, &[("csrf", &csrf), ("kind", "erasure_certificate")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("data_security_required"),
        "{}",
        refused.body
    );
    assert_eq!(
        TestApp::number(
            &mut app.conn(),
            "SELECT COUNT(*) AS n FROM issued_documents"
        ),
        1
    );

    // Anyone: the verification page, the file checked, a changed file refused.
    let mut anyone = Browser::new(&app);
    let shown = anyone.get(&format!("/v/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("Reçu de collecte"), "{}", shown.body);
    assert!(
        !shown.body.contains("Mairie"),
        "no donor on the public page"
    );
    let same = anyone
        .post_file(&format!("/v/{id}"), "file", "recu.pdf", &pdf.bytes)
        .await;
    assert_eq!(same.status, StatusCode::OK);
    assert!(same.body.contains("Identique"), "{}", same.body);
    let mut changed = pdf.bytes.clone();
    changed.push(b'\n');
    let other_file = anyone
        .post_file(&format!("/v/{id}"), "file", "recu.pdf", &changed)
        .await;
    assert!(other_file.body.contains("Différent"), "{}", other_file.body);
    // Typed by hand, in lower case without dashes: found.
    let typed = anyone
        .get(&format!("/v?id={}", id.replace('-', "").to_lowercase()))
        .await;
    assert_eq!(typed.location.as_deref(), Some(format!("/v/{id}").as_str()));
    let unknown = anyone.get("/v/ZZZZ-ZZZZ-ZZZZ").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("Aucun document"), "{}", unknown.body);

    // The admin gives the data-security right on the account's page; then the
    // certificate once the drive is erased.
    let mut admin = Browser::new(&app);
    let admin_csrf = admin.log_in("admin").await;
    let users: Vec<filiere_shared::api::UserView> = app.get_ok("/api/v1/users", &w.admin).await;
    let coord_id = users
        .iter()
        .find(|u| u.username == "coord_a")
        .expect("coord_a")
        .id;
    let account = admin.get(&format!("/admin/users/{coord_id}")).await;
    assert!(
        account.body.contains("name=\"data_security\""),
        "{}",
        account.body
    );
    let saved = admin
        .post(
            &format!("/admin/users/{coord_id}"),
            &[
                ("csrf", &admin_csrf),
                ("display_name", "coord_a"),
                ("language", "fr"),
                ("active", "on"),
                ("data_security_offered", "1"),
                ("data_security", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let social_id = users
        .iter()
        .find(|u| u.username == "social_a")
        .expect("social_a")
        .id;
    assert!(
        !admin
            .get(&format!("/admin/users/{social_id}"))
            .await
            .body
            .contains("name=\"data_security\""),
        "not offered to a social worker"
    );
    let item = app
        .step_ok(
            &w.tech_a1,
            &item.item,
            "t",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    app.step_ok(&w.tech_a1, &item, "e", erase("D-1")).await;
    let page = coord.get(&page_path).await;
    assert!(
        page.body.contains("value=\"erasure_certificate\""),
        "{}",
        page.body
    );
    let issued = coord
        .post(&docs, &[("csrf", &csrf), ("kind", "erasure_certificate")])
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    // The device's own certificate, from its page.
    let device_page = coord.get(&format!("/i/{code}")).await;
    let form = format!("/items/{}/documents", item.id);
    assert!(device_page.body.contains(&form), "{}", device_page.body);
    let own = coord
        .post(&form, &[("csrf", &csrf), ("kind", "erasure_certificate")])
        .await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.body);
    assert!(
        coord
            .get(&own.location.expect("pdf"))
            .await
            .bytes
            .starts_with(b"%PDF")
    );
    let certificate = coord.get(&issued.location.expect("the certificate")).await;
    if let Some(text) = pdf_text(&certificate.bytes) {
        assert!(text.contains("Signé par coord_a"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_donors_asset_list_is_checked_then_imported_on_the_collection_page() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let c: filiere_shared::api::CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &json!({"donor": w.donor_private, "site": w.site_a1, "pickup_date": "2026-12-03",
                "declared_count": 30, "legal_status": "reuse"}),
        )
        .await;
    let list = |bad: bool| {
        let mut s = String::from("Inventaire;Marque;Modèle;Numéro de série;Catégorie\r\n");
        for i in 1..=30 {
            if bad && i == 7 {
                s.push_str("INV-7;Dell;X;S-7;cafetière\r\n");
            } else if bad && i == 12 {
                s.push_str(";Dell;X;;Portable\r\n");
            } else {
                s.push_str(&format!("INV-{i};Lenovo;ThinkPad T480;S-{i};Portable\r\n"));
            }
        }
        s
    };
    let mut coord = Browser::new(&app);
    let csrf = coord.log_in("coord_a").await;
    let page_path = format!("/collections/{}", c.id);
    let page = coord.get(&page_path).await;
    assert!(
        page.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        page.body
    );
    let check = format!("/collections/{}/asset-list", c.id);
    let before = app.counts();
    let refused = coord
        .post_form_file(
            &check,
            &[("csrf", &csrf)],
            "file",
            "inventaire.csv",
            list(true).as_bytes(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);
    assert!(
        refused.body.contains("<td>8</td>") && refused.body.contains("cafetière"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("<td>13</td>"), "{}", refused.body);
    assert!(!refused.body.contains("name=\"csv\""), "no import offered");
    assert_eq!(app.counts(), before);
    let forged = coord
        .post_form_file(
            &check,
            &[("csrf", "forged")],
            "file",
            "inventaire.csv",
            list(false).as_bytes(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let checked = coord
        .post_form_file(
            &check,
            &[("csrf", &csrf)],
            "file",
            "inventaire.csv",
            list(false).as_bytes(),
        )
        .await;
    assert!(
        checked.body.contains("Importer 30 appareil(s)"),
        "{}",
        checked.body
    );
    let started = coord
        .post(
            &format!("/collections/{}/asset-list/import", c.id),
            &[("csrf", &csrf), ("csv", &list(false))],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let progress = started.location.expect("the import's page");
    let mut page = coord.get(&progress).await;
    for _ in 0..200 {
        if !page.body.contains("http-equiv=\"refresh\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        page = coord.get(&progress).await;
    }
    assert!(
        page.body.contains("<strong>30 / 30</strong>") && page.body.contains("Terminé"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("href=\"/labels/"),
        "the intake labels: {}",
        page.body
    );
    let view: filiere_shared::api::CollectionView = app
        .get_ok(&format!("/api/v1/collections/{}", c.id), &w.coord_a)
        .await;
    assert_eq!(view.registered_count, 30);
    // Another coordinator does not follow it.
    let mut other = Browser::new(&app);
    other.log_in("coord_b").await;
    assert_eq!(other.get(&progress).await.status, StatusCode::NOT_FOUND);
}
