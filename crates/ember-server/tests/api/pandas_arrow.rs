//! `POST /v1/pandas_arrow`, the `arize` SDK's table uploads: spans with their evaluations
//! (`spans.log`), evaluations alone (`log_evaluations`), the SDK's encodings, all-or-nothing
//! refusals, large uploads written a chunk at a time, and the SDK's bare key.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, Int64Array, NullArray, StringArray};
use arrow_schema::{Field, Schema};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ember_service::AuthSettings;
use serde_json::{json, Value};

use crate::common::{arrow_stream, test_app, test_app_with, test_app_with_auth, TestApp, TestResponse, TEST_ADMIN_SECRET};

/// `public.Schema{constants{model_id: project, environment: TRACING, model_type: GENERATIVE_LLM},
/// arize_spans{}}` as the SDK encodes it (the captured bytes for "my-project").
pub(crate) fn tracing_schema(project: &str) -> String {
    let mut constants = vec![0x0a, project.len() as u8];
    constants.extend(project.as_bytes());
    constants.extend([0x20, 0x05, 0x28, 0x07]);
    let mut schema = vec![0x0a, constants.len() as u8];
    schema.extend(constants);
    schema.extend([0x42, 0x00]);
    STANDARD.encode(schema)
}

/// An ML upload's schema without an environment: `constants{model_id}` and `arrow_schema{}` (field 4).
fn ml_schema(model: &str) -> String {
    let mut schema = vec![0x0a, model.len() as u8 + 2, 0x0a, model.len() as u8];
    schema.extend(model.as_bytes());
    schema.extend([0x22, 0x00]);
    STANDARD.encode(schema)
}

