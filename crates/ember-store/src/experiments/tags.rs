//! Experiment tags: names scoped to the experiment's dataset, each pointing at one experiment;
//! assigning a tag another experiment owns moves it.

use crate::engine::backend::{Row, Statement};
use crate::error::Result;
use crate::Store;

/// A tag pointing at an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentTagRecord {
    pub id: i64,
    pub experiment_id: i64,
    pub name: String,
    pub description: Option<String>,
}

impl ExperimentTagRecord {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(ExperimentTagRecord { id: row.get(0)?, experiment_id: row.get(1)?, name: row.get(2)?, description: row.get(3)? })
    }
}

impl Store {
    /// The tags pointing at the experiment, by name.
    pub async fn list_experiment_tags(&self, experiment_id: i64) -> Result<Vec<ExperimentTagRecord>> {
        let rows = self
            .reader
            .exec()
            .fetch_all(Statement::new(
                "SELECT id, experiment_id, name, description FROM experiment_tags WHERE experiment_id = $1 ORDER BY name",
                [experiment_id.into()],
            ))
            .await?;
        rows.iter().map(ExperimentTagRecord::from_row).collect()
    }

    /// Points the dataset's tag `name` at the experiment (moving it from another), replacing
    /// its description.
    pub async fn set_experiment_tag(
        &self,
        experiment_id: i64,
        dataset_id: i64,
        name: &str,
        description: Option<&str>,
    ) -> Result<ExperimentTagRecord> {
        let row = self
            .writer
            .exec()
            .fetch_one(Statement::new(
                "INSERT INTO experiment_tags (experiment_id, dataset_id, name, description) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (dataset_id, name) DO UPDATE SET experiment_id = excluded.experiment_id, description = excluded.description \
                 RETURNING id, experiment_id, name, description",
                [experiment_id.into(), dataset_id.into(), name.into(), description.map(str::to_string).into()],
            ))
            .await?;
        ExperimentTagRecord::from_row(&row)
    }

    /// Removes the tag with this id or name if the experiment owns it; false when it did not.
    pub async fn delete_experiment_tag(&self, experiment_id: i64, tag_id: Option<i64>, name: &str) -> Result<bool> {
        let deleted = self
            .writer
            .exec()
            .execute(Statement::new(
                "DELETE FROM experiment_tags WHERE experiment_id = $1 AND (id = $2 OR name = $3)",
                [experiment_id.into(), tag_id.unwrap_or(-1).into(), name.into()],
            ))
            .await?;
        Ok(deleted > 0)
    }
}
