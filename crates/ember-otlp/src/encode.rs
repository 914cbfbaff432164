//! Stored spans rendered in the OTLP-shaped JSON of Phoenix's `GET .../spans/otlpv1`
//! (`OtlpSpan` in the REST contract: snake_case fields, hex ids, integer nanoseconds).

use ember_core::{Span, StatusCode};
use serde_json::{json, Map, Value};

use crate::attributes::flatten;

pub fn span_to_otlp_json(span: &Span) -> Value {
    let attributes = key_values(&flatten(&span.attributes));
    let events: Vec<Value> = span
        .events
        .iter()
        .map(|event| json!({"name": event.name, "time_unix_nano": event.timestamp, "attributes": key_values(&event.attributes), "dropped_attributes_count": 0}))
        .collect();
    let code = match span.status_code {
        StatusCode::Unset => 0,
        StatusCode::Ok => 1,
        StatusCode::Error => 2,
    };
    json!({
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_id,
        "name": span.name,
        "kind": "SPAN_KIND_INTERNAL",
        "start_time_unix_nano": span.start_time,
        "end_time_unix_nano": span.end_time,
        "attributes": attributes,
        "dropped_attributes_count": 0,
        "events": events,
        "dropped_events_count": 0,
        "dropped_links_count": 0,
        "status": {"code": code, "message": span.status_message},
    })
}

fn key_values(flat: &Map<String, Value>) -> Vec<Value> {
    flat.iter().map(|(key, value)| json!({"key": key, "value": any_value(value)})).collect()
}

fn any_value(value: &Value) -> Value {
    match value {
        Value::String(text) => json!({"string_value": text}),
        Value::Bool(flag) => json!({"bool_value": flag}),
        Value::Number(number) if number.is_i64() || number.is_u64() => json!({"int_value": number}),
        Value::Number(number) => json!({"double_value": number}),
        Value::Array(items) => {
            json!({"array_value": {"values": items.iter().map(any_value).collect::<Vec<_>>()}})
        }
        // Objects were flattened away; an empty one or a null has no OTLP scalar form.
        Value::Object(_) | Value::Null => json!({"string_value": value.to_string()}),
    }
}
