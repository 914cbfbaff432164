//! The monitoring aggregates of `monitor`, answered from hourly summaries instead of records:
//! each function here returns what its SQL counterpart returns over the same records (bins
//! with records only, in order), so the two paths are interchangeable.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::monitor::{MlClassification, MlConfusion, MlErrorSums, MlPresence, MlRankPairs};
use super::read::MlVolumeBin;
use super::rollup::HourSummary;
use super::summary::{self, concordant_pairs, merge_pairs, Summary};

/// (score, count) pairs.
type Runs = Vec<(f64, i64)>;

/// The start of the bin of `hour` (bins of whole hours, aligned on the epoch); 0 for no bins.
fn bin_of(hour: i64, bin: Option<i64>) -> i64 {
    match bin {
        Some(bin) => hour - hour % bin,
        None => 0,
    }
}

/// The summaries of source `source`.
fn of_source(summaries: &[HourSummary], source: usize) -> impl Iterator<Item = &HourSummary> {
    summaries.iter().filter(move |summary| summary.source == source)
}

/// Confusion counts per bin, from labels summaries (source 0).
pub(super) fn confusion(summaries: &[HourSummary], bin: Option<i64>, classification: &MlClassification) -> Vec<MlConfusion> {
    let positive = classification.positive_class.as_str();
    let mut bins: BTreeMap<i64, MlConfusion> = BTreeMap::new();
    for hour in of_source(summaries, 0) {
        let start = bin_of(hour.hour, bin);
        let labels = &hour.summary;
        let mut counted = MlConfusion { start, ..MlConfusion::default() };
        let mut any = false;
        let count = |counts: &mut MlConfusion, predicted_positive: bool, actual_positive: bool, records: i64| {
            let slot = match (predicted_positive, actual_positive) {
                (true, true) => &mut counts.true_positives,
                (true, false) => &mut counts.false_positives,
                (false, true) => &mut counts.false_negatives,
                (false, false) => &mut counts.true_negatives,
            };
            *slot += records;
        };
        match classification.threshold {
            None => {
                for cell in &labels.cells {
                    let Some(predicted) = &cell.predicted else { continue };
                    let actual_positive = cell.actual == positive;
                    count(&mut counted, predicted == positive, actual_positive, cell.records);
                    if *predicted == cell.actual {
                        counted.matching += cell.records;
                    }
                    counted.scored += cell.scored;
                    counted.log_likelihood += if actual_positive { cell.log_score } else { cell.log_complement };
                    any |= cell.records > 0;
                }
            }
            Some(threshold) => {
                for run in &labels.scores {
                    let actual_positive = run.actual == positive;
                    for (score, records) in run.values.iter().zip(&run.counts) {
                        count(&mut counted, *score >= threshold, actual_positive, *records);
                        any = true;
                    }
                }
                for cell in &labels.cells {
                    if cell.predicted.as_deref() == Some(cell.actual.as_str()) {
                        counted.matching += cell.scored;
                    }
                    counted.scored += cell.scored;
                    counted.log_likelihood += if cell.actual == positive { cell.log_score } else { cell.log_complement };
                }
            }
        }
        if any {
            *bins.entry(start).or_insert(MlConfusion { start, ..MlConfusion::default() }) += &counted;
        }
    }
    bins.into_values().collect()
}

/// The ordered positive-negative pairs per bin and against all bins' negatives, from labels
/// summaries (source 0).
pub(super) fn rank_pairs(summaries: &[HourSummary], bin: Option<i64>, positive_class: &str) -> Vec<MlRankPairs> {
    let mut bins: BTreeMap<i64, (Runs, Runs)> = BTreeMap::new();
    let mut all_negatives = Vec::new();
    for hour in of_source(summaries, 0) {
        for run in &hour.summary.scores {
            if run.values.is_empty() {
                continue;
            }
            let (positives, negatives) = bins.entry(bin_of(hour.hour, bin)).or_default();
            let pairs = run.values.iter().copied().zip(run.counts.iter().copied());
            if run.actual == positive_class {
                positives.extend(pairs);
            } else {
                negatives.extend(pairs.clone());
                all_negatives.extend(pairs);
            }
        }
    }
    merge_pairs(&mut all_negatives);
    bins.into_iter()
        .map(|(start, (mut positives, mut negatives))| {
            merge_pairs(&mut positives);
            merge_pairs(&mut negatives);
            MlRankPairs {
                start,
                concordant: concordant_pairs(&positives, &negatives),
                concordant_overall: concordant_pairs(&positives, &all_negatives),
                positives: positives.iter().map(|(_, count)| count).sum(),
                negatives: negatives.iter().map(|(_, count)| count).sum(),
            }
        })
        .collect()
}

