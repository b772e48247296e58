//! The `filiere` command: serve, migrate, demo, create-user.

use crate::config::Settings;
use crate::db::{self, Db, PoolSizes};
use clap::{Parser, Subcommand};
use filiere_shared::api::NewUser;
use filiere_shared::{Lang, OrgId, RegionId, Role, SiteId};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

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
        Command::Migrate => open(&settings).map(|_| println!("migrations appliquées")),
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
            println!("utilisateur #{} « {} » créé ({})", u.id, u.username, u.role);
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("erreur : {e}");
            ExitCode::FAILURE
        }
    }
}

fn open(settings: &Settings) -> Result<Db, String> {
    Db::open(
        &settings.database_url,
        PoolSizes {
            read: settings.read_pool,
            write: settings.write_pool,
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
    actix_web::rt::System::new()
        .block_on(async move { crate::run(listener, db, workers)?.await })
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
    println!(
        "Base de démonstration {} remplie en {:.1} s : {} objets, {} événements.",
        file.display(),
        started.elapsed().as_secs_f64(),
        summary.items,
        summary.events
    );
    if no_serve {
        return Ok(());
    }
    println!("\nFilière écoute sur http://{}", settings.bind);
    println!(
        "  API      http://{}/api/v1   (OpenAPI : http://{}/api/openapi.json)",
        settings.bind, settings.bind
    );
    println!(
        "\nComptes de démonstration (mot de passe : {}) :",
        crate::demo::DEMO_PASSWORD
    );
    for (user, what) in &summary.logins {
        println!("  {user:<12} {what}");
    }
    println!("\nPostes (jeton de poste → badge) :");
    for (token, what) in &summary.benches {
        println!("  {token}  {what}");
    }
    let _ = db::Backend::Sqlite;
    serve(settings, db)
}
