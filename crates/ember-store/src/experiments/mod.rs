//! Experiments over a dataset version (see migration `experiments`): each fixes the examples it
//! runs over when it is created, gets a project for its traces, and collects runs (one per
//! example and repetition) and their evaluations.

mod evaluations;
mod export;
mod runs;
mod summaries;
mod tags;

use serde_json::Value;

pub use evaluations::{ExperimentEvaluationInput, ExperimentEvaluationRecord, IncompleteEvaluation};
pub use export::ExportedRun;
pub use runs::{ExperimentRunInput, ExperimentRunRecord, IncompleteRuns, RunWrite};
pub use summaries::{EvaluationSummary, ExperimentSummary};
pub use tags::ExperimentTagRecord;

use crate::datasets::latest_revision_at;
use sea_query::{Alias, Expr, Query};

use crate::engine::backend::{Row, Statement, Transaction};
use crate::engine::dialect::json_value;
use crate::error::{Result, StoreError};
use crate::spans::records::Page;
use crate::Store;

/// A stored experiment with its run counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRecord {
    pub id: i64,
    pub dataset_id: i64,
    pub dataset_version_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub repetitions: i64,
    pub metadata: Value,
    pub project_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Examples the experiment runs over.
    pub example_count: i64,
    pub successful_run_count: i64,
    pub failed_run_count: i64,
}

impl ExperimentRecord {
    /// Runs not yet recorded: one per example and repetition, less those recorded.
    pub fn missing_run_count(&self) -> i64 {
        (self.example_count * self.repetitions - self.successful_run_count - self.failed_run_count).max(0)
    }

    fn select(store: &Store) -> String {
        format!(
            "SELECT x.id AS id, x.dataset_id AS dataset_id, x.dataset_version_id AS dataset_version_id, x.name AS name, \
             x.description AS description, x.repetitions AS repetitions, {} AS metadata, x.project_name AS project_name, \
             x.created_at AS created_at, x.updated_at AS updated_at, \
             (SELECT COUNT(*) FROM experiments_dataset_examples AS m WHERE m.experiment_id = x.id) AS example_count, \
             (SELECT COUNT(*) FROM experiment_runs AS r WHERE r.experiment_id = x.id AND r.error IS NULL) AS successful_run_count, \
             (SELECT COUNT(*) FROM experiment_runs AS r WHERE r.experiment_id = x.id AND r.error IS NOT NULL) AS failed_run_count \
             FROM experiments AS x",
            store.dialect.json_text("x.metadata")
        )
    }

    fn from_row(row: &Row) -> Result<Self> {
        Ok(ExperimentRecord {
            id: row.get("id")?,
            dataset_id: row.get("dataset_id")?,
            dataset_version_id: row.get("dataset_version_id")?,
            name: row.get("name")?,
            description: row.get("description")?,
            repetitions: row.get("repetitions")?,
            metadata: serde_json::from_str(&row.get::<String, _>("metadata")?)?,
            project_name: row.get("project_name")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            example_count: row.get("example_count")?,
            successful_run_count: row.get("successful_run_count")?,
            failed_run_count: row.get("failed_run_count")?,
        })
    }
}

/// What identifies an experiment and what its runs are checked against, read without counting.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentKey {
    pub id: i64,
    pub dataset_id: i64,
    pub name: String,
    pub repetitions: i64,
}

/// What a new experiment is.
#[derive(Debug, Clone)]
pub struct NewExperiment<'a> {
    pub dataset_id: i64,
    pub dataset_version_id: i64,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub metadata: &'a Value,
    pub repetitions: i64,
    /// Only the examples in one of these splits; all when empty.
    pub split_ids: &'a [i64],
    /// The project its traces go to, created with it.
    pub project_name: &'a str,
    pub project_description: &'a str,
}

/// What an experiment update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ExperimentChanges {
    pub name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub metadata: Option<Value>,
}

