//! What a bench keeps between runs: set once at first run, in its data directory, next
//! to its journal.

use filiere_shared::Lang;
use filiere_shared::PrinterId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The flows a bench can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Station {
    #[default]
    Reception,
    Triage,
    Erasure,
    Teardown,
    Repair,
    Qa,
    Recycling,
}

impl Station {
    pub const ALL: [Station; 7] = [
        Station::Reception,
        Station::Triage,
        Station::Erasure,
        Station::Teardown,
        Station::Repair,
        Station::Qa,
        Station::Recycling,
    ];

    pub fn name(self, lang: Lang) -> &'static str {
        let (fr, en) = match self {
            Station::Reception => ("Réception", "Reception"),
            Station::Triage => ("Tri", "Triage"),
            Station::Erasure => ("Effacement", "Erasure"),
            Station::Teardown => ("Démontage", "Teardown"),
            Station::Repair => ("Réparation", "Repair"),
            Station::Qa => ("Contrôle qualité", "Quality check"),
            Station::Recycling => ("Recyclage (DEEE)", "Recycling (WEEE)"),
        };
        match lang {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

/// The bench's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The Filière server, e.g. `http://atelier.local:8080`.
    pub server: String,
    /// The bench's token, given by an administrator (`POST /api/v1/benches`).
    pub bench_token: String,
    pub station: Station,
    /// Where this bench prints its labels.
    pub printer: Option<PrinterId>,
    pub lang: Lang,
    /// Read USB scanners directly (Linux), whatever the keyboard layout, instead of
    /// (or beside) the keyboard wedge.
    pub usb_scanners: bool,
    /// Days an action the server accepted stays in the journal before it moves to the
    /// journal's archive (at the bench's next start). Waiting and refused actions stay.
    pub journal_keep_days: u32,
}

/// Accepted actions stay two weeks in the journal by default: enough to look back at a
/// fortnight's work on the bench, little enough that a start reads it in milliseconds.
pub const JOURNAL_KEEP_DAYS: u32 = 14;

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            server: String::new(),
            bench_token: String::new(),
            station: Station::default(),
            printer: None,
            lang: Lang::default(),
            usb_scanners: false,
            journal_keep_days: JOURNAL_KEEP_DAYS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a settings file: {source}")]
    Format {
        path: PathBuf,
        source: serde_json::Error,
    },
}

pub const FILE: &str = "settings.json";

impl Settings {
    /// The settings saved in `dir`, or `None` at first run.
    pub fn load(dir: &Path) -> Result<Option<Settings>, SettingsError> {
        let path = dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| SettingsError::Format { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SettingsError::Io { path, source }),
        }
    }

    /// Saves to `dir` (written beside, then renamed: a crash leaves the old file).
    pub fn save(&self, dir: &Path) -> Result<(), SettingsError> {
        let path = dir.join(FILE);
        let io = |source| SettingsError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = dir.join(format!("{FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| SettingsError::Format {
            path: path.clone(),
            source,
        })?;
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    /// Complete enough to start: a server and a token.
    pub fn is_complete(&self) -> bool {
        !self.server.trim().is_empty() && !self.bench_token.trim().is_empty()
    }
}

/// The bench's data directory: `FILIERE_BENCH_DIR`, else the user's data directory.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FILIERE_BENCH_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(d).join("filiere-bench");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".local/share/filiere-bench");
    }
    PathBuf::from("filiere-bench")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_first_run_is_none() {
        let dir = std::env::temp_dir().join(format!("filiere-settings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(Settings::load(&dir).expect("load"), None);
        let s = Settings {
            server: "http://127.0.0.1:8080".into(),
            bench_token: "tok".into(),
            station: Station::Qa,
            printer: Some(PrinterId(3)),
            lang: Lang::En,
            usb_scanners: true,
            journal_keep_days: 30,
        };
        s.save(&dir).expect("save");
        assert_eq!(Settings::load(&dir).expect("load"), Some(s));
        std::fs::write(dir.join(FILE), b"{not json").expect("write");
        assert!(matches!(
            Settings::load(&dir),
            Err(SettingsError::Format { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
