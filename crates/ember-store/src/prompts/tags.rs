//! Prompt version tags: a name points at one version per prompt; tagging another version of
//! the same prompt with the name moves it.

use super::prompt_of_version;
use crate::engine::backend::{Row, Statement};
use crate::error::Result;
use crate::spans::records::Page;
use crate::Store;

#[derive(Debug, Clone, PartialEq)]
pub struct PromptVersionTagRecord {
    pub id: i64,
    pub prompt_version_id: i64,
    pub name: String,
    pub description: Option<String>,
}

impl PromptVersionTagRecord {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(PromptVersionTagRecord { id: row.get(0)?, prompt_version_id: row.get(1)?, name: row.get(2)?, description: row.get(3)? })
    }
}

impl Store {
    /// The tags pointing at a version, newest first; `cursor` is the id of the page's first.
    pub async fn list_prompt_version_tags(
        &self,
        version_id: i64,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<PromptVersionTagRecord>> {
        let sql = format!(
            "SELECT id, prompt_version_id, name, description FROM prompt_version_tags \
             WHERE prompt_version_id = $1 AND id <= $2 ORDER BY id DESC LIMIT {}",
            limit + 1
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [version_id.into(), cursor.unwrap_or(i64::MAX).into()])).await?;
        let tags = rows.iter().map(PromptVersionTagRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(tags, limit, |tag| tag.id))
    }

    pub async fn get_prompt_version_tag(&self, id: i64) -> Result<Option<PromptVersionTagRecord>> {
        let sql = "SELECT id, prompt_version_id, name, description FROM prompt_version_tags WHERE id = $1";
        self.reader
            .exec()
            .fetch_optional(Statement::new(sql, [id.into()]))
            .await?
            .as_ref()
            .map(PromptVersionTagRecord::from_row)
            .transpose()
    }

    /// Every tag of a prompt (one per name), by name.
    pub async fn prompt_tags(&self, prompt_id: i64) -> Result<Vec<PromptVersionTagRecord>> {
        let sql = "SELECT id, prompt_version_id, name, description FROM prompt_version_tags WHERE prompt_id = $1 ORDER BY name";
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [prompt_id.into()])).await?;
        rows.iter().map(PromptVersionTagRecord::from_row).collect()
    }

    /// Points the prompt's tag `name` at the version (moving it from another version of the
    /// prompt) with this description; `NotFound` when there is no such version.
    pub async fn set_prompt_version_tag(&self, version_id: i64, name: &str, description: Option<&str>) -> Result<PromptVersionTagRecord> {
        let prompt_id = prompt_of_version(self, version_id).await?;
        let row = self
            .writer
            .exec()
            .fetch_one(Statement::new(
                "INSERT INTO prompt_version_tags (name, description, prompt_id, prompt_version_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name, prompt_id) DO UPDATE SET prompt_version_id = excluded.prompt_version_id, description = excluded.description \
                 RETURNING id, prompt_version_id, name, description",
                [name.into(), description.map(str::to_string).into(), prompt_id.into(), version_id.into()],
            ))
            .await?;
        PromptVersionTagRecord::from_row(&row)
    }

    /// Removes the tag `name` of the version's prompt (whichever version it points at, as
    /// Phoenix resolves it); false when the prompt has no such tag, `NotFound` when there is no
    /// such version.
    pub async fn delete_prompt_version_tag(&self, version_id: i64, name: &str) -> Result<bool> {
        let prompt_id = prompt_of_version(self, version_id).await?;
        let sql = "DELETE FROM prompt_version_tags WHERE prompt_id = $1 AND name = $2";
        Ok(self.writer.exec().execute(Statement::new(sql, [prompt_id.into(), name.into()])).await? > 0)
    }
}
