//! Beneficiaries: households referred by a social organisation, known to Filière by a
//! pseudonymous reference. Only the social workers of the referring organisation see
//! one; coordinators see counts; admins see nothing (their power is over accounts,
//! not over people's files). Anyone else is answered as if it did not exist.

use super::check;
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{
    beneficiaries, needs, organisations, proof_types, reservations, training_bookings, users,
};
use chrono::NaiveDate;
use diesel::prelude::*;
use filiere_shared::social::*;
use filiere_shared::validate::{self, FieldError};
use filiere_shared::*;
use rand::Rng;

/// The caller's organisation, for a social worker; refused to anyone else.
pub fn own_org(actor: &Actor) -> ApiResult<OrgId> {
    actor.require(&[Role::SocialWorker])?;
    actor.org.ok_or_else(|| actor.out_of_scope())
}

/// A beneficiary of the caller's organisation; any other is `beneficiary_not_found`.
pub fn load_own(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BeneficiaryId,
) -> ApiResult<BeneficiaryRow> {
    let org = own_org(actor)?;
    beneficiaries::table
        .find(id.0)
        .filter(beneficiaries::organisation_id.eq(org.0))
        .select(BeneficiaryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::BeneficiaryNotFound))
}

/// The proof types, in their order, with the consent text in the caller's language.
pub fn proof_types(conn: &mut DbConnection, actor: &Actor) -> ApiResult<ProofTypes> {
    let rows: Vec<(String, String, String, i32)> = proof_types::table
        .order(proof_types::position)
        .select((
            proof_types::key,
            proof_types::label_fr,
            proof_types::label_en,
            proof_types::valid_days,
        ))
        .load(conn)?;
    Ok(ProofTypes {
        proof_types: rows
            .into_iter()
            .map(|(key, fr, en, days)| ProofTypeView {
                key,
                label: actor.lang.pick(&fr, &en).to_owned(),
                valid_days: days.max(0) as u32,
            })
            .collect(),
        consent_text: consent_text(actor.lang).to_owned(),
    })
}

pub fn consent_text(lang: Lang) -> &'static str {
    lang.pick(CONSENT_TEXT_FR, CONSENT_TEXT_EN)
}

/// A proof type's label and validity, or a 422 naming the field.
fn proof_type(conn: &mut DbConnection, actor: &Actor, key: &str) -> ApiResult<(String, u32)> {
    let found: Option<(String, String, i32)> = proof_types::table
        .find(key.trim())
        .select((
            proof_types::label_fr,
            proof_types::label_en,
            proof_types::valid_days,
        ))
        .first(conn)
        .optional()?;
    let (fr, en, days) = found.ok_or_else(|| {
        ApiError::rule(
            FieldError::new(
                "proof_type",
                "type de justificatif inconnu",
                "unknown proof type",
            ),
            actor.lang,
        )
    })?;
    Ok((actor.lang.pick(&fr, &en).to_owned(), days.max(0) as u32))
}

fn check_proof_date(actor: &Actor, date: NaiveDate, days: u32) -> ApiResult<()> {
    match filiere_shared::social::check_proof(date, days, today()) {
        Ok(()) => Ok(()),
        Err(ProofProblem::InFuture) => Err(ApiError::rule(
            FieldError::new(
                "proof_date",
                "ne peut pas être dans le futur",
                "cannot be in the future",
            ),
            actor.lang,
        )),
        Err(ProofProblem::Lapsed { since }) => Err(actor
            .err(ErrorCode::ProofLapsed)
            .with_details(serde_json::json!({"field": "proof_date", "lapsed_on": since}))),
    }
}

pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A reference nobody can read a name from: `B-` and 8 symbols of Crockford base32.
fn generated_reference() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let s: String = (0..8)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("B-{s}")
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    b: &NewBeneficiary,
) -> ApiResult<BeneficiaryView> {
    let org = own_org(actor)?;
    if let Some(r) = &b.reference {
        check(actor, validate::text("reference", r, 40))?;
    }
    check(
        actor,
        validate::range("household_size", b.household_size.into(), 1, 20),
    )?;
    check(
        actor,
        validate::opt_text("contact", b.contact.as_deref(), 100),
    )?;
    check(actor, validate::opt_text("notes", b.notes.as_deref(), 2000))?;
    if !b.consent {
        return Err(actor
            .err(ErrorCode::ConsentRequired)
            .with_details(serde_json::json!({"field": "consent"})));
    }
    let (_, days) = proof_type(conn, actor, &b.proof_type)?;
    check_proof_date(actor, b.proof_date, days)?;
    let reference = clean(&b.reference).unwrap_or_else(generated_reference);
    let at = now();
    let id: i64 = diesel::insert_into(beneficiaries::table)
        .values(NewBeneficiaryRow {
            organisation_id: org.0,
            social_worker_id: actor.user.0,
            reference,
            household_size: Some(b.household_size as i32),
            proof_type: Some(b.proof_type.trim().to_owned()),
            proof_date: Some(b.proof_date),
            consent_at: Some(at),
            consent_text: Some(consent_text(actor.lang).to_owned()),
            contact: clean(&b.contact),
            notes: clean(&b.notes),
            created_at: at,
        })
        .returning(beneficiaries::id)
        .get_result(conn)
        .map_err(|e| match ApiError::from(e) {
            e if e.code == ErrorCode::Duplicate => actor.err(ErrorCode::ReferenceTaken),
            e => e,
        })?;
    get(conn, actor, BeneficiaryId(id))
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BeneficiaryId,
    u: &UpdateBeneficiary,
) -> ApiResult<BeneficiaryView> {
    let row = load_own(conn, actor, id)?;
    if row.erased_at.is_some() {
        return Err(actor.err(ErrorCode::BeneficiaryErased));
    }
    if let Some(h) = u.household_size {
        check(actor, validate::range("household_size", h.into(), 1, 20))?;
    }
    check(
        actor,
        validate::opt_text("contact", u.contact.as_deref(), 100),
    )?;
    check(actor, validate::opt_text("notes", u.notes.as_deref(), 2000))?;
    let proof_key = u
        .proof_type
        .as_deref()
        .map(str::trim)
        .map(str::to_owned)
        .or(row.proof_type.clone())
        .unwrap_or_default();
    if u.proof_type.is_some() || u.proof_date.is_some() {
        let (_, days) = proof_type(conn, actor, &proof_key)?;
        if let Some(date) = u.proof_date.or(row.proof_date) {
            check_proof_date(actor, date, days)?;
        }
    }
    diesel::update(beneficiaries::table.find(row.id))
        .set((
            beneficiaries::household_size
                .eq(u.household_size.map(|h| h as i32).or(row.household_size)),
            beneficiaries::proof_type.eq(Some(proof_key).filter(|k| !k.is_empty())),
            beneficiaries::proof_date.eq(u.proof_date.or(row.proof_date)),
            beneficiaries::contact.eq(match &u.contact {
                Some(_) => clean(&u.contact),
                None => row.contact.clone(),
            }),
            beneficiaries::notes.eq(match &u.notes {
                Some(_) => clean(&u.notes),
                None => row.notes.clone(),
            }),
        ))
        .execute(conn)?;
    get(conn, actor, id)
}

/// The view of a row, with its social worker's name and its proof's validity.
pub fn view(
    conn: &mut DbConnection,
    actor: &Actor,
    row: BeneficiaryRow,
) -> ApiResult<BeneficiaryView> {
    let worker: String = users::table
        .find(row.social_worker_id)
        .select(users::display_name)
        .first(conn)?;
    let proof = match &row.proof_type {
        Some(k) => Some(proof_type(conn, actor, k)?),
        None => None,
    };
    let valid_until = match (&proof, row.proof_date) {
        (Some((_, days)), Some(d)) => Some(proof_valid_until(d, *days)),
        _ => None,
    };
    Ok(BeneficiaryView {
        id: BeneficiaryId(row.id),
        reference: row.reference,
        organisation: OrgId(row.organisation_id),
        social_worker: UserId(row.social_worker_id),
        social_worker_name: worker,
        household_size: row.household_size.map(|h| h.max(0) as u32),
        proof_type: row.proof_type,
        proof_label: proof.map(|(label, _)| label),
        proof_date: row.proof_date,
        proof_valid_until: valid_until,
        proof_valid: valid_until.is_some_and(|u| u >= today()),
        consent_at: row.consent_at.map(utc),
        consent_text: row.consent_text,
        contact: row.contact,
        notes: row.notes,
        created_at: utc(row.created_at),
        erased_at: row.erased_at.map(utc),
    })
}

pub fn get(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BeneficiaryId,
) -> ApiResult<BeneficiaryView> {
    let row = load_own(conn, actor, id)?;
    view(conn, actor, row)
}

