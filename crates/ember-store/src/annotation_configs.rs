//! Annotation configs and their assignment to projects. The config body (type, bounds, values)
//! is validated by the API layer and stored as JSON.

use serde_json::Value;

use crate::engine::backend::{Exec, Row, Statement};
use crate::engine::dialect::Dialect;
use crate::error::{Result, StoreError};
use crate::spans::records::Page;
use crate::Store;

/// A stored annotation config.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationConfig {
    pub id: i64,
    pub name: String,
    /// Everything but the name and id: `type`, `description`, `optimization_direction`, ...
    pub config: Value,
}

impl AnnotationConfig {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(AnnotationConfig { id: row.get(0)?, name: row.get(1)?, config: serde_json::from_str(&row.get::<String, _>(2)?)? })
    }
}

impl Store {
    fn config_columns(&self, alias: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("{alias}.id, {alias}.name, {alias}.config"),
            Dialect::Postgres => format!("{alias}.id, {alias}.name, CAST({alias}.config AS TEXT)"),
        }
    }

    fn config_value(&self, n: usize) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("${n}"),
            Dialect::Postgres => format!("CAST(${n} AS JSONB)"),
        }
    }

    /// Every annotation config, newest first; `cursor` is the id of the page's first.
    pub async fn list_annotation_configs(&self, cursor: Option<i64>, limit: usize) -> Result<Page<AnnotationConfig>> {
        let sql = format!(
            "SELECT {} FROM annotation_configs AS c WHERE c.id <= $1 ORDER BY c.id DESC LIMIT {}",
            self.config_columns("c"),
            limit + 1
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [cursor.unwrap_or(i64::MAX).into()])).await?;
        let configs = rows.iter().map(AnnotationConfig::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(configs, limit, |config| config.id))
    }

    /// The config with this id, or else this name.
    pub async fn get_annotation_config(&self, id: Option<i64>, name: Option<&str>) -> Result<Option<AnnotationConfig>> {
        let (condition, value) = match (id, name) {
            (Some(id), _) => ("c.id = $1", sea_query::Value::from(id)),
            (None, Some(name)) => ("c.name = $1", name.into()),
            (None, None) => return Ok(None),
        };
        let sql = format!("SELECT {} FROM annotation_configs AS c WHERE {condition}", self.config_columns("c"));
        self.reader.exec().fetch_optional(Statement::new(sql, [value])).await?.as_ref().map(AnnotationConfig::from_row).transpose()
    }

    /// Creates a config; `Conflict` when the name is taken.
    pub async fn create_annotation_config(&self, name: &str, config: &Value) -> Result<AnnotationConfig> {
        let sql = format!(
            "INSERT INTO annotation_configs (name, config) VALUES ($1, {}) ON CONFLICT (name) DO NOTHING RETURNING {}",
            self.config_value(2),
            self.config_columns("annotation_configs")
        );
        match self.writer.exec().fetch_optional(Statement::new(sql, [name.into(), config.to_string().into()])).await? {
            Some(row) => AnnotationConfig::from_row(&row),
            None => Err(name_taken(name)),
        }
    }

    /// Replaces a config's name and body; `NotFound` or `Conflict`.
    pub async fn update_annotation_config(&self, id: i64, name: &str, config: &Value) -> Result<AnnotationConfig> {
        let mut tx = self.writer.begin().await?;
        let taken = tx
            .exec()
            .fetch_optional(Statement::new("SELECT id FROM annotation_configs WHERE name = $1 AND id <> $2", [name.into(), id.into()]))
            .await?;
        if taken.is_some() {
            return Err(name_taken(name));
        }
        let sql = format!(
            "UPDATE annotation_configs SET name = $1, config = {} WHERE id = $3 RETURNING {}",
            self.config_value(2),
            self.config_columns("annotation_configs")
        );
        let updated = tx.exec().fetch_optional(Statement::new(sql, [name.into(), config.to_string().into(), id.into()])).await?;
        let updated = updated.as_ref().map(AnnotationConfig::from_row).transpose()?.ok_or_else(|| config_not_found(id))?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Deletes a config (and its project assignments); returns it.
    pub async fn delete_annotation_config(&self, id: i64) -> Result<AnnotationConfig> {
        let sql = format!("DELETE FROM annotation_configs WHERE id = $1 RETURNING {}", self.config_columns("annotation_configs"));
        let deleted = self.writer.exec().fetch_optional(Statement::new(sql, [id.into()])).await?;
        deleted.as_ref().map(AnnotationConfig::from_row).transpose()?.ok_or_else(|| config_not_found(id))
    }

    /// The configs assigned to a project, newest config first.
    pub async fn list_project_annotation_configs(
        &self,
        project_id: i64,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<Page<AnnotationConfig>> {
        let sql = format!(
            "SELECT {} FROM project_annotation_configs AS p JOIN annotation_configs AS c ON c.id = p.annotation_config_id \
             WHERE p.project_id = $1 AND c.id <= $2 ORDER BY c.id DESC LIMIT {}",
            self.config_columns("c"),
            limit + 1
        );
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [project_id.into(), cursor.unwrap_or(i64::MAX).into()])).await?;
        let configs = rows.iter().map(AnnotationConfig::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(configs, limit, |config| config.id))
    }

    /// Offers a config on a project (a no-op when it already is).
    pub async fn assign_annotation_config(&self, project_id: i64, config_id: i64) -> Result<()> {
        assign(self.writer.exec(), project_id, config_id).await
    }

    /// Stops offering a config on a project; `false` when it was not.
    pub async fn unassign_annotation_config(&self, project_id: i64, config_id: i64) -> Result<bool> {
        let statement = Statement::new(
            "DELETE FROM project_annotation_configs WHERE project_id = $1 AND annotation_config_id = $2",
            [project_id.into(), config_id.into()],
        );
        Ok(self.writer.exec().execute(statement).await? > 0)
    }

    /// Makes `config_ids` the project's whole set of configs, in one transaction.
    pub async fn set_project_annotation_configs(&self, project_id: i64, config_ids: &[i64]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let current: Vec<i64> = tx
            .exec()
            .fetch_all(Statement::new(
                "SELECT annotation_config_id FROM project_annotation_configs WHERE project_id = $1",
                [project_id.into()],
            ))
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect::<Result<_>>()?;
        for id in current.iter().filter(|id| !config_ids.contains(id)) {
            tx.exec()
                .execute(Statement::new(
                    "DELETE FROM project_annotation_configs WHERE project_id = $1 AND annotation_config_id = $2",
                    [project_id.into(), (*id).into()],
                ))
                .await?;
        }
        for id in config_ids.iter().filter(|id| !current.contains(id)) {
            assign(tx.exec(), project_id, *id).await?;
        }
        tx.commit().await
    }
}

async fn assign(exec: Exec<'_>, project_id: i64, config_id: i64) -> Result<()> {
    let statement = Statement::new(
        "INSERT INTO project_annotation_configs (project_id, annotation_config_id) VALUES ($1, $2) \
         ON CONFLICT (project_id, annotation_config_id) DO NOTHING",
        [project_id.into(), config_id.into()],
    );
    exec.execute(statement).await?;
    Ok(())
}

fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!("an annotation config named {name:?} already exists"))
}

fn config_not_found(id: i64) -> StoreError {
    StoreError::NotFound(format!("annotation config {id} not found"))
}
