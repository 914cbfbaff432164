//! The one OTLP ingest path behind OTLP/HTTP and OTLP/gRPC: decode off the async threads,
//! queue, and wait for the commit.

use bytes::Bytes;
use ember_core::{ErrorCode, ServiceError};
use ember_otlp::collector::ExportTraceServiceRequest;
use ember_otlp::{decode_export, decode_json, decode_protobuf, DecodedExport, OtlpError};
use ember_store::{IngestQueue, PreparedSpan, QueueFull, StoreError};

use crate::body::{decompress, BodyError, ContentEncoding};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpFormat {
    Protobuf,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error(transparent)]
    Decode(#[from] OtlpError),
    #[error(transparent)]
    Queue(#[from] QueueFull),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("decoding task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl ServiceError for IngestError {
    fn error_code(&self) -> ErrorCode {
        match self {
            IngestError::Body(error) => error.error_code(),
            IngestError::Decode(error) => error.error_code(),
            IngestError::Queue(error) => error.error_code(),
            IngestError::Store(error) => error.error_code(),
            IngestError::Task(_) => ErrorCode::Internal,
        }
    }
}

/// What the client is told about spans it sent that were not stored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub rejected_spans: i64,
    pub error_message: String,
}

/// Decompresses, decodes and ingests an OTLP/HTTP body.
pub async fn ingest_body(
    queue: &IngestQueue,
    body: Bytes,
    encoding: ContentEncoding,
    format: OtlpFormat,
    header_project: Option<String>,
    max_body_bytes: usize,
) -> Result<ExportReport, IngestError> {
    refuse_when_full(queue)?;
    let preparer = queue.clone();
    let (spans, report) = tokio::task::spawn_blocking(move || -> Result<_, IngestError> {
        let raw = decompress(body, encoding, max_body_bytes)?;
        let request = match format {
            OtlpFormat::Protobuf => decode_protobuf(&raw)?,
            OtlpFormat::Json => decode_json(&raw)?,
        };
        Ok(prepare(&preparer, decode_export(request, header_project.as_deref())))
    })
    .await??;
    submit(queue, spans, report).await
}

/// Ingests an already-decoded request (gRPC).
pub async fn ingest_request(queue: &IngestQueue, request: ExportTraceServiceRequest) -> Result<ExportReport, IngestError> {
    refuse_when_full(queue)?;
    let preparer = queue.clone();
    let (spans, report) = tokio::task::spawn_blocking(move || prepare(&preparer, decode_export(request, None))).await?;
    submit(queue, spans, report).await
}

/// Refuses before decoding when nothing more fits, as Phoenix checks capacity first.
fn refuse_when_full(queue: &IngestQueue) -> Result<(), IngestError> {
    if queue.is_full() {
        return Err(QueueFull::AtCapacity.into());
    }
    Ok(())
}

/// Serialises the decoded spans for the writer (CPU work, on the calling blocking thread).
fn prepare(queue: &IngestQueue, decoded: DecodedExport) -> (Vec<PreparedSpan>, ExportReport) {
    let report = ExportReport {
        rejected_spans: decoded.rejected_spans as i64,
        error_message: if decoded.rejected_spans == 0 {
            String::new()
        } else {
            format!("{} spans rejected: {}", decoded.rejected_spans, decoded.rejection_reasons.join("; "))
        },
    };
    (queue.prepare_spans(decoded.spans), report)
}

async fn submit(queue: &IngestQueue, spans: Vec<PreparedSpan>, report: ExportReport) -> Result<ExportReport, IngestError> {
    if !spans.is_empty() {
        queue.submit(spans)?.await?;
    }
    Ok(report)
}
