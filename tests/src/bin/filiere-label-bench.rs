//! Label rendering benchmark: 1,000 labels as PDF sheets and as ZPL, with the pure
//! rendering code the server and the bench app use.
//!
//! `cargo run --release --bin filiere-label-bench`

use filiere_shared::LabelCode;
use filiere_shared::label::{self, Dpi, LabelData, RenderOptions, SheetKind};
use std::time::{Duration, Instant};

const LABELS: usize = 1_000;
const RUNS: usize = 7;

fn codes(n: usize) -> Vec<LabelCode> {
    let mut out = Vec::with_capacity(n);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut body = [0u8; 7];
        for (i, b) in body.iter_mut().enumerate() {
            *b = ((x >> (i * 5)) & 31) as u8;
        }
        if let Some(c) = LabelCode::from_symbols(body) {
            out.push(c);
        }
    }
    out
}

fn time<F: FnMut() -> usize>(name: &str, mut f: F) {
    let mut runs: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut bytes = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        bytes = f();
        runs.push(t.elapsed());
    }
    runs.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {name} | {LABELS} | {bytes} | {:.1} | {:.1} | {:.1} |",
        ms(runs[0]),
        ms(runs[RUNS / 2]),
        ms(runs[RUNS - 1])
    );
}

fn main() {
    let templates = label::builtin_templates();
    let find = |n: &str| templates.iter().find(|t| t.name == n).cloned();
    let (Some(intake), Some(part)) = (find("intake"), find("part")) else {
        eprintln!("built-in templates missing");
        std::process::exit(1);
    };
    let codes = codes(LABELS);
    let options = RenderOptions {
        host: Some("filiere.example.org".into()),
        lang: filiere_shared::Lang::Fr,
    };
    println!("| output | labels | bytes | min ms | median ms | max ms |");
    println!("|---|---|---|---|---|---|");
    for kind in SheetKind::ALL {
        let sheet = kind.sheet();
        time(&format!("PDF {} (layout + render)", kind.as_str()), || {
            let layouts: Vec<_> = codes
                .iter()
                .filter_map(|c| {
                    label::layout(&intake, sheet.label, &LabelData::blank(*c), &options).ok()
                })
                .collect();
            label::pdf_sheet(&sheet, &layouts, 1)
                .map(|b| b.len())
                .unwrap_or(0)
        });
    }
    for (media, dpi) in [("38x25", Dpi::D203), ("50x25", Dpi::D300)] {
        let size = label::media(media).unwrap_or(label::ROLLS[0].1);
        time(
            &format!("ZPL part label {media} at {} dpi", dpi.value()),
            || {
                let layouts: Vec<_> = codes
                    .iter()
                    .filter_map(|c| {
                        let mut d = LabelData::blank(*c);
                        d.category = Some(filiere_shared::Category::Ram);
                        d.specs.part_spec = Some("8 GB DDR4".into());
                        label::layout(&part, size, &d, &options).ok()
                    })
                    .collect();
                label::zpl(&layouts, dpi).map(|z| z.len()).unwrap_or(0)
            },
        );
    }
}
