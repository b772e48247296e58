//! Reading an nwipe log (`nwipe --logfile=…`): the summary table nwipe writes at the
//! end of a run gives each drive's status and model/serial, the lines before it the
//! method, the rounds, the verification and the times. The erasure bench matches the
//! drives by serial and records one erasure per drive. Pure text in, facts out: one
//! reading of these logs for whatever receives them.

use crate::lifecycle::ErasureData;
use crate::{ErasureResult, ErasureTechnique, NistLevel};
use chrono::{DateTime, NaiveDateTime, Utc};

/// One drive of the summary table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NwipeDrive {
    pub device: String,
    pub model: String,
    pub serial: String,
    pub result: ErasureResult,
}

/// What a log says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NwipeReport {
    pub version: Option<String>,
    pub method: Option<String>,
    pub rounds: Option<u32>,
    pub verified: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub drives: Vec<NwipeDrive>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NwipeError {
    #[error("no nwipe summary table in this file (is it an nwipe log?)")]
    NoSummary,
}

/// `[2026/11/20 09:00:01] …` → the time, read as UTC (nwipe logs the bench's clock).
fn stamp(line: &str) -> Option<DateTime<Utc>> {
    let inner = line.strip_prefix('[')?.get(..19)?;
    NaiveDateTime::parse_from_str(inner, "%Y/%m/%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

fn status(s: &str) -> Option<ErasureResult> {
    let s = s.trim().trim_matches('-').to_ascii_lowercase();
    match s.as_str() {
        "erased" => Some(ErasureResult::Erased),
        "failed" => Some(ErasureResult::Failed),
        "uaborted" | "aborted" => Some(ErasureResult::Aborted),
        _ => None,
    }
}

/// Parses an nwipe log.
pub fn parse_log(text: &str) -> Result<NwipeReport, NwipeError> {
    let mut r = NwipeReport {
        version: None,
        method: None,
        rounds: None,
        verified: false,
        started_at: None,
        ended_at: None,
        drives: Vec::new(),
    };
    let mut in_table = false;
    let mut saw_table = false;
    for line in text.lines() {
        if let Some(t) = stamp(line) {
            r.started_at = Some(r.started_at.map_or(t, |s| s.min(t)));
            r.ended_at = Some(r.ended_at.map_or(t, |e| e.max(t)));
        }
        let lower = line.to_ascii_lowercase();
        if r.version.is_none()
            && let Some(i) = lower.find("version")
        {
            let v = line[i + "version".len()..]
                .trim_start_matches([':', ' '])
                .split_whitespace()
                .next()
                .map(|v| v.trim_end_matches(',').to_owned());
            if lower.contains("nwipe") {
                r.version = v;
            }
        }
        if let Some(i) = line.find("Invoking method '") {
            let rest = &line[i + "Invoking method '".len()..];
            r.method = rest.split('\'').next().map(str::to_owned);
        }
        if lower.contains("verif") && !lower.contains("verify off") && !lower.contains("no verif") {
            r.verified = true;
        }
        // "Total Throughput  237 MB/s, PRNG Stream, 1R+B+VL"
        if let Some(i) = line.find("Total Throughput") {
            let parts: Vec<&str> = line[i..].split(',').map(str::trim).collect();
            if let Some(m) = parts.get(1) {
                r.method.get_or_insert_with(|| (*m).to_owned());
            }
            if let Some(code) = parts.get(2) {
                r.rounds = code.split('R').next().and_then(|n| n.trim().parse().ok());
                if code.contains("VL") || code.contains("VA") {
                    r.verified = true;
                }
            }
        }
        if line.starts_with('!') && line.contains("Device") && line.contains("Status") {
            in_table = true;
            saw_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        let cells: Vec<&str> = line.split('|').collect();
        if cells.len() < 5 {
            // The rule lines around the rows; the table ends at the total.
            if line.contains("Total Throughput") || line.starts_with('*') {
                in_table = false;
            }
            continue;
        }
        let Some(result) = status(cells[1]) else {
            continue;
        };
        let ms = cells[4].trim();
        let (model, serial) = match ms.rsplit_once('/') {
            Some((m, s)) => (m.trim(), s.trim()),
            None => ("", ms),
        };
        r.drives.push(NwipeDrive {
            device: cells[0].trim().to_owned(),
            model: model.to_owned(),
            serial: serial.to_owned(),
            result,
        });
    }
    if !saw_table {
        return Err(NwipeError::NoSummary);
    }
    Ok(r)
}

/// Whether a serial as nwipe printed it is the declared one (nwipe may cut long
/// serials; case and spaces do not count).
pub fn same_serial(declared: &str, logged: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase()
    };
    let (d, l) = (norm(declared), norm(logged));
    !l.is_empty() && (d == l || (l.len() >= 8 && d.starts_with(&l)))
}

/// The erasure of one drive as the log tells it: NIST Clear by overwriting, verified
/// when nwipe verified and the drive was erased; `now` where the log has no time.
pub fn erasure(
    report: &NwipeReport,
    drive: &NwipeDrive,
    log: &str,
    now: DateTime<Utc>,
) -> ErasureData {
    ErasureData {
        level: NistLevel::Clear,
        technique: ErasureTechnique::Overwrite,
        tool: "nwipe".into(),
        tool_version: report.version.clone(),
        method: report.method.clone(),
        passes: report.rounds,
        verified: report.verified && drive.result == ErasureResult::Erased,
        started_at: report.started_at.unwrap_or(now),
        ended_at: report.ended_at.unwrap_or(now),
        result: drive.result,
        report: Some(excerpt(log, drive)),
    }
}

/// The lines of the log about one drive (its device name or serial), with the run's
/// own lines (method, totals): what is kept as the erasure's report.
pub fn excerpt(text: &str, drive: &NwipeDrive) -> String {
    let dev = format!("/dev/{}", drive.device);
    text.lines()
        .filter(|l| {
            l.contains(&dev)
                || l.contains(&drive.serial)
                || l.contains("Total Throughput")
                || l.to_ascii_lowercase().contains("nwipe version")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = include_str!("../../fixtures/nwipe/nwipe-two-drives.log");

    #[test]
    fn the_summary_table_gives_each_drive_its_result() {
        let r = parse_log(LOG).expect("an nwipe log");
        assert_eq!(r.version.as_deref(), Some("0.35"));
        assert_eq!(r.method.as_deref(), Some("PRNG Stream"));
        assert_eq!(r.rounds, Some(1));
        assert!(r.verified);
        assert_eq!(
            r.drives,
            vec![
                NwipeDrive {
                    device: "sda".into(),
                    model: "Samsung SSD 860".into(),
                    serial: "S3Z9NB0K123456".into(),
                    result: ErasureResult::Erased,
                },
                NwipeDrive {
                    device: "sdb".into(),
                    model: "ST500DM002-1BD14".into(),
                    serial: "Z3TA1234".into(),
                    result: ErasureResult::Failed,
                },
            ]
        );
        let (s, e) = (r.started_at.expect("start"), r.ended_at.expect("end"));
        assert!(s < e);
        assert!(excerpt(LOG, &r.drives[1]).contains("/dev/sdb"));
        assert!(!excerpt(LOG, &r.drives[1]).contains("/dev/sda"));
    }

    #[test]
    fn other_files_are_refused_and_serials_match_loosely() {
        assert_eq!(parse_log("hello\nworld"), Err(NwipeError::NoSummary));
        assert!(same_serial("s3z9nb0k123456", "S3Z9NB0K123456"));
        assert!(same_serial("WD-WCC2ETH1234567890", "WD-WCC2ETH123"));
        assert!(!same_serial("Z3TA1234", "Z3TA9999"));
        assert!(!same_serial("Z3TA1234", ""));
    }
}
