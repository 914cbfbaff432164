//! The annotation form's actions: save (add or replace) and delete a human annotation.

use axum::extract::{Form, Path, State};
use axum::response::Redirect;
use ember_store::{AnnotationInput, AnnotationSource, AnnotatorKind};
use serde::Deserialize;

use super::error::{UiError, UiResult};
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

/// Only back to a page of this project's traces, never to another site.
fn return_path(project_id: i64, return_to: &str) -> UiResult<String> {
    let prefix = format!("/projects/{project_id}/traces/");
    if return_to.starts_with(&prefix) && !return_to.contains("//") {
        Ok(return_to.to_string())
    } else {
        Err(UiError::bad_request("The form came from an unexpected page."))
    }
}

fn with_notice(path: &str, notice: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}notice={}#annotations", percent_encoding::utf8_percent_encode(notice, percent_encoding::NON_ALPHANUMERIC))
}

pub async fn save(State(state): State<AppState>, Path(project_id): Path<i64>, Form(form): Form<AnnotationForm>) -> UiResult<Redirect> {
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
    let target_id = match form.level.as_str() {
        "span" => form.span_id.clone(),
        "trace" => form.trace_id.clone(),
        other => return Err(UiError::bad_request(format!("Annotations go on a span or a trace, not {other:?}."))),
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
    let saved = if form.level == "span" {
        state.store.upsert_span_annotations(std::slice::from_ref(&input)).await?
    } else {
        state.store.upsert_trace_annotations(std::slice::from_ref(&input)).await?
    };
    let notice = if saved.is_empty() { "That span or trace no longer exists." } else { "Annotation saved." };
    Ok(Redirect::to(&with_notice(&back, notice)))
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    level: String,
    id: i64,
    return_to: String,
}

pub async fn delete(State(state): State<AppState>, Path(project_id): Path<i64>, Form(form): Form<DeleteForm>) -> UiResult<Redirect> {
    let back = return_path(project_id, &form.return_to)?;
    let deleted = match form.level.as_str() {
        "span" => state.store.delete_span_annotation_in_project(project_id, form.id).await?,
        "trace" => state.store.delete_trace_annotation_in_project(project_id, form.id).await?,
        other => return Err(UiError::bad_request(format!("Annotations go on a span or a trace, not {other:?}."))),
    };
    Ok(Redirect::to(&with_notice(&back, if deleted { "Annotation deleted." } else { "That annotation was already gone." })))
}
