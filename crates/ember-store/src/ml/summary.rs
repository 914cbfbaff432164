//! The hourly summary of one source of a model's records (see `rollup` for when they are made
//! and read), and how summaries are made from records and combined into the monitoring
//! aggregates. A summary keeps exactly what the aggregates of `monitor` need, so answers from
//! summaries equal answers from the records:
//!
//! - the **labels** summary: the records and those with an actual; for records with a
//!   prediction and an actual label, their count, scored count and clipped log-likelihood sums
//!   per (predicted label, actual label), and their scores per actual label as sorted (value,
//!   count) runs; for records with a predicted and an actual value, the regression's error sums;
//! - a **numeric** source's values as a sorted (value, count) run;
//! - a **text** source's values with their counts, sorted by value;
//! - a text column's **sliced labels**: a labels summary per value of the column (for a
//!   performance slice `column == value`), or none when the hour holds more than
//!   [`MAX_SLICES`] values.
//!
//! Summaries are protobuf messages (`prost`), stored as bytes.

use std::collections::{BTreeMap, HashMap};

use prost::Message;

/// The hour summaries are kept per, in ns.
pub(crate) const HOUR: i64 = 3_600_000_000_000;

/// The start of the hour of `time`, as the SQL `time - time % 3600000000000` computes it.
pub(crate) fn hour_of(time: i64) -> i64 {
    time - time % HOUR
}

/// Scores are clipped to [ε, 1 − ε] before their logarithm, ε the `f64` machine epsilon.
pub(crate) const CLIP: f64 = f64::EPSILON;

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Summary {
    /// Records of the hour and version.
    #[prost(int64, tag = "1")]
    pub records: i64,
    #[prost(int64, tag = "2")]
    pub with_actual: i64,
    #[prost(message, repeated, tag = "3")]
    pub cells: Vec<LabelCell>,
    #[prost(message, repeated, tag = "4")]
    pub scores: Vec<ScoreRun>,
    #[prost(message, optional, tag = "5")]
    pub errors: Option<ErrorSums>,
    /// A numeric source's distinct values, ascending, with `counts`.
    #[prost(double, repeated, tag = "6")]
    pub numbers: Vec<f64>,
    /// A text source's distinct values, ascending by byte, with `counts`.
    #[prost(string, repeated, tag = "7")]
    pub texts: Vec<String>,
    #[prost(int64, repeated, tag = "8")]
    pub counts: Vec<i64>,
    /// Sliced labels: a labels summary per value, ascending by value.
    #[prost(message, repeated, tag = "9")]
    pub slices: Vec<Slice>,
    /// Sliced labels of an hour with more than [`MAX_SLICES`] values: none kept.
    #[prost(bool, tag = "10")]
    pub unsliced: bool,
}

/// The labels summary of the records whose column holds `value`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Slice {
    #[prost(string, tag = "1")]
    pub value: String,
    #[prost(message, optional, boxed, tag = "2")]
    pub labels: Option<Box<Summary>>,
}

/// The most values of a column an hour's sliced labels keep.
pub(crate) const MAX_SLICES: usize = 64;

/// Records with a prediction and an actual label, of one (predicted label, actual label).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct LabelCell {
    #[prost(string, optional, tag = "1")]
    pub predicted: Option<String>,
    #[prost(string, tag = "2")]
    pub actual: String,
    #[prost(int64, tag = "3")]
    pub records: i64,
    /// Of them, records with a score, and the sums of ln(s) and ln(1 − s) of their clipped scores.
    #[prost(int64, tag = "4")]
    pub scored: i64,
    #[prost(double, tag = "5")]
    pub log_score: f64,
    #[prost(double, tag = "6")]
    pub log_complement: f64,
}

/// The scores of records with a prediction, an actual label `actual` and a score: distinct
/// values ascending, with their counts.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ScoreRun {
    #[prost(string, tag = "1")]
    pub actual: String,
    #[prost(double, repeated, tag = "2")]
    pub values: Vec<f64>,
    #[prost(int64, repeated, tag = "3")]
    pub counts: Vec<i64>,
}

