//! Annotation objects: `SpanAnnotation`, `TraceAnnotation`, `ProjectSessionAnnotation` and
//! `DocumentAnnotation`, with the fields Phoenix's schema gives them. `user` is the author (null
//! when nobody signed in wrote it).

use async_graphql::{Context, Json, Object, Result, ID};
use ember_core::time::format_nanos;
use ember_core::{GlobalId, GlobalType};
use ember_store::AnnotationRecord;
use serde_json::Value;

use super::authors::author;
use super::traces::Trace;
use super::types::Span;
use super::users::User;
use super::{context, graphql_error};

/// One stored annotation, the row id of what it annotates, and a document's position.
pub struct Annotated {
    pub record: AnnotationRecord,
    pub target_rowid: i64,
    pub position: Option<i64>,
}

/// The fields every annotation object has, the id of what it annotates under `$target`, and any
/// fields of its own.
macro_rules! annotation_object {
    ($name:ident, $global:expr, $target:ident, $target_type:expr $(, $extra:item)*) => {
        pub struct $name(pub Annotated);

        #[Object]
        impl $name {
            pub async fn id(&self) -> ID {
                ID(GlobalId::encode($global, self.0.record.rowid))
            }

            async fn name(&self) -> &str {
                &self.0.record.name
            }

            async fn annotator_kind(&self) -> &str {
                self.0.record.annotator_kind.as_str()
            }

            async fn label(&self) -> Option<&str> {
                self.0.record.label.as_deref()
            }

            async fn score(&self) -> Option<f64> {
                self.0.record.score
            }

            async fn explanation(&self) -> Option<&str> {
                self.0.record.explanation.as_deref()
            }

            async fn metadata(&self) -> Json<Value> {
                Json(self.0.record.metadata.clone())
            }

            async fn source(&self) -> &str {
                self.0.record.source.as_str()
            }

            async fn identifier(&self) -> &str {
                &self.0.record.identifier
            }

            async fn created_at(&self) -> String {
                format_nanos(self.0.record.created_at)
            }

            async fn updated_at(&self) -> String {
                format_nanos(self.0.record.updated_at)
            }

            async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
                author(ctx, self.0.record.user_id).await
            }

            async fn $target(&self) -> ID {
                ID(GlobalId::encode($target_type, self.0.target_rowid))
            }

            $($extra)*
        }
    };
}

annotation_object!(
    SpanAnnotation,
    GlobalType::SpanAnnotation,
    span_id,
    GlobalType::Span,
    /// The annotated span (null once it is gone).
    async fn span(&self, ctx: &Context<'_>) -> Result<Option<Span>> {
        let (services, caller) = context(ctx)?;
        Ok(services.spans().by_rowid(caller, self.0.target_rowid).await.map_err(graphql_error)?.map(Span))
    }
);
annotation_object!(
    TraceAnnotation,
    GlobalType::TraceAnnotation,
    trace_id,
    GlobalType::Trace,
    /// The annotated trace (null once it is gone).
    async fn trace(&self, ctx: &Context<'_>) -> Result<Option<Trace>> {
        let (services, caller) = context(ctx)?;
        Ok(services.traces().by_rowid(caller, self.0.target_rowid).await.map_err(graphql_error)?.map(Trace::from))
    }
);
annotation_object!(ProjectSessionAnnotation, GlobalType::ProjectSessionAnnotation, project_session_id, GlobalType::ProjectSession);

annotation_object!(
    DocumentAnnotation,
    GlobalType::DocumentAnnotation,
    span_id,
    GlobalType::Span,
    async fn document_position(&self) -> i64 {
        self.0.position.unwrap_or_default()
    }
);
