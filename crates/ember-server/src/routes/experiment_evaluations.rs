//! Evaluations of experiment runs: `POST /v1/experiment_evaluations` (an upsert by run and
//! name) and `GET /v1/experiments/{id}/incomplete-evaluations`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::GlobalId;
use ember_store::{AnnotatorKind, ExperimentEvaluationInput};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::datasets::ExampleView;
use super::experiment_runs::{timestamp_field, RunView, RUN};
use super::experiments::experiment_of;
use super::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

const EVALUATION: &str = "ExperimentEvaluation";

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

pub async fn upsert(State(state): State<AppState>, JsonBody(body): JsonBody<UpsertEvaluation>) -> ApiResult<Json<Value>> {
    let annotator_kind = AnnotatorKind::parse(&body.annotator_kind).ok_or_else(|| {
        ApiError::validation(
            &["body", "annotator_kind"],
            "literal_error",
            "Input should be 'LLM', 'CODE' or 'HUMAN'",
            json!(body.annotator_kind),
        )
    })?;
    if body.name.trim().is_empty() {
        return Err(ApiError::validation(&["body", "name"], "string_too_short", "The evaluation name must not be empty", json!(body.name)));
    }
    if body.result.is_none() && body.error.is_none() {
        return Err(ApiError::unprocessable("Either result or error must be provided"));
    }
    let not_found = || ApiError::not_found(format!("ExperimentRun with ID {} does not exist", body.experiment_run_id));
    let run_id = GlobalId::decode_as(&body.experiment_run_id, RUN).ok_or_else(not_found)?;
    let result = body.result.unwrap_or_default();
    let metadata = body.metadata.filter(|metadata| !metadata.is_empty()).or(result.metadata).unwrap_or_default();
    let evaluation = ExperimentEvaluationInput {
        experiment_run_id: run_id,
        name: body.name,
        annotator_kind,
        label: result.label,
        score: result.score,
        explanation: result.explanation,
        error: body.error,
        metadata: Value::Object(metadata),
        trace_id: body.trace_id.filter(|trace_id| !trace_id.is_empty()),
        start_time: timestamp_field("start_time", &body.start_time)?,
        end_time: timestamp_field("end_time", &body.end_time)?,
    };
    let id = state.store.upsert_experiment_evaluation(&evaluation).await.map_err(|error| match error {
        ember_store::StoreError::NotFound(_) => not_found(),
        other => other.into(),
    })?;
    Ok(Json(json!({"data": {"id": GlobalId::encode(EVALUATION, id)}})))
}

#[derive(Serialize)]
struct IncompleteEvaluationView<'a> {
    experiment_run: RunView<'a>,
    dataset_example: ExampleView<'a>,
    evaluation_names: &'a [String],
}

pub async fn incomplete(State(state): State<AppState>, Path(id): Path<String>, params: QueryParams) -> ApiResult<Json<Value>> {
    let experiment = experiment_of(&state, &id).await?;
    let names: Vec<String> = params.all("evaluation_name").into_iter().filter(|name| !name.is_empty()).collect();
    if names.is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "At least one evaluation_name is required"));
    }
    let (items, next_cursor) =
        state.store.incomplete_experiment_evaluations(experiment.id, &names, params.cursor(RUN)?, params.limit(50, None)?).await?;
    let data: Vec<IncompleteEvaluationView> = items
        .iter()
        .map(|item| IncompleteEvaluationView {
            experiment_run: RunView::from(&item.run),
            dataset_example: ExampleView(&item.example),
            evaluation_names: &item.missing_names,
        })
        .collect();
    Ok(Json(json!({"data": data, "next_cursor": next_cursor.map(|id| GlobalId::encode(RUN, id))})))
}
