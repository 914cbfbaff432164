//! Datasets: list, find by name or id, upload (a file form or JSON records), examples at a
//! version, and the server's downloads.

use std::path::Path;

use ember_core::GlobalId;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;

use crate::client::{decode, Envelope, Page};
use crate::{Client, ClientError};

pub use ember_wire::{Dataset, UploadResult as Uploaded};

/// An example as `GET /v1/datasets/{id}/examples` returns it; the command task reads this on
/// its stdin and the HTTP task receives it as the request body.
pub type Example = ember_wire::Example<'static>;

/// A dataset's examples at one version.
pub type Examples = ember_wire::DatasetExamples<'static>;

/// The upload actions of `POST /v1/datasets/upload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadAction {
    Create,
    Append,
    Update,
}

impl UploadAction {
    fn as_str(self) -> &'static str {
        match self {
            UploadAction::Create => "create",
            UploadAction::Append => "append",
            UploadAction::Update => "update",
        }
    }
}

/// The file types the upload form takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    JsonLines,
}

impl FileKind {
    /// From the file's extension: `.csv`, `.jsonl` or `.ndjson`.
    pub fn of_path(path: &Path) -> Option<FileKind> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(FileKind::Csv),
            "jsonl" | "ndjson" => Some(FileKind::JsonLines),
            _ => None,
        }
    }

    fn mime(self) -> &'static str {
        match self {
            FileKind::Csv => "text/csv",
            FileKind::JsonLines => "application/jsonl",
        }
    }
}

/// A file upload: which columns (or top-level keys) become the input, output and metadata.
#[derive(Debug, Clone)]
pub struct FileUpload<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub action: UploadAction,
    pub path: &'a Path,
    pub kind: FileKind,
    pub input_keys: &'a [String],
    pub output_keys: &'a [String],
    pub metadata_keys: &'a [String],
    pub split_keys: &'a [String],
}

/// Examples given as records, sent as the JSON upload body.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordUpload {
    pub action: &'static str,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub inputs: Vec<Value>,
    pub outputs: Vec<Value>,
    pub metadata: Vec<Value>,
}

impl RecordUpload {
    pub fn new(name: &str, description: Option<&str>, action: UploadAction) -> RecordUpload {
        RecordUpload { action: action.as_str(), name: name.to_string(), description: description.map(str::to_string), ..Default::default() }
    }

    /// Adds one example; output and metadata default to `{}`.
    pub fn push(&mut self, input: Map<String, Value>, output: Option<Map<String, Value>>, metadata: Option<Map<String, Value>>) {
        self.inputs.push(Value::Object(input));
        self.outputs.push(Value::Object(output.unwrap_or_default()));
        self.metadata.push(Value::Object(metadata.unwrap_or_default()));
    }
}

/// The downloads `GET /v1/datasets/{id}/{format}` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadFormat {
    Csv,
    JsonLines,
    OpenAiFineTuning,
    OpenAiEvals,
}

impl DownloadFormat {
    fn path(self) -> &'static str {
        match self {
            DownloadFormat::Csv => "csv",
            DownloadFormat::JsonLines => "jsonl",
            DownloadFormat::OpenAiFineTuning => "jsonl/openai_ft",
            DownloadFormat::OpenAiEvals => "jsonl/openai_evals",
        }
    }
}

impl Client {
    /// Every dataset, newest first.
    pub async fn list_datasets(&self) -> Result<Vec<Dataset>, ClientError> {
        self.get_all("v1/datasets", &[]).await
    }

    /// A dataset by GlobalID, or else by name.
    pub async fn find_dataset(&self, name_or_id: &str) -> Result<Dataset, ClientError> {
        if GlobalId::decode_as(name_or_id, ember_core::GlobalType::Dataset).is_some() {
            let found: Envelope<Dataset> = self.get_json(&format!("v1/datasets/{name_or_id}"), &[]).await?;
            return Ok(found.data);
        }
        let page: Page<Dataset> = self.get_json("v1/datasets", &[("name", name_or_id), ("limit", "1")]).await?;
        page.data.into_iter().next().ok_or_else(|| ClientError::Invalid(format!("there is no dataset named `{name_or_id}`")))
    }

    /// The examples at a version (the latest when `None`), optionally only those in `splits`.
    pub async fn dataset_examples(&self, dataset_id: &str, version_id: Option<&str>, splits: &[String]) -> Result<Examples, ClientError> {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(version_id) = version_id {
            query.push(("version_id", version_id));
        }
        for split in splits {
            query.push(("split", split));
        }
        let examples: Envelope<Examples> = self.get_json(&format!("v1/datasets/{dataset_id}/examples"), &query).await?;
        Ok(examples.data)
    }

    /// Uploads a file as the client's form does, streaming it from disk.
    pub async fn upload_file(&self, upload: &FileUpload<'_>) -> Result<Uploaded, ClientError> {
        let label = "POST /v1/datasets/upload";
        let io_error = |source| ClientError::Io { path: upload.path.display().to_string(), source };
        let file = Part::file(upload.path)
            .await
            .map_err(io_error)?
            .mime_str(upload.kind.mime())
            .map_err(|source| ClientError::Transport { request: label.into(), source })?;
        let mut form = Form::new().text("name", upload.name.to_string()).text("action", upload.action.as_str());
        if let Some(description) = upload.description {
            form = form.text("description", description.to_string());
        }
        for (field, keys) in [
            ("input_keys[]", upload.input_keys),
            ("output_keys[]", upload.output_keys),
            ("metadata_keys[]", upload.metadata_keys),
            ("split_keys[]", upload.split_keys),
        ] {
            for key in keys {
                form = form.text(field, key.clone());
            }
        }
        let request = self.request(Method::POST, "v1/datasets/upload").query(&[("sync", "true")]).multipart(form.part("file", file));
        let response = self.send(label, request).await?;
        let uploaded: Envelope<Uploaded> = decode(label, response).await?;
        Ok(uploaded.data)
    }

    /// Uploads examples given as records.
    pub async fn upload_records(&self, upload: &RecordUpload) -> Result<Uploaded, ClientError> {
        let uploaded: Envelope<Uploaded> = self.post_json("v1/datasets/upload?sync=true", upload).await?;
        Ok(uploaded.data)
    }

    /// Streams a download into `sink`; returns the bytes written.
    pub async fn download_dataset(
        &self,
        dataset_id: &str,
        format: DownloadFormat,
        version_id: Option<&str>,
        sink: &mut (impl tokio::io::AsyncWrite + Unpin),
    ) -> Result<u64, ClientError> {
        let path = format!("v1/datasets/{dataset_id}/{}", format.path());
        let label = format!("GET /{path}");
        let mut request = self.request(Method::GET, &path);
        if let Some(version_id) = version_id {
            request = request.query(&[("version_id", version_id)]);
        }
        let mut response = self.send(&label, request).await?;
        let mut written = 0;
        while let Some(chunk) = response.chunk().await.map_err(|source| ClientError::Transport { request: label.clone(), source })? {
            sink.write_all(&chunk).await.map_err(|source| ClientError::Io { path: "the output".into(), source })?;
            written += chunk.len() as u64;
        }
        sink.flush().await.map_err(|source| ClientError::Io { path: "the output".into(), source })?;
        Ok(written)
    }
}
