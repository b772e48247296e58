//! The `filiere` command: serve, migrate, demo, create-user.

use crate::config::Settings;
use crate::db::{self, Db, PoolSizes};
use clap::{Parser, Subcommand};
use diesel::Connection;
use filiere_shared::api::{LabelFormat, LabelRequest, LabelSource, NewUser, PrintRequest};
use filiere_shared::{
    BenchId, ItemId, LabelBatchId, Lang, OrgId, PrinterId, RegionId, Role, SiteId,
};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

/// Prints a line to standard output; a reader that went away (`| head`) is no reason
/// to fail a command whose work is already done.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

#[derive(Parser)]
#[command(
    name = "filiere",
    version,
    about = "Filière — traçabilité du réemploi informatique"
)]
struct Cli {
    /// Configuration file (default: ./filiere.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL (overrides the configuration).
    #[arg(long, global = true, env = "DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server.
    Serve {
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Create a demo database from fixtures/ and serve it.
    Demo {
        /// The demo SQLite file (recreated from scratch).
        #[arg(long, default_value = "filiere-demo.sqlite")]
        file: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Fill the database and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Copy the whole database into a new file, while the server runs (SQLite:
    /// a consistent copy; PostgreSQL: pg_dump's custom format).
    Backup {
        /// The backup file to write (must not exist yet).
        file: PathBuf,
    },
    /// Replace the whole database with a backup. Stop the server first.
    Restore {
        /// A file written by `filiere backup`.
        file: PathBuf,
    },
    /// Create a user (the first admin, typically).
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read from FILIERE_PASSWORD when not given.
        #[arg(long, env = "FILIERE_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long)]
        badge: Option<String>,
        #[arg(long)]
        site: Option<i64>,
        #[arg(long)]
        region: Option<i64>,
        #[arg(long)]
        organisation: Option<i64>,
        #[arg(long, default_value = "fr")]
        language: String,
    },
    /// Label codes, label files and printing, as a named user (same rights as on
    /// the API).
    Labels {
        /// The user acting (username).
        #[arg(long = "as", value_name = "USERNAME")]
        user: String,
        #[command(subcommand)]
        action: LabelsCommand,
    },
}

/// Which labels: a batch, codes, or items.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct Source {
    /// Every code of a label batch.
    #[arg(long)]
    batch: Option<i64>,
    /// Codes, separated by commas.
    #[arg(long, value_delimiter = ',')]
    codes: Vec<String>,
    /// Item ids, separated by commas.
    #[arg(long, value_delimiter = ',')]
    items: Vec<i64>,
}

impl Source {
    fn into_source(self) -> LabelSource {
        if let Some(b) = self.batch {
            LabelSource::Batch(LabelBatchId(b))
        } else if !self.codes.is_empty() {
            LabelSource::Codes(self.codes)
        } else {
            LabelSource::Items(self.items.into_iter().map(ItemId).collect())
        }
    }
}

#[derive(Subcommand)]
enum LabelsCommand {
    /// Allocate fresh codes to a site (or to one of its benches).
    Allocate {
        #[arg(long)]
        site: i64,
        #[arg(long)]
        count: i32,
        #[arg(long)]
        bench: Option<i64>,
    },
    /// Write labels to a file (PDF sheets, ZPL, or one label as SVG or PNG).
    Render {
        #[command(flatten)]
        source: Source,
        #[arg(long, default_value = "intake")]
        template: String,
        /// pdf, zpl, svg or png.
        #[arg(long, default_value = "pdf", value_parser = parse_format)]
        format: LabelFormat,
        /// L7160, L7163 or L7651 (PDF).
        #[arg(long)]
        sheet: Option<String>,
        /// First free slot of the first sheet (PDF).
        #[arg(long)]
        start_slot: Option<u32>,
        /// 50x25 or 38x25 (ZPL, SVG, PNG).
        #[arg(long)]
        media: Option<String>,
        /// 203 or 300 (ZPL); the PNG resolution.
        #[arg(long)]
        dpi: Option<u32>,
        /// Do not count this as a print.
        #[arg(long)]
        preview: bool,
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Send labels to a configured printer.
    Print {
        #[arg(long)]
        printer: i64,
        #[command(flatten)]
        source: Source,
        #[arg(long, default_value = "intake")]
        template: String,
        #[arg(long)]
        start_slot: Option<u32>,
    },
    /// List the printers the user may use.
    Printers,
}

fn parse_format(s: &str) -> Result<LabelFormat, String> {
    serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase()))
        .map_err(|_| "pdf, zpl, svg ou png".to_owned())
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: filiere_shared::domain::UnknownVariant| e.to_string())
}

