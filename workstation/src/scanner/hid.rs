//! Decoding raw USB HID reports of scanners: pure functions over report bytes, so that
//! they are tested on recorded (or, where marked, synthetic) sequences.
//!
//! - **Boot keyboard** (8-byte reports: modifiers, reserved, six key usages): the
//!   scanner sends key usages of the HID Usage Tables' Keyboard page (0x07) for a US
//!   layout; they are mapped to characters here, whatever layout the PC uses, so the
//!   AZERTY mix-up of keyboard-wedge mode cannot happen.
//! - **Point of sale** (usage page 0x8C, "Bar Code Scanner"): the report carries the
//!   decoded bytes themselves; no key mapping at all.

/// Modifier bits of a boot keyboard report: left and right Shift.
const SHIFT: u8 = 0x02 | 0x20;
/// Left and right Ctrl, Alt, GUI: a scanner never sends those with data.
const OTHER_MODIFIERS: u8 = 0x01 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;

/// Keyboard page usage (0x07) → (unshifted, shifted) character, US layout.
fn usage_char(usage: u8, shift: bool) -> Option<char> {
    let pair = match usage {
        0x04..=0x1D => {
            let c = (b'a' + (usage - 0x04)) as char;
            (c, c.to_ascii_uppercase())
        }
        0x1E..=0x26 => {
            let d = (b'1' + (usage - 0x1E)) as char;
            let s = ['!', '@', '#', '$', '%', '^', '&', '*', '('][usize::from(usage - 0x1E)];
            (d, s)
        }
        0x27 => ('0', ')'),
        0x2C => (' ', ' '),
        0x2D => ('-', '_'),
        0x2E => ('=', '+'),
        0x2F => ('[', '{'),
        0x30 => (']', '}'),
        0x31 => ('\\', '|'),
        0x33 => (';', ':'),
        0x34 => ('\'', '"'),
        0x35 => ('`', '~'),
        0x36 => (',', '<'),
        0x37 => ('.', '>'),
        0x38 => ('/', '?'),
        // Keypad: the same with or without Shift.
        0x54 => ('/', '/'),
        0x55 => ('*', '*'),
        0x56 => ('-', '-'),
        0x57 => ('+', '+'),
        0x59..=0x61 => {
            let d = (b'1' + (usage - 0x59)) as char;
            (d, d)
        }
        0x62 => ('0', '0'),
        0x63 => ('.', '.'),
        _ => return None,
    };
    Some(if shift { pair.1 } else { pair.0 })
}

/// Usages that end a scan: Enter, keypad Enter, Tab.
fn is_terminator(usage: u8) -> bool {
    matches!(usage, 0x28 | 0x58 | 0x2B)
}

/// What a report sequence produced that is not a character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HidEvent {
    /// A finished scan (the text before Enter or Tab).
    Scan(String),
}

/// Decodes boot keyboard reports into scans. A key counts when it appears in a report
/// (a key held across reports is typed once); Shift applies to the keys pressed with it.
#[derive(Debug, Default)]
pub struct BootKeyboard {
    pressed: Vec<u8>,
    text: String,
    /// Reports that were not 8 bytes, or carried phantom states (rollover errors).
    pub rejected: usize,
}

impl BootKeyboard {
    pub fn new() -> BootKeyboard {
        BootKeyboard::default()
    }

    /// Feeds one report; returns a scan when it ends one.
    pub fn report(&mut self, r: &[u8]) -> Option<HidEvent> {
        let Some(&[modifiers, _, ref keys @ ..]) = r.get(..8) else {
            self.rejected += 1;
            return None;
        };
        // 0x01 in every slot is ErrorRollOver: the report says nothing usable.
        if keys.iter().all(|&k| k == 0x01) {
            self.rejected += 1;
            return None;
        }
        let shift = modifiers & SHIFT != 0;
        let ignore = modifiers & OTHER_MODIFIERS != 0;
        let now: Vec<u8> = keys.iter().copied().filter(|&k| k > 0x03).collect();
        let mut out = None;
        for &k in &now {
            if self.pressed.contains(&k) || ignore {
                continue;
            }
            if is_terminator(k) {
                out = Some(HidEvent::Scan(std::mem::take(&mut self.text)));
            } else if let Some(c) = usage_char(k, shift) {
                self.text.push(c);
            }
        }
        self.pressed = now;
        out
    }

