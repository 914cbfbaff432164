//! `ExportTraceServiceRequest` → project-routed [`Span`]s.

use ember_core::semconv::{
    INPUT_MIME_TYPE, INPUT_VALUE, LLM_TOKEN_COUNT_COMPLETION, LLM_TOKEN_COUNT_PROMPT, LLM_TOKEN_COUNT_TOTAL, PROJECT_NAME, SPAN_KIND,
};
use ember_core::{ClassifiedError, ErrorCode, RoutedSpan, Span, SpanEvent, SpanKind, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{span, status};
use prost::Message;
use serde_json::{json, Map, Value};

use crate::attributes::{any_value_to_json, decode_key_values, unflatten};
use crate::gen_ai;

pub const DEFAULT_PROJECT: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("request body is not a valid OTLP ExportTraceServiceRequest protobuf: {0}")]
    InvalidProtobuf(#[from] prost::DecodeError),
    #[error("request body is not a valid OTLP/JSON ExportTraceServiceRequest: {0}")]
    InvalidJson(#[from] serde_json::Error),
}

impl ClassifiedError for OtlpError {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::Unprocessable
    }
}

pub fn decode_protobuf(body: &[u8]) -> Result<ExportTraceServiceRequest, OtlpError> {
    Ok(ExportTraceServiceRequest::decode(body)?)
}

pub fn decode_json(body: &[u8]) -> Result<ExportTraceServiceRequest, OtlpError> {
    Ok(serde_json::from_slice(body)?)
}

#[derive(Debug, Default)]
pub struct DecodedExport {
    pub spans: Vec<RoutedSpan>,
    pub rejected_spans: usize,
    /// The first few rejection reasons, for OTLP `partial_success.error_message`.
    pub rejection_reasons: Vec<String>,
}

impl DecodedExport {
    fn reject(&mut self, reason: String) {
        self.rejected_spans += 1;
        if self.rejection_reasons.len() < 5 {
            self.rejection_reasons.push(reason);
        }
    }
}

/// Decodes every span of the request. `header_project` is the `x-project-name` header, which
/// takes precedence over the resource attribute `openinference.project.name`.
pub fn decode_export(request: ExportTraceServiceRequest, header_project: Option<&str>) -> DecodedExport {
    let mut decoded = DecodedExport::default();
    for resource_spans in request.resource_spans {
        let resource_project = resource_spans.resource.as_ref().and_then(|resource| {
            resource.attributes.iter().find(|kv| kv.key == PROJECT_NAME).and_then(|kv| match kv.value.clone().map(any_value_to_json) {
                Some(Value::String(name)) if !name.trim().is_empty() => Some(name),
                _ => None,
            })
        });
        let project_name = header_project
            .filter(|name| !name.trim().is_empty())
            .map(str::to_string)
            .or(resource_project)
            .unwrap_or_else(|| DEFAULT_PROJECT.to_string());
        let project_problem = ember_core::limits::name_problem("project name", &project_name);
        for scope_spans in resource_spans.scope_spans {
            for otlp_span in scope_spans.spans {
                if let Some(problem) = &project_problem {
                    decoded.reject(problem.clone());
                    continue;
                }
                match decode_span(otlp_span) {
                    Ok(span) => decoded.spans.push(RoutedSpan { project_name: project_name.clone(), span }),
                    Err(reason) => decoded.reject(reason),
                }
            }
        }
    }
    decoded
}

fn hex_id(bytes: &[u8], expected_len: usize, what: &str) -> Result<String, String> {
    if bytes.len() != expected_len {
        return Err(format!("{what} must be {expected_len} bytes, got {}", bytes.len()));
    }
    if bytes.iter().all(|b| *b == 0) {
        return Err(format!("{what} must not be all zeros"));
    }
    Ok(hex::encode(bytes))
}

fn nanos(value: u64, what: &str) -> Result<i64, String> {
    i64::try_from(value).map_err(|_| format!("{what} {value} is out of range"))
}

