//! `/v1/span_annotations`, `/v1/trace_annotations`, notes, and the project annotation lists.

use axum::http::StatusCode;
use ember_otlp::fixtures::{request, span, span_id, string_attribute, trace_id, with_attributes};
use serde_json::{json, Value};

use crate::common::{test_app, TestApp};

/// Project `p`: trace 1 (session `s-1`) with spans 1 and 11, trace 2 with span 2. Project `q`:
/// trace 3, span 3.
async fn seeded() -> TestApp {
    let app = test_app().await;
    let root = with_attributes(span(1, 1, None, "CHAIN"), vec![string_attribute("session.id", "s-1")]);
    app.ingest(&request(Some("p"), vec![root, span(1, 11, Some(1), "LLM"), span(2, 2, None, "CHAIN")])).await;
    app.ingest(&request(Some("q"), vec![span(3, 3, None, "CHAIN")])).await;
    app
}

fn annotation(span: u8, name: &str, label: &str, identifier: &str) -> Value {
    json!({
        "span_id": span_id(span), "name": name, "annotator_kind": "LLM", "identifier": identifier,
        "result": {"label": label, "score": 0.5, "explanation": "because"}, "metadata": {"model": "judge"},
    })
}

fn names_and_labels(response: &Value) -> Vec<(String, String)> {
    response["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap().to_string(), a["result"]["label"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[tokio::test]
async fn span_annotations_upsert_by_name_span_and_identifier_and_list_newest_first() {
    let app = seeded().await;
    let created = app
        .post_json(
            "/v1/span_annotations?sync=true",
            &json!({"data": [annotation(1, "correctness", "good", ""), annotation(11, "correctness", "bad", "")]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let ids = created.json()["data"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 2);

    // The same (name, span, identifier) replaces the row and keeps its id; another identifier adds one.
    let again =
        app.post_json("/v1/span_annotations?sync=true", &json!({"data": [annotation(1, "correctness", "better", "")]})).await.json();
    assert_eq!(again["data"][0]["id"], ids[0]["id"]);
    let asynchronous = app.post_json("/v1/span_annotations", &json!({"data": [annotation(1, "correctness", "other", "run-2")]})).await;
    assert_eq!(asynchronous.json(), json!({"data": []}), "Phoenix answers an asynchronous request without ids");

    let one = span_id(1);
    let listed = app.get(&format!("/v1/projects/p/span_annotations?span_ids={one}&span_ids={}", span_id(11))).await.json();
    assert_eq!(
        names_and_labels(&listed),
        vec![("correctness".into(), "other".into()), ("correctness".into(), "bad".into()), ("correctness".into(), "better".into())]
    );
    let first = &listed["data"][2];
    assert_eq!(first["span_id"], one);
    assert_eq!(first["id"], ids[0]["id"]);
    assert_eq!(first["annotator_kind"], "LLM");
    assert_eq!(first["result"], json!({"label": "better", "score": 0.5, "explanation": "because"}));
    assert_eq!(first["metadata"], json!({"model": "judge"}));
    assert_eq!(first["source"], "API");
    assert_eq!(first["user_id"], Value::Null);
    assert!(first["created_at"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(listed["next_cursor"], Value::Null);

    // Pages of one, by cursor.
    let page = app.get(&format!("/v1/projects/p/span_annotations?span_ids={one}&limit=1")).await.json();
    assert_eq!(names_and_labels(&page), vec![("correctness".into(), "other".into())]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = app.get(&format!("/v1/projects/p/span_annotations?span_ids={one}&limit=1&cursor={cursor}")).await.json();
    assert_eq!(names_and_labels(&next), vec![("correctness".into(), "better".into())]);
    assert_eq!(next["next_cursor"], Value::Null);

    // Identifiers alone, names included and excluded; another project's spans are not listed.
    let by_identifier = app.get("/v1/projects/p/span_annotations?identifier=run-2").await.json();
    assert_eq!(names_and_labels(&by_identifier), vec![("correctness".into(), "other".into())]);
    app.post_json("/v1/span_annotations?sync=true", &json!({"data": [annotation(1, "tone", "calm", "")]})).await;
    let only_tone = app.get(&format!("/v1/projects/p/span_annotations?span_ids={one}&include_annotation_names=tone")).await.json();
    assert_eq!(names_and_labels(&only_tone), vec![("tone".into(), "calm".into())]);
    let no_tone = app.get(&format!("/v1/projects/p/span_annotations?span_ids={one}&exclude_annotation_names=tone")).await.json();
    assert_eq!(no_tone["data"].as_array().unwrap().len(), 2);
    let elsewhere = app.get(&format!("/v1/projects/q/span_annotations?span_ids={one}")).await.json();
    assert_eq!(elsewhere["data"], json!([]));

    // Filters read what the API wrote.
    let filtered = app.get("/v1/projects/p/spans?filter_condition=evals%5B%27correctness%27%5D.label%20%3D%3D%20%27bad%27").await.json();
    let spans: Vec<&str> = filtered["data"].as_array().unwrap().iter().map(|s| s["context"]["span_id"].as_str().unwrap()).collect();
    assert_eq!(spans, vec![span_id(11)]);
}

#[tokio::test]
async fn listed_annotations_give_back_scores_and_metadata_exactly() {
    let app = seeded().await;
    let scores = [0.1 + 0.2, 1e-300, -123456.78901234567, 1.0 / 3.0, f64::MAX];
    let data: Vec<Value> = scores
        .iter()
        .enumerate()
        .map(|(n, score)| {
            json!({"span_id": span_id(1), "name": format!("s{n}"), "annotator_kind": "CODE", "result": {"score": score},
                   "metadata": {"nested": {"list": [1, "two", null]}, "quote": "say \"hi\" ✓"}})
        })
        .collect();
    assert_eq!(app.post_json("/v1/span_annotations?sync=true", &json!({"data": data})).await.status, StatusCode::OK);
    let listed = app.get(&format!("/v1/projects/p/span_annotations?span_ids={}", span_id(1))).await.json();
    let mut read: Vec<(String, f64)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap().to_string(), a["result"]["score"].as_f64().unwrap()))
        .collect();
    read.sort_by(|a, b| a.0.cmp(&b.0));
    let expected: Vec<(String, f64)> = scores.iter().enumerate().map(|(n, score)| (format!("s{n}"), *score)).collect();
    assert_eq!(read, expected);
    let first = &listed["data"][0];
    assert_eq!(first["metadata"], json!({"nested": {"list": [1, "two", null]}, "quote": "say \"hi\" ✓"}));
    assert_eq!(first["result"]["label"], Value::Null);
}

#[tokio::test]
async fn bad_annotation_requests_name_the_problem_and_write_nothing() {
    let app = seeded().await;
    let missing = app
        .post_json(
            "/v1/span_annotations?sync=true",
            &json!({"data": [annotation(1, "correctness", "good", ""), annotation(99, "correctness", "bad", "")]}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains(&span_id(99)), "{}", missing.text());
    let listed = app.get(&format!("/v1/projects/p/span_annotations?span_ids={}", span_id(1))).await.json();
    assert_eq!(listed["data"], json!([]), "nothing half-written");

    let note = app.post_json("/v1/span_annotations", &json!({"data": [annotation(1, "note", "x", "")]})).await;
    assert_eq!(note.status, StatusCode::BAD_REQUEST);
    assert!(note.text().contains("'note'"), "{}", note.text());

    let mut bad_kind = annotation(1, "correctness", "good", "");
    bad_kind["annotator_kind"] = json!("ROBOT");
    let response = app.post_json("/v1/span_annotations", &json!({"data": [bad_kind]})).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().contains("annotator_kind"), "{}", response.text());
    let no_span = app.post_json("/v1/span_annotations", &json!({"data": [{"name": "x", "annotator_kind": "HUMAN"}]})).await;
    assert_eq!(no_span.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_span.text().contains("span_id"), "{}", no_span.text());

    for (uri, status, needle) in [
        ("/v1/projects/p/span_annotations", StatusCode::UNPROCESSABLE_ENTITY, "span_ids or identifier"),
        ("/v1/projects/p/span_annotations?identifier=", StatusCode::UNPROCESSABLE_ENTITY, "non-empty"),
        ("/v1/projects/p/span_annotations?span_ids=a&limit=0", StatusCode::UNPROCESSABLE_ENTITY, "limit"),
        ("/v1/projects/p/span_annotations?span_ids=a&cursor=nope", StatusCode::UNPROCESSABLE_ENTITY, "Invalid cursor"),
        ("/v1/projects/nope/span_annotations?span_ids=a", StatusCode::NOT_FOUND, "nope"),
        ("/v1/projects/p/trace_annotations", StatusCode::UNPROCESSABLE_ENTITY, "trace_ids or identifier"),
    ] {
        let response = app.get(uri).await;
        assert_eq!(response.status, status, "{uri}: {}", response.text());
        assert!(response.text().contains(needle), "{uri}: {}", response.text());
    }
}

#[tokio::test]
async fn deletes_are_bounded_by_a_window_unless_delete_all_and_cascade_with_spans() {
    let app = seeded().await;
    let data =
        json!({"data": [annotation(1, "correctness", "good", ""), annotation(1, "tone", "calm", ""), annotation(2, "tone", "sharp", "")]});
    app.post_json("/v1/span_annotations?sync=true", &data).await;
    let unbounded = app.delete("/v1/projects/p/span_annotations?name=tone").await;
    assert_eq!(unbounded.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unbounded.text().contains("delete_all"), "{}", unbounded.text());
    assert_eq!(app.delete("/v1/projects/p/span_annotations?name=&delete_all=true").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.delete("/v1/projects/p/span_annotations?annotator_kind=ROBOT&delete_all=true").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A window in the past deletes nothing; delete_all with a name deletes that name only.
    let past = app.delete("/v1/projects/p/span_annotations?name=tone&start_time=2000-01-01T00:00:00Z&end_time=2000-01-02T00:00:00Z").await;
    assert_eq!(past.status, StatusCode::NO_CONTENT);
    let both = format!("/v1/projects/p/span_annotations?span_ids={}&span_ids={}", span_id(1), span_id(2));
    assert_eq!(app.get(&both).await.json()["data"].as_array().unwrap().len(), 3);
    assert_eq!(app.delete("/v1/projects/p/span_annotations?name=tone&delete_all=true").await.status, StatusCode::NO_CONTENT);
    assert_eq!(names_and_labels(&app.get(&both).await.json()), vec![("correctness".into(), "good".into())]);

    // Deleting the span deletes its annotations.
    assert_eq!(app.delete(&format!("/v1/spans/{}", span_id(1))).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&both).await.json()["data"], json!([]));
    assert_eq!(app.delete("/v1/projects/nope/span_annotations?delete_all=true").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notes_are_new_rows_unless_an_identifier_names_one() {
    let app = seeded().await;
    let one = span_id(1);
    for text in ["first", "second"] {
        let response = app.post_json("/v1/span_notes", &json!({"data": {"span_id": one, "note": text}})).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        assert!(response.json()["data"]["id"].is_string());
    }
    for text in ["draft", "final"] {
        app.post_json("/v1/span_notes", &json!({"data": {"span_id": one, "note": text, "identifier": "mine"}})).await;
    }
    let notes = app.get(&format!("/v1/projects/p/span_annotations?span_ids={one}&include_annotation_names=note")).await.json();
    let texts: Vec<&str> = notes["data"].as_array().unwrap().iter().map(|n| n["result"]["explanation"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["final", "second", "first"]);
    let identifiers: Vec<&str> = notes["data"].as_array().unwrap().iter().map(|n| n["identifier"].as_str().unwrap()).collect();
    assert!(identifiers[1].starts_with("px-span-note:") && identifiers[1].len() == "px-span-note:".len() + 36, "{identifiers:?}");
    assert!(notes["data"].as_array().unwrap().iter().all(|n| n["annotator_kind"] == "HUMAN"));
    let missing = app.post_json("/v1/span_notes", &json!({"data": {"span_id": span_id(99), "note": "x"}})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn trace_annotations_and_notes_follow_the_same_rules() {
    let app = seeded().await;
    let trace = trace_id(1);
    let body = json!({"data": [{"trace_id": trace, "name": "resolved", "annotator_kind": "HUMAN", "result": {"label": "yes"}}]});
    let created = app.post_json("/v1/trace_annotations?sync=true", &body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert!(created.json()["data"][0]["id"].as_str().is_some());
    app.post_json("/v1/trace_notes", &json!({"data": {"trace_id": trace, "note": "looked at it"}})).await;

    let listed = app.get(&format!("/v1/projects/p/trace_annotations?trace_ids={trace}")).await.json();
    assert_eq!(names_and_labels(&listed), vec![("note".into(), "".into()), ("resolved".into(), "yes".into())]);
    assert_eq!(listed["data"][1]["trace_id"], trace);
    assert_eq!(listed["data"][0]["identifier"].as_str().unwrap().split(':').next(), Some("px-trace-note"));

    let filtered =
        app.get("/v1/projects/p/spans?filter_condition=trace_annotations%5B%27resolved%27%5D.label%20%3D%3D%20%27yes%27").await.json();
    assert_eq!(filtered["data"].as_array().unwrap().len(), 2, "both spans of trace 1");

    let missing =
        app.post_json("/v1/trace_annotations", &json!({"data": [{"trace_id": trace_id(9), "name": "x", "annotator_kind": "HUMAN"}]})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete("/v1/projects/p/trace_annotations?delete_all=true").await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/v1/projects/p/trace_annotations?trace_ids={trace}")).await.json()["data"], json!([]));
}

#[tokio::test]
async fn session_annotations_and_notes() {
    let app = seeded().await;
    let body =
        json!({"data": [{"session_id": "s-1", "name": "satisfied", "annotator_kind": "HUMAN", "result": {"label": "yes", "score": 1}}]});
    let created = app.post_json("/v1/session_annotations?sync=true", &body).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let again = app.post_json("/v1/session_annotations?sync=true", &body).await.json();
    assert_eq!(again["data"][0]["id"], created.json()["data"][0]["id"], "upserted in place");
    let note = app.post_json("/v1/session_notes", &json!({"data": {"session_id": "s-1", "note": "long chat"}})).await;
    assert_eq!(note.status, StatusCode::OK, "{}", note.text());

    let listed = app.get("/v1/projects/p/session_annotations?session_ids=s-1").await.json();
    assert_eq!(names_and_labels(&listed), vec![("note".into(), "".into()), ("satisfied".into(), "yes".into())]);
    assert_eq!(listed["data"][1]["session_id"], "s-1");
    assert!(listed["data"][0]["identifier"].as_str().unwrap().starts_with("px-session-note:"));
    assert_eq!(app.get("/v1/projects/q/session_annotations?session_ids=s-1").await.json()["data"], json!([]));

    let unknown =
        app.post_json("/v1/session_annotations", &json!({"data": [{"session_id": "nope", "name": "x", "annotator_kind": "HUMAN"}]})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.text().contains("nope"), "{}", unknown.text());
    let reserved = app
        .post_json("/v1/session_annotations", &json!({"data": [{"session_id": "s-1", "name": "note", "annotator_kind": "HUMAN"}]}))
        .await;
    assert_eq!(reserved.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.delete("/v1/projects/p/session_annotations?name=satisfied&delete_all=true").await.status, StatusCode::NO_CONTENT);
    let left = app.get("/v1/projects/p/session_annotations?session_ids=s-1").await.json();
    assert_eq!(names_and_labels(&left), vec![("note".into(), "".into())]);

    // Deleting the session deletes its annotations.
    let session = app.get("/v1/sessions/s-1").await.json();
    assert_eq!(app.delete(&format!("/v1/sessions/{}", session["data"]["id"].as_str().unwrap())).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/v1/projects/p/session_annotations?session_ids=s-1").await.json()["data"], json!([]));
}

#[tokio::test]
async fn document_annotations_upsert_by_position() {
    let app = seeded().await;
    let retriever = with_attributes(
        span(1, 12, Some(1), "RETRIEVER"),
        vec![
            string_attribute("retrieval.documents.0.document.content", "a"),
            string_attribute("retrieval.documents.1.document.content", "b"),
        ],
    );
    app.ingest(&request(Some("p"), vec![retriever])).await;
    let document = |position: i64, label: &str| json!({"span_id": span_id(12), "document_position": position, "name": "relevance", "annotator_kind": "LLM", "result": {"label": label}});
    let created =
        app.post_json("/v1/document_annotations?sync=true", &json!({"data": [document(0, "relevant"), document(1, "irrelevant")]})).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let ids = created.json()["data"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "each position is its own row");
    // The same (name, span, position, identifier) is updated in place, also within one request.
    let again =
        app.post_json("/v1/document_annotations?sync=true", &json!({"data": [document(1, "maybe"), document(1, "relevant")]})).await.json();
    assert_eq!(again["data"][0]["id"], ids[1]["id"]);
    assert_eq!(again["data"][1]["id"], ids[1]["id"]);

    // A position outside the span's documents is a 422 worded as Phoenix 20.26.1 words it.
    for position in [2, -1] {
        let outside = app.post_json("/v1/document_annotations", &json!({"data": [document(position, "x")]})).await;
        assert_eq!(
            (outside.status, outside.text()),
            (StatusCode::UNPROCESSABLE_ENTITY, format!("Document position {position} is out of bounds for span {} (max: 1)", span_id(12)))
        );
    }
    let mut without_documents = document(0, "x");
    without_documents["span_id"] = json!(span_id(11));
    let refused = app.post_json("/v1/document_annotations", &json!({"data": [without_documents]})).await;
    assert_eq!(refused.text(), format!("Document position 0 is out of bounds for span {} (max: -1)", span_id(11)));
    let mut identified = document(0, "x");
    identified["identifier"] = json!("run-1");
    let refused = app.post_json("/v1/document_annotations", &json!({"data": [identified]})).await;
    assert_eq!(
        (refused.status, refused.text()),
        (StatusCode::UNPROCESSABLE_ENTITY, "Non-empty identifier 'run-1' is not supported".into())
    );
    let mut missing = document(0, "x");
    missing["span_id"] = json!(span_id(99));
    assert_eq!(app.post_json("/v1/document_annotations", &json!({"data": [missing]})).await.status, StatusCode::NOT_FOUND);
}

/// U+0000 in an annotation's text and metadata (found by the `bulk_rows_arrow` fuzz target on
/// PostgreSQL, whose text and JSONB cannot hold it: the write answered 500) is stored as given on
/// SQLite and as U+FFFD on PostgreSQL, through every writer.
#[tokio::test]
async fn nul_characters_in_annotations_are_stored() {
    let app = seeded().await;
    let body = json!({"data": [{
        "span_id": span_id(1), "name": "tone\u{0}", "annotator_kind": "LLM",
        "result": {"label": "calm\u{0}", "explanation": "a\u{0}b"}, "metadata": {"k\u{0}": ["v\u{0}"]},
    }]});
    let response = app.post_json("/v1/span_annotations", &body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let rows = json!([{"context.span_id": span_id(2), "eval.Tone.label": "x\u{0}y"}]);
    let response = app.post_json("/v1/projects/p/spans/evaluations", &rows).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());

    let nul = if std::env::var("EMBER_TEST_BACKEND").as_deref() == Ok("postgresql") { "\u{FFFD}" } else { "\u{0}" };
    let listed = app.get(&format!("/v1/projects/p/span_annotations?span_ids={}&span_ids={}", span_id(1), span_id(2))).await.json();
    let by_name = |name: &str| listed["data"].as_array().unwrap().iter().find(|a| a["name"] == name).cloned().expect(name);
    let tone = by_name(&format!("tone{nul}"));
    assert_eq!(tone["result"], json!({"label": format!("calm{nul}"), "score": null, "explanation": format!("a{nul}b")}));
    assert_eq!(tone["metadata"], json!({format!("k{nul}"): [format!("v{nul}")]}));
    assert_eq!(by_name("Tone")["result"]["label"], format!("x{nul}y"));
}
