//! Writing examples: a dataset upload creates a dataset, appends to one or declares its next
//! version (and examples are deleted in a version of their own), as Phoenix 20.26 does (observed with `phoenix serve`). Submitted examples are matched
//! to the dataset's live examples by external id, else by content (each stored example matched
//! once), so re-sending what is stored writes nothing and makes no version.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;

use ember_core::time::now_nanos;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::engine::backend::{as_stored, json_as_stored, Statement, Transaction};
use crate::error::{Result, StoreError};
use crate::Store;

/// Rows per multi-row statement (7 values a row, well under SQLite's variable limit).
const ROWS_PER_STATEMENT: usize = 1000;
/// The color Phoenix gives a split created by an upload.
const SPLIT_COLOR: &str = "#808080";

/// What an upload does with the named dataset. A dataset that does not exist is created; an
/// upload that changes no example's content makes no new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadAction {
    /// A new dataset; the name must be free.
    Create,
    /// Matched examples are patched when their content changed; the others are added.
    Append,
    /// As `Append`, and the live examples the upload does not match are deleted: the new version
    /// holds exactly the submitted examples (Phoenix's declarative `update`).
    Update,
}

/// One example of an upload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExampleInput {
    pub input: Value,
    pub output: Value,
    pub metadata: Value,
    /// Names of the splits the example belongs to (created when missing). `None` when the upload
    /// names no splits: a matched example then keeps its memberships.
    pub splits: Option<Vec<String>>,
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
    /// Matched examples whose content or splits changed.
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

/// A digest of an example's content, the same whatever order its objects' keys are in.
type ContentDigest = [u8; 32];

fn content_digest(input: &Value, output: &Value, metadata: &Value) -> ContentDigest {
    /// Compact JSON with object keys sorted (PostgreSQL's JSONB reorders them).
    fn canonical(value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (position, (key, child)) in entries.into_iter().enumerate() {
                    if position > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
                    out.push(b':');
                    canonical(child, out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (position, item) in items.iter().enumerate() {
                    if position > 0 {
                        out.push(b',');
                    }
                    canonical(item, out);
                }
                out.push(b']');
            }
            scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
        }
    }
    let mut text = Vec::new();
    for part in [input, output, metadata] {
        canonical(part, &mut text);
        text.push(b'\n');
    }
    Sha256::digest(&text).into()
}

/// The dataset's live examples the upload may match, and what it has matched so far.
#[derive(Default)]
struct Matching {
    /// Unmatched live examples by content, lowest id last (taken first).
    by_content: HashMap<ContentDigest, Vec<i64>>,
    digest_of: HashMap<i64, ContentDigest>,
    /// Live examples in id order, the candidates for deletion by `Update`.
    live: Vec<i64>,
    matched: HashSet<i64>,
}

impl Matching {
    fn new(live: Vec<(i64, ContentDigest)>) -> Matching {
        let mut matching = Matching::default();
        for (id, digest) in live.into_iter().rev() {
            matching.by_content.entry(digest).or_default().push(id);
            matching.digest_of.insert(id, digest);
            matching.live.push(id);
        }
        matching.live.reverse();
        matching
    }

    /// Claims the stored example an external id named; `false` when the upload already matched it.
    fn claim(&mut self, id: i64) -> bool {
        if !self.matched.insert(id) {
            return false;
        }
        if let Some(ids) = self.digest_of.get(&id).and_then(|digest| self.by_content.get_mut(digest)) {
            ids.retain(|candidate| *candidate != id);
        }
        true
    }

    /// Claims an unmatched live example with this content.
    fn claim_content(&mut self, digest: &ContentDigest) -> Option<i64> {
        let id = self.by_content.get_mut(digest)?.pop()?;
        self.matched.insert(id);
        Some(id)
    }

    fn unmatched(&self) -> impl Iterator<Item = i64> + '_ {
        self.live.iter().copied().filter(|id| !self.matched.contains(id))
    }
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

/// What an upload has written so far.
#[derive(Default)]
struct Tally {
    created: usize,
    updated: usize,
    /// Revisions written (creations, patches, deletions): none means no new version.
    revisions: usize,
}

impl Store {
    /// Writes `examples` into the dataset `name`; see [`Store::upload_example_batches`].
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

