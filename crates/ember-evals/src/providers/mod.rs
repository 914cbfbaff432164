//! LLM providers, called with OpenAI's chat completions wire format and answering in it: an
//! OpenAI-compatible API (OpenAI, DeepSeek, xAI, Ollama, Groq, …) is called as it is; Anthropic's
//! messages API is called with the request converted and its answer converted back.
//!
//! Streaming answers arrive as [`StreamEvent`]s whatever the provider, so a caller writes one
//! kind of stream out. Tools are OpenAI function tools; the calls a model asks for come back as
//! [`ToolCall`]s (whole) or [`StreamEvent::ToolCallDelta`]s (streamed), from either protocol.

mod anthropic;
mod openai;

use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde_json::{Map, Value};

/// Which wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    OpenAi,
    Anthropic,
}

/// Where and how to call a provider.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The provider's name, for messages (`openai`, `anthropic`, `deepseek`, …).
    pub provider: String,
    pub protocol: Protocol,
    /// The API root, e.g. `https://api.openai.com/v1` or `https://api.anthropic.com`.
    pub base_url: String,
    pub api_key: Option<String>,
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

impl Usage {
    pub fn total(&self) -> i64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// A tool the model asked to call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    /// The function's name.
    pub name: String,
    /// The arguments, JSON text as the model wrote it.
    pub arguments: String,
}

/// A whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub content: String,
    pub finish_reason: String,
    pub usage: Usage,
    pub tool_calls: Vec<ToolCall>,
}

impl Completion {
    /// Adds a streamed piece of a tool call to the call at its index.
    pub fn add_tool_call_delta(&mut self, index: usize, id: Option<&str>, name: Option<&str>, arguments: &str) {
        // Indices come from the provider; a gap is filled rather than trusted to be small.
        let index = index.min(self.tool_calls.len());
        if index == self.tool_calls.len() {
            self.tool_calls.push(ToolCall::default());
        }
        let call = &mut self.tool_calls[index];
        if let Some(id) = id {
            call.id = id.to_string();
        }
        if let Some(name) = name {
            call.name.push_str(name);
        }
        call.arguments.push_str(arguments);
    }
}
/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Text(String),
    Finish(String),
    Usage(Usage),
    /// A piece of the tool call at `index`: its id and name when it starts, then its arguments.
    ToolCallDelta {
        index: usize,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
}

pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, ProviderError>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("could not reach {provider} at {url}: {reason}")]
    Unreachable { provider: String, url: String, reason: String },
    /// The provider answered with an error; `message` is its own explanation.
    #[error("{provider} answered {status}: {message}")]
    Rejected { provider: String, status: u16, message: String },
    #[error("{provider} sent an answer ember cannot read: {problem}")]
    Malformed { provider: String, problem: String },
    #[error("{0}")]
    Unsupported(String),
}

/// How much of an error answer is read for its message.
const MAX_ERROR_BODY_BYTES: usize = 64 << 10;

/// Calls providers over one connection pool, reading at most `max_answer_bytes` of an answer.
#[derive(Clone)]
pub struct ProviderClient {
    http: reqwest::Client,
    max_answer_bytes: usize,
}

