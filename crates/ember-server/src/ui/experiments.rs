//! Experiments side by side: per example, each experiment's output, latency, tokens, cost, error
//! and evaluations, against a chosen baseline with the differences from it; each evaluator's
//! mean score per experiment as bars on top; examples filtered to those where the experiments
//! differ, or to those with an evaluation result.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{RawQuery, State};
use ember_core::GlobalType;
use ember_service::datasets::DatasetRef;
use ember_store::{CostTotals, ExperimentRecord, ExportedRun};
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

/// What the page was asked for besides the experiments.
#[derive(Default)]
struct CompareOptions {
    baseline: Option<i64>,
    only_differences: bool,
    evaluation: String,
    result: String,
}

/// One run's figures, to compare with the baseline's run of the same example and repetition.
struct Figures {
    latency_ms: f64,
    tokens: i64,
    cost: Option<f64>,
}

fn figures(run: &ExportedRun, costs: &HashMap<String, CostTotals>) -> Figures {
    let record = &run.run;
    Figures {
        latency_ms: (record.end_time - record.start_time) as f64 / 1e6,
        tokens: record.prompt_token_count.unwrap_or(0) + record.completion_token_count.unwrap_or(0),
        cost: record.trace_id.as_deref().and_then(|trace| costs.get(trace)).map(CostTotals::total_cost),
    }
}

/// A difference from the baseline, marked better or worse (`lower_is_better` for latency,
/// tokens and cost; higher scores are better).
fn delta(value: f64, baseline: f64, text: String, lower_is_better: bool) -> Markup {
    let difference = value - baseline;
    if difference.abs() < 1e-12 {
        return html! { span.delta.same { "=" } };
    }
    let better = (difference < 0.0) == lower_is_better;
    let sign = if difference > 0.0 { "+" } else { "−" };
    html! { span class=(if better { "delta better" } else { "delta worse" }) { (sign) (text) } }
}

/// Whether the experiments' first runs of an example differ: output, error, or an evaluation.
fn differs(runs: &[Option<&ExportedRun>]) -> bool {
    let key = |run: &Option<&ExportedRun>| {
        run.map(|run| {
            let mut evaluations: Vec<(String, Option<String>, Option<String>)> =
                run.evaluations.iter().map(|e| (e.name.clone(), e.label.clone(), e.score.map(|s| format!("{s:.6}")))).collect();
            evaluations.sort();
            (output_text(&run.run.output), run.run.error.clone(), evaluations)
        })
    };
    let first = key(&runs[0]);
    runs.iter().skip(1).any(|run| key(run) != first)
}

