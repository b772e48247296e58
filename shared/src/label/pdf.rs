//! A4 sheets of labels as PDF: vector QR modules, Courier text (a PDF standard font,
//! so nothing is embedded), positions from the sheet's published figures.

use super::sheet::{PAGE_HEIGHT_MM, PAGE_WIDTH_MM};
use super::{LabelError, Layout, MAX_LABELS, Sheet};
use printpdf::{
    BuiltinFont, Color, Greyscale, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, TextItem,
};

fn pt(mm: f64) -> Pt {
    Mm(mm as f32).into()
}

/// Lays labels onto sheets, starting at slot `start_slot` (1-based) of the first
/// sheet, so that a partly used sheet can go through the printer again.
pub fn pdf_sheet(
    sheet: &Sheet,
    labels: &[Layout],
    start_slot: usize,
) -> Result<Vec<u8>, LabelError> {
    if labels.is_empty() || labels.len() > MAX_LABELS {
        return Err(LabelError::Count(labels.len()));
    }
    let slots = sheet.slots();
    if start_slot == 0 || start_slot > slots {
        return Err(LabelError::StartSlot {
            slot: start_slot,
            slots,
        });
    }
    let mut pages = Vec::new();
    let mut ops = Vec::new();
    let black = Color::Greyscale(Greyscale::new(0.0, None));
    for (n, label) in labels.iter().enumerate() {
        let slot = n + start_slot - 1;
        if slot > 0 && slot.is_multiple_of(slots) && !ops.is_empty() {
            pages.push(PdfPage::new(
                Mm(PAGE_WIDTH_MM as f32),
                Mm(PAGE_HEIGHT_MM as f32),
                std::mem::take(&mut ops),
            ));
        }
        if ops.is_empty() {
            ops.push(Op::SetFillColor { col: black.clone() });
        }
        let (sx, sy) = sheet.slot_origin(slot % slots);
        draw_label(&mut ops, label, sx, sy);
    }
    if !ops.is_empty() {
        pages.push(PdfPage::new(
            Mm(PAGE_WIDTH_MM as f32),
            Mm(PAGE_HEIGHT_MM as f32),
            ops,
        ));
    }
    let mut doc = PdfDocument::new("Filière labels");
    doc.with_pages(pages);
    let mut warnings = Vec::new();
    Ok(doc.save(&PdfSaveOptions::default(), &mut warnings))
}

/// Draws one label whose top-left corner is at (`sx`, `sy`) mm from the page's top-left.
fn draw_label(ops: &mut Vec<Op>, l: &Layout, sx: f64, sy: f64) {
    let m = l.qr.module_mm();
    let q = f64::from(l.qr.quiet_modules) * m;
    let ox = sx + l.qr.x_mm + q;
    let oy = sy + l.qr.y_mm + q;
    for (row, col, len) in l.qr.runs() {
        let top = oy + row as f64 * m;
        ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: pt(ox + col as f64 * m),
                y: pt(PAGE_HEIGHT_MM - top - m),
                width: pt(len as f64 * m),
                height: pt(m),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }
    for t in &l.lines {
        let font = if t.bold {
            BuiltinFont::CourierBold
        } else {
            BuiltinFont::Courier
        };
        ops.push(Op::StartTextSection);
        ops.push(Op::SetFont {
            font: PdfFontHandle::Builtin(font),
            size: pt(t.size_mm),
        });
        ops.push(Op::SetTextCursor {
            pos: Point {
                x: pt(sx + t.x_mm),
                y: pt(PAGE_HEIGHT_MM - (sy + t.baseline_mm)),
            },
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(t.text.clone())],
        });
        ops.push(Op::EndTextSection);
    }
}
