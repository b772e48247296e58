//! The slip handed to the recycler with a WEEE batch: the batch, its weighed mass,
//! the waste-tracking form's reference, each item with its waste code and weight, the
//! totals per waste code, and room for both signatures.

use super::{Doc, Identity, Issued};
use crate::clock::Clock;
use chrono::{DateTime, Utc};
use filiere_shared::api::WeeeBatchView;
use filiere_shared::names::{Named, kg_text};
use filiere_shared::{Category, Lang};
use std::collections::BTreeMap;

pub struct Line {
    pub code: String,
    pub category: Category,
    pub model: String,
    pub serial: Option<String>,
    pub waste_code: String,
    pub weight_g: Option<i64>,
}

pub struct Slip<'a> {
    pub issuer: Identity<'a>,
    pub issued: Issued<'a>,
    pub recycler: Identity<'a>,
    /// The recycler's WEEE status or approval, as recorded.
    pub recycler_status: Option<&'a str>,
    pub batch: &'a WeeeBatchView,
    pub site: &'a str,
    pub site_address: Option<&'a str>,
    pub lines: &'a [Line],
    pub issued_at: DateTime<Utc>,
    pub issued_by: &'a str,
    pub clock: Clock,
}

const FR: Lang = Lang::Fr;

pub fn render(s: &Slip) -> Result<Vec<u8>, qrcode::types::QrError> {
    let b = s.batch;
    let clock = s.clock;
    let mut doc = Doc::new();
    doc.identity(&s.issuer);
    doc.gap(4.0);
    doc.issued_header("Bon de remise de DEEE", &s.issued)?;
    doc.field("Émis le", &clock.long(s.issued_at, FR));
    doc.rule();
    doc.field("Recycleur", s.recycler.name);
    if let Some(siret) = s.recycler.siret {
        doc.field("SIRET du recycleur", &super::spaced_siret(siret));
    }
    if let Some(a) = s.recycler.address {
        doc.field("Adresse", a);
    }
    if let Some(st) = s.recycler_status {
        doc.field("Statut DEEE", st);
    }
    doc.field("Lot DEEE", &format!("n° {}", b.id));
    let place = match s.site_address {
        Some(a) => format!("{} — {a}", s.site),
        None => s.site.to_owned(),
    };
    doc.field("Remis à l'atelier", &place);
    doc.field("Ouvert le", &clock.day(b.opened_at));
    if let Some(at) = b.closed_at {
        doc.field("Clos le", &clock.day(at));
    }
    doc.field(
        "Remis le",
        &b.handed_over_at
            .map(|at| clock.day(at))
            .unwrap_or_else(|| "à la remise".to_owned()),
    );
    if let Some(g) = b.weight_g {
        doc.field("Masse pesée", &kg_text(g, FR));
    }
    doc.field(
        "Somme des objets",
        &format!(
            "{} objet(s), {} (poids enregistrés)",
            b.item_count,
            kg_text(b.items_weight_g, FR)
        ),
    );
    if let Some(f) = &b.waste_form_ref {
        doc.field("Bordereau de suivi", f);
    }
    if let Some(n) = &b.notes {
        doc.field("Notes", n);
    }
    doc.rule();
    doc.text(5.0, true, "Par code déchet");
    let mut by_code: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
    for l in s.lines {
        let e = by_code.entry(&l.waste_code).or_default();
        e.0 += 1;
        e.1 += l.weight_g.unwrap_or(0);
    }
    for (code, (n, g)) in &by_code {
        doc.field(code, &format!("{n} objet(s), {}", kg_text(*g, FR)));
    }
    doc.rule();
    doc.text(5.0, true, "Objets");
    let rows: Vec<Vec<String>> = s
        .lines
        .iter()
        .map(|l| {
            vec![
                filiere_shared::code::LabelCode::readable(&l.code),
                l.category.name(FR).to_owned(),
                l.model.clone(),
                l.serial.clone().unwrap_or_else(|| "—".into()),
                l.waste_code.clone(),
                l.weight_g
                    .map(|g| kg_text(g, FR))
                    .unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    doc.table(
        &[31.0, 28.0, 39.0, 30.0, 24.0, 22.0],
        &[
            "Étiquette",
            "Catégorie",
            "Objet",
            "N° de série",
            "Code déchet",
            "Poids",
        ],
        &rows,
    );
    doc.gap(6.0);
    doc.text(
        3.6,
        false,
        &format!(
            "Établi par {} pour {}. Les supports de données de ces équipements ont été effacés \
             ou détruits avant la remise.",
            s.issued_by, s.issuer.name
        ),
    );
    doc.gap(6.0);
    doc.text(4.2, true, "Pour l'atelier (nom, date, signature)");
    doc.gap(16.0);
    doc.text(4.2, true, "Pour le recycleur (nom, date, signature)");
    doc.gap(16.0);
    Ok(doc.finish(&format!("Bon de remise DEEE {}", s.issued.id)))
}
