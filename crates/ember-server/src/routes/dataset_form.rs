//! `POST /v1/datasets/upload` as `multipart/form-data`, the way `arize-phoenix-client` sends a
//! DataFrame or a CSV file: a `file` part and form fields naming its columns (`input_keys[]`,
//! `output_keys[]`, `metadata_keys[]`, `split_key` or `split_keys[]`, `span_id_key`,
//! `example_id_key`). The part's content type says what the file is:
//! - `text/csv` (the default): cells are text, as Phoenix reads them;
//! - `application/x-pandas-pyarrow` (or `application/vnd.apache.arrow.stream`): an Arrow IPC
//!   stream, whose cells keep their types;
//! - `application/jsonl` (or `application/x-ndjson`): one JSON object per line, whose keys are the
//!   columns.
//!
//! The part may be compressed (`Content-Encoding: gzip` or `deflate`).

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::http::{header, HeaderMap, StatusCode};
use bytes::Bytes;
use ember_store::ExampleInput;
use serde_json::{Map, Value};

use super::datasets::Upload;
use crate::body::{content_encoding, decompress};
use crate::error::{ApiError, ApiResult};
use crate::rows::Rows;

/// The form's fields: single values, and the `[]` lists.
#[derive(Default)]
struct Fields {
    values: HashMap<String, String>,
    lists: HashMap<String, Vec<String>>,
}

impl Fields {
    fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }

    fn list(&self, name: &str) -> &[String] {
        self.lists.get(name).map(Vec::as_slice).unwrap_or_default()
    }
}

pub async fn read(mut multipart: Multipart, limit: usize) -> ApiResult<Upload> {
    let unreadable =
        |error: axum::extract::multipart::MultipartError| ApiError::unprocessable(format!("the form is unreadable: {}", error.body_text()));
    let mut fields = Fields::default();
    let mut file: Option<(HeaderMap, Bytes)> = None;
    while let Some(part) = multipart.next_field().await.map_err(unreadable)? {
        let name = part.name().unwrap_or_default().to_string();
        if name == "file" {
            let headers = part.headers().clone();
            file = Some((headers, part.bytes().await.map_err(unreadable)?));
        } else if let Some(list) = name.strip_suffix("[]") {
            let value = part.text().await.map_err(unreadable)?;
            fields.lists.entry(list.to_string()).or_default().push(value);
        } else {
            let value = part.text().await.map_err(unreadable)?;
            fields.values.insert(name, value);
        }
    }
    let (headers, compressed) = file.ok_or_else(|| ApiError::unprocessable("the form has no file part"))?;
    let content = decompress(compressed, content_encoding(&headers)?, limit)?;
    let name = fields.value("name").ok_or_else(|| ApiError::unprocessable("the form has no name"))?.to_string();
    let table = match FileKind::of(&headers)? {
        FileKind::Csv => Table::from_csv(&content)?,
        FileKind::ArrowStream => Table::from_arrow_stream(&content)?,
        FileKind::JsonLines => Table::from_json_lines(&content)?,
    };
    Ok(Upload {
        action: super::datasets::action_of(fields.value("action"))?,
        name,
        description: fields.value("description").map(str::to_string),
        examples: table.examples(&fields)?,
    })
}

/// What the file part holds, by its content type.
enum FileKind {
    Csv,
    ArrowStream,
    JsonLines,
}

impl FileKind {
    fn of(headers: &HeaderMap) -> ApiResult<FileKind> {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("text/csv");
        match content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase().as_str() {
            "text/csv" | "" => Ok(FileKind::Csv),
            "application/x-pandas-pyarrow" | "application/vnd.apache.arrow.stream" | "application/x-pandas-arrow" => {
                Ok(FileKind::ArrowStream)
            }
            "application/jsonl" | "application/x-ndjson" | "application/jsonlines" | "application/x-jsonlines" => Ok(FileKind::JsonLines),
            _ => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Invalid file content type: {content_type} (send text/csv, application/x-pandas-pyarrow or application/jsonl)"),
            )),
        }
    }
}

/// A file's rows and the columns they may have.
struct Table {
    columns: Vec<String>,
    rows: Rows,
    /// How the rows are named in errors ("CSV row", "line").
    row_noun: &'static str,
}

impl Table {
    fn from_csv(csv: &[u8]) -> ApiResult<Table> {
        let mut reader = csv::Reader::from_reader(csv);
        let headers = reader.headers().map_err(|error| ApiError::unprocessable(format!("the CSV header is unreadable: {error}")))?.clone();
        let columns: Vec<String> = headers.iter().map(String::from).collect();
        if let Some(duplicate) = columns.iter().enumerate().find(|(index, column)| columns[..*index].contains(column)) {
            return Err(ApiError::unprocessable(format!("Duplicated column header in CSV file: {}", duplicate.1)));
        }
        let mut rows = Rows::new();
        for (index, record) in reader.records().enumerate() {
            let record = record.map_err(|error| ApiError::unprocessable(format!("CSV row {}: {error}", index + 1)))?;
            rows.push(columns.iter().zip(record.iter()).map(|(column, cell)| (column.clone(), Value::String(cell.to_string()))).collect());
        }
        Ok(Table { columns, rows, row_noun: "CSV row" })
    }

