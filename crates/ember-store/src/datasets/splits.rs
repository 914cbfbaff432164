//! Dataset splits: named sets of examples (global names, as in Phoenix), managed through a dataset
//! whose examples they may hold.

use std::collections::HashMap;

use serde_json::Value;

use crate::engine::backend::{Row, Statement, Transaction};
use crate::error::{Result, StoreError};
use crate::{Page, Store};

/// A split with the number of examples in it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSplitRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub color: String,
    pub metadata: Value,
    pub example_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a split update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DatasetSplitChanges {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub color: Option<String>,
    pub metadata: Option<Value>,
    pub add_example_ids: Vec<i64>,
    pub remove_example_ids: Vec<i64>,
}

impl DatasetSplitRecord {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(DatasetSplitRecord {
            id: row.get(0)?,
            name: row.get(1)?,
            description: row.get(2)?,
            color: row.get(3)?,
            metadata: serde_json::from_str(&row.get::<String, _>(4)?)?,
            example_count: row.get(5)?,
            created_at: row.get(6)?,
            updated_at: row.get(7)?,
        })
    }
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!("a dataset split named {name:?} already exists"))
}

impl Store {
    /// The split `condition` (on `s`, with `$1`) selects.
    fn split_query(&self, condition: &str) -> String {
        format!(
            "SELECT s.id, s.name, s.description, s.color, {}, \
             (SELECT COUNT(*) FROM dataset_splits_dataset_examples AS m WHERE m.dataset_split_id = s.id), s.created_at, s.updated_at \
             FROM dataset_splits AS s WHERE {condition}",
            self.dialect.json_text("s.metadata")
        )
    }

    async fn split_in(&self, tx: &mut Transaction, split_id: i64) -> Result<Option<DatasetSplitRecord>> {
        let row = tx.exec().fetch_optional(Statement::new(self.split_query("s.id = $1"), [split_id.into()])).await?;
        row.as_ref().map(DatasetSplitRecord::from_row).transpose()
    }

    pub async fn get_dataset_split(&self, split_id: i64) -> Result<Option<DatasetSplitRecord>> {
        let row = self.reader.exec().fetch_optional(Statement::new(self.split_query("s.id = $1"), [split_id.into()])).await?;
        row.as_ref().map(DatasetSplitRecord::from_row).transpose()
    }

    pub async fn get_dataset_split_by_name(&self, name: &str) -> Result<Option<DatasetSplitRecord>> {
        let row = self.reader.exec().fetch_optional(Statement::new(self.split_query("s.name = $1"), [name.into()])).await?;
        row.as_ref().map(DatasetSplitRecord::from_row).transpose()
    }

    /// The splits holding examples of a dataset, newest first, each counting the dataset's examples
    /// in it (as Phoenix lists them): a page of `limit` from the split `from_id` down.
    pub async fn splits_of_dataset(&self, dataset_id: i64, from_id: Option<i64>, limit: usize) -> Result<Page<DatasetSplitRecord>> {
        let sql = format!(
            "SELECT s.id, s.name, s.description, s.color, {}, COUNT(*), s.created_at, s.updated_at \
             FROM dataset_splits AS s JOIN dataset_splits_dataset_examples AS m ON m.dataset_split_id = s.id \
             JOIN dataset_examples AS e ON e.id = m.dataset_example_id \
             WHERE e.dataset_id = $1 AND s.id <= $2 GROUP BY s.id ORDER BY s.id DESC LIMIT $3",
            self.dialect.json_text("s.metadata")
        );
        let values = [dataset_id.into(), from_id.unwrap_or(i64::MAX).into(), (limit as i64 + 1).into()];
        let rows = self.reader.exec().fetch_all(Statement::new(sql, values)).await?;
        let splits = rows.iter().map(DatasetSplitRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(splits, limit, |split| split.id))
    }

    /// The splits an experiment runs over (none: the whole version), by name.
    pub async fn splits_of_experiment(&self, experiment_id: i64) -> Result<Vec<DatasetSplitRecord>> {
        let condition = "s.id IN (SELECT dataset_split_id FROM experiments_dataset_splits WHERE experiment_id = $1) ORDER BY s.name";
        let rows = self.reader.exec().fetch_all(Statement::new(self.split_query(condition), [experiment_id.into()])).await?;
        rows.iter().map(DatasetSplitRecord::from_row).collect()
    }

    /// The names of the splits each of these examples is in, by name; examples in none are absent.
    pub async fn split_names_of_examples(&self, example_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
        let mut names: HashMap<i64, Vec<String>> = HashMap::new();
        for chunk in example_ids.chunks(1000) {
            let sql = format!(
                "SELECT m.dataset_example_id, s.name FROM dataset_splits_dataset_examples AS m \
                 JOIN dataset_splits AS s ON s.id = m.dataset_split_id WHERE m.dataset_example_id IN ({}) ORDER BY s.name",
                self.dialect.placeholders(1, chunk.len())
            );
            for row in self.reader.exec().fetch_all(Statement::new(sql, chunk.iter().map(|id| (*id).into()))).await? {
                names.entry(row.get(0)?).or_default().push(row.get(1)?);
            }
        }
        Ok(names)
    }

