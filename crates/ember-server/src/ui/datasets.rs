//! Datasets: the list; a dataset's examples at a version (optionally one split), its versions
//! and its experiments with their aggregate evaluation scores; and datasets made from spans.

use axum::extract::{Form, Path, Query, State};
use axum::response::Redirect;
use ember_service::datasets::DatasetRef;
use ember_service::{Caller, ProjectRef};
use ember_store::DatasetRecord;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::error::UiResult;
use super::format;
use super::ids::{DatasetPage, PageId, UiPath};
use super::layout::{shell, Section};
use crate::authentication::RequestCaller;
use crate::AppState;

const EXAMPLES_SHOWN: usize = 500;

pub async fn list(State(state): State<AppState>, RequestCaller(caller): RequestCaller) -> UiResult<Markup> {
    let datasets = state.services.datasets().list(&caller, None, None, 500).await?;
    let body = html! {
        h1 { "Datasets" }
        table.grid #datasets {
            thead { tr { th { "Name" } th.num { "Examples" } th { "Description" } th { "Updated" } } }
            tbody {
                @for dataset in &datasets.items {
                    @let href = format!("/datasets/{}", dataset.id);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        td { a href=(href) { (dataset.name) } }
                        td.num { (format::count(dataset.example_count)) }
                        td { (dataset.description.as_deref().unwrap_or("")) }
                        td { (format::local_time(dataset.updated_at)) }
                    }
                }
            }
        }
        @if datasets.items.is_empty() {
            p.muted { "No datasets yet: upload one with a Phoenix client or " code { "ember datasets upload" } ", or select spans on a project's Spans tab." }
        }
    };
    Ok(shell("Datasets", Section::Datasets, &caller, body))
}

#[derive(Debug, Default, Deserialize)]
pub struct DatasetQuery {
    tab: Option<String>,
    version: Option<i64>,
    split: Option<String>,
}

fn json_preview(value: &Value) -> String {
    match value {
        Value::String(text) => format::preview(text, 160),
        other => format::preview(&other.to_string(), 160),
    }
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(dataset_id, ..)): UiPath<PageId<DatasetPage>>,
    Query(query): Query<DatasetQuery>,
) -> UiResult<Markup> {
    let dataset = state.services.datasets().resolve(&caller, DatasetRef::Id(dataset_id)).await?;
    let tab = query.tab.as_deref().unwrap_or("examples");
    let href = |t: &str| format!("/datasets/{dataset_id}?tab={t}");
    let content = match tab {
        "versions" => versions(&state, &caller, &dataset).await?,
        "experiments" => experiments(&state, &caller, &dataset).await?,
        _ => examples(&state, &caller, &dataset, &query).await?,
    };
    let body = html! {
        div.crumbs { a href="/datasets" { "Datasets" } " / " (dataset.name) }
        h1 { (dataset.name) }
        @if let Some(description) = &dataset.description { p.muted { (description) } }
        nav.tabs {
            @for (key, label) in [("examples", "Examples"), ("versions", "Versions"), ("experiments", "Experiments")] {
                a.active[key == tab || (tab != "versions" && tab != "experiments" && key == "examples")] href=(href(key)) { (label) }
            }
        }
        (content)
    };
    Ok(shell(&dataset.name, Section::Datasets, &caller, body))
}

async fn examples(state: &AppState, caller: &Caller, dataset: &DatasetRecord, query: &DatasetQuery) -> UiResult<Markup> {
    let datasets = state.services.datasets();
    let dataset_id = dataset.id;
    let versions = datasets.versions(caller, dataset, None, 200).await?.items;
    let Some(version) = datasets.version(caller, dataset, query.version).await? else {
        return Ok(html! { p.muted { "This dataset has no version yet." } });
    };
    let mut splits = datasets.splits(caller, dataset, None, 1000).await?.items;
    splits.sort_by(|a, b| a.name.cmp(&b.name));
    let split = query.split.as_deref().filter(|s| !s.is_empty());
    let split_names: Vec<String> = split.map(|s| vec![s.to_string()]).unwrap_or_default();
    // One more than shown, to know whether there are more.
    let examples = datasets.first_examples(caller, dataset, &version, &split_names, EXAMPLES_SHOWN + 1).await?;
    Ok(html! {
        form.toolbar method="get" action=(format!("/datasets/{dataset_id}")) {
            input type="hidden" name="tab" value="examples";
            label.muted for="version" { "Version" }
            select #version name="version" {
                @for v in &versions { option value=(v.id) selected[v.id == version.id] { (v.id) " · " (format::timestamp(v.created_at)) " UTC" } }
            }
            label.muted for="split" { "Split" }
            select #split name="split" {
                option value="" { "all examples" }
                @for s in &splits { option value=(s.name) selected[Some(s.name.as_str()) == split] { (s.name) " (" (s.example_count) ")" } }
            }
            button type="submit" { "Show" }
        }
        p.muted {
            @if examples.len() > EXAMPLES_SHOWN { "The first " (EXAMPLES_SHOWN) " examples at version " (version.id) " (download the rest as CSV or JSONL through the API)" }
            @else { (examples.len()) " examples at version " (version.id) }
        }
        table.grid #examples {
            thead { tr { th { "Example" } th { "Input" } th { "Output" } th { "Metadata" } th { "From span" } } }
            tbody {
                @for example in examples.iter().take(EXAMPLES_SHOWN) {
                    tr {
                        td.mono { (example.external_id.clone().unwrap_or_else(|| example.id.to_string())) }
                        td.preview title=(example.input.to_string()) { (json_preview(&example.input)) }
                        td.preview title=(example.output.to_string()) { (json_preview(&example.output)) }
                        td.preview { (json_preview(&example.metadata)) }
                        td.mono { @if let Some((_, span_id)) = &example.span { (span_id) } }
                    }
                }
            }
        }
    })
}

