//! Authentication (passwords, bench tokens, badges, sessions) and the caller's role and
//! scope, checked by every endpoint.

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::models::now;
use crate::schema::{sessions, sites, users};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use diesel::prelude::*;
use filiere_shared::{BenchId, ErrorCode, Lang, OrgId, RegionId, Role, SiteId, UserId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A new random secret (session or bench token), with a prefix that says what it is.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}

/// Tokens and badges are stored as their SHA-256: a stolen database gives no login.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn hash_password(password: &str) -> ApiResult<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Who is calling, with their scope.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    /// Technicians: their site.
    pub site: Option<SiteId>,
    /// Coordinators and social workers: their region (technicians: their site's).
    pub region: Option<RegionId>,
    /// Social workers: their organisation.
    pub org: Option<OrgId>,
    /// Set when signed in at a bench by badge.
    pub bench: Option<BenchId>,
    pub lang: Lang,
    pub session: i64,
}

impl Actor {
    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::Forbidden).in_lang(self.lang))
        }
    }

    /// Whether the caller's scope covers a site (of that region). Social workers have
    /// no site scope of their own: what they may see is decided per endpoint.
    pub fn covers_site(&self, site: SiteId, region: RegionId) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Technician => self.site == Some(site),
            Role::Coordinator => self.region == Some(region),
            Role::SocialWorker => false,
        }
    }

    pub fn require_site(&self, site: SiteId, region: RegionId) -> ApiResult<()> {
        if self.covers_site(site, region) {
            Ok(())
        } else {
            Err(self.out_of_scope())
        }
    }

    pub fn out_of_scope(&self) -> ApiError {
        ApiError::new(ErrorCode::OutOfScope).in_lang(self.lang)
    }

    /// Idempotency keys belong to the bench (when signed in at one) or the user.
    pub fn key_owner(&self) -> String {
        match self.bench {
            Some(b) => format!("bench:{b}"),
            None => format!("user:{}", self.user),
        }
    }

    pub fn err(&self, code: ErrorCode) -> ApiError {
        ApiError::new(code).in_lang(self.lang)
    }
}

/// The language for an unauthenticated request: `Accept-Language`, French by default.
pub fn request_lang(req: &HttpRequest) -> Lang {
    req.headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default()
}

pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_owned())
}

type SessionJoin = (
    i64,
    chrono::NaiveDateTime,
    i64,
    Option<i64>,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    Option<i64>,
);

/// A live session of an active user by its token's hash, with when it expires.
fn load_session(
    conn: &mut crate::db::DbConnection,
    hash: &str,
) -> ApiResult<Option<(Actor, chrono::NaiveDateTime)>> {
    let t = now();
    let row: Option<SessionJoin> = sessions::table
        .inner_join(users::table)
        .left_join(sites::table.on(users::site_id.eq(sites::id.nullable())))
        .filter(sessions::token_hash.eq(hash))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(t))
        .filter(users::active.eq(true))
        .select((
            sessions::id,
            sessions::expires_at,
            users::id,
            sessions::bench_id,
            users::display_name,
            users::role,
            users::site_id,
            users::region_id,
            users::organisation_id,
            users::language,
            sites::region_id.nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some((session, expires, user, bench, name, role, site, region, org, lang, site_region)) =
        row
    else {
        return Ok(None);
    };
    let role = Role::from_str(&role).map_err(ApiError::internal)?;
    Ok(Some((
        Actor {
            user: UserId(user),
            name,
            role,
            site: site.map(SiteId),
            region: region.or(site_region).map(RegionId),
            org: org.map(OrgId),
            bench: bench.map(BenchId),
            lang: Lang::parse(&lang).unwrap_or_default(),
            session,
        },
        expires,
    )))
}

/// How long a signed-in caller is remembered without asking the database.
pub const SESSION_CACHE_TTL: Duration = Duration::from_secs(10);

/// Signed-in callers, remembered for a few seconds so that authenticating a request
/// costs no database round trip. Logging out, and any change to a user or a bench,
/// empties it at once in this process; another server process sharing the database
/// sees such a change within [`SESSION_CACHE_TTL`].
#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, (Actor, Instant)>>,
}

