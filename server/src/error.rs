//! The one error type of the HTTP layer: a stable code, the status that fits, and a
//! message in the caller's language. A 5xx logs its cause and hides it from the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use filiere_shared::error::ErrorBody;
use filiere_shared::lifecycle::Refusal;
use filiere_shared::validate::FieldError;
use filiere_shared::{ErrorCode, Lang};
use serde_json::{Value, json};
use std::fmt;

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    /// The message for the client; `None` takes the code's general message.
    pub message: Option<String>,
    /// A message written in both languages before the caller's is known (French,
    /// English): the one of the language set last is answered.
    pub messages: Option<Box<(String, String)>>,
    pub details: Option<Value>,
    /// The hidden cause of a 5xx, for the log.
    pub cause: Option<String>,
    pub lang: Lang,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        ApiError {
            code,
            message: None,
            messages: None,
            details: None,
            cause: None,
            lang: Lang::Fr,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    pub fn with_bilingual_message(mut self, fr: String, en: String) -> Self {
        self.messages = Some(Box::new((fr, en)));
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        ApiError {
            cause: Some(cause.to_string()),
            ..ApiError::new(ErrorCode::Internal)
        }
    }

    /// Sets the language unless a message was already written for a given one.
    pub fn in_lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    pub fn field(err: FieldError, lang: Lang) -> Self {
        ApiError::new(ErrorCode::InvalidInput)
            .with_message(err.message(lang))
            .with_details(json!({"field": err.field}))
            .in_lang(lang)
    }

    /// A value of the right shape refused by a rule the schema cannot state (a check
    /// key, a combination of fields): 422, where a value the schema refuses is 400.
    pub fn rule(err: FieldError, lang: Lang) -> Self {
        ApiError::new(ErrorCode::InvalidValue)
            .with_message(err.message(lang))
            .with_details(json!({"field": err.field}))
            .in_lang(lang)
    }

    pub fn refusal(r: &Refusal, lang: Lang) -> Self {
        let mut e = ApiError::new(r.code())
            .with_message(r.message(lang))
            .in_lang(lang);
        e.details = r.details();
        e
    }

    pub fn version_conflict(current: i64) -> Self {
        ApiError::new(ErrorCode::VersionConflict).with_details(json!({"current_version": current}))
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: match (&self.message, &self.messages) {
                (Some(m), _) => m.clone(),
                (None, Some(both)) => self.lang.pick(&both.0, &both.1).to_owned(),
                (None, None) => self.code.message(self.lang).to_owned(),
            },
            details: self.details.clone(),
            request_id: None,
        }
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError::new(code)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(c) = &self.cause {
            write!(f, " ({c})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::NotFound => ApiError::new(ErrorCode::NotFound),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::new(ErrorCode::Duplicate)
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::new(ErrorCode::VersionConflict)
            }
            Error::DatabaseError(_, info) if is_busy_or_deadlock(info.message()) => {
                ApiError::new(ErrorCode::VersionConflict)
            }
            Error::DatabaseError(_, info) if is_disk_full(info.message()) => ApiError {
                cause: Some(e.to_string()),
                ..ApiError::new(ErrorCode::StorageFull)
            },
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Error::BrokenTransactionManager => ApiError {
                cause: Some(e.to_string()),
                ..ApiError::new(ErrorCode::Unavailable)
            },
            Error::DatabaseError(_, info) if is_connection_lost(info.message()) => ApiError {
                cause: Some(e.to_string()),
                ..ApiError::new(ErrorCode::Unavailable)
            },
            _ => ApiError::internal(e),
        }
    }
}

/// SQLite's `SQLITE_FULL` (and PostgreSQL's "no space left on device"): the disk is
/// full, the statement was not done.
pub fn is_disk_full(message: &str) -> bool {
    message.contains("database or disk is full") || message.contains("No space left on device")
}

/// The database went away under a statement (PostgreSQL stopped or restarted): a
/// 503, like a pool that cannot connect, not a fault of the server.
pub fn is_connection_lost(message: &str) -> bool {
    [
        "server closed the connection",
        "terminating connection",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "connection to server",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "SSL connection has been closed",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Deadlocks (PostgreSQL) and lock time-outs (SQLite) are concurrency conflicts: the
/// client retries after reloading.
fn is_busy_or_deadlock(message: &str) -> bool {
    message.contains("deadlock detected") || message.contains("database is locked")
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        ApiError {
            cause: Some(e.to_string()),
            ..ApiError::new(ErrorCode::Unavailable)
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(code = %self.code, cause = ?self.cause, "request failed");
        }
        let mut body = self.body();
        body.request_id = crate::current_request_id();
        HttpResponse::build(status).json(body)
    }
}
