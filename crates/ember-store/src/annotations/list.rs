//! Reading and deleting a project's annotations.

use serde_json::Value;

use super::by_id::{annotation_source, annotator_kind};
use super::{tables, AnnotationSource, AnnotationTarget, AnnotatorKind};
use crate::backend::Statement;
use crate::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::records::Page;
use crate::Store;

/// Which annotations of a project to list. Empty lists mean "no filter" (the annotation
/// service requires `target_ids` or `identifiers`).
#[derive(Debug, Clone, Default)]
pub struct AnnotationQuery {
    /// OpenTelemetry span (or trace) ids.
    pub target_ids: Vec<String>,
    pub identifiers: Vec<String>,
    pub include_names: Vec<String>,
    pub exclude_names: Vec<String>,
    /// Id of the first annotation of the page (pages run newest first).
    pub cursor: Option<i64>,
    pub limit: usize,
}

/// Which annotations of a project to delete. `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct AnnotationDeletion {
    pub name: Option<String>,
    pub identifier: Option<String>,
    pub annotator_kind: Option<AnnotatorKind>,
    /// Inclusive lower bound on creation time (Unix nanoseconds).
    pub created_from: Option<i64>,
    /// Exclusive upper bound on creation time.
    pub created_before: Option<i64>,
}

/// A stored annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationRecord {
    pub rowid: i64,
    /// The OpenTelemetry id of the annotated span (or trace).
    pub target_id: String,
    pub name: String,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
    pub metadata: Value,
    pub annotator_kind: AnnotatorKind,
    pub identifier: String,
    pub source: AnnotationSource,
    pub user_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An annotation as SQLite's JSON page holds it (see `list_annotations`): an array in this
