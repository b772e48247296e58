//! Group commit: for every write on SQLite, for the bench's daily steps on PostgreSQL.
//!
//! SQLite has one writer, and with `synchronous = FULL` every commit waits for the disk.
//! Committing each request on its own caps the server at the disk's flush rate. The
//! writer thread instead takes every write request waiting in its queue (up to
//! [`MAX_BATCH`]), runs each in its own savepoint inside one transaction, commits once,
//! and only then answers each request. A request that fails rolls back to its savepoint
//! and leaves the others alone; a failed commit fails them all (the database gone:
//! `unavailable`; the disk full: `storage_full`). A request failing after it wrote
//! takes its batch back with it: those before it are told to try again, those after
//! it go into the next batch. Every answer still follows a durable commit of exactly
//! what it reports.
//!
//! A savepoint copies every page its request touches, to be able to undo it. The
//! bench's daily steps, prepared on a read connection ([`Writer::submit_step`]), run
//! without one: their one expected refusal (the item moved on, or the key was used) is
//! made without writing anything; should one fail after all, the whole batch is
//! rolled back and every request of it fails, as when a commit fails. A step whose
//! batch does not commit is done whole instead, on its own ([`events::apply`]).
//!
//! On PostgreSQL the writer takes only such steps; the other writes commit
//! concurrently from the pool. Batching them saves each its own `BEGIN` and `COMMIT`
//! (two round trips) and a flush of the log, and the steps queued next to each other
//! are written by one statement ([`events::commit_together`]), not two round trips
//! each. A failed statement ends a PostgreSQL transaction, so there any failure rolls
//! the whole batch back. A step waits for a row another transaction is changing; a
//! deadlock with one (two benches working on the same two items at once, one fitting
//! a part) is ended by PostgreSQL after a second, and rolls the batch back: its steps
//! are then done whole.
//!
//! Copying the write-ahead log back into the database file (a checkpoint, which
//! flushes the file to disk) is mostly done by a second thread, woken after commits,
//! at most every [`CHECKPOINT_EVERY`], while the writer goes on (SQLite's own rule, a
//! checkpoint every 1,000 pages by the committing connection, would stop the writer
//! at nearly every batch under load). Such a checkpoint, racing the writer's commits,
//! never quite completes, and the log would only grow; so every [`COMPLETE_EVERY`]
//! the writer checkpoints too, between two batches (`RESTART`: it has little left to
//! copy, then waits for the readers still reading from the log, a fraction of a
//! millisecond, 20 ms at most), and the log starts again from its beginning at the
//! next batch. PostgreSQL checkpoints by itself.

use crate::auth::Actor;
use crate::db::{self, Backend, DbConnection, apply_pragmas, connect};
use crate::error::{ApiError, ApiResult};
use crate::service::events::{self, PreparedStep};
use crossbeam_channel::{Receiver, Sender};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use filiere_shared::api::EventResponse;
use std::panic::{AssertUnwindSafe, catch_unwind};
use tokio::sync::oneshot;

/// Most requests committed together.
pub const MAX_BATCH: usize = 128;

/// A write request waiting for the writer thread.
trait Job: Send {
    /// Runs the request; returns what to answer once the batch commits, and how it ran.
    fn run(self: Box<Self>, conn: &mut DbConnection) -> (Box<dyn Settle>, Ran);
    /// Answers without running (the database cannot be reached).
    fn abort(self: Box<Self>, error: ApiError);
}

/// What the writer's queue carries.
enum Request {
    Job(Box<dyn Job>),
    /// A prepared step, written together with the steps queued next to it.
    Step(Box<StepJob>),
}

impl Request {
    fn abort(self, error: ApiError) {
        match self {
            Request::Job(job) => job.abort(error),
            Request::Step(step) => {
                tracing::warn!(error = %error, "a step left to be done whole");
                // Nothing of it is written: it is done whole instead.
                let _ = step.reply.send(Ok(None));
            }
        }
    }
}

struct StepJob {
    actor: Actor,
    step: PreparedStep,
    reply: oneshot::Sender<ApiResult<Option<EventResponse>>>,
}

