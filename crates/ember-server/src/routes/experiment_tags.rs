//! Experiment tags: `GET`/`POST /v1/experiments/{id}/tags` and
//! `DELETE /v1/experiments/{id}/tags/{tag}`. A tag name is unique within the experiment's
//! dataset; assigning one that another experiment owns moves it (`baseline` marks the
//! dataset's baseline).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::experiments::experiment_rowid_checked;
use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::ApiResult;
use crate::{wire, AppState};
use ember_wire::{Data, ExperimentTag};

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<Vec<ExperimentTag>>>> {
    let tags = state.services.experiments().tags(&caller, experiment_rowid_checked(&id)?).await?;
    Ok(Json(Data::new(tags.iter().map(wire::experiment_tag).collect())))
}

#[derive(Deserialize)]
pub struct SetTag {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

pub async fn set(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SetTag>,
) -> ApiResult<Json<Data<ExperimentTag>>> {
    let experiment = experiment_rowid_checked(&id)?;
    let tag = state.services.experiments().set_tag(&caller, experiment, &body.name, body.description.as_deref()).await?;
    Ok(Json(Data::new(wire::experiment_tag(&tag))))
}

/// Removes the tag if this experiment owns it; a no-op otherwise, never taking another's.
pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path((id, tag)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.services.experiments().delete_tag(&caller, experiment_rowid_checked(&id)?, &tag).await?;
    Ok(StatusCode::NO_CONTENT)
}
