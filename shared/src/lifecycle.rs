//! The lifecycle rules: one home for what may happen to an item, used by the bench app
//! (to refuse an impossible step before asking) and by the server (authoritatively).
//!
//! An item's [`Lifecycle`] is derived from its events. [`apply`] checks an event against
//! the rules and returns the next lifecycle, or a [`Refusal`] that says why not;
//! [`evolve`] is the effect alone, and [`replay`] folds a stored history (honouring the
//! compensating `corrected` events) back into the lifecycle the server keeps on the
//! item row.

use crate::LabelCode;
use crate::domain::*;
use crate::error::{ErrorCode, Lang};
use crate::ids::*;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A drive as declared at intake or at the erasure bench.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriveSpec {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = "$required-text")
    )]
    pub serial: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
    pub make: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
    pub model: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub size_gb: Option<u32>,
    #[serde(default)]
    pub bus: Option<DriveBus>,
    #[serde(default)]
    pub media: Option<DriveMedia>,
}

/// A drive that is in an item now, and where its data stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriveFact {
    pub serial: String,
    pub status: DriveStatus,
    /// The part item this drive is, when it has a label of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<ItemId>,
}

/// The outcome of the last QA test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QaSummary {
    pub passed: bool,
    pub functional_grade: Option<Grade>,
    pub cosmetic_grade: Option<Grade>,
}

/// Everything the rules need to know about one item, derived from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lifecycle {
    pub kind: ItemKind,
    pub category: Category,
    pub state: ItemState,
    pub site: SiteId,
    /// The device this part is fitted in.
    pub parent: Option<ItemId>,
    /// Drives declared (possibly "none"): until then a device cannot become ready.
    pub drives_declared: bool,
    /// Drives in the item now (for a drive part: the drive itself).
    pub drives: Vec<DriveFact>,
    /// Tracked parts fitted in this device.
    pub parts: Vec<ItemId>,
    /// The last QA test since the last change of parts.
    pub qa: Option<QaSummary>,
    pub route: Option<Route>,
    pub weee_batch: Option<WeeeBatchId>,
    /// The hold on a reserved device: for whom (the pseudonymous reference only) and
    /// until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Box<Hold>>,
    /// A sold device's sale: to whom (the reference only) and until when the legal
    /// guarantee runs; kept while after-sales repairs it for the same buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale: Option<Box<SaleMark>>,
}

/// A device's sale as the rules and the bench see it: never an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaleMark {
    pub sale: SaleId,
    /// The beneficiary's pseudonymous reference, or the partner organisation's name.
    pub buyer: String,
    /// The last day of the legal conformity guarantee.
    pub guarantee_until: NaiveDate,
}

/// A reservation's hold as the rules and the bench see it: never an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hold {
    pub reservation: ReservationId,
    /// The beneficiary's pseudonymous reference.
    pub reference: String,
    pub until: DateTime<Utc>,
}

impl Lifecycle {
    /// Drives in the item whose data is not yet gone.
    pub fn unsanitised_drives(&self) -> Vec<String> {
        self.drives
            .iter()
            .filter(|d| !d.status.is_sanitised())
            .map(|d| d.serial.clone())
            .collect()
    }

    /// Whether no data can be left on the item: its drives are declared (possibly
    /// none) and each is erased or destroyed. The rule that lets an item leave the
    /// workshop, and an erasure certificate be issued.
    pub fn data_gone(&self) -> bool {
        require_sanitised(self).is_ok()
    }

    pub fn is_drive(&self) -> bool {
        self.kind == ItemKind::Part && self.category.is_drive()
    }

    /// What the item waits for in its state, for the aging dashboard; `None` in a
    /// final state.
    pub fn waiting_for(&self) -> Option<WaitingFor> {
        use ItemState::*;
        let erased = self.unsanitised_drives().is_empty();
        Some(match self.state {
            Collected => WaitingFor::AwaitingReception,
            Received => WaitingFor::AwaitingTriage,
            Refurbishing => match self.blockers_for_ready().first() {
                Some(Refusal::DrivesUndeclared) => WaitingFor::DrivesUndeclared,
                Some(Refusal::DrivesNotErased { .. }) => WaitingFor::DrivesNotErased,
                Some(Refusal::QaMissing) => WaitingFor::QaMissing,
                Some(Refusal::QaFailed) => WaitingFor::QaFailed,
                _ => WaitingFor::AwaitingReadyMark,
            },
            Ready => WaitingFor::AwaitingBuyer,
            Reserved => WaitingFor::AwaitingPickup,
            Returned => WaitingFor::AwaitingAfterSales,
            Harvesting if !erased => WaitingFor::DrivesNotErased,
            Harvesting => WaitingFor::TeardownPending,
            Harvested | Faulty => WaitingFor::AwaitingRecycling,
            ToRecycle if self.weee_batch.is_some() => WaitingFor::AwaitingHandover,
            ToRecycle => WaitingFor::AwaitingWeeeBatch,
            InStock if !erased => WaitingFor::DrivesNotErased,
            InStock => WaitingFor::PartUntested,
            TestedGood if !erased => WaitingFor::DrivesNotErased,
            TestedGood => WaitingFor::AwaitingUse,
            Sold | Recycled | Fitted | Destroyed => return None,
        })
    }

    /// What still keeps a refurbishing device from `ready`, in the order to fix it.
    pub fn blockers_for_ready(&self) -> Vec<Refusal> {
        let mut out = Vec::new();
        if !self.drives_declared {
            out.push(Refusal::DrivesUndeclared);
        }
        let pending = self.unsanitised_drives();
        if !pending.is_empty() {
            out.push(Refusal::DrivesNotErased { serials: pending });
        }
        match self.qa {
            None => out.push(Refusal::QaMissing),
            Some(qa) if !qa.passed => out.push(Refusal::QaFailed),
            Some(_) => {}
        }
        out
    }
}

/// One erasure pass on one drive, as NIST SP 800-88 asks it to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErasureData {
    pub level: NistLevel,
    pub technique: ErasureTechnique,
    /// nwipe, Blancco, hdparm, nvme-cli…
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = "$required-text")
    )]
    pub tool: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 50, pattern = "$text"))]
    pub tool_version: Option<String>,
    /// Wipe method as the tool names it (DoD short, PRNG stream, sanitize crypto…).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
    pub method: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub passes: Option<u32>,
    pub verified: bool,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub result: ErasureResult,
    /// The tool's own report, as imported (kept as text).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000000, pattern = "$text"))]
    pub report: Option<String>,
}

