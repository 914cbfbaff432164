//! Writing annotations: upserted by (name, target, identifier) — and document position for
//! document annotations — as Phoenix does, in multi-row statements.

use std::collections::HashMap;

use super::{tables, AnnotationInput, AnnotationTarget, DocumentAnnotationInput};
use sea_query::{Alias, Expr, Query};

use crate::engine::backend::{as_stored, Exec, Statement};
use crate::engine::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::Store;

/// Rows per insert statement: 13 values each, under both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 1000;

/// The unique key of an annotation row: (name, target rowid, identifier, document position).
type RowKey = (String, i64, String, Option<i64>);

impl Store {
    /// Writes span, trace or session annotations by the user `user_id` (none with
    /// authentication off), replacing any with the same (name, target, identifier). Returns their
    /// ids in input order. If a target is unknown nothing is written. Document annotations carry
    /// a position: see [`Store::upsert_document_annotations`].
    pub async fn upsert_annotations(
        &self,
        target: AnnotationTarget,
        annotations: &[AnnotationInput],
        user_id: Option<i64>,
    ) -> Result<Vec<i64>> {
        if target == AnnotationTarget::Document {
            return Err(StoreError::Invalid("document annotations need their document positions".into()));
        }
        self.upsert_rows(target, &annotations.iter().map(|a| (a, None)).collect::<Vec<_>>(), user_id).await
    }

    /// Writes annotations of retrieved documents, replacing any with the same (name, span,
    /// document position, identifier).
    pub async fn upsert_document_annotations(&self, annotations: &[DocumentAnnotationInput], user_id: Option<i64>) -> Result<Vec<i64>> {
        let rows: Vec<_> = annotations.iter().map(|a| (&a.annotation, Some(a.document_position))).collect();
        self.upsert_rows(AnnotationTarget::Document, &rows, user_id).await
    }

    async fn upsert_rows(
        &self,
        target: AnnotationTarget,
        annotations: &[(&AnnotationInput, Option<i64>)],
        user_id: Option<i64>,
    ) -> Result<Vec<i64>> {
        let (table, key, target_table, target_id) = tables(target);
        let mut tx = self.writer.begin().await?;
        let target_ids: Vec<&str> = annotations.iter().map(|(a, _)| a.target_id.as_str()).collect();
        let rowids = resolve_ids(tx.exec(), self.dialect, target, target_table, target_id, &target_ids).await?;
        // Keyed by the text as stored, to match the rows the upsert returns.
        let row_key = |(annotation, position): &(&AnnotationInput, Option<i64>)| -> RowKey {
            let stored = |text: &str| as_stored(self.dialect, text);
            (stored(&annotation.name), rowids[&annotation.target_id], stored(&annotation.identifier), *position)
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
        // The row's columns, in the order of its values; the metadata is JSON.
        let mut columns = vec!["?"];
        if target == AnnotationTarget::Document {
            columns.push("?");
        }
        let metadata_json = self.dialect.json_param("?");
        columns.extend(["?", "?", "?", "?", "?", &metadata_json, "?", "?", "?", "?", "?"]);
        let now = ember_core::time::now_nanos();
        let mut id_of_key: HashMap<RowKey, i64> = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(ROWS_PER_STATEMENT) {
            let mut values: Vec<sea_query::Value> = Vec::with_capacity(chunk.len() * columns.len());
            for &index in chunk {
                let (annotation, position) = &annotations[index];
                values.push(rowids[&annotation.target_id].into());
                if let Some(position) = position {
                    values.push((*position).into());
                }
                values.extend([
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
                    user_id.into(),
                ]);
            }
            let returned_position = if target == AnnotationTarget::Document { "document_position" } else { "NULL" };
            let sql = format!(
                "INSERT INTO {table} ({key}, {position_column}name, label, score, explanation, identifier, metadata, annotator_kind, \
                 created_at, updated_at, source, user_id) VALUES {} \
                 ON CONFLICT ({conflict}) DO UPDATE SET label = excluded.label, score = excluded.score, \
                 explanation = excluded.explanation, metadata = excluded.metadata, annotator_kind = excluded.annotator_kind, \
                 updated_at = excluded.updated_at, source = excluded.source, user_id = excluded.user_id RETURNING id, name, {key}, identifier, {returned_position}",
                self.dialect.values_rows(1, chunk.len(), &columns)
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
        let select = Query::select()
            .columns([Alias::new(id_column), Alias::new("id")])
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(id_column)).is_in(chunk.iter().copied()))
            .to_owned();
        let (sql, values) = select.build_any(dialect.query_builder());
        for row in exec.reborrow().fetch_all(Statement { sql, values }).await? {
            // A session id used in several projects names the session seen first (see
            // `Store::get_session`); every other target id is unique.
            let rowid = row.get::<i64, _>(1)?;
            found.entry(row.get::<String, _>(0)?).and_modify(|seen: &mut i64| *seen = (*seen).min(rowid)).or_insert(rowid);
        }
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|id| !found.contains_key(*id)).collect();
    if !missing.is_empty() {
        return Err(StoreError::NotFound(format!("no {} with id {}", target.noun(), missing.join(", "))));
    }
    Ok(found)
}
