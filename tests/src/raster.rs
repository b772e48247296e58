//! Reading labels back as a scanner would: PNG files and PDF pages rasterised at
//! 300 dpi, QR symbols decoded with `rqrr`, module sizes and quiet zones measured on
//! the pixels. PDF pages are rasterised by `hayro` (pure Rust, always there) and also
//! by poppler's `pdftoppm` when it is installed (CUPS filters print through poppler).

use std::path::Path;
use std::process::Command;

/// A greyscale image with its resolution.
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub px: Vec<u8>,
    pub dpi: f64,
}

/// A decoded QR symbol, located to the pixel.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub content: String,
    /// The symbol's extent (dark modules' bounding box), in pixels, end exclusive.
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
    /// Modules per side.
    pub modules: usize,
}

impl Image {
    pub fn px_per_mm(&self) -> f64 {
        self.dpi / 25.4
    }

    fn dark(&self, x: usize, y: usize) -> bool {
        self.px[y * self.width + x] < 128
    }

    /// Every QR symbol of the image, decoded and measured.
    pub fn symbols(&self) -> Vec<Symbol> {
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(self.width, self.height, |x, y| {
                self.px[y * self.width + x]
            });
        let mut out = Vec::new();
        for grid in img.detect_grids() {
            let Ok((meta, content)) = grid.decode() else {
                continue;
            };
            let modules = 17 + 4 * meta.version.0;
            // rqrr's corners are approximate: take the dark pixels' bounding box
            // within them (widened by a module), which is the symbol's exact extent
            // since the quiet zone around it is blank.
            let xs = grid.bounds.iter().map(|p| p.x);
            let ys = grid.bounds.iter().map(|p| p.y);
            let (bx0, bx1) = (xs.clone().min().unwrap_or(0), xs.max().unwrap_or(0));
            let (by0, by1) = (ys.clone().min().unwrap_or(0), ys.max().unwrap_or(0));
            let m = ((bx1 - bx0) as f64 / modules as f64).ceil() as i32;
            let clamp = |v: i32, hi: usize| v.clamp(0, hi as i32 - 1) as usize;
            let (sx0, sx1) = (clamp(bx0 - m, self.width), clamp(bx1 + m, self.width));
            let (sy0, sy1) = (clamp(by0 - m, self.height), clamp(by1 + m, self.height));
            let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
            for y in sy0..=sy1 {
                for x in sx0..=sx1 {
                    if self.dark(x, y) {
                        x0 = x0.min(x);
                        y0 = y0.min(y);
                        x1 = x1.max(x + 1);
                        y1 = y1.max(y + 1);
                    }
                }
            }
            out.push(Symbol {
                content,
                x0,
                y0,
                x1,
                y1,
                modules,
            });
        }
        out
    }

