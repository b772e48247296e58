//! The sale at the counter through the real server: a pickup sold at the region's
//! solidarity price with split payments and its invoice read back; the legal caps at
//! the sale (a desktop set included) and in a price rule; refusals that write nothing;
//! 50 concurrent sales numbered without a gap; after-sales (a repair extends the
//! guarantee, an exchange restarts it, a refund); the anonymisation sweep run by two
//! processes at once; the role table's new rows.

use chrono::{Datelike, Duration, Utc};
use filiere_shared::api::*;
use filiere_shared::sales::*;
use filiere_shared::social::*;
use filiere_shared::*;
use filiere_tests::*;
use serde_json::{Value, json};

fn code_of(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

fn count(app: &TestApp, sql: &str) -> i64 {
    TestApp::number(&mut app.conn(), sql)
}

fn exec(app: &TestApp, sql: &str) {
    use diesel::RunQueryDsl;
    diesel::sql_query(sql)
        .execute(&mut app.conn())
        .expect("sql");
}

/// The standard world, with the organisation that runs the workshops of region A
/// (selling at sites A1 and A2), a training venue, a price list for laptops, and a
/// collection from the public donor.
struct Shop {
    w: World,
    operator: OrgId,
    venue: OrgId,
    public_collection: CollectionId,
    private_collection: CollectionId,
}

async fn shop(app: &TestApp) -> Shop {
    let SellingWorld { w, operator, venue } = app.selling_world().await;
    let collection = |donor: OrgId| json!({"donor": donor, "site": w.site_a1, "pickup_date": "2026-11-02", "declared_count": 60, "legal_status": "reuse"});
    let public: CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &collection(w.donor_public),
        )
        .await;
    let private: CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &collection(w.donor_private),
        )
        .await;
    Shop {
        operator,
        venue,
        public_collection: public.id,
        private_collection: private.id,
        w,
    }
}

/// A device of `category` taken to `ready` at a site, from a collection.
async fn ready_device(
    app: &TestApp,
    token: &str,
    code: &str,
    category: &str,
    collection: CollectionId,
) -> ItemView {
    let serial = format!("D-{code}");
    let r: EventResponse = app
        .post_ok(
            "/api/v1/items",
            token,
            &json!({"idempotency_key": format!("reg-{code}"), "code": code, "category": category,
                "collection": collection, "brand": "Dell", "model": "Latitude 5490",
                "drives": [{"serial": serial, "size_gb": 256, "bus": "sata", "media": "ssd"}]}),
        )
        .await;
    let mut item = r.item;
    for (k, step) in [
        ("t", json!({"type": "triage", "route": "refurbish"})),
        ("e", erase(&serial)),
        ("q", qa_pass()),
        ("r", json!({"type": "mark_ready"})),
    ] {
        item = app
            .step_ok(token, &item, &format!("{code}-{k}"), step)
            .await
            .item;
    }
    item
}

async fn beneficiary(app: &TestApp, token: &str, reference: &str) -> BeneficiaryView {
    app.post_ok(
        "/api/v1/beneficiaries",
        token,
        &json!({"reference": reference, "household_size": 2, "proof_type": "caf",
            "proof_date": (Utc::now().date_naive() - Duration::days(10)).to_string(),
            "consent": true, "contact": "06 00 00 00 00"}),
    )
    .await
}

/// A reservation of `item` for a new beneficiary, with a seat in a session (or none).
async fn reserve(
    app: &TestApp,
    s: &Shop,
    item: ItemId,
    reference: &str,
    with_training: bool,
) -> ReservationView {
    let w = &s.w;
    let b = beneficiary(app, &w.social_worker_a, reference).await;
    let session = if with_training {
        let t: TrainingSessionView = app
            .post_ok(
                "/api/v1/training-sessions",
                &w.coord_a,
                &json!({"venue": s.venue, "trainer": "Awa", "duration_minutes": 120, "capacity": 8,
                    "starts_at": (Utc::now() + Duration::days(5)).to_rfc3339(),
                    "topics": ["getting_started"]}),
            )
            .await;
        Some(t.id)
    } else {
        None
    };
    app.post_ok(
        "/api/v1/reservations",
        &w.social_worker_a,
        &json!({"item": item, "beneficiary": b.id, "session": session,
            "pickup_at": (Utc::now() + Duration::hours(3)).to_rfc3339()}),
    )
    .await
}

