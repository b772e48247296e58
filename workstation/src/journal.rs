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
//!
//! The journal does not grow without end: when the bench starts, the actions the server
//! accepted more than [`crate::settings::Settings::journal_keep_days`] ago move to
//! `journal-archive/YYYY-MM.jsonl` beside it, and the journal is written again with what
//! is left, after a first line (`"t": "start"`) that carries the numbering on. What
//! waits to be sent and what was refused always stay.

use chrono::{DateTime, Utc};
use filiere_shared::api::BatchOp;
use filiere_shared::error::ErrorBody;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
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
    /// The first line of a journal whose older lines were archived: numbering goes on
    /// from `next_seq`.
    Start {
        v: u32,
        next_seq: u64,
    },
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
        found: u64,
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

/// Why a journal's line cannot be read (the line counts from 1).
#[derive(Debug, Clone, PartialEq)]
pub enum LineProblem {
    Version { line: usize, found: u64 },
    Corrupt { line: usize, reason: String },
}

impl LineProblem {
    fn at(self, path: &Path) -> JournalError {
        let path = path.to_path_buf();
        match self {
            LineProblem::Version { line, found } => JournalError::Version { path, line, found },
            LineProblem::Corrupt { line, reason } => JournalError::Corrupt { path, line, reason },
        }
    }
}

/// What a journal's bytes hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contents {
    /// The number the next action takes.
    pub next_seq: u64,
    /// Actions not yet answered by the server.
    pub pending: BTreeMap<u64, Entry>,
    /// Actions the server refused, with its answer.
    pub refused: BTreeMap<u64, (Entry, ErrorBody)>,
    /// Actions the server accepted, still in the journal.
    pub accepted: BTreeMap<u64, Entry>,
    /// The length of the whole lines read: a last line cut short by a crash (it was
    /// never confirmed on screen) lies beyond it.
    pub whole_len: usize,
}

/// Reads a journal's lines. A last line without its newline is left out; any other
/// line that is not a record of this format is refused, naming the line.
pub fn read(bytes: &[u8]) -> Result<Contents, LineProblem> {
    let mut c = Contents {
        next_seq: 1,
        ..Contents::default()
    };
    for (i, chunk) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let Some(text) = chunk.strip_suffix(b"\n") else {
            break; // cut short by a crash before it was synced: never confirmed
        };
        let record: Line = match serde_json::from_slice(text) {
            Ok(l) => l,
            Err(e) => {
                // A version we do not know is said as such, not as corruption.
                let v = serde_json::from_slice::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("v").and_then(serde_json::Value::as_u64));
                return Err(match v {
                    Some(found) if found != u64::from(FORMAT) => {
                        LineProblem::Version { line, found }
                    }
                    _ => LineProblem::Corrupt {
                        line,
                        reason: e.to_string(),
                    },
                });
            }
        };
        let v = match &record {
            Line::Start { v, .. } | Line::Action { v, .. } | Line::Done { v, .. } => *v,
        };
        if v != FORMAT {
            return Err(LineProblem::Version {
                line,
                found: u64::from(v),
            });
        }
        match record {
            Line::Start { next_seq, .. } => c.next_seq = c.next_seq.max(next_seq),
            Line::Action { seq, at, op, .. } => {
                let known = c.pending.contains_key(&seq)
                    || c.refused.contains_key(&seq)
                    || c.accepted.contains_key(&seq);
                let next = seq.checked_add(1).filter(|_| !known);
                let Some(next) = next else {
                    let why = if known { "given twice" } else { "out of range" };
                    return Err(LineProblem::Corrupt {
                        line,
                        reason: format!("action number {seq} {why}"),
                    });
                };
                c.next_seq = c.next_seq.max(next);
                c.pending.insert(seq, Entry { seq, at, op: *op });
            }
            Line::Done { seq, outcome, .. } => {
                if let Some(entry) = c.pending.remove(&seq) {
                    match outcome {
                        Outcome::Refused { error } => {
                            c.refused.insert(seq, (entry, error));
                        }
                        Outcome::Accepted => {
                            c.accepted.insert(seq, entry);
                        }
                    }
                }
            }
        }
        c.whole_len += chunk.len();
    }
    Ok(c)
}

/// How many settled actions an opening moved to the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Archived {
    pub actions: usize,
}

/// The journal of one bench.
pub struct Journal {
    path: PathBuf,
    file: File,
    next_seq: u64,
    pending: BTreeMap<u64, Entry>,
    refused: BTreeMap<u64, (Entry, ErrorBody)>,
}

