//! `POST /graphql`: Phoenix's span and annotation operations and Arize AX's `updateAnnotations`.

use axum::http::StatusCode;
use ember_core::GlobalId;
use ember_otlp::fixtures::{request, span, span_id};
use serde_json::{json, Value};

use crate::common::{test_app, TestApp};

async fn graphql(app: &TestApp, query: &str, variables: Value) -> Value {
    let response = app.post_json("/graphql", &json!({"query": query, "variables": variables})).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()
}

fn first_error(response: &Value) -> String {
    response["errors"][0]["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn spans_and_annotations_through_phoenix_operations() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "CHAIN"), span(1, 2, Some(1), "LLM")])).await;

    let found =
        graphql(&app, "query ($id: String!) { getSpanByOtelId(spanId: $id) { id spanId name spanKind } }", json!({"id": span_id(2)})).await;
    let span = &found["data"]["getSpanByOtelId"];
    assert_eq!(
        (span["spanId"].as_str(), span["name"].as_str(), span["spanKind"].as_str()),
        (Some(span_id(2).as_str()), Some("LLM-2"), Some("LLM"))
    );
    let span_gid = span["id"].as_str().unwrap().to_string();
    let missing = graphql(&app, "{ getSpanByOtelId(spanId: \"ffffffffffffffff\") { id } }", json!({})).await;
    assert_eq!(missing["data"]["getSpanByOtelId"], Value::Null);

    let created = graphql(
        &app,
        "mutation ($input: [CreateSpanAnnotationInput!]!) { createSpanAnnotations(input: $input) { spanAnnotations { id name label score annotatorKind metadata source spanId } } }",
        json!({"input": [{"spanId": span_gid, "name": "correctness", "annotatorKind": "HUMAN", "label": "correct", "score": 1, "metadata": {"by": "me"}, "source": "APP"}]}),
    )
    .await;
    let annotation = &created["data"]["createSpanAnnotations"]["spanAnnotations"][0];
    assert_eq!(annotation["label"], "correct");
    assert_eq!(annotation["metadata"], json!({"by": "me"}));
    assert_eq!(annotation["source"], "APP", "the source given is kept");
    assert_eq!(annotation["spanId"], span_gid.as_str());
    let annotation_gid = annotation["id"].as_str().unwrap().to_string();

    let node =
        graphql(&app, "query ($id: ID!) { node(id: $id) { id ... on SpanAnnotation { name } } }", json!({"id": annotation_gid})).await;
    assert_eq!(node["data"]["node"], json!({"id": annotation_gid, "name": "correctness"}));
    let span_node =
        graphql(&app, "query ($id: ID!) { node(id: $id) { ... on Span { name spanAnnotations { name } } } }", json!({"id": span_gid}))
            .await;
    assert_eq!(span_node["data"]["node"], json!({"name": "LLM-2", "spanAnnotations": [{"name": "correctness"}]}));

    let patched = graphql(
        &app,
        "mutation ($input: [PatchAnnotationInput!]!) { patchSpanAnnotations(input: $input) { spanAnnotations { label score explanation } } }",
        json!({"input": [{"annotationId": annotation_gid, "label": "incorrect", "explanation": "on second look"}]}),
    )
    .await;
    assert_eq!(
        patched["data"]["patchSpanAnnotations"]["spanAnnotations"][0],
        json!({"label": "incorrect", "score": 1.0, "explanation": "on second look"})
    );
    let listed = app.get(&format!("/v1/projects/p/span_annotations?span_ids={}", span_id(2))).await.json();
    assert_eq!(listed["data"][0]["result"]["label"], "incorrect", "REST sees the GraphQL write");

    let deleted = graphql(
        &app,
        "mutation ($ids: [ID!]!) { deleteSpanAnnotations(input: {annotationIds: $ids}) { spanAnnotations { id } } }",
        json!({"ids": [annotation_gid]}),
    )
    .await;
    assert_eq!(deleted["data"]["deleteSpanAnnotations"]["spanAnnotations"][0]["id"], annotation_gid.as_str());
    assert_eq!(app.get(&format!("/v1/projects/p/span_annotations?span_ids={}", span_id(2))).await.json()["data"], json!([]));

    // Errors name the problem.
    let bad_id = graphql(&app, "{ node(id: \"nope\") { id } }", json!({})).await;
    assert!(first_error(&bad_id).contains("GlobalID"), "{bad_id}");
    let wrong_span = graphql(
        &app,
        "mutation { createSpanAnnotations(input: [{spanId: \"U3Bhbjo5OTk=\", name: \"x\", annotatorKind: HUMAN, source: API}]) { spanAnnotations { id } } }",
        json!({}),
    )
    .await;
    assert!(first_error(&wrong_span).contains("no span"), "{wrong_span}");
    let not_json = app.send(axum::http::Request::post("/graphql").body(axum::body::Body::from("{")).unwrap()).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
}

/// The mutation exactly as Arize's documentation writes it.
const AX_MUTATION: &str = "mutation addAnnotations($name: String!, $updatedBy: String, $label: String, $score: Float, \
    $annotationType: AnnotationType!, $modelId: ID!, $note: String!, $modelEnvironment: ModelEnvironmentName!, $recordId: String!, \
    $startTime:DateTime!) { updateAnnotations(input: { modelId: $modelId, note: { text: $note }, annotations: { name: $name, \
    updatedBy: $updatedBy, label: $label, score: $score, annotationType: $annotationType }, modelEnvironment: $modelEnvironment, \
    recordId: $recordId, startTime: $startTime }) { clientMutationId } }";

#[tokio::test]
async fn arize_update_annotations_labels_a_span() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "LLM")])).await;
    let project = GlobalId::encode(ember_core::GlobalType::Project, app.store.get_project_by_name("p").await.unwrap().unwrap().id);
    let variables = |annotation_type: &str, label: Value, score: Value, start: &str| {
        json!({
            "name": "LLM Response Adequacy", "updatedBy": "Jane Doe", "label": label, "score": score, "annotationType": annotation_type,
            "modelId": project, "note": "Lacks detail.", "modelEnvironment": "tracing", "recordId": span_id(1), "startTime": start,
        })
    };
    // The fixture's span 1 starts at 2024-01-01T00:00:01Z.
    let done = graphql(&app, AX_MUTATION, variables("label", json!("Needs Improvement"), Value::Null, "2024-01-01T03:00:00Z")).await;
    assert!(done["errors"].is_null(), "{done}");
    let listed = app.get(&format!("/v1/projects/p/span_annotations?span_ids={}", span_id(1))).await.json();
    let annotation = &listed["data"][0];
    assert_eq!(annotation["name"], "LLM Response Adequacy");
    assert_eq!(annotation["annotator_kind"], "HUMAN");
    assert_eq!(annotation["result"], json!({"label": "Needs Improvement", "score": null, "explanation": "Lacks detail."}));
    assert_eq!(annotation["metadata"], json!({"updated_by": "Jane Doe"}));

    for (vars, needle) in [
        (variables("label", json!("x"), json!(0.5), "2024-01-01T03:00:00Z"), "no score"),
        (variables("score", Value::Null, Value::Null, "2024-01-01T03:00:00Z"), "takes a score"),
        (variables("label", json!("x"), Value::Null, "2024-03-01T00:00:00Z"), "no span in the project and the time window"),
    ] {
        let response = graphql(&app, AX_MUTATION, vars).await;
        assert!(first_error(&response).contains(needle), "{response}");
    }
}

/// D2: a ~1 KB document whose fragments double at each level is refused before validation
/// expands it (it used to hold a runtime thread for minutes); an ordinary query still runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragment_doubling_is_refused_before_it_is_expanded() {
    let app = std::sync::Arc::new(test_app().await);
    let levels = 40;
    let fragments: String =
        (0..levels).map(|level| format!("fragment F{level} on QueryRoot {{ ...F{next} ...F{next} }} ", next = level + 1)).collect();
    let query = format!("query {{ __typename ...F0 }} {fragments} fragment F{levels} on QueryRoot {{ __typename }}");
    // On its own task, so a request that holds its thread fails the timeout instead of hanging.
    let request = tokio::spawn({
        let app = app.clone();
        async move { app.post_json("/graphql", &json!({"query": query})).await }
    });
    let answer =
        tokio::time::timeout(std::time::Duration::from_secs(30), request).await.expect("the query is refused, not expanded").unwrap();
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(first_error(&answer.json()).contains("expands to more than 20000 fields"), "{}", answer.text());
    assert_eq!(graphql(&app, "query { __typename }", json!({})).await["data"]["__typename"], "QueryRoot");
}
