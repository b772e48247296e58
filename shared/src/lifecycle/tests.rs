//! The transition table, every guard, and properties over generated histories.

use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const SITE: SiteId = SiteId(1);
const OTHER_SITE: SiteId = SiteId(2);
const ME: ItemId = ItemId(10);
const PART: ItemId = ItemId(20);
const BATCH: WeeeBatchId = WeeeBatchId(5);

fn code() -> LabelCode {
    LabelCode::from_symbols([1, 2, 3, 4, 5, 6, 7]).expect("valid symbols")
}

fn erasure(result: ErasureResult) -> ErasureData {
    let at = DateTime::<Utc>::from_timestamp(1_790_000_000, 0).expect("timestamp");
    ErasureData {
        level: NistLevel::Purge,
        technique: ErasureTechnique::Overwrite,
        tool: "nwipe".into(),
        tool_version: Some("0.36".into()),
        method: Some("PRNG stream".into()),
        passes: Some(1),
        verified: true,
        started_at: at,
        ended_at: at,
        result,
        report: None,
    }
}

fn qa(passed: bool) -> QaData {
    QaData {
        checks: vec![
            QaLine {
                check: QaCheck::Boot,
                outcome: QaOutcome::Pass,
                note: None,
            },
            QaLine {
                check: QaCheck::Keyboard,
                outcome: if passed {
                    QaOutcome::Pass
                } else {
                    QaOutcome::Fail
                },
                note: None,
            },
        ],
        os_installed: Some("Linux Mint 22".into()),
        functional_grade: Some(Grade::A),
        cosmetic_grade: Some(Grade::B),
        notes: None,
    }
}

fn drive(serial: &str, status: DriveStatus) -> DriveFact {
    DriveFact {
        serial: serial.into(),
        status,
        part: None,
    }
}

fn spec(serial: &str) -> DriveSpec {
    DriveSpec {
        serial: serial.into(),
        make: None,
        model: None,
        size_gb: Some(256),
        bus: Some(DriveBus::Sata),
        media: Some(DriveMedia::Ssd),
    }
}

/// A device in `state` whose facts satisfy every guard: drives declared and erased,
/// a passed QA, the route that led to the state.
fn device(state: ItemState) -> Lifecycle {
    Lifecycle {
        kind: ItemKind::Device,
        category: Category::Laptop,
        state,
        site: SITE,
        parent: None,
        drives_declared: true,
        drives: vec![drive("D1", DriveStatus::Erased)],
        parts: Vec::new(),
        qa: Some(qa(true).summary()),
        route: match state {
            ItemState::Refurbishing | ItemState::Ready => Some(Route::Refurbish),
            ItemState::Harvesting | ItemState::Harvested => Some(Route::Harvest),
            ItemState::ToRecycle => Some(Route::Recycle),
            _ => None,
        },
        weee_batch: None,
        hold: (state == ItemState::Reserved).then(|| {
            Box::new(Hold {
                reservation: ReservationId(1),
                reference: "B-TEST".into(),
                until: chrono::DateTime::UNIX_EPOCH,
            })
        }),
        sale: (state == ItemState::Sold).then(sale_mark),
    }
}

const SALE: SaleId = SaleId(7);

fn sale_mark() -> Box<SaleMark> {
    Box::new(SaleMark {
        sale: SALE,
        buyer: "B-TEST".into(),
        guarantee_until: NaiveDate::from_ymd_opt(2028, 11, 26).expect("date"),
    })
}

/// A device under after-sales for its buyer: brought back, or being repaired.
fn device_of_buyer(state: ItemState) -> Lifecycle {
    Lifecycle {
        sale: Some(sale_mark()),
        ..device(state)
    }
}

/// A part in `state` (a RAM module, or an erased SSD when `drive`).
fn part(state: ItemState, is_drive: bool) -> Lifecycle {
    Lifecycle {
        kind: ItemKind::Part,
        category: if is_drive {
            Category::Ssd
        } else {
            Category::Ram
        },
        state,
        site: SITE,
        parent: (state == ItemState::Fitted).then_some(ME),
        drives_declared: is_drive,
        drives: if is_drive {
            vec![drive("S1", DriveStatus::Erased)]
        } else {
            Vec::new()
        },
        parts: Vec::new(),
        qa: None,
        route: None,
        weee_batch: None,
        hold: None,
        sale: None,
    }
}

fn open_batch() -> WeeeBatchFacts {
    WeeeBatchFacts {
        id: BATCH,
        status: WeeeBatchStatus::Open,
        site: SITE,
    }
}

fn states_of(kind: ItemKind) -> Vec<ItemState> {
    ItemState::ALL
        .iter()
        .copied()
        .filter(|s| s.applies_to(kind))
        .collect()
}

use ItemState::*;

/// One row of the transition table: an event, the item it is tried on in each state,
/// the context, and the states where it is allowed.
struct Row {
    name: &'static str,
    kind: ItemKind,
    event: EventPayload,
    item: fn(ItemState) -> Lifecycle,
    counterpart: Option<fn() -> Lifecycle>,
    batch: bool,
    allowed: &'static [ItemState],
}

