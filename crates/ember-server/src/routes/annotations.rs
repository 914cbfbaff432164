//! Span, trace, session and document annotations and notes: `POST /v1/{span,trace,session,document}_annotations`,
//! `POST /v1/{span,trace,session}_notes`, `GET` and `DELETE /v1/projects/{p}/{span,trace,session}_annotations`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_core::GlobalId;
use ember_store::{
    AnnotationDeletion, AnnotationInput, AnnotationQuery, AnnotationRecord, AnnotationSource, AnnotatorKind, DocumentAnnotationInput, Store,
};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Map, Value};

use super::{resolve_project, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::params::QueryParams;
use crate::AppState;

/// What is annotated: spans or traces.
#[derive(Clone, Copy)]
enum Target {
    Span,
    Trace,
    Session,
}

impl Target {
    fn type_name(self) -> &'static str {
        match self {
            Target::Span => "SpanAnnotation",
            Target::Trace => "TraceAnnotation",
            Target::Session => "ProjectSessionAnnotation",
        }
    }

    /// The wire name of the target's id field.
    fn id_field(self) -> &'static str {
        match self {
            Target::Span => "span_id",
            Target::Trace => "trace_id",
            Target::Session => "session_id",
        }
    }

    fn note_prefix(self) -> &'static str {
        match self {
            Target::Span => "px-span-note",
            Target::Trace => "px-trace-note",
            Target::Session => "px-session-note",
        }
    }

    async fn upsert(self, store: &Store, annotations: &[AnnotationInput]) -> ApiResult<Vec<i64>> {
        Ok(match self {
            Target::Span => store.upsert_span_annotations(annotations).await?,
            Target::Trace => store.upsert_trace_annotations(annotations).await?,
            Target::Session => store.upsert_session_annotations(annotations).await?,
        })
    }
}

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

/// Checks and converts the bodies' annotations; `note` is refused where `reserved_note` names
/// the notes endpoint.
fn inputs(data: Vec<(String, AnnotationFields)>, reserved_note: Option<&str>) -> ApiResult<Vec<AnnotationInput>> {
    let mut annotations = Vec::with_capacity(data.len());
    for (index, (target_id, fields)) in data.into_iter().enumerate() {
        if let (Some(notes), "note") = (reserved_note, fields.name.as_str()) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("data[{index}]: the annotation name 'note' is reserved for notes (POST /v1/{notes}_notes)"),
            ));
        }
        let annotator_kind = AnnotatorKind::parse(&fields.annotator_kind).ok_or_else(|| {
            ApiError::validation_at(
                json!(["body", "data", index, "annotator_kind"]),
                "enum",
                "Input should be 'LLM', 'CODE' or 'HUMAN'",
                json!(fields.annotator_kind),
            )
        })?;
        let result = fields.result.unwrap_or_default();
        annotations.push(AnnotationInput {
            target_id,
            name: fields.name,
            label: result.label,
            score: result.score,
            explanation: result.explanation,
            metadata: Value::Object(fields.metadata.unwrap_or_default()),
            annotator_kind,
            identifier: fields.identifier,
            source: AnnotationSource::Api,
        });
    }
    Ok(annotations)
}

/// `{"data": [{"id": ...}]}` when synchronous; Phoenix answers an asynchronous request before
/// knowing the ids (ember has written them either way).
fn inserted(sync: bool, type_name: &str, ids: &[i64]) -> Json<Value> {
    let data: Vec<Value> = if sync { ids.iter().map(|id| json!({"id": GlobalId::encode(type_name, *id)})).collect() } else { vec![] };
    Json(json!({ "data": data }))
}

async fn annotate(state: AppState, target: Target, params: QueryParams, data: Vec<(String, AnnotationFields)>) -> ApiResult<Json<Value>> {
    let sync = params.bool("sync", false)?;
    let annotations = inputs(data, Some(target_word(target)))?;
    let ids = target.upsert(&state.store, &annotations).await?;
    Ok(inserted(sync, target.type_name(), &ids))
}

fn target_word(target: Target) -> &'static str {
    match target {
        Target::Span => "span",
        Target::Trace => "trace",
        Target::Session => "session",
    }
}

pub async fn annotate_spans(
    State(state): State<AppState>,
    params: QueryParams,
    JsonBody(body): JsonBody<AnnotateBody<SpanAnnotationData>>,
) -> ApiResult<Json<Value>> {
    annotate(state, Target::Span, params, body.data.into_iter().map(|d| (d.span_id, d.fields)).collect()).await
}

