//! Test harness: the real server on a random port, on a fresh database per test —
//! a new SQLite file, or, when `TEST_DATABASE_URL` is set, a new PostgreSQL database
//! cloned from a migrated template.

use filiere_server::db::{self, Backend, Db, PoolSizes};
use filiere_shared::api::*;
use filiere_shared::*;
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

pub mod crash;
pub mod raster;
pub mod schema;

pub const PASSWORD: &str = "correct-horse-battery";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let r: u32 = rand::random();
    format!("{prefix}_{}_{n}_{r:08x}", std::process::id())
}

enum Store {
    Sqlite(PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// A database given by its URL, left as it is when the app stops.
    Kept,
}

/// A running server on its own database.
pub struct TestApp {
    pub base: String,
    /// Where the process's Prometheus metrics are served (its own address).
    pub metrics: String,
    pub client: reqwest::Client,
    pub url: String,
    pub backend: Backend,
    labels: filiere_server::printing::LabelSettings,
    handle: Option<actix_web::dev::ServerHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
    store: Store,
}

/// Writes a line per test database made, so CI can check that the PostgreSQL run
/// really ran tests (`FILIERE_TEST_LOG`).
fn log_backend(backend: Backend) {
    if let Ok(path) = std::env::var("FILIERE_TEST_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            // One write of the whole line: tests running at once append whole lines.
            let _ = f.write_all(format!("{}\n", backend.name()).as_bytes());
        }
    }
}

fn pg_template(admin_url: &str) -> String {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            use diesel::connection::SimpleConnection;
            use sha2_free_hash::hash;
            // Every migration's text: a new or changed one makes a new template.
            let fingerprint = hash(&postgres_migrations());
            let name = format!("filiere_tpl_{fingerprint:016x}");
            let mut admin = db::connect(admin_url).expect("connect to TEST_DATABASE_URL");
            // One process at a time builds the template.
            admin
                .batch_execute("SELECT pg_advisory_lock(727274)")
                .expect("lock");
            let exists: bool = {
                use diesel::RunQueryDsl;
                #[derive(diesel::QueryableByName)]
                struct E {
                    #[diesel(sql_type = diesel::sql_types::Bool)]
                    e: bool,
                }
                diesel::sql_query(format!(
                    "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}') AS e"
                ))
                .get_result::<E>(&mut admin)
                .expect("query pg_database")
                .e
            };
            if !exists {
                let tmp = format!("{name}_building");
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {tmp}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE {tmp}"))
                    .expect("create template");
                {
                    let mut c = db::connect(&with_db(admin_url, &tmp)).expect("connect template");
                    db::run_migrations(&mut c).expect("migrate template");
                }
                admin
                    .batch_execute(&format!("ALTER DATABASE {tmp} RENAME TO {name}"))
                    .expect("rename template");
            }
            admin
                .batch_execute("SELECT pg_advisory_unlock(727274)")
                .expect("unlock");
            name
        })
        .clone()
}

/// The PostgreSQL migrations of the checkout, names and text, in order.
fn postgres_migrations() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/postgres");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("migrations/postgres")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let mut out = String::new();
    for m in names {
        out.push_str(&m.display().to_string());
        out.push_str(&std::fs::read_to_string(m.join("up.sql")).unwrap_or_default());
    }
    out
}

/// Opens the database at `url` with `connections` read and write connections (and the
/// default page cache), as the tests and the load tools do beside the server.
pub fn open_db(url: &str, connections: u32) -> Db {
    Db::open(
        url,
        PoolSizes {
            read: connections,
            write: connections,
            ..PoolSizes::default()
        },
    )
    .expect("open database")
}

/// A tiny stable hash (FNV-1a) for the template's name.
mod sha2_free_hash {
    pub fn hash(s: &str) -> u64 {
        let mut h: u64 = 0xcbf29ce484222325;
        for b in s.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        h
    }
}

