//! Experiments, their runs and tags, the incomplete-run and incomplete-evaluation lists, and the
//! records of an experiment's download.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::datasets::Example;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub id: String,
    pub dataset_id: String,
    pub dataset_version_id: String,
    pub name: String,
    pub description: Option<String>,
    pub repetitions: i64,
    #[serde(default)]
    pub metadata: Value,
    /// The project the experiment's task and evaluator traces go to.
    pub project_name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub example_count: i64,
    #[serde(default)]
    pub successful_run_count: i64,
    #[serde(default)]
    pub failed_run_count: i64,
    #[serde(default)]
    pub missing_run_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentRun<'a> {
    pub id: String,
    pub experiment_id: String,
    pub dataset_example_id: String,
    pub repetition_number: i64,
    pub output: Cow<'a, Value>,
    pub start_time: String,
    pub end_time: String,
    pub trace_id: Option<Cow<'a, str>>,
    pub error: Option<Cow<'a, str>>,
}

/// An example lacking a successful run for some repetitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncompleteRun<'a> {
    pub dataset_example: Example<'a>,
    pub repetition_numbers: Vec<i64>,
}

/// A successful run lacking a successful evaluation of some names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncompleteEvaluation<'a> {
    pub experiment_run: ExperimentRun<'a>,
    pub dataset_example: Example<'a>,
    pub evaluation_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExperimentTag {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
}

/// One run of `GET /v1/experiments/{id}/json`, with its example (as of the experiment's
/// version) and evaluations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadedRun<'a> {
    pub example_id: String,
    pub repetition_number: i64,
    pub input: Cow<'a, Value>,
    pub reference_output: Cow<'a, Value>,
    pub output: Cow<'a, Value>,
    pub metadata: Cow<'a, Value>,
    pub error: Option<Cow<'a, str>>,
    pub latency_ms: f64,
    pub start_time: String,
    pub end_time: String,
    pub trace_id: Option<Cow<'a, str>>,
    pub prompt_token_count: Option<i64>,
    pub completion_token_count: Option<i64>,
    pub annotations: Vec<DownloadedEvaluation<'a>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadedEvaluation<'a> {
    pub name: Cow<'a, str>,
    pub annotator_kind: Cow<'a, str>,
    pub label: Option<Cow<'a, str>>,
    pub score: Option<f64>,
    pub explanation: Option<Cow<'a, str>>,
    pub trace_id: Option<Cow<'a, str>>,
    pub error: Option<Cow<'a, str>>,
    pub metadata: Cow<'a, Value>,
    pub start_time: String,
    pub end_time: String,
}