#[derive(Clone, Copy, PartialEq, Message)]
pub(crate) struct ErrorSums {
    #[prost(int64, tag = "1")]
    pub count: i64,
    #[prost(double, tag = "2")]
    pub absolute: f64,
    #[prost(double, tag = "3")]
    pub squared: f64,
    #[prost(double, tag = "4")]
    pub absolute_percentage: f64,
    #[prost(double, tag = "5")]
    pub actual: f64,
    #[prost(double, tag = "6")]
    pub actual_squared: f64,
}

/// What a summary is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SummaryKind {
    Labels,
    Numeric,
    Text,
    SlicedLabels,
}

/// The values of one record that a summary of `kind` reads.
pub(crate) enum RecordValues<'a> {
    Labels(&'a LabelValues),
    Number(Option<f64>),
    Text(Option<&'a str>),
    /// The labels and the slicing column's value.
    Sliced(&'a LabelValues, Option<&'a str>),
}

/// The fixed columns a labels summary reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelValues {
    pub has_prediction: bool,
    pub has_actual: bool,
    pub prediction_label: Option<String>,
    pub prediction_score: Option<f64>,
    pub prediction_value: Option<f64>,
    pub actual_label: Option<String>,
    pub actual_value: Option<f64>,
}

/// A summary being made, one record at a time.
#[derive(Default)]
pub(crate) struct SummaryBuilder {
    records: i64,
    with_actual: i64,
    cells: BTreeMap<(Option<String>, String), LabelCell>,
    scores: BTreeMap<String, Vec<f64>>,
    errors: Option<ErrorSums>,
    numbers: Vec<f64>,
    texts: HashMap<String, i64>,
    slices: HashMap<String, SummaryBuilder>,
    unsliced: bool,
}

fn clipped(score: f64) -> f64 {
    score.clamp(CLIP, 1.0 - CLIP)
}

impl SummaryBuilder {
    pub(crate) fn add(&mut self, values: RecordValues<'_>) {
        self.records += 1;
        match values {
            RecordValues::Labels(labels) => self.add_labels(labels),
            RecordValues::Number(Some(number)) if !number.is_nan() => self.numbers.push(number),
            RecordValues::Text(Some(text)) => *self.texts.entry(text.to_string()).or_default() += 1,
            RecordValues::Sliced(labels, Some(value)) if !self.unsliced => {
                if !self.slices.contains_key(value) && self.slices.len() == MAX_SLICES {
                    self.slices.clear();
                    self.unsliced = true;
                    return;
                }
                self.slices.entry(value.to_string()).or_default().add(RecordValues::Labels(labels));
            }
            _ => {}
        }
    }

    fn add_labels(&mut self, labels: &LabelValues) {
        if labels.has_actual {
            self.with_actual += 1;
        }
        if !(labels.has_prediction && labels.has_actual) {
            return;
        }
        if let Some(actual) = &labels.actual_label {
            let cell = self.cells.entry((labels.prediction_label.clone(), actual.clone())).or_insert_with(|| LabelCell {
                predicted: labels.prediction_label.clone(),
                actual: actual.clone(),
                ..LabelCell::default()
            });
            cell.records += 1;
            if let Some(score) = labels.prediction_score.filter(|score| !score.is_nan()) {
                cell.scored += 1;
                cell.log_score += clipped(score).ln();
                cell.log_complement += (1.0 - clipped(score)).ln();
                self.scores.entry(actual.clone()).or_default().push(score);
            }
        }
        if let (Some(predicted), Some(actual)) = (labels.prediction_value, labels.actual_value) {
            let error = (predicted - actual).abs();
            let sums = self.errors.get_or_insert_with(ErrorSums::default);
            sums.count += 1;
            sums.absolute += error;
            sums.squared += error * error;
            sums.absolute_percentage += error / if actual.abs() > CLIP { actual.abs() } else { CLIP };
            sums.actual += actual;
            sums.actual_squared += actual * actual;
        }
    }

