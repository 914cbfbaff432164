//! Arize AX's span REST API v2, as the `arize` SDK calls it: `POST /v2/spans` (list),
//! `POST /v2/spans/annotate`, `DELETE /v2/spans` (a JSON body) and `POST /v2/traces`. The rules
//! are the AX span service's (`ember_service::ax_spans`); this renders its answers in the SDK's
//! shapes, and errors as problems.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, State};
use axum::http::{Request, StatusCode};
use axum::Json;
use ember_core::time::{format_nanos, parse_timestamp};
use ember_core::{GlobalId, GlobalType};
use ember_service::ax_spans::{AxAnnotationRecord, AxAnnotationValue, AxListQuery, AxSpan, Columns, Granularity, Window};
use ember_service::ProjectRef;
use ember_store::{AnnotationRecord, UserRecord};
use ember_wire as w;
use serde::de::DeserializeOwned;

use super::parse_json;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, Problem, ProblemResult};
use crate::params::QueryParams;
use crate::AppState;

/// The most spans or traces a page holds, and how many by default.
const MAX_LIMIT: usize = 500;
const DEFAULT_LIMIT: usize = 50;

/// A JSON body whose errors are problems.
pub struct AxJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AxJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request<axum::body::Body>, state: &S) -> Result<Self, Self::Rejection> {
        let bytes =
            Bytes::from_request(request, state).await.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        Ok(AxJson(parse_json(&bytes)?))
    }
}

/// An ISO 8601 time of the body (no offset: UTC).
fn time(value: Option<&str>, name: &str) -> Result<Option<i64>, ApiError> {
    value
        .map(|text| parse_timestamp(text).ok_or_else(|| ApiError::unprocessable(format!("{name} is not an ISO 8601 time: {text:?}"))))
        .transpose()
}

fn window(start: Option<&str>, end: Option<&str>) -> Result<Window, ApiError> {
    Ok(Window { start: time(start, "start_time")?, end: time(end, "end_time")? })
}

fn pagination(next_cursor: Option<i64>, global_type: GlobalType) -> w::AxPagination {
    let next_cursor = next_cursor.map(|rowid| GlobalId::encode(global_type, rowid));
    w::AxPagination { has_more: next_cursor.is_some(), next_cursor }
}

fn annotation(record: &AnnotationRecord, annotators: &HashMap<i64, UserRecord>) -> w::AxAnnotation {
    w::AxAnnotation {
        name: record.name.clone(),
        score: record.score,
        label: record.label.clone(),
        text: record.explanation.clone(),
        updated_at: format_nanos(record.updated_at),
        annotator: record.user_id.map(|id| w::AxAnnotator {
            id: GlobalId::encode(GlobalType::User, id),
            email: annotators.get(&id).map(|user| user.email.clone()),
        }),
    }
}

fn span(ax: AxSpan, annotators: &HashMap<i64, UserRecord>) -> w::AxSpan {
    let AxSpan { record, annotations, trace_annotations, evaluations } = ax;
    let span = record.span;
    w::AxSpan {
        context: w::AxSpanContext { trace_id: span.trace_id, span_id: span.span_id },
        kind: span.span_kind.as_str().to_string(),
        parent_id: span.parent_id,
        start_time: format_nanos(span.start_time),
        end_time: format_nanos(span.end_time),
        latency_ms: (span.end_time - span.start_time) as f64 / 1e6,
        status_code: span.status_code.as_str().to_string(),
        status_message: span.status_message,
        name: span.name,
        attributes: span.attributes,
        annotations: annotations.iter().map(|record| annotation(record, annotators)).collect(),
        trace_annotations: trace_annotations.iter().map(|record| annotation(record, annotators)).collect(),
        evaluations: evaluations
            .into_iter()
            .map(|record| w::AxEvaluation {
                name: record.name,
                score: record.score,
                label: record.label,
                explanation: record.explanation,
                metadata: record.metadata.as_object().filter(|metadata| !metadata.is_empty()).cloned(),
            })
            .collect(),
        events: span
            .events
            .into_iter()
            .map(|event| w::AxSpanEvent { name: event.name, timestamp: format_nanos(event.timestamp), attributes: event.attributes })
            .collect(),
    }
}

