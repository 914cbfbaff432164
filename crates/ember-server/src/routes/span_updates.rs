//! Arize AX bulk span updates (ember extensions; rows as JSON, CSV or Arrow IPC, see `rows`),
//! handled by the span-update service:
//! - `POST /v1/projects/{p}/spans/evaluations`: `context.span_id`, `eval.<Name>.label|score|explanation`;
//! - `POST /v1/projects/{p}/spans/annotations`: `annotation.<Name>.label|score|text`, or AX
//!   `annotate_spans` records (`{"annotations": [{"record_id", "values"}]}`), at most 1,000
//!   spans, looked up in `[start_time, end_time)` (default: the last 31 days);
//! - `POST /v1/projects/{p}/spans/metadata`: `attributes.metadata.<field>` columns and/or a
//!   patch document column, with the AX type rules;
//! - `POST /v1/projects/{p}/spans/delete`: span ids.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_service::ax_spans::{Granularity, Window};
use ember_service::ProjectRef;
use ember_wire::{AnnotationsWritten, EvaluationsWritten, MetadataError, MetadataUpdateReport};
use serde_json::Value;

use crate::authentication::RequestCaller;
use crate::body::content_encoding;
use crate::body_budget::Reservation;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::rows::read_rows;
use crate::AppState;

/// The default lookback of an annotation request.
const ANNOTATION_WINDOW_NANOS: i64 = 31 * 24 * 3600 * 1_000_000_000;

/// The decompressed body, with its reservation against the body budget (keep it as long as the body).
fn decompressed(state: &AppState, headers: &HeaderMap, body: Bytes) -> ApiResult<(Bytes, Reservation)> {
    Ok(state.body_budget.decompress(body, content_encoding(headers)?, state.max_body_bytes)?)
}

pub async fn update_evaluations(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<EvaluationsWritten>> {
    let (body, _reservation) = decompressed(&state, &headers, body)?;
    let rows = read_rows(&headers, body).await?;
    let update = state.services.span_updates().evaluations(&caller, ProjectRef::Identifier(&project), &rows).await?;
    Ok(Json(EvaluationsWritten { spans_processed: update.spans_processed, evaluations_written: update.written }))
}

pub async fn update_annotations(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<AnnotationsWritten>> {
    let end = params.timestamp("end_time")?.unwrap_or_else(ember_core::time::now_nanos);
    let start = params.timestamp("start_time")?.unwrap_or(end - ANNOTATION_WINDOW_NANOS);
    let (body, _reservation) = decompressed(&state, &headers, body)?;
    let project = ProjectRef::Identifier(&project);
    let is_records = matches!(serde_json::from_slice::<Value>(&body), Ok(Value::Object(object)) if object.contains_key("annotations"));
    if is_records {
        // AX `annotate_spans` records, as `POST /v2/spans/annotate` takes them.
        let Records { annotations } = super::parse_json(&body)?;
        let records = super::arize_spans::annotation_records(annotations);
        let window = Window { start: Some(start), end: Some(end - 1) };
        let written = state.services.ax_spans().annotate(&caller, project, window, Granularity::Span, &records).await?;
        return Ok(Json(AnnotationsWritten { spans_processed: records.len(), annotations_written: written }));
    }
    let rows = read_rows(&headers, body).await?;
    let update = state.services.span_updates().annotations(&caller, project, (start, end), &rows).await?;
    Ok(Json(AnnotationsWritten { spans_processed: update.spans_processed, annotations_written: update.written }))
}

/// AX `annotate_spans` records: `{"annotations": [{"record_id", "values": [{"name", "label",
/// "score", "text"}]}]}`.
#[derive(serde::Deserialize)]
struct Records {
    annotations: Vec<ember_wire::AxAnnotateRecord>,
}

pub async fn update_metadata(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<MetadataUpdateReport>> {
    let patch_column = params.get("patch_document_column_name").unwrap_or("patch_document").to_string();
    let (body, _reservation) = decompressed(&state, &headers, body)?;
    let rows = read_rows(&headers, body).await?;
    let report = state.services.span_updates().metadata(&caller, ProjectRef::Identifier(&project), &rows, &patch_column).await?;
    let errors: Vec<MetadataError> =
        report.errors.into_iter().map(|(span_id, error_message)| MetadataError { span_id, error_message }).collect();
    Ok(Json(MetadataUpdateReport {
        spans_processed: report.spans_processed,
        spans_updated: report.spans_updated,
        spans_failed: errors.len(),
        errors,
    }))
}

/// Deletes spans by id, from `{"span_ids": [...]}` or rows with a `context.span_id` column;
/// unknown ids are ignored. 204: every named span is gone.
pub async fn delete_spans(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let (body, _reservation) = decompressed(&state, &headers, body)?;
    let project = ProjectRef::Identifier(&project);
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) if object.contains_key("span_ids") => {
            let ids: Vec<String> = match object.get("span_ids") {
                Some(Value::Array(ids)) => ids
                    .iter()
                    .map(|id| id.as_str().map(str::to_string).ok_or_else(|| ApiError::unprocessable("span_ids holds text ids")))
                    .collect::<ApiResult<_>>()?,
                _ => return Err(ApiError::unprocessable("span_ids is a list of span ids")),
            };
            state.services.spans().delete_many(&caller, project, &ids).await?;
        }
        _ => state.services.span_updates().delete_rows(&caller, project, &read_rows(&headers, body).await?).await?,
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
