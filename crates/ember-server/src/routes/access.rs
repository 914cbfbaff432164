//! ember's per-project access and audit log over REST (admins): `GET`/`PUT
//! /v1/projects/{project}/access` and `GET /v1/audit_log`. The rules are the access and audit
//! services'; this parses and renders.

use axum::extract::{Path, State};
use axum::Json;
use ember_core::time::format_nanos;
use ember_core::{GlobalId, GlobalType};
use ember_service::ProjectRef;
use ember_store::{GrantSubject, ProjectAccessRecord, ProjectGrant};
use ember_wire::{self as w, Data};

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

fn render(access: &ProjectAccessRecord) -> w::ProjectAccess {
    let grants = access
        .grants
        .iter()
        .map(|grant| {
            let (user_id, role) = match &grant.subject {
                GrantSubject::User(user_id) => (Some(GlobalId::encode(GlobalType::User, *user_id)), None),
                GrantSubject::Role(role) => (None, Some(role.clone())),
            };
            w::ProjectGrant { user_id, role, level: grant.level.clone() }
        })
        .collect();
    w::ProjectAccess { restricted: access.restricted, grants }
}

fn parse(access: w::ProjectAccess) -> ApiResult<ProjectAccessRecord> {
    let grants = access
        .grants
        .into_iter()
        .map(|grant| {
            let subject = match (grant.user_id, grant.role) {
                (Some(user_id), None) => GrantSubject::User(
                    GlobalId::decode_as(&user_id, GlobalType::User)
                        .ok_or_else(|| ApiError::unprocessable(format!("Invalid User GlobalID format: {user_id}")))?,
                ),
                (None, Some(role)) => GrantSubject::Role(role),
                _ => return Err(ApiError::unprocessable("each grant names either a user_id or a role")),
            };
            Ok(ProjectGrant { subject, level: grant.level })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ProjectAccessRecord { restricted: access.restricted, grants })
}

pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
) -> ApiResult<Json<Data<w::ProjectAccess>>> {
    let access = state.services.access().get(&caller, ProjectRef::Identifier(&project)).await?;
    Ok(Json(Data::new(render(&access))))
}

pub async fn put(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    JsonBody(body): JsonBody<Data<w::ProjectAccess>>,
) -> ApiResult<Json<Data<w::ProjectAccess>>> {
    let access = state.services.access().set(&caller, ProjectRef::Identifier(&project), parse(body.data)?).await?;
    Ok(Json(Data::new(render(&access))))
}

pub async fn audit_log(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ApiResult<Json<w::Page<w::AuditLogEntry>>> {
    let cursor = match params.get("cursor").filter(|cursor| !cursor.is_empty()) {
        None => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| ApiError::unprocessable(format!("Invalid cursor format: {raw}")))?),
    };
    let limit = params.limit(100, Some(1000))?;
    let page = state.services.audit().list(&caller, cursor, limit).await?;
    let entries = page
        .items
        .iter()
        .map(|entry| w::AuditLogEntry {
            id: entry.id.to_string(),
            at: format_nanos(entry.at),
            actor_user_id: entry.actor_user_id.map(|user_id| GlobalId::encode(GlobalType::User, user_id)),
            action: entry.action.clone(),
            detail: serde_json::from_str(&entry.detail).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(w::Page { data: entries, next_cursor: page.next_cursor.map(|id| id.to_string()) }))
}
