//! Span, trace, session and document annotations and notes: `POST /v1/{span,trace,session,document}_annotations`,
//! `POST /v1/{span,trace,session}_notes`, `GET` and `DELETE /v1/projects/{p}/{span,trace,session}_annotations`.
//! The handlers parse each body into annotations for one [`AnnotationTarget`] and call the
//! annotation service, which holds the rules.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_core::{AnnotationSource, AnnotationTarget, AnnotatorKind, GlobalType};
use ember_service::annotations::DeletionRequest;
use ember_service::ProjectRef;
use ember_store::{AnnotationInput, AnnotationQuery, DocumentAnnotationInput};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::JsonBody;
use crate::authentication::RequestCaller;
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::{wire, AppState};
use ember_wire::{Data, Id, IdList};

#[derive(Deserialize, Default)]
struct ResultData {
    label: Option<String>,
    score: Option<f64>,
    explanation: Option<String>,
}

/// The fields every annotation body shares.
#[derive(Deserialize)]
pub struct AnnotationFields {
    name: String,
    /// Checked by hand: inside a flattened struct serde would not name the field.
    annotator_kind: String,
    result: Option<ResultData>,
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    identifier: String,
}

#[derive(Deserialize)]
pub struct SpanAnnotationData {
    span_id: String,
    #[serde(flatten)]
    fields: AnnotationFields,
}

#[derive(Deserialize)]
pub struct TraceAnnotationData {
    trace_id: String,
    #[serde(flatten)]
    fields: AnnotationFields,
}

#[derive(Deserialize)]
pub struct SessionAnnotationData {
    session_id: String,
    #[serde(flatten)]
    fields: AnnotationFields,
}

#[derive(Deserialize)]
pub struct DocumentAnnotationData {
    span_id: String,
    document_position: i64,
    #[serde(flatten)]
    fields: AnnotationFields,
}

#[derive(Deserialize)]
pub struct AnnotateBody<T> {
    data: Vec<T>,
}

/// Converts the bodies' annotations (422 naming a bad annotator kind).
fn inputs(data: Vec<(String, AnnotationFields)>) -> ApiResult<Vec<AnnotationInput>> {
    data.into_iter()
        .enumerate()
        .map(|(index, (target_id, fields))| {
            let annotator_kind = AnnotatorKind::parse(&fields.annotator_kind).ok_or_else(|| {
                ApiError::validation_at(
                    vec![json!("body"), json!("data"), json!(index), json!("annotator_kind")],
                    "enum",
                    "Input should be 'LLM', 'CODE' or 'HUMAN'",
                    json!(fields.annotator_kind),
                )
            })?;
            let result = fields.result.unwrap_or_default();
            Ok(AnnotationInput {
                target_id,
                name: fields.name,
                label: result.label,
                score: result.score,
                explanation: result.explanation,
                metadata: Value::Object(fields.metadata.unwrap_or_default()),
                annotator_kind,
                identifier: fields.identifier,
                source: AnnotationSource::Api,
            })
        })
        .collect()
}

/// `{"data": [{"id": ...}]}` when synchronous; Phoenix answers an asynchronous request before
/// knowing the ids (ember has written them either way).
fn inserted(sync: bool, global_type: GlobalType, ids: &[i64]) -> Json<IdList> {
    let data = if sync { ids.iter().map(|id| wire::id(global_type, *id)).collect() } else { vec![] };
    Json(Data::new(data))
}

async fn annotate(
    state: AppState,
    caller: ember_service::Caller,
    target: AnnotationTarget,
    params: QueryParams,
    data: Vec<(String, AnnotationFields)>,
) -> ApiResult<Json<IdList>> {
    let sync = params.bool("sync", false)?;
    let annotations = inputs(data)?;
    let ids = state.services.annotations().annotate(&caller, target, &annotations).await?;
    Ok(inserted(sync, target.annotation_type(), &ids))
}

pub async fn annotate_spans(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
    JsonBody(body): JsonBody<AnnotateBody<SpanAnnotationData>>,
) -> ApiResult<Json<IdList>> {
    annotate(state, caller, AnnotationTarget::Span, params, body.data.into_iter().map(|d| (d.span_id, d.fields)).collect()).await
}

pub async fn annotate_traces(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
    JsonBody(body): JsonBody<AnnotateBody<TraceAnnotationData>>,
) -> ApiResult<Json<IdList>> {
    annotate(state, caller, AnnotationTarget::Trace, params, body.data.into_iter().map(|d| (d.trace_id, d.fields)).collect()).await
}

pub async fn annotate_sessions(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
    JsonBody(body): JsonBody<AnnotateBody<SessionAnnotationData>>,
) -> ApiResult<Json<IdList>> {
    annotate(state, caller, AnnotationTarget::Session, params, body.data.into_iter().map(|d| (d.session_id, d.fields)).collect()).await
}

