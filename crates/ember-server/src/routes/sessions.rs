//! `/v1/projects/{p}/sessions`, `/v1/sessions/{id}`, `/v1/sessions/delete`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::GlobalId;
use ember_store::{Filter, Grain, SessionRecord, Store};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{resolve_project, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};

pub async fn list(State(state): State<AppState>, Path(identifier): Path<String>, params: QueryParams) -> ApiResult<Json<Value>> {
    let limit = params.limit(100, None)?;
    let cursor = params.cursor("ProjectSession")?;
    let ascending = params.choice("order", &["asc", "desc"], "asc")? == "asc";
    let condition = params.filter("filter_condition", |text| Filter::phoenix(text, Grain::Session))?;
    let project = resolve_project(&state.store, &identifier).await?;
    let page = state.store.list_sessions(project.id, condition.as_ref(), cursor, limit, ascending).await?;
    Ok(Json(wire::page(page.items.iter().map(wire::session).collect(), page.next_cursor, "ProjectSession")))
}

async fn resolve_session(store: &Store, identifier: &str) -> ApiResult<SessionRecord> {
    let found = match GlobalId::decode_as(identifier, "ProjectSession") {
        Some(rowid) => store.get_session(Some(rowid), None).await?,
        None => store.get_session(None, Some(identifier)).await?,
    };
    found.ok_or_else(|| ApiError::not_found(format!("Session not found: {identifier}")))
}

pub async fn get(State(state): State<AppState>, Path(identifier): Path<String>) -> ApiResult<Json<Value>> {
    let session = resolve_session(&state.store, &identifier).await?;
    Ok(Json(json!({"data": wire::session(&session)})))
}

pub async fn delete(State(state): State<AppState>, Path(identifier): Path<String>) -> ApiResult<StatusCode> {
    let session = resolve_session(&state.store, &identifier).await?;
    state.store.delete_sessions(&[session.rowid]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct DeleteSessions {
    session_identifiers: Vec<String>,
}

/// Identifiers must all be GlobalIDs or all `session.id` strings; unknown ones are skipped.
pub async fn delete_many(State(state): State<AppState>, JsonBody(body): JsonBody<DeleteSessions>) -> ApiResult<StatusCode> {
    let global: Vec<Option<i64>> = body.session_identifiers.iter().map(|id| GlobalId::decode_as(id, "ProjectSession")).collect();
    let rowids = if global.iter().all(Option::is_some) {
        global.into_iter().flatten().collect()
    } else if global.iter().all(Option::is_none) {
        let names: Vec<&str> = body.session_identifiers.iter().map(String::as_str).collect();
        state.store.session_rowids_by_session_id(&names).await?
    } else {
        return Err(ApiError::unprocessable("session_identifiers must be all GlobalIDs or all session_id strings, not a mix"));
    };
    state.store.delete_sessions(&rowids).await?;
    Ok(StatusCode::NO_CONTENT)
}
