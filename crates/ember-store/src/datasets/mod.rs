//! Datasets, their immutable versions and their examples (see migration `datasets`): an
//! example's state at version V is its latest revision at or before V; a deletion is a revision.

mod examples;
mod labels;
mod splits;
mod upload;

use serde_json::Value;

pub(crate) use examples::example_columns;
pub use examples::ExampleRecord;
pub use labels::{DatasetLabelChanges, DatasetLabelRecord};
pub use splits::{DatasetSplitChanges, DatasetSplitRecord};
pub use upload::{ExampleBatches, ExampleInput, UploadAction, UploadOutcome};

use crate::engine::backend::{Row, Statement};
use crate::engine::dialect::Dialect;
use crate::error::Result;
use crate::spans::records::Page;
use crate::Store;

/// A stored dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub metadata: Value,
    pub created_at: i64,
    pub updated_at: i64,
    /// Examples alive at the latest version.
    pub example_count: i64,
}

/// A version of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetVersionRecord {
    pub id: i64,
    pub dataset_id: i64,
    pub description: Option<String>,
    pub metadata: Value,
    pub created_at: i64,
}

/// The id of example `example`'s latest revision at or before version `version` (SQL
/// expressions); the revision may be a deletion.
pub(crate) fn latest_revision_at(example: &str, version: &str) -> String {
    format!(
        "(SELECT r2.id FROM dataset_example_revisions AS r2 WHERE r2.dataset_example_id = {example} \
         AND r2.dataset_version_id <= {version} ORDER BY r2.dataset_version_id DESC LIMIT 1)"
    )
}

impl DatasetRecord {
    fn columns(dialect: Dialect) -> String {
        format!("d.id, d.name, d.description, {}, d.created_at, d.updated_at, d.example_count", dialect.json_text("d.metadata"))
    }

    fn from_row(row: &Row) -> Result<Self> {
        Ok(DatasetRecord {
            id: row.get(0)?,
            name: row.get(1)?,
            description: row.get(2)?,
            metadata: serde_json::from_str(&row.get::<String, _>(3)?)?,
            created_at: row.get(4)?,
            updated_at: row.get(5)?,
            example_count: row.get(6)?,
        })
    }
}

impl DatasetVersionRecord {
    fn columns(dialect: Dialect) -> String {
        format!("v.id, v.dataset_id, v.description, {}, v.created_at", dialect.json_text("v.metadata"))
    }

    fn from_row(row: &Row) -> Result<Self> {
        Ok(DatasetVersionRecord {
            id: row.get(0)?,
            dataset_id: row.get(1)?,
            description: row.get(2)?,
            metadata: serde_json::from_str(&row.get::<String, _>(3)?)?,
            created_at: row.get(4)?,
        })
    }
}

impl Store {
    /// Datasets newest first, optionally only the one with `name`; `cursor` is the id of the
    /// page's first.
    pub async fn list_datasets(&self, name: Option<&str>, cursor: Option<i64>, limit: usize) -> Result<Page<DatasetRecord>> {
        let mut values: Vec<sea_query::Value> = vec![cursor.unwrap_or(i64::MAX).into()];
        let mut sql = format!("SELECT {} FROM datasets AS d WHERE d.id <= $1", DatasetRecord::columns(self.dialect));
        if let Some(name) = name {
            values.push(name.into());
            sql.push_str(" AND d.name = $2");
        }
        sql.push_str(&format!(" ORDER BY d.id DESC LIMIT {}", limit + 1));
        let rows = self.reader.exec().fetch_all(Statement::new(sql, values)).await?;
        let datasets = rows.iter().map(DatasetRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(datasets, limit, |dataset| dataset.id))
    }

    /// Up to `limit` datasets whose name contains `fragment` (any case), newest first.
    pub async fn search_datasets(&self, fragment: &str, limit: usize) -> Result<Vec<DatasetRecord>> {
        let pattern = format!("%{}%", crate::projects::escape_like(&fragment.to_lowercase()));
        let sql = format!(
            "SELECT {} FROM datasets AS d WHERE LOWER(d.name) LIKE $1 ESCAPE '\\' ORDER BY d.id DESC LIMIT {limit}",
            DatasetRecord::columns(self.dialect)
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [pattern.into()])).await?;
        rows.iter().map(DatasetRecord::from_row).collect()
    }

    pub async fn get_dataset(&self, id: i64) -> Result<Option<DatasetRecord>> {
        let sql = format!("SELECT {} FROM datasets AS d WHERE d.id = $1", DatasetRecord::columns(self.dialect));
        self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(DatasetRecord::from_row).transpose()
    }

    pub async fn get_dataset_by_name(&self, name: &str) -> Result<Option<DatasetRecord>> {
        let sql = format!("SELECT {} FROM datasets AS d WHERE d.name = $1", DatasetRecord::columns(self.dialect));
        self.reader.exec().fetch_optional(Statement::new(sql, [name.into()])).await?.as_ref().map(DatasetRecord::from_row).transpose()
    }

    /// Deletes a dataset with its versions and examples; false when there was none.
    pub async fn delete_dataset(&self, id: i64) -> Result<bool> {
        Ok(self.writer.exec().execute(Statement::new("DELETE FROM datasets WHERE id = $1", [id.into()])).await? > 0)
    }

    /// A dataset's versions newest first; `cursor` is the id of the page's first.
    pub async fn list_dataset_versions(&self, dataset_id: i64, cursor: Option<i64>, limit: usize) -> Result<Page<DatasetVersionRecord>> {
        let sql = format!(
            "SELECT {} FROM dataset_versions AS v WHERE v.dataset_id = $1 AND v.id <= $2 ORDER BY v.id DESC LIMIT {}",
            DatasetVersionRecord::columns(self.dialect),
            limit + 1
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [dataset_id.into(), cursor.unwrap_or(i64::MAX).into()])).await?;
        let versions = rows.iter().map(DatasetVersionRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(versions, limit, |version| version.id))
    }

    /// The dataset's version with this id, or its latest when `version_id` is `None`.
    pub async fn get_dataset_version(&self, dataset_id: i64, version_id: Option<i64>) -> Result<Option<DatasetVersionRecord>> {
        let columns = DatasetVersionRecord::columns(self.dialect);
        let statement = match version_id {
            Some(id) => Statement::new(
                format!("SELECT {columns} FROM dataset_versions AS v WHERE v.dataset_id = $1 AND v.id = $2"),
                [dataset_id.into(), id.into()],
            ),
            None => Statement::new(
                format!("SELECT {columns} FROM dataset_versions AS v WHERE v.dataset_id = $1 ORDER BY v.id DESC LIMIT 1"),
                [dataset_id.into()],
            ),
        };
        self.reader.exec().fetch_optional(statement).await?.as_ref().map(DatasetVersionRecord::from_row).transpose()
    }
}
