//! One experiment: its runs with input, reference, output, error, latency, tokens, cost and
//! evaluations, links to each run's task trace and evaluator traces, a summary per evaluator,
//! runs filtered by an evaluation's result, and the downloads of the REST API.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use ember_core::{GlobalId, GlobalType};
use ember_service::datasets::DatasetRef;
use ember_store::{ExperimentEvaluationRecord, ExportedRun};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::error::UiResult;
use super::format;
use super::ids::{DatasetPage, PageId, UiPath};
use super::layout::{shell, Section};
use crate::authentication::RequestCaller;
use crate::AppState;

/// Runs shown per page of the table.
const RUNS_PER_PAGE: usize = 100;
/// The `result` that selects evaluations that failed.
const FAILED_EVALUATION: &str = "(failed)";

#[derive(Debug, Default, Deserialize)]
pub struct ExperimentQuery {
    /// An evaluation name: only runs whose evaluation of that name has `result`.
    evaluation: Option<String>,
    /// A label, or `(failed)`; empty: any result.
    result: Option<String>,
    /// `failed`: only runs whose task failed.
    runs: Option<String>,
    page: Option<usize>,
}

/// What a run's evaluations under one name came to.
#[derive(Default)]
struct EvaluatorSummary {
    count: usize,
    errors: usize,
    score_sum: f64,
    scored: usize,
    labels: BTreeMap<String, usize>,
}

