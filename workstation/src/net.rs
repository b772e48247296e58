//! The bench's network side, on a thread of its own: the screen sends [`Request`]s and
//! reads [`Reply`]s once per frame, and is asked to repaint when one arrives. The
//! journal is sent from here too, in order, whenever actions wait. Nothing here ever
//! blocks the screen.

use crate::journal::Journal;
use crate::sync::{Sender as JournalSender, Settled, SyncError};
use filiere_shared::api::*;
use filiere_shared::error::ErrorBody;
use filiere_shared::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::{Duration, Instant};

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum NetError {
    /// No server (network down, server stopped, timeout).
    Unreachable(String),
    /// The server answered with a refusal.
    Refused { status: u16, error: ErrorBody },
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Unreachable(e) => write!(f, "{e}"),
            NetError::Refused { error, .. } => f.write_str(&error.message),
        }
    }
}

pub type NetResult<T> = Result<T, NetError>;

/// What the screen asks of the network.
#[derive(Debug, Clone)]
pub enum Request {
    SignIn {
        badge: String,
    },
    SignOut,
    Resolve {
        text: String,
        asked: Instant,
    },
    Item {
        id: ItemId,
    },
    History {
        id: ItemId,
    },
    Collections,
    WeeeBatches,
    Printers,
    /// A block of codes for this bench, so that parts are labelled offline too.
    AllocateCodes {
        site: SiteId,
        bench: BenchId,
        count: i32,
    },
    Print {
        request: PrintRequest,
    },
    /// Labels rendered on the bench (the server unreachable), sent straight to a ZPL
    /// printer's raw port.
    PrintDirect {
        address: String,
        zpl: String,
    },
}

/// What came back.
// A few per second: not worth boxing the answers.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Reply {
    SignedIn(NetResult<SessionResponse>),
    Resolved {
        text: String,
        asked: Instant,
        result: NetResult<Resolved>,
    },
    Item(NetResult<ItemView>),
    History(NetResult<HistoryView>),
    Collections(NetResult<Vec<CollectionView>>),
    WeeeBatches(NetResult<Vec<WeeeBatchView>>),
    Printers(NetResult<Vec<PrinterView>>),
    Codes(NetResult<LabelBatchView>),
    Printed {
        request: PrintRequest,
        result: NetResult<PrintResult>,
    },
    PrintedDirect(Result<(), String>),
    /// The sender settled these actions.
    Synced(Vec<Settled>),
    /// The sender could not reach the server; actions wait.
    Offline(String),
    /// The server no longer knows the session: sign in again.
    SessionEnded,
}

/// The screen's handle on the network thread.
pub struct Net {
    requests: tokio::sync::mpsc::UnboundedSender<Request>,
    replies: mpsc::Receiver<Reply>,
    token: Arc<RwLock<Option<String>>>,
    wake: Arc<tokio::sync::Notify>,
}

impl Net {
    /// Starts the network thread for `server`; `repaint` is called after every reply.
    pub fn start(
        server: &str,
        bench_token: &str,
        journal: Arc<Mutex<Journal>>,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<Net> {
        let (requests, mut rx) = tokio::sync::mpsc::unbounded_channel::<Request>();
        let (reply_tx, replies) = mpsc::channel();
        let token: Arc<RwLock<Option<String>>> = Arc::default();
        let wake = Arc::new(tokio::sync::Notify::new());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("filiere-net")
            .enable_all()
            .build()?;
        let client = Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(3))
                .build()
                .map_err(std::io::Error::other)?,
            base: server.trim_end_matches('/').to_owned(),
            bench_token: bench_token.trim().to_owned(),
            token: token.clone(),
        };
        let out = Out {
            tx: reply_tx,
            repaint,
        };
        let (sync_out, sync_client, sync_wake) = (out.clone(), client.clone(), wake.clone());
        std::thread::Builder::new()
            .name("filiere-net".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::spawn(sync_loop(sync_client, journal, sync_out, sync_wake));
                    while let Some(req) = rx.recv().await {
                        let (c, o) = (client.clone(), out.clone());
                        tokio::spawn(async move { o.send(c.handle(req).await) });
                    }
                });
            })?;
        Ok(Net {
            requests,
            replies,
            token,
            wake,
        })
    }

    pub fn send(&self, r: Request) {
        // The thread lives as long as the app; a send after it stopped is moot.
        let _ = self.requests.send(r);
    }

    /// Replies that arrived since the last call.
    pub fn poll(&self) -> Vec<Reply> {
        self.replies.try_iter().collect()
    }

    /// The session the requests and the sender use.
    pub fn set_token(&self, token: Option<String>) {
        *self
            .token
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = token;
        self.wake.notify_one();
    }

    /// Something was journaled: send it now rather than at the next tick.
    pub fn journaled(&self) {
        self.wake.notify_one();
    }
}

#[derive(Clone)]
struct Out {
    tx: mpsc::Sender<Reply>,
    repaint: Arc<dyn Fn() + Send + Sync>,
}

impl Out {
    fn send(&self, r: Reply) {
        if self.tx.send(r).is_ok() {
            (self.repaint)();
        }
    }
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    bench_token: String,
    token: Arc<RwLock<Option<String>>>,
}

