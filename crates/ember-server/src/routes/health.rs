//! Liveness, readiness and version.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use crate::error::ApiResult;
use crate::AppState;

pub async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "OK")
}

/// `{}`: the readiness answer.
#[derive(serde::Serialize)]
pub struct Ready {}

/// Ready when the database answers.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    state.services.ready().await?;
    Ok(Json(Ready {}))
}

pub async fn version() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], crate::PHOENIX_COMPATIBLE_VERSION)
}
