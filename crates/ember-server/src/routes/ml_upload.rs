//! The `ml.log` branch of `POST /v1/pandas_arrow`: an ML model's table (see
//! `arize::ml_table`). As for span uploads, the spooled body is read twice at most: the first
//! reading turns every row into a record and has the ML service check it (so a bad row refuses
//! the upload before anything is written), keeping the records when they are few; a large upload
//! is read again and written a chunk at a time, each chunk one transaction, so memory stays
//! bounded by the chunk whatever the upload's size. The answer comes once every record is
//! committed.

use std::fs::File;

use arrow_array::RecordBatch;
use ember_core::ml::MlRecord;
use ember_service::ml_models::{MlLog, MlOrigin, RecordRules};
use ember_service::{Caller, Services};
use futures::{stream, StreamExt};

use crate::arize::ml_table::MlTable;
use crate::error::{ApiError, ApiResult};
use crate::untrusted::{malformed, without_panic};
use crate::AppState;

/// Records kept from the first reading and written at once; an upload with more is read again
/// and written in chunks of this many.
const RECORDS_WRITTEN_AT_ONCE: usize = 10_000;

/// Chunks of a large upload being written at once (one prepared while the other commits).
const WRITES_IN_FLIGHT: usize = 2;

/// An ML upload after its first reading.
pub(super) struct MlUpload {
    pub table: MlTable,
    /// The records, when they are few enough to keep.
    pub records: Option<Vec<MlRecord>>,
    pub count: usize,
}

/// The first reading: every row checked by the service's record rules, column by column; the
/// records decoded (and kept) only while the upload is small.
pub(super) fn first_reading(
    table: MlTable,
    batches: impl Iterator<Item = ApiResult<RecordBatch>>,
    services: &Services,
    now: i64,
) -> ApiResult<MlUpload> {
    let rules = RecordRules::new(MlOrigin::Upload, now);
    let (mut kept, mut count) = (Some(Vec::new()), 0);
    for batch in batches {
        let batch = batch?;
        table.check(&batch, count, &rules)?;
        if kept.as_ref().is_some_and(|kept| kept.len() + batch.num_rows() <= RECORDS_WRITTEN_AT_ONCE) {
            let records = table.records(&batch, count).map_err(ApiError::unprocessable)?;
            services.ml_models().check(&table.model, &records, MlOrigin::Upload, now)?;
            kept.as_mut().expect("kept").extend(records);
        } else {
            kept = None;
        }
        count += batch.num_rows();
    }
    Ok(MlUpload { table, records: kept, count })
}

/// Writes the upload: the kept records, or the file read again a chunk at a time.
pub(super) async fn write(state: &AppState, caller: &Caller, upload: MlUpload, file: File, now: i64) -> ApiResult<()> {
    tracing::debug!(model = upload.table.model, records = upload.count, "arize ML upload");
    let MlUpload { table, records, .. } = upload;
    match records {
        Some(records) => write_chunk(state, caller, &table, records, now).await,
        None => write_again(state, caller, table, file, now).await,
    }
}

async fn write_chunk(state: &AppState, caller: &Caller, table: &MlTable, records: Vec<MlRecord>, now: i64) -> ApiResult<()> {
    let log = MlLog { model: table.model.clone(), model_type: Some(table.model_type), records, origin: MlOrigin::Upload };
    state.services.ml_models().log(caller, log, now).await?;
    Ok(())
}

async fn write_again(state: &AppState, caller: &Caller, table: MlTable, file: File, now: i64) -> ApiResult<()> {
    use std::io::Seek;
    (&file).rewind().map_err(|_| ApiError::internal("cannot read the spooled upload again"))?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<ApiResult<Vec<MlRecord>>>(1);
    let reader_table = table.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let read = || -> ApiResult<()> {
            let (_, batches) = super::pandas_arrow::record_batches(&file)?;
            let (mut chunk, mut row) = (Vec::with_capacity(RECORDS_WRITTEN_AT_ONCE), 0);
            for batch in batches {
                let records = reader_table.records(&batch?, row).map_err(ApiError::unprocessable)?;
                row += records.len();
                for record in records {
                    chunk.push(record);
                    if chunk.len() == RECORDS_WRITTEN_AT_ONCE {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(RECORDS_WRITTEN_AT_ONCE));
                        if sender.blocking_send(Ok(full)).is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = sender.blocking_send(Ok(chunk));
            }
            Ok(())
        };
        // The first reading decoded the same bytes without a panic; this one is guarded all the same.
        let result = without_panic("Arrow IPC", read).unwrap_or_else(|| Err(malformed("the Arrow IPC body")));
        if let Err(error) = result {
            let _ = sender.blocking_send(Err(error));
        }
    });
    let chunks = stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) });
    let table = &table;
    let mut writes = std::pin::pin!(chunks
        .map(|records| async move { write_chunk(state, caller, table, records?, now).await })
        .buffered(WRITES_IN_FLIGHT));
    while let Some(written) = writes.next().await {
        written?;
    }
    reader.await.map_err(|_| ApiError::internal("the upload reader stopped"))?;
    Ok(())
}
