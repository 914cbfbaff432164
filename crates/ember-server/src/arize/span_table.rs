//! Rows of the `arize` SDK's span tables (`spans.log`, v7 `log_spans`) as spans, and their
//! evaluation columns as rows for the span-update service.
//!
//! The SDK flattens a span to columns: `context.span_id`, `context.trace_id`, `parent_id`,
//! `name`, `start_time`/`end_time` (int64 nanoseconds), `status_code`, `status_message`,
//! `events`, and `attributes.<key>` columns; left-joined evaluations are `eval.<Name>.<field>`
//! (also `trace_eval.` and `session_eval.`). Its encodings are undone here: dictionary columns
//! (`attributes.metadata`, prompt-template variables) are JSON text whose nested dictionaries are
//! JSON text again; list-of-dictionary columns (messages, documents, tools, embeddings, events)
//! are lists of JSON text, one object per element; numbers may be doubles; an all-missing column
//! is of Arrow's null type.

use ember_core::{SpanEvent, StatusCode};
use ember_otlp::attributes::parse_json_string_attributes;
use ember_otlp::decode::{span_from_flat, SpanFields};
use serde_json::{Map, Value};

/// Columns whose cells are a dictionary as JSON text.
const DICT_COLUMNS: [&str; 2] = ["attributes.metadata", "attributes.llm.prompt_template.variables"];

/// A row that cannot be a span, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub row: usize,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "row {}: {}", self.row, self.message)
    }
}

/// Whether a table of these columns holds spans (rather than only evaluations of stored spans).
pub fn holds_spans<'a>(mut columns: impl Iterator<Item = &'a str>) -> bool {
    columns.any(|column| matches!(column, "name" | "start_time"))
}

/// A span from a row; `row` numbers the row in the upload for messages.
pub fn span_from_row(row: &Map<String, Value>, index: usize) -> Result<ember_core::Span, RowError> {
    let error = |message: String| RowError { row: index, message };
    let text = |column: &str| -> Result<Option<String>, RowError> {
        match row.get(column) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(error(format!("{column} is {other}, not text"))),
        }
    };
    let required = |column: &str| text(column)?.filter(|value| !value.is_empty()).ok_or_else(|| error(format!("{column} is missing")));
    let span_id = required("context.span_id")?;
    let trace_id = required("context.trace_id")?;
    let name = required("name")?;
    let start_time = nanos(row.get("start_time")).ok_or_else(|| error("start_time is not a time in nanoseconds".into()))?;
    let end_time = nanos(row.get("end_time")).ok_or_else(|| error("end_time is not a time in nanoseconds".into()))?;
    let status_code = match text("status_code")?.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("" | "UNSET") => StatusCode::Unset,
        Some("OK") => StatusCode::Ok,
        Some("ERROR") => StatusCode::Error,
        Some(other) => return Err(error(format!("status_code is OK, ERROR or UNSET, not {other:?}"))),
    };
    let events = match row.get("events") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(event).collect::<Result<_, _>>().map_err(error)?,
        Some(_) => return Err(error("events is not a list".into())),
    };
    let mut flat = Vec::new();
    for (column, value) in row {
        let Some(key) = column.strip_prefix("attributes.") else { continue };
        if value.is_null() || key.is_empty() {
            continue;
        }
        if DICT_COLUMNS.contains(&column.as_str()) {
            flat.push((key.to_string(), dictionary(value)));
        } else if let Value::Array(items) = value {
            if items.iter().all(|item| item.is_string()) && items.iter().any(is_json_object_text) {
                // A list of dictionaries: each element's keys under `<key>.<position>`.
                for (position, item) in items.iter().enumerate() {
                    if let Some(Value::Object(element)) = item.as_str().and_then(|text| ember_core::python_json::loads(text).ok()) {
                        flat.extend(element.into_iter().map(|(inner, value)| (format!("{key}.{position}.{inner}"), value)));
                    }
                }
            } else {
                flat.push((key.to_string(), value.clone()));
            }
        } else {
            flat.push((key.to_string(), value.clone()));
        }
    }
    let parent_id = text("parent_id")?.filter(|parent| !parent.is_empty());
    let status_message = text("status_message")?.unwrap_or_default();
    let fields = SpanFields { trace_id, span_id, parent_id, name, start_time, end_time, status_code, status_message, events };
    span_from_flat(fields, parse_json_string_attributes(flat)).map_err(error)
}

fn is_json_object_text(value: &Value) -> bool {
    value.as_str().is_some_and(|text| text.trim_start().starts_with('{'))
}

/// A time in nanoseconds: an integer, or a double pandas made of one (a double near 2^60 holds
/// nanoseconds to 256 ns, so it is rounded to the microsecond, Python's own precision).
fn nanos(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(number) => number
            .as_i64()
            .or_else(|| number.as_f64().filter(|f| f.is_finite() && f.abs() < 9.2e18).map(|f| (f / 1e3).round() as i64 * 1000)),
        Value::String(text) => ember_core::time::parse_timestamp(text),
        _ => None,
    }
}

/// A dictionary cell: JSON text whose nested dictionaries are JSON text again. Text that is not
/// a JSON object stays text.
fn dictionary(value: &Value) -> Value {
    match value {
        Value::String(text) => match ember_core::python_json::loads(text) {
            Ok(Value::Object(object)) => Value::Object(object.into_iter().map(|(key, value)| (key, nested(value))).collect()),
            _ => value.clone(),
        },
        other => other.clone(),
    }
}

fn nested(value: Value) -> Value {
    match &value {
        Value::String(text) if text.trim_start().starts_with('{') => match ember_core::python_json::loads(text) {
            Ok(Value::Object(object)) => Value::Object(object.into_iter().map(|(key, value)| (key, nested(value))).collect()),
            _ => value,
        },
        _ => value,
    }
}

