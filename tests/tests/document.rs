//! The OpenAPI document tells the truth about the routes, and every refusal, even one
//! made before the application reads the request, is the usual JSON error.

use filiere_server::app::ROUTES;
use filiere_shared::ErrorCode;
use filiere_tests::schema::document;
use filiere_tests::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn code_of(v: &Value) -> &str {
    v["code"].as_str().unwrap_or_default()
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every operation of the document: its path, its method and the operation.
fn operations() -> Vec<(&'static str, &'static str, &'static Value)> {
    let mut out = Vec::new();
    for (path, item) in document()["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((path.as_str(), m, op));
            }
        }
    }
    out
}

#[test]
fn every_route_is_in_the_document_and_nothing_else() {
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .flat_map(|(path, methods)| methods.iter().map(|m| (path.to_string(), m.to_string())))
        .collect();
    let documented: BTreeSet<(String, String)> = operations()
        .into_iter()
        .map(|(path, m, _)| (path.to_owned(), m.to_owned()))
        .collect();
    assert_eq!(
        routes.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routes missing from the document"
    );
    assert_eq!(
        documented.difference(&routes).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented operations no route serves"
    );
}

#[test]
fn the_document_names_error_codes_as_they_are_sent() {
    let doc = document();
    let listed: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode is an enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let sent: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, sent);
    assert!(listed.contains("unauthenticated"));
}

#[test]
fn parameters_are_where_the_server_reads_them() {
    for (path, m, op) in operations() {
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for p in op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().expect("name");
            match p["in"].as_str() {
                Some("path") => {
                    assert!(
                        in_path.contains(name),
                        "{m} {path}: {name} is not in the path"
                    );
                    assert_eq!(p["required"], true);
                }
                Some("query") => {
                    assert!(!in_path.contains(name), "{m} {path}: {name} is in the path")
                }
                other => panic!("{m} {path}: {name} in {other:?}"),
            }
        }
    }
    let doc = document();
    let items = &doc["paths"]["/api/v1/items"]["get"]["parameters"];
    let query: Vec<&str> = items
        .as_array()
        .expect("parameters")
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(query.len(), 9, "the nine filters of /items: {query:?}");
}

#[test]
fn refusals_are_declared_where_they_can_happen() {
    for (path, m, op) in operations() {
        let responses = &op["responses"];
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            for status in ["401", "403"] {
                assert!(responses.get(status).is_some(), "{m} {path}: {status}");
            }
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415"] {
                assert!(responses.get(status).is_some(), "{m} {path}: {status}");
            }
        }
    }
}

