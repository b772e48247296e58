//! Donors' offers of computers, sent through the public form: the form's signed
//! token, the daily limits per address and per SIRET, and the region's coordinator
//! accepting an offer as a planned collection or declining it.

use super::{check, collections, site_region};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{donor_offers, organisations, regions};
use diesel::dsl::count_star;
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::offers::*;
use filiere_shared::validate::{self, FieldError};
use filiere_shared::*;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], purpose: &str, message: &str) -> HmacSha256 {
    // HMAC takes a key of any length: this cannot fail.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    m.update(purpose.as_bytes());
    m.update(b":");
    m.update(message.as_bytes());
    m
}

/// A fresh form token: when it was served (Unix seconds), a random nonce, and their
/// signature.
pub fn form_token(key: &[u8], issued_at: i64) -> String {
    let mut nonce = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
    let body = format!("{issued_at}.{}", hex::encode(nonce));
    let sig = hex::encode(mac(key, "offer-form", &body).finalize().into_bytes());
    format!("{body}.{sig}")
}

/// Checks a form token sent back at `now`: its signature, then its age. The nonce,
/// which an offer keeps so that one form is sent once.
pub fn check_form_token(key: &[u8], token: &str, now: i64) -> Result<String, ErrorCode> {
    let mut parts = token.trim().splitn(3, '.');
    let (Some(issued), Some(nonce), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ErrorCode::FormRejected);
    };
    let (Ok(issued_at), Ok(sig)) = (issued.parse::<i64>(), hex::decode(sig)) else {
        return Err(ErrorCode::FormRejected);
    };
    if nonce.len() != 24 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ErrorCode::FormRejected);
    }
    mac(key, "offer-form", &format!("{issued}.{nonce}"))
        .verify_slice(&sig)
        .map_err(|_| ErrorCode::FormRejected)?;
    form_age(issued_at, now)?;
    Ok(nonce.to_owned())
}

/// What an offer keeps of its sender's address: a keyed hash, enough to count a
/// day's offers from one address, not to know it.
pub fn client_hash(key: &[u8], address: Option<std::net::IpAddr>) -> String {
    let a = address.map(|a| a.to_string()).unwrap_or_default();
    hex::encode(&mac(key, "offer-client", &a).finalize().into_bytes()[..16])
}

fn view(r: DonorOfferRow) -> ApiResult<OfferView> {
    Ok(OfferView {
        id: OfferId(r.id),
        region: RegionId(r.region_id),
        total: [r.laptops, r.desktops, r.monitors, r.others]
            .iter()
            .map(|&n| i64::from(n))
            .sum(),
        organisation_name: r.organisation_name,
        siret: r.siret,
        public_body: r.public_body,
        contact_name: r.contact_name,
        email: r.email,
        phone: r.phone,
        address: r.address,
        availability: r.availability,
        laptops: r.laptops,
        desktops: r.desktops,
        monitors: r.monitors,
        others: r.others,
        notes: r.notes,
        status: super::parse_stored(&r.status)?,
        collection: r.collection_id.map(CollectionId),
        decline_reason: r.decline_reason,
        created_at: utc(r.created_at),
        decided_at: r.decided_at.map(utc),
    })
}

