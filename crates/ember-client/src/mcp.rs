//! The MCP endpoint as a stdio relay sees it: one JSON-RPC message posted to `/mcp`, and the
//! messages the server answers with (none for a notification).

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::Method;

use crate::{Client, ClientError};

/// The header naming the protocol version a client negotiated (Streamable HTTP).
const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";

impl Client {
    /// Posts one JSON-RPC message to `/mcp`; returns the JSON-RPC messages of the answer, in
    /// order (a JSON body holds one, an event stream one per `data:` event).
    pub async fn mcp_post(&self, message: Vec<u8>, protocol_version: Option<&str>) -> Result<Vec<String>, ClientError> {
        let mut request = self
            .request(Method::POST, "mcp")
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream")
            .body(message);
        if let Some(version) = protocol_version {
            request = request.header(PROTOCOL_VERSION_HEADER, version);
        }
        let label = "POST /mcp";
        let response = self.send(label, request).await?;
        let event_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        let body = response.text().await.map_err(|source| ClientError::Transport { request: label.to_string(), source })?;
        Ok(match event_stream {
            true => event_data(&body),
            false => Some(body.trim().to_string()).filter(|text| !text.is_empty()).into_iter().collect(),
        })
    }
}

/// The data of each event of a server-sent event stream (multi-line data joined by newlines).
fn event_data(stream: &str) -> Vec<String> {
    let mut events = Vec::new();
    let mut data: Vec<&str> = Vec::new();
    for line in stream.lines().chain([""]) {
        if line.is_empty() {
            if !data.is_empty() {
                events.push(data.join("\n"));
                data.clear();
            }
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    events.into_iter().filter(|event| !event.trim().is_empty()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn events_are_read_from_a_stream() {
        let stream = "id: 1\ndata: {\"a\":1}\n\nevent: message\ndata: {\"b\":\ndata: 2}\n\ndata:\n\n";
        assert_eq!(super::event_data(stream), vec!["{\"a\":1}".to_string(), "{\"b\":\n2}".to_string()]);
    }
}
