//! One error classification for every crate. Each crate keeps its own `thiserror` enum and
//! implements [`ServiceError`]; the server maps [`ErrorCode`] to an HTTP status or a gRPC code.

/// What kind of failure an error is, independent of the transport that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is malformed (HTTP 400).
    BadRequest,
    /// The action is not allowed (HTTP 403).
    Forbidden,
    /// The named resource does not exist (HTTP 404).
    NotFound,
    /// The request conflicts with stored state (HTTP 409).
    Conflict,
    /// The body is larger than allowed after decompression (HTTP 413).
    PayloadTooLarge,
    /// The body's media type or encoding is not supported (HTTP 415).
    UnsupportedMediaType,
    /// The request is well-formed but its content is invalid (HTTP 422).
    Unprocessable,
    /// The server is at capacity; the client should retry later (HTTP 503 / RESOURCE_EXHAUSTED).
    Unavailable,
    /// Something failed inside ember; details are logged, never sent (HTTP 500).
    Internal,
}

/// An error that knows its [`ErrorCode`] and a message that is safe to show a client.
pub trait ServiceError: std::error::Error + Send + Sync + 'static {
    fn error_code(&self) -> ErrorCode;

    /// The text a client sees; the text of internal errors is never shown.
    fn client_message(&self) -> String {
        match self.error_code() {
            ErrorCode::Internal => "an internal error occurred".to_string(),
            _ => self.to_string(),
        }
    }
}
