//! Filière's domain, shared by the server and the bench app.
//!
//! Pure computation only: label codes, the lifecycle rules, the API's request and
//! response types and the error codes. No I/O, no database, no HTTP, no UI.

pub mod api;
pub mod assets;
pub mod blancco;
pub mod code;
pub mod dashboards;
pub mod documents;
pub mod domain;
pub mod error;
pub mod ids;
pub mod label;
pub mod lifecycle;
pub mod names;
pub mod nwipe;
pub mod offers;
pub mod registers;
pub mod sales;
pub mod social;
pub mod validate;

pub use code::{BadgeCode, LabelCode};
pub use domain::*;
pub use error::{ErrorCode, Lang};
pub use ids::*;
