//! Arize AX bulk span updates (ember extensions; rows as JSON, CSV or Arrow IPC, see `rows`):
//! - `POST /v1/projects/{p}/spans/evaluations`: `context.span_id`, `eval.<Name>.label|score|explanation`;
//! - `POST /v1/projects/{p}/spans/annotations`: `annotation.<Name>.label|score|text`, or AX
//!   `annotate_spans` records (`{"annotations": [{"record_id", "values"}]}`), at most 1,000
//!   spans, looked up in `[start_time, end_time)` (default: the last 31 days);
//! - `POST /v1/projects/{p}/spans/metadata`: `attributes.metadata.<field>` columns and/or a
//!   patch document column, with the AX type rules;
//! - `POST /v1/projects/{p}/spans/delete`: span ids.

use std::collections::{BTreeMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_store::{AnnotationInput, AnnotationSource, AnnotatorKind, MetadataFailure, MetadataUpdate, SpanFilters};
use serde_json::{json, Map, Value};

use super::resolve_project;
use crate::body::{content_encoding, decompress};
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::rows::{read_rows, Rows};
use crate::AppState;

/// Spans one annotation request may name.
const MAX_ANNOTATED_SPANS: usize = 1000;
/// The default lookback of an annotation request.
const ANNOTATION_WINDOW_NANOS: i64 = 31 * 24 * 3600 * 1_000_000_000;

async fn rows(state: &AppState, headers: &HeaderMap, body: Bytes) -> ApiResult<Rows> {
    let body = decompress(body, content_encoding(headers)?, state.max_body_bytes)?;
    read_rows(headers, &body)
}

fn span_id_of(row: &Map<String, Value>, index: usize) -> ApiResult<String> {
    match row.get("context.span_id").or_else(|| row.get("span_id")) {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => Err(ApiError::unprocessable(format!("row {index} has no context.span_id"))),
    }
}

/// A score cell: a number, or text that reads as one (CSV); NaN and empty are missing.
fn score_of(value: &Value, column: &str, index: usize) -> ApiResult<Option<f64>> {
    match value {
        Value::Null => Ok(None),
        Value::Number(number) => Ok(number.as_f64()),
        Value::String(text) => {
            text.trim().parse::<f64>().map(|score| (!score.is_nan()).then_some(score)).map_err(|_| invalid_cell(column, index, "a number"))
        }
        _ => Err(invalid_cell(column, index, "a number")),
    }
}

fn text_of(value: &Value, column: &str, index: usize) -> ApiResult<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        _ => Err(invalid_cell(column, index, "text")),
    }
}

fn invalid_cell(column: &str, index: usize, expected: &str) -> ApiError {
    ApiError::unprocessable(format!("row {index}, column {column:?}: expected {expected}"))
}

/// (label, score, explanation) of one annotation name in a row.
type AnnotationCells = (Option<String>, Option<f64>, Option<String>);

/// Annotations from `<prefix><Name>.<field>` columns, whose field is `label`, `score` or
/// `explanation_field`. A name with no value in a row is skipped for that row.
fn annotations_from(rows: &Rows, prefix: &str, explanation_field: &str, kind: AnnotatorKind) -> ApiResult<Vec<AnnotationInput>> {
    let mut annotations = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let span_id = span_id_of(row, index)?;
        let mut by_name: BTreeMap<&str, AnnotationCells> = BTreeMap::new();
        for (column, value) in row {
            let Some(rest) = column.strip_prefix(prefix) else { continue };
            let Some((name, field)) = rest.rsplit_once('.') else {
                return Err(ApiError::unprocessable(format!("column {column:?} is not {prefix}<Name>.<field>")));
            };
            let entry = by_name.entry(name).or_default();
            match field {
                "label" => entry.0 = text_of(value, column, index)?,
                "score" => entry.1 = score_of(value, column, index)?,
                field if field == explanation_field => entry.2 = text_of(value, column, index)?,
                _ => return Err(ApiError::unprocessable(format!("column {column:?}: the field is label, score or {explanation_field}"))),
            }
        }
        for (name, (label, score, explanation)) in by_name {
            if name.is_empty() {
                return Err(ApiError::unprocessable(format!("row {index}: an annotation name is empty")));
            }
            if label.is_none() && score.is_none() && explanation.is_none() {
                continue;
            }
            annotations.push(AnnotationInput {
                target_id: span_id.clone(),
                name: name.to_string(),
                label,
                score,
                explanation,
                metadata: json!({}),
                annotator_kind: kind,
                identifier: String::new(),
                source: AnnotationSource::Api,
            });
        }
    }
    Ok(annotations)
}