impl Client {
    fn token(&self) -> Option<String> {
        self.token
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> NetResult<T> {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = self.token() {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let resp = rb
            .send()
            .await
            .map_err(|e| NetError::Unreachable(e.to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return resp
                .json()
                .await
                .map_err(|e| NetError::Unreachable(e.to_string()));
        }
        let error = resp.json::<ErrorBody>().await.ok();
        // A server failure means "try again later"; a printer that does not answer is
        // the server's answer about the printer, not about the network.
        let printer = error.as_ref().is_some_and(|e| {
            matches!(
                e.code,
                ErrorCode::PrinterUnreachable | ErrorCode::PrintFailed
            )
        });
        if status.is_server_error() && !printer {
            return Err(NetError::Unreachable(format!("{status}")));
        }
        let error = error.unwrap_or_else(|| ErrorBody {
            code: ErrorCode::Internal,
            message: format!("{status}"),
            details: None,
            request_id: None,
        });
        Err(NetError::Refused {
            status: status.as_u16(),
            error,
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> NetResult<T> {
        self.call(reqwest::Method::GET, path, None::<&()>).await
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> NetResult<T> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn handle(&self, req: Request) -> Reply {
        match req {
            Request::SignIn { badge } => {
                let bench_token = self.bench_token.clone();
                Reply::SignedIn(
                    self.post(
                        "/api/v1/auth/badge",
                        &BadgeLoginRequest { bench_token, badge },
                    )
                    .await,
                )
            }
            Request::SignOut => {
                let r: NetResult<serde_json::Value> = self
                    .post("/api/v1/auth/logout", &serde_json::json!({}))
                    .await;
                let _ = r;
                Reply::SessionEnded
            }
            Request::Resolve { text, asked } => {
                let q = urlencode(&text);
                let result = self.get(&format!("/api/v1/resolve?q={q}")).await;
                Reply::Resolved {
                    text,
                    asked,
                    result,
                }
            }
            Request::Item { id } => Reply::Item(self.get(&format!("/api/v1/items/{id}")).await),
            Request::History { id } => {
                Reply::History(self.get(&format!("/api/v1/items/{id}/history")).await)
            }
            Request::Collections => Reply::Collections(self.get("/api/v1/collections").await),
            Request::WeeeBatches => Reply::WeeeBatches(self.get("/api/v1/weee-batches").await),
            Request::Printers => Reply::Printers(self.get("/api/v1/printers").await),
            Request::AllocateCodes { site, bench, count } => Reply::Codes(
                self.post(
                    "/api/v1/label-batches",
                    &NewLabelBatch {
                        site,
                        count,
                        bench: Some(bench),
                    },
                )
                .await,
            ),
            Request::PrintDirect { address, zpl } => {
                Reply::PrintedDirect(send_zpl(&address, zpl.as_bytes()).await)
            }
            Request::Print { request } => {
                let result = self.post("/api/v1/labels/print", &request).await;
                Reply::Printed { request, result }
            }
        }
    }
}

/// Sends ZPL to a printer's raw port (9100 unless the address names one), three
/// tries a short pause apart.
async fn send_zpl(address: &str, bytes: &[u8]) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let address = if address.contains(':') {
        address.to_owned()
    } else {
        format!("{address}:9100")
    };
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
        }
        let sent = async {
            let mut s = tokio::net::TcpStream::connect(&address).await?;
            s.write_all(bytes).await?;
            s.shutdown().await
        };
        match tokio::time::timeout(Duration::from_secs(3), sent).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "timeout".into(),
        }
    }
    Err(format!("{address}: {last}"))
}

/// Percent-encodes a query value.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Sends the journal whenever actions wait and a session exists; after a failure,
/// waits 100 ms, doubling up to the sender's longest pause.
async fn sync_loop(
    client: Client,
    journal: Arc<Mutex<Journal>>,
    out: Out,
    wake: Arc<tokio::sync::Notify>,
) {
    let mut pause = Duration::from_millis(100);
    loop {
        let waiting = journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .waiting();
        let token = client.token();
        let Some(token) = token.filter(|_| waiting > 0) else {
            // Nothing to send: sleep until something is journaled (or a second passes).
            let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
            continue;
        };
        let sender = JournalSender::with_client(client.http.clone(), &client.base, &token);
        match sender.send_shared(&journal).await {
            Ok(settled) => {
                pause = Duration::from_millis(100);
                out.send(Reply::Synced(settled));
            }
            Err(SyncError::Unreachable(e)) => {
                out.send(Reply::Offline(e));
                let _ = tokio::time::timeout(pause, wake.notified()).await;
                pause = (pause * 2).min(crate::sync::MAX_BACKOFF);
            }
            Err(SyncError::SignedOut(_)) => {
                out.send(Reply::SessionEnded);
                *client
                    .token
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            }
            Err(SyncError::Journal(e)) => {
                out.send(Reply::Offline(e.to_string()));
                tokio::time::sleep(crate::sync::MAX_BACKOFF).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            super::urlencode("HTTPS://F.TEST/I/ABC 1&é"),
            "HTTPS%3A%2F%2FF.TEST%2FI%2FABC%201%26%C3%A9"
        );
    }
}
