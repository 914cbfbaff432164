//! ML models and their records: delayed actuals joining predictions in either order, repeated
//! predictions replacing, tags merging, typed columns refusing other types without writing
//! anything, pages and volume, and two writers creating one model at once.

use std::collections::BTreeMap;

use ember_core::ml::{MlActual, MlEmbedding, MlEnvironment, MlLabel, MlPrediction, MlRecord, MlValue, MlValueType, ModelType};
use ember_store::{MlColumnRole, MlRecordQuery, Store, StoreError};

const SECOND: i64 = 1_000_000_000;
const T0: i64 = 1_700_000_000 * SECOND;

fn values(pairs: &[(&str, MlValue)]) -> BTreeMap<String, MlValue> {
    pairs.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
}

fn class(category: &str, score: f64) -> MlLabel {
    MlLabel::Categorical { category: Some(category.into()), score: Some(score) }
}

fn prediction(id: &str, time: i64, label: MlLabel, features: &[(&str, MlValue)], tags: &[(&str, MlValue)]) -> MlRecord {
    MlRecord {
        prediction_id: id.into(),
        environment: MlEnvironment::Production,
        batch_id: None,
        prediction: Some(MlPrediction {
            time: Some(time),
            model_version: Some("v1".into()),
            label: Some(label),
            features: values(features),
            embeddings: BTreeMap::new(),
            tags: values(tags),
        }),
        actual: None,
        shap: BTreeMap::new(),
    }
}

fn actual(id: &str, label: MlLabel, tags: &[(&str, MlValue)]) -> MlRecord {
    MlRecord {
        prediction_id: id.into(),
        environment: MlEnvironment::Production,
        batch_id: None,
        prediction: None,
        actual: Some(MlActual { time: Some(T0 + 3600 * SECOND), label: Some(label), tags: values(tags) }),
        shap: BTreeMap::new(),
    }
}

fn query(limit: usize) -> MlRecordQuery {
    MlRecordQuery { limit, ..MlRecordQuery::environment(MlEnvironment::Production) }
}

async fn record(store: &Store, model: &str, id: &str) -> ember_store::MlStoredRecord {
    let stored = store.ml_model(model).await.unwrap().unwrap();
    let columns = store.ml_columns(stored.id).await.unwrap();
    store.ml_record(stored.id, &columns, MlEnvironment::Production, id).await.unwrap().unwrap_or_else(|| panic!("record {id}"))
}

