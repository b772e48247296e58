//! A training session's attendance sheet, for the funders: the session, then one line
//! per booked beneficiary (their reference, never a name) with a box to sign or the
//! attendance recorded.

use super::Doc;
use crate::clock::Clock;
use filiere_shared::social::TrainingSessionDetail;
use filiere_shared::{Attendance, BookingStatus, Lang};

pub fn render(d: &TrainingSessionDetail, lang: Lang, clock: Clock) -> Vec<u8> {
    let t = |fr: &'static str, en: &'static str| lang.pick(fr, en);
    let s = &d.session;
    let mut doc = Doc::new();
    doc.text(4.0, false, "Filière");
    doc.text(7.5, true, t("Feuille d'émargement", "Attendance sheet"));
    doc.gap(2.0);
    doc.field(t("Session", "Session"), &format!("n° {}", s.id));
    doc.field(t("Date", "Date"), &clock.long(s.starts_at, lang));
    doc.field(
        t("Durée", "Duration"),
        &format!("{} min", s.duration_minutes),
    );
    doc.field(t("Lieu", "Venue"), &s.venue_name);
    if let Some(a) = &s.venue_address {
        doc.field(t("Adresse", "Address"), a);
    }
    doc.field(t("Formateur ou formatrice", "Trainer"), &s.trainer);
    let topics: Vec<&str> = s.topics.iter().map(|t| t.label.as_str()).collect();
    doc.field(t("Thèmes", "Topics"), &topics.join(" ; "));
    doc.field(
        t("Places", "Seats"),
        &format!("{} / {} {}", s.booked, s.capacity, t("réservées", "booked")),
    );
    doc.gap(4.0);
    let rows: Vec<Vec<String>> = d
        .bookings
        .iter()
        .filter(|b| b.status == BookingStatus::Booked)
        .enumerate()
        .map(|(n, b)| {
            let attendance = match b.attendance {
                Some(Attendance::Attended) => t("présent·e", "attended").to_owned(),
                Some(Attendance::NoShow) => t("absent·e", "no-show").to_owned(),
                None => String::new(),
            };
            vec![
                (n + 1).to_string(),
                b.reference.clone(),
                attendance,
                String::new(),
            ]
        })
        .collect();
    doc.table(
        &[12.0, 60.0, 40.0, 62.0],
        &[
            "#",
            t("Référence", "Reference"),
            t("Présence", "Attendance"),
            t("Signature", "Signature"),
        ],
        &rows,
    );
    doc.gap(6.0);
    doc.text(
        3.6,
        false,
        &format!(
            "{} {} · {} {} · {} {}",
            t("Présents :", "Attended:"),
            s.attended,
            t("absents :", "no-show:"),
            s.no_show,
            t("liste d'attente :", "waiting list:"),
            s.waiting
        ),
    );
    doc.finish(lang.pick("Feuille d'émargement", "Attendance sheet"))
}
