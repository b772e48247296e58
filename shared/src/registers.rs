//! The waste registers in the column layout of the national waste-tracking service's
//! register import (Trackdéchets, « registre national des déchets » : CSV with `;`,
//! headers in this order, exactly). Filière writes the file; a coordinator uploads it
//! there. Layout as published in MTES-MCT/trackdechets,
//! `libs/back/registry/src/{outgoingWaste,incomingWaste}/constants.ts`, with the values
//! its schemas accept (`libs/back/registry/src/shared/schemas.ts`): dates as
//! `YYYY-MM-DD`, `OUI`/`NON`, weights in tonnes with at most 3 decimals, weight type
//! `REEL` or `ESTIME`, treatment codes written `R 12`. `fixtures/registers/` keeps a
//! sample of each.

use chrono::NaiveDate;

/// The outgoing waste register's columns (« registre des déchets sortants »).
pub const OUTGOING: [&str; 101] = [
    "Motif",
    "Identifiant unique",
    "SIRET du déclarant",
    "SIRET de l'expéditeur ou du détenteur",
    "Référence du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
    "Libellé de l'adresse du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
    "Code postal du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
    "Commune du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
    "Code pays du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
    "Dénomination du déchet",
    "Code déchet",
    "Code déchet Bâle",
    "POP",
    "Dangereux",
    "Date d'expédition",
    "Poids en tonnes",
    "Type de poids",
    "Volume en M3",
    "Type de producteur initial",
    "Numéro d'identification du producteur initial",
    "Raison sociale du producteur initial",
    "Libellé de l'adresse du producteur initial",
    "Code postal du producteur initial",
    "Commune du producteur initial",
    "Code pays du producteur initial",
    "Code(s) INSEE de(s) commune(s)",
    "Type de destinataire",
    "Numéro d'identification du destinataire",
    "Raison sociale du destinataire",
    "Libellé de l'adresse du destinataire",
    "Code postal du destinataire",
    "Commune du destinataire",
    "Code pays du destinataire",
    "Libellé de l'adresse de dépôt du destinataire",
    "Code postal du lieu de dépôt du destinataire",
    "Commune du lieu de dépôt du destinataire",
    "Code pays du lieu de dépôt du destinataire",
    "Numéro de déclaration GISTRID",
    "Numéro de notification GISTRID",
    "Numéro de mouvement",
    "Code de traitement prévu",
    "Mode de traitement prévu",
    "SIRET de l'éco-organisme",
    "Raison sociale de l’éco-organisme ",
    "SIRET du courtier",
    "Raison sociale du courtier",
    "Numéro de récépissé du courtier",
    "SIRET du négociant",
    "Raison sociale du négociant",
    "Numéro de récépissé du négociant",
    "Approvisionnement direct (pipeline, convoyeur)",
    "Mode de transport du transporteur n°1",
    "Type de transporteur n°1",
    "Numéro d'identification du transporteur n°1",
    "Raison sociale du transporteur n°1",
    "Libellé de l'adresse du transporteur n°1",
    "Code postal du transporteur n°1",
    "Commune du transporteur n°1",
    "Code pays du transporteur n°1",
    "Exemption de récépissé du transporteur n°1",
    "Numéro de récépissé du transporteur n°1",
    "Mode de transport du transporteur n°2",
    "Type de transporteur n°2",
    "Numéro d'identification du transporteur n°2",
    "Raison sociale du transporteur n°2",
    "Libellé de l'adresse du transporteur n°2",
    "Code postal du transporteur n°2",
    "Commune du transporteur n°2",
    "Code pays du transporteur n°2",
    "Exemption de récépissé du transporteur n°2",
    "Numéro de récépissé du transporteur n°2",
    "Mode de transport du transporteur n°3",
    "Type de transporteur n°3",
    "Numéro d'identification du transporteur n°3",
    "Raison sociale du transporteur n°3",
    "Libellé de l'adresse du transporteur n°3",
    "Code postal du transporteur n°3",
    "Commune du transporteur n°3",
    "Code pays du transporteur n°3",
    "Exemption de récépissé du transporteur n°3",
    "Numéro de récépissé du transporteur n°3",
    "Mode de transport du transporteur n°4",
    "Type de transporteur n°4",
    "Numéro d'identification du transporteur n°4",
    "Raison sociale du transporteur n°4",
    "Libellé de l'adresse du transporteur n°4",
    "Code postal du transporteur n°4",
    "Commune du transporteur n°4",
    "Code pays du transporteur n°4",
    "Exemption de récépissé du transporteur n°4",
    "Numéro de récépissé du transporteur n°4",
    "Mode de transport du transporteur n°5",
    "Type de transporteur n°5",
    "Numéro d'identification du transporteur n°5",
    "Raison sociale du transporteur n°5",
    "Libellé de l'adresse du transporteur n°5",
    "Code postal du transporteur n°5",
    "Commune du transporteur n°5",
    "Code pays du transporteur n°5",
    "Exemption de récépissé du transporteur n°5",
    "Numéro de récépissé du transporteur n°5",
];

