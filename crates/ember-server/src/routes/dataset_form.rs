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
//! The part may be compressed (`Content-Encoding: gzip` or `deflate`). It is spooled to a
//! temporary file as it arrives, then parsed on a blocking thread into batches of examples that
//! the store writes as they come, so an upload's memory does not grow with its size.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};

use axum::extract::Multipart;
use axum::http::{header, HeaderMap, StatusCode};
use ember_store::{ExampleBatches, ExampleInput, StoreError, UploadAction};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::body::content_encoding;
use crate::error::{ApiError, ApiResult};
use crate::spool::Spool;

/// Examples per batch handed to the store.
const EXAMPLES_PER_BATCH: usize = 1000;

/// The longest form field other than the file (names, keys, descriptions).
const MAX_FIELD_BYTES: usize = 64 << 10;
/// The most `[]` list entries a form may carry, all lists together.
const MAX_LIST_ENTRIES: usize = 10_000;
/// The most columns a file may have (CSV headers, JSON-lines keys).
const MAX_COLUMNS: usize = 10_000;
/// The longest cell (or JSON line) of a file.
const MAX_CELL_BYTES: usize = 16 << 20;

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

/// A read upload form: what to do, and its file spooled to disk, not yet parsed.
pub struct UploadForm {
    pub action: UploadAction,
    pub name: String,
    pub description: Option<String>,
    keys: Keys,
    file: File,
    kind: FileKind,
}

pub async fn read(mut multipart: Multipart, limit: u64) -> ApiResult<UploadForm> {
    let unreadable = |error: axum::extract::multipart::MultipartError| match error.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the upload exceeds the limit of {limit} bytes"))
        }
        _ => ApiError::unprocessable(format!("the form is unreadable: {}", error.body_text())),
    };
    let mut fields = Fields::default();
    let mut list_entries = 0;
    let mut file: Option<(File, FileKind)> = None;
    while let Some(mut part) = multipart.next_field().await.map_err(unreadable)? {
        let name = part.name().unwrap_or_default().to_string();
        if name == "file" {
            let kind = FileKind::of(part.headers(), part.file_name())?;
            let spool = Spool::start(content_encoding(part.headers())?, limit);
            while let Some(chunk) = part.chunk().await.map_err(unreadable)? {
                if !spool.push(chunk).await {
                    break;
                }
            }
            file = Some((spool.finish().await?, kind));
        } else if let Some(list) = name.strip_suffix("[]") {
            list_entries += 1;
            if list_entries > MAX_LIST_ENTRIES {
                return Err(ApiError::unprocessable(format!("the form names more than {MAX_LIST_ENTRIES} keys")));
            }
            let value = field_text(&mut part, &name).await.map_err(|error| error.or_else(unreadable))?;
            let entries = fields.lists.entry(list.to_string()).or_default();
            // A key named twice is one key (and one copy of its cells).
            if !entries.contains(&value) {
                entries.push(value);
            }
        } else {
            let value = field_text(&mut part, &name).await.map_err(|error| error.or_else(unreadable))?;
            fields.values.insert(name, value);
        }
    }
    let (file, kind) = file.ok_or_else(|| ApiError::unprocessable("the form has no file part"))?;
    let name = fields.value("name").ok_or_else(|| ApiError::unprocessable("the form has no name"))?.to_string();
    Ok(UploadForm {
        action: super::datasets::action_of(fields.value("action"))?,
        name,
        description: fields.value("description").map(str::to_string),
        keys: Keys::of(&fields),
        file,
        kind,
    })
}

