//! The web pages in a real browser (Debian's Chromium, driven through WebDriver by
//! chromedriver): the social worker's journey from a phone-sized window, the race
//! for one PC as the second social worker sees it, a form posted without its CSRF
//! token, and nobody outside the organisation reading a beneficiary.
//!
//! Skipped, with a note, where `chromedriver` is not installed, unless
//! `FILIERE_BROWSER_TESTS=required` (as in CI). With `FILIERE_SCREENSHOTS=DIR`, each
//! page is also saved there, phone-sized and PC-sized (`docs/screenshots`).

use fantoccini::{Client, ClientBuilder, Locator};
use filiere_tests::TestApp;
use serde_json::json;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PHONE: (u32, u32) = (390, 844);
const PC: (u32, u32) = (1366, 768);

struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<Driver> {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .ok()?;
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("FILIERE_BROWSER_TESTS").as_deref() == Ok("required") {
                panic!("chromedriver is required here but cannot start: {e}");
            }
            eprintln!("chromedriver not found ({e}): browser test skipped");
            return None;
        }
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("chromedriver did not start listening");
}

async fn browser(driver: &Driver, size: (u32, u32)) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--lang=fr-FR",
                format!("--window-size={},{}", size.0, size.1)],
            "prefs": {"intl.accept_languages": "fr-FR,fr"}
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// Where the pictures go when they are asked for (`FILIERE_SCREENSHOTS`): a relative
/// folder is taken from the repository's root, as the README's command gives it (the
/// tests themselves run in `tests/`).
fn screenshot_dir() -> Option<String> {
    let dir = std::path::PathBuf::from(std::env::var_os("FILIERE_SCREENSHOTS")?);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    Some(root.join(dir).to_string_lossy().into_owned())
}

/// Saves the whole page (the window stretched to its height) when screenshots are
/// asked for.
async fn shot(c: &Client, name: &str, size: (u32, u32)) {
    let Some(dir) = screenshot_dir() else {
        return;
    };
    let height = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(u64::from(size.1));
    let full = (height as u32 + 20).clamp(size.1, 5000);
    c.set_window_size(size.0, full).await.expect("resize");
    let png = c.screenshot().await.expect("screenshot");
    let kind = if size == PHONE { "phone" } else { "pc" };
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(format!("{dir}/web-{name}-{kind}.png"), png).expect("write screenshot");
    c.set_window_size(size.0, size.1)
        .await
        .expect("resize back");
}

async fn log_in(c: &Client, app: &TestApp, user: &str) {
    c.goto(&format!("{}/login", app.base))
        .await
        .expect("login page");
    fill(c, "#username", user).await;
    fill(c, "#password", filiere_server::demo::DEMO_PASSWORD).await;
    submit(c, "form[action='/login'] button[type=submit]").await;
}

