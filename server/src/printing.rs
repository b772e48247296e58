//! Sending labels to printers: ZPL on raw TCP (port 9100) and PDF to CUPS with `lp`.
//! A printer that cannot be reached is retried a few times, then reported; the
//! caller counts labels as printed only once the printer took them.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Label settings of the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelSettings {
    /// Host printed in label URLs (`HTTPS://HOST/I/CODE`); without it, the bare code.
    pub public_host: Option<String>,
    /// The CUPS client command.
    pub lp_command: String,
    /// Connection attempts to a network printer before giving up.
    pub attempts: u32,
    /// Timeout of each connection attempt and of the send, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for LabelSettings {
    fn default() -> Self {
        LabelSettings {
            public_host: None,
            lp_command: "lp".into(),
            attempts: 3,
            timeout_ms: 3000,
        }
    }
}

/// Why a print did not go out.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// Nothing was sent: the printer could not be reached.
    #[error("cannot reach the printer at {address}: {cause}")]
    Unreachable { address: String, cause: String },
    /// The printer or the spooler refused the job, or the connection broke during
    /// the send.
    #[error("the print failed: {0}")]
    Failed(String),
}

/// `host:port`, with port 9100 when none is given.
pub fn zpl_address(address: &str) -> String {
    let a = address.trim();
    let has_port = match a.rsplit_once(':') {
        Some((host, port)) => !host.ends_with(':') && port.parse::<u16>().is_ok(),
        None => false,
    };
    if has_port {
        a.to_owned()
    } else {
        format!("{a}:9100")
    }
}

/// Sends raw bytes to a network printer (raw TCP, "JetDirect"), retrying the
/// connection with a growing pause. A failure after connecting is not retried, so
/// that a job is never printed twice.
pub fn send_raw_tcp(
    address: &str,
    bytes: &[u8],
    settings: &LabelSettings,
) -> Result<(), PrintError> {
    let address = zpl_address(address);
    let timeout = Duration::from_millis(settings.timeout_ms.max(100));
    let unreachable = |cause: String| PrintError::Unreachable {
        address: address.clone(),
        cause,
    };
    let addrs: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| unreachable(e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(unreachable("no address".into()));
    }
    let mut last = String::new();
    for attempt in 0..settings.attempts.max(1) {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(200 << attempt.min(4)));
        }
        for a in &addrs {
            match TcpStream::connect_timeout(a, timeout) {
                Ok(mut stream) => {
                    let sent = stream
                        .set_write_timeout(Some(timeout))
                        .and_then(|()| stream.write_all(bytes))
                        .and_then(|()| stream.flush())
                        .and_then(|()| stream.shutdown(std::net::Shutdown::Write));
                    return sent.map_err(|e| PrintError::Failed(e.to_string()));
                }
                Err(e) => last = e.to_string(),
            }
        }
        tracing::warn!(%address, attempt, error = %last, "printer not reachable");
    }
    Err(unreachable(last))
}

/// Sends rendered labels to a printer: ZPL on raw TCP, or a PDF to its CUPS queue.
/// Returns the CUPS job id, if any.
pub fn send(
    kind: filiere_shared::api::PrinterKind,
    address: &str,
    bytes: &[u8],
    settings: &LabelSettings,
) -> Result<Option<String>, PrintError> {
    match kind {
        filiere_shared::api::PrinterKind::Zpl => {
            send_raw_tcp(address, bytes, settings).map(|()| None)
        }
        filiere_shared::api::PrinterKind::Cups => send_cups(address, bytes, settings).map(Some),
    }
}

/// Sends a PDF to a CUPS queue with `lp`, at 100 % scale; returns the job id.
pub fn send_cups(queue: &str, pdf: &[u8], settings: &LabelSettings) -> Result<String, PrintError> {
    let mut child = Command::new(&settings.lp_command)
        .args([
            "-d",
            queue,
            "-o",
            "print-scaling=none",
            "-o",
            "media=A4",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| PrintError::Unreachable {
            address: queue.to_owned(),
            cause: format!("cannot run {}: {e}", settings.lp_command),
        })?;
    // A spooler that refuses the job may exit before reading it all: its own
    // message says more than the broken pipe, so the write error waits.
    let written = match child.stdin.take() {
        Some(mut stdin) => stdin.write_all(pdf),
        None => Ok(()),
    };
    let out = child
        .wait_with_output()
        .map_err(|e| PrintError::Failed(e.to_string()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if let (true, Err(e)) = (out.status.success(), &written) {
        return Err(PrintError::Failed(format!(
            "the job was not sent whole: {e}"
        )));
    }
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(PrintError::Failed(format!(
            "{} exited with {}: {stderr}",
            settings.lp_command, out.status
        )));
    }
    // "request id is QUEUE-12 (1 file(s))"
    Ok(stdout
        .strip_prefix("request id is ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or(&stdout)
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_default_to_port_9100() {
        assert_eq!(zpl_address("10.0.0.5"), "10.0.0.5:9100");
        assert_eq!(zpl_address("zebra.local:6101"), "zebra.local:6101");
        assert_eq!(zpl_address(" zebra "), "zebra:9100");
    }
}
