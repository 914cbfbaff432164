//! A project: summary and charts over the time range, then its traces, spans or sessions,
//! filtered with Phoenix's filter language and paged by keyset.

use std::collections::HashMap;

use axum::extract::{Query, State};
use ember_core::AnnotationTarget;
use ember_service::annotations::NOTE_NAME;
use ember_service::filter_vocabulary::FilterVocabulary;
use ember_service::{Caller, ProjectRef};
use ember_store::{
    ActivityBin, ActivityWindow, AnnotationRecord, BinLayout, Filter, Grain, Page, Project, QueryError, RootSpanQuery, RootSpanSort,
    SpanFilters, SpanRecord,
};
use maud::{html, Markup};
use serde::Deserialize;

use super::annotation_panel;
use super::charts::{self, Series, TimeAxis, Unit};
use super::error::{UiError, UiResult};
use super::format;
use super::ids::{PageId, ProjectPage, UiPath};
use super::layout::{shell, Section};
use super::span_view::{attribute_text, status_badge};
use super::window::TimeRange;
use crate::authentication::RequestCaller;
use crate::AppState;

const PAGE_SIZE: usize = 50;
const CHART_BINS: usize = 48;
/// The most annotations a page of traces shows as chips, of traces and of root spans each.
const CHIPS_PER_PAGE: usize = 500;

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
    sort: RootSpanSort,
    descending: bool,
    all_spans: bool,
}

fn sort_key(sort: RootSpanSort) -> &'static str {
    match sort {
        RootSpanSort::StartTime => "start_time",
        RootSpanSort::Latency => "latency",
        RootSpanSort::Tokens => "tokens",
    }
}

