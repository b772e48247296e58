//! The HTTP API's request and response bodies (`/api/v1`), shared by the server and the
//! bench app. Requests refuse unknown fields, so a typo is an error, not a silent no-op.

use crate::code::LabelCode;
use crate::domain::*;
use crate::error::Lang;
use crate::ids::*;
use crate::lifecycle::{DriveFact, DriveSpec, ErasureData, EventPayload, QaData, QaSummary};
use chrono::{DateTime, NaiveDate, Utc};
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

// ---------------------------------------------------------------- authentication

request_type! {
    /// Web users log in with a password.
    pub struct LoginRequest {
        pub username: String,
        pub password: String,
    }

    /// A technician at a bench logs in by scanning their badge; the bench proves
    /// itself with its token.
    pub struct BadgeLoginRequest {
        pub bench_token: String,
        pub badge: String,
    }
}

api_type! {
    pub struct SessionResponse {
        /// Bearer token for the `Authorization` header. Shown once; stored hashed.
        pub token: String,
        pub expires_at: DateTime<Utc>,
        pub user: UserView,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bench: Option<BenchView>,
    }

    pub struct UserView {
        pub id: UserId,
        pub username: String,
        pub display_name: String,
        pub role: Role,
        pub site: Option<SiteId>,
        pub region: Option<RegionId>,
        pub organisation: Option<OrgId>,
        pub language: Lang,
        pub active: bool,
        /// Whether a badge is set (the badge itself is never shown again).
        pub has_badge: bool,
        /// Whether a password is set (a new user sets it from their one-time link).
        #[serde(default)]
        pub has_password: bool,
        /// The data-security right: signs erasure certificates (technicians and
        /// coordinators only).
        #[serde(default)]
        pub data_security: bool,
    }
}

// ---------------------------------------------------------------- administration

request_type! {
    pub struct NewRegion {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$required-text"))]
        pub name: String,
        /// Short code, such as `ARA` or `IDF`.
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 10, pattern = "$required-text"))]
        pub code: String,
    }

    pub struct NewSite {
        pub region: RegionId,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$required-text"))]
        pub name: String,
        pub kind: SiteKind,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 300, pattern = "$text"))]
        pub address: Option<String>,
        /// Shown to social workers and on pickup vouchers ("Mon–Fri 9:00–17:00").
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 300, pattern = "$text"))]
        pub opening_hours: Option<String>,
        /// The organisation (kind `operator`) that runs the site and sells at its counter.
        #[serde(default)]
        pub organisation: Option<OrgId>,
    }

    pub struct NewOrganisation {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200, pattern = "$required-text"))]
        pub name: String,
        pub kind: OrgKind,
        #[serde(default)]
        pub siret: Option<String>,
        #[serde(default)]
        pub public_body: bool,
        #[serde(default)]
        pub region: Option<RegionId>,
        #[serde(default)]
        pub address: Option<String>,
        /// For recyclers: their WEEE collector / treatment status and permit.
        #[serde(default)]
        pub weee_status: Option<String>,
        #[serde(default)]
        pub contact: Option<String>,
        /// For a seller: the VAT rule its invoices state (`franchise` when absent).
        #[serde(default)]
        pub vat_scheme: Option<VatScheme>,
    }

    pub struct NewUser {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 50, pattern = "$required-text"))]
        pub username: String,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$required-text"))]
        pub display_name: String,
        pub role: Role,
        /// At least 10 characters; technicians who only use a badge may have none.
        #[serde(default)]
        pub password: Option<String>,
        /// The badge code (`FB…`) a technician scans to sign in at a bench.
        #[serde(default)]
        pub badge: Option<String>,
        /// Technicians: their site.
        #[serde(default)]
        pub site: Option<SiteId>,
        /// Coordinators: their region.
        #[serde(default)]
        pub region: Option<RegionId>,
        /// Social workers: their organisation (a social partner).
        #[serde(default)]
        pub organisation: Option<OrgId>,
        #[serde(default)]
        pub language: Lang,
    }

    pub struct UpdateUser {
        #[serde(default)]
        pub active: Option<bool>,
        #[serde(default)]
        pub language: Option<Lang>,
        #[serde(default)]
        pub password: Option<String>,
        #[serde(default)]
        pub badge: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$required-text"))]
        pub display_name: Option<String>,
        /// Gives or takes back the data-security right (technicians and coordinators).
        #[serde(default)]
        pub data_security: Option<bool>,
    }

    /// Changes an organisation; an absent field stays as it is, an empty text clears
    /// it.
    pub struct UpdateOrganisation {
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200, pattern = "$required-text"))]
        pub name: Option<String>,
        #[serde(default)]
        pub siret: Option<String>,
        #[serde(default)]
        pub public_body: Option<bool>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 300, pattern = "$text"))]
        pub address: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 300, pattern = "$text"))]
        pub contact: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 300, pattern = "$text"))]
        pub weee_status: Option<String>,
    }

    /// Anyone changes their own password with their current one.
    pub struct ChangePassword {
        pub current: String,
        /// 10 to 200 characters.
        pub new: String,
    }

    /// A new user sets their password from the one-time link an admin passed on.
    pub struct SetPassword {
        pub token: String,
        /// 10 to 200 characters.
        pub password: String,
    }

    pub struct NewBench {
        pub site: SiteId,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$required-text"))]
        pub name: String,
    }
}

