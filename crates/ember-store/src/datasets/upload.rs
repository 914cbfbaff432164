//! Writing examples: a dataset upload creates a dataset or appends to one, in a new version.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;

use ember_core::time::now_nanos;
use serde_json::Value;

use crate::engine::backend::{Statement, Transaction};
use crate::error::{Result, StoreError};
use crate::Store;

/// Rows per multi-row statement (7 values a row, well under SQLite's variable limit).
const ROWS_PER_STATEMENT: usize = 1000;
/// The color Phoenix gives a split created by an upload.
const SPLIT_COLOR: &str = "#33c5e8";

/// What an upload does with the named dataset. In every case the upload is one new version, and
/// a dataset that does not exist is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadAction {
    /// A new dataset; the name must be free.
    Create,
    /// Examples whose external id the dataset has are updated, the others are added.
    Append,
    /// As `Append`, and when the upload names external ids the new version mirrors it: examples
    /// it does not name are deleted (Phoenix's declarative `update`).
    Update,
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
    /// Examples whose content changed (unchanged ones are carried forward without a revision).
    pub updated: usize,
    pub deleted: usize,
}

/// Where a batch's rows go.
struct VersionTarget {
    dataset_id: i64,
    version_id: i64,
    now: i64,
    /// The dataset existed before the upload, so the batch may name stored examples.
    existed: bool,
}

/// An example of the dataset as its latest revision has it.
struct StoredExample {
    id: i64,
    external_id: Option<String>,
    alive: bool,
    content: (Value, Value, Value),
}

/// Examples arriving a batch at a time (an upload parsed as it is read), so an upload of any size
/// is written without holding it in memory.
pub trait ExampleBatches: Send {
    /// The next batch, or `None` after the last. An error aborts the upload: nothing is written.
    fn next_batch(&mut self) -> impl Future<Output = Result<Option<Vec<ExampleInput>>>> + Send;
}

/// All of an upload's examples in one batch.
struct OneBatch(Option<Vec<ExampleInput>>);

impl ExampleBatches for OneBatch {
    async fn next_batch(&mut self) -> Result<Option<Vec<ExampleInput>>> {
        Ok(self.0.take())
    }
}

/// What a version's revisions of one batch are.
#[derive(Default)]
struct BatchTally {
    created: usize,
    updated: usize,
}

impl Store {
    /// Writes `examples` as a new version of the dataset `name`; see [`Store::upload_example_batches`].
    pub async fn upload_examples(
        &self,
        action: UploadAction,
        name: &str,
        description: Option<&str>,
        metadata: &Value,
        examples: Vec<ExampleInput>,
    ) -> Result<UploadOutcome> {
        self.upload_example_batches(action, name, description, metadata, &mut OneBatch(Some(examples))).await
    }

