//! CSV for spreadsheet programs set to French: UTF-8 with a byte-order mark, `;`
//! between fields, CRLF line ends, a field quoted when it holds a separator, a quote
//! or a line break, and a field that a spreadsheet would read as a formula made text.
//! A long list is streamed page by page from the database, so that the server's
//! memory stays flat whatever its length.

use crate::db::{Db, DbConnection};
use crate::error::ApiResult;
use actix_web::HttpResponse;
use actix_web::web::Bytes;
use std::pin::Pin;
use std::task::{Context, Poll};

const BOM: &str = "\u{feff}";

/// One field.
pub fn field(s: &str) -> String {
    // A leading =, +, - or @ starts a formula in a spreadsheet; a number stays one.
    let formula = s.starts_with(['=', '+', '@'])
        || (s.starts_with('-') && !s[1..].starts_with(|c: char| c.is_ascii_digit()));
    let s = if formula {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// One line, with its CRLF.
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = fields
        .iter()
        .map(|f| field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(";");
    out.push_str("\r\n");
    out
}

fn headers(filename: &str) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::Ok();
    b.content_type("text/csv; charset=utf-8").insert_header((
        "Content-Disposition",
        format!("attachment; filename=\"{filename}\""),
    ));
    b
}

/// A file for another program to import rather than for a spreadsheet (the national
/// waste registers): no byte-order mark before the first header, which is compared
/// as it is written.
pub fn import_file<S: AsRef<str>>(
    filename: &str,
    head: &[S],
    rows: &[Vec<String>],
) -> HttpResponse {
    let mut body = line(head);
    for r in rows {
        body.push_str(&line(r));
    }
    headers(filename).body(body)
}

/// A whole table at once (the dashboards' tables are small).
pub fn table<S: AsRef<str>>(filename: &str, head: &[S], rows: &[Vec<String>]) -> HttpResponse {
    let mut body = String::from(BOM);
    body.push_str(&line(head));
    for r in rows {
        body.push_str(&line(r));
    }
    headers(filename).body(body)
}

/// A page of rows and where the next page starts (`None`: the last page).
pub type Page<K> = (Vec<Vec<String>>, Option<K>);

/// A list streamed page by page: `page(conn, after)` reads the rows after a key, on a
/// read connection of its own thread; at most a few pages are held at once, however
/// long the list.
pub fn stream<K, F>(db: &Db, filename: &str, head: Vec<String>, page: F) -> HttpResponse
where
    K: Send + 'static,
    F: Fn(&mut DbConnection, Option<&K>) -> ApiResult<Page<K>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let db = db.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let send = |b: Result<Bytes, std::io::Error>| tx.blocking_send(b).is_ok();
        let mut first = String::from(BOM);
        first.push_str(&line(&head));
        if !send(Ok(Bytes::from(first))) {
            return;
        }
        let mut conn = match db.read.get() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "CSV export: no connection");
                let _ = send(Err(std::io::Error::other("no connection")));
                return;
            }
        };
        let mut after: Option<K> = None;
        loop {
            match page(&mut conn, after.as_ref()) {
                Ok((rows, next)) => {
                    let mut chunk = String::new();
                    for r in &rows {
                        chunk.push_str(&line(r));
                    }
                    if !chunk.is_empty() && !send(Ok(Bytes::from(chunk))) {
                        // The client went away.
                        return;
                    }
                    match next {
                        Some(k) => after = Some(k),
                        None => return,
                    }
                }
                Err(e) => {
                    tracing::error!(error = ?e, "CSV export failed");
                    let _ = send(Err(std::io::Error::other("export failed")));
                    return;
                }
            }
        }
    });
    headers(filename).streaming(Chunks(rx))
}

struct Chunks(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_made_text() {
        assert_eq!(field("Lyon"), "Lyon");
        assert_eq!(field("a;b"), "\"a;b\"");
        assert_eq!(field("dit \"oui\""), "\"dit \"\"oui\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-12,5"), "-12,5");
        assert_eq!(field("-cmd"), "'-cmd");
        assert_eq!(line(&["a", "b"]), "a;b\r\n");
    }
}
