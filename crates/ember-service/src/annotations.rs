//! Annotations of spans, traces, sessions and retrieved documents, and notes: every way into
//! ember that writes one (REST, the web UI's form, GraphQL, the Arize AX bulk updates, legacy
//! evaluations) goes through here, so the rules hold for all of them:
//! - the name `note` is reserved for notes on spans, traces and sessions (document annotations
//!   may use it, as in Phoenix); no name is longer than `limits::MAX_NAME_BYTES`;
//! - an annotation made in the app (source `APP`: the web UI's panel, GraphQL callers that say
//!   so) follows the config of its name, if there is one (`AnnotationConfigInput::conform`);
//!   annotations sent by API clients and judges are stored as sent, as Phoenix stores them;
//! - an annotation names an existing target; a batch with one unknown target writes nothing;
//! - listing needs target ids or identifiers, deleting needs a time window or `delete_all`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use ember_core::{semconv, AnnotationSource, AnnotationTarget, AnnotatorKind};
use ember_store::{
    AnnotationDeletion, AnnotationInput, AnnotationPatch, AnnotationQuery, AnnotationRecord, DocumentAnnotationInput, LlmAnnotations, Page,
    SpanFilters, SpanRecord,
};
use serde_json::{json, Value};

use crate::annotation_configs::AnnotationConfigInput;
use crate::error::{Result, ServiceError};
use crate::limits::check_name;
use crate::projects::ProjectRef;
use crate::{Caller, Services};

/// The name notes are stored under.
pub const NOTE_NAME: &str = "note";

/// Which of a project's annotations to delete.
#[derive(Debug, Clone, Default)]
pub struct DeletionRequest {
    pub name: Option<String>,
    pub identifier: Option<String>,
    pub annotator_kind: Option<AnnotatorKind>,
    pub created_from: Option<i64>,
    pub created_before: Option<i64>,
    /// Delete regardless of creation time.
    pub delete_all: bool,
}

/// Refuses names past the length limit.
fn check_name_lengths<'a>(names: impl Iterator<Item = &'a str>) -> Result<()> {
    for (index, name) in names.enumerate() {
        check_name("annotation name", "name", name).map_err(|error| error.context(format_args!("annotation {index}")))?;
    }
    Ok(())
}

/// Refuses names past the length limit, and the reserved name in annotations that are not notes.
fn check_reserved_names(target: AnnotationTarget, annotations: &[AnnotationInput]) -> Result<()> {
    check_name_lengths(annotations.iter().map(|annotation| annotation.name.as_str()))?;
    if target == AnnotationTarget::Document {
        return Ok(());
    }
    match annotations.iter().position(|annotation| annotation.name == NOTE_NAME) {
        None => Ok(()),
        Some(index) => {
            let error = ServiceError::bad_request(format!(
                "the annotation name '{NOTE_NAME}' is reserved for notes; add a {} note instead",
                target.noun()
            ));
            Err(if annotations.len() > 1 { error.context(format_args!("annotation {index}")) } else { error })
        }
    }
}

pub struct Annotations<'a> {
    pub(crate) services: &'a Services,
}

