//! Filière bench app: `filiere-bench [--dir DIR]`. Settings, journal and the bench's
//! reserved codes live in DIR (default: `FILIERE_BENCH_DIR`, else
//! `~/.local/share/filiere-bench`).

use eframe::egui;
use filiere_workstation::app::BenchApp;
use filiere_workstation::settings;

fn main() -> eframe::Result {
    let mut args = std::env::args().skip(1);
    let mut dir = settings::default_dir();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => match args.next() {
                Some(d) => dir = d.into(),
                None => {
                    eprintln!("--dir needs a directory");
                    std::process::exit(2);
                }
            },
            "--help" | "-h" => {
                println!("filiere-bench [--dir DIR]");
                return Ok(());
            }
            other => {
                eprintln!("unknown argument {other} (filiere-bench [--dir DIR])");
                std::process::exit(2);
            }
        }
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Filière — poste d'atelier")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Filière",
        options,
        Box::new(move |cc| Ok(Box::new(BenchApp::new(&cc.egui_ctx, dir)))),
    )
}