    /// `Invalid` naming the first example that is not one of the dataset's.
    async fn require_examples_of(&self, tx: &mut Transaction, dataset_id: i64, example_ids: &[i64]) -> Result<()> {
        for id in example_ids {
            let found = tx
                .exec()
                .fetch_optional(Statement::new(
                    "SELECT 1 FROM dataset_examples WHERE id = $1 AND dataset_id = $2",
                    [(*id).into(), dataset_id.into()],
                ))
                .await?;
            if found.is_none() {
                return Err(StoreError::Invalid(format!("example {id} is not an example of this dataset")));
            }
        }
        Ok(())
    }

    async fn add_to_split(&self, tx: &mut Transaction, split_id: i64, example_ids: &[i64]) -> Result<()> {
        for id in example_ids {
            tx.exec()
                .execute(Statement::new(
                    "INSERT INTO dataset_splits_dataset_examples (dataset_split_id, dataset_example_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    [split_id.into(), (*id).into()],
                ))
                .await?;
        }
        Ok(())
    }

    /// Creates a split seeded with examples (of `dataset_id`, when given): `Conflict` when the
    /// name is taken, `Invalid` when an example is not the dataset's.
    pub async fn create_dataset_split(
        &self,
        dataset_id: Option<i64>,
        name: &str,
        description: Option<&str>,
        color: &str,
        metadata: &Value,
        example_ids: &[i64],
    ) -> Result<DatasetSplitRecord> {
        let now = ember_core::time::now_nanos();
        let mut tx = self.writer.begin().await?;
        if let Some(dataset_id) = dataset_id {
            self.require_examples_of(&mut tx, dataset_id, example_ids).await?;
        }
        let sql = format!(
            "INSERT INTO dataset_splits (name, description, color, metadata, created_at, updated_at) VALUES ($1, $2, $3, {}, $5, $5) \
             ON CONFLICT (name) DO NOTHING RETURNING id",
            self.dialect.json_param("$4")
        );
        let values = [name.into(), description.map(str::to_string).into(), color.into(), metadata.to_string().into(), now.into()];
        let Some(row) = tx.exec().fetch_optional(Statement::new(sql, values)).await? else { return Err(name_taken(name)) };
        let split_id: i64 = row.get(0)?;
        self.add_to_split(&mut tx, split_id, example_ids).await?;
        let split = self.split_in(&mut tx, split_id).await?.ok_or_else(|| StoreError::Corrupt("split vanished".into()))?;
        tx.commit().await?;
        Ok(split)
    }

    /// Changes a split; `None` when there is none, `Conflict` when the new name is taken,
    /// `Invalid` when an example to add is not the dataset's.
    pub async fn update_dataset_split(
        &self,
        dataset_id: i64,
        split_id: i64,
        changes: &DatasetSplitChanges,
    ) -> Result<Option<DatasetSplitRecord>> {
        let mut tx = self.writer.begin().await?;
        let Some(mut split) = self.split_in(&mut tx, split_id).await? else { return Ok(None) };
        if let Some(name) = changes.name.as_ref().filter(|name| **name != split.name) {
            let taken =
                tx.exec().fetch_optional(Statement::new("SELECT 1 FROM dataset_splits WHERE name = $1", [name.as_str().into()])).await?;
            if taken.is_some() {
                return Err(name_taken(name));
            }
            split.name = name.clone();
        }
        if let Some(description) = &changes.description {
            split.description = description.clone();
        }
        if let Some(color) = &changes.color {
            split.color = color.clone();
        }
        if let Some(metadata) = &changes.metadata {
            split.metadata = metadata.clone();
        }
        self.require_examples_of(&mut tx, dataset_id, &changes.add_example_ids).await?;
        let sql = format!(
            "UPDATE dataset_splits SET name = $1, description = $2, color = $3, metadata = {}, updated_at = $5 WHERE id = $6",
            self.dialect.json_param("$4")
        );
        let values = [
            split.name.as_str().into(),
            split.description.clone().into(),
            split.color.as_str().into(),
            split.metadata.to_string().into(),
            ember_core::time::now_nanos().into(),
            split_id.into(),
        ];
        tx.exec().execute(Statement::new(sql, values)).await?;
        self.add_to_split(&mut tx, split_id, &changes.add_example_ids).await?;
        for id in &changes.remove_example_ids {
            tx.exec()
                .execute(Statement::new(
                    "DELETE FROM dataset_splits_dataset_examples WHERE dataset_split_id = $1 AND dataset_example_id = $2",
                    [split_id.into(), (*id).into()],
                ))
                .await?;
        }
        let split = self.split_in(&mut tx, split_id).await?;
        tx.commit().await?;
        Ok(split)
    }

    /// Deletes a split (its examples stay); false when there was none.
    pub async fn delete_dataset_split(&self, split_id: i64) -> Result<bool> {
        Ok(self.writer.exec().execute(Statement::new("DELETE FROM dataset_splits WHERE id = $1", [split_id.into()])).await? > 0)
    }
}
