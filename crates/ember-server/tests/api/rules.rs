//! Each rule of the service layer driven through every transport that can reach it: the reserved
//! annotation name, the undeletable default project, one answer per error classification, and
//! the cross-site request guard on every write.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use ember_otlp::fixtures::{request, span, span_id, string_attribute, trace_id, with_attributes};
use ember_store::QueueLimits;
use serde_json::{json, Value};

use crate::common::{test_app, test_app_with, TestApp, TestResponse};
use crate::evaluations::{evaluation, span_subject, trace_subject};

async fn post_form(app: &TestApp, uri: &str, form: &str) -> TestResponse {
    let request =
        Request::post(uri).header("content-type", "application/x-www-form-urlencoded").body(Body::from(form.to_string())).unwrap();
    app.send(request).await
}

async fn graphql(app: &TestApp, query: &str, variables: Value) -> Value {
    let response = app.post_json("/graphql", &json!({"query": query, "variables": variables})).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()
}

/// The names of the annotations of span 1 (and of trace 1) of project `p`.
async fn annotation_names(app: &TestApp) -> Vec<String> {
    let mut names = Vec::new();
    for uri in [
        format!("/v1/projects/p/span_annotations?span_ids={}&limit=100", span_id(1)),
        format!("/v1/projects/p/trace_annotations?trace_ids={}&limit=100", trace_id(1)),
    ] {
        let listed = app.get(&uri).await.json();
        names.extend(listed["data"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()));
    }
    names
}