/// Records a donor's offer (no login): its fields checked, the region known, at most
/// [`OFFERS_PER_ADDRESS_PER_DAY`] from one address and [`OFFERS_PER_SIRET_PER_DAY`]
/// for one SIRET in 24 hours, one offer per signed form (`nonce`).
pub fn submit(
    conn: &mut DbConnection,
    o: &NewOffer,
    client: &str,
    nonce: &str,
    lang: Lang,
) -> ApiResult<OfferView> {
    o.check().map_err(|e| {
        if e.field == "siret" {
            ApiError::rule(e, lang)
        } else {
            ApiError::field(e, lang)
        }
    })?;
    let region: Option<i64> = regions::table
        .find(o.region.0)
        .select(regions::id)
        .first(conn)
        .optional()?;
    if region.is_none() {
        return Err(ApiError::new(ErrorCode::RegionNotFound).in_lang(lang));
    }
    let siret: String = o.siret.chars().filter(|c| c.is_ascii_digit()).collect();
    let since = now() - chrono::Duration::hours(24);
    let from_client: i64 = donor_offers::table
        .filter(donor_offers::client_hash.eq(client))
        .filter(donor_offers::created_at.gt(since))
        .select(count_star())
        .first(conn)?;
    let for_siret: i64 = donor_offers::table
        .filter(donor_offers::siret.eq(&siret))
        .filter(donor_offers::created_at.gt(since))
        .select(count_star())
        .first(conn)?;
    if from_client >= OFFERS_PER_ADDRESS_PER_DAY || for_siret >= OFFERS_PER_SIRET_PER_DAY {
        return Err(ApiError::new(ErrorCode::TooManyOffers).in_lang(lang));
    }
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (phone, notes) = (blank(&o.phone), blank(&o.notes));
    let inserted = diesel::insert_into(donor_offers::table)
        .values(NewDonorOfferRow {
            region_id: o.region.0,
            organisation_name: o.organisation_name.trim(),
            siret: &siret,
            public_body: o.public_body,
            contact_name: o.contact_name.trim(),
            email: o.email.trim(),
            phone: phone.as_deref(),
            address: o.address.trim(),
            availability: o.availability.trim(),
            laptops: o.laptops,
            desktops: o.desktops,
            monitors: o.monitors,
            others: o.others,
            notes: notes.as_deref(),
            client_hash: client,
            form_nonce: nonce,
            created_at: now(),
        })
        .returning(donor_offers::id)
        .get_result::<i64>(conn);
    let id = match inserted {
        Ok(id) => id,
        // The same signed form sent twice.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => return Err(ApiError::new(ErrorCode::FormRejected).in_lang(lang)),
        Err(e) => return Err(e.into()),
    };
    view(donor_offers::table.find(id).first(conn)?)
}

fn coordination(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::Coordinator, Role::Admin])
}

/// Offers of the caller's region (an admin's: every region), newest first.
pub fn list(
    conn: &mut DbConnection,
    actor: &Actor,
    status: Option<OfferStatus>,
) -> ApiResult<Vec<OfferView>> {
    coordination(actor)?;
    let mut q = donor_offers::table
        .order(donor_offers::id.desc())
        .limit(500)
        .into_boxed();
    if actor.role == Role::Coordinator {
        q = q.filter(donor_offers::region_id.eq(actor.region.map(|r| r.0).unwrap_or(-1)));
    }
    if let Some(s) = status {
        q = q.filter(donor_offers::status.eq(s.as_str()));
    }
    let rows: Vec<DonorOfferRow> = q.load(conn)?;
    rows.into_iter().map(view).collect()
}

fn load(conn: &mut DbConnection, actor: &Actor, id: OfferId) -> ApiResult<DonorOfferRow> {
    coordination(actor)?;
    let row: DonorOfferRow = donor_offers::table
        .find(id.0)
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::OfferNotFound))?;
    if actor.role == Role::Coordinator && actor.region != Some(RegionId(row.region_id)) {
        return Err(actor.err(ErrorCode::OfferNotFound));
    }
    Ok(row)
}

pub fn get(conn: &mut DbConnection, actor: &Actor, id: OfferId) -> ApiResult<OfferView> {
    view(load(conn, actor, id)?)
}

