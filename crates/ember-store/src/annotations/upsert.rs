//! Writing annotations: upserted by (name, target, identifier), as Phoenix does.

use std::collections::HashMap;

use super::{AnnotationInput, Target};
use crate::backend::{Exec, Statement};
use crate::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::Store;

impl Store {
    /// Writes span annotations, replacing any with the same (name, span, identifier). Returns
    /// their ids in input order. If a span is unknown nothing is written.
    pub async fn upsert_span_annotations(&self, annotations: &[AnnotationInput]) -> Result<Vec<i64>> {
        self.upsert_annotations(Target::Span, annotations).await
    }

    /// Writes trace annotations, replacing any with the same (name, trace, identifier).
    pub async fn upsert_trace_annotations(&self, annotations: &[AnnotationInput]) -> Result<Vec<i64>> {
        self.upsert_annotations(Target::Trace, annotations).await
    }

    async fn upsert_annotations(&self, target: Target, annotations: &[AnnotationInput]) -> Result<Vec<i64>> {
        let (table, key, target_table, target_id) = target.tables();
        let mut tx = self.writer.begin().await?;
        let rowids = resolve_ids(tx.exec(), target_table, target_id, annotations).await?;
        let metadata = match self.dialect {
            Dialect::Sqlite => "$7",
            Dialect::Postgres => "CAST($7 AS JSONB)",
        };
        let sql = format!(
            "INSERT INTO {table} ({key}, name, label, score, explanation, identifier, metadata, annotator_kind, source, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, {metadata}, $8, 'API', $9, $9) \
             ON CONFLICT (name, {key}, identifier) DO UPDATE SET label = excluded.label, score = excluded.score, \
             explanation = excluded.explanation, metadata = excluded.metadata, annotator_kind = excluded.annotator_kind, \
             updated_at = excluded.updated_at RETURNING id"
        );
        let now = ember_core::time::now_nanos();
        let mut ids = Vec::with_capacity(annotations.len());
        for annotation in annotations {
            let row = tx
                .exec()
                .fetch_one(Statement::new(
                    sql.clone(),
                    [
                        rowids[&annotation.target_id].into(),
                        annotation.name.clone().into(),
                        annotation.label.clone().into(),
                        annotation.score.into(),
                        annotation.explanation.clone().into(),
                        annotation.identifier.clone().into(),
                        annotation.metadata.to_string().into(),
                        annotation.annotator_kind.as_str().into(),
                        now.into(),
                    ],
                ))
                .await?;
            ids.push(row.get(0)?);
        }
        tx.commit().await?;
        Ok(ids)
    }
}

/// Rowids of the annotated spans or traces; a missing one fails the whole write.
async fn resolve_ids(mut exec: Exec<'_>, table: &str, id_column: &str, annotations: &[AnnotationInput]) -> Result<HashMap<String, i64>> {
    let mut wanted: Vec<&str> = annotations.iter().map(|a| a.target_id.as_str()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut found = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!("SELECT {id_column}, id FROM {table} WHERE {id_column} IN ({})", placeholders.join(", "));
        for row in exec.reborrow().fetch_all(Statement::new(sql, chunk.iter().map(|id| (*id).into()))).await? {
            found.insert(row.get::<String>(0)?, row.get::<i64>(1)?);
        }
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|id| !found.contains_key(*id)).collect();
    if !missing.is_empty() {
        let kind = if table == "spans" { "span" } else { "trace" };
        return Err(StoreError::NotFound(format!("no {kind} with id {}", missing.join(", "))));
    }
    Ok(found)
}
