//! The coordinators' and admins' work through the real server: donors' offers through
//! the public form (its guards, each refusal writing nothing), accepted as a planned
//! collection or declined; a collection closed with what never arrived; organisations
//! kept by a region's coordinator; who reads regions, sites and organisations; a new
//! account's one-time password link; one's own password changed.

use chrono::Utc;
use filiere_server::service::offers::form_token;
use filiere_shared::api::*;
use filiere_shared::offers::*;
use filiere_shared::*;
use filiere_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn code_of(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

fn count(app: &TestApp, sql: &str) -> i64 {
    TestApp::number(&mut app.conn(), sql)
}

/// A SIRET with a valid key, made from `n`.
fn siret(n: u64) -> String {
    let prefix = format!("{:013}", 4_000_000_000_000 + n);
    (0..10)
        .map(|d| format!("{prefix}{d}"))
        .find(|s| validate::siret("siret", s).is_ok() && !s.starts_with("356000000"))
        .expect("a check digit")
}

/// The form's key, as the server keeps it.
fn form_key(app: &TestApp) -> Vec<u8> {
    filiere_server::db::secret(&mut app.conn(), "form")
        .expect("form key")
        .into_bytes()
}

/// A token served `age` seconds ago.
fn token(app: &TestApp, age: i64) -> String {
    form_token(&form_key(app), Utc::now().timestamp() - age)
}

fn offer_fields(region: RegionId, siret: &str, laptops: &str) -> Vec<(String, String)> {
    [
        ("region", region.0.to_string()),
        ("organisation_name", "Mairie de Vaulx".into()),
        ("siret", siret.into()),
        ("public_body", "on".into()),
        ("contact_name", "Claire Martin".into()),
        ("email", "dsi@vaulx.example".into()),
        ("phone", "04 72 00 00 00".into()),
        ("address", "Place de la mairie, Vaulx".into()),
        ("availability", "à partir du 5 janvier, le matin".into()),
        ("laptops", laptops.into()),
        ("desktops", "".into()),
        ("monitors", "".into()),
        ("others", "".into()),
        ("notes", "".into()),
        ("website", "".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Posts the public form as a browser would; the status and the page.
async fn send_offer(
    app: &TestApp,
    token: &str,
    fields: &[(String, String)],
) -> (StatusCode, String) {
    let mut body = format!("token={}", form_encode(token));
    for (k, v) in fields {
        body.push_str(&format!("&{}={}", form_encode(k), form_encode(v)));
    }
    let resp = app
        .client
        .post(format!("{}/offer", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept-language", "fr")
        .body(body)
        .send()
        .await
        .expect("post the form");
    (resp.status(), resp.text().await.expect("page"))
}

#[actix_web::test]
async fn a_donor_offers_through_the_public_form_and_the_guards_refuse_robots() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let page = app
        .client
        .get(format!("{}/offer", app.base))
        .send()
        .await
        .expect("form");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("name=\"token\"") && html.contains("name=\"website\""));
    assert!(html.contains("Région AAA"), "the regions are offered");

    let good = offer_fields(w.region_a, &siret(1), "30");
    let before = app.counts();
    // Each guard refuses, in French, and writes nothing.
    let mut robot = good.clone();
    robot.retain(|(k, _)| k != "website");
    robot.push(("website".into(), "http://spam.example".into()));
    for (token, fields, code) in [
        (token(&app, 10), robot, "form_rejected"),
        (token(&app, 0), good.clone(), "form_too_fast"),
        (token(&app, 2 * 86_400), good.clone(), "form_expired"),
        (
            form_token(b"not the server's key", Utc::now().timestamp() - 10),
            good.clone(),
            "form_rejected",
        ),
        (
            token(&app, 10),
            offer_fields(w.region_a, "12002701600018", "30"),
            "invalid_value",
        ),
        (
            token(&app, 10),
            offer_fields(w.region_a, &siret(1), "0"),
            "invalid_input",
        ),
    ] {
        let (status, html) = send_offer(&app, &token, &fields).await;
        assert!(status.is_client_error(), "{code}: {status}");
        assert!(html.contains(code), "{code} shown: {html}");
        assert_eq!(app.counts(), before, "{code} wrote nothing");
    }
    let (_, html) = send_offer(
        &app,
        &token(&app, 10),
        &offer_fields(w.region_a, "12002701600018", "30"),
    )
    .await;
    assert!(
        html.contains("SIRET compte 14 chiffres"),
        "the field's own message"
    );
    assert!(
        html.contains("value=\"Mairie de Vaulx\""),
        "what was typed is kept"
    );

    // A good form: one offer, for the region's coordinator only.
    let t = token(&app, 10);
    let (status, html) = send_offer(&app, &t, &good).await;
    assert_eq!(status, StatusCode::CREATED, "{html}");
    assert!(html.contains("Merci"));
    // The same signed form twice is one offer.
    let (status, html) = send_offer(&app, &t, &good).await;
    assert!(status.is_client_error() && html.contains("form_rejected"));
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM donor_offers"), 1);
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM collections"),
        0,
        "not a collection yet"
    );

    let offers: Vec<OfferView> = app.get_ok("/api/v1/offers", &w.coord_a).await;
    assert_eq!(offers.len(), 1);
    let o = &offers[0];
    assert_eq!(
        (o.laptops, o.total, o.status),
        (30, 30, OfferStatus::Proposed)
    );
    assert_eq!(o.siret, siret(1));
    assert!(o.public_body);
    let other: Vec<OfferView> = app.get_ok("/api/v1/offers", &w.coord_b).await;
    assert!(
        other.is_empty(),
        "another region's coordinator does not see it"
    );
    let (s, v) = app
        .get(&format!("/api/v1/offers/{}", o.id), &w.coord_b)
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (404, "offer_not_found"));
    for token in [&w.tech_a1, &w.social_worker_a] {
        let (s, v) = app.get("/api/v1/offers", token).await;
        assert_eq!((s.as_u16(), code_of(&v)), (403, "forbidden"));
    }
    let accept = json!({"site": w.site_a1, "pickup_date": "2027-01-05", "legal_status": "reuse"});
    let (s, v) = app
        .post(
            &format!("/api/v1/offers/{}/accept", o.id),
            &w.coord_b,
            &accept,
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (404, "offer_not_found"));
    let other_site =
        json!({"site": w.site_b, "pickup_date": "2027-01-05", "legal_status": "reuse"});
    let (s, v) = app
        .post(
            &format!("/api/v1/offers/{}/accept", o.id),
            &w.coord_a,
            &other_site,
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (403, "out_of_scope"));

    // Accepted: a planned collection of 30 from a donor made from the offer.
    let c: CollectionView = app
        .post_ok(
            &format!("/api/v1/offers/{}/accept", o.id),
            &w.coord_a,
            &accept,
        )
        .await;
    assert_eq!(
        (c.declared_count, c.received_count, c.status),
        (30, 0, CollectionStatus::Planned)
    );
    assert!(c.donor_public_body);
    let donor: OrganisationView = app
        .get_ok(&format!("/api/v1/organisations/{}", c.donor), &w.coord_a)
        .await;
    assert_eq!(
        (donor.kind, donor.siret.as_deref()),
        (OrgKind::Donor, Some(siret(1).as_str()))
    );
    assert_eq!(donor.region, Some(w.region_a));
    let (s, v) = app
        .post(
            &format!("/api/v1/offers/{}/accept", o.id),
            &w.coord_a,
            &accept,
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (409, "offer_decided"));
    let (s, v) = app
        .post(
            &format!("/api/v1/offers/{}/decline", o.id),
            &w.coord_a,
            &json!({}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (409, "offer_decided"));
}

#[actix_web::test]
async fn offers_are_limited_per_address_and_per_siret() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    // Three for one SIRET, then refused.
    for _ in 0..OFFERS_PER_SIRET_PER_DAY {
        let (s, html) = send_offer(
            &app,
            &token(&app, 10),
            &offer_fields(w.region_a, &siret(7), "3"),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{html}");
    }
    let before = app.counts();
    let (s, html) = send_offer(
        &app,
        &token(&app, 10),
        &offer_fields(w.region_a, &siret(7), "3"),
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("too_many_offers"));
    assert_eq!(app.counts(), before);
    // Five from one address, whatever the SIRET.
    for n in 0..(OFFERS_PER_ADDRESS_PER_DAY - OFFERS_PER_SIRET_PER_DAY) {
        let (s, _) = send_offer(
            &app,
            &token(&app, 10),
            &offer_fields(w.region_a, &siret(100 + n as u64), "3"),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, html) = send_offer(
        &app,
        &token(&app, 10),
        &offer_fields(w.region_a, &siret(200), "3"),
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("too_many_offers"));
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM donor_offers"),
        OFFERS_PER_ADDRESS_PER_DAY
    );

    // Declined, with what the donor was told.
    let offers: Vec<OfferView> = app
        .get_ok("/api/v1/offers?status=proposed", &w.coord_a)
        .await;
    let d: OfferView = app
        .post_ok(
            &format!("/api/v1/offers/{}/decline", offers[0].id),
            &w.coord_a,
            &json!({"reason": "trop loin"}),
        )
        .await;
    assert_eq!(
        (d.status, d.decline_reason.as_deref()),
        (OfferStatus::Declined, Some("trop loin"))
    );
    let left: Vec<OfferView> = app
        .get_ok("/api/v1/offers?status=proposed", &w.coord_a)
        .await;
    assert_eq!(left.len(), offers.len() - 1);
}

#[actix_web::test]
async fn closing_a_collection_records_what_never_arrived() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let c: CollectionView = app
        .post_ok(
            "/api/v1/collections",
            &w.coord_a,
            &json!({"donor": w.donor_private, "site": w.site_a1, "pickup_date": "2026-11-20",
                "declared_count": 5, "declared_weight_g": 10_000, "legal_status": "reuse"}),
        )
        .await;
    let codes = app.codes(&w.tech_a1, w.site_a1, 4).await;
    // Four labelled at the donor's; two received at the workshop.
    for (i, code) in codes.iter().enumerate() {
        let _: EventResponse = app
            .post_ok(
                "/api/v1/items",
                &w.tech_a1,
                &json!({"idempotency_key": format!("reg-{i}"), "code": code, "category": "laptop",
                    "collection": c.id, "at_workshop": false, "weight_g": 2000, "no_drive": true}),
            )
            .await;
    }
    let items: ItemPage = app
        .get_ok(&format!("/api/v1/items?collection={}", c.id), &w.tech_a1)
        .await;
    for (i, item) in items.items.iter().take(2).enumerate() {
        app.step_ok(
            &w.tech_a1,
            item,
            &format!("rec-{i}"),
            json!({"type": "receive"}),
        )
        .await;
    }
    let seen: CollectionView = app
        .get_ok(&format!("/api/v1/collections/{}", c.id), &w.coord_a)
        .await;
    assert_eq!((seen.registered_count, seen.received_count), (4, 2));
    assert_eq!(
        seen.received_weight_g, 4_000,
        "items still at the donor's do not weigh in"
    );

    // Refusals first: nothing written.
    let before = app.counts();
    let (s, v) = app
        .post(
            &format!("/api/v1/collections/{}/close", c.id),
            &w.tech_a1,
            &json!({}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (403, "forbidden"));
    let (s, v) = app
        .post(
            &format!("/api/v1/collections/{}/close", c.id),
            &w.coord_b,
            &json!({}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (404, "collection_not_found"));
    assert_eq!(app.counts(), before);

    let closed: CollectionView = app
        .post_ok(
            &format!("/api/v1/collections/{}/close", c.id),
            &w.coord_a,
            &json!({"notes": "2 jamais retrouvés"}),
        )
        .await;
    assert_eq!(closed.status, CollectionStatus::Closed);
    assert_eq!(closed.missing_count, Some(3), "declared 5, received 2");
    assert_eq!(
        closed.missing_weight_g,
        Some(6_000),
        "declared 10 kg, received 4 kg"
    );
    assert_eq!(
        i64::from(closed.declared_count),
        closed.received_count + i64::from(closed.missing_count.unwrap_or(0)),
        "declared = received + missing"
    );
    assert!(closed.closed_at.is_some());
    let (s, v) = app
        .post(
            &format!("/api/v1/collections/{}/close", c.id),
            &w.coord_a,
            &json!({}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (409, "collection_closed"));
    // Nothing more is registered on it.
    let more = app.codes(&w.tech_a1, w.site_a1, 1).await;
    let (s, v) = app
        .post(
            "/api/v1/items",
            &w.tech_a1,
            &json!({"idempotency_key": "late", "code": more[0], "category": "laptop", "collection": c.id}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (409, "collection_closed"));
    let all: Vec<CollectionView> = app.get_ok("/api/v1/collections", &w.coord_a).await;
    assert_eq!(all.len(), 1);
    let open: Vec<CollectionView> = app
        .get_ok("/api/v1/collections?status=planned", &w.coord_a)
        .await;
    assert!(open.is_empty());
    let closed: Vec<CollectionView> = app
        .get_ok("/api/v1/collections?status=closed", &w.tech_a1)
        .await;
    assert_eq!(closed.len(), 1);
}

#[actix_web::test]
async fn coordinators_keep_their_regions_donors_and_partners() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let donor = json!({"name": "Clinique du Parc", "kind": "donor", "siret": siret(11), "region": w.region_a});
    let made: OrganisationView = app
        .post_ok("/api/v1/organisations", &w.coord_a, &donor)
        .await;
    assert_eq!(made.siret.as_deref(), Some(siret(11).as_str()));
    let before = app.counts();
    for (body, status, code) in [
        (
            json!({"name": "X", "kind": "donor", "siret": "12002701600018", "region": w.region_a}),
            422,
            "invalid_value",
        ),
        (
            json!({"name": "X", "kind": "recycler", "region": w.region_a}),
            403,
            "forbidden",
        ),
        (
            json!({"name": "X", "kind": "donor", "region": w.region_b}),
            403,
            "out_of_scope",
        ),
        (json!({"name": "X", "kind": "donor"}), 403, "out_of_scope"),
    ] {
        let (s, v) = app.post("/api/v1/organisations", &w.coord_a, &body).await;
        assert_eq!((s.as_u16(), code_of(&v)), (status, code), "{body}");
    }
    for token in [&w.tech_a1, &w.social_worker_a] {
        let (s, v) = app.post("/api/v1/organisations", token, &donor).await;
        assert_eq!((s.as_u16(), code_of(&v)), (403, "forbidden"));
    }
    assert_eq!(app.counts(), before);
    // La Poste's establishments follow their own rule.
    let poste = json!({"name": "La Poste", "kind": "donor", "siret": "35600000000010", "region": w.region_a, "public_body": true});
    let _: OrganisationView = app
        .post_ok("/api/v1/organisations", &w.coord_a, &poste)
        .await;

    let path = format!("/api/v1/organisations/{}", made.id);
    let changed: Value = app
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&w.coord_a),
            Some(&json!({"contact": "M. Roux", "public_body": true})),
        )
        .await
        .1;
    assert_eq!(changed["contact"], "M. Roux");
    assert_eq!(changed["public_body"], true);
    let (s, v) = app
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&w.coord_b),
            Some(&json!({"contact": "x"})),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (404, "organisation_not_found"));
    let (s, v) = app
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&w.coord_a),
            Some(&json!({"siret": "123"})),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (422, "invalid_value"));
    let recycler = format!("/api/v1/organisations/{}", w.recycler);
    let (s, v) = app
        .request(
            reqwest::Method::PATCH,
            &recycler,
            Some(&w.coord_a),
            Some(&json!({"contact": "x"})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), code_of(&v)),
        (403, "forbidden"),
        "a recycler is the admin's"
    );
    let (s, _) = app
        .request(
            reqwest::Method::PATCH,
            &recycler,
            Some(&w.admin),
            Some(&json!({"contact": "x"})),
        )
        .await;
    assert_eq!(s.as_u16(), 200);
}

