//! Keyboard-wedge scanners type like a keyboard, but a burst of characters a few
//! milliseconds apart, ended by Enter; a person types slower. The detector watches
//! the keys the window receives and says when a burst was a scan.

use super::{Burst, classify};

/// Tells scanner bursts from typing.
#[derive(Debug, Clone)]
pub struct WedgeDetector {
    buf: String,
    last_ms: Option<u64>,
    /// Longest pause between two characters of one scan.
    pub max_gap_ms: u64,
    /// Shortest scan.
    pub min_len: usize,
}

impl Default for WedgeDetector {
    fn default() -> Self {
        WedgeDetector {
            buf: String::new(),
            last_ms: None,
            max_gap_ms: 50,
            min_len: 4,
        }
    }
}

impl WedgeDetector {
    /// A character arrived at `at_ms` (a monotonic clock in milliseconds).
    pub fn char(&mut self, c: char, at_ms: u64) {
        if self
            .last_ms
            .is_some_and(|t| at_ms.saturating_sub(t) > self.max_gap_ms)
        {
            // Too slow for a scanner: a person typing; start again from here.
            self.buf.clear();
        }
        self.buf.push(c);
        self.last_ms = Some(at_ms);
    }

    /// Forgets a burst in progress.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.last_ms = None;
    }

    /// Enter arrived at `at_ms`: the burst before it, if it was a scan.
    pub fn enter(&mut self, at_ms: u64) -> Option<Burst> {
        let fast = self
            .last_ms
            .is_some_and(|t| at_ms.saturating_sub(t) <= self.max_gap_ms);
        let text = std::mem::take(&mut self.buf);
        self.last_ms = None;
        (fast && text.chars().count() >= self.min_len).then(|| classify(&text))
    }
}
