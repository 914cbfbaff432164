//! `/v1/projects/{p}/sessions`, `/v1/sessions/{id}`, `/v1/sessions/delete`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::GlobalType;
use ember_service::ProjectRef;
use ember_store::{Filter, Grain};
use serde::Deserialize;

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::ApiResult;
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, Page, Session};

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Page<Session>>> {
    let limit = params.limit(100, None)?;
    let cursor = params.cursor(GlobalType::ProjectSession)?;
    let ascending = params.choice("order", &["asc", "desc"], "asc")? == "asc";
    let condition = params.filter("filter_condition", |text| Filter::phoenix(text, Grain::Session))?;
    let sessions = state.services.sessions();
    let page = sessions.list(&caller, ProjectRef::Identifier(&identifier), condition.as_ref(), cursor, limit, ascending).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::session).collect(), page.next_cursor, GlobalType::ProjectSession)))
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<Json<Data<Session>>> {
    let session = state.services.sessions().resolve(&caller, &identifier).await?;
    Ok(Json(Data::new(wire::session(&session))))
}

pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<StatusCode> {
    state.services.sessions().delete(&caller, &identifier).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct DeleteSessions {
    session_identifiers: Vec<String>,
}

/// Identifiers must all be GlobalIDs or all `session.id` strings; unknown ones are skipped.
pub async fn delete_many(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<DeleteSessions>,
) -> ApiResult<StatusCode> {
    state.services.sessions().delete_many(&caller, &body.session_identifiers).await?;
    Ok(StatusCode::NO_CONTENT)
}
