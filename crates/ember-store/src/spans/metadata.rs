//! Changing stored spans in bulk (the Arize AX span APIs): setting `metadata` keys, deleting
//! spans by id.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use sqlx::SqliteConnection;

use ember_query::schema::functions;

use crate::engine::backend::{decode_json_page, json_page, Statement, Transaction};
use crate::engine::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::sqlite::attribute_index::{self, values_of};
use crate::sqlite::metadata_patch;
use crate::Store;

/// Spans per read of stored metadata (and, on PostgreSQL, per statement of the one transaction).
/// On SQLite reads run ahead of the writes (see `update_span_metadata`).
const SPANS_PER_READ: usize = 2_000;

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

/// What an update needs of a stored span.
struct StoredSpan {
    rowid: i64,
    /// On SQLite only the `metadata` entry, patch applied (the rest is never rewritten); on
    /// PostgreSQL the whole attributes object.
    attributes: Map<String, Value>,
    /// SQLite: the span's metadata patch, to be written back.
    patch: Map<String, Value>,
}

/// The rowid and stored `metadata` entry (`None` when absent) of a chunk's spans, by span id,
/// read outside the write transaction: on SQLite stored attributes never change.
type StoredMetadata = HashMap<String, (i64, Option<Value>)>;

/// Applies a chunk's updates to its stored spans, recording failures; returns the spans to write.
fn apply_chunk<'a>(
    chunk: &'a [MetadataUpdate],
    stored: &'a mut HashMap<String, StoredSpan>,
    outcome: &mut MetadataOutcome,
) -> Vec<&'a StoredSpan> {
    let mut changed: Vec<&str> = Vec::with_capacity(chunk.len());
    let mut seen: HashSet<&str> = HashSet::with_capacity(chunk.len());
    for update in chunk {
        let Some(span) = stored.get_mut(&update.span_id) else {
            outcome.failed.push((update.span_id.clone(), MetadataFailure::NotFound));
            continue;
        };
        if let Err(failure) = apply(&mut span.attributes, &update.values) {
            outcome.failed.push((update.span_id.clone(), failure));
            continue;
        }
        for (key, value) in &update.values {
            span.patch.insert(key.clone(), value.clone());
        }
        // A span named twice in the chunk is written once, with both updates.
        if seen.insert(&update.span_id) {
            changed.push(&update.span_id);
        }
        outcome.updated += 1;
    }
    changed.iter().filter_map(|span_id| stored.get(*span_id)).collect()
}

