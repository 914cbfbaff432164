//! A trace: its span tree with a waterfall timeline (each node with its kind, tokens, cost and
//! annotations; collapsible and searchable), the selected span in full, and the annotation panel
//! for the span and the trace. Links to the previous and next trace of the project and to the
//! trace's session; the selected span can be downloaded as OTLP JSON or added to a dataset.

use std::collections::{HashMap, HashSet};

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ember_core::{AnnotationTarget, SpanKind, StatusCode};
use ember_service::annotations::NOTE_NAME;
use ember_service::ProjectRef;
use ember_store::{AnnotationConfig, AnnotationRecord, SpanOutline, SpanRecord};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::annotation_panel::{self, PanelContext, PanelTarget};
use super::error::{UiError, UiResult};
use super::format;
use super::ids::{PageId, ProjectPage, UiPath};
use super::layout::{shell, Section};
use super::span_view;
use crate::authentication::RequestCaller;
use crate::AppState;

/// The most annotations the tree shows as chips (a trace with more shows the first ones).
const MAX_TREE_ANNOTATIONS: usize = 2_000;

#[derive(Debug, Default, Deserialize)]
pub struct TraceQuery {
    span: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

/// Spans in tree order (depth first, children by start time) with their depth. Spans whose
/// parent is not in the trace are roots; a cycle in parent links cannot loop.
fn tree_order(spans: &[SpanOutline]) -> Vec<(usize, usize)> {
    let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (index, record) in spans.iter().enumerate() {
        match record.parent_id.as_deref().filter(|parent| ids.contains(parent) && *parent != record.span_id) {
            Some(parent) => children.entry(parent).or_default().push(index),
            None => roots.push(index),
        }
    }
    let mut order = Vec::with_capacity(spans.len());
    let mut visited = vec![false; spans.len()];
    let mut stack: Vec<(usize, usize)> = roots.into_iter().rev().map(|i| (i, 0)).collect();
    while let Some((index, depth)) = stack.pop() {
        if std::mem::replace(&mut visited[index], true) {
            continue;
        }
        order.push((index, depth));
        if let Some(kids) = children.get(spans[index].span_id.as_str()) {
            stack.extend(kids.iter().rev().map(|kid| (*kid, depth + 1)));
        }
    }
    // Spans only reachable through a cycle are listed at the top level.
    order.extend((0..spans.len()).filter(|i| !visited[*i]).map(|i| (i, 0)));
    order
}

/// The CSS class of a span kind: its colour in the tree's badges and bars.
fn kind_class(kind: SpanKind) -> String {
    format!("kind-{}", kind.as_str().to_lowercase())
}

/// A mark per kind, so kinds read apart without colour too.
fn kind_icon(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Llm => "✦",
        SpanKind::Chain => "⛓",
        SpanKind::Agent => "◎",
        SpanKind::Tool => "⚒",
        SpanKind::Retriever => "⌕",
        SpanKind::Reranker => "⇅",
        SpanKind::Embedding => "⋮",
        SpanKind::Prompt => "✎",
        SpanKind::Evaluator => "✓",
        SpanKind::Guardrail => "⛨",
        SpanKind::Unknown => "•",
    }
}

