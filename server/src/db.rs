//! Storage: one code base on SQLite (embedded default) and PostgreSQL (production),
//! chosen by the database URL.

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::{Duration, Instant};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// A connection to either backend; every query in the server goes through it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("cannot build the connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migrations(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("cannot start the writer thread: {0}")]
    Writer(std::io::Error),
}

/// Opens one connection of the backend the URL names (never guessing: diesel's
/// `establish` on a multi-connection tries each backend and hides the real error).
pub fn connect(url: &str) -> Result<DbConnection, diesel::ConnectionError> {
    match Backend::of_url(url) {
        Backend::Postgres => diesel::PgConnection::establish(url).map(DbConnection::Pg),
        Backend::Sqlite => {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            diesel::SqliteConnection::establish(path).map(DbConnection::Sqlite)
        }
    }
}

/// r2d2 manager that honours the URL's scheme.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
}

/// How long a PostgreSQL connection is trusted after a successful check before the
/// pool checks it again on checkout (a round trip, `SELECT 1`); the writer thread
/// checks its own connection by the same rule. Checking at every
/// checkout took a round trip of each request; a connection lost with its server is
/// now found at most this long after.
pub const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// Checks a PostgreSQL connection (`SELECT 1`) when it was last known to work more
/// than [`TRUSTED_FOR`] ago, and then counts it as known to work now. An SQLite
/// connection, a file handle, is not checked.
pub fn check_if_stale(
    conn: &mut DbConnection,
    good_at: &mut Instant,
) -> Result<(), diesel::result::Error> {
    if matches!(conn, DbConnection::Sqlite(_)) || good_at.elapsed() < TRUSTED_FOR {
        return Ok(());
    }
    conn.batch_execute("SELECT 1")?;
    *good_at = Instant::now();
    Ok(())
}

/// A connection of the pool: the connection itself, and when it was last checked.
pub struct Pooled {
    conn: DbConnection,
    checked_at: Instant,
}