api_type! {
    pub struct RegionView {
        pub id: RegionId,
        pub name: String,
        pub code: String,
        /// How many days a reservation holds a device.
        pub hold_days: u32,
    }

    pub struct SiteView {
        pub id: SiteId,
        pub region: RegionId,
        pub name: String,
        pub kind: SiteKind,
        pub address: Option<String>,
        pub opening_hours: Option<String>,
        /// The organisation that sells at its counter.
        pub organisation: Option<OrgId>,
    }

    pub struct OrganisationView {
        pub id: OrgId,
        pub name: String,
        pub kind: OrgKind,
        pub siret: Option<String>,
        pub public_body: bool,
        pub region: Option<RegionId>,
        pub address: Option<String>,
        pub weee_status: Option<String>,
        pub contact: Option<String>,
        pub vat_scheme: VatScheme,
    }

    pub struct BenchView {
        pub id: BenchId,
        pub site: SiteId,
        pub name: String,
        pub active: bool,
    }

    /// A one-time link for a user to set their own password (no mail is sent: the
    /// admin passes it on). A new link replaces the previous one.
    pub struct SetupLink {
        pub user: UserId,
        pub url: String,
        pub expires_at: DateTime<Utc>,
    }

    pub struct NewBenchResponse {
        pub bench: BenchView,
        /// The bench token, shown once: configure it in the bench app.
        pub token: String,
    }
}

// ---------------------------------------------------------------- collections

request_type! {
    pub struct NewCollection {
        pub donor: OrgId,
        /// The workshop that receives the lot.
        pub site: SiteId,
        pub pickup_date: NaiveDate,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 300, pattern = "$text"))]
        pub pickup_address: Option<String>,
        /// How many items the donor's list declares.
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000))]
        pub declared_count: i32,
        /// Total weight declared or weighed at pickup, in grams.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000000))]
        pub declared_weight_g: Option<i64>,
        pub legal_status: LegalStatus,
        /// Required for waste: `16 02 14`, `20 01 36`, `16 02 13*`…
        #[serde(default)]
        pub waste_code: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
        pub reference: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "$text"))]
        pub notes: Option<String>,
    }
}