    #[cfg(feature = "arrow")]
    fn from_arrow_stream(content: &[u8]) -> ApiResult<Table> {
        let rows = crate::rows::arrow_stream_rows(content)?;
        let columns = rows.first().map(|row| row.keys().cloned().collect()).unwrap_or_default();
        Ok(Table { columns, rows, row_noun: "row" })
    }

    #[cfg(not(feature = "arrow"))]
    fn from_arrow_stream(_: &[u8]) -> ApiResult<Table> {
        Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "this ember was built without Arrow support"))
    }

    fn from_json_lines(content: &[u8]) -> ApiResult<Table> {
        let mut columns: Vec<String> = Vec::new();
        let mut rows = Rows::new();
        for (index, line) in content.split(|byte| *byte == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let row = match serde_json::from_slice::<Value>(line) {
                Ok(Value::Object(row)) => row,
                Ok(_) => return Err(ApiError::unprocessable(format!("line {} is not a JSON object", index + 1))),
                Err(error) => return Err(ApiError::unprocessable(format!("line {} is not JSON: {error}", index + 1))),
            };
            for key in row.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
            rows.push(row);
        }
        Ok(Table { columns, rows, row_noun: "line" })
    }
}

impl Table {
    /// Each named key, or a 422 naming one that is not a column. A file without rows has no
    /// columns to check.
    fn keys<'a>(&self, keys: &'a [String], what: &str) -> ApiResult<&'a [String]> {
        match keys.iter().find(|key| !self.rows.is_empty() && !self.columns.contains(key)) {
            Some(missing) => Err(ApiError::unprocessable(format!("{what} {missing:?} is not a column of the file"))),
            None => Ok(keys),
        }
    }

    fn examples(self, fields: &Fields) -> ApiResult<Vec<ExampleInput>> {
        let inputs = self.keys(fields.list("input_keys"), "input key")?;
        let outputs = self.keys(fields.list("output_keys"), "output key")?;
        let metadata = self.keys(fields.list("metadata_keys"), "metadata key")?;
        let split_keys = self.keys(fields.list("split_keys"), "split key")?;
        let single = |name: &str| -> ApiResult<Option<String>> {
            match fields.value(name) {
                None => Ok(None),
                Some(key) => Ok(self.keys(&[key.to_string()], name)?.first().cloned()),
            }
        };
        let split_key = single("split_key")?;
        let span_id_key = single("span_id_key")?;
        let example_id_key = single("example_id_key")?;
        let mut examples = Vec::with_capacity(self.rows.len());
        for (index, row) in self.rows.iter().enumerate() {
            let object = |keys: &[String]| -> Value {
                Value::Object(keys.iter().map(|key| (key.clone(), row.get(key).cloned().unwrap_or(Value::Null))).collect::<Map<_, _>>())
            };
            let mut splits = Vec::new();
            for key in split_keys.iter().chain(&split_key) {
                splits.extend(
                    split_names(row.get(key).unwrap_or(&Value::Null))
                        .map_err(|problem| ApiError::unprocessable(format!("{} {}: split {key:?} {problem}", self.row_noun, index + 1)))?,
                );
            }
            let text = |key: &Option<String>| -> ApiResult<Option<String>> {
                let Some(key) = key else { return Ok(None) };
                match row.get(key).unwrap_or(&Value::Null) {
                    Value::Null => Ok(None),
                    Value::String(text) => Ok(Some(text.trim().to_string()).filter(|text| !text.is_empty())),
                    Value::Number(number) => Ok(Some(number.to_string())),
                    _ => Err(ApiError::unprocessable(format!("{} {}: {key:?} must be text", self.row_noun, index + 1))),
                }
            };
            examples.push(ExampleInput {
                input: object(inputs),
                output: object(outputs),
                metadata: object(metadata),
                splits,
                span_id: text(&span_id_key)?,
                external_id: text(&example_id_key)?,
            });
        }
        Ok(examples)
    }
}

/// A split cell: a name, a list of names or a JSON list of names as text; none when empty.
fn split_names(cell: &Value) -> Result<Vec<String>, &'static str> {
    let names = match cell {
        Value::Null => vec![],
        Value::String(text) => match serde_json::from_str::<Vec<String>>(text.trim()) {
            Ok(names) => names,
            Err(_) => vec![text.clone()],
        },
        Value::Array(items) => {
            items.iter().map(|item| item.as_str().map(String::from).ok_or("must hold names")).collect::<Result<_, _>>()?
        }
        _ => return Err("must be a name or a list of names"),
    };
    Ok(names.into_iter().map(|name| name.trim().to_string()).filter(|name| !name.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_cells_are_a_json_list_or_one_name() {
        use serde_json::json;
        assert_eq!(split_names(&json!(r#"["train", " hard "]"#)).unwrap(), vec!["train", "hard"]);
        assert_eq!(split_names(&json!(" test ")).unwrap(), vec!["test"]);
        assert_eq!(split_names(&json!("[not json")).unwrap(), vec!["[not json"]);
        assert_eq!(split_names(&json!(["a", " "])).unwrap(), vec!["a"]);
        assert_eq!(split_names(&json!("")).unwrap(), Vec::<String>::new());
        assert!(split_names(&json!(3)).is_err());
    }
}
