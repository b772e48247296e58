//! The social side of the chain: beneficiaries, the catalogue social workers reserve
//! from, reservations, training sessions and recorded needs. Their API bodies, and the
//! rules the server enforces and the pages explain: when an eligibility proof lapses,
//! the household limit, where a pickup slot may fall, which device fits a need.

use crate::api::{SaleItemView, Specs};
use crate::domain::*;
use crate::ids::*;
use crate::validate::{Check, FieldError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

macro_rules! api_type {
    ($($item:item)*) => {$(
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(ToSchema))]
        $item
    )*};
}

macro_rules! request_type {
    ($($item:item)*) => {$(
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[cfg_attr(feature = "openapi", derive(ToSchema))]
        $item
    )*};
}

/// The consent a beneficiary gives, as shown to them; the text given is stored with
/// the date, so that a later change of wording never rewrites what they agreed to.
pub const CONSENT_TEXT_FR: &str = "J'accepte que l'association enregistre une référence \
    anonyme, la taille de mon foyer et le type et la date de mon justificatif (jamais le \
    document lui-même) pour me réserver un ordinateur et une formation. Ces données sont \
    effacées à ma demande, et au plus tard à la fin de la garantie légale de l'appareil.";
pub const CONSENT_TEXT_EN: &str = "I agree that the association records an anonymous \
    reference, the size of my household and the type and date of my eligibility proof \
    (never the document itself) to reserve a computer and a training session for me. This \
    data is erased on request, and at the latest when the device's legal guarantee ends.";

/// How many years a household waits between two computers, unless a social worker
/// overrides it (saying why).
pub const DEFAULT_HOUSEHOLD_YEARS: u32 = 3;
/// How long a reservation holds a device, unless the region sets otherwise.
pub const DEFAULT_HOLD_DAYS: u32 = 7;

/// The categories a household limit counts: computers, not screens or printers.
pub fn counts_for_household(category: Category) -> bool {
    matches!(
        category,
        Category::Laptop | Category::Desktop | Category::AllInOne | Category::Tablet
    )
}

/// The last day an eligibility proof dated `date` is valid, for a type valid `days`.
pub fn proof_valid_until(date: NaiveDate, days: u32) -> NaiveDate {
    date + Duration::days(i64::from(days))
}

/// Refuses a proof dated in the future, or one that lapsed before `today`.
pub fn check_proof(date: NaiveDate, days: u32, today: NaiveDate) -> Result<(), ProofProblem> {
    if date > today {
        Err(ProofProblem::InFuture)
    } else if proof_valid_until(date, days) < today {
        Err(ProofProblem::Lapsed {
            since: proof_valid_until(date, days),
        })
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofProblem {
    InFuture,
    Lapsed { since: NaiveDate },
}

/// The household limit: a computer reserved or handed over on or after `since` (the
/// start of the period), with no override reason, refuses a new reservation.
pub fn household_limit_since(now: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    now - Duration::days(365 * i64::from(years))
}

/// When a hold made at `now` for `days` ends.
pub fn hold_until(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    now + Duration::days(i64::from(days))
}

/// A pickup slot must fall after `now` and before the hold ends.
pub fn check_pickup(pickup: DateTime<Utc>, now: DateTime<Utc>, until: DateTime<Utc>) -> bool {
    pickup > now && pickup <= until
}

/// What the QR code of a pickup voucher holds: `HTTPS://HOST/R/42` when the public
/// host is known (a phone opens the reservation), else `FILIERE-R-42`. Upper case keeps
/// the QR code in alphanumeric mode.
pub fn voucher_qr_content(reservation: ReservationId, host: Option<&str>) -> String {
    match host.map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => {
            let h = h.to_ascii_uppercase();
            let h = h
                .strip_prefix("HTTPS://")
                .or_else(|| h.strip_prefix("HTTP://"))
                .unwrap_or(&h)
                .trim_end_matches('/')
                .to_owned();
            format!("HTTPS://{h}/R/{reservation}")
        }
        None => format!("FILIERE-R-{reservation}"),
    }
}

/// The reservation a scanned voucher names (either form of [`voucher_qr_content`], any
/// case), or `None`.
pub fn parse_voucher_scan(input: &str) -> Option<ReservationId> {
    let s = input.trim().to_ascii_uppercase();
    let tail = if let Some(rest) = s.strip_prefix("FILIERE-R-") {
        rest
    } else {
        let rest = s
            .strip_prefix("HTTPS://")
            .or_else(|| s.strip_prefix("HTTP://"))?;
        let (_, path) = rest.split_once('/')?;
        path.strip_prefix("R/")?.trim_end_matches('/')
    };
    if tail.is_empty() || tail.len() > 18 || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tail.parse().ok().map(ReservationId)
}

/// What a social worker recorded for a beneficiary when nothing fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NeedSpec {
    pub category: Category,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 7, maximum = 40))]
    pub min_screen_inches: Option<f32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 256))]
    pub min_ram_gb: Option<u32>,
    /// `ssd`, `hdd`, `nvme`, `emmc`… as the workshop writes it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 50, pattern = "$text"))]
    pub storage_type: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000))]
    pub min_storage_gb: Option<u32>,
}

