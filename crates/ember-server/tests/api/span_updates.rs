//! The Arize AX bulk span updates: evaluations, annotations, metadata, deletion.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ember_otlp::fixtures::{request, span, span_id, string_attribute, with_attributes};
use serde_json::{json, Value};

use crate::common::{test_app, TestApp, TestResponse};

/// Project `p`: spans 1, 2, 3 (span 1 with metadata {"n": 1, "tier": "gold"}); project `q`: span 9.
async fn seeded() -> TestApp {
    let app = test_app().await;
    let first = with_attributes(span(1, 1, None, "CHAIN"), vec![string_attribute("metadata", r#"{"n": 1, "tier": "gold"}"#)]);
    app.ingest(&request(Some("p"), vec![first, span(2, 2, None, "LLM"), span(3, 3, None, "LLM")])).await;
    app.ingest(&request(Some("q"), vec![span(9, 9, None, "CHAIN")])).await;
    app
}

async fn post(app: &TestApp, uri: &str, content_type: &str, body: impl Into<Body>) -> TestResponse {
    app.send(Request::post(uri).header("content-type", content_type).body(body.into()).unwrap()).await
}

async fn annotations_of(app: &TestApp, span: u8) -> Vec<Value> {
    app.get(&format!("/v1/projects/p/span_annotations?span_ids={}", span_id(span))).await.json()["data"].as_array().unwrap().clone()
}

/// The span's metadata object, through the span-query frame.
async fn metadata_of(app: &TestApp, span: u8) -> Value {
    let frame = app
        .query_spans(
            "/v1/spans?project_name=p",
            &json!({"queries": [{"select": {"m": {"key": "metadata"}}, "filter": {"condition": format!("span_id == '{}'", span_id(span))}}]}),
        )
        .await;
    let text = frame.text();
    let json_part = text.split("\r\n\r\n").nth(1).and_then(|rest| rest.split("\r\n--").next()).expect("a multipart JSON part");
    let table: Value = serde_json::from_str(json_part).unwrap();
    // Phoenix prefixes column names with their position.
    table["data"][0]["1_m"].clone()
}

#[tokio::test]
async fn evaluations_from_json_and_csv_rows_are_llm_annotations() {
    let app = seeded().await;
    let rows = json!([
        {"context.span_id": span_id(1), "eval.Relevance.label": "relevant", "eval.Relevance.score": 0.95, "eval.Relevance.explanation": "on topic"},
        {"context.span_id": span_id(2), "eval.Relevance.label": "not_relevant", "eval.Relevance.score": 0.2},
    ]);
    let response = app.post_json("/v1/projects/p/spans/evaluations", &rows).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"spans_processed": 2, "evaluations_written": 2}));
    let first = &annotations_of(&app, 1).await[0];
    assert_eq!((first["name"].as_str(), first["annotator_kind"].as_str()), (Some("Relevance"), Some("LLM")));
    assert_eq!(first["result"], json!({"label": "relevant", "score": 0.95, "explanation": "on topic"}));

    let csv = format!(
        "context.span_id,eval.Relevance.label,eval.Relevance.score,eval.Tone.label\n{},relevant,1,\n{},,,calm\n",
        span_id(2),
        span_id(3)
    );
    let response = post(&app, "/v1/projects/p/spans/evaluations", "text/csv", csv).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let second = annotations_of(&app, 2).await;
    assert_eq!(second.len(), 1, "the same name and span is updated in place");
    assert_eq!(second[0]["result"], json!({"label": "relevant", "score": 1.0, "explanation": null}));
    assert_eq!(annotations_of(&app, 3).await[0]["name"], "Tone", "empty cells are missing values");

    for (body, status, needle) in [
        (json!([{"context.span_id": span_id(9), "eval.X.label": "a"}]), StatusCode::NOT_FOUND, "in the project"),
        (
            json!([{"context.span_id": span_id(1), "eval.X.label": "a"}, {"context.span_id": "ff", "eval.X.label": "b"}]),
            StatusCode::NOT_FOUND,
            "ff",
        ),
        (json!([{"eval.X.label": "a"}]), StatusCode::UNPROCESSABLE_ENTITY, "context.span_id"),
        (json!([{"context.span_id": span_id(1), "eval.X.grade": "a"}]), StatusCode::UNPROCESSABLE_ENTITY, "label, score or explanation"),
        (json!([{"context.span_id": span_id(1), "eval.X.score": "high"}]), StatusCode::UNPROCESSABLE_ENTITY, "a number"),
        (json!({"rows": []}), StatusCode::UNPROCESSABLE_ENTITY, "array of rows"),
    ] {
        let response = app.post_json("/v1/projects/p/spans/evaluations", &body).await;
        assert_eq!(response.status, status, "{body}: {}", response.text());
        assert!(response.text().contains(needle), "{body}: {}", response.text());
    }
    assert!(annotations_of(&app, 1).await.iter().all(|a| a["name"] != "X"), "nothing of a refused request is written");
    let xml = post(&app, "/v1/projects/p/spans/evaluations", "application/xml", "<rows/>").await;
    assert_eq!(xml.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for content_type in ["application/vnd.apache.arrow.stream", "application/vnd.apache.parquet"] {
        let garbage = post(&app, "/v1/projects/p/spans/evaluations", content_type, "not a table").await;
        assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY, "{content_type}");
    }
}

