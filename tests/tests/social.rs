//! The social side through the real server: beneficiaries, the catalogue,
//! reservations (the race, the hold's expiry by two processes, the household limit
//! and a lapsed proof), training sessions and their waiting list, needs, the login
//! throttle, and the role table's new rows cell by cell.

use filiere_shared::api::*;
use filiere_shared::social::*;
use filiere_shared::*;
use filiere_tests::*;
use serde_json::{Value, json};

fn code_of(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

/// The standard world, with what the social side needs on top: a second social
/// organisation in region A (its social worker `social_a2`), a social worker in
/// region B, a training venue in region A.
struct Social {
    w: World,
    social_a2: String,
    social_b: String,
    venue_a: OrgId,
}

async fn social_world(app: &TestApp) -> Social {
    let w = app.world().await;
    let org = |name: &str, kind: &str, region: RegionId| json!({"name": name, "kind": kind, "public_body": false, "region": region});
    let a2: OrganisationView = app
        .post_ok(
            "/api/v1/organisations",
            &w.admin,
            &org("Entraide A", "social_partner", w.region_a),
        )
        .await;
    let venue: OrganisationView = app
        .post_ok(
            "/api/v1/organisations",
            &w.admin,
            &org("EPN A", "training_venue", w.region_a),
        )
        .await;
    for (name, o) in [("social_a2", a2.id), ("social_b", w.social_b)] {
        let _: UserView = app
            .post_ok(
                "/api/v1/users",
                &w.admin,
                &json!({"username": name, "display_name": name, "role": "social_worker",
                    "password": PASSWORD, "organisation": o}),
            )
            .await;
    }
    Social {
        social_a2: app.login("social_a2").await,
        social_b: app.login("social_b").await,
        venue_a: venue.id,
        w,
    }
}

/// A laptop taken to `ready` at site A1, with the given specs.
async fn ready_laptop(app: &TestApp, w: &World, code: &str, serial: &str) -> ItemView {
    let t = &w.tech_a1;
    let item = app.laptop(t, code, serial).await;
    let item = app
        .step_ok(
            t,
            &item,
            &format!("{code}-t"),
            json!({"type": "triage", "route": "refurbish"}),
        )
        .await
        .item;
    let item = app
        .step_ok(t, &item, &format!("{code}-e"), erase(serial))
        .await
        .item;
    let item = app
        .step_ok(t, &item, &format!("{code}-q"), qa_pass())
        .await
        .item;
    app.step_ok(
        t,
        &item,
        &format!("{code}-r"),
        json!({"type": "mark_ready"}),
    )
    .await
    .item
}

fn days_ago(n: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(n)).to_string()
}

async fn beneficiary(app: &TestApp, token: &str, reference: &str) -> BeneficiaryView {
    app.post_ok(
        "/api/v1/beneficiaries",
        token,
        &json!({"reference": reference, "household_size": 2, "proof_type": "caf",
            "proof_date": days_ago(10), "consent": true}),
    )
    .await
}

