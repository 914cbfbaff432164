//! `phoenix.proto.evaluation.v1.Evaluation`, the protobuf body old Phoenix clients posted to
//! `/v1/evaluations`, declared with prost's derive (there is no `.proto` build step).

use prost::Message;

use super::{EvaluationError, Evaluations, Subject};

#[derive(Clone, PartialEq, Message)]
pub struct Evaluation {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub subject_id: Option<SubjectId>,
    #[prost(message, optional, tag = "3")]
    pub result: Option<EvaluationResult>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SubjectId {
    #[prost(oneof = "subject_id::Kind", tags = "1, 2, 3")]
    pub kind: Option<subject_id::Kind>,
}

pub mod subject_id {
    /// Named as the protobuf's oneof members are.
    #[allow(clippy::enum_variant_names)]
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Kind {
        #[prost(string, tag = "1")]
        TraceId(String),
        #[prost(string, tag = "2")]
        SpanId(String),
        #[prost(message, tag = "3")]
        DocumentRetrievalId(super::DocumentRetrievalId),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct DocumentRetrievalId {
    #[prost(string, tag = "1")]
    pub span_id: String,
    #[prost(int32, tag = "2")]
    pub document_position: i32,
}

/// `google.protobuf.DoubleValue` and `StringValue` wrappers, which prost maps to `Option<f64>`
/// and `Option<String>`.
#[derive(Clone, PartialEq, Message)]
pub struct EvaluationResult {
    #[prost(message, optional, tag = "1")]
    pub score: Option<f64>,
    #[prost(message, optional, tag = "2")]
    pub label: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub explanation: Option<String>,
}

/// One `Evaluation` message (a whole request body) as evaluations of one subject.
pub fn decode(body: &[u8]) -> Result<Evaluations, EvaluationError> {
    let message = Evaluation::decode(body).map_err(|_| EvaluationError::new("the body is not a phoenix.proto.evaluation.v1.Evaluation"))?;
    let subject = match message.subject_id.and_then(|s| s.kind) {
        Some(subject_id::Kind::TraceId(id)) => Subject::Trace(id),
        Some(subject_id::Kind::SpanId(id)) => Subject::Span(id),
        Some(subject_id::Kind::DocumentRetrievalId(document)) => Subject::Document(document.span_id, i64::from(document.document_position)),
        None => return Err(EvaluationError::new("the evaluation has no subject_id")),
    };
    let result = message.result.unwrap_or_default();
    let mut evaluations = Evaluations::new(message.name)?;
    evaluations.push(subject, result.label, result.score, result.explanation)?;
    Ok(evaluations)
}
