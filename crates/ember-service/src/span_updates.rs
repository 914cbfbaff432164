//! The Arize AX bulk span updates, over rows of JSON values (the transports read JSON, CSV,
//! Arrow or Parquet into rows): evaluations from `eval.<Name>.label|score|explanation` columns,
//! human annotations from `annotation.<Name>.label|score|text` columns, and metadata from
//! `attributes.metadata.<field>` columns and/or a patch document, with the AX type rules.

use std::collections::{BTreeMap, BTreeSet};

use ember_core::{AnnotationSource, AnnotationTarget, AnnotatorKind, ClassifiedError};
use ember_store::{AnnotationInput, MetadataFailure, MetadataUpdate};
use serde_json::{json, Map, Value};

use crate::error::{Result, ServiceError};
use crate::projects::ProjectRef;
use crate::{Caller, Services};

/// One row of a tabular body.
pub type Row = Map<String, Value>;

/// The column of the SDK's annotation notes: a list of `{"text", "updated_by", "updated_at"}` JSON.
pub const NOTES_COLUMN: &str = "annotation.notes";

/// What an update of stored spans did: rows read, spans updated, and the span ids not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSpansUpdate {
    pub spans_processed: usize,
    pub spans_updated: usize,
    pub unmatched_ids: Vec<String>,
}

/// Spans one annotation request may name.
pub const MAX_ANNOTATED_SPANS: usize = 1000;

/// How many rows were read and how many annotations written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnotationUpdate {
    pub spans_processed: usize,
    pub written: usize,
}

/// The outcome of a metadata update: spans that were not updated come with why.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataReport {
    pub spans_processed: usize,
    pub spans_updated: usize,
    pub errors: Vec<(String, String)>,
}

pub struct SpanUpdates<'a> {
    pub(crate) services: &'a Services,
}

/// The span id of a row (`context.span_id`, or `span_id`).
pub fn span_id_of(row: &Row, index: usize) -> Result<String> {
    match row.get("context.span_id").or_else(|| row.get("span_id")) {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => Err(ServiceError::invalid(format!("row {index} has no context.span_id"))),
    }
}

/// A score cell: a number, or text that reads as one (CSV); NaN and empty are missing.
fn score_of(value: &Value, column: &str, index: usize) -> Result<Option<f64>> {
    match value {
        Value::Null => Ok(None),
        Value::Number(number) => Ok(number.as_f64()),
        Value::String(text) => {
            text.trim().parse::<f64>().map(|score| (!score.is_nan()).then_some(score)).map_err(|_| invalid_cell(column, index, "a number"))
        }
        _ => Err(invalid_cell(column, index, "a number")),
    }
}

fn text_of(value: &Value, column: &str, index: usize) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        _ => Err(invalid_cell(column, index, "text")),
    }
}

fn invalid_cell(column: &str, index: usize, expected: &str) -> ServiceError {
    ServiceError::invalid(format!("row {index}, column {column:?}: expected {expected}"))
}

/// (label, score, explanation) of one annotation name in a row.
type AnnotationCells = (Option<String>, Option<f64>, Option<String>);

