//! Experiment tags: `GET`/`POST /v1/experiments/{id}/tags` and
//! `DELETE /v1/experiments/{id}/tags/{tag}`. A tag name is unique within the experiment's
//! dataset; assigning one that another experiment owns moves it (`baseline` marks the
//! dataset's baseline).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_store::ExperimentTagRecord;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::experiments::experiment_rowid_checked;
use super::JsonBody;
use crate::caller::RequestCaller;
use crate::error::ApiResult;
use crate::AppState;

#[derive(Serialize)]
struct TagView<'a> {
    id: String,
    name: &'a str,
    description: Option<&'a str>,
}

impl<'a> From<&'a ExperimentTagRecord> for TagView<'a> {
    fn from(tag: &'a ExperimentTagRecord) -> Self {
        TagView { id: GlobalId::encode(GlobalType::ExperimentTag, tag.id), name: &tag.name, description: tag.description.as_deref() }
    }
}

pub async fn list(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let tags = state.services.experiments().tags(&caller, experiment_rowid_checked(&id)?).await?;
    Ok(Json(json!({"data": tags.iter().map(TagView::from).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
pub struct SetTag {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

pub async fn set(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SetTag>,
) -> ApiResult<Json<Value>> {
    let experiment = experiment_rowid_checked(&id)?;
    let tag = state.services.experiments().set_tag(&caller, experiment, &body.name, body.description.as_deref()).await?;
    Ok(Json(json!({"data": TagView::from(&tag)})))
}

/// Removes the tag if this experiment owns it; a no-op otherwise, never taking another's.
pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((id, tag)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.services.experiments().delete_tag(&caller, experiment_rowid_checked(&id)?, &tag).await?;
    Ok(StatusCode::NO_CONTENT)
}
