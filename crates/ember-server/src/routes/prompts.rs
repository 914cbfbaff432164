//! Prompts: `GET`/`POST /v1/prompts`, `PATCH`/`DELETE /v1/prompts/{prompt}`, and a prompt's
//! versions (`/versions`, `/latest`, `/tags/{tag}`). A prompt is named by its name or its
//! GlobalID. Creating a version of an existing prompt appends to it; versions never change.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::prompt::PromptVersionData;
use ember_core::{GlobalId, GlobalType};
use ember_service::prompts::PromptRequest;
use ember_store::PromptChanges;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{present, JsonBody};
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, Page, Prompt, PromptVersion};

/// The `{"data": [...], "next_cursor": ...}` page Phoenix returns; cursors are GlobalIDs.
pub(super) fn page<T>(items: Vec<T>, next_cursor: Option<i64>, global_type: GlobalType) -> Json<Page<T>> {
    Json(wire::page(items, next_cursor, global_type))
}

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ApiResult<Json<Page<Prompt>>> {
    let prompts = state.services.prompts().list(&caller, params.any_cursor()?, params.limit(100, None)?, &Default::default()).await?;
    Ok(page(prompts.items.iter().map(wire::prompt).collect(), prompts.next_cursor, GlobalType::Prompt))
}

#[derive(Deserialize)]
pub struct CreatePrompt {
    prompt: PromptData,
    version: PromptVersionData,
}

#[derive(Deserialize)]
struct PromptData {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<CreatePrompt>,
) -> ApiResult<Json<Data<PromptVersion>>> {
    let request = PromptRequest {
        name: body.prompt.name,
        description: body.prompt.description,
        metadata: body.prompt.metadata,
        version: body.version,
    };
    let created = state.services.prompts().create(&caller, request).await?;
    Ok(Json(Data::new(wire::prompt_version(&created))))
}

#[derive(Deserialize)]
pub struct CreateVersion {
    version: PromptVersionData,
    #[serde(default)]
    tags: Option<Vec<TagData>>,
}

#[derive(Deserialize)]
struct TagData {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

/// `POST /v1/prompts/{p}/versions`: a new version of an existing prompt, tagged as asked.
pub async fn create_version(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    JsonBody(body): JsonBody<CreateVersion>,
) -> ApiResult<(StatusCode, Json<Data<PromptVersion>>)> {
    let tags: Vec<(String, Option<String>)> = body.tags.unwrap_or_default().into_iter().map(|tag| (tag.name, tag.description)).collect();
    let created = state.services.prompts().add_version(&caller, &identifier, body.version, &tags).await?;
    Ok((StatusCode::CREATED, Json(Data::new(wire::prompt_version(&created)))))
}

#[derive(Deserialize)]
pub struct PatchPrompt {
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

pub async fn patch(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    JsonBody(body): JsonBody<PatchPrompt>,
) -> ApiResult<Json<Data<Prompt>>> {
    let changes = PromptChanges { description: body.description, metadata: body.metadata.map(Value::Object) };
    let patched = state.services.prompts().patch(&caller, &identifier, &changes).await?;
    Ok(Json(Data::new(wire::prompt(&patched))))
}

pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<StatusCode> {
    state.services.prompts().delete(&caller, &identifier).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A prompt's versions, newest first. An unknown prompt has no versions (an empty page, as in
/// Phoenix).
pub async fn versions(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Page<PromptVersion>>> {
    let (cursor, limit) = (params.any_cursor()?, params.limit(100, None)?);
    let versions = state.services.prompts().versions(&caller, &identifier, cursor, limit).await?;
    Ok(page(versions.items.iter().map(wire::prompt_version).collect(), versions.next_cursor, GlobalType::PromptVersion))
}

pub async fn latest(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<Json<Data<PromptVersion>>> {
    let version = state.services.prompts().latest(&caller, &identifier).await?;
    Ok(Json(Data::new(wire::prompt_version(&version))))
}

pub async fn by_tag(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((identifier, tag)): Path<(String, String)>,
) -> ApiResult<Json<Data<PromptVersion>>> {
    let version = state.services.prompts().by_tag(&caller, &identifier, &tag).await?;
    Ok(Json(Data::new(wire::prompt_version(&version))))
}

/// A prompt version GlobalID from the path (422 when it is not one).
pub(super) fn version_rowid(text: &str) -> ApiResult<i64> {
    GlobalId::decode_as(text, GlobalType::PromptVersion).ok_or_else(|| ApiError::unprocessable("Invalid prompt version ID"))
}
