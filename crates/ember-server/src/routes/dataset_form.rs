//! `POST /v1/datasets/upload` as `multipart/form-data`, the way `arize-phoenix-client` sends a
//! DataFrame or a CSV file: a `file` part holding CSV (gzip-compressed when the part says
//! `Content-Encoding: gzip`) and form fields naming its columns (`input_keys[]`, `output_keys[]`,
//! `metadata_keys[]`, `split_key` or `split_keys[]`, `span_id_key`, `example_id_key`). Cells are
//! text, as Phoenix reads them.

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::http::HeaderMap;
use bytes::Bytes;
use ember_store::ExampleInput;
use serde_json::{Map, Value};

use super::datasets::Upload;
use crate::body::{content_encoding, decompress};
use crate::error::{ApiError, ApiResult};

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
    let csv = decompress(compressed, content_encoding(&headers)?, limit)?;
    let name = fields.value("name").ok_or_else(|| ApiError::unprocessable("the form has no name"))?.to_string();
    Ok(Upload {
        action: super::datasets::action_of(fields.value("action"))?,
        name,
        description: fields.value("description").map(str::to_string),
        examples: examples_from_csv(&csv, &fields)?,
    })
}

/// The column index of each named key, or a 422 naming the missing column.
fn columns_of(headers: &csv::StringRecord, keys: &[String], what: &str) -> ApiResult<Vec<(String, usize)>> {
    keys.iter()
        .map(|key| {
            headers
                .iter()
                .position(|header| header == key)
                .map(|index| (key.clone(), index))
                .ok_or_else(|| ApiError::unprocessable(format!("{what} {key:?} is not a column of the CSV")))
        })
        .collect()
}

fn examples_from_csv(csv: &[u8], fields: &Fields) -> ApiResult<Vec<ExampleInput>> {
    let mut reader = csv::Reader::from_reader(csv);
    let headers = reader.headers().map_err(|error| ApiError::unprocessable(format!("the CSV header is unreadable: {error}")))?.clone();
    let inputs = columns_of(&headers, fields.list("input_keys"), "input key")?;
    let outputs = columns_of(&headers, fields.list("output_keys"), "output key")?;
    let metadata = columns_of(&headers, fields.list("metadata_keys"), "metadata key")?;
    let split_columns = columns_of(&headers, fields.list("split_keys"), "split key")?;
    let optional_column = |name: &str| -> ApiResult<Option<usize>> {
        match fields.value(name) {
            None => Ok(None),
            Some(key) => Ok(Some(columns_of(&headers, &[key.to_string()], name)?[0].1)),
        }
    };
    let split_column = optional_column("split_key")?;
    let span_id_column = optional_column("span_id_key")?;
    let example_id_column = optional_column("example_id_key")?;
    let mut examples = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| ApiError::unprocessable(format!("CSV row {}: {error}", index + 1)))?;
        let cell = |column: usize| record.get(column).unwrap_or_default();
        let object = |columns: &[(String, usize)]| -> Value {
            Value::Object(
                columns.iter().map(|(key, column)| (key.clone(), Value::String(cell(*column).to_string()))).collect::<Map<_, _>>(),
            )
        };
        let mut splits: Vec<String> = split_columns.iter().map(|(_, column)| cell(*column).trim().to_string()).collect();
        if let Some(column) = split_column {
            splits.extend(split_names(cell(column)));
        }
        splits.retain(|split| !split.is_empty());
        let text = |column: Option<usize>| column.map(|column| cell(column).trim().to_string()).filter(|text| !text.is_empty());
        examples.push(ExampleInput {
            input: object(&inputs),
            output: object(&outputs),
            metadata: object(&metadata),
            splits,
            span_id: text(span_id_column),
            external_id: text(example_id_column),
        });
    }
    Ok(examples)
}

/// A split cell: a JSON list of names, or one name.
fn split_names(cell: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(cell.trim()) {
        Ok(names) => names.into_iter().map(|name| name.trim().to_string()).collect(),
        Err(_) => vec![cell.trim().to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_cells_are_a_json_list_or_one_name() {
        assert_eq!(split_names(r#"["train", " hard "]"#), vec!["train", "hard"]);
        assert_eq!(split_names(" test "), vec!["test"]);
        assert_eq!(split_names("[not json"), vec!["[not json"]);
    }
}
