//! The refusal sound: a short low double beep, played through the desktop's sound
//! server (`paplay`, else ALSA's `aplay`) on a thread of its own, so that a refusal is
//! heard by a technician looking at the machine, not the screen.

use std::path::{Path, PathBuf};

/// A WAV file (16-bit mono PCM, 16 kHz): two 120 ms tones at 440 Hz, 60 ms apart.
pub fn refusal_wav() -> Vec<u8> {
    const RATE: u32 = 16_000;
    let mut samples: Vec<i16> = Vec::new();
    let tone = |samples: &mut Vec<i16>, ms: u32, hz: f64| {
        let n = RATE * ms / 1000;
        for i in 0..n {
            let t = f64::from(i) / f64::from(RATE);
            // A short fade in and out: no click.
            let edge = (f64::from(i.min(n - i)) / 160.0).min(1.0);
            let v = (t * hz * std::f64::consts::TAU).sin() * edge * 0.6;
            samples.push((v * f64::from(i16::MAX)) as i16);
        }
    };
    let silence = |samples: &mut Vec<i16>, ms: u32| {
        samples.extend(std::iter::repeat_n(0, (RATE * ms / 1000) as usize));
    };
    tone(&mut samples, 120, 440.0);
    silence(&mut samples, 60);
    tone(&mut samples, 120, 440.0);
    let data_len = (samples.len() * 2) as u32;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&RATE.to_le_bytes());
    w.extend_from_slice(&(RATE * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

/// Plays the refusal sound in the background; falls back to the terminal bell.
pub fn play_refusal(dir: &Path) {
    let path: PathBuf = dir.join("refus.wav");
    if !path.exists() && std::fs::write(&path, refusal_wav()).is_err() {
        eprint!("\x07");
        return;
    }
    std::thread::spawn(move || {
        let played = ["paplay", "aplay"].iter().any(|player| {
            let mut cmd = std::process::Command::new(player);
            if *player == "aplay" {
                cmd.arg("-q");
            }
            cmd.arg(&path)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        if !played {
            eprint!("\x07");
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_sound_is_a_well_formed_wav() {
        let w = super::refusal_wav();
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(&w[8..16], b"WAVEfmt ");
        let riff = u32::from_le_bytes([w[4], w[5], w[6], w[7]]) as usize;
        assert_eq!(riff + 8, w.len());
        let data = u32::from_le_bytes([w[40], w[41], w[42], w[43]]) as usize;
        // 300 ms at 16 kHz, 2 bytes a sample.
        assert_eq!(data, 16_000 * 300 / 1000 * 2);
        assert!(w[44..].iter().any(|b| *b != 0));
    }
}
