//! The playground: `PUT /v1/secrets` and `POST /v1/chat/completions` forwarded over real HTTP
//! to a local stub of the OpenAI and Anthropic APIs, streaming and not, with the forwarded
//! request, the answer and the LLM span in the `playground` project checked.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use ember_service::ProviderSettings;
use ember_service::SecretBox;
use ember_store::SecretChange;
use serde_json::{json, Value};

use crate::common::{test_app_with_providers, TestApp};

/// What the stub received: the path, the credential header and the JSON body.
type Received = Arc<Mutex<Vec<(String, String, Value)>>>;

fn sse(events: &[Value]) -> Response {
    let mut text: String = events.iter().map(|event| format!("data: {event}\n\n")).collect();
    text.push_str("data: [DONE]\n\n");
    ([("content-type", "text/event-stream")], text).into_response()
}

async fn openai(State(received): State<Received>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    received.lock().unwrap().push(("/v1/chat/completions".into(), auth, body.clone()));
    if body["model"] == "chatty" {
        // An answer far longer than any test's cap, whole or streamed.
        let long = "x".repeat(1 << 20);
        if body["stream"] == json!(true) {
            let chunk = json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": long}, "finish_reason": null}]});
            return sse(&[chunk.clone(), chunk]);
        }
        return Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": long}, "finish_reason": "stop"}]}))
            .into_response();
    }
    if body.get("tools").is_some() {
        // The model asks for the first tool, its arguments in two pieces when streamed.
        let name = body["tools"][0]["function"]["name"].clone();
        if body["stream"] == json!(true) {
            let call =
                |call: Value, finish: Value| json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": finish}]});
            return sse(&[
                call(json!({"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": ""}}), Value::Null),
                call(json!({"index": 0, "function": {"arguments": "{\"city\":"}}), Value::Null),
                call(json!({"index": 0, "function": {"arguments": " \"Paris\"}"}}), json!("tool_calls")),
            ]);
        }
        return Json(json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": name, "arguments": "{\"city\": \"Paris\"}"}}]}}]}))
        .into_response();
    }
    if body["model"] == "missing-model" {
        return (StatusCode::NOT_FOUND, Json(json!({"error": {"message": "The model `missing-model` does not exist"}}))).into_response();
    }
    if body["stream"] == json!(true) {
        let chunk = |delta: Value, finish: Value| json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        return sse(&[
            chunk(json!({"role": "assistant", "content": ""}), Value::Null),
            chunk(json!({"content": "Hel"}), Value::Null),
            chunk(json!({"content": "lo"}), Value::Null),
            chunk(json!({}), json!("stop")),
            json!({"id": "c1", "object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}),
        ]);
    }
    Json(json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }))
    .into_response()
}

async fn anthropic(State(received): State<Received>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let version = headers.get("anthropic-version").and_then(|v| v.to_str().ok()).unwrap_or_default();
    received.lock().unwrap().push(("/v1/messages".into(), format!("{key} {version}"), body.clone()));
    if body.get("tools").is_some() {
        let name = body["tools"][0]["name"].clone();
        if body["stream"] == json!(true) {
            let events = [
                json!({"type": "message_start", "message": {"usage": {"input_tokens": 9, "output_tokens": 1}}}),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Checking."}}),
                json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}}),
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"city\":"}}),
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": " \"Paris\"}"}}),
                json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 4}}),
            ];
            let body: String =
                events.iter().map(|event| format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap())).collect();
            return ([("content-type", "text/event-stream")], body).into_response();
        }
        return Json(json!({"content": [{"type": "text", "text": "Checking."}, {"type": "tool_use", "id": "toolu_1", "name": name,
            "input": {"city": "Paris"}}], "stop_reason": "tool_use", "usage": {"input_tokens": 9, "output_tokens": 4}}))
        .into_response();
    }
    if body["stream"] == json!(true) {
        let text = |text: &str| json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}});
        let events = [
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 7, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            text("Bon"),
            text("jour"),
            json!({"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 3}}),
            json!({"type": "message_stop"}),
        ];
        let body: String = events.iter().map(|event| format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap())).collect();
        return ([("content-type", "text/event-stream")], body).into_response();
    }
    Json(json!({"content": [{"type": "text", "text": "Bonjour"}], "stop_reason": "end_turn", "usage": {"input_tokens": 7, "output_tokens": 3}}))
        .into_response()
}

