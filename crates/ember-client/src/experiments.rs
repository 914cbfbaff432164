//! Experiments: create one on a dataset, record its runs and their evaluations.

use serde::Serialize;
use serde_json::Value;

use crate::client::Envelope;
use crate::{Client, ClientError};

#[derive(Debug, Clone, Default, Serialize)]
pub struct NewExperiment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub metadata: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub repetitions: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub splits: Vec<String>,
}

pub use ember_wire::Experiment;

/// A run as `POST /v1/experiments/{id}/runs` takes it.
#[derive(Debug, Clone, Serialize)]
pub struct NewRun {
    pub dataset_example_id: String,
    pub output: Value,
    pub repetition_number: u32,
    pub start_time: String,
    pub end_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An evaluation as `POST /v1/experiment_evaluations` takes it.
#[derive(Debug, Clone, Serialize)]
pub struct NewEvaluation {
    pub experiment_run_id: String,
    pub name: String,
    pub annotator_kind: &'static str,
    pub start_time: String,
    pub end_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<ember_evals::EvaluationResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    pub metadata: Value,
}

/// How a run was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRecorded {
    /// Stored under this id.
    Stored(String),
    /// The server already had a successful run of this example and repetition (a 409).
    AlreadySucceeded,
}

use ember_wire::Id as Created;

impl Client {
    pub async fn create_experiment(&self, dataset_id: &str, experiment: &NewExperiment) -> Result<Experiment, ClientError> {
        let created: Envelope<Experiment> = self.post_json(&format!("v1/datasets/{dataset_id}/experiments"), experiment).await?;
        Ok(created.data)
    }

    pub async fn record_run(&self, experiment_id: &str, run: &NewRun) -> Result<RunRecorded, ClientError> {
        match self.post_json::<Envelope<Created>>(&format!("v1/experiments/{experiment_id}/runs"), run).await {
            Ok(created) => Ok(RunRecorded::Stored(created.data.id)),
            Err(error) if error.status() == Some(reqwest::StatusCode::CONFLICT) => Ok(RunRecorded::AlreadySucceeded),
            Err(error) => Err(error),
        }
    }

    /// Records an evaluation (an upsert by run and name); returns its id.
    pub async fn record_evaluation(&self, evaluation: &NewEvaluation) -> Result<String, ClientError> {
        let created: Envelope<Created> = self.post_json("v1/experiment_evaluations", evaluation).await?;
        Ok(created.data.id)
    }
}
