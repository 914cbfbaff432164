//! Arize AX's `updateAnnotations` mutation, adapted to ember's ids:
//!
//! ```graphql
//! mutation ($name: String!, $updatedBy: String, $label: String, $score: Float,
//!           $annotationType: AnnotationType!, $modelId: ID!, $note: String!,
//!           $modelEnvironment: ModelEnvironmentName!, $recordId: String!, $startTime: DateTime!) {
//!   updateAnnotations(input: {modelId: $modelId, note: {text: $note},
//!       annotations: {name: $name, updatedBy: $updatedBy, label: $label, score: $score, annotationType: $annotationType},
//!       modelEnvironment: $modelEnvironment, recordId: $recordId, startTime: $startTime}) { clientMutationId }
//! }
//! ```
//!
//! `modelId` names the project (its GlobalID or name), `recordId` is the span's OpenTelemetry id,
//! and the span must start within a day of `startTime`. Each annotation is a HUMAN annotation
//! carrying a label (`annotationType: label`) or a score (`score`), never both; the note becomes
//! its explanation and `updatedBy` its metadata `updated_by`.

use async_graphql::{Enum, InputObject, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use ember_core::{AnnotationSource, AnnotatorKind, ErrorCode};
use ember_service::{Caller, ProjectRef, Services};
use ember_store::AnnotationInput;
use serde_json::json;

use super::{bad_input, graphql_error};

const DAY_NANOS: i64 = 24 * 3600 * 1_000_000_000;

/// Which of label and score an AX annotation carries.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AnnotationType")]
pub enum AnnotationType {
    #[graphql(name = "label")]
    Label,
    #[graphql(name = "score")]
    Score,
}

/// AX's environments; ember's spans are all `tracing`.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ModelEnvironmentName")]
pub enum ModelEnvironmentName {
    #[graphql(name = "tracing")]
    Tracing,
    #[graphql(name = "production")]
    Production,
    #[graphql(name = "validation")]
    Validation,
    #[graphql(name = "training")]
    Training,
}

#[derive(InputObject)]
pub struct NoteInput {
    text: String,
}

#[derive(InputObject)]
#[graphql(name = "AnnotationUpdateInput")]
pub struct AnnotationUpdate {
    name: String,
    updated_by: Option<String>,
    label: Option<String>,
    score: Option<f64>,
    annotation_type: AnnotationType,
}

#[derive(InputObject)]
pub struct UpdateAnnotationsInput {
    model_id: ID,
    note: Option<NoteInput>,
    /// One annotation or a list (GraphQL accepts a single object for a list).
    annotations: Vec<AnnotationUpdate>,
    model_environment: Option<ModelEnvironmentName>,
    record_id: String,
    start_time: DateTime<Utc>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpdateAnnotationsPayload {
    client_mutation_id: Option<String>,
}

pub async fn update_annotations(services: &Services, caller: &Caller, input: UpdateAnnotationsInput) -> Result<UpdateAnnotationsPayload> {
    if input.model_environment.is_some_and(|environment| environment != ModelEnvironmentName::Tracing) {
        return Err(bad_input(ErrorCode::Unprocessable, "ember holds traces only: modelEnvironment must be tracing"));
    }
    let start = input.start_time.timestamp_nanos_opt().unwrap_or(i64::MAX);
    let note = input.note.map(|note| note.text);
    let mut annotations = Vec::with_capacity(input.annotations.len());
    for annotation in input.annotations {
        let (label, score) = match (annotation.annotation_type, annotation.label, annotation.score) {
            (AnnotationType::Label, Some(label), None) => (Some(label), None),
            (AnnotationType::Score, None, Some(score)) => (None, Some(score)),
            (AnnotationType::Label, _, _) => {
                return Err(bad_input(
                    ErrorCode::Unprocessable,
                    format!("{}: annotationType label takes a label and no score", annotation.name),
                ))
            }
            (AnnotationType::Score, _, _) => {
                return Err(bad_input(
                    ErrorCode::Unprocessable,
                    format!("{}: annotationType score takes a score and no label", annotation.name),
                ))
            }
        };
        let metadata = match annotation.updated_by {
            Some(updated_by) => json!({ "updated_by": updated_by }),
            None => json!({}),
        };
        annotations.push(AnnotationInput {
            target_id: input.record_id.clone(),
            name: annotation.name,
            label,
            score,
            explanation: note.clone(),
            metadata,
            annotator_kind: AnnotatorKind::Human,
            identifier: String::new(),
            source: AnnotationSource::Api,
        });
    }
    // The span must start within a day of `startTime`.
    let window = (start.saturating_sub(DAY_NANOS), start.saturating_add(DAY_NANOS));
    let project = ProjectRef::Identifier(&input.model_id);
    services.annotations().annotate_spans_in_project(caller, project, Some(window), &annotations).await.map_err(graphql_error)?;
    Ok(UpdateAnnotationsPayload { client_mutation_id: input.client_mutation_id })
}
