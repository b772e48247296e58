//! Scanner input at the bench.
//!
//! Two ways in: a keyboard-wedge scanner types into the focused window (the common
//! case), and a scanner read directly over USB (HID boot keyboard or HID point-of-sale
//! barcode scanner, usage page 0x8C), which does not depend on the PC's keyboard
//! layout. Both end in the same thing: a burst of text, then classified as a Filière
//! code, a badge, or anything else (a manufacturer serial for the focused field).

pub mod capture;
pub mod hid;
pub mod usb;
pub mod wedge;

use filiere_shared::code::{Scan, parse_scan};

/// What a finished burst of scanner input is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Burst {
    /// A Filière label or badge, captured wherever the focus is.
    Captured {
        scan: Scan,
        /// The text arrived mangled by a US-layout scanner on an AZERTY PC.
        azerty_recovered: bool,
    },
    /// Any other text (a serial number barcode): for the focused field.
    Text(String),
}

/// Classifies the text of a finished burst.
pub fn classify(text: &str) -> Burst {
    match parse_scan(text) {
        Ok(p) => Burst::Captured {
            scan: p.value,
            azerty_recovered: p.azerty_recovered,
        },
        Err(_) => Burst::Text(text.to_owned()),
    }
}

#[cfg(test)]
mod tests;
