//! API keys over REST, as Phoenix 20.26 serves them: `/v1/user/api_keys` (the caller's own),
//! `/v1/users/api_keys` (every user's, admins) and `/v1/system/api_keys` (admins). The rules are
//! the API-key service's; this parses ids and bodies and renders keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_service::api_keys::{ApiKeyInput, CreatedApiKey, PastExpiry};
use ember_store::ApiKeyRecord;
use ember_wire::{self as w, Data};
use serde::Deserialize;

use super::experiment_runs::timestamp_field;
use axum::body::Bytes;

use super::parse_json;
use crate::authentication::RequestCaller;
use crate::error::ApiResult;
use crate::params::QueryParams;
use crate::{wire, AppState};

#[derive(Deserialize)]
pub struct CreateBody {
    data: w::ApiKeyData,
}

fn input(body: CreateBody) -> ApiResult<ApiKeyInput> {
    let data = body.data;
    let expires_at = data.expires_at.as_deref().map(|text| timestamp_field("expires_at", text)).transpose()?;
    Ok(ApiKeyInput {
        name: data.name,
        description: data.description,
        expires_at,
        project: data.project,
        ingest_only: data.ingest_only,
        past_expiry: PastExpiry::Refused,
    })
}

fn created(key: CreatedApiKey, global_type: GlobalType) -> (StatusCode, Json<Data<w::CreatedApiKey>>) {
    (StatusCode::CREATED, Json(Data::new(w::CreatedApiKey { api_key: wire::api_key(&key.record, global_type), key: key.key })))
}

pub async fn list_own(State(state): State<AppState>, RequestCaller(caller): RequestCaller) -> ApiResult<Json<Data<Vec<w::ApiKey>>>> {
    let keys = state.services.api_keys().list_own(&caller).await?;
    Ok(Json(Data::new(keys.iter().map(|key| wire::api_key(key, GlobalType::UserApiKey)).collect())))
}

/// Whether the caller may issue keys is checked before the body is read, as Phoenix checks it.
pub async fn create_own(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Data<w::CreatedApiKey>>)> {
    state.services.api_keys().check_issuer(&caller, false)?;
    let key = state.services.api_keys().create_own(&caller, input(parse_json(&body)?)?).await?;
    Ok(created(key, GlobalType::UserApiKey))
}

pub async fn delete_own(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.services.api_keys().delete_own(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_all_users(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
) -> ApiResult<Json<w::Page<w::UserApiKey>>> {
    let limit = params.limit(100, Some(1000))?;
    let page = state.services.api_keys().list_all_users(&caller, params.get("cursor"), limit).await?;
    let keys = page.items.iter().map(user_api_key).collect();
    Ok(Json(wire::page(keys, page.next_cursor, GlobalType::UserApiKey)))
}

fn user_api_key(key: &ApiKeyRecord) -> w::UserApiKey {
    w::UserApiKey {
        api_key: wire::api_key(key, GlobalType::UserApiKey),
        user: w::ApiKeyUser {
            id: GlobalId::encode(GlobalType::User, key.user_id),
            username: key.username.clone(),
            email: Some(key.email.clone()),
        },
    }
}

pub async fn list_system(State(state): State<AppState>, RequestCaller(caller): RequestCaller) -> ApiResult<Json<Data<Vec<w::ApiKey>>>> {
    let keys = state.services.api_keys().list_system(&caller).await?;
    Ok(Json(Data::new(keys.iter().map(|key| wire::api_key(key, GlobalType::SystemApiKey)).collect())))
}

pub async fn create_system(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Data<w::CreatedApiKey>>)> {
    state.services.api_keys().check_issuer(&caller, true)?;
    let key = state.services.api_keys().create_system(&caller, input(parse_json(&body)?)?).await?;
    Ok(created(key, GlobalType::SystemApiKey))
}

pub async fn delete_system(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.services.api_keys().delete_system(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
