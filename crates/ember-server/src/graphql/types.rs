//! GraphQL object types: spans, projects, and the Relay `Node` interface.

use async_graphql::connection::Connection;
use async_graphql::{Context, Interface, Object, Result, SimpleObject, ID};
use ember_core::time::format_nanos;
use ember_core::{semconv, AnnotationTarget, GlobalId, GlobalType};
use ember_service::ProjectRef;
use ember_store::{Project, SpanFilters, SpanRecord};
use serde_json::Value;

use super::annotations::{Annotated, DocumentAnnotation, ProjectSessionAnnotation, SpanAnnotation, TraceAnnotation};
use super::connection::{edges_wanted, keyset, resume_after};
use super::traces::{ProjectSession, Trace};
use super::{context, graphql_error};

/// A span's OpenTelemetry ids.
#[derive(SimpleObject)]
pub struct SpanContext {
    span_id: String,
    trace_id: String,
}

pub struct Span(pub SpanRecord);

#[Object]
impl Span {
    async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Span, self.0.rowid))
    }

    /// The OpenTelemetry span id (hex).
    async fn span_id(&self) -> &str {
        &self.0.span.span_id
    }

    async fn trace_id(&self) -> &str {
        &self.0.span.trace_id
    }

    async fn parent_id(&self) -> Option<&str> {
        self.0.span.parent_id.as_deref()
    }

    async fn name(&self) -> &str {
        &self.0.span.name
    }

    async fn span_kind(&self) -> &str {
        self.0.span.span_kind.as_str()
    }

    async fn status_code(&self) -> &str {
        self.0.span.status_code.as_str()
    }

    async fn start_time(&self) -> String {
        format_nanos(self.0.span.start_time)
    }

    async fn end_time(&self) -> String {
        format_nanos(self.0.span.end_time)
    }

    async fn latency_ms(&self) -> f64 {
        (self.0.span.end_time - self.0.span.start_time) as f64 / 1e6
    }

    /// The attributes as JSON text, as Phoenix returns them.
    async fn attributes(&self) -> String {
        Value::Object(self.0.span.attributes.clone()).to_string()
    }

    async fn project_id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Project, self.0.project_id))
    }

    async fn context(&self) -> SpanContext {
        SpanContext { span_id: self.0.span.span_id.clone(), trace_id: self.0.span.trace_id.clone() }
    }

    async fn status_message(&self) -> &str {
        &self.0.span.status_message
    }

    async fn token_count_prompt(&self) -> Option<i64> {
        self.0.span.attribute(semconv::LLM_TOKEN_COUNT_PROMPT).and_then(Value::as_i64)
    }

    async fn token_count_completion(&self) -> Option<i64> {
        self.0.span.attribute(semconv::LLM_TOKEN_COUNT_COMPLETION).and_then(Value::as_i64)
    }

    async fn token_count_total(&self) -> Option<i64> {
        let total = self.0.span.attribute(semconv::LLM_TOKEN_COUNT_TOTAL).and_then(Value::as_i64);
        let parts = [semconv::LLM_TOKEN_COUNT_PROMPT, semconv::LLM_TOKEN_COUNT_COMPLETION]
            .map(|key| self.0.span.attribute(key).and_then(Value::as_i64));
        total.or_else(|| parts.iter().flatten().copied().reduce(|a, b| a + b))
    }

    async fn trace(&self, ctx: &Context<'_>) -> Result<Trace> {
        let (services, caller) = context(ctx)?;
        let trace = services.traces().by_rowid(caller, self.0.trace_rowid).await.map_err(graphql_error)?;
        trace.map(Trace::from).ok_or_else(|| graphql_error(ember_service::ServiceError::internal("a span's trace is gone")))
    }

    async fn span_annotations(&self, ctx: &Context<'_>) -> Result<Vec<SpanAnnotation>> {
        let annotations = annotations_of(ctx, AnnotationTarget::Span, self.0.rowid).await?;
        Ok(annotations.into_iter().map(SpanAnnotation).collect())
    }

    /// Annotations of the span's retrieved documents.
    async fn document_evaluations(&self, ctx: &Context<'_>) -> Result<Vec<DocumentAnnotation>> {
        let annotations = annotations_of(ctx, AnnotationTarget::Document, self.0.rowid).await?;
        Ok(annotations.into_iter().map(DocumentAnnotation).collect())
    }
}

/// The annotations of one target, as the objects that show them hold them.
async fn annotations_of(ctx: &Context<'_>, target: AnnotationTarget, rowid: i64) -> Result<Vec<Annotated>> {
    let (services, caller) = context(ctx)?;
    let annotations = services.annotations().of_target(caller, target, rowid).await.map_err(graphql_error)?;
    Ok(annotations.into_iter().map(|(record, position)| Annotated { record, target_rowid: rowid, position }).collect())
}

pub struct ProjectNode(pub Project);

#[Object(name = "Project")]
impl ProjectNode {
    async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Project, self.0.id))
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The project's trace with this OpenTelemetry id, if it has one.
    async fn trace(&self, ctx: &Context<'_>, trace_id: ID) -> Result<Option<Trace>> {
        let (services, caller) = context(ctx)?;
        let trace = services.traces().in_project(caller, &self.0, &trace_id).await;
        match trace {
            Ok(trace) => Ok(Some(Trace::from(trace))),
            Err(error) if error.code() == ember_core::ErrorCode::NotFound => Ok(None),
            Err(error) => Err(graphql_error(error)),
        }
    }

    /// The project's spans, newest first.
    async fn spans(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Connection<String, Span>> {
        let (services, caller) = context(ctx)?;
        let (cursor, limit) = (resume_after(after.as_deref())?, edges_wanted(first)?);
        let page = services.spans().list(caller, ProjectRef::Id(self.0.id), &SpanFilters::default(), cursor, limit).await;
        Ok(keyset(page.map_err(graphql_error)?, |record| record.rowid, Span))
    }

    /// The project's sessions, newest first.
    async fn sessions(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<Connection<String, ProjectSession>> {
        let (services, caller) = context(ctx)?;
        let (cursor, limit) = (resume_after(after.as_deref())?, edges_wanted(first)?);
        let page = services.sessions().list(caller, ProjectRef::Id(self.0.id), None, cursor, limit, false).await;
        Ok(keyset(page.map_err(graphql_error)?, |session| session.rowid, ProjectSession))
    }
}

/// Relay's `Node`: anything addressed by a GlobalID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Span(Span),
    Trace(Trace),
    ProjectSession(ProjectSession),
    SpanAnnotation(SpanAnnotation),
    TraceAnnotation(TraceAnnotation),
    ProjectSessionAnnotation(ProjectSessionAnnotation),
    DocumentAnnotation(DocumentAnnotation),
    Project(ProjectNode),
    Dataset(super::datasets::Dataset),
    Experiment(super::experiments::Experiment),
    Prompt(super::prompts::Prompt),
    PromptVersion(super::prompts::PromptVersion),
    PromptVersionTag(super::prompts::PromptVersionTag),
    PromptLabel(super::prompts::PromptLabel),
    User(super::users::User),
    Secret(super::secrets::Secret),
}
