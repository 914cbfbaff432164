//! Arize's ML API (`POST /v1/log`, seed 000) as its documentation sends it — the two request
//! examples byte for byte, with curl's headers — every row of its error table, and the records
//! read back through ember's `/v1/ml/models` API: delayed actuals, bad types, oversized records,
//! nothing half-written.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ember_service::AuthSettings;
use serde_json::{json, Value};

use crate::common::{test_app, test_app_with_auth, TestApp, TestResponse, TEST_ADMIN_SECRET};

pub(crate) const NUMERIC_EXAMPLE: &str = include_str!("../fixtures/arize_log_numeric.json");
pub(crate) const SCORE_CATEGORICAL_EXAMPLE: &str = include_str!("../fixtures/arize_log_score_categorical.json");
/// The numeric example's timestamp (2020): older than Arize's 90 days.
pub(crate) const EXAMPLE_TIME: &str = "2020-10-02T00:37:30.208687Z";

/// `curl --request POST .../v1/log --header 'Authorization: ...' ... --data-raw '...'`: curl
/// types `--data-raw` as a form.
async fn curl_log(app: &TestApp, authorization: Option<&str>, body: &str) -> TestResponse {
    let mut request = Request::post("/v1/log")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("Grpc-Metadata-space_id", "SPACE_ID")
        .header("Grpc-Metadata-sdk-language", "rest");
    if let Some(key) = authorization {
        request = request.header("Authorization", key);
    }
    app.send(request.body(Body::from(body.to_string())).unwrap()).await
}

async fn log(app: &TestApp, record: &Value) -> TestResponse {
    curl_log(app, Some("API_KEY"), &record.to_string()).await
}

pub(crate) fn now_iso(offset_seconds: i64) -> String {
    ember_core::time::format_nanos(ember_core::time::now_nanos() + offset_seconds * 1_000_000_000)
}

fn assert_refused(response: &TestResponse, status: StatusCode, message: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    assert!(response.text().contains(message), "{message:?} in {:?}", response.text());
}