api_type! {
    pub struct CollectionView {
        pub id: CollectionId,
        pub donor: OrgId,
        pub donor_name: String,
        pub donor_public_body: bool,
        pub site: SiteId,
        pub pickup_date: NaiveDate,
        pub pickup_address: Option<String>,
        pub legal_status: LegalStatus,
        pub waste_code: Option<String>,
        pub reference: Option<String>,
        pub notes: Option<String>,
        pub declared_count: i32,
        pub declared_weight_g: Option<i64>,
        /// Items registered on this collection.
        pub registered_count: i64,
        /// Items checked in at the workshop (not still `collected`).
        pub received_count: i64,
        /// Sum of the received items' weights (items still at the donor's not counted).
        pub received_weight_g: i64,
        /// How many of those weights were estimated rather than weighed.
        pub estimated_weight_count: i64,
        pub status: CollectionStatus,
        /// Recorded at closing: declared but never received (declared = received +
        /// missing).
        pub missing_count: Option<i32>,
        /// Recorded at closing when a weight was declared: declared weight less the
        /// received weight, never below zero.
        pub missing_weight_g: Option<i64>,
        pub closed_at: Option<DateTime<Utc>>,
        pub created_at: DateTime<Utc>,
    }
}

request_type! {
    /// Closes a collection: what was declared and never received is recorded as
    /// missing, and nothing more can be registered on it.
    pub struct CloseCollection {
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "$text"))]
        pub notes: Option<String>,
    }
}

// ---------------------------------------------------------------- labels

request_type! {
    pub struct NewLabelBatch {
        pub site: SiteId,
        /// 1 to 10,000 codes.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
        pub count: i32,
        /// A bench's own block, to label parts while offline.
        #[serde(default)]
        pub bench: Option<BenchId>,
    }
}

api_type! {
    pub struct LabelBatchView {
        pub id: LabelBatchId,
        pub site: SiteId,
        pub bench: Option<BenchId>,
        pub count: i32,
        pub unclaimed: i64,
        pub created_at: DateTime<Utc>,
        /// The codes, in allocation order (on creation, and for the unclaimed list).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub codes: Vec<LabelCode>,
    }
}

/// Which labels to render or print.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LabelSource {
    /// Every code of a label batch.
    Batch(LabelBatchId),
    /// Codes as scanned or typed (bare, hyphenated or label URLs).
    Codes(Vec<String>),
    /// Registered items (their current code).
    Items(Vec<ItemId>),
    /// One registered item.
    Item(ItemId),
}

/// Documented by hand: each way of naming labels is an object with exactly one key.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for LabelSource {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Ref, Type,
        };
        use utoipa::openapi::{RefOr, schema::Schema};
        let one = |key: &str, what: &str, schema: RefOr<Schema>| {
            ObjectBuilder::new()
                .description(Some(what))
                .property(key, schema)
                .required(key)
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        let many = crate::label::MAX_LABELS;
        let ids = |name: &str| {
            ArrayBuilder::new()
                .items(Ref::from_schema_name(name))
                .min_items(Some(1))
                .max_items(Some(many))
                .build()
        };
        let codes = ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String))
            .min_items(Some(1))
            .max_items(Some(many))
            .build();
        OneOfBuilder::new()
            .description(Some("Which labels to render or print."))
            .item(one(
                "batch",
                "Every code of a label batch.",
                Ref::from_schema_name("LabelBatchId").into(),
            ))
            .item(one(
                "codes",
                "Codes as scanned or typed (bare, hyphenated or label URLs).",
                codes.into(),
            ))
            .item(one(
                "items",
                "Registered items (their current code).",
                ids("ItemId").into(),
            ))
            .item(one(
                "item",
                "One registered item.",
                Ref::from_schema_name("ItemId").into(),
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl ToSchema for LabelSource {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("LabelBatchId".into(), LabelBatchId::schema()));
        schemas.push(("ItemId".into(), ItemId::schema()));
    }
}

/// Output format of rendered labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum LabelFormat {
    /// A4 sheets (Avery L7160, L7163, L7651).
    Pdf,
    /// One label.
    Svg,
    /// One label, at `dpi`.
    Png,
    /// Zebra printers, one format per label.
    Zpl,
}

/// A printer's technology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum PrinterKind {
    /// A Zebra (or compatible) printer on the network: ZPL on raw TCP (port 9100).
    Zpl,
    /// A CUPS queue, fed PDF sheets through `lp`.
    Cups,
}