#[actix_web::test]
async fn regions_sites_and_organisations_are_read_as_each_role_needs() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let national: OrganisationView = app
        .post_ok(
            "/api/v1/organisations",
            &w.admin,
            &json!({"name": "Recycleur national", "kind": "recycler"}),
        )
        .await;
    let ids = |v: &[SiteView]| v.iter().map(|s| s.id).collect::<Vec<_>>();
    let regions: Vec<RegionView> = app.get_ok("/api/v1/regions", &w.social_worker_a).await;
    assert_eq!(regions.len(), 2, "every role reads the regions");
    let all: Vec<SiteView> = app.get_ok("/api/v1/sites", &w.admin).await;
    assert_eq!(all.len(), 3);
    for token in [&w.coord_a, &w.tech_a1, &w.social_worker_a] {
        let sites: Vec<SiteView> = app.get_ok("/api/v1/sites", token).await;
        assert_eq!(
            ids(&sites),
            vec![w.site_a1, w.site_a2],
            "region A's sites only"
        );
    }
    let sites: Vec<SiteView> = app.get_ok("/api/v1/sites", &w.coord_b).await;
    assert_eq!(ids(&sites), vec![w.site_b]);

    let org_ids = |v: Vec<OrganisationView>| {
        v.into_iter()
            .map(|o| o.id)
            .collect::<std::collections::BTreeSet<_>>()
    };
    let mine: Vec<OrganisationView> = app
        .get_ok("/api/v1/organisations", &w.social_worker_a)
        .await;
    assert_eq!(org_ids(mine), [w.social_a].into());
    let coord: Vec<OrganisationView> = app.get_ok("/api/v1/organisations", &w.coord_a).await;
    let coord = org_ids(coord);
    assert!(coord.contains(&w.donor_public) && coord.contains(&national.id));
    assert!(!coord.contains(&w.social_b), "not another region's");
    let (s, v) = app
        .get(&format!("/api/v1/organisations/{}", w.social_b), &w.coord_a)
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (404, "organisation_not_found"));
    let (s, v) = app
        .get(
            &format!("/api/v1/organisations/{}", w.donor_public),
            &w.social_worker_a,
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (404, "organisation_not_found"));
    let admin_sees: Vec<OrganisationView> = app.get_ok("/api/v1/organisations", &w.admin).await;
    assert_eq!(admin_sees.len(), 6);
}

