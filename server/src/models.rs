//! Rows as diesel reads and writes them. Timestamps are UTC `NaiveDateTime`, set from
//! Rust and truncated to microseconds, so that both backends store the same value.

use crate::schema::*;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;

/// Now, truncated to microseconds (PostgreSQL's resolution).
pub fn now() -> NaiveDateTime {
    truncate(Utc::now())
}

pub fn truncate(t: DateTime<Utc>) -> NaiveDateTime {
    let t = t.naive_utc();
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.with_nanosecond(micros).unwrap_or(t)
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

#[derive(Debug, Clone, Queryable)]
pub struct RegionRow {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub created_at: NaiveDateTime,
    pub hold_days: i32,
}

#[derive(Insertable)]
#[diesel(table_name = regions)]
pub struct NewRegionRow<'a> {
    pub name: &'a str,
    pub code: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct SiteRow {
    pub id: i64,
    pub region_id: i64,
    pub name: String,
    pub kind: String,
    pub address: Option<String>,
    pub created_at: NaiveDateTime,
    pub opening_hours: Option<String>,
    /// The organisation that runs the site and sells at its counter.
    pub organisation_id: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = sites)]
pub struct NewSiteRow<'a> {
    pub region_id: i64,
    pub name: &'a str,
    pub kind: &'a str,
    pub address: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub opening_hours: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable)]
pub struct OrganisationRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub siret: Option<String>,
    pub public_body: bool,
    pub region_id: Option<i64>,
    pub address: Option<String>,
    pub weee_status: Option<String>,
    pub contact: Option<String>,
    pub created_at: NaiveDateTime,
    pub vat_scheme: String,
}

#[derive(Insertable)]
#[diesel(table_name = organisations)]
pub struct NewOrganisationRow<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub siret: Option<String>,
    pub public_body: bool,
    pub region_id: Option<i64>,
    pub address: Option<&'a str>,
    pub weee_status: Option<&'a str>,
    pub contact: Option<&'a str>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub badge_hash: Option<String>,
    pub site_id: Option<i64>,
    pub region_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub language: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub setup_token_hash: Option<String>,
    pub setup_expires_at: Option<NaiveDateTime>,
    pub data_security: bool,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub password_hash: Option<String>,
    pub badge_hash: Option<String>,
    pub site_id: Option<i64>,
    pub region_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub language: &'a str,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct BenchRow {
    pub id: i64,
    pub site_id: i64,
    pub name: String,
    pub token_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = benches)]
pub struct NewBenchRow<'a> {
    pub site_id: i64,
    pub name: &'a str,
    pub token_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSessionRow {
    pub token_hash: String,
    pub user_id: i64,
    pub bench_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct CollectionRow {
    pub id: i64,
    pub donor_id: i64,
    pub site_id: i64,
    pub pickup_date: NaiveDate,
    pub pickup_address: Option<String>,
    pub declared_count: i32,
    pub declared_weight_g: Option<i64>,
    pub legal_status: String,
    pub waste_code: Option<String>,
    pub reference: Option<String>,
    pub notes: Option<String>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub status: String,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<i64>,
    pub missing_count: Option<i32>,
    pub missing_weight_g: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = collections)]
pub struct NewCollectionRow<'a> {
    pub donor_id: i64,
    pub site_id: i64,
    pub pickup_date: NaiveDate,
    pub pickup_address: Option<&'a str>,
    pub declared_count: i32,
    pub declared_weight_g: Option<i64>,
    pub legal_status: &'a str,
    pub waste_code: Option<String>,
    pub reference: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct LabelBatchRow {
    pub id: i64,
    pub site_id: i64,
    pub bench_id: Option<i64>,
    pub count: i32,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = label_batches)]
pub struct NewLabelBatchRow {
    pub site_id: i64,
    pub bench_id: Option<i64>,
    pub count: i32,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct LabelCodeRow {
    pub code: String,
    pub batch_id: i64,
    pub item_id: Option<i64>,
    pub claimed_at: Option<NaiveDateTime>,
    pub print_count: i32,
    pub last_printed_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = label_codes)]
pub struct NewLabelCodeRow {
    pub code: String,
    pub batch_id: i64,
    pub item_id: Option<i64>,
    pub claimed_at: Option<NaiveDateTime>,
    pub print_count: i32,
    pub last_printed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable)]
pub struct WeeeBatchRow {
    pub id: i64,
    pub site_id: i64,
    pub recycler_id: i64,
    pub status: String,
    pub weight_g: Option<i64>,
    pub waste_form_ref: Option<String>,
    pub notes: Option<String>,
    pub opened_by: i64,
    pub opened_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub handed_over_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = weee_batches)]
