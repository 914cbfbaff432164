//! Datasets, their versions, examples, labels and splits, and the answer of an upload.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: Value,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub example_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetVersion {
    pub version_id: String,
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: Value,
    pub created_at: String,
}

/// An example as `GET /v1/datasets/{id}/examples` returns it. Its public `id` is the caller's
/// stable id when the upload gave one, else its `node_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example<'a> {
    pub id: Cow<'a, str>,
    #[serde(default)]
    pub node_id: String,
    pub input: Cow<'a, Value>,
    pub output: Cow<'a, Value>,
    #[serde(default)]
    pub metadata: Cow<'a, Value>,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ExampleSource<'a>>,
}

/// The span an example was made from, while it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExampleSource<'a> {
    pub span_id: Cow<'a, str>,
    pub span_node_id: String,
}

/// A dataset's examples at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetExamples<'a> {
    pub dataset_id: String,
    pub version_id: Option<String>,
    #[serde(default)]
    pub filtered_splits: Vec<String>,
    pub examples: Vec<Example<'a>>,
}

/// `POST /v1/datasets/upload?sync=true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResult {
    pub dataset_id: String,
    pub version_id: String,
    #[serde(default)]
    pub num_created_examples: usize,
    #[serde(default)]
    pub num_updated_examples: usize,
    #[serde(default)]
    pub num_deleted_examples: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetLabel {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub color: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSplit {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub color: String,
    pub metadata: Value,
    pub example_count: i64,
    pub created_at: String,
    pub updated_at: String,
}