/// The caller's organisation's beneficiaries, newest first.
pub fn list(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<BeneficiaryView>> {
    let org = own_org(actor)?;
    let rows: Vec<BeneficiaryRow> = beneficiaries::table
        .filter(beneficiaries::organisation_id.eq(org.0))
        .order(beneficiaries::id.desc())
        .select(BeneficiaryRow::as_select())
        .limit(1000)
        .load(conn)?;
    rows.into_iter().map(|r| view(conn, actor, r)).collect()
}

/// Everything held on a beneficiary, for a GDPR access request.
pub fn export(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BeneficiaryId,
) -> ApiResult<BeneficiaryExport> {
    let beneficiary = get(conn, actor, id)?;
    let reservations = super::reservations::of_beneficiary(conn, actor, id)?;
    let bookings = super::training::bookings_of_beneficiary(conn, actor, id)?;
    let needs = super::needs::of_beneficiary(conn, actor, id, true)?;
    Ok(BeneficiaryExport {
        exported_at: chrono::Utc::now(),
        beneficiary,
        reservations,
        bookings,
        needs,
    })
}

/// Erases a beneficiary's data on request. What the law requires for a sale (the
/// reservation and its device, under the pseudonymous reference) is kept; everything
/// else about the household goes. An active reservation is cancelled, open needs
/// closed, seats not yet used given back.
pub fn erase(
    conn: &mut DbConnection,
    actor: &Actor,
    id: BeneficiaryId,
) -> ApiResult<BeneficiaryView> {
    let row = load_own(conn, actor, id)?;
    if row.erased_at.is_some() {
        return view(conn, actor, row);
    }
    let active: Vec<i64> = reservations::table
        .filter(reservations::beneficiary_id.eq(row.id))
        .filter(reservations::status.eq(ReservationStatus::Active.as_str()))
        .select(reservations::id)
        .load(conn)?;
    for r in active {
        let reason = actor.lang.pick(
            "données du bénéficiaire effacées à sa demande",
            "beneficiary's data erased on request",
        );
        super::reservations::end(
            conn,
            Some(actor),
            ReservationId(r),
            false,
            Some(reason),
            actor.lang,
        )?;
    }
    wipe(conn, row.id)?;
    get(conn, actor, id)
}

/// Erases what identifies a beneficiary (household, proof, contact, notes), closes
/// their open needs and gives back their unused seats; the pseudonymous reference and
/// what the law keeps (reservations, invoices) stay. Claimed by one conditional update:
/// `false` when it was already done (by a person, or another process's sweep), and
/// then nothing is written.
fn wipe(conn: &mut DbConnection, id: i64) -> ApiResult<bool> {
    let at = now();
    let n = diesel::update(
        beneficiaries::table
            .filter(beneficiaries::id.eq(id))
            .filter(beneficiaries::erased_at.is_null()),
    )
    .set((
        beneficiaries::household_size.eq(None::<i32>),
        beneficiaries::proof_type.eq(None::<String>),
        beneficiaries::proof_date.eq(None::<NaiveDate>),
        beneficiaries::contact.eq(None::<String>),
        beneficiaries::notes.eq(None::<String>),
        beneficiaries::erased_at.eq(Some(at)),
    ))
    .execute(conn)?;
    if n != 1 {
        return Ok(false);
    }
    diesel::update(
        needs::table
            .filter(needs::beneficiary_id.eq(id))
            .filter(needs::closed_at.is_null()),
    )
    .set(needs::closed_at.eq(Some(at)))
    .execute(conn)?;
    let open_seats: Vec<i64> = training_bookings::table
        .filter(training_bookings::beneficiary_id.eq(id))
        .filter(training_bookings::status.ne(BookingStatus::Cancelled.as_str()))
        .filter(training_bookings::attendance.is_null())
        .select(training_bookings::id)
        .load(conn)?;
    for b in open_seats {
        super::training::release(conn, BookingId(b), at)?;
    }
    Ok(true)
}

/// How long a beneficiary's identity is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Days after the last guarantee of a device sold to them ends.
    pub after_guarantee_days: u32,
    /// Days without any reservation, for a beneficiary who bought nothing.
    pub inactive_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            after_guarantee_days: 30,
            inactive_days: 365,
        }
    }
}