/// The incoming waste register's columns (« registre des déchets entrants »).
pub const INCOMING: [&str; 102] = [
    "Motif",
    "Identifiant unique",
    "SIRET du déclarant",
    "SIRET du destinataire",
    "Dénomination du déchet",
    "Code déchet",
    "Code déchet Bâle",
    "POP",
    "Dangereux",
    "Date de réception",
    "Heure de pesée",
    "Poids en tonnes",
    "Type de poids",
    "Volume en M3",
    "Type de producteur initial",
    "Numéro d'identification du producteur initial",
    "Raison sociale du producteur initial",
    "Libellé de l'adresse du producteur initial",
    "Code postal du producteur initial",
    "Commune du producteur initial",
    "Code pays du producteur initial",
    "Code(s) INSEE de(s) commune(s)",
    "Commune(s)",
    "Type d'expéditeur",
    "Numéro d'identification de l'expéditeur",
    "Raison sociale de l'expéditeur",
    "Libellé de l'adresse de l'expéditeur",
    "Code postal de l'expéditeur",
    "Commune de l'expéditeur",
    "Code pays de l'expéditeur",
    "Référence du chantier ou du lieu de collecte de l'expéditeur",
    "Libellé de l'adresse du chantier ou du lieu de collecte de l'expéditeur",
    "Code postal du chantier ou du lieu de collecte de l'expéditeur",
    "Commune du chantier ou du lieu de collecte de l'expéditeur",
    "Code pays du chantier ou du lieu de collecte de l'expéditeur",
    "SIRET du courtier",
    "Raison sociale du courtier",
    "Numéro de récépissé du courtier",
    "SIRET du négociant",
    "Raison sociale du négociant",
    "Numéro de récépissé du négociant",
    "SIRET de l'éco-organisme",
    "Raison sociale de l'éco-organisme",
    "Code de traitement réalisé",
    "Mode de traitement",
    "Rupture de traçabilité autorisée",
    "Destination ultérieure à l'étranger",
    "Numéro de déclaration GISTRID",
    "Numéro de notification GISTRID",
    "Numéro de mouvement",
    "Code de traitement ultérieur prévu",
    "Approvisionnement direct",
    "Mode de transport du transporteur n°1",
    "Type de transporteur n°1",
    "Numéro d'identification du transporteur n°1",
    "Exemption de récépissé du transporteur n°1",
    "Numéro de récépissé du transporteur n°1",
    "Raison sociale du transporteur n°1",
    "Libellé de l'adresse du transporteur n°1",
    "Code postal du transporteur n°1",
    "Commune du transporteur n°1",
    "Code pays du transporteur n°1",
    "Mode de transport du transporteur n°2",
    "Type de transporteur n°2",
    "Numéro d'identification du transporteur n°2",
    "Exemption de récépissé du transporteur n°2",
    "Numéro de récépissé du transporteur n°2",
    "Raison sociale du transporteur n°2",
    "Libellé de l'adresse du transporteur n°2",
    "Code postal du transporteur n°2",
    "Commune du transporteur n°2",
    "Code pays du transporteur n°2",
    "Mode de transport du transporteur n°3",
    "Type de transporteur n°3",
    "Numéro d'identification du transporteur n°3",
    "Exemption de récépissé du transporteur n°3",
    "Numéro de récépissé du transporteur n°3",
    "Raison sociale du transporteur n°3",
    "Libellé de l'adresse du transporteur n°3",
    "Code postal du transporteur n°3",
    "Commune du transporteur n°3",
    "Code pays du transporteur n°3",
    "Mode de transport du transporteur n°4",
    "Type de transporteur n°4",
    "Numéro d'identification du transporteur n°4",
    "Exemption de récépissé du transporteur n°4",
    "Numéro de récépissé du transporteur n°4",
    "Raison sociale du transporteur n°4",
    "Libellé de l'adresse du transporteur n°4",
    "Code postal du transporteur n°4",
    "Commune du transporteur n°4",
    "Code pays du transporteur n°4",
    "Mode de transport du transporteur n°5",
    "Type de transporteur n°5",
    "Numéro d'identification du transporteur n°5",
    "Exemption de récépissé du transporteur n°5",
    "Numéro de récépissé du transporteur n°5",
    "Raison sociale du transporteur n°5",
    "Libellé de l'adresse du transporteur n°5",
    "Code postal du transporteur n°5",
    "Commune du transporteur n°5",
    "Code pays du transporteur n°5",
];