fn pickup() -> String {
    (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339()
}

async fn session_in(
    app: &TestApp,
    token: &str,
    venue: OrgId,
    days: i64,
    capacity: u32,
) -> TrainingSessionView {
    app.post_ok(
        "/api/v1/training-sessions",
        token,
        &json!({"venue": venue, "trainer": "Awa", "duration_minutes": 120, "capacity": capacity,
            "starts_at": (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339(),
            "topics": ["getting_started", "email"]}),
    )
    .await
}

fn count(app: &TestApp, sql: &str) -> i64 {
    TestApp::number(&mut app.conn(), sql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_social_worker_finds_a_laptop_reserves_it_and_books_the_training() {
    let app = TestApp::spawn().await;
    let s = social_world(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 2).await;
    let laptop = ready_laptop(&app, w, &codes[0], "D1").await;

    // The catalogue shows it to the region's social workers, with the filters.
    let page: CataloguePage = app
        .get_ok(
            "/api/v1/catalogue?category=laptop&sort=recent&grade=b",
            &w.social_worker_a,
        )
        .await;
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].item.id, laptop.id);
    let none: CataloguePage = app
        .get_ok(
            "/api/v1/catalogue?category=laptop&min_ram_gb=64",
            &w.social_worker_a,
        )
        .await;
    assert_eq!(
        none.total, 0,
        "the laptop has no RAM recorded: 64 GB does not fit"
    );
    // A bound the document states is kept to the last digit: just above 120 inches (read
    // as 120 in single precision) is refused, 120 itself is not.
    for (query, status) in [
        ("min_screen=120.00000000000001", 400),
        ("min_screen=0.99999999999", 400),
        ("min_screen=NaN", 400),
        ("min_screen=120", 200),
    ] {
        let (st, v) = app
            .get(&format!("/api/v1/catalogue?{query}"), &w.social_worker_a)
            .await;
        assert_eq!(st.as_u16(), status, "{query}: {v}");
        if status == 400 {
            assert_eq!(v["code"], "invalid_query", "{query}: {v}");
        }
    }
    let other_region: CataloguePage = app.get_ok("/api/v1/catalogue", &s.social_b).await;
    assert_eq!(other_region.total, 0);
    let device: CatalogueDevice = app
        .get_ok(
            &format!("/api/v1/catalogue/{}", laptop.id),
            &w.social_worker_a,
        )
        .await;
    assert_eq!(device.os_installed.as_deref(), Some("Emmabuntüs DE5"));
    assert!(device.erased_at.is_some());

    let b = beneficiary(&app, &w.social_worker_a, "CCAS-1").await;
    assert!(b.proof_valid);
    let session = session_in(&app, &w.coord_a, s.venue_a, 5, 8).await;
    let r: ReservationView = app
        .post_ok(
            "/api/v1/reservations",
            &w.social_worker_a,
            &json!({"item": laptop.id, "beneficiary": b.id, "pickup_at": pickup(), "session": session.id}),
        )
        .await;
    assert_eq!(r.status, ReservationStatus::Active);
    assert_eq!(
        r.booking.as_ref().map(|b| b.status),
        Some(BookingStatus::Booked)
    );
    // The device is reserved, with the reference and the end of the hold on it (what
    // the bench shows), and the reservation is in its history.
    let item: ItemView = app
        .get_ok(&format!("/api/v1/items/{}", laptop.id), &w.tech_a1)
        .await;
    assert_eq!(item.state, ItemState::Reserved);
    assert_eq!(
        item.hold.as_ref().map(|h| h.reference.as_str()),
        Some("CCAS-1")
    );
    let h: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", laptop.id), &w.tech_a1)
        .await;
    assert_eq!(event_types(&h).last(), Some(&"reserved"));
    // It left the catalogue; the social worker still sees it, as her beneficiary's.
    let after: CataloguePage = app.get_ok("/api/v1/catalogue", &w.social_worker_a).await;
    assert_eq!(after.total, 0);
    let mine: CatalogueDevice = app
        .get_ok(
            &format!("/api/v1/catalogue/{}", laptop.id),
            &w.social_worker_a,
        )
        .await;
    assert_eq!(mine.reservation, Some(r.id));
    let (st, _) = app
        .get(&format!("/api/v1/catalogue/{}", laptop.id), &s.social_a2)
        .await;
    assert_eq!(st.as_u16(), 404, "another organisation does not see it");

    // The bench's steps that would break the reservation are refused by the rules.
    let (st, v) = app
        .step(
            &w.tech_a1,
            &item,
            "reopen",
            json!({"type": "reopen", "reason": "test"}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "invalid_transition"));

    // The voucher is a PDF naming the site and the reference.
    let resp = app
        .client
        .get(format!(
            "{}/api/v1/reservations/{}/voucher.pdf",
            app.base, r.id
        ))
        .bearer_auth(&w.social_worker_a)
        .send()
        .await
        .expect("voucher");
    assert_eq!(resp.status().as_u16(), 200);
    let pdf = resp.bytes().await.expect("pdf");
    assert!(pdf.starts_with(b"%PDF"));

    // Cancelling puts the device back in the catalogue and frees the seat.
    let cancelled: ReservationView = app
        .post_ok(
            &format!("/api/v1/reservations/{}/cancel", r.id),
            &w.social_worker_a,
            &json!({"reason": "changed their mind"}),
        )
        .await;
    assert_eq!(cancelled.status, ReservationStatus::Cancelled);
    let back: CataloguePage = app.get_ok("/api/v1/catalogue", &w.social_worker_a).await;
    assert_eq!(back.total, 1);
    let d: TrainingSessionDetail = app
        .get_ok(
            &format!("/api/v1/training-sessions/{}", session.id),
            &w.coord_a,
        )
        .await;
    assert_eq!(d.session.booked, 0);
    let h: HistoryView = app
        .get_ok(&format!("/api/v1/items/{}/history", laptop.id), &w.tech_a1)
        .await;
    assert_eq!(event_types(&h).last(), Some(&"reservation_cancelled"));
}

/// 100 reservations of one device at the same moment, from two organisations:
/// exactly one succeeds, the others are told `already_reserved`; one reservation and
/// one `reserved` event are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_a_hundred_concurrent_reservations_of_one_device_exactly_one_succeeds() {
    let app = TestApp::spawn().await;
    let s = social_world(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 1).await;
    let laptop = ready_laptop(&app, w, &codes[0], "R1").await;
    let mut who = Vec::new();
    for i in 0..50 {
        let b1 = beneficiary(&app, &w.social_worker_a, &format!("A-{i}")).await;
        let b2 = beneficiary(&app, &s.social_a2, &format!("B-{i}")).await;
        who.push((w.social_worker_a.clone(), b1.id));
        who.push((s.social_a2.clone(), b2.id));
    }
    let url = format!("{}/api/v1/reservations", app.base);
    let tasks: Vec<_> = who
        .into_iter()
        .map(|(token, b)| {
            let (client, url) = (app.client.clone(), url.clone());
            let body = json!({"item": laptop.id, "beneficiary": b, "pickup_at": pickup()});
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("send");
                (
                    r.status().as_u16(),
                    r.json::<Value>().await.unwrap_or(Value::Null),
                )
            })
        })
        .collect();
    let (mut won, mut told) = (0, 0);
    for t in tasks {
        let (status, v) = t.await.expect("task");
        match (status, code_of(&v)) {
            (200, _) => won += 1,
            (409, "already_reserved") => {
                told += 1;
                assert!(!v["message"].as_str().unwrap_or("").is_empty());
            }
            other => panic!("unexpected answer {other:?}: {v}"),
        }
    }
    assert_eq!((won, told), (1, 99));
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM reservations"), 1);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM item_events WHERE event_type = 'reserved'"
        ),
        1
    );
}

