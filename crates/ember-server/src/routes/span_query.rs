//! `POST /v1/spans`: the span-query endpoint behind the Python client's `get_spans_dataframe`
//! (hidden from Phoenix's OpenAPI). With `Accept: application/json` it answers one pandas
//! table-schema JSON part per query in a `multipart/mixed` body; otherwise one Arrow IPC stream
//! per query (`application/x-pandas-arrow`), as Phoenix does.
//!
//! Supported here: time window, limit, root spans only, project selection, `select`, `rename`,
//! `index`. Filter conditions, `explode` and `concat` belong to the query language and are
//! refused with a 422 that says so.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use ember_core::time::parse_timestamp;
use ember_store::SpanQueryOptions;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::span_frame::{full_frame, select_frame, Frame};
use crate::AppState;

#[derive(Deserialize)]
pub struct SpanQueryRequest {
    #[serde(default)]
    queries: Vec<Map<String, Value>>,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
    /// Deprecated alias of `end_time`.
    #[serde(default)]
    stop_time: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    root_spans_only: Option<bool>,
    #[serde(default)]
    orphan_span_as_root_span: Option<bool>,
    #[serde(default)]
    project_name: Option<String>,
}

fn time_field(name: &str, value: Option<&str>) -> ApiResult<Option<i64>> {
    match value {
        None | Some("") => Ok(None),
        Some(text) => parse_timestamp(text).map(Some).ok_or_else(|| {
            ApiError::validation(&["body", name], "datetime_parsing", "Input should be a valid datetime", Value::String(text.into()))
        }),
    }
}

fn unsupported(what: &str) -> ApiError {
    ApiError::unprocessable(format!("Invalid query: {what} is not supported by this server yet"))
}

/// Builds the frame one query asks for over the selected spans.
fn run_query(query: &Map<String, Value>, records: &[ember_store::SpanRecord]) -> ApiResult<Frame> {
    let condition = query.get("filter").and_then(|f| f.get("condition")).and_then(Value::as_str).unwrap_or_default();
    if !condition.trim().is_empty() {
        return Err(unsupported("a filter condition"));
    }
    for operation in ["explode", "concat"] {
        if query.get(operation).is_some_and(|v| !v.is_null()) {
            return Err(unsupported(operation));
        }
    }
    let index_key = query.get("index").and_then(|i| i.get("key")).and_then(Value::as_str).unwrap_or("context.span_id");
    let mut frame = match query.get("select").and_then(Value::as_object).filter(|s| !s.is_empty()) {
        Some(select) => {
            let projections = select
                .iter()
                .map(|(name, projection)| {
                    let key = projection.get("key").and_then(Value::as_str).unwrap_or(name);
                    (name.clone(), key.to_string())
                })
                .collect::<Vec<_>>();
            select_frame(records, &projections, index_key)
        }
        None => full_frame(records),
    };
    if let Some(renames) = query.get("rename").and_then(Value::as_object) {
        frame.rename(renames);
    }
    Ok(frame)
}

pub async fn query_spans(
    State(state): State<AppState>,
    params: QueryParams,
    headers: HeaderMap,
    JsonBody(request): JsonBody<SpanQueryRequest>,
) -> ApiResult<Response> {
    if request.queries.is_empty() {
        return Err(ApiError::not_found("No span queries were given"));
    }
    let project_name = params
        .get("project_name")
        .or_else(|| params.get("project-name"))
        .map(str::to_string)
        .or_else(|| headers.get("project-name").and_then(|v| v.to_str().ok()).map(str::to_string))
        .or(request.project_name.clone())
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "default".to_string());
    let limit = request.limit.unwrap_or(1000);
    if limit <= 0 {
        return Err(ApiError::validation(&["body", "limit"], "greater_than", "Input should be greater than 0", Value::from(limit)));
    }
    let options = SpanQueryOptions {
        start_time: time_field("start_time", request.start_time.as_deref())?,
        end_time: time_field("end_time", request.end_time.as_deref().or(request.stop_time.as_deref()))?,
        limit: limit as usize,
        root_spans_only: request.root_spans_only.unwrap_or(false),
        orphan_span_as_root_span: request.orphan_span_as_root_span.unwrap_or(true),
    };
    let records = match state.store.get_project_by_name(&project_name).await? {
        Some(project) => state.store.query_spans(project.id, &options).await?,
        None => Vec::new(),
    };
    let frames = request.queries.iter().map(|query| run_query(query, &records)).collect::<ApiResult<Vec<_>>>()?;

    let wants_json = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::trim) == Some("application/json");
    if wants_json {
        return Ok(multipart_json(&frames));
    }
    arrow_streams(&frames)
}

/// One `application/json` part per query, as the Python client parses it.
fn multipart_json(frames: &[Frame]) -> Response {
    let boundary = format!("ember{:016x}", rand::random::<u64>());
    let mut body = String::new();
    for frame in frames {
        body.push_str(&format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n"));
        body.push_str(&frame.to_table_json().to_string());
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    ([(header::CONTENT_TYPE, format!("multipart/mixed; boundary={boundary}"))], body).into_response()
}

/// One Arrow IPC stream per query, concatenated (`application/x-pandas-arrow`).
#[cfg(feature = "arrow")]
fn arrow_streams(frames: &[Frame]) -> ApiResult<Response> {
    let mut body = Vec::new();
    for frame in frames {
        let stream = crate::span_frame_arrow::to_arrow_stream(frame).map_err(|error| {
            tracing::error!(%error, "arrow encoding failed");
            ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "an internal error occurred")
        })?;
        body.extend_from_slice(&stream);
    }
    Ok(([(header::CONTENT_TYPE, "application/x-pandas-arrow")], body).into_response())
}

/// Without Arrow support every client gets the JSON parts.
#[cfg(not(feature = "arrow"))]
fn arrow_streams(frames: &[Frame]) -> ApiResult<Response> {
    Ok(multipart_json(frames))
}