pub(crate) fn strings(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn string_lists(values: &[Vec<&str>]) -> ArrayRef {
    let mut builder = ListBuilder::new(StringBuilder::new());
    for list in values {
        for item in list {
            builder.values().append_value(item);
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

pub(crate) fn table(arize_schema: Option<String>, columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
    let metadata: HashMap<String, String> = arize_schema.into_iter().map(|value| ("arize-schema".to_string(), value)).collect();
    let fields: Vec<Field> = columns.iter().map(|(name, array)| Field::new(*name, array.data_type().clone(), true)).collect();
    arrow_stream(Schema::new(fields).with_metadata(metadata), columns.into_iter().map(|(_, array)| array).collect())
}

const T0: i64 = 1_704_067_200_000_000_000;

/// Three spans of one trace as `spans.log` sends them, with a joined evaluation of span 2.
pub(crate) fn spans_table(project: &str, second_name: Option<&str>) -> Vec<u8> {
    let message = r#"{"message.role": "user", "message.content": "hi"}"#;
    let event = r#"{"name": "retry", "timestamp": 1704067200500000000, "attributes": "{\"attempt\": 2}"}"#;
    table(
        Some(tracing_schema(project)),
        vec![
            ("context.span_id", strings(&[Some("span-00000001"), Some("span-00000002"), Some("span-00000003")])),
            ("context.trace_id", strings(&[Some("trace-0000001"); 3])),
            ("parent_id", strings(&[None, Some("span-00000001"), Some("span-00000001")])),
            ("name", strings(&[Some("agent"), second_name, Some("tool")])),
            ("start_time", Arc::new(Int64Array::from(vec![T0, T0 + 1_000_000, T0 + 2_000_000]))),
            // pandas turns an int column with a missing value into doubles.
            ("end_time", Arc::new(Float64Array::from(vec![T0 as f64 + 9e6, T0 as f64 + 5e6, T0 as f64 + 8e6]))),
            ("status_code", strings(&[Some("OK"), Some("OK"), Some("ERROR")])),
            ("status_message", strings(&[Some(""), Some(""), Some("tool failed")])),
            ("attributes.openinference.span.kind", strings(&[Some("AGENT"), Some("LLM"), Some("TOOL")])),
            ("attributes.metadata", strings(&[Some(r#"{"tier": "gold", "nested": "{\"a\": 1}"}"#), None, None])),
            ("attributes.llm.input_messages", string_lists(&[vec![], vec![message], vec![]])),
            ("attributes.llm.token_count.total", Arc::new(Float64Array::from(vec![None, Some(42.0), None]))),
            ("attributes.session.id", Arc::new(NullArray::new(3))),
            ("events", string_lists(&[vec![], vec![], vec![event]])),
            ("eval.Correctness.label", strings(&[None, Some("correct"), None])),
            ("eval.Correctness.score", Arc::new(Float64Array::from(vec![None, Some(1.0), None]))),
        ],
    )
}

async fn upload(app: &TestApp, key: Option<&str>, body: Vec<u8>) -> TestResponse {
    let mut request = Request::post("/v1/pandas_arrow").header("arize-space-id", "U3BhY2U6MTphYmNk").header("arize-interface", "batch");
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, key);
    }
    app.send(request.body(Body::from(body)).unwrap()).await
}

async fn spans_of(app: &TestApp, project: &str) -> Vec<Value> {
    app.get(&format!("/v1/projects/{project}/spans?limit=1000")).await.json()["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn spans_log_writes_spans_and_their_evaluations_before_answering() {
    let app = test_app().await;
    let response = upload(&app, Some("any-key"), spans_table("my-project", Some("llm"))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"realTimeIngestionUri": ""}));

    let spans = spans_of(&app, "my-project").await;
    assert_eq!(spans.len(), 3);
    let by_id = |id: &str| spans.iter().find(|span| span["context"]["span_id"] == id).unwrap().clone();
    let (agent, llm, tool) = (by_id("span-00000001"), by_id("span-00000002"), by_id("span-00000003"));
    assert_eq!((agent["span_kind"].as_str(), agent["parent_id"].as_str()), (Some("AGENT"), None));
    assert_eq!(agent["attributes"]["metadata.tier"], "gold");
    assert_eq!(agent["attributes"]["metadata.nested.a"], 1, "a nested dictionary sent as JSON text is a dictionary again");
    assert_eq!(llm["attributes"]["llm.input_messages.0.message.content"], "hi");
    assert_eq!(llm["attributes"]["llm.token_count.total"], 42, "token counts sent as doubles are integers");
    assert_eq!(llm["end_time"], "2024-01-01T00:00:00.005000+00:00");
    assert_eq!((tool["status_code"].as_str(), tool["status_message"].as_str()), (Some("ERROR"), Some("tool failed")));
    assert_eq!(tool["events"][0]["attributes"]["attempt"], 2);

    let annotations = app.get("/v1/projects/my-project/span_annotations?span_ids=span-00000002").await.json();
    assert_eq!(annotations["data"][0]["name"], "Correctness");
    assert_eq!(annotations["data"][0]["annotator_kind"], "LLM");
    assert_eq!(annotations["data"][0]["result"]["label"], "correct");
    // Filters see what was logged.
    let gold = app.get("/v1/projects/my-project/spans?filter_condition=metadata%5B%27tier%27%5D%20%3D%3D%20%27gold%27").await.json();
    assert_eq!(gold["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn evaluation_uploads_annotate_stored_spans() {
    let app = test_app().await;
    assert_eq!(upload(&app, None, spans_table("p", Some("llm"))).await.status, StatusCode::OK);
    let evaluations = table(
        Some(tracing_schema("p")),
        vec![
            ("context.span_id", strings(&[Some("span-00000003")])),
            ("eval.Tone.label", strings(&[Some("calm")])),
            ("eval.Tone.explanation", strings(&[Some("no shouting")])),
        ],
    );
    assert_eq!(upload(&app, None, evaluations).await.status, StatusCode::OK);
    let tone = app.get("/v1/projects/p/span_annotations?span_ids=span-00000003").await.json();
    assert_eq!(tone["data"][0]["result"]["explanation"], "no shouting");

    let missing = table(
        Some(tracing_schema("p")),
        vec![("context.span_id", strings(&[Some("nope-00000000")])), ("eval.Tone.label", strings(&[Some("x")]))],
    );
    assert_eq!(upload(&app, None, missing).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn refused_uploads_write_nothing() {
    let app = test_app().await;
    let cases = [
        (spans_table("p", None), "row 1: name is missing"),
        (table(None, vec![("context.span_id", strings(&[Some("span-00000001")]))]), "no arize-schema"),
        (table(Some("%%%".into()), vec![("context.span_id", strings(&[Some("span-00000001")]))]), "not base64"),
        (table(Some(ml_schema("fraud-model")), vec![("prediction_id", strings(&[Some("a")]))]), "names no environment"),
        (b"not arrow at all".to_vec(), "not an Arrow IPC stream"),
        (spans_table("p", Some("llm"))[..300].to_vec(), "Arrow"),
    ];
    for (body, message) in cases {
        let response = upload(&app, None, body).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}: {}", response.text());
        assert!(response.text().contains(message), "{message}: {}", response.text());
    }
    assert_eq!(app.get("/v1/projects/p").await.status, StatusCode::NOT_FOUND, "a refused upload writes none of its spans");
}

#[tokio::test]
async fn large_uploads_are_written_a_chunk_at_a_time() {
    let app = test_app().await;
    let count = 12_001;
    let ids: Vec<String> = (0..count).map(|index| format!("span-{index:08}")).collect();
    let body = table(
        Some(tracing_schema("big")),
        vec![
            ("context.span_id", Arc::new(StringArray::from_iter_values(&ids))),
            ("context.trace_id", Arc::new(StringArray::from_iter_values(ids.iter().map(|id| format!("trace-{id}"))))),
            ("name", Arc::new(StringArray::from_iter_values((0..count).map(|_| "s")))),
            ("start_time", Arc::new(Int64Array::from_iter_values((0..count as i64).map(|index| T0 + index)))),
            ("end_time", Arc::new(Int64Array::from_iter_values((0..count as i64).map(|index| T0 + index + 1)))),
        ],
    );
    let response = upload(&app, None, body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let traces = app.get("/v1/projects/big/traces?limit=1").await.json();
    assert!(traces["next_cursor"].is_string());
    let project = app.get("/v1/projects/big").await.json();
    assert_eq!(project["data"]["name"], "big");
    let last = app.get(&format!("/v1/projects/big/spans?span_id={}", ids[count - 1])).await.json();
    assert_eq!(last["data"].as_array().unwrap().len(), 1, "the last chunk is written too");
}

#[tokio::test]
async fn with_auth_on_the_sdk_key_is_checked_bare() {
    let app = test_app_with_auth(AuthSettings::default()).await;
    assert_eq!(upload(&app, None, spans_table("p", Some("llm"))).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(upload(&app, Some("not-a-key"), spans_table("p", Some("llm"))).await.status, StatusCode::UNAUTHORIZED);
    let response = upload(&app, Some(TEST_ADMIN_SECRET), spans_table("p", Some("llm"))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let bearer = upload(&app, Some(&format!("Bearer {TEST_ADMIN_SECRET}")), spans_table("p", Some("llm"))).await;
    assert_eq!(bearer.status, StatusCode::OK, "{}", bearer.text());
}

#[tokio::test]
async fn an_upload_past_the_upload_cap_is_413_and_writes_nothing() {
    // A body cap of 64 KiB makes the upload cap 256 KiB.
    let app = test_app_with(ember_store::QueueLimits::default(), 64 << 10).await;
    let long = "x".repeat(300 << 10);
    let body = table(
        Some(tracing_schema("capped")),
        vec![
            ("context.span_id", strings(&[Some("span-00000001")])),
            ("context.trace_id", strings(&[Some("trace-0000001")])),
            ("name", strings(&[Some("big")])),
            ("start_time", Arc::new(Int64Array::from(vec![T0]))),
            ("end_time", Arc::new(Int64Array::from(vec![T0 + 1]))),
            ("attributes.input.value", strings(&[Some(long.as_str())])),
        ],
    );
    let response = upload(&app, None, body).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", response.text());
    assert_eq!(app.get("/v1/projects/capped").await.status, StatusCode::NOT_FOUND);

    // Evaluations alone are applied at once: their uploads are held to the body cap (64 KiB).
    let explanation = "y".repeat(100 << 10);
    let evaluations = table(
        Some(tracing_schema("capped")),
        vec![("context.span_id", strings(&[Some("span-00000001")])), ("eval.Q.explanation", strings(&[Some(explanation.as_str())]))],
    );
    let response = upload(&app, None, evaluations).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", response.text());
    assert!(response.text().contains("EMBER_MAX_BODY_BYTES"), "{}", response.text());
}
