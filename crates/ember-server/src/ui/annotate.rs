//! The annotation form's actions: save (add or replace) and delete a human annotation, through
//! the annotation service (which refuses the reserved name `note`, as every writer does).

use axum::extract::{Form, Path, State};
use axum::response::Redirect;
use ember_core::{AnnotationSource, AnnotationTarget, AnnotatorKind, ErrorCode};
use ember_service::ProjectRef;
use ember_store::AnnotationInput;
use serde::Deserialize;

use super::error::{UiError, UiResult};
use crate::authentication::RequestCaller;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct AnnotationForm {
    level: String,
    span_id: String,
    trace_id: String,
    name: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    explanation: String,
    return_to: String,
}

/// Only back to a page of this project's traces, never to another site, and nothing a
/// `Location` header cannot carry (control characters).
fn return_path(project_id: i64, return_to: &str) -> UiResult<String> {
    let prefix = format!("/projects/{project_id}/traces/");
    if return_to.starts_with(&prefix) && !return_to.contains("//") && !return_to.chars().any(char::is_control) {
        Ok(return_to.to_string())
    } else {
        Err(UiError::bad_request("The form came from an unexpected page."))
    }
}

fn with_notice(path: &str, notice: &str) -> String {
    format!("{}#annotations", super::with_message(path, "notice", notice))
}

/// The form's level: annotations go on a span or a trace.
fn target_of(level: &str) -> UiResult<AnnotationTarget> {
    match level {
        "span" => Ok(AnnotationTarget::Span),
        "trace" => Ok(AnnotationTarget::Trace),
        other => Err(UiError::bad_request(format!("Annotations go on a span or a trace, not {other:?}."))),
    }
}

pub async fn save(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project_id): Path<i64>,
    Form(form): Form<AnnotationForm>,
) -> UiResult<Redirect> {
    let back = return_path(project_id, &form.return_to)?;
    let name = form.name.trim();
    let label = Some(form.label.trim().to_string()).filter(|l| !l.is_empty());
    let score = match form.score.trim() {
        "" => None,
        text => Some(
            text.parse::<f64>()
                .ok()
                .filter(|s| s.is_finite())
                .ok_or_else(|| UiError::bad_request(format!("The score {text:?} is not a number.")))?,
        ),
    };
    let explanation = Some(form.explanation.trim().to_string()).filter(|e| !e.is_empty());
    if name.is_empty() {
        return Ok(Redirect::to(&with_notice(&back, "An annotation needs a name.")));
    }
    if label.is_none() && score.is_none() && explanation.is_none() {
        return Ok(Redirect::to(&with_notice(&back, "Give a label, a score or an explanation.")));
    }
    let target = target_of(&form.level)?;
    let target_id = if target == AnnotationTarget::Span { form.span_id.clone() } else { form.trace_id.clone() };
    let input = AnnotationInput {
        target_id,
        name: name.to_string(),
        label,
        score,
        explanation,
        metadata: serde_json::json!({}),
        annotator_kind: AnnotatorKind::Human,
        identifier: String::new(),
        source: AnnotationSource::App,
    };
    let notice = match state.services.annotations().annotate(&caller, target, std::slice::from_ref(&input)).await {
        Ok(_) => "Annotation saved.".to_string(),
        Err(error) if error.code() == ErrorCode::NotFound => "That span or trace no longer exists.".to_string(),
        // A rule the annotation broke (a reserved name): said on the form, as its other mistakes are.
        Err(error) if error.code() == ErrorCode::BadRequest || error.code() == ErrorCode::Unprocessable => error.to_string(),
        Err(error) => return Err(error.into()),
    };
    Ok(Redirect::to(&with_notice(&back, &notice)))
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    level: String,
    id: i64,
    return_to: String,
}

pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project_id): Path<i64>,
    Form(form): Form<DeleteForm>,
) -> UiResult<Redirect> {
    let back = return_path(project_id, &form.return_to)?;
    let target = target_of(&form.level)?;
    let deleted = state.services.annotations().delete_in_project(&caller, target, ProjectRef::Id(project_id), form.id).await?;
    Ok(Redirect::to(&with_notice(&back, if deleted { "Annotation deleted." } else { "That annotation was already gone." })))
}
