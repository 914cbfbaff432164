//! The aggregates that monitor a model, each one SQL statement over the records an
//! [`MlRecordQuery`] selects (its cursor and limit aside), optionally per time bin (bins aligned on
//! the epoch, as for the volume): confusion counts and log-loss sums of a classifier, the
//! concordant pairs behind its AUC, error sums of a regression, per-group NDCG of a ranking,
//! presence and cardinality of values, baseline quantiles, histograms, category counts, values
//! unseen in a baseline, and embedding centroids. The formulas that turn them into metrics and
//! drift live in the service; nothing here loads records.

use sea_query::Value;

use super::from_summaries;
use super::read::{conditions_after, MlRecordQuery};
use super::summary::CLIP;
use super::table;
use crate::engine::backend::{Row, Statement};
use crate::engine::db::Store;
use crate::error::Result;

/// What a distribution is taken of: a feature's or tag's column, or a side of the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlSource {
    /// The `ml_columns` id of a feature or tag.
    Column(i64),
    PredictionLabel,
    PredictionScore,
    PredictionValue,
    ActualLabel,
    ActualValue,
}

impl MlSource {
    pub(super) fn column(self) -> String {
        match self {
            MlSource::Column(id) => table::value_column(id),
            MlSource::PredictionLabel => "prediction_label".into(),
            MlSource::PredictionScore => "prediction_score".into(),
            MlSource::PredictionValue => "prediction_value".into(),
            MlSource::ActualLabel => "actual_label".into(),
            MlSource::ActualValue => "actual_value".into(),
        }
    }
}

/// How a classifier's records are counted: which class is positive, and whether a prediction is
/// positive by its label or by its score reaching a threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct MlClassification {
    pub positive_class: String,
    /// `None`: the predicted label decides.
    pub threshold: Option<f64>,
}

/// A classifier's counts in one bin (records with a prediction and an actual label).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MlConfusion {
    pub start: i64,
    pub true_positives: i64,
    pub false_positives: i64,
    pub false_negatives: i64,
    pub true_negatives: i64,
    /// Records whose predicted label is the actual one.
    pub matching: i64,
    /// Records with a score, and the sum of their log likelihood (scores clipped to
    /// [ε, 1 − ε], ε the `f64` machine epsilon).
    pub scored: i64,
    pub log_likelihood: f64,
}

/// Another bin's counts added in (this bin's start kept).
impl std::ops::AddAssign<&MlConfusion> for MlConfusion {
    fn add_assign(&mut self, other: &MlConfusion) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
        self.true_negatives += other.true_negatives;
        self.matching += other.matching;
        self.scored += other.scored;
        self.log_likelihood += other.log_likelihood;
    }
}

/// The pairs behind a classifier's AUC in one bin: positives and negatives with a score, and the
/// positive-negative pairs ordered right (ties counting one half) — within the bin, and between
/// the bin's positives and every bin's negatives (summed over the bins: the pairs of the whole).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MlRankPairs {
    pub start: i64,
    pub concordant: f64,
    pub concordant_overall: f64,
    pub positives: i64,
    pub negatives: i64,
}

/// A regression's sums in one bin (records with a predicted and an actual value).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MlErrorSums {
    pub start: i64,
    pub count: i64,
    pub absolute: f64,
    pub squared: f64,
    /// Of |error| / max(|actual|, ε).
    pub absolute_percentage: f64,
    pub actual: f64,
    pub actual_squared: f64,
}

/// Another bin's sums added in (this bin's start kept).
impl std::ops::AddAssign<&MlErrorSums> for MlErrorSums {
    fn add_assign(&mut self, other: &MlErrorSums) {
        self.count += other.count;
        self.absolute += other.absolute;
        self.squared += other.squared;
        self.absolute_percentage += other.absolute_percentage;
        self.actual += other.actual;
        self.actual_squared += other.actual_squared;
    }
}

/// A ranking's NDCG@k summed over the groups of one bin.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MlNdcgSum {
    pub start: i64,
    pub ndcg: f64,
    pub groups: i64,
}

/// How many of the selected records hold a source's value, and how many distinct values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MlPresence {
    pub records: i64,
    pub present: i64,
    pub distinct: i64,
}

/// An embedding's mean vector and how many records hold it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MlCentroid {
    pub records: i64,
    pub mean: Vec<f64>,
}

