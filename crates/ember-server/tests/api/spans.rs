//! `/v1/projects/{p}/spans` (list, OTLP list, create), `/v1/spans/{id}` and `POST /v1/spans`.

use crate::common::{test_app, TestApp};
use axum::http::StatusCode;
use ember_otlp::fixtures::{int_attribute, request, span, span_id, string_attribute, trace_id, with_attributes, with_error};
use serde_json::json;

/// Two traces in project `p`: trace 1 = chain(1) <- llm(2, error) <- tool(3); trace 2 = chain(4).
async fn seeded() -> TestApp {
    let app = test_app().await;
    let llm = with_attributes(
        with_error(span(1, 2, Some(1), "LLM"), "boom"),
        vec![
            int_attribute("llm.token_count.prompt", 30),
            int_attribute("llm.token_count.completion", 12),
            string_attribute("metadata", r#"{"tier": "gold", "n": 3}"#),
        ],
    );
    app.ingest(&request(Some("p"), vec![span(1, 3, Some(2), "TOOL"), llm, span(1, 1, None, "CHAIN"), span(2, 4, None, "CHAIN")])).await;
    app
}

fn names(response: &serde_json::Value) -> Vec<String> {
    response["data"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn span_list_filters_and_paginates() {
    let app = seeded().await;
    assert_eq!(names(&app.get("/v1/projects/p/spans").await.json()), vec!["CHAIN-4", "CHAIN-1", "LLM-2", "TOOL-3"], "newest row first");
    assert_eq!(names(&app.get("/v1/projects/p/spans?parent_id=null").await.json()), vec!["CHAIN-4", "CHAIN-1"]);
    assert_eq!(names(&app.get(&format!("/v1/projects/p/spans?parent_id={}", span_id(2))).await.json()), vec!["TOOL-3"]);
    assert_eq!(
        names(&app.get(&format!("/v1/projects/p/spans?trace_id={}&trace_id={}", trace_id(2), trace_id(9))).await.json()),
        vec!["CHAIN-4"]
    );
    assert_eq!(names(&app.get("/v1/projects/p/spans?span_kind=LLM&span_kind=tool").await.json()), vec!["LLM-2", "TOOL-3"]);
    assert_eq!(names(&app.get("/v1/projects/p/spans?status_code=ERROR").await.json()), vec!["LLM-2"]);
    assert_eq!(names(&app.get("/v1/projects/p/spans?name=TOOL-3").await.json()), vec!["TOOL-3"]);
    assert_eq!(names(&app.get("/v1/projects/p/spans?attribute=metadata.tier:gold").await.json()), vec!["LLM-2"]);
    assert_eq!(names(&app.get("/v1/projects/p/spans?attribute=metadata.n:3").await.json()), vec!["LLM-2"]);
    assert!(
        names(&app.get("/v1/projects/p/spans?attribute=metadata.n:%223%22").await.json()).is_empty(),
        "a quoted value matches strings only"
    );
    // Spans 1..4 start at 1..4 s past 2024-01-01.
    let window = app.get("/v1/projects/p/spans?start_time=2024-01-01T00:00:02Z&end_time=2024-01-01T00:00:04%2B00:00").await.json();
    assert_eq!(names(&window), vec!["LLM-2", "TOOL-3"]);

    let first = app.get("/v1/projects/p/spans?limit=3").await.json();
    assert_eq!(first["data"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/v1/projects/p/spans?limit=3&cursor={cursor}")).await.json();
    assert_eq!(names(&second), vec!["TOOL-3"]);
    assert_eq!(second["next_cursor"], json!(null));

    let llm = &app.get("/v1/projects/p/spans?span_kind=LLM").await.json()["data"][0];
    assert_eq!(llm["attributes"]["llm.token_count.prompt"], 30);
    assert_eq!(llm["attributes"]["metadata.tier"], "gold");
}

#[tokio::test]
async fn span_list_errors() {
    let app = seeded().await;
    let cases = [
        ("/v1/projects/nope/spans", StatusCode::NOT_FOUND, "Project not found"),
        ("/v1/projects/p/spans?limit=1001", StatusCode::UNPROCESSABLE_ENTITY, "less than or equal to 1000"),
        ("/v1/projects/p/spans?cursor=bad", StatusCode::UNPROCESSABLE_ENTITY, "Invalid cursor"),
        ("/v1/projects/p/spans?start_time=yesterday", StatusCode::UNPROCESSABLE_ENTITY, "valid datetime"),
        ("/v1/projects/p/spans?attribute=novalue", StatusCode::UNPROCESSABLE_ENTITY, "key:value"),
    ];
    for (uri, status, needle) in cases {
        let response = app.get(uri).await;
        assert_eq!(response.status, status, "{uri}: {}", response.text());
        assert!(response.text().contains(needle), "{uri}: {}", response.text());
    }
    // A Trace id is not a Span cursor.
    let trace_cursor = ember_core::GlobalId::encode(ember_core::GlobalType::Trace, 1);
    assert_eq!(app.get(&format!("/v1/projects/p/spans?cursor={trace_cursor}")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn otlp_list_returns_otlp_json() {
    let app = seeded().await;
    let response = app.get("/v1/projects/p/spans/otlpv1?status_code=ERROR").await.json();
    let otlp = &response["data"][0];
    assert_eq!(otlp["span_id"], span_id(2));
    assert_eq!(otlp["parent_span_id"], span_id(1));
    assert_eq!(otlp["status"], json!({"code": 2, "message": "boom"}));
    let attributes = otlp["attributes"].as_array().unwrap();
    assert!(attributes.contains(&json!({"key": "llm.token_count.prompt", "value": {"int_value": 30}})), "{attributes:?}");
    assert!(attributes.contains(&json!({"key": "openinference.span.kind", "value": {"string_value": "LLM"}})));
    assert_eq!(otlp["start_time_unix_nano"], 1_704_067_202_000_000_000i64);
}

#[tokio::test]
async fn deleting_spans_by_global_id_or_span_id() {
    let app = seeded().await;
    let listed = app.get(&format!("/v1/projects/p/spans?span_id={}", span_id(3))).await.json();
    let global_id = listed["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(app.delete(&format!("/v1/spans/{global_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&format!("/v1/spans/{}", span_id(2))).await.status, StatusCode::NO_CONTENT);
    let missing = app.delete(&format!("/v1/spans/{}", span_id(2))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("Span not found"));
    let root = app.store.get_span(None, Some(&span_id(1))).await.unwrap().unwrap();
    assert_eq!(
        (root.cumulative_error_count, root.cumulative_llm_token_count_prompt),
        (0, 0),
        "ancestors no longer count the deleted span's subtree"
    );
}

#[tokio::test]
async fn creating_spans_is_all_or_nothing() {
    let app = seeded().await;
    let new_span = |span_id: &str| {
        json!({
            "name": "created", "context": {"trace_id": "abc123", "span_id": span_id}, "span_kind": "llm",
            "start_time": "2024-02-01T00:00:00Z", "end_time": "2024-02-01T00:00:01Z", "status_code": "OK",
            "attributes": {"llm.token_count.prompt": 5, "metadata": "{\"k\": 1}"},
            "events": [{"name": "note", "timestamp": "2024-02-01T00:00:00.5Z", "attributes": {"a": 1}}]
        })
    };
    let accepted = app.post_json("/v1/projects/p/spans", &json!({"data": [new_span("s1"), new_span("s2")]})).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text());
    assert_eq!(accepted.json(), json!({"total_received": 2, "total_queued": 2}));
    let stored = &app.get("/v1/projects/p/spans?span_id=s1").await.json()["data"][0];
    assert_eq!(stored["span_kind"], "LLM");
    assert_eq!(stored["attributes"], json!({"llm.token_count.prompt": 5, "metadata.k": 1}));
    assert_eq!(stored["events"][0]["timestamp"], "2024-02-01T00:00:00.500000+00:00");

    let mut invalid = new_span("s4");
    invalid["end_time"] = json!("not a time");
    let refused = app.post_json("/v1/projects/p/spans", &json!({"data": [new_span("s1"), new_span("s3"), invalid]})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let detail = refused.json();
    assert_eq!(detail["total_duplicates"], 1);
    assert_eq!(detail["duplicate_spans"][0]["span_id"], "s1");
    assert_eq!(detail["invalid_spans"][0]["span_id"], "s4");
    assert!(detail["invalid_spans"][0]["error"].as_str().unwrap().contains("end_time"));
    assert!(app.store.get_span(None, Some("s3")).await.unwrap().is_none(), "nothing from a refused request is stored");

    // Times without a timezone are refused, in Phoenix's words (spans' and events' alike).
    let naive_message =
        |field: &str| format!("{field}: timezone-naive timestamp is not allowed; all timestamps must be timezone-aware (e.g., use UTC).");
    let mut naive = new_span("s6");
    naive["start_time"] = json!("2024-02-01T00:00:00");
    let mut naive_event = new_span("s7");
    naive_event["events"][0]["timestamp"] = json!("2024-02-01 00:00:00.5");
    let refused = app.post_json("/v1/projects/p/spans", &json!({"data": [naive, naive_event]})).await.json();
    let errors: Vec<&str> = refused["invalid_spans"].as_array().unwrap().iter().map(|span| span["error"].as_str().unwrap()).collect();
    assert_eq!(errors, [naive_message("start_time"), naive_message("timestamp")]);

    let mut deep = new_span("s5");
    deep["attributes"] = json!({"metadata": format!("{}1{}", "[".repeat(100), "]".repeat(100))});
    let too_deep = app.post_json("/v1/projects/p/spans", &json!({"data": [deep]})).await;
    assert_eq!(too_deep.status, StatusCode::BAD_REQUEST);
    assert!(too_deep.json()["invalid_spans"][0]["error"].as_str().unwrap().contains("levels deep"));

    // D3: a span with more attributes than the cap is refused by name, before it is unflattened.
    let mut wide = new_span("s6");
    wide["attributes"] = serde_json::Value::Object((0..=10_000).map(|i| (format!("k{i}"), json!(1))).collect());
    let too_wide = app.post_json("/v1/projects/p/spans", &json!({"data": [wide]})).await;
    assert_eq!(too_wide.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_wide.json()["invalid_spans"][0]["error"], "it has 10001 attributes; at most 10000 are accepted");

    let malformed = app.post_json("/v1/projects/p/spans", &json!({"data": [{"name": "x"}]})).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let location = malformed.json()["detail"][0]["loc"].clone();
    assert_eq!(location.as_array().unwrap()[..3], [json!("body"), json!("data"), json!(0)]);
    let unknown = app
        .post_json(
            &format!("/v1/projects/{}/spans", ember_core::GlobalId::encode(ember_core::GlobalType::Project, 99)),
            &json!({"data": []}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

fn multipart_json(response: &crate::common::TestResponse) -> Vec<serde_json::Value> {
    let content_type = response.content_type().to_string();
    let boundary = content_type.split("boundary=").nth(1).expect("multipart boundary");
    let text = response.text();
    assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    text.split(&format!("--{boundary}"))
        .filter(|part| part.contains("Content-Type: application/json"))
        .map(|part| serde_json::from_str(part.split("\r\n\r\n").nth(1).unwrap().trim()).unwrap())
        .collect()
}

#[tokio::test]
async fn span_query_returns_table_schema_frames() {
    let app = seeded().await;
    let response = app.query_spans("/v1/spans?project_name=p", &json!({"queries": [{}], "limit": 10, "root_spans_only": true})).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert!(response.content_type().starts_with("multipart/mixed; boundary="));
    let frames = multipart_json(&response);
    let frame = &frames[0];
    assert_eq!(frame["schema"]["primaryKey"], json!(["0_context.span_id"]));
    let fields: Vec<&str> = frame["schema"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(&fields[..4], &["0_context.span_id", "1_name", "2_span_kind", "3_parent_id"]);
    // Attribute columns follow the stored key order, which JSONB (PostgreSQL) normalises.
    let mut attribute_columns: Vec<&str> = fields[11..].iter().map(|f| f.split_once('_').unwrap().1).collect();
    attribute_columns.sort();
    assert_eq!(attribute_columns, ["attributes.input.value", "attributes.openinference.span.kind"], "{fields:?}");
    assert_eq!(frame["schema"]["fields"][4], json!({"name": "4_start_time", "type": "datetime", "tz": "UTC"}));
    let rows = frame["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "root spans only");
    assert_eq!(rows[0]["1_name"], "CHAIN-4", "latest start first");

    let all = multipart_json(&app.query_spans("/v1/spans", &json!({"queries": [{}], "project_name": "p", "limit": 2})).await);
    assert_eq!(all[0]["data"].as_array().unwrap().len(), 2);
    let llm_row = multipart_json(
        &app.query_spans(
            "/v1/spans?project_name=p",
            &json!({"queries": [{}], "start_time": "2024-01-01T00:00:02Z", "end_time": "2024-01-01T00:00:03Z"}),
        )
        .await,
    );
    let row = &llm_row[0]["data"][0];
    let column = |suffix: &str| {
        let field =
            llm_row[0]["schema"]["fields"].as_array().unwrap().iter().find(|f| f["name"].as_str().unwrap().ends_with(suffix)).cloned();
        row[field.unwrap_or_else(|| panic!("no {suffix} column"))["name"].as_str().unwrap()].clone()
    };
    assert_eq!(column("_attributes.input.value"), "question 2");
    assert_eq!(column("_attributes.llm.token_count.prompt"), 30, "semantic-convention paths become columns");
    assert_eq!(column("_attributes.metadata"), json!({"tier": "gold", "n": 3}), "metadata stays one dict-valued column");

    let selected = multipart_json(
        &app.query_spans("/v1/spans?project_name=p", &json!({"queries": [{"select": {"name": {"key": "name"}, "prompt": {"key": "llm.token_count.prompt"}}, "rename": {"name": "span_name"}, "index": {"key": "trace_id"}}]})).await,
    );
    let fields: Vec<&str> = selected[0]["schema"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["0_context.trace_id", "1_span_name", "2_prompt"]);

    let empty = multipart_json(&app.query_spans("/v1/spans?project_name=absent", &json!({"queries": [{}]})).await);
    assert!(empty[0]["data"].as_array().unwrap().is_empty());

    let filtered = multipart_json(
        &app.query_spans("/v1/spans?project_name=p", &json!({"queries": [{"filter": {"condition": "span_kind == 'llm'"}}]})).await,
    );
    let rows = filtered[0]["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["1_name"], "LLM-2");
    let bad = app.query_spans("/v1/spans?project_name=p", &json!({"queries": [{}, {"filter": {"condition": "span_kind == 1"}}]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.text(), "Invalid query: cannot compare text with a number at column 1");
    assert_eq!(app.query_spans("/v1/spans", &json!({"queries": []})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.query_spans("/v1/spans", &json!({"queries": [{}], "start_time": "later"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

/// Phoenix 20.26.1's frames hold list attributes as lists of flattened dicts (observed with
/// `phoenix serve`): client code reads `messages[0]["message.content"]`.
#[tokio::test]
async fn span_query_frames_hold_list_elements_flattened_as_phoenix_does() {
    let app = test_app().await;
    let llm = with_attributes(
        span(1, 1, None, "LLM"),
        vec![
            string_attribute("llm.input_messages.0.message.role", "user"),
            string_attribute("llm.input_messages.0.message.content", "hi"),
            string_attribute("llm.input_messages.1.message.role", "assistant"),
            string_attribute("llm.input_messages.1.message.tool_calls.0.tool_call.function.name", "f"),
            string_attribute("llm.input_messages.1.message.tool_calls.0.tool_call.function.arguments", r#"{"x": 1}"#),
            string_attribute("llm.input_messages.1.message.contents.0.message_content.type", "text"),
            string_attribute("retrieval.documents.0.document.content", "c1"),
            string_attribute("retrieval.documents.0.document.metadata", r#"{"a": {"b": 1}}"#),
            string_attribute("llm.input_messages.0.message.custom.x", "kept nested"),
            string_attribute("llm.input_messages.1.message.contents.1.message_content.image.image.url", "http://img"),
        ],
    );
    app.ingest(&request(Some("p"), vec![llm])).await;
    // Keys outside the conventions stay nested (`message` → `custom`), as on Phoenix.
    let expected_messages = json!([
        {"message.role": "user", "message.content": "hi", "message": {"custom": {"x": "kept nested"}}},
        {
            "message.role": "assistant",
            "message.tool_calls": [{"tool_call.function.name": "f", "tool_call.function.arguments": "{\"x\": 1}"}],
            "message.contents": [{"message_content.type": "text"}, {"message_content.image": {"image.url": "http://img"}}],
        },
    ]);
    let expected_documents = json!([{"document.content": "c1", "document.metadata": {"a": {"b": 1}}}]);

    let full = multipart_json(&app.query_spans("/v1/spans?project_name=p", &json!({"queries": [{}]})).await);
    let cell = |suffix: &str| {
        let field = full[0]["schema"]["fields"].as_array().unwrap().iter().find(|f| f["name"].as_str().unwrap().ends_with(suffix)).cloned();
        full[0]["data"][0][field.unwrap_or_else(|| panic!("no {suffix} column"))["name"].as_str().unwrap()].clone()
    };
    assert_eq!(cell("_attributes.llm.input_messages"), expected_messages);
    assert_eq!(cell("_attributes.retrieval.documents"), expected_documents, "document.metadata is a convention key: one dict");

    let query = json!({"queries": [{"select": {"messages": {"key": "llm.input_messages"}}}]});
    let selected = multipart_json(&app.query_spans("/v1/spans?project_name=p", &query).await);
    assert_eq!(selected[0]["data"][0]["1_messages"], expected_messages);

    let query = json!({"queries": [{"explode": {"key": "llm.input_messages"}}]});
    let exploded = multipart_json(&app.query_spans("/v1/spans?project_name=p", &query).await);
    let tool_calls = exploded[0]["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"].as_str().unwrap().ends_with("_message.tool_calls"))
        .cloned()
        .unwrap();
    assert_eq!(exploded[0]["data"][1][tool_calls["name"].as_str().unwrap()], expected_messages[1]["message.tool_calls"]);
}

#[tokio::test]
async fn span_query_answers_arrow_streams_without_a_json_accept() {
    use arrow_array::{Array, Int64Array, StringArray};

    let app = seeded().await;
    let body = json!({"queries": [{}, {"select": {"name": {"key": "name"}}}]});
    let response = app.post_json("/v1/spans?project_name=p", &body).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.content_type(), "application/x-pandas-arrow");

    let mut cursor = std::io::Cursor::new(response.body.to_vec());
    let mut streams = Vec::new();
    while (cursor.position() as usize) < response.body.len() {
        let reader = arrow_ipc::reader::StreamReader::try_new(&mut cursor, None).expect("an Arrow IPC stream");
        let schema = reader.schema();
        let batches: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
        streams.push((schema, batches));
    }
    assert_eq!(streams.len(), 2, "one stream per query");
    let (schema, batches) = &streams[0];
    let pandas: serde_json::Value = serde_json::from_str(&schema.metadata()["pandas"]).unwrap();
    assert_eq!(pandas["index_columns"], json!(["__index_level_0__"]), "the span-id index collides with the data column of that name");
    assert_eq!(pandas["columns"].as_array().unwrap().last().unwrap()["name"], "context.span_id");
    let batch = &batches[0];
    assert_eq!(batch.num_rows(), 4);
    let names = batch.column_by_name("name").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(names.value(0), "CHAIN-4");
    let prompt = batch.column_by_name("attributes.llm.token_count.prompt").unwrap().as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(prompt.iter().flatten().collect::<Vec<_>>(), vec![30]);
    assert!(batch.column_by_name("start_time").unwrap().data_type().to_string().starts_with("Timestamp(ns"));
    let (schema, _) = &streams[1];
    assert_eq!(schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>(), vec!["name", "context.span_id"]);
}

/// D5: reads are bounded — a span query request holds at most 10 queries, and a page whose spans
/// would decode past the read budget is a 422 asking for fewer (one span alone always reads).
#[tokio::test]
async fn reads_are_bounded_in_queries_and_decoded_bytes() {
    let app = crate::common::test_app_with_store(|store| store.with_max_read_json_bytes(64 << 10)).await;
    let big = |id: u8| {
        ember_otlp::fixtures::with_attributes(
            ember_otlp::fixtures::span(id, id, None, "LLM"),
            vec![ember_otlp::fixtures::string_attribute("output.value", &"y".repeat(40 << 10))],
        )
    };
    app.ingest(&ember_otlp::fixtures::request(Some("big"), vec![big(1), big(2), big(3)])).await;

    let many = app.query_spans("/v1/spans?project_name=big", &json!({"queries": vec![json!({}); 3000]})).await;
    assert_eq!(many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(many.text().contains("3000 span queries were given; at most 10"), "{}", many.text());

    for uri in ["/v1/projects/big/spans", "/v1/projects/big/spans/otlpv1", "/v1/projects/big/traces?include_spans=true"] {
        let response = app.get(uri).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert!(response.text().contains("bytes as JSON; ask for fewer"), "{uri}: {}", response.text());
    }
    let queried = app.query_spans("/v1/spans?project_name=big", &json!({"queries": [{}]})).await;
    assert_eq!(queried.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Fewer at a time read fine, and the cursor walks them all.
    let first = app.get("/v1/projects/big/spans?limit=1").await.json();
    assert_eq!(first["data"].as_array().unwrap().len(), 1);
    let second = app.get(&format!("/v1/projects/big/spans?limit=1&cursor={}", first["next_cursor"].as_str().unwrap())).await.json();
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_ne!(first["data"][0]["context"]["span_id"], second["data"][0]["context"]["span_id"]);
}
