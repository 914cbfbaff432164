//! `Trace` and `ProjectSession`: a trace's project, session, spans and annotations; a session's
//! project, traces and annotations, with the fields Phoenix's schema gives them.

use async_graphql::connection::Connection;
use async_graphql::{Context, Object, Result, ID};
use ember_core::time::format_nanos;
use ember_core::{AnnotationTarget, GlobalId, GlobalType};
use ember_store::{SessionRecord, TraceRecord};

use super::annotations::{Annotated, ProjectSessionAnnotation, TraceAnnotation};
use super::connection::{edges_wanted, positional};
use super::types::{ProjectNode, Span};
use super::{context, graphql_error};

/// What a trace object reads: a stored trace, or one of a session's traces.
pub struct Trace {
    rowid: i64,
    trace_id: String,
    project_id: i64,
    session_rowid: Option<i64>,
    start_time: i64,
    end_time: i64,
}

impl From<TraceRecord> for Trace {
    fn from(trace: TraceRecord) -> Self {
        Trace {
            rowid: trace.rowid,
            trace_id: trace.trace_id,
            project_id: trace.project_id,
            session_rowid: trace.session_rowid,
            start_time: trace.start_time,
            end_time: trace.end_time,
        }
    }
}

#[Object]
impl Trace {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Trace, self.rowid))
    }

    async fn trace_id(&self) -> &str {
        &self.trace_id
    }

    async fn start_time(&self) -> String {
        format_nanos(self.start_time)
    }

    async fn end_time(&self) -> String {
        format_nanos(self.end_time)
    }

    async fn latency_ms(&self) -> f64 {
        (self.end_time - self.start_time) as f64 / 1e6
    }

    async fn project_id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Project, self.project_id))
    }

    async fn project(&self, ctx: &Context<'_>) -> Result<ProjectNode> {
        let (services, caller) = context(ctx)?;
        let project = services.projects().resolve(caller, ember_service::ProjectRef::Id(self.project_id)).await;
        Ok(ProjectNode(project.map_err(graphql_error)?))
    }

    async fn project_session_id(&self) -> Option<ID> {
        self.session_rowid.map(|rowid| ID(GlobalId::encode(GlobalType::ProjectSession, rowid)))
    }

    async fn session(&self, ctx: &Context<'_>) -> Result<Option<ProjectSession>> {
        let Some(rowid) = self.session_rowid else { return Ok(None) };
        let (services, caller) = context(ctx)?;
        Ok(services.sessions().by_rowid(caller, rowid).await.map_err(graphql_error)?.map(ProjectSession))
    }

    async fn num_spans(&self, ctx: &Context<'_>) -> Result<usize> {
        let (services, caller) = context(ctx)?;
        Ok(services.spans().outlines_of_trace(caller, self.rowid).await.map_err(graphql_error)?.len())
    }

    async fn root_span(&self, ctx: &Context<'_>) -> Result<Option<Span>> {
        let (services, caller) = context(ctx)?;
        let spans = services.spans().of_traces(caller, &[self.rowid]).await.map_err(graphql_error)?;
        Ok(spans.into_iter().find(|record| record.span.parent_id.is_none()).map(Span))
    }

    /// The trace's spans by start time (`rootSpansOnly` keeps those without a parent).
    async fn spans(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        root_spans_only: Option<bool>,
    ) -> Result<Connection<String, Span>> {
        let (services, caller) = context(ctx)?;
        let mut spans = services.spans().of_traces(caller, &[self.rowid]).await.map_err(graphql_error)?;
        if root_spans_only == Some(true) {
            spans.retain(|record| record.span.parent_id.is_none());
        }
        positional(spans.into_iter().map(Span).collect(), edges_wanted(first)?, after.as_deref())
    }

    async fn trace_annotations(&self, ctx: &Context<'_>) -> Result<Vec<TraceAnnotation>> {
        let (services, caller) = context(ctx)?;
        let annotations = services.annotations().of_target(caller, AnnotationTarget::Trace, self.rowid).await.map_err(graphql_error)?;
        Ok(annotations
            .into_iter()
            .map(|(record, position)| TraceAnnotation(Annotated { record, target_rowid: self.rowid, position }))
            .collect())
    }
}

pub struct ProjectSession(pub SessionRecord);

#[Object]
impl ProjectSession {
    pub async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::ProjectSession, self.0.rowid))
    }

    async fn session_id(&self) -> &str {
        &self.0.session_id
    }

    async fn start_time(&self) -> String {
        format_nanos(self.0.start_time)
    }

    async fn end_time(&self) -> String {
        format_nanos(self.0.end_time)
    }

    async fn project(&self, ctx: &Context<'_>) -> Result<ProjectNode> {
        let (services, caller) = context(ctx)?;
        let project = services.projects().resolve(caller, ember_service::ProjectRef::Id(self.0.project_id)).await;
        Ok(ProjectNode(project.map_err(graphql_error)?))
    }

    async fn num_traces(&self) -> usize {
        self.0.traces.len()
    }

    /// The session's traces by start time.
    async fn traces(&self, first: Option<i32>, after: Option<String>) -> Result<Connection<String, Trace>> {
        let traces = self
            .0
            .traces
            .iter()
            .map(|trace| Trace {
                rowid: trace.rowid,
                trace_id: trace.trace_id.clone(),
                project_id: self.0.project_id,
                session_rowid: Some(self.0.rowid),
                start_time: trace.start_time,
                end_time: trace.end_time,
            })
            .collect();
        positional(traces, edges_wanted(first)?, after.as_deref())
    }

    async fn session_annotations(&self, ctx: &Context<'_>) -> Result<Vec<ProjectSessionAnnotation>> {
        let (services, caller) = context(ctx)?;
        let annotations = services.annotations().of_target(caller, AnnotationTarget::Session, self.0.rowid).await.map_err(graphql_error)?;
        Ok(annotations
            .into_iter()
            .map(|(record, position)| ProjectSessionAnnotation(Annotated { record, target_rowid: self.0.rowid, position }))
            .collect())
    }
}