impl View<'_> {
    fn href(&self, tab: Tab, sort: RootSpanSort, descending: bool, cursor: Option<i64>) -> String {
        let mut params = vec![
            ("tab", tab_key(tab).to_string()),
            ("range", self.range.key.to_string()),
            ("sort", sort_key(sort).to_string()),
            ("order", if descending { "desc" } else { "asc" }.to_string()),
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
    fn sort_heading(&self, label: &str, key: RootSpanSort) -> Markup {
        let (descending, arrow) = match (self.sort == key, self.descending) {
            (true, true) => (false, " ↓"),
            (true, false) => (true, " ↑"),
            (false, _) => (true, ""),
        };
        html! { a href=(self.href(self.tab, key, descending, None)) { (label) (arrow) } }
    }
}

fn tab_key(tab: Tab) -> &'static str {
    match tab {
        Tab::Traces => "traces",
        Tab::Spans => "spans",
        Tab::Sessions => "sessions",
    }
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>,
    Query(query): Query<ProjectQuery>,
) -> UiResult<Markup> {
    let project = state.services.projects().resolve(&caller, ProjectRef::Id(project_id)).await?;
    let tab = match query.tab.as_deref() {
        Some("spans") => Tab::Spans,
        Some("sessions") => Tab::Sessions,
        _ => Tab::Traces,
    };
    let view = View {
        project: &project,
        tab,
        range: TimeRange::from_key(query.range.as_deref(), &state.services, &caller, &[project.id]).await?,
        filter: query.filter.as_deref().unwrap_or("").trim(),
        sort: match query.sort.as_deref() {
            Some("latency") => RootSpanSort::Latency,
            Some("tokens") => RootSpanSort::Tokens,
            _ => RootSpanSort::StartTime,
        },
        descending: query.order.as_deref() != Some("asc"),
        all_spans: query.spans.as_deref() == Some("all"),
    };
    let cursor = match query.cursor.as_deref() {
        Some(text) => Some(text.parse::<i64>().map_err(|_| UiError::bad_request("The page cursor is not a number."))?),
        None => None,
    };
    // The traces tab lists root spans: its filter is a trace filter or a filter on root spans.
    let parsed = match tab {
        _ if view.filter.is_empty() => Ok(None),
        Tab::Traces => Filter::phoenix_traces(view.filter).map(Some),
        Tab::Spans => Filter::phoenix(view.filter, Grain::Span).map(Some),
        Tab::Sessions => Filter::phoenix(view.filter, Grain::Session).map(Some),
    };
    let window = ActivityWindow { start: view.range.start, end: view.range.end, bins: CHART_BINS, latency_per_bin: true };
    let activity = state.services.projects().activity(&caller, &[project.id], window).await?.remove(&project.id).unwrap_or_default();
    let (_, cost) =
        state.services.costs().project_summary(&caller, ProjectRef::Id(project.id), Some(view.range.start), Some(view.range.end)).await?;

    let table = match &parsed {
        Err(_) => html! {},
        Ok(condition) => match tab {
            Tab::Traces => traces_table(&state, &caller, &view, condition.clone(), cursor).await?,
            Tab::Spans => spans_table(&state, &caller, &view, condition.clone(), cursor).await?,
            Tab::Sessions => sessions_table(&state, &caller, &view, condition.as_ref(), cursor).await?,
        },
    };
    // Attribute keys and annotation names complete span filters only: the sessions tab needs none.
    let vocabulary = match tab {
        Tab::Sessions => FilterVocabulary::default(),
        _ => state.services.spans().filter_vocabulary(&caller, ProjectRef::Id(project.id)).await?,
    };
    let layout = BinLayout::of(&window);
    let zoom = format!("/projects/{}/metrics?from={{from}}&to={{to}}", project.id);
    let axis =
        TimeAxis { start: layout.start, bin_nanos: layout.bin_nanos(), bins: layout.bins as usize, end: window.end, zoom_href: &zoom };
    let series = |name: &str, value: fn(&ActivityBin) -> Option<f64>| Series {
        name: name.into(),
        values: activity.bins.iter().map(value).collect(),
    };
    let body = html! {
        div.crumbs { a href="/projects" { "Projects" } " / " (project.name) }
        h1 { (project.name) }
        @if let Some(description) = &project.description { p.muted { (description) } }
        p.links {
            a #metrics-link href=(format!("/projects/{}/metrics?range={}", project.id, view.range.key)) { "Metrics" } " · "
            a href=(format!("/projects/{}/settings", project.id)) { "Settings" }
            @if state.services.auth().enabled() && caller.require_admin().is_ok() {
                " · " a href=(format!("/projects/{}/access", project.id)) { "Who may reach this project" }
            }
        }
        div.cards {
            (card("Traces", format::count(activity.traces)))
            (card("Spans", format::count(activity.spans)))
            (card("Span errors", format::percent(activity.errors, activity.spans)))
            (card("Latency p50", format::maybe_millis(activity.latency_p50_ms)))
            (card("Latency p99", format::maybe_millis(activity.latency_p99_ms)))
            (card("Tokens", format::count(activity.prompt_tokens + activity.completion_tokens)))
            (card("Cost", format::usd(cost.total_cost())))
        }
        div.charts {
            div.chart { div.title { "Traces" } (charts::time_chart("traces-chart", &[series("traces", |b| Some(b.traces as f64))], &axis, Unit::Count, true)) }
            div.chart {
                div.title { "Latency of root spans" }
                (charts::time_chart("latency-chart", &[series("p50", |b| b.latency_p50_ms), series("p99", |b| b.latency_p99_ms)], &axis, Unit::Millis, false))
            }
            div.chart { div.title { "Errored spans" } (charts::time_chart("errors-chart", &[series("errors", |b| Some(b.errors as f64))], &axis, Unit::Count, true)) }
        }
        nav.tabs {
            @for (t, label) in [(Tab::Traces, "Traces"), (Tab::Spans, "Spans"), (Tab::Sessions, "Sessions")] {
                a.active[t == tab] href=(view.href(t, view.sort, view.descending, None)) { (label) }
            }
        }
        form.toolbar #filter-form method="get" action=(format!("/projects/{}", project.id)) {
            input type="hidden" name="tab" value=(tab_key(tab));
            input type="hidden" name="sort" value=(sort_key(view.sort));
            input type="hidden" name="order" value=(if view.descending { "desc" } else { "asc" });
            div.grow {
                input.filter.invalid[parsed.is_err()] type="search" name="filter" value=(view.filter) data-filter-input
                    data-suggest=(completions(tab, &vocabulary))
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
    Ok(shell(&project.name, Section::Projects, &caller, body))
}

/// What the filter box completes, as a JSON list for the page's script: the tab's fields, the
/// attribute keys and annotation names seen in the project, and the trace tab's `any()`/`all()`.
fn completions(tab: Tab, vocabulary: &FilterVocabulary) -> String {
    let mut words: Vec<String> = match tab {
        Tab::Traces => Filter::field_names(Grain::Trace).into_iter().chain(Filter::field_names(Grain::Span)).map(String::from).collect(),
        Tab::Spans => Filter::field_names(Grain::Span).into_iter().map(String::from).collect(),
        Tab::Sessions => Filter::field_names(Grain::Session).into_iter().map(String::from).collect(),
    };
    if tab != Tab::Sessions {
        words.extend(vocabulary.attribute_keys.iter().cloned());
        for name in &vocabulary.annotation_names {
            let quoted = name.replace('\\', "\\\\").replace('\'', "\\'");
            words.extend(["label", "score"].map(|field| format!("evals['{quoted}'].{field}")));
        }
    }
    if tab != Tab::Spans {
        words.extend(["any(s.span_kind == 'LLM' for s in spans)", "all(s.status_code != 'ERROR' for s in spans)"].map(String::from));
    }
    words.sort();
    words.dedup();
    serde_json::to_string(&words).unwrap_or_else(|_| "[]".into())
}

fn placeholder(tab: Tab) -> &'static str {
    match tab {
        Tab::Traces => "e.g. 'error' in output.value (root spans), num_spans >= 5 or any(s.span_kind == 'TOOL' for s in spans)",
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

async fn traces_table(
    state: &AppState,
    caller: &Caller,
    view: &View<'_>,
    condition: Option<Filter>,
    cursor: Option<i64>,
) -> UiResult<Markup> {
    let query = RootSpanQuery {
        start_time: Some(view.range.start),
        end_time: Some(view.range.end),
        condition,
        sort: view.sort,
        descending: view.descending,
    };
    let roots = state.services.spans().list_roots(caller, ProjectRef::Id(view.project.id), &query, cursor, PAGE_SIZE).await?;
    let costs = state.services.costs().of_traces_of(&roots.items).await?;
    let annotations = chips_of_traces(state, caller, view.project.id, &roots.items).await?;
    Ok(html! {
        table.grid #traces {
            thead { tr {
                th { (view.sort_heading("Start time", RootSpanSort::StartTime)) } th { "Root span" } th { "Input" } th { "Output" }
                th.num { (view.sort_heading("Latency", RootSpanSort::Latency)) } th.num { (view.sort_heading("Tokens", RootSpanSort::Tokens)) }
                th.num { "Cost" } th { "Status" }
            } }
            tbody {
                @for root in &roots.items {
                    @let span = &root.span;
                    @let href = format!("/projects/{}/traces/{}", view.project.id, span.trace_id);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        td { a href=(href) title=(format::precise(span.start_time)) { (format::local_time(span.start_time)) } }
                        td {
                            (span.name) " " span.kind { (span.span_kind.as_str()) }
                            @if let Some(chips) = annotations.get(&span.trace_id) { div.chips { @for annotation in chips { (annotation_panel::chip(annotation)) } } }
                        }
                        td.preview { (format::preview(&attribute_text(span, "input.value"), 120)) }
                        td.preview { (format::preview(&attribute_text(span, "output.value"), 120)) }
                        td.num { (format::span_of(span.start_time, span.end_time)) }
                        td.num { (format::count(root.cumulative_llm_token_count_prompt + root.cumulative_llm_token_count_completion)) }
                        td.num { (costs.get(&root.trace_rowid).map_or_else(|| "–".to_string(), |c| format::usd(c.total_cost()))) }
                        td { (status_badge(root)) @if root.cumulative_error_count > 0 && span.status_code != ember_core::StatusCode::Error {
                            " " span.error-text title="errors in descendant spans" { (root.cumulative_error_count) " ✗" } } }
                    }
                }
            }
        }
        @if roots.items.is_empty() { p.muted { "No traces in this range match." } }
        (pager(view, roots.next_cursor, cursor.is_some()))
    })
}

/// The annotations of each listed trace and of its root span, by trace id, notes left out: two
/// queries for the page.
async fn chips_of_traces(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
    roots: &[SpanRecord],
) -> UiResult<HashMap<String, Vec<AnnotationRecord>>> {
    let annotations = state.services.annotations();
    let project = ProjectRef::Id(project_id);
    let trace_ids: Vec<String> = roots.iter().map(|root| root.span.trace_id.clone()).collect();
    let root_of: HashMap<String, String> = roots.iter().map(|root| (root.span.span_id.clone(), root.span.trace_id.clone())).collect();
    let mut chips: HashMap<String, Vec<AnnotationRecord>> = HashMap::new();
    for annotation in annotations.of_targets(caller, AnnotationTarget::Trace, project, trace_ids, CHIPS_PER_PAGE).await? {
        chips.entry(annotation.target_id.clone()).or_default().push(annotation);
    }
    let root_ids = root_of.keys().cloned().collect();
    for annotation in annotations.of_targets(caller, AnnotationTarget::Span, project, root_ids, CHIPS_PER_PAGE).await? {
        if let Some(trace_id) = root_of.get(&annotation.target_id) {
            chips.entry(trace_id.clone()).or_default().push(annotation);
        }
    }
    for list in chips.values_mut() {
        list.retain(|annotation| annotation.name != NOTE_NAME);
    }
    Ok(chips)
}

async fn spans_table(
    state: &AppState,
    caller: &Caller,
    view: &View<'_>,
    condition: Option<Filter>,
    cursor: Option<i64>,
) -> UiResult<Markup> {
    let filters = SpanFilters {
        parent_id: if view.all_spans { None } else { Some(None) },
        start_time: Some(view.range.start),
        end_time: Some(view.range.end),
        condition,
        ..SpanFilters::default()
    };
    let spans: Page<SpanRecord> = state.services.spans().list(caller, ProjectRef::Id(view.project.id), &filters, cursor, PAGE_SIZE).await?;
    let can_write = caller.require_write().is_ok();
    Ok(html! {
        @if can_write { form #spans-to-dataset method="post" action=(format!("/projects/{}/dataset-examples", view.project.id)) {} }
        table.grid #spans {
            thead { tr {
                @if can_write { th { span.muted { "Select" } } }
                th { "Start time" } th { "Name" } th { "Kind" } th { "Input" } th { "Output" } th.num { "Latency" } th.num { "Tokens" } th { "Status" }
            } }
            tbody {
                @for record in &spans.items {
                    @let span = &record.span;
                    @let href = format!("/projects/{}/traces/{}?span={}", view.project.id, span.trace_id, span.span_id);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        @if can_write { td { input type="checkbox" name="span_id" value=(span.span_id) form="spans-to-dataset" aria-label=(format!("select span {}", span.span_id)); } }
                        td { a href=(href) title=(format::precise(span.start_time)) { (format::local_time(span.start_time)) } }
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
        @else if can_write {
            div.toolbar {
                label for="dataset-name" { "Add the selected spans to dataset" }
                input #dataset-name type="text" name="dataset" form="spans-to-dataset" required placeholder="dataset name (new or existing)";
                button type="submit" form="spans-to-dataset" { "Add to dataset" }
            }
        }
        (pager(view, spans.next_cursor, cursor.is_some()))
    })
}

async fn sessions_table(
    state: &AppState,
    caller: &Caller,
    view: &View<'_>,
    condition: Option<&Filter>,
    cursor: Option<i64>,
) -> UiResult<Markup> {
    let sessions = state.services.sessions().list(caller, ProjectRef::Id(view.project.id), condition, cursor, PAGE_SIZE, false).await?;
    let costs = state.services.costs().of_sessions(&sessions.items).await?;
    Ok(html! {
        table.grid #sessions {
            thead { tr { th { "Session" } th { "Started" } th.num { "Traces" } th.num { "Duration" } th.num { "Tokens" } th.num { "Cost" } } }
            tbody {
                @for session in &sessions.items {
                    @let href = format!("/projects/{}/sessions/{}", view.project.id, session.rowid);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        td.mono { a href=(href) { (session.session_id) } }
                        td { (format::local_time(session.start_time)) }
                        td.num { (session.traces.len()) }
                        td.num { (format::span_of(session.start_time, session.end_time)) }
                        td.num { (format::count(session.token_count_prompt + session.token_count_completion)) }
                        td.num { (costs.get(&session.rowid).map_or_else(|| "–".to_string(), |c| format::usd(c.total_cost()))) }
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
            @if paged { a href=(view.href(view.tab, view.sort, view.descending, None)) { "← First page" } }
            @if let Some(next) = next { a #next-page href=(view.href(view.tab, view.sort, view.descending, Some(next))) { "Next page →" } }
        }
    }
}
