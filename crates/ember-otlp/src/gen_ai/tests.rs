//! Each expectation is what Phoenix 20.26.1 stored for the same attributes (spans sent to
//! `phoenix serve` over OTLP/HTTP and read back with `GET /v1/projects/{p}/spans`).

use serde_json::{json, Value};

use super::convert;

/// The attributes a span with `gen_ai` gets added (the `gen_ai.*` keys themselves stay).
fn derived(attributes: Value) -> Value {
    let mut flat: Vec<(String, Value)> = attributes.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let sent = flat.len();
    convert(&mut flat);
    Value::Object(flat.into_iter().skip(sent).collect())
}

fn text(value: Value) -> Value {
    Value::String(value.to_string())
}

#[test]
fn a_chat_span_gets_model_provider_parameters_usage_messages_tools_and_session() {
    let input = json!([
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"},
            {"type": "uri", "modality": "image", "uri": "https://x/img.png"},
            {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "aGVsbG8="}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": {"celsius": 3}}]},
    ]);
    let output = json!([{"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": "It is 3C."},
        {"type": "tool_call", "id": "call_2", "name": "get_time", "arguments": "{\"tz\": \"CET\"}"}]}]);
    let tools = json!([{"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}]);
    let attributes = json!({
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024", "gen_ai.response.id": "resp-1", "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 100, "gen_ai.request.top_p": 0.9, "gen_ai.request.top_k": 5.0,
        "gen_ai.request.frequency_penalty": 0.1, "gen_ai.request.presence_penalty": 0.2, "gen_ai.request.seed": 42,
        "gen_ai.request.stop_sequences": ["END"], "gen_ai.request.choice.count": 2, "gen_ai.request.stream": true,
        "gen_ai.output.type": "json", "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5,
        "gen_ai.usage.cache_read.input_tokens": 3, "gen_ai.usage.cache_creation.input_tokens": 2,
        "gen_ai.system_instructions": text(json!([{"type": "text", "content": "Be brief."}, {"type": "text", "content": "Use metric."}])),
        "gen_ai.input.messages": text(input), "gen_ai.output.messages": text(output), "gen_ai.tool.definitions": text(tools),
        "gen_ai.conversation.id": "conv-9",
    });
    let system = "llm.input_messages.0.message";
    let user = "llm.input_messages.1.message";
    let expected = json!({
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o", "llm.provider": "openai", "llm.system": "openai",
        "llm.invocation_parameters": "{\"temperature\": 0.2, \"top_p\": 0.9, \"top_k\": 5.0, \"max_tokens\": 100, \"frequency_penalty\": 0.1, \"presence_penalty\": 0.2, \"seed\": 42, \"stream\": true, \"n\": 2, \"stop\": [\"END\"], \"response_format\": {\"type\": \"json_object\"}}",
        "llm.token_count.prompt": 10, "llm.token_count.completion": 5,
        "llm.token_count.prompt_details.cache_read": 3, "llm.token_count.prompt_details.cache_write": 2, "llm.token_count.total": 15,
        "llm.finish_reason": "stop",
    });
    let messages = json!({
        format!("{system}.role"): "system",
        format!("{system}.contents.0.message_content.type"): "text", format!("{system}.contents.0.message_content.text"): "Be brief.",
        format!("{system}.contents.1.message_content.type"): "text", format!("{system}.contents.1.message_content.text"): "Use metric.",
        format!("{user}.role"): "user",
        format!("{user}.contents.0.message_content.type"): "text", format!("{user}.contents.0.message_content.text"): "Weather in Oslo?",
        format!("{user}.contents.1.message_content.type"): "image", format!("{user}.contents.1.message_content.image.image.url"): "https://x/img.png",
        format!("{user}.contents.2.message_content.type"): "image",
        format!("{user}.contents.2.message_content.image.image.url"): "data:image/png;base64,aGVsbG8=",
    });
    let more_messages = json!({
        "llm.input_messages.2.message.role": "assistant",
        "llm.input_messages.2.message.tool_calls.0.tool_call.id": "call_1",
        "llm.input_messages.2.message.tool_calls.0.tool_call.function.name": "get_weather",
        "llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments": "{\"city\": \"Oslo\"}",
        "llm.input_messages.3.message.role": "tool", "llm.input_messages.3.message.tool_call_id": "call_1",
        "llm.input_messages.3.message.content": "{\"celsius\": 3}",
        "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.finish_reason": "stop",
        "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_2",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "get_time",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": "{\"tz\": \"CET\"}",
        "llm.output_messages.0.message.content": "It is 3C.",
        "llm.tools.0.tool.json_schema": "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather\", \"parameters\": {\"type\": \"object\"}}}",
        "output.value": "{\"id\": \"resp-1\", \"model\": \"gpt-4o-2024\"}", "output.mime_type": "application/json",
        "session.id": "conv-9",
    });
    let actual = derived(attributes);
    let expected: Vec<(&String, &Value)> =
        [&expected, &messages, &more_messages].iter().flat_map(|part| part.as_object().unwrap()).collect();
    for (key, value) in &expected {
        assert_eq!(actual.get(key.as_str()), Some(*value), "{key} in {actual:#}");
    }
    assert_eq!(actual.as_object().unwrap().len(), expected.len(), "{actual:#}");
}

#[test]
fn provider_names_map_to_openinference_providers_and_systems() {
    for (name, provider, system) in [
        ("openai", Some("openai"), Some("openai")),
        ("anthropic", Some("anthropic"), Some("anthropic")),
        ("aws.bedrock", Some("aws"), None),
        ("azure.ai.inference", Some("azure"), None),
        ("azure.ai.openai", Some("azure"), Some("openai")),
        ("gcp.vertex_ai", Some("google"), Some("vertexai")),
        ("gcp.gemini", Some("google"), None),
        ("mistral_ai", Some("mistralai"), Some("mistralai")),
        ("x_ai", Some("xai"), None),
        ("ibm.watsonx.ai", None, Some("ibm.watsonx.ai")),
        ("OpenAI", None, Some("OpenAI")),
    ] {
        let attributes = derived(json!({"gen_ai.operation.name": "chat", "gen_ai.provider.name": name}));
        assert_eq!(
            (attributes.get("llm.provider"), attributes.get("llm.system")),
            (provider.map(|p| json!(p)).as_ref(), system.map(|s| json!(s)).as_ref()),
            "{name}"
        );
    }
    // The provider name wins over the older `gen_ai.system`.
    let both = derived(json!({"gen_ai.system": "anthropic", "gen_ai.provider.name": "openai"}));
    assert_eq!(
        (&both["llm.provider"], &both["llm.system"], &both["openinference.span.kind"]),
        (&json!("openai"), &json!("openai"), &json!("LLM"))
    );
}

#[test]
fn tool_embedding_and_retrieval_spans() {
    let tool = derived(json!({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather", "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.call.arguments": "{\"city\": \"Oslo\"}", "gen_ai.tool.call.result": "[1, \"é\"]"}));
    assert_eq!(
        tool,
        json!({"openinference.span.kind": "TOOL", "tool.name": "get_weather", "tool.id": "call_1",
        "tool.parameters": {"city": "Oslo"}, "output.value": "[1, \"\\u00e9\"]", "output.mime_type": "application/json"})
    );
    let plain =
        derived(json!({"gen_ai.tool.name": "t", "gen_ai.tool.call.arguments": "not json {", "gen_ai.tool.call.result": "plain text"}));
    assert_eq!(
        plain,
        json!({"openinference.span.kind": "TOOL", "tool.name": "t", "tool.parameters": "not json {", "output.value": "plain text"})
    );

    let embedding = derived(json!({"gen_ai.operation.name": "embeddings", "gen_ai.request.model": "text-embedding-3",
        "gen_ai.request.encoding_formats": ["float"], "gen_ai.usage.input_tokens": 7}));
    assert_eq!(
        embedding,
        json!({"openinference.span.kind": "EMBEDDING", "embedding.model_name": "text-embedding-3",
        "embedding.invocation_parameters": "{\"encoding_format\": \"float\"}", "llm.token_count.prompt": 7})
    );
    let formats = derived(json!({"gen_ai.operation.name": "embeddings", "gen_ai.request.encoding_formats": ["float", "base64"]}));
    assert_eq!(formats["embedding.invocation_parameters"], "{\"encoding_formats\": [\"float\", \"base64\"]}");

    let documents = json!([{"id": "d1", "content": "Oslo is cold", "score": 0.9, "metadata": {"src": "wiki"}}, {"id": "d2", "score": 0.5}]);
    let retrieval = derived(
        json!({"gen_ai.operation.name": "retrieval", "gen_ai.retrieval.query.text": "oslo", "gen_ai.retrieval.documents": text(documents)}),
    );
    assert_eq!(
        retrieval,
        json!({"openinference.span.kind": "RETRIEVER", "input.value": "oslo", "input.mime_type": "text/plain",
        "retrieval.documents.0.document.id": "d1", "retrieval.documents.0.document.content": "Oslo is cold",
        "retrieval.documents.0.document.score": 0.9, "retrieval.documents.0.document.metadata": {"src": "wiki"},
        "retrieval.documents.1.document.id": "d2", "retrieval.documents.1.document.score": 0.5})
    );
    let without_ids = derived(json!({"gen_ai.operation.name": "retrieval", "gen_ai.retrieval.documents": text(json!([{"content": "c"}]))}));
    assert_eq!(without_ids, json!({"openinference.span.kind": "RETRIEVER"}));
}

#[test]
fn openinference_keys_win_and_malformed_lists_are_left_out() {
    let messages = json!([{"role": "user", "parts": [{"type": "text", "content": "gen"}]}]);
    let kept = derived(json!({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gen-model", "llm.model_name": "oi-model",
        "openinference.span.kind": "CHAIN", "gen_ai.input.messages": text(messages), "llm.input_messages.0.message.content": "oi",
        "gen_ai.conversation.id": "g", "session.id": "oi", "gen_ai.response.id": "r", "output.value": "mine"}));
    assert_eq!(kept, json!({}), "nothing of a group the span carries is derived");

    let malformed = derived(json!({"gen_ai.operation.name": "chat", "gen_ai.input.messages": "not json",
        "gen_ai.output.messages": text(json!([{"role": "assistant", "parts": [{"type": "text", "content": "no finish reason"}]}])),
        "gen_ai.tool.definitions": "[1, 2]"}));
    assert_eq!(malformed, json!({"openinference.span.kind": "LLM"}));

    // Counts as text, a total only when both are known, several finish reasons as a list.
    let usage = derived(json!({"gen_ai.system": "anthropic", "gen_ai.usage.input_tokens": "12", "gen_ai.usage.output_tokens": 3,
        "gen_ai.response.finish_reasons": ["length", "stop"]}));
    assert_eq!((&usage["llm.token_count.prompt"], &usage["llm.token_count.total"]), (&json!(12), &json!(15)));
    assert_eq!(usage["llm.finish_reason"], json!(["length", "stop"]));
    assert!(derived(json!({"gen_ai.usage.output_tokens": 4})).get("llm.token_count.total").is_none());

    // An operation ember does not know sets no kind; one message part that is not text is a list.
    assert!(derived(json!({"gen_ai.operation.name": "something_else"})).get("openinference.span.kind").is_none());
    let reasoning = derived(json!({"gen_ai.operation.name": "chat",
        "gen_ai.input.messages": text(json!([{"role": "user", "name": "bob", "parts": [{"type": "reasoning", "content": "think"}]}]))}));
    assert_eq!(reasoning["llm.input_messages.0.message.contents.0.message_content.type"], "reasoning");
    assert_eq!(reasoning["llm.input_messages.0.message.name"], "bob");
}

#[test]
fn a_long_message_list_converts_whole() {
    // 20,000 messages of one part each: 40,000 derived keys, checked against 10,000 sent ones
    // (a set lookup each, not a scan of the sent keys).
    let messages: Vec<Value> =
        (0..20_000).map(|i| json!({"role": "user", "parts": [{"type": "text", "content": format!("m{i}")}]})).collect();
    let mut flat: Vec<(String, Value)> = (0..10_000).map(|i| (format!("metadata.key_{i}"), json!(i))).collect();
    flat.push(("gen_ai.input.messages".into(), text(Value::Array(messages))));
    convert(&mut flat);
    assert_eq!(flat.len(), 10_001 + 1 + 40_000, "the kind and every message's role and content");
}
