//! An experiment's runs with their examples and evaluations, for the JSON and CSV downloads.

use std::collections::HashMap;

use serde_json::Value;

use super::evaluations::ExperimentEvaluationRecord;
use super::runs::ExperimentRunRecord;
use crate::datasets::latest_revision_at;
use crate::engine::backend::Statement;
use crate::error::Result;
use crate::Store;

/// A run with the example it ran on (as of the experiment's version) and its evaluations.
#[derive(Debug, Clone)]
pub struct ExportedRun {
    pub run: ExperimentRunRecord,
    pub input: Value,
    pub reference_output: Value,
    pub example_metadata: Value,
    pub evaluations: Vec<ExperimentEvaluationRecord>,
}

impl Store {
    /// The experiment's runs by example and repetition, each with its example as of the
    /// experiment's version (runs of examples deleted by then are left out) and evaluations.
    pub async fn export_experiment_runs(&self, experiment_id: i64) -> Result<Vec<ExportedRun>> {
        let d = self.dialect;
        let sql = format!(
            "SELECT {}, {} AS example_input, {} AS example_output, {} AS example_metadata FROM experiment_runs AS r JOIN experiments AS x ON x.id = r.experiment_id \
             JOIN dataset_example_revisions AS rev ON rev.id = {} \
             WHERE r.experiment_id = $1 AND rev.revision_kind <> 'DELETE' ORDER BY r.dataset_example_id, r.repetition_number",
            ExperimentRunRecord::columns(self),
            d.json_text("rev.input"),
            d.json_text("rev.output"),
            d.json_text("rev.metadata"),
            latest_revision_at("r.dataset_example_id", "x.dataset_version_id"),
        );
        let rows = self.fetch_within_budget(Statement::new(sql, [experiment_id.into()])).await?;
        let mut evaluations: HashMap<i64, Vec<ExperimentEvaluationRecord>> = HashMap::new();
        if !rows.is_empty() {
            for evaluation in self.experiment_evaluations_between(experiment_id, 0, i64::MAX).await? {
                evaluations.entry(evaluation.experiment_run_id).or_default().push(evaluation);
            }
        }
        rows.iter()
            .map(|row| {
                let run = ExperimentRunRecord::from_row(row)?;
                Ok(ExportedRun {
                    input: serde_json::from_str(&row.get::<String, _>("example_input")?)?,
                    reference_output: serde_json::from_str(&row.get::<String, _>("example_output")?)?,
                    example_metadata: serde_json::from_str(&row.get::<String, _>("example_metadata")?)?,
                    evaluations: evaluations.remove(&run.id).unwrap_or_default(),
                    run,
                })
            })
            .collect()
    }
}
