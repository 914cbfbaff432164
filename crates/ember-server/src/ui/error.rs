//! Pages for what went wrong: a status and a message for the reader, never internal details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ember_store::StoreError;
use maud::html;

use super::layout::{shell, Section};

#[derive(Debug)]
pub struct UiError {
    status: StatusCode,
    message: String,
}

pub type UiResult<T> = Result<T, UiError>;

impl UiError {
    pub fn not_found(message: impl Into<String>) -> Self {
        UiError { status: StatusCode::NOT_FOUND, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        UiError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
}

impl From<StoreError> for UiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(message) => UiError::not_found(message),
            StoreError::Invalid(message) | StoreError::Conflict(message) => UiError::bad_request(message),
            StoreError::QueryTimeout { .. } => UiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "The query took too long; narrow the time range or the filter.".into(),
            },
            other => {
                tracing::error!(error = %other, "page failed");
                UiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    message: "Something went wrong; the server log has the details.".into(),
                }
            }
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = shell(
            title,
            Section::None,
            html! {
                h1 #error-page data-status=(self.status.as_u16()) { (title) }
                p.notice.error { (self.message) }
                p { a href="/projects" { "Back to projects" } }
            },
        );
        (self.status, body).into_response()
    }
}