#[tokio::test]
async fn the_name_note_is_reserved_for_notes_through_every_writer() {
    let app = test_app().await;
    let retriever = with_attributes(span(1, 1, None, "RETRIEVER"), vec![string_attribute("retrieval.documents.0.document.content", "d")]);
    app.ingest(&request(Some("p"), vec![retriever])).await;
    let project = app.store.get_project_by_name("p").await.unwrap().unwrap().id;
    let note =
        |id_field: &str, id: String| json!({"data": [{id_field: id, "name": "note", "annotator_kind": "HUMAN", "result": {"label": "x"}}]});

    // REST, per target.
    for (uri, body) in [
        ("/v1/span_annotations", note("span_id", span_id(1))),
        ("/v1/trace_annotations", note("trace_id", trace_id(1))),
        ("/v1/session_annotations", note("session_id", "s-1".into())),
    ] {
        let refused = app.post_json(uri, &body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{uri}: {}", refused.text());
        assert!(refused.text().contains("reserved for notes"), "{uri}: {}", refused.text());
    }

    // The web UI's annotation form says so on the form and stores nothing.
    let back = format!("/projects/{project}/traces/{}", trace_id(1));
    let form = format!(
        "level=span&span_id={}&trace_id={}&name=note&label=x&score=&explanation=&return_to={}",
        span_id(1),
        trace_id(1),
        percent_encoding::utf8_percent_encode(&back, percent_encoding::NON_ALPHANUMERIC)
    );
    let answered = post_form(&app, &format!("/projects/{project}/annotations"), &form).await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER);
    let location = percent_encoding::percent_decode_str(answered.headers["location"].to_str().unwrap()).decode_utf8().unwrap().to_string();
    assert!(location.contains("reserved for notes"), "{location}");
    // D17: a return path with CR/LF or NUL is a 400 like any other unexpected page, not a 500.
    for injected in ["\r\nSet-Cookie: x=1", "\u{0}"] {
        let form = form.clone() + &percent_encoding::utf8_percent_encode(injected, percent_encoding::NON_ALPHANUMERIC).to_string();
        let answered = post_form(&app, &format!("/projects/{project}/annotations"), &form).await;
        assert_eq!(answered.status, StatusCode::BAD_REQUEST, "{injected:?}: {}", answered.text());
    }

    // Phoenix's GraphQL mutations, creating and renaming.
    let span_gid = app.get(&format!("/v1/projects/p/spans?span_id={}", span_id(1))).await.json()["data"][0]["id"].clone();
    let create = "mutation ($input: [CreateSpanAnnotationInput!]!) { createSpanAnnotations(input: $input) { spanAnnotations { id } } }";
    let created =
        graphql(&app, create, json!({"input": [{"spanId": span_gid, "name": "note", "annotatorKind": "HUMAN", "source": "API"}]})).await;
    assert_eq!(created["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{created}");
    let fine =
        graphql(&app, create, json!({"input": [{"spanId": span_gid, "name": "tone", "annotatorKind": "HUMAN", "source": "API"}]})).await;
    let annotation_gid = fine["data"]["createSpanAnnotations"]["spanAnnotations"][0]["id"].clone();
    let patch = "mutation ($input: [PatchAnnotationInput!]!) { patchSpanAnnotations(input: $input) { spanAnnotations { id } } }";
    let renamed = graphql(&app, patch, json!({"input": [{"annotationId": annotation_gid, "name": "note"}]})).await;
    assert_eq!(renamed["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{renamed}");

    // Arize AX's GraphQL mutation.
    let ax = "mutation ($modelId: ID!, $recordId: String!, $startTime: DateTime!) { updateAnnotations(input: {modelId: $modelId, \
              annotations: {name: \"note\", label: \"x\", annotationType: label}, recordId: $recordId, startTime: $startTime}) \
              { clientMutationId } }";
    let refused = graphql(&app, ax, json!({"modelId": "p", "recordId": span_id(1), "startTime": "2024-01-01T00:00:00Z"})).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{refused}");

    // The AX bulk updates.
    for (uri, column) in
        [("/v1/projects/p/spans/evaluations", "eval.note.label"), ("/v1/projects/p/spans/annotations", "annotation.note.label")]
    {
        let refused = app.post_json(uri, &json!([{"context.span_id": span_id(1), column: "x"}])).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{uri}: {}", refused.text());
    }

    // Legacy evaluations of spans and of traces.
    for subject in [span_subject(&span_id(1)), trace_subject(&trace_id(1))] {
        let refused = crate::evaluations::post(&app, evaluation("note", subject, Some(1.0), None), false).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text());
    }

    assert_eq!(annotation_names(&app).await, ["tone"], "only the allowed annotation was written");
    // Notes themselves are written under the reserved name, and document annotations may use it.
    let noted = app.post_json("/v1/span_notes", &json!({"data": {"span_id": span_id(1), "note": "looks off"}})).await;
    assert_eq!(noted.status, StatusCode::OK, "{}", noted.text());
    let document =
        json!({"data": [{"span_id": span_id(1), "document_position": 0, "name": "note", "annotator_kind": "LLM", "result": {"score": 1}}]});
    assert_eq!(app.post_json("/v1/document_annotations", &document).await.status, StatusCode::OK);
    assert!(annotation_names(&app).await.contains(&"note".to_string()));
}

#[tokio::test]
async fn the_default_project_cannot_be_deleted_through_any_way_in() {
    let app = test_app().await;
    app.ingest(&request(None, vec![span(1, 1, None, "CHAIN")])).await;
    let default = app.store.get_project_by_name("default").await.unwrap().expect("the default project").id;

    let rest = app.delete("/v1/projects/default").await;
    assert_eq!((rest.status, rest.text().as_str()), (StatusCode::FORBIDDEN, "The default project cannot be deleted"));
    let page = post_form(&app, &format!("/projects/{default}/delete"), "").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text().contains("The default project cannot be deleted"), "{}", page.text());
    let listing = app.get("/projects").await.text();
    assert!(!listing.contains(&format!("/projects/{default}/delete")), "no delete button for the default project");
    assert!(app.store.get_project(default).await.unwrap().is_some(), "the default project is still there");
}

