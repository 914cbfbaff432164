//! Writing examples: a dataset upload creates a dataset or appends to one, in a new version.

use std::collections::{BTreeSet, HashMap};

use ember_core::time::now_nanos;
use serde_json::Value;

use super::json_param;
use crate::backend::{Statement, Transaction};
use crate::error::{Result, StoreError};
use crate::Store;

/// Rows per multi-row statement (7 values a row, well under SQLite's variable limit).
const ROWS_PER_STATEMENT: usize = 1000;
/// The color Phoenix gives a split created by an upload.
const SPLIT_COLOR: &str = "#33c5e8";

/// What an upload does with the named dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadAction {
    /// A new dataset; the name must be free.
    Create,
    /// New examples in a new version of the dataset, which is created if missing.
    Append,
}

/// One example of an upload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExampleInput {
    pub input: Value,
    pub output: Value,
    pub metadata: Value,
    /// Names of the splits the example belongs to (created when missing).
    pub splits: Vec<String>,
    /// The OpenTelemetry id of the span the example was made from (ignored when not stored).
    pub span_id: Option<String>,
    /// The caller's stable id, unique within the dataset.
    pub external_id: Option<String>,
}

/// What an upload wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadOutcome {
    pub dataset_id: i64,
    pub version_id: i64,
    pub created: usize,
}

impl Store {
    /// Writes `examples` as a new version of the dataset `name`, in one transaction: `Conflict`
    /// when creating a dataset whose name is taken or reusing an external id, `Invalid` when the
    /// upload repeats an external id.
    pub async fn upload_examples(
        &self,
        action: UploadAction,
        name: &str,
        description: Option<&str>,
        metadata: &Value,
        examples: &[ExampleInput],
    ) -> Result<UploadOutcome> {
        let mut seen = BTreeSet::new();
        if let Some(repeated) = examples.iter().filter_map(|e| e.external_id.as_deref()).find(|id| !seen.insert(*id)) {
            return Err(StoreError::Invalid(format!("example id {repeated:?} appears twice")));
        }
        let now = now_nanos();
        let mut tx = self.writer.begin().await?;
        let existing = tx.exec().fetch_optional(Statement::new("SELECT id FROM datasets WHERE name = $1", [name.into()])).await?;
        let dataset_id: i64 = match (action, existing) {
            (UploadAction::Create, Some(_)) => return Err(StoreError::Conflict(format!("a dataset named {name:?} already exists"))),
            (UploadAction::Append, Some(row)) => row.get(0)?,
            (_, None) => {
                let sql = format!(
                    "INSERT INTO datasets (name, description, metadata, created_at, updated_at) VALUES ($1, $2, {}, $4, $4) RETURNING id",
                    json_param(self.dialect, "$3".into())
                );
                let values = [name.into(), description.map(str::to_string).into(), metadata.to_string().into(), now.into()];
                tx.exec().fetch_one(Statement::new(sql, values)).await?.get(0)?
            }
        };
        self.refuse_taken_external_ids(&mut tx, dataset_id, examples).await?;
        let version_id: i64 = tx
            .exec()
            .fetch_one(Statement::new(
                "INSERT INTO dataset_versions (dataset_id, created_at) VALUES ($1, $2) RETURNING id",
                [dataset_id.into(), now.into()],
            ))
            .await?
            .get(0)?;
        let span_rowids = self.span_rowids(&mut tx, examples).await?;
        let mut memberships: Vec<(&str, i64)> = Vec::new();
        for chunk in examples.chunks(ROWS_PER_STATEMENT) {
            let ids = self.insert_examples(&mut tx, dataset_id, now, chunk, &span_rowids).await?;
            self.insert_revisions(&mut tx, version_id, now, chunk, &ids).await?;
            for (example, id) in chunk.iter().zip(&ids) {
                memberships.extend(example.splits.iter().map(|split| (split.as_str(), *id)));
            }
        }
        self.insert_memberships(&mut tx, now, &memberships).await?;
        tx.exec()
            .execute(Statement::new(
                "UPDATE datasets SET example_count = example_count + $1, updated_at = $2 WHERE id = $3",
                [(examples.len() as i64).into(), now.into(), dataset_id.into()],
            ))
            .await?;
        tx.commit().await?;
        Ok(UploadOutcome { dataset_id, version_id, created: examples.len() })
    }

