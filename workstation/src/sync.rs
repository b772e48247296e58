//! Sending the journal: in order, in batches, each action with its idempotency key, to
//! the server's `/api/v1/events/batch`. Runs in the background; the screen only reads
//! how many actions wait. A network or server failure leaves the journal as it was, to
//! be sent again after a pause that grows up to [`MAX_BACKOFF`]; the server answers a
//! resent key with its first answer, so nothing is applied twice.

use crate::journal::{Entry, Journal, JournalError, Outcome};
use filiere_shared::api::{BatchRequest, BatchResponse, BatchResult, EventResponse};
use filiere_shared::error::ErrorBody;
use std::time::Duration;

/// Longest pause between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Actions per request.
pub const BATCH: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server could not be reached or failed: try again later.
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// The session is no longer valid: the technician must badge in again.
    #[error("the session has ended: {0}")]
    SignedOut(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Sends a bench's journal to the server.
pub struct Sender {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Sender {
    pub fn new(base: &str, token: &str) -> Sender {
        Sender {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// A sender sharing an HTTP client (and its connections) with other requests.
    pub fn with_client(client: reqwest::Client, base: &str, token: &str) -> Sender {
        Sender {
            client,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// Posts `entries` as one batch; the server's answer, or why it could not be had.
    pub async fn post(&self, entries: &[Entry]) -> Result<BatchResponse, SyncError> {
        let body = BatchRequest {
            ops: entries.iter().map(|e| e.op.clone()).collect(),
        };
        let resp = self
            .client
            .post(format!("{}/api/v1/events/batch", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        let status = resp.status();
        if status.as_u16() == 401 {
            return Err(SyncError::SignedOut(resp.text().await.unwrap_or_default()));
        }
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            // An action that breaks its schema refuses the whole batch, naming it: that
            // one is refused (and shown on its item), the others are sent again.
            if status.as_u16() == 400
                && let Ok(error) = serde_json::from_str::<ErrorBody>(&text)
                && let Some(index) = BatchRequest::refused_op(&error)
                && let Some(entry) = entries.get(index)
            {
                return Ok(BatchResponse {
                    results: vec![BatchResult {
                        index,
                        idempotency_key: entry.op.idempotency_key().to_owned(),
                        status: 400,
                        ok: None,
                        error: Some(error),
                    }],
                });
            }
            // Any other refusal of the whole batch (5xx, or a request the server could
            // not read): kept, retried; a real refusal comes per action.
            return Err(SyncError::Unreachable(format!("{status}: {text}")));
        }
        resp.json()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))
    }

    /// Sends one batch of the oldest waiting actions; returns how many were settled.
    pub async fn send_batch(&self, journal: &mut Journal) -> Result<usize, SyncError> {
        let entries = journal.next_batch(BATCH);
        if entries.is_empty() {
            return Ok(0);
        }
        let answer = self.post(&entries).await?;
        Ok(settle(journal, &entries, answer)?.len())
    }

    /// Like [`Sender::send_batch`] for a journal the screen appends to meanwhile: the
    /// lock is held only to read the batch and to record the answers, never across the
    /// network. Returns what was settled, for the screen to show.
    pub async fn send_shared(
        &self,
        journal: &std::sync::Mutex<Journal>,
    ) -> Result<Vec<Settled>, SyncError> {
        let entries = lock(journal).next_batch(BATCH);
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let answer = self.post(&entries).await?;
        failpoint("after_send").await;
        Ok(settle(&mut lock(journal), &entries, answer)?)
    }

    /// Sends until nothing waits, pausing after each failure (100 ms, doubling up to
    /// [`MAX_BACKOFF`]). Returns when the journal is empty or the session has ended.
    pub async fn drain(&self, journal: &mut Journal) -> Result<(), SyncError> {
        let mut pause = Duration::from_millis(100);
        while journal.waiting() > 0 {
            match self.send_batch(journal).await {
                Ok(_) => pause = Duration::from_millis(100),
                Err(SyncError::Unreachable(_)) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_BACKOFF);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// An action the server answered.
#[derive(Debug, Clone)]
pub struct Settled {
    pub entry: Entry,
    pub outcome: Outcome,
    /// The server's answer to an accepted action: the item as it now stands.
    pub answer: Option<EventResponse>,
}

fn lock(journal: &std::sync::Mutex<Journal>) -> std::sync::MutexGuard<'_, Journal> {
    // A panic while holding the lock cannot leave the journal half-written: every
    // record is one synced line.
    journal
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records the server's answers to `entries` in the journal.
fn settle(
    journal: &mut Journal,
    entries: &[Entry],
    answer: BatchResponse,
) -> Result<Vec<Settled>, JournalError> {
    let mut out = Vec::new();
    for r in answer.results {
        let Some(entry) = entries.get(r.index) else {
            continue;
        };
        let outcome = if (200..300).contains(&r.status) {
            Outcome::Accepted
        } else if r.status >= 500 {
            // The server failed on this one: send it again later.
            continue;
        } else {
            Outcome::Refused {
                error: r.error.unwrap_or_else(|| ErrorBody {
                    code: filiere_shared::ErrorCode::Internal,
                    message: format!("refused ({})", r.status),
                    details: None,
                    request_id: None,
                }),
            }
        };
        journal.settle(entry.seq, outcome.clone())?;
        out.push(Settled {
            entry: entry.clone(),
            outcome,
            answer: r.ok,
        });
    }
    Ok(out)
}

/// A crash test's injection point: with `FILIERE_FAILPOINT` set to `name`, the sender
/// announces it on standard output and stops there for good, so that the test can kill
/// the process at exactly that moment (here: the server has applied a batch, the
/// journal does not know it yet).
async fn failpoint(name: &str) {
    if std::env::var("FILIERE_FAILPOINT").is_ok_and(|v| v == name) {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "failpoint {name}");
        let _ = out.flush();
        std::future::pending::<()>().await;
    }
}