pub fn kind_badge(kind: SpanKind) -> Markup {
    html! { span class=(format!("kind-badge {}", kind_class(kind))) title=(kind.as_str()) { (kind_icon(kind)) " " (kind.as_str()) } }
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath((PageId(project_id, ..), trace_id)): UiPath<(PageId<ProjectPage>, String)>,
    Query(query): Query<TraceQuery>,
) -> UiResult<Markup> {
    let services = &state.services;
    let project = services.projects().resolve(&caller, ProjectRef::Id(project_id)).await?;
    let trace = services.traces().in_project(&caller, &project, &trace_id).await?;
    let spans = services.spans().outlines_of_trace(&caller, trace.rowid).await?;
    let order = tree_order(&spans);
    let selected_index =
        query.span.as_deref().and_then(|id| spans.iter().position(|s| s.span_id == id)).or_else(|| order.first().map(|(index, _)| *index));
    // Only the selected span is read whole (attributes and events).
    let selected: Option<SpanRecord> = match selected_index {
        Some(index) => services.spans().by_rowid(&caller, spans[index].rowid).await?,
        None => None,
    };
    let costs = services.costs().of_spans(&spans).await?;
    let book = services.costs().book().await;
    let tree_annotations = services.annotations().of_spans_of_trace(&caller, trace.rowid, MAX_TREE_ANNOTATIONS).await?;
    let (newer, older) = services.traces().neighbours(&caller, &trace).await?;
    let trace_cost: f64 = costs.values().filter_map(|c| c.cost).map(|c| c.total()).sum();
    let t0 = spans.iter().map(|s| s.start_time).min().unwrap_or(trace.start_time);
    let total = (spans.iter().map(|s| s.end_time).max().unwrap_or(trace.end_time) - t0).max(1) as f64;
    let base = format!("/projects/{project_id}/traces/{trace_id}");
    let parents: HashSet<&str> = spans.iter().filter_map(|s| s.parent_id.as_deref()).collect();

    let project_ref = ProjectRef::Id(project_id);
    let (span_annotations, trace_annotations, configs) = match &selected {
        Some(record) => {
            let annotations = services.annotations();
            let span_id = record.span.span_id.clone();
            let span_annotations = annotations.of_targets(&caller, AnnotationTarget::Span, project_ref, vec![span_id], 200).await?;
            let trace_annotations =
                annotations.of_targets(&caller, AnnotationTarget::Trace, project_ref, vec![trace_id.clone()], 200).await?;
            let configs = services.annotation_configs().offered(&caller, project_ref, 200).await?;
            (span_annotations, trace_annotations, configs)
        }
        None => Default::default(),
    };
    let can_write = caller.require_write().is_ok();

    let body = html! {
        div.crumbs {
            a href="/projects" { "Projects" } " / " a href=(format!("/projects/{project_id}")) { (project.name) } " / trace"
        }
        div.title-row {
            h1 { "Trace " code { (trace_id) } button.copy type="button" data-copy=(trace_id) { "copy" } }
            nav.trace-nav {
                @if let Some(newer) = &newer { a #newer-trace href=(format!("/projects/{project_id}/traces/{}", newer.trace_id)) title="The trace started next" { "← newer" } }
                @else { span.muted { "← newer" } }
                @if let Some(older) = &older { a #older-trace href=(format!("/projects/{project_id}/traces/{}", older.trace_id)) title="The trace started before" { "older →" } }
                @else { span.muted { "older →" } }
            }
        }
        p.muted {
            (format::local_time(trace.start_time)) " · " (format::span_of(trace.start_time, trace.end_time)) " · "
            (format::count(spans.len() as i64)) " spans · "
            (format::count(spans.iter().map(|s| s.own_tokens).sum())) " tokens"
            @if costs.values().any(|c| c.cost.is_some()) { " · " span #trace-cost { (format::usd(trace_cost)) } }
            @if let Some(session) = trace.session_rowid { " · " a #trace-session href=(format!("/projects/{project_id}/sessions/{session}")) { "its session" } }
        }
        div.trace-layout {
            div.tree-pane {
                div.toolbar {
                    input #tree-search type="search" placeholder="Find spans by name or kind" aria-label="find spans" data-tree-search;
                    button.small type="button" data-collapse-all { "collapse all" }
                    button.small type="button" data-expand-all { "expand all" }
                }
                div.tree #span-tree role="tree" {
                    @for (index, depth) in &order {
                        @let outline = &spans[*index];
                        @let left = (outline.start_time - t0) as f64 / total * 100.0;
                        @let width = (outline.end_time - outline.start_time).max(0) as f64 / total * 100.0;
                        @let has_children = parents.contains(outline.span_id.as_str());
                        a.row.selected[Some(*index) == selected_index] href=(format!("{base}?span={}", outline.span_id)) data-nav-row role="treeitem"
                            data-span-id=(outline.span_id) data-depth=(depth) data-search=(format!("{} {}", outline.name, outline.span_kind.as_str()).to_lowercase()) {
                            span.name style=(format!("padding-left:{}px", depth.min(&40) * 14)) {
                                @if has_children { span.twisty data-collapse role="button" title="Collapse or expand" aria-expanded="true" { "▾" } }
                                @else { span.twisty.leaf {} }
                                (kind_badge(outline.span_kind)) " "
                                @if outline.status_code == StatusCode::Error { span.error-mark title="ERROR" { "✕ " } }
                                (outline.name) span.dur { (format::span_of(outline.start_time, outline.end_time)) }
                                @if outline.own_tokens > 0 { span.tokens title="tokens" { (format::count(outline.own_tokens)) " tok" } }
                                @if let Some(cost) = costs.get(&outline.rowid).and_then(|c| c.cost) { span.cost { (format::usd(cost.total())) } }
                            }
                            span.lane { i class=(format!("bar {}{}", kind_class(outline.span_kind), if outline.status_code == StatusCode::Error { " error" } else { "" })) style=(format!("left:{left:.3}%;width:{width:.3}%")) {} }
                            @if let Some(annotations) = tree_annotations.get(&outline.rowid) {
                                span.row-chips style=(format!("padding-left:{}px", depth.min(&40) * 14 + 14)) {
                                    @for annotation in annotations { (annotation_panel::chip(annotation)) }
                                }
                            }
                        }
                    }
                }
            }
            div.detail #span-detail {
                @if let Some(record) = &selected {
                    @let cost = costs.get(&record.rowid).map(|cost| span_view::SpanCostView {
                        cost, price: cost.price_id.and_then(|id| book.get(id)),
                    });
                    div.toolbar.span-actions {
                        a.button #download-span href=(format!("{base}/spans/{}/otlp.json", record.span.span_id)) download { "Download span (OTLP JSON)" }
                        button.small type="button" data-raw-toggle aria-pressed="false" { "raw text" }
                        @if record.span.span_kind == SpanKind::Llm {
                            a.button #open-in-playground href=(format!("/playground?span={}", record.span.span_id)) { "Open in playground" }
                        }
                        @if can_write {
                            form.inline #span-to-dataset method="post" action=(format!("/projects/{project_id}/dataset-examples")) {
                                input type="hidden" name="span_id" value=(record.span.span_id);
                                input type="text" name="dataset" required placeholder="dataset name" aria-label="dataset";
                                button.small type="submit" { "Add to dataset" }
                            }
                        }
                    }
                    (span_view::detail(record, cost))
                    (annotations_section(project_id, &base, record, &trace_id, [&span_annotations, &trace_annotations], &configs, can_write))
                } @else {
                    p.muted { "This trace has no spans." }
                }
            }
            @if let Some(record) = &selected {
                @let return_to = format!("{base}?span={}", record.span.span_id);
                (annotation_panel::panel(
                    &PanelContext { project_id, return_to: &return_to, configs: &configs, can_write, notice: query.notice.as_deref(), error: query.error.as_deref() },
                    &[
                        PanelTarget { level: AnnotationTarget::Span, target_id: &record.span.span_id, title: "this span", annotations: &span_annotations },
                        PanelTarget { level: AnnotationTarget::Trace, target_id: &trace_id, title: "the trace", annotations: &trace_annotations },
                    ],
                ))
            }
        }
    };
    Ok(shell(&format!("Trace {trace_id}"), Section::Projects, &caller, body))
}

/// One span of the trace as OTLP JSON (the `OtlpSpan` shape of Phoenix's `spans/otlpv1`), as a
/// file to save.
pub async fn download_span(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath((PageId(project_id, ..), trace_id, span_id)): UiPath<(PageId<ProjectPage>, String, String)>,
) -> UiResult<Response> {
    let services = &state.services;
    let project = services.projects().resolve(&caller, ProjectRef::Id(project_id)).await?;
    let trace = services.traces().in_project(&caller, &project, &trace_id).await?;
    let record = services.spans().by_otel_id(&caller, &span_id).await?.filter(|record| record.trace_rowid == trace.rowid);
    let record = record.ok_or_else(|| UiError::not_found(format!("Trace {trace_id} has no span {span_id}.")))?;
    let body = serde_json::to_vec_pretty(&ember_otlp::encode::span_to_otlp_json(&record.span))
        .map_err(|_| UiError::bad_request("The span could not be written as JSON."))?;
    let file_id: String = record.span.span_id.chars().filter(char::is_ascii_alphanumeric).collect();
    let disposition = format!("attachment; filename=\"span-{file_id}.json\"");
    Ok(([(header::CONTENT_TYPE, "application/json".to_string()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
}

fn annotation_rows(project_id: i64, level: &str, annotations: &[AnnotationRecord], return_to: &str, can_write: bool) -> Markup {
    html! {
        @for annotation in annotations.iter().filter(|annotation| annotation.name != NOTE_NAME) {
            tr {
                td { (annotation.name) div.muted { (level) " · " (annotation.annotator_kind.as_str()) } }
                td { (annotation.label.as_deref().unwrap_or("–")) }
                td.num { (annotation.score.map_or_else(|| "–".to_string(), format::score)) }
                td { (annotation.explanation.as_deref().unwrap_or("")) }
                td {
                    @if can_write && annotation.annotator_kind == ember_core::AnnotatorKind::Human {
                        @let fields = serde_json::json!({
                            "level": level, "name": annotation.name, "label": annotation.label, "score": annotation.score,
                            "explanation": annotation.explanation,
                        });
                        button.small type="button" data-edit-annotation=(fields.to_string()) title="Load into the form below" { "Edit" } " "
                        form.inline method="post" action=(format!("/projects/{project_id}/annotations/delete")) data-confirm="Delete this annotation?" {
                            input type="hidden" name="level" value=(level);
                            input type="hidden" name="id" value=(annotation.rowid);
                            input type="hidden" name="return_to" value=(return_to);
                            button.small.danger type="submit" { "Delete" }
                        }
                    }
                }
            }
        }
    }
}

fn annotations_section(
    project_id: i64,
    base: &str,
    record: &SpanRecord,
    trace_id: &str,
    [span_annotations, trace_annotations]: [&[AnnotationRecord]; 2],
    configs: &[AnnotationConfig],
    can_write: bool,
) -> Markup {
    let return_to = format!("{base}?span={}", record.span.span_id);
    let labels: Vec<String> = configs
        .iter()
        .filter_map(|c| c.config.get("values").and_then(Value::as_array))
        .flatten()
        .filter_map(|v| v.get("label").and_then(Value::as_str).map(String::from))
        .collect();
    html! {
        h3 #annotations { "All annotations" }
        @if span_annotations.is_empty() && trace_annotations.is_empty() { p.muted { "None yet." } }
        @else {
            table.grid #annotation-list {
                thead { tr { th { "Name" } th { "Label" } th.num { "Score" } th { "Explanation" } th {} } }
                tbody {
                    (annotation_rows(project_id, "span", span_annotations, &return_to, can_write))
                    (annotation_rows(project_id, "trace", trace_annotations, &return_to, can_write))
                }
            }
        }
        @if can_write {
        h3 { "Annotate with any name" }
        p.muted { "Saving a name already given to this span (or trace) by a person replaces that annotation; a name with a config follows it." }
        form.annotation-form #annotation-form method="post" action=(format!("/projects/{project_id}/annotations")) {
            input type="hidden" name="span_id" value=(record.span.span_id);
            input type="hidden" name="trace_id" value=(trace_id);
            input type="hidden" name="return_to" value=(return_to);
            label for="annotation-level" { "On" }
            select #annotation-level name="level" { option value="span" { "this span" } option value="trace" { "the whole trace" } }
            label for="annotation-name" { "Name" }
            input #annotation-name type="text" name="name" list="annotation-configs" required placeholder="e.g. correctness";
            datalist #annotation-configs { @for config in configs { option value=(config.name) { (config.config.get("type").and_then(Value::as_str).unwrap_or("")) } } }
            label for="annotation-label" { "Label" }
            input #annotation-label type="text" name="label" list="annotation-labels";
            datalist #annotation-labels { @for label in &labels { option value=(label) {} } }
            label for="annotation-score" { "Score" }
            input #annotation-score type="number" name="score" step="any";
            label for="annotation-explanation" { "Explanation" }
            textarea #annotation-explanation name="explanation" rows="2" {}
            span {}
            div { button.primary type="submit" { "Save annotation" } }
        }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ember_core::{SpanKind, StatusCode};

    fn record(id: &str, parent: Option<&str>, start: i64) -> SpanOutline {
        SpanOutline {
            rowid: 0,
            span_id: id.into(),
            parent_id: parent.map(String::from),
            name: id.into(),
            span_kind: SpanKind::Chain,
            start_time: start,
            end_time: start + 1,
            status_code: StatusCode::Ok,
            own_tokens: 0,
        }
    }

    #[test]
    fn the_tree_is_depth_first_with_orphans_and_cycles_at_the_top() {
        let spans = vec![
            record("root", None, 0),
            record("b", Some("root"), 2),
            record("a", Some("root"), 1),
            record("a1", Some("a"), 3),
            record("orphan", Some("missing"), 4),
            record("x", Some("y"), 5),
            record("y", Some("x"), 6),
        ];
        let names: Vec<(&str, usize)> = tree_order(&spans).into_iter().map(|(i, d)| (spans[i].span_id.as_str(), d)).collect();
        assert_eq!(names[..5], [("root", 0), ("b", 1), ("a", 1), ("a1", 2), ("orphan", 0)]);
        assert_eq!(names.len(), 7, "spans in a cycle are still listed");
    }
}