/// One line of the QA checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QaLine {
    pub check: QaCheck,
    pub outcome: QaOutcome,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500, pattern = "$text"))]
    pub note: Option<String>,
}

/// A QA test report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QaData {
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub checks: Vec<QaLine>,
    /// Emmabuntüs, Linux Mint, Debian…
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100, pattern = "$text"))]
    pub os_installed: Option<String>,
    #[serde(default)]
    pub functional_grade: Option<Grade>,
    #[serde(default)]
    pub cosmetic_grade: Option<Grade>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000, pattern = "$text"))]
    pub notes: Option<String>,
}

impl QaData {
    /// Passed: it boots, no line failed, and both grades are given. This is the legal
    /// meaning of "reconditionné": every function tested.
    pub fn passed(&self) -> bool {
        let boots = self
            .checks
            .iter()
            .any(|l| l.check == QaCheck::Boot && l.outcome == QaOutcome::Pass);
        boots
            && self.checks.iter().all(|l| l.outcome != QaOutcome::Fail)
            && self.functional_grade.is_some()
            && self.cosmetic_grade.is_some()
    }

    pub fn summary(&self) -> QaSummary {
        QaSummary {
            passed: self.passed(),
            functional_grade: self.functional_grade,
            cosmetic_grade: self.cosmetic_grade,
        }
    }
}

/// An event as stored: what happened to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventPayload {
    /// The item got its label and exists from now on.
    Registered {
        code: LabelCode,
        kind: ItemKind,
        category: Category,
        state: ItemState,
        site: SiteId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collection: Option<CollectionId>,
        /// The device this part was harvested from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<ItemId>,
        /// For a drive: the drive itself, with its erasure status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drive: Option<DriveFact>,
    },
    Received {
        site: SiteId,
    },
    Triaged {
        route: Route,
    },
    DrivesDeclared {
        drives: Vec<DriveSpec>,
    },
    NoDriveDeclared,
    DriveErased {
        serial: String,
        erasure: ErasureData,
    },
    DriveDestroyed {
        serial: String,
        method: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notes: Option<String>,
    },
    /// On a device: a part was taken out and labelled as an item of its own.
    PartHarvested {
        part: ItemId,
        category: Category,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drive_serial: Option<String>,
    },
    TeardownDone,
    PartTested {
        result: PartTestResult,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notes: Option<String>,
    },
    /// On a device: a tracked part was fitted in it (with the part's drive, if it is
    /// one, so that the device's history alone tells its drives).
    PartFitted {
        part: ItemId,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        drives: Vec<DriveFact>,
    },
    /// On a part: it was fitted in a device.
    FittedInto {
        device: ItemId,
    },
    /// On a device: a tracked part was taken out.
    PartRemoved {
        part: ItemId,
    },
    /// On a part: it was taken out of a device (with its drive's status, if a drive).
    RemovedFrom {
        device: ItemId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drive_status: Option<DriveStatus>,
    },
    QaTested {
        report: QaData,
    },
    MarkedReady,
    Reopened {
        reason: String,
    },
    Moved {
        from: SiteId,
        to: SiteId,
        /// A fitted part travelling inside its device.
        #[serde(default)]
        with_parent: bool,
    },
    Relabelled {
        old: LabelCode,
        new: LabelCode,
    },
    MarkedForRecycling,
    WeeeAdded {
        batch: WeeeBatchId,
    },
    WeeeRemoved {
        batch: WeeeBatchId,
    },
    Recycled {
        batch: WeeeBatchId,
        #[serde(default)]
        with_parent: bool,
    },
    /// Held for a beneficiary (a `ready` device only).
    Reserved {
        reservation: ReservationId,
        reference: String,
        until: DateTime<Utc>,
    },
    /// The hold ended before the sale: cancelled by a person, or expired.
    ReservationEnded {
        reservation: ReservationId,
        expired: bool,
    },
    /// Handed over to its buyer (a reserved device by its reservation, or a `ready`
    /// one sold with it or to a partner).
    Sold {
        sale: SaleId,
        buyer: String,
        guarantee_until: NaiveDate,
    },
    /// Brought back by its buyer under the guarantee.
    Returned {
        sale: SaleId,
        reason: String,
    },
    /// After-sales repairs it, for the same buyer: back to the bench.
    RepairStarted {
        sale: SaleId,
        reason: String,
    },
    /// Repaired and handed back to the same buyer; the guarantee runs to its new end.
    HandedBack {
        sale: SaleId,
        guarantee_until: NaiveDate,
    },
    /// Taken back for good (exchanged or refunded): stock of the workshop again, to
    /// be triaged.
    TakenBack {
        sale: SaleId,
        outcome: AfterSalesOutcome,
        reason: String,
    },
    /// Compensates the item's last effective event.
    Corrected {
        event: EventId,
        reason: String,
    },
}

impl EventPayload {
    pub fn event_type(&self) -> EventType {
        use EventPayload as P;
        match self {
            P::Registered { .. } => EventType::Registered,
            P::Received { .. } => EventType::Received,
            P::Triaged { .. } => EventType::Triaged,
            P::DrivesDeclared { .. } => EventType::DrivesDeclared,
            P::NoDriveDeclared => EventType::NoDriveDeclared,
            P::DriveErased { .. } => EventType::DriveErased,
            P::DriveDestroyed { .. } => EventType::DriveDestroyed,
            P::PartHarvested { .. } => EventType::PartHarvested,
            P::TeardownDone => EventType::TeardownDone,
            P::PartTested { .. } => EventType::PartTested,
            P::PartFitted { .. } => EventType::PartFitted,
            P::FittedInto { .. } => EventType::FittedInto,
            P::PartRemoved { .. } => EventType::PartRemoved,
            P::RemovedFrom { .. } => EventType::RemovedFrom,
            P::QaTested { .. } => EventType::QaTested,
            P::MarkedReady => EventType::MarkedReady,
            P::Reopened { .. } => EventType::Reopened,
            P::Moved { .. } => EventType::Moved,
            P::Relabelled { .. } => EventType::Relabelled,
            P::MarkedForRecycling => EventType::MarkedForRecycling,
            P::WeeeAdded { .. } => EventType::WeeeAdded,
            P::WeeeRemoved { .. } => EventType::WeeeRemoved,
            P::Recycled { .. } => EventType::Recycled,
            P::Reserved { .. } => EventType::Reserved,
            P::ReservationEnded { expired: false, .. } => EventType::ReservationCancelled,
            P::ReservationEnded { expired: true, .. } => EventType::ReservationExpired,
            P::Sold { .. } => EventType::Sold,
            P::Returned { .. } => EventType::Returned,
            P::RepairStarted { .. } => EventType::RepairStarted,
            P::HandedBack { .. } => EventType::HandedBack,
            P::TakenBack { .. } => EventType::TakenBack,
            P::Corrected { .. } => EventType::Corrected,
        }
    }
}

