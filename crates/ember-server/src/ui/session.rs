//! A session: its traces as the turns of a conversation, each with latency, tokens and the
//! trace's annotations, and the annotation panel for the session itself.

use std::collections::HashMap;

use axum::extract::{Query, State};
use ember_core::AnnotationTarget;
use ember_service::ProjectRef;
use ember_store::{AnnotationRecord, SpanFilters, SpanRecord};
use maud::{html, Markup};
use serde::Deserialize;

use super::annotation_panel::{self, PanelContext, PanelTarget};

use super::error::UiResult;
use super::format;
use super::ids::{PageId, ProjectPage, SessionPage, UiPath};
use super::layout::{shell, Section};
use super::span_view::{attribute_text, rich_text, status_badge};
use crate::authentication::RequestCaller;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct SessionQuery {
    notice: Option<String>,
    error: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    UiPath((PageId(project_id, ..), PageId(session_rowid, ..))): UiPath<(PageId<ProjectPage>, PageId<SessionPage>)>,
    Query(query): Query<SessionQuery>,
) -> UiResult<Markup> {
    let services = &state.services;
    let project = services.projects().resolve(&caller, ProjectRef::Id(project_id)).await?;
    let session = services.sessions().in_project(&caller, &project, session_rowid).await?;
    let trace_ids: Vec<String> = session.traces.iter().map(|t| t.trace_id.clone()).collect();
    let (roots, annotations) = if trace_ids.is_empty() {
        (HashMap::new(), HashMap::new())
    } else {
        let filters = SpanFilters { trace_ids: trace_ids.clone(), parent_id: Some(None), ..SpanFilters::default() };
        let roots: HashMap<String, SpanRecord> = services
            .spans()
            .list(&caller, ProjectRef::Id(project_id), &filters, None, trace_ids.len() * 2)
            .await?
            .items
            .into_iter()
            .map(|r| (r.span.trace_id.clone(), r))
            .collect();
        let mut annotations: HashMap<String, Vec<AnnotationRecord>> = HashMap::new();
        let annotation_service = services.annotations();
        let of_traces =
            annotation_service.of_targets(&caller, AnnotationTarget::Trace, ProjectRef::Id(project_id), trace_ids.clone(), 1000);
        for annotation in of_traces.await? {
            annotations.entry(annotation.target_id.clone()).or_default().push(annotation);
        }
        (roots, annotations)
    };
    let project_ref = ProjectRef::Id(project_id);
    let session_annotations =
        services.annotations().of_targets(&caller, AnnotationTarget::Session, project_ref, vec![session.session_id.clone()], 200).await?;
    let configs = services.annotation_configs().offered(&caller, project_ref, 200).await?;
    let return_to = format!("/projects/{project_id}/sessions/{session_rowid}");
    let session_cost = services.costs().of_sessions(std::slice::from_ref(&session)).await?.remove(&session.rowid);
    let roots_list: Vec<SpanRecord> = roots.values().cloned().collect();
    let turn_costs = services.costs().of_traces_of(&roots_list).await?;
    let body = html! {
        div.crumbs {
            a href="/projects" { "Projects" } " / " a href=(format!("/projects/{project_id}?tab=sessions")) { (project.name) } " / session"
        }
        h1 { "Session " code { (session.session_id) } button.copy type="button" data-copy=(session.session_id) { "copy" } }
        p.muted {
            (format::local_time(session.start_time)) " · " (format::span_of(session.start_time, session.end_time)) " · "
            (session.traces.len()) " turns · " (format::count(session.token_count_prompt + session.token_count_completion)) " tokens"
            @if let Some(cost) = session_cost { " · " span #session-cost { (format::usd(cost.total_cost())) } }
        }
        div.session-layout {
        div.chat #turns {
            @for (turn, trace) in session.traces.iter().enumerate() {
                @let root = roots.get(&trace.trace_id);
                @let href = format!("/projects/{project_id}/traces/{}", trace.trace_id);
                div.turn data-nav-row data-href=(href) tabindex="-1" {
                    h3 {
                        a href=(href) { "Turn " (turn + 1) } " "
                        span.muted { (format::local_time(trace.start_time)) " · " (format::span_of(trace.start_time, trace.end_time)) }
                        @if let Some(root) = root {
                            " · " span.muted { (format::count(root.cumulative_llm_token_count_prompt + root.cumulative_llm_token_count_completion)) " tokens " }
                            @if let Some(cost) = turn_costs.get(&root.trace_rowid) { span.muted { (format::usd(cost.total_cost())) " " } }
                            (status_badge(root))
                        }
                    }
                    @if let Some(root) = root {
                        @let input = attribute_text(&root.span, "input.value");
                        @let output = attribute_text(&root.span, "output.value");
                        @if !input.is_empty() { div.msg.user { div.role { "input" } (rich_text(&input, None)) } }
                        @if !output.is_empty() { div.msg.assistant { div.role { "output" } (rich_text(&output, None)) } }
                    }
                    @for annotation in annotations.get(&trace.trace_id).map(Vec::as_slice).unwrap_or_default() {
                        div.muted.annotation {
                            strong { (annotation.name) } ": " (annotation.label.as_deref().unwrap_or(""))
                            @if let Some(score) = annotation.score { " (" (score) ")" }
                            @if let Some(explanation) = &annotation.explanation { " — " (explanation) }
                        }
                    }
                }
            }
        }
        (annotation_panel::panel(
            &PanelContext {
                project_id,
                return_to: &return_to,
                configs: &configs,
                can_write: caller.require_write().is_ok(),
                notice: query.notice.as_deref(),
                error: query.error.as_deref(),
            },
            &[PanelTarget { level: AnnotationTarget::Session, target_id: &session.session_id, title: "this session", annotations: &session_annotations }],
        ))
        }
    };
    Ok(shell(&format!("Session {}", session.session_id), Section::Projects, &caller, body))
}
