//! Annotations as the project annotation lists return them, and the answers of the writes.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A stored annotation. The annotated thing's id is one field whose name says what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation<'a> {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub source: Cow<'a, str>,
    pub user_id: Option<String>,
    pub name: Cow<'a, str>,
    pub annotator_kind: Cow<'a, str>,
    pub result: AnnotationResult<'a>,
    pub metadata: Cow<'a, Value>,
    pub identifier: Cow<'a, str>,
    #[serde(flatten)]
    pub target: AnnotationTargetId<'a>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotationResult<'a> {
    pub label: Option<Cow<'a, str>>,
    pub score: Option<f64>,
    pub explanation: Option<Cow<'a, str>>,
}

/// `span_id`, `trace_id` or `session_id`: the OpenTelemetry (or session) id of what is annotated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnnotationTargetId<'a> {
    #[serde(rename = "span_id")]
    Span(Cow<'a, str>),
    #[serde(rename = "trace_id")]
    Trace(Cow<'a, str>),
    #[serde(rename = "session_id")]
    Session(Cow<'a, str>),
}

/// `{"data": [{"id": ...}]}` of a synchronous annotation write (empty when asynchronous).
pub type IdList = crate::Data<Vec<crate::Id>>;

/// What `POST /v1/projects/{p}/spans/evaluations` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationsWritten {
    pub spans_processed: usize,
    pub evaluations_written: usize,
}

/// What `POST /v1/projects/{p}/spans/annotations` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotationsWritten {
    pub spans_processed: usize,
    pub annotations_written: usize,
}

/// An annotation config: its stored body (`type`, `description`, `optimization_direction`,
/// values or bounds), then its name and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotationConfig {
    #[serde(flatten)]
    pub config: serde_json::Map<String, Value>,
    pub name: String,
    pub id: String,
}