    async fn refuse_taken_external_ids(&self, tx: &mut Transaction, dataset_id: i64, examples: &[ExampleInput]) -> Result<()> {
        let external: Vec<&str> = examples.iter().filter_map(|e| e.external_id.as_deref()).collect();
        for chunk in external.chunks(ROWS_PER_STATEMENT) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|n| self.dialect.placeholder(n)).collect();
            let sql = format!(
                "SELECT external_id FROM dataset_examples WHERE dataset_id = {} AND external_id IN ({}) LIMIT 1",
                self.dialect.placeholder(1),
                placeholders.join(", ")
            );
            let values = std::iter::once(dataset_id.into()).chain(chunk.iter().map(|id| (*id).into()));
            if let Some(row) = tx.exec().fetch_optional(Statement::new(sql, values)).await? {
                return Err(StoreError::Conflict(format!("the dataset already has an example with id {:?}", row.get::<String>(0)?)));
            }
        }
        Ok(())
    }

    /// Rowids of the stored spans the examples name.
    async fn span_rowids(&self, tx: &mut Transaction, examples: &[ExampleInput]) -> Result<HashMap<String, i64>> {
        let span_ids: BTreeSet<&str> = examples.iter().filter_map(|e| e.span_id.as_deref()).collect();
        let span_ids: Vec<&str> = span_ids.into_iter().collect();
        let mut found = HashMap::new();
        for chunk in span_ids.chunks(ROWS_PER_STATEMENT) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| self.dialect.placeholder(n)).collect();
            let sql = format!("SELECT id, span_id FROM spans WHERE span_id IN ({})", placeholders.join(", "));
            for row in tx.exec().fetch_all(Statement::new(sql, chunk.iter().map(|id| (*id).into()))).await? {
                found.insert(row.get::<String>(1)?, row.get::<i64>(0)?);
            }
        }
        Ok(found)
    }

    /// Inserts examples and returns their ids in the chunk's order.
    async fn insert_examples(
        &self,
        tx: &mut Transaction,
        dataset_id: i64,
        now: i64,
        chunk: &[ExampleInput],
        span_rowids: &HashMap<String, i64>,
    ) -> Result<Vec<i64>> {
        let mut values: Vec<sea_query::Value> = Vec::with_capacity(chunk.len() * 4);
        let mut tuples = Vec::with_capacity(chunk.len());
        for (row, example) in chunk.iter().enumerate() {
            let n = row * 4;
            tuples.push(format!(
                "({}, {}, {}, {})",
                self.dialect.placeholder(n + 1),
                self.dialect.placeholder(n + 2),
                self.dialect.placeholder(n + 3),
                self.dialect.placeholder(n + 4)
            ));
            values.push(dataset_id.into());
            values.push(example.span_id.as_ref().and_then(|id| span_rowids.get(id).copied()).into());
            values.push(example.external_id.clone().into());
            values.push(now.into());
        }
        let sql = format!(
            "INSERT INTO dataset_examples (dataset_id, span_rowid, external_id, created_at) VALUES {} RETURNING id",
            tuples.join(", ")
        );
        let mut ids: Vec<i64> =
            tx.exec().fetch_all(Statement::new(sql, values)).await?.iter().map(|row| row.get(0)).collect::<Result<_>>()?;
        // Both databases number the rows of one insert in order; RETURNING need not list them so.
        ids.sort_unstable();
        Ok(ids)
    }

    async fn insert_revisions(&self, tx: &mut Transaction, version_id: i64, now: i64, chunk: &[ExampleInput], ids: &[i64]) -> Result<()> {
        let mut values: Vec<sea_query::Value> = Vec::with_capacity(chunk.len() * 6);
        let mut tuples = Vec::with_capacity(chunk.len());
        for (row, (example, id)) in chunk.iter().zip(ids).enumerate() {
            let n = row * 6;
            let p = |k: usize| self.dialect.placeholder(n + k);
            tuples.push(format!(
                "({}, {}, {}, {}, {}, 'CREATE', {})",
                p(1),
                p(2),
                json_param(self.dialect, p(3)),
                json_param(self.dialect, p(4)),
                json_param(self.dialect, p(5)),
                p(6)
            ));
            values.push((*id).into());
            values.push(version_id.into());
            values.push(example.input.to_string().into());
            values.push(example.output.to_string().into());
            values.push(example.metadata.to_string().into());
            values.push(now.into());
        }
        let sql = format!(
            "INSERT INTO dataset_example_revisions (dataset_example_id, dataset_version_id, input, output, metadata, revision_kind, created_at) VALUES {}",
            tuples.join(", ")
        );
        tx.exec().execute(Statement::new(sql, values)).await?;
        Ok(())
    }

    /// Puts examples into splits by name, creating the splits that do not exist yet.
    async fn insert_memberships(&self, tx: &mut Transaction, now: i64, memberships: &[(&str, i64)]) -> Result<()> {
        let names: BTreeSet<&str> = memberships.iter().map(|(name, _)| *name).collect();
        if names.is_empty() {
            return Ok(());
        }
        let mut split_ids: HashMap<String, i64> = HashMap::new();
        let names: Vec<&str> = names.into_iter().collect();
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            let tuples: Vec<String> = (0..chunk.len())
                .map(|row| {
                    format!(
                        "({}, '{SPLIT_COLOR}', {}, {})",
                        self.dialect.placeholder(row * 3 + 1),
                        self.dialect.placeholder(row * 3 + 2),
                        self.dialect.placeholder(row * 3 + 3)
                    )
                })
                .collect();
            let values = chunk.iter().flat_map(|name| [sea_query::Value::from(*name), now.into(), now.into()]);
            let sql = format!(
                "INSERT INTO dataset_splits (name, color, created_at, updated_at) VALUES {} ON CONFLICT (name) DO NOTHING",
                tuples.join(", ")
            );
            tx.exec().execute(Statement::new(sql, values)).await?;
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| self.dialect.placeholder(n)).collect();
            let sql = format!("SELECT id, name FROM dataset_splits WHERE name IN ({})", placeholders.join(", "));
            for row in tx.exec().fetch_all(Statement::new(sql, chunk.iter().map(|name| (*name).into()))).await? {
                split_ids.insert(row.get(1)?, row.get(0)?);
            }
        }
        for chunk in memberships.chunks(ROWS_PER_STATEMENT) {
            let tuples: Vec<String> = (0..chunk.len())
                .map(|row| format!("({}, {})", self.dialect.placeholder(row * 2 + 1), self.dialect.placeholder(row * 2 + 2)))
                .collect();
            let mut values: Vec<sea_query::Value> = Vec::with_capacity(chunk.len() * 2);
            for (name, example_id) in chunk {
                let split_id = split_ids.get(*name).copied().ok_or_else(|| StoreError::Corrupt(format!("split {name:?} vanished")))?;
                values.push(split_id.into());
                values.push((*example_id).into());
            }
            let sql = format!(
                "INSERT INTO dataset_splits_dataset_examples (dataset_split_id, dataset_example_id) VALUES {} ON CONFLICT DO NOTHING",
                tuples.join(", ")
            );
            tx.exec().execute(Statement::new(sql, values)).await?;
        }
        Ok(())
    }
}
