//! Datasets: `GET /v1/datasets`, `GET`/`DELETE /v1/datasets/{id}`, `GET /v1/datasets/{id}/versions`,
//! `GET /v1/datasets/{id}/examples` and `POST /v1/datasets/upload` (JSON bodies; actions `create`,
//! `append` and Phoenix 15's declarative `update`, see [`UploadAction`]).

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_service::datasets::{DatasetRef, Upload};
use ember_service::Caller;
use ember_store::{DatasetRecord, ExampleInput, UploadAction};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, Dataset, DatasetExamples, DatasetVersion, Page, UploadResult};

/// A dataset GlobalID from the path: 422 when it is not one, 404 when there is no such dataset.
async fn dataset_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<DatasetRecord> {
    let rowid = GlobalId::decode_as(id, GlobalType::Dataset).ok_or_else(|| ApiError::unprocessable(format!("Invalid dataset ID: {id}")))?;
    let found = state.services.datasets().find(caller, DatasetRef::Id(rowid)).await?;
    found.ok_or_else(|| ApiError::not_found(format!("Dataset with ID {id} not found")))
}

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ApiResult<Json<Page<Dataset>>> {
    let cursor = params.cursor(GlobalType::Dataset)?;
    let limit = params.limit(10, None)?;
    let page = state.services.datasets().list(&caller, params.get("name"), cursor, limit).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::dataset).collect(), page.next_cursor, GlobalType::Dataset)))
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<Dataset>>> {
    Ok(Json(Data::new(wire::dataset(&dataset_of(&state, &caller, &id).await?))))
}

pub async fn delete(State(state): State<AppState>, RequestCaller(caller): RequestCaller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let dataset = dataset_of(&state, &caller, &id).await?;
    state.services.datasets().delete(&caller, DatasetRef::Id(dataset.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn versions(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Page<DatasetVersion>>> {
    let dataset = dataset_of(&state, &caller, &id).await?;
    let (cursor, limit) = (params.cursor(GlobalType::DatasetVersion)?, params.limit(10, None)?);
    let page = state.services.datasets().versions(&caller, &dataset, cursor, limit).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::dataset_version).collect(), page.next_cursor, GlobalType::DatasetVersion)))
}

pub async fn examples(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let dataset = dataset_of(&state, &caller, &id).await?;
    let version_id = match params.get("version_id").filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => Some(
            GlobalId::decode_as(raw, GlobalType::DatasetVersion)
                .ok_or_else(|| ApiError::unprocessable(format!("Invalid dataset version ID: {raw}")))?,
        ),
    };
    let datasets = state.services.datasets();
    let Some(version) = datasets.version(&caller, &dataset, version_id).await? else {
        return match version_id {
            Some(_) => {
                Err(ApiError::not_found(format!("Dataset version {} not found in dataset {id}", params.get("version_id").unwrap_or(""))))
            }
            // A dataset without versions has no examples.
            None => {
                let empty = DatasetExamples { dataset_id: id, version_id: None, filtered_splits: Vec::new(), examples: Vec::new() };
                Ok(Json(Data::new(empty)).into_response())
            }
        };
    };
    // Splits by GlobalID or by name.
    let splits = params.all("split");
    let split_ids: Vec<i64> = splits.iter().filter_map(|split| GlobalId::decode_as(split, GlobalType::DatasetSplit)).collect();
    let split_names: Vec<String> =
        splits.iter().filter(|split| GlobalId::decode_as(split, GlobalType::DatasetSplit).is_none()).cloned().collect();
    let examples = datasets.examples(&caller, &dataset, &version, &split_ids, &split_names).await?;
    let data = DatasetExamples {
        dataset_id: GlobalId::encode(GlobalType::Dataset, dataset.id),
        version_id: Some(GlobalId::encode(GlobalType::DatasetVersion, version.id)),
        filtered_splits: splits,
        examples: examples.iter().map(wire::example).collect(),
    };
    Ok(Json(Data::new(data)).into_response())
}

/// `POST /v1/datasets/upload` as JSON.
#[derive(Deserialize)]
pub struct UploadBody {
    #[serde(default)]
    action: Option<String>,
    name: String,
    #[serde(default)]
    description: Option<String>,
    inputs: Vec<Value>,
    #[serde(default)]
    outputs: Option<Vec<Value>>,
    #[serde(default)]
    metadata: Option<Vec<Value>>,
    #[serde(default)]
    splits: Option<Vec<Value>>,
    #[serde(default)]
    span_ids: Option<Vec<Value>>,
    #[serde(default)]
    example_ids: Option<Vec<Value>>,
}

/// The `index`th of an optional per-example column: an object (`{}` when the column is absent).
fn object_at(column: &Option<Vec<Value>>, name: &str, index: usize) -> ApiResult<Value> {
    match column.as_ref().map(|values| &values[index]) {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(value @ Value::Object(_)) => Ok(value.clone()),
        Some(_) => Err(ApiError::unprocessable(format!("{name}[{index}] must be an object"))),
    }
}

/// The `index`th of an optional per-example text column.
fn text_at(column: &Option<Vec<Value>>, name: &str, index: usize) -> ApiResult<Option<String>> {
    match column.as_ref().map(|values| &values[index]) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ApiError::unprocessable(format!("{name}[{index}] must be a string or null"))),
    }
}