impl EventPayload {
    /// The flow of the dashboards this event counts in, if any (stored with the event;
    /// a `corrected` event takes its target's flow back).
    pub fn flow(&self) -> Option<Flow> {
        use EventPayload as P;
        match self {
            P::Registered {
                origin: Some(_), ..
            } => None,
            P::Registered {
                state: ItemState::Collected,
                ..
            } => Some(Flow::Collected),
            P::Registered { .. } => Some(Flow::Intake),
            P::Received { .. } => Some(Flow::Received),
            P::MarkedReady => Some(Flow::Ready),
            P::Reserved { .. } => Some(Flow::Reserved),
            P::Sold { .. } => Some(Flow::Sold),
            P::TakenBack { .. } => Some(Flow::TakenBack),
            P::TeardownDone => Some(Flow::Harvested),
            // A part recycled inside its device is counted with the device.
            P::Recycled {
                with_parent: false, ..
            } => Some(Flow::Recycled),
            _ => None,
        }
    }
}

impl EventType {
    /// Whether a `corrected` event may undo this step. Steps that touched another
    /// item, a label or a WEEE batch are undone by their own inverse step instead
    /// (remove the part, relabel, take the item out of the batch).
    pub fn is_correctable(self) -> bool {
        use EventType::*;
        matches!(
            self,
            Received
                | Triaged
                | DrivesDeclared
                | NoDriveDeclared
                | DriveErased
                | DriveDestroyed
                | TeardownDone
                | PartTested
                | QaTested
                | MarkedReady
                | Reopened
                | MarkedForRecycling
        )
    }
}

/// State of a WEEE batch, as the rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeeBatchFacts {
    pub id: WeeeBatchId,
    pub status: WeeeBatchStatus,
    pub site: SiteId,
}

/// Facts from outside the item that some events need.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The other item of a two-item event (the part when fitting into a device, the
    /// device when a part is fitted into it), with its id.
    pub counterpart: Option<(ItemId, &'a Lifecycle)>,
    pub weee_batch: Option<WeeeBatchFacts>,
    /// The id of the item the event is applied to.
    pub item: Option<ItemId>,
}

/// Why the rules refuse an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{event} is not possible in state {state}")]
    InvalidTransition { event: EventType, state: ItemState },
    #[error("{event} does not apply to a {kind} ({category})")]
    WrongItemKind {
        event: EventType,
        kind: ItemKind,
        category: Category,
    },
    #[error("drives not declared")]
    DrivesUndeclared,
    #[error("drives not erased: {serials:?}")]
    DrivesNotErased { serials: Vec<String> },
    #[error("drives already declared")]
    DrivesAlreadyDeclared,
    #[error("duplicate drive serial {serial}")]
    DuplicateDriveSerial { serial: String },
    #[error("unknown drive {serial}")]
    UnknownDrive { serial: String },
    #[error("a harvested drive needs its serial")]
    DriveSerialRequired,
    #[error("drive {serial} was destroyed")]
    DriveDestroyed { serial: String },
    #[error("no QA test")]
    QaMissing,
    #[error("QA test failed")]
    QaFailed,
    #[error("part is {state}, not tested good")]
    PartNotTestedGood { state: ItemState },
    #[error("part already fitted")]
    PartAlreadyFitted,
    #[error("part at site {part_site}, device at site {device_site}")]
    PartOtherSite {
        part_site: SiteId,
        device_site: SiteId,
    },
    #[error("part not in this device")]
    PartNotInDevice,
    #[error("tracked parts still fitted: {parts:?}")]
    PartsStillFitted { parts: Vec<ItemId> },
    #[error("drive not erased")]
    DriveNotErased { serial: String },
    #[error("already at site {site}")]
    SameSite { site: SiteId },
    #[error("WEEE batch {batch} is {status}")]
    WeeeBatchNotOpen {
        batch: WeeeBatchId,
        status: WeeeBatchStatus,
    },
    #[error("WEEE batch at another site")]
    WeeeBatchOtherSite { batch: WeeeBatchId },
    #[error("not in WEEE batch {batch}")]
    NotInWeeeBatch { batch: WeeeBatchId },
    #[error("already in WEEE batch {batch}")]
    AlreadyInWeeeBatch { batch: WeeeBatchId },
    #[error("already reserved")]
    AlreadyReserved,
    #[error("after-sales must decide first")]
    AfterSalesPending,
    #[error("nothing to correct")]
    NothingToCorrect,
    #[error("{event} cannot be corrected by undoing it")]
    CorrectionNotPossible { event: EventType },
    #[error("event {requested} is not the last effective event {last:?}")]
    CorrectionTargetMismatch {
        requested: EventId,
        last: Option<EventId>,
    },
}

impl Refusal {
    pub fn code(&self) -> ErrorCode {
        use Refusal as R;
        match self {
            R::InvalidTransition { .. } => ErrorCode::InvalidTransition,
            R::WrongItemKind { .. } => ErrorCode::WrongItemKind,
            R::DrivesUndeclared => ErrorCode::DrivesUndeclared,
            R::DrivesNotErased { .. } => ErrorCode::DrivesNotErased,
            R::DrivesAlreadyDeclared => ErrorCode::DrivesAlreadyDeclared,
            R::DuplicateDriveSerial { .. } => ErrorCode::DuplicateDriveSerial,
            R::UnknownDrive { .. } => ErrorCode::UnknownDrive,
            R::DriveSerialRequired => ErrorCode::DriveSerialRequired,
            R::DriveDestroyed { .. } => ErrorCode::DriveDestroyed,
            R::QaMissing => ErrorCode::QaMissing,
            R::QaFailed => ErrorCode::QaFailed,
            R::PartNotTestedGood { .. } => ErrorCode::PartNotTestedGood,
            R::PartAlreadyFitted => ErrorCode::PartAlreadyFitted,
            R::PartOtherSite { .. } => ErrorCode::PartOtherSite,
            R::PartNotInDevice => ErrorCode::PartNotInDevice,
            R::PartsStillFitted { .. } => ErrorCode::PartsStillFitted,
            R::DriveNotErased { .. } => ErrorCode::DriveNotErased,
            R::SameSite { .. } => ErrorCode::SameSite,
            R::WeeeBatchNotOpen { .. } => ErrorCode::WeeeBatchNotOpen,
            R::WeeeBatchOtherSite { .. } => ErrorCode::WeeeBatchOtherSite,
            R::NotInWeeeBatch { .. } => ErrorCode::NotInWeeeBatch,
            R::AlreadyInWeeeBatch { .. } => ErrorCode::AlreadyInWeeeBatch,
            R::AlreadyReserved => ErrorCode::AlreadyReserved,
            R::AfterSalesPending => ErrorCode::AfterSalesPending,
            R::NothingToCorrect => ErrorCode::NothingToCorrect,
            R::CorrectionNotPossible { .. } => ErrorCode::CorrectionNotPossible,
            R::CorrectionTargetMismatch { .. } => ErrorCode::CorrectionTargetMismatch,
        }
    }