impl PrinterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrinterKind::Zpl => "zpl",
            PrinterKind::Cups => "cups",
        }
    }
}

request_type! {
    /// Render labels. PDF sheets take `sheet` and `start_slot`; ZPL, PNG and SVG take
    /// `media` (`50x25` or `38x25`, or a sheet's label size); ZPL and PNG take `dpi`.
    pub struct LabelRequest {
        pub source: LabelSource,
        /// A built-in template (`intake`, `part`, `sale`) or one of the site's own.
        #[serde(default = "default_template")]
        pub template: String,
        pub format: LabelFormat,
        #[serde(default)]
        pub sheet: Option<crate::label::SheetKind>,
        /// First free position on the first sheet (1 = top left), to reuse a partly
        /// used sheet.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 65))] // label::MAX_START_SLOT
        pub start_slot: Option<u32>,
        #[serde(default)]
        pub media: Option<String>,
        #[serde(default)]
        pub dpi: Option<u32>,
        /// Printed language (default: the caller's).
        #[serde(default)]
        pub lang: Option<Lang>,
        /// A preview is not counted as a print.
        #[serde(default)]
        pub preview: bool,
    }

    /// Print labels on a configured printer: ZPL printers get ZPL at their resolution
    /// and media, CUPS queues get PDF sheets.
    pub struct PrintRequest {
        pub printer: PrinterId,
        pub source: LabelSource,
        #[serde(default = "default_template")]
        pub template: String,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 65))] // label::MAX_START_SLOT
        pub start_slot: Option<u32>,
        #[serde(default)]
        pub lang: Option<Lang>,
    }

    pub struct NewPrinter {
        pub site: SiteId,
        /// A bench's own printer; none for the site's shared printers.
        #[serde(default)]
        pub bench: Option<BenchId>,
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$required-text"))]
        pub name: String,
        pub kind: PrinterKind,
        /// `host:port` (port 9100 when omitted) for ZPL; the queue name for CUPS.
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200, pattern = "$required-text"))]
        pub address: String,
        /// ZPL: 203 or 300.
        #[serde(default)]
        pub dpi: Option<u32>,
        /// ZPL: the label roll, `50x25` or `38x25`; CUPS: the sheet, `L7160`, `L7163`
        /// or `L7651`.
        pub media: String,
    }

    pub struct NewLabelTemplate {
        pub site: SiteId,
        pub template: crate::label::Template,
    }
}

fn default_template() -> String {
    "intake".to_owned()
}

api_type! {
    pub struct PrinterView {
        pub id: PrinterId,
        pub site: SiteId,
        pub bench: Option<BenchId>,
        pub name: String,
        pub kind: PrinterKind,
        pub address: String,
        pub dpi: Option<u32>,
        pub media: String,
        pub active: bool,
    }

    pub struct LabelTemplateView {
        pub name: String,
        /// None for the built-in templates, which every site has.
        pub site: Option<SiteId>,
        pub template: crate::label::Template,
    }

    /// What a print sent.
    pub struct PrintResult {
        pub printer: PrinterId,
        pub labels: u32,
        pub bytes: u64,
        /// Blank codes that had been printed before: make sure the old labels are
        /// not stuck on another machine.
        pub reprinted: Vec<LabelCode>,
        /// The CUPS job, when printed through CUPS.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub job: Option<String>,
    }
}

// ---------------------------------------------------------------- items

/// Technical specifications. All optional; what is known is filled.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Specs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 4096))]
    pub ram_gb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000))]
    pub storage_gb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 50, pattern = "$text"))]
    pub storage_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 120))]
    pub screen_inches: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
    pub gpu: Option<String>,
    /// A part's key figure, such as "8 GB DDR4" or "65 W".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
    pub part_spec: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1970, maximum = 2100))]
    pub year: Option<u16>,
}

