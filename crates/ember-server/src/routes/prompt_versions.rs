//! One prompt version by its GlobalID: `GET /v1/prompt_versions/{id}`, and its tags
//! (`GET`/`POST /v1/prompt_versions/{id}/tags`, `DELETE /v1/prompt_versions/{id}/tags/{name}`).
//! A tag name points at one version per prompt: tagging another version moves it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::GlobalType;
use serde::Deserialize;

use super::prompts::{page, version_rowid};
use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::ApiResult;
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, Page, PromptVersion, PromptVersionTag};

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<PromptVersion>>> {
    let version = state.services.prompts().version(&caller, version_rowid(&id)?).await?;
    Ok(Json(Data::new(wire::prompt_version(&version))))
}

pub async fn tags(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Page<PromptVersionTag>>> {
    let version = version_rowid(&id)?;
    let tags = state.services.prompts().version_tags(&caller, version, params.any_cursor()?, params.limit(100, None)?).await?;
    Ok(page(tags.items.iter().map(wire::prompt_version_tag).collect(), tags.next_cursor, GlobalType::PromptVersionTag))
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