impl UploadForm {
    /// Starts parsing the file on a blocking thread; the examples arrive in batches.
    pub fn into_batches(self) -> FormBatches {
        let (sender, receiver) = mpsc::channel(2);
        let UploadForm { keys, file, kind, .. } = self;
        tokio::task::spawn_blocking(move || {
            let mut batcher = Batcher { keys, sender, batch: Vec::with_capacity(EXAMPLES_PER_BATCH), columns_checked: false };
            let message = match crate::untrusted::without_panic("upload", || batcher.parse(kind, file)) {
                Some(Ok(())) => Parsed::Done,
                Some(Err(error)) => Parsed::Failed(error),
                None => Parsed::Failed(crate::untrusted::malformed("the uploaded file")),
            };
            let _ = batcher.sender.blocking_send(message);
        });
        FormBatches { receiver, failure: None }
    }
}

/// Why a form field could not be read: too long, or the form broke.
enum FieldError {
    TooLong(ApiError),
    Multipart(axum::extract::multipart::MultipartError),
}

impl FieldError {
    fn or_else(self, unreadable: impl FnOnce(axum::extract::multipart::MultipartError) -> ApiError) -> ApiError {
        match self {
            FieldError::TooLong(error) => error,
            FieldError::Multipart(error) => unreadable(error),
        }
    }
}

/// A form field's text, read up to [`MAX_FIELD_BYTES`].
async fn field_text(part: &mut axum::extract::multipart::Field<'_>, name: &str) -> Result<String, FieldError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = part.chunk().await.map_err(FieldError::Multipart)? {
        if bytes.len() + chunk.len() > MAX_FIELD_BYTES {
            return Err(FieldError::TooLong(ApiError::unprocessable(format!(
                "the form field {name:?} is longer than {MAX_FIELD_BYTES} bytes"
            ))));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| FieldError::TooLong(ApiError::unprocessable(format!("the form field {name:?} is not UTF-8"))))
}

/// What the parsing thread sends.
enum Parsed {
    Batch(Vec<ExampleInput>),
    Failed(ApiError),
    Done,
}

/// The examples of an upload form as the store reads them.
pub struct FormBatches {
    receiver: mpsc::Receiver<Parsed>,
    failure: Option<ApiError>,
}

impl FormBatches {
    /// The parse error that aborted the upload, to answer instead of the store's.
    pub fn take_failure(&mut self) -> Option<ApiError> {
        self.failure.take()
    }
}

impl ExampleBatches for FormBatches {
    async fn next_batch(&mut self) -> Result<Option<Vec<ExampleInput>>, StoreError> {
        match self.receiver.recv().await {
            Some(Parsed::Batch(batch)) => Ok(Some(batch)),
            Some(Parsed::Done) => Ok(None),
            Some(Parsed::Failed(error)) => {
                self.failure = Some(error);
                Err(StoreError::Invalid("the upload file is invalid".into()))
            }
            // The parser stopped without saying it finished: never commit a partial upload.
            None => Err(StoreError::Corrupt("the upload parser stopped early".into())),
        }
    }
}

/// What the file part holds, by its content type.
#[derive(Clone, Copy)]
enum FileKind {
    Csv,
    ArrowStream,
    JsonLines,
}