/// A regression's error sums per bin, from labels summaries (source 0).
pub(super) fn error_sums(summaries: &[HourSummary], bin: Option<i64>) -> Vec<MlErrorSums> {
    let mut bins: BTreeMap<i64, MlErrorSums> = BTreeMap::new();
    for hour in of_source(summaries, 0) {
        let Some(errors) = hour.summary.errors.filter(|errors| errors.count > 0) else { continue };
        let start = bin_of(hour.hour, bin);
        *bins.entry(start).or_insert(MlErrorSums { start, ..MlErrorSums::default() }) += &MlErrorSums {
            start,
            count: errors.count,
            absolute: errors.absolute,
            squared: errors.squared,
            absolute_percentage: errors.absolute_percentage,
            actual: errors.actual,
            actual_squared: errors.actual_squared,
        };
    }
    bins.into_values().collect()
}

/// Records per bin, from labels summaries (source 0).
pub(super) fn volume(summaries: &[HourSummary], bin: i64) -> Vec<MlVolumeBin> {
    let mut bins: BTreeMap<i64, MlVolumeBin> = BTreeMap::new();
    for hour in of_source(summaries, 0).filter(|hour| hour.summary.records > 0) {
        let start = bin_of(hour.hour, Some(bin));
        let total = bins.entry(start).or_insert(MlVolumeBin { start, records: 0, with_actual: 0 });
        total.records += hour.summary.records;
        total.with_actual += hour.summary.with_actual;
    }
    bins.into_values().collect()
}

/// Records, values and (with `distinct`) distinct values of value source 0.
pub(super) fn presence(summaries: &[HourSummary], distinct: bool) -> MlPresence {
    let of = || of_source(summaries, 0).map(|hour| &hour.summary);
    let distinct = if !distinct {
        0
    } else if of().any(|summary| !summary.texts.is_empty()) {
        of().flat_map(|summary| summary.texts.iter()).collect::<HashSet<_>>().len() as i64
    } else {
        of().flat_map(|summary| summary.numbers.iter().map(|number| number.to_bits())).collect::<HashSet<_>>().len() as i64
    };
    MlPresence { records: of().map(|summary| summary.records).sum(), present: of().map(Summary::present).sum(), distinct }
}

/// The values at 1-based `positions` of source 0's values in ascending order (positions past
/// the end left out; each position once, ascending).
pub(super) fn order_statistics(summaries: &[HourSummary], positions: &[i64]) -> Vec<f64> {
    let mut positions: Vec<i64> = positions.iter().copied().filter(|position| *position >= 1).collect();
    positions.sort_unstable();
    positions.dedup();
    let runs: Vec<&Summary> = of_source(summaries, 0).map(|hour| &hour.summary).collect();
    summary::order_statistics(&runs, &positions)
}

/// Counts per bin of source 0's values, the bins cut by ascending `edges` (bin i holds
/// edges[i − 1] <= v < edges[i]).
pub(super) fn histogram(summaries: &[HourSummary], edges: &[f64]) -> Vec<i64> {
    let mut counts = vec![0i64; edges.len() + 1];
    for hour in of_source(summaries, 0) {
        for (value, count) in hour.summary.number_runs() {
            counts[edges.partition_point(|edge| *edge <= value)] += count;
        }
    }
    counts
}

/// The `limit` most frequent values of text source 0, most frequent first (ties by value).
pub(super) fn value_counts(summaries: &[HourSummary], limit: usize) -> Vec<(String, i64)> {
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for hour in of_source(summaries, 0) {
        for (text, count) in hour.summary.text_runs() {
            *counts.entry(text).or_default() += count;
        }
    }
    let mut counts: Vec<(String, i64)> = counts.into_iter().map(|(text, count)| (text.to_string(), count)).collect();
    counts.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(limit);
    counts
}

/// How many distinct values of text source 0 the `current` summaries hold that no `baseline`
/// one does.
pub(super) fn unseen_values(current: &[HourSummary], baseline: &[HourSummary]) -> i64 {
    let seen: HashSet<&str> = of_source(baseline, 0).flat_map(|hour| hour.summary.texts.iter().map(String::as_str)).collect();
    let unseen: HashSet<&str> =
        of_source(current, 0).flat_map(|hour| hour.summary.texts.iter().map(String::as_str)).filter(|text| !seen.contains(text)).collect();
    unseen.len() as i64
}