/// A hold that ran out is released by the sweep; two server processes sweeping at
/// the same moment release it once: one expiry event, the device ready again, the
/// seat given to the first on the waiting list.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_hold_is_released_once_by_two_processes_sweeping_at_once() {
    let app = TestApp::spawn().await;
    let s = social_world(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 1).await;
    let laptop = ready_laptop(&app, w, &codes[0], "E1").await;
    let session = session_in(&app, &w.coord_a, s.venue_a, 5, 1).await;
    let holder = beneficiary(&app, &w.social_worker_a, "HOLD").await;
    let waiting = beneficiary(&app, &s.social_a2, "WAIT").await;
    let r: ReservationView = app
        .post_ok(
            "/api/v1/reservations",
            &w.social_worker_a,
            &json!({"item": laptop.id, "beneficiary": holder.id, "pickup_at": pickup(), "session": session.id}),
        )
        .await;
    let queued: BookingView = app
        .post_ok(
            "/api/v1/bookings",
            &s.social_a2,
            &json!({"session": session.id, "beneficiary": waiting.id}),
        )
        .await;
    assert_eq!(
        (queued.status, queued.waiting_position),
        (BookingStatus::Waiting, Some(1))
    );

    // Not due yet: the sweep leaves it.
    let db = open_db(&app.url, 2);
    assert_eq!(
        filiere_server::sweeps::expire_holds(&db)
            .await
            .expect("sweep"),
        0
    );
    // The hold runs out.
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "UPDATE reservations SET hold_until = '2026-01-01 00:00:00' WHERE id = {}",
        r.id
    ))
    .execute(&mut app.conn())
    .expect("age the hold");
    // Two "processes": two databases handles, each with its pools and writer.
    let other = open_db(&app.url, 2);
    let (a, b) = tokio::join!(
        filiere_server::sweeps::expire_holds(&db),
        filiere_server::sweeps::expire_holds(&other)
    );
    assert_eq!(
        a.expect("sweep a") + b.expect("sweep b"),
        1,
        "released exactly once"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM item_events WHERE event_type = 'reservation_expired'"
        ),
        1
    );
    let item: ItemView = app
        .get_ok(&format!("/api/v1/items/{}", laptop.id), &w.tech_a1)
        .await;
    assert_eq!(item.state, ItemState::Ready);
    assert!(item.hold.is_none());
    let after: ReservationView = app
        .get_ok(
            &format!("/api/v1/reservations/{}", r.id),
            &w.social_worker_a,
        )
        .await;
    assert_eq!(after.status, ReservationStatus::Expired);
    let detail: TrainingSessionDetail = app
        .get_ok(
            &format!("/api/v1/training-sessions/{}", session.id),
            &s.social_a2,
        )
        .await;
    let promoted = detail
        .bookings
        .into_iter()
        .find(|b| b.id == queued.id)
        .expect("booking");
    assert_eq!(
        (promoted.status, promoted.waiting_position),
        (BookingStatus::Booked, None)
    );
    // A second sweep finds nothing.
    assert_eq!(
        filiere_server::sweeps::expire_holds(&db)
            .await
            .expect("sweep"),
        0
    );
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_takes_a_waiting_list_promoted_in_order() {
    let app = TestApp::spawn().await;
    let s = social_world(&app).await;
    let w = &s.w;
    let session = session_in(&app, &w.coord_a, s.venue_a, 3, 2).await;
    let mut bookings = Vec::new();
    for i in 0..4 {
        let b = beneficiary(&app, &w.social_worker_a, &format!("S-{i}")).await;
        let booking: BookingView = app
            .post_ok(
                "/api/v1/bookings",
                &w.social_worker_a,
                &json!({"session": session.id, "beneficiary": b.id}),
            )
            .await;
        bookings.push((b, booking));
    }
    let statuses: Vec<_> = bookings
        .iter()
        .map(|(_, b)| (b.status, b.waiting_position))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (BookingStatus::Booked, None),
            (BookingStatus::Booked, None),
            (BookingStatus::Waiting, Some(1)),
            (BookingStatus::Waiting, Some(2))
        ]
    );
    // The same beneficiary twice: refused.
    let (st, v) = app
        .post(
            "/api/v1/bookings",
            &w.social_worker_a,
            &json!({"session": session.id, "beneficiary": bookings[0].0.id}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (409, "already_booked"));
    // A seat frees: the first waiting takes it, the second moves up.
    let _: BookingView = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/bookings/{}", bookings[1].1.id),
            Some(&w.social_worker_a),
            None,
        )
        .await
        .pipe(|(st, v)| {
            assert_eq!(st.as_u16(), 200, "{v}");
            serde_json::from_value(v).expect("booking")
        });
    let d: TrainingSessionDetail = app
        .get_ok(
            &format!("/api/v1/training-sessions/{}", session.id),
            &w.coord_a,
        )
        .await;
    let of = |id: BookingId| {
        d.bookings
            .iter()
            .find(|b| b.id == id)
            .map(|b| (b.status, b.waiting_position))
    };
    assert_eq!(of(bookings[2].1.id), Some((BookingStatus::Booked, None)));
    assert_eq!(
        of(bookings[3].1.id),
        Some((BookingStatus::Waiting, Some(1)))
    );
    assert_eq!(
        (d.session.booked, d.session.waiting, d.session.free_seats),
        (2, 1, 0)
    );

    // Attendance is recorded once the session has started, by the coordinator.
    let lines = json!({"lines": [{"booking": bookings[0].1.id, "attendance": "attended"}]});
    let (st, v) = app
        .post(
            &format!("/api/v1/training-sessions/{}/attendance", session.id),
            &w.coord_a,
            &lines,
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "session_not_past"));
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "UPDATE training_sessions SET starts_at = '2026-01-01 09:00:00' WHERE id = {}",
        session.id
    ))
    .execute(&mut app.conn())
    .expect("move the session to the past");
    let (st, v) = app
        .post(
            &format!("/api/v1/training-sessions/{}/attendance", session.id),
            &w.social_worker_a,
            &lines,
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (403, "forbidden"));
    let d: TrainingSessionDetail = app
        .post_ok(
            &format!("/api/v1/training-sessions/{}/attendance", session.id),
            &w.coord_a,
            &lines,
        )
        .await;
    assert_eq!(d.session.attended, 1);
    let sheet = app
        .client
        .get(format!(
            "{}/api/v1/training-sessions/{}/attendance-sheet.pdf",
            app.base, session.id
        ))
        .bearer_auth(&w.coord_a)
        .send()
        .await
        .expect("sheet");
    assert_eq!(sheet.status().as_u16(), 200);
    assert!(sheet.bytes().await.expect("pdf").starts_with(b"%PDF"));

    // The training attestation: for an attendance recorded, by the beneficiary's
    // organisation or the region's coordinator; downloaded again by them only.
    let attest = json!({"kind": "training_attestation"});
    let docs = |b: BookingId| format!("/api/v1/bookings/{b}/documents");
    let (st, v) = app
        .post(&docs(bookings[2].1.id), &w.social_worker_a, &attest)
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "not_attended"));
    let (st, v) = app
        .post(&docs(bookings[0].1.id), &s.social_a2, &attest)
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (404, "booking_not_found"));
    let (st, v) = app.post(&docs(bookings[0].1.id), &w.tech_a1, &attest).await;
    assert_eq!((st.as_u16(), code_of(&v)), (403, "forbidden"));
    let (st, v) = app
        .post(
            &docs(bookings[0].1.id),
            &w.social_worker_a,
            &json!({"kind": "weee_slip"}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "invalid_value"));
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM issued_documents"), 0);
    let doc: filiere_shared::documents::IssuedDocument = app
        .post_ok(&docs(bookings[0].1.id), &w.social_worker_a, &attest)
        .await;
    assert!(
        !doc.title.contains("S-0"),
        "no reference on the public page: {}",
        doc.title
    );
    let listed: Vec<filiere_shared::documents::IssuedDocument> =
        app.get_ok(&docs(bookings[0].1.id), &w.coord_a).await;
    assert_eq!(listed, vec![doc.clone()]);
    let pdf_of = |token: String| {
        let (app, id) = (&app, doc.id.clone());
        async move {
            app.raw(
                reqwest::Method::GET,
                &format!("/api/v1/documents/{id}/pdf"),
                Some(&token),
                None,
            )
            .await
        }
    };
    for (token, status) in [
        (w.social_worker_a.clone(), 200),
        (w.coord_a.clone(), 200),
        (s.social_a2.clone(), 404),
        (w.coord_b.clone(), 404),
        (w.tech_a1.clone(), 404),
    ] {
        assert_eq!(pdf_of(token).await.0.as_u16(), status);
    }
    let (_, _, bytes) = pdf_of(w.social_worker_a.clone()).await;
    if let Some(text) = pdf_text(&bytes) {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in [
            "Attestation de formation",
            doc.id.as_str(),
            "sous la référence S-0 a participé",
            "Nom et prénom",
            "jeudi 1 janvier 2026",
            "Durée 2",
            "Formateur ou formatrice Awa",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_proof_and_the_household_limit_refuse_a_reservation() {
    let app = TestApp::spawn().await;
    let s = social_world(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 2).await;
    let first = ready_laptop(&app, w, &codes[0], "H1").await;
    let second = ready_laptop(&app, w, &codes[1], "H2").await;

    // A CAF certificate is valid 90 days: one dated 100 days ago is refused at once.
    let (st, v) = app
        .post(
            "/api/v1/beneficiaries",
            &w.social_worker_a,
            &json!({"household_size": 2, "proof_type": "caf", "proof_date": days_ago(100), "consent": true}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "proof_lapsed"));
    // One that lapses after registration: the reservation is refused until updated.
    let b = beneficiary(&app, &w.social_worker_a, "LAPSE").await;
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "UPDATE beneficiaries SET proof_date = '2025-01-01' WHERE id = {}",
        b.id
    ))
    .execute(&mut app.conn())
    .expect("age the proof");
    let body = json!({"item": first.id, "beneficiary": b.id, "pickup_at": pickup()});
    let (st, v) = app
        .post("/api/v1/reservations", &w.social_worker_a, &body)
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "proof_lapsed"));
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM reservations"), 0);
    let _: BeneficiaryView = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/beneficiaries/{}", b.id),
            Some(&w.social_worker_a),
            Some(&json!({"proof_date": days_ago(1)})),
        )
        .await
        .pipe(|(st, v)| {
            assert_eq!(st.as_u16(), 200, "{v}");
            serde_json::from_value(v).expect("beneficiary")
        });
    let _: ReservationView = app
        .post_ok("/api/v1/reservations", &w.social_worker_a, &body)
        .await;

    // One computer per household: a second one is refused, unless the social worker
    // says why.
    let again = json!({"item": second.id, "beneficiary": b.id, "pickup_at": pickup()});
    let (st, v) = app
        .post("/api/v1/reservations", &w.social_worker_a, &again)
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "household_limit"));
    let mut with_reason = again.clone();
    with_reason["override_reason"] =
        json!("Deux adolescents scolarisés, un seul ordinateur ne suffit pas");
    let r: ReservationView = app
        .post_ok("/api/v1/reservations", &w.social_worker_a, &with_reason)
        .await;
    assert!(r.override_reason.is_some());

    // A pickup slot after the hold ends is refused.
    let b2 = beneficiary(&app, &w.social_worker_a, "LATE").await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 1).await;
    let third = ready_laptop(&app, w, &codes[0], "H3").await;
    let late = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let (st, v) = app
        .post(
            "/api/v1/reservations",
            &w.social_worker_a,
            &json!({"item": third.id, "beneficiary": b2.id, "pickup_at": late}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "pickup_outside_hold"));
}