    /// Writes the examples of `batches` into the dataset `name` in one transaction (see
    /// [`UploadAction`]): `Conflict` when creating a dataset whose name is taken, `Invalid` when
    /// the upload repeats an external id. When no example's content changes, no version is made
    /// and the outcome names the dataset's latest version.
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
            (UploadAction::Create, Some(_)) => return Err(StoreError::Conflict(format!("A dataset named {name:?} already exists."))),
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
        let mut matching = if existed { Matching::new(self.live_example_digests(&mut tx, dataset_id).await?) } else { Matching::default() };
        let mut seen: HashSet<String> = HashSet::new();
        let mut tally = Tally::default();
        while let Some(batch) = batches.next_batch().await? {
            for external_id in batch.iter().filter_map(|example| example.external_id.as_deref()) {
                if !seen.insert(as_stored(self.dialect, external_id)) {
                    return Err(StoreError::Invalid(format!("Duplicate example_id in request: '{external_id}'")));
                }
            }
            let target = VersionTarget { dataset_id, version_id, now, existed };
            self.write_batch(&mut tx, &target, &batch, &mut matching, &mut tally).await?;
        }
        let mut deleted = 0;
        if action == UploadAction::Update {
            let gone: Vec<(i64, Option<&ExampleInput>, &'static str)> = matching.unmatched().map(|id| (id, None, "DELETE")).collect();
            deleted = gone.len();
            for chunk in gone.chunks(ROWS_PER_STATEMENT) {
                self.insert_revisions(&mut tx, version_id, now, chunk).await?;
            }
        }
        tally.revisions += deleted;
        let Tally { created, updated, revisions } = tally;
        let version_id = if revisions == 0 && existed {
            tx.exec().execute(Statement::new("DELETE FROM dataset_versions WHERE id = $1", [version_id.into()])).await?;
            let latest = "SELECT id FROM dataset_versions WHERE dataset_id = $1 ORDER BY id DESC LIMIT 1";
            match tx.exec().fetch_optional(Statement::new(latest, [dataset_id.into()])).await? {
                Some(row) => row.get(0)?,
                None => return Err(StoreError::Corrupt(format!("dataset {dataset_id} has no version"))),
            }
        } else {
            version_id
        };
        tx.exec()
            .execute(Statement::new(
                "UPDATE datasets SET example_count = example_count + $1, updated_at = $2 WHERE id = $3",
                [(created as i64 - deleted as i64).into(), now.into(), dataset_id.into()],
            ))
            .await?;
        tx.commit().await?;
        Ok(UploadOutcome { dataset_id, version_id, created, updated, deleted })
    }

    /// Deletes examples of a dataset in a new version (the older versions keep them); `Invalid`
    /// naming an example that is not a live example of the dataset. Returns the new version.
    pub async fn delete_dataset_examples(
        &self,
        dataset_id: i64,
        example_ids: &[i64],
        description: Option<&str>,
        metadata: &Value,
    ) -> Result<i64> {
        let now = now_nanos();
        let mut tx = self.writer.begin().await?;
        let live: HashSet<i64> = self.live_example_digests(&mut tx, dataset_id).await?.into_iter().map(|(id, _)| id).collect();
        if let Some(missing) = example_ids.iter().find(|id| !live.contains(id)) {
            return Err(StoreError::Invalid(format!("example {missing} is not an example of this dataset")));
        }
        let sql = format!(
            "INSERT INTO dataset_versions (dataset_id, description, metadata, created_at) VALUES ($1, $2, {}, $4) RETURNING id",
            self.dialect.json_param("$3")
        );
        let values = [dataset_id.into(), description.map(str::to_string).into(), metadata.to_string().into(), now.into()];
        let version_id: i64 = tx.exec().fetch_one(Statement::new(sql, values)).await?.get(0)?;
        let unique: BTreeSet<i64> = example_ids.iter().copied().collect();
        let rows: Vec<(i64, Option<&ExampleInput>, &'static str)> = unique.iter().map(|id| (*id, None, "DELETE")).collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            self.insert_revisions(&mut tx, version_id, now, chunk).await?;
        }
        tx.exec()
            .execute(Statement::new(
                "UPDATE datasets SET example_count = example_count - $1, updated_at = $2 WHERE id = $3",
                [(unique.len() as i64).into(), now.into(), dataset_id.into()],
            ))
            .await?;
        tx.commit().await?;
        Ok(version_id)
    }