impl NeedSpec {
    /// Whether a device of `category` with `specs` fits this need.
    pub fn fits(&self, category: Category, specs: &Specs) -> bool {
        fn at_least<T: PartialOrd>(min: Option<T>, have: Option<T>) -> bool {
            match (min, have) {
                (None, _) => true,
                (Some(m), Some(h)) => h >= m,
                (Some(_), None) => false,
            }
        }
        let storage_ok = match &self.storage_type {
            None => true,
            Some(t) => specs
                .storage_type
                .as_deref()
                .is_some_and(|s| s.trim().eq_ignore_ascii_case(t.trim())),
        };
        category == self.category
            && at_least(self.min_screen_inches, specs.screen_inches)
            && at_least(self.min_ram_gb, specs.ram_gb)
            && at_least(self.min_storage_gb, specs.storage_gb)
            && storage_ok
    }

    pub fn check(&self) -> Check {
        if self.category.kind() != ItemKind::Device {
            return Err(FieldError::new(
                "category",
                "doit être un appareil (portable, tour, tablette…)",
                "must be a device (laptop, desktop, tablet…)",
            ));
        }
        crate::validate::opt_text("storage_type", self.storage_type.as_deref(), 50)
    }
}

// ---------------------------------------------------------------- beneficiaries

request_type! {
    /// A household referred by the social worker's organisation. Its identity stays
    /// with the organisation: Filière keeps a pseudonymous reference.
    pub struct NewBeneficiary {
        /// Chosen by the organisation (its own file number, say), or generated when
        /// absent. Never a name.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40, pattern = "$required-text"))]
        pub reference: Option<String>,
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 20))]
        pub household_size: u32,
        /// The key of a proof type (`GET /api/v1/proof-types`).
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40, pattern = "$required-text"))]
        pub proof_type: String,
        /// The date on the eligibility proof (never the document).
        pub proof_date: NaiveDate,
        /// The beneficiary agreed to the consent text (`GET /api/v1/proof-types` gives it).
        pub consent: bool,
        /// A phone number or e-mail address for the pickup.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
        pub contact: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "$text"))]
        pub notes: Option<String>,
    }

    /// Fields left out are kept; an empty `contact` or `notes` clears it.
    pub struct UpdateBeneficiary {
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 20))]
        pub household_size: Option<u32>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40, pattern = "$required-text"))]
        pub proof_type: Option<String>,
        #[serde(default)]
        pub proof_date: Option<NaiveDate>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
        pub contact: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "$text"))]
        pub notes: Option<String>,
    }
}

