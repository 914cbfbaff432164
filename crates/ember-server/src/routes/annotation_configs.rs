//! `/v1/annotation_configs` and `/v1/projects/{p}/annotation_configs`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::GlobalId;
use ember_store::{AnnotationConfig, Store};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{resolve_project, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};

const TYPE_NAME: &str = "AnnotationConfig";

#[derive(Deserialize, Serialize, Clone, Copy)]
#[serde(rename_all = "UPPERCASE")]
pub enum OptimizationDirection {
    Minimize,
    Maximize,
    #[serde(rename = "NONE")]
    Neither,
}

#[derive(Deserialize, Serialize)]
pub struct CategoricalValue {
    label: String,
    #[serde(default)]
    score: Option<f64>,
}

/// A config as the API takes it, discriminated by `type`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "UPPERCASE")]
pub enum ConfigData {
    Categorical {
        name: String,
        description: Option<String>,
        optimization_direction: OptimizationDirection,
        values: Vec<CategoricalValue>,
    },
    Continuous {
        name: String,
        description: Option<String>,
        optimization_direction: OptimizationDirection,
        lower_bound: Option<f64>,
        upper_bound: Option<f64>,
    },
    Freeform {
        name: String,
        description: Option<String>,
        optimization_direction: Option<OptimizationDirection>,
        threshold: Option<f64>,
        lower_bound: Option<f64>,
        upper_bound: Option<f64>,
    },
}

impl ConfigData {
    /// The name and the stored body, or what is wrong with them.
    pub(crate) fn validated(self) -> ApiResult<(String, Value)> {
        let (name, body) = match self {
            ConfigData::Categorical { name, description, optimization_direction, values } => {
                if values.is_empty() {
                    return Err(ApiError::unprocessable("a categorical annotation config needs at least one value"));
                }
                let mut labels: Vec<&str> = values.iter().map(|v| v.label.as_str()).collect();
                labels.sort_unstable();
                if let Some(pair) = labels.windows(2).find(|pair| pair[0] == pair[1]) {
                    return Err(ApiError::unprocessable(format!("the label {:?} appears more than once", pair[0])));
                }
                let body = json!({"type": "CATEGORICAL", "description": description, "optimization_direction": optimization_direction, "values": values});
                (name, body)
            }
            ConfigData::Continuous { name, description, optimization_direction, lower_bound, upper_bound } => {
                check_bounds(lower_bound, upper_bound)?;
                let body = json!({
                    "type": "CONTINUOUS", "description": description, "optimization_direction": optimization_direction,
                    "lower_bound": lower_bound, "upper_bound": upper_bound,
                });
                (name, body)
            }
            ConfigData::Freeform { name, description, optimization_direction, threshold, lower_bound, upper_bound } => {
                check_bounds(lower_bound, upper_bound)?;
                let body = json!({
                    "type": "FREEFORM", "description": description, "optimization_direction": optimization_direction,
                    "threshold": threshold, "lower_bound": lower_bound, "upper_bound": upper_bound,
                });
                (name, body)
            }
        };
        if name.trim().is_empty() {
            return Err(ApiError::unprocessable("the annotation config name must not be empty"));
        }
        if name == "note" {
            return Err(ApiError::new(StatusCode::CONFLICT, "the name 'note' is reserved for notes"));
        }
        Ok((name, body))
    }
}

fn check_bounds(lower: Option<f64>, upper: Option<f64>) -> ApiResult<()> {
    match (lower, upper) {
        (Some(lower), Some(upper)) if lower >= upper => {
            Err(ApiError::unprocessable(format!("lower_bound ({lower}) must be strictly less than upper_bound ({upper})")))
        }
        _ => Ok(()),
    }
}

/// `{name, type, description, ..., id}` as Phoenix returns a config.
fn config_json(config: &AnnotationConfig) -> Value {
    let mut body = config.config.clone();
    if let Value::Object(map) = &mut body {
        map.insert("name".into(), json!(config.name));
        map.insert("id".into(), json!(GlobalId::encode(TYPE_NAME, config.id)));
    }
    body
}

/// A config named by GlobalID or by name; 404 when there is none.
async fn resolve_config(store: &Store, identifier: &str) -> ApiResult<AnnotationConfig> {
    let found = match GlobalId::decode_as(identifier, TYPE_NAME) {
        Some(id) => store.get_annotation_config(Some(id), None).await?,
        None => store.get_annotation_config(None, Some(identifier)).await?,
    };
    found.ok_or_else(|| ApiError::not_found(format!("Annotation config not found: {identifier}")))
}

