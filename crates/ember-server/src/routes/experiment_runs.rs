//! Experiment runs: `POST`/`GET /v1/experiments/{id}/runs` and
//! `GET /v1/experiments/{id}/incomplete-runs`. A successful run is final (409 on a second
//! one); a failed run is replaced, so clients can retry failed tasks.

use axum::extract::{Path, State};
use axum::Json;
use ember_core::time::{format_nanos, parse_timestamp};
use ember_core::GlobalId;
use ember_store::{ExperimentKey, ExperimentRunInput, ExperimentRunRecord, RunWrite};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::datasets::{ExampleView, EXAMPLE};
use super::experiments::{experiment_of, EXPERIMENT};
use super::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

pub(super) const RUN: &str = "ExperimentRun";

/// A run as the API shows it.
#[derive(Serialize)]
pub(super) struct RunView<'a> {
    id: String,
    experiment_id: String,
    dataset_example_id: String,
    repetition_number: i64,
    output: &'a Value,
    start_time: String,
    end_time: String,
    trace_id: Option<&'a str>,
    error: Option<&'a str>,
}

impl<'a> From<&'a ExperimentRunRecord> for RunView<'a> {
    fn from(run: &'a ExperimentRunRecord) -> Self {
        RunView {
            id: GlobalId::encode(RUN, run.id),
            experiment_id: GlobalId::encode(EXPERIMENT, run.experiment_id),
            dataset_example_id: GlobalId::encode(EXAMPLE, run.dataset_example_id),
            repetition_number: run.repetition_number,
            output: &run.output,
            start_time: format_nanos(run.start_time),
            end_time: format_nanos(run.end_time),
            trace_id: run.trace_id.as_deref(),
            error: run.error.as_deref(),
        }
    }
}

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

/// The example a run names: by node id, or by the caller's id within the experiment's dataset.
async fn example_rowid(state: &AppState, experiment: &ExperimentKey, id: &str) -> ApiResult<i64> {
    if let Some(rowid) = GlobalId::decode_as(id, EXAMPLE) {
        return Ok(rowid);
    }
    state
        .store
        .dataset_example_id_by_external_id(experiment.dataset_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("DatasetExample with ID {id} does not exist")))
}

pub async fn create(State(state): State<AppState>, Path(id): Path<String>, JsonBody(body): JsonBody<CreateRun>) -> ApiResult<Json<Value>> {
    let experiment = experiment_of(&state, &id).await?;
    if body.repetition_number < 1 {
        return Err(ApiError::validation(
            &["body", "repetition_number"],
            "greater_than",
            "Input should be greater than 0",
            json!(body.repetition_number),
        ));
    }
    let run = ExperimentRunInput {
        dataset_example_id: example_rowid(&state, &experiment, &body.dataset_example_id).await?,
        repetition_number: body.repetition_number,
        start_time: timestamp_field("start_time", &body.start_time)?,
        end_time: timestamp_field("end_time", &body.end_time)?,
        output: body.output,
        trace_id: body.trace_id.filter(|trace_id| !trace_id.is_empty()),
        error: body.error,
    };
    match state.store.record_experiment_run(experiment.id, &run).await? {
        RunWrite::Recorded(run_id) => Ok(Json(json!({"data": {"id": GlobalId::encode(RUN, run_id)}}))),
        RunWrite::AlreadySucceeded => Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            format!(
                "Experiment run for example {} repetition {} already exists with a successful result and cannot be updated",
                body.dataset_example_id, body.repetition_number
            ),
        )),
    }
}

pub async fn list(State(state): State<AppState>, Path(id): Path<String>, params: QueryParams) -> ApiResult<Json<Value>> {
    let experiment = experiment_of(&state, &id).await?;
    let limit = match params.get("limit") {
        None | Some("") => None,
        Some(_) => Some(params.limit(50, None)?),
    };
    let page = state.store.list_experiment_runs(experiment.id, params.cursor(RUN)?, limit).await?;
    Ok(Json(json!({
        "data": page.items.iter().map(RunView::from).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor.map(|id| GlobalId::encode(RUN, id)),
    })))
}

#[derive(Serialize)]
struct IncompleteRunView<'a> {
    dataset_example: ExampleView<'a>,
    repetition_numbers: &'a [i64],
}

pub async fn incomplete(State(state): State<AppState>, Path(id): Path<String>, params: QueryParams) -> ApiResult<Json<Value>> {
    let experiment = experiment_of(&state, &id).await?;
    let page = state
        .store
        .incomplete_experiment_runs(experiment.id, experiment.repetitions, params.cursor(EXAMPLE)?, params.limit(50, None)?)
        .await?;
    let data: Vec<IncompleteRunView> = page
        .items
        .iter()
        .map(|(example, repetitions)| IncompleteRunView { dataset_example: ExampleView(example), repetition_numbers: repetitions })
        .collect();
    Ok(Json(json!({"data": data, "next_cursor": page.next_cursor.map(|id| GlobalId::encode(EXAMPLE, id))})))
}