/// An event: `{"name", "timestamp", "attributes"}` as JSON text, its attributes JSON text again.
fn event(item: &Value) -> Result<SpanEvent, String> {
    let parsed = match item {
        Value::String(text) => ember_core::python_json::loads(text).map_err(|_| format!("an event is not JSON: {text:?}"))?,
        other => other.clone(),
    };
    let Value::Object(mut object) = parsed else { return Err("an event is not an object".into()) };
    let name = match object.remove("name") {
        Some(Value::String(name)) => name,
        _ => return Err("an event has no name".into()),
    };
    let timestamp = nanos(object.get("timestamp")).ok_or("an event's timestamp is not a time")?;
    let attributes = match object.remove("attributes").map(|value| dictionary(&value)) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(attributes)) => attributes,
        Some(_) => return Err("an event's attributes are not an object".into()),
    };
    Ok(SpanEvent { name, timestamp, attributes })
}

/// Prefixes of evaluation columns: of the span, of its trace, of its session.
const EVALUATION_PREFIXES: [&str; 3] = ["eval.", "trace_eval.", "session_eval."];

/// The evaluation cells of a span row, keyed as the span-update service reads them
/// (`context.span_id`, `eval.<Name>.<field>`, `trace_eval.…`, `session_eval.…`); `None` when
/// the row has none.
pub fn evaluation_row(row: &Map<String, Value>) -> Option<Map<String, Value>> {
    let cells: Map<String, Value> = row
        .iter()
        .filter(|(column, value)| EVALUATION_PREFIXES.iter().any(|prefix| column.starts_with(prefix)) && !value.is_null())
        .map(|(c, v)| (c.clone(), v.clone()))
        .collect();
    if cells.is_empty() {
        return None;
    }
    let mut evaluation = cells;
    evaluation.insert("context.span_id".into(), row.get("context.span_id")?.clone());
    Some(evaluation)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn the_sdk_encodings_are_undone() {
        let span = span_from_row(
            &row(json!({
                "context.span_id": "span-0001", "context.trace_id": "trace-0001", "parent_id": null, "name": "llm call",
                "start_time": 1_700_000_000_000_000_000i64, "end_time": 1.7000000001e18, "status_code": "ERROR", "status_message": "boom",
                "attributes.openinference.span.kind": "LLM",
                "attributes.llm.token_count.total": 12.0,
                "attributes.metadata": "{\"tier\": \"gold\", \"inner\": \"{\\\"a\\\": 1}\"}",
                "attributes.llm.input_messages": ["{\"message.role\": \"user\", \"message.content\": \"{not json\"}"],
                "attributes.tag.tags": ["a", "b"],
                "attributes.unused": null,
                "events": ["{\"name\": \"exception\", \"timestamp\": 1700000000000000000, \"attributes\": \"{\\\"exception.message\\\": \\\"boom\\\"}\"}"],
                "eval.Correctness.label": "correct",
            })),
            0,
        )
        .unwrap();
        assert_eq!((span.span_id.as_str(), span.parent_id.as_deref(), span.name.as_str()), ("span-0001", None, "llm call"));
        assert_eq!((span.start_time, span.end_time), (1_700_000_000_000_000_000, 1_700_000_000_100_000_000));
        assert_eq!((span.status_code, span.status_message.as_str()), (StatusCode::Error, "boom"));
        assert_eq!(span.span_kind.as_str(), "LLM");
        assert_eq!(span.attributes["llm"]["token_count"]["total"], json!(12), "token counts are integers");
        assert_eq!(span.attributes["metadata"], json!({"tier": "gold", "inner": {"a": 1}}), "nested dictionaries decoded");
        assert_eq!(span.attributes["llm"]["input_messages"][0]["message"], json!({"role": "user", "content": "{not json"}));
        assert_eq!(span.attributes["tag"]["tags"], json!(["a", "b"]), "a list of text stays a list");
        assert!(!span.attributes.contains_key("eval"), "evaluations are not attributes");
        assert_eq!(span.events[0].attributes["exception.message"], json!("boom"));
    }

    #[test]
    fn rows_that_cannot_be_spans_say_why() {
        let base = json!({"context.span_id": "s", "context.trace_id": "t", "name": "n", "start_time": 1, "end_time": 2});
        assert!(span_from_row(&row(base.clone()), 0).is_ok());
        for (column, value, message) in [
            ("context.span_id", json!(null), "context.span_id is missing"),
            ("start_time", json!("soon"), "start_time is not a time"),
            ("status_code", json!("FINE"), "status_code is OK, ERROR or UNSET"),
            ("events", json!(["{"]), "an event is not JSON"),
            ("name", json!(7), "name is 7, not text"),
        ] {
            let mut bad = row(base.clone());
            bad.insert(column.into(), value);
            let error = span_from_row(&bad, 3).unwrap_err();
            assert_eq!(error.row, 3);
            assert!(error.message.contains(message), "{column}: {}", error.message);
        }
    }

    #[test]
    fn evaluation_rows_carry_the_span_id_and_their_cells() {
        let span_row =
            row(json!({"context.span_id": "s", "name": "n", "eval.Q.label": "good", "eval.Q.score": null, "trace_eval.T.score": 1.0}));
        assert_eq!(
            evaluation_row(&span_row),
            Some(row(json!({"context.span_id": "s", "eval.Q.label": "good", "trace_eval.T.score": 1.0})))
        );
        assert_eq!(evaluation_row(&row(json!({"context.span_id": "s", "eval.Q.label": null}))), None);
        assert!(holds_spans(["context.span_id", "start_time"].into_iter()));
        assert!(!holds_spans(["context.span_id", "eval.Q.label"].into_iter()));
    }
}
