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
    /// Where Prometheus metrics are served (`/metrics`), apart from the public
    /// address; empty: not served.
    pub metrics_bind: String,
    /// Host printed in label URLs (`HTTPS://HOST/I/CODE`).
    pub public_host: Option<String>,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Read connections in the pool.
    pub read_pool: u32,
    /// Write connections (PostgreSQL only; SQLite has one writer).
    pub write_pool: u32,
    /// SQLite only: the memory, in MiB, that the read connections and the writer
    /// together keep of the database's pages; the rest is read from the operating
    /// system's file cache. Bounds the server's memory however large the database grows.
    pub sqlite_cache_mb: u32,
    /// `pretty` or `json` logs.
    pub log_format: String,
    /// The CUPS client used to print PDF sheets.
    pub lp_command: String,
    /// Connection attempts to a network label printer before reporting it unreachable.
    pub print_attempts: u32,
    /// The association's time zone: the web pages and documents show times in it.
    pub timezone: String,
    /// One computer per household within this many years (a social worker may
    /// override it, saying why).
    pub household_years: u32,
    /// Reverse proxies whose `X-Forwarded-For` tells the client's address (for the
    /// login throttle); requests from anywhere else are taken at their own address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A beneficiary's identity is anonymised this many days after the last
    /// guarantee of what they bought ends…
    pub anonymise_after_guarantee_days: u32,
    /// …or, having bought nothing, after this many days without a reservation.
    pub anonymise_inactive_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://filiere.sqlite".into(),
            bind: "127.0.0.1:8080".into(),
            metrics_bind: "127.0.0.1:9464".into(),
            public_host: None,
            workers: 0,
            read_pool: 8,
            write_pool: 8,
            sqlite_cache_mb: 64,
            log_format: "pretty".into(),
            lp_command: "lp".into(),
            print_attempts: 3,
            timezone: "Europe/Paris".into(),
            household_years: filiere_shared::social::DEFAULT_HOUSEHOLD_YEARS,
            trusted_proxies: Vec::new(),
            anonymise_after_guarantee_days: 30,
            anonymise_inactive_days: 365,
        }
    }
}

/// What the web pages and the social side's operations need to know of the settings.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    pub rules: crate::service::reservations::Rules,
    pub clock: crate::clock::Clock,
    /// The host of label and voucher URLs.
    pub public_host: Option<String>,
    /// Reverse proxies trusted for `X-Forwarded-For`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long beneficiaries' identities are kept.
    pub retention: crate::service::beneficiaries::Retention,
}

impl WebSettings {
    /// Cookies are `Secure` when the public host is served over HTTPS (label URLs
    /// always say HTTPS; a host written `http://…` is a local trial).
    pub fn secure_cookies(&self) -> bool {
        self.public_host
            .as_deref()
            .is_some_and(|h| !h.trim().to_ascii_lowercase().starts_with("http://"))
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

    pub fn web(&self) -> Result<WebSettings, String> {
        let clock = crate::clock::Clock::parse_zone(&self.timezone)
            .ok_or_else(|| format!("fuseau horaire inconnu : {}", self.timezone))?;
        Ok(WebSettings {
            rules: crate::service::reservations::Rules {
                household_years: self.household_years,
            },
            clock,
            public_host: self.public_host.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            retention: crate::service::beneficiaries::Retention {
                after_guarantee_days: self.anonymise_after_guarantee_days,
                inactive_days: self.anonymise_inactive_days,
            },
        })
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