/// Update and delete take the config's GlobalID only.
fn config_id(identifier: &str) -> ApiResult<i64> {
    GlobalId::decode_as(identifier, TYPE_NAME)
        .ok_or_else(|| ApiError::unprocessable(format!("Invalid annotation config id: {identifier:?}")))
}

pub async fn list(State(state): State<AppState>, params: QueryParams) -> ApiResult<Json<Value>> {
    let limit = params.limit(100, None)?;
    let cursor = params.cursor(TYPE_NAME)?;
    let page = state.store.list_annotation_configs(cursor, limit).await?;
    Ok(Json(wire::page(page.items.iter().map(config_json).collect(), page.next_cursor, TYPE_NAME)))
}

pub async fn create(State(state): State<AppState>, JsonBody(data): JsonBody<ConfigData>) -> ApiResult<Json<Value>> {
    let (name, body) = data.validated()?;
    let config = state.store.create_annotation_config(&name, &body).await?;
    Ok(Json(json!({"data": config_json(&config)})))
}

pub async fn get(State(state): State<AppState>, Path(identifier): Path<String>) -> ApiResult<Json<Value>> {
    let config = resolve_config(&state.store, &identifier).await?;
    Ok(Json(json!({"data": config_json(&config)})))
}

pub async fn update(
    State(state): State<AppState>,
    Path(identifier): Path<String>,
    JsonBody(data): JsonBody<ConfigData>,
) -> ApiResult<Json<Value>> {
    let id = config_id(&identifier)?;
    let (name, body) = data.validated()?;
    let config = state.store.update_annotation_config(id, &name, &body).await?;
    Ok(Json(json!({"data": config_json(&config)})))
}

pub async fn delete(State(state): State<AppState>, Path(identifier): Path<String>) -> ApiResult<Json<Value>> {
    let config = state.store.delete_annotation_config(config_id(&identifier)?).await?;
    Ok(Json(json!({"data": config_json(&config)})))
}

pub async fn list_for_project(State(state): State<AppState>, Path(project): Path<String>, params: QueryParams) -> ApiResult<Json<Value>> {
    let limit = params.limit(100, None)?;
    let cursor = params.cursor(TYPE_NAME)?;
    let project = resolve_project(&state.store, &project).await?;
    let page = state.store.list_project_annotation_configs(project.id, cursor, limit).await?;
    Ok(Json(wire::page(page.items.iter().map(config_json).collect(), page.next_cursor, TYPE_NAME)))
}

#[derive(Deserialize)]
pub struct SetConfigs {
    annotation_config_ids: Vec<String>,
}

/// Replaces the project's set; every id must name a config (404 otherwise, nothing changed).
pub async fn set_for_project(
    State(state): State<AppState>,
    Path(project): Path<String>,
    JsonBody(body): JsonBody<SetConfigs>,
) -> ApiResult<Json<Value>> {
    let project = resolve_project(&state.store, &project).await?;
    let mut ids = Vec::with_capacity(body.annotation_config_ids.len());
    for identifier in &body.annotation_config_ids {
        ids.push(resolve_config(&state.store, identifier).await?.id);
    }
    ids.sort_unstable();
    ids.dedup();
    state.store.set_project_annotation_configs(project.id, &ids).await?;
    let page = state.store.list_project_annotation_configs(project.id, None, ids.len().max(1)).await?;
    Ok(Json(wire::page(page.items.iter().map(config_json).collect(), None, TYPE_NAME)))
}

pub async fn assign(State(state): State<AppState>, Path((project, config)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let project = resolve_project(&state.store, &project).await?;
    let config = resolve_config(&state.store, &config).await?;
    state.store.assign_annotation_config(project.id, config.id).await?;
    Ok(Json(json!({"data": config_json(&config)})))
}

pub async fn unassign(State(state): State<AppState>, Path((project, config)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let project = resolve_project(&state.store, &project).await?;
    let config = resolve_config(&state.store, &config).await?;
    if !state.store.unassign_annotation_config(project.id, config.id).await? {
        return Err(ApiError::not_found(format!("Annotation config {} is not assigned to project {}", config.name, project.name)));
    }
    Ok(StatusCode::NO_CONTENT)
}
