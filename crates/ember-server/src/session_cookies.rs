//! The session's cookies, as Phoenix sets them: the access and refresh tokens as HttpOnly,
//! SameSite=Strict cookies at `PHOENIX_COOKIES_PATH`, Secure with `PHOENIX_USE_SECURE_COOKIES`,
//! each lasting as long as its token.

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};
use ember_service::auth::Session;

use crate::authentication::{ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE};

/// The cookies Phoenix keeps while an OAuth2 sign-in is under way.
pub const OAUTH2_STATE_COOKIE: &str = "phoenix-oauth2-state";
pub const OAUTH2_NONCE_COOKIE: &str = "phoenix-oauth2-nonce";
pub const OAUTH2_CODE_VERIFIER_COOKIE: &str = "phoenix-oauth2-code-verifier";
const OAUTH2_COOKIES: [&str; 3] = [OAUTH2_STATE_COOKIE, OAUTH2_NONCE_COOKIE, OAUTH2_CODE_VERIFIER_COOKIE];

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
        self.cookie_with(name, value, max_age_secs, SameSite::Strict)
    }

    fn cookie_with(&self, name: &'static str, value: String, max_age_secs: i64, same_site: SameSite) -> HeaderValue {
        let cookie = Cookie::build((name, value))
            .http_only(true)
            .same_site(same_site)
            .secure(self.secure)
            .path(self.path.clone())
            .max_age(cookie::time::Duration::seconds(max_age_secs))
            .build();
        // Tokens are base64url and paths are checked settings: always a valid header value.
        HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// An expired cookie whose value is `""`, as Starlette (and so Phoenix) writes a removal.
    fn removal(&self, name: &'static str) -> HeaderValue {
        self.cookie(name, "\"\"".into(), 0)
    }

    /// Sets a session's two cookies on a response.
    pub fn set_session(&self, headers: &mut HeaderMap, session: Session) {
        headers.append(header::SET_COOKIE, self.cookie(ACCESS_TOKEN_COOKIE, session.access_token, session.access_max_age));
        headers.append(header::SET_COOKIE, self.cookie(REFRESH_TOKEN_COOKIE, session.refresh_token, session.refresh_max_age));
    }

    /// Clears both session cookies.
    pub fn clear_session(&self, headers: &mut HeaderMap) {
        headers.append(header::SET_COOKIE, self.removal(ACCESS_TOKEN_COOKIE));
        headers.append(header::SET_COOKIE, self.removal(REFRESH_TOKEN_COOKIE));
    }

    /// What a browser keeps while it signs in at an OAuth2 provider: Lax, as Phoenix's, so that
    /// they come back with the provider's (cross-site) redirect.
    pub fn set_oauth2(&self, headers: &mut HeaderMap, begun: &ember_service::auth::oauth2::Begun) {
        let lifetime = ember_service::auth::oauth2::LOGIN_EXPIRY_SECS;
        headers.append(header::SET_COOKIE, self.cookie_with(OAUTH2_STATE_COOKIE, begun.state.clone(), lifetime, SameSite::Lax));
        headers.append(header::SET_COOKIE, self.cookie_with(OAUTH2_NONCE_COOKIE, begun.nonce.clone(), lifetime, SameSite::Lax));
        if let Some(verifier) = &begun.code_verifier {
            headers.append(header::SET_COOKIE, self.cookie_with(OAUTH2_CODE_VERIFIER_COOKIE, verifier.clone(), lifetime, SameSite::Lax));
        }
    }

    /// Clears the cookies of an OAuth2 sign-in (done or failed).
    pub fn clear_oauth2(&self, headers: &mut HeaderMap) {
        for name in OAUTH2_COOKIES {
            headers.append(header::SET_COOKIE, self.cookie_with(name, "\"\"".into(), 0, SameSite::Lax));
        }
    }

    /// Signing out: the session cookies and those of an OAuth2 sign-in under way (Phoenix's
    /// names), so nothing of the sign-in is left in the browser.
    pub fn clear_sign_in(&self, headers: &mut HeaderMap) {
        self.clear_session(headers);
        self.clear_oauth2(headers);
    }
}
