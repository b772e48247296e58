//! Identifier newtypes: an item id can never be passed where a site id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                Self(v)
            }
        }
    )*};
}

id_type!(
    /// A region groups the sites a coordinator watches.
    RegionId,
    /// A workshop, warehouse or shop.
    SiteId,
    /// A donor, recycler, social partner or training venue.
    OrgId,
    UserId,
    /// A workstation at a site, authenticated by its bench token.
    BenchId,
    CollectionId,
    LabelBatchId,
    /// A device or a part.
    ItemId,
    EventId,
    WeeeBatchId,
    ErasureId,
    QaReportId,
    /// A label printer of a site or a bench.
    PrinterId,
    LabelTemplateId,
    /// A household referred by a social organisation, known by a pseudonymous reference.
    BeneficiaryId,
    /// A device held for a beneficiary.
    ReservationId,
    TrainingSessionId,
    /// A seat (or a place on the waiting list) in a training session.
    BookingId,
    /// A beneficiary's recorded need, when no device fits yet.
    NeedId,
    /// An invoice or a credit note.
    SaleId,
    /// A solidarity price of a region, per category and grade.
    PriceRuleId,
    /// A device brought back under the guarantee, and what after-sales did with it.
    AfterSalesId,
    /// A donor's offer of computers, sent through the public form.
    OfferId,
);