    /// The message for the technician, with the specifics.
    pub fn message(&self, lang: Lang) -> String {
        use Refusal as R;
        let base = self.code().message(lang);
        match self {
            R::InvalidTransition { event, state } => match lang {
                Lang::Fr => format!("{base} (étape « {event} » impossible à l'état « {state} »)"),
                Lang::En => format!("{base} (step \"{event}\" impossible in state \"{state}\")"),
            },
            R::WrongItemKind {
                event, category, ..
            } => match lang {
                Lang::Fr => format!("{base} (« {event} » sur un objet « {category} »)"),
                Lang::En => format!("{base} (\"{event}\" on a \"{category}\" item)"),
            },
            R::DrivesNotErased { serials } => {
                let n = serials.len();
                let list = serials.join(", ");
                match lang {
                    Lang::Fr => format!(
                        "{n} disque{s} ni effacé{s} ni détruit{s} : {list}",
                        s = if n > 1 { "s" } else { "" }
                    ),
                    Lang::En => format!(
                        "{n} drive{s} neither erased nor destroyed: {list}",
                        s = if n > 1 { "s" } else { "" }
                    ),
                }
            }
            R::DuplicateDriveSerial { serial }
            | R::UnknownDrive { serial }
            | R::DriveDestroyed { serial }
            | R::DriveNotErased { serial } => format!("{base} ({serial})"),
            R::PartNotTestedGood { state } => match lang {
                Lang::Fr => format!("{base} (état actuel : « {state} »)"),
                Lang::En => format!("{base} (current state: \"{state}\")"),
            },
            R::PartsStillFitted { parts } => format!("{base} ({})", parts.len()),
            R::WeeeBatchNotOpen { batch, status } => format!("{base} (#{batch}: {status})"),
            R::CorrectionNotPossible { event } => match lang {
                Lang::Fr => format!("{base} (« {event} » : utilisez l'étape inverse)"),
                Lang::En => format!("{base} (\"{event}\": use the inverse step)"),
            },
            _ => base.to_owned(),
        }
    }

    /// Machine-readable specifics for the API's `details`.
    pub fn details(&self) -> Option<serde_json::Value> {
        use Refusal as R;
        Some(match self {
            R::InvalidTransition { event, state } => json!({"event": event, "state": state}),
            R::WrongItemKind {
                event,
                kind,
                category,
            } => json!({"event": event, "kind": kind, "category": category}),
            R::DrivesNotErased { serials } => json!({"serials": serials}),
            R::DuplicateDriveSerial { serial }
            | R::UnknownDrive { serial }
            | R::DriveDestroyed { serial }
            | R::DriveNotErased { serial } => json!({"serial": serial}),
            R::PartNotTestedGood { state } => json!({"state": state}),
            R::PartOtherSite {
                part_site,
                device_site,
            } => json!({"part_site": part_site, "device_site": device_site}),
            R::PartsStillFitted { parts } => json!({"parts": parts}),
            R::SameSite { site } => json!({"site": site}),
            R::WeeeBatchNotOpen { batch, status } => json!({"batch": batch, "status": status}),
            R::WeeeBatchOtherSite { batch }
            | R::NotInWeeeBatch { batch }
            | R::AlreadyInWeeeBatch { batch } => json!({"batch": batch}),
            R::CorrectionNotPossible { event } => json!({"event": event}),
            R::CorrectionTargetMismatch { requested, last } => {
                json!({"requested": requested, "last": last})
            }
            R::DrivesUndeclared
            | R::DrivesAlreadyDeclared
            | R::DriveSerialRequired
            | R::QaMissing
            | R::QaFailed
            | R::PartAlreadyFitted
            | R::PartNotInDevice
            | R::AlreadyReserved
            | R::AfterSalesPending
            | R::NothingToCorrect => return None,
        })
    }
}

/// Creates the lifecycle of a newly registered item, checking that its first state
/// fits its kind.
pub fn register(payload: &EventPayload) -> Result<Lifecycle, Refusal> {
    let EventPayload::Registered {
        kind,
        category,
        state,
        site,
        drive,
        ..
    } = payload
    else {
        return Err(Refusal::NothingToCorrect);
    };
    let kind = *kind;
    let allowed = match kind {
        ItemKind::Device => [ItemState::Collected, ItemState::Received].contains(state),
        ItemKind::Part => [ItemState::Collected, ItemState::InStock].contains(state),
    };
    if category.kind() != kind || !allowed {
        return Err(Refusal::WrongItemKind {
            event: EventType::Registered,
            kind,
            category: *category,
        });
    }
    let drives: Vec<DriveFact> = drive.iter().cloned().collect();
    let holds_drive = kind == ItemKind::Part && category.is_drive();
    if !drives.is_empty() && !holds_drive {
        return Err(Refusal::WrongItemKind {
            event: EventType::Registered,
            kind,
            category: *category,
        });
    }
    Ok(Lifecycle {
        kind,
        category: *category,
        state: *state,
        site: *site,
        parent: None,
        drives_declared: !drives.is_empty(),
        drives,
        parts: Vec::new(),
        qa: None,
        route: None,
        weee_batch: None,
        hold: None,
        sale: None,
    })
}

fn wrong_state(event: EventType, item: &Lifecycle) -> Refusal {
    Refusal::InvalidTransition {
        event,
        state: item.state,
    }
}

fn wrong_kind(event: EventType, item: &Lifecycle) -> Refusal {
    Refusal::WrongItemKind {
        event,
        kind: item.kind,
        category: item.category,
    }
}

