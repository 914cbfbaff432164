//! Spans, traces and sessions as `GET /v1/projects/{p}/spans|traces|sessions` return them, and
//! the answers of span creation and the bulk metadata update.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A span: flat dotted attributes without `openinference.span.kind` (surfaced as `span_kind`).
/// `A` is the attributes' representation: a map when read, a writer of the flattened attributes
/// when the server serialises a stored span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span<'a, A = Map<String, Value>> {
    pub id: String,
    pub name: Cow<'a, str>,
    pub context: SpanContext<'a>,
    pub span_kind: Cow<'a, str>,
    pub parent_id: Option<Cow<'a, str>>,
    pub start_time: String,
    pub end_time: String,
    pub status_code: Cow<'a, str>,
    pub status_message: Cow<'a, str>,
    pub attributes: A,
    pub events: Vec<SpanEvent<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanContext<'a> {
    pub trace_id: Cow<'a, str>,
    pub span_id: Cow<'a, str>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent<'a> {
    pub name: Cow<'a, str>,
    pub timestamp: String,
    pub attributes: Cow<'a, Map<String, Value>>,
}

/// `202` of `POST /v1/projects/{p}/spans`: every span is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpansQueued {
    pub total_received: usize,
    pub total_queued: usize,
}

/// `400` of `POST /v1/projects/{p}/spans` (as JSON text): nothing was stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanRejection {
    pub error: String,
    pub total_received: usize,
    pub total_queued: usize,
    pub total_invalid: usize,
    pub total_duplicates: usize,
    pub invalid_spans: Vec<InvalidSpan>,
    pub duplicate_spans: Vec<DuplicateSpan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidSpan {
    pub span_id: String,
    pub trace_id: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateSpan {
    pub span_id: String,
    pub trace_id: String,
}

/// A trace as the traces list returns it, with its spans' summaries when asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub id: String,
    pub trace_id: String,
    pub project_id: String,
    pub start_time: String,
    pub end_time: String,
    pub token_count_prompt: i64,
    pub token_count_completion: i64,
    pub token_count_total: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spans: Option<Vec<TraceSpan>>,
}

/// A span's summary inside a trace (`TraceSpanData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceSpan {
    pub id: String,
    pub span_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub span_kind: String,
    pub status_code: String,
    pub start_time: String,
    pub end_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub session_id: String,
    pub project_id: String,
    pub start_time: String,
    pub end_time: String,
    pub traces: Vec<SessionTrace>,
    pub token_count_prompt: i64,
    pub token_count_completion: i64,
    pub token_count_total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTrace {
    pub id: String,
    pub trace_id: String,
    pub start_time: String,
    pub end_time: String,
}

/// What `POST /v1/projects/{p}/spans/metadata` did, span by span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataUpdateReport {
    pub spans_processed: usize,
    pub spans_updated: usize,
    pub spans_failed: usize,
    pub errors: Vec<MetadataError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataError {
    pub span_id: String,
    pub error_message: String,
}