pub async fn delayed_actuals_join_their_prediction_in_either_order(store: Store) {
    let now = T0 + 7200 * SECOND;
    let string = |text: &str| MlValue::String(text.into());
    let mut first =
        prediction("p1", T0, class("fraud", 0.9), &[("age", MlValue::Int(30)), ("city", string("x"))], &[("region", string("eu"))]);
    first
        .prediction
        .as_mut()
        .unwrap()
        .embeddings
        .insert("text".into(), MlEmbedding { vector: vec![1.0, 2.0], data: Some(vec!["hi".into()]), link: None });
    first.shap.insert("age".into(), 0.25);
    let outcome = store.write_ml_records("fraud", ModelType::ScoreCategorical, vec![first], now).await.unwrap();
    assert!(outcome.created_model);
    // The actual arrives later, with a tag of its own.
    store
        .write_ml_records("fraud", ModelType::ScoreCategorical, vec![actual("p1", class("ok", 1.0), &[("reviewer", string("ann"))])], now)
        .await
        .unwrap();
    let joined = record(&store, "fraud", "p1").await;
    assert_eq!(joined.time, T0, "the prediction's time stays the record's");
    assert_eq!(joined.prediction.as_ref().unwrap().label.as_deref(), Some("fraud"));
    assert_eq!(joined.prediction.as_ref().unwrap().score, Some(0.9));
    assert_eq!(joined.actual.as_ref().unwrap().label.as_deref(), Some("ok"));
    assert_eq!(joined.actual_time, Some(T0 + 3600 * SECOND));
    assert_eq!(joined.features, values(&[("age", MlValue::Int(30)), ("city", string("x"))]));
    assert_eq!(joined.tags, values(&[("region", string("eu")), ("reviewer", string("ann"))]), "tags merge");
    assert_eq!(joined.shap["age"], 0.25);
    assert_eq!(joined.embeddings["text"].vector, [1.0, 2.0]);
    assert_eq!(joined.model_version.as_deref(), Some("v1"));

    // The other order: the actual first, then its prediction.
    store.write_ml_records("fraud", ModelType::ScoreCategorical, vec![actual("p2", class("fraud", 1.0), &[])], now).await.unwrap();
    let waiting = record(&store, "fraud", "p2").await;
    assert!(waiting.prediction.is_none() && waiting.actual.is_some());
    store
        .write_ml_records("fraud", ModelType::ScoreCategorical, vec![prediction("p2", T0 + SECOND, class("ok", 0.2), &[], &[])], now)
        .await
        .unwrap();
    let joined = record(&store, "fraud", "p2").await;
    assert_eq!(joined.time, T0 + SECOND, "the prediction's time replaces the actual's");
    assert_eq!((joined.prediction.unwrap().label.as_deref(), joined.actual.unwrap().label.as_deref()), (Some("ok"), Some("fraud")));

    // A repeated prediction replaces the prediction (a feature it lacks is gone), keeps the actual
    // and merges tags.
    let again = prediction("p1", T0 + 60 * SECOND, class("ok", 0.4), &[("age", MlValue::Double(31.5))], &[("region", string("us"))]);
    store.write_ml_records("fraud", ModelType::ScoreCategorical, vec![again], now).await.unwrap();
    let replaced = record(&store, "fraud", "p1").await;
    assert_eq!(replaced.time, T0 + 60 * SECOND);
    assert_eq!(replaced.prediction.as_ref().unwrap().score, Some(0.4));
    assert_eq!(replaced.features, values(&[("age", MlValue::Double(31.5))]), "city is gone, age became a double");
    assert!(replaced.embeddings.is_empty(), "embeddings belong to the prediction");
    assert_eq!(replaced.actual.unwrap().label.as_deref(), Some("ok"));
    assert_eq!(replaced.tags, values(&[("region", string("us")), ("reviewer", string("ann"))]));
    let model = store.ml_model("fraud").await.unwrap().unwrap();
    let age = store
        .ml_columns(model.id)
        .await
        .unwrap()
        .into_iter()
        .find(|column| column.name == "age" && column.role == MlColumnRole::Feature)
        .unwrap();
    assert_eq!(age.value_type, MlValueType::Double, "an int feature widens to double when a fraction arrives");

    // One batch holding a prediction and its actual (PostgreSQL cannot upsert one row twice in a
    // statement), and the same id in another environment: a record of its own.
    let mut training = prediction("p1", T0, class("fraud", 0.7), &[], &[]);
    training.environment = MlEnvironment::Training;
    let batch = vec![prediction("p3", T0 + 2 * SECOND, class("fraud", 0.6), &[], &[]), actual("p3", class("fraud", 1.0), &[]), training];
    assert_eq!(store.write_ml_records("fraud", ModelType::ScoreCategorical, batch, now).await.unwrap().records, 2);
    let p3 = record(&store, "fraud", "p3").await;
    assert!(p3.prediction.is_some() && p3.actual.is_some());
    assert_eq!(store.ml_records(model.id, &store.ml_columns(model.id).await.unwrap(), &query(100)).await.unwrap().len(), 3);
    let versions = store.ml_versions(model.id).await.unwrap();
    assert_eq!(
        versions.iter().map(|version| version.environment).collect::<Vec<_>>(),
        [MlEnvironment::Training, MlEnvironment::Production]
    );
}

pub async fn ml_records_of_the_wrong_type_refuse_the_whole_batch(store: Store) {
    let now = T0;
    let good = prediction("a", T0, MlLabel::Numeric(1.5), &[("x", MlValue::Double(1.0))], &[]);
    store.write_ml_records("prices", ModelType::Numeric, vec![good], now).await.unwrap();
    let fine = prediction("b", T0, MlLabel::Numeric(2.5), &[("x", MlValue::Double(2.0)), ("new", MlValue::Int(1))], &[]);
    let wrong = prediction("c", T0, MlLabel::Numeric(3.5), &[("x", MlValue::String("high".into()))], &[]);
    let error = store.write_ml_records("prices", ModelType::Numeric, vec![fine.clone(), wrong], now).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Invalid(message) if message.starts_with("invalid feature type") && message.contains("\"x\"")),
        "{error}"
    );
    let model = store.ml_model("prices").await.unwrap().unwrap();
    let columns = store.ml_columns(model.id).await.unwrap();
    assert_eq!(columns.len(), 1, "the refused batch added no column");
    assert_eq!(store.ml_records(model.id, &columns, &query(10)).await.unwrap().len(), 1, "nor any record");

    let classified = prediction("d", T0, class("cheap", 0.5), &[], &[]);
    let error = store.write_ml_records("prices", ModelType::ScoreCategorical, vec![classified], now).await.unwrap_err();
    assert!(matches!(&error, StoreError::Invalid(message) if message.contains("regression model")), "{error}");

    // A model holds at most MAX_COLUMNS_PER_MODEL features, tags and SHAP values.
    let many: Vec<(String, MlValue)> =
        (0..ember_core::ml::MAX_COLUMNS_PER_MODEL).map(|n| (format!("f{n}"), MlValue::Double(1.0))).collect();
    let mut wide = prediction("e", T0, MlLabel::Numeric(1.0), &[], &[]);
    wide.prediction.as_mut().unwrap().features = many.into_iter().collect();
    let error = store.write_ml_records("prices", ModelType::Numeric, vec![wide], now).await.unwrap_err();
    assert!(matches!(&error, StoreError::Invalid(message) if message.contains("the most a model may have")), "{error}");
    store.write_ml_records("prices", ModelType::Numeric, vec![fine], now).await.unwrap();
}

