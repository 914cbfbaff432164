//! Who is calling, established once per HTTP request (REST, GraphQL, OTLP/HTTP, the web UI) and
//! handed to handlers as [`RequestCaller`]: the request's `Authorization: Bearer` token, else its
//! session cookie, checked by the authentication service. Each route of the table then requires
//! its [`Access`] of the caller before the request is parsed (401 for no valid credential, 403
//! for a role that falls short); with authentication off every caller is anonymous and passes.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use ember_service::auth::Presented;
use ember_service::{Caller, ServiceError};

use crate::app::Access;
use crate::error::ApiError;
use crate::AppState;

/// Phoenix's cookie names.
pub const ACCESS_TOKEN_COOKIE: &str = "phoenix-access-token";
pub const REFRESH_TOKEN_COOKIE: &str = "phoenix-refresh-token";

/// The outcome of authenticating a request, kept in its extensions.
#[derive(Clone)]
struct Authentication(Result<Caller, ErrorShown>);

/// A refusal, kept as the parts of the service error that a response shows.
#[derive(Clone)]
struct ErrorShown {
    code: ember_core::ErrorCode,
    message: String,
}

impl From<ServiceError> for ErrorShown {
    fn from(error: ServiceError) -> Self {
        if error.code() == ember_core::ErrorCode::Internal {
            tracing::error!(%error, "authentication failed");
        }
        ErrorShown { code: error.code(), message: ember_core::ClassifiedError::client_message(&error) }
    }
}

impl ErrorShown {
    fn into_error(self) -> ServiceError {
        ServiceError::new(self.code, self.message)
    }
}

/// The value of a cookie of the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value_trimmed().to_string())
        .filter(|value| !value.is_empty())
}

/// What the request presents: a bearer token (an `Authorization` header of another scheme
/// presents nothing, as in Phoenix), else the session cookie (`session_cookie`).
/// On the `arize` SDK's upload paths a bare key is a bearer token too.
pub fn presented<'a>(headers: &'a HeaderMap, session_cookie: Option<&'a str>, path: &str) -> Presented<'a> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default();
        return match crate::arize::BARE_KEY_PATHS.contains(&path) {
            true => Presented::bare_or_bearer(value),
            false => Presented::authorization(value),
        };
    }
    session_cookie.map_or(Presented::Nothing, Presented::SessionCookie)
}

/// Middleware: authenticates every request once and keeps the outcome for the route's check
/// and its handler.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let session_cookie = cookie(request.headers(), ACCESS_TOKEN_COOKIE);
    let outcome = state
        .services
        .auth()
        .authenticate(presented(request.headers(), session_cookie.as_deref(), request.uri().path()))
        .await
        .map_err(ErrorShown::from);
    request.extensions_mut().insert(Authentication(outcome));
    next.run(request).await
}

/// Route middleware: the caller must have `access`; `refusal` answers one who has not.
pub(crate) async fn require(access: Access, refusal: crate::app::Refusal, request: Request, next: Next) -> Response {
    if access != Access::Public {
        let checked = match request.extensions().get::<Authentication>() {
            Some(Authentication(Ok(caller))) => match access {
                Access::Public | Access::SignedIn => Ok(()),
                Access::Write => caller.require_write(),
                Access::Admin => caller.require_admin(),
            },
            Some(Authentication(Err(shown))) => Err(shown.clone().into_error()),
            None => Err(ServiceError::internal("a route ran without the authentication middleware")),
        };
        if let Err(error) = checked {
            return refusal(error, request.headers());
        }
    }
    next.run(request).await
}

/// The caller the request authenticated as, if it did.
pub(crate) fn authenticated(request: &Request) -> Option<&Caller> {
    match request.extensions().get::<Authentication>() {
        Some(Authentication(Ok(caller))) => Some(caller),
        _ => None,
    }
}

/// Makes `caller` the request's caller (after its session was refreshed).
pub(crate) fn set_authenticated(request: &mut Request, caller: Caller) {
    request.extensions_mut().insert(Authentication(Ok(caller)));
}

/// The request's caller (handlers' extractor); a request without a valid credential never
/// reaches a handler that takes one.
pub struct RequestCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for RequestCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestCaller(caller_of(&parts.extensions)?))
    }
}

/// The caller a request authenticated as, from its extensions (for transports handed a
/// request's parts rather than a request: MCP).
pub(crate) fn caller_of(extensions: &axum::http::Extensions) -> Result<Caller, ServiceError> {
    match extensions.get::<Authentication>() {
        Some(Authentication(Ok(caller))) => Ok(caller.clone()),
        Some(Authentication(Err(shown))) => Err(shown.clone().into_error()),
        None => Err(ServiceError::internal("a handler ran without the authentication middleware")),
    }
}

/// The request's caller when it has one: `None` where authentication failed (signing out).
pub struct MaybeCaller(pub Option<Caller>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeCaller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeCaller(match parts.extensions.get::<Authentication>() {
            Some(Authentication(Ok(caller))) => Some(caller.clone()),
            _ => None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_token_wins_over_the_cookie_and_other_schemes_present_nothing() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=b; phoenix-access-token=cookie-token".parse().unwrap());
        let session = cookie(&headers, ACCESS_TOKEN_COOKIE);
        assert_eq!(session.as_deref(), Some("cookie-token"));
        assert!(matches!(presented(&headers, session.as_deref(), "/v1/projects"), Presented::SessionCookie("cookie-token")));
        headers.insert(header::AUTHORIZATION, "bearer key-token".parse().unwrap());
        assert!(matches!(presented(&headers, session.as_deref(), "/v1/projects"), Presented::Bearer("key-token")));
        headers.insert(header::AUTHORIZATION, "Basic dXNlcjpwdw==".parse().unwrap());
        assert!(matches!(presented(&headers, session.as_deref(), "/v1/projects"), Presented::Nothing));
        headers.insert(header::AUTHORIZATION, "bare-key".parse().unwrap());
        assert!(
            matches!(presented(&headers, session.as_deref(), "/v1/projects"), Presented::Nothing),
            "bare keys only where the SDK sends them"
        );
        assert!(matches!(presented(&headers, session.as_deref(), "/v1/pandas_arrow"), Presented::Bearer("bare-key")));
    }
}
