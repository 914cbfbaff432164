//! Arize AX's span API (`/v2/spans`, `/v2/traces`), with AX's rules: time windows that default
//! to the last week (annotations: 31 days, sessions 7; deletes: two years), filters in the AX
//! language (a trace matches when any of its spans does), column selection and string truncation
//! of the returned attributes, annotation batches by span, trace (its root span) or session, and
//! deletes that report which ids were deleted.
//!
//! A span comes with its annotations split as AX splits them: human span annotations, human trace
//! annotations, and evaluations (LLM or code annotations).

use std::collections::{HashMap, HashSet};

use ember_core::{AnnotationSource, AnnotationTarget, AnnotatorKind};
use ember_store::{
    AnnotationInput, AnnotationQuery, AnnotationRecord, Filter, Project, SpanFilters, SpanRecord, SpanText, TraceRecord, UserRecord,
};
use serde_json::{json, Map, Value};

use crate::error::{Result, ServiceError};
use crate::projects::ProjectRef;
use crate::traces::TraceListQuery;
use crate::{Caller, Services};

const DAY_NANOS: i64 = 24 * 3600 * 1_000_000_000;
/// The window of a span or trace list when none is given.
pub const LIST_WINDOW_NANOS: i64 = 7 * DAY_NANOS;
/// The lookback of an annotation batch by span or trace.
pub const ANNOTATION_WINDOW_NANOS: i64 = 31 * DAY_NANOS;
/// The lookback of an annotation batch by session.
pub const SESSION_ANNOTATION_WINDOW_NANOS: i64 = 7 * DAY_NANOS;
/// The lookback of a delete.
pub const DELETE_WINDOW_NANOS: i64 = 2 * 365 * DAY_NANOS;
/// Records one annotation batch may hold, by span or trace.
pub const MAX_ANNOTATED_RECORDS: usize = 1000;
/// Records one annotation batch may hold, by session.
pub const MAX_ANNOTATED_SESSIONS: usize = 100;
/// Span ids one delete may name.
pub const MAX_DELETED_SPANS: usize = 5000;
/// The most spans a listed trace carries.
pub const MAX_TRACE_SPANS: usize = 1000;
/// Annotations read per span of a page, at most (a page's annotations are read in one query).
const ANNOTATIONS_PER_SPAN: usize = 100;

/// Which returned columns a list keeps. Fixed span fields (name, context, kind, ...) are always
/// kept; the others are `attributes.<path>`, `eval.<Name>[.<field>]` and `annotation.<Name>[.<field>]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Columns {
    #[default]
    All,
    Only(Vec<String>),
    Except(Vec<String>),
}

impl Columns {
    /// The selection from AX's `included_columns` and `excluded_columns` (422 for both).
    pub fn from_lists(included: Option<Vec<String>>, excluded: Option<Vec<String>>) -> Result<Columns> {
        match (included, excluded) {
            (Some(_), Some(_)) => Err(ServiceError::invalid("included_columns and excluded_columns are mutually exclusive")),
            (Some(columns), None) => Ok(Columns::Only(columns)),
            (None, Some(columns)) => Ok(Columns::Except(columns)),
            (None, None) => Ok(Columns::All),
        }
    }
}

/// A time window as a request gives it: either bound may be missing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Window {
    /// `[start, end]` with the defaults: `end` now, `start` `lookback` before `end`.
    fn resolve(self, lookback: i64) -> Result<(i64, i64)> {
        let end = self.end.unwrap_or_else(ember_core::time::now_nanos);
        let start = self.start.unwrap_or(end.saturating_sub(lookback));
        if start > end {
            return Err(ServiceError::invalid("start_time must not be after end_time"));
        }
        Ok((start, end))
    }
}

/// A span list or trace list request.
#[derive(Debug, Clone, Default)]
pub struct AxListQuery {
    pub window: Window,
    /// AX filter text; empty or blank is refused.
    pub filter: Option<String>,
    pub columns: Columns,
    /// Cut every string inside the returned attributes to this many characters (≥ 1).
    pub truncate_string_length: Option<i64>,
    pub cursor: Option<i64>,
    pub limit: usize,
}

