//! Arize AX's REST API v2 shapes, as the `arize` SDK's generated client reads them: spaces,
//! projects, and the `pagination` object every list carries (a list without one is an error to
//! the SDK).

use serde::{Deserialize, Serialize};

/// A space (ember has one, reported under any name asked for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxSpace {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxProject {
    pub id: String,
    pub name: String,
    pub space_id: String,
    /// ISO 8601.
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxPagination {
    /// Present when `has_more` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// `GET /v2/spaces`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxSpaces {
    pub spaces: Vec<AxSpace>,
    pub pagination: AxPagination,
}

/// `GET /v2/projects`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxProjects {
    pub projects: Vec<AxProject>,
    pub pagination: AxPagination,
}

/// `POST /v2/spans`: which spans to list (`limit` and `cursor` are query parameters). Times are
/// ISO 8601, with an offset or in UTC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AxListSpansRequest {
    /// A project id, or a name.
    pub project_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// An AX filter (`status_code = 'ERROR' AND eval.Correctness.label = 'correct'`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_columns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_columns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate_string_length: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxSpanContext {
    pub trace_id: String,
    pub span_id: String,
}

/// The user who wrote an annotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxAnnotator {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A human annotation of a span or trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxAnnotation {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotator: Option<AxAnnotator>,
}

/// An LLM or code evaluation of a span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxEvaluation {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxSpanEvent {
    pub name: String,
    pub timestamp: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// A span as AX lists it; `kind` is an OpenInference span kind and `status_code` OK, ERROR or UNSET.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxSpan {
    pub name: String,
    pub context: AxSpanContext,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    pub start_time: String,
    pub end_time: String,
    pub status_code: String,
    pub status_message: String,
    pub latency_ms: f64,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub annotations: Vec<AxAnnotation>,
    pub trace_annotations: Vec<AxAnnotation>,
    pub evaluations: Vec<AxEvaluation>,
    pub events: Vec<AxSpanEvent>,
}

/// `POST /v2/spans`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxSpans {
    pub spans: Vec<AxSpan>,
    pub pagination: AxPagination,
}

/// `POST /v2/traces`: which traces to list (`limit` and `cursor` are query parameters).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AxListTracesRequest {
    pub project_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// An AX span filter: a trace is listed when any of its spans matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

/// A trace with its spans (at most 1,000; `spans_truncated` says when there were more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxTrace {
    pub trace_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_span_id: Option<String>,
    pub start_time: String,
    pub end_time: String,
    pub spans_truncated: bool,
    pub spans: Vec<AxSpan>,
}

/// `POST /v2/traces`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxTraces {
    pub traces: Vec<AxTrace>,
    pub pagination: AxPagination,
}

/// One value of an annotation record; a field left out is not written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxAnnotationInput {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The annotations of one span (or trace root span, or session id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxAnnotateRecord {
    pub record_id: String,
    pub values: Vec<AxAnnotationInput>,
}

/// `POST /v2/spans/annotate` (answered 202 once written).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxAnnotateSpansRequest {
    pub project_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// `SPAN` (the default), `TRACE` or `SESSION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<String>,
    pub annotations: Vec<AxAnnotateRecord>,
}

/// `DELETE /v2/spans` (a JSON body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxDeleteSpansRequest {
    pub project_id: String,
    pub span_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AxDeleteSpansResponse {
    /// Every id was looked at (ember always finishes a delete).
    pub completed: bool,
    pub deleted_span_ids: Vec<String>,
    /// Ids not found in the project and window.
    pub not_deleted_span_ids: Vec<String>,
}
