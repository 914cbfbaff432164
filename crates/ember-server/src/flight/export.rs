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
//!
//! A span's stored JSON is walked once and its cells appended to the batch's column builders as
//! they are read: no tree is built per span (the walk is most of an export's cost).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder, TimestampNanosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use ember_service::ax_spans::AxExportSpan;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
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

/// The prefix of attribute columns.
const ATTRIBUTES: &str = "attributes.";

/// A cell as a span's walk finds it, before it meets its column's type.
#[derive(Debug, Clone, PartialEq)]
enum Leaf<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(Cow<'a, str>),
    TextList(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
    TextList,
    /// The `time` column: a UTC timestamp in nanoseconds.
    Time,
}

impl Leaf<'_> {
    fn kind(&self) -> Kind {
        match self {
            Leaf::Int(_) => Kind::Int,
            Leaf::Float(_) => Kind::Float,
            Leaf::Bool(_) => Kind::Bool,
            Leaf::Text(_) => Kind::Text,
            Leaf::TextList(_) => Kind::TextList,
        }
    }

    fn as_text(&self) -> Cow<'_, str> {
        match self {
            Leaf::Text(text) => Cow::Borrowed(text),
            Leaf::Int(number) => Cow::Owned(number.to_string()),
            Leaf::Float(number) => Cow::Owned(number.to_string()),
            Leaf::Bool(flag) => Cow::Owned(flag.to_string()),
            Leaf::TextList(items) => Cow::Owned(serde_json::to_string(items).unwrap_or_default()),
        }
    }
}

/// Where a span's cells go: the column inference of an export's first page, or a batch.
trait Cells {
    fn cell(&mut self, name: &str, leaf: Leaf<'_>);
}

/// One object flattened to dotted keys (`{"message": {"role": "user"}}` → `message.role`).
fn flat_object(object: Map<String, Value>) -> Map<String, Value> {
    fn walk(prefix: String, value: Value, out: &mut Map<String, Value>) {
        match value {
            Value::Object(object) => {
                for (key, value) in object {
                    walk(format!("{prefix}.{key}"), value, out);
                }
            }
            other => {
                out.insert(prefix, other);
            }
        }
    }
    let mut out = Map::new();
    for (key, value) in object {
        walk(key, value, &mut out);
    }
    out
}

/// A JSON object key, borrowed from the stored text when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Walks one stored attribute value at `path` (`attributes.<dotted key>`), handing its cells
/// to `out` as it reads them: no tree of the span is built.
struct Walk<'w, C> {
    path: &'w mut String,
    out: &'w mut C,
}

impl<'de, C: Cells> DeserializeSeed<'de> for Walk<'_, C> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, C: Cells> Visitor<'de> for Walk<'_, C> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an attribute value")
    }

    fn visit_bool<E>(self, flag: bool) -> Result<(), E> {
        self.out.cell(self.path, Leaf::Bool(flag));
        Ok(())
    }

    fn visit_i64<E>(self, number: i64) -> Result<(), E> {
        self.out.cell(self.path, Leaf::Int(number));
        Ok(())
    }

    fn visit_u64<E>(self, number: u64) -> Result<(), E> {
        let leaf = i64::try_from(number).map_or(Leaf::Float(number as f64), Leaf::Int);
        self.out.cell(self.path, leaf);
        Ok(())
    }

    fn visit_f64<E>(self, number: f64) -> Result<(), E> {
        self.out.cell(self.path, Leaf::Float(number));
        Ok(())
    }

    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        self.out.cell(self.path, Leaf::Text(Cow::Borrowed(text)));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        let leaf = if !items.is_empty() && items.iter().all(Value::is_string) {
            Leaf::TextList(items.into_iter().filter_map(|item| if let Value::String(text) = item { Some(text) } else { None }).collect())
        } else {
            Leaf::Text(Cow::Owned(Value::Array(items).to_string()))
        };
        self.out.cell(self.path, leaf);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Walk { path, out } = self;
        let depth = path.len();
        while let Some(Key(key)) = map.next_key()? {
            if path.len() > ATTRIBUTES.len() {
                path.push('.');
            }
            path.push_str(&key);
            let attribute = &path[ATTRIBUTES.len()..];
            if DICTIONARIES.contains(&attribute) {
                let value: Value = map.next_value()?;
                out.cell(path, Leaf::Text(Cow::Owned(value.to_string())));
            } else if LIST_OF_DICTIONARIES.contains(&attribute) {
                match map.next_value()? {
                    Value::Array(items) => {
                        let texts = items
                            .into_iter()
                            .map(|item| match item {
                                Value::Object(object) => Value::Object(flat_object(object)).to_string(),
                                other => other.to_string(),
                            })
                            .collect();
                        out.cell(path, Leaf::TextList(texts));
                    }
                    other => Walk { path: &mut *path, out: &mut *out }.deserialize(other).map_err(serde::de::Error::custom)?,
                }
            } else {
                map.next_value_seed(Walk { path: &mut *path, out: &mut *out })?;
            }
            path.truncate(depth);
        }
        Ok(())
    }
}

