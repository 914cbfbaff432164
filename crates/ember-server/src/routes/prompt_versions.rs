//! One prompt version by its GlobalID: `GET /v1/prompt_versions/{id}`, and its tags
//! (`GET`/`POST /v1/prompt_versions/{id}/tags`, `DELETE /v1/prompt_versions/{id}/tags/{name}`).
//! A tag name points at one version per prompt: tagging another version moves it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::prompt::{is_identifier, IDENTIFIER_PATTERN};
use ember_core::GlobalId;
use ember_store::{PromptVersionRecord, PromptVersionTagRecord, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::prompts::{cursor, page, version_view, PROMPT_VERSION};
use super::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

const PROMPT_VERSION_TAG: &str = "PromptVersionTag";

fn version_id(text: &str) -> ApiResult<i64> {
    GlobalId::decode_as(text, PROMPT_VERSION).ok_or_else(|| ApiError::unprocessable("Invalid prompt version ID"))
}

async fn version_checked(state: &AppState, text: &str) -> ApiResult<PromptVersionRecord> {
    let id = version_id(text)?;
    state.store.get_prompt_version(id).await?.ok_or_else(|| ApiError::not_found("Prompt version not found"))
}

fn tag_view(tag: &PromptVersionTagRecord) -> Value {
    json!({"name": tag.name, "description": tag.description, "id": GlobalId::encode(PROMPT_VERSION_TAG, tag.id)})
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let version = version_checked(&state, &id).await?;
    Ok(Json(json!({"data": version_view(&version)})))
}

pub async fn tags(State(state): State<AppState>, Path(id): Path<String>, params: QueryParams) -> ApiResult<Json<Value>> {
    let version = version_checked(&state, &id).await?;
    let cursor = cursor(&params)?;
    let limit = params.limit(100, None)?;
    let tags = state.store.list_prompt_version_tags(version.id, cursor, limit).await?;
    Ok(page(tags.items.iter().map(tag_view).collect(), tags.next_cursor, PROMPT_VERSION_TAG))
}

#[derive(Deserialize)]
pub struct TagData {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

pub async fn add_tag(State(state): State<AppState>, Path(id): Path<String>, JsonBody(body): JsonBody<TagData>) -> ApiResult<StatusCode> {
    let version_id = version_id(&id)?;
    if !is_identifier(&body.name) {
        return Err(ApiError::validation(
            &["body", "name"],
            "string_pattern_mismatch",
            format!("String should match pattern '{IDENTIFIER_PATTERN}'"),
            json!(body.name),
        ));
    }
    match state.store.set_prompt_version_tag(version_id, &body.name, body.description.as_deref()).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound(_)) => Err(ApiError::not_found("Prompt version not found")),
        Err(error) => Err(error.into()),
    }
}

pub async fn delete_tag(State(state): State<AppState>, Path((id, name)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let version_id = version_id(&id)?;
    if !is_identifier(&name) {
        return Err(ApiError::unprocessable("Invalid tag name"));
    }
    match state.store.delete_prompt_version_tag(version_id, &name).await {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(ApiError::not_found(format!("Tag {name} not found"))),
        Err(StoreError::NotFound(_)) => Err(ApiError::not_found("Prompt version not found")),
        Err(error) => Err(error.into()),
    }
}