/// The treatment planned for equipment handed to a WEEE treatment centre: R 12,
/// « échange de déchets en vue de les soumettre à l'une des opérations R 1 à R 11 »
/// (sorting and dismantling before the materials are recovered).
pub const PLANNED_TREATMENT: &str = "R 12";
/// The treatment an association gives the equipment it receives as waste: R 12 too,
/// sorting, with preparation for reuse of what can be.
pub const DONE_TREATMENT: &str = "R 12";

/// An organisation as a register names it: a French establishment by its SIRET.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Party {
    pub siret: Option<String>,
    pub name: String,
    /// As recorded: "12 rue du Repos, 69007 Lyon".
    pub address: Option<String>,
}

/// An address split as the registers want it: the street, the postal code, the town.
pub fn split_address(address: &str) -> (String, String, String) {
    let address = address.trim();
    // The last "NNNNN Town" group, after a comma or not.
    let bytes: Vec<char> = address.chars().collect();
    for i in (0..bytes.len().saturating_sub(4)).rev() {
        let five: String = bytes[i..i + 5].iter().collect();
        let before_ok = i == 0 || !bytes[i - 1].is_ascii_digit();
        let after_ok = bytes.get(i + 5).is_none_or(|c| c.is_whitespace());
        if five.chars().all(|c| c.is_ascii_digit()) && before_ok && after_ok {
            let street: String = bytes[..i].iter().collect();
            let town: String = bytes[i + 5..].iter().collect();
            return (
                street.trim().trim_end_matches(',').trim().to_owned(),
                five,
                town.trim().to_owned(),
            );
        }
    }
    (address.to_owned(), String::new(), String::new())
}

/// Grams as tonnes with 3 decimals, as the registers want them ("0,049").
pub fn tonnes(grams: i64) -> String {
    let kg = (grams + 500) / 1000;
    format!("{},{:03}", kg / 1000, kg % 1000)
}

fn yes_no(b: bool) -> &'static str {
    if b { "OUI" } else { "NON" }
}

/// Whether a waste code is hazardous: it ends with an asterisk.
pub fn dangerous(code: &str) -> bool {
    code.trim_end().ends_with('*')
}

