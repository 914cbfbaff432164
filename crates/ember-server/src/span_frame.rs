//! Span dataframes as the span-query endpoint returns them: the pandas "table" JSON schema
//! (`{"schema": {"fields", "primaryKey"}, "data": [...]}`) with Phoenix's `N_` column prefixes.

use ember_core::semconv::{is_semantic_convention, is_semantic_prefix};
use ember_core::time::to_datetime;
use ember_store::SpanRecord;
use serde_json::{json, Map, Value};

/// A frame: index columns, value columns, and one row per span keyed by column name.
pub struct Frame {
    pub index: Vec<String>,
    pub columns: Vec<String>,
    pub rows: Vec<(Vec<Value>, Vec<Value>)>,
}

fn iso(nanos: i64) -> Value {
    Value::String(to_datetime(nanos).format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string())
}

/// Canonical name of a projection key (`span_id` is `context.span_id`).
pub fn canonical_key(key: &str) -> &str {
    match key {
        "span_id" => "context.span_id",
        "trace_id" => "context.trace_id",
        other => other,
    }
}

/// The value of a column or attribute path for one span.
pub fn project(record: &SpanRecord, key: &str) -> Value {
    let span = &record.span;
    match canonical_key(key) {
        "context.span_id" => json!(span.span_id),
        "context.trace_id" => json!(span.trace_id),
        "parent_id" => json!(span.parent_id),
        "name" => json!(span.name),
        "span_kind" => json!(span.span_kind.as_str()),
        "status_code" => json!(span.status_code.as_str()),
        "status_message" => json!(span.status_message),
        "start_time" => iso(span.start_time),
        "end_time" => iso(span.end_time),
        "latency_ms" => json!(((span.end_time - span.start_time) as f64 / 1e5).round() / 10.0),
        "events" => events(record),
        "cumulative_llm_token_count_prompt" | "cumulative_token_count.prompt" => {
            json!(record.cumulative_llm_token_count_prompt)
        }
        "cumulative_llm_token_count_completion" | "cumulative_token_count.completion" => {
            json!(record.cumulative_llm_token_count_completion)
        }
        "cumulative_llm_token_count_total" | "cumulative_token_count.total" => {
            json!(record.cumulative_llm_token_count_prompt + record.cumulative_llm_token_count_completion)
        }
        path => {
            let path = path.strip_prefix("attributes.").unwrap_or(path);
            let mut current: Option<&Value> = None;
            for (position, segment) in path.split('.').enumerate() {
                current = match (position, current) {
                    (0, _) => span.attributes.get(segment),
                    (_, Some(Value::Object(map))) => map.get(segment),
                    (_, Some(Value::Array(items))) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                    _ => None,
                };
            }
            current.cloned().unwrap_or(Value::Null)
        }
    }
}

fn events(record: &SpanRecord) -> Value {
    Value::Array(
        record
            .span
            .events
            .iter()
            .map(|event| json!({"name": event.name, "timestamp": iso(event.timestamp), "attributes": event.attributes}))
            .collect(),
    )
}

const BASE_COLUMNS: [&str; 10] = [
    "name",
    "span_kind",
    "parent_id",
    "start_time",
    "end_time",
    "status_code",
    "status_message",
    "events",
    "context.span_id",
    "context.trace_id",
];

/// Flattens attributes down to semantic-convention keys, as Phoenix 20.26 frames them (observed
/// with `phoenix serve`): `llm.token_count.prompt` becomes a column, a list of messages or a
/// metadata object stays one value, and keys outside the conventions stay nested under the
/// nearest prefix (`message` → `{"custom": ...}` beside `message.role`).
fn flatten_semantic(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if !is_semantic_convention(prefix) && is_semantic_prefix(prefix) => {
            let mut rest = Map::new();
            for (key, child) in map {
                let path = format!("{prefix}.{key}");
                if is_semantic_convention(&path) || is_semantic_prefix(&path) {
                    flatten_semantic(&path, child, out);
                } else {
                    rest.insert(key.clone(), child.clone());
                }
            }
            if !rest.is_empty() {
                out.push((prefix.to_string(), Value::Object(rest)));
            }
        }
        other => out.push((prefix.to_string(), flatten_value(other))),
    }
}