/// Hands every cell of a span to `out`: the fixed columns, `attributes.<key>` walked from the
/// stored JSON, and the annotations' columns. `name` is a scratch buffer.
fn span_cells(ax: &AxExportSpan, name: &mut String, out: &mut impl Cells) -> Result<(), serde_json::Error> {
    let span = &ax.span.record.span;
    out.cell("context.span_id", Leaf::Text(Cow::Borrowed(&span.span_id)));
    out.cell("context.trace_id", Leaf::Text(Cow::Borrowed(&span.trace_id)));
    if let Some(parent) = &span.parent_id {
        out.cell("parent_id", Leaf::Text(Cow::Borrowed(parent)));
    }
    out.cell("name", Leaf::Text(Cow::Borrowed(&span.name)));
    out.cell("start_time", Leaf::Int(span.start_time));
    out.cell("end_time", Leaf::Int(span.end_time));
    out.cell("time", Leaf::Int(span.start_time));
    out.cell("status_code", Leaf::Text(Cow::Borrowed(span.status_code.as_str())));
    out.cell("status_message", Leaf::Text(Cow::Borrowed(&span.status_message)));
    out.cell("latency_ms", Leaf::Float((span.end_time - span.start_time) as f64 / 1e6));
    // Stored events are the JSON the SDK reads, one object per event.
    let events: Vec<&RawValue> = serde_json::from_str(&ax.span.events)?;
    out.cell("events", Leaf::TextList(events.into_iter().map(|event| event.get().to_string()).collect()));
    name.clear();
    name.push_str(ATTRIBUTES);
    Walk { path: &mut *name, out: &mut *out }.deserialize(&mut serde_json::Deserializer::from_str(&ax.span.attributes))?;
    for (prefix, annotations, text_field) in [("eval", &ax.evaluations, "explanation"), ("annotation", &ax.annotations, "text")] {
        for annotation in annotations.iter() {
            let mut field = |field: &str, leaf: Leaf<'_>| {
                name.clear();
                name.push_str(prefix);
                name.push('.');
                name.push_str(&annotation.name);
                name.push('.');
                name.push_str(field);
                out.cell(name, leaf);
            };
            if let Some(label) = &annotation.label {
                field("label", Leaf::Text(Cow::Borrowed(label)));
            }
            if let Some(score) = annotation.score {
                field("score", Leaf::Float(score));
            }
            if let Some(text) = &annotation.explanation {
                field(text_field, Leaf::Text(Cow::Borrowed(text)));
            }
        }
    }
    Ok(())
}

/// The fixed columns, in order, before the attributes and annotations.
const FIXED: [(&str, Kind); 11] = [
    ("context.span_id", Kind::Text),
    ("context.trace_id", Kind::Text),
    ("parent_id", Kind::Text),
    ("name", Kind::Text),
    ("start_time", Kind::Int),
    ("end_time", Kind::Int),
    ("time", Kind::Time),
    ("status_code", Kind::Text),
    ("status_message", Kind::Text),
    ("events", Kind::TextList),
    ("latency_ms", Kind::Float),
];

/// The kinds of the columns a page's cells fill: two kinds meet as float (int and float) or text.
#[derive(Default)]
struct Kinds(BTreeMap<String, Kind>);