fn table() -> Vec<Row> {
    let dev = ItemKind::Device;
    let prt = ItemKind::Part;
    let drive_work_dev: &'static [ItemState] =
        &[Received, Refurbishing, Harvesting, ToRecycle, Returned];
    // Declared at the donor's too, from the pickup team's notes or the donor's list.
    let drive_declaring_dev: &'static [ItemState] = &[
        Collected,
        Received,
        Refurbishing,
        Harvesting,
        ToRecycle,
        Returned,
    ];
    vec![
        Row {
            name: "receive device",
            kind: dev,
            event: EventPayload::Received { site: SITE },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Collected],
        },
        Row {
            name: "receive part",
            kind: prt,
            event: EventPayload::Received { site: SITE },
            item: |s| part(s, false),
            counterpart: None,
            batch: false,
            allowed: &[Collected],
        },
        Row {
            name: "triage harvest",
            kind: dev,
            event: EventPayload::Triaged {
                route: Route::Harvest,
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Received, Refurbishing, Returned],
        },
        Row {
            name: "triage refurbish",
            kind: dev,
            event: EventPayload::Triaged {
                route: Route::Refurbish,
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Received, Harvesting, Returned],
        },
        Row {
            name: "triage part",
            kind: prt,
            event: EventPayload::Triaged {
                route: Route::Refurbish,
            },
            item: |s| part(s, false),
            counterpart: None,
            batch: false,
            allowed: &[],
        },
        Row {
            name: "declare drives",
            kind: dev,
            event: EventPayload::DrivesDeclared {
                drives: vec![spec("D2")],
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: drive_declaring_dev,
        },
        Row {
            name: "declare no drive",
            kind: dev,
            event: EventPayload::NoDriveDeclared,
            item: |s| Lifecycle {
                drives_declared: false,
                drives: Vec::new(),
                ..device(s)
            },
            counterpart: None,
            batch: false,
            allowed: drive_declaring_dev,
        },
        Row {
            name: "erase device drive",
            kind: dev,
            event: EventPayload::DriveErased {
                serial: "D1".into(),
                erasure: erasure(ErasureResult::Erased),
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: drive_work_dev,
        },
        Row {
            name: "destroy device drive",
            kind: dev,
            event: EventPayload::DriveDestroyed {
                serial: "D1".into(),
                method: "shredder".into(),
                notes: None,
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: drive_work_dev,
        },
        Row {
            name: "erase harvested drive",
            kind: prt,
            event: EventPayload::DriveErased {
                serial: "S1".into(),
                erasure: erasure(ErasureResult::Erased),
            },
            item: |s| part(s, true),
            counterpart: None,
            batch: false,
            allowed: &[InStock, TestedGood, Faulty, ToRecycle],
        },
        Row {
            name: "harvest ram",
            kind: dev,
            event: EventPayload::PartHarvested {
                part: PART,
                category: Category::Ram,
                drive_serial: None,
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Refurbishing, Harvesting],
        },
        Row {
            name: "teardown done",
            kind: dev,
            event: EventPayload::TeardownDone,
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Harvesting],
        },
        Row {
            name: "test part",
            kind: prt,
            event: EventPayload::PartTested {
                result: PartTestResult::Good,
                notes: None,
            },
            item: |s| part(s, false),
            counterpart: None,
            batch: false,
            allowed: &[InStock, TestedGood, Faulty],
        },
        Row {
            name: "test device",
            kind: dev,
            event: EventPayload::PartTested {
                result: PartTestResult::Good,
                notes: None,
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[],
        },
        Row {
            name: "fit part",
            kind: dev,
            event: EventPayload::PartFitted {
                part: PART,
                drives: Vec::new(),
            },
            item: device,
            counterpart: Some(|| part(TestedGood, false)),
            batch: false,
            allowed: &[Refurbishing],
        },
        Row {
            name: "fitted into",
            kind: prt,
            event: EventPayload::FittedInto { device: ME },
            item: |s| Lifecycle {
                parent: None,
                ..part(s, false)
            },
            counterpart: Some(|| device(Refurbishing)),
            batch: false,
            allowed: &[TestedGood],
        },
        Row {
            name: "remove part",
            kind: dev,
            event: EventPayload::PartRemoved { part: PART },
            item: |s| Lifecycle {
                parts: vec![PART],
                ..device(s)
            },
            counterpart: Some(|| part(Fitted, false)),
            batch: false,
            allowed: &[Refurbishing, Harvesting],
        },
        Row {
            name: "QA test",
            kind: dev,
            event: EventPayload::QaTested { report: qa(true) },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Refurbishing],
        },
        Row {
            name: "mark ready",
            kind: dev,
            event: EventPayload::MarkedReady,
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Refurbishing],
        },
        Row {
            name: "reopen",
            kind: dev,
            event: EventPayload::Reopened {
                reason: "écran".into(),
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Ready],
        },
        Row {
            name: "move device",
            kind: dev,
            event: EventPayload::Moved {
                from: SITE,
                to: OTHER_SITE,
                with_parent: false,
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[
                Collected,
                Received,
                Refurbishing,
                Ready,
                Returned,
                Harvesting,
                Harvested,
                ToRecycle,
            ],
        },
        Row {
            name: "move part",
            kind: prt,
            event: EventPayload::Moved {
                from: SITE,
                to: OTHER_SITE,
                with_parent: false,
            },
            item: |s| part(s, false),
            counterpart: None,
            batch: false,
            allowed: &[Collected, ToRecycle, InStock, TestedGood, Faulty],
        },
        Row {
            name: "move part with its device",
            kind: prt,
            event: EventPayload::Moved {
                from: SITE,
                to: OTHER_SITE,
                with_parent: true,
            },
            item: |s| part(s, false),
            counterpart: None,
            batch: false,
            allowed: &[Collected, ToRecycle, InStock, TestedGood, Faulty, Fitted],
        },
        Row {
            name: "relabel",
            kind: dev,
            event: EventPayload::Relabelled {
                old: code(),
                new: code(),
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[
                Collected,
                Received,
                Refurbishing,
                Ready,
                Reserved,
                Sold,
                Returned,
                Harvesting,
                Harvested,
                ToRecycle,
            ],
        },
        Row {
            name: "device to recycling",
            kind: dev,
            event: EventPayload::MarkedForRecycling,
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Harvested],
        },
        Row {
            name: "part to recycling",
            kind: prt,
            event: EventPayload::MarkedForRecycling,
            item: |s| part(s, false),
            counterpart: None,
            batch: false,
            allowed: &[InStock, TestedGood, Faulty],
        },
        Row {
            name: "add device to WEEE batch",
            kind: dev,
            event: EventPayload::WeeeAdded { batch: BATCH },
            item: device,
            counterpart: None,
            batch: true,
            allowed: &[ToRecycle],
        },
        Row {
            name: "add part to WEEE batch",
            kind: prt,
            event: EventPayload::WeeeAdded { batch: BATCH },
            item: |s| part(s, true),
            counterpart: None,
            batch: true,
            allowed: &[ToRecycle],
        },
        Row {
            name: "recycle",
            kind: dev,
            event: EventPayload::Recycled {
                batch: BATCH,
                with_parent: false,
            },
            item: |s| Lifecycle {
                weee_batch: Some(BATCH),
                ..device(s)
            },
            counterpart: None,
            batch: true,
            allowed: &[ToRecycle],
        },
        Row {
            name: "recycle with parent",
            kind: prt,
            event: EventPayload::Recycled {
                batch: BATCH,
                with_parent: true,
            },
            item: |s| part(s, false),
            counterpart: None,
            batch: true,
            allowed: &[Fitted],
        },
        Row {
            name: "reserve",
            kind: dev,
            event: EventPayload::Reserved {
                reservation: ReservationId(2),
                reference: "B-OTHER".into(),
                until: DateTime::UNIX_EPOCH,
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Ready],
        },
        Row {
            name: "cancel the reservation",
            kind: dev,
            event: EventPayload::ReservationEnded {
                reservation: ReservationId(1),
                expired: false,
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Reserved],
        },
        Row {
            name: "end another reservation",
            kind: dev,
            event: EventPayload::ReservationEnded {
                reservation: ReservationId(3),
                expired: true,
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[],
        },
        Row {
            name: "sell",
            kind: dev,
            event: EventPayload::Sold {
                sale: SALE,
                buyer: "B-TEST".into(),
                guarantee_until: NaiveDate::from_ymd_opt(2028, 11, 26).expect("date"),
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Ready, Reserved],
        },
        Row {
            name: "sell a device whose drive is not erased",
            kind: dev,
            event: EventPayload::Sold {
                sale: SALE,
                buyer: "B-TEST".into(),
                guarantee_until: NaiveDate::from_ymd_opt(2028, 11, 26).expect("date"),
            },
            item: |s| Lifecycle {
                drives: vec![drive("D1", DriveStatus::Pending)],
                ..device(s)
            },
            counterpart: None,
            batch: false,
            allowed: &[],
        },
        Row {
            name: "return under the guarantee",
            kind: dev,
            event: EventPayload::Returned {
                sale: SALE,
                reason: "écran".into(),
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[Sold],
        },
        Row {
            name: "return under another sale",
            kind: dev,
            event: EventPayload::Returned {
                sale: SaleId(8),
                reason: "écran".into(),
            },
            item: device,
            counterpart: None,
            batch: false,
            allowed: &[],
        },
        Row {
            name: "start a repair",
            kind: dev,
            event: EventPayload::RepairStarted {
                sale: SALE,
                reason: "clavier".into(),
            },
            item: device_of_buyer,
            counterpart: None,
            batch: false,
            allowed: &[Returned],
        },
        Row {
            name: "hand back repaired",
            kind: dev,
            event: EventPayload::HandedBack {
                sale: SALE,
                guarantee_until: NaiveDate::from_ymd_opt(2029, 5, 26).expect("date"),
            },
            item: device_of_buyer,
            counterpart: None,
            batch: false,
            allowed: &[Refurbishing],
        },
        Row {
            name: "hand back without a new QA",
            kind: dev,
            event: EventPayload::HandedBack {
                sale: SALE,
                guarantee_until: NaiveDate::from_ymd_opt(2029, 5, 26).expect("date"),
            },
            item: |s| Lifecycle {
                qa: None,
                ..device_of_buyer(s)
            },
            counterpart: None,
            batch: false,
            allowed: &[],
        },
        Row {
            name: "take back",
            kind: dev,
            event: EventPayload::TakenBack {
                sale: SALE,
                outcome: AfterSalesOutcome::Refund,
                reason: "remboursé".into(),
            },
            item: device_of_buyer,
            counterpart: None,
            batch: false,
            allowed: &[Returned],
        },
        Row {
            name: "triage a device still under after-sales",
            kind: dev,
            event: EventPayload::Triaged {
                route: Route::Refurbish,
            },
            item: device_of_buyer,
            counterpart: None,
            batch: false,
            allowed: &[],
        },
        Row {
            name: "make ready a device repaired for its buyer",
            kind: dev,
            event: EventPayload::MarkedReady,
            item: device_of_buyer,
            counterpart: None,
            batch: false,
            allowed: &[],
        },
        Row {
            name: "reserve a part",
            kind: prt,
            event: EventPayload::Reserved {
                reservation: ReservationId(2),
                reference: "B-OTHER".into(),
                until: DateTime::UNIX_EPOCH,
            },
            item: |s| part(s, false),
            counterpart: None,
            batch: false,
            allowed: &[],
        },
    ]
}

#[test]
fn every_event_in_every_state_follows_the_table() {
    let mut checked = 0;
    for row in table() {
        let other = row.counterpart.map(|f| f());
        let ctx = Context {
            counterpart: other.as_ref().map(|o| {
                (
                    if row.kind == ItemKind::Device {
                        PART
                    } else {
                        ME
                    },
                    o,
                )
            }),
            weee_batch: row.batch.then(open_batch),
            item: Some(if row.kind == ItemKind::Device {
                ME
            } else {
                PART
            }),
        };
        for state in states_of(row.kind) {
            let item = (row.item)(state);
            let result = check(&item, &row.event, &ctx);
            let expected = row.allowed.contains(&state);
            assert_eq!(
                result.is_ok(),
                expected,
                "{} in state {state}: {result:?}",
                row.name
            );
            if let Err(refusal) = &result {
                // A refusal always says why, in both languages.
                assert!(!refusal.message(Lang::Fr).is_empty());
                assert!(!refusal.message(Lang::En).is_empty());
                assert!(matches!(refusal.code().http_status(), 409 | 422));
            }
            checked += 1;
        }
    }
    assert!(checked > 250, "only {checked} cells checked");
}

#[test]
fn final_states_refuse_everything() {
    for row in table() {
        for state in [Recycled, Destroyed] {
            if !state.applies_to(row.kind) {
                continue;
            }
            let refusal =
                check(&(row.item)(state), &row.event, &Context::default()).expect_err(row.name);
            assert_eq!(refusal.code(), ErrorCode::InvalidTransition, "{}", row.name);
        }
    }
}

#[test]
fn effects_of_accepted_events() {
    let ctx = Context::default();
    let collected = device(Collected);
    let received = apply(
        &collected,
        &EventPayload::Received { site: OTHER_SITE },
        &ctx,
    )
    .expect("receive");
    assert_eq!((received.state, received.site), (Received, OTHER_SITE));
    for (route, state) in [
        (Route::Refurbish, Refurbishing),
        (Route::Harvest, Harvesting),
        (Route::Recycle, ToRecycle),
    ] {
        let next =
            apply(&device(Received), &EventPayload::Triaged { route }, &ctx).expect("triage");
        assert_eq!((next.state, next.route), (state, Some(route)));
    }
    let part_collected = part(Collected, false);
    let next = apply(
        &part_collected,
        &EventPayload::Received { site: SITE },
        &ctx,
    )
    .expect("receive part");
    assert_eq!(next.state, InStock);
    let good = apply(
        &part(InStock, false),
        &EventPayload::PartTested {
            result: PartTestResult::Good,
            notes: None,
        },
        &ctx,
    )
    .expect("test");
    assert_eq!(good.state, TestedGood);
    let faulty = apply(
        &good,
        &EventPayload::PartTested {
            result: PartTestResult::Faulty,
            notes: None,
        },
        &ctx,
    )
    .expect("retest");
    assert_eq!(faulty.state, Faulty);

    // A failed erasure leaves the drive unsanitised; destroying it sanitises it.
    let dev = Lifecycle {
        drives: vec![drive("D1", DriveStatus::Pending)],
        ..device(Refurbishing)
    };
    let failed = apply(
        &dev,
        &EventPayload::DriveErased {
            serial: "D1".into(),
            erasure: erasure(ErasureResult::Failed),
        },
        &ctx,
    )
    .expect("erase");
    assert_eq!(failed.drives[0].status, DriveStatus::Failed);
    assert_eq!(failed.unsanitised_drives(), vec!["D1".to_owned()]);
    let destroyed = apply(
        &failed,
        &EventPayload::DriveDestroyed {
            serial: "D1".into(),
            method: "broyeur".into(),
            notes: None,
        },
        &ctx,
    )
    .expect("destroy");
    assert_eq!(destroyed.drives[0].status, DriveStatus::Destroyed);
    assert!(destroyed.unsanitised_drives().is_empty());

    // A harvested drive leaves the device's drive list; a destroyed drive part is gone.
    let harvested = apply(
        &device(Harvesting),
        &EventPayload::PartHarvested {
            part: PART,
            category: Category::Ssd,
            drive_serial: Some("D1".into()),
        },
        &ctx,
    )
    .expect("harvest");
    assert!(harvested.drives.is_empty());
    let ssd = apply(
        &part(InStock, true),
        &EventPayload::DriveDestroyed {
            serial: "S1".into(),
            method: "perçage".into(),
            notes: None,
        },
        &ctx,
    )
    .expect("destroy ssd");
    assert_eq!(ssd.state, Destroyed);

    // Fitting carries the part's drive into the device and voids its QA.
    let ssd_good = part(TestedGood, true);
    let fitted = apply(
        &device(Refurbishing),
        &EventPayload::PartFitted {
            part: PART,
            drives: ssd_good.drives.clone(),
        },
        &Context {
            counterpart: Some((PART, &ssd_good)),
            ..ctx
        },
    )
    .expect("fit");
    assert_eq!(fitted.parts, vec![PART]);
    assert_eq!(fitted.drives.len(), 2);
    assert_eq!(fitted.drives[1].part, Some(PART));
    assert_eq!(fitted.qa, None);
    let removed = evolve(&fitted, &EventPayload::PartRemoved { part: PART });
    assert_eq!((removed.parts.len(), removed.drives.len()), (0, 1));
    let into = evolve(
        &part(TestedGood, false),
        &EventPayload::FittedInto { device: ME },
    );
    assert_eq!((into.state, into.parent), (Fitted, Some(ME)));
    let out = evolve(
        &into,
        &EventPayload::RemovedFrom {
            device: ME,
            drive_status: None,
        },
    );
    assert_eq!((out.state, out.parent), (InStock, None));

    let ready = apply(&device(Refurbishing), &EventPayload::MarkedReady, &ctx).expect("ready");
    assert_eq!(ready.state, Ready);
    let reopened = apply(
        &ready,
        &EventPayload::Reopened {
            reason: "batterie".into(),
        },
        &ctx,
    )
    .expect("reopen");
    assert_eq!((reopened.state, reopened.qa), (Refurbishing, None));
    let in_batch = apply(
        &device(ToRecycle),
        &EventPayload::WeeeAdded { batch: BATCH },
        &Context {
            weee_batch: Some(open_batch()),
            ..ctx
        },
    )
    .expect("add");
    assert_eq!(in_batch.weee_batch, Some(BATCH));
    let recycled = apply(
        &in_batch,
        &EventPayload::Recycled {
            batch: BATCH,
            with_parent: false,
        },
        &ctx,
    )
    .expect("recycle");
    assert_eq!(recycled.state, Recycled);
}

#[test]
fn ready_needs_declared_and_erased_drives_and_a_passed_qa() {
    let ctx = Context::default();
    let undeclared = Lifecycle {
        drives_declared: false,
        drives: Vec::new(),
        ..device(Refurbishing)
    };
    assert_eq!(
        check(&undeclared, &EventPayload::MarkedReady, &ctx),
        Err(Refusal::DrivesUndeclared)
    );
    let pending = Lifecycle {
        drives: vec![
            drive("D1", DriveStatus::Erased),
            drive("D2", DriveStatus::Pending),
            drive("D3", DriveStatus::Failed),
        ],
        ..device(Refurbishing)
    };
    assert_eq!(
        check(&pending, &EventPayload::MarkedReady, &ctx),
        Err(Refusal::DrivesNotErased {
            serials: vec!["D2".into(), "D3".into()]
        })
    );
    let no_qa = Lifecycle {
        qa: None,
        ..device(Refurbishing)
    };
    assert_eq!(
        check(&no_qa, &EventPayload::MarkedReady, &ctx),
        Err(Refusal::QaMissing)
    );
    let failed_qa = Lifecycle {
        qa: Some(qa(false).summary()),
        ..device(Refurbishing)
    };
    assert_eq!(
        check(&failed_qa, &EventPayload::MarkedReady, &ctx),
        Err(Refusal::QaFailed)
    );
    let destroyed = Lifecycle {
        drives: vec![drive("D1", DriveStatus::Destroyed)],
        ..device(Refurbishing)
    };
    assert_eq!(check(&destroyed, &EventPayload::MarkedReady, &ctx), Ok(()));
    let no_drive = Lifecycle {
        drives: Vec::new(),
        ..device(Refurbishing)
    };
    assert_eq!(check(&no_drive, &EventPayload::MarkedReady, &ctx), Ok(()));
    // The blockers list everything, in the order to fix them.
    let all = Lifecycle {
        drives_declared: false,
        drives: vec![drive("D1", DriveStatus::Pending)],
        qa: None,
        ..device(Refurbishing)
    };
    let codes: Vec<ErrorCode> = all.blockers_for_ready().iter().map(Refusal::code).collect();
    assert_eq!(
        codes,
        vec![
            ErrorCode::DrivesUndeclared,
            ErrorCode::DrivesNotErased,
            ErrorCode::QaMissing
        ]
    );
}

#[test]
fn a_qa_without_grades_or_boot_does_not_pass() {
    let mut no_grade = qa(true);
    no_grade.cosmetic_grade = None;
    assert!(!no_grade.passed());
    let mut no_boot = qa(true);
    no_boot.checks.retain(|l| l.check != QaCheck::Boot);
    assert!(!no_boot.passed());
    let mut not_applicable = qa(true);
    not_applicable.checks.push(QaLine {
        check: QaCheck::Webcam,
        outcome: QaOutcome::NotApplicable,
        note: None,
    });
    assert!(not_applicable.passed());
}

#[test]
fn fitting_guards() {
    let dev = device(Refurbishing);
    let pending_ssd = Lifecycle {
        drives: vec![drive("S1", DriveStatus::Pending)],
        ..part(TestedGood, true)
    };
    assert_eq!(
        check_fit(&dev, &pending_ssd),
        Err(Refusal::DriveNotErased {
            serial: "S1".into()
        })
    );
    let undeclared_ssd = Lifecycle {
        drives_declared: false,
        drives: Vec::new(),
        ..part(TestedGood, true)
    };
    assert_eq!(
        check_fit(&dev, &undeclared_ssd),
        Err(Refusal::DrivesUndeclared)
    );
    let elsewhere = Lifecycle {
        site: OTHER_SITE,
        ..part(TestedGood, false)
    };
    assert_eq!(
        check_fit(&dev, &elsewhere),
        Err(Refusal::PartOtherSite {
            part_site: OTHER_SITE,
            device_site: SITE
        })
    );
    assert_eq!(
        check_fit(&dev, &part(InStock, false)),
        Err(Refusal::PartNotTestedGood { state: InStock })
    );
    assert_eq!(
        check_fit(&dev, &part(Faulty, false)),
        Err(Refusal::PartNotTestedGood { state: Faulty })
    );
    assert_eq!(
        check_fit(&dev, &part(Fitted, false)),
        Err(Refusal::PartAlreadyFitted)
    );
    let same_serial = Lifecycle {
        drives: vec![drive("D1", DriveStatus::Erased)],
        ..part(TestedGood, true)
    };
    assert_eq!(
        check_fit(&dev, &same_serial),
        Err(Refusal::DuplicateDriveSerial {
            serial: "D1".into()
        })
    );
    assert!(matches!(
        check_fit(&device(Ready), &part(TestedGood, false)),
        Err(Refusal::InvalidTransition { .. })
    ));
    assert!(matches!(
        check_fit(&part(TestedGood, false), &part(TestedGood, false)),
        Err(Refusal::WrongItemKind { .. })
    ));
    assert_eq!(check_fit(&dev, &part(TestedGood, true)), Ok(()));
    // Both sides of the two-item event give the same answer.
    let ctx_dev = Context {
        counterpart: Some((PART, &elsewhere)),
        item: Some(ME),
        ..Context::default()
    };
    let ctx_part = Context {
        counterpart: Some((ME, &dev)),
        item: Some(PART),
        ..Context::default()
    };
    assert_eq!(
        check(
            &dev,
            &EventPayload::PartFitted {
                part: PART,
                drives: Vec::new()
            },
            &ctx_dev
        ),
        check(
            &elsewhere,
            &EventPayload::FittedInto { device: ME },
            &ctx_part
        )
    );
    // Without its counterpart a two-item event is refused.
    assert!(
        check(
            &dev,
            &EventPayload::PartFitted {
                part: PART,
                drives: Vec::new()
            },
            &Context::default()
        )
        .is_err()
    );
}

#[test]
fn removal_guards() {
    let dev = Lifecycle {
        parts: vec![PART],
        ..device(Refurbishing)
    };
    let fitted = part(Fitted, false);
    assert_eq!(check_remove(ME, &dev, PART, &fitted), Ok(()));
    assert_eq!(
        check_remove(ME, &dev, ItemId(99), &fitted),
        Err(Refusal::PartNotInDevice)
    );
    assert_eq!(
        check_remove(ItemId(11), &dev, PART, &fitted),
        Err(Refusal::PartNotInDevice)
    );
    assert!(matches!(
        check_remove(
            ME,
            &Lifecycle {
                state: Ready,
                ..dev.clone()
            },
            PART,
            &fitted
        ),
        Err(Refusal::InvalidTransition { .. })
    ));
    assert_eq!(
        check(
            &dev,
            &EventPayload::PartRemoved { part: PART },
            &Context::default()
        ),
        Err(Refusal::PartNotInDevice)
    );
}

#[test]
fn drive_guards() {
    let ctx = Context::default();
    let dev = device(Refurbishing);
    assert_eq!(
        check(
            &dev,
            &EventPayload::DriveErased {
                serial: "X".into(),
                erasure: erasure(ErasureResult::Erased)
            },
            &ctx
        ),
        Err(Refusal::UnknownDrive { serial: "X".into() })
    );
    let destroyed = Lifecycle {
        drives: vec![drive("D1", DriveStatus::Destroyed)],
        ..dev.clone()
    };
    assert_eq!(
        check(
            &destroyed,
            &EventPayload::DriveErased {
                serial: "D1".into(),
                erasure: erasure(ErasureResult::Erased)
            },
            &ctx
        ),
        Err(Refusal::DriveDestroyed {
            serial: "D1".into()
        })
    );
    assert_eq!(
        check(
            &dev,
            &EventPayload::DrivesDeclared {
                drives: vec![spec("D1")]
            },
            &ctx
        ),
        Err(Refusal::DuplicateDriveSerial {
            serial: "D1".into()
        })
    );
    assert_eq!(
        check(
            &dev,
            &EventPayload::DrivesDeclared {
                drives: vec![spec("D7"), spec("D7")]
            },
            &ctx
        ),
        Err(Refusal::DuplicateDriveSerial {
            serial: "D7".into()
        })
    );
    assert_eq!(
        check(&dev, &EventPayload::NoDriveDeclared, &ctx),
        Err(Refusal::DrivesAlreadyDeclared)
    );
    let ssd = part(InStock, true);
    assert_eq!(
        check(
            &ssd,
            &EventPayload::DrivesDeclared {
                drives: vec![spec("S2")]
            },
            &ctx
        ),
        Err(Refusal::DrivesAlreadyDeclared)
    );
    assert!(matches!(
        check(
            &part(InStock, false),
            &EventPayload::DrivesDeclared {
                drives: vec![spec("S2")]
            },
            &ctx
        ),
        Err(Refusal::WrongItemKind { .. })
    ));
    // Harvesting a drive needs its serial, a known one, not destroyed.
    let harvesting = device(Harvesting);
    assert_eq!(
        check(
            &harvesting,
            &EventPayload::PartHarvested {
                part: PART,
                category: Category::Hdd,
                drive_serial: None
            },
            &ctx
        ),
        Err(Refusal::DriveSerialRequired)
    );
    assert_eq!(
        check(
            &harvesting,
            &EventPayload::PartHarvested {
                part: PART,
                category: Category::Hdd,
                drive_serial: Some("Z".into())
            },
            &ctx
        ),
        Err(Refusal::UnknownDrive { serial: "Z".into() })
    );
    assert_eq!(
        check(
            &Lifecycle {
                drives: vec![drive("D1", DriveStatus::Destroyed)],
                ..harvesting.clone()
            },
            &EventPayload::PartHarvested {
                part: PART,
                category: Category::Hdd,
                drive_serial: Some("D1".into())
            },
            &ctx
        ),
        Err(Refusal::DriveDestroyed {
            serial: "D1".into()
        })
    );
    assert!(matches!(
        check(
            &harvesting,
            &EventPayload::PartHarvested {
                part: PART,
                category: Category::Laptop,
                drive_serial: None
            },
            &ctx
        ),
        Err(Refusal::WrongItemKind { .. })
    ));
    // A shell is done only when its drives are gone or sanitised and no part is left in it.
    let unerased = Lifecycle {
        drives: vec![drive("D1", DriveStatus::Pending)],
        ..harvesting.clone()
    };
    assert_eq!(
        check(&unerased, &EventPayload::TeardownDone, &ctx),
        Err(Refusal::DrivesNotErased {
            serials: vec!["D1".into()]
        })
    );
    let with_part = Lifecycle {
        parts: vec![PART],
        ..harvesting.clone()
    };
    assert_eq!(
        check(&with_part, &EventPayload::TeardownDone, &ctx),
        Err(Refusal::PartsStillFitted { parts: vec![PART] })
    );
    // An unerased drive does not travel alone, nor go to recycling.
    let pending_ssd = Lifecycle {
        drives: vec![drive("S1", DriveStatus::Pending)],
        ..part(TestedGood, true)
    };
    assert_eq!(
        check(
            &pending_ssd,
            &EventPayload::Moved {
                from: SITE,
                to: OTHER_SITE,
                with_parent: false
            },
            &ctx
        ),
        Err(Refusal::DriveNotErased {
            serial: "S1".into()
        })
    );
    let pending_recycle = Lifecycle {
        state: ToRecycle,
        ..pending_ssd
    };
    assert_eq!(
        check(
            &pending_recycle,
            &EventPayload::WeeeAdded { batch: BATCH },
            &Context {
                weee_batch: Some(open_batch()),
                ..ctx
            }
        ),
        Err(Refusal::DriveNotErased {
            serial: "S1".into()
        })
    );
}

#[test]
fn weee_and_move_guards() {
    let item = device(ToRecycle);
    let closed = WeeeBatchFacts {
        status: WeeeBatchStatus::Closed,
        ..open_batch()
    };
    assert_eq!(
        check(
            &item,
            &EventPayload::WeeeAdded { batch: BATCH },
            &Context {
                weee_batch: Some(closed),
                ..Context::default()
            }
        ),
        Err(Refusal::WeeeBatchNotOpen {
            batch: BATCH,
            status: WeeeBatchStatus::Closed
        })
    );
    let elsewhere = WeeeBatchFacts {
        site: OTHER_SITE,
        ..open_batch()
    };
    assert_eq!(
        check(
            &item,
            &EventPayload::WeeeAdded { batch: BATCH },
            &Context {
                weee_batch: Some(elsewhere),
                ..Context::default()
            }
        ),
        Err(Refusal::WeeeBatchOtherSite { batch: BATCH })
    );
    let in_batch = Lifecycle {
        weee_batch: Some(WeeeBatchId(4)),
        ..item.clone()
    };
    assert_eq!(
        check(
            &in_batch,
            &EventPayload::WeeeAdded { batch: BATCH },
            &Context {
                weee_batch: Some(open_batch()),
                ..Context::default()
            }
        ),
        Err(Refusal::AlreadyInWeeeBatch {
            batch: WeeeBatchId(4)
        })
    );
    assert_eq!(
        check(
            &item,
            &EventPayload::WeeeRemoved { batch: BATCH },
            &Context {
                weee_batch: Some(open_batch()),
                ..Context::default()
            }
        ),
        Err(Refusal::NotInWeeeBatch { batch: BATCH })
    );
    assert_eq!(
        check(
            &item,
            &EventPayload::Recycled {
                batch: BATCH,
                with_parent: false
            },
            &Context::default()
        ),
        Err(Refusal::NotInWeeeBatch { batch: BATCH })
    );
    assert_eq!(
        check(
            &in_batch,
            &EventPayload::Moved {
                from: SITE,
                to: OTHER_SITE,
                with_parent: false
            },
            &Context::default()
        ),
        Err(Refusal::AlreadyInWeeeBatch {
            batch: WeeeBatchId(4)
        })
    );
    assert_eq!(
        check(
            &item,
            &EventPayload::Moved {
                from: SITE,
                to: SITE,
                with_parent: false
            },
            &Context::default()
        ),
        Err(Refusal::SameSite { site: SITE })
    );
    assert_eq!(
        check(
            &part(Fitted, false),
            &EventPayload::Moved {
                from: SITE,
                to: OTHER_SITE,
                with_parent: false
            },
            &Context::default()
        ),
        Err(Refusal::PartAlreadyFitted)
    );
}

#[test]
fn registration_fits_the_kind() {
    let reg = |category, state, drive: Option<DriveFact>| EventPayload::Registered {
        code: code(),
        kind: Category::kind(category),
        category,
        state,
        site: SITE,
        collection: None,
        origin: None,
        drive,
    };
    assert_eq!(
        register(&reg(Category::Laptop, Received, None)).map(|l| l.state),
        Ok(Received)
    );
    assert_eq!(
        register(&reg(Category::Laptop, Collected, None)).map(|l| l.drives_declared),
        Ok(false)
    );
    assert_eq!(
        register(&reg(Category::Ram, InStock, None)).map(|l| l.state),
        Ok(InStock)
    );
    let ssd = register(&reg(
        Category::Ssd,
        InStock,
        Some(drive("S1", DriveStatus::Pending)),
    ))
    .expect("ssd");
    assert!(ssd.drives_declared);
    assert_eq!(ssd.unsanitised_drives(), vec!["S1".to_owned()]);
    assert!(register(&reg(Category::Laptop, Ready, None)).is_err());
    assert!(register(&reg(Category::Laptop, InStock, None)).is_err());
    assert!(register(&reg(Category::Ram, Received, None)).is_err());
    assert!(
        register(&reg(
            Category::Ram,
            InStock,
            Some(drive("S1", DriveStatus::Pending))
        ))
        .is_err()
    );
    let wrong_kind = EventPayload::Registered {
        code: code(),
        kind: ItemKind::Part,
        category: Category::Laptop,
        state: InStock,
        site: SITE,
        collection: None,
        origin: None,
        drive: None,
    };
    assert!(register(&wrong_kind).is_err());
    assert!(register(&EventPayload::MarkedReady).is_err());
}

fn registered() -> EventPayload {
    registered_in(Received)
}

fn registered_in(state: ItemState) -> EventPayload {
    EventPayload::Registered {
        code: code(),
        kind: ItemKind::Device,
        category: Category::Laptop,
        state,
        site: SITE,
        collection: None,
        origin: None,
        drive: None,
    }
}

#[test]
fn corrections_undo_the_last_effective_event_only() {
    let history = [
        (EventId(1), registered()),
        (
            EventId(2),
            EventPayload::Triaged {
                route: Route::Harvest,
            },
        ),
        (
            EventId(3),
            EventPayload::Corrected {
                event: EventId(2),
                reason: "mauvais choix".into(),
            },
        ),
        (
            EventId(4),
            EventPayload::Triaged {
                route: Route::Refurbish,
            },
        ),
    ];
    let life = replay(history.iter().map(|(id, p)| (*id, p))).expect("replay");
    assert_eq!(
        (life.state, life.route),
        (Refurbishing, Some(Route::Refurbish))
    );
    assert_eq!(
        last_effective_event(history.iter().map(|(id, p)| (*id, p))),
        Some((EventId(4), EventType::Triaged))
    );

    // Nothing before the registration can be undone.
    let only = [
        (EventId(1), registered()),
        (
            EventId(2),
            EventPayload::Corrected {
                event: EventId(1),
                reason: "x".into(),
            },
        ),
    ];
    assert_eq!(
        replay(only.iter().map(|(id, p)| (*id, p))),
        Err(ReplayError::Refused(Refusal::NothingToCorrect))
    );
    assert_eq!(
        last_effective_event(only[..1].iter().map(|(id, p)| (*id, p))),
        None
    );
    // Only the last effective event.
    let stale = [
        (EventId(1), registered()),
        (
            EventId(2),
            EventPayload::Triaged {
                route: Route::Harvest,
            },
        ),
        (EventId(3), EventPayload::TeardownDone),
        (
            EventId(4),
            EventPayload::Corrected {
                event: EventId(2),
                reason: "x".into(),
            },
        ),
    ];
    assert_eq!(
        replay(stale.iter().map(|(id, p)| (*id, p))),
        Err(ReplayError::Refused(Refusal::CorrectionTargetMismatch {
            requested: EventId(2),
            last: Some(EventId(3))
        }))
    );
    // Events that touch another item or a label are not undone by a correction.
    let relabel = [
        (EventId(1), registered()),
        (
            EventId(2),
            EventPayload::Relabelled {
                old: code(),
                new: code(),
            },
        ),
        (
            EventId(3),
            EventPayload::Corrected {
                event: EventId(2),
                reason: "x".into(),
            },
        ),
    ];
    assert_eq!(
        replay(relabel.iter().map(|(id, p)| (*id, p))),
        Err(ReplayError::Refused(Refusal::CorrectionNotPossible {
            event: EventType::Relabelled
        }))
    );
    for t in [
        EventType::PartHarvested,
        EventType::PartFitted,
        EventType::FittedInto,
        EventType::Moved,
        EventType::WeeeAdded,
        EventType::Recycled,
        EventType::Registered,
    ] {
        assert!(!t.is_correctable(), "{t}");
    }
    // A history must start with the registration, once.
    assert_eq!(replay(std::iter::empty()), Err(ReplayError::NotRegistered));
    let twice = [(EventId(1), registered()), (EventId(2), registered())];
    assert_eq!(
        replay(twice.iter().map(|(id, p)| (*id, p))),
        Err(ReplayError::NotRegistered)
    );
    // `check` never accepts a registration or a correction on an existing item.
    assert!(check(&device(Received), &registered(), &Context::default()).is_err());
}

// ---------------------------------------------------------------------------------
// Properties over generated histories of one device.

/// One step a technician might try on the device.
#[derive(Debug, Clone)]
enum Step {
    Event(EventPayload),
    /// Fit a part whose drive (if any) has this status.
    Fit {
        part: i64,
        drive: Option<DriveStatus>,
    },
    Remove {
        part: i64,
    },
    AddToBatch,
    Correct,
}

fn serial() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("D1".to_owned()),
        Just("D2".to_owned()),
        Just("P30".to_owned())
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let route = prop_oneof![4 => Just(Route::Refurbish), 1 => Just(Route::Harvest), 1 => Just(Route::Recycle)];
    let result = prop_oneof![3 => Just(ErasureResult::Erased), 1 => Just(ErasureResult::Failed), 1 => Just(ErasureResult::Aborted)];
    let drive_status = prop_oneof![
        Just(None),
        Just(Some(DriveStatus::Erased)),
        Just(Some(DriveStatus::Pending)),
        Just(Some(DriveStatus::Destroyed))
    ];
    prop_oneof![
        1 => Just(Step::Event(EventPayload::Received { site: SITE })),
        3 => route.prop_map(|route| Step::Event(EventPayload::Triaged { route })),
        3 => proptest::collection::vec(prop_oneof![Just("D1"), Just("D2")], 0..2).prop_map(|s| Step::Event(EventPayload::DrivesDeclared { drives: s.into_iter().map(spec).collect() })),
        1 => Just(Step::Event(EventPayload::NoDriveDeclared)),
        8 => (serial(), result).prop_map(|(serial, r)| Step::Event(EventPayload::DriveErased { serial, erasure: erasure(r) })),
        1 => serial().prop_map(|serial| Step::Event(EventPayload::DriveDestroyed { serial, method: "broyeur".into(), notes: None })),
        1 => (30i64..33).prop_map(|p| Step::Event(EventPayload::PartHarvested { part: ItemId(p), category: Category::Ram, drive_serial: None })),
        1 => Just(Step::Event(EventPayload::TeardownDone)),
        4 => prop_oneof![3 => Just(true), 1 => Just(false)].prop_map(|ok| Step::Event(EventPayload::QaTested { report: qa(ok) })),
        8 => Just(Step::Event(EventPayload::MarkedReady)),
        1 => Just(Step::Event(EventPayload::Reopened { reason: "retour".into() })),
        1 => Just(Step::Event(EventPayload::MarkedForRecycling)),
        1 => Just(Step::Event(EventPayload::Relabelled { old: code(), new: code() })),
        2 => ((30i64..33), drive_status).prop_map(|(part, drive)| Step::Fit { part, drive }),
        1 => (30i64..33).prop_map(|part| Step::Remove { part }),
        1 => Just(Step::AddToBatch),
        3 => Just(Step::Correct),
    ]
}

/// What happened to a generated history: the events stored, and the lifecycle after
/// each accepted step.
struct Run {
    history: Vec<(EventId, EventPayload)>,
    lifecycle: Lifecycle,
}

/// Plays the steps the way the server does: each checked against the rules, only the
/// accepted ones stored; a correction restores the state before the corrected event.
fn play(steps: &[Step], start: ItemState) -> Run {
    let first = registered_in(start);
    let mut lifecycle = register(&first).expect("registered");
    let mut history = vec![(EventId(1), first)];
    // Lifecycles before each effective event, to check corrections independently.
    let mut before: Vec<Lifecycle> = Vec::new();
    for step in steps {
        let next_id = EventId(history.len() as i64 + 1);
        let (payload, result) = match step {
            Step::Event(p) => (
                p.clone(),
                apply(
                    &lifecycle,
                    p,
                    &Context {
                        item: Some(ME),
                        ..Context::default()
                    },
                ),
            ),
            Step::Fit {
                part: p,
                drive: status,
            } => {
                let mut other = part(TestedGood, status.is_some());
                other.drives = status.iter().map(|s| drive(&format!("P{p}"), *s)).collect();
                let payload = EventPayload::PartFitted {
                    part: ItemId(*p),
                    drives: other.drives.clone(),
                };
                let ctx = Context {
                    counterpart: Some((ItemId(*p), &other)),
                    item: Some(ME),
                    ..Context::default()
                };
                let r = apply(&lifecycle, &payload, &ctx);
                (payload, r)
            }
            Step::Remove { part: p } => {
                let other = Lifecycle {
                    parent: Some(ME),
                    ..part(Fitted, false)
                };
                let payload = EventPayload::PartRemoved { part: ItemId(*p) };
                let ctx = Context {
                    counterpart: Some((ItemId(*p), &other)),
                    item: Some(ME),
                    ..Context::default()
                };
                let r = apply(&lifecycle, &payload, &ctx);
                (payload, r)
            }
            Step::AddToBatch => {
                let payload = EventPayload::WeeeAdded { batch: BATCH };
                let r = apply(
                    &lifecycle,
                    &payload,
                    &Context {
                        weee_batch: Some(open_batch()),
                        item: Some(ME),
                        ..Context::default()
                    },
                );
                (payload, r)
            }
            Step::Correct => {
                let Some((target, kind)) =
                    last_effective_event(history.iter().map(|(id, p)| (*id, p)))
                else {
                    continue;
                };
                if !kind.is_correctable() {
                    continue;
                }
                let payload = EventPayload::Corrected {
                    event: target,
                    reason: "erreur de saisie".into(),
                };
                let previous = before.pop().expect("a state before the corrected event");
                history.push((next_id, payload));
                lifecycle = previous;
                continue;
            }
        };
        if let Ok(next) = result {
            before.push(lifecycle.clone());
            history.push((next_id, payload));
            lifecycle = next;
        }
    }
    Run { history, lifecycle }
}

/// The effective events of a history: each correction cancels the last one standing.
fn effective(history: &[(EventId, EventPayload)]) -> Vec<&EventPayload> {
    let mut out: Vec<&EventPayload> = Vec::new();
    for (_, p) in history {
        if matches!(p, EventPayload::Corrected { .. }) {
            out.pop();
        } else {
            out.push(p);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Replaying the stored events gives exactly the lifecycle reached step by step.
    #[test]
    fn replay_yields_the_stored_state(steps in proptest::collection::vec(step(), 0..40), at_workshop in any::<bool>()) {
        let run = play(&steps, if at_workshop { Received } else { Collected });
        let replayed = replay(run.history.iter().map(|(id, p)| (*id, p)));
        prop_assert_eq!(replayed, Ok(run.lifecycle));
    }

    /// Whenever a device stands `ready`, its effective history has declared its drives,
    /// left none of them (its own or a fitted part's) unerased, and its last QA since
    /// the last change of parts passed. Worked out from the events, not from the
    /// lifecycle the rules keep.
    #[test]
    fn nothing_reaches_ready_without_erasure_and_a_passed_qa(steps in proptest::collection::vec(step(), 0..60)) {
        let run = play(&steps, Received);
        let events = effective(&run.history);
        let mut declared = false;
        let mut drives: BTreeMap<String, bool> = BTreeMap::new();
        let mut fitted_drives: BTreeMap<i64, Vec<(String, bool)>> = BTreeMap::new();
        let mut qa_passed: Option<bool> = None;
        let mut ready = false;
        for p in &events {
            match p {
                EventPayload::DrivesDeclared { drives: d } => {
                    declared = true;
                    for s in d { drives.insert(s.serial.clone(), false); }
                }
                EventPayload::NoDriveDeclared => declared = true,
                EventPayload::DriveErased { serial, erasure } => {
                    let ok = erasure.result == ErasureResult::Erased;
                    if let Some(v) = drives.get_mut(serial) { *v = ok; }
                    for list in fitted_drives.values_mut() {
                        for (s, v) in list.iter_mut() { if s == serial { *v = ok; } }
                    }
                }
                EventPayload::DriveDestroyed { serial, .. } => {
                    if let Some(v) = drives.get_mut(serial) { *v = true; }
                    for list in fitted_drives.values_mut() {
                        for (s, v) in list.iter_mut() { if s == serial { *v = true; } }
                    }
                }
                EventPayload::PartFitted { part, drives: d } => {
                    fitted_drives.insert(part.0, d.iter().map(|f| (f.serial.clone(), f.status.is_sanitised())).collect());
                    qa_passed = None;
                }
                EventPayload::PartRemoved { part } => {
                    fitted_drives.remove(&part.0);
                    qa_passed = None;
                }
                EventPayload::QaTested { report } => qa_passed = Some(report.passed()),
                EventPayload::Reopened { .. } => { qa_passed = None; ready = false; }
                EventPayload::MarkedReady => {
                    ready = true;
                    prop_assert!(declared, "ready with undeclared drives: {:?}", events);
                    prop_assert!(drives.values().all(|v| *v), "ready with unerased drives: {:?}", events);
                    prop_assert!(fitted_drives.values().flatten().all(|(_, v)| *v), "ready with an unerased fitted drive: {:?}", events);
                    prop_assert_eq!(qa_passed, Some(true), "ready without a passed QA: {:?}", events);
                }
                _ => {}
            }
        }
        prop_assert_eq!(ready, run.lifecycle.state == Ready);
    }
}

#[test]
fn generated_histories_do_reach_ready() {
    // The property above is only worth something if generated histories get there.
    let steps = vec![
        Step::Event(EventPayload::Triaged {
            route: Route::Refurbish,
        }),
        Step::Event(EventPayload::DrivesDeclared {
            drives: vec![spec("D1")],
        }),
        Step::Event(EventPayload::MarkedReady),
        Step::Event(EventPayload::DriveErased {
            serial: "D1".into(),
            erasure: erasure(ErasureResult::Erased),
        }),
        Step::Event(EventPayload::QaTested { report: qa(true) }),
        Step::Fit {
            part: 30,
            drive: Some(DriveStatus::Pending),
        },
        Step::Event(EventPayload::MarkedReady),
        Step::Correct,
        Step::Event(EventPayload::MarkedReady),
    ];
    let run = play(&steps, Received);
    assert_eq!(run.lifecycle.state, Ready);
    let types: BTreeSet<EventType> = run.history.iter().map(|(_, p)| p.event_type()).collect();
    assert!(types.contains(&EventType::Corrected));
    // The first `mark_ready` (before erasure) was refused and not stored, so was the fit
    // of a part whose drive is not erased; the second was corrected, the third stands.
    let count = |t: EventType| {
        run.history
            .iter()
            .filter(|(_, p)| p.event_type() == t)
            .count()
    };
    assert_eq!(
        (
            count(EventType::MarkedReady),
            count(EventType::PartFitted),
            count(EventType::Corrected)
        ),
        (2, 0, 1)
    );
}

#[test]
fn the_generator_reaches_ready_often_enough() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(step(), 0..60);
    let mut ready = 0;
    let mut corrected = 0;
    for _ in 0..1000 {
        let steps = strategy.new_tree(&mut runner).expect("tree").current();
        let run = play(&steps, Received);
        let types: BTreeSet<EventType> = run.history.iter().map(|(_, p)| p.event_type()).collect();
        ready += usize::from(types.contains(&EventType::MarkedReady));
        corrected += usize::from(types.contains(&EventType::Corrected));
    }
    assert!(
        ready >= 100,
        "only {ready} of 1000 generated histories reach ready"
    );
    assert!(
        corrected >= 100,
        "only {corrected} of 1000 generated histories hold a correction"
    );
}
