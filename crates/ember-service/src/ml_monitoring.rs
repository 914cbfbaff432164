//! Monitoring an ML model: performance metrics over time, drift against a baseline, data
//! quality and embedding drift, each from the store's SQL aggregates (`ember_store::ml::monitor`)
//! and the formulas here.
//!
//! - **Classification** (binary, score-categorical and categorical models): a record counts when
//!   it has a prediction and an actual label. A prediction is positive when its label is the
//!   positive class, or, given a threshold, when its score reaches it; the actual when its label
//!   is the positive class. Accuracy is the share of predicted labels equal to the actual ones
//!   (with a threshold: of predictions right about the positive class); precision, recall and F1
//!   are of the positive class; AUC ranks the scores (ties count one half, as the trapezoidal ROC
//!   area does); log loss takes the score as the positive class's probability, clipped to
//!   [ε, 1 − ε]. Without a named positive class, `True` when the actual labels include it, or else
//!   the least frequent actual label.
//! - **Regression**: MAE, RMSE, MAPE (|error| / max(|actual|, ε)) and R² of the predicted values.
//! - **Ranking**: NDCG@k with the actual score as relevance (see `Store::ml_ndcg`).
//! - **Drift** of a feature or the prediction between a baseline and the current records: numbers
//!   are binned on the baseline's deciles (the value at position ⌈j·n/10⌉ of its n sorted values,
//!   repeated edges merged; bin i holds edge[i−1] <= v < edge[i]), text by value (the 1000 most
//!   frequent of each side, the rest together as `(other)`). PSI = Σ (c − b)·ln(c / b) over the
//!   bins' shares, a share below 1e-4 taken as 1e-4; JS distance = √(½ KL(b‖m) + ½ KL(c‖m)),
//!   m = (b + c) / 2, natural logarithms.
//! - **Data quality** per feature and tag: missing share, cardinality, and values unseen in the
//!   baseline (text columns).
//! - **Embedding drift**: the euclidean distance between the baseline's and the current records'
//!   mean vectors.

use ember_core::ml::{MlValueType, ModelType};
use ember_store::{
    MlCentroid, MlClassification, MlColumnRecord, MlColumnRole, MlConfusion, MlErrorSums, MlNdcgSum, MlRankPairs, MlRecordQuery, MlSource,
};

use crate::error::{Result, ServiceError};
use crate::ml_models::MlModels;
use crate::Caller;

/// The share below which a PSI bin counts as this much.
pub const PSI_FLOOR: f64 = 1e-4;
const QUANTILE_BINS: i64 = 10;
const CATEGORY_LIMIT: usize = 1000;
/// The bin of values no listed category holds.
pub const OTHER_CATEGORY: &str = "(other)";
const MAX_BINS: i64 = 10_000;

/// What to compute performance over and how.
#[derive(Debug, Clone, Default)]
pub struct MlPerformanceRequest {
    /// Metrics per bin of this many seconds as well as overall.
    pub bin_seconds: Option<i64>,
    pub positive_class: Option<String>,
    pub threshold: Option<f64>,
    /// NDCG's cut-off (default 10).
    pub k: Option<i64>,
}

/// A model's metrics over some records; each `None` where the model's type or the records do not
/// define it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MlMetrics {
    /// Records the metrics count.
    pub count: i64,
    pub accuracy: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub auc: Option<f64>,
    pub log_loss: Option<f64>,
    pub mae: Option<f64>,
    pub rmse: Option<f64>,
    pub mape: Option<f64>,
    pub r2: Option<f64>,
    pub ndcg: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MlPerformance {
    pub model_type: ModelType,
    /// The positive class a classifier's metrics are of.
    pub positive_class: Option<String>,
    pub k: Option<i64>,
    pub overall: MlMetrics,
    /// (bin start in Unix ns, metrics), bins with records only.
    pub bins: Vec<(i64, MlMetrics)>,
}

/// A feature's (or the prediction's) drift.
#[derive(Debug, Clone, PartialEq)]
pub struct MlDrift {
    pub name: String,
    /// `feature`, `tag`, or `prediction` for the predicted label, score or value.
    pub role: &'static str,
    pub numeric: bool,
    pub psi: Option<f64>,
    pub js_distance: Option<f64>,
    pub baseline_count: i64,
    pub current_count: i64,
    pub bins: Vec<MlDistributionBin>,
}

