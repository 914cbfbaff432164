//! The annotation mutations of Phoenix's schema: create (an upsert by name, target and
//! identifier), patch and delete span and trace annotations, and Arize AX's
//! `updateAnnotations` (see `ax`). Who may patch or delete an annotation is the annotations
//! service's rule.

use async_graphql::{Context, Enum, InputObject, Json, Object, Result, SimpleObject, ID};
use ember_core::{AnnotationSource, AnnotationTarget, AnnotatorKind, ErrorCode, GlobalType};
use ember_service::{Caller, Services};
use ember_store::{AnnotationInput, AnnotationPatch, AnnotationRecord};
use serde_json::Value;

use super::annotations::{Annotated, SpanAnnotation, TraceAnnotation};
use super::{ax, bad_input, graphql_error, rowid_of};

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

impl From<AnnotationSourceValue> for AnnotationSource {
    fn from(source: AnnotationSourceValue) -> Self {
        match source {
            AnnotationSourceValue::Api => AnnotationSource::Api,
            AnnotationSourceValue::App => AnnotationSource::App,
        }
    }
}

/// The fields every new annotation has; `target` names what it annotates.
struct NewAnnotation {
    name: String,
    annotator_kind: AnnotatorKindValue,
    label: Option<String>,
    score: Option<f64>,
    explanation: Option<String>,
    metadata: Value,
    source: AnnotationSourceValue,
    identifier: Option<String>,
}

impl NewAnnotation {
    fn into_input(self, target_id: String) -> AnnotationInput {
        AnnotationInput {
            target_id,
            name: self.name,
            label: self.label,
            score: self.score,
            explanation: self.explanation,
            metadata: self.metadata,
            annotator_kind: self.annotator_kind.into(),
            identifier: self.identifier.unwrap_or_default(),
            source: self.source.into(),
        }
    }
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
pub struct CreateTraceAnnotationInput {
    trace_id: ID,
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

/// A create input as the id of its target (a GlobalID) and the new annotation.
macro_rules! split_input {
    ($input:ident, $target:ident) => {
        impl $input {
            fn split(self) -> (ID, NewAnnotation) {
                let new = NewAnnotation {
                    name: self.name,
                    annotator_kind: self.annotator_kind,
                    label: self.label,
                    score: self.score,
                    explanation: self.explanation,
                    metadata: self.metadata.0,
                    source: self.source,
                    identifier: self.identifier,
                };
                (self.$target, new)
            }
        }
    };
}

split_input!(CreateSpanAnnotationInput, span_id);
split_input!(CreateTraceAnnotationInput, trace_id);

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

impl PatchAnnotationInput {
    fn patch(self) -> AnnotationPatch {
        AnnotationPatch {
            name: self.name,
            annotator_kind: self.annotator_kind.map(Into::into),
            label: self.label.map(Some),
            score: self.score.map(Some),
            explanation: self.explanation.map(Some),
            metadata: self.metadata.map(|metadata| metadata.0),
            identifier: self.identifier,
        }
    }
}

#[derive(InputObject)]
pub struct DeleteAnnotationsInput {
    annotation_ids: Vec<ID>,
}

#[derive(SimpleObject)]
pub struct SpanAnnotationMutationPayload {
    span_annotations: Vec<SpanAnnotation>,
}

#[derive(SimpleObject)]
pub struct TraceAnnotationMutationPayload {
    trace_annotations: Vec<TraceAnnotation>,
}

/// Span and trace annotations, Phoenix's and Arize AX's.
#[derive(Default)]
pub struct AnnotationMutations;

#[Object]
impl AnnotationMutations {
    /// Upserts span annotations by (name, span, identifier), as the REST API does.
    async fn create_span_annotations(
        &self,
        context: &Context<'_>,
        input: Vec<CreateSpanAnnotationInput>,
    ) -> Result<SpanAnnotationMutationPayload> {
        let (services, caller) = super::context(context)?;
        let inputs = input.into_iter().map(CreateSpanAnnotationInput::split).collect();
        let span_annotations = create(services, caller, AnnotationTarget::Span, inputs).await?.into_iter().map(SpanAnnotation).collect();
        Ok(SpanAnnotationMutationPayload { span_annotations })
    }

    /// Upserts trace annotations by (name, trace, identifier).
    async fn create_trace_annotations(
        &self,
        context: &Context<'_>,
        input: Vec<CreateTraceAnnotationInput>,
    ) -> Result<TraceAnnotationMutationPayload> {
        let (services, caller) = super::context(context)?;
        let inputs = input.into_iter().map(CreateTraceAnnotationInput::split).collect();
        let trace_annotations = create(services, caller, AnnotationTarget::Trace, inputs).await?.into_iter().map(TraceAnnotation).collect();
        Ok(TraceAnnotationMutationPayload { trace_annotations })
    }

    /// Changes the given fields of span annotations (their author only).
    async fn patch_span_annotations(
        &self,
        context: &Context<'_>,
        input: Vec<PatchAnnotationInput>,
    ) -> Result<SpanAnnotationMutationPayload> {
        let (services, caller) = super::context(context)?;
        let span_annotations = patch(services, caller, AnnotationTarget::Span, input).await?.into_iter().map(SpanAnnotation).collect();
        Ok(SpanAnnotationMutationPayload { span_annotations })
    }

