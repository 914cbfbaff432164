//! Anthropic messages (`POST {base}/v1/messages`), called with an OpenAI chat completions request
//! converted: system and developer messages become `system`, `stop` becomes `stop_sequences`,
//! and `max_tokens` (which Anthropic requires) defaults to 1024.

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{json, Map, Value};

use super::{join_url, malformed, send, Completion, Endpoint, EventStream, ProviderClient, ProviderError, StreamEvent, Usage};

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
    Ok(Completion {
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
    let events = client.answer_bytes(response).eventsource().scan(0_i64, move |prompt_tokens, event| {
        let parsed: Vec<Result<StreamEvent, ProviderError>> = match event {
            Err(error) => vec![Err(malformed(&endpoint, format!("the event stream broke: {error}")))],
            Ok(event) => match serde_json::from_str::<Value>(&event.data) {
                Err(error) => vec![Err(malformed(&endpoint, format!("an event is not JSON: {error}")))],
                Ok(data) => message_events(&endpoint, &data, prompt_tokens),
            },
        };
        futures::future::ready(Some(futures::stream::iter(parsed)))
    });
    Ok(Box::pin(events.flatten()))
}

fn message_events(endpoint: &Endpoint, data: &Value, prompt_tokens: &mut i64) -> Vec<Result<StreamEvent, ProviderError>> {
    match data.get("type").and_then(Value::as_str).unwrap_or_default() {
        "message_start" => {
            *prompt_tokens = data.pointer("/message/usage/input_tokens").and_then(Value::as_i64).unwrap_or(0);
            Vec::new()
        }
        "content_block_delta" => match data.pointer("/delta/text").and_then(Value::as_str) {
            Some(text) if !text.is_empty() => vec![Ok(StreamEvent::Text(text.to_string()))],
            _ => Vec::new(),
        },
        "message_delta" => {
            let mut events = Vec::new();
            if let Some(reason) = data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                events.push(Ok(StreamEvent::Finish(finish_reason(reason))));
            }
            if let Some(output) = data.pointer("/usage/output_tokens").and_then(Value::as_i64) {
                events.push(Ok(StreamEvent::Usage(Usage { prompt_tokens: *prompt_tokens, completion_tokens: output })));
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
    }
}
