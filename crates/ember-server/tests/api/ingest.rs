//! OTLP/HTTP ingest through the router: formats, encodings, routing and every error status.

use std::io::Write;

use crate::common::{test_app, test_app_with};
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use ember_otlp::collector::ExportTraceServiceResponse;
use ember_otlp::fixtures::{request, span, span_id, trace_id, with_error};
use ember_store::QueueLimits;
use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use prost::Message;
use serde_json::json;

fn protobuf_post() -> axum::http::request::Builder {
    Request::post("/v1/traces").header("content-type", "application/x-protobuf")
}

#[tokio::test]
async fn protobuf_export_is_committed_and_readable_with_phoenix_shapes() {
    let app = test_app().await;
    let export = request(Some("rag"), vec![span(1, 1, None, "CHAIN"), with_error(span(1, 2, Some(1), "LLM"), "boom")]);
    let response = app.export(&export).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.content_type(), "application/x-protobuf");
    let decoded = ExportTraceServiceResponse::decode(&response.body[..]).unwrap();
    assert!(decoded.partial_success.is_none());

    let spans = app.get("/v1/projects/rag/spans?span_kind=llm").await.json();
    let llm = &spans["data"][0];
    assert_eq!(spans["data"].as_array().unwrap().len(), 1);
    assert_eq!(llm["context"], json!({"trace_id": trace_id(1), "span_id": span_id(2)}));
    assert_eq!(llm["parent_id"], json!(span_id(1)));
    assert_eq!(llm["span_kind"], "LLM");
    assert_eq!(llm["status_code"], "ERROR");
    assert_eq!(llm["status_message"], "boom");
    assert_eq!(llm["attributes"], json!({"input.value": "question 2"}), "span kind is surfaced, not kept in attributes");
    assert_eq!(llm["events"][0]["name"], "exception");
    assert_eq!(llm["events"][0]["attributes"]["exception.type"], "ValueError");
    assert_eq!(llm["start_time"], "2024-01-01T00:00:02+00:00".replace("+00:00", ".000000+00:00"));
}

#[tokio::test]
async fn json_export_gzip_and_deflate_are_accepted() {
    let app = test_app().await;
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": trace_id(7), "spanId": span_id(7), "name": "json-span",
        "startTimeUnixNano": "1704067200000000000", "endTimeUnixNano": "1704067201000000000",
        "attributes": [{"key": "metadata", "value": {"stringValue": "{\"tier\": \"gold\"}"}}]}]}]}]});
    let response = app.post_json("/v1/traces", &body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({}));

    let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
    gzip.write_all(&request(None, vec![span(8, 8, None, "TOOL")]).encode_to_vec()).unwrap();
    let response = app.send(protobuf_post().header("content-encoding", "gzip").body(Body::from(gzip.finish().unwrap())).unwrap()).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());

    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::fast());
    zlib.write_all(&request(None, vec![span(9, 9, None, "TOOL")]).encode_to_vec()).unwrap();
    let response = app.send(protobuf_post().header("content-encoding", "deflate").body(Body::from(zlib.finish().unwrap())).unwrap()).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());

    let spans = app.get("/v1/projects/default/spans").await.json();
    assert_eq!(spans["data"].as_array().unwrap().len(), 3);
    let json_span = app.get(&format!("/v1/projects/default/spans?span_id={}", span_id(7))).await.json();
    assert_eq!(json_span["data"][0]["attributes"], json!({"metadata.tier": "gold"}), "JSON-string metadata is parsed and flattened");
}

