//! The pandas Arrow stream of legacy evaluations: schema metadata `arize` =
//! `{"eval_id", "eval_name", "eval_type"}`, the DataFrame's index (span id, trace id, or span id
//! and document position) stored as columns, and `label`, `score`, `explanation` columns.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, DataType, Field, Schema};
use serde_json::{json, Value};

use super::{EvaluationError, Evaluations, Subject};

/// Which level an evaluation stream is about, as `eval_type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Span,
    Document,
}

impl Level {
    fn eval_type(self) -> &'static str {
        match self {
            Level::Trace => "TraceEvaluations",
            Level::Span => "SpanEvaluations",
            Level::Document => "DocumentEvaluations",
        }
    }
}

/// One stream of a request body.
pub fn decode(body: &[u8]) -> Result<Evaluations, EvaluationError> {
    crate::arrow_framing::check(&mut Cursor::new(body)).map_err(EvaluationError::new)?;
    let reader = StreamReader::try_new(Cursor::new(body), None).map_err(|_| EvaluationError::new("the body is not an Arrow IPC stream"))?;
    let schema = reader.schema();
    let arize: Value = schema
        .metadata()
        .get("arize")
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or_else(|| EvaluationError::new("the Arrow schema has no `arize` metadata naming the evaluation"))?;
    let name = arize.get("eval_name").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut evaluations = Evaluations::new(name)?;
    let column = |names: &[&str]| names.iter().find_map(|name| schema.index_of(name).ok());
    let span = column(&["context.span_id", "span_id"]);
    let trace = column(&["context.trace_id", "trace_id"]);
    let position = column(&["document_position", "position"]);
    let (label, score, explanation) = (column(&["label"]), column(&["score"]), column(&["explanation"]));
    if label.is_none() && score.is_none() && explanation.is_none() {
        return Err(EvaluationError::new("the evaluation has none of the columns label, score and explanation"));
    }
    for batch in reader {
        let batch = batch.map_err(|_| EvaluationError::new("the Arrow stream is corrupt"))?;
        let text = |index: Option<usize>, row: usize| index.and_then(|i| text_at(batch.column(i), row));
        for row in 0..batch.num_rows() {
            let subject = match (span, position, trace) {
                (Some(span), Some(position), _) => {
                    let id = text(Some(span), row).ok_or_else(|| missing("span_id", row))?;
                    let position = number_at(batch.column(position), row).ok_or_else(|| missing("document_position", row))?;
                    // A float column may hold NaN, fractions or values past i64: none is a position.
                    if !(position.is_finite() && position.fract() == 0.0 && position.abs() < 2f64.powi(53)) {
                        return Err(EvaluationError::new(format!("row {row}: document_position {position} is not a whole number")));
                    }
                    Subject::Document(id, position as i64)
                }
                (Some(span), None, _) => Subject::Span(text(Some(span), row).ok_or_else(|| missing("span_id", row))?),
                (None, _, Some(trace)) => Subject::Trace(text(Some(trace), row).ok_or_else(|| missing("trace_id", row))?),
                _ => {
                    return Err(EvaluationError::new(
                        "the evaluation is indexed by none of span_id, trace_id or (span_id, document_position)",
                    ))
                }
            };
            let score = score.and_then(|i| number_at(batch.column(i), row));
            evaluations.push(subject, text(label, row), score, text(explanation, row))?;
        }
    }
    Ok(evaluations)
}

fn missing(column: &str, row: usize) -> EvaluationError {
    EvaluationError::new(format!("row {row} has no {column}"))
}

fn text_at(array: &ArrayRef, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Some(array.as_string_view().value(row).to_string()),
        _ => None,
    }
}

fn number_at(array: &ArrayRef, row: usize) -> Option<f64> {
    if array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row),
        DataType::Float32 => f64::from(array.as_primitive::<Float32Type>().value(row)),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row) as f64,
        DataType::Int32 => f64::from(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int16 => f64::from(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int8 => f64::from(array.as_primitive::<Int8Type>().value(row)),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row) as f64,
        DataType::UInt32 => f64::from(array.as_primitive::<UInt32Type>().value(row)),
        DataType::Boolean => f64::from(u8::from(array.as_boolean().value(row))),
        _ => return None,
    })
}

/// A stored evaluation row for `GET /v1/evaluations`.
pub struct Row {
    pub target_id: String,
    pub document_position: Option<i64>,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
}

/// One stream of the GET response: a DataFrame indexed by the level's id(s), with the `arize`
/// metadata old clients read the evaluation's name and type from.
pub fn encode(level: Level, name: &str, rows: &[Row]) -> Result<Vec<u8>, ArrowError> {
    let id_column = if level == Level::Trace { "context.trace_id" } else { "context.span_id" };
    let mut ids = StringBuilder::new();
    let mut positions = Int64Builder::new();
    let mut labels = StringBuilder::new();
    let mut scores = Float64Builder::new();
    let mut explanations = StringBuilder::new();
    for row in rows {
        ids.append_value(&row.target_id);
        positions.append_option(row.document_position);
        labels.append_option(row.label.as_deref());
        scores.append_option(row.score);
        explanations.append_option(row.explanation.as_deref());
    }
    let mut fields = vec![
        Field::new("label", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
        Field::new("explanation", DataType::Utf8, true),
        Field::new(id_column, DataType::Utf8, false),
    ];
    let mut columns: Vec<ArrayRef> =
        vec![Arc::new(labels.finish()), Arc::new(scores.finish()), Arc::new(explanations.finish()), Arc::new(ids.finish())];
    let mut index_columns = vec![id_column];
    if level == Level::Document {
        fields.push(Field::new("document_position", DataType::Int64, false));
        columns.push(Arc::new(positions.finish()));
        index_columns.push("document_position");
    }
    let pandas_columns: Vec<Value> = fields
        .iter()
        .map(|field| {
            let (pandas_type, numpy_type) = match field.data_type() {
                DataType::Float64 => ("float64", "float64"),
                DataType::Int64 => ("int64", "int64"),
                _ => ("unicode", "object"),
            };
            json!({"name": field.name(), "field_name": field.name(), "pandas_type": pandas_type, "numpy_type": numpy_type, "metadata": null})
        })
        .collect();
    let pandas = json!({
        "index_columns": index_columns,
        "column_indexes": [],
        "columns": pandas_columns,
        "creator": {"library": "ember", "version": env!("CARGO_PKG_VERSION")},
        "pandas_version": "2.2.0",
    });
    let arize = json!({"eval_id": uuid::Uuid::new_v4().to_string(), "eval_name": name, "eval_type": level.eval_type()});
    let metadata = HashMap::from([("pandas".to_string(), pandas.to_string()), ("arize".to_string(), arize.to_string())]);
    let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let mut writer = StreamWriter::try_new(Vec::new(), &schema)?;
    writer.write(&batch)?;
    writer.finish()?;
    writer.into_inner()
}
