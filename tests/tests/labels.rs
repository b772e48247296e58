//! Labels read back as a scanner would: every QR decoded from PNG files and from PDF
//! sheets rasterised at 300 dpi, module sizes, quiet zones and positions measured;
//! ZPL checked command by command; printing to a stand-in network printer and CUPS
//! queue; refusals, roles and scopes.

use filiere_shared::api::*;
use filiere_shared::label::{self, LabelData, LabelSize, RenderOptions, SheetKind, Template};
use filiere_shared::*;
use filiere_tests::raster::{self, Image, Symbol};
use filiere_tests::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::TcpListener;

const HOST: &str = "filiere.test";

fn template(name: &str) -> Template {
    label::builtin_templates()
        .into_iter()
        .find(|t| t.name == name)
        .expect("built-in template")
}

fn options() -> RenderOptions {
    RenderOptions {
        host: Some(HOST.into()),
        lang: Lang::Fr,
    }
}

fn code(s: &str) -> LabelCode {
    LabelCode::parse(s).expect("code")
}

fn scratch(name: &str) -> std::path::PathBuf {
    let r: u32 = rand::random();
    std::env::temp_dir().join(format!(
        "filiere-labels-{name}-{}-{r:08x}",
        std::process::id()
    ))
}

/// Checks one decoded symbol against the label it should be: content, module size,
/// quiet zone, and (on a sheet) position within 0.2 mm of the sheet's figures.
fn check_symbol(img: &Image, s: &Symbol, expected: LabelCode, origin: (f64, f64), size: LabelSize) {
    assert_eq!(s.content, expected.qr_content(Some(HOST)));
    let l = label::layout(
        &template("intake"),
        size,
        &LabelData::blank(expected),
        &options(),
    )
    .expect("layout");
    let m = l.qr.module_mm();
    let q = f64::from(l.qr.quiet_modules) * m;
    let ppm = img.px_per_mm();
    let (x, y) = (s.x0 as f64 / ppm, s.y0 as f64 / ppm);
    let (ex, ey) = (origin.0 + l.qr.x_mm + q, origin.1 + l.qr.y_mm + q);
    assert!(
        (x - ex).abs() <= 0.2 && (y - ey).abs() <= 0.2,
        "{expected}: symbol at ({x:.2}, {y:.2}) mm, expected ({ex:.2}, {ey:.2})"
    );
    let module = img.module_mm(s);
    assert!(
        module >= label::MIN_MODULE_MM,
        "{expected}: module {module:.3} mm"
    );
    let area = (
        (origin.0 * ppm).ceil() as usize,
        (origin.1 * ppm).ceil() as usize,
        ((origin.0 + size.width_mm) * ppm).floor() as usize,
        ((origin.1 + size.height_mm) * ppm).floor() as usize,
    );
    let quiet = img.quiet_modules(s, area);
    assert!(quiet >= 3.9, "{expected}: quiet zone {quiet:.2} modules");
}

/// Symbols of a page, by the slot they are in: each slot read on its own, as a
/// scanner would, then checked for a symbol straddling two slots.
fn by_slot(img: &Image, sheet: &label::Sheet) -> HashMap<usize, Symbol> {
    let ppm = img.px_per_mm();
    let mut out = HashMap::new();
    for i in 0..sheet.slots() {
        let (sx, sy) = sheet.slot_origin(i);
        let found = img.symbols_in(sx, sy, sheet.label.width_mm, sheet.label.height_mm);
        assert!(found.len() <= 1, "two symbols in slot {i}");
        if let Some(s) = found.into_iter().next() {
            let inside = |x: usize, y: usize| {
                let (x, y) = (x as f64 / ppm, y as f64 / ppm);
                x >= sx
                    && x <= sx + sheet.label.width_mm
                    && y >= sy
                    && y <= sy + sheet.label.height_mm
            };
            assert!(
                inside(s.x0, s.y0) && inside(s.x1, s.y1),
                "symbol within slot {i}"
            );
            out.insert(i, s);
        }
    }
    out
}

fn print_count(app: &TestApp, c: &str) -> i32 {
    use diesel::prelude::*;
    use filiere_server::schema::label_codes;
    label_codes::table
        .find(c)
        .select(label_codes::print_count)
        .first(&mut app.conn())
        .expect("print count")
}

