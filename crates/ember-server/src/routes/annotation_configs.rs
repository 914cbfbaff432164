//! `/v1/annotation_configs` and `/v1/projects/{p}/annotation_configs`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::GlobalType;
use ember_service::annotation_configs::AnnotationConfigInput;
use ember_service::ProjectRef;
use serde::Deserialize;

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::ApiResult;
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{AnnotationConfig, Data, Page};

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ApiResult<Json<Page<AnnotationConfig>>> {
    let page =
        state.services.annotation_configs().list(&caller, params.cursor(GlobalType::AnnotationConfig)?, params.limit(100, None)?).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::annotation_config).collect(), page.next_cursor, GlobalType::AnnotationConfig)))
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(input): JsonBody<AnnotationConfigInput>,
) -> ApiResult<Json<Data<AnnotationConfig>>> {
    let config = state.services.annotation_configs().create(&caller, &input).await?;
    Ok(Json(Data::new(wire::annotation_config(&config))))
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<Json<Data<AnnotationConfig>>> {
    let config = state.services.annotation_configs().resolve(&caller, &identifier).await?;
    Ok(Json(Data::new(wire::annotation_config(&config))))
}

pub async fn update(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    JsonBody(input): JsonBody<AnnotationConfigInput>,
) -> ApiResult<Json<Data<AnnotationConfig>>> {
    let config = state.services.annotation_configs().update(&caller, &identifier, &input).await?;
    Ok(Json(Data::new(wire::annotation_config(&config))))
}

pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<Json<Data<AnnotationConfig>>> {
    let config = state.services.annotation_configs().delete(&caller, &identifier).await?;
    Ok(Json(Data::new(wire::annotation_config(&config))))
}

pub async fn list_for_project(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Page<AnnotationConfig>>> {
    let (cursor, limit) = (params.cursor(GlobalType::AnnotationConfig)?, params.limit(100, None)?);
    let page = state.services.annotation_configs().list_for_project(&caller, ProjectRef::Identifier(&project), cursor, limit).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::annotation_config).collect(), page.next_cursor, GlobalType::AnnotationConfig)))
}

#[derive(Deserialize)]
pub struct SetConfigs {
    annotation_config_ids: Vec<String>,
}

/// Replaces the project's set; every id must name a config (404 otherwise, nothing changed).
pub async fn set_for_project(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    JsonBody(body): JsonBody<SetConfigs>,
) -> ApiResult<Json<Page<AnnotationConfig>>> {
    let configs = state.services.annotation_configs();
    let set = configs.set_for_project(&caller, ProjectRef::Identifier(&project), &body.annotation_config_ids).await?;
    Ok(Json(wire::page(set.iter().map(wire::annotation_config).collect(), None, GlobalType::AnnotationConfig)))
}

pub async fn assign(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((project, config)): Path<(String, String)>,
) -> ApiResult<Json<Data<AnnotationConfig>>> {
    let config = state.services.annotation_configs().assign(&caller, ProjectRef::Identifier(&project), &config).await?;
    Ok(Json(Data::new(wire::annotation_config(&config))))
}

pub async fn unassign(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((project, config)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.services.annotation_configs().unassign(&caller, ProjectRef::Identifier(&project), &config).await?;
    Ok(StatusCode::NO_CONTENT)
}