/// A split cell: a name, a list of names, or null.
/// The splits of example `index`: `None` when the body has no `splits` (a matched example keeps
/// its own), otherwise exactly the names given (`null` is none).
fn splits_at(column: &Option<Vec<Value>>, index: usize) -> ApiResult<Option<Vec<String>>> {
    let invalid = || ApiError::unprocessable(format!("splits[{index}] must be a string, a list of strings or null"));
    let Some(values) = column else { return Ok(None) };
    match &values[index] {
        Value::Null => Ok(Some(vec![])),
        Value::String(name) => Ok(Some(vec![name.trim().to_string()].into_iter().filter(|n| !n.is_empty()).collect())),
        Value::Array(names) => names
            .iter()
            .map(|name| name.as_str().map(|n| n.trim().to_string()).ok_or_else(invalid))
            .filter(|name| !matches!(name, Ok(n) if n.is_empty()))
            .collect::<ApiResult<Vec<String>>>()
            .map(Some),
        _ => Err(invalid()),
    }
}

/// An upload from a JSON body.
struct ParsedUpload {
    action: UploadAction,
    name: String,
    description: Option<String>,
    examples: Vec<ExampleInput>,
}

/// The upload action named in a body or form (`create` when absent).
pub fn action_of(action: Option<&str>) -> ApiResult<UploadAction> {
    match action.unwrap_or("create") {
        "create" => Ok(UploadAction::Create),
        "append" => Ok(UploadAction::Append),
        "update" => Ok(UploadAction::Update),
        other => Err(ApiError::unprocessable(format!("Invalid dataset action: {other} (create, append or update)"))),
    }
}

impl UploadBody {
    fn into_upload(self) -> ApiResult<ParsedUpload> {
        let action = action_of(self.action.as_deref())?;
        let count = self.inputs.len();
        for (name, column) in [
            ("outputs", &self.outputs),
            ("metadata", &self.metadata),
            ("splits", &self.splits),
            ("span_ids", &self.span_ids),
            ("example_ids", &self.example_ids),
        ] {
            if let Some(values) = column.as_ref().filter(|values| values.len() != count) {
                return Err(ApiError::unprocessable(format!("{name} has {} items; inputs has {count}", values.len())));
            }
        }
        let mut examples = Vec::with_capacity(count);
        for (index, input) in self.inputs.iter().enumerate() {
            if !input.is_object() {
                return Err(ApiError::unprocessable(format!("inputs[{index}] must be an object")));
            }
            examples.push(ExampleInput {
                input: input.clone(),
                output: object_at(&self.outputs, "outputs", index)?,
                metadata: object_at(&self.metadata, "metadata", index)?,
                splits: splits_at(&self.splits, index)?,
                span_id: text_at(&self.span_ids, "span_ids", index)?,
                external_id: text_at(&self.example_ids, "example_ids", index)?,
            });
        }
        Ok(ParsedUpload { action, name: self.name, description: self.description, examples })
    }
}

/// `POST /v1/datasets/upload`: a JSON body, or a form with a file (see `dataset_form`), which is
/// streamed to the store rather than read whole.
pub async fn upload(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
    request: Request,
) -> ApiResult<Response> {
    let sync = params.bool("sync", false)?;
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let content_type = content_type.to_ascii_lowercase();
    // Phoenix 20.26.1's answers (observed): no type is a 400, a type that is neither a form nor
    // JSON a 422.
    if content_type.is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "Missing content-type header"));
    }
    if !content_type.starts_with("multipart/form-data") && !content_type.starts_with("application/json") {
        return Err(ApiError::unprocessable("Invalid request Content-Type"));
    }
    let outcome = if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|rejection| ApiError::unprocessable(format!("the form is unreadable: {}", rejection.body_text())))?;
        let form = super::dataset_form::read(multipart, state.max_upload_bytes).await?;
        let (action, name, description) = (form.action, form.name.clone(), form.description.clone());
        let upload = Upload { action, name: &name, description: description.as_deref() };
        let mut batches = form.into_batches();
        match state.services.datasets().upload_batches(&caller, &upload, &mut batches).await {
            Ok(outcome) => outcome,
            Err(error) => return Err(batches.take_failure().unwrap_or_else(|| error.into())),
        }
    } else {
        // A JSON body is read whole, so it keeps the general body limit, not the upload limit.
        let request = request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, state.max_body_bytes)));
        let JsonBody(body) = JsonBody::<UploadBody>::from_request(request, &state).await?;
        let parsed = body.into_upload()?;
        let upload = Upload { action: parsed.action, name: &parsed.name, description: parsed.description.as_deref() };
        state.services.datasets().upload(&caller, &upload, parsed.examples).await?
    };
    if !sync {
        return Ok(Json(Value::Null).into_response());
    }
    Ok(Json(Data::new(UploadResult {
        dataset_id: GlobalId::encode(GlobalType::Dataset, outcome.dataset_id),
        version_id: GlobalId::encode(GlobalType::DatasetVersion, outcome.version_id),
        num_created_examples: outcome.created,
        num_updated_examples: outcome.updated,
        num_deleted_examples: outcome.deleted,
    }))
    .into_response())
}
