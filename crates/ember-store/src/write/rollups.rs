//! Project statistics per hour of span start time, kept by ingest: span, error, root-span and
//! token counts, LLM cost, span content bytes, and a histogram of root-span latencies (tables of migration
//! `*_project_rollups.sql`). A project's summary and charts then read a few rows per hour
//! instead of its spans. Deleting or moving spans rebuilds the hours they touched from the spans.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::engine::backend::{Exec, Statement};
use crate::engine::dialect::Dialect;
use crate::error::Result;
use crate::write::batch::TraceRows;
use crate::write::prepared::PreparedSpan;
use crate::Store;

pub(crate) const HOUR_NANOS: i64 = 3_600_000_000_000;

/// The hour a span belongs to, in SQL: its start time rounded down to the hour (as [`hour_of`]).
/// The tables keyed by (project id, hour, ...) that `rebuild` and `clear_whole_hours` reset.
const ROLLUP_TABLES: [&str; 4] =
    ["project_hourly_rollups", "project_hourly_latencies", "project_hourly_model_usage", "project_hourly_kinds"];

const HOUR_SQL: &str = "(start_time - ((start_time % 3600000000000) + 3600000000000) % 3600000000000)";

/// The leading two digits a latency bucket rounds down to (see the migration).
const LEADS: [i64; 15] = [10, 12, 14, 16, 18, 20, 25, 30, 35, 40, 50, 60, 70, 80, 90];

/// A latency's bucket in SQL (as [`latency_bucket`]), for rows of `spans`.
const BUCKET_SQL: &str = "(length(micros) * 100 + CASE \
    WHEN length(micros) = 1 THEN CAST(micros AS INTEGER) \
    WHEN lead < 12 THEN 10 WHEN lead < 14 THEN 12 WHEN lead < 16 THEN 14 WHEN lead < 18 THEN 16 \
    WHEN lead < 20 THEN 18 WHEN lead < 25 THEN 20 WHEN lead < 30 THEN 25 WHEN lead < 35 THEN 30 \
    WHEN lead < 40 THEN 35 WHEN lead < 50 THEN 40 WHEN lead < 60 THEN 50 WHEN lead < 70 THEN 60 \
    WHEN lead < 80 THEN 70 WHEN lead < 90 THEN 80 ELSE 90 END)";

/// Rows per multi-row upsert.
const UPSERT_CHUNK: usize = 200;

/// The start of the hour holding `time` (Unix nanoseconds).
pub(crate) fn hour_of(time: i64) -> i64 {
    time.saturating_sub(time.rem_euclid(HOUR_NANOS))
}

/// The histogram bucket of a span lasting from `start` to `end`.
pub(crate) fn latency_bucket(start: i64, end: i64) -> i64 {
    let micros = if end > start { end.saturating_sub(start) / 1000 } else { 0 };
    let digits = micros.checked_ilog10().map_or(1, |log| i64::from(log) + 1);
    if digits == 1 {
        return 100 + micros;
    }
    let lead = micros / 10_i64.pow((digits - 2) as u32);
    digits * 100 + LEADS.iter().rev().copied().find(|floor| lead >= *floor).unwrap_or(10)
}

/// The middle of a bucket's latencies, in milliseconds.
fn bucket_midpoint_ms(bucket: i64) -> f64 {
    let (digits, lead) = (bucket / 100, bucket % 100);
    if digits <= 1 {
        return lead as f64 / 1000.0;
    }
    let next = LEADS.iter().copied().find(|floor| *floor > lead).unwrap_or(100);
    let scale = 10_f64.powi(digits as i32 - 2);
    (lead + next) as f64 / 2.0 * scale / 1000.0
}

/// What a batch adds to one project-hour.
#[derive(Debug, Default)]
pub(crate) struct HourDelta {
    spans: i64,
    errors: i64,
    roots: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    pub(crate) prompt_cost: f64,
    pub(crate) completion_cost: f64,
    /// Span content bytes (see `ember_query::schema::span_row_bytes`).
    bytes: i64,
    latencies: BTreeMap<i64, i64>,
    /// The hour's LLM spans by model (while cost tracking is on).
    pub(crate) models: BTreeMap<String, ModelDelta>,
    /// (spans, errored spans) by span kind.
    kinds: BTreeMap<&'static str, (i64, i64)>,
}