#[tokio::test]
async fn one_classification_answers_the_same_through_every_transport() {
    let app = test_app().await;
    app.ingest(&request(Some("p"), vec![span(1, 1, None, "LLM")])).await;

    // Not found: REST, a UI page and GraphQL.
    assert_eq!(app.get("/v1/projects/nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/projects/999").await.status, StatusCode::NOT_FOUND);
    let node = graphql(&app, "{ node(id: \"UHJvamVjdDo5OTk=\") { id } }", json!({})).await;
    assert_eq!(node["errors"][0]["extensions"]["code"], "NOT_FOUND", "{node}");

    // Conflict: REST and GraphQL (a rename onto a taken name and identifier).
    app.post_json("/v1/projects", &json!({"name": "taken"})).await;
    assert_eq!(app.post_json("/v1/projects", &json!({"name": "taken"})).await.status, StatusCode::CONFLICT);
    let span_gid = app.get(&format!("/v1/projects/p/spans?span_id={}", span_id(1))).await.json()["data"][0]["id"].clone();
    let create = "mutation ($input: [CreateSpanAnnotationInput!]!) { createSpanAnnotations(input: $input) { spanAnnotations { id } } }";
    let two = json!({"input": [
        {"spanId": span_gid, "name": "a", "annotatorKind": "HUMAN", "source": "API"},
        {"spanId": span_gid, "name": "b", "annotatorKind": "HUMAN", "source": "API"},
    ]});
    let created = graphql(&app, create, two).await;
    let second = created["data"]["createSpanAnnotations"]["spanAnnotations"][1]["id"].clone();
    let patch = "mutation ($input: [PatchAnnotationInput!]!) { patchSpanAnnotations(input: $input) { spanAnnotations { id } } }";
    let clash = graphql(&app, patch, json!({"input": [{"annotationId": second, "name": "a"}]})).await;
    assert_eq!(clash["errors"][0]["extensions"]["code"], "CONFLICT", "{clash}");
}

#[tokio::test]
async fn a_full_ingest_queue_is_a_retryable_503_on_every_http_ingest_route() {
    let app = test_app_with(QueueLimits { max_spans: 1, max_bytes: 1 << 20, max_batch_spans: 10, ..Default::default() }, 1 << 20).await;
    let blocker = app.database.block_writes().await;
    let queued = {
        let router = app.router.clone();
        let body = prost::Message::encode_to_vec(&request(Some("p"), vec![span(1, 1, None, "CHAIN")]));
        tokio::spawn(async move {
            use tower::ServiceExt;
            let request = Request::post("/v1/traces").header("content-type", "application/x-protobuf").body(Body::from(body)).unwrap();
            router.oneshot(request).await.unwrap().status()
        })
    };
    while app.queue.queued_spans() < 1 {
        tokio::task::yield_now().await;
    }
    let otlp = app.export(&request(Some("p"), vec![span(2, 2, None, "CHAIN")])).await;
    let spans = app
        .post_json(
            "/v1/projects/p/spans",
            &json!({"data": [{"name": "s", "context": {"trace_id": trace_id(3), "span_id": span_id(3)}, "span_kind": "CHAIN",
                "start_time": "2024-01-01T00:00:00Z", "end_time": "2024-01-01T00:00:01Z", "status_code": "OK"}]}),
        )
        .await;
    for response in [otlp, spans] {
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE, "{}", response.text());
        assert_eq!(response.headers["retry-after"], "1");
    }
    blocker.release().await;
    assert_eq!(queued.await.unwrap(), StatusCode::OK, "the queued export completes once the database is free");
}

