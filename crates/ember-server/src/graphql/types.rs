//! GraphQL object types: spans, span annotations, projects, and the Relay `Node` interface.

use async_graphql::{Context, Interface, Json, Object, Result, ID};
use ember_core::time::format_nanos;
use ember_core::{GlobalId, GlobalType};
use ember_store::{AnnotationRecord, Project, SpanRecord};
use serde_json::Value;

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

    async fn span_annotations(&self, context: &Context<'_>) -> Result<Vec<SpanAnnotation>> {
        let (services, caller) = super::context(context)?;
        let records = services.annotations().of_span(caller, self.0.rowid).await.map_err(super::graphql_error)?;
        Ok(records.into_iter().map(|record| SpanAnnotation { record, span_rowid: self.0.rowid }).collect())
    }
}

pub struct SpanAnnotation {
    pub record: AnnotationRecord,
    pub span_rowid: i64,
}

#[Object]
impl SpanAnnotation {
    async fn id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::SpanAnnotation, self.record.rowid))
    }

    async fn name(&self) -> &str {
        &self.record.name
    }

    async fn annotator_kind(&self) -> &str {
        self.record.annotator_kind.as_str()
    }

    async fn label(&self) -> Option<&str> {
        self.record.label.as_deref()
    }

    async fn score(&self) -> Option<f64> {
        self.record.score
    }

    async fn explanation(&self) -> Option<&str> {
        self.record.explanation.as_deref()
    }

    async fn metadata(&self) -> Json<Value> {
        Json(self.record.metadata.clone())
    }

    async fn source(&self) -> &str {
        self.record.source.as_str()
    }

    async fn identifier(&self) -> &str {
        &self.record.identifier
    }

    async fn created_at(&self) -> String {
        format_nanos(self.record.created_at)
    }

    async fn updated_at(&self) -> String {
        format_nanos(self.record.updated_at)
    }

    /// The annotated span's GlobalID.
    async fn span_id(&self) -> ID {
        ID(GlobalId::encode(GlobalType::Span, self.span_rowid))
    }
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
}

/// Relay's `Node`: anything addressed by a GlobalID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Span(Span),
    SpanAnnotation(SpanAnnotation),
    Project(ProjectNode),
}
