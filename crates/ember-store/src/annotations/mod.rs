//! Span and trace annotations (and notes, which are annotations named `note`), in Phoenix's
//! model: one row per (name, target, identifier), written by the annotation APIs and read by
//! filters (`evals[...]`, `eval.X.label`).

mod by_id;
mod list;
mod upsert;

use serde_json::Value;

pub use by_id::AnnotationPatch;
pub use list::{AnnotationDeletion, AnnotationQuery, AnnotationRecord, LlmAnnotation, LlmAnnotations};

/// Who or what produced an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotatorKind {
    Llm,
    Code,
    Human,
}

impl AnnotatorKind {
    pub fn parse(text: &str) -> Option<AnnotatorKind> {
        match text {
            "LLM" => Some(AnnotatorKind::Llm),
            "CODE" => Some(AnnotatorKind::Code),
            "HUMAN" => Some(AnnotatorKind::Human),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AnnotatorKind::Llm => "LLM",
            AnnotatorKind::Code => "CODE",
            AnnotatorKind::Human => "HUMAN",
        }
    }
}

/// Where an annotation was made: through the API, or in an app (Phoenix's UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationSource {
    Api,
    App,
}

impl AnnotationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AnnotationSource::Api => "API",
            AnnotationSource::App => "APP",
        }
    }
}

/// An annotation of the span (or trace) with OpenTelemetry id `target_id`.
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

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Span,
    Trace,
    Session,
    Document,
}

impl Target {
    /// (annotation table, its key column, the target table, the target's public id column)
    pub(crate) fn tables(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Target::Span => ("span_annotations", "span_rowid", "spans", "span_id"),
            Target::Trace => ("trace_annotations", "trace_rowid", "traces", "trace_id"),
            Target::Session => ("project_session_annotations", "session_rowid", "project_sessions", "session_id"),
            Target::Document => ("document_annotations", "span_rowid", "spans", "span_id"),
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Target::Span | Target::Document => "span",
            Target::Trace => "trace",
            Target::Session => "session",
        }
    }
}
