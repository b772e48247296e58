//! One label as a greyscale PNG at a given resolution. QR modules are whole pixels,
//! never resampled: the module size is rounded down to a pixel count, and refused
//! when that falls under the minimum.

use super::layout::ADVANCE_EM;
use super::{LabelError, Layout, MIN_MODULE_MM};
use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

const MM_PER_INCH: f64 = 25.4;

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize) {
        for yy in y..(y + h).min(self.h) {
            let row = yy * self.w;
            for xx in x..(x + w).min(self.w) {
                self.px[row + xx] = 0;
            }
        }
    }

    fn ink(&mut self, x: i64, y: i64, coverage: f32) {
        if x < 0 || y < 0 || x as usize >= self.w || y as usize >= self.h {
            return;
        }
        let i = y as usize * self.w + x as usize;
        let ink = (coverage.clamp(0.0, 1.0) * 255.0) as u8;
        self.px[i] = self.px[i].saturating_sub(ink);
    }
}

/// Pixels per module at `dpi` for a laid-out label, or the error when whole pixels
/// would make the modules too small.
pub(crate) fn module_px(l: &Layout, dpi: u32) -> Result<usize, LabelError> {
    let per_mm = f64::from(dpi) / MM_PER_INCH;
    let px = (l.qr.module_mm() * per_mm + 1e-9).floor() as usize;
    let module_mm = px as f64 / per_mm;
    if px == 0 || module_mm < MIN_MODULE_MM {
        return Err(LabelError::ModuleTooSmall { module_mm });
    }
    Ok(px)
}

/// Renders a laid-out label as PNG at `dpi` (100 to 1200), with the resolution
/// recorded in the file so that it prints at its true size.
pub fn png(l: &Layout, dpi: u32) -> Result<Vec<u8>, LabelError> {
    if !(100..=1200).contains(&dpi) {
        return Err(LabelError::Output(format!(
            "resolution must be between 100 and 1200 dpi, not {dpi}"
        )));
    }
    let per_mm = f64::from(dpi) / MM_PER_INCH;
    let mut c = Canvas {
        w: (l.width_mm * per_mm).round() as usize,
        h: (l.height_mm * per_mm).round() as usize,
        px: Vec::new(),
    };
    c.px = vec![255u8; c.w * c.h];

    // The symbol, centred in its block, whole pixels per module.
    let m = module_px(l, dpi)?;
    let block_x = (l.qr.x_mm * per_mm).round() as usize;
    let block_y = (l.qr.y_mm * per_mm).round() as usize;
    let block = (l.qr.size_mm * per_mm).floor() as usize;
    let side = l.qr.modules * m;
    let ox = block_x + block.saturating_sub(side) / 2;
    let oy = block_y + block.saturating_sub(side) / 2;
    for (row, col, len) in l.qr.runs() {
        c.fill(ox + col * m, oy + row * m, len * m, m);
    }

    let font = FontRef::try_from_slice(epaint_default_fonts::HACK_REGULAR)
        .map_err(|e| LabelError::Output(e.to_string()))?;
    let units = font.units_per_em().unwrap_or(2048.0);
    for t in &l.lines {
        let em_px = (t.size_mm * per_mm) as f32;
        let scale = PxScale::from(em_px * font.height_unscaled() / units);
        let scaled = font.as_scaled(scale);
        // Keep to the advance the layout assumed, so that text never overruns.
        let advance = (ADVANCE_EM as f32 * em_px).min(scaled.h_advance(font.glyph_id('0')));
        let mut x = (t.x_mm * per_mm) as f32;
        let baseline = (t.baseline_mm * per_mm) as f32;
        for ch in t.text.chars() {
            let glyph = font
                .glyph_id(ch)
                .with_scale_and_position(scale, point(x, baseline));
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                let passes = if t.bold { 2 } else { 1 };
                for dx in 0..passes {
                    outline.draw(|gx, gy, cov| {
                        c.ink(
                            b.min.x as i64 + i64::from(gx) + dx,
                            b.min.y as i64 + i64::from(gy),
                            cov,
                        );
                    });
                }
            }
            x += advance;
        }
    }

    let mut out = Vec::new();
    {
        let mut enc = ::png::Encoder::new(&mut out, c.w as u32, c.h as u32);
        enc.set_color(::png::ColorType::Grayscale);
        enc.set_depth(::png::BitDepth::Eight);
        let per_m = (per_mm * 1000.0).round() as u32;
        enc.set_pixel_dims(Some(::png::PixelDimensions {
            xppu: per_m,
            yppu: per_m,
            unit: ::png::Unit::Meter,
        }));
        let mut w = enc
            .write_header()
            .map_err(|e| LabelError::Output(e.to_string()))?;
        w.write_image_data(&c.px)
            .map_err(|e| LabelError::Output(e.to_string()))?;
    }
    Ok(out)
}