pub async fn annotate_documents(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    params: QueryParams,
    JsonBody(body): JsonBody<AnnotateBody<DocumentAnnotationData>>,
) -> ApiResult<Json<IdList>> {
    let sync = params.bool("sync", false)?;
    let positions: Vec<i64> = body.data.iter().map(|d| d.document_position).collect();
    let documents: Vec<DocumentAnnotationInput> = inputs(body.data.into_iter().map(|d| (d.span_id, d.fields)).collect())?
        .into_iter()
        .zip(positions)
        .map(|(annotation, document_position)| DocumentAnnotationInput { annotation, document_position })
        .collect();
    let ids = state
        .services
        .annotations()
        .annotate_documents(&caller, &documents)
        .await
        .map_err(|error| ApiError::from_service_at(error, &["body", "data"]))?;
    Ok(inserted(sync, GlobalType::DocumentAnnotation, &ids))
}

#[derive(Deserialize)]
pub struct SpanNoteData {
    span_id: String,
    note: String,
    #[serde(default)]
    identifier: String,
}

#[derive(Deserialize)]
pub struct TraceNoteData {
    trace_id: String,
    note: String,
    #[serde(default)]
    identifier: String,
}

#[derive(Deserialize)]
pub struct SessionNoteData {
    session_id: String,
    note: String,
    #[serde(default)]
    identifier: String,
}

#[derive(Deserialize)]
pub struct NoteBody<T> {
    data: T,
}

async fn note(
    state: AppState,
    caller: ember_service::Caller,
    target: AnnotationTarget,
    (target_id, note, identifier): (String, String, String),
) -> ApiResult<Json<Data<Id>>> {
    let id = state.services.annotations().add_note(&caller, target, target_id, note, Some(identifier)).await?;
    Ok(Json(Data::new(wire::id(target.annotation_type(), id))))
}

pub async fn span_note(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<NoteBody<SpanNoteData>>,
) -> ApiResult<Json<Data<Id>>> {
    let SpanNoteData { span_id, note: text, identifier } = body.data;
    note(state, caller, AnnotationTarget::Span, (span_id, text, identifier)).await
}

pub async fn trace_note(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<NoteBody<TraceNoteData>>,
) -> ApiResult<Json<Data<Id>>> {
    let TraceNoteData { trace_id, note: text, identifier } = body.data;
    note(state, caller, AnnotationTarget::Trace, (trace_id, text, identifier)).await
}

pub async fn session_note(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    JsonBody(body): JsonBody<NoteBody<SessionNoteData>>,
) -> ApiResult<Json<Data<Id>>> {
    let SessionNoteData { session_id, note: text, identifier } = body.data;
    note(state, caller, AnnotationTarget::Session, (session_id, text, identifier)).await
}

async fn list(
    state: AppState,
    caller: ember_service::Caller,
    target: AnnotationTarget,
    project: String,
    params: QueryParams,
) -> ApiResult<Response> {
    let query = AnnotationQuery {
        target_ids: params.all(&format!("{}_ids", target.noun())).into_iter().filter(|id| !id.is_empty()).collect(),
        identifiers: params.all("identifier"),
        include_names: params.all("include_annotation_names"),
        exclude_names: params.all("exclude_annotation_names"),
        cursor: params.cursor(target.annotation_type())?,
        limit: params.limit(10, Some(10_000))?,
    };
    let page = state.services.annotations().list(&caller, target, ProjectRef::Identifier(&project), &query).await?;
    let data = page.items.iter().map(|record| wire::annotation(target, record)).collect();
    Ok(Json(wire::page(data, page.next_cursor, target.annotation_type())).into_response())
}

async fn delete(
    state: AppState,
    caller: ember_service::Caller,
    target: AnnotationTarget,
    project: String,
    params: QueryParams,
) -> ApiResult<StatusCode> {
    let annotator_kind = match params.get("annotator_kind") {
        None => None,
        Some(kind) => AnnotatorKind::parse(params.choice("annotator_kind", &["LLM", "CODE", "HUMAN"], kind)?),
    };
    let request = DeletionRequest {
        name: params.get("name").map(str::to_string),
        identifier: params.get("identifier").map(str::to_string),
        annotator_kind,
        created_from: params.timestamp("start_time")?,
        created_before: params.timestamp("end_time")?,
        delete_all: params.bool("delete_all", false)?,
    };
    state.services.annotations().delete(&caller, target, ProjectRef::Identifier(&project), request).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_span_annotations(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    list(state, caller, AnnotationTarget::Span, project, params).await
}

pub async fn list_trace_annotations(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    list(state, caller, AnnotationTarget::Trace, project, params).await
}

pub async fn list_session_annotations(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    list(state, caller, AnnotationTarget::Session, project, params).await
}

pub async fn delete_span_annotations(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<StatusCode> {
    delete(state, caller, AnnotationTarget::Span, project, params).await
}

pub async fn delete_trace_annotations(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<StatusCode> {
    delete(state, caller, AnnotationTarget::Trace, project, params).await
}

pub async fn delete_session_annotations(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<StatusCode> {
    delete(state, caller, AnnotationTarget::Session, project, params).await
}
