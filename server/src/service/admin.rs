//! Administration: regions, sites, organisations, users, benches. Written by admins
//! (coordinators also keep their region's donors and social partners); read as each
//! role needs: regions by everyone, sites within one's region, organisations within
//! one's region (and the national ones without a region), one's own for a social
//! worker.

use super::{check, check_rule, parse_stored};
use crate::auth::{Actor, hash_password, hash_secret, new_token};
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::models::*;
use crate::schema::{benches, organisations, regions, sites, users};
use diesel::prelude::*;
use filiere_shared::api::*;
use filiere_shared::validate::{self, FieldError};
use filiere_shared::*;

fn admin(actor: &Actor) -> ApiResult<()> {
    actor.require(&[Role::Admin])
}

fn duplicate(actor: &Actor, e: diesel::result::Error) -> ApiError {
    let err = ApiError::from(e);
    if err.code == ErrorCode::Duplicate {
        err.in_lang(actor.lang)
    } else {
        err
    }
}

pub fn region_view(r: RegionRow) -> RegionView {
    RegionView {
        id: RegionId(r.id),
        name: r.name,
        code: r.code,
        hold_days: u32::try_from(r.hold_days).unwrap_or(filiere_shared::social::DEFAULT_HOLD_DAYS),
    }
}

/// Every region, for every role (names and hold lengths; the public offer form
/// lists them too).
pub fn list_regions(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<RegionView>> {
    let _ = actor;
    all_regions(conn)
}

/// Every region, for the public offer form.
pub fn all_regions(conn: &mut DbConnection) -> ApiResult<Vec<RegionView>> {
    let rows: Vec<RegionRow> = regions::table.order(regions::name).load(conn)?;
    Ok(rows.into_iter().map(region_view).collect())
}

pub fn create_region(
    conn: &mut DbConnection,
    actor: &Actor,
    r: &NewRegion,
) -> ApiResult<RegionView> {
    admin(actor)?;
    check(actor, validate::text("name", &r.name, 100))?;
    check(actor, validate::text("code", &r.code, 10))?;
    let id: i64 = diesel::insert_into(regions::table)
        .values(NewRegionRow {
            name: r.name.trim(),
            code: r.code.trim(),
            created_at: now(),
        })
        .returning(regions::id)
        .get_result(conn)
        .map_err(|e| duplicate(actor, e))?;
    Ok(region_view(regions::table.find(id).first(conn)?))
}

pub fn site_view(s: SiteRow) -> ApiResult<SiteView> {
    Ok(SiteView {
        id: SiteId(s.id),
        region: RegionId(s.region_id),
        name: s.name,
        kind: parse_stored(&s.kind)?,
        address: s.address,
        opening_hours: s.opening_hours,
        organisation: s.organisation_id.map(OrgId),
    })
}

/// A site's selling organisation must exist and run workshops (kind `operator`).
fn check_operator(conn: &mut DbConnection, actor: &Actor, org: OrgId) -> ApiResult<()> {
    let kind: Option<String> = organisations::table
        .find(org.0)
        .select(organisations::kind)
        .first(conn)
        .optional()?;
    match kind {
        None => Err(actor.err(ErrorCode::OrganisationNotFound)),
        Some(k) if k != OrgKind::Operator.as_str() => Err(actor.err(ErrorCode::InvalidRecipient)),
        Some(_) => Ok(()),
    }
}

/// Sites: an admin's all, everyone else's their region's (a technician's: their
/// site's region, where items move between workshops).
pub fn list_sites(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<SiteView>> {
    let mut q = sites::table.order(sites::id).into_boxed();
    if actor.role != Role::Admin {
        q = q.filter(sites::region_id.eq(actor.region.map(|r| r.0).unwrap_or(-1)));
    }
    let rows: Vec<SiteRow> = q.load(conn)?;
    rows.into_iter().map(site_view).collect()
}

pub fn create_site(conn: &mut DbConnection, actor: &Actor, s: &NewSite) -> ApiResult<SiteView> {
    admin(actor)?;
    check(actor, validate::text("name", &s.name, 100))?;
    check(
        actor,
        validate::opt_text("address", s.address.as_deref(), 300),
    )?;
    check(
        actor,
        validate::opt_text("opening_hours", s.opening_hours.as_deref(), 300),
    )?;
    let exists: Option<i64> = regions::table
        .find(s.region.0)
        .select(regions::id)
        .first(conn)
        .optional()?;
    if exists.is_none() {
        return Err(actor.err(ErrorCode::RegionNotFound));
    }
    if let Some(org) = s.organisation {
        check_operator(conn, actor, org)?;
    }
    let id: i64 = diesel::insert_into(sites::table)
        .values(NewSiteRow {
            region_id: s.region.0,
            name: s.name.trim(),
            kind: s.kind.as_str(),
            address: s.address.as_deref(),
            created_at: now(),
            opening_hours: s.opening_hours.as_deref(),
        })
        .returning(sites::id)
        .get_result(conn)?;
    if let Some(org) = s.organisation {
        diesel::update(sites::table.find(id))
            .set(sites::organisation_id.eq(Some(org.0)))
            .execute(conn)?;
    }
    site_view(sites::table.find(id).first(conn)?)
}

/// Sets a site's address and opening hours (admins).
pub fn update_site(
    conn: &mut DbConnection,
    actor: &Actor,
    site: SiteId,
    u: &filiere_shared::social::UpdateSite,
) -> ApiResult<SiteView> {
    admin(actor)?;
    check(
        actor,
        validate::opt_text("address", u.address.as_deref(), 300),
    )?;
    check(
        actor,
        validate::opt_text("opening_hours", u.opening_hours.as_deref(), 300),
    )?;
    let blank_to_none = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(org) = u.organisation {
        check_operator(conn, actor, org)?;
    }
    let n = diesel::update(sites::table.find(site.0))
        .set((
            sites::address.eq(blank_to_none(&u.address)),
            sites::opening_hours.eq(blank_to_none(&u.opening_hours)),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(actor.err(ErrorCode::SiteNotFound));
    }
    if let Some(org) = u.organisation {
        diesel::update(sites::table.find(site.0))
            .set(sites::organisation_id.eq(Some(org.0)))
            .execute(conn)?;
    }
    site_view(sites::table.find(site.0).first(conn)?)
}

/// Sets how long a reservation holds a device in a region (its coordinator, admins).
pub fn update_region(
    conn: &mut DbConnection,
    actor: &Actor,
    region: RegionId,
    u: &filiere_shared::social::UpdateRegion,
) -> ApiResult<RegionView> {
    actor.require(&[Role::Admin, Role::Coordinator])?;
    check(
        actor,
        validate::range("hold_days", u.hold_days.into(), 1, 60),
    )?;
    let row: RegionRow = regions::table
        .find(region.0)
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::RegionNotFound))?;
    if actor.role == Role::Coordinator && actor.region != Some(region) {
        return Err(actor.out_of_scope());
    }
    diesel::update(regions::table.find(row.id))
        .set(regions::hold_days.eq(u.hold_days as i32))
        .execute(conn)?;
    Ok(region_view(regions::table.find(row.id).first(conn)?))
}

pub fn org_view(o: OrganisationRow) -> ApiResult<OrganisationView> {
    Ok(OrganisationView {
        id: OrgId(o.id),
        name: o.name,
        kind: parse_stored(&o.kind)?,
        siret: o.siret,
        public_body: o.public_body,
        region: o.region_id.map(RegionId),
        address: o.address,
        weee_status: o.weee_status,
        contact: o.contact,
        vat_scheme: parse_stored(&o.vat_scheme)?,
    })
}

/// Organisations: an admin's all; a coordinator's and a technician's those of their
/// region and the national ones (no region: a recycler, an operator); a social
/// worker's their own.
pub fn list_organisations(
    conn: &mut DbConnection,
    actor: &Actor,
) -> ApiResult<Vec<OrganisationView>> {
    let mut q = organisations::table
        .order((organisations::kind, organisations::name))
        .into_boxed();
    match actor.role {
        Role::Admin => {}
        Role::SocialWorker => {
            q = q.filter(organisations::id.eq(actor.org.map(|o| o.0).unwrap_or(-1)));
        }
        Role::Coordinator | Role::Technician => {
            q = q.filter(
                organisations::region_id
                    .eq(actor.region.map(|r| r.0).unwrap_or(-1))
                    .or(organisations::region_id.is_null()),
            );
        }
    }
    let rows: Vec<OrganisationRow> = q.load(conn)?;
    rows.into_iter().map(org_view).collect()
}

/// The kinds of organisation a coordinator keeps for their region.
pub const COORDINATOR_KINDS: [OrgKind; 2] = [OrgKind::Donor, OrgKind::SocialPartner];

/// Refuses a coordinator an organisation outside their region or of a kind they do
/// not keep.
fn may_keep(actor: &Actor, kind: OrgKind, region: Option<RegionId>) -> ApiResult<()> {
    match actor.role {
        Role::Admin => Ok(()),
        Role::Coordinator => {
            if !COORDINATOR_KINDS.contains(&kind) {
                return Err(actor.err(ErrorCode::Forbidden));
            }
            if region.is_none() || region != actor.region {
                return Err(actor.out_of_scope());
            }
            Ok(())
        }
        _ => Err(actor.err(ErrorCode::Forbidden)),
    }
}

/// One organisation the caller may read.
pub fn get_organisation(
    conn: &mut DbConnection,
    actor: &Actor,
    id: OrgId,
) -> ApiResult<OrganisationView> {
    let row: OrganisationRow = organisations::table
        .find(id.0)
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::OrganisationNotFound))?;
    let visible = match actor.role {
        Role::Admin => true,
        Role::SocialWorker => actor.org == Some(id),
        Role::Coordinator | Role::Technician => {
            row.region_id.is_none() || row.region_id == actor.region.map(|r| r.0)
        }
    };
    if !visible {
        return Err(actor.err(ErrorCode::OrganisationNotFound));
    }
    org_view(row)
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Changes an organisation (admins; a coordinator their region's donors and social
/// partners). An empty text clears the field.
pub fn update_organisation(
    conn: &mut DbConnection,
    actor: &Actor,
    id: OrgId,
    u: &UpdateOrganisation,
) -> ApiResult<OrganisationView> {
    actor.require(&[Role::Admin, Role::Coordinator])?;
    let current = get_organisation(conn, actor, id)?;
    may_keep(actor, current.kind, current.region)?;
    if let Some(n) = &u.name {
        check(actor, validate::text("name", n, 200))?;
    }
    let siret = match u.siret.as_deref().map(str::trim) {
        None => current.siret.clone(),
        Some("") => None,
        Some(s) => {
            check_rule(actor, validate::siret("siret", s))?;
            Some(digits(s))
        }
    };
    for (f, v) in [
        ("address", &u.address),
        ("contact", &u.contact),
        ("weee_status", &u.weee_status),
    ] {
        check(actor, validate::opt_text(f, v.as_deref(), 300))?;
    }
    let text = |new: &Option<String>, old: &Option<String>| match new.as_deref().map(str::trim) {
        None => old.clone(),
        Some("") => None,
        Some(v) => Some(v.to_owned()),
    };
    diesel::update(organisations::table.find(id.0))
        .set((
            organisations::name.eq(u.name.as_deref().map(str::trim).unwrap_or(&current.name)),
            organisations::siret.eq(siret),
            organisations::public_body.eq(u.public_body.unwrap_or(current.public_body)),
            organisations::address.eq(text(&u.address, &current.address)),
            organisations::contact.eq(text(&u.contact, &current.contact)),
            organisations::weee_status.eq(text(&u.weee_status, &current.weee_status)),
        ))
        .execute(conn)
        .map_err(|e| duplicate(actor, e))?;
    org_view(organisations::table.find(id.0).first(conn)?)
}

pub fn create_organisation(
    conn: &mut DbConnection,
    actor: &Actor,
    o: &NewOrganisation,
) -> ApiResult<OrganisationView> {
    may_keep(actor, o.kind, o.region)?;
    check(actor, validate::text("name", &o.name, 200))?;
    if let Some(s) = &o.siret {
        check_rule(actor, validate::siret("siret", s))?;
    }
    for (f, v, m) in [
        ("address", &o.address, 300),
        ("weee_status", &o.weee_status, 300),
        ("contact", &o.contact, 300),
    ] {
        check(actor, validate::opt_text(f, v.as_deref(), m))?;
    }
    if let Some(r) = o.region {
        let exists: Option<i64> = regions::table
            .find(r.0)
            .select(regions::id)
            .first(conn)
            .optional()?;
        if exists.is_none() {
            return Err(actor.err(ErrorCode::RegionNotFound));
        }
    }
    let siret = o.siret.as_deref().map(digits);
    let id: i64 = diesel::insert_into(organisations::table)
        .values(NewOrganisationRow {
            name: o.name.trim(),
            kind: o.kind.as_str(),
            siret,
            public_body: o.public_body,
            region_id: o.region.map(|r| r.0),
            address: o.address.as_deref(),
            weee_status: o.weee_status.as_deref(),
            contact: o.contact.as_deref(),
            created_at: now(),
        })
        .returning(organisations::id)
        .get_result(conn)
        .map_err(|e| duplicate(actor, e))?;
    if let Some(v) = o.vat_scheme {
        diesel::update(organisations::table.find(id))
            .set(organisations::vat_scheme.eq(v.as_str()))
            .execute(conn)?;
    }
    org_view(organisations::table.find(id).first(conn)?)
}

pub fn user_view(u: &UserRow) -> ApiResult<UserView> {
    Ok(UserView {
        id: UserId(u.id),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: parse_stored(&u.role)?,
        site: u.site_id.map(SiteId),
        region: u.region_id.map(RegionId),
        organisation: u.organisation_id.map(OrgId),
        language: Lang::parse(&u.language).unwrap_or_default(),
        active: u.active,
        has_badge: u.badge_hash.is_some(),
        has_password: u.password_hash.is_some(),
        data_security: u.data_security,
    })
}

pub fn list_users(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<UserView>> {
    admin(actor)?;
    let rows: Vec<UserRow> = users::table.order(users::id).load(conn)?;
    rows.iter().map(user_view).collect()
}

fn badge_hash(actor: Option<&Actor>, badge: &str) -> ApiResult<String> {
    let lang = actor.map(|a| a.lang).unwrap_or_default();
    let b = BadgeCode::parse(badge).map_err(|_| {
        ApiError::rule(
            FieldError::new(
                "badge",
                "badge invalide (attendu : FB suivi d'un code à 8 caractères)",
                "invalid badge (expected FB followed by an 8-character code)",
            ),
            lang,
        )
    })?;
    Ok(hash_secret(&b.as_str()))
}

fn check_password(actor: Option<&Actor>, p: &str) -> ApiResult<()> {
    check_password_lang(actor.map(|a| a.lang).unwrap_or_default(), p)
}

fn check_password_lang(lang: Lang, p: &str) -> ApiResult<()> {
    if p.chars().count() < 10 || p.len() > 200 {
        return Err(ApiError::field(
            FieldError::new("password", "10 à 200 caractères", "10 to 200 characters"),
            lang,
        ));
    }
    Ok(())
}

/// Creates a user. `actor` is `None` when called from the command line.
pub fn create_user(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    u: &NewUser,
) -> ApiResult<UserView> {
    let lang = actor.map(|a| a.lang).unwrap_or_default();
    if let Some(a) = actor {
        admin(a)?;
    }
    let field = |e: Result<(), FieldError>| e.map_err(|e| ApiError::field(e, lang));
    field(validate::text("username", &u.username, 50))?;
    if !u
        .username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(ApiError::field(
            FieldError::new(
                "username",
                "lettres, chiffres, « . », « _ » et « - » seulement",
                "letters, digits, '.', '_' and '-' only",
            ),
            lang,
        ));
    }
    field(validate::text("display_name", &u.display_name, 100))?;
    let scope_error = |fr: &str, en: &str| ApiError::rule(FieldError::new("role", fr, en), lang);
    let (site, region, org) = match u.role {
        Role::Technician => {
            let s = u
                .site
                .ok_or_else(|| scope_error("un technicien a un site", "a technician has a site"))?;
            (Some(s.0), None, None)
        }
        Role::Coordinator => {
            let r = u.region.ok_or_else(|| {
                scope_error("un coordinateur a une région", "a coordinator has a region")
            })?;
            (None, Some(r.0), None)
        }
        Role::SocialWorker => {
            let o = u.organisation.ok_or_else(|| {
                scope_error(
                    "un travailleur social a une organisation",
                    "a social worker has an organisation",
                )
            })?;
            let (kind, region): (String, Option<i64>) = organisations::table
                .find(o.0)
                .select((organisations::kind, organisations::region_id))
                .first(conn)
                .optional()?
                .ok_or_else(|| ApiError::new(ErrorCode::OrganisationNotFound).in_lang(lang))?;
            if kind != OrgKind::SocialPartner.as_str() {
                return Err(ApiError::new(ErrorCode::InvalidRecipient).in_lang(lang));
            }
            (None, region, Some(o.0))
        }
        Role::Admin => (None, None, None),
    };
    if let Some(s) = site {
        let exists: Option<i64> = sites::table
            .find(s)
            .select(sites::id)
            .first(conn)
            .optional()?;
        if exists.is_none() {
            return Err(ApiError::new(ErrorCode::SiteNotFound).in_lang(lang));
        }
    }
    if let Some(r) = region {
        let exists: Option<i64> = regions::table
            .find(r)
            .select(regions::id)
            .first(conn)
            .optional()?;
        if exists.is_none() {
            return Err(ApiError::new(ErrorCode::RegionNotFound).in_lang(lang));
        }
    }
    let password_hash = match &u.password {
        Some(p) => {
            check_password(actor, p)?;
            Some(hash_password(p)?)
        }
        None => None,
    };
    let badge = u
        .badge
        .as_deref()
        .map(|b| badge_hash(actor, b))
        .transpose()?;
    let id: i64 = diesel::insert_into(users::table)
        .values(NewUserRow {
            username: u.username.trim(),
            display_name: u.display_name.trim(),
            role: u.role.as_str(),
            password_hash,
            badge_hash: badge,
            site_id: site,
            region_id: region,
            organisation_id: org,
            language: u.language.as_str(),
            active: true,
            created_at: now(),
        })
        .returning(users::id)
        .get_result(conn)
        .map_err(|e| ApiError::from(e).in_lang(lang))?;
    user_view(&users::table.find(id).first(conn)?)
}

pub fn update_user(
    conn: &mut DbConnection,
    actor: &Actor,
    id: UserId,
    u: &UpdateUser,
) -> ApiResult<UserView> {
    admin(actor)?;
    let row: UserRow = users::table
        .find(id.0)
        .first(conn)
        .optional()?
        .ok_or_else(|| actor.err(ErrorCode::UserNotFound))?;
    if let Some(name) = &u.display_name {
        check(actor, validate::text("display_name", name, 100))?;
    }
    let password = match &u.password {
        Some(p) => {
            check_password(Some(actor), p)?;
            Some(hash_password(p)?)
        }
        None => None,
    };
    let badge = u
        .badge
        .as_deref()
        .map(|b| badge_hash(Some(actor), b))
        .transpose()?;
    if u.data_security == Some(true)
        && !matches!(
            parse_stored::<Role>(&row.role)?,
            Role::Technician | Role::Coordinator
        )
    {
        return Err(ApiError::rule(
            FieldError::new(
                "data_security",
                "réservé aux techniciens et aux coordinateurs",
                "for technicians and coordinators only",
            ),
            actor.lang,
        ));
    }
    diesel::update(users::table.find(row.id))
        .set((
            users::active.eq(u.active.unwrap_or(row.active)),
            users::language.eq(u
                .language
                .map(|l| l.as_str().to_owned())
                .unwrap_or(row.language.clone())),
            users::display_name.eq(u.display_name.clone().unwrap_or(row.display_name.clone())),
            users::password_hash.eq(password.or(row.password_hash.clone())),
            users::badge_hash.eq(badge.or(row.badge_hash.clone())),
            users::data_security.eq(u.data_security.unwrap_or(row.data_security)),
        ))
        .execute(conn)
        .map_err(|e| ApiError::from(e).in_lang(actor.lang))?;
    user_view(&users::table.find(row.id).first(conn)?)
}

pub fn bench_view(b: &BenchRow) -> BenchView {
    BenchView {
        id: BenchId(b.id),
        site: SiteId(b.site_id),
        name: b.name.clone(),
        active: b.active,
    }
}

pub fn list_benches(conn: &mut DbConnection, actor: &Actor) -> ApiResult<Vec<BenchView>> {
    admin(actor)?;
    let rows: Vec<BenchRow> = benches::table.order(benches::id).load(conn)?;
    Ok(rows.iter().map(bench_view).collect())
}

pub fn create_bench(
    conn: &mut DbConnection,
    actor: &Actor,
    b: &NewBench,
) -> ApiResult<NewBenchResponse> {
    admin(actor)?;
    check(actor, validate::text("name", &b.name, 100))?;
    let exists: Option<i64> = sites::table
        .find(b.site.0)
        .select(sites::id)
        .first(conn)
        .optional()?;
    if exists.is_none() {
        return Err(actor.err(ErrorCode::SiteNotFound));
    }
    let token = new_token("flb");
    let id: i64 = diesel::insert_into(benches::table)
        .values(NewBenchRow {
            site_id: b.site.0,
            name: b.name.trim(),
            token_hash: hash_secret(&token),
            active: true,
            created_at: now(),
        })
        .returning(benches::id)
        .get_result(conn)?;
    let row: BenchRow = benches::table.find(id).first(conn)?;
    Ok(NewBenchResponse {
        bench: bench_view(&row),
        token,
    })
}

/// Creates a bench with a chosen token (demo data, tests).
pub fn create_bench_with_token(
    conn: &mut DbConnection,
    site: SiteId,
    name: &str,
    token: &str,
) -> ApiResult<BenchView> {
    let id: i64 = diesel::insert_into(benches::table)
        .values(NewBenchRow {
            site_id: site.0,
            name,
            token_hash: hash_secret(token),
            active: true,
            created_at: now(),
        })
        .returning(benches::id)
        .get_result(conn)?;
    let row: BenchRow = benches::table.find(id).first(conn)?;
    Ok(bench_view(&row))
}

pub fn revoke_bench(conn: &mut DbConnection, actor: &Actor, id: BenchId) -> ApiResult<BenchView> {
    admin(actor)?;
    let n = diesel::update(benches::table.find(id.0))
        .set(benches::active.eq(false))
        .execute(conn)?;
    if n == 0 {
        return Err(actor.err(ErrorCode::BenchNotFound));
    }
    // Whoever is signed in at it is signed out: a lost bench stops working at once.
    diesel::update(
        crate::schema::sessions::table
            .filter(crate::schema::sessions::bench_id.eq(id.0))
            .filter(crate::schema::sessions::revoked_at.is_null()),
    )
    .set(crate::schema::sessions::revoked_at.eq(Some(crate::models::now())))
    .execute(conn)?;
    let row: BenchRow = benches::table.find(id.0).first(conn)?;
    Ok(bench_view(&row))
}

/// How long a password link stays valid.
pub const SETUP_LINK_DAYS: i64 = 7;

/// A one-time link for a user to set their own password (admins): `base` is the
/// server's public address. A new link replaces the user's previous one.
pub fn issue_setup_link(
    conn: &mut DbConnection,
    actor: &Actor,
    id: UserId,
    base: &str,
) -> ApiResult<SetupLink> {
    admin(actor)?;
    let token = new_token("fls");
    let expires = now() + chrono::Duration::days(SETUP_LINK_DAYS);
    let n = diesel::update(users::table.find(id.0))
        .set((
            users::setup_token_hash.eq(Some(hash_secret(&token))),
            users::setup_expires_at.eq(Some(expires)),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(actor.err(ErrorCode::UserNotFound));
    }
    Ok(SetupLink {
        user: id,
        url: format!("{}/setup/{token}", base.trim_end_matches('/')),
        expires_at: utc(expires),
    })
}

/// The active user a password link belongs to, while it is valid.
pub fn setup_link_user(conn: &mut DbConnection, token: &str, lang: Lang) -> ApiResult<UserView> {
    let row = setup_row(conn, token, lang)?;
    user_view(&row)
}

fn setup_row(conn: &mut DbConnection, token: &str, lang: Lang) -> ApiResult<UserRow> {
    let invalid = || ApiError::new(ErrorCode::SetupLinkInvalid).in_lang(lang);
    if token.is_empty() || token.len() > 200 {
        return Err(invalid());
    }
    users::table
        .filter(users::setup_token_hash.eq(hash_secret(token)))
        .filter(users::setup_expires_at.gt(now()))
        .filter(users::active.eq(true))
        .first::<UserRow>(conn)
        .optional()?
        .ok_or_else(invalid)
}

/// Sets a password from a one-time link, which is then spent.
pub fn set_password(conn: &mut DbConnection, s: &SetPassword, lang: Lang) -> ApiResult<UserView> {
    let row = setup_row(conn, &s.token, lang)?;
    check_password_lang(lang, &s.password)?;
    let hash = hash_password(&s.password)?;
    // Spent in the same update that sets the password: a link works once.
    let n = diesel::update(
        users::table
            .find(row.id)
            .filter(users::setup_token_hash.eq(hash_secret(&s.token))),
    )
    .set((
        users::password_hash.eq(Some(hash)),
        users::setup_token_hash.eq(None::<String>),
        users::setup_expires_at.eq(None::<chrono::NaiveDateTime>),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(ApiError::new(ErrorCode::SetupLinkInvalid).in_lang(lang));
    }
    user_view(&users::table.find(row.id).first(conn)?)
}

/// Anyone changes their own password, giving the current one; their other sessions
/// end.
pub fn change_password(
    conn: &mut DbConnection,
    actor: &Actor,
    c: &ChangePassword,
) -> ApiResult<UserView> {
    use crate::schema::sessions;
    let row: UserRow = users::table.find(actor.user.0).first(conn)?;
    let ok = row
        .password_hash
        .as_deref()
        .is_some_and(|h| crate::auth::verify_password(&c.current, h));
    if !ok {
        return Err(actor.err(ErrorCode::WrongPassword));
    }
    check_password(Some(actor), &c.new)?;
    diesel::update(users::table.find(row.id))
        .set(users::password_hash.eq(Some(hash_password(&c.new)?)))
        .execute(conn)?;
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(row.id))
            .filter(sessions::id.ne(actor.session))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now())))
    .execute(conn)?;
    user_view(&users::table.find(row.id).first(conn)?)
}
