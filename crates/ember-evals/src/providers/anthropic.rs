//! Anthropic messages (`POST {base}/v1/messages`), called with an OpenAI chat completions request
//! converted: system and developer messages become `system`, `stop` becomes `stop_sequences`,
//! `max_tokens` (which Anthropic requires) defaults to 1024, and OpenAI function tools and tool
//! choice become Anthropic's; `tool_use` blocks come back as tool calls.

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{json, Map, Value};

use super::{join_url, malformed, send, Completion, Endpoint, EventStream, ProviderClient, ProviderError, StreamEvent, ToolCall, Usage};

const API_VERSION: &str = "2023-06-01";
const DEFAULT_MAX_TOKENS: i64 = 1024;

/// The Anthropic body for an OpenAI chat completions body.
pub(super) fn messages_body(request: &Map<String, Value>) -> Map<String, Value> {
    let mut system = Vec::new();
    let mut messages = Vec::new();
    for message in request.get("messages").and_then(Value::as_array).into_iter().flatten() {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("user");
        let content = message.get("content").cloned().unwrap_or(Value::Null);
        match role {
            "system" | "developer" => system.push(text_of(&content)),
            "assistant" => messages.push(json!({"role": "assistant", "content": content})),
            _ => messages.push(json!({"role": "user", "content": content})),
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), request.get("model").cloned().unwrap_or(Value::Null));
    body.insert("messages".into(), Value::Array(messages));
    let max_tokens = ["max_completion_tokens", "max_tokens"].iter().find_map(|name| request.get(*name).and_then(Value::as_i64));
    body.insert("max_tokens".into(), json!(max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)));
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    for name in ["temperature", "top_p"] {
        if let Some(value) = request.get(name).filter(|value| !value.is_null()) {
            body.insert(name.into(), value.clone());
        }
    }
    match request.get("stop") {
        Some(Value::String(stop)) => {
            body.insert("stop_sequences".into(), json!([stop]));
        }
        Some(Value::Array(stops)) => {
            body.insert("stop_sequences".into(), Value::Array(stops.clone()));
        }
        _ => {}
    }
    let tools: Vec<Value> = request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tool| tool.get("function"))
        .map(|function| {
            let mut tool = json!({
                "name": function.get("name").cloned().unwrap_or(Value::Null),
                "input_schema": function.get("parameters").cloned().unwrap_or_else(|| json!({"type": "object"})),
            });
            if let Some(description) = function.get("description") {
                tool["description"] = description.clone();
            }
            tool
        })
        .collect();
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
        let choice = match request.get("tool_choice") {
            Some(Value::String(choice)) if choice == "required" => Some(json!({"type": "any"})),
            Some(Value::String(choice)) if choice == "none" => Some(json!({"type": "none"})),
            Some(Value::Object(choice)) => {
                choice.get("function").and_then(|f| f.get("name")).map(|name| json!({"type": "tool", "name": name}))
            }
            _ => None,
        };
        if let Some(choice) = choice {
            body.insert("tool_choice".into(), choice);
        }
    }
    body
}

/// A message content's text: the string, or its text parts joined.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts.iter().filter_map(|part| part.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join(""),
        _ => String::new(),
    }
}

/// Anthropic's stop reason in OpenAI's words.
fn finish_reason(stop_reason: &str) -> String {
    match stop_reason {
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
    .to_string()
}

fn request(http: &reqwest::Client, endpoint: &Endpoint, body: &Map<String, Value>) -> (reqwest::RequestBuilder, String) {
    let url = join_url(&endpoint.base_url, "v1/messages");
    let mut builder = http.post(&url).header("anthropic-version", API_VERSION).json(body);
    if let Some(key) = &endpoint.api_key {
        builder = builder.header("x-api-key", key);
    }
    (builder, url)
}

pub(super) async fn complete(
    client: &ProviderClient,
    endpoint: &Endpoint,
    request_body: &Map<String, Value>,
) -> Result<Completion, ProviderError> {
    let body = messages_body(request_body);
    let (builder, url) = request(&client.http, endpoint, &body);
    let answer = client.read_json(send(builder, endpoint, &url).await?, endpoint).await?;
    let blocks = answer.get("content").and_then(Value::as_array).ok_or_else(|| malformed(endpoint, "the answer has no content"))?;
    let content = blocks.iter().filter_map(|block| block.get("text").and_then(Value::as_str)).collect::<String>();
    let tool_calls = blocks
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))
        .map(|block| ToolCall {
            id: block.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
            name: block.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            arguments: block.get("input").map(Value::to_string).unwrap_or_else(|| "{}".into()),
        })
        .collect();
    Ok(Completion {
        tool_calls,
        content,
        finish_reason: finish_reason(answer.get("stop_reason").and_then(Value::as_str).unwrap_or("end_turn")),
        usage: Usage {
            prompt_tokens: answer.pointer("/usage/input_tokens").and_then(Value::as_i64).unwrap_or(0),
            completion_tokens: answer.pointer("/usage/output_tokens").and_then(Value::as_i64).unwrap_or(0),
        },
    })
}

pub(super) async fn stream(
    client: &ProviderClient,
    endpoint: &Endpoint,
    request_body: &Map<String, Value>,
) -> Result<EventStream, ProviderError> {
    let mut body = messages_body(request_body);
    body.insert("stream".into(), json!(true));
    let (builder, url) = request(&client.http, endpoint, &body);
    let response = send(builder, endpoint, &url).await?;
    let endpoint = endpoint.clone();
    // The prompt's tokens arrive first (`message_start`), the completion's last (`message_delta`).
    let events = client.answer_bytes(response).eventsource().scan(StreamState::default(), move |state, event| {
        let parsed: Vec<Result<StreamEvent, ProviderError>> = match event {
            Err(error) => vec![Err(malformed(&endpoint, format!("the event stream broke: {error}")))],
            Ok(event) => match serde_json::from_str::<Value>(&event.data) {
                Err(error) => vec![Err(malformed(&endpoint, format!("an event is not JSON: {error}")))],
                Ok(data) => message_events(&endpoint, &data, state),
            },
        };
        futures::future::ready(Some(futures::stream::iter(parsed)))
    });
    Ok(Box::pin(events.flatten()))
}

