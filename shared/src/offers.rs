//! Donors asking for a pickup: the public form's body and its rules, the offer as the
//! region's coordinator sees it, and what accepting or declining it takes. Nothing an
//! offer says becomes a collection until a coordinator accepts it.

use crate::domain::*;
use crate::ids::*;
use crate::validate::{self, Check, FieldError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A form sent back sooner than this after it was served is refused (people read it).
pub const MIN_FORM_SECONDS: i64 = 3;
/// A form older than this is refused (its signed token has lapsed).
pub const MAX_FORM_SECONDS: i64 = 24 * 3600;
/// Offers accepted from one address in 24 hours.
pub const OFFERS_PER_ADDRESS_PER_DAY: i64 = 5;
/// Offers accepted for one SIRET in 24 hours.
pub const OFFERS_PER_SIRET_PER_DAY: i64 = 3;
/// The most devices of one kind an offer may announce.
pub const MAX_PER_KIND: i32 = 10_000;

/// Why a form's age refuses it, if it does: [`ErrorCode::FormTooFast`] under
/// [`MIN_FORM_SECONDS`], [`ErrorCode::FormExpired`] past [`MAX_FORM_SECONDS`] (a
/// token from the future is expired too: its clock is not ours).
pub fn form_age(issued_at: i64, now: i64) -> Result<(), crate::ErrorCode> {
    let age = now - issued_at;
    if !(0..=MAX_FORM_SECONDS).contains(&age) {
        Err(crate::ErrorCode::FormExpired)
    } else if age < MIN_FORM_SECONDS {
        Err(crate::ErrorCode::FormTooFast)
    } else {
        Ok(())
    }
}

/// What a donor fills in on the public form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewOffer {
    /// The region whose association should come.
    pub region: RegionId,
    pub organisation_name: String,
    pub siret: String,
    #[serde(default)]
    pub public_body: bool,
    pub contact_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Where the computers are.
    pub address: String,
    /// When they can be picked up ("from 5 January, weekday mornings").
    pub availability: String,
    #[serde(default)]
    pub laptops: i32,
    #[serde(default)]
    pub desktops: i32,
    #[serde(default)]
    pub monitors: i32,
    /// Printers, tablets, phones, servers…
    #[serde(default)]
    pub others: i32,
    #[serde(default)]
    pub notes: Option<String>,
}

impl NewOffer {
    /// Every field's rule, the first broken one reported.
    pub fn check(&self) -> Check {
        validate::text("organisation_name", &self.organisation_name, 200)?;
        validate::siret("siret", &self.siret)?;
        validate::text("contact_name", &self.contact_name, 100)?;
        email("email", &self.email)?;
        validate::opt_text("phone", self.phone.as_deref(), 30)?;
        validate::text("address", &self.address, 300)?;
        validate::text("availability", &self.availability, 300)?;
        validate::opt_text("notes", self.notes.as_deref(), 2000)?;
        for (f, n) in [
            ("laptops", self.laptops),
            ("desktops", self.desktops),
            ("monitors", self.monitors),
            ("others", self.others),
        ] {
            validate::range(f, n.into(), 0, MAX_PER_KIND.into())?;
        }
        if self.total() == 0 {
            return Err(FieldError::new(
                "laptops",
                "indiquez combien d'appareils vous donnez",
                "say how many devices you are giving",
            ));
        }
        Ok(())
    }

    pub fn total(&self) -> i64 {
        [self.laptops, self.desktops, self.monitors, self.others]
            .iter()
            .map(|&n| i64::from(n.max(0)))
            .sum()
    }
}

/// An e-mail address as people type it: something, `@`, a domain with a dot; no
/// blank. (Whether it reaches someone is the coordinator's phone call.)
pub fn email(field: &str, value: &str) -> Check {
    validate::text(field, value, 200)?;
    let v = value.trim();
    let ok = match v.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !v.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "adresse e-mail attendue (nom@domaine.fr)",
            "an e-mail address is expected (name@domain.org)",
        ))
    }
}

/// An offer as the region's coordinator reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OfferView {
    pub id: OfferId,
    pub region: RegionId,
    pub organisation_name: String,
    pub siret: String,
    pub public_body: bool,
    pub contact_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub address: String,
    pub availability: String,
    pub laptops: i32,
    pub desktops: i32,
    pub monitors: i32,
    pub others: i32,
    pub total: i64,
    pub notes: Option<String>,
    pub status: OfferStatus,
    /// The planned collection, once accepted.
    pub collection: Option<CollectionId>,
    pub decline_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Accepting an offer plans its collection: the donor organisation is the one with
/// the offer's SIRET (made from the offer when there is none yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AcceptOffer {
    /// The workshop that receives the lot.
    pub site: SiteId,
    pub pickup_date: NaiveDate,
    pub legal_status: LegalStatus,
    /// Required for waste: `16 02 14`, `20 01 36`…
    #[serde(default)]
    pub waste_code: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000000))]
    pub declared_weight_g: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeclineOffer {
    /// Said to the donor by the coordinator; kept with the offer.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500, pattern = "$text"))]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer() -> NewOffer {
        NewOffer {
            region: RegionId(1),
            organisation_name: "Mairie de Vaulx".into(),
            siret: "120 027 016 00019".into(),
            public_body: true,
            contact_name: "Claire Martin".into(),
            email: "dsi@vaulx.example".into(),
            phone: None,
            address: "Place de la mairie".into(),
            availability: "à partir du 5 janvier".into(),
            laptops: 30,
            desktops: 0,
            monitors: 0,
            others: 0,
            notes: None,
        }
    }

    #[test]
    fn an_offer_is_checked_field_by_field() {
        assert!(offer().check().is_ok());
        let bad_siret = NewOffer {
            siret: "12002701600018".into(),
            ..offer()
        };
        assert_eq!(bad_siret.check().unwrap_err().field, "siret");
        let nothing = NewOffer {
            laptops: 0,
            ..offer()
        };
        assert_eq!(nothing.check().unwrap_err().field, "laptops");
        let negative = NewOffer {
            monitors: -1,
            ..offer()
        };
        assert_eq!(negative.check().unwrap_err().field, "monitors");
        for e in ["dsi", "dsi@vaulx", "@vaulx.fr", "d si@vaulx.fr", "a@b@c.fr"] {
            assert!(email("email", e).is_err(), "{e}");
        }
        assert!(email("email", "d.si+dons@vaulx.example.fr").is_ok());
    }

    #[test]
    fn a_form_must_be_read_but_not_kept_for_days() {
        use crate::ErrorCode::*;
        assert_eq!(form_age(100, 102), Err(FormTooFast));
        assert_eq!(form_age(100, 103), Ok(()));
        assert_eq!(form_age(100, 100 + MAX_FORM_SECONDS), Ok(()));
        assert_eq!(form_age(100, 101 + MAX_FORM_SECONDS), Err(FormExpired));
        assert_eq!(form_age(100, 99), Err(FormExpired));
    }
}
