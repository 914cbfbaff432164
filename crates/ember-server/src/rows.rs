//! Tabular request bodies as rows of JSON values, for the bulk span APIs: JSON (an array of
//! objects, or `{"data": [...]}`), CSV with a header row (every cell is text; empty cells are
//! missing values), Arrow IPC streams and Parquet files (`pyarrow`'s, e.g. from a pandas
//! DataFrame). Decoded off the runtime, panic-free (see `untrusted`).

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

pub type Rows = Vec<Map<String, Value>>;

/// A decoder of one body format.
type Decoder = fn(&[u8]) -> ApiResult<Rows>;

pub async fn read_rows(headers: &HeaderMap, body: Bytes) -> ApiResult<Rows> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let (format, decode): (&'static str, Decoder) = match media_type.as_str() {
        "application/json" => ("JSON", json_rows),
        "text/csv" => ("CSV", csv_rows),
        #[cfg(feature = "arrow")]
        "application/vnd.apache.arrow.stream" | "application/x-pandas-arrow" => ("Arrow IPC", arrow_rows::read),
        #[cfg(feature = "parquet")]
        "application/vnd.apache.parquet" | "application/x-parquet" => ("Parquet", arrow_rows::read_parquet),
        _ => return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Unsupported content type {content_type:?}; send application/json, text/csv, application/vnd.apache.arrow.stream or application/vnd.apache.parquet"),
        )),
    };
    crate::untrusted::decode_off_runtime(format, move || decode(&body)).await
}

/// The rows of one record batch.
#[cfg(feature = "arrow")]
pub fn batch_rows(batch: &arrow_array::RecordBatch) -> ApiResult<Rows> {
    let mut rows = Vec::with_capacity(batch.num_rows());
    arrow_rows::append_rows(batch, &mut rows)?;
    Ok(rows)
}

/// The schema of an Arrow IPC stream (`pyarrow`'s, e.g. from a pandas DataFrame) and its rows,
/// a record batch at a time.
#[cfg(feature = "arrow")]
pub fn arrow_stream_batches<R: std::io::Read + std::io::Seek>(
    input: R,
) -> ApiResult<(arrow_schema::SchemaRef, impl Iterator<Item = ApiResult<Rows>>)> {
    arrow_rows::batches(input)
}

fn json_rows(body: &[u8]) -> ApiResult<Rows> {
    let value: Value = serde_json::from_slice(body).map_err(|error| ApiError::unprocessable(format!("the body is not JSON: {error}")))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("data") {
            Some(Value::Array(items)) => items,
            _ => return Err(ApiError::unprocessable("a JSON body is an array of rows or {\"data\": [rows]}")),
        },
        _ => return Err(ApiError::unprocessable("a JSON body is an array of rows or {\"data\": [rows]}")),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(row) => Ok(row),
            _ => Err(ApiError::unprocessable(format!("row {index} is not a JSON object"))),
        })
        .collect()
}