impl SessionCache {
    fn get(&self, hash: &str) -> Option<Actor> {
        let mut entries = self.entries.lock().ok()?;
        match entries.get(hash) {
            Some((actor, until)) if *until > Instant::now() => Some(actor.clone()),
            Some(_) => {
                entries.remove(hash);
                None
            }
            None => None,
        }
    }

    fn put(&self, hash: String, actor: Actor, expires: chrono::NaiveDateTime) {
        let left = (expires - now()).to_std().unwrap_or_default();
        let until = Instant::now() + left.min(SESSION_CACHE_TTL);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= 10_000 {
                let t = Instant::now();
                entries.retain(|_, (_, u)| *u > t);
            }
            entries.insert(hash, (actor, until));
        }
    }

    /// Forgets every caller (after a logout or a change to users or benches).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The actor of a command-line session: an active user, by username, with the same
/// role and scope checks as on the API.
pub fn actor_for_user(
    conn: &mut crate::db::DbConnection,
    username: &str,
) -> ApiResult<Option<Actor>> {
    let user: Option<crate::models::UserRow> = users::table
        .filter(users::username.eq(username.trim()))
        .filter(users::active.eq(true))
        .first(conn)
        .optional()?;
    let Some(u) = user else {
        return Ok(None);
    };
    let site_region: Option<i64> = match u.site_id {
        Some(s) => sites::table
            .find(s)
            .select(sites::region_id)
            .first(conn)
            .optional()?,
        None => None,
    };
    Ok(Some(Actor {
        user: UserId(u.id),
        name: u.display_name,
        role: Role::from_str(&u.role).map_err(ApiError::internal)?,
        site: u.site_id.map(SiteId),
        region: u.region_id.or(site_region).map(RegionId),
        org: u.organisation_id.map(OrgId),
        bench: None,
        lang: Lang::parse(&u.language).unwrap_or_default(),
        session: 0,
    }))
}

/// The signed-in caller of a session token (a bearer token or the web pages'
/// cookie), through the cache; `None` when the session is unknown, ended or revoked.
pub fn session_actor(
    req: &HttpRequest,
    token: String,
) -> impl Future<Output = ApiResult<Option<Actor>>> + use<> {
    let db = req.app_data::<web::Data<Db>>().cloned();
    let cache = req.app_data::<web::Data<SessionCache>>().cloned();
    async move {
        let hash = hash_secret(&token);
        if let Some(actor) = cache.as_ref().and_then(|c| c.get(&hash)) {
            return Ok(Some(actor));
        }
        let db = db.ok_or_else(|| ApiError::internal("no database in app data"))?;
        let key = hash.clone();
        let found = web::block(move || {
            let mut conn = db.read.get()?;
            load_session(&mut conn, &key)
        })
        .await??;
        Ok(found.map(|(actor, expires)| {
            if let Some(c) = cache {
                c.put(hash, actor.clone(), expires);
            }
            actor
        }))
    }
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Actor, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let lang = request_lang(req);
        let unauthenticated = move || ApiError::new(ErrorCode::Unauthenticated).in_lang(lang);
        let Some(token) = bearer_token(req) else {
            return Box::pin(async move { Err(unauthenticated()) });
        };
        let found = session_actor(req, token);
        Box::pin(async move { found.await?.ok_or_else(unauthenticated) })
    }
}

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

fn open_session(
    conn: &mut crate::db::DbConnection,
    user: &crate::models::UserRow,
    bench: Option<i64>,
) -> ApiResult<(String, chrono::NaiveDateTime)> {
    let token = new_token("fls");
    let created = now();
    let expires = created + chrono::Duration::hours(SESSION_HOURS);
    diesel::insert_into(sessions::table)
        .values(crate::models::NewSessionRow {
            token_hash: hash_secret(&token),
            user_id: user.id,
            bench_id: bench,
            created_at: created,
            expires_at: expires,
        })
        .execute(conn)?;
    Ok((token, expires))
}

