//! Writing annotations: upserted by (name, target, identifier) — and document position for
//! document annotations — as Phoenix does, in multi-row statements.

use std::collections::HashMap;

use super::{tables, AnnotationInput, AnnotationTarget, DocumentAnnotationInput};
use crate::backend::{Exec, Statement};
use crate::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::Store;

/// Rows per insert statement: 12 values each, under both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 1000;

/// The unique key of an annotation row: (name, target rowid, identifier, document position).
type RowKey = (String, i64, String, Option<i64>);

impl Store {
    /// Writes span, trace or session annotations, replacing any with the same (name, target,
    /// identifier). Returns their ids in input order. If a target is unknown nothing is written.
    /// Document annotations carry a position: see [`Store::upsert_document_annotations`].
    pub async fn upsert_annotations(&self, target: AnnotationTarget, annotations: &[AnnotationInput]) -> Result<Vec<i64>> {
        if target == AnnotationTarget::Document {
            return Err(StoreError::Invalid("document annotations need their document positions".into()));
        }
        self.upsert_rows(target, &annotations.iter().map(|a| (a, None)).collect::<Vec<_>>()).await
    }

    /// Writes annotations of retrieved documents, replacing any with the same (name, span,
    /// document position, identifier).
    pub async fn upsert_document_annotations(&self, annotations: &[DocumentAnnotationInput]) -> Result<Vec<i64>> {
        let rows: Vec<_> = annotations.iter().map(|a| (&a.annotation, Some(a.document_position))).collect();
        self.upsert_rows(AnnotationTarget::Document, &rows).await
    }

    async fn upsert_rows(&self, target: AnnotationTarget, annotations: &[(&AnnotationInput, Option<i64>)]) -> Result<Vec<i64>> {
        let (table, key, target_table, target_id) = tables(target);
        let mut tx = self.writer.begin().await?;
        let target_ids: Vec<&str> = annotations.iter().map(|(a, _)| a.target_id.as_str()).collect();
        let rowids = resolve_ids(tx.exec(), self.dialect, target, target_table, target_id, &target_ids).await?;
        let row_key = |(annotation, position): &(&AnnotationInput, Option<i64>)| -> RowKey {
            (annotation.name.clone(), rowids[&annotation.target_id], annotation.identifier.clone(), *position)
        };
        // One row per key, the last one given winning, as if written one after another (a
        // statement may not update the same row twice).
        let mut last_of_key: HashMap<RowKey, usize> = HashMap::with_capacity(annotations.len());
        for (index, annotation) in annotations.iter().enumerate() {
            last_of_key.insert(row_key(annotation), index);
        }
        let mut unique: Vec<usize> = last_of_key.values().copied().collect();
        unique.sort_unstable();

        let position_column = if target == AnnotationTarget::Document { "document_position, " } else { "" };
        let conflict = if target == AnnotationTarget::Document {
            format!("name, {key}, document_position, identifier")
        } else {
            format!("name, {key}, identifier")
        };
        // `?` on SQLite: sqlx matches `$n` names to arguments in quadratic time, ruinous for
        // the 11,000 values of a full statement.
        let placeholder = |n: usize| self.dialect.placeholder(n);
        let metadata = |n: usize| match self.dialect {
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => format!("CAST(${n} AS JSONB)"),
        };
        let now = ember_core::time::now_nanos();
        let mut id_of_key: HashMap<RowKey, i64> = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(ROWS_PER_STATEMENT) {
            let mut tuples = Vec::with_capacity(chunk.len());
            let mut values: Vec<sea_query::Value> = Vec::with_capacity(chunk.len() * 12);
            for &index in chunk {
                let (annotation, position) = &annotations[index];
                // Placeholders appear in the order of the values.
                let mut row: Vec<sea_query::Value> = vec![rowids[&annotation.target_id].into()];
                if let Some(position) = position {
                    row.push((*position).into());
                }
                let metadata_at = row.len() + 6;
                row.extend([
                    annotation.name.clone().into(),
                    annotation.label.clone().into(),
                    annotation.score.into(),
                    annotation.explanation.clone().into(),
                    annotation.identifier.clone().into(),
                    annotation.metadata.to_string().into(),
                    annotation.annotator_kind.as_str().into(),
                    now.into(),
                    now.into(),
                    annotation.source.as_str().into(),
                ]);
                let placeholders: Vec<String> = (0..row.len())
                    .map(|offset| {
                        let n = values.len() + offset + 1;
                        if offset + 1 == metadata_at {
                            metadata(n)
                        } else {
                            placeholder(n)
                        }
                    })
                    .collect();
                tuples.push(format!("({})", placeholders.join(", ")));
                values.extend(row);
            }
            let returned_position = if target == AnnotationTarget::Document { "document_position" } else { "NULL" };
            let sql = format!(
                "INSERT INTO {table} ({key}, {position_column}name, label, score, explanation, identifier, metadata, annotator_kind, \
                 created_at, updated_at, source) VALUES {} \
                 ON CONFLICT ({conflict}) DO UPDATE SET label = excluded.label, score = excluded.score, \
                 explanation = excluded.explanation, metadata = excluded.metadata, annotator_kind = excluded.annotator_kind, \
                 updated_at = excluded.updated_at, source = excluded.source RETURNING id, name, {key}, identifier, {returned_position}",
                tuples.join(", ")
            );
            for row in tx.exec().fetch_all(Statement::new(sql, values)).await? {
                let position: Option<i64> = row.get(4)?;
                id_of_key.insert((row.get(1)?, row.get(2)?, row.get(3)?, position), row.get(0)?);
            }
        }
        tx.commit().await?;
        annotations
            .iter()
            .map(|annotation| {
                id_of_key
                    .get(&row_key(annotation))
                    .copied()
                    .ok_or_else(|| StoreError::Invalid("an upserted annotation returned no id".into()))
            })
            .collect()
    }
}

/// Rowids of the annotated spans, traces or sessions; a missing one fails the whole write.
async fn resolve_ids(
    mut exec: Exec<'_>,
    dialect: Dialect,
    target: AnnotationTarget,
    table: &str,
    id_column: &str,
    ids: &[&str],
) -> Result<HashMap<String, i64>> {
    let mut wanted: Vec<&str> = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut found = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|n| dialect.placeholder(n)).collect();
        let sql = format!("SELECT {id_column}, id FROM {table} WHERE {id_column} IN ({})", placeholders.join(", "));
        for row in exec.reborrow().fetch_all(Statement::new(sql, chunk.iter().map(|id| (*id).into()))).await? {
            found.insert(row.get::<String>(0)?, row.get::<i64>(1)?);
        }
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|id| !found.contains_key(*id)).collect();
    if !missing.is_empty() {
        return Err(StoreError::NotFound(format!("no {} with id {}", target.noun(), missing.join(", "))));
    }
    Ok(found)
}
