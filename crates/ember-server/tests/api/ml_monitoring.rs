//! Monitoring ML models over REST (`/performance`, `/drift`, `/data_quality`, `/embedding_drift`)
//! against the same figures computed here another way — pairwise AUC, two-pass R², sorted
//! deciles, NDCG by sorting — plus record filters and the streamed exports.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{test_app, TestApp};

const DAY: i64 = 86_400;

fn iso(offset_seconds: i64) -> String {
    ember_core::time::format_nanos(ember_core::time::now_nanos() + offset_seconds * 1_000_000_000)
}

/// A deterministic spread in [0, 1).
fn mix(n: usize, salt: usize) -> f64 {
    ((n.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(40_503)) % 10_007) as f64 / 10_007.0
}

async fn log(app: &TestApp, record: Value) {
    let response = app.post_json("/v1/log", &record).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
}

async fn get_data(app: &TestApp, uri: &str) -> Value {
    let response = app.get(uri).await;
    assert_eq!(response.status, StatusCode::OK, "{uri}: {}", response.text());
    response.json()["data"].clone()
}

fn close(actual: &Value, expected: f64, what: &str) {
    let actual = actual.as_f64().unwrap_or_else(|| panic!("{what}: {actual} is not a number"));
    assert!((actual - expected).abs() <= 1e-9 * expected.abs().max(1e-12), "{what}: {actual} != {expected}");
}

/// One classifier record: environment, age in seconds, label, score, actual, amount, state.
struct Scored {
    id: String,
    environment: &'static str,
    age: i64,
    predicted: &'static str,
    score: f64,
    actual: &'static str,
    amount: f64,
    state: Option<&'static str>,
}

fn scored(n: usize, environment: &'static str) -> Scored {
    let score = (mix(n, 1) * 1000.0).round() / 1000.0;
    let fraud = mix(n, 2) < score * 0.8 + 0.1;
    let shift = if environment == "production" { 30.0 } else { 0.0 };
    Scored {
        id: format!("{environment}-{n}"),
        environment,
        age: if environment == "production" { DAY + 3600 * (n as i64 % 40) } else { 10 * DAY },
        predicted: if score >= 0.5 { "fraud" } else { "legit" },
        score,
        actual: if fraud { "fraud" } else { "legit" },
        amount: (mix(n, 3) * 100.0 + shift).round(),
        state: match n % 5 {
            0 => None,
            1 | 2 => Some("CA"),
            3 => Some("NY"),
            _ if environment == "production" => Some("TX"),
            _ => Some("WA"),
        },
    }
}

fn scored_json(record: &Scored) -> Value {
    let mut features = json!({"amount": {"double": record.amount}});
    if let Some(state) = record.state {
        features["state"] = json!({"string": state});
    }
    json!({"model_id": "fraud", "prediction_id": record.id,
        "prediction": {"timestamp": iso(-record.age), "model_version": "v1",
            "label": {"score_categorical": {"score_category": {"category": record.predicted, "score": record.score}}},
            "features": features},
        "actual": {"timestamp": iso(-record.age + 60), "label": {"score_categorical": {"score_category": {"category": record.actual, "score": 1.0}}}},
        "environment_params": {record.environment: {}}})
}

/// AUC as the share of positive-negative pairs ordered right, ties one half.
fn pairwise_auc(records: &[&Scored]) -> f64 {
    let (mut pairs, mut right) = (0.0, 0.0);
    for positive in records.iter().filter(|r| r.actual == "fraud") {
        for negative in records.iter().filter(|r| r.actual != "fraud") {
            pairs += 1.0;
            right += if positive.score > negative.score {
                1.0
            } else if positive.score == negative.score {
                0.5
            } else {
                0.0
            };
        }
    }
    right / pairs
}

/// PSI and JS distance of two samples binned on the baseline's deciles (inverted CDF).
fn numeric_drift(baseline: &[f64], current: &[f64]) -> (f64, f64) {
    let mut sorted = baseline.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let mut edges: Vec<f64> = (1..10).map(|j| sorted[(j * n).div_ceil(10) - 1]).collect();
    edges.dedup();
    let shares = |values: &[f64]| {
        let mut counts = vec![0.0; edges.len() + 1];
        for value in values {
            counts[edges.iter().filter(|edge| **edge <= *value).count()] += 1.0;
        }
        counts.iter().map(|count| count / values.len() as f64).collect::<Vec<f64>>()
    };
    divergence(&shares(baseline), &shares(current))
}

