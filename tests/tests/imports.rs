//! A donor's asset list imported into a collection through the real server: refused
//! line by line with nothing written, previewed, imported in the background with its
//! progress, the same file twice changing nothing; and who may.

use filiere_shared::api::*;
use filiere_shared::assets::*;
use filiere_shared::*;
use filiere_tests::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn code_of(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

/// A donor's spreadsheet of `n` devices, as a French office suite saves it.
fn asset_list(n: usize, bad: &[(usize, &str)]) -> String {
    let mut s = String::from(
        "\u{feff}N° d'inventaire;Marque;Modèle;N° de série;Type;N° de série du disque\r\n",
    );
    for i in 1..=n {
        let line = i + 1;
        let kind = ["Ordinateur portable", "Unité centrale", "Écran"][i % 3];
        let drive = if i % 3 == 2 {
            String::new()
        } else {
            format!("WD-{i:05}")
        };
        let row = match bad.iter().find(|(l, _)| *l == line) {
            Some((_, row)) => (*row).to_owned(),
            None => format!("MDL-{i:04};Dell;Latitude 5490;SN{i:06};{kind};{drive}"),
        };
        s.push_str(&row);
        s.push_str("\r\n");
    }
    s
}

async fn send(
    app: &TestApp,
    token: &str,
    collection: CollectionId,
    preview: bool,
    csv: &str,
) -> (StatusCode, Value) {
    let (status, _, body) = app
        .raw(
            Method::POST,
            &format!("/api/v1/collections/{collection}/asset-list?preview={preview}"),
            Some(token),
            Some(("text/csv", csv.as_bytes().to_vec())),
        )
        .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn finished(app: &TestApp, token: &str, id: i64) -> AssetImportView {
    for _ in 0..400 {
        let v: AssetImportView = app
            .get_ok(&format!("/api/v1/asset-imports/{id}"), token)
            .await;
        if v.status != ImportStatus::Running {
            return v;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("import {id} still running");
}

fn items_of(app: &TestApp, c: CollectionId) -> i64 {
    TestApp::number(
        &mut app.conn(),
        &format!("SELECT COUNT(*) AS n FROM items WHERE collection_id = {c}"),
    )
}

#[actix_web::test]
async fn a_200_line_asset_list_is_refused_line_by_line_then_imported_once() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let c: CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &json!({"donor": w.donor_public, "site": w.site_a1, "pickup_date": "2026-12-03",
                "declared_count": 200, "legal_status": "reuse"}),
        )
        .await;
    // Two bad lines: a category nobody knows, an asset tag given twice.
    let bad = asset_list(
        200,
        &[
            (57, "MDL-0056;Dell;X;SNX1;grille-pain;"),
            (120, "MDL-0003;Dell;X;SNX2;Portable;"),
        ],
    );
    let before = app.counts();
    let (status, v) = send(&app, &w.coord_a, c.id, true, &bad).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "asset_list_refused"),
        "{v}"
    );
    let problems: Vec<LineProblem> =
        serde_json::from_value(v["details"]["problems"].clone()).expect("problems");
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![57, 120]);
    assert!(problems[0].message.contains("grille-pain"));
    assert!(problems[1].message.contains("ligne 4"), "{:?}", problems[1]);
    let (status, v) = send(&app, &w.coord_a, c.id, false, &bad).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "asset_list_refused")
    );
    assert_eq!(v["details"]["problems"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.counts(), before, "a refused file writes nothing");

    // Refusals of scope and role, and of a closed collection.
    let good = asset_list(200, &[]);
    let (status, v) = send(&app, &w.coord_b, c.id, true, &good).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::NOT_FOUND, "collection_not_found")
    );
    let (status, v) = send(&app, &w.tech_a2, c.id, false, &good).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::NOT_FOUND, "collection_not_found")
    );
    let (status, v) = send(&app, &w.social_worker_a, c.id, false, &good).await;
    assert_eq!((status, code_of(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    assert_eq!(app.counts(), before);

    // The file corrected: 200 new, imported in the background as `collected`.
    let (_, v) = send(&app, &w.tech_a1, c.id, true, &good).await;
    let preview: AssetPreview = serde_json::from_value(v).expect("preview");
    assert_eq!(
        (preview.lines, preview.new, preview.already.len()),
        (200, 200, 0)
    );
    let (status, v) = send(&app, &w.tech_a1, c.id, false, &good).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let started: AssetImportView = serde_json::from_value(v).expect("import");
    assert_eq!(started.total, 200);
    let (status, v) = app
        .get(&format!("/api/v1/asset-imports/{}", started.id), &w.coord_b)
        .await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::NOT_FOUND, "import_not_found")
    );
    let done = finished(&app, &w.coord_a, started.id).await;
    assert_eq!(
        (done.status, done.done, done.already),
        (ImportStatus::Done, 200, 0),
        "{done:?}"
    );
    assert_eq!(items_of(&app, c.id), 200);
    let view: CollectionView = app
        .get_ok(&format!("/api/v1/collections/{}", c.id), &w.coord_a)
        .await;
    assert_eq!((view.registered_count, view.received_count), (200, 0));
    // Each item with its code from the import's batch, its asset tag and its drive.
    let batch = done.label_batch.expect("a batch for the intake labels");
    let claimed = TestApp::number(
        &mut app.conn(),
        &format!(
            "SELECT COUNT(*) AS n FROM label_codes WHERE batch_id = {batch} AND item_id IS NOT NULL"
        ),
    );
    assert_eq!(claimed, 200);
    let listing: ItemListing = app
        .get_ok(
            &format!("/api/v1/items?collection={}&limit=200", c.id),
            &w.tech_a1,
        )
        .await;
    let ItemListing::Full(page) = listing else {
        panic!("the staff's listing")
    };
    let of = |tag: &str| {
        page.items
            .iter()
            .find(|i| i.asset_tag.as_deref() == Some(tag))
            .expect("item")
    };
    let one = of("MDL-0001");
    assert_eq!(
        (one.state, one.category),
        (ItemState::Collected, Category::Desktop)
    );
    assert_eq!(one.serial.as_deref(), Some("SN000001"));
    assert_eq!(
        one.drives
            .iter()
            .map(|d| d.serial.as_str())
            .collect::<Vec<_>>(),
        ["WD-00001"]
    );
    assert_eq!(of("MDL-0002").category, Category::Monitor);
    assert!(of("MDL-0002").drives.is_empty());

    // The same file again: every line already there, nothing added.
    let (_, v) = send(&app, &w.coord_a, c.id, true, &good).await;
    let preview: AssetPreview = serde_json::from_value(v).expect("preview");
    assert_eq!((preview.new, preview.already.len()), (0, 200));
    let (status, v) = send(&app, &w.coord_a, c.id, false, &good).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let again: AssetImportView = serde_json::from_value(v).expect("import");
    assert_eq!(
        (again.status, again.total, again.already, again.label_batch),
        (ImportStatus::Done, 0, 200, None)
    );
    assert_eq!(items_of(&app, c.id), 200);

    // A closed collection takes no list.
    let _: CollectionView = app
        .post_ok(
            &format!("/api/v1/collections/{}/close", c.id),
            &w.coord_a,
            &json!({}),
        )
        .await;
    let (status, v) = send(&app, &w.coord_a, c.id, true, &good).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::CONFLICT, "collection_closed")
    );
}

