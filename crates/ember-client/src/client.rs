use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ClientError;

/// Attempts at a request that failed transiently (unreachable or overloaded server).
const ATTEMPTS: u32 = 4;

/// Where the server is and how to authenticate, as the Phoenix clients take it.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    /// The server's base URL, e.g. `http://localhost:6006`.
    pub endpoint: String,
    /// Sent as `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// Extra headers on every request (`PHOENIX_CLIENT_HEADERS`).
    pub headers: Vec<(String, String)>,
    /// Per-request timeout; none by default.
    pub timeout: Option<Duration>,
}

/// A client of one server. Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

/// The `{"data": …}` envelope of every REST answer.
#[derive(serde::Deserialize)]
pub(crate) struct Envelope<T> {
    pub data: T,
}

/// A page of a cursor-paginated list.
#[derive(serde::Deserialize)]
pub(crate) struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl Client {
    pub fn new(config: &ClientConfig) -> Result<Client, ClientError> {
        let base = config.endpoint.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Invalid(format!("the endpoint `{}` is not an http:// or https:// URL", config.endpoint)));
        }
        let mut headers = HeaderMap::new();
        if let Some(key) = config.api_key.as_deref().filter(|key| !key.is_empty()) {
            let value = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| ClientError::Invalid("the API key is not a valid header value".into()))?;
            headers.insert(AUTHORIZATION, value);
        }
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ClientError::Invalid(format!("`{name}` is not a valid header name")))?;
            let value =
                HeaderValue::from_str(value).map_err(|_| ClientError::Invalid(format!("the value of header `{name}` is not valid")))?;
            headers.insert(name, value);
        }
        let mut builder = reqwest::Client::builder().default_headers(headers);
        if let Some(timeout) = config.timeout {
            builder = builder.timeout(timeout);
        }
        let http = builder.build().map_err(|error| ClientError::Invalid(format!("cannot build the HTTP client: {error}")))?;
        Ok(Client { http, base })
    }

    pub fn endpoint(&self) -> &str {
        &self.base
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}/{}", self.base, path.trim_start_matches('/')))
    }

    /// Sends a request, retrying transient failures when it can be rebuilt, and turns an error
    /// status into [`ClientError::Status`] with the server's message.
    pub(crate) async fn send(&self, label: &str, request: RequestBuilder) -> Result<Response, ClientError> {
        let mut pending = request;
        let mut attempt = 1;
        loop {
            // A streamed body cannot be cloned, so such a request is sent once.
            let spare = if attempt < ATTEMPTS { pending.try_clone() } else { None };
            match (Self::send_once(label, pending).await, spare) {
                (Err(error), Some(next)) if error.is_transient() => {
                    tracing::debug!(%error, attempt, "retrying");
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                    attempt += 1;
                    pending = next;
                }
                (outcome, _) => return outcome,
            }
        }
    }

    async fn send_once(label: &str, request: RequestBuilder) -> Result<Response, ClientError> {
        let response = request.send().await.map_err(|source| ClientError::Transport { request: label.to_string(), source })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let message = response.text().await.unwrap_or_default();
        Err(ClientError::Status { request: label.to_string(), status, message: message.trim().to_string() })
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, ClientError> {
        let label = format!("GET /{path}");
        let response = self.send(&label, self.request(Method::GET, path).query(query)).await?;
        decode(&label, response).await
    }

    pub(crate) async fn post_json<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T, ClientError> {
        let label = format!("POST /{path}");
        let body = serde_json::to_vec(body).map_err(|error| ClientError::Invalid(format!("{label}: cannot encode the body: {error}")))?;
        let request = self.request(Method::POST, path).header(CONTENT_TYPE, "application/json").body(body);
        let response = self.send(&label, request).await?;
        decode(&label, response).await
    }

    /// Every item of a cursor-paginated list.
    pub(crate) async fn get_all<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<T>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params: Vec<(&str, &str)> = query.to_vec();
            params.push(("limit", "100"));
            if let Some(cursor) = cursor.as_deref() {
                params.push(("cursor", cursor));
            }
            let page: Page<T> = self.get_json(path, &params).await?;
            items.extend(page.data);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }
}

pub(crate) async fn decode<T: DeserializeOwned>(label: &str, response: Response) -> Result<T, ClientError> {
    let bytes = response.bytes().await.map_err(|source| ClientError::Transport { request: label.to_string(), source })?;
    serde_json::from_slice(&bytes).map_err(|error| ClientError::Decode { request: label.to_string(), problem: error.to_string() })
}
