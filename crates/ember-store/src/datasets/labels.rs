//! Dataset labels (name, color, description) and the labels applied to each dataset.

use crate::engine::backend::{Row, Statement};
use crate::error::{Result, StoreError};
use crate::spans::records::Page;
use crate::Store;

/// A dataset label.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetLabelRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub color: String,
}

/// What a label update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct DatasetLabelChanges {
    pub name: Option<String>,
    pub color: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
}

const COLUMNS: &str = "l.id, l.name, l.description, l.color";

impl DatasetLabelRecord {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(DatasetLabelRecord { id: row.get(0)?, name: row.get(1)?, description: row.get(2)?, color: row.get(3)? })
    }
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!("a dataset label named {name:?} already exists"))
}

impl Store {
    /// Labels newest first; `cursor` is the id of the page's first.
    pub async fn list_dataset_labels(&self, cursor: Option<i64>, limit: usize) -> Result<Page<DatasetLabelRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM dataset_labels AS l WHERE l.id <= $1 ORDER BY l.id DESC LIMIT {}", limit + 1);
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [cursor.unwrap_or(i64::MAX).into()])).await?;
        let labels = rows.iter().map(DatasetLabelRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(labels, limit, |label| label.id))
    }

    pub async fn get_dataset_label(&self, id: i64) -> Result<Option<DatasetLabelRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM dataset_labels AS l WHERE l.id = $1");
        self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(DatasetLabelRecord::from_row).transpose()
    }

    /// Creates a label; `Conflict` when the name is taken.
    pub async fn create_dataset_label(&self, name: &str, description: Option<&str>, color: &str) -> Result<DatasetLabelRecord> {
        let sql = "INSERT INTO dataset_labels (name, description, color) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING \
                   RETURNING id, name, description, color";
        let values = [name.into(), description.map(str::to_string).into(), color.into()];
        match self.writer.exec().fetch_optional(Statement::new(sql, values)).await? {
            Some(row) => DatasetLabelRecord::from_row(&row),
            None => Err(name_taken(name)),
        }
    }

    /// Changes a label; `None` when there is none, `Conflict` when the new name is taken.
    pub async fn update_dataset_label(&self, id: i64, changes: &DatasetLabelChanges) -> Result<Option<DatasetLabelRecord>> {
        let mut tx = self.writer.begin().await?;
        let sql = format!("SELECT {COLUMNS} FROM dataset_labels AS l WHERE l.id = $1");
        let Some(row) = tx.exec().fetch_optional(Statement::new(sql, [id.into()])).await? else { return Ok(None) };
        let mut label = DatasetLabelRecord::from_row(&row)?;
        if let Some(name) = &changes.name {
            if *name != label.name {
                let taken = tx
                    .exec()
                    .fetch_optional(Statement::new("SELECT 1 FROM dataset_labels WHERE name = $1", [name.as_str().into()]))
                    .await?;
                if taken.is_some() {
                    return Err(name_taken(name));
                }
            }
            label.name = name.clone();
        }
        if let Some(color) = &changes.color {
            label.color = color.clone();
        }
        if let Some(description) = &changes.description {
            label.description = description.clone();
        }
        let values = [label.name.as_str().into(), label.description.clone().into(), label.color.as_str().into(), id.into()];
        tx.exec()
            .execute(Statement::new("UPDATE dataset_labels SET name = $1, description = $2, color = $3 WHERE id = $4", values))
            .await?;
        tx.commit().await?;
        Ok(Some(label))
    }

    /// Deletes a label, taking it off every dataset; false when there was none.
    pub async fn delete_dataset_label(&self, id: i64) -> Result<bool> {
        Ok(self.writer.exec().execute(Statement::new("DELETE FROM dataset_labels WHERE id = $1", [id.into()])).await? > 0)
    }

    /// The labels applied to a dataset, by id.
    pub async fn labels_of_dataset(&self, dataset_id: i64) -> Result<Vec<DatasetLabelRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM dataset_labels AS l JOIN datasets_dataset_labels AS dl ON dl.dataset_label_id = l.id \
             WHERE dl.dataset_id = $1 ORDER BY l.id"
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [dataset_id.into()])).await?;
        rows.iter().map(DatasetLabelRecord::from_row).collect()
    }

    /// Makes `label_ids` the dataset's labels; `NotFound` naming the first unknown label, with
    /// nothing changed.
    pub async fn set_dataset_labels(&self, dataset_id: i64, label_ids: &[i64]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for label_id in label_ids {
            let found =
                tx.exec().fetch_optional(Statement::new("SELECT 1 FROM dataset_labels WHERE id = $1", [(*label_id).into()])).await?;
            if found.is_none() {
                return Err(StoreError::NotFound(format!("dataset label {label_id}")));
            }
        }
        tx.exec().execute(Statement::new("DELETE FROM datasets_dataset_labels WHERE dataset_id = $1", [dataset_id.into()])).await?;
        for label_id in label_ids {
            tx.exec()
                .execute(Statement::new(
                    "INSERT INTO datasets_dataset_labels (dataset_id, dataset_label_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    [dataset_id.into(), (*label_id).into()],
                ))
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Applies a label to a dataset (a no-op when applied already).
    pub async fn add_dataset_label(&self, dataset_id: i64, label_id: i64) -> Result<()> {
        self.writer
            .exec()
            .execute(Statement::new(
                "INSERT INTO datasets_dataset_labels (dataset_id, dataset_label_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [dataset_id.into(), label_id.into()],
            ))
            .await?;
        Ok(())
    }

    /// Takes a label off a dataset (a no-op when not applied).
    pub async fn remove_dataset_label(&self, dataset_id: i64, label_id: i64) -> Result<()> {
        self.writer
            .exec()
            .execute(Statement::new(
                "DELETE FROM datasets_dataset_labels WHERE dataset_id = $1 AND dataset_label_id = $2",
                [dataset_id.into(), label_id.into()],
            ))
            .await?;
        Ok(())
    }
}