    /// Writes new content for live examples of a dataset in a new version (the older versions
    /// keep the old); `Invalid` naming an example that is not a live example of the dataset.
    /// Splits and external ids stay. Returns the new version.
    pub async fn revise_dataset_examples(
        &self,
        dataset_id: i64,
        revisions: &[(i64, ExampleInput)],
        description: Option<&str>,
    ) -> Result<i64> {
        let now = now_nanos();
        let mut tx = self.writer.begin().await?;
        let live: HashSet<i64> = self.live_example_digests(&mut tx, dataset_id).await?.into_iter().map(|(id, _)| id).collect();
        if let Some((missing, _)) = revisions.iter().find(|(id, _)| !live.contains(id)) {
            return Err(StoreError::Invalid(format!("example {missing} is not an example of this dataset")));
        }
        let sql = format!(
            "INSERT INTO dataset_versions (dataset_id, description, metadata, created_at) VALUES ($1, $2, {}, $4) RETURNING id",
            self.dialect.json_param("$3")
        );
        let values = [dataset_id.into(), description.map(str::to_string).into(), "{}".to_string().into(), now.into()];
        let version_id: i64 = tx.exec().fetch_one(Statement::new(sql, values)).await?.get(0)?;
        let rows: Vec<(i64, Option<&ExampleInput>, &'static str)> =
            revisions.iter().map(|(id, example)| (*id, Some(example), "PATCH")).collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            self.insert_revisions(&mut tx, version_id, now, chunk).await?;
        }
        tx.exec().execute(Statement::new("UPDATE datasets SET updated_at = $1 WHERE id = $2", [now.into(), dataset_id.into()])).await?;
        tx.commit().await?;
        Ok(version_id)
    }

    /// The datasets the given examples belong to (absent examples are left out).
    pub async fn datasets_of_examples(&self, example_ids: &[i64]) -> Result<BTreeSet<i64>> {
        let mut datasets = BTreeSet::new();
        for chunk in example_ids.chunks(ROWS_PER_STATEMENT) {
            let sql =
                format!("SELECT DISTINCT dataset_id FROM dataset_examples WHERE id IN ({})", self.dialect.placeholders(1, chunk.len()));
            for row in self.reader.exec().fetch_all(Statement::new(sql, chunk.iter().map(|id| (*id).into()))).await? {
                datasets.insert(row.get(0)?);
            }
        }
        Ok(datasets)
    }