/// A span with its annotations as AX reports them.
#[derive(Debug, Clone)]
pub struct AxSpan {
    pub record: SpanRecord,
    /// Human annotations of the span.
    pub annotations: Vec<AnnotationRecord>,
    /// Human annotations of the span's trace.
    pub trace_annotations: Vec<AnnotationRecord>,
    /// LLM and code annotations of the span.
    pub evaluations: Vec<AnnotationRecord>,
}

/// A page of spans, with the users who wrote their annotations.
#[derive(Debug, Clone)]
pub struct AxSpanPage {
    pub spans: Vec<AxSpan>,
    pub annotators: HashMap<i64, UserRecord>,
    pub next_cursor: Option<i64>,
}

/// A span of an export: its stored text and its annotations.
#[derive(Debug, Clone)]
pub struct AxExportSpan {
    pub span: SpanText,
    /// Human annotations of the span.
    pub annotations: Vec<AnnotationRecord>,
    /// LLM and code annotations of the span.
    pub evaluations: Vec<AnnotationRecord>,
}

/// A page of an export.
#[derive(Debug, Clone)]
pub struct AxExportPage {
    pub spans: Vec<AxExportSpan>,
    pub next_cursor: Option<i64>,
}

/// A trace entry: the trace, its root span's id, and its spans (at most [`MAX_TRACE_SPANS`]).
#[derive(Debug, Clone)]
pub struct AxTrace {
    pub trace: TraceRecord,
    pub root_span_id: Option<String>,
    pub spans: Vec<AxSpan>,
    pub spans_truncated: bool,
}

#[derive(Debug, Clone)]
pub struct AxTracePage {
    pub traces: Vec<AxTrace>,
    pub annotators: HashMap<i64, UserRecord>,
    pub next_cursor: Option<i64>,
}

/// An export as planned: its spans are the project's up to `up_to`, newest first.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub project: Project,
    pub total: i64,
    pub up_to: Option<i64>,
    /// The (name, kind) of the annotations of the window's spans, for the export's columns.
    pub annotation_names: Vec<(String, AnnotatorKind)>,
}

/// What an annotation record names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Granularity {
    #[default]
    Span,
    /// The record is a trace's root span; the annotation is the trace's.
    Trace,
    /// The record is a session id.
    Session,
}

/// One value of an annotation record; a missing field is not written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AxAnnotationValue {
    pub name: String,
    pub score: Option<f64>,
    pub label: Option<String>,
    pub text: Option<String>,
}

/// The annotations of one record (a span, trace root span or session id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AxAnnotationRecord {
    pub record_id: String,
    pub values: Vec<AxAnnotationValue>,
}

/// What a delete did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AxDeletion {
    pub deleted_span_ids: Vec<String>,
    pub not_deleted_span_ids: Vec<String>,
}

pub struct AxSpans<'a> {
    pub(crate) services: &'a Services,
}

/// The AX filter, 422 when it is blank or does not parse.
fn parse_filter(text: Option<&str>, parse: fn(&str) -> std::result::Result<Filter, ember_store::QueryError>) -> Result<Option<Filter>> {
    match text {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Err(ServiceError::invalid("filter must not be empty or whitespace")),
        Some(text) => parse(text).map(Some).map_err(|error| ServiceError::invalid(format!("Invalid filter: {error}"))),
    }
}

