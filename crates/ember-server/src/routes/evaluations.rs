//! `/v1/evaluations`, the legacy evaluations endpoint of Phoenix ≤ 13, for old clients:
//! `POST` of one protobuf `Evaluation` (`application/x-protobuf`, optionally gzip) or one pandas
//! Arrow stream (`application/x-pandas-arrow`), stored as LLM annotations (204); `GET` of a
//! project's LLM annotations as concatenated Arrow streams, one per level and name.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;

use crate::authentication::RequestCaller;
use crate::body::content_encoding;
use crate::error::{ApiError, ApiResult};
use crate::legacy_evaluations::{protobuf, Evaluations};
use crate::AppState;

fn media_type(headers: &HeaderMap) -> String {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

pub async fn post(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let media_type = media_type(&headers);
    let (body, _reservation) = state.body_budget.decompress(body, content_encoding(&headers)?, state.max_body_bytes)?;
    let evaluations: Evaluations = match media_type.as_str() {
        "application/x-protobuf" | "application/protobuf" => {
            crate::untrusted::decode_off_runtime("protobuf", move || Ok(protobuf::decode(&body)?)).await?
        }
        #[cfg(feature = "arrow")]
        "application/x-pandas-arrow" => {
            crate::untrusted::decode_off_runtime("Arrow IPC", move || Ok(crate::legacy_evaluations::arrow::decode(&body)?)).await?
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported content type {media_type:?}; send application/x-protobuf or application/x-pandas-arrow"),
            ))
        }
    };
    state.services.annotations().write_evaluations(&caller, &evaluations.spans, &evaluations.traces, &evaluations.documents).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(feature = "arrow")]
pub async fn get(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    headers: HeaderMap,
    params: crate::params::QueryParams,
) -> ApiResult<Response> {
    use axum::response::IntoResponse;

    use crate::legacy_evaluations::arrow::{encode, Level, Row};

    let project_name = params
        .get("project_name")
        .or_else(|| params.get("project-name"))
        .or_else(|| headers.get("project-name").and_then(|v| v.to_str().ok()))
        .unwrap_or(ember_store::DEFAULT_PROJECT_NAME)
        .to_string();
    let levels = state.services.annotations().llm_annotations(&caller, ember_service::ProjectRef::Identifier(&project_name)).await?;
    let mut body = Vec::new();
    for (level, annotations) in [(Level::Trace, &levels.traces), (Level::Span, &levels.spans), (Level::Document, &levels.documents)] {
        for group in annotations.chunk_by(|a, b| a.name == b.name) {
            let rows: Vec<Row> = group
                .iter()
                .map(|a| Row {
                    target_id: a.target_id.clone(),
                    document_position: a.document_position,
                    label: a.label.clone(),
                    score: a.score,
                    explanation: a.explanation.clone(),
                })
                .collect();
            let stream = encode(level, &group[0].name, &rows).map_err(ApiError::internal)?;
            body.extend(stream);
        }
    }
    if body.is_empty() {
        return Err(ApiError::not_found(format!("No evaluations found for project {project_name}")));
    }
    Ok(([(header::CONTENT_TYPE, "application/x-pandas-arrow")], body).into_response())
}

#[cfg(not(feature = "arrow"))]
pub async fn get() -> ApiResult<Response> {
    Err(ApiError::new(StatusCode::NOT_IMPLEMENTED, "this build of ember has no Arrow support (feature `arrow`)"))
}