impl Cells for Kinds {
    fn cell(&mut self, name: &str, leaf: Leaf<'_>) {
        let kind = leaf.kind();
        match self.0.get_mut(name) {
            Some(known) => {
                *known = match (*known, kind) {
                    (a, b) if a == b => a,
                    (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
                    _ => Kind::Text,
                }
            }
            None => {
                self.0.insert(name.to_string(), kind);
            }
        }
    }
}

fn to_arrow(error: serde_json::Error) -> ArrowError {
    ArrowError::ExternalError(Box::new(error))
}

/// The columns of an export: chosen from its first page, kept for every batch.
#[derive(Debug, Clone)]
pub struct ExportColumns {
    columns: Vec<(String, Kind)>,
    schema: SchemaRef,
}

impl ExportColumns {
    /// The columns of the spans' cells and of the `annotations` (name, annotator kind) — all of
    /// them, or those `projected`, always with `time`.
    pub fn of(spans: &[AxExportSpan], annotations: &[(String, String)], projected: &[String]) -> Result<ExportColumns, ArrowError> {
        let mut kinds = Kinds::default();
        for (name, annotator_kind) in annotations {
            let (prefix, text) = if annotator_kind == "HUMAN" { ("annotation", "text") } else { ("eval", "explanation") };
            for (field, kind) in [("label", Kind::Text), ("score", Kind::Float), (text, Kind::Text)] {
                kinds.0.insert(format!("{prefix}.{name}.{field}"), kind);
            }
        }
        let mut name = String::new();
        for span in spans {
            span_cells(span, &mut name, &mut kinds).map_err(to_arrow)?;
        }
        let mut columns: Vec<(String, Kind)> = FIXED.iter().map(|(name, kind)| (name.to_string(), *kind)).collect();
        columns.extend(kinds.0.into_iter().filter(|(name, _)| !FIXED.iter().any(|(fixed, _)| fixed == name)));
        if !projected.is_empty() {
            columns.retain(|(name, _)| name == "time" || projected.iter().any(|wanted| wanted == name));
        }
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, kind)| {
                let data_type = match kind {
                    Kind::Time => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                    Kind::Int => DataType::Int64,
                    Kind::Float => DataType::Float64,
                    Kind::Bool => DataType::Boolean,
                    Kind::Text => DataType::Utf8,
                    Kind::TextList => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
                };
                Field::new(name, data_type, *kind != Kind::Time)
            })
            .collect();
        Ok(ExportColumns { columns, schema: Arc::new(Schema::new(fields)) })
    }

    /// The spans as one record batch of these columns.
    pub fn batch(&self, spans: &[AxExportSpan]) -> Result<RecordBatch, ArrowError> {
        let mut batch = Batch {
            index: self.columns.iter().enumerate().map(|(at, (name, _))| (name.as_str(), at)).collect(),
            columns: self.columns.iter().map(|(_, kind)| Column::new(*kind, spans.len())).collect(),
            row: 0,
        };
        let mut name = String::new();
        for span in spans {
            span_cells(span, &mut name, &mut batch).map_err(to_arrow)?;
            batch.row += 1;
            for column in &mut batch.columns {
                column.fill_to(batch.row);
            }
        }
        RecordBatch::try_new(self.schema.clone(), batch.columns.into_iter().map(Column::finish).collect())
    }
}

/// A batch being built: each span's cells appended to their columns as the walk finds them.
struct Batch<'c> {
    index: HashMap<&'c str, usize>,
    columns: Vec<Column>,
    /// The span being walked (0-based).
    row: usize,
}

impl Cells for Batch<'_> {
    fn cell(&mut self, name: &str, leaf: Leaf<'_>) {
        if let Some(&at) = self.index.get(name) {
            let column = &mut self.columns[at];
            // A second cell of one name in one span (a dotted key beside a nested one) is dropped.
            if column.rows == self.row {
                column.append(leaf);
            }
        }
    }
}

/// One column's builder and how many rows it holds.
struct Column {
    builder: Builder,
    rows: usize,
}

enum Builder {
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Text(StringBuilder),
    TextList(ListBuilder<StringBuilder>),
    Time(TimestampNanosecondBuilder),
}