/// Writes steps queued next to each other ([`events::commit_together`]), without a
/// savepoint: should they fail, some may be written, and the batch is rolled back.
fn run_steps(conn: &mut DbConnection, steps: Vec<StepJob>) -> (Vec<Box<dyn Settle>>, Ran) {
    let mut replies = Vec::with_capacity(steps.len());
    let mut work = Vec::with_capacity(steps.len());
    for s in steps {
        replies.push(s.reply);
        work.push((s.actor, s.step));
    }
    let (result, ran) = ran(events::commit_together(conn, work).map_err(Failed::Midway));
    let answers: Vec<ApiResult<Option<EventResponse>>> = match result {
        Ok(answers) => answers.into_iter().map(Ok).collect(),
        // Settled once the batch is rolled back (`PendingStep`).
        Err(_) => replies.iter().map(|_| Ok(None)).collect(),
    };
    let settles = replies
        .into_iter()
        .zip(answers)
        .map(|(reply, result)| Box::new(PendingStep(Pending { result, reply })) as Box<dyn Settle>)
        .collect();
    (settles, ran)
}

/// A step's result. Should its batch not commit (a deadlock with another transaction
/// ended it, the connection failed…), the step is answered `None`: done whole, on its
/// own, which answers a step written after all (its commit's outcome unknown) with
/// the first answer.
struct PendingStep(Pending<Option<EventResponse>>);

impl Settle for PendingStep {
    fn settle(self: Box<Self>, commit: Result<(), &CommitFailed>) {
        let Pending { result, reply } = self.0;
        let answer = match commit {
            Ok(()) => result,
            Err(_) => Ok(None),
        };
        let _ = reply.send(answer);
    }
}

/// How a request ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ran {
    Done,
    /// It failed before writing anything ([`Failed::Cleanly`]).
    FailedCleanly,
    /// It failed after writing ([`Failed::Midway`]): the batch must be rolled back.
    FailedMidway,
}

/// A request's result, held until its batch is committed or rolled back.
trait Settle: Send {
    fn settle(self: Box<Self>, commit: Result<(), &CommitFailed>);
}

/// How a request failed.
#[derive(Debug)]
enum Failed {
    /// Before writing anything (or rolled back to its savepoint): it fails alone.
    Cleanly(ApiError),
    /// After writing: its batch is rolled back.
    Midway(ApiError),
}

/// A request's result, and how it ran.
fn ran<T>(result: Result<T, Failed>) -> (ApiResult<T>, Ran) {
    match result {
        Ok(t) => (Ok(t), Ran::Done),
        Err(Failed::Cleanly(e)) => (Err(e), Ran::FailedCleanly),
        Err(Failed::Midway(e)) => {
            tracing::error!(error = %e, "a write failed after writing; its batch is rolled back");
            (Err(e), Ran::FailedMidway)
        }
    }
}

/// A request for the writer: `f` tells how it failed ([`Failed`]). The server's
/// requests come wrapped by [`in_savepoint`] ([`Writer::write`]); steps are written by
/// [`run_steps`].
struct WriteJob<T, F> {
    f: F,
    reply: oneshot::Sender<ApiResult<T>>,
}

/// Runs `f` in its own savepoint (nested in the batch's transaction): whatever it
/// fails with, nothing of it stays.
fn in_savepoint<T, F>(f: F) -> impl FnOnce(&mut DbConnection) -> Result<T, Failed>
where
    F: FnOnce(&mut DbConnection) -> ApiResult<T>,
{
    move |conn| {
        conn.transaction::<T, ApiError, _>(f)
            .map_err(Failed::Cleanly)
    }
}

struct Pending<T> {
    result: ApiResult<T>,
    reply: oneshot::Sender<ApiResult<T>>,
}

impl<T, F> Job for WriteJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, Failed> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut DbConnection) -> (Box<dyn Settle>, Ran) {
        let WriteJob { f, reply } = *self;
        let (result, ran) = ran(f(conn));
        (Box::new(Pending { result, reply }), ran)
    }

    fn abort(self: Box<Self>, error: ApiError) {
        let _ = self.reply.send(Err(error));
    }
}

/// Why a batch did not commit: the code its requests are answered with (the database
/// gone: `unavailable`; the disk full: `storage_full`; else a fault), and the cause
/// for the log.
pub struct CommitFailed {
    code: filiere_shared::ErrorCode,
    cause: String,
}