/// The folder beside a journal where its settled actions are archived, one file per
/// month of the actions' dates (`2026-11.jsonl`), in the journal's own line format.
pub fn archive_dir(journal: &Path) -> PathBuf {
    journal.with_file_name("journal-archive")
}

impl Journal {
    /// Opens (or creates) the journal at `path` and reads back what it holds.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        Journal::open_archiving(path, None).map(|(j, _)| j)
    }

    /// Opens the journal and, with `before`, moves the actions the server accepted
    /// before that moment to the archive ([`archive_dir`]), so that the journal a bench
    /// reads at start holds only what is waiting, refused or recent. The archive is
    /// written and synced first, then the shorter journal replaces the old one in one
    /// rename: a crash in between leaves every line in the journal (and perhaps twice
    /// in the archive, where its `seq` names it), never none.
    pub fn open_archiving(
        path: impl AsRef<Path>,
        before: Option<DateTime<Utc>>,
    ) -> Result<(Journal, Archived), JournalError> {
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
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let contents = read(&bytes).map_err(|p| p.at(&path))?;
        drop(bytes);
        let old: Vec<&Entry> = match before {
            Some(t) => contents.accepted.values().filter(|e| e.at < t).collect(),
            None => Vec::new(),
        };
        let archived = Archived { actions: old.len() };
        if !old.is_empty() {
            archive(&archive_dir(&path), &old)?;
            let old: BTreeSet<u64> = old.iter().map(|e| e.seq).collect();
            file = rewrite(&path, &contents, &old)?;
        } else if file.metadata().map_err(io)?.len() != contents.whole_len as u64 {
            file.set_len(contents.whole_len as u64).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok((
            Journal {
                path,
                file,
                next_seq: contents.next_seq,
                pending: contents.pending,
                refused: contents.refused,
            },
            archived,
        ))
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

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + use<> {
    let path = path.to_path_buf();
    move |source| JournalError::Io { path, source }
}

/// An action's line.
fn action_line(e: &Entry) -> Line {
    Line::Action {
        v: FORMAT,
        seq: e.seq,
        at: e.at,
        op: Box::new(e.op.clone()),
    }
}

/// An action's line, then its outcome's.
fn settled_lines(e: &Entry, outcome: Outcome) -> [Line; 2] {
    [
        action_line(e),
        Line::Done {
            v: FORMAT,
            seq: e.seq,
            outcome,
        },
    ]
}

fn push_line(buf: &mut Vec<u8>, line: &Line) -> Result<(), JournalError> {
    serde_json::to_writer(&mut *buf, line)?;
    buf.push(b'\n');
    Ok(())
}

/// Appends accepted actions to the archive's month files, each synced.
fn archive(dir: &Path, entries: &[&Entry]) -> Result<(), JournalError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    let mut by_month: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for e in entries {
        let buf = by_month
            .entry(e.at.format("%Y-%m").to_string())
            .or_default();
        for line in settled_lines(e, Outcome::Accepted) {
            push_line(buf, &line)?;
        }
    }
    for (month, bytes) in by_month {
        let path = dir.join(format!("{month}.jsonl"));
        let mut f = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_at(&path))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_data())
            .map_err(io_at(&path))?;
    }
    sync_dir(dir)
}

