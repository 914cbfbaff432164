//! A project: summary and charts over the time range, then its traces, spans or sessions,
//! filtered with Phoenix's filter language and paged by keyset.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use ember_store::{ActivityWindow, Filter, Grain, Page, Project, QueryError, SpanFilters, SpanRecord, TraceFilters, TraceOrder, TraceSort};
use maud::{html, Markup};
use serde::Deserialize;

use super::charts;
use super::error::{UiError, UiResult};
use super::format;
use super::layout::{shell, Section};
use super::span_view::{attribute_text, status_badge};
use super::window::TimeRange;
use crate::AppState;

const PAGE_SIZE: usize = 50;
const CHART_BINS: usize = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Traces,
    Spans,
    Sessions,
}

#[derive(Debug, Default, Deserialize)]
pub struct ProjectQuery {
    tab: Option<String>,
    range: Option<String>,
    filter: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    cursor: Option<String>,
    /// Spans tab: "all" lists every span, otherwise root spans only.
    spans: Option<String>,
}

/// What the page was asked for, to build links that change one thing.
struct View<'a> {
    project: &'a Project,
    tab: Tab,
    range: TimeRange,
    filter: &'a str,
    sort: TraceSort,
    order: TraceOrder,
    all_spans: bool,
}

impl View<'_> {
    fn href(&self, tab: Tab, sort: TraceSort, order: TraceOrder, cursor: Option<i64>) -> String {
        let mut params = vec![
            ("tab", tab_key(tab).to_string()),
            ("range", self.range.key.to_string()),
            ("sort", if sort == TraceSort::LatencyMs { "latency" } else { "start_time" }.to_string()),
            ("order", if order == TraceOrder::Asc { "asc" } else { "desc" }.to_string()),
        ];
        if !self.filter.is_empty() && tab == self.tab {
            params.push(("filter", self.filter.to_string()));
        }
        if self.all_spans {
            params.push(("spans", "all".to_string()));
        }
        if let Some(cursor) = cursor {
            params.push(("cursor", cursor.to_string()));
        }
        format!("/projects/{}?{}", self.project.id, serde_urlencoded::to_string(params).unwrap_or_default())
    }

    /// A sortable column heading: clicking the current key flips the order.
    fn sort_heading(&self, label: &str, key: TraceSort) -> Markup {
        let (order, arrow) = match (self.sort == key, self.order) {
            (true, TraceOrder::Desc) => (TraceOrder::Asc, " ↓"),
            (true, TraceOrder::Asc) => (TraceOrder::Desc, " ↑"),
            (false, _) => (TraceOrder::Desc, ""),
        };
        html! { a href=(self.href(self.tab, key, order, None)) { (label) (arrow) } }
    }
}

fn tab_key(tab: Tab) -> &'static str {
    match tab {
        Tab::Traces => "traces",
        Tab::Spans => "spans",
        Tab::Sessions => "sessions",
    }
}

