//! Dataset splits through a dataset (GlobalID or name): `POST /v1/datasets/{d}/splits`,
//! `PATCH` and `DELETE /v1/datasets/{d}/splits/{split_id}`. Split names are global.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::time::format_nanos;
use ember_core::GlobalId;
use ember_store::{DatasetSplitChanges, DatasetSplitRecord};
use serde_json::{json, Map, Value};

use super::dataset_labels::valid_name;
use super::datasets::dataset_by_id_or_name;
use super::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

const SPLIT: &str = "DatasetSplit";
/// The color of a split created without one.
const DEFAULT_COLOR: &str = "#33c5e8";

fn split_json(split: &DatasetSplitRecord) -> Value {
    json!({
        "id": GlobalId::encode(SPLIT, split.id),
        "name": split.name,
        "description": split.description,
        "color": split.color,
        "metadata": split.metadata,
        "example_count": split.example_count,
        "created_at": format_nanos(split.created_at),
        "updated_at": format_nanos(split.updated_at),
    })
}

/// A hex color such as `#33c5e8`.
fn valid_color(value: &Value) -> ApiResult<String> {
    match value.as_str() {
        Some(color) if color.len() == 7 && color.starts_with('#') && color[1..].bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(color.to_string())
        }
        _ => Err(ApiError::unprocessable(format!("color must be a hex color such as #33c5e8, not {value}"))),
    }
}

/// Example GlobalIDs of a list field.
fn example_ids(body: &Map<String, Value>, field: &str) -> ApiResult<Vec<i64>> {
    let invalid = || ApiError::unprocessable(format!("{field} must be a list of dataset example IDs"));
    match body.get(field) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(ids)) => {
            ids.iter().map(|id| id.as_str().and_then(|id| GlobalId::decode_as(id, "DatasetExample")).ok_or_else(invalid)).collect()
        }
        Some(_) => Err(invalid()),
    }
}

fn metadata_of(value: Option<&Value>) -> ApiResult<Option<Value>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(object @ Value::Object(_)) => Ok(Some(object.clone())),
        Some(_) => Err(ApiError::unprocessable("metadata must be an object")),
    }
}

fn split_id(id: &str) -> ApiResult<i64> {
    GlobalId::decode_as(id, SPLIT).ok_or_else(|| ApiError::unprocessable(format!("Invalid dataset split ID: {id}")))
}

pub async fn create(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let dataset = dataset_by_id_or_name(&state, &dataset).await?;
    let name = valid_name(body.get("name").unwrap_or(&Value::Null))?;
    let color = match body.get("color") {
        None | Some(Value::Null) => DEFAULT_COLOR.to_string(),
        Some(color) => valid_color(color)?,
    };
    let description = match body.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(ApiError::unprocessable("description must be a string or null")),
    };
    let metadata = metadata_of(body.get("metadata"))?.unwrap_or_else(|| json!({}));
    let examples = example_ids(&body, "example_ids")?;
    let split = state.store.create_dataset_split(dataset.id, &name, description.as_deref(), &color, &metadata, &examples).await?;
    Ok((StatusCode::CREATED, Json(json!({"data": split_json(&split)}))))
}

pub async fn update(
    State(state): State<AppState>,
    Path((dataset, split)): Path<(String, String)>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let dataset = dataset_by_id_or_name(&state, &dataset).await?;
    let split_rowid = split_id(&split)?;
    let changes = DatasetSplitChanges {
        name: body.get("name").filter(|name| !name.is_null()).map(valid_name).transpose()?,
        description: match body.get("description") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(text)) => Some(Some(text.clone())),
            Some(_) => return Err(ApiError::unprocessable("description must be a string or null")),
        },
        color: body.get("color").filter(|color| !color.is_null()).map(valid_color).transpose()?,
        metadata: metadata_of(body.get("metadata"))?,
        add_example_ids: example_ids(&body, "add_example_ids")?,
        remove_example_ids: example_ids(&body, "remove_example_ids")?,
    };
    let updated = state.store.update_dataset_split(dataset.id, split_rowid, &changes).await?;
    let split = updated.ok_or_else(|| ApiError::not_found(format!("Dataset split {split} not found")))?;
    Ok(Json(json!({"data": split_json(&split)})))
}

pub async fn delete(State(state): State<AppState>, Path((dataset, split)): Path<(String, String)>) -> ApiResult<StatusCode> {
    dataset_by_id_or_name(&state, &dataset).await?;
    if !state.store.delete_dataset_split(split_id(&split)?).await? {
        return Err(ApiError::not_found(format!("Dataset split {split} not found")));
    }
    Ok(StatusCode::NO_CONTENT)
}