/// A value under a convention key as Phoenix's frames hold it: an object (or each object of a
/// list) flattened the same way from its own root, so `messages[0]["message.content"]` reads
/// (and a message's `message.tool_calls` in turn).
fn flatten_value(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut flat = Vec::new();
            for (key, child) in map {
                flatten_semantic(key, child, &mut flat);
            }
            Value::Object(flat.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(flatten_value).collect()),
        scalar => scalar.clone(),
    }
}

/// The full span frame (no `select`): base columns then `attributes.*`, indexed by span id.
pub fn full_frame(records: &[SpanRecord]) -> Frame {
    let mut columns: Vec<String> = BASE_COLUMNS.iter().map(|c| c.to_string()).collect();
    let mut attribute_rows: Vec<Map<String, Value>> = Vec::with_capacity(records.len());
    for record in records {
        let mut flat = Vec::new();
        for (key, value) in &record.span.attributes {
            flatten_semantic(key, value, &mut flat);
        }
        let mut row = Map::new();
        for (key, value) in flat {
            let column = format!("attributes.{key}");
            if !columns.contains(&column) {
                columns.push(column.clone());
            }
            row.insert(column, value);
        }
        attribute_rows.push(row);
    }
    let rows = records
        .iter()
        .zip(attribute_rows)
        .map(|(record, mut attributes)| {
            let values = columns
                .iter()
                .map(|column| match column.strip_prefix("attributes.") {
                    Some(_) => attributes.remove(column).unwrap_or(Value::Null),
                    None => project(record, column),
                })
                .collect();
            (vec![json!(record.span.span_id)], values)
        })
        .collect();
    Frame { index: vec!["context.span_id".into()], columns, rows }
}

/// A frame of selected projections (`{"out": {"key": "path"}}`) indexed by `index_key`.
pub fn select_frame(records: &[SpanRecord], select: &[(String, String)], index_key: &str) -> Frame {
    let columns = select.iter().map(|(name, _)| name.clone()).collect();
    let rows = records
        .iter()
        .map(|record| (vec![project(record, index_key)], select.iter().map(|(_, key)| flatten_value(&project(record, key))).collect()))
        .collect();
    Frame { index: vec![canonical_key(index_key).to_string()], columns, rows }
}

/// `explode`: one row per object element of the array at `key`, indexed by
/// (`primary_index_key`, `<prefix>position`). `kwargs` maps output columns to paths inside an
/// element; without them every flattened key of the element is a column. Selected projections
/// come first and repeat on each row. Spans without such elements give no rows.
pub struct Explode<'a> {
    pub key: &'a str,
    pub kwargs: Vec<(String, String)>,
    pub primary_index_key: &'a str,
}

/// `concat`: per span, the array's elements (or each kwarg path inside them) joined as text.
pub struct Concat<'a> {
    pub key: &'a str,
    pub kwargs: Vec<(String, String)>,
    pub separator: &'a str,
}

/// Phoenix names document positions `document_position`; other arrays' plain `position`.
fn position_column(key: &str) -> String {
    if key.ends_with("documents") {
        "document_position".into()
    } else {
        "position".into()
    }
}

/// The value at a dotted path inside a JSON value (integer segments index arrays).
fn value_at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |current, segment| match current {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Text of a value as Python's `str()` shows it for JSON scalars.
fn python_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or_default();
            if float.fract() == 0.0 && float.abs() < 1e16 {
                format!("{float:.1}")
            } else {
                float.to_string()
            }
        }
        other => other.to_string(),
    }
}

pub fn explode_frame(records: &[SpanRecord], select: &[(String, String)], explode: &Explode) -> Frame {
    let mut columns: Vec<String> = select.iter().map(|(name, _)| name.clone()).collect();
    let selected = columns.len();
    let mut rows = Vec::new();
    let mut flattened_rows = Vec::new();
    for record in records {
        let Value::Array(elements) = project(record, explode.key) else { continue };
        let index_value = project(record, explode.primary_index_key);
        let selected_values: Vec<Value> = select.iter().map(|(_, key)| project(record, key)).collect();
        for (position, element) in elements.iter().enumerate() {
            if !element.is_object() {
                continue;
            }
            let index = vec![index_value.clone(), json!(position)];
            if explode.kwargs.is_empty() {
                let mut flat = Vec::new();
                if let Value::Object(map) = element {
                    for (key, value) in map {
                        flatten_semantic(key, value, &mut flat);
                    }
                }
                for (key, _) in &flat {
                    if !columns[selected..].contains(key) {
                        columns.push(key.clone());
                    }
                }
                flattened_rows.push((index, selected_values.clone(), flat.into_iter().collect::<Map<String, Value>>()));
            } else {
                let mut values = selected_values.clone();
                values.extend(explode.kwargs.iter().map(|(_, path)| value_at(element, path).map(flatten_value).unwrap_or(Value::Null)));
                rows.push((index, values));
            }
        }
    }
    if explode.kwargs.is_empty() {
        for (index, mut values, mut flat) in flattened_rows {
            values.extend(columns[selected..].iter().map(|column| flat.remove(column).unwrap_or(Value::Null)));
            rows.push((index, values));
        }
    } else {
        columns.extend(explode.kwargs.iter().map(|(name, _)| name.clone()));
    }
    Frame { index: vec![canonical_key(explode.primary_index_key).to_string(), position_column(explode.key)], columns, rows }
}