fn require_kind(event: EventType, item: &Lifecycle, kind: ItemKind) -> Result<(), Refusal> {
    if item.kind == kind {
        Ok(())
    } else {
        Err(wrong_kind(event, item))
    }
}

fn require_state(event: EventType, item: &Lifecycle, states: &[ItemState]) -> Result<(), Refusal> {
    if states.contains(&item.state) {
        Ok(())
    } else {
        Err(wrong_state(event, item))
    }
}

/// States in which drives can be declared, erased or destroyed.
fn drive_work_states(kind: ItemKind) -> &'static [ItemState] {
    use ItemState::*;
    match kind {
        ItemKind::Device => &[Received, Refurbishing, Harvesting, ToRecycle, Returned],
        ItemKind::Part => &[InStock, TestedGood, Faulty, ToRecycle],
    }
}

/// Drives are declared where they are worked on, and also at the donor's: a pickup
/// team notes them from the donor's list, and the donors' asset lists carry serials.
fn drive_declaring_states(kind: ItemKind) -> &'static [ItemState] {
    use ItemState::*;
    match kind {
        ItemKind::Device => &[
            Collected,
            Received,
            Refurbishing,
            Harvesting,
            ToRecycle,
            Returned,
        ],
        ItemKind::Part => &[Collected, InStock, TestedGood, Faulty, ToRecycle],
    }
}

fn require_sanitised(item: &Lifecycle) -> Result<(), Refusal> {
    // A device, or a drive part registered without its serial: what it holds is unknown.
    if !item.drives_declared && (item.kind == ItemKind::Device || item.is_drive()) {
        return Err(Refusal::DrivesUndeclared);
    }
    let pending = item.unsanitised_drives();
    if pending.is_empty() {
        return Ok(());
    }
    if item.is_drive() {
        Err(Refusal::DriveNotErased {
            serial: pending.join(", "),
        })
    } else {
        Err(Refusal::DrivesNotErased { serials: pending })
    }
}

/// The rules for fitting `part` into `device`, checked from either side.
pub fn check_fit(device: &Lifecycle, part: &Lifecycle) -> Result<(), Refusal> {
    let ev = EventType::PartFitted;
    require_kind(ev, device, ItemKind::Device)?;
    require_kind(EventType::FittedInto, part, ItemKind::Part)?;
    require_state(ev, device, &[ItemState::Refurbishing])?;
    if part.parent.is_some() || part.state == ItemState::Fitted {
        return Err(Refusal::PartAlreadyFitted);
    }
    if part.state != ItemState::TestedGood {
        return Err(Refusal::PartNotTestedGood { state: part.state });
    }
    if part.site != device.site {
        return Err(Refusal::PartOtherSite {
            part_site: part.site,
            device_site: device.site,
        });
    }
    if part.is_drive() {
        require_sanitised(part)?;
        for d in &part.drives {
            if device.drives.iter().any(|x| x.serial == d.serial) {
                return Err(Refusal::DuplicateDriveSerial {
                    serial: d.serial.clone(),
                });
            }
        }
    }
    Ok(())
}

/// The rules for taking `part` out of `device`.
pub fn check_remove(
    device_id: ItemId,
    device: &Lifecycle,
    part_id: ItemId,
    part: &Lifecycle,
) -> Result<(), Refusal> {
    require_kind(EventType::PartRemoved, device, ItemKind::Device)?;
    require_state(
        EventType::PartRemoved,
        device,
        &[ItemState::Refurbishing, ItemState::Harvesting],
    )?;
    if !device.parts.contains(&part_id) || part.parent != Some(device_id) {
        return Err(Refusal::PartNotInDevice);
    }
    Ok(())
}

/// Both sides of a two-item step: the device's event and next lifecycle, the part's.
#[derive(Debug, Clone, PartialEq)]
pub struct PairStep {
    pub device_event: EventPayload,
    pub device: Lifecycle,
    pub part_event: EventPayload,
    pub part: Lifecycle,
}

/// Fitting `part` into `device`: both events and both next lifecycles, or why not.
pub fn fit(
    device_id: ItemId,
    device: &Lifecycle,
    part_id: ItemId,
    part: &Lifecycle,
) -> Result<PairStep, Refusal> {
    check_fit(device, part)?;
    let part_event = EventPayload::FittedInto { device: device_id };
    let part_next = apply(
        part,
        &part_event,
        &Context {
            counterpart: Some((device_id, device)),
            item: Some(part_id),
            ..Context::default()
        },
    )?;
    let device_event = EventPayload::PartFitted {
        part: part_id,
        drives: if part.is_drive() {
            part.drives.clone()
        } else {
            Vec::new()
        },
    };
    let device_next = apply(
        device,
        &device_event,
        &Context {
            counterpart: Some((part_id, part)),
            item: Some(device_id),
            ..Context::default()
        },
    )?;
    Ok(PairStep {
        device_event,
        device: device_next,
        part_event,
        part: part_next,
    })
}

/// Taking `part` out of `device`: both events and both next lifecycles, or why not.
pub fn remove(
    device_id: ItemId,
    device: &Lifecycle,
    part_id: ItemId,
    part: &Lifecycle,
) -> Result<PairStep, Refusal> {
    check_remove(device_id, device, part_id, part)?;
    let drive_status = device
        .drives
        .iter()
        .find(|d| d.part == Some(part_id))
        .map(|d| d.status);
    let part_event = EventPayload::RemovedFrom {
        device: device_id,
        drive_status,
    };
    let part_next = apply(
        part,
        &part_event,
        &Context {
            counterpart: Some((device_id, device)),
            item: Some(part_id),
            ..Context::default()
        },
    )?;
    let device_event = EventPayload::PartRemoved { part: part_id };
    let device_next = apply(
        device,
        &device_event,
        &Context {
            counterpart: Some((part_id, part)),
            item: Some(device_id),
            ..Context::default()
        },
    )?;
    Ok(PairStep {
        device_event,
        device: device_next,
        part_event,
        part: part_next,
    })
}

