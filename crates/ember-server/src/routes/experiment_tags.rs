//! Experiment tags: `GET`/`POST /v1/experiments/{id}/tags` and
//! `DELETE /v1/experiments/{id}/tags/{tag}`. A tag name is unique within the experiment's
//! dataset; assigning one that another experiment owns moves it (`baseline` marks the
//! dataset's baseline).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::prompt::is_identifier;
use ember_core::GlobalId;
use ember_store::ExperimentTagRecord;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::experiments::experiment_checked;
use super::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

const TAG: &str = "ExperimentTag";

#[derive(Serialize)]
struct TagView<'a> {
    id: String,
    name: &'a str,
    description: Option<&'a str>,
}

impl<'a> From<&'a ExperimentTagRecord> for TagView<'a> {
    fn from(tag: &'a ExperimentTagRecord) -> Self {
        TagView { id: GlobalId::encode(TAG, tag.id), name: &tag.name, description: tag.description.as_deref() }
    }
}

pub async fn list(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let experiment = experiment_checked(&state, &id).await?;
    let tags = state.store.list_experiment_tags(experiment.id).await?;
    Ok(Json(json!({"data": tags.iter().map(TagView::from).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
pub struct SetTag {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

pub async fn set(State(state): State<AppState>, Path(id): Path<String>, JsonBody(body): JsonBody<SetTag>) -> ApiResult<Json<Value>> {
    let experiment = experiment_checked(&state, &id).await?;
    if !is_identifier(&body.name) {
        return Err(ApiError::validation(
            &["body", "name"],
            "string_pattern_mismatch",
            "String should match pattern '^[a-z0-9]([_a-z0-9-]*[a-z0-9])?$'",
            json!(body.name),
        ));
    }
    let tag = state.store.set_experiment_tag(experiment.id, experiment.dataset_id, &body.name, body.description.as_deref()).await?;
    Ok(Json(json!({"data": TagView::from(&tag)})))
}

/// Removes the tag if this experiment owns it; a no-op otherwise, never taking another's.
pub async fn delete(State(state): State<AppState>, Path((id, tag)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let experiment = experiment_checked(&state, &id).await?;
    let tag_id = GlobalId::decode_as(&tag, TAG);
    if tag_id.is_none() && !is_identifier(&tag) {
        return Err(ApiError::unprocessable(format!("Invalid tag identifier: {tag}")));
    }
    state.store.delete_experiment_tag(experiment.id, tag_id, &tag).await?;
    Ok(StatusCode::NO_CONTENT)
}