impl FileKind {
    /// The part's kind by its content type; a browser's generic type (a file type it does not
    /// know, such as `.jsonl`) is read by the file name's extension.
    fn of(headers: &HeaderMap, file_name: Option<&str>) -> ApiResult<FileKind> {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("text/csv");
        let mut essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if essence == "application/octet-stream" {
            let extension = file_name.and_then(|name| name.rsplit_once('.')).map(|(_, extension)| extension.to_ascii_lowercase());
            match extension.as_deref() {
                Some("csv") => essence = "text/csv".into(),
                Some("jsonl" | "ndjson") => essence = "application/jsonl".into(),
                _ => {}
            }
        }
        match essence.as_str() {
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

/// The columns the form names for each part of an example.
struct Keys {
    inputs: Vec<String>,
    outputs: Vec<String>,
    metadata: Vec<String>,
    /// `split_keys[]` and `split_key`.
    splits: Vec<String>,
    span_id: Option<String>,
    example_id: Option<String>,
}

impl Keys {
    fn of(fields: &Fields) -> Keys {
        let single = |name: &str| fields.value(name).map(str::to_string);
        let mut splits = fields.list("split_keys").to_vec();
        splits.extend(single("split_key"));
        Keys {
            inputs: fields.list("input_keys").to_vec(),
            outputs: fields.list("output_keys").to_vec(),
            metadata: fields.list("metadata_keys").to_vec(),
            splits,
            span_id: single("span_id_key"),
            example_id: single("example_id_key"),
        }
    }

    /// A 422 naming the first key that is not a column. A file without rows has no columns to check.
    fn check(&self, columns: &[String]) -> ApiResult<()> {
        let columns: HashSet<&str> = columns.iter().map(String::as_str).collect();
        let named = [
            (&self.inputs[..], "input key"),
            (&self.outputs[..], "output key"),
            (&self.metadata[..], "metadata key"),
            (&self.splits[..], "split key"),
            (self.span_id.as_slice(), "span_id_key"),
            (self.example_id.as_slice(), "example_id_key"),
        ];
        for (keys, what) in named {
            if let Some(missing) = keys.iter().find(|key| !columns.contains(key.as_str())) {
                return Err(ApiError::unprocessable(format!("{what} {missing:?} is not a column of the file")));
            }
        }
        Ok(())
    }

    fn example(&self, row: &Map<String, Value>, place: &str) -> ApiResult<ExampleInput> {
        if let Some((key, _)) = row.iter().find(|(_, value)| value.as_str().is_some_and(|text| text.len() > MAX_CELL_BYTES)) {
            return Err(ApiError::unprocessable(format!("{place}: the cell of {key:?} is longer than {MAX_CELL_BYTES} bytes")));
        }
        let object = |keys: &[String]| -> Value {
            Value::Object(keys.iter().map(|key| (key.clone(), row.get(key).cloned().unwrap_or(Value::Null))).collect::<Map<_, _>>())
        };
        // Splits are given when the form names a split column; a matched example then gets exactly these.
        let mut splits = (!self.splits.is_empty()).then(Vec::new);
        for key in &self.splits {
            splits.get_or_insert_with(Vec::new).extend(
                split_names(row.get(key).unwrap_or(&Value::Null))
                    .map_err(|problem| ApiError::unprocessable(format!("{place}: split {key:?} {problem}")))?,
            );
        }
        let text = |key: &Option<String>| -> ApiResult<Option<String>> {
            let Some(key) = key else { return Ok(None) };
            match row.get(key).unwrap_or(&Value::Null) {
                Value::Null => Ok(None),
                Value::String(text) => Ok(Some(text.trim().to_string()).filter(|text| !text.is_empty())),
                Value::Number(number) => Ok(Some(number.to_string())),
                _ => Err(ApiError::unprocessable(format!("{place}: {key:?} must be text"))),
            }
        };
        Ok(ExampleInput {
            input: object(&self.inputs),
            output: object(&self.outputs),
            metadata: object(&self.metadata),
            splits,
            span_id: text(&self.span_id)?,
            external_id: text(&self.example_id)?,
        })
    }
}

/// Turns rows into examples and sends them a batch at a time.
struct Batcher {
    keys: Keys,
    sender: mpsc::Sender<Parsed>,
    batch: Vec<ExampleInput>,
    columns_checked: bool,
}

impl Batcher {
    fn parse(&mut self, kind: FileKind, file: File) -> ApiResult<()> {
        match kind {
            FileKind::Csv => self.parse_csv(file)?,
            FileKind::ArrowStream => self.parse_arrow(file)?,
            FileKind::JsonLines => self.parse_json_lines(file)?,
        }
        self.flush()
    }

    /// Checks the columns before the first row (so a file without rows passes).
    fn push(&mut self, columns: &[String], row: &Map<String, Value>, place: impl FnOnce() -> String) -> ApiResult<()> {
        if !self.columns_checked {
            self.keys.check(columns)?;
            self.columns_checked = true;
        }
        let example = self.keys.example(row, &place())?;
        self.batch.push(example);
        if self.batch.len() >= EXAMPLES_PER_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> ApiResult<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(EXAMPLES_PER_BATCH));
        // The store stopped reading (it failed): stop parsing.
        self.sender.blocking_send(Parsed::Batch(batch)).map_err(|_| ApiError::unprocessable("the upload was abandoned"))
    }

    fn parse_csv(&mut self, file: File) -> ApiResult<()> {
        let mut reader = csv::Reader::from_reader(BufReader::new(file));
        let headers = reader.headers().map_err(|error| ApiError::unprocessable(format!("the CSV header is unreadable: {error}")))?.clone();
        let columns: Vec<String> = headers.iter().map(String::from).collect();
        if columns.len() > MAX_COLUMNS {
            return Err(ApiError::unprocessable(format!("the CSV file has {} columns; at most {MAX_COLUMNS}", columns.len())));
        }
        let mut seen = HashSet::with_capacity(columns.len());
        if let Some(duplicate) = columns.iter().find(|column| !seen.insert(column.as_str())) {
            return Err(ApiError::unprocessable(format!("Duplicated column header in CSV file: {duplicate}")));
        }
        let mut record = csv::StringRecord::new();
        let mut number = 0;
        loop {
            number += 1;
            match reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    let row: Map<String, Value> =
                        columns.iter().zip(record.iter()).map(|(column, cell)| (column.clone(), Value::String(cell.to_string()))).collect();
                    self.push(&columns, &row, || format!("CSV row {number}"))?;
                }
                Err(error) => return Err(ApiError::unprocessable(format!("CSV row {number}: {error}"))),
            }
        }
    }