/// field order, which serde reads into the named fields.
#[derive(serde::Deserialize)]
struct JsonAnnotationRow {
    id: i64,
    target_id: String,
    name: String,
    label: Option<String>,
    /// Text with 17 significant digits, which give back the stored double exactly.
    score: Option<String>,
    explanation: Option<String>,
    metadata: Value,
    annotator_kind: String,
    identifier: String,
    source: String,
    user_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<JsonAnnotationRow> for AnnotationRecord {
    type Error = StoreError;

    fn try_from(row: JsonAnnotationRow) -> Result<Self> {
        let score =
            row.score.map(|text| text.parse::<f64>().map_err(|_| StoreError::Corrupt(format!("annotation score {text:?}")))).transpose()?;
        Ok(AnnotationRecord {
            rowid: row.id,
            target_id: row.target_id,
            name: row.name,
            label: row.label,
            score,
            explanation: row.explanation,
            metadata: row.metadata,
            annotator_kind: annotator_kind(&row.annotator_kind)?,
            identifier: row.identifier,
            source: annotation_source(&row.source)?,
            user_id: row.user_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Placeholders for `count` values from the `first`-th (`?` on SQLite, whose driver matches
/// `$n` names to values in quadratic time).
fn placeholders(dialect: Dialect, first: usize, count: usize) -> String {
    (first..first + count).map(|n| dialect.placeholder(n)).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// A project's span, trace or session annotations, newest first (for sessions, `target_ids`
    /// are `session.id`s).
    pub async fn list_annotations(
        &self,
        target: AnnotationTarget,
        project_id: i64,
        query: &AnnotationQuery,
    ) -> Result<Page<AnnotationRecord>> {
        let (table, key, target_table, target_id) = tables(target);
        let metadata = match self.dialect {
            Dialect::Sqlite => "a.metadata",
            Dialect::Postgres => "CAST(a.metadata AS TEXT)",
        };
        // Given target ids, the targets drive the query through their id index, then the
        // annotations' target index: SQLite keeps the order of a CROSS JOIN (it would otherwise
        // walk every annotation newest first), and `+` keeps it off the project indexes.
        let (join, project) = if query.target_ids.is_empty() {
            (format!("{table} AS a JOIN {target_table} AS t ON t.id = a.{key}"), "t.project_id")
        } else {
            (format!("{target_table} AS t CROSS JOIN {table} AS a"), "+t.project_id")
        };
        let mut sql = format!(
            "SELECT a.id AS id, t.{target_id} AS target_id, a.name AS name, a.label AS label, a.score AS score, \
             a.explanation AS explanation, {metadata} AS metadata, a.annotator_kind AS annotator_kind, a.identifier AS identifier, \
             a.source AS source, a.user_id AS user_id, a.created_at AS created_at, a.updated_at AS updated_at \
             FROM {join} WHERE t.id = a.{key} AND {project} = {}",
            self.dialect.placeholder(1)
        );
        let mut values: Vec<sea_query::Value> = vec![project_id.into()];
        for (column, list, negated) in [
            (format!("t.{target_id}"), &query.target_ids, false),
            ("a.identifier".to_string(), &query.identifiers, false),
            ("a.name".to_string(), &query.include_names, false),
            ("a.name".to_string(), &query.exclude_names, true),
        ] {
            if list.is_empty() {
                continue;
            }
            let not = if negated { "NOT " } else { "" };
            sql.push_str(&format!(" AND {column} {not}IN ({})", placeholders(self.dialect, values.len() + 1, list.len())));
            values.extend(list.iter().map(|item| item.as_str().into()));
        }
        if let Some(cursor) = query.cursor {
            values.push(cursor.into());
            sql.push_str(&format!(" AND a.id <= {}", self.dialect.placeholder(values.len())));
        }
        sql.push_str(&format!(" ORDER BY a.id DESC LIMIT {}", query.limit + 1));
        let records = match self.dialect {
            Dialect::Sqlite => {
                // sqlx hands SQLite rows over one at a time, waking this task for each, which cost
                // more than the query: SQLite returns the page as one row of JSON instead. Scores
                // travel as 17 significant digits, which give back the stored double exactly.
                let sql = format!(
                    "SELECT json_group_array(json_array(id, target_id, name, label, \
                     CASE WHEN score IS NULL THEN NULL ELSE printf('%!.17g', score) END, explanation, json(metadata), \
                     annotator_kind, identifier, source, user_id, created_at, updated_at) ORDER BY id DESC) FROM ({sql})"
                );
                let rows = self.fetch_within_budget(Statement::new(sql, values)).await?;
                let page = rows.first().map(|row| row.get::<String>(0)).transpose()?.unwrap_or_else(|| "[]".into());
                serde_json::from_str::<Vec<JsonAnnotationRow>>(&page)?.into_iter().map(AnnotationRecord::try_from).collect::<Result<_>>()?
            }
            Dialect::Postgres => {
                let rows = self.fetch_within_budget(Statement::new(sql, values)).await?;
                rows.iter().map(AnnotationRecord::from_row).collect::<Result<Vec<_>>>()?
            }
        };
        Ok(Page::from_overfetch(records, query.limit, |record| record.rowid))
    }

    /// Deletes a project's span, trace or session annotations that match; returns how many.
    pub async fn delete_annotations(&self, target: AnnotationTarget, project_id: i64, deletion: &AnnotationDeletion) -> Result<u64> {
        let (table, key, target_table, _) = tables(target);
        let mut sql = format!(
            "DELETE FROM {table} WHERE {key} IN (SELECT id FROM {target_table} WHERE project_id = {})",
            self.dialect.placeholder(1)
        );
        let mut values: Vec<sea_query::Value> = vec![project_id.into()];
        let conditions: [(&str, Option<sea_query::Value>); 5] = [
            ("name =", deletion.name.clone().map(Into::into)),
            ("identifier =", deletion.identifier.clone().map(Into::into)),
            ("annotator_kind =", deletion.annotator_kind.map(|kind| kind.as_str().into())),
            ("created_at >=", deletion.created_from.map(Into::into)),
            ("created_at <", deletion.created_before.map(Into::into)),
        ];
        for (condition, value) in conditions {
            if let Some(value) = value {
                values.push(value);
                sql.push_str(&format!(" AND {condition} {}", self.dialect.placeholder(values.len())));
            }
        }
        self.writer.exec().execute(Statement::new(sql, values)).await
    }
}

/// An annotation written by an LLM, as `GET /v1/evaluations` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmAnnotation {
    pub name: String,
    /// The OpenTelemetry id of the span or trace.
    pub target_id: String,
    pub document_position: Option<i64>,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
}

/// A project's LLM-written annotations by level, each ordered by name then age.
#[derive(Debug, Default)]
pub struct LlmAnnotations {
    pub traces: Vec<LlmAnnotation>,
    pub spans: Vec<LlmAnnotation>,
    pub documents: Vec<LlmAnnotation>,
}

impl Store {
    /// Every annotation of the project whose annotator kind is LLM (the legacy evaluations).
    pub async fn llm_annotations(&self, project_id: i64) -> Result<LlmAnnotations> {
        let mut levels = LlmAnnotations::default();
        for (target, out) in [
            (AnnotationTarget::Trace, &mut levels.traces),
            (AnnotationTarget::Span, &mut levels.spans),
            (AnnotationTarget::Document, &mut levels.documents),
        ] {
            let (table, key, target_table, target_id) = tables(target);
            let position = if target == AnnotationTarget::Document { "a.document_position" } else { "NULL" };
            let sql = format!(
                "SELECT a.name, t.{target_id}, {position}, a.label, a.score, a.explanation FROM {table} AS a \
                 JOIN {target_table} AS t ON t.id = a.{key} WHERE t.project_id = {} AND a.annotator_kind = 'LLM' ORDER BY a.name, a.id",
                self.dialect.placeholder(1)
            );
            for row in self.fetch_within_budget(Statement::new(sql, [project_id.into()])).await? {
                out.push(LlmAnnotation {
                    name: row.get(0)?,
                    target_id: row.get(1)?,
                    document_position: row.get(2)?,
                    label: row.get(3)?,
                    score: row.get(4)?,
                    explanation: row.get(5)?,
                });
            }
        }
        Ok(levels)
    }
}