async fn fill(c: &Client, css: &str, text: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    e.clear().await.ok();
    e.send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Clicks, then waits for the next page when the click leads to one.
async fn submit(c: &Client, css: &str) {
    c.execute("window.__filiere_before = true;", vec![])
        .await
        .expect("mark the page");
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    let navigates = e.attr("type").await.ok().flatten().as_deref() == Some("submit")
        || e.prop("tagName").await.ok().flatten().as_deref() == Some("A");
    e.click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
    if navigates {
        next_page(c, &format!("clicking {css}")).await;
    }
}

/// Waits for the page that follows the one marked `window.__filiere_before` (after
/// `what`, for the message if none comes).
async fn next_page(c: &Client, what: &str) {
    for _ in 0..200 {
        let loaded = c
            .execute(
                "return window.__filiere_before === undefined && document.readyState === 'complete';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if loaded {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no new page after {what}");
}

async fn select(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

async fn path(c: &Client) -> String {
    let u = c.current_url().await.expect("url");
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

/// A server with the demo data set.
async fn demo_app() -> TestApp {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    filiere_server::demo::load(&mut conn, &filiere_server::demo::fixtures_dir())
        .expect("demo data");
    app
}

fn first_number_after(haystack: &str, prefix: &str) -> Option<i64> {
    let rest = &haystack[haystack.find(prefix)? + prefix.len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_social_worker_reserves_a_laptop_from_a_phone() {
    let Some(driver) = chromedriver() else { return };
    let app = demo_app().await;
    let c = browser(&driver, PHONE).await;

    // A phone scans a label: the login page first, then the item.
    let code: String = {
        let mut conn = app.conn();
        use diesel::prelude::*;
        use filiere_server::schema::{catalogue, items, regions};
        catalogue::table
            .inner_join(items::table)
            .inner_join(regions::table)
            .filter(regions::code.eq("ARA"))
            .filter(catalogue::category.eq("laptop"))
            .select(items::code)
            .first(&mut conn)
            .expect("a ready laptop")
    };
    c.goto(&format!("{}/I/{code}", app.base))
        .await
        .expect("label URL");
    assert!(
        path(&c).await.starts_with("/login?next="),
        "{}",
        path(&c).await
    );
    assert_eq!(
        c.find(Locator::Css("html"))
            .await
            .expect("html")
            .attr("lang")
            .await
            .expect("lang"),
        Some("fr".into())
    );
    shot(&c, "login", PHONE).await;
    fill(&c, "#username", "sophie").await;
    fill(&c, "#password", filiere_server::demo::DEMO_PASSWORD).await;
    submit(&c, "form[action='/login'] button[type=submit]").await;
    assert!(
        path(&c).await.starts_with("/catalogue/"),
        "the label's device: {}",
        path(&c).await
    );

    // Home, then the catalogue: a laptop of at least 14" with 8 GB in her region.
    c.goto(&format!("{}/", app.base)).await.expect("home");
    assert!(text(&c).await.contains("À faire"));
    shot(&c, "social-home", PHONE).await;
    submit(&c, "a[href='/catalogue']").await;
    select(&c, "#category", "laptop").await;
    fill(&c, "#min_screen", "14").await;
    fill(&c, "#min_ram_gb", "8").await;
    submit(&c, "form.filters button[type=submit]").await;
    let found = text(&c).await;
    assert!(found.contains("appareil(s) trouvé(s)"), "{found}");
    assert!(
        !found.contains("\n0 appareil(s)"),
        "something fits: {found}"
    );
    shot(&c, "catalogue", PHONE).await;
    submit(&c, ".card h3 a").await;
    let device_path = path(&c).await;
    assert!(device_path.starts_with("/catalogue/"));
    let page = text(&c).await;
    assert!(
        page.contains("Où le retirer") && page.contains("Horaires"),
        "{page}"
    );
    // The region's solidarity price, as its coordinator set it.
    assert!(
        page.contains("Prix solidaire") && page.contains(",00 €"),
        "{page}"
    );
    shot(&c, "device", PHONE).await;

    // A new beneficiary, with consent.
    c.goto(&format!("{}/beneficiaries/new", app.base))
        .await
        .expect("new beneficiary");
    shot(&c, "beneficiary-new", PHONE).await;
    fill(&c, "#reference", "CCAS-2026-0200").await;
    fill(&c, "#household_size", "3").await;
    select(&c, "#proof_type", "caf").await;
    // A date field types in the browser's own order: set its value as the form sends it.
    let proof_date = (chrono::Utc::now().date_naive() - chrono::Duration::days(5)).to_string();
    c.execute(
        "document.querySelector('#proof_date').value = arguments[0];",
        vec![json!(proof_date)],
    )
    .await
    .expect("proof date");
    submit(&c, "input[name=consent]").await;
    submit(&c, "form[action='/beneficiaries'] button[type=submit]").await;
    let ben_path = path(&c).await;
    assert!(
        ben_path.contains("done=created"),
        "{ben_path}: {}",
        text(&c).await
    );
    let beneficiary = first_number_after(&ben_path, "/beneficiaries/").expect("beneficiary id");

    // Reserve the laptop for her, with the next training session.
    c.goto(&format!("{}{device_path}", app.base))
        .await
        .expect("device page");
    select(&c, "#beneficiary", &beneficiary.to_string()).await;
    let next_session = c
        .find(Locator::Css("#session option:nth-child(2)"))
        .await
        .expect("a coming session")
        .attr("value")
        .await
        .expect("value")
        .expect("session id");
    select(&c, "#session", &next_session).await;
    submit(&c, "form[action='/reservations'] button[type=submit]").await;
    let res_path = path(&c).await;
    assert!(
        res_path.contains("done=reserved"),
        "{res_path}: {}",
        text(&c).await
    );
    let page = text(&c).await;
    assert!(
        page.contains("CCAS-2026-0200") && page.contains("Place réservée"),
        "{page}"
    );
    shot(&c, "reservation", PHONE).await;
    let reservation = first_number_after(&res_path, "/reservations/").expect("reservation id");

    // The pickup voucher, as the browser would download it.
    let cookie = c
        .get_named_cookie("filiere_session")
        .await
        .expect("session cookie");
    let voucher = app
        .client
        .get(format!(
            "{}/reservations/{reservation}/voucher.pdf",
            app.base
        ))
        .header("cookie", format!("filiere_session={}", cookie.value()))
        .send()
        .await
        .expect("voucher");
    assert_eq!(voucher.status().as_u16(), 200);
    assert_eq!(
        voucher
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let pdf = voucher.bytes().await.expect("pdf");
    assert!(pdf.starts_with(b"%PDF"));
    if let Some(dir) = screenshot_dir() {
        // The voucher as a picture, through poppler (as the documentation shows it).
        let file = std::env::temp_dir().join(format!("voucher-{}.pdf", std::process::id()));
        std::fs::write(&file, &pdf).expect("write voucher");
        let _ = Command::new("pdftoppm")
            .args(["-r", "80", "-png", "-singlefile"])
            .arg(&file)
            .arg(format!("{dir}/voucher"))
            .status();
        let _ = std::fs::remove_file(file);
    }

    // A form posted without its CSRF token is refused, and changes nothing.
    c.execute(
        "document.querySelector(\"form[action$='/cancel'] input[name=csrf]\").remove();",
        vec![],
    )
    .await
    .expect("remove the token");
    submit(&c, "form[action$='/cancel'] button[type=submit]").await;
    let refused = text(&c).await;
    assert!(refused.contains("csrf_rejected"), "{refused}");
    c.goto(&format!("{}/reservations/{reservation}", app.base))
        .await
        .expect("reservation");
    assert!(text(&c).await.contains("En cours"), "still active");

    // The same pages on an office PC.
    c.set_window_size(PC.0, PC.1).await.expect("resize");
    for (name, p) in [
        ("social-home", "/".to_owned()),
        (
            "catalogue",
            "/catalogue?category=laptop&min_screen=14&min_ram_gb=8".to_owned(),
        ),
        ("device", device_path.clone()),
        ("beneficiary", format!("/beneficiaries/{beneficiary}")),
        ("reservation", format!("/reservations/{reservation}")),
        ("training", "/training".to_owned()),
    ] {
        c.goto(&format!("{}{p}", app.base)).await.expect("page");
        shot(&c, name, PC).await;
    }
    c.close().await.expect("close");
}

/// Two social workers of two organisations want the same PC: the one who submits
/// second is told on the page, and neither sees the other's beneficiary.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_second_social_worker_is_told_and_sees_nothing_of_the_first_ones_beneficiary() {
    let Some(driver) = chromedriver() else { return };
    let app = demo_app().await;
    let sophie = browser(&driver, PHONE).await;
    let nadia = browser(&driver, PHONE).await;
    log_in(&sophie, &app, "sophie").await;
    log_in(&nadia, &app, "nadia").await;
    let device: i64 = {
        let mut conn = app.conn();
        use diesel::prelude::*;
        use filiere_server::schema::{catalogue, regions};
        catalogue::table
            .inner_join(regions::table)
            .filter(regions::code.eq("ARA"))
            .filter(catalogue::category.eq("laptop"))
            .select(catalogue::item_id)
            .first(&mut conn)
            .expect("a ready laptop")
    };
    // Both open the device's page and choose a beneficiary of theirs.
    for (c, reference) in [(&sophie, "CCAS-2026-0178"), (&nadia, "EV-318")] {
        c.goto(&format!("{}/catalogue/{device}", app.base))
            .await
            .expect("device");
        c.find(Locator::Css("#beneficiary"))
            .await
            .expect("the beneficiary field")
            .select_by_label(reference)
            .await
            .unwrap_or_else(|e| panic!("{reference}: {e}"));
    }
    submit(&sophie, "form[action='/reservations'] button[type=submit]").await;
    assert!(
        path(&sophie).await.contains("done=reserved"),
        "{}",
        text(&sophie).await
    );
    submit(&nadia, "form[action='/reservations'] button[type=submit]").await;
    let told = text(&nadia).await;
    assert!(
        told.contains("vient d'être réservé") && told.contains("already_reserved"),
        "{told}"
    );
    shot(&nadia, "already-reserved", PHONE).await;

    // Sophie's beneficiaries are hers: Nadia gets a 404 page for one of them.
    let theirs: i64 = {
        let mut conn = app.conn();
        use diesel::prelude::*;
        use filiere_server::schema::{beneficiaries, organisations};
        beneficiaries::table
            .inner_join(organisations::table)
            .filter(organisations::name.eq("CCAS de Villeurbanne"))
            .select(beneficiaries::id)
            .first(&mut conn)
            .expect("a CCAS beneficiary")
    };
    nadia
        .goto(&format!("{}/beneficiaries/{theirs}", app.base))
        .await
        .expect("page");
    let page = text(&nadia).await;
    assert!(page.contains("beneficiary_not_found"), "{page}");
    // The coordinator's home: sessions and references, no identity.
    let claire = browser(&driver, PC).await;
    log_in(&claire, &app, "claire").await;
    let home = text(&claire).await;
    assert!(home.contains("Partenaires sociaux"), "{home}");
    shot(&claire, "coordinator-home", PC).await;
    for c in [sophie, nadia, claire] {
        c.close().await.expect("close");
    }
}

/// The counter at Lyon: Tom signs in with his password, scans the voucher of the
/// pickup due today, is refused a price above the legal cap, records the sale at the
/// region's price and gets the invoice; the laptop comes back, is repaired and handed
/// back with six more months of guarantee. Then the coordinator's prices and sales.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tom_sells_a_pickup_at_the_counter_and_repairs_a_return() {
    let Some(driver) = chromedriver() else { return };
    let app = demo_app().await;
    let (reservation, item): (i64, i64) = {
        let mut conn = app.conn();
        use diesel::prelude::*;
        use filiere_server::schema::{beneficiaries, reservations};
        reservations::table
            .inner_join(beneficiaries::table)
            .filter(beneficiaries::reference.eq("CCAS-2026-0197"))
            .select((reservations::id, reservations::item_id))
            .first(&mut conn)
            .expect("the pickup due today")
    };
    let c = browser(&driver, PC).await;
    log_in(&c, &app, "tom").await;
    c.goto(&format!("{}/counter", app.base))
        .await
        .expect("counter");
    // The demo's pickup is a quarter of an hour after the demo was filled: today's,
    // or, filled just before midnight, tomorrow's (in the week's list).
    let page = text(&c).await;
    assert!(
        page.contains("Retraits du jour") && page.contains("CCAS-2026-0197"),
        "{page}"
    );
    shot(&c, "counter", PC).await;

    // The scanner types the voucher's QR code, then Enter.
    fill(&c, "#code", &format!("FILIERE-R-{reservation}\n")).await;
    for _ in 0..100 {
        if path(&c).await.starts_with("/counter/reservations/") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        path(&c).await,
        format!("/counter/reservations/{reservation}")
    );
    let page = text(&c).await;
    assert!(
        page.contains("Prix plafonné à 180,00 €") && page.contains("Formation réservée"),
        "{page}"
    );
    shot(&c, "handover", PC).await;

    // The region's price for it, as the form offers it ("110,00").
    let offered = c
        .find(Locator::Css("#price"))
        .await
        .expect("price field")
        .prop("value")
        .await
        .expect("value")
        .expect("a price");
    let cents = filiere_shared::sales::parse_euros(&offered).expect("an amount") as i64;
    // Above the cap of a public body's laptop: refused, on the page, nothing sold.
    fill(&c, "#price", "200").await;
    fill(&c, "#amount_1", "200").await;
    submit(&c, "form[action='/counter/sales'] button[type=submit]").await;
    let refused = text(&c).await;
    assert!(
        refused.contains("over_price_cap") && refused.contains("plafond légal"),
        "{refused}"
    );
    // At the region's price (its rule for public bodies' laptops), paid in two ways.
    fill(&c, "#price", "").await;
    let household = filiere_shared::sales::format_euros(cents - 5000, filiere_shared::Lang::Fr);
    fill(&c, "#amount_1", household.trim_end_matches(" €")).await;
    select(&c, "#method_2", "voucher").await;
    fill(&c, "#amount_2", "50").await;
    fill(&c, "#reference_2", "CCAS-BON-2026-040").await;
    submit(&c, "form[action='/counter/sales'] button[type=submit]").await;
    let sale_path = path(&c).await;
    assert!(
        sale_path.contains("done=sold"),
        "{sale_path}: {}",
        text(&c).await
    );
    let sale = first_number_after(&sale_path, "/sales/").expect("sale id");
    let page = text(&c).await;
    assert!(
        page.contains("Facture n° F")
            && page.contains(&filiere_shared::sales::format_euros(
                cents,
                filiere_shared::Lang::Fr
            )),
        "{page}"
    );
    shot(&c, "sale", PC).await;

    // The invoice, as the browser downloads it.
    let cookie = c
        .get_named_cookie("filiere_session")
        .await
        .expect("session cookie");
    let invoice = app
        .client
        .get(format!("{}/sales/{sale}/invoice.pdf", app.base))
        .header("cookie", format!("filiere_session={}", cookie.value()))
        .send()
        .await
        .expect("invoice");
    assert_eq!(invoice.status().as_u16(), 200);
    let pdf = invoice.bytes().await.expect("pdf");
    assert!(pdf.starts_with(b"%PDF"));
    if let Some(dir) = screenshot_dir() {
        let file = std::env::temp_dir().join(format!("invoice-{}.pdf", std::process::id()));
        std::fs::write(&file, &pdf).expect("write invoice");
        let _ = Command::new("pdftoppm")
            .args(["-r", "80", "-png", "-singlefile", "-f", "1", "-l", "1"])
            .arg(&file)
            .arg(format!("{dir}/invoice"))
            .status();
        let _ = std::fs::remove_file(file);
    }

    // Brought back under the guarantee: repaired, tested again, handed back.
    fill(
        &c,
        &format!("#return-reason-{item}"),
        "Le pavé tactile ne répond plus",
    )
    .await;
    submit(&c, &format!("#return-reason-{item} ~ .actions button")).await;
    assert!(
        path(&c).await.contains("done=returned"),
        "{}",
        text(&c).await
    );
    fill(&c, "input[id^='repair-']", "Pavé tactile remplacé").await;
    submit(&c, "input[id^='repair-'] ~ .actions button").await;
    assert!(path(&c).await.contains("done=repair"), "{}", text(&c).await);
    // Not without a new QA test at the bench.
    submit(&c, "form[action$='/hand-back'] button[type=submit]").await;
    let page = text(&c).await;
    assert!(page.contains("qa_missing"), "{page}");
    let token = app
        .post_ok_anon::<filiere_shared::api::SessionResponse>(
            "/api/v1/auth/login",
            &json!({"username": "tom", "password": filiere_server::demo::DEMO_PASSWORD}),
        )
        .await
        .token;
    let device: filiere_shared::api::ItemView =
        app.get_ok(&format!("/api/v1/items/{item}"), &token).await;
    app.step_ok(&token, &device, "counter-qa", filiere_tests::qa_pass())
        .await;
    submit(&c, "form[action$='/hand-back'] button[type=submit]").await;
    assert!(
        path(&c).await.contains("done=handed_back"),
        "{}",
        text(&c).await
    );
    let extended = filiere_shared::sales::extended_by_repair(filiere_shared::sales::guarantee_end(
        filiere_server::clock::Clock::default().date(chrono::Utc::now()),
    ));
    let page = text(&c).await;
    assert!(
        page.contains(&extended.format("%d/%m/%Y").to_string()) && page.contains("Réparation"),
        "{page}"
    );
    shot(&c, "after-sales", PC).await;

    // The coordinator sets prices and reads every sale of the region.
    let claire = browser(&driver, PC).await;
    log_in(&claire, &app, "claire").await;
    claire
        .goto(&format!("{}/prices", app.base))
        .await
        .expect("prices");
    select(&claire, "#category", "tablet").await;
    fill(&claire, "#price", "55").await;
    fill(&claire, "#public_body_price", "120").await;
    submit(&claire, "form[action='/prices'] button[type=submit]").await;
    let page = text(&claire).await;
    assert!(
        page.contains("over_price_cap"),
        "a tablet caps at 100 €: {page}"
    );
    fill(&claire, "#price", "55").await;
    submit(&claire, "form[action='/prices'] button[type=submit]").await;
    let page = text(&claire).await;
    assert!(
        page.contains("Enregistré") && page.contains("55,00 €"),
        "{page}"
    );
    shot(&claire, "prices", PC).await;
    claire
        .goto(&format!("{}/sales", app.base))
        .await
        .expect("sales");
    let page = text(&claire).await;
    assert!(
        page.contains("Avoir") && page.contains("CCAS-2026-0197"),
        "{page}"
    );
    shot(&claire, "sales", PC).await;
    for c in [c, claire] {
        c.close().await.expect("close");
    }
}

/// The text of the first element `css` matches.
async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

async fn check(c: &Client, css: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    if e.prop("checked").await.ok().flatten().as_deref() != Some("true") {
        e.click().await.expect("tick");
    }
}

/// The first day of an association on a fresh database, all on pages: the admin sets
/// up a region, an organisation, a site with its label printer, a coordinator (who
/// chooses her password from her one-time link) and a bench (its token shown once);
/// a town hall offers 30 laptops through the public form; the coordinator accepts the
/// offer as a planned collection, prints 30 intake labels from a page, and follows
/// the reception as the workshop scans them. Refusals on the way: a bad SIRET, a
/// form sent too fast, another region's coordinator at the collection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fresh_installation_is_set_up_on_pages_and_a_donors_offer_becomes_a_collection() {
    let Some(driver) = chromedriver() else { return };
    let app = TestApp::spawn().await;
    {
        // The first admin, as `filiere create-user` makes it.
        use filiere_shared::api::NewUser;
        let mut conn = app.conn();
        filiere_server::service::admin::create_user(
            &mut conn,
            None,
            &NewUser {
                username: "admin".into(),
                display_name: "Marc (bénévole)".into(),
                role: filiere_shared::Role::Admin,
                password: Some(filiere_tests::PASSWORD.into()),
                badge: None,
                site: None,
                region: None,
                organisation: None,
                language: filiere_shared::Lang::Fr,
            },
        )
        .expect("first admin");
    }
    let c = browser(&driver, PC).await;
    c.goto(&format!("{}/login", app.base)).await.expect("login");
    fill(&c, "#username", "admin").await;
    fill(&c, "#password", filiere_tests::PASSWORD).await;
    submit(&c, "form[action='/login'] button[type=submit]").await;
    assert!(
        text(&c).await.contains("première installation"),
        "the admin's hub"
    );
    shot(&c, "admin-hub", PC).await;

    // A region.
    submit(&c, "a[href='/admin/regions']").await;
    fill(&c, "#name", "Auvergne-Rhône-Alpes").await;
    fill(&c, "#code", "ARA").await;
    submit(&c, "form[action='/admin/regions'] button[type=submit]").await;
    assert!(text(&c).await.contains("Auvergne-Rhône-Alpes"));
    shot(&c, "admin-regions", PC).await;

    // The association that runs the workshop: a bad SIRET first.
    c.goto(&format!("{}/organisations", app.base))
        .await
        .expect("orgs");
    fill(&c, "#name", "Atelier Solidaire Rhône").await;
    select(&c, "#kind", "operator").await;
    fill(&c, "#siret", "123 456 789 00011").await;
    submit(&c, "form[action='/organisations'] button[type=submit]").await;
    let refused = text(&c).await;
    assert!(
        refused.contains("un SIRET compte 14 chiffres et sa clé doit être valide"),
        "{refused}"
    );
    assert!(refused.contains("invalid_value"));
    shot(&c, "admin-bad-siret", PC).await;
    c.back().await.expect("back");
    fill(&c, "#name", "Atelier Solidaire Rhône").await;
    select(&c, "#kind", "operator").await;
    fill(&c, "#siret", "120 027 016 00019").await;
    submit(&c, "form[action='/organisations'] button[type=submit]").await;
    assert!(
        path(&c).await.starts_with("/organisations/"),
        "{}",
        path(&c).await
    );

    // A site, sold from by that association, with its label printer.
    c.goto(&format!("{}/admin/sites", app.base))
        .await
        .expect("sites");
    fill(&c, "#name", "Atelier de Lyon").await;
    fill(&c, "#address", "12 rue du Repos, 69007 Lyon").await;
    fill(&c, "#opening_hours", "Du lundi au vendredi, 9 h – 17 h").await;
    let operator = c
        .find(Locator::Css("#organisation option:nth-child(2)"))
        .await
        .expect("the association")
        .attr("value")
        .await
        .expect("value")
        .expect("an id");
    select(&c, "#organisation", &operator).await;
    submit(&c, "form[action='/admin/sites'] button[type=submit]").await;
    let site_path = path(&c).await;
    assert!(site_path.starts_with("/admin/sites/"), "{site_path}");
    let site_id = site_path.trim_start_matches("/admin/sites/").to_owned();
    let (port, printed) = filiere_tests::fake_printer();
    fill(&c, "#p-name", "Zebra de l'accueil").await;
    select(&c, "#p-kind", "zpl").await;
    fill(&c, "#p-address", &format!("127.0.0.1:{port}")).await;
    select(&c, "#p-roll", "50x25").await;
    submit(&c, "form[action$='/printers'] button[type=submit]").await;
    assert!(text(&c).await.contains("Zebra de l'accueil"));
    shot(&c, "admin-site", PC).await;

    // A coordinator: her one-time link, shown to the admin.
    c.goto(&format!("{}/admin/users", app.base))
        .await
        .expect("users");
    fill(&c, "#username", "claire").await;
    fill(&c, "#display_name", "Claire Dubois").await;
    select(&c, "#role", "coordinator").await;
    let region = c
        .find(Locator::Css("#region option:nth-child(2)"))
        .await
        .expect("the region")
        .attr("value")
        .await
        .expect("value")
        .expect("an id");
    select(&c, "#region", &region).await;
    submit(&c, "form[action='/admin/users'] button[type=submit]").await;
    let link = text_of(&c, "#setup-link").await;
    assert!(link.contains("/setup/fls_"), "{link}");
    shot(&c, "admin-user-link", PC).await;

    // A bench: its token once, never again.
    c.goto(&format!("{}/admin/benches", app.base))
        .await
        .expect("benches");
    fill(&c, "#name", "Poste de réception").await;
    submit(&c, "form[action='/admin/benches'] button[type=submit]").await;
    let token = text_of(&c, "#bench-token").await;
    assert!(token.starts_with("flb_"), "{token}");
    shot(&c, "admin-bench-token", PC).await;
    c.goto(&format!("{}/admin/benches", app.base))
        .await
        .expect("benches again");
    let again = text(&c).await;
    assert!(
        again.contains("Poste de réception") && !again.contains(&token),
        "shown once"
    );
    let login: filiere_shared::api::SessionResponse = app
        .post_ok_anon(
            "/api/v1/auth/login",
            &json!({"username": "admin", "password": filiere_tests::PASSWORD}),
        )
        .await;
    let admin_token = login.token;

    // Claire chooses her password from the link, then signs in.
    submit(&c, "header form[action='/logout'] button[type=submit]").await;
    let link_path = &link[link.find("/setup/").expect("path")..];
    c.goto(&format!("{}{link_path}", app.base))
        .await
        .expect("link");
    assert!(text(&c).await.contains("Claire Dubois"));
    fill(&c, "#password", "lyon-gerland-2026").await;
    fill(&c, "#confirm", "lyon-gerland-2026").await;
    shot(&c, "coordinator-setup", PC).await;
    submit(&c, "form[action^='/setup/'] button[type=submit]").await;
    assert!(text(&c).await.contains("Mot de passe enregistré"));
    c.goto(&format!("{}{link_path}", app.base))
        .await
        .expect("link again");
    assert!(
        text(&c).await.contains("setup_link_invalid"),
        "a link works once"
    );

    // A town hall offers 30 laptops, from a phone. A robot's speed first: the form
    // sent back at once is refused.
    let donor = browser(&driver, PHONE).await;
    donor
        .goto(&format!("{}/offer", app.base))
        .await
        .expect("offer");
    donor
        .execute(
            "window.__filiere_before = true; document.querySelector(\"form[action='/offer']\").submit();",
            vec![],
        )
        .await
        .expect("send at once");
    next_page(&donor, "sending the form at once").await;
    let fast = text(&donor).await;
    assert!(fast.contains("form_too_fast"), "{fast}");
    fill(&donor, "#organisation_name", "Mairie de Villeurbanne").await;
    fill(&donor, "#siret", "21690266800013").await;
    check(&donor, "#public_body").await;
    fill(&donor, "#contact_name", "Claire Morel").await;
    fill(&donor, "#email", "dsi@villeurbanne.example").await;
    fill(&donor, "#laptops", "30").await;
    fill(
        &donor,
        "#address",
        "Place Lazare-Goujon, 69100 Villeurbanne",
    )
    .await;
    fill(&donor, "#availability", "À partir du 5 janvier, le matin").await;
    shot(&donor, "public-offer", PHONE).await;
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    submit(&donor, "form[action='/offer'] button[type=submit]").await;
    assert!(
        text(&donor).await.contains("Merci"),
        "{}",
        text(&donor).await
    );
    shot(&donor, "public-offer-sent", PHONE).await;

    // Claire accepts it as a planned collection at the Lyon workshop.
    c.goto(&format!("{}/login", app.base)).await.expect("login");
    fill(&c, "#username", "claire").await;
    fill(&c, "#password", "lyon-gerland-2026").await;
    submit(&c, "form[action='/login'] button[type=submit]").await;
    assert!(
        text(&c)
            .await
            .contains("1 proposition(s) de don à examiner")
    );
    submit(&c, "a[href='/offers']").await;
    shot(&c, "coordinator-offers", PC).await;
    submit(&c, "td a[href^='/offers/']").await;
    assert!(text(&c).await.contains("30 portable(s)"));
    shot(&c, "coordinator-offer", PC).await;
    submit(&c, "form[action$='/accept'] button[type=submit]").await;
    let collection_path = path(&c).await;
    assert!(
        collection_path.starts_with("/collections/"),
        "{collection_path}"
    );
    assert!(text_of(&c, "#received-count").await.contains("0 / 30"));

    // 30 intake labels for the site, sent to its printer from a page.
    submit(&c, "a[href^='/labels?site=']").await;
    assert_eq!(
        c.find(Locator::Css("#count"))
            .await
            .expect("count")
            .prop("value")
            .await
            .expect("value")
            .as_deref(),
        Some("30")
    );
    submit(&c, "form[action='/labels'] button[type=submit]").await;
    let batch_path = path(&c).await;
    assert!(text_of(&c, "#unclaimed").await.contains("30"));
    submit(&c, "form[action$='/print'] button[type=submit]").await;
    assert!(text(&c).await.contains("30 étiquette(s) envoyée(s)"));
    shot(&c, "coordinator-labels", PC).await;
    let zpl = String::from_utf8(printed.join().expect("printer")).expect("ZPL");
    assert_eq!(
        zpl.matches("^XA").count(),
        30,
        "30 labels reached the printer"
    );

    // The workshop scans three of them in: the collection page follows.
    let codes: Vec<String> = {
        use diesel::prelude::*;
        use filiere_server::schema::label_codes;
        let batch: i64 = batch_path
            .trim_start_matches("/labels/")
            .parse()
            .expect("batch id");
        label_codes::table
            .filter(label_codes::batch_id.eq(batch))
            .select(label_codes::code)
            .order(label_codes::code)
            .limit(3)
            .load(&mut app.conn())
            .expect("codes")
    };
    let collection_id: i64 = collection_path
        .trim_start_matches("/collections/")
        .parse()
        .expect("collection id");
    for (i, code) in codes.iter().enumerate() {
        let _: filiere_shared::api::EventResponse = app
            .post_ok(
                "/api/v1/items",
                &admin_token,
                &json!({"idempotency_key": format!("in-{i}"), "code": code, "category": "laptop",
                    "collection": collection_id, "weight_g": 2100, "no_drive": true}),
            )
            .await;
    }
    c.goto(&format!("{}{collection_path}", app.base))
        .await
        .expect("collection");
    assert!(text_of(&c, "#received-count").await.contains("3 / 30"));
    assert!(
        c.find(Locator::Css("meta[http-equiv='refresh']"))
            .await
            .is_ok(),
        "an open collection's page refreshes itself"
    );
    shot(&c, "coordinator-collection", PC).await;
    let _ = site_id;

    // Another region's coordinator does not reach it.
    let r2: filiere_shared::api::RegionView = app
        .post_ok(
            "/api/v1/regions",
            &admin_token,
            &json!({"name": "Île-de-France", "code": "IDF"}),
        )
        .await;
    let _: filiere_shared::api::UserView = app
        .post_ok(
            "/api/v1/users",
            &admin_token,
            &json!({"username": "yann", "display_name": "Yann", "role": "coordinator",
                "region": r2.id, "password": filiere_tests::PASSWORD}),
        )
        .await;
    let other = browser(&driver, PC).await;
    log_in_as(&other, &app, "yann", filiere_tests::PASSWORD).await;
    other
        .goto(&format!("{}{collection_path}", app.base))
        .await
        .expect("their collection");
    let nope = text(&other).await;
    assert!(nope.contains("collection_not_found"), "{nope}");

    // A WEEE batch needs a recycler; Claire's organisations page refuses a bad SIRET.
    c.goto(&format!("{}/organisations", app.base))
        .await
        .expect("orgs");
    fill(&c, "#name", "Clinique du Parc").await;
    fill(&c, "#siret", "4821374920001").await;
    submit(&c, "form[action='/organisations'] button[type=submit]").await;
    assert!(text(&c).await.contains("invalid_value"));
    c.back().await.expect("back");
    fill(&c, "#name", "Clinique du Parc").await;
    fill(&c, "#siret", "48213749200013").await;
    submit(&c, "form[action='/organisations'] button[type=submit]").await;
    c.goto(&format!("{}/organisations", app.base))
        .await
        .expect("orgs");
    assert!(text(&c).await.contains("Clinique du Parc"));
    shot(&c, "coordinator-organisations", PC).await;
    c.goto(&format!("{}/collections", app.base))
        .await
        .expect("collections");
    shot(&c, "coordinator-collections", PC).await;

    // A WEEE batch for the recycler the admin recorded: closing it empty is refused.
    let _: filiere_shared::api::OrganisationView = app
        .post_ok(
            "/api/v1/organisations",
            &admin_token,
            &json!({"name": "Envie Rhône (DEEE)", "kind": "recycler", "weee_status": "Centre de traitement agréé"}),
        )
        .await;
    c.goto(&format!("{}/weee", app.base)).await.expect("weee");
    submit(&c, "form[action='/weee'] button[type=submit]").await;
    assert!(path(&c).await.starts_with("/weee/"), "{}", path(&c).await);
    shot(&c, "coordinator-weee", PC).await;
    fill(&c, "#weight", "12,5").await;
    submit(&c, "form[action$='/close'] button[type=submit]").await;
    assert!(
        text(&c).await.contains("weee_batch_empty"),
        "{}",
        text(&c).await
    );

    for client in [c, donor, other] {
        client.close().await.ok();
    }
}

async fn log_in_as(c: &Client, app: &TestApp, user: &str, password: &str) {
    c.goto(&format!("{}/login", app.base))
        .await
        .expect("login page");
    fill(c, "#username", user).await;
    fill(c, "#password", password).await;
    submit(c, "form[action='/login'] button[type=submit]").await;
}

/// What a page's link points to.
async fn href(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr("href")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{css} has no href"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claire_reads_her_dashboards_and_anyone_downloads_the_open_data() {
    let Some(driver) = chromedriver() else { return };
    let app = demo_app().await;
    let c = browser(&driver, PC).await;
    log_in(&c, &app, "claire").await;
    c.goto(&format!("{}/dashboards", app.base))
        .await
        .expect("dashboards");
    assert_eq!(path(&c).await, "/dashboards/stock");
    let page = text(&c).await;
    assert!(
        page.contains("Prêts à être réservés, par site")
            && page.contains("Atelier de Grenoble")
            && page.contains("Atelier de Lyon-Gerland")
            && page.contains("Pièces en stock"),
        "{page}"
    );
    // Her region's workshops only.
    assert!(!page.contains("Montreuil"), "{page}");
    assert!(
        c.find(Locator::Css("svg.chart[role=img]")).await.is_ok(),
        "the chart, as an image with its label"
    );
    shot(&c, "dashboard-stock", PC).await;

    // The laptops ready at Grenoble, behind their figure.
    let laptops = href(&c, "a[href*='category=laptop&state=ready']").await;
    submit(&c, "a[href*='category=laptop&state=ready']").await;
    assert_eq!(path(&c).await, laptops);
    let listed = text(&c).await;
    assert!(
        listed.contains("Portable") && listed.contains("Prêt"),
        "{listed}"
    );
    shot(&c, "dashboard-items", PC).await;

    // The stock table in a spreadsheet set to French.
    let cookie = c
        .get_named_cookie("filiere_session")
        .await
        .expect("session cookie");
    let csv = app
        .client
        .get(format!("{}/dashboards/stock.csv", app.base))
        .header("cookie", format!("filiere_session={}", cookie.value()))
        .send()
        .await
        .expect("the stock as CSV");
    assert_eq!(csv.status().as_u16(), 200);
    assert_eq!(
        csv.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let body = csv.text().await.expect("CSV");
    assert!(
        body.starts_with("\u{feff}Site;Catégorie;État;Note;Nombre\r\n"),
        "{body}"
    );
    assert!(
        body.contains("Atelier de Grenoble;Portable;Prêt;"),
        "{body}"
    );

    // What has waited over two weeks with a drive not yet erased.
    c.goto(&format!(
        "{}/dashboards/aging?waiting_for=drives_not_erased&min_days=14",
        app.base
    ))
    .await
    .expect("aging");
    let aging = text(&c).await;
    assert!(aging.contains("Disque pas encore effacé"), "{aging}");
    let rows = c
        .find_all(Locator::Css("#oldest-h ~ .table-wrap tbody tr"))
        .await
        .expect("rows");
    assert!(!rows.is_empty(), "{aging}");
    shot(&c, "dashboard-aging", PC).await;

    c.goto(&format!("{}/dashboards/flows", app.base))
        .await
        .expect("flows");
    let flows = text(&c).await;
    assert!(flows.contains("De la réception à « prêt »"), "{flows}");
    shot(&c, "dashboard-flows", PC).await;

    c.goto(&format!("{}/dashboards/collections", app.base))
        .await
        .expect("collections");
    let balance = text(&c).await;
    assert!(
        balance.contains("Bilan des masses par collecte")
            && balance.contains("Annoncé par le donateur"),
        "{balance}"
    );
    shot(&c, "dashboard-collections", PC).await;
    c.goto(&format!("{}/dashboards/demand", app.base))
        .await
        .expect("needs and stock");
    let demand = text(&c).await;
    assert!(
        demand.contains("Besoins des travailleurs sociaux"),
        "{demand}"
    );
    shot(&c, "dashboard-demand", PC).await;

    // Last month's impact, one click away, then the last twelve months'.
    let today = chrono::Utc::now().date_naive();
    let last = (today - chrono::Months::new(1)).format("%Y-%m");
    c.goto(&format!("{}/dashboards/impact", app.base))
        .await
        .expect("impact");
    submit(
        &c,
        &format!("a[href^='/dashboards/impact?from={last}&to={last}']"),
    )
    .await;
    assert!(
        c.current_url()
            .await
            .expect("url")
            .query()
            .unwrap_or_default()
            .starts_with(&format!("from={last}&to={last}"))
    );
    let impact = text(&c).await;
    // The demo's partner association bought laptops at Grenoble last month.
    let reused: i64 = impact
        .split("appareils réemployés")
        .next()
        .and_then(|before| before.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .expect("the devices reused");
    assert!(reused > 0, "{impact}");
    assert!(
        impact.contains("appareils réemployés")
            && impact.contains("Comment ces chiffres sont calculés"),
        "{impact}"
    );
    c.goto(&format!("{}/dashboards/impact", app.base))
        .await
        .expect("impact over twelve months");
    let impact = text(&c).await;
    assert!(impact.contains("27 kg CO₂e / an"), "{impact}");
    shot(&c, "dashboard-impact", PC).await;

    // The admin sets how long an item may wait received before it is listed.
    let admin = browser(&driver, PC).await;
    log_in(&admin, &app, "admin").await;
    admin
        .goto(&format!("{}/admin/dashboards", app.base))
        .await
        .expect("settings");
    fill(&admin, "#days_received", "5").await;
    fill(&admin, "#extra_years", "3").await;
    submit(
        &admin,
        "form[action='/admin/dashboards'] button[type=submit]",
    )
    .await;
    let saved = text(&admin).await;
    assert!(saved.contains("Réglages enregistrés"), "{saved}");
    shot(&admin, "dashboard-settings", PC).await;
    c.goto(&format!("{}/dashboards/impact", app.base))
        .await
        .expect("impact after the change");
    let impact = text(&c).await;
    assert!(impact.contains("3 ans d'usage en plus"), "{impact}");

    // On a phone.
    let phone = browser(&driver, PHONE).await;
    log_in(&phone, &app, "claire").await;
    phone
        .goto(&format!("{}/dashboards/stock", app.base))
        .await
        .expect("stock on a phone");
    shot(&phone, "dashboard-stock", PHONE).await;

    // Anyone, without logging in: the open data.
    let anon = browser(&driver, PHONE).await;
    anon.goto(&format!("{}/open-data/", app.base))
        .await
        .expect("open data");
    let open = text(&anon).await;
    assert!(
        open.contains("Licence Ouverte") && open.contains("households_equipped"),
        "{open}"
    );
    shot(&anon, "open-data", PHONE).await;
    let csv = app
        .client
        .get(format!("{}/open-data/regions-months.csv", app.base))
        .send()
        .await
        .expect("open data CSV")
        .text()
        .await
        .expect("CSV");
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    let head: Vec<&str> = lines.next().expect("a header").split(';').collect();
    let households = head
        .iter()
        .position(|h| *h == "households_equipped")
        .expect("the households column");
    let mut regions = std::collections::BTreeSet::new();
    for line in lines {
        let cells: Vec<&str> = line.split(';').collect();
        regions.insert(cells[0].to_owned());
        let n = cells[households];
        if let Ok(n) = n.parse::<i64>() {
            assert!(n == 0 || n >= 5, "a count of {n} households shown: {line}");
        }
    }
    assert!(
        regions.contains("ARA") && regions.contains("IDF") && regions.contains("FR"),
        "{regions:?}"
    );
}

/// The public body's collection of the demo: the last drive's nwipe log sent, the
/// certificate signed and issued, then checked by anyone on the page its QR code
/// opens, from a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claire_certifies_the_metropoles_erasures_and_anyone_verifies_the_certificate() {
    let Some(driver) = chromedriver() else { return };
    let app = demo_app().await;
    let c = browser(&driver, PC).await;
    log_in(&c, &app, "claire").await;
    c.goto(&format!("{}/collections", app.base))
        .await
        .expect("collections");
    submit(&c, "a[href^='/collections/']:not([href='/collections'])").await;
    let mut page = text(&c).await;
    if !page.contains("METRO-2026-11") {
        // The list's first link was another collection: find the Métropole's.
        let id = TestApp::number(
            &mut app.conn(),
            "SELECT id AS n FROM collections WHERE reference = 'METRO-2026-11'",
        );
        c.goto(&format!("{}/collections/{id}", app.base))
            .await
            .expect("the Métropole's collection");
        page = text(&c).await;
    }
    assert!(
        page.contains("Documents pour le donateur") && page.contains("disque S3Z9NB0K123456"),
        "{page}"
    );
    let collection = path(&c).await;
    shot(&c, "coordinator-collection-documents", PC).await;

    // The bench's nwipe log of that drive, sent from the page.
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/nwipe/nwipe-two-drives.log")
        .canonicalize()
        .expect("the nwipe fixture");
    fill(&c, "#report-file", log.to_str().expect("path")).await;
    submit(&c, "form[action$='/erasure-report'] button[type=submit]").await;
    let page = text(&c).await;
    assert!(
        page.contains("Rapport d'effacement — nwipe") && page.contains("S3Z9NB0K123456"),
        "{page}"
    );
    shot(&c, "coordinator-erasure-report", PC).await;

    // The certificate, signed by claire: issued, then listed on the collection.
    c.goto(&format!("{}{collection}", app.base))
        .await
        .expect("back to the collection");
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .expect("a form");
    let sign = c
        .find(Locator::XPath(
            "//input[@name='kind' and @value='erasure_certificate']/following::button[1]",
        ))
        .await
        .expect("the certificate's button, now that every drive is erased");
    sign.click().await.expect("sign");
    let mut issued = 0;
    for _ in 0..100 {
        issued = TestApp::number(
            &mut app.conn(),
            "SELECT COUNT(*) AS n FROM issued_documents WHERE kind = 'erasure_certificate'",
        );
        if issued > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(issued, 1);
    c.goto(&format!("{}{collection}", app.base))
        .await
        .expect("the collection again");
    let verify = href(&c, "a[href^='/v/']").await;

    // Anyone, on a phone: what was issued, and the file checked.
    let phone = browser(&driver, PHONE).await;
    phone
        .goto(&format!("{}{verify}", app.base))
        .await
        .expect("the verification page");
    let page = text(&phone).await;
    assert!(
        page.contains("Certificat d'effacement des données")
            && page.contains("Atelier Solidaire Rhône-Alpes")
            && !page.contains("Métropole"),
        "{page}"
    );
    let pdf: Vec<u8> = {
        use diesel::prelude::*;
        filiere_server::schema::issued_documents::table
            .filter(filiere_server::schema::issued_documents::kind.eq("erasure_certificate"))
            .select(filiere_server::schema::issued_documents::pdf)
            .first(&mut app.conn())
            .expect("the certificate's file")
    };
    let dir = std::env::temp_dir().join(format!("filiere-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("certificat.pdf");
    std::fs::write(&file, &pdf).expect("write");
    fill(&phone, "#file", file.to_str().expect("path")).await;
    submit(
        &phone,
        "form[enctype='multipart/form-data'] button[type=submit]",
    )
    .await;
    let page = text(&phone).await;
    assert!(page.contains("Identique"), "{page}");
    shot(&phone, "public-verify", PHONE).await;
    let mut changed = pdf.clone();
    changed.extend_from_slice(b"\n%%");
    std::fs::write(&file, &changed).expect("write");
    fill(&phone, "#file", file.to_str().expect("path")).await;
    submit(
        &phone,
        "form[enctype='multipart/form-data'] button[type=submit]",
    )
    .await;
    assert!(text(&phone).await.contains("Différent"));
    std::fs::remove_dir_all(&dir).ok();
}
