//! The social workers' pages: their home, the catalogue, beneficiaries, reservations
//! and training sessions.

pub mod beneficiaries;
pub mod catalogue;
pub mod home;
pub mod reservations;
pub mod training;

use crate::clock::Clock;
use filiere_shared::Lang;
use filiere_shared::api::SaleItemView;
use filiere_shared::names::Named;

/// A device as a card or a line: what a social worker compares.
pub struct DeviceCard {
    pub id: i64,
    pub title: String,
    pub code: String,
    pub specs: String,
    pub grades: String,
    pub site: String,
    /// The region's solidarity price, when one is set.
    pub price: Option<String>,
}

impl DeviceCard {
    pub fn new(item: &SaleItemView, site: &str, lang: Lang) -> DeviceCard {
        DeviceCard {
            id: item.id.0,
            title: format!(
                "{} {} {}",
                item.category.name(lang),
                item.brand.as_deref().unwrap_or(""),
                item.model.as_deref().unwrap_or("")
            )
            .trim()
            .to_owned(),
            code: item.code.hyphenated(),
            specs: specs_line(item, lang),
            grades: grades_line(item, lang),
            site: site.to_owned(),
            price: None,
        }
    }

    pub fn with_price(mut self, cents: Option<i64>, lang: Lang) -> DeviceCard {
        self.price = cents.map(|c| filiere_shared::sales::format_euros(c, lang));
        self
    }
}

pub fn specs_line(item: &SaleItemView, lang: Lang) -> String {
    let s = &item.specs;
    let mut parts = Vec::new();
    if let Some(x) = s.screen_inches {
        parts.push(filiere_shared::names::inches_text(x, lang));
    }
    if let Some(r) = s.ram_gb {
        parts.push(format!("{r}\u{a0}{} RAM", lang.pick("Go", "GB")));
    }
    if let Some(g) = s.storage_gb {
        parts.push(format!(
            "{g}\u{a0}{} {}",
            lang.pick("Go", "GB"),
            filiere_shared::names::storage_type_text(s.storage_type.as_deref().unwrap_or(""))
        ));
    }
    if let Some(c) = &s.cpu {
        parts.push(c.clone());
    }
    parts.join(" · ")
}

pub fn grades_line(item: &SaleItemView, lang: Lang) -> String {
    let f = item.functional_grade.map(|g| g.name(lang)).unwrap_or("–");
    let c = item.cosmetic_grade.map(|g| g.name(lang)).unwrap_or("–");
    format!(
        "{} {f} · {} {c}",
        lang.pick("Fonctionnement", "Function"),
        lang.pick("aspect", "looks")
    )
}

/// A date and time as the pages show them.
pub fn when(clock: &Clock, t: chrono::DateTime<chrono::Utc>, lang: Lang) -> String {
    clock.long(t, lang)
}