fn with_db(url: &str, name: &str) -> String {
    // postgres://user@host:port/db?params → replace the path.
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Label URLs on host `filiere.test`; two quick attempts at a printer.
fn test_labels() -> filiere_server::printing::LabelSettings {
    filiere_server::printing::LabelSettings {
        public_host: Some("filiere.test".into()),
        attempts: 2,
        timeout_ms: 1000,
        ..Default::default()
    }
}

impl TestApp {
    /// Starts a server on a fresh database; label URLs on host `filiere.test`.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(test_labels()).await
    }

    /// Starts a server on a fresh PostgreSQL database; `None`, with a note, when the
    /// suite runs on SQLite (no `TEST_DATABASE_URL`).
    pub async fn spawn_postgres() -> Option<TestApp> {
        let app = TestApp::spawn().await;
        if app.backend != Backend::Postgres {
            eprintln!("PostgreSQL only (TEST_DATABASE_URL): skipped on SQLite");
            return None;
        }
        Some(app)
    }

    /// Starts a server on a fresh database with the given label settings.
    pub async fn spawn_with(labels: filiere_server::printing::LabelSettings) -> TestApp {
        let (url, store) = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let template = pg_template(&admin_url);
                let name = unique_name("filiere_test");
                let mut admin = db::connect(&admin_url).expect("connect to TEST_DATABASE_URL");
                use diesel::connection::SimpleConnection;
                admin
                    .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .expect("create test database");
                (
                    with_db(&admin_url, &name),
                    Store::Postgres { admin_url, name },
                )
            }
            _ => {
                let dir = std::env::temp_dir().join("filiere-tests");
                std::fs::create_dir_all(&dir).expect("temp dir");
                let path = dir.join(format!("{}.sqlite", unique_name("t")));
                (format!("sqlite://{}", path.display()), Store::Sqlite(path))
            }
        };
        TestApp::serve_on(url, store, labels)
    }

    /// Starts a server on the database at `url` (SQLite file or PostgreSQL database,
    /// migrated on start), which is kept when the app is dropped: the load tools'
    /// `--database`, to measure again without seeding again.
    pub async fn spawn_kept(url: &str) -> TestApp {
        TestApp::serve_on(url.to_owned(), Store::Kept, test_labels())
    }

    fn serve_on(
        url: String,
        store: Store,
        labels: filiere_server::printing::LabelSettings,
    ) -> TestApp {
        let backend = Backend::of_url(&url);
        log_backend(backend);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let metrics = TcpListener::bind("127.0.0.1:0").expect("bind");
        let metrics_port = metrics.local_addr().expect("addr").port();
        let mut app = TestApp {
            base: format!("http://127.0.0.1:{port}"),
            metrics: format!("http://127.0.0.1:{metrics_port}"),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
            url,
            backend,
            labels,
            handle: None,
            thread: None,
            store,
        };
        app.serve(listener, metrics);
        app
    }

    fn serve(&mut self, listener: TcpListener, metrics: TcpListener) {
        let db = open_db(&self.url, 8);
        let labels = self.labels.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let sys = actix_web::rt::System::new();
            sys.block_on(async move {
                let metrics =
                    filiere_server::metrics::serve(metrics, db.clone()).expect("metrics server");
                let metrics_handle = metrics.handle();
                actix_web::rt::spawn(metrics);
                let server = filiere_server::run(listener, db, labels, 2).expect("server");
                let _ = tx.send(server.handle());
                let _ = server.await;
                metrics_handle.stop(false).await;
            });
        });
        self.handle = Some(rx.recv().expect("server handle"));
        self.thread = Some(thread);
    }

    /// Stops the server, keeping its database: clients now find nobody listening.
    pub fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            let fut = h.stop(false);
            std::thread::spawn(move || futures_lite_block_on(fut))
                .join()
                .ok();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Starts the server again on the same port and database.
    pub fn restart(&mut self) {
        let addr = self.base.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind(&addr).expect("bind the same port again");
        let metrics = self.metrics.trim_start_matches("http://").to_owned();
        let metrics = TcpListener::bind(&metrics).expect("bind the same port again");
        self.serve(listener, metrics);
    }

    /// A direct connection to the test database, for row counts and set-up; with the
    /// server's busy timeout, so that a write here waits for the server's writer (or
    /// its checkpoint) instead of failing with "database is locked".
    pub fn conn(&self) -> db::DbConnection {
        let mut conn = db::connect(&self.url).expect("connect");
        db::apply_pragmas(&mut conn).expect("pragmas");
        conn
    }

    /// The one number `sql` answers, in a column named `n`.
    pub fn number(conn: &mut db::DbConnection, sql: &str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let r: N = diesel::sql_query(sql)
            .get_result(conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        r.n
    }

    /// Row count of every table of records (the dashboards' counters apart).
    pub fn counts(&self) -> Vec<(String, i64)> {
        db::record_counts(&mut self.conn()).expect("count rows")
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let resp = rb.send().await.expect("request");
        let status = resp.status();
        let json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
        let text = resp.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        schema::check_answer(
            method.as_str(),
            path,
            status.as_u16(),
            json.then_some(&value),
        );
        (status, value)
    }

    /// POST answering bytes (rendered labels): status, headers, body.
    pub async fn post_bytes(
        &self,
        path: &str,
        token: &str,
        body: &Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let json = serde_json::to_vec(body).expect("serialise");
        self.raw(
            reqwest::Method::POST,
            path,
            Some(token),
            Some(("application/json", json)),
        )
        .await
    }

    /// Any request with a raw body (or none), answering bytes: status, headers, body.
    /// A JSON answer is held to the OpenAPI document like every other.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut rb = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some((content_type, bytes)) = body {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        let resp = rb.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body").to_vec();
        let json = headers
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
        let value = json.then(|| serde_json::from_slice(&bytes).unwrap_or(Value::Null));
        schema::check_answer(method.as_str(), path, status.as_u16(), value.as_ref());
        (status, headers, bytes)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// POST that must succeed; returns the typed answer.
    pub async fn post_ok<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        token: &str,
        body: &B,
    ) -> T {
        let body = serde_json::to_value(body).expect("serialise");
        let (status, v) = self.post(path, token, &body).await;
        assert!(status.is_success(), "POST {path} → {status}: {v}");
        match serde_json::from_value(v.clone()) {
            Ok(t) => t,
            Err(e) => panic!("POST {path}: cannot decode {v}: {e}"),
        }
    }

    pub async fn get_ok<T: DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let (status, v) = self.get(path, token).await;
        assert!(status.is_success(), "GET {path} → {status}: {v}");
        match serde_json::from_value(v.clone()) {
            Ok(t) => t,
            Err(e) => panic!("GET {path}: cannot decode {v}: {e}"),
        }
    }

    pub async fn login(&self, username: &str) -> String {
        self.login_with(username, PASSWORD).await
    }

    pub async fn login_with(&self, username: &str, password: &str) -> String {
        let r: SessionResponse = self
            .post_ok_anon(
                "/api/v1/auth/login",
                &json!({"username": username, "password": password}),
            )
            .await;
        r.token
    }

    pub async fn post_ok_anon<T: DeserializeOwned>(&self, path: &str, body: &Value) -> T {
        let (status, v) = self
            .request(reqwest::Method::POST, path, None, Some(body))
            .await;
        assert!(status.is_success(), "POST {path} → {status}: {v}");
        match serde_json::from_value(v.clone()) {
            Ok(t) => t,
            Err(e) => panic!("POST {path}: cannot decode {v}: {e}"),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server and wait for it, so its pools close before the drop.
        self.stop();
        match &self.store {
            Store::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(p));
                }
            }
            Store::Postgres { admin_url, name } => {
                use diesel::connection::SimpleConnection;
                if let Ok(mut admin) = db::connect(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
            Store::Kept => {}
        }
    }
}

fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    actix_web::rt::System::new().block_on(f)
}

/// Ids and logins of the standard test world: two regions, three sites, every role.
pub struct World {
    pub region_a: RegionId,
    pub region_b: RegionId,
    /// Region A.
    pub site_a1: SiteId,
    /// Region A.
    pub site_a2: SiteId,
    /// Region B.
    pub site_b: SiteId,
    pub donor_public: OrgId,
    pub donor_private: OrgId,
    pub recycler: OrgId,
    pub social_a: OrgId,
    pub social_b: OrgId,
    pub admin: String,
    /// Technician of site A1.
    pub tech_a1: String,
    /// Technician of site A2.
    pub tech_a2: String,
    /// Technician of site B.
    pub tech_b: String,
    pub coord_a: String,
    pub coord_b: String,
    /// Social worker of an organisation of region A.
    pub social_worker_a: String,
    pub bench_a1_token: String,
    pub badge_tech_a1: String,
}

pub const BADGE_A1: &str = "FB7MT00014";

/// The standard world, with the organisation that runs the workshops of region A
/// (selling at sites A1 and A2: its SIRET and addresses), a training venue in region A,
/// and a price for laptops there.
pub struct SellingWorld {
    pub w: World,
    pub operator: OrgId,
    pub venue: OrgId,
}

