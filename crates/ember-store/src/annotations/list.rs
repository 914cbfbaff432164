//! Reading and deleting a project's annotations.

use serde_json::Value;

use super::by_id::{annotation_source, annotator_kind};
use super::{tables, AnnotationSource, AnnotationTarget, AnnotatorKind};
use sea_query::{Alias, Expr, JoinType, Order, Query};

use crate::engine::backend::{decode_json_page, json_page, Statement};
use crate::engine::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::spans::records::Page;
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
        let (a, t) = (Alias::new("a"), Alias::new("t"));
        let columns = format!(
            "a.id AS id, t.{target_id} AS target_id, a.name AS name, a.label AS label, a.score AS score, \
             a.explanation AS explanation, {} AS metadata, a.annotator_kind AS annotator_kind, a.identifier AS identifier, \
             a.source AS source, a.user_id AS user_id, a.created_at AS created_at, a.updated_at AS updated_at",
            self.dialect.json_text("a.metadata")
        );
        let mut select = Query::select();
        select.expr(Expr::cust(columns));
        let joined = Expr::col((t.clone(), Alias::new("id"))).equals((a.clone(), Alias::new(key)));
        if query.target_ids.is_empty() {
            select.from_as(Alias::new(table), a.clone()).join_as(JoinType::InnerJoin, Alias::new(target_table), t.clone(), joined);
            select.and_where(Expr::col((t.clone(), Alias::new("project_id"))).eq(project_id));
        } else {
            // Given target ids, the targets drive the query through their id index, then the
            // annotations' target index: SQLite keeps the order of a CROSS JOIN (it would otherwise
            // walk every annotation newest first), and `+` keeps it off the project indexes.
            let join = if self.dialect == Dialect::Sqlite { JoinType::CrossJoin } else { JoinType::InnerJoin };
            select.from_as(Alias::new(target_table), t.clone()).join_as(join, Alias::new(table), a.clone(), joined);
            select.and_where(Expr::expr(Expr::cust("+t.project_id")).eq(project_id));
            select.and_where(Expr::col((t.clone(), Alias::new(target_id))).is_in(query.target_ids.iter().map(String::as_str)));
        }
        if !query.identifiers.is_empty() {
            select.and_where(Expr::col((a.clone(), Alias::new("identifier"))).is_in(query.identifiers.iter().map(String::as_str)));
        }
        if !query.include_names.is_empty() {
            select.and_where(Expr::col((a.clone(), Alias::new("name"))).is_in(query.include_names.iter().map(String::as_str)));
        }
        if !query.exclude_names.is_empty() {
            select.and_where(Expr::col((a.clone(), Alias::new("name"))).is_not_in(query.exclude_names.iter().map(String::as_str)));
        }
        if let Some(cursor) = query.cursor {
            select.and_where(Expr::col((a.clone(), Alias::new("id"))).lte(cursor));
        }
        select.order_by((a, Alias::new("id")), Order::Desc).limit(query.limit as u64 + 1);
        let statement = self.build(&select);
        let records = match self.dialect {
            Dialect::Sqlite => {
                // Scores travel as 17 significant digits, which give back the stored double exactly.
                let columns = "id, target_id, name, label, CASE WHEN score IS NULL THEN NULL ELSE printf('%!.17g', score) END, \
                               explanation, json(metadata), annotator_kind, identifier, source, user_id, created_at, updated_at";
                let rows = self.fetch_within_budget(json_page(statement, columns, Some("id DESC"))).await?;
                decode_json_page::<JsonAnnotationRow>(&rows)?.into_iter().map(AnnotationRecord::try_from).collect::<Result<_>>()?
            }
            Dialect::Postgres => {
                let rows = self.fetch_within_budget(statement).await?;
                rows.iter().map(AnnotationRecord::from_row).collect::<Result<Vec<_>>>()?
            }
        };
        Ok(Page::from_overfetch(records, query.limit, |record| record.rowid))
    }

    /// Deletes a project's span, trace or session annotations that match; returns how many.
    pub async fn delete_annotations(&self, target: AnnotationTarget, project_id: i64, deletion: &AnnotationDeletion) -> Result<u64> {
        let (table, key, target_table, _) = tables(target);
        let targets = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(target_table))
            .and_where(Expr::col(Alias::new("project_id")).eq(project_id))
            .to_owned();
        let mut delete = Query::delete();
        delete.from_table(Alias::new(table)).and_where(Expr::col(Alias::new(key)).in_subquery(targets));
        if let Some(name) = &deletion.name {
            delete.and_where(Expr::col(Alias::new("name")).eq(name.as_str()));
        }
        if let Some(identifier) = &deletion.identifier {
            delete.and_where(Expr::col(Alias::new("identifier")).eq(identifier.as_str()));
        }
        if let Some(kind) = deletion.annotator_kind {
            delete.and_where(Expr::col(Alias::new("annotator_kind")).eq(kind.as_str()));
        }
        if let Some(from) = deletion.created_from {
            delete.and_where(Expr::col(Alias::new("created_at")).gte(from));
        }
        if let Some(before) = deletion.created_before {
            delete.and_where(Expr::col(Alias::new("created_at")).lt(before));
        }
        self.writer.exec().execute(self.build(&delete)).await
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
    /// The (name, annotator kind) pairs of the annotations of the project's spans that start in
    /// `[start, end)`, sorted.
    pub async fn span_annotation_names(&self, project_id: i64, start: i64, end: i64) -> Result<Vec<(String, AnnotatorKind)>> {
        let [project, from, to] = [1, 2, 3].map(|index| self.dialect.placeholder(index));
        let sql = format!(
            "SELECT DISTINCT a.name, a.annotator_kind FROM spans AS s JOIN span_annotations AS a ON a.span_rowid = s.id \
             WHERE s.project_id = {project} AND s.start_time >= {from} AND s.start_time < {to} ORDER BY a.name, a.annotator_kind"
        );
        let rows = self.fetch_within_budget(Statement::new(sql, [project_id.into(), start.into(), end.into()])).await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.get(1)?;
                Ok((row.get(0)?, annotator_kind(&kind)?))
            })
            .collect()
    }

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
