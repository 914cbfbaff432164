//! Experiments: `POST`/`GET /v1/datasets/{dataset_id}/experiments` and
//! `GET`/`PATCH`/`DELETE /v1/experiments/{experiment_id}`. Creating one also creates the
//! project its task and evaluator traces go to (hidden from project lists).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_service::datasets::DatasetRef;
use ember_service::experiments::{ExperimentRequest, ExperimentUpdate};
use ember_service::Caller;
use ember_store::DatasetRecord;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{present, JsonBody};
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, Experiment, Page};

/// The experiment rowid an id from the path names: 422 when it is not an experiment id, as
/// Phoenix 20.26.1 answers (observed).
pub(super) fn experiment_rowid(id: &str) -> ApiResult<i64> {
    GlobalId::decode_as(id, GlobalType::Experiment).ok_or_else(|| ApiError::unprocessable(format!("Invalid experiment ID format: {id}")))
}

/// As [`experiment_rowid`], in the words of the tag paths.
pub(super) fn experiment_rowid_checked(id: &str) -> ApiResult<i64> {
    GlobalId::decode_as(id, GlobalType::Experiment).ok_or_else(|| ApiError::unprocessable(format!("Invalid experiment ID: {id}")))
}

/// The dataset of an experiments path: 422 for an id that is not a dataset id, 404 `Dataset with
/// ID ... does not exist`.
async fn dataset_of(state: &AppState, caller: &Caller, dataset_id: &str) -> ApiResult<DatasetRecord> {
    let not_found = || ApiError::not_found(format!("Dataset with ID {dataset_id} does not exist"));
    let rowid = GlobalId::decode_as(dataset_id, GlobalType::Dataset)
        .ok_or_else(|| ApiError::unprocessable(format!("Invalid dataset ID format: {dataset_id}")))?;
    state.services.datasets().find(caller, DatasetRef::Id(rowid)).await?.ok_or_else(not_found)
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

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(dataset_id): Path<String>,
    JsonBody(body): JsonBody<CreateExperiment>,
) -> ApiResult<Json<Data<Experiment>>> {
    let dataset = dataset_of(&state, &caller, &dataset_id).await?;
    let version_id = match body.version_id.as_deref() {
        None => None,
        Some(raw) => Some(
            GlobalId::decode_as(raw, GlobalType::DatasetVersion)
                .ok_or_else(|| ApiError::not_found(format!("DatasetVersion with ID {raw} does not exist")))?,
        ),
    };
    let request = ExperimentRequest {
        name: body.name,
        description: body.description,
        metadata: body.metadata,
        version_id,
        splits: body.splits.unwrap_or_default(),
        repetitions: body.repetitions,
    };
    let experiment = state.services.experiments().create(&caller, &dataset, request).await?;
    Ok(Json(Data::new(wire::experiment(experiment))))
}

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(dataset_id): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Page<Experiment>>> {
    let dataset = dataset_of(&state, &caller, &dataset_id).await?;
    let (cursor, limit) = (params.cursor(GlobalType::Experiment)?, params.limit(50, None)?);
    let page = state.services.experiments().list(&caller, &dataset, cursor, limit).await?;
    Ok(Json(wire::page(page.items.into_iter().map(wire::experiment).collect(), page.next_cursor, GlobalType::Experiment)))
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<Experiment>>> {
    let experiment = state.services.experiments().get(&caller, experiment_rowid(&id)?).await?;
    Ok(Json(Data::new(wire::experiment(experiment))))
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
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateExperiment>,
) -> ApiResult<Json<Data<Experiment>>> {
    let update = ExperimentUpdate { name: body.name, description: body.description, metadata: body.metadata };
    let updated = state.services.experiments().update(&caller, experiment_rowid(&id)?, update).await?;
    Ok(Json(Data::new(wire::experiment(updated))))
}

pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<StatusCode> {
    let delete_project = params.bool("delete_project", false)?;
    state.services.experiments().delete(&caller, experiment_rowid(&id)?, delete_project).await?;
    Ok(StatusCode::NO_CONTENT)
}
