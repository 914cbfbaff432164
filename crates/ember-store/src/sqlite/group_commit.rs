//! Group commit of small writes on SQLite. Each commit of the single writer connection waits for
//! an fsync, so one-row requests written one transaction each are bound by the disk (about a
//! millisecond apiece here). Statements submitted while a transaction is being written wait and
//! go together into the next one; each caller gets its own statement's outcome only after the
//! commit, so an answer still means the row is on disk.
//!
//! Each statement is also a round trip to SQLite's connection thread, which costs more than
//! executing it. Statements of one kind that say how to [`Merge`] are therefore written as one
//! multi-row statement per group, their returned rows matched back to them by key; if a merged
//! statement fails, its statements run one by one so only a failing one fails.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::engine::backend::{Pool, Row, Statement};
use crate::error::{Result, StoreError};

/// Statements in one transaction at most.
const MAX_BATCH: usize = 512;

/// Rows merged into one statement at most (SQLite allows 32,766 bound values).
const MAX_MERGED_ROWS: usize = 256;

/// How one-row statements of one kind merge into a multi-row statement.
pub(crate) struct Merge {
    /// The statement for `rows` rows: each row's values bound in turn, `width` per row, and
    /// `RETURNING` the first row column followed by the key columns.
    pub sql: fn(rows: usize) -> String,
    /// Values per row.
    pub width: usize,
    /// Which of a row's values form its key, in the order `RETURNING` lists the key columns.
    pub key: &'static [usize],
}

/// `(?, ?, …), …`: `rows` tuples of `width` positional parameters, for a merged statement's
/// `VALUES`.
pub(crate) fn values_tuples(rows: usize, width: usize) -> String {
    crate::engine::dialect::Dialect::Sqlite.values_list(rows, width)
}

/// A key value: the key columns are integers or text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyPart {
    Integer(i64),
    Text(String),
}

struct Job {
    statement: Statement,
    /// Set when the statement may merge with others of its kind.
    merge: Option<&'static Merge>,
    reply: oneshot::Sender<Result<Option<Row>>>,
}

/// The queue of statements for the writer; cheap to clone.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    /// Statements submitted and not yet answered (waiting or in a transaction).
    unanswered: Arc<AtomicUsize>,
    /// Statements answered through a merged statement; only tests read it (the writer task
    /// counts either way).
    #[cfg(feature = "testsuite")]
    merged: Arc<AtomicUsize>,
}

impl GroupCommit {
    /// Starts the task that writes the queued statements through `writer`.
    pub(crate) fn start(writer: Pool) -> Self {
        let (jobs, queue) = mpsc::channel(MAX_BATCH * 4);
        let merged = Arc::<AtomicUsize>::default();
        tokio::spawn(write_batches(writer, queue, merged.clone()));
        GroupCommit {
            jobs,
            unanswered: Arc::default(),
            #[cfg(feature = "testsuite")]
            merged,
        }
    }

    /// Statements waiting for a transaction, and those not yet answered.
    #[cfg(feature = "testsuite")]
    pub(crate) fn load(&self) -> (usize, usize) {
        (self.jobs.max_capacity() - self.jobs.capacity(), self.unanswered.load(Ordering::SeqCst))
    }

    /// Statements answered through merged statements so far.
    #[cfg(feature = "testsuite")]
    pub(crate) fn merged(&self) -> usize {
        self.merged.load(Ordering::Relaxed)
    }

    /// Runs a statement in the next group transaction; its first row, once committed. With
    /// `merge`, the statement is one row of that kind's multi-row statement (`statement.sql`
    /// is still its one-row form, used when it runs alone).
    pub(crate) async fn fetch_optional(&self, statement: Statement, merge: Option<&'static Merge>) -> Result<Option<Row>> {
        let (reply, outcome) = oneshot::channel();
        self.unanswered.fetch_add(1, Ordering::SeqCst);
        let sent = self.jobs.send(Job { statement, merge, reply }).await;
        let answer = match sent {
            Ok(()) => outcome.await.map_err(|_| StoreError::WriterStopped),
            Err(_) => Err(StoreError::WriterStopped),
        };
        self.unanswered.fetch_sub(1, Ordering::SeqCst);
        answer?
    }
}

