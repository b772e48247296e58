//! Each HTTP connection, as the server sees it under actix-http.
//!
//! actix-http refuses some requests before the application sees them: a request
//! target longer than the `http` crate takes (65,534 bytes) or a line it cannot parse
//! (400), a request head over its 128 KiB buffer (431), a head that does not arrive
//! within 5 seconds (408). It answers those with an empty
//! body, then drops the connection with the rest of the request unread, so that the
//! client, still sending, meets a reset instead of the answer. [`Guarded`] wraps the
//! connection: it puts the usual JSON error body (`uri_too_long`,
//! `request_head_too_large`, `malformed_request`, `request_timeout`) and
//! `Connection: close` in place of
//! that empty answer, and once the connection is dropped it finishes sending the
//! answer, then reads and discards what the client still sends (for a few seconds at
//! most) before closing, so that the client reads the answer and opens a new
//! connection for its next request.

use crate::error::ApiError;
use actix_web::rt::net::TcpStream;
use filiere_shared::{ErrorCode, Lang};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long a connection refused this way is read and drained before it is closed.
const LINGER: Duration = Duration::from_secs(5);
/// How much a refused client may still send while the connection lingers.
const LINGER_BYTES: usize = 16 * 1024 * 1024;
/// The longest request target the `http` crate parses.
const LONGEST_TARGET: usize = u16::MAX as usize - 1;

/// The answers actix-http writes for a request it could not parse: nothing the
/// application answers looks like them, since every error of the application has a
/// JSON body.
const REFUSALS: [(&[u8], u16); 3] = [
    (b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n", 400),
    (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n",
        408,
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n",
        431,
    ),
];

/// A TCP connection whose refusals by actix-http carry a JSON body and end cleanly.
pub struct Guarded {
    io: Option<TcpStream>,
    /// Bytes read since the last line feed, and the longest line read since the last
    /// answer was written: a parse error after a line longer than the `http` crate
    /// takes is a request target too long.
    line: usize,
    longest_line: usize,
    /// The JSON answer put in place of actix-http's, and how much of it is sent.
    refusal: Option<(Vec<u8>, usize)>,
}

impl Guarded {
    pub fn new(io: TcpStream) -> Guarded {
        Guarded {
            io: Some(io),
            line: 0,
            longest_line: 0,
            refusal: None,
        }
    }

    fn io(&mut self) -> io::Result<Pin<&mut TcpStream>> {
        match self.io.as_mut() {
            Some(io) => Ok(Pin::new(io)),
            None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// Sends what is left of the refusal; ready once all of it is written.
    fn poll_refusal(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let Some((bytes, sent)) = self.refusal.as_ref() else {
                return Poll::Ready(Ok(()));
            };
            if *sent >= bytes.len() {
                return Poll::Ready(Ok(()));
            }
            let rest = bytes[*sent..].to_vec();
            let n = ready!(self.io()?.poll_write(cx, &rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            if let Some((_, sent)) = self.refusal.as_mut() {
                *sent += n;
            }
        }
    }
}

/// Where in `buf` actix-http's own refusal starts, and its status. It is the last
/// thing written on a connection, a head without a body: only the end of a buffer
/// that ends a head is searched, so that a large answer costs nothing.
fn find_refusal(buf: &[u8]) -> Option<(usize, u16)> {
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let from = buf.len().saturating_sub(REFUSAL_HEAD_MAX);
    REFUSALS.iter().find_map(|(head, status)| {
        buf[from..]
            .windows(head.len())
            .position(|w| w == *head)
            .map(|at| (from + at, *status))
    })
}

/// The longest head actix-http writes for a refusal (status line and its few headers).
const REFUSAL_HEAD_MAX: usize = 512;

/// The answer that replaces actix-http's refusal: status, JSON body, and the
/// connection closed.
pub fn refusal_answer(status: u16, longest_line: usize) -> Vec<u8> {
    let (code, reason) = match status {
        431 => (
            ErrorCode::RequestHeadTooLarge,
            "Request Header Fields Too Large",
        ),
        408 => (ErrorCode::RequestTimeout, "Request Timeout"),
        _ if longest_line > LONGEST_TARGET => (ErrorCode::UriTooLong, "URI Too Long"),
        _ => (ErrorCode::MalformedRequest, "Bad Request"),
    };
    // The request could not be read, so neither could its language: French first.
    let body = ApiError::new(code).in_lang(Lang::Fr).body();
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        code.http_status(),
        json.len()
    )
    .into_bytes();
    out.extend_from_slice(&json);
    out
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(self.io()?.poll_read(cx, buf))?;
        for &b in &buf.filled()[before..] {
            if b == b'\n' {
                self.line = 0;
            } else {
                self.line += 1;
                self.longest_line = self.longest_line.max(self.line);
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.refusal.is_some() {
            // Nothing is written after a refusal but the refusal itself.
            ready!(self.poll_refusal(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        match find_refusal(buf) {
            Some((0, status)) => {
                let answer = refusal_answer(status, self.longest_line);
                self.refusal = Some((answer, 0));
                // Taken whole: what is not sent yet is sent by the next calls or, once
                // the connection is dropped, by the lingering close.
                let _ = self.poll_refusal(cx)?;
                Poll::Ready(Ok(buf.len()))
            }
            // The answers before it first, on their own.
            Some((at, _)) => self.io()?.poll_write(cx, &buf[..at]),
            None => {
                let n = ready!(self.io()?.poll_write(cx, buf))?;
                self.longest_line = self.line;
                Poll::Ready(Ok(n))
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_refusal(cx))?;
        self.io()?.poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_refusal(cx))?;
        self.io()?.poll_shutdown(cx)
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let (Some((bytes, sent)), Some(io)) = (self.refusal.take(), self.io.take()) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(linger(io, bytes[sent.min(bytes.len())..].to_vec()));
    }
}

/// Sends the rest of a refusal, closes the sending side, then reads and discards what
/// the client still sends until it closes, for [`LINGER`] at most: closing with
/// unread bytes would reset the connection under the client's feet.
async fn linger(mut io: TcpStream, rest: Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let drain = async {
        io.write_all(&rest).await?;
        io.shutdown().await?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0;
        loop {
            let n = io.read(&mut buf).await?;
            total += n;
            if n == 0 || total > LINGER_BYTES {
                return Ok::<_, io::Error>(());
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_actix_http_s_empty_refusals_are_replaced() {
        let ok = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 57\r\n\r\n{}";
        assert_eq!(find_refusal(ok), None);
        let mut two = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".to_vec();
        let at = two.len();
        two.extend_from_slice(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        assert_eq!(find_refusal(&two), Some((at, 431)));
    }

    #[test]
    fn a_refusal_names_what_was_too_long() {
        let text = |status, line| String::from_utf8(refusal_answer(status, line)).unwrap();
        assert!(text(400, 70_000).starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        assert!(text(400, 70_000).contains("\"code\":\"uri_too_long\""));
        assert!(text(400, 80).contains("\"code\":\"malformed_request\""));
        let big = text(431, 0);
        assert!(big.starts_with("HTTP/1.1 431 "));
        assert!(big.contains("connection: close\r\n"));
        let (head, body) = big.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
    }
}