impl CommitFailed {
    fn of(e: &diesel::result::Error) -> CommitFailed {
        use crate::error::{is_connection_lost, is_disk_full};
        if matches!(e, diesel::result::Error::RollbackTransaction) {
            // Rolled back because another request of the batch failed after writing:
            // not done, and nothing wrong with it; sending it again will do.
            return CommitFailed {
                code: filiere_shared::ErrorCode::Unavailable,
                cause: "rolled back with its batch: another request failed after writing".into(),
            };
        }
        let message = e.to_string();
        let code = if is_disk_full(&message) {
            filiere_shared::ErrorCode::StorageFull
        } else if is_connection_lost(&message) {
            filiere_shared::ErrorCode::Unavailable
        } else {
            filiere_shared::ErrorCode::Internal
        };
        CommitFailed {
            code,
            cause: format!("group commit failed: {message}"),
        }
    }

    fn error(&self) -> ApiError {
        ApiError {
            cause: Some(self.cause.clone()),
            ..ApiError::new(self.code)
        }
    }
}

impl<T: Send> Settle for Pending<T> {
    fn settle(self: Box<Self>, commit: Result<(), &CommitFailed>) {
        let answer = match (commit, self.result) {
            (Ok(()), result) => result,
            // A request that failed keeps its own refusal.
            (Err(_), Err(own)) => Err(own),
            (Err(failed), Ok(_)) => Err(failed.error()),
        };
        // The client may have gone away; its write stands.
        let _ = self.reply.send(answer);
    }
}

/// Handle to the writer thread; cloning it shares the thread.
#[derive(Clone)]
pub struct Writer {
    queue: Sender<Request>,
}

impl Writer {
    /// Requests waiting in the queue.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Starts the writer thread on its own connection to `url` (and, on SQLite, the
    /// checkpoint thread).
    /// Starts the writer on `url`; on SQLite its connection keeps `cache_kib` KiB of
    /// pages in memory.
    pub fn start(url: &str, cache_kib: u32) -> std::io::Result<Writer> {
        let (queue, rx) = crossbeam_channel::unbounded::<Request>();
        let (wake, waked) = crossbeam_channel::bounded::<()>(1);
        let writer_url = url.to_owned();
        std::thread::Builder::new()
            .name("filiere-writer".into())
            .spawn(move || run(&writer_url, cache_kib, &rx, &wake))?;
        if Backend::of_url(url) == Backend::Sqlite {
            let url = url.to_owned();
            std::thread::Builder::new()
                .name("filiere-checkpoint".into())
                .spawn(move || checkpoints(&url, &waked))?;
        }
        Ok(Writer { queue })
    }

    /// Runs `f` in its own savepoint of the next group commit; answers after the commit.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.send(Box::new(WriteJob {
            f: in_savepoint(f),
            reply,
        }))?;
        Self::answer(answer).await
    }

    /// Writes a prepared step in the next group commit, with the steps queued next to
    /// it and without a savepoint ([`events::commit_together`]). The answer goes to
    /// `reply` after the commit (`None`: the step is to be done whole); the caller does
    /// not wait, so that a request handed over by a blocking thread wakes its own
    /// thread once, from the writer.
    pub fn submit_step(
        &self,
        actor: Actor,
        step: PreparedStep,
        reply: oneshot::Sender<ApiResult<Option<EventResponse>>>,
    ) {
        let step = Box::new(StepJob { actor, step, reply });
        if let Err(e) = self.queue.send(Request::Step(step)) {
            e.into_inner()
                .abort(ApiError::internal("the writer thread has stopped"));
        }
    }

    fn send(&self, job: Box<dyn Job>) -> ApiResult<()> {
        self.queue
            .send(Request::Job(job))
            .map_err(|_| ApiError::internal("the writer thread has stopped"))
    }

    async fn answer<T>(answer: oneshot::Receiver<ApiResult<T>>) -> ApiResult<T> {
        answer
            .await
            .map_err(|_| ApiError::internal("the writer thread dropped a request"))?
    }
}

