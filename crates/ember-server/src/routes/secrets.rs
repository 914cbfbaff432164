//! `PUT /v1/secrets`: set or delete secrets (provider keys and base URLs for the playground) in
//! one batch. Values are sealed before they are stored (see [`crate::secret_box`]) and never
//! returned.

use axum::extract::State;
use axum::Json;
use ember_service::secrets::SecretEntry;
use ember_wire::{Data, SecretsApplied};
use serde::Deserialize;

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

#[derive(Deserialize)]
pub struct SecretsRequest {
    secrets: Vec<SecretBody>,
}

#[derive(Deserialize)]
struct SecretBody {
    key: String,
    /// Required: a string sets the secret, an explicit null deletes it.
    #[serde(deserialize_with = "super::present")]
    value: Option<Option<String>>,
}

pub async fn upsert_or_delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<SecretsRequest>,
) -> ApiResult<Json<Data<SecretsApplied>>> {
    let entries = body
        .secrets
        .into_iter()
        .enumerate()
        .map(|(index, entry)| match entry.value {
            None => Err(ApiError::unprocessable(format!("secrets[{index}].value is required (null deletes the secret)"))),
            Some(value) => Ok(SecretEntry { key: entry.key, value }),
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let applied = state.services.secrets().apply(&caller, entries).await?;
    Ok(Json(Data::new(SecretsApplied { upserted_keys: applied.upserted_keys, deleted_keys: applied.deleted_keys })))
}
