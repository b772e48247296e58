//! The JSON body of a request, read the way the OpenAPI document describes it.

use crate::auth::request_lang;
use crate::error::ApiError;
use actix_web::{FromRequest, HttpRequest, dev, web};
use filiere_shared::ErrorCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;

/// Largest accepted JSON body: an imported erasure report fits, a flood does not.
pub const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// A JSON request body: `application/json` (or a `+json` type), at most
/// [`JSON_LIMIT`] bytes, read by its type and held to its schema in the OpenAPI
/// document, so that the server refuses exactly what the document refuses. A whole
/// number may be written `1.0`, as JSON Schema counts it an integer.
///
/// A body that cannot be read does not fail the extraction: its refusal is kept until
/// the handler reads the body with [`JsonBody::read`], which answers it in the
/// caller's language (known only once the caller is), after the authentication.
#[derive(Debug)]
pub struct JsonBody<T>(Result<T, ApiError>);

impl<T> JsonBody<T> {
    /// The body, or its refusal in the caller's language.
    pub fn read(self, actor: &crate::auth::Actor) -> Result<T, ApiError> {
        self.0.map_err(|e| e.in_lang(actor.lang))
    }

    /// The body of a route without a caller (logging in), or its refusal in the
    /// request's language (`Accept-Language`).
    pub fn read_anonymous(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + utoipa::ToSchema + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let lang = request_lang(req);
        let is_json = is_json(req);
        let payload = web::Payload::from_request(req, payload);
        Box::pin(async move {
            let body = async {
                if !is_json {
                    return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
                }
                let payload = payload
                    .await
                    .map_err(|_| ApiError::new(ErrorCode::InvalidJson))?;
                let bytes = match payload.to_bytes_limited(JSON_LIMIT).await {
                    Ok(Ok(bytes)) => bytes,
                    Ok(Err(_)) => return Err(ApiError::new(ErrorCode::InvalidJson)),
                    Err(_) => return Err(ApiError::new(ErrorCode::PayloadTooLarge)),
                };
                parse(&bytes)
            };
            Ok(JsonBody(body.await.map_err(|e| e.in_lang(lang))))
        })
    }
}

/// Whether the request says its body is JSON.
fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(actix_web::http::header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let essence = text.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence
            .split_once('/')
            .is_some_and(|(_, sub)| sub.to_ascii_lowercase().ends_with("+json"))
}

/// Reads `T` from JSON and holds it to its schema; a whole number written as a decimal
/// (`1.0`) is read as the whole number. Serde's own refusal comes first (it names the
/// field and the place); the schema refuses what serde lets through: a bound, a
/// pattern, an object written as an array.
pub fn parse<T: DeserializeOwned + utoipa::ToSchema>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| refusal(&e))?;
    whole_numbers(&mut value);
    let typed = T::deserialize(&value).map_err(|e| refusal(&e))?;
    match schema_of(&T::name()).and_then(|v| v.iter_errors(&value).next().map(|e| breach(&e))) {
        Some(e) => Err(e),
        None => Ok(typed),
    }
}

/// The validator of a schema of the document, built once.
fn schema_of(name: &str) -> Option<std::sync::Arc<jsonschema::Validator>> {
    use std::collections::HashMap;
    use std::sync::{Arc, OnceLock, RwLock};
    static VALIDATORS: OnceLock<RwLock<HashMap<String, Option<Arc<jsonschema::Validator>>>>> =
        OnceLock::new();
    let cache = VALIDATORS.get_or_init(Default::default);
    if let Some(v) = cache.read().ok()?.get(name) {
        return v.clone();
    }
    let schema = json!({"$ref": format!("#/components/schemas/{name}")});
    let built = match crate::openapi::validator(&schema, false) {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            tracing::error!(schema = name, error = %e, "a request schema does not compile");
            None
        }
    };
    cache.write().ok()?.insert(name.to_owned(), built.clone());
    built
}

/// What a schema rule asks, in French and English.
fn rule_broken(kind: &jsonschema::error::ValidationErrorKind) -> (String, String) {
    use jsonschema::error::ValidationErrorKind as K;
    let pair = |fr: String, en: String| (fr, en);
    match kind {
        K::Minimum { limit } => pair(
            format!("doit valoir au moins {limit}"),
            format!("must be at least {limit}"),
        ),
        K::Maximum { limit } => pair(
            format!("doit valoir au plus {limit}"),
            format!("must be at most {limit}"),
        ),
        K::MinLength { limit } => pair(
            format!("{limit} caractère(s) au moins"),
            format!("at least {limit} character(s)"),
        ),
        K::MaxLength { limit } => pair(
            format!("{limit} caractères au plus"),
            format!("at most {limit} characters"),
        ),
        K::MinItems { limit } => pair(
            format!("{limit} élément(s) au moins"),
            format!("at least {limit} item(s)"),
        ),
        K::MaxItems { limit } => pair(
            format!("{limit} éléments au plus"),
            format!("at most {limit} items"),
        ),
        K::Pattern { .. } => pair(
            "vide, ou contient des caractères refusés".into(),
            "empty, or holds characters that are refused".into(),
        ),
        K::Required { property } => pair(
            format!("il manque {property}"),
            format!("{property} is missing"),
        ),
        K::AdditionalProperties { unexpected } => pair(
            format!("champ inconnu : {}", unexpected.join(", ")),
            format!("unknown field: {}", unexpected.join(", ")),
        ),
        K::Type { .. } | K::Enum { .. } | K::Constant { .. } => pair(
            "valeur d'un autre type attendue".into(),
            "a value of another type is expected".into(),
        ),
        _ => pair(
            "ne correspond à aucune forme permise".into(),
            "matches none of the allowed forms".into(),
        ),
    }
}