/// Failed logins are counted in the database, per account and per address: after 5
/// for an account within 15 minutes one try a minute, after 20 from an address the
/// same; the answer never tells whether the account exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled_per_account_and_per_address() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let login = |user: &str, password: &str| {
        let body = json!({"username": user, "password": password});
        let app = &app;
        async move {
            let (st, v) = app
                .request(
                    reqwest::Method::POST,
                    "/api/v1/auth/login",
                    None,
                    Some(&body),
                )
                .await;
            (st.as_u16(), code_of(&v).to_owned())
        }
    };
    for _ in 0..5 {
        assert_eq!(
            login("tech_a1", "wrong").await,
            (401, "invalid_credentials".into())
        );
    }
    // The right password is not even tried now.
    assert_eq!(
        login("tech_a1", PASSWORD).await,
        (429, "too_many_attempts".into())
    );
    // A name that does not exist is throttled the same way.
    for _ in 0..5 {
        assert_eq!(
            login("nobody", "wrong").await,
            (401, "invalid_credentials".into())
        );
    }
    assert_eq!(
        login("nobody", "wrong").await,
        (429, "too_many_attempts".into())
    );
    // Another account is not affected.
    assert_eq!(login("coord_a", PASSWORD).await.0, 200);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM login_failures WHERE scope = 'user:tech_a1'"
        ),
        5
    );
    // A minute later, one more try.
    use diesel::RunQueryDsl;
    let back = match app.backend {
        filiere_server::db::Backend::Postgres => {
            "UPDATE login_failures SET failed_at = failed_at - INTERVAL '61 seconds'"
        }
        filiere_server::db::Backend::Sqlite => {
            "UPDATE login_failures SET failed_at = datetime(failed_at, '-61 seconds')"
        }
    };
    diesel::sql_query(back)
        .execute(&mut app.conn())
        .expect("a minute passes");
    assert_eq!(login("tech_a1", PASSWORD).await.0, 200, "one try a minute");
    // From one address: after 20 failures, every account waits (these were 10).
    for i in 0..10 {
        assert_eq!(login(&format!("ghost{i}"), "wrong").await.0, 401);
    }
    // The forwarded address of a client that is not a trusted proxy is ignored.
    let resp = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status().as_u16(), 429);
    let _ = w;
}

