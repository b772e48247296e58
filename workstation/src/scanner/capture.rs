//! Catching keyboard-wedge scans in the window's input, before any widget sees it.
//!
//! Characters are held back while they come in a burst. A burst ended by Enter that
//! parses as a code, a label URL or a badge is taken out of the input, wherever the
//! focus is; anything else (a person typing, a serial-number barcode) is given back to
//! the input unchanged, at most [`WedgeDetector::max_gap_ms`] later.

use super::Burst;
use super::wedge::WedgeDetector;
use eframe::egui::{Event, Key};

/// Holds and classifies keyboard input, frame by frame.
#[derive(Debug, Default)]
pub struct ScanCapture {
    detector: WedgeDetector,
    held: Vec<Event>,
    /// Events for the next frame (after a click that followed held keys).
    deferred: Vec<Event>,
    last_ms: u64,
}

/// Keys that type a character: held with their text so that a captured scan does not
/// also trigger a shortcut.
fn types_text(key: Key) -> bool {
    !matches!(
        key,
        Key::Escape
            | Key::Tab
            | Key::Backspace
            | Key::Delete
            | Key::Insert
            | Key::Home
            | Key::End
            | Key::PageUp
            | Key::PageDown
            | Key::ArrowDown
            | Key::ArrowLeft
            | Key::ArrowRight
            | Key::ArrowUp
            | Key::F1
            | Key::F2
            | Key::F3
            | Key::F4
            | Key::F5
            | Key::F6
            | Key::F7
            | Key::F8
            | Key::F9
            | Key::F10
            | Key::F11
            | Key::F12
    )
}

/// Ctrl, Alt or Command held: a shortcut, never scanner text.
fn shortcut(m: &eframe::egui::Modifiers) -> bool {
    m.ctrl || m.alt || m.command || m.mac_cmd
}

impl ScanCapture {
    /// Takes this frame's `events` at `now_ms`; returns the scans captured. Events not
    /// part of a scan stay in `events` (possibly a frame late).
    pub fn process(&mut self, events: &mut Vec<Event>, now_ms: u64) -> Vec<Burst> {
        let mut out = Vec::new();
        let mut pass = Vec::with_capacity(events.len());
        let mut incoming = std::mem::take(&mut self.deferred);
        incoming.append(events);
        let mut rest = incoming.into_iter();
        while let Some(ev) = rest.next() {
            match &ev {
                Event::Text(t) => {
                    for c in t.chars() {
                        self.detector.char(c, now_ms);
                    }
                    self.last_ms = now_ms;
                    self.held.push(ev);
                }
                Event::Key {
                    key: Key::Enter,
                    pressed: true,
                    modifiers,
                    ..
                } if !modifiers.ctrl && !modifiers.alt => {
                    if self.held.is_empty() {
                        pass.push(ev);
                        continue;
                    }
                    match self.detector.enter(now_ms) {
                        Some(Burst::Captured {
                            scan,
                            azerty_recovered,
                        }) => {
                            self.held.clear();
                            out.push(Burst::Captured {
                                scan,
                                azerty_recovered,
                            });
                        }
                        _ => {
                            pass.append(&mut self.held);
                            pass.push(ev);
                        }
                    }
                }
                Event::Key {
                    key: Key::Enter,
                    pressed: false,
                    ..
                } => {
                    if !self.held.is_empty() {
                        self.held.push(ev);
                    }
                    // The release of a captured scan's Enter is dropped with it.
                }
                Event::Key { key, modifiers, .. }
                    if !self.held.is_empty() || (types_text(*key) && !shortcut(modifiers)) =>
                {
                    if types_text(*key) && !shortcut(modifiers) {
                        self.held.push(ev);
                    } else {
                        // A control key ends any burst: what was held goes first.
                        pass.append(&mut self.held);
                        pass.push(ev);
                    }
                }
                Event::PointerButton { .. } | Event::Paste(_) | Event::Copy | Event::Cut
                    if !self.held.is_empty() =>
                {
                    // A click or a paste may move the focus: what was typed before it
                    // goes in this frame, where it was typed; the click and what
                    // follows it, in the next frame.
                    pass.append(&mut self.held);
                    self.detector.reset();
                    self.deferred.push(ev);
                    self.deferred.extend(rest.by_ref());
                }
                _ => pass.push(ev),
            }
        }
        // Too slow for a scanner: a person typing; give the keys back.
        if !self.held.is_empty() && now_ms.saturating_sub(self.last_ms) > self.detector.max_gap_ms {
            pass.append(&mut self.held);
            self.detector.reset();
        }
        *events = pass;
        out
    }

    /// Keys are held back (or events deferred) and the screen must look again this
    /// many milliseconds later.
    pub fn holding(&self) -> Option<u64> {
        if !self.deferred.is_empty() {
            Some(0)
        } else {
            (!self.held.is_empty()).then_some(self.detector.max_gap_ms + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eframe::egui::Modifiers;
    use filiere_shared::code::Scan;

    fn typed(text: &str) -> Vec<Event> {
        let mut v = Vec::new();
        for c in text.chars() {
            v.push(Event::Text(c.to_string()));
        }
        v.push(Event::Key {
            key: Key::Enter,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers: Modifiers::NONE,
        });
        v
    }

    #[test]
    fn a_scanned_code_is_taken_out_of_the_input() {
        let mut c = ScanCapture::default();
        let mut ev = typed("HTTPS://FILIERE.TEST/I/7MT00014");
        let scans = c.process(&mut ev, 1000);
        assert!(ev.is_empty(), "nothing left for the focused field: {ev:?}");
        assert!(matches!(
            scans.as_slice(),
            [Burst::Captured {
                scan: Scan::Label(_),
                ..
            }]
        ));
    }

    #[test]
    fn a_serial_number_barcode_goes_to_the_focused_field() {
        let mut c = ScanCapture::default();
        let mut ev = typed("5CG7301XYZ");
        let scans = c.process(&mut ev, 1000);
        assert!(scans.is_empty());
        let text: String = ev
            .iter()
            .filter_map(|e| match e {
                Event::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "5CG7301XYZ");
        assert!(matches!(
            ev.last(),
            Some(Event::Key {
                key: Key::Enter,
                ..
            })
        ));
    }

    #[test]
    fn a_click_after_fast_typing_comes_after_the_text() {
        let mut c = ScanCapture::default();
        let mut ev = vec![
            Event::Text("http://x".into()),
            Event::PointerButton {
                pos: Default::default(),
                button: eframe::egui::PointerButton::Primary,
                pressed: true,
                modifiers: Modifiers::NONE,
            },
        ];
        assert!(c.process(&mut ev, 1000).is_empty());
        assert!(matches!(ev.as_slice(), [Event::Text(t)] if t == "http://x"));
        assert_eq!(c.holding(), Some(0), "the click waits for the next frame");
        let mut next = Vec::new();
        c.process(&mut next, 1001);
        assert!(matches!(next.as_slice(), [Event::PointerButton { .. }]));
        assert!(c.holding().is_none());
    }

    #[test]
    fn typing_is_given_back_after_the_gap() {
        let mut c = ScanCapture::default();
        let mut ev = vec![Event::Text("a".into())];
        assert!(c.process(&mut ev, 1000).is_empty());
        assert!(ev.is_empty(), "held while a burst may be starting");
        assert!(c.holding().is_some());
        let mut later = Vec::new();
        c.process(&mut later, 1100);
        assert_eq!(later, vec![Event::Text("a".into())]);
        assert!(c.holding().is_none());
    }
}
