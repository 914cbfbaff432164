//! The ingest queue and its writer tasks.
//!
//! Transports submit decoded spans; admission takes permits from two semaphores (spans and
//! bytes), so memory is bounded and a full queue is reported at once instead of growing. A
//! writer task drains the queue, merges waiting submissions into one transaction (group
//! commit) and resolves each submission only after that transaction commits. SQLite has one
//! writer task (it has one writer connection); PostgreSQL several, whose transactions run at
//! once (see `ingest` for why that is safe).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch, Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::error::StoreError;
use crate::write::prepared::PreparedSpan;
use crate::Store;

#[derive(Debug, Clone, Copy)]
pub struct QueueLimits {
    /// Spans accepted but not yet committed (Phoenix's `PHOENIX_MAX_SPANS_QUEUE_SIZE`).
    pub max_spans: usize,
    /// Approximate bytes of spans accepted but not yet committed.
    pub max_bytes: usize,
    /// Most spans written in one transaction.
    pub max_batch_spans: usize,
    /// Transactions writing spans at once (PostgreSQL; SQLite always has one).
    pub writers: usize,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            max_spans: crate::defaults::MAX_QUEUED_SPANS,
            max_bytes: crate::defaults::MAX_QUEUED_BYTES,
            max_batch_spans: crate::defaults::MAX_BATCH_SPANS,
            writers: crate::defaults::INGEST_WRITERS,
        }
    }
}

/// Why a submission was refused without being queued.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum QueueFull {
    #[error("server is at capacity: the ingest queue is full, retry later")]
    AtCapacity,
    #[error("the request holds {spans} spans ({bytes} bytes), more than the ingest queue can ever hold ({max_spans} spans, {max_bytes} bytes); send smaller batches")]
    TooLarge { spans: usize, bytes: usize, max_spans: usize, max_bytes: usize },
    #[error("the server is shutting down")]
    Closed,
}

impl ember_core::ClassifiedError for QueueFull {
    fn error_code(&self) -> ember_core::ErrorCode {
        match self {
            QueueFull::AtCapacity | QueueFull::Closed => ember_core::ErrorCode::Unavailable,
            QueueFull::TooLarge { .. } => ember_core::ErrorCode::PayloadTooLarge,
        }
    }
}

struct Submission {
    spans: Vec<PreparedSpan>,
    done: oneshot::Sender<Result<(), StoreError>>,
    /// Released when the submission is answered, after its transaction finished.
    _permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

impl Submission {
    /// Frees the submission's room in the queue, then answers it, so a caller that submits
    /// again as soon as it is answered finds the room free.
    fn answer(self, reply: Result<(), StoreError>) {
        let Submission { spans, done, _permits } = self;
        drop((spans, _permits));
        let _ = done.send(reply);
    }
}

/// The sending side, cloned into every transport.
#[derive(Clone)]
pub struct IngestQueue {
    store: Store,
    sender: mpsc::UnboundedSender<Submission>,
    span_permits: Arc<Semaphore>,
    byte_permits: Arc<Semaphore>,
    limits: QueueLimits,
}

/// The writer tasks. [`WriterHandle::finished`] closes the queue and flushes what was accepted;
/// dropping the handle leaves the writers running until every [`IngestQueue`] clone is gone.
pub struct WriterHandle {
    tasks: Vec<JoinHandle<()>>,
    closing: watch::Sender<bool>,
}

impl WriterHandle {
    /// Closes the queue (a submission from any [`IngestQueue`] clone still alive is refused as
    /// [`QueueFull::Closed`]), then returns once everything accepted before is committed.
    pub async fn finished(self) {
        let _ = self.closing.send(true);
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "ingest writer task failed");
            }
        }
    }
}

