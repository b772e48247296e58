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
    /// The CUPS client used to print PDF sheets.
    pub lp_command: String,
    /// Connection attempts to a network label printer before reporting it unreachable.
    pub print_attempts: u32,
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
            lp_command: "lp".into(),
            print_attempts: 3,
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

    pub fn labels(&self) -> crate::printing::LabelSettings {
        crate::printing::LabelSettings {
            public_host: self.public_host.clone(),
            lp_command: self.lp_command.clone(),
            attempts: self.print_attempts,
            ..crate::printing::LabelSettings::default()
        }
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
