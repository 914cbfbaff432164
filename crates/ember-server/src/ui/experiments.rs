//! Experiments side by side: per example, each experiment's output, latency, error and
//! evaluations, with each experiment's aggregates on top.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{RawQuery, State};
use ember_core::GlobalType;
use ember_service::datasets::DatasetRef;
use ember_store::{ExperimentRecord, ExportedRun};
use maud::{html, Markup};
use serde_json::Value;

use super::error::{UiError, UiResult};
use super::format;
use super::ids::{rowid_in, DatasetPage, PageId, UiPath};
use super::layout::{shell, Section};
use crate::authentication::RequestCaller;
use crate::AppState;

/// More side by side stops being readable at 1280 px.
const MAX_COMPARED: usize = 6;

fn output_text(output: &Value) -> String {
    let task_output = output.get("task_output").unwrap_or(output);
    match task_output {
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

pub async fn compare(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(dataset_id, ..)): UiPath<PageId<DatasetPage>>,
    RawQuery(query): RawQuery,
) -> UiResult<Markup> {
    let experiments_service = state.services.experiments();
    let dataset = state.services.datasets().resolve(&caller, DatasetRef::Id(dataset_id)).await?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let mut ids: Vec<i64> = Vec::new();
    // `experiment=<rowid>` from ember's form, `experimentId=<GlobalID>` from Phoenix's links.
    for (key, value) in pairs.iter().filter(|(k, _)| k == "experiment" || k == "experimentId") {
        let id = rowid_in(value, GlobalType::Experiment)
            .ok_or_else(|| UiError::bad_request(format!("{key}={value} is not an experiment id.")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(UiError::bad_request("Choose at least one experiment to compare."));
    }
    if ids.len() > MAX_COMPARED {
        return Err(UiError::bad_request(format!("Compare at most {MAX_COMPARED} experiments at once.")));
    }
    let mut experiments: Vec<ExperimentRecord> = Vec::new();
    let mut runs: Vec<HashMap<i64, Vec<ExportedRun>>> = Vec::new();
    for id in &ids {
        let experiment = experiments_service.in_dataset(&caller, &dataset, *id).await?;
        let mut by_example: HashMap<i64, Vec<ExportedRun>> = HashMap::new();
        for run in experiments_service.export_runs(&caller, *id).await?.1 {
            by_example.entry(run.run.dataset_example_id).or_default().push(run);
        }
        experiments.push(experiment);
        runs.push(by_example);
    }
    let summaries = experiments_service.summaries(&caller, &ids).await?;
    // Every example any experiment ran, in example order, with its input and reference.
    let mut examples: BTreeMap<i64, (&Value, &Value)> = BTreeMap::new();
    for by_example in &runs {
        for (example_id, example_runs) in by_example {
            if let Some(first) = example_runs.first() {
                examples.entry(*example_id).or_insert((&first.input, &first.reference_output));
            }
        }
    }
    let body = html! {
        div.crumbs { a href="/datasets" { "Datasets" } " / " a href=(format!("/datasets/{dataset_id}?tab=experiments")) { (dataset.name) } " / compare" }
        h1 { "Comparing " (experiments.len()) " experiments" }
        table.grid.compare #comparison {
            thead {
                tr {
                    th { "Example" }
                    @for experiment in &experiments {
                        @let summary = summaries.get(&experiment.id).cloned().unwrap_or_default();
                        th {
                            div { (experiment.name) }
                            div.muted { "mean latency " (format::maybe_millis(summary.mean_latency_ms)) " · " (experiment.failed_run_count) " errors" }
                            @for evaluation in &summary.evaluations {
                                div.muted { (evaluation.name) " " (evaluation.mean_score.map_or_else(|| "–".to_string(), |s| format!("{s:.3}"))) }
                            }
                        }
                    }
                }
            }
            tbody {
                @for (example_id, (input, reference)) in &examples {
                    tr {
                        td {
                            div.muted { "#" (example_id) }
                            pre { (serde_json::to_string_pretty(input).unwrap_or_default()) }
                            @if !reference.is_null() { div.muted { "reference" } pre { (serde_json::to_string_pretty(reference).unwrap_or_default()) } }
                        }
                        @for by_example in &runs {
                            td {
                                @match by_example.get(example_id) {
                                    None => span.muted { "not run" },
                                    Some(example_runs) => {
                                        @for exported in example_runs {
                                            @let run = &exported.run;
                                            div.run {
                                                @if example_runs.len() > 1 { div.muted { "repetition " (run.repetition_number) } }
                                                @if let Some(error) = &run.error { p.notice.error { (error) } }
                                                @else { pre { (output_text(&run.output)) } }
                                                div.muted { (format::span_of(run.start_time, run.end_time)) }
                                                @for evaluation in &exported.evaluations {
                                                    div {
                                                        strong { (evaluation.name) } " "
                                                        (evaluation.label.as_deref().unwrap_or(""))
                                                        @if let Some(score) = evaluation.score { " " span.mono { (format!("{score:.3}")) } }
                                                        @if let Some(error) = &evaluation.error { " " span.error-text { (error) } }
                                                    }
                                                }
                                            }
                                        }
                                    },
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(shell("Compare experiments", Section::Datasets, &caller, body))
}
