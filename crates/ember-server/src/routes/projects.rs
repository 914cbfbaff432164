//! `/v1/projects`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use ember_store::DEFAULT_PROJECT_NAME;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{resolve_project, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};

pub async fn list(State(state): State<AppState>, params: QueryParams) -> ApiResult<Json<Value>> {
    let limit = params.limit(100, None)?;
    let cursor = params.cursor("Project")?;
    let include_experiment_projects = params.bool("include_experiment_projects", false)?;
    // ember has no dataset evaluators, so no project is one's; the flag is accepted.
    params.bool("include_dataset_evaluator_projects", false)?;
    let page = state.store.list_projects(cursor, limit, params.get("name_contains"), include_experiment_projects).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::project).collect(), page.next_cursor, "Project")))
}

#[derive(Deserialize)]
pub struct CreateProject {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

pub async fn create(State(state): State<AppState>, JsonBody(body): JsonBody<CreateProject>) -> ApiResult<Json<Value>> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::validation(&["body", "name"], "string_too_short", "Project name must not be empty", json!(body.name)));
    }
    let project = state.store.create_project(name, body.description.as_deref()).await?;
    Ok(Json(json!({"data": wire::project(&project)})))
}

pub async fn get(State(state): State<AppState>, Path(identifier): Path<String>) -> ApiResult<Json<Value>> {
    let project = resolve_project(&state.store, &identifier).await?;
    Ok(Json(json!({"data": wire::project(&project)})))
}

#[derive(Deserialize)]
pub struct UpdateProject {
    #[serde(default)]
    description: Option<String>,
}

/// Only the description can change; project names are immutable.
pub async fn update(
    State(state): State<AppState>,
    Path(identifier): Path<String>,
    JsonBody(body): JsonBody<UpdateProject>,
) -> ApiResult<Json<Value>> {
    let project = resolve_project(&state.store, &identifier).await?;
    let updated = state.store.update_project_description(project.id, body.description.as_deref()).await?;
    Ok(Json(json!({"data": wire::project(&updated)})))
}

pub async fn delete(State(state): State<AppState>, Path(identifier): Path<String>) -> ApiResult<impl IntoResponse> {
    let project = resolve_project(&state.store, &identifier).await?;
    if project.name == DEFAULT_PROJECT_NAME {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "The default project cannot be deleted"));
    }
    state.store.delete_project(project.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
