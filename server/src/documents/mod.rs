//! PDF documents people print or show on a phone: pickup vouchers, attendance sheets,
//! invoices and credit notes, and the documents issued to donors under an identifier
//! that a public page verifies (collection receipts, erasure certificates).
//! A4 pages drawn with printpdf's standard Helvetica (nothing embedded), QR codes as
//! vectors.

pub mod attendance;
pub mod erasure;
pub mod funder;
pub mod invoice;
pub mod outcome;
pub mod receipt;
pub mod training_attestation;
pub mod voucher;
pub mod weee_slip;

use printpdf::{
    BuiltinFont, Color, Greyscale, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, TextItem,
};

const PAGE_W: f64 = 210.0;
const PAGE_H: f64 = 297.0;
const MARGIN: f64 = 18.0;

fn pt(mm: f64) -> Pt {
    Mm(mm as f32).into()
}

/// An organisation as a document names it (the issuer, the seller, the donor).
pub struct Identity<'a> {
    pub name: &'a str,
    pub siret: Option<&'a str>,
    pub address: Option<&'a str>,
}

/// "200 046 977 00019".
pub fn spaced_siret(s: &str) -> String {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_owned();
    }
    format!("{} {} {} {}", &s[0..3], &s[3..6], &s[6..9], &s[9..14])
}

/// How an issued document names itself: its identifier and the public page that
/// verifies it, printed at the top with the page's QR code.
pub struct Issued<'a> {
    pub id: &'a str,
    pub verify_url: &'a str,
}

/// A document being written top to bottom, page after page.
pub struct Doc {
    pages: Vec<PdfPage>,
    ops: Vec<Op>,
    /// Distance of the next line's top from the page's top, in mm.
    y: f64,
}

impl Default for Doc {
    fn default() -> Self {
        Doc::new()
    }
}

impl Doc {
    pub fn new() -> Doc {
        Doc {
            pages: Vec::new(),
            ops: vec![Op::SetFillColor {
                col: Color::Greyscale(Greyscale::new(0.0, None)),
            }],
            y: MARGIN,
        }
    }

    fn room(&mut self, height: f64) {
        if self.y + height > PAGE_H - MARGIN {
            self.new_page();
        }
    }

    pub fn new_page(&mut self) {
        let ops = std::mem::replace(
            &mut self.ops,
            vec![Op::SetFillColor {
                col: Color::Greyscale(Greyscale::new(0.0, None)),
            }],
        );
        self.pages
            .push(PdfPage::new(Mm(PAGE_W as f32), Mm(PAGE_H as f32), ops));
        self.y = MARGIN;
    }

    fn text_at(&mut self, x: f64, baseline: f64, size_mm: f64, bold: bool, text: &str) {
        let font = if bold {
            BuiltinFont::HelveticaBold
        } else {
            BuiltinFont::Helvetica
        };
        self.ops.push(Op::StartTextSection);
        self.ops.push(Op::SetFont {
            font: PdfFontHandle::Builtin(font),
            size: pt(size_mm),
        });
        self.ops.push(Op::SetTextCursor {
            pos: Point {
                x: pt(x),
                y: pt(PAGE_H - baseline),
            },
        });
        self.ops.push(Op::ShowText {
            items: vec![TextItem::Text(text.to_owned())],
        });
        self.ops.push(Op::EndTextSection);
    }

    /// A paragraph, wrapped to the text width; `size_mm` is the character height.
    pub fn text(&mut self, size_mm: f64, bold: bool, text: &str) {
        self.text_in(MARGIN, PAGE_W - 2.0 * MARGIN, size_mm, bold, text);
    }

    /// A paragraph in a column starting at `x`, `width` wide.
    pub fn text_in(&mut self, x: f64, width: f64, size_mm: f64, bold: bool, text: &str) {
        // Helvetica's average advance is about half its height.
        let per_line = ((width / (size_mm * 0.52)) as usize).max(10);
        for line in wrap(text, per_line) {
            self.room(size_mm * 1.35);
            self.y += size_mm;
            let baseline = self.y;
            self.text_at(x, baseline, size_mm, bold, &line);
            self.y += size_mm * 0.35;
        }
    }