request_type! {
    /// Register an item by claiming an unclaimed label code.
    pub struct RegisterItem {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$key"))]
        pub idempotency_key: String,
        pub code: String,
        pub category: Category,
        /// The site where it is registered; defaults to the technician's site or the
        /// collection's site.
        #[serde(default)]
        pub site: Option<SiteId>,
        #[serde(default)]
        pub collection: Option<CollectionId>,
        /// `true` (default): checked in at the workshop now (`received`, or `in_stock`
        /// for a part); `false`: labelled at the donor's, still `collected`.
        #[serde(default = "yes")]
        pub at_workshop: bool,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
        pub brand: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 200, pattern = "$text"))]
        pub model: Option<String>,
        /// Manufacturer serial number.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
        pub serial: Option<String>,
        /// The donor's asset tag.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
        pub asset_tag: Option<String>,
        #[serde(default)]
        pub specs: Specs,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 500000))]
        pub weight_g: Option<i64>,
        /// `true` when the weight is estimated from the category, not weighed.
        #[serde(default)]
        pub weight_estimated: bool,
        /// Drives found at intake, with their serials.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_items = 64))]
        pub drives: Vec<DriveSpec>,
        /// The device has no drive at all.
        #[serde(default)]
        pub no_drive: bool,
        /// When it happened, by the bench's clock.
        #[serde(default)]
        pub occurred_at: Option<DateTime<Utc>>,
    }
}

fn yes() -> bool {
    true
}

/// A lifecycle step asked for by a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum Command {
    /// A `collected` item arrives at the workshop of the caller (or `site`).
    Receive {
        #[serde(default)]
        site: Option<SiteId>,
    },
    Triage {
        route: Route,
    },
    DeclareDrives {
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 64))]
        drives: Vec<DriveSpec>,
    },
    DeclareNoDrive,
    EraseDrive {
        #[cfg_attr(
            feature = "openapi",
            schema(min_length = 1, max_length = 100, pattern = "$required-text")
        )]
        serial: String,
        #[serde(flatten)]
        erasure: ErasureData,
    },
    DestroyDrive {
        #[cfg_attr(
            feature = "openapi",
            schema(min_length = 1, max_length = 100, pattern = "$required-text")
        )]
        serial: String,
        /// Shredding, crushing, degaussing, drilling…
        #[cfg_attr(
            feature = "openapi",
            schema(min_length = 1, max_length = 200, pattern = "$required-text")
        )]
        method: String,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "$text"))]
        notes: Option<String>,
    },
    /// Take a part out of a device and label it with an unclaimed code.
    HarvestPart {
        code: String,
        category: Category,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
        brand: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 200, pattern = "$text"))]
        model: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
        serial: Option<String>,
        #[serde(default)]
        specs: Specs,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 500000))]
        weight_g: Option<i64>,
        /// For a drive: the serial it was declared with on the device.
        #[serde(default)]
        drive_serial: Option<String>,
    },
    FinishTeardown,
    TestPart {
        result: PartTestResult,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "$text"))]
        notes: Option<String>,
    },
    FitPart {
        part: ItemId,
        part_expected_version: i64,
    },
    RemovePart {
        part: ItemId,
        part_expected_version: i64,
    },
    QaTest {
        #[serde(flatten)]
        report: QaData,
    },
    MarkReady,
    Reopen {
        #[cfg_attr(
            feature = "openapi",
            schema(min_length = 1, max_length = 500, pattern = "$required-text")
        )]
        reason: String,
    },
    Move {
        site: SiteId,
    },
    Relabel {
        new_code: String,
    },
    MarkForRecycling,
    AddToWeeeBatch {
        batch: WeeeBatchId,
    },
    RemoveFromWeeeBatch {
        batch: WeeeBatchId,
    },
    /// Undo the item's last step by a compensating event.
    CorrectLast {
        event: EventId,
        #[cfg_attr(
            feature = "openapi",
            schema(min_length = 1, max_length = 500, pattern = "$required-text")
        )]
        reason: String,
    },
}