/// What a client can tell of a command before sending it: the item's next lifecycle,
/// or the refusal the server would give. `None` when the rules need facts only the
/// server has (a WEEE batch's status, the event a correction undoes, a new label).
/// `site` is where the step is done (the bench's site); `counterpart` is the part of a
/// fit or removal. The harvested part's id is not known before the server assigns it:
/// the check does not depend on it.
pub fn preview(
    item_id: ItemId,
    item: &Lifecycle,
    command: &crate::api::Command,
    site: SiteId,
    counterpart: Option<(ItemId, &Lifecycle)>,
) -> Option<Result<Lifecycle, Refusal>> {
    use crate::api::Command as C;
    let single = |payload: EventPayload| {
        Some(apply(
            item,
            &payload,
            &Context {
                item: Some(item_id),
                ..Context::default()
            },
        ))
    };
    match command {
        C::Receive { site: to } => single(EventPayload::Received {
            site: to.unwrap_or(site),
        }),
        C::Triage { route } => single(EventPayload::Triaged { route: *route }),
        C::DeclareDrives { drives } => single(EventPayload::DrivesDeclared {
            drives: drives.clone(),
        }),
        C::DeclareNoDrive => single(EventPayload::NoDriveDeclared),
        C::EraseDrive { serial, erasure } => single(EventPayload::DriveErased {
            serial: serial.trim().to_owned(),
            erasure: erasure.clone(),
        }),
        C::DestroyDrive {
            serial,
            method,
            notes,
        } => single(EventPayload::DriveDestroyed {
            serial: serial.trim().to_owned(),
            method: method.clone(),
            notes: notes.clone(),
        }),
        C::HarvestPart {
            category,
            drive_serial,
            ..
        } => single(EventPayload::PartHarvested {
            part: ItemId(0),
            category: *category,
            drive_serial: drive_serial.clone(),
        }),
        C::FinishTeardown => single(EventPayload::TeardownDone),
        C::TestPart { result, notes } => single(EventPayload::PartTested {
            result: *result,
            notes: notes.clone(),
        }),
        C::FitPart { part, .. } => {
            let (id, lc) = counterpart.filter(|(id, _)| id == part)?;
            Some(fit(item_id, item, id, lc).map(|s| s.device))
        }
        C::RemovePart { part, .. } => {
            let (id, lc) = counterpart.filter(|(id, _)| id == part)?;
            Some(remove(item_id, item, id, lc).map(|s| s.device))
        }
        C::QaTest { report } => single(EventPayload::QaTested {
            report: report.clone(),
        }),
        C::MarkReady => single(EventPayload::MarkedReady),
        C::Reopen { reason } => single(EventPayload::Reopened {
            reason: reason.clone(),
        }),
        C::Move { site: to } => single(EventPayload::Moved {
            from: item.site,
            to: *to,
            with_parent: false,
        }),
        C::MarkForRecycling => single(EventPayload::MarkedForRecycling),
        C::Relabel { .. }
        | C::AddToWeeeBatch { .. }
        | C::RemoveFromWeeeBatch { .. }
        | C::CorrectLast { .. } => None,
    }
}

/// Checks `event` against the rules and returns the item's next lifecycle.
///
/// `registered` and `corrected` are not applied here: see [`register`] and [`replay`].
pub fn apply(item: &Lifecycle, event: &EventPayload, ctx: &Context) -> Result<Lifecycle, Refusal> {
    check(item, event, ctx)?;
    Ok(evolve(item, event))
}

