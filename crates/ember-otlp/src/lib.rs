//! OTLP in and out of ember.
//!
//! [`decode`] turns an `ExportTraceServiceRequest` (from protobuf or OTLP/JSON) into
//! [`ember_core::Span`]s routed to projects, applying Phoenix's decoding rules: hex ids,
//! JSON-string attributes parsed, dotted keys unflattened into nested objects, `gen_ai.*`
//! converted to OpenInference names, exception events trimmed. Spans that cannot be stored
//! are counted as rejected so transports can report OTLP `partial_success`.
//! [`encode`] renders stored spans back as OTLP-shaped JSON.

pub mod attributes;
pub mod decode;
pub mod encode;
#[cfg(any(test, feature = "testsuite"))]
pub mod fixtures;
mod gen_ai;

pub use decode::{decode_export, decode_json, decode_protobuf, DecodedExport, OtlpError};
pub use opentelemetry_proto::tonic::collector::trace::v1 as collector;
pub use opentelemetry_proto::tonic::common::v1 as common;
pub use opentelemetry_proto::tonic::resource::v1 as resource;
pub use opentelemetry_proto::tonic::trace::v1 as trace;