async fn pdf(app: &TestApp, path: &str, token: &str) -> (u16, Vec<u8>) {
    let resp = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("pdf");
    let status = resp.status().as_u16();
    (status, resp.bytes().await.expect("bytes").to_vec())
}

/// The year of the invoices' series: the association's (Europe/Paris), as the server's.
fn year() -> i32 {
    filiere_server::clock::Clock::default()
        .date(Utc::now())
        .year()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pickup_is_sold_at_the_counter_with_its_invoice_and_guarantee() {
    let app = TestApp::spawn().await;
    let s = shop(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 2).await;
    let laptop = ready_device(&app, &w.tech_a1, &codes[0], "laptop", s.public_collection).await;

    // The catalogue shows the region's price (a public body's laptop: the rule's price,
    // within the cap).
    let device: CatalogueDevice = app
        .get_ok(
            &format!("/api/v1/catalogue/{}", laptop.id),
            &w.social_worker_a,
        )
        .await;
    assert_eq!(device.price_cents, Some(9000));

    let r = reserve(&app, &s, laptop.id, "CCAS-42", true).await;
    // The counter lists today's pickup.
    let counter: CounterView = app
        .get_ok(&format!("/api/v1/sites/{}/counter", w.site_a1), &w.tech_a1)
        .await;
    assert_eq!(counter.seller.as_deref(), Some("Atelier A"));
    assert!(
        counter
            .today
            .iter()
            .chain(&counter.week)
            .any(|p| p.id == r.id),
        "the pickup is on the counter"
    );

    // Who may sell it: not a social worker, an admin, another site's technician or
    // another region's coordinator; and who reads a counter.
    let body = json!({"reservation": r.id, "items": [{"item": laptop.id}],
        "payments": [{"method": "cash", "amount_cents": 9000}]});
    for (token, status) in [
        (&w.social_worker_a, 403),
        (&w.admin, 403),
        (&w.tech_a2, 404),
        (&w.tech_b, 404),
        (&w.coord_b, 404),
    ] {
        let (st, v) = app.post("/api/v1/sales", token, &body).await;
        assert_eq!(st.as_u16(), status, "{v}");
    }
    for (token, status) in [
        (&w.social_worker_a, 403),
        (&w.admin, 403),
        (&w.tech_a2, 403),
        (&w.coord_b, 403),
        (&w.coord_a, 200),
    ] {
        let (st, _) = app
            .get(&format!("/api/v1/sites/{}/counter", w.site_a1), token)
            .await;
        assert_eq!(st.as_u16(), status);
    }
    let (st, _) = app.get("/api/v1/prices", &w.tech_a1).await;
    assert_eq!(
        st.as_u16(),
        403,
        "prices are the coordination's and the social side's"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM sales"),
        0,
        "nothing sold by the refusals"
    );

    // Split payments: a partner's voucher for part, the household the rest.
    let sale: SaleView = app
        .post_ok(
            "/api/v1/sales",
            &w.tech_a1,
            &json!({"reservation": r.id, "items": [{"item": laptop.id}], "payments": [
                {"method": "voucher", "amount_cents": 5000, "reference": "CCAS-BON-7"},
                {"method": "cash", "amount_cents": 4000}]}),
        )
        .await;
    assert_eq!(sale.number, format!("F{}-00001", year()));
    assert_eq!(sale.total_cents, 9000);
    assert_eq!(sale.buyer, "CCAS-42");
    assert_eq!(sale.seller, s.operator);
    let until = guarantee_end(filiere_server::clock::Clock::default().date(Utc::now()));
    assert_eq!(sale.lines[0].guarantee_until, Some(until));
    assert!(sale.lines[0].public_body);

    // The device is sold, to the reference only; the reservation fulfilled; the
    // history shows the sale.
    let item: ItemView = app
        .get_ok(&format!("/api/v1/items/{}", laptop.id), &w.tech_a1)
        .await;
    assert_eq!(item.state, ItemState::Sold);
    let mark = item.sale.expect("sale mark");
    assert_eq!(
        (mark.buyer.as_str(), mark.guarantee_until),
        ("CCAS-42", until)
    );
    let res: ReservationView = app
        .get_ok(
            &format!("/api/v1/reservations/{}", r.id),
            &w.social_worker_a,
        )
        .await;
    assert_eq!(res.status, ReservationStatus::Fulfilled);
    let h: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", laptop.id), &w.tech_a1)
        .await;
    assert_eq!(event_types(&h).last(), Some(&"sold"));
    // No step at the bench on a sold device.
    let (st, v) = app
        .step(
            &w.tech_a1,
            &item_view(&app, w, laptop.id).await,
            "after-sale",
            json!({"type": "triage", "route": "harvest"}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "invalid_transition"));

    // The invoice: its number, the seller's SIRET, the reference and the voucher, the
    // device's label as it reads on the sticker, the payments, the VAT mention, the
    // guarantee's end and the legal mentions.
    let (st, bytes) = pdf(
        &app,
        &format!("/api/v1/sales/{}/invoice.pdf", sale.id),
        &w.coord_a,
    )
    .await;
    assert_eq!(st, 200);
    assert!(bytes.starts_with(b"%PDF"));
    if let Some(text) = pdf_text(&bytes) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for needle in [
            format!("Facture n° F{}-00001", year()),
            "SIRET : 824 157 362 00016".to_owned(),
            "référence CCAS-42".to_owned(),
            format!("n° {}", r.id),
            code::LabelCode::readable(&codes[0]),
            "90,00 €".to_owned(),
            "Bon d'un partenaire (réf. CCAS-BON-7) : 50,00 €".to_owned(),
            "Espèces : 40,00 €".to_owned(),
            "TVA non applicable, art. 293 B du CGI".to_owned(),
            format!("jusqu'au {} inclus", until.format("%d/%m/%Y")),
            "L217-7".to_owned(),
            "douze mois".to_owned(),
            "Produit reconditionné".to_owned(),
            "décret du 7 novembre 2022".to_owned(),
        ] {
            assert!(flat.contains(&needle), "{needle:?} missing from:\n{text}");
        }
    }

    // Who sees it: the counter's site, the region's coordinator, the beneficiary's
    // organisation; not another site's technician, another region, or an admin.
    let mine: Vec<SaleView> = app.get_ok("/api/v1/sales", &w.social_worker_a).await;
    assert_eq!(mine.len(), 1);
    for (token, status) in [(&w.tech_a2, 404), (&w.coord_b, 404), (&w.admin, 403)] {
        let (st, _) = app.get(&format!("/api/v1/sales/{}", sale.id), token).await;
        assert_eq!(st.as_u16(), status);
    }
    let (st, _) = pdf(
        &app,
        &format!("/api/v1/sales/{}/invoice.pdf", sale.id),
        &w.tech_b,
    )
    .await;
    assert_eq!(st, 404);
}