/// Writes the journal again without the `archived` actions, and puts it in place of
/// the old one in one rename; returns the new file, open for appending.
fn rewrite(path: &Path, c: &Contents, archived: &BTreeSet<u64>) -> Result<File, JournalError> {
    let mut kept: BTreeMap<u64, Vec<Line>> = BTreeMap::new();
    for (seq, e) in &c.pending {
        kept.insert(*seq, vec![action_line(e)]);
    }
    for (seq, (e, error)) in &c.refused {
        let outcome = Outcome::Refused {
            error: error.clone(),
        };
        kept.insert(*seq, settled_lines(e, outcome).into());
    }
    for (seq, e) in c.accepted.iter().filter(|(s, _)| !archived.contains(s)) {
        kept.insert(*seq, settled_lines(e, Outcome::Accepted).into());
    }
    let mut bytes = Vec::new();
    push_line(
        &mut bytes,
        &Line::Start {
            v: FORMAT,
            next_seq: c.next_seq,
        },
    )?;
    for line in kept.values().flatten() {
        push_line(&mut bytes, line)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fresh = path.with_file_name(format!("{name}.new"));
    let mut f = File::create(&fresh).map_err(io_at(&fresh))?;
    f.write_all(&bytes)
        .and_then(|()| f.sync_all())
        .map_err(io_at(&fresh))?;
    drop(f);
    std::fs::rename(&fresh, path).map_err(io_at(path))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(io_at(path))
}

/// Makes a rename or a new file in `dir` durable (a folder is synced on Unix; elsewhere
/// the file system does it with the rename).
fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    #[cfg(unix)]
    {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_at(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
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

    fn refusal() -> ErrorBody {
        ErrorBody {
            code: ErrorCode::VersionConflict,
            message: "L'objet a changé entre-temps".into(),
            details: None,
            request_id: None,
        }
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
        let refusal = refusal();
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

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    #[test]
    fn accepted_actions_older_than_the_limit_move_to_the_archive_and_the_rest_stays() {
        let dir = dir();
        let path = dir.join("journal.jsonl");
        let mut j = Journal::open(&path).expect("open");
        for n in 1..=6 {
            j.append(op(n)).expect("append");
        }
        j.settle(1, Outcome::Accepted).expect("settle");
        j.settle(2, Outcome::Accepted).expect("settle");
        let refusal = refusal();
        j.settle(
            3,
            Outcome::Refused {
                error: refusal.clone(),
            },
        )
        .expect("settle");
        drop(j);
        // A crash in the middle of a seventh action.
        let mut f = OpenOptions::new().append(true).open(&path).expect("file");
        f.write_all(br#"{"t":"action","v":1,"seq":7"#)
            .expect("torn");
        drop(f);
        let before = std::fs::read(&path).expect("journal");

        // Nothing is old enough: the journal is left as it was (but the torn line).
        let past = Utc::now() - chrono::Duration::days(14);
        let (j, archived) = Journal::open_archiving(&path, Some(past)).expect("open");
        assert_eq!(archived.actions, 0);
        assert_eq!(j.waiting(), 3);
        drop(j);
        assert!(!archive_dir(&path).exists());
        let untouched = std::fs::read(&path).expect("journal");
        assert!(before.starts_with(&untouched) && before.len() > untouched.len());

        // Everything accepted is older than the limit: 1 and 2 go.
        let future = Utc::now() + chrono::Duration::seconds(5);
        let (mut j, archived) = Journal::open_archiving(&path, Some(future)).expect("open");
        assert_eq!(archived.actions, 2);
        assert_eq!(
            j.next_batch(10).iter().map(|e| e.seq).collect::<Vec<_>>(),
            [4, 5, 6]
        );
        assert_eq!(
            j.refused().map(|(e, r)| (e.seq, r)).collect::<Vec<_>>(),
            [(3, &refusal)]
        );
        // Numbering goes on after the archived ones and a restart.
        assert_eq!(j.append(op(7)).expect("append"), 7);
        drop(j);
        let kept = lines(&path);
        assert_eq!(kept[0]["t"], "start");
        assert_eq!(kept[0]["next_seq"], 7);
        let seqs: Vec<u64> = kept[1..]
            .iter()
            .filter(|l| l["t"] == "action")
            .filter_map(|l| l["seq"].as_u64())
            .collect();
        assert_eq!(seqs, [3, 4, 5, 6, 7]);
        let month = Utc::now().format("%Y-%m").to_string();
        let archive = lines(&archive_dir(&path).join(format!("{month}.jsonl")));
        let archived: Vec<(String, u64)> = archive
            .iter()
            .map(|l| {
                (
                    l["t"].as_str().unwrap_or("").to_owned(),
                    l["seq"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            archived,
            [
                ("action".into(), 1),
                ("done".into(), 1),
                ("action".into(), 2),
                ("done".into(), 2)
            ]
        );
        assert_eq!(archive[0]["op"], serde_json::to_value(op(1)).expect("op"));

        // Read again, the shorter journal holds the same; a second pass archives nothing.
        let (mut j, archived) = Journal::open_archiving(&path, Some(future)).expect("reopen");
        assert_eq!(archived.actions, 0);
        assert_eq!(j.waiting(), 4);
        assert_eq!(j.append(op(8)).expect("append"), 8);
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
        // An action numbered like one already settled: two actions under one number.
        let action = r#"{"t":"action","v":1,"seq":1,"at":"2026-11-02T09:00:00Z","op":{"op":"event","item":"7K3M9QX8","idempotency_key":"k","expected_version":1,"command":{"type":"mark_ready"}}}"#;
        let done = r#"{"t":"done","v":1,"seq":1,"outcome":{"result":"accepted"}}"#;
        std::fs::write(&path, format!("{action}\n{done}\n{action}\n")).expect("write");
        match Journal::open(&path) {
            Err(e @ JournalError::Corrupt { line: 3, .. }) => {
                assert!(e.to_string().contains("given twice"), "{e}");
            }
            other => panic!("expected a repeated number refused, got {:?}", other.err()),
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
