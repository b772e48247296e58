//! Seeing it run: every answer carries its request's id (an error also in its body),
//! and the Prometheus metrics are served on their own address, never on the public
//! one.

use filiere_tests::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The value of the metric line that starts with `prefix` (name and labels).
fn metric(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_the_request_id_of_their_header() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let resp = app
        .client
        .get(format!("{}/api/v1/items/999999", app.base))
        .bearer_auth(&w.tech_a1)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 404);
    let header = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("an X-Request-Id header");
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["code"], "item_not_found");
    assert_eq!(body["request_id"], header.as_str(), "{body}");
    assert_eq!(header.len(), 36, "a UUID: {header}");

    // Each request its own id; a refusal made before any handler (a method the path
    // does not take) carries one too, and so does a success (header only).
    let (_, headers, bytes) = app.raw(Method::PUT, "/api/v1/me", None, None).await;
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(body["code"], "method_not_allowed");
    let second = headers["x-request-id"].to_str().expect("text");
    assert_eq!(body["request_id"], second);
    assert_ne!(second, header);
    let (status, headers, bytes) = app.raw(Method::GET, "/health", None, None).await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("x-request-id"));
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert!(body.get("request_id").is_none(), "only errors: {body}");

    // A page's error carries it in its header as well.
    let resp = app
        .client
        .get(format!("{}/nowhere", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 404);
    assert!(resp.headers().contains_key("x-request-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_apart_and_count_what_happened() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    // What the metrics should show: a refusal by route and status, a write.
    for _ in 0..3 {
        let (s, _) = app.get("/api/v1/items/999999", &w.tech_a1).await;
        assert_eq!(s, 404);
    }
    let (s, _) = app
        .post(
            "/api/v1/label-batches",
            &w.tech_a1,
            &json!({"site": w.site_a1, "count": 2}),
        )
        .await;
    assert_eq!(s, 201);

    // Not on the public address.
    let (s, _, _) = app.raw(Method::GET, "/metrics", None, None).await;
    assert_eq!(s, 404);

    let resp = app
        .client
        .get(format!("{}/metrics", app.metrics))
        .send()
        .await
        .expect("metrics");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/openmetrics-text")
    );
    let text = resp.text().await.expect("text");
    let refused = metric(
        &text,
        r#"filiere_http_requests_total{route="/api/v1/items/{id}",method="GET",status="404"}"#,
    );
    assert!(refused.is_some_and(|n| n >= 3.0), "{text}");
    let latency = metric(
        &text,
        r#"filiere_http_request_duration_seconds_count{route="/api/v1/items/{id}",method="GET"}"#,
    );
    assert!(latency.is_some_and(|n| n >= 3.0), "{text}");
    // The pools, read now: the read pool has opened connections.
    assert!(text.contains(r#"filiere_db_pool_connections{pool="read",state="idle"}"#));
    assert!(text.contains("filiere_writer_queue "));
    // Every write on SQLite goes through the writer; on PostgreSQL only the steps do.
    if app.backend == filiere_server::db::Backend::Sqlite {
        let batches = metric(&text, "filiere_writer_batch_size_count");
        assert!(batches.is_some_and(|n| n >= 1.0), "{text}");
    }
    // The sweeps run as the server starts.
    let sweeps = metric(&text, r#"filiere_sweeps_total{sweep="expire_holds"}"#);
    assert!(sweeps.is_some_and(|n| n >= 1.0), "{text}");
}
