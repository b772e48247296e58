//! The pickup voucher: what the beneficiary brings to the workshop counter (printed or
//! on a phone): where and when, which device, and a QR code of the reservation.

use super::Doc;
use crate::clock::Clock;
use filiere_shared::names::Named;
use filiere_shared::social::{ReservationView, voucher_qr_content};
use filiere_shared::{Lang, ReservationStatus};

pub struct Voucher<'a> {
    pub reservation: &'a ReservationView,
    pub organisation: &'a str,
    /// The session booked with the reservation: when, where.
    pub training: Option<String>,
    pub public_host: Option<&'a str>,
    pub lang: Lang,
    pub clock: Clock,
}

pub fn render(v: &Voucher) -> Result<Vec<u8>, qrcode::types::QrError> {
    let t = |fr: &'static str, en: &'static str| v.lang.pick(fr, en);
    let r = v.reservation;
    let mut doc = Doc::new();
    doc.qr_right(&voucher_qr_content(r.id, v.public_host), 48.0)?;
    doc.text(4.0, false, "Filière");
    doc.text(8.0, true, t("Bon de retrait", "Pickup voucher"));
    doc.text(
        5.0,
        false,
        &format!("{} {}", t("Réservation n°", "Reservation no."), r.id),
    );
    doc.text(
        5.0,
        false,
        &format!("{} {}", t("Bénéficiaire :", "Beneficiary:"), r.reference),
    );
    doc.gap(14.0);
    if r.status != ReservationStatus::Active {
        doc.text(
            5.5,
            true,
            &format!("{} : {}", t("Attention", "Warning"), r.status.as_str()),
        );
    }
    doc.rule();
    doc.text(5.0, true, t("Où et quand", "Where and when"));
    doc.gap(1.0);
    doc.field(
        t("Créneau de retrait", "Pickup slot"),
        &v.clock.long(r.pickup_at, v.lang),
    );
    doc.field(
        t("Réservé jusqu'au", "Held until"),
        &v.clock.long(r.hold_until, v.lang),
    );
    doc.field(t("Atelier", "Workshop"), &r.site.name);
    doc.field(
        t("Adresse", "Address"),
        r.site
            .address
            .as_deref()
            .unwrap_or(t("(non renseignée)", "(not given)")),
    );
    doc.field(
        t("Horaires", "Opening hours"),
        r.site
            .opening_hours
            .as_deref()
            .unwrap_or(t("(non renseignés)", "(not given)")),
    );
    doc.rule();
    doc.text(5.0, true, t("L'ordinateur", "The computer"));
    doc.gap(1.0);
    let i = &r.item;
    doc.field(
        t("Appareil", "Device"),
        &format!(
            "{} {} {}",
            i.category.name(v.lang),
            i.brand.as_deref().unwrap_or(""),
            i.model.as_deref().unwrap_or("")
        ),
    );
    doc.field(t("Étiquette", "Label"), &i.code.hyphenated());
    let mut specs = Vec::new();
    if let Some(c) = &i.specs.cpu {
        specs.push(c.clone());
    }
    if let Some(r) = i.specs.ram_gb {
        specs.push(format!("{r} {} RAM", t("Go", "GB")));
    }
    if let Some(s) = i.specs.storage_gb {
        specs.push(format!(
            "{s} {} {}",
            t("Go", "GB"),
            filiere_shared::names::storage_type_text(i.specs.storage_type.as_deref().unwrap_or(""))
        ));
    }
    if let Some(s) = i.specs.screen_inches {
        specs.push(filiere_shared::names::inches_text(s, v.lang));
    }
    if !specs.is_empty() {
        doc.field(t("Caractéristiques", "Specifications"), &specs.join(" · "));
    }
    if let Some(training) = &v.training {
        doc.rule();
        doc.text(5.0, true, t("Formation", "Training"));
        doc.gap(1.0);
        doc.text(4.2, false, training);
    } else if let Some(reason) = &r.training_refused {
        doc.rule();
        doc.field(
            t("Formation", "Training"),
            &format!("{} ({reason})", t("refusée", "declined")),
        );
    }
    doc.rule();
    doc.text(
        3.8,
        false,
        t(
            "Présentez ce bon (imprimé ou sur votre téléphone) à l'accueil de l'atelier. \
             Passé la date de fin de réservation, l'ordinateur est proposé à d'autres foyers.",
            "Show this voucher (printed or on your phone) at the workshop's counter. \
             After the hold ends, the computer is offered to other households.",
        ),
    );
    doc.text(
        3.8,
        false,
        &format!("{} {}", t("Orienté par", "Referred by"), v.organisation),
    );
    Ok(doc.finish(v.lang.pick("Bon de retrait", "Pickup voucher")))
}
