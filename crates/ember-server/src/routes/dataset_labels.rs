//! Dataset labels: `/v1/dataset_labels` CRUD and the labels of a dataset
//! (`/v1/datasets/{dataset_identifier}/labels[/{label_id}]`, by dataset GlobalID or name).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_service::datasets::DatasetRef;
use ember_store::DatasetLabelChanges;
use serde_json::{Map, Value};

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, DatasetLabel, Page};

fn label_id(id: &str) -> ApiResult<i64> {
    GlobalId::decode_as(id, GlobalType::DatasetLabel).ok_or_else(|| ApiError::unprocessable(format!("Invalid dataset label ID: {id}")))
}

/// A text field (422 when it is there and not text).
pub(super) fn text_field(body: &Map<String, Value>, name: &str) -> ApiResult<String> {
    match body.get(name) {
        Some(Value::String(text)) => Ok(text.clone()),
        _ => Err(ApiError::unprocessable(format!("{name} must be a non-empty string"))),
    }
}

/// An optional description: text or null.
pub(super) fn description_field(value: Option<&Value>) -> ApiResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ApiError::unprocessable("description must be a string or null")),
    }
}

/// A color field: text (the service checks the form).
fn color_field(value: &Value) -> ApiResult<String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ApiError::unprocessable(format!("color must be a lowercase hex color such as #00cc88, not {value}")))
}

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ApiResult<Json<Page<DatasetLabel>>> {
    let page = state.services.dataset_labels().list(&caller, params.cursor(GlobalType::DatasetLabel)?, params.limit(100, None)?).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::dataset_label).collect(), page.next_cursor, GlobalType::DatasetLabel)))
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Data<DatasetLabel>>)> {
    let name = text_field(&body, "name")?;
    let color = color_field(body.get("color").unwrap_or(&Value::Null))?;
    let description = description_field(body.get("description"))?;
    let label = state.services.dataset_labels().create(&caller, &name, description.as_deref(), &color).await?;
    Ok((StatusCode::CREATED, Json(Data::new(wire::dataset_label(&label)))))
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<DatasetLabel>>> {
    let label = state.services.dataset_labels().resolve(&caller, label_id(&id)?).await?;
    Ok(Json(Data::new(wire::dataset_label(&label))))
}

/// Changes only the fields given; a null name or color is refused, a null description clears it.
pub async fn update(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Data<DatasetLabel>>> {
    let rowid = label_id(&id)?;
    let changes = DatasetLabelChanges {
        name: body.contains_key("name").then(|| text_field(&body, "name")).transpose()?,
        color: body.get("color").map(color_field).transpose()?,
        description: body.contains_key("description").then(|| description_field(body.get("description"))).transpose()?,
    };
    let label = state.services.dataset_labels().update(&caller, rowid, changes).await?;
    Ok(Json(Data::new(wire::dataset_label(&label))))
}

pub async fn delete(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.services.dataset_labels().delete(&caller, label_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_for_dataset(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(dataset): Path<String>,
) -> ApiResult<Json<Data<Vec<DatasetLabel>>>> {
    let labels = state.services.dataset_labels().of_dataset(&caller, DatasetRef::Identifier(&dataset)).await?;
    Ok(Json(Data::new(labels.iter().map(wire::dataset_label).collect())))
}

/// Replaces the dataset's labels with the listed ones (404 naming an unknown label, nothing changed).
pub async fn set_for_dataset(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(dataset): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Data<Vec<DatasetLabel>>>> {
    let ids = match body.get("dataset_label_ids") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|id| id.as_str().ok_or_else(|| ApiError::unprocessable("dataset_label_ids must be strings")).and_then(label_id))
            .collect::<ApiResult<Vec<i64>>>()?,
        Some(_) => return Err(ApiError::unprocessable("dataset_label_ids must be a list")),
    };
    let labels = state.services.dataset_labels().set_for_dataset(&caller, DatasetRef::Identifier(&dataset), &ids).await?;
    Ok(Json(Data::new(labels.iter().map(wire::dataset_label).collect())))
}

pub async fn add_to_dataset(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((dataset, label)): Path<(String, String)>,
) -> ApiResult<Json<Data<DatasetLabel>>> {
    let label = state.services.dataset_labels().add_to_dataset(&caller, DatasetRef::Identifier(&dataset), label_id(&label)?).await?;
    Ok(Json(Data::new(wire::dataset_label(&label))))
}

pub async fn remove_from_dataset(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((dataset, label)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.services.dataset_labels().remove_from_dataset(&caller, DatasetRef::Identifier(&dataset), label_id(&label)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
