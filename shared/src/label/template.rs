//! Label templates are data: margins, QR settings and the list of printed fields. The
//! three built-in templates are JSON files in `shared/templates/`; a site adds its own
//! the same way, without code. Sizes are for a label 25 mm high (a thermal roll);
//! on taller labels the QR block and the text grow with the height (up to twice).

use super::{LabelError, MIN_MODULE_MM, MIN_QUIET_MODULES};
use serde::{Deserialize, Serialize};

/// QR error correction: M for labels on machines, Q for small part labels that get
/// scratched, H where the label may be half torn. L is never offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Ecc {
    M,
    Q,
    H,
}

impl Ecc {
    pub fn letter(self) -> char {
        match self {
            Ecc::M => 'M',
            Ecc::Q => 'Q',
            Ecc::H => 'H',
        }
    }

    pub(crate) fn level(self) -> qrcode::EcLevel {
        match self {
            Ecc::M => qrcode::EcLevel::M,
            Ecc::Q => qrcode::EcLevel::Q,
            Ecc::H => qrcode::EcLevel::H,
        }
    }
}

/// The QR block of a template.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QrSpec {
    pub ecc: Ecc,
    /// Blank modules around the symbol; at least 4.
    #[serde(default = "default_quiet")]
    pub quiet_modules: u32,
    /// Side of the QR block (symbol and quiet zone), in mm; by default the label's
    /// height within its margins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 5, maximum = 200))]
    pub size_mm: Option<f64>,
}

fn default_quiet() -> u32 {
    MIN_QUIET_MODULES
}

/// What a line of text prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Field {
    /// The code, hyphenated (`7K3M-9QX8`); never shortened.
    Code,
    /// The item's category, in the label's language.
    Category,
    /// A part's key figure ("8 GB DDR4").
    PartSpec,
    /// Brand and model.
    Model,
    Cpu,
    /// RAM and storage on one line.
    RamStorage,
    /// Functional and cosmetic grades.
    Grades,
    /// The date the drives were erased.
    ErasureDate,
    /// A fixed text, such as the association's name (1 to 60 characters).
    Text(String),
}

impl Field {
    /// Whether the field needs a registered item (a blank code has none of these).
    pub fn needs_item(&self) -> bool {
        !matches!(self, Field::Code | Field::Text(_))
    }
}

/// One printed line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldSpec {
    pub field: Field,
    /// Character height (em), in mm.
    #[cfg_attr(feature = "openapi", schema(minimum = 1.2, maximum = 15))]
    pub size_mm: f64,
    #[serde(default)]
    pub bold: bool,
}

/// A label template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Template {
    /// Lower-case name, `a-z`, digits and `-`: how requests choose it.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[a-z0-9-]{1,40}(?!\n)$"))]
    pub name: String,
    /// Blank band along every edge (printer and die-cut tolerance), in mm.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10))]
    pub margin_mm: f64,
    pub qr: QrSpec,
    /// 1 to 12 lines, one of them the code.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 12))]
    pub fields: Vec<FieldSpec>,
}

/// Built-in templates: `intake` (blank code), `part` (code, category, key spec) and
/// `sale` (code, model, CPU / RAM / storage, grades, erasure date).
pub fn builtin_templates() -> Vec<Template> {
    [
        include_str!("../../templates/intake.json"),
        include_str!("../../templates/part.json"),
        include_str!("../../templates/sale.json"),
    ]
    .iter()
    .filter_map(|json| serde_json::from_str(json).ok())
    .collect()
}

impl Template {
    /// Whether the template prints anything beyond the code and fixed text.
    pub fn needs_item(&self) -> bool {
        self.fields.iter().any(|f| f.field.needs_item())
    }

    /// Refuses a template that would print an unscannable or unreadable label.
    /// `sample_content` is the longest QR content it will carry (the label URL with
    /// the configured host), which sets the QR version.
    pub fn validate(&self, sample_content: &str) -> Result<(), LabelError> {
        let bad = |m: &str| Err(LabelError::InvalidTemplate(m.to_owned()));
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 40
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return bad("name: 1 to 40 characters among a-z, 0-9 and '-'");
        }
        if !(self.margin_mm.is_finite() && (0.0..=10.0).contains(&self.margin_mm)) {
            return bad("margin_mm must be between 0 and 10");
        }
        if self.qr.quiet_modules < MIN_QUIET_MODULES {
            return Err(LabelError::QuietZoneTooSmall {
                modules: self.qr.quiet_modules,
            });
        }
        if self.qr.quiet_modules > 10 {
            return bad("qr.quiet_modules must be 10 at most");
        }
        if self.fields.is_empty() || self.fields.len() > 12 {
            return bad("1 to 12 fields");
        }
        if !self.fields.iter().any(|f| f.field == Field::Code) {
            return bad("the code must be printed in clear (field \"code\")");
        }
        for f in &self.fields {
            if !(f.size_mm.is_finite() && (1.2..=15.0).contains(&f.size_mm)) {
                return bad("size_mm of a field must be between 1.2 and 15");
            }
            if let Field::Text(t) = &f.field
                && (t.trim().is_empty() || t.chars().count() > 60)
            {
                return bad("a text field holds 1 to 60 characters");
            }
        }
        if let Some(size) = self.qr.size_mm {
            if !(size.is_finite() && (5.0..=200.0).contains(&size)) {
                return bad("qr.size_mm must be between 5 and 200");
            }
            let code = qrcode::QrCode::with_error_correction_level(
                sample_content.as_bytes(),
                self.qr.ecc.level(),
            )
            .map_err(|e| LabelError::QrEncoding(e.to_string()))?;
            let modules = code.width() as f64 + 2.0 * f64::from(self.qr.quiet_modules);
            let module_mm = size / modules;
            if module_mm < MIN_MODULE_MM {
                return Err(LabelError::ModuleTooSmall { module_mm });
            }
        }
        Ok(())
    }
}