impl Column {
    fn new(kind: Kind, capacity: usize) -> Column {
        let builder = match kind {
            Kind::Int => Builder::Int(Int64Builder::with_capacity(capacity)),
            Kind::Float => Builder::Float(Float64Builder::with_capacity(capacity)),
            Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            Kind::Text => Builder::Text(StringBuilder::with_capacity(capacity, capacity * 8)),
            Kind::TextList => Builder::TextList(ListBuilder::with_capacity(StringBuilder::new(), capacity)),
            Kind::Time => Builder::Time(TimestampNanosecondBuilder::with_capacity(capacity).with_timezone("UTC")),
        };
        Column { builder, rows: 0 }
    }

    /// Appends a cell, converted to the column's type where it fits, else empty.
    fn append(&mut self, leaf: Leaf<'_>) {
        match &mut self.builder {
            Builder::Int(builder) => builder.append_option(if let Leaf::Int(n) = leaf { Some(n) } else { None }),
            Builder::Time(builder) => builder.append_option(if let Leaf::Int(n) = leaf { Some(n) } else { None }),
            Builder::Float(builder) => builder.append_option(match leaf {
                Leaf::Float(n) => Some(n),
                Leaf::Int(n) => Some(n as f64),
                _ => None,
            }),
            Builder::Bool(builder) => builder.append_option(if let Leaf::Bool(flag) = leaf { Some(flag) } else { None }),
            Builder::Text(builder) => builder.append_value(leaf.as_text()),
            Builder::TextList(builder) => {
                match leaf {
                    Leaf::TextList(items) => items.iter().for_each(|item| builder.values().append_value(item)),
                    other => builder.values().append_value(other.as_text()),
                }
                builder.append(true);
            }
        }
        self.rows += 1;
    }

    /// Empty cells up to `rows` rows.
    fn fill_to(&mut self, rows: usize) {
        while self.rows < rows {
            match &mut self.builder {
                Builder::Int(builder) => builder.append_null(),
                Builder::Time(builder) => builder.append_null(),
                Builder::Float(builder) => builder.append_null(),
                Builder::Bool(builder) => builder.append_null(),
                Builder::Text(builder) => builder.append_null(),
                Builder::TextList(builder) => builder.append(false),
            }
            self.rows += 1;
        }
    }

