//! Layered configuration: defaults, then `filiere.toml` (or `--config`), then
//! `FILIERE_*` environment variables, then command-line flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// `sqlite://path/to/file.sqlite` (or a plain path) or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub bind: String,
    /// Host printed in label URLs (`HTTPS://HOST/I/CODE`).
    pub public_host: Option<String>,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Read connections in the pool.
    pub read_pool: u32,
    /// Write connections (PostgreSQL only; SQLite has one writer).
    pub write_pool: u32,
    /// `pretty` or `json` logs.
    pub log_format: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://filiere.sqlite".into(),
            bind: "127.0.0.1:8080".into(),
            public_host: None,
            workers: 0,
            read_pool: 8,
            write_pool: 8,
            log_format: "pretty".into(),
        }
    }
}

impl Settings {
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let file = file.unwrap_or(Path::new("filiere.toml"));
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("FILIERE_"))
            .extract()
            .map_err(Box::new)
    }

    pub fn workers(&self) -> usize {
        if self.workers == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            self.workers
        }
    }
}
