//! From a template, a label size and the data to print, to positions in millimetres
//! (origin at the label's top-left corner).

use super::template::{Field, Template};
use super::{LabelData, LabelError, LabelSize, MIN_MODULE_MM, MIN_QUIET_MODULES, RenderOptions};
use crate::domain::{Category, Grade};
use crate::error::Lang;

/// Width of one character of the monospace faces used (Courier in PDF, Hack in PNG),
/// as a fraction of the character height; a little over both.
pub(crate) const ADVANCE_EM: f64 = 0.61;
/// Ascent above the baseline, as a fraction of the character height.
pub(crate) const ASCENT_EM: f64 = 0.8;
/// Line pitch, as a fraction of the character height.
const LINE_EM: f64 = 1.2;
/// Template sizes are drawn for labels this high (thermal rolls); taller labels
/// (sheet labels of 38.1 mm) scale them up, up to twice.
pub const REFERENCE_HEIGHT_MM: f64 = 25.0;

/// The QR symbol of a label.
#[derive(Debug, Clone, PartialEq)]
pub struct QrBlock {
    /// Top-left corner of the block (quiet zone included), in mm.
    pub x_mm: f64,
    pub y_mm: f64,
    /// Side of the block (symbol and quiet zone), in mm.
    pub size_mm: f64,
    pub quiet_modules: u32,
    /// Modules per side of the symbol alone.
    pub modules: usize,
    /// Dark modules, row by row.
    pub dark: Vec<bool>,
    /// What the symbol holds.
    pub content: String,
    pub ecc: super::Ecc,
}

impl QrBlock {
    /// Module size when the block is drawn as vectors.
    pub fn module_mm(&self) -> f64 {
        self.size_mm / (self.modules as f64 + 2.0 * f64::from(self.quiet_modules))
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark
            .get(y * self.modules + x)
            .copied()
            .unwrap_or(false)
    }

    /// Runs of dark modules per row: `(row, first column, length)`.
    pub fn runs(&self) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for y in 0..self.modules {
            let mut x = 0;
            while x < self.modules {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.modules && self.is_dark(x, y) {
                        x += 1;
                    }
                    out.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        out
    }
}

/// One line of text; `baseline_mm` from the label's top.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    pub x_mm: f64,
    pub baseline_mm: f64,
    /// Character height (em), in mm.
    pub size_mm: f64,
    pub text: String,
    pub bold: bool,
}

/// A label laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width_mm: f64,
    pub height_mm: f64,
    pub qr: QrBlock,
    pub lines: Vec<TextLine>,
}