/// D10: every write of the route table, and every form of the web UI, refuses a browser request
/// from another site (403) without touching data; API writes refuse the body types a page can send
/// without a preflight (415).
#[tokio::test]
async fn cross_site_writes_are_refused_on_every_route() {
    let app = test_app().await;
    app.ingest(&request(Some("victim"), vec![span(1, 1, None, "LLM")])).await;
    let project = app.get("/v1/projects/victim").await.json()["data"]["id"].as_str().unwrap().to_string();
    let rowid = ember_core::GlobalId::decode_as(&project, ember_core::GlobalType::Project).unwrap();
    let table = ember_server::app::api_routes(0);
    let api_writes =
        table.routes().iter().filter(|route| route.method != Method::GET).map(|route| (route.path.to_string(), route.method.clone()));
    let form_writes = [
        "/projects",
        "/projects/{id}/delete",
        "/projects/{id}/annotations",
        "/projects/{id}/annotations/delete",
        "/projects/{id}/dataset-examples",
        "/settings/annotation-configs",
        "/settings/annotation-configs/{id}",
        "/settings/annotation-configs/{id}/delete",
    ]
    .map(|path| (path.to_string(), Method::POST));
    let mut checked = 0;
    for (path, method) in api_writes.chain(form_writes) {
        // Every path parameter names the victim project (or anything: the guard runs first).
        let uri = path
            .split('/')
            .map(|segment| if segment.starts_with('{') { rowid.to_string() } else { segment.to_string() })
            .collect::<Vec<_>>()
            .join("/");
        let forged = |extra: (&'static str, &'static str), content_type: &'static str| {
            Request::builder()
                .method(method.clone())
                .uri(&uri)
                .header("host", "127.0.0.1:6006")
                .header("content-type", content_type)
                .header(extra.0, extra.1)
                .body(Body::from(r#"{"span_ids": ["0101010101010101"]}"#))
                .unwrap()
        };
        for extra in [("origin", "http://evil.example"), ("sec-fetch-site", "cross-site"), ("origin", "null")] {
            assert_eq!(
                app.send(forged(extra, "application/x-www-form-urlencoded")).await.status,
                StatusCode::FORBIDDEN,
                "{method} {uri} {extra:?}"
            );
        }
        if uri == "/v1/log" {
            // Arize's curl examples type JSON as a form: only such a request carrying a browser's
            // cookie (and no key) is refused.
            let plain = app.send(forged(("cookie", "phoenix-access-token=t"), "text/plain")).await;
            assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{method} {uri}");
        } else if uri.starts_with("/v1/") || uri == "/graphql" {
            let plain = app.send(forged(("x-requested-by", "test"), "text/plain")).await;
            assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{method} {uri}");
        }
        checked += 1;
    }
    assert!(checked > 40, "{checked} routes checked");
    // Nothing was changed: the project and its span are there.
    assert_eq!(app.get("/v1/projects/victim/spans").await.json()["data"].as_array().unwrap().len(), 1);
    // The server's own pages still write.
    let own = Request::post(format!("/projects/{rowid}/delete"))
        .header("host", "127.0.0.1:6006")
        .header("origin", "http://127.0.0.1:6006")
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(own).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/v1/projects/victim").await.status, StatusCode::NOT_FOUND);
}

/// D22: names and descriptions past the limits of `ember_core::limits` are refused, naming the
/// limit, through ingest and every REST writer; nothing is stored.
#[tokio::test]
async fn names_and_descriptions_past_the_limits_are_refused_everywhere() {
    use ember_core::limits::{MAX_DESCRIPTION_BYTES, MAX_NAME_BYTES};
    use ember_otlp::collector::ExportTraceServiceResponse;
    use prost::Message;

    let app = test_app().await;
    let long_name = "n".repeat(MAX_NAME_BYTES + 1);
    let long_text = "d".repeat(MAX_DESCRIPTION_BYTES + 1);
    let names_the_limit = |response: &TestResponse, what: &str| {
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", response.text());
        assert!(response.text().contains("bytes long; at most"), "{what}: {}", response.text());
    };

    // OTLP: a project named by the resource (or the header) past the limit rejects its spans.
    let response = app.export(&request(Some(&long_name), vec![span(1, 1, None, "CHAIN")])).await;
    assert_eq!(response.status, StatusCode::OK);
    let partial = ExportTraceServiceResponse::decode(&response.body[..]).unwrap().partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(partial.error_message.contains("project name is 1025 bytes long"), "{}", partial.error_message);
    // At the limit, the name is fine.
    app.ingest(&request(Some(&long_name[1..]), vec![span(1, 1, None, "CHAIN")])).await;
    app.ingest(&request(Some("p"), vec![span(2, 2, None, "CHAIN")])).await;

    names_the_limit(&app.post_json("/v1/projects", &json!({"name": long_name})).await, "project name");
    names_the_limit(&app.post_json("/v1/projects", &json!({"name": "q", "description": long_text})).await, "project description");
    names_the_limit(
        &app.post_json(
            "/v1/span_annotations",
            &json!({"data": [{"span_id": span_id(2), "name": long_name, "annotator_kind": "HUMAN", "result": {"label": "x"}}]}),
        )
        .await,
        "annotation name",
    );
    names_the_limit(&app.post_json("/v1/datasets/upload?sync=true", &json!({"name": long_name, "inputs": [{}]})).await, "dataset name");
    names_the_limit(
        &app.post_json("/v1/datasets/upload?sync=true", &json!({"name": "d", "description": long_text, "inputs": [{}]})).await,
        "dataset description",
    );
    let version = json!({
        "model_provider": "OPENAI", "model_name": "gpt-4o-mini",
        "template": {"type": "chat", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
        "template_type": "CHAT", "template_format": "MUSTACHE",
        "invocation_parameters": {"type": "openai", "openai": {}},
    });
    let prompt = app.post_json("/v1/prompts", &json!({"prompt": {"name": "p", "description": long_text}, "version": version})).await;
    names_the_limit(&prompt, "prompt description");

    let projects = app.get("/v1/projects?limit=100").await.json();
    let names: Vec<&str> = projects["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(!names.iter().any(|name| name.len() > MAX_NAME_BYTES) && !names.contains(&"q"), "{names:?}");
    assert_eq!(app.get("/v1/datasets").await.json()["data"], json!([]));
    assert_eq!(app.get("/v1/prompts").await.json()["data"], json!([]));
    assert_eq!(app.get(&format!("/v1/projects/p/span_annotations?span_ids={}", span_id(2))).await.json()["data"], json!([]));
}

/// Malformed and unknown ids on every read path answer as Phoenix 20.26.1 answers them with
/// authentication off (observed with `phoenix serve`, request by request): a GlobalID that is not
/// one is a 422 where Phoenix says so, and a 404 where Phoenix looks names up.
#[tokio::test]
async fn malformed_ids_answer_as_phoenix_does() {
    let app = test_app().await;
    let id = "fake-id-abcd1234";
    let cases = [
        (StatusCode::NOT_FOUND, format!("/v1/projects/{id}")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/datasets/{id}")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/datasets/{id}/versions")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/datasets/{id}/examples")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/datasets/{id}/csv")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/datasets/{id}/jsonl")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/datasets/{id}/jsonl/openai_ft")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/datasets/{id}/jsonl/openai_evals")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/dataset_labels/{id}")),
        (StatusCode::NOT_FOUND, format!("/v1/datasets/{id}/labels")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/experiments/{id}")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/datasets/{id}/experiments")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/experiments/{id}/runs")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/experiments/{id}/incomplete-runs")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/experiments/{id}/incomplete-evaluations")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/experiments/{id}/json")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/experiments/{id}/csv")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/experiments/{id}/tags")),
        (StatusCode::OK, format!("/v1/prompts/{id}/versions")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/prompt_versions/{id}")),
        (StatusCode::NOT_FOUND, format!("/v1/prompts/{id}/tags/test-tag")),
        (StatusCode::NOT_FOUND, format!("/v1/prompts/{id}/latest")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/prompt_versions/{id}/tags")),
        (StatusCode::NOT_FOUND, format!("/v1/annotation_configs/{id}")),
        (StatusCode::NOT_FOUND, format!("/v1/projects/{id}/annotation_configs")),
        (StatusCode::NOT_FOUND, format!("/v1/projects/{id}/spans")),
        (StatusCode::NOT_FOUND, format!("/v1/projects/{id}/spans/otlpv1")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/projects/{id}/span_annotations")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/projects/{id}/trace_annotations")),
        (StatusCode::UNPROCESSABLE_ENTITY, format!("/v1/projects/{id}/session_annotations")),
        (StatusCode::NOT_FOUND, format!("/v1/projects/{id}/sessions")),
        (StatusCode::NOT_FOUND, format!("/v1/sessions/{id}")),
        (StatusCode::NOT_FOUND, format!("/v1/projects/{id}/traces")),
    ];
    for (status, path) in cases {
        let answered = app.get(&path).await;
        assert_eq!(answered.status, status, "GET {path}: {}", answered.text());
    }
    let deleted = app.delete(&format!("/v1/experiments/{id}")).await;
    assert_eq!((deleted.status, deleted.text()), (StatusCode::UNPROCESSABLE_ENTITY, format!("Invalid experiment ID format: {id}")));
    let untyped = app.send(axum::http::Request::post("/v1/datasets/upload").body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!((untyped.status, untyped.text()), (StatusCode::BAD_REQUEST, "Missing content-type header".to_string()));
}
