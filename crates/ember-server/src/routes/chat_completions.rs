//! `POST /v1/chat/completions`: the playground's OpenAI-compatible completions, forwarded to the
//! provider named by `model` (`provider:model_name`) with the key ember holds, answered whole or
//! as server-sent `chat.completion.chunk` events ending in `data: [DONE]`. Every call is traced
//! as an LLM span in the `playground` project ([`CallRecord`]). Function tools are forwarded and
//! the calls the model asks for answered as OpenAI answers them (`tool_calls`, whole or in
//! pieces). Errors are `{"error": {...}}` as OpenAI words them.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ember_evals::providers::{Completion, ProviderError, StreamEvent, Usage};
use ember_service::playground::{ChatCall, EndpointError, PlaygroundError};
use ember_wire::{
    ChatChoice, ChatCompletion, ChatCompletionChunk, ChatDelta, ChatError as ChatErrorWire, ChatErrorBody, ChatFunctionCall, ChatMessage,
    ChatToolCall, ChatToolCallDelta, ChatUsage, ChunkChoice,
};
use futures::StreamExt;
use rand::Rng;
use serde_json::{json, Map, Value};

use crate::authentication::RequestCaller;
use crate::AppState;

const ROLES: &[&str] = &["system", "developer", "user", "assistant"];

/// An error answer in OpenAI's shape.
pub struct ChatError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    param: Option<&'static str>,
}

impl ChatError {
    /// The status and message a playground failure answers with (the web UI's playground
    /// words its refusals the same way).
    pub(crate) fn parts(self) -> (StatusCode, String) {
        (self.status, self.message)
    }

    fn invalid(param: &'static str, message: impl Into<String>) -> Self {
        ChatError { status: StatusCode::UNPROCESSABLE_ENTITY, kind: "invalid_request_error", message: message.into(), param: Some(param) }
    }
}