impl Store {
    /// Sets `metadata` keys of spans of a project, span by span: a span that is missing or whose
    /// stored types conflict is reported and left alone, the others are written — all in one
    /// transaction, so a request is applied whole or (on a crash or error) not at all.
    ///
    /// On SQLite the new keys go to the span's metadata patch (see `metadata_patch`) and the
    /// stored attributes stay as they are; PostgreSQL rewrites the attributes.
    pub async fn update_span_metadata(&self, project_id: i64, updates: &[MetadataUpdate]) -> Result<MetadataOutcome> {
        let mut outcome = MetadataOutcome::default();
        if updates.is_empty() {
            return Ok(outcome);
        }
        let mut tx = self.writer.begin().await?;
        if self.dialect == Dialect::Postgres {
            for chunk in updates.chunks(SPANS_PER_READ) {
                let mut stored = self.stored_attributes(&mut tx, project_id, chunk).await?;
                let changed = apply_chunk(chunk, &mut stored, &mut outcome);
                self.write_attributes(&mut tx, &changed).await?;
            }
            tx.commit().await?;
            return Ok(outcome);
        }
        // The next chunk's stored metadata is read and decompressed on a reader connection while
        // this chunk is written: the two halves of the work run on both cores. The patches, which
        // do change, are read inside the write transaction.
        let Transaction::Sqlite(connection) = &mut tx else { return Err(StoreError::Invalid("not an SQLite store".into())) };
        let chunks: Vec<&[MetadataUpdate]> = updates.chunks(SPANS_PER_READ).collect();
        let mut next_read = chunks.first().map(|chunk| self.spawn_metadata_read(project_id, chunk));
        for (index, chunk) in chunks.iter().enumerate() {
            let Some(read) = next_read.take() else { break };
            let metadata = read.await.map_err(|_| sqlx::Error::WorkerCrashed)??;
            next_read = chunks.get(index + 1).map(|chunk| self.spawn_metadata_read(project_id, chunk));
            let mut stored = with_patches(connection, metadata).await?;
            let changed = apply_chunk(chunk, &mut stored, &mut outcome);
            write_patches(connection, &changed).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// SQLite: reads a chunk's stored metadata in a task of its own.
    fn spawn_metadata_read(&self, project_id: i64, chunk: &[MetadataUpdate]) -> tokio::task::JoinHandle<Result<StoredMetadata>> {
        let store = self.clone();
        let span_ids: Vec<String> = chunk.iter().map(|update| update.span_id.clone()).collect();
        tokio::spawn(async move { store.stored_metadata(project_id, &span_ids).await })
    }

    async fn stored_metadata(&self, project_id: i64, span_ids: &[String]) -> Result<StoredMetadata> {
        // One row holding every span as JSON (see `json_page`). `ember_metadata` gives the stored
        // metadata entry as `[]` (none) or `[value]`.
        let sql = format!(
            "SELECT id, span_id, {}(attributes) AS metadata FROM spans WHERE +project_id = ? AND span_id IN ({})",
            functions::METADATA,
            Dialect::Sqlite.placeholders(2, span_ids.len())
        );
        let values = std::iter::once(project_id.into()).chain(span_ids.iter().map(|id| id.as_str().into()));
        let rows = self.reader.exec().fetch_all(json_page(Statement::new(sql, values), "id, span_id, json(metadata)", None)).await?;
        let spans: Vec<(i64, String, Vec<Value>)> = decode_json_page(&rows)?;
        Ok(spans.into_iter().map(|(rowid, span_id, mut entry)| (span_id, (rowid, entry.pop()))).collect())
    }

    /// PostgreSQL: span id → the chunk's spans in the project with their whole attributes.
    async fn stored_attributes(
        &self,
        tx: &mut Transaction,
        project_id: i64,
        chunk: &[MetadataUpdate],
    ) -> Result<HashMap<String, StoredSpan>> {
        let sql = format!(
            "SELECT id, span_id, {} FROM spans WHERE project_id = $1 AND span_id IN ({})",
            self.dialect.span_attributes_column(),
            self.dialect.placeholders(2, chunk.len())
        );
        let values = std::iter::once(project_id.into()).chain(chunk.iter().map(|u| u.span_id.as_str().into()));
        let mut found = HashMap::with_capacity(chunk.len());
        for row in tx.exec().fetch_all(Statement::new(sql, values)).await? {
            let attributes = serde_json::from_str(&row.attributes_json(2, self.codec.as_deref())?)?;
            found.insert(row.get::<String, _>(1)?, StoredSpan { rowid: row.get(0)?, attributes, patch: Map::new() });
        }
        Ok(found)
    }

    /// PostgreSQL: writes new attributes of spans in one statement (each statement is a round
    /// trip to the database, which would dominate one statement per span).
    async fn write_attributes(&self, tx: &mut Transaction, spans: &[&StoredSpan]) -> Result<()> {
        if spans.is_empty() {
            return Ok(());
        }
        let mut values: Vec<sea_query::Value> = Vec::with_capacity(spans.len() * 2);
        let mut tuples = Vec::with_capacity(spans.len());
        for (row, span) in spans.iter().enumerate() {
            values.push(span.rowid.into());
            // U+0000, which JSONB cannot hold, is replaced where values are bound (`backend`).
            values.push(Value::Object(span.attributes.clone()).to_string().into());
            tuples.push(format!("(CAST(${} AS BIGINT), CAST(${} AS JSONB))", row * 2 + 1, row * 2 + 2));
        }
        let sql = format!(
            "WITH changed (id, attributes) AS (VALUES {}) UPDATE spans SET attributes = changed.attributes FROM changed WHERE spans.id = changed.id",
            tuples.join(", ")
        );
        tx.exec().execute(Statement::new(sql, values)).await?;
        Ok(())
    }

    /// Deletes the project's spans with these ids (missing ones are ignored), as
    /// [`Store::delete_spans`] does: in one transaction; returns the ids deleted.
    pub async fn delete_spans_by_id(&self, project_id: i64, span_ids: &[String]) -> Result<Vec<String>> {
        let mut found: Vec<(i64, String)> = Vec::new();
        for chunk in span_ids.chunks(crate::write::batch::IN_CHUNK) {
            let sql = format!(
                "SELECT id, span_id FROM spans WHERE span_id IN ({}) AND +project_id = {}",
                self.dialect.placeholders(1, chunk.len()),
                self.dialect.placeholder(chunk.len() + 1)
            );
            let mut values: Vec<sea_query::Value> = chunk.iter().map(|id| id.as_str().into()).collect();
            values.push(project_id.into());
            for row in self.reader.exec().fetch_all(Statement::new(sql, values)).await? {
                found.push((row.get(0)?, row.get(1)?));
            }
        }
        let rowids: Vec<i64> = found.iter().map(|(rowid, _)| *rowid).collect();
        self.delete_spans(&rowids).await?;
        Ok(found.into_iter().map(|(_, span_id)| span_id).collect())
    }
}

/// (rowid, span id, metadata patch) of a span, as `with_patches` reads it.
type PatchRow = (i64, String, Option<Map<String, Value>>);

/// SQLite: the spans of `metadata` with their current patches applied, read in the write
/// transaction. A span deleted since its metadata was read is left out (and one stored again
/// under the same id since has another rowid, hence the rowid check).
async fn with_patches(connection: &mut SqliteConnection, metadata: StoredMetadata) -> Result<HashMap<String, StoredSpan>> {
    if metadata.is_empty() {
        return Ok(HashMap::new());
    }
    // One row for all (see `json_page`). By span id: the span id index holds the rowid too, so no
    // span row is read.
    let inner = format!(
        "SELECT spans.id AS id, spans.span_id AS span_id, patches.patch AS patch FROM spans \
         LEFT JOIN span_metadata_patches AS patches ON patches.span_rowid = spans.id WHERE spans.span_id IN ({})",
        Dialect::Sqlite.placeholders(1, metadata.len())
    );
    let sql = json_page(Statement::new(inner, []), "id, span_id, json(patch)", None).sql;
    let mut select = sqlx::query_scalar::<_, String>(&sql);
    for span_id in metadata.keys() {
        select = select.bind(span_id.as_str());
    }
    let rows: Vec<PatchRow> = serde_json::from_str(&select.fetch_one(&mut *connection).await?)?;
    let mut metadata = metadata;
    let mut found = HashMap::with_capacity(rows.len());
    for (rowid, span_id, patch) in rows {
        let Some((read_rowid, stored)) = metadata.remove(&span_id) else { continue };
        if read_rowid != rowid {
            continue;
        }
        let mut attributes = Map::new();
        if let Some(stored) = stored {
            attributes.insert("metadata".to_string(), stored);
        }
        let patch = patch.unwrap_or_default();
        metadata_patch::apply(&mut attributes, &patch);
        found.insert(span_id, StoredSpan { rowid, attributes, patch });
    }
    Ok(found)
}

/// SQLite: writes the spans' metadata patches, and keeps the attribute index's `metadata`
/// entries in step with the merged metadata.
async fn write_patches(connection: &mut SqliteConnection, spans: &[&StoredSpan]) -> Result<()> {
    if spans.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO span_metadata_patches (span_rowid, patch) VALUES {} ON CONFLICT (span_rowid) DO UPDATE SET patch = excluded.patch",
        vec!["(?, ?)"; spans.len()].join(", ")
    );
    let mut upsert = sqlx::query(&sql);
    for span in spans {
        upsert = upsert.bind(span.rowid).bind(serde_json::to_string(&span.patch)?);
    }
    upsert.execute(&mut *connection).await?;
    // Every indexed metadata path starts with `$."metadata".` (see ember_query::attribute_index).
    let sql = format!(
        "DELETE FROM span_attribute_values WHERE span_rowid IN ({}) AND path >= '$.\"metadata\".' AND path < '$.\"metadata\"/'",
        Dialect::Sqlite.placeholders(1, spans.len())
    );
    let mut delete = sqlx::query(&sql);
    for span in spans {
        delete = delete.bind(span.rowid);
    }
    delete.execute(&mut *connection).await?;
    let rows: Vec<(i64, _)> =
        spans.iter().flat_map(|span| values_of(&span.attributes).into_iter().map(move |value| (span.rowid, value))).collect();
    attribute_index::insert_for_rowids(connection, &rows).await
}