fn divergence(b: &[f64], c: &[f64]) -> (f64, f64) {
    let psi: f64 = b.iter().zip(c).map(|(b, c)| (c.max(1e-4) - b.max(1e-4)) * (c.max(1e-4) / b.max(1e-4)).ln()).sum();
    let kl = |p: &[f64], m: &[f64]| p.iter().zip(m).filter(|(p, _)| **p > 0.0).map(|(p, m)| p * (p / m).ln()).sum::<f64>();
    let m: Vec<f64> = b.iter().zip(c).map(|(b, c)| (b + c) / 2.0).collect();
    (psi, (0.5 * kl(b, &m) + 0.5 * kl(c, &m)).sqrt())
}

#[tokio::test]
async fn classifier_performance_drift_and_quality_match_an_independent_computation() {
    let app = test_app().await;
    let training: Vec<Scored> = (0..60).map(|n| scored(n, "training")).collect();
    let production: Vec<Scored> = (100..180).map(|n| scored(n, "production")).collect();
    for record in training.iter().chain(&production) {
        log(&app, scored_json(record)).await;
    }

    // Performance of the production records, fraud as the positive class.
    let performance = get_data(&app, "/v1/ml/models/fraud/performance?positive_class=fraud&bin_seconds=86400").await;
    let current: Vec<&Scored> = production.iter().collect();
    let count = |test: &dyn Fn(&Scored) -> bool| current.iter().filter(|r| test(r)).count() as f64;
    let tp = count(&|r| r.predicted == "fraud" && r.actual == "fraud");
    let fp = count(&|r| r.predicted == "fraud" && r.actual != "fraud");
    let false_negatives = count(&|r| r.predicted != "fraud" && r.actual == "fraud");
    let n = current.len() as f64;
    let overall = &performance["overall"];
    assert_eq!(overall["count"], current.len());
    close(&overall["accuracy"], count(&|r| r.predicted == r.actual) / n, "accuracy");
    close(&overall["precision"], tp / (tp + fp), "precision");
    close(&overall["recall"], tp / (tp + false_negatives), "recall");
    close(&overall["f1"], 2.0 * tp / (2.0 * tp + fp + false_negatives), "f1");
    close(&overall["auc"], pairwise_auc(&current), "auc");
    let log_loss = -current
        .iter()
        .map(|r| if r.actual == "fraud" { r.score.max(f64::EPSILON).ln() } else { (1.0 - r.score).max(f64::EPSILON).ln() })
        .sum::<f64>()
        / n;
    close(&overall["log_loss"], log_loss, "log loss");
    let bins = performance["bins"].as_array().unwrap();
    assert!(bins.len() >= 2, "production spans two days: {bins:?}");
    assert_eq!(bins.iter().map(|bin| bin["count"].as_i64().unwrap()).sum::<i64>(), current.len() as i64);

    // A threshold decides by score; a filter slices.
    let by_threshold = get_data(&app, "/v1/ml/models/fraud/performance?positive_class=fraud&threshold=0.8").await;
    let high = count(&|r| r.score >= 0.8 && r.actual == "fraud");
    close(&by_threshold["overall"]["precision"], high / count(&|r| r.score >= 0.8), "precision at 0.8");
    let sliced = get_data(&app, "/v1/ml/models/fraud/performance?positive_class=fraud&filter=state%20%3D%3D%20CA").await;
    let in_ca: Vec<&Scored> = current.iter().copied().filter(|r| r.state == Some("CA")).collect();
    assert_eq!(sliced["overall"]["count"], in_ca.len());
    close(&sliced["overall"]["auc"], pairwise_auc(&in_ca), "auc of a slice");

    // Drift against the training records: amounts shifted by 30, a state that training lacks.
    let drift = get_data(&app, "/v1/ml/models/fraud/drift").await;
    let drift = drift.as_array().unwrap();
    let by_name = |name: &str| drift.iter().find(|entry| entry["name"] == name).unwrap_or_else(|| panic!("{name} in {drift:?}"));
    let amounts = |records: &[Scored]| records.iter().map(|r| r.amount).collect::<Vec<f64>>();
    let (psi, js) = numeric_drift(&amounts(&training), &amounts(&production));
    close(&by_name("amount")["psi"], psi, "PSI of amount");
    close(&by_name("amount")["js_distance"], js, "JS distance of amount");
    let psis: Vec<f64> = drift.iter().map(|entry| entry["psi"].as_f64().unwrap()).collect();
    assert!(psis.windows(2).all(|pair| pair[0] >= pair[1]), "the most drifted first: {psis:?}");
    let states = ["CA", "NY", "TX", "WA"];
    let state_shares = |records: &[Scored]| {
        let present: Vec<&str> = records.iter().filter_map(|r| r.state).collect();
        states.iter().map(|state| present.iter().filter(|s| *s == state).count() as f64 / present.len() as f64).collect::<Vec<f64>>()
    };
    let (psi, js) = divergence(&state_shares(&training), &state_shares(&production));
    close(&by_name("state")["psi"], psi, "PSI of state");
    close(&by_name("state")["js_distance"], js, "JS distance of state");
    let scores = |records: &[Scored]| records.iter().map(|r| r.score).collect::<Vec<f64>>();
    close(&by_name("prediction_score")["psi"], numeric_drift(&scores(&training), &scores(&production)).0, "prediction drift");
    let one = get_data(&app, "/v1/ml/models/fraud/drift?feature=state").await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    let bins = one[0]["bins"].as_array().unwrap();
    assert_eq!(bins.iter().map(|bin| bin["current"].as_f64().unwrap()).sum::<f64>().round(), 1.0);

    // Data quality: a fifth of the records lack a state; TX is new since training.
    let quality = get_data(&app, "/v1/ml/models/fraud/data_quality?baseline_environment=training").await;
    let state = quality.as_array().unwrap().iter().find(|entry| entry["name"] == "state").unwrap().clone();
    assert_eq!(state["records"], production.len());
    assert_eq!(state["missing"], production.iter().filter(|r| r.state.is_none()).count());
    assert_eq!((state["cardinality"].clone(), state["new_values"].clone()), (json!(3), json!(1)));

    let schema = get_data(&app, "/v1/ml/models/fraud?cardinality=true").await;
    let cardinality =
        |name: &str| schema["features"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap()["cardinality"].clone();
    assert_eq!(cardinality("state"), json!(3));
    assert_eq!(get_data(&app, "/v1/ml/models/fraud").await["features"][0].get("cardinality"), None, "only when asked");

    // Records filtered by a feature, and every export format.
    let filtered = get_data(&app, "/v1/ml/models/fraud/records?filter=amount%20%3E%3D%20100&limit=1000").await;
    let expected = production.iter().filter(|r| r.amount >= 100.0).count();
    assert_eq!(filtered.as_array().unwrap().len(), expected);
    assert!(filtered.as_array().unwrap().iter().all(|record| record["features"]["amount"].as_f64().unwrap() >= 100.0));

    let jsonl = app.get("/v1/ml/models/fraud/export?format=jsonl").await;
    assert_eq!(jsonl.status, StatusCode::OK);
    let lines: Vec<Value> = jsonl.text().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), production.len());
    let csv = app.get("/v1/ml/models/fraud/export?format=csv&filter=state%3DNY").await.text();
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    assert!(header.starts_with(&["prediction_id", "time"]) && header.contains(&"amount"), "{header:?}");
    assert_eq!(rows.count(), production.iter().filter(|r| r.state == Some("NY")).count());
    let arrow = app.get("/v1/ml/models/fraud/export?format=arrow&environment=training").await;
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(arrow.body.to_vec()), None).unwrap();
    assert_eq!(reader.map(|batch| batch.unwrap().num_rows()).sum::<usize>(), training.len());
    let parquet = app.get("/v1/ml/models/fraud/export?format=parquet").await.body;
    assert!(parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"), "a Parquet file");

    let many_filters = format!("/v1/ml/models/fraud/records?{}", vec!["filter=amount%3E1"; 21].join("&"));
    for (uri, problem) in [
        (many_filters.as_str(), "at most 20 combine"),
        ("/v1/ml/models/fraud/records?filter=height%3E3", "no feature or tag"),
        ("/v1/ml/models/fraud/performance?threshold=high", "not a number"),
        ("/v1/ml/models/fraud/performance?bin_seconds=5", "at least 60 seconds"),
        ("/v1/ml/models/fraud/drift?feature=height", "no feature named"),
        ("/v1/ml/models/fraud/export?format=xlsx", "not one of"),
        ("/v1/ml/models/fraud/performance?bin_seconds=3600", "need a start_time and an end_time"),
    ] {
        let response = app.get(uri).await;
        assert!(response.status.is_client_error() && response.text().contains(problem), "{uri}: {} {}", response.status, response.text());
    }
}

