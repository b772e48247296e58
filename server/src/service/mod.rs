//! The server's operations, independent of HTTP: each takes a connection and the
//! caller, checks role and scope, and reads or writes.

pub mod admin;
pub mod after_sales;
pub mod asset_imports;
pub mod beneficiaries;
pub mod catalogue;
pub mod collections;
pub mod dashboards;
pub mod documents;
pub mod erasure_reports;
pub mod events;
pub mod items;
pub mod labels;
pub mod needs;
pub mod offers;
pub mod open_data;
pub mod registers;
pub mod reservations;
pub mod sales;
pub mod training;
pub mod weee;

use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::schema::sites;
use diesel::prelude::*;
use filiere_shared::validate::FieldError;
use filiere_shared::{ErrorCode, RegionId, SiteId};
use std::str::FromStr;

/// The region of a site, or `site_not_found`.
pub fn site_region(conn: &mut DbConnection, site: SiteId, actor: &Actor) -> ApiResult<RegionId> {
    sites::table
        .find(site.0)
        .select(sites::region_id)
        .first::<i64>(conn)
        .optional()?
        .map(RegionId)
        .ok_or_else(|| actor.err(ErrorCode::SiteNotFound))
}

/// Parses an enum stored as text; a bad stored value is a server fault.
pub fn parse_stored<T: FromStr>(s: &str) -> ApiResult<T>
where
    T::Err: std::fmt::Display,
{
    T::from_str(s).map_err(ApiError::internal)
}

/// Turns a validation failure into the caller's-language error.
pub fn check(actor: &Actor, result: Result<(), FieldError>) -> ApiResult<()> {
    result.map_err(|e| ApiError::field(e, actor.lang))
}

/// [`check`] for a rule the schema cannot state (a check key, a code list): 422.
pub fn check_rule(actor: &Actor, result: Result<(), FieldError>) -> ApiResult<()> {
    result.map_err(|e| ApiError::rule(e, actor.lang))
}

/// Upper-case, alphanumeric only: how serials and asset tags are matched.
pub fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_uppercase())
        .collect()
}
