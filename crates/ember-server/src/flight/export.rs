//! Spans as the record batches of an AX export (`export_to_df`, `export_to_parquet`): flat
//! OpenInference columns — `context.span_id`, `context.trace_id`, `parent_id`, `name`,
//! `start_time`/`end_time` (int64 nanoseconds), `time` (the start, a UTC timestamp the SDK sorts
//! by), `status_code`, `status_message`, `events`, `latency_ms`, one `attributes.<key>` column per
//! attribute, and `eval.<Name>.label|score|explanation` and `annotation.<Name>.label|score|text`.
//!
//! The SDK's own encodings are used where it decodes them: list-of-dictionary attributes
//! (messages, documents, tools, embeddings) are lists of JSON text with one object per element,
//! dictionary attributes (`metadata`, prompt-template variables) JSON text, events a list of JSON
//! text. Every annotation name of the export's window has its columns; the attribute columns and
//! their types are chosen from the first page of an export, and an attribute first seen later is
//! left out, and a value that does not fit its column's type is sent as JSON
//! text where the column is text, else left empty.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder, TimestampNanosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use ember_service::ax_spans::AxSpan;
use serde_json::{Map, Value};

/// Attributes whose value is a list of dictionaries, sent as lists of JSON text.
const LIST_OF_DICTIONARIES: [&str; 7] = [
    "llm.input_messages",
    "llm.output_messages",
    "embedding.embeddings",
    "retrieval.documents",
    "llm.tools",
    "reranker.input_documents",
    "reranker.output_documents",
];

/// Attributes whose value is a dictionary, sent as JSON text.
const DICTIONARIES: [&str; 2] = ["metadata", "llm.prompt_template.variables"];

/// A cell before it is typed.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    TextList(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
    TextList,
}

impl Cell {
    fn kind(&self) -> Kind {
        match self {
            Cell::Int(_) => Kind::Int,
            Cell::Float(_) => Kind::Float,
            Cell::Bool(_) => Kind::Bool,
            Cell::Text(_) => Kind::Text,
            Cell::TextList(_) => Kind::TextList,
        }
    }

    fn scalar(value: &Value) -> Cell {
        match value {
            Value::Bool(flag) => Cell::Bool(*flag),
            Value::Number(number) => number.as_i64().map_or_else(|| Cell::Float(number.as_f64().unwrap_or(f64::NAN)), Cell::Int),
            Value::String(text) => Cell::Text(text.clone()),
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
                Cell::TextList(items.iter().filter_map(Value::as_str).map(str::to_string).collect())
            }
            other => Cell::Text(other.to_string()),
        }
    }

    fn as_text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Int(number) => number.to_string(),
            Cell::Float(number) => number.to_string(),
            Cell::Bool(flag) => flag.to_string(),
            Cell::TextList(items) => serde_json::to_string(items).unwrap_or_default(),
        }
    }
}

