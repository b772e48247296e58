//! A device's path through the workshop, parts genealogy, guards, corrections, WEEE.

use filiere_shared::api::*;
use filiere_shared::*;
use filiere_tests::*;
use serde_json::{Value, json};

fn code_of(v: &Value) -> &str {
    v["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_goes_from_claim_to_ready() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 3).await;

    // Before intake, the code resolves as unclaimed.
    let r: Resolved = app
        .get_ok(&format!("/api/v1/resolve?q={}", codes[0]), t)
        .await;
    assert!(matches!(r, Resolved::UnclaimedCode { .. }), "{r:?}");

    let item = app.laptop(t, &codes[0], "SSD-0001").await;
    assert_eq!(item.state, ItemState::Received);
    assert_eq!(item.version, 2, "registered + drives declared");
    assert!(item.drives_declared);

    let r = app
        .step_ok(
            t,
            &item,
            "k1",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await;
    let item = r.item;
    assert_eq!(item.state, ItemState::Refurbishing);
    let blockers: Vec<ErrorCode> = item.blockers.iter().map(|b| b.code).collect();
    assert_eq!(
        blockers,
        vec![ErrorCode::DrivesNotErased, ErrorCode::QaMissing]
    );

    // Not ready before the drive is erased.
    let before = app.counts();
    let (status, body) = app
        .step(t, &item, "k2", json!({"type": "mark_ready"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["code"], "drives_not_erased");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("SSD-0001")
    );
    assert_eq!(app.counts(), before, "a refused step writes nothing");

    let item = app.step_ok(t, &item, "k3", erase("SSD-0001")).await.item;
    assert_eq!(item.drives[0].status, DriveStatus::Erased);
    let (status, body) = app
        .step(t, &item, "k4", json!({"type": "mark_ready"}))
        .await;
    assert_eq!((status.as_u16(), code_of(&body)), (422, "qa_missing"));

    let item = app.step_ok(t, &item, "k5", qa_pass()).await.item;
    assert_eq!(item.functional_grade, Some(Grade::A));
    let item = app
        .step_ok(t, &item, "k6", json!({"type": "mark_ready"}))
        .await
        .item;
    assert_eq!(item.state, ItemState::Ready);
    assert!(item.blockers.is_empty());

    // The history tells every step, in order, with who did it.
    let h: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", item.id), t)
        .await;
    assert_eq!(event_types(&h), REFURBISHED_PATH);
    assert!(
        h.events
            .iter()
            .all(|e| e.actor_name.as_deref() == Some("tech_a1"))
    );
    assert_eq!(h.events.last().map(|e| e.version), Some(item.version));

    // The label resolves in every form a scanner may send.
    let code = &codes[0];
    let hyphenated = format!("{}-{}", &code[..4], &code[4..]);
    for q in [
        code.clone(),
        hyphenated,
        code.to_lowercase(),
        format!("HTTPS://FILIERE.EXAMPLE.ORG/I/{code}"),
    ] {
        let r: Resolved = app
            .get_ok(&format!("/api/v1/resolve?q={}", urlencode(&q)), t)
            .await;
        match r {
            Resolved::Item { item: found, .. } => assert_eq!(found.id, item.id, "{q}"),
            other => panic!("{q} resolved to {other:?}"),
        }
    }
    // And the item is found by its serial, and by its drive's serial.
    for q in [format!("pf-{}", code.to_lowercase()), "ssd 0001".to_owned()] {
        let r: Resolved = app
            .get_ok(&format!("/api/v1/resolve?q={}", urlencode(&q)), t)
            .await;
        match r {
            Resolved::Matches { items } => assert_eq!(items[0].id, item.id, "{q}"),
            other => panic!("{q} resolved to {other:?}"),
        }
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harvested_parts_are_fitted_with_their_genealogy() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 6).await;

    // Donor machine, triaged for parts.
    let donor = app.laptop(t, &codes[0], "HDD-A").await;
    let donor = app
        .step_ok(
            t,
            &donor,
            "d1",
            json!({"type": "triage", "route": "harvest"}),
        )
        .await
        .item;
    let r = app
        .step_ok(
            t,
            &donor,
            "d2",
            json!({"type": "harvest_part", "code": codes[1], "category": "ram",
            "specs": {"part_spec": "8 GB DDR4", "ram_gb": 8}, "weight_g": 10}),
        )
        .await;
    let donor = r.item;
    let ram = r.other.expect("the harvested part");
    assert_eq!(
        (ram.kind, ram.state, ram.origin),
        (ItemKind::Part, ItemState::InStock, Some(donor.id))
    );

    // The drive leaves as a part of its own, still carrying its (pending) status.
    let r = app
        .step_ok(t, &donor, "d3", json!({"type": "harvest_part", "code": codes[2], "category": "ssd", "drive_serial": "HDD-A"}))
        .await;
    let donor = r.item;
    let drive = r.other.expect("the drive part");
    assert!(donor.drives.is_empty());
    assert_eq!(drive.drives[0].status, DriveStatus::Pending);
    let donor = app
        .step_ok(t, &donor, "d4", json!({"type": "finish_teardown"}))
        .await
        .item;
    assert_eq!(donor.state, ItemState::Harvested);

    // The receiving machine.
    let target = app.laptop(t, &codes[3], "SSD-B").await;
    let target = app
        .step_ok(
            t,
            &target,
            "t1",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;

    // An untested part cannot be fitted.
    let before = app.counts();
    let fit = |part: &ItemView| json!({"type": "fit_part", "part": part.id, "part_expected_version": part.version});
    let (s, b) = app.step(t, &target, "t2", fit(&ram)).await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "part_not_tested_good"));
    // Nor an unerased drive, even tested good.
    let drive = app
        .step_ok(
            t,
            &drive,
            "p1",
            json!({"type": "test_part", "result": "good"}),
        )
        .await
        .item;
    let before_drive = app.counts();
    let (s, b) = app.step(t, &target, "t3", fit(&drive)).await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "drive_not_erased"));
    assert_eq!(app.counts(), before_drive);
    let _ = before;

    let ram = app
        .step_ok(
            t,
            &ram,
            "p2",
            json!({"type": "test_part", "result": "good"}),
        )
        .await
        .item;
    let target = app.step_ok(t, &target, "t4", erase("SSD-B")).await.item;
    let target = app.step_ok(t, &target, "t5", qa_pass()).await.item;
    let r = app.step_ok(t, &target, "t6", fit(&ram)).await;
    let (target, ram) = (r.item, r.other.expect("fitted part"));
    assert_eq!(ram.state, ItemState::Fitted);
    assert_eq!(ram.parent, Some(target.id));
    assert_eq!(target.parts, vec![ram.id]);
    // Fitting a part voids the QA: the machine is tested again before it is ready.
    assert!(target.qa.is_none());
    let (s, b) = app
        .step(t, &target, "t7", json!({"type": "mark_ready"}))
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "qa_missing"));

    // The erased drive part can now be fitted too, and the machine then counts it.
    let drive = app.step_ok(t, &drive, "p3", erase("HDD-A")).await.item;
    let r = app.step_ok(t, &target, "t8", fit(&drive)).await;
    let target = r.item;
    assert_eq!(target.drives.len(), 2);
    assert!(
        target
            .drives
            .iter()
            .all(|d| d.status == DriveStatus::Erased)
    );
    let target = app.step_ok(t, &target, "t9", qa_pass()).await.item;
    let target = app
        .step_ok(t, &target, "t10", json!({"type": "mark_ready"}))
        .await
        .item;
    assert_eq!(target.state, ItemState::Ready);

    // Genealogy, seen from each side.
    assert_eq!(
        genealogy(&app, t, target.id).await,
        vec![
            (GenealogyRelation::Fitted, ram.id),
            (GenealogyRelation::Fitted, drive.id)
        ]
    );
    assert_eq!(
        genealogy(&app, t, donor.id).await,
        vec![
            (GenealogyRelation::Harvested, ram.id),
            (GenealogyRelation::Harvested, drive.id)
        ]
    );
    assert_eq!(
        genealogy(&app, t, ram.id).await,
        vec![
            (GenealogyRelation::HarvestedFrom, donor.id),
            (GenealogyRelation::FittedInto, target.id)
        ]
    );

    // Taking a part out of a ready machine needs it reopened first.
    let (s, b) = app
        .step(
            t,
            &target,
            "t11",
            json!({"type": "remove_part", "part": ram.id, "part_expected_version": ram.version}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "invalid_transition"));
    let target = app
        .step_ok(
            t,
            &target,
            "t12",
            json!({"type": "reopen", "reason": "RAM à changer"}),
        )
        .await
        .item;
    let r = app
        .step_ok(
            t,
            &target,
            "t13",
            json!({"type": "remove_part", "part": ram.id, "part_expected_version": ram.version}),
        )
        .await;
    let ram = r.other.expect("removed part");
    assert_eq!((ram.state, ram.parent), (ItemState::InStock, None));
    assert!(r.item.parts.iter().all(|p| *p != ram.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guards_refuse_with_their_code_and_write_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 6).await;

    // A device whose drives were never declared.
    let r: EventResponse = app
        .post_ok(
            "/api/v1/items",
            t,
            &json!({"idempotency_key": "r1", "code": codes[0], "category": "desktop"}),
        )
        .await;
    let bare = app
        .step_ok(
            t,
            &r.item,
            "b1",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    let bare = app.step_ok(t, &bare, "b2", qa_pass()).await.item;

    let cases: Vec<(&ItemView, Value, u16, &str)> = vec![
        (
            &bare,
            json!({"type": "mark_ready"}),
            422,
            "drives_undeclared",
        ),
        (
            &bare,
            json!({"type": "test_part", "result": "good"}),
            422,
            "wrong_item_kind",
        ),
        (
            &bare,
            json!({"type": "finish_teardown"}),
            422,
            "invalid_transition",
        ),
        (
            &bare,
            json!({"type": "erase_drive", "serial": "NOPE", "level": "clear", "technique": "overwrite",
            "tool": "nwipe", "verified": true, "started_at": "2026-01-01T00:00:00Z",
            "ended_at": "2026-01-01T01:00:00Z", "result": "erased"}),
            422,
            "unknown_drive",
        ),
        (
            &bare,
            json!({"type": "move", "site": w.site_a1}),
            422,
            "same_site",
        ),
        (
            &bare,
            json!({"type": "harvest_part", "code": codes[5], "category": "ssd"}),
            422,
            "drive_serial_required",
        ),
        (
            &bare,
            json!({"type": "correct_last", "event": 1, "reason": "erreur"}),
            422,
            "correction_target_mismatch",
        ),
        (
            &bare,
            json!({"type": "relabel", "new_code": codes[0]}),
            409,
            "code_already_claimed",
        ),
        (
            &bare,
            json!({"type": "add_to_weee_batch", "batch": 999}),
            404,
            "weee_batch_not_found",
        ),
    ];
    for (item, command, status, code) in cases {
        let before = app.counts();
        let (s, b) = app
            .step(t, item, &format!("g-{code}"), command.clone())
            .await;
        assert_eq!((s.as_u16(), code_of(&b)), (status, code), "{command}: {b}");
        assert!(!b["message"].as_str().unwrap_or_default().is_empty());
        assert_eq!(app.counts(), before, "{code}: nothing written");
    }

    // A part at another site cannot be fitted.
    let coord = &w.coord_a;
    let other: EventResponse = app
        .post_ok(
            "/api/v1/items",
            coord,
            &json!({"idempotency_key": "r2", "code": codes[1], "category": "ram", "site": w.site_a2}),
        )
        .await;
    let part = app
        .step_ok(
            coord,
            &other.item,
            "o1",
            json!({"type": "test_part", "result": "good"}),
        )
        .await
        .item;
    let device = app.laptop(t, &codes[2], "S-9").await;
    let device = app
        .step_ok(
            t,
            &device,
            "dv1",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    let before = app.counts();
    let (s, b) = app
        .step(
            coord,
            &device,
            "fit-other",
            json!({"type": "fit_part", "part": part.id, "part_expected_version": part.version}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "part_other_site"));
    assert_eq!(app.counts(), before);

    // A stale version is a conflict that says the current one.
    let (s, b) = app
        .post(
            &format!("/api/v1/items/{}/events", device.id),
            t,
            &json!({"idempotency_key": "stale", "expected_version": device.version - 1, "command": {"type": "declare_no_drive"}}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (409, "version_conflict"));
    assert_eq!(b["details"]["current_version"], device.version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_step_is_corrected_by_a_compensating_event() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 2).await;
    let item = app.laptop(t, &codes[0], "D1").await;
    let item = app
        .step_ok(
            t,
            &item,
            "c1",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    let r = app.step_ok(t, &item, "c2", erase("D1")).await;
    let item = r.item;
    let erased_event = r.event.id;
    assert_eq!(item.drives[0].status, DriveStatus::Erased);

    let r = app
        .step_ok(t, &item, "c3", json!({"type": "correct_last", "event": erased_event, "reason": "mauvais disque scanné"}))
        .await;
    let item = r.item;
    assert_eq!(
        item.drives[0].status,
        DriveStatus::Pending,
        "the erasure no longer counts"
    );
    assert_eq!(item.state, ItemState::Refurbishing);
    // History keeps both the step and its correction.
    let h: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", item.id), t)
        .await;
    assert_eq!(h.events.len(), 5);
    // Correcting again undoes the triage, back to received.
    let triage_event = h.events[2].id;
    let item = app
        .step_ok(
            t,
            &item,
            "c4",
            json!({"type": "correct_last", "event": triage_event, "reason": "erreur de tri"}),
        )
        .await
        .item;
    assert_eq!(item.state, ItemState::Received);
    // Then the drive declaration; the registration itself is never undone.
    let item = app
        .step_ok(
            t,
            &item,
            "c5",
            json!({"type": "correct_last", "event": h.events[1].id, "reason": "disque mal lu"}),
        )
        .await
        .item;
    assert!(!item.drives_declared && item.drives.is_empty());
    let (s, b) = app
        .step(
            t,
            &item,
            "c6",
            json!({"type": "correct_last", "event": h.events[0].id, "reason": "x"}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "nothing_to_correct"));
    // A two-item step is undone by its inverse step, not by a correction.
    let _ = codes;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weee_batch_from_open_to_handover() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 3).await;
    let batch: WeeeBatchView = app
        .post_ok(
            "/api/v1/weee-batches",
            t,
            &json!({"site": w.site_a1, "recycler": w.recycler}),
        )
        .await;
    assert_eq!(batch.status, WeeeBatchStatus::Open);

    let item = app.laptop(t, &codes[0], "W1").await;
    let item = app
        .step_ok(
            t,
            &item,
            "w1",
            json!({"type": "triage", "route": "recycle"}),
        )
        .await
        .item;
    assert_eq!(item.state, ItemState::ToRecycle);
    // It cannot leave with its drive unerased.
    let before = app.counts();
    let (s, b) = app
        .step(
            t,
            &item,
            "w2",
            json!({"type": "add_to_weee_batch", "batch": batch.id}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "drives_not_erased"));
    assert_eq!(app.counts(), before);
    let item = app
        .step_ok(
            t,
            &item,
            "w3",
            json!({"type": "destroy_drive", "serial": "W1", "method": "broyage"}),
        )
        .await
        .item;
    let item = app
        .step_ok(
            t,
            &item,
            "w4",
            json!({"type": "add_to_weee_batch", "batch": batch.id}),
        )
        .await
        .item;
    assert_eq!(item.weee_batch, Some(batch.id));

    // Handover needs the batch closed and weighed.
    let (s, b) = app
        .post(
            &format!("/api/v1/weee-batches/{}/handover", batch.id),
            t,
            &json!({"waste_form_ref": "BSD-1"}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "weee_batch_not_closed"));
    let closed: WeeeBatchView = app
        .post_ok(
            &format!("/api/v1/weee-batches/{}/close", batch.id),
            t,
            &json!({"weight_g": 1700}),
        )
        .await;
    assert_eq!(
        (closed.status, closed.item_count, closed.items_weight_g),
        (WeeeBatchStatus::Closed, 1, 1600)
    );
    // A closed batch takes no more items.
    let other = app.laptop(t, &codes[1], "W2").await;
    let other = app
        .step_ok(
            t,
            &other,
            "w5",
            json!({"type": "triage", "route": "recycle"}),
        )
        .await
        .item;
    let other = app.step_ok(t, &other, "w6", erase("W2")).await.item;
    let (s, b) = app
        .step(
            t,
            &other,
            "w7",
            json!({"type": "add_to_weee_batch", "batch": batch.id}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "weee_batch_not_open"));

    let done: WeeeBatchView = app
        .post_ok(
            &format!("/api/v1/weee-batches/{}/handover", batch.id),
            t,
            &json!({"waste_form_ref": "BSD-2026-000042"}),
        )
        .await;
    assert_eq!(done.status, WeeeBatchStatus::HandedOver);
    let item: ItemView = app.get_ok(&format!("/api/v1/items/{}", item.id), t).await;
    assert_eq!(item.state, ItemState::Recycled);
    // A recycled item takes no further step.
    let (s, b) = app
        .step(
            t,
            &item,
            "w8",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "invalid_transition"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relabelled_item_is_found_by_its_old_code() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 4).await;
    let item = app.laptop(t, &codes[0], "R1").await;
    // An item never relabelled has no earlier label.
    assert!(item.previous_codes.is_empty());
    let item = app
        .step_ok(
            t,
            &item,
            "l1",
            json!({"type": "relabel", "new_code": codes[1]}),
        )
        .await
        .item;
    assert_eq!(item.code.as_str(), codes[1]);
    let strings = |c: &[LabelCode]| c.iter().map(|c| c.as_str().to_owned()).collect::<Vec<_>>();
    assert_eq!(strings(&item.previous_codes), vec![codes[0].clone()]);
    let item = app
        .step_ok(
            t,
            &item,
            "l2",
            json!({"type": "relabel", "new_code": codes[2]}),
        )
        .await
        .item;
    // Oldest first.
    assert_eq!(strings(&item.previous_codes), codes[..2].to_vec());
    // A step on the item alone answers with its earlier labels too.
    let item = app
        .step_ok(
            t,
            &item,
            "l3",
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    assert_eq!(item.state, ItemState::Refurbishing);
    assert_eq!(strings(&item.previous_codes), codes[..2].to_vec());
    for (scanned, was_replaced) in [(&codes[0], true), (&codes[1], true), (&codes[2], false)] {
        let r: Resolved = app.get_ok(&format!("/api/v1/resolve?q={scanned}"), t).await;
        match r {
            Resolved::Item {
                item: found,
                replaced,
                ..
            } => {
                assert_eq!(found.id, item.id);
                assert_eq!(found.code.as_str(), codes[2]);
                assert_eq!(strings(&found.previous_codes), codes[..2].to_vec());
                assert_eq!(replaced, was_replaced, "{scanned}");
            }
            other => panic!("{other:?}"),
        }
    }
    // A code never claimed is still found as such.
    let r: Resolved = app
        .get_ok(&format!("/api/v1/resolve?q={}", codes[3]), t)
        .await;
    assert!(matches!(r, Resolved::UnclaimedCode { .. }), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_count_declared_against_received() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let c: CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &json!({"donor": w.donor_public, "site": w.site_a1, "pickup_date": "2026-11-20",
                "declared_count": 3, "declared_weight_g": 6000, "legal_status": "reuse"}),
        )
        .await;
    assert!(c.donor_public_body);
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 3).await;
    // Two labelled at the donor's, one of them then received; one straight at the workshop.
    for (i, at_workshop) in [(0, false), (1, false), (2, true)] {
        let _: EventResponse = app
            .post_ok(
                "/api/v1/items",
                t,
                &json!({"idempotency_key": format!("c{i}"), "code": codes[i], "category": "monitor",
                    "collection": c.id, "at_workshop": at_workshop, "weight_g": 3000, "no_drive": at_workshop,
                    "weight_estimated": i == 1}),
            )
            .await;
    }
    let r: Resolved = app
        .get_ok(&format!("/api/v1/resolve?q={}", codes[0]), t)
        .await;
    let Resolved::Item { item, .. } = r else {
        panic!("{r:?}")
    };
    assert_eq!(item.state, ItemState::Collected);
    let item = app
        .step_ok(t, &item, "rcv", json!({"type": "receive"}))
        .await
        .item;
    assert_eq!(item.state, ItemState::Received);

    let c: CollectionView = app
        .get_ok(&format!("/api/v1/collections/{}", c.id), t)
        .await;
    assert_eq!(
        (c.declared_count, c.registered_count, c.received_count),
        (3, 3, 2)
    );
    // The one still at the donor's (the estimated weight) does not weigh in yet.
    assert_eq!(
        (
            c.declared_weight_g,
            c.received_weight_g,
            c.estimated_weight_count
        ),
        (Some(6000), 6000, 0)
    );

    // A waste lot needs its waste code; a reuse lot must not have one.
    let (s, b) = app
        .post(
            "/api/v1/collections",
            &w.coord_a,
            &json!({"donor": w.donor_private, "site": w.site_a1,
            "pickup_date": "2026-11-20", "declared_count": 1, "legal_status": "waste"}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "invalid_value"));
    assert_eq!(b["details"]["field"], "waste_code");
    let (s, _) = app
        .post("/api/v1/collections", &w.coord_a, &json!({"donor": w.donor_private, "site": w.site_a1,
            "pickup_date": "2026-11-20", "declared_count": 1, "legal_status": "waste", "waste_code": "16 02 14"}))
        .await;
    assert_eq!(s, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filter_and_paginate_by_keyset() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 7).await;
    for (i, code) in codes.iter().enumerate() {
        let item = app.laptop(t, code, &format!("P{i}")).await;
        if i % 2 == 0 {
            app.step_ok(
                t,
                &item,
                &format!("p{i}"),
                json!({"type": "triage", "route": "harvest"}),
            )
            .await;
        }
    }
    let mut seen = Vec::new();
    let mut after: Option<ItemId> = None;
    loop {
        let q = match after {
            Some(a) => format!("/api/v1/items?limit=3&after={a}"),
            None => "/api/v1/items?limit=3".to_owned(),
        };
        let page: ItemPage = app.get_ok(&q, t).await;
        seen.extend(page.items.iter().map(|i| i.id));
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    assert!(seen.windows(2).all(|p| p[0] < p[1]));
    let page: ItemPage = app
        .get_ok("/api/v1/items?state=harvesting&category=laptop", t)
        .await;
    assert_eq!(page.items.len(), 4);
    let (s, b) = app.get("/api/v1/items?limit=0", t).await;
    assert_eq!((s.as_u16(), code_of(&b)), (400, "invalid_query"));
    let (s, b) = app.get("/api/v1/items?state=flying", t).await;
    assert_eq!((s.as_u16(), code_of(&b)), (400, "invalid_query"));
}

/// An item's genealogy as (relation, other item) pairs, from its history.
async fn genealogy(app: &TestApp, token: &str, id: ItemId) -> Vec<(GenealogyRelation, ItemId)> {
    let h: HistoryView = app
        .get_ok(&format!("/api/v1/items/{id}/history"), token)
        .await;
    h.genealogy.iter().map(|g| (g.relation, g.other)).collect()
}

/// Steps the writer commits together (on PostgreSQL, one statement for all of them)
/// are each answered as if written alone: the n-th step on an item sees the ones
/// before it, a step whose item moved on or whose key was taken is left to be done
/// whole (`None`) with nothing of it written, and a step's projection (here an
/// erasure record) is written with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_written_together_are_each_answered_as_if_alone() {
    use filiere_server::service::events::{self, Prepared};
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 5).await;
    let mut items = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        items.push(app.laptop(t, code, &format!("TG{i}")).await);
    }
    let triage = json!({"type": "triage", "route": "refurbish"});
    // Item 1 triaged through the API, with the key item 4's step will try again.
    let item1 = app
        .step_ok(t, &items[1], "taken", triage.clone())
        .await
        .item;

    let mut conn = app.conn();
    let actor = filiere_server::auth::actor_for_user(&mut conn, "tech_a1")
        .expect("actor")
        .expect("tech_a1");
    let prepare = |conn: &mut filiere_server::db::DbConnection,
                   item: &ItemView,
                   key: &str,
                   command: &Value| {
        let req: EventRequest = serde_json::from_value(json!({
            "idempotency_key": key,
            "expected_version": item.version,
            "command": command,
        }))
        .expect("request");
        match events::prepare(conn, &actor, item.id, &req).expect("prepared") {
            Prepared::Step(step) => (actor.clone(), *step),
            Prepared::Whole => panic!("{key}: not a step on its own item"),
        }
    };
    let steps = vec![
        prepare(&mut conn, &items[0], "a", &triage),
        prepare(&mut conn, &item1, "b", &erase("TG1")),
        prepare(&mut conn, &items[2], "c", &triage),
        // Another request at the same version of item 2: the first one wins.
        prepare(&mut conn, &items[2], "c-again", &triage),
        prepare(&mut conn, &items[3], "d", &triage),
        prepare(&mut conn, &items[4], "taken", &triage),
    ];
    // Item 3 moves on after its step was prepared.
    let item3 = app
        .step_ok(t, &items[3], "d-first", triage.clone())
        .await
        .item;
    let before = app.counts();

    let answers = {
        use diesel::Connection;
        conn.transaction::<_, filiere_server::error::ApiError, _>(|c| {
            events::commit_together(c, steps)
        })
        .expect("written")
    };
    let written: Vec<bool> = answers.iter().map(Option::is_some).collect();
    assert_eq!(written, [true, true, true, false, false, false]);
    let ids: Vec<i64> = answers.iter().flatten().map(|a| a.event.id.0).collect();
    assert!(
        ids.windows(2).all(|p| p[0] < p[1]),
        "in the steps' order: {ids:?}"
    );
    for answer in answers.iter().flatten() {
        let stored: ItemView = app
            .get_ok(&format!("/api/v1/items/{}", answer.item.id), t)
            .await;
        assert_eq!(answer.item, stored, "the answer is the stored item");
        let history: HistoryView = app
            .get_ok(&format!("/api/v1/items/{}/history", answer.item.id), t)
            .await;
        let last = history.events.last().expect("an event");
        assert_eq!(last.id, answer.event.id);
        assert_eq!(last.version, stored.version);
    }
    let a = answers[0].as_ref().expect("a");
    assert_eq!(
        (a.item.state, a.item.version),
        (ItemState::Refurbishing, items[0].version + 1)
    );
    let b = answers[1].as_ref().expect("b");
    assert_eq!(b.item.drives[0].status, DriveStatus::Erased);

    let after = app.counts();
    let grown: Vec<(String, i64)> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| a.1 != b.1)
        .map(|(b, a)| (a.0.clone(), a.1 - b.1))
        .collect();
    assert_eq!(
        grown,
        [
            ("item_events".to_owned(), 3),
            ("erasure_records".to_owned(), 1)
        ],
        "only the three steps written, and the erasure's record"
    );
    // Item 3 kept its own step only; item 4, whose key was taken, none.
    let stored3: ItemView = app.get_ok(&format!("/api/v1/items/{}", item3.id), t).await;
    assert_eq!(stored3, item3);
    let stored4: ItemView = app
        .get_ok(&format!("/api/v1/items/{}", items[4].id), t)
        .await;
    assert_eq!(stored4, items[4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_whose_drives_are_erased_may_leave_for_recycling_with_them() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let t = &w.tech_a1;
    let codes = app.codes(t, w.site_a1, 2).await;
    let batch: WeeeBatchView = app
        .post_ok(
            "/api/v1/weee-batches",
            t,
            &json!({"site": w.site_a1, "recycler": w.recycler}),
        )
        .await;
    let add = json!({"type": "add_to_weee_batch", "batch": batch.id});
    let mut left = Vec::new();
    for (code, serial) in codes.iter().zip(["E1", "E2"]) {
        let item = app.laptop(t, code, serial).await;
        let item = app
            .step_ok(
                t,
                &item,
                &format!("t-{serial}"),
                json!({"type": "triage", "route": "recycle"}),
            )
            .await
            .item;
        left.push(item);
    }
    // The drive still inside is neither erased nor destroyed: refused.
    let (s, b) = app.step(t, &left[0], "add-E1", add.clone()).await;
    assert_eq!((s.as_u16(), code_of(&b)), (422, "drives_not_erased"));
    // Erased, and still inside: the machine leaves with it.
    let erased = app.step_ok(t, &left[1], "erase-E2", erase("E2")).await.item;
    let added = app.step_ok(t, &erased, "add-E2", add).await.item;
    assert_eq!(added.weee_batch, Some(batch.id));
    assert_eq!(added.drives.len(), 1, "the drive stays in the machine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drives_are_declared_at_the_donor_s() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let c = &w.coord_a;
    let codes = app.codes(c, w.site_a1, 2).await;
    let collection: CollectionView = app
        .post_ok(
            "/api/v1/collections",
            c,
            &json!({"donor": w.donor_private, "site": w.site_a1, "pickup_date": "2026-11-20",
                "declared_count": 2, "legal_status": "reuse"}),
        )
        .await;
    // Registered at the donor's with its drive, from the donor's asset list.
    let r: EventResponse = app
        .post_ok(
            "/api/v1/items",
            c,
            &json!({"idempotency_key": "donor-1", "code": codes[0], "category": "laptop",
                "collection": collection.id, "at_workshop": false, "asset_tag": "INV-0042",
                "drives": [{"serial": "DON-1", "size_gb": 256, "bus": "nvme", "media": "ssd"}]}),
        )
        .await;
    let laptop = r.item;
    assert_eq!(laptop.state, ItemState::Collected);
    assert!(laptop.drives_declared);
    assert_eq!(laptop.drives[0].serial, "DON-1");
    // Or with none, for a screen.
    let r: EventResponse = app
        .post_ok(
            "/api/v1/items",
            c,
            &json!({"idempotency_key": "donor-2", "code": codes[1], "category": "monitor",
                "collection": collection.id, "at_workshop": false, "no_drive": true}),
        )
        .await;
    assert_eq!(
        (r.item.state, r.item.drives_declared),
        (ItemState::Collected, true)
    );
    // At the workshop, the laptop is received with its drive already known.
    let received = app
        .step_ok(&w.tech_a1, &laptop, "recv", json!({"type": "receive"}))
        .await
        .item;
    assert_eq!(received.state, ItemState::Received);
    assert!(received.drives_declared);
}
