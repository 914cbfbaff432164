//! Annotations addressed by their own id (the GraphQL mutations do), and the annotations of one
//! target (GraphQL objects list them).

use serde_json::Value;

use super::list::AnnotationRecord;
use super::{tables, AnnotationSource, AnnotationTarget, AnnotatorKind};
use crate::engine::backend::{Row, Statement};
use crate::error::{Result, StoreError};
use crate::Store;

/// Changes to an annotation; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct AnnotationPatch {
    pub name: Option<String>,
    pub annotator_kind: Option<AnnotatorKind>,
    pub label: Option<Option<String>>,
    pub score: Option<Option<f64>>,
    pub explanation: Option<Option<String>>,
    pub metadata: Option<Value>,
    pub identifier: Option<String>,
}

impl Store {
    /// An annotation of `target` by id, and the rowid of what it annotates (a document's span).
    pub async fn get_annotation(&self, target: AnnotationTarget, id: i64) -> Result<Option<(AnnotationRecord, i64)>> {
        let (table, key, target_table, target_id) = tables(target);
        let sql = format!(
            "SELECT a.id AS id, t.{target_id} AS target_id, a.name AS name, a.label AS label, a.score AS score, \
             a.explanation AS explanation, {} AS metadata, a.annotator_kind AS annotator_kind, a.identifier AS identifier, \
             a.source AS source, a.user_id AS user_id, a.created_at AS created_at, a.updated_at AS updated_at, \
             a.{key} AS target_rowid FROM {table} AS a JOIN {target_table} AS t ON t.id = a.{key} WHERE a.id = {}",
            self.dialect.json_text("a.metadata"),
            self.dialect.placeholder(1)
        );
        let row = self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?;
        row.as_ref().map(|row| Ok((AnnotationRecord::from_row(row)?, row.get("target_rowid")?))).transpose()
    }

