//! Every answer a test receives is held to the OpenAPI document: its status must be
//! declared for the operation, and its JSON body must validate against the schema
//! declared for that status. So every end-to-end test is also a test of the document.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The document as the server serves it.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| filiere_server::openapi::openapi().clone())
}

/// The document's path template that `path` (without its query) falls under.
pub fn operation_path(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    // A literal segment beats a parameter (`/items/batch` before `/items/{id}`).
    paths
        .keys()
        .filter(|template| {
            let t: Vec<&str> = template.split('/').collect();
            t.len() == segments.len()
                && t.iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
        .min_by_key(|template| template.matches('{').count())
        .map(String::as_str)
}

type Validator = Arc<jsonschema::Validator>;

/// The validator of one declared answer, built once.
fn validator(schema: &Value) -> Validator {
    static CACHE: OnceLock<Mutex<HashMap<String, Validator>>> = OnceLock::new();
    let key = schema.to_string();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().expect("cache").get(&key) {
        return v.clone();
    }
    let v = Arc::new(
        filiere_server::openapi::validator(schema, true)
            .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}")),
    );
    cache.lock().expect("cache").insert(key, v.clone());
    v
}

/// Panics unless `status` is declared for `method path` and `body` fits its schema.
/// `body` is `None` for an answer that is not JSON (a PDF, a PNG…).
pub fn check_answer(method: &str, path: &str, status: u16, body: Option<&Value>) {
    let doc = document();
    let Some(template) = operation_path(path) else {
        // Not an operation of the document: answered by the catch-all (404).
        assert_eq!(
            status, 404,
            "{method} {path}: {status} on a path the document does not have"
        );
        return check_error_body(method, path, body);
    };
    let method = method.to_ascii_lowercase();
    let Some(op) = doc["paths"][template].get(&method) else {
        assert_eq!(
            status, 405,
            "{method} {path}: {status} for a method the document does not give"
        );
        return check_error_body(&method, path, body);
    };
    let Some(answer) = op["responses"].get(status.to_string()) else {
        panic!("{method} {template}: status {status} is not declared (body: {body:?})");
    };
    let schema = &answer["content"]["application/json"]["schema"];
    let Some(body) = body else { return };
    if schema.is_null() {
        panic!("{method} {template} {status}: a JSON body where none is declared: {body}");
    }
    validate(&format!("{method} {template} {status}"), schema, body);
}

/// An answer of the catch-all routes: the usual error body.
fn check_error_body(method: &str, path: &str, body: Option<&Value>) {
    let body = body.unwrap_or_else(|| panic!("{method} {path}: an error without a JSON body"));
    let schema = json!({"$ref": "#/components/schemas/ErrorBody"});
    validate(&format!("{method} {path}"), &schema, body);
}

fn validate(what: &str, schema: &Value, body: &Value) {
    let v = validator(schema);
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the answer breaks its schema:\n  {}\nbody: {body}",
        errors.join("\n  ")
    );
}