/// A stub provider on a loopback port; returns its root URL and what it received.
async fn stub_provider() -> (String, Received) {
    let received = Received::default();
    let router =
        Router::new().route("/v1/chat/completions", post(openai)).route("/v1/messages", post(anthropic)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{address}"), received)
}

async fn playground_spans(app: &TestApp) -> Vec<Value> {
    let response = app.get("/v1/projects/playground/spans?limit=100").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let mut spans = response.json()["data"].as_array().unwrap().clone();
    spans.sort_by_key(|span| span["start_time"].as_str().unwrap_or_default().to_string());
    spans
}

/// The data lines of an event stream, `[DONE]` included.
fn data_lines(text: &str) -> Vec<String> {
    text.split("\n\n").filter_map(|event| event.strip_prefix("data: ")).map(str::to_string).collect()
}

#[tokio::test]
async fn secrets_are_validated_and_the_last_write_of_a_key_wins() {
    let app = test_app_with_providers(ProviderSettings::default(), None).await;
    for body in [
        json!({"secrets": []}),
        json!({"secrets": [{"key": "   ", "value": "v"}]}),
        json!({"secrets": [{"key": "КЛЮЧ", "value": "v"}]}),
        json!({"secrets": [{"key": "K", "value": "   "}]}),
        json!({"secrets": [{"key": "K"}]}),
        json!({"secrets": "nope"}),
        json!({}),
    ] {
        assert_eq!(app.put_json("/v1/secrets", &body).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // Keys follow Phoenix 20.26.1's pattern, refused as it refuses them (observed).
    let empty = app.put_json("/v1/secrets", &json!({"secrets": [{"key": "K", "value": ""}]})).await.json();
    assert_eq!(empty["detail"][0]["msg"], "Value error, Value cannot be empty");
    let pattern = "Value error, Key must start with a letter or underscore and contain only letters, digits, and underscores";
    for (key, message) in [("bad key", pattern), ("1ABC", pattern), ("A-B", pattern), ("", "Value error, Key cannot be empty")] {
        let refused = app.put_json("/v1/secrets", &json!({"secrets": [{"key": "OK", "value": "v"}, {"key": key, "value": "v"}]})).await;
        assert_eq!(
            refused.json(),
            json!({"detail": [{"type": "value_error", "loc": ["body", "secrets", 1, "key"], "msg": message, "input": key}]}),
            "{key:?}"
        );
    }
    assert_eq!(app.put_json("/v1/secrets", &json!({"secrets": [{"key": "_lower_ok9", "value": "v"}]})).await.status, StatusCode::OK);
    let response = app
        .put_json("/v1/secrets", &json!({"secrets": [{"key": "A", "value": "1"}, {"key": "B", "value": "2"}, {"key": "A", "value": null}]}))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"data": {"upserted_keys": ["B"], "deleted_keys": ["A"]}}));
    // Without PHOENIX_SECRET a value is stored as given (marked plain).
    assert_eq!(app.store.secret("B").await.unwrap().as_deref(), Some("plain:2"));
    assert_eq!(app.store.secret("A").await.unwrap(), None);
    assert!(!response.text().contains('2'), "values are never returned");
}