#[tokio::test]
async fn annotations_are_human_bounded_and_looked_up_in_a_window() {
    let app = seeded().await;
    let rows = json!([{"context.span_id": span_id(1), "annotation.Quality.label": "correct", "annotation.Quality.score": 1, "annotation.Quality.text": "checked"}]);
    let window = "start_time=2023-01-01T00:00:00Z&end_time=2025-01-01T00:00:00Z";
    let response = app.post_json(&format!("/v1/projects/p/spans/annotations?{window}"), &rows).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let quality = &annotations_of(&app, 1).await[0];
    assert_eq!(quality["annotator_kind"], "HUMAN");
    assert_eq!(quality["result"], json!({"label": "correct", "score": 1.0, "explanation": "checked"}));

    // AX `annotate_spans` records say the same in another shape.
    let records = json!({"annotations": [{"record_id": span_id(2), "values": [
        {"name": "accuracy", "label": "correct", "score": 1.0},
        {"name": "notes", "text": "Verified by reviewer"},
    ]}]});
    let response = app.post_json(&format!("/v1/projects/p/spans/annotations?{window}"), &records).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let mut written: Vec<(String, Value)> =
        annotations_of(&app, 2).await.iter().map(|a| (a["name"].as_str().unwrap().to_string(), a["result"].clone())).collect();
    written.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        written,
        vec![
            ("accuracy".to_string(), json!({"label": "correct", "score": 1.0, "explanation": null})),
            ("notes".to_string(), json!({"label": null, "score": null, "explanation": "Verified by reviewer"})),
        ]
    );
    let no_id = app.post_json(&format!("/v1/projects/p/spans/annotations?{window}"), &json!({"annotations": [{"values": []}]})).await;
    assert_eq!(no_id.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_id.text().contains("record_id"), "{}", no_id.text());

    // The fixture's spans are from 2024, outside the default window of the last 31 days.
    let outside = app.post_json("/v1/projects/p/spans/annotations", &rows).await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
    assert!(outside.text().contains("time window"), "{}", outside.text());
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"context.span_id": span_id(1), "annotation.Q.label": "x"})).collect();
    let response = app.post_json(&format!("/v1/projects/p/spans/annotations?{window}"), &json!(too_many)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().contains("1000"), "{}", response.text());
}

