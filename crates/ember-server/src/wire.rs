//! JSON shapes of the Phoenix REST API.

use ember_core::time::format_nanos;
use ember_core::{semconv, GlobalId};
use ember_store::{Project, SessionRecord, SpanRecord, TraceRecord};
use serde_json::{json, Value};

pub fn project(project: &Project) -> Value {
    json!({"name": project.name, "description": project.description, "id": GlobalId::encode("Project", project.id)})
}

/// A span as `GET /v1/projects/{p}/spans` returns it: flat dotted attributes without
/// `openinference.span.kind`, which is surfaced as `span_kind`.
pub fn span(record: &SpanRecord) -> Value {
    let span = &record.span;
    let mut attributes = ember_otlp::attributes::flatten(&span.attributes);
    attributes.shift_remove(semconv::SPAN_KIND);
    let events: Vec<Value> = span
        .events
        .iter()
        .map(|event| json!({"name": event.name, "timestamp": format_nanos(event.timestamp), "attributes": event.attributes}))
        .collect();
    json!({
        "id": GlobalId::encode("Span", record.rowid),
        "name": span.name,
        "context": {"trace_id": span.trace_id, "span_id": span.span_id},
        "span_kind": span.span_kind.as_str(),
        "parent_id": span.parent_id,
        "start_time": format_nanos(span.start_time),
        "end_time": format_nanos(span.end_time),
        "status_code": span.status_code.as_str(),
        "status_message": span.status_message,
        "attributes": attributes,
        "events": events,
    })
}

pub fn trace(trace: &TraceRecord, spans: Option<Vec<Value>>) -> Value {
    let mut value = json!({
        "id": GlobalId::encode("Trace", trace.rowid),
        "trace_id": trace.trace_id,
        "project_id": GlobalId::encode("Project", trace.project_id),
        "start_time": format_nanos(trace.start_time),
        "end_time": format_nanos(trace.end_time),
        "token_count_prompt": trace.token_count_prompt,
        "token_count_completion": trace.token_count_completion,
        "token_count_total": trace.token_count_prompt + trace.token_count_completion,
    });
    if let Some(spans) = spans {
        value["spans"] = Value::Array(spans);
    }
    value
}

/// The span summary inside a trace (`TraceSpanData`).
pub fn trace_span(record: &SpanRecord) -> Value {
    let span = &record.span;
    json!({
        "id": GlobalId::encode("Span", record.rowid),
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "name": span.name,
        "span_kind": span.span_kind.as_str(),
        "status_code": span.status_code.as_str(),
        "start_time": format_nanos(span.start_time),
        "end_time": format_nanos(span.end_time),
    })
}

pub fn session(session: &SessionRecord) -> Value {
    let traces: Vec<Value> = session
        .traces
        .iter()
        .map(|trace| {
            json!({
                "id": GlobalId::encode("Trace", trace.rowid),
                "trace_id": trace.trace_id,
                "start_time": format_nanos(trace.start_time),
                "end_time": format_nanos(trace.end_time),
            })
        })
        .collect();
    json!({
        "id": GlobalId::encode("ProjectSession", session.rowid),
        "session_id": session.session_id,
        "project_id": GlobalId::encode("Project", session.project_id),
        "start_time": format_nanos(session.start_time),
        "end_time": format_nanos(session.end_time),
        "traces": traces,
        "token_count_prompt": session.token_count_prompt,
        "token_count_completion": session.token_count_completion,
        "token_count_total": session.token_count_prompt + session.token_count_completion,
    })
}

/// `{"data": [...], "next_cursor": ...}` with the cursor as a GlobalID of `type_name`.
pub fn page(data: Vec<Value>, next_cursor: Option<i64>, type_name: &str) -> Value {
    json!({"data": data, "next_cursor": next_cursor.map(|rowid| GlobalId::encode(type_name, rowid))})
}
