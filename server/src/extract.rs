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
/// [`JSON_LIMIT`] bytes, unknown fields refused by the types themselves. A whole
/// number may be written `1.0`, as JSON Schema counts it an integer.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let lang = request_lang(req);
        let is_json = is_json(req);
        let payload = web::Payload::from_request(req, payload);
        Box::pin(async move {
            let fail = |e: ApiError| -> actix_web::Error { e.in_lang(lang).into() };
            if !is_json {
                return Err(fail(ApiError::new(ErrorCode::UnsupportedMediaType)));
            }
            let bytes = match payload.await?.to_bytes_limited(JSON_LIMIT).await {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(_)) => return Err(fail(ApiError::new(ErrorCode::InvalidJson))),
                Err(_) => return Err(fail(ApiError::new(ErrorCode::PayloadTooLarge))),
            };
            parse(&bytes).map(JsonBody).map_err(fail)
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

/// Reads `T` from JSON; a whole number written as a decimal (`1.0`) is read as the
/// whole number.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = match serde_json::from_slice::<T>(bytes) {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    // A number written with a point or an exponent may be a whole number: read again
    // with those turned into integers, and answer the first error if that fails too.
    if first.is_data()
        && bytes.iter().any(|b| matches!(b, b'.' | b'e' | b'E'))
        && let Ok(mut value) = serde_json::from_slice::<Value>(bytes)
        && whole_numbers(&mut value)
        && let Ok(t) = serde_json::from_value(value)
    {
        return Ok(t);
    }
    Err(refusal(&first))
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

    #[derive(Debug, serde::Deserialize, PartialEq)]
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
        #[derive(Debug, serde::Deserialize, PartialEq)]
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
}
