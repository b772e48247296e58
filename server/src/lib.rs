//! Filière server: the HTTP API over diesel storage (SQLite or PostgreSQL).

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod models;
pub mod printing;
pub mod routes;
pub mod schema;
pub mod service;
pub mod writer;

use actix_web::{App, HttpServer, dev::Server, middleware};
use std::net::TcpListener;

/// Starts the HTTP server on an already bound listener (port 0 in tests).
pub fn run(
    listener: TcpListener,
    db: db::Db,
    labels: printing::LabelSettings,
    workers: usize,
) -> std::io::Result<Server> {
    let sessions = actix_web::web::Data::new(auth::SessionCache::default());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(sessions.clone())
            .wrap(tracing_actix_web::TracingLogger::default())
            .wrap(middleware::Compress::default())
            .configure(app::configure(db.clone(), labels.clone()))
    })
    .workers(workers.max(1))
    .listen(listener)?
    .run();
    Ok(server)
}
