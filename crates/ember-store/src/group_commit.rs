//! Group commit of small writes on SQLite. Each commit of the single writer connection waits for
//! an fsync, so one-row requests written one transaction each are bound by the disk (about a
//! millisecond apiece here). Statements submitted while a transaction is being written wait and
//! go together into the next one; each caller gets its own statement's outcome only after the
//! commit, so an answer still means the row is on disk.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::backend::{Pool, Row, Statement};
use crate::error::{Result, StoreError};

/// Statements in one transaction at most.
const MAX_BATCH: usize = 512;

struct Job {
    statement: Statement,
    reply: oneshot::Sender<Result<Option<Row>>>,
}

/// The queue of statements for the writer; cheap to clone.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    /// Statements submitted and not yet answered (waiting or in a transaction).
    unanswered: Arc<AtomicUsize>,
}

impl GroupCommit {
    /// Starts the task that writes the queued statements through `writer`.
    pub(crate) fn start(writer: Pool) -> Self {
        let (jobs, queue) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(writer, queue));
        GroupCommit { jobs, unanswered: Arc::default() }
    }

    /// Statements waiting for a transaction, and those not yet answered.
    pub(crate) fn load(&self) -> (usize, usize) {
        (self.jobs.max_capacity() - self.jobs.capacity(), self.unanswered.load(Ordering::SeqCst))
    }

    /// Runs a statement in the next group transaction; its first row, once committed.
    pub(crate) async fn fetch_optional(&self, statement: Statement) -> Result<Option<Row>> {
        let (reply, outcome) = oneshot::channel();
        self.unanswered.fetch_add(1, Ordering::SeqCst);
        let sent = self.jobs.send(Job { statement, reply }).await;
        let answer = match sent {
            Ok(()) => outcome.await.map_err(|_| StoreError::WriterStopped),
            Err(_) => Err(StoreError::WriterStopped),
        };
        self.unanswered.fetch_sub(1, Ordering::SeqCst);
        answer?
    }
}

async fn write_batches(writer: Pool, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        match write_batch(&writer, &mut jobs).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::error!(%error, statements = jobs.len(), "a group of small writes could not be committed");
                for job in jobs {
                    let _ = job.reply.send(Err(StoreError::BatchFailed));
                }
            }
        }
    }
}

/// One transaction of the jobs' statements. A statement that fails is rolled back alone (SQLite
/// aborts the statement, not the transaction) and its caller gets the error.
async fn write_batch(writer: &Pool, jobs: &mut [Job]) -> Result<Vec<Result<Option<Row>>>> {
    let mut tx = writer.begin().await?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        let statement = std::mem::replace(&mut job.statement, Statement::new(String::new(), []));
        outcomes.push(tx.exec().fetch_optional(statement).await);
    }
    tx.commit().await?;
    Ok(outcomes)
}