/// What a stream has said so far that later events refer to.
#[derive(Default)]
struct StreamState {
    prompt_tokens: i64,
    /// The content block index of each tool call, in order: tool calls are numbered among
    /// themselves, blocks among all blocks.
    tool_blocks: Vec<u64>,
}

fn message_events(endpoint: &Endpoint, data: &Value, state: &mut StreamState) -> Vec<Result<StreamEvent, ProviderError>> {
    let block = data.get("index").and_then(Value::as_u64).unwrap_or(0);
    match data.get("type").and_then(Value::as_str).unwrap_or_default() {
        "message_start" => {
            state.prompt_tokens = data.pointer("/message/usage/input_tokens").and_then(Value::as_i64).unwrap_or(0);
            Vec::new()
        }
        // A tool call is a `tool_use` block; its arguments arrive as pieces of JSON.
        "content_block_start" if data.pointer("/content_block/type").and_then(Value::as_str) == Some("tool_use") => {
            state.tool_blocks.push(block);
            vec![Ok(StreamEvent::ToolCallDelta {
                index: state.tool_blocks.len() - 1,
                id: data.pointer("/content_block/id").and_then(Value::as_str).map(str::to_string),
                name: data.pointer("/content_block/name").and_then(Value::as_str).map(str::to_string),
                arguments: String::new(),
            })]
        }
        "content_block_delta" => match (data.pointer("/delta/text"), data.pointer("/delta/partial_json")) {
            (Some(Value::String(text)), _) if !text.is_empty() => vec![Ok(StreamEvent::Text(text.to_string()))],
            (_, Some(Value::String(partial))) => match state.tool_blocks.iter().position(|&start| start == block) {
                Some(index) => vec![Ok(StreamEvent::ToolCallDelta { index, id: None, name: None, arguments: partial.clone() })],
                None => vec![Err(malformed(endpoint, "tool input arrived for a block that is not a tool call"))],
            },
            _ => Vec::new(),
        },
        "message_delta" => {
            let mut events = Vec::new();
            if let Some(reason) = data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                events.push(Ok(StreamEvent::Finish(finish_reason(reason))));
            }
            if let Some(output) = data.pointer("/usage/output_tokens").and_then(Value::as_i64) {
                events.push(Ok(StreamEvent::Usage(Usage { prompt_tokens: state.prompt_tokens, completion_tokens: output })));
            }
            events
        }
        "error" => vec![Err(ProviderError::Rejected {
            provider: endpoint.provider.clone(),
            status: 500,
            message: data.pointer("/error/message").and_then(Value::as_str).unwrap_or("the stream ended with an error").to_string(),
        })],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_openai_request_becomes_a_messages_request() {
        let request = json!({
            "model": "claude-sonnet-4-5",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "text", "text": "No lists."}]},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
            ],
            "temperature": 0.3, "max_completion_tokens": 50, "stop": "END", "seed": 4,
        });
        let body = messages_body(request.as_object().unwrap());
        assert_eq!(
            Value::Object(body),
            json!({
                "model": "claude-sonnet-4-5",
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello"},
                    {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
                ],
                "max_tokens": 50, "system": "Be brief.\n\nNo lists.", "temperature": 0.3, "stop_sequences": ["END"],
            })
        );
        let defaults = messages_body(json!({"model": "m", "messages": []}).as_object().unwrap());
        assert_eq!(defaults["max_tokens"], json!(DEFAULT_MAX_TOKENS));
        let with_tools = json!({"model": "m", "messages": [], "tool_choice": {"type": "function", "function": {"name": "lookup"}},
            "tools": [{"type": "function", "function": {"name": "lookup", "description": "Finds", "parameters": {"type": "object", "properties": {}}}}]});
        let body = messages_body(with_tools.as_object().unwrap());
        assert_eq!(
            body["tools"],
            json!([{"name": "lookup", "description": "Finds", "input_schema": {"type": "object", "properties": {}}}])
        );
        assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "lookup"}));
    }

    #[test]
    fn streamed_tool_use_blocks_are_numbered_among_tool_calls() {
        let endpoint =
            Endpoint { provider: "anthropic".into(), protocol: super::super::Protocol::Anthropic, base_url: String::new(), api_key: None };
        let mut state = StreamState::default();
        let mut events = Vec::new();
        for data in [
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me look."}}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t1", "name": "lookup", "input": {}}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"q\":"}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": " 1}"}}),
        ] {
            events.extend(message_events(&endpoint, &data, &mut state).into_iter().map(Result::unwrap));
        }
        let mut completion =
            Completion { content: String::new(), finish_reason: "stop".into(), usage: Usage::default(), tool_calls: Vec::new() };
        for event in events {
            match event {
                StreamEvent::Text(text) => completion.content.push_str(&text),
                StreamEvent::ToolCallDelta { index, id, name, arguments } => {
                    completion.add_tool_call_delta(index, id.as_deref(), name.as_deref(), &arguments)
                }
                _ => {}
            }
        }
        assert_eq!(completion.content, "Let me look.");
        assert_eq!(completion.tool_calls, [ToolCall { id: "t1".into(), name: "lookup".into(), arguments: "{\"q\": 1}".into() }]);
    }
}
