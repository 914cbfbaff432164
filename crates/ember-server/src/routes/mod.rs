//! One module per REST resource: each handler parses the request, calls a service with the
//! request's caller, and renders the answer in Phoenix's shape.

pub mod access;
pub mod annotation_configs;
pub mod annotations;
pub mod api_keys;
pub mod arize_ml;
pub mod arize_spans;
pub mod arize_v2;
pub mod auth;
pub mod chat_completions;
mod dataset_csv;
pub mod dataset_exports;
pub(crate) mod dataset_form;
pub mod dataset_labels;
pub mod dataset_splits;
pub mod datasets;
pub mod evaluations;
pub mod experiment_downloads;
pub mod experiment_evaluations;
pub mod experiment_runs;
pub mod experiment_tags;
pub mod experiments;
pub mod health;
#[cfg(feature = "parquet")]
pub mod ml_exports;
pub mod ml_models;
pub mod ml_monitoring;
#[cfg(feature = "arrow")]
pub mod ml_upload;
pub mod model_prices;
pub mod model_providers;
pub mod oauth2;
pub mod otlp;
#[cfg(feature = "arrow")]
pub mod pandas_arrow;
pub mod projects;
pub mod prompt_versions;
pub mod prompts;
pub mod retention_policies;
pub mod secrets;
pub mod sessions;
pub mod span_query;
pub mod span_updates;
pub mod spans;
pub mod traces;
pub mod users;

use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::http::Request;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::error::ApiError;

/// A JSON value as a CSV cell, as the downloads write them: text as it is, null as empty,
/// anything else as JSON.
pub(super) fn csv_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A field that may be absent (`None`), null (`Some(None)`) or a value.
pub(super) fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// A JSON body whose errors are FastAPI-style 422s naming the problem.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request<axum::body::Body>, state: &S) -> Result<Self, Self::Rejection> {
        let bytes =
            Bytes::from_request(request, state).await.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON body read as `T`, with FastAPI's validation errors; for handlers that check the
/// caller before reading the body.
pub fn parse_json<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::validation(&["body"], "missing", "Field required", json!(null)));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let mut location = vec![json!("body")];
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => location.push(json!(index)),
                serde_path_to_error::Segment::Map { key } => location.push(json!(key)),
                serde_path_to_error::Segment::Enum { variant } => location.push(json!(variant)),
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        let inner = error.into_inner();
        let kind = if inner.is_syntax() || inner.is_eof() { "json_invalid" } else { "value_error" };
        ApiError::validation_at(location, kind, inner.to_string(), json!(null))
    })
}