/// Least time between two checkpoints of the checkpoint thread.
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// Least time between two checkpoints of the writer.
pub const COMPLETE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The checkpoint thread: copies the log back into the database file after commits
/// (`PASSIVE`: it blocks neither the writer nor the readers). It ends with the writer.
fn checkpoints(url: &str, waked: &Receiver<()>) {
    let mut conn: Option<DbConnection> = None;
    while waked.recv().is_ok() {
        let c = match connection(&mut conn, url, db::DEFAULT_CACHE_KIB) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the checkpoint thread cannot open the database");
                std::thread::sleep(CHECKPOINT_EVERY);
                continue;
            }
        };
        if let Err(e) = c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::warn!(error = %e, "checkpoint failed; tried again after the next commit");
            conn = None;
        }
        std::thread::sleep(CHECKPOINT_EVERY);
    }
}

/// A thread's connection, opened again when a failure has dropped it.
fn connection<'a>(
    conn: &'a mut Option<DbConnection>,
    url: &str,
    cache_kib: u32,
) -> Result<&'a mut DbConnection, String> {
    match conn {
        Some(c) => Ok(c),
        None => Ok(conn.insert(open(url, cache_kib)?)),
    }
}

fn open(url: &str, cache_kib: u32) -> Result<DbConnection, String> {
    let mut conn = connect(url).map_err(|e| e.to_string())?;
    if let DbConnection::Sqlite(_) = conn {
        apply_pragmas(&mut conn).map_err(|e| e.to_string())?;
        db::set_cache(&mut conn, cache_kib).map_err(|e| e.to_string())?;
        // Checkpoints are run as the module's documentation says.
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0")
            .map_err(|e| e.to_string())?;
    }
    Ok(conn)
}