impl AxSpans<'_> {
    /// A page of the project's spans starting in the window, newest first.
    pub async fn list(&self, caller: &Caller, project: ProjectRef<'_>, query: &AxListQuery) -> Result<AxSpanPage> {
        let truncation = truncation(query.truncate_string_length)?;
        let (start, end) = query.window.resolve(LIST_WINDOW_NANOS)?;
        let condition = parse_filter(query.filter.as_deref(), Filter::arize)?;
        let project = self.services.projects().resolve(caller, project).await?;
        let filters = SpanFilters { start_time: Some(start), end_time: Some(end.saturating_add(1)), condition, ..Default::default() };
        let page = self.services.store.list_spans(project.id, &filters, query.cursor, query.limit).await?;
        let (spans, annotators) = self.enrich(&project, page.items, &query.columns, truncation).await?;
        Ok(AxSpanPage { spans, annotators, next_cursor: page.next_cursor })
    }

    /// Plans an export of the project's spans starting in `[start, end)` that pass the filter:
    /// how many there are, the newest span's rowid (the export reads up to it, so spans arriving
    /// meanwhile do not change what was counted), and the names of their annotations.
    pub async fn plan_export(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        (start, end): (i64, i64),
        filter: Option<&str>,
    ) -> Result<ExportPlan> {
        if start >= end {
            return Err(ServiceError::invalid("the export's start time must be before its end time"));
        }
        let project = self.services.projects().resolve(caller, project).await?;
        let filters = export_filters((start, end), filter)?;
        let store = &self.services.store;
        let up_to = store.list_span_texts(project.id, &filters, None, 1).await?.items.first().map(|text| text.record.rowid);
        let (total, annotation_names) = match up_to {
            Some(_) => {
                (store.count_filtered_spans(project.id, &filters, up_to).await?, store.span_annotation_names(project.id, start, end).await?)
            }
            None => (0, Vec::new()),
        };
        Ok(ExportPlan { project, total, up_to, annotation_names })
    }

    /// A page of an export planned by [`AxSpans::plan_export`], newest first: spans as stored
    /// text (an export streams their JSON) with their span annotations; `cursor` is where the
    /// page starts.
    pub async fn export_page(
        &self,
        caller: &Caller,
        project_id: i64,
        window: (i64, i64),
        filter: Option<&str>,
        cursor: i64,
        limit: usize,
    ) -> Result<AxExportPage> {
        let project = self.services.projects().resolve(caller, ProjectRef::Id(project_id)).await?;
        let filters = export_filters(window, filter)?;
        let page = self.services.store.list_span_texts(project.id, &filters, Some(cursor), limit).await?;
        let span_ids = page.items.iter().map(|text| text.record.span.span_id.clone()).collect();
        let mut by_span = self.annotations_by_target(AnnotationTarget::Span, project.id, span_ids).await?;
        let spans = page
            .items
            .into_iter()
            .map(|span| {
                let (annotations, evaluations) = human_and_evaluations(by_span.remove(&span.record.span.span_id).unwrap_or_default());
                AxExportSpan { span, annotations, evaluations }
            })
            .collect();
        Ok(AxExportPage { spans, next_cursor: page.next_cursor })
    }

    /// A page of the project's traces starting in the window, newest first, with their spans;
    /// a trace matches the filter when any of its spans does.
    pub async fn traces(&self, caller: &Caller, project: ProjectRef<'_>, query: &AxListQuery) -> Result<AxTracePage> {
        let (start, end) = query.window.resolve(LIST_WINDOW_NANOS)?;
        let condition = parse_filter(query.filter.as_deref(), Filter::arize_any_span)?;
        let project = self.services.projects().resolve(caller, project).await?;
        let list = TraceListQuery {
            start_time: Some(start),
            end_time: Some(end.saturating_add(1)),
            condition,
            cursor: query.cursor,
            limit: query.limit,
            include_spans: true,
            ..Default::default()
        };
        let mut page = self.services.traces().list(caller, ProjectRef::Id(project.id), list).await?;
        let mut records = Vec::new();
        let mut shapes = Vec::new();
        for trace in &page.page.items {
            let mut spans = page.spans.remove(&trace.rowid).unwrap_or_default();
            let spans_truncated = spans.len() > MAX_TRACE_SPANS;
            spans.truncate(MAX_TRACE_SPANS);
            let root_span_id = spans.iter().find(|record| record.span.parent_id.is_none()).map(|record| record.span.span_id.clone());
            shapes.push((root_span_id, spans.len(), spans_truncated));
            records.extend(spans);
        }
        let (mut spans, annotators) = self.enrich(&project, records, &query.columns, truncation(query.truncate_string_length)?).await?;
        let mut traces = Vec::with_capacity(shapes.len());
        for (trace, (root_span_id, count, spans_truncated)) in page.page.items.into_iter().zip(shapes) {
            let rest = spans.split_off(count);
            traces.push(AxTrace { trace, root_span_id, spans: std::mem::replace(&mut spans, rest), spans_truncated });
        }
        Ok(AxTracePage { traces, annotators, next_cursor: page.page.next_cursor })
    }

    /// The annotations of these targets (read in one query), by the id they annotate.
    async fn annotations_by_target(
        &self,
        target: AnnotationTarget,
        project_id: i64,
        target_ids: Vec<String>,
    ) -> Result<HashMap<String, Vec<AnnotationRecord>>> {
        let mut by_target: HashMap<String, Vec<AnnotationRecord>> = HashMap::new();
        if target_ids.is_empty() {
            return Ok(by_target);
        }
        let query = AnnotationQuery { limit: target_ids.len() * ANNOTATIONS_PER_SPAN, target_ids, ..Default::default() };
        for annotation in self.services.store.list_annotations(target, project_id, &query).await?.items {
            by_target.entry(annotation.target_id.clone()).or_default().push(annotation);
        }
        Ok(by_target)
    }

    /// The spans with their annotations (one query per kind of target), the columns selected
    /// and the strings cut.
    async fn enrich(
        &self,
        project: &Project,
        records: Vec<SpanRecord>,
        columns: &Columns,
        truncation: Option<usize>,
    ) -> Result<(Vec<AxSpan>, HashMap<i64, UserRecord>)> {
        let span_ids = records.iter().map(|record| record.span.span_id.clone()).collect();
        let mut trace_ids: Vec<String> = records.iter().map(|record| record.span.trace_id.clone()).collect();
        trace_ids.sort_unstable();
        trace_ids.dedup();
        let mut by_span = self.annotations_by_target(AnnotationTarget::Span, project.id, span_ids).await?;
        let mut by_trace = self.annotations_by_target(AnnotationTarget::Trace, project.id, trace_ids).await?;
        by_trace.values_mut().for_each(|annotations| annotations.retain(|annotation| annotation.annotator_kind == AnnotatorKind::Human));
        let mut author_ids: Vec<i64> = by_span.values().chain(by_trace.values()).flatten().filter_map(|a| a.user_id).collect();
        author_ids.sort_unstable();
        author_ids.dedup();
        let annotators = self.services.store.users_by_ids(&author_ids).await?.into_iter().map(|user| (user.id, user)).collect();
        let spans = records
            .into_iter()
            .map(|mut record| {
                let (annotations, evaluations) = human_and_evaluations(by_span.remove(&record.span.span_id).unwrap_or_default());
                let trace_annotations = by_trace.get(&record.span.trace_id).cloned().unwrap_or_default();
                select_columns(&mut record.span.attributes, columns);
                if let Some(limit) = truncation {
                    truncate_strings(&mut record.span.attributes, limit);
                }
                AxSpan {
                    record,
                    annotations: keep_named(annotations, columns, "annotation."),
                    trace_annotations: keep_named(trace_annotations, columns, "annotation."),
                    evaluations: keep_named(evaluations, columns, "eval."),
                }
            })
            .collect();
        Ok((spans, annotators))
    }

    /// Writes human annotations of the records starting in the window: spans, traces (named by
    /// their root span) or sessions. Nothing is written when a record is missing (404 naming
    /// them). Returns how many annotations were written.
    pub async fn annotate(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        window: Window,
        granularity: Granularity,
        records: &[AxAnnotationRecord],
    ) -> Result<usize> {
        let (max, lookback) = match granularity {
            Granularity::Session => (MAX_ANNOTATED_SESSIONS, SESSION_ANNOTATION_WINDOW_NANOS),
            Granularity::Span | Granularity::Trace => (MAX_ANNOTATED_RECORDS, ANNOTATION_WINDOW_NANOS),
        };
        if records.is_empty() || records.len() > max {
            return Err(ServiceError::invalid(format!("annotations holds 1 to {max} records; got {}", records.len())));
        }
        if let Some((index, _)) = records.iter().enumerate().find(|(_, record)| record.record_id.is_empty()) {
            return Err(ServiceError::invalid(format!("annotations[{index}].record_id is empty")));
        }
        let (start, end) = window.resolve(lookback)?;
        let project = self.services.projects().resolve_writable(caller, project).await?;
        let annotations = |target_of: &dyn Fn(&str) -> String| -> Result<Vec<AnnotationInput>> {
            let mut inputs = Vec::new();
            for (index, record) in records.iter().enumerate() {
                if record.values.is_empty() {
                    return Err(ServiceError::invalid(format!("annotations[{index}].values is empty")));
                }
                for value in &record.values {
                    if value.name.is_empty() {
                        return Err(ServiceError::invalid(format!("annotations[{index}]: an annotation name is empty")));
                    }
                    inputs.push(AnnotationInput {
                        target_id: target_of(&record.record_id),
                        name: value.name.clone(),
                        label: value.label.clone(),
                        score: value.score,
                        explanation: value.text.clone(),
                        metadata: json!({}),
                        annotator_kind: AnnotatorKind::Human,
                        identifier: String::new(),
                        source: AnnotationSource::Api,
                    });
                }
            }
            Ok(inputs)
        };
        let annotations_service = self.services.annotations();
        match granularity {
            Granularity::Span => {
                let inputs = annotations(&|id| id.to_string())?;
                annotations_service.annotate_spans_in_project(caller, ProjectRef::Id(project.id), Some((start, end + 1)), &inputs).await
            }
            Granularity::Trace => {
                let ids: Vec<&str> = records.iter().map(|record| record.record_id.as_str()).collect();
                let spans = self.spans_in_window(&project, &ids, (start, end + 1)).await?;
                let missing: Vec<&str> = ids.iter().copied().filter(|id| !spans.contains_key(*id)).collect();
                if !missing.is_empty() {
                    return Err(ServiceError::not_found(format!(
                        "no span in the project and the time window with id {}",
                        missing.join(", ")
                    )));
                }
                if let Some(child) = ids.iter().find(|id| spans[**id].span.parent_id.is_some()) {
                    return Err(ServiceError::invalid(format!("span {child} is not the root span of its trace")));
                }
                let inputs = annotations(&|id| spans[id].span.trace_id.clone())?;
                annotations_service.annotate(caller, AnnotationTarget::Trace, &inputs).await.map(|ids| ids.len())
            }
            Granularity::Session => {
                let inputs = annotations(&|id| id.to_string())?;
                annotations_service.annotate(caller, AnnotationTarget::Session, &inputs).await.map(|ids| ids.len())
            }
        }
    }

    /// Deletes the project's spans with these ids that start in the window; reports which were
    /// deleted and which were not found there.
    pub async fn delete(&self, caller: &Caller, project: ProjectRef<'_>, window: Window, span_ids: &[String]) -> Result<AxDeletion> {
        if span_ids.is_empty() || span_ids.len() > MAX_DELETED_SPANS {
            return Err(ServiceError::invalid(format!("span_ids holds 1 to {MAX_DELETED_SPANS} ids; got {}", span_ids.len())));
        }
        let (start, end) = window.resolve(DELETE_WINDOW_NANOS)?;
        let project = self.services.projects().resolve_writable(caller, project).await?;
        let ids: Vec<&str> = span_ids.iter().map(String::as_str).collect();
        // The end is exclusive here, as AX states it.
        let found = self.spans_in_window(&project, &ids, (start, end)).await?;
        let present: Vec<String> = found.into_keys().collect();
        let deleted: HashSet<String> = self.services.store.delete_spans_by_id(project.id, &present).await?.into_iter().collect();
        let mut seen = HashSet::new();
        let (deleted_span_ids, not_deleted_span_ids) =
            span_ids.iter().filter(|id| seen.insert(id.as_str())).cloned().partition(|id| deleted.contains(id));
        Ok(AxDeletion { deleted_span_ids, not_deleted_span_ids })
    }

    /// The project's spans with these ids starting in `[start, end)`, by span id.
    async fn spans_in_window(&self, project: &Project, ids: &[&str], (start, end): (i64, i64)) -> Result<HashMap<String, SpanRecord>> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(500) {
            let filters = SpanFilters {
                span_ids: chunk.iter().map(|id| id.to_string()).collect(),
                start_time: Some(start),
                end_time: Some(end),
                ..Default::default()
            };
            let page = self.services.store.list_spans(project.id, &filters, None, chunk.len()).await?;
            found.extend(page.items.into_iter().map(|record| (record.span.span_id.clone(), record)));
        }
        Ok(found)
    }
}