fn decode_span(otlp: opentelemetry_proto::tonic::trace::v1::Span) -> Result<Span, String> {
    let trace_id = hex_id(&otlp.trace_id, 16, "trace_id")?;
    let span_id = hex_id(&otlp.span_id, 8, "span_id").map_err(|e| format!("{e} (trace {trace_id})"))?;
    let parent_id = if otlp.parent_span_id.is_empty() || otlp.parent_span_id.iter().all(|b| *b == 0) {
        None
    } else {
        Some(hex_id(&otlp.parent_span_id, 8, "parent_span_id").map_err(|e| format!("{e} (span {span_id})"))?)
    };
    let start_time = nanos(otlp.start_time_unix_nano, "start_time_unix_nano")?;
    let end_time = nanos(otlp.end_time_unix_nano, "end_time_unix_nano")?;

    let (status_code, status_message) = match otlp.status {
        Some(status) => {
            let code = match status::StatusCode::try_from(status.code) {
                Ok(status::StatusCode::Ok) => StatusCode::Ok,
                Ok(status::StatusCode::Error) => StatusCode::Error,
                _ => StatusCode::Unset,
            };
            (code, status.message)
        }
        None => (StatusCode::Unset, String::new()),
    };
    if let Some(problem) = crate::attributes::too_many_attributes(otlp.attributes.len()) {
        return Err(format!("span {span_id}: {problem}"));
    }
    let events = otlp.events.into_iter().map(decode_event).collect::<Result<_, _>>()?;
    let fields = SpanFields { trace_id, span_id, parent_id, name: otlp.name, start_time, end_time, status_code, status_message, events };
    span_from_flat(fields, decode_key_values(otlp.attributes))
}

/// A span's fields other than its attributes.
#[derive(Debug, Clone)]
pub struct SpanFields {
    pub trace_id: String,
    pub span_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub start_time: i64,
    pub end_time: i64,
    pub status_code: StatusCode,
    pub status_message: String,
    pub events: Vec<SpanEvent>,
}

/// A span from its fields and its flat attributes (JSON-string attributes already parsed), with
/// the rules every way of sending spans shares: GenAI attributes converted, token counts as
/// integers, the kind read from `openinference.span.kind`, dotted keys unflattened, and the
/// storage limits checked.
pub fn span_from_flat(fields: SpanFields, mut flat: Vec<(String, Value)>) -> Result<Span, String> {
    let span_id = &fields.span_id;
    if let Some(problem) = crate::attributes::too_many_attributes(flat.len()) {
        return Err(format!("span {span_id}: {problem}"));
    }
    let sent = flat.len();
    gen_ai::convert(&mut flat);
    // Converted GenAI messages add keys, held to the same cap as the keys sent.
    if let Some(problem) = crate::attributes::too_many_attributes(flat.len() - sent) {
        return Err(format!("span {span_id}: its gen_ai attributes convert to too many: {problem}"));
    }
    normalise_values(&mut flat);
    let span_kind = flat
        .iter()
        .rev()
        .find(|(key, _)| key == SPAN_KIND)
        .and_then(|(_, value)| value.as_str())
        .map_or(SpanKind::Unknown, SpanKind::parse);
    let SpanFields { trace_id, span_id, parent_id, name, start_time, end_time, status_code, status_message, events } = fields;
    let span = Span {
        trace_id,
        span_id,
        parent_id,
        name,
        span_kind,
        start_time,
        end_time,
        attributes: unflatten(flat),
        events,
        status_code,
        status_message,
    };
    match span.storage_problem() {
        Some(problem) => Err(format!("span {}: {problem}", span.span_id)),
        None => Ok(span),
    }
}

/// Token counts become integers when they can; a non-string `input.value` / `output.value` is
/// JSON-encoded with a JSON mime type, as Phoenix does.
fn normalise_values(flat: &mut Vec<(String, Value)>) {
    let mut json_mime_for: Vec<&'static str> = Vec::new();
    for (key, value) in flat.iter_mut() {
        match key.as_str() {
            LLM_TOKEN_COUNT_PROMPT | LLM_TOKEN_COUNT_COMPLETION | LLM_TOKEN_COUNT_TOTAL => {
                let as_int = match value {
                    Value::String(text) => text.trim().parse::<i64>().ok(),
                    Value::Number(number) if number.is_f64() => number.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64),
                    _ => None,
                };
                if let Some(int) = as_int {
                    *value = json!(int);
                }
            }
            INPUT_VALUE | "output.value" if !value.is_string() => {
                *value = Value::String(value.to_string());
                json_mime_for.push(if key == INPUT_VALUE { INPUT_MIME_TYPE } else { "output.mime_type" });
            }
            _ => {}
        }
    }
    for mime_key in json_mime_for {
        flat.retain(|(key, _)| key != mime_key);
        flat.push((mime_key.to_string(), json!("application/json")));
    }
}