pub async fn ml_record_pages_and_volume_follow_time(store: Store) {
    let records: Vec<MlRecord> = (0..30)
        .map(|n| {
            // Some records lack the numeric feature or the text tag: a missing value in a
            // multi-row statement is a NULL of its column's type (PostgreSQL insists).
            let features = if n % 4 == 0 { vec![] } else { vec![("n", MlValue::Int(n))] };
            let tags = if n % 2 == 0 { vec![("even", MlValue::String("yes".into()))] } else { vec![] };
            let mut record = prediction(&format!("r{n:02}"), T0 + n * 600 * SECOND, MlLabel::Numeric(n as f64), &features, &tags);
            if n % 3 == 0 {
                record.actual = Some(MlActual { time: None, label: Some(MlLabel::Numeric(n as f64 + 0.5)), tags: BTreeMap::new() });
            }
            record
        })
        .collect();
    store.write_ml_records("volume", ModelType::Numeric, records, T0).await.unwrap();
    let model = store.ml_model("volume").await.unwrap().unwrap();
    let columns = store.ml_columns(model.id).await.unwrap();
    let mut seen = Vec::new();
    let mut page_query = query(7);
    loop {
        let page = store.ml_records(model.id, &columns, &page_query).await.unwrap();
        let Some(last) = page.last() else { break };
        page_query.after = Some((last.time, last.id));
        seen.extend(page.iter().map(|record| record.prediction_id.clone()));
    }
    assert_eq!(seen, (0..30).map(|n| format!("r{n:02}")).collect::<Vec<_>>(), "pages in time order, each record once");
    let r05 = store.ml_record(model.id, &columns, MlEnvironment::Production, "r05").await.unwrap().unwrap();
    assert_eq!((r05.features.get("n"), r05.tags.get("even")), (Some(&MlValue::Int(5)), None));
    let with_actual = MlRecordQuery { has_actual: Some(true), start: Some(T0 + 3600 * SECOND), ..query(100) };
    let ids: Vec<String> = store.ml_records(model.id, &columns, &with_actual).await.unwrap().into_iter().map(|r| r.prediction_id).collect();
    assert_eq!(ids, ["r06", "r09", "r12", "r15", "r18", "r21", "r24", "r27"]);
    assert_eq!(store.ml_count(model.id, &with_actual).await.unwrap(), 8);
    let hour = 3600 * SECOND;
    let bins = store.ml_volume(model.id, MlEnvironment::Production, T0 - T0 % hour, T0 + 10 * hour, hour).await.unwrap();
    assert_eq!(bins.iter().map(|bin| bin.records).sum::<i64>(), 30);
    assert_eq!(bins.iter().map(|bin| bin.with_actual).sum::<i64>(), 10);
    assert!(bins.iter().all(|bin| bin.start % hour == 0 && bin.records <= 6));
}

/// Two ember processes logging the first records of one model at once: one creates it, the other
/// finds it, and every column exists once.
pub async fn two_writers_create_one_model(first: Store, second: Store) {
    let batch = |prefix: &str| -> Vec<MlRecord> {
        (0..20)
            .map(|n| {
                prediction(
                    &format!("{prefix}{n}"),
                    T0,
                    class("a", 0.5),
                    &[("shared", MlValue::Double(1.0)), (prefix, MlValue::Int(n))],
                    &[],
                )
            })
            .collect()
    };
    let (one, two) = tokio::join!(
        first.write_ml_records("shared", ModelType::ScoreCategorical, batch("x"), T0),
        second.write_ml_records("shared", ModelType::ScoreCategorical, batch("y"), T0)
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one.model_id, two.model_id);
    assert!(one.created_model != two.created_model, "exactly one created the model");
    let columns = first.ml_columns(one.model_id).await.unwrap();
    let mut names: Vec<&str> = columns.iter().map(|column| column.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["shared", "x", "y"]);
    assert_eq!(first.ml_records(one.model_id, &columns, &query(100)).await.unwrap().len(), 40);
}