/// A hash to verify against when the user does not exist, so that both cases take the
/// same time.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Failed logins for one account, within [`FAILURE_WINDOW`], after which it gets one
/// try per [`RETRY_AFTER`].
pub const ACCOUNT_FAILURES: i64 = 5;
/// The same, for one client address.
pub const ADDRESS_FAILURES: i64 = 20;
pub const FAILURE_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
pub const RETRY_AFTER: chrono::Duration = chrono::Duration::seconds(60);

/// The counter of an account: by the name as typed (trimmed, lower case), whether or
/// not such an account exists, so that the throttle tells nothing about it.
fn account_scope(username: &str) -> String {
    let name: String = username.trim().to_lowercase().chars().take(100).collect();
    format!("user:{name}")
}

fn address_scope(addr: std::net::IpAddr) -> String {
    format!("ip:{addr}")
}

/// Whether `scope` failed `limit` times within the window and the last failure is
/// less than [`RETRY_AFTER`] ago.
fn throttled(conn: &mut crate::db::DbConnection, scope: &str, limit: i64) -> ApiResult<bool> {
    use crate::schema::login_failures;
    let t = now();
    let (count, last): (i64, Option<chrono::NaiveDateTime>) = login_failures::table
        .filter(login_failures::scope.eq(scope))
        .filter(login_failures::failed_at.gt(t - FAILURE_WINDOW))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(login_failures::failed_at),
        ))
        .first(conn)?;
    Ok(count >= limit && last.is_some_and(|l| t - l < RETRY_AFTER))
}

fn record_failure(conn: &mut crate::db::DbConnection, scope: String) -> ApiResult<()> {
    use crate::schema::login_failures;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::scope.eq(scope),
            login_failures::failed_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Password login, throttled per account and per client address (counters in the
/// database, shared by every server process). The outer error is a fault; the inner
/// one a refusal, to be answered once the failure it recorded is committed. The
/// refusal never tells whether the username exists.
pub fn login(
    conn: &mut crate::db::DbConnection,
    req: &filiere_shared::api::LoginRequest,
    lang: Lang,
    client: Option<std::net::IpAddr>,
) -> ApiResult<Result<(filiere_shared::api::SessionResponse, crate::models::UserRow), ApiError>> {
    let account = account_scope(&req.username);
    let address = client.map(address_scope);
    let too_many = || ApiError::new(ErrorCode::TooManyAttempts).in_lang(lang);
    if throttled(conn, &account, ACCOUNT_FAILURES)? {
        return Ok(Err(too_many()));
    }
    if let Some(a) = &address
        && throttled(conn, a, ADDRESS_FAILURES)?
    {
        return Ok(Err(too_many()));
    }
    let user: Option<crate::models::UserRow> = users::table
        .filter(users::username.eq(req.username.trim()))
        .first(conn)
        .optional()?;
    let hash = user
        .as_ref()
        .filter(|u| u.active)
        .and_then(|u| u.password_hash.clone());
    let ok = match &hash {
        Some(h) => verify_password(&req.password, h),
        None => {
            let dummy =
                DUMMY_HASH.get_or_init(|| hash_password("not a password").unwrap_or_default());
            let _ = verify_password(&req.password, dummy);
            false
        }
    };
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            record_failure(conn, account)?;
            if let Some(a) = address {
                record_failure(conn, a)?;
            }
            return Ok(Err(
                ApiError::new(ErrorCode::InvalidCredentials).in_lang(lang)
            ));
        }
    };
    {
        use crate::schema::login_failures;
        diesel::delete(login_failures::table.filter(login_failures::scope.eq(&account)))
            .execute(conn)?;
    }
    let (token, expires) = open_session(conn, &user, None)?;
    Ok(Ok((
        filiere_shared::api::SessionResponse {
            token,
            expires_at: expires.and_utc(),
            user: crate::service::admin::user_view(&user)?,
            bench: None,
        },
        user,
    )))
}

