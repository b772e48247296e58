//! The erasure certificate of a collection: for each drive, the NIST SP 800-88 fields
//! of its erasure (or of its destruction), the drive itself, the device it came in,
//! who erased it and an excerpt of the tool's report; the devices recorded without a
//! drive; and the signature of the person with the data-security right who issues it.

use super::{Doc, Identity, Issued};
use crate::clock::Clock;
use chrono::{DateTime, Utc};
use filiere_shared::api::CollectionView;
use filiere_shared::names::Named;
use filiere_shared::{Category, ErasureResult, ErasureTechnique, Lang, NistLevel};

/// The item a drive was found in (or the drive itself, donated loose).
pub struct Device {
    pub code: String,
    pub category: Category,
    pub model: String,
    pub serial: Option<String>,
    pub asset_tag: Option<String>,
}

/// What was done to one drive.
pub enum Sanitised {
    Erased {
        level: NistLevel,
        technique: ErasureTechnique,
        tool: String,
        tool_version: Option<String>,
        method: Option<String>,
        passes: Option<i32>,
        verified: bool,
        started_at: DateTime<Utc>,
        ended_at: DateTime<Utc>,
        result: ErasureResult,
        report: Option<String>,
    },
    Destroyed {
        method: String,
        notes: Option<String>,
        at: DateTime<Utc>,
    },
}

pub struct Drive {
    pub serial: String,
    pub make: Option<String>,
    pub model: Option<String>,
    pub size_gb: Option<i32>,
    pub device: Device,
    pub done: Sanitised,
    /// Who erased or destroyed it.
    pub by: String,
}

pub struct Certificate<'a> {
    pub issuer: Identity<'a>,
    pub issued: Issued<'a>,
    /// The donor and the collection, when the items came in one.
    pub donor: Option<(Identity<'a>, &'a CollectionView)>,
    /// A device's own certificate: its label, instead of a collection's.
    pub device: Option<&'a str>,
    pub site: &'a str,
    pub drives: &'a [Drive],
    /// Devices recorded as holding no drive.
    pub without_drive: &'a [Device],
    pub issued_at: DateTime<Utc>,
    pub signer: &'a str,
    pub signer_role: &'a str,
    pub clock: Clock,
}

const FR: Lang = Lang::Fr;

/// The lines of a tool's report kept on the certificate.
const REPORT_LINES: usize = 8;

fn device_text(d: &Device) -> String {
    let mut out = format!(
        "{} — {}",
        filiere_shared::code::LabelCode::readable(&d.code),
        d.category.name(FR)
    );
    if !d.model.is_empty() {
        out.push(' ');
        out.push_str(&d.model);
    }
    if let Some(s) = &d.serial {
        out.push_str(&format!(", n° de série {s}"));
    }
    if let Some(t) = &d.asset_tag {
        out.push_str(&format!(", n° d'inventaire {t}"));
    }
    out
}

