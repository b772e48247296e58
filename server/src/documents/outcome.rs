//! The outcome report a donor receives: what became of each item it gave, by its asset
//! tag (reused, taken apart for parts and where the parts went, recycled in which WEEE
//! batch), with kilograms and the CO2e avoided, and for a public body the share reused
//! against the yearly target of the décret n° 2023-266.

use super::{Doc, Identity, Issued};
use crate::clock::Clock;
use chrono::{DateTime, Utc};
use filiere_shared::api::CollectionView;
use filiere_shared::documents::public_reuse_target;
use filiere_shared::names::{Named, kg_text};
use filiere_shared::{Category, Lang, Outcome};

pub struct Line {
    pub code: String,
    pub category: Category,
    pub model: String,
    pub asset_tag: Option<String>,
    pub outcome: Outcome,
    /// Weighed, else the category's typical weight.
    pub weight_g: i64,
    pub estimated: bool,
    /// For a device reused: the CO2e its longer life avoids.
    pub co2e_g: i64,
    /// Where it went, in words: its parts and their fate, its WEEE batch.
    pub detail: Option<String>,
}

pub struct Report<'a> {
    pub issuer: Identity<'a>,
    pub issued: Issued<'a>,
    pub donor: Identity<'a>,
    pub public_body: bool,
    pub collection: &'a CollectionView,
    pub site: &'a str,
    pub lines: &'a [Line],
    /// The years of life a reused device is counted to gain.
    pub extra_years: i64,
    /// The published sources of the CO2e factors used.
    pub sources: &'a [String],
    pub issued_at: DateTime<Utc>,
    pub issued_by: &'a str,
    pub clock: Clock,
}

const FR: Lang = Lang::Fr;

fn co2e(g: i64) -> String {
    format!(
        "{} kg CO2e",
        filiere_shared::names::int((g + 500) / 1000, FR)
    )
}

pub fn render(r: &Report) -> Result<Vec<u8>, qrcode::types::QrError> {
    let c = r.collection;
    let clock = r.clock;
    let mut doc = Doc::new();
    doc.identity(&r.issuer);
    doc.gap(4.0);
    doc.issued_header("Rapport de devenir des équipements", &r.issued)?;
    doc.field("Établi le", &clock.long(r.issued_at, FR));
    doc.rule();
    let mut donor = r.donor.name.to_owned();
    if r.public_body {
        donor.push_str(" (organisme public)");
    }
    doc.field("Donateur", &donor);
    if let Some(s) = r.donor.siret {
        doc.field("SIRET du donateur", &super::spaced_siret(s));
    }
    if let Some(reference) = &c.reference {
        doc.field("Référence de la collecte", reference);
    }
    doc.field("Date d'enlèvement", &clock.date_text(c.pickup_date));
    doc.field("Atelier", r.site);
    doc.rule();
    doc.text(5.0, true, "En résumé");
    for o in Outcome::ALL {
        let of: Vec<&Line> = r.lines.iter().filter(|l| l.outcome == *o).collect();
        if of.is_empty() {
            continue;
        }
        let kg: i64 = of.iter().map(|l| l.weight_g).sum();
        let mut chars = o.name(FR).chars();
        let name: String = chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        doc.field(
            &name,
            &format!("{} objet(s), {}", of.len(), kg_text(kg, FR)),
        );
    }
    let total = r.lines.len();
    let reused = r
        .lines
        .iter()
        .filter(|l| l.outcome.counts_as_reuse())
        .count();
    let avoided: i64 = r.lines.iter().map(|l| l.co2e_g).sum();
    doc.field(
        "CO2e évité",
        &format!(
            "{} (les appareils réemployés vivent {} an(s) de plus : autant d'appareils neufs \
             qui n'ont pas à être fabriqués)",
            co2e(avoided),
            r.extra_years
        ),
    );
    if let Some(share) = (reused * 100 + total / 2).checked_div(total) {
        doc.field(
            "Part réemployée",
            &format!("{share} % ({reused} sur {total}, pièces détachées comprises)"),
        );
        if r.public_body {
            let year = clock.date(r.issued_at).format("%Y").to_string();
            let target = year.parse().ok().and_then(public_reuse_target);
            if let Some(t) = target {
                doc.field(
                    "Objectif légal",
                    &format!(
                        "{t} % en {year} pour l'État et les collectivités (décret n° 2023-266 \
                         du 12 avril 2023) : {}",
                        if reused * 100 >= t as usize * total {
                            "atteint par ce don"
                        } else {
                            "pas encore atteint par ce don"
                        }
                    ),
                );
            }
        }
    }
    doc.rule();
    doc.text(5.0, true, "Objet par objet");
    let rows: Vec<Vec<String>> = r
        .lines
        .iter()
        .map(|l| {
            vec![
                l.asset_tag.clone().unwrap_or_else(|| "—".into()),
                filiere_shared::code::LabelCode::readable(&l.code),
                if l.model.is_empty() {
                    l.category.name(FR).to_owned()
                } else {
                    l.model.clone()
                },
                l.outcome.name(FR).to_owned(),
                if l.estimated {
                    format!("{}*", kg_text(l.weight_g, FR))
                } else {
                    kg_text(l.weight_g, FR)
                },
                if l.co2e_g > 0 {
                    co2e(l.co2e_g)
                } else {
                    "—".into()
                },
            ]
        })
        .collect();
    doc.table(
        &[28.0, 31.0, 37.0, 38.0, 16.0, 24.0],
        &[
            "Inventaire",
            "Étiquette",
            "Objet",
            "Devenir",
            "Poids",
            "CO2e évité",
        ],
        &rows,
    );
    let details: Vec<&Line> = r.lines.iter().filter(|l| l.detail.is_some()).collect();
    if !details.is_empty() {
        doc.gap(3.0);
        doc.text(5.0, true, "Pièces et recyclage");
        for l in details {
            let who = match &l.asset_tag {
                Some(t) => format!(
                    "{t} ({})",
                    filiere_shared::code::LabelCode::readable(&l.code)
                ),
                None => filiere_shared::code::LabelCode::readable(&l.code),
            };
            doc.field(&who, l.detail.as_deref().unwrap_or_default());
        }
    }
    doc.gap(4.0);
    doc.text(
        3.6,
        false,
        &format!(
            "Rapport établi par {} pour {} d'après le suivi de chaque objet, étiquette par \
             étiquette. Le CO2e évité compte, pour chaque appareil réemployé d'une catégorie \
             qui a un chiffre publié, les émissions évitées par année de vie gagnée{}. Un \
             poids suivi de * est le poids type de la catégorie.",
            r.issued_by,
            r.issuer.name,
            if r.sources.is_empty() {
                String::new()
            } else {
                format!(" (source : {})", r.sources.join(" ; "))
            }
        ),
    );
    Ok(doc.finish(&format!("Rapport de devenir {}", r.issued.id)))
}