impl IngestQueue {
    pub fn start(store: Store, limits: QueueLimits) -> (IngestQueue, WriterHandle) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let (closing, closed) = watch::channel(false);
        let writers = if store.supports_concurrent_writers() { limits.writers.max(1) } else { 1 };
        let tasks = (0..writers)
            .map(|_| tokio::spawn(run_writer(store.clone(), receiver.clone(), closed.clone(), limits.max_batch_spans)))
            .collect();
        let queue = IngestQueue {
            store,
            sender,
            span_permits: Arc::new(Semaphore::new(limits.max_spans)),
            byte_permits: Arc::new(Semaphore::new(limits.max_bytes)),
            limits,
        };
        (queue, WriterHandle { tasks, closing })
    }

    /// Queues spans for writing. Returns at once with [`QueueFull`] when they do not fit;
    /// otherwise the returned future resolves when they are committed.
    pub fn submit(&self, spans: Vec<PreparedSpan>) -> Result<impl std::future::Future<Output = Result<(), StoreError>>, QueueFull> {
        let count = spans.len();
        let bytes = spans.iter().map(PreparedSpan::approximate_bytes).sum::<usize>().max(1);
        if count > self.limits.max_spans || bytes > self.limits.max_bytes {
            return Err(QueueFull::TooLarge { spans: count, bytes, max_spans: self.limits.max_spans, max_bytes: self.limits.max_bytes });
        }
        let permits_for = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let span_permit =
            Arc::clone(&self.span_permits).try_acquire_many_owned(permits_for(count.max(1))).map_err(|_| QueueFull::AtCapacity)?;
        let byte_permit = Arc::clone(&self.byte_permits).try_acquire_many_owned(permits_for(bytes)).map_err(|_| QueueFull::AtCapacity)?;
        let (done, committed) = oneshot::channel();
        self.sender.send(Submission { spans, done, _permits: (span_permit, byte_permit) }).map_err(|_| QueueFull::Closed)?;
        Ok(async move { committed.await.unwrap_or(Err(StoreError::WriterStopped)) })
    }

    /// Prepares decoded spans for [`IngestQueue::submit`] (CPU work: call from a blocking thread).
    pub fn prepare_spans(&self, spans: Vec<ember_core::RoutedSpan>) -> Vec<PreparedSpan> {
        self.store.prepare_spans(spans)
    }

    /// Whether no span at all can be accepted right now.
    pub fn is_full(&self) -> bool {
        self.span_permits.available_permits() == 0 || self.byte_permits.available_permits() == 0
    }

    /// Spans accepted and not yet committed.
    pub fn queued_spans(&self) -> usize {
        self.limits.max_spans - self.span_permits.available_permits()
    }
}

/// Resolves once [`WriterHandle::finished`] closes the queue (never when the handle was dropped).
async fn closing(closed: &mut watch::Receiver<bool>) {
    if closed.wait_for(|closed| *closed).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Takes the waiting submissions (up to `max_batch_spans`) as one batch; `None` once the queue
/// is closed (every sender gone, or [`WriterHandle::finished`]) and empty.
async fn next_batch(
    receiver: &Mutex<mpsc::UnboundedReceiver<Submission>>,
    closed: &mut watch::Receiver<bool>,
    max_batch_spans: usize,
) -> Option<(Vec<Submission>, usize)> {
    let mut receiver = receiver.lock().await;
    let first = tokio::select! {
        biased;
        first = receiver.recv() => first?,
        () = closing(closed) => {
            // No new submission gets in; those already queued are still received.
            receiver.close();
            receiver.recv().await?
        }
    };
    let mut span_count = first.spans.len();
    let mut submissions = vec![first];
    while span_count < max_batch_spans {
        match receiver.try_recv() {
            Ok(next) => {
                span_count += next.spans.len();
                submissions.push(next);
            }
            Err(_) => break,
        }
    }
    Some((submissions, span_count))
}

async fn run_writer(
    store: Store,
    receiver: Arc<Mutex<mpsc::UnboundedReceiver<Submission>>>,
    mut closed: watch::Receiver<bool>,
    max_batch_spans: usize,
) {
    while let Some((submissions, span_count)) = next_batch(&receiver, &mut closed, max_batch_spans).await {
        let batch: Vec<&PreparedSpan> = submissions.iter().flat_map(|s| s.spans.iter()).collect();
        let started = std::time::Instant::now();
        let result = store.write_spans(&batch).await;
        drop(batch);
        match result {
            Ok(outcome) => {
                tracing::debug!(
                    spans = span_count,
                    submissions = submissions.len(),
                    inserted = outcome.inserted,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "span batch committed"
                );
                for submission in submissions {
                    submission.answer(Ok(()));
                }
            }
            Err(error) if submissions.len() == 1 => {
                tracing::error!(%error, spans = span_count, "span batch failed");
                for submission in submissions {
                    submission.answer(Err(StoreError::BatchFailed));
                }
            }
            Err(error) => {
                // One submission may be at fault: write each alone so the others still commit.
                tracing::warn!(%error, submissions = submissions.len(), "merged span batch failed; writing submissions one by one");
                for submission in submissions {
                    let spans: Vec<&PreparedSpan> = submission.spans.iter().collect();
                    let reply = store.write_spans(&spans).await.map(|_| ()).map_err(|error| {
                        tracing::error!(%error, spans = spans.len(), "span submission failed");
                        StoreError::BatchFailed
                    });
                    drop(spans);
                    submission.answer(reply);
                }
            }
        }
    }
    tracing::info!("ingest writer drained and stopped");
}