#[tokio::test]
async fn bad_requests_get_phoenix_status_codes_and_store_nothing() {
    let app = test_app_with(QueueLimits::default(), 4096).await;
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            Request::post("/v1/traces").header("content-type", "text/plain").body(Body::from("x")).unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content type",
        ),
        (Request::post("/v1/traces").body(Body::from("x")).unwrap(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "content type"),
        (
            protobuf_post().header("content-encoding", "br").body(Body::from("x")).unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Encoding",
        ),
        (protobuf_post().body(Body::from(vec![0xff, 0xff, 0xff])).unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "protobuf"),
        (
            Request::post("/v1/traces").header("content-type", "application/json").body(Body::from("{nope")).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "OTLP/JSON",
        ),
        (protobuf_post().header("content-encoding", "gzip").body(Body::from("not gzip")).unwrap(), StatusCode::BAD_REQUEST, "gzip"),
    ];
    for (request, expected, needle) in cases {
        let response = app.send(request).await;
        assert_eq!(response.status, expected, "{}", response.text());
        assert!(response.text().contains(needle), "message {:?} should mention {needle:?}", response.text());
        assert!(response.content_type().starts_with("text/plain"));
    }
    // 4 KiB cap after decompression: a 1 MiB gzip bomb is refused.
    let mut bomb = GzEncoder::new(Vec::new(), Compression::best());
    bomb.write_all(&vec![0u8; 1 << 20]).unwrap();
    let response = app.send(protobuf_post().header("content-encoding", "gzip").body(Body::from(bomb.finish().unwrap())).unwrap()).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", response.text());
    assert!(app.get("/v1/projects/default/spans").await.json()["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn invalid_spans_are_reported_as_partial_success() {
    let app = test_app().await;
    let mut bad = span(1, 2, None, "LLM");
    bad.span_id = vec![1, 2, 3];
    let response = app.export(&request(None, vec![span(1, 1, None, "CHAIN"), bad])).await;
    assert_eq!(response.status, StatusCode::OK);
    let partial = ExportTraceServiceResponse::decode(&response.body[..]).unwrap().partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(partial.error_message.contains("span_id must be 8 bytes"), "{}", partial.error_message);
    assert_eq!(app.get("/v1/projects/default/spans").await.json()["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn project_header_beats_resource_attribute_and_traces_keep_their_project() {
    let app = test_app().await;
    let export = request(Some("from-resource"), vec![span(1, 1, None, "CHAIN")]);
    let response =
        app.send(protobuf_post().header("x-project-name", "from-header").body(Body::from(export.encode_to_vec())).unwrap()).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(app.get("/v1/projects/from-header/spans").await.json()["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/v1/projects/from-resource").await.status, StatusCode::NOT_FOUND);
    // A later span of the same trace sent to another project joins the trace's project.
    app.ingest(&request(Some("elsewhere"), vec![span(1, 2, Some(1), "LLM")])).await;
    assert_eq!(app.get("/v1/projects/from-header/spans").await.json()["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn oversized_batches_are_refused_and_a_full_queue_answers_503() {
    let app = test_app_with(QueueLimits { max_spans: 2, max_bytes: 1 << 20, max_batch_spans: 10, ..Default::default() }, 1 << 20).await;
    let three: Vec<_> = (1..=3).map(|id| span(1, id, None, "CHAIN")).collect();
    let response = app.export(&request(None, three)).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", response.text());
    assert!(response.text().contains("send smaller batches"));

    // Hold the database's write lock from another connection so the writer cannot commit.
    let blocker = app.database.block_writes().await;
    let waiting = {
        let router = app.router.clone();
        let body = request(None, vec![span(2, 1, None, "CHAIN"), span(2, 2, Some(1), "LLM")]).encode_to_vec();
        tokio::spawn(
            async move { tower::ServiceExt::oneshot(router, protobuf_post().body(Body::from(body)).unwrap()).await.unwrap().status() },
        )
    };
    // The two queued spans fill the queue; wait until the queue holds them.
    while app.queue.queued_spans() < 2 {
        tokio::task::yield_now().await;
    }
    let full = app.export(&request(None, vec![span(3, 1, None, "CHAIN")])).await;
    assert_eq!(full.status, StatusCode::SERVICE_UNAVAILABLE, "{}", full.text());
    assert!(full.text().contains("capacity"));
    assert_eq!(full.headers.get("retry-after").unwrap(), "1");
    blocker.release().await;
    assert_eq!(waiting.await.unwrap(), StatusCode::OK, "the queued request completes once the database is free");
}

/// D4: a span whose attributes could not be read back (22 MiB of control characters is 132 MiB
/// of JSON) is refused in partial_success, not stored; and a stored value that cannot be decoded
/// (damaged) no longer fails its project's reads or the delete of its span.
#[tokio::test]
async fn spans_that_could_not_be_read_back_are_refused_and_reads_survive_damaged_values() {
    let app = test_app_with(QueueLimits::default(), 64 << 20).await;
    let mut poison = span(1, 2, None, "LLM");
    poison.attributes.push(ember_otlp::fixtures::string_attribute("output.value", &"\u{1}".repeat(22 << 20)));
    let response = app.export(&request(None, vec![span(1, 1, None, "CHAIN"), poison])).await;
    assert_eq!(response.status, StatusCode::OK);
    let partial = ExportTraceServiceResponse::decode(&response.body[..]).unwrap().partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(partial.error_message.contains("bytes as JSON; at most 134217728 are stored"), "{}", partial.error_message);

    let spans = app.get("/v1/projects/default/spans").await;
    assert_eq!(spans.status, StatusCode::OK);
    assert_eq!(spans.json()["data"].as_array().unwrap().len(), 1);

    let span_id = span_id(1);
    if !app.store.damage_span_attributes(&span_id).await.unwrap() {
        return; // PostgreSQL's JSONB cannot hold an undecodable value.
    }
    let listed = app.get("/v1/projects/default/spans").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    assert!(listed.json()["data"][0]["attributes"]["ember.unreadable_attributes"].as_str().unwrap().contains("unreadable"));
    for uri in ["/v1/projects/default/spans?filter_condition=%27x%27%20in%20input.value", "/v1/projects/default/spans/otlpv1"] {
        assert_eq!(app.get(uri).await.status, StatusCode::OK, "{uri}");
    }
    let queried = app.query_spans("/v1/spans?project_name=default", &json!({"queries": [{}]})).await;
    assert_eq!(queried.status, StatusCode::OK, "{}", queried.text());
    assert_eq!(app.delete(&format!("/v1/spans/{span_id}")).await.status, StatusCode::NO_CONTENT);
    assert!(app.get("/v1/projects/default/spans").await.json()["data"].as_array().unwrap().is_empty());
}

/// NUL characters in names, keys and values are stored and read back: as given on SQLite, as
/// U+FFFD on PostgreSQL (whose text and JSONB cannot hold U+0000).
#[tokio::test]
async fn nul_characters_round_trip() {
    let app = test_app().await;
    let mut with_nul = span(1, 1, None, "LLM");
    with_nul.name = "a\u{0}b".into();
    with_nul.attributes.push(ember_otlp::fixtures::string_attribute("metadata.k\u{0}ey", "v\u{0}alue"));
    with_nul.attributes.push(ember_otlp::fixtures::string_attribute("output.value", "x\u{0}y"));
    let response = app.export(&request(None, vec![with_nul])).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(ExportTraceServiceResponse::decode(&response.body[..]).unwrap().partial_success.is_none());
    let nul = if app.store.backend_name() == "sqlite" { "\u{0}" } else { "\u{FFFD}" };
    let listed = app.get("/v1/projects/default/spans").await.json();
    let stored = &listed["data"][0];
    assert_eq!((&stored["name"], &stored["attributes"]["output.value"]), (&json!(format!("a{nul}b")), &json!(format!("x{nul}y"))));
    assert_eq!(stored["attributes"][format!("metadata.k{nul}ey")], format!("v{nul}alue"));
}

/// D15: a span whose id is stored, sent again under a new trace, session and project, creates
/// none of them; deleting the last span of a session's only trace deletes the session too.
#[tokio::test]
async fn duplicate_span_ids_create_no_phantom_traces_and_empty_sessions_go() {
    use ember_otlp::fixtures::{string_attribute, with_attributes};
    let app = test_app().await;
    let in_session = |trace: u8, session: &str| with_attributes(span(trace, 1, None, "LLM"), vec![string_attribute("session.id", session)]);
    app.ingest(&request(Some("first"), vec![in_session(1, "s-1")])).await;
    app.ingest(&request(Some("phantom"), vec![in_session(2, "s-2")])).await;
    assert_eq!(app.get("/v1/projects/phantom").await.status, StatusCode::NOT_FOUND, "no project for a duplicate");
    assert!(app.store.get_trace(None, Some(&trace_id(2))).await.unwrap().is_none(), "no trace for a duplicate");
    let sessions = app.get("/v1/projects/first/sessions").await.json();
    assert_eq!(sessions["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/v1/sessions/s-2").await.status, StatusCode::NOT_FOUND);

    assert_eq!(app.delete(&format!("/v1/spans/{}", span_id(1))).await.status, StatusCode::NO_CONTENT);
    assert!(app.get("/v1/projects/first/sessions").await.json()["data"].as_array().unwrap().is_empty(), "the empty session is gone");
    assert_eq!(app.get("/v1/sessions/s-1").await.status, StatusCode::NOT_FOUND);
}

/// D12: request bodies in flight share one budget. A body of unknown length holds the largest
/// body's worth while it arrives; a request that does not fit then is answered 503 with
/// `Retry-After` (so is a compressed body, which needs room to decompress), and once the first
/// request is done the budget is whole again.
#[tokio::test]
async fn request_bodies_in_flight_share_one_budget() {
    let max_body = 2 << 20;
    let app = crate::common::test_app_with_body_budget(max_body, 3 << 20).await;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let streaming = protobuf_post().body(Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver))).unwrap();
    let router = app.router.clone();
    let in_flight = tokio::spawn(async move { tower::ServiceExt::oneshot(router, streaming).await.unwrap().status() });
    sender.send(Ok(Bytes::from_static(b"\x0a"))).await.unwrap();
    while app.body_budget.available_bytes() == 3 << 20 {
        tokio::task::yield_now().await;
    }
    assert_eq!(app.body_budget.available_bytes(), 1 << 20, "a body of unknown length holds the largest body's worth");

    // 1.5 MiB of garbage: a 422 when admitted, a 503 while the streaming body holds 2 of 3 MiB.
    let garbage = || protobuf_post().body(Body::from(vec![0xffu8; 3 << 19])).unwrap();
    let refused = app.send(garbage()).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text());
    assert_eq!(refused.headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
    assert!(refused.text().contains("budget of 3145728 bytes"), "{}", refused.text());
    // A small gzip body is admitted, but cannot reserve room to decompress into.
    let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
    gzip.write_all(&request(None, vec![span(1, 1, None, "CHAIN")]).encode_to_vec()).unwrap();
    let gzip = gzip.finish().unwrap();
    let compressed = || protobuf_post().header("content-encoding", "gzip").body(Body::from(gzip.clone())).unwrap();
    assert_eq!(app.send(compressed()).await.status, StatusCode::SERVICE_UNAVAILABLE);

    drop(sender);
    assert_eq!(in_flight.await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY, "the streamed body was not a valid request");
    assert_eq!(app.body_budget.available_bytes(), 3 << 20, "the budget is whole again");
    assert_eq!(app.send(garbage()).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.send(compressed()).await.status, StatusCode::OK);
    assert_eq!(app.get("/v1/projects/default/spans").await.json()["data"].as_array().unwrap().len(), 1);
}