/// A span's annotations split as AX splits them: human annotations, and evaluations (LLM or code).
fn human_and_evaluations(annotations: Vec<AnnotationRecord>) -> (Vec<AnnotationRecord>, Vec<AnnotationRecord>) {
    annotations.into_iter().partition(|annotation| annotation.annotator_kind == AnnotatorKind::Human)
}

fn export_filters((start, end): (i64, i64), filter: Option<&str>) -> Result<SpanFilters> {
    let condition = parse_filter(filter.filter(|text| !text.trim().is_empty()), Filter::arize)?;
    Ok(SpanFilters { start_time: Some(start), end_time: Some(end), condition, ..Default::default() })
}

fn truncation(length: Option<i64>) -> Result<Option<usize>> {
    match length {
        None => Ok(None),
        Some(length) if length >= 1 => Ok(Some(usize::try_from(length).unwrap_or(usize::MAX))),
        Some(_) => Err(ServiceError::invalid("truncate_string_length must be a positive integer")),
    }
}

/// The annotation name a column names after `prefix` (`eval.Correctness.label` → `Correctness`).
fn annotation_name<'a>(column: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = column.strip_prefix(prefix)?;
    Some(match rest.rsplit_once('.') {
        Some((name, "label" | "score" | "explanation" | "text")) => name,
        _ => rest,
    })
}

