//! Prompt labels (a unique name, a color, a description) and the labels applied to each prompt.

use crate::engine::backend::{Row, Statement};
use crate::error::{Result, StoreError};
use crate::spans::records::Page;
use crate::Store;

#[derive(Debug, Clone, PartialEq)]
pub struct PromptLabelRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub color: String,
}

/// What a label patch changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PromptLabelChanges {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
}

const COLUMNS: &str = "l.id, l.name, l.description, l.color";

impl PromptLabelRecord {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(PromptLabelRecord { id: row.get(0)?, name: row.get(1)?, description: row.get(2)?, color: row.get(3)? })
    }
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!("a prompt label named {name:?} already exists"))
}

impl Store {
    /// Labels newest first; `cursor` is the id of the page's first.
    pub async fn list_prompt_labels(&self, cursor: Option<i64>, limit: usize) -> Result<Page<PromptLabelRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM prompt_labels AS l WHERE l.id <= $1 ORDER BY l.id DESC LIMIT {}", limit + 1);
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [cursor.unwrap_or(i64::MAX).into()])).await?;
        let labels = rows.iter().map(PromptLabelRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(labels, limit, |label| label.id))
    }

    pub async fn get_prompt_label(&self, id: i64) -> Result<Option<PromptLabelRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM prompt_labels AS l WHERE l.id = $1");
        self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(PromptLabelRecord::from_row).transpose()
    }

    /// Creates a label; `Conflict` when the name is taken.
    pub async fn create_prompt_label(&self, name: &str, description: Option<&str>, color: &str) -> Result<PromptLabelRecord> {
        let sql = "INSERT INTO prompt_labels (name, description, color) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING \
                   RETURNING id, name, description, color";
        let values = [name.into(), description.map(str::to_string).into(), color.into()];
        match self.writer.exec().fetch_optional(Statement::new(sql, values)).await? {
            Some(row) => PromptLabelRecord::from_row(&row),
            None => Err(name_taken(name)),
        }
    }

    /// Changes a label; `None` when there is none, `Conflict` when the new name is taken.
    pub async fn patch_prompt_label(&self, id: i64, changes: &PromptLabelChanges) -> Result<Option<PromptLabelRecord>> {
        let mut tx = self.writer.begin().await?;
        let sql = format!("SELECT {COLUMNS} FROM prompt_labels AS l WHERE l.id = $1");
        let Some(row) = tx.exec().fetch_optional(Statement::new(sql, [id.into()])).await? else { return Ok(None) };
        let mut label = PromptLabelRecord::from_row(&row)?;
        if let Some(name) = changes.name.as_ref().filter(|name| **name != label.name) {
            let taken = "SELECT 1 FROM prompt_labels WHERE name = $1";
            if tx.exec().fetch_optional(Statement::new(taken, [name.as_str().into()])).await?.is_some() {
                return Err(name_taken(name));
            }
            label.name = name.clone();
        }
        if let Some(description) = &changes.description {
            label.description = description.clone();
        }
        let values = [label.name.as_str().into(), label.description.clone().into(), id.into()];
        tx.exec().execute(Statement::new("UPDATE prompt_labels SET name = $1, description = $2 WHERE id = $3", values)).await?;
        tx.commit().await?;
        Ok(Some(label))
    }

    /// Deletes labels, taking them off every prompt; returns the ids that existed.
    pub async fn delete_prompt_labels(&self, ids: &[i64]) -> Result<Vec<i64>> {
        let mut tx = self.writer.begin().await?;
        let mut deleted = Vec::new();
        for id in ids {
            let sql = "DELETE FROM prompt_labels WHERE id = $1";
            if tx.exec().execute(Statement::new(sql, [(*id).into()])).await? > 0 {
                deleted.push(*id);
            }
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// The labels applied to a prompt, by id.
    pub async fn labels_of_prompt(&self, prompt_id: i64) -> Result<Vec<PromptLabelRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM prompt_labels AS l JOIN prompts_prompt_labels AS pl ON pl.prompt_label_id = l.id \
             WHERE pl.prompt_id = $1 ORDER BY l.id"
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [prompt_id.into()])).await?;
        rows.iter().map(PromptLabelRecord::from_row).collect()
    }

    /// The labels of each of the prompts (one query per thousand prompts), by prompt and label id.
    pub async fn labels_of_prompts(&self, prompt_ids: &[i64]) -> Result<Vec<(i64, PromptLabelRecord)>> {
        let mut labels = Vec::new();
        for chunk in prompt_ids.chunks(1000) {
            let sql = format!(
                "SELECT {COLUMNS}, pl.prompt_id FROM prompt_labels AS l JOIN prompts_prompt_labels AS pl ON pl.prompt_label_id = l.id \
                 WHERE pl.prompt_id IN ({}) ORDER BY pl.prompt_id, l.id",
                self.dialect.placeholders(1, chunk.len())
            );
            for row in self.reader.exec().fetch_all(Statement::new(sql, chunk.iter().map(|id| (*id).into()))).await? {
                labels.push((row.get(4)?, PromptLabelRecord::from_row(&row)?));
            }
        }
        Ok(labels)
    }

    /// How many prompts carry the label.
    pub async fn prompt_label_usage(&self, label_id: i64) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM prompts_prompt_labels WHERE prompt_label_id = $1";
        self.reader.exec().fetch_one(Statement::new(sql, [label_id.into()])).await?.get(0)
    }

    /// Applies labels to a prompt (those applied already stay); `NotFound` naming the first
    /// unknown label, with nothing changed.
    pub async fn add_prompt_labels(&self, prompt_id: i64, label_ids: &[i64]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for label_id in label_ids {
            let found = tx.exec().fetch_optional(Statement::new("SELECT 1 FROM prompt_labels WHERE id = $1", [(*label_id).into()])).await?;
            if found.is_none() {
                return Err(StoreError::NotFound(format!("prompt label {label_id}")));
            }
            tx.exec()
                .execute(Statement::new(
                    "INSERT INTO prompts_prompt_labels (prompt_id, prompt_label_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    [prompt_id.into(), (*label_id).into()],
                ))
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes labels off a prompt (those not applied are ignored).
    pub async fn remove_prompt_labels(&self, prompt_id: i64, label_ids: &[i64]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for label_id in label_ids {
            tx.exec()
                .execute(Statement::new(
                    "DELETE FROM prompts_prompt_labels WHERE prompt_id = $1 AND prompt_label_id = $2",
                    [prompt_id.into(), (*label_id).into()],
                ))
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
