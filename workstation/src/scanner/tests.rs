use super::hid::{BootKeyboard, PosLayout, PosScanner, boot_reports_for};
use super::wedge::WedgeDetector;
use super::*;
use filiere_shared::LabelCode;
use serde::Deserialize;
use std::path::PathBuf;

/// A report sequence committed under `fixtures/scanner/`.
#[derive(Deserialize)]
struct Fixture {
    /// `boot_keyboard` or `pos`.
    kind: String,
    /// True where the sequence was built from the HID Usage Tables, not captured.
    synthetic: bool,
    description: String,
    /// Reports, as hex strings.
    reports: Vec<String>,
    /// The scans they must give.
    expected: Vec<String>,
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex byte"))
        .collect()
}

fn fixtures() -> Vec<(PathBuf, Fixture)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scanner");
    let mut out: Vec<(PathBuf, Fixture)> = std::fs::read_dir(&dir)
        .expect("fixtures/scanner")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let f = serde_json::from_str(&std::fs::read_to_string(&p).expect("read fixture"))
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, f)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn recorded_report_sequences_decode_to_their_scans() {
    let all = fixtures();
    assert!(all.len() >= 5, "fixtures present");
    for (path, f) in all {
        let reports: Vec<Vec<u8>> = f.reports.iter().map(|r| hex(r)).collect();
        let got = match f.kind.as_str() {
            "boot_keyboard" => BootKeyboard::new().decode(reports.iter().map(Vec::as_slice)),
            "pos" => {
                PosScanner::new(PosLayout::default()).decode(reports.iter().map(Vec::as_slice))
            }
            other => panic!("{}: unknown kind {other}", path.display()),
        };
        assert_eq!(got, f.expected, "{} ({})", path.display(), f.description);
        assert!(f.synthetic || !f.description.is_empty());
    }
}

#[test]
fn boot_keyboard_scans_are_captured_whatever_the_pc_layout() {
    // The same reports give the same text: the usages are mapped as the scanner
    // meant them (US), never through the PC's layout.
    let code = LabelCode::parse("7K3M9QX8").expect("code");
    for text in [
        code.as_str().to_owned(),
        code.qr_content(Some("filiere.example.org")),
    ] {
        let reports = boot_reports_for(&text).expect("typeable");
        let scans = BootKeyboard::new().decode(reports.iter().map(|r| r.as_slice()));
        assert_eq!(scans, std::slice::from_ref(&text));
        assert_eq!(
            classify(&scans[0]),
            Burst::Captured {
                scan: filiere_shared::code::Scan::Label(code),
                azerty_recovered: false
            }
        );
    }
    // A serial number is text for the focused field.
    let reports = boot_reports_for("PF1ABC23").expect("typeable");
    let scans = BootKeyboard::new().decode(reports.iter().map(|r| r.as_slice()));
    assert_eq!(classify(&scans[0]), Burst::Text("PF1ABC23".into()));
}

#[test]
fn malformed_reports_are_counted_not_typed() {
    let mut k = BootKeyboard::new();
    assert_eq!(k.report(&[0, 0, 0x1E]), None, "short report");
    assert_eq!(k.report(&[0, 0, 1, 1, 1, 1, 1, 1]), None, "rollover error");
    assert_eq!(k.rejected, 2);
    // Ctrl+C from a misconfigured scanner types nothing.
    assert_eq!(k.report(&[0x01, 0, 0x06, 0, 0, 0, 0, 0]), None);
    assert_eq!(
        k.report(&[0, 0, 0x28, 0, 0, 0, 0, 0]),
        Some(hid::HidEvent::Scan(String::new()))
    );
    let mut p = PosScanner::new(PosLayout::default());
    assert_eq!(p.report(&[0x01; 64]), None, "another report id");
    let mut long = vec![0u8; 64];
    long[0] = 0x02;
    long[1] = 60;
    assert_eq!(p.report(&long), None, "length beyond the data field");
    assert_eq!(p.rejected, 2);
}

#[test]
fn wedge_bursts_are_told_from_typing_with_azerty_recovery() {
    let code = LabelCode::parse("7K3M9QX8").expect("code");
    let typed = filiere_shared::code::us_to_azerty(code.as_str());
    assert_ne!(typed, code.as_str());
    let mut w = WedgeDetector::default();
    for (i, c) in typed.chars().enumerate() {
        w.char(c, 1000 + i as u64 * 8);
    }
    let burst = w.enter(1000 + typed.chars().count() as u64 * 8 + 5);
    assert_eq!(
        burst,
        Some(Burst::Captured {
            scan: filiere_shared::code::Scan::Label(code),
            azerty_recovered: true
        })
    );
    // The same keys typed by a person (200 ms apart) are not a scan.
    let mut w = WedgeDetector::default();
    for (i, c) in code.as_str().chars().enumerate() {
        w.char(c, i as u64 * 200);
    }
    assert_eq!(w.enter(8 * 200), None);
    // A fast burst of something else is text for the focused field.
    let mut w = WedgeDetector::default();
    for (i, c) in "SN-4C7F21".chars().enumerate() {
        w.char(c, i as u64 * 5);
    }
    assert_eq!(w.enter(60), Some(Burst::Text("SN-4C7F21".into())));
    // A person types slowly, then a scanner fires: only the burst counts.
    let mut w = WedgeDetector::default();
    w.char('x', 0);
    w.char('y', 400);
    for (i, c) in code.as_str().chars().enumerate() {
        w.char(c, 1000 + i as u64 * 6);
    }
    assert!(matches!(w.enter(1060), Some(Burst::Captured { .. })));
}
