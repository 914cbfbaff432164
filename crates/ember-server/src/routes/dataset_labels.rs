//! Dataset labels: `/v1/dataset_labels` CRUD and the labels of a dataset
//! (`/v1/datasets/{dataset_identifier}/labels[/{label_id}]`, by dataset GlobalID or name).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::GlobalId;
use ember_store::{DatasetLabelChanges, DatasetLabelRecord};
use serde_json::{json, Map, Value};

use super::datasets::dataset_by_id_or_name;
use super::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

const LABEL: &str = "DatasetLabel";

fn label_json(label: &DatasetLabelRecord) -> Value {
    json!({"id": GlobalId::encode(LABEL, label.id), "name": label.name, "description": label.description, "color": label.color})
}

fn label_id(id: &str) -> ApiResult<i64> {
    GlobalId::decode_as(id, LABEL).ok_or_else(|| ApiError::unprocessable(format!("Invalid dataset label ID: {id}")))
}

async fn label_of(state: &AppState, id: &str) -> ApiResult<DatasetLabelRecord> {
    state.store.get_dataset_label(label_id(id)?).await?.ok_or_else(|| ApiError::not_found(format!("Dataset label {id} not found")))
}

/// A non-empty name.
pub(super) fn valid_name(value: &Value) -> ApiResult<String> {
    match value.as_str().map(str::trim) {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(ApiError::unprocessable("name must be a non-empty string")),
    }
}

/// A lowercase six-digit hex color such as `#00cc88`.
fn valid_color(value: &Value) -> ApiResult<String> {
    match value.as_str() {
        Some(color)
            if color.len() == 7
                && color.starts_with('#')
                && color[1..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(color.to_string())
        }
        _ => Err(ApiError::unprocessable(format!("color must be a lowercase hex color such as #00cc88, not {value}"))),
    }
}

fn valid_description(value: Option<&Value>) -> ApiResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ApiError::unprocessable("description must be a string or null")),
    }
}

pub async fn list(State(state): State<AppState>, params: QueryParams) -> ApiResult<Json<Value>> {
    let page = state.store.list_dataset_labels(params.cursor(LABEL)?, params.limit(100, None)?).await?;
    Ok(Json(json!({
        "data": page.items.iter().map(label_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor.map(|id| GlobalId::encode(LABEL, id)),
    })))
}

pub async fn create(State(state): State<AppState>, JsonBody(body): JsonBody<Map<String, Value>>) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = valid_name(body.get("name").unwrap_or(&Value::Null))?;
    let color = valid_color(body.get("color").unwrap_or(&Value::Null))?;
    let description = valid_description(body.get("description"))?;
    let label = state.store.create_dataset_label(&name, description.as_deref(), &color).await?;
    Ok((StatusCode::CREATED, Json(json!({"data": label_json(&label)}))))
}

pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"data": label_json(&label_of(&state, &id).await?)})))
}

/// Changes only the fields given; a null name or color is refused, a null description clears it.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let rowid = label_id(&id)?;
    let changes = DatasetLabelChanges {
        name: body.get("name").map(valid_name).transpose()?,
        color: body.get("color").map(valid_color).transpose()?,
        description: body.contains_key("description").then(|| valid_description(body.get("description"))).transpose()?,
    };
    let label = state
        .store
        .update_dataset_label(rowid, &changes)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Dataset label {id} not found")))?;
    Ok(Json(json!({"data": label_json(&label)})))
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    if !state.store.delete_dataset_label(label_id(&id)?).await? {
        return Err(ApiError::not_found(format!("Dataset label {id} not found")));
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_for_dataset(State(state): State<AppState>, Path(dataset): Path<String>) -> ApiResult<Json<Value>> {
    let dataset = dataset_by_id_or_name(&state, &dataset).await?;
    let labels = state.store.labels_of_dataset(dataset.id).await?;
    Ok(Json(json!({"data": labels.iter().map(label_json).collect::<Vec<_>>()})))
}

/// Replaces the dataset's labels with the listed ones (404 naming an unknown label, nothing changed).
pub async fn set_for_dataset(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let dataset = dataset_by_id_or_name(&state, &dataset).await?;
    let ids = match body.get("dataset_label_ids") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|id| id.as_str().ok_or_else(|| ApiError::unprocessable("dataset_label_ids must be strings")).and_then(label_id))
            .collect::<ApiResult<Vec<i64>>>()?,
        Some(_) => return Err(ApiError::unprocessable("dataset_label_ids must be a list")),
    };
    state.store.set_dataset_labels(dataset.id, &ids).await.map_err(|error| match error {
        ember_store::StoreError::NotFound(_) => ApiError::not_found("A dataset label in dataset_label_ids does not exist"),
        other => other.into(),
    })?;
    let labels = state.store.labels_of_dataset(dataset.id).await?;
    Ok(Json(json!({"data": labels.iter().map(label_json).collect::<Vec<_>>()})))
}

pub async fn add_to_dataset(State(state): State<AppState>, Path((dataset, label)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let dataset = dataset_by_id_or_name(&state, &dataset).await?;
    let label = label_of(&state, &label).await?;
    state.store.add_dataset_label(dataset.id, label.id).await?;
    Ok(Json(json!({"data": label_json(&label)})))
}

pub async fn remove_from_dataset(State(state): State<AppState>, Path((dataset, label)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let dataset = dataset_by_id_or_name(&state, &dataset).await?;
    let label = label_of(&state, &label).await?;
    state.store.remove_dataset_label(dataset.id, label.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
