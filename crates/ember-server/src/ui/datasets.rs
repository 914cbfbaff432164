//! Datasets: the list; a dataset's examples at a version (optionally one split) read as key/value
//! lines, with the forms of `dataset_edit` and the downloads; its versions and its experiments
//! with their aggregate evaluation scores; and datasets made from spans.

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

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    error: Option<String>,
}

/// The upload form: a CSV or JSON-lines file and the columns that make each example; the
/// script lists the file's columns to choose from once a file is picked.
fn upload_form() -> Markup {
    html! {
        details #upload open {
            summary { "Upload a CSV or JSON-lines file" }
            form.stacked #upload-form method="post" action="/datasets/upload" enctype="multipart/form-data" {
                label { "File (.csv, .jsonl)" input type="file" name="file" accept=".csv,.jsonl,.ndjson,text/csv" required data-upload-file; }
                label { "Dataset name" input type="text" name="name" required; }
                label { "Description" input type="text" name="description"; }
                label { "If the dataset exists" select name="action" {
                    option value="create" { "refuse (create a new dataset)" }
                    option value="append" { "add the examples as a new version" }
                } }
                p.muted data-upload-hint { "Pick a file to choose its columns." }
                table.grid.compact #upload-columns hidden {
                    thead { tr { th { "Column" } th { "Input" } th { "Output" } th { "Metadata" } th { "Split" } } }
                    tbody {}
                }
                button.primary type="submit" { "Upload" }
            }
        }
    }
}