/// The annotations the column selection keeps (columns `<prefix><Name>[.<field>]`).
fn keep_named(annotations: Vec<AnnotationRecord>, columns: &Columns, prefix: &str) -> Vec<AnnotationRecord> {
    let named = |list: &[String], name: &str| list.iter().any(|column| annotation_name(column, prefix) == Some(name));
    match columns {
        Columns::All => annotations,
        Columns::Only(list) => annotations.into_iter().filter(|annotation| named(list, &annotation.name)).collect(),
        Columns::Except(list) => annotations.into_iter().filter(|annotation| !named(list, &annotation.name)).collect(),
    }
}

/// The attribute paths of `attributes.<path>` columns.
fn attribute_paths(columns: &[String]) -> Vec<Vec<&str>> {
    columns
        .iter()
        .filter_map(|column| column.strip_prefix("attributes."))
        .filter(|path| !path.is_empty())
        .map(|path| path.split('.').collect())
        .collect()
}

/// Keeps or removes attribute paths as the selection says. An `attributes.a.b` path reaches a
/// nested `{"a": {"b": …}}` value, or a key holding a dot where the value is not nested.
fn select_columns(attributes: &mut Map<String, Value>, columns: &Columns) {
    match columns {
        Columns::All => {}
        Columns::Only(list) => {
            let mut kept = Map::new();
            if list.iter().any(|column| column == "attributes") {
                return;
            }
            for path in attribute_paths(list) {
                copy_path(attributes, &path, &mut kept);
            }
            *attributes = kept;
        }
        Columns::Except(list) => {
            if list.iter().any(|column| column == "attributes") {
                attributes.clear();
            }
            for path in attribute_paths(list) {
                remove_path(attributes, &path);
            }
        }
    }
}

