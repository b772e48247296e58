//! Authentication, the role/scope table cell by cell, bad input, idempotency,
//! concurrency, the batch form, OpenAPI and languages.

use filiere_shared::api::*;
use filiere_shared::*;
use filiere_tests::*;
use reqwest::Method;
use serde_json::{Value, json};

fn code_of(v: &Value) -> &str {
    v["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_openapi_are_served() {
    let app = TestApp::spawn().await;
    let (s, h) = app.request(Method::GET, "/health", None, None).await;
    assert_eq!(s, 200);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["database"], app.backend.name());
    let (s, doc) = app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(s, 200);
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.")
    );
    for path in [
        "/api/v1/items/{id}/events",
        "/api/v1/resolve",
        "/api/v1/events/batch",
        "/api/v1/auth/badge",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["Command"].is_object());
    // Every reference names a schema of the document (a query parameter's enum too).
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 100, "{} references", found.len());
    let dangling: std::collections::BTreeSet<&str> = found
        .into_iter()
        .filter(|r| {
            r.strip_prefix("#/")
                .is_none_or(|path| doc.pointer(&format!("/{path}")).is_none())
        })
        .collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:?}");
    // Every link names an operation of the document and a path parameter it takes,
    // and comes from an answer that holds the id it points at.
    let operations: std::collections::HashMap<&str, &Value> = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|op| Some((op["operationId"].as_str()?, op)))
        .collect();
    let mut links = 0;
    for (name, op) in &operations {
        for (status, response) in op["responses"].as_object().into_iter().flatten() {
            for (_, link) in response["links"].as_object().into_iter().flatten() {
                links += 1;
                let target = link["operationId"].as_str().unwrap_or_default();
                let Some(target_op) = operations.get(target) else {
                    panic!("{name} {status} links to {target}, not in the document");
                };
                for (param, value) in link["parameters"].as_object().into_iter().flatten() {
                    let takes = target_op["parameters"].as_array().is_some_and(|ps| {
                        ps.iter()
                            .any(|p| p["name"] == param.as_str() && p["in"] == "path")
                    });
                    assert!(takes, "{name} → {target}: no path parameter {param}");
                    let pointer = value.as_str().unwrap_or_default();
                    let Some(fields) = pointer.strip_prefix("$response.body#/") else {
                        panic!("{name} → {target}: {pointer}");
                    };
                    let mut schema =
                        schema::resolve(&response["content"]["application/json"]["schema"]);
                    for field in fields.split('/') {
                        schema = schema::resolve(&schema["properties"][field]);
                        assert!(schema.is_object(), "{name} {status} has no {pointer}");
                    }
                }
            }
        }
    }
    assert!(links >= 19, "{links} links");
    let (s, b) = app
        .request(Method::GET, "/api/v1/nowhere", None, None)
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (404, "not_found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_logout_and_badges() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let anon = |path: &str, body: Value| {
        let app = &app;
        let path = path.to_owned();
        async move { app.request(Method::POST, &path, None, Some(&body)).await }
    };
    let (s, b) = anon(
        "/api/v1/auth/login",
        json!({"username": "tech_a1", "password": "wrong-password"}),
    )
    .await;
    assert_eq!((s.as_u16(), code_of(&b)), (401, "invalid_credentials"));
    let (s, b) = anon(
        "/api/v1/auth/login",
        json!({"username": "nobody", "password": "wrong-password"}),
    )
    .await;
    assert_eq!((s.as_u16(), code_of(&b)), (401, "invalid_credentials"));

    // No token, a bad token, a revoked token.
    let (s, b) = app.request(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!((s.as_u16(), code_of(&b)), (401, "unauthenticated"));
    let (s, _) = app.get("/api/v1/me", "fls_forged").await;
    assert_eq!(s, 401);
    let token = app.login("tech_a2").await;
    let (s, _) = app.get("/api/v1/me", &token).await;
    assert_eq!(s, 200);
    let (s, _) = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = app.get("/api/v1/me", &token).await;
    assert_eq!(s, 401);

    // A change to a user applies to their very next request, although the session
    // was just used (and so remembered by the server).
    let token = app.login("tech_a2").await;
    let me: UserView = app.get_ok("/api/v1/me", &token).await;
    assert_eq!(me.language, Lang::Fr);
    let path = format!("/api/v1/users/{}", me.id);
    let (s, _) = app
        .request(
            Method::PATCH,
            &path,
            Some(&w.admin),
            Some(&json!({"language": "en"})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, b) = app.get("/api/v1/collections/999999", &token).await;
    assert_eq!(b["message"], "Collection not found.", "now in English");
    let (s, _) = app
        .request(
            Method::PATCH,
            &path,
            Some(&w.admin),
            Some(&json!({"active": false})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = app.get("/api/v1/me", &token).await;
    assert_eq!((s.as_u16(), code_of(&b)), (401, "unauthenticated"));

    // Tokens are stored hashed.
    {
        use diesel::prelude::*;
        use filiere_server::schema::sessions;
        let hashes: Vec<String> = sessions::table
            .select(sessions::token_hash)
            .load(&mut app.conn())
            .expect("sessions");
        assert!(!hashes.iter().any(|h| h == &token));
    }

    // A badge at a bench of the technician's site opens a bench session.
    let r: SessionResponse = app
        .post_ok_anon(
            "/api/v1/auth/badge",
            &json!({"bench_token": w.bench_a1_token, "badge": "fb-7mt0-0014"}),
        )
        .await;
    assert_eq!(r.user.username, "tech_a1");
    assert_eq!(r.bench.map(|b| b.site), Some(w.site_a1));
    let (s, b) = anon(
        "/api/v1/auth/badge",
        json!({"bench_token": "flb_nope", "badge": w.badge_tech_a1}),
    )
    .await;
    assert_eq!((s.as_u16(), code_of(&b)), (401, "invalid_bench_token"));
    let (s, b) = anon(
        "/api/v1/auth/badge",
        json!({"bench_token": w.bench_a1_token, "badge": "FB7MT00025"}),
    )
    .await;
    assert_eq!((s.as_u16(), code_of(&b)), (401, "unknown_badge"));
    // A technician of another site may not sign in at this bench.
    let _: UserView = app
        .post_ok(
            "/api/v1/users",
            &w.admin,
            &json!({"username": "tech_b2", "display_name": "B2", "role": "technician",
            "site": w.site_b, "badge": "FB7MT00025"}),
        )
        .await;
    let (s, b) = anon(
        "/api/v1/auth/badge",
        json!({"bench_token": w.bench_a1_token, "badge": "FB7MT00025"}),
    )
    .await;
    assert_eq!((s.as_u16(), code_of(&b)), (403, "badge_wrong_site"));
    // A revoked bench no longer signs anyone in, and whoever was signed in at it is
    // signed out.
    let at_bench = app.bench_session(&w).await;
    let (s, _) = app.get("/api/v1/me", &at_bench.token).await;
    assert_eq!(s, 200);
    let benches: Vec<BenchView> = app.get_ok("/api/v1/benches", &w.admin).await;
    let (s, _) = app
        .request(
            Method::DELETE,
            &format!("/api/v1/benches/{}", benches[0].id),
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = anon(
        "/api/v1/auth/badge",
        json!({"bench_token": w.bench_a1_token, "badge": w.badge_tech_a1}),
    )
    .await;
    assert_eq!((s.as_u16(), code_of(&b)), (401, "invalid_bench_token"));
    let (s, b) = app.get("/api/v1/me", &at_bench.token).await;
    assert_eq!((s.as_u16(), code_of(&b)), (401, "unauthenticated"));
}

/// Every role, every column of the access table: what each may and may not do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_role_and_scope_table_cell_by_cell() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let codes_a1 = app.codes(&w.tech_a1, w.site_a1, 4).await;
    let codes_b = app.codes(&w.tech_b, w.site_b, 2).await;
    let item_a1 = app.laptop(&w.tech_a1, &codes_a1[0], "X1").await;
    let item_b = app.laptop(&w.tech_b, &codes_b[0], "X2").await;
    // A ready device in region A, for the social worker's view.
    let ready = app.laptop(&w.tech_a1, &codes_a1[1], "X3").await;
    let ready = app
        .step_ok(
            &w.tech_a1,
            &ready,
            "s1",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    let ready = app
        .step_ok(&w.tech_a1, &ready, "s2", erase("X3"))
        .await
        .item;
    let ready = app.step_ok(&w.tech_a1, &ready, "s3", qa_pass()).await.item;
    let ready = app
        .step_ok(&w.tech_a1, &ready, "s4", json!({"type": "mark_ready"}))
        .await
        .item;

    let get = |token: &str, path: String| {
        let app = &app;
        let token = token.to_owned();
        async move { app.get(&path, &token).await }
    };
    let item_path = |i: &ItemView| format!("/api/v1/items/{}", i.id);

    // --- look up items and history
    // technician: own site only
    assert_eq!(get(&w.tech_a1, item_path(&item_a1)).await.0, 200);
    let (s, b) = get(&w.tech_a2, item_path(&item_a1)).await;
    assert_eq!(
        (s.as_u16(), code_of(&b)),
        (404, "item_not_found"),
        "another site's item is not revealed"
    );
    assert_eq!(
        get(&w.tech_b, format!("{}/history", item_path(&item_a1)))
            .await
            .0,
        404
    );
    // coordinator: own region
    assert_eq!(get(&w.coord_a, item_path(&item_a1)).await.0, 200);
    assert_eq!(get(&w.coord_a, item_path(&item_b)).await.0, 404);
    assert_eq!(get(&w.coord_b, item_path(&item_b)).await.0, 200);
    // admin: all
    assert_eq!(get(&w.admin, item_path(&item_b)).await.0, 200);
    // social worker: ready devices of own region, sale fields only
    let (s, b) = get(&w.social_worker_a, item_path(&ready)).await;
    assert_eq!(s, 200);
    assert!(
        b.get("serial").is_none() && b.get("drives").is_none() && b.get("version").is_none(),
        "{b}"
    );
    assert_eq!(b["functional_grade"], "a");
    assert_eq!(
        get(&w.social_worker_a, item_path(&item_a1)).await.0,
        404,
        "not ready"
    );
    assert_eq!(
        get(&w.social_worker_a, format!("{}/history", item_path(&ready)))
            .await
            .0,
        404
    );
    let (s, page) = get(&w.social_worker_a, "/api/v1/items".into()).await;
    assert_eq!(s, 200);
    let ids: Vec<i64> = page["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![ready.id.0]);
    let (s, _) = get(&w.social_worker_a, "/api/v1/items?state=received".into()).await;
    assert_eq!(s, 403);
    // lists are scoped too
    let page: ItemPage = app.get_ok("/api/v1/items", &w.tech_b).await;
    assert_eq!(
        page.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![item_b.id]
    );
    let page: ItemPage = app.get_ok("/api/v1/items", &w.coord_a).await;
    assert_eq!(page.items.len(), 2);
    let page: ItemPage = app.get_ok("/api/v1/items", &w.admin).await;
    assert_eq!(page.items.len(), 3);

    // --- lifecycle events
    let triage = json!({"type": "triage", "route": "harvest"});
    let (s, b) = app.step(&w.tech_b, &item_a1, "x1", triage.clone()).await;
    assert_eq!((s.as_u16(), code_of(&b)), (404, "item_not_found"));
    let (s, b) = app.step(&w.coord_b, &item_a1, "x2", triage.clone()).await;
    assert_eq!((s.as_u16(), code_of(&b)), (404, "item_not_found"));
    let (s, b) = app
        .step(
            &w.social_worker_a,
            &ready,
            "x3",
            json!({"type": "reopen", "reason": "x"}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (403, "forbidden"));
    let item_a1 = app
        .step_ok(&w.coord_a, &item_a1, "x4", triage.clone())
        .await
        .item;
    let _ = app.step_ok(&w.admin, &item_b, "x5", triage.clone()).await;
    let _ = item_a1;

    // --- label batches
    let alloc = |site: SiteId| json!({"site": site, "count": 1});
    assert_eq!(
        app.post("/api/v1/label-batches", &w.tech_a1, &alloc(w.site_a2))
            .await
            .0,
        403
    );
    assert_eq!(
        app.post("/api/v1/label-batches", &w.coord_a, &alloc(w.site_b))
            .await
            .0,
        403
    );
    assert_eq!(
        app.post("/api/v1/label-batches", &w.coord_a, &alloc(w.site_a2))
            .await
            .0,
        201
    );
    let (s, b) = app
        .post(
            "/api/v1/label-batches",
            &w.social_worker_a,
            &alloc(w.site_a1),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (403, "forbidden"));
    assert_eq!(
        app.post("/api/v1/label-batches", &w.admin, &alloc(w.site_b))
            .await
            .0,
        201
    );
    // registering at another site
    let reg = |code: &str, site: SiteId| json!({"idempotency_key": format!("reg-x-{code}"), "code": code, "category": "ram", "site": site});
    let (s, b) = app
        .post("/api/v1/items", &w.tech_a1, &reg(&codes_a1[2], w.site_b))
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (403, "out_of_scope"));
    assert_eq!(
        app.post(
            "/api/v1/items",
            &w.social_worker_a,
            &reg(&codes_a1[2], w.site_a1)
        )
        .await
        .0,
        403
    );

    // --- collections: technicians read their site's, coordinators create in their region
    let col = |site: SiteId| json!({"donor": w.donor_private, "site": site, "pickup_date": "2026-11-02", "declared_count": 1, "legal_status": "reuse"});
    assert_eq!(
        app.post("/api/v1/collections", &w.tech_a1, &col(w.site_a1))
            .await
            .0,
        403
    );
    assert_eq!(
        app.post("/api/v1/collections", &w.social_worker_a, &col(w.site_a1))
            .await
            .0,
        403
    );
    assert_eq!(
        app.post("/api/v1/collections", &w.coord_a, &col(w.site_b))
            .await
            .0,
        403
    );
    let c: CollectionView = app
        .post_ok("/api/v1/collections", &w.coord_a, &col(w.site_a1))
        .await;
    assert_eq!(
        get(&w.tech_a1, format!("/api/v1/collections/{}", c.id))
            .await
            .0,
        200
    );
    assert_eq!(
        get(&w.tech_a2, format!("/api/v1/collections/{}", c.id))
            .await
            .0,
        404
    );
    assert_eq!(
        get(&w.coord_b, format!("/api/v1/collections/{}", c.id))
            .await
            .0,
        404
    );
    assert_eq!(
        get(&w.social_worker_a, format!("/api/v1/collections/{}", c.id))
            .await
            .0,
        403
    );
    let cols: Vec<CollectionView> = app.get_ok("/api/v1/collections", &w.tech_b).await;
    assert!(cols.is_empty());

    // --- WEEE batches
    let weee = |site: SiteId| json!({"site": site, "recycler": w.recycler});
    assert_eq!(
        app.post("/api/v1/weee-batches", &w.tech_a1, &weee(w.site_b))
            .await
            .0,
        403
    );
    assert_eq!(
        app.post("/api/v1/weee-batches", &w.social_worker_a, &weee(w.site_a1))
            .await
            .0,
        403
    );
    assert_eq!(
        app.post("/api/v1/weee-batches", &w.tech_a1, &weee(w.site_a1))
            .await
            .0,
        201
    );

    // --- administration: admin only, every other role refused (organisations: see
    // tests/coordination.rs for what a coordinator keeps)
    let admin_posts: Vec<(&str, Value)> = vec![
        ("/api/v1/regions", json!({"name": "R", "code": "RRR"})),
        (
            "/api/v1/sites",
            json!({"region": w.region_a, "name": "S", "kind": "workshop"}),
        ),
        // (a coordinator keeps their region's donors and partners: tests/coordination.rs)
        (
            "/api/v1/organisations",
            json!({"name": "O", "kind": "recycler"}),
        ),
        (
            "/api/v1/users",
            json!({"username": "u1", "display_name": "U", "role": "admin", "password": PASSWORD}),
        ),
        ("/api/v1/benches", json!({"site": w.site_a1, "name": "P"})),
    ];
    for token in [&w.tech_a1, &w.coord_a, &w.social_worker_a] {
        for (path, body) in &admin_posts {
            let (s, b) = app.post(path, token, body).await;
            assert_eq!((s.as_u16(), code_of(&b)), (403, "forbidden"), "{path}");
        }
        for path in ["/api/v1/users", "/api/v1/benches"] {
            assert_eq!(get(token, path.into()).await.0, 403, "{path}");
        }
        let (s, _) = app
            .request(
                Method::PATCH,
                "/api/v1/users/1",
                Some(token),
                Some(&json!({"active": false})),
            )
            .await;
        assert_eq!(s, 403);
    }
    for (path, body) in &admin_posts {
        assert_eq!(app.post(path, &w.admin, body).await.0, 201, "{path}");
    }

    // --- nothing at all without a session
    for path in [
        "/api/v1/items",
        "/api/v1/collections",
        "/api/v1/label-batches",
        "/api/v1/weee-batches",
        "/api/v1/resolve?q=X",
    ] {
        let (s, b) = app.request(Method::GET, path, None, None).await;
        assert_eq!(
            (s.as_u16(), code_of(&b)),
            (401, "unauthenticated"),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 2).await;
    let item = app.laptop(t, &codes[0], "B1").await;
    let events = format!("/api/v1/items/{}/events", item.id);
    let before = app.counts();

    let mut wrong_check = codes[1].clone();
    let last = wrong_check.pop().unwrap_or('0');
    wrong_check.push(if last == '0' { '1' } else { '0' });
    let reg = |code: &str| json!({"idempotency_key": format!("bad-{code}"), "code": code, "category": "laptop"});
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("/api/v1/items", reg("HELLO"), 422, "invalid_code"),
        ("/api/v1/items", reg("OOOO-OOOO"), 422, "invalid_code"),
        ("/api/v1/items", reg(&wrong_check), 422, "code_check_failed"),
        ("/api/v1/items", reg("7MT00047"), 404, "code_unknown"),
        (
            "/api/v1/items",
            json!({"idempotency_key": "u", "code": codes[1], "category": "laptop", "colour": "red"}),
            400,
            "unknown_field",
        ),
        (
            "/api/v1/items",
            json!({"idempotency_key": "u", "code": codes[1], "category": "spaceship"}),
            400,
            "invalid_input",
        ),
        (
            "/api/v1/items",
            json!({"idempotency_key": "u", "code": codes[1], "category": "laptop", "weight_g": -5}),
            400,
            "invalid_input",
        ),
        (
            "/api/v1/items",
            json!({"idempotency_key": "u", "code": codes[1], "category": "laptop", "weight_g": 9_000_000}),
            400,
            "invalid_input",
        ),
        (
            "/api/v1/items",
            json!({"idempotency_key": "u", "code": codes[1], "category": "laptop", "specs": {"ram_gb": 99999}}),
            400,
            "invalid_input",
        ),
        (
            "/api/v1/items",
            json!({"idempotency_key": "", "code": codes[1], "category": "laptop"}),
            400,
            "invalid_input",
        ),
        (
            "/api/v1/items",
            json!({"code": codes[1], "category": "laptop"}),
            400,
            "invalid_input",
        ),
        (
            &events,
            json!({"idempotency_key": "e", "expected_version": item.version, "command": {"type": "fly"}}),
            400,
            "invalid_input",
        ),
        (
            &events,
            json!({"idempotency_key": "e", "expected_version": item.version, "command": {"type": "triage", "route": "refurbish", "x": 1}}),
            400,
            "unknown_field",
        ),
        (
            &events,
            json!({"idempotency_key": "e", "expected_version": item.version, "command": {"type": "declare_drives", "drives": []}}),
            400,
            "invalid_input",
        ),
        (
            &events,
            json!({"idempotency_key": "e", "expected_version": item.version, "command": {"type": "reopen", "reason": "x".repeat(501)}}),
            400,
            "invalid_input",
        ),
        (
            "/api/v1/label-batches",
            json!({"site": w.site_a1, "count": 0}),
            400,
            "invalid_input",
        ),
        (
            "/api/v1/label-batches",
            json!({"site": w.site_a1, "count": 10_001}),
            400,
            "invalid_input",
        ),
        (
            "/api/v1/label-batches",
            json!({"site": 9999, "count": 1}),
            404,
            "site_not_found",
        ),
    ];
    for (path, body, status, code) in cases {
        let (s, b) = app.post(path, t, &body).await;
        assert_eq!(
            (s.as_u16(), code_of(&b)),
            (status, code),
            "{path} {body}: {b}"
        );
        assert!(!b["message"].as_str().unwrap_or_default().is_empty());
        assert_eq!(app.counts(), before, "{code}: nothing written");
    }

    // Invalid JSON, a wrong content type and an oversized body.
    let raw = |body: Vec<u8>, content_type: &'static str| {
        let app = &app;
        let t = t.clone();
        async move {
            let r = app
                .client
                .post(format!("{}/api/v1/items", app.base))
                .bearer_auth(t)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("send");
            let s = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (s, v)
        }
    };
    let (s, b) = raw(b"{\"idempotency_key\": ".to_vec(), "application/json").await;
    assert_eq!((s, code_of(&b)), (400, "invalid_json"));
    let (s, b) = raw(b"code=1".to_vec(), "application/x-www-form-urlencoded").await;
    assert_eq!((s, code_of(&b)), (415, "unsupported_media_type"));
    let mut big = b"{\"idempotency_key\": \"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 3 * 1024 * 1024));
    big.extend(b"\"}");
    let (s, b) = raw(big, "application/json").await;
    assert_eq!((s, code_of(&b)), (413, "payload_too_large"));
    assert_eq!(app.counts(), before);

    // Messages follow the user's language: French by default, English for coord_b.
    let (_, b) = app.post("/api/v1/items", t, &reg("HELLO")).await;
    assert!(
        b["message"]
            .as_str()
            .unwrap_or_default()
            .contains("code d'étiquette"),
        "{b}"
    );
    let (_, b) = app
        .post(
            "/api/v1/label-batches",
            &w.coord_b,
            &json!({"site": w.site_b, "count": 0}),
        )
        .await;
    assert!(
        b["message"]
            .as_str()
            .unwrap_or_default()
            .contains("must be at least 1"),
        "{b}"
    );
    let r = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .expect("send");
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["message"], ErrorCode::Unauthenticated.message(Lang::En));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 2).await;
    let item = app.laptop(t, &codes[0], "I1").await;
    let body = json!({"idempotency_key": "same", "expected_version": item.version, "command": {"type": "triage", "route": "refurbish"}});
    let path = format!("/api/v1/items/{}/events", item.id);
    let (s1, first) = app.post(&path, t, &body).await;
    assert_eq!(s1, 200);
    let after_first = app.counts();
    let (s2, second) = app.post(&path, t, &body).await;
    assert_eq!(s2, 200);
    assert_eq!(first, second, "the same answer");
    assert_eq!(app.counts(), after_first, "one event");

    let mut other = body.clone();
    other["command"]["route"] = json!("harvest");
    let (s, b) = app.post(&path, t, &other).await;
    assert_eq!((s.as_u16(), code_of(&b)), (409, "idempotency_conflict"));
    assert_eq!(app.counts(), after_first);

    // Still the first answer once the item has moved on, to a site out of the
    // technician's reach.
    let moved = json!({"idempotency_key": "move", "expected_version": first["item"]["version"],
        "command": {"type": "move", "site": w.site_a2}});
    let (s, moved) = app.post(&path, &w.coord_a, &moved).await;
    assert_eq!(s, 200, "{moved}");
    let after_move = app.counts();
    let (s3, third) = app.post(&path, t, &body).await;
    assert_eq!(s3, 200, "{third}");
    assert_eq!(first, third, "the same answer");
    assert_eq!(app.counts(), after_move, "nothing written");
    let (s, b) = app.post(&path, t, &other).await;
    assert_eq!((s.as_u16(), code_of(&b)), (409, "idempotency_conflict"));

    // The same for a registration.
    let reg = json!({"idempotency_key": "reg-same", "code": codes[1], "category": "ram"});
    let (s1, a) = app.post("/api/v1/items", t, &reg).await;
    let (s2, b) = app.post("/api/v1/items", t, &reg).await;
    assert_eq!(
        (s1, s2),
        (reqwest::StatusCode::CREATED, reqwest::StatusCode::CREATED)
    );
    assert_eq!(a, b);

    // Keys belong to their owner: another user's identical key is a new request.
    let coord_body = json!({"idempotency_key": "same", "expected_version": moved["item"]["version"], "command": {"type": "declare_no_drive"}});
    let (s, b) = app.post(&path, &w.coord_a, &coord_body).await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "drives_already_declared"));
}