pub async fn annotate_traces(
    State(state): State<AppState>,
    params: QueryParams,
    JsonBody(body): JsonBody<AnnotateBody<TraceAnnotationData>>,
) -> ApiResult<Json<Value>> {
    annotate(state, Target::Trace, params, body.data.into_iter().map(|d| (d.trace_id, d.fields)).collect()).await
}

pub async fn annotate_sessions(
    State(state): State<AppState>,
    params: QueryParams,
    JsonBody(body): JsonBody<AnnotateBody<SessionAnnotationData>>,
) -> ApiResult<Json<Value>> {
    annotate(state, Target::Session, params, body.data.into_iter().map(|d| (d.session_id, d.fields)).collect()).await
}

/// Document annotations: Phoenix does not reserve the name `note` here.
pub async fn annotate_documents(
    State(state): State<AppState>,
    params: QueryParams,
    JsonBody(body): JsonBody<AnnotateBody<DocumentAnnotationData>>,
) -> ApiResult<Json<Value>> {
    let sync = params.bool("sync", false)?;
    if let Some(index) = body.data.iter().position(|d| d.document_position < 0) {
        return Err(ApiError::validation_at(
            json!(["body", "data", index, "document_position"]),
            "greater_than_equal",
            "Input should be greater than or equal to 0",
            json!(body.data[index].document_position),
        ));
    }
    let positions: Vec<i64> = body.data.iter().map(|d| d.document_position).collect();
    let annotations = inputs(body.data.into_iter().map(|d| (d.span_id, d.fields)).collect(), None)?;
    let documents: Vec<DocumentAnnotationInput> = annotations
        .into_iter()
        .zip(positions)
        .map(|(annotation, document_position)| DocumentAnnotationInput { annotation, document_position })
        .collect();
    let ids = state.store.upsert_document_annotations(&documents).await?;
    Ok(inserted(sync, "DocumentAnnotation", &ids))
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

async fn note(state: AppState, target: Target, target_id: String, note: String, identifier: String) -> ApiResult<Json<Value>> {
    // Without an identifier every note is a new row, as Phoenix does.
    let identifier = if identifier.is_empty() { format!("{}:{}", target.note_prefix(), uuid::Uuid::new_v4()) } else { identifier };
    let annotation = AnnotationInput {
        target_id,
        name: "note".into(),
        label: None,
        score: None,
        explanation: Some(note),
        metadata: json!({}),
        annotator_kind: AnnotatorKind::Human,
        identifier,
        source: AnnotationSource::Api,
    };
    let ids = target.upsert(&state.store, std::slice::from_ref(&annotation)).await?;
    Ok(Json(json!({"data": {"id": GlobalId::encode(target.type_name(), ids[0])}})))
}

pub async fn span_note(State(state): State<AppState>, JsonBody(body): JsonBody<NoteBody<SpanNoteData>>) -> ApiResult<Json<Value>> {
    let SpanNoteData { span_id, note: text, identifier } = body.data;
    note(state, Target::Span, span_id, text, identifier).await
}

pub async fn trace_note(State(state): State<AppState>, JsonBody(body): JsonBody<NoteBody<TraceNoteData>>) -> ApiResult<Json<Value>> {
    let TraceNoteData { trace_id, note: text, identifier } = body.data;
    note(state, Target::Trace, trace_id, text, identifier).await
}

pub async fn session_note(State(state): State<AppState>, JsonBody(body): JsonBody<NoteBody<SessionNoteData>>) -> ApiResult<Json<Value>> {
    let SessionNoteData { session_id, note: text, identifier } = body.data;
    note(state, Target::Session, session_id, text, identifier).await
}

/// A stored annotation as the list endpoints return it, serialised straight from the record
/// (building `Value`s first cost more than the query).
struct AnnotationView<'a> {
    target: Target,
    record: &'a AnnotationRecord,
}

#[derive(Serialize)]
struct AnnotationResultView<'a> {
    label: &'a Option<String>,
    score: Option<f64>,
    explanation: &'a Option<String>,
}

impl Serialize for AnnotationView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = self.record;
        let mut map = serializer.serialize_map(Some(11))?;
        map.serialize_entry("id", &GlobalId::encode(self.target.type_name(), record.rowid))?;
        map.serialize_entry("created_at", &ember_core::time::format_nanos(record.created_at))?;
        map.serialize_entry("updated_at", &ember_core::time::format_nanos(record.updated_at))?;
        map.serialize_entry("source", &record.source)?;
        map.serialize_entry("user_id", &record.user_id.map(|id| GlobalId::encode("User", id)))?;
        map.serialize_entry("name", &record.name)?;
        map.serialize_entry("annotator_kind", &record.annotator_kind)?;
        let result = AnnotationResultView { label: &record.label, score: record.score, explanation: &record.explanation };
        map.serialize_entry("result", &result)?;
        map.serialize_entry("metadata", &record.metadata)?;
        map.serialize_entry("identifier", &record.identifier)?;
        map.serialize_entry(self.target.id_field(), &record.target_id)?;
        map.end()
    }
}