#[tokio::test]
async fn openai_calls_are_forwarded_answered_and_traced() {
    let (stub, received) = stub_provider().await;
    let settings =
        ProviderSettings { openai_api_key: Some("env-key".into()), openai_base_url: Some(format!("{stub}/v1")), ..Default::default() };
    let app = test_app_with_providers(settings, None).await;
    let request = json!({
        "model": "openai:gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Say hello"}]}],
        "temperature": 0.2, "max_tokens": 20, "top_p": null,
    });
    let response = app.post_json("/v1/chat/completions", &request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let answer = response.json();
    assert_eq!(answer["object"], "chat.completion");
    assert_eq!(answer["model"], "gpt-4o-mini");
    assert_eq!(answer["choices"][0], json!({"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}));
    assert_eq!(answer["usage"], json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}));
    {
        let received = received.lock().unwrap();
        let (path, auth, body) = &received[0];
        assert_eq!((path.as_str(), auth.as_str()), ("/v1/chat/completions", "Bearer env-key"));
        assert_eq!(
            body,
            &json!({"model": "gpt-4o-mini", "messages": request["messages"], "temperature": 0.2, "max_tokens": 20, "stream": false})
        );
    }

    // A key set through PUT /v1/secrets wins over the environment; a stream is relayed as chunks.
    app.put_json("/v1/secrets", &json!({"secrets": [{"key": "OPENAI_API_KEY", "value": "secret-key"}]})).await;
    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let response = app.post_json("/v1/chat/completions", &streamed).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.content_type(), "text/event-stream");
    let lines = data_lines(&response.text());
    assert_eq!(lines.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = lines[..lines.len() - 1].iter().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(chunks.iter().all(|chunk| chunk["object"] == "chat.completion.chunk" && chunk["id"] == chunks[0]["id"]));
    let text: String = chunks.iter().filter_map(|chunk| chunk.pointer("/choices/0/delta/content").and_then(Value::as_str)).collect();
    assert_eq!(text, "Hello");
    assert_eq!(
        chunks.iter().filter_map(|chunk| chunk.pointer("/choices/0/finish_reason").and_then(Value::as_str)).collect::<Vec<_>>(),
        ["stop"]
    );
    assert_eq!(chunks.last().unwrap()["usage"], json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}));
    {
        let received = received.lock().unwrap();
        let (_, auth, body) = &received[1];
        assert_eq!(auth, "Bearer secret-key");
        assert_eq!((&body["stream"], &body["stream_options"]), (&json!(true), &json!({"include_usage": true})));
    }
    // Without include_usage the usage chunk is not relayed (it is still recorded).
    let mut quiet = request.clone();
    quiet["stream"] = json!(true);
    let text = app.post_json("/v1/chat/completions", &quiet).await.text();
    assert!(!text.contains("\"usage\""), "{text}");

    // Each call is an LLM span in the playground project.
    let spans = playground_spans(&app).await;
    assert_eq!(spans.len(), 3);
    for span in &spans {
        assert_eq!(
            (span["name"].as_str(), span["span_kind"].as_str(), span["status_code"].as_str()),
            (Some("ChatCompletion"), Some("LLM"), Some("OK"))
        );
        let attributes = &span["attributes"];
        assert_eq!(attributes["llm.model_name"], "gpt-4o-mini");
        assert_eq!(attributes["llm.provider"], "openai");
        assert_eq!(attributes["llm.input_messages.1.message.content"], "Say hello");
        assert_eq!(attributes["llm.output_messages.0.message.content"], "Hello");
        assert_eq!((attributes["llm.token_count.prompt"].as_i64(), attributes["llm.token_count.total"].as_i64()), (Some(5), Some(7)));
        let parameters: Value = serde_json::from_str(attributes["llm.invocation_parameters"].as_str().unwrap()).unwrap();
        assert_eq!((&parameters["temperature"], &parameters["max_tokens"]), (&json!(0.2), &json!(20)));
    }
}