impl Store {
    /// Creates an experiment, its project and its set of examples (those alive at its version,
    /// narrowed by its splits), in one transaction.
    pub async fn create_experiment(&self, new: NewExperiment<'_>) -> Result<ExperimentRecord> {
        let now = ember_core::time::now_nanos();
        let mut tx = self.writer.begin().await?;
        let sql = format!(
            "INSERT INTO experiments (dataset_id, dataset_version_id, name, description, repetitions, metadata, project_name, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, {}, $7, $8, $8) RETURNING id",
            self.dialect.json_param("$6")
        );
        let values = [
            new.dataset_id.into(),
            new.dataset_version_id.into(),
            new.name.into(),
            new.description.map(str::to_string).into(),
            new.repetitions.into(),
            new.metadata.to_string().into(),
            new.project_name.into(),
            now.into(),
        ];
        let experiment_id: i64 = tx.exec().fetch_one(Statement::new(sql, values)).await?.get(0)?;
        tx.exec()
            .execute(Statement::new(
                "INSERT INTO projects (name, description, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (name) DO NOTHING",
                [new.project_name.into(), new.project_description.into(), now.into()],
            ))
            .await?;
        for split_id in new.split_ids {
            tx.exec()
                .execute(Statement::new(
                    "INSERT INTO experiments_dataset_splits (experiment_id, dataset_split_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    [experiment_id.into(), (*split_id).into()],
                ))
                .await?;
        }
        let mut sql = format!(
            "INSERT INTO experiments_dataset_examples (experiment_id, dataset_example_id, dataset_example_revision_id) \
             SELECT $1, e.id, r.id FROM dataset_examples AS e JOIN dataset_example_revisions AS r ON r.id = {} \
             WHERE e.dataset_id = $3 AND r.revision_kind <> 'DELETE'",
            latest_revision_at("e.id", "$2")
        );
        if !new.split_ids.is_empty() {
            sql.push_str(
                " AND e.id IN (SELECT m.dataset_example_id FROM dataset_splits_dataset_examples AS m \
                 JOIN experiments_dataset_splits AS xs ON xs.dataset_split_id = m.dataset_split_id WHERE xs.experiment_id = $1)",
            );
        }
        tx.exec().execute(Statement::new(sql, [experiment_id.into(), new.dataset_version_id.into(), new.dataset_id.into()])).await?;
        let experiment =
            self.experiment_in(&mut tx, experiment_id).await?.ok_or_else(|| StoreError::Corrupt("experiment vanished".into()))?;
        tx.commit().await?;
        Ok(experiment)
    }

    async fn experiment_in(&self, tx: &mut Transaction, id: i64) -> Result<Option<ExperimentRecord>> {
        let sql = format!("{} WHERE x.id = $1", ExperimentRecord::select(self));
        tx.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(ExperimentRecord::from_row).transpose()
    }

    pub async fn get_experiment(&self, id: i64) -> Result<Option<ExperimentRecord>> {
        let sql = format!("{} WHERE x.id = $1", ExperimentRecord::select(self));
        self.reader.exec().fetch_optional(Statement::new(sql, [id.into()])).await?.as_ref().map(ExperimentRecord::from_row).transpose()
    }

    /// The experiment's key, without the run counts (which grow with its runs).
    pub async fn get_experiment_key(&self, id: i64) -> Result<Option<ExperimentKey>> {
        let row = self
            .reader
            .exec()
            .fetch_optional(Statement::new("SELECT id, dataset_id, name, repetitions FROM experiments WHERE id = $1", [id.into()]))
            .await?;
        row.map(|row| Ok(ExperimentKey { id: row.get(0)?, dataset_id: row.get(1)?, name: row.get(2)?, repetitions: row.get(3)? }))
            .transpose()
    }

    /// A dataset's experiments newest first; `cursor` is the id of the page's first.
    pub async fn list_experiments(&self, dataset_id: i64, cursor: Option<i64>, limit: usize) -> Result<Page<ExperimentRecord>> {
        let sql =
            format!("{} WHERE x.dataset_id = $1 AND x.id <= $2 ORDER BY x.id DESC LIMIT {}", ExperimentRecord::select(self), limit + 1);
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [dataset_id.into(), cursor.unwrap_or(i64::MAX).into()])).await?;
        let experiments = rows.iter().map(ExperimentRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(experiments, limit, |experiment| experiment.id))
    }

    /// Applies `changes`; `None` when there is no such experiment.
    pub async fn update_experiment(&self, id: i64, changes: ExperimentChanges) -> Result<Option<ExperimentRecord>> {
        let mut tx = self.writer.begin().await?;
        let mut update = Query::update();
        update.table(Alias::new("experiments")).value(Alias::new("updated_at"), ember_core::time::now_nanos());
        if let Some(name) = changes.name {
            update.value(Alias::new("name"), name);
        }
        if let Some(description) = changes.description {
            update.value(Alias::new("description"), description);
        }
        if let Some(metadata) = &changes.metadata {
            update.value(Alias::new("metadata"), json_value(self.dialect, metadata));
        }
        update.and_where(Expr::col(Alias::new("id")).eq(id));
        if tx.exec().execute(self.build(&update)).await? == 0 {
            return Ok(None);
        }
        let experiment = self.experiment_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(experiment)
    }

    /// Deletes an experiment with its runs and evaluations, and with `delete_project` also its
    /// project and the traces in it; false when there was no such experiment.
    pub async fn delete_experiment(&self, id: i64, delete_project: bool) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let Some(row) =
            tx.exec().fetch_optional(Statement::new("DELETE FROM experiments WHERE id = $1 RETURNING project_name", [id.into()])).await?
        else {
            return Ok(false);
        };
        let project_name: Option<String> = row.get(0)?;
        if let Some(project_name) = project_name.filter(|_| delete_project) {
            tx.exec().execute(Statement::new("DELETE FROM projects WHERE name = $1", [project_name.into()])).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
