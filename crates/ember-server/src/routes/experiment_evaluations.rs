//! Evaluations of experiment runs: `POST /v1/experiment_evaluations` (an upsert by run and
//! name) and `GET /v1/experiments/{id}/incomplete-evaluations`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_core::{AnnotatorKind, GlobalId, GlobalType};
use ember_service::experiments::EvaluationRequest;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::experiment_runs::timestamp_field;
use super::experiments::experiment_rowid;
use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, Id, IncompleteEvaluation};

#[derive(Deserialize, Default)]
struct EvaluationResult {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    score: Option<f64>,
    #[serde(default)]
    explanation: Option<String>,
    /// The clients' evaluators may put metadata here rather than beside the result.
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
pub struct UpsertEvaluation {
    experiment_run_id: String,
    name: String,
    annotator_kind: String,
    start_time: String,
    end_time: String,
    #[serde(default)]
    result: Option<EvaluationResult>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    trace_id: Option<String>,
}

pub async fn upsert(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<UpsertEvaluation>,
) -> ApiResult<Json<Data<Id>>> {
    let annotator_kind = AnnotatorKind::parse(&body.annotator_kind).ok_or_else(|| {
        ApiError::validation(
            &["body", "annotator_kind"],
            "literal_error",
            "Input should be 'LLM', 'CODE' or 'HUMAN'",
            json!(body.annotator_kind),
        )
    })?;
    let run_id = GlobalId::decode_as(&body.experiment_run_id, GlobalType::ExperimentRun)
        .ok_or_else(|| ApiError::not_found(format!("ExperimentRun with ID {} does not exist", body.experiment_run_id)))?;
    let has_result = body.result.is_some();
    let result = body.result.unwrap_or_default();
    let evaluation = EvaluationRequest {
        experiment_run_id: run_id,
        annotator_kind,
        label: result.label,
        score: result.score,
        explanation: result.explanation,
        error: body.error,
        metadata: body.metadata.filter(|metadata| !metadata.is_empty()).or(result.metadata).unwrap_or_default(),
        trace_id: body.trace_id,
        start_time: timestamp_field("start_time", &body.start_time)?,
        end_time: timestamp_field("end_time", &body.end_time)?,
        name: body.name,
        has_result,
    };
    let id = state.services.experiments().record_evaluation(&caller, evaluation).await?;
    Ok(Json(Data::new(wire::id(GlobalType::ExperimentEvaluation, id))))
}

pub async fn incomplete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let experiment = experiment_rowid(&id)?;
    let names: Vec<String> = params.all("evaluation_name").into_iter().filter(|name| !name.is_empty()).collect();
    let (cursor, limit) = (params.cursor(GlobalType::ExperimentRun)?, params.limit(50, None)?);
    let (items, next_cursor) = state.services.experiments().incomplete_evaluations(&caller, experiment, &names, cursor, limit).await?;
    let data: Vec<IncompleteEvaluation> = items
        .iter()
        .map(|item| IncompleteEvaluation {
            experiment_run: wire::experiment_run(&item.run),
            dataset_example: wire::example(&item.example),
            evaluation_names: item.missing_names.clone(),
        })
        .collect();
    Ok(Json(wire::page(data, next_cursor, GlobalType::ExperimentRun)).into_response())
}
