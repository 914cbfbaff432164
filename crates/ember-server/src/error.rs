//! HTTP errors in Phoenix's shapes: text/plain bodies, except 422 validation errors, which are
//! FastAPI-style JSON (`{"detail": [{"type", "loc", "msg", "input"}]}`). Every error a service or
//! a lower layer returns is answered through its [`ErrorCode`]: the status, `Retry-After` when
//! the request may be retried, and the generic text (the cause logged) for internal failures.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ember_core::{ClassifiedError, ErrorCode, INTERNAL_ERROR_MESSAGE};
use ember_service::{PathSegment, ServiceError};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after: bool,
}

#[derive(Debug)]
enum ErrorBody {
    Text(String),
    Validation(Box<ValidationBody>),
}

/// FastAPI's 422 body.
#[derive(Debug, Serialize)]
struct ValidationBody {
    detail: [ValidationDetail; 1],
}

#[derive(Debug, Serialize)]
struct ValidationDetail {
    #[serde(rename = "type")]
    kind: String,
    loc: Vec<Value>,
    msg: String,
    input: Value,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The HTTP status of an error code.
pub fn http_status(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

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

    /// A failure of ember itself: logged, and answered without its details.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR_MESSAGE)
    }

    /// A FastAPI-style validation error for one location, e.g. `["query", "limit"]`.
    pub fn validation(location: &[&str], kind: &str, message: impl Into<String>, input: Value) -> Self {
        Self::validation_at(location.iter().map(|segment| Value::from(*segment)).collect(), kind, message, input)
    }

    /// A validation error whose location mixes names and list indices (`["body", "data", 0]`).
    pub fn validation_at(location: Vec<Value>, kind: &str, message: impl Into<String>, input: Value) -> Self {
        let detail = ValidationDetail { kind: kind.to_string(), loc: location, msg: message.into(), input };
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: ErrorBody::Validation(Box::new(ValidationBody { detail: [detail] })),
            retry_after: false,
        }
    }

    /// A service error about a field of a body part: its location is `prefix` then the field's
    /// path (the default prefix is `["body"]`).
    pub fn from_service_at(error: ServiceError, prefix: &[&str]) -> Self {
        match error.field_error() {
            Some(field) if error.code() == ErrorCode::Unprocessable => {
                let mut location: Vec<Value> = prefix.iter().map(|segment| Value::from(*segment)).collect();
                location.extend(field.path.iter().map(|segment| match segment {
                    PathSegment::Key(key) => Value::from(key.as_str()),
                    PathSegment::Index(index) => Value::from(*index),
                }));
                Self::validation_at(location, field.kind, error.client_message(), field.input.clone())
            }
            _ => Self::classified(&error),
        }
    }

    /// The message the client reads (a validation error's `msg`).
    pub fn client_message(&self) -> &str {
        match &self.body {
            ErrorBody::Text(text) => text,
            ErrorBody::Validation(body) => &body.detail[0].msg,
        }
    }

    /// The error as a gRPC status: the code of the error code with its HTTP status, the message
    /// the client would read.
    pub fn grpc_status(self) -> tonic::Status {
        let code = ErrorCode::ALL.into_iter().find(|code| code.http_status() == self.status.as_u16()).unwrap_or(ErrorCode::Internal);
        let message = match self.body {
            ErrorBody::Text(text) => text,
            ErrorBody::Validation(body) => body.detail[0].msg.clone(),
        };
        tonic::Status::new(tonic::Code::from_i32(code.grpc_code()), message)
    }

    /// Any classified error: its status, its client message, `Retry-After` when retryable.
    pub fn classified(error: &impl ClassifiedError) -> Self {
        let code = error.error_code();
        if code == ErrorCode::Internal {
            tracing::error!(error = %error, "request failed");
        }
        ApiError { status: http_status(code), body: ErrorBody::Text(error.client_message()), retry_after: code.is_retryable() }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        ApiError::from_service_at(error, &["body"])
    }
}

impl From<crate::body::BodyError> for ApiError {
    fn from(error: crate::body::BodyError) -> Self {
        ApiError::classified(&error)
    }
}

impl From<crate::spool::SpoolError> for ApiError {
    fn from(error: crate::spool::SpoolError) -> Self {
        ApiError::classified(&error)
    }
}

impl From<ember_otlp::OtlpError> for ApiError {
    fn from(error: ember_otlp::OtlpError) -> Self {
        ApiError::classified(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            ErrorBody::Text(text) => (self.status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
            ErrorBody::Validation(body) => (self.status, axum::Json(body)).into_response(),
        };
        if self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// An error as Arize AX's REST API v2 answers it: an RFC 9457 problem
/// (`application/problem+json`: `title`, `status`, `type`, `detail`), which the `arize` SDK reads
/// into its exceptions.
#[derive(Debug)]
pub struct Problem(ApiError);

#[derive(Serialize)]
struct ProblemBody {
    title: &'static str,
    status: u16,
    #[serde(rename = "type")]
    kind: &'static str,
    detail: String,
}

impl<E: Into<ApiError>> From<E> for Problem {
    fn from(error: E) -> Self {
        Problem(error.into())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let ApiError { status, body, .. } = self.0;
        let detail = match body {
            ErrorBody::Text(text) => text,
            ErrorBody::Validation(body) => body.detail[0].msg.clone(),
        };
        let body =
            ProblemBody { title: status.canonical_reason().unwrap_or("Error"), status: status.as_u16(), kind: "about:blank", detail };
        let text = serde_json::to_string(&body).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/problem+json")], text).into_response()
    }
}

pub type ProblemResult<T> = Result<T, Problem>;