async fn report(app: &TestApp, token: &str, query: &str, file: &[u8]) -> (StatusCode, Value) {
    let (status, _, body) = app
        .raw(
            Method::POST,
            &format!("/api/v1/erasure-reports?{query}"),
            Some(token),
            Some(("text/plain", file.to_vec())),
        )
        .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn serials(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d["serial"].as_str().or(d.as_str()).unwrap_or("").to_owned())
        .collect()
}

#[actix_web::test]
async fn nwipe_and_blancco_reports_are_matched_by_serial_and_recorded_as_at_the_bench() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let nwipe = std::fs::read(fixtures.join("nwipe/nwipe-two-drives.log")).expect("nwipe log");
    let blancco = std::fs::read(fixtures.join("blancco/blancco-two-drives.xml")).expect("report");
    let collection = |n: i32| {
        let app = &app;
        let token = w.coord_a.clone();
        let (donor, site) = (w.donor_private, w.site_a1);
        async move {
            let c: CollectionView = app
                .post_ok(
                    "/api/v1/collections",
                    &token,
                    &json!({"donor": donor, "site": site, "pickup_date": "2026-11-19",
                        "declared_count": n, "legal_status": "reuse"}),
                )
                .await;
            c
        }
    };
    let c = collection(4).await;
    let empty = collection(1).await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 4).await;
    for (code, drive) in
        codes
            .iter()
            .zip(["S3Z9NB0K123456", "Z3TA1234", "S3TZNX0K412873", "W62G4QKM"])
    {
        let _: EventResponse = app
            .post_ok(
                "/api/v1/items",
                &w.tech_a1,
                &json!({"idempotency_key": format!("r-{code}"), "code": code, "category": "laptop",
                    "collection": c.id, "drives": [{"serial": drive}]}),
            )
            .await;
    }
    let q = format!("collection={}", c.id);

    // Refused, writing nothing: a report matching no drive of the collection asked,
    // a file that is no report, no scope or two, someone out of scope or role.
    let before = app.counts();
    let (status, v) = report(
        &app,
        &w.tech_a1,
        &format!("collection={}", empty.id),
        &blancco,
    )
    .await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "report_matches_nothing")
    );
    assert_eq!(
        serials(&v["details"], "unmatched"),
        ["S3TZNX0K412873", "W62G4QKM"]
    );
    let (status, v) = report(
        &app,
        &w.tech_a1,
        &format!("collection={}", empty.id),
        &nwipe,
    )
    .await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "report_matches_nothing")
    );
    let (status, v) = report(&app, &w.tech_a1, &q, b"hello").await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unreadable_report")
    );
    let (status, v) = report(&app, &w.tech_a1, "", &nwipe).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
    );
    let both = format!("{q}&site={}", w.site_a1);
    let (status, v) = report(&app, &w.tech_a1, &both, &nwipe).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
    );
    let (status, v) = report(&app, &w.tech_b, &q, &nwipe).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::NOT_FOUND, "collection_not_found")
    );
    let (status, v) = report(&app, &w.tech_b, &format!("site={}", w.site_a1), &nwipe).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, v) = report(&app, &w.social_worker_a, &q, &nwipe).await;
    assert_eq!((status, code_of(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    assert_eq!(app.counts(), before);

    // nwipe: one drive erased, the one it failed recorded as failed (still pending).
    let (status, v) = report(&app, &w.tech_a1, &q, &nwipe).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["tool"], json!("nwipe"));
    assert_eq!(serials(&v, "erased"), ["S3Z9NB0K123456"]);
    assert_eq!(serials(&v, "failed"), ["Z3TA1234"]);
    // Blancco, through the site: the same.
    let (status, v) = report(&app, &w.coord_a, &format!("site={}", w.site_a1), &blancco).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["tool"], json!("Blancco Drive Eraser"));
    assert_eq!(serials(&v, "erased"), ["S3TZNX0K412873"]);
    assert_eq!(serials(&v, "failed"), ["W62G4QKM"]);
    // Recorded as the bench records them: in the item's history, with the tool's facts.
    let listing: ItemListing = app
        .get_ok(&format!("/api/v1/items?collection={}", c.id), &w.tech_a1)
        .await;
    let ItemListing::Full(page) = listing else {
        panic!("the staff's listing")
    };
    let status_of = |serial: &str| {
        page.items
            .iter()
            .flat_map(|i| i.drives.iter())
            .find(|d| d.serial == serial)
            .map(|d| d.status)
    };
    assert_eq!(status_of("S3Z9NB0K123456"), Some(DriveStatus::Erased));
    assert_eq!(status_of("S3TZNX0K412873"), Some(DriveStatus::Erased));
    assert_ne!(status_of("Z3TA1234"), Some(DriveStatus::Erased));
    assert_ne!(status_of("W62G4QKM"), Some(DriveStatus::Erased));
    let tools = TestApp::number(
        &mut app.conn(),
        "SELECT COUNT(*) AS n FROM erasure_records WHERE result = 'erased' \
         AND ((tool = 'nwipe' AND tool_version = '0.35' AND verified) \
         OR (tool = 'Blancco Drive Eraser' AND tool_version = '7.16.0' AND level = 'purge' \
         AND technique = 'firmware_sanitize' AND verified))",
    );
    assert_eq!(tools, 2);
    // The same report again changes nothing.
    let before = app.counts();
    let (_, v) = report(&app, &w.tech_a1, &q, &nwipe).await;
    assert_eq!(serials(&v, "already"), ["S3Z9NB0K123456", "Z3TA1234"]);
    assert!(serials(&v, "erased").is_empty() && serials(&v, "failed").is_empty());
    assert_eq!(app.counts(), before);
}
