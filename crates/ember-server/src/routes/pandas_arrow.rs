//! `POST /v1/pandas_arrow`: the `arize` SDK's table uploads — `spans.log` (spans, with the
//! evaluations joined to them), `log_evaluations` and `update_evaluations(force_http=True)`
//! (evaluations of stored spans), and `ml.log` (an ML model's records, see `ml_upload`). The body
//! is an Arrow IPC stream whose schema metadata `arize-schema` holds a base64 `public.Schema`
//! naming the project or model; the space (`arize-space-id`) is logged, not required.
//!
//! The body is spooled to a temporary file, then read twice at most: first every row is turned
//! into a span (so a bad row refuses the upload before anything is written), keeping the spans
//! when they are few; when they are many, the file is read again and its spans are written a
//! chunk at a time, so memory stays bounded whatever the upload's size. The answer comes once
//! every span is committed.

use std::fs::File;

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_schema::SchemaRef;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ember_core::{RoutedSpan, Span};
use ember_service::{Caller, ProjectRef, Services};
use futures::{stream, StreamExt};
use prost::Message;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::arize::ml_table::MlTable;
use crate::arize::proto;
use crate::arize::span_table::{evaluation_row, holds_spans, span_from_row};
use crate::authentication::RequestCaller;
use crate::body::content_encoding;
use crate::error::{ApiError, ApiResult};
use crate::rows::batch_rows;
use crate::spool::Spool;
use crate::untrusted::{decode_off_runtime, malformed, without_panic};
use crate::AppState;

use super::ml_upload::MlUpload;

/// Spans kept from the first reading and written at once; an upload with more is read again
/// and written a chunk at a time.
const SPANS_WRITTEN_AT_ONCE: usize = 5000;

/// The answer the SDK expects (it logs the URI when there is one).
#[derive(Serialize)]
pub struct UploadAccepted {
    #[serde(rename = "realTimeIngestionUri")]
    real_time_ingestion_uri: String,
}

type Row = Map<String, Value>;

/// What an upload holds, after its first reading.
enum Upload {
    /// An ML model's records.
    Ml(Box<MlUpload>),
    /// Spans, kept when they are few; `evaluations` are rows of `eval.*` cells.
    Spans { project: String, spans: Option<Vec<Span>>, count: usize, evaluations: Vec<Row> },
    /// Evaluations of stored spans.
    Evaluations { project: String, rows: Vec<Row> },
}

pub async fn upload(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<UploadAccepted>> {
    caller.require_write()?;
    if let Some(space) = headers.get("arize-space-id").or_else(|| headers.get("space_id")).and_then(|value| value.to_str().ok()) {
        tracing::debug!(space, "arize upload");
    }
    let spool = Spool::start(content_encoding(&headers)?, state.max_upload_bytes);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(axum::http::StatusCode::BAD_REQUEST, "the request body could not be read"))?;
        if !spool.push(chunk).await {
            break;
        }
    }
    let file = spool.finish().await?;
    let evaluations_cap = state.max_body_bytes as u64;
    let now = ember_core::time::now_nanos();
    let services = state.services.clone();
    let (file, upload) =
        decode_off_runtime("Arrow IPC", move || read_upload(&file, evaluations_cap, &services, now).map(|upload| (file, upload))).await?;
    match upload {
        Upload::Ml(upload) => super::ml_upload::write(&state, &caller, *upload, file, now).await?,
        Upload::Evaluations { project, rows } => {
            state.services.span_updates().evaluations(&caller, ProjectRef::Name(&project), &rows).await?;
        }
        Upload::Spans { project, spans, count, evaluations } => {
            tracing::debug!(project, spans = count, "arize span upload");
            match spans {
                Some(spans) => write(&state, &caller, &project, spans).await?,
                None => {
                    use std::io::Seek;
                    (&file).rewind().map_err(|_| ApiError::internal("cannot read the spooled upload again"))?;
                    write_again(&state, &caller, &project, file).await?
                }
            }
            if !evaluations.is_empty() {
                state.services.span_updates().evaluations(&caller, ProjectRef::Name(&project), &evaluations).await?;
            }
        }
    }
    Ok(Json(UploadAccepted { real_time_ingestion_uri: String::new() }))
}

async fn write(state: &AppState, caller: &Caller, project: &str, spans: Vec<Span>) -> ApiResult<()> {
    let routed = spans.into_iter().map(|span| RoutedSpan { project_name: project.to_string(), span }).collect();
    Ok(state.services.ingest().write(caller, routed).await?)
}

/// Chunks of a large upload being written at once.
const WRITES_IN_FLIGHT: usize = 2;