    /// A label and its value on one line (the value wrapped beside the label).
    pub fn field(&mut self, label: &str, value: &str) {
        let size = 4.2;
        self.room(size * 1.4);
        let top = self.y;
        self.text_in(MARGIN, 55.0, size, true, label);
        let after_label = self.y;
        self.y = top;
        self.text_in(
            MARGIN + 58.0,
            PAGE_W - 2.0 * MARGIN - 58.0,
            size,
            false,
            value,
        );
        self.y = self.y.max(after_label) + 1.2;
    }

    /// The issuer's name, address and SIRET, at the top of the page.
    pub fn identity(&mut self, who: &Identity) {
        self.text(6.0, true, who.name);
        if let Some(a) = who.address {
            self.text(4.0, false, a);
        }
        if let Some(siret) = who.siret {
            self.text(4.0, false, &format!("SIRET : {}", spaced_siret(siret)));
        }
    }

    /// An issued document's header: its title, then its identifier and how to verify
    /// it, beside the verification page's QR code.
    pub fn issued_header(
        &mut self,
        title: &str,
        issued: &Issued,
    ) -> Result<(), qrcode::types::QrError> {
        let qr = 32.0;
        let top = self.y;
        self.qr_right(issued.verify_url, qr)?;
        let width = PAGE_W - 2.0 * MARGIN - qr - 4.0;
        self.text_in(MARGIN, width, 7.0, true, title);
        self.y += 2.0;
        self.text_in(
            MARGIN,
            width,
            4.2,
            true,
            &format!("Document n° {}", issued.id),
        );
        self.text_in(
            MARGIN,
            width,
            3.6,
            false,
            &format!(
                "Vérifiez ce document sur {} (ou en scannant le code) : la page dit ce qui a \
                 été émis sous ce numéro, et si un fichier PDF est bien celui émis.",
                issued.verify_url
            ),
        );
        self.y = self.y.max(top + qr) + 2.0;
        Ok(())
    }

    pub fn gap(&mut self, mm: f64) {
        self.y += mm;
    }

    /// A horizontal rule across the text width.
    pub fn rule(&mut self) {
        self.room(3.0);
        self.y += 1.5;
        self.rect(MARGIN, self.y, PAGE_W - 2.0 * MARGIN, 0.3);
        self.y += 1.5;
    }

    fn rect(&mut self, x: f64, top: f64, w: f64, h: f64) {
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: pt(x),
                y: pt(PAGE_H - top - h),
                width: pt(w),
                height: pt(h),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    /// A QR code of `content`, `size` mm wide (quiet zone included), at the right
    /// margin from the current line; the text goes on beside it.
    pub fn qr_right(&mut self, content: &str, size: f64) -> Result<(), qrcode::types::QrError> {
        let code =
            qrcode::QrCode::with_error_correction_level(content.as_bytes(), qrcode::EcLevel::Q)?;
        let n = code.width();
        let colors = code.to_colors();
        let quiet = 4.0;
        let module = size / (n as f64 + 2.0 * quiet);
        let x0 = PAGE_W - MARGIN - size + quiet * module;
        let y0 = self.y + quiet * module;
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colors[row * n + col] == qrcode::Color::Dark {
                    let start = col;
                    while col < n && colors[row * n + col] == qrcode::Color::Dark {
                        col += 1;
                    }
                    self.rect(
                        x0 + start as f64 * module,
                        y0 + row as f64 * module,
                        (col - start) as f64 * module,
                        module,
                    );
                } else {
                    col += 1;
                }
            }
        }
        Ok(())
    }

    /// A table: a header row and rows, columns `widths` mm wide.
    pub fn table(&mut self, widths: &[f64], header: &[&str], rows: &[Vec<String>]) {
        let size = 3.8;
        let row_h = size * 2.0;
        let draw_row = |doc: &mut Doc, cells: &[String], bold: bool| {
            doc.room(row_h + 1.0);
            let mut x = MARGIN;
            let baseline = doc.y + size * 1.3;
            for (w, cell) in widths.iter().zip(cells) {
                // The text starts 1 mm into its column and may end 0.5 mm before the next.
                let shown = fit(cell, w - 1.5, size, bold);
                doc.text_at(x + 1.0, baseline, size, bold, &shown);
                x += w;
            }
            doc.y += row_h;
            doc.rect(MARGIN, doc.y, widths.iter().sum(), 0.2);
        };
        let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
        draw_row(self, &header, true);
        for r in rows {
            draw_row(self, r, false);
        }
    }

    pub fn finish(mut self, title: &str) -> Vec<u8> {
        if self.ops.len() > 1 || self.pages.is_empty() {
            self.new_page();
        }
        let mut doc = PdfDocument::new(title);
        doc.with_pages(self.pages);
        let mut warnings = Vec::new();
        doc.save(&PdfSaveOptions::default(), &mut warnings)
    }
}

