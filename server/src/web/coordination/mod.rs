//! The regional coordinator's daily work on pages (admins reach the same pages for
//! every region): donors and partners, collections and donors' offers, label batches,
//! WEEE batches. Each page calls the service functions of its JSON routes.

pub mod asset_list;
pub mod collections;
pub mod documents;
pub mod erasure_report;
pub mod labels;
pub mod offers;
pub mod organisations;
pub mod weee;

use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::ApiResult;
use crate::service::admin;
use filiere_shared::api::SiteView;
use filiere_shared::*;

/// One option of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl ToString, label: impl Into<String>, selected: bool) -> Choice {
        Choice {
            value: value.to_string(),
            label: label.into(),
            selected,
        }
    }
}

/// The sites the caller may act at (of those they may read), as choices.
pub fn site_choices(sites: &[SiteView], actor: &Actor, selected: Option<i64>) -> Vec<Choice> {
    sites
        .iter()
        .filter(|s| actor.role != Role::Technician || actor.site == Some(s.id))
        .map(|s| Choice::new(s.id.0, s.name.clone(), Some(s.id.0) == selected))
        .collect()
}

/// Site names by id, for tables.
pub fn site_names(sites: &[SiteView]) -> std::collections::HashMap<i64, String> {
    sites.iter().map(|s| (s.id.0, s.name.clone())).collect()
}

/// The sites the caller may read, for [`site_choices`] and [`site_names`].
pub fn sites(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<SiteView>> {
    admin::list_sites(conn, actor)
}
