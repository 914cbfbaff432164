//! Dataset splits through a dataset (GlobalID or name): `GET` and `POST /v1/datasets/{d}/splits`,
//! `PATCH` and `DELETE /v1/datasets/{d}/splits/{split_id}`. Split names are global.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_service::dataset_splits::NewSplit;
use ember_service::datasets::DatasetRef;
use ember_store::DatasetSplitChanges;
use serde_json::{Map, Value};

use super::dataset_labels::{description_field, text_field};
use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, DatasetSplit, Page};

fn color_field(value: &Value) -> ApiResult<String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ApiError::unprocessable(format!("color must be a hex color such as #33c5e8, not {value}")))
}

/// Example GlobalIDs of a list field.
fn example_ids(body: &Map<String, Value>, field: &str) -> ApiResult<Vec<i64>> {
    let invalid = || ApiError::unprocessable(format!("{field} must be a list of dataset example IDs"));
    match body.get(field) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|id| id.as_str().and_then(|id| GlobalId::decode_as(id, GlobalType::DatasetExample)).ok_or_else(invalid))
            .collect(),
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
    GlobalId::decode_as(id, GlobalType::DatasetSplit).ok_or_else(|| ApiError::unprocessable(format!("Invalid dataset split ID: {id}")))
}

/// `GET /v1/datasets/{d}/splits`: the splits holding the dataset's examples, newest first, with
/// how many of its examples each holds; `cursor` is the GlobalID of the first split of a page.
pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(dataset): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Page<DatasetSplit>>> {
    let (cursor, limit) = (params.any_cursor()?, params.limit(10, Some(1000))?);
    let datasets = state.services.datasets();
    let dataset = datasets.resolve(&caller, DatasetRef::Identifier(&dataset)).await?;
    let page = datasets.splits(&caller, &dataset, cursor, limit).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::dataset_split).collect(), page.next_cursor, GlobalType::DatasetSplit)))
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(dataset): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Data<DatasetSplit>>)> {
    let split = NewSplit {
        name: text_field(&body, "name")?,
        color: body.get("color").filter(|color| !color.is_null()).map(color_field).transpose()?,
        description: description_field(body.get("description"))?,
        metadata: metadata_of(body.get("metadata"))?,
        example_ids: example_ids(&body, "example_ids")?,
    };
    let split = state.services.dataset_splits().create(&caller, DatasetRef::Identifier(&dataset), split).await?;
    Ok((StatusCode::CREATED, Json(Data::new(wire::dataset_split(&split)))))
}

pub async fn update(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((dataset, split)): Path<(String, String)>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Data<DatasetSplit>>> {
    let split_rowid = split_id(&split)?;
    let changes = DatasetSplitChanges {
        name: body.get("name").filter(|name| !name.is_null()).map(|_| text_field(&body, "name")).transpose()?,
        description: body.contains_key("description").then(|| description_field(body.get("description"))).transpose()?,
        color: body.get("color").filter(|color| !color.is_null()).map(color_field).transpose()?,
        metadata: metadata_of(body.get("metadata"))?,
        add_example_ids: example_ids(&body, "add_example_ids")?,
        remove_example_ids: example_ids(&body, "remove_example_ids")?,
    };
    let split = state.services.dataset_splits().update(&caller, DatasetRef::Identifier(&dataset), split_rowid, changes).await?;
    Ok(Json(Data::new(wire::dataset_split(&split))))
}

pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((dataset, split)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.services.dataset_splits().delete(&caller, DatasetRef::Identifier(&dataset), split_id(&split)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