pub async fn update_evaluations(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let project = resolve_project(&state.store, &project).await?;
    let rows = rows(&state, &headers, body).await?;
    let annotations = annotations_from(&rows, "eval.", "explanation", AnnotatorKind::Llm)?;
    check_in_project(&state, project.id, &annotations, None).await?;
    state.store.upsert_span_annotations(&annotations).await?;
    Ok(Json(json!({"spans_processed": rows.len(), "evaluations_written": annotations.len()})))
}

pub async fn update_annotations(
    State(state): State<AppState>,
    Path(project): Path<String>,
    params: QueryParams,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let project = resolve_project(&state.store, &project).await?;
    let end = params.timestamp("end_time")?.unwrap_or_else(ember_core::time::now_nanos);
    let start = params.timestamp("start_time")?.unwrap_or(end - ANNOTATION_WINDOW_NANOS);
    let body = decompress(body, content_encoding(&headers)?, state.max_body_bytes)?;
    let rows = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) if object.contains_key("annotations") => record_rows(object)?,
        _ => read_rows(&headers, &body)?,
    };
    if rows.len() > MAX_ANNOTATED_SPANS {
        return Err(ApiError::unprocessable(format!("at most {MAX_ANNOTATED_SPANS} spans per request; got {}", rows.len())));
    }
    let annotations = annotations_from(&rows, "annotation.", "text", AnnotatorKind::Human)?;
    check_in_project(&state, project.id, &annotations, Some((start, end))).await?;
    state.store.upsert_span_annotations(&annotations).await?;
    Ok(Json(json!({"spans_processed": rows.len(), "annotations_written": annotations.len()})))
}

/// AX `annotate_spans` records, `{"annotations": [{"record_id", "values": [{"name", "label",
/// "score", "text"}]}]}`, as the rows of the column format.
fn record_rows(mut body: Map<String, Value>) -> ApiResult<Rows> {
    let Some(Value::Array(records)) = body.remove("annotations") else {
        return Err(ApiError::unprocessable("annotations is a list of {record_id, values}"));
    };
    records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            let record_id = record.get("record_id").and_then(Value::as_str).filter(|id| !id.is_empty());
            let record_id = record_id.ok_or_else(|| ApiError::unprocessable(format!("annotations[{index}] has no record_id")))?;
            let mut row = Map::from_iter([("context.span_id".to_string(), json!(record_id))]);
            for value in record.get("values").and_then(Value::as_array).into_iter().flatten() {
                let name = value.get("name").and_then(Value::as_str).unwrap_or_default();
                for field in ["label", "score", "text"] {
                    if let Some(cell) = value.get(field) {
                        row.insert(format!("annotation.{name}.{field}"), cell.clone());
                    }
                }
            }
            Ok(row)
        })
        .collect()
}

