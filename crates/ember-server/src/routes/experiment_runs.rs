//! Experiment runs: `POST`/`GET /v1/experiments/{id}/runs` and
//! `GET /v1/experiments/{id}/incomplete-runs`. A successful run is final (409 on a second
//! one); a failed run is replaced, so clients can retry failed tasks.

use axum::extract::{Path, State};
use axum::Json;
use ember_core::time::{format_nanos, parse_timestamp};
use ember_core::{GlobalId, GlobalType};
use ember_service::experiments::RunRequest;
use ember_store::ExperimentRunRecord;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::datasets::ExampleView;
use super::experiments::experiment_rowid;
use super::JsonBody;
use crate::caller::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

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
            id: GlobalId::encode(GlobalType::ExperimentRun, run.id),
            experiment_id: GlobalId::encode(GlobalType::Experiment, run.experiment_id),
            dataset_example_id: GlobalId::encode(GlobalType::DatasetExample, run.dataset_example_id),
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

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CreateRun>,
) -> ApiResult<Json<Value>> {
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
    Ok(Json(json!({"data": {"id": GlobalId::encode(GlobalType::ExperimentRun, run_id)}})))
}

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Value>> {
    let experiment = experiment_rowid(&id)?;
    let limit = match params.get("limit") {
        None | Some("") => None,
        Some(_) => Some(params.limit(50, None)?),
    };
    let page = state.services.experiments().runs(&caller, experiment, params.cursor(GlobalType::ExperimentRun)?, limit).await?;
    Ok(Json(json!({
        "data": page.items.iter().map(RunView::from).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor.map(|id| GlobalId::encode(GlobalType::ExperimentRun, id)),
    })))
}

#[derive(Serialize)]
struct IncompleteRunView<'a> {
    dataset_example: ExampleView<'a>,
    repetition_numbers: &'a [i64],
}

pub async fn incomplete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Value>> {
    let experiment = experiment_rowid(&id)?;
    let (cursor, limit) = (params.cursor(GlobalType::DatasetExample)?, params.limit(50, None)?);
    let page = state.services.experiments().incomplete_runs(&caller, experiment, cursor, limit).await?;
    let data: Vec<IncompleteRunView> = page
        .items
        .iter()
        .map(|(example, repetitions)| IncompleteRunView { dataset_example: ExampleView(example), repetition_numbers: repetitions })
        .collect();
    Ok(Json(json!({"data": data, "next_cursor": page.next_cursor.map(|id| GlobalId::encode(GlobalType::DatasetExample, id))})))
}
