//! Experiments on a dataset version (with the hidden project their task and evaluator traces go
//! to), their tags, runs and evaluations. An experiment, run or example is named by rowid (the
//! transports decode GlobalIDs); an example also by the caller's own id within the dataset.

use std::collections::HashMap;

use ember_core::prompt::{is_identifier, IDENTIFIER_PATTERN};
use ember_core::{AnnotatorKind, GlobalId, GlobalType};
use ember_store::{
    DatasetRecord, ExperimentChanges, ExperimentEvaluationInput, ExperimentKey, ExperimentRecord, ExperimentRunInput, ExperimentRunRecord,
    ExperimentSummary, ExperimentTagRecord, ExportedRun, IncompleteEvaluation, IncompleteRuns, NewExperiment, Page, RunWrite,
};
use rand::Rng;
use serde_json::{json, Map, Value};

use crate::error::{Result, ServiceError};
use crate::limits::{check_description, check_name};
use crate::{Caller, Services};

/// A new experiment on a dataset.
#[derive(Debug, Clone, Default)]
pub struct ExperimentRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    /// The version to run on (rowid); the latest when `None`.
    pub version_id: Option<i64>,
    /// Splits to run on, by GlobalID or name.
    pub splits: Vec<String>,
    pub repetitions: i64,
}

/// Changes to an experiment: `None` keeps a field, `Some(None)` sets it to null.
#[derive(Debug, Clone, Default)]
pub struct ExperimentUpdate {
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub metadata: Option<Option<Map<String, Value>>>,
}

/// A run as the task reported it; the example by GlobalID or by the caller's id.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub dataset_example_id: String,
    pub repetition_number: i64,
    pub output: Value,
    pub start_time: i64,
    pub end_time: i64,
    pub trace_id: Option<String>,
    pub error: Option<String>,
}

/// An evaluation of a run as the evaluator reported it.
#[derive(Debug, Clone)]
pub struct EvaluationRequest {
    pub experiment_run_id: i64,
    pub name: String,
    pub annotator_kind: AnnotatorKind,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
    pub error: Option<String>,
    pub metadata: Map<String, Value>,
    pub trace_id: Option<String>,
    pub start_time: i64,
    pub end_time: i64,
    /// Whether a result (label, score or explanation object) was given at all.
    pub has_result: bool,
}

/// The 404 an unknown experiment gets.
fn no_experiment(id: i64) -> ServiceError {
    ServiceError::not_found(format!("Experiment with ID {} does not exist", GlobalId::encode(GlobalType::Experiment, id)))
}

/// A name for an unnamed experiment: the dataset's name's start and a random suffix.
fn generated_name(dataset_name: &str) -> String {
    let prefix: String = dataset_name.chars().take(8).map(|c| if c == ' ' { '-' } else { c }).collect();
    format!("{prefix}-{:08x}", rand::rng().random::<u32>())
}

fn check_tag_name(name: &str) -> Result<()> {
    if !is_identifier(name) {
        return Err(ServiceError::field(
            &["name".into()],
            "string_pattern_mismatch",
            format!("String should match pattern '{IDENTIFIER_PATTERN}'"),
            json!(name),
        ));
    }
    Ok(())
}

pub struct Experiments<'a> {
    pub(crate) services: &'a Services,
}