async fn write_batches(writer: Pool, mut queue: mpsc::Receiver<Job>, merged: Arc<AtomicUsize>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        match write_batch(&writer, &mut jobs, &merged).await {
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
async fn write_batch(writer: &Pool, jobs: &mut [Job], merged: &AtomicUsize) -> Result<Vec<Result<Option<Row>>>> {
    let mut tx = writer.begin().await?;
    let mut outcomes: Vec<Option<Result<Option<Row>>>> = jobs.iter().map(|_| None).collect();
    for MergeGroup { merge, members, .. } in mergeable_groups(jobs) {
        for chunk in members.chunks(MAX_MERGED_ROWS) {
            let values = chunk.iter().flat_map(|(index, _)| jobs[*index].statement.values.0.iter().cloned());
            let statement = Statement::new((merge.sql)(chunk.len()), values);
            // On failure the chunk's statements run one by one below.
            if let Ok(rows) = tx.exec().fetch_all(statement).await {
                merged.fetch_add(chunk.len(), Ordering::Relaxed);
                let mut by_key: HashMap<Vec<KeyPart>, Row> = HashMap::with_capacity(rows.len());
                for row in rows {
                    if let Some(key) = returned_key(&row, merge) {
                        by_key.insert(key, row);
                    }
                }
                for (index, key) in chunk {
                    outcomes[*index] = Some(Ok(by_key.remove(key)));
                }
            }
        }
    }
    for (job, outcome) in jobs.iter_mut().zip(outcomes.iter_mut()) {
        if outcome.is_none() {
            let statement = std::mem::replace(&mut job.statement, Statement::new(String::new(), []));
            *outcome = Some(tx.exec().fetch_optional(statement).await);
        }
    }
    tx.commit().await?;
    Ok(outcomes.into_iter().map(|outcome| outcome.unwrap_or(Err(StoreError::BatchFailed))).collect())
}

/// The jobs of one kind that merge, and the keys they hold.
struct MergeGroup {
    merge: &'static Merge,
    /// Job indexes with their keys.
    members: Vec<(usize, Vec<KeyPart>)>,
    keys: HashSet<Vec<KeyPart>>,
}

/// The jobs that can merge, by kind: at least two of a kind, each with a well-formed key that no
/// earlier job of the group has (a repeated key runs alone, after).
fn mergeable_groups(jobs: &[Job]) -> Vec<MergeGroup> {
    let mut groups: Vec<MergeGroup> = Vec::new();
    for (index, job) in jobs.iter().enumerate() {
        let Some(merge) = job.merge else { continue };
        let Some(key) = job_key(&job.statement, merge).filter(|_| job.statement.values.0.len() == merge.width) else { continue };
        let position = match groups.iter().position(|group| std::ptr::eq(group.merge, merge)) {
            Some(position) => position,
            None => {
                groups.push(MergeGroup { merge, members: Vec::new(), keys: HashSet::new() });
                groups.len() - 1
            }
        };
        let group = &mut groups[position];
        if group.keys.insert(key.clone()) {
            group.members.push((index, key));
        }
    }
    groups.into_iter().filter(|group| group.members.len() > 1).collect()
}

fn job_key(statement: &Statement, merge: &Merge) -> Option<Vec<KeyPart>> {
    merge
        .key
        .iter()
        .map(|&index| match statement.values.0.get(index)? {
            sea_query::Value::BigInt(Some(value)) => Some(KeyPart::Integer(*value)),
            sea_query::Value::Int(Some(value)) => Some(KeyPart::Integer(i64::from(*value))),
            sea_query::Value::String(Some(text)) => Some(KeyPart::Text(text.to_string())),
            _ => None,
        })
        .collect()
}

fn returned_key(row: &Row, merge: &Merge) -> Option<Vec<KeyPart>> {
    (1..=merge.key.len())
        .map(|column| match row.get::<i64, _>(column) {
            Ok(value) => Some(KeyPart::Integer(value)),
            Err(_) => row.get::<String, _>(column).ok().map(KeyPart::Text),
        })
        .collect()
}
