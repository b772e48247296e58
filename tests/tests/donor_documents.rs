//! The documents a donor receives, through the real server: the collection receipt
//! and the erasure certificate read back from their PDF text against the records;
//! the certificate refused while a drive is pending and to anyone without the
//! data-security right; every document's identifier answered by the public
//! verification, which tells the file issued from a changed one.

use filiere_shared::api::*;
use filiere_shared::documents::*;
use filiere_shared::*;
use filiere_tests::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn code_of(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

fn issued_count(app: &TestApp) -> i64 {
    TestApp::number(
        &mut app.conn(),
        "SELECT COUNT(*) AS n FROM issued_documents",
    )
}

/// A collection of the public donor at site A1, with a reference.
async fn collection(app: &TestApp, w: &World) -> CollectionView {
    app.post_ok(
        "/api/v1/collections",
        &w.coord_a,
        &json!({"donor": w.donor_public, "site": w.site_a1, "pickup_date": "2026-11-20",
            "declared_count": 4, "declared_weight_g": 12_000, "legal_status": "reuse",
            "reference": "MAIRIE-2026-07"}),
    )
    .await
}

/// Registers an item of the collection; `extra` adds or overrides fields.
async fn register(
    app: &TestApp,
    w: &World,
    c: &CollectionView,
    code: &str,
    extra: Value,
) -> ItemView {
    let mut body = json!({
        "idempotency_key": format!("reg-{code}"),
        "code": code,
        "category": "laptop",
        "collection": c.id,
        "brand": "Dell",
        "model": "Latitude 5490",
    });
    if let (Some(o), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    let r: EventResponse = app.post_ok("/api/v1/items", &w.tech_a1, &body).await;
    r.item
}

async fn issue(app: &TestApp, token: &str, c: &CollectionView, kind: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/collections/{}/documents", c.id),
        token,
        &json!({"kind": kind}),
    )
    .await
}

async fn pdf(app: &TestApp, token: &str, id: &str) -> (StatusCode, Vec<u8>) {
    let (status, _, bytes) = app
        .raw(
            Method::GET,
            &format!("/api/v1/documents/{id}/pdf"),
            Some(token),
            None,
        )
        .await;
    (status, bytes)
}

async fn verify(app: &TestApp, id: &str, file: Option<Vec<u8>>) -> (StatusCode, Value) {
    let (status, _, bytes) = match file {
        Some(f) => {
            app.raw(
                Method::POST,
                &format!("/api/v1/verify/{id}"),
                None,
                Some(("application/pdf", f)),
            )
            .await
        }
        None => {
            app.raw(Method::GET, &format!("/api/v1/verify/{id}"), None, None)
                .await
        }
    };
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The text with every run of blanks as one space: a value wrapped on the page reads
/// as one line.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sha256_hex(bytes: &[u8]) -> String {
    filiere_server::service::documents::issued::sha256_hex(bytes)
}

#[actix_web::test]
async fn the_receipt_states_the_records_and_its_identifier_verifies_the_file() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let c = collection(&app, &w).await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 3).await;
    // As the documents print them: as the label reads.
    let shown: Vec<String> = codes.iter().map(|c| code::LabelCode::readable(c)).collect();
    register(
        &app,
        &w,
        &c,
        &codes[0],
        json!({"serial": "5CG7-1234", "asset_tag": "INV-0042", "weight_g": 1650}),
    )
    .await;
    register(
        &app,
        &w,
        &c,
        &codes[1],
        json!({"category": "desktop", "brand": "HP", "model": "ProDesk 600",
            "weight_g": 7000, "weight_estimated": true}),
    )
    .await;
    register(&app, &w, &c, &codes[2], json!({"at_workshop": false})).await;

    // Refusals first, each writing nothing.
    let path = format!("/api/v1/collections/{}/documents", c.id);
    let (status, v) = app
        .request(
            Method::POST,
            &path,
            None,
            Some(&json!({"kind": "collection_receipt"})),
        )
        .await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let (status, v) = issue(&app, &w.social_worker_a, &c, "collection_receipt").await;
    assert_eq!((status, code_of(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, v) = issue(&app, &w.coord_b, &c, "collection_receipt").await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::NOT_FOUND, "collection_not_found")
    );
    let (status, v) = issue(&app, &w.tech_a2, &c, "collection_receipt").await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::NOT_FOUND, "collection_not_found")
    );
    let (status, v) = issue(&app, &w.coord_a, &c, "invoice").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(issued_count(&app), 0);

    let doc: IssuedDocument = app
        .post_ok(&path, &w.coord_a, &json!({"kind": "collection_receipt"}))
        .await;
    assert_eq!(doc.kind, DocumentKind::CollectionReceipt);
    assert_eq!(parse_document_id(&doc.id).as_deref(), Some(doc.id.as_str()));
    assert!(!doc.signed);
    assert_eq!(doc.issued_by, "coord_a");
    assert_eq!(issued_count(&app), 1);

    // Downloaded again: the same bytes, whose hash was kept.
    let (status, bytes) = pdf(&app, &w.coord_a, &doc.id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"%PDF"));
    assert_eq!(sha256_hex(&bytes), doc.sha256);
    let (_, again) = pdf(&app, &w.tech_a1, &doc.id.to_lowercase()).await;
    assert_eq!(again, bytes);
    for token in [&w.coord_b, &w.tech_a2] {
        let (status, _) = pdf(&app, token, &doc.id).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = pdf(&app, &w.social_worker_a, &doc.id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    if let Some(text) = pdf_text(&bytes).map(|t| flat(&t)) {
        for expected in [
            "Reçu de collecte",
            doc.id.as_str(),
            &format!("/v/{}", doc.id),
            "Mairie (organisme public)",
            "216 901 231 00011",
            "MAIRIE-2026-07",
            "20/11/2026",
            "Don pour réemploi",
            "4 appareil(s)",
            "12,0 kg",
            "2 objet(s)",
            "Pas encore reçus",
            "1,6 kg (1 objet(s))",
            "7,0 kg (1 objet(s))",
            "INV-0042",
            "5CG7-1234",
            "Latitude 5490",
            "ProDesk 600",
            "7,0 kg (est.)",
            shown[2].as_str(),
            "coord_a",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }

    // The public verification: what was issued, nothing personal, and the file.
    let (status, v) = verify(&app, &doc.id, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let check: DocumentCheck = serde_json::from_value(v).expect("check");
    assert_eq!(check.kind, DocumentKind::CollectionReceipt);
    assert!(check.title.contains("20/11/2026"), "{}", check.title);
    assert!(
        !check.title.contains("Mairie"),
        "no donor in {}",
        check.title
    );
    assert_eq!(check.matches, None);
    let typed = doc.id.replace('-', " ").to_lowercase();
    let (status, v) = verify(&app, &typed, Some(bytes.clone())).await;
    assert_eq!(
        (status, &v["matches"]),
        (StatusCode::OK, &json!(true)),
        "{v}"
    );
    let mut changed = bytes.clone();
    let at = changed.len() / 2;
    changed[at] ^= 1;
    let (status, v) = verify(&app, &doc.id, Some(changed)).await;
    assert_eq!(
        (status, &v["matches"]),
        (StatusCode::OK, &json!(false)),
        "{v}"
    );
    let (status, v) = verify(&app, "K7M2-9QX8-T4WZ", Some(bytes.clone())).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::NOT_FOUND, "document_not_found")
    );
    let (status, v) = verify(&app, "not-an-id", None).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::NOT_FOUND, "document_not_found")
    );

    // The collection lists its documents.
    let listed: CollectionDocuments = app.get_ok(&path, &w.tech_a1).await;
    assert_eq!(listed.issued, vec![doc]);
    let (status, _) = app.get(&path, &w.coord_b).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_erasure_certificate_waits_for_every_drive_and_for_a_signer() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let c = collection(&app, &w).await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 3).await;
    // As the documents print them: as the label reads.
    let shown: Vec<String> = codes.iter().map(|c| code::LabelCode::readable(c)).collect();
    let one = register(
        &app,
        &w,
        &c,
        &codes[0],
        json!({"serial": "5CG7-1234", "asset_tag": "INV-0042",
            "drives": [{"serial": "S3Z9NB0K", "make": "Samsung", "model": "PM981", "size_gb": 256, "bus": "nvme", "media": "ssd"}]}),
    )
    .await;
    let two = register(
        &app,
        &w,
        &c,
        &codes[1],
        json!({"drives": [{"serial": "WD-WX11", "size_gb": 500, "bus": "sata", "media": "hdd"}]}),
    )
    .await;
    register(
        &app,
        &w,
        &c,
        &codes[2],
        json!({"category": "desktop", "no_drive": true}),
    )
    .await;
    let users: Vec<UserView> = app.get_ok("/api/v1/users", &w.admin).await;
    let id_of = |name: &str| users.iter().find(|u| u.username == name).expect("user").id;
    let set_right = |user: UserId, on: bool| {
        let app = &app;
        let admin = w.admin.clone();
        async move {
            app.request(
                Method::PATCH,
                &format!("/api/v1/users/{user}"),
                Some(&admin),
                Some(&json!({"data_security": on})),
            )
            .await
        }
    };

    // Without the right: refused, whatever the drives.
    let (status, v) = issue(&app, &w.coord_a, &c, "erasure_certificate").await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::FORBIDDEN, "data_security_required")
    );
    let (status, v) = issue(&app, &w.admin, &c, "erasure_certificate").await;
    assert_eq!((status, code_of(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    // The right is for technicians and coordinators only.
    let (status, v) = set_right(id_of("social_a"), true).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
    );
    let (status, v) = set_right(id_of("coord_a"), true).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["data_security"], json!(true));
    let (status, v) = app
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{}", id_of("coord_a")),
            Some(&w.coord_b),
            Some(&json!({"data_security": true})),
        )
        .await;
    assert_eq!((status, code_of(&v)), (StatusCode::FORBIDDEN, "forbidden"));

    // With the right, while drives are pending: refused, each pending drive named.
    let (status, v) = issue(&app, &w.coord_a, &c, "erasure_certificate").await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::CONFLICT, "drives_pending")
    );
    let pending: Vec<String> = v["details"]["pending"]
        .as_array()
        .expect("pending")
        .iter()
        .filter_map(|p| p["serial"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(pending, ["S3Z9NB0K", "WD-WX11"]);
    let overview: CollectionDocuments = app
        .get_ok(
            &format!("/api/v1/collections/{}/documents", c.id),
            &w.coord_a,
        )
        .await;
    assert_eq!(overview.pending.len(), 2);
    assert!(overview.may_sign);

    // One drive erased at the bench, the other destroyed: one still pending, then none.
    let one = app
        .step_ok(
            &w.tech_a1,
            &one,
            "t1",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    let mut erasure = erase("S3Z9NB0K");
    erasure["tool"] = json!("nwipe");
    erasure["tool_version"] = json!("0.37");
    erasure["method"] = json!("PRNG Stream");
    erasure["report"] = json!(
        "nwipe: info: Starting round 1 of 1\nnwipe: notice: Verified that the device is erased\nnwipe: notice: /dev/nvme0n1 Erased"
    );
    app.step_ok(&w.tech_a1, &one, "e1", erasure).await;
    // One device's own certificate: its drive erased, the other device still pending.
    let item_docs = |id: ItemId| format!("/api/v1/items/{id}/documents");
    let cert = json!({"kind": "erasure_certificate"});
    let (status, v) = app.post(&item_docs(two.id), &w.coord_a, &cert).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::CONFLICT, "drives_pending")
    );
    let (status, v) = app.post(&item_docs(one.id), &w.tech_a1, &cert).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::FORBIDDEN, "data_security_required")
    );
    let (status, v) = app.post(&item_docs(one.id), &w.coord_b, &cert).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let own: IssuedDocument = app.post_ok(&item_docs(one.id), &w.coord_a, &cert).await;
    assert!(own.signed && own.title.contains(&shown[0]), "{own:?}");
    let listed: Vec<IssuedDocument> = app.get_ok(&item_docs(one.id), &w.tech_a1).await;
    assert_eq!(listed, vec![own.clone()]);
    let (_, own_pdf) = pdf(&app, &w.coord_a, &own.id).await;
    if let Some(text) = pdf_text(&own_pdf).map(|t| flat(&t)) {
        assert!(
            text.contains(&format!("Appareil {}", shown[0]))
                && text.contains("S3Z9NB0K")
                && text.contains("1 disque(s) : 1 effacé(s), 0 détruit(s)")
                && !text.contains("WD-WX11"),
            "{text}"
        );
    }
    let (status, v) = issue(&app, &w.coord_a, &c, "erasure_certificate").await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::CONFLICT, "drives_pending")
    );
    assert_eq!(v["details"]["pending"][0]["serial"], json!("WD-WX11"));
    let two = app
        .step_ok(
            &w.tech_a1,
            &two,
            "t2",
            json!({"type": "triage", "route": "recycle"}),
        )
        .await
        .item;
    app.step_ok(
        &w.tech_a1,
        &two,
        "d2",
        json!({"type": "destroy_drive", "serial": "WD-WX11", "method": "broyage"}),
    )
    .await;
    assert_eq!(issued_count(&app), 1, "the device's own certificate only");

    // A technician of the site without the right, then a right taken back: refused.
    let (status, v) = issue(&app, &w.tech_a1, &c, "erasure_certificate").await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::FORBIDDEN, "data_security_required")
    );
    set_right(id_of("coord_a"), false).await;
    let (status, v) = issue(&app, &w.coord_a, &c, "erasure_certificate").await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::FORBIDDEN, "data_security_required")
    );
    assert_eq!(issued_count(&app), 1);
    set_right(id_of("coord_a"), true).await;

    let (status, v) = issue(&app, &w.coord_a, &c, "erasure_certificate").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let doc: IssuedDocument = serde_json::from_value(v).expect("document");
    assert!(doc.signed);
    assert_eq!(doc.kind, DocumentKind::ErasureCertificate);
    let (_, bytes) = pdf(&app, &w.tech_a1, &doc.id).await;
    assert_eq!(sha256_hex(&bytes), doc.sha256);
    if let Some(text) = pdf_text(&bytes).map(|t| flat(&t)) {
        for expected in [
            "Certificat d'effacement des données",
            doc.id.as_str(),
            "2 disque(s) : 1 effacé(s), 1 détruit(s) ; 1 appareil(s) sans disque",
            "S3Z9NB0K",
            "Samsung PM981",
            "256 Go",
            "INV-0042",
            "Purge (effacement renforcé)",
            "Commande d'effacement du disque",
            "nwipe 0.37",
            "PRNG Stream",
            "vérifié par l'outil",
            "20/11/2026 10:00",
            "Verified that the device is erased",
            "Effacé par",
            "tech_a1",
            "WD-WX11",
            "Destroy (destruction)",
            "broyage",
            "Appareils sans disque",
            shown[2].as_str(),
            "Signé par coord_a (Coordinateur",
            "sécurité des données",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }
    let (_, v) = verify(&app, &doc.id, Some(bytes)).await;
    assert_eq!(v["signed"], json!(true));
    assert_eq!(v["matches"], json!(true));
}

