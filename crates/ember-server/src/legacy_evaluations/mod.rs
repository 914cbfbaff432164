//! Legacy evaluations (`/v1/evaluations`, Phoenix ≤ 13): the protobuf `Evaluation` message and
//! the pandas Arrow stream old clients posted, read into annotations (annotator kind LLM,
//! identifier `""`), and the Arrow streams `GET /v1/evaluations` answers with.

#[cfg(feature = "arrow")]
pub mod arrow;
pub mod protobuf;

use ember_core::{ClassifiedError, ErrorCode};
use ember_store::{AnnotationInput, AnnotationSource, AnnotatorKind, DocumentAnnotationInput};
use serde_json::json;

/// A payload that is not a valid legacy evaluation (422).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EvaluationError(String);

impl EvaluationError {
    pub fn new(message: impl Into<String>) -> Self {
        EvaluationError(message.into())
    }
}

impl ClassifiedError for EvaluationError {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::Unprocessable
    }
}

/// What an evaluation is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Span(String),
    Trace(String),
    /// A retrieved document: the retriever span and the document's position.
    Document(String, i64),
}

/// The rows of one named evaluation.
#[derive(Debug, Default)]
pub struct Evaluations {
    pub spans: Vec<AnnotationInput>,
    pub traces: Vec<AnnotationInput>,
    pub documents: Vec<DocumentAnnotationInput>,
    name: String,
}

impl Evaluations {
    pub fn new(name: String) -> Result<Self, EvaluationError> {
        if name.trim().is_empty() {
            return Err(EvaluationError::new("the evaluation name must not be blank"));
        }
        Ok(Evaluations { name, ..Default::default() })
    }

    /// Adds one subject's result; a row with no label, score or explanation says nothing and is
    /// skipped, as pandas' missing values are.
    pub fn push(
        &mut self,
        subject: Subject,
        label: Option<String>,
        score: Option<f64>,
        explanation: Option<String>,
    ) -> Result<(), EvaluationError> {
        let score = score.filter(|score| !score.is_nan());
        if label.is_none() && score.is_none() && explanation.is_none() {
            return Ok(());
        }
        let annotation = |target_id: String| AnnotationInput {
            target_id,
            name: self.name.clone(),
            label,
            score,
            explanation,
            metadata: json!({}),
            annotator_kind: AnnotatorKind::Llm,
            identifier: String::new(),
            source: AnnotationSource::Api,
        };
        match subject {
            Subject::Span(id) => self.spans.push(annotation(id)),
            Subject::Trace(id) => self.traces.push(annotation(id)),
            Subject::Document(_, position) if position < 0 => {
                return Err(EvaluationError::new(format!("document_position {position} is negative")));
            }
            Subject::Document(id, document_position) => {
                self.documents.push(DocumentAnnotationInput { annotation: annotation(id), document_position });
            }
        }
        Ok(())
    }
}

impl From<EvaluationError> for crate::error::ApiError {
    fn from(error: EvaluationError) -> Self {
        crate::error::ApiError::classified(&error)
    }
}