#[tokio::test]
async fn metadata_updates_follow_the_type_rules_and_report_each_span() {
    let app = seeded().await;
    // One row per rule of the type table.
    let rows = json!([{
        "context.span_id": span_id(2),
        "attributes.metadata.text": "a",
        "attributes.metadata.int": 7,
        "attributes.metadata.float": 2.5,
        "attributes.metadata.flag": true,
        "attributes.metadata.off": false,
        "attributes.metadata.object": {"a": 1},
        "attributes.metadata.list": [1, "b"],
        "attributes.metadata.nothing": null,
    }]);
    let response = app.post_json("/v1/projects/p/spans/metadata", &rows).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"spans_processed": 1, "spans_updated": 1, "spans_failed": 0, "errors": []}));
    assert_eq!(
        metadata_of(&app, 2).await,
        json!({"text": "a", "int": 7, "float": 2.5, "flag": "true", "off": "false", "object": "{\"a\":1}", "list": "[1,\"b\"]", "nothing": null})
    );

    // The patch document goes after the field columns and wins; keys not named are kept.
    let rows = json!([{"context.span_id": span_id(1), "attributes.metadata.tier": "silver", "attributes.metadata.region": "eu", "patch_document": {"tier": "platinum"}}]);
    assert_eq!(app.post_json("/v1/projects/p/spans/metadata", &rows).await.json()["spans_updated"], 1);
    assert_eq!(metadata_of(&app, 1).await, json!({"n": 1, "tier": "platinum", "region": "eu"}));
    // Filters see the new values (SQLite's attribute index follows the update).
    let found = app.get("/v1/projects/p/spans?filter_condition=metadata%5B%27tier%27%5D%20%3D%3D%20%27platinum%27").await.json();
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    let gone = app.get("/v1/projects/p/spans?filter_condition=metadata%5B%27tier%27%5D%20%3D%3D%20%27gold%27").await.json();
    assert_eq!(gone["data"], json!([]));

    // Per-span failures: a type conflict, a missing span, a bad patch; the good row still lands.
    let csv = format!(
        "context.span_id,attributes.metadata.n,my_patch\n{},seven,\n{},,\"{{\"\"k\"\": \"\"v\"\"}}\"\n{},,not json\n{},,\"{{\"\"k\"\": 1}}\"\n",
        span_id(1),
        span_id(8),
        span_id(2),
        span_id(3)
    );
    let response = post(&app, "/v1/projects/p/spans/metadata?patch_document_column_name=my_patch", "text/csv", csv).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let report = response.json();
    assert_eq!(
        (report["spans_processed"].as_u64(), report["spans_updated"].as_u64(), report["spans_failed"].as_u64()),
        (Some(4), Some(1), Some(3))
    );
    let errors: Vec<(String, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["span_id"].as_str().unwrap().to_string(), e["error_message"].as_str().unwrap().to_string()))
        .collect();
    assert!(
        errors.iter().any(|(id, message)| *id == span_id(1) && message.starts_with("[type_conflict]") && message.contains("Int")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|(id, message)| *id == span_id(8) && message.starts_with("[segment_not_found]")), "{errors:?}");
    assert!(errors.iter().any(|(id, message)| *id == span_id(2) && message.starts_with("[parse_failure]")), "{errors:?}");
    assert_eq!(metadata_of(&app, 1).await["n"], 1, "a conflicting span is left as it was");
    // An empty cell is a missing value, which sets the field to null rather than skipping it.
    assert_eq!(metadata_of(&app, 3).await, json!({"n": null, "k": 1}));
}

#[tokio::test]
async fn updated_metadata_is_read_by_every_path_and_dies_with_its_span() {
    let app = seeded().await;
    let rows = json!([{"context.span_id": span_id(3), "attributes.metadata.tier": "bronze"}]);
    assert_eq!(app.post_json("/v1/projects/p/spans/metadata", &rows).await.json()["spans_updated"], 1);
    let listed = app.get("/v1/projects/p/spans").await.json();
    let third = listed["data"].as_array().unwrap().iter().find(|span| span["context"]["span_id"] == span_id(3)).unwrap().clone();
    assert_eq!(third["attributes"]["metadata.tier"], "bronze", "{third}");
    let found = app.get("/v1/projects/p/spans?filter_condition=%27ronz%27%20in%20metadata%5B%27tier%27%5D").await.json();
    assert_eq!(found["data"].as_array().unwrap().len(), 1, "{found}");

    // SQLite may give a new span the rowid of the newest span deleted: it inherits nothing.
    let response = app.post_json("/v1/projects/p/spans/delete", &json!({"span_ids": [span_id(3)]})).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    app.ingest(&request(Some("p"), vec![span(4, 4, None, "LLM")])).await;
    assert_eq!(metadata_of(&app, 4).await, Value::Null);
}

