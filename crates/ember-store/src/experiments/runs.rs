//! Experiment runs: one per example and repetition. A successful run is final; a failed one may
//! be recorded again (the clients retry failed tasks).

use serde_json::Value;

use crate::datasets::{example_columns, ExampleRecord};
use crate::engine::backend::{Row, Statement};
use crate::error::{Result, StoreError};
use crate::spans::records::Page;
use crate::sqlite::group_commit::{values_tuples, Merge};
use crate::Store;

/// A run as the task reported it.
#[derive(Debug, Clone)]
pub struct ExperimentRunInput {
    pub dataset_example_id: i64,
    pub repetition_number: i64,
    pub output: Value,
    pub start_time: i64,
    pub end_time: i64,
    pub trace_id: Option<String>,
    pub error: Option<String>,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRunRecord {
    pub id: i64,
    pub experiment_id: i64,
    pub dataset_example_id: i64,
    pub repetition_number: i64,
    /// The task's output (stored as Phoenix stores it, under `task_output`).
    pub output: Value,
    pub start_time: i64,
    pub end_time: i64,
    pub trace_id: Option<String>,
    pub prompt_token_count: Option<i64>,
    pub completion_token_count: Option<i64>,
    pub error: Option<String>,
}

/// How recording a run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunWrite {
    /// Recorded (new, or replacing a failed run) under this id.
    Recorded(i64),
    /// A successful run for the example and repetition is already recorded; nothing changed.
    AlreadySucceeded,
}

/// Examples with runs still to do, and the repetitions each needs.
#[derive(Debug, Clone)]
pub struct IncompleteRuns {
    pub items: Vec<(ExampleRecord, Vec<i64>)>,
    /// The example id the next page starts at.
    pub next_cursor: Option<i64>,
}

/// The task's output as stored: Phoenix wraps it so that `null` is a value too.
pub(crate) fn task_output(stored: &str) -> Result<Value> {
    Ok(match serde_json::from_str::<Value>(stored)? {
        Value::Object(mut wrapper) => wrapper.remove("task_output").unwrap_or(Value::Null),
        other => other,
    })
}

impl ExperimentRunRecord {
    /// The columns of run `r`, named as [`ExperimentRunRecord::from_row`] reads them.
    pub(crate) fn columns(store: &Store) -> String {
        format!(
            "r.id AS id, r.experiment_id AS experiment_id, r.dataset_example_id AS dataset_example_id, \
             r.repetition_number AS repetition_number, {} AS output, r.start_time AS start_time, r.end_time AS end_time, \
             r.trace_id AS trace_id, r.prompt_token_count AS prompt_token_count, r.completion_token_count AS completion_token_count, \
             r.error AS error",
            store.dialect.json_text("r.output")
        )
    }

    pub(crate) fn from_row(row: &Row) -> Result<Self> {
        Ok(ExperimentRunRecord {
            id: row.get("id")?,
            experiment_id: row.get("experiment_id")?,
            dataset_example_id: row.get("dataset_example_id")?,
            repetition_number: row.get("repetition_number")?,
            output: task_output(&row.get::<String, _>("output")?)?,
            start_time: row.get("start_time")?,
            end_time: row.get("end_time")?,
            trace_id: row.get("trace_id")?,
            prompt_token_count: row.get("prompt_token_count")?,
            completion_token_count: row.get("completion_token_count")?,
            error: row.get("error")?,
        })
    }
}

/// Concurrent run writes in one SQLite group, as one statement (the same rules as the one-row
/// statement in [`Store::record_experiment_run`]).
static MERGED_RUNS: Merge = Merge { sql: merged_runs_sql, width: 8, key: &[0, 1, 2] };

fn merged_runs_sql(rows: usize) -> String {
    format!(
        "INSERT INTO experiment_runs (experiment_id, dataset_example_id, repetition_number, output, start_time, end_time, \
         trace_id, error) SELECT x.id, e.id, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8 \
         FROM (VALUES {}) AS v JOIN experiments AS x ON x.id = v.column1 \
         JOIN dataset_examples AS e ON e.dataset_id = x.dataset_id AND e.id = v.column2 WHERE true \
         ON CONFLICT (experiment_id, dataset_example_id, repetition_number) DO UPDATE SET output = excluded.output, \
         start_time = excluded.start_time, end_time = excluded.end_time, trace_id = excluded.trace_id, error = excluded.error \
         WHERE experiment_runs.error IS NOT NULL RETURNING id, experiment_id, dataset_example_id, repetition_number",
        values_tuples(rows, 8)
    )
}

