//! The funder's report: a period's impact for a region, a site or the whole network,
//! in French, with each figure's method and its factors' sources and dates.

use super::Doc;
use filiere_shared::Lang;
use filiere_shared::dashboards::ImpactView;
use filiere_shared::names::{self, Named};

/// Grams as kilograms (or tonnes past ten), as a French reader reads them.
/// A mass as [`names::mass`] writes it in French, with plain spaces.
fn mass(grams: i64) -> String {
    names::mass(grams, Lang::Fr).replace('\u{a0}', " ")
}

/// A whole number as [`names::int`] writes it in French, with plain spaces.
fn thousands(n: i64) -> String {
    names::int(n, Lang::Fr).replace('\u{a0}', " ")
}

fn month_name(d: chrono::NaiveDate, lang: Lang) -> String {
    use crate::clock::{MONTHS_EN, MONTHS_FR};
    use chrono::Datelike;
    let i = d.month0() as usize;
    format!("{} {}", lang.pick(MONTHS_FR[i], MONTHS_EN[i]), d.year())
}

/// A period of months as people read it: "de janvier 2026 à décembre 2026".
pub fn period_text(v: &ImpactView, lang: Lang) -> String {
    if v.from == v.to {
        month_name(v.from, lang)
    } else {
        format!(
            "{} {} {} {}",
            lang.pick("de", "from"),
            month_name(v.from, lang),
            lang.pick("à", "to"),
            month_name(v.to, lang)
        )
    }
}

pub struct Report<'a> {
    pub impact: &'a ImpactView,
    /// What the report covers: a region's name, a site's, or the whole network.
    pub scope: &'a str,
    /// "de janvier 2026 à décembre 2026".
    pub period: &'a str,
    /// The day it is issued, as people read it.
    pub issued: &'a str,
}

pub fn render(r: &Report) -> Vec<u8> {
    let v = r.impact;
    let mut doc = Doc::new();
    doc.text(4.0, false, "Filière — réemploi solidaire de l'informatique");
    doc.text(7.5, true, "Rapport d'impact");
    doc.text(5.0, false, &format!("{} — {}", r.scope, r.period));
    doc.gap(2.0);
    doc.field("Établi le", r.issued);
    doc.gap(2.0);
    doc.rule();
    doc.gap(2.0);
    doc.field("Appareils réemployés", &thousands(v.reused));
    doc.field(
        "Évités aux déchets",
        &format!(
            "{} (dont estimés : {})",
            mass(v.kept_g),
            mass(v.kept_estimated_g)
        ),
    );
    doc.field(
        "CO2e évité",
        &format!(
            "{} CO2e, pour {} ans d'usage en plus",
            mass(v.co2e_avoided_g),
            v.extra_years
        ),
    );
    doc.field("Foyers équipés", &thousands(v.households));
    doc.field(
        "Formation donnée",
        &names::hours(v.training_minutes, Lang::Fr).replace('\u{a0}', " "),
    );
    doc.gap(4.0);
    doc.text(5.0, true, "Par catégorie");
    doc.gap(1.0);
    let rows: Vec<Vec<String>> = v
        .lines
        .iter()
        .map(|l| {
            let kept = l.weighed_g + l.estimated_g + l.unweighed * l.estimated_weight_g;
            let estimated = l.estimated_g + l.unweighed * l.estimated_weight_g;
            vec![
                l.category.name(Lang::Fr).to_owned(),
                thousands(l.reused),
                mass(kept),
                mass(estimated),
                l.avoided_g_per_year
                    .map(|g| format!("{} / an", mass(g)))
                    .unwrap_or_else(|| "aucun".into()),
                mass(l.co2e_avoided_g),
            ]
        })
        .collect();
    doc.table(
        &[38.0, 24.0, 26.0, 26.0, 30.0, 30.0],
        &[
            "Catégorie",
            "Réemployés",
            "Masse",
            "dont estimée",
            "Facteur CO2e",
            "CO2e évité",
        ],
        &rows,
    );
    doc.gap(4.0);
    doc.text(5.0, true, "Comment ces chiffres sont calculés");
    doc.gap(1.0);
    for p in [
        "Appareils réemployés : appareils vendus sur la période, moins ceux repris après vente (échange ou remboursement).".to_owned(),
        "Masse évitée aux déchets : la masse de ces appareils, pesée à l'atelier ; sinon estimée par le technicien ; sinon la masse moyenne de leur catégorie. Les masses estimées sont comptées à part.".to_owned(),
        format!(
            "CO2e évité = appareils réemployés x émissions évitées par année d'usage en plus pour leur catégorie x {} ans d'usage en plus supposés. Une catégorie sans facteur publié ne compte pas de CO2e. L'empreinte de fabrication d'un appareil neuf n'est jamais ajoutée.",
            v.extra_years
        ),
        "Foyers équipés : bénéficiaires dont le premier achat tombe dans la période.".to_owned(),
        "Formation donnée : durée des séances tenues sur la période où au moins une personne est venue.".to_owned(),
    ] {
        doc.text(3.6, false, &format!("- {p}"));
        doc.gap(0.8);
    }
    doc.gap(3.0);
    doc.text(5.0, true, "Sources des facteurs");
    doc.gap(1.0);
    for l in &v.lines {
        let mut sources: Vec<String> = Vec::new();
        if let Some(s) = &l.avoided_source {
            sources.push(format!(
                "émissions évitées {} / an : {s}",
                mass(l.avoided_g_per_year.unwrap_or(0))
            ));
        }
        if let Some(s) = &l.manufacturing_source {
            sources.push(format!(
                "fabrication d'un neuf {} (pour information) : {s}",
                mass(l.manufacturing_g.unwrap_or(0))
            ));
        }
        sources.push(format!(
            "masse moyenne {} : {}",
            mass(l.estimated_weight_g),
            l.weight_source
        ));
        doc.text(
            3.6,
            false,
            &format!(
                "- {} ({}) : {}",
                l.category.name(Lang::Fr),
                l.source_date.format("%d/%m/%Y"),
                sources.join(" ; ")
            ),
        );
        doc.gap(0.8);
    }
    doc.finish("Rapport d'impact")
}