/// One object flattened to dotted keys (`{"message": {"role": "user"}}` → `message.role`).
fn flat_object(object: &Map<String, Value>) -> Map<String, Value> {
    fn walk(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
        match value {
            Value::Object(object) => {
                for (key, value) in object {
                    walk(&join(prefix, key), value, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    let mut out = Map::new();
    for (key, value) in object {
        walk(key, value, &mut out);
    }
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A span's attributes as `attributes.<key>` cells.
fn attribute_cells(attributes: &Map<String, Value>, out: &mut BTreeMap<String, Cell>) {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, Cell>) {
        if LIST_OF_DICTIONARIES.contains(&prefix) {
            if let Value::Array(items) = value {
                let texts = items
                    .iter()
                    .map(|item| match item {
                        Value::Object(object) => Value::Object(flat_object(object)).to_string(),
                        other => other.to_string(),
                    })
                    .collect();
                out.insert(format!("attributes.{prefix}"), Cell::TextList(texts));
                return;
            }
        }
        if DICTIONARIES.contains(&prefix) {
            out.insert(format!("attributes.{prefix}"), Cell::Text(value.to_string()));
            return;
        }
        match value {
            Value::Object(object) => {
                for (key, value) in object {
                    walk(&join(prefix, key), value, out);
                }
            }
            Value::Null => {}
            other => {
                out.insert(format!("attributes.{prefix}"), Cell::scalar(other));
            }
        }
    }
    for (key, value) in attributes {
        walk(key, value, out);
    }
}

/// Every cell of a span, by column name.
fn span_cells(ax: &AxSpan) -> BTreeMap<String, Cell> {
    let span = &ax.record.span;
    let mut cells = BTreeMap::new();
    let mut put = |name: &str, cell: Cell| {
        cells.insert(name.to_string(), cell);
    };
    put("context.span_id", Cell::Text(span.span_id.clone()));
    put("context.trace_id", Cell::Text(span.trace_id.clone()));
    if let Some(parent) = &span.parent_id {
        put("parent_id", Cell::Text(parent.clone()));
    }
    put("name", Cell::Text(span.name.clone()));
    put("start_time", Cell::Int(span.start_time));
    put("end_time", Cell::Int(span.end_time));
    put("status_code", Cell::Text(span.status_code.as_str().to_string()));
    put("status_message", Cell::Text(span.status_message.clone()));
    put("latency_ms", Cell::Float((span.end_time - span.start_time) as f64 / 1e6));
    let events = span
        .events
        .iter()
        .map(|event| serde_json::json!({"name": event.name, "timestamp": event.timestamp, "attributes": event.attributes}).to_string())
        .collect();
    put("events", Cell::TextList(events));
    attribute_cells(&span.attributes, &mut cells);
    for (prefix, annotations, text_field) in [("eval", &ax.evaluations, "explanation"), ("annotation", &ax.annotations, "text")] {
        for annotation in annotations.iter() {
            if let Some(label) = &annotation.label {
                cells.insert(format!("{prefix}.{}.label", annotation.name), Cell::Text(label.clone()));
            }
            if let Some(score) = annotation.score {
                cells.insert(format!("{prefix}.{}.score", annotation.name), Cell::Float(score));
            }
            if let Some(text) = &annotation.explanation {
                cells.insert(format!("{prefix}.{}.{text_field}", annotation.name), Cell::Text(text.clone()));
            }
        }
    }
    cells
}

/// The columns of an export: chosen from its first page, kept for every batch.
#[derive(Debug, Clone)]
pub struct ExportColumns {
    columns: Vec<(String, Kind)>,
    schema: SchemaRef,
}

/// The fixed columns, in order, before the attributes and annotations.
const FIXED: [&str; 11] = [
    "context.span_id",
    "context.trace_id",
    "parent_id",
    "name",
    "start_time",
    "end_time",
    "time",
    "status_code",
    "status_message",
    "events",
    "latency_ms",
];

impl ExportColumns {
    /// The columns of the spans' cells and of the `annotations` (name, annotator kind) — all of
    /// them, or those `projected`, always with `time`.
    pub fn of(spans: &[AxSpan], annotations: &[(String, String)], projected: &[String]) -> ExportColumns {
        let mut kinds: BTreeMap<String, Kind> = BTreeMap::new();
        for (name, annotator_kind) in annotations {
            let (prefix, text) = if annotator_kind == "HUMAN" { ("annotation", "text") } else { ("eval", "explanation") };
            for (field, kind) in [("label", Kind::Text), ("score", Kind::Float), (text, Kind::Text)] {
                kinds.insert(format!("{prefix}.{name}.{field}"), kind);
            }
        }
        for span in spans {
            for (name, cell) in span_cells(span) {
                let kind = cell.kind();
                kinds
                    .entry(name)
                    .and_modify(|known| {
                        *known = match (*known, kind) {
                            (a, b) if a == b => a,
                            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
                            _ => Kind::Text,
                        }
                    })
                    .or_insert(kind);
            }
        }
        let fixed_kind = |name: &str| match name {
            "start_time" | "end_time" => Kind::Int,
            "latency_ms" => Kind::Float,
            "events" => Kind::TextList,
            _ => Kind::Text,
        };
        let mut columns: Vec<(String, Kind)> = FIXED.iter().map(|name| (name.to_string(), fixed_kind(name))).collect();
        columns.extend(kinds.into_iter().filter(|(name, _)| !FIXED.contains(&name.as_str())));
        if !projected.is_empty() {
            columns.retain(|(name, _)| name == "time" || projected.iter().any(|wanted| wanted == name));
        }
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, kind)| {
                let data_type = match (name.as_str(), kind) {
                    ("time", _) => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                    (_, Kind::Int) => DataType::Int64,
                    (_, Kind::Float) => DataType::Float64,
                    (_, Kind::Bool) => DataType::Boolean,
                    (_, Kind::Text) => DataType::Utf8,
                    (_, Kind::TextList) => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
                };
                Field::new(name, data_type, name != "time")
            })
            .collect();
        ExportColumns { columns, schema: Arc::new(Schema::new(fields)) }
    }

    /// The spans as one record batch of these columns.
    pub fn batch(&self, spans: &[AxSpan]) -> Result<RecordBatch, ArrowError> {
        let rows: Vec<BTreeMap<String, Cell>> = spans.iter().map(span_cells).collect();
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|(name, kind)| {
                if name == "time" {
                    let mut builder = TimestampNanosecondBuilder::with_capacity(spans.len()).with_timezone("UTC");
                    spans.iter().for_each(|span| builder.append_value(span.record.span.start_time));
                    return Arc::new(builder.finish()) as ArrayRef;
                }
                let cells = rows.iter().map(|row| row.get(name));
                match kind {
                    Kind::Int => {
                        let mut builder = Int64Builder::with_capacity(spans.len());
                        cells.for_each(|cell| builder.append_option(if let Some(Cell::Int(n)) = cell { Some(*n) } else { None }));
                        Arc::new(builder.finish()) as ArrayRef
                    }
                    Kind::Float => {
                        let mut builder = Float64Builder::with_capacity(spans.len());
                        cells.for_each(|cell| {
                            builder.append_option(match cell {
                                Some(Cell::Float(n)) => Some(*n),
                                Some(Cell::Int(n)) => Some(*n as f64),
                                _ => None,
                            })
                        });
                        Arc::new(builder.finish())
                    }
                    Kind::Bool => {
                        let mut builder = BooleanBuilder::with_capacity(spans.len());
                        cells.for_each(|cell| builder.append_option(if let Some(Cell::Bool(b)) = cell { Some(*b) } else { None }));
                        Arc::new(builder.finish())
                    }
                    Kind::Text => {
                        let mut builder = StringBuilder::new();
                        cells.for_each(|cell| builder.append_option(cell.map(Cell::as_text)));
                        Arc::new(builder.finish())
                    }
                    Kind::TextList => {
                        let mut builder = ListBuilder::new(StringBuilder::new());
                        for cell in cells {
                            match cell {
                                Some(Cell::TextList(items)) => {
                                    items.iter().for_each(|item| builder.values().append_value(item));
                                    builder.append(true);
                                }
                                Some(other) => {
                                    builder.values().append_value(other.as_text());
                                    builder.append(true);
                                }
                                None => builder.append(false),
                            }
                        }
                        Arc::new(builder.finish())
                    }
                }
            })
            .collect();
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}

/// Whether the export's `index`-th span (0-based, in export order) is kept at `rate`: exactly
/// `floor(n * rate)` of the first `n` are.
pub fn sampled(index: u64, rate: f64) -> bool {
    rate >= 1.0 || ((index + 1) as f64 * rate).floor() > (index as f64 * rate).floor()
}

/// How many of `total` spans an export at `rate` sends.
pub fn sampled_total(total: i64, rate: f64) -> i64 {
    if rate >= 1.0 {
        total
    } else {
        (total as f64 * rate).floor() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_keeps_the_floor_of_the_rate() {
        for (total, rate) in [(10u64, 0.5), (7, 0.3), (1000, 0.001), (3, 0.0), (5, 1.0)] {
            let kept = (0..total).filter(|index| sampled(*index, rate)).count() as i64;
            assert_eq!(kept, sampled_total(total as i64, rate), "{total} at {rate}");
        }
    }

    #[test]
    fn attributes_flatten_with_the_sdk_encodings() {
        let attributes: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "llm": {"model_name": "gpt-4o", "token_count": {"total": 5}, "input_messages": [{"message": {"role": "user", "content": "hi"}}]},
            "metadata": {"tier": "gold"},
            "tag": {"tags": ["a", "b"]},
            "flag": true,
        }))
        .unwrap();
        let mut cells = BTreeMap::new();
        attribute_cells(&attributes, &mut cells);
        assert_eq!(cells["attributes.llm.model_name"], Cell::Text("gpt-4o".into()));
        assert_eq!(cells["attributes.llm.token_count.total"], Cell::Int(5));
        assert_eq!(
            cells["attributes.llm.input_messages"],
            Cell::TextList(vec![r#"{"message.role":"user","message.content":"hi"}"#.into()])
        );
        assert_eq!(cells["attributes.metadata"], Cell::Text(r#"{"tier":"gold"}"#.into()));
        assert_eq!(cells["attributes.tag.tags"], Cell::TextList(vec!["a".into(), "b".into()]));
        assert_eq!(cells["attributes.flag"], Cell::Bool(true));
    }
}
