//! Keeping and reading the hourly summaries of models' records (`ml_summaries`, encoded by
//! [`summary`](super::summary)).
//!
//! - **Marking.** A write marks the hours of the records it wrote stale (`ml_stale_hours`) in its
//!   transaction; an update of a stored record also marks the hour the record was in, from a
//!   trigger on the record table (a repeated prediction may move a record to another hour).
//! - **Summarizing.** [`Store::summarize_ml_hours`], run in the background, remakes stale hours'
//!   summaries from their records and clears their marks unless a write marked them again
//!   meanwhile (their generation changed). A model from before summaries existed is taken up
//!   first: its trigger made and all its hours marked.
//! - **Reading.** An aggregate whose query summaries can answer (no feature predicates — but for
//!   one `text column == value` on the labels, read from its sliced labels — batch or has-actual
//!   condition, bins of whole hours) reads in one snapshot the stored summaries of
//!   the window's whole hours that are not stale, and makes the rest — the window's partial
//!   first and last hours, and stale hours — from their records. When that is more than
//!   [`MAX_RECORDS_SUMMARIZED_ON_READ`] records, or the stored summaries are more than
//!   [`MAX_SUMMARY_BYTES_PER_READ`], the aggregate reads the records instead.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sea_query::Value;

use super::monitor::MlSource;
use super::read::{MlComparison, MlPredicateValue, MlRecordQuery};
use super::summary::{hour_of, LabelValues, RecordValues, Summary, SummaryBuilder, SummaryKind, HOUR};
use super::table;
use super::MlColumnRecord;
use crate::engine::backend::{Row, Statement, Transaction};
use crate::engine::db::Store;
use crate::error::Result;

/// The most records a read summarizes itself (partial and stale hours).
const MAX_RECORDS_SUMMARIZED_ON_READ: i64 = 50_000;
/// The most summary bytes a read holds.
const MAX_SUMMARY_BYTES_PER_READ: i64 = 128 << 20;
/// The most stale hours a read summarizes itself.
const MAX_STALE_HOURS_ON_READ: usize = 24;
/// How long one summarizing round may hold the writer.
const ROUND_BUDGET: Duration = Duration::from_millis(50);
/// Values held at once while summarizing an hour: an hour with more records is summarized a few
/// sources at a time, a page of records at a time.
const VALUES_PER_PASS: i64 = 4_000_000;
const RECORDS_PER_PAGE: i64 = 20_000;
/// How long ML ingest must have been quiet for a summarizing round, the longest a round waits
/// for it, and the pause when nothing is stale.
const QUIET: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(5);
const IDLE: Duration = Duration::from_secs(1);
/// Rows per statement when marking or storing.
const ROWS_PER_STATEMENT: usize = 200;

/// The labels summary's key; a value source's key is its record-table column.
const LABELS: &str = "labels";

/// The fixed columns a summary reads, ahead of the sources' columns.
const LABEL_COLUMNS: &str =
    "time, id, model_version, has_prediction, has_actual, prediction_label, prediction_score, prediction_value, actual_label, actual_value";
const LABEL_COLUMN_COUNT: usize = 10;

/// A source summaries are kept of.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SummarySource {
    /// `ml_summaries.source`.
    pub key: String,
    /// The record-table column it reads beside the labels.
    pub column: Option<String>,
    pub kind: SummaryKind,
}

impl SummarySource {
    fn labels() -> Self {
        SummarySource { key: LABELS.into(), column: None, kind: SummaryKind::Labels }
    }

    fn of(source: MlSource, kind: SummaryKind) -> Self {
        SummarySource { key: source.column(), column: Some(source.column()), kind }
    }

    /// The labels sliced by the values of text column `column_id`.
    fn sliced(column_id: i64) -> Self {
        let column = MlSource::Column(column_id).column();
        SummarySource { key: format!("{LABELS}:{column}"), column: Some(column), kind: SummaryKind::SlicedLabels }
    }
}