api_type! {
    /// An eligibility proof type and how long it stays valid (data, not code).
    pub struct ProofTypeView {
        pub key: String,
        pub label: String,
        pub valid_days: u32,
    }

    /// The proof types, with the consent text to show the beneficiary.
    pub struct ProofTypes {
        pub proof_types: Vec<ProofTypeView>,
        pub consent_text: String,
    }

    pub struct BeneficiaryView {
        pub id: BeneficiaryId,
        pub reference: String,
        pub organisation: OrgId,
        /// The social worker who referred them.
        pub social_worker: UserId,
        pub social_worker_name: String,
        /// Absent once the beneficiary's data has been erased.
        pub household_size: Option<u32>,
        pub proof_type: Option<String>,
        pub proof_label: Option<String>,
        pub proof_date: Option<NaiveDate>,
        /// The last day the proof is valid.
        pub proof_valid_until: Option<NaiveDate>,
        pub proof_valid: bool,
        pub consent_at: Option<DateTime<Utc>>,
        pub consent_text: Option<String>,
        pub contact: Option<String>,
        pub notes: Option<String>,
        pub created_at: DateTime<Utc>,
        pub erased_at: Option<DateTime<Utc>>,
    }

    /// Everything Filière holds on one beneficiary (a GDPR access request).
    pub struct BeneficiaryExport {
        pub exported_at: DateTime<Utc>,
        pub beneficiary: BeneficiaryView,
        pub reservations: Vec<ReservationView>,
        pub bookings: Vec<BookingView>,
        pub needs: Vec<NeedView>,
    }

    /// What a coordinator sees of beneficiaries: counts per organisation, no identity.
    pub struct BeneficiaryCount {
        pub organisation: OrgId,
        pub organisation_name: String,
        pub beneficiaries: i64,
        pub active_reservations: i64,
        pub open_needs: i64,
    }
}

// ---------------------------------------------------------------- catalogue

/// Query of `GET /api/v1/catalogue`: the region's `ready` devices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CatalogueQuery {
    pub category: Option<Category>,
    /// At least this screen size, in inches. Read in double precision, as the
    /// document's bounds are checked: in single precision 120.00000000000001 would
    /// read as 120 and pass.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 120))]
    pub min_screen: Option<f64>,
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 4096))]
    pub min_ram_gb: Option<u32>,
    #[cfg_attr(feature = "openapi", param(max_length = 50))]
    pub storage_type: Option<String>,
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 1000000))]
    pub min_storage_gb: Option<u32>,
    /// This functional grade or better.
    pub grade: Option<Grade>,
    /// This cosmetic grade or better.
    pub cosmetic_grade: Option<Grade>,
    pub site: Option<SiteId>,
    pub sort: Option<CatalogueSort>,
    /// From 1.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100000))]
    pub page: Option<u32>,
    /// 1 to 100; 20 by default.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub per_page: Option<u32>,
}

api_type! {
    /// A site as social workers and vouchers show it.
    pub struct SitePlace {
        pub id: SiteId,
        pub name: String,
        pub address: Option<String>,
        pub opening_hours: Option<String>,
    }

    pub struct CatalogueEntry {
        pub item: SaleItemView,
        pub site_name: String,
        /// The region's solidarity price for it (absent when none is set).
        pub price_cents: Option<i64>,
    }

    pub struct CataloguePage {
        pub items: Vec<CatalogueEntry>,
        /// Devices matching the filters, all pages, counted up to 1,000.
        pub total: i64,
        /// More than `total` match (the count stops at 1,000).
        pub more: bool,
        pub page: u32,
        pub per_page: u32,
    }

    /// A device's page in the catalogue.
    pub struct CatalogueDevice {
        pub item: SaleItemView,
        pub os_installed: Option<String>,
        /// When its last drive was erased (absent for a device without drives).
        pub erased_at: Option<DateTime<Utc>>,
        pub site: SitePlace,
        /// Present when the device is reserved for or sold to the caller's
        /// organisation's beneficiary.
        pub reservation: Option<ReservationId>,
        /// The region's solidarity price for it (absent when none is set).
        pub price_cents: Option<i64>,
    }
}

// ---------------------------------------------------------------- reservations

request_type! {
    pub struct NewReservation {
        pub item: ItemId,
        pub beneficiary: BeneficiaryId,
        /// When the beneficiary comes for the device; within the hold.
        pub pickup_at: DateTime<Utc>,
        /// Book a seat in this training session with the reservation (the waiting
        /// list when it is full).
        #[serde(default)]
        pub session: Option<TrainingSessionId>,
        /// Why the household limit is overridden, when it is.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500, pattern = "$required-text"))]
        pub override_reason: Option<String>,
    }

    pub struct CancelReservation {
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 500, pattern = "$text"))]
        pub reason: Option<String>,
    }

    /// The beneficiary declines the training session; recorded with their reason.
    pub struct RefuseTraining {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500, pattern = "$required-text"))]
        pub reason: String,
    }
}

