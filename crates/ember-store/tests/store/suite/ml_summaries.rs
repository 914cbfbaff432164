//! The hourly summaries answer every monitoring aggregate exactly as the records do: compared
//! side by side (the same store with summaries off) over windows with partial hours, bins of
//! one and several hours, versions, positive classes and thresholds — before any hour is
//! summarized, after all are, and after delayed actuals and a repeated prediction moved records
//! (stale hours made from their records on read), then once more after summarizing again.

use std::collections::BTreeMap;

use ember_core::ml::{MlActual, MlEnvironment, MlLabel, MlPrediction, MlRecord, MlValue, ModelType};
use ember_store::{MlClassification, MlComparison, MlConfusion, MlPredicate, MlPredicateValue, MlRecordQuery, MlSource, Store};

const SECOND: i64 = 1_000_000_000;
const HOUR: i64 = 3600 * SECOND;
const T0: i64 = 1_700_000_000 * SECOND;

fn fraud_record(n: i64, time: i64, with_actual: bool) -> MlRecord {
    let score = ((n * 37) % 50) as f64 / 50.0;
    let features: BTreeMap<String, MlValue> = [
        ("amount".to_string(), MlValue::Double(((n * 7919) % 1000) as f64 / 10.0)),
        ("color".to_string(), MlValue::String(["red", "green", "blue"][((n / 2) % 3) as usize].into())),
    ]
    .into_iter()
    .filter(|(name, _)| !(name == "amount" && n % 11 == 0))
    .collect();
    MlRecord {
        prediction_id: format!("p{n}"),
        environment: MlEnvironment::Production,
        batch_id: None,
        prediction: Some(MlPrediction {
            time: Some(time),
            model_version: Some(if n % 4 == 0 { "v2" } else { "v1" }.into()),
            label: Some(MlLabel::Categorical {
                category: Some(if score >= 0.5 { "fraud" } else { "legit" }.into()),
                score: (n % 13 != 0).then_some(score),
            }),
            features,
            embeddings: BTreeMap::new(),
            tags: BTreeMap::new(),
        }),
        actual: with_actual.then(|| actual_of(n)),
        shap: BTreeMap::new(),
    }
}

fn actual_of(n: i64) -> MlActual {
    MlActual {
        time: None,
        label: Some(MlLabel::Categorical { category: Some(if n % 3 == 0 { "fraud" } else { "legit" }.into()), score: None }),
        tags: BTreeMap::new(),
    }
}

