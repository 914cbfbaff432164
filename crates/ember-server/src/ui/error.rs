//! Pages for what went wrong: the status and message of the error's classification (as every
//! transport answers it), never internal details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ember_core::{ClassifiedError, ErrorCode};
use ember_service::ServiceError;
use maud::html;

use super::layout::{shell, Section};

#[derive(Debug)]
pub struct UiError {
    status: StatusCode,
    message: String,
}

pub type UiResult<T> = Result<T, UiError>;

impl UiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        UiError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        UiError { status: StatusCode::NOT_FOUND, message: message.into() }
    }
}

impl From<ServiceError> for UiError {
    fn from(error: ServiceError) -> Self {
        let code = error.error_code();
        if code == ErrorCode::Internal {
            tracing::error!(%error, "page failed");
        }
        UiError { status: crate::error::http_status(code), message: error.client_message() }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = shell(
            title,
            Section::None,
            &ember_service::Caller::anonymous(),
            html! {
                h1 #error-page data-status=(self.status.as_u16()) { (title) }
                p.notice.error { (self.message) }
                @if self.status == StatusCode::NOT_FOUND {
                    form.toolbar method="get" action="/search" {
                        input type="search" name="q" placeholder="Search for what you were looking for" aria-label="search";
                        button type="submit" { "Search" }
                    }
                    p.links #not-found-links {
                        a href="/projects" { "Projects" } " · " a href="/datasets" { "Datasets" } " · "
                        a href="/prompts" { "Prompts" } " · " a href="/settings" { "Settings" }
                    }
                } @else {
                    p { a href="/projects" { "Back to projects" } }
                }
            },
        );
        (self.status, body).into_response()
    }
}