pub fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("configuration invalide : {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(url) = cli.database_url {
        settings.database_url = url;
    }
    init_tracing(&settings.log_format);
    let result = match cli.command {
        Command::Serve { bind } => {
            if let Some(b) = bind {
                settings.bind = b;
            }
            open(&settings).and_then(|db| serve(&settings, db))
        }
        Command::Migrate => open(&settings).map(|_| out!("migrations appliquées")),
        Command::Backup { file } => crate::backup::backup(&settings.database_url, &file)
            .map(|s| {
                out!(
                    "Sauvegarde écrite dans {} : {} lignes dans {} tables, {} octets.",
                    file.display(),
                    s.rows(),
                    s.tables.len(),
                    s.bytes
                )
            })
            .map_err(|e| e.to_string()),
        Command::Restore { file } => crate::backup::restore(&settings.database_url, &file)
            .and_then(|s| {
                // The restored database is opened as the server would (migrations of a
                // newer version applied).
                open(&settings).map_err(crate::backup::BackupError::Opened)?;
                Ok(s)
            })
            .map(|s| {
                out!(
                    "Base restaurée depuis {} : {} lignes dans {} tables.",
                    file.display(),
                    s.rows(),
                    s.tables.len()
                )
            })
            .map_err(|e| e.to_string()),
        Command::Demo {
            file,
            bind,
            no_serve,
        } => demo(&mut settings, file, bind, no_serve),
        Command::CreateUser {
            username,
            display_name,
            role,
            password,
            badge,
            site,
            region,
            organisation,
            language,
        } => open(&settings).and_then(|db| {
            let new = NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                role,
                password,
                badge,
                site: site.map(SiteId),
                region: region.map(RegionId),
                organisation: organisation.map(OrgId),
                language: Lang::parse(&language).unwrap_or_default(),
            };
            let mut conn = db.write.get().map_err(|e| e.to_string())?;
            let u = crate::service::admin::create_user(&mut conn, None, &new)
                .map_err(|e| e.body().message)?;
            out!("utilisateur #{} « {} » créé ({})", u.id, u.username, u.role);
            Ok(())
        }),
        Command::Labels { user, action } => {
            open(&settings).and_then(|db| labels(&settings, &db, &user, action))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("erreur : {e}");
            ExitCode::FAILURE
        }
    }
}

