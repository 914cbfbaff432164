//! One prompt version by its GlobalID: `GET /v1/prompt_versions/{id}`, and its tags
//! (`GET`/`POST /v1/prompt_versions/{id}/tags`, `DELETE /v1/prompt_versions/{id}/tags/{name}`).
//! A tag name points at one version per prompt: tagging another version moves it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_store::PromptVersionTagRecord;
use serde::Deserialize;
use serde_json::{json, Value};

use super::prompts::{page, version_rowid, version_view};
use super::JsonBody;
use crate::caller::RequestCaller;
use crate::error::ApiResult;
use crate::params::QueryParams;
use crate::AppState;

fn tag_view(tag: &PromptVersionTagRecord) -> Value {
    json!({"name": tag.name, "description": tag.description, "id": GlobalId::encode(GlobalType::PromptVersionTag, tag.id)})
}

pub async fn get(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let version = state.services.prompts().version(&caller, version_rowid(&id)?).await?;
    Ok(Json(json!({"data": version_view(&version)})))
}

pub async fn tags(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Value>> {
    let version = version_rowid(&id)?;
    let tags = state.services.prompts().version_tags(&caller, version, params.any_cursor()?, params.limit(100, None)?).await?;
    Ok(page(tags.items.iter().map(tag_view).collect(), tags.next_cursor, GlobalType::PromptVersionTag))
}

#[derive(Deserialize)]
pub struct TagData {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

pub async fn add_tag(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<TagData>,
) -> ApiResult<StatusCode> {
    state.services.prompts().tag_version(&caller, version_rowid(&id)?, &body.name, body.description.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_tag(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.services.prompts().untag_version(&caller, version_rowid(&id)?, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
