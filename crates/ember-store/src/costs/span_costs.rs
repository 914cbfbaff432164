//! What each LLM span cost: written with the span's batch, read by span, trace, session and
//! project time window.

use std::collections::{BTreeMap, HashMap};

use ember_core::cost::{PriceBook, SpanCost, TokenCounts};
use sea_query::Value;

use crate::engine::backend::{Exec, Row, Statement};
use crate::engine::dialect::Dialect;
use crate::error::Result;
use crate::write::batch::{TraceRows, IN_CHUNK};
use crate::write::prepared::{PreparedSpan, Usage};
use crate::write::rollups::{hour_of, HourDelta, HOUR_NANOS};
use crate::Store;

/// Rows per multi-row insert: 15 values each, well under both backends' parameter limits.
const INSERT_CHUNK: usize = 400;

/// The token columns, in [`token_values`]' and [`tokens_from_row`]'s order.
pub(crate) const TOKEN_COLUMNS: &str = "prompt_tokens, completion_tokens, cache_read_tokens, cache_write_tokens, \
    prompt_audio_tokens, prompt_image_tokens, reasoning_tokens, completion_audio_tokens, completion_image_tokens";

pub(crate) fn token_values(tokens: &TokenCounts) -> [Value; 9] {
    [
        tokens.prompt.into(),
        tokens.completion.into(),
        tokens.cache_read.into(),
        tokens.cache_write.into(),
        tokens.prompt_audio.into(),
        tokens.prompt_image.into(),
        tokens.reasoning.into(),
        tokens.completion_audio.into(),
        tokens.completion_image.into(),
    ]
}

/// Nine token columns from `first` on.
pub(crate) fn tokens_from_row(row: &Row, first: usize) -> Result<TokenCounts> {
    Ok(TokenCounts {
        prompt: row.get(first)?,
        completion: row.get(first + 1)?,
        cache_read: row.get(first + 2)?,
        cache_write: row.get(first + 3)?,
        prompt_audio: row.get(first + 4)?,
        prompt_image: row.get(first + 5)?,
        reasoning: row.get(first + 6)?,
        completion_audio: row.get(first + 7)?,
        completion_image: row.get(first + 8)?,
    })
}

/// A span of a batch with what it costs (`None`: no price applies).
pub(crate) struct PricedSpan<'a> {
    pub span: &'a PreparedSpan,
    pub usage: &'a Usage,
    pub price_id: Option<i64>,
    pub cost: Option<SpanCost>,
}

/// Prices the spans of a batch that name a model.
pub(crate) fn price_batch<'a>(spans: &[&'a PreparedSpan], book: &PriceBook) -> Vec<PricedSpan<'a>> {
    spans
        .iter()
        .filter_map(|span| {
            let usage = span.usage.as_deref()?;
            let price = book.find(&usage.model_name, &usage.provider, span.start_time);
            Some(PricedSpan { span, usage, price_id: price.map(|p| p.id), cost: price.map(|p| usage.tokens.cost(&p.rates)) })
        })
        .collect()
}

/// Adds the batch's costs, and its LLM spans' usage by model, to its hourly rollup deltas.
pub(crate) fn add_to_deltas(deltas: &mut BTreeMap<(i64, i64), HourDelta>, priced: &[PricedSpan<'_>], traces: &TraceRows) {
    for priced in priced {
        let Some((_, project_id)) = traces.get(&priced.span.trace_id) else { continue };
        let delta = deltas.entry((*project_id, hour_of(priced.span.start_time))).or_default();
        let model = delta.models.entry(priced.usage.model_name.clone()).or_default();
        model.spans += 1;
        model.prompt_tokens += priced.usage.tokens.prompt;
        model.completion_tokens += priced.usage.tokens.completion;
        if let Some(cost) = priced.cost {
            delta.prompt_cost += cost.prompt;
            delta.completion_cost += cost.completion;
            model.prompt_cost += cost.prompt;
            model.completion_cost += cost.completion;
        }
    }
}

/// Writes the batch's `span_costs` rows (its spans are inserted already).
pub(crate) async fn insert(mut exec: Exec<'_>, dialect: Dialect, priced: &[PricedSpan<'_>]) -> Result<()> {
    for chunk in priced.chunks(INSERT_CHUNK) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 15);
        for priced in chunk {
            values.extend([
                priced.span.span_id.as_str().into(),
                priced.usage.model_name.as_str().into(),
                priced.usage.provider.as_str().into(),
                priced.price_id.into(),
            ]);
            values.extend(token_values(&priced.usage.tokens));
            values.extend([priced.cost.map(|c| c.prompt).into(), priced.cost.map(|c| c.completion).into()]);
        }
        let sql = format!(
            "WITH v (span_id, model_name, provider, price_id, {TOKEN_COLUMNS}, prompt_cost, completion_cost) AS (VALUES {}) \
             INSERT INTO span_costs (span_rowid, project_id, start_time, model_name, provider, price_id, {TOKEN_COLUMNS}, \
             prompt_cost, completion_cost) \
             SELECT spans.id, spans.project_id, spans.start_time, v.model_name, v.provider, v.price_id, \
             v.prompt_tokens, v.completion_tokens, v.cache_read_tokens, v.cache_write_tokens, v.prompt_audio_tokens, \
             v.prompt_image_tokens, v.reasoning_tokens, v.completion_audio_tokens, v.completion_image_tokens, v.prompt_cost, \
             v.completion_cost FROM v JOIN spans ON spans.span_id = v.span_id",
            dialect.values_list(chunk.len(), 15)
        );
        exec.reborrow().execute(Statement::new(sql, values)).await?;
    }
    Ok(())
}