pub struct NewWeeeBatchRow<'a> {
    pub site_id: i64,
    pub recycler_id: i64,
    pub status: &'a str,
    pub notes: Option<&'a str>,
    pub opened_by: i64,
    pub opened_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct ItemRow {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub category: String,
    pub state: String,
    pub version: i64,
    pub site_id: i64,
    pub parent_id: Option<i64>,
    pub origin_id: Option<i64>,
    pub collection_id: Option<i64>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub serial_norm: Option<String>,
    pub asset_tag: Option<String>,
    pub asset_tag_norm: Option<String>,
    pub specs: String,
    pub weight_g: Option<i64>,
    pub weight_estimated: bool,
    pub functional_grade: Option<String>,
    pub cosmetic_grade: Option<String>,
    pub weee_batch_id: Option<i64>,
    pub lifecycle: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// What the stock counters group a part by (`filiere_shared::dashboards::spec_key`).
    pub spec_key: Option<String>,
    /// What the item waits for ('' for nothing), for the aging dashboard.
    pub blocker: Option<String>,
    /// Since when it is in its state (kept by the database).
    pub state_since: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = items)]
pub struct NewItemRow {
    pub code: String,
    pub kind: String,
    pub category: String,
    pub state: String,
    pub version: i64,
    pub site_id: i64,
    pub parent_id: Option<i64>,
    pub origin_id: Option<i64>,
    pub collection_id: Option<i64>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub serial_norm: Option<String>,
    pub asset_tag: Option<String>,
    pub asset_tag_norm: Option<String>,
    pub specs: String,
    pub weight_g: Option<i64>,
    pub weight_estimated: bool,
    pub functional_grade: Option<String>,
    pub cosmetic_grade: Option<String>,
    pub weee_batch_id: Option<i64>,
    pub lifecycle: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub spec_key: Option<String>,
    pub blocker: Option<String>,
    pub state_since: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable)]
pub struct EventRow {
    pub id: i64,
    pub item_id: i64,
    pub event_type: String,
    pub payload: String,
    pub actor_id: Option<i64>,
    pub bench_id: Option<i64>,
    pub site_id: i64,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub version: i64,
    pub key_owner: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub response: Option<String>,
    /// The dashboards' flow it counts in ('' none).
    pub flow: Option<String>,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = item_events)]
pub struct NewEventRow {
    pub item_id: i64,
    pub event_type: String,
    pub payload: String,
    pub actor_id: Option<i64>,
    pub bench_id: Option<i64>,
    pub site_id: i64,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub version: i64,
    pub key_owner: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub response: Option<String>,
    pub flow: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = drives)]
pub struct NewDriveRow {
    pub item_id: i64,
    pub serial: String,
    pub serial_norm: String,
    pub make: Option<String>,
    pub model: Option<String>,
    pub size_gb: Option<i32>,
    pub bus: Option<String>,
    pub media: Option<String>,
    pub event_id: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = erasure_records)]
pub struct NewErasureRow {
    pub event_id: i64,
    pub item_id: i64,
    pub drive_serial: String,
    pub level: String,
    pub technique: String,
    pub tool: String,
    pub tool_version: Option<String>,
    pub method: Option<String>,
    pub passes: Option<i32>,
    pub verified: bool,
    pub started_at: NaiveDateTime,
    pub ended_at: NaiveDateTime,
    pub result: String,
    pub report: Option<String>,
    pub operator_id: Option<i64>,
    pub bench_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = qa_reports)]
pub struct NewQaReportRow {
    pub event_id: i64,
    pub item_id: i64,
    pub passed: bool,
    pub functional_grade: Option<String>,
    pub cosmetic_grade: Option<String>,
    pub os_installed: Option<String>,
    pub checks: String,
    pub notes: Option<String>,
    pub tester_id: Option<i64>,
    pub bench_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = printers)]
pub struct PrinterRow {
    pub id: i64,
    pub site_id: i64,
    pub bench_id: Option<i64>,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub dpi: Option<i32>,
    pub media: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = printers)]
pub struct NewPrinterRow {
    pub site_id: i64,
    pub bench_id: Option<i64>,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub dpi: Option<i32>,
    pub media: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

// ---------------------------------------------------------------- social side

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = beneficiaries)]
pub struct BeneficiaryRow {
    pub id: i64,
    pub organisation_id: i64,
    pub social_worker_id: i64,
    pub reference: String,
    pub household_size: Option<i32>,
    pub proof_type: Option<String>,
    pub proof_date: Option<chrono::NaiveDate>,
    pub consent_at: Option<NaiveDateTime>,
    pub consent_text: Option<String>,
    pub contact: Option<String>,
    pub notes: Option<String>,
    pub created_at: NaiveDateTime,
    pub erased_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = beneficiaries)]