/// The sources kept for a model with `columns`: the labels, the prediction's and actual's
/// values, every numeric or text feature and tag, and the labels sliced by each text one.
fn model_sources(columns: &[MlColumnRecord]) -> Vec<SummarySource> {
    let mut sources = vec![
        SummarySource::labels(),
        SummarySource::of(MlSource::PredictionLabel, SummaryKind::Text),
        SummarySource::of(MlSource::PredictionScore, SummaryKind::Numeric),
        SummarySource::of(MlSource::PredictionValue, SummaryKind::Numeric),
        SummarySource::of(MlSource::ActualLabel, SummaryKind::Text),
        SummarySource::of(MlSource::ActualValue, SummaryKind::Numeric),
    ];
    for column in columns.iter().filter(|column| matches!(column.role, super::MlColumnRole::Feature | super::MlColumnRole::Tag)) {
        let kind = if column.value_type.is_numeric() {
            SummaryKind::Numeric
        } else if column.value_type == ember_core::ml::MlValueType::String {
            SummaryKind::Text
        } else {
            continue;
        };
        sources.push(SummarySource::of(MlSource::Column(column.id), kind));
        if kind == SummaryKind::Text {
            sources.push(SummarySource::sliced(column.id));
        }
    }
    sources
}

/// A summary of one source of the records of one hour and version.
#[derive(Debug, Clone)]
pub(super) struct HourSummary {
    pub hour: i64,
    /// Which of the asked sources.
    pub source: usize,
    pub summary: Summary,
}

/// Summaries being made of some records, by (hour, version), a builder per source.
struct Summaries<'a> {
    sources: &'a [SummarySource],
    builders: BTreeMap<(i64, String), Vec<SummaryBuilder>>,
}

impl<'a> Summaries<'a> {
    fn new(sources: &'a [SummarySource]) -> Self {
        Summaries { sources, builders: BTreeMap::new() }
    }

    /// The select list that [`Summaries::add`] reads.
    fn columns(&self) -> String {
        let mut columns = LABEL_COLUMNS.to_string();
        for column in self.sources.iter().filter_map(|source| source.column.as_deref()) {
            columns.push_str(", ");
            columns.push_str(column);
        }
        columns
    }

    fn add(&mut self, row: &Row) -> Result<()> {
        let time: i64 = row.get(0)?;
        let version: Option<String> = row.get(2)?;
        let labels = LabelValues {
            has_prediction: row.get::<i16, _>(3)? == 1,
            has_actual: row.get::<i16, _>(4)? == 1,
            prediction_label: row.get(5)?,
            prediction_score: row.get(6)?,
            prediction_value: row.get(7)?,
            actual_label: row.get(8)?,
            actual_value: row.get(9)?,
        };
        let sources = self.sources;
        let builders = self
            .builders
            .entry((hour_of(time), version.unwrap_or_default()))
            .or_insert_with(|| sources.iter().map(|_| SummaryBuilder::default()).collect());
        let mut column = LABEL_COLUMN_COUNT;
        for (source, builder) in sources.iter().zip(builders.iter_mut()) {
            match source.kind {
                SummaryKind::Labels => builder.add(RecordValues::Labels(&labels)),
                SummaryKind::Numeric => {
                    builder.add(RecordValues::Number(row.get(column)?));
                    column += 1;
                }
                SummaryKind::Text => {
                    let text: Option<String> = row.get(column)?;
                    builder.add(RecordValues::Text(text.as_deref()));
                    column += 1;
                }
                SummaryKind::SlicedLabels => {
                    let text: Option<String> = row.get(column)?;
                    builder.add(RecordValues::Sliced(&labels, text.as_deref()));
                    column += 1;
                }
            }
        }
        Ok(())
    }

    /// (hour, version, source index, summary) of every hour and version seen.
    fn finish(self) -> Vec<(i64, String, usize, Summary)> {
        let mut finished = Vec::new();
        for ((hour, version), builders) in self.builders {
            for (index, builder) in builders.into_iter().enumerate() {
                finished.push((hour, version.clone(), index, builder.finish()));
            }
        }
        finished
    }
}

impl Store {
    /// Marks (environment, hour) pairs of a model stale; part of a write.
    pub(super) async fn mark_stale_hours(&self, tx: &mut Transaction, model_id: i64, hours: &[(i16, i64)]) -> Result<()> {
        self.ml_written_at.store(crate::engine::db::unix_millis(), Ordering::Relaxed);
        for chunk in hours.chunks(ROWS_PER_STATEMENT) {
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
            for (environment, hour) in chunk {
                values.extend([model_id.into(), Value::from(*environment), (*hour).into(), 1i64.into()]);
            }
            let sql = format!(
                "INSERT INTO ml_stale_hours (model_id, environment, hour, generation) VALUES {}
                 ON CONFLICT (model_id, environment, hour) DO UPDATE SET generation = ml_stale_hours.generation + 1",
                self.dialect.values_list(chunk.len(), 4)
            );
            tx.exec().execute(Statement::new(sql, values)).await?;
        }
        Ok(())
    }