/// Reads the spooled upload again and writes its spans a chunk at a time.
async fn write_again(state: &AppState, caller: &Caller, project: &str, file: File) -> ApiResult<()> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<ApiResult<Vec<Span>>>(1);
    let reader = tokio::task::spawn_blocking(move || {
        let read = || -> ApiResult<()> {
            let (_, batches) = record_batches(&file)?;
            let mut index = 0;
            for batch in batches {
                for chunk in batch_rows(&batch?)?.chunks(SPANS_WRITTEN_AT_ONCE) {
                    let spans = chunk
                        .iter()
                        .map(|row| {
                            index += 1;
                            span_from_row(row, index - 1)
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|error| ApiError::unprocessable(error.to_string()))?;
                    if sender.blocking_send(Ok(spans)).is_err() {
                        return Ok(());
                    }
                }
            }
            Ok(())
        };
        // The first reading decoded the same bytes without a panic; this one is guarded all the same.
        let result = without_panic("Arrow IPC", read).unwrap_or_else(|| Err(malformed("the Arrow IPC body")));
        if let Err(error) = result {
            let _ = sender.blocking_send(Err(error));
        }
    });
    // Two chunks are written at once: one is prepared (serialised, compressed) while the
    // other commits.
    let chunks = stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) });
    let mut writes =
        std::pin::pin!(chunks.map(|spans| async move { write(state, caller, project, spans?).await }).buffered(WRITES_IN_FLIGHT));
    while let Some(written) = writes.next().await {
        written?;
    }
    reader.await.map_err(|_| ApiError::internal("the upload reader stopped"))?;
    Ok(())
}

/// What an upload's `arize-schema` describes.
enum Described {
    /// Spans or evaluations of the project named.
    Tracing(String),
    Ml(Box<(proto::Constants, proto::ArrowSchema)>),
}

fn described(arize_schema: Option<&str>) -> ApiResult<Described> {
    let encoded =
        arize_schema.ok_or_else(|| ApiError::unprocessable("the Arrow schema has no arize-schema metadata naming the project"))?;
    let bytes = STANDARD.decode(encoded.trim()).map_err(|_| ApiError::unprocessable("arize-schema is not base64"))?;
    let schema = proto::Schema::decode(bytes.as_slice()).map_err(|_| ApiError::unprocessable("arize-schema is not a protobuf Schema"))?;
    let constants = schema.constants.unwrap_or_default();
    if let Some(columns) = schema.arrow_schema {
        return Ok(Described::Ml(Box::new((constants, columns))));
    }
    if schema.arize_spans.is_none() {
        return Err(ApiError::unprocessable("arize-schema describes neither spans nor an ML model's records"));
    }
    let project = constants.model_id;
    if let Some(problem) = ember_core::limits::name_problem("project name", &project) {
        return Err(ApiError::unprocessable(format!("arize-schema: {problem}")));
    }
    Ok(Described::Tracing(project))
}

/// The schema of an Arrow IPC stream and its record batches.
pub(super) fn record_batches(file: &File) -> ApiResult<(SchemaRef, impl Iterator<Item = ApiResult<RecordBatch>> + '_)> {
    crate::arrow_framing::check(&mut { file }).map_err(ApiError::unprocessable)?;
    let reader = StreamReader::try_new(std::io::BufReader::new(file), None)
        .map_err(|_| ApiError::unprocessable("the body is not an Arrow IPC stream"))?;
    let schema = reader.schema();
    Ok((schema, reader.map(|batch| batch.map_err(|_| ApiError::unprocessable("the Arrow stream is corrupt")))))
}

/// The first reading: every row checked; spans and ML records kept when there are few.
/// Evaluations of stored spans are applied all at once, so their uploads are held to the body cap
/// (`evaluations_cap`).
fn read_upload(file: &File, evaluations_cap: u64, services: &Services, now: i64) -> ApiResult<Upload> {
    let (schema, batches) = record_batches(file)?;
    let project = match described(schema.metadata().get("arize-schema").map(|value| value.as_str()))? {
        Described::Ml(described) => {
            let (constants, columns) = *described;
            let table = MlTable::new(constants, columns, &schema).map_err(ApiError::unprocessable)?;
            return Ok(Upload::Ml(Box::new(super::ml_upload::first_reading(table, batches, services, now)?)));
        }
        Described::Tracing(project) => project,
    };
    let rows = batches.map(|batch| batch_rows(&batch?));
    if !holds_spans(schema.fields().iter().map(|field| field.name().as_str())) {
        if file.metadata().map_or(0, |metadata| metadata.len()) > evaluations_cap {
            return Err(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("an evaluations upload may hold {evaluations_cap} bytes (EMBER_MAX_BODY_BYTES); send it in parts"),
            ));
        }
        let mut all = Vec::new();
        for batch in rows {
            all.extend(batch?);
        }
        return Ok(Upload::Evaluations { project, rows: all });
    }
    let (mut kept, mut count, mut evaluations) = (Some(Vec::new()), 0, Vec::new());
    for batch in rows {
        for row in batch? {
            let span = span_from_row(&row, count).map_err(|error| ApiError::unprocessable(error.to_string()))?;
            count += 1;
            evaluations.extend(evaluation_row(&row));
            match &mut kept {
                Some(spans) if spans.len() < SPANS_WRITTEN_AT_ONCE => spans.push(span),
                _ => kept = None,
            }
        }
    }
    Ok(Upload::Spans { project, spans: kept, count, evaluations })
}
