//! Downloads of an experiment's runs: `GET /v1/experiments/{id}/json` and `.../csv`, one record
//! per run with its example (as of the experiment's version), output, timing and evaluations,
//! plus the example's metadata (Phoenix issue #12896).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ember_core::time::format_nanos;
use ember_core::{GlobalId, GlobalType};
use ember_service::Caller;
use ember_store::{ExperimentEvaluationRecord, ExportedRun};

use super::csv_cell;
use super::experiments::experiment_rowid;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The experiment's name and runs: 404 when it has no runs, as Phoenix answers.
async fn runs_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<(String, Vec<ExportedRun>)> {
    let (experiment, runs) = state.services.experiments().export_runs(caller, experiment_rowid(id)?).await?;
    if runs.is_empty() {
        return Err(ApiError::not_found(format!("Experiment with ID {id} has no runs")));
    }
    Ok((experiment.name, runs))
}

/// `attachment; filename="<name>.<extension>"`, with quotes and control characters dropped.
fn attachment(name: &str, extension: &str) -> String {
    let safe: String = name.chars().filter(|c| !c.is_control() && *c != '"' && *c != '\\').collect();
    format!("attachment; filename=\"{safe}.{extension}\"")
}

pub async fn json(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<String>) -> ApiResult<Response> {
    let (name, runs) = runs_of(&state, &caller, &id).await?;
    let records: Vec<ember_wire::DownloadedRun> = runs.iter().map(crate::wire::downloaded_run).collect();
    let body = serde_json::to_string_pretty(&records).map_err(ApiError::internal)?;
    let headers =
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, attachment(&name, "json"))];
    Ok((headers, body).into_response())
}

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// The columns of one evaluation, under `annotation_<name>_`.
const EVALUATION_FIELDS: [&str; 9] =
    ["label", "score", "explanation", "metadata", "annotator_kind", "trace_id", "error", "start_time", "end_time"];

fn evaluation_cells(evaluation: &ExperimentEvaluationRecord) -> [String; 9] {
    [
        optional(evaluation.label.as_deref()),
        optional(evaluation.score),
        optional(evaluation.explanation.as_deref()),
        evaluation.metadata.to_string(),
        evaluation.annotator_kind.as_str().to_string(),
        optional(evaluation.trace_id.as_deref()),
        optional(evaluation.error.as_deref()),
        format_nanos(evaluation.start_time),
        format_nanos(evaluation.end_time),
    ]
}

pub async fn csv(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<String>) -> ApiResult<Response> {
    let (name, runs) = runs_of(&state, &caller, &id).await?;
    // Evaluation columns in the order their names first appear, as a data frame would have them.
    let mut evaluation_names: Vec<&str> = Vec::new();
    for evaluation in runs.iter().flat_map(|run| &run.evaluations) {
        if !evaluation_names.contains(&evaluation.name.as_str()) {
            evaluation_names.push(&evaluation.name);
        }
    }
    let mut header: Vec<String> = [
        "example_id",
        "repetition_number",
        "input",
        "reference_output",
        "output",
        "metadata",
        "error",
        "latency_ms",
        "start_time",
        "end_time",
        "trace_id",
        "prompt_token_count",
        "completion_token_count",
    ]
    .map(String::from)
    .to_vec();
    for evaluation_name in &evaluation_names {
        header.extend(EVALUATION_FIELDS.iter().map(|field| format!("annotation_{evaluation_name}_{field}")));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).map_err(ApiError::internal)?;
    for exported in &runs {
        let run = &exported.run;
        let mut record = vec![
            GlobalId::encode(GlobalType::DatasetExample, run.dataset_example_id),
            run.repetition_number.to_string(),
            exported.input.to_string(),
            exported.reference_output.to_string(),
            csv_cell(&run.output),
            exported.example_metadata.to_string(),
            optional(run.error.as_deref()),
            ((run.end_time - run.start_time) as f64 / 1e6).to_string(),
            format_nanos(run.start_time),
            format_nanos(run.end_time),
            optional(run.trace_id.as_deref()),
            optional(run.prompt_token_count),
            optional(run.completion_token_count),
        ];
        for evaluation_name in &evaluation_names {
            match exported.evaluations.iter().find(|evaluation| evaluation.name == *evaluation_name) {
                Some(evaluation) => record.extend(evaluation_cells(evaluation)),
                None => record.extend(std::iter::repeat_n(String::new(), EVALUATION_FIELDS.len())),
            }
        }
        writer.write_record(&record).map_err(ApiError::internal)?;
    }
    let body = writer.into_inner().map_err(ApiError::internal)?;
    let headers = [(header::CONTENT_TYPE, "text/csv".to_string()), (header::CONTENT_DISPOSITION, attachment(&name, "csv"))];
    Ok((headers, body).into_response())
}
