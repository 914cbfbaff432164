//! `POST /graphql`: the GraphQL operations clients use for spans and annotations — Phoenix's
//! `node(id:)`, `getSpanByOtelId`, `createSpanAnnotations`, `patchSpanAnnotations`,
//! `deleteSpanAnnotations`, and Arize AX's `updateAnnotations` (see `ax`). No GraphiQL page: it
//! would load its assets from a CDN.

mod ax;
mod types;

use async_graphql::{Context, EmptySubscription, Enum, InputObject, Json, Object, Result, Schema, SimpleObject, ID};
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ember_core::GlobalId;
use ember_store::{AnnotationInput, AnnotationPatch, AnnotationSource, AnnotatorKind, Store, StoreError};
use serde_json::Value;

use types::{Node, ProjectNode, Span, SpanAnnotation};

pub type EmberSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema over a store, with Phoenix's depth limit.
pub fn schema(store: Store) -> EmberSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription).data(store).limit_depth(20).finish()
}

pub async fn handler(Extension(schema): Extension<EmberSchema>, body: Bytes) -> Response {
    match serde_json::from_slice::<async_graphql::Request>(&body) {
        Ok(request) => axum::Json(schema.execute(request).await).into_response(),
        Err(error) => {
            (StatusCode::BAD_REQUEST, format!("the body is not a GraphQL request ({{\"query\", \"variables\"}}): {error}")).into_response()
        }
    }
}

/// Store failures as GraphQL errors: the client's own mistakes named, internal ones logged.
fn store_error(error: StoreError) -> async_graphql::Error {
    match error {
        StoreError::NotFound(message) | StoreError::Conflict(message) | StoreError::Invalid(message) => async_graphql::Error::new(message),
        other => internal(other),
    }
}

fn internal(error: impl std::fmt::Display) -> async_graphql::Error {
    tracing::error!(%error, "graphql request failed");
    async_graphql::Error::new("an internal error occurred")
}