fn csv_rows(body: &[u8]) -> ApiResult<Rows> {
    let mut reader = csv::Reader::from_reader(body);
    let headers = reader.headers().map_err(|error| ApiError::unprocessable(format!("the CSV header is unreadable: {error}")))?.clone();
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| ApiError::unprocessable(format!("CSV row {}: {error}", index + 1)))?;
        let row = headers
            .iter()
            .zip(record.iter())
            .map(|(name, cell)| (name.to_string(), if cell.is_empty() { Value::Null } else { Value::String(cell.to_string()) }))
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(feature = "arrow")]
mod arrow_rows {
    use std::io::{BufReader, Cursor, Read, Seek};

    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
    };
    use arrow_array::{Array, ArrayRef, RecordBatch};
    use arrow_ipc::reader::StreamReader;
    use arrow_schema::{DataType, SchemaRef};
    use serde_json::{json, Map, Value};

    use super::Rows;
    use crate::error::{ApiError, ApiResult};

    pub fn read(body: &[u8]) -> ApiResult<Rows> {
        let (_, batches) = batches(Cursor::new(body))?;
        let mut rows = Vec::new();
        for batch in batches {
            rows.extend(batch?);
        }
        Ok(rows)
    }

    pub fn batches<R: Read + Seek>(mut input: R) -> ApiResult<(SchemaRef, impl Iterator<Item = ApiResult<Rows>>)> {
        crate::arrow_framing::check(&mut input).map_err(ApiError::unprocessable)?;
        let reader = StreamReader::try_new(BufReader::new(input), None)
            .map_err(|_| ApiError::unprocessable("the body is not an Arrow IPC stream"))?;
        let schema = reader.schema();
        let batches = reader.map(|batch| {
            let batch = batch.map_err(|_| ApiError::unprocessable("the Arrow stream is corrupt"))?;
            let mut rows = Vec::with_capacity(batch.num_rows());
            append_rows(&batch, &mut rows)?;
            Ok(rows)
        });
        Ok((schema, batches))
    }

    #[cfg(feature = "parquet")]
    pub fn read_parquet(body: &[u8]) -> ApiResult<Rows> {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

        let not_parquet = |_| ApiError::unprocessable("the body is not a Parquet file");
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(body)).map_err(not_parquet)?;
        let mut rows = Vec::new();
        for batch in builder.build().map_err(not_parquet)? {
            let batch = batch.map_err(|_| ApiError::unprocessable("the Parquet file is corrupt"))?;
            append_rows(&batch, &mut rows)?;
        }
        Ok(rows)
    }

    pub(super) fn append_rows(batch: &RecordBatch, rows: &mut Rows) -> ApiResult<()> {
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            let mut values = Map::new();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                let value = value_at(column, row).ok_or_else(|| {
                    ApiError::unprocessable(format!("column {:?} has the unsupported type {}", field.name(), field.data_type()))
                })?;
                values.insert(field.name().clone(), value);
            }
            rows.push(values);
        }
        Ok(())
    }

    /// The JSON value of a cell; `None` for a column type rows cannot hold.
    fn value_at(array: &ArrayRef, row: usize) -> Option<Value> {
        if array.is_null(row) {
            return Some(Value::Null);
        }
        Some(match array.data_type() {
            DataType::Utf8 => json!(array.as_string::<i32>().value(row)),
            DataType::LargeUtf8 => json!(array.as_string::<i64>().value(row)),
            DataType::Utf8View => json!(array.as_string_view().value(row)),
            DataType::Boolean => json!(array.as_boolean().value(row)),
            DataType::Int8 => json!(array.as_primitive::<Int8Type>().value(row)),
            DataType::Int16 => json!(array.as_primitive::<Int16Type>().value(row)),
            DataType::Int32 => json!(array.as_primitive::<Int32Type>().value(row)),
            DataType::Int64 => json!(array.as_primitive::<Int64Type>().value(row)),
            DataType::UInt8 => json!(array.as_primitive::<UInt8Type>().value(row)),
            DataType::UInt16 => json!(array.as_primitive::<UInt16Type>().value(row)),
            DataType::UInt32 => json!(array.as_primitive::<UInt32Type>().value(row)),
            DataType::UInt64 => json!(array.as_primitive::<UInt64Type>().value(row)),
            // NaN is pandas' missing value.
            DataType::Float32 => finite(f64::from(array.as_primitive::<Float32Type>().value(row))),
            DataType::Float64 => finite(array.as_primitive::<Float64Type>().value(row)),
            DataType::Null => Value::Null,
            // pandas columns of lists (of JSON text, e.g. the `arize` SDK's messages and events).
            DataType::List(_) => list(array.as_list::<i32>().value(row))?,
            DataType::LargeList(_) => list(array.as_list::<i64>().value(row))?,
            _ => return None,
        })
    }

    fn list(items: ArrayRef) -> Option<Value> {
        (0..items.len()).map(|index| value_at(&items, index)).collect::<Option<Vec<Value>>>().map(Value::Array)
    }

    fn finite(value: f64) -> Value {
        serde_json::Number::from_f64(value).map(Value::Number).unwrap_or(Value::Null)
    }
}
