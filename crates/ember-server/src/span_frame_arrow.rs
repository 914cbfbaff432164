//! Span frames as Arrow IPC streams in the shape `pyarrow.Table.from_pandas` writes: the index
//! column stored beside the data columns and described in the `pandas` schema metadata, so that
//! `pyarrow.ipc.open_stream(body).read_pandas()` rebuilds the same DataFrame.
//!
//! Columns holding objects or lists are written as JSON text (pyarrow would infer struct and list
//! types); timestamps are nanoseconds in UTC.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampNanosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use ember_core::time::parse_timestamp;
use serde_json::{json, Value};

use crate::span_frame::Frame;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Integer,
    Float,
    Boolean,
    Timestamp,
}

fn kind_of<'a>(name: &str, values: impl Iterator<Item = &'a Value>) -> Kind {
    if matches!(name, "start_time" | "end_time") {
        return Kind::Timestamp;
    }
    let mut kind: Option<Kind> = None;
    for value in values {
        let this = match value {
            Value::Null => continue,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => Kind::Integer,
            Value::Number(_) => Kind::Float,
            _ => Kind::Text,
        };
        kind = Some(match (kind, this) {
            (None, this) => this,
            (Some(Kind::Integer), Kind::Float) | (Some(Kind::Float), Kind::Integer) => Kind::Float,
            (Some(previous), this) if previous == this => this,
            _ => Kind::Text,
        });
    }
    kind.unwrap_or(Kind::Text)
}

fn build_column<'a>(kind: Kind, values: impl Iterator<Item = &'a Value>) -> ArrayRef {
    match kind {
        Kind::Integer => {
            let mut builder = Int64Builder::new();
            values.for_each(|v| builder.append_option(v.as_i64()));
            Arc::new(builder.finish())
        }
        Kind::Float => {
            let mut builder = Float64Builder::new();
            values.for_each(|v| builder.append_option(v.as_f64()));
            Arc::new(builder.finish())
        }
        Kind::Boolean => {
            let mut builder = BooleanBuilder::new();
            values.for_each(|v| builder.append_option(v.as_bool()));
            Arc::new(builder.finish())
        }
        Kind::Timestamp => {
            let mut builder = TimestampNanosecondBuilder::new().with_timezone("UTC");
            values.for_each(|v| builder.append_option(v.as_str().and_then(parse_timestamp)));
            Arc::new(builder.finish())
        }
        Kind::Text => {
            let mut builder = StringBuilder::new();
            for value in values {
                match value {
                    Value::Null => builder.append_null(),
                    Value::String(text) => builder.append_value(text),
                    other => builder.append_value(other.to_string()),
                }
            }
            Arc::new(builder.finish())
        }
    }
}

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text => DataType::Utf8,
        Kind::Integer => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Boolean => DataType::Boolean,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
    }
}

fn pandas_column(name: &str, field_name: &str, kind: Kind) -> Value {
    let (pandas_type, numpy_type, metadata) = match kind {
        Kind::Text => ("unicode", "object", Value::Null),
        Kind::Integer => ("int64", "int64", Value::Null),
        Kind::Float => ("float64", "float64", Value::Null),
        Kind::Boolean => ("bool", "bool", Value::Null),
        Kind::Timestamp => ("datetimetz", "datetime64[ns]", json!({"timezone": "UTC"})),
    };
    json!({"name": name, "field_name": field_name, "pandas_type": pandas_type, "numpy_type": numpy_type, "metadata": metadata})
}

/// One Arrow IPC stream (schema, one record batch, end marker) for a frame.
pub fn to_arrow_stream(frame: &Frame) -> Result<Vec<u8>, ArrowError> {
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    let mut pandas_columns = Vec::new();
    let mut index_columns = Vec::new();
    for (position, name) in frame.columns.iter().enumerate() {
        let kind = kind_of(name, frame.rows.iter().map(|(_, values)| &values[position]));
        fields.push(Field::new(name, data_type(kind), true));
        columns.push(build_column(kind, frame.rows.iter().map(|(_, values)| &values[position])));
        pandas_columns.push(pandas_column(name, name, kind));
    }
    for (level, name) in frame.index.iter().enumerate() {
        // pyarrow stores a named index under its own name unless a data column already has it.
        let field_name = if frame.columns.contains(name) { format!("__index_level_{level}__") } else { name.clone() };
        let kind = kind_of(name, frame.rows.iter().map(|(index, _)| &index[level]));
        fields.push(Field::new(&field_name, data_type(kind), true));
        columns.push(build_column(kind, frame.rows.iter().map(|(index, _)| &index[level])));
        pandas_columns.push(pandas_column(name, &field_name, kind));
        index_columns.push(field_name);
    }
    let pandas = json!({
        "index_columns": index_columns,
        "column_indexes": [{"name": null, "field_name": null, "pandas_type": "unicode", "numpy_type": "object", "metadata": {"encoding": "UTF-8"}}],
        "columns": pandas_columns,
        "creator": {"library": "ember", "version": env!("CARGO_PKG_VERSION")},
        "pandas_version": "2.2.0",
    });
    let schema = Arc::new(Schema::new_with_metadata(fields, HashMap::from([("pandas".to_string(), pandas.to_string())])));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let mut writer = StreamWriter::try_new(Vec::new(), &schema)?;
    writer.write(&batch)?;
    writer.finish()?;
    writer.into_inner()
}