    /// The projects of the targets named by public id (OpenTelemetry span or trace id, or
    /// `session.id`), as `(id, project id)` pairs, in a few queries however many ids: who may
    /// annotate them is decided per project.
    pub async fn projects_of_targets(&self, target: AnnotationTarget, ids: &[&str]) -> Result<Vec<(String, i64)>> {
        let (_, _, target_table, target_id) = tables(target);
        let mut projects = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {target_id}, project_id FROM {target_table} WHERE {target_id} IN ({})",
                self.dialect.placeholders(1, chunk.len())
            );
            let rows = self.reader.exec().fetch_all(Statement::new(sql, chunk.iter().map(|id| sea_query::Value::from(*id)))).await?;
            for row in rows {
                projects.push((row.get(0)?, row.get(1)?));
            }
        }
        Ok(projects)
    }

    /// The annotations of a span, oldest first.
    pub async fn annotations_of_span(&self, span_rowid: i64) -> Result<Vec<AnnotationRecord>> {
        let annotations = self.annotations_of_target(AnnotationTarget::Span, span_rowid).await?;
        Ok(annotations.into_iter().map(|(annotation, _)| annotation).collect())
    }

    /// The annotations of one span, trace or session, or of a span's documents (with their
    /// positions), oldest first.
    pub async fn annotations_of_target(&self, target: AnnotationTarget, target_rowid: i64) -> Result<Vec<(AnnotationRecord, Option<i64>)>> {
        let (table, key, target_table, target_id) = tables(target);
        let position = if target == AnnotationTarget::Document { "a.document_position" } else { "CAST(NULL AS BIGINT)" };
        let sql = format!(
            "SELECT a.id AS id, t.{target_id} AS target_id, a.name AS name, a.label AS label, a.score AS score, \
             a.explanation AS explanation, {} AS metadata, a.annotator_kind AS annotator_kind, a.identifier AS identifier, \
             a.source AS source, a.user_id AS user_id, a.created_at AS created_at, a.updated_at AS updated_at, \
             {position} AS document_position FROM {table} AS a JOIN {target_table} AS t ON t.id = a.{key} \
             WHERE a.{key} = {} ORDER BY a.id",
            self.dialect.json_text("a.metadata"),
            self.dialect.placeholder(1)
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [target_rowid.into()])).await?;
        rows.iter().map(|row| Ok((AnnotationRecord::from_row(row)?, row.get("document_position")?))).collect()
    }

    /// The annotations of a trace's spans, notes left out, with the rowids of their spans, oldest
    /// first and at most `limit` (the trace tree's chips); found through the trace's spans.
    pub async fn span_annotations_of_trace(&self, trace_rowid: i64, limit: usize) -> Result<Vec<(i64, AnnotationRecord)>> {
        let sql = format!(
            "SELECT a.id AS id, t.span_id AS target_id, a.name AS name, a.label AS label, a.score AS score, \
             a.explanation AS explanation, {} AS metadata, a.annotator_kind AS annotator_kind, a.identifier AS identifier, \
             a.source AS source, a.user_id AS user_id, a.created_at AS created_at, a.updated_at AS updated_at, \
             a.span_rowid AS span_rowid FROM span_annotations AS a JOIN spans AS t ON t.id = a.span_rowid \
             WHERE t.trace_rowid = {} AND a.name <> 'note' ORDER BY a.id LIMIT {}",
            self.dialect.json_text("a.metadata"),
            self.dialect.placeholder(1),
            self.dialect.placeholder(2)
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [trace_rowid.into(), (limit as i64).into()])).await?;
        rows.iter().map(|row| Ok((row.get("span_rowid")?, AnnotationRecord::from_row(row)?))).collect()
    }

    /// Applies `patch` to an annotation of `target`; `NotFound`, or `Conflict` when the new
    /// (name, identifier) is taken on the annotated object.
    pub async fn patch_annotation(&self, target: AnnotationTarget, id: i64, patch: &AnnotationPatch) -> Result<AnnotationRecord> {
        let (mut current, _) = self
            .get_annotation(target, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("{} annotation {id} not found", target.noun())))?;
        if let Some(name) = &patch.name {
            current.name = name.clone();
        }
        if let Some(kind) = patch.annotator_kind {
            current.annotator_kind = kind;
        }
        if let Some(label) = &patch.label {
            current.label = label.clone();
        }
        if let Some(score) = patch.score {
            current.score = score;
        }
        if let Some(explanation) = &patch.explanation {
            current.explanation = explanation.clone();
        }
        if let Some(metadata) = &patch.metadata {
            current.metadata = metadata.clone();
        }
        if let Some(identifier) = &patch.identifier {
            current.identifier = identifier.clone();
        }
        let metadata = self.dialect.json_param("$6");
        let (table, ..) = tables(target);
        let sql = format!(
            "UPDATE {table} SET name = $1, label = $2, score = $3, explanation = $4, annotator_kind = $5, metadata = {metadata}, \
             identifier = $7, updated_at = $8 WHERE id = $9"
        );
        let values = [
            current.name.clone().into(),
            current.label.clone().into(),
            current.score.into(),
            current.explanation.clone().into(),
            current.annotator_kind.as_str().into(),
            current.metadata.to_string().into(),
            current.identifier.clone().into(),
            ember_core::time::now_nanos().into(),
            id.into(),
        ];
        match self.writer.exec().execute(Statement::new(sql, values)).await {
            Ok(_) => {}
            Err(StoreError::Database(error)) if error.as_database_error().is_some_and(|e| e.is_unique_violation()) => {
                return Err(StoreError::Conflict(format!(
                    "the {} already has an annotation named {:?} with that identifier",
                    target.noun(),
                    current.name
                )));
            }
            Err(error) => return Err(error),
        }
        Ok(self.get_annotation(target, id).await?.map(|(record, _)| record).unwrap_or(current))
    }

    /// Deletes one of a project's annotations by id; `false` when the project has none with that id.
    pub async fn delete_annotation_in_project(&self, target: AnnotationTarget, project_id: i64, id: i64) -> Result<bool> {
        let (table, key, target_table, _) = tables(target);
        let sql = format!("DELETE FROM {table} WHERE id = $1 AND {key} IN (SELECT id FROM {target_table} WHERE project_id = $2)");
        Ok(self.writer.exec().execute(Statement::new(sql, [id.into(), project_id.into()])).await? > 0)
    }

    /// Deletes annotations of `target` by id; returns those that existed.
    pub async fn delete_annotations_by_id(&self, target: AnnotationTarget, ids: &[i64]) -> Result<Vec<AnnotationRecord>> {
        let (table, ..) = tables(target);
        let mut deleted = Vec::new();
        for id in ids {
            if let Some((record, _)) = self.get_annotation(target, *id).await? {
                let sql = format!("DELETE FROM {table} WHERE id = {}", self.dialect.placeholder(1));
                self.writer.exec().execute(Statement::new(sql, [(*id).into()])).await?;
                deleted.push(record);
            }
        }
        Ok(deleted)
    }
}

impl AnnotationRecord {
    /// From the columns `id, target_id, name, label, score, explanation, metadata,
    /// annotator_kind, identifier, source, user_id, created_at, updated_at`, by name.
    pub(crate) fn from_row(row: &Row) -> Result<Self> {
        Ok(AnnotationRecord {
            rowid: row.get("id")?,
            target_id: row.get("target_id")?,
            name: row.get("name")?,
            label: row.get("label")?,
            score: row.get("score")?,
            explanation: row.get("explanation")?,
            metadata: serde_json::from_str(&row.get::<String, _>("metadata")?).unwrap_or(Value::Null),
            annotator_kind: annotator_kind(&row.get::<String, _>("annotator_kind")?)?,
            identifier: row.get("identifier")?,
            source: annotation_source(&row.get::<String, _>("source")?)?,
            user_id: row.get("user_id")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }
}

/// A stored annotator kind (the tables check the values).
pub(crate) fn annotator_kind(text: &str) -> Result<AnnotatorKind> {
    AnnotatorKind::parse(text).ok_or_else(|| StoreError::Corrupt(format!("annotator kind {text:?}")))
}

/// A stored annotation source.
pub(crate) fn annotation_source(text: &str) -> Result<AnnotationSource> {
    AnnotationSource::parse(text).ok_or_else(|| StoreError::Corrupt(format!("annotation source {text:?}")))
}
