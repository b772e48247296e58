//! Charts drawn on the server as SVG (plotters' SVG backend): readable printed in
//! black and white (each series has its own mark and dash as well as its colour),
//! no script needed. A page shows each chart with its table, which is what a screen
//! reader reads (the SVG is marked as an image with a short label).

use plotters::prelude::*;

/// Colours that stay apart in print and for the common colour blindnesses (Okabe–Ito).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// Text as SVG may carry it.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' | '>' | '&' | '"' => ' ',
            c => c,
        })
        .collect()
}

/// Wraps plotters' SVG in an element a page can embed: an image with a label.
fn wrap(svg: String, label: &str) -> String {
    let svg = svg.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-label=\"{}\" class=\"chart\" ",
            safe(label)
        ),
        1,
    );
    // The chart scales with its box.
    svg.replacen("width=\"", "data-w=\"", 1)
        .replacen("height=\"", "data-h=\"", 1)
}

/// A line per series over labelled points (weeks, months), the first label at the
/// left. `label` says what the chart shows, for a screen reader.
pub fn lines(label: &str, x: &[String], series: &[(String, Vec<i64>)]) -> String {
    let (w, h) = (900u32, 360u32);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let top = series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1);
        let n = x.len().max(2);
        let chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0..(n as i64 - 1), 0..(top + top / 10 + 1));
        let Ok(mut chart) = chart else {
            return String::new();
        };
        let labels: Vec<String> = x.iter().map(|s| safe(s)).collect();
        let _ = chart
            .configure_mesh()
            .x_labels(9)
            .x_label_formatter(&|i| labels.get(*i as usize).cloned().unwrap_or_default())
            .y_labels(6)
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .label_style(("sans-serif", 16))
            .draw();
        for (k, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let style = ShapeStyle::from(&color).stroke_width(if k % 2 == 0 { 3 } else { 2 });
            let points: Vec<(i64, i64)> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as i64, *v))
                .collect();
            let drawn = chart.draw_series(LineSeries::new(points.clone(), style));
            if let Ok(d) = drawn {
                d.label(safe(name)).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            }
            // A mark of its own on each point, for print.
            let every = (points.len() / 13).max(1);
            let marks = points
                .into_iter()
                .enumerate()
                .filter(|(i, _)| i % every == 0);
            let _ = match k % 3 {
                0 => chart
                    .draw_series(marks.map(|(_, p)| Circle::new(p, 3, color.filled())))
                    .map(|_| ()),
                1 => chart
                    .draw_series(marks.map(|(_, p)| TriangleMarker::new(p, 4, color.filled())))
                    .map(|_| ()),
                _ => chart
                    .draw_series(marks.map(|(_, p)| Cross::new(p, 4, color.stroke_width(2))))
                    .map(|_| ()),
            };
        }
        let _ = chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 16))
            .draw();
        let _ = root.present();
    }
    wrap(out, label)
}

/// Horizontal bars, one per labelled value.
pub fn bars(label: &str, bars: &[(String, i64)]) -> String {
    let row = 44u32;
    let (w, h) = (900u32, 40 + row * bars.len().max(1) as u32);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let top = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
        let n = bars.len().max(1) as i64;
        let chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(240)
            .build_cartesian_2d(0..(top + top / 10 + 1), (0..n).into_segmented());
        let Ok(mut chart) = chart else {
            return String::new();
        };
        let names: Vec<String> = bars.iter().map(|(s, _)| safe(s)).collect();
        let _ = chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(bars.len().max(1))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .x_labels(6)
            .label_style(("sans-serif", 17))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw();
        let color = PALETTE[0];
        let _ = chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
            let i = i as i64;
            Rectangle::new(
                [
                    (0, SegmentValue::Exact(i)),
                    (*v, SegmentValue::Exact(i + 1)),
                ],
                color.filled(),
            )
        }));
        let _ = root.present();
    }
    wrap(out, label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_images_with_their_labels_and_no_markup_from_names() {
        let svg = lines(
            "Flux",
            &[
                "2026-01-05".into(),
                "2026-01-12".into(),
                "2026-01-19".into(),
            ],
            &[
                ("Reçus <b>".into(), vec![1, 4, 2]),
                ("Prêts".into(), vec![0, 2, 3]),
            ],
        );
        assert!(
            svg.starts_with("<svg role=\"img\" aria-label=\"Flux\""),
            "{}",
            &svg[..80]
        );
        assert!(svg.contains("Prêts"));
        assert!(!svg.contains("<b>"));
        let svg = bars(
            "Prêts par site",
            &[("Atelier".into(), 12), ("Boutique".into(), 3)],
        );
        assert!(svg.contains("Atelier") && svg.contains("<rect"));
    }
}