async fn versions(state: &AppState, caller: &Caller, dataset: &DatasetRecord) -> UiResult<Markup> {
    let dataset_id = dataset.id;
    let versions = state.services.datasets().versions(caller, dataset, None, 200).await?.items;
    Ok(html! {
        table.grid #versions {
            thead { tr { th { "Version" } th { "Created" } th { "Description" } th {} } }
            tbody {
                @for version in &versions {
                    tr {
                        td.mono { (version.id) }
                        td { (format::local_time(version.created_at)) }
                        td { (version.description.as_deref().unwrap_or("")) }
                        td { a href=(format!("/datasets/{dataset_id}?tab=examples&version={}", version.id)) { "examples" } }
                    }
                }
            }
        }
    })
}

async fn experiments(state: &AppState, caller: &Caller, dataset: &DatasetRecord) -> UiResult<Markup> {
    let dataset_id = dataset.id;
    let experiments = state.services.experiments().list(caller, dataset, None, 200).await?.items;
    let ids: Vec<i64> = experiments.iter().map(|e| e.id).collect();
    let summaries = state.services.experiments().summaries(caller, &ids).await?;
    let mut names: Vec<&str> = summaries.values().flat_map(|s| s.evaluations.iter().map(|e| e.name.as_str())).collect();
    names.sort_unstable();
    names.dedup();
    Ok(html! {
        form #compare-form method="get" action=(format!("/datasets/{dataset_id}/compare")) {
            table.grid #experiments {
                thead { tr {
                    th { "Compare" } th { "Experiment" } th { "Created" } th.num { "Runs" } th.num { "Errors" } th.num { "Mean latency" }
                    @for name in &names { th.num { (name) } }
                } }
                tbody {
                    @for experiment in &experiments {
                        @let summary = summaries.get(&experiment.id).cloned().unwrap_or_default();
                        tr {
                            td { input type="checkbox" name="experiment" value=(experiment.id) aria-label=(format!("compare {}", experiment.name)); }
                            td {
                                a href=(format!("/datasets/{dataset_id}/experiments/{}", experiment.id)) { (experiment.name) }
                                @if let Some(d) = &experiment.description { div.muted { (d) } }
                            }
                            td { (format::local_time(experiment.created_at)) }
                            td.num { (experiment.successful_run_count + experiment.failed_run_count) " / " (experiment.example_count * experiment.repetitions) }
                            td.num.error-text[experiment.failed_run_count > 0] { (experiment.failed_run_count) }
                            td.num { (format::maybe_millis(summary.mean_latency_ms)) }
                            @for name in &names {
                                @let evaluation = summary.evaluations.iter().find(|e| e.name == *name);
                                td.num title=[evaluation.map(|e| format!("{} evaluations, {} failed", e.count, e.errors))] {
                                    (evaluation.and_then(|e| e.mean_score).map_or_else(|| "–".to_string(), |s| format!("{s:.3}")))
                                }
                            }
                        }
                    }
                }
            }
            @if experiments.is_empty() { p.muted { "No experiments on this dataset yet." } }
            @else { p { button.primary type="submit" { "Compare selected" } } }
        }
    })
}

/// Adds the checked spans of a project's span table to a dataset (created when new): input and
/// output from the spans' `input.value` and `output.value`, metadata from their `metadata`.
/// Adds the spans selected on a project's Spans tab to a dataset (created when new).
pub async fn from_spans(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project_id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> UiResult<Redirect> {
    let dataset = form.iter().find(|(k, _)| k == "dataset").map(|(_, v)| v.clone()).unwrap_or_default();
    let span_ids: Vec<String> = form.iter().filter(|(k, _)| k == "span_id").map(|(_, v)| v.clone()).collect();
    let outcome = state.services.datasets().append_spans(&caller, ProjectRef::Id(project_id), &dataset, span_ids).await?;
    Ok(Redirect::to(&format!("/datasets/{}", outcome.dataset_id)))
}