/// Lays a label out: the QR block on the left, as large as the height allows (or the
/// template's size), the fields to its right from the top. Refuses a label whose
/// modules would be under [`MIN_MODULE_MM`] or whose fields do not fit.
pub fn layout(
    template: &Template,
    size: LabelSize,
    data: &LabelData,
    options: &RenderOptions,
) -> Result<Layout, LabelError> {
    if template.qr.quiet_modules < MIN_QUIET_MODULES {
        return Err(LabelError::QuietZoneTooSmall {
            modules: template.qr.quiet_modules,
        });
    }
    let content = data.code.qr_content(options.host.as_deref());
    let code =
        qrcode::QrCode::with_error_correction_level(content.as_bytes(), template.qr.ecc.level())
            .map_err(|e| LabelError::QrEncoding(e.to_string()))?;
    let modules = code.width();
    let dark: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let margin = template.margin_mm;
    let avail_w = size.width_mm - 2.0 * margin;
    let avail_h = size.height_mm - 2.0 * margin;
    let does_not_fit = || LabelError::FieldsDoNotFit {
        width_mm: size.width_mm,
        height_mm: size.height_mm,
    };
    if avail_w <= 0.0 || avail_h <= 0.0 {
        return Err(does_not_fit());
    }
    let scale = (size.height_mm / REFERENCE_HEIGHT_MM).clamp(1.0, 2.0);
    let block = template
        .qr
        .size_mm
        .map(|s| s * scale)
        .unwrap_or(avail_h)
        .min(avail_h)
        .min(avail_w);
    let qr = QrBlock {
        x_mm: margin,
        y_mm: (size.height_mm - block) / 2.0,
        size_mm: block,
        quiet_modules: template.qr.quiet_modules,
        modules,
        dark,
        content,
        ecc: template.qr.ecc,
    };
    let module_mm = qr.module_mm();
    if module_mm < MIN_MODULE_MM {
        return Err(LabelError::ModuleTooSmall { module_mm });
    }

    // Text starts one module past the quiet zone, so that ink never touches it.
    let x = margin + block + module_mm;
    let text_w = size.width_mm - margin - x;
    let bottom = size.height_mm - margin;
    let mut top = margin;
    let mut lines = Vec::new();
    for f in &template.fields {
        let Some(text) = field_text(&f.field, data, options.lang) else {
            continue;
        };
        let mut size_mm = f.size_mm * scale;
        let chars = text.chars().count();
        let text = if f.field == Field::Code {
            // The code is never cut: its size gives way instead.
            size_mm = size_mm.min(text_w / (ADVANCE_EM * chars as f64));
            if size_mm < 1.2 {
                return Err(does_not_fit());
            }
            text
        } else {
            let max = (text_w / (ADVANCE_EM * size_mm)).floor() as usize;
            if max < 4 {
                return Err(does_not_fit());
            }
            shorten(&text, max)
        };
        let baseline = top + ASCENT_EM * size_mm;
        top += LINE_EM * size_mm;
        if top > bottom + 1e-9 {
            return Err(does_not_fit());
        }
        lines.push(TextLine {
            x_mm: x,
            baseline_mm: baseline,
            size_mm,
            text,
            bold: f.bold,
        });
    }
    // The text block is centred on the label's height, beside the symbol.
    let slack = (bottom - top).max(0.0) / 2.0;
    for l in &mut lines {
        l.baseline_mm += slack;
    }
    Ok(Layout {
        width_mm: size.width_mm,
        height_mm: size.height_mm,
        qr,
        lines,
    })
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s = s.trim_end().to_owned();
    s.push('…');
    s
}

/// The printed text of a field, or `None` when there is nothing to print.
pub(crate) fn field_text(field: &Field, data: &LabelData, lang: Lang) -> Option<String> {
    let fr = lang == Lang::Fr;
    let some = |s: String| {
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        (!s.is_empty()).then_some(s)
    };
    match field {
        Field::Code => Some(data.code.hyphenated()),
        Field::Text(t) => some(t.clone()),
        Field::Category => data.category.map(|c| category_name(c, lang).to_owned()),
        Field::PartSpec => data.specs.part_spec.clone().and_then(some),
        Field::Model => some(format!(
            "{} {}",
            data.brand.as_deref().unwrap_or(""),
            data.model.as_deref().unwrap_or("")
        )),
        Field::Cpu => data.specs.cpu.clone().and_then(some),
        Field::RamStorage => {
            let unit = if fr { "Go" } else { "GB" };
            let ram = data.specs.ram_gb.map(|r| format!("RAM {r} {unit}"));
            let storage = data.specs.storage_gb.map(|s| {
                let t = crate::names::storage_type_text(
                    data.specs.storage_type.as_deref().unwrap_or(""),
                );
                if s >= 1000 && s.is_multiple_of(1000) {
                    format!("{} {} {t}", s / 1000, if fr { "To" } else { "TB" })
                } else {
                    format!("{s} {unit} {t}")
                }
            });
            let parts: Vec<String> = ram.into_iter().chain(storage).collect();
            some(parts.join(" · "))
        }
        Field::Grades => {
            let g = |x: Option<Grade>| x.map(|g| g.as_str().to_ascii_uppercase());
            match (g(data.functional_grade), g(data.cosmetic_grade)) {
                (None, None) => None,
                (f, c) => {
                    let f = f.unwrap_or_else(|| "–".into());
                    let c = c.unwrap_or_else(|| "–".into());
                    Some(if fr {
                        format!("Fonct. {f} · Esth. {c}")
                    } else {
                        format!("Func. {f} · Cosm. {c}")
                    })
                }
            }
        }
        Field::ErasureDate => data.erased_on.map(|d| {
            if fr {
                format!("Effacé le {}", d.format("%d/%m/%Y"))
            } else {
                format!("Erased {}", d.format("%Y-%m-%d"))
            }
        }),
    }
}

/// A category's printed name (the names shared with the screens).
pub fn category_name(c: Category, lang: Lang) -> &'static str {
    use crate::names::Named;
    c.name(lang)
}
