//! Span annotations: read them, and write one (a label, a score, an explanation).

use ember_core::{AnnotationSource, AnnotationTarget, AnnotatorKind};
use ember_service::ProjectRef;
use ember_store::{AnnotationInput, AnnotationQuery};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::limit;
use crate::mcp::EmberMcp;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListSpanAnnotations {
    /// The project's name or GlobalID.
    pub project: String,
    /// OpenTelemetry span ids.
    pub span_ids: Vec<String>,
    /// Only annotations of these names.
    #[serde(default)]
    pub names: Vec<String>,
    /// At most this many annotations, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Who made an annotation.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Annotator {
    #[default]
    Human,
    Llm,
    Code,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnnotateSpan {
    /// The span's GlobalID or OpenTelemetry span id.
    pub span: String,
    /// The annotation's name, e.g. `correctness`.
    pub name: String,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
    /// HUMAN (default), LLM or CODE.
    #[serde(default)]
    pub annotator_kind: Annotator,
    /// Annotations are kept one per (span, name, identifier): the same identifier replaces.
    #[serde(default)]
    pub identifier: String,
    /// Any JSON object kept with the annotation.
    pub metadata: Option<Map<String, Value>>,
}

/// What writing an annotation answers.
#[derive(Debug, Serialize)]
pub struct Annotated {
    /// The annotation's GlobalID.
    pub id: String,
}

#[tool_router(router = annotation_tools, vis = "pub(in crate::mcp)")]
impl EmberMcp {
    /// The annotations (evaluations, human labels, notes) of the given spans.
    #[tool(annotations(read_only_hint = true))]
    async fn list_span_annotations(
        &self,
        Parameters(args): Parameters<ListSpanAnnotations>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let query = AnnotationQuery {
                target_ids: args.span_ids.clone(),
                include_names: args.names.clone(),
                limit: limit(args.limit, 100, 1000)?,
                ..AnnotationQuery::default()
            };
            let page = services.annotations().list(caller, AnnotationTarget::Span, ProjectRef::Identifier(&args.project), &query).await?;
            Ok(crate::mcp::output::span_annotations(&page.items))
        })
        .await
    }

    /// Annotates a span with a label, a score and/or an explanation (replacing the span's
    /// annotation of the same name and identifier).
    #[tool(annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true))]
    async fn annotate_span(&self, Parameters(args): Parameters<AnnotateSpan>, context: RequestContext<RoleServer>) -> CallToolResult {
        self.run(&context, async |services, caller| {
            let span = services.spans().resolve(caller, &args.span).await?;
            let annotation = AnnotationInput {
                target_id: span.span.span_id.clone(),
                name: args.name.clone(),
                label: args.label.clone(),
                score: args.score,
                explanation: args.explanation.clone(),
                metadata: Value::Object(args.metadata.clone().unwrap_or_default()),
                annotator_kind: match args.annotator_kind {
                    Annotator::Human => AnnotatorKind::Human,
                    Annotator::Llm => AnnotatorKind::Llm,
                    Annotator::Code => AnnotatorKind::Code,
                },
                identifier: args.identifier.clone(),
                source: AnnotationSource::Api,
            };
            let ids = services.annotations().annotate(caller, AnnotationTarget::Span, &[annotation]).await?;
            let id = ids.first().copied().ok_or_else(|| ember_service::ServiceError::internal("an annotation write returned no id"))?;
            Ok(Annotated { id: ember_core::GlobalId::encode(ember_core::GlobalType::SpanAnnotation, id) })
        })
        .await
    }
}