pub struct NewBeneficiaryRow {
    pub organisation_id: i64,
    pub social_worker_id: i64,
    pub reference: String,
    pub household_size: Option<i32>,
    pub proof_type: Option<String>,
    pub proof_date: Option<chrono::NaiveDate>,
    pub consent_at: Option<NaiveDateTime>,
    pub consent_text: Option<String>,
    pub contact: Option<String>,
    pub notes: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = catalogue)]
pub struct CatalogueRow {
    pub item_id: i64,
    pub region_id: i64,
    pub site_id: i64,
    pub category: String,
    /// 0 when not known.
    pub screen_tenths: i32,
    pub ram_gb: i32,
    pub storage_type: Option<String>,
    pub storage_gb: i32,
    pub functional_grade: Option<String>,
    pub cosmetic_grade: Option<String>,
    pub ready_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = training_sessions)]
pub struct TrainingSessionRow {
    pub id: i64,
    pub region_id: i64,
    pub venue_id: i64,
    pub trainer: String,
    pub starts_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub capacity: i32,
    pub topics: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = training_sessions)]
pub struct NewTrainingSessionRow {
    pub region_id: i64,
    pub venue_id: i64,
    pub trainer: String,
    pub starts_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub capacity: i32,
    pub topics: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reservations)]
pub struct ReservationRow {
    pub id: i64,
    pub item_id: i64,
    pub beneficiary_id: i64,
    pub organisation_id: i64,
    pub social_worker_id: i64,
    pub region_id: i64,
    pub site_id: i64,
    pub category: String,
    pub status: String,
    pub hold_until: NaiveDateTime,
    pub pickup_at: NaiveDateTime,
    pub override_reason: Option<String>,
    pub training_refused: Option<String>,
    pub created_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub end_reason: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = reservations)]
pub struct NewReservationRow {
    pub item_id: i64,
    pub beneficiary_id: i64,
    pub organisation_id: i64,
    pub social_worker_id: i64,
    pub region_id: i64,
    pub site_id: i64,
    pub category: String,
    pub status: String,
    pub hold_until: NaiveDateTime,
    pub pickup_at: NaiveDateTime,
    pub override_reason: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = training_bookings)]
pub struct BookingRow {
    pub id: i64,
    pub session_id: i64,
    pub beneficiary_id: i64,
    pub organisation_id: i64,
    pub reservation_id: Option<i64>,
    pub status: String,
    pub attendance: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = training_bookings)]
pub struct NewBookingRow {
    pub session_id: i64,
    pub beneficiary_id: i64,
    pub organisation_id: i64,
    pub reservation_id: Option<i64>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = needs)]
pub struct NeedRow {
    pub id: i64,
    pub beneficiary_id: i64,
    pub organisation_id: i64,
    pub region_id: i64,
    pub category: String,
    pub min_screen_tenths: Option<i32>,
    pub min_ram_gb: Option<i32>,
    pub storage_type: Option<String>,
    pub min_storage_gb: Option<i32>,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = needs)]
pub struct NewNeedRow {
    pub beneficiary_id: i64,
    pub organisation_id: i64,
    pub region_id: i64,
    pub category: String,
    pub min_screen_tenths: Option<i32>,
    pub min_ram_gb: Option<i32>,
    pub storage_type: Option<String>,
    pub min_storage_gb: Option<i32>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = price_rules)]
pub struct PriceRuleRow {
    pub id: i64,
    pub region_id: i64,
    pub category: String,
    /// `""`: every grade.
    pub grade: String,
    pub price_cents: i64,
    pub public_body_price_cents: Option<i64>,
    pub updated_by: i64,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = price_rules)]
pub struct NewPriceRuleRow {
    pub region_id: i64,
    pub category: String,
    pub grade: String,
    pub price_cents: i64,
    pub public_body_price_cents: Option<i64>,
    pub updated_by: i64,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sales)]
pub struct SaleRow {
    pub id: i64,
    pub kind: String,
    pub number: String,
    pub year: i32,
    pub seq: i64,
    pub seller_id: i64,
    pub site_id: i64,
    pub region_id: i64,
    pub reservation_id: Option<i64>,
    pub beneficiary_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub partner_id: Option<i64>,
    pub buyer: String,
    pub reason: Option<String>,
    pub credits_id: Option<i64>,
    pub total_cents: i64,
    pub vat_scheme: String,
    pub sold_by: i64,
    pub sold_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = sales)]