#[derive(Serialize)]
struct AnnotationPage<'a> {
    data: Vec<AnnotationView<'a>>,
    next_cursor: Option<String>,
}

async fn list(state: AppState, target: Target, identifier: String, params: QueryParams) -> ApiResult<Response> {
    let ids_name = match target {
        Target::Span => "span_ids",
        Target::Trace => "trace_ids",
        Target::Session => "session_ids",
    };
    let target_ids: Vec<String> = params.all(ids_name).into_iter().filter(|id| !id.is_empty()).collect();
    let identifiers = params.all("identifier");
    if identifiers.iter().any(String::is_empty) {
        return Err(ApiError::unprocessable("identifier values must be non-empty"));
    }
    if target_ids.is_empty() && identifiers.is_empty() {
        return Err(ApiError::unprocessable(format!("{ids_name} or identifier must be supplied")));
    }
    let query = AnnotationQuery {
        target_ids,
        identifiers,
        include_names: params.all("include_annotation_names"),
        exclude_names: params.all("exclude_annotation_names"),
        cursor: params.cursor(target.type_name())?,
        limit: params.limit(10, Some(10_000))?,
    };
    let project = resolve_project(&state.store, &identifier).await?;
    let page = match target {
        Target::Span => state.store.list_span_annotations(project.id, &query).await?,
        Target::Trace => state.store.list_trace_annotations(project.id, &query).await?,
        Target::Session => state.store.list_session_annotations(project.id, &query).await?,
    };
    let data = page.items.iter().map(|record| AnnotationView { target, record }).collect();
    let next_cursor = page.next_cursor.map(|id| GlobalId::encode(target.type_name(), id));
    Ok(Json(AnnotationPage { data, next_cursor }).into_response())
}

pub async fn list_span_annotations(State(state): State<AppState>, Path(project): Path<String>, params: QueryParams) -> ApiResult<Response> {
    list(state, Target::Span, project, params).await
}

pub async fn list_trace_annotations(
    State(state): State<AppState>,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    list(state, Target::Trace, project, params).await
}

async fn delete(state: AppState, target: Target, identifier: String, params: QueryParams) -> ApiResult<StatusCode> {
    let non_empty = |name: &str| -> ApiResult<Option<String>> {
        match params.get(name) {
            None => Ok(None),
            Some("") => Err(ApiError::unprocessable(format!("{name} must be non-empty when given"))),
            Some(value) => Ok(Some(value.to_string())),
        }
    };
    let name = non_empty("name")?;
    let annotation_identifier = non_empty("identifier")?;
    let annotator_kind = match params.get("annotator_kind") {
        None => None,
        Some(kind) => Some(params.choice("annotator_kind", &["LLM", "CODE", "HUMAN"], kind)?.to_string()),
    };
    let created_from = params.timestamp("start_time")?;
    let created_before = params.timestamp("end_time")?;
    let delete_all = params.bool("delete_all", false)?;
    if !delete_all && (created_from.is_none() || created_before.is_none()) {
        return Err(ApiError::unprocessable("start_time and end_time are both required unless delete_all=true"));
    }
    let project = resolve_project(&state.store, &identifier).await?;
    let deletion = AnnotationDeletion { name, identifier: annotation_identifier, annotator_kind, created_from, created_before };
    match target {
        Target::Span => state.store.delete_span_annotations(project.id, &deletion).await?,
        Target::Trace => state.store.delete_trace_annotations(project.id, &deletion).await?,
        Target::Session => state.store.delete_session_annotations(project.id, &deletion).await?,
    };
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_span_annotations(
    State(state): State<AppState>,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<StatusCode> {
    delete(state, Target::Span, project, params).await
}

pub async fn list_session_annotations(
    State(state): State<AppState>,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    list(state, Target::Session, project, params).await
}

pub async fn delete_session_annotations(
    State(state): State<AppState>,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<StatusCode> {
    delete(state, Target::Session, project, params).await
}

pub async fn delete_trace_annotations(
    State(state): State<AppState>,
    Path(project): Path<String>,
    params: QueryParams,
) -> ApiResult<StatusCode> {
    delete(state, Target::Trace, project, params).await
}