/// The role table's new rows, cell by cell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_outside_the_organisation_sees_a_beneficiary() {
    let app = TestApp::spawn().await;
    let s = social_world(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 1).await;
    let laptop = ready_laptop(&app, w, &codes[0], "P1").await;
    let b = beneficiary(&app, &w.social_worker_a, "SECRET-1").await;
    let r: ReservationView = app
        .post_ok(
            "/api/v1/reservations",
            &w.social_worker_a,
            &json!({"item": laptop.id, "beneficiary": b.id, "pickup_at": pickup()}),
        )
        .await;
    let status = |path: String, token: String| {
        let app = &app;
        async move { app.get(&path, &token).await.0.as_u16() }
    };
    let ben = format!("/api/v1/beneficiaries/{}", b.id);
    let export = format!("{ben}/export");
    let res = format!("/api/v1/reservations/{}", r.id);
    // Identity: the organisation's social workers only.
    assert_eq!(status(ben.clone(), w.social_worker_a.clone()).await, 200);
    assert_eq!(status(export.clone(), w.social_worker_a.clone()).await, 200);
    assert_eq!(status(ben.clone(), s.social_a2.clone()).await, 404);
    assert_eq!(status(export.clone(), s.social_a2.clone()).await, 404);
    assert_eq!(status(ben.clone(), s.social_b.clone()).await, 404);
    assert_eq!(status(ben.clone(), w.admin.clone()).await, 403);
    assert_eq!(status(export.clone(), w.admin.clone()).await, 403);
    assert_eq!(status(ben.clone(), w.coord_a.clone()).await, 403);
    assert_eq!(status(ben.clone(), w.tech_a1.clone()).await, 403);
    assert_eq!(
        status("/api/v1/beneficiaries".into(), w.admin.clone()).await,
        403
    );
    assert_eq!(
        status("/api/v1/beneficiaries".into(), w.coord_a.clone()).await,
        403
    );
    let others: Vec<BeneficiaryView> = app.get_ok("/api/v1/beneficiaries", &s.social_a2).await;
    assert!(others.is_empty());
    // Coordinators: counts only.
    let counts: Vec<BeneficiaryCount> = app.get_ok("/api/v1/beneficiary-counts", &w.coord_a).await;
    let a = counts
        .iter()
        .find(|c| c.organisation == w.social_a)
        .expect("CCAS A");
    assert_eq!((a.beneficiaries, a.active_reservations), (1, 1));
    assert!(
        !serde_json::to_string(&counts)
            .unwrap_or_default()
            .contains("SECRET-1")
    );
    assert_eq!(
        status("/api/v1/beneficiary-counts".into(), w.admin.clone()).await,
        403
    );
    assert_eq!(
        status(
            "/api/v1/beneficiary-counts".into(),
            w.social_worker_a.clone()
        )
        .await,
        403
    );
    // The reserved device: its sale fields to the organisation, nothing to another.
    let item = format!("/api/v1/items/{}", laptop.id);
    let (st, v) = app.get(&item, &w.social_worker_a).await;
    assert_eq!((st.as_u16(), v["state"].as_str()), (200, Some("reserved")));
    assert!(v.get("serial").is_none(), "sale fields only: {v}");
    assert_eq!(status(item.clone(), s.social_a2.clone()).await, 404);
    // Reservations: the organisation's, the region's coordinator (references only).
    assert_eq!(status(res.clone(), w.social_worker_a.clone()).await, 200);
    assert_eq!(status(res.clone(), w.coord_a.clone()).await, 200);
    assert_eq!(status(res.clone(), s.social_a2.clone()).await, 404);
    assert_eq!(status(res.clone(), w.coord_b.clone()).await, 404);
    assert_eq!(status(res.clone(), w.admin.clone()).await, 403);
    assert_eq!(status(res.clone(), w.tech_a1.clone()).await, 403);
    let voucher = format!("{res}/voucher.pdf");
    let v = app
        .client
        .get(format!("{}{voucher}", app.base))
        .bearer_auth(&s.social_a2)
        .send()
        .await
        .expect("voucher");
    assert_eq!(v.status().as_u16(), 404);
    // Another organisation cannot reserve for, cancel, or book for this beneficiary.
    let (st, _) = app
        .post(&format!("{res}/cancel"), &s.social_a2, &json!({}))
        .await;
    assert_eq!(st.as_u16(), 404);
    // The catalogue: social workers and coordinators of the region; technicians no.
    assert_eq!(
        status("/api/v1/catalogue".into(), w.tech_a1.clone()).await,
        403
    );
    assert_eq!(
        status("/api/v1/catalogue".into(), w.coord_a.clone()).await,
        200
    );
    // Training sessions: coordinators plan them; social workers see and book.
    let (st, _) = app
        .post(
            "/api/v1/training-sessions",
            &w.social_worker_a,
            &json!({"venue": s.venue_a, "trainer": "X", "duration_minutes": 60, "capacity": 3,
                "starts_at": pickup(), "topics": ["email"]}),
        )
        .await;
    assert_eq!(st.as_u16(), 403);
    let (st, _) = app
        .post(
            "/api/v1/training-sessions",
            &w.coord_b,
            &json!({"venue": s.venue_a, "trainer": "X", "duration_minutes": 60, "capacity": 3,
                "starts_at": pickup(), "topics": ["email"]}),
        )
        .await;
    assert_eq!(st.as_u16(), 403, "a venue of another region");
    assert_eq!(
        status("/api/v1/training-sessions".into(), w.tech_a1.clone()).await,
        403
    );
    // Needs: the organisation's; coordinators see counts.
    assert_eq!(status("/api/v1/needs".into(), w.coord_a.clone()).await, 403);
    assert_eq!(
        status("/api/v1/need-counts".into(), w.coord_a.clone()).await,
        200
    );
    assert_eq!(
        status("/api/v1/need-counts".into(), w.social_worker_a.clone()).await,
        403
    );
    // Sites' hours: admins; a region's hold: its coordinator or an admin.
    let (st, _) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/sites/{}", w.site_a1),
            Some(&w.coord_a),
            Some(&json!({"opening_hours": "9-17"})),
        )
        .await;
    assert_eq!(st.as_u16(), 403);
    let (st, _) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/regions/{}", w.region_a),
            Some(&w.coord_b),
            Some(&json!({"hold_days": 3})),
        )
        .await;
    assert_eq!(st.as_u16(), 403);
    let (st, v) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/regions/{}", w.region_a),
            Some(&w.coord_a),
            Some(&json!({"hold_days": 3})),
        )
        .await;
    assert_eq!((st.as_u16(), v["hold_days"].as_i64()), (200, Some(3)));

    // Erasure keeps the reference and the reservation's record, nothing else; an
    // active reservation is cancelled.
    let erased: BeneficiaryView = app
        .post_ok(&format!("{ben}/erase"), &w.social_worker_a, &json!({}))
        .await;
    assert!(erased.erased_at.is_some());
    assert_eq!(
        (
            erased.household_size,
            erased.proof_date,
            erased.contact.as_deref()
        ),
        (None, None, None)
    );
    assert_eq!(erased.reference, "SECRET-1");
    let after: ReservationView = app.get_ok(&res, &w.social_worker_a).await;
    assert_eq!(after.status, ReservationStatus::Cancelled);
}

