//! Labels: pure layout and rendering, so that the server serves them and a bench prints
//! them offline with the same code.
//!
//! A [`Template`] (data: margins, QR settings, fields) is laid out for one label size
//! into a [`Layout`] of millimetre positions, which the renderers turn into SVG, PNG,
//! a PDF sheet ([`Sheet`]) or ZPL. QR modules are never scaled bitmaps: vectors in SVG
//! and PDF, whole pixels or printer dots in PNG and ZPL, and never under
//! [`MIN_MODULE_MM`].

mod layout;
mod pdf;
mod png;
mod sheet;
mod svg;
mod template;
mod zpl;

pub use layout::{Layout, QrBlock, TextLine, layout};
pub use pdf::pdf_sheet;
pub use png::png;
pub use sheet::{Sheet, SheetKind};
pub use svg::svg;
pub use template::{Ecc, Field, FieldSpec, QrSpec, Template, builtin_templates};
pub use zpl::{Dpi, zpl, zpl_label};

use crate::api::Specs;
use crate::code::LabelCode;
use crate::domain::{Category, Grade};
use crate::error::Lang;
use chrono::NaiveDate;

/// The smallest QR module printed, in millimetres (what a phone and a bench imager
/// read at arm's length).
pub const MIN_MODULE_MM: f64 = 0.375;
/// The smallest quiet zone around a QR symbol, in modules (ISO/IEC 18004).
pub const MIN_QUIET_MODULES: u32 = 4;
/// Most labels rendered by one request.
pub const MAX_LABELS: usize = 10_000;

/// The most labels a sheet has (L7651): the highest `start_slot` any sheet can take.
pub const MAX_START_SLOT: usize = 65;

/// Why a label cannot be produced as asked; each names what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabelError {
    #[error("QR modules would be {module_mm:.3} mm, under the {MIN_MODULE_MM} mm minimum")]
    ModuleTooSmall { module_mm: f64 },
    #[error("the QR quiet zone is {modules} modules, under the minimum of {MIN_QUIET_MODULES}")]
    QuietZoneTooSmall { modules: u32 },
    #[error("the fields do not fit on a {width_mm} × {height_mm} mm label")]
    FieldsDoNotFit { width_mm: f64, height_mm: f64 },
    #[error("the QR content cannot be encoded: {0}")]
    QrEncoding(String),
    #[error("invalid template: {0}")]
    InvalidTemplate(String),
    #[error("between 1 and {MAX_LABELS} labels per request, not {0}")]
    Count(usize),
    #[error("the start slot must be between 1 and {slots}, not {slot}")]
    StartSlot { slot: usize, slots: usize },
    #[error("cannot encode the output: {0}")]
    Output(String),
}

impl LabelError {
    /// The message in French, for the people at the bench.
    pub fn message_fr(&self) -> String {
        match self {
            LabelError::ModuleTooSmall { module_mm } => format!(
                "les modules du QR feraient {module_mm:.3} mm, sous le minimum de {MIN_MODULE_MM} mm : étiquette illisible"
            ),
            LabelError::QuietZoneTooSmall { modules } => format!(
                "la marge blanche du QR est de {modules} modules, sous le minimum de {MIN_QUIET_MODULES}"
            ),
            LabelError::FieldsDoNotFit {
                width_mm,
                height_mm,
            } => format!(
                "les champs ne tiennent pas sur une étiquette de {width_mm} × {height_mm} mm"
            ),
            LabelError::QrEncoding(e) => format!("le contenu du QR ne peut pas être codé : {e}"),
            LabelError::InvalidTemplate(e) => format!("modèle d'étiquette invalide : {e}"),
            LabelError::Count(n) => {
                format!("de 1 à {MAX_LABELS} étiquettes par demande, pas {n}")
            }
            LabelError::StartSlot { slot, slots } => {
                format!("la première position doit être entre 1 et {slots}, pas {slot}")
            }
            LabelError::Output(e) => format!("impossible de produire le fichier : {e}"),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Fr => self.message_fr(),
            Lang::En => self.to_string(),
        }
    }
}

/// The size of one label, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelSize {
    pub width_mm: f64,
    pub height_mm: f64,
}

impl LabelSize {
    pub const fn new(width_mm: f64, height_mm: f64) -> LabelSize {
        LabelSize {
            width_mm,
            height_mm,
        }
    }
}

/// Label rolls of thermal printers, by name.
pub const ROLLS: [(&str, LabelSize); 2] = [
    ("50x25", LabelSize::new(50.0, 25.0)),
    ("38x25", LabelSize::new(38.0, 25.0)),
];

/// A label size by name: a roll (`50x25`, `38x25`) or a sheet's label (`L7160`…).
pub fn media(name: &str) -> Option<LabelSize> {
    let n = name.trim();
    ROLLS
        .iter()
        .find(|(r, _)| r.eq_ignore_ascii_case(n))
        .map(|(_, s)| *s)
        .or_else(|| SheetKind::parse(n).map(|k| k.sheet().label))
}

/// Everything a label may print about one code. A blank intake label has only the
/// code; part and sale labels take the rest from the item.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelData {
    pub code: LabelCode,
    pub category: Option<Category>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub specs: Specs,
    pub functional_grade: Option<Grade>,
    pub cosmetic_grade: Option<Grade>,
    /// When the last drive of the device was erased.
    pub erased_on: Option<NaiveDate>,
}

impl LabelData {
    /// A blank label: the code alone.
    pub fn blank(code: LabelCode) -> LabelData {
        LabelData {
            code,
            category: None,
            brand: None,
            model: None,
            specs: Specs::default(),
            functional_grade: None,
            cosmetic_grade: None,
            erased_on: None,
        }
    }

    /// The label of a registered item.
    pub fn item(view: &crate::api::ItemView, erased_on: Option<NaiveDate>) -> LabelData {
        LabelData {
            code: view.code,
            category: Some(view.category),
            brand: view.brand.clone(),
            model: view.model.clone(),
            specs: view.specs.clone(),
            functional_grade: view.functional_grade,
            cosmetic_grade: view.cosmetic_grade,
            erased_on,
        }
    }
}

/// How a label is rendered: the QR content's host and the printed language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderOptions {
    /// With a host, the QR holds `HTTPS://HOST/I/CODE`; without, the bare code.
    pub host: Option<String>,
    pub lang: Lang,
}

#[cfg(test)]
mod tests;