impl TestApp {
    /// [`TestApp::world`] with what selling needs ([`SellingWorld`]).
    pub async fn selling_world(&self) -> SellingWorld {
        let w = self.world().await;
        let op: OrganisationView = self
            .post_ok(
                "/api/v1/organisations",
                &w.admin,
                &json!({"name": "Atelier A", "kind": "operator", "siret": "82415736200016",
                    "region": w.region_a, "address": "1 rue de l'Atelier, 69000 Lyon"}),
            )
            .await;
        for site in [w.site_a1, w.site_a2] {
            let (st, v) = self
                .request(
                    reqwest::Method::PATCH,
                    &format!("/api/v1/sites/{site}"),
                    Some(&w.admin),
                    Some(
                        &json!({"organisation": op.id, "address": "2 rue du Comptoir, 69000 Lyon"}),
                    ),
                )
                .await;
            assert_eq!(st.as_u16(), 200, "{v}");
        }
        let venue: OrganisationView = self
            .post_ok(
                "/api/v1/organisations",
                &w.admin,
                &json!({"name": "EPN A", "kind": "training_venue", "region": w.region_a}),
            )
            .await;
        let (st, v) = self
            .post(
                "/api/v1/price-rules",
                &w.coord_a,
                &json!({"region": w.region_a, "category": "laptop", "price_cents": 9000}),
            )
            .await;
        assert!(st.is_success(), "{v}");
        SellingWorld {
            w,
            operator: op.id,
            venue: venue.id,
        }
    }
}