fn read_options(pairs: &[(String, String)]) -> UiResult<(Vec<i64>, CompareOptions)> {
    let mut ids: Vec<i64> = Vec::new();
    let mut options = CompareOptions::default();
    for (key, value) in pairs {
        match key.as_str() {
            // `experiment=<rowid>` from ember's form, `experimentId=<GlobalID>` from Phoenix's links.
            "experiment" | "experimentId" => {
                let id = rowid_in(value, GlobalType::Experiment)
                    .ok_or_else(|| UiError::bad_request(format!("{key}={value} is not an experiment id.")))?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            "baseline" if !value.is_empty() => {
                options.baseline = Some(
                    rowid_in(value, GlobalType::Experiment)
                        .ok_or_else(|| UiError::bad_request(format!("baseline={value} is not an experiment id.")))?,
                )
            }
            "differ" => options.only_differences = value == "1",
            "evaluation" => options.evaluation = value.clone(),
            "result" => options.result = value.clone(),
            _ => {}
        }
    }
    if ids.is_empty() {
        return Err(UiError::bad_request("Choose at least one experiment to compare."));
    }
    if ids.len() > MAX_COMPARED {
        return Err(UiError::bad_request(format!("Compare at most {MAX_COMPARED} experiments at once.")));
    }
    match options.baseline {
        Some(baseline) if !ids.contains(&baseline) => {
            return Err(UiError::bad_request("The baseline must be one of the experiments compared."));
        }
        Some(baseline) => {
            // The baseline's column comes first.
            ids.retain(|id| *id != baseline);
            ids.insert(0, baseline);
        }
        None => options.baseline = ids.first().copied(),
    }
    Ok((ids, options))
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
    let (ids, options) = read_options(&pairs)?;
    let mut experiments: Vec<ExperimentRecord> = Vec::new();
    // Per experiment: (example, repetition) → run.
    let mut runs: Vec<BTreeMap<(i64, i64), ExportedRun>> = Vec::new();
    for id in &ids {
        let experiment = experiments_service.in_dataset(&caller, &dataset, *id).await?;
        let by_example = experiments_service
            .export_runs(&caller, *id)
            .await?
            .1
            .into_iter()
            .map(|run| ((run.run.dataset_example_id, run.run.repetition_number), run))
            .collect();
        experiments.push(experiment);
        runs.push(by_example);
    }
    let summaries = experiments_service.summaries(&caller, &ids).await?;
    let trace_ids: Vec<&str> = runs.iter().flat_map(|r| r.values()).filter_map(|run| run.run.trace_id.as_deref()).collect();
    let costs = state.services.costs().of_trace_ids(&caller, &trace_ids).await?;
    // Every (example, repetition) any experiment ran, in example order, with its input and reference.
    let mut examples: BTreeMap<(i64, i64), (&Value, &Value)> = BTreeMap::new();
    for by_example in &runs {
        for (key, run) in by_example {
            examples.entry(*key).or_insert((&run.input, &run.reference_output));
        }
    }
    let total = examples.len();
    examples.retain(|key, _| {
        let row: Vec<Option<&ExportedRun>> = runs.iter().map(|by_example| by_example.get(key)).collect();
        let differs_enough = !options.only_differences || differs(&row);
        let result_matches = options.evaluation.is_empty()
            || row.iter().flatten().any(|run| {
                run.evaluations.iter().any(|e| {
                    e.name == options.evaluation && (options.result.is_empty() || e.label.as_deref() == Some(options.result.as_str()))
                })
            });
        differs_enough && result_matches
    });
    let mut evaluator_names: Vec<&str> = summaries.values().flat_map(|s| s.evaluations.iter().map(|e| e.name.as_str())).collect();
    evaluator_names.sort_unstable();
    evaluator_names.dedup();
    let baseline_runs = &runs[0];

    let body = html! {
        div.crumbs { a href="/datasets" { "Datasets" } " / " a href=(format!("/datasets/{dataset_id}?tab=experiments")) { (dataset.name) } " / compare" }
        h1 { "Comparing " (experiments.len()) " experiments" }
        form.toolbar #compare-options method="get" action=(format!("/datasets/{dataset_id}/compare")) {
            @for experiment in &experiments { input type="hidden" name="experiment" value=(experiment.id); }
            label for="baseline" { "Baseline" }
            select #baseline name="baseline" {
                @for experiment in &experiments { option value=(experiment.id) selected[Some(experiment.id) == options.baseline] { (experiment.name) } }
            }
            label { input type="checkbox" name="differ" value="1" checked[options.only_differences]; " only where they differ" }
            label for="evaluation" { "with evaluation" }
            select #evaluation name="evaluation" {
                option value="" { "(any)" }
                @for name in &evaluator_names { option value=(name) selected[*name == options.evaluation] { (name) } }
            }
            input #result type="text" name="result" value=(options.result) placeholder="label (any)" aria-label="evaluation label";
            button.primary type="submit" { "Apply" }
            span.muted { (examples.len()) " of " (total) " examples" }
        }
        @if !evaluator_names.is_empty() {
            div.evaluator-bars #evaluator-summary {
                @for name in &evaluator_names {
                    div.evaluator {
                        h3 { (name) }
                        @for experiment in &experiments {
                            @let mean = summaries.get(&experiment.id).and_then(|s| s.evaluations.iter().find(|e| e.name == *name)).and_then(|e| e.mean_score);
                            div.bar-row {
                                span.bar-label { (experiment.name) }
                                span.bar-track { i.bar-fill style=(format!("width:{:.1}%", mean.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0)) {} }
                                span.num { (mean.map_or_else(|| "–".to_string(), |m| format!("{m:.3}"))) }
                            }
                        }
                    }
                }
            }
        }
        table.grid.compare #comparison {
            thead {
                tr {
                    th { "Example" }
                    @for (index, experiment) in experiments.iter().enumerate() {
                        @let summary = summaries.get(&experiment.id).cloned().unwrap_or_default();
                        th {
                            div { a href=(format!("/datasets/{dataset_id}/experiments/{}", experiment.id)) { (experiment.name) } @if index == 0 { " " span.chip { "baseline" } } }
                            div.muted { "mean latency " (format::maybe_millis(summary.mean_latency_ms)) " · " (experiment.failed_run_count) " errors" }
                            @for evaluation in &summary.evaluations {
                                div.muted { (evaluation.name) " " (evaluation.mean_score.map_or_else(|| "–".to_string(), |s| format!("{s:.3}"))) }
                            }
                        }
                    }
                }
            }
            tbody {
                @for ((example_id, repetition), (input, reference)) in &examples {
                    tr {
                        td {
                            div.muted { "#" (example_id) @if *repetition > 1 { " · repetition " (repetition) } }
                            pre { (serde_json::to_string_pretty(input).unwrap_or_default()) }
                            @if !reference.is_null() { div.muted { "reference" } pre { (serde_json::to_string_pretty(reference).unwrap_or_default()) } }
                        }
                        @for (index, by_example) in runs.iter().enumerate() {
                            td {
                                @match by_example.get(&(*example_id, *repetition)) {
                                    None => span.muted { "not run" },
                                    Some(exported) => {
                                        @let run = &exported.run;
                                        @let mine = figures(exported, &costs);
                                        @let base = baseline_runs.get(&(*example_id, *repetition)).filter(|_| index > 0).map(|b| (b, figures(b, &costs)));
                                        div.run {
                                            @if let Some(error) = &run.error { p.notice.error { (error) } }
                                            @else { pre { (output_text(&run.output)) } }
                                            div.muted.figures {
                                                (format::millis(mine.latency_ms))
                                                @if let Some((_, base)) = &base { " " (delta(mine.latency_ms, base.latency_ms, format::millis((mine.latency_ms - base.latency_ms).abs()), true)) }
                                                " · " (format::count(mine.tokens)) " tok"
                                                @if let Some((_, base)) = &base { " " (delta(mine.tokens as f64, base.tokens as f64, format::count((mine.tokens - base.tokens).abs()), true)) }
                                                @if let Some(cost) = mine.cost {
                                                    " · " (format::usd(cost))
                                                    @if let Some(base_cost) = base.as_ref().and_then(|(_, b)| b.cost) { " " (delta(cost, base_cost, format::usd((cost - base_cost).abs()), true)) }
                                                }
                                                @if let Some(trace) = &run.trace_id { " · " a href=(format!("/redirects/traces/{trace}")) { "trace" } }
                                            }
                                            @for evaluation in &exported.evaluations {
                                                div {
                                                    strong { (evaluation.name) } " "
                                                    (evaluation.label.as_deref().unwrap_or(""))
                                                    @if let Some(score) = evaluation.score {
                                                        " " span.mono { (format!("{score:.3}")) }
                                                        @if let Some(base_score) = base.as_ref().and_then(|(b, _)| b.evaluations.iter().find(|e| e.name == evaluation.name)).and_then(|e| e.score) {
                                                            " " (delta(score, base_score, format!("{:.3}", (score - base_score).abs()), false))
                                                        }
                                                    }
                                                    @if let Some(error) = &evaluation.error { " " span.error-text { (error) } }
                                                    @if let Some(trace) = &evaluation.trace_id { " " a href=(format!("/redirects/traces/{trace}")) { "trace" } }
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
        @if examples.is_empty() { p.muted { "No examples match." } }
    };
    Ok(shell("Compare experiments", Section::Datasets, &caller, body))
}