fn regression(n: i64, time: i64) -> MlRecord {
    let mut record = fraud_record(n, time, false);
    let prediction = record.prediction.as_mut().expect("a prediction");
    prediction.label = Some(MlLabel::Numeric((n % 17) as f64 - 3.0));
    record.actual =
        (n % 5 != 0).then(|| MlActual { time: None, label: Some(MlLabel::Numeric((n % 7) as f64 - 2.0)), tags: BTreeMap::new() });
    record
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Equal counts, and log-likelihood sums equal to 1e-9 (summed in another order).
fn assert_same_confusion(summarized: &[MlConfusion], raw: &[MlConfusion], at: &str) {
    assert_eq!(summarized.len(), raw.len(), "{at}: bins");
    for (a, b) in summarized.iter().zip(raw) {
        assert!(close(a.log_likelihood, b.log_likelihood), "{at}: log likelihood {a:?} != {b:?}");
        assert_eq!(MlConfusion { log_likelihood: 0.0, ..*a }, MlConfusion { log_likelihood: 0.0, ..*b }, "{at}");
    }
}

/// Every aggregate of `model` over a set of windows, on `summarized` and on `raw`.
async fn compare_ml_aggregates(summarized: &Store, raw: &Store, model: &str, stage: &str) {
    let model = summarized.ml_model(model).await.unwrap().unwrap();
    let columns = summarized.ml_columns(model.id).await.unwrap();
    let column = |name: &str| MlSource::Column(columns.iter().find(|column| column.name == name).unwrap().id);
    let base = MlRecordQuery::environment(MlEnvironment::Production);
    let windows = [
        MlRecordQuery { ..base.clone() },
        MlRecordQuery { start: Some(T0 - T0 % HOUR + 2 * HOUR), end: Some(T0 - T0 % HOUR + 9 * HOUR), ..base.clone() },
        MlRecordQuery { start: Some(T0 + 1_234 * SECOND), end: Some(T0 + 11 * HOUR + 17 * SECOND), ..base.clone() },
        MlRecordQuery { start: Some(T0 + 5 * HOUR + 60 * SECOND), end: Some(T0 + 5 * HOUR + 1_800 * SECOND), ..base.clone() },
        MlRecordQuery { start: Some(T0 + 3 * HOUR + 9 * SECOND), model_version: Some("v2".into()), ..base.clone() },
    ];
    for (index, window) in windows.iter().enumerate() {
        let at = format!("{stage}, window {index}");
        for bin in [None, Some(HOUR), Some(3 * HOUR), Some(24 * HOUR)] {
            for positive_class in ["fraud", "legit"] {
                for threshold in [None, Some(0.5), Some(0.3)] {
                    let classification = MlClassification { positive_class: positive_class.into(), threshold };
                    assert_same_confusion(
                        &summarized.ml_confusion(model.id, window, bin, &classification).await.unwrap(),
                        &raw.ml_confusion(model.id, window, bin, &classification).await.unwrap(),
                        &format!("{at}: confusion ({bin:?}, {positive_class}, {threshold:?})"),
                    );
                }
                let a = summarized.ml_rank_pairs(model.id, window, bin, positive_class).await.unwrap();
                let b = raw.ml_rank_pairs(model.id, window, bin, positive_class).await.unwrap();
                assert_eq!(a, b, "{at}: rank pairs ({bin:?}, {positive_class})");
            }
            let (a, b) =
                (summarized.ml_error_sums(model.id, window, bin).await.unwrap(), raw.ml_error_sums(model.id, window, bin).await.unwrap());
            assert_eq!(a.len(), b.len(), "{at}: error sums");
            for (a, b) in a.iter().zip(&b) {
                assert_eq!((a.start, a.count), (b.start, b.count), "{at}: error sums");
                for (x, y) in [
                    (a.absolute, b.absolute),
                    (a.squared, b.squared),
                    (a.absolute_percentage, b.absolute_percentage),
                    (a.actual, b.actual),
                    (a.actual_squared, b.actual_squared),
                ] {
                    assert!(close(x, y), "{at}: error sums {a:?} != {b:?}");
                }
            }
        }
        // Slices: one text equality is read from the sliced labels; anything else from the records.
        let color = columns.iter().find(|column| column.name == "color").unwrap().id;
        let amount = columns.iter().find(|column| column.name == "amount").unwrap().id;
        let slices = [
            vec![MlPredicate { column_id: color, comparison: MlComparison::Equal, value: MlPredicateValue::Text("red".into()) }],
            vec![MlPredicate { column_id: color, comparison: MlComparison::Equal, value: MlPredicateValue::Text("absent".into()) }],
            vec![MlPredicate { column_id: amount, comparison: MlComparison::Greater, value: MlPredicateValue::Number(50.0) }],
        ];
        for predicates in slices {
            let sliced = MlRecordQuery { predicates, ..window.clone() };
            for bin in [None, Some(HOUR)] {
                for threshold in [None, Some(0.5)] {
                    let classification = MlClassification { positive_class: "fraud".into(), threshold };
                    assert_same_confusion(
                        &summarized.ml_confusion(model.id, &sliced, bin, &classification).await.unwrap(),
                        &raw.ml_confusion(model.id, &sliced, bin, &classification).await.unwrap(),
                        &format!("{at}: sliced confusion ({bin:?}, {threshold:?})"),
                    );
                }
                assert_eq!(
                    summarized.ml_rank_pairs(model.id, &sliced, bin, "fraud").await.unwrap(),
                    raw.ml_rank_pairs(model.id, &sliced, bin, "fraud").await.unwrap(),
                    "{at}: sliced rank pairs"
                );
            }
        }
        let baseline = MlRecordQuery { start: None, end: Some(T0 + 4 * HOUR + 99 * SECOND), ..base.clone() };
        for source in [column("color"), MlSource::ActualLabel, MlSource::PredictionLabel] {
            assert_eq!(
                summarized.ml_unseen_values(model.id, window, &baseline, source).await.unwrap(),
                raw.ml_unseen_values(model.id, window, &baseline, source).await.unwrap(),
                "{at}: unseen values"
            );
        }
        let sources = [column("amount"), column("color"), MlSource::PredictionScore, MlSource::PredictionLabel, MlSource::ActualLabel];
        for distinct in [false, true] {
            assert_eq!(
                summarized.ml_presence(model.id, window, &sources, distinct).await.unwrap(),
                raw.ml_presence(model.id, window, &sources, distinct).await.unwrap(),
                "{at}: presence"
            );
        }
        for source in [column("amount"), MlSource::PredictionScore] {
            let positions = [1, 2, 7, 50, 51, 120, 100_000];
            assert_eq!(
                summarized.ml_order_statistics(model.id, window, source, &positions).await.unwrap(),
                raw.ml_order_statistics(model.id, window, source, &positions).await.unwrap(),
                "{at}: order statistics"
            );
        }
        let edges = vec![(column("amount"), vec![10.0, 33.3, 50.0, 90.1]), (MlSource::PredictionScore, vec![0.2, 0.5])];
        assert_eq!(
            summarized.ml_histograms(model.id, window, &edges).await.unwrap(),
            raw.ml_histograms(model.id, window, &edges).await.unwrap(),
            "{at}: histograms"
        );
        for source in [column("color"), MlSource::ActualLabel] {
            assert_eq!(
                summarized.ml_value_counts(model.id, window, source, 2).await.unwrap(),
                raw.ml_value_counts(model.id, window, source, 2).await.unwrap(),
                "{at}: value counts"
            );
        }
    }
    let (start, end) = (T0 - T0 % HOUR - 24 * HOUR, T0 + 48 * HOUR);
    for bin in [HOUR, 6 * HOUR] {
        assert_eq!(
            summarized.ml_volume(model.id, MlEnvironment::Production, start, end, bin).await.unwrap(),
            raw.ml_volume(model.id, MlEnvironment::Production, start, end, bin).await.unwrap(),
            "{stage}: volume"
        );
    }
}

/// A model written before summaries existed (no trigger, not summarized) is taken up by the
/// first summarizing round: all its hours marked, its updates marked from then on, and its
/// summaries answering as its records do.
pub async fn ml_models_from_before_summaries_are_taken_up(store: Store) {
    let records = (0..200).map(|n| fraud_record(n, T0 + n * 300 * SECOND, n % 2 == 0)).collect();
    store.write_ml_records("fraud", ModelType::ScoreCategorical, records, T0).await.unwrap();
    let model = store.ml_model("fraud").await.unwrap().unwrap().id;
    store.forget_ml_summaries(model).await.unwrap();
    assert_eq!(store.ml_summary_counts(model).await.unwrap(), (0, 0));
    assert_eq!(store.summarize_ml_hours().await.unwrap(), 1, "the first round takes the model up");
    assert!(store.ml_summary_counts(model).await.unwrap().0 >= 16, "all its hours are stale");
    summarize_all(&store).await;
    // The trigger is back: a repeated prediction moving a record marks the hour it left.
    store.write_ml_records("fraud", ModelType::ScoreCategorical, vec![fraud_record(3, T0 + 40 * HOUR, true)], T0).await.unwrap();
    assert_eq!(store.ml_summary_counts(model).await.unwrap().0, 2, "the hour it left and the hour it joined");
    summarize_all(&store).await;
    compare_ml_aggregates(&store, &store.clone().with_ml_summaries(false), "fraud", "taken up").await;
}

async fn summarize_all(store: &Store) {
    while store.summarize_ml_hours().await.unwrap() > 0 {}
}

pub async fn ml_summaries_answer_what_the_records_answer(store: Store) {
    let raw = store.clone().with_ml_summaries(false);
    // 400 records over 20 hours, a third with their actual at first.
    let records: Vec<MlRecord> = (0..400).map(|n| fraud_record(n, T0 + n * 180 * SECOND + 7 * SECOND, n % 3 == 1)).collect();
    store.write_ml_records("fraud", ModelType::ScoreCategorical, records, T0).await.unwrap();
    let regressions: Vec<MlRecord> = (0..300).map(|n| regression(n, T0 + n * 211 * SECOND)).collect();
    store.write_ml_records("price", ModelType::Numeric, regressions, T0).await.unwrap();
    let fraud = store.ml_model("fraud").await.unwrap().unwrap().id;
    let (stale, summaries) = store.ml_summary_counts(fraud).await.unwrap();
    assert!(stale >= 20 && summaries == 0, "every written hour is stale until summarized: {stale} stale, {summaries} summaries");
    compare_ml_aggregates(&store, &raw, "fraud", "nothing summarized").await;

    summarize_all(&store).await;
    let (stale, summaries) = store.ml_summary_counts(fraud).await.unwrap();
    assert!(stale == 0 && summaries > 0, "{stale} stale, {summaries} summaries");
    compare_ml_aggregates(&store, &raw, "fraud", "all summarized").await;
    compare_ml_aggregates(&store, &raw, "price", "all summarized").await;

    // Delayed actuals for most of the rest, and a repeated prediction that moves p5 ten hours on.
    let actuals: Vec<MlRecord> = (0..400)
        .filter(|n| n % 3 == 0)
        .map(|n| MlRecord { prediction: None, actual: Some(actual_of(n)), ..fraud_record(n, T0, false) })
        .collect();
    store.write_ml_records("fraud", ModelType::ScoreCategorical, actuals, T0 + 30 * HOUR).await.unwrap();
    store.write_ml_records("fraud", ModelType::ScoreCategorical, vec![fraud_record(5, T0 + 10 * HOUR + 1, true)], T0).await.unwrap();
    let (stale, _) = store.ml_summary_counts(fraud).await.unwrap();
    assert!(stale >= 20, "updated records' hours are stale: {stale}");
    compare_ml_aggregates(&store, &raw, "fraud", "after updates").await;
    summarize_all(&store).await;
    assert_eq!(store.ml_summary_counts(fraud).await.unwrap().0, 0);
    compare_ml_aggregates(&store, &raw, "fraud", "summarized again").await;
}
