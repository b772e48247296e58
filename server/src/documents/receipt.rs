//! The collection receipt handed to a donor: what was declared and what reached the
//! workshop, item by item (label, asset tag, serial), weights weighed or estimated,
//! the lot's legal status and waste code.

use super::{Doc, Identity, Issued};
use crate::clock::Clock;
use chrono::{DateTime, Utc};
use filiere_shared::api::CollectionView;
use filiere_shared::names::{Named, kg_text};
use filiere_shared::{Category, CollectionStatus, Lang, LegalStatus};

/// One item of the collection as the receipt lists it.
pub struct Line {
    pub code: String,
    pub category: Category,
    pub model: String,
    pub serial: Option<String>,
    pub asset_tag: Option<String>,
    pub weight_g: Option<i64>,
    pub estimated: bool,
    pub received: bool,
}

pub struct Receipt<'a> {
    pub issuer: Identity<'a>,
    pub issued: Issued<'a>,
    pub donor: Identity<'a>,
    pub collection: &'a CollectionView,
    pub site: &'a str,
    pub lines: &'a [Line],
    pub issued_at: DateTime<Utc>,
    pub issued_by: &'a str,
    pub clock: Clock,
}

const FR: Lang = Lang::Fr;

pub fn render(r: &Receipt) -> Result<Vec<u8>, qrcode::types::QrError> {
    let c = r.collection;
    let mut doc = Doc::new();
    doc.identity(&r.issuer);
    doc.gap(4.0);
    doc.issued_header("Reçu de collecte", &r.issued)?;
    doc.field("Émis le", &r.clock.long(r.issued_at, FR));
    doc.rule();
    let mut donor = r.donor.name.to_owned();
    if c.donor_public_body {
        donor.push_str(" (organisme public)");
    }
    doc.field("Donateur", &donor);
    if let Some(s) = r.donor.siret {
        doc.field("SIRET du donateur", &super::spaced_siret(s));
    }
    if let Some(a) = r.donor.address {
        doc.field("Adresse", a);
    }
    if let Some(reference) = &c.reference {
        doc.field("Référence de la collecte", reference);
    }
    doc.field("Date d'enlèvement", &r.clock.date_text(c.pickup_date));
    if let Some(a) = &c.pickup_address {
        doc.field("Lieu d'enlèvement", a);
    }
    doc.field("Atelier de réception", r.site);
    doc.field("Statut du lot", c.legal_status.name(FR));
    if let Some(w) = &c.waste_code {
        doc.field("Code déchet", w);
    }
    doc.field(
        "Collecte",
        &match (c.status, c.closed_at) {
            (CollectionStatus::Closed, Some(at)) => format!("close le {}", r.clock.day(at)),
            _ => "en cours de réception".to_owned(),
        },
    );
    doc.rule();
    doc.text(5.0, true, "Quantités");
    doc.field("Annoncés", &format!("{} appareil(s)", c.declared_count));
    if let Some(g) = c.declared_weight_g {
        doc.field("Poids annoncé", &kg_text(g, FR));
    }
    doc.field(
        "Reçus à l'atelier",
        &format!("{} objet(s)", c.received_count),
    );
    let at_donor = c.registered_count - c.received_count;
    if at_donor > 0 {
        doc.field("Pas encore reçus", &format!("{at_donor} objet(s)"));
    }
    if let Some(m) = c.missing_count {
        let weight = c
            .missing_weight_g
            .map(|g| format!(", {}", kg_text(g, FR)))
            .unwrap_or_default();
        doc.field("Manquants à la clôture", &format!("{m} objet(s){weight}"));
    }
    let received = r.lines.iter().filter(|l| l.received);
    let (mut weighed, mut weighed_n, mut estimated, mut estimated_n) = (0, 0, 0, 0);
    for l in received {
        match (l.weight_g, l.estimated) {
            (Some(g), false) => {
                weighed += g;
                weighed_n += 1;
            }
            (Some(g), true) => {
                estimated += g;
                estimated_n += 1;
            }
            (None, _) => {}
        }
    }
    doc.field(
        "Poids reçu, pesé",
        &format!("{} ({weighed_n} objet(s))", kg_text(weighed, FR)),
    );
    if estimated_n > 0 {
        doc.field(
            "Poids reçu, estimé",
            &format!("{} ({estimated_n} objet(s))", kg_text(estimated, FR)),
        );
    }
    doc.rule();
    doc.text(5.0, true, "Objets");
    let rows: Vec<Vec<String>> = r
        .lines
        .iter()
        .map(|l| {
            // The model says what it is; the category where no model was noted.
            let what = if l.model.is_empty() {
                l.category.name(FR).to_owned()
            } else {
                l.model.clone()
            };
            vec![
                filiere_shared::code::LabelCode::readable(&l.code),
                what,
                l.serial.clone().unwrap_or_else(|| "—".into()),
                l.asset_tag.clone().unwrap_or_else(|| "—".into()),
                match l.weight_g {
                    Some(g) if l.estimated => format!("{} (est.)", kg_text(g, FR)),
                    Some(g) => kg_text(g, FR),
                    None => "—".into(),
                },
                if l.received { "oui" } else { "non" }.to_owned(),
            ]
        })
        .collect();
    if rows.is_empty() {
        doc.text(4.0, false, "Aucun objet enregistré pour l'instant.");
    } else {
        doc.table(
            &[31.0, 45.0, 30.0, 30.0, 24.0, 14.0],
            &[
                "Étiquette",
                "Objet",
                "N° de série",
                "N° d'inventaire",
                "Poids",
                "Reçu",
            ],
            &rows,
        );
    }
    doc.gap(4.0);
    doc.text(
        3.6,
        false,
        match c.legal_status {
            LegalStatus::Reuse => {
                "Lot remis en vue du réemploi : les équipements ne sont pas des déchets \
                 (article L541-1-1 du code de l'environnement). Ceux qui ne pourront être \
                 réemployés, même en pièces, seront confiés à une filière agréée de \
                 traitement des DEEE ; le rapport de devenir en rendra compte."
            }
            LegalStatus::Waste => {
                "Lot remis comme déchets d'équipements électriques et électroniques (DEEE) : \
                 il est inscrit au registre des déchets entrants de l'atelier."
            }
        },
    );
    let mut by = format!("Reçu établi par {} pour {}.", r.issued_by, r.issuer.name);
    if r.lines.iter().any(|l| l.estimated && l.weight_g.is_some()) {
        by.push_str(
            " Les poids suivis de « est. » sont estimés d'après le poids type de la catégorie.",
        );
    }
    doc.text(3.6, false, &by);
    Ok(doc.finish(&format!("Reçu de collecte {}", r.issued.id)))
}