fn run(url: &str, cache_kib: u32, rx: &Receiver<Request>, wake: &Sender<()>) {
    let sqlite = Backend::of_url(url) == Backend::Sqlite;
    let mut conn: Option<DbConnection> = None;
    let mut checkpointed = std::time::Instant::now();
    // When the connection was last known to work.
    let mut used_at = std::time::Instant::now();
    // Requests of a batch rolled back by another's failure, or never reached: they go
    // first into the next batch.
    let mut carry: Vec<Request> = Vec::new();
    loop {
        let mut jobs = std::mem::take(&mut carry);
        if jobs.is_empty() {
            match rx.recv() {
                Ok(first) => jobs.push(first),
                Err(_) => break,
            }
        }
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        // A connection idle for a while may have been closed by its server (a restart
        // of PostgreSQL): checked first, as the pool does, and opened again if so.
        if let Some(c) = conn.as_mut()
            && let Err(e) = crate::db::check_if_stale(c, &mut used_at)
        {
            tracing::warn!(error = %e, "writer connection lost; opened again");
            conn = None;
        }
        let c = match connection(&mut conn, url, cache_kib) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "writer cannot open the database");
                for job in jobs {
                    job.abort(ApiError {
                        cause: Some(e.clone()),
                        ..ApiError::new(filiere_shared::ErrorCode::Unavailable)
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
                continue;
            }
        };
        crate::metrics::metrics()
            .batch_size
            .observe(jobs.len() as f64);
        let mut settles: Vec<Box<dyn Settle>> = Vec::with_capacity(jobs.len());
        let mut queue = jobs.into_iter().peekable();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            c.transaction::<(), diesel::result::Error, _>(|tx| {
                while let Some(job) = queue.next() {
                    let ran = match job {
                        Request::Job(job) => {
                            let (settle, ran) = job.run(tx);
                            settles.push(settle);
                            ran
                        }
                        Request::Step(first) => {
                            let mut steps = vec![*first];
                            while let Some(Request::Step(next)) =
                                queue.next_if(|r| matches!(r, Request::Step(_)))
                            {
                                steps.push(*next);
                            }
                            let (group, ran) = run_steps(tx, steps);
                            settles.extend(group);
                            ran
                        }
                    };
                    let roll_back = match ran {
                        Ran::Done => false,
                        // On PostgreSQL a failed statement has ended the transaction.
                        Ran::FailedCleanly => !sqlite,
                        Ran::FailedMidway => true,
                    };
                    if roll_back {
                        // The requests after it are not at fault: carried into the
                        // next batch.
                        return Err(diesel::result::Error::RollbackTransaction);
                    }
                }
                Ok(())
            })
        }));
        // What the transaction did not reach (it could not even begin, or was rolled
        // back before them).
        carry.extend(queue);
        match outcome {
            Ok(Ok(())) => {
                used_at = std::time::Instant::now();
                for s in settles {
                    s.settle(Ok(()));
                }
                if !sqlite {
                    // PostgreSQL checkpoints by itself.
                } else if checkpointed.elapsed() >= COMPLETE_EVERY {
                    checkpointed = std::time::Instant::now();
                    // Readers are waited for 20 ms at most (a long report must not
                    // hold the writes up); the log then starts again next time.
                    let done = c
                        .batch_execute("PRAGMA busy_timeout = 20")
                        .and_then(|()| c.batch_execute("PRAGMA wal_checkpoint(RESTART)"));
                    if let Err(e) = done {
                        tracing::warn!(error = %e, "checkpoint failed; tried again later");
                    }
                    if let Err(e) = c.batch_execute("PRAGMA busy_timeout = 10000") {
                        tracing::error!(error = %e, "writer connection replaced");
                        conn = None;
                    }
                } else {
                    // Full: one is already due.
                    let _ = wake.try_send(());
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "group commit failed");
                let failed = CommitFailed::of(&e);
                // Nothing ran (the transaction could not begin): the others are
                // answered with the same failure rather than tried again at once.
                if settles.is_empty() {
                    for job in carry.drain(..) {
                        job.abort(failed.error());
                    }
                }
                for s in settles {
                    s.settle(Err(&failed));
                }
                // Start again on a fresh connection.
                conn = None;
            }
            Err(_) => {
                // A request panicked: its batch is lost (the others are answered with
                // an error when their reply channels drop) and the connection, whose
                // transaction state is unknown, is replaced.
                tracing::error!("a write request panicked; its batch was rolled back");
                drop(settles);
                conn = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{apply_pragmas, connect, run_migrations};
    use diesel::RunQueryDsl;

    fn database() -> (String, DbConnection) {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("filiere-writer-{}-{nanos}.db", std::process::id()));
        let url = path.to_string_lossy().into_owned();
        let mut conn = connect(&url).expect("database");
        apply_pragmas(&mut conn).expect("pragmas");
        run_migrations(&mut conn).expect("migrations");
        (url, conn)
    }

    fn region(c: &mut DbConnection, code: &str) -> diesel::QueryResult<usize> {
        diesel::sql_query(format!(
            "INSERT INTO regions (name, code, created_at) VALUES ('{code}', '{code}', '2026-01-01 00:00:00')"
        ))
        .execute(c)
    }

    fn region_codes(c: &mut DbConnection) -> Vec<String> {
        use crate::schema::regions::dsl::*;
        use diesel::prelude::*;
        regions.select(code).order(code).load(c).expect("regions")
    }

    /// Queues `jobs` while a request holds the writer for 300 ms, so that they make the
    /// next batch together.
    fn one_batch(writer: &Writer, jobs: Vec<Box<dyn Job>>) {
        let (reply, held) = oneshot::channel::<ApiResult<()>>();
        let (started, running) = std::sync::mpsc::channel();
        writer
            .send(Box::new(WriteJob {
                f: move |_: &mut DbConnection| -> Result<(), Failed> {
                    let _ = started.send(());
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok(())
                },
                reply,
            }))
            .expect("queued");
        running.recv().expect("the writer runs the first request");
        for job in jobs {
            writer.send(job).expect("queued");
        }
        held.blocking_recv().expect("answer").expect("held");
    }

    fn guarded<F>(f: F) -> (Box<dyn Job>, oneshot::Receiver<ApiResult<usize>>)
    where
        F: FnOnce(&mut DbConnection) -> ApiResult<usize> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        (
            Box::new(WriteJob {
                f: in_savepoint(f),
                reply,
            }),
            answer,
        )
    }

    /// An unguarded request that adds a region, refused cleanly if its code is taken.
    fn new_region(code: &'static str) -> (Box<dyn Job>, oneshot::Receiver<ApiResult<usize>>) {
        unguarded(move |c| region(c, code).map_err(|e| Failed::Cleanly(e.into())))
    }

    fn unguarded<F>(f: F) -> (Box<dyn Job>, oneshot::Receiver<ApiResult<usize>>)
    where
        F: FnOnce(&mut DbConnection) -> Result<usize, Failed> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        (Box::new(WriteJob { f, reply }), answer)
    }

    #[test]
    fn a_request_failing_after_writing_rolls_its_whole_batch_back() {
        let (url, mut conn) = database();
        let writer = Writer::start(&url, crate::db::DEFAULT_CACHE_KIB).expect("writer");
        let (before, before_answer) = guarded(|c| Ok(region(c, "before")?));
        let (midway, midway_answer) = unguarded(|c| {
            region(c, "midway").map_err(|e| Failed::Cleanly(e.into()))?;
            Err(Failed::Midway(ApiError::internal("failed after writing")))
        });
        let (after, after_answer) = guarded(|c| Ok(region(c, "after")?));
        one_batch(&writer, vec![before, midway, after]);
        // The one at fault keeps its error; the one before it, rolled back with it,
        // is told to try again; the one after it is carried into the next batch.
        let code = |a: oneshot::Receiver<ApiResult<usize>>| {
            a.blocking_recv().expect("answer").map_err(|e| e.code)
        };
        use filiere_shared::ErrorCode;
        assert_eq!(code(before_answer), Err(ErrorCode::Unavailable));
        assert_eq!(code(midway_answer), Err(ErrorCode::Internal));
        assert_eq!(code(after_answer), Ok(1));
        assert_eq!(
            region_codes(&mut conn),
            ["after"],
            "nothing of the failed batch stays"
        );

        // A request refused before it writes anything fails alone.
        let (other, other_answer) = guarded(|c| Ok(region(c, "south")?));
        let (clean, clean_answer) = new_region("south");
        one_batch(&writer, vec![other, clean]);
        assert_eq!(other_answer.blocking_recv().expect("answer").ok(), Some(1));
        let e = clean_answer
            .blocking_recv()
            .expect("answer")
            .expect_err("refused");
        assert_eq!(e.code, filiere_shared::ErrorCode::Duplicate);
        assert_eq!(region_codes(&mut conn), ["after", "south"]);
        let _ = std::fs::remove_file(&url);
    }

    /// PostgreSQL (`TEST_DATABASE_URL`): a failed statement ends the transaction, so a
    /// request failing in a batch takes the whole batch back with it, even one that
    /// failed before writing anything; the requests after it go into the next batch.
    #[test]
    fn on_postgresql_any_failure_rolls_the_batch_back() {
        let Ok(server) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("PostgreSQL only (TEST_DATABASE_URL): skipped");
            return;
        };
        let Some((base, _)) = server.rsplit_once('/') else {
            panic!("TEST_DATABASE_URL has no database name: {server}");
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("filiere_writer_{}_{nanos}", std::process::id());
        let mut admin = connect(&server).expect("server");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create database");
        let url = format!("{base}/{name}");
        let mut conn = connect(&url).expect("database");
        run_migrations(&mut conn).expect("migrations");
        region(&mut conn, "south").expect("a region");
        let writer = Writer::start(&url, crate::db::DEFAULT_CACHE_KIB).expect("writer");

        let (north, north_answer) = new_region("north");
        let (clean, clean_answer) = new_region("south");
        let (west, west_answer) = new_region("west");
        one_batch(&writer, vec![north, clean, west]);
        let codes: Vec<_> = [north_answer, clean_answer, west_answer]
            .into_iter()
            .map(|a| a.blocking_recv().expect("answer").map_err(|e| e.code))
            .collect();
        use filiere_shared::ErrorCode;
        assert_eq!(
            codes,
            [
                Err(ErrorCode::Unavailable),
                Err(ErrorCode::Duplicate),
                Ok(1)
            ]
        );
        assert_eq!(
            region_codes(&mut conn),
            ["south", "west"],
            "nothing of the failed batch stays; the one after it, carried, is written"
        );

        // The writer goes on with the next batch.
        let (east, east_answer) = new_region("east");
        let (north, north_answer) = new_region("north");
        one_batch(&writer, vec![east, north]);
        assert_eq!(east_answer.blocking_recv().expect("answer").ok(), Some(1));
        assert_eq!(north_answer.blocking_recv().expect("answer").ok(), Some(1));
        assert_eq!(region_codes(&mut conn), ["east", "north", "south", "west"]);
        drop((writer, conn));
        diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .expect("drop database");
    }
}