/// The statement's binds: the query's conditions first, then what a statement adds.
struct Binds {
    values: Vec<Value>,
}

impl Binds {
    fn push(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }
}

/// The query's `WHERE` text (cursor dropped) and its binds.
fn selection(query: &MlRecordQuery) -> (String, Binds) {
    let mut binds = Binds { values: Vec::new() };
    let selected = binds.select(query);
    (selected, binds)
}

impl Binds {
    /// The `WHERE` text of `query` (cursor dropped), its values bound after those already here.
    fn select(&mut self, query: &MlRecordQuery) -> String {
        conditions_after(&MlRecordQuery { after: None, ..query.clone() }, &mut self.values).join(" AND ")
    }
}

fn bin_expression(bin: Option<i64>) -> String {
    match bin {
        Some(bin) => format!("(time - time % {})", bin.max(1)),
        None => "CAST(0 AS BIGINT)".into(),
    }
}

/// The share of an environment's time span above which a window is read by scanning the table.
const SCAN_SHARE: f64 = 0.2;

impl Store {
    /// The record table as an aggregate over `query`'s window reads it. SQLite walks the time
    /// index for any window, fetching each row by id: for a window over much of the records that
    /// is several times slower than reading the table through (measured: 2.6 s against 0.6 s over
    /// a million records), so a window over more than [`SCAN_SHARE`] of the environment's span
    /// (from two index probes) is read with the index set aside. PostgreSQL's planner weighs this
    /// itself.
    pub(super) async fn ml_scanned(&self, model_id: i64, query: &MlRecordQuery) -> Result<String> {
        let table = table::table_name(model_id);
        if self.dialect != crate::engine::dialect::Dialect::Sqlite {
            return Ok(table);
        }
        let wide = match (query.start, query.end) {
            (None, None) => true,
            (start, end) => {
                let extreme = |aggregate: &str| {
                    Statement::new(
                        format!("SELECT {aggregate}(time) FROM {table} WHERE environment = $1"),
                        [query.environment.number().into()],
                    )
                };
                let first = self.reader.exec().fetch_optional(extreme("MIN")).await?;
                let last = self.reader.exec().fetch_optional(extreme("MAX")).await?;
                let time =
                    |row: Option<Row>| -> Result<Option<i64>> { Ok(row.map(|row| row.get::<Option<i64>, _>(0)).transpose()?.flatten()) };
                match (time(first)?, time(last)?) {
                    (Some(first), Some(last)) if last > first => {
                        let covered = end.unwrap_or(last).min(last) - start.unwrap_or(first).max(first);
                        covered as f64 / (last - first) as f64 > SCAN_SHARE
                    }
                    _ => false,
                }
            }
        };
        Ok(if wide { format!("{table} NOT INDEXED") } else { table })
    }