pub async fn page(State(state): State<AppState>, Path(project_id): Path<i64>, Query(query): Query<ProjectQuery>) -> UiResult<Markup> {
    let project =
        state.store.get_project(project_id).await?.ok_or_else(|| UiError::not_found(format!("There is no project {project_id}.")))?;
    let tab = match query.tab.as_deref() {
        Some("spans") => Tab::Spans,
        Some("sessions") => Tab::Sessions,
        _ => Tab::Traces,
    };
    let view = View {
        project: &project,
        tab,
        range: TimeRange::from_key(query.range.as_deref()),
        filter: query.filter.as_deref().unwrap_or("").trim(),
        sort: if query.sort.as_deref() == Some("latency") { TraceSort::LatencyMs } else { TraceSort::StartTime },
        order: if query.order.as_deref() == Some("asc") { TraceOrder::Asc } else { TraceOrder::Desc },
        all_spans: query.spans.as_deref() == Some("all"),
    };
    let cursor = match query.cursor.as_deref() {
        Some(text) => Some(text.parse::<i64>().map_err(|_| UiError::bad_request("The page cursor is not a number."))?),
        None => None,
    };
    let grain = match tab {
        Tab::Traces => Grain::Trace,
        Tab::Spans => Grain::Span,
        Tab::Sessions => Grain::Session,
    };
    let parsed = if view.filter.is_empty() { Ok(None) } else { Filter::phoenix(view.filter, grain).map(Some) };
    let window = ActivityWindow { start: view.range.start, end: view.range.end, bins: CHART_BINS, latency_per_bin: true };
    let activity = state.store.project_activity(&[project.id], window).await?.remove(&project.id).unwrap_or_default();

    let table = match &parsed {
        Err(_) => html! {},
        Ok(condition) => match tab {
            Tab::Traces => traces_table(&state, &view, condition.clone(), cursor).await?,
            Tab::Spans => spans_table(&state, &view, condition.clone(), cursor).await?,
            Tab::Sessions => sessions_table(&state, &view, condition.as_ref(), cursor).await?,
        },
    };
    let labels: Vec<String> = activity.bins.iter().map(|bin| format::timestamp(bin.start)).collect();
    let body = html! {
        div.crumbs { a href="/projects" { "Projects" } " / " (project.name) }
        h1 { (project.name) }
        @if let Some(description) = &project.description { p.muted { (description) } }
        div.cards {
            (card("Traces", format::count(activity.traces)))
            (card("Spans", format::count(activity.spans)))
            (card("Span errors", format::percent(activity.errors, activity.spans)))
            (card("Latency p50", format::maybe_millis(activity.latency_p50_ms)))
            (card("Latency p99", format::maybe_millis(activity.latency_p99_ms)))
            (card("Tokens", format::count(activity.prompt_tokens + activity.completion_tokens)))
        }
        div.charts {
            div.chart { div.title { "Traces" } (charts::bars(&activity.bins.iter().map(|b| b.traces).collect::<Vec<_>>(), &labels, "")) }
            div.chart {
                div.title { "Latency p50 / p99" }
                (charts::latency_lines(
                    &activity.bins.iter().map(|b| b.latency_p50_ms).collect::<Vec<_>>(),
                    &activity.bins.iter().map(|b| b.latency_p99_ms).collect::<Vec<_>>()))
            }
            div.chart { div.title { "Errored spans" } (charts::bars(&activity.bins.iter().map(|b| b.errors).collect::<Vec<_>>(), &labels, "error")) }
        }
        nav.tabs {
            @for (t, label) in [(Tab::Traces, "Traces"), (Tab::Spans, "Spans"), (Tab::Sessions, "Sessions")] {
                a.active[t == tab] href=(view.href(t, view.sort, view.order, None)) { (label) }
            }
        }
        form.toolbar #filter-form method="get" action=(format!("/projects/{}", project.id)) {
            input type="hidden" name="tab" value=(tab_key(tab));
            input type="hidden" name="sort" value=(if view.sort == TraceSort::LatencyMs { "latency" } else { "start_time" });
            input type="hidden" name="order" value=(if view.order == TraceOrder::Asc { "asc" } else { "desc" });
            div.grow {
                input.filter.invalid[parsed.is_err()] type="search" name="filter" value=(view.filter) data-filter-input
                    placeholder=(placeholder(tab)) aria-label="Filter (Phoenix filter language)" autocomplete="off" spellcheck="false";
                @if let Err(error) = &parsed { (filter_error(view.filter, error)) }
            }
            @if tab == Tab::Spans {
                label { input type="checkbox" name="spans" value="all" checked[view.all_spans]; " all spans" }
            }
            (view.range.picker())
            button.primary type="submit" { "Apply" }
        }
        (table)
    };
    Ok(shell(&project.name, Section::Projects, body))
}

fn placeholder(tab: Tab) -> &'static str {
    match tab {
        Tab::Traces => "e.g. latency_ms > 1000 and 'error' in output.value",
        Tab::Spans => "e.g. span_kind == 'LLM' and llm.token_count.total > 100",
        Tab::Sessions => "e.g. 'refund' in input.value",
    }
}

fn card(label: &str, value: String) -> Markup {
    html! { div.card { div.value { (value) } div.label { (label) } } }
}

/// The filter's problem under the box, with a caret under the column it names.
fn filter_error(text: &str, error: &QueryError) -> Markup {
    let column = error.column.min(text.chars().count());
    html! {
        div.filter-error role="alert" {
            (text) "\n" (" ".repeat(column)) "^ " (error.message) " (column " (error.column) ")"
        }
    }
}

async fn traces_table(state: &AppState, view: &View<'_>, condition: Option<Filter>, cursor: Option<i64>) -> UiResult<Markup> {
    let filters = TraceFilters { start_time: Some(view.range.start), end_time: Some(view.range.end), condition, ..TraceFilters::default() };
    let traces = state.store.list_traces(view.project.id, &filters, view.sort, view.order, cursor, PAGE_SIZE).await?;
    let trace_ids: Vec<String> = traces.items.iter().map(|t| t.trace_id.clone()).collect();
    let roots: HashMap<String, SpanRecord> = if trace_ids.is_empty() {
        HashMap::new()
    } else {
        let filters = SpanFilters { trace_ids, parent_id: Some(None), ..SpanFilters::default() };
        let page = state.store.list_spans(view.project.id, &filters, None, PAGE_SIZE * 4).await?;
        page.items.into_iter().map(|record| (record.span.trace_id.clone(), record)).collect()
    };
    Ok(html! {
        table.grid #traces {
            thead { tr {
                th { (view.sort_heading("Start time", TraceSort::StartTime)) } th { "Root span" } th { "Input" } th { "Output" }
                th.num { (view.sort_heading("Latency", TraceSort::LatencyMs)) } th.num { "Tokens" } th { "Status" }
            } }
            tbody {
                @for trace in &traces.items {
                    @let root = roots.get(&trace.trace_id);
                    @let href = format!("/projects/{}/traces/{}", view.project.id, trace.trace_id);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        td { a href=(href) title=(format::precise(trace.start_time)) { (format::timestamp(trace.start_time)) } }
                        td { @match root { Some(r) => { (r.span.name) " " span.kind { (r.span.span_kind.as_str()) } }, None => span.muted { "(no root span)" } } }
                        td.preview { (root.map(|r| format::preview(&attribute_text(&r.span, "input.value"), 120)).unwrap_or_default()) }
                        td.preview { (root.map(|r| format::preview(&attribute_text(&r.span, "output.value"), 120)).unwrap_or_default()) }
                        td.num { (format::span_of(trace.start_time, trace.end_time)) }
                        td.num { (format::count(trace.token_count_prompt + trace.token_count_completion)) }
                        td { @if let Some(r) = root { (status_badge(r)) } }
                    }
                }
            }
        }
        @if traces.items.is_empty() { p.muted { "No traces in this range match." } }
        (pager(view, traces.next_cursor, cursor.is_some()))
    })
}