/// Sends every body to `path` at the same time; the answers in the same order.
async fn at_once(
    app: &TestApp,
    path: &str,
    token: &str,
    bodies: impl Iterator<Item = Value>,
) -> Vec<(u16, Value)> {
    let url = format!("{}{path}", app.base);
    let tasks: Vec<_> = bodies
        .map(|body| {
            let (client, url, token) = (app.client.clone(), url.clone(), token.to_owned());
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("send");
                let s = r.status().as_u16();
                (s, r.json::<Value>().await.unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_clients_race_for_one_transition() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = w.tech_a1.clone();
    let codes = app.codes(&t, w.site_a1, 1).await;
    let item = app.laptop(&t, &codes[0], "C1").await;
    let before = app.counts();
    let path = format!("/api/v1/items/{}/events", item.id);
    let bodies = (0..50).map(|i| {
        json!({"idempotency_key": format!("race-{i}"), "expected_version": item.version,
            "command": {"type": "triage", "route": "refurbish"}})
    });
    let answers = at_once(&app, &path, &t, bodies).await;
    let mut ok = 0;
    let mut conflicts = 0;
    for (s, answer) in answers {
        let code = code_of(&answer);
        match s {
            200 => ok += 1,
            409 => {
                assert_eq!(code, "version_conflict");
                conflicts += 1;
            }
            other => panic!("unexpected status {other} {code}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 49));
    let after = app.counts();
    let events = |c: &[(String, i64)]| c.iter().find(|(t, _)| t == "item_events").map(|(_, n)| *n);
    assert_eq!(
        events(&after).zip(events(&before)).map(|(a, b)| a - b),
        Some(1)
    );
}

/// One request sent fifty times at once (a bench retrying over a bad network): the
/// step is worked out on a read, so the copies race to the writer; one event, and
/// every copy gets the first answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_copies_of_one_request_at_once_give_one_event() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = w.tech_a1.clone();
    let codes = app.codes(&t, w.site_a1, 1).await;
    let item = app.laptop(&t, &codes[0], "C1").await;
    let before = app.counts();
    let path = format!("/api/v1/items/{}/events", item.id);
    let body = json!({"idempotency_key": "retried", "expected_version": item.version,
        "command": {"type": "triage", "route": "refurbish"}});
    let mut answers = Vec::new();
    for (s, answer) in at_once(&app, &path, &t, std::iter::repeat_n(body, 50)).await {
        assert_eq!(s, 200, "{answer}");
        answers.push(answer);
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "one answer");
    assert_eq!(answers[0]["item"]["state"], "refurbishing");
    assert_eq!(answers[0]["item"]["version"], item.version + 1);
    let after = app.counts();
    let events = |c: &[(String, i64)]| c.iter().find(|(t, _)| t == "item_events").map(|(_, n)| *n);
    assert_eq!(
        events(&after).zip(events(&before)).map(|(a, b)| a - b),
        Some(1)
    );
    // The stored answer names the event that was written.
    let (_, history) = app
        .get(&format!("/api/v1/items/{}/history", item.id), &t)
        .await;
    let last = history["events"].as_array().and_then(|e| e.last()).cloned();
    assert_eq!(
        last.map(|e| e["id"].clone()),
        Some(answers[0]["event"]["id"].clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_bench_catches_up_with_an_ordered_batch() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let bench: SessionResponse = app
        .post_ok_anon(
            "/api/v1/auth/badge",
            &json!({"bench_token": w.bench_a1_token, "badge": w.badge_tech_a1}),
        )
        .await;
    let t = &bench.token;
    let codes = app.codes(t, w.site_a1, 3).await;
    let ev = |key: &str, code: &str, version: i64, command: Value| json!({"op": "event", "item": code, "idempotency_key": key, "expected_version": version, "command": command});
    let ops = json!({"ops": [
        {"op": "register", "idempotency_key": "o1", "code": codes[0], "category": "laptop", "drives": [{"serial": "OFF-1"}]},
        ev("o2", &codes[0], 2, json!({"type": "triage", "route": "refurbish"})),
        ev("o3", &codes[0], 3, erase("OFF-1")),
        // Refused: ready before QA. The ops after it still run.
        ev("o4", &codes[0], 4, json!({"type": "mark_ready"})),
        ev("o5", &codes[0], 4, qa_pass()),
        ev("o6", &codes[0], 5, json!({"type": "mark_ready"})),
        {"op": "register", "idempotency_key": "o7", "code": codes[1], "category": "ram"},
    ]});
    let r: BatchResponse = app.post_ok("/api/v1/events/batch", t, &ops).await;
    let statuses: Vec<u16> = r.results.iter().map(|x| x.status).collect();
    assert_eq!(statuses, vec![200, 200, 200, 422, 200, 200, 200]);
    assert_eq!(
        r.results[3].error.as_ref().map(|e| e.code),
        Some(ErrorCode::QaMissing)
    );
    let ready = r.results[5]
        .ok
        .as_ref()
        .map(|ok| (ok.item.state, ok.event.bench));
    assert_eq!(ready, Some((ItemState::Ready, bench.bench.map(|b| b.id))));

    // Sent again (the bench did not hear the answer): nothing new, same answers.
    let before = app.counts();
    let again: BatchResponse = app.post_ok("/api/v1/events/batch", t, &ops).await;
    assert_eq!(app.counts(), before);
    assert_eq!(again.results[5].ok, r.results[5].ok);
}

/// PostgreSQL only: neither the pool nor the writer thread uses a connection its server
/// has closed (a restart of the database server, an administrator ending sessions). A
/// connection is checked again before use once it has gone a second without a check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_closed_by_the_database_server_are_replaced() {
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 2).await;
    let first = app.laptop(t, &codes[0], "P1").await;
    let item = app.laptop(t, &codes[1], "P2").await;
    // A step, so that the writer thread has its connection open too.
    let first = app
        .step_ok(
            t,
            &first,
            "p0",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    assert_eq!(first.state, ItemState::Refurbishing);
    let ended = TestApp::number(
        &mut app.conn(),
        "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    assert!(ended >= 1, "the server had no session to end");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    for _ in 0..20 {
        let r: Resolved = app
            .get_ok(&format!("/api/v1/resolve?q={}", codes[0]), t)
            .await;
        assert!(matches!(r, Resolved::Item { .. }), "{r:?}");
    }
    let item = app
        .step_ok(
            t,
            &item,
            "p1",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    assert_eq!(item.state, ItemState::Refurbishing);
}

/// PostgreSQL: a batch of the writer that another transaction deadlocks with is
/// ended by PostgreSQL; its steps are then done whole, each on its own, and answered
/// as if nothing had happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_whose_batch_is_ended_by_a_deadlock_is_done_whole() {
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 1).await;
    let item = app.laptop(t, &codes[0], "DL1").await;
    let history: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", item.id), t)
        .await;
    let owner: String = {
        #[derive(diesel::QueryableByName)]
        struct Owner {
            #[diesel(sql_type = diesel::sql_types::Text)]
            key_owner: String,
        }
        let mut c = app.conn();
        let o: Owner = diesel::sql_query("SELECT key_owner FROM item_events WHERE id = $1")
            .bind::<diesel::sql_types::BigInt, _>(history.events[0].id.0)
            .get_result(&mut c)
            .expect("the registration's key owner");
        o.key_owner
    };

    // Another transaction holds the item's row.
    let mut other = app.conn();
    other
        .batch_execute(&format!(
            "BEGIN; SELECT id FROM items WHERE id = {} FOR UPDATE",
            item.id
        ))
        .expect("lock the item");
    // The step: its event is written, its item's update waits for the row.
    let (base, client, token, id, version) = (
        app.base.clone(),
        app.client.clone(),
        t.clone(),
        item.id,
        item.version,
    );
    let step = tokio::spawn(async move {
        let r = client
            .post(format!("{base}/api/v1/items/{id}/events"))
            .bearer_auth(token)
            .json(
                &json!({"idempotency_key": "dl", "expected_version": version,
                          "command": {"type": "triage", "route": "refurbish"}}),
            )
            .send()
            .await
            .expect("answer");
        (r.status(), r.json::<Value>().await.expect("json"))
    });
    let mut watch = app.conn();
    let mut waited = 0;
    loop {
        let waiting = TestApp::number(
            &mut watch,
            "SELECT COUNT(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if waiting > 0 {
            break;
        }
        waited += 1;
        assert!(waited < 500, "the step never waited for the row");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The other transaction now writes an event with the step's key: it waits for the
    // writer's batch, which waits for it. PostgreSQL ends the batch, whose wait began
    // first (a second later); the other transaction's insert then goes through.
    let owner2 = owner.clone();
    let inserted = tokio::task::spawn_blocking(move || {
        let r = diesel::sql_query(format!(
            "INSERT INTO item_events (item_id, event_type, payload, site_id, occurred_at, \
             recorded_at, version, key_owner, idempotency_key) \
             SELECT id, 'triaged', '{{}}', site_id, now(), now(), version, '{owner2}', 'dl' \
             FROM items WHERE id = {id}"
        ))
        .execute(&mut other);
        let _ = other.batch_execute("ROLLBACK");
        r
    })
    .await
    .expect("the other transaction");
    assert_eq!(
        inserted.ok(),
        Some(1),
        "the batch, not the other, was ended"
    );
    let (status, body) = step.await.expect("the step");
    assert_eq!(status, 200, "{body}");
    let r: EventResponse = serde_json::from_value(body).expect("an event response");
    assert_eq!(r.item.state, ItemState::Refurbishing);
    let stored: ItemView = app.get_ok(&format!("/api/v1/items/{}", item.id), t).await;
    assert_eq!(r.item, stored);
    let history: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", item.id), t)
        .await;
    assert_eq!(
        event_types(&history)
            .iter()
            .filter(|e| **e == "triaged")
            .count(),
        1
    );
}
