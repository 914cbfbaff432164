//! The prompt hub: prompts (a unique name), their versions (immutable: a change is a new
//! version) and tags (a name pointing at one version per prompt; see [`tags`]).

mod labels;
mod tags;

use ember_core::time::now_nanos;
use serde_json::Value;

pub use labels::{PromptLabelChanges, PromptLabelRecord};
pub use tags::PromptVersionTagRecord;

use sea_query::{Alias, Expr, Query};

use crate::engine::backend::{Row, Statement};
use crate::engine::dialect::json_value;
use crate::engine::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::projects::escape_like;
use crate::spans::records::Page;
use crate::Store;

#[derive(Debug, Clone, PartialEq)]
pub struct PromptRecord {
    pub id: i64,
    pub source_prompt_id: Option<i64>,
    pub name: String,
    pub description: Option<String>,
    pub metadata: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A prompt to create when its name is free.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPrompt<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub metadata: &'a Value,
    pub source_prompt_id: Option<i64>,
}

/// A prompt version's content, validated by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptVersionInput {
    pub description: Option<String>,
    /// `CHAT` or `STR`.
    pub template_type: String,
    /// `MUSTACHE`, `F_STRING` or `NONE`.
    pub template_format: String,
    pub template: Value,
    pub invocation_parameters: Value,
    pub tools: Option<Value>,
    pub response_format: Option<Value>,
    pub model_provider: String,
    pub model_name: String,
    pub metadata: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PromptVersionRecord {
    pub id: i64,
    pub prompt_id: i64,
    pub content: PromptVersionInput,
    /// Who wrote the version (`None` without authentication, or once the user is deleted).
    pub user_id: Option<i64>,
    pub created_at: i64,
}

/// Which prompts a list keeps: names containing a fragment (any case), and prompts carrying any
/// of the labels.
#[derive(Debug, Clone, Copy, Default)]
pub struct PromptFilter<'a> {
    pub name_contains: Option<&'a str>,
    pub label_ids: &'a [i64],
}

/// Which changes a prompt patch makes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptChanges {
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub metadata: Option<Value>,
}

/// A version's content as PostgreSQL `JSON`, which keeps keys in the order they were sent (JSONB
/// would sort them, changing e.g. the text a tool result renders to).
impl PromptRecord {
    fn columns(dialect: Dialect) -> String {
        format!("p.id, p.source_prompt_id, p.name, p.description, {}, p.created_at, p.updated_at", dialect.json_text("p.metadata"))
    }

    fn from_row(row: &Row) -> Result<Self> {
        Ok(PromptRecord {
            id: row.get(0)?,
            source_prompt_id: row.get(1)?,
            name: row.get(2)?,
            description: row.get(3)?,
            metadata: serde_json::from_str(&row.get::<String, _>(4)?)?,
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
        })
    }
}

impl PromptVersionRecord {
    fn columns(dialect: Dialect) -> String {
        format!(
            "v.id AS id, v.prompt_id AS prompt_id, v.description AS description, v.template_type AS template_type, \
             v.template_format AS template_format, {} AS template, {} AS invocation_parameters, {} AS tools, {} AS response_format, \
             v.model_provider AS model_provider, v.model_name AS model_name, {} AS metadata, v.user_id AS user_id, \
             v.created_at AS created_at",
            dialect.json_text("v.template"),
            dialect.json_text("v.invocation_parameters"),
            dialect.json_text("v.tools"),
            dialect.json_text("v.response_format"),
            dialect.json_text("v.metadata"),
        )
    }

    fn from_row(row: &Row) -> Result<Self> {
        let optional_json = |name: &str| -> Result<Option<Value>> {
            row.get::<Option<String>, _>(name)?.map(|text| serde_json::from_str(&text)).transpose().map_err(Into::into)
        };
        Ok(PromptVersionRecord {
            id: row.get("id")?,
            prompt_id: row.get("prompt_id")?,
            content: PromptVersionInput {
                description: row.get("description")?,
                template_type: row.get("template_type")?,
                template_format: row.get("template_format")?,
                template: serde_json::from_str(&row.get::<String, _>("template")?)?,
                invocation_parameters: serde_json::from_str(&row.get::<String, _>("invocation_parameters")?)?,
                tools: optional_json("tools")?,
                response_format: optional_json("response_format")?,
                model_provider: row.get("model_provider")?,
                model_name: row.get("model_name")?,
                metadata: serde_json::from_str(&row.get::<String, _>("metadata")?)?,
            },
            user_id: row.get("user_id")?,
            created_at: row.get("created_at")?,
        })
    }
}

