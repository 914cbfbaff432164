//! Domain types shared by every ember layer: the span model, Relay-style global ids,
//! OpenInference attribute names and the error classification that transports map to
//! HTTP statuses and gRPC codes. This crate does no I/O.

pub mod error;
pub mod global_id;
pub mod prompt;
pub mod python_json;
pub mod semconv;
pub mod span;
pub mod time;

pub use error::{ErrorCode, ServiceError};
pub use global_id::GlobalId;
pub use span::{RoutedSpan, Span, SpanEvent, SpanKind, StatusCode};