    /// Writes one batch into the version: new examples, revisions of the matched examples whose
    /// content changed (or that were deleted), and the matched examples' splits when given.
    async fn write_batch(
        &self,
        tx: &mut Transaction,
        target: &VersionTarget,
        batch: &[ExampleInput],
        matching: &mut Matching,
        tally: &mut Tally,
    ) -> Result<()> {
        let named: Vec<&str> = batch.iter().filter_map(|example| example.external_id.as_deref()).collect();
        let stored =
            if target.existed && !named.is_empty() { self.stored_examples(tx, target.dataset_id, &named).await? } else { Vec::new() };
        // Keyed as stored: PostgreSQL stores U+0000 as U+FFFD, so the id sent is compared in that form.
        let by_external_id: HashMap<&str, &StoredExample> =
            stored.iter().filter_map(|example| example.external_id.as_deref().map(|id| (id, example))).collect();

        let mut new_examples: Vec<&ExampleInput> = Vec::new();
        let mut revisions: Vec<(i64, Option<&ExampleInput>, &'static str)> = Vec::new();
        let mut memberships: Vec<(&str, i64)> = Vec::new();
        // Matched examples whose splits the upload gives, and whether they were already counted.
        let mut split_settings: Vec<(i64, &[String], bool)> = Vec::new();
        for example in batch {
            let matched = match example.external_id.as_deref() {
                Some(external_id) => match by_external_id.get(as_stored(self.dialect, external_id).as_str()) {
                    Some(stored) => {
                        if !matching.claim(stored.id) {
                            return Err(StoreError::Invalid(format!(
                                "example_id {external_id:?} names an example the upload already matched by its content"
                            )));
                        }
                        let stored_form = |value| json_as_stored(self.dialect, value).into_owned();
                        let content = (stored_form(&example.input), stored_form(&example.output), stored_form(&example.metadata));
                        let counted = if !stored.alive {
                            revisions.push((stored.id, Some(example), "CREATE"));
                            tally.created += 1;
                            true
                        } else if stored.content != content {
                            revisions.push((stored.id, Some(example), "PATCH"));
                            tally.updated += 1;
                            true
                        } else {
                            false
                        };
                        Some((stored.id, counted))
                    }
                    None => None,
                },
                None => {
                    let stored_form = |value| json_as_stored(self.dialect, value);
                    let digest =
                        content_digest(&stored_form(&example.input), &stored_form(&example.output), &stored_form(&example.metadata));
                    matching.claim_content(&digest).map(|id| (id, false))
                }
            };
            match matched {
                None => new_examples.push(example),
                Some((id, counted)) => {
                    if let Some(splits) = &example.splits {
                        split_settings.push((id, splits, counted));
                    }
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
                memberships.extend(example.splits.iter().flatten().map(|split| (split.as_str(), *id)));
            }
        }
        tally.created += new_examples.len();
        tally.revisions += new_examples.len() + revisions.len();
        for chunk in revisions.chunks(ROWS_PER_STATEMENT) {
            self.insert_revisions(tx, target.version_id, target.now, chunk).await?;
        }
        tally.updated += self.set_splits(tx, &split_settings, &mut memberships).await?;
        self.insert_memberships(tx, target.now, &memberships).await
    }

    /// Makes each example's splits exactly the given names: memberships it should lose are deleted
    /// here, the ones it should gain are added to `memberships`. Returns how many examples changed
    /// that were not counted already.
    async fn set_splits<'a>(
        &self,
        tx: &mut Transaction,
        settings: &[(i64, &'a [String], bool)],
        memberships: &mut Vec<(&'a str, i64)>,
    ) -> Result<usize> {
        let mut current: HashMap<i64, BTreeSet<String>> = HashMap::new();
        for chunk in settings.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT m.dataset_example_id, s.name FROM dataset_splits_dataset_examples AS m \
                 JOIN dataset_splits AS s ON s.id = m.dataset_split_id WHERE m.dataset_example_id IN ({})",
                self.dialect.placeholders(1, chunk.len())
            );
            for row in tx.exec().fetch_all(Statement::new(sql, chunk.iter().map(|(id, _, _)| (*id).into()))).await? {
                current.entry(row.get(0)?).or_default().insert(row.get(1)?);
            }
        }
        let mut changed = Vec::new();
        let mut newly_counted = 0;
        for (id, splits, counted) in settings {
            let wanted: BTreeSet<String> = splits.iter().map(|split| as_stored(self.dialect, split)).collect();
            if current.get(id).map_or(wanted.is_empty(), |have| *have == wanted) {
                continue;
            }
            changed.push(*id);
            newly_counted += usize::from(!counted);
            memberships.extend(splits.iter().map(|split| (split.as_str(), *id)));
        }
        for chunk in changed.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM dataset_splits_dataset_examples WHERE dataset_example_id IN ({})",
                self.dialect.placeholders(1, chunk.len())
            );
            tx.exec().execute(Statement::new(sql, chunk.iter().map(|id| (*id).into()))).await?;
        }
        Ok(newly_counted)
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

    /// `(id, content digest)` of the dataset's live examples, in id order, read a page at a time so
    /// only the digests are held.
    async fn live_example_digests(&self, tx: &mut Transaction, dataset_id: i64) -> Result<Vec<(i64, ContentDigest)>> {
        let d = self.dialect;
        let sql = format!(
            "SELECT e.id, {}, {}, {} FROM dataset_examples AS e \
             JOIN dataset_example_revisions AS r ON r.id = (SELECT r2.id FROM dataset_example_revisions AS r2 \
             WHERE r2.dataset_example_id = e.id ORDER BY r2.dataset_version_id DESC LIMIT 1) \
             WHERE e.dataset_id = $1 AND e.id > $2 AND r.revision_kind <> 'DELETE' ORDER BY e.id LIMIT {ROWS_PER_STATEMENT}",
            d.json_text("r.input"),
            d.json_text("r.output"),
            d.json_text("r.metadata"),
        );
        let mut digests = Vec::new();
        let mut after = 0i64;
        loop {
            let rows = tx.exec().fetch_all(Statement::new(sql.clone(), [dataset_id.into(), after.into()])).await?;
            for row in &rows {
                let part = |index: usize| -> Result<Value> { Ok(serde_json::from_str(&row.get::<String, _>(index)?)?) };
                let id: i64 = row.get(0)?;
                digests.push((id, content_digest(&part(1)?, &part(2)?, &part(3)?)));
                after = id;
            }
            if rows.len() < ROWS_PER_STATEMENT {
                return Ok(digests);
            }
        }
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
                // Keyed by the name as stored (PostgreSQL stores U+0000 as U+FFFD).
                let stored_name = as_stored(self.dialect, name);
                let split_id =
                    split_ids.get(&stored_name).copied().ok_or_else(|| StoreError::Corrupt(format!("split {name:?} vanished")))?;
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
