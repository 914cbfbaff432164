//! Aggregates of experiments for lists: mean run latency and each evaluation's mean score.

use std::collections::HashMap;

use crate::engine::backend::Statement;
use crate::error::Result;
use crate::Store;

/// One evaluation name over an experiment's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationSummary {
    pub name: String,
    /// Mean of the scores given (`None` when no evaluation had a score).
    pub mean_score: Option<f64>,
    pub count: i64,
    pub errors: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExperimentSummary {
    pub mean_latency_ms: Option<f64>,
    /// By name.
    pub evaluations: Vec<EvaluationSummary>,
}

impl Store {
    /// The summaries of these experiments: two grouped queries whatever their number.
    pub async fn experiment_summaries(&self, experiment_ids: &[i64]) -> Result<HashMap<i64, ExperimentSummary>> {
        let mut summaries: HashMap<i64, ExperimentSummary> = experiment_ids.iter().map(|id| (*id, ExperimentSummary::default())).collect();
        if experiment_ids.is_empty() {
            return Ok(summaries);
        }
        let ids = experiment_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT experiment_id, CAST(AVG(end_time - start_time) AS DOUBLE PRECISION) FROM experiment_runs \
             WHERE experiment_id IN ({ids}) GROUP BY experiment_id"
        );
        for row in self.reader.exec().fetch_all(Statement::new(sql, [])).await? {
            if let Some(summary) = summaries.get_mut(&row.get::<i64, _>(0)?) {
                summary.mean_latency_ms = row.get::<Option<f64>, _>(1)?.map(|nanos| nanos / 1e6);
            }
        }
        let sql = format!(
            "SELECT r.experiment_id, a.name, AVG(a.score), COUNT(*), CAST(SUM(CASE WHEN a.error IS NULL THEN 0 ELSE 1 END) AS BIGINT) \
             FROM experiment_run_annotations AS a JOIN experiment_runs AS r ON r.id = a.experiment_run_id \
             WHERE r.experiment_id IN ({ids}) GROUP BY r.experiment_id, a.name ORDER BY r.experiment_id, a.name"
        );
        for row in self.reader.exec().fetch_all(Statement::new(sql, [])).await? {
            if let Some(summary) = summaries.get_mut(&row.get::<i64, _>(0)?) {
                summary.evaluations.push(EvaluationSummary {
                    name: row.get(1)?,
                    mean_score: row.get(2)?,
                    count: row.get(3)?,
                    errors: row.get(4)?,
                });
            }
        }
        Ok(summaries)
    }
}