/// A path of the route table with its parameters filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "1" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_path_does_not_take_is_a_405_with_allow() {
    let app = TestApp::spawn().await;
    for (path, methods) in ROUTES {
        let allow = methods
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(", ");
        for m in METHODS.iter().filter(|m| !methods.contains(m)) {
            let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).expect("method");
            let resp = app
                .client
                .request(method, format!("{}{}", app.base, concrete(path)))
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            let got_allow = resp
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_eq!(
                (status, code_of(&body), got_allow.as_str()),
                (405, "method_not_allowed", allow.as_str()),
                "{m} {path}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_without_json_content_type_is_a_415() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .body(r#"{"username": "x", "password": "y"}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 415);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(code_of(&body), "unsupported_media_type");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_numbers_written_as_decimals_are_taken() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let (s, batch) = app
        .post(
            "/api/v1/label-batches",
            &w.tech_a1,
            &json!({"site": w.site_a1, "count": 2.0}),
        )
        .await;
    assert_eq!(s, 201, "{batch}");
    assert_eq!(batch["count"], 2);
    let (s, b) = app
        .post(
            "/api/v1/label-batches",
            &w.tech_a1,
            &json!({"site": w.site_a1, "count": 2.5}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (400, "invalid_input"));
}

/// Sends `request` on a new connection to `app` and reads the answer to the end: the
/// server closes after a refusal, having read (and discarded) the whole request first,
/// so that no reset comes in the way.
fn send_raw(app: &TestApp, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request).expect("the whole request is sent");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .expect("read to the end, no reset");
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_request_head_too_long_gets_a_json_refusal_and_the_next_request_succeeds() {
    let rt = actix_web::rt::System::new();
    let app = rt.block_on(TestApp::spawn());
    let me = b"GET /api/v1/me HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    for (len, status, code) in [
        (70_000, "414", "uri_too_long"),
        (200_000, "431", "request_head_too_large"),
        (1_000_000, "431", "request_head_too_large"),
    ] {
        // After a request that went through on the same connection.
        let mut request =
            b"GET /health HTTP/1.1\r\nhost: x\r\naccept-language: en\r\n\r\n".to_vec();
        request.extend_from_slice(
            format!(
                "GET /api/v1/resolve?q={} HTTP/1.1\r\nhost: x\r\n\r\n",
                "A".repeat(len)
            )
            .as_bytes(),
        );
        let answer = send_raw(&app, &request);
        let (first, refusal) = answer
            .split_once("}HTTP/1.1 ")
            .unwrap_or_else(|| panic!("{len}: two answers expected, got {answer:.300}"));
        assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
        assert!(refusal.starts_with(status), "{len}: {refusal:.300}");
        let (head, body) = refusal.split_once("\r\n\r\n").expect("a head and a body");
        assert!(head.contains("\r\nconnection: close"), "{len}: {head}");
        assert!(
            head.contains("\r\ncontent-type: application/json"),
            "{len}: {head}"
        );
        let body: Value = serde_json::from_str(body).expect("a JSON body");
        assert_eq!(code_of(&body), code, "{len}");
        filiere_tests::schema::check_answer(
            "GET",
            "/api/v1/resolve",
            status.parse().expect("status"),
            Some(&body),
        );
        // The client's next request, on a new connection, goes through.
        let next = send_raw(&app, me);
        assert!(
            next.starts_with("HTTP/1.1 401 "),
            "after {len}: {next:.300}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_an_op_that_breaks_its_schema_is_refused_whole() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 2).await;
    let before = app.counts();
    let op = |code: &str, key: &str, weight: i64| {
        json!({"op": "register", "idempotency_key": key, "code": code, "category": "laptop",
            "weight_g": weight})
    };
    let (s, b) = app
        .post(
            "/api/v1/events/batch",
            t,
            &json!({"ops": [op(&codes[0], "b-1", 1500), op(&codes[1], "b-2", -5)]}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (400, "invalid_input"), "{b}");
    // The op that breaks its schema is named.
    assert_eq!(b["details"]["field"], "ops.1", "{b}");
    assert_eq!(app.counts(), before, "nothing applied");
    // A refusal by a rule is the op's own: the others go through.
    let (s, b) = app
        .post(
            "/api/v1/events/batch",
            t,
            &json!({"ops": [op(&codes[0], "b-1", 1500), op("HELLO", "b-3", 1500)]}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["results"][0]["status"], 200);
    assert_eq!(
        (
            b["results"][1]["status"].as_u64(),
            b["results"][1]["error"]["code"].as_str()
        ),
        (Some(422), Some("invalid_code"))
    );
}

#[test]
fn documented_bounds_are_the_server_s() {
    let doc = document();
    let s = &doc["components"]["schemas"];
    assert_eq!(
        s["LabelRequest"]["properties"]["start_slot"]["maximum"],
        filiere_shared::label::MAX_START_SLOT
    );
    assert_eq!(
        s["LabelSource"]["oneOf"][1]["properties"]["codes"]["maxItems"],
        filiere_shared::label::MAX_LABELS
    );
}

#[test]
fn the_documented_patterns_say_what_the_server_checks() {
    use filiere_shared::validate::{self, KEY_PATTERN, REQUIRED_TEXT_PATTERN, TEXT_PATTERN};
    let matches = |pattern: &str, s: &str| {
        jsonschema::validator_for(&json!({"type": "string", "pattern": pattern}))
            .expect("a pattern that compiles")
            .is_valid(&json!(s))
    };
    let samples = [
        "ThinkPad T480",
        "",
        " ",
        "\t\n",
        "a\nb",
        "tab\there",
        "cr\r",
        "nul\u{0}",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "\u{a0}x",
        "\u{1680}",
        "\u{2007}\u{3000}",
        "\u{feff}",
        "é",
        "x\n",
        "Emmabuntüs 5",
    ];
    for s in samples {
        assert_eq!(
            matches(TEXT_PATTERN, s),
            validate::opt_text("f", Some(s), 1000).is_ok(),
            "text {s:?}"
        );
        assert_eq!(
            matches(REQUIRED_TEXT_PATTERN, s),
            validate::text("f", s, 1000).is_ok(),
            "required text {s:?}"
        );
    }
    for key in ["bench-3:000042", "", "with space", "é", "k\n", "~!", "a\tb"] {
        assert_eq!(
            matches(KEY_PATTERN, key),
            validate::idempotency_key(key).is_ok(),
            "key {key:?}"
        );
    }
    // Every marker is stated in full in the document.
    assert!(!document().to_string().contains("\"pattern\":\"$"));
}

#[test]
fn a_request_head_that_does_not_arrive_in_time_gets_a_json_refusal() {
    use std::io::{Read, Write};
    let rt = actix_web::rt::System::new();
    let app = rt.block_on(TestApp::spawn());
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    // Half a head, then nothing: the server gives up after 5 seconds.
    s.write_all(b"GET /api/v1/me HTTP/1.1\r\nhost: x\r\n")
        .expect("send");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .expect("read to the end, no reset");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
    let body: Value =
        serde_json::from_str(text.split_once("\r\n\r\n").expect("a body").1).expect("JSON");
    assert_eq!(code_of(&body), "request_timeout");
}

#[test]
fn every_request_body_schema_compiles() {
    // The server holds bodies to these schemas; one that did not compile would hold
    // nothing (and the server says so in its log).
    for (path, m, op) in operations() {
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        if schema.is_null() {
            continue;
        }
        // As the server builds it.
        if let Err(e) = filiere_server::openapi::validator(schema, false) {
            panic!("{m} {path}: {e}");
        }
    }
}