fn copy_path(from: &Map<String, Value>, path: &[&str], into: &mut Map<String, Value>) {
    for split in (1..=path.len()).rev() {
        let key = path[..split].join(".");
        let Some(value) = from.get(&key) else { continue };
        if split == path.len() {
            into.insert(key, value.clone());
            return;
        }
        if let Value::Object(inner) = value {
            let Value::Object(target) = into.entry(key).or_insert_with(|| Value::Object(Map::new())) else { return };
            copy_path(inner, &path[split..], target);
            return;
        }
    }
}

fn remove_path(from: &mut Map<String, Value>, path: &[&str]) {
    for split in (1..=path.len()).rev() {
        let key = path[..split].join(".");
        if split == path.len() {
            if from.remove(&key).is_some() {
                return;
            }
            continue;
        }
        if let Some(Value::Object(inner)) = from.get_mut(&key) {
            remove_path(inner, &path[split..]);
            if inner.is_empty() {
                from.remove(&key);
            }
            return;
        }
    }
}

/// Cuts every string at any depth to `limit` characters, the last of them `…`.
fn truncate_strings(attributes: &mut Map<String, Value>, limit: usize) {
    fn walk(value: &mut Value, limit: usize) {
        match value {
            Value::String(text) => {
                if let Some((cut, _)) = text.char_indices().nth(limit) {
                    let keep = text[..cut].char_indices().nth(limit - 1).map_or(cut, |(index, _)| index);
                    text.truncate(keep);
                    text.push('…');
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, limit)),
            Value::Object(map) => map.values_mut().for_each(|item| walk(item, limit)),
            _ => {}
        }
    }
    attributes.values_mut().for_each(|value| walk(value, limit));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes() -> Map<String, Value> {
        json!({"llm": {"model_name": "gpt-4o", "token_count": {"total": 5}}, "input": {"value": "héllo world"}, "session.id": "s1"})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn included_columns_keep_only_their_paths() {
        let mut kept = attributes();
        let columns = Columns::Only(vec!["attributes.llm.model_name".into(), "attributes.session.id".into(), "attributes.nope".into()]);
        select_columns(&mut kept, &columns);
        assert_eq!(Value::Object(kept), json!({"llm": {"model_name": "gpt-4o"}, "session.id": "s1"}));
    }

    #[test]
    fn excluded_columns_remove_their_paths_and_empty_parents() {
        let mut kept = attributes();
        select_columns(&mut kept, &Columns::Except(vec!["attributes.input.value".into(), "attributes.llm.token_count.total".into()]));
        assert_eq!(Value::Object(kept), json!({"llm": {"model_name": "gpt-4o"}, "session.id": "s1"}));
    }

    #[test]
    fn truncation_counts_characters_and_ends_with_an_ellipsis() {
        let mut kept = attributes();
        truncate_strings(&mut kept, 5);
        assert_eq!(kept["input"]["value"], json!("héll…"));
        assert_eq!(kept["session.id"], json!("s1"), "short strings are unchanged");
        let mut one = attributes();
        truncate_strings(&mut one, 1);
        assert_eq!(one["input"]["value"], json!("…"));
    }

    #[test]
    fn both_column_lists_are_refused() {
        let error = Columns::from_lists(Some(vec!["a".into()]), Some(vec!["b".into()])).unwrap_err();
        assert_eq!(ember_core::ClassifiedError::error_code(&error), ember_core::ErrorCode::Unprocessable);
    }

    #[test]
    fn annotation_columns_name_their_annotation() {
        assert_eq!(annotation_name("eval.Correctness.label", "eval."), Some("Correctness"));
        assert_eq!(annotation_name("eval.hallucination", "eval."), Some("hallucination"));
        assert_eq!(annotation_name("annotation.a.b.text", "annotation."), Some("a.b"));
        assert_eq!(annotation_name("attributes.x", "eval."), None);
    }
}
