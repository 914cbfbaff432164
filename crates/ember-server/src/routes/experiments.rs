//! Experiments: `POST`/`GET /v1/datasets/{dataset_id}/experiments` and
//! `GET`/`PATCH`/`DELETE /v1/experiments/{experiment_id}`. Creating one also creates the
//! project its task and evaluator traces go to (hidden from project lists).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::time::format_nanos;
use ember_core::GlobalId;
use ember_store::{ExperimentChanges, ExperimentKey, ExperimentRecord, NewExperiment};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::datasets::{DATASET, SPLIT, VERSION};
use super::{present, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

pub(super) const EXPERIMENT: &str = "Experiment";

/// An experiment as the API shows it.
#[derive(Serialize)]
pub(super) struct ExperimentView {
    id: String,
    dataset_id: String,
    dataset_version_id: String,
    name: String,
    description: Option<String>,
    repetitions: i64,
    metadata: Value,
    project_name: Option<String>,
    created_at: String,
    updated_at: String,
    example_count: i64,
    successful_run_count: i64,
    failed_run_count: i64,
    missing_run_count: i64,
}

impl From<ExperimentRecord> for ExperimentView {
    fn from(experiment: ExperimentRecord) -> Self {
        ExperimentView {
            id: GlobalId::encode(EXPERIMENT, experiment.id),
            dataset_id: GlobalId::encode(DATASET, experiment.dataset_id),
            dataset_version_id: GlobalId::encode(VERSION, experiment.dataset_version_id),
            missing_run_count: experiment.missing_run_count(),
            name: experiment.name,
            description: experiment.description,
            repetitions: experiment.repetitions,
            metadata: experiment.metadata,
            project_name: experiment.project_name,
            created_at: format_nanos(experiment.created_at),
            updated_at: format_nanos(experiment.updated_at),
            example_count: experiment.example_count,
            successful_run_count: experiment.successful_run_count,
            failed_run_count: experiment.failed_run_count,
        }
    }
}

/// The experiment an id from the path names: 404 when it is not an experiment id or there is
/// none, as Phoenix answers.
pub(super) async fn experiment_of(state: &AppState, id: &str) -> ApiResult<ExperimentKey> {
    let not_found = || ApiError::not_found(format!("Experiment with ID {id} does not exist"));
    let rowid = GlobalId::decode_as(id, EXPERIMENT).ok_or_else(not_found)?;
    state.store.get_experiment_key(rowid).await?.ok_or_else(not_found)
}

/// As [`experiment_of`], but an id that is not an experiment id is a 422, as the newer paths
/// (tags, patch) answer.
pub(super) async fn experiment_checked(state: &AppState, id: &str) -> ApiResult<ExperimentKey> {
    let rowid = GlobalId::decode_as(id, EXPERIMENT).ok_or_else(|| ApiError::unprocessable(format!("Invalid experiment ID: {id}")))?;
    state.store.get_experiment_key(rowid).await?.ok_or_else(|| ApiError::not_found(format!("Experiment with ID {id} does not exist")))
}

#[derive(Deserialize)]
pub struct CreateExperiment {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    version_id: Option<String>,
    #[serde(default)]
    splits: Option<Vec<String>>,
    #[serde(default = "one")]
    repetitions: i64,
}

fn one() -> i64 {
    1
}

/// A name for an unnamed experiment: the dataset's name's start and a random suffix.
fn generated_name(dataset_name: &str) -> String {
    let prefix: String = dataset_name.chars().take(8).map(|c| if c == ' ' { '-' } else { c }).collect();
    format!("{prefix}-{:08x}", rand::rng().random::<u32>())
}

pub async fn create(
    State(state): State<AppState>,
    Path(dataset_id): Path<String>,
    JsonBody(body): JsonBody<CreateExperiment>,
) -> ApiResult<Json<Value>> {
    let not_found = || ApiError::not_found(format!("Dataset with ID {dataset_id} does not exist"));
    let dataset_rowid = GlobalId::decode_as(&dataset_id, DATASET).ok_or_else(not_found)?;
    let dataset = state.store.get_dataset(dataset_rowid).await?.ok_or_else(not_found)?;
    if body.repetitions < 1 {
        return Err(ApiError::validation(
            &["body", "repetitions"],
            "greater_than",
            "Input should be greater than 0",
            json!(body.repetitions),
        ));
    }
    let version_rowid = match body.version_id.as_deref() {
        None => None,
        Some(raw) => Some(
            GlobalId::decode_as(raw, VERSION).ok_or_else(|| ApiError::not_found(format!("DatasetVersion with ID {raw} does not exist")))?,
        ),
    };
    let version = state.store.get_dataset_version(dataset.id, version_rowid).await?.ok_or_else(|| match &body.version_id {
        Some(raw) => ApiError::not_found(format!("DatasetVersion with ID {raw} does not exist")),
        None => ApiError::not_found(format!("Dataset {dataset_id} does not have any versions")),
    })?;
    let mut split_ids = Vec::new();
    for split in body.splits.iter().flatten() {
        let found = match GlobalId::decode_as(split, SPLIT) {
            Some(id) => state.store.get_dataset_split(id).await?,
            None => state.store.get_dataset_split_by_name(split).await?,
        };
        split_ids.push(found.ok_or_else(|| ApiError::not_found(format!("Dataset splits not found: {split}")))?.id);
    }
    let name = match body.name.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => name.to_string(),
        None => generated_name(&dataset.name),
    };
    let project_name = format!("Experiment-{}", uuid::Uuid::new_v4().simple().to_string().split_at(24).0);
    let project_description =
        format!("dataset_id: {}\ndataset_version_id: {}", GlobalId::encode(DATASET, dataset.id), GlobalId::encode(VERSION, version.id));
    let metadata = Value::Object(body.metadata.unwrap_or_default());
    let experiment = state
        .store
        .create_experiment(NewExperiment {
            dataset_id: dataset.id,
            dataset_version_id: version.id,
            name: &name,
            description: body.description.as_deref(),
            metadata: &metadata,
            repetitions: body.repetitions,
            split_ids: &split_ids,
            project_name: &project_name,
            project_description: &project_description,
        })
        .await?;
    Ok(Json(json!({"data": ExperimentView::from(experiment)})))
}

