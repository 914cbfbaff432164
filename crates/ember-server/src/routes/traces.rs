//! `/v1/projects/{p}/traces`, `/v1/traces/{id}`, `/v1/traces/transfer`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ember_core::{GlobalId, GlobalType};
use ember_service::traces::TraceListQuery;
use ember_service::ProjectRef;
use ember_store::{Filter, Grain, TraceOrder, TraceSort};
use serde::Deserialize;

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, Page, Trace, TransferResult};

/// `DELETE /v1/projects/{p}/traces?start_time=&end_time=`: purges the traces that started in
/// the window (both bounds required, as Phoenix requires them).
pub async fn purge(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    params: QueryParams,
) -> ApiResult<StatusCode> {
    let required = |name: &str| -> ApiResult<i64> {
        params.timestamp(name)?.ok_or_else(|| ApiError::validation(&["query", name], "missing", "Field required", serde_json::Value::Null))
    };
    let (start, end) = (required("start_time")?, required("end_time")?);
    state.services.traces().purge(&caller, ProjectRef::Identifier(&identifier), start, end).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<Page<Trace>>> {
    let query = TraceListQuery {
        limit: params.limit(100, Some(1000))?,
        cursor: params.cursor(GlobalType::Trace)?,
        sort: match params.choice("sort", &["start_time", "latency_ms"], "start_time")? {
            "latency_ms" => TraceSort::LatencyMs,
            _ => TraceSort::StartTime,
        },
        order: match params.choice("order", &["asc", "desc"], "desc")? {
            "asc" => TraceOrder::Asc,
            _ => TraceOrder::Desc,
        },
        include_spans: params.bool("include_spans", false)?,
        start_time: params.timestamp("start_time")?,
        end_time: params.timestamp("end_time")?,
        session_identifiers: params.all("session_identifier"),
        min_latency_ms: params.non_negative_f64("min_latency_ms")?,
        max_latency_ms: params.non_negative_f64("max_latency_ms")?,
        has_error: params.optional_bool("error")?,
        condition: params.filter("filter_condition", |text| Filter::phoenix(text, Grain::Trace))?,
    };
    let include_spans = query.include_spans;
    let mut listed = state.services.traces().list(&caller, ProjectRef::Identifier(&identifier), query).await?;
    let data: Vec<Trace> = listed
        .page
        .items
        .iter()
        .map(|trace| {
            let spans = include_spans.then(|| listed.spans.remove(&trace.rowid).unwrap_or_default().iter().map(wire::trace_span).collect());
            wire::trace(trace, spans)
        })
        .collect();
    Ok(Json(wire::page(data, listed.page.next_cursor, GlobalType::Trace)))
}

pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<StatusCode> {
    state.services.traces().delete(&caller, &identifier).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct TransferTraces {
    trace_identifiers: Vec<String>,
    destination_project_identifier: String,
}

pub async fn transfer(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<TransferTraces>,
) -> ApiResult<Json<Data<TransferResult>>> {
    let destination = ProjectRef::Identifier(&body.destination_project_identifier);
    let (transferred, destination) = state.services.traces().transfer(&caller, &body.trace_identifiers, destination).await?;
    Ok(Json(Data::new(TransferResult {
        transferred_trace_count: transferred,
        destination_project_id: GlobalId::encode(GlobalType::Project, destination.id),
    })))
}
