//! A trace: its span tree with a waterfall timeline, and the selected span in full with its
//! annotations and the form to add, edit or delete a human one.

use std::collections::{HashMap, HashSet};

use axum::extract::{Query, State};
use ember_core::AnnotationTarget;
use ember_service::ProjectRef;
use ember_store::{AnnotationConfig, AnnotationRecord, SpanOutline, SpanRecord};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::error::UiResult;
use super::format;
use super::ids::{PageId, ProjectPage, UiPath};
use super::layout::{shell, Section};
use super::span_view;
use crate::authentication::RequestCaller;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct TraceQuery {
    span: Option<String>,
    notice: Option<String>,
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

fn bar_class(outline: &SpanOutline) -> &'static str {
    if outline.status_code == ember_core::StatusCode::Error {
        return "bar error";
    }
    match outline.span_kind.as_str() {
        "LLM" => "bar llm",
        "RETRIEVER" | "RERANKER" | "EMBEDDING" => "bar retriever",
        "TOOL" => "bar tool",
        _ => "bar",
    }
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
    let trace_cost: f64 = costs.values().filter_map(|c| c.cost).map(|c| c.total()).sum();
    let t0 = spans.iter().map(|s| s.start_time).min().unwrap_or(trace.start_time);
    let total = (spans.iter().map(|s| s.end_time).max().unwrap_or(trace.end_time) - t0).max(1) as f64;
    let base = format!("/projects/{project_id}/traces/{trace_id}");

    let (span_annotations, trace_annotations, configs) = match &selected {
        Some(record) => {
            let (annotations, project_ref) = (services.annotations(), ProjectRef::Id(project_id));
            let span_id = record.span.span_id.clone();
            let span_annotations = annotations.of_targets(&caller, AnnotationTarget::Span, project_ref, vec![span_id], 200).await?;
            let trace_annotations =
                annotations.of_targets(&caller, AnnotationTarget::Trace, project_ref, vec![trace_id.clone()], 200).await?;
            let configs = services.annotation_configs().offered(&caller, project_ref, 200).await?;
            (span_annotations, trace_annotations, configs)
        }
        None => Default::default(),
    };

    let body = html! {
        div.crumbs {
            a href="/projects" { "Projects" } " / " a href=(format!("/projects/{project_id}")) { (project.name) } " / trace"
        }
        h1 { "Trace " code { (trace_id) } button.copy type="button" data-copy=(trace_id) { "copy" } }
        p.muted {
            (format::timestamp(trace.start_time)) " · " (format::span_of(trace.start_time, trace.end_time)) " · "
            (format::count(spans.len() as i64)) " spans · "
            (format::count(spans.iter().map(|s| s.own_tokens).sum())) " tokens"
            @if costs.values().any(|c| c.cost.is_some()) { " · " span #trace-cost { (format::usd(trace_cost)) } }
        }
        @if let Some(notice) = &query.notice { p.notice { (notice) } }
        div.trace-layout {
            div.tree #span-tree role="tree" {
                @for (index, depth) in &order {
                    @let outline = &spans[*index];
                    @let left = (outline.start_time - t0) as f64 / total * 100.0;
                    @let width = (outline.end_time - outline.start_time).max(0) as f64 / total * 100.0;
                    a.row.selected[Some(*index) == selected_index] href=(format!("{base}?span={}", outline.span_id)) data-nav-row role="treeitem"
                        data-span-id=(outline.span_id) {
                        span.name style=(format!("padding-left:{}px", depth.min(&40) * 14)) {
                            (outline.name) span.dur { (format::span_of(outline.start_time, outline.end_time)) }
                            @if let Some(cost) = costs.get(&outline.rowid).and_then(|c| c.cost) { span.cost { (format::usd(cost.total())) } }
                        }
                        span.lane { i class=(bar_class(outline)) style=(format!("left:{left:.3}%;width:{width:.3}%")) {} }
                    }
                }
            }
            div.detail #span-detail {
                @if let Some(record) = &selected {
                    @let cost = costs.get(&record.rowid).map(|cost| span_view::SpanCostView {
                        cost, price: cost.price_id.and_then(|id| book.get(id)),
                    });
                    (span_view::detail(record, cost))
                    (annotations_section(project_id, &base, record, &trace_id, [&span_annotations, &trace_annotations], &configs, caller.require_write().is_ok()))
                } @else {
                    p.muted { "This trace has no spans." }
                }
            }
        }
    };
    Ok(shell(&format!("Trace {trace_id}"), Section::Projects, &caller, body))
}

fn annotation_rows(project_id: i64, level: &str, annotations: &[AnnotationRecord], return_to: &str, can_write: bool) -> Markup {
    html! {
        @for annotation in annotations {
            tr {
                td { (annotation.name) } td { (annotation.label.as_deref().unwrap_or("–")) }
                td.num { (annotation.score.map_or_else(|| "–".to_string(), |s| format!("{s}"))) }
                td { (annotation.explanation.as_deref().unwrap_or("")) }
                td.muted { (level) " · " (annotation.annotator_kind.as_str()) }
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
        h3 #annotations { "Annotations" }
        @if span_annotations.is_empty() && trace_annotations.is_empty() { p.muted { "None yet." } }
        @else {
            table.grid #annotation-list {
                thead { tr { th { "Name" } th { "Label" } th.num { "Score" } th { "Explanation" } th { "On" } th {} } }
                tbody {
                    (annotation_rows(project_id, "span", span_annotations, &return_to, can_write))
                    (annotation_rows(project_id, "trace", trace_annotations, &return_to, can_write))
                }
            }
        }
        @if can_write {
        h3 { "Annotate" }
        p.muted { "Saving a name already given to this span (or trace) by a person replaces that annotation." }
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
