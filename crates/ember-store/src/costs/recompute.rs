//! Re-pricing stored spans after a price was added, changed or deleted.
//!
//! Only the span costs a change can reach are rewritten: those of the model names the caller
//! names that started at or after the change's earliest effective time. `span_costs` has no
//! index beyond its span rowid (ingest writes a row per LLM span and pays for every index), so
//! a recomputation walks it by span rowid, a chunk per transaction, as a background task. A row
//! whose price or cost changes is updated and the difference added to its hour's rollup in the
//! same transaction, so the rollups stay equal to the sum of the span costs. One recomputation
//! runs at a time, so two never add the same difference.

use std::collections::BTreeMap;

use ember_core::cost::PriceBook;
use sea_query::Value;

use crate::costs::span_costs::{tokens_from_row, TOKEN_COLUMNS};
use crate::engine::backend::Statement;
use crate::engine::dialect::Dialect;
use crate::error::Result;
use crate::write::rollups::{self, hour_of, ModelDelta};
use crate::Store;

/// Rows read and rewritten per transaction.
const CHUNK: i64 = 500;

/// Model names per pass (each pass walks the table once).
const MAX_NAMES: usize = 400;

/// What a recomputation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recomputed {
    /// Span cost rows read.
    pub examined: u64,
    /// Rows whose price or cost changed.
    pub changed: u64,
}

impl Store {
    /// The distinct (model name, provider) pairs of the stored span costs that `matches` keeps.
    /// Reads the whole table, so it is for the background recomputation, not for a request.
    pub async fn priced_models(&self, matches: impl Fn(&str, &str) -> bool) -> Result<Vec<(String, String)>> {
        let sql = "SELECT DISTINCT model_name, provider FROM span_costs";
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [])).await?;
        let mut pairs = Vec::new();
        for row in rows {
            let (model, provider): (String, String) = (row.get(0)?, row.get(1)?);
            if matches(&model, &provider) {
                pairs.push((model, provider));
            }
        }
        Ok(pairs)
    }

    /// Re-prices, with the current price book, the span costs of `models` (their model names)
    /// that started at or after `since` (`None`: all).
    pub async fn recompute_costs(&self, models: &[(String, String)], since: Option<i64>) -> Result<Recomputed> {
        let _one_at_a_time = self.cost_recomputation.lock().await;
        let book = self.price_book().await;
        let mut names: Vec<&str> = models.iter().map(|(model, _)| model.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut done = Recomputed::default();
        for names in names.chunks(MAX_NAMES) {
            let mut after = i64::MIN;
            loop {
                let (step, last) = self.recompute_chunk(&book, names, since.unwrap_or(i64::MIN), after).await?;
                done.examined += step.examined;
                done.changed += step.changed;
                match last {
                    Some(last) => after = last,
                    None => break,
                }
            }
        }
        Ok(done)
    }

    /// One chunk of the rows of `names` started at or after `since`, with a span rowid after
    /// `after`: returns what it did and the last rowid read (`None` when the rows are exhausted).
    async fn recompute_chunk(&self, book: &PriceBook, names: &[&str], since: i64, after: i64) -> Result<(Recomputed, Option<i64>)> {
        let mut tx = self.writer.begin().await?;
        // PostgreSQL: locked so that a concurrent sweep cannot delete a row between read and update.
        let lock = if self.dialect == Dialect::Postgres { " FOR UPDATE" } else { "" };
        let sql = format!(
            "SELECT span_rowid, project_id, start_time, price_id, prompt_cost, completion_cost, model_name, provider, {TOKEN_COLUMNS} \
             FROM span_costs WHERE span_rowid > $1 AND start_time >= $2 AND model_name IN ({}) ORDER BY span_rowid LIMIT $3{lock}",
            (4..4 + names.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
        );
        let mut values: Vec<Value> = vec![after.into(), since.into(), CHUNK.into()];
        values.extend(names.iter().map(|name| Value::from(*name)));
        let rows = tx.exec().fetch_all(Statement::new(sql, values)).await?;
        let mut step = Recomputed { examined: rows.len() as u64, changed: 0 };
        let mut last = None;
        // (project id, hour, model) → the prompt and completion cost to add.
        let mut deltas: BTreeMap<(i64, i64, String), ModelDelta> = BTreeMap::new();
        for row in &rows {
            let (span_rowid, project_id, start_time): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            last = Some(span_rowid);
            let old_price: Option<i64> = row.get(3)?;
            let old_cost: (Option<f64>, Option<f64>) = (row.get(4)?, row.get(5)?);
            let (model, provider): (String, String) = (row.get(6)?, row.get(7)?);
            let tokens = tokens_from_row(row, 8)?;
            let price = book.find(&model, &provider, start_time);
            let new_price = price.map(|p| p.id);
            let new_cost = price.map(|p| tokens.cost(&p.rates));
            let new_columns = (new_cost.map(|c| c.prompt), new_cost.map(|c| c.completion));
            if new_price == old_price && new_columns == old_cost {
                continue;
            }
            let sql = "UPDATE span_costs SET price_id = $2, prompt_cost = $3, completion_cost = $4 WHERE span_rowid = $1";
            let values: [Value; 4] = [span_rowid.into(), new_price.into(), new_columns.0.into(), new_columns.1.into()];
            if tx.exec().execute(Statement::new(sql, values)).await? == 0 {
                continue;
            }
            step.changed += 1;
            let delta = deltas.entry((project_id, hour_of(start_time), model)).or_default();
            delta.prompt_cost += new_columns.0.unwrap_or(0.0) - old_cost.0.unwrap_or(0.0);
            delta.completion_cost += new_columns.1.unwrap_or(0.0) - old_cost.1.unwrap_or(0.0);
        }
        let mut hours: BTreeMap<(i64, i64), (f64, f64)> = BTreeMap::new();
        for ((project_id, hour, _), delta) in &deltas {
            let sums = hours.entry((*project_id, *hour)).or_default();
            sums.0 += delta.prompt_cost;
            sums.1 += delta.completion_cost;
        }
        for ((project_id, hour), (prompt, completion)) in hours {
            let sql = "UPDATE project_hourly_rollups SET prompt_cost = prompt_cost + $3, completion_cost = completion_cost + $4 \
                       WHERE project_id = $1 AND hour = $2";
            let values: [Value; 4] = [project_id.into(), hour.into(), prompt.into(), completion.into()];
            tx.exec().execute(Statement::new(sql, values)).await?;
        }
        let by_model: Vec<(i64, i64, &str, &ModelDelta)> =
            deltas.iter().map(|((project_id, hour, model), delta)| (*project_id, *hour, model.as_str(), delta)).collect();
        rollups::add_model_usage(tx.exec(), self.dialect, &by_model).await?;
        tx.commit().await?;
        let exhausted = (rows.len() as i64) < CHUNK;
        Ok((step, if exhausted { None } else { last }))
    }
}