    /// Changes the given fields of trace annotations (their author only).
    async fn patch_trace_annotations(
        &self,
        context: &Context<'_>,
        input: Vec<PatchAnnotationInput>,
    ) -> Result<TraceAnnotationMutationPayload> {
        let (services, caller) = super::context(context)?;
        let trace_annotations = patch(services, caller, AnnotationTarget::Trace, input).await?.into_iter().map(TraceAnnotation).collect();
        Ok(TraceAnnotationMutationPayload { trace_annotations })
    }

    /// Deletes span annotations; returns those that existed.
    async fn delete_span_annotations(&self, context: &Context<'_>, input: DeleteAnnotationsInput) -> Result<SpanAnnotationMutationPayload> {
        let (services, caller) = super::context(context)?;
        let span_annotations = delete(services, caller, AnnotationTarget::Span, input).await?.into_iter().map(SpanAnnotation).collect();
        Ok(SpanAnnotationMutationPayload { span_annotations })
    }

    /// Deletes trace annotations; returns those that existed.
    async fn delete_trace_annotations(
        &self,
        context: &Context<'_>,
        input: DeleteAnnotationsInput,
    ) -> Result<TraceAnnotationMutationPayload> {
        let (services, caller) = super::context(context)?;
        let trace_annotations = delete(services, caller, AnnotationTarget::Trace, input).await?.into_iter().map(TraceAnnotation).collect();
        Ok(TraceAnnotationMutationPayload { trace_annotations })
    }

    /// Arize AX's annotation mutation (see `ax`).
    async fn update_annotations(&self, context: &Context<'_>, input: ax::UpdateAnnotationsInput) -> Result<ax::UpdateAnnotationsPayload> {
        let (services, caller) = super::context(context)?;
        ax::update_annotations(services, caller, input).await
    }
}

/// The rowid and OpenTelemetry id of the span or trace `id` names; not found when the caller
/// cannot read it.
async fn target_of(services: &Services, caller: &Caller, target: AnnotationTarget, id: &ID) -> Result<(i64, String)> {
    let (rowid, otel_id) = if target == AnnotationTarget::Trace {
        let rowid = rowid_of(id, GlobalType::Trace)?;
        (rowid, services.traces().by_rowid(caller, rowid).await.map_err(graphql_error)?.map(|trace| trace.trace_id))
    } else {
        let rowid = rowid_of(id, GlobalType::Span)?;
        (rowid, services.spans().by_rowid(caller, rowid).await.map_err(graphql_error)?.map(|span| span.span.span_id))
    };
    let missing = || bad_input(ErrorCode::NotFound, format!("no {} with id {}", target.noun(), id.as_str()));
    Ok((rowid, otel_id.ok_or_else(missing)?))
}

/// Upserts the annotations and reads them back in input order.
async fn create(
    services: &Services,
    caller: &Caller,
    target: AnnotationTarget,
    inputs: Vec<(ID, NewAnnotation)>,
) -> Result<Vec<Annotated>> {
    let mut rowids = Vec::with_capacity(inputs.len());
    let mut annotations = Vec::with_capacity(inputs.len());
    for (id, new) in inputs {
        let (rowid, otel_id) = target_of(services, caller, target, &id).await?;
        rowids.push(rowid);
        annotations.push(new.into_input(otel_id));
    }
    let ids = services.annotations().annotate(caller, target, &annotations).await.map_err(graphql_error)?;
    let mut annotated = Vec::with_capacity(ids.len());
    for (id, target_rowid) in ids.into_iter().zip(rowids) {
        if let Some((record, _)) = services.annotations().by_id(caller, target, id).await.map_err(graphql_error)? {
            annotated.push(annotated_record(record, target_rowid));
        }
    }
    Ok(annotated)
}

async fn patch(services: &Services, caller: &Caller, target: AnnotationTarget, input: Vec<PatchAnnotationInput>) -> Result<Vec<Annotated>> {
    let mut annotated = Vec::with_capacity(input.len());
    for item in input {
        let id = rowid_of(&item.annotation_id, target.annotation_type())?;
        let (record, target_rowid) = services.annotations().patch(caller, target, id, &item.patch()).await.map_err(graphql_error)?;
        annotated.push(annotated_record(record, target_rowid));
    }
    Ok(annotated)
}

async fn delete(services: &Services, caller: &Caller, target: AnnotationTarget, input: DeleteAnnotationsInput) -> Result<Vec<Annotated>> {
    let ids = input.annotation_ids.iter().map(|id| rowid_of(id, target.annotation_type())).collect::<Result<Vec<_>>>()?;
    let deleted = services.annotations().delete_by_ids(caller, target, &ids).await.map_err(graphql_error)?;
    Ok(deleted.into_iter().map(|(record, target_rowid)| annotated_record(record, target_rowid)).collect())
}

pub(super) fn annotated_record(record: AnnotationRecord, target_rowid: i64) -> Annotated {
    Annotated { record, target_rowid, position: None }
}
