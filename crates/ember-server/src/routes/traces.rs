//! `/v1/projects/{p}/traces`, `/v1/traces/{id}`, `/v1/traces/transfer`.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::GlobalId;
use ember_store::{Filter, Grain, Store, TraceFilters, TraceOrder, TraceRecord, TraceSort};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{resolve_project, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};

pub async fn list(State(state): State<AppState>, Path(identifier): Path<String>, params: QueryParams) -> ApiResult<Json<Value>> {
    let limit = params.limit(100, Some(1000))?;
    let cursor = params.cursor("Trace")?;
    let sort = match params.choice("sort", &["start_time", "latency_ms"], "start_time")? {
        "latency_ms" => TraceSort::LatencyMs,
        _ => TraceSort::StartTime,
    };
    let order = match params.choice("order", &["asc", "desc"], "desc")? {
        "asc" => TraceOrder::Asc,
        _ => TraceOrder::Desc,
    };
    let include_spans = params.bool("include_spans", false)?;
    let start_time = params.timestamp("start_time")?;
    let end_time = params.timestamp("end_time")?;
    let project = resolve_project(&state.store, &identifier).await?;
    let session_identifiers = params.all("session_identifier");
    let session_rowids =
        if session_identifiers.is_empty() { None } else { Some(resolve_sessions(&state.store, &session_identifiers).await?) };
    let to_nanos = |ms: Option<f64>| ms.map(|ms| (ms * 1e6).round() as i64);
    let min_latency = to_nanos(params.non_negative_f64("min_latency_ms")?);
    let max_latency = to_nanos(params.non_negative_f64("max_latency_ms")?);
    if let (Some(min), Some(max)) = (min_latency, max_latency) {
        if min > max {
            return Err(ApiError::unprocessable("min_latency_ms must not exceed max_latency_ms"));
        }
    }
    let has_error = params.optional_bool("error")?;
    let condition = params.filter("filter_condition", |text| Filter::phoenix(text, Grain::Trace))?;
    let filters = TraceFilters { start_time, end_time, session_rowids, has_error, min_latency, max_latency, condition };
    let page = state.store.list_traces(project.id, &filters, sort, order, cursor, limit).await?;
    let mut spans_by_trace: HashMap<i64, Vec<Value>> = HashMap::new();
    if include_spans {
        let rowids: Vec<i64> = page.items.iter().map(|t| t.rowid).collect();
        for record in state.store.spans_of_traces(&rowids).await? {
            spans_by_trace.entry(record.trace_rowid).or_default().push(wire::trace_span(&record));
        }
    }
    let data = page
        .items
        .iter()
        .map(|trace| wire::trace(trace, include_spans.then(|| spans_by_trace.remove(&trace.rowid).unwrap_or_default())))
        .collect();
    Ok(Json(wire::page(data, page.next_cursor, "Trace")))
}

/// Session GlobalIDs and `session.id` strings to session rowids (unknown ones match nothing).
async fn resolve_sessions(store: &Store, identifiers: &[String]) -> ApiResult<Vec<i64>> {
    let mut rowids = Vec::new();
    let mut by_name = Vec::new();
    for identifier in identifiers {
        match GlobalId::decode_as(identifier, "ProjectSession") {
            Some(rowid) => rowids.push(rowid),
            None => by_name.push(identifier.as_str()),
        }
    }
    if !by_name.is_empty() {
        rowids.extend(store.session_rowids_by_session_id(&by_name).await?);
    }
    Ok(rowids)
}

async fn resolve_trace(store: &Store, identifier: &str) -> ApiResult<TraceRecord> {
    let found = match GlobalId::decode_as(identifier, "Trace") {
        Some(rowid) => store.get_trace(Some(rowid), None).await?,
        None => store.get_trace(None, Some(identifier)).await?,
    };
    found.ok_or_else(|| ApiError::not_found(format!("Trace not found: {identifier}")))
}

pub async fn delete(State(state): State<AppState>, Path(identifier): Path<String>) -> ApiResult<StatusCode> {
    let trace = resolve_trace(&state.store, &identifier).await?;
    state.store.delete_trace(trace.rowid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct TransferTraces {
    trace_identifiers: Vec<String>,
    destination_project_identifier: String,
}

pub async fn transfer(State(state): State<AppState>, JsonBody(body): JsonBody<TransferTraces>) -> ApiResult<Json<Value>> {
    if body.trace_identifiers.is_empty() {
        return Err(ApiError::unprocessable("trace_identifiers must name at least one trace"));
    }
    let destination = resolve_project(&state.store, &body.destination_project_identifier).await?;
    let mut rowids = Vec::with_capacity(body.trace_identifiers.len());
    let mut source_projects = std::collections::HashSet::new();
    for identifier in &body.trace_identifiers {
        let trace = resolve_trace(&state.store, identifier).await?;
        source_projects.insert(trace.project_id);
        rowids.push(trace.rowid);
    }
    if source_projects.len() > 1 {
        return Err(ApiError::unprocessable("All traces must belong to the same source project"));
    }
    rowids.sort_unstable();
    rowids.dedup();
    let transferred = state.store.transfer_traces(&rowids, destination.id).await?;
    Ok(Json(
        json!({"data": {"transferred_trace_count": transferred, "destination_project_id": GlobalId::encode("Project", destination.id)}}),
    ))
}