#[actix_web::test]
async fn the_outcome_report_follows_each_asset_tag_to_its_end() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let c = collection(&app, &w).await;
    let codes = app.codes(t, w.site_a1, 5).await;
    // As the documents print them: as the label reads.
    let shown: Vec<String> = codes.iter().map(|c| code::LabelCode::readable(c)).collect();
    let drive = |s: &str| json!([{"serial": s, "size_gb": 500, "bus": "sata", "media": "hdd"}]);
    // A laptop made ready.
    let a = register(
        &app,
        &w,
        &c,
        &codes[0],
        json!({"asset_tag": "INV-1", "weight_g": 1600, "drives": drive("DA")}),
    )
    .await;
    let a = app
        .step_ok(t, &a, "a1", json!({"type": "triage", "route": "refurbish"}))
        .await
        .item;
    let a = app.step_ok(t, &a, "a2", erase("DA")).await.item;
    let a = app.step_ok(t, &a, "a3", qa_pass()).await.item;
    app.step_ok(t, &a, "a4", json!({"type": "mark_ready"}))
        .await;
    // A desktop taken apart: its drive erased and kept as a part.
    let b = register(
        &app,
        &w,
        &c,
        &codes[1],
        json!({"category": "desktop", "asset_tag": "INV-2", "model": "OptiPlex 7050",
        "weight_g": 7500, "drives": drive("DB")}),
    )
    .await;
    let b = app
        .step_ok(t, &b, "b1", json!({"type": "triage", "route": "harvest"}))
        .await
        .item;
    let b = app.step_ok(t, &b, "b2", erase("DB")).await.item;
    app.step_ok(
        t,
        &b,
        "b3",
        json!({"type": "harvest_part", "code": codes[4], "category": "hdd",
        "drive_serial": "DB", "specs": {"part_spec": "500 GB", "storage_gb": 500}}),
    )
    .await;
    // A laptop recycled: its drive destroyed, handed over in a WEEE batch.
    let batch: WeeeBatchView = app
        .post_ok(
            "/api/v1/weee-batches",
            t,
            &json!({"site": w.site_a1, "recycler": w.recycler}),
        )
        .await;
    let r = register(
        &app,
        &w,
        &c,
        &codes[2],
        json!({"asset_tag": "INV-3", "weight_g": 2100, "drives": drive("DC")}),
    )
    .await;
    let r = app
        .step_ok(t, &r, "c1", json!({"type": "triage", "route": "recycle"}))
        .await
        .item;
    let r = app
        .step_ok(
            t,
            &r,
            "c2",
            json!({"type": "destroy_drive", "serial": "DC", "method": "broyage"}),
        )
        .await
        .item;
    app.step_ok(
        t,
        &r,
        "c3",
        json!({"type": "add_to_weee_batch", "batch": batch.id}),
    )
    .await;
    let _: WeeeBatchView = app
        .post_ok(
            &format!("/api/v1/weee-batches/{}/close", batch.id),
            t,
            &json!({"weight_g": 2200}),
        )
        .await;
    let _: WeeeBatchView = app
        .post_ok(
            &format!("/api/v1/weee-batches/{}/handover", batch.id),
            t,
            &json!({"waste_form_ref": "BSD-2026-000777"}),
        )
        .await;
    // A monitor still waiting, not weighed.
    register(
        &app,
        &w,
        &c,
        &codes[3],
        json!({"category": "monitor", "asset_tag": "INV-4", "model": "P2219H", "no_drive": true}),
    )
    .await;

    let doc: IssuedDocument = app
        .post_ok(
            &format!("/api/v1/collections/{}/documents", c.id),
            t,
            &json!({"kind": "outcome_report"}),
        )
        .await;
    assert_eq!(doc.kind, DocumentKind::OutcomeReport);
    let (_, bytes) = pdf(&app, &w.coord_a, &doc.id).await;
    assert_eq!(sha256_hex(&bytes), doc.sha256);
    let Some(text) = pdf_text(&bytes).map(|t| flat(&t)) else {
        return;
    };
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Paris);
    let batch_line = format!(
        "lot DEEE n° {} confié à Recycleur, remis le {}, bordereau BSD-2026-000777",
        batch.id,
        today.format("%d/%m/%Y")
    );
    for expected in [
        "Rapport de devenir des équipements",
        doc.id.as_str(),
        "Mairie (organisme public)",
        // Per asset tag: the outcome, the weight (the monitor's typical one), the CO2e.
        &format!(
            "INV-1 {} Dell Latitude 5490 prêt au réemploi 1,6 kg 54 kg CO2e",
            shown[0]
        ),
        &format!(
            "INV-2 {} Dell OptiPlex 7050 démonté pour pièces 7,5 kg",
            shown[1]
        ),
        &format!("INV-3 {} Dell Latitude 5490 recyclé 2,1 kg", shown[2]),
        &format!("INV-4 {} Dell P2219H en traitement 4,5 kg*", shown[3]),
        // Where the parts and the batch went.
        &format!(
            "INV-2 ({}) Disque dur {} : en stock, prête au réemploi",
            shown[1], shown[4]
        ),
        &format!("INV-3 ({}) {batch_line}", shown[2]),
        "54 kg CO2e (les appareils réemployés vivent 2 an(s) de plus",
        // Two of four go on, whole or in parts: the 2026 target of 50 % is met.
        "Part réemployée 50 % (2 sur 4, pièces détachées comprises)",
        &format!(
            "50 % en {} pour l'État et les collectivités (décret n° 2023-266 du 12 avril 2023) : \
             atteint par ce don",
            today.format("%Y")
        ),
        "ADEME",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[actix_web::test]
async fn the_recyclers_slip_lists_a_closed_batch_with_its_waste_codes() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let waste: CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &json!({"donor": w.donor_private, "site": w.site_a1, "pickup_date": "2026-11-02",
                "declared_count": 1, "legal_status": "waste", "waste_code": "20 01 36"}),
        )
        .await;
    let codes = app.codes(t, w.site_a1, 2).await;
    // As the documents print them: as the label reads.
    let shown: Vec<String> = codes.iter().map(|c| code::LabelCode::readable(c)).collect();
    let batch: WeeeBatchView = app
        .post_ok(
            "/api/v1/weee-batches",
            t,
            &json!({"site": w.site_a1, "recycler": w.recycler}),
        )
        .await;
    for (i, (code, collection)) in [(&codes[0], Some(waste.id)), (&codes[1], None)]
        .into_iter()
        .enumerate()
    {
        let r: EventResponse = app
            .post_ok(
                "/api/v1/items",
                t,
                &json!({"idempotency_key": format!("w{i}"), "code": code, "category": "monitor",
                    "brand": "Iiyama", "model": "ProLite E2282", "serial": format!("IY-{i}"),
                    "weight_g": 4000 + i as i64 * 500, "no_drive": true, "collection": collection}),
            )
            .await;
        let item = app
            .step_ok(
                t,
                &r.item,
                &format!("t{i}"),
                json!({"type": "triage", "route": "recycle"}),
            )
            .await
            .item;
        app.step_ok(
            t,
            &item,
            &format!("a{i}"),
            json!({"type": "add_to_weee_batch", "batch": batch.id}),
        )
        .await;
    }
    let path = format!("/api/v1/weee-batches/{}/documents", batch.id);
    let slip = json!({"kind": "weee_slip"});
    // Refused: still open, another kind, out of scope, not staff; nothing kept.
    let (status, v) = app.post(&path, t, &slip).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "weee_batch_not_closed")
    );
    let _: WeeeBatchView = app
        .post_ok(
            &format!("/api/v1/weee-batches/{}/close", batch.id),
            t,
            &json!({"weight_g": 9100}),
        )
        .await;
    let (status, v) = app
        .post(&path, t, &json!({"kind": "collection_receipt"}))
        .await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
    );
    let (status, v) = app.post(&path, &w.tech_b, &slip).await;
    assert_eq!(
        (status, code_of(&v)),
        (StatusCode::NOT_FOUND, "weee_batch_not_found")
    );
    let (status, v) = app.post(&path, &w.social_worker_a, &slip).await;
    assert_eq!((status, code_of(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    assert_eq!(issued_count(&app), 0);

    let _: WeeeBatchView = app
        .post_ok(
            &format!("/api/v1/weee-batches/{}/handover", batch.id),
            t,
            &json!({"waste_form_ref": "BSD-20261127-9QZ3"}),
        )
        .await;
    let doc: IssuedDocument = app.post_ok(&path, &w.coord_a, &slip).await;
    assert_eq!(doc.kind, DocumentKind::WeeeSlip);
    let listed: Vec<IssuedDocument> = app.get_ok(&path, t).await;
    assert_eq!(listed, vec![doc.clone()]);
    let (_, bytes) = pdf(&app, t, &doc.id).await;
    assert_eq!(sha256_hex(&bytes), doc.sha256);
    let (_, v) = verify(&app, &doc.id, Some(bytes.clone())).await;
    assert_eq!(v["matches"], json!(true));
    registers(&app, &w, batch.id).await;
    let Some(text) = pdf_text(&bytes).map(|t| flat(&t)) else {
        return;
    };
    for expected in [
        "Bon de remise de DEEE",
        doc.id.as_str(),
        "Recycleur Recycleur",
        &format!("Lot DEEE n° {}", batch.id),
        "Masse pesée 9,1 kg",
        "Somme des objets 2 objet(s), 8,5 kg",
        "Bordereau de suivi BSD-20261127-9QZ3",
        // The waste lot's code, and the default for an item of no waste lot.
        "16 02 14 1 objet(s), 4,5 kg",
        "20 01 36 1 objet(s), 4,0 kg",
        &format!(
            "{} Écran Iiyama ProLite E2282 IY-0 20 01 36 4,0 kg",
            shown[0]
        ),
        &format!(
            "{} Écran Iiyama ProLite E2282 IY-1 16 02 14 4,5 kg",
            shown[1]
        ),
        "Pour le recycleur (nom, date, signature)",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

/// The registers of the world in which a batch of two waste codes was handed over
/// today and a waste collection picked up on 2 November was received.
async fn registers(app: &TestApp, w: &World, batch: WeeeBatchId) {
    use filiere_shared::registers::{INCOMING, OUTGOING};
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%d")
        .to_string();
    let csv = |path: String, token: String| async move {
        let (status, headers, body) = app.raw(Method::GET, &path, Some(&token), None).await;
        let text = String::from_utf8(body).expect("utf-8");
        (status, headers, text)
    };
    let range = format!("from=2026-01-01&to={today}");
    let (status, headers, text) = csv(
        format!("/api/v1/registers/outgoing.csv?{range}"),
        w.coord_a.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(';').collect()).collect();
    // The national layout, header for header, with no byte-order mark.
    assert_eq!(lines[0], OUTGOING.to_vec());
    assert_eq!(lines.len(), 3, "{text}");
    let at = |row: &Vec<&str>, h: &str| {
        row[OUTGOING.iter().position(|x| *x == h).expect("header")].to_owned()
    };
    let by_code: Vec<(String, String, String, String)> = lines[1..]
        .iter()
        .map(|r| {
            (
                at(r, "Code déchet"),
                at(r, "Identifiant unique"),
                at(r, "Poids en tonnes"),
                at(r, "Type de poids"),
            )
        })
        .collect();
    assert_eq!(
        by_code,
        vec![
            (
                "16 02 14".into(),
                "BSD-20261127-9QZ3-1".into(),
                "0,005".into(),
                "ESTIME".into()
            ),
            (
                "20 01 36".into(),
                "BSD-20261127-9QZ3-2".into(),
                "0,004".into(),
                "ESTIME".into()
            ),
        ]
    );
    assert_eq!(at(&lines[1], "Date d'expédition"), today);
    assert_eq!(at(&lines[1], "Raison sociale du destinataire"), "Recycleur");
    assert_eq!(at(&lines[1], "Code de traitement prévu"), "R 12");
    assert!(at(&lines[1], "Dénomination du déchet").contains(&format!("lot n° {batch}")));

    let (_, _, text) = csv(
        format!("/api/v1/registers/incoming.csv?{range}"),
        w.tech_a1.clone(),
    )
    .await;
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(';').collect()).collect();
    assert_eq!(lines[0], INCOMING.to_vec());
    assert_eq!(lines.len(), 2, "the waste collection only: {text}");
    let at = |h: &str| lines[1][INCOMING.iter().position(|x| *x == h).expect("header")].to_owned();
    assert_eq!(at("Date de réception"), "2026-11-02");
    assert_eq!(at("Code déchet"), "20 01 36");
    assert_eq!(at("Poids en tonnes"), "0,004");
    assert_eq!(at("Type de poids"), "REEL");
    assert_eq!(at("Raison sociale de l'expéditeur"), "Entreprise");
    assert_eq!(at("Type d'expéditeur"), "ETABLISSEMENT_FR");

    // Another region's coordinator: the header alone; a social worker: refused; a
    // date that is none: refused; a period before the handover: nothing.
    let (_, _, text) = csv(
        format!("/api/v1/registers/outgoing.csv?{range}"),
        w.coord_b.clone(),
    )
    .await;
    assert_eq!(text.lines().count(), 1);
    let (status, _, _) = csv(
        "/api/v1/registers/outgoing.csv".to_owned(),
        w.social_worker_a.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, text) = csv(
        "/api/v1/registers/incoming.csv?from=2026-13-01".to_owned(),
        w.coord_a.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let (_, _, text) = csv(
        "/api/v1/registers/outgoing.csv?from=2025-01-01&to=2025-12-31".to_owned(),
        w.coord_a.clone(),
    )
    .await;
    assert_eq!(text.lines().count(), 1);
}

#[test]
fn the_register_samples_in_fixtures_have_the_national_layout() {
    use filiere_shared::registers::{INCOMING, OUTGOING};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/registers");
    for (file, head) in [
        ("registre-dechets-sortants.csv", &OUTGOING[..]),
        ("registre-dechets-entrants.csv", &INCOMING[..]),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).expect("sample");
        let mut lines = text.lines();
        let first: Vec<&str> = lines.next().expect("header").split(';').collect();
        assert_eq!(first, head, "{file}");
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(';').collect()).collect();
        assert!(!rows.is_empty(), "{file} has lines");
        assert!(
            rows.iter().all(|r| r.len() == head.len()),
            "{file}: every line has every column"
        );
    }
}
