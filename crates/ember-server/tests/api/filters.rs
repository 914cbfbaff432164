//! Filters over REST: Arize AX `filter` and Phoenix `filter_condition` on span lists, trace and
//! session filters, and the span query's `filter`, `explode` and `concat`.

use axum::http::StatusCode;
use ember_otlp::fixtures::{request, span, span_id, string_attribute, with_attributes, with_error};
use ember_store::{AnnotationInput, AnnotationSource, AnnotatorKind};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use serde_json::{json, Value};

use crate::common::{test_app, TestApp};

fn double_attribute(key: &str, value: f64) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::DoubleValue(value)) }), ..Default::default() }
}

/// Trace 1: chain(1) <- retriever(2, two documents) and llm(3, error, session s-1, customer c-42);
/// trace 2: chain(4) in session s-2; an annotation `correctness` = correct on span 3.
async fn seeded() -> TestApp {
    let app = test_app().await;
    let retriever = with_attributes(
        span(1, 2, Some(1), "RETRIEVER"),
        vec![
            string_attribute("retrieval.documents.0.document.content", "Refunds take 5 days."),
            double_attribute("retrieval.documents.0.document.score", 0.9),
            string_attribute("retrieval.documents.0.document.metadata", r#"{"source": "faq"}"#),
            string_attribute("retrieval.documents.1.document.content", "Returns are free."),
            double_attribute("retrieval.documents.1.document.score", 0.4),
        ],
    );
    let llm = with_attributes(
        with_error(span(1, 3, Some(1), "LLM"), "boom"),
        vec![
            string_attribute("session.id", "s-1"),
            string_attribute("metadata", r#"{"customer_id": "c-42"}"#),
            string_attribute("output.value", "Your REFUND is on its way"),
        ],
    );
    let other = with_attributes(span(2, 4, None, "CHAIN"), vec![string_attribute("session.id", "s-2")]);
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "CHAIN"), retriever, llm, other])).await;
    app.store
        .upsert_annotations(
            ember_core::AnnotationTarget::Span,
            &[AnnotationInput {
                target_id: span_id(3),
                name: "correctness".into(),
                label: Some("correct".into()),
                score: Some(1.0),
                explanation: None,
                metadata: json!({}),
                annotator_kind: AnnotatorKind::Llm,
                identifier: String::new(),
                source: AnnotationSource::Api,
            }],
            None,
        )
        .await
        .unwrap();
    app
}

