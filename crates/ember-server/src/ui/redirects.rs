//! Phoenix's links, opened in ember: the pages Phoenix's clients and notifications link to
//! (`/redirects/spans/<span_id>`, `/redirects/traces/<trace_id>`, `/redirects/sessions/<id>`,
//! a dataset's `/experiments`, a project's `/spans` and `/sessions`) redirect to ember's page
//! for the same thing. Ids may be rowids or GlobalIDs (see `ids`).

use axum::extract::{Path, State};
use axum::response::Redirect;

use super::error::{UiError, UiResult};
use super::ids::{DatasetPage, PageId, ProjectPage, UiPath};
use crate::authentication::RequestCaller;
use crate::AppState;

/// A span's trace page, with the span selected.
pub async fn span(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(span_id): Path<String>) -> UiResult<Redirect> {
    let span = state.services.spans().by_otel_id(&caller, &span_id).await?;
    let span = span.ok_or_else(|| UiError::not_found(format!("There is no span {span_id}.")))?;
    Ok(Redirect::to(&format!("/projects/{}/traces/{}?span={}", span.project_id, span.span.trace_id, span.span.span_id)))
}

pub async fn trace(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(trace_id): Path<String>,
) -> UiResult<Redirect> {
    let trace = state.services.traces().resolve(&caller, &trace_id).await?;
    Ok(Redirect::to(&format!("/projects/{}/traces/{}", trace.project_id, trace.trace_id)))
}

/// A session's page (by `session.id` or GlobalID).
pub async fn session(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(session_id): Path<String>,
) -> UiResult<Redirect> {
    let session = state.services.sessions().resolve(&caller, &session_id).await?;
    Ok(Redirect::to(&format!("/projects/{}/sessions/{}", session.project_id, session.rowid)))
}

pub async fn dataset_experiments(UiPath(PageId(dataset_id, ..)): UiPath<PageId<DatasetPage>>) -> Redirect {
    Redirect::to(&format!("/datasets/{dataset_id}?tab=experiments"))
}

pub async fn project_traces(UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>) -> Redirect {
    Redirect::to(&format!("/projects/{project_id}"))
}

pub async fn project_spans(UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>) -> Redirect {
    Redirect::to(&format!("/projects/{project_id}?tab=spans"))
}

pub async fn project_sessions(UiPath(PageId(project_id, ..)): UiPath<PageId<ProjectPage>>) -> Redirect {
    Redirect::to(&format!("/projects/{project_id}?tab=sessions"))
}