/// The offer, once decided: a conditional update, so that two coordinators deciding
/// at once cannot both win.
fn decide(
    conn: &mut DbConnection,
    actor: &Actor,
    id: OfferId,
    status: OfferStatus,
    collection: Option<i64>,
    reason: Option<String>,
) -> ApiResult<()> {
    let n = diesel::update(
        donor_offers::table
            .find(id.0)
            .filter(donor_offers::status.eq(OfferStatus::Proposed.as_str())),
    )
    .set((
        donor_offers::status.eq(status.as_str()),
        donor_offers::collection_id.eq(collection),
        donor_offers::decided_by.eq(Some(actor.user.0)),
        donor_offers::decided_at.eq(Some(now())),
        donor_offers::decline_reason.eq(reason),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(actor.err(ErrorCode::OfferDecided));
    }
    Ok(())
}

/// Accepts an offer as a planned collection at one of the region's sites. The donor
/// is the organisation with the offer's SIRET, made from the offer when there is
/// none (a SIRET held by another kind of organisation is refused).
pub fn accept(
    conn: &mut DbConnection,
    actor: &Actor,
    id: OfferId,
    a: &AcceptOffer,
) -> ApiResult<CollectionView> {
    let offer = load(conn, actor, id)?;
    if offer.status != OfferStatus::Proposed.as_str() {
        return Err(actor.err(ErrorCode::OfferDecided));
    }
    let region = site_region(conn, a.site, actor)?;
    if region.0 != offer.region_id {
        return Err(actor.out_of_scope());
    }
    let existing: Option<(i64, String)> = organisations::table
        .filter(organisations::siret.eq(&offer.siret))
        .select((organisations::id, organisations::kind))
        .first(conn)
        .optional()?;
    let donor = match existing {
        Some((id, kind)) if kind == OrgKind::Donor.as_str() => OrgId(id),
        Some(_) => {
            return Err(ApiError::rule(
                FieldError::new(
                    "siret",
                    "ce SIRET est celui d'une organisation qui n'est pas un donateur",
                    "this SIRET belongs to an organisation that is not a donor",
                ),
                actor.lang,
            ));
        }
        None => {
            let contact = match &offer.phone {
                Some(p) => format!("{} · {} · {p}", offer.contact_name, offer.email),
                None => format!("{} · {}", offer.contact_name, offer.email),
            };
            super::admin::create_organisation(
                conn,
                actor,
                &NewOrganisation {
                    name: offer.organisation_name.clone(),
                    kind: OrgKind::Donor,
                    siret: Some(offer.siret.clone()),
                    public_body: offer.public_body,
                    region: Some(RegionId(offer.region_id)),
                    address: Some(offer.address.clone()),
                    weee_status: None,
                    contact: Some(contact.chars().take(300).collect()),
                    vat_scheme: None,
                },
            )?
            .id
        }
    };
    let mut notes = format!(
        "Proposition n° {} : {} portable(s), {} unité(s) centrale(s), {} écran(s), {} autre(s). Disponibilité : {}",
        offer.id, offer.laptops, offer.desktops, offer.monitors, offer.others, offer.availability
    );
    if let Some(n) = &offer.notes {
        notes.push('\n');
        notes.push_str(n);
    }
    let total = [offer.laptops, offer.desktops, offer.monitors, offer.others]
        .iter()
        .sum::<i32>();
    let collection = collections::insert(
        conn,
        actor,
        &NewCollection {
            donor,
            site: a.site,
            pickup_date: a.pickup_date,
            pickup_address: Some(offer.address.chars().take(300).collect()),
            declared_count: total,
            declared_weight_g: a.declared_weight_g,
            legal_status: a.legal_status,
            waste_code: a.waste_code.clone(),
            reference: Some(format!("OFFRE-{}", offer.id)),
            notes: Some(notes.chars().take(2000).collect()),
        },
    )?;
    decide(
        conn,
        actor,
        id,
        OfferStatus::Accepted,
        Some(collection),
        None,
    )?;
    collections::get(conn, actor, CollectionId(collection))
}

/// Declines an offer, with what was said to the donor.
pub fn decline(
    conn: &mut DbConnection,
    actor: &Actor,
    id: OfferId,
    d: &DeclineOffer,
) -> ApiResult<OfferView> {
    load(conn, actor, id)?;
    check(
        actor,
        validate::opt_text("reason", d.reason.as_deref(), 500),
    )?;
    let reason = d
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    decide(conn, actor, id, OfferStatus::Declined, None, reason)?;
    get(conn, actor, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_token_is_signed_and_aged() {
        let key = b"a key for the test";
        let t = form_token(key, 1_000);
        assert!(check_form_token(key, &t, 1_005).is_ok());
        assert_eq!(
            check_form_token(key, &t, 1_001),
            Err(ErrorCode::FormTooFast)
        );
        assert_eq!(
            check_form_token(key, &t, 1_000 + MAX_FORM_SECONDS + 1),
            Err(ErrorCode::FormExpired)
        );
        assert_eq!(
            check_form_token(b"another key", &t, 1_005),
            Err(ErrorCode::FormRejected)
        );
        // An older date under the same signature is refused.
        let forged = t.replacen("1000", "0999", 1);
        assert_eq!(
            check_form_token(key, &forged, 1_005),
            Err(ErrorCode::FormRejected)
        );
        assert_eq!(
            check_form_token(key, "", 1_005),
            Err(ErrorCode::FormRejected)
        );
    }
}