#[tokio::test]
async fn anthropic_calls_are_converted_both_ways() {
    let (stub, received) = stub_provider().await;
    let settings = ProviderSettings { anthropic_base_url: Some(stub), ..Default::default() };
    let app = test_app_with_providers(settings, Some("a phoenix secret")).await;
    let request = json!({
        "model": "anthropic:claude-sonnet-4-5",
        "messages": [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hello"}],
        "temperature": 0.5, "stop": ["END"],
    });
    // No key yet: a clear 400 naming the setting.
    let missing = app.post_json("/v1/chat/completions", &request).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.json()["error"]["message"].as_str().unwrap().contains("ANTHROPIC_API_KEY"), "{}", missing.text());
    assert!(received.lock().unwrap().is_empty());

    app.put_json("/v1/secrets", &json!({"secrets": [{"key": "ANTHROPIC_API_KEY", "value": "sk-ant"}]})).await;
    // With PHOENIX_SECRET the stored value is sealed; the provider still gets the key.
    let stored = app.store.secret("ANTHROPIC_API_KEY").await.unwrap().unwrap();
    assert!(stored.starts_with("sealed:") && !stored.contains("sk-ant"), "{stored}");
    let answer = app.post_json("/v1/chat/completions", &request).await.json();
    assert_eq!(answer["choices"][0]["message"]["content"], "Bonjour");
    assert_eq!(answer["usage"], json!({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}));
    {
        let received = received.lock().unwrap();
        let (path, headers, body) = &received[0];
        assert_eq!((path.as_str(), headers.as_str()), ("/v1/messages", "sk-ant 2023-06-01"));
        assert_eq!(
            body,
            &json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 1024,
                    "system": "Answer in French.", "temperature": 0.5, "stop_sequences": ["END"]})
        );
    }

    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let lines = data_lines(&app.post_json("/v1/chat/completions", &streamed).await.text());
    assert_eq!(lines.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = lines[..lines.len() - 1].iter().map(|line| serde_json::from_str(line).unwrap()).collect();
    let text: String = chunks.iter().filter_map(|chunk| chunk.pointer("/choices/0/delta/content").and_then(Value::as_str)).collect();
    assert_eq!(text, "Bonjour");
    assert!(chunks.iter().any(|chunk| chunk.pointer("/choices/0/finish_reason") == Some(&json!("length"))));
    assert_eq!(chunks.last().unwrap()["usage"], json!({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}));
    assert_eq!(received.lock().unwrap()[1].2["stream"], json!(true));

    // A secret sealed under another PHOENIX_SECRET is named as unreadable, not sent.
    let foreign = SecretBox::new(Some("another secret")).seal("sk-other").unwrap();
    app.store.apply_secret_changes(&[SecretChange { key: "ANTHROPIC_API_KEY".into(), value: Some(foreign) }]).await.unwrap();
    let unreadable = app.post_json("/v1/chat/completions", &request).await;
    assert_eq!(unreadable.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        unreadable.json()["error"]["message"],
        "the secret ANTHROPIC_API_KEY cannot be read: it was sealed with another PHOENIX_SECRET; set it again with PUT /v1/secrets"
    );
    assert_eq!(received.lock().unwrap().len(), 2);

    let spans = playground_spans(&app).await;
    assert_eq!(spans.len(), 2, "calls that never reached a provider are not traced");
    assert_eq!(spans[1]["attributes"]["llm.output_messages.0.message.content"], "Bonjour");
    assert_eq!(spans[1]["attributes"]["llm.token_count.completion"], 3);
    assert_eq!(spans[1]["attributes"]["llm.provider"], "anthropic");
}