/// The client's address: the peer's, or, when the peer is a trusted reverse proxy,
/// the last address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(req: &HttpRequest, trusted: &[std::net::IpAddr]) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<std::net::IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .or(Some(peer))
}

/// Badge login at a bench: the bench token proves the workstation, the badge the person.
pub fn badge_login(
    conn: &mut crate::db::DbConnection,
    req: &filiere_shared::api::BadgeLoginRequest,
    lang: Lang,
) -> ApiResult<filiere_shared::api::SessionResponse> {
    use crate::schema::benches;
    let bench: Option<crate::models::BenchRow> = benches::table
        .filter(benches::token_hash.eq(hash_secret(req.bench_token.trim())))
        .filter(benches::active.eq(true))
        .first(conn)
        .optional()?;
    let bench = bench.ok_or_else(|| ApiError::new(ErrorCode::InvalidBenchToken).in_lang(lang))?;
    let badge = filiere_shared::BadgeCode::parse(&req.badge)
        .map_err(|_| ApiError::new(ErrorCode::UnknownBadge).in_lang(lang))?;
    let user: crate::models::UserRow = users::table
        .filter(users::badge_hash.eq(hash_secret(&badge.as_str())))
        .filter(users::active.eq(true))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownBadge).in_lang(lang))?;
    let bench_region: i64 = sites::table
        .find(bench.site_id)
        .select(sites::region_id)
        .first(conn)?;
    let allowed = match Role::from_str(&user.role).map_err(ApiError::internal)? {
        Role::Technician => user.site_id == Some(bench.site_id),
        Role::Coordinator => user.region_id == Some(bench_region),
        Role::Admin => true,
        Role::SocialWorker => false,
    };
    if !allowed {
        return Err(ApiError::new(ErrorCode::BadgeWrongSite).in_lang(lang));
    }
    let (token, expires) = open_session(conn, &user, Some(bench.id))?;
    Ok(filiere_shared::api::SessionResponse {
        token,
        expires_at: expires.and_utc(),
        user: crate::service::admin::user_view(&user)?,
        bench: Some(crate::service::admin::bench_view(&bench)),
    })
}

/// Sets the caller's own language (the pages' language switch).
pub fn set_language(
    conn: &mut crate::db::DbConnection,
    actor: &Actor,
    lang: Lang,
) -> ApiResult<()> {
    diesel::update(users::table.find(actor.user.0))
        .set(users::language.eq(lang.as_str()))
        .execute(conn)?;
    Ok(())
}

pub fn logout(conn: &mut crate::db::DbConnection, actor: &Actor) -> ApiResult<()> {
    diesel::update(sessions::table.find(actor.session))
        .set(sessions::revoked_at.eq(Some(now())))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use actix_web::test::TestRequest;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn the_forwarded_address_counts_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        let forwarded = |peer: &str, xff: &str| {
            TestRequest::default()
                .peer_addr(format!("{peer}:40000").parse().expect("socket"))
                .insert_header(("x-forwarded-for", xff))
                .to_http_request()
        };
        // A client that says it is someone else is taken at its own address.
        let req = forwarded("198.51.100.7", "203.0.113.9");
        assert_eq!(client_address(&req, &[proxy]), Some(ip("198.51.100.7")));
        // Through the trusted proxy: the last address it was given that is not itself
        // a trusted proxy (an address the client wrote before it counts for nothing).
        let req = forwarded("10.0.0.2", "1.2.3.4, 203.0.113.9");
        assert_eq!(client_address(&req, &[proxy]), Some(ip("203.0.113.9")));
        let req = forwarded("10.0.0.2", "203.0.113.9, 10.0.0.2");
        assert_eq!(client_address(&req, &[proxy]), Some(ip("203.0.113.9")));
        // A proxy that forwards nothing readable: the proxy's own address.
        let req = forwarded("10.0.0.2", "garbage");
        assert_eq!(client_address(&req, &[proxy]), Some(ip("10.0.0.2")));
    }
}