fn names(response: &Value) -> Vec<String> {
    response["data"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
}

fn encode(filter: &str) -> String {
    serde_urlencoded::to_string([("f", filter)]).unwrap()[2..].to_string()
}

#[tokio::test]
async fn span_lists_take_arize_and_phoenix_filters() {
    let app = &seeded().await;
    let list = |parameter: &'static str, filter: &'static str| {
        let uri = format!("/v1/projects/p/spans?{parameter}={}", encode(filter));
        async move { app.get(&uri).await }
    };
    for (filter, expected) in [
        ("status_code = 'ERROR'", vec!["LLM-3"]),
        ("status_code = 'ERROR' AND eval.correctness.label = 'correct'", vec!["LLM-3"]),
        ("eval.correctness.label = 'incorrect'", vec![]),
        ("latency_ms > 2.5", vec!["CHAIN-4", "LLM-3"]),
        ("span_kind IN ('retriever', 'CHAIN') AND NOT parent_id IS NULL", vec!["RETRIEVER-2"]),
        ("metadata.customer_id = 'c-42'", vec!["LLM-3"]),
        ("attributes.output.value CONTAINS 'refund'", vec!["LLM-3"]),
        ("name LIKE 'CHAIN%'", vec!["CHAIN-4", "CHAIN-1"]),
        ("context.trace_id = '02020202020202020202020202020202'", vec!["CHAIN-4"]),
    ] {
        let response = list("filter", filter).await;
        assert_eq!(response.status, StatusCode::OK, "{filter}: {}", response.text());
        assert_eq!(names(&response.json()), expected, "{filter}");
    }
    for (filter, expected) in [
        ("span_kind == 'llm' and evals['correctness'].score >= 1", vec!["LLM-3"]),
        ("'refund' in output.value or 'refund' in retrieval.documents[0].document.content", vec!["LLM-3", "RETRIEVER-2"]),
        ("parent_span is None", vec!["CHAIN-4", "CHAIN-1"]),
        ("session.id == 's-2'", vec!["CHAIN-4"]),
    ] {
        let response = list("filter_condition", filter).await;
        assert_eq!(response.status, StatusCode::OK, "{filter}: {}", response.text());
        assert_eq!(names(&response.json()), expected, "{filter}");
    }
    // Filters combine with Phoenix's own parameters and keyset pagination.
    let first = app.get(&format!("/v1/projects/p/spans?limit=1&span_kind=CHAIN&filter={}", encode("latency_ms > 0"))).await.json();
    assert_eq!(names(&first), vec!["CHAIN-4"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second =
        app.get(&format!("/v1/projects/p/spans?limit=1&span_kind=CHAIN&filter={}&cursor={cursor}", encode("latency_ms > 0"))).await.json();
    assert_eq!(names(&second), vec!["CHAIN-1"]);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn bad_filters_are_422_naming_the_problem_and_column() {
    let app = seeded().await;
    for (uri, message) in [
        (format!("/v1/projects/p/spans?filter={}", encode("status = 'ERROR'")), "Invalid query: unknown field 'status'"),
        (
            format!("/v1/projects/p/spans?filter={}", encode("name = 'a' AND")),
            "Invalid query: expected a field or a value, found end of filter at column 15",
        ),
        (
            format!("/v1/projects/p/spans?filter_condition={}", encode("latency_ms > 'slow'")),
            "Invalid query: cannot compare a number with the text \"slow\" at column 1",
        ),
        ("/v1/projects/p/spans?filter=a&filter_condition=b".to_string(), "Give either filter"),
        (format!("/v1/projects/p/traces?filter_condition={}", encode("name == 'x'")), "Invalid query: unknown trace field 'name'"),
        (
            format!("/v1/projects/p/sessions?filter_condition={}", encode("any(x for s in traces)")),
            "Invalid query: comprehensions iterate over 'spans'",
        ),
    ] {
        let response = app.get(&uri).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert!(response.text().starts_with(message), "{uri}: {}", response.text());
    }
}

#[tokio::test]
async fn trace_and_session_lists_take_filters() {
    let app = &seeded().await;
    let traces = |filter: &str| {
        let uri = format!("/v1/projects/p/traces?filter_condition={}", encode(filter));
        async move {
            let response = app.get(&uri).await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.text());
            response.json()["data"].as_array().unwrap().iter().map(|t| t["trace_id"].as_str().unwrap()[..2].to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(traces("num_spans == 3 and error_count == 1").await, vec!["01"]);
    assert_eq!(traces("any(s.span_kind == 'RETRIEVER' for s in spans)").await, vec!["01"]);
    assert_eq!(traces("all(s.status_code != 'ERROR' for s in spans)").await, vec!["02"]);
    assert_eq!(traces("any(s.evals['correctness'].label == 'correct' for s in spans)").await, vec!["01"]);
    let sessions = app.get(&format!("/v1/projects/p/sessions?filter_condition={}", encode("error_count > 0"))).await;
    assert_eq!(sessions.status, StatusCode::OK, "{}", sessions.text());
    let ids: Vec<String> =
        sessions.json()["data"].as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, vec!["s-1"]);
}

fn multipart_frames(response: &crate::common::TestResponse) -> Vec<Value> {
    let content_type = response.content_type().to_string();
    let boundary = content_type.split("boundary=").nth(1).expect("multipart boundary").to_string();
    response
        .text()
        .split(&format!("--{boundary}"))
        .filter(|part| part.contains("Content-Type: application/json"))
        .map(|part| serde_json::from_str(part.split("\r\n\r\n").nth(1).unwrap().trim()).unwrap())
        .collect()
}

/// Rows of a table-schema frame as (column name without its `N_` prefix → value) maps.
fn rows(frame: &Value) -> Vec<serde_json::Map<String, Value>> {
    frame["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_object().unwrap().iter().map(|(k, v)| (k.split_once('_').unwrap().1.to_string(), v.clone())).collect())
        .collect()
}

#[tokio::test]
async fn span_queries_filter_explode_and_concat() {
    let app = seeded().await;
    let documents = json!({
        "select": {"context.trace_id": {"key": "context.trace_id"}, "input.value": {"key": "input.value"}},
        "filter": {"condition": "span_kind == 'RETRIEVER'"},
        "rename": {"input.value": "input"},
        "explode": {"key": "retrieval.documents", "kwargs": {"document": "document.content", "document_score": "document.score", "document_metadata": "document.metadata"}, "primary_index_key": "context.span_id"},
    });
    let concat = json!({
        "filter": {"condition": "span_kind == 'RETRIEVER'"},
        "concat": {"key": "retrieval.documents", "kwargs": {"context": "document.content"}, "separator": " | "},
        "index": {"key": "context.trace_id"},
    });
    let bare_explode = json!({"explode": {"key": "retrieval.documents", "primary_index_key": "context.span_id"}});
    let response = app.query_spans("/v1/spans?project_name=p", &json!({"queries": [documents, concat, bare_explode]})).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let frames = multipart_frames(&response);

    assert_eq!(frames[0]["schema"]["primaryKey"], json!(["0_context.span_id", "1_document_position"]));
    let exploded = rows(&frames[0]);
    assert_eq!(exploded.len(), 2);
    assert_eq!(exploded[0]["context.span_id"], span_id(2));
    assert_eq!(exploded[0]["document_position"], 0);
    assert_eq!(exploded[0]["input"], "question 2");
    assert_eq!(exploded[0]["document"], "Refunds take 5 days.");
    assert_eq!(exploded[0]["document_score"], 0.9);
    assert_eq!(exploded[0]["document_metadata"], json!({"source": "faq"}));
    assert_eq!(exploded[1]["document_position"], 1);
    assert_eq!(exploded[1]["document_metadata"], Value::Null);

    assert_eq!(frames[1]["schema"]["primaryKey"], json!(["0_context.trace_id"]));
    let concatenated = rows(&frames[1]);
    assert_eq!(concatenated.len(), 1);
    assert_eq!(concatenated[0]["context"], "Refunds take 5 days. | Returns are free.");

    let flattened = rows(&frames[2]);
    assert_eq!(flattened.len(), 2, "spans without documents give no rows");
    assert_eq!(flattened[0]["document.content"], "Refunds take 5 days.");
    assert_eq!(flattened[1]["document.score"], 0.4);
}

/// One JSON-path encoder serves both ways of naming an attribute, so a key with a backslash (or
/// a space) selects the same span through `?attribute=` and through the filter language.
#[tokio::test]
async fn awkward_attribute_keys_select_alike_through_every_filter() {
    let app = test_app().await;
    let awkward = with_attributes(span(1, 1, None, "CHAIN"), vec![string_attribute("metadata", r#"{"a\\b": "x", "q k": 2}"#)]);
    app.ingest(&request(Some("p"), vec![awkward, span(2, 2, None, "CHAIN")])).await;
    let names = |response: Value| -> Vec<String> {
        response["data"].as_array().unwrap().iter().map(|span| span["context"]["span_id"].as_str().unwrap().to_string()).collect()
    };
    let encode = |text: &str| percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string();
    for (attribute, condition) in [(r"metadata.a\b:x", r"metadata['a\\b'] == 'x'"), ("metadata.q k:2", "metadata['q k'] == 2")] {
        let by_attribute = app.get(&format!("/v1/projects/p/spans?attribute={}", encode(attribute))).await;
        assert_eq!(by_attribute.status, StatusCode::OK, "{}", by_attribute.text());
        let by_filter = app.get(&format!("/v1/projects/p/spans?filter_condition={}", encode(condition))).await;
        assert_eq!(by_filter.status, StatusCode::OK, "{}", by_filter.text());
        assert_eq!(names(by_attribute.json()), [span_id(1)], "{attribute}");
        assert_eq!(names(by_filter.json()), [span_id(1)], "{condition}");
    }
}

/// D9: filters that would reach the database engine's limits (expression depth, bound
/// variables, LIKE pattern length) are 422 naming the cap; just under the caps they run.
#[tokio::test]
async fn filters_past_the_size_caps_are_422_not_500() {
    let app = seeded().await;
    let chain = |terms: usize, joiner: &str, term: &str| vec![term; terms].join(joiner);
    let get = |uri: String| {
        let app = &app;
        async move { app.get(&uri).await }
    };
    let ok = get(format!("/v1/projects/p/spans?filter_condition={}", encode(&chain(500, " or ", "name == 'x'")))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    for uri in [
        format!("/v1/projects/p/spans?filter_condition={}", encode(&chain(1000, " or ", "name == 'x'"))),
        format!("/v1/projects/p/spans?filter_condition={}", encode(&chain(1000, " and ", "name != 'x'"))),
        format!("/v1/projects/p/traces?filter_condition={}", encode(&chain(1000, " or ", "num_spans == 1"))),
        format!("/v1/projects/p/sessions?filter_condition={}", encode(&chain(1000, " or ", "error_count == 1"))),
        format!("/v1/projects/p/spans?filter={}", encode(&chain(1000, " OR ", "name = 'x'"))),
    ] {
        let response = get(uri.clone()).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &uri[..80]);
        assert!(response.text().contains("chains more than 500 conditions"), "{}", response.text());
    }
    let like = get(format!("/v1/projects/p/spans?filter={}", encode(&format!("name LIKE '{}b'", "_".repeat(50_000))))).await;
    assert_eq!(like.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(like.text().contains("LIKE pattern is longer than 10000 bytes"), "{}", like.text());

    let in_list = |count: usize| {
        let values: Vec<String> = (0..count).map(|i| format!("'v{i}'")).collect();
        json!({"queries": [{"filter": {"condition": format!("name in [{}]", values.join(","))}}]})
    };
    let listed = app.query_spans("/v1/spans?project_name=p", &in_list(20_000)).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let refused = app.query_spans("/v1/spans?project_name=p", &in_list(33_000)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("more than 25000 terms"), "{}", refused.text());
}
