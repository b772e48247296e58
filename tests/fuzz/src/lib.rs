//! Fuzz targets: one function for each kind of bytes that reach Filière from outside.
//! libFuzzer runs them (`libfuzzer/`, see `docs/reliability.md`), and the tests replay
//! every input of their corpora (`corpus/<target>/`) as ordinary tests, so that an
//! input that once crashed a parser stays a test.
//!
//! A target panics on a crash of the parser and on a broken promise of its output (a
//! code that does not read back as itself, a journal that numbers an action twice…).

use chrono::{TimeZone, Utc};
use filiere_server::extract;
use filiere_shared::api::*;
use filiere_shared::code::{self, LabelCode, Scan};
use filiere_shared::dashboards::UpdateDashboardSettings;
use filiere_shared::documents::IssueDocument;
use filiere_shared::offers::{AcceptOffer, DeclineOffer};
use filiere_shared::sales::*;
use filiere_shared::social::*;
use filiere_shared::{Lang, assets, blancco, documents, nwipe};
use filiere_workstation::journal;
use filiere_workstation::scanner::{self, Burst, hid};

/// A target: takes any bytes, panics on a crash or a broken promise.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus folder and libFuzzer binary carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("scan", scan),
    ("hid", hid),
    ("nwipe", nwipe),
    ("blancco", blancco),
    ("asset_list", asset_list),
    ("journal", journal),
    ("api_body", api_body),
    ("form", form),
];

/// A scanned string, typed code or label URL: every reading of it.
pub fn scan(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = code::parse_scan(&text);
    match (&parsed, scanner::classify(&text)) {
        (Ok(p), Burst::Captured { scan, .. }) => assert_eq!(&p.value, &scan),
        (Err(_), Burst::Text(t)) => assert_eq!(t, text),
        (p, b) => panic!("classify disagrees with parse_scan: {p:?} / {b:?}"),
    }
    match parsed.map(|p| p.value) {
        Ok(Scan::Label(c)) => {
            assert_eq!(LabelCode::parse(c.as_str()), Ok(c));
            assert_eq!(LabelCode::parse(&c.hyphenated()), Ok(c));
            assert_eq!(
                LabelCode::parse(&c.qr_content(Some("atelier.local:8080"))),
                Ok(c)
            );
        }
        Ok(Scan::Badge(b)) => {
            assert_eq!(code::BadgeCode::parse(&b.as_str()), Ok(b));
            assert_eq!(code::BadgeCode::parse(&b.hyphenated()), Ok(b));
        }
        Err(e) => {
            let _ = e.message_fr();
        }
    }
    let _ = parse_voucher_scan(&text);
    let _ = documents::parse_document_id(&text);
    let _ = parse_euros(&text);
}

/// Raw USB HID reports of a scanner. The first byte picks the decoder (boot keyboard
/// or point of sale); then each report is a length byte and that many bytes.
pub fn hid(data: &[u8]) {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let mut reports = Vec::new();
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len % 80).min(tail.len());
        reports.push(&tail[..n]);
        rest = &tail[n..];
    }
    let scans = if mode & 1 == 0 {
        hid::BootKeyboard::new().decode(reports.iter().copied())
    } else {
        hid::PosScanner::new(hid::PosLayout::default()).decode(reports.iter().copied())
    };
    for s in &scans {
        scan(s.as_bytes());
    }
    // What a US keyboard types, sent as boot reports, reads back as itself (a scan's
    // length: a label URL, a serial).
    let text: String = String::from_utf8_lossy(data)
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(80)
        .collect();
    if let Some(typed) = hid::boot_reports_for(&text) {
        let back = hid::BootKeyboard::new().decode(typed.iter().map(|r| &r[..]));
        assert_eq!(back, [text]);
    }
}

fn report_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// An nwipe log, as a coordinator uploads it or the bench imports it (UTF-8 text).
pub fn nwipe(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = nwipe::parse_log(text) {
        for d in &r.drives {
            let _ = nwipe::erasure(&r, d, text, report_time());
        }
    }
}

/// A Blancco Drive Eraser XML report.
pub fn blancco(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = blancco::looks_like_xml(text);
    if let Ok(r) = blancco::parse_report(text) {
        for e in &r.erasures {
            let _ = blancco::erasure(&r, e, report_time());
        }
    }
}

