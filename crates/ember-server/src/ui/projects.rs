//! The projects page: every project with its activity over a time range; create and delete.

use axum::extract::{Form, Path, Query, State};
use axum::response::Redirect;
use ember_core::ErrorCode;
use ember_service::projects::{is_deletable, ProjectListQuery};
use ember_service::ProjectRef;
use ember_store::ActivityWindow;
use maud::{html, Markup};
use serde::Deserialize;

use super::charts;
use super::error::{UiError, UiResult};
use super::format;
use super::layout::{shell, Section};
use super::window::TimeRange;
use crate::authentication::RequestCaller;
use crate::AppState;

const PAGE_SIZE: usize = 50;
const SPARK_BINS: usize = 24;

#[derive(Debug, Default, Deserialize)]
pub struct ProjectsQuery {
    range: Option<String>,
    cursor: Option<String>,
    error: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Query(query): Query<ProjectsQuery>,
) -> UiResult<Markup> {
    let cursor = query.cursor.as_deref().map(|c| c.parse::<i64>().map_err(|_| UiError::bad_request("The page cursor is not a number.")));
    let service = state.services.projects();
    let projects = service.list(&caller, &ProjectListQuery { cursor: cursor.transpose()?, limit: PAGE_SIZE, ..Default::default() }).await?;
    let ids: Vec<i64> = projects.items.iter().map(|p| p.id).collect();
    let range = TimeRange::from_key(query.range.as_deref(), &state.services, &caller, &ids).await?;
    let window = ActivityWindow { start: range.start, end: range.end, bins: SPARK_BINS, latency_per_bin: false };
    let activity = service.activity(&caller, &ids, window).await?;
    let last = service.last_trace_starts(&caller, &ids).await?;
    let (can_write, can_administer) = (caller.require_write().is_ok(), caller.require_admin().is_ok());
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
                        td { @match last.get(&project.id) { Some(t) => (format::local_time(*t)), None => span.muted { "never" } } }
                        td { (charts::sparkline(&stats.bins.iter().map(|b| b.traces).collect::<Vec<_>>())) }
                        td {
                            @if can_administer && is_deletable(project) {
                                form.inline method="post" action=(format!("/projects/{}/delete", project.id))
                                    data-confirm=(format!("Delete project {} with all its traces?", project.name)) {
                                    button.small.danger type="submit" title="Delete the project and its traces" { "Delete" }
                                }
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
        @if can_write {
            h2 { "New project" }
            form.toolbar #new-project method="post" action="/projects" {
                input type="text" name="name" placeholder="name" required aria-label="Project name";
                input.grow type="text" name="description" placeholder="description (optional)" aria-label="Description";
                button.primary type="submit" { "Create" }
            }
        }
    };
    Ok(shell("Projects", Section::Projects, &caller, body))
}

#[derive(Debug, Deserialize)]
pub struct NewProject {
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Form(form): Form<NewProject>,
) -> UiResult<Redirect> {
    let description = Some(form.description.trim()).filter(|d| !d.is_empty());
    match state.services.projects().create(&caller, &form.name, description).await {
        Ok(project) => Ok(Redirect::to(&format!("/projects/{}", project.id))),
        Err(error) if error.code() == ErrorCode::Conflict => {
            Ok(with_error(&format!("A project named {} already exists.", form.name.trim())))
        }
        Err(error) if error.field_error().is_some() => Ok(with_error("A project needs a name.")),
        Err(error) => Err(error.into()),
    }
}

fn with_error(message: &str) -> Redirect {
    Redirect::to(&format!("/projects?error={}", percent_encoding::utf8_percent_encode(message, percent_encoding::NON_ALPHANUMERIC)))
}

/// Deletes a project; the `default` project is refused (403), as over REST.
pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project_id): Path<i64>,
) -> UiResult<Redirect> {
    state.services.projects().delete(&caller, ProjectRef::Id(project_id)).await?;
    Ok(Redirect::to("/projects"))
}