#[actix_web::test]
async fn a_new_account_sets_its_password_from_a_one_time_link() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let u: UserView = app
        .post_ok(
            "/api/v1/users",
            &w.admin,
            &json!({"username": "lea", "display_name": "Léa", "role": "coordinator", "region": w.region_a}),
        )
        .await;
    assert!(!u.has_password);
    let (s, v) = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/users/{}/setup-link", u.id),
            Some(&w.coord_a),
            None,
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (403, "forbidden"));
    let issue = || async {
        let (s, v) = app
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/users/{}/setup-link", u.id),
                Some(&w.admin),
                None,
            )
            .await;
        assert_eq!(s.as_u16(), 200, "{v}");
        serde_json::from_value::<SetupLink>(v).expect("a link")
    };
    let first = issue().await;
    let link = issue().await;
    let token_of = |l: &SetupLink| l.url.rsplit('/').next().unwrap_or("").to_owned();
    // The configured public host (the tests' is `filiere.test`).
    assert!(
        link.url.starts_with("https://filiere.test/setup/fls_"),
        "{}",
        link.url
    );
    // The first link was replaced; a short password is refused and spends nothing.
    let (s, v) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/auth/set-password",
            None,
            Some(&json!({"token": token_of(&first), "password": "un mot de passe long"})),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (404, "setup_link_invalid"));
    let (s, v) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/auth/set-password",
            None,
            Some(&json!({"token": token_of(&link), "password": "court"})),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (400, "invalid_input"));
    let done: UserView = app
        .post_ok_anon(
            "/api/v1/auth/set-password",
            &json!({"token": token_of(&link), "password": "un mot de passe long"}),
        )
        .await;
    assert!(done.has_password);
    let (s, v) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/auth/set-password",
            None,
            Some(&json!({"token": token_of(&link), "password": "un autre mot de passe"})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), code_of(&v)),
        (404, "setup_link_invalid"),
        "a link works once"
    );
    let session: SessionResponse = app
        .post_ok_anon(
            "/api/v1/auth/login",
            &json!({"username": "lea", "password": "un mot de passe long"}),
        )
        .await;

    // Her own password, changed: the wrong current one is refused, her other session ends.
    let other = app.login_with("lea", "un mot de passe long").await;
    let (s, v) = app
        .post(
            "/api/v1/me/password",
            &session.token,
            &json!({"current": "pas le bon du tout", "new": "encore un autre long"}),
        )
        .await;
    assert_eq!((s.as_u16(), code_of(&v)), (422, "wrong_password"));
    let _: UserView = app
        .post_ok(
            "/api/v1/me/password",
            &session.token,
            &json!({"current": "un mot de passe long", "new": "encore un autre long"}),
        )
        .await;
    let (s, _) = app.get("/api/v1/me", &session.token).await;
    assert_eq!(s.as_u16(), 200, "this session goes on");
    let (s, _) = app.get("/api/v1/me", &other).await;
    assert_eq!(s.as_u16(), 401, "the other one has ended");
    app.login_with("lea", "encore un autre long").await;
}
