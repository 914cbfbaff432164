//! SQLite's `span_attribute_values`: the indexed attribute values of each span (which ones:
//! `ember_query::attribute_index`), written with the span and backfilled for spans stored before
//! the table existed.

use ember_query::attribute_index::indexed_values;
use sqlx::{Row as _, SqliteConnection, SqlitePool};

use crate::engine::dialect::Dialect;
use crate::error::Result;
use crate::sqlite::codec::Codec;

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// Rows per insert statement: 3 parameters each, well under SQLite's 32,766.
const ROWS_PER_INSERT: usize = 2000;

/// Spans per backfill transaction.
const BACKFILL_CHUNK: i64 = 5000;

/// An indexed value of a span being written, before its rowid is known.
#[derive(Debug, Clone)]
pub(crate) struct IndexedValue {
    pub path: String,
    pub value: String,
}

/// The indexed values of a span's attributes.
pub(crate) fn values_of(attributes: &JsonMap) -> Vec<IndexedValue> {
    indexed_values(attributes).into_iter().map(|(path, value)| IndexedValue { path, value: value.to_string() }).collect()
}

/// Inserts the values of spans just inserted, finding each span's rowid by its span id.
pub(crate) async fn insert_for_span_ids(connection: &mut SqliteConnection, rows: &[(&str, &IndexedValue)]) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT OR IGNORE INTO span_attribute_values (path, value, span_rowid) \
             SELECT column1, column2, (SELECT id FROM spans WHERE span_id = column3) FROM (VALUES {})",
            vec!["(?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut insert = sqlx::query(&sql);
        for (span_id, indexed) in chunk {
            insert = insert.bind(indexed.path.as_str()).bind(indexed.value.as_str()).bind(*span_id);
        }
        insert.execute(&mut *connection).await?;
    }
    Ok(())
}

/// Inserts the values of spans whose rowids are known.
pub(crate) async fn insert_for_rowids(connection: &mut SqliteConnection, rows: &[(i64, IndexedValue)]) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT OR IGNORE INTO span_attribute_values (path, value, span_rowid) VALUES {}",
            vec!["(?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut insert = sqlx::query(&sql);
        for (rowid, indexed) in chunk {
            insert = insert.bind(indexed.path.as_str()).bind(indexed.value.as_str()).bind(*rowid);
        }
        insert.execute(&mut *connection).await?;
    }
    Ok(())
}

/// Indexes the spans stored before `span_attribute_values` existed, a chunk per transaction,
/// remembering progress so an interrupted backfill resumes where it stopped.
pub(crate) async fn backfill(writer: &SqlitePool, codec: &Codec) -> Result<()> {
    loop {
        let mut tx = writer.begin().await?;
        let Some(next) = sqlx::query("SELECT next_rowid FROM pending_backfills WHERE name = 'span_attribute_values'")
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.get::<i64, _>(0))
        else {
            return Ok(());
        };
        let spans =
            sqlx::query(&format!("SELECT id, {} FROM spans WHERE id >= ? ORDER BY id LIMIT ?", Dialect::Sqlite.span_attributes_column()))
                .bind(next)
                .bind(BACKFILL_CHUNK)
                .fetch_all(&mut *tx)
                .await?;
        let Some(last) = spans.last().map(|row| row.get::<i64, _>(0)) else {
            sqlx::query("DELETE FROM pending_backfills WHERE name = 'span_attribute_values'").execute(&mut *tx).await?;
            tx.commit().await?;
            tracing::info!("attribute index backfilled");
            return Ok(());
        };
        let mut rows = Vec::new();
        for span in &spans {
            let rowid: i64 = span.get(0);
            // A span whose attributes cannot be read is left out rather than blocking startup.
            let attributes = codec.decode(span.get::<&[u8], _>(1)).ok().and_then(|json| serde_json::from_str::<JsonMap>(&json).ok());
            match attributes {
                Some(attributes) => rows.extend(values_of(&attributes).into_iter().map(|value| (rowid, value))),
                None => tracing::warn!(rowid, "span attributes unreadable; not indexed"),
            }
        }
        insert_for_rowids(&mut tx, &rows).await?;
        sqlx::query("UPDATE pending_backfills SET next_rowid = ? WHERE name = 'span_attribute_values'")
            .bind(last + 1)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
}
