//! Filière bench app: the bench's state, its journal and network side, its scanner
//! input and its screens. `filiere-bench` (src/main.rs) only starts the window.

pub mod app;
pub mod bench;
pub mod journal;
pub mod net;
pub use filiere_shared::nwipe;
pub mod scanner;
pub mod settings;
pub mod sound;
pub mod sync;

use filiere_shared::Lang;

/// The text for `lang`: French first, English available.
pub fn tr(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}
