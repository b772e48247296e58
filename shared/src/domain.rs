//! The vocabulary of the réemploi chain: roles, kinds, categories, states, grades…
//!
//! Every enum here is stored as text in the database and sent as a snake_case string
//! in JSON; `as_str` and `FromStr` are the one mapping both use.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The error returned when a stored or sent string names no variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}: {value:?}")]
pub struct UnknownVariant {
    pub what: &'static str,
    pub value: String,
}

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident : $what:literal { $($(#[$vm:meta])* $variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $variant),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s),*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($name::$variant),)*
                    _ => Err(UnknownVariant { what: $what, value: s.to_owned() }),
                }
            }
        }
    };
}

str_enum!(
    /// What a user may do; the scope comes with it (site, region or organisation).
    Role: "role" {
        Technician = "technician",
        Coordinator = "coordinator",
        SocialWorker = "social_worker",
        Admin = "admin",
    }
);

str_enum!(
    OrgKind: "organisation kind" {
        Donor = "donor",
        Recycler = "recycler",
        SocialPartner = "social_partner",
        TrainingVenue = "training_venue",
        /// The association that runs workshops and sells their devices.
        Operator = "operator",
    }
);

str_enum!(
    SiteKind: "site kind" {
        Workshop = "workshop",
        Warehouse = "warehouse",
        Shop = "shop",
    }
);

str_enum!(
    ItemKind: "item kind" {
        Device = "device",
        Part = "part",
    }
);

str_enum!(
    /// What an item is. Device categories and part categories share one list; each
    /// category knows its kind.
    Category: "category" {
        Laptop = "laptop",
        Desktop = "desktop",
        AllInOne = "all_in_one",
        Monitor = "monitor",
        Tablet = "tablet",
        Phone = "phone",
        Server = "server",
        Printer = "printer",
        OtherDevice = "other_device",
        Ram = "ram",
        Ssd = "ssd",
        Hdd = "hdd",
        Nvme = "nvme",
        Cpu = "cpu",
        Psu = "psu",
        Battery = "battery",
        Screen = "screen",
        Charger = "charger",
        Motherboard = "motherboard",
        Gpu = "gpu",
        Keyboard = "keyboard",
        OtherPart = "other_part",
    }
);

impl Category {
    pub fn kind(self) -> ItemKind {
        use Category::*;
        match self {
            Laptop | Desktop | AllInOne | Monitor | Tablet | Phone | Server | Printer
            | OtherDevice => ItemKind::Device,
            _ => ItemKind::Part,
        }
    }

    /// Storage that holds data: it must be erased or destroyed before it leaves.
    pub fn is_drive(self) -> bool {
        matches!(self, Category::Ssd | Category::Hdd | Category::Nvme)
    }
}

str_enum!(
    /// The lifecycle state of an item (devices and parts share one list; see
    /// [`ItemState::applies_to`]).
    ItemState: "state" {
        /// Registered on a collection, not yet at a workshop.
        Collected = "collected",
        /// Checked in at a workshop site.
        Received = "received",
        /// Triaged for reuse: erasure, repair, QA.
        Refurbishing = "refurbishing",
        /// Erased, passed QA with grades: sellable stock.
        Ready = "ready",
        /// Held for a beneficiary.
        Reserved = "reserved",
        /// Handed over to the beneficiary.
        Sold = "sold",
        /// Back under after-sales.
        Returned = "returned",
        /// Triaged for parts.
        Harvesting = "harvesting",
        /// An empty shell.
        Harvested = "harvested",
        /// Waiting for a WEEE batch.
        ToRecycle = "to_recycle",
        /// Handed over to the recycler.
        Recycled = "recycled",
        /// A part salvaged, not tested yet.
        InStock = "in_stock",
        TestedGood = "tested_good",
        Faulty = "faulty",
        /// A part inside a device.
        Fitted = "fitted",
        /// A drive physically destroyed.
        Destroyed = "destroyed",
    }
);

impl ItemState {
    pub fn applies_to(self, kind: ItemKind) -> bool {
        use ItemState::*;
        match self {
            Collected | ToRecycle | Recycled => true,
            Received | Refurbishing | Ready | Reserved | Sold | Returned | Harvesting
            | Harvested => kind == ItemKind::Device,
            InStock | TestedGood | Faulty | Fitted | Destroyed => kind == ItemKind::Part,
        }
    }

