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

/// The schema a `$ref` points to (in `#/components/schemas/`), or the schema itself.
pub fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or(r);
            resolve(&document()["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A small value that `schema` accepts: each required property with the first of
/// its choices, the least number, the shortest text. A request built from it gets
/// past the body's checks, so that what answers is the rule behind them.
pub fn example(schema: &Value) -> Value {
    let schema = resolve(schema);
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(choices) = schema[key].as_array() {
            if key == "allOf" {
                let mut merged = serde_json::Map::new();
                for c in choices {
                    if let Value::Object(o) = example(c) {
                        merged.extend(o);
                    }
                }
                return Value::Object(merged);
            }
            // Not a null, when there is something else to choose.
            let pick = choices
                .iter()
                .find(|c| resolve(c)["type"] != "null")
                .or(choices.first());
            return pick.map(example).unwrap_or(Value::Null);
        }
    }
    let ty = match &schema["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or(Value::Null),
        t => t.clone(),
    };
    let at_least = |key: &str, default: i64| schema[key].as_i64().unwrap_or(default);
    match ty
        .as_str()
        .unwrap_or(if schema.get("properties").is_some() {
            "object"
        } else {
            ""
        }) {
        "object" => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = serde_json::Map::new();
            for name in required {
                out.insert(name.to_owned(), example(&schema["properties"][name]));
            }
            Value::Object(out)
        }
        "array" => {
            let n = at_least("minItems", 0).max(0) as usize;
            Value::Array((0..n).map(|_| example(&schema["items"])).collect())
        }
        "integer" => json!(
            at_least("minimum", 1)
                .max(1)
                .min(at_least("maximum", i64::MAX))
        ),
        "number" => json!(schema["minimum"].as_f64().unwrap_or(1.0).max(1.0)),
        "boolean" => json!(false),
        "string" => match schema["format"].as_str() {
            Some("date-time") => json!("2026-11-20T10:00:00Z"),
            Some("date") => json!("2026-11-20"),
            Some("email") => json!("x@example.org"),
            _ => json!("x".repeat(at_least("minLength", 1).max(1) as usize)),
        },
        _ => Value::Null,
    }
}

/// The body of an operation built by [`example`] (JSON), or a few bytes of the
/// operation's own media type; `None` when it takes no body.
pub fn example_body(method: &str, template: &str) -> Option<(String, Vec<u8>)> {
    let op = &document()["paths"][template][method.to_ascii_lowercase()];
    let content = op["requestBody"]["content"].as_object()?;
    if let Some(json) = content.get("application/json") {
        let value = example(&json["schema"]);
        let errors: Vec<String> = validator(&json["schema"])
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {template}: the example {value} breaks its schema: {errors:?}"
        );
        return Some(("application/json".into(), serde_json::to_vec(&value).ok()?));
    }
    let media = content.keys().next()?.clone();
    Some((media, b"x".to_vec()))
}

/// The query of an operation: each required parameter with an [`example`] value.
pub fn example_query(method: &str, template: &str) -> String {
    let op = &document()["paths"][template][method.to_ascii_lowercase()];
    let mut pairs = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] == "query" && p["required"] == true {
            let v = example(&p["schema"]);
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            pairs.push(format!("{}={}", p["name"].as_str().unwrap_or(""), text));
        }
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}