    #[cfg(feature = "arrow")]
    fn parse_arrow(&mut self, file: File) -> ApiResult<()> {
        let (schema, batches) = crate::rows::arrow_stream_batches(file)?;
        let columns: Vec<String> = schema.fields().iter().map(|field| field.name().clone()).collect();
        let mut number = 0;
        for rows in batches {
            for row in rows? {
                number += 1;
                self.push(&columns, &row, || format!("row {number}"))?;
            }
        }
        Ok(())
    }

    #[cfg(not(feature = "arrow"))]
    fn parse_arrow(&mut self, _: File) -> ApiResult<()> {
        Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "this ember was built without Arrow support"))
    }

    /// The columns of a JSON-lines file are every key of every line, so the named keys are
    /// checked once all lines are read.
    fn parse_json_lines(&mut self, file: File) -> ApiResult<()> {
        let mut columns: Vec<String> = Vec::new();
        let mut known: HashSet<String> = HashSet::new();
        let mut rows = 0;
        self.columns_checked = true;
        for (index, line) in BufReader::new(file).split(b'\n').enumerate() {
            let number = index + 1;
            let line = line.map_err(|error| ApiError::internal(format!("cannot read the spooled upload: {error}")))?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if line.len() > MAX_CELL_BYTES {
                return Err(ApiError::unprocessable(format!("line {number} is longer than {MAX_CELL_BYTES} bytes")));
            }
            let row = match serde_json::from_slice::<Value>(&line) {
                Ok(Value::Object(row)) => row,
                Ok(_) => return Err(ApiError::unprocessable(format!("line {number} is not a JSON object"))),
                Err(error) => return Err(ApiError::unprocessable(format!("line {number} is not JSON: {error}"))),
            };
            for key in row.keys() {
                if !known.contains(key) {
                    if known.len() >= MAX_COLUMNS {
                        return Err(ApiError::unprocessable(format!("the lines have more than {MAX_COLUMNS} keys")));
                    }
                    known.insert(key.clone());
                    columns.push(key.clone());
                }
            }
            rows += 1;
            self.push(&columns, &row, || format!("line {number}"))?;
        }
        if rows > 0 {
            self.keys.check(&columns)?;
        }
        Ok(())
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