/// Query of `GET /api/v1/reservations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ReservationQuery {
    pub status: Option<ReservationStatus>,
    pub beneficiary: Option<BeneficiaryId>,
}

api_type! {
    pub struct ReservationView {
        pub id: ReservationId,
        pub item: SaleItemView,
        pub beneficiary: BeneficiaryId,
        /// The beneficiary's pseudonymous reference.
        pub reference: String,
        pub organisation: OrgId,
        pub social_worker: UserId,
        pub site: SitePlace,
        pub status: ReservationStatus,
        pub hold_until: DateTime<Utc>,
        pub pickup_at: DateTime<Utc>,
        pub override_reason: Option<String>,
        /// The beneficiary declined the training, and why.
        pub training_refused: Option<String>,
        pub booking: Option<BookingView>,
        pub created_at: DateTime<Utc>,
        pub ended_at: Option<DateTime<Utc>>,
        pub end_reason: Option<String>,
    }
}

// ---------------------------------------------------------------- training

request_type! {
    pub struct NewTrainingSession {
        /// An organisation of kind `training_venue` of the region.
        pub venue: OrgId,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$required-text"))]
        pub trainer: String,
        pub starts_at: DateTime<Utc>,
        #[cfg_attr(feature = "openapi", schema(minimum = 15, maximum = 600))]
        pub duration_minutes: u32,
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 200))]
        pub capacity: u32,
        /// Topic keys (`GET /api/v1/training-topics`).
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20))]
        pub topics: Vec<String>,
    }

    pub struct NewBooking {
        pub session: TrainingSessionId,
        pub beneficiary: BeneficiaryId,
        #[serde(default)]
        pub reservation: Option<ReservationId>,
    }

    pub struct AttendanceLine {
        pub booking: BookingId,
        pub attendance: Attendance,
    }

    pub struct RecordAttendance {
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 200))]
        pub lines: Vec<AttendanceLine>,
    }
}

/// Query of `GET /api/v1/training-sessions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SessionQuery {
    /// Only sessions that have not started yet (default), or only past ones.
    pub past: Option<bool>,
}

api_type! {
    pub struct TopicView {
        pub key: String,
        pub label: String,
    }

    pub struct TrainingSessionView {
        pub id: TrainingSessionId,
        pub region: RegionId,
        pub venue: OrgId,
        pub venue_name: String,
        pub venue_address: Option<String>,
        pub trainer: String,
        pub starts_at: DateTime<Utc>,
        pub duration_minutes: u32,
        pub capacity: u32,
        pub topics: Vec<TopicView>,
        pub booked: i64,
        pub waiting: i64,
        pub free_seats: i64,
        pub attended: i64,
        pub no_show: i64,
    }

    pub struct BookingView {
        pub id: BookingId,
        pub session: TrainingSessionId,
        pub session_starts_at: DateTime<Utc>,
        pub venue_name: String,
        pub beneficiary: BeneficiaryId,
        /// The beneficiary's reference: shown to their organisation and to the
        /// session's coordinator (for the attendance sheet), never a name.
        pub reference: String,
        pub reservation: Option<ReservationId>,
        pub status: BookingStatus,
        /// On the waiting list: their place (1 is next).
        pub waiting_position: Option<i64>,
        pub attendance: Option<Attendance>,
        pub created_at: DateTime<Utc>,
    }

    /// A session with its bookings (coordinators; a social worker sees their own
    /// organisation's bookings only).
    pub struct TrainingSessionDetail {
        pub session: TrainingSessionView,
        pub bookings: Vec<BookingView>,
    }
}

// ---------------------------------------------------------------- needs

request_type! {
    pub struct NewNeed {
        pub beneficiary: BeneficiaryId,
        pub category: Category,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 7, maximum = 40))]
        pub min_screen_inches: Option<f32>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 256))]
        pub min_ram_gb: Option<u32>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 50, pattern = "$text"))]
        pub storage_type: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000))]
        pub min_storage_gb: Option<u32>,
    }
}

