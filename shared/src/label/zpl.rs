//! ZPL II for Zebra printers. The QR is the printer's own `^BQ` symbol, whose
//! magnification (dots per module) is chosen so that modules are at least
//! [`MIN_MODULE_MM`] at the printer's resolution.

use super::{LabelError, Layout, MAX_LABELS, MIN_MODULE_MM};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Zebra print heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Dpi {
    #[serde(rename = "203")]
    D203,
    #[serde(rename = "300")]
    D300,
}

impl Dpi {
    pub fn parse(n: u32) -> Option<Dpi> {
        match n {
            203 => Some(Dpi::D203),
            300 => Some(Dpi::D300),
            _ => None,
        }
    }

    /// Dots per millimetre (8 and 12 on Zebra heads).
    pub fn dots_per_mm(self) -> f64 {
        match self {
            Dpi::D203 => 8.0,
            Dpi::D300 => 12.0,
        }
    }

    pub fn value(self) -> u32 {
        match self {
            Dpi::D203 => 203,
            Dpi::D300 => 300,
        }
    }
}

/// Field data with `^`, `~` and `\` escaped (the field is sent with `^FH\`).
fn field_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '^' => out.push_str("\\5E"),
            '~' => out.push_str("\\7E"),
            '\\' => out.push_str("\\5C"),
            c => out.push(c),
        }
    }
    out
}

/// One label as a ZPL format (`^XA` … `^XZ`).
pub fn zpl_label(l: &Layout, dpi: Dpi) -> Result<String, LabelError> {
    let d = dpi.dots_per_mm();
    let dots = |mm: f64| (mm * d).round() as i64;
    let total = l.qr.modules as f64 + 2.0 * f64::from(l.qr.quiet_modules);
    // Whole dots per module, at most 10 (the largest ^BQ magnification).
    let mag = ((l.qr.size_mm * d / total + 1e-9).floor() as i64).min(10);
    let module_mm = mag as f64 / d;
    if mag < 1 || module_mm < MIN_MODULE_MM {
        return Err(LabelError::ModuleTooSmall { module_mm });
    }
    let quiet = i64::from(l.qr.quiet_modules) * mag;
    let side = l.qr.modules as i64 * mag;
    let block = dots(l.qr.size_mm);
    let x = dots(l.qr.x_mm) + quiet + (block - side - 2 * quiet).max(0) / 2;
    let y = dots(l.qr.y_mm) + quiet + (block - side - 2 * quiet).max(0) / 2;
    let mut s = String::new();
    s.push_str("^XA\n^CI28\n");
    let _ = writeln!(s, "^PW{}", dots(l.width_mm));
    let _ = writeln!(s, "^LL{}", dots(l.height_mm));
    s.push_str("^LH0,0\n");
    let _ = writeln!(
        s,
        "^FO{x},{y}^BQN,2,{mag}^FD{}A,{}^FS",
        l.qr.ecc.letter(),
        l.qr.content
    );
    for t in &l.lines {
        let h = dots(t.size_mm).max(10);
        let w = if t.bold { h } else { (h as f64 * 0.85) as i64 };
        let top = dots(t.baseline_mm - super::layout::ASCENT_EM * t.size_mm);
        let _ = writeln!(
            s,
            "^FO{},{}^A0N,{h},{w}^FH\\^FD{}^FS",
            dots(t.x_mm),
            top.max(0),
            field_data(&t.text)
        );
    }
    s.push_str("^PQ1\n^XZ\n");
    Ok(s)
}

/// Several labels, one format each, ready to send to the printer as one job.
pub fn zpl(labels: &[Layout], dpi: Dpi) -> Result<String, LabelError> {
    if labels.is_empty() || labels.len() > MAX_LABELS {
        return Err(LabelError::Count(labels.len()));
    }
    let mut out = String::new();
    for l in labels {
        out.push_str(&zpl_label(l, dpi)?);
    }
    Ok(out)
}
