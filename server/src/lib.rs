//! Filière server: the HTTP API over diesel storage (SQLite or PostgreSQL).

pub mod aggregates;
pub mod app;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connection;
pub mod db;
pub mod demo;
pub mod documents;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod printing;
pub mod routes;
pub mod schema;
pub mod service;
pub mod sweeps;
pub mod web;
pub mod writer;

use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::{App, middleware};
use std::net::TcpListener;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// Each request's span: method, target, client address, request id, then status and
/// error. tracing-actix-web's default span also names the route's pattern, which
/// costs routing the request a second time, and works all its fields out even when
/// nothing records the span (a few percent of a request's processor time); here the
/// fields are worked out only when the span is recorded.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        use tracing::field::Empty;
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.target = %request.uri(),
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            request_id = %request.extensions().get::<RequestId>().map(|r| r.to_string()).unwrap_or_default(),
            http.status_code = Empty,
            otel.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

tokio::task_local! {
    /// The id of the request being answered (tracing-actix-web's, as in its log lines).
    static REQUEST_ID: String;
}

/// The id of the request being answered, when there is one: error bodies carry it.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// An API route's path template, kept with its resource: the metrics' label.
pub struct RouteName(pub &'static str);

/// Around every request, inside its log span: its id, for the error body (a task-local
/// while the request is answered) and in an `X-Request-Id` header; then its count and
/// latency by route.
async fn observe(
    req: ServiceRequest,
    next: middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    use actix_web::http::header::{HeaderName, HeaderValue};
    let id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let method = req.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let mut res = REQUEST_ID.scope(id.clone(), next.call(req)).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    let route = match res.request().app_data::<RouteName>() {
        Some(r) => r.0.to_owned(),
        None => res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned()),
    };
    let m = metrics::metrics();
    m.requests
        .get_or_create(&metrics::RequestLabels {
            route: route.clone(),
            method: method.clone(),
            status: res.status().as_u16().to_string(),
        })
        .inc();
    m.latency
        .get_or_create(&metrics::RouteLabels { route, method })
        .observe(started.elapsed().as_secs_f64());
    Ok(res)
}

/// Headers on every answer: a Content Security Policy that allows no inline script and
/// nothing from another origin, frames refused, no content sniffing, no referrer sent
/// to other sites.
pub fn security_headers() -> middleware::DefaultHeaders {
    middleware::DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
}

/// Starts the HTTP server on an already bound listener (port 0 in tests). Each
/// connection is [`connection::Guarded`], so that a request actix-http refuses before
/// the application sees it is still answered with a JSON body.
pub fn run(
    listener: TcpListener,
    db: db::Db,
    labels: printing::LabelSettings,
    workers: usize,
) -> std::io::Result<Server> {
    let web = config::WebSettings {
        public_host: labels.public_host.clone(),
        ..config::WebSettings::default()
    };
    run_with(listener, db, labels, web, workers)
}

/// [`run`] with the web pages' settings; also starts this process's sweeps (expired
/// holds, old login failures), every minute.
pub fn run_with(
    listener: TcpListener,
    db: db::Db,
    labels: printing::LabelSettings,
    web: config::WebSettings,
    workers: usize,
) -> std::io::Result<Server> {
    use actix_service::ServiceFactoryExt;
    sweeps::start(db.clone(), web.retention);
    let sessions = actix_web::web::Data::new(auth::SessionCache::default());
    let local = listener.local_addr()?;
    // Each worker's blocking threads (reads, a step's preparation, hashing, printing):
    // no more than the database has connections, since a task beyond them would only
    // wait for one. Left at actix's default (512 / workers), 64 connections in flight
    // started a thread each, every one with its own stack and allocator arena.
    let blocking = (db.read.max_size() + db.write.max_size()).max(4) as usize;
    let server = Server::build()
        .workers(workers.max(1))
        .worker_max_blocking_threads(blocking)
        .listen("filiere", listener, move || {
            let app = App::new()
                .app_data(sessions.clone())
                .wrap(middleware::from_fn(observe))
                .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
                .wrap(middleware::Compress::default())
                .wrap(security_headers())
                .configure(app::configure(db.clone(), labels.clone(), web.clone()));
            let app = actix_service::map_config(app, |()| actix_web::dev::AppConfig::default());
            let http = actix_http::HttpService::build()
                .keep_alive(actix_http::KeepAlive::Timeout(
                    std::time::Duration::from_secs(5),
                ))
                .client_request_timeout(std::time::Duration::from_secs(5))
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                .local_addr(local)
                .finish(app);
            actix_service::fn_service(|io: actix_web::rt::net::TcpStream| async move {
                let _ = io.set_nodelay(true);
                let peer = io.peer_addr().ok();
                Ok::<_, actix_http::error::DispatchError>((
                    connection::Guarded::new(io),
                    actix_http::Protocol::Http1,
                    peer,
                ))
            })
            .and_then(http)
        })?
        .run();
    Ok(server)
}