pub fn concat_frame(records: &[SpanRecord], select: &[(String, String)], concat: &Concat, index_key: &str) -> Frame {
    let outputs: Vec<(String, Option<&str>)> = if concat.kwargs.is_empty() {
        vec![(concat.key.to_string(), None)]
    } else {
        concat.kwargs.iter().map(|(name, path)| (name.clone(), Some(path.as_str()))).collect()
    };
    let mut columns: Vec<String> = select.iter().map(|(name, _)| name.clone()).collect();
    columns.extend(outputs.iter().map(|(name, _)| name.clone()));
    let mut rows = Vec::new();
    for record in records {
        let Value::Array(elements) = project(record, concat.key) else { continue };
        if elements.is_empty() {
            continue;
        }
        let mut values: Vec<Value> = select.iter().map(|(_, key)| project(record, key)).collect();
        for (_, path) in &outputs {
            let parts: Vec<String> = elements
                .iter()
                .filter_map(|element| match path {
                    Some(path) => value_at(element, path),
                    None => Some(element),
                })
                .filter(|value| !value.is_null())
                .map(python_text)
                .collect();
            values.push(if parts.is_empty() { Value::Null } else { Value::String(parts.join(concat.separator)) });
        }
        rows.push((vec![project(record, index_key)], values));
    }
    Frame { index: vec![canonical_key(index_key).to_string()], columns, rows }
}

/// The pandas table-schema type of a column, from its values. Object columns are "string",
/// as pandas declares them, whatever they hold.
fn column_type(values: impl Iterator<Item = Value>) -> Value {
    let (mut ints, mut numbers, mut bools, mut nulls, mut others, mut total) = (0, 0, 0, 0, 0, 0);
    for value in values {
        total += 1;
        match value {
            Value::Null => nulls += 1,
            Value::Bool(_) => bools += 1,
            Value::Number(n) if n.is_i64() || n.is_u64() => ints += 1,
            Value::Number(_) => numbers += 1,
            _ => others += 1,
        }
    }
    let kind = if total == 0 || others > 0 {
        "string"
    } else if bools == total {
        "boolean"
    } else if ints == total {
        "integer"
    } else if ints + numbers + nulls == total && ints + numbers > 0 {
        "number"
    } else {
        "string"
    };
    json!(kind)
}

impl Frame {
    pub fn rename(&mut self, renames: &Map<String, Value>) {
        for column in &mut self.columns {
            if let Some(Value::String(new_name)) = renames.get(column.as_str()) {
                *column = new_name.clone();
            }
        }
    }

    /// The frame as pandas `to_json(orient="table")` writes it, with Phoenix's `N_` prefixes.
    pub fn to_table_json(&self) -> Value {
        let names: Vec<String> = self.index.iter().chain(&self.columns).enumerate().map(|(i, name)| format!("{i}_{name}")).collect();
        let width = self.index.len();
        let fields: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let original = if i < width { &self.index[i] } else { &self.columns[i - width] };
                if matches!(original.as_str(), "start_time" | "end_time") {
                    return json!({"name": name, "type": "datetime", "tz": "UTC"});
                }
                let values = self.rows.iter().map(|(index, values)| if i < width { index[i].clone() } else { values[i - width].clone() });
                json!({"name": name, "type": column_type(values)})
            })
            .collect();
        let data: Vec<Value> = self
            .rows
            .iter()
            .map(|(index, values)| Value::Object(names.iter().cloned().zip(index.iter().chain(values).cloned()).collect()))
            .collect();
        json!({
            "schema": {"fields": fields, "primaryKey": names[..width], "pandas_version": "1.4.0"},
            "data": data,
        })
    }
}