/// Helvetica's advance widths of the printable ASCII characters, in thousandths of
/// the font size (Adobe's metrics for the standard font); other characters count as a
/// digit.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// How wide `text` prints, in mm, at `size_mm` (bold runs about 8 % wider).
fn width_mm(text: &str, size_mm: f64, bold: bool) -> f64 {
    let units: u32 = text
        .chars()
        .map(|c| {
            let i = c as u32;
            if (32..127).contains(&i) {
                u32::from(HELVETICA[(i - 32) as usize])
            } else {
                556
            }
        })
        .sum();
    let w = f64::from(units) / 1000.0 * size_mm;
    if bold { w * 1.08 } else { w }
}

/// `text` cut with an ellipsis where it would print wider than `room` mm.
fn fit(text: &str, room: f64, size_mm: f64, bold: bool) -> String {
    if width_mm(text, size_mm, bold) <= room {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        let next = format!("{out}{c}…");
        if width_mm(&next, size_mm, bold) > room {
            break;
        }
        out.push(c);
    }
    out + "…"
}

/// Greedy word wrap to at most `width` characters a line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        // A word longer than a line (a rule of dashes, a long path) is cut.
        let chars: Vec<Vec<char>> = para
            .split_whitespace()
            .flat_map(|w| {
                let w: Vec<char> = w.chars().collect();
                w.chunks(width.max(1))
                    .map(<[char]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect();
        for word in chars.iter().map(|w| w.iter().collect::<String>()) {
            let word = word.as_str();
            let len = line.chars().count();
            if len > 0 && len + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(
            super::wrap("un deux trois quatre", 9),
            vec!["un deux", "trois", "quatre"]
        );
    }

    #[test]
    fn a_cell_is_cut_where_it_would_overflow() {
        // "MDL-INV-2210" is about 25 mm wide at 3.8 mm: it fits 26, not 20. A label
        // code of eight of the widest characters fits the 29.5 mm of a 31 mm column.
        assert_eq!(super::fit("MDL-INV-2210", 26.0, 3.8, false), "MDL-INV-2210");
        let cut = super::fit("MDL-INV-2210", 20.0, 3.8, false);
        assert!(
            cut.ends_with('…') && super::width_mm(&cut, 3.8, false) <= 20.0,
            "{cut}"
        );
        assert!(super::width_mm("MMMM", 4.0, false) > super::width_mm("iiii", 4.0, false));
        assert_eq!(super::fit("WWWWWWWW", 29.5, 3.8, false), "WWWWWWWW");
    }

    #[test]
    fn wrap_cuts_a_word_longer_than_a_line() {
        assert_eq!(
            super::wrap("a ------------ b", 5),
            vec!["a", "-----", "-----", "-- b"]
        );
    }
}