impl ProviderClient {
    pub fn new(timeout: Duration, max_answer_bytes: usize) -> Result<ProviderClient, ProviderError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(timeout)
            .build()
            .map_err(|error| ProviderError::Unsupported(format!("cannot build the HTTP client: {error}")))?;
        Ok(ProviderClient { http, max_answer_bytes })
    }

    /// One answer to `request`, an OpenAI chat completions body whose `model` is the provider's
    /// model name.
    pub async fn complete(&self, endpoint: &Endpoint, request: &Map<String, Value>) -> Result<Completion, ProviderError> {
        match endpoint.protocol {
            Protocol::OpenAi => openai::complete(self, endpoint, request).await,
            Protocol::Anthropic => anthropic::complete(self, endpoint, request).await,
        }
    }

    /// The answer to `request` as it is generated.
    pub async fn stream(&self, endpoint: &Endpoint, request: &Map<String, Value>) -> Result<EventStream, ProviderError> {
        match endpoint.protocol {
            Protocol::OpenAi => openai::stream(self, endpoint, request).await,
            Protocol::Anthropic => anthropic::stream(self, endpoint, request).await,
        }
    }

    /// A whole answer as JSON, refused past the size cap.
    async fn read_json(&self, response: reqwest::Response, endpoint: &Endpoint) -> Result<Value, ProviderError> {
        let mut body = Vec::new();
        let mut chunks = capped(response.bytes_stream(), self.max_answer_bytes);
        while let Some(chunk) = chunks.next().await {
            body.extend_from_slice(chunk.map_err(|error| malformed(endpoint, error.to_string()))?.as_ref());
        }
        serde_json::from_slice(&body).map_err(|error| malformed(endpoint, format!("the answer is not JSON: {error}")))
    }

    /// A streamed answer's bytes as they arrive, ending in an error past the size cap.
    fn answer_bytes(&self, response: reqwest::Response) -> impl Stream<Item = Result<impl AsRef<[u8]>, AnswerError>> {
        capped(response.bytes_stream(), self.max_answer_bytes)
    }
}

/// Why an answer's bytes stopped.
#[derive(Debug, thiserror::Error)]
enum AnswerError {
    #[error("{0}")]
    Transport(#[from] reqwest::Error),
    #[error("the answer is longer than {0} bytes (EMBER_PLAYGROUND_MAX_ANSWER_BYTES)")]
    TooLong(usize),
}

/// `chunks` until `limit` bytes have passed; then one [`AnswerError::TooLong`] and the end.
fn capped<B: AsRef<[u8]>>(
    chunks: impl Stream<Item = Result<B, reqwest::Error>>,
    limit: usize,
) -> impl Stream<Item = Result<B, AnswerError>> {
    chunks
        .scan((0_usize, false), move |(seen, ended), chunk| {
            if *ended {
                return futures::future::ready(None);
            }
            let item = match chunk {
                Ok(chunk) => {
                    *seen += chunk.as_ref().len();
                    if *seen > limit {
                        *ended = true;
                        Err(AnswerError::TooLong(limit))
                    } else {
                        Ok(chunk)
                    }
                }
                Err(error) => {
                    *ended = true;
                    Err(error.into())
                }
            };
            futures::future::ready(Some(item))
        })
        .fuse()
}

/// Sends a JSON request; an error status becomes [`ProviderError::Rejected`] with the provider's
/// own message when it gives one.
async fn send(request: reqwest::RequestBuilder, endpoint: &Endpoint, url: &str) -> Result<reqwest::Response, ProviderError> {
    let response = request.send().await.map_err(|error| ProviderError::Unreachable {
        provider: endpoint.provider.clone(),
        url: url.to_string(),
        reason: without_url(&error),
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let mut text = Vec::new();
    let mut chunks = capped(response.bytes_stream(), MAX_ERROR_BODY_BYTES);
    while let Some(Ok(chunk)) = chunks.next().await {
        text.extend_from_slice(chunk.as_ref());
    }
    let text = String::from_utf8_lossy(&text);
    Err(ProviderError::Rejected { provider: endpoint.provider.clone(), status: status.as_u16(), message: error_message(&text) })
}

/// reqwest's error text without the URL it already names (the caller names it once).
fn without_url(error: &reqwest::Error) -> String {
    let mut reason = error.to_string();
    if let Some(url) = error.url() {
        reason = reason.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    reason
}

/// `{"error": {"message": ...}}` (OpenAI and Anthropic both answer so), or the body itself.
fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message =
        parsed.as_ref().and_then(|value| value.pointer("/error/message").or_else(|| value.get("message"))).and_then(Value::as_str);
    let text = message.unwrap_or(body).trim();
    let mut text: String = text.chars().take(2_000).collect();
    if text.is_empty() {
        text = "no explanation given".into();
    }
    text
}

fn malformed(endpoint: &Endpoint, problem: impl Into<String>) -> ProviderError {
    ProviderError::Malformed { provider: endpoint.provider.clone(), problem: problem.into() }
}

fn join_url(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}