impl std::ops::Deref for Pooled {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let conn = connect(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(Pooled {
            conn,
            checked_at: Instant::now(),
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        check_if_stale(&mut pooled.conn, &mut pooled.checked_at)
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection given back inside a transaction, or whose transaction failed to
    /// end, is dropped rather than lent again.
    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(&mut pooled.conn)
    }
}

/// Per-connection settings: WAL, foreign keys, a busy timeout and the page cache on
/// SQLite.
#[derive(Debug, Clone, Copy)]
struct Pragmas {
    cache_kib: u32,
}

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        apply_pragmas(&mut pooled.conn)
            .and_then(|()| set_cache(&mut pooled.conn, self.cache_kib))
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// SQLite's own page cache for a connection that is not one of the server's pools
/// (the command line, a backup, the checkpoints): SQLite's default, 2 MiB.
pub const DEFAULT_CACHE_KIB: u32 = 2048;

/// Sets how much of the database an SQLite connection keeps in its own memory (each
/// connection has its own cache; what it does not hold is read again from the
/// operating system's file cache, which the resident memory does not count).
pub fn set_cache(conn: &mut DbConnection, kib: u32) -> Result<(), diesel::result::Error> {
    if let DbConnection::Sqlite(c) = conn {
        c.batch_execute(&format!("PRAGMA cache_size = -{kib};"))?;
    }
    Ok(())
}

pub fn apply_pragmas(conn: &mut DbConnection) -> Result<(), diesel::result::Error> {
    if let DbConnection::Sqlite(c) = conn {
        // synchronous=FULL: a commit is on disk before the client hears of it.
        // temp_store=MEMORY keeps the savepoint journals (one savepoint per request of a
        // group commit) in memory: on a temporary file they cost a write per page
        // touched, and a crash discards them anyway (the WAL is what makes a commit
        // durable).
        c.batch_execute(
            "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
        )?;
    }
    Ok(())
}

/// The two pools: reads run in parallel; writes go through `write`, which on SQLite
/// holds a single connection so that writers queue in the server instead of failing
/// with `SQLITE_BUSY`.
#[derive(Clone)]
pub struct Db {
    pub read: DbPool,
    /// For administration (the CLI); requests write through [`Db::write`].
    pub write: DbPool,
    pub backend: Backend,
    /// The group-commit writer: every write on SQLite; on PostgreSQL, whose other
    /// writes commit concurrently from the pool, the bench's daily steps.
    writer: crate::writer::Writer,
    /// The key that signs the public forms, the same for every process of one
    /// database (kept in `server_secrets`, made on first start).
    pub form_key: std::sync::Arc<[u8]>,
}

pub struct PoolSizes {
    pub read: u32,
    pub write: u32,
    /// SQLite's page caches of the read connections and the writer together, in MiB,
    /// shared out evenly (at least [`DEFAULT_CACHE_KIB`] each): the bound on what the
    /// database keeps in the server's memory, whatever its size.
    pub sqlite_cache_mb: u32,
}

impl Default for PoolSizes {
    fn default() -> PoolSizes {
        PoolSizes {
            read: 8,
            write: 8,
            sqlite_cache_mb: 64,
        }
    }
}

impl PoolSizes {
    /// Each cached connection's share of the page cache: the read pool's and the
    /// writer's.
    pub fn cache_kib_each(&self) -> u32 {
        let shares = self.read.max(1) + 1;
        (self.sqlite_cache_mb.saturating_mul(1024) / shares).max(DEFAULT_CACHE_KIB)
    }
}

impl Db {
    pub fn open(url: &str, sizes: PoolSizes) -> Result<Db, DbError> {
        let backend = Backend::of_url(url);
        let mut conn = connect(url)?;
        apply_pragmas(&mut conn)?;
        run_migrations(&mut conn)?;
        crate::aggregates::rebuild(&mut conn).map_err(|e| DbError::Migrations(e.to_string()))?;
        // Tells this database's counters apart in a process's memory.
        secret(&mut conn, "counters").map_err(DbError::Query)?;
        let form_key = secret(&mut conn, "form")
            .map_err(DbError::Query)?
            .into_bytes()
            .into();
        drop(conn);
        let cache_kib = sizes.cache_kib_each();
        let build = |size: u32, cache_kib: u32| {
            Pool::builder()
                .max_size(size.max(1))
                // The database gone: a 503 within 5 s rather than a request hanging.
                .connection_timeout(Duration::from_secs(5))
                // A PostgreSQL connection can die with its server and is checked
                // before use; an SQLite connection is a file handle that cannot.
                .test_on_check_out(backend == Backend::Postgres)
                .connection_customizer(Box::new(Pragmas { cache_kib }))
                .build(Manager {
                    url: url.to_owned(),
                })
        };
        let write_size = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => sizes.write,
        };
        let writer = crate::writer::Writer::start(url, cache_kib).map_err(DbError::Writer)?;
        Ok(Db {
            read: build(sizes.read, cache_kib)?,
            write: build(write_size, DEFAULT_CACHE_KIB)?,
            backend,
            writer,
            form_key,
        })
    }

    /// Write requests waiting for the group-commit writer.
    pub fn writer_queue(&self) -> usize {
        self.writer.queue_len()
    }

    /// Runs `f` in one write transaction: any error rolls all of it back. The answer
    /// comes once the transaction is durably committed.
    pub async fn write<T, F>(&self, f: F) -> crate::error::ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> crate::error::ApiResult<T> + Send + 'static,
    {
        use crate::error::ApiError;
        match self.backend {
            Backend::Sqlite => self.writer.write(f).await,
            Backend::Postgres => {
                let pool = self.write.clone();
                actix_web::web::block(move || {
                    let mut conn = pool.get()?;
                    conn.transaction::<T, ApiError, _>(|c| f(c))
                })
                .await?
            }
        }
    }

    /// Writes a step prepared on a read connection, handed over from a blocking thread
    /// that does not wait: the writer writes it in its next group commit, with the
    /// steps queued next to it. The answer goes to `reply` (`None`: the step is to be
    /// done whole).
    pub fn submit_step(
        &self,
        actor: crate::auth::Actor,
        step: crate::service::events::PreparedStep,
        reply: tokio::sync::oneshot::Sender<
            crate::error::ApiResult<Option<filiere_shared::api::EventResponse>>,
        >,
    ) {
        self.writer.submit_step(actor, step, reply);
    }
}

/// A named server secret: read, or made (64 random hex digits) when there is none. Two
/// processes starting at once keep whichever was written first.
pub fn secret(conn: &mut DbConnection, name: &str) -> Result<String, diesel::result::Error> {
    use crate::schema::server_secrets;
    use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
    let read = |conn: &mut DbConnection| {
        server_secrets::table
            .find(name)
            .select(server_secrets::value)
            .first::<String>(conn)
            .optional()
    };
    if let Some(v) = read(conn)? {
        return Ok(v);
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let inserted = diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::value.eq(hex::encode(bytes)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => {}
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => {}
        Err(e) => return Err(e),
    }
    read(conn)?.ok_or(diesel::result::Error::NotFound)
}

/// Applies the embedded migrations of the connection's backend.
pub fn run_migrations(conn: &mut DbConnection) -> Result<(), DbError> {
    let result = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| DbError::Migrations(e.to_string()))
}

/// Every table of the schema (a test holds this list to the migrated database): what
/// a backup's summary counts and what a restore is compared on.
pub const TABLES: &[&str] = &[
    "regions",
    "sites",
    "organisations",
    "users",
    "benches",
    "sessions",
    "collections",
    "label_batches",
    "weee_batches",
    "items",
    "label_codes",
    "item_events",
    "drives",
    "erasure_records",
    "qa_reports",
    "beneficiaries",
    "catalogue",
    "training_sessions",
    "reservations",
    "training_bookings",
    "needs",
    "login_failures",
    "donor_offers",
    "printers",
    "label_templates",
    "proof_types",
    "training_topics",
    "price_rules",
    "price_caps",
    "sales",
    "sale_lines",
    "payments",
    "after_sales",
    "issued_documents",
    "document_counters",
    "asset_imports",
    "settings",
    "server_secrets",
    "impact_factors",
    "aging_thresholds",
    "item_deltas",
    "flow_deltas",
    "stock_counts",
    "ready_times",
    "flow_weeks",
    "flow_months",
    "collection_counts",
    "aging_days",
    "aging_months",
    "counter_folds",
];

/// The dashboards' counters, which the sweeps fold in the background at any moment
/// (`aggregates`): left out of [`record_counts`].
pub const DERIVED_TABLES: &[&str] = &[
    "item_deltas",
    "flow_deltas",
    "stock_counts",
    "ready_times",
    "flow_weeks",
    "flow_months",
    "collection_counts",
    "aging_days",
    "aging_months",
    "counter_folds",
];

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Row count of every table, in [`TABLES`] order.
pub fn row_counts(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, diesel::result::Error> {
    counts(conn, TABLES.iter())
}

/// Row count of every table of records (not the dashboards' counters, which change
/// whenever the sweeps fold): what a refused request must leave as it was.
pub fn record_counts(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, diesel::result::Error> {
    counts(conn, TABLES.iter().filter(|t| !DERIVED_TABLES.contains(t)))
}

fn counts<'a>(
    conn: &mut DbConnection,
    tables: impl Iterator<Item = &'a &'static str>,
) -> Result<Vec<(String, i64)>, diesel::result::Error> {
    tables
        .map(|t| {
            let c: Count =
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}")).get_result(conn)?;
            Ok(((*t).to_owned(), c.n))
        })
        .collect()
}

/// Runs `$body` with `$c` bound to the connection of the backend in use, for the
/// queries of the hot paths (a scanned code, a bench's step). Through the
/// multi-backend connection, diesel writes a query's SQL out again and walks it twice
/// at every call; on the backend's own connection it finds the prepared statement by
/// the query's type. The query is still written once, for both backends.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// A write statement whose prepared form the connection keeps, found again by its SQL
/// text. Diesel prepares every `UPDATE`, and every `INSERT` of optional values, afresh
/// at each call, because their SQL text can change from one call to the next; keyed
/// by that text, keeping them is safe. The writes of the bench's daily steps go
/// through here: preparing them again took about a fifth of the writer's time.
#[derive(Debug, Clone, Copy)]
pub struct Kept<T>(pub T);

impl<T, DB> diesel::query_builder::QueryFragment<DB> for Kept<T>
where
    DB: diesel::backend::Backend,
    T: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        pass: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _: &DB) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<T> diesel::query_builder::QueryId for Kept<T> {
    type QueryId = ();
    // No type-wide identity: the cache is keyed by the SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<T: diesel::query_builder::Query> diesel::query_builder::Query for Kept<T> {
    type SqlType = T::SqlType;
}