    pub(crate) fn finish(self) -> Summary {
        let mut texts: Vec<(String, i64)> = self.texts.into_iter().collect();
        texts.sort_unstable();
        let (numbers, counts) =
            if texts.is_empty() { runs(self.numbers) } else { (Vec::new(), texts.iter().map(|(_, count)| *count).collect()) };
        let mut slices: Vec<Slice> =
            self.slices.into_iter().map(|(value, builder)| Slice { value, labels: Some(Box::new(builder.finish())) }).collect();
        slices.sort_unstable_by(|a, b| a.value.cmp(&b.value));
        Summary {
            records: self.records,
            with_actual: self.with_actual,
            cells: self.cells.into_values().collect(),
            scores: self
                .scores
                .into_iter()
                .map(|(actual, scores)| {
                    let (values, counts) = runs(scores);
                    ScoreRun { actual, values, counts }
                })
                .collect(),
            errors: self.errors,
            numbers,
            texts: texts.into_iter().map(|(text, _)| text).collect(),
            counts,
            slices,
            unsliced: self.unsliced,
        }
    }
}

/// Values sorted into distinct values with their counts; -0 counts as 0, as SQL compares it.
fn runs(mut values: Vec<f64>) -> (Vec<f64>, Vec<i64>) {
    for value in &mut values {
        if *value == 0.0 {
            *value = 0.0;
        }
    }
    values.sort_unstable_by(f64::total_cmp);
    let mut distinct: Vec<f64> = Vec::new();
    let mut counts: Vec<i64> = Vec::new();
    for value in values {
        match distinct.last() {
            Some(last) if *last == value => *counts.last_mut().expect("a count per value") += 1,
            _ => {
                distinct.push(value);
                counts.push(1);
            }
        }
    }
    (distinct, counts)
}

impl Summary {
    pub(crate) fn encode(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Summary> {
        Message::decode(bytes).ok()
    }

    /// The (value, count) pairs of a numeric summary.
    pub(crate) fn number_runs(&self) -> impl Iterator<Item = (f64, i64)> + '_ {
        self.numbers.iter().copied().zip(self.counts.iter().copied())
    }

    /// The (value, count) pairs of a text summary.
    pub(crate) fn text_runs(&self) -> impl Iterator<Item = (&str, i64)> + '_ {
        self.texts.iter().map(String::as_str).zip(self.counts.iter().copied())
    }

    /// Values the summary holds (not the records).
    pub(crate) fn present(&self) -> i64 {
        self.counts.iter().sum()
    }
}

/// Sorts (value, count) pairs and adds up the counts of equal values.
pub(crate) fn merge_pairs(pairs: &mut Vec<(f64, i64)>) {
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    pairs.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1 += later.1;
            true
        } else {
            false
        }
    });
}

/// The values at 1-based `positions` (ascending, each once, at least 1) of the values of the
/// sorted runs of `summaries` taken together, in ascending order; positions past the end are
/// left out. Found by bisecting the order of `f64`s on how many values lie at or below a
/// candidate, so nothing is merged or sorted.
pub(crate) fn order_statistics(summaries: &[&Summary], positions: &[i64]) -> Vec<f64> {
    // f64 as u64 so that integer order is `total_cmp`'s order, and back.
    let key = |value: f64| {
        let bits = value.to_bits();
        if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        }
    };
    let value_of = |key: u64| f64::from_bits(if key >> 63 == 1 { key & !(1 << 63) } else { !key });
    let at_or_below = |limit: f64| -> i64 {
        summaries
            .iter()
            .map(|summary| {
                let upto = summary.numbers.partition_point(|value| value.total_cmp(&limit).is_le());
                summary.counts[..upto].iter().sum::<i64>()
            })
            .sum()
    };
    let total: i64 = summaries.iter().map(|summary| summary.present()).sum();
    let lowest = summaries.iter().filter_map(|summary| summary.numbers.first()).copied().min_by(f64::total_cmp);
    let highest = summaries.iter().filter_map(|summary| summary.numbers.last()).copied().max_by(f64::total_cmp);
    let (Some(lowest), Some(highest)) = (lowest, highest) else { return Vec::new() };
    positions
        .iter()
        .filter(|position| **position <= total)
        .map(|position| {
            // The least value with at least `position` values at or below it.
            let (mut low, mut high) = (key(lowest), key(highest));
            while low < high {
                let middle = low + (high - low) / 2;
                if at_or_below(value_of(middle)) >= *position {
                    high = middle;
                } else {
                    low = middle + 1;
                }
            }
            value_of(low)
        })
        .collect()
}