async fn item_view(app: &TestApp, w: &World, id: ItemId) -> ItemView {
    app.get_ok(&format!("/api/v1/items/{id}"), &w.tech_a1).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refused_sales_write_nothing_and_give_no_number_away() {
    let app = TestApp::spawn().await;
    let s = shop(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 6).await;
    let laptop = ready_device(&app, &w.tech_a1, &codes[0], "laptop", s.public_collection).await;
    let tower = ready_device(&app, &w.tech_a1, &codes[1], "desktop", s.public_collection).await;
    let screen = ready_device(&app, &w.tech_a1, &codes[2], "monitor", s.private_collection).await;
    let untrained = ready_device(&app, &w.tech_a1, &codes[3], "laptop", s.private_collection).await;
    let r = reserve(&app, &s, laptop.id, "R-1", true).await;
    let r_tower = reserve(&app, &s, tower.id, "R-2", true).await;
    let r_untrained = reserve(&app, &s, untrained.id, "R-3", false).await;
    let versions = async || {
        let mut v = Vec::new();
        for item in [&laptop, &tower, &screen] {
            v.push(item_view(&app, w, item.id).await.version);
        }
        v
    };
    let versions_before = versions().await;
    let tables = || {
        [
            "sales",
            "sale_lines",
            "payments",
            "document_counters",
            "item_events",
        ]
        .map(|t| count(&app, &format!("SELECT COUNT(*) AS n FROM {t}")))
    };
    let before = tables();
    let sale = |reservation: ReservationId, items: Value, payments: Value| json!({"reservation": reservation, "items": items, "payments": payments});
    let cash = |cents: u32| json!([{"method": "cash", "amount_cents": cents}]);
    for (body, status, code) in [
        // Over the cap of a public body's laptop (180 €).
        (
            sale(
                r.id,
                json!([{"item": laptop.id, "price_cents": 18001}]),
                cash(18001),
            ),
            422,
            "over_price_cap",
        ),
        // A desktop from a public body and its screen: one set, 150 € at most.
        (
            sale(
                r_tower.id,
                json!([{"item": tower.id, "price_cents": 13000}, {"item": screen.id, "price_cents": 3000}]),
                cash(16000),
            ),
            422,
            "over_price_cap",
        ),
        // Payments short of the total.
        (
            sale(r.id, json!([{"item": laptop.id}]), cash(8000)),
            422,
            "payments_mismatch",
        ),
        // Neither a seat booked nor a refusal recorded.
        (
            sale(r_untrained.id, json!([{"item": untrained.id}]), cash(9000)),
            422,
            "training_missing",
        ),
        // A reservation's sale must hand over its device.
        (
            sale(
                r.id,
                json!([{"item": screen.id, "price_cents": 2000}]),
                cash(2000),
            ),
            409,
            "not_for_sale",
        ),
        // Another reservation's device.
        (
            sale(
                r.id,
                json!([{"item": laptop.id}, {"item": tower.id, "price_cents": 1000}]),
                cash(10000),
            ),
            409,
            "not_for_sale",
        ),
        // No price rule for monitors, and no price given.
        (
            sale(
                r.id,
                json!([{"item": laptop.id}, {"item": screen.id}]),
                cash(9000),
            ),
            422,
            "price_missing",
        ),
        // No reservation: only a coordinator's partner sale may do without.
        (
            json!({"items": [{"item": screen.id, "price_cents": 1000}], "payments": []}),
            422,
            "invalid_value",
        ),
        // A credit note pays only an exchange.
        (
            sale(
                r.id,
                json!([{"item": laptop.id}]),
                json!([{"method": "credit_note", "amount_cents": 9000}]),
            ),
            422,
            "invalid_value",
        ),
    ] {
        let (st, v) = app.post("/api/v1/sales", &w.tech_a1, &body).await;
        assert_eq!((st.as_u16(), code_of(&v)), (status, code), "{body} -> {v}");
        assert!(!v["message"].as_str().unwrap_or("").is_empty());
    }
    // A lapsed proof.
    exec(
        &app,
        "UPDATE beneficiaries SET proof_date = '2020-01-01' WHERE reference = 'R-1'",
    );
    let (st, v) = app
        .post(
            "/api/v1/sales",
            &w.tech_a1,
            &sale(r.id, json!([{"item": laptop.id}]), cash(9000)),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "proof_lapsed"));
    assert_eq!(tables(), before, "nothing written");
    assert_eq!(versions().await, versions_before, "no step taken");

    // Within the cap, the set sells: 120 € + 30 € = 150 €, and the first number of
    // the year is still free.
    let ok: SaleView = app
        .post_ok(
            "/api/v1/sales",
            &w.tech_a1,
            &sale(
                r_tower.id,
                json!([{"item": tower.id, "price_cents": 12000}, {"item": screen.id, "price_cents": 3000}]),
                json!([{"method": "card", "amount_cents": 10000}, {"method": "free", "amount_cents": 5000}]),
            ),
        )
        .await;
    assert_eq!(ok.number, format!("F{}-00001", year()));
    assert_eq!(ok.lines.len(), 2);
    assert_eq!(ok.payments.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn price_rules_hold_to_the_legal_caps_and_to_the_region() {
    let app = TestApp::spawn().await;
    let s = shop(&app).await;
    let w = &s.w;
    let rule = |category: &str, price: u32, pb: Option<u32>| json!({"region": w.region_a, "category": category, "price_cents": price, "public_body_price_cents": pb});
    // 200 € for a laptop would apply to a public body's laptop: refused…
    let (st, v) = app
        .post(
            "/api/v1/price-rules",
            &w.coord_a,
            &rule("laptop", 20000, None),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "over_price_cap"));
    assert_eq!(v["details"]["max_cents"], json!(18000));
    // …unless it prices those apart, within the cap.
    let r: PriceRuleView = app
        .post_ok(
            "/api/v1/price-rules",
            &w.coord_a,
            &rule("laptop", 20000, Some(18000)),
        )
        .await;
    assert_eq!(r.public_body_price_cents, Some(18000));
    let (st, v) = app
        .post(
            "/api/v1/price-rules",
            &w.coord_a,
            &rule("monitor", 2000, Some(3500)),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "over_price_cap"));
    // The same key replaces the rule.
    let list: PriceList = app.get_ok("/api/v1/prices", &w.coord_a).await;
    assert_eq!(
        list.rules
            .iter()
            .filter(|r| r.category == Category::Laptop)
            .count(),
        1
    );
    assert_eq!(list.caps.len(), 7);
    // The caps are data an admin sets, with their legal reference.
    let cap = list
        .caps
        .iter()
        .find(|c| c.category == CapCategory::Laptop)
        .expect("laptop cap");
    assert!(cap.legal_reference.contains("7 novembre 2022"));
    let caps_body =
        json!({"max_cents": 17000, "legal_reference": "Décret du 7 novembre 2022 (test)"});
    for (token, status) in [(&w.coord_a, 403), (&w.tech_a1, 403)] {
        let (st, _) = app
            .request(
                reqwest::Method::PUT,
                "/api/v1/price-caps/laptop",
                Some(token),
                Some(&caps_body),
            )
            .await;
        assert_eq!(st.as_u16(), status);
    }
    let (st, v) = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/price-caps/laptop",
            Some(&w.admin),
            Some(&caps_body),
        )
        .await;
    assert_eq!(st.as_u16(), 200, "{v}");
    // Who sets prices: the region's coordinator (and admins); nobody else.
    for (token, status) in [
        (&w.coord_b, 403),
        (&w.tech_a1, 403),
        (&w.social_worker_a, 403),
    ] {
        let (st, _) = app
            .post("/api/v1/price-rules", token, &rule("tablet", 5000, None))
            .await;
        assert_eq!(st.as_u16(), status);
    }
    let (st, _) = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/price-rules/{}", r.id),
            Some(&w.coord_b),
            None,
        )
        .await;
    assert_eq!(st.as_u16(), 404);
    let (st, _) = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/price-rules/{}", r.id),
            Some(&w.coord_a),
            None,
        )
        .await;
    assert_eq!(st.as_u16(), 204);
    // Everyone of the region reads the prices (the catalogue shows them).
    let seen: PriceList = app.get_ok("/api/v1/prices", &w.social_worker_a).await;
    assert_eq!(seen.caps.len(), 7);
    let (st, _) = app
        .get(&format!("/api/v1/prices?region={}", w.region_b), &w.coord_a)
        .await;
    assert_eq!(st.as_u16(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_sales_get_fifty_consecutive_invoice_numbers() {
    let app = TestApp::spawn().await;
    let s = shop(&app).await;
    let w = &s.w;
    let partner = w.social_a;
    let codes = app.codes(&w.tech_a1, w.site_a1, 50).await;
    let mut items = Vec::new();
    for c in &codes {
        items.push(ready_device(&app, &w.tech_a1, c, "laptop", s.private_collection).await);
    }
    let mut tasks = Vec::new();
    for item in &items {
        let client = app.client.clone();
        let url = format!("{}/api/v1/sales", app.base);
        let token = w.coord_a.clone();
        let body = json!({"partner": partner, "site": w.site_a1,
            "reason": "Équipement de la salle informatique du CCAS",
            "items": [{"item": item.id, "price_cents": 5000}],
            "payments": [{"method": "cheque", "amount_cents": 5000}]});
        tasks.push(tokio::spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("send");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.expect("json"))
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        let (status, v) = t.await.expect("task");
        assert_eq!(status, 200, "{v}");
        numbers.push(v["number"].as_str().expect("number").to_owned());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("F{}-{n:05}", year())).collect();
    assert_eq!(numbers, expected);
    assert_eq!(
        count(
            &app,
            "SELECT last_number AS n FROM document_counters WHERE kind = 'invoice'"
        ),
        50
    );
    // Sold from `ready`: none is left in the catalogue.
    let page: CataloguePage = app.get_ok("/api/v1/catalogue", &w.coord_a).await;
    assert_eq!(page.total, 0);
    // A partner sale is the coordinator's: a technician's is refused, and so is one
    // to an organisation that is not a social partner.
    let body = |partner: OrgId| {
        json!({"partner": partner, "site": w.site_a1, "reason": "x",
        "items": [{"item": items[0].id, "price_cents": 0}], "payments": []})
    };
    let (st, _) = app.post("/api/v1/sales", &w.tech_a1, &body(partner)).await;
    assert_eq!(st.as_u16(), 403);
    let (st, v) = app
        .post("/api/v1/sales", &w.coord_a, &body(w.donor_private))
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "invalid_recipient"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_sales_repair_extends_the_guarantee_and_an_exchange_restarts_it() {
    let app = TestApp::spawn().await;
    let s = shop(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 4).await;
    let a = ready_device(&app, &w.tech_a1, &codes[0], "laptop", s.private_collection).await;
    let b = ready_device(&app, &w.tech_a1, &codes[1], "laptop", s.private_collection).await;
    let spare = ready_device(&app, &w.tech_a1, &codes[2], "laptop", s.private_collection).await;
    let c = ready_device(&app, &w.tech_a1, &codes[3], "laptop", s.private_collection).await;
    let mut sales = Vec::new();
    for (item, reference) in [(&a, "AS-1"), (&b, "AS-2"), (&c, "AS-3")] {
        let r = reserve(&app, &s, item.id, reference, true).await;
        let sale: SaleView = app
            .post_ok(
                "/api/v1/sales",
                &w.tech_a1,
                &json!({"reservation": r.id, "items": [{"item": item.id}],
                    "payments": [{"method": "cash", "amount_cents": 9000}]}),
            )
            .await;
        sales.push(sale);
    }
    let end = guarantee_end(filiere_server::clock::Clock::default().date(Utc::now()));

    // A: brought back, repaired, handed back with six months more.
    let back: SaleView = app
        .post_ok(
            &format!("/api/v1/sales/{}/returns", sales[0].id),
            &w.tech_a1,
            &json!({"item": a.id, "reason": "Le clavier ne répond plus"}),
        )
        .await;
    let case = back.after_sales[0].id;
    assert_eq!(back.lines[0].status, SaleLineStatus::Returned);
    let item = item_view(&app, w, a.id).await;
    assert_eq!(item.state, ItemState::Returned);
    // Not stock: the bench cannot triage it before after-sales decides.
    let (st, v) = app
        .step(
            &w.tech_a1,
            &item,
            "a-triage",
            json!({"type": "triage", "route": "harvest"}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "after_sales_pending"));
    let (st, v) = app
        .post(
            &format!("/api/v1/sales/{}/returns", sales[0].id),
            &w.tech_a1,
            &json!({"item": a.id, "reason": "again"}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "after_sales_pending"));
    let _: SaleView = app
        .post_ok(
            &format!("/api/v1/after-sales/{case}/settle"),
            &w.tech_a1,
            &json!({"outcome": "repair", "reason": "Clavier remplacé"}),
        )
        .await;
    let item = item_view(&app, w, a.id).await;
    assert_eq!(item.state, ItemState::Refurbishing);
    // Handed back only once tested again.
    let (st, v) = app
        .post(
            &format!("/api/v1/after-sales/{case}/hand-back"),
            &w.tech_a1,
            &json!({}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "qa_missing"));
    let (st, v) = app
        .step(&w.tech_a1, &item, "a-ready", json!({"type": "mark_ready"}))
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "after_sales_pending"));
    app.step_ok(&w.tech_a1, &item, "a-qa", qa_pass()).await;
    let done: SaleView = app
        .post_ok(
            &format!("/api/v1/after-sales/{case}/hand-back"),
            &w.tech_a1,
            &json!({}),
        )
        .await;
    let extended = extended_by_repair(end);
    assert_eq!(done.lines[0].guarantee_until, Some(extended));
    assert_eq!(done.lines[0].status, SaleLineStatus::Sold);
    assert!(!done.after_sales[0].open);
    let item = item_view(&app, w, a.id).await;
    assert_eq!(item.state, ItemState::Sold);
    assert_eq!(item.sale.map(|m| m.guarantee_until), Some(extended));
    let h: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", a.id), &w.tech_a1)
        .await;
    let types = event_types(&h);
    for t in [
        "sold",
        "returned",
        "repair_started",
        "qa_tested",
        "handed_back",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }

    // B: exchanged for the spare: a credit note, a new invoice paid by it, a new
    // guarantee from today; B is the workshop's again, to triage.
    let back: SaleView = app
        .post_ok(
            &format!("/api/v1/sales/{}/returns", sales[1].id),
            &w.tech_a1,
            &json!({"item": b.id, "reason": "Écran fêlé à la livraison"}),
        )
        .await;
    let case = back.after_sales[0].id;
    let (st, v) = app
        .post(
            &format!("/api/v1/after-sales/{case}/settle"),
            &w.tech_a1,
            &json!({"outcome": "exchange", "reason": "Pas de dalle en stock"}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "invalid_value"));
    let settled: SaleView = app
        .post_ok(
            &format!("/api/v1/after-sales/{case}/settle"),
            &w.tech_a1,
            &json!({"outcome": "exchange", "reason": "Pas de dalle en stock", "replacement": spare.id}),
        )
        .await;
    let case_view = &settled.after_sales[0];
    assert_eq!(case_view.outcome, Some(AfterSalesOutcome::Exchange));
    let note: SaleView = app
        .get_ok(
            &format!(
                "/api/v1/sales/{}",
                case_view.credit_note.expect("credit note")
            ),
            &w.coord_a,
        )
        .await;
    assert_eq!(note.kind, SaleKind::CreditNote);
    assert_eq!(note.number, format!("AV{}-00001", year()));
    assert_eq!(note.credits, Some(sales[1].id));
    let new: SaleView = app
        .get_ok(
            &format!(
                "/api/v1/sales/{}",
                case_view.replacement_sale.expect("new invoice")
            ),
            &w.coord_a,
        )
        .await;
    assert_eq!(new.number, format!("F{}-00004", year()));
    assert_eq!(new.lines[0].item, spare.id);
    assert_eq!(new.lines[0].guarantee_until, Some(end));
    assert_eq!(new.payments[0].method, PaymentMethod::CreditNote);
    assert_eq!(
        new.payments[0].reference.as_deref(),
        Some(note.number.as_str())
    );
    assert_eq!(new.buyer, "AS-2");
    assert_eq!(
        note.payments[0].reference.as_deref(),
        Some(new.number.as_str()),
        "the credit note is settled against the new invoice"
    );
    let (st, bytes) = pdf(
        &app,
        &format!("/api/v1/sales/{}/invoice.pdf", note.id),
        &w.tech_a1,
    )
    .await;
    assert_eq!(st, 200);
    if let Some(text) = pdf_text(&bytes) {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for needle in [
            format!("Avoir n° {}", note.number),
            format!("la facture n° {}", sales[1].number),
            format!("imputé sur la facture {}", new.number),
            "Pas de dalle en stock".to_owned(),
        ] {
            assert!(flat.contains(&needle), "{needle:?} missing from:\n{text}");
        }
    }
    let returned = item_view(&app, w, b.id).await;
    assert_eq!(returned.state, ItemState::Returned);
    assert!(returned.sale.is_none());
    app.step_ok(
        &w.tech_a1,
        &returned,
        "b-triage",
        json!({"type": "triage", "route": "refurbish"}),
    )
    .await;
    assert_eq!(item_view(&app, w, spare.id).await.state, ItemState::Sold);

    // C: refunded by card: a credit note; a settled case stays settled.
    let back: SaleView = app
        .post_ok(
            &format!("/api/v1/sales/{}/returns", sales[2].id),
            &w.tech_a1,
            &json!({"item": c.id, "reason": "Ne démarre plus"}),
        )
        .await;
    let case = back.after_sales[0].id;
    let refunded: SaleView = app
        .post_ok(
            &format!("/api/v1/after-sales/{case}/settle"),
            &w.tech_a1,
            &json!({"outcome": "refund", "reason": "Carte mère hors service", "refund_method": "card"}),
        )
        .await;
    assert_eq!(refunded.lines[0].status, SaleLineStatus::Refunded);
    let (st, v) = app
        .post(
            &format!("/api/v1/after-sales/{case}/settle"),
            &w.tech_a1,
            &json!({"outcome": "refund", "reason": "twice", "refund_method": "cash"}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "after_sales_closed"));
    let notes: Vec<SaleView> = app
        .get_ok("/api/v1/sales?kind=credit_note", &w.coord_a)
        .await;
    assert_eq!(notes.len(), 2);
    // Outside the guarantee, no return.
    exec(
        &app,
        &format!(
            "UPDATE sale_lines SET guarantee_until = '2020-01-01' WHERE sale_id = {}",
            new.id
        ),
    );
    let (st, v) = app
        .post(
            &format!("/api/v1/sales/{}/returns", new.id),
            &w.tech_a1,
            &json!({"item": spare.id, "reason": "late"}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "guarantee_over"));
    // After-sales is the counter's: a social worker only sees it.
    let (st, _) = app
        .post(
            &format!("/api/v1/sales/{}/returns", sales[0].id),
            &w.social_worker_a,
            &json!({"item": a.id, "reason": "x"}),
        )
        .await;
    assert_eq!(st.as_u16(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identities_are_anonymised_once_when_their_time_is_up() {
    let app = TestApp::spawn().await;
    let s = shop(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 1).await;
    let laptop = ready_device(&app, &w.tech_a1, &codes[0], "laptop", s.private_collection).await;
    let r = reserve(&app, &s, laptop.id, "BUYER", true).await;
    let sale: SaleView = app
        .post_ok(
            "/api/v1/sales",
            &w.tech_a1,
            &json!({"reservation": r.id, "items": [{"item": laptop.id}],
                "payments": [{"method": "cash", "amount_cents": 9000}]}),
        )
        .await;
    let idle = beneficiary(&app, &w.social_worker_a, "IDLE").await;
    let fresh = beneficiary(&app, &w.social_worker_a, "FRESH").await;
    // Nothing is due yet.
    let db = open_db(&app.url, 2);
    let retention = filiere_server::service::beneficiaries::Retention::default();
    assert_eq!(
        filiere_server::sweeps::anonymise_due(&db, retention)
            .await
            .expect("sweep"),
        0
    );
    // Time passes: the buyer's guarantee ended long ago; the idle one has had no
    // reservation for two years.
    exec(
        &app,
        &format!(
            "UPDATE sale_lines SET guarantee_until = '2023-01-01' WHERE sale_id = {}",
            sale.id
        ),
    );
    let old = (Utc::now() - Duration::days(800)).naive_utc();
    exec(
        &app,
        &format!(
            "UPDATE beneficiaries SET created_at = '{}' WHERE reference IN ('BUYER', 'IDLE')",
            old.format("%Y-%m-%d %H:%M:%S")
        ),
    );
    exec(
        &app,
        &format!(
            "UPDATE reservations SET created_at = '{}'",
            old.format("%Y-%m-%d %H:%M:%S")
        ),
    );
    // Two processes sweep at once: each beneficiary is anonymised once.
    let other = open_db(&app.url, 2);
    let (x, y) = tokio::join!(
        filiere_server::sweeps::anonymise_due(&db, retention),
        filiere_server::sweeps::anonymise_due(&other, retention)
    );
    assert_eq!(x.expect("sweep x") + y.expect("sweep y"), 2);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM beneficiaries WHERE erased_at IS NOT NULL AND contact IS NULL AND proof_date IS NULL"
        ),
        2
    );
    let kept: BeneficiaryView = app
        .get_ok(
            &format!("/api/v1/beneficiaries/{}", fresh.id),
            &w.social_worker_a,
        )
        .await;
    assert!(kept.erased_at.is_none());
    let gone: BeneficiaryView = app
        .get_ok(
            &format!("/api/v1/beneficiaries/{}", idle.id),
            &w.social_worker_a,
        )
        .await;
    assert!(gone.erased_at.is_some());
    // The invoice stays, under the pseudonymous reference.
    let still: SaleView = app
        .get_ok(&format!("/api/v1/sales/{}", sale.id), &w.coord_a)
        .await;
    assert_eq!(still.buyer, "BUYER");
    let (st, _) = pdf(
        &app,
        &format!("/api/v1/sales/{}/invoice.pdf", sale.id),
        &w.social_worker_a,
    )
    .await;
    assert_eq!(st, 200);
}