    /// Feeds a sequence of reports; returns every scan they finish.
    pub fn decode<'a>(&mut self, reports: impl IntoIterator<Item = &'a [u8]>) -> Vec<String> {
        reports
            .into_iter()
            .filter_map(|r| self.report(r))
            .map(|HidEvent::Scan(s)| s)
            .collect()
    }
}

/// Where the fields sit in a HID POS scanned-data report. Devices differ in their
/// report descriptor; this is what the descriptor gives, and [`PosLayout::default`]
/// is the common 64-byte form (report id, data length, three AIM symbology bytes,
/// data, and a last byte whose low bit says "more data follows").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosLayout {
    pub report_id: u8,
    pub length_at: usize,
    pub data_at: usize,
    pub data_max: usize,
    /// Index of the byte whose low bit marks a continued scan.
    pub continued_at: usize,
}

impl Default for PosLayout {
    fn default() -> Self {
        PosLayout {
            report_id: 0x02,
            length_at: 1,
            data_at: 5,
            data_max: 56,
            continued_at: 63,
        }
    }
}

/// Decodes HID POS scanned-data reports into scans (the decoded bytes as text).
#[derive(Debug, Default)]
pub struct PosScanner {
    pub layout: PosLayout,
    data: Vec<u8>,
    /// Reports of another id, too short, or with a length beyond the data field.
    pub rejected: usize,
}

impl PosScanner {
    pub fn new(layout: PosLayout) -> PosScanner {
        PosScanner {
            layout,
            ..PosScanner::default()
        }
    }

    pub fn report(&mut self, r: &[u8]) -> Option<HidEvent> {
        let l = self.layout;
        if r.first() != Some(&l.report_id) || r.len() <= l.continued_at {
            self.rejected += 1;
            return None;
        }
        let len = usize::from(r[l.length_at]);
        if len > l.data_max {
            self.rejected += 1;
            return None;
        }
        self.data.extend_from_slice(&r[l.data_at..l.data_at + len]);
        if r[l.continued_at] & 0x01 != 0 {
            return None;
        }
        let bytes = std::mem::take(&mut self.data);
        // Scanners end the data with a suffix (CR, LF or Tab) when so configured.
        let text = String::from_utf8_lossy(&bytes)
            .trim_end_matches(['\r', '\n', '\t'])
            .to_owned();
        Some(HidEvent::Scan(text))
    }

    pub fn decode<'a>(&mut self, reports: impl IntoIterator<Item = &'a [u8]>) -> Vec<String> {
        reports
            .into_iter()
            .filter_map(|r| self.report(r))
            .map(|HidEvent::Scan(s)| s)
            .collect()
    }
}

/// Builds the boot keyboard reports a scanner sends to type `text` then Enter (press
/// and release for each character, Shift where the US layout needs it). For tests and
/// for making synthetic fixtures; `None` for a character a US keyboard cannot type.
pub fn boot_reports_for(text: &str) -> Option<Vec<[u8; 8]>> {
    let mut out = Vec::new();
    for c in text.chars() {
        let (usage, shift) = (0x04u8..=0x63)
            .flat_map(|u| [(u, false), (u, true)])
            .find(|&(u, s)| usage_char(u, s) == Some(c))?;
        let m = if shift { 0x02 } else { 0 };
        out.push([m, 0, usage, 0, 0, 0, 0, 0]);
        out.push([0; 8]);
    }
    out.push([0, 0, 0x28, 0, 0, 0, 0, 0]);
    out.push([0; 8]);
    Some(out)
}