/// `POST /v2/spans?limit=&cursor=`: a page of a project's spans, newest first.
pub async fn list_spans(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
    AxJson(request): AxJson<w::AxListSpansRequest>,
) -> ProblemResult<Json<w::AxSpans>> {
    let query = AxListQuery {
        window: window(request.start_time.as_deref(), request.end_time.as_deref())?,
        filter: request.filter,
        columns: Columns::from_lists(request.included_columns, request.excluded_columns)?,
        truncate_string_length: request.truncate_string_length,
        cursor: params.cursor(GlobalType::Span)?,
        limit: params.limit(DEFAULT_LIMIT, Some(MAX_LIMIT))?,
    };
    let page = state.services.ax_spans().list(&caller, ProjectRef::Identifier(&request.project_id), &query).await?;
    Ok(Json(w::AxSpans {
        spans: page.spans.into_iter().map(|ax| span(ax, &page.annotators)).collect(),
        pagination: pagination(page.next_cursor, GlobalType::Span),
    }))
}

/// `POST /v2/traces?limit=&cursor=`: a page of a project's traces with their spans.
pub async fn list_traces(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
    AxJson(request): AxJson<w::AxListTracesRequest>,
) -> ProblemResult<Json<w::AxTraces>> {
    let query = AxListQuery {
        window: window(request.start_time.as_deref(), request.end_time.as_deref())?,
        filter: request.filter,
        cursor: params.cursor(GlobalType::Trace)?,
        limit: params.limit(DEFAULT_LIMIT, Some(MAX_LIMIT))?,
        ..AxListQuery::default()
    };
    let page = state.services.ax_spans().traces(&caller, ProjectRef::Identifier(&request.project_id), &query).await?;
    let annotators = page.annotators;
    Ok(Json(w::AxTraces {
        traces: page
            .traces
            .into_iter()
            .map(|trace| w::AxTrace {
                trace_id: trace.trace.trace_id.clone(),
                root_span_id: trace.root_span_id,
                start_time: format_nanos(trace.trace.start_time),
                end_time: format_nanos(trace.trace.end_time),
                spans_truncated: trace.spans_truncated,
                spans: trace.spans.into_iter().map(|ax| span(ax, &annotators)).collect(),
            })
            .collect(),
        pagination: pagination(page.next_cursor, GlobalType::Trace),
    }))
}

/// `POST /v2/spans/annotate`: 202 once every annotation is written; 404 and nothing written
/// when a record is not in the project and window.
pub async fn annotate_spans(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    AxJson(request): AxJson<w::AxAnnotateSpansRequest>,
) -> ProblemResult<StatusCode> {
    let granularity = match request.granularity.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("SPAN") => Granularity::Span,
        Some("TRACE") => Granularity::Trace,
        Some("SESSION") => Granularity::Session,
        Some(other) => return Err(ApiError::unprocessable(format!("granularity is SPAN, TRACE or SESSION, not {other:?}")).into()),
    };
    let records = annotation_records(request.annotations);
    let window = window(request.start_time.as_deref(), request.end_time.as_deref())?;
    let project = ProjectRef::Identifier(&request.project_id);
    state.services.ax_spans().annotate(&caller, project, window, granularity, &records).await?;
    Ok(StatusCode::ACCEPTED)
}

/// AX annotation records as the service takes them.
pub fn annotation_records(records: Vec<w::AxAnnotateRecord>) -> Vec<AxAnnotationRecord> {
    records
        .into_iter()
        .map(|record| AxAnnotationRecord {
            record_id: record.record_id,
            values: record
                .values
                .into_iter()
                .map(|value| AxAnnotationValue { name: value.name, score: value.score, label: value.label, text: value.text })
                .collect(),
        })
        .collect()
}

/// `DELETE /v2/spans` (a JSON body): which ids were deleted and which were not found.
pub async fn delete_spans(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    AxJson(request): AxJson<w::AxDeleteSpansRequest>,
) -> ProblemResult<Json<w::AxDeleteSpansResponse>> {
    let window = window(request.start_time.as_deref(), request.end_time.as_deref())?;
    let project = ProjectRef::Identifier(&request.project_id);
    let deletion = state.services.ax_spans().delete(&caller, project, window, &request.span_ids).await?;
    Ok(Json(w::AxDeleteSpansResponse {
        completed: true,
        deleted_span_ids: deletion.deleted_span_ids,
        not_deleted_span_ids: deletion.not_deleted_span_ids,
    }))
}
