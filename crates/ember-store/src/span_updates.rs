//! Changing stored spans in bulk (the Arize AX span APIs): setting `metadata` keys, deleting
//! spans by id.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::attribute_index::{self, values_of};
use crate::backend::{Statement, Transaction};
use crate::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::Store;

/// Spans per transaction of a metadata update.
const SPANS_PER_TRANSACTION: usize = 1000;

/// New values for `metadata` keys of one span, already in their stored form.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataUpdate {
    pub span_id: String,
    pub values: Map<String, Value>,
}

/// Why a span's metadata was left as it was.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataFailure {
    /// No such span in the project.
    NotFound,
    /// The span's `metadata` attribute is not an object.
    NotAnObject,
    /// A key holds a value of another JSON type than the new one.
    TypeConflict { key: String, stored: &'static str, given: &'static str },
}

/// Which spans were updated, and why the others were not.
#[derive(Debug, Default)]
pub struct MetadataOutcome {
    pub updated: usize,
    pub failed: Vec<(String, MetadataFailure)>,
}

/// JSON type names as the conflict messages give them.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Bool",
        Value::Number(n) if n.is_f64() => "Float",
        Value::Number(_) => "Int",
        Value::String(_) => "Utf8",
        Value::Array(_) => "List",
        Value::Object(_) => "Struct",
    }
}

/// Numbers of either kind may replace each other; otherwise non-null values keep their type.
fn conflicts(stored: &Value, given: &Value) -> bool {
    !(stored.is_null() || given.is_null() || (stored.is_number() && given.is_number()) || kind(stored) == kind(given))
}

/// Applies `values` to the span's attributes; `Err` leaves them untouched.
fn apply(attributes: &mut Map<String, Value>, values: &Map<String, Value>) -> std::result::Result<(), MetadataFailure> {
    let metadata = attributes.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(metadata) = metadata else { return Err(MetadataFailure::NotAnObject) };
    for (key, given) in values {
        if let Some(stored) = metadata.get(key).filter(|stored| conflicts(stored, given)) {
            return Err(MetadataFailure::TypeConflict { key: key.clone(), stored: kind(stored), given: kind(given) });
        }
    }
    for (key, value) in values {
        metadata.insert(key.clone(), value.clone());
    }
    Ok(())
}

impl Store {
    /// Sets `metadata` keys of spans of a project, span by span: a span that is missing or whose
    /// stored types conflict is reported and left alone, the others are written.
    pub async fn update_span_metadata(&self, project_id: i64, updates: &[MetadataUpdate]) -> Result<MetadataOutcome> {
        let mut outcome = MetadataOutcome::default();
        for chunk in updates.chunks(SPANS_PER_TRANSACTION) {
            let mut tx = self.writer.begin().await?;
            let mut stored = self.span_attributes(&mut tx, project_id, chunk).await?;
            let mut changed_spans: Vec<(i64, Map<String, Value>)> = Vec::with_capacity(chunk.len());
            for update in chunk {
                let Some((rowid, attributes)) = stored.get_mut(&update.span_id) else {
                    outcome.failed.push((update.span_id.clone(), MetadataFailure::NotFound));
                    continue;
                };
                let mut changed = attributes.clone();
                if let Err(failure) = apply(&mut changed, &update.values) {
                    outcome.failed.push((update.span_id.clone(), failure));
                    continue;
                }
                // A span named twice in the chunk sees its earlier update.
                *attributes = changed.clone();
                changed_spans.retain(|(other, _)| other != rowid);
                changed_spans.push((*rowid, changed));
                outcome.updated += 1;
            }
            self.write_attributes(&mut tx, &changed_spans).await?;
            tx.commit().await?;
        }
        Ok(outcome)
    }