/// One span's cost as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanCostRecord {
    pub model_name: String,
    pub provider: String,
    /// The price applied; `None` when none matched.
    pub price_id: Option<i64>,
    pub tokens: TokenCounts,
    pub cost: Option<SpanCost>,
}

/// Costs summed over spans (a trace, a session, a time window).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CostTotals {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub prompt_cost: f64,
    pub completion_cost: f64,
}

impl CostTotals {
    pub fn total_cost(&self) -> f64 {
        self.prompt_cost + self.completion_cost
    }

    fn add(&mut self, other: CostTotals) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.prompt_cost += other.prompt_cost;
        self.completion_cost += other.completion_cost;
    }
}

/// Sums of span costs as selected columns: tokens of priced and unpriced spans, costs of priced ones.
const TOTALS_SQL: &str = "CAST(COALESCE(SUM(c.prompt_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(c.completion_tokens), 0) AS BIGINT), \
    COALESCE(SUM(c.prompt_cost), 0.0), COALESCE(SUM(c.completion_cost), 0.0)";

fn totals_from_row(row: &Row, first: usize) -> Result<CostTotals> {
    Ok(CostTotals {
        prompt_tokens: row.get(first)?,
        completion_tokens: row.get(first + 1)?,
        prompt_cost: row.get(first + 2)?,
        completion_cost: row.get(first + 3)?,
    })
}

