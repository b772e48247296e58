//! The attestation a beneficiary receives for a training session attended: the
//! session (date, venue, trainer), its hours and topics. Filière keeps no names: the
//! beneficiary is named by their organisation's reference, with a line for the name
//! that the social worker writes by hand.

use super::{Doc, Identity, Issued};
use crate::clock::Clock;
use chrono::{DateTime, Utc};
use filiere_shared::Lang;
use filiere_shared::social::TrainingSessionView;

pub struct Attestation<'a> {
    pub issuer: Identity<'a>,
    pub issued: Issued<'a>,
    pub session: &'a TrainingSessionView,
    /// The beneficiary's reference at their organisation.
    pub reference: &'a str,
    /// The organisation that follows them.
    pub organisation: &'a str,
    pub issued_at: DateTime<Utc>,
    pub issued_by: &'a str,
    pub clock: Clock,
}

const FR: Lang = Lang::Fr;

pub fn render(a: &Attestation) -> Result<Vec<u8>, qrcode::types::QrError> {
    let s = a.session;
    let mut doc = Doc::new();
    doc.identity(&a.issuer);
    doc.gap(4.0);
    doc.issued_header("Attestation de formation", &a.issued)?;
    doc.field("Émise le", &a.clock.long(a.issued_at, FR));
    doc.rule();
    doc.gap(2.0);
    doc.text(
        4.4,
        false,
        &format!(
            "{} atteste que la personne suivie par {} sous la référence {} a participé à la \
             session de formation au numérique décrite ci-dessous.",
            a.issuer.name, a.organisation, a.reference
        ),
    );
    doc.gap(4.0);
    doc.field("Nom et prénom", "_______________________________________");
    doc.gap(4.0);
    doc.rule();
    doc.field("Session", &a.clock.long(s.starts_at, FR));
    doc.field(
        "Durée",
        &filiere_shared::names::hours(i64::from(s.duration_minutes), FR),
    );
    let place = match &s.venue_address {
        Some(addr) => format!("{} — {addr}", s.venue_name),
        None => s.venue_name.clone(),
    };
    doc.field("Lieu", &place);
    doc.field("Formateur ou formatrice", &s.trainer);
    let topics: Vec<String> = s.topics.iter().map(|t| t.label.clone()).collect();
    doc.field(
        "Thèmes",
        &if topics.is_empty() {
            "—".to_owned()
        } else {
            topics.join(" ; ")
        },
    );
    doc.rule();
    doc.gap(2.0);
    doc.text(
        3.6,
        false,
        &format!(
            "Présence enregistrée sur la feuille d'émargement de la session. Attestation \
             établie par {} ; le nom est écrit à la main par la personne qui la remet, \
             Filière ne conservant pas l'identité des bénéficiaires.",
            a.issued_by
        ),
    );
    doc.gap(8.0);
    doc.text(4.2, true, "Cachet et signature");
    doc.gap(16.0);
    Ok(doc.finish(&format!("Attestation de formation {}", a.issued.id)))
}
