//! Signing in and out of the web UI, as Phoenix 20.26 serves it: `POST /auth/login` (email and
//! password) and `POST /auth/refresh` answer 204 with the session's cookies, `GET /auth/logout`
//! ends the user's sessions, `POST /auth/ldap/login` signs in against the LDAP directory (204 with
//! the cookies), clears the cookies and redirects to the login page (cookies as
//! [`crate::session_cookies`] sets them). `POST /auth/password-reset-email` mails a one-time
//! reset link and `POST /auth/password-reset` uses it, both answering 204.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use ember_service::auth::Session;
use ember_wire::{LdapLoginRequest, LoginRequest, PasswordResetEmailRequest, PasswordResetRequest};

use crate::authentication::{cookie, MaybeCaller, ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE};
use crate::error::ApiResult;
use crate::AppState;

fn session_response(state: &AppState, session: Session) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    state.cookies.set_session(response.headers_mut(), session);
    response
}

/// `POST /auth/login` with `{"email", "password"}`.
pub async fn login(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    // Phoenix reads the two fields from any JSON object; anything else has neither.
    let request = serde_json::from_slice::<LoginRequest>(&body).unwrap_or(LoginRequest { email: None, password: None });
    let session = state.services.auth().login(request.email.as_deref(), request.password.as_deref()).await?;
    Ok(session_response(&state, session))
}

/// `POST /auth/ldap/login` with `{"username", "password"}`: 401 for any refusal, 503 without a
/// directory.
pub async fn ldap_login(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let request = serde_json::from_slice::<LdapLoginRequest>(&body).unwrap_or_default();
    let session = state.services.auth().ldap_login(request.username.as_deref(), request.password.as_deref()).await?;
    Ok(session_response(&state, session))
}

/// `POST /auth/refresh` with the refresh-token cookie.
pub async fn refresh(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let refresh_token = cookie(&headers, REFRESH_TOKEN_COOKIE);
    let access_token = cookie(&headers, ACCESS_TOKEN_COOKIE);
    let session = state.services.auth().refresh(refresh_token.as_deref(), access_token.as_deref()).await?;
    Ok(session_response(&state, session))
}

/// `GET /auth/logout`: always signs out, whoever asks.
pub async fn logout(State(state): State<AppState>, MaybeCaller(caller): MaybeCaller, headers: HeaderMap) -> ApiResult<Response> {
    let refresh_token = cookie(&headers, REFRESH_TOKEN_COOKIE);
    state.services.auth().logout(caller.as_ref(), refresh_token.as_deref()).await?;
    let page = if state.services.auth().basic_auth_enabled() { "/login" } else { "/logout" };
    let mut response = (StatusCode::FOUND, [(header::LOCATION, page)]).into_response();
    state.cookies.clear_sign_in(response.headers_mut());
    Ok(response)
}

/// `POST /auth/password-reset-email` with `{"email"}`: 204 whether or not the address has an
/// account (the link goes to the server's own address, `PHOENIX_ROOT_URL`).
pub async fn password_reset_email(State(state): State<AppState>, body: Bytes) -> ApiResult<StatusCode> {
    let request = serde_json::from_slice::<PasswordResetEmailRequest>(&body).unwrap_or_default();
    state.services.auth().request_password_reset(request.email.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /auth/password-reset` with `{"token", "password"}`: 204, or 401 for a token that is not
/// a live one.
pub async fn password_reset(State(state): State<AppState>, body: Bytes) -> ApiResult<StatusCode> {
    let request = serde_json::from_slice::<PasswordResetRequest>(&body).unwrap_or_default();
    state.services.auth().reset_password(request.token.as_deref(), request.password.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
