//! The annotation forms' actions: save (add or replace) and delete a human annotation, add a
//! note, through the annotation service (which refuses the reserved name `note`, as every
//! writer does, and holds an annotation made here to the config of its name).

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
    /// The annotated object's id; the trace page's free form, whose level is chosen in it,
    /// sends the span's and the trace's instead.
    #[serde(default)]
    target_id: String,
    #[serde(default)]
    span_id: String,
    #[serde(default)]
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

/// Only back to a page of this project's traces or sessions, never to another site, and
/// nothing a `Location` header cannot carry (control characters).
fn return_path(project_id: i64, return_to: &str) -> UiResult<String> {
    let pages = ["traces", "sessions"].map(|page| format!("/projects/{project_id}/{page}/"));
    if pages.iter().any(|prefix| return_to.starts_with(prefix)) && !return_to.contains("//") && !return_to.chars().any(char::is_control) {
        Ok(return_to.to_string())
    } else {
        Err(UiError::bad_request("The form came from an unexpected page."))
    }
}

fn with_notice(path: &str, notice: &str) -> String {
    format!("{}#annotation-panel", super::with_message(path, "notice", notice))
}

/// Back to the page with the reason a write was refused, shown as an error.
fn with_refusal(path: &str, refusal: &str) -> String {
    format!("{}#annotation-panel", super::with_message(path, "error", refusal))
}

/// The form's level: annotations go on a span, a trace or a session.
fn target_of(level: &str) -> UiResult<AnnotationTarget> {
    match level {
        "span" => Ok(AnnotationTarget::Span),
        "trace" => Ok(AnnotationTarget::Trace),
        "session" => Ok(AnnotationTarget::Session),
        other => Err(UiError::bad_request(format!("Annotations go on a span, a trace or a session, not {other:?}."))),
    }
}

/// What a refused write says on the page: the rule it broke, or that its target is gone.
fn refusal(error: ember_service::ServiceError) -> UiResult<String> {
    match error.code() {
        ErrorCode::NotFound => Ok("That span, trace or session no longer exists.".to_string()),
        ErrorCode::BadRequest | ErrorCode::Unprocessable => Ok(error.to_string()),
        _ => Err(error.into()),
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
    let target_id = match target {
        _ if !form.target_id.is_empty() => form.target_id.clone(),
        AnnotationTarget::Span => form.span_id.clone(),
        _ => form.trace_id.clone(),
    };
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
    // A rule the annotation broke (a reserved name, a label outside its config) is said on the
    // page, as the form's other mistakes are.
    Ok(Redirect::to(&match state.services.annotations().annotate(&caller, target, std::slice::from_ref(&input)).await {
        Ok(_) => with_notice(&back, "Annotation saved."),
        Err(error) => with_refusal(&back, &format!("Not saved: {}", refusal(error)?)),
    }))
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    level: String,
    target_id: String,
    text: String,
    return_to: String,
}

pub async fn add_note(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project_id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> UiResult<Redirect> {
    let back = return_path(project_id, &form.return_to)?;
    let text = form.text.trim();
    if text.is_empty() {
        return Ok(Redirect::to(&with_notice(&back, "A note needs some text.")));
    }
    let target = target_of(&form.level)?;
    Ok(Redirect::to(&match state.services.annotations().add_note(&caller, target, form.target_id, text.to_string(), None).await {
        Ok(_) => with_notice(&back, "Note added."),
        Err(error) => with_refusal(&back, &format!("Not added: {}", refusal(error)?)),
    }))
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