/// A donor's asset list (CSV), its problems said in French or English (by the length's
/// parity): a refusal names at least one problem, and an accepted list numbers its
/// lines as the spreadsheet does.
pub fn asset_list(data: &[u8]) {
    let lang = if data.len().is_multiple_of(2) {
        Lang::Fr
    } else {
        Lang::En
    };
    match assets::parse(data, lang) {
        Ok(lines) => assert!(lines.iter().all(|l| l.line >= 2)),
        Err(problems) => assert!(!problems.is_empty()),
    }
}

/// A bench's journal file as it is read back at start.
pub fn journal(data: &[u8]) {
    if let Ok(c) = journal::read(data) {
        assert!(c.whole_len <= data.len());
        let seqs: Vec<u64> = (c.pending.keys())
            .chain(c.refused.keys())
            .chain(c.accepted.keys())
            .copied()
            .collect();
        let distinct: std::collections::BTreeSet<u64> = seqs.iter().copied().collect();
        assert_eq!(distinct.len(), seqs.len(), "an action in two states");
        assert!(seqs.iter().all(|&s| s < c.next_seq), "a number given twice");
    }
}

/// Reads `T` as the API does, and words its refusal in both languages.
fn body<T: serde::de::DeserializeOwned + utoipa::ToSchema>(data: &[u8]) {
    for lang in [Lang::Fr, Lang::En] {
        if let Err(e) = extract::parse::<T>(data) {
            let body = e.in_lang(lang).body();
            assert!(!body.message.is_empty());
        }
    }
}

/// A JSON request body: the first byte picks the operation's body type.
pub fn api_body(data: &[u8]) {
    let Some((&which, json)) = data.split_first() else {
        return;
    };
    let parsers: &[fn(&[u8])] = &[
        body::<EventRequest>,
        body::<BatchRequest>,
        body::<RegisterItem>,
        body::<LoginRequest>,
        body::<BadgeLoginRequest>,
        body::<ChangePassword>,
        body::<SetPassword>,
        body::<LabelRequest>,
        body::<PrintRequest>,
        body::<NewLabelTemplate>,
        body::<CloseCollection>,
        body::<CloseWeeeBatch>,
        body::<HandOverWeeeBatch>,
        body::<UpdateUser>,
        body::<UpdateOrganisation>,
        body::<NewRegion>,
        body::<NewSite>,
        body::<NewOrganisation>,
        body::<NewUser>,
        body::<NewBench>,
        body::<NewCollection>,
        body::<NewLabelBatch>,
        body::<NewWeeeBatch>,
        body::<NewPrinter>,
        body::<IssueDocument>,
        body::<UpdateDashboardSettings>,
        body::<AcceptOffer>,
        body::<DeclineOffer>,
        body::<NewSale>,
        body::<NewReturn>,
        body::<NewPriceRule>,
        body::<UpdatePriceCap>,
        body::<SettleAfterSales>,
        body::<NewBeneficiary>,
        body::<UpdateBeneficiary>,
        body::<NewReservation>,
        body::<CancelReservation>,
        body::<NewNeed>,
        body::<NewBooking>,
        body::<NewTrainingSession>,
        body::<RecordAttendance>,
        body::<RefuseTraining>,
        body::<UpdateSite>,
        body::<UpdateRegion>,
    ];
    parsers[usize::from(which) % parsers.len()](json);
}

/// A web page's form body (`application/x-www-form-urlencoded`), its fields read as the
/// pages read them: text, numbers, dates and times in the association's zone.
pub fn form(data: &[u8]) {
    let fields = filiere_server::web::Fields::parse(data);
    let clock = filiere_server::clock::Clock::parse_zone("Europe/Paris");
    for name in ["code", "date", "at", "price", "quantity", "q"] {
        let value = fields.get(name);
        let _ = fields.opt(name);
        let _ = fields.all(name);
        let _ = value.parse::<i64>();
        let _ = parse_euros(value);
        if let Some(c) = &clock {
            let _ = c.parse_input(value);
        }
        let _ = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d");
    }
}
