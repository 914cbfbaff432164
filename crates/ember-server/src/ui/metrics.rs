//! A project's metrics page: traces, root-span latency percentiles, errored spans by kind, LLM
//! tokens and cost by model and mean annotation scores over a time range ending now, each chart
//! with axes, units and a legend, and each bin a link zooming into it.

use axum::extract::{Query, State};
use ember_core::time::now_nanos;
use ember_service::ProjectRef;
use ember_store::{ActivityWindow, BinLayout, BinnedSeries};
use maud::{html, Markup};
use serde::Deserialize;

use super::charts::{self, Series, TimeAxis, Unit};
use super::error::{UiError, UiResult};
use super::format;
use super::ids::{PageId, ProjectPage, UiPath};
use super::layout::{shell, Section};
use super::window::TimeRange;
use crate::authentication::RequestCaller;
use crate::AppState;

const BINS: usize = 48;
/// Models beyond this many are summed as "other models".
const MAX_MODELS: usize = 6;

#[derive(Debug, Default, Deserialize)]
pub struct MetricsQuery {
    range: Option<String>,
    /// A zoomed window in Unix nanoseconds (a bin's edges).
    from: Option<String>,
    to: Option<String>,
}

fn nanos(text: &str, name: &str) -> UiResult<i64> {
    text.parse().map_err(|_| UiError::bad_request(format!("`{name}` is not a time in nanoseconds: {text:?}.")))
}

/// Series of counts as chart values.
fn counts(series: &[BinnedSeries<i64>]) -> Vec<Series> {
    series.iter().map(|s| Series { name: s.name.clone(), values: s.bins.iter().map(|v| Some(*v as f64)).collect() }).collect()
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>,
    Query(query): Query<MetricsQuery>,
) -> UiResult<Markup> {
    let services = &state.services;
    let project = services.projects().resolve(&caller, ProjectRef::Id(project_id)).await?;
    let now = now_nanos();
    let (start, end, zoomed) = match (query.from.as_deref(), query.to.as_deref()) {
        (Some(from), Some(to)) => {
            let (from, to) = (nanos(from, "from")?, nanos(to, "to")?.min(now));
            if from >= to {
                return Err(UiError::bad_request("The zoomed window must start before it ends, and before now."));
            }
            (from, to, true)
        }
        _ => {
            let range = TimeRange::from_key(query.range.as_deref(), services, &caller, &[project.id]).await?;
            (range.start, range.end, false)
        }
    };
    let range = TimeRange::preset(query.range.as_deref(), now);
    let window = ActivityWindow { start, end, bins: BINS, latency_per_bin: true };
    let metrics = services.projects().metrics(&caller, ProjectRef::Id(project_id), window).await?;
    let layout = BinLayout::of(&window);
    let zoom = format!("/projects/{project_id}/metrics?from={{from}}&to={{to}}");
    let axis = TimeAxis { start: layout.start, bin_nanos: layout.bin_nanos(), bins: layout.bins as usize, end, zoom_href: &zoom };
    let bins = &metrics.activity.bins;

    let traces = [Series { name: "traces".into(), values: bins.iter().map(|b| Some(b.traces as f64)).collect() }];
    let latency = [
        Series { name: "p50".into(), values: bins.iter().map(|b| b.latency_p50_ms).collect() },
        Series { name: "p90".into(), values: bins.iter().map(|b| b.latency_p90_ms).collect() },
        Series { name: "p99".into(), values: bins.iter().map(|b| b.latency_p99_ms).collect() },
    ];
    let (top_models, other_models) = metrics.models.split_at(metrics.models.len().min(MAX_MODELS));
    let by_model = |pick: fn(&(i64, f64)) -> f64| {
        let mut series: Vec<Series> = top_models
            .iter()
            .map(|model| Series { name: model.model_name.clone(), values: model.bins.iter().map(|b| Some(pick(b))).collect() })
            .collect();
        if !other_models.is_empty() {
            let values = (0..axis.bins).map(|i| Some(other_models.iter().map(|m| m.bins.get(i).map_or(0.0, pick)).sum())).collect();
            series.push(Series { name: format!("{} other models", other_models.len()), values });
        }
        series
    };
    let tokens = by_model(|(tokens, _)| *tokens as f64);
    let costs = by_model(|(_, cost)| *cost);
    let scores: Vec<Series> = metrics.annotation_scores.iter().map(|s| Series { name: s.name.clone(), values: s.bins.clone() }).collect();

    let body = html! {
        div.crumbs {
            a href="/projects" { "Projects" } " / " a href=(format!("/projects/{project_id}")) { (project.name) } " / metrics"
        }
        h1 { (project.name) " · metrics" }
        form.toolbar #metrics-form method="get" action=(format!("/projects/{project_id}/metrics")) {
            (range.preset_picker())
            button.primary type="submit" { "Show" }
            @if zoomed {
                span #zoomed { "Zoomed to " (format::local_time(start)) " – " (format::local_time(end)) " · "
                    a href=(format!("/projects/{project_id}/metrics")) { "back to the last 7 days" } }
            } @else {
                span.muted { "Click a bin to zoom into it." }
            }
        }
        div.cards {
            (card("Traces", format::count(metrics.activity.traces)))
            (card("Span errors", format::percent(metrics.activity.errors, metrics.activity.spans)))
            (card("Latency p50", format::maybe_millis(metrics.activity.latency_p50_ms)))
            (card("Latency p99", format::maybe_millis(metrics.activity.latency_p99_ms)))
            (card("Tokens", format::count(metrics.activity.prompt_tokens + metrics.activity.completion_tokens)))
        }
        div.metric-grid {
            section { h2 { "Traces" } (charts::time_chart("traces-chart", &traces, &axis, Unit::Count, true)) }
            section { h2 { "Latency of root spans" } (charts::time_chart("latency-chart", &latency, &axis, Unit::Millis, false)) }
            section {
                h2 { "Errored spans by kind" }
                @if metrics.errors_by_kind.is_empty() { p.muted { "No errors in this range." } }
                @else { (charts::time_chart("errors-chart", &counts(&metrics.errors_by_kind), &axis, Unit::Count, false)) }
            }
            section {
                h2 { "Annotation scores (mean)" }
                p.muted { "From the project's latest " (format::count(ember_store::MAX_TREND_ANNOTATIONS as i64)) " scored span annotations." }
                @if scores.is_empty() { p.muted { "No scored span annotations in this range." } }
                @else { (charts::time_chart("scores-chart", &scores, &axis, Unit::Score, false)) }
            }
            section {
                h2 { "Tokens by model" }
                @if tokens.is_empty() { p.muted { "No LLM spans naming a model in this range (or cost tracking is off)." } }
                @else { (charts::time_chart("tokens-chart", &tokens, &axis, Unit::Count, false)) }
            }
            section {
                h2 { "Cost by model" }
                @if costs.is_empty() { p.muted { "No LLM spans naming a model in this range (or cost tracking is off)." } }
                @else { (charts::time_chart("cost-chart", &costs, &axis, Unit::Usd, false)) }
            }
        }
    };
    Ok(shell(&format!("{} metrics", project.name), Section::Projects, &caller, body))
}

fn card(label: &str, value: String) -> Markup {
    html! { div.card { div.value { (value) } div.label { (label) } } }
}
