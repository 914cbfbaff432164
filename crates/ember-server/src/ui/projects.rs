//! The projects page: every project with its activity over a time range; create and delete.

use axum::extract::{Form, Path, Query, State};
use axum::response::Redirect;
use ember_store::{ActivityWindow, StoreError};
use maud::{html, Markup};
use serde::Deserialize;

use super::charts;
use super::error::{UiError, UiResult};
use super::format;
use super::layout::{shell, Section};
use super::window::TimeRange;
use crate::AppState;

const PAGE_SIZE: usize = 50;
const SPARK_BINS: usize = 24;

#[derive(Debug, Default, Deserialize)]
pub struct ProjectsQuery {
    range: Option<String>,
    cursor: Option<String>,
    error: Option<String>,
}

pub async fn page(State(state): State<AppState>, Query(query): Query<ProjectsQuery>) -> UiResult<Markup> {
    let cursor = query.cursor.as_deref().map(|c| c.parse::<i64>().map_err(|_| UiError::bad_request("The page cursor is not a number.")));
    let projects = state.store.list_projects(cursor.transpose()?, PAGE_SIZE, None, false).await?;
    let ids: Vec<i64> = projects.items.iter().map(|p| p.id).collect();
    let range = TimeRange::from_key(query.range.as_deref(), &state.store, &ids).await?;
    let window = ActivityWindow { start: range.start, end: range.end, bins: SPARK_BINS, latency_per_bin: false };
    let activity = state.store.project_activity(&ids, window).await?;
    let last = state.store.last_trace_starts(&ids).await?;
    let body = html! {
        h1 { "Projects" }
        p.muted { "Counts cover whole hours of the range; latency is of root spans (within about 10 %)." }
        form.toolbar method="get" action="/projects" {
            (range.picker())
            button type="submit" { "Apply" }
        }
        @if let Some(error) = &query.error {
            p.notice.error { (error) }
        }
        table.grid #projects {
            thead { tr {
                th { "Project" } th.num { "Traces" } th.num { "Spans" } th.num { "Errors" } th.num { "Latency p50" }
                th.num { "p99" } th.num { "Tokens" } th { "Last trace" } th { "Traces over time" } th {}
            } }
            tbody {
                @for project in &projects.items {
                    @let stats = activity.get(&project.id).cloned().unwrap_or_default();
                    @let href = format!("/projects/{}?range={}", project.id, range.key);
                    tr data-href=(href) data-nav-row tabindex="-1" {
                        td { a href=(href) { (project.name) } @if let Some(d) = &project.description { div.muted { (format::preview(d, 80)) } } }
                        td.num { (format::count(stats.traces)) }
                        td.num { (format::count(stats.spans)) }
                        td.num.error-text[stats.errors > 0] { (format::percent(stats.errors, stats.spans)) }
                        td.num { (format::maybe_millis(stats.latency_p50_ms)) }
                        td.num { (format::maybe_millis(stats.latency_p99_ms)) }
                        td.num title=(format!("{} prompt, {} completion", stats.prompt_tokens, stats.completion_tokens)) {
                            (format::count(stats.prompt_tokens + stats.completion_tokens))
                        }
                        td { @match last.get(&project.id) { Some(t) => time datetime=(format::precise(*t)) { (format::timestamp(*t)) }, None => span.muted { "never" } } }
                        td { (charts::sparkline(&stats.bins.iter().map(|b| b.traces).collect::<Vec<_>>())) }
                        td {
                            form.inline method="post" action=(format!("/projects/{}/delete", project.id))
                                data-confirm=(format!("Delete project {} with all its traces?", project.name)) {
                                button.small.danger type="submit" title="Delete the project and its traces" { "Delete" }
                            }
                        }
                    }
                }
            }
        }
        @if projects.items.is_empty() { p.muted { "No projects yet: send traces over OTLP, or create one below." } }
        @if let Some(next) = projects.next_cursor {
            div.pager { a href=(format!("/projects?range={}&cursor={next}", range.key)) { "Next page →" } }
        }
        h2 { "New project" }
        form.toolbar #new-project method="post" action="/projects" {
            input type="text" name="name" placeholder="name" required aria-label="Project name";
            input.grow type="text" name="description" placeholder="description (optional)" aria-label="Description";
            button.primary type="submit" { "Create" }
        }
    };
    Ok(shell("Projects", Section::Projects, body))
}

#[derive(Debug, Deserialize)]
pub struct NewProject {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create(State(state): State<AppState>, Form(form): Form<NewProject>) -> UiResult<Redirect> {
    let name = form.name.trim();
    if name.is_empty() {
        return Ok(Redirect::to("/projects?error=A+project+needs+a+name."));
    }
    let description = Some(form.description.trim()).filter(|d| !d.is_empty());
    match state.store.create_project(name, description).await {
        Ok(project) => Ok(Redirect::to(&format!("/projects/{}", project.id))),
        Err(StoreError::Conflict(_)) => {
            let message = format!("A project named {name} already exists.");
            Ok(Redirect::to(&format!(
                "/projects?error={}",
                percent_encoding::utf8_percent_encode(&message, percent_encoding::NON_ALPHANUMERIC)
            )))
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn delete(State(state): State<AppState>, Path(project_id): Path<i64>) -> UiResult<Redirect> {
    if !state.store.delete_project(project_id).await? {
        return Err(UiError::not_found(format!("There is no project {project_id}.")));
    }
    Ok(Redirect::to("/projects"))
}