    fn finish(self) -> ArrayRef {
        match self.builder {
            Builder::Int(mut builder) => Arc::new(builder.finish()),
            Builder::Time(mut builder) => Arc::new(builder.finish()),
            Builder::Float(mut builder) => Arc::new(builder.finish()),
            Builder::Bool(mut builder) => Arc::new(builder.finish()),
            Builder::Text(mut builder) => Arc::new(builder.finish()),
            Builder::TextList(mut builder) => Arc::new(builder.finish()),
        }
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

    /// The cells of one span's attributes, by column name.
    fn attribute_cells(attributes: &str) -> BTreeMap<String, Leaf<'static>> {
        struct Collect(BTreeMap<String, Leaf<'static>>);
        impl Cells for Collect {
            fn cell(&mut self, name: &str, leaf: Leaf<'_>) {
                let leaf = match leaf {
                    Leaf::Text(text) => Leaf::Text(Cow::Owned(text.into_owned())),
                    Leaf::Int(n) => Leaf::Int(n),
                    Leaf::Float(n) => Leaf::Float(n),
                    Leaf::Bool(flag) => Leaf::Bool(flag),
                    Leaf::TextList(items) => Leaf::TextList(items),
                };
                self.0.insert(name.to_string(), leaf);
            }
        }
        let mut cells = Collect(BTreeMap::new());
        let mut path = ATTRIBUTES.to_string();
        Walk { path: &mut path, out: &mut cells }.deserialize(&mut serde_json::Deserializer::from_str(attributes)).unwrap();
        cells.0
    }

    #[test]
    fn attributes_flatten_with_the_sdk_encodings() {
        let cells = attribute_cells(
            r#"{"llm": {"model_name": "gpt-4o", "token_count": {"total": 5},
                "input_messages": [{"message": {"role": "user", "content": "hi"}}]},
                "metadata": {"tier": "gold", "n": 1}, "tag": {"tags": ["a", "b"]}, "flag": true, "ratio": 0.5,
                "escaped\"key": "a\nb", "gone": null, "mixed": [1, "x"]}"#,
        );
        let text = |text: &str| Leaf::Text(Cow::Owned(text.to_string()));
        assert_eq!(cells["attributes.llm.model_name"], text("gpt-4o"));
        assert_eq!(cells["attributes.llm.token_count.total"], Leaf::Int(5));
        assert_eq!(
            cells["attributes.llm.input_messages"],
            Leaf::TextList(vec![r#"{"message.role":"user","message.content":"hi"}"#.into()])
        );
        // Compact whatever the store's spacing (PostgreSQL's JSONB text has spaces).
        assert_eq!(cells["attributes.metadata"], text(r#"{"tier":"gold","n":1}"#));
        assert_eq!(cells["attributes.tag.tags"], Leaf::TextList(vec!["a".into(), "b".into()]));
        assert_eq!(cells["attributes.flag"], Leaf::Bool(true));
        assert_eq!(cells["attributes.ratio"], Leaf::Float(0.5));
        assert_eq!(cells["attributes.escaped\"key"], text("a\nb"));
        assert_eq!(cells["attributes.mixed"], text(r#"[1,"x"]"#));
        assert!(!cells.contains_key("attributes.gone"));
    }

    fn stored(n: i64, attributes: &str, events: &str) -> AxExportSpan {
        let span = ember_core::Span {
            trace_id: format!("t{n}"),
            span_id: format!("s{n}"),
            parent_id: (n > 1).then(|| "s1".to_string()),
            name: "step".into(),
            span_kind: ember_core::SpanKind::Llm,
            start_time: n * 1_000_000_000,
            end_time: n * 1_000_000_000 + 2_500_000,
            attributes: Map::new(),
            events: Vec::new(),
            status_code: ember_core::StatusCode::Ok,
            status_message: String::new(),
        };
        let record = ember_store::SpanRecord {
            rowid: n,
            trace_rowid: n,
            project_id: 1,
            span,
            cumulative_error_count: 0,
            cumulative_llm_token_count_prompt: 0,
            cumulative_llm_token_count_completion: 0,
            llm_token_count_prompt: None,
            llm_token_count_completion: None,
        };
        let span = ember_store::SpanText { record, attributes: attributes.into(), events: events.into() };
        AxExportSpan { span, annotations: Vec::new(), evaluations: Vec::new() }
    }

    #[test]
    fn batches_fill_missing_cells_and_merge_kinds_from_the_first_page() {
        let spans = [
            stored(
                1,
                r#"{"llm": {"token_count": {"total": 5}}, "tag": "a"}"#,
                r#"[{"name":"exception","timestamp":7,"attributes":{"exception.message":"boom"}}]"#,
            ),
            stored(2, r#"{"llm": {"token_count": {"total": 0.5}}, "only_here": true}"#, "[]"),
        ];
        let columns = ExportColumns::of(&spans, &[("Correct".into(), "LLM".into())], &[]).unwrap();
        let batch = columns.batch(&spans).unwrap();
        let schema = batch.schema();
        let column = |name: &str| batch.column(schema.index_of(name).unwrap()).clone();
        assert_eq!(schema.field_with_name("attributes.llm.token_count.total").unwrap().data_type(), &DataType::Float64);
        let totals = column("attributes.llm.token_count.total");
        let totals = totals.as_any().downcast_ref::<arrow_array::Float64Array>().unwrap();
        assert_eq!((totals.value(0), totals.value(1)), (5.0, 0.5));
        let tags = column("attributes.tag");
        assert!(tags.is_valid(0) && tags.is_null(1));
        assert!(column("attributes.only_here").is_null(0));
        assert!(column("eval.Correct.label").is_null(0), "an annotation of the window has its columns even when a page has none");
        let events = column("events");
        let events = events.as_any().downcast_ref::<arrow_array::ListArray>().unwrap();
        let first = events.value(0);
        let first = first.as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
        assert_eq!(first.value(0), r#"{"name":"exception","timestamp":7,"attributes":{"exception.message":"boom"}}"#);
        assert_eq!(events.value(1).len(), 0);
        let latency = column("latency_ms");
        assert_eq!(latency.as_any().downcast_ref::<arrow_array::Float64Array>().unwrap().value(0), 2.5);
        assert!(column("parent_id").is_null(0));
        assert_eq!(batch.num_rows(), 2);
    }
}