impl Store {
    /// Records a run of an example of the experiment's dataset: `NotFound` when the example is
    /// not one of them.
    pub async fn record_experiment_run(&self, experiment_id: i64, run: &ExperimentRunInput) -> Result<RunWrite> {
        // One statement decides: a new run is inserted, a failed one replaced, a successful one
        // left alone (no row comes back).
        let sql = format!(
            "INSERT INTO experiment_runs (experiment_id, dataset_example_id, repetition_number, output, start_time, end_time, \
             trace_id, error) SELECT x.id, e.id, $3, {}, $5, $6, $7, $8 FROM experiments AS x \
             JOIN dataset_examples AS e ON e.dataset_id = x.dataset_id AND e.id = $2 WHERE x.id = $1 \
             ON CONFLICT (experiment_id, dataset_example_id, repetition_number) DO UPDATE SET output = excluded.output, \
             start_time = excluded.start_time, end_time = excluded.end_time, trace_id = excluded.trace_id, error = excluded.error \
             WHERE experiment_runs.error IS NOT NULL RETURNING id",
            self.dialect.json_param("$4")
        );
        let values = [
            experiment_id.into(),
            run.dataset_example_id.into(),
            run.repetition_number.into(),
            serde_json::json!({ "task_output": run.output }).to_string().into(),
            run.start_time.into(),
            run.end_time.into(),
            run.trace_id.clone().into(),
            run.error.clone().into(),
        ];
        if let Some(row) = self.write_one(Statement::new(sql, values), Some(&MERGED_RUNS)).await? {
            return Ok(RunWrite::Recorded(row.get(0)?));
        }
        // Nothing written: the run exists and succeeded, or the example is not the dataset's.
        let existing = self
            .reader
            .exec()
            .fetch_optional(Statement::new(
                "SELECT 1 FROM experiment_runs WHERE experiment_id = $1 AND dataset_example_id = $2 AND repetition_number = $3",
                [experiment_id.into(), run.dataset_example_id.into(), run.repetition_number.into()],
            ))
            .await?;
        match existing {
            Some(_) => Ok(RunWrite::AlreadySucceeded),
            None => Err(StoreError::NotFound("the dataset example is not an example of the experiment's dataset".into())),
        }
    }

    /// The experiment's runs in the order they were recorded; `cursor` is the id of the page's
    /// first; all of them without a limit.
    pub async fn list_experiment_runs(
        &self,
        experiment_id: i64,
        cursor: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Page<ExperimentRunRecord>> {
        let mut sql = format!(
            "SELECT {} FROM experiment_runs AS r WHERE r.experiment_id = $1 AND r.id >= $2 ORDER BY r.id",
            ExperimentRunRecord::columns(self)
        );
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {}", limit + 1));
        }
        let rows = self.fetch_within_budget(Statement::new(sql, [experiment_id.into(), cursor.unwrap_or(0).into()])).await?;
        let runs = rows.iter().map(ExperimentRunRecord::from_row).collect::<Result<Vec<_>>>()?;
        Ok(match limit {
            Some(limit) => Page::from_overfetch(runs, limit, |run| run.id),
            None => Page { items: runs, next_cursor: None },
        })
    }

    /// The experiment's examples, as it read them, that lack a successful run for some
    /// repetition, by example id from `cursor`, with the repetitions still to do.
    pub async fn incomplete_experiment_runs(
        &self,
        experiment_id: i64,
        repetitions: i64,
        cursor: Option<i64>,
        limit: usize,
    ) -> Result<IncompleteRuns> {
        let sql = format!(
            "SELECT {} FROM experiments_dataset_examples AS m JOIN dataset_examples AS e ON e.id = m.dataset_example_id \
             JOIN dataset_example_revisions AS r ON r.id = m.dataset_example_revision_id LEFT JOIN spans AS s ON s.id = e.span_rowid \
             WHERE m.experiment_id = $1 AND m.dataset_example_id >= $2 AND (SELECT COUNT(*) FROM experiment_runs AS run \
             WHERE run.experiment_id = m.experiment_id AND run.dataset_example_id = m.dataset_example_id AND run.error IS NULL \
             AND run.repetition_number BETWEEN 1 AND $3) < $3 ORDER BY m.dataset_example_id LIMIT {}",
            example_columns(self.dialect, "r", ""),
            limit + 1
        );
        let rows = self
            .reader
            .exec()
            .fetch_all(Statement::new(sql, [experiment_id.into(), cursor.unwrap_or(0).into(), repetitions.into()]))
            .await?;
        let mut examples = rows.iter().map(ExampleRecord::from_row).collect::<Result<Vec<_>>>()?;
        let next_cursor = if examples.len() > limit { examples.pop().map(|example| example.id) } else { None };
        let (Some(first), Some(last)) = (examples.first().map(|e| e.id), examples.last().map(|e| e.id)) else {
            return Ok(IncompleteRuns { items: Vec::new(), next_cursor });
        };
        // The page's examples are a range of ids: one read finds the repetitions already done.
        let done = self
            .reader
            .exec()
            .fetch_all(Statement::new(
                "SELECT dataset_example_id, repetition_number FROM experiment_runs WHERE experiment_id = $1 \
                 AND dataset_example_id BETWEEN $2 AND $3 AND error IS NULL",
                [experiment_id.into(), first.into(), last.into()],
            ))
            .await?
            .iter()
            .map(|row| Ok((row.get::<i64, _>(0)?, row.get::<i64, _>(1)?)))
            .collect::<Result<std::collections::HashSet<_>>>()?;
        let items = examples
            .into_iter()
            .map(|example| {
                let to_do = (1..=repetitions).filter(|repetition| !done.contains(&(example.id, *repetition))).collect();
                (example, to_do)
            })
            .collect();
        Ok(IncompleteRuns { items, next_cursor })
    }
}