fn party_columns(p: &Party) -> [String; 7] {
    let (street, postal, town) = p.address.as_deref().map(split_address).unwrap_or_default();
    [
        "ETABLISSEMENT_FR".to_owned(),
        p.siret.clone().unwrap_or_default(),
        p.name.clone(),
        street,
        postal,
        town,
        "FR".to_owned(),
    ]
}

/// One line of the outgoing register: a WEEE batch's items of one waste code.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Unique per line: the tracking form's reference where there is one.
    pub id: String,
    /// The workshop's operator, who holds the waste.
    pub holder: Party,
    /// The workshop: its name and address.
    pub site: Party,
    pub description: String,
    pub waste_code: String,
    pub dispatched: NaiveDate,
    pub weight_g: i64,
    pub estimated: bool,
    pub recycler: Party,
}

/// One line of the incoming register: a collection received as waste.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub id: String,
    /// The workshop's operator, who receives the waste.
    pub receiver: Party,
    pub description: String,
    pub waste_code: String,
    pub received: NaiveDate,
    pub weight_g: i64,
    pub estimated: bool,
    /// The donor who gave it, and where it was picked up.
    pub sender: Party,
    pub pickup_reference: Option<String>,
    pub pickup_address: Option<String>,
}

/// The outgoing line in [`OUTGOING`]'s order.
pub fn outgoing_row(l: &Outgoing) -> Vec<String> {
    let mut row = vec![String::new(); OUTGOING.len()];
    let mut set = |header: &str, value: String| {
        if let Some(i) = OUTGOING.iter().position(|h| *h == header) {
            row[i] = value;
        }
    };
    set("Identifiant unique", l.id.clone());
    set(
        "SIRET de l'expéditeur ou du détenteur",
        l.holder.siret.clone().unwrap_or_default(),
    );
    let (street, postal, town) = l
        .site
        .address
        .as_deref()
        .map(split_address)
        .unwrap_or_default();
    set(
        "Référence du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
        l.site.name.clone(),
    );
    set(
        "Libellé de l'adresse du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
        street,
    );
    set(
        "Code postal du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
        postal,
    );
    set(
        "Commune du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
        town,
    );
    set(
        "Code pays du chantier ou du lieu de collecte de l'expéditeur ou du détenteur",
        "FR".into(),
    );
    set("Dénomination du déchet", l.description.clone());
    set("Code déchet", l.waste_code.clone());
    set("POP", yes_no(false).into());
    set("Dangereux", yes_no(dangerous(&l.waste_code)).into());
    set(
        "Date d'expédition",
        l.dispatched.format("%Y-%m-%d").to_string(),
    );
    set("Poids en tonnes", tonnes(l.weight_g));
    set(
        "Type de poids",
        if l.estimated { "ESTIME" } else { "REEL" }.into(),
    );
    let d = party_columns(&l.recycler);
    for (header, value) in [
        "Type de destinataire",
        "Numéro d'identification du destinataire",
        "Raison sociale du destinataire",
        "Libellé de l'adresse du destinataire",
        "Code postal du destinataire",
        "Commune du destinataire",
        "Code pays du destinataire",
    ]
    .into_iter()
    .zip(d)
    {
        set(header, value);
    }
    set("Code de traitement prévu", PLANNED_TREATMENT.into());
    row
}

