//! Documents issued to people who never log in (donors, recyclers, beneficiaries):
//! their identifiers, what issuing one takes, and what the public verification page
//! answers. A document's identifier is printed on it with the address of that page.

use crate::domain::*;
use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Crockford's base-32 alphabet: no I, L, O or U, so an identifier read aloud or
/// typed from paper is not mistaken.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A document's identifier from 60 random bits: twelve characters in three groups of
/// four, such as `K7M2-9QX8-T4WZ`.
pub fn document_id(random: u64) -> String {
    let mut out = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 55 - 5 * i;
        out.push(ALPHABET[((random >> shift) & 31) as usize] as char);
    }
    out
}

/// An identifier as someone typed it (any case, with or without dashes or spaces,
/// O for 0, I or L for 1), written the one way it is stored; `None` when it cannot
/// be one.
pub fn parse_document_id(typed: &str) -> Option<String> {
    let mut chars = Vec::with_capacity(12);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        chars.push(c);
        if chars.len() > 12 {
            return None;
        }
    }
    if chars.len() != 12 {
        return None;
    }
    let mut out = String::with_capacity(14);
    for (i, c) in chars.into_iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    Some(out)
}

impl Outcome {
    /// An item's outcome from its state.
    pub fn of(state: ItemState) -> Outcome {
        use ItemState::*;
        match state {
            Sold | Fitted => Outcome::Reused,
            Ready | Reserved | Returned | TestedGood | InStock => Outcome::ReadyForReuse,
            Harvesting | Harvested => Outcome::Parts,
            ToRecycle => Outcome::AwaitingRecycling,
            Recycled | Destroyed => Outcome::Recycled,
            Collected | Received | Refurbishing | Faulty => Outcome::InProgress,
        }
    }

    /// Counted as reused or re-used in the sense of the décret n° 2023-266: the device
    /// goes on, whole or in parts.
    pub fn counts_as_reuse(self) -> bool {
        matches!(
            self,
            Outcome::Reused | Outcome::ReadyForReuse | Outcome::Parts
        )
    }
}

/// The share of their disused computers that the State and local authorities must
/// have reused or re-used in a year, in percent (décret n° 2023-266 du 12 avril 2023,
/// article 2): 25 % in 2023, 35 % in 2024, 50 % from 2025; nothing before.
pub fn public_reuse_target(year: i32) -> Option<u32> {
    match year {
        ..2023 => None,
        2023 => Some(25),
        2024 => Some(35),
        _ => Some(50),
    }
}

/// The European waste code of equipment discarded without a more precise one:
/// "équipements mis au rebut autres que ceux visés aux rubriques 16 02 09 à 16 02 13".
pub const DISCARDED_EQUIPMENT: &str = "16 02 14";

/// The waste code under which an item leaves for recycling: the one its lot came in
/// with when it was given as waste, else [`DISCARDED_EQUIPMENT`].
pub fn leaving_waste_code(lot_code: Option<&str>) -> &str {
    match lot_code.map(str::trim) {
        Some(c) if !c.is_empty() => c,
        _ => DISCARDED_EQUIPMENT,
    }
}

/// Asks for a document about a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IssueDocument {
    pub kind: DocumentKind,
}

/// A document as issued, for those who may download it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IssuedDocument {
    /// The identifier printed on the document, such as `K7M2-9QX8-T4WZ`.
    pub id: String,
    pub kind: DocumentKind,
    pub title: String,
    pub issuer: String,
    pub issued_at: DateTime<Utc>,
    /// Who issued it (and signed it, for a certificate).
    pub issued_by: String,
    pub signed: bool,
    /// The SHA-256 of the PDF file, in hexadecimal.
    pub sha256: String,
    /// Where the file is downloaded again (signed in).
    pub pdf: String,
    /// The public verification page printed on it.
    pub verify: String,
}

/// What the public verification page says of an identifier: no personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DocumentCheck {
    pub id: String,
    pub kind: DocumentKind,
    pub title: String,
    /// The organisation that issued it.
    pub issuer: String,
    pub issued_at: DateTime<Utc>,
    /// Signed by a person with the data-security right (certificates).
    pub signed: bool,
    /// With a file sent: whether it is the document issued, byte for byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<bool>,
}

/// Seen on a collection's page: which of its documents may be issued now, and why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CollectionDocuments {
    pub collection: CollectionId,
    pub issued: Vec<IssuedDocument>,
    /// Drives of the collection neither erased nor destroyed yet, and devices whose
    /// drives are not declared yet: while any is left, no erasure certificate.
    pub pending: Vec<PendingDrive>,
    /// Whether the caller holds the data-security right.
    pub may_sign: bool,
}

/// What keeps a collection's erasure certificate back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PendingDrive {
    pub item: ItemId,
    pub code: String,
    /// The drive's serial; absent when the device's drives are not declared yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_read_back_as_typed() {
        let id = document_id(0x0FED_CBA9_8765_4321);
        assert_eq!(id.len(), 14);
        assert_eq!(parse_document_id(&id), Some(id.clone()));
        let typed = id.replace('-', " ").to_lowercase();
        assert_eq!(parse_document_id(&typed), Some(id.clone()));
        assert_eq!(
            parse_document_id("k7m2 9qx8 t4wz"),
            Some("K7M2-9QX8-T4WZ".into())
        );
        assert_eq!(
            parse_document_id("O0IL-0000-0000"),
            Some("0011-0000-0000".into())
        );
        assert_eq!(parse_document_id("K7M2-9QX8-T4W"), None);
        assert_eq!(parse_document_id("K7M2-9QX8-T4WZZ"), None);
        assert_eq!(parse_document_id("K7M2-9QX8-T4WU"), None);
        assert_eq!(parse_document_id("../etc/passwd"), None);
        assert_ne!(document_id(1), document_id(2));
    }

    #[test]
    fn an_item_leaves_with_its_lots_waste_code() {
        assert_eq!(leaving_waste_code(Some("20 01 36")), "20 01 36");
        assert_eq!(leaving_waste_code(Some(" ")), "16 02 14");
        assert_eq!(leaving_waste_code(None), "16 02 14");
    }

    #[test]
    fn the_decrees_targets_by_year() {
        assert_eq!(public_reuse_target(2022), None);
        assert_eq!(public_reuse_target(2023), Some(25));
        assert_eq!(public_reuse_target(2024), Some(35));
        assert_eq!(public_reuse_target(2026), Some(50));
    }

    #[test]
    fn every_state_has_an_outcome_and_parts_count_as_reuse() {
        for s in ItemState::ALL {
            let _ = Outcome::of(*s);
        }
        assert_eq!(Outcome::of(ItemState::Sold), Outcome::Reused);
        assert!(Outcome::of(ItemState::Harvested).counts_as_reuse());
        assert!(!Outcome::of(ItemState::Recycled).counts_as_reuse());
        assert!(!Outcome::of(ItemState::Refurbishing).counts_as_reuse());
    }
}
