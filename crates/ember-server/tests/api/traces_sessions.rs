//! `/v1/projects/{p}/traces`, `/v1/traces/*`, `/v1/projects/{p}/sessions`, `/v1/sessions/*`.

use crate::common::{test_app, TestApp};
use axum::http::StatusCode;
use ember_otlp::fixtures::{int_attribute, request, span, string_attribute, trace_id, with_attributes};
use serde_json::json;

/// Three traces in project `p`; trace n has root span n lasting n ms. Traces 1 and 2 share session `s-a`.
async fn seeded() -> TestApp {
    let app = test_app().await;
    let session = |s, id| with_attributes(s, vec![string_attribute("session.id", id)]);
    let llm = with_attributes(
        span(1, 11, Some(1), "LLM"),
        vec![int_attribute("llm.token_count.prompt", 7), int_attribute("llm.token_count.completion", 3)],
    );
    app.ingest(&request(
        Some("p"),
        vec![session(span(1, 1, None, "CHAIN"), "s-a"), llm, session(span(2, 2, None, "CHAIN"), "s-a"), span(3, 3, None, "CHAIN")],
    ))
    .await;
    app
}

fn trace_ids(response: &serde_json::Value) -> Vec<String> {
    response["data"].as_array().unwrap().iter().map(|t| t["trace_id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn traces_sort_paginate_and_include_spans() {
    let app = seeded().await;
    let newest = app.get("/v1/projects/p/traces").await.json();
    assert_eq!(trace_ids(&newest), vec![trace_id(3), trace_id(2), trace_id(1)]);
    let first = &newest["data"][2];
    assert_eq!(first["token_count_prompt"], 7);
    assert_eq!(first["token_count_total"], 10);
    assert_eq!(first["project_id"], ember_core::GlobalId::encode(ember_core::GlobalType::Project, 2));
    assert!(first.get("spans").is_none(), "spans only when asked for");

    // Trace 1's root lasts 1 ms but its child span 11 lasts 11 ms: the trace is widened.
    let by_latency = app.get("/v1/projects/p/traces?sort=latency_ms&order=desc&limit=1").await.json();
    assert_eq!(trace_ids(&by_latency), vec![trace_id(1)]);
    let cursor = by_latency["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/projects/p/traces?sort=latency_ms&order=desc&limit=5&cursor={cursor}")).await.json();
    assert_eq!(trace_ids(&rest), vec![trace_id(3), trace_id(2)]);

    let with_spans = app.get("/v1/projects/p/traces?include_spans=true&order=asc&limit=1").await.json();
    let spans = with_spans["data"][0]["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0]["name"], "CHAIN-1");
    assert_eq!(spans[1]["span_kind"], "LLM");

    let in_session = app.get("/v1/projects/p/traces?session_identifier=s-a").await.json();
    assert_eq!(trace_ids(&in_session), vec![trace_id(2), trace_id(1)]);
    let window = app.get("/v1/projects/p/traces?start_time=2024-01-01T00:00:02Z").await.json();
    assert_eq!(trace_ids(&window), vec![trace_id(3), trace_id(2)]);

    for (uri, needle) in [
        ("/v1/projects/p/traces?sort=name", "'start_time' or 'latency_ms'"),
        ("/v1/projects/p/traces?limit=5000", "1000"),
        ("/v1/projects/p/traces?cursor=x", "Invalid cursor"),
    ] {
        let response = app.get(uri).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert!(response.text().contains(needle), "{uri}: {}", response.text());
    }
    assert_eq!(app.get("/v1/projects/nope/traces").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn traces_delete_and_transfer() {
    let app = seeded().await;
    assert_eq!(app.delete(&format!("/v1/traces/{}", trace_id(3))).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/v1/traces/{}", trace_id(3))).await.status, StatusCode::NOT_FOUND);
    let global = app.get("/v1/projects/p/traces").await.json()["data"][0]["id"].as_str().unwrap().to_string();

    app.post_json("/v1/projects", &json!({"name": "q"})).await;
    let moved = app
        .post_json("/v1/traces/transfer", &json!({"trace_identifiers": [global, trace_id(1)], "destination_project_identifier": "q"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!(moved.json()["data"]["transferred_trace_count"], 2);
    assert_eq!(app.get("/v1/projects/q/spans").await.json()["data"].as_array().unwrap().len(), 3);
    assert!(app.get("/v1/projects/p/traces").await.json()["data"].as_array().unwrap().is_empty());

    let missing =
        app.post_json("/v1/traces/transfer", &json!({"trace_identifiers": ["ffff"], "destination_project_identifier": "q"})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let no_project =
        app.post_json("/v1/traces/transfer", &json!({"trace_identifiers": [trace_id(1)], "destination_project_identifier": "zz"})).await;
    assert_eq!(no_project.status, StatusCode::NOT_FOUND);
    app.ingest(&request(Some("r"), vec![span(5, 5, None, "CHAIN")])).await;
    let mixed = app
        .post_json("/v1/traces/transfer", &json!({"trace_identifiers": [trace_id(1), trace_id(5)], "destination_project_identifier": "p"}))
        .await;
    assert_eq!(mixed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mixed.text().contains("same source project"));
}

#[tokio::test]
async fn sessions_list_get_and_delete() {
    let app = seeded().await;
    let listed = app.get("/v1/projects/p/sessions").await.json();
    let session = listed["data"][0].clone();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(session["session_id"], "s-a");
    assert_eq!(session["traces"].as_array().unwrap().len(), 2);
    assert_eq!(session["traces"][0]["trace_id"], trace_id(1), "traces in start order");
    assert_eq!(session["token_count_total"], 10);
    let id = session["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/sessions/{id}")).await.json()["data"], session);
    assert_eq!(app.get("/v1/sessions/s-a").await.json()["data"], session);
    assert_eq!(app.get("/v1/sessions/nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/v1/projects/p/sessions?order=sideways").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let mixed = app.post_json("/v1/sessions/delete", &json!({"session_identifiers": [id, "s-a"]})).await;
    assert_eq!(mixed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.post_json("/v1/sessions/delete", &json!({"session_identifiers": ["s-a", "unknown"]})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get("/v1/sessions/s-a").await.status, StatusCode::NOT_FOUND);
    assert_eq!(trace_ids(&app.get("/v1/projects/p/traces").await.json()), vec![trace_id(3)], "the session's traces went with it");
    assert_eq!(app.delete(&format!("/v1/sessions/{id}")).await.status, StatusCode::NOT_FOUND);
}

/// `DELETE /v1/projects/{p}/traces`: the traces that started in `[start_time, end_time)` go, with
/// their spans and the sessions left empty; the project stays; an empty or inverted window is
/// a 422 in Phoenix 20.26.1's words.
#[tokio::test]
async fn a_time_window_of_traces_is_purged() {
    let app = seeded().await;
    // Trace n starts at 2024-01-01T00:00:00Z + n seconds.
    let purge = |start: &str, end: &str| format!("/v1/projects/p/traces?start_time={start}&end_time={end}");
    for (start, end) in [("2024-01-01T00:00:03Z", "2024-01-01T00:00:02Z"), ("2024-01-01T00:00:02Z", "2024-01-01T00:00:02Z")] {
        let refused = app.delete(&purge(start, end)).await;
        assert_eq!(
            (refused.status, refused.text()),
            (StatusCode::UNPROCESSABLE_ENTITY, "`start_time` must be strictly earlier than `end_time`.".into())
        );
    }
    let missing = app.delete("/v1/projects/p/traces?start_time=2024-01-01T00:00:00Z").await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.json()["detail"][0]["loc"], json!(["query", "end_time"]));
    assert_eq!(
        app.delete(&purge("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z").replace("/p/", "/nope/")).await.status,
        StatusCode::NOT_FOUND
    );

    // Traces 1 and 2 (session s-a) start inside; trace 3 at the exclusive end stays.
    let purged = app.delete(&purge("2024-01-01T00:00:01Z", "2024-01-01T00:00:03Z")).await;
    assert_eq!(purged.status, StatusCode::NO_CONTENT, "{}", purged.text());
    assert_eq!(trace_ids(&app.get("/v1/projects/p/traces").await.json()), [trace_id(3)]);
    assert_eq!(app.get("/v1/projects/p/spans").await.json()["data"].as_array().unwrap().len(), 1, "their spans went too");
    assert_eq!(app.get("/v1/projects/p/sessions").await.json()["data"], json!([]), "the session left empty went");
    assert_eq!(app.get("/v1/projects/p").await.status, StatusCode::OK, "the project stays");
}
