//! The bench's journal: every action is written durably to a local file before the
//! screen confirms it, then sent to the server in order, in batches, with its
//! idempotency key, by a background sender. Nothing is lost when the network drops or
//! the PC is switched off: on restart the journal is read back and sending resumes
//! where it stopped (the server answers a resent key with its first answer).
//!
//! The file holds one JSON line per record: an action (`"t": "action"`) or the
//! server's outcome for one (`"t": "done"`), each with the format version `v`. A line
//! is synced to disk before `append` or `settle` returns. A last line cut short by a
//! crash was never confirmed on screen: it is dropped on opening.

use chrono::{DateTime, Utc};
use filiere_shared::api::BatchOp;
use filiere_shared::error::ErrorBody;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The journal's format version, written on every line.
pub const FORMAT: u32 = 1;

/// What the server made of an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Accepted,
    /// Refused (the item was moved meanwhile, a rule forbids the step…): shown on the
    /// item at the bench, never dropped silently.
    Refused {
        error: ErrorBody,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Line {
    Action {
        v: u32,
        seq: u64,
        at: DateTime<Utc>,
        op: Box<BatchOp>,
    },
    Done {
        v: u32,
        seq: u64,
        outcome: Outcome,
    },
}

/// An action waiting to be sent, or refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub op: BatchOp,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot use the journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("journal {path}, line {line}: format version {found}, this app reads {FORMAT}")]
    Version {
        path: PathBuf,
        line: usize,
        found: u32,
    },
    #[error("journal {path}, line {line}: unreadable record ({reason})")]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("cannot encode a journal record: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The journal of one bench.
pub struct Journal {
    path: PathBuf,
    file: File,
    next_seq: u64,
    pending: BTreeMap<u64, Entry>,
    refused: BTreeMap<u64, (Entry, ErrorBody)>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and reads back what it holds.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io)?;
        let mut pending = BTreeMap::new();
        let mut refused = BTreeMap::new();
        let mut next_seq = 1;
        let mut good_len: u64 = 0;
        let mut reader = BufReader::new(&file);
        let mut buf = String::new();
        let mut line_no = 0;
        loop {
            buf.clear();
            let n = reader.read_line(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if !buf.ends_with('\n') {
                // Cut short by a crash before it was synced: never confirmed.
                break;
            }
            let record: Line = match serde_json::from_str(buf.trim_end()) {
                Ok(l) => l,
                Err(e) => {
                    // A version we do not know is said as such, not as corruption.
                    let v = serde_json::from_str::<serde_json::Value>(buf.trim_end())
                        .ok()
                        .and_then(|v| v.get("v").and_then(serde_json::Value::as_u64));
                    return Err(match v {
                        Some(found) if found != u64::from(FORMAT) => JournalError::Version {
                            path: path.clone(),
                            line: line_no,
                            found: found as u32,
                        },
                        _ => JournalError::Corrupt {
                            path: path.clone(),
                            line: line_no,
                            reason: e.to_string(),
                        },
                    });
                }
            };
            let v = match &record {
                Line::Action { v, .. } | Line::Done { v, .. } => *v,
            };
            if v != FORMAT {
                return Err(JournalError::Version {
                    path: path.clone(),
                    line: line_no,
                    found: v,
                });
            }
            match record {
                Line::Action { seq, at, op, .. } => {
                    next_seq = next_seq.max(seq + 1);
                    pending.insert(seq, Entry { seq, at, op: *op });
                }
                Line::Done { seq, outcome, .. } => {
                    if let Some(entry) = pending.remove(&seq)
                        && let Outcome::Refused { error } = outcome
                    {
                        refused.insert(seq, (entry, error));
                    }
                }
            }
            good_len += n as u64;
        }
        drop(reader);
        if file.metadata().map_err(io)?.len() != good_len {
            file.set_len(good_len).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok(Journal {
            path,
            file,
            next_seq,
            pending,
            refused,
        })
    }

    fn write(&mut self, line: &Line) -> Result<(), JournalError> {
        let mut bytes = serde_json::to_vec(line)?;
        bytes.push(b'\n');
        let path = self.path.clone();
        let io = |source| JournalError::Io { path, source };
        self.file
            .write_all(&bytes)
            .and_then(|()| self.file.sync_data())
            .map_err(io)
    }

    /// Writes an action durably; only then may the screen confirm it.
    pub fn append(&mut self, op: BatchOp) -> Result<u64, JournalError> {
        let seq = self.next_seq;
        let at = Utc::now();
        self.write(&Line::Action {
            v: FORMAT,
            seq,
            at,
            op: Box::new(op.clone()),
        })?;
        self.next_seq += 1;
        self.pending.insert(seq, Entry { seq, at, op });
        Ok(seq)
    }

    /// Records the server's outcome for an action.
    pub fn settle(&mut self, seq: u64, outcome: Outcome) -> Result<(), JournalError> {
        if !self.pending.contains_key(&seq) {
            return Ok(());
        }
        self.write(&Line::Done {
            v: FORMAT,
            seq,
            outcome: outcome.clone(),
        })?;
        if let Some(entry) = self.pending.remove(&seq)
            && let Outcome::Refused { error } = outcome
        {
            self.refused.insert(seq, (entry, error));
        }
        Ok(())
    }

    /// Actions still to send, oldest first, at most `max`.
    pub fn next_batch(&self, max: usize) -> Vec<Entry> {
        self.pending.values().take(max).cloned().collect()
    }

    /// How many actions wait to be sent.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    /// Actions the server refused, with its answer.
    pub fn refused(&self) -> impl Iterator<Item = &(Entry, ErrorBody)> {
        self.refused.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use filiere_shared::api::{Command, EventRequest, ItemRef};
    use filiere_shared::{ErrorCode, Route};

    fn dir() -> PathBuf {
        let r: u64 = rand_like();
        let d = std::env::temp_dir().join(format!("filiere-journal-{}-{r:x}", std::process::id()));
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    /// A unique-enough number without a random crate: the clock's nanoseconds.
    fn rand_like() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }

    fn op(n: i64) -> BatchOp {
        BatchOp::Event {
            item: ItemRef::Code("7K3M9QX8".into()),
            request: EventRequest {
                idempotency_key: format!("bench-1-{n}"),
                expected_version: n,
                occurred_at: None,
                command: Command::Triage {
                    route: Route::Refurbish,
                },
            },
        }
    }

    #[test]
    fn actions_survive_a_restart_in_order_until_settled() {
        let path = dir().join("journal.jsonl");
        let mut j = Journal::open(&path).expect("open");
        for n in 1..=5 {
            assert_eq!(j.append(op(n)).expect("append"), n as u64);
        }
        j.settle(1, Outcome::Accepted).expect("settle");
        let refusal = ErrorBody {
            code: ErrorCode::VersionConflict,
            message: "L'objet a changé entre-temps".into(),
            details: None,
            request_id: None,
        };
        j.settle(
            2,
            Outcome::Refused {
                error: refusal.clone(),
            },
        )
        .expect("settle");
        drop(j);

        let mut j = Journal::open(&path).expect("reopen");
        assert_eq!(j.waiting(), 3);
        let batch = j.next_batch(2);
        assert_eq!(batch.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(batch[0].op, op(3));
        let refused: Vec<_> = j.refused().collect();
        assert_eq!(refused.len(), 1);
        assert_eq!((refused[0].0.seq, &refused[0].1), (2, &refusal));
        // Numbering goes on after a restart.
        assert_eq!(j.append(op(6)).expect("append"), 6);
        // Settling twice, or an unknown action, writes nothing more.
        let len = std::fs::metadata(&path).expect("meta").len();
        j.settle(1, Outcome::Accepted).expect("settle again");
        j.settle(99, Outcome::Accepted).expect("unknown");
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), len);
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_dropped_and_the_rest_kept() {
        let path = dir().join("journal.jsonl");
        let mut j = Journal::open(&path).expect("open");
        j.append(op(1)).expect("append");
        j.append(op(2)).expect("append");
        drop(j);
        // A crash in the middle of writing the third record.
        let mut f = OpenOptions::new().append(true).open(&path).expect("file");
        f.write_all(br#"{"t":"action","v":1,"seq":3,"at":"2026-"#)
            .expect("torn write");
        drop(f);
        let mut j = Journal::open(&path).expect("reopen");
        assert_eq!(j.waiting(), 2);
        assert_eq!(j.append(op(3)).expect("append"), 3);
        drop(j);
        let j = Journal::open(&path).expect("reopen again");
        assert_eq!(
            j.next_batch(10).iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }

    #[test]
    fn another_format_version_or_a_damaged_line_is_refused_clearly() {
        let path = dir().join("journal.jsonl");
        std::fs::write(&path, "{\"t\":\"action\",\"v\":2,\"seq\":1}\n").expect("write");
        match Journal::open(&path) {
            Err(JournalError::Version {
                found: 2, line: 1, ..
            }) => {}
            other => panic!("expected a version error, got {:?}", other.err()),
        }
        std::fs::write(&path, "{\"t\":\"action\",\"v\":1,\"seq\":\"x\"}\n").expect("write");
        match Journal::open(&path) {
            Err(e @ JournalError::Corrupt { line: 1, .. }) => {
                assert!(e.to_string().contains("line 1"));
            }
            other => panic!("expected a corrupt-line error, got {:?}", other.err()),
        }
    }
}