impl Command {
    /// The kind of event the command records on its item.
    pub fn event_type(&self) -> EventType {
        use Command as C;
        match self {
            C::Receive { .. } => EventType::Received,
            C::Triage { .. } => EventType::Triaged,
            C::DeclareDrives { .. } => EventType::DrivesDeclared,
            C::DeclareNoDrive => EventType::NoDriveDeclared,
            C::EraseDrive { .. } => EventType::DriveErased,
            C::DestroyDrive { .. } => EventType::DriveDestroyed,
            C::HarvestPart { .. } => EventType::PartHarvested,
            C::FinishTeardown => EventType::TeardownDone,
            C::TestPart { .. } => EventType::PartTested,
            C::FitPart { .. } => EventType::PartFitted,
            C::RemovePart { .. } => EventType::PartRemoved,
            C::QaTest { .. } => EventType::QaTested,
            C::MarkReady => EventType::MarkedReady,
            C::Reopen { .. } => EventType::Reopened,
            C::Move { .. } => EventType::Moved,
            C::Relabel { .. } => EventType::Relabelled,
            C::MarkForRecycling => EventType::MarkedForRecycling,
            C::AddToWeeeBatch { .. } => EventType::WeeeAdded,
            C::RemoveFromWeeeBatch { .. } => EventType::WeeeRemoved,
            C::CorrectLast { .. } => EventType::Corrected,
        }
    }
}

request_type! {
    /// Apply one step to one item.
    pub struct EventRequest {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$key"))]
        pub idempotency_key: String,
        /// The item's version as the client last saw it.
        pub expected_version: i64,
        /// When it happened, by the bench's clock.
        #[serde(default)]
        pub occurred_at: Option<DateTime<Utc>>,
        pub command: Command,
    }
}

/// An item named by id or by any of its label codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum ItemRef {
    Id(ItemId),
    Code(String),
}

/// One entry of a batch sent by a bench that was offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum BatchOp {
    Register(RegisterItem),
    Event {
        item: ItemRef,
        #[serde(flatten)]
        request: EventRequest,
    },
}

request_type! {
    pub struct BatchRequest {
        /// Applied in order; a refusal does not stop the ones after it. 1,000 at most.
        #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
        pub ops: Vec<BatchOp>,
    }
}

impl BatchOp {
    /// The client's key of the op.
    pub fn idempotency_key(&self) -> &str {
        match self {
            BatchOp::Register(r) => &r.idempotency_key,
            BatchOp::Event { request, .. } => &request.idempotency_key,
        }
    }
}

impl BatchRequest {
    /// The op a refusal of the whole batch names: an op that breaks its schema refuses
    /// the batch (400), its field named from the batch (`ops.3`, `ops.3.weight_g`).
    pub fn refused_op(error: &crate::error::ErrorBody) -> Option<usize> {
        let field = error.details.as_ref()?.get("field")?.as_str()?;
        let rest = field.strip_prefix("ops.")?;
        rest.split('.').next()?.parse().ok()
    }
}