/// The beneficiaries whose identity is due for anonymisation at `at` (at most
/// `limit`): no active reservation, and either every guarantee of what they bought
/// ended `after_guarantee_days` ago, or, having bought nothing, no reservation (nor
/// their record) for `inactive_days`.
pub fn due_for_anonymisation(
    conn: &mut DbConnection,
    r: Retention,
    at: chrono::NaiveDateTime,
    limit: usize,
) -> ApiResult<Vec<i64>> {
    use crate::schema::{sale_lines, sales};
    use diesel::dsl::max;
    let kept: Vec<(i64, chrono::NaiveDateTime)> =
        beneficiaries::table
            .filter(beneficiaries::erased_at.is_null())
            .filter(beneficiaries::created_at.lt(
                at - chrono::Duration::days(i64::from(r.inactive_days.min(r.after_guarantee_days)))
            ))
            .select((beneficiaries::id, beneficiaries::created_at))
            .order(beneficiaries::id)
            .load(conn)?;
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let guarantees: std::collections::HashMap<i64, Option<NaiveDate>> = sales::table
        .inner_join(sale_lines::table)
        .filter(sales::beneficiary_id.is_not_null())
        .group_by(sales::beneficiary_id)
        .select((sales::beneficiary_id, max(sale_lines::guarantee_until)))
        .load::<(Option<i64>, Option<NaiveDate>)>(conn)?
        .into_iter()
        .filter_map(|(b, g)| b.map(|b| (b, g)))
        .collect();
    let last_reserved: std::collections::HashMap<i64, Option<chrono::NaiveDateTime>> =
        reservations::table
            .group_by(reservations::beneficiary_id)
            .select((reservations::beneficiary_id, max(reservations::created_at)))
            .load::<(i64, Option<chrono::NaiveDateTime>)>(conn)?
            .into_iter()
            .collect();
    let active: std::collections::HashSet<i64> = reservations::table
        .filter(reservations::status.eq(ReservationStatus::Active.as_str()))
        .select(reservations::beneficiary_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let today = at.date();
    let mut due = Vec::new();
    for (id, created) in kept {
        if active.contains(&id) {
            continue;
        }
        let is_due = match guarantees.get(&id) {
            Some(end) => match end {
                Some(end) => {
                    *end + chrono::Duration::days(i64::from(r.after_guarantee_days)) < today
                }
                None => false,
            },
            None => {
                let last = last_reserved
                    .get(&id)
                    .copied()
                    .flatten()
                    .unwrap_or(created)
                    .max(created);
                last + chrono::Duration::days(i64::from(r.inactive_days)) < at
            }
        };
        if is_due {
            due.push(id);
            if due.len() >= limit {
                break;
            }
        }
    }
    Ok(due)
}

/// Anonymises one beneficiary found due by [`due_for_anonymisation`], if it still is
/// not (another process may have done it in between). `true` when this call did it.
pub fn anonymise(conn: &mut DbConnection, id: i64) -> ApiResult<bool> {
    wipe(conn, id)
}

/// Coordinators: per organisation of their region, how many beneficiaries, active
/// reservations and open needs; no identity. Admins: refused.
pub fn counts(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<BeneficiaryCount>> {
    actor.require(&[Role::Coordinator])?;
    let region = actor.region.ok_or_else(|| actor.out_of_scope())?;
    let orgs: Vec<(i64, String)> = organisations::table
        .filter(organisations::region_id.eq(region.0))
        .filter(organisations::kind.eq(OrgKind::SocialPartner.as_str()))
        .order(organisations::name)
        .select((organisations::id, organisations::name))
        .load(conn)?;
    let mut out = Vec::with_capacity(orgs.len());
    for (id, name) in orgs {
        let beneficiaries: i64 = beneficiaries::table
            .filter(beneficiaries::organisation_id.eq(id))
            .filter(beneficiaries::erased_at.is_null())
            .count()
            .get_result(conn)?;
        let active_reservations: i64 = reservations::table
            .filter(reservations::organisation_id.eq(id))
            .filter(reservations::status.eq(ReservationStatus::Active.as_str()))
            .count()
            .get_result(conn)?;
        let open_needs: i64 = needs::table
            .filter(needs::organisation_id.eq(id))
            .filter(needs::closed_at.is_null())
            .count()
            .get_result(conn)?;
        out.push(BeneficiaryCount {
            organisation: OrgId(id),
            organisation_name: name,
            beneficiaries,
            active_reservations,
            open_needs,
        });
    }
    Ok(out)
}

/// The proof's last valid day, for a beneficiary row (none once erased).
pub fn proof_valid_until_of(
    conn: &mut DbConnection,
    row: &BeneficiaryRow,
) -> ApiResult<Option<NaiveDate>> {
    let (Some(key), Some(date)) = (&row.proof_type, row.proof_date) else {
        return Ok(None);
    };
    let days: Option<i32> = proof_types::table
        .find(key)
        .select(proof_types::valid_days)
        .first(conn)
        .optional()?;
    Ok(days.map(|d| proof_valid_until(date, d.max(0) as u32)))
}

/// Refuses a beneficiary whose eligibility proof has lapsed (or was erased).
pub fn require_valid_proof(
    conn: &mut DbConnection,
    actor: &Actor,
    row: &BeneficiaryRow,
) -> ApiResult<()> {
    if row.erased_at.is_some() {
        return Err(actor.err(ErrorCode::BeneficiaryErased));
    }
    match proof_valid_until_of(conn, row)? {
        Some(until) if until >= today() => Ok(()),
        until => Err(actor
            .err(ErrorCode::ProofLapsed)
            .with_details(serde_json::json!({"lapsed_on": until}))),
    }
}
