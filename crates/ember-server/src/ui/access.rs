//! Admins' pages for per-project access and the audit log: `/projects/{id}/access` (restrict or
//! open a project, grant it to users and roles, revoke a grant) and `/audit` (sign-ins and
//! changes to users, keys and access, newest first). Every rule is the access and audit
//! services'; these pages render forms and outcomes.

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Response};
use ember_core::time::format_nanos;
use ember_service::ProjectRef;
use ember_store::GrantSubject;
use maud::{html, Markup};
use serde::Deserialize;

use super::account::{notices, shown, PageQuery};
use super::error::UiResult;
use super::ids::{PageId, ProjectPage, UiPath};
use super::layout::{shell, Section};
use super::redirect_with as to;
use crate::authentication::RequestCaller;
use crate::AppState;

fn access_path(project_id: i64) -> String {
    format!("/projects/{project_id}/access")
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>,
    Query(query): Query<PageQuery>,
) -> UiResult<Markup> {
    let project = state.services.projects().resolve(&caller, ProjectRef::Id(project_id)).await?;
    let access = state.services.access().get(&caller, ProjectRef::Id(project_id)).await?;
    let users = state.services.users().list_people(&caller, None, 1000).await?.items;
    let email_of =
        |user_id: i64| users.iter().find(|user| user.id == user_id).map_or_else(|| format!("user {user_id}"), |user| user.email.clone());
    let path = access_path(project_id);
    let body = html! {
        h1 { "Access to " a href=(format!("/projects/{project_id}")) { (project.name) } }
        (notices(&query))
        @if access.restricted {
            p { "Restricted: only admins and the users and roles below reach this project." }
        } @else {
            p { "Open: every user reaches this project as their role allows. Restrict it to name who may." }
        }
        form.inline method="post" action=(format!("{path}/restricted")) {
            input type="hidden" name="restricted" value=(if access.restricted { "false" } else { "true" });
            button.primary type="submit" { (if access.restricted { "Open to everyone" } else { "Restrict" }) }
        }
        h2 { "Grants" }
        p.muted { "VIEWER reads; MEMBER reads and writes. A grant never gives more than the user's own role." }
        @if access.grants.is_empty() { p.muted { "No grants." } } @else {
            table.grid #grants {
                thead { tr { th { "Who" } th { "Level" } th {} } }
                tbody {
                    @for (index, grant) in access.grants.iter().enumerate() {
                        tr {
                            td { @match &grant.subject { GrantSubject::User(user_id) => (email_of(*user_id)), GrantSubject::Role(role) => { "everyone with the role " (role) } } }
                            td { (grant.level) }
                            td {
                                form.inline method="post" action=(format!("{path}/grants/{index}/delete")) {
                                    button.small.danger type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.toolbar #new-grant method="post" action=(format!("{path}/grants")) {
            input type="text" name="subject" placeholder="user email, MEMBER or VIEWER" required aria-label="User email or role" list="people";
            datalist #people { @for user in &users { option value=(user.email) {} } option value="MEMBER" {} option value="VIEWER" {} }
            select name="level" aria-label="Level" { option value="VIEWER" { "VIEWER" } option value="MEMBER" { "MEMBER" } }
            button.primary type="submit" { "Grant" }
        }
    };
    Ok(shell("Project access", Section::Projects, &caller, body))
}

#[derive(Debug, Deserialize)]
pub struct RestrictedForm {
    restricted: bool,
}

pub async fn set_restricted(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>,
    Form(form): Form<RestrictedForm>,
) -> Response {
    let outcome = state.services.access().set_restricted(&caller, ProjectRef::Id(project_id), form.restricted).await;
    finish(project_id, outcome.map(|_| if form.restricted { "The project is restricted." } else { "The project is open to everyone." }))
}

#[derive(Debug, Deserialize)]
pub struct GrantForm {
    subject: String,
    level: String,
}

pub async fn grant(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>,
    Form(form): Form<GrantForm>,
) -> Response {
    let outcome = state.services.access().grant(&caller, ProjectRef::Id(project_id), &form.subject, &form.level).await;
    finish(project_id, outcome.map(|_| "Granted."))
}

pub async fn revoke(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath((PageId(project_id, ..), index)): UiPath<(PageId<ProjectPage>, usize)>,
) -> Response {
    let outcome = state.services.access().revoke(&caller, ProjectRef::Id(project_id), index).await;
    finish(project_id, outcome.map(|_| "Revoked."))
}

fn finish(project_id: i64, outcome: ember_service::Result<&'static str>) -> Response {
    match outcome {
        Ok(notice) => to(&access_path(project_id), "notice", notice).into_response(),
        Err(error) => to(&access_path(project_id), "error", &shown(&error)).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

/// The audit log, 100 entries a page.
pub async fn audit(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Query(query): Query<AuditQuery>,
) -> UiResult<Markup> {
    let page = state.services.audit().list(&caller, query.before, 100).await?;
    let body = html! {
        h1 { "Audit log" }
        p.muted { "Sign-ins and changes to users, API keys and project access, newest first (UTC)." }
        table.grid #audit {
            thead { tr { th { "When" } th { "Who" } th { "What" } th { "Details" } } }
            tbody {
                @for entry in &page.items {
                    tr {
                        td { (format_nanos(entry.at)) }
                        td { @if let Some(actor) = entry.actor_user_id { "user " (actor) } @else { span.muted { "nobody signed in" } } }
                        td { (entry.action.replace('_', " ")) }
                        td { code { (entry.detail) } }
                    }
                }
            }
        }
        @if let Some(next) = page.next_cursor { a href=(format!("/audit?before={next}")) { "Older" } }
    };
    Ok(shell("Audit log", Section::Users, &caller, body))
}
