//! Group commit for single ML records (`POST /v1/log`, `ml.log_stream`): records sent at the same
//! time are written together, one transaction per model, by one task, and each request is
//! answered once its record is committed. A batch the store refuses (a record whose label or
//! value types do not fit the model) is written again record by record, so only the records at
//! fault are refused. The queue is bounded: when it is full the caller is told to retry (503).

use std::collections::BTreeMap;

use ember_core::ml::{MlRecord, ModelType};
use ember_store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Records waiting to be written, at most.
const QUEUE: usize = 10_000;
/// Records one batch takes, at most.
const MAX_BATCH: usize = 1_000;

struct Pending {
    model: String,
    model_type: ModelType,
    record: MlRecord,
    received_at: i64,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The sending side of the group-commit task.
#[derive(Clone)]
pub(crate) struct MlBatcher {
    sender: mpsc::Sender<Pending>,
}

impl MlBatcher {
    /// Starts the task writing to `store` (it stops when every sender is gone).
    pub(crate) fn start(store: Store) -> MlBatcher {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, receiver));
        MlBatcher { sender }
    }

    /// Writes one record with others sent at the same time; answers once it is committed.
    pub(crate) async fn write(&self, model: String, model_type: ModelType, record: MlRecord, received_at: i64) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { model, model_type, record, received_at, reply };
        self.sender.try_send(pending).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => StoreError::BatchFailed,
            mpsc::error::TrySendError::Closed(_) => StoreError::WriterStopped,
        })?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn write_batches(store: Store, mut receiver: mpsc::Receiver<Pending>) {
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        let mut by_model: BTreeMap<String, Vec<Pending>> = BTreeMap::new();
        for pending in waiting.drain(..) {
            by_model.entry(pending.model.clone()).or_default().push(pending);
        }
        for (model, batch) in by_model {
            write_batch(&store, &model, batch).await;
        }
    }
}

async fn write_batch(store: &Store, model: &str, mut batch: Vec<Pending>) {
    let model_type = batch[0].model_type;
    let received_at = batch.iter().map(|pending| pending.received_at).max().unwrap_or_default();
    let records: Vec<MlRecord> = batch.iter().map(|pending| pending.record.clone()).collect();
    match store.write_ml_records(model, model_type, records, received_at).await {
        Ok(_) => batch.into_iter().for_each(|pending| {
            let _ = pending.reply.send(Ok(()));
        }),
        // A record that does not fit: each is written on its own, so only those at fault fail.
        Err(StoreError::Invalid(message)) if batch.len() == 1 => {
            let _ = batch.remove(0).reply.send(Err(StoreError::Invalid(message)));
        }
        Err(StoreError::Invalid(_)) => {
            for pending in batch {
                let written = store.write_ml_records(model, pending.model_type, vec![pending.record], pending.received_at).await;
                let _ = pending.reply.send(written.map(|_| ()));
            }
        }
        Err(error) => {
            tracing::error!(%error, model, records = batch.len(), "an ML record batch could not be written");
            for pending in batch {
                let _ = pending.reply.send(Err(StoreError::BatchFailed));
            }
        }
    }
}