impl Annotations<'_> {
    /// 403 unless the caller may change the projects of the annotated targets (named by
    /// OpenTelemetry id, or `session.id`); a target the caller may not read is not found.
    async fn check_targets_writable<'i>(
        &self,
        caller: &Caller,
        target: AnnotationTarget,
        ids: impl Iterator<Item = &'i str>,
    ) -> Result<()> {
        caller.require_write()?;
        if self.services.reaches_everything(caller) {
            return Ok(());
        }
        let mut ids: Vec<&str> = ids.collect();
        ids.sort_unstable();
        ids.dedup();
        // The rights of each project once, however many of its targets the batch names.
        let mut projects: BTreeMap<i64, String> = BTreeMap::new();
        for (id, project_id) in self.services.store.projects_of_targets(target, &ids).await? {
            projects.entry(project_id).or_insert(id);
        }
        for (project_id, id) in projects {
            let rights = self.services.project_rights(caller, project_id).await?;
            if !rights.read {
                return Err(ServiceError::not_found(format!("{} not found: {id}", target.noun())));
            }
            if !rights.write {
                return Err(ServiceError::forbidden(crate::access::NOT_WRITABLE));
            }
        }
        Ok(())
    }

    /// The project of the target `rowid` (a span, trace or session; a document's span), `None`
    /// when the caller may not read it or there is none.
    async fn target_project(&self, caller: &Caller, target: AnnotationTarget, rowid: i64) -> Result<Option<i64>> {
        Ok(match target {
            AnnotationTarget::Span | AnnotationTarget::Document => {
                self.services.spans().by_rowid(caller, rowid).await?.map(|span| span.project_id)
            }
            AnnotationTarget::Trace => self.services.traces().by_rowid(caller, rowid).await?.map(|trace| trace.project_id),
            AnnotationTarget::Session => self.services.sessions().by_rowid(caller, rowid).await?.map(|session| session.project_id),
        })
    }

    /// 403 unless the caller may change the project of the target `rowid` (404 if they cannot
    /// read it).
    async fn check_target_writable(&self, caller: &Caller, target: AnnotationTarget, rowid: i64) -> Result<()> {
        caller.require_write()?;
        let project_id = self
            .target_project(caller, target, rowid)
            .await?
            .ok_or_else(|| ServiceError::not_found(format!("{} not found", target.noun())))?;
        self.services.require_project_write(caller, project_id).await
    }

    /// Whether the caller may read the target `rowid` (a span, trace or session; a document's span).
    async fn target_readable(&self, caller: &Caller, target: AnnotationTarget, rowid: i64) -> Result<bool> {
        if self.services.reaches_everything(caller) {
            return Ok(true);
        }
        Ok(self.target_project(caller, target, rowid).await?.is_some())
    }

    /// Upserts span, trace or session annotations by (name, target, identifier); returns their
    /// ids in input order.
    pub async fn annotate(&self, caller: &Caller, target: AnnotationTarget, annotations: &[AnnotationInput]) -> Result<Vec<i64>> {
        self.check_targets_writable(caller, target, annotations.iter().map(|annotation| annotation.target_id.as_str())).await?;
        check_reserved_names(target, annotations)?;
        let annotations = self.conformed(annotations).await?;
        Ok(self.services.store.upsert_annotations(target, &annotations, caller.user_id()).await?)
    }

    /// The annotations with the scores they store: those made in the app checked against (and
    /// completed from) the config of their name; a batch with one that breaks its config
    /// writes nothing.
    async fn conformed<'a>(&self, annotations: &'a [AnnotationInput]) -> Result<Cow<'a, [AnnotationInput]>> {
        if !annotations.iter().any(|annotation| annotation.source == AnnotationSource::App) {
            return Ok(Cow::Borrowed(annotations));
        }
        let mut configs: HashMap<&str, Option<AnnotationConfigInput>> = HashMap::new();
        let mut conformed = annotations.to_vec();
        for (index, annotation) in conformed.iter_mut().enumerate().filter(|(_, a)| a.source == AnnotationSource::App) {
            let name = annotations[index].name.as_str();
            if !configs.contains_key(name) {
                let stored = self.services.store.get_annotation_config(None, Some(name)).await?;
                configs.insert(name, stored.as_ref().and_then(AnnotationConfigInput::of_stored));
            }
            if let Some(config) = &configs[name] {
                let score = config.conform(annotation.label.as_deref(), annotation.score);
                annotation.score =
                    if annotations.len() > 1 { score.map_err(|error| error.context(format_args!("annotation {index}")))? } else { score? };
            }
        }
        Ok(Cow::Owned(conformed))
    }

    /// Upserts annotations of retrieved documents by (name, span, position, identifier); each
    /// position must be one of the span's retrieved documents.
    pub async fn annotate_documents(&self, caller: &Caller, annotations: &[DocumentAnnotationInput]) -> Result<Vec<i64>> {
        let span_ids = annotations.iter().map(|document| document.annotation.target_id.as_str());
        self.check_targets_writable(caller, AnnotationTarget::Document, span_ids).await?;
        // Phoenix 20.26 keeps one annotation per (name, document): no identifiers (observed).
        if let Some(document) = annotations.iter().find(|document| !document.annotation.identifier.is_empty()) {
            return Err(ServiceError::invalid(format!("Non-empty identifier '{}' is not supported", document.annotation.identifier)));
        }
        self.check_document_positions(annotations).await?;
        self.write_documents(annotations, caller.user_id()).await
    }

    /// Upserts document annotations whose names and positions are well formed. Legacy
    /// evaluations come here directly: Phoenix's old `/v1/evaluations` took any position.
    async fn write_documents(&self, annotations: &[DocumentAnnotationInput], author: Option<i64>) -> Result<Vec<i64>> {
        check_name_lengths(annotations.iter().map(|document| document.annotation.name.as_str()))?;
        if let Some(index) = annotations.iter().position(|annotation| annotation.document_position < 0) {
            let position = annotations[index].document_position;
            return Err(ServiceError::field(
                &[index.into(), "document_position".into()],
                "greater_than_equal",
                "Input should be greater than or equal to 0",
                json!(position),
            ));
        }
        Ok(self.services.store.upsert_document_annotations(annotations, author).await?)
    }

    /// A 422 for a position outside the span's retrieved documents, worded as Phoenix 20.26 words
    /// it (observed); spans that are not stored are left to the write's 404.
    async fn check_document_positions(&self, annotations: &[DocumentAnnotationInput]) -> Result<()> {
        let mut span_ids: Vec<&str> = annotations.iter().map(|document| document.annotation.target_id.as_str()).collect();
        span_ids.sort_unstable();
        span_ids.dedup();
        let spans = self.services.store.spans_by_span_ids(&span_ids).await?;
        let documents: HashMap<&str, i64> = spans
            .iter()
            .map(|record| {
                let count = record.span.attribute(semconv::RETRIEVAL_DOCUMENTS).and_then(Value::as_array).map_or(0, Vec::len);
                (record.span.span_id.as_str(), count as i64)
            })
            .collect();
        for document in annotations {
            let span_id = document.annotation.target_id.as_str();
            let Some(count) = documents.get(span_id) else { continue };
            let position = document.document_position;
            if !(0..*count).contains(&position) {
                return Err(ServiceError::invalid(format!(
                    "Document position {position} is out of bounds for span {span_id} (max: {})",
                    count - 1
                )));
            }
        }
        Ok(())
    }

    /// Adds a note (a HUMAN annotation named `note` whose explanation is the text). Without an
    /// identifier every note is a new row, as in Phoenix.
    pub async fn add_note(
        &self,
        caller: &Caller,
        target: AnnotationTarget,
        target_id: String,
        text: String,
        identifier: Option<String>,
    ) -> Result<i64> {
        if target == AnnotationTarget::Document {
            return Err(ServiceError::bad_request("notes go on spans, traces and sessions"));
        }
        self.check_targets_writable(caller, target, std::iter::once(target_id.as_str())).await?;
        let identifier = identifier
            .filter(|identifier| !identifier.is_empty())
            .unwrap_or_else(|| format!("px-{}-note:{}", target.noun(), uuid::Uuid::new_v4()));
        let note = AnnotationInput {
            target_id,
            name: NOTE_NAME.into(),
            label: None,
            score: None,
            explanation: Some(text),
            metadata: json!({}),
            annotator_kind: AnnotatorKind::Human,
            identifier,
            source: AnnotationSource::Api,
        };
        let ids = self.services.store.upsert_annotations(target, std::slice::from_ref(&note), caller.user_id()).await?;
        ids.first().copied().ok_or_else(|| ServiceError::internal("a note was written without an id"))
    }

    /// Upserts span annotations after checking that every annotated span is in the project (and
    /// starts within `window`, when given): 404 naming the spans that are not, before anything is
    /// written. Returns how many were written.
    pub async fn annotate_spans_in_project(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        window: Option<(i64, i64)>,
        annotations: &[AnnotationInput],
    ) -> Result<usize> {
        let project = self.services.projects().resolve_writable(caller, project).await?;
        check_reserved_names(AnnotationTarget::Span, annotations)?;
        let missing = self.missing_spans(project.id, window, annotations).await?;
        if !missing.is_empty() {
            let place = if window.is_some() { "in the project and the time window" } else { "in the project" };
            return Err(ServiceError::not_found(format!("no span {place} with id {}", missing.join(", "))));
        }
        self.services.store.upsert_annotations(AnnotationTarget::Span, annotations, caller.user_id()).await?;
        Ok(annotations.len())
    }

    /// Upserts the span annotations whose spans are in the project; returns how many were
    /// written and the ids of the spans that are not there (their annotations are not written).
    pub async fn annotate_stored_spans(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        annotations: &[AnnotationInput],
    ) -> Result<(usize, Vec<String>)> {
        let project = self.services.projects().resolve_writable(caller, project).await?;
        check_reserved_names(AnnotationTarget::Span, annotations)?;
        let missing = self.missing_spans(project.id, None, annotations).await?;
        let stored: Vec<AnnotationInput> =
            annotations.iter().filter(|annotation| missing.binary_search(&annotation.target_id).is_err()).cloned().collect();
        if !stored.is_empty() {
            self.services.store.upsert_annotations(AnnotationTarget::Span, &stored, caller.user_id()).await?;
        }
        Ok((stored.len(), missing))
    }

    /// Annotations of the traces or sessions of stored spans, retargeted: each `target_id` names
    /// a span of the project, and the annotation becomes one of its trace
    /// (`AnnotationTarget::Trace`) or of its session (`AnnotationTarget::Session`). Writes
    /// nothing: answers the annotations to write with [`Annotations::annotate`], and the span ids
    /// (sorted) that are not stored or, for sessions, belong to none.
    pub async fn through_spans(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        target: AnnotationTarget,
        annotations: &[AnnotationInput],
    ) -> Result<(Vec<AnnotationInput>, Vec<String>)> {
        let project = self.services.projects().resolve_writable(caller, project).await?;
        let wanted = span_ids_of(annotations);
        let mut owners = std::collections::HashMap::new();
        for record in self.spans_named(project.id, None, &wanted).await? {
            let owner = match target {
                AnnotationTarget::Trace => Some(record.span.trace_id.clone()),
                AnnotationTarget::Session => record.span.session_id(),
                AnnotationTarget::Span | AnnotationTarget::Document => Some(record.span.span_id.clone()),
            };
            if let Some(owner) = owner {
                owners.insert(record.span.span_id, owner);
            }
        }
        let inputs = annotations
            .iter()
            .filter_map(|annotation| {
                owners.get(&annotation.target_id).map(|owner| AnnotationInput { target_id: owner.clone(), ..annotation.clone() })
            })
            .collect();
        let missing = wanted.into_iter().filter(|id| !owners.contains_key(*id)).map(str::to_string).collect();
        Ok((inputs, missing))
    }

    /// The annotated span ids (sorted) that are not in the project, or do not start within `window`.
    async fn missing_spans(&self, project_id: i64, window: Option<(i64, i64)>, annotations: &[AnnotationInput]) -> Result<Vec<String>> {
        let wanted = span_ids_of(annotations);
        let found: std::collections::HashSet<String> =
            self.spans_named(project_id, window, &wanted).await?.into_iter().map(|record| record.span.span_id).collect();
        Ok(wanted.into_iter().filter(|id| !found.contains(*id)).map(str::to_string).collect())
    }

    /// The project's spans with these ids (starting within `window`, when given).
    async fn spans_named(&self, project_id: i64, window: Option<(i64, i64)>, span_ids: &[&str]) -> Result<Vec<SpanRecord>> {
        let mut spans = Vec::with_capacity(span_ids.len());
        for chunk in span_ids.chunks(500) {
            let filters = SpanFilters {
                span_ids: chunk.iter().map(|id| id.to_string()).collect(),
                start_time: window.map(|(start, _)| start),
                end_time: window.map(|(_, end)| end),
                ..Default::default()
            };
            spans.extend(self.services.store.list_spans(project_id, &filters, None, chunk.len()).await?.items);
        }
        Ok(spans)
    }

    /// Legacy evaluations (`/v1/evaluations`): LLM annotations of spans, traces and documents.
    pub async fn write_evaluations(
        &self,
        caller: &Caller,
        spans: &[AnnotationInput],
        traces: &[AnnotationInput],
        documents: &[DocumentAnnotationInput],
    ) -> Result<()> {
        caller.require_write()?;
        check_reserved_names(AnnotationTarget::Span, spans)?;
        check_reserved_names(AnnotationTarget::Trace, traces)?;
        // One evaluation is about one level, so this is one write.
        for (target, annotations) in [(AnnotationTarget::Span, spans), (AnnotationTarget::Trace, traces)] {
            if !annotations.is_empty() {
                self.annotate(caller, target, annotations).await?;
            }
        }
        if !documents.is_empty() {
            let span_ids = documents.iter().map(|document| document.annotation.target_id.as_str());
            self.check_targets_writable(caller, AnnotationTarget::Document, span_ids).await?;
            self.write_documents(documents, caller.user_id()).await?;
        }
        Ok(())
    }

    /// A project's LLM-written annotations, the legacy evaluations.
    pub async fn llm_annotations(&self, caller: &Caller, project: ProjectRef<'_>) -> Result<LlmAnnotations> {
        let project = self.services.projects().resolve(caller, project).await?;
        Ok(self.services.store.llm_annotations(project.id).await?)
    }

    /// A page of a project's span, trace or session annotations, newest first; `target_ids` or
    /// `identifiers` must be given.
    pub async fn list(
        &self,
        caller: &Caller,
        target: AnnotationTarget,
        project: ProjectRef<'_>,
        query: &AnnotationQuery,
    ) -> Result<Page<AnnotationRecord>> {
        if query.identifiers.iter().any(String::is_empty) {
            return Err(ServiceError::invalid("identifier values must be non-empty"));
        }
        if query.target_ids.is_empty() && query.identifiers.is_empty() {
            return Err(ServiceError::invalid(format!("{}_ids or identifier must be supplied", target.noun())));
        }
        crate::limits::check_id_count(&format!("{}_ids and identifiers", target.noun()), query.target_ids.len() + query.identifiers.len())?;
        let project = self.services.projects().resolve(caller, project).await?;
        Ok(self.services.store.list_annotations(target, project.id, query).await?)
    }

    /// The annotations of the given targets, up to `limit` (pages show them beside the targets).
    pub async fn of_targets(
        &self,
        caller: &Caller,
        target: AnnotationTarget,
        project: ProjectRef<'_>,
        target_ids: Vec<String>,
        limit: usize,
    ) -> Result<Vec<AnnotationRecord>> {
        if target_ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = AnnotationQuery { target_ids, limit, ..AnnotationQuery::default() };
        Ok(self.list(caller, target, project, &query).await?.items)
    }

    /// Deletes a project's matching annotations; returns how many.
    pub async fn delete(
        &self,
        caller: &Caller,
        target: AnnotationTarget,
        project: ProjectRef<'_>,
        request: DeletionRequest,
    ) -> Result<u64> {
        caller.require_write()?;
        for (name, value) in [("name", &request.name), ("identifier", &request.identifier)] {
            if value.as_deref() == Some("") {
                return Err(ServiceError::invalid(format!("{name} must be non-empty when given")));
            }
        }
        if !request.delete_all && (request.created_from.is_none() || request.created_before.is_none()) {
            return Err(ServiceError::invalid("start_time and end_time are both required unless delete_all=true"));
        }
        let project = self.services.projects().resolve_writable(caller, project).await?;
        let deletion = AnnotationDeletion {
            name: request.name,
            identifier: request.identifier,
            annotator_kind: request.annotator_kind,
            created_from: request.created_from,
            created_before: request.created_before,
        };
        Ok(self.services.store.delete_annotations(target, project.id, &deletion).await?)
    }

    /// Deletes one annotation of the project by id; `false` when the project has none with that id.
    pub async fn delete_in_project(&self, caller: &Caller, target: AnnotationTarget, project: ProjectRef<'_>, id: i64) -> Result<bool> {
        let project = self.services.projects().resolve_writable(caller, project).await?;
        Ok(self.services.store.delete_annotation_in_project(target, project.id, id).await?)
    }

    /// An annotation of `target` by id, with the rowid of what it annotates; `None` when there
    /// is none or the caller may not read it.
    pub async fn by_id(&self, caller: &Caller, target: AnnotationTarget, id: i64) -> Result<Option<(AnnotationRecord, i64)>> {
        match self.services.store.get_annotation(target, id).await? {
            Some((record, target_rowid)) if self.target_readable(caller, target, target_rowid).await? => Ok(Some((record, target_rowid))),
            _ => Ok(None),
        }
    }

    /// The annotations of one span, trace or session, or of one span's documents (with their
    /// positions), oldest first.
    pub async fn of_target(&self, caller: &Caller, target: AnnotationTarget, rowid: i64) -> Result<Vec<(AnnotationRecord, Option<i64>)>> {
        if !self.target_readable(caller, target, rowid).await? {
            return Ok(Vec::new());
        }
        Ok(self.services.store.annotations_of_target(target, rowid).await?)
    }

    /// The annotations of a trace's spans (notes left out) by span rowid, up to `limit`.
    pub async fn of_spans_of_trace(&self, caller: &Caller, trace_rowid: i64, limit: usize) -> Result<HashMap<i64, Vec<AnnotationRecord>>> {
        let mut by_span: HashMap<i64, Vec<AnnotationRecord>> = HashMap::new();
        if !self.target_readable(caller, AnnotationTarget::Trace, trace_rowid).await? {
            return Ok(by_span);
        }
        for (span_rowid, annotation) in self.services.store.span_annotations_of_trace(trace_rowid, limit).await? {
            by_span.entry(span_rowid).or_default().push(annotation);
        }
        Ok(by_span)
    }

    /// The annotations of one span, oldest first.
    pub async fn of_span(&self, caller: &Caller, span_rowid: i64) -> Result<Vec<AnnotationRecord>> {
        if !self.target_readable(caller, AnnotationTarget::Span, span_rowid).await? {
            return Ok(Vec::new());
        }
        Ok(self.services.store.annotations_of_span(span_rowid).await?)
    }

    /// Changes the given fields of a span, trace or session annotation (its author only, as in
    /// Phoenix); neither the old nor the new name may be `note`.
    pub async fn patch(
        &self,
        caller: &Caller,
        target: AnnotationTarget,
        id: i64,
        patch: &AnnotationPatch,
    ) -> Result<(AnnotationRecord, i64)> {
        caller.require_write()?;
        if let Some(name) = &patch.name {
            if name == NOTE_NAME {
                return Err(notes_are_separate(target));
            }
            check_name("annotation name", "name", name)?;
        }
        let noun = target.noun();
        let (existing, target_rowid) =
            self.by_id(caller, target, id).await?.ok_or_else(|| ServiceError::not_found(format!("{noun} annotation {id} not found")))?;
        self.check_target_writable(caller, target, target_rowid).await?;
        if existing.name == NOTE_NAME {
            return Err(notes_are_separate(target));
        }
        if existing.user_id != caller.user_id() {
            return Err(ServiceError::forbidden(format!("At least one {noun} annotation is not associated with the current user.")));
        }
        let record = self.services.store.patch_annotation(target, id, patch).await?;
        Ok((record, target_rowid))
    }

    /// Deletes span, trace or session annotations by id; returns those that existed, with the
    /// rowids of what they annotated. Only their author or an admin deletes annotations (as in
    /// Phoenix); all or none.
    pub async fn delete_by_ids(&self, caller: &Caller, target: AnnotationTarget, ids: &[i64]) -> Result<Vec<(AnnotationRecord, i64)>> {
        caller.require_write()?;
        let mut found = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some((record, target_rowid)) = self.by_id(caller, target, id).await? {
                self.check_target_writable(caller, target, target_rowid).await?;
                if record.name == NOTE_NAME {
                    return Err(notes_are_separate(target));
                }
                if record.user_id != caller.user_id() && caller.require_admin().is_err() {
                    return Err(ServiceError::forbidden(not_yours_to_delete(target)));
                }
                found.push((id, target_rowid));
            }
        }
        let mut deleted = Vec::with_capacity(found.len());
        for (id, target_rowid) in found {
            for record in self.services.store.delete_annotations_by_id(target, &[id]).await? {
                deleted.push((record, target_rowid));
            }
        }
        Ok(deleted)
    }
}