    /// A rectangle of the image (end exclusive, clamped to the image).
    pub fn crop(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> Image {
        let (x1, y1) = (x1.min(self.width), y1.min(self.height));
        let mut px = Vec::with_capacity((x1 - x0) * (y1 - y0));
        for y in y0..y1 {
            px.extend_from_slice(&self.px[y * self.width + x0..y * self.width + x1]);
        }
        Image {
            width: x1 - x0,
            height: y1 - y0,
            px,
            dpi: self.dpi,
        }
    }

    /// The symbols within a rectangle given in mm, in page pixel coordinates; the
    /// way a scanner reads a sheet, one label at a time.
    pub fn symbols_in(&self, x_mm: f64, y_mm: f64, w_mm: f64, h_mm: f64) -> Vec<Symbol> {
        let ppm = self.px_per_mm();
        let x0 = (x_mm * ppm).floor().max(0.0) as usize;
        let y0 = (y_mm * ppm).floor().max(0.0) as usize;
        let x1 = ((x_mm + w_mm) * ppm).ceil() as usize;
        let y1 = ((y_mm + h_mm) * ppm).ceil() as usize;
        self.crop(x0, y0, x1, y1)
            .symbols()
            .into_iter()
            .map(|mut s| {
                s.x0 += x0;
                s.x1 += x0;
                s.y0 += y0;
                s.y1 += y0;
                s
            })
            .collect()
    }

    /// Module size of a symbol, in mm.
    pub fn module_mm(&self, s: &Symbol) -> f64 {
        (s.x1 - s.x0) as f64 / s.modules as f64 / self.px_per_mm()
    }

    /// The blank margin around a symbol, in modules: the distance to the nearest
    /// dark pixel outside it (searched up to 10 modules), or to the edge of `area`
    /// (a label's extent in pixels: `x0, y0, x1, y1`).
    pub fn quiet_modules(&self, s: &Symbol, area: (usize, usize, usize, usize)) -> f64 {
        let m = (s.x1 - s.x0) as f64 / s.modules as f64;
        let reach = (10.0 * m).ceil() as usize;
        let mut best = reach as f64;
        let (ax0, ay0, ax1, ay1) = area;
        best = best
            .min(s.x0.saturating_sub(ax0) as f64)
            .min(s.y0.saturating_sub(ay0) as f64)
            .min(ax1.saturating_sub(s.x1) as f64)
            .min(ay1.saturating_sub(s.y1) as f64);
        let lo_x = s.x0.saturating_sub(reach).max(ax0);
        let lo_y = s.y0.saturating_sub(reach).max(ay0);
        let hi_x = (s.x1 + reach).min(ax1).min(self.width);
        let hi_y = (s.y1 + reach).min(ay1).min(self.height);
        for y in lo_y..hi_y {
            for x in lo_x..hi_x {
                let inside = x >= s.x0 && x < s.x1 && y >= s.y0 && y < s.y1;
                if inside || !self.dark(x, y) {
                    continue;
                }
                let dx = if x < s.x0 {
                    s.x0 - x
                } else {
                    (x + 1).saturating_sub(s.x1)
                };
                let dy = if y < s.y0 {
                    s.y0 - y
                } else {
                    (y + 1).saturating_sub(s.y1)
                };
                best = best.min(dx.max(dy) as f64 - 1.0);
            }
        }
        best / m
    }
}

/// Decodes a greyscale PNG, with the resolution it records.
pub fn read_png(bytes: &[u8]) -> Image {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header");
    let dpi = reader
        .info()
        .pixel_dims
        .map(|d| f64::from(d.xppu) * 0.0254)
        .unwrap_or(72.0);
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    buf.truncate(info.buffer_size());
    assert_eq!(info.color_type, png::ColorType::Grayscale, "greyscale PNG");
    Image {
        width: info.width as usize,
        height: info.height as usize,
        px: buf,
        dpi,
    }
}

/// Every page of a PDF at `dpi`, by each rasteriser available: `hayro`, and
/// `pdftoppm` when installed.
pub fn pdf_pages(pdf: &[u8], dpi: u32, dir: &Path) -> Vec<(&'static str, Vec<Image>)> {
    let mut out = vec![("hayro", hayro_pages(pdf, dpi))];
    let poppler = Command::new("pdftoppm")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if poppler {
        out.push(("pdftoppm", pdftoppm_pages(pdf, dpi, dir)));
    }
    out
}

/// Every page of a PDF at `dpi`, by hayro, in grey.
pub fn hayro_pages(pdf: &[u8], dpi: u32) -> Vec<Image> {
    let doc = hayro::hayro_syntax::Pdf::new(pdf.to_vec()).expect("hayro reads the PDF");
    let pages = hayro::render_pdf(
        &doc,
        dpi as f32 / 72.0,
        hayro::hayro_interpret::InterpreterSettings::default(),
        &hayro::RenderSettings::default(),
        None,
    )
    .expect("hayro renders the PDF");
    pages
        .into_iter()
        .map(|p| {
            let (width, height) = (usize::from(p.width()), usize::from(p.height()));
            let px = p
                .data()
                .iter()
                .map(|c| {
                    // Premultiplied on a white background: composite, then luma.
                    let a = u32::from(c.a);
                    let lum =
                        (u32::from(c.r) * 299 + u32::from(c.g) * 587 + u32::from(c.b) * 114) / 1000;
                    (lum + (255 - a)).min(255) as u8
                })
                .collect();
            Image {
                width,
                height,
                px,
                dpi: f64::from(dpi),
            }
        })
        .collect()
}

/// Every page of a PDF at `dpi`, by pdftoppm (poppler-utils), in grey.
pub fn pdftoppm_pages(pdf: &[u8], dpi: u32, dir: &Path) -> Vec<Image> {
    std::fs::create_dir_all(dir).expect("raster dir");
    let input = dir.join("labels.pdf");
    std::fs::write(&input, pdf).expect("write pdf");
    let prefix = dir.join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray"])
        .arg(&input)
        .arg(&prefix)
        .status()
        .expect("pdftoppm (Debian package poppler-utils) must be installed");
    assert!(status.success(), "pdftoppm failed");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read raster dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pgm"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| read_pgm(&std::fs::read(f).expect("read page"), f64::from(dpi)))
        .collect()
}

/// A binary PGM (P5, 8 bits), as pdftoppm writes it.
fn read_pgm(bytes: &[u8], dpi: f64) -> Image {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes[i] == b'#' {
            while bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P5", "binary greyscale PGM");
    let width: usize = fields[1].parse().expect("width");
    let height: usize = fields[2].parse().expect("height");
    let px = bytes[i + 1..i + 1 + width * height].to_vec();
    Image {
        width,
        height,
        px,
        dpi,
    }
}