/// The refusal of a value that breaks its schema: the field, in the dotted form of the
/// other field errors, and the rule it breaks.
fn breach(e: &jsonschema::ValidationError<'_>) -> ApiError {
    let path = e.instance_path().to_string();
    let field = path.trim_start_matches('/').replace('/', ".");
    let unknown = matches!(
        e.kind(),
        jsonschema::error::ValidationErrorKind::AdditionalProperties { .. }
    );
    let code = if unknown {
        ErrorCode::UnknownField
    } else {
        ErrorCode::InvalidInput
    };
    let place = if field.is_empty() {
        "body".to_owned()
    } else {
        field.clone()
    };
    let (fr, en) = rule_broken(e.kind());
    let (fr, en) = (format!("{place} : {fr}"), format!("{place}: {en}"));
    ApiError::new(code)
        .with_bilingual_message(fr, en)
        .with_details(json!({"field": field, "reason": e.to_string()}))
}

/// Turns every number with no fractional part, within the range where a double is
/// exact, into an integer; whether any was.
fn whole_numbers(value: &mut Value) -> bool {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => {
                *value = Value::from(f as i64);
                true
            }
            _ => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, v| whole_numbers(v) | any),
        Value::Object(fields) => fields
            .values_mut()
            .fold(false, |any, v| whole_numbers(v) | any),
        _ => false,
    }
}

/// The refusal of a body that is not JSON, or not the JSON the operation takes.
fn refusal(e: &serde_json::Error) -> ApiError {
    let msg = e.to_string();
    let code = if msg.contains("unknown field") {
        ErrorCode::UnknownField
    } else if e.is_syntax() || e.is_eof() {
        ErrorCode::InvalidJson
    } else {
        ErrorCode::InvalidInput
    };
    ApiError::new(code).with_details(json!({"line": e.line(), "column": e.column(), "reason": msg}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq, utoipa::ToSchema)]
    #[serde(deny_unknown_fields)]
    struct T {
        n: i64,
        #[serde(default)]
        list: Vec<u32>,
        #[serde(default)]
        x: Option<f32>,
    }

    #[test]
    fn whole_numbers_may_be_written_as_decimals() {
        let t: T = parse(br#"{"n": 3.0, "list": [1.0, 2], "x": 1.0}"#).unwrap();
        assert_eq!(
            t,
            T {
                n: 3,
                list: vec![1, 2],
                x: Some(1.0)
            }
        );
        let e = parse::<T>(br#"{"n": 3.5}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        let e = parse::<T>(br#"{"n": 1, "m": 2}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownField);
        let e = parse::<T>(br#"{"n": 1"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidJson);
        // Also where serde says only that no variant matched.
        #[derive(Debug, serde::Deserialize, PartialEq, utoipa::ToSchema)]
        #[serde(untagged)]
        enum U {
            Id(i64),
            Name(String),
        }
        assert_eq!(
            parse::<Vec<U>>(b"[8859.0, \"x\"]").unwrap(),
            vec![U::Id(8859), U::Name("x".into())]
        );
    }

    #[test]
    fn what_serde_lets_through_the_schema_refuses() {
        use filiere_shared::api::RegisterItem;
        let body = |specs: &str| {
            format!(
                r#"{{"idempotency_key": "k", "code": "7K3M9QX8", "category": "laptop", "specs": {specs}}}"#
            )
        };
        assert!(parse::<RegisterItem>(body(r#"{"ram_gb": 8}"#).as_bytes()).is_ok());
        // An object written as an array, which serde reads field by field.
        let e = parse::<RegisterItem>(body("[null, 8]").as_bytes()).unwrap_err();
        assert_eq!(
            (e.code, &e.details.unwrap()["field"]),
            (ErrorCode::InvalidInput, &json!("specs"))
        );
        // A bound.
        let e = parse::<RegisterItem>(body(r#"{"ram_gb": 99999}"#).as_bytes()).unwrap_err();
        assert_eq!(e.details.unwrap()["field"], "specs.ram_gb");
        // Serde's own words first.
        let e = parse::<RegisterItem>(body(r#"{"colour": "red"}"#).as_bytes()).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownField);
    }
}
