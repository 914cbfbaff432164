//! HTTP errors in Phoenix's shapes: text/plain bodies, except 422 validation errors, which are
//! FastAPI-style JSON (`{"detail": [{"type", "loc", "msg", "input"}]}`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ember_core::{ErrorCode, ServiceError};
use serde_json::{json, Value};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after: bool,
}

#[derive(Debug)]
enum ErrorBody {
    Text(String),
    Json(Value),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, body: ErrorBody::Text(message.into()), retry_after: false }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// The message of a plain-text error (the web UI shows it).
    pub fn message(&self) -> Option<&str> {
        match &self.body {
            ErrorBody::Text(text) => Some(text),
            ErrorBody::Json(_) => None,
        }
    }

    /// A failure of ember itself: logged, and answered without its details.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }

    /// A FastAPI-style validation error for one location, e.g. `["query", "limit"]`.
    pub fn validation(location: &[&str], kind: &str, message: impl Into<String>, input: Value) -> Self {
        Self::validation_at(json!(location), kind, message, input)
    }

    /// A validation error whose location mixes names and list indices (`["body", "data", 0]`).
    pub fn validation_at(location: Value, kind: &str, message: impl Into<String>, input: Value) -> Self {
        let detail = json!({"detail": [{"type": kind, "loc": location, "msg": message.into(), "input": input}]});
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, body: ErrorBody::Json(detail), retry_after: false }
    }
}

pub fn http_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl<E: ServiceError> From<E> for ApiError {
    fn from(error: E) -> Self {
        let code = error.error_code();
        if code == ErrorCode::Internal {
            tracing::error!(error = %error, "request failed");
        }
        ApiError { status: http_status(code), body: ErrorBody::Text(error.client_message()), retry_after: code == ErrorCode::Unavailable }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            ErrorBody::Text(text) => (self.status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
            ErrorBody::Json(value) => (self.status, axum::Json(value)).into_response(),
        };
        if self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