    /// Writes the examples of `batches` as a new version of the dataset `name`, in one
    /// transaction (see [`UploadAction`]): `Conflict` when creating a dataset whose name is
    /// taken, `Invalid` when the upload repeats an external id. Only the external ids seen so far
    /// are kept across batches.
    pub async fn upload_example_batches(
        &self,
        action: UploadAction,
        name: &str,
        description: Option<&str>,
        metadata: &Value,
        batches: &mut impl ExampleBatches,
    ) -> Result<UploadOutcome> {
        let now = now_nanos();
        let mut tx = self.writer.begin().await?;
        let existing = tx.exec().fetch_optional(Statement::new("SELECT id FROM datasets WHERE name = $1", [name.into()])).await?;
        let (dataset_id, existed): (i64, bool) = match (action, existing) {
            (UploadAction::Create, Some(_)) => return Err(StoreError::Conflict(format!("a dataset named {name:?} already exists"))),
            (_, Some(row)) => (row.get(0)?, true),
            (_, None) => {
                let sql = format!(
                    "INSERT INTO datasets (name, description, metadata, created_at, updated_at) VALUES ($1, $2, {}, $4, $4) RETURNING id",
                    self.dialect.json_param("$3")
                );
                let values = [name.into(), description.map(str::to_string).into(), metadata.to_string().into(), now.into()];
                (tx.exec().fetch_one(Statement::new(sql, values)).await?.get(0)?, false)
            }
        };
        let version_id: i64 = tx
            .exec()
            .fetch_one(Statement::new(
                "INSERT INTO dataset_versions (dataset_id, created_at) VALUES ($1, $2) RETURNING id",
                [dataset_id.into(), now.into()],
            ))
            .await?
            .get(0)?;
        let mut seen: HashSet<String> = HashSet::new();
        let mut tally = BatchTally::default();
        while let Some(batch) = batches.next_batch().await? {
            for external_id in batch.iter().filter_map(|example| example.external_id.as_deref()) {
                if !seen.insert(external_id.to_string()) {
                    return Err(StoreError::Invalid(format!("example id {external_id:?} appears twice")));
                }
            }
            let target = VersionTarget { dataset_id, version_id, now, existed };
            self.write_batch(&mut tx, &target, &batch, &mut tally).await?;
        }
        // Phoenix's declarative update: the examples an id-naming upload leaves out are deleted.
        let mut deleted = 0;
        if action == UploadAction::Update && existed && !seen.is_empty() {
            let gone: Vec<(i64, Option<&ExampleInput>, &'static str)> = self
                .alive_examples_outside(&mut tx, dataset_id, version_id)
                .await?
                .into_iter()
                .filter(|(_, external_id)| !external_id.as_deref().is_some_and(|id| seen.contains(id)))
                .map(|(id, _)| (id, None, "DELETE"))
                .collect();
            deleted = gone.len();
            for chunk in gone.chunks(ROWS_PER_STATEMENT) {
                self.insert_revisions(&mut tx, version_id, now, chunk).await?;
            }
        }
        let BatchTally { created, updated } = tally;
        tx.exec()
            .execute(Statement::new(
                "UPDATE datasets SET example_count = example_count + $1, updated_at = $2 WHERE id = $3",
                [(created as i64 - deleted as i64).into(), now.into(), dataset_id.into()],
            ))
            .await?;
        tx.commit().await?;
        Ok(UploadOutcome { dataset_id, version_id, created, updated, deleted })
    }

    /// Writes one batch into the version: new examples, and revisions of the stored examples
    /// the batch names by external id (only those whose content changed, or were deleted).
    async fn write_batch(
        &self,
        tx: &mut Transaction,
        target: &VersionTarget,
        batch: &[ExampleInput],
        tally: &mut BatchTally,
    ) -> Result<()> {
        let named: Vec<&str> = batch.iter().filter_map(|example| example.external_id.as_deref()).collect();
        let stored =
            if target.existed && !named.is_empty() { self.stored_examples(tx, target.dataset_id, &named).await? } else { Vec::new() };
        let by_external_id: HashMap<&str, &StoredExample> =
            stored.iter().filter_map(|example| example.external_id.as_deref().map(|id| (id, example))).collect();

        let mut new_examples: Vec<&ExampleInput> = Vec::new();
        let mut revisions: Vec<(i64, Option<&ExampleInput>, &'static str)> = Vec::new();
        let mut memberships: Vec<(&str, i64)> = Vec::new();
        for example in batch {
            match example.external_id.as_deref().and_then(|id| by_external_id.get(id)) {
                None => new_examples.push(example),
                Some(stored) => {
                    let content = (example.input.clone(), example.output.clone(), example.metadata.clone());
                    if !stored.alive {
                        revisions.push((stored.id, Some(example), "CREATE"));
                        tally.created += 1;
                    } else if stored.content != content {
                        revisions.push((stored.id, Some(example), "PATCH"));
                        tally.updated += 1;
                    }
                    memberships.extend(example.splits.iter().map(|split| (split.as_str(), stored.id)));
                }
            }
        }
        let span_rowids = self.span_rowids(tx, batch).await?;
        for chunk in new_examples.chunks(ROWS_PER_STATEMENT) {
            let ids = self.insert_examples(tx, target.dataset_id, target.now, chunk, &span_rowids).await?;
            let rows: Vec<(i64, Option<&ExampleInput>, &'static str)> =
                chunk.iter().zip(&ids).map(|(example, id)| (*id, Some(*example), "CREATE")).collect();
            self.insert_revisions(tx, target.version_id, target.now, &rows).await?;
            for (example, id) in chunk.iter().zip(&ids) {
                memberships.extend(example.splits.iter().map(|split| (split.as_str(), *id)));
            }
        }
        tally.created += new_examples.len();
        for chunk in revisions.chunks(ROWS_PER_STATEMENT) {
            self.insert_revisions(tx, target.version_id, target.now, chunk).await?;
        }
        self.insert_memberships(tx, target.now, &memberships).await
    }

    /// The dataset's examples with these external ids, at their latest revision.
    async fn stored_examples(&self, tx: &mut Transaction, dataset_id: i64, external_ids: &[&str]) -> Result<Vec<StoredExample>> {
        let d = self.dialect;
        let mut stored = Vec::new();
        for chunk in external_ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT e.id, e.external_id, r.revision_kind, {}, {}, {} FROM dataset_examples AS e \
                 JOIN dataset_example_revisions AS r ON r.id = (SELECT r2.id FROM dataset_example_revisions AS r2 \
                 WHERE r2.dataset_example_id = e.id ORDER BY r2.dataset_version_id DESC LIMIT 1) \
                 WHERE e.dataset_id = {} AND e.external_id IN ({})",
                d.json_text("r.input"),
                d.json_text("r.output"),
                d.json_text("r.metadata"),
                d.placeholder(1),
                d.placeholders(2, chunk.len())
            );
            let values = std::iter::once(sea_query::Value::from(dataset_id)).chain(chunk.iter().map(|id| (*id).into()));
            for row in tx.exec().fetch_all(Statement::new(sql, values)).await? {
                stored.push(StoredExample {
                    id: row.get(0)?,
                    external_id: row.get(1)?,
                    alive: row.get::<String, _>(2)? != "DELETE",
                    content: (
                        serde_json::from_str(&row.get::<String, _>(3)?)?,
                        serde_json::from_str(&row.get::<String, _>(4)?)?,
                        serde_json::from_str(&row.get::<String, _>(5)?)?,
                    ),
                });
            }
        }
        Ok(stored)
    }

    /// `(id, external id)` of the dataset's live examples that `version_id` did not touch.
    async fn alive_examples_outside(&self, tx: &mut Transaction, dataset_id: i64, version_id: i64) -> Result<Vec<(i64, Option<String>)>> {
        let sql = "SELECT e.id, e.external_id FROM dataset_examples AS e \
                   JOIN dataset_example_revisions AS r ON r.id = (SELECT r2.id FROM dataset_example_revisions AS r2 \
                   WHERE r2.dataset_example_id = e.id ORDER BY r2.dataset_version_id DESC LIMIT 1) \
                   WHERE e.dataset_id = $1 AND r.revision_kind <> 'DELETE' AND r.dataset_version_id <> $2";
        let rows = tx.exec().fetch_all(Statement::new(sql, [dataset_id.into(), version_id.into()])).await?;
        rows.iter().map(|row| Ok((row.get(0)?, row.get(1)?))).collect()
    }

    /// Rowids of the stored spans the examples name.
    async fn span_rowids(&self, tx: &mut Transaction, examples: &[ExampleInput]) -> Result<HashMap<String, i64>> {
        let span_ids: BTreeSet<&str> = examples.iter().filter_map(|e| e.span_id.as_deref()).collect();
        let span_ids: Vec<&str> = span_ids.into_iter().collect();
        let mut found = HashMap::new();
        for chunk in span_ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!("SELECT id, span_id FROM spans WHERE span_id IN ({})", self.dialect.placeholders(1, chunk.len()));
            for row in tx.exec().fetch_all(Statement::new(sql, chunk.iter().map(|id| (*id).into()))).await? {
                found.insert(row.get::<String, _>(1)?, row.get::<i64, _>(0)?);
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
        chunk: &[&ExampleInput],
        span_rowids: &HashMap<String, i64>,
    ) -> Result<Vec<i64>> {
        let mut values: Vec<sea_query::Value> = Vec::with_capacity(chunk.len() * 4);
        for example in chunk {
            values.push(dataset_id.into());
            values.push(example.span_id.as_ref().and_then(|id| span_rowids.get(id).copied()).into());
            values.push(example.external_id.clone().into());
            values.push(now.into());
        }
        let sql = format!(
            "INSERT INTO dataset_examples (dataset_id, span_rowid, external_id, created_at) VALUES {} RETURNING id",
            self.dialect.values_rows(1, chunk.len(), &["?"; 4])
        );
        let mut ids: Vec<i64> =
            tx.exec().fetch_all(Statement::new(sql, values)).await?.iter().map(|row| row.get(0)).collect::<Result<_>>()?;
        // Both databases number the rows of one insert in order; RETURNING need not list them so.
        ids.sort_unstable();
        Ok(ids)
    }

    /// Writes revisions `(example id, content, kind)` in the version; a deletion has no content.
    async fn insert_revisions(
        &self,
        tx: &mut Transaction,
        version_id: i64,
        now: i64,
        rows: &[(i64, Option<&ExampleInput>, &'static str)],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let empty = Value::Object(serde_json::Map::new());
        let json = self.dialect.json_param("?");
        let mut values: Vec<sea_query::Value> = Vec::with_capacity(rows.len() * 7);
        for (id, example, kind) in rows {
            values.push((*id).into());
            values.push(version_id.into());
            values.push(example.map_or(&empty, |e| &e.input).to_string().into());
            values.push(example.map_or(&empty, |e| &e.output).to_string().into());
            values.push(example.map_or(&empty, |e| &e.metadata).to_string().into());
            values.push((*kind).into());
            values.push(now.into());
        }
        let sql = format!(
            "INSERT INTO dataset_example_revisions (dataset_example_id, dataset_version_id, input, output, metadata, revision_kind, created_at) VALUES {}",
            self.dialect.values_rows(1, rows.len(), &["?", "?", &json, &json, &json, "?", "?"])
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
            let values = chunk.iter().flat_map(|name| [sea_query::Value::from(*name), SPLIT_COLOR.into(), now.into(), now.into()]);
            let sql = format!(
                "INSERT INTO dataset_splits (name, color, created_at, updated_at) VALUES {} ON CONFLICT (name) DO NOTHING",
                self.dialect.values_rows(1, chunk.len(), &["?"; 4])
            );
            tx.exec().execute(Statement::new(sql, values)).await?;
            let sql = format!("SELECT id, name FROM dataset_splits WHERE name IN ({})", self.dialect.placeholders(1, chunk.len()));
            for row in tx.exec().fetch_all(Statement::new(sql, chunk.iter().map(|name| (*name).into()))).await? {
                split_ids.insert(row.get(1)?, row.get(0)?);
            }
        }
        for chunk in memberships.chunks(ROWS_PER_STATEMENT) {
            let mut values: Vec<sea_query::Value> = Vec::with_capacity(chunk.len() * 2);
            for (name, example_id) in chunk {
                let split_id = split_ids.get(*name).copied().ok_or_else(|| StoreError::Corrupt(format!("split {name:?} vanished")))?;
                values.push(split_id.into());
                values.push((*example_id).into());
            }
            let sql = format!(
                "INSERT INTO dataset_splits_dataset_examples (dataset_split_id, dataset_example_id) VALUES {} ON CONFLICT DO NOTHING",
                self.dialect.values_rows(1, chunk.len(), &["?"; 2])
            );
            tx.exec().execute(Statement::new(sql, values)).await?;
        }
        Ok(())
    }
}