fn text_of(value: &Value) -> String {
    let value = value.get("task_output").unwrap_or(value);
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

fn keeps(run: &ExportedRun, query: &ExperimentQuery) -> bool {
    if query.runs.as_deref() == Some("failed") && run.run.error.is_none() {
        return false;
    }
    let Some(name) = query.evaluation.as_deref().filter(|name| !name.is_empty()) else { return true };
    let result = query.result.as_deref().unwrap_or("");
    run.evaluations.iter().any(|evaluation| {
        evaluation.name == name
            && match result {
                "" => true,
                FAILED_EVALUATION => evaluation.error.is_some(),
                label => evaluation.label.as_deref() == Some(label),
            }
    })
}

fn evaluation_chip(evaluation: &ExperimentEvaluationRecord) -> Markup {
    let value = match (&evaluation.label, evaluation.score) {
        _ if evaluation.error.is_some() => "failed".to_string(),
        (Some(label), Some(score)) => format!("{label} ({})", format::score(score)),
        (Some(label), None) => label.clone(),
        (None, Some(score)) => format::score(score),
        (None, None) => "–".into(),
    };
    let title = evaluation.error.as_deref().or(evaluation.explanation.as_deref()).unwrap_or("");
    let kind = if evaluation.error.is_some() { "chip error-chip" } else { "chip llm" };
    html! {
        @match &evaluation.trace_id {
            Some(trace) => a class=(kind) href=(format!("/redirects/traces/{trace}")) title=(title) { (evaluation.name) ": " (value) },
            None => span class=(kind) title=(title) { (evaluation.name) ": " (value) },
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath((PageId(dataset_id, ..), experiment_id)): UiPath<(PageId<DatasetPage>, String)>,
    Query(query): Query<ExperimentQuery>,
) -> UiResult<Markup> {
    let services = &state.services;
    let dataset = services.datasets().resolve(&caller, DatasetRef::Id(dataset_id)).await?;
    let experiment_id = super::ids::rowid_in(&experiment_id, GlobalType::Experiment)
        .ok_or_else(|| super::error::UiError::not_found(format!("There is no experiment {experiment_id:?}.")))?;
    let experiment = services.experiments().in_dataset(&caller, &dataset, experiment_id).await?;
    let runs = services.experiments().export_runs(&caller, experiment_id).await?.1;
    let trace_ids: Vec<&str> = runs.iter().filter_map(|run| run.run.trace_id.as_deref()).collect();
    let costs = services.costs().of_trace_ids(&caller, &trace_ids).await?;

    let mut evaluators: BTreeMap<&str, EvaluatorSummary> = BTreeMap::new();
    for evaluation in runs.iter().flat_map(|run| &run.evaluations) {
        let summary = evaluators.entry(evaluation.name.as_str()).or_default();
        summary.count += 1;
        summary.errors += usize::from(evaluation.error.is_some());
        if let Some(score) = evaluation.score {
            summary.score_sum += score;
            summary.scored += 1;
        }
        if let Some(label) = &evaluation.label {
            *summary.labels.entry(label.clone()).or_default() += 1;
        }
    }
    let latencies: Vec<f64> = runs.iter().map(|run| (run.run.end_time - run.run.start_time) as f64 / 1e6).collect();
    let tokens: i64 = runs.iter().map(|run| run.run.prompt_token_count.unwrap_or(0) + run.run.completion_token_count.unwrap_or(0)).sum();
    let total_cost: f64 = costs.values().map(|c| c.total_cost()).sum();
    let shown: Vec<&ExportedRun> = runs.iter().filter(|run| keeps(run, &query)).collect();
    let page = query.page.unwrap_or(0);
    let page_runs = shown.iter().skip(page * RUNS_PER_PAGE).take(RUNS_PER_PAGE);
    let global_id = GlobalId::encode(GlobalType::Experiment, experiment.id);
    let base = format!("/datasets/{dataset_id}/experiments/{}", experiment.id);
    let selected_evaluation = query.evaluation.as_deref().unwrap_or("");
    let results: Vec<String> = evaluators.get(selected_evaluation).map(|s| s.labels.keys().cloned().collect()).unwrap_or_default();
    let more = shown.len() > (page + 1) * RUNS_PER_PAGE;

    let body = html! {
        div.crumbs {
            a href="/datasets" { "Datasets" } " / " a href=(format!("/datasets/{dataset_id}?tab=experiments")) { (dataset.name) } " / experiment"
        }
        h1 { (experiment.name) }
        @if let Some(description) = &experiment.description { p.muted { (description) } }
        p.muted {
            (format::local_time(experiment.created_at)) " · " (experiment.repetitions) " repetitions · "
            (format::count(experiment.example_count)) " examples"
            @if let Some(project) = &experiment.project_name { " · traces in project " strong { (project) } }
        }
        p.links {
            a #download-json href=(format!("/v1/experiments/{global_id}/json")) download { "Download JSON" } " · "
            a #download-csv href=(format!("/v1/experiments/{global_id}/csv")) download { "Download CSV" } " · "
            a href=(format!("/datasets/{dataset_id}/compare?experiment={}", experiment.id)) { "Compare with others" }
        }
        div.cards {
            (card("Runs", format!("{} / {}", experiment.successful_run_count + experiment.failed_run_count, experiment.example_count * experiment.repetitions)))
            (card("Failed runs", format::count(experiment.failed_run_count)))
            (card("Mean latency", format::maybe_millis((!latencies.is_empty()).then(|| latencies.iter().sum::<f64>() / latencies.len() as f64))))
            (card("Tokens", format::count(tokens)))
            (card("Cost", format::usd(total_cost)))
        }
        @if !evaluators.is_empty() {
            table.grid.compact #evaluators {
                thead { tr { th { "Evaluator" } th.num { "Evaluations" } th.num { "Mean score" } th { "Labels" } th.num { "Failed" } } }
                tbody {
                    @for (name, summary) in &evaluators {
                        tr {
                            td { (name) }
                            td.num { (summary.count) }
                            td.num { (if summary.scored > 0 { format!("{:.3}", summary.score_sum / summary.scored as f64) } else { "–".into() }) }
                            td { @for (label, count) in &summary.labels { span.chip { (label) " × " (count) } } }
                            td.num.error-text[summary.errors > 0] { (summary.errors) }
                        }
                    }
                }
            }
        }
        form.toolbar #run-filter method="get" action=(base) {
            label for="evaluation" { "Runs whose evaluation" }
            select #evaluation name="evaluation" {
                option value="" { "(any)" }
                @for name in evaluators.keys() { option value=(name) selected[*name == selected_evaluation] { (name) } }
            }
            label for="result" { "is" }
            select #result name="result" {
                option value="" { "any result" }
                @for label in &results { option value=(label) selected[query.result.as_deref() == Some(label.as_str())] { (label) } }
                option value=(FAILED_EVALUATION) selected[query.result.as_deref() == Some(FAILED_EVALUATION)] { "failed" }
            }
            label { input type="checkbox" name="runs" value="failed" checked[query.runs.as_deref() == Some("failed")]; " only failed runs" }
            button.primary type="submit" { "Filter" }
            span.muted { (shown.len()) " of " (runs.len()) " runs" }
        }
        table.grid #runs {
            thead { tr {
                th { "Example" } th { "Input" } th { "Reference" } th { "Output" } th.num { "Latency" } th.num { "Tokens" } th.num { "Cost" }
                th { "Evaluations" } th { "Trace" }
            } }
            tbody {
                @for run in page_runs {
                    @let record = &run.run;
                    tr {
                        td { "#" (record.dataset_example_id) @if experiment.repetitions > 1 { div.muted { "rep " (record.repetition_number) } } }
                        td.preview title=(text_of(&run.input)) { (format::preview(&text_of(&run.input), 80)) }
                        td.preview title=(text_of(&run.reference_output)) { (format::preview(&text_of(&run.reference_output), 60)) }
                        td {
                            @if let Some(error) = &record.error { span.error-text { (error) } }
                            @else { (format::preview(&text_of(&record.output), 120)) }
                        }
                        td.num { (format::span_of(record.start_time, record.end_time)) }
                        td.num { (format::count(record.prompt_token_count.unwrap_or(0) + record.completion_token_count.unwrap_or(0))) }
                        td.num { (record.trace_id.as_deref().and_then(|t| costs.get(t)).map_or_else(|| "–".to_string(), |c| format::usd(c.total_cost()))) }
                        td { @for evaluation in &run.evaluations { (evaluation_chip(evaluation)) " " } }
                        td { @if let Some(trace) = &record.trace_id { a.task-trace href=(format!("/redirects/traces/{trace}")) { "task trace" } } }
                    }
                }
            }
        }
        @if shown.is_empty() { p.muted { "No runs match." } }
        div.pager {
            @if page > 0 { a href=(page_href(&base, &query, page - 1)) { "← Previous" } }
            @if more { a #next-page href=(page_href(&base, &query, page + 1)) { "Next →" } }
        }
    };
    Ok(shell(&experiment.name, Section::Datasets, &caller, body))
}

fn page_href(base: &str, query: &ExperimentQuery, page: usize) -> String {
    let mut params: Vec<(&str, String)> = vec![("page", page.to_string())];
    for (key, value) in [("evaluation", &query.evaluation), ("result", &query.result), ("runs", &query.runs)] {
        if let Some(value) = value {
            params.push((key, value.clone()));
        }
    }
    format!("{base}?{}", serde_urlencoded::to_string(params).unwrap_or_default())
}

fn card(label: &str, value: String) -> Markup {
    html! { div.card { div.value { (value) } div.label { (label) } } }
}