    /// States an item never leaves.
    pub fn is_final(self) -> bool {
        matches!(self, ItemState::Recycled | ItemState::Destroyed)
    }
}

str_enum!(
    /// The triage decision for a received device.
    Route: "route" {
        Refurbish = "refurbish",
        Harvest = "harvest",
        Recycle = "recycle",
    }
);

str_enum!(
    /// Functional and cosmetic grades given at QA.
    Grade: "grade" {
        /// As new / everything works.
        A = "a",
        /// Light wear / minor limitation (battery under 80 %…).
        B = "b",
        /// Visible wear / works with a documented limitation.
        C = "c",
    }
);

str_enum!(
    /// Where a collection stands.
    CollectionStatus: "collection status" {
        /// Planned or under way: items are registered and received.
        Planned = "planned",
        /// Closed by the coordinator: what never arrived is recorded as missing.
        Closed = "closed",
    }
);

str_enum!(
    /// Where a donor's offer stands.
    OfferStatus: "offer status" {
        /// Sent by the donor, waiting for the region's coordinator.
        Proposed = "proposed",
        /// Accepted: a planned collection.
        Accepted = "accepted",
        Declined = "declined",
    }
);

str_enum!(
    /// Legal status of a collected lot.
    LegalStatus: "legal status" {
        /// Handed over for reuse: not waste.
        Reuse = "reuse",
        /// Discarded equipment: WEEE, with a waste code.
        Waste = "waste",
    }
);

str_enum!(
    /// The documents Filière issues to people who never log in, each kept with an
    /// identifier that a public page verifies.
    DocumentKind: "document kind" {
        /// For the donor: what was declared and received, weights, the lot's legal
        /// status.
        CollectionReceipt = "collection_receipt",
        /// For the donor: every drive of a collection erased or destroyed, signed by a
        /// user with the data-security right.
        ErasureCertificate = "erasure_certificate",
        /// For the donor: what became of each item (reused, parts, recycled), with
        /// kilograms and CO2e.
        OutcomeReport = "outcome_report",
        /// For the recycler: a WEEE batch handed over, its weighed mass, its items
        /// and their waste codes.
        WeeeSlip = "weee_slip",
        /// For a beneficiary: the training session attended, its hours and topics.
        TrainingAttestation = "training_attestation",
    }
);

str_enum!(
    /// What became of an item given by a donor, as the outcome report says it.
    Outcome: "outcome" {
        /// Handed over to a household or an association, or fitted in a device.
        Reused = "reused",
        /// Refurbished, tested and graded: waiting for its buyer.
        ReadyForReuse = "ready_for_reuse",
        /// Taken apart: its parts go on in other devices.
        Parts = "parts",
        AwaitingRecycling = "awaiting_recycling",
        /// Handed over to a certified recycler in a WEEE batch.
        Recycled = "recycled",
        /// Still at the workshop, before its route is settled.
        InProgress = "in_progress",
    }
);