/// The guards of [`apply`], without the effect.
pub fn check(item: &Lifecycle, event: &EventPayload, ctx: &Context) -> Result<(), Refusal> {
    use EventPayload as P;
    use ItemState::*;
    let ev = event.event_type();
    if item.state.is_final() {
        return Err(wrong_state(ev, item));
    }
    match event {
        P::Registered { .. } => Err(wrong_state(ev, item)),
        P::Corrected { .. } => Err(wrong_state(ev, item)),
        P::Received { .. } => require_state(ev, item, &[Collected]),
        P::Triaged { route } => {
            require_kind(ev, item, ItemKind::Device)?;
            require_state(ev, item, &[Received, Returned, Refurbishing, Harvesting])?;
            if item.sale.is_some() {
                return Err(Refusal::AfterSalesPending);
            }
            if item.route == Some(*route) && item.state != Returned {
                return Err(wrong_state(ev, item));
            }
            Ok(())
        }
        P::DrivesDeclared { drives } => {
            require_state(ev, item, drive_declaring_states(item.kind))?;
            if item.kind == ItemKind::Part {
                if !item.category.is_drive() || drives.len() != 1 {
                    return Err(wrong_kind(ev, item));
                }
                if item.drives_declared {
                    return Err(Refusal::DrivesAlreadyDeclared);
                }
            }
            let mut seen: Vec<&str> = item.drives.iter().map(|d| d.serial.as_str()).collect();
            for d in drives {
                if seen.contains(&d.serial.as_str()) {
                    return Err(Refusal::DuplicateDriveSerial {
                        serial: d.serial.clone(),
                    });
                }
                seen.push(&d.serial);
            }
            Ok(())
        }
        P::NoDriveDeclared => {
            require_kind(ev, item, ItemKind::Device)?;
            require_state(ev, item, drive_declaring_states(item.kind))?;
            if item.drives_declared || !item.drives.is_empty() {
                return Err(Refusal::DrivesAlreadyDeclared);
            }
            Ok(())
        }
        P::DriveErased { serial, .. } | P::DriveDestroyed { serial, .. } => {
            require_state(ev, item, drive_work_states(item.kind))?;
            match item.drives.iter().find(|d| &d.serial == serial) {
                None => Err(Refusal::UnknownDrive {
                    serial: serial.clone(),
                }),
                Some(d) if d.status == DriveStatus::Destroyed => Err(Refusal::DriveDestroyed {
                    serial: serial.clone(),
                }),
                Some(_) => Ok(()),
            }
        }
        P::PartHarvested {
            category,
            drive_serial,
            ..
        } => {
            require_kind(ev, item, ItemKind::Device)?;
            require_state(ev, item, &[Harvesting, Refurbishing])?;
            if category.kind() != ItemKind::Part {
                return Err(wrong_kind(ev, item));
            }
            match (category.is_drive(), drive_serial) {
                (true, None) => Err(Refusal::DriveSerialRequired),
                (false, Some(_)) => Err(wrong_kind(ev, item)),
                (true, Some(serial)) => match item.drives.iter().find(|d| &d.serial == serial) {
                    None => Err(Refusal::UnknownDrive {
                        serial: serial.clone(),
                    }),
                    Some(d) if d.status == DriveStatus::Destroyed => Err(Refusal::DriveDestroyed {
                        serial: serial.clone(),
                    }),
                    Some(d) if d.part.is_some() => Err(Refusal::PartAlreadyFitted),
                    Some(_) => Ok(()),
                },
                (false, None) => Ok(()),
            }
        }
        P::TeardownDone => {
            require_kind(ev, item, ItemKind::Device)?;
            require_state(ev, item, &[Harvesting])?;
            require_sanitised(item)?;
            if !item.parts.is_empty() {
                return Err(Refusal::PartsStillFitted {
                    parts: item.parts.clone(),
                });
            }
            Ok(())
        }
        P::PartTested { .. } => {
            require_kind(ev, item, ItemKind::Part)?;
            require_state(ev, item, &[InStock, TestedGood, Faulty])
        }
        P::PartFitted { .. } => match ctx.counterpart {
            Some((_, part)) => check_fit(item, part),
            None => Err(Refusal::PartNotTestedGood { state: item.state }),
        },
        P::FittedInto { .. } => match ctx.counterpart {
            Some((_, device)) => check_fit(device, item),
            None => Err(wrong_state(ev, item)),
        },
        P::PartRemoved { part } => match (ctx.counterpart, ctx.item) {
            (Some((_, p)), Some(me)) => check_remove(me, item, *part, p),
            _ => Err(Refusal::PartNotInDevice),
        },
        P::RemovedFrom { device, .. } => match (ctx.counterpart, ctx.item) {
            (Some((_, d)), Some(me)) => check_remove(*device, d, me, item),
            _ => Err(Refusal::PartNotInDevice),
        },
        P::QaTested { .. } => {
            require_kind(ev, item, ItemKind::Device)?;
            require_state(ev, item, &[Refurbishing])
        }
        P::MarkedReady => {
            require_kind(ev, item, ItemKind::Device)?;
            require_state(ev, item, &[Refurbishing])?;
            if item.sale.is_some() {
                return Err(Refusal::AfterSalesPending);
            }
            match item.blockers_for_ready().into_iter().next() {
                Some(refusal) => Err(refusal),
                None => Ok(()),
            }
        }
        P::Reopened { .. } => {
            require_kind(ev, item, ItemKind::Device)?;
            require_state(ev, item, &[Ready])
        }
        P::Moved {
            to, with_parent, ..
        } => {
            if matches!(item.state, Reserved | Sold) {
                return Err(wrong_state(ev, item));
            }
            if item.state == Fitted && !with_parent {
                return Err(Refusal::PartAlreadyFitted);
            }
            if *to == item.site {
                return Err(Refusal::SameSite { site: *to });
            }
            if let Some(batch) = item.weee_batch {
                return Err(Refusal::AlreadyInWeeeBatch { batch });
            }
            if item.is_drive() && !with_parent {
                require_sanitised(item)?;
            }
            Ok(())
        }
        P::Relabelled { .. } => Ok(()),
        P::MarkedForRecycling => match item.kind {
            ItemKind::Device => require_state(ev, item, &[Harvested]),
            ItemKind::Part => require_state(ev, item, &[InStock, TestedGood, Faulty]),
        },
        P::WeeeAdded { batch } => {
            require_state(ev, item, &[ToRecycle])?;
            if let Some(current) = item.weee_batch {
                return Err(Refusal::AlreadyInWeeeBatch { batch: current });
            }
            check_batch_open(*batch, item, ctx)?;
            require_sanitised(item)
        }
        P::WeeeRemoved { batch } => {
            if item.weee_batch != Some(*batch) {
                return Err(Refusal::NotInWeeeBatch { batch: *batch });
            }
            check_batch_open(*batch, item, ctx)
        }
        P::Recycled { batch, with_parent } => {
            if *with_parent {
                require_state(ev, item, &[Fitted])
            } else if item.weee_batch != Some(*batch) {
                Err(Refusal::NotInWeeeBatch { batch: *batch })
            } else {
                require_state(ev, item, &[ToRecycle])
            }
        }
        P::Reserved { .. } => {
            require_kind(ev, item, ItemKind::Device)?;
            if item.state == Reserved {
                return Err(Refusal::AlreadyReserved);
            }
            require_state(ev, item, &[Ready])
        }
        P::ReservationEnded { reservation, .. } => {
            require_state(ev, item, &[Reserved])?;
            match &item.hold {
                Some(h) if h.reservation == *reservation => Ok(()),
                _ => Err(wrong_state(ev, item)),
            }
        }
        P::Sold { .. } => {
            require_kind(ev, item, ItemKind::Device)?;
            require_state(ev, item, &[Ready, Reserved])?;
            require_sanitised(item)
        }
        P::Returned { sale, .. } => {
            require_state(ev, item, &[Sold])?;
            require_sale(ev, item, *sale)
        }
        P::RepairStarted { sale, .. } | P::TakenBack { sale, .. } => {
            require_state(ev, item, &[Returned])?;
            require_sale(ev, item, *sale)
        }
        P::HandedBack { sale, .. } => {
            require_state(ev, item, &[Refurbishing])?;
            require_sale(ev, item, *sale)?;
            match item.qa {
                None => Err(Refusal::QaMissing),
                Some(qa) if !qa.passed => Err(Refusal::QaFailed),
                Some(_) => Ok(()),
            }
        }
    }
}

/// The after-sales steps act on the sale the device was sold under, and no other.
fn require_sale(event: EventType, item: &Lifecycle, sale: SaleId) -> Result<(), Refusal> {
    match &item.sale {
        Some(m) if m.sale == sale => Ok(()),
        _ => Err(wrong_state(event, item)),
    }
}

fn check_batch_open(batch: WeeeBatchId, item: &Lifecycle, ctx: &Context) -> Result<(), Refusal> {
    match ctx.weee_batch {
        Some(facts) if facts.id == batch => {
            if facts.status != WeeeBatchStatus::Open {
                Err(Refusal::WeeeBatchNotOpen {
                    batch,
                    status: facts.status,
                })
            } else if facts.site != item.site {
                Err(Refusal::WeeeBatchOtherSite { batch })
            } else {
                Ok(())
            }
        }
        _ => Err(Refusal::WeeeBatchNotOpen {
            batch,
            status: WeeeBatchStatus::Closed,
        }),
    }
}

