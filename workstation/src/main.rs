//! Filière bench app. The stations come next; for now a window that shows the app is
//! installed and speaks French first.

use eframe::egui;

struct BenchApp;

impl eframe::App for BenchApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("Filière — poste d'atelier");
            ui.label("Les postes (réception, effacement, démontage, test) arrivent bientôt.");
        });
    }
}

fn main() -> eframe::Result {
    let options = eframe::NativeOptions::default();
    eframe::run_native("Filière", options, Box::new(|_cc| Ok(Box::new(BenchApp))))
}