/// A bin of a distribution: its shares of the baseline's and the current records' values.
#[derive(Debug, Clone, PartialEq)]
pub struct MlDistributionBin {
    pub label: String,
    pub baseline: f64,
    pub current: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MlQuality {
    pub name: String,
    pub role: &'static str,
    pub value_type: MlValueType,
    pub records: i64,
    pub missing: i64,
    pub missing_share: Option<f64>,
    pub cardinality: i64,
    /// Distinct values no baseline record holds (text columns, given a baseline).
    pub new_values: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MlEmbeddingDrift {
    pub name: String,
    pub distance: Option<f64>,
    pub baseline_records: i64,
    pub current_records: i64,
}

/// A distribution's source with how the report names it.
struct Target {
    name: String,
    role: &'static str,
    source: MlSource,
    value_type: MlValueType,
}

impl MlModels<'_> {
    /// A model's performance over `query`'s records (its filters resolved), overall and per bin.
    pub async fn performance(
        &self,
        caller: &Caller,
        name: &str,
        query: MlRecordQuery,
        filters: &[String],
        request: MlPerformanceRequest,
    ) -> Result<MlPerformance> {
        let (detail, query) = self.selection(caller, name, query, filters).await?;
        let bin = request.bin_seconds.map(|seconds| bin_nanos(&query, seconds)).transpose()?;
        let store = &self.services.store;
        let model_id = detail.model.id;
        let mut performance = MlPerformance {
            model_type: detail.model.model_type,
            positive_class: None,
            k: None,
            overall: MlMetrics::default(),
            bins: Vec::new(),
        };
        match detail.model.model_type {
            ModelType::Binary | ModelType::ScoreCategorical | ModelType::Categorical => {
                if let Some(threshold) = request.threshold.filter(|threshold| !threshold.is_finite()) {
                    return Err(ServiceError::bad_request(format!("the threshold {threshold} is not a finite number")));
                }
                let positive_class = match request.positive_class.filter(|class| !class.is_empty()) {
                    Some(class) => class,
                    None => self.default_positive_class(model_id, &query).await?,
                };
                let classification = MlClassification { positive_class: positive_class.clone(), threshold: request.threshold };
                // One scan per bin for the counts and one for the pairs; the whole is their sum.
                let by_threshold = request.threshold.is_some();
                let confusion = store.ml_confusion(model_id, &query, bin, &classification).await?;
                let pairs = store.ml_rank_pairs(model_id, &query, bin, &positive_class).await?;
                let mut overall_confusion = MlConfusion::default();
                for counts in &confusion {
                    overall_confusion += counts;
                }
                let overall_pairs = pairs.iter().fold(MlRankPairs::default(), |total, bin| MlRankPairs {
                    start: 0,
                    concordant: total.concordant + bin.concordant_overall,
                    concordant_overall: total.concordant_overall + bin.concordant_overall,
                    positives: total.positives + bin.positives,
                    negatives: total.negatives + bin.negatives,
                });
                performance.overall = classification_metrics(Some(overall_confusion), Some(overall_pairs), by_threshold);
                if bin.is_some() {
                    let pairs: std::collections::HashMap<i64, MlRankPairs> = pairs.iter().map(|pair| (pair.start, *pair)).collect();
                    performance.bins = confusion
                        .iter()
                        .map(|counts| {
                            let pair = pairs.get(&counts.start).copied();
                            (counts.start, classification_metrics(Some(*counts), pair, by_threshold))
                        })
                        .collect();
                }
                performance.positive_class = Some(positive_class);
            }
            ModelType::Numeric => {
                let sums = store.ml_error_sums(model_id, &query, bin).await?;
                let mut total = MlErrorSums::default();
                for bin_sums in &sums {
                    total += bin_sums;
                }
                performance.overall = regression_metrics(&total);
                if bin.is_some() {
                    performance.bins = sums.iter().map(|sums| (sums.start, regression_metrics(sums))).collect();
                }
            }
            ModelType::Ranking => {
                let k = request.k.unwrap_or(10);
                if !(1..=1000).contains(&k) {
                    return Err(ServiceError::bad_request(format!("k must be between 1 and 1000, not {k}")));
                }
                let overall = store.ml_ndcg(model_id, &query, None, k).await?;
                performance.overall = ndcg_metrics(overall.first().copied());
                if let Some(bin) = bin {
                    let sums = store.ml_ndcg(model_id, &query, Some(bin), k).await?;
                    performance.bins = sums.iter().map(|sums| (sums.start, ndcg_metrics(Some(*sums)))).collect();
                }
                performance.k = Some(k);
            }
            ModelType::ObjectDetection | ModelType::MultiClass => {}
        }
        Ok(performance)
    }

    /// The drift of each feature (or of `only`) and of the prediction between `baseline` and
    /// `current` records, most drifted first.
    pub async fn drift(
        &self,
        caller: &Caller,
        name: &str,
        current: MlRecordQuery,
        baseline: MlRecordQuery,
        filters: &[String],
        only: Option<&str>,
    ) -> Result<Vec<MlDrift>> {
        let (detail, current) = self.selection(caller, name, current, filters).await?;
        let baseline = MlRecordQuery { predicates: current.predicates.clone(), ..baseline };
        let mut targets = prediction_targets(detail.model.model_type);
        targets.extend(column_targets(&detail.columns, &[MlColumnRole::Feature]));
        targets.retain(|target| target.value_type.is_numeric() || target.value_type == MlValueType::String);
        if let Some(only) = only {
            targets.retain(|target| target.name == only);
            if targets.is_empty() {
                return Err(ServiceError::not_found(format!("model {name:?} has no feature named {only:?}")));
            }
        }
        let store = &self.services.store;
        let model_id = detail.model.id;
        let sources: Vec<MlSource> = targets.iter().map(|target| target.source).collect();
        let baseline_presence = store.ml_presence(model_id, &baseline, &sources, false).await?;
        // Numbers: the baseline's edges per feature, then one histogram scan per side for all.
        let mut numeric = Vec::new();
        for (target, presence) in targets.iter().zip(&baseline_presence).filter(|(target, _)| target.value_type.is_numeric()) {
            numeric.push((target.source, self.quantile_edges(model_id, &baseline, target.source, presence.present).await?));
        }
        let baseline_histograms = store.ml_histograms(model_id, &baseline, &numeric).await?;
        let current_histograms = store.ml_histograms(model_id, &current, &numeric).await?;
        let mut histograms = numeric.iter().zip(baseline_histograms.into_iter().zip(current_histograms));
        let mut drifts = Vec::with_capacity(targets.len());
        for target in &targets {
            let (baseline_counts, current_counts, labels) = if target.value_type.is_numeric() {
                let Some(((_, edges), (baseline_counts, current_counts))) = histograms.next() else {
                    return Err(ServiceError::internal("the store answered fewer histograms than asked"));
                };
                (baseline_counts, current_counts, numeric_bin_labels(edges))
            } else {
                self.category_counts(model_id, &baseline, &current, target.source).await?
            };
            let (psi, js_distance) = divergences(&baseline_counts, &current_counts);
            let baseline_total: i64 = baseline_counts.iter().sum();
            let current_total: i64 = current_counts.iter().sum();
            let share = |count: i64, total: i64| if total > 0 { count as f64 / total as f64 } else { 0.0 };
            drifts.push(MlDrift {
                name: target.name.clone(),
                role: target.role,
                numeric: target.value_type.is_numeric(),
                psi,
                js_distance,
                baseline_count: baseline_total,
                current_count: current_total,
                bins: labels
                    .into_iter()
                    .zip(baseline_counts.iter().zip(&current_counts))
                    .map(|(label, (baseline, current))| MlDistributionBin {
                        label,
                        baseline: share(*baseline, baseline_total),
                        current: share(*current, current_total),
                    })
                    .collect(),
            });
        }
        drifts.sort_by(|a, b| b.psi.unwrap_or(-1.0).total_cmp(&a.psi.unwrap_or(-1.0)).then_with(|| a.name.cmp(&b.name)));
        Ok(drifts)
    }

    /// Missing values, cardinality and (given a baseline) new values of each feature and tag.
    pub async fn data_quality(
        &self,
        caller: &Caller,
        name: &str,
        current: MlRecordQuery,
        baseline: Option<MlRecordQuery>,
        filters: &[String],
    ) -> Result<Vec<MlQuality>> {
        let (detail, current) = self.selection(caller, name, current, filters).await?;
        let targets = column_targets(&detail.columns, &[MlColumnRole::Feature, MlColumnRole::Tag]);
        let store = &self.services.store;
        let model_id = detail.model.id;
        let sources: Vec<MlSource> = targets.iter().map(|target| target.source).collect();
        let presence = store.ml_presence(model_id, &current, &sources, true).await?;
        let mut report = Vec::with_capacity(targets.len());
        for (target, presence) in targets.iter().zip(presence) {
            let new_values = match &baseline {
                Some(baseline) if target.value_type == MlValueType::String => {
                    let baseline = MlRecordQuery { predicates: current.predicates.clone(), ..baseline.clone() };
                    Some(store.ml_unseen_values(model_id, &current, &baseline, target.source).await?)
                }
                _ => None,
            };
            let missing = presence.records - presence.present;
            report.push(MlQuality {
                name: target.name.clone(),
                role: target.role,
                value_type: target.value_type,
                records: presence.records,
                missing,
                missing_share: (presence.records > 0).then(|| missing as f64 / presence.records as f64),
                cardinality: presence.distinct,
                new_values,
            });
        }
        Ok(report)
    }

    /// The distance between the baseline's and the current records' mean vector of each
    /// embedding.
    pub async fn embedding_drift(
        &self,
        caller: &Caller,
        name: &str,
        current: MlRecordQuery,
        baseline: MlRecordQuery,
        filters: &[String],
    ) -> Result<Vec<MlEmbeddingDrift>> {
        let (detail, current) = self.selection(caller, name, current, filters).await?;
        let baseline = MlRecordQuery { predicates: current.predicates.clone(), ..baseline };
        let store = &self.services.store;
        let mut report = Vec::new();
        for column in detail.columns.iter().filter(|column| column.role == MlColumnRole::Embedding) {
            let baseline_centroid = store.ml_centroid(detail.model.id, &baseline, &column.name).await?;
            let current_centroid = store.ml_centroid(detail.model.id, &current, &column.name).await?;
            report.push(MlEmbeddingDrift {
                name: column.name.clone(),
                distance: centroid_distance(&baseline_centroid, &current_centroid),
                baseline_records: baseline_centroid.records,
                current_records: current_centroid.records,
            });
        }
        Ok(report)
    }

    /// The baseline's decile edges of a numeric source with `present` values.
    async fn quantile_edges(&self, model_id: i64, baseline: &MlRecordQuery, source: MlSource, present: i64) -> Result<Vec<f64>> {
        let positions: Vec<i64> =
            (1..QUANTILE_BINS).map(|j| (j * present + QUANTILE_BINS - 1) / QUANTILE_BINS).filter(|p| *p >= 1).collect();
        let mut edges = self.services.store.ml_order_statistics(model_id, baseline, source, &positions).await?;
        // A position asked twice (few values) comes back once; equal values make one edge.
        edges.dedup();
        Ok(edges)
    }

    /// Counts per category of both sides, over the categories either lists, the rest as
    /// [`OTHER_CATEGORY`].
    async fn category_counts(
        &self,
        model_id: i64,
        baseline: &MlRecordQuery,
        current: &MlRecordQuery,
        source: MlSource,
    ) -> Result<(Vec<i64>, Vec<i64>, Vec<String>)> {
        let store = &self.services.store;
        let baseline_values = store.ml_value_counts(model_id, baseline, source, CATEGORY_LIMIT).await?;
        let current_values = store.ml_value_counts(model_id, current, source, CATEGORY_LIMIT).await?;
        let mut labels: Vec<String> = baseline_values.iter().map(|(value, _)| value.clone()).collect();
        let mut seen: std::collections::HashSet<String> = labels.iter().cloned().collect();
        labels.extend(current_values.iter().filter(|(value, _)| seen.insert(value.clone())).map(|(value, _)| value.clone()));
        let listed = |values: &[(String, i64)]| -> Vec<i64> {
            let counts: std::collections::HashMap<&str, i64> = values.iter().map(|(value, count)| (value.as_str(), *count)).collect();
            labels.iter().map(|label| counts.get(label.as_str()).copied().unwrap_or(0)).collect()
        };
        let mut baseline_counts = listed(&baseline_values);
        let mut current_counts = listed(&current_values);
        let (baseline_total, current_total) = if baseline_values.len() == CATEGORY_LIMIT || current_values.len() == CATEGORY_LIMIT {
            let presence = store.ml_presence(model_id, baseline, &[source], false).await?;
            let current_presence = store.ml_presence(model_id, current, &[source], false).await?;
            (presence[0].present, current_presence[0].present)
        } else {
            (baseline_counts.iter().sum(), current_counts.iter().sum())
        };
        let baseline_other = baseline_total - baseline_counts.iter().sum::<i64>();
        let current_other = current_total - current_counts.iter().sum::<i64>();
        if baseline_other > 0 || current_other > 0 {
            labels.push(OTHER_CATEGORY.into());
            baseline_counts.push(baseline_other.max(0));
            current_counts.push(current_other.max(0));
        }
        Ok((baseline_counts, current_counts, labels))
    }

    /// `True` when the actual labels include it, otherwise the least frequent actual label.
    async fn default_positive_class(&self, model_id: i64, query: &MlRecordQuery) -> Result<String> {
        let labels = self.services.store.ml_value_counts(model_id, query, MlSource::ActualLabel, CATEGORY_LIMIT).await?;
        if labels.iter().any(|(label, _)| label == "True") {
            return Ok("True".into());
        }
        let fewest = labels.iter().map(|(_, count)| *count).min();
        Ok(labels.iter().rev().find(|(_, count)| Some(*count) == fewest).map(|(label, _)| label.clone()).unwrap_or_else(|| "True".into()))
    }
}

/// A bin width in ns for `seconds`, checked against the query's window.
fn bin_nanos(query: &MlRecordQuery, seconds: i64) -> Result<i64> {
    if seconds < 60 {
        return Err(ServiceError::bad_request(format!("bins must be at least 60 seconds, not {seconds}")));
    }
    let bin = seconds.saturating_mul(1_000_000_000);
    match (query.start, query.end) {
        (Some(start), Some(end)) if (end - start) / bin > MAX_BINS => {
            Err(ServiceError::bad_request(format!("the window holds more than {MAX_BINS} bins of {seconds} seconds")))
        }
        // An open window spans whatever was logged (years): only whole days keep its bins few.
        (None, _) | (_, None) if seconds < 86_400 => Err(ServiceError::bad_request(format!(
            "bins of {seconds} seconds need a start_time and an end_time; without them bins must be at least 86400 seconds"
        ))),
        _ => Ok(bin),
    }
}

fn prediction_targets(model_type: ModelType) -> Vec<Target> {
    let target = |name: &str, source, value_type| Target { name: name.into(), role: "prediction", source, value_type };
    match model_type {
        ModelType::Binary | ModelType::ScoreCategorical | ModelType::Categorical => vec![
            target("prediction_label", MlSource::PredictionLabel, MlValueType::String),
            target("prediction_score", MlSource::PredictionScore, MlValueType::Double),
        ],
        ModelType::Numeric => vec![target("prediction_value", MlSource::PredictionValue, MlValueType::Double)],
        ModelType::Ranking => vec![target("prediction_score", MlSource::PredictionScore, MlValueType::Double)],
        ModelType::ObjectDetection | ModelType::MultiClass => Vec::new(),
    }
}

fn column_targets(columns: &[MlColumnRecord], roles: &[MlColumnRole]) -> Vec<Target> {
    columns
        .iter()
        .filter(|column| roles.contains(&column.role))
        .map(|column| Target {
            name: column.name.clone(),
            role: column.role.name(),
            source: MlSource::Column(column.id),
            value_type: column.value_type,
        })
        .collect()
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

fn classification_metrics(confusion: Option<MlConfusion>, pairs: Option<MlRankPairs>, by_threshold: bool) -> MlMetrics {
    let confusion = confusion.unwrap_or_default();
    let (tp, fp, false_negatives, tn) = (
        confusion.true_positives as f64,
        confusion.false_positives as f64,
        confusion.false_negatives as f64,
        confusion.true_negatives as f64,
    );
    let count = confusion.true_positives + confusion.false_positives + confusion.false_negatives + confusion.true_negatives;
    let correct = if by_threshold { tp + tn } else { confusion.matching as f64 };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + false_negatives);
    let f1 = ratio(2.0 * tp, 2.0 * tp + fp + false_negatives);
    let auc = pairs.and_then(|pairs| ratio(pairs.concordant, pairs.positives as f64 * pairs.negatives as f64));
    MlMetrics {
        count,
        accuracy: ratio(correct, count as f64),
        precision,
        recall,
        f1,
        auc,
        log_loss: ratio(-confusion.log_likelihood, confusion.scored as f64),
        ..MlMetrics::default()
    }
}

fn regression_metrics(sums: &MlErrorSums) -> MlMetrics {
    let n = sums.count as f64;
    let total_variance = sums.actual_squared - sums.actual * sums.actual / n.max(1.0);
    MlMetrics {
        count: sums.count,
        mae: ratio(sums.absolute, n),
        rmse: ratio(sums.squared, n).map(f64::sqrt),
        mape: ratio(sums.absolute_percentage, n),
        r2: (sums.count > 0 && total_variance > 0.0).then(|| 1.0 - sums.squared / total_variance),
        ..MlMetrics::default()
    }
}

fn ndcg_metrics(sums: Option<MlNdcgSum>) -> MlMetrics {
    let sums = sums.unwrap_or_default();
    MlMetrics { count: sums.groups, ndcg: ratio(sums.ndcg, sums.groups as f64), ..MlMetrics::default() }
}

/// Labels of the bins `edges` cut.
fn numeric_bin_labels(edges: &[f64]) -> Vec<String> {
    let mut labels = Vec::with_capacity(edges.len() + 1);
    for index in 0..=edges.len() {
        labels.push(match (index.checked_sub(1).map(|i| edges[i]), edges.get(index)) {
            (None, None) => "all".to_string(),
            (None, Some(upper)) => format!("< {upper}"),
            (Some(lower), Some(upper)) => format!("[{lower}, {upper})"),
            (Some(lower), None) => format!(">= {lower}"),
        });
    }
    labels
}

/// PSI and JS distance between two distributions given as counts over the same bins; `None`
/// when either side is empty.
pub fn divergences(baseline: &[i64], current: &[i64]) -> (Option<f64>, Option<f64>) {
    let baseline_total: i64 = baseline.iter().sum();
    let current_total: i64 = current.iter().sum();
    if baseline_total == 0 || current_total == 0 {
        return (None, None);
    }
    let mut psi = 0.0;
    let mut js = 0.0;
    for (b, c) in baseline.iter().zip(current) {
        let b = *b as f64 / baseline_total as f64;
        let c = *c as f64 / current_total as f64;
        let (floored_b, floored_c) = (b.max(PSI_FLOOR), c.max(PSI_FLOOR));
        psi += (floored_c - floored_b) * (floored_c / floored_b).ln();
        let m = (b + c) / 2.0;
        if b > 0.0 {
            js += 0.5 * b * (b / m).ln();
        }
        if c > 0.0 {
            js += 0.5 * c * (c / m).ln();
        }
    }
    (Some(psi), Some(js.max(0.0).sqrt()))
}

fn centroid_distance(baseline: &MlCentroid, current: &MlCentroid) -> Option<f64> {
    if baseline.records == 0 || current.records == 0 {
        return None;
    }
    let dimensions = baseline.mean.len().max(current.mean.len());
    let at = |mean: &[f64], index: usize| mean.get(index).copied().unwrap_or(0.0);
    Some((0..dimensions).map(|index| (at(&baseline.mean, index) - at(&current.mean, index)).powi(2)).sum::<f64>().sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_distributions_do_not_drift() {
        assert_eq!(divergences(&[10, 20, 30], &[1, 2, 3]), (Some(0.0), Some(0.0)));
        assert_eq!(divergences(&[0, 0], &[1, 2]), (None, None));
    }

    #[test]
    fn drift_matches_its_formulas() {
        let (psi, js) = divergences(&[50, 50, 0], &[25, 50, 25]);
        let expected_psi = (0.25f64 - 0.5) * (0.25f64 / 0.5).ln() + 0.0 + (0.25 - 1e-4) * (0.25f64 / 1e-4).ln();
        assert!((psi.unwrap() - expected_psi).abs() < 1e-12);
        let m = [0.375f64, 0.5, 0.125];
        let expected_js = (0.5 * (0.5 * (0.5 / m[0]).ln() + 0.5 * (0.5 / m[1]).ln())
            + 0.5 * (0.25 * (0.25 / m[0]).ln() + 0.5 * (0.5 / m[1]).ln() + 0.25 * (0.25 / m[2]).ln()))
        .sqrt();
        assert!((js.unwrap() - expected_js).abs() < 1e-12);
    }

    #[test]
    fn bins_are_labelled_by_their_edges() {
        assert_eq!(numeric_bin_labels(&[1.0, 2.5]), vec!["< 1", "[1, 2.5)", ">= 2.5"]);
        assert_eq!(numeric_bin_labels(&[]), vec!["all"]);
    }

    #[test]
    fn regression_metrics_from_sums() {
        // actual 1, 2, 3; predicted 1, 2, 5.
        let sums = MlErrorSums {
            start: 0,
            count: 3,
            absolute: 2.0,
            squared: 4.0,
            absolute_percentage: 2.0 / 3.0,
            actual: 6.0,
            actual_squared: 14.0,
        };
        let metrics = regression_metrics(&sums);
        assert_eq!(metrics.mae, Some(2.0 / 3.0));
        assert_eq!(metrics.rmse, Some((4.0f64 / 3.0).sqrt()));
        assert_eq!(metrics.r2, Some(1.0 - 4.0 / 2.0));
    }
}