/// Annotations from `<prefix><Name>.<field>` columns, whose field is `label`, `score` or
/// `explanation_field`. A name with no value in a row is skipped for that row.
fn annotations_from(rows: &[Row], prefix: &str, explanation_field: &str, kind: AnnotatorKind) -> Result<Vec<AnnotationInput>> {
    let mut annotations = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let span_id = span_id_of(row, index)?;
        let mut by_name: BTreeMap<&str, AnnotationCells> = BTreeMap::new();
        for (column, value) in row {
            let Some(rest) = column.strip_prefix(prefix) else { continue };
            if column == NOTES_COLUMN {
                continue;
            }
            let Some((name, field)) = rest.rsplit_once('.') else {
                return Err(ServiceError::invalid(format!("column {column:?} is not {prefix}<Name>.<field>")));
            };
            let entry = by_name.entry(name).or_default();
            match field {
                "label" => entry.0 = text_of(value, column, index)?,
                "score" => entry.1 = score_of(value, column, index)?,
                field if field == explanation_field => entry.2 = text_of(value, column, index)?,
                // Who and when, as the SDK's annotation updates send them: the writer is the
                // caller and the time the server's.
                "updated_by" | "updated_at" if kind == AnnotatorKind::Human => {}
                _ => return Err(ServiceError::invalid(format!("column {column:?}: the field is label, score or {explanation_field}"))),
            }
        }
        for (name, (label, score, explanation)) in by_name {
            if name.is_empty() {
                return Err(ServiceError::invalid(format!("row {index}: an annotation name is empty")));
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

/// The notes of a row: (text, identifier), the identifier made of the note's author and time so
/// that sending a note again does not repeat it.
fn notes_of(row: &Row, index: usize) -> Result<Vec<(String, String)>> {
    let items = match row.get(NOTES_COLUMN) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid_cell(NOTES_COLUMN, index, "a list of notes")),
    };
    let mut notes = Vec::new();
    for item in items {
        let note = match item {
            Value::String(text) => ember_core::python_json::loads(text).map_err(|_| invalid_cell(NOTES_COLUMN, index, "notes as JSON"))?,
            other => other.clone(),
        };
        let Some(text) = note.get("text").and_then(Value::as_str).filter(|text| !text.is_empty()) else { continue };
        let author = note.get("updated_by").and_then(Value::as_str).unwrap_or_default();
        let at = note.get("updated_at").map(Value::to_string).unwrap_or_default();
        notes.push((text.to_string(), format!("ax-note:{author}:{at}")));
    }
    Ok(notes)
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

/// Evaluations of spans' traces and sessions, resolved but not written.
struct LevelEvaluations {
    /// The annotations to write, by target.
    by_target: Vec<(AnnotationTarget, Vec<AnnotationInput>)>,
    /// The spans whose rows carried them.
    span_ids: Vec<String>,
    /// Span ids (sorted) not stored or, for sessions, in none.
    missing: Vec<String>,
}

impl SpanUpdates<'_> {
    /// LLM evaluations of the project's spans from `eval.<Name>.*` columns, and of their traces
    /// and sessions from `trace_eval.` and `session_eval.` columns; all or nothing.
    pub async fn evaluations(&self, caller: &Caller, project: ProjectRef<'_>, rows: &[Row]) -> Result<AnnotationUpdate> {
        self.services.projects().resolve_writable(caller, project).await?;
        let annotations = annotations_from(rows, "eval.", "explanation", AnnotatorKind::Llm)?;
        let levels = self.trace_and_session_evaluations(caller, project, rows).await?;
        if !levels.missing.is_empty() {
            return Err(ServiceError::not_found(format!(
                "no span in the project (with a session.id, for session evaluations) with id {}",
                levels.missing.join(", ")
            )));
        }
        let mut written = self.services.annotations().annotate_spans_in_project(caller, project, None, &annotations).await?;
        for (target, inputs) in &levels.by_target {
            written += self.services.annotations().annotate(caller, *target, inputs).await?.len();
        }
        Ok(AnnotationUpdate { spans_processed: rows.len(), written })
    }

    /// LLM evaluations of the traces and sessions of stored spans, from `trace_eval.<Name>.*`
    /// and `session_eval.<Name>.*` columns, not yet written.
    async fn trace_and_session_evaluations(&self, caller: &Caller, project: ProjectRef<'_>, rows: &[Row]) -> Result<LevelEvaluations> {
        let (mut by_target, mut span_ids, mut missing) = (Vec::new(), Vec::new(), Vec::new());
        for (prefix, target) in [("trace_eval.", AnnotationTarget::Trace), ("session_eval.", AnnotationTarget::Session)] {
            let annotations = annotations_from(rows, prefix, "explanation", AnnotatorKind::Llm)?;
            if annotations.is_empty() {
                continue;
            }
            let (inputs, not_there) = self.services.annotations().through_spans(caller, project, target, &annotations).await?;
            span_ids.extend(annotations.into_iter().map(|annotation| annotation.target_id));
            by_target.push((target, inputs));
            missing.extend(not_there);
        }
        missing.sort_unstable();
        missing.dedup();
        Ok(LevelEvaluations { by_target, span_ids, missing })
    }

    /// Human annotations of the project's spans starting in `[start, end)` from
    /// `annotation.<Name>.*` columns; at most [`MAX_ANNOTATED_SPANS`] rows.
    pub async fn annotations(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        window: (i64, i64),
        rows: &[Row],
    ) -> Result<AnnotationUpdate> {
        self.services.projects().resolve_writable(caller, project).await?;
        if rows.len() > MAX_ANNOTATED_SPANS {
            return Err(ServiceError::invalid(format!("at most {MAX_ANNOTATED_SPANS} spans per request; got {}", rows.len())));
        }
        let annotations = annotations_from(rows, "annotation.", "text", AnnotatorKind::Human)?;
        let written = self.services.annotations().annotate_spans_in_project(caller, project, Some(window), &annotations).await?;
        Ok(AnnotationUpdate { spans_processed: rows.len(), written })
    }

    /// LLM evaluations from `eval.<Name>.*` columns of the spans that are stored, and of their
    /// traces and sessions (`trace_eval.`, `session_eval.`); the others are reported, not fatal
    /// (the SDK's Flight updates).
    pub async fn evaluations_of_stored(&self, caller: &Caller, project: ProjectRef<'_>, rows: &[Row]) -> Result<StoredSpansUpdate> {
        let annotations = annotations_from(rows, "eval.", "explanation", AnnotatorKind::Llm)?;
        let mut update = self.write_stored(caller, project, rows, &annotations).await?;
        let levels = self.trace_and_session_evaluations(caller, project, rows).await?;
        for (target, inputs) in &levels.by_target {
            self.services.annotations().annotate(caller, *target, inputs).await?;
        }
        // A span counts once, whichever levels its row evaluated.
        let annotated: BTreeSet<String> = annotations.into_iter().map(|annotation| annotation.target_id).chain(levels.span_ids).collect();
        update.unmatched_ids.extend(levels.missing);
        update.unmatched_ids.sort_unstable();
        update.unmatched_ids.dedup();
        update.spans_updated = annotated.iter().filter(|id| update.unmatched_ids.binary_search(id).is_err()).count();
        Ok(update)
    }

    /// Human annotations from `annotation.<Name>.*` columns, and notes from the notes column, of
    /// the spans that are stored; the others are reported, not fatal.
    pub async fn annotations_of_stored(&self, caller: &Caller, project: ProjectRef<'_>, rows: &[Row]) -> Result<StoredSpansUpdate> {
        let annotations = annotations_from(rows, "annotation.", "text", AnnotatorKind::Human)?;
        let mut update = self.write_stored(caller, project, rows, &annotations).await?;
        for (index, row) in rows.iter().enumerate() {
            let span_id = span_id_of(row, index)?;
            if update.unmatched_ids.binary_search(&span_id).is_ok() {
                continue;
            }
            for (text, identifier) in notes_of(row, index)? {
                let target = ember_core::AnnotationTarget::Span;
                match self.services.annotations().add_note(caller, target, span_id.clone(), text, Some(identifier)).await {
                    Err(error) if error.error_code() == ember_core::ErrorCode::NotFound => {
                        update.unmatched_ids.push(span_id.clone());
                        break;
                    }
                    other => {
                        other?;
                    }
                }
            }
        }
        update.unmatched_ids.sort_unstable();
        update.unmatched_ids.dedup();
        Ok(update)
    }

    /// Writes the annotations of stored spans; a row with no value changes nothing and is not
    /// looked up.
    async fn write_stored(
        &self,
        caller: &Caller,
        project: ProjectRef<'_>,
        rows: &[Row],
        annotations: &[AnnotationInput],
    ) -> Result<StoredSpansUpdate> {
        let (_, unmatched_ids) = self.services.annotations().annotate_stored_spans(caller, project, annotations).await?;
        let mut annotated: Vec<&str> = annotations.iter().map(|annotation| annotation.target_id.as_str()).collect();
        annotated.sort_unstable();
        annotated.dedup();
        Ok(StoredSpansUpdate { spans_processed: rows.len(), spans_updated: annotated.len() - unmatched_ids.len(), unmatched_ids })
    }

    /// Sets metadata fields of the project's spans; the patch document (column `patch_column`)
    /// goes last and wins over the field columns. Rows that cannot apply are reported, not fatal.
    pub async fn metadata(&self, caller: &Caller, project: ProjectRef<'_>, rows: &[Row], patch_column: &str) -> Result<MetadataReport> {
        let project = self.services.projects().resolve_writable(caller, project).await?;
        let mut errors = Vec::new();
        let mut updates = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            let Ok(span_id) = span_id_of(row, index) else {
                errors.push((String::new(), format!("[parse_failure] row {index} has no context.span_id")));
                continue;
            };
            let mut values = Map::new();
            for (column, value) in row {
                if let Some(field) = column.strip_prefix("attributes.metadata.") {
                    values.insert(field.to_string(), stored_form(value));
                }
            }
            let not_an_object = || format!("[parse_failure] {patch_column} is not a JSON object");
            let patch = match row.get(patch_column) {
                None | Some(Value::Null) => None,
                Some(Value::Object(patch)) => Some(patch.clone()),
                Some(Value::String(text)) => match ember_core::python_json::loads(text) {
                    Ok(Value::Object(patch)) => Some(patch),
                    _ => {
                        errors.push((span_id, not_an_object()));
                        continue;
                    }
                },
                Some(_) => {
                    errors.push((span_id, not_an_object()));
                    continue;
                }
            };
            for (key, value) in patch.iter().flatten() {
                values.insert(key.clone(), stored_form(value));
            }
            if values.is_empty() {
                errors.push((span_id, "[parse_failure] no attributes.metadata.* column or patch document".to_string()));
                continue;
            }
            updates.push(MetadataUpdate { span_id, values });
        }
        let outcome = self.services.store.update_span_metadata(project.id, &updates).await?;
        for (span_id, failure) in outcome.failed {
            let message = match failure {
                MetadataFailure::NotFound => format!("[segment_not_found] span {span_id} is not in project {}", project.name),
                MetadataFailure::NotAnObject => "[patch_failure] the span's metadata is not an object".to_string(),
                MetadataFailure::TypeConflict { key, stored, given } => {
                    format!("[type_conflict] Type conflict: metadata.{key} holds {stored}, the update gives {given}")
                }
            };
            errors.push((span_id, message));
        }
        Ok(MetadataReport { spans_processed: rows.len(), spans_updated: outcome.updated, errors })
    }

    /// Deletes the project's spans named by the rows' span ids.
    pub async fn delete_rows(&self, caller: &Caller, project: ProjectRef<'_>, rows: &[Row]) -> Result<()> {
        caller.require_write()?;
        let ids = rows.iter().enumerate().map(|(index, row)| span_id_of(row, index)).collect::<Result<Vec<_>>>()?;
        self.services.spans().delete_many(caller, project, &ids).await
    }
}