impl IntoResponse for ChatError {
    fn into_response(self) -> Response {
        let body = ChatErrorWire {
            error: ChatErrorBody { message: self.message, kind: self.kind.into(), param: self.param.map(Into::into), code: None },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<EndpointError> for ChatError {
    fn from(error: EndpointError) -> Self {
        let status = match &error {
            EndpointError::Unknown(_) => StatusCode::NOT_FOUND,
            EndpointError::NotYet(_)
            | EndpointError::MissingKey { .. }
            | EndpointError::BaseUrlRefused { .. }
            | EndpointError::EnvironmentKeyElsewhere { .. }
            | EndpointError::KeyOlderThanBaseUrl { .. } => StatusCode::BAD_REQUEST,
            EndpointError::UnreadableSecret { .. } => {
                return ChatError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    kind: "server_error",
                    message: error.to_string(),
                    param: None,
                };
            }
            EndpointError::Store(store_error) => {
                tracing::error!(error = %store_error, "reading provider secrets failed");
                return ChatError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    kind: "server_error",
                    message: ember_core::INTERNAL_ERROR_MESSAGE.into(),
                    param: None,
                };
            }
        };
        ChatError { status, kind: "invalid_request_error", message: error.to_string(), param: Some("model") }
    }
}

impl From<PlaygroundError> for ChatError {
    fn from(error: PlaygroundError) -> Self {
        match error {
            PlaygroundError::Endpoint(error) => error.into(),
            PlaygroundError::Provider(error) => (&error).into(),
            PlaygroundError::Invalid(message) => {
                ChatError { status: StatusCode::UNPROCESSABLE_ENTITY, kind: "invalid_request_error", message, param: None }
            }
        }
    }
}

impl From<&ProviderError> for ChatError {
    fn from(error: &ProviderError) -> Self {
        // The provider refusing the request (bad key, unknown model) is the caller's to fix; the
        // provider failing or being unreachable is a bad gateway.
        let status = match error {
            ProviderError::Rejected { status, .. } if (400..500).contains(status) => StatusCode::BAD_REQUEST,
            ProviderError::Unsupported(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::BAD_GATEWAY,
        };
        ChatError { status, kind: "provider_error", message: error.to_string(), param: None }
    }
}

/// A request checked and split into where it goes and what is sent.
struct ChatRequest {
    provider: String,
    model_name: String,
    /// The OpenAI body for the provider: `model` is the provider's model name.
    body: Map<String, Value>,
    stream: bool,
    include_usage: bool,
}

fn parse_request(mut body: Map<String, Value>) -> Result<ChatRequest, ChatError> {
    let model = body.get("model").and_then(Value::as_str).unwrap_or_default().to_string();
    if model.starts_with("custom:") {
        return Err(ChatError {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            message: "ember has no custom providers".into(),
            param: Some("model"),
        });
    }
    let (provider, model_name) = model
        .split_once(':')
        .filter(|(provider, name)| !provider.is_empty() && !name.is_empty())
        .ok_or_else(|| ChatError::invalid("model", format!("model must be 'provider:model_name', e.g. 'openai:gpt-4o'; got {model:?}")))?;
    let (provider, model_name) = (provider.to_ascii_lowercase(), model_name.to_string());
    let messages = body.get("messages").and_then(Value::as_array).filter(|messages| !messages.is_empty());
    let messages = messages.ok_or_else(|| ChatError::invalid("messages", "messages must be a list of at least one message"))?;
    for (index, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str).unwrap_or_default();
        if !ROLES.contains(&role) {
            return Err(ChatError::invalid(
                "messages",
                format!("messages[{index}].role must be one of system, developer, user, assistant"),
            ));
        }
        let content_ok = match message.get("content") {
            Some(Value::String(_)) => true,
            Some(Value::Array(parts)) => {
                parts.iter().all(|part| part.get("type") == Some(&json!("text")) && part.get("text").is_some_and(Value::is_string))
            }
            _ => false,
        };
        if !content_ok {
            return Err(ChatError::invalid("messages", format!("messages[{index}].content must be a string or a list of text parts")));
        }
    }
    if let Some(tools) = body.get("tools").filter(|tools| !tools.is_null()) {
        let function_tools = tools.as_array().is_some_and(|tools| {
            tools
                .iter()
                .all(|tool| tool.get("type") == Some(&json!("function")) && tool.pointer("/function/name").is_some_and(Value::is_string))
        });
        if !function_tools {
            return Err(ChatError::invalid(
                "tools",
                "tools must be a list of function tools: {\"type\": \"function\", \"function\": {\"name\": ...}}",
            ));
        }
    }
    let stream = match body.remove("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => stream,
        Some(_) => return Err(ChatError::invalid("stream", "stream must be a boolean")),
    };
    let include_usage =
        body.remove("stream_options").and_then(|options| options.get("include_usage").and_then(Value::as_bool)).unwrap_or(false);
    body.retain(|_, value| !value.is_null());
    body.insert("model".into(), json!(model_name));
    Ok(ChatRequest { provider, model_name, body, stream, include_usage })
}

pub async fn create(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    super::JsonBody(body): super::JsonBody<Map<String, Value>>,
) -> Response {
    match answer(state, caller, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn answer(state: AppState, caller: ember_service::Caller, body: Map<String, Value>) -> Result<Response, ChatError> {
    let request = parse_request(body)?;
    let call = ChatCall { provider: request.provider, model_name: request.model_name.clone(), body: request.body };
    if !request.stream {
        let completion = state.services.playground().complete(&caller, call).await?;
        return Ok(Json(completion_body(&request.model_name, &completion)).into_response());
    }
    let events = state.services.playground().stream(&caller, call).await?;
    let chunk = ChunkWriter { id: completion_id(), created: unix_seconds(), model: request.model_name };
    let first = chunk.frame(ChatDelta { role: Some("assistant".into()), content: Some(String::new()), ..Default::default() }, None);
    let frames = FrameState { events, chunk, include_usage: request.include_usage, first: Some(first), done: false };
    // The answer's frames; the stream ends after `[DONE]`, or after a failure's error frame. If
    // the client leaves, the body and with it the provider's stream are dropped (and the call is
    // traced as unfinished).
    let frames = futures::stream::unfold(frames, |mut frames| async move {
        if let Some(first) = frames.first.take() {
            return Some((Ok::<_, std::convert::Infallible>(first), frames));
        }
        if frames.done {
            return None;
        }
        loop {
            let frame = match frames.events.next().await {
                Some(Ok(StreamEvent::Text(text))) => frames.chunk.frame(ChatDelta { content: Some(text), ..Default::default() }, None),
                Some(Ok(StreamEvent::ToolCallDelta { index, id, name, arguments })) => {
                    let kind = id.as_ref().map(|_| "function".to_string());
                    let call = ChatToolCallDelta { index, id, kind, function: ChatFunctionCall { name, arguments } };
                    frames.chunk.frame(ChatDelta { tool_calls: vec![call], ..Default::default() }, None)
                }
                Some(Ok(StreamEvent::Finish(reason))) => frames.chunk.frame(ChatDelta::default(), Some(&reason)),
                Some(Ok(StreamEvent::Usage(usage))) if frames.include_usage => frames.chunk.usage_frame(&usage),
                Some(Ok(StreamEvent::Usage(_))) => continue,
                // The call is traced before the last frame, so a client that has the whole answer
                // finds its span.
                Some(Err(error)) => {
                    frames.done = true;
                    frames.events.record().await;
                    let body = ChatErrorBody { message: error.to_string(), kind: "provider_error".into(), param: None, code: None };
                    format!("data: {}\n\n", serde_json::to_string(&ChatErrorWire { error: body }).unwrap_or_default())
                }
                None => {
                    frames.done = true;
                    frames.events.record().await;
                    "data: [DONE]\n\n".to_string()
                }
            };
            return Some((Ok(frame), frames));
        }
    });
    Ok(([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], Body::from_stream(frames)).into_response())
}

fn completion_id() -> String {
    format!("chatcmpl-{:032x}", rand::rng().random::<u128>())
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or_default()
}

fn usage_body(usage: &Usage) -> ChatUsage {
    ChatUsage { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total() }
}

fn completion_body(model: &str, completion: &Completion) -> ChatCompletion {
    ChatCompletion {
        id: completion_id(),
        object: "chat.completion".into(),
        created: unix_seconds(),
        model: model.into(),
        choices: vec![ChatChoice {
            index: 0,
            message: ChatMessage {
                role: "assistant".into(),
                content: completion.content.clone(),
                tool_calls: completion
                    .tool_calls
                    .iter()
                    .map(|call| ChatToolCall {
                        id: call.id.clone(),
                        kind: "function".into(),
                        function: ChatFunctionCall { name: Some(call.name.clone()), arguments: call.arguments.clone() },
                    })
                    .collect(),
            },
            finish_reason: completion.finish_reason.clone(),
        }],
        usage: usage_body(&completion.usage),
    }
}

/// Where a streamed answer is.
struct FrameState {
    events: ember_service::playground::RecordedStream,
    chunk: ChunkWriter,
    include_usage: bool,
    /// The opening frame, until it is sent.
    first: Option<String>,
    done: bool,
}

/// Writes `chat.completion.chunk` events of one answer.
struct ChunkWriter {
    id: String,
    created: u64,
    model: String,
}

impl ChunkWriter {
    fn event(&self, chunk: &ChatCompletionChunk) -> String {
        format!("data: {}\n\n", serde_json::to_string(chunk).unwrap_or_default())
    }

    fn chunk(&self, choices: Vec<ChunkChoice>, usage: Option<ChatUsage>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage,
        }
    }

    fn frame(&self, delta: ChatDelta, finish_reason: Option<&str>) -> String {
        self.event(&self.chunk(vec![ChunkChoice { index: 0, delta, finish_reason: finish_reason.map(Into::into) }], None))
    }

    fn usage_frame(&self, usage: &Usage) -> String {
        self.event(&self.chunk(Vec::new(), Some(usage_body(usage))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<ChatRequest, String> {
        parse_request(body.as_object().unwrap().clone()).map_err(|error| format!("{} {}", error.status.as_u16(), error.message))
    }

    #[test]
    fn requests_name_a_provider_and_plain_messages() {
        let ok = parse(json!({"model": "OpenAI:gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": true,
            "stream_options": {"include_usage": true}, "temperature": null, "seed": 3}))
        .unwrap();
        assert_eq!((ok.provider.as_str(), ok.model_name.as_str(), ok.stream, ok.include_usage), ("openai", "gpt-4o-mini", true, true));
        assert_eq!(Value::Object(ok.body), json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "seed": 3}));
        let user = json!([{"role": "user", "content": "hi"}]);
        for (body, expected) in [
            (json!({"model": "gpt-4o", "messages": user}), "422 model must be 'provider:model_name'"),
            (json!({"model": "custom:abc:m", "messages": user}), "404 ember has no custom providers"),
            (json!({"model": "openai:m", "messages": []}), "422 messages must be a list"),
            (json!({"model": "openai:m", "messages": [{"role": "tool", "content": "x"}]}), "422 messages[0].role"),
            (json!({"model": "openai:m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}), "422 messages[0].content"),
            (json!({"model": "openai:m", "messages": user, "tools": [{}]}), "422 tools must be a list of function tools"),
            (json!({"model": "openai:m", "messages": user, "tools": {"type": "function"}}), "422 tools must be a list of function tools"),
            (json!({"model": "openai:m", "messages": user, "stream": "yes"}), "422 stream must be a boolean"),
        ] {
            let error = parse(body.clone()).err().unwrap_or_default();
            assert!(error.starts_with(expected), "{body}: {error}");
        }
    }
}
