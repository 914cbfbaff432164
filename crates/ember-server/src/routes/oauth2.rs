//! OAuth2 / OpenID Connect sign-in as Phoenix routes it: `GET` or `POST /oauth2/{idp}/login`
//! (`returnUrl`: a path of this server) sends the browser to the provider with the sign-in's
//! state, nonce and PKCE verifier in Lax cookies; `GET /oauth2/{idp}/tokens` is where the provider
//! sends it back. Success sets the session cookies and returns to the page asked for; failure
//! goes to `/login?error=<Phoenix's code>`. The rules are the authentication service's.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use ember_service::auth::oauth2::{Callback, Kept, OAuth2Error};
use maud::html;
use serde::Deserialize;

use crate::authentication::cookie;
use crate::session_cookies::{OAUTH2_CODE_VERIFIER_COOKIE, OAUTH2_NONCE_COOKIE, OAUTH2_STATE_COOKIE};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(rename = "returnUrl")]
    return_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TokensQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

/// This server's address as the browser reaches it: `PHOENIX_ROOT_URL`, else the request's
/// `Host` (a malformed one is refused) with the root path.
fn origin(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if let Some(url) = &state.public_url {
        return Some(url.clone());
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let authority: axum::http::uri::Authority = host.parse().ok()?;
    let scheme = if state.https { "https" } else { "http" };
    Some(format!("{scheme}://{authority}{}", state.root_path.prefix()))
}

fn to_login(state: &AppState, error: OAuth2Error) -> Response {
    let mut response = (StatusCode::FOUND, [(header::LOCATION, format!("/login?error={}", error.code()))]).into_response();
    state.cookies.clear_oauth2(response.headers_mut());
    response
}

/// `GET`/`POST /oauth2/{idp}/login`.
pub async fn login(
    State(state): State<AppState>,
    Path(idp): Path<String>,
    Query(query): Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(origin) = origin(&state, &headers) else {
        return (StatusCode::BAD_REQUEST, "The request's Host header is not an address").into_response();
    };
    match state.services.auth().oauth2_begin(&idp, &origin, query.return_url.as_deref()).await {
        Ok(begun) => {
            let mut response = (StatusCode::FOUND, [(header::LOCATION, begun.authorization_url.clone())]).into_response();
            state.cookies.set_oauth2(response.headers_mut(), &begun);
            response
        }
        Err(error) => to_login(&state, error),
    }
}

/// `GET /oauth2/{idp}/tokens`: the provider's redirect back.
pub async fn tokens(
    State(state): State<AppState>,
    Path(idp): Path<String>,
    Query(query): Query<TokensQuery>,
    headers: HeaderMap,
) -> Response {
    let (kept_state, nonce, verifier) =
        (cookie(&headers, OAUTH2_STATE_COOKIE), cookie(&headers, OAUTH2_NONCE_COOKIE), cookie(&headers, OAUTH2_CODE_VERIFIER_COOKIE));
    let callback = Callback { state: query.state.as_deref(), code: query.code.as_deref(), error: query.error.as_deref() };
    let kept = Kept { state: kept_state.as_deref(), nonce: nonce.as_deref(), code_verifier: verifier.as_deref() };
    match state.services.auth().oauth2_finish(&idp, callback, kept).await {
        Ok((session, return_path)) => {
            // The provider's redirect is a cross-site navigation, and a redirect from it would be
            // too: the browser would withhold the new SameSite=Strict cookies from the page. A
            // page of this server that moves on by itself makes the next request same-site.
            let target = format!("{}{return_path}", state.root_path.prefix());
            let page = html! {
                (maud::DOCTYPE)
                html {
                    head {
                        meta charset="utf-8";
                        meta http-equiv="refresh" content=(format!("0;url={target}"));
                        title { "Signing in…" }
                    }
                    body { p { "Signed in. " a #continue href=(return_path) { "Continue" } } }
                }
            };
            let mut response = (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], Html(page.into_string())).into_response();
            state.cookies.set_session(response.headers_mut(), session);
            state.cookies.clear_oauth2(response.headers_mut());
            response
        }
        Err(error) => to_login(&state, error),
    }
}
