//! `/v1/projects/{p}/spans`, `/v1/projects/{p}/spans/otlpv1`, `/v1/spans/{id}`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_core::time::{parse_zoned_timestamp, ZonedTimestamp};
use ember_core::{semconv, GlobalType, Span, SpanEvent, SpanKind, StatusCode as SpanStatus};
use ember_service::spans::{InvalidSpan, SpanCandidate, SpanCreation};
use ember_service::{Caller, ProjectRef};
use ember_store::{AttributeFilter, Filter, Grain, Page, SpanFilters, SpanRecord};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};

fn filters_from(params: &QueryParams) -> ApiResult<SpanFilters> {
    let upper = |values: Vec<String>| values.into_iter().map(|v| v.trim().to_ascii_uppercase()).collect::<Vec<_>>();
    let attributes = params
        .all("attribute")
        .iter()
        .map(|raw| {
            let (key, value) = raw.split_once(':').filter(|(key, _)| !key.trim().is_empty()).ok_or_else(|| {
                ApiError::unprocessable(format!("Invalid attribute filter {raw:?}: expected key:value, e.g. metadata.tier:gold"))
            })?;
            // The value is JSON when it parses as JSON (`k:12`, `k:true`, `k:"12"`), else a string.
            let value = serde_json::from_str::<Value>(value).unwrap_or_else(|_| Value::String(value.to_string()));
            Ok(AttributeFilter { key: key.trim().to_string(), value })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(SpanFilters {
        trace_ids: params.all("trace_id"),
        span_ids: params.all("span_id"),
        parent_id: params.get("parent_id").map(|p| (p != "null" && !p.is_empty()).then(|| p.to_string())),
        names: params.all("name"),
        span_kinds: upper(params.all("span_kind")),
        status_codes: upper(params.all("status_code")),
        attributes,
        start_time: params.timestamp("start_time")?,
        end_time: params.timestamp("end_time")?,
        condition: span_condition(params)?,
    })
}

/// `filter` (Arize AX syntax) or `filter_condition` (Phoenix's language); ember extensions.
fn span_condition(params: &QueryParams) -> ApiResult<Option<Filter>> {
    if params.get("filter").is_some() && params.get("filter_condition").is_some() {
        return Err(ApiError::unprocessable("Give either filter (Arize AX syntax) or filter_condition (Phoenix syntax), not both"));
    }
    let arize = params.filter("filter", Filter::arize)?;
    let phoenix = params.filter("filter_condition", |text| Filter::phoenix(text, Grain::Span))?;
    Ok(arize.or(phoenix))
}

/// The page of spans both list routes answer with.
async fn span_page(state: &AppState, caller: &Caller, identifier: &str, params: &QueryParams) -> ApiResult<Page<SpanRecord>> {
    let limit = params.limit(100, Some(1000))?;
    let cursor = params.cursor(GlobalType::Span)?;
    let filters = filters_from(params)?;
    Ok(state.services.spans().list(caller, ProjectRef::Identifier(identifier), &filters, cursor, limit).await?)
}

pub async fn list(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let page = span_page(&state, &caller, &identifier, &params).await?;
    let data = page.items.iter().map(wire::span).collect();
    Ok(Json(wire::page(data, page.next_cursor, GlobalType::Span)).into_response())
}

pub async fn list_otlp(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    params: QueryParams,
) -> ApiResult<Json<ember_wire::Page<Value>>> {
    let page = span_page(&state, &caller, &identifier, &params).await?;
    let data = page.items.iter().map(|record| ember_otlp::encode::span_to_otlp_json(&record.span)).collect();
    Ok(Json(wire::page(data, page.next_cursor, GlobalType::Span)))
}

/// Deletes a span by GlobalID or OpenTelemetry span id.
pub async fn delete(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
) -> ApiResult<StatusCode> {
    state.services.spans().delete(&caller, &identifier).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct CreateSpans {
    data: Vec<InputSpan>,
}

#[derive(Deserialize)]
struct InputContext {
    trace_id: String,
    span_id: String,
}

#[derive(Deserialize)]
struct InputEvent {
    name: String,
    timestamp: String,
    #[serde(default)]
    attributes: Map<String, Value>,
}

#[derive(Deserialize)]
struct InputSpan {
    name: String,
    context: InputContext,
    span_kind: String,
    #[serde(default)]
    parent_id: Option<String>,
    start_time: String,
    end_time: String,
    status_code: String,
    #[serde(default)]
    status_message: Option<String>,
    #[serde(default)]
    attributes: Map<String, Value>,
    #[serde(default)]
    events: Vec<InputEvent>,
}

/// A body span as a span, or why it cannot be one (the span service checks the rest).
fn convert_span(input: InputSpan) -> SpanCandidate {
    let (trace_id, span_id) = (input.context.trace_id.clone(), input.context.span_id.clone());
    parse_span(input).map_err(|error| InvalidSpan { trace_id, span_id, error })
}

/// A span's or event's time, which must name its timezone (Phoenix's words when it does not).
fn aware_timestamp(field: &str, text: &str) -> Result<i64, String> {
    match parse_zoned_timestamp(text) {
        ZonedTimestamp::Aware(nanos) => Ok(nanos),
        ZonedTimestamp::Naive => {
            Err(format!("{field}: timezone-naive timestamp is not allowed; all timestamps must be timezone-aware (e.g., use UTC)."))
        }
        ZonedTimestamp::Invalid => Err(format!("invalid {field} {text:?}")),
    }
}

fn parse_span(input: InputSpan) -> Result<Span, String> {
    let trace_id = input.context.trace_id.trim().to_string();
    let span_id = input.context.span_id.trim().to_string();
    let start_time = aware_timestamp("start_time", &input.start_time)?;
    let end_time = aware_timestamp("end_time", &input.end_time)?;
    let status_code = SpanStatus::parse(&input.status_code)
        .ok_or_else(|| format!("invalid status_code {:?}; use OK, ERROR or UNSET", input.status_code))?;
    let span_kind = SpanKind::parse(&input.span_kind);
    if let Some(problem) = ember_otlp::attributes::too_many_attributes(input.attributes.len()) {
        return Err(problem);
    }
    let mut flat: Vec<(String, Value)> = input.attributes.into_iter().collect();
    flat.retain(|(key, _)| key != semconv::SPAN_KIND);
    flat.push((semconv::SPAN_KIND.to_string(), json!(span_kind.as_str())));
    let attributes = ember_otlp::attributes::unflatten(ember_otlp::attributes::parse_json_string_attributes(flat));
    let events = input
        .events
        .into_iter()
        .map(|event| {
            let timestamp = aware_timestamp("timestamp", &event.timestamp)?;
            Ok(SpanEvent { name: event.name, timestamp, attributes: event.attributes })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Span {
        trace_id,
        span_id,
        parent_id: input.parent_id.filter(|p| !p.trim().is_empty()),
        name: input.name,
        span_kind,
        start_time,
        end_time,
        attributes,
        events,
        status_code,
        status_message: input.status_message.unwrap_or_default(),
    })
}

/// Creates spans; if any is invalid or a duplicate, none is stored (400 with the details).
/// 202 once every span is committed.
pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(identifier): Path<String>,
    JsonBody(body): JsonBody<CreateSpans>,
) -> ApiResult<Response> {
    let candidates = body.data.into_iter().map(convert_span).collect();
    match state.services.spans().create(&caller, ProjectRef::Identifier(&identifier), candidates).await? {
        SpanCreation::Created { total } => {
            Ok((StatusCode::ACCEPTED, Json(ember_wire::SpansQueued { total_received: total, total_queued: total })).into_response())
        }
        SpanCreation::Refused { total, invalid, duplicates } => {
            let invalid: Vec<ember_wire::InvalidSpan> = invalid
                .into_iter()
                .map(|span| ember_wire::InvalidSpan { span_id: span.span_id, trace_id: span.trace_id, error: span.error })
                .collect();
            let duplicates: Vec<ember_wire::DuplicateSpan> =
                duplicates.into_iter().map(|(trace_id, span_id)| ember_wire::DuplicateSpan { span_id, trace_id }).collect();
            let detail = ember_wire::SpanRejection {
                error: format!("{} invalid and {} duplicate spans; no spans were queued", invalid.len(), duplicates.len()),
                total_received: total,
                total_queued: 0,
                total_invalid: invalid.len(),
                total_duplicates: duplicates.len(),
                invalid_spans: invalid,
                duplicate_spans: duplicates,
            };
            let text = serde_json::to_string(&detail).map_err(ApiError::internal)?;
            Ok((StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
        }
    }
}