impl<T, C> RunQueryDsl<C> for Kept<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_of(conn: &mut DbConnection) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Size {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            cache_size: i64,
        }
        diesel::sql_query("PRAGMA cache_size")
            .get_result::<Size>(conn)
            .expect("cache_size")
            .cache_size
    }

    #[test]
    fn the_sqlite_page_cache_is_shared_out_within_its_budget() {
        let dir = std::env::temp_dir().join(format!("filiere-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let url = format!("sqlite://{}", dir.join("cache.sqlite").display());
        let sizes = PoolSizes {
            read: 4,
            write: 1,
            sqlite_cache_mb: 40,
        };
        // 40 MiB over four readers and the writer: 8 MiB each.
        assert_eq!(sizes.cache_kib_each(), 8192);
        let db = Db::open(&url, sizes).expect("open");
        let mut read = db.read.get().expect("read connection");
        assert_eq!(cache_of(&mut read), -8192);
        let mut admin = db.write.get().expect("write connection");
        assert_eq!(cache_of(&mut admin), -i64::from(DEFAULT_CACHE_KIB));
        // A budget too small for the pool still leaves each connection SQLite's default.
        let tiny = PoolSizes {
            read: 16,
            write: 1,
            sqlite_cache_mb: 1,
        };
        assert_eq!(tiny.cache_kib_each(), DEFAULT_CACHE_KIB);
        drop((read, admin, db));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