    /// How many hours of model `model_id` are stale, and how many summaries it has.
    pub async fn ml_summary_counts(&self, model_id: i64) -> Result<(i64, i64)> {
        let count = |table: &str| Statement::new(format!("SELECT COUNT(*) FROM {table} WHERE model_id = $1"), [model_id.into()]);
        let stale: i64 = self.reader.exec().fetch_one(count("ml_stale_hours")).await?.get(0)?;
        let summaries: i64 = self.reader.exec().fetch_one(count("ml_summaries")).await?.get(0)?;
        Ok((stale, summaries))
    }

    /// Returns model `model_id` to how a database from before summaries holds it: no trigger, no
    /// summaries or stale marks, not summarized.
    #[cfg(feature = "testsuite")]
    pub async fn forget_ml_summaries(&self, model_id: i64) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let statements = [
            table::drop_stale_trigger_statement(self.dialect, model_id),
            "DELETE FROM ml_summaries WHERE model_id = $1".into(),
            "DELETE FROM ml_stale_hours WHERE model_id = $1".into(),
            "UPDATE ml_models SET summarized = 0 WHERE id = $1".into(),
        ];
        for statement in statements {
            let values: Vec<Value> = if statement.contains("$1") { vec![model_id.into()] } else { Vec::new() };
            tx.exec().execute(Statement::new(statement, values)).await?;
        }
        tx.commit().await
    }

    /// When the last ML write marked hours stale (Unix ms; 0: none since the store opened).
    pub fn ml_written_at(&self) -> i64 {
        self.ml_written_at.load(Ordering::Relaxed)
    }

    /// Keeps the summaries up to date until `stopped`: a round whenever ML ingest has been quiet
    /// for [`QUIET`] (or at least every [`LONGEST_WAIT`] under steady ingest), again after a
    /// pause as long as the round while hours are stale. Stale marks are stored, so stopping loses nothing.
    pub async fn keep_ml_summaries(&self, stopped: impl std::future::Future<Output = ()>) {
        tokio::pin!(stopped);
        let mut last_round = Instant::now();
        loop {
            let quiet = crate::engine::db::unix_millis() - self.ml_written_at() >= QUIET.as_millis() as i64;
            let pause = if quiet || last_round.elapsed() >= LONGEST_WAIT {
                last_round = Instant::now();
                match self.summarize_ml_hours().await {
                    Ok(0) => IDLE,
                    // As long as the round took: at most half a core, beside the requests.
                    Ok(_) => last_round.elapsed().max(Duration::from_millis(10)),
                    Err(error) => {
                        tracing::warn!(%error, "could not summarize ML records");
                        IDLE
                    }
                }
            } else {
                QUIET
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = &mut stopped => return,
            }
        }
    }

    /// One round of summarizing: takes up a model without summaries, or remakes the summaries of
    /// stale hours for about [`ROUND_BUDGET`]. Returns the hours (or models) it did; 0 when
    /// nothing was stale.
    pub async fn summarize_ml_hours(&self) -> Result<usize> {
        let started = Instant::now();
        // Checked on a reader first, so that an idle round never takes the write lock.
        let pending = "SELECT 1 FROM ml_stale_hours UNION ALL SELECT 1 FROM ml_models WHERE summarized = 0 LIMIT 1";
        if self.reader.exec().fetch_optional(Statement::new(pending, [])).await?.is_none() {
            return Ok(0);
        }
        let mut tx = self.writer.begin().await?;
        let untaken =
            tx.exec().fetch_optional(Statement::new("SELECT id FROM ml_models WHERE summarized = 0 ORDER BY id LIMIT 1", [])).await?;
        if let Some(row) = untaken {
            let model_id: i64 = row.get(0)?;
            for statement in table::stale_trigger_statements(self.dialect, model_id) {
                tx.exec().execute(Statement::new(statement, [])).await?;
            }
            let sql = format!(
                "INSERT INTO ml_stale_hours (model_id, environment, hour, generation)
                 SELECT $1, environment, time - time % {HOUR}, 1 FROM {} WHERE TRUE GROUP BY environment, time - time % {HOUR}
                 ON CONFLICT (model_id, environment, hour) DO UPDATE SET generation = ml_stale_hours.generation + 1",
                table::table_name(model_id)
            );
            tx.exec().execute(Statement::new(sql, [model_id.into()])).await?;
            tx.exec().execute(Statement::new("UPDATE ml_models SET summarized = 1 WHERE id = $1", [model_id.into()])).await?;
            tx.commit().await?;
            tracing::info!(model_id, "the model's records are summarized from now on");
            return Ok(1);
        }
        let stale = tx
            .exec()
            .fetch_all(Statement::new(
                "SELECT model_id, environment, hour, generation FROM ml_stale_hours ORDER BY model_id, environment, hour LIMIT 256",
                [],
            ))
            .await?;
        let mut done = 0;
        let mut columns: Option<(i64, Vec<SummarySource>)> = None;
        for row in &stale {
            if done > 0 && started.elapsed() > ROUND_BUDGET {
                break;
            }
            let (model_id, environment, hour, generation): (i64, i16, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            if columns.as_ref().map(|(id, _)| *id) != Some(model_id) {
                let model_columns = super::write::read_columns(&mut tx, model_id).await?;
                columns = Some((model_id, model_sources(&model_columns)));
            }
            let sources = columns.as_ref().map(|(_, sources)| sources.as_slice()).unwrap_or_default();
            self.summarize_hour(&mut tx, model_id, environment, hour, sources).await?;
            tx.exec()
                .execute(Statement::new(
                    "DELETE FROM ml_stale_hours WHERE model_id = $1 AND environment = $2 AND hour = $3 AND generation = $4",
                    [model_id.into(), environment.into(), hour.into(), generation.into()],
                ))
                .await?;
            done += 1;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Remakes the summaries of one hour of one model's environment.
    async fn summarize_hour(
        &self,
        tx: &mut Transaction,
        model_id: i64,
        environment: i16,
        hour: i64,
        sources: &[SummarySource],
    ) -> Result<()> {
        tx.exec()
            .execute(Statement::new(
                "DELETE FROM ml_summaries WHERE model_id = $1 AND environment = $2 AND hour = $3",
                [model_id.into(), environment.into(), hour.into()],
            ))
            .await?;
        let table = table::table_name(model_id);
        let in_hour = "environment = $1 AND time >= $2 AND time < $3";
        let window = || -> Vec<Value> { vec![environment.into(), hour.into(), (hour + HOUR).into()] };
        let count = tx.exec().fetch_one(Statement::new(format!("SELECT COUNT(*) FROM {table} WHERE {in_hour}"), window())).await?;
        let records: i64 = count.get(0)?;
        let per_pass = (VALUES_PER_PASS / records.max(1)).max(1) as usize;
        for group in sources.chunks(per_pass) {
            let mut summaries = Summaries::new(group);
            let columns = summaries.columns();
            // Keyset pages on (time, id), the time index's order.
            let mut after: Option<(i64, i64)> = None;
            loop {
                let mut values = window();
                let mut condition = in_hour.to_string();
                if let Some((time, id)) = after {
                    condition.push_str(" AND (time > $4 OR (time = $4 AND id > $5))");
                    values.extend([time.into(), id.into()]);
                }
                let sql = format!("SELECT {columns} FROM {table} WHERE {condition} ORDER BY time, id LIMIT {RECORDS_PER_PAGE}");
                let rows = tx.exec().fetch_all(Statement::new(sql, values)).await?;
                for row in &rows {
                    summaries.add(row)?;
                }
                match rows.last() {
                    Some(last) if rows.len() as i64 == RECORDS_PER_PAGE => after = Some((last.get(0)?, last.get(1)?)),
                    _ => break,
                }
            }
            let finished = summaries.finish();
            for chunk in finished.chunks(ROWS_PER_STATEMENT) {
                let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 6);
                for (hour, version, index, summary) in chunk {
                    values.extend([
                        model_id.into(),
                        environment.into(),
                        group[*index].key.as_str().into(),
                        (*hour).into(),
                        version.as_str().into(),
                        summary.encode().into(),
                    ]);
                }
                let sql = format!(
                    "INSERT INTO ml_summaries (model_id, environment, source, hour, model_version, body) VALUES {}",
                    self.dialect.values_list(chunk.len(), 6)
                );
                tx.exec().execute(Statement::new(sql, values)).await?;
            }
        }
        Ok(())
    }

    /// The summaries over `query`'s records, per hour and version, of the labels (with `labels`)
    /// and of `sources`; each summary's `source` counts the labels first when asked. `None` when
    /// the summaries cannot answer the query (see the module documentation) or the model is not
    /// summarized yet. `bin`: the aggregate's bins, in ns.
    pub(super) async fn ml_hour_summaries(
        &self,
        model_id: i64,
        query: &MlRecordQuery,
        sources: &[MlSource],
        bin: Option<i64>,
        labels: bool,
    ) -> Result<Option<Vec<HourSummary>>> {
        // One `text column == value` condition on the labels alone is a slice, kept sliced.
        let sliceable = labels && sources.is_empty() && query.predicates.len() == 1;
        let answerable = self.ml_summaries
            && (query.predicates.is_empty() || sliceable)
            && query.batch_id.is_none()
            && query.has_actual.is_none()
            && query.model_version.as_deref() != Some("")
            && bin.is_none_or(|bin| bin > 0 && bin % HOUR == 0);
        if !answerable {
            return Ok(None);
        }
        let mut tx = self.reader.begin_snapshot().await?;
        let summarized = tx
            .exec()
            .fetch_optional(Statement::new("SELECT summarized FROM ml_models WHERE id = $1", [model_id.into()]))
            .await?
            .map(|row| row.get::<i16, _>(0))
            .transpose()?;
        if summarized != Some(1) {
            return Ok(None);
        }
        let mut slice: Option<(SummarySource, &str)> = None;
        if let Some(predicate) = query.predicates.first() {
            match (&predicate.comparison, &predicate.value) {
                (MlComparison::Equal, MlPredicateValue::Text(value))
                    if source_kind(&mut tx, MlSource::Column(predicate.column_id)).await? == Some(SummaryKind::Text) =>
                {
                    slice = Some((SummarySource::sliced(predicate.column_id), value.as_str()));
                }
                _ => return Ok(None),
            }
        }
        let mut wanted = Vec::new();
        if labels {
            wanted.push(SummarySource::labels());
        }
        for source in sources {
            match source_kind(&mut tx, *source).await? {
                Some(kind) => wanted.push(SummarySource::of(*source, kind)),
                None => return Ok(None),
            }
        }
        let environment = query.environment.number();
        // Whole hours [first, last); the window's partial hours are read from the records.
        let first = query.start.map(|start| if start % HOUR == 0 { start } else { hour_of(start).saturating_add(HOUR) });
        let last = query.end.map(hour_of);
        let mut partial: Vec<(i64, i64)> = Vec::new();
        match (query.start, first) {
            (Some(start), Some(first)) if start < first => partial.push((start, query.end.map_or(first, |end| end.min(first)))),
            _ => {}
        }
        if let (Some(end), Some(last)) = (query.end, last) {
            let from = first.map_or(last, |first| last.max(first));
            if end > from && end % HOUR != 0 {
                partial.push((from.max(query.start.unwrap_or(i64::MIN)), end));
            }
        }
        let (lower, upper) = (first.unwrap_or(i64::MIN), last.unwrap_or(i64::MAX));
        let mut stale: Vec<i64> = Vec::new();
        if lower < upper {
            let rows = tx
                .exec()
                .fetch_all(Statement::new(
                    "SELECT hour FROM ml_stale_hours WHERE model_id = $1 AND environment = $2 AND hour >= $3 AND hour < $4",
                    [model_id.into(), environment.into(), lower.into(), upper.into()],
                ))
                .await?;
            stale = rows.iter().map(|row| row.get(0)).collect::<Result<_>>()?;
            if stale.len() > MAX_STALE_HOURS_ON_READ {
                return Ok(None);
            }
        }
        let mut summaries = Vec::new();
        if lower < upper {
            let keys: Vec<String> = match &slice {
                Some((sliced, _)) => vec![sliced.key.clone()],
                None => wanted.iter().map(|source| source.key.clone()).collect(),
            };
            let mut values: Vec<Value> = vec![model_id.into(), environment.into(), lower.into(), upper.into()];
            let placeholders: Vec<String> = keys
                .iter()
                .map(|key| {
                    values.push(key.as_str().into());
                    format!("${}", values.len())
                })
                .collect();
            let mut selected = format!(
                "FROM ml_summaries WHERE model_id = $1 AND environment = $2 AND hour >= $3 AND hour < $4 AND source IN ({})",
                placeholders.join(", ")
            );
            if let Some(version) = &query.model_version {
                values.push(version.as_str().into());
                selected.push_str(&format!(" AND model_version = ${}", values.len()));
            }
            // Summaries grow with the window's distinct values: past a bound, the SQL aggregates
            // over the records answer instead of holding them all.
            let size = Statement::new(format!("SELECT CAST(COALESCE(SUM(LENGTH(body)), 0) AS BIGINT) {selected}"), values.clone());
            if tx.exec().fetch_one(size).await?.get::<i64, _>(0)? > MAX_SUMMARY_BYTES_PER_READ {
                return Ok(None);
            }
            let rows = tx.exec().fetch_all(Statement::new(format!("SELECT source, hour, body {selected}"), values)).await?;
            for row in &rows {
                let hour: i64 = row.get(1)?;
                if stale.contains(&hour) {
                    continue;
                }
                let key: String = row.get(0)?;
                let body: Vec<u8> = row.get(2)?;
                let Some(summary) = Summary::decode(&body) else {
                    tracing::warn!(model_id, hour, key, "an unreadable summary; reading the records instead");
                    return Ok(None);
                };
                let Some(source) = keys.iter().position(|wanted| *wanted == key) else { continue };
                let summary = match &slice {
                    Some(_) if summary.unsliced => return Ok(None),
                    Some((_, value)) => match summary.slices.into_iter().find(|slice| slice.value == *value).and_then(|slice| slice.labels)
                    {
                        Some(labels) => *labels,
                        None => continue,
                    },
                    None => summary,
                };
                summaries.push(HourSummary { hour, source, summary });
            }
        }
        partial.extend(stale.iter().map(|hour| (*hour, hour + HOUR)));
        if !partial.is_empty() {
            let mut made = Summaries::new(&wanted);
            let columns = made.columns();
            let mut read = 0i64;
            for (from, to) in partial {
                let mut values: Vec<Value> = vec![environment.into(), from.into(), to.into()];
                let mut condition = "environment = $1 AND time >= $2 AND time < $3".to_string();
                if let Some(version) = &query.model_version {
                    values.push(version.as_str().into());
                    condition.push_str(&format!(" AND model_version = ${}", values.len()));
                }
                if let Some((sliced, value)) = &slice {
                    values.push((*value).into());
                    condition.push_str(&format!(" AND {} = ${}", sliced.column.as_deref().unwrap_or_default(), values.len()));
                }
                let sql = format!(
                    "SELECT {columns} FROM {} WHERE {condition} LIMIT {}",
                    table::table_name(model_id),
                    MAX_RECORDS_SUMMARIZED_ON_READ - read + 1
                );
                let rows = tx.exec().fetch_all(Statement::new(sql, values)).await?;
                read += rows.len() as i64;
                if read > MAX_RECORDS_SUMMARIZED_ON_READ {
                    return Ok(None);
                }
                for row in &rows {
                    made.add(row)?;
                }
            }
            summaries.extend(made.finish().into_iter().map(|(hour, _, source, summary)| HourSummary { hour, source, summary }));
        }
        Ok(Some(summaries))
    }
}

/// How a source is summarized: by its column's type for a feature or tag; `None` for a type
/// that is not (lists, dictionaries).
async fn source_kind(tx: &mut Transaction, source: MlSource) -> Result<Option<SummaryKind>> {
    Ok(match source {
        MlSource::PredictionLabel | MlSource::ActualLabel => Some(SummaryKind::Text),
        MlSource::PredictionScore | MlSource::PredictionValue | MlSource::ActualValue => Some(SummaryKind::Numeric),
        MlSource::Column(id) => {
            let row = tx.exec().fetch_optional(Statement::new("SELECT value_type FROM ml_columns WHERE id = $1", [id.into()])).await?;
            let value_type = row.map(|row| row.get::<String, _>(0)).transpose()?.and_then(|name| ember_core::ml::MlValueType::parse(&name));
            match value_type {
                Some(value_type) if value_type.is_numeric() => Some(SummaryKind::Numeric),
                Some(ember_core::ml::MlValueType::String) => Some(SummaryKind::Text),
                _ => None,
            }
        }
    })
}
