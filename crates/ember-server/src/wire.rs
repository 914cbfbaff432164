//! JSON shapes of the Phoenix REST API.

use ember_core::time::format_nanos;
use ember_core::{semconv, GlobalId, GlobalType};
use ember_store::{Page, Project, SessionRecord, SpanRecord, TraceRecord};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Map, Value};

pub fn project(project: &Project) -> Value {
    json!({"name": project.name, "description": project.description, "id": GlobalId::encode(GlobalType::Project, project.id)})
}

/// A span as `GET /v1/projects/{p}/spans` returns it: flat dotted attributes without
/// `openinference.span.kind`, which is surfaced as `span_kind`. Serialised straight from the
/// stored record, without building an intermediate JSON tree.
pub struct SpanView<'a>(pub &'a SpanRecord);

impl Serialize for SpanView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = self.0;
        let span = &record.span;
        let mut map = serializer.serialize_map(Some(11))?;
        map.serialize_entry("id", &GlobalId::encode(GlobalType::Span, record.rowid))?;
        map.serialize_entry("name", &span.name)?;
        map.serialize_entry("context", &json!({"trace_id": span.trace_id, "span_id": span.span_id}))?;
        map.serialize_entry("span_kind", span.span_kind.as_str())?;
        map.serialize_entry("parent_id", &span.parent_id)?;
        map.serialize_entry("start_time", &format_nanos(span.start_time))?;
        map.serialize_entry("end_time", &format_nanos(span.end_time))?;
        map.serialize_entry("status_code", span.status_code.as_str())?;
        map.serialize_entry("status_message", &span.status_message)?;
        map.serialize_entry("attributes", &FlatAttributes(&span.attributes))?;
        let events: Vec<Value> = span
            .events
            .iter()
            .map(|event| json!({"name": event.name, "timestamp": format_nanos(event.timestamp), "attributes": event.attributes}))
            .collect();
        map.serialize_entry("events", &events)?;
        map.end()
    }
}

/// Nested attributes written as dotted keys (see `ember_otlp::attributes::flatten`).
struct FlatAttributes<'a>(&'a Map<String, Value>);

impl Serialize for FlatAttributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        ember_otlp::attributes::try_for_each_flat(self.0, |key, value| {
            if key == semconv::SPAN_KIND {
                return Ok(());
            }
            map.serialize_entry(key, value)
        })?;
        map.end()
    }
}

/// `{"data": [...spans], "next_cursor": ...}`.
pub fn span_page(page: &Page<SpanRecord>) -> impl Serialize + '_ {
    #[derive(Serialize)]
    struct SpanPage<'a> {
        data: Vec<SpanView<'a>>,
        next_cursor: Option<String>,
    }
    SpanPage {
        data: page.items.iter().map(SpanView).collect(),
        next_cursor: page.next_cursor.map(|rowid| GlobalId::encode(GlobalType::Span, rowid)),
    }
}

pub fn trace(trace: &TraceRecord, spans: Option<Vec<Value>>) -> Value {
    let mut value = json!({
        "id": GlobalId::encode(GlobalType::Trace, trace.rowid),
        "trace_id": trace.trace_id,
        "project_id": GlobalId::encode(GlobalType::Project, trace.project_id),
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
        "id": GlobalId::encode(GlobalType::Span, record.rowid),
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
                "id": GlobalId::encode(GlobalType::Trace, trace.rowid),
                "trace_id": trace.trace_id,
                "start_time": format_nanos(trace.start_time),
                "end_time": format_nanos(trace.end_time),
            })
        })
        .collect();
    json!({
        "id": GlobalId::encode(GlobalType::ProjectSession, session.rowid),
        "session_id": session.session_id,
        "project_id": GlobalId::encode(GlobalType::Project, session.project_id),
        "start_time": format_nanos(session.start_time),
        "end_time": format_nanos(session.end_time),
        "traces": traces,
        "token_count_prompt": session.token_count_prompt,
        "token_count_completion": session.token_count_completion,
        "token_count_total": session.token_count_prompt + session.token_count_completion,
    })
}

/// `{"data": [...], "next_cursor": ...}` with the cursor as a GlobalID of `global_type`.
pub fn page(data: Vec<Value>, next_cursor: Option<i64>, global_type: GlobalType) -> Value {
    json!({"data": data, "next_cursor": next_cursor.map(|rowid| GlobalId::encode(global_type, rowid))})
}
