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
    assert_eq!(status, StatusCode::OK, "{v}");
    let preview: AssetPreview = serde_json::from_value(v).expect("preview");
    let lines: Vec<usize> = preview.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![57, 120]);
    assert!(preview.problems[0].message.contains("grille-pain"));
    assert!(
        preview.problems[1].message.contains("ligne 4"),
        "{:?}",
        preview.problems[1]
    );
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
