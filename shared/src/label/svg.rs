//! One label as SVG, in millimetres; the QR as one vector path.

use super::Layout;
use std::fmt::Write;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders a laid-out label as a standalone SVG document.
pub fn svg(l: &Layout) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}">"#,
        w = l.width_mm,
        h = l.height_mm
    );
    let _ = write!(
        s,
        r##"<rect width="{}" height="{}" fill="#fff"/>"##,
        l.width_mm, l.height_mm
    );
    let m = l.qr.module_mm();
    let ox = l.qr.x_mm + f64::from(l.qr.quiet_modules) * m;
    let oy = l.qr.y_mm + f64::from(l.qr.quiet_modules) * m;
    s.push_str(r##"<path fill="#000" shape-rendering="crispEdges" d=""##);
    for (row, col, len) in l.qr.runs() {
        let _ = write!(
            s,
            "M{:.4} {:.4}h{:.4}v{:.4}h-{:.4}z",
            ox + col as f64 * m,
            oy + row as f64 * m,
            len as f64 * m,
            m,
            len as f64 * m
        );
    }
    s.push_str(r#""/>"#);
    for t in &l.lines {
        let _ = write!(
            s,
            r##"<text x="{:.3}" y="{:.3}" font-family="Hack, 'DejaVu Sans Mono', 'Courier New', monospace" font-size="{:.3}" font-weight="{}" fill="#000">{}</text>"##,
            t.x_mm,
            t.baseline_mm,
            t.size_mm,
            if t.bold { "bold" } else { "normal" },
            escape(&t.text)
        );
    }
    s.push_str("</svg>\n");
    s
}
