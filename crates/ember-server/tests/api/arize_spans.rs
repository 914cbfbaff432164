//! Arize AX's span REST API v2 as the `arize` SDK calls it: span lists (window, filter, columns,
//! truncation, pages), annotation batches by span, trace or session, deletes with a JSON body,
//! and trace lists.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ember_otlp::fixtures::{request, span, span_id, string_attribute, trace_id, with_attributes, with_error};
use ember_wire::{AxDeleteSpansResponse, AxSpans, AxTraces};
use serde_json::{json, Value};

use crate::common::{test_app, TestApp, TestResponse};

/// The window holding the fixtures' spans (2024-01-01), naive as Python's `isoformat()` gives it.
const START: &str = "2024-01-01T00:00:00";
const END: &str = "2024-01-02T00:00:00+00:00";

/// Project `p`: trace 1 (root 1, children 2 and 3, 3 an error) and trace 4 (root 4, with a
/// session); project `q`: span 9.
async fn seeded() -> TestApp {
    let app = test_app().await;
    let long = "x".repeat(40);
    let root = with_attributes(span(1, 1, None, "CHAIN"), vec![string_attribute("llm.model_name", "gpt-4o")]);
    let child = with_attributes(span(1, 2, Some(1), "LLM"), vec![string_attribute("output.value", &long)]);
    let failed = with_error(span(1, 3, Some(1), "LLM"), "boom");
    let other = with_attributes(span(4, 4, None, "AGENT"), vec![string_attribute("session.id", "s-1")]);
    app.ingest(&request(Some("p"), vec![root, child, failed, other])).await;
    app.ingest(&request(Some("q"), vec![span(9, 9, None, "CHAIN")])).await;
    app
}

async fn list(app: &TestApp, query: &str, body: Value) -> AxSpans {
    let response = app.post_json(&format!("/v2/spans{query}"), &body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.headers["content-type"], "application/json");
    serde_json::from_str(&response.text()).unwrap()
}

fn ids(spans: &AxSpans) -> Vec<String> {
    spans.spans.iter().map(|span| span.context.span_id.clone()).collect()
}

async fn delete_json(app: &TestApp, uri: &str, body: &Value) -> TestResponse {
    app.send(Request::delete(uri).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()).await
}

fn assert_problem(response: &TestResponse, status: StatusCode, detail: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    assert_eq!(response.headers["content-type"], "application/problem+json");
    let problem = response.json();
    assert!(problem["detail"].as_str().unwrap().contains(detail), "{problem}");
}

