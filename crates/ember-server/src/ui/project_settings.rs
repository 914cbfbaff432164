//! A project's settings page (`/projects/{id}/settings`, Phoenix's project config): the retention
//! policy it follows (admins choose it), its bytes and byte budget (admins set it), "clear data
//! before…" (the time-window purge, for members), and admins' link to its access. The rules are
//! the retention, storage and trace services'.

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use ember_service::ProjectRef;
use maud::{html, Markup};
use serde::Deserialize;

use super::account::{notices, shown, PageQuery};
use super::error::UiResult;
use super::ids::{PageId, ProjectPage, UiPath};
use super::layout::{shell, Section};
use super::redirect_with as to;
use super::retention::describe_rule;
use crate::authentication::RequestCaller;
use crate::AppState;

fn settings_path(project_id: i64) -> String {
    format!("/projects/{project_id}/settings")
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>,
    Query(query): Query<PageQuery>,
) -> UiResult<Markup> {
    let project = state.services.projects().resolve(&caller, ProjectRef::Id(project_id)).await?;
    let retention = state.services.retention();
    let following = retention.of_project(&caller, ProjectRef::Id(project_id)).await?;
    let policies = retention.list(&caller, None, 500).await?.items;
    let budget = state.services.storage().project_budget(&caller, ProjectRef::Id(project_id)).await?;
    let admin = caller.require_admin().is_ok();
    let can_write = caller.require_write().is_ok();
    let path = settings_path(project_id);
    let body = html! {
        div.crumbs { a href="/projects" { "Projects" } " / " a href=(format!("/projects/{project_id}")) { (project.name) } " / Settings" }
        h1 { "Settings of " (project.name) }
        (notices(&query))
        h2 { "Retention" }
        p #retention-policy {
            "Follows " strong { (following.record.name) } ": it " (describe_rule(following.record.rule)) ", on the schedule "
            code { (following.record.cron_expression) } " (UTC). "
            a href="/settings#retention" { "All policies" }
        }
        @if admin {
            form.toolbar #retention-form method="post" action=(format!("{path}/retention")) {
                select name="policy_id" aria-label="Retention policy" {
                    @for policy in &policies {
                        option value=(policy.record.id) selected[policy.record.id == following.record.id] {
                            (policy.record.name) " — " (describe_rule(policy.record.rule))
                        }
                    }
                }
                button.primary type="submit" { "Follow this policy" }
            }
        }
        h2 { "Byte budget" }
        p #byte-budget {
            "Holds about " strong { (super::format::bytes(budget.used_bytes)) } " of spans (their attributes, events and names; indexes not counted)"
            @match budget.max_bytes {
                Some(max_bytes) => { " of a budget of " strong { (super::format::bytes(max_bytes)) } ". Past it, the oldest traces are deleted, whole hours at a time, until it holds under 90 %; the charts keep counting them." }
                None => { "; no budget." }
            }
        }
        @if admin {
            form.toolbar #byte-budget-form method="post" action=(format!("{path}/byte-budget")) {
                label for="budget-mb" { "Budget (MB; empty: none)" }
                input #budget-mb type="number" name="max_mb" min="0" step="any" value=[budget.max_bytes.map(|bytes| bytes as f64 / 1e6)];
                button.primary type="submit" { "Set budget" }
            }
        }
        @if can_write {
            h2 { "Clear data" }
            p.muted { "Deletes the project's traces (with their spans, annotations and sessions left empty) that started before a time; the charts forget those hours too. This cannot be undone." }
            form.toolbar #purge-form method="post" action=(format!("{path}/purge"))
                data-confirm=(format!("Delete every trace of {} that started before this time? This cannot be undone.", project.name)) {
                label for="purge-before" { "Traces that started before (UTC)" }
                input #purge-before type="datetime-local" name="before" required step="1";
                button.danger type="submit" { "Clear data" }
            }
        }
        @if admin && state.services.auth().enabled() {
            h2 { "Access" }
            p { a href=(format!("/projects/{project_id}/access")) { "Who may reach this project" } }
        }
    };
    Ok(shell("Project settings", Section::Projects, &caller, body))
}

#[derive(Debug, Deserialize)]
pub struct RetentionForm {
    policy_id: i64,
}

pub async fn set_retention(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>,
    Form(form): Form<RetentionForm>,
) -> Response {
    let outcome = state.services.retention().set_for_project(&caller, ProjectRef::Id(project_id), Some(form.policy_id)).await;
    finish(project_id, outcome.map(|_| "The project follows the chosen policy.".to_string()))
}

#[derive(Debug, Deserialize)]
pub struct BudgetForm {
    #[serde(default)]
    max_mb: String,
}

pub async fn set_byte_budget(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>,
    Form(form): Form<BudgetForm>,
) -> Response {
    let max_bytes = match form.max_mb.trim() {
        "" => None,
        text => match text.parse::<f64>() {
            Ok(mb) if mb.is_finite() => Some((mb * 1e6).round() as i64),
            _ => return to(&settings_path(project_id), "error", &format!("{text:?} is not a number of MB")).into_response(),
        },
    };
    let outcome = state.services.storage().set_project_budget(&caller, ProjectRef::Id(project_id), max_bytes).await;
    finish(
        project_id,
        outcome.map(|budget| match budget.max_bytes {
            Some(max_bytes) => format!("The project's byte budget is {}.", super::format::bytes(max_bytes)),
            None => "The project has no byte budget.".to_string(),
        }),
    )
}

/// Back to the settings page with the outcome: a notice, or the service's message.
fn finish(project_id: i64, outcome: ember_service::Result<String>) -> Response {
    let path = settings_path(project_id);
    match outcome {
        Ok(notice) => to(&path, "notice", &notice).into_response(),
        Err(error) => to(&path, "error", &shown(&error)).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct PurgeForm {
    before: String,
}

/// A `datetime-local` field's value, read as UTC (Unix nanoseconds).
fn utc_nanos(text: &str) -> Option<i64> {
    let text = text.trim();
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .and_then(|time| time.and_utc().timestamp_nanos_opt())
}

pub async fn purge(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>,
    Form(form): Form<PurgeForm>,
) -> Response {
    let path = settings_path(project_id);
    let Some(before) = utc_nanos(&form.before) else {
        return to(&path, "error", &format!("{:?} is not a date and time such as 2026-01-31T12:00", form.before)).into_response();
    };
    match state.services.traces().purge(&caller, ProjectRef::Id(project_id), i64::MIN, before).await {
        Ok(deleted) => {
            let notice =
                format!("Deleted {deleted} trace{} that started before {} UTC.", if deleted == 1 { "" } else { "s" }, form.before.trim());
            to(&path, "notice", &notice).into_response()
        }
        Err(error) => to(&path, "error", &shown(&error)).into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn datetime_fields_read_as_utc() {
        assert_eq!(super::utc_nanos("1970-01-01T00:01"), Some(60_000_000_000));
        assert_eq!(super::utc_nanos(" 1970-01-01T00:00:02 "), Some(2_000_000_000));
        assert_eq!(super::utc_nanos("yesterday"), None);
    }
}