impl TestApp {
    /// Builds the standard world through the API (the first admin directly, as the
    /// command line does).
    pub async fn world(&self) -> World {
        {
            let mut c = self.conn();
            filiere_server::service::admin::create_user(
                &mut c,
                None,
                &NewUser {
                    username: "admin".into(),
                    display_name: "Admin".into(),
                    role: Role::Admin,
                    password: Some(PASSWORD.into()),
                    badge: None,
                    site: None,
                    region: None,
                    organisation: None,
                    language: Lang::Fr,
                },
            )
            .expect("bootstrap admin");
        }
        let admin = self.login("admin").await;
        let region = |code: &str| json!({"name": format!("Région {code}"), "code": code});
        let ra: RegionView = self
            .post_ok("/api/v1/regions", &admin, &region("AAA"))
            .await;
        let rb: RegionView = self
            .post_ok("/api/v1/regions", &admin, &region("BBB"))
            .await;
        let site = |r: RegionId, name: &str| json!({"region": r, "name": name, "kind": "workshop"});
        let a1: SiteView = self
            .post_ok("/api/v1/sites", &admin, &site(ra.id, "A1"))
            .await;
        let a2: SiteView = self
            .post_ok("/api/v1/sites", &admin, &site(ra.id, "A2"))
            .await;
        let b: SiteView = self
            .post_ok("/api/v1/sites", &admin, &site(rb.id, "B"))
            .await;
        let org = |name: &str, kind: &str, public: bool, r: RegionId| json!({"name": name, "kind": kind, "public_body": public, "region": r});
        let mut donor_public = org("Mairie", "donor", true, ra.id);
        donor_public["siret"] = json!("21690123100011");
        let dp: OrganisationView = self
            .post_ok("/api/v1/organisations", &admin, &donor_public)
            .await;
        let dpr: OrganisationView = self
            .post_ok(
                "/api/v1/organisations",
                &admin,
                &org("Entreprise", "donor", false, ra.id),
            )
            .await;
        let rec: OrganisationView = self
            .post_ok(
                "/api/v1/organisations",
                &admin,
                &org("Recycleur", "recycler", false, ra.id),
            )
            .await;
        let sa: OrganisationView = self
            .post_ok(
                "/api/v1/organisations",
                &admin,
                &org("CCAS A", "social_partner", true, ra.id),
            )
            .await;
        let sb: OrganisationView = self
            .post_ok(
                "/api/v1/organisations",
                &admin,
                &org("Asso B", "social_partner", false, rb.id),
            )
            .await;
        let user = |name: &str, role: &str, extra: Value| {
            let mut u =
                json!({"username": name, "display_name": name, "role": role, "password": PASSWORD});
            if let (Some(o), Some(e)) = (u.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            u
        };
        for u in [
            user(
                "tech_a1",
                "technician",
                json!({"site": a1.id, "badge": BADGE_A1}),
            ),
            user("tech_a2", "technician", json!({"site": a2.id})),
            user("tech_b", "technician", json!({"site": b.id})),
            user("coord_a", "coordinator", json!({"region": ra.id})),
            user(
                "coord_b",
                "coordinator",
                json!({"region": rb.id, "language": "en"}),
            ),
            user("social_a", "social_worker", json!({"organisation": sa.id})),
        ] {
            let _: UserView = self.post_ok("/api/v1/users", &admin, &u).await;
        }
        let bench: NewBenchResponse = self
            .post_ok(
                "/api/v1/benches",
                &admin,
                &json!({"site": a1.id, "name": "Poste 1"}),
            )
            .await;
        World {
            region_a: ra.id,
            region_b: rb.id,
            site_a1: a1.id,
            site_a2: a2.id,
            site_b: b.id,
            donor_public: dp.id,
            donor_private: dpr.id,
            recycler: rec.id,
            social_a: sa.id,
            social_b: sb.id,
            tech_a1: self.login("tech_a1").await,
            tech_a2: self.login("tech_a2").await,
            tech_b: self.login("tech_b").await,
            coord_a: self.login("coord_a").await,
            coord_b: self.login("coord_b").await,
            social_worker_a: self.login("social_a").await,
            admin,
            bench_a1_token: bench.token,
            badge_tech_a1: BADGE_A1.into(),
        }
    }

    /// Signs the world's technician in at bench A1 by badge (as a bench does).
    pub async fn bench_session(&self, w: &World) -> SessionResponse {
        self.post_ok_anon(
            "/api/v1/auth/badge",
            &json!({"bench_token": w.bench_a1_token, "badge": w.badge_tech_a1}),
        )
        .await
    }

    /// Allocates `n` codes at a site and returns them.
    pub async fn codes(&self, token: &str, site: SiteId, n: i32) -> Vec<String> {
        let b: LabelBatchView = self
            .post_ok(
                "/api/v1/label-batches",
                token,
                &json!({"site": site, "count": n}),
            )
            .await;
        b.codes.iter().map(|c| c.as_str().to_owned()).collect()
    }

    /// Registers a laptop with one drive at a site; returns the item.
    pub async fn laptop(&self, token: &str, code: &str, drive_serial: &str) -> ItemView {
        let r: EventResponse = self
            .post_ok(
                "/api/v1/items",
                token,
                &json!({
                    "idempotency_key": format!("reg-{code}"),
                    "code": code,
                    "category": "laptop",
                    "brand": "Lenovo",
                    "model": "ThinkPad T480",
                    "serial": format!("PF-{code}"),
                    "weight_g": 1600,
                    "drives": [{"serial": drive_serial, "size_gb": 256, "bus": "sata", "media": "ssd"}],
                }),
            )
            .await;
        r.item
    }

    /// Sends one step; returns (status, body).
    pub async fn step(
        &self,
        token: &str,
        item: &ItemView,
        key: &str,
        command: Value,
    ) -> (StatusCode, Value) {
        self.post(
            &format!("/api/v1/items/{}/events", item.id),
            token,
            &json!({"idempotency_key": key, "expected_version": item.version, "command": command}),
        )
        .await
    }

    /// Sends one step that must succeed; returns the item after it.
    pub async fn step_ok(
        &self,
        token: &str,
        item: &ItemView,
        key: &str,
        command: Value,
    ) -> EventResponse {
        let (status, v) = self.step(token, item, key, command).await;
        assert!(status.is_success(), "step {key} → {status}: {v}");
        let r: EventResponse = serde_json::from_value(v).expect("decode event response");
        // The answer shows the item exactly as it is now stored.
        let stored: ItemView = self
            .get_ok(&format!("/api/v1/items/{}", r.item.id), token)
            .await;
        assert_eq!(r.item, stored, "step {key}: answer and stored item differ");
        r
    }
}

/// The event types of an item's history, in order.
pub fn event_types(h: &HistoryView) -> Vec<&'static str> {
    h.events
        .iter()
        .map(|e| e.payload.event_type().as_str())
        .collect()
}

