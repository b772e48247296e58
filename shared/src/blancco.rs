//! Reading a Blancco Drive Eraser report (XML, as the erasure client saves it or the
//! Management Console exports it): each `erasure` of `blancco_erasure_report` gives
//! the drive (its `target`: serial, vendor, model, capacity), the state, the start and
//! end, the erasure standard, the overwriting and firmware rounds and the
//! verification. Pure text in, facts out; `fixtures/blancco/` keeps a sample.

use crate::lifecycle::ErasureData;
use crate::{ErasureResult, ErasureTechnique, NistLevel};
use chrono::{DateTime, Utc};

/// One drive's erasure in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlanccoErasure {
    pub serial: String,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub capacity_bytes: Option<u64>,
    pub state: String,
    pub standard: Option<String>,
    pub overwriting_rounds: Option<u32>,
    pub firmware_rounds: Option<u32>,
    /// "100%", as the report writes it.
    pub verification: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlanccoReport {
    /// The erasure software's version (`product_version`).
    pub version: Option<String>,
    pub erasures: Vec<BlanccoErasure>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlanccoError {
    #[error("not XML: {0}")]
    NotXml(String),
    #[error("no erasure in this file (is it a Blancco report?)")]
    NoErasure,
}

/// A drive of an erasure report, matched to the item that holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportedDrive {
    pub serial: String,
    pub item: crate::ItemId,
    pub code: String,
}

/// What an erasure report received at the server did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErasureReportImport {
    /// "nwipe" or "Blancco Drive Eraser".
    pub tool: String,
    /// Erasures recorded.
    pub erased: Vec<ReportedDrive>,
    /// Erasures the tool reports as failed or aborted, recorded so: the drive still
    /// waits for an erasure or its destruction.
    pub failed: Vec<ReportedDrive>,
    /// Drives already erased or destroyed: left as they are.
    pub already: Vec<ReportedDrive>,
    /// Serials of the report that match no drive of the collection or site.
    pub unmatched: Vec<String>,
}