fn err_code(bytes: &[u8]) -> String {
    let v: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    v["code"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn png_labels_decode_back_with_their_modules_and_quiet_zone() {
    let codes = ["7K3M9QX8", "0H1J2K3M", "ZZZZ9999"]
        .iter()
        .filter_map(|c| LabelCode::parse(c).ok())
        .chain(
            (0u8..32)
                .filter_map(|s| LabelCode::from_symbols([s, 31, 0, 9, s, 4, 17]))
                .take(3),
        )
        .collect::<Vec<_>>();
    assert!(codes.len() >= 4);
    let sizes = [
        LabelSize::new(50.0, 25.0),
        LabelSize::new(38.0, 25.0),
        SheetKind::L7651.sheet().label,
        SheetKind::L7163.sheet().label,
    ];
    let mut checked = 0;
    for (i, c) in codes.iter().enumerate() {
        for name in ["intake", "part", "sale"] {
            let size = sizes[(i + checked) % sizes.len()];
            let host = (checked % 2 == 0).then_some(HOST);
            let mut data = LabelData::blank(*c);
            data.category = Some(Category::Ram);
            data.specs.part_spec = Some("8 Go DDR4".into());
            data.model = Some("ThinkPad T480".into());
            let opts = RenderOptions {
                host: host.map(str::to_owned),
                lang: Lang::Fr,
            };
            let l = label::layout(&template(name), size, &data, &opts).expect("layout");
            for dpi in [203, 300, 600] {
                let img = raster::read_png(&label::png(&l, dpi).expect("png"));
                assert!(
                    (img.dpi - f64::from(dpi)).abs() < 1.0,
                    "resolution recorded"
                );
                let expected = size.width_mm * img.px_per_mm();
                assert!((img.width as f64 - expected).abs() <= 1.0, "true size");
                let found = img.symbols();
                assert_eq!(found.len(), 1, "{name} {size:?} at {dpi} dpi");
                let s = &found[0];
                assert_eq!(s.content, c.qr_content(host));
                let module = img.module_mm(s);
                assert!(module >= label::MIN_MODULE_MM, "module {module:.3} mm");
                // Whole pixels: the symbol is exactly modules × pixels per module.
                assert_eq!((s.x1 - s.x0) % s.modules, 0, "whole pixels per module");
                let quiet = img.quiet_modules(s, (0, 0, img.width, img.height));
                assert!(
                    quiet >= 4.0,
                    "{name} {size:?} {dpi} dpi: quiet zone {quiet:.2}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, codes.len() * 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_prints_210_codes_on_ten_l7160_sheets_that_all_scan() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let batch: LabelBatchView = app
        .post_ok(
            "/api/v1/label-batches",
            &w.coord_a,
            &json!({"site": w.site_a1, "count": 210}),
        )
        .await;
    let (status, headers, pdf) = app
        .post_bytes(
            "/api/v1/labels/render",
            &w.coord_a,
            &json!({"source": {"batch": batch.id}, "format": "pdf", "sheet": "L7160"}),
        )
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-filiere-labels"], "210");
    assert!(headers.get("x-filiere-reprinted").is_none());

    let dir = scratch("l7160");
    let sheet = SheetKind::L7160.sheet();
    let mut sorted = batch.codes.clone();
    sorted.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    for (rasteriser, pages) in raster::pdf_pages(&pdf, 300, &dir) {
        assert_eq!(pages.len(), 10, "{rasteriser}");
        let mut decoded = 0;
        for (p, img) in pages.iter().enumerate() {
            assert!(
                img.width.abs_diff(2480) <= 1 && img.height.abs_diff(3508) <= 1,
                "A4 at 300 dpi"
            );
            let slots = by_slot(img, &sheet);
            assert_eq!(slots.len(), 21, "{rasteriser}: page {}", p + 1);
            for (slot, s) in &slots {
                let expected = sorted[p * 21 + slot];
                check_symbol(img, s, expected, sheet.slot_origin(*slot), sheet.label);
                decoded += 1;
            }
        }
        assert_eq!(decoded, 210, "{rasteriser}");
    }
    let _ = std::fs::remove_dir_all(&dir);

    // Counted once each; the same blank codes again are flagged as reprints.
    assert!(sorted.iter().all(|c| print_count(&app, c.as_str()) == 1));
    let (status, headers, _) = app
        .post_bytes(
            "/api/v1/labels/render",
            &w.coord_a,
            &json!({"source": {"codes": [sorted[0].hyphenated(), sorted[1].as_str()]}, "format": "pdf"}),
        )
        .await;
    assert_eq!(status, 200);
    let flagged = headers["x-filiere-reprinted"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(flagged, format!("{},{}", sorted[0], sorted[1]));
    assert_eq!(headers["x-filiere-reprinted-count"], "2");
    // The whole batch again: every code counted, the header listing the first 200.
    let (status, headers, _) = app
        .post_bytes(
            "/api/v1/labels/render",
            &w.coord_a,
            &json!({"source": {"batch": batch.id}, "format": "zpl"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-filiere-reprinted-count"], "210");
    let listed = headers["x-filiere-reprinted"].to_str().unwrap_or_default();
    assert_eq!(listed.split(',').count(), 200);
    assert_eq!(print_count(&app, sorted[209].as_str()), 2);
    assert_eq!(print_count(&app, sorted[0].as_str()), 3);
    // A preview counts nothing.
    let (status, _, _) = app
        .post_bytes(
            "/api/v1/labels/render",
            &w.coord_a,
            &json!({"source": {"codes": [sorted[2].as_str()]}, "format": "svg", "preview": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(print_count(&app, sorted[2].as_str()), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partly_used_sheets_start_at_the_given_slot() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 5).await;
    let dir = scratch("slots");
    for (kind, start, first_page) in [
        (SheetKind::L7163, 12, vec![11, 12, 13]),
        (SheetKind::L7651, 63, vec![62, 63, 64]),
    ] {
        let (status, _, pdf) = app
            .post_bytes(
                "/api/v1/labels/render",
                &w.tech_a1,
                &json!({"source": {"codes": codes}, "format": "pdf", "sheet": kind, "start_slot": start, "preview": true}),
            )
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
        let sheet = kind.sheet();
        for (rasteriser, pages) in raster::pdf_pages(&pdf, 300, &dir.join(kind.as_str())) {
            assert_eq!(pages.len(), 2, "{rasteriser}");
            let one = by_slot(&pages[0], &sheet);
            let two = by_slot(&pages[1], &sheet);
            let mut slots: Vec<usize> = one.keys().copied().collect();
            slots.sort();
            assert_eq!(slots, first_page, "{kind:?}");
            let mut slots: Vec<usize> = two.keys().copied().collect();
            slots.sort();
            assert_eq!(slots, [0, 1], "{kind:?} continues on a fresh sheet");
            for (i, slot) in first_page.iter().enumerate() {
                check_symbol(
                    &pages[0],
                    &one[slot],
                    code(&codes[i]),
                    sheet.slot_origin(*slot),
                    sheet.label,
                );
            }
            for i in 0..2 {
                check_symbol(
                    &pages[1],
                    &two[&i],
                    code(&codes[3 + i]),
                    sheet.slot_origin(i),
                    sheet.label,
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `^BQ` magnification and `^FD` data of a ZPL label.
fn zpl_qr(z: &str) -> (u32, String) {
    let line = z
        .lines()
        .find(|l| l.contains("^BQN"))
        .expect("a ^BQ command");
    let mag = line
        .split("^BQN,2,")
        .nth(1)
        .and_then(|a| a.split('^').next())
        .and_then(|m| m.parse().ok())
        .expect("magnification");
    let data = line
        .split("^FD")
        .nth(1)
        .expect("^FD")
        .trim_end_matches("^FS");
    (mag, data.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bench_gets_a_part_label_in_zpl_for_a_203_dpi_zebra() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 2).await;
    let donor = app.laptop(t, &codes[0], "SN-DRIVE-1").await;
    let donor = app
        .step_ok(
            t,
            &donor,
            "t1",
            json!({"type": "triage", "route": "harvest"}),
        )
        .await
        .item;
    let part = app
        .step_ok(
            t,
            &donor,
            "h1",
            json!({"type": "harvest_part", "code": codes[1], "category": "ram",
                   "specs": {"part_spec": "8 GB DDR4", "ram_gb": 8}}),
        )
        .await
        .other
        .expect("the part");
    for (media, dpi) in [("38x25", 203), ("50x25", 203), ("38x25", 300)] {
        let (status, headers, body) = app
            .post_bytes(
                "/api/v1/labels/render",
                t,
                &json!({"source": {"item": part.id}, "template": "part", "format": "zpl", "media": media, "dpi": dpi}),
            )
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap_or_default()
                .contains("zpl")
        );
        let z = String::from_utf8(body).expect("utf-8 ZPL");
        assert_eq!(z.matches("^XA").count(), 1);
        let (mag, data) = zpl_qr(&z);
        assert_eq!(
            data,
            format!("QA,{}", code(&codes[1]).qr_content(Some(HOST)))
        );
        let dots_per_mm = if dpi == 203 { 8.0 } else { 12.0 };
        let module = f64::from(mag) / dots_per_mm;
        assert!(module >= 0.375, "{media} at {dpi} dpi: {module} mm");
        let width: f64 = media
            .split('x')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0.0);
        assert!(z.contains(&format!("^PW{}", (width * dots_per_mm) as i64)));
        assert!(z.contains(&code(&codes[1]).hyphenated()));
        assert!(z.contains("Mémoire vive"), "category in French: {z}");
        assert!(z.contains("8 GB DDR4"));
    }
    // In English on request.
    let (_, _, body) = app
        .post_bytes(
            "/api/v1/labels/render",
            t,
            &json!({"source": {"item": part.id}, "template": "part", "format": "zpl", "lang": "en", "preview": true}),
        )
        .await;
    assert!(String::from_utf8_lossy(&body).contains("^FDRAM^FS"));

    // The sale label of the device, as SVG and PNG, carries its model.
    let (status, _, svg) = app
        .post_bytes(
            "/api/v1/labels/render",
            t,
            &json!({"source": {"item": donor.id}, "template": "sale", "format": "svg", "media": "L7163"}),
        )
        .await;
    assert_eq!(status, 200);
    let svg = String::from_utf8(svg).expect("svg");
    assert!(svg.contains("Lenovo ThinkPad T480") && svg.contains(r#"width="99.1mm""#));
    let (status, _, png) = app
        .post_bytes(
            "/api/v1/labels/render",
            t,
            &json!({"source": {"item": donor.id}, "template": "sale", "format": "png", "dpi": 300}),
        )
        .await;
    assert_eq!(status, 200);
    let img = raster::read_png(&png);
    let found = img.symbols();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].content, code(&codes[0]).qr_content(Some(HOST)));
}

/// A port nobody listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printing_sends_exactly_the_labels_or_says_why_not() {
    let dir = scratch("cups");
    std::fs::create_dir_all(&dir).expect("dir");
    // A stand-in for CUPS' lp: keeps the job, answers like lp; fails on queue "down".
    let lp = dir.join("lp");
    std::fs::write(
        &lp,
        format!(
            "#!/bin/sh\nif [ \"$2\" = down ]; then echo 'lp: The printer or class does not exist.' >&2; exit 1; fi\ncat > {}/job.pdf\necho \"request id is $2-7 (1 file(s))\"\n",
            dir.display()
        ),
    )
    .expect("write lp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&lp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let app = TestApp::spawn_with(filiere_server::printing::LabelSettings {
        public_host: Some(HOST.into()),
        lp_command: lp.display().to_string(),
        attempts: 2,
        timeout_ms: 1000,
    })
    .await;
    let w = app.world().await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 3).await;

    // ZPL on raw TCP: the printer receives exactly the rendered bytes.
    let (port, job) = fake_printer();
    let zebra: PrinterView = app
        .post_ok(
            "/api/v1/printers",
            &w.coord_a,
            &json!({"site": w.site_a1, "name": "Zebra établi 1", "kind": "zpl",
                    "address": format!("127.0.0.1:{port}"), "dpi": 203, "media": "38x25"}),
        )
        .await;
    let r: PrintResult = app
        .post_ok(
            "/api/v1/labels/print",
            &w.tech_a1,
            &json!({"printer": zebra.id, "source": {"codes": codes}}),
        )
        .await;
    let received = job.join().expect("printer thread");
    let (_, _, expected) = app
        .post_bytes(
            "/api/v1/labels/render",
            &w.tech_a1,
            &json!({"source": {"codes": codes}, "format": "zpl", "media": "38x25", "dpi": 203, "preview": true}),
        )
        .await;
    assert_eq!(received, expected, "the printer got exactly the labels");
    assert_eq!((r.labels, r.bytes), (3, expected.len() as u64));
    assert!(r.reprinted.is_empty());
    assert!(codes.iter().all(|c| print_count(&app, c) == 1));

    // A printer that refuses the connection: a clear error, nothing counted.
    let dead: PrinterView = app
        .post_ok(
            "/api/v1/printers",
            &w.coord_a,
            &json!({"site": w.site_a1, "name": "Zebra éteinte", "kind": "zpl",
                    "address": format!("127.0.0.1:{}", closed_port()), "dpi": 300, "media": "50x25"}),
        )
        .await;
    let before = app.counts();
    let (status, v) = app
        .post(
            "/api/v1/labels/print",
            &w.tech_a1,
            &json!({"printer": dead.id, "source": {"codes": codes}}),
        )
        .await;
    assert_eq!(status, 502, "{v}");
    assert_eq!(v["code"], "printer_unreachable");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("réessayez")
    );
    assert_eq!(v["details"]["printer"], json!(dead.id));
    assert_eq!(app.counts(), before);
    assert!(codes.iter().all(|c| print_count(&app, c) == 1));

    // The same job once the printer is back: printed, and flagged as a reprint.
    let (port, job) = fake_printer();
    let back: PrinterView = app
        .post_ok(
            "/api/v1/printers",
            &w.coord_a,
            &json!({"site": w.site_a1, "name": "Zebra rallumée", "kind": "zpl",
                    "address": format!("127.0.0.1:{port}"), "dpi": 203, "media": "38x25"}),
        )
        .await;
    let r: PrintResult = app
        .post_ok(
            "/api/v1/labels/print",
            &w.tech_a1,
            &json!({"printer": back.id, "source": {"codes": [codes[0]]}}),
        )
        .await;
    assert!(!job.join().expect("printer thread").is_empty());
    assert_eq!(r.reprinted, vec![code(&codes[0])]);

    // CUPS: a PDF sheet through lp, its job id returned.
    let cups: PrinterView = app
        .post_ok(
            "/api/v1/printers",
            &w.coord_a,
            &json!({"site": w.site_a1, "name": "Laser atelier", "kind": "cups", "address": "atelier", "media": "l7163"}),
        )
        .await;
    assert_eq!(cups.media, "L7163");
    let r: PrintResult = app
        .post_ok(
            "/api/v1/labels/print",
            &w.tech_a1,
            &json!({"printer": cups.id, "source": {"codes": codes}, "start_slot": 3}),
        )
        .await;
    assert_eq!(r.job.as_deref(), Some("atelier-7"));
    let pdf = std::fs::read(dir.join("job.pdf")).expect("the job reached lp");
    let pages = raster::hayro_pages(&pdf, 300);
    let slots = by_slot(&pages[0], &SheetKind::L7163.sheet());
    let mut s: Vec<usize> = slots.keys().copied().collect();
    s.sort();
    assert_eq!(s, [2, 3, 4]);
    let down: PrinterView = app
        .post_ok(
            "/api/v1/printers",
            &w.coord_a,
            &json!({"site": w.site_a1, "name": "Laser en panne", "kind": "cups", "address": "down", "media": "L7160"}),
        )
        .await;
    let before = app.counts();
    let (status, v) = app
        .post(
            "/api/v1/labels/print",
            &w.tech_a1,
            &json!({"printer": down.id, "source": {"codes": codes}}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), v["code"].as_str()),
        (502, Some("print_failed")),
        "{v}"
    );
    assert!(
        v["details"]["cause"]
            .as_str()
            .unwrap_or_default()
            .contains("does not exist")
    );
    assert_eq!(app.counts(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_label_requests_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 2).await;
    let unknown = (0u8..32)
        .filter_map(|s| LabelCode::from_symbols([s, 1, 2, 3, 4, 5, 6]))
        .find(|c| !codes.contains(&c.as_str().to_owned()))
        .expect("a code never issued");
    let mut wrong_check = codes[0].clone();
    let last = wrong_check.pop().unwrap_or('0');
    wrong_check.push(if last == '0' { '1' } else { '0' });
    let many: Vec<String> = vec![codes[0].clone(); 10_001];
    let before = app.counts();
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"source": {"codes": codes}, "format": "pdf", "template": "nope"}),
            404,
            "template_not_found",
        ),
        (
            json!({"source": {"codes": []}, "format": "pdf"}),
            400,
            "invalid_input",
        ),
        (
            json!({"source": {"codes": many}, "format": "zpl"}),
            400,
            "invalid_input",
        ),
        (
            json!({"source": {"codes": [unknown.as_str()]}, "format": "pdf"}),
            404,
            "code_unknown",
        ),
        (
            json!({"source": {"codes": [wrong_check]}, "format": "pdf"}),
            422,
            "code_check_failed",
        ),
        (
            json!({"source": {"codes": ["hello"]}, "format": "pdf"}),
            422,
            "invalid_code",
        ),
        (
            json!({"source": {"codes": codes}, "format": "svg"}),
            422,
            "invalid_value",
        ),
        (
            json!({"source": {"codes": codes}, "format": "pdf", "template": "part"}),
            422,
            "label_needs_item",
        ),
        (
            json!({"source": {"codes": codes}, "format": "pdf", "start_slot": 22}),
            422,
            "invalid_value",
        ),
        (
            json!({"source": {"codes": codes}, "format": "pdf", "start_slot": 0}),
            400,
            "invalid_input",
        ),
        (
            json!({"source": {"codes": codes}, "format": "zpl", "dpi": 250}),
            422,
            "invalid_value",
        ),
        (
            json!({"source": {"codes": codes}, "format": "zpl", "media": "10x10"}),
            422,
            "invalid_value",
        ),
        (
            json!({"source": {"codes": codes}, "format": "png", "dpi": 5000}),
            422,
            "invalid_value",
        ),
        (
            json!({"source": {"codes": codes}, "format": "tiff"}),
            400,
            "invalid_input",
        ),
        (
            json!({"source": {"codes": codes}, "format": "pdf", "colour": "red"}),
            400,
            "unknown_field",
        ),
        (
            json!({"source": {"batch": 999_999}, "format": "pdf"}),
            404,
            "label_batch_not_found",
        ),
        (
            json!({"source": {"item": 999_999}, "format": "pdf"}),
            404,
            "item_not_found",
        ),
        (
            json!({"source": {"items": []}, "format": "pdf"}),
            400,
            "invalid_input",
        ),
    ];
    for (body, status, code) in cases {
        let (s, _, bytes) = app.post_bytes("/api/v1/labels/render", t, &body).await;
        assert_eq!(
            (s.as_u16(), err_code(&bytes).as_str()),
            (status, code),
            "{body}"
        );
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!(!v["message"].as_str().unwrap_or_default().is_empty());
    }
    assert_eq!(app.counts(), before, "refusals write nothing");
    assert!(codes.iter().all(|c| print_count(&app, c) == 0));

    // Templates that would print unscannable labels are refused.
    let unscannable = [
        json!({"name": "tiny", "margin_mm": 1, "qr": {"ecc": "M", "size_mm": 8}, "fields": [{"field": "code", "size_mm": 2}]}),
        json!({"name": "tight", "margin_mm": 1, "qr": {"ecc": "M", "quiet_modules": 1}, "fields": [{"field": "code", "size_mm": 2}]}),
    ];
    for tpl in unscannable {
        let (s, v) = app
            .post(
                "/api/v1/label-templates",
                &w.coord_a,
                &json!({"site": w.site_a1, "template": tpl}),
            )
            .await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str()),
            (422, Some("label_unscannable")),
            "{v}"
        );
    }
    let (s, v) = app
        .post(
            "/api/v1/label-templates",
            &w.coord_a,
            &json!({"site": w.site_a1, "template": {"name": "no-code", "margin_mm": 1, "qr": {"ecc": "Q"}, "fields": [{"field": "category", "size_mm": 2}]}}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (422, Some("invalid_template")),
        "{v}"
    );
    assert_eq!(app.counts(), before);

    // A site's own template is data: added, listed, used.
    let own = json!({"name": "asso", "margin_mm": 1.5, "qr": {"ecc": "Q"},
                     "fields": [{"field": "code", "size_mm": 3, "bold": true}, {"field": {"text": "Atelier Solidaire"}, "size_mm": 2}]});
    let (s, v) = app
        .post(
            "/api/v1/label-templates",
            &w.coord_a,
            &json!({"site": w.site_a1, "template": own}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = app
        .post(
            "/api/v1/label-templates",
            &w.coord_a,
            &json!({"site": w.site_a1, "template": own}),
        )
        .await;
    assert_eq!((s.as_u16(), v["code"].as_str()), (409, Some("duplicate")));
    let list: Vec<LabelTemplateView> = app.get_ok("/api/v1/label-templates", t).await;
    let names: Vec<&str> = list.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["intake", "part", "sale", "asso"]);
    let (s, _, svg) = app
        .post_bytes(
            "/api/v1/labels/render",
            t,
            &json!({"source": {"codes": [codes[0]]}, "format": "svg", "template": "asso"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(String::from_utf8_lossy(&svg).contains("Atelier Solidaire"));
    // Another region's technician does not see it, and cannot use it.
    let list: Vec<LabelTemplateView> = app.get_ok("/api/v1/label-templates", &w.tech_b).await;
    assert_eq!(list.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_endpoints_check_role_and_scope() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 1).await;
    let batch: LabelBatchView = app
        .post_ok(
            "/api/v1/label-batches",
            &w.coord_a,
            &json!({"site": w.site_a1, "count": 1}),
        )
        .await;
    let render = json!({"source": {"batch": batch.id}, "format": "pdf"});
    let printer = json!({"site": w.site_a1, "name": "Zebra", "kind": "zpl", "address": "127.0.0.1:9", "dpi": 203, "media": "50x25"});
    let zebra: PrinterView = app.post_ok("/api/v1/printers", &w.admin, &printer).await;
    let before = app.counts();
    // (who, method path, body, status, code)
    let refused: Vec<(&str, &str, Value, u16, &str)> = vec![
        (
            &w.social_worker_a,
            "/api/v1/labels/render",
            render.clone(),
            403,
            "forbidden",
        ),
        (
            &w.tech_b,
            "/api/v1/labels/render",
            render.clone(),
            403,
            "out_of_scope",
        ),
        (
            &w.coord_b,
            "/api/v1/labels/render",
            render.clone(),
            403,
            "out_of_scope",
        ),
        (
            &w.tech_a2,
            "/api/v1/labels/render",
            json!({"source": {"codes": codes}, "format": "pdf"}),
            403,
            "out_of_scope",
        ),
        (
            &w.tech_a1,
            "/api/v1/printers",
            printer.clone(),
            403,
            "forbidden",
        ),
        (
            &w.coord_b,
            "/api/v1/printers",
            printer.clone(),
            403,
            "out_of_scope",
        ),
        (
            &w.social_worker_a,
            "/api/v1/printers",
            printer.clone(),
            403,
            "forbidden",
        ),
        (
            &w.tech_b,
            "/api/v1/labels/print",
            json!({"printer": zebra.id, "source": {"codes": codes}}),
            403,
            "out_of_scope",
        ),
        (
            &w.social_worker_a,
            "/api/v1/labels/print",
            json!({"printer": zebra.id, "source": {"codes": codes}}),
            403,
            "forbidden",
        ),
        (
            &w.tech_a1,
            "/api/v1/labels/print",
            json!({"printer": 999_999, "source": {"codes": codes}}),
            404,
            "printer_not_found",
        ),
        (
            &w.tech_a1,
            "/api/v1/label-templates",
            json!({"site": w.site_a1, "template": {"name": "x", "margin_mm": 1, "qr": {"ecc": "M"}, "fields": [{"field": "code", "size_mm": 2}]}}),
            403,
            "forbidden",
        ),
        (
            &w.coord_b,
            "/api/v1/label-templates",
            json!({"site": w.site_a1, "template": {"name": "x", "margin_mm": 1, "qr": {"ecc": "M"}, "fields": [{"field": "code", "size_mm": 2}]}}),
            403,
            "out_of_scope",
        ),
    ];
    for (who, path, body, status, code) in refused {
        let (s, v) = app.post(path, who, &body).await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str().unwrap_or_default()),
            (status, code),
            "{path} {body}"
        );
    }
    let (s, _) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/labels/render",
            None,
            Some(&render),
        )
        .await;
    assert_eq!(s, 401);
    let (s, v) = app.get("/api/v1/printers", &w.social_worker_a).await;
    assert_eq!((s.as_u16(), v["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(app.counts(), before, "refusals write nothing");

    // Each sees the printers of their scope.
    let seen = |v: Vec<PrinterView>| v.iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(
        seen(app.get_ok("/api/v1/printers", &w.tech_a1).await),
        [zebra.id]
    );
    assert_eq!(
        seen(app.get_ok("/api/v1/printers", &w.coord_a).await),
        [zebra.id]
    );
    assert!(seen(app.get_ok("/api/v1/printers", &w.tech_a2).await).is_empty());
    assert!(seen(app.get_ok("/api/v1/printers", &w.coord_b).await).is_empty());
    // The coordinator of the region may render the site's labels.
    let (s, _, _) = app
        .post_bytes("/api/v1/labels/render", &w.coord_a, &render)
        .await;
    assert_eq!(s, 200);
}
