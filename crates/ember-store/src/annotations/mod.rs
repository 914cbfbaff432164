//! Span, trace, session and document annotations (and notes, which are annotations named `note`), in Phoenix's
//! model: one row per (name, target, identifier), written by the annotation APIs and read by
//! filters (`evals[...]`, `eval.X.label`).

mod by_id;
mod list;
mod upsert;

pub use ember_core::{AnnotationSource, AnnotationTarget, AnnotatorKind};
use serde_json::Value;

pub(crate) use by_id::annotator_kind;
pub use by_id::AnnotationPatch;
pub use list::{AnnotationDeletion, AnnotationQuery, AnnotationRecord, LlmAnnotation, LlmAnnotations};

/// An annotation of the span or trace with OpenTelemetry id `target_id` (of the session with
/// `session.id` `target_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationInput {
    pub target_id: String,
    pub name: String,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
    pub metadata: Value,
    pub annotator_kind: AnnotatorKind,
    pub identifier: String,
    pub source: AnnotationSource,
}

/// An annotation of one retrieved document (by position) of the span `annotation.target_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentAnnotationInput {
    pub annotation: AnnotationInput,
    pub document_position: i64,
}

/// (annotation table, its key column, the target table, the target's public id column)
pub(crate) fn tables(target: AnnotationTarget) -> (&'static str, &'static str, &'static str, &'static str) {
    match target {
        AnnotationTarget::Span => ("span_annotations", "span_rowid", "spans", "span_id"),
        AnnotationTarget::Trace => ("trace_annotations", "trace_rowid", "traces", "trace_id"),
        AnnotationTarget::Session => ("project_session_annotations", "session_rowid", "project_sessions", "session_id"),
        AnnotationTarget::Document => ("document_annotations", "span_rowid", "spans", "span_id"),
    }
}