#[tokio::test]
async fn spans_are_deleted_by_id_and_unknown_ids_are_ignored() {
    let app = seeded().await;
    let response = app.post_json("/v1/projects/p/spans/delete", &json!({"span_ids": [span_id(1), "0000000000000077", span_id(9)]})).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.text());
    let left: Vec<String> = app.get("/v1/projects/p/spans").await.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["context"]["span_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, vec![span_id(3), span_id(2)]);
    assert_eq!(app.get("/v1/projects/q/spans").await.json()["data"].as_array().unwrap().len(), 1, "another project's span stays");

    let csv = format!("context.span_id\n{}\n", span_id(2));
    assert_eq!(post(&app, "/v1/projects/p/spans/delete", "text/csv", csv).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/v1/projects/p/spans").await.json()["data"].as_array().unwrap().len(), 1);
    let bad = app.post_json("/v1/projects/p/spans/delete", &json!({"span_ids": [1, 2]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.post_json("/v1/projects/nope/spans/delete", &json!({"span_ids": []})).await.status, StatusCode::NOT_FOUND);
}

/// An Arrow IPC stream of one row whose span-id buffer claims 1 TiB (it used to panic the
/// handler in arrow-buffer and drop the connection).
fn lying_arrow_stream(metadata: &[(&str, &str)]) -> Vec<u8> {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    let schema = Schema::new(vec![Field::new("context.span_id", DataType::Utf8, false), Field::new("eval.Q.label", DataType::Utf8, false)])
        .with_metadata(
            metadata.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect::<std::collections::HashMap<_, _>>(),
        );
    let columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![span_id(1)])), Arc::new(StringArray::from(vec!["x"]))];
    let mut body = crate::common::arrow_stream(schema, columns);
    // In the record batch's metadata (after the schema message: marker, length, flatbuffer), the
    // Buffer{offset, length: 16} of the span id's bytes, the only 16-byte buffer.
    let message_length = |at: usize| 8 + i32::from_le_bytes(body[at + 4..at + 8].try_into().unwrap()) as usize;
    let batch = message_length(0);
    let metadata = batch + 8..batch + message_length(batch);
    let length = 16_i64.to_le_bytes();
    let at = metadata.clone().step_by(8).find(|at| body[*at..*at + 8] == length).expect("the span id buffer");
    body[at..at + 8].copy_from_slice(&(1_i64 << 40).to_le_bytes());
    body
}

/// D8: malformed Arrow that makes the arrow crates panic is a 422 answer, on the AX bulk routes
/// and legacy `/v1/evaluations`; nothing is written.
#[tokio::test]
async fn arrow_bodies_that_panic_the_decoder_are_422() {
    let app = seeded().await;
    let bulk = post(&app, "/v1/projects/p/spans/evaluations", "application/vnd.apache.arrow.stream", lying_arrow_stream(&[])).await;
    assert_eq!(bulk.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bulk.text());
    assert!(bulk.text().contains("Arrow IPC body"), "{}", bulk.text());
    let legacy =
        post(&app, "/v1/evaluations", "application/x-pandas-arrow", lying_arrow_stream(&[("arize", r#"{"eval_name": "Q"}"#)])).await;
    assert_eq!(legacy.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", legacy.text());
    assert!(annotations_of(&app, 1).await.iter().all(|a| a["name"] != "Q"));
}