pub async fn list(State(state): State<AppState>, Path(dataset_id): Path<String>, params: QueryParams) -> ApiResult<Json<Value>> {
    let not_found = || ApiError::not_found(format!("Dataset with ID {dataset_id} does not exist"));
    let dataset_rowid = GlobalId::decode_as(&dataset_id, DATASET).ok_or_else(not_found)?;
    let dataset = state.store.get_dataset(dataset_rowid).await?.ok_or_else(not_found)?;
    let page = state.store.list_experiments(dataset.id, params.cursor(EXPERIMENT)?, params.limit(50, None)?).await?;
    Ok(Json(json!({
        "data": page.items.into_iter().map(ExperimentView::from).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor.map(|id| GlobalId::encode(EXPERIMENT, id)),
    })))
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let key = experiment_of(&state, &id).await?;
    let experiment =
        state.store.get_experiment(key.id).await?.ok_or_else(|| ApiError::not_found(format!("Experiment with ID {id} does not exist")))?;
    Ok(Json(json!({"data": ExperimentView::from(experiment)})))
}

#[derive(Deserialize)]
pub struct UpdateExperiment {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    metadata: Option<Option<Map<String, Value>>>,
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateExperiment>,
) -> ApiResult<Json<Value>> {
    let experiment = experiment_checked(&state, &id).await?;
    let name = match body.name {
        None => None,
        Some(None) => return Err(ApiError::unprocessable("name cannot be null")),
        Some(Some(name)) if name.trim().is_empty() => return Err(ApiError::unprocessable("name must not be empty")),
        Some(Some(name)) => Some(name.trim().to_string()),
    };
    let metadata = match body.metadata {
        None => None,
        Some(None) => return Err(ApiError::unprocessable("metadata cannot be null")),
        Some(Some(metadata)) => Some(Value::Object(metadata)),
    };
    let changes = ExperimentChanges { name, description: body.description, metadata };
    let updated = state
        .store
        .update_experiment(experiment.id, changes)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Experiment with ID {id} does not exist")))?;
    Ok(Json(json!({"data": ExperimentView::from(updated)})))
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<String>, params: QueryParams) -> ApiResult<StatusCode> {
    let delete_project = params.bool("delete_project", false)?;
    let experiment = experiment_of(&state, &id).await?;
    state.store.delete_experiment(experiment.id, delete_project).await?;
    Ok(StatusCode::NO_CONTENT)
}
