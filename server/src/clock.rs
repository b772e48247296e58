//! Times as people read them: in the association's time zone (Europe/Paris unless set
//! otherwise), in French or English; and the `datetime-local` fields of the web forms.

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use filiere_shared::Lang;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub tz: Tz,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            tz: chrono_tz::Europe::Paris,
        }
    }
}

const DAYS_FR: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const DAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
pub const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
pub const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Clock {
    pub fn parse_zone(name: &str) -> Option<Clock> {
        name.parse::<Tz>().ok().map(|tz| Clock { tz })
    }

    /// "jeudi 3 décembre 2026 à 14 h 00" / "Thursday 3 December 2026 at 14:00".
    pub fn long(&self, t: DateTime<Utc>, lang: Lang) -> String {
        let l = t.with_timezone(&self.tz);
        let wd = l.weekday().num_days_from_monday() as usize;
        let m = l.month0() as usize;
        match lang {
            Lang::Fr => format!(
                "{} {} {} {} à {} h {:02}",
                DAYS_FR[wd],
                l.day(),
                MONTHS_FR[m],
                l.year(),
                l.hour(),
                l.minute()
            ),
            Lang::En => format!(
                "{} {} {} {} at {}:{:02}",
                DAYS_EN[wd],
                l.day(),
                MONTHS_EN[m],
                l.year(),
                l.hour(),
                l.minute()
            ),
        }
    }

    /// "03/12/2026 14:00".
    pub fn short(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz)
            .format("%d/%m/%Y %H:%M")
            .to_string()
    }

    /// "03/12/2026".
    pub fn day(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%d/%m/%Y").to_string()
    }

    /// The value of a `datetime-local` field: "2026-12-03T14:00".
    pub fn input(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// The association's date at `t`.
    pub fn date(&self, t: DateTime<Utc>) -> chrono::NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The first instant of `day` in the association's time zone.
    pub fn day_start(&self, day: chrono::NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        self.tz
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| midnight.and_utc())
    }

    /// "26/11/2026" for a date.
    pub fn date_text(&self, d: chrono::NaiveDate) -> String {
        d.format("%d/%m/%Y").to_string()
    }

    /// A `datetime-local` field's value, read in the association's time zone.
    pub fn parse_input(&self, s: &str) -> Option<DateTime<Utc>> {
        let s = s.trim();
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
            .ok()?;
        self.tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_paris_in_both_languages() {
        let c = Clock::default();
        let t = Utc.with_ymd_and_hms(2026, 12, 3, 13, 0, 0).unwrap();
        assert_eq!(c.long(t, Lang::Fr), "jeudi 3 décembre 2026 à 14 h 00");
        assert_eq!(c.long(t, Lang::En), "Thursday 3 December 2026 at 14:00");
        assert_eq!(c.input(t), "2026-12-03T14:00");
        assert_eq!(c.parse_input("2026-12-03T14:00"), Some(t));
        assert_eq!(c.parse_input("demain"), None);
    }
}