/// Whether a file looks like XML (a Blancco report) rather than a text log.
pub fn looks_like_xml(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s.trim()))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub fn parse_report(text: &str) -> Result<BlanccoReport, BlanccoError> {
    let doc = roxmltree::Document::parse(text.trim_start_matches('\u{feff}'))
        .map_err(|e| BlanccoError::NotXml(e.to_string()))?;
    let named = |n: &roxmltree::Node, tag: &str, name: &str| -> bool {
        n.is_element() && n.tag_name().name() == tag && n.attribute("name") == Some(name)
    };
    let version = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "product_version")
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned());
    let mut erasures = Vec::new();
    for e in doc.descendants().filter(|n| named(n, "entries", "erasure")) {
        let field = |name: &str| -> Option<String> {
            e.children()
                .find(|c| named(c, "entry", name))
                .and_then(|c| c.text())
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        let Some(target) = e.children().find(|c| named(c, "entries", "target")) else {
            continue;
        };
        let of_target = |name: &str| -> Option<String> {
            target
                .children()
                .find(|c| named(c, "entry", name))
                .and_then(|c| c.text())
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        let Some(serial) = of_target("serial") else {
            continue;
        };
        erasures.push(BlanccoErasure {
            serial,
            vendor: of_target("vendor"),
            model: of_target("model"),
            capacity_bytes: of_target("capacity").and_then(|c| c.parse().ok()),
            state: field("state").unwrap_or_default(),
            standard: field("erasure_standard_name"),
            overwriting_rounds: field("overwriting_rounds").and_then(|r| r.parse().ok()),
            firmware_rounds: field("firmware_rounds").and_then(|r| r.parse().ok()),
            verification: field("verification"),
            started_at: field("start_time").as_deref().and_then(time),
            ended_at: field("end_time").as_deref().and_then(time),
        });
    }
    if erasures.is_empty() {
        return Err(BlanccoError::NoErasure);
    }
    Ok(BlanccoReport { version, erasures })
}

impl BlanccoErasure {
    /// Blancco's state: "Successful" is an erasure; a cancelled run is aborted; any
    /// other (failed, with exceptions) is not an erasure.
    pub fn result(&self) -> ErasureResult {
        let s = self.state.to_ascii_lowercase();
        if s == "successful" {
            ErasureResult::Erased
        } else if s.contains("abort") || s.contains("cancel") {
            ErasureResult::Aborted
        } else {
            ErasureResult::Failed
        }
    }

    /// Verified when the report says all of the drive was read back ("100%").
    pub fn verified(&self) -> bool {
        self.result() == ErasureResult::Erased
            && self.verification.as_deref().is_some_and(|v| {
                v.trim_end_matches('%').trim() == "100" || v.eq_ignore_ascii_case("true")
            })
    }

    /// The NIST level and technique the standard's name and the rounds say: a
    /// firmware erasure without overwriting is the drive's sanitize command, "crypto"
    /// a cryptographic erase; "Purge" in the name is Purge, otherwise Clear.
    pub fn nist(&self) -> (NistLevel, ErasureTechnique) {
        let name = self.standard.as_deref().unwrap_or("").to_ascii_lowercase();
        let technique = if name.contains("crypto") {
            ErasureTechnique::CryptoErase
        } else if self.firmware_rounds.unwrap_or(0) > 0 && self.overwriting_rounds.unwrap_or(0) == 0
        {
            ErasureTechnique::FirmwareSanitize
        } else {
            ErasureTechnique::Overwrite
        };
        let level = if name.contains("purge") {
            NistLevel::Purge
        } else {
            NistLevel::Clear
        };
        (level, technique)
    }

    /// The drive's size in GB, as drives are sold.
    pub fn size_gb(&self) -> Option<u32> {
        self.capacity_bytes
            .map(|b| ((b + 500_000_000) / 1_000_000_000) as u32)
    }
}

/// The erasure of one drive as the report tells it; `now` where it has no time.
pub fn erasure(report: &BlanccoReport, e: &BlanccoErasure, now: DateTime<Utc>) -> ErasureData {
    let (level, technique) = e.nist();
    let summary = format!(
        "Blancco Drive Eraser {}: {} {} {} — {} — {} — verification {} — {} → {}",
        report.version.as_deref().unwrap_or(""),
        e.vendor.as_deref().unwrap_or(""),
        e.model.as_deref().unwrap_or(""),
        e.serial,
        e.standard.as_deref().unwrap_or(""),
        e.state,
        e.verification.as_deref().unwrap_or("—"),
        e.started_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        e.ended_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
    );
    ErasureData {
        level,
        technique,
        tool: "Blancco Drive Eraser".into(),
        tool_version: report.version.clone(),
        method: e.standard.clone(),
        passes: match (e.overwriting_rounds, e.firmware_rounds) {
            (Some(o), Some(f)) => Some(o + f),
            (o, f) => o.or(f),
        },
        verified: e.verified(),
        started_at: e.started_at.unwrap_or(now),
        ended_at: e.ended_at.or(e.started_at).unwrap_or(now),
        result: e.result(),
        report: Some(summary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../fixtures/blancco/blancco-two-drives.xml");

    #[test]
    fn the_sample_report_gives_each_drive_and_its_erasure() {
        let r = parse_report(SAMPLE).expect("a report");
        assert_eq!(r.version.as_deref(), Some("7.16.0"));
        assert_eq!(r.erasures.len(), 2);
        let ssd = &r.erasures[0];
        assert_eq!(ssd.serial, "S3TZNX0K412873");
        assert_eq!(ssd.size_gb(), Some(256));
        assert_eq!(ssd.result(), ErasureResult::Erased);
        assert!(ssd.verified());
        assert_eq!(
            ssd.nist(),
            (NistLevel::Purge, ErasureTechnique::FirmwareSanitize)
        );
        assert_eq!(
            ssd.started_at.map(|t| t.to_rfc3339()),
            Some("2026-11-20T08:51:48+00:00".into())
        );
        let hdd = &r.erasures[1];
        assert_eq!(hdd.result(), ErasureResult::Failed);
        assert!(!hdd.verified());
        assert_eq!(hdd.nist(), (NistLevel::Clear, ErasureTechnique::Overwrite));
        let data = erasure(&r, ssd, Utc::now());
        assert_eq!(data.tool_version.as_deref(), Some("7.16.0"));
        assert_eq!(data.passes, Some(1));
        assert!(
            data.report
                .as_deref()
                .unwrap_or("")
                .contains("S3TZNX0K412873")
        );
    }

    #[test]
    fn other_files_are_refused() {
        assert!(matches!(
            parse_report("nwipe log"),
            Err(BlanccoError::NotXml(_))
        ));
        assert_eq!(parse_report("<root/>"), Err(BlanccoError::NoErasure));
        assert!(looks_like_xml("\u{feff} <?xml"));
        assert!(!looks_like_xml("[2026/11/20 09:00:02] info"));
    }
}
