//! OpenAI-compatible chat completions (`POST {base}/chat/completions`).

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{json, Map, Value};

use super::{join_url, malformed, send, Completion, Endpoint, EventStream, ProviderClient, ProviderError, StreamEvent, ToolCall, Usage};

fn request(http: &reqwest::Client, endpoint: &Endpoint, body: &Map<String, Value>) -> (reqwest::RequestBuilder, String) {
    let url = join_url(&endpoint.base_url, "chat/completions");
    let mut builder = http.post(&url).json(body);
    if let Some(key) = &endpoint.api_key {
        builder = builder.bearer_auth(key);
    }
    (builder, url)
}

fn usage(value: &Value) -> Option<Usage> {
    let usage = value.get("usage").filter(|usage| usage.is_object())?;
    Some(Usage {
        prompt_tokens: usage.get("prompt_tokens").and_then(Value::as_i64).unwrap_or(0),
        completion_tokens: usage.get("completion_tokens").and_then(Value::as_i64).unwrap_or(0),
    })
}

pub(super) async fn complete(client: &ProviderClient, endpoint: &Endpoint, body: &Map<String, Value>) -> Result<Completion, ProviderError> {
    let mut body = body.clone();
    body.remove("stream_options");
    body.insert("stream".into(), json!(false));
    let (builder, url) = request(&client.http, endpoint, &body);
    let answer = client.read_json(send(builder, endpoint, &url).await?, endpoint).await?;
    let choice = answer.pointer("/choices/0").ok_or_else(|| malformed(endpoint, "the answer has no choices"))?;
    Ok(Completion {
        content: choice.pointer("/message/content").and_then(Value::as_str).unwrap_or_default().to_string(),
        finish_reason: choice.get("finish_reason").and_then(Value::as_str).unwrap_or("stop").to_string(),
        usage: usage(&answer).unwrap_or_default(),
        tool_calls: choice
            .pointer("/message/tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|call| ToolCall {
                id: call.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
                name: call.pointer("/function/name").and_then(Value::as_str).unwrap_or_default().to_string(),
                arguments: call.pointer("/function/arguments").and_then(Value::as_str).unwrap_or_default().to_string(),
            })
            .collect(),
    })
}

pub(super) async fn stream(client: &ProviderClient, endpoint: &Endpoint, body: &Map<String, Value>) -> Result<EventStream, ProviderError> {
    let mut body = body.clone();
    body.insert("stream".into(), json!(true));
    // Usage is always asked for so the call's tokens can be recorded.
    body.insert("stream_options".into(), json!({"include_usage": true}));
    let (builder, url) = request(&client.http, endpoint, &body);
    let response = send(builder, endpoint, &url).await?;
    let endpoint = endpoint.clone();
    let events = client.answer_bytes(response).eventsource().take_while(|event| {
        let done = matches!(event, Ok(event) if event.data.trim() == "[DONE]");
        futures::future::ready(!done)
    });
    let events = events.flat_map(move |event| {
        let parsed: Vec<Result<StreamEvent, ProviderError>> = match event {
            Err(error) => vec![Err(malformed(&endpoint, format!("the event stream broke: {error}")))],
            Ok(event) => match serde_json::from_str::<Value>(&event.data) {
                Err(error) => vec![Err(malformed(&endpoint, format!("an event is not JSON: {error}")))],
                Ok(chunk) => chunk_events(&chunk),
            },
        };
        futures::stream::iter(parsed)
    });
    Ok(Box::pin(events))
}

fn chunk_events(chunk: &Value) -> Vec<Result<StreamEvent, ProviderError>> {
    let mut events = Vec::new();
    if let Some(choice) = chunk.pointer("/choices/0") {
        if let Some(text) = choice.pointer("/delta/content").and_then(Value::as_str).filter(|text| !text.is_empty()) {
            events.push(Ok(StreamEvent::Text(text.to_string())));
        }
        for (position, call) in choice.pointer("/delta/tool_calls").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let text = |pointer: &str| call.pointer(pointer).and_then(Value::as_str).map(str::to_string);
            events.push(Ok(StreamEvent::ToolCallDelta {
                index: call.get("index").and_then(Value::as_u64).map_or(position, |index| index as usize),
                id: text("/id"),
                name: text("/function/name"),
                arguments: text("/function/arguments").unwrap_or_default(),
            }));
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            events.push(Ok(StreamEvent::Finish(reason.to_string())));
        }
    }
    if let Some(usage) = usage(chunk) {
        events.push(Ok(StreamEvent::Usage(usage)));
    }
    events
}