/// What a tool's report says of one drive: its lines naming the drive's serial, and
/// those naming the device it was seen as (`/dev/sda`) in them; else its last lines,
/// where tools write their verdict. Rules and frames are left out.
fn excerpt(report: &str, serial: &str) -> String {
    let lines: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|l| l.chars().any(char::is_alphanumeric))
        .collect();
    let serial = serial.to_uppercase();
    let naming: Vec<&str> = lines
        .iter()
        .filter(|l| l.to_uppercase().contains(&serial))
        .copied()
        .collect();
    let devices: Vec<&str> = naming
        .iter()
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == ','))
        .filter(|w| w.starts_with("/dev/"))
        .collect();
    let about: Vec<&str> = lines
        .iter()
        .filter(|l| {
            l.to_uppercase().contains(&serial)
                || devices.iter().any(|d| {
                    l.split(|c: char| c.is_whitespace() || c == ',')
                        .any(|w| w == *d)
                })
        })
        .copied()
        .collect();
    let kept: Vec<&str> = if about.is_empty() {
        lines[lines.len().saturating_sub(REPORT_LINES)..].to_vec()
    } else {
        about.into_iter().take(REPORT_LINES).collect()
    };
    kept.iter()
        .map(|l| {
            if l.chars().count() > 110 {
                l.chars().take(109).collect::<String>() + "…"
            } else {
                (*l).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn render(v: &Certificate) -> Result<Vec<u8>, qrcode::types::QrError> {
    let clock = v.clock;
    let mut doc = Doc::new();
    doc.identity(&v.issuer);
    doc.gap(4.0);
    doc.issued_header("Certificat d'effacement des données", &v.issued)?;
    doc.field("Émis le", &clock.long(v.issued_at, FR));
    doc.rule();
    if let Some((donor, c)) = &v.donor {
        doc.field("Donateur", donor.name);
        if let Some(s) = donor.siret {
            doc.field("SIRET du donateur", &super::spaced_siret(s));
        }
        if let Some(reference) = &c.reference {
            doc.field("Référence de la collecte", reference);
        }
        doc.field("Date d'enlèvement", &clock.date_text(c.pickup_date));
    }
    if let Some(code) = v.device {
        doc.field("Appareil", &filiere_shared::code::LabelCode::readable(code));
    }
    doc.field("Atelier", v.site);
    let erased = v
        .drives
        .iter()
        .filter(|d| matches!(d.done, Sanitised::Erased { .. }))
        .count();
    let destroyed = v.drives.len() - erased;
    doc.field(
        "Supports",
        &format!(
            "{} disque(s) : {erased} effacé(s), {destroyed} détruit(s) ; {} appareil(s) sans disque",
            v.drives.len(),
            v.without_drive.len()
        ),
    );
    doc.gap(2.0);
    doc.text(
        4.0,
        false,
        &format!(
            "{} certifie que les données de chacun des supports de stockage ci-dessous, \
             trouvés dans {}, ont été effacées ou que le \
             support a été détruit, selon les niveaux de la norme NIST SP 800-88 \
             (Clear, Purge, Destroy), et que les appareils listés sans disque n'en \
             contenaient aucun.",
            v.issuer.name,
            if v.device.is_some() {
                "cet appareil"
            } else {
                "les équipements de cette collecte"
            }
        ),
    );
    for d in v.drives {
        doc.rule();
        let what = [d.make.as_deref(), d.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let size = d.size_gb.map(|s| format!(", {s} Go")).unwrap_or_default();
        doc.text(
            4.4,
            true,
            &format!(
                "Disque n° de série {}{}{size}",
                d.serial,
                if what.is_empty() {
                    String::new()
                } else {
                    format!(" — {what}")
                }
            ),
        );
        doc.field("Trouvé dans", &device_text(&d.device));
        match &d.done {
            Sanitised::Erased {
                level,
                technique,
                tool,
                tool_version,
                method,
                passes,
                verified,
                started_at,
                ended_at,
                result,
                report,
            } => {
                doc.field("Niveau NIST", level.name(FR));
                doc.field("Technique", technique.name(FR));
                doc.field(
                    "Outil",
                    &match tool_version {
                        Some(ver) => format!("{tool} {ver}"),
                        None => tool.clone(),
                    },
                );
                if let Some(m) = method {
                    doc.field("Méthode", m);
                }
                if let Some(p) = passes {
                    doc.field("Passes", &p.to_string());
                }
                doc.field(
                    "Vérification",
                    if *verified {
                        "vérifié par l'outil"
                    } else {
                        "non vérifié par l'outil"
                    },
                );
                doc.field(
                    "Début — fin",
                    &format!("{} — {}", clock.short(*started_at), clock.short(*ended_at)),
                );
                doc.field("Résultat", result.name(FR));
                doc.field("Effacé par", &d.by);
                if let Some(r) = report
                    .as_deref()
                    .map(|r| excerpt(r, &d.serial))
                    .filter(|r| !r.is_empty())
                {
                    doc.field("Extrait du rapport", &r);
                }
            }
            Sanitised::Destroyed { method, notes, at } => {
                doc.field("Niveau NIST", NistLevel::Destroy.name(FR));
                doc.field("Méthode", method);
                doc.field("Date", &clock.short(*at));
                doc.field("Détruit par", &d.by);
                if let Some(n) = notes {
                    doc.field("Notes", n);
                }
            }
        }
    }
    if !v.without_drive.is_empty() {
        doc.rule();
        doc.text(4.4, true, "Appareils sans disque");
        for d in v.without_drive {
            doc.text(3.8, false, &device_text(d));
        }
    }
    doc.rule();
    doc.text(
        4.2,
        true,
        &format!(
            "Signé par {} ({}), titulaire du droit « sécurité des données », le {}.",
            v.signer,
            v.signer_role,
            clock.long(v.issued_at, FR)
        ),
    );
    Ok(doc.finish(&format!("Certificat d'effacement {}", v.issued.id)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_excerpt_keeps_the_last_lines_of_a_report_not_naming_the_drive() {
        let report: String = (1..=20).map(|i| format!("line {i}\n\n----\n")).collect();
        let e = super::excerpt(&report, "S3Z9");
        assert_eq!(e.lines().count(), super::REPORT_LINES);
        assert!(e.ends_with("line 20"));
        assert!(e.starts_with("line 13"));
    }

    #[test]
    fn an_excerpt_keeps_what_a_report_says_of_the_drive() {
        let log = include_str!("../../../fixtures/nwipe/nwipe-two-drives.log");
        let e = super::excerpt(log, "S3Z9NB0K123456");
        assert!(e.contains("Found /dev/sda"), "{e}");
        assert!(e.contains("Verified that /dev/sda is erased"), "{e}");
        assert!(e.contains("Erased"), "{e}");
        assert!(!e.contains("sdb"), "{e}");
        assert!(!e.contains("*****"), "{e}");
    }
}
