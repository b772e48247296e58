//! Backup and restore of the whole database, for an association's volunteer admin.
//!
//! - SQLite: `VACUUM INTO`, a consistent copy of the live database taken inside one
//!   read transaction, while the server goes on serving (writers are not held up: the
//!   write-ahead log keeps their commits apart from the copy). The copy is checked
//!   (`PRAGMA integrity_check`) and its rows counted.
//! - PostgreSQL: `pg_dump --format=custom`, itself one consistent snapshot, restored
//!   with `pg_restore --clean --single-transaction`: the database is either the
//!   backup's or left as it was.
//!
//! Restoring replaces everything in the database named by the settings; the server
//! must be stopped first (an SQLite file is replaced whole).

use crate::db::{self, Backend, DbConnection};
use diesel::connection::SimpleConnection;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("la destination {0} existe déjà : choisissez un nouveau fichier")]
    Exists(PathBuf),
    #[error("fichier de sauvegarde introuvable : {0}")]
    Missing(PathBuf),
    #[error("base de données : {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("base de données : {0}")]
    Query(#[from] diesel::result::Error),
    #[error("{0} n'est pas une sauvegarde de Filière lisible : {1}")]
    NotABackup(PathBuf, String),
    #[error("{tool} n'a pas pu être lancé ({error}) : installez les outils clients de PostgreSQL")]
    Tool { tool: &'static str, error: String },
    #[error("{tool} a échoué : {stderr}")]
    ToolFailed { tool: &'static str, stderr: String },
    #[error("la base restaurée ne s'ouvre pas : {0}")]
    Opened(String),
    #[error("fichier : {0}")]
    Io(#[from] std::io::Error),
}

/// What a backup or a restore did: rows per table, and the file's size.
#[derive(Debug, Clone)]
pub struct Summary {
    pub tables: Vec<(String, i64)>,
    pub bytes: u64,
}

impl Summary {
    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Opens an SQLite backup file and checks that it is a whole Filière database: its
/// integrity, and the tables of the schema.
fn check_sqlite_file(path: &Path) -> Result<Vec<(String, i64)>, BackupError> {
    let not = |e: String| BackupError::NotABackup(path.to_owned(), e);
    if !path.is_file() {
        return Err(BackupError::Missing(path.to_owned()));
    }
    let mut conn =
        db::connect(&format!("sqlite://{}", path.display())).map_err(|e| not(e.to_string()))?;
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    use diesel::RunQueryDsl;
    let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|e| not(e.to_string()))?;
    match check.first() {
        Some(c) if c.integrity_check == "ok" => {}
        Some(c) => return Err(not(c.integrity_check.clone())),
        None => return Err(not("integrity_check".into())),
    }
    db::row_counts(&mut conn).map_err(|e| not(e.to_string()))
}

/// Copies the database of `url` into the new file `dest`, while it serves.
pub fn backup(url: &str, dest: &Path) -> Result<Summary, BackupError> {
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_owned()));
    }
    match Backend::of_url(url) {
        Backend::Sqlite => {
            let mut conn = db::connect(url)?;
            db::apply_pragmas(&mut conn)?;
            let dest_text = dest.to_str().ok_or_else(|| {
                BackupError::NotABackup(dest.to_owned(), "chemin illisible".into())
            })?;
            conn.batch_execute(&format!("VACUUM INTO {}", sql_string(dest_text)))?;
            let tables = check_sqlite_file(dest)?;
            Ok(Summary {
                tables,
                bytes: std::fs::metadata(dest)?.len(),
            })
        }
        Backend::Postgres => {
            let mut conn = db::connect(url)?;
            let tables = db::row_counts(&mut conn)?;
            run(
                "pg_dump",
                Command::new("pg_dump")
                    .arg("--format=custom")
                    .arg("--no-owner")
                    .arg("--no-privileges")
                    .arg("--file")
                    .arg(dest)
                    .arg(url),
            )?;
            Ok(Summary {
                tables,
                bytes: std::fs::metadata(dest)?.len(),
            })
        }
    }
}

fn run(tool: &'static str, cmd: &mut Command) -> Result<(), BackupError> {
    let out = cmd.output().map_err(|e| BackupError::Tool {
        tool,
        error: e.to_string(),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BackupError::ToolFailed {
            tool,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// Replaces the database of `url` with the backup `file`. The server must be stopped.
pub fn restore(url: &str, file: &Path) -> Result<Summary, BackupError> {
    if !file.is_file() {
        return Err(BackupError::Missing(file.to_owned()));
    }
    let bytes = std::fs::metadata(file)?.len();
    match Backend::of_url(url) {
        Backend::Sqlite => {
            let tables = check_sqlite_file(file)?;
            let target = PathBuf::from(sqlite_path(url));
            // Copied beside the database, then renamed over it: a restore cut short
            // leaves the old database whole.
            let mut staging = target.clone().into_os_string();
            staging.push(".restoring");
            let staging = PathBuf::from(staging);
            std::fs::copy(file, &staging)?;
            for suffix in ["-wal", "-shm"] {
                let mut p = target.clone().into_os_string();
                p.push(suffix);
                match std::fs::remove_file(PathBuf::from(p)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
            std::fs::rename(&staging, &target)?;
            Ok(Summary { tables, bytes })
        }
        Backend::Postgres => {
            run(
                "pg_restore",
                Command::new("pg_restore")
                    .arg("--clean")
                    .arg("--if-exists")
                    .arg("--no-owner")
                    .arg("--no-privileges")
                    .arg("--single-transaction")
                    .arg("--exit-on-error")
                    .arg("--dbname")
                    .arg(url)
                    .arg(file),
            )?;
            let mut conn: DbConnection = db::connect(url)?;
            Ok(Summary {
                tables: db::row_counts(&mut conn)?,
                bytes,
            })
        }
    }
}