fn rowid_of(id: &ID, type_name: &str) -> Result<i64> {
    GlobalId::decode_as(id, type_name).ok_or_else(|| async_graphql::Error::new(format!("{:?} is not a {type_name} id", id.as_str())))
}

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// Any object by its GlobalID.
    async fn node(&self, context: &Context<'_>, id: ID) -> Result<Node> {
        let store = context.data::<Store>()?;
        let global = GlobalId::decode(&id).ok_or_else(|| async_graphql::Error::new(format!("{:?} is not a GlobalID", id.as_str())))?;
        let missing = || async_graphql::Error::new(format!("no {} with id {}", global.type_name, global.rowid));
        match global.type_name.as_str() {
            "Span" => Ok(Node::Span(Span(store.get_span(Some(global.rowid), None).await.map_err(store_error)?.ok_or_else(missing)?))),
            "SpanAnnotation" => {
                let (record, span_rowid) = store.get_span_annotation(global.rowid).await.map_err(store_error)?.ok_or_else(missing)?;
                Ok(Node::SpanAnnotation(SpanAnnotation { record, span_rowid }))
            }
            "Project" => Ok(Node::Project(ProjectNode(store.get_project(global.rowid).await.map_err(store_error)?.ok_or_else(missing)?))),
            other => Err(async_graphql::Error::new(format!("ember does not serve {other} nodes"))),
        }
    }

    /// A span by its OpenTelemetry id.
    async fn get_span_by_otel_id(&self, context: &Context<'_>, span_id: String) -> Result<Option<Span>> {
        let store = context.data::<Store>()?;
        Ok(store.get_span(None, Some(&span_id)).await.map_err(store_error)?.map(Span))
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AnnotatorKind")]
pub enum AnnotatorKindValue {
    #[graphql(name = "LLM")]
    Llm,
    #[graphql(name = "CODE")]
    Code,
    #[graphql(name = "HUMAN")]
    Human,
}

impl From<AnnotatorKindValue> for AnnotatorKind {
    fn from(kind: AnnotatorKindValue) -> Self {
        match kind {
            AnnotatorKindValue::Llm => AnnotatorKind::Llm,
            AnnotatorKindValue::Code => AnnotatorKind::Code,
            AnnotatorKindValue::Human => AnnotatorKind::Human,
        }
    }
}

/// Where an annotation was made: `API` for programs, `APP` for a UI.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AnnotationSource")]
pub enum AnnotationSourceValue {
    #[graphql(name = "API")]
    Api,
    #[graphql(name = "APP")]
    App,
}

#[derive(InputObject)]
pub struct CreateSpanAnnotationInput {
    span_id: ID,
    name: String,
    annotator_kind: AnnotatorKindValue,
    label: Option<String>,
    score: Option<f64>,
    explanation: Option<String>,
    #[graphql(default)]
    metadata: Json<Value>,
    source: AnnotationSourceValue,
    identifier: Option<String>,
}

#[derive(InputObject)]
pub struct PatchAnnotationInput {
    annotation_id: ID,
    name: Option<String>,
    annotator_kind: Option<AnnotatorKindValue>,
    label: Option<String>,
    score: Option<f64>,
    explanation: Option<String>,
    metadata: Option<Json<Value>>,
    identifier: Option<String>,
}

#[derive(InputObject)]
pub struct DeleteAnnotationsInput {
    annotation_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct SpanAnnotationMutationPayload {
    span_annotations: Vec<SpanAnnotation>,
}

pub struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Upserts span annotations by (name, span, identifier), as the REST API does.
    async fn create_span_annotations(
        &self,
        context: &Context<'_>,
        input: Vec<CreateSpanAnnotationInput>,
    ) -> Result<SpanAnnotationMutationPayload> {
        let store = context.data::<Store>()?;
        let mut annotations = Vec::with_capacity(input.len());
        let mut span_rowids = Vec::with_capacity(input.len());
        for item in input {
            let span_rowid = rowid_of(&item.span_id, "Span")?;
            let span = store.get_span(Some(span_rowid), None).await.map_err(store_error)?;
            let span = span.ok_or_else(|| async_graphql::Error::new(format!("no span with id {}", item.span_id.as_str())))?;
            if item.name == "note" {
                return Err(async_graphql::Error::new("the annotation name 'note' is reserved for notes"));
            }
            span_rowids.push(span_rowid);
            annotations.push(AnnotationInput {
                target_id: span.span.span_id,
                name: item.name,
                label: item.label,
                score: item.score,
                explanation: item.explanation,
                metadata: item.metadata.0,
                annotator_kind: item.annotator_kind.into(),
                identifier: item.identifier.unwrap_or_default(),
                source: match item.source {
                    AnnotationSourceValue::Api => AnnotationSource::Api,
                    AnnotationSourceValue::App => AnnotationSource::App,
                },
            });
        }
        let ids = store.upsert_span_annotations(&annotations).await.map_err(store_error)?;
        fetch_annotations(store, &ids, &span_rowids).await
    }

    /// Changes the given fields of span annotations.
    async fn patch_span_annotations(
        &self,
        context: &Context<'_>,
        input: Vec<PatchAnnotationInput>,
    ) -> Result<SpanAnnotationMutationPayload> {
        let store = context.data::<Store>()?;
        let mut span_annotations = Vec::with_capacity(input.len());
        for item in input {
            let id = rowid_of(&item.annotation_id, "SpanAnnotation")?;
            let patch = AnnotationPatch {
                name: item.name,
                annotator_kind: item.annotator_kind.map(Into::into),
                label: item.label.map(Some),
                score: item.score.map(Some),
                explanation: item.explanation.map(Some),
                metadata: item.metadata.map(|metadata| metadata.0),
                identifier: item.identifier,
            };
            let record = store.patch_span_annotation(id, &patch).await.map_err(store_error)?;
            let (_, span_rowid) =
                store.get_span_annotation(id).await.map_err(store_error)?.ok_or_else(|| async_graphql::Error::new("deleted meanwhile"))?;
            span_annotations.push(SpanAnnotation { record, span_rowid });
        }
        Ok(SpanAnnotationMutationPayload { span_annotations })
    }

    /// Deletes span annotations; returns those that existed.
    async fn delete_span_annotations(&self, context: &Context<'_>, input: DeleteAnnotationsInput) -> Result<SpanAnnotationMutationPayload> {
        let store = context.data::<Store>()?;
        let ids = input.annotation_ids.iter().map(|id| rowid_of(id, "SpanAnnotation")).collect::<Result<Vec<_>>>()?;
        let mut span_annotations = Vec::new();
        for id in ids {
            if let Some((_, span_rowid)) = store.get_span_annotation(id).await.map_err(store_error)? {
                for record in store.delete_span_annotations_by_id(&[id]).await.map_err(store_error)? {
                    span_annotations.push(SpanAnnotation { record, span_rowid });
                }
            }
        }
        Ok(SpanAnnotationMutationPayload { span_annotations })
    }

    /// Arize AX's annotation mutation (see `ax`).
    async fn update_annotations(&self, context: &Context<'_>, input: ax::UpdateAnnotationsInput) -> Result<ax::UpdateAnnotationsPayload> {
        ax::update_annotations(context.data::<Store>()?, input).await
    }
}

async fn fetch_annotations(store: &Store, ids: &[i64], span_rowids: &[i64]) -> Result<SpanAnnotationMutationPayload> {
    let mut span_annotations = Vec::with_capacity(ids.len());
    for (id, span_rowid) in ids.iter().zip(span_rowids) {
        if let Some((record, _)) = store.get_span_annotation(*id).await.map_err(store_error)? {
            span_annotations.push(SpanAnnotation { record, span_rowid: *span_rowid });
        }
    }
    Ok(SpanAnnotationMutationPayload { span_annotations })
}