/// `filiere labels …`: the API's label operations, run on the database directly.
fn labels(settings: &Settings, db: &Db, user: &str, action: LabelsCommand) -> Result<(), String> {
    use crate::service::labels as svc;
    let msg = |e: crate::error::ApiError| e.body().message;
    let mut conn = db.write.get().map_err(|e| e.to_string())?;
    let actor = crate::auth::actor_for_user(&mut conn, user)
        .map_err(msg)?
        .ok_or_else(|| format!("utilisateur « {user} » inconnu ou désactivé"))?;
    let label_settings = settings.labels();
    match action {
        LabelsCommand::Allocate { site, count, bench } => {
            let req = filiere_shared::api::NewLabelBatch {
                site: SiteId(site),
                count,
                bench: bench.map(BenchId),
            };
            let batch = conn
                .transaction(|c| svc::allocate(c, &actor, &req))
                .map_err(msg)?;
            out!(
                "lot d'étiquettes #{} : {} codes pour le site {}",
                batch.id,
                batch.count,
                batch.site
            );
            for c in &batch.codes {
                out!("{}", c.hyphenated());
            }
            Ok(())
        }
        LabelsCommand::Render {
            source,
            template,
            format,
            sheet,
            start_slot,
            media,
            dpi,
            preview,
            out,
        } => {
            let sheet = match sheet {
                Some(s) => Some(
                    filiere_shared::label::SheetKind::parse(&s)
                        .ok_or_else(|| format!("planche inconnue « {s} » (L7160, L7163, L7651)"))?,
                ),
                None => None,
            };
            let req = LabelRequest {
                source: source.into_source(),
                template,
                format,
                sheet,
                start_slot,
                media,
                dpi,
                lang: None,
                preview,
            };
            let rendered = svc::render(&mut conn, &actor, &req, &label_settings).map_err(msg)?;
            std::fs::write(&out, &rendered.bytes)
                .map_err(|e| format!("impossible d'écrire {} : {e}", out.display()))?;
            if !preview {
                conn.transaction(|c| svc::record_prints(c, &rendered.codes))
                    .map_err(msg)?;
            }
            out!(
                "{} étiquette(s) écrite(s) dans {} ({} octets)",
                rendered.codes.len(),
                out.display(),
                rendered.bytes.len()
            );
            warn_reprints(&rendered.reprinted);
            Ok(())
        }
        LabelsCommand::Print {
            printer,
            source,
            template,
            start_slot,
        } => {
            let p = svc::usable_printer(&mut conn, &actor, PrinterId(printer)).map_err(msg)?;
            let req = PrintRequest {
                printer: p.id,
                source: source.into_source(),
                template,
                start_slot,
                lang: None,
            };
            let rendered = svc::render(
                &mut conn,
                &actor,
                &svc::print_request(&p, &req),
                &label_settings,
            )
            .map_err(msg)?;
            let sent = crate::printing::send(p.kind, &p.address, &rendered.bytes, &label_settings);
            match sent {
                Ok(job) => {
                    conn.transaction(|c| svc::record_prints(c, &rendered.codes))
                        .map_err(msg)?;
                    out!(
                        "{} étiquette(s) envoyée(s) à « {} »{}",
                        rendered.codes.len(),
                        p.name,
                        job.map(|j| format!(" (travail {j})")).unwrap_or_default()
                    );
                    warn_reprints(&rendered.reprinted);
                    Ok(())
                }
                Err(e) => Err(format!(
                    "rien n'a été imprimé ni compté sur « {} » ({e}) ; vérifiez l'imprimante puis relancez la même commande",
                    p.name
                )),
            }
        }
        LabelsCommand::Printers => {
            for p in svc::list_printers(&mut conn, &actor, None).map_err(msg)? {
                out!(
                    "#{:<4} {:<24} {:<5} {:<24} {}{}",
                    p.id,
                    p.name,
                    p.kind.as_str(),
                    p.address,
                    p.media,
                    p.dpi.map(|d| format!(" {d} dpi")).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

fn warn_reprints(codes: &[filiere_shared::LabelCode]) {
    if !codes.is_empty() {
        let list: Vec<String> = codes.iter().map(|c| c.hyphenated()).collect();
        eprintln!(
            "attention : ces codes vierges avaient déjà été imprimés ; vérifiez qu'aucune ancienne étiquette n'est collée ailleurs : {}",
            list.join(", ")
        );
    }
}

fn open(settings: &Settings) -> Result<Db, String> {
    Db::open(
        &settings.database_url,
        PoolSizes {
            read: settings.read_pool,
            write: settings.write_pool,
            sqlite_cache_mb: settings.sqlite_cache_mb,
        },
    )
    .map_err(|e| e.to_string())
}

fn serve(settings: &Settings, db: Db) -> Result<(), String> {
    let listener = TcpListener::bind(&settings.bind)
        .map_err(|e| format!("impossible d'écouter sur {} : {e}", settings.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, backend = db.backend.name(), "Filière listening");
    let workers = settings.workers();
    let labels = settings.labels();
    let web = settings.web()?;
    // Metrics on their own address; one already taken (another process on this
    // machine) is said, and the server goes on without them.
    let metrics = match settings.metrics_bind.trim() {
        "" => None,
        addr => match TcpListener::bind(addr) {
            Ok(l) => {
                tracing::info!(%addr, "metrics at http://{addr}/metrics");
                Some(l)
            }
            Err(e) => {
                tracing::warn!(%addr, error = %e, "metrics not served: cannot listen there (metrics_bind)");
                None
            }
        },
    };
    actix_web::rt::System::new()
        .block_on(async move {
            if let Some(l) = metrics {
                actix_web::rt::spawn(crate::metrics::serve(l, db.clone())?);
            }
            crate::run_with(listener, db, labels, web, workers)?.await
        })
        .map_err(|e| e.to_string())
}

fn demo(
    settings: &mut Settings,
    file: PathBuf,
    bind: String,
    no_serve: bool,
) -> Result<(), String> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = file.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    settings.database_url = format!("sqlite://{}", file.display());
    settings.bind = bind;
    let db = open(settings)?;
    let started = std::time::Instant::now();
    let summary = {
        let mut conn = db.write.get().map_err(|e| e.to_string())?;
        crate::demo::load(&mut conn, &crate::demo::fixtures_dir()).map_err(|e| e.to_string())?
    };
    out!(
        "Base de démonstration {} remplie en {:.1} s : {} objets, {} événements, {} bénéficiaires, {} réservations, {} sessions de formation, {} factures et avoirs.",
        file.display(),
        started.elapsed().as_secs_f64(),
        summary.items,
        summary.events,
        summary.beneficiaries,
        summary.reservations,
        summary.sessions,
        summary.sales
    );
    if no_serve {
        return Ok(());
    }
    out!("\nFilière écoute sur http://{}", settings.bind);
    out!(
        "  Pages    http://{}/   (travail social : sophie ; coordination : claire)",
        settings.bind
    );
    out!(
        "  API      http://{}/api/v1   (OpenAPI : http://{}/api/openapi.json)",
        settings.bind,
        settings.bind
    );
    out!(
        "\nComptes de démonstration (mot de passe : {}) :",
        crate::demo::DEMO_PASSWORD
    );
    for (user, what) in &summary.logins {
        out!("  {user:<12} {what}");
    }
    out!("\nPostes (jeton de poste → badge) :");
    for (token, what) in &summary.benches {
        out!("  {token}  {what}");
    }
    let _ = db::Backend::Sqlite;
    serve(settings, db)
}