/// 404 naming the spans that are not in the project (and the window), before anything is written.
async fn check_in_project(state: &AppState, project_id: i64, annotations: &[AnnotationInput], window: Option<(i64, i64)>) -> ApiResult<()> {
    let wanted: HashSet<&str> = annotations.iter().map(|a| a.target_id.as_str()).collect();
    let mut found = HashSet::new();
    let ids: Vec<String> = wanted.iter().map(|id| id.to_string()).collect();
    for chunk in ids.chunks(500) {
        let filters = SpanFilters {
            span_ids: chunk.to_vec(),
            start_time: window.map(|(start, _)| start),
            end_time: window.map(|(_, end)| end),
            ..Default::default()
        };
        let page = state.store.list_spans(project_id, &filters, None, chunk.len()).await?;
        found.extend(page.items.into_iter().map(|record| record.span.span_id));
    }
    let mut missing: Vec<&str> = wanted.into_iter().filter(|id| !found.contains(*id)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort_unstable();
    let place = if window.is_some() { "in the project and the time window" } else { "in the project" };
    Err(ApiError::not_found(format!("no span {place} with id {}", missing.join(", "))))
}

/// A metadata value in its stored form: strings and numbers as they are, booleans as
/// "true"/"false", objects and arrays as JSON text, null as null.
fn stored_form(value: &Value) -> Value {
    match value {
        Value::Bool(flag) => Value::String(flag.to_string()),
        Value::Array(_) | Value::Object(_) => Value::String(value.to_string()),
        other => other.clone(),
    }
}

pub async fn update_metadata(
    State(state): State<AppState>,
    Path(project): Path<String>,
    params: QueryParams,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let project = resolve_project(&state.store, &project).await?;
    let patch_column = params.get("patch_document_column_name").unwrap_or("patch_document").to_string();
    let rows = rows(&state, &headers, body).await?;
    let mut errors = Vec::new();
    let mut updates = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let span_id = match span_id_of(row, index) {
            Ok(id) => id,
            Err(_) => {
                errors.push(json!({"span_id": "", "error_message": format!("[parse_failure] row {index} has no context.span_id")}));
                continue;
            }
        };
        let mut values = Map::new();
        for (column, value) in row {
            if let Some(field) = column.strip_prefix("attributes.metadata.") {
                values.insert(field.to_string(), stored_form(value));
            }
        }
        // The patch document goes last and wins over the field columns.
        let patch = match row.get(&patch_column) {
            None | Some(Value::Null) => None,
            Some(Value::Object(patch)) => Some(patch.clone()),
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(patch)) => Some(patch),
                _ => {
                    errors
                        .push(json!({"span_id": span_id, "error_message": format!("[parse_failure] {patch_column} is not a JSON object")}));
                    continue;
                }
            },
            Some(_) => {
                errors.push(json!({"span_id": span_id, "error_message": format!("[parse_failure] {patch_column} is not a JSON object")}));
                continue;
            }
        };
        for (key, value) in patch.iter().flatten() {
            values.insert(key.clone(), stored_form(value));
        }
        if values.is_empty() {
            errors.push(json!({"span_id": span_id, "error_message": "[parse_failure] no attributes.metadata.* column or patch document"}));
            continue;
        }
        updates.push(MetadataUpdate { span_id, values });
    }
    let outcome = state.store.update_span_metadata(project.id, &updates).await?;
    for (span_id, failure) in outcome.failed {
        let message = match failure {
            MetadataFailure::NotFound => format!("[segment_not_found] span {span_id} is not in project {}", project.name),
            MetadataFailure::NotAnObject => "[patch_failure] the span's metadata is not an object".to_string(),
            MetadataFailure::TypeConflict { key, stored, given } => {
                format!("[type_conflict] Type conflict: metadata.{key} holds {stored}, the update gives {given}")
            }
        };
        errors.push(json!({"span_id": span_id, "error_message": message}));
    }
    Ok(Json(json!({
        "spans_processed": rows.len(),
        "spans_updated": outcome.updated,
        "spans_failed": errors.len(),
        "errors": errors,
    })))
}

/// Deletes spans by id, from `{"span_ids": [...]}` or rows with a `context.span_id` column;
/// unknown ids are ignored. 204: every named span is gone.
pub async fn delete_spans(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let project = resolve_project(&state.store, &project).await?;
    let body = decompress(body, content_encoding(&headers)?, state.max_body_bytes)?;
    let ids: Vec<String> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) if object.contains_key("span_ids") => match object.get("span_ids") {
            Some(Value::Array(ids)) => ids
                .iter()
                .map(|id| id.as_str().map(str::to_string).ok_or_else(|| ApiError::unprocessable("span_ids holds text ids")))
                .collect::<ApiResult<_>>()?,
            _ => return Err(ApiError::unprocessable("span_ids is a list of span ids")),
        },
        _ => read_rows(&headers, &body)?.iter().enumerate().map(|(index, row)| span_id_of(row, index)).collect::<ApiResult<_>>()?,
    };
    state.store.delete_spans_by_id(project.id, &ids).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