impl Store {
    /// The stored costs of these spans (by span rowid); spans without one are absent.
    pub async fn span_costs(&self, span_rowids: &[i64]) -> Result<HashMap<i64, SpanCostRecord>> {
        let mut costs = HashMap::new();
        for chunk in span_rowids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT span_rowid, model_name, provider, price_id, prompt_cost, completion_cost, {TOKEN_COLUMNS} \
                 FROM span_costs WHERE span_rowid IN ({})",
                self.dialect.placeholders(1, chunk.len())
            );
            for row in self.reader.exec().fetch_all(Statement::new(sql, chunk.iter().map(|id| Value::from(*id)))).await? {
                let (prompt, completion): (Option<f64>, Option<f64>) = (row.get(4)?, row.get(5)?);
                let cost = prompt.zip(completion).map(|(prompt, completion)| SpanCost { prompt, completion });
                costs.insert(
                    row.get(0)?,
                    SpanCostRecord {
                        model_name: row.get(1)?,
                        provider: row.get(2)?,
                        price_id: row.get(3)?,
                        tokens: tokens_from_row(&row, 6)?,
                        cost,
                    },
                );
            }
        }
        Ok(costs)
    }

    /// Each trace's summed span costs (by trace rowid), one grouped query per 500 traces.
    pub async fn trace_costs(&self, trace_rowids: &[i64]) -> Result<HashMap<i64, CostTotals>> {
        self.grouped_costs("s.trace_rowid", "spans AS s JOIN span_costs AS c ON c.span_rowid = s.id", trace_rowids).await
    }

    /// Each trace's summed span costs by OpenTelemetry trace id (experiment runs name their
    /// traces so), one grouped query per 500 traces.
    pub async fn trace_costs_by_trace_id(&self, trace_ids: &[&str]) -> Result<HashMap<String, CostTotals>> {
        let mut costs = HashMap::new();
        for chunk in trace_ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT t.trace_id, {TOTALS_SQL} FROM traces AS t JOIN spans AS s ON s.trace_rowid = t.id \
                 JOIN span_costs AS c ON c.span_rowid = s.id WHERE t.trace_id IN ({}) GROUP BY t.trace_id",
                self.dialect.placeholders(1, chunk.len())
            );
            for row in self.reader.exec().fetch_all(Statement::new(sql, chunk.iter().map(|id| Value::from(*id)))).await? {
                costs.insert(row.get(0)?, totals_from_row(&row, 1)?);
            }
        }
        Ok(costs)
    }

    /// Each session's summed span costs (by session rowid).
    pub async fn session_costs(&self, session_rowids: &[i64]) -> Result<HashMap<i64, CostTotals>> {
        let joined = "traces AS t JOIN spans AS s ON s.trace_rowid = t.id JOIN span_costs AS c ON c.span_rowid = s.id";
        self.grouped_costs("t.session_rowid", joined, session_rowids).await
    }

    /// Span costs summed by `key` (a column of `from`) for these key values.
    async fn grouped_costs(&self, key: &str, from: &str, ids: &[i64]) -> Result<HashMap<i64, CostTotals>> {
        let mut costs = HashMap::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT {key}, {TOTALS_SQL} FROM {from} WHERE {key} IN ({}) GROUP BY {key}",
                self.dialect.placeholders(1, chunk.len())
            );
            for row in self.reader.exec().fetch_all(Statement::new(sql, chunk.iter().map(|id| Value::from(*id)))).await? {
                costs.insert(row.get(0)?, totals_from_row(&row, 1)?);
            }
        }
        Ok(costs)
    }

    /// A project's tokens and costs over `[start, end)`: whole hours from the hourly rollups
    /// (which outlive swept spans), the partial hours at either edge from the spans.
    pub async fn project_cost_summary(&self, project_id: i64, start: i64, end: i64) -> Result<CostTotals> {
        let mut totals = CostTotals::default();
        if start >= end {
            return Ok(totals);
        }
        let first_whole = if hour_of(start) == start { start } else { hour_of(start).saturating_add(HOUR_NANOS) };
        let end_whole = hour_of(end);
        let mut edges = Vec::new();
        if first_whole < end_whole {
            totals.add(self.rolled_up_costs(project_id, first_whole, end_whole).await?);
            edges.push((start, first_whole));
            edges.push((end_whole, end));
        } else {
            edges.push((start, end));
        }
        for (from, to) in edges.into_iter().filter(|(from, to)| from < to) {
            // An edge that is all its hour holds (the hour now running, when the window ends now)
            // is that hour's rollup: summing its spans one by one would cost a read per span of
            // the hour, seconds under heavy ingest.
            let hour = hour_of(from);
            if hour == hour_of(to - 1)
                && !self.project_has_spans_in(project_id, hour, from).await?
                && !self.project_has_spans_in(project_id, to, hour.saturating_add(HOUR_NANOS)).await?
            {
                totals.add(self.rolled_up_costs(project_id, hour, hour.saturating_add(HOUR_NANOS)).await?);
                continue;
            }
            // Tokens as the rollups count them (every LLM span), costs from the priced ones.
            let sql = "SELECT CAST(COALESCE(SUM(s.llm_token_count_prompt), 0) AS BIGINT), \
                       CAST(COALESCE(SUM(s.llm_token_count_completion), 0) AS BIGINT), \
                       COALESCE(SUM(c.prompt_cost), 0.0), COALESCE(SUM(c.completion_cost), 0.0) \
                       FROM spans AS s LEFT JOIN span_costs AS c ON c.span_rowid = s.id \
                       WHERE s.project_id = $1 AND s.start_time >= $2 AND s.start_time < $3";
            let values: [Value; 3] = [project_id.into(), from.into(), to.into()];
            totals.add(totals_from_row(&self.reader.exec().fetch_one(Statement::new(sql, values)).await?, 0)?);
        }
        Ok(totals)
    }

    /// A project's tokens and costs from its hourly rollups of the hours starting in `[from, to)`.
    async fn rolled_up_costs(&self, project_id: i64, from: i64, to: i64) -> Result<CostTotals> {
        let sql = "SELECT CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT), \
                   COALESCE(SUM(prompt_cost), 0.0), COALESCE(SUM(completion_cost), 0.0) FROM project_hourly_rollups \
                   WHERE project_id = $1 AND hour >= $2 AND hour < $3";
        let values: [Value; 3] = [project_id.into(), from.into(), to.into()];
        totals_from_row(&self.reader.exec().fetch_one(Statement::new(sql, values)).await?, 0)
    }

    /// Whether a project holds a span starting in `[from, to)` (one step along its start-time index).
    async fn project_has_spans_in(&self, project_id: i64, from: i64, to: i64) -> Result<bool> {
        if from >= to {
            return Ok(false);
        }
        let sql = "SELECT 1 FROM spans WHERE project_id = $1 AND start_time >= $2 AND start_time < $3 LIMIT 1";
        let values: [Value; 3] = [project_id.into(), from.into(), to.into()];
        Ok(self.reader.exec().fetch_optional(Statement::new(sql, values)).await?.is_some())
    }
}