#[tokio::test]
async fn provider_failures_are_clear_errors_and_error_spans() {
    let (stub, _) = stub_provider().await;
    // A port nothing listens on: bind one, then let it go.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let settings = ProviderSettings {
        openai_api_key: Some("k".into()),
        openai_base_url: Some(format!("{stub}/v1")),
        ollama_base_url: Some(format!("http://{closed}/v1")),
        ..Default::default()
    };
    let app = test_app_with_providers(settings, None).await;
    let ask = |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});

    let rejected = app.post_json("/v1/chat/completions", &ask("openai:missing-model")).await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    assert_eq!(rejected.json()["error"]["message"], "openai answered 404: The model `missing-model` does not exist");
    let unreachable = app.post_json("/v1/chat/completions", &ask("ollama:llama3")).await;
    assert_eq!(unreachable.status, StatusCode::BAD_GATEWAY);
    assert!(unreachable.json()["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("could not reach ollama at http://{closed}/v1/chat/completions")));
    let mut streamed = ask("ollama:llama3");
    streamed["stream"] = json!(true);
    assert_eq!(app.post_json("/v1/chat/completions", &streamed).await.status, StatusCode::BAD_GATEWAY);

    for (model, status, message) in [
        ("mistral:large", StatusCode::NOT_FOUND, "unknown provider `mistral`"),
        ("google:gemini-2.5-pro", StatusCode::BAD_REQUEST, "cannot call google yet"),
        ("gpt-4o", StatusCode::UNPROCESSABLE_ENTITY, "provider:model_name"),
    ] {
        let response = app.post_json("/v1/chat/completions", &ask(model)).await;
        assert_eq!(response.status, status, "{model}: {}", response.text());
        assert!(response.json()["error"]["message"].as_str().unwrap().contains(message), "{model}: {}", response.text());
    }

    let spans = playground_spans(&app).await;
    let statuses: Vec<(&str, &str)> =
        spans.iter().map(|span| (span["status_code"].as_str().unwrap(), span["attributes"]["llm.provider"].as_str().unwrap())).collect();
    assert_eq!(statuses, [("ERROR", "openai"), ("ERROR", "ollama"), ("ERROR", "ollama")]);
    assert!(spans[0]["status_message"].as_str().unwrap().contains("does not exist"));
}

/// D1: a base URL set at runtime never receives the environment's key; a stored key goes only to
/// the base URL it was set with or after; a runtime base URL is http(s), without credentials, on
/// an allowed host.
#[tokio::test]
async fn provider_keys_only_go_where_they_were_configured_to_go() {
    let (operator, operator_received) = stub_provider().await;
    let (other, other_received) = stub_provider().await;
    let settings = ProviderSettings {
        openai_api_key: Some("sk-operator".into()),
        openai_base_url: Some(format!("{operator}/v1")),
        anthropic_api_key: Some("sk-ant-operator".into()),
        ..Default::default()
    };
    let app = test_app_with_providers(settings, None).await;
    let chat = |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    let set = |key: &str, value: &str| json!({"secrets": [{"key": key, "value": value}]});

    // Base URLs the playground would never call are refused when set.
    for (url, reason) in [
        ("http://evil.example/v1", "the host evil.example is not allowed"),
        ("file:///etc/passwd", "the scheme file is not allowed"),
        ("gopher://127.0.0.1/", "the scheme gopher is not allowed"),
        ("http://user:pw@127.0.0.1:1/v1", "a user name or password in the URL is not allowed"),
        ("not a url", "it is not an absolute URL"),
    ] {
        let refused = app.put_json("/v1/secrets", &set("OPENAI_BASE_URL", url)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(refused.text().contains(reason), "{url}: {}", refused.text());
    }
    assert_eq!(app.store.secret("OPENAI_BASE_URL").await.unwrap(), None);

    // The environment's key is not sent to a base URL set at runtime (even on an allowed host).
    assert_eq!(app.put_json("/v1/secrets", &set("OPENAI_BASE_URL", &format!("{other}/v1"))).await.status, StatusCode::OK);
    let refused = app.post_json("/v1/chat/completions", &chat("openai:gpt-4o")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("OPENAI_API_KEY from the environment is only sent to"));
    assert_eq!(app.put_json("/v1/secrets", &set("ANTHROPIC_BASE_URL", &other)).await.status, StatusCode::OK);
    assert_eq!(app.post_json("/v1/chat/completions", &chat("anthropic:claude")).await.status, StatusCode::BAD_REQUEST);
    assert!(other_received.lock().unwrap().is_empty() && operator_received.lock().unwrap().is_empty());

    // A key set with (or after) the runtime base URL goes there: whoever set it knows it.
    assert_eq!(app.put_json("/v1/secrets", &set("OPENAI_API_KEY", "sk-mine")).await.status, StatusCode::OK);
    assert_eq!(app.post_json("/v1/chat/completions", &chat("openai:gpt-4o")).await.status, StatusCode::OK);
    assert_eq!(other_received.lock().unwrap()[0].1, "Bearer sk-mine");

    // Moving the base URL afterwards does not take the stored key along.
    assert_eq!(app.put_json("/v1/secrets", &set("OPENAI_BASE_URL", &format!("{other}/v2"))).await.status, StatusCode::OK);
    let moved = app.post_json("/v1/chat/completions", &chat("openai:gpt-4o")).await;
    assert_eq!(moved.status, StatusCode::BAD_REQUEST);
    assert!(moved.json()["error"]["message"].as_str().unwrap().contains("OPENAI_BASE_URL changed after OPENAI_API_KEY was set"));
    assert_eq!(other_received.lock().unwrap().len(), 1);

    // Without the runtime base URL the environment's pair is used again.
    app.put_json("/v1/secrets", &json!({"secrets": [{"key": "OPENAI_BASE_URL", "value": null}, {"key": "OPENAI_API_KEY", "value": null}]}))
        .await;
    assert_eq!(app.post_json("/v1/chat/completions", &chat("openai:gpt-4o")).await.status, StatusCode::OK);
    assert_eq!(operator_received.lock().unwrap()[0].1, "Bearer sk-operator");
}

/// D13: a provider's answer is read up to EMBER_PLAYGROUND_MAX_ANSWER_BYTES, whole or streamed.
#[tokio::test]
async fn provider_answers_are_read_up_to_a_cap() {
    let (stub, _) = stub_provider().await;
    let settings = ProviderSettings {
        openai_api_key: Some("k".into()),
        openai_base_url: Some(format!("{stub}/v1")),
        playground_max_answer_bytes: 64 << 10,
        ..Default::default()
    };
    let app = test_app_with_providers(settings, None).await;
    let whole =
        app.post_json("/v1/chat/completions", &json!({"model": "openai:chatty", "messages": [{"role": "user", "content": "hi"}]})).await;
    assert_eq!(whole.status, StatusCode::BAD_GATEWAY);
    assert!(whole.text().contains("the answer is longer than 65536 bytes"), "{}", whole.text());
    let streamed = app
        .post_json(
            "/v1/chat/completions",
            &json!({"model": "openai:chatty", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    let text = streamed.text();
    assert!(text.len() < 64 << 10, "{} bytes relayed", text.len());
    assert!(text.contains("the answer is longer than 65536 bytes"), "{}", &text[text.len().saturating_sub(300)..]);
    // Both calls are traced as errors, with the answer not kept.
    let spans = playground_spans(&app).await;
    assert_eq!(spans.len(), 2);
    assert!(spans.iter().all(|span| span["status_code"] == "ERROR"), "{spans:?}");
}

/// The web UI's playground writes: a variant runs with its variables rendered into the body
/// sent (streamed as the page's events, ending with the trace); what cannot run or save is
/// refused as JSON naming why, before anything is sent or written.
#[tokio::test]
async fn the_pages_variants_run_rendered_and_are_refused_with_the_reason() {
    let (stub, received) = stub_provider().await;
    let settings = ProviderSettings { openai_api_key: Some("k".into()), openai_base_url: Some(format!("{stub}/v1")), ..Default::default() };
    let app = test_app_with_providers(settings, None).await;
    let variant = |messages: Value| {
        json!({"provider": "OPENAI", "model_name": "gpt-4o-mini", "template_format": "MUSTACHE", "messages": messages,
            "invocation_parameters": {"temperature": 0.5}})
    };
    let hello = variant(json!([{"role": "user", "content": "Say {{greeting}}"}]));
    let response = app.post_json("/playground/run", &json!({"variant": hello, "variables": {"greeting": "hello"}})).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let events: Vec<Value> = data_lines(&response.text()).iter().map(|line| serde_json::from_str(line).unwrap()).collect();
    let text: String = events.iter().filter_map(|event| event["text"].as_str()).collect();
    assert_eq!(text, "Hello");
    assert!(events.iter().any(|event| event["prompt_tokens"] == 5));
    let trace = events.last().unwrap()["trace"].as_str().unwrap().to_string();
    assert!(trace.starts_with("/redirects/traces/"), "{trace}");
    let sent = received.lock().unwrap()[0].2.clone();
    assert_eq!(sent["messages"], json!([{"role": "user", "content": "Say hello"}]));
    assert_eq!(sent["temperature"], 0.5);
    let spans = playground_spans(&app).await;
    assert_eq!(spans.len(), 1);
    assert_eq!(format!("/redirects/traces/{}", spans[0]["context"]["trace_id"].as_str().unwrap()), trace);

    let mut with_tools = hello.clone();
    with_tools["tools"] = json!([{"type": "function", "function": {"name": "lookup"}}]);
    let mut anthropic = hello.clone();
    anthropic["provider"] = json!("ANTHROPIC");
    anthropic["invocation_parameters"] = json!({"max_tokens": 100});
    for (body, status, message) in [
        (json!({"variant": hello, "variables": {}}), StatusCode::UNPROCESSABLE_ENTITY, "Missing template variable(s): greeting"),
        (json!({"variant": anthropic, "variables": {"greeting": "hi"}}), StatusCode::BAD_REQUEST, "no API key for anthropic"),
        (json!({"variant": variant(json!([])), "variables": {}}), StatusCode::UNPROCESSABLE_ENTITY, "a prompt has 1 to 200 messages"),
    ] {
        let refused = app.post_json("/playground/run", &body).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.text());
        assert!(refused.json()["error"].as_str().unwrap().starts_with(message), "{}", refused.text());
    }
    assert_eq!(received.lock().unwrap().len(), 1, "nothing refused was sent");
    // A variant with tools runs; the tool the model calls arrives in pieces.
    let response = app.post_json("/playground/run", &json!({"variant": with_tools, "variables": {"greeting": "hi"}})).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let events: Vec<Value> = data_lines(&response.text()).iter().map(|line| serde_json::from_str(line).unwrap()).collect();
    let pieces: Vec<&Value> = events.iter().filter_map(|event| event.get("tool_call")).collect();
    assert_eq!(pieces[0], &json!({"index": 0, "id": "call_1", "name": "lookup", "arguments": ""}));
    let arguments: String = pieces.iter().map(|piece| piece["arguments"].as_str().unwrap()).collect();
    assert_eq!(arguments, "{\"city\": \"Paris\"}");
    assert_eq!(received.lock().unwrap()[1].2["tools"], json!([{"type": "function", "function": {"name": "lookup"}}]));

    // Saving: a bad name refused; a good one makes the prompt, then a version of it.
    let refused = app.post_json("/playground/prompt-versions", &json!({"prompt_name": "No Good", "variant": hello})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.json()["error"].as_str().unwrap().contains("String should match pattern"));
    for expected_versions in [1, 2] {
        let saved = app.post_json("/playground/prompt-versions", &json!({"prompt_name": "greeter", "variant": hello})).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
        assert!(saved.json()["location"].as_str().unwrap().starts_with("/prompts/"));
        let versions = app.get("/v1/prompts/greeter/versions").await.json();
        assert_eq!(versions["data"].as_array().unwrap().len(), expected_versions);
    }

    // Over a dataset: an unknown dataset, a bad evaluator and a provider without a key refused.
    let upload = json!({"name": "d", "inputs": [{"greeting": "hi"}], "outputs": [{"a": "Hello"}]});
    let dataset = app.post_json("/v1/datasets/upload?sync=true", &upload).await.json()["data"]["dataset_id"].as_str().unwrap().to_string();
    let dataset_id = ember_core::GlobalId::decode_as(&dataset, ember_core::GlobalType::Dataset).unwrap();
    for (body, status, message) in [
        (json!({"dataset_id": 999, "variant": hello}), StatusCode::NOT_FOUND, "999"),
        (json!({"dataset_id": dataset_id, "evaluators": "wizardry", "variant": hello}), StatusCode::UNPROCESSABLE_ENTITY, "wizardry"),
        (json!({"dataset_id": dataset_id, "variant": anthropic}), StatusCode::UNPROCESSABLE_ENTITY, "no API key for anthropic"),
        (
            json!({"dataset_id": dataset_id, "evaluators": "exact_match\nexact_match", "variant": hello}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "two evaluators",
        ),
    ] {
        let refused = app.post_json("/playground/experiments", &body).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.text());
        assert!(refused.json()["error"].as_str().unwrap().contains(message), "{}", refused.text());
    }
    let experiments = app.get(&format!("/v1/datasets/{dataset}/experiments")).await.json();
    assert_eq!(experiments["data"].as_array().unwrap().len(), 0, "no experiment was made for a refused run");
}

/// Function tools go to the provider (converted for Anthropic) and the calls the model asks for
/// come back in OpenAI's shape, whole and streamed, and on the call's span.
#[tokio::test]
async fn tool_calls_come_back_from_both_protocols_whole_and_streamed() {
    let (stub, received) = stub_provider().await;
    let settings = ProviderSettings {
        openai_api_key: Some("k".into()),
        openai_base_url: Some(format!("{stub}/v1")),
        anthropic_api_key: Some("a".into()),
        anthropic_base_url: Some(stub),
        ..Default::default()
    };
    let app = test_app_with_providers(settings, None).await;
    let tools = json!([{"type": "function", "function": {"name": "weather", "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    for model in ["openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5"] {
        let request = json!({"model": model, "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": tools,
            "tool_choice": "required"});
        let answer = app.post_json("/v1/chat/completions", &request).await;
        assert_eq!(answer.status, StatusCode::OK, "{model}: {}", answer.text());
        let choice = &answer.json()["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls", "{model}");
        let call = &choice["message"]["tool_calls"][0];
        assert_eq!((call["type"].as_str(), call["function"]["name"].as_str()), (Some("function"), Some("weather")), "{model}");
        let arguments: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(arguments, json!({"city": "Paris"}), "{model}");

        let mut streamed = request.clone();
        streamed["stream"] = json!(true);
        let lines = data_lines(&app.post_json("/v1/chat/completions", &streamed).await.text());
        assert_eq!(lines.last().map(String::as_str), Some("[DONE]"), "{model}");
        let chunks: Vec<Value> = lines[..lines.len() - 1].iter().map(|line| serde_json::from_str(line).unwrap()).collect();
        let deltas: Vec<&Value> = chunks.iter().filter_map(|chunk| chunk.pointer("/choices/0/delta/tool_calls/0")).collect();
        assert_eq!(deltas[0]["function"]["name"], "weather", "{model}");
        assert_eq!(deltas[0]["type"], "function", "{model}");
        assert!(deltas.iter().all(|delta| delta["index"] == 0), "{model}: {deltas:?}");
        let streamed_arguments: String = deltas.iter().map(|delta| delta["function"]["arguments"].as_str().unwrap()).collect();
        assert_eq!(serde_json::from_str::<Value>(&streamed_arguments).unwrap(), json!({"city": "Paris"}), "{model}");
    }
    {
        let received = received.lock().unwrap();
        let anthropic = &received.iter().find(|(path, ..)| path == "/v1/messages").unwrap().2;
        assert_eq!(anthropic["tools"][0]["input_schema"], tools[0]["function"]["parameters"]);
        assert_eq!(anthropic["tool_choice"], json!({"type": "any"}));
    }
    let spans = playground_spans(&app).await;
    assert_eq!(spans.len(), 4);
    for span in &spans {
        let attributes = &span["attributes"];
        assert_eq!(attributes["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"], "weather", "{span}");
        let schema: Value = serde_json::from_str(attributes["llm.tools.0.tool.json_schema"].as_str().unwrap()).unwrap();
        assert_eq!(schema, tools[0]);
    }
    let invalid = app
        .post_json(
            "/v1/chat/completions",
            &json!({"model": "openai:m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "x"}]}),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.json()["error"]["param"], "tools");
}
