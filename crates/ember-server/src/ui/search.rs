//! Global search (Ctrl-K from any page): projects, datasets and prompts by name, and a trace,
//! span or session by its id, through the search service.

use axum::extract::{Query, State};
use maud::{html, Markup};
use serde::Deserialize;

use super::error::UiResult;
use super::format;
use super::layout::{shell, Section};
use crate::authentication::RequestCaller;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Query(query): Query<SearchQuery>,
) -> UiResult<Markup> {
    let found = state.services.search().find(&caller, &query.q).await?;
    let body = html! {
        h1 { "Search" }
        form.toolbar method="get" action="/search" {
            input.grow #search-page-input type="search" name="q" value=(query.q) placeholder="a project, dataset or prompt name, or a trace, span or session id" aria-label="search" autofocus;
            button.primary type="submit" { "Search" }
        }
        @if !query.q.trim().is_empty() && found.is_empty() { p.muted #no-results { "Nothing is named " strong { (query.q.trim()) } "." } }
        ul.results #search-results {
            @if let Some(trace) = &found.trace {
                li { span.kind { "trace" } " " a href=(format!("/projects/{}/traces/{}", trace.project_id, trace.trace_id)) { code { (trace.trace_id) } } " " span.muted { (format::local_time(trace.start_time)) } }
            }
            @if let Some(span) = &found.span {
                li { span.kind { "span" } " " a href=(format!("/projects/{}/traces/{}?span={}", span.project_id, span.span.trace_id, span.span.span_id)) { (span.span.name) " " code { (span.span.span_id) } } }
            }
            @if let Some(session) = &found.session {
                li { span.kind { "session" } " " a href=(format!("/projects/{}/sessions/{}", session.project_id, session.rowid)) { code { (session.session_id) } } " " span.muted { (session.traces.len()) " traces" } }
            }
            @for project in &found.projects {
                li { span.kind { "project" } " " a href=(format!("/projects/{}", project.id)) { (project.name) } }
            }
            @for dataset in &found.datasets {
                li { span.kind { "dataset" } " " a href=(format!("/datasets/{}", dataset.id)) { (dataset.name) } }
            }
            @for prompt in &found.prompts {
                li { span.kind { "prompt" } " " a href=(format!("/prompts/{}", prompt.id)) { (prompt.name) } }
            }
        }
    };
    Ok(shell("Search", Section::None, &caller, body))
}
