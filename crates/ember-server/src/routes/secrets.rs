//! `PUT /v1/secrets`: set or delete secrets (provider keys and base URLs for the playground) in
//! one batch. Values are sealed before they are stored (see [`crate::secret_box`]) and never
//! returned.

use axum::extract::State;
use axum::Json;
use ember_store::SecretChange;
use serde::Deserialize;
use serde_json::{json, Value};

use super::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

#[derive(Deserialize)]
pub struct SecretsRequest {
    secrets: Vec<SecretEntry>,
}

#[derive(Deserialize)]
struct SecretEntry {
    key: String,
    /// Required: a string sets the secret, an explicit null deletes it.
    #[serde(deserialize_with = "super::present")]
    value: Option<Option<String>>,
}

pub async fn upsert_or_delete(State(state): State<AppState>, JsonBody(body): JsonBody<SecretsRequest>) -> ApiResult<Json<Value>> {
    if body.secrets.is_empty() {
        return Err(ApiError::unprocessable("At least one secret is required"));
    }
    // The last occurrence of a key wins.
    let mut changes: Vec<SecretChange> = Vec::new();
    for (index, entry) in body.secrets.into_iter().enumerate() {
        let key = entry.key.trim().to_string();
        if key.is_empty() || !key.is_ascii() || key.chars().any(char::is_control) {
            return Err(ApiError::unprocessable(format!("secrets[{index}].key must be non-empty printable ASCII")));
        }
        let value = match entry.value {
            None => return Err(ApiError::unprocessable(format!("secrets[{index}].value is required (null deletes the secret)"))),
            Some(Some(value)) if value.trim().is_empty() => {
                return Err(ApiError::unprocessable(format!("secrets[{index}].value must not be empty")));
            }
            Some(value) => value,
        };
        changes.retain(|change| change.key != key);
        changes.push(SecretChange { key, value });
    }
    let keys = |deleted: bool| {
        changes.iter().filter(|change| change.value.is_none() == deleted).map(|change| change.key.clone()).collect::<Vec<_>>()
    };
    let (upserted_keys, deleted_keys) = (keys(false), keys(true));
    for change in &mut changes {
        if let Some(value) = &change.value {
            let sealed = state
                .playground
                .secrets
                .seal(value)
                .ok_or_else(|| ApiError::unprocessable(format!("the value of {} is too large", change.key)))?;
            change.value = Some(sealed);
        }
    }
    state.store.apply_secret_changes(&changes).await?;
    Ok(Json(json!({"data": {"upserted_keys": upserted_keys, "deleted_keys": deleted_keys}})))
}