impl Store {
    /// Adds a version written by `author` to the prompt named `prompt.name`, creating the prompt
    /// when there is none (an existing prompt keeps its description and metadata, as in
    /// Phoenix), in one transaction.
    pub async fn create_prompt_version(
        &self,
        prompt: &NewPrompt<'_>,
        version: &PromptVersionInput,
        author: Option<i64>,
    ) -> Result<(PromptRecord, PromptVersionRecord)> {
        let d = self.dialect;
        let now = now_nanos();
        let mut tx = self.writer.begin().await?;
        let insert_prompt = format!(
            "INSERT INTO prompts (source_prompt_id, name, description, metadata, created_at, updated_at) VALUES ($1, $2, $3, {}, $5, $5) \
             ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
            d.json_param("$4")
        );
        let values = [
            prompt.source_prompt_id.into(),
            prompt.name.into(),
            prompt.description.map(str::to_string).into(),
            prompt.metadata.to_string().into(),
            now.into(),
        ];
        let prompt_id: i64 = tx.exec().fetch_one(Statement::new(insert_prompt, values)).await?.get(0)?;
        let insert_version = format!(
            "INSERT INTO prompt_versions (prompt_id, description, template_type, template_format, template, invocation_parameters, \
             tools, response_format, model_provider, model_name, metadata, created_at, user_id) \
             VALUES ($1, $2, $3, $4, {}, {}, {}, {}, $9, $10, {}, $12, $13) RETURNING id",
            d.ordered_json_param("$5"),
            d.ordered_json_param("$6"),
            d.ordered_json_param("$7"),
            d.ordered_json_param("$8"),
            d.json_param("$11"),
        );
        let values = [
            prompt_id.into(),
            version.description.clone().into(),
            version.template_type.as_str().into(),
            version.template_format.as_str().into(),
            version.template.to_string().into(),
            version.invocation_parameters.to_string().into(),
            version.tools.as_ref().map(Value::to_string).into(),
            version.response_format.as_ref().map(Value::to_string).into(),
            version.model_provider.as_str().into(),
            version.model_name.as_str().into(),
            version.metadata.to_string().into(),
            now.into(),
            author.into(),
        ];
        let version_id: i64 = tx.exec().fetch_one(Statement::new(insert_version, values)).await?.get(0)?;
        let select_prompt = format!("SELECT {} FROM prompts AS p WHERE p.id = $1", PromptRecord::columns(d));
        let stored_prompt = PromptRecord::from_row(&tx.exec().fetch_one(Statement::new(select_prompt, [prompt_id.into()])).await?)?;
        tx.commit().await?;
        let stored_version = PromptVersionRecord { id: version_id, prompt_id, content: version.clone(), user_id: author, created_at: now };
        Ok((stored_prompt, stored_version))
    }

