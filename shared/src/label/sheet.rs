//! A4 label sheets. The figures are Avery's published templates; each sheet's margins,
//! pitches and label sizes add up to the 210 × 297 mm page (checked by the tests).

use super::LabelSize;
use serde::{Deserialize, Serialize};

/// The sheets Filière prints on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SheetKind {
    /// 21 labels of 63.5 × 38.1 mm (3 × 7).
    L7160,
    /// 14 labels of 99.1 × 38.1 mm (2 × 7).
    L7163,
    /// 65 labels of 38.1 × 21.2 mm (5 × 13).
    L7651,
}

impl SheetKind {
    pub const ALL: [SheetKind; 3] = [SheetKind::L7160, SheetKind::L7163, SheetKind::L7651];

    pub fn sheet(self) -> Sheet {
        match self {
            SheetKind::L7160 => Sheet {
                kind: self,
                columns: 3,
                rows: 7,
                label: LabelSize::new(63.5, 38.1),
                top_mm: 15.15,
                left_mm: 7.25,
                h_pitch_mm: 66.0,
                v_pitch_mm: 38.1,
            },
            SheetKind::L7163 => Sheet {
                kind: self,
                columns: 2,
                rows: 7,
                label: LabelSize::new(99.1, 38.1),
                top_mm: 15.15,
                left_mm: 4.65,
                h_pitch_mm: 101.6,
                v_pitch_mm: 38.1,
            },
            SheetKind::L7651 => Sheet {
                kind: self,
                columns: 5,
                rows: 13,
                label: LabelSize::new(38.1, 21.2),
                top_mm: 10.7,
                left_mm: 4.75,
                h_pitch_mm: 40.6,
                v_pitch_mm: 21.2,
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SheetKind::L7160 => "L7160",
            SheetKind::L7163 => "L7163",
            SheetKind::L7651 => "L7651",
        }
    }

    pub fn parse(s: &str) -> Option<SheetKind> {
        SheetKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// The geometry of a sheet, in mm from the page's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sheet {
    pub kind: SheetKind,
    pub columns: usize,
    pub rows: usize,
    pub label: LabelSize,
    pub top_mm: f64,
    pub left_mm: f64,
    pub h_pitch_mm: f64,
    pub v_pitch_mm: f64,
}

/// A4.
pub const PAGE_WIDTH_MM: f64 = 210.0;
pub const PAGE_HEIGHT_MM: f64 = 297.0;

impl Sheet {
    pub fn slots(&self) -> usize {
        self.columns * self.rows
    }

    /// Top-left corner of slot `i` (0-based, row by row).
    pub fn slot_origin(&self, i: usize) -> (f64, f64) {
        let col = i % self.columns;
        let row = (i / self.columns) % self.rows;
        (
            self.left_mm + col as f64 * self.h_pitch_mm,
            self.top_mm + row as f64 * self.v_pitch_mm,
        )
    }
}