/// Notes are added and removed as notes, never through the annotation mutations.
fn notes_are_separate(target: AnnotationTarget) -> ServiceError {
    ServiceError::bad_request(format!("the annotation name '{NOTE_NAME}' is reserved for notes; use the {} notes instead", target.noun()))
}

/// Phoenix's words when someone deletes another user's annotation (the span mutation's are
/// shorter).
fn not_yours_to_delete(target: AnnotationTarget) -> String {
    match target {
        AnnotationTarget::Span | AnnotationTarget::Document => {
            "At least one span annotation is not associated with the current user.".into()
        }
        _ => format!(
            "At least one {} annotation is not associated with the current user and the current user is not an admin.",
            target.noun()
        ),
    }
}

/// The distinct span ids the annotations name, sorted.
fn span_ids_of(annotations: &[AnnotationInput]) -> Vec<&str> {
    let mut ids: Vec<&str> = annotations.iter().map(|annotation| annotation.target_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotation(name: &str) -> AnnotationInput {
        AnnotationInput {
            target_id: "s".into(),
            name: name.into(),
            label: None,
            score: None,
            explanation: None,
            metadata: json!({}),
            annotator_kind: AnnotatorKind::Llm,
            identifier: String::new(),
            source: AnnotationSource::Api,
        }
    }

    #[test]
    fn note_is_reserved_except_on_documents() {
        let batch = [annotation("correctness"), annotation("note")];
        for target in [AnnotationTarget::Span, AnnotationTarget::Trace, AnnotationTarget::Session] {
            let error = check_reserved_names(target, &batch).unwrap_err();
            assert_eq!(error.code(), ember_core::ErrorCode::BadRequest);
            assert!(error.to_string().starts_with("annotation 1: the annotation name 'note' is reserved"), "{error}");
        }
        assert!(check_reserved_names(AnnotationTarget::Document, &batch).is_ok());
        assert!(check_reserved_names(AnnotationTarget::Span, &batch[..1]).is_ok());
    }
}
