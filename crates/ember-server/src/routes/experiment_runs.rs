//! Experiment runs: `POST`/`GET /v1/experiments/{id}/runs` and
//! `GET /v1/experiments/{id}/incomplete-runs`. A successful run is final (409 on a second
//! one); a failed run is replaced, so clients can retry failed tasks.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_core::time::parse_timestamp;
use ember_core::GlobalType;
use ember_service::experiments::RunRequest;
use ember_wire::{Data, ExperimentRun, Id, IncompleteRun};
use serde::Deserialize;
use serde_json::{json, Value};

use super::experiments::experiment_rowid;
use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};

/// A timestamp field of a body: 422 naming the field when it is not ISO 8601.
pub(super) fn timestamp_field(field: &str, text: &str) -> ApiResult<i64> {
    parse_timestamp(text).ok_or_else(|| {
        ApiError::validation(&["body", field], "datetime_from_date_parsing", "Input should be a valid datetime", json!(text))
    })
}

#[derive(Deserialize)]
pub struct CreateRun {
    dataset_example_id: String,
    output: Value,
    repetition_number: i64,
    start_time: String,
    end_time: String,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CreateRun>,
) -> ApiResult<Json<Data<Id>>> {
    let experiment = experiment_rowid(&id)?;
    let run = RunRequest {
        start_time: timestamp_field("start_time", &body.start_time)?,
        end_time: timestamp_field("end_time", &body.end_time)?,
        dataset_example_id: body.dataset_example_id,
        repetition_number: body.repetition_number,
        output: body.output,
        trace_id: body.trace_id,
        error: body.error,
    };
    let run_id = state.services.experiments().record_run(&caller, experiment, run).await?;
    Ok(Json(Data::new(wire::id(GlobalType::ExperimentRun, run_id))))
}

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let experiment = experiment_rowid(&id)?;
    let limit = match params.get("limit") {
        None | Some("") => None,
        Some(_) => Some(params.limit(50, None)?),
    };
    let page = state.services.experiments().runs(&caller, experiment, params.cursor(GlobalType::ExperimentRun)?, limit).await?;
    let data: Vec<ExperimentRun> = page.items.iter().map(wire::experiment_run).collect();
    Ok(Json(wire::page(data, page.next_cursor, GlobalType::ExperimentRun)).into_response())
}

pub async fn incomplete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let experiment = experiment_rowid(&id)?;
    let (cursor, limit) = (params.cursor(GlobalType::DatasetExample)?, params.limit(50, None)?);
    let page = state.services.experiments().incomplete_runs(&caller, experiment, cursor, limit).await?;
    let data: Vec<IncompleteRun> = page
        .items
        .iter()
        .map(|(example, repetitions)| IncompleteRun { dataset_example: wire::example(example), repetition_numbers: repetitions.clone() })
        .collect();
    Ok(Json(wire::page(data, page.next_cursor, GlobalType::DatasetExample)).into_response())
}
