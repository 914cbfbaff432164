//! Evaluations of experiment runs: one per run and evaluator name, replaced when re-evaluated.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::runs::ExperimentRunRecord;
use crate::annotations::AnnotatorKind;
use crate::datasets::{example_columns, ExampleRecord};
use crate::engine::backend::{Row, Statement};
use crate::error::{Result, StoreError};
use crate::sqlite::group_commit::{values_tuples, Merge};
use crate::Store;

/// An evaluation as the evaluator reported it.
#[derive(Debug, Clone)]
pub struct ExperimentEvaluationInput {
    pub experiment_run_id: i64,
    pub name: String,
    pub annotator_kind: AnnotatorKind,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
    pub error: Option<String>,
    pub metadata: Value,
    pub trace_id: Option<String>,
    pub start_time: i64,
    pub end_time: i64,
}

/// A stored evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentEvaluationRecord {
    pub id: i64,
    pub experiment_run_id: i64,
    pub name: String,
    pub annotator_kind: AnnotatorKind,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub explanation: Option<String>,
    pub trace_id: Option<String>,
    pub error: Option<String>,
    pub metadata: Value,
    pub start_time: i64,
    pub end_time: i64,
}

/// A successful run lacking a successful evaluation for some of the names asked about.
#[derive(Debug, Clone)]
pub struct IncompleteEvaluation {
    pub run: ExperimentRunRecord,
    pub example: ExampleRecord,
    pub missing_names: Vec<String>,
}

impl ExperimentEvaluationRecord {
    /// The columns of evaluation `a`, named as [`ExperimentEvaluationRecord::from_row`] reads them.
    pub(crate) fn columns(store: &Store) -> String {
        format!(
            "a.id AS id, a.experiment_run_id AS experiment_run_id, a.name AS name, a.annotator_kind AS annotator_kind, \
             a.label AS label, a.score AS score, a.explanation AS explanation, a.trace_id AS trace_id, a.error AS error, \
             {} AS metadata, a.start_time AS start_time, a.end_time AS end_time",
            store.dialect.json_text("a.metadata")
        )
    }

    pub(crate) fn from_row(row: &Row) -> Result<Self> {
        Ok(ExperimentEvaluationRecord {
            id: row.get("id")?,
            experiment_run_id: row.get("experiment_run_id")?,
            name: row.get("name")?,
            annotator_kind: crate::annotations::annotator_kind(&row.get::<String, _>("annotator_kind")?)?,
            label: row.get("label")?,
            score: row.get("score")?,
            explanation: row.get("explanation")?,
            trace_id: row.get("trace_id")?,
            error: row.get("error")?,
            metadata: serde_json::from_str(&row.get::<String, _>("metadata")?)?,
            start_time: row.get("start_time")?,
            end_time: row.get("end_time")?,
        })
    }
}

/// Concurrent evaluation writes in one SQLite group, as one statement (the same rules as the
/// one-row statement in [`Store::upsert_experiment_evaluation`]).
static MERGED_EVALUATIONS: Merge = Merge { sql: merged_evaluations_sql, width: 11, key: &[0, 1] };

fn merged_evaluations_sql(rows: usize) -> String {
    format!(
        "INSERT INTO experiment_run_annotations (experiment_run_id, name, annotator_kind, label, score, explanation, error, \
         metadata, trace_id, start_time, end_time) SELECT r.id, v.column2, v.column3, v.column4, v.column5, v.column6, \
         v.column7, v.column8, v.column9, v.column10, v.column11 FROM (VALUES {}) AS v \
         JOIN experiment_runs AS r ON r.id = v.column1 WHERE true \
         ON CONFLICT (experiment_run_id, name) DO UPDATE SET annotator_kind = excluded.annotator_kind, label = excluded.label, \
         score = excluded.score, explanation = excluded.explanation, error = excluded.error, metadata = excluded.metadata, \
         trace_id = excluded.trace_id, start_time = excluded.start_time, end_time = excluded.end_time \
         RETURNING id, experiment_run_id, name",
        values_tuples(rows, 11)
    )
}