#[tokio::test]
async fn regression_ranking_and_embedding_monitoring_match_an_independent_computation() {
    let app = test_app().await;
    let mut pairs = Vec::new();
    for n in 0..40 {
        let actual = (mix(n, 5) * 50.0 + 10.0).round();
        let predicted = actual + (mix(n, 6) - 0.5) * 8.0;
        pairs.push((predicted, actual));
        log(
            &app,
            json!({"model_id": "price", "prediction_id": format!("p{n}"),
            "prediction": {"timestamp": iso(-3600), "label": {"numeric": predicted}},
            "actual": {"label": {"numeric": actual}}, "environment_params": {"production": {}}}),
        )
        .await;
    }
    let overall = get_data(&app, "/v1/ml/models/price/performance").await["overall"].clone();
    let n = pairs.len() as f64;
    let mean = pairs.iter().map(|(_, a)| a).sum::<f64>() / n;
    let total: f64 = pairs.iter().map(|(_, a)| (a - mean).powi(2)).sum();
    let squared: f64 = pairs.iter().map(|(p, a)| (p - a).powi(2)).sum();
    close(&overall["mae"], pairs.iter().map(|(p, a)| (p - a).abs()).sum::<f64>() / n, "MAE");
    close(&overall["rmse"], (squared / n).sqrt(), "RMSE");
    close(&overall["mape"], pairs.iter().map(|(p, a)| ((p - a) / a).abs()).sum::<f64>() / n, "MAPE");
    close(&overall["r2"], 1.0 - squared / total, "R²");

    // Rankings: 4 groups of 5 ranked items, relevance 0–3.
    let mut groups: Vec<Vec<(i64, f64)>> = Vec::new();
    for group in 0..4 {
        let mut items = Vec::new();
        for rank in 1..=5i64 {
            let relevance = (mix(group * 10 + rank as usize, 7) * 4.0).floor();
            items.push((rank, relevance));
            log(&app, json!({"model_id": "search", "prediction_id": format!("g{group}-{rank}"),
                "prediction": {"timestamp": iso(-3600), "label": {"ranking": {"prediction_group_id": format!("g{group}"), "rank": rank, "prediction_score": 1.0 / rank as f64}}},
                "actual": {"label": {"ranking": {"relevance_score": relevance}}}, "environment_params": {"production": {}}}))
            .await;
        }
        groups.push(items);
    }
    let ndcg_at = |k: usize| {
        let dcg = |relevances: &[f64]| relevances.iter().take(k).enumerate().map(|(i, r)| r / (i as f64 + 2.0).log2()).sum::<f64>();
        let per_group: Vec<f64> = groups
            .iter()
            .map(|items| {
                let ranked: Vec<f64> = items.iter().map(|(_, r)| *r).collect();
                let mut ideal = ranked.clone();
                ideal.sort_by(|a, b| b.total_cmp(a));
                if dcg(&ideal) > 0.0 {
                    dcg(&ranked) / dcg(&ideal)
                } else {
                    0.0
                }
            })
            .collect();
        per_group.iter().sum::<f64>() / per_group.len() as f64
    };
    let ranking = get_data(&app, "/v1/ml/models/search/performance?k=3").await;
    assert_eq!((ranking["k"].clone(), ranking["overall"]["count"].clone()), (json!(3), json!(4)));
    close(&ranking["overall"]["ndcg"], ndcg_at(3), "NDCG@3");

    // Embeddings: the centroids of training and production vectors.
    let vectors = |environment: &str, n: usize| -> Vec<f64> {
        let shift = if environment == "production" { 0.5 } else { 0.0 };
        vec![mix(n, 8) + shift, mix(n, 9), -mix(n, 10)]
    };
    let mut centroids = [vec![0.0; 3], vec![0.0; 3]];
    for (side, environment) in ["training", "production"].into_iter().enumerate() {
        for n in 0..10 {
            let vector = vectors(environment, n);
            centroids[side].iter_mut().zip(&vector).for_each(|(sum, value)| *sum += value / 10.0);
            log(
                &app,
                json!({"model_id": "vision", "prediction_id": format!("{environment}{n}"),
                "prediction": {"timestamp": iso(-3600), "label": {"numeric": 1.0},
                    "features": {"image": {"embedding": {"vector": vector}}}},
                "environment_params": {environment: {}}}),
            )
            .await;
        }
    }
    let distance = centroids[0].iter().zip(&centroids[1]).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
    let drift = get_data(&app, "/v1/ml/models/vision/embedding_drift").await;
    assert_eq!((drift[0]["name"].clone(), drift[0]["baseline_records"].clone()), (json!("image"), json!(10)));
    close(&drift[0]["distance"], distance, "centroid distance");
}
