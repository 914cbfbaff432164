//! The one error every service returns: an [`ErrorCode`], a message a client may read, and for
//! a bad field of the input, where it is (REST renders that as FastAPI's 422 `loc`). Internal
//! failures keep their cause for the log and show only the generic text.

use ember_core::{ClassifiedError, ErrorCode};
use serde_json::Value;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// One step of a field's location in the input: a name or a list index.
#[derive(Debug, Clone, PartialEq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

impl From<&str> for PathSegment {
    fn from(key: &str) -> Self {
        PathSegment::Key(key.to_string())
    }
}

impl From<usize> for PathSegment {
    fn from(index: usize) -> Self {
        PathSegment::Index(index)
    }
}

/// A field of the input that broke a rule: where, which rule (pydantic's error type names, which
/// Phoenix clients see), and the value given.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub path: Vec<PathSegment>,
    pub kind: &'static str,
    pub input: Value,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    code: ErrorCode,
    message: String,
    field: Option<Box<FieldError>>,
}

impl ServiceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ServiceError { code, message: message.into(), field: None }
    }

    /// A request whose content breaks a rule (422).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unprocessable, message)
    }

    /// A malformed request (400).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// A failure inside ember: its text is logged where the error is answered, never shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Internal, cause.to_string())
    }

    /// A field of the input that breaks a rule (422 naming the field).
    pub fn field(path: &[PathSegment], kind: &'static str, message: impl Into<String>, input: Value) -> Self {
        ServiceError {
            code: ErrorCode::Unprocessable,
            message: message.into(),
            field: Some(Box::new(FieldError { path: path.to_vec(), kind, input })),
        }
    }

    /// An error of another layer, keeping its classification and message.
    pub fn classified(error: &impl ClassifiedError) -> Self {
        Self::new(error.error_code(), error.to_string())
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The field at fault, when the error is about one.
    pub fn field_error(&self) -> Option<&FieldError> {
        self.field.as_deref()
    }

    /// The same error with its message prefixed (e.g. the item of a batch it is about).
    pub fn context(mut self, prefix: impl std::fmt::Display) -> Self {
        if self.code != ErrorCode::Internal {
            self.message = format!("{prefix}: {}", self.message);
        }
        self
    }
}

impl ClassifiedError for ServiceError {
    fn error_code(&self) -> ErrorCode {
        self.code
    }
}

impl From<ember_store::StoreError> for ServiceError {
    fn from(error: ember_store::StoreError) -> Self {
        ServiceError::classified(&error)
    }
}

impl From<ember_store::QueueFull> for ServiceError {
    fn from(error: ember_store::QueueFull) -> Self {
        ServiceError::classified(&error)
    }
}

impl From<ember_otlp::OtlpError> for ServiceError {
    fn from(error: ember_otlp::OtlpError) -> Self {
        ServiceError::classified(&error)
    }
}

impl From<tokio::task::JoinError> for ServiceError {
    fn from(error: tokio::task::JoinError) -> Self {
        ServiceError::internal(format!("a blocking task failed: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_text_is_never_the_client_message() {
        let error = ServiceError::internal("disk I/O error at /var/lib/ember/ember.db");
        assert_eq!(error.client_message(), ember_core::INTERNAL_ERROR_MESSAGE);
        assert!(error.to_string().contains("disk I/O"), "the log keeps the cause");
        assert_eq!(ServiceError::not_found("Project not found: x").context("data[0]").client_message(), "data[0]: Project not found: x");
    }
}