impl Store {
    /// Records an evaluation of a run, replacing the run's evaluation of the same name; its id,
    /// or `NotFound` when there is no such run.
    pub async fn upsert_experiment_evaluation(&self, evaluation: &ExperimentEvaluationInput) -> Result<i64> {
        let sql = format!(
            "INSERT INTO experiment_run_annotations (experiment_run_id, name, annotator_kind, label, score, explanation, error, \
             metadata, trace_id, start_time, end_time) SELECT r.id, $2, $3, $4, $5, $6, $7, {}, $9, $10, $11 \
             FROM experiment_runs AS r WHERE r.id = $1 \
             ON CONFLICT (experiment_run_id, name) DO UPDATE SET annotator_kind = excluded.annotator_kind, label = excluded.label, \
             score = excluded.score, explanation = excluded.explanation, error = excluded.error, metadata = excluded.metadata, \
             trace_id = excluded.trace_id, start_time = excluded.start_time, end_time = excluded.end_time RETURNING id",
            self.dialect.json_param("$8")
        );
        let values = [
            evaluation.experiment_run_id.into(),
            evaluation.name.as_str().into(),
            evaluation.annotator_kind.as_str().into(),
            evaluation.label.clone().into(),
            evaluation.score.into(),
            evaluation.explanation.clone().into(),
            evaluation.error.clone().into(),
            evaluation.metadata.to_string().into(),
            evaluation.trace_id.clone().into(),
            evaluation.start_time.into(),
            evaluation.end_time.into(),
        ];
        match self.write_one(Statement::new(sql, values), Some(&MERGED_EVALUATIONS)).await? {
            Some(row) => row.get(0),
            None => Err(StoreError::NotFound(format!("experiment run {} not found", evaluation.experiment_run_id))),
        }
    }

    /// Evaluations of the experiment's runs with ids in `first..=last`.
    pub(crate) async fn experiment_evaluations_between(
        &self,
        experiment_id: i64,
        first: i64,
        last: i64,
    ) -> Result<Vec<ExperimentEvaluationRecord>> {
        let sql = format!(
            "SELECT {} FROM experiment_run_annotations AS a JOIN experiment_runs AS r ON r.id = a.experiment_run_id \
             WHERE r.experiment_id = $1 AND a.experiment_run_id BETWEEN $2 AND $3 ORDER BY a.experiment_run_id, a.id",
            ExperimentEvaluationRecord::columns(self)
        );
        let rows = self.fetch_within_budget(Statement::new(sql, [experiment_id.into(), first.into(), last.into()])).await?;
        rows.iter().map(ExperimentEvaluationRecord::from_row).collect()
    }

    /// The experiment's successful runs, by run id from `cursor`, lacking a successful
    /// evaluation for some of `names`, with those names and the examples as the experiment
    /// read them; and the run id the next page starts at.
    pub async fn incomplete_experiment_evaluations(
        &self,
        experiment_id: i64,
        names: &[String],
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<IncompleteEvaluation>, Option<i64>)> {
        // Placeholders in the order the values are bound (SQLite numbers `?` by position).
        let d = self.dialect;
        let sql = format!(
            "SELECT {}, {} FROM experiment_runs AS r JOIN experiments_dataset_examples AS m ON m.experiment_id = r.experiment_id \
             AND m.dataset_example_id = r.dataset_example_id JOIN dataset_examples AS e ON e.id = r.dataset_example_id \
             JOIN dataset_example_revisions AS rev ON rev.id = m.dataset_example_revision_id LEFT JOIN spans AS s ON s.id = e.span_rowid \
             WHERE r.experiment_id = {} AND r.id >= {} AND r.error IS NULL AND (SELECT COUNT(DISTINCT a.name) \
             FROM experiment_run_annotations AS a WHERE a.experiment_run_id = r.id AND a.error IS NULL AND a.name IN ({})) < {} \
             ORDER BY r.id LIMIT {}",
            ExperimentRunRecord::columns(self),
            example_columns(d, "rev", "example_"),
            d.placeholder(1),
            d.placeholder(2),
            d.placeholders(3, names.len()),
            d.placeholder(3 + names.len()),
            limit + 1
        );
        let mut values: Vec<sea_query::Value> = vec![experiment_id.into(), cursor.unwrap_or(0).into()];
        values.extend(names.iter().map(|name| name.as_str().into()));
        values.push((names.len() as i64).into());
        let rows = self.reader.exec().fetch_all(Statement::new(sql, values)).await?;
        let mut pairs = Vec::with_capacity(rows.len());
        for row in &rows {
            let run = ExperimentRunRecord::from_row(row)?;
            let example = ExampleRecord::from_row_prefixed(row, "example_")?;
            pairs.push((run, example));
        }
        let next_cursor = if pairs.len() > limit { pairs.pop().map(|(run, _)| run.id) } else { None };
        let (Some(first), Some(last)) = (pairs.first().map(|(run, _)| run.id), pairs.last().map(|(run, _)| run.id)) else {
            return Ok((Vec::new(), next_cursor));
        };
        let mut succeeded: HashMap<i64, HashSet<String>> = HashMap::new();
        for evaluation in self.experiment_evaluations_between(experiment_id, first, last).await? {
            if evaluation.error.is_none() {
                succeeded.entry(evaluation.experiment_run_id).or_default().insert(evaluation.name);
            }
        }
        let items = pairs
            .into_iter()
            .map(|(run, example)| {
                let done = succeeded.get(&run.id);
                let missing_names = names.iter().filter(|name| !done.is_some_and(|done| done.contains(*name))).cloned().collect();
                IncompleteEvaluation { run, example, missing_names }
            })
            .collect();
        Ok((items, next_cursor))
    }
}