#[tokio::test]
async fn spans_list_in_a_window_with_filters_columns_truncation_and_pages() {
    let app = seeded().await;
    // The default window is the last week: the 2024 spans are outside it.
    assert!(list(&app, "", json!({"project_id": "p"})).await.spans.is_empty());

    let all = list(&app, "", json!({"project_id": "p", "start_time": START, "end_time": END})).await;
    assert_eq!(ids(&all), [span_id(4), span_id(3), span_id(2), span_id(1)], "newest first, only project p");
    let failed = &all.spans[1];
    assert_eq!((failed.kind.as_str(), failed.status_code.as_str(), failed.status_message.as_str()), ("LLM", "ERROR", "boom"));
    assert_eq!(failed.parent_id.as_deref(), Some(span_id(1).as_str()));
    assert_eq!(failed.events[0].name, "exception");
    assert_eq!(failed.latency_ms, 3.0);

    // The end is inclusive: a window ending at span 1's start holds it.
    let at_start = list(&app, "", json!({"project_id": "p", "start_time": START, "end_time": "2024-01-01T00:00:01Z"})).await;
    assert_eq!(ids(&at_start), [span_id(1)]);

    // Evaluations and annotations come with their spans; filters read them.
    let rows = json!([{"context.span_id": span_id(2), "eval.Correctness.label": "correct", "eval.Correctness.score": 1.0}]);
    assert_eq!(app.post_json("/v1/projects/p/spans/evaluations", &rows).await.status, StatusCode::OK);
    let annotate = json!({"project_id": "p", "start_time": START, "end_time": END,
        "annotations": [{"record_id": span_id(3), "values": [{"name": "quality", "label": "bad", "text": "wrong tool"}]}]});
    assert_eq!(app.post_json("/v2/spans/annotate", &annotate).await.status, StatusCode::ACCEPTED);
    let window = |filter: &str| json!({"project_id": "p", "start_time": START, "end_time": END, "filter": filter});
    let correct = list(&app, "", window("eval.Correctness.label = 'correct'")).await;
    assert_eq!(ids(&correct), [span_id(2)]);
    let evaluation = &correct.spans[0].evaluations[0];
    assert_eq!((evaluation.name.as_str(), evaluation.label.as_deref(), evaluation.score), ("Correctness", Some("correct"), Some(1.0)));
    assert!(correct.spans[0].annotations.is_empty(), "an evaluation is not a human annotation");
    let bad = list(&app, "", window("annotation.quality.label = 'bad' AND status_code = 'ERROR'")).await;
    assert_eq!(ids(&bad), [span_id(3)]);
    assert_eq!(bad.spans[0].annotations[0].text.as_deref(), Some("wrong tool"));
    assert_eq!(ids(&list(&app, "", window("latency_ms > 2.5 OR name = 'AGENT-4'")).await), [span_id(4), span_id(3)]);

    // Columns: only the ones named (fixed fields always), or all but them; strings cut.
    let only = list(
        &app,
        "",
        json!({"project_id": "p", "start_time": START, "end_time": END, "included_columns": ["attributes.llm.model_name", "eval.Nope"]}),
    )
    .await;
    let root = only.spans.iter().find(|span| span.context.span_id == span_id(1)).unwrap();
    assert_eq!(Value::Object(root.attributes.clone()), json!({"llm": {"model_name": "gpt-4o"}}));
    assert!(only.spans.iter().all(|span| span.evaluations.is_empty()), "eval.Correctness was not included");
    let except = list(
        &app,
        "",
        json!({"project_id": "p", "start_time": START, "end_time": END, "excluded_columns": ["attributes.input.value"], "truncate_string_length": 10}),
    )
    .await;
    let child = except.spans.iter().find(|span| span.context.span_id == span_id(2)).unwrap();
    assert!(child.attributes.get("input").is_none(), "{:?}", child.attributes);
    assert_eq!(child.attributes["output"]["value"], json!(format!("{}…", "x".repeat(9))));

    // Pages: limit and an opaque cursor.
    let first = list(&app, "?limit=3", json!({"project_id": "p", "start_time": START, "end_time": END})).await;
    assert_eq!(ids(&first), [span_id(4), span_id(3), span_id(2)]);
    assert!(first.pagination.has_more);
    let cursor = first.pagination.next_cursor.unwrap();
    let second = list(&app, &format!("?limit=3&cursor={cursor}"), json!({"project_id": "p", "start_time": START, "end_time": END})).await;
    assert_eq!(ids(&second), [span_id(1)]);
    assert_eq!((second.pagination.has_more, second.pagination.next_cursor), (false, None));

    // The project by its id, as the SDK sends it after resolving a name.
    let project_id = app.get("/v1/projects/p").await.json()["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(list(&app, "", json!({"project_id": project_id, "start_time": START, "end_time": END})).await.spans.len(), 4);
}

#[tokio::test]
async fn span_list_errors_are_problems() {
    let app = seeded().await;
    let window = |extra: Value| {
        let mut body = json!({"project_id": "p", "start_time": START, "end_time": END});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let cases = [
        (window(json!({"filter": "  "})), "filter must not be empty"),
        (window(json!({"filter": "status_code = "})), "Invalid filter"),
        (window(json!({"included_columns": ["a"], "excluded_columns": ["b"]})), "mutually exclusive"),
        (window(json!({"truncate_string_length": 0})), "truncate_string_length"),
        (window(json!({"start_time": "yesterday"})), "start_time is not an ISO 8601 time"),
        (json!({"start_time": START}), "project_id"),
    ];
    for (body, detail) in cases {
        assert_problem(&app.post_json("/v2/spans", &body).await, StatusCode::UNPROCESSABLE_ENTITY, detail);
    }
    assert_problem(&app.post_json("/v2/spans?limit=501", &window(json!({}))).await, StatusCode::UNPROCESSABLE_ENTITY, "");
    assert_problem(&app.post_json("/v2/spans", &json!({"project_id": "nope"})).await, StatusCode::NOT_FOUND, "nope");
}

#[tokio::test]
async fn annotations_by_span_trace_and_session_write_all_or_nothing() {
    let app = seeded().await;
    let annotate = |granularity: &str, record_id: String| {
        json!({"project_id": "p", "start_time": START, "end_time": END, "granularity": granularity,
            "annotations": [{"record_id": record_id, "values": [{"name": "verdict", "label": "good", "score": 1}]}]})
    };
    // A trace annotation names the trace's root span.
    assert_eq!(app.post_json("/v2/spans/annotate", &annotate("TRACE", span_id(1))).await.status, StatusCode::ACCEPTED);
    let trace_annotations = app.get(&format!("/v1/projects/p/trace_annotations?trace_ids={}", trace_id(1))).await.json();
    assert_eq!(trace_annotations["data"][0]["result"]["label"], "good");
    let listed = list(&app, "", json!({"project_id": "p", "start_time": START, "end_time": END})).await;
    let child = listed.spans.iter().find(|span| span.context.span_id == span_id(2)).unwrap();
    assert_eq!(child.trace_annotations[0].name, "verdict", "every span of the trace carries its trace annotations");
    assert_problem(&app.post_json("/v2/spans/annotate", &annotate("TRACE", span_id(2))).await, StatusCode::UNPROCESSABLE_ENTITY, "root");

    // A session annotation names the session id.
    assert_eq!(app.post_json("/v2/spans/annotate", &annotate("SESSION", "s-1".into())).await.status, StatusCode::ACCEPTED);
    let sessions = app.get("/v1/projects/p/session_annotations?session_ids=s-1").await.json();
    assert_eq!(sessions["data"][0]["name"], "verdict");

    // A span outside the window (or project), and nothing is written.
    let mixed = json!({"project_id": "p", "start_time": START, "end_time": END, "annotations": [
        {"record_id": span_id(2), "values": [{"name": "fresh", "label": "x"}]},
        {"record_id": span_id(9), "values": [{"name": "fresh", "label": "x"}]}]});
    assert_problem(&app.post_json("/v2/spans/annotate", &mixed).await, StatusCode::NOT_FOUND, &span_id(9));
    let span_two = app.get(&format!("/v1/projects/p/span_annotations?span_ids={}", span_id(2))).await.json();
    assert_eq!(span_two["data"], json!([]));
    let outside = json!({"project_id": "p", "annotations": [{"record_id": span_id(2), "values": [{"name": "fresh", "label": "x"}]}]});
    assert_problem(&app.post_json("/v2/spans/annotate", &outside).await, StatusCode::NOT_FOUND, "time window");

    let too_many: Vec<Value> =
        (0..1001).map(|i| json!({"record_id": format!("{i:016x}"), "values": [{"name": "n", "label": "l"}]})).collect();
    let body = json!({"project_id": "p", "annotations": too_many});
    assert_problem(&app.post_json("/v2/spans/annotate", &body).await, StatusCode::UNPROCESSABLE_ENTITY, "1000");
    assert_problem(
        &app.post_json("/v2/spans/annotate", &annotate("DAY", span_id(1))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "granularity",
    );
}

#[tokio::test]
async fn deletes_take_a_json_body_and_say_which_ids_were_deleted() {
    let app = seeded().await;
    let body = json!({"project_id": "p", "span_ids": [span_id(2), span_id(9), "ffffffffffffffff", span_id(2)], "start_time": START});
    let response = delete_json(&app, "/v2/spans", &body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let deletion: AxDeleteSpansResponse = serde_json::from_str(&response.text()).unwrap();
    assert!(deletion.completed);
    assert_eq!(deletion.deleted_span_ids, [span_id(2)]);
    assert_eq!(deletion.not_deleted_span_ids, [span_id(9), "ffffffffffffffff".to_string()], "span 9 is in another project");
    assert_eq!(app.get(&format!("/v1/projects/p/spans?span_id={}", span_id(2))).await.json()["data"], json!([]));
    assert_eq!(app.get(&format!("/v1/projects/q/spans?span_id={}", span_id(9))).await.json()["data"].as_array().unwrap().len(), 1);

    // The window's end is exclusive: a span starting at it stays.
    let body = json!({"project_id": "p", "span_ids": [span_id(1)], "start_time": START, "end_time": "2024-01-01T00:00:01Z"});
    let kept: AxDeleteSpansResponse = serde_json::from_str(&delete_json(&app, "/v2/spans", &body).await.text()).unwrap();
    assert_eq!(kept.not_deleted_span_ids, [span_id(1)]);
    assert_problem(
        &delete_json(&app, "/v2/spans", &json!({"project_id": "p", "span_ids": []})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "span_ids",
    );
}

#[tokio::test]
async fn traces_list_with_their_spans_when_any_span_matches() {
    let app = seeded().await;
    let response = app.post_json("/v2/traces", &json!({"project_id": "p", "start_time": START, "end_time": END})).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let traces: AxTraces = serde_json::from_str(&response.text()).unwrap();
    assert_eq!(traces.traces.iter().map(|trace| trace.trace_id.clone()).collect::<Vec<_>>(), [trace_id(4), trace_id(1)]);
    let first = &traces.traces[1];
    assert_eq!(first.root_span_id.as_deref(), Some(span_id(1).as_str()));
    assert_eq!(first.spans.len(), 3);
    assert!(!first.spans_truncated);

    let body = json!({"project_id": "p", "start_time": START, "end_time": END, "filter": "status_code = 'ERROR'"});
    let erring: AxTraces = serde_json::from_str(&app.post_json("/v2/traces?limit=1", &body).await.text()).unwrap();
    assert_eq!(erring.traces.len(), 1);
    assert_eq!(erring.traces[0].trace_id, trace_id(1), "the child's error selects its trace");
    assert_eq!(erring.traces[0].spans.len(), 3, "with all its spans");
    assert!(!erring.pagination.has_more);

    let blank = json!({"project_id": "p", "filter": " "});
    assert_problem(&app.post_json("/v2/traces", &blank).await, StatusCode::UNPROCESSABLE_ENTITY, "filter must not be empty");
    assert_problem(&app.post_json("/v2/traces", &json!({"project_id": "nope"})).await, StatusCode::NOT_FOUND, "nope");
    assert_problem(&app.post_json("/v2/traces", &json!({"filter": "x"})).await, StatusCode::UNPROCESSABLE_ENTITY, "project_id");
}