async fn records(app: &TestApp, model: &str, query: &str) -> Vec<Value> {
    let response = app.get(&format!("/v1/ml/models/{model}/records?{query}")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_documented_examples_log_as_written() {
    let app = test_app().await;
    // As documented, the numeric example's timestamp lies outside the last 90 days.
    assert_refused(
        &curl_log(&app, Some("API_KEY"), NUMERIC_EXAMPLE).await,
        StatusCode::BAD_REQUEST,
        "timestamp must range from now back to T-90 days",
    );
    assert!(app.get("/v1/ml/models").await.json()["data"].as_array().unwrap().is_empty(), "nothing written");

    // The same record, comments and all, an hour ago.
    let numeric = NUMERIC_EXAMPLE.replace(EXAMPLE_TIME, &now_iso(-3600));
    let logged = curl_log(&app, Some("API_KEY"), &numeric).await;
    assert_eq!((logged.status, logged.json()), (StatusCode::OK, json!({})));
    let schema = app.get("/v1/ml/models/example_model_id").await.json()["data"].clone();
    assert_eq!(schema["model_type"], "regression", "a numeric label makes a regression model");
    let feature_type =
        |name: &str| schema["features"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap()["value_type"].clone();
    assert_eq!(
        (feature_type("feature_1_float"), feature_type("feature_0_np_ll"), feature_type("feature_2_str")),
        (json!("double"), json!("int"), json!("string"))
    );
    assert_eq!(schema["features"].as_array().unwrap().len(), 25);
    assert_eq!(schema["embeddings"], json!(["image_embedding", "nlp_embedding_sentence", "nlp_embedding_tokens"]));
    assert_eq!(schema["tags"].as_array().unwrap().len(), 4);
    assert_eq!(schema["versions"][0]["version"], "v0.1");

    let stored = records(&app, "example_model_id", "").await;
    assert_eq!(stored.len(), 1);
    let record = &stored[0];
    assert_eq!(record["prediction_id"], "ef00f52c-d6d4-4e48-84cd-70166b3f423f");
    assert_eq!(record["prediction"], json!({"value": 0.1}));
    assert_eq!(record["actual"], json!({"value": 0.1}));
    assert_eq!(record["features"]["feature_1_float"], 0.6604474844066184);
    assert_eq!(record["features"]["feature_0_np_ll"], 77, "int64 sent as a string");
    assert_eq!(record["features"]["feature_4_bool"], "True");
    assert_eq!(record["tags"], json!({"tag_bool": "True", "tag_double": 20.2, "tag_int": 0, "tag_str": "arize"}));
    assert_eq!(
        record["embeddings"]["image_embedding"],
        json!({"vector": [1.0, 2.0, 3.0], "link": "https://my-bucket.s3.us-west-2.amazonaws.com/puppy.png"})
    );
    assert_eq!(record["embeddings"]["nlp_embedding_tokens"]["data"], json!(["This", "is", "a", "test", "token", "array"]));
    assert_eq!(record["environment"], "PRODUCTION");

    // The score-categorical example is an actual alone. In the numeric example's model its label
    // does not fit; in a model of its own it is stored, waiting for its prediction.
    assert_refused(&curl_log(&app, Some("API_KEY"), SCORE_CATEGORICAL_EXAMPLE).await, StatusCode::BAD_REQUEST, "is a regression model");
    let fresh = test_app().await;
    let logged = curl_log(&fresh, Some("API_KEY"), SCORE_CATEGORICAL_EXAMPLE).await;
    assert_eq!((logged.status, logged.json()), (StatusCode::OK, json!({})));
    let actual = records(&fresh, "example_model_id", "").await;
    assert_eq!(actual[0]["prediction"], Value::Null);
    assert_eq!(actual[0]["actual"], json!({"label": "orange", "score": 1.0}));
}

#[tokio::test]
async fn every_row_of_the_error_table_is_answered_as_documented() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    let record =
        json!({"model_id": "m", "prediction_id": "p", "prediction": {"label": {"numeric": 1.0}}, "environment_params": {"production": {}}});
    // 403 for a missing or an invalid key.
    assert_refused(&curl_log(&app, None, &record.to_string()).await, StatusCode::FORBIDDEN, "must provide authorization header");
    assert_refused(&curl_log(&app, Some("not-a-key"), &record.to_string()).await, StatusCode::FORBIDDEN, "invalid api-key");
    // A valid key, bare as the SDK sends it.
    let logged = curl_log(&app, Some(TEST_ADMIN_SECRET), &record.to_string()).await;
    assert_eq!(logged.status, StatusCode::OK, "{}", logged.text());
    // ("cannot access request headers" and "unable to validate authorization header" — a bad
    // space id — cannot happen: ember reads every header it is sent and has no spaces.)

    let app = test_app().await;
    let bare = json!({"model_id": "m", "prediction_id": "p", "environment_params": {"production": {}}});
    assert_refused(&log(&app, &bare).await, StatusCode::BAD_REQUEST, "log must include prediction or actual");
    for value in
        [json!({"bool": true}), json!({"float": 1.5}), json!({"int": "seven"}), json!({"string": "a", "double": 1.0}), json!("raw")]
    {
        let typed = json!({"model_id": "m", "prediction_id": "p", "prediction": {"label": {"numeric": 1}, "features": {"f": value}}});
        assert_refused(&log(&app, &typed).await, StatusCode::BAD_REQUEST, "invalid feature type");
    }
    for offset in [-91 * 86_400, 400 * 86_400] {
        let dated = json!({"model_id": "m", "prediction_id": "p", "prediction": {"timestamp": now_iso(offset), "label": {"numeric": 1}}});
        assert_refused(&log(&app, &dated).await, StatusCode::BAD_REQUEST, "timestamp must range from now back to T-90 days");
    }
    // Bad input is never a 500.
    for body in
        ["", "{", "[]", "null", r#"{"model_id": 5}"#, r#"{"model_id":"m","prediction_id":"p","prediction":{"timestamp":"yesterday"}}"#]
    {
        let response = curl_log(&app, Some("k"), body).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{body:?}: {}", response.text());
    }
    // Embeddings: 1 to 20,000 finite dimensions, at most 50 a record.
    let embedded =
        |features: Value| json!({"model_id": "m", "prediction_id": "p", "prediction": {"label": {"numeric": 1}, "features": features}});
    let refusals = [
        (json!({"e": {"embedding": {"vector": []}}}), "has 0 dimensions"),
        (json!({"e": {"embedding": {"vector": [1.0, "NaN"]}}}), "not a finite number"),
        (
            Value::Object((0..51).map(|n| (format!("e{n}"), json!({"embedding": {"vector": [1.0]}}))).collect()),
            "has 51 embeddings; at most 50",
        ),
    ];
    for (features, message) in refusals {
        assert_refused(&log(&app, &embedded(features)).await, StatusCode::BAD_REQUEST, message);
    }
    let unnamed = json!({"prediction_id": "p", "prediction": {"label": {"numeric": 1}}});
    assert_refused(&log(&app, &unnamed).await, StatusCode::BAD_REQUEST, "model_id is required");
    assert!(app.get("/v1/ml/models").await.json()["data"].as_array().unwrap().is_empty(), "no refused record created a model");
}

#[tokio::test]
async fn delayed_actuals_join_their_predictions_in_either_order() {
    let app = test_app().await;
    let prediction = |id: &str, category: &str, score: f64, features: Value| {
        json!({"model_id": "churn", "prediction_id": id, "prediction": {
            "timestamp": now_iso(-600), "model_version": "v2",
            "prediction_label": {"score_categorical": {"score_category": {"category": category, "score": score}}},
            "features": features, "tags": {"region": {"string": "eu"}}}, "environment_params": {"production": {}}})
    };
    let actual = |id: &str, category: &str| {
        json!({"model_id": "churn", "prediction_id": id, "actual": {"actual_label": {"score_categorical": {"score_category": {"category": category, "score": 1.0}}},
            "tags": {"reviewed": {"string": "yes"}}}, "environment_params": {"production": {}}})
    };
    for body in [
        prediction("a", "churn", 0.8, json!({"tenure": {"int": 12}})),
        actual("a", "stay"),
        actual("b", "churn"),
        prediction("b", "stay", 0.3, json!({})),
    ] {
        let response = log(&app, &body).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    }
    let stored = records(&app, "churn", "has_actual=true").await;
    assert_eq!(stored.len(), 2);
    for record in &stored {
        assert_eq!(record["tags"], json!({"region": "eu", "reviewed": "yes"}), "tags of both sides merge");
        assert_eq!(record["model_version"], "v2");
    }
    let by_id = |id: &str| stored.iter().find(|record| record["prediction_id"] == id).unwrap().clone();
    assert_eq!((by_id("a")["prediction"]["label"].clone(), by_id("a")["actual"]["label"].clone()), (json!("churn"), json!("stay")));
    assert_eq!((by_id("b")["prediction"]["label"].clone(), by_id("b")["actual"]["label"].clone()), (json!("stay"), json!("churn")));
    assert_eq!(by_id("a")["features"], json!({"tenure": 12}));

    // A feature that was an int cannot become a string; the record is refused whole.
    let retyped = prediction("c", "stay", 0.1, json!({"tenure": {"string": "long"}, "plan": {"string": "pro"}}));
    assert_refused(&log(&app, &retyped).await, StatusCode::BAD_REQUEST, "invalid feature type");
    let schema = app.get("/v1/ml/models/churn").await.json()["data"].clone();
    assert_eq!(schema["features"], json!([{"name": "tenure", "value_type": "int"}]), "the refused record added no feature");
    assert_eq!(records(&app, "churn", "").await.len(), 2);

    // A record of 10,000 features is refused with a message saying so, and nothing is written.
    let features: serde_json::Map<String, Value> = (0..10_000).map(|n| (format!("f{n}"), json!({"double": 1.0}))).collect();
    let wide = prediction("wide", "stay", 0.5, Value::Object(features));
    assert_refused(
        &log(&app, &wide).await,
        StatusCode::BAD_REQUEST,
        "carries 10001 features, tags, SHAP values and embeddings; at most 1000 are allowed",
    );
    assert_eq!(records(&app, "churn", "").await.len(), 2);

    // Other environments keep records of their own; the read API pages with a cursor.
    let mut training = prediction("a", "stay", 0.5, json!({}));
    training["environment_params"] = json!({"training": {}});
    assert_eq!(log(&app, &training).await.status, StatusCode::OK);
    assert_eq!(records(&app, "churn", "environment=training").await.len(), 1);
    let first = app.get("/v1/ml/models/churn/records?limit=1").await.json();
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = app.get(&format!("/v1/ml/models/churn/records?limit=1&cursor={cursor}")).await.json();
    assert_ne!(first["data"][0]["prediction_id"], second["data"][0]["prediction_id"]);
    assert_eq!(second["next_cursor"], Value::Null);
    let volume = app.get("/v1/ml/models/churn/volume?bin_seconds=3600").await.json();
    assert_eq!(volume["data"].as_array().unwrap().iter().map(|bin| bin["records"].as_i64().unwrap()).sum::<i64>(), 2);
    assert_eq!(app.get("/v1/ml/models/nope").await.status, StatusCode::NOT_FOUND);
}

/// Records sent at once are committed together; one that does not fit its model is refused
/// alone, and every other is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_sent_at_once_are_committed_together_and_refused_alone() {
    let app = test_app().await;
    let record = |n: usize| {
        let amount = if n == 17 { json!({"string": "lots"}) } else { json!({"double": n as f64}) };
        json!({"model_id": "together", "prediction_id": format!("r{n}"), "prediction": {"timestamp": now_iso(-60),
            "prediction_label": {"numeric": n as f64}, "features": {"amount": amount}}})
    };
    // The model's first record makes `amount` a number.
    assert_eq!(log(&app, &record(0)).await.status, StatusCode::OK);
    let answers = futures::future::join_all((1..60).map(|n| {
        let (app, body) = (&app, record(n));
        async move { (n, log(app, &body).await) }
    }))
    .await;
    for (n, answer) in &answers {
        match n {
            17 => assert_refused(answer, StatusCode::BAD_REQUEST, "invalid feature type"),
            _ => assert_eq!(answer.status, StatusCode::OK, "record {n}: {}", answer.text()),
        }
    }
    let stored = records(&app, "together", "").await;
    assert_eq!(stored.len(), 59);
    assert!(stored.iter().all(|record| record["prediction_id"] != "r17"));
}

pub(crate) mod uploads {
    //! `ml.log`: an ML model's table on `POST /v1/pandas_arrow`, as the SDK builds it.

    use std::collections::{BTreeMap, HashMap};
    use std::sync::Arc;

    use arrow_array::builder::{Float64Builder, ListBuilder};
    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
    use arrow_schema::{Field, Schema};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use ember_server::arize::proto;
    use prost::Message;

    use super::*;
    use crate::common::arrow_stream;

    /// `arize-schema` of a binary-classification production upload of `model` (version v1).
    fn schema(model: &str) -> String {
        let constants =
            proto::Constants { model_id: model.into(), model_version: "v1".into(), batch_id: String::new(), environment: 3, model_type: 4 };
        let columns = proto::ArrowSchema {
            prediction_id_column_name: "pid".into(),
            feature_column_names: vec!["age".into(), "city".into(), "flag".into()],
            timestamp_column_name: "ts".into(),
            prediction_label_column_name: "pred".into(),
            prediction_score_column_name: "score".into(),
            actual_label_column_name: "act".into(),
            shap_values_column_names: BTreeMap::from([("age".to_string(), "age_shap".to_string())]),
            tag_column_names: vec!["tag1".into()],
            embedding_feature_column_names_map: BTreeMap::from([(
                "text".to_string(),
                proto::EmbeddingColumnNames {
                    vector_column_name: "emb".into(),
                    data_column_name: "emb_text".into(),
                    link_to_data_column_name: String::new(),
                },
            )]),
            ..Default::default()
        };
        let schema = proto::Schema { constants: Some(constants), arrow_schema: Some(columns), arize_spans: None };
        STANDARD.encode(schema.encode_to_vec())
    }

    pub(crate) fn table(model: &str, rows: usize, seconds: impl Fn(usize) -> i64) -> Vec<u8> {
        let now = ember_core::time::now_nanos() / 1_000_000_000;
        let mut vectors = ListBuilder::new(Float64Builder::new());
        for row in 0..rows {
            vectors.values().append_slice(&[row as f64, 1.0]);
            vectors.append(true);
        }
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("pid", Arc::new(StringArray::from_iter_values((0..rows).map(|row| format!("row-{row:06}"))))),
            ("ts", Arc::new(Int64Array::from_iter_values((0..rows).map(|row| now + seconds(row))))),
            ("pred", Arc::new(StringArray::from_iter_values((0..rows).map(|row| if row % 2 == 0 { "fraud" } else { "ok" })))),
            ("score", Arc::new(Float64Array::from_iter_values((0..rows).map(|row| row as f64 / rows as f64)))),
            ("act", Arc::new(StringArray::from_iter((0..rows).map(|row| (row % 3 != 2).then_some("ok"))))),
            ("age", Arc::new(Int64Array::from_iter_values((0..rows).map(|row| 20 + row as i64 % 50)))),
            ("city", Arc::new(StringArray::from_iter((0..rows).map(|row| (row % 4 != 3).then(|| format!("city-{}", row % 4)))))),
            ("flag", Arc::new(BooleanArray::from_iter((0..rows).map(|row| Some(row % 2 == 0))))),
            ("tag1", Arc::new(StringArray::from_iter_values((0..rows).map(|_| "t")))),
            ("age_shap", Arc::new(Float64Array::from_iter_values((0..rows).map(|row| row as f64 * 0.01)))),
            ("emb", Arc::new(vectors.finish())),
            ("emb_text", Arc::new(StringArray::from_iter_values((0..rows).map(|row| format!("text {row}"))))),
        ];
        let metadata = HashMap::from([("arize-schema".to_string(), schema(model))]);
        let fields: Vec<Field> = columns.iter().map(|(name, array)| Field::new(*name, array.data_type().clone(), true)).collect();
        arrow_stream(Schema::new(fields).with_metadata(metadata), columns.into_iter().map(|(_, array)| array).collect())
    }

    async fn upload(app: &TestApp, body: Vec<u8>) -> TestResponse {
        let request = Request::post("/v1/pandas_arrow").header("authorization", "key").header("arize-interface", "batch");
        app.send(request.body(Body::from(body)).unwrap()).await
    }

    #[tokio::test]
    async fn ml_log_tables_are_stored_typed_and_joined() {
        let app = test_app().await;
        let response = upload(&app, table("fraud", 4, |row| -60 - row as i64)).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        let schema = app.get("/v1/ml/models/fraud").await.json()["data"].clone();
        assert_eq!(schema["model_type"], "score_categorical");
        assert_eq!(
            schema["features"],
            json!([{"name": "age", "value_type": "int"}, {"name": "city", "value_type": "string"}, {"name": "flag", "value_type": "string"}])
        );
        assert_eq!((schema["shap_values"].clone(), schema["embeddings"].clone()), (json!(["age"]), json!(["text"])));
        let stored = records(&app, "fraud", "").await;
        assert_eq!(stored.len(), 4);
        let newest = &stored[3];
        assert_eq!(newest["prediction_id"], "row-000000", "time order: row 0 is the newest");
        assert_eq!(newest["prediction"], json!({"label": "fraud", "score": 0.0}));
        assert_eq!(newest["actual"], json!({"label": "ok"}));
        assert_eq!(newest["features"], json!({"age": 20, "city": "city-0", "flag": "True"}));
        assert_eq!(newest["tags"], json!({"tag1": "t"}));
        assert_eq!(newest["embeddings"]["text"], json!({"vector": [0.0, 1.0], "data": ["text 0"]}));
        assert_eq!(newest["model_version"], "v1");
        let row_two = stored.iter().find(|record| record["prediction_id"] == "row-000002").unwrap();
        assert_eq!(row_two["actual"], Value::Null, "a missing actual label is no actual");
        assert_eq!(row_two["shap_values"], json!({"age": 0.02}));
        assert_eq!(records(&app, "fraud", "has_actual=false").await.len(), 1);
    }

    #[tokio::test]
    async fn a_refused_ml_table_writes_nothing_and_a_large_one_is_written_in_chunks() {
        let app = test_app().await;
        // The last of 20,001 rows is three years old: the whole upload is refused.
        let stale = table("big", 20_001, |row| if row == 20_000 { -3 * 366 * 86_400 } else { -60 });
        let response = upload(&app, stale).await;
        assert_refused(&response, StatusCode::BAD_REQUEST, "prediction timestamps must be within 2 years in the past");
        assert_eq!(app.get("/v1/ml/models/big").await.status, StatusCode::NOT_FOUND, "nothing was written");

        let response = upload(&app, table("big", 20_001, |row| -(row as i64 % 7200))).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        let volume = app.get("/v1/ml/models/big/volume?bin_seconds=3600").await.json();
        let counted: i64 = volume["data"].as_array().unwrap().iter().map(|bin| bin["records"].as_i64().unwrap()).sum();
        assert_eq!(counted, 20_001, "{volume}");
    }
}
