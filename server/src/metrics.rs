//! Prometheus metrics: requests by route and status, their latency, the writer's
//! batches and queue, the database pools, the sweeps. Served at `/metrics` on a
//! listen address of their own (`metrics_bind`, 127.0.0.1:9464 by default), never
//! through the public one: behind a reverse proxy every request comes from loopback,
//! so an address cannot tell a monitoring system from a visitor.
//!
//! The figures are the process's: several processes on one database are scraped
//! each on its own address.

use crate::db::Db;
use actix_web::{HttpResponse, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::net::TcpListener;
use std::sync::OnceLock;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route's path template (`/api/v1/items/{id}`), or `unmatched`.
    pub route: String,
    pub method: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `read` or `write`.
    pub pool: String,
    /// `busy` or `idle`.
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SweepLabels {
    /// `fold`, `expire_holds`, `anonymise` or `login_failures`.
    pub sweep: String,
}

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub batch_size: Histogram,
    pub queue: Gauge,
    pub pool: Family<PoolLabels, Gauge>,
    pub sweeps: Family<SweepLabels, Counter>,
    pub swept: Family<SweepLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … 8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("filiere");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let latency =
            Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by route and method",
            latency.clone(),
        );
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 8));
        registry.register(
            "writer_batch_size",
            "Write requests committed together by the group-commit writer",
            batch_size.clone(),
        );
        let queue = Gauge::default();
        registry.register(
            "writer_queue",
            "Write requests waiting for the writer",
            queue.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections of each pool, busy or idle",
            pool.clone(),
        );
        let sweeps = Family::<SweepLabels, Counter>::default();
        registry.register(
            "sweeps",
            "Sweeps this process ran (folding the dashboards, releasing holds, anonymising, forgetting failed logins)",
            sweeps.clone(),
        );
        let swept = Family::<SweepLabels, Counter>::default();
        registry.register(
            "swept_rows",
            "Rows the sweeps changed (holds released, beneficiaries anonymised…)",
            swept.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            batch_size,
            queue,
            pool,
            sweeps,
            swept,
        }
    }

    /// A sweep ran and changed `rows` rows.
    pub fn swept(&self, sweep: &str, rows: u64) {
        let labels = SweepLabels {
            sweep: sweep.to_owned(),
        };
        self.sweeps.get_or_create(&labels).inc();
        self.swept.get_or_create(&labels).inc_by(rows);
    }

    /// The text exposition, with the pools and the queue read now.
    pub fn render(&self, db: &Db) -> String {
        for (name, pool) in [("read", &db.read), ("write", &db.write)] {
            let state = pool.state();
            let idle = i64::from(state.idle_connections);
            let all = i64::from(state.connections);
            for (which, n) in [("idle", idle), ("busy", all - idle)] {
                self.pool
                    .get_or_create(&PoolLabels {
                        pool: name.to_owned(),
                        state: which.to_owned(),
                    })
                    .set(n);
            }
        }
        self.queue.set(db.writer_queue() as i64);
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics could not be written");
        }
        out
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

async fn scrape(db: web::Data<Db>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics().render(&db))
}

/// Serves `/metrics` (and nothing else) on `listener`, on the current actix runtime.
pub fn serve(listener: TcpListener, db: Db) -> std::io::Result<actix_web::dev::Server> {
    let db = web::Data::new(db);
    Ok(actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(db.clone())
            .route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .listen(listener)?
    .run())
}