str_enum!(
    /// Where an asset list's import stands.
    ImportStatus: "import status" {
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
);

str_enum!(
    /// NIST SP 800-88 sanitisation level.
    NistLevel: "sanitisation level" {
        Clear = "clear",
        Purge = "purge",
        Destroy = "destroy",
    }
);

str_enum!(
    ErasureTechnique: "erasure technique" {
        Overwrite = "overwrite",
        FirmwareSanitize = "firmware_sanitize",
        CryptoErase = "crypto_erase",
        PhysicalDestruction = "physical_destruction",
    }
);

str_enum!(
    ErasureResult: "erasure result" {
        Erased = "erased",
        Failed = "failed",
        Aborted = "aborted",
    }
);

str_enum!(
    DriveBus: "drive bus" {
        Sata = "sata",
        Nvme = "nvme",
        Sas = "sas",
        Usb = "usb",
        Ide = "ide",
        Emmc = "emmc",
        Other = "other",
    }
);

str_enum!(
    DriveMedia: "drive media" {
        Hdd = "hdd",
        Ssd = "ssd",
        Flash = "flash",
    }
);

str_enum!(
    /// Where a drive stands with respect to its data.
    DriveStatus: "drive status" {
        /// Declared, not erased yet.
        Pending = "pending",
        Erased = "erased",
        /// The last erasure failed or was aborted: erase again or destroy.
        Failed = "failed",
        Destroyed = "destroyed",
    }
);

impl DriveStatus {
    /// Erased or destroyed: the data is gone.
    pub fn is_sanitised(self) -> bool {
        matches!(self, DriveStatus::Erased | DriveStatus::Destroyed)
    }
}

str_enum!(
    PartTestResult: "part test result" {
        Good = "good",
        Faulty = "faulty",
    }
);

str_enum!(
    WeeeBatchStatus: "WEEE batch status" {
        Open = "open",
        Closed = "closed",
        HandedOver = "handed_over",
    }
);

str_enum!(
    /// Where a reservation stands.
    ReservationStatus: "reservation status" {
        /// The device is held until the hold expires.
        Active = "active",
        Cancelled = "cancelled",
        /// The hold ran out before the pickup.
        Expired = "expired",
        /// The device was handed over.
        Fulfilled = "fulfilled",
    }
);

str_enum!(
    /// A booking in a training session: a seat, or a place on the waiting list.
    BookingStatus: "booking status" {
        Booked = "booked",
        Waiting = "waiting",
        Cancelled = "cancelled",
    }
);

str_enum!(
    /// Recorded after a training session.
    Attendance: "attendance" {
        Attended = "attended",
        NoShow = "no_show",
    }
);

str_enum!(
    /// How the catalogue is sorted.
    CatalogueSort: "catalogue sort" {
        /// Most recently ready first.
        Recent = "recent",
        /// Most memory first.
        Ram = "ram",
        /// Largest screen first.
        Screen = "screen",
        /// Largest storage first.
        Storage = "storage",
    }
);

str_enum!(
    /// The kind of an item event, as stored in the `event_type` column.
    EventType: "event type" {
        Registered = "registered",
        Received = "received",
        Triaged = "triaged",
        DrivesDeclared = "drives_declared",
        NoDriveDeclared = "no_drive_declared",
        DriveErased = "drive_erased",
        DriveDestroyed = "drive_destroyed",
        PartHarvested = "part_harvested",
        TeardownDone = "teardown_done",
        PartTested = "part_tested",
        PartFitted = "part_fitted",
        FittedInto = "fitted_into",
        PartRemoved = "part_removed",
        RemovedFrom = "removed_from",
        QaTested = "qa_tested",
        MarkedReady = "marked_ready",
        Reopened = "reopened",
        Moved = "moved",
        Relabelled = "relabelled",
        MarkedForRecycling = "marked_for_recycling",
        WeeeAdded = "weee_added",
        WeeeRemoved = "weee_removed",
        Recycled = "recycled",
        Reserved = "reserved",
        ReservationCancelled = "reservation_cancelled",
        ReservationExpired = "reservation_expired",
        Sold = "sold",
        Returned = "returned",
        RepairStarted = "repair_started",
        HandedBack = "handed_back",
        TakenBack = "taken_back",
        Corrected = "corrected",
    }
);

str_enum!(
    /// A checklist line of the QA test.
    QaCheck: "QA check" {
        Boot = "boot",
        Keyboard = "keyboard",
        Touchpad = "touchpad",
        Screen = "screen",
        Usb = "usb",
        Wifi = "wifi",
        Ethernet = "ethernet",
        Webcam = "webcam",
        Audio = "audio",
        Battery = "battery",
        Charger = "charger",
        Bluetooth = "bluetooth",
        Ports = "ports",
        Memory = "memory",
        Storage = "storage",
    }
);

str_enum!(
    QaOutcome: "QA outcome" {
        Pass = "pass",
        Fail = "fail",
        /// The device has no such function (no webcam on a desktop…).
        NotApplicable = "not_applicable",
    }
);

str_enum!(
    /// How a sale (or part of it) was paid, or a refund given.
    PaymentMethod: "payment method" {
        Cash = "cash",
        Card = "card",
        Cheque = "cheque",
        /// A partner's voucher (a town's, a foundation's…); its reference goes with it.
        Voucher = "voucher",
        /// Given for nothing: the whole price, or what is left of it.
        Free = "free",
        /// Settled by a credit note: the price of an exchanged device.
        CreditNote = "credit_note",
    }
);

str_enum!(
    /// The VAT rule that applies to a selling organisation, printed on its invoices.
    VatScheme: "VAT scheme" {
        /// An association under the VAT threshold: art. 293 B of the CGI.
        Franchise = "franchise",
        /// The margin scheme for second-hand goods: art. 297 A of the CGI.
        Margin = "margin",
    }
);

str_enum!(
    /// An invoice, or a credit note that cancels (part of) one.
    SaleKind: "sale kind" {
        Invoice = "invoice",
        CreditNote = "credit_note",
    }
);

str_enum!(
    /// Where a device sold stands.
    SaleLineStatus: "sale line status" {
        /// With its buyer; the guarantee runs.
        Sold = "sold",
        /// Brought back under the guarantee, waiting for a decision.
        Returned = "returned",
        /// Being repaired, for the same buyer.
        Repairing = "repairing",
        /// Replaced by another device (credit note).
        Exchanged = "exchanged",
        /// Taken back and refunded (credit note).
        Refunded = "refunded",
    }
);

str_enum!(
    /// What after-sales did with a returned device.
    AfterSalesOutcome: "after-sales outcome" {
        /// Repaired and handed back to the same buyer, guarantee extended by 6 months.
        Repair = "repair",
        /// Another device instead: a credit note, a new invoice, a new guarantee.
        Exchange = "exchange",
        /// Taken back and refunded: a credit note.
        Refund = "refund",
    }
);

str_enum!(
    /// The devices the décret of 7 November 2022 caps the resale price of, when they
    /// come from a public body.
    CapCategory: "price cap category" {
        Laptop = "laptop",
        /// A desktop with its screen, keyboard and mouse.
        DesktopSet = "desktop_set",
        Tablet = "tablet",
        Screen = "screen",
        Printer = "printer",
        MultifunctionPrinter = "multifunction_printer",
        Smartphone = "smartphone",
    }
);

str_enum!(
    /// A flow of the dashboards: what an event counts as, week by week. `intake` is an
    /// item registered at the workshop: it counts as collected and as received.
    Flow: "flow" {
        Collected = "collected",
        Intake = "intake",
        Received = "received",
        Ready = "ready",
        Reserved = "reserved",
        Sold = "sold",
        /// Taken back for good after a sale: no longer reused.
        TakenBack = "taken_back",
        /// A device torn down for its parts.
        Harvested = "harvested",
        Recycled = "recycled",
        /// A household's first invoice: counted by the selling site, not an item.
        Equipped = "equipped",
    }
);

impl Flow {
    /// The flows the dashboards chart, in the chain's order.
    pub const CHARTED: &'static [Flow] = &[
        Flow::Collected,
        Flow::Received,
        Flow::Ready,
        Flow::Reserved,
        Flow::Sold,
        Flow::Harvested,
        Flow::Recycled,
    ];

    /// The charted flows one stored flow counts in.
    pub fn counts_as(self) -> &'static [Flow] {
        match self {
            Flow::Intake => &[Flow::Collected, Flow::Received],
            Flow::Collected => &[Flow::Collected],
            Flow::Received => &[Flow::Received],
            Flow::Ready => &[Flow::Ready],
            Flow::Reserved => &[Flow::Reserved],
            Flow::Sold => &[Flow::Sold],
            Flow::TakenBack => &[Flow::TakenBack],
            Flow::Harvested => &[Flow::Harvested],
            Flow::Recycled => &[Flow::Recycled],
            Flow::Equipped => &[Flow::Equipped],
        }
    }
}

str_enum!(
    /// What an item waits for in its state: the aging dashboard groups by it. An item
    /// in a final state (sold, recycled, fitted, destroyed) waits for nothing.
    WaitingFor: "waiting for" {
        AwaitingReception = "awaiting_reception",
        AwaitingTriage = "awaiting_triage",
        DrivesUndeclared = "drives_undeclared",
        DrivesNotErased = "drives_not_erased",
        QaMissing = "qa_missing",
        QaFailed = "qa_failed",
        AwaitingReadyMark = "awaiting_ready_mark",
        AwaitingBuyer = "awaiting_buyer",
        AwaitingPickup = "awaiting_pickup",
        AwaitingAfterSales = "awaiting_after_sales",
        TeardownPending = "teardown_pending",
        AwaitingRecycling = "awaiting_recycling",
        AwaitingWeeeBatch = "awaiting_weee_batch",
        AwaitingHandover = "awaiting_handover",
        PartUntested = "part_untested",
        AwaitingUse = "awaiting_use",
    }
);