const EXCEPTION_KEYS: [&str; 4] = ["exception.type", "exception.message", "exception.escaped", "exception.stacktrace"];

fn decode_event(event: span::Event) -> Result<SpanEvent, String> {
    let timestamp = nanos(event.time_unix_nano, "event time_unix_nano")?;
    let mut attributes: Map<String, Value> = decode_key_values(event.attributes).into_iter().filter(|(_, v)| !v.is_null()).collect();
    if event.name == "exception" {
        attributes.retain(|key, _| EXCEPTION_KEYS.contains(&key.as_str()));
        attributes.entry("exception.message").or_insert_with(|| json!(""));
    }
    Ok(SpanEvent { name: event.name, timestamp, attributes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
    }

    fn otlp_span(span_id: u8) -> opentelemetry_proto::tonic::trace::v1::Span {
        opentelemetry_proto::tonic::trace::v1::Span {
            trace_id: vec![1; 16],
            span_id: vec![span_id; 8],
            name: "chat".into(),
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 2_000,
            attributes: vec![
                kv("openinference.span.kind", any_value::Value::StringValue("llm".into())),
                kv("llm.token_count.prompt", any_value::Value::StringValue("12".into())),
                kv("input.value", any_value::Value::IntValue(5)),
                kv("session.id", any_value::Value::StringValue("s1".into())),
            ],
            status: Some(Status { code: 2, message: "boom".into() }),
            events: vec![span::Event {
                time_unix_nano: 1_500,
                name: "exception".into(),
                attributes: vec![
                    kv("exception.type", any_value::Value::StringValue("ValueError".into())),
                    kv("other", any_value::Value::IntValue(1)),
                ],
                dropped_attributes_count: 0,
            }],
            ..Default::default()
        }
    }

    fn request(spans: Vec<opentelemetry_proto::tonic::trace::v1::Span>, resource_project: Option<&str>) -> ExportTraceServiceRequest {
        let resource = resource_project
            .map(|name| Resource { attributes: vec![kv(PROJECT_NAME, any_value::Value::StringValue(name.into()))], ..Default::default() });
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource,
                scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn decodes_span_fields_as_phoenix_does() {
        let decoded = decode_export(request(vec![otlp_span(2)], None), None);
        let span = &decoded.spans[0].span;
        assert_eq!(span.trace_id, "01".repeat(16));
        assert_eq!(span.span_id, "02".repeat(8));
        assert_eq!(span.parent_id, None);
        assert_eq!(span.span_kind, SpanKind::Llm);
        assert_eq!(span.status_code, StatusCode::Error);
        assert_eq!(span.status_message, "boom");
        assert_eq!(span.attribute("llm.token_count.prompt"), Some(&json!(12)));
        assert_eq!(span.attribute("input.value"), Some(&json!("5")));
        assert_eq!(span.attribute("input.mime_type"), Some(&json!("application/json")));
        assert_eq!(span.attribute("openinference.span.kind"), Some(&json!("llm")));
        assert_eq!(
            span.events[0].attributes,
            json!({"exception.type": "ValueError", "exception.message": ""}).as_object().cloned().unwrap()
        );
    }

    #[test]
    fn routes_projects_header_then_resource_then_default() {
        assert_eq!(decode_export(request(vec![otlp_span(2)], Some("res")), Some("hdr")).spans[0].project_name, "hdr");
        assert_eq!(decode_export(request(vec![otlp_span(2)], Some("res")), None).spans[0].project_name, "res");
        assert_eq!(decode_export(request(vec![otlp_span(2)], Some("  ")), None).spans[0].project_name, "default");
        assert_eq!(decode_export(request(vec![otlp_span(2)], None), Some("")).spans[0].project_name, "default");
        // D22: a project name past the limit rejects the spans, naming the problem.
        let long = "p".repeat(ember_core::limits::MAX_NAME_BYTES + 1);
        let refused = decode_export(request(vec![otlp_span(2), otlp_span(3)], None), Some(&long));
        assert_eq!((refused.spans.len(), refused.rejected_spans), (0, 2));
        assert!(refused.rejection_reasons[0].contains("project name is 1025 bytes long"), "{:?}", refused.rejection_reasons);
    }

    #[test]
    fn rejects_spans_with_bad_ids_and_keeps_the_rest() {
        let mut bad = otlp_span(3);
        bad.span_id = vec![1, 2, 3];
        let mut zero = otlp_span(4);
        zero.trace_id = vec![0; 16];
        let decoded = decode_export(request(vec![otlp_span(2), bad, zero], None), None);
        assert_eq!(decoded.spans.len(), 1);
        assert_eq!(decoded.rejected_spans, 2);
        assert!(decoded.rejection_reasons[0].contains("span_id must be 8 bytes"), "{:?}", decoded.rejection_reasons);
    }

    #[test]
    fn spans_nested_too_deeply_to_read_back_are_rejected() {
        let mut nested = r#""x""#.to_string();
        for _ in 0..100 {
            nested = format!("[{nested}]");
        }
        let deep = with(otlp_span(5), kv("metadata", any_value::Value::StringValue(nested)));
        let decoded = decode_export(request(vec![deep, otlp_span(6)], None), None);
        assert_eq!(decoded.spans.len(), 1);
        assert!(decoded.rejection_reasons[0].contains("levels deep"), "{:?}", decoded.rejection_reasons);
    }

    #[test]
    fn spans_with_too_many_attributes_are_rejected_by_name() {
        let mut wide = otlp_span(7);
        for i in 0..=crate::attributes::MAX_ATTRIBUTES {
            wide.attributes.push(kv(&format!("k{i}"), any_value::Value::IntValue(1)));
        }
        let decoded = decode_export(request(vec![wide, otlp_span(8)], None), None);
        assert_eq!((decoded.spans.len(), decoded.rejected_spans), (1, 1));
        assert!(decoded.rejection_reasons[0].ends_with("attributes; at most 10000 are accepted"), "{:?}", decoded.rejection_reasons);
    }

    #[test]
    fn gen_ai_messages_that_convert_to_too_many_attributes_are_rejected_by_name() {
        let messages = |count: usize| {
            let list: Vec<serde_json::Value> = (0..count).map(|_| json!({"role": "user", "parts": []})).collect();
            kv("gen_ai.input.messages", any_value::Value::StringValue(serde_json::Value::Array(list).to_string()))
        };
        // One role each (the span carries its kind): 10,000 derived keys pass, 10,001 do not.
        let decoded = decode_export(request(vec![with(otlp_span(7), messages(10_000)), with(otlp_span(8), messages(10_001))], None), None);
        assert_eq!((decoded.spans.len(), decoded.rejected_spans), (1, 1));
        assert!(decoded.rejection_reasons[0].contains("its gen_ai attributes convert to too many"), "{:?}", decoded.rejection_reasons);
    }

    fn with(mut span: opentelemetry_proto::tonic::trace::v1::Span, attribute: KeyValue) -> opentelemetry_proto::tonic::trace::v1::Span {
        span.attributes.push(attribute);
        span
    }

    #[test]
    fn decodes_otlp_json_with_hex_ids() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"openinference.project.name","value":{"stringValue":"p"}}]},
            "scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"n",
            "startTimeUnixNano":"1000","endTimeUnixNano":2000,"kind":1,"attributes":[{"key":"a.b","value":{"intValue":"3"}}]}]}]}]}"#;
        let decoded = decode_export(decode_json(body).unwrap(), None);
        assert_eq!(decoded.spans[0].project_name, "p");
        assert_eq!(decoded.spans[0].span.trace_id, "0102030405060708090a0b0c0d0e0f10");
        assert_eq!(decoded.spans[0].span.attribute("a.b"), Some(&json!(3)));
        assert!(decode_json(b"{not json").is_err());
        assert!(decode_protobuf(b"\xff\xff\xff").is_err());
    }
}