pub async fn list(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Query(query): Query<ListQuery>) -> UiResult<Markup> {
    let datasets = state.services.datasets().list(&caller, None, None, 500).await?;
    let body = html! {
        h1 { "Datasets" }
        @if let Some(error) = &query.error { p.notice.error #upload-error { (error) } }
        @if caller.require_write().is_ok() { (upload_form()) }
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
    notice: Option<String>,
    error: Option<String>,
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

/// A JSON object as key/value lines (strings as text, the rest as JSON), the whole as JSON on
/// demand; anything else as JSON.
fn key_values(value: &Value) -> Markup {
    html! {
        @match value {
            Value::Object(map) if !map.is_empty() => {
                dl.kv {
                    @for (key, item) in map {
                        dt { (key) }
                        dd { @match item { Value::String(text) => (format::preview(text, 200)), other => code { (format::preview(&other.to_string(), 200)) } } }
                    }
                }
                details.json { summary { "JSON" } pre { (serde_json::to_string_pretty(value).unwrap_or_default()) } }
            }
            Value::Object(_) => span.muted { "{}" },
            other => code { (format::preview(&other.to_string(), 200)) },
        }
    }
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
    let memberships = datasets.split_names(caller, &examples).await?;
    let all_labels = state.services.dataset_labels().list(caller, None, 500).await?.items;
    let labels = state.services.dataset_labels().of_dataset(caller, DatasetRef::Id(dataset_id)).await?;
    let can_write = caller.require_write().is_ok();
    let latest = versions.first().is_none_or(|latest| latest.id == version.id);
    let global_id = ember_core::GlobalId::encode(ember_core::GlobalType::Dataset, dataset_id);
    Ok(html! {
        @if let Some(notice) = &query.notice { p.notice { (notice) } }
        @if let Some(error) = &query.error { p.notice.error #dataset-error { (error) } }
        p.links #dataset-labels {
            "Labels: "
            @if labels.is_empty() { span.muted { "none" } }
            @for label in &labels { span.chip { (label.name) } " " }
            " · Download: "
            a href=(format!("/v1/datasets/{global_id}/csv")) download { "CSV" } " · "
            a href=(format!("/v1/datasets/{global_id}/jsonl")) download { "JSONL" } " · "
            a href=(format!("/v1/datasets/{global_id}/jsonl/openai_ft")) download { "OpenAI fine-tuning" } " · "
            a href=(format!("/v1/datasets/{global_id}/jsonl/openai_evals")) download { "OpenAI evals" }
        }
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
            input #example-search type="search" placeholder="Find in these examples" aria-label="find examples" data-table-search="#examples";
        }
        p.muted {
            @if examples.len() > EXAMPLES_SHOWN { "The first " (EXAMPLES_SHOWN) " examples at version " (version.id) " (download the rest)" }
            @else { (examples.len()) " examples at version " (version.id) }
            @if !latest { " — an older version: edits apply to the latest" }
        }
        @if can_write { form #examples-selection method="post" action=(format!("/datasets/{dataset_id}/examples/delete")) {} }
        table.grid #examples {
            thead { tr {
                @if can_write { th { span.muted { "Select" } } }
                th { "Example" } th { "Input" } th { "Output" } th { "Metadata" } th { "Splits" } th { "From span" }
                @if can_write && latest { th {} }
            } }
            tbody {
                @for example in examples.iter().take(EXAMPLES_SHOWN) {
                    tr data-search=(format!("{} {} {}", example.input, example.output, example.metadata).to_lowercase()) {
                        @if can_write { td { input type="checkbox" name="example_id" value=(example.id) form="examples-selection" aria-label=(format!("select example {}", example.id)); } }
                        td.mono { (example.external_id.clone().unwrap_or_else(|| example.id.to_string())) }
                        td { (key_values(&example.input)) }
                        td { (key_values(&example.output)) }
                        td { (key_values(&example.metadata)) }
                        td { @for name in memberships.get(&example.id).map(Vec::as_slice).unwrap_or_default() { span.chip { (name) } } }
                        td.mono { @if let Some((_, span_id)) = &example.span { a href=(format!("/redirects/spans/{span_id}")) { (span_id) } } }
                        @if can_write && latest {
                            td {
                                details.edit-example {
                                    summary { "Edit" }
                                    (example_form(&format!("/datasets/{dataset_id}/examples/{}", example.id), Some([&example.input, &example.output, &example.metadata]), "Save"))
                                }
                            }
                        }
                    }
                }
            }
        }
        @if can_write {
            // One selection, two actions: the split button posts the same checkboxes elsewhere.
            div.toolbar #selection-actions {
                button.danger #delete-selected type="submit" form="examples-selection" data-confirm="Delete the selected examples (in a new version)?" { "Delete selected" }
                input #split-name type="text" name="split_name" form="examples-selection" placeholder="split name" aria-label="split name";
                button #split-selected type="submit" form="examples-selection" formaction=(format!("/datasets/{dataset_id}/splits")) { "Make a split of the selected" }
            }
            @if !splits.is_empty() {
                h3 { "Splits" }
                ul.plain #splits {
                    @for s in &splits {
                        li {
                            span.chip { (s.name) } " " (s.example_count) " examples "
                            form.inline method="post" action=(format!("/datasets/{dataset_id}/splits/{}/delete", s.id)) data-confirm=(format!("Delete the split {}?", s.name)) {
                                button.small.danger type="submit" { "Delete" }
                            }
                        }
                    }
                }
            }
            h3 { "Add an example" }
            div #new-example { (example_form(&format!("/datasets/{dataset_id}/examples"), None, "Add example")) }
            h3 { "Labels" }
            form.toolbar #label-form method="post" action=(format!("/datasets/{dataset_id}/labels")) {
                @for label in &all_labels {
                    label { input type="checkbox" name="label_id" value=(label.id) checked[labels.iter().any(|l| l.id == label.id)]; " " (label.name) }
                }
                input type="text" name="new_label" placeholder="new label" aria-label="new label";
                button type="submit" { "Save labels" }
            }
        }
    })
}

/// The form for an example's input, output and metadata as JSON objects.
fn example_form(action: &str, content: Option<[&Value; 3]>, submit: &str) -> Markup {
    let text = |index: usize| content.map(|c| serde_json::to_string_pretty(c[index]).unwrap_or_default()).unwrap_or_default();
    html! {
        form.annotation-form.example-form method="post" action=(action) {
            label { "Input" } textarea name="input" rows="3" required placeholder="{\"question\": \"…\"}" { (text(0)) }
            label { "Output" } textarea name="output" rows="3" placeholder="{\"answer\": \"…\"}" { (text(1)) }
            label { "Metadata" } textarea name="metadata" rows="2" placeholder="{}" { (text(2)) }
            span {} div { button.primary type="submit" { (submit) } }
        }
    }
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