/// The incoming line in [`INCOMING`]'s order.
pub fn incoming_row(l: &Incoming) -> Vec<String> {
    let mut row = vec![String::new(); INCOMING.len()];
    let mut set = |header: &str, value: String| {
        if let Some(i) = INCOMING.iter().position(|h| *h == header) {
            row[i] = value;
        }
    };
    set("Identifiant unique", l.id.clone());
    set(
        "SIRET du destinataire",
        l.receiver.siret.clone().unwrap_or_default(),
    );
    set("Dénomination du déchet", l.description.clone());
    set("Code déchet", l.waste_code.clone());
    set("POP", yes_no(false).into());
    set("Dangereux", yes_no(dangerous(&l.waste_code)).into());
    set(
        "Date de réception",
        l.received.format("%Y-%m-%d").to_string(),
    );
    set("Poids en tonnes", tonnes(l.weight_g));
    set(
        "Type de poids",
        if l.estimated { "ESTIME" } else { "REEL" }.into(),
    );
    let e = party_columns(&l.sender);
    for (header, value) in [
        "Type d'expéditeur",
        "Numéro d'identification de l'expéditeur",
        "Raison sociale de l'expéditeur",
        "Libellé de l'adresse de l'expéditeur",
        "Code postal de l'expéditeur",
        "Commune de l'expéditeur",
        "Code pays de l'expéditeur",
    ]
    .into_iter()
    .zip(e)
    {
        set(header, value);
    }
    if let Some(r) = &l.pickup_reference {
        set(
            "Référence du chantier ou du lieu de collecte de l'expéditeur",
            r.clone(),
        );
    }
    if let Some(a) = &l.pickup_address {
        let (street, postal, town) = split_address(a);
        set(
            "Libellé de l'adresse du chantier ou du lieu de collecte de l'expéditeur",
            street,
        );
        set(
            "Code postal du chantier ou du lieu de collecte de l'expéditeur",
            postal,
        );
        set(
            "Commune du chantier ou du lieu de collecte de l'expéditeur",
            town,
        );
        set(
            "Code pays du chantier ou du lieu de collecte de l'expéditeur",
            "FR".into(),
        );
    }
    set("Code de traitement réalisé", DONE_TREATMENT.into());
    set("Rupture de traçabilité autorisée", yes_no(false).into());
    set("Destination ultérieure à l'étranger", yes_no(false).into());
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_at_the_postal_code() {
        assert_eq!(
            split_address("12 rue du Repos, 69007 Lyon"),
            ("12 rue du Repos".into(), "69007".into(), "Lyon".into())
        );
        assert_eq!(
            split_address("ZI des Vernes 38320 Eybens"),
            ("ZI des Vernes".into(), "38320".into(), "Eybens".into())
        );
        assert_eq!(
            split_address("Hôtel de ville"),
            ("Hôtel de ville".into(), String::new(), String::new())
        );
        assert_eq!(split_address("10000 Troyes").1, "10000");
    }

    #[test]
    fn weights_in_tonnes_with_three_decimals() {
        assert_eq!(tonnes(48_500), "0,049");
        assert_eq!(tonnes(1_234_567), "1,235");
        assert_eq!(tonnes(0), "0,000");
    }

    #[test]
    fn every_header_is_set_where_it_is_named() {
        let l = Outgoing {
            id: "BSD-1".into(),
            holder: Party {
                siret: Some("82415736200016".into()),
                name: "Atelier".into(),
                address: None,
            },
            site: Party {
                siret: None,
                name: "Atelier de Lyon".into(),
                address: Some("12 rue du Repos, 69007 Lyon".into()),
            },
            description: "DEEE".into(),
            waste_code: "16 02 13*".into(),
            dispatched: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default(),
            weight_g: 48_500,
            estimated: false,
            recycler: Party {
                siret: Some("43917228400028".into()),
                name: "Envie".into(),
                address: Some("3 rue X, 69100 Villeurbanne".into()),
            },
        };
        let row = outgoing_row(&l);
        assert_eq!(row.len(), OUTGOING.len());
        let at = |h: &str| row[OUTGOING.iter().position(|x| *x == h).unwrap_or(0)].clone();
        assert_eq!(at("Dangereux"), "OUI");
        assert_eq!(at("Date d'expédition"), "2026-11-20");
        assert_eq!(at("Commune du destinataire"), "Villeurbanne");
        assert_eq!(at("Code de traitement prévu"), "R 12");
        assert_eq!(at("Motif"), "");
    }
}
