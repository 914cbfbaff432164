//! One error classification for every crate and every transport. Each crate keeps its own
//! `thiserror` enum and implements [`ClassifiedError`]; [`ErrorCode`] knows its HTTP status, its
//! gRPC code and its GraphQL name, so REST, the web UI, GraphQL and gRPC answer the same error
//! the same way.

/// The one text a client sees for a failure inside ember (the details go to the log).
pub const INTERNAL_ERROR_MESSAGE: &str = "Internal Server Error";

/// What kind of failure an error is, independent of the transport that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is malformed (HTTP 400).
    BadRequest,
    /// The caller is not signed in, or its credential is invalid or expired (HTTP 401 /
    /// gRPC UNAUTHENTICATED).
    Unauthenticated,
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
    /// The caller has tried too often (failed sign-ins); it must wait (HTTP 429).
    TooManyRequests,
    /// The server is at capacity or a write could not commit; the client should retry later
    /// (HTTP 503 with `Retry-After` / gRPC RESOURCE_EXHAUSTED).
    Unavailable,
    /// The database or its disk is past a storage limit: writes that add data are refused until
    /// space is freed or the limit raised (HTTP 507 / gRPC RESOURCE_EXHAUSTED).
    InsufficientStorage,
    /// Something failed inside ember; details are logged, never sent (HTTP 500).
    Internal,
}

impl ErrorCode {
    /// Every code, for tests that check each transport answers all of them.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Unprocessable,
        ErrorCode::TooManyRequests,
        ErrorCode::Unavailable,
        ErrorCode::InsufficientStorage,
        ErrorCode::Internal,
    ];

    /// The HTTP status code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Unprocessable => 422,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::InsufficientStorage => 507,
            ErrorCode::Internal => 500,
        }
    }

    /// The gRPC status code (the numbers of `google.rpc.Code`). Client mistakes are
    /// INVALID_ARGUMENT, which OTLP exporters treat as permanent; only a full server is
    /// RESOURCE_EXHAUSTED, which they retry.
    pub fn grpc_code(self) -> i32 {
        const INVALID_ARGUMENT: i32 = 3;
        const NOT_FOUND: i32 = 5;
        const ALREADY_EXISTS: i32 = 6;
        const PERMISSION_DENIED: i32 = 7;
        const RESOURCE_EXHAUSTED: i32 = 8;
        const INTERNAL: i32 = 13;
        const UNAUTHENTICATED: i32 = 16;
        match self {
            ErrorCode::BadRequest | ErrorCode::PayloadTooLarge | ErrorCode::UnsupportedMediaType | ErrorCode::Unprocessable => {
                INVALID_ARGUMENT
            }
            ErrorCode::Unauthenticated => UNAUTHENTICATED,
            ErrorCode::Forbidden => PERMISSION_DENIED,
            ErrorCode::NotFound => NOT_FOUND,
            ErrorCode::Conflict => ALREADY_EXISTS,
            ErrorCode::TooManyRequests | ErrorCode::Unavailable | ErrorCode::InsufficientStorage => RESOURCE_EXHAUSTED,
            ErrorCode::Internal => INTERNAL,
        }
    }

    /// The name GraphQL errors carry in `extensions.code`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::Unprocessable => "UNPROCESSABLE",
            ErrorCode::TooManyRequests => "TOO_MANY_REQUESTS",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::InsufficientStorage => "INSUFFICIENT_STORAGE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// Whether the same request may succeed later (nothing was written).
    pub fn is_retryable(self) -> bool {
        self == ErrorCode::Unavailable
    }
}

/// An error that knows its [`ErrorCode`] and a message that is safe to show a client.
pub trait ClassifiedError: std::error::Error + Send + Sync + 'static {
    fn error_code(&self) -> ErrorCode;

    /// The text a client sees; the text of internal errors is never shown.
    fn client_message(&self) -> String {
        match self.error_code() {
            ErrorCode::Internal => INTERNAL_ERROR_MESSAGE.to_string(),
            _ => self.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_answer_per_transport() {
        let codes = ErrorCode::ALL;
        let statuses: Vec<u16> = codes.iter().map(|code| code.http_status()).collect();
        assert_eq!(statuses, [400, 401, 403, 404, 409, 413, 415, 422, 429, 503, 507, 500]);
        assert_eq!(ErrorCode::Unauthenticated.grpc_code(), 16, "a missing or bad key is UNAUTHENTICATED");
        assert_eq!(ErrorCode::Unavailable.grpc_code(), 8, "a full queue is RESOURCE_EXHAUSTED, which exporters retry");
        assert_eq!(ErrorCode::PayloadTooLarge.grpc_code(), 3, "a batch that can never fit is not retryable");
        assert!(codes.iter().filter(|code| code.is_retryable()).eq([&ErrorCode::Unavailable]));
    }
}