/// Positive-negative pairs ordered right between `positives` and `negatives` (both merged
/// runs), ties counting one half.
pub(crate) fn concordant_pairs(positives: &[(f64, i64)], negatives: &[(f64, i64)]) -> f64 {
    let mut below = 0i64;
    let mut next = 0;
    let mut concordant = 0.0;
    for (score, count) in positives {
        while next < negatives.len() && negatives[next].0 < *score {
            below += negatives[next].1;
            next += 1;
        }
        let tied = match negatives.get(next) {
            Some((value, tied)) if value == score => *tied,
            _ => 0,
        };
        concordant += *count as f64 * (below as f64 + tied as f64 * 0.5);
    }
    concordant
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_runs_merge_equal_values_and_keep_order() {
        let mut builder = SummaryBuilder::default();
        for value in [3.0, -0.0, 1.5, 3.0, f64::NAN, 0.0] {
            builder.add(RecordValues::Number(Some(value)));
        }
        builder.add(RecordValues::Number(None));
        let summary = Summary::decode(&builder.finish().encode()).expect("decodes");
        assert_eq!(summary.records, 7);
        assert_eq!(summary.number_runs().collect::<Vec<_>>(), vec![(0.0, 2), (1.5, 1), (3.0, 2)]);
        assert_eq!(summary.present(), 5);
    }

    #[test]
    fn order_statistics_bisect_the_runs() {
        let run = |values: &[f64]| {
            let mut builder = SummaryBuilder::default();
            for value in values {
                builder.add(RecordValues::Number(Some(*value)));
            }
            builder.finish()
        };
        let (a, b) = (run(&[-2.5, 0.0, 1.0, 1.0, 7.0]), run(&[-1e300, 1.0, 3.0]));
        let mut all = vec![-2.5, 0.0, 1.0, 1.0, 7.0, -1e300, 1.0, 3.0];
        all.sort_by(f64::total_cmp);
        let positions: Vec<i64> = (1..=9).collect();
        assert_eq!(order_statistics(&[&a, &b], &positions), all);
    }

    #[test]
    fn slices_keep_a_labels_summary_per_value_up_to_the_limit() {
        let labels = LabelValues { has_prediction: true, has_actual: true, actual_label: Some("yes".into()), ..LabelValues::default() };
        let mut builder = SummaryBuilder::default();
        for value in ["b", "a", "b"] {
            builder.add(RecordValues::Sliced(&labels, Some(value)));
        }
        builder.add(RecordValues::Sliced(&labels, None));
        let summary = builder.finish();
        let sliced: Vec<(&str, i64)> =
            summary.slices.iter().map(|slice| (slice.value.as_str(), slice.labels.as_ref().map_or(0, |labels| labels.records))).collect();
        assert_eq!(sliced, [("a", 1), ("b", 2)]);
        let mut builder = SummaryBuilder::default();
        for value in 0..=MAX_SLICES {
            builder.add(RecordValues::Sliced(&labels, Some(&value.to_string())));
        }
        let summary = builder.finish();
        assert!(summary.unsliced && summary.slices.is_empty());
    }

    #[test]
    fn concordant_pairs_count_ties_as_half() {
        // Positives 0.2, 0.8, 0.8; negatives 0.1, 0.8: 1 + 2 × (1 + 0.5) = 4.
        assert_eq!(concordant_pairs(&[(0.2, 1), (0.8, 2)], &[(0.1, 1), (0.8, 1)]), 4.0);
    }
}