impl NewNeed {
    pub fn spec(&self) -> NeedSpec {
        NeedSpec {
            category: self.category,
            min_screen_inches: self.min_screen_inches,
            min_ram_gb: self.min_ram_gb,
            storage_type: self
                .storage_type
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            min_storage_gb: self.min_storage_gb,
        }
    }
}

api_type! {
    pub struct NeedView {
        pub id: NeedId,
        pub beneficiary: BeneficiaryId,
        pub reference: String,
        pub spec: NeedSpec,
        pub created_at: DateTime<Utc>,
        pub closed_at: Option<DateTime<Utc>>,
        /// Ready devices of the region that fit it now (a few, newest first).
        pub fitting: Vec<CatalogueEntry>,
    }

    /// Open needs of a region per category (coordinators: counts only).
    pub struct NeedCount {
        pub category: Category,
        pub needs: i64,
        pub ready_devices: i64,
    }
}

// ---------------------------------------------------------------- regions and sites

request_type! {
    /// A region's reservation settings (its coordinator or an admin).
    pub struct UpdateRegion {
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 60))]
        pub hold_days: u32,
    }

    /// A site's address and opening hours, shown to social workers and on vouchers.
    pub struct UpdateSite {
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 300, pattern = "$text"))]
        pub address: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 300, pattern = "$text"))]
        pub opening_hours: Option<String>,
        /// The organisation (kind `operator`) that sells at its counter; unchanged
        /// when absent.
        #[serde(default)]
        pub organisation: Option<OrgId>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_proof_is_valid_for_its_days_then_lapses() {
        let date = d("2026-09-01");
        assert_eq!(proof_valid_until(date, 90), d("2026-11-30"));
        assert_eq!(check_proof(date, 90, d("2026-11-30")), Ok(()));
        assert_eq!(
            check_proof(date, 90, d("2026-12-01")),
            Err(ProofProblem::Lapsed {
                since: d("2026-11-30")
            })
        );
        assert_eq!(
            check_proof(d("2026-12-02"), 90, d("2026-12-01")),
            Err(ProofProblem::InFuture)
        );
    }

    #[test]
    fn a_need_fits_devices_that_meet_every_minimum() {
        let need = NeedSpec {
            category: Category::Laptop,
            min_screen_inches: Some(14.0),
            min_ram_gb: Some(8),
            storage_type: Some("ssd".into()),
            min_storage_gb: None,
        };
        let mut specs = Specs {
            screen_inches: Some(14.0),
            ram_gb: Some(8),
            storage_type: Some("SSD".into()),
            ..Specs::default()
        };
        assert!(need.fits(Category::Laptop, &specs));
        assert!(!need.fits(Category::Desktop, &specs));
        specs.ram_gb = Some(4);
        assert!(!need.fits(Category::Laptop, &specs));
        specs.ram_gb = None;
        assert!(
            !need.fits(Category::Laptop, &specs),
            "unknown RAM does not fit"
        );
    }

    #[test]
    fn a_voucher_scan_gives_back_its_reservation() {
        let with_host = voucher_qr_content(ReservationId(42), Some("https://filiere.example.org/"));
        assert_eq!(with_host, "HTTPS://FILIERE.EXAMPLE.ORG/R/42");
        assert_eq!(parse_voucher_scan(&with_host), Some(ReservationId(42)));
        assert_eq!(
            parse_voucher_scan("https://filiere.example.org/r/42/"),
            Some(ReservationId(42))
        );
        let bare = voucher_qr_content(ReservationId(7), None);
        assert_eq!(parse_voucher_scan(&bare), Some(ReservationId(7)));
        assert_eq!(parse_voucher_scan("HTTPS://X/I/7K3M9QX8"), None);
        assert_eq!(parse_voucher_scan("FILIERE-R-"), None);
        assert_eq!(parse_voucher_scan("FILIERE-R-1x"), None);
    }

    #[test]
    fn screens_and_printers_do_not_count_for_the_household_limit() {
        assert!(counts_for_household(Category::Laptop));
        assert!(!counts_for_household(Category::Monitor));
        assert!(!counts_for_household(Category::Printer));
    }
}