pub struct NewSaleRow {
    pub kind: String,
    pub number: String,
    pub year: i32,
    pub seq: i64,
    pub seller_id: i64,
    pub site_id: i64,
    pub region_id: i64,
    pub reservation_id: Option<i64>,
    pub beneficiary_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub partner_id: Option<i64>,
    pub buyer: String,
    pub reason: Option<String>,
    pub credits_id: Option<i64>,
    pub total_cents: i64,
    pub vat_scheme: String,
    pub sold_by: i64,
    pub sold_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sale_lines)]
pub struct SaleLineRow {
    pub id: i64,
    pub sale_id: i64,
    pub position: i32,
    pub item_id: i64,
    pub code: String,
    pub category: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub price_cents: i64,
    pub public_body: bool,
    pub guarantee_until: Option<NaiveDate>,
    pub status: String,
}

#[derive(Insertable)]
#[diesel(table_name = sale_lines)]
pub struct NewSaleLineRow {
    pub sale_id: i64,
    pub position: i32,
    pub item_id: i64,
    pub code: String,
    pub category: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub price_cents: i64,
    pub public_body: bool,
    pub guarantee_until: Option<NaiveDate>,
    pub status: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub sale_id: i64,
    pub method: String,
    pub amount_cents: i64,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = after_sales)]
pub struct AfterSalesRow {
    pub id: i64,
    pub sale_id: i64,
    pub line_id: i64,
    pub item_id: i64,
    pub reason: String,
    pub opened_by: i64,
    pub opened_at: NaiveDateTime,
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
    pub settled_by: Option<i64>,
    pub settled_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub credit_note_id: Option<i64>,
    pub replacement_sale_id: Option<i64>,
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = donor_offers)]
pub struct DonorOfferRow {
    pub id: i64,
    pub region_id: i64,
    pub organisation_name: String,
    pub siret: String,
    pub public_body: bool,
    pub contact_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub address: String,
    pub availability: String,
    pub laptops: i32,
    pub desktops: i32,
    pub monitors: i32,
    pub others: i32,
    pub notes: Option<String>,
    pub client_hash: String,
    pub form_nonce: String,
    pub status: String,
    pub collection_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub decline_reason: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = donor_offers)]
pub struct NewDonorOfferRow<'a> {
    pub region_id: i64,
    pub organisation_name: &'a str,
    pub siret: &'a str,
    pub public_body: bool,
    pub contact_name: &'a str,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    pub address: &'a str,
    pub availability: &'a str,
    pub laptops: i32,
    pub desktops: i32,
    pub monitors: i32,
    pub others: i32,
    pub notes: Option<&'a str>,
    pub client_hash: &'a str,
    pub form_nonce: &'a str,
    pub created_at: NaiveDateTime,
}

/// An issued document's record, without its file.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = issued_documents)]
pub struct IssuedDocumentRow {
    pub id: i64,
    pub public_id: String,
    pub kind: String,
    pub subject: String,
    pub title: String,
    pub issuer_id: Option<i64>,
    pub issuer_name: String,
    pub site_id: Option<i64>,
    pub region_id: i64,
    pub organisation_id: Option<i64>,
    pub issued_by: i64,
    pub signed: bool,
    pub issued_at: NaiveDateTime,
    pub sha256: String,
}

#[derive(Insertable)]
#[diesel(table_name = issued_documents)]
pub struct NewIssuedDocumentRow<'a> {
    pub public_id: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub title: &'a str,
    pub issuer_id: Option<i64>,
    pub issuer_name: &'a str,
    pub site_id: Option<i64>,
    pub region_id: i64,
    pub organisation_id: Option<i64>,
    pub issued_by: i64,
    pub signed: bool,
    pub issued_at: NaiveDateTime,
    pub sha256: &'a str,
    pub pdf: &'a [u8],
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = asset_imports)]
pub struct AssetImportRow {
    pub id: i64,
    pub collection_id: i64,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub file_sha256: String,
    pub total: i32,
    pub done: i32,
    pub already: i32,
    pub status: String,
    pub label_batch_id: Option<i64>,
    pub lines: String,
    pub error: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = asset_imports)]
pub struct NewAssetImportRow<'a> {
    pub collection_id: i64,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub file_sha256: &'a str,
    pub total: i32,
    pub done: i32,
    pub already: i32,
    pub status: &'a str,
    pub label_batch_id: Option<i64>,
    pub lines: &'a str,
}
