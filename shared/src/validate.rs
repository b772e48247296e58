//! Input checks shared by the server and the bench app: a bad value is refused before
//! anything is written, with the field that is wrong.

use crate::error::Lang;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason_en}")]
pub struct FieldError {
    pub field: String,
    pub reason_fr: String,
    pub reason_en: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, fr: impl Into<String>, en: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason_fr: fr.into(),
            reason_en: en.into(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Fr => format!("{} : {}", self.field, self.reason_fr),
            Lang::En => format!("{}: {}", self.field, self.reason_en),
        }
    }
}

pub type Check = Result<(), FieldError>;

/// The rules below as JSON Schema patterns, for the API document (ECMA-262 regular
/// expressions, read alike by Python's `re` and Rust's `fancy-regex`). The request types
/// name them by marker (`pattern = "$text"`); the document states them in full.
/// A pattern that must not match a trailing line feed ends with `(?!\n)$`, since
/// Python's `$` also matches before one.
pub const PATTERNS: &[(&str, &str)] = &[
    ("$text", TEXT_PATTERN),
    ("$required-text", REQUIRED_TEXT_PATTERN),
    ("$key", KEY_PATTERN),
    ("$not-blank", NOT_BLANK_PATTERN),
];

/// [`opt_text`]: no control character but line feeds and tabs.
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$";
/// [`text`]: as [`TEXT_PATTERN`], and not only blanks.
pub const REQUIRED_TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$";
/// [`idempotency_key`]: visible ASCII only.
pub const KEY_PATTERN: &str = r"^[!-~]+(?!\n)$";
/// Something that is not blank (Rust's `char::is_whitespace`), whatever else it holds.
pub const NOT_BLANK_PATTERN: &str =
    r"[^\t-\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

/// A required text: trimmed, not empty, at most `max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize) -> Check {
    let t = value.trim();
    if t.is_empty() {
        return Err(FieldError::new(
            field,
            "ne peut pas être vide",
            "must not be empty",
        ));
    }
    opt_text(field, Some(value), max)
}

/// An optional text: when given, at most `max` characters and no control characters.
pub fn opt_text(field: &str, value: Option<&str>, max: usize) -> Check {
    let Some(v) = value else { return Ok(()) };
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("{max} caractères au plus"),
            format!("at most {max} characters"),
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(
            field,
            "contient des caractères de contrôle",
            "contains control characters",
        ));
    }
    Ok(())
}

/// An integer within bounds.
pub fn range(field: &str, value: i64, min: i64, max: i64) -> Check {
    if value < min || value > max {
        return Err(FieldError::new(
            field,
            format!("doit être entre {min} et {max}"),
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(())
}

/// A SIRET: 14 digits whose Luhn sum is a multiple of 10 (La Poste's establishments,
/// SIREN 356 000 000, use a digit-sum rule instead).
pub fn siret(field: &str, value: &str) -> Check {
    let digits: Vec<u32> = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_digit(10))
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    let bad = || {
        FieldError::new(
            field,
            "un SIRET compte 14 chiffres et sa clé doit être valide",
            "a SIRET has 14 digits and a valid check key",
        )
    };
    if digits.len() != 14 {
        return Err(bad());
    }
    let la_poste = digits[..9] == [3, 5, 6, 0, 0, 0, 0, 0, 0];
    let ok = if la_poste {
        digits.iter().sum::<u32>() % 5 == 0
    } else {
        luhn(&digits)
    };
    if ok { Ok(()) } else { Err(bad()) }
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An idempotency key chosen by the client: 1 to 100 visible ASCII characters.
pub fn idempotency_key(value: &str) -> Check {
    if value.is_empty() || value.len() > 100 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FieldError::new(
            "idempotency_key",
            "1 à 100 caractères ASCII visibles",
            "1 to 100 visible ASCII characters",
        ));
    }
    Ok(())
}

/// A European waste code (`16 02 14`, `20 01 35*`).
pub fn waste_code(field: &str, value: &str) -> Check {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let (digits, star) = match compact.strip_suffix('*') {
        Some(d) => (d, true),
        None => (compact.as_str(), false),
    };
    let _ = star;
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "code déchet attendu sous la forme « 16 02 14 » ou « 20 01 35* »",
            "waste code expected as \"16 02 14\" or \"20 01 35*\"",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siret_checks_the_luhn_key() {
        // SIRET of the INSEE head office (public body).
        assert!(siret("siret", "120 027 016 00019").is_ok());
        assert!(siret("siret", "12002701600018").is_err());
        assert!(siret("siret", "1200270160001").is_err());
        assert!(siret("siret", "1200270160001A").is_err());
        // La Poste establishments follow their own rule.
        assert!(siret("siret", "35600000000001").is_ok());
    }

    #[test]
    fn texts_are_bounded_and_clean() {
        assert!(text("model", "  ", 10).is_err());
        assert!(text("model", "ThinkPad", 10).is_ok());
        assert!(text("model", "ThinkPad T480s", 10).is_err());
        assert!(opt_text("notes", Some("a\u{0}b"), 10).is_err());
        assert!(opt_text("notes", None, 10).is_ok());
    }

    #[test]
    fn waste_codes() {
        assert!(waste_code("w", "16 02 14").is_ok());
        assert!(waste_code("w", "20 01 35*").is_ok());
        assert!(waste_code("w", "16 02").is_err());
    }

    #[test]
    fn idempotency_keys() {
        assert!(idempotency_key("bench-3:000042").is_ok());
        assert!(idempotency_key("").is_err());
        assert!(idempotency_key("with space").is_err());
        assert!(idempotency_key(&"k".repeat(101)).is_err());
    }
}
