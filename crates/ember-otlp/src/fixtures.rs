//! OTLP request builders for tests.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};

pub fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }), ..Default::default() }
}

pub fn int_attribute(key: &str, value: i64) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::IntValue(value)) }), ..Default::default() }
}

/// A span with 16-byte trace id `[trace; 16]` and 8-byte span id `[id; 8]`, starting at
/// `id` seconds past 2024-01-01 and lasting `id` milliseconds.
pub fn span(trace: u8, id: u8, parent: Option<u8>, kind: &str) -> Span {
    let start = 1_704_067_200_000_000_000u64 + u64::from(id) * 1_000_000_000;
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: format!("{kind}-{id}"),
        start_time_unix_nano: start,
        end_time_unix_nano: start + u64::from(id) * 1_000_000,
        attributes: vec![string_attribute("openinference.span.kind", kind), string_attribute("input.value", &format!("question {id}"))],
        ..Default::default()
    }
}

pub fn with_error(mut span: Span, message: &str) -> Span {
    span.status = Some(Status { code: 2, message: message.into() });
    span.events.push(span::Event {
        time_unix_nano: span.start_time_unix_nano,
        name: "exception".into(),
        attributes: vec![string_attribute("exception.type", "ValueError"), string_attribute("exception.message", message)],
        dropped_attributes_count: 0,
    });
    span
}

pub fn with_attributes(mut span: Span, attributes: Vec<KeyValue>) -> Span {
    span.attributes.extend(attributes);
    span
}

/// One resource (optionally naming a project) holding `spans`.
pub fn request(project: Option<&str>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    let resource = Resource {
        attributes: project.map(|p| vec![string_attribute("openinference.project.name", p)]).unwrap_or_default(),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
}

/// Hex span id of `span(_, id, ..)`.
pub fn span_id(id: u8) -> String {
    format!("{id:02x}").repeat(8)
}

/// Hex trace id of `span(trace, ..)`.
pub fn trace_id(trace: u8) -> String {
    format!("{trace:02x}").repeat(16)
}