    /// Prompts newest first, those `filter` keeps; `cursor` is the id of the page's first.
    pub async fn list_prompts(&self, cursor: Option<i64>, limit: usize, filter: &PromptFilter<'_>) -> Result<Page<PromptRecord>> {
        // Numbered by the dialect throughout: SQLite's `?` cannot mix with `$n`.
        let mut conditions = vec![format!("p.id <= {}", self.dialect.placeholder(1))];
        let mut values: Vec<sea_query::Value> = vec![cursor.unwrap_or(i64::MAX).into()];
        if let Some(fragment) = filter.name_contains.filter(|fragment| !fragment.is_empty()) {
            values.push(format!("%{}%", escape_like(&fragment.to_lowercase())).into());
            conditions.push(format!("LOWER(p.name) LIKE {} ESCAPE '\\'", self.dialect.placeholder(values.len())));
        }
        if !filter.label_ids.is_empty() {
            let labels = self.dialect.placeholders(values.len() + 1, filter.label_ids.len());
            values.extend(filter.label_ids.iter().map(|id| sea_query::Value::from(*id)));
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM prompts_prompt_labels AS pl WHERE pl.prompt_id = p.id AND pl.prompt_label_id IN ({labels}))"
            ));
        }
        let sql = format!(
            "SELECT {} FROM prompts AS p WHERE {} ORDER BY p.id DESC LIMIT {}",
            PromptRecord::columns(self.dialect),
            conditions.join(" AND "),
            limit + 1
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, values)).await?;
        let prompts = rows.iter().map(PromptRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(prompts, limit, |prompt| prompt.id))
    }

    pub async fn get_prompt(&self, id: i64) -> Result<Option<PromptRecord>> {
        let sql = format!("SELECT {} FROM prompts AS p WHERE p.id = $1", PromptRecord::columns(self.dialect));
        self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(PromptRecord::from_row).transpose()
    }

    pub async fn get_prompt_by_name(&self, name: &str) -> Result<Option<PromptRecord>> {
        let sql = format!("SELECT {} FROM prompts AS p WHERE p.name = $1", PromptRecord::columns(self.dialect));
        self.reader.exec().fetch_optional(Statement::new(sql, [name.into()])).await?.as_ref().map(PromptRecord::from_row).transpose()
    }

    /// Changes a prompt's description and metadata; `None` when there is no such prompt.
    pub async fn patch_prompt(&self, id: i64, changes: &PromptChanges) -> Result<Option<PromptRecord>> {
        let mut update = Query::update();
        update.table(Alias::new("prompts")).value(Alias::new("updated_at"), now_nanos());
        if let Some(description) = &changes.description {
            update.value(Alias::new("description"), description.clone());
        }
        if let Some(metadata) = &changes.metadata {
            update.value(Alias::new("metadata"), json_value(self.dialect, metadata));
        }
        update.and_where(Expr::col(Alias::new("id")).eq(id));
        if self.writer.exec().execute(self.build(&update)).await? == 0 {
            return Ok(None);
        }
        self.get_prompt(id).await
    }

    /// Deletes a prompt with its versions and tags; false when there was none.
    pub async fn delete_prompt(&self, id: i64) -> Result<bool> {
        Ok(self.writer.exec().execute(Statement::new("DELETE FROM prompts WHERE id = $1", [id.into()])).await? > 0)
    }

    /// A prompt's versions newest first; `cursor` is the id of the page's first.
    pub async fn list_prompt_versions(&self, prompt_id: i64, cursor: Option<i64>, limit: usize) -> Result<Page<PromptVersionRecord>> {
        let sql = format!(
            "SELECT {} FROM prompt_versions AS v WHERE v.prompt_id = $1 AND v.id <= $2 ORDER BY v.id DESC LIMIT {}",
            PromptVersionRecord::columns(self.dialect),
            limit + 1
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [prompt_id.into(), cursor.unwrap_or(i64::MAX).into()])).await?;
        let versions = rows.iter().map(PromptVersionRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(versions, limit, |version| version.id))
    }

    pub async fn get_prompt_version(&self, id: i64) -> Result<Option<PromptVersionRecord>> {
        let sql = format!("SELECT {} FROM prompt_versions AS v WHERE v.id = $1", PromptVersionRecord::columns(self.dialect));
        self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(PromptVersionRecord::from_row).transpose()
    }

    /// The prompt's newest version.
    pub async fn latest_prompt_version(&self, prompt_id: i64) -> Result<Option<PromptVersionRecord>> {
        let sql = format!(
            "SELECT {} FROM prompt_versions AS v WHERE v.prompt_id = $1 ORDER BY v.id DESC LIMIT 1",
            PromptVersionRecord::columns(self.dialect)
        );
        self.reader
            .exec()
            .fetch_optional(Statement::new(sql, [prompt_id.into()]))
            .await?
            .as_ref()
            .map(PromptVersionRecord::from_row)
            .transpose()
    }

    /// The version the prompt's tag `name` points at.
    pub async fn prompt_version_by_tag(&self, prompt_id: i64, name: &str) -> Result<Option<PromptVersionRecord>> {
        let sql = format!(
            "SELECT {} FROM prompt_version_tags AS t JOIN prompt_versions AS v ON v.id = t.prompt_version_id \
             WHERE t.prompt_id = $1 AND t.name = $2",
            PromptVersionRecord::columns(self.dialect)
        );
        self.reader
            .exec()
            .fetch_optional(Statement::new(sql, [prompt_id.into(), name.into()]))
            .await?
            .as_ref()
            .map(PromptVersionRecord::from_row)
            .transpose()
    }
}

/// A version id's prompt, for the tag paths; `NotFound` when there is no such version.
pub(crate) async fn prompt_of_version(store: &Store, version_id: i64) -> Result<i64> {
    store
        .reader
        .exec()
        .fetch_optional(Statement::new("SELECT prompt_id FROM prompt_versions WHERE id = $1", [version_id.into()]))
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("prompt version {version_id} not found")))?
        .get(0)
}