    /// A classifier's confusion counts and log likelihood, per bin.
    pub async fn ml_confusion(
        &self,
        model_id: i64,
        query: &MlRecordQuery,
        bin: Option<i64>,
        classification: &MlClassification,
    ) -> Result<Vec<MlConfusion>> {
        if let Some(summaries) = self.ml_hour_summaries(model_id, query, &[], bin, true).await? {
            return Ok(from_summaries::confusion(&summaries, bin, classification));
        }
        let (selected, mut binds) = selection(query);
        let positive = binds.push(classification.positive_class.as_str());
        let (predicted, predicted_known) = match classification.threshold {
            Some(threshold) => (format!("prediction_score >= {}", binds.push(threshold)), "prediction_score IS NOT NULL"),
            None => (format!("prediction_label = {positive}"), "prediction_label IS NOT NULL"),
        };
        let clipped = format!("CASE WHEN s < {CLIP:e} THEN {CLIP:e} WHEN s > 1 - {CLIP:e} THEN 1 - {CLIP:e} ELSE s END");
        let log_of = |expression: &str| self.dialect.natural_log(expression);
        let sql = format!(
            "SELECT bin,
                CAST(SUM(CASE WHEN p = 1 AND a = 1 THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN p = 1 AND a = 0 THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN p = 0 AND a = 1 THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN p = 0 AND a = 0 THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(m) AS BIGINT),
                CAST(COUNT(s) AS BIGINT),
                CAST(SUM(CASE WHEN s IS NULL THEN 0 WHEN a = 1 THEN {log_positive} ELSE {log_negative} END) AS DOUBLE PRECISION)
             FROM (SELECT {bin} AS bin,
                     CASE WHEN {predicted} THEN 1 ELSE 0 END AS p,
                     CASE WHEN actual_label = {positive} THEN 1 ELSE 0 END AS a,
                     CASE WHEN prediction_label = actual_label THEN 1 ELSE 0 END AS m,
                     prediction_score AS s
                   FROM {table}
                   WHERE {selected} AND has_prediction = 1 AND has_actual = 1 AND actual_label IS NOT NULL AND {predicted_known}) counted
             GROUP BY bin ORDER BY bin",
            log_positive = log_of(&clipped),
            log_negative = log_of(&format!("1 - ({clipped})")),
            bin = bin_expression(bin),
            table = self.ml_scanned(model_id, query).await?,
        );
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        rows.iter()
            .map(|row| {
                Ok(MlConfusion {
                    start: row.get(0)?,
                    true_positives: row.get(1)?,
                    false_positives: row.get(2)?,
                    false_negatives: row.get(3)?,
                    true_negatives: row.get(4)?,
                    matching: row.get(5)?,
                    scored: row.get(6)?,
                    log_likelihood: row.get::<Option<f64>, _>(7)?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The ordered positive-negative pairs of a classifier's scores, per bin: for each distinct
    /// score, its positives times the negatives scored below it plus half those scored the same,
    /// in the bin and over all the bins.
    pub async fn ml_rank_pairs(
        &self,
        model_id: i64,
        query: &MlRecordQuery,
        bin: Option<i64>,
        positive_class: &str,
    ) -> Result<Vec<MlRankPairs>> {
        if let Some(summaries) = self.ml_hour_summaries(model_id, query, &[], bin, true).await? {
            return Ok(from_summaries::rank_pairs(&summaries, bin, positive_class));
        }
        let (selected, mut binds) = selection(query);
        let positive = binds.push(positive_class);
        let sql = format!(
            "WITH scored AS (
                SELECT {bin} AS bin, prediction_score AS s, CASE WHEN actual_label = {positive} THEN 1 ELSE 0 END AS y
                FROM {table}
                WHERE {selected} AND has_prediction = 1 AND has_actual = 1 AND actual_label IS NOT NULL AND prediction_score IS NOT NULL
             ),
             per_score AS (
                SELECT bin, s, CAST(SUM(y) AS BIGINT) AS positives, CAST(COUNT(*) - SUM(y) AS BIGINT) AS negatives
                FROM scored GROUP BY bin, s
             ),
             ordered AS (
                SELECT bin, positives, negatives,
                    COALESCE(SUM(negatives) OVER (PARTITION BY bin ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS below_in_bin,
                    SUM(negatives) OVER (ORDER BY s RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS up_to_overall,
                    SUM(negatives) OVER (PARTITION BY s) AS at_overall
                FROM per_score
             )
             SELECT bin,
                CAST(SUM(positives * (below_in_bin + negatives * 0.5)) AS DOUBLE PRECISION),
                CAST(SUM(positives * (up_to_overall - at_overall * 0.5)) AS DOUBLE PRECISION),
                CAST(SUM(positives) AS BIGINT),
                CAST(SUM(negatives) AS BIGINT)
             FROM ordered GROUP BY bin ORDER BY bin",
            bin = bin_expression(bin),
            table = self.ml_scanned(model_id, query).await?,
        );
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        rows.iter()
            .map(|row| {
                Ok(MlRankPairs {
                    start: row.get(0)?,
                    concordant: row.get::<Option<f64>, _>(1)?.unwrap_or_default(),
                    concordant_overall: row.get::<Option<f64>, _>(2)?.unwrap_or_default(),
                    positives: row.get(3)?,
                    negatives: row.get(4)?,
                })
            })
            .collect()
    }

    /// A regression's error sums, per bin.
    pub async fn ml_error_sums(&self, model_id: i64, query: &MlRecordQuery, bin: Option<i64>) -> Result<Vec<MlErrorSums>> {
        if let Some(summaries) = self.ml_hour_summaries(model_id, query, &[], bin, true).await? {
            return Ok(from_summaries::error_sums(&summaries, bin));
        }
        let (selected, binds) = selection(query);
        let sql = format!(
            "SELECT bin, CAST(COUNT(*) AS BIGINT),
                CAST(SUM(ABS(p - a)) AS DOUBLE PRECISION),
                CAST(SUM((p - a) * (p - a)) AS DOUBLE PRECISION),
                CAST(SUM(ABS(p - a) / CASE WHEN ABS(a) > {CLIP:e} THEN ABS(a) ELSE {CLIP:e} END) AS DOUBLE PRECISION),
                CAST(SUM(a) AS DOUBLE PRECISION),
                CAST(SUM(a * a) AS DOUBLE PRECISION)
             FROM (SELECT {bin} AS bin, prediction_value AS p, actual_value AS a FROM {table}
                   WHERE {selected} AND has_prediction = 1 AND has_actual = 1
                     AND prediction_value IS NOT NULL AND actual_value IS NOT NULL) paired
             GROUP BY bin ORDER BY bin",
            bin = bin_expression(bin),
            table = self.ml_scanned(model_id, query).await?,
        );
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        rows.iter()
            .map(|row| {
                Ok(MlErrorSums {
                    start: row.get(0)?,
                    count: row.get(1)?,
                    absolute: row.get(2)?,
                    squared: row.get(3)?,
                    absolute_percentage: row.get(4)?,
                    actual: row.get(5)?,
                    actual_squared: row.get(6)?,
                })
            })
            .collect()
    }

    /// A ranking's NDCG@`k` summed over its groups, per bin: the gain of an item is its actual
    /// relevance (0 without one), discounted by log(rank + 1); a group whose ideal gain is 0 counts
    /// 0. A group belongs to the bin of its items' times.
    pub async fn ml_ndcg(&self, model_id: i64, query: &MlRecordQuery, bin: Option<i64>, k: i64) -> Result<Vec<MlNdcgSum>> {
        let (selected, binds) = selection(query);
        let log_of = |expression: &str| self.dialect.natural_log(expression);
        let sql = format!(
            "WITH items AS (
                SELECT {bin} AS bin, prediction_group_id AS g, prediction_rank AS r, COALESCE(actual_score, 0) AS relevance
                FROM {table}
                WHERE {selected} AND has_prediction = 1 AND prediction_group_id IS NOT NULL AND prediction_rank IS NOT NULL
             ),
             ideal AS (
                SELECT bin, g, r, relevance, ROW_NUMBER() OVER (PARTITION BY bin, g ORDER BY relevance DESC) AS ideal_rank FROM items
             ),
             per_group AS (
                SELECT bin, g,
                    SUM(CASE WHEN r <= {k} THEN relevance / {log_rank} ELSE 0 END) AS gain,
                    SUM(CASE WHEN ideal_rank <= {k} THEN relevance / {log_ideal_rank} ELSE 0 END) AS ideal_gain
                FROM ideal GROUP BY bin, g
             )
             SELECT bin, CAST(SUM(CASE WHEN ideal_gain > 0 THEN gain / ideal_gain ELSE 0 END) AS DOUBLE PRECISION), CAST(COUNT(*) AS BIGINT)
             FROM per_group GROUP BY bin ORDER BY bin",
            log_rank = log_of("CAST(r AS DOUBLE PRECISION) + 1"),
            log_ideal_rank = log_of("CAST(ideal_rank AS DOUBLE PRECISION) + 1"),
            bin = bin_expression(bin),
            table = self.ml_scanned(model_id, query).await?,
            k = k.max(1),
        );
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        rows.iter().map(|row| Ok(MlNdcgSum { start: row.get(0)?, ndcg: row.get(1)?, groups: row.get(2)? })).collect()
    }

    /// For each source, how many selected records hold a value and (with `distinct`) how many
    /// distinct values they hold, 0 otherwise; one scan.
    pub async fn ml_presence(&self, model_id: i64, query: &MlRecordQuery, sources: &[MlSource], distinct: bool) -> Result<Vec<MlPresence>> {
        // A source at a time, so that one source's summaries are held at once.
        let mut answered = Vec::with_capacity(sources.len());
        for source in sources {
            match self.ml_hour_summaries(model_id, query, &[*source], None, false).await? {
                Some(summaries) => answered.push(from_summaries::presence(&summaries, distinct)),
                None => break,
            }
        }
        if answered.len() == sources.len() {
            return Ok(answered);
        }
        let (selected, binds) = selection(query);
        let mut select = vec!["CAST(COUNT(*) AS BIGINT)".to_string()];
        for source in sources {
            let column = source.column();
            let distinct = if distinct { format!("COUNT(DISTINCT {column})") } else { "0".into() };
            select.push(format!("CAST(COUNT({column}) AS BIGINT), CAST({distinct} AS BIGINT)"));
        }
        let sql = format!("SELECT {} FROM {} WHERE {selected}", select.join(", "), self.ml_scanned(model_id, query).await?);
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        let Some(row) = rows.first() else { return Ok(vec![MlPresence::default(); sources.len()]) };
        let records: i64 = row.get(0)?;
        (0..sources.len())
            .map(|index| Ok(MlPresence { records, present: row.get(1 + 2 * index)?, distinct: row.get(2 + 2 * index)? }))
            .collect()
    }

    /// The values of a numeric source at the given 1-based `positions` of its selected values
    /// in ascending order (positions past the end are left out).
    pub async fn ml_order_statistics(&self, model_id: i64, query: &MlRecordQuery, source: MlSource, positions: &[i64]) -> Result<Vec<f64>> {
        if positions.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(summaries) = self.ml_hour_summaries(model_id, query, &[source], None, false).await? {
            return Ok(from_summaries::order_statistics(&summaries, positions));
        }
        let (selected, mut binds) = selection(query);
        let column = source.column();
        let wanted: Vec<String> = positions.iter().map(|position| binds.push(*position)).collect();
        let sql = format!(
            "SELECT v FROM (
                SELECT {column} AS v, ROW_NUMBER() OVER (ORDER BY {column}) AS position
                FROM {table} WHERE {selected} AND {column} IS NOT NULL
             ) ranked WHERE position IN ({wanted}) ORDER BY position",
            table = self.ml_scanned(model_id, query).await?,
            wanted = wanted.join(", "),
        );
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        rows.iter().map(|row| row.get(0)).collect()
    }

    /// For each numeric source and its ascending `edges`, how many selected values fall in each
    /// bin the edges cut (bin i holds values v with edges[i - 1] <= v < edges[i]; `edges.len() + 1`
    /// bins); one scan for them all.
    pub async fn ml_histograms(&self, model_id: i64, query: &MlRecordQuery, sources: &[(MlSource, Vec<f64>)]) -> Result<Vec<Vec<i64>>> {
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        let mut answered = Vec::with_capacity(sources.len());
        for (source, edges) in sources {
            match self.ml_hour_summaries(model_id, query, &[*source], None, false).await? {
                Some(summaries) => answered.push(from_summaries::histogram(&summaries, edges)),
                None => break,
            }
        }
        if answered.len() == sources.len() {
            return Ok(answered);
        }
        let (selected, mut binds) = selection(query);
        let mut counts = Vec::new();
        for (source, edges) in sources {
            let column = source.column();
            let bounds: Vec<String> = edges.iter().map(|edge| binds.push(*edge)).collect();
            for index in 0..=bounds.len() {
                let mut tests = vec![format!("{column} IS NOT NULL")];
                if index > 0 {
                    tests.push(format!("{column} >= {}", bounds[index - 1]));
                }
                if index < bounds.len() {
                    tests.push(format!("{column} < {}", bounds[index]));
                }
                counts.push(format!("CAST(SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS BIGINT)", tests.join(" AND ")));
            }
        }
        let sql = format!("SELECT {} FROM {} WHERE {selected}", counts.join(", "), self.ml_scanned(model_id, query).await?);
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        let mut position = 0;
        let mut histograms = Vec::with_capacity(sources.len());
        for (_, edges) in sources {
            let mut histogram = Vec::with_capacity(edges.len() + 1);
            for _ in 0..=edges.len() {
                let count = match rows.first() {
                    Some(row) => row.get::<Option<i64>, _>(position)?.unwrap_or_default(),
                    None => 0,
                };
                histogram.push(count);
                position += 1;
            }
            histograms.push(histogram);
        }
        Ok(histograms)
    }

    /// The `limit` most frequent values of a source among the selected records, with their
    /// counts, most frequent first (ties by value); numbers as their text.
    pub async fn ml_value_counts(
        &self,
        model_id: i64,
        query: &MlRecordQuery,
        source: MlSource,
        limit: usize,
    ) -> Result<Vec<(String, i64)>> {
        // Numbers are counted by the SQL below, which answers them as text.
        if let Some(summaries) = self.ml_hour_summaries(model_id, query, &[source], None, false).await? {
            if summaries.iter().all(|hour| hour.summary.numbers.is_empty()) {
                return Ok(from_summaries::value_counts(&summaries, limit));
            }
        }
        let (selected, binds) = selection(query);
        let column = source.column();
        let sql = format!(
            "SELECT {column} AS v, CAST(COUNT(*) AS BIGINT) AS n FROM {table} WHERE {selected} AND {column} IS NOT NULL
             GROUP BY {column} ORDER BY n DESC, v LIMIT {limit}",
            table = self.ml_scanned(model_id, query).await?,
        );
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        rows.iter().map(|row| Ok((value_text(row, 0)?, row.get(1)?))).collect()
    }

    /// How many distinct values of a source the `current` records hold that no `baseline`
    /// record holds.
    pub async fn ml_unseen_values(
        &self,
        model_id: i64,
        current: &MlRecordQuery,
        baseline: &MlRecordQuery,
        source: MlSource,
    ) -> Result<i64> {
        let texts_only = |summaries: &[super::rollup::HourSummary]| summaries.iter().all(|hour| hour.summary.numbers.is_empty());
        if let (Some(of_current), Some(of_baseline)) = (
            self.ml_hour_summaries(model_id, current, &[source], None, false).await?,
            self.ml_hour_summaries(model_id, baseline, &[source], None, false).await?,
        ) {
            if texts_only(&of_current) && texts_only(&of_baseline) {
                return Ok(from_summaries::unseen_values(&of_current, &of_baseline));
            }
        }
        let (current_selected, mut binds) = selection(current);
        let baseline_selected = binds.select(baseline);
        let column = source.column();
        let (current_table, baseline_table) = (self.ml_scanned(model_id, current).await?, self.ml_scanned(model_id, baseline).await?);
        let sql = format!(
            "SELECT CAST(COUNT(DISTINCT {column}) AS BIGINT) FROM {current_table}
             WHERE {current_selected} AND {column} IS NOT NULL
               AND {column} NOT IN (SELECT {column} FROM {baseline_table} WHERE {baseline_selected} AND {column} IS NOT NULL)"
        );
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        rows.first().map(|row| row.get(0)).transpose().map(Option::unwrap_or_default)
    }

    /// The mean vector of embedding `name` over the selected records that hold it.
    pub async fn ml_centroid(&self, model_id: i64, query: &MlRecordQuery, name: &str) -> Result<MlCentroid> {
        let (selected, mut binds) = selection(query);
        let name = binds.push(name);
        let (elements, condition) = self.dialect.json_vector_elements("embeddings", &name);
        let table = self.ml_scanned(model_id, query).await?;
        let sql = format!(
            "SELECT CAST(element_row.key AS BIGINT) AS position,
                CAST(SUM(CAST(element_row.value AS DOUBLE PRECISION)) AS DOUBLE PRECISION),
                CAST(COUNT(*) AS BIGINT)
             FROM {table}, {elements}
             WHERE {selected} AND embeddings IS NOT NULL AND {condition}
             GROUP BY position ORDER BY position"
        );
        let rows = self.fetch_within_budget(Statement::new(sql, binds.values)).await?;
        let mut centroid = MlCentroid::default();
        for row in &rows {
            let sum: f64 = row.get(1)?;
            let count: i64 = row.get(2)?;
            centroid.records = centroid.records.max(count);
            centroid.mean.push(if count > 0 { sum / count as f64 } else { 0.0 });
        }
        Ok(centroid)
    }
}

/// A value of a numeric or text column as text.
fn value_text(row: &Row, index: usize) -> Result<String> {
    Ok(match row.get::<Option<String>, _>(index) {
        Ok(text) => text.unwrap_or_default(),
        Err(_) => row.get::<Option<f64>, _>(index)?.map(|number| number.to_string()).unwrap_or_default(),
    })
}
