//! `POST /v1/spans`: the span-query endpoint behind the Python client's `get_spans_dataframe`
//! (hidden from Phoenix's OpenAPI). With `Accept: application/json` it answers one pandas
//! table-schema JSON part per query in a `multipart/mixed` body; otherwise one Arrow IPC stream
//! per query (`application/x-pandas-arrow`), as Phoenix does.
//!
//! Each query's `filter.condition` (Phoenix's language) runs in SQL; `select`, `explode`,
//! `concat`, `rename` and `index` shape the selected spans into the frame. Every query is checked
//! before any runs: a bad one is a 422 `Invalid query: ...` naming the problem.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use ember_core::time::parse_timestamp;
use ember_service::ProjectRef;
use ember_store::{Filter, Grain, SpanQueryOptions};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::span_frame::{canonical_key, concat_frame, explode_frame, full_frame, select_frame, Concat, Explode, Frame};
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

/// The string-valued entries of a JSON object, in order (`kwargs`, `select` keys).
fn string_pairs(value: Option<&Value>, what: &str) -> ApiResult<Vec<(String, String)>> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
    let object = value.as_object().ok_or_else(|| invalid(format!("{what} must be an object")))?;
    object
        .iter()
        .map(|(name, path)| match path.as_str() {
            Some(path) => Ok((name.clone(), path.to_string())),
            None => Err(invalid(format!("{what}[{name:?}] must be a string"))),
        })
        .collect()
}

fn invalid(message: impl std::fmt::Display) -> ApiError {
    ApiError::unprocessable(format!("Invalid query: {message}"))
}

fn text_field<'a>(object: &'a Map<String, Value>, name: &str, default: &'a str) -> &'a str {
    object.get(name).and_then(Value::as_str).filter(|text| !text.is_empty()).unwrap_or(default)
}

/// One span query of the request, checked before anything runs.
struct Plan<'a> {
    query: &'a Map<String, Value>,
    condition: Option<Filter>,
    select: Option<Vec<(String, String)>>,
}

fn plan(query: &Map<String, Value>) -> ApiResult<Plan<'_>> {
    let condition = match query.get("filter").and_then(|f| f.get("condition")).and_then(Value::as_str).map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(Filter::phoenix(text, Grain::Span).map_err(invalid)?),
    };
    let select = match query.get("select").and_then(Value::as_object).filter(|s| !s.is_empty()) {
        Some(select) => Some(
            select
                .iter()
                .map(|(name, projection)| {
                    let key = projection.get("key").and_then(Value::as_str).unwrap_or(name);
                    projection_key(key).map(|key| (name.clone(), key))
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
        None => None,
    };
    for operation in ["explode", "concat"] {
        if let Some(value) = query.get(operation).filter(|v| !v.is_null()) {
            let key = value.get("key").and_then(Value::as_str).unwrap_or_default();
            if key.trim().is_empty() {
                return Err(invalid(format!("{operation} needs a key")));
            }
            projection_key(key)?;
        }
    }
    Ok(Plan { query, condition, select })
}

/// A projection names a column or an attribute path. Frames are built in memory from the
/// selected spans, so a projection never reaches SQL.
fn projection_key(key: &str) -> ApiResult<String> {
    if key.trim().is_empty() {
        return Err(invalid("a projection key is empty"));
    }
    Ok(key.to_string())
}

/// Builds the frame one query asks for over its spans.
fn run_plan(plan: &Plan, records: &[ember_store::SpanRecord]) -> ApiResult<Frame> {
    let query = plan.query;
    let index_key = query.get("index").and_then(|i| i.get("key")).and_then(Value::as_str).unwrap_or("context.span_id");
    let index_key = match query.get("explode").and_then(Value::as_object) {
        Some(explode) => text_field(explode, "primary_index_key", "context.span_id"),
        None => index_key,
    };
    // The index column moves out of the values, as pandas' `set_index` moves it.
    let select: Vec<(String, String)> =
        plan.select.iter().flatten().filter(|(name, _)| canonical_key(name) != canonical_key(index_key)).cloned().collect();
    let mut frame = if let Some(explode) = query.get("explode").and_then(Value::as_object) {
        let explode = Explode {
            key: text_field(explode, "key", ""),
            kwargs: string_pairs(explode.get("kwargs"), "explode.kwargs")?,
            primary_index_key: text_field(explode, "primary_index_key", "context.span_id"),
        };
        explode_frame(records, &select, &explode)
    } else if let Some(concat) = query.get("concat").and_then(Value::as_object) {
        let concat = Concat {
            key: text_field(concat, "key", ""),
            kwargs: string_pairs(concat.get("kwargs"), "concat.kwargs")?,
            separator: concat.get("separator").and_then(Value::as_str).unwrap_or("\n\n"),
        };
        concat_frame(records, &select, &concat, index_key)
    } else if plan.select.is_some() {
        select_frame(records, &select, index_key)
    } else {
        full_frame(records)
    };
    if let Some(renames) = query.get("rename").and_then(Value::as_object) {
        frame.rename(renames);
    }
    Ok(frame)
}

/// Span queries answered per request (Phoenix's clients send one; each is a full read).
const MAX_SPAN_QUERIES: usize = 10;

pub async fn query_spans(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
    headers: HeaderMap,
    JsonBody(request): JsonBody<SpanQueryRequest>,
) -> ApiResult<Response> {
    if request.queries.is_empty() {
        return Err(ApiError::not_found("No span queries were given"));
    }
    if request.queries.len() > MAX_SPAN_QUERIES {
        return Err(ApiError::unprocessable(format!(
            "{} span queries were given; at most {MAX_SPAN_QUERIES} are answered per request",
            request.queries.len()
        )));
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
    let plans = request.queries.iter().map(plan).collect::<ApiResult<Vec<_>>>()?;
    let options = SpanQueryOptions {
        start_time: time_field("start_time", request.start_time.as_deref())?,
        end_time: time_field("end_time", request.end_time.as_deref().or(request.stop_time.as_deref()))?,
        limit: limit as usize,
        root_spans_only: request.root_spans_only.unwrap_or(false),
        orphan_span_as_root_span: request.orphan_span_as_root_span.unwrap_or(true),
        condition: None,
    };
    let mut frames = Vec::with_capacity(plans.len());
    for plan in &plans {
        let options = SpanQueryOptions { condition: plan.condition.clone(), ..options.clone() };
        let records = state.services.spans().query(&caller, ProjectRef::Name(&project_name), &options).await?;
        frames.push(run_plan(plan, &records)?);
    }

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
        let stream = crate::span_frame_arrow::to_arrow_stream(frame).map_err(ApiError::internal)?;
        body.extend_from_slice(&stream);
    }
    Ok(([(header::CONTENT_TYPE, "application/x-pandas-arrow")], body).into_response())
}

/// Without Arrow support every client gets the JSON parts.
#[cfg(not(feature = "arrow"))]
fn arrow_streams(frames: &[Frame]) -> ApiResult<Response> {
    Ok(multipart_json(frames))
}