/// Bad input on every new endpoint: a clear error, with a stable code, and nothing
/// written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_the_social_endpoints_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let s = social_world(&app).await;
    let w = &s.w;
    let codes = app.codes(&w.tech_a1, w.site_a1, 1).await;
    let laptop = ready_laptop(&app, w, &codes[0], "B1").await;
    let b = beneficiary(&app, &w.social_worker_a, "OK-1").await;
    let sw = w.social_worker_a.clone();
    let before = app.counts();
    let cases: Vec<(&str, String, Value, u16, &str)> = vec![
        (
            "POST",
            "/api/v1/beneficiaries".into(),
            json!({"household_size": 0, "proof_type": "caf", "proof_date": days_ago(1), "consent": true}),
            400,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/beneficiaries".into(),
            json!({"household_size": 2, "proof_type": "caf", "proof_date": days_ago(1), "consent": false}),
            422,
            "consent_required",
        ),
        (
            "POST",
            "/api/v1/beneficiaries".into(),
            json!({"household_size": 2, "proof_type": "passport", "proof_date": days_ago(1), "consent": true}),
            422,
            "invalid_value",
        ),
        (
            "POST",
            "/api/v1/beneficiaries".into(),
            json!({"household_size": 2, "proof_type": "caf", "proof_date": "2999-01-01", "consent": true}),
            422,
            "invalid_value",
        ),
        (
            "POST",
            "/api/v1/beneficiaries".into(),
            json!({"reference": "OK-1", "household_size": 2, "proof_type": "caf", "proof_date": days_ago(1), "consent": true}),
            409,
            "reference_taken",
        ),
        (
            "POST",
            "/api/v1/beneficiaries".into(),
            json!({"household_size": 2, "proof_type": "caf", "proof_date": days_ago(1), "consent": true, "name": "Jean Dupont"}),
            400,
            "unknown_field",
        ),
        (
            "POST",
            "/api/v1/reservations".into(),
            json!({"item": 999999, "beneficiary": b.id, "pickup_at": pickup()}),
            404,
            "item_not_found",
        ),
        (
            "POST",
            "/api/v1/reservations".into(),
            json!({"item": laptop.id, "beneficiary": 999999, "pickup_at": pickup()}),
            404,
            "beneficiary_not_found",
        ),
        (
            "POST",
            "/api/v1/reservations".into(),
            json!({"item": laptop.id, "beneficiary": b.id, "pickup_at": "2020-01-01T00:00:00Z"}),
            422,
            "pickup_outside_hold",
        ),
        (
            "POST",
            "/api/v1/reservations".into(),
            json!({"item": laptop.id, "beneficiary": b.id, "pickup_at": "demain"}),
            400,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/reservations".into(),
            json!({"item": laptop.id, "beneficiary": b.id, "pickup_at": pickup(), "session": 99999}),
            404,
            "training_session_not_found",
        ),
        (
            "POST",
            "/api/v1/training-sessions".into(),
            json!({"venue": s.venue_a, "trainer": "X", "duration_minutes": 60, "capacity": 0, "starts_at": pickup(), "topics": ["email"]}),
            400,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/bookings".into(),
            json!({"session": 99999, "beneficiary": b.id}),
            404,
            "training_session_not_found",
        ),
        (
            "POST",
            "/api/v1/needs".into(),
            json!({"beneficiary": b.id, "category": "ram"}),
            422,
            "invalid_value",
        ),
        (
            "POST",
            "/api/v1/needs".into(),
            json!({"beneficiary": b.id, "category": "laptop", "min_ram_gb": 100000}),
            400,
            "invalid_input",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let (st, v) = app.request(m, &path, Some(&sw), Some(&body)).await;
        assert_eq!(
            (st.as_u16(), code_of(&v)),
            (status, code),
            "{method} {path} {body}: {v}"
        );
        assert!(!v["message"].as_str().unwrap_or("").is_empty());
    }
    // Coordinators' bad sessions.
    let (st, v) = app
        .post(
            "/api/v1/training-sessions",
            &w.coord_a,
            &json!({"venue": s.venue_a, "trainer": "X", "duration_minutes": 60, "capacity": 4,
                "starts_at": "2020-01-01T10:00:00Z", "topics": ["email"]}),
        )
        .await;
    assert_eq!((st.as_u16(), code_of(&v)), (422, "session_past"));
    let (st, v) = app
        .post(
            "/api/v1/training-sessions",
            &w.coord_a,
            &json!({"venue": s.venue_a, "trainer": "X", "duration_minutes": 60, "capacity": 4,
                "starts_at": pickup(), "topics": ["knitting"]}),
        )
        .await;
    assert_eq!(
        (st.as_u16(), code_of(&v), v["details"]["field"].as_str()),
        (422, "invalid_value", Some("topics.0"))
    );
    let (st, v) = app
        .post("/api/v1/training-sessions", &w.coord_a,
            &json!({"venue": w.donor_public, "trainer": "X", "duration_minutes": 60, "capacity": 4, "starts_at": pickup(), "topics": ["email"]}))
        .await;
    assert_eq!(
        st.as_u16(),
        if code_of(&v) == "out_of_scope" {
            403
        } else {
            422
        },
        "{v}"
    );
    assert_eq!(app.counts(), before, "nothing written");
}