api_type! {
    pub struct BatchResponse {
        pub results: Vec<BatchResult>,
    }

    pub struct BatchResult {
        pub index: usize,
        pub idempotency_key: String,
        /// HTTP status the op would have had on its own.
        pub status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ok: Option<EventResponse>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error: Option<crate::error::ErrorBody>,
    }

    /// The answer to an accepted step (and, for the same key, to its replays).
    pub struct EventResponse {
        pub event: EventView,
        pub item: ItemView,
        /// The other item of a two-item step (the part fitted, removed or harvested).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub other: Option<ItemView>,
    }

    pub struct EventView {
        pub id: EventId,
        pub item: ItemId,
        /// What happened, tagged by `type`.
        pub payload: EventPayload,
        pub actor: Option<UserId>,
        pub actor_name: Option<String>,
        pub bench: Option<BenchId>,
        pub site: SiteId,
        /// By the bench's clock.
        pub occurred_at: DateTime<Utc>,
        /// By the server's clock.
        pub recorded_at: DateTime<Utc>,
        /// The item's version after this event.
        pub version: i64,
    }

    /// What still keeps an item from its next step.
    pub struct Blocker {
        pub code: crate::error::ErrorCode,
        pub message: String,
    }

    pub struct ItemView {
        pub id: ItemId,
        pub code: LabelCode,
        /// Earlier codes of a relabelled item; they still resolve to it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub previous_codes: Vec<LabelCode>,
        pub kind: ItemKind,
        pub category: Category,
        pub state: ItemState,
        /// Bumped by every event; send it back as `expected_version`.
        pub version: i64,
        pub site: SiteId,
        pub parent: Option<ItemId>,
        /// The device a part was harvested from.
        pub origin: Option<ItemId>,
        pub collection: Option<CollectionId>,
        pub brand: Option<String>,
        pub model: Option<String>,
        pub serial: Option<String>,
        pub asset_tag: Option<String>,
        pub specs: Specs,
        pub weight_g: Option<i64>,
        pub weight_estimated: bool,
        /// The triage decision, once made.
        #[serde(default)]
        pub route: Option<Route>,
        pub drives_declared: bool,
        pub drives: Vec<DriveFact>,
        pub parts: Vec<ItemId>,
        pub qa: Option<QaSummary>,
        pub functional_grade: Option<Grade>,
        pub cosmetic_grade: Option<Grade>,
        pub weee_batch: Option<WeeeBatchId>,
        /// A reserved device's hold: the beneficiary's reference and until when.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hold: Option<crate::lifecycle::Hold>,
        /// A sold device's sale: the buyer's reference and the guarantee's end.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sale: Option<crate::lifecycle::SaleMark>,
        /// For a refurbishing device: what keeps it from `ready`.
        pub blockers: Vec<Blocker>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }

    /// What a social worker sees of a `ready` device: the sale fields only.
    pub struct SaleItemView {
        pub id: ItemId,
        pub code: LabelCode,
        pub category: Category,
        pub state: ItemState,
        pub site: SiteId,
        pub brand: Option<String>,
        pub model: Option<String>,
        pub specs: Specs,
        pub functional_grade: Option<Grade>,
        pub cosmetic_grade: Option<Grade>,
    }

    pub struct ItemPage {
        pub items: Vec<ItemView>,
        /// Pass as `after` for the next page; absent on the last page.
        pub next_cursor: Option<ItemId>,
    }

    pub struct SaleItemPage {
        pub items: Vec<SaleItemView>,
        pub next_cursor: Option<ItemId>,
    }

    pub struct HistoryView {
        pub item: ItemId,
        pub events: Vec<EventView>,
        /// Every part that came into or went out of this item, with when and by whom.
        pub genealogy: Vec<GenealogyEntry>,
    }

    pub struct GenealogyEntry {
        pub event: EventId,
        pub relation: GenealogyRelation,
        pub other: ItemId,
        pub other_code: LabelCode,
        pub other_category: Category,
        pub at: DateTime<Utc>,
        pub actor_name: Option<String>,
    }
}

/// `GET /api/v1/items`: full items, or for a social worker the sale fields only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ItemListing {
    Full(ItemPage),
    Sale(SaleItemPage),
}

/// `GET /api/v1/items/{id}`: the item, or for a social worker the sale fields only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ItemDetail {
    Full(Box<ItemView>),
    Sale(Box<SaleItemView>),
}