/// The effect of an accepted event. Never fails: a stored event has been checked.
pub fn evolve(item: &Lifecycle, event: &EventPayload) -> Lifecycle {
    use EventPayload as P;
    use ItemState::*;
    let mut next = item.clone();
    match event {
        P::Registered { .. } | P::Corrected { .. } | P::Relabelled { .. } => {}
        P::Received { site } => {
            next.site = *site;
            next.state = match item.kind {
                ItemKind::Device => Received,
                ItemKind::Part => InStock,
            };
        }
        P::Triaged { route } => {
            next.route = Some(*route);
            next.state = match route {
                Route::Refurbish => Refurbishing,
                Route::Harvest => Harvesting,
                Route::Recycle => ToRecycle,
            };
        }
        P::DrivesDeclared { drives } => {
            next.drives_declared = true;
            next.drives.extend(drives.iter().map(|d| DriveFact {
                serial: d.serial.clone(),
                status: DriveStatus::Pending,
                part: None,
            }));
        }
        P::NoDriveDeclared => next.drives_declared = true,
        P::DriveErased { serial, erasure } => {
            if let Some(d) = next.drives.iter_mut().find(|d| &d.serial == serial) {
                d.status = if erasure.result == ErasureResult::Erased {
                    DriveStatus::Erased
                } else {
                    DriveStatus::Failed
                };
            }
        }
        P::DriveDestroyed { serial, .. } => {
            if let Some(d) = next.drives.iter_mut().find(|d| &d.serial == serial) {
                d.status = DriveStatus::Destroyed;
            }
            if next.is_drive() {
                next.state = Destroyed;
                next.weee_batch = None;
            }
        }
        P::PartHarvested { drive_serial, .. } => {
            if let Some(serial) = drive_serial {
                next.drives.retain(|d| &d.serial != serial);
            }
        }
        P::TeardownDone => next.state = Harvested,
        P::PartTested { result, .. } => {
            next.state = match result {
                PartTestResult::Good => TestedGood,
                PartTestResult::Faulty => Faulty,
            };
        }
        P::PartFitted { part, drives } => {
            next.parts.push(*part);
            next.drives.extend(drives.iter().map(|d| DriveFact {
                part: Some(*part),
                ..d.clone()
            }));
            next.qa = None;
        }
        P::FittedInto { device } => {
            next.parent = Some(*device);
            next.state = Fitted;
        }
        P::PartRemoved { part } => {
            next.parts.retain(|p| p != part);
            next.drives.retain(|d| d.part != Some(*part));
            next.qa = None;
        }
        P::RemovedFrom { drive_status, .. } => {
            next.parent = None;
            next.state = InStock;
            if let Some(status) = drive_status {
                for d in &mut next.drives {
                    d.status = *status;
                }
            }
        }
        P::QaTested { report } => next.qa = Some(report.summary()),
        P::MarkedReady => next.state = Ready,
        P::Reopened { .. } => {
            next.state = Refurbishing;
            next.qa = None;
        }
        P::Moved { to, .. } => next.site = *to,
        P::MarkedForRecycling => next.state = ToRecycle,
        P::WeeeAdded { batch } => next.weee_batch = Some(*batch),
        P::WeeeRemoved { .. } => next.weee_batch = None,
        P::Recycled { .. } => next.state = Recycled,
        P::Reserved {
            reservation,
            reference,
            until,
        } => {
            next.state = Reserved;
            next.hold = Some(Box::new(Hold {
                reservation: *reservation,
                reference: reference.clone(),
                until: *until,
            }));
        }
        P::ReservationEnded { .. } => {
            next.state = Ready;
            next.hold = None;
        }
        P::Sold {
            sale,
            buyer,
            guarantee_until,
        } => {
            next.state = Sold;
            next.hold = None;
            next.sale = Some(Box::new(SaleMark {
                sale: *sale,
                buyer: buyer.clone(),
                guarantee_until: *guarantee_until,
            }));
        }
        P::Returned { .. } => next.state = Returned,
        P::RepairStarted { .. } => {
            next.state = Refurbishing;
            next.route = Some(Route::Refurbish);
            next.qa = None;
        }
        P::HandedBack {
            guarantee_until, ..
        } => {
            next.state = Sold;
            if let Some(m) = next.sale.as_mut() {
                m.guarantee_until = *guarantee_until;
            }
        }
        P::TakenBack { .. } => {
            next.sale = None;
            next.route = None;
        }
    }
    next
}

/// Why a stored history cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("the history is empty or does not start with `registered`")]
    NotRegistered,
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// One event of a stored history, as [`replay`] reads it.
pub type HistoryEntry<'a> = (EventId, &'a EventPayload);

/// Folds an item's stored history into its lifecycle. A `corrected` event undoes the
/// last effective event before it; it is refused when that event is not correctable.
pub fn replay<'a>(
    history: impl IntoIterator<Item = HistoryEntry<'a>>,
) -> Result<Lifecycle, ReplayError> {
    let mut iter = history.into_iter();
    let (first_id, first) = iter.next().ok_or(ReplayError::NotRegistered)?;
    let start = register(first).map_err(|_| ReplayError::NotRegistered)?;
    // The lifecycle after each effective event, with that event's id and type.
    let mut stack: Vec<(EventId, EventType, Lifecycle)> =
        vec![(first_id, EventType::Registered, start)];
    for (id, payload) in iter {
        let current = stack.last().map(|(_, _, l)| l.clone());
        let Some(current) = current else {
            return Err(ReplayError::NotRegistered);
        };
        match payload {
            EventPayload::Registered { .. } => return Err(ReplayError::NotRegistered),
            EventPayload::Corrected { event, .. } => {
                correction_target(&stack, *event)?;
                stack.pop();
            }
            payload => stack.push((id, payload.event_type(), evolve(&current, payload))),
        }
    }
    stack
        .pop()
        .map(|(_, _, l)| l)
        .ok_or(ReplayError::NotRegistered)
}

fn correction_target(
    stack: &[(EventId, EventType, Lifecycle)],
    requested: EventId,
) -> Result<(), Refusal> {
    if stack.len() <= 1 {
        return Err(Refusal::NothingToCorrect);
    }
    let Some((last_id, last_type, _)) = stack.last() else {
        return Err(Refusal::NothingToCorrect);
    };
    if *last_id != requested {
        return Err(Refusal::CorrectionTargetMismatch {
            requested,
            last: Some(*last_id),
        });
    }
    if !last_type.is_correctable() {
        return Err(Refusal::CorrectionNotPossible { event: *last_type });
    }
    Ok(())
}

/// The event a `corrected` event would undo: the last effective one, if any.
pub fn last_effective_event<'a>(
    history: impl IntoIterator<Item = HistoryEntry<'a>>,
) -> Option<(EventId, EventType)> {
    let mut stack: Vec<(EventId, EventType)> = Vec::new();
    for (id, payload) in history {
        match payload {
            EventPayload::Corrected { .. } => {
                stack.pop();
            }
            p => stack.push((id, p.event_type())),
        }
    }
    if stack.len() <= 1 { None } else { stack.pop() }
}

#[cfg(test)]
mod tests;
