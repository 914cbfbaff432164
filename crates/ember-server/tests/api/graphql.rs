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

/// What Phoenix's own tests and scripts read: a span's trace with its project and session, the
/// projects connection with spans and sessions, traces and sessions by `node(id:)` with their
/// annotations, and documents' annotations.
#[tokio::test]
async fn traces_sessions_and_their_annotations_through_the_graph() {
    use ember_otlp::fixtures::{string_attribute, trace_id, with_attributes};

    let app = test_app().await;
    let root = with_attributes(span(1, 1, None, "CHAIN"), vec![string_attribute("session.id", "s-1")]);
    let retriever =
        with_attributes(span(1, 2, Some(1), "RETRIEVER"), vec![string_attribute("retrieval.documents.0.document.content", "d")]);
    app.ingest(&request(Some("p"), vec![root, retriever, span(2, 3, None, "LLM")])).await;
    app.ingest(&request(Some("q"), vec![span(3, 4, None, "CHAIN")])).await;
    let post = |path: &str, body: Value| {
        let (app, path) = (&app, path.to_string());
        async move { assert_eq!(app.post_json(&path, &body).await.status, StatusCode::OK) }
    };
    let annotation =
        |id: String| json!({"name": "quality", "annotator_kind": "HUMAN", "result": {"label": "good", "score": 1}, "identifier": id});
    let mut trace_annotation = annotation("t".into());
    trace_annotation["trace_id"] = json!(trace_id(1));
    post("/v1/trace_annotations?sync=true", json!({"data": [trace_annotation]})).await;
    let mut session_annotation = annotation("s".into());
    session_annotation["session_id"] = json!("s-1");
    post("/v1/session_annotations?sync=true", json!({"data": [session_annotation]})).await;
    let mut document = annotation(String::new());
    document["span_id"] = json!(span_id(2));
    document["document_position"] = json!(0);
    post("/v1/document_annotations?sync=true", json!({"data": [document]})).await;

    let found = graphql(
        &app,
        "query ($spanId: String!) { getSpanByOtelId(spanId: $spanId) { id spanId context { spanId traceId } \
         trace { id traceId numSpans project { id name } session { id sessionId } } \
         documentEvaluations { name label documentPosition user { id } } } }",
        json!({"spanId": span_id(2)}),
    )
    .await;
    let span = &found["data"]["getSpanByOtelId"];
    assert_eq!(span["context"], json!({"spanId": span_id(2), "traceId": trace_id(1)}));
    let trace = &span["trace"];
    assert_eq!((&trace["traceId"], &trace["numSpans"], &trace["project"]["name"]), (&json!(trace_id(1)), &json!(2), &json!("p")));
    assert_eq!(trace["session"]["sessionId"], "s-1");
    assert_eq!(span["documentEvaluations"], json!([{"name": "quality", "label": "good", "documentPosition": 0, "user": null}]));

    let trace_node = graphql(
        &app,
        "query ($id: ID!) { node(id: $id) { ... on Trace { traceAnnotations { name label identifier user { id } } \
         spans(first: 1) { edges { node { spanId } } pageInfo { hasNextPage endCursor } } } } }",
        json!({"id": trace["id"]}),
    )
    .await;
    let node = &trace_node["data"]["node"];
    assert_eq!(node["traceAnnotations"], json!([{"name": "quality", "label": "good", "identifier": "t", "user": null}]));
    assert_eq!(node["spans"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(node["spans"]["pageInfo"]["hasNextPage"], true);
    let after = node["spans"]["pageInfo"]["endCursor"].as_str().unwrap();
    let rest = graphql(
        &app,
        "query ($id: ID!, $after: String) { node(id: $id) { ... on Trace { spans(first: 10, after: $after) { edges { node { spanId } } pageInfo { hasNextPage } } } } }",
        json!({"id": trace["id"], "after": after}),
    )
    .await;
    assert_eq!(rest["data"]["node"]["spans"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(rest["data"]["node"]["spans"]["pageInfo"]["hasNextPage"], false);

    let session_node = graphql(
        &app,
        "query ($id: ID!) { node(id: $id) { ... on ProjectSession { sessionId numTraces sessionAnnotations { name identifier } } } }",
        json!({"id": trace["session"]["id"]}),
    )
    .await;
    assert_eq!(
        session_node["data"]["node"],
        json!({"sessionId": "s-1", "numTraces": 1, "sessionAnnotations": [{"name": "quality", "identifier": "s"}]})
    );

    // Phoenix's own helpers read every project's spans and sessions this way.
    let projects = graphql(
        &app,
        "query { projects(first: 1000) { edges { node { name spans(first: 1000) { edges { node { spanId } } } \
         sessions(first: 1000) { edges { node { sessionId traces(first: 1000) { edges { node { spans(first: 1000) { edges { node { context { spanId } } } } } } } } } } } } } }",
        json!({}),
    )
    .await;
    let edges = projects["data"]["projects"]["edges"].as_array().unwrap();
    let by_name = |name: &str| edges.iter().find(|edge| edge["node"]["name"] == name).map(|edge| edge["node"].clone()).unwrap();
    let span_ids =
        |node: &Value| node["spans"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["spanId"].clone()).collect::<Vec<_>>();
    assert_eq!(span_ids(&by_name("p")), [json!(span_id(3)), json!(span_id(2)), json!(span_id(1))], "newest first");
    assert_eq!(span_ids(&by_name("q")), [json!(span_id(4))]);
    let session = &by_name("p")["sessions"]["edges"][0]["node"];
    assert_eq!(session["sessionId"], "s-1");
    assert_eq!(session["traces"]["edges"][0]["node"]["spans"]["edges"].as_array().unwrap().len(), 2);

    let paged =
        graphql(&app, "{ projects(first: 1) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }", json!({})).await;
    let cursor = paged["data"]["projects"]["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    assert_eq!(paged["data"]["projects"]["pageInfo"]["hasNextPage"], true);
    let next =
        graphql(&app, "query ($after: String) { projects(first: 1, after: $after) { edges { node { name } } } }", json!({"after": cursor}))
            .await;
    assert_ne!(next["data"]["projects"]["edges"][0]["node"]["name"], paged["data"]["projects"]["edges"][0]["node"]["name"]);

    let project_id = by_name_id(&app, "p").await;
    let by_trace = graphql(
        &app,
        "query ($projectId: ID!, $traceId: ID!) { node(id: $projectId) { ... on Project { trace(traceId: $traceId) { spans(first: 1000) { edges { node { spanId } } } } } } }",
        json!({"projectId": project_id, "traceId": trace_id(1)}),
    )
    .await;
    assert_eq!(by_trace["data"]["node"]["trace"]["spans"]["edges"].as_array().unwrap().len(), 2);
    let elsewhere = graphql(
        &app,
        "query ($projectId: ID!, $traceId: ID!) { node(id: $projectId) { ... on Project { trace(traceId: $traceId) { id } } } }",
        json!({"projectId": project_id, "traceId": trace_id(3)}),
    )
    .await;
    assert_eq!(elsewhere["data"]["node"]["trace"], Value::Null, "another project's trace is not this project's");
}

async fn by_name_id(app: &TestApp, name: &str) -> String {
    app.get(&format!("/v1/projects/{name}")).await.json()["data"]["id"].as_str().unwrap().to_string()
}

/// `secrets` and `upsertOrDeleteSecrets` with Phoenix's shapes: values leave redacted as Phoenix
/// redacts them (a client holding PHOENIX_SECRET opens them), and the rules are `PUT
/// /v1/secrets`'s.
#[tokio::test]
async fn secrets_are_read_redacted_and_written_in_batches() {
    use ember_service::redaction::Redactor;

    let phoenix_secret = "a-phoenix-secret-of-enough-length-0123";
    let app = crate::common::test_app_with_providers(ember_service::ProviderSettings::default(), Some(phoenix_secret)).await;
    let mutation = "mutation ($input: UpsertOrDeleteSecretsMutationInput!) { upsertOrDeleteSecrets(input: $input) { \
                    upsertedSecrets { id key value { ... on DecryptedSecret { value } } } deletedIds } }";
    let long_value = "sk-".to_string() + &"x".repeat(30) + "tail";
    let written = graphql(
        &app,
        mutation,
        json!({"input": {"secrets": [{"key": "OPENAI_API_KEY", "value": "sk-first"}, {"key": "ANTHROPIC_API_KEY", "value": long_value}, {"key": "OPENAI_API_KEY", "value": "sk-second"}]}}),
    )
    .await;
    let payload = &written["data"]["upsertOrDeleteSecrets"];
    assert!(!written.to_string().contains("sk-second"), "no value leaves in plain text: {written}");
    let redactor = Redactor::new(Some(phoenix_secret));
    let values: Vec<(String, String)> = payload["upsertedSecrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|secret| (secret["key"].as_str().unwrap().to_string(), redactor.unredact(secret["value"]["value"].as_str().unwrap()).unwrap()))
        .collect();
    assert_eq!(values, [("ANTHROPIC_API_KEY".to_string(), long_value.clone()), ("OPENAI_API_KEY".to_string(), "sk-second".to_string())]);
    let anthropic = payload["upsertedSecrets"][0]["value"]["value"].as_str().unwrap();
    assert!(anthropic.starts_with("\u{E000}REDACTED\u{E000}tail\u{E000}"), "a long value shows its last 4 characters");

    let query = "query ($keys: [String!]) { secrets(keys: $keys) { edges { node { key value { ... on DecryptedSecret { value } } } } } }";
    let listed = graphql(&app, query, json!({"keys": ["OPENAI_API_KEY", "MISSING"]})).await;
    let edges = listed["data"]["secrets"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(redactor.unredact(edges[0]["node"]["value"]["value"].as_str().unwrap()).as_deref(), Some("sk-second"));
    assert_eq!(graphql(&app, query, json!({})).await["data"]["secrets"]["edges"].as_array().unwrap().len(), 2);

    let deleted = graphql(&app, mutation, json!({"input": {"secrets": [{"key": "OPENAI_API_KEY", "value": null}]}})).await;
    assert_eq!(deleted["data"]["upsertOrDeleteSecrets"]["deletedIds"].as_array().unwrap().len(), 1);
    assert_eq!(graphql(&app, query, json!({"keys": ["OPENAI_API_KEY"]})).await["data"]["secrets"]["edges"], json!([]));
    // The REST rules hold: an empty batch and a key outside the pattern are refused.
    for secrets in [json!([]), json!([{"key": "bad key", "value": "v"}])] {
        let refused = graphql(&app, mutation, json!({"input": {"secrets": secrets}})).await;
        assert!(refused["errors"].as_array().is_some_and(|errors| !errors.is_empty()), "{refused}");
    }
}

/// Phoenix's dataset mutations and the `Dataset` node, served by the REST services.
#[tokio::test]
async fn datasets_are_made_changed_and_read_through_the_graph() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "LLM")])).await;
    let span_gid = graphql(&app, "query ($id: String!) { getSpanByOtelId(spanId: $id) { id } }", json!({"id": span_id(1)})).await["data"]
        ["getSpanByOtelId"]["id"]
        .clone();
    let created = graphql(
        &app,
        "mutation ($name: String!) { createDataset(input: {name: $name, description: \"d\"}) { dataset { id name exampleCount } } }",
        json!({"name": "qa"}),
    )
    .await;
    let dataset = &created["data"]["createDataset"]["dataset"];
    assert_eq!((&dataset["name"], &dataset["exampleCount"]), (&json!("qa"), &json!(0)));
    let again = graphql(&app, "mutation { createDataset(input: {name: \"qa\"}) { dataset { id } } }", json!({})).await;
    assert!(first_error(&again).contains("already exists"), "{again}");

    let added = graphql(
        &app,
        "mutation ($input: AddExamplesToDatasetInput!) { addExamplesToDataset(input: $input) { dataset { id exampleCount } } }",
        json!({"input": {"datasetId": dataset["id"], "examples": [
            {"input": {"q": 1}, "output": {"a": 1}, "metadata": {}, "spanId": span_gid},
            {"input": {"q": 2}, "output": {"a": 2}, "metadata": {"m": true}},
        ]}}),
    )
    .await;
    assert_eq!(added["data"]["addExamplesToDataset"]["dataset"]["exampleCount"], 2, "{added}");
    let node_query = "query ($id: ID!) { node(id: $id) { ... on Dataset { examples { edges { node { id revision { input output metadata } span { spanId } } } } } } }";
    let read = graphql(&app, node_query, json!({"id": dataset["id"]})).await;
    let edges = read["data"]["node"]["examples"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges[0]["node"]["revision"], json!({"input": {"q": 1}, "output": {"a": 1}, "metadata": {}}));
    assert_eq!(edges[0]["node"]["span"]["spanId"], span_id(1));
    assert_eq!(edges[1]["node"]["span"], Value::Null);

    let split = graphql(
        &app,
        "mutation ($input: CreateDatasetSplitWithExamplesInput!) { createDatasetSplitWithExamples(input: $input) { datasetSplit { id name } } }",
        json!({"input": {"name": "hard", "color": "#ff0000", "exampleIds": [edges[1]["node"]["id"]]}}),
    )
    .await;
    assert_eq!(split["data"]["createDatasetSplitWithExamples"]["datasetSplit"]["name"], "hard", "{split}");
    let hard = app.get(&format!("/v1/datasets/{}/examples?split=hard", dataset["id"].as_str().unwrap())).await.json();
    assert_eq!(hard["data"]["examples"][0]["input"], json!({"q": 2}));

    let deleted = graphql(
        &app,
        "mutation ($input: DeleteDatasetExamplesInput!) { deleteDatasetExamples(input: $input) { dataset { id exampleCount } } }",
        json!({"input": {"exampleIds": [edges[0]["node"]["id"]], "datasetId": dataset["id"]}}),
    )
    .await;
    assert_eq!(deleted["data"]["deleteDatasetExamples"]["dataset"]["exampleCount"], 1, "{deleted}");
    let left = graphql(&app, node_query, json!({"id": dataset["id"]})).await;
    assert_eq!(left["data"]["node"]["examples"]["edges"].as_array().unwrap().len(), 1);
    let versions = app.get(&format!("/v1/datasets/{}/versions", dataset["id"].as_str().unwrap())).await.json();
    assert_eq!(versions["data"].as_array().unwrap().len(), 3, "created, added to, then an example deleted");

    let gone =
        graphql(&app, "mutation ($id: ID!) { deleteDataset(input: {datasetId: $id}) { dataset { name } } }", json!({"id": dataset["id"]}))
            .await;
    assert_eq!(gone["data"]["deleteDataset"]["dataset"]["name"], "qa");
    assert_eq!(app.get("/v1/datasets?name=qa").await.json()["data"], json!([]));
}

/// The `Experiment` node: runs with outputs, errors and evaluations, its splits, its baseline tag.
#[tokio::test]
async fn experiments_read_through_the_graph() {
    use crate::experiments::{evaluation, run};

    let app = test_app().await;
    let upload = json!({"name": "qa", "inputs": [{"q": 1}, {"q": 2}], "splits": ["train", null]});
    let dataset = app.post_json("/v1/datasets/upload?sync=true", &upload).await.json()["data"]["dataset_id"].as_str().unwrap().to_string();
    let examples = app.get(&format!("/v1/datasets/{dataset}/examples")).await.json()["data"]["examples"].clone();
    let experiment =
        app.post_json(&format!("/v1/datasets/{dataset}/experiments"), &json!({"name": "e1", "splits": ["train"]})).await.json()["data"]
            ["id"]
            .as_str()
            .unwrap()
            .to_string();
    let example = examples[0]["id"].as_str().unwrap();
    let run_id = app.post_json(&format!("/v1/experiments/{experiment}/runs"), &run(example, 1, json!({"answer": 2}), None)).await.json()
        ["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post_json("/v1/experiment_evaluations", &evaluation(&run_id, "exact", json!({"score": 1.0, "label": "yes"}), None)).await;
    app.post_json(&format!("/v1/experiments/{experiment}/tags"), &json!({"name": "baseline"})).await;

    let read = graphql(
        &app,
        "query ($id: ID!) { node(id: $id) { ... on Experiment { id name repetitions isBaseline datasetSplits { edges { node { name } } } \
         runs(first: 100) { edges { node { id output error traceId annotations { edges { node { name score label error } } } } } pageInfo { hasNextPage } } } } }",
        json!({"id": experiment}),
    )
    .await;
    let node = &read["data"]["node"];
    assert_eq!((&node["name"], &node["repetitions"], &node["isBaseline"]), (&json!("e1"), &json!(1), &json!(true)), "{read}");
    assert_eq!(node["datasetSplits"]["edges"], json!([{"node": {"name": "train"}}]));
    let runs = node["runs"]["edges"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((&runs[0]["node"]["id"], &runs[0]["node"]["output"]), (&json!(run_id), &json!({"answer": 2})));
    assert_eq!(runs[0]["node"]["annotations"]["edges"], json!([{"node": {"name": "exact", "score": 1.0, "label": "yes", "error": null}}]));
}