/// Either of two schemas: `anyOf`, since an empty page is both.
#[cfg(feature = "openapi")]
macro_rules! any_of_schema {
    ($name:ident: $a:ident | $b:ident) => {
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{AnyOfBuilder, Ref};
                AnyOfBuilder::new()
                    .item(Ref::from_schema_name(stringify!($a)))
                    .item(Ref::from_schema_name(stringify!($b)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                use utoipa::PartialSchema;
                for (name, schema) in [
                    (stringify!($a), $a::schema()),
                    (stringify!($b), $b::schema()),
                ] {
                    schemas.push((name.to_owned(), schema));
                }
                <$a as utoipa::ToSchema>::schemas(schemas);
                <$b as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}

#[cfg(feature = "openapi")]
any_of_schema!(ItemListing: ItemPage | SaleItemPage);
#[cfg(feature = "openapi")]
any_of_schema!(ItemDetail: ItemView | SaleItemView);

/// How two items are related in a genealogy entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum GenealogyRelation {
    /// A part taken out of this device and labelled.
    Harvested,
    /// A part fitted into this device.
    Fitted,
    /// A part taken out of this device.
    Removed,
    /// This part came from that device.
    HarvestedFrom,
    FittedInto,
    RemovedFrom,
}

/// What a scanned or typed string resolves to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum Resolved {
    /// A label of a known item (possibly a replaced label).
    Item {
        item: Box<ItemView>,
        /// The label scanned was replaced by a newer one.
        replaced: bool,
        azerty_recovered: bool,
    },
    /// What a social worker may see of it.
    SaleItem { item: Box<SaleItemView> },
    /// A valid, allocated code that no item has claimed yet: start an intake.
    UnclaimedCode {
        code: LabelCode,
        batch: LabelBatchId,
        site: SiteId,
        print_count: i32,
        azerty_recovered: bool,
    },
    /// Found by manufacturer serial, donor asset tag or drive serial.
    Matches { items: Vec<ItemView> },
}

/// Query of `GET /api/v1/items`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ItemQuery {
    pub state: Option<ItemState>,
    pub site: Option<SiteId>,
    pub region: Option<RegionId>,
    pub kind: Option<ItemKind>,
    pub category: Option<Category>,
    /// Functional grade.
    pub grade: Option<Grade>,
    pub collection: Option<CollectionId>,
    /// Return items with an id greater than this (keyset pagination).
    pub after: Option<ItemId>,
    /// 1 to 500; 50 by default.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<i64>,
}

// ---------------------------------------------------------------- WEEE

request_type! {
    pub struct NewWeeeBatch {
        pub site: SiteId,
        pub recycler: OrgId,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "$text"))]
        pub notes: Option<String>,
    }

    pub struct CloseWeeeBatch {
        /// Weighed at closing, in grams.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000000))]
        pub weight_g: i64,
    }

    pub struct HandOverWeeeBatch {
        /// The waste-tracking form's reference (BSD on Trackdéchets).
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = "$required-text"))]
        pub waste_form_ref: String,
        #[serde(default)]
        pub handed_over_at: Option<DateTime<Utc>>,
    }
}

api_type! {
    pub struct WeeeBatchView {
        pub id: WeeeBatchId,
        pub site: SiteId,
        pub recycler: OrgId,
        pub recycler_name: String,
        pub status: WeeeBatchStatus,
        pub item_count: i64,
        /// Sum of the items' recorded weights.
        pub items_weight_g: i64,
        /// Weighed at closing.
        pub weight_g: Option<i64>,
        pub waste_form_ref: Option<String>,
        pub notes: Option<String>,
        pub opened_at: DateTime<Utc>,
        pub closed_at: Option<DateTime<Utc>>,
        pub handed_over_at: Option<DateTime<Utc>>,
    }
}

api_type! {
    pub struct Health {
        pub status: String,
        pub database: String,
        pub version: String,
    }
}

impl ItemView {
    /// The facts the lifecycle rules need, as the server last reported them: what a
    /// bench checks a step against before sending it.
    pub fn lifecycle(&self) -> crate::lifecycle::Lifecycle {
        crate::lifecycle::Lifecycle {
            kind: self.kind,
            category: self.category,
            state: self.state,
            site: self.site,
            parent: self.parent,
            drives_declared: self.drives_declared,
            drives: self.drives.clone(),
            parts: self.parts.clone(),
            qa: self.qa,
            route: self.route,
            weee_batch: self.weee_batch,
            hold: self.hold.clone().map(Box::new),
            sale: self.sale.clone().map(Box::new),
        }
    }
}
