//! Domain types shared by every ember layer: the span model, Relay-style global ids and their
//! types, the annotation model, OpenInference attribute names, the error classification that
//! transports map to HTTP statuses, gRPC codes and GraphQL errors, size limits on names and
//! descriptions, prompts (versions, template rendering, provider request bodies), and LLM
//! prices and costs. This crate
//! does no I/O.

pub mod annotation;
pub mod cost;
pub mod error;
pub mod global_id;
pub mod limits;
pub mod ml;
pub mod prompt;
pub mod python_json;
pub mod semconv;
pub mod span;
pub mod time;

pub use annotation::{AnnotationSource, AnnotationTarget, AnnotatorKind};
pub use error::{ClassifiedError, ErrorCode, INTERNAL_ERROR_MESSAGE};
pub use global_id::{GlobalId, GlobalType};
pub use span::{RoutedSpan, Span, SpanEvent, SpanKind, StatusCode};