/// What a batch adds to one model's project-hour.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct ModelDelta {
    pub(crate) spans: i64,
    pub(crate) prompt_tokens: i64,
    pub(crate) completion_tokens: i64,
    pub(crate) prompt_cost: f64,
    pub(crate) completion_cost: f64,
}

/// (project id, hour) → what the spans add there; sorted, so concurrent writers lock rows in one order.
pub(crate) fn deltas_of(spans: &[&PreparedSpan], traces: &TraceRows) -> BTreeMap<(i64, i64), HourDelta> {
    let mut deltas: BTreeMap<(i64, i64), HourDelta> = BTreeMap::new();
    for span in spans {
        let Some((_, project_id)) = traces.get(&span.trace_id) else { continue };
        let delta = deltas.entry((*project_id, hour_of(span.start_time))).or_default();
        delta.spans += 1;
        delta.errors += i64::from(span.status_code == ember_core::StatusCode::Error);
        delta.prompt_tokens += span.llm_token_count_prompt.unwrap_or(0);
        delta.completion_tokens += span.llm_token_count_completion.unwrap_or(0);
        delta.bytes += span.stored_bytes();
        let kind = delta.kinds.entry(span.span_kind.as_str()).or_default();
        kind.0 += 1;
        kind.1 += i64::from(span.status_code == ember_core::StatusCode::Error);
        if span.parent_id.is_none() {
            delta.roots += 1;
            *delta.latencies.entry(latency_bucket(span.start_time, span.end_time)).or_default() += 1;
        }
    }
    deltas
}