impl Experiments<'_> {
    /// The experiment's key facts; 404 when there is none.
    pub async fn resolve(&self, _caller: &Caller, id: i64) -> Result<ExperimentKey> {
        self.services.store.get_experiment_key(id).await?.ok_or_else(|| no_experiment(id))
    }

    pub async fn get(&self, _caller: &Caller, id: i64) -> Result<ExperimentRecord> {
        self.services.store.get_experiment(id).await?.ok_or_else(|| no_experiment(id))
    }

    /// One of the dataset's experiments; 404 when the dataset has no such experiment.
    pub async fn in_dataset(&self, _caller: &Caller, dataset: &DatasetRecord, id: i64) -> Result<ExperimentRecord> {
        let experiment = self.services.store.get_experiment(id).await?.filter(|experiment| experiment.dataset_id == dataset.id);
        experiment.ok_or_else(|| ServiceError::not_found(format!("Dataset {} has no experiment {id}", dataset.name)))
    }

    /// A page of the dataset's experiments, newest first.
    pub async fn list(
        &self,
        _caller: &Caller,
        dataset: &DatasetRecord,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<ExperimentRecord>> {
        Ok(self.services.store.list_experiments(dataset.id, cursor, limit).await?)
    }

    /// Creates an experiment on a version of the dataset, and the project its traces go to.
    pub async fn create(&self, caller: &Caller, dataset: &DatasetRecord, request: ExperimentRequest) -> Result<ExperimentRecord> {
        caller.require_write()?;
        if request.repetitions < 1 {
            return Err(ServiceError::field(
                &["repetitions".into()],
                "greater_than",
                "Input should be greater than 0",
                json!(request.repetitions),
            ));
        }
        let store = &self.services.store;
        let version = store.get_dataset_version(dataset.id, request.version_id).await?.ok_or_else(|| match request.version_id {
            Some(id) => ServiceError::not_found(format!(
                "DatasetVersion with ID {} does not exist",
                GlobalId::encode(GlobalType::DatasetVersion, id)
            )),
            None => {
                ServiceError::not_found(format!("Dataset {} does not have any versions", GlobalId::encode(GlobalType::Dataset, dataset.id)))
            }
        })?;
        let mut split_ids = Vec::with_capacity(request.splits.len());
        for split in &request.splits {
            let found = self.services.dataset_splits().find(caller, GlobalId::decode_as(split, GlobalType::DatasetSplit), split).await?;
            split_ids.push(found.ok_or_else(|| ServiceError::not_found(format!("Dataset splits not found: {split}")))?.id);
        }
        let name = match request.name.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
            Some(name) => {
                check_name("experiment name", "name", name)?;
                name.to_string()
            }
            None => generated_name(&dataset.name),
        };
        check_description("experiment description", "description", request.description.as_deref())?;
        let project_name = format!("Experiment-{}", uuid::Uuid::new_v4().simple().to_string().split_at(24).0);
        let project_description = format!(
            "dataset_id: {}\ndataset_version_id: {}",
            GlobalId::encode(GlobalType::Dataset, dataset.id),
            GlobalId::encode(GlobalType::DatasetVersion, version.id)
        );
        let metadata = Value::Object(request.metadata.unwrap_or_default());
        let experiment = NewExperiment {
            dataset_id: dataset.id,
            dataset_version_id: version.id,
            name: &name,
            description: request.description.as_deref(),
            metadata: &metadata,
            repetitions: request.repetitions,
            split_ids: &split_ids,
            project_name: &project_name,
            project_description: &project_description,
        };
        Ok(store.create_experiment(experiment).await?)
    }

    /// Renames, redescribes or re-annotates an experiment; name and metadata cannot be null.
    pub async fn update(&self, caller: &Caller, id: i64, update: ExperimentUpdate) -> Result<ExperimentRecord> {
        caller.require_write()?;
        let experiment = self.resolve(caller, id).await?;
        let name = match update.name {
            None => None,
            Some(None) => return Err(ServiceError::invalid("name cannot be null")),
            Some(Some(name)) if name.trim().is_empty() => return Err(ServiceError::invalid("name must not be empty")),
            Some(Some(name)) => {
                check_name("experiment name", "name", name.trim())?;
                Some(name.trim().to_string())
            }
        };
        check_description("experiment description", "description", update.description.as_ref().and_then(Option::as_deref))?;
        let metadata = match update.metadata {
            None => None,
            Some(None) => return Err(ServiceError::invalid("metadata cannot be null")),
            Some(Some(metadata)) => Some(Value::Object(metadata)),
        };
        let changes = ExperimentChanges { name, description: update.description, metadata };
        self.services.store.update_experiment(experiment.id, changes).await?.ok_or_else(|| no_experiment(id))
    }

    /// Deletes an experiment, and its project when asked.
    pub async fn delete(&self, caller: &Caller, id: i64, delete_project: bool) -> Result<()> {
        caller.require_write()?;
        let experiment = self.resolve(caller, id).await?;
        self.services.store.delete_experiment(experiment.id, delete_project).await?;
        Ok(())
    }

    pub async fn tags(&self, caller: &Caller, id: i64) -> Result<Vec<ExperimentTagRecord>> {
        let experiment = self.resolve(caller, id).await?;
        Ok(self.services.store.list_experiment_tags(experiment.id).await?)
    }

    /// Points the dataset's tag `name` at the experiment (moving it from another experiment).
    pub async fn set_tag(&self, caller: &Caller, id: i64, name: &str, description: Option<&str>) -> Result<ExperimentTagRecord> {
        caller.require_write()?;
        let experiment = self.resolve(caller, id).await?;
        check_tag_name(name)?;
        Ok(self.services.store.set_experiment_tag(experiment.id, experiment.dataset_id, name, description).await?)
    }

    /// Removes a tag (by GlobalID or name) if this experiment owns it; a no-op otherwise.
    pub async fn delete_tag(&self, caller: &Caller, id: i64, tag: &str) -> Result<()> {
        caller.require_write()?;
        let experiment = self.resolve(caller, id).await?;
        let tag_id = GlobalId::decode_as(tag, GlobalType::ExperimentTag);
        if tag_id.is_none() && !is_identifier(tag) {
            return Err(ServiceError::invalid(format!("Invalid tag identifier: {tag}")));
        }
        self.services.store.delete_experiment_tag(experiment.id, tag_id, tag).await?;
        Ok(())
    }

    /// Records a run; a successful run is final (409 on a second one), a failed one is replaced.
    pub async fn record_run(&self, caller: &Caller, id: i64, run: RunRequest) -> Result<i64> {
        caller.require_write()?;
        let experiment = self.resolve(caller, id).await?;
        if run.repetition_number < 1 {
            return Err(ServiceError::field(
                &["repetition_number".into()],
                "greater_than",
                "Input should be greater than 0",
                json!(run.repetition_number),
            ));
        }
        let example_id = self.example_rowid(&experiment, &run.dataset_example_id).await?;
        let input = ExperimentRunInput {
            dataset_example_id: example_id,
            repetition_number: run.repetition_number,
            start_time: run.start_time,
            end_time: run.end_time,
            output: run.output,
            trace_id: run.trace_id.filter(|trace_id| !trace_id.is_empty()),
            error: run.error,
        };
        match self.services.store.record_experiment_run(experiment.id, &input).await? {
            RunWrite::Recorded(run_id) => Ok(run_id),
            RunWrite::AlreadySucceeded => Err(ServiceError::conflict(format!(
                "Experiment run for example {} repetition {} already exists with a successful result and cannot be updated",
                run.dataset_example_id, run.repetition_number
            ))),
        }
    }

    /// The example a run names: by GlobalID, or by the caller's id within the experiment's dataset.
    async fn example_rowid(&self, experiment: &ExperimentKey, id: &str) -> Result<i64> {
        if let Some(rowid) = GlobalId::decode_as(id, GlobalType::DatasetExample) {
            return Ok(rowid);
        }
        let found = self.services.store.dataset_example_id_by_external_id(experiment.dataset_id, id).await?;
        found.ok_or_else(|| ServiceError::not_found(format!("DatasetExample with ID {id} does not exist")))
    }

    /// The experiment's runs in the order they were recorded; all of them without a limit.
    pub async fn runs(&self, caller: &Caller, id: i64, cursor: Option<i64>, limit: Option<usize>) -> Result<Page<ExperimentRunRecord>> {
        let experiment = self.resolve(caller, id).await?;
        Ok(self.services.store.list_experiment_runs(experiment.id, cursor, limit).await?)
    }

    /// Examples still lacking a successful run for some repetition.
    pub async fn incomplete_runs(&self, caller: &Caller, id: i64, cursor: Option<i64>, limit: usize) -> Result<IncompleteRuns> {
        let experiment = self.resolve(caller, id).await?;
        Ok(self.services.store.incomplete_experiment_runs(experiment.id, experiment.repetitions, cursor, limit).await?)
    }

    /// Every run with its example and evaluations (downloads and comparisons).
    pub async fn export_runs(&self, caller: &Caller, id: i64) -> Result<(ExperimentKey, Vec<ExportedRun>)> {
        let experiment = self.resolve(caller, id).await?;
        let runs = self.services.store.export_experiment_runs(experiment.id).await?;
        Ok((experiment, runs))
    }

    /// The splits the experiment runs over (none: the whole dataset version).
    pub async fn splits(&self, caller: &Caller, id: i64) -> Result<Vec<ember_store::DatasetSplitRecord>> {
        let experiment = self.resolve(caller, id).await?;
        Ok(self.services.store.splits_of_experiment(experiment.id).await?)
    }

    /// Mean latency and evaluation scores of each experiment.
    pub async fn summaries(&self, _caller: &Caller, ids: &[i64]) -> Result<HashMap<i64, ExperimentSummary>> {
        Ok(self.services.store.experiment_summaries(ids).await?)
    }

    /// Upserts an evaluation of a run by (run, name); a name is required, and a result or an error.
    pub async fn record_evaluation(&self, caller: &Caller, evaluation: EvaluationRequest) -> Result<i64> {
        caller.require_write()?;
        if evaluation.name.trim().is_empty() {
            return Err(ServiceError::field(
                &["name".into()],
                "string_too_short",
                "The evaluation name must not be empty",
                json!(evaluation.name),
            ));
        }
        check_name("evaluation name", "name", &evaluation.name)?;
        if !evaluation.has_result && evaluation.error.is_none() {
            return Err(ServiceError::invalid("Either result or error must be provided"));
        }
        let run_id = evaluation.experiment_run_id;
        let input = ExperimentEvaluationInput {
            experiment_run_id: run_id,
            name: evaluation.name,
            annotator_kind: evaluation.annotator_kind,
            label: evaluation.label,
            score: evaluation.score,
            explanation: evaluation.explanation,
            error: evaluation.error,
            metadata: Value::Object(evaluation.metadata),
            trace_id: evaluation.trace_id.filter(|trace_id| !trace_id.is_empty()),
            start_time: evaluation.start_time,
            end_time: evaluation.end_time,
        };
        self.services.store.upsert_experiment_evaluation(&input).await.map_err(|error| match ServiceError::from(error) {
            error if error.code() == ember_core::ErrorCode::NotFound => no_run(run_id),
            error => error,
        })
    }

    /// Successful runs lacking a successful evaluation for some of `names` (at least one).
    pub async fn incomplete_evaluations(
        &self,
        caller: &Caller,
        id: i64,
        names: &[String],
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<IncompleteEvaluation>, Option<i64>)> {
        let experiment = self.resolve(caller, id).await?;
        if names.is_empty() {
            return Err(ServiceError::bad_request("At least one evaluation_name is required"));
        }
        Ok(self.services.store.incomplete_experiment_evaluations(experiment.id, names, cursor, limit).await?)
    }
}

/// The 404 an unknown run gets.
pub fn no_run(id: i64) -> ServiceError {
    ServiceError::not_found(format!("ExperimentRun with ID {} does not exist", GlobalId::encode(GlobalType::ExperimentRun, id)))
}
