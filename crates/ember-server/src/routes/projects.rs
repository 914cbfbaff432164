//! `/v1/projects`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use ember_core::GlobalType;
use ember_service::projects::ProjectListQuery;
use ember_service::ProjectRef;
use serde::Deserialize;

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::ApiResult;
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, Page};

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ApiResult<Json<Page<ember_wire::Project>>> {
    let query = ProjectListQuery {
        limit: params.limit(100, None)?,
        cursor: params.cursor(GlobalType::Project)?,
        include_experiment_projects: params.bool("include_experiment_projects", false)?,
        name_contains: params.get("name_contains"),
    };
    // ember has no dataset evaluators, so no project is one's; the flag is accepted.
    params.bool("include_dataset_evaluator_projects", false)?;
    let page = state.services.projects().list(&caller, &query).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::project).collect(), page.next_cursor, GlobalType::Project)))
}

#[derive(Deserialize)]
pub struct CreateProject {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<CreateProject>,
) -> ApiResult<Json<Data<ember_wire::Project>>> {
    let project = state.services.projects().create(&caller, &body.name, body.description.as_deref()).await?;
    Ok(Json(Data::new(wire::project(&project))))
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<Json<Data<ember_wire::Project>>> {
    let project = state.services.projects().resolve(&caller, ProjectRef::Identifier(&identifier)).await?;
    Ok(Json(Data::new(wire::project(&project))))
}

#[derive(Deserialize)]
pub struct UpdateProject {
    #[serde(default)]
    description: Option<String>,
}

/// Only the description can change; project names are immutable.
pub async fn update(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    JsonBody(body): JsonBody<UpdateProject>,
) -> ApiResult<Json<Data<ember_wire::Project>>> {
    let projects = state.services.projects();
    let updated = projects.update_description(&caller, ProjectRef::Identifier(&identifier), body.description.as_deref()).await?;
    Ok(Json(Data::new(wire::project(&updated))))
}

pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<impl IntoResponse> {
    state.services.projects().delete(&caller, ProjectRef::Identifier(&identifier)).await?;
    Ok(StatusCode::NO_CONTENT)
}