/// The history of a laptop with one drive taken from registration to `ready`.
pub const REFURBISHED_PATH: [&str; 6] = [
    "registered",
    "drives_declared",
    "triaged",
    "drive_erased",
    "qa_tested",
    "marked_ready",
];

/// A passing QA report with grades.
pub fn qa_pass() -> Value {
    json!({
        "type": "qa_test",
        "checks": [
            {"check": "boot", "outcome": "pass"},
            {"check": "keyboard", "outcome": "pass"},
            {"check": "screen", "outcome": "pass"},
            {"check": "webcam", "outcome": "not_applicable"}
        ],
        "os_installed": "Emmabuntüs DE5",
        "functional_grade": "a",
        "cosmetic_grade": "b"
    })
}

/// A successful erasure of `serial`.
pub fn erase(serial: &str) -> Value {
    json!({
        "type": "erase_drive",
        "serial": serial,
        "level": "purge",
        "technique": "firmware_sanitize",
        "tool": "hdparm",
        "tool_version": "9.65",
        "passes": 1,
        "verified": true,
        "started_at": "2026-11-20T09:00:00Z",
        "ended_at": "2026-11-20T09:04:00Z",
        "result": "erased"
    })
}

/// A stand-in network label printer (ZPL on raw TCP): accepts one job and returns
/// what it received.
pub fn fake_printer() -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut got = Vec::new();
        stream.read_to_end(&mut got).expect("read job");
        got
    });
    (port, handle)
}

/// `application/x-www-form-urlencoded`, as a browser writes it.
pub fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The text of a PDF, by poppler's `pdftotext`; `None` where it is not installed
/// (required where the browser tests are).
pub fn pdf_text(bytes: &[u8]) -> Option<String> {
    use std::io::Write;
    let child = std::process::Command::new("pdftotext")
        .args(["-layout", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) if std::env::var("FILIERE_BROWSER_TESTS").as_deref() != Ok("required") => {
            eprintln!("pdftotext missing: the document's text is not read back");
            return None;
        }
        Err(e) => panic!("pdftotext: {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write");
    let out = child.wait_with_output().expect("pdftotext");
    assert!(out.status.success());
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every table of the database at `url`: its name, its rows, and a digest of its rows
/// (each row written out as text, sorted). Two databases with the same digests hold
/// the same rows.
pub fn table_digests(url: &str) -> Vec<(String, usize, u64)> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        r: String,
    }
    let mut conn = db::connect(url).expect("connect");
    let sqlite = Backend::of_url(url) == Backend::Sqlite;
    db::TABLES
        .iter()
        .map(|t| {
            let sql = if sqlite {
                let cols: Vec<Row> =
                    diesel::sql_query(format!("SELECT name AS r FROM pragma_table_info('{t}')"))
                        .load(&mut conn)
                        .expect("columns");
                let row = cols
                    .iter()
                    .map(|c| format!("quote(\"{}\")", c.r))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                format!("SELECT {row} AS r FROM {t}")
            } else {
                format!("SELECT CAST(x AS text) AS r FROM {t} x")
            };
            let mut rows: Vec<String> = diesel::sql_query(&sql)
                .load::<Row>(&mut conn)
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .map(|r| r.r)
                .collect();
            rows.sort();
            (
                (*t).to_owned(),
                rows.len(),
                sha2_free_hash::hash(&rows.join("\n")),
            )
        })
        .collect()
}

/// A new empty database beside the test's (a file, or a PostgreSQL database made from
/// the admin URL), for a restore; dropped by [`drop_database`].
pub fn new_database(app: &TestApp) -> String {
    match app.backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("filiere-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!(
                "sqlite://{}",
                dir.join(format!("{}.sqlite", unique_name("r"))).display()
            )
        }
        Backend::Postgres => {
            use diesel::connection::SimpleConnection;
            let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
            let name = unique_name("filiere_restore");
            db::connect(&admin_url)
                .expect("connect")
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create database");
            with_db(&admin_url, &name)
        }
    }
}

/// Removes a database made by [`new_database`].
pub fn drop_database(url: &str) {
    match Backend::of_url(url) {
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        Backend::Postgres => {
            use diesel::connection::SimpleConnection;
            if let Ok(admin_url) = std::env::var("TEST_DATABASE_URL")
                && let Ok(mut admin) = db::connect(&admin_url)
            {
                let name = url.rsplit('/').next().unwrap_or_default();
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}
