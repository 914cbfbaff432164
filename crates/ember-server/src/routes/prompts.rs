//! Prompts: `GET`/`POST /v1/prompts`, `PATCH`/`DELETE /v1/prompts/{prompt}`, and a prompt's
//! versions (`/versions`, `/latest`, `/tags/{tag}`). A prompt is named by its name or its
//! GlobalID. Creating a version of an existing prompt appends to it; versions never change.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::prompt::{is_identifier, PromptVersionData, TemplateType, IDENTIFIER_PATTERN};
use ember_core::GlobalId;
use ember_store::{NewPrompt, PromptChanges, PromptRecord, PromptVersionInput, PromptVersionRecord, Store};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{present, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

pub(super) const PROMPT: &str = "Prompt";
pub(super) const PROMPT_VERSION: &str = "PromptVersion";

/// A prompt as the API shows it.
pub(super) fn prompt_view(prompt: &PromptRecord) -> Value {
    json!({
        "name": prompt.name,
        "description": prompt.description,
        "source_prompt_id": prompt.source_prompt_id.map(|id| GlobalId::encode(PROMPT, id)),
        "metadata": prompt.metadata,
        "id": GlobalId::encode(PROMPT, prompt.id),
    })
}

/// A version as Phoenix shows it: fields never set are left out, a missing description is `""`.
pub(super) fn version_view(version: &PromptVersionRecord) -> Value {
    let content = &version.content;
    let mut view = Map::new();
    view.insert("description".into(), json!(content.description.as_deref().unwrap_or_default()));
    view.insert("model_provider".into(), json!(content.model_provider));
    view.insert("model_name".into(), json!(content.model_name));
    view.insert("template".into(), content.template.clone());
    view.insert("template_type".into(), json!(content.template_type));
    view.insert("template_format".into(), json!(content.template_format));
    view.insert("invocation_parameters".into(), content.invocation_parameters.clone());
    if let Some(tools) = &content.tools {
        view.insert("tools".into(), tools.clone());
    }
    if let Some(response_format) = &content.response_format {
        view.insert("response_format".into(), response_format.clone());
    }
    view.insert("id".into(), json!(GlobalId::encode(PROMPT_VERSION, version.id)));
    Value::Object(view)
}

/// The `{"data": [...], "next_cursor": ...}` page Phoenix returns; cursors are GlobalIDs.
pub(super) fn page(items: Vec<Value>, next_cursor: Option<i64>, type_name: &str) -> Json<Value> {
    Json(json!({"data": items, "next_cursor": next_cursor.map(|id| GlobalId::encode(type_name, id))}))
}

/// A `cursor` parameter: any GlobalID's row id, as in Phoenix.
pub(super) fn cursor(params: &QueryParams) -> ApiResult<Option<i64>> {
    params
        .get("cursor")
        .filter(|cursor| !cursor.is_empty())
        .map(|cursor| {
            GlobalId::decode(cursor).map(|id| id.rowid).ok_or_else(|| ApiError::unprocessable(format!("Invalid cursor format: {cursor}")))
        })
        .transpose()
}

/// The prompt a path names by GlobalID or by name; `None` when there is none. A name that is not
/// an identifier is a 422.
async fn find_prompt(store: &Store, identifier: &str) -> ApiResult<Option<PromptRecord>> {
    if identifier.is_empty() {
        return Err(ApiError::unprocessable("Invalid prompt identifier"));
    }
    if let Some(id) = GlobalId::decode_as(identifier, PROMPT) {
        return Ok(store.get_prompt(id).await?);
    }
    if !is_identifier(identifier) {
        return Err(ApiError::unprocessable("Invalid prompt name"));
    }
    Ok(store.get_prompt_by_name(identifier).await?)
}

async fn prompt_checked(store: &Store, identifier: &str) -> ApiResult<PromptRecord> {
    find_prompt(store, identifier).await?.ok_or_else(|| ApiError::not_found("Prompt not found"))
}

fn pattern_mismatch(location: &[&str], input: &str) -> ApiError {
    ApiError::validation(location, "string_pattern_mismatch", format!("String should match pattern '{IDENTIFIER_PATTERN}'"), json!(input))
}

pub async fn list(State(state): State<AppState>, params: QueryParams) -> ApiResult<Json<Value>> {
    let cursor = cursor(&params)?;
    let limit = params.limit(100, None)?;
    let prompts = state.store.list_prompts(cursor, limit).await?;
    Ok(page(prompts.items.iter().map(prompt_view).collect(), prompts.next_cursor, PROMPT))
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

pub async fn create(State(state): State<AppState>, JsonBody(body): JsonBody<CreatePrompt>) -> ApiResult<Json<Value>> {
    if !is_identifier(&body.prompt.name) {
        return Err(pattern_mismatch(&["body", "prompt", "name"], &body.prompt.name));
    }
    let version = body.version;
    version.check().map_err(|message| ApiError::validation(&["body", "version"], "value_error", message, json!(null)))?;
    if version.template_type != TemplateType::Chat {
        return Err(ApiError::unprocessable("Only CHAT template type is supported for prompts"));
    }
    let metadata = Value::Object(body.prompt.metadata.unwrap_or_default());
    let prompt =
        NewPrompt { name: &body.prompt.name, description: body.prompt.description.as_deref(), metadata: &metadata, source_prompt_id: None };
    let (_, created) = state.store.create_prompt_version(&prompt, &stored_version(&version)?).await?;
    Ok(Json(json!({"data": version_view(&created)})))
}

/// The validated version as stored: each part as the JSON it reads back as.
fn stored_version(version: &PromptVersionData) -> ApiResult<PromptVersionInput> {
    let to_json = |value: Result<Value, serde_json::Error>| value.map_err(ApiError::internal);
    Ok(PromptVersionInput {
        description: version.description.clone(),
        template_type: version.template_type.as_str().into(),
        template_format: version.template_format.as_str().into(),
        template: to_json(serde_json::to_value(&version.template))?,
        invocation_parameters: to_json(serde_json::to_value(&version.invocation_parameters))?,
        tools: version.tools.as_ref().map(|tools| to_json(serde_json::to_value(tools))).transpose()?,
        response_format: version.response_format.as_ref().map(|format| to_json(serde_json::to_value(format))).transpose()?,
        model_provider: version.model_provider.as_str().into(),
        model_name: version.model_name.clone(),
        metadata: json!({}),
    })
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
    Path(identifier): Path<String>,
    JsonBody(body): JsonBody<PatchPrompt>,
) -> ApiResult<Json<Value>> {
    let prompt = prompt_checked(&state.store, &identifier).await?;
    let changes = PromptChanges { description: body.description, metadata: body.metadata.map(Value::Object) };
    let patched = state.store.patch_prompt(prompt.id, &changes).await?.ok_or_else(|| ApiError::not_found("Prompt not found"))?;
    Ok(Json(json!({"data": prompt_view(&patched)})))
}

pub async fn delete(State(state): State<AppState>, Path(identifier): Path<String>) -> ApiResult<StatusCode> {
    let prompt = prompt_checked(&state.store, &identifier).await?;
    if !state.store.delete_prompt(prompt.id).await? {
        return Err(ApiError::not_found("Prompt not found"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A prompt's versions, newest first. An unknown prompt has no versions (an empty page, as in
/// Phoenix).
pub async fn versions(State(state): State<AppState>, Path(identifier): Path<String>, params: QueryParams) -> ApiResult<Json<Value>> {
    let cursor = cursor(&params)?;
    let limit = params.limit(100, None)?;
    let Some(prompt) = find_prompt(&state.store, &identifier).await? else {
        return Ok(page(Vec::new(), None, PROMPT_VERSION));
    };
    let versions = state.store.list_prompt_versions(prompt.id, cursor, limit).await?;
    Ok(page(versions.items.iter().map(version_view).collect(), versions.next_cursor, PROMPT_VERSION))
}

pub async fn latest(State(state): State<AppState>, Path(identifier): Path<String>) -> ApiResult<Json<Value>> {
    let prompt = find_prompt(&state.store, &identifier).await?;
    let version = match prompt {
        Some(prompt) => state.store.latest_prompt_version(prompt.id).await?,
        None => None,
    };
    let version = version.ok_or_else(|| ApiError::not_found(format!("No version of prompt {identifier}")))?;
    Ok(Json(json!({"data": version_view(&version)})))
}

pub async fn by_tag(State(state): State<AppState>, Path((identifier, tag)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    if !is_identifier(&tag) {
        return Err(ApiError::unprocessable("Invalid tag name"));
    }
    let prompt = find_prompt(&state.store, &identifier).await?;
    let version = match prompt {
        Some(prompt) => state.store.prompt_version_by_tag(prompt.id, &tag).await?,
        None => None,
    };
    let version = version.ok_or_else(|| ApiError::not_found(format!("No version of prompt {identifier} is tagged {tag}")))?;
    Ok(Json(json!({"data": version_view(&version)})))
}
