//! Signing in and out of the web UI, as Phoenix 20.26 serves it: `POST /auth/login` (email and
//! password) and `POST /auth/refresh` answer 204 with the session's cookies, `GET /auth/logout`
//! ends the user's sessions, clears the cookies and redirects to the login page. The tokens are
//! HttpOnly, SameSite=Strict cookies at `PHOENIX_COOKIES_PATH`, Secure with
//! `PHOENIX_USE_SECURE_COOKIES`, lasting as long as their tokens.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cookie::{Cookie, SameSite};
use ember_service::auth::Session;
use ember_wire::LoginRequest;

use crate::authentication::{cookie, MaybeCaller, ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE};
use crate::error::ApiResult;
use crate::AppState;

/// Where and how session cookies are set.
#[derive(Debug, Clone)]
pub struct CookieSettings {
    /// `PHOENIX_COOKIES_PATH`.
    pub path: String,
    /// `PHOENIX_USE_SECURE_COOKIES`.
    pub secure: bool,
}

impl Default for CookieSettings {
    fn default() -> Self {
        CookieSettings { path: "/".into(), secure: false }
    }
}

impl CookieSettings {
    fn cookie(&self, name: &'static str, value: String, max_age_secs: i64) -> HeaderValue {
        let cookie = Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .path(self.path.clone())
            .max_age(cookie::time::Duration::seconds(max_age_secs))
            .build();
        // Tokens are base64url and paths are checked settings: always a valid header value.
        HeaderValue::from_str(&cookie.encoded().to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    fn removal(&self, name: &'static str) -> HeaderValue {
        self.cookie(name, String::new(), 0)
    }
}

fn session_response(state: &AppState, session: Session) -> Response {
    let cookies = &state.cookies;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, cookies.cookie(ACCESS_TOKEN_COOKIE, session.access_token, session.access_max_age));
    headers.append(header::SET_COOKIE, cookies.cookie(REFRESH_TOKEN_COOKIE, session.refresh_token, session.refresh_max_age));
    response
}

/// `POST /auth/login` with `{"email", "password"}`.
pub async fn login(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    // Phoenix reads the two fields from any JSON object; anything else has neither.
    let request = serde_json::from_slice::<LoginRequest>(&body).unwrap_or(LoginRequest { email: None, password: None });
    let session = state.services.auth().login(request.email.as_deref(), request.password.as_deref()).await?;
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
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, state.cookies.removal(ACCESS_TOKEN_COOKIE));
    headers.append(header::SET_COOKIE, state.cookies.removal(REFRESH_TOKEN_COOKIE));
    Ok(response)
}