/// Adds a batch's deltas to the rollups.
pub(crate) async fn add(mut exec: Exec<'_>, dialect: Dialect, deltas: &BTreeMap<(i64, i64), HourDelta>) -> Result<()> {
    let entries: Vec<_> = deltas.iter().collect();
    for chunk in entries.chunks(UPSERT_CHUNK) {
        let mut values: Vec<sea_query::Value> = Vec::with_capacity(chunk.len() * 10);
        for ((project_id, hour), delta) in chunk {
            values.extend([
                (*project_id).into(),
                (*hour).into(),
                delta.spans.into(),
                delta.errors.into(),
                delta.roots.into(),
                delta.prompt_tokens.into(),
                delta.completion_tokens.into(),
                delta.prompt_cost.into(),
                delta.completion_cost.into(),
                delta.bytes.into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO project_hourly_rollups (project_id, hour, span_count, error_count, root_span_count, prompt_tokens, \
             completion_tokens, prompt_cost, completion_cost, span_bytes) VALUES {} ON CONFLICT (project_id, hour) DO UPDATE SET \
             span_count = project_hourly_rollups.span_count + excluded.span_count, \
             error_count = project_hourly_rollups.error_count + excluded.error_count, \
             root_span_count = project_hourly_rollups.root_span_count + excluded.root_span_count, \
             prompt_tokens = project_hourly_rollups.prompt_tokens + excluded.prompt_tokens, \
             completion_tokens = project_hourly_rollups.completion_tokens + excluded.completion_tokens, \
             prompt_cost = project_hourly_rollups.prompt_cost + excluded.prompt_cost, \
             completion_cost = project_hourly_rollups.completion_cost + excluded.completion_cost, \
             span_bytes = project_hourly_rollups.span_bytes + excluded.span_bytes",
            dialect.values_list(chunk.len(), 10)
        );
        exec.reborrow().execute(Statement::new(sql, values)).await?;
    }
    let latencies: Vec<(i64, i64, i64, i64)> = deltas
        .iter()
        .flat_map(|((project_id, hour), delta)| delta.latencies.iter().map(move |(bucket, count)| (*project_id, *hour, *bucket, *count)))
        .collect();
    for chunk in latencies.chunks(UPSERT_CHUNK) {
        let values = chunk.iter().flat_map(|(p, h, b, c)| [(*p).into(), (*h).into(), (*b).into(), (*c).into()]);
        let sql = format!(
            "INSERT INTO project_hourly_latencies (project_id, hour, bucket, root_span_count) VALUES {} \
             ON CONFLICT (project_id, hour, bucket) DO UPDATE SET \
             root_span_count = project_hourly_latencies.root_span_count + excluded.root_span_count",
            dialect.values_list(chunk.len(), 4)
        );
        exec.reborrow().execute(Statement::new(sql, values.collect::<Vec<sea_query::Value>>())).await?;
    }
    let kinds: Vec<(i64, i64, &str, i64, i64)> = deltas
        .iter()
        .flat_map(|((project_id, hour), delta)| {
            delta.kinds.iter().map(move |(kind, (spans, errors))| (*project_id, *hour, *kind, *spans, *errors))
        })
        .collect();
    for chunk in kinds.chunks(UPSERT_CHUNK) {
        let values = chunk.iter().flat_map(|(p, h, k, n, e)| [(*p).into(), (*h).into(), (*k).into(), (*n).into(), (*e).into()]);
        let sql = format!(
            "INSERT INTO project_hourly_kinds (project_id, hour, span_kind, span_count, error_count) VALUES {} \
             ON CONFLICT (project_id, hour, span_kind) DO UPDATE SET \
             span_count = project_hourly_kinds.span_count + excluded.span_count, \
             error_count = project_hourly_kinds.error_count + excluded.error_count",
            dialect.values_list(chunk.len(), 5)
        );
        exec.reborrow().execute(Statement::new(sql, values.collect::<Vec<sea_query::Value>>())).await?;
    }
    let models: Vec<(i64, i64, &str, &ModelDelta)> = deltas
        .iter()
        .flat_map(|((project_id, hour), delta)| delta.models.iter().map(move |(model, usage)| (*project_id, *hour, model.as_str(), usage)))
        .collect();
    add_model_usage(exec, dialect, &models).await
}

/// Adds (project id, hour, model) usage to `project_hourly_model_usage` (ingest, re-pricing).
pub(crate) async fn add_model_usage(mut exec: Exec<'_>, dialect: Dialect, usage: &[(i64, i64, &str, &ModelDelta)]) -> Result<()> {
    for chunk in usage.chunks(UPSERT_CHUNK) {
        let mut values: Vec<sea_query::Value> = Vec::with_capacity(chunk.len() * 8);
        for (project_id, hour, model, delta) in chunk {
            values.extend([
                (*project_id).into(),
                (*hour).into(),
                (*model).into(),
                delta.spans.into(),
                delta.prompt_tokens.into(),
                delta.completion_tokens.into(),
                delta.prompt_cost.into(),
                delta.completion_cost.into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO project_hourly_model_usage (project_id, hour, model_name, span_count, prompt_tokens, completion_tokens, \
             prompt_cost, completion_cost) VALUES {} ON CONFLICT (project_id, hour, model_name) DO UPDATE SET \
             span_count = project_hourly_model_usage.span_count + excluded.span_count, \
             prompt_tokens = project_hourly_model_usage.prompt_tokens + excluded.prompt_tokens, \
             completion_tokens = project_hourly_model_usage.completion_tokens + excluded.completion_tokens, \
             prompt_cost = project_hourly_model_usage.prompt_cost + excluded.prompt_cost, \
             completion_cost = project_hourly_model_usage.completion_cost + excluded.completion_cost",
            dialect.values_list(chunk.len(), 8)
        );
        exec.reborrow().execute(Statement::new(sql, values)).await?;
    }
    Ok(())
}

/// The (project id, hour) pairs of the spans matching `condition` (SQL over `spans`, with `$n`
/// placeholders for `values`).
pub(crate) async fn hours_of_spans(
    exec: Exec<'_>,
    condition: &str,
    values: impl IntoIterator<Item = sea_query::Value>,
) -> Result<BTreeSet<(i64, i64)>> {
    let sql = format!("SELECT DISTINCT project_id, {HOUR_SQL} FROM spans WHERE {condition}");
    let rows = exec.fetch_all(Statement::new(sql, values)).await?;
    rows.iter().map(|row| Ok((row.get(0)?, row.get(1)?))).collect()
}

/// Recomputes the rollups of these project-hours from the spans stored now.
pub(crate) async fn rebuild(mut exec: Exec<'_>, dialect: Dialect, hours: &BTreeSet<(i64, i64)>) -> Result<()> {
    for (project_id, hour) in hours {
        let key = || [sea_query::Value::from(*project_id), (*hour).into()];
        for table in ROLLUP_TABLES {
            let sql = format!("DELETE FROM {table} WHERE project_id = $1 AND hour = $2");
            exec.reborrow().execute(Statement::new(sql, key())).await?;
        }
        let in_hour = "project_id = $1 AND start_time >= $2 AND start_time < $2 + 3600000000000";
        let sql = format!(
            "INSERT INTO project_hourly_rollups (project_id, hour, span_count, error_count, root_span_count, prompt_tokens, \
             completion_tokens, prompt_cost, completion_cost, span_bytes) SELECT $1, $2, COUNT(*), \
             CAST(SUM(CASE WHEN s.status_code = 'ERROR' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN s.parent_id IS NULL THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(COALESCE(SUM(s.llm_token_count_prompt), 0) AS BIGINT), CAST(COALESCE(SUM(s.llm_token_count_completion), 0) AS BIGINT), \
             COALESCE(SUM(c.prompt_cost), 0.0), COALESCE(SUM(c.completion_cost), 0.0), CAST(COALESCE(SUM({}), 0) AS BIGINT) \
             FROM spans AS s LEFT JOIN span_costs AS c ON c.span_rowid = s.id \
             WHERE s.project_id = $1 AND s.start_time >= $2 AND s.start_time < $2 + 3600000000000 HAVING COUNT(*) > 0",
            dialect.span_bytes_sql("s")
        );
        exec.reborrow().execute(Statement::new(sql, key())).await?;
        let sql = format!(
            "INSERT INTO project_hourly_latencies (project_id, hour, bucket, root_span_count) \
             SELECT $1, $2, {BUCKET_SQL} AS bucket, COUNT(*) FROM ( \
             SELECT micros, CAST(substr(micros, 1, 2) AS INTEGER) AS lead FROM ( \
             SELECT CAST(CASE WHEN end_time > start_time THEN (end_time - start_time) / 1000 ELSE 0 END AS TEXT) AS micros \
             FROM spans WHERE {in_hour} AND parent_id IS NULL) AS r) AS b GROUP BY {BUCKET_SQL}"
        );
        exec.reborrow().execute(Statement::new(sql, key())).await?;
        let sql = format!(
            "INSERT INTO project_hourly_kinds (project_id, hour, span_kind, span_count, error_count) \
             SELECT $1, $2, span_kind, COUNT(*), CAST(SUM(CASE WHEN status_code = 'ERROR' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM spans WHERE {in_hour} GROUP BY span_kind"
        );
        exec.reborrow().execute(Statement::new(sql, key())).await?;
        let sql = "INSERT INTO project_hourly_model_usage (project_id, hour, model_name, span_count, prompt_tokens, \
             completion_tokens, prompt_cost, completion_cost) SELECT $1, $2, c.model_name, COUNT(*), \
             CAST(SUM(c.prompt_tokens) AS BIGINT), CAST(SUM(c.completion_tokens) AS BIGINT), \
             COALESCE(SUM(c.prompt_cost), 0.0), COALESCE(SUM(c.completion_cost), 0.0) \
             FROM spans AS s JOIN span_costs AS c ON c.span_rowid = s.id \
             WHERE s.project_id = $1 AND s.start_time >= $2 AND s.start_time < $2 + 3600000000000 GROUP BY c.model_name";
        exec.reborrow().execute(Statement::new(sql, key())).await?;
    }
    Ok(())
}

/// Deletes a project's rollups of the hours wholly inside `[start, end)`: a purge of that window
/// clears them, spans or not (a retention sweep may have left rollups without spans).
pub(crate) async fn clear_whole_hours(mut exec: Exec<'_>, project_id: i64, start: i64, end: i64) -> Result<()> {
    let first = match hour_of(start) {
        hour if hour == start => hour,
        hour => hour.saturating_add(HOUR_NANOS),
    };
    let last_start = end.saturating_sub(HOUR_NANOS);
    if first > last_start {
        return Ok(());
    }
    for table in ROLLUP_TABLES {
        let sql = format!("DELETE FROM {table} WHERE project_id = $1 AND hour >= $2 AND hour <= $3");
        exec.reborrow().execute(Statement::new(sql, [project_id.into(), first.into(), last_start.into()])).await?;
    }
    Ok(())
}

/// A window of time to summarise, cut into `bins` equal runs of whole hours for charts.
#[derive(Debug, Clone, Copy)]
pub struct ActivityWindow {
    /// Inclusive; rounded down to the hour.
    pub start: i64,
    /// Exclusive.
    pub end: i64,
    /// At most this many bins of whole hours (fewer when more would run past `end`).
    pub bins: usize,
    /// Whether each bin gets its own latency percentiles (one project's charts) or only the
    /// window does (a list of projects).
    pub latency_per_bin: bool,
}

/// How a window is cut into bins of whole hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinLayout {
    /// The first bin's start (the window's start rounded down to the hour).
    pub start: i64,
    pub bin_hours: i64,
    /// No more than the window fills: the last bin holds the window's end, none lies past it.
    pub bins: i64,
}

impl BinLayout {
    pub fn of(window: &ActivityWindow) -> BinLayout {
        let start = hour_of(window.start);
        let hours = ((window.end.saturating_sub(start)).max(1) + HOUR_NANOS - 1) / HOUR_NANOS;
        let requested = window.bins.max(1) as i64;
        let bin_hours = ((hours + requested - 1) / requested).max(1);
        BinLayout { start, bin_hours, bins: (hours + bin_hours - 1) / bin_hours }
    }

    pub fn bin_nanos(&self) -> i64 {
        self.bin_hours * HOUR_NANOS
    }

    /// The bin of an instant, if it falls in the layout.
    pub fn bin_of(&self, time: i64) -> Option<usize> {
        let bin = time.checked_sub(self.start)?.div_euclid(self.bin_nanos());
        (time >= self.start && bin < self.bins).then_some(bin as usize)
    }
}

/// One model's usage in each bin of a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelUsage {
    pub model_name: String,
    pub span_count: i64,
    /// Per bin: (prompt + completion tokens, prompt + completion cost).
    pub bins: Vec<(i64, f64)>,
}

/// A project's activity over a window: totals, root-span latency percentiles, and bins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectActivity {
    pub spans: i64,
    pub errors: i64,
    /// Root spans, one per complete trace.
    pub traces: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Approximate (the middle of a histogram bucket, within about 10 %).
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub bins: Vec<ActivityBin>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityBin {
    pub start: i64,
    pub spans: i64,
    pub errors: i64,
    pub traces: i64,
    pub tokens: i64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p90_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
}

/// Percentiles of a histogram given as (bucket, count) in bucket order.
fn percentiles<const N: usize>(histogram: &[(i64, i64)], quantiles: [f64; N]) -> [Option<f64>; N] {
    let total: i64 = histogram.iter().map(|(_, count)| count).sum();
    quantiles.map(|q| {
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as i64).max(1);
        let mut seen = 0;
        histogram
            .iter()
            .find(|(_, count)| {
                seen += count;
                seen >= rank
            })
            .map(|(bucket, _)| bucket_midpoint_ms(*bucket))
    })
}

impl Store {
    /// Each project's activity in `window`, from the rollups: one query for the counts and one
    /// for the latency histogram, whatever the number of spans.
    pub async fn project_activity(&self, project_ids: &[i64], window: ActivityWindow) -> Result<HashMap<i64, ProjectActivity>> {
        let mut activity: HashMap<i64, ProjectActivity> = HashMap::new();
        if project_ids.is_empty() {
            return Ok(activity);
        }
        let BinLayout { start, bin_hours, bins } = BinLayout::of(&window);
        let bin_of = |hour: i64| ((hour - start) / HOUR_NANOS / bin_hours) as usize;
        let ids = project_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        for id in project_ids {
            let bins = (0..bins).map(|i| ActivityBin { start: start + i * bin_hours * HOUR_NANOS, ..ActivityBin::default() }).collect();
            activity.insert(*id, ProjectActivity { bins, ..ProjectActivity::default() });
        }
        let in_window = format!("project_id IN ({ids}) AND hour >= $1 AND hour < $2");
        let range = || [sea_query::Value::from(start), window.end.into()];
        let sql = format!(
            "SELECT project_id, hour, span_count, error_count, root_span_count, prompt_tokens, completion_tokens \
             FROM project_hourly_rollups WHERE {in_window}"
        );
        for row in self.reader.exec().fetch_all(Statement::new(sql, range())).await? {
            let Some(project) = activity.get_mut(&row.get::<i64, _>(0)?) else { continue };
            let (spans, errors, traces, prompt, completion): (i64, i64, i64, i64, i64) =
                (row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?);
            project.spans += spans;
            project.errors += errors;
            project.traces += traces;
            project.prompt_tokens += prompt;
            project.completion_tokens += completion;
            if let Some(bin) = project.bins.get_mut(bin_of(row.get(1)?)) {
                bin.spans += spans;
                bin.errors += errors;
                bin.traces += traces;
                bin.tokens += prompt + completion;
            }
        }
        let sql = if window.latency_per_bin {
            format!(
                "SELECT project_id, hour, bucket, root_span_count FROM project_hourly_latencies WHERE {in_window} \
                 ORDER BY project_id, bucket"
            )
        } else {
            format!(
                "SELECT project_id, CAST(0 AS BIGINT), bucket, CAST(SUM(root_span_count) AS BIGINT) FROM project_hourly_latencies \
                 WHERE {in_window} GROUP BY project_id, bucket ORDER BY project_id, bucket"
            )
        };
        let mut overall: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        let mut per_bin: HashMap<(i64, usize), Vec<(i64, i64)>> = HashMap::new();
        for row in self.reader.exec().fetch_all(Statement::new(sql, range())).await? {
            let (project_id, hour, bucket, count): (i64, i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            push_count(overall.entry(project_id).or_default(), bucket, count);
            if window.latency_per_bin {
                push_count(per_bin.entry((project_id, bin_of(hour))).or_default(), bucket, count);
            }
        }
        for (project_id, histogram) in overall {
            if let Some(project) = activity.get_mut(&project_id) {
                [project.latency_p50_ms, project.latency_p99_ms] = percentiles(&histogram, [0.5, 0.99]);
            }
        }
        for ((project_id, bin), histogram) in per_bin {
            if let Some(bin) = activity.get_mut(&project_id).and_then(|project| project.bins.get_mut(bin)) {
                [bin.latency_p50_ms, bin.latency_p90_ms, bin.latency_p99_ms] = percentiles(&histogram, [0.5, 0.9, 0.99]);
            }
        }
        Ok(activity)
    }

    /// A project's LLM usage by model in each bin of `window`, from the model rollups, the models
    /// with the most tokens first.
    pub async fn project_model_usage(&self, project_id: i64, window: ActivityWindow) -> Result<Vec<ModelUsage>> {
        let layout = BinLayout::of(&window);
        let sql = "SELECT model_name, hour, span_count, prompt_tokens + completion_tokens, prompt_cost + completion_cost \
                   FROM project_hourly_model_usage WHERE project_id = $1 AND hour >= $2 AND hour < $3";
        let rows = self.reader.exec().fetch_all(Statement::new(sql, [project_id.into(), layout.start.into(), window.end.into()])).await?;
        let mut models: HashMap<String, ModelUsage> = HashMap::new();
        for row in rows {
            let name: String = row.get(0)?;
            let usage = models.entry(name.clone()).or_insert_with(|| ModelUsage {
                model_name: name,
                span_count: 0,
                bins: vec![(0, 0.0); layout.bins as usize],
            });
            usage.span_count += row.get::<i64, _>(2)?;
            if let Some(bin) = layout.bin_of(row.get(1)?) {
                usage.bins[bin].0 += row.get::<i64, _>(3)?;
                usage.bins[bin].1 += row.get::<f64, _>(4)?;
            }
        }
        let mut models: Vec<ModelUsage> = models.into_values().collect();
        models.sort_by_key(|usage| (std::cmp::Reverse(usage.bins.iter().map(|(tokens, _)| tokens).sum::<i64>()), usage.model_name.clone()));
        Ok(models)
    }

    /// The first hour with spans among these projects, if any.
    pub async fn first_activity_hour(&self, project_ids: &[i64]) -> Result<Option<i64>> {
        if project_ids.is_empty() {
            return Ok(None);
        }
        // A MIN per project reads one entry of the rollups' primary key each.
        let sql = format!(
            "SELECT MIN(first) FROM (SELECT (SELECT MIN(hour) FROM project_hourly_rollups AS r WHERE r.project_id = projects.id) AS first \
             FROM projects WHERE projects.id IN ({})) AS firsts",
            project_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        );
        self.reader.exec().fetch_one(Statement::new(sql, [])).await?.get(0)
    }

    /// The start time of each project's newest trace (projects without traces are left out).
    pub async fn last_trace_starts(&self, project_ids: &[i64]) -> Result<HashMap<i64, i64>> {
        if project_ids.is_empty() {
            return Ok(HashMap::new());
        }
        // A correlated MAX per project reads one entry of the (project_id, start_time) index each.
        let sql = format!(
            "SELECT projects.id, (SELECT MAX(start_time) FROM traces WHERE traces.project_id = projects.id) FROM projects \
             WHERE projects.id IN ({})",
            project_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        );
        let mut starts = HashMap::new();
        for row in self.reader.exec().fetch_all(Statement::new(sql, [])).await? {
            if let Some(start) = row.get::<Option<i64>, _>(1)? {
                starts.insert(row.get(0)?, start);
            }
        }
        Ok(starts)
    }
}

/// Adds `count` to `bucket` of a histogram whose rows arrive in bucket order per project.
fn push_count(histogram: &mut Vec<(i64, i64)>, bucket: i64, count: i64) {
    match histogram.last_mut() {
        Some((last, total)) if *last == bucket => *total += count,
        _ => histogram.push((bucket, count)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_sort_as_latencies_do_and_stay_within_their_bounds() {
        let micros = [0_i64, 1, 9, 10, 11, 12, 99, 100, 149, 150, 999, 1_000, 12_345, 987_654, 3_600_000_000];
        let buckets: Vec<i64> = micros.iter().map(|us| latency_bucket(0, us * 1000)).collect();
        assert!(buckets.windows(2).all(|pair| pair[0] <= pair[1]), "{buckets:?}");
        assert_eq!(latency_bucket(0, 12_345_000), 512);
        assert_eq!(latency_bucket(5, 1), 100, "a span ending before it starts lasts 0");
        for us in micros.iter().filter(|us| **us >= 10) {
            let midpoint_us = bucket_midpoint_ms(latency_bucket(0, us * 1000)) * 1000.0;
            let error = (midpoint_us - *us as f64).abs() / *us as f64;
            assert!(error < 0.15, "{us} µs read back as {midpoint_us}");
        }
    }

    #[test]
    fn hours_round_down_including_before_the_epoch() {
        assert_eq!(hour_of(HOUR_NANOS + 5), HOUR_NANOS);
        assert_eq!(hour_of(-5), -HOUR_NANOS);
        assert_eq!(hour_of(i64::MIN), i64::MIN);
    }

    #[test]
    fn percentiles_walk_the_cumulative_counts() {
        let histogram = [(210, 50), (310, 49), (410, 1)];
        let [p50, p99] = percentiles(&histogram, [0.5, 0.99]);
        assert_eq!(p50, Some(bucket_midpoint_ms(210)));
        assert_eq!(p99, Some(bucket_midpoint_ms(310)));
        assert_eq!(percentiles(&[], [0.5, 0.99]), [None, None]);
    }
}