    /// span id → (rowid, attributes) of the chunk's spans in the project.
    async fn span_attributes(
        &self,
        tx: &mut Transaction,
        project_id: i64,
        chunk: &[MetadataUpdate],
    ) -> Result<HashMap<String, (i64, Map<String, Value>)>> {
        let placeholders: Vec<String> = (2..chunk.len() + 2).map(|n| self.dialect.placeholder(n)).collect();
        let sql = format!(
            // `+`: the span id index finds the spans; SQLite would otherwise walk the project's.
            "SELECT id, span_id, {} FROM spans WHERE +project_id = {} AND span_id IN ({})",
            self.dialect.attributes_column(),
            self.dialect.placeholder(1),
            placeholders.join(", ")
        );
        let values = std::iter::once(project_id.into()).chain(chunk.iter().map(|u| u.span_id.as_str().into()));
        let mut found = HashMap::with_capacity(chunk.len());
        for row in tx.exec().fetch_all(Statement::new(sql, values)).await? {
            let json = row.attributes_json(2, self.codec.as_deref())?;
            let attributes: Map<String, Value> = serde_json::from_str(&json)?;
            found.insert(row.get::<String>(1)?, (row.get::<i64>(0)?, attributes));
        }
        Ok(found)
    }

    /// Writes new attributes of spans in a few statements (each statement is a round trip to
    /// the database, which would dominate one statement per span).
    async fn write_attributes(&self, tx: &mut Transaction, spans: &[(i64, Map<String, Value>)]) -> Result<()> {
        if spans.is_empty() {
            return Ok(());
        }
        let mut values: Vec<sea_query::Value> = Vec::with_capacity(spans.len() * 2);
        for (rowid, attributes) in spans {
            values.push((*rowid).into());
            values.push(match self.dialect {
                Dialect::Sqlite => {
                    let codec = self.codec.as_ref().ok_or_else(|| StoreError::Corrupt("no attribute codec".into()))?;
                    codec.encode(&serde_json::to_string(attributes)?).into()
                }
                // PostgreSQL's JSONB cannot hold U+0000 (see `prepared`).
                Dialect::Postgres => without_nul(&Value::Object(attributes.clone())).to_string().into(),
            });
        }
        let tuples: Vec<String> = (0..spans.len())
            .map(|row| match self.dialect {
                Dialect::Sqlite => "(?, ?)".to_string(),
                Dialect::Postgres => format!("(CAST(${} AS BIGINT), CAST(${} AS JSONB))", row * 2 + 1, row * 2 + 2),
            })
            .collect();
        let sql = format!(
            "WITH changed (id, attributes) AS (VALUES {}) UPDATE spans SET attributes = changed.attributes FROM changed WHERE spans.id = changed.id",
            tuples.join(", ")
        );
        tx.exec().execute(Statement::new(sql, values)).await?;
        if let Transaction::Sqlite(connection) = tx {
            // The indexed values follow the attributes.
            let sql = format!("DELETE FROM span_attribute_values WHERE span_rowid IN ({})", vec!["?"; spans.len()].join(", "));
            let mut delete = sqlx::query(&sql);
            for (rowid, _) in spans {
                delete = delete.bind(*rowid);
            }
            delete.execute(&mut **connection).await?;
            let rows: Vec<(i64, _)> =
                spans.iter().flat_map(|(rowid, attributes)| values_of(attributes).into_iter().map(move |value| (*rowid, value))).collect();
            attribute_index::insert_for_rowids(connection, &rows).await?;
        }
        Ok(())
    }

    /// Deletes the project's spans with these ids (missing ones are ignored), as
    /// [`Store::delete_span`] does one by one; returns the ids deleted.
    pub async fn delete_spans_by_id(&self, project_id: i64, span_ids: &[String]) -> Result<Vec<String>> {
        let mut deleted = Vec::new();
        for span_id in span_ids {
            let row = self
                .reader
                .exec()
                .fetch_optional(Statement::new(
                    format!(
                        "SELECT id FROM spans WHERE span_id = {} AND +project_id = {}",
                        self.dialect.placeholder(1),
                        self.dialect.placeholder(2)
                    ),
                    [span_id.as_str().into(), project_id.into()],
                ))
                .await?;
            if let Some(row) = row {
                if self.delete_span(row.get(0)?).await? {
                    deleted.push(span_id.clone());
                }
            }
        }
        Ok(deleted)
    }
}

/// `value` with U+0000, which PostgreSQL's JSONB cannot hold, replaced by U+FFFD (see `prepared`).
fn without_nul(value: &Value) -> Value {
    match value {
        Value::String(text) if text.contains('\0') => Value::String(text.replace('\0', "\u{FFFD}")),
        Value::Array(items) => Value::Array(items.iter().map(without_nul).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(key, value)| (key.replace('\0', "\u{FFFD}"), without_nul(value))).collect()),
        other => other.clone(),
    }
}