async fn spans_table(state: &AppState, view: &View<'_>, condition: Option<Filter>, cursor: Option<i64>) -> UiResult<Markup> {
    let filters = SpanFilters {
        parent_id: if view.all_spans { None } else { Some(None) },
        start_time: Some(view.range.start),
        end_time: Some(view.range.end),
        condition,
        ..SpanFilters::default()
    };
    let spans: Page<SpanRecord> = state.store.list_spans(view.project.id, &filters, cursor, PAGE_SIZE).await?;
    Ok(html! {
        form #spans-to-dataset method="post" action=(format!("/projects/{}/dataset-examples", view.project.id)) {}
        table.grid #spans {
            thead { tr {
                th { span.muted { "Select" } }
                th { "Start time" } th { "Name" } th { "Kind" } th { "Input" } th { "Output" } th.num { "Latency" } th.num { "Tokens" } th { "Status" }
            } }
            tbody {
                @for record in &spans.items {
                    @let span = &record.span;
                    @let href = format!("/projects/{}/traces/{}?span={}", view.project.id, span.trace_id, span.span_id);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        td { input type="checkbox" name="span_id" value=(span.span_id) form="spans-to-dataset" aria-label=(format!("select span {}", span.span_id)); }
                        td { a href=(href) title=(format::precise(span.start_time)) { (format::timestamp(span.start_time)) } }
                        td { (span.name) }
                        td.kind { (span.span_kind.as_str()) }
                        td.preview { (format::preview(&attribute_text(span, "input.value"), 120)) }
                        td.preview { (format::preview(&attribute_text(span, "output.value"), 120)) }
                        td.num { (format::span_of(span.start_time, span.end_time)) }
                        td.num { (format::count(record.cumulative_llm_token_count_prompt + record.cumulative_llm_token_count_completion)) }
                        td { (status_badge(record)) }
                    }
                }
            }
        }
        @if spans.items.is_empty() { p.muted { "No spans in this range match." } }
        @else {
            div.toolbar {
                label for="dataset-name" { "Add the selected spans to dataset" }
                input #dataset-name type="text" name="dataset" form="spans-to-dataset" required placeholder="dataset name (new or existing)";
                button type="submit" form="spans-to-dataset" { "Add to dataset" }
            }
        }
        (pager(view, spans.next_cursor, cursor.is_some()))
    })
}

async fn sessions_table(state: &AppState, view: &View<'_>, condition: Option<&Filter>, cursor: Option<i64>) -> UiResult<Markup> {
    let sessions = state.store.list_sessions(view.project.id, condition, cursor, PAGE_SIZE, false).await?;
    Ok(html! {
        table.grid #sessions {
            thead { tr { th { "Session" } th { "Started" } th.num { "Traces" } th.num { "Duration" } th.num { "Tokens" } } }
            tbody {
                @for session in &sessions.items {
                    @let href = format!("/projects/{}/sessions/{}", view.project.id, session.rowid);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        td.mono { a href=(href) { (session.session_id) } }
                        td { (format::timestamp(session.start_time)) }
                        td.num { (session.traces.len()) }
                        td.num { (format::span_of(session.start_time, session.end_time)) }
                        td.num { (format::count(session.token_count_prompt + session.token_count_completion)) }
                    }
                }
            }
        }
        @if sessions.items.is_empty() { p.muted { "No sessions match." } }
        (pager(view, sessions.next_cursor, cursor.is_some()))
    })
}

fn pager(view: &View<'_>, next: Option<i64>, paged: bool) -> Markup {
    html! {
        div.pager {
            @if paged { a href=(view.href(view.tab, view.sort, view.order, None)) { "← First page" } }
            @if let Some(next) = next { a #next-page href=(view.href(view.tab, view.sort, view.order, Some(next))) { "Next page →" } }
        }
    }
}
