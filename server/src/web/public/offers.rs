//! The pages anyone reaches without an account: a company or a public body offering
//! its old computers. No outside service guards the form: a field people never see
//! (left empty by people, filled by robots), a signed token refused when the form
//! comes back in under 3 seconds or after a day, at most 5 offers a day from one
//! address and 3 for one SIRET; and an offer is only a proposal until the region's
//! coordinator accepts it.

use crate::config::WebSettings;
use crate::db::Db;
use crate::error::ApiError;
use crate::routes::{read, write};
use crate::service::{admin, offers};
use crate::web::coordination::Choice;
use crate::web::{Chrome, Fields, Problem, guest_lang, html};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use filiere_shared::offers::*;
use filiere_shared::*;

/// The field people never see: its name tempts a form-filling robot.
pub const HONEYPOT: &str = "website";

#[derive(Default)]
pub struct Entered {
    pub organisation_name: String,
    pub siret: String,
    pub public_body: bool,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub availability: String,
    pub laptops: String,
    pub desktops: String,
    pub monitors: String,
    pub others: String,
    pub notes: String,
}

#[derive(Template)]
#[template(path = "public/offer.html")]
pub struct OfferPage {
    pub chrome: Chrome,
    pub regions: Vec<Choice>,
    pub token: String,
    pub honeypot: &'static str,
    pub e: Entered,
}

#[derive(Template)]
#[template(path = "public/offer_sent.html")]
pub struct SentPage {
    pub chrome: Chrome,
    pub offer: OfferView,
    pub region: String,
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn form(
    req: &HttpRequest,
    db: &Data<Db>,
    e: Entered,
    region: Option<i64>,
    problem: Option<ApiError>,
) -> HttpResponse {
    let lang = guest_lang(req);
    let regions = match read(db, admin::all_regions).await {
        Ok(r) => r,
        Err(e) => return crate::web::error_page(req, None, &e),
    };
    let status = problem
        .as_ref()
        .and_then(|p| StatusCode::from_u16(p.code.http_status()).ok())
        .unwrap_or(StatusCode::OK);
    let mut chrome = Chrome::guest(
        lang,
        lang.pick("Donner des ordinateurs", "Give computers"),
        String::new(),
    );
    chrome.problem = problem.map(|p| Problem::from(&p.in_lang(lang)));
    let page = OfferPage {
        chrome,
        regions: regions
            .into_iter()
            .map(|r| Choice::new(r.id.0, r.name, Some(r.id.0) == region))
            .collect(),
        token: offers::form_token(&db.form_key, now_secs()),
        honeypot: HONEYPOT,
        e,
    };
    html(status, page.render())
}

pub async fn offer_form(req: HttpRequest, db: Data<Db>) -> HttpResponse {
    form(&req, &db, Entered::default(), None, None).await
}

fn count(f: &Fields, name: &str, lang: Lang) -> Result<i32, ApiError> {
    match f.get(name) {
        "" => Ok(0),
        v => v.parse().map_err(|_| {
            ApiError::field(
                filiere_shared::validate::FieldError::new(
                    name,
                    "un nombre entier attendu",
                    "a whole number is expected",
                ),
                lang,
            )
        }),
    }
}

pub async fn offer_submit(
    req: HttpRequest,
    db: Data<Db>,
    settings: Data<WebSettings>,
    body: Bytes,
) -> HttpResponse {
    let lang = guest_lang(&req);
    let f = Fields::parse(&body);
    let e = Entered {
        organisation_name: f.get("organisation_name").to_owned(),
        siret: f.get("siret").to_owned(),
        public_body: f.get("public_body") == "on",
        contact_name: f.get("contact_name").to_owned(),
        email: f.get("email").to_owned(),
        phone: f.get("phone").to_owned(),
        address: f.get("address").to_owned(),
        availability: f.get("availability").to_owned(),
        laptops: f.get("laptops").to_owned(),
        desktops: f.get("desktops").to_owned(),
        monitors: f.get("monitors").to_owned(),
        others: f.get("others").to_owned(),
        notes: f.get("notes").to_owned(),
    };
    let region: Option<i64> = f.get("region").parse().ok();
    // A robot fills every field; nothing is written, and it learns nothing more.
    if !f.get(HONEYPOT).is_empty() {
        return form(
            &req,
            &db,
            e,
            region,
            Some(ApiError::new(ErrorCode::FormRejected)),
        )
        .await;
    }
    let nonce = match offers::check_form_token(&db.form_key, f.get("token"), now_secs()) {
        Ok(n) => n,
        Err(code) => return form(&req, &db, e, region, Some(ApiError::new(code))).await,
    };
    let counts = (|| {
        Ok::<_, ApiError>((
            count(&f, "laptops", lang)?,
            count(&f, "desktops", lang)?,
            count(&f, "monitors", lang)?,
            count(&f, "others", lang)?,
        ))
    })();
    let (laptops, desktops, monitors, others) = match counts {
        Ok(c) => c,
        Err(err) => return form(&req, &db, e, region, Some(err)).await,
    };
    let Some(region_id) = region else {
        let err = ApiError::new(ErrorCode::RegionNotFound);
        return form(&req, &db, e, region, Some(err)).await;
    };
    let offer = NewOffer {
        region: RegionId(region_id),
        organisation_name: e.organisation_name.clone(),
        siret: e.siret.clone(),
        public_body: e.public_body,
        contact_name: e.contact_name.clone(),
        email: e.email.clone(),
        phone: Some(e.phone.clone()),
        address: e.address.clone(),
        availability: e.availability.clone(),
        laptops,
        desktops,
        monitors,
        others,
        notes: Some(e.notes.clone()),
    };
    let client = offers::client_hash(
        &db.form_key,
        crate::auth::client_address(&req, &settings.trusted_proxies),
    );
    let sent = write(&db, move |c| {
        let view = offers::submit(c, &offer, &client, &nonce, lang)?;
        let region = admin::all_regions(c)?
            .into_iter()
            .find(|r| r.id == view.region)
            .map(|r| r.name)
            .unwrap_or_default();
        Ok((view, region))
    })
    .await;
    match sent {
        Ok((offer, region)) => {
            let page = SentPage {
                chrome: Chrome::guest(
                    lang,
                    lang.pick("Merci pour votre don", "Thank you for your offer"),
                    String::new(),
                ),
                offer,
                region,
            };
            html(StatusCode::CREATED, page.render())
        }
        Err(err) => form(&req, &db, e, region, Some(err)).await,
    }
}
